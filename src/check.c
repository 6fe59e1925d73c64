// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Semantic validation of a parsed policy (docs/jailfw.conf.5, VALIDATION).
 *
 * The parser has already refused what is wrong on its own (bad ports,
 * malformed addresses, unknown keywords, duplicate statements in a block);
 * check looks at what is wrong only in context: a statement that does not
 * fit the jail's backend, two jails claiming the same uid, subnet, interface
 * or published port, a template that does not exist.  Every problem is
 * reported, located at the token concerned and naming the other place for
 * a conflict, before the caller refuses; nothing stops at the first error.
 *
 * check also completes the model for the later stages: users become uid and
 * gid, and "use" statements become rules copied from their templates.
 *
 * Output order is deterministic (the golden diagnostics depend on it):
 * the policy as a whole, then templates in order, then jails in order, each
 * jail compared only with the jails before it.  The comparisons themselves
 * are made up front, by sorting (find_conflicts()), and each result waits
 * for its jail's turn: a policy may have thousands of jails.
 */
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define LOC_BUF 512  /* "file:line" */
#define NAME_BUF 128 /* "jail \"NAME\"" */

/* No such jail: an index into policy.jails that none has. */
#define NO_JAIL SIZE_MAX

/* What resolve_user() made of a jail's user. */
enum user_res { USER_NONE, USER_OK, USER_BAD_UID, USER_UNKNOWN };

struct checker {
	struct policy *p;
	struct diag *d;
	const struct check_env *env;

	/* Per jail, found before the jails are checked. */
	enum user_res *users; /* resolve_users() */
	/* find_conflicts(): an earlier jail's index, or NO_JAIL. */
	size_t *dup_of;	   /* the first jail of the same name */
	size_t *uid_of;	   /* the first rival uid jail with the same uid */
	size_t *ifname_of; /* the first rival netns jail with the same interface prefix */
	/* Overlapping jail prefixes, ipv4 and ipv6, in policy order. */
	struct overlap *overlaps[2];
	size_t noverlaps[2], next_overlap[2];

	/* Found as the jails are checked: the ports published so far. */
	struct port_owner *ports[PROTO_COUNT];
	struct pub_ref *pubs;
	size_t npubs;

	struct line_index *lines; /* for src_line() */
	size_t nlines;
};

/* ---- located messages ----------------------------------------------- */

/*
 * Where each line of one of diag's sources starts, built on first use: a
 * policy of thousands of jails can have thousands of errors, and finding
 * each one's line from the top of the file made reporting them quadratic.
 */
struct line_index {
	size_t src;	/* index into diag.srcs, which check does not grow */
	size_t *starts; /* offset of line i + 1 */
	size_t n;
};

static const struct line_index *line_index(struct checker *c, size_t src)
{
	const struct diag_src *s = &c->d->srcs[src];
	struct line_index *li;
	const char *p, *nl;
	size_t i;

	for (i = 0; i < c->nlines; i++)
		if (c->lines[i].src == src)
			return &c->lines[i];
	li = VEC_PUSH(c->lines, c->nlines);
	li->src = src;
	*VEC_PUSH(li->starts, li->n) = 0;
	for (p = s->text; (nl = memchr(p, '\n', (size_t)(s->text + s->len - p))); p = nl + 1)
		*VEC_PUSH(li->starts, li->n) = (size_t)(nl + 1 - s->text);
	return li;
}

/*
 * The model keeps where a token starts, not how long it is; the text diag
 * keeps for quoting has the rest.  Returns the line loc is on (NULL if the
 * text is not known), its length in *len.
 */
static const char *src_line(struct checker *c, const struct loc *loc, size_t *len)
{
	const struct diag *d = c->d;
	const struct line_index *li;
	const struct diag_src *src;
	size_t i, start, end;

	if (!loc || !loc->file || !loc->line)
		return NULL;
	for (i = d->nsrcs; i-- > 0;)
		if (d->srcs[i].file == loc->file || !strcmp(d->srcs[i].file, loc->file))
			break;
	if (i == SIZE_MAX)
		return NULL;
	src = &d->srcs[i];
	li = line_index(c, i);
	if (loc->line > li->n)
		return NULL;
	start = li->starts[loc->line - 1];
	end = loc->line < li->n ? li->starts[loc->line] - 1 : src->len;
	*len = end - start;
	return src->text + start;
}

/* The lexer's word boundaries (lex.h): whitespace and "{ } ; # ,". */
static bool word_char(char ch)
{
	return ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' && !strchr("{};#,", ch);
}

/* Columns to underline: the word that starts at loc. */
static unsigned int src_span(struct checker *c, const struct loc *loc)
{
	size_t len, i;
	const char *s = src_line(c, loc, &len);

	if (!s || !loc->col || loc->col > len)
		return 0;
	for (i = loc->col - 1; i < len && word_char(s[i]); i++)
		;
	return (unsigned int)(i - (loc->col - 1));
}

/*
 * The loc of word on loc's line at or after loc: "wan eth0, foo-out" keeps
 * one loc for the list, but the message should point at "foo-out".  Falls
 * back to loc itself.
 */
static struct loc word_loc(struct checker *c, const struct loc *loc, const char *word)
{
	size_t len, wl = strlen(word), i;
	const char *s = src_line(c, loc, &len);
	struct loc out = *loc;

	if (!s || !loc->col)
		return out;
	for (i = loc->col - 1; i + wl <= len; i++) {
		if ((i && word_char(s[i - 1])) || memcmp(s + i, word, wl) ||
		    (i + wl < len && word_char(s[i + wl])))
			continue;
		out.col = (unsigned int)i + 1;
		break;
	}
	return out;
}

/* The loc of the word after the one at loc ("publish tcp/80": "tcp/80"). */
static struct loc next_word_loc(struct checker *c, const struct loc *loc)
{
	size_t len, i;
	const char *s = src_line(c, loc, &len);
	struct loc out = *loc;

	if (!s || !loc->col || loc->col > len)
		return out;
	for (i = loc->col - 1; i < len && word_char(s[i]); i++)
		;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && word_char(s[i]))
		out.col = (unsigned int)i + 1;
	return out;
}

