// SPDX-License-Identifier: GPL-2.0-or-later
#include "counters.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "nftinfo.h"
#include "nftload.h"
#include "state.h"
#include "util.h"

#define RECORD_MAGIC "jailfw-committed 6"
#define RECORD_MAGIC_V5 "jailfw-committed 5"
#define RECORD_MAGIC_V4 "jailfw-committed 4"
#define RECORD_MAGIC_V3 "jailfw-committed 3"
#define RECORD_MAGIC_V2 "jailfw-committed 2"

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	return hash64_add(h, &v, sizeof(v));
}

static uint64_t rotl64(uint64_t x, unsigned int r)
{
	return x << r | x >> (64 - r);
}

/*
 * The committed text's digest: 8 bytes a step (MurmurHash3's mixing), not
 * FNV-1a's one, since every apply digests a text of megabytes at 5000
 * jails, and a delta reads the last one and digests it too.  Change
 * detection, not security: the record is root's (state.h).
 */
static uint64_t digest_words(uint64_t h, const unsigned char *p, size_t len, size_t *done)
{
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		w *= 0x87c37b91114253d5ull;
		w = rotl64(w, 31) * 0x4cf5ad432745937full;
		h = rotl64(h ^ w, 27) * 5 + 0x52dce729;
	}
	*done = i;
	return h;
}

static uint64_t digest_final(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 33;
}

uint64_t counters_text_digest(const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), i;
	uint64_t h = digest_words(HASH64_INIT ^ len, p, len, &i);

	return digest_final(hash64_add(h, p + i, len - i));
}

/*
 * A line of a chain added to its signature the same way, the line's length
 * first (so "ab" "c" and "a" "bc" differ), the bytes after the last whole
 * word one at a time.
 */
static uint64_t sig_line(uint64_t h, const char *line, size_t len)
{
	const unsigned char *p = (const unsigned char *)line;
	size_t i;

	h = digest_words(rotl64(h, 17) ^ len, p, len, &i);
	return hash64_add(h, p + i, len - i);
}

/* ---- a jail's signature ---- */

/*
 * Its values mixed a word at a time; legacy: FNV-1a a byte at a time, as
 * records before version 5 have them (chain_line).
 */
static uint64_t sig_u64(uint64_t h, uint64_t v, bool legacy)
{
	if (legacy)
		return fnv_u64(h, v);
	return rotl64(h ^ (v * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full;
}

static uint64_t sig_bytes(uint64_t h, const void *p, size_t n, bool legacy)
{
	return legacy ? hash64_add(h, p, n) : sig_line(h, p, n);
}

/* A value summed over a set: mixed to the end, so that no bit stays put. */
static uint64_t sig_term(uint64_t h, bool legacy)
{
	return legacy ? h : digest_final(h);
}

static uint64_t prefix_sig(uint64_t h, const struct prefix *p, bool legacy)
{
	h = sig_u64(h, (uint64_t)p->family, legacy);
	h = sig_bytes(h, p->addr.b, p->family == AF_INET ? 4 : 16, legacy);
	return sig_u64(h, p->len, legacy);
}

static uint64_t rule_sig(const struct rule *r, bool legacy)
{
	uint64_t h = sig_u64(HASH64_INIT, r->proto, legacy);
	size_t i;

	/* Ports and destinations as written: a reordered list is a change. */
	for (i = 0; i < r->nports; i++)
		h = sig_u64(h, (uint64_t)r->ports[i].lo << 16 | r->ports[i].hi, legacy);
	h = sig_u64(h, 0xffffffffu, legacy);
	for (i = 0; i < r->ndests; i++) {
		h = sig_u64(h, r->dests[i].kind, legacy);
		if (r->dests[i].kind == DEST_PREFIX)
			h = prefix_sig(h, &r->dests[i].pfx, legacy);
	}
	return sig_term(h, legacy);
}

/*
 * What a jail's chains depend on besides their text (its uid is in the
 * verdict map, not in its chain): part of each chain's signature.
 */
static uint64_t jail_sig(const struct policy *p, const struct jail *j, bool legacy)
{
	uint64_t h, rules = 0, pubs = 0;
	char ifname[16];
	size_t i;

	h = sig_bytes(HASH64_INIT, j->name, strlen(j->name) + 1, legacy);
	h = sig_u64(h, j->backend, legacy);
	h = sig_u64(h, jail_log_drops(p, j), legacy);
	h = sig_u64(h, policy_fwmark(p), legacy);
	if (j->backend == BACKEND_UID) {
		h = sig_u64(h, j->uid, legacy);
	} else if (j->backend == BACKEND_NETNS) {
		jail_ifname_host(j, ifname);
		h = sig_bytes(h, ifname, strlen(ifname) + 1, legacy);
		h = sig_u64(h, (uint64_t)j->has_v4 << 1 | j->has_v6, legacy);
		if (j->has_v4)
			h = prefix_sig(h, &j->v4, legacy);
		if (j->has_v6)
			h = prefix_sig(h, &j->v6, legacy);
	}
	/* Rules in any order: the allowlist is their union. */
	for (i = 0; i < j->nrules; i++)
		rules += rule_sig(&j->rules[i], legacy);
	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];
		uint64_t ph = sig_u64(HASH64_INIT, pb->proto, legacy);

		ph = sig_u64(ph,
			     (uint64_t)pb->ext_lo << 32 | (uint64_t)pb->ext_hi << 16 | pb->int_lo,
			     legacy);
		pubs += sig_term(ph, legacy);
	}
	h = sig_u64(h, rules, legacy);
	return sig_u64(h, pubs, legacy);
}

