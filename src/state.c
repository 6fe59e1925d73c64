// SPDX-License-Identifier: GPL-2.0-or-later
#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "nftload.h"
#include "util.h"

#define STATE_MAGIC "jailfw-state 1"
#define STOPPED_MAGIC "jailfw-stopped 1"

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
	free(s->jail_slots);
	memset(s, 0, sizeof(*s));
}

void state_copy(struct state *dst, const struct state *src)
{
	size_t i;

	state_init(dst);
	dst->phase = src->phase;
	dst->table = src->table ? xstrdup(src->table) : NULL;
	dst->jails = vec_reserve(dst->jails, 0, &dst->jails_cap, src->njails, sizeof(*dst->jails));
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

/*
 * The jails by name, hashed: apply and down look every jail up, and with
 * thousands of jails a linear search made that quadratic (about 0.1 s
 * per pass over 5000 jails; bench/netns-scale.sh).  Open addressing,
 * linear probing, at most half full.
 */
static size_t name_hash(const char *name)
{
	size_t h = 14695981039346656037ULL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return h;
}

static void slot_insert(struct state *s, size_t idx)
{
	size_t mask = s->njail_slots - 1, k = name_hash(s->jails[idx].name) & mask;

	while (s->jail_slots[k])
		k = (k + 1) & mask;
	s->jail_slots[k] = idx + 1;
}

static void slots_build(struct state *s)
{
	size_t i, n = 64;

	while (n < 2 * (s->njails + 1))
		n *= 2;
	free(s->jail_slots);
	s->jail_slots = xcalloc(n, sizeof(*s->jail_slots));
	s->njail_slots = n;
	for (i = 0; i < s->njails; i++)
		slot_insert(s, i);
}

struct state_jail *state_find_jail(struct state *s, const char *name)
{
	size_t mask, k, idx;

	if (!s->njails)
		return NULL;
	if (!s->jail_slots)
		slots_build(s);
	mask = s->njail_slots - 1;
	for (k = name_hash(name) & mask; (idx = s->jail_slots[k]); k = (k + 1) & mask)
		if (!strcmp(s->jails[idx - 1].name, name))
			return &s->jails[idx - 1];
	return NULL;
}

struct state_jail *state_add_jail(struct state *s, const char *name)
{
	struct state_jail *j = VEC_PUSH_CAP(s->jails, s->njails, s->jails_cap);

	j->name = xstrdup(name);
	j->backend = BACKEND_NETNS;
	if (s->jail_slots) {
		if (2 * (s->njails + 1) > s->njail_slots)
			slots_build(s);
		else
			slot_insert(s, s->njails - 1);
	}
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
	state_jails_moved(s);
}

/* The next find hashes the jails again. */
void state_jails_moved(struct state *s)
{
	free(s->jail_slots);
	s->jail_slots = NULL;
	s->njail_slots = 0;
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

/* ---- the directory and its files ---- */

/*
 * STATE_DIR, checked (fileio.h); create: make it if missing.  A directory
 * that is not root's, or that others may write, is reported through d
 * (when given) and refused with -EEXIST: whoever controls it could plant
 * a symbolic link where jailfw writes, or a state of their own.
 */
static int open_dir(bool create, int *dfd, struct diag *d)
{
	char why[FILEIO_WHY_MAX];
	int err = fileio_open_dir(STATE_DIR, create ? 0700 : 0, NULL, dfd, why);

	if (err == -EEXIST && d) {
		diag_error(d, NULL, 0,
			   "%s: jailfw keeps its state only in a directory of root's "
			   "that nobody else can write; nothing was done",
			   why);
		diag_note(d, NULL, 0, "remove it: jailfw makes %s again, mode 0700", STATE_DIR);
	}
	return err;
}

/* Read name from STATE_DIR; -ENOENT when it or the directory is missing. */
static int state_read_file(const char *name, char **text, struct diag *d)
{
	int dfd, err;

	*text = NULL;
	err = open_dir(false, &dfd, d);
	if (err)
		return err;
	err = fileio_read_at(dfd, name, text);
	close(dfd);
	return err;
}

/*
 * state_read_file for a parser: 1 with *text, 0 when there is no such
 * file, else -errno, reported through d (open_dir reports its own).
 */
static int state_read_input(const char *name, const char *path, char **text, struct diag *d)
{
	int err = state_read_file(name, text, d);

	if (err == -ENOENT)
		return 0;
	if (err) {
		if (d && err != -EEXIST)
			diag_error(d, NULL, 0, "read \"%s\": %s", path, strerror(-err));
		return err;
	}
	return 1;
}

/* The line at *next, cut off in place; NULL at the end of the text. */
static char *state_cut_line(char **next)
{
	char *line = *next, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl)
		*nl++ = '\0';
	*next = nl;
	return line;
}

static int state_write_file(const char *name, const char *text, size_t len)
{
	int dfd, err;

	err = open_dir(true, &dfd, NULL);
	if (err)
		return err;
	err = fileio_write_at(dfd, name, text, len, 0600);
	close(dfd);
	return err;
}

static int remove_file(const char *name)
{
	int dfd, err;

	err = open_dir(false, &dfd, NULL);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = fileio_remove_at(dfd, name, 0);
	close(dfd);
	return err;
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

/* " KEY=N": sb_printf costs a microsecond a line, and thousands of uid jails are a line each. */
static void put_uint(struct strbuf *sb, const char *key, unsigned int v)
{
	char buf[16];
	size_t i = sizeof(buf);

	do
		buf[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	sb_puts(sb, key);
	sb_putn(sb, buf + i, sizeof(buf) - i);
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
			sb_puts(&sb, "jail ");
			sb_puts(&sb, j->name);
			put_uint(&sb, " backend=uid uid=", (unsigned int)j->uid);
			put_uint(&sb, " gid=", (unsigned int)j->gid);
			sb_putc(&sb, '\n');
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
	char *text = state_format(s);
	int err = state_write_file(STATE_NAME, text, strlen(text));

	free(text);
	return err;
}

int state_prepare_next(const char *text)
{
	return state_write_file(STATE_NEXT_NAME, text, strlen(text));
}

int state_install_next(void)
{
	int dfd, err;

	err = open_dir(false, &dfd, NULL);
	if (err)
		return err;
	err = renameat(dfd, STATE_NEXT_NAME, dfd, STATE_NAME) < 0 ? -errno : 0;
	if (!err && fsync(dfd) < 0 && errno != EINVAL)
		err = -errno;
	close(dfd);
	return err;
}

void state_drop_next(void)
{
	remove_file(STATE_NEXT_NAME);
}

int state_remove(void)
{
	return remove_file(STATE_NAME);
}

/* ---- reading it back: every line must be one jailfw could have written ---- */

/* What a jail's record holds, for "twice" checks. */
enum {
	F_HOST = 1 << 0,
	F_PEER = 1 << 1,
	F_NETNS = 1 << 2,
	F_V4 = 1 << 3,
	F_V6 = 1 << 4,
	F_UID = 1 << 5,
	F_GID = 1 << 6,
	F_RESOLV = 1 << 7,
	F_ETCDIR = 1 << 8,
	F_PENDING = 1 << 9,
	F_BACKEND = 1 << 10,
};

/*
 * A jail name as the policy language allows it: [a-z0-9][a-z0-9_-]*, <= 64.
 * By hand, not strspn(): a state of 5000 uid jails has as many names.
 */
static bool jail_name_ok(const char *s)
{
	size_t n;

	if (*s == '_' || *s == '-')
		return false;
	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		      s[n] == '-'))
			return false;
	return n && n <= 64;
}

/* An interface name the kernel accepts (dev_valid_name) and a path can hold. */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n < IF_NAMESIZE && strcmp(s, ".") && strcmp(s, "..") &&
	       !s[strcspn(s, "/: \t\n")];
}

