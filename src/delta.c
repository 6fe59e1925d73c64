// SPDX-License-Identifier: GPL-2.0-or-later
#include "delta.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "nftinfo.h"
#include "nftobj.h"
#include "state.h"
#include "util.h"

#define ELEMS_OPEN "\t\telements = {"
#define ELEMS_CLOSE "\t\t}"

/* A set's or map's lines: its declaration and its element lines. */
struct set_parts {
	size_t elem_from, elem_to; /* element lines [from, to); from == to: none */
	bool has_list;
};

static void set_split(const struct nftobj_block *b, struct set_parts *sp)
{
	size_t i;

	sp->elem_from = sp->elem_to = 0;
	sp->has_list = false;
	for (i = 0; i < b->nlines; i++)
		if (!strcmp(b->lines[i], ELEMS_OPEN))
			break;
	if (i == b->nlines)
		return;
	sp->has_list = true;
	sp->elem_from = sp->elem_to = i + 1;
	while (sp->elem_to < b->nlines && strcmp(b->lines[sp->elem_to], ELEMS_CLOSE))
		sp->elem_to++;
}

/* The declaration: every line but the element list and its braces. */
static bool set_decl_equal(const struct nftobj_block *a, const struct set_parts *pa,
			   const struct nftobj_block *b, const struct set_parts *pb)
{
	size_t i = 0, k = 0;

	for (;;) {
		if (pa->has_list && i == pa->elem_from - 1)
			i = pa->elem_to + 1;
		if (pb->has_list && k == pb->elem_from - 1)
			k = pb->elem_to + 1;
		if (i >= a->nlines || k >= b->nlines)
			return i >= a->nlines && k >= b->nlines;
		if (strcmp(a->lines[i++], b->lines[k++]))
			return false;
	}
}

/* A chain's rules: the lines between its header (and hook line) and "\t}". */
static size_t chain_first_rule(const struct nftobj_block *b)
{
	return b->nlines > 2 && !strncmp(b->lines[1], "\t\ttype ", 7) ? 2 : 1;
}

static bool is_base(const struct nftobj_block *b)
{
	return chain_first_rule(b) == 2;
}

static bool lines_equal(const struct nftobj_block *a, const struct nftobj_block *b)
{
	size_t i;

	if (a->nlines != b->nlines)
		return false;
	for (i = 0; i < a->nlines; i++)
		if (strcmp(a->lines[i], b->lines[i]))
			return false;
	return true;
}

static const char *skip_tabs(const char *s)
{
	return s + strspn(s, "\t ");
}

/*
 * An element's key, the part "delete element" takes: what comes before
 * its comment or its map data (jailfw's keys hold neither " comment \""
 * nor " : " outside quotes).
 */
static size_t elem_key_len(const char *e)
{
	bool quoted = false;
	size_t i;

	for (i = 0; e[i]; i++) {
		if (e[i] == '"')
			quoted = !quoted;
		else if (!quoted &&
			 (!strncmp(e + i, " comment \"", 10) || !strncmp(e + i, " : ", 3)))
			break;
	}
	return i;
}

/* The script, in its parts, in the order they run (delta.h). */
enum part { ADD_SETS, ADD_CHAINS, DEL_ELEMS, RULES, ADD_ELEMS, DEL_SETS, DEL_CHAINS, NPARTS };

struct script {
	struct strbuf part[NPARTS];
	size_t nobjs;
};

/*
 * Every command names its table as "FAMILY NAME" (ft: "inet jailfw",
 * "arp jailfw"): the rendering's tables go in one transaction.
 */

/* "table FT { set NAME { DECLARATION } }": b without its elements. */
static void put_set_decl(struct strbuf *sb, const char *ft, const struct nftobj_block *b,
			 const struct set_parts *sp)
{
	size_t i;

	sb_printf(sb, "table %s {\n", ft);
	for (i = 0; i < b->nlines; i++) {
		if (sp->has_list && i >= sp->elem_from - 1 && i <= sp->elem_to)
			continue;
		sb_printf(sb, "%s\n", b->lines[i]);
	}
	sb_puts(sb, "}\n");
}