/* ---- chains of rendered text ---- */

/*
 * The jails by name, hashed (open addressing, at most half full): a
 * chain's owner is looked up once per chain of a rendering of thousands.
 */
struct owners {
	const struct jail **slot;
	size_t mask;
};

static uint64_t owner_hash(const char *s, size_t n)
{
	return hash64_add(HASH64_INIT, s, n);
}

static void owners_build(const struct policy *p, struct owners *o)
{
	size_t i, k, n = 16;

	while (n < 2 * p->njails + 2)
		n *= 2;
	o->slot = xcalloc(n, sizeof(*o->slot));
	o->mask = n - 1;
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_UID && j->backend != BACKEND_NETNS)
			continue;
		for (k = owner_hash(j->name, strlen(j->name)) & o->mask; o->slot[k];
		     k = (k + 1) & o->mask)
			;
		o->slot[k] = j;
	}
}

/*
 * The jail whose own chain is NAME (the renderer's naming: uid_JAIL for a
 * uid jail, fwd_JAIL, fwdto_JAIL and in_JAIL for a netns jail), or NULL.
 */
static const struct jail *owner_find(const struct owners *o, const char *name, size_t n)
{
	static const struct {
		const char *prefix;
		size_t len;
		enum backend backend;
	} kinds[] = {{"uid_", 4, BACKEND_UID},
		     {"fwd_", 4, BACKEND_NETNS},
		     {"fwdto_", 6, BACKEND_NETNS},
		     {"in_", 3, BACKEND_NETNS}};
	const struct jail *j;
	size_t i, k, jn;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (n <= kinds[i].len || memcmp(name, kinds[i].prefix, kinds[i].len))
			continue;
		jn = n - kinds[i].len;
		for (k = owner_hash(name + kinds[i].len, jn) & o->mask; (j = o->slot[k]);
		     k = (k + 1) & o->mask)
			if (j->backend == kinds[i].backend &&
			    !strncmp(j->name, name + kinds[i].len, jn) && !j->name[jn])
				return j;
	}
	return NULL;
}

/* "\tchain NAME {": NAME's length, or 0 if line is no chain header. */
static size_t chain_header(const char *line, size_t len, const char **name)
{
	if (len < 10 || strncmp(line, "\tchain ", 7) || strncmp(line + len - 2, " {", 2))
		return 0;
	*name = line + 7;
	return len - 9;
}

/*
 * A rule line's length without its ' comment "..."': rendered comments
 * hold no quote and end the line, so the comment is found from the end
 * (memmem over each of 40000 lines cost a millisecond at 5000 jails).
 */
static size_t strip_comment(const char *line, size_t len)
{
	const char *q;

	if (len < 11 || line[len - 1] != '"')
		return len;
	q = memrchr(line, '"', len - 1);
	if (!q || q - line < 9 || memcmp(q - 9, " comment ", 9))
		return len;
	return (size_t)(q - 9 - line);
}