/* jailfw records prefixes as the policy has them: without host bits. */
static bool no_host_bits(const struct prefix *p)
{
	size_t i, n = p->family == AF_INET ? 4 : 16;

	for (i = 0; i < n; i++) {
		unsigned int net = p->len >= 8 * (i + 1) ? 8 : p->len > 8 * i ? p->len - 8 * i : 0;

		if (p->addr.b[i] & (0xffu >> net))
			return false;
	}
	return true;
}

static bool state_parse_prefix(const char *s, int family, struct prefix *p)
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
	p->family = family;
	if (inet_pton(p->family, buf, p->addr.b) != 1)
		return false;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len > (family == AF_INET ? 32u : 128u))
		return false;
	p->len = (uint8_t)len;
	return no_host_bits(p);
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

/*
 * The sysctls jailfw changes, and how (provision_sysctl.c, prov_plan_sysctls): the
 * forwarding switches on, and accept_ra 2 on the interfaces where router
 * advertisements must keep working once IPv6 forwarding is on.  "%s" is
 * an interface name.  A restore writes old back, so both values matter.
 */
static const struct {
	const char *key, *old, *set;
} managed_sysctls[] = {
    {"net/ipv4/conf/all/forwarding", "0", "1"},
    {"net/ipv6/conf/all/forwarding", "0", "1"},
    {"net/ipv4/conf/%s/forwarding", "0", "1"}, /* the wan's (provision_int.h, FWD4) */
    {"net/ipv6/conf/%s/accept_ra", "1", "2"},
};