/* One "add element"/"delete element" command for the elements of set set. */
static void put_elems(struct strbuf *sb, const char *verb, const char *ft, const char *set,
		      char **v, size_t n, bool keys_only)
{
	size_t i;

	if (!n)
		return;
	sb_printf(sb, "%s element %s %s { ", verb, ft, set);
	for (i = 0; i < n; i++) {
		const char *e = skip_tabs(v[i]);

		sb_printf(sb, "%s%.*s", i ? ",\n\t" : "",
			  (int)(keys_only ? elem_key_len(e) : strlen(e)), e);
	}
	sb_puts(sb, " }\n");
}

/* Elements of old and new set blocks: sorted lists, merged. */
static void diff_elems(struct script *s, const char *ft, const char *set,
		       const struct nftobj_block *a, const struct set_parts *pa,
		       const struct nftobj_block *b, const struct set_parts *pb)
{
	char **gone = NULL, **added = NULL;
	size_t ngone = 0, nadded = 0, i = pa->elem_from, k = pb->elem_from;
	int c;

	while (i < pa->elem_to || k < pb->elem_to) {
		if (i == pa->elem_to)
			c = 1;
		else if (k == pb->elem_to)
			c = -1;
		else
			c = strcmp(a->lines[i], b->lines[k]);
		if (c < 0)
			*VEC_PUSH(gone, ngone) = a->lines[i++];
		else if (c > 0)
			*VEC_PUSH(added, nadded) = b->lines[k++];
		else
			i++, k++;
	}
	put_elems(&s->part[DEL_ELEMS], "delete", ft, set, gone, ngone, true);
	put_elems(&s->part[ADD_ELEMS], "add", ft, set, added, nadded, false);
	s->nobjs += ngone + nadded;
	free(gone);
	free(added);
}

static void put_rules(struct script *s, const char *ft, const char *chain,
		      const struct nftobj_block *b)
{
	size_t i;

	for (i = chain_first_rule(b); i + 1 < b->nlines; i++)
		sb_printf(&s->part[RULES], "add rule %s %s %s\n", ft, chain,
			  skip_tabs(b->lines[i]));
}

/* What an old block (NULL: none) and a new one (NULL: none) add to s. */
static const char *diff_block(struct script *s, const char *ft, const struct nftobj_block *a,
			      const struct nftobj_block *b)
{
	const struct nftobj_block *any = b ? b : a;
	const char *name = strchr(any->key, ' ');

	if (!strcmp(any->key, "table"))
		return a && b && lines_equal(a, b) ? NULL : "the table's own attributes changed";
	if (!strncmp(any->key, "set ", 4) || !strncmp(any->key, "map ", 4)) {
		struct set_parts pa, pb;

		if (!a) {
			/* Declared first, its elements with the others. */
			set_split(b, &pb);
			put_set_decl(&s->part[ADD_SETS], ft, b, &pb);
			pa.elem_from = pa.elem_to = 0;
			diff_elems(s, ft, name + 1, b, &pa, b, &pb);
			s->nobjs++;
			return NULL;
		}
		if (!b) {
			/*
			 * After the rules, which named it, are flushed; before
			 * the chains its elements jump to go (EBUSY otherwise).
			 */
			sb_printf(&s->part[DEL_SETS], "delete %.3s %s %s\n", a->key, ft, name + 1);
			s->nobjs++;
			return NULL;
		}
		set_split(a, &pa);
		set_split(b, &pb);
		if (!set_decl_equal(a, &pa, b, &pb))
			return "a set or map declaration changed";
		diff_elems(s, ft, name + 1, a, &pa, b, &pb);
		return NULL;
	}
	if (strncmp(any->key, "chain ", 6))
		return a && b && lines_equal(a, b) ? NULL : "an object other than a chain changed";
	if (a && b && lines_equal(a, b))
		return NULL;
	if ((a && is_base(a)) || (b && is_base(b))) {
		/* A base chain's rules alone could change in place; its hook not. */
		if (!a || !b || strcmp(a->lines[1], b->lines[1]))
			return "a base chain was added, removed or re-hooked";
	}
	name++;
	s->nobjs++;
	if (!a)
		sb_printf(&s->part[ADD_CHAINS], "add chain %s %s\n", ft, name);
	else
		sb_printf(&s->part[RULES], "flush chain %s %s\n", ft, name);
	if (b)
		put_rules(s, ft, name, b);
	else
		sb_printf(&s->part[DEL_CHAINS], "delete chain %s %s\n", ft, name);
	return NULL;
}