/* The offset just past the "counter" keyword of a rule line, or 0. */
static size_t counter_at(const char *line, size_t len)
{
	size_t i, end = strip_comment(line, len);

	for (i = 0; i + 7 <= end; i++) {
		if (memcmp(line + i, "counter", 7))
			continue;
		if ((i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t') &&
		    (i + 7 == end || line[i + 7] == ' '))
			return i + 7;
	}
	return 0;
}

/* A base chain's "type filter hook ..." line is a declaration, not a rule. */
static bool is_rule_line(const char *line, size_t len)
{
	if (len < 3 || line[0] != '\t' || line[1] != '\t')
		return false;
	return !(len > 7 && !strncmp(line + 2, "type ", 5) && memmem(line, len, " hook ", 6));
}

static int chain_text_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counters_chain_text *)a)->name,
		      ((const struct counters_chain_text *)b)->name);
}

void counters_chain_text_free(struct counters_chain_text *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(c[i].name);
		free(c[i].counted);
	}
	free(c);
}

/*
 * A chain's line added to its signature: legacy, the way of records before
 * version 5 (FNV-1a, a byte at a time: 3 ms over the 2 MB of 5000 jails),
 * so that counters survive the first apply after an upgrade.
 */
static uint64_t chain_line(uint64_t h, const char *line, size_t len, bool legacy)
{
	if (!legacy)
		return sig_line(h, line, len);
	h = hash64_add(h, line, len);
	return hash64_add(h, "\n", 1);
}

/*
 * counters_scan_text; without counted, no rule counts and counter
 * positions; sigs (may be NULL): jail_sig of each jail of p, not legacy.
 */
static size_t scan_text(const struct policy *p, const char *text, bool counted, bool legacy,
			const uint64_t *sigs, struct counters_chain_text **out)
{
	struct counters_chain_text *v = NULL, *cur = NULL;
	struct owners own;
	const struct jail *o;
	size_t n = 0, len, nl, ncounted = 0;
	const char *line, *next, *name;
	uint64_t h = 0;

	owners_build(p, &own);

	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		if (!cur) {
			nl = chain_header(line, len, &name);
			if (!nl)
				continue;
			cur = VEC_PUSH(v, n);
			cur->name = xstrndup(name, nl);
			ncounted = 0;
			h = legacy ? hash64_add(HASH64_INIT, line, len)
				   : sig_line(HASH64_INIT, line, len);
			continue;
		}
		if (len == 2 && !strncmp(line, "\t}", 2)) {
			o = owner_find(&own, cur->name, strlen(cur->name));
			if (o)
				h = sig_u64(h,
					    sigs && !legacy ? sigs[o - p->jails]
							    : jail_sig(p, o, legacy),
					    legacy);
			cur->sig = h;
			cur = NULL;
			continue;
		}
		h = chain_line(h, line, strip_comment(line, len), legacy);
		if (!counted || !is_rule_line(line, len))
			continue;
		if (cur->nrules == ncounted) {
			ncounted = ncounted ? 2 * ncounted : 8;
			cur->counted = xrealloc(cur->counted, ncounted * sizeof(bool));
		}
		cur->counted[cur->nrules++] = counter_at(line, len) != 0;
	}
	/* An unterminated chain is no chain: nothing is carried into it. */
	if (cur) {
		free(cur->name);
		free(cur->counted);
		n--;
	}
	free(own.slot);
	if (n)
		qsort(v, n, sizeof(*v), chain_text_cmp);
	*out = v;
	return n;
}

size_t counters_scan_text(const struct policy *p, const char *text,
			  struct counters_chain_text **out)
{
	return scan_text(p, text, true, false, NULL, out);
}

static int init_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counters_init *)a)->chain,
		      ((const struct counters_init *)b)->chain);
}