bool state_sysctl_managed(const char *key, const char *old, const char *set)
{
	size_t i, pre, post, n = strlen(key);
	const char *pct;
	char ifname[IF_NAMESIZE];

	for (i = 0; i < ARRAY_SIZE(managed_sysctls); i++) {
		const char *k = managed_sysctls[i].key;

		if (strcmp(old, managed_sysctls[i].old) || strcmp(set, managed_sysctls[i].set))
			continue;
		pct = strstr(k, "%s");
		if (!pct) {
			if (!strcmp(key, k))
				return true;
			continue;
		}
		pre = (size_t)(pct - k);
		post = strlen(pct + 2);
		if (n <= pre + post || n - pre - post >= IF_NAMESIZE || strncmp(key, k, pre) ||
		    strcmp(key + n - post, pct + 2))
			continue;
		snprintf(ifname, sizeof(ifname), "%.*s", (int)(n - pre - post), key + pre);
		if (ifname_ok(ifname) && strcmp(ifname, "all") && strcmp(ifname, "default"))
			return true;
	}
	return false;
}

/* "DEV:INODE", both decimal. */
static bool parse_nsid(const char *val, struct netns_id *id)
{
	const char *colon = strchr(val, ':');
	unsigned long long dev, ino;
	char buf[24];

	if (!colon || (size_t)(colon - val) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)(colon - val), val);
	if (!parse_uint(buf, UINT64_MAX, &dev) || !parse_uint(colon + 1, UINT64_MAX, &ino))
		return false;
	id->dev = dev;
	id->ino = ino;
	return true;
}