static void cerr(struct checker *c, const struct loc *loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void cwarn(struct checker *c, const struct loc *loc, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void cnote(struct checker *c, const struct loc *loc, const char *fmt, ...) PRINTF_LIKE(3, 4);

enum ckind { CK_ERROR, CK_WARNING, CK_NOTE };

static void check_vreport(struct checker *c, enum ckind k, const struct loc *loc, const char *fmt,
			  va_list ap)
{
	unsigned int span = src_span(c, loc);
	char *msg = xvasprintf(fmt, ap);

	if (k == CK_ERROR)
		diag_error(c->d, loc, span, "%s", msg);
	else if (k == CK_WARNING)
		diag_warning(c->d, loc, span, "%s", msg);
	else
		diag_note(c->d, loc, span, "%s", msg);
	free(msg);
}

/* diag_error and friends, underlining the whole token at loc. */
static void cerr(struct checker *c, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vreport(c, CK_ERROR, loc, fmt, ap);
	va_end(ap);
}

static void cwarn(struct checker *c, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vreport(c, CK_WARNING, loc, fmt, ap);
	va_end(ap);
}

static void cnote(struct checker *c, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_vreport(c, CK_NOTE, loc, fmt, ap);
	va_end(ap);
}

/* ---- users ---------------------------------------------------------- */

/*
 * getpwnam_r/getpwuid_r, growing the buffer on ERANGE: sysconf() only
 * gives a hint, and NSS modules (LDAP, sssd) can return larger entries.
 */
static bool sys_getpw(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = hint > 0 ? (size_t)hint : 1024;
	struct passwd *res = NULL;
	int err;

	for (;;) {
		*buf = xrealloc(*buf, len);
		if (name)
			err = getpwnam_r(name, pw, *buf, len, &res);
		else
			err = getpwuid_r(uid, pw, *buf, len, &res);
		if (err != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	return !err && res;
}

static bool sys_user_by_name(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw;
	char *buf = NULL;
	bool found;

	found = sys_getpw(name, 0, &pw, &buf);
	if (found) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	return found;
}

static bool sys_user_by_uid(uid_t uid, gid_t *gid)
{
	struct passwd pw;
	char *buf = NULL;
	bool found;

	found = sys_getpw(NULL, uid, &pw, &buf);
	if (found)
		*gid = pw.pw_gid;
	free(buf);
	return found;
}

/*
 * Each getpw*_r call reopens and rereads /etc/passwd and, with "systemd"
 * in nsswitch.conf, probes half a dozen userdb directories: some thirty
 * system calls per user, most of the time spent checking a policy of
 * thousands of jails.  Past a handful of users the database is therefore
 * read once with getpwent() and searched in memory.  Below that, asking
 * per user stays cheaper than enumerating a large directory.
 */
#define USER_CACHE_MIN 8

struct pw_ent {
	char *name;
	uid_t uid;
	gid_t gid;
	size_t seq; /* enumeration order */
};

struct user_cache {
	struct pw_ent *by_name; /* owns the names */
	struct pw_ent *by_uid;	/* the same entries, names borrowed */
	size_t n;
	bool uid_miss_final; /* a uid not listed has no entry at all */
};

/*
 * Equal keys sort in enumeration order, which is NSS source order and file
 * order: getpw*_r returns the first match, and so does the cache.
 */
static int seq_cmp(const struct pw_ent *a, const struct pw_ent *b)
{
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int pw_name_cmp(const void *va, const void *vb)
{
	const struct pw_ent *a = va, *b = vb;
	int r = strcmp(a->name, b->name);

	return r ? r : seq_cmp(a, b);
}

static int pw_uid_cmp(const void *va, const void *vb)
{
	const struct pw_ent *a = va, *b = vb;

	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return seq_cmp(a, b);
}

/*
 * Whether getpwent() lists every entry getpwuid_r() could find, so that a
 * uid it did not list has no entry.  Not every NSS source enumerates: sssd
 * does not by default, LDAP and winbind can be told not to.  A numeric
 * user of such a source would quietly get gid = uid, so unless every
 * passwd source is known to enumerate, a missing uid is still asked for.
 * "files" lists all it resolves; "systemd" lists its userdb records and
 * dynamic users, and synthesises only root and nobody, whose gid is their
 * uid anyway.  A file we cannot read or parse keeps the lookups.
 */
static bool passwd_enumerates_all(void)
{
	FILE *f = fopen("/etc/nsswitch.conf", "re");
	bool seen = false, all = true;
	char *line = NULL, *s;
	size_t cap = 0, n;

	if (!f)
		return false;
	while (getline(&line, &cap, f) != -1) {
		s = line + strspn(line, " \t");
		if (strncmp(s, "passwd:", 7))
			continue;
		seen = true;
		s += 7;
		s[strcspn(s, "#")] = '\0';
		for (;;) {
			s += strspn(s, " \t\n");
			if (!*s)
				break;
			if (*s == '[') {
				/* An action, "[NOTFOUND=return]": not a source. */
				s += strcspn(s, "]");
				s += *s == ']';
				continue;
			}
			n = strcspn(s, " \t\n[");
			if (!(n == 5 && !strncmp(s, "files", n)) &&
			    !(n == 7 && !strncmp(s, "systemd", n)))
				all = false;
			s += n;
		}
	}
	free(line);
	fclose(f);
	return seen && all;
}

static void user_cache_fill(struct user_cache *uc)
{
	struct passwd *pw;
	struct pw_ent *e;
	int err;

	setpwent();
	for (;;) {
		errno = 0;
		pw = getpwent();
		if (!pw)
			break;
		if (!pw->pw_name)
			continue;
		e = VEC_PUSH(uc->by_name, uc->n);
		e->name = xstrdup(pw->pw_name);
		e->uid = pw->pw_uid;
		e->gid = pw->pw_gid;
		e->seq = uc->n;
	}
	/* The end of the list leaves errno alone; some modules say ENOENT. */
	err = errno;
	endpwent();

	uc->by_uid = xcalloc(uc->n + 1, sizeof(*uc->by_uid));
	if (uc->n) {
		memcpy(uc->by_uid, uc->by_name, uc->n * sizeof(*uc->by_uid));
		qsort(uc->by_name, uc->n, sizeof(*uc->by_name), pw_name_cmp);
		qsort(uc->by_uid, uc->n, sizeof(*uc->by_uid), pw_uid_cmp);
	}
	uc->uid_miss_final = (!err || err == ENOENT) && passwd_enumerates_all();
}

static void user_cache_free(struct user_cache *uc)
{
	size_t i;

	for (i = 0; i < uc->n; i++)
		free(uc->by_name[i].name);
	free(uc->by_name);
	free(uc->by_uid);
	free(uc);
}

/* The first entry named name, NULL if none. */
static const struct pw_ent *cache_by_name(const struct user_cache *uc, const char *name)
{
	size_t lo = 0, hi = uc->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(uc->by_name[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < uc->n && !strcmp(uc->by_name[lo].name, name) ? &uc->by_name[lo] : NULL;
}

/* The first entry with uid, NULL if none. */
static const struct pw_ent *cache_by_uid(const struct user_cache *uc, uid_t uid)
{
	size_t lo = 0, hi = uc->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (uc->by_uid[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < uc->n && uc->by_uid[lo].uid == uid ? &uc->by_uid[lo] : NULL;
}

/* The env's callback if it has one, else the cache, else NSS. */
static bool user_by_name(const struct checker *c, const struct user_cache *uc, const char *name,
			 uid_t *uid, gid_t *gid)
{
	const struct check_env *e = c->env;
	const struct pw_ent *pe;

	if (e && e->user_by_name)
		return e->user_by_name(name, uid, gid, e->ctx);
	pe = uc ? cache_by_name(uc, name) : NULL;
	if (pe) {
		*uid = pe->uid;
		*gid = pe->gid;
		return true;
	}
	/*
	 * Not listed, or not enumerable (passwd_enumerates_all()).  An
	 * unknown name is an error, so this costs a lookup per mistake.
	 */
	return sys_user_by_name(name, uid, gid);
}

static bool user_by_uid(const struct checker *c, const struct user_cache *uc, uid_t uid, gid_t *gid)
{
	const struct check_env *e = c->env;
	const struct pw_ent *pe;

	if (e && e->user_by_uid)
		return e->user_by_uid(uid, gid, e->ctx);
	if (uc) {
		pe = cache_by_uid(uc, uid);
		if (pe) {
			*gid = pe->gid;
			return true;
		}
		/* Unnamed uids are common (docs/jailfw.conf.5: a number need not exist). */
		if (uc->uid_miss_final)
			return false;
	}
	return sys_user_by_uid(uid, gid);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Resolve j->user into j->uid and j->gid, quietly: every uid must be known
 * before the uid conflicts are sorted out, and the errors are reported in
 * policy order by report_user().  A number is a uid as is: it need not
 * exist (a service may run under an unnamed uid), and its gid is its
 * passwd entry's if it has one, else the same number.  A name must
 * exist.  The parser already refused non-canonical and out-of-range
 * numbers; a hand-built model gets the same answer here.
 */
static enum user_res resolve_user(const struct checker *c, const struct user_cache *uc,
				  struct jail *j)
{
	const char *u = j->user;

	if (all_digits(u)) {
		unsigned long long v;

		errno = 0;
		v = strtoull(u, NULL, 10);
		/* (uid_t)-1 is not a uid: setresuid() reads it as "unchanged". */
		if ((u[0] == '0' && u[1]) || errno || v > 4294967294ull) {
			j->uid_resolved = false;
			return USER_BAD_UID;
		}
		j->uid = (uid_t)v;
		if (!user_by_uid(c, uc, j->uid, &j->gid))
			j->gid = (gid_t)j->uid;
		j->uid_resolved = true;
		return USER_OK;
	}
	j->uid_resolved = user_by_name(c, uc, u, &j->uid, &j->gid);
	return j->uid_resolved ? USER_OK : USER_UNKNOWN;
}

/* How many lookups would go to NSS rather than to the env's callbacks. */
static size_t count_sys_lookups(const struct checker *c)
{
	const struct check_env *e = c->env;
	size_t i, n = 0;

	for (i = 0; i < c->p->njails; i++) {
		const char *u = c->p->jails[i].user;

		if (!u)
			continue;
		if (all_digits(u) ? !(e && e->user_by_uid) : !(e && e->user_by_name))
			n++;
	}
	return n;
}

static void resolve_users(struct checker *c)
{
	struct user_cache *uc = NULL;
	size_t i;

	c->users = xcalloc(c->p->njails + 1, sizeof(*c->users));
	if (count_sys_lookups(c) >= USER_CACHE_MIN) {
		uc = xcalloc(1, sizeof(*uc));
		user_cache_fill(uc);
	}
	for (i = 0; i < c->p->njails; i++)
		if (c->p->jails[i].user)
			c->users[i] = resolve_user(c, uc, &c->p->jails[i]);
	if (uc)
		user_cache_free(uc);
}

/*
 * Report what resolve_user() found wrong with jail idx's user, where the
 * jail is checked; true when it resolved.
 */
static bool report_user(struct checker *c, size_t idx)
{
	const struct jail *j = &c->p->jails[idx];

	switch (c->users[idx]) {
	case USER_BAD_UID:
		cerr(c, &j->user_loc, "invalid uid \"%s\" (0-4294967294, no leading zeros)",
		     j->user);
		return false;
	case USER_UNKNOWN:
		cerr(c, &j->user_loc,
		     "unknown user \"%s\" (no such user on this system; a numeric uid need not "
		     "exist)",
		     j->user);
		return false;
	case USER_OK:
		return true;
	case USER_NONE:
		break;
	}
	return false;
}

/* ---- helpers -------------------------------------------------------- */

/* "tcp/80", "tcp/8080:80", "udp/6000-6010:7000": as it is written. */
static void pub_str(const struct publish *pb, struct strbuf *sb)
{
	sb_printf(sb, "%s/%u", proto_name(pb->proto), pb->ext_lo);
	if (pb->ext_hi != pb->ext_lo)
		sb_printf(sb, "-%u", pb->ext_hi);
	if (pb->int_lo != pb->ext_lo)
		sb_printf(sb, ":%u", pb->int_lo);
}

/* Whether a and b publish a common external port; the common ports in lo-hi. */
static bool pub_overlap(const struct publish *a, const struct publish *b, unsigned int *lo,
			unsigned int *hi)
{
	if (a->proto != b->proto || a->ext_lo > b->ext_hi || b->ext_lo > a->ext_hi)
		return false;
	*lo = a->ext_lo > b->ext_lo ? a->ext_lo : b->ext_lo;
	*hi = a->ext_hi < b->ext_hi ? a->ext_hi : b->ext_hi;
	return true;
}

/* "tcp port 80 is already published by OWNER (WHERE)", at loc. */
static void pub_conflict(struct checker *c, const struct loc *loc, const struct publish *pb,
			 unsigned int lo, unsigned int hi, const char *owner, const char *where)
{
	if (lo == hi)
		cerr(c, loc, "%s port %u is already published by %s (%s)", proto_name(pb->proto),
		     lo, owner, where);
	else
		cerr(c, loc, "%s ports %u-%u are already published by %s (%s)",
		     proto_name(pb->proto), lo, hi, owner, where);
}

/*
 * Where a rule of a jail is reported: its own protocol token, or for a
 * rule copied from a template, the "use" that pulled it in (the jail is
 * what the user is looking at; a note points into the template).
 */
static const struct loc *rule_site(const struct rule *r)
{
	return r->from_template ? &r->use_loc : &r->proto_loc;
}

static const char *jail_ifprefix(const struct jail *j)
{
	return j->ifname ? j->ifname : j->name;
}

/* Where a netns jail's interface prefix was written. */
static const struct loc *ifprefix_loc(const struct jail *j)
{
	return j->ifname ? &j->ifname_loc : &j->loc;
}

static const char *family_word(int af)
{
	return af == AF_INET ? "ipv4" : "ipv6";
}

static bool jail_has(const struct jail *j, int af)
{
	return af == AF_INET ? j->has_v4 : j->has_v6;
}

/* ---- rules: checks that need no jail -------------------------------- */

/* Every port range of a is one of b's. */
static bool ports_within(const struct rule *a, const struct rule *b)
{
	size_t i, k;

	for (i = 0; i < a->nports; i++) {
		for (k = 0; k < b->nports; k++)
			if (a->ports[i].lo == b->ports[k].lo && a->ports[i].hi == b->ports[k].hi)
				break;
		if (k == b->nports)
			return false;
	}
	return true;
}

static bool dest_equal(const struct dest *a, const struct dest *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == DEST_HOST)
		return true;
	return a->pfx.family == b->pfx.family && a->pfx.len == b->pfx.len &&
	       !memcmp(a->pfx.addr.b, b->pfx.addr.b, a->pfx.family == AF_INET ? 4 : 16);
}

static bool dests_within(const struct rule *a, const struct rule *b)
{
	size_t i, k;

	for (i = 0; i < a->ndests; i++) {
		for (k = 0; k < b->ndests; k++)
			if (dest_equal(&a->dests[i], &b->dests[k]))
				break;
		if (k == b->ndests)
			return false;
	}
	return true;
}

/* Same protocol, same set of ports, same set of destinations (any order). */
static bool rules_equal(const struct rule *a, const struct rule *b)
{
	return a->proto == b->proto && ports_within(a, b) && ports_within(b, a) &&
	       dests_within(a, b) && dests_within(b, a);
}

static bool loc_equal(const struct loc *a, const struct loc *b)
{
	return a->line == b->line && a->col == b->col &&
	       (a->file == b->file || (a->file && b->file && !strcmp(a->file, b->file)));
}

/*
 * "allow udp/53,tcp/53 to X" is one statement and several rules sharing
 * loc and destinations; so are the copies one "use" made of it.
 */
static bool same_stmt(const struct rule *a, const struct rule *b)
{
	return loc_equal(&a->loc, &b->loc) && a->from_template == b->from_template &&
	       (!a->from_template || loc_equal(&a->use_loc, &b->use_loc));
}

/*
 * icmp is IPv4's and icmpv6 is IPv6's: "allow icmp to 2001:db8::1" can
 * never match anything, which is always a mistake (usually the wrong
 * protocol name).  In a rule with destinations of both families the
 * matching ones work; the others are pointed out.
 */
static void check_rule_family(struct checker *c, const struct rule *rules, size_t n, size_t k)
{
	const struct rule *r = &rules[k];
	char buf[PREFIX_STRLEN];
	enum proto pair;
	const char *fix;
	size_t i, nmatch = 0;
	int want;

	if (r->proto == PROTO_ICMP) {
		want = AF_INET;
		pair = PROTO_ICMPV6;
		fix = "icmpv6";
	} else if (r->proto == PROTO_ICMPV6) {
		want = AF_INET6;
		pair = PROTO_ICMP;
		fix = "icmp";
	} else {
		return;
	}
	if (!r->ndests)
		return;
	/* "allow icmp,icmpv6 to A, B": each destination has its protocol. */
	for (i = 0; i < n; i++)
		if (rules[i].proto == pair && same_stmt(&rules[i], r))
			return;
	for (i = 0; i < r->ndests; i++)
		if (r->dests[i].kind == DEST_HOST || r->dests[i].pfx.family == want)
			nmatch++;
	if (!nmatch) {
		cerr(c, &r->proto_loc,
		     "\"%s\" is %s only, but every destination of this rule is %s (use \"%s\")",
		     proto_name(r->proto), want == AF_INET ? "IPv4" : "IPv6",
		     want == AF_INET ? "IPv6" : "IPv4", fix);
		return;
	}
	for (i = 0; i < r->ndests; i++) {
		const struct dest *t = &r->dests[i];

		if (t->kind == DEST_HOST || t->pfx.family == want)
			continue;
		cwarn(c, &t->loc,
		      "\"%s\" does not apply to %s destination %s (add a separate \"%s\" rule for "
		      "it)",
		      proto_name(r->proto), want == AF_INET ? "IPv6" : "IPv4",
		      prefix_str(&t->pfx, buf), fix);
	}
}

/*
 * Warn when rules[k] repeats an earlier rule of the same list, which
 * belongs to what ("jail", "template") named name: formatted only for the
 * warning, not for every jail.
 */
static void check_rule_dup(struct checker *c, const struct rule *rules, size_t k, const char *what,
			   const char *name)
{
	const struct rule *r = &rules[k];
	char lbuf[LOC_BUF];
	struct strbuf sb;
	size_t m;

	for (m = 0; m < k; m++) {
		const struct rule *o = &rules[m];

		/* Within one template it was reported once, with the template. */
		if (r->from_template && o->from_template && o->template == r->template)
			continue;
		if (!rules_equal(o, r))
			continue;
		sb_init(&sb);
		rule_spec_str(r, &sb);
		cwarn(c, rule_site(r), "duplicate rule in %s \"%s\": %s%s is already allowed at %s",
		      what, name, sb.s, r->ndests ? " to the same destinations" : "",
		      loc_str(o->from_template ? &o->use_loc : &o->loc, lbuf, sizeof(lbuf)));
		if (r->from_template)
			cnote(c, &r->loc, "the rule comes from template \"%s\" here", r->template);
		sb_free(&sb);
		return;
	}
}

/* ---- templates ------------------------------------------------------ */

static const struct tmpl *find_tmpl(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntmpls; i++)
		if (!strcmp(p->tmpls[i].name, name))
			return &p->tmpls[i];
	return NULL;
}

/* A template is checked once for what is wrong in any jail. */
/*
 * Destinations that no packet of a jail can have, or that only "to host"
 * may name: a rule with one would be dead, or would say the host where
 * the host is reached only through "to host".  A destination inside one
 * of these (not one that merely holds one: 0.0.0.0/0 is fine) is refused.
 */
static const char *const why_loopback =
    "is loopback: the host's is reached only through \"to host\", and a netns jail's is its "
    "own";
static const char *const why_mcast =
    "is multicast: it reaches the host's own sockets (a netns jail's counts as the host: "
    "\"to host\"; a uid jail may send none)";
static const struct {
	int family;
	const char *net;
	uint8_t len;
	const char *why;
} dead_nets[] = {
    {AF_INET, "255.255.255.255", 32,
     "is the broadcast address: broadcasts reach the host's own sockets (a netns jail's count "
     "as the host: \"to host\"; a uid jail may send none)"},
    {AF_INET, "0.0.0.0", 8,
     "is in 0.0.0.0/8, which is no destination (the kernel takes 0.0.0.0 for the host itself)"},
    {AF_INET, "127.0.0.0", 8, why_loopback},
    {AF_INET, "224.0.0.0", 4, why_mcast},
    {AF_INET6, "::", 128, "is the unspecified address, which is no destination"},
    {AF_INET6, "::1", 128, why_loopback},
    {AF_INET6, "::ffff:0:0", 96,
     "is an IPv4-mapped IPv6 address, which no packet carries: the kernel sends IPv4"},
    {AF_INET6, "::", 96, "is an IPv4-compatible IPv6 address, deprecated and never routed"},
    {AF_INET6, "fe80::", 10,
     "is link-local: it names no link, so it would hold on every interface of the host, the "
     "jails' included (a netns jail's packets to it never leave its own link, whose host side "
     "is \"to host\")"},
    {AF_INET6, "ff00::", 8, why_mcast},
};

/* Why dst cannot be a destination, or NULL; fix gets what to write instead. */
static const char *dead_dest(const struct prefix *dst, char fix[PREFIX_STRLEN])
{
	/* Converted once: a policy of thousands of jails asks per destination. */
	static struct prefix nets[ARRAY_SIZE(dead_nets)];
	static bool have_nets;
	struct prefix v4;
	const struct prefix *net;
	size_t i;

	if (!have_nets) {
		for (i = 0; i < ARRAY_SIZE(dead_nets); i++) {
			nets[i].family = dead_nets[i].family;
			nets[i].len = dead_nets[i].len;
			inet_pton(nets[i].family, dead_nets[i].net, nets[i].addr.b);
		}
		have_nets = true;
	}
	fix[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(dead_nets); i++) {
		net = &nets[i];
		if (dst->family != net->family || !prefix_contains(net, dst))
			continue;
		if (net->family == AF_INET6 && net->len == 96 && net->addr.b[10] == 0xff) {
			/* ::ffff:a.b.c.d/N is a.b.c.d/(N - 96). */
			memset(&v4, 0, sizeof(v4));
			v4.family = AF_INET;
			v4.len = (uint8_t)(dst->len - 96);
			memcpy(v4.addr.b, dst->addr.b + 12, 4);
			prefix_str(&v4, fix);
		}
		return dead_nets[i].why;
	}
	return NULL;
}

/* One statement's destinations, reported once (not per protocol). */
static void check_rule_dests(struct checker *c, const struct rule *rules, size_t k)
{
	const struct rule *r = &rules[k];
	char buf[PREFIX_STRLEN], fix[PREFIX_STRLEN];
	const char *why;
	size_t i;

	for (i = 0; i < k; i++)
		if (same_stmt(&rules[i], r))
			return;
	for (i = 0; i < r->ndests; i++) {
		const struct dest *t = &r->dests[i];

		if (t->kind != DEST_PREFIX || !(why = dead_dest(&t->pfx, fix)))
			continue;
		if (fix[0])
			cerr(c, &t->loc, "%s %s (write %s)", prefix_str(&t->pfx, buf), why, fix);
		else
			cerr(c, &t->loc, "%s %s", prefix_str(&t->pfx, buf), why);
	}
}

static void check_templates(struct checker *c)
{
	const struct policy *p = c->p;
	char lbuf[LOC_BUF], owner[NAME_BUF];
	size_t i, k, m;

	for (i = 0; i < p->ntmpls; i++) {
		const struct tmpl *t = &p->tmpls[i];

		for (m = 0; m < i; m++) {
			if (strcmp(p->tmpls[m].name, t->name))
				continue;
			cerr(c, &t->loc, "duplicate template \"%s\" (first defined at %s)", t->name,
			     loc_str(&p->tmpls[m].loc, lbuf, sizeof(lbuf)));
			break;
		}
		snprintf(owner, sizeof(owner), "template \"%s\"", t->name);
		for (k = 0; k < t->nrules; k++) {
			check_rule_family(c, t->rules, t->nrules, k);
			check_rule_dests(c, t->rules, k);
			check_rule_dup(c, t->rules, k, "template", t->name);
		}
		/* Reported here once, not again in every jail that uses it. */
		for (k = 0; k < t->npubs; k++) {
			unsigned int lo, hi;
			struct loc at;

			for (m = 0; m < k; m++)
				if (pub_overlap(&t->pubs[k], &t->pubs[m], &lo, &hi))
					break;
			if (m == k)
				continue;
			at = next_word_loc(c, &t->pubs[k].loc);
			pub_conflict(c, &at, &t->pubs[k], lo, hi, owner,
				     loc_str(&t->pubs[m].loc, lbuf, sizeof(lbuf)));
		}
	}
}

static void copy_rule(struct rule *dst, const struct rule *src)
{
	*dst = *src;
	dst->ports = NULL;
	dst->dests = NULL;
	if (src->nports) {
		dst->ports = xmalloc(src->nports * sizeof(*dst->ports));
		memcpy(dst->ports, src->ports, src->nports * sizeof(*dst->ports));
	}
	if (src->ndests) {
		dst->dests = xmalloc(src->ndests * sizeof(*dst->dests));
		memcpy(dst->dests, src->dests, src->ndests * sizeof(*dst->dests));
	}
}

/*
 * A publish maps a port of the host's wan to the jail's own address, and
 * a uid jail has none: refused as a "publish" written in the jail is, at
 * the "use", with a note at the template.  Quietly dropping it instead
 * would leave the admin believing the port is published; and a uid jail
 * needs no publish anyway: its service listens on the host's addresses
 * and its replies pass as established traffic.
 */
static void refuse_uid_publishes(struct checker *c, const struct use *u, const struct tmpl *t)
{
	struct strbuf sb;
	size_t k;

	sb_init(&sb);
	for (k = 0; k < t->npubs; k++) {
		if (k)
			sb_puts(&sb, k + 1 == t->npubs ? " and " : ", ");
		pub_str(&t->pubs[k], &sb);
	}
	cerr(c, &u->loc,
	     "template \"%s\" publishes %s, which need%s backend netns: a uid jail has no address "
	     "to forward to",
	     t->name, sb.s, t->npubs == 1 ? "s" : "");
	cnote(c, &t->pubs[0].loc, "the publish comes from template \"%s\" here", t->name);
	sb_free(&sb);
}

static bool expanded(const struct jail *j)
{
	size_t i;

	for (i = 0; i < j->nrules; i++)
		if (j->rules[i].from_template)
			return true;
	for (i = 0; i < j->npubs; i++)
		if (j->pubs[i].from_template)
			return true;
	return false;
}

/*
 * Expand every "use" of j into copies of the template's rules and
 * publishes, appended after the jail's own.  A template used twice is
 * expanded once.
 */
static void expand_uses(struct checker *c, struct jail *j)
{
	const struct policy *p = c->p;
	const char **names;
	char lbuf[LOC_BUF];
	size_t i, k, m;

	/* Checked before (check, then render, in one run): expanded already. */
	if (expanded(j))
		return;

	names = xcalloc(p->ntmpls + 1, sizeof(*names));
	for (i = 0; i < p->ntmpls; i++)
		names[i] = p->tmpls[i].name;

	for (i = 0; i < j->nuses; i++) {
		const struct use *u = &j->uses[i];
		const struct tmpl *t;
		const char *hint;

		for (m = 0; m < i; m++)
			if (!strcmp(j->uses[m].name, u->name))
				break;
		if (m < i) {
			cwarn(c, &u->loc, "template \"%s\" is already used by jail \"%s\" (%s)",
			      u->name, j->name, loc_str(&j->uses[m].loc, lbuf, sizeof(lbuf)));
			continue;
		}
		t = find_tmpl(p, u->name);
		if (!t) {
			hint = diag_suggest(u->name, names, p->ntmpls);
			if (hint)
				cerr(c, &u->loc, "unknown template \"%s\"; did you mean \"%s\"?",
				     u->name, hint);
			else
				cerr(c, &u->loc,
				     "unknown template \"%s\" (no template block \"%s\" in the "
				     "policy and no %s.conf in the template path)",
				     u->name, u->name, u->name);
			continue;
		}
		for (k = 0; k < t->nrules; k++) {
			struct rule *r = VEC_PUSH(j->rules, j->nrules);

			copy_rule(r, &t->rules[k]);
			r->from_template = true;
			r->use_loc = u->loc;
			r->template = t->name;
		}
		if (!t->npubs)
			continue;
		if (j->backend == BACKEND_UID) {
			refuse_uid_publishes(c, u, t);
			continue;
		}
		/* Without a backend, "has no backend" has said it all. */
		if (j->backend != BACKEND_NETNS)
			continue;
		for (k = 0; k < t->npubs; k++) {
			struct publish *pb = VEC_PUSH(j->pubs, j->npubs);

			*pb = t->pubs[k];
			pb->from_template = true;
			pb->use_loc = u->loc;
			pb->template = t->name;
		}
	}
	free(names);
}

/* ---- conflicts between jails ---------------------------------------- */

/*
 * Each jail is compared only with the jails before it and a conflict is
 * reported at the later jail, naming the earlier one.  Comparing every
 * pair is quadratic (12.5 million comparisons per kind at 5000 jails), so
 * the keys are grouped once, before the jails are checked in order: equal
 * keys become neighbours, and each jail's result waits in the checker
 * until check_jail() gets to it, which keeps the messages in policy order.
 */

/*
 * Jail m, earlier than jail idx, is compared with idx unless it has the
 * same name: a duplicate is reported as such, not as a second conflict for
 * each of its uid, prefixes, interfaces and ports.  Jails of one name share
 * the first one's index (find_dup_names() runs first), so this is no strcmp.
 */
static bool rivals(const struct checker *c, size_t idx, size_t m)
{
	size_t a = c->dup_of[idx], b = c->dup_of[m];

	return (a == NO_JAIL ? idx : a) != (b == NO_JAIL ? m : b);
}

/* A jail's name, interface prefix (s) or uid, to sort by. */
struct jail_key {
	const char *s; /* NULL: the key is uid */
	uid_t uid;
	size_t jail;
};

static bool key_equal(const struct jail_key *a, const struct jail_key *b)
{
	return a->s ? !strcmp(a->s, b->s) : a->uid == b->uid;
}

/*
 * In each run of equal keys (sort_keys()), give every jail the
 * earliest jail before it that rivals it.  That is the run's first jail,
 * unless the two share a name; then it is the run's first jail of any
 * other name, if that one comes earlier.
 */
static void find_rivals(const struct checker *c, const struct jail_key *keys, size_t n, size_t *out)
{
	size_t start, end, k, first, other;

	for (start = 0; start < n; start = end) {
		first = keys[start].jail;
		other = NO_JAIL;
		for (end = start + 1; end < n && key_equal(&keys[start], &keys[end]); end++)
			if (other == NO_JAIL && rivals(c, keys[end].jail, first))
				other = keys[end].jail;
		for (k = start + 1; k < end; k++) {
			size_t j = keys[k].jail;

			if (rivals(c, j, first))
				out[j] = first;
			else if (other < j)
				out[j] = other;
		}
	}
}

static size_t *no_jails(size_t n)
{
	size_t *out = xmalloc((n + 1) * sizeof(*out));
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = NO_JAIL;
	return out;
}

static uint64_t key_hash(const struct jail_key *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *s;

	if (!k->s)
		return ((uint64_t)k->uid + 1) * 0x9e3779b97f4a7c15ull;
	for (s = k->s; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/*
 * Equal keys side by side, each run in policy order (the keys come in
 * policy order): all that find_rivals() and find_dup_names() need.
 * Grouped through a hash table in O(n), not sorted: qsort() with strcmp()
 * was a third of check at 5000 jails, and the order of the runs does not
 * matter.
 */
static void sort_keys(struct jail_key *keys, size_t n)
{
	/*
	 * 32-bit indexes: half the memory, all of it below malloc's mmap
	 * threshold at 5000 jails, so the second call reuses the first's
	 * pages.  4 billion jails would take a terabyte of struct jail.
	 */
	uint32_t *slot, *first, *gid, *start, ngroups = 0;
	size_t cap = 16, i;
	struct jail_key *out;

	if (n < 2)
		return;
	while (cap < 2 * n)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot));	/* group + 1; 0: empty */
	first = xmalloc(n * sizeof(*first));	/* a group's first key */
	gid = xmalloc(n * sizeof(*gid));	/* each key's group */
	start = xcalloc(n + 1, sizeof(*start)); /* sizes, then where each goes */
	for (i = 0; i < n; i++) {
		size_t h = (size_t)key_hash(&keys[i]) & (cap - 1);

		while (slot[h] && !key_equal(&keys[first[slot[h] - 1]], &keys[i]))
			h = (h + 1) & (cap - 1);
		if (!slot[h]) {
			first[ngroups] = (uint32_t)i;
			slot[h] = ++ngroups;
		}
		gid[i] = slot[h] - 1;
		start[gid[i] + 1]++;
	}
	for (i = 1; i <= ngroups; i++)
		start[i] += start[i - 1];
	out = xmalloc(n * sizeof(*out));
	for (i = 0; i < n; i++)
		out[start[gid[i]]++] = keys[i];
	memcpy(keys, out, n * sizeof(*keys));
	free(out);
	free(start);
	free(gid);
	free(first);
	free(slot);
}

/* Every jail but the first of a name: the first one. */
static void find_dup_names(struct checker *c, struct jail_key *keys)
{
	const struct policy *p = c->p;
	size_t i, start, end;

	for (i = 0; i < p->njails; i++)
		keys[i] = (struct jail_key){.s = p->jails[i].name, .jail = i};
	sort_keys(keys, p->njails);
	c->dup_of = no_jails(p->njails);
	for (start = 0; start < p->njails; start = end)
		for (end = start + 1; end < p->njails && key_equal(&keys[start], &keys[end]); end++)
			c->dup_of[keys[end].jail] = keys[start].jail;
}

/* meta skuid dispatches to one chain: a uid has one uid jail. */
static void find_uid_conflicts(struct checker *c, struct jail_key *keys)
{
	const struct policy *p = c->p;
	size_t i, n = 0;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend == BACKEND_UID && j->uid_resolved)
			keys[n++] = (struct jail_key){.uid = j->uid, .jail = i};
	}
	sort_keys(keys, n);
	c->uid_of = no_jails(p->njails);
	find_rivals(c, keys, n, c->uid_of);
}

/* "A-out" never equals "B-in", so equal names mean equal prefixes. */
static void find_ifname_conflicts(struct checker *c, struct jail_key *keys)
{
	const struct policy *p = c->p;
	size_t i, n = 0;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];
		const char *pre = jail_ifprefix(j);

		/* One too long is reported as such, and can equal no valid one. */
		if (j->backend == BACKEND_NETNS && strlen(pre) <= JAIL_IFPREFIX_MAX)
			keys[n++] = (struct jail_key){.s = pre, .jail = i};
	}
	sort_keys(keys, n);
	c->ifname_of = no_jails(p->njails);
	find_rivals(c, keys, n, c->ifname_of);
}

/* Two jails whose prefixes (of one family) overlap: later names earlier. */
struct overlap {
	size_t later, earlier;
};

struct pfx_key {
	const struct prefix *pfx;
	uint8_t net[16]; /* pfx's address without its host bits */
	size_t jail;
};

/*
 * By network address, then length (shorter first), then policy order: a
 * prefix comes after every prefix that contains it, and the prefixes it
 * contains come right after it.
 */
static int check_pfx_cmp(const void *va, const void *vb)
{
	const struct pfx_key *a = va, *b = vb;
	int r;

	if (a->pfx->family != b->pfx->family)
		return a->pfx->family < b->pfx->family ? -1 : 1;
	r = memcmp(a->net, b->net, sizeof(a->net));
	if (r)
		return r;
	if (a->pfx->len != b->pfx->len)
		return a->pfx->len < b->pfx->len ? -1 : 1;
	return (a->jail > b->jail) - (a->jail < b->jail);
}

static int overlap_cmp(const void *va, const void *vb)
{
	const struct overlap *a = va, *b = vb;

	if (a->later != b->later)
		return a->later < b->later ? -1 : 1;
	return (a->earlier > b->earlier) - (a->earlier < b->earlier);
}

static void mask_net(const struct prefix *pfx, uint8_t net[16])
{
	unsigned int i, bits, len = pfx->len;

	memcpy(net, pfx->addr.b, 16);
	for (i = 0; i < 16; i++) {
		bits = len > 8 ? 8 : len;
		net[i] &= (uint8_t)(0xff00u >> bits);
		len -= bits;
	}
}

/*
 * Overlapping jail networks would route one jail's replies into the other
 * and defeat anti-spoofing, which trusts a source inside the jail's prefix.
 * Two CIDR prefixes overlap only when one contains the other.  In check_pfx_cmp
 * order a stack holds the prefixes containing the current one: pop those
 * that do not contain it (they contain nothing later either), and what is
 * left overlaps it.  After the sort, every overlapping pair is found
 * once, in time proportional to their number.
 */
static void find_overlaps(struct checker *c, int af, struct pfx_key *keys, size_t *stack)
{
	const struct policy *p = c->p;
	struct overlap **ov = &c->overlaps[af == AF_INET6];
	size_t *nov = &c->noverlaps[af == AF_INET6];
	size_t i, n = 0, depth = 0;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_NETNS || !jail_has(j, af))
			continue;
		keys[n].pfx = af == AF_INET ? &j->v4 : &j->v6;
		mask_net(keys[n].pfx, keys[n].net);
		keys[n++].jail = i;
	}
	if (n > 1)
		qsort(keys, n, sizeof(*keys), check_pfx_cmp);
	for (i = 0; i < n; i++) {
		size_t k;

		while (depth && !prefix_contains(keys[stack[depth - 1]].pfx, keys[i].pfx))
			depth--;
		for (k = 0; k < depth; k++) {
			size_t a = keys[stack[k]].jail, b = keys[i].jail;
			struct overlap *o;

			if (!rivals(c, a, b))
				continue;
			o = VEC_PUSH(*ov, *nov);
			o->later = a > b ? a : b;
			o->earlier = a > b ? b : a;
		}
		stack[depth++] = i;
	}
	if (*nov > 1)
		qsort(*ov, *nov, sizeof(**ov), overlap_cmp);
}

static void find_conflicts(struct checker *c)
{
	size_t n = c->p->njails + 1;
	struct jail_key *keys = xcalloc(n, sizeof(*keys));
	struct pfx_key *pkeys = xcalloc(n, sizeof(*pkeys));
	size_t *stack = xcalloc(n, sizeof(*stack));

	find_dup_names(c, keys);
	find_uid_conflicts(c, keys);
	find_ifname_conflicts(c, keys);
	find_overlaps(c, AF_INET, pkeys, stack);
	find_overlaps(c, AF_INET6, pkeys, stack);
	free(stack);
	free(pkeys);
	free(keys);
}

/*
 * Published ports are found as the jails are checked: only earlier jails'
 * are in the table, so nothing needs sorting.  For each protocol and port,
 * the first publish covering it and the first of a jail named otherwise
 * than that one's (rivals()): whichever jail asks, one of the two is the
 * earliest publish it conflicts with.  Values are 1 + an index into
 * checker.pubs, which is in policy order; 0 is none.  Filling and reading
 * the table costs the length of the ranges: in a valid policy, where no
 * port is published twice, at most 65536 per protocol in all.
 */
struct port_owner {
	uint32_t first[65536];
	uint32_t other[65536];
};

struct pub_ref {
	size_t jail, pub;
};

static size_t pub_jail(const struct checker *c, uint32_t ref)
{
	return c->pubs[ref - 1].jail;
}

/* The earliest publish of an earlier rival jail that overlaps pb; 0: none. */
static uint32_t earlier_publish(const struct checker *c, size_t idx, const struct publish *pb)
{
	const struct port_owner *t = c->ports[pb->proto];
	uint32_t best = 0, ref;
	unsigned int port;

	if (!t)
		return 0;
	for (port = pb->ext_lo; port <= pb->ext_hi; port++) {
		ref = t->first[port];
		if (ref && !rivals(c, idx, pub_jail(c, ref)))
			ref = t->other[port];
		if (ref && (!best || ref < best))
			best = ref;
	}
	return best;
}

static void add_publishes(struct checker *c, size_t idx)
{
	const struct jail *j = &c->p->jails[idx];
	struct port_owner *t;
	struct pub_ref *r;
	unsigned int port;
	uint32_t ref;
	size_t i;

	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];

		r = VEC_PUSH(c->pubs, c->npubs);
		r->jail = idx;
		r->pub = i;
		ref = (uint32_t)c->npubs;
		if (!c->ports[pb->proto])
			c->ports[pb->proto] = xcalloc(1, sizeof(*t));
		t = c->ports[pb->proto];
		for (port = pb->ext_lo; port <= pb->ext_hi; port++) {
			if (!t->first[port])
				t->first[port] = ref;
			else if (!t->other[port] && rivals(c, idx, pub_jail(c, t->first[port])))
				t->other[port] = ref;
		}
	}
}