char *counters_rewrite(const char *text, const struct counters_init *chains, size_t n)
{
	const struct counters_init *cur = NULL;
	struct counters_init key;
	const char *line, *next, *name;
	struct strbuf sb;
	size_t len, nl, at, rule = 0;
	char *cname;

	sb_init(&sb);
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		len = next ? (size_t)(next - line + 1) : strlen(line);
		next = line + len;
		if (!cur) {
			nl = chain_header(line, len - (line[len - 1] == '\n'), &name);
			if (nl && n) {
				cname = xstrndup(name, nl);
				key.chain = cname;
				cur = bsearch(&key, chains, n, sizeof(key), init_cmp);
				free(cname);
				rule = 0;
			}
		} else if (!strncmp(line, "\t}\n", 3) || !strcmp(line, "\t}")) {
			cur = NULL;
		} else if (is_rule_line(line, len)) {
			at = rule < cur->nrules && cur->rules[rule].has ? counter_at(line, len) : 0;
			rule++;
			if (at) {
				sb_printf(&sb, "%.*s packets %" PRIu64 " bytes %" PRIu64, (int)at,
					  line, cur->rules[rule - 1].packets,
					  cur->rules[rule - 1].bytes);
				line += at;
				len -= at;
			}
		}
		sb_printf(&sb, "%.*s", (int)len, line);
	}
	return sb_steal(&sb);
}

/* ---- the record ---- */

static int obj_cmp(const void *a, const void *b)
{
	return strcmp(((const struct counters_obj *)a)->name,
		      ((const struct counters_obj *)b)->name);
}

void counters_record_free(struct counters_record *r)
{
	size_t i;

	for (i = 0; i < r->nchains; i++)
		free(r->chains[i].name);
	for (i = 0; i < r->nsets; i++)
		free(r->sets[i].name);
	for (i = 0; i < r->njails; i++)
		free(r->jails[i].name);
	free(r->chains);
	free(r->sets);
	free(r->jails);
	memset(r, 0, sizeof(*r));
}

const struct counters_obj *counters_record_chain(const struct counters_record *r, const char *name)
{
	struct counters_obj key = {.name = (char *)name};

	return r->nchains ? bsearch(&key, r->chains, r->nchains, sizeof(key), obj_cmp) : NULL;
}

const struct counters_obj *counters_record_set(const struct counters_record *r, const char *name)
{
	struct counters_obj key = {.name = (char *)name};

	return r->nsets ? bsearch(&key, r->sets, r->nsets, sizeof(key), obj_cmp) : NULL;
}

/*
 * The record is read at every apply and status, and holds a line per
 * chain: thousands.  sscanf() per line cost milliseconds, so the lines are
 * read by hand, exactly as record_format writes them.
 */

/* "WORD " at *s: true with *s past it. */
static bool rec_word(const char **s, const char *word, size_t n)
{
	if (strncmp(*s, word, n) || (*s)[n] != ' ')
		return false;
	*s += n + 1;
	return true;
}

/* 1 to 16 hexadecimal digits at *s, then a space or the end of the line. */
static bool rec_hex(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	size_t n;

	for (n = 0; n < 16; n++, p++) {
		unsigned int c = (unsigned char)*p;

		if (c >= '0' && c <= '9')
			x = x << 4 | (c - '0');
		else if (c >= 'a' && c <= 'f')
			x = x << 4 | (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x = x << 4 | (c - 'A' + 10);
		else
			break;
	}
	if (!n || (*p && *p != ' '))
		return false;
	*v = x;
	*s = *p ? p + 1 : p;
	return true;
}

/* A name of 1 to 259 bytes up to a space: its length, *s past the space. */
static size_t rec_name(const char **s)
{
	const char *sp = strchr(*s, ' ');
	size_t n = sp ? (size_t)(sp - *s) : 0;

	if (!n || n > 259)
		return 0;
	*s = sp + 1;
	return n;
}

static bool rec_genid(const char *s, uint32_t *genid)
{
	uint64_t v = 0;
	size_t n;

	for (n = 0; s[n] >= '0' && s[n] <= '9' && n < 10; n++)
		v = v * 10 + (uint64_t)(s[n] - '0');
	if (!n || s[n] || v > UINT32_MAX)
		return false;
	*genid = (uint32_t)v;
	return true;
}

/*
 * One object line after its keyword: NAME[ DIGEST][ SIG] (chains both,
 * sets a digest, jails a signature); false if malformed.  v NULL: only
 * checked.
 */
static bool rec_obj(const char *s, bool with_digest, bool with_sig, struct counters_obj **v,
		    size_t *n)
{
	struct counters_obj o = {NULL, 0, 0};
	const char *name = s;
	size_t len = rec_name(&s);

	if (!len || (with_digest && !rec_hex(&s, &o.digest)) ||
	    (with_sig && !rec_hex(&s, &o.sig)) || *s)
		return false;
	if (v) {
		o.name = xstrndup(name, len);
		*VEC_PUSH(*v, *n) = o;
	}
	return true;
}

static void rec_sort(struct counters_obj *v, size_t n)
{
	size_t i;

	/* Written sorted: sorting again is for a record edited by hand. */
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1].name, v[i].name) > 0)
			break;
	if (i < n)
		qsort(v, n, sizeof(*v), obj_cmp);
}