/* One "key=value" field of a jail record: NULL, or what is wrong with it. */
static const char *jail_field(struct state_jail *j, unsigned int *seen, const char *key,
			      const char *val)
{
	static const char *const keys[] = {"host", "peer",   "netns",  "v4",	  "v6",	    "uid",
					   "gid",  "resolv", "etcdir", "pending", "backend"};
	unsigned long long a;
	size_t k;

	/* The first letter first: a state of 5000 uid jails has 15000 fields. */
	for (k = 0; k < ARRAY_SIZE(keys) && (key[0] != keys[k][0] || strcmp(key, keys[k])); k++)
		;
	if (k == ARRAY_SIZE(keys))
		return "unknown field";
	if (*seen & (1u << k))
		return "a field given twice";
	*seen |= 1u << k;
	switch (1u << k) {
	case F_HOST:
	case F_PEER:
		if (!ifname_ok(val))
			return "not an interface name";
		snprintf(k == 0 ? j->host_if : j->jail_if, IF_NAMESIZE, "%s", val);
		return NULL;
	case F_NETNS:
		if (!parse_nsid(val, &j->ns))
			return "not a namespace identity (DEV:INODE)";
		return NULL;
	case F_V4:
		j->has_v4 = state_parse_prefix(val, AF_INET, &j->v4);
		return j->has_v4 ? NULL : "not an IPv4 prefix without host bits";
	case F_V6:
		j->has_v6 = state_parse_prefix(val, AF_INET6, &j->v6);
		return j->has_v6 ? NULL : "not an IPv6 prefix without host bits";
	case F_UID:
	case F_GID:
		/* (uid_t)-1 is "no change" to setresuid: never a user. */
		if (!parse_uint(val, UINT32_MAX - 1, &a))
			return "not a user or group id";
		if (key[0] == 'u')
			j->uid = (uid_t)a;
		else
			j->gid = (gid_t)a;
		return NULL;
	case F_RESOLV:
	case F_ETCDIR:
	case F_PENDING:
		if (strcmp(val, "1"))
			return "a flag that is not 1";
		*(k == 7 ? &j->resolv : k == 8 ? &j->etc_dir : &j->pending) = true;
		return NULL;
	}
	if (!strcmp(val, "uid"))
		j->backend = BACKEND_UID;
	else if (strcmp(val, "netns"))
		return "an unknown backend";
	return NULL;
}

/* A whole jail record, its fields read: what is wrong with it, or NULL. */
static const char *jail_record(struct state_jail *j, unsigned int seen)
{
	if ((seen & (F_UID | F_GID)) && (seen & (F_UID | F_GID)) != (F_UID | F_GID))
		return "a user id without its group id, or the reverse";
	j->has_user = seen & F_UID;
	/*
	 * A uid jail is a user and nothing else, never root (check.c refuses
	 * to confine uid 0): a record that mixes in interfaces or a
	 * namespace was not written by us.
	 */
	if (j->backend == BACKEND_UID) {
		if (!j->has_user)
			return "a uid jail without a user";
		if (!j->uid)
			return "a uid jail of uid 0";
		if (seen & ~(F_UID | F_GID | F_BACKEND))
			return "a uid jail with netns fields";
		return NULL;
	}
	if (!(seen & F_HOST) || !(seen & F_PEER) || !(seen & F_NETNS))
		return "a netns jail without host=, peer= and netns=";
	if (!strcmp(j->host_if, j->jail_if))
		return "the same name for both ends of the veth";
	/*
	 * 0:0 is the identity of a namespace whose creation was under way,
	 * and only that: a record that claims no particular namespace must
	 * be pending.  (Even then, a namespace is removed only if it carries
	 * jailfw's mark: provision_analyse.c.)
	 */
	if (!j->ns.ino && (j->ns.dev || !j->pending))
		return "namespace identity 0:0 in a record that is not pending";
	return NULL;
}