static void checker_free(struct checker *c)
{
	size_t i;

	free(c->users);
	free(c->dup_of);
	free(c->uid_of);
	free(c->ifname_of);
	free(c->overlaps[0]);
	free(c->overlaps[1]);
	for (i = 0; i < PROTO_COUNT; i++)
		free(c->ports[i]);
	free(c->pubs);
	for (i = 0; i < c->nlines; i++)
		free(c->lines[i].starts);
	free(c->lines);
}

/* ---- jails ---------------------------------------------------------- */

static void check_jail_name(struct checker *c, size_t idx)
{
	const struct jail *j = &c->p->jails[idx];
	char lbuf[LOC_BUF];
	size_t m = c->dup_of[idx];

	if (m != NO_JAIL)
		cerr(c, &j->loc, "duplicate jail \"%s\" (first defined at %s)", j->name,
		     loc_str(&c->p->jails[m].loc, lbuf, sizeof(lbuf)));
}

static void check_uid_jail(struct checker *c, size_t idx)
{
	struct jail *j = &c->p->jails[idx];
	char lbuf[LOC_BUF];
	size_t m = c->uid_of[idx], i;

	if (!j->user) {
		cerr(c, &j->backend_loc,
		     "jail \"%s\" has backend uid but no user (add \"user NAME\" or \"user UID\")",
		     j->name);
	} else if (report_user(c, idx) && j->uid == 0) {
		/*
		 * The uid chain ends in a drop: every root process, sshd's
		 * replies included, would lose the network.
		 */
		if (all_digits(j->user))
			cerr(c, &j->user_loc,
			     "uid 0 cannot be confined: it would confine sshd's replies and every "
			     "root service");
		else
			cerr(c, &j->user_loc,
			     "user \"%s\" is uid 0, and uid 0 cannot be confined: it would confine "
			     "sshd's replies and every root service",
			     j->user);
	} else if (j->uid_resolved && m != NO_JAIL) {
		const struct jail *o = &c->p->jails[m];

		cerr(c, &j->user_loc, "uid %u already belongs to jail \"%s\" (%s)",
		     (unsigned int)j->uid, o->name, loc_str(&o->user_loc, lbuf, sizeof(lbuf)));
	}

	/* Left behind when a jail switches from netns to uid, typically. */
	if (j->has_v4)
		cerr(c, &j->v4_loc,
		     "\"ipv4\" needs backend netns: a uid jail uses the host's own addresses");
	if (j->has_v6)
		cerr(c, &j->v6_loc,
		     "\"ipv6\" needs backend netns: a uid jail uses the host's own addresses");
	if (j->ndns)
		cerr(c, &j->dns_loc,
		     "\"dns\" needs backend netns: a uid jail uses the host's resolver "
		     "configuration");
	if (j->ifname)
		cerr(c, &j->ifname_loc,
		     "\"ifname\" needs backend netns: a uid jail has no interfaces of its own");
	for (i = 0; i < j->npubs; i++)
		cerr(c, &j->pubs[i].loc,
		     "\"publish\" needs backend netns: a uid jail has no address to forward to");
}