/*
 * Parse a record's text (consumed) into r; without objects, its chain and
 * set lines are only checked (a delta needs the generation and the
 * digest, not 5000 names in memory).
 */
static int record_parse(char *text, bool objects, struct counters_record *r)
{
	char *line, *next;
	const char *s;
	bool table_seen = false, current = false;

	line = text;
	next = strchr(line, '\n');
	if (next)
		*next++ = '\0';
	/*
	 * Versions 2 (no digest) and 3 (another digest) are read without
	 * their digest: the next apply loads the table in full again.
	 * Before version 5, signatures were taken the slow way (chain_line).
	 * Before version 6, no jails were listed: the next delta takes each
	 * as changed.
	 */
	if (!strcmp(line, RECORD_MAGIC) || !strcmp(line, RECORD_MAGIC_V5) ||
	    !strcmp(line, RECORD_MAGIC_V4))
		current = true;
	else if (strcmp(line, RECORD_MAGIC_V3) && strcmp(line, RECORD_MAGIC_V2))
		return -EINVAL;
	r->legacy_sigs = strcmp(line, RECORD_MAGIC) && strcmp(line, RECORD_MAGIC_V5);
	for (line = next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		s = line;
		if (rec_word(&s, "chain", 5)) {
			if (!rec_obj(s, true, true, objects ? &r->chains : NULL, &r->nchains))
				return -EINVAL;
		} else if (rec_word(&s, "set", 3)) {
			if (!rec_obj(s, true, false, objects ? &r->sets : NULL, &r->nsets))
				return -EINVAL;
		} else if (rec_word(&s, "jail", 4)) {
			/* Always kept: a delta compares them with the policy (delta.h). */
			if (!rec_obj(s, false, true, &r->jails, &r->njails))
				return -EINVAL;
		} else if (rec_word(&s, "genid", 5)) {
			if (!rec_genid(s, &r->genid))
				return -EINVAL;
		} else if (rec_word(&s, "digest", 6)) {
			if (!rec_hex(&s, &r->text_digest) || *s)
				return -EINVAL;
		} else if (rec_word(&s, "table", 5)) {
			if (!rec_hex(&s, &r->table_digest) || *s)
				return -EINVAL;
			table_seen = true;
		} else if (!strcmp(line, "pending")) {
			r->pending = true;
		} else if (*line) {
			return -EINVAL;
		}
	}
	if (table_seen == r->pending)
		return -EINVAL;
	if (!current)
		r->text_digest = 0;
	rec_sort(r->chains, r->nchains);
	rec_sort(r->sets, r->nsets);
	return 0;
}

static int record_load(const char *table, bool objects, struct counters_record *r)
{
	char *text = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = state_record_read(table, STATE_RECORD_COMMITTED, &text);
	if (err)
		return err;
	err = record_parse(text, objects, r);
	free(text);
	if (err)
		counters_record_free(r);
	return err;
}

int counters_record_load(const char *table, struct counters_record *r)
{
	return record_load(table, true, r);
}

/* " %016x": a digest as the record holds it. */
static void rec_put_hex(struct strbuf *sb, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[17];
	int i;

	buf[0] = ' ';
	for (i = 16; i > 0; i--, v >>= 4)
		buf[i] = digits[v & 15];
	sb_putn(sb, buf, sizeof(buf));
}

static void rec_put_obj(struct strbuf *sb, const char *kw, const struct counters_obj *o,
			bool with_digest, bool with_sig)
{
	sb_puts(sb, kw);
	sb_puts(sb, o->name);
	if (with_digest)
		rec_put_hex(sb, o->digest);
	if (with_sig)
		rec_put_hex(sb, o->sig);
	sb_putc(sb, '\n');
}

