// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model -> nftables text, the common part: the table, comments, interning of
 * destination chains, port segmentation and the verdict map printer.  The
 * backends (render_uid.c, render_netns.c) decide what goes where.
 *
 * The shape is docs/ruleset.md's, chosen by measurement ("Why this shape"):
 * the number of sets and maps never grows with the number of jails (the
 * kernel looks sets up by name in a list, so per-jail sets make loading
 * quadratic), and there are no anonymous sets at all.
 */
#include "render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"
#include "util.h"

#define COMMENT_MAX 127 /* NFT_USERDATA comment: 128 bytes with the NUL */

static const struct render_backend *const backends[] = {
    &render_uid_backend,
    &render_netns_backend,
};

/* Grow arr (of elem-sized items) so that it holds at least n + 1. */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	if (*cap <= n)
		*cap = n + 1;
	return xrealloc(arr, *cap * elem);
}

/* ------------------------------------------------------------------ */
/* Emit helpers                                                         */

/*
 * A bounded text buffer for comments and quoted strings: appends are cut at
 * COMMENT_MAX bytes, and every byte outside a conservative set becomes '_'
 * (a file name may contain anything, even a double quote).
 */
struct cbuf {
	char s[COMMENT_MAX + 1];
	size_t n;
};

/* Letters, digits and " _-.:;,/+@=()" as a bitmap of ASCII. */
static bool safe_char(char ch)
{
	static const uint64_t lo = (1ull << ' ') | (1ull << '(') | (1ull << ')') | (1ull << '+') |
				   (1ull << ',') | (1ull << '-') | (1ull << '.') | (1ull << '/') |
				   (0x3ffull << '0') | (1ull << ':') | (1ull << ';') |
				   (1ull << '=');
	static const uint64_t hi = (1ull << ('@' - 64)) | (0x3ffffffull << ('A' - 64)) |
				   (1ull << ('_' - 64)) | (0x3ffffffull << ('a' - 64));
	unsigned char u = (unsigned char)ch;

	if (u < 64)
		return (lo >> u) & 1;
	if (u < 128)
		return (hi >> (u - 64)) & 1;
	return false;
}

static void cb_puts(struct cbuf *cb, const char *s)
{
	for (; *s && cb->n < COMMENT_MAX; s++)
		cb->s[cb->n++] = safe_char(*s) ? *s : '_';
}

/* Text known to be safe (our own literals, digits), still bounded. */
static void cb_putraw(struct cbuf *cb, const char *s, size_t n)
{
	if (n > COMMENT_MAX - cb->n)
		n = COMMENT_MAX - cb->n;
	memcpy(cb->s + cb->n, s, n);
	cb->n += n;
}

static void cb_putu(struct cbuf *cb, unsigned int v)
{
	char buf[16];
	size_t i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cb_putraw(cb, buf + i, sizeof(buf) - i);
}

static void cb_emit(struct strbuf *sb, struct cbuf *cb)
{
	rsb_putn(sb, cb->s, cb->n);
}