/* The host side gets the network's .1 (::1), the jail side .2 (::2). */
static void check_prefix_size(struct checker *c, const struct jail *j, int af)
{
	const struct prefix *pfx = af == AF_INET ? &j->v4 : &j->v6;
	const struct loc *loc = af == AF_INET ? &j->v4_loc : &j->v6_loc;
	char buf[PREFIX_STRLEN];

	if (af == AF_INET && pfx->len > 30)
		cerr(c, loc,
		     "ipv4 prefix %s of jail \"%s\" is too small: the host side gets .1 and the "
		     "jail side .2 (use /30 or shorter)",
		     prefix_str(pfx, buf), j->name);
	else if (af == AF_INET6 && pfx->len > 126)
		cerr(c, loc,
		     "ipv6 prefix %s of jail \"%s\" is too small: the host side gets ::1 and the "
		     "jail side ::2 (use /126 or shorter)",
		     prefix_str(pfx, buf), j->name);
}

/* Every earlier rival jail whose prefix overlaps (find_overlaps()). */
static void check_overlap(struct checker *c, size_t idx, int af)
{
	const struct jail *j = &c->p->jails[idx];
	const struct prefix *pfx = af == AF_INET ? &j->v4 : &j->v6;
	const struct loc *loc = af == AF_INET ? &j->v4_loc : &j->v6_loc;
	const struct overlap *ov = c->overlaps[af == AF_INET6];
	size_t n = c->noverlaps[af == AF_INET6];
	size_t *next = &c->next_overlap[af == AF_INET6];
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN], lbuf[LOC_BUF];

	while (*next < n && ov[*next].later < idx)
		(*next)++;
	for (; *next < n && ov[*next].later == idx; (*next)++) {
		const struct jail *o = &c->p->jails[ov[*next].earlier];
		const struct prefix *op = af == AF_INET ? &o->v4 : &o->v6;

		cerr(c, loc, "%s prefix %s of jail \"%s\" overlaps %s of jail \"%s\" (%s)",
		     family_word(af), prefix_str(pfx, a), j->name, prefix_str(op, b), o->name,
		     loc_str(af == AF_INET ? &o->v4_loc : &o->v6_loc, lbuf, sizeof(lbuf)));
	}
}