static void record_format(struct strbuf *sb, const struct counters_record *r)
{
	size_t i;

	sb_printf(sb, "%s\ngenid %" PRIu32 "\n", r->legacy_sigs ? RECORD_MAGIC_V4 : RECORD_MAGIC,
		  r->genid);
	if (r->text_digest)
		sb_printf(sb, "digest %016" PRIx64 "\n", r->text_digest);
	if (r->pending)
		sb_printf(sb, "pending\n");
	else
		sb_printf(sb, "table %016" PRIx64 "\n", r->table_digest);
	for (i = 0; i < r->nchains; i++)
		rec_put_obj(sb, "chain ", &r->chains[i], true, true);
	for (i = 0; i < r->nsets; i++)
		rec_put_obj(sb, "set ", &r->sets[i], true, false);
	for (i = 0; i < r->njails; i++)
		rec_put_obj(sb, "jail ", &r->jails[i], false, true);
}

static int record_write(const char *table, const struct counters_record *r)
{
	struct strbuf sb;
	int err;

	sb_init(&sb);
	record_format(&sb, r);
	err = state_record_write(table, STATE_RECORD_COMMITTED, sb.s, sb.len);
	sb_free(&sb);
	return err;
}

/* Names go into a whitespace-separated file: anything odd is left out. */
static bool counters_plain_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 256)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 127)
			return false;
	return true;
}

/* The kernel's digests of table t, as a settled record without signatures. */
static void record_of_table(const struct nftinfo_table *t, struct counters_record *r)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->genid = t->genid;
	r->table_digest = t->digest;
	for (i = 0; i < t->nchains; i++)
		if (counters_plain_name(t->chains[i].name))
			*VEC_PUSH(r->chains, r->nchains) = (struct counters_obj){
			    xstrdup(t->chains[i].name), t->chains[i].digest, 0};
	for (i = 0; i < t->nsets; i++)
		if (counters_plain_name(t->sets[i].name))
			*VEC_PUSH(r->sets, r->nsets) =
			    (struct counters_obj){xstrdup(t->sets[i].name), t->sets[i].digest, 0};
	/* nftinfo sorts chains and sets by name, as the record wants them. */
}

/*
 * Reading the table back right after the commit costs as much as a fifth
 * of the whole apply at 5000 jails (every chain, rule and element comes
 * back through nfnetlink and is digested).  So apply records only the
 * generation its commit made, the signatures of the rendered chains and
 * the text itself, as a "pending" record; the kernel's digests are taken
 * by whoever reads the table next (status, the next apply), which reads
 * it anyway: see counters_record_settle.
 */
void counters_last_load(const char *table, const char *text, struct counters_last *l)
{
	memset(l, 0, sizeof(*l));
	l->err = record_load(table, false, &l->rec);
	l->digest = counters_text_digest(text);
}

const uint64_t *counters_last_sigs(struct counters_last *l, const struct policy *p)
{
	size_t i;

	if (!l->sigs) {
		l->sigs = xcalloc(p->njails + 1, sizeof(*l->sigs));
		for (i = 0; i < p->njails; i++)
			l->sigs[i] = jail_sig(p, &p->jails[i], false);
	}
	return l->sigs;
}

void counters_last_free(struct counters_last *l)
{
	counters_record_free(&l->rec);
	free(l->sigs);
	l->sigs = NULL;
}