/* One line: NULL, or what is wrong with it. */
static const char *parse_line(struct state *s, char *line, unsigned int *have)
{
	char *save = NULL, *word, *kv, *eq;
	char *old = NULL, *set = NULL;
	const char *why;
	size_t i;

	word = strtok_r(line, " \t", &save);
	if (!word)
		return NULL;
	/* Jails first: a state may hold thousands of them. */
	if (!strcmp(word, "jail")) {
		unsigned int seen = 0;
		struct state_jail *j;

		word = strtok_r(NULL, " \t", &save);
		if (!word || !jail_name_ok(word))
			return "not a jail name";
		/* Duplicate names are refused after the whole file is read. */
		j = state_add_jail(s, word);
		while ((kv = strtok_r(NULL, " \t", &save))) {
			eq = strchr(kv, '=');
			if (!eq)
				return "a field without \"=\"";
			*eq = '\0';
			why = jail_field(j, &seen, kv, eq + 1);
			if (why)
				return why;
		}
		return jail_record(j, seen);
	}
	if (!strcmp(word, "phase")) {
		word = strtok_r(NULL, " \t", &save);
		if (*have & 1)
			return "a second phase";
		*have |= 1;
		for (i = 0; word && i < ARRAY_SIZE(phase_names); i++) {
			if (!strcmp(word, phase_names[i])) {
				s->phase = (enum state_phase)i;
				return strtok_r(NULL, " \t", &save) ? "text after the phase" : NULL;
			}
		}
		return "an unknown phase";
	}
	if (!strcmp(word, "table")) {
		word = strtok_r(NULL, " \t", &save);
		if (s->table)
			return "a second table";
		if (!word || !nftload_table_name_ok(word))
			return "not a table name";
		s->table = xstrdup(word);
		return strtok_r(NULL, " \t", &save) ? "text after the table name" : NULL;
	}
	if (!strcmp(word, "sysctl")) {
		word = strtok_r(NULL, " \t", &save);
		if (!word)
			return "a sysctl without a name";
		if (state_find_sysctl(s, word))
			return "a sysctl recorded twice";
		while ((kv = strtok_r(NULL, " \t", &save))) {
			eq = strchr(kv, '=');
			if (!eq)
				return "a field without \"=\"";
			*eq = '\0';
			if (!strcmp(kv, "old") && !old)
				old = eq + 1;
			else if (!strcmp(kv, "set") && !set)
				set = eq + 1;
			else
				return "an unknown or repeated sysctl field";
		}
		if (!old || !set)
			return "a sysctl without old= and set=";
		if (!state_sysctl_managed(word, old, set))
			return "a sysctl jailfw does not change, or a value it does not write "
			       "(it writes net.ipv4.conf.all.forwarding and "
			       "net.ipv6.conf.all.forwarding, 0 to 1, and "
			       "net.ipv6.conf.IFACE.accept_ra, 1 to 2)";
		state_add_sysctl(s, word, old, set);
		return NULL;
	}
	return "an unknown record";
}

static int cmp_host_if(const void *a, const void *b)
{
	const struct state_jail *const *x = a, *const *y = b;

	return strcmp((*x)->host_if, (*y)->host_if);
}

/*
 * Two records of one name, or two netns jails on one host interface: what
 * is wrong, or NULL; *bad is the second of the two records.  Names through
 * the hash state_find_jail uses (built here, in file order, so the first
 * name found again is the second record), host interfaces sorted: the
 * state may list thousands of uid jails, and sorting their names cost
 * as much as the rest of the read.
 */
static const char *duplicates(struct state *s, const struct state_jail **bad)
{
	const struct state_jail **v;
	const char *why = NULL;
	size_t i, k, idx, mask, n = 64;

	if (s->njails < 2)
		return NULL;
	while (n < 2 * (s->njails + 1))
		n *= 2;
	free(s->jail_slots);
	s->jail_slots = xcalloc(n, sizeof(*s->jail_slots));
	s->njail_slots = n;
	mask = n - 1;
	for (i = 0; i < s->njails && !why; i++) {
		for (k = name_hash(s->jails[i].name) & mask; (idx = s->jail_slots[k]);
		     k = (k + 1) & mask)
			if (!strcmp(s->jails[idx - 1].name, s->jails[i].name))
				break;
		if (idx) {
			why = "a second record of the same jail";
			*bad = &s->jails[i];
		} else {
			s->jail_slots[k] = i + 1;
		}
	}
	v = xmalloc(s->njails * sizeof(*v));
	n = 0;
	for (i = 0; i < s->njails; i++)
		if (s->jails[i].backend == BACKEND_NETNS)
			v[n++] = &s->jails[i];
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_host_if);
	for (i = 1; i < n && !why; i++)
		if (!strcmp(v[i - 1]->host_if, v[i]->host_if)) {
			why = "a second netns jail on the same host interface";
			*bad = v[i - 1] > v[i] ? v[i - 1] : v[i];
		}
	free(v);
	return why;
}

