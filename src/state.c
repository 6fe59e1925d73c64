// SPDX-License-Identifier: GPL-2.0-or-later
#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define STATE_MAGIC "jailfw-state 1"
#define STATE_MAX_SIZE (16u << 20)

void state_init(struct state *s)
{
	memset(s, 0, sizeof(*s));
}

void state_free(struct state *s)
{
	size_t i;

	for (i = 0; i < s->njails; i++)
		free(s->jails[i].name);
	free(s->jails);
	for (i = 0; i < s->nsysctls; i++) {
		free(s->sysctls[i].key);
		free(s->sysctls[i].old);
		free(s->sysctls[i].set);
	}
	free(s->sysctls);
	free(s->table);
	memset(s, 0, sizeof(*s));
}

void state_copy(struct state *dst, const struct state *src)
{
	size_t i;

	state_init(dst);
	dst->phase = src->phase;
	dst->table = src->table ? xstrdup(src->table) : NULL;
	for (i = 0; i < src->njails; i++) {
		struct state_jail *j = state_add_jail(dst, src->jails[i].name);
		char *name = j->name;

		*j = src->jails[i];
		j->name = name;
	}
	for (i = 0; i < src->nsysctls; i++)
		state_add_sysctl(dst, src->sysctls[i].key, src->sysctls[i].old,
				 src->sysctls[i].set);
}

struct state_jail *state_find_jail(struct state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->njails; i++)
		if (!strcmp(s->jails[i].name, name))
			return &s->jails[i];
	return NULL;
}

struct state_jail *state_add_jail(struct state *s, const char *name)
{
	struct state_jail *j = VEC_PUSH(s->jails, s->njails);

	j->name = xstrdup(name);
	j->backend = BACKEND_NETNS;
	return j;
}

void state_del_jail(struct state *s, const char *name)
{
	struct state_jail *j = state_find_jail(s, name);
	size_t i;

	if (!j)
		return;
	i = (size_t)(j - s->jails);
	free(j->name);
	memmove(j, j + 1, (s->njails - i - 1) * sizeof(*j));
	s->njails--;
}

struct state_sysctl *state_find_sysctl(struct state *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nsysctls; i++)
		if (!strcmp(s->sysctls[i].key, key))
			return &s->sysctls[i];
	return NULL;
}

void state_add_sysctl(struct state *s, const char *key, const char *old, const char *set)
{
	struct state_sysctl *c = VEC_PUSH(s->sysctls, s->nsysctls);

	c->key = xstrdup(key);
	c->old = xstrdup(old);
	c->set = xstrdup(set);
}

void state_del_sysctl(struct state *s, const char *key)
{
	struct state_sysctl *c = state_find_sysctl(s, key);
	size_t i;

	if (!c)
		return;
	i = (size_t)(c - s->sysctls);
	free(c->key);
	free(c->old);
	free(c->set);
	memmove(c, c + 1, (s->nsysctls - i - 1) * sizeof(*c));
	s->nsysctls--;
}

/* ---- files ---- */

int state_read_file(const char *path, char **text)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	int fd, err = 0;
	ssize_t n;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		if (cap - len < 2) {
			if (cap >= STATE_MAX_SIZE) {
				err = -EFBIG;
				goto out;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	/* Text only: a NUL inside would silently cut the file short. */
	if (strlen(buf) != len)
		err = -EINVAL;
out:
	if (fd >= 0)
		close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*text = buf;
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd, err = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
	} else {
		if (fsync(fd) < 0 && errno != EINVAL)
			err = -errno;
		close(fd);
	}
	free(copy);
	return err;
}

int state_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const char *p = buf;
	int fd = -1, err = 0;
	ssize_t n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.jailfw-tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* O_NOFOLLOW: a symlink planted at the temporary name is refused. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		err = -errno;
		goto out;
	}
	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		err = -errno;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err = -errno;
		goto out;
	}
	err = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp);
	return err;
}