static void check_ifnames(struct checker *c, size_t idx)
{
	const struct jail *j = &c->p->jails[idx];
	const char *pre = jail_ifprefix(j);
	char host[16], peer[16], lbuf[LOC_BUF];
	size_t m = c->ifname_of[idx], i;
	struct loc at;

	/*
	 * Spelled out here rather than with jail_ifname_host(), which
	 * truncates: the user must see the names that do not fit.
	 */
	if (strlen(pre) > JAIL_IFPREFIX_MAX) {
		if (j->ifname)
			cerr(c, &j->ifname_loc,
			     "interface names \"%s-out\" and \"%s-in\" are too long (IFNAMSIZ "
			     "allows 15 characters); \"ifname\" may have at most %u characters",
			     pre, pre, JAIL_IFPREFIX_MAX);
		else
			cerr(c, &j->loc,
			     "interface names \"%s-out\" and \"%s-in\" are too long (IFNAMSIZ "
			     "allows 15 characters); the jail name or its \"ifname\" may have at "
			     "most %u characters",
			     pre, pre, JAIL_IFPREFIX_MAX);
		return;
	}

	if (m != NO_JAIL) {
		const struct jail *o = &c->p->jails[m];

		cerr(c, ifprefix_loc(j),
		     "interface names \"%s-out\" and \"%s-in\" of jail \"%s\" are already used by "
		     "jail \"%s\" (%s)",
		     pre, pre, j->name, o->name, loc_str(ifprefix_loc(o), lbuf, sizeof(lbuf)));
	}

	/* The wan gets masquerade and DNAT: a jail's veth must not be one. */
	jail_ifname_host(j, host);
	jail_ifname_jail(j, peer);
	for (i = 0; i < c->p->settings.nwan; i++) {
		const char *w = c->p->settings.wan[i];

		if (strcmp(w, host) && strcmp(w, peer))
			continue;
		at = word_loc(c, &c->p->settings.wan_loc, w);
		cerr(c, &at, "wan interface \"%s\" is the %s side of netns jail \"%s\" (%s)", w,
		     strcmp(w, host) ? "jail" : "host", j->name,
		     loc_str(ifprefix_loc(j), lbuf, sizeof(lbuf)));
	}
}