int counters_save(const struct policy *p, const char *text, struct counters_last *l)
{
	const char *table = policy_table(p);
	struct counters_chain_text *ct = NULL;
	struct counters_record r;
	const uint64_t *sigs;
	size_t i, nct, chains_cap = 0, jails_cap = 0;
	uint32_t genid;
	int err;

	/*
	 * Nothing committed since the record was written (an apply that
	 * found its ruleset in force): it still describes the table.
	 */
	err = nftinfo_genid(&genid);
	if (err)
		return err;
	if (!l->err && !l->forget_jails && genid == l->rec.genid)
		return 0;
	memset(&r, 0, sizeof(r));
	r.genid = genid;
	err = state_record_write(table, STATE_RECORD_TEXT, text, strlen(text));
	if (err)
		return err;
	r.pending = true;
	r.text_digest = l->digest;
	/* The signatures alone: the rules' counters matter to counters_carry only. */
	sigs = counters_last_sigs(l, p);
	nct = scan_text(p, text, false, false, sigs, &ct);
	r.chains = vec_reserve(NULL, 0, &chains_cap, nct, sizeof(*r.chains));
	for (i = 0; i < nct; i++) {
		if (counters_plain_name(ct[i].name)) {
			*VEC_PUSH_CAP(r.chains, r.nchains, chains_cap) =
			    (struct counters_obj){ct[i].name, 0, ct[i].sig};
			ct[i].name = NULL;
		}
	}
	counters_chain_text_free(ct, nct);
	r.jails = vec_reserve(NULL, 0, &jails_cap, p->njails, sizeof(*r.jails));
	for (i = 0; !l->forget_jails && i < p->njails; i++)
		if (counters_plain_name(p->jails[i].name))
			*VEC_PUSH_CAP(r.jails, r.njails, jails_cap) =
			    (struct counters_obj){xstrdup(p->jails[i].name), 0, sigs[i]};
	err = record_write(table, &r);
	counters_record_free(&r);
	return err;
}

/* In the throwaway namespace: the record of the table just loaded there. */
static char *readback_record(const char *table)
{
	struct nftinfo_table *t = NULL;
	struct counters_record r;
	struct strbuf sb;

	if (nftinfo_table_read(table, &t))
		return NULL;
	record_of_table(t, &r);
	nftinfo_table_free(t);
	sb_init(&sb);
	record_format(&sb, &r);
	counters_record_free(&r);
	return sb_steal(&sb);
}

/*
 * The digests of the table as jailfw committed it, when the generation
 * moved since (someone committed something, perhaps to another table):
 * the committed text loaded again in a throwaway namespace, read back
 * there.  The kernel holds the same text the same way wherever it is
 * loaded, and digests leave out handles and counter values.
 */
static int record_reference(const char *table, struct counters_record *ref)
{
	char *text = NULL, *out = NULL;
	struct policy dummy;
	struct diag quiet;
	int err;

	memset(ref, 0, sizeof(*ref));
	err = state_record_read(table, STATE_RECORD_TEXT, &text);
	if (err)
		return err;
	memset(&dummy, 0, sizeof(dummy));
	dummy.settings.table = (char *)table;
	diag_init(&quiet, NULL);
	quiet.out = fopen("/dev/null", "we");
	if (!quiet.out) {
		err = -errno;
		goto out;
	}
	err = nftload_run_isolated_readback(&dummy, text, readback_record, &out, &quiet);
	fclose(quiet.out);
	if (!err)
		err = record_parse(out, true, ref);
out:
	diag_free(&quiet);
	free(text);
	free(out);
	if (err)
		counters_record_free(ref);
	return err;
}

int counters_record_settle(const char *table, struct counters_record *r,
			   const struct nftinfo_table *live, bool persist)
{
	struct counters_record ref;
	const struct counters_obj *o;
	int err, lockfd;
	size_t i;

	if (!r->pending)
		return 0;
	if (live && live->genid == r->genid) {
		record_of_table(live, &ref);
	} else {
		err = record_reference(table, &ref);
		if (err)
			return err;
	}
	/* The kernel's objects, each chain with the signature apply gave it. */
	for (i = 0; i < ref.nchains; i++) {
		o = counters_record_chain(r, ref.chains[i].name);
		ref.chains[i].sig = o ? o->sig : 0;
	}
	ref.genid = r->genid;
	ref.text_digest = r->text_digest;
	ref.legacy_sigs = r->legacy_sigs;
	/* Of the policy, not of the kernel: as apply recorded them. */
	ref.jails = r->jails;
	ref.njails = r->njails;
	r->jails = NULL;
	r->njails = 0;
	counters_record_free(r);
	*r = ref;
	/*
	 * Settled for good, written back only while no apply or down is
	 * under way (it would write the record itself, and this one may
	 * already describe another table); otherwise, or if the write
	 * fails, the next reader settles again.
	 */
	if (persist && state_try_lock(&lockfd)) {
		if (!counters_record_load(table, &ref) && ref.pending && ref.genid == r->genid &&
		    ref.text_digest == r->text_digest)
			record_write(table, r);
		counters_record_free(&ref);
		state_unlock(lockfd);
	}
	return 0;
}