/*
 * A rendering cut into spans without copying it: each chain, set or map
 * from its "\tKIND NAME {" line through its "\t}" line, and the lines
 * around them (the table's own).  Two renderings of a policy of thousands
 * of jails differ in a few objects: comparing spans byte for byte, and
 * handing only the differing ones to nftobj_parse (which copies, splits
 * and sorts every line and element), keeps the cost of the comparison
 * near that of reading the texts once.
 */
struct span {
	const char *key, *start; /* key: past the tab, up to " {" */
	size_t keylen, len;
};

struct spans {
	struct span *v; /* the objects, in text order */
	size_t n;
	struct strbuf rest; /* the other lines, in order */
};

static void spans_cut(const char *text, size_t textlen, struct spans *sp)
{
	const char *line, *next, *open = NULL, *end = text + textlen;
	size_t len;

	memset(sp, 0, sizeof(*sp));
	sb_init(&sp->rest);
	for (line = text; line < end; line = next) {
		next = memchr(line, '\n', (size_t)(end - line));
		len = next ? (size_t)(next - line) : (size_t)(end - line);
		next = next ? next + 1 : line + len;
		if (open) {
			if (len == 2 && line[0] == '\t' && line[1] == '}') {
				struct span *o = VEC_PUSH(sp->v, sp->n);

				o->start = open;
				o->len = (size_t)(next - open);
				o->key = open + 1;
				o->keylen = (size_t)(strchr(open, '\n') - open) - 3;
				open = NULL;
			}
			continue;
		}
		if (line[0] == '\t' && line[1] != '\t' && len > 3 &&
		    !strncmp(line + len - 2, " {", 2)) {
			open = line;
			continue;
		}
		sb_printf(&sp->rest, "%.*s\n", (int)len, line);
	}
	/* An object left open: its lines go to nftobj_parse as they are. */
	if (open)
		sb_putn(&sp->rest, open, (size_t)(end - open));
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = *(const struct span *const *)a, *y = *(const struct span *const *)b;
	int c = memcmp(x->key, y->key, x->keylen < y->keylen ? x->keylen : y->keylen);

	return c ? c : (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

/* An element of a rendered list: one per line, "elements = { " or blanks before, "," or " }" after.
 */
struct elem {
	const char *s;
	size_t n;
};

static int elem_cmp(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/*
 * A set or map span as the renderer writes it: declaration lines, then
 * "\t\telements = { E," and one "\t\t\t     E," per line, the last
 * "E }", then "\t}".  *decl_len: the bytes before the element list.  false
 * for anything else (the span then goes to nftobj_parse whole).
 */
static bool elems_cut(const struct span *sp, size_t *decl_len, struct elem **v, size_t *n)
{
	static const char open[] = "\t\telements = { ";
	const char *p = sp->start, *end = sp->start + sp->len, *nl, *list;
	bool last = false;

	*v = NULL;
	*n = 0;
	list = memmem(p, sp->len,
		      "\n"
		      "\t\telements = { ",
		      16);
	if (!list)
		return false;
	list++;
	*decl_len = (size_t)(list - p);
	for (p = list + sizeof(open) - 1; p < end && !last; p = nl + 1) {
		struct elem e;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		e.s = p + strspn(p, "\t ");
		e.n = (size_t)(nl - e.s);
		if (e.n >= 2 && !memcmp(e.s + e.n - 2, " }", 2)) {
			e.n -= 2;
			last = true;
		} else if (e.n && e.s[e.n - 1] == ',') {
			e.n--;
		} else {
			break;
		}
		*VEC_PUSH(*v, *n) = e;
	}
	/* What follows the list must be the span's closing line alone. */
	if (!last || (size_t)(end - p) != 3 || memcmp(p, "\t}\n", 3)) {
		free(*v);
		*v = NULL;
		return false;
	}
	return true;
}

/*
 * The elements of lists a and b that the other lacks, appended to *ga and
 * *gb.  Both lists come from renderings of policies that differ in a few
 * jails, in the renderer's order: the equal elements at both ends are
 * skipped pair by pair, and only what lies between is sorted and merged.
 */
static void elems_diff(struct elem *a, size_t na, struct elem *b, size_t nb, struct elem **ga,
		       size_t *nga, struct elem **gb, size_t *ngb)
{
	size_t i = 0, k = 0;
	int c;

	while (na && nb && !elem_cmp(&a[0], &b[0]))
		a++, b++, na--, nb--;
	while (na && nb && !elem_cmp(&a[na - 1], &b[nb - 1]))
		na--, nb--;
	qsort(a, na, sizeof(*a), elem_cmp);
	qsort(b, nb, sizeof(*b), elem_cmp);
	while (i < na || k < nb) {
		c = i == na ? 1 : k == nb ? -1 : elem_cmp(&a[i], &b[k]);
		if (c < 0)
			*VEC_PUSH(*ga, *nga) = a[i++];
		else if (c > 0)
			*VEC_PUSH(*gb, *ngb) = b[k++];
		else
			i++, k++;
	}
}

static void put_elem_list(struct strbuf *sb, const struct span *sp, size_t decl_len,
			  const struct elem *v, size_t n)
{
	size_t i;

	sb_printf(sb, "%.*s\t\telements = { ", (int)decl_len, sp->start);
	for (i = 0; i < n; i++)
		sb_printf(sb, "%s%.*s", i ? ",\n\t\t\t     " : "", (int)v[i].n, v[i].s);
	sb_puts(sb, " }\n\t}\n");
}

/*
 * Two spans of the same set or map that differ: each written with only
 * the elements the other lacks (the declaration whole), so that a map of
 * thousands of elements is parsed and compared in a few lines.
 */
static void put_changed(struct strbuf *ro, struct strbuf *rn, const struct span *a,
			const struct span *b)
{
	struct elem *ea = NULL, *eb = NULL, *ga = NULL, *gb = NULL;
	size_t na, nb, nga = 0, ngb = 0, da, db;

	if (strncmp(b->key, "set ", 4) && strncmp(b->key, "map ", 4))
		goto whole;
	if (!elems_cut(a, &da, &ea, &na) || !elems_cut(b, &db, &eb, &nb))
		goto whole;
	elems_diff(ea, na, eb, nb, &ga, &nga, &gb, &ngb);
	put_elem_list(ro, a, da, ga, nga);
	put_elem_list(rn, b, db, gb, ngb);
	goto out;
whole:
	sb_printf(ro, "%.*s", (int)a->len, a->start);
	sb_printf(rn, "%.*s", (int)b->len, b->start);
out:
	free(ea);
	free(eb);
	free(ga);
	free(gb);
}

/*
 * old and new reduced to the objects that differ between them (and the
 * table's own lines): what nftobj_parse and the comparison below would
 * find equal is left out of both.
 */
static void reduce(const char *old, size_t oldlen, const char *new, size_t newlen, char **rold,
		   char **rnew)
{
	struct spans a, b;
	const struct span **idx, *key, *const *hit;
	struct strbuf ro, rn;
	bool *matched;
	size_t i;

	spans_cut(old, oldlen, &a);
	spans_cut(new, newlen, &b);
	idx = xcalloc(a.n + 1, sizeof(*idx));
	matched = xcalloc(a.n + 1, sizeof(*matched));
	for (i = 0; i < a.n; i++)
		idx[i] = &a.v[i];
	qsort(idx, a.n, sizeof(*idx), span_cmp);
	sb_init(&ro);
	sb_init(&rn);
	sb_puts(&ro, a.rest.s);
	sb_puts(&rn, b.rest.s);
	for (i = 0; i < b.n; i++) {
		key = &b.v[i];
		hit = a.n ? bsearch(&key, idx, a.n, sizeof(*idx), span_cmp) : NULL;
		if (hit) {
			matched[*hit - a.v] = true;
			if ((*hit)->len != key->len || memcmp((*hit)->start, key->start, key->len))
				put_changed(&ro, &rn, *hit, key);
			continue;
		}
		sb_printf(&rn, "%.*s", (int)key->len, key->start);
	}
	for (i = 0; i < a.n; i++)
		if (!matched[i])
			sb_printf(&ro, "%.*s", (int)a.v[i].len, a.v[i].start);
	free(idx);
	free(matched);
	free(a.v);
	free(b.v);
	sb_free(&a.rest);
	sb_free(&b.rest);
	*rold = sb_steal(&ro);
	*rnew = sb_steal(&rn);
}

/*
 * A rendering's tables: each "table FAMILY NAME {" block through its
 * closing "}" at the start of a line (the inet table, and the arp table
 * of the netns jails' neighbour walls, whose objects may have the same
 * names as the inet table's), and the lines around them (the
 * "table ... {}" / "delete table" preamble of a replace).
 */
struct table_block {
	char *ft; /* "inet jailfw" */
	const char *start;
	size_t len;
};

/* What table FT's old and new blocks add to s; *why set on a full replace. */
static void delta_table(struct script *s, const char *ft, const struct table_block *old,
			const struct table_block *new, const char **why)
{
	struct nftobj_listing la, lb;
	struct nftobj_index ia, ib;
	char *rold, *rnew;
	size_t i;

	reduce(old->start, old->len, new->start, new->len, &rold, &rnew);
	nftobj_parse(rold, &la);
	nftobj_parse(rnew, &lb);
	free(rold);
	free(rnew);
	nftobj_index_build(&la, &ia);
	nftobj_index_build(&lb, &ib);
	for (i = 0; i < lb.nblocks && !*why; i++)
		*why = diff_block(s, ft, nftobj_find(&ia, lb.blocks[i].key), &lb.blocks[i]);
	for (i = 0; i < la.nblocks && !*why; i++)
		if (!nftobj_find(&ib, la.blocks[i].key))
			*why = diff_block(s, ft, &la.blocks[i], NULL);
	if (!lb.nblocks && !*why)
		*why = "the new ruleset is empty";
	free(ia.v);
	free(ib.v);
	nftobj_listing_free(&la);
	nftobj_listing_free(&lb);
}

/* The record's jails by name: open addressing, at most half full. */
struct rec_index {
	const struct counters_obj **slot; /* NULL until the first lookup */
	size_t mask;
};

static const struct counters_obj *rec_find(struct rec_index *x, const struct counters_record *r,
					   const char *name)
{
	const struct counters_obj *o;
	size_t i, k;

	if (!x->slot) {
		for (x->mask = 15; x->mask < 2 * r->njails;)
			x->mask = 2 * x->mask + 1;
		x->slot = xcalloc(x->mask + 1, sizeof(*x->slot));
		for (i = 0; i < r->njails; i++) {
			for (k = hash64_str(HASH64_INIT, r->jails[i].name) & x->mask; x->slot[k];
			     k = (k + 1) & x->mask)
				;
			x->slot[k] = &r->jails[i];
		}
	}
	for (k = hash64_str(HASH64_INIT, name) & x->mask; (o = x->slot[k]) && strcmp(o->name, name);
	     k = (k + 1) & x->mask)
		;
	return o;
}

bool *delta_jails(const struct policy *p, struct counters_last *l)
{
	const struct counters_record *r = &l->rec;
	const uint64_t *sigs = counters_last_sigs(l, p);
	bool *changed = xcalloc(p->njails + 1, sizeof(*changed));
	struct rec_index x = {NULL, 0};
	const struct counters_obj *o;
	size_t i, at = 0;

	/*
	 * The record lists the jails in the policy's order, which a delta
	 * mostly keeps: each is looked for right after the last one found,
	 * and by name only when it is not there (added, removed, moved).
	 */
	for (i = 0; i < p->njails; i++) {
		if (at < r->njails && !strcmp(r->jails[at].name, p->jails[i].name))
			o = &r->jails[at];
		else
			o = rec_find(&x, r, p->jails[i].name);
		if (o)
			at = (size_t)(o - r->jails) + 1;
		changed[i] = !o || o->sig != sigs[i];
	}
	free(x.slot);
	return changed;
}

void delta_prepare(const struct policy *p, const char *text, struct counters_last *l, char **script,
		   size_t *nobjs, const char **why, bool **jails)
{
	const char *table = policy_table(p);
	char *old = NULL;
	uint32_t genid;

	*script = NULL;
	*jails = NULL;
	*nobjs = 0;
	/* The record is input: any doubt about it is a full replace. */
	if (l->err || !l->rec.text_digest) {
		*why = "no record of the last commit";
		goto out;
	}
	if (state_record_read(table, STATE_RECORD_TEXT, &old) ||
	    counters_text_digest(old) != l->rec.text_digest) {
		*why = "the record of the last commit does not match its text";
		goto out;
	}
	if (nftinfo_genid(&genid) || genid != l->rec.genid) {
		*why = "the ruleset was changed since jailfw's last commit";
		goto out;
	}
	*script = delta_script(table, old, text, nobjs, why);
	if (!*script && !*why)
		*why = "nothing differs";
	if (*script)
		*jails = delta_jails(p, l);
out:
	free(old);
}

static void cut_tables(const char *text, struct table_block **v, size_t *n, struct strbuf *rest)
{
	const char *line = text, *next, *end;
	size_t len;

	*v = NULL;
	*n = 0;
	sb_init(rest);
	for (; *line; line = next) {
		next = strchr(line, '\n');
		len = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + len;
		/* Its last line: "}" alone (line by line: strstr() crawls over megabytes). */
		end = NULL;
		if (len > 8 && !strncmp(line, "table ", 6) && !strncmp(line + len - 2, " {", 2))
			for (end = line; (end = strchr(end, '\n')) && strncmp(end + 1, "}\n", 2);
			     end++)
				;
		if (end) {
			struct table_block *t = VEC_PUSH(*v, *n);

			t->ft = xstrndup(line + 6, len - 8);
			t->start = line;
			t->len = (size_t)(end + 3 - line);
			next = end + 3;
			continue;
		}
		sb_printf(rest, "%.*s\n", (int)len, line);
	}
}

char *delta_script(const char *table, const char *old, const char *new, size_t *nobjs,
		   const char **why)
{
	struct table_block *ta, *tb;
	struct strbuf rold, rnew, out;
	char *inet = xasprintf("inet %s", table), *ret = NULL;
	struct script s;
	size_t na, nb, i, k;

	*nobjs = 0;
	*why = NULL;
	memset(&s, 0, sizeof(s));
	for (k = 0; k < NPARTS; k++)
		sb_init(&s.part[k]);
	cut_tables(old, &ta, &na, &rold);
	cut_tables(new, &tb, &nb, &rnew);
	for (i = 0; i < nb && strcmp(tb[i].ft, inet); i++)
		;
	if (i == nb)
		*why = "no table inet block in the rendering";
	else if (strcmp(rold.s, rnew.s))
		*why = "the lines outside the tables changed";
	else if (na != nb)
		*why = "a table was added or removed";
	/*
	 * Every table in one script: the kernel commits them together, and
	 * the order of the parts holds across tables (no table refers to
	 * another's objects).
	 */
	for (i = 0; i < nb && !*why; i++) {
		if (strcmp(ta[i].ft, tb[i].ft)) {
			*why = "a table was added or removed";
			break;
		}
		if (ta[i].len == tb[i].len && !memcmp(ta[i].start, tb[i].start, ta[i].len))
			continue;
		delta_table(&s, tb[i].ft, &ta[i], &tb[i], why);
	}
	if (!*why && s.nobjs) {
		sb_init(&out);
		for (k = 0; k < NPARTS; k++)
			sb_puts(&out, s.part[k].s);
		ret = sb_steal(&out);
		*nobjs = s.nobjs;
	}
	for (k = 0; k < NPARTS; k++)
		sb_free(&s.part[k]);
	for (i = 0; i < na; i++)
		free(ta[i].ft);
	for (i = 0; i < nb; i++)
		free(tb[i].ft);
	free(ta);
	free(tb);
	sb_free(&rold);
	sb_free(&rnew);
	free(inet);
	return ret;
}