static void check_netns_jail(struct checker *c, size_t idx)
{
	struct jail *j = &c->p->jails[idx];
	char buf[PREFIX_STRLEN];
	struct loc at;
	size_t i;

	/*
	 * A netns jail's user is only who "jailfw exec" becomes: the
	 * namespace confines every uid in it, so a user may repeat across
	 * jails, but a name must still exist.
	 */
	if (j->user)
		report_user(c, idx);

	if (!j->has_v4 && !j->has_v6)
		cerr(c, &j->backend_loc,
		     "jail \"%s\" has backend netns but no address (add \"ipv4 PREFIX\" and/or "
		     "\"ipv6 PREFIX\")",
		     j->name);
	if (j->has_v4) {
		check_prefix_size(c, j, AF_INET);
		check_overlap(c, idx, AF_INET);
	}
	if (j->has_v6) {
		check_prefix_size(c, j, AF_INET6);
		check_overlap(c, idx, AF_INET6);
	}
	check_ifnames(c, idx);

	for (i = 0; i < j->ndns; i++) {
		const struct prefix *s = &j->dns[i];

		if (jail_has(j, s->family))
			continue;
		addr_str(s, buf);
		at = word_loc(c, &j->dns_loc, buf);
		cerr(c, &at,
		     "dns server %s is %s, but jail \"%s\" has no %s prefix to reach it from", buf,
		     s->family == AF_INET ? "IPv4" : "IPv6", j->name, family_word(s->family));
	}
}