bool counters_is_current(const struct policy *p, const char *text, struct counters_last *l,
			 struct diag *d)
{
	const char *table = policy_table(p);
	char *live = NULL, *want = NULL;
	struct diag quiet;
	uint32_t genid;
	bool same = false;

	if (l->err || !l->rec.text_digest || l->rec.text_digest != l->digest ||
	    nftinfo_genid(&genid))
		return false;
	if (genid == l->rec.genid)
		return true;
	/*
	 * Something was committed since.  Failures here only mean "load it
	 * again", so they are not reported to the user.
	 */
	diag_init(&quiet, d->out);
	quiet.max_errors = 1;
	quiet.out = fopen("/dev/null", "we");
	if (quiet.out) {
		if (nftload_list_table(table, NFTLOAD_LIST_STATELESS, &live, &quiet) == 0 &&
		    nftload_run_isolated(p, text, NFTLOAD_LIST_STATELESS, &want, &quiet) == 0)
			same = !strcmp(live, want);
		fclose(quiet.out);
	}
	diag_free(&quiet);
	free(live);
	free(want);
	/*
	 * The table is what jailfw would load, rule for rule: the record
	 * describes it as of this generation (and a pending one may be
	 * settled from it, counters_record_settle).
	 */
	if (same) {
		struct counters_record full;

		l->rec.genid = genid;
		if (!counters_record_load(table, &full)) {
			full.genid = genid;
			record_write(table, &full);
			counters_record_free(&full);
		}
	}
	return same;
}

/* ---- carrying counters into a new text ---- */

/* The live rules line up with the new text's, counter for counter. */
static bool lines_up(const struct nftinfo_chain *live, const struct counters_chain_text *c)
{
	size_t i;

	if (live->nrules != c->nrules)
		return false;
	for (i = 0; i < c->nrules; i++)
		if (live->rules[i].has_counter != c->counted[i])
			return false;
	return true;
}

char *counters_carry(const struct policy *p, const char *text, struct counters_stats *st)
{
	struct counters_chain_text *ct = NULL;
	struct counters_init *init = NULL;
	struct counters_value *vals;
	struct counters_record rec;
	struct counters_stats dummy;
	struct nftinfo_table *t = NULL;
	size_t i, k, nct = 0, ninit = 0;
	char *out;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (counters_record_load(policy_table(p), &rec) ||
	    nftinfo_table_read(policy_table(p), &t) ||
	    counters_record_settle(policy_table(p), &rec, t, false)) {
		nftinfo_table_free(t);
		counters_record_free(&rec);
		return xstrdup(text);
	}
	nct = scan_text(p, text, true, rec.legacy_sigs, NULL, &ct);
	for (i = 0; i < nct; i++) {
		const struct counters_obj *ro = counters_record_chain(&rec, ct[i].name);
		const struct nftinfo_chain *live = nftinfo_chain_find(t, ct[i].name);
		bool any = false;

		if (!ro || !live)
			continue;
		if (ro->sig != ct[i].sig) {
			st->reset++;
			continue;
		}
		if (live->digest != ro->digest || !lines_up(live, &ct[i])) {
			st->edited++;
			continue;
		}
		vals = xcalloc(live->nrules, sizeof(*vals));
		for (k = 0; k < live->nrules; k++) {
			const struct nftinfo_rule *r = &live->rules[k];

			vals[k] = (struct counters_value){
			    r->has_counter && (r->packets || r->bytes), r->packets, r->bytes};
			any |= vals[k].has;
		}
		st->kept++;
		if (!any) {
			free(vals);
			continue;
		}
		*VEC_PUSH(init, ninit) = (struct counters_init){ct[i].name, vals, live->nrules};
	}
	/* ct is sorted by name, and so is init. */
	out = ninit ? counters_rewrite(text, init, ninit) : xstrdup(text);
	for (i = 0; i < ninit; i++)
		free((void *)init[i].rules);
	free(init);
	counters_chain_text_free(ct, nct);
	counters_record_free(&rec);
	nftinfo_table_free(t);
	return out;
}