void render_put_ident(struct strbuf *sb, const char *prefix, const char *name)
{
	char buf[128];
	size_t n = 0;
	const char *s;

	/*
	 * The parser admits only [a-z0-9][a-z0-9_-]* as jail names, and a
	 * fixed prefix ending in '_' in front of such a name is always a
	 * valid nft identifier, never a keyword.  Anything else would be a
	 * bug upstream; replace it rather than emit broken syntax.
	 */
	sb_puts(sb, prefix);
	for (s = name; *s; s++) {
		bool ok =
		    (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';

		buf[n++] = ok ? *s : '_';
		if (n == sizeof(buf) - 1) {
			buf[n] = '\0';
			sb_puts(sb, buf);
			n = 0;
		}
	}
	buf[n] = '\0';
	sb_puts(sb, buf);
}

void render_put_quoted(struct strbuf *sb, const char *s)
{
	struct cbuf cb = {.n = 0};

	cb_puts(&cb, s);
	rsb_putc(sb, '"');
	cb_emit(sb, &cb);
	rsb_putc(sb, '"');
}

void render_put_comment(struct strbuf *sb, const char *text)
{
	struct cbuf cb = {.n = 0};

	cb_puts(&cb, text);
	RSB_LIT(sb, " comment \"");
	cb_emit(sb, &cb);
	rsb_putc(sb, '"');
}

static const char *render_base_name(const char *path)
{
	const char *s;

	if (!path)
		return "?";
	s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int file_addr_cmp(const void *a, const void *b, void *files)
{
	uintptr_t x = (uintptr_t)((char **)files)[*(const size_t *)a];
	uintptr_t y = (uintptr_t)((char **)files)[*(const size_t *)b];

	return (x > y) - (x < y);
}

/* The index of file in p->files, or SIZE_MAX. */
static size_t file_index(struct rctx *c, const char *file)
{
	size_t lo = 0, hi = c->p->nfiles, mid;

	if (c->last_file < c->p->nfiles && c->p->files[c->last_file] == file)
		return c->last_file;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((uintptr_t)c->p->files[c->fbyaddr[mid]] < (uintptr_t)file)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->p->nfiles && c->p->files[c->fbyaddr[lo]] == file)
		return c->last_file = c->fbyaddr[lo];
	return SIZE_MAX;
}

/*
 * "FILE:LINE", FILE as policy_file_labels() names it.  Locations point into
 * p->files, whose sanitised labels are computed once: comments are a good
 * part of the text.  A policy may have thousands of drop-in files: the
 * file is found by the address of its name, the last one found first.
 */
static void cb_loc(struct rctx *c, struct cbuf *cb, const struct loc *l)
{
	const char *name = NULL;
	size_t i = l->file ? file_index(c, l->file) : SIZE_MAX;

	if (i != SIZE_MAX)
		name = c->fnames[i];
	if (name) {
		cb_putraw(cb, name, strlen(name));
	} else {
		cb_puts(cb, render_base_name(l->file));
	}
	if (cb->n < COMMENT_MAX)
		cb->s[cb->n++] = ':';
	cb_putu(cb, l->line);
}

void render_put_loc_comment(struct rctx *c, const struct loc *l, const char *suffix)
{
	struct strbuf *sb = c->sb;
	struct cbuf cb = {.n = 0};

	cb_loc(c, &cb, l);
	if (suffix)
		cb_putraw(&cb, suffix, strlen(suffix));
	RSB_LIT(sb, " comment \"");
	cb_emit(sb, &cb);
	rsb_putc(sb, '"');
}

void render_put_jail_comment(struct rctx *c, const struct jail *j)
{
	const struct rjail *r = &c->rj[j - c->p->jails];

	rsb_putn(c->sb, c->text.s + r->cmt_off, r->cmt_len);
}

void render_put_ifname(struct rctx *c, const struct jail *j)
{
	const struct rjail *r = &c->rj[j - c->p->jails];

	rsb_putn(c->sb, c->text.s + r->ifq_off, r->ifq_len);
}

void render_put_jail_ident(struct rctx *c, const char *prefix, const struct jail *j)
{
	const struct rjail *r = &c->rj[j - c->p->jails];

	rsb_putn(c->sb, prefix, strlen(prefix));
	rsb_putn(c->sb, c->text.s + r->name_off, r->name_len);
}

/* "FILE:LINE", or "TEMPLATE.conf:LINE via FILE:LINE" for a template's. */
static void put_origin_comment(struct rctx *c, const struct loc *l, bool from_template,
			       const struct loc *use_loc)
{
	struct strbuf *sb = c->sb;
	struct cbuf cb = {.n = 0};

	cb_loc(c, &cb, l);
	if (from_template) {
		cb_putraw(&cb, " via ", 5);
		cb_loc(c, &cb, use_loc);
	}
	RSB_LIT(sb, " comment \"");
	cb_emit(sb, &cb);
	rsb_putc(sb, '"');
}

void render_put_rule_comment(struct rctx *c, const struct rule *r)
{
	put_origin_comment(c, &r->loc, r->from_template, &r->use_loc);
}

void render_put_publish_comment(struct rctx *c, const struct publish *pb)
{
	put_origin_comment(c, &pb->loc, pb->from_template, &pb->use_loc);
}

void render_put_prefix(struct strbuf *sb, const struct prefix *pfx)
{
	char buf[PREFIX_STRLEN];
	size_t i;

	if (pfx->family != AF_INET) {
		sb_puts(sb, prefix_str(pfx, buf));
		return;
	}
	/* The common case, without inet_ntop's sprintf per octet. */
	for (i = 0; i < 4; i++) {
		if (i)
			rsb_putc(sb, '.');
		render_put_u(sb, pfx->addr.b[i]);
	}
	if (pfx->len != 32) {
		rsb_putc(sb, '/');
		render_put_u(sb, pfx->len);
	}
}

void render_put_u(struct strbuf *sb, unsigned long v)
{
	char buf[24];
	size_t i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	rsb_putn(sb, buf + i, sizeof(buf) - 1 - i);
}

void render_put_ports(struct strbuf *sb, uint16_t lo, uint16_t hi)
{
	render_put_u(sb, lo);
	if (hi != lo) {
		rsb_putc(sb, '-');
		render_put_u(sb, hi);
	}
}

void render_put_map(struct rctx *c, enum rmap map, const char *name, const char *type,
		    render_key_fn key)
{
	struct strbuf *sb = c->sb;
	bool first = true;
	size_t i;

	if (!c->map_used[map])
		return;
	sb_printf(sb, "\tmap %s {\n\t\ttype %s : verdict\n", name, type);
	/*
	 * Concatenations with ranges need the pipapo set type, chosen by
	 * "flags interval"; without ranges a hash is cheaper to load.
	 */
	if (c->map_interval[map])
		RSB_LIT(sb, "\t\tflags interval\n");
	RSB_LIT(sb, "\t\telements = { ");
	for (i = 0; i < c->nelems; i++) {
		const struct relem *e = &c->elems[i];

		if (e->map != map)
			continue;
		if (!first)
			RSB_LIT(sb, ",\n\t\t\t     ");
		first = false;
		key(c, e);
		render_put_rule_comment(c, e->src);
		RSB_LIT(sb, " : jump ");
		sb_puts(sb, c->dsts[e->dst].name);
	}
	RSB_LIT(sb, " }\n\t}\n");
}

void render_put_log(struct rctx *c, const struct jail *j)
{
	const struct policy *p = c->p;
	const struct loc *l;
	char prefix[128];

	if (!jail_log_drops(p, j))
		return;
	l = j->log_drops != TRI_UNSET ? &j->log_drops_loc : &p->settings.log_drops_loc;
	if (!l->file)
		l = &j->loc;
	/* NF_LOG_PREFIXLEN is 128 with the NUL; monitor parses "NAME: ". */
	snprintf(prefix, sizeof(prefix), "jailfw drop %.100s: ", j->name);
	RSB_LIT(c->sb, "\t\tlimit rate 10/second burst 20 packets log prefix ");
	render_put_quoted(c->sb, prefix);
	sb_printf(c->sb, " group %u", DEFAULT_LOG_GROUP);
	render_put_loc_comment(c, l, NULL);
	rsb_putc(c->sb, '\n');
}

void render_put_jail_tail(struct rctx *c, const struct jail *j, const char *common)
{
	struct strbuf *sb = c->sb;

	RSB_LIT(sb, "\t\tcounter jump ");
	sb_puts(sb, common);
	render_put_jail_comment(c, j);
	rsb_putc(sb, '\n');
	render_put_log(c, j);
	RSB_LIT(sb, "\t\tcounter drop");
	render_put_jail_comment(c, j);
	RSB_LIT(sb, "\n\t}\n");
}

/* ------------------------------------------------------------------ */
/* Destination unions and their interning                               */

/*
 * Most arrays sorted here have a handful of entries (the pieces of one
 * jail); insertion sort beats qsort's setup by far for those.  Stable and
 * deterministic either way.
 */
static void sort_small(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base, tmp[128];
	size_t i, k;

	if (n > 16 || size > sizeof(tmp)) {
		if (n > 1)
			qsort(base, n, size, cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		/* Mostly in order already (the rules' order): no copies then. */
		if (cmp(b + (i - 1) * size, b + i * size) <= 0)
			continue;
		memcpy(tmp, b + i * size, size);
		for (k = i; k > 0 && cmp(b + (k - 1) * size, tmp) > 0; k--)
			memcpy(b + k * size, b + (k - 1) * size, size);
		memcpy(b + k * size, tmp, size);
	}
}

static size_t render_addr_bytes(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int render_pfx_cmp(const struct prefix *a, const struct prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	r = memcmp(a->addr.b, b->addr.b, render_addr_bytes(a->family));
	if (r)
		return r;
	return (int)a->len - (int)b->len;
}

static int rpfx_cmp(const void *va, const void *vb)
{
	const struct rpfx *a = va, *b = vb;
	int r = render_pfx_cmp(&a->pfx, &b->pfx);

	if (r)
		return r;
	return a->rule_idx < b->rule_idx ? -1 : a->rule_idx > b->rule_idx;
}

/*
 * Sort and drop every prefix contained in another of the union (duplicates
 * included): interval sets refuse overlapping elements.  Prefixes either
 * nest or are disjoint, and sorted by address then length a container comes
 * before what it contains, so comparing with the last kept one suffices.
 * Returns the new count.
 */
static size_t normalise_pfx(struct rpfx *v, size_t n)
{
	size_t i, k = 0;

	if (!n)
		return 0; /* v may be NULL */
	sort_small(v, n, sizeof(*v), rpfx_cmp);
	for (i = 0; i < n; i++) {
		if (k && prefix_contains(&v[k - 1].pfx, &v[i].pfx))
			continue;
		v[k++] = v[i];
	}
	return k;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

/* Prefixes are masked, so the unused address bytes are zero. */
static uint64_t union_hash(unsigned int flags, const struct rpfx *v, size_t n)
{
	uint64_t h = mix(0xcbf29ce484222325ull, flags), w[2];
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(w, v[i].pfx.addr.b, sizeof(w));
		h = mix(h, ((uint64_t)v[i].pfx.family << 8) | v[i].pfx.len);
		h = mix(h, w[0]);
		h = mix(h, w[1]);
	}
	return h;
}

static bool union_equal(unsigned int fa, const struct rpfx *a, size_t na, unsigned int fb,
			const struct rpfx *b, size_t nb)
{
	size_t i;

	if (fa != fb || na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (render_pfx_cmp(&a[i].pfx, &b[i].pfx))
			return false;
	return true;
}

static const char *fixed_dst_name(unsigned int flags)
{
	switch (flags) {
	case DSTF_UID_ANY:
		return "dst_any";
	case DSTF_UID_HOST:
		return "dst_host";
	case DSTF_UID_ANY | DSTF_UID_HOST:
		return "dst_all";
	case DSTF_NET_ANY:
		return "dst_any_net";
	case DSTF_HOSTIN:
		return "dst_hostin";
	}
	return NULL;
}

static void htab_insert(struct rctx *c, size_t idx)
{
	size_t mask = c->hcap - 1, h = (size_t)c->dsts[idx].hash & mask;

	while (c->htab[h])
		h = (h + 1) & mask;
	c->htab[h] = idx + 1;
}

static void htab_grow(struct rctx *c)
{
	size_t i;

	free(c->htab);
	c->hcap = c->hcap ? c->hcap * 2 : 64;
	c->htab = xcalloc(c->hcap, sizeof(*c->htab));
	for (i = 0; i < c->ndsts; i++)
		htab_insert(c, i);
}

/*
 * The dst chain for a normalised union, created on first use.  Its name
 * comes from its contents, not from the order of first use: a jail added
 * or removed then leaves every other jail's dst chains and sets as they
 * were, and the delta apply (docs/ruleset.md) touches its own alone.  Two
 * unions of the same 64-bit hash, as rare as that is, are told apart by a
 * suffix in the order of first use (both sit on the same probe run).
 */
static size_t intern(struct rctx *c, unsigned int flags, const struct rule *any_src,
		     const struct rule *host_src, const struct rpfx *v, size_t n)
{
	uint64_t hash = union_hash(flags, v, n);
	size_t mask, h, idx, i, same = 0;
	struct rdst *d;
	const char *fixed;

	if ((c->ndsts + 1) * 2 > c->hcap)
		htab_grow(c);
	mask = c->hcap - 1;
	for (h = (size_t)hash & mask; c->htab[h]; h = (h + 1) & mask) {
		d = &c->dsts[c->htab[h] - 1];
		if (d->hash != hash)
			continue;
		if (union_equal(d->flags, d->pfx, d->npfx, flags, v, n))
			return c->htab[h] - 1;
		same++;
	}

	idx = c->ndsts;
	d = VEC_PUSH(c->dsts, c->ndsts);
	d->flags = flags;
	d->any_src = any_src;
	d->host_src = host_src;
	d->hash = hash;
	d->npfx = n;
	d->pfx = xmalloc((n ? n : 1) * sizeof(*d->pfx));
	if (n)
		memcpy(d->pfx, v, n * sizeof(*v));
	for (i = 0; i < n && v[i].pfx.family == AF_INET; i++)
		;
	d->nv4 = i;
	fixed = n ? NULL : fixed_dst_name(flags);
	if (fixed)
		snprintf(d->name, sizeof(d->name), "%s", fixed);
	else if (!same)
		snprintf(d->name, sizeof(d->name), "dst_%016" PRIx64, hash);
	else
		snprintf(d->name, sizeof(d->name), "dst_%016" PRIx64 "_%zu", hash, same + 1);
	htab_insert(c, idx);
	return idx;
}

/* ------------------------------------------------------------------ */
/* Segmentation                                                         */

static void add_piece(struct rctx *c, enum rmap map, enum proto proto, uint16_t lo, uint16_t hi,
		      unsigned int flags, bool prefixes, const struct rule *r, size_t rule_idx)
{
	struct rpiece *pc;

	/* Reused from jail to jail: keep the capacity. */
	c->pieces = grow(c->pieces, &c->cpieces, c->npieces, sizeof(*c->pieces));
	pc = &c->pieces[c->npieces++];

	pc->map = map;
	pc->proto = proto;
	pc->lo = lo;
	pc->hi = hi;
	pc->flags = flags;
	pc->prefixes = prefixes;
	pc->rule = r;
	pc->rule_idx = rule_idx;
}

void render_add_rule(struct rctx *c, const struct rule *r, size_t rule_idx, enum rmap ports_map,
		     enum rmap protos_map, unsigned int flags, bool prefixes)
{
	size_t k;

	/* tcp or udp without ports is a whole protocol, like icmp. */
	if (!proto_has_ports(r->proto) || !r->nports) {
		add_piece(c, protos_map, r->proto, 0, 0, flags, prefixes, r, rule_idx);
		return;
	}
	for (k = 0; k < r->nports; k++)
		add_piece(c, ports_map, r->proto, r->ports[k].lo, r->ports[k].hi, flags, prefixes,
			  r, rule_idx);
}

/* A disjoint port segment with its destination union. */
struct seg {
	enum rmap map;
	enum proto proto;
	uint16_t lo, hi;
	unsigned int flags;
	const struct rule *any_src, *host_src;
	size_t pfx_off, npfx; /* into scratch prefixes */
	size_t rule_idx;      /* first contributing rule */
	const struct rule *src;
};

struct render_scratch {
	struct seg *segs;
	size_t nsegs, csegs;
	struct rpfx *pfx;
	size_t npfx, cpfx;
	uint32_t *bnd;
	size_t cbnd;
	size_t *active;
	size_t cactive;
};

static int piece_cmp(const void *va, const void *vb)
{
	const struct rpiece *a = va, *b = vb;

	if (a->map != b->map)
		return a->map < b->map ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->rule_idx != b->rule_idx)
		return a->rule_idx < b->rule_idx ? -1 : 1;
	return (int)a->hi - (int)b->hi;
}

static int seg_cmp(const void *va, const void *vb)
{
	const struct seg *a = va, *b = vb;

	if (a->rule_idx != b->rule_idx)
		return a->rule_idx < b->rule_idx ? -1 : 1;
	if (a->map != b->map)
		return a->map < b->map ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return (int)a->lo - (int)b->lo;
}

static int u32_cmp(const void *va, const void *vb)
{
	uint32_t a = *(const uint32_t *)va, b = *(const uint32_t *)vb;

	return a < b ? -1 : a > b;
}

/*
 * A segment's prefixes in the scratch.  The scratch array is NULL until
 * the first prefix: NULL + 0 is undefined behaviour in C even unused.
 */
static struct rpfx *seg_pfx(const struct render_scratch *x, size_t off)
{
	return x->pfx ? x->pfx + off : NULL;
}

/* Fill s with the union of the active pieces; prefixes go to the scratch. */
static void union_of(struct render_scratch *x, struct seg *s, const struct rpiece *pieces,
		     const size_t *active, size_t nactive)
{
	size_t i, k, any_idx = SIZE_MAX, host_idx = SIZE_MAX;

	s->flags = 0;
	s->any_src = s->host_src = NULL;
	s->rule_idx = SIZE_MAX;
	s->src = NULL;
	s->pfx_off = x->npfx;
	for (i = 0; i < nactive; i++) {
		const struct rpiece *pc = &pieces[active[i]];

		s->flags |= pc->flags;
		if (pc->rule_idx < s->rule_idx) {
			s->rule_idx = pc->rule_idx;
			s->src = pc->rule;
		}
		if ((pc->flags & (DSTF_UID_ANY | DSTF_NET_ANY)) && pc->rule_idx < any_idx) {
			any_idx = pc->rule_idx;
			s->any_src = pc->rule;
		}
		if ((pc->flags & (DSTF_UID_HOST | DSTF_HOSTIN)) && pc->rule_idx < host_idx) {
			host_idx = pc->rule_idx;
			s->host_src = pc->rule;
		}
		if (!pc->prefixes)
			continue;
		for (k = 0; k < pc->rule->ndests; k++) {
			const struct dest *d = &pc->rule->dests[k];
			struct rpfx *rp;

			if (d->kind != DEST_PREFIX)
				continue;
			x->pfx = grow(x->pfx, &x->cpfx, x->npfx, sizeof(*x->pfx));
			rp = &x->pfx[x->npfx++];
			rp->pfx = d->pfx;
			prefix_mask(&rp->pfx); /* interval sets refuse host bits */
			rp->src = pc->rule;
			rp->rule_idx = pc->rule_idx;
		}
	}
	s->npfx = x->npfx - s->pfx_off;
	/*
	 * A union that already accepts everything its prefixes could needs
	 * none: "any" of either backend (a uid jail's prefixes stop short of
	 * loopback as its "any" does), the host alone.
	 */
	if (s->flags & (DSTF_NET_ANY | DSTF_HOSTIN | DSTF_UID_ANY))
		s->npfx = 0;
	s->npfx = normalise_pfx(seg_pfx(x, s->pfx_off), s->npfx);
	x->npfx = s->pfx_off + s->npfx;
	if (!s->npfx)
		s->flags &= ~DSTF_UID_PFX;
}

/*
 * Segment one (map, proto) group of pieces, sorted by lo: split the port
 * space at every boundary, give each segment the union of the pieces
 * covering it, merge neighbours with equal unions.  Map keys must not
 * overlap (a hash refuses duplicates, an interval set "conflicting
 * intervals"), while allow rules may overlap freely.
 */
static void segment_group(struct render_scratch *x, const struct rpiece *pieces, size_t n)
{
	size_t nb = 0, i, k, next = 0, nactive = 0;
	struct seg *prev = NULL;

	x->bnd = grow(x->bnd, &x->cbnd, 2 * n, sizeof(*x->bnd));
	for (i = 0; i < n; i++) {
		x->bnd[nb++] = pieces[i].lo;
		x->bnd[nb++] = (uint32_t)pieces[i].hi + 1;
	}
	sort_small(x->bnd, nb, sizeof(*x->bnd), u32_cmp);
	for (i = k = 0; i < nb; i++)
		if (!k || x->bnd[k - 1] != x->bnd[i])
			x->bnd[k++] = x->bnd[i];
	nb = k;

	for (i = 0; i + 1 < nb; i++) {
		uint32_t b = x->bnd[i], e = x->bnd[i + 1] - 1;
		struct seg *s;

		while (next < n && pieces[next].lo <= b) {
			x->active = grow(x->active, &x->cactive, nactive, sizeof(*x->active));
			x->active[nactive++] = next++;
		}
		for (k = 0; k < nactive;) {
			if (pieces[x->active[k]].hi < b)
				x->active[k] = x->active[--nactive];
			else
				k++;
		}
		if (!nactive) {
			prev = NULL;
			continue;
		}
		x->segs = grow(x->segs, &x->csegs, x->nsegs, sizeof(*x->segs));
		s = &x->segs[x->nsegs];
		prev = x->nsegs && prev ? &x->segs[x->nsegs - 1] : NULL;
		s->map = pieces[0].map;
		s->proto = pieces[0].proto;
		s->lo = (uint16_t)b;
		s->hi = (uint16_t)e;
		/* Active order varies with removals; the union is sorted. */
		union_of(x, s, pieces, x->active, nactive);
		if (prev && prev->hi + 1u == b &&
		    union_equal(prev->flags, seg_pfx(x, prev->pfx_off), prev->npfx, s->flags,
				seg_pfx(x, s->pfx_off), s->npfx)) {
			prev->hi = s->hi;
			if (s->rule_idx < prev->rule_idx) {
				prev->rule_idx = s->rule_idx;
				prev->src = s->src;
			}
			x->npfx = s->pfx_off;
			continue;
		}
		x->nsegs++;
		prev = s;
	}
}

void render_flush_jail(struct rctx *c, const struct jail *j)
{
	struct render_scratch *x = c->scr;
	size_t i, start;

	x->nsegs = 0;
	x->npfx = 0;
	sort_small(c->pieces, c->npieces, sizeof(*c->pieces), piece_cmp);
	for (start = 0; start < c->npieces; start = i) {
		for (i = start; i < c->npieces && c->pieces[i].map == c->pieces[start].map &&
				c->pieces[i].proto == c->pieces[start].proto;
		     i++)
			;
		segment_group(x, c->pieces + start, i - start);
	}
	c->npieces = 0;

	/* Policy order: numbering of dst chains follows the rules. */
	sort_small(x->segs, x->nsegs, sizeof(*x->segs), seg_cmp);
	for (i = 0; i < x->nsegs; i++) {
		const struct seg *s = &x->segs[i];
		struct relem *e = VEC_PUSH(c->elems, c->nelems);

		e->map = s->map;
		e->jail = j;
		e->proto = s->proto;
		e->lo = s->lo;
		e->hi = s->hi;
		e->src = s->src;
		e->dst =
		    intern(c, s->flags, s->any_src, s->host_src, seg_pfx(x, s->pfx_off), s->npfx);
		c->map_used[s->map] = true;
		if (s->lo != s->hi)
			c->map_interval[s->map] = true;
	}
}

/* ------------------------------------------------------------------ */
/* dst chains and their sets                                            */

static void render_put_accept(struct rctx *c)
{
	rsb_putn(c->sb, c->mark, c->marklen);
	RSB_LIT(c->sb, " accept");
}

static void put_dst_set(struct rctx *c, const struct rdst *d, size_t from, size_t to,
			const char *fam)
{
	struct strbuf *sb = c->sb;
	size_t i;

	/* Two rules are cheaper than a set; more, and a set wins. */
	if (to - from <= 2)
		return;
	sb_printf(sb, "\tset %s_%s {\n\t\ttype %s\n\t\tflags interval\n", d->name, fam,
		  !strcmp(fam, "v4") ? "ipv4_addr" : "ipv6_addr");
	RSB_LIT(sb, "\t\telements = { ");
	for (i = from; i < to; i++) {
		if (i > from)
			RSB_LIT(sb, ",\n\t\t\t     ");
		render_put_prefix(sb, &d->pfx[i].pfx);
		render_put_rule_comment(c, d->pfx[i].src);
	}
	RSB_LIT(sb, " }\n\t}\n");
}

static void put_dst_sets(struct rctx *c)
{
	size_t i;

	for (i = 0; i < c->ndsts; i++) {
		const struct rdst *d = &c->dsts[i];

		put_dst_set(c, d, 0, d->nv4, "v4");
		put_dst_set(c, d, d->nv4, d->npfx, "v6");
	}
}

static void put_dst_family(struct rctx *c, const struct rdst *d, size_t from, size_t to,
			   const char *fam)
{
	/*
	 * A uid jail's packet to one of the host's own addresses leaves
	 * through lo, whatever prefix holds that address: the host is
	 * reached only through "to host" (docs/ruleset.md).
	 */
	const char *match =
	    d->flags & DSTF_UID_PFX
		? (!strcmp(fam, "v4") ? "oif != \"lo\" ip daddr " : "oif != \"lo\" ip6 daddr ")
		: (!strcmp(fam, "v4") ? "ip daddr " : "ip6 daddr ");
	struct strbuf *sb = c->sb;
	size_t i;

	if (to - from > 2) {
		sb_printf(sb, "\t\t%s@%s_%s ", match, d->name, fam);
		render_put_accept(c);
		render_put_rule_comment(c, d->pfx[from].src);
		rsb_putc(sb, '\n');
		return;
	}
	for (i = from; i < to; i++) {
		RSB_LIT(sb, "\t\t");
		sb_puts(sb, match);
		render_put_prefix(sb, &d->pfx[i].pfx);
		rsb_putc(sb, ' ');
		render_put_accept(c);
		render_put_rule_comment(c, d->pfx[i].src);
		rsb_putc(sb, '\n');
	}
}

/*
 * A dst chain accepts (and marks) what its union allows and otherwise
 * returns: the packet goes on to the next lookup of the common chain and
 * finally to the jail's counted drop.  Shared chains (no prefixes) are
 * infrastructure and say what they are; chains with prefixes name the rule
 * that first needed them.
 */
static void put_dst_chain(struct rctx *c, const struct rdst *d)
{
	struct strbuf *sb = c->sb;
	bool fixed = !d->npfx;

	RSB_LIT(sb, "\tchain ");
	sb_puts(sb, d->name);
	RSB_LIT(sb, " {\n");
	if ((d->flags & (DSTF_UID_ANY | DSTF_UID_HOST)) == (DSTF_UID_ANY | DSTF_UID_HOST)) {
		RSB_LIT(sb, "\t\t");
		render_put_accept(c);
		render_put_comment(sb, "any destination and the host");
		rsb_putc(sb, '\n');
	} else if (d->flags & DSTF_UID_ANY) {
		RSB_LIT(sb, "\t\toif != \"lo\" ");
		render_put_accept(c);
		if (fixed)
			render_put_comment(sb, "any destination but the host");
		else
			render_put_rule_comment(c, d->any_src);
		rsb_putc(sb, '\n');
	} else if (d->flags & DSTF_UID_HOST) {
		RSB_LIT(sb, "\t\toif \"lo\" ");
		render_put_accept(c);
		if (fixed)
			render_put_comment(sb, "the host (loopback)");
		else
			render_put_rule_comment(c, d->host_src);
		rsb_putc(sb, '\n');
	}
	if (d->flags & (DSTF_NET_ANY | DSTF_HOSTIN)) {
		RSB_LIT(sb, "\t\t");
		render_put_accept(c);
		render_put_comment(sb, d->flags & DSTF_HOSTIN ? "the host" : "any destination");
		rsb_putc(sb, '\n');
	}
	put_dst_family(c, d, 0, d->nv4, "v4");
	put_dst_family(c, d, d->nv4, d->npfx, "v6");
	RSB_LIT(sb, "\t}\n");
}

/* ------------------------------------------------------------------ */
/* The table                                                            */

/*
 * Text every jail needs many times, made once.  The interface name is
 * jail_ifname_host()'s "%.11s-out" without the snprintf, which costs more
 * than everything else done per jail.
 */
static void prepare_jail(struct rctx *c, const struct jail *j, struct rjail *r)
{
	const char *pfx = j->ifname ? j->ifname : j->name;
	size_t n = strnlen(pfx, JAIL_IFPREFIX_MAX);
	struct strbuf *sb = c->sb;
	struct cbuf cb = {.n = 0};
	char ifname[16];

	c->sb = &c->text;
	r->name_off = c->text.len;
	render_put_ident(c->sb, "", j->name);
	r->name_len = c->text.len - r->name_off;
	memcpy(ifname, pfx, n);
	memcpy(ifname + n, "-out", 5);
	r->ifq_off = c->text.len;
	render_put_quoted(c->sb, ifname);
	r->ifq_len = c->text.len - r->ifq_off;
	c->sb = sb;

	cb_loc(c, &cb, &j->loc);
	r->cmt_off = c->text.len;
	RSB_LIT(&c->text, " comment \"");
	rsb_putn(&c->text, cb.s, cb.n);
	rsb_putc(&c->text, '"');
	r->cmt_len = c->text.len - r->cmt_off;
}

void render_put_table_comment(struct rctx *c)
{
	const struct policy *p = c->p;
	struct cbuf cb = {.n = 0};

	cb_puts(&cb, "managed by jailfw");
	if (p->nfiles) {
		cb_puts(&cb, " from ");
		cb_puts(&cb, render_base_name(p->files[0]));
	}
	cb_puts(&cb, "; do not edit");
	rsb_putc(c->sb, '"');
	cb_emit(c->sb, &cb);
	rsb_putc(c->sb, '"');
}

static void put_table(struct strbuf *sb, const struct policy *p, unsigned int flags)
{
	const char *t = policy_table(p);
	struct rctx c;
	struct render_scratch x;
	size_t i, b;

	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	c.scr = &x;
	c.p = p;
	c.sb = sb;
	c.fnames = policy_file_labels(p);
	c.fbyaddr = xcalloc(p->nfiles ? p->nfiles : 1, sizeof(*c.fbyaddr));
	for (i = 0; i < p->nfiles; i++) {
		struct cbuf cb = {.n = 0};

		cb_puts(&cb, c.fnames[i]);
		cb.s[cb.n] = '\0';
		free(c.fnames[i]);
		c.fnames[i] = xstrdup(cb.s);
		c.fbyaddr[i] = i;
	}
	qsort_r(c.fbyaddr, p->nfiles, sizeof(*c.fbyaddr), file_addr_cmp, p->files);
	c.rj = xcalloc(p->njails, sizeof(*c.rj));
	/* A jail's name, interface and comment: some 40 bytes, room for more. */
	c.text.cap = 4096 + p->njails * 96;
	c.text.len = 0;
	c.text.s = xmalloc(c.text.cap);
	c.text.s[0] = '\0';
	for (i = 0; i < p->njails; i++)
		prepare_jail(&c, &p->jails[i], &c.rj[i]);
	snprintf(c.mark, sizeof(c.mark), "meta mark set meta mark | 0x%08x", policy_fwmark(p));
	c.marklen = strlen(c.mark);

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		for (b = 0; b < ARRAY_SIZE(backends); b++)
			if (backends[b]->backend == j->backend)
				backends[b]->collect(&c, j);
	}

	/*
	 * The arp table goes in the same transaction, and whether or not
	 * this policy has one: a netns jail gone from the policy takes its
	 * table along (render_netns.c says why there is one).
	 */
	if (flags & RENDER_REPLACE) {
		static const char *const fams[] = {"inet", "arp"};

		for (b = 0; b < ARRAY_SIZE(fams); b++) {
			sb_printf(sb, "table %s ", fams[b]);
			render_put_ident(sb, "", t);
			sb_printf(sb, " {}\ndelete table %s ", fams[b]);
			render_put_ident(sb, "", t);
			rsb_putc(sb, '\n');
		}
	}
	RSB_LIT(sb, "table inet ");
	render_put_ident(sb, "", t);
	RSB_LIT(sb, " {\n\tcomment ");
	render_put_table_comment(&c);
	rsb_putc(sb, '\n');

	/* Sets and maps first: rules may only refer to declared ones. */
	for (b = 0; b < ARRAY_SIZE(backends); b++)
		backends[b]->objects(&c);
	put_dst_sets(&c);
	for (b = 0; b < ARRAY_SIZE(backends); b++)
		backends[b]->chains(&c);
	for (i = 0; i < c.ndsts; i++)
		put_dst_chain(&c, &c.dsts[i]);
	RSB_LIT(sb, "}\n");
	for (b = 0; b < ARRAY_SIZE(backends); b++)
		if (backends[b]->tables)
			backends[b]->tables(&c);

	for (i = 0; i < c.ndsts; i++)
		free(c.dsts[i].pfx);
	free(c.dsts);
	free(c.htab);
	free(c.elems);
	free(c.pieces);
	for (i = 0; i < p->nfiles; i++)
		free(c.fnames[i]);
	free(c.fnames);
	free(c.fbyaddr);
	free(c.rj);
	sb_free(&c.text);
	free(x.segs);
	free(x.pfx);
	free(x.bnd);
	free(x.active);
}

/* About 900 bytes per jail: reserve once instead of doubling 17 times. */
static void sb_init_for(struct strbuf *sb, const struct policy *p)
{
	sb->cap = 4096 + p->njails * 1024;
	sb->len = 0;
	sb->s = xmalloc(sb->cap);
	sb->s[0] = '\0';
}

char *render_policy_str(const struct policy *p, unsigned int flags)
{
	struct strbuf sb;

	sb_init_for(&sb, p);
	put_table(&sb, p, flags);
	return sb_steal(&sb);
}

void render_policy(FILE *out, const struct policy *p, unsigned int flags)
{
	struct strbuf sb;

	sb_init_for(&sb, p);
	put_table(&sb, p, flags);
	fwrite(sb.s, 1, sb.len, out);
	sb_free(&sb);
}