static enum proto icmp_pair(enum proto p)
{
	return p == PROTO_ICMP ? PROTO_ICMPV6 : p == PROTO_ICMPV6 ? PROTO_ICMP : p;
}

static bool icmp_never_matches(const struct jail *j, const struct rule *r)
{
	return (r->proto == PROTO_ICMP && !j->has_v4) || (r->proto == PROTO_ICMPV6 && !j->has_v6);
}

/*
 * A netns jail reaches only the families it has addresses for.  Its own
 * rules must not name a destination it cannot reach.  A template is
 * written for many jails, so a dual-family rule in one is fine as long as
 * some destination is reachable; the rest are pointed out.
 */
static void check_rule_reach(struct checker *c, const struct jail *j, size_t k)
{
	const struct rule *r = &j->rules[k];
	char buf[PREFIX_STRLEN], lbuf[LOC_BUF];
	size_t i, nreach = 0;

	if (!r->from_template && !r->ndests && icmp_never_matches(j, r)) {
		for (i = 0; i < j->nrules; i++)
			if (j->rules[i].proto == icmp_pair(r->proto) && same_stmt(&j->rules[i], r))
				break;
		/* Unless it is half of "allow icmp, icmpv6": ping, whatever the family. */
		if (i == j->nrules)
			cwarn(c, &r->proto_loc,
			      "jail \"%s\" has no %s prefix, so this \"%s\" rule never matches",
			      j->name, r->proto == PROTO_ICMP ? "ipv4" : "ipv6",
			      proto_name(r->proto));
	}

	/* One statement's destinations are reported once, not per protocol. */
	for (i = 0; i < k; i++)
		if (same_stmt(&j->rules[i], r))
			return;

	for (i = 0; i < r->ndests; i++)
		if (r->dests[i].kind == DEST_HOST || jail_has(j, r->dests[i].pfx.family))
			nreach++;
	if (r->from_template && r->ndests && !nreach) {
		struct strbuf sb;

		sb_init(&sb);
		for (i = k; i < j->nrules; i++) {
			if (!same_stmt(&j->rules[i], r))
				continue;
			if (i > k)
				sb_putc(&sb, ',');
			rule_spec_str(&j->rules[i], &sb);
		}
		cerr(c, &r->use_loc,
		     "template \"%s\" allows %s only to %s destinations, but jail \"%s\" has no %s "
		     "prefix (%s)",
		     r->template, sb.s, j->has_v4 ? "IPv6" : "IPv4", j->name,
		     j->has_v4 ? "ipv6" : "ipv4", loc_str(&r->loc, lbuf, sizeof(lbuf)));
		sb_free(&sb);
		return;
	}
	for (i = 0; i < r->ndests; i++) {
		const struct dest *t = &r->dests[i];

		if (t->kind == DEST_HOST || jail_has(j, t->pfx.family))
			continue;
		if (r->from_template)
			cwarn(c, &r->use_loc,
			      "jail \"%s\" has no %s prefix, so it cannot reach %s allowed by "
			      "template \"%s\" (%s)",
			      j->name, family_word(t->pfx.family), prefix_str(&t->pfx, buf),
			      r->template, loc_str(&t->loc, lbuf, sizeof(lbuf)));
		else
			cerr(c, &t->loc, "jail \"%s\" has no %s prefix, so it cannot reach %s",
			     j->name, family_word(t->pfx.family), prefix_str(&t->pfx, buf));
	}
}