int state_load(struct state *s, struct diag *d)
{
	struct loc loc = {STATE_FILE, 0, 1};
	char *text = NULL, *line, *next;
	const struct state_jail *bad = NULL;
	unsigned int have = 0, *lines = NULL;
	const char *why = NULL;
	size_t nlines = 0, lines_cap = 0;
	int err;

	state_init(s);
	err = state_read_input(STATE_NAME, STATE_FILE, &text, d);
	if (err <= 0)
		return err;
	/* A line a jail at most: thousands of uid jails are read without regrowing. */
	for (next = text; (next = strchr(next, '\n')); next++)
		nlines++;
	s->jails = vec_reserve(s->jails, 0, &s->jails_cap, nlines, sizeof(*s->jails));
	lines = vec_reserve(lines, 0, &lines_cap, nlines, sizeof(*lines));
	nlines = 0;
	for (next = text; !why && (line = state_cut_line(&next));) {
		loc.line++;
		if (loc.line == 1)
			why = strcmp(line, STATE_MAGIC) ? "not a jailfw state (no \"" STATE_MAGIC
							  "\" line)"
							: NULL;
		else if (line[0] != '#')
			why = parse_line(s, line, &have);
		/* Each jail's line, for the message about a duplicate. */
		while (nlines < s->njails)
			*VEC_PUSH_CAP(lines, nlines, lines_cap) = loc.line;
	}
	if (!why && loc.line == 0)
		why = "an empty file";
	if (!why) {
		why = duplicates(s, &bad);
		if (why)
			loc.line = lines[bad - s->jails];
	}
	free(lines);
	free(text);
	if (!why)
		return 0;
	if (d) {
		diag_error(d, &loc, 0,
			   "%s: jailfw did not write this, so none of the file is used (it "
			   "cannot tell which namespaces, interfaces and sysctls are its own)",
			   why);
		diag_note(d, NULL, 0,
			  "remove what was added to %s; if it is all damaged, remove the file, "
			  "then jailfw's namespaces by hand (ip netns delete NAME)",
			  STATE_FILE);
	}
	state_free(s);
	return -EINVAL;
}

/*
 * Whether text has a jail line that is not a uid jail's.  A state of
 * thousands of uid jails is read in full by the apply that follows: here
 * a glance at each line serves.
 */
static bool state_netns_line(const char *text)
{
	const char *line, *nl;

	for (line = text; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		if (!strncmp(line, "jail ", 5) &&
		    !memmem(line, (size_t)(nl - line), " backend=uid", 12))
			return true;
		if (!*nl)
			break;
	}
	return false;
}

bool state_has_netns(void)
{
	struct state s;
	char *text = NULL;
	bool any = false;
	size_t i;

	/* No such line: state_load would find no netns jail, or fail. */
	if (state_read_file(STATE_NAME, &text, NULL))
		return false;
	any = state_netns_line(text);
	free(text);
	if (!any)
		return false;
	if (state_load(&s, NULL))
		return false;
	any = false;
	for (i = 0; i < s.njails && !any; i++)
		any = s.jails[i].backend == BACKEND_NETNS;
	state_free(&s);
	return any;
}

/* ---- the lock ---- */