static int make_dir(void)
{
	if (mkdir(STATE_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- the state file format ---- */

static const char *const phase_names[] = {
    [STATE_IDLE] = "idle",
    [STATE_APPLYING] = "applying",
    [STATE_DOWN] = "down",
};

static void put_prefix(struct strbuf *sb, const char *key, const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	addr_str(p, buf);
	sb_printf(sb, " %s=%s/%u", key, buf, p->len);
}

char *state_format(const struct state *s)
{
	struct strbuf sb;
	size_t i;

	sb_init(&sb);
	sb_printf(&sb, "%s\nphase %s\n", STATE_MAGIC, phase_names[s->phase]);
	if (s->table)
		sb_printf(&sb, "table %s\n", s->table);
	for (i = 0; i < s->njails; i++) {
		const struct state_jail *j = &s->jails[i];

		if (j->backend == BACKEND_UID) {
			/* has_user always: a uid jail is its user. */
			sb_printf(&sb, "jail %s backend=uid uid=%u gid=%u\n", j->name,
				  (unsigned int)j->uid, (unsigned int)j->gid);
			continue;
		}
		sb_printf(&sb, "jail %s host=%s peer=%s netns=%" PRIu64 ":%" PRIu64, j->name,
			  j->host_if, j->jail_if, j->ns.dev, j->ns.ino);
		if (j->has_v4)
			put_prefix(&sb, "v4", &j->v4);
		if (j->has_v6)
			put_prefix(&sb, "v6", &j->v6);
		if (j->has_user)
			sb_printf(&sb, " uid=%u gid=%u", (unsigned int)j->uid,
				  (unsigned int)j->gid);
		if (j->resolv)
			sb_puts(&sb, " resolv=1");
		if (j->etc_dir)
			sb_puts(&sb, " etcdir=1");
		if (j->pending)
			sb_puts(&sb, " pending=1");
		sb_putc(&sb, '\n');
	}
	for (i = 0; i < s->nsysctls; i++)
		sb_printf(&sb, "sysctl %s old=%s set=%s\n", s->sysctls[i].key, s->sysctls[i].old,
			  s->sysctls[i].set);
	return sb_steal(&sb);
}

int state_save(const struct state *s)
{
	char *text;
	int err;

	err = make_dir();
	if (err)
		return err;
	text = state_format(s);
	err = state_write_atomic(STATE_FILE, text, strlen(text), 0600);
	free(text);
	return err;
}

int state_prepare_next(const char *text)
{
	int err = make_dir();

	return err ? err : state_write_atomic(STATE_NEXT, text, strlen(text), 0600);
}

int state_install_next(void)
{
	if (rename(STATE_NEXT, STATE_FILE) < 0)
		return -errno;
	return fsync_dir_of(STATE_FILE);
}

void state_drop_next(void)
{
	unlink(STATE_NEXT);
}

int state_remove(void)
{
	if (unlink(STATE_FILE) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static bool parse_prefix(const char *s, struct prefix *p)
{
	char buf[PREFIX_STRLEN + 8], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash = '\0';
	memset(p, 0, sizeof(*p));
	p->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, buf, p->addr.b) != 1)
		return false;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len > (p->family == AF_INET ? 32u : 128u))
		return false;
	p->len = (uint8_t)len;
	return true;
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end && *v <= max;
}

static bool copy_ifname(const char *s, char buf[IF_NAMESIZE])
{
	if (!*s || strlen(s) >= IF_NAMESIZE)
		return false;
	strcpy(buf, s);
	return true;
}

/* One "key=value" field of a jail record. */
static bool jail_field(struct state_jail *j, const char *key, const char *val)
{
	unsigned long long a, b;
	char *colon;

	if (!strcmp(key, "host"))
		return copy_ifname(val, j->host_if);
	if (!strcmp(key, "peer"))
		return copy_ifname(val, j->jail_if);
	if (!strcmp(key, "netns")) {
		colon = strchr(val, ':');
		if (!colon)
			return false;
		*colon = '\0';
		if (!parse_uint(val, UINT64_MAX, &a) || !parse_uint(colon + 1, UINT64_MAX, &b))
			return false;
		j->ns.dev = a;
		j->ns.ino = b;
		return true;
	}
	if (!strcmp(key, "v4"))
		return (j->has_v4 = parse_prefix(val, &j->v4)) && j->v4.family == AF_INET;
	if (!strcmp(key, "v6"))
		return (j->has_v6 = parse_prefix(val, &j->v6)) && j->v6.family == AF_INET6;
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		if (!parse_uint(val, UINT32_MAX, &a))
			return false;
		j->has_user = true;
		if (key[0] == 'u')
			j->uid = (uid_t)a;
		else
			j->gid = (gid_t)a;
		return true;
	}
	if (!strcmp(key, "resolv"))
		return (j->resolv = !strcmp(val, "1"));
	if (!strcmp(key, "etcdir"))
		return (j->etc_dir = !strcmp(val, "1"));
	if (!strcmp(key, "pending"))
		return (j->pending = !strcmp(val, "1"));
	if (!strcmp(key, "backend")) {
		if (!strcmp(val, "uid"))
			j->backend = BACKEND_UID;
		else if (!strcmp(val, "netns"))
			j->backend = BACKEND_NETNS;
		else
			return false;
		return true;
	}
	return false;
}

static bool parse_line(struct state *s, char *line)
{
	char *save = NULL, *word, *kv, *eq;
	char *old = NULL, *set = NULL;
	size_t i;

	word = strtok_r(line, " \t", &save);
	if (!word)
		return true;
	if (!strcmp(word, "phase")) {
		word = strtok_r(NULL, " \t", &save);
		for (i = 0; word && i < ARRAY_SIZE(phase_names); i++) {
			if (!strcmp(word, phase_names[i])) {
				s->phase = (enum state_phase)i;
				return !strtok_r(NULL, " \t", &save);
			}
		}
		return false;
	}
	if (!strcmp(word, "table")) {
		word = strtok_r(NULL, " \t", &save);
		if (!word || s->table)
			return false;
		s->table = xstrdup(word);
		return !strtok_r(NULL, " \t", &save);
	}
	if (!strcmp(word, "jail")) {
		struct state_jail *j;

		word = strtok_r(NULL, " \t", &save);
		if (!word)
			return false;
		/* Duplicate names are refused after the whole file is read. */
		j = state_add_jail(s, word);
		while ((kv = strtok_r(NULL, " \t", &save))) {
			eq = strchr(kv, '=');
			if (!eq)
				return false;
			*eq = '\0';
			if (!jail_field(j, kv, eq + 1))
				return false;
		}
		/*
		 * A uid jail is a user and nothing else: a record that mixes
		 * in interfaces or a namespace was not written by us.
		 */
		if (j->backend == BACKEND_UID)
			return j->has_user && !j->host_if[0] && !j->jail_if[0] && !j->ns.ino &&
			       !j->has_v4 && !j->has_v6 && !j->resolv && !j->etc_dir && !j->pending;
		return j->host_if[0] && j->jail_if[0];
	}
	if (!strcmp(word, "sysctl")) {
		word = strtok_r(NULL, " \t", &save);
		if (!word || strstr(word, "..") || state_find_sysctl(s, word))
			return false;
		while ((kv = strtok_r(NULL, " \t", &save))) {
			eq = strchr(kv, '=');
			if (!eq)
				return false;
			*eq = '\0';
			if (!strcmp(kv, "old"))
				old = eq + 1;
			else if (!strcmp(kv, "set"))
				set = eq + 1;
			else
				return false;
		}
		if (!old || !set)
			return false;
		state_add_sysctl(s, word, old, set);
		return true;
	}
	return false;
}

static int cmp_jail_name(const void *a, const void *b)
{
	const struct state_jail *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Sorted, not pairwise: the state may list thousands of uid jails. */
static bool has_duplicate_jail(const struct state *s)
{
	const struct state_jail **v;
	bool dup = false;
	size_t i;

	if (s->njails < 2)
		return false;
	v = xmalloc(s->njails * sizeof(*v));
	for (i = 0; i < s->njails; i++)
		v[i] = &s->jails[i];
	qsort(v, s->njails, sizeof(*v), cmp_jail_name);
	for (i = 1; i < s->njails && !dup; i++)
		dup = !strcmp(v[i - 1]->name, v[i]->name);
	free(v);
	return dup;
}

int state_load(struct state *s, struct diag *d)
{
	struct loc loc = {STATE_FILE, 0, 1};
	char *text = NULL, *line, *next;
	int err;

	state_init(s);
	err = state_read_file(STATE_FILE, &text);
	if (err == -ENOENT)
		return 0;
	if (err) {
		if (d)
			diag_error(d, NULL, 0, "read state \"%s\": %s", STATE_FILE, strerror(-err));
		return err;
	}
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		loc.line++;
		if (loc.line == 1) {
			if (strcmp(line, STATE_MAGIC))
				goto bad;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!parse_line(s, line))
			goto bad;
	}
	if (loc.line == 0)
		goto bad;
	if (has_duplicate_jail(s)) {
		loc.line = 0;
		goto bad;
	}
	free(text);
	return 0;
bad:
	if (d)
		diag_error(d, &loc, 0,
			   "malformed jailfw state; refusing to guess which namespaces and "
			   "interfaces are jailfw's");
	free(text);
	state_free(s);
	return -EINVAL;
}

bool state_has_netns(void)
{
	struct state s;
	bool any = false;
	size_t i;

	if (state_load(&s, NULL))
		return false;
	for (i = 0; i < s.njails && !any; i++)
		any = s.jails[i].backend == BACKEND_NETNS;
	state_free(&s);
	return any;
}

/* ---- the lock ---- */

int state_lock(bool wait, int *fdp)
{
	int fd, err;

	*fdp = -1;
	err = make_dir();
	if (err)
		return err;
	fd = open(STATE_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno == EINTR)
			continue;
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