static void check_jail_rules(struct checker *c, const struct jail *j)
{
	size_t k;

	for (k = 0; k < j->nrules; k++) {
		const struct rule *r = &j->rules[k];

		/* Template rules were checked once, with their template. */
		if (!r->from_template) {
			check_rule_family(c, j->rules, j->nrules, k);
			check_rule_dests(c, j->rules, k);
		}
		if (j->backend == BACKEND_NETNS && (j->has_v4 || j->has_v6))
			check_rule_reach(c, j, k);
		check_rule_dup(c, j->rules, k, "jail", j->name);
	}
}

/*
 * Published ports are the host's: of two DNAT rules for one external port
 * the second would be silently dead, whichever jails they belong to.  A
 * publish copied from a template is reported at the "use" (the jail is
 * what the user is looking at) with a note at the template's line, and a
 * conflict inside one template was reported with the template.  One
 * consequence worth knowing: a publishing template such as web-server
 * fits one jail per host, as its ports do.
 */
static void check_publishes(struct checker *c, size_t idx)
{
	const struct jail *j = &c->p->jails[idx];
	char lbuf[LOC_BUF], owner[NAME_BUF];
	size_t i, k;

	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];
		const struct publish *q = NULL;
		const struct jail *o = j;
		uint32_t ref = earlier_publish(c, idx, pb);
		unsigned int lo, hi;
		struct strbuf where;
		struct loc at;

		if (ref) {
			o = &c->p->jails[pub_jail(c, ref)];
			q = &o->pubs[c->pubs[ref - 1].pub];
		}
		/* Else the jail's own: "publish tcp/80" twice in one jail. */
		for (k = 0; k < i && !q; k++) {
			const struct publish *x = &j->pubs[k];

			if (pb->from_template && x->from_template && x->template == pb->template)
				continue;
			if (pub_overlap(pb, x, &lo, &hi))
				q = x;
		}
		if (!q || !pub_overlap(pb, q, &lo, &hi))
			continue;
		at = pb->from_template ? pb->use_loc : next_word_loc(c, &pb->loc);
		sb_init(&where);
		sb_puts(&where,
			loc_str(q->from_template ? &q->use_loc : &q->loc, lbuf, sizeof(lbuf)));
		if (q->from_template)
			sb_printf(&where, ", template \"%s\"", q->template);
		snprintf(owner, sizeof(owner), "jail \"%s\"", o->name);
		pub_conflict(c, &at, pb, lo, hi, owner, where.s);
		if (pb->from_template)
			cnote(c, &pb->loc, "the publish comes from template \"%s\" here",
			      pb->template);
		sb_free(&where);
	}
	add_publishes(c, idx);
}

static void check_jail(struct checker *c, size_t idx)
{
	struct jail *j = &c->p->jails[idx];

	check_jail_name(c, idx);
	switch (j->backend) {
	case BACKEND_NONE:
		cerr(c, &j->loc,
		     "jail \"%s\" has no backend (add \"backend uid\" or \"backend netns\")",
		     j->name);
		/* An unknown user is worth knowing in the same run. */
		if (j->user)
			report_user(c, idx);
		break;
	case BACKEND_UID:
		check_uid_jail(c, idx);
		break;
	case BACKEND_NETNS:
		check_netns_jail(c, idx);
		break;
	}
	expand_uses(c, j);
	check_jail_rules(c, j);
	if (j->backend == BACKEND_NETNS)
		check_publishes(c, idx);
}

bool check_policy(struct policy *p, struct diag *d, const struct check_env *env)
{
	struct checker c = {.p = p, .d = d, .env = env};
	unsigned int errors = d->errors;
	size_t i;

	/*
	 * An empty policy would load a table that confines nobody: a file
	 * emptied by accident (a botched edit, a full disk) must not quietly
	 * unconfine every service.  Removing jailfw is its own verb.
	 */
	if (!p->njails) {
		struct loc at = {.file = p->nfiles ? p->files[0] : NULL};

		diag_error(
		    d, &at, 0,
		    "the policy defines no jail: applying it would leave every service unconfined");
		diag_note(d, &at, 0, "to remove jailfw's rules on purpose, run \"jailfw down\"");
	}
	resolve_users(&c);
	find_conflicts(&c);
	check_templates(&c);
	for (i = 0; i < p->njails; i++)
		check_jail(&c, i);
	checker_free(&c);
	return d->errors == errors;
}