static int lock_fd(bool create, int how, int *fdp, struct diag *d)
{
	int dfd, fd, err;

	*fdp = -1;
	err = open_dir(create, &dfd, d);
	if (err)
		return err;
	fd = openat(dfd, STATE_LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	err = fd < 0 ? -errno : 0;
	close(dfd);
	if (err)
		return err;
	while (flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

int state_lock(bool wait, int *fdp, struct diag *d)
{
	return lock_fd(true, LOCK_EX | (wait ? 0 : LOCK_NB), fdp, d);
}

bool state_try_lock(int *fdp)
{
	return lock_fd(false, LOCK_EX | LOCK_NB, fdp, NULL) == 0;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- the jails stopped by `jailfw stop` ---- */

int state_stopped_save(char *const *names, size_t n)
{
	struct strbuf sb;
	size_t i;
	int err;

	if (!n)
		return remove_file(STATE_STOPPED_NAME);
	sb_init(&sb);
	sb_printf(&sb, "%s\n", STOPPED_MAGIC);
	for (i = 0; i < n; i++)
		sb_printf(&sb, "%s\n", names[i]);
	err = state_write_file(STATE_STOPPED_NAME, sb.s, sb.len);
	sb_free(&sb);
	return err;
}

int state_stopped_load(char ***names, size_t *n, struct diag *d)
{
	struct loc loc = {STATE_STOPPED, 0, 1};
	char *text = NULL, *line, *next;
	const char *why = NULL;
	int err;

	*names = NULL;
	*n = 0;
	err = state_read_input(STATE_STOPPED_NAME, STATE_STOPPED, &text, d);
	if (err <= 0)
		return err;
	for (next = text; !why && (line = state_cut_line(&next));) {
		loc.line++;
		if (loc.line == 1)
			why = strcmp(line, STOPPED_MAGIC) ? "no \"" STOPPED_MAGIC "\" line" : NULL;
		else if (!jail_name_ok(line))
			why = "not a jail name";
		else if (*n && strcmp((*names)[*n - 1], line) >= 0)
			why = "out of order or twice";
		else
			*VEC_PUSH(*names, *n) = xstrdup(line);
	}
	if (!why && loc.line == 0)
		why = "an empty file";
	free(text);
	if (!why)
		return 0;
	if (d) {
		diag_error(d, &loc, 0, "%s: jailfw did not write this, so none of the file is used",
			   why);
		diag_note(d, NULL, 0,
			  "remove %s: every jail then comes up at the next apply; stop the ones "
			  "whose units are stopped again with jailfw stop NAME",
			  STATE_STOPPED);
	}
	strv_free(*names, *n);
	*names = NULL;
	*n = 0;
	return -EINVAL;
}

/* ---- the records of a table ---- */

/*
 * "committed-TABLE" or "committed-TABLE.nft".  Table names are checked
 * where they come in (policy, --table); one that could leave the
 * directory or hide as a dot file is refused here all the same.
 */
static int record_name(const char *table, enum state_record which, char *buf, size_t len)
{
	if (!nftload_table_name_ok(table))
		return -EINVAL;
	snprintf(buf, len, "committed-%s%s", table, which == STATE_RECORD_TEXT ? ".nft" : "");
	return 0;
}

int state_record_read(const char *table, enum state_record which, char **text)
{
	char name[96];
	int err = record_name(table, which, name, sizeof(name));

	*text = NULL;
	return err ? err : state_read_file(name, text, NULL);
}

int state_record_write(const char *table, enum state_record which, const char *text, size_t len)
{
	char name[96];
	int err = record_name(table, which, name, sizeof(name));

	return err ? err : state_write_file(name, text, len);
}

void state_record_forget(const char *table)
{
	char name[96];

	if (record_name(table, STATE_RECORD_COMMITTED, name, sizeof(name)))
		return;
	remove_file(name);
	record_name(table, STATE_RECORD_TEXT, name, sizeof(name));
	remove_file(name);
	/* Where earlier versions kept the text's digest, apart from the record. */
	snprintf(name, sizeof(name), "ruleset-%s", table);
	remove_file(name);
}
