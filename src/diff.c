// SPDX-License-Identifier: GPL-2.0-or-later
#include "diff.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "nftload.h"
#include "nftobj.h"
#include "provision.h"
#include "render.h"
#include "updown.h"
#include "util.h"

#define CONTEXT 2
/*
 * Myers' algorithm costs O((N+M)·D) time and, with the trace kept for the
 * edit script, O(D²) memory.  Past this many edits in one object (a map
 * rewritten wholesale) the object is shown as replaced instead.
 */
#define MAX_EDITS 2000

/* ---- the line diff ---- */

/*
 * A line without its comments (' comment "..."', wherever it stands: a
 * rule's is last, an element's comes before its verdict).  Lines are
 * matched on this, so a rule or element whose comment only names another
 * policy line (lines moved in the file) is not shown as a change.
 */
static char *strip_comments(const char *line)
{
	struct strbuf sb;
	const char *p = line, *c, *end;

	sb_init(&sb);
	while ((c = strstr(p, " comment \"")) && (end = strchr(c + 10, '"'))) {
		sb_printf(&sb, "%.*s", (int)(c - p), p);
		p = end + 1;
	}
	sb_puts(&sb, p);
	return sb_steal(&sb);
}

static void make_keys(struct nftobj_block *b)
{
	size_t i;

	if (b->keys)
		return;
	b->keys = xcalloc(b->nlines, sizeof(*b->keys));
	for (i = 0; i < b->nlines; i++)
		b->keys[i] = strip_comments(b->lines[i]);
}

struct op {
	char kind; /* ' ', '-', '+' */
	const char *line;
};

struct script {
	struct op *ops;
	size_t nops;
	size_t recommented; /* unchanged lines whose comment changed */
};

static void push(struct script *s, char kind, const char *line)
{
	*VEC_PUSH(s->ops, s->nops) = (struct op){kind, line};
}

/* Line x of a and line y of b match; keep the new text. */
static void push_same(struct script *s, const struct nftobj_block *a, size_t x,
		      const struct nftobj_block *b, size_t y)
{
	if (strcmp(a->lines[x], b->lines[y]))
		s->recommented++;
	push(s, ' ', b->lines[y]);
}

/*
 * Myers' greedy algorithm over a's lines [p, p + n) and b's [p, p + m),
 * matched by key, the trace kept per edit distance for the walk back.
 * Returns false when more than MAX_EDITS edits are needed.
 */
static bool myers(const struct nftobj_block *a, const struct nftobj_block *b, size_t p, int n,
		  int m, struct script *s)
{
	char *const *ka = a->keys + p, *const *kb = b->keys + p;
	int **trace = NULL, *v, d, k, x, y, maxd = n + m, found = -1;
	struct script rev = {NULL, 0, 0};

	if (maxd > MAX_EDITS)
		maxd = MAX_EDITS;
	trace = xcalloc((size_t)maxd + 1, sizeof(*trace));
	for (d = 0; d <= maxd && found < 0; d++) {
		/* v[k + d] for k in [-d, d]; the previous row is trace[d - 1]. */
		int *prev = d ? trace[d - 1] : NULL;

		v = xcalloc(2 * (size_t)d + 1, sizeof(*v));
		trace[d] = v;
		for (k = -d; k <= d; k += 2) {
			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && prev[k - 1 + d - 1] < prev[k + 1 + d - 1]))
				x = prev[k + 1 + d - 1];
			else
				x = prev[k - 1 + d - 1] + 1;
			y = x - k;
			while (x < n && y < m && !strcmp(ka[x], kb[y])) {
				x++;
				y++;
			}
			v[k + d] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found >= 0) {
		x = n;
		y = m;
		for (d = found; d >= 0; d--) {
			int px = 0, py = 0, pk;

			k = x - y;
			if (d > 0) {
				int *prev = trace[d - 1];

				if (k == -d ||
				    (k != d && prev[k - 1 + d - 1] < prev[k + 1 + d - 1]))
					pk = k + 1;
				else
					pk = k - 1;
				px = prev[pk + d - 1];
				py = px - pk;
			}
			while (x > px && y > py) {
				x--;
				y--;
				push_same(&rev, a, p + (size_t)x, b, p + (size_t)y);
			}
			if (d > 0 && x == px)
				push(&rev, '+', b->lines[p + (size_t)--y]);
			else if (d > 0)
				push(&rev, '-', a->lines[p + (size_t)--x]);
		}
		while (rev.nops) {
			rev.nops--;
			push(s, rev.ops[rev.nops].kind, rev.ops[rev.nops].line);
		}
		s->recommented += rev.recommented;
	}
	for (d = 0; d <= maxd; d++)
		free(trace[d]);
	free(trace);
	free(rev.ops);
	return found >= 0;
}

/* The edit script from a to b: common ends first, Myers for the middle. */
static void edit_script(struct nftobj_block *a, struct nftobj_block *b, struct script *s)
{
	size_t n = a->nlines, m = b->nlines, p = 0, e = 0, i;

	make_keys(a);
	make_keys(b);
	while (p < n && p < m && !strcmp(a->keys[p], b->keys[p]))
		p++;
	while (e < n - p && e < m - p && !strcmp(a->keys[n - 1 - e], b->keys[m - 1 - e]))
		e++;
	for (i = 0; i < p; i++)
		push_same(s, a, i, b, i);
	if (n - p - e > (size_t)MAX_EDITS * 50 || m - p - e > (size_t)MAX_EDITS * 50 ||
	    !myers(a, b, p, (int)(n - p - e), (int)(m - p - e), s)) {
		for (i = p; i < n - e; i++)
			push(s, '-', a->lines[i]);
		for (i = p; i < m - e; i++)
			push(s, '+', b->lines[i]);
	}
	for (i = 0; i < e; i++)
		push_same(s, a, n - e + i, b, m - e + i);
}

/* Hunks with CONTEXT lines around each run of changes, headed by the object. */
static void put_hunks(struct strbuf *sb, const char *key, const struct op *ops, size_t nops)
{
	size_t i = 0, start, last, end = 0, k;

	while (i < nops) {
		if (ops[i].kind == ' ') {
			i++;
			continue;
		}
		start = i > end + CONTEXT ? i - CONTEXT : end;
		/* Changes at most 2 * CONTEXT unchanged lines apart share a hunk. */
		for (last = i, k = i + 1; k < nops; k++) {
			if (ops[k].kind != ' ')
				last = k;
			else if (k - last > 2 * CONTEXT)
				break;
		}
		end = last + 1 + CONTEXT < nops ? last + 1 + CONTEXT : nops;
		sb_printf(sb, "@@ %s @@\n", key);
		for (k = start; k < end; k++)
			sb_printf(sb, "%c%s\n", ops[k].kind, ops[k].line);
		i = end;
	}
}

static void put_whole(struct strbuf *sb, const struct nftobj_block *b, char kind, const char *how)
{
	size_t i;

	sb_printf(sb, "@@ %s: %s @@\n", b->key, how);
	for (i = 0; i < b->nlines; i++)
		sb_printf(sb, "%c%s\n", kind, b->lines[i]);
}

char *diff_listings(const char *old, const char *new, const char *old_label, const char *new_label)
{
	struct script script = {NULL, 0, 0};
	struct nftobj_index ia, ib;
	struct nftobj_listing a, b;
	struct strbuf sb;
	size_t i, recommented = 0;

	nftobj_parse(old, &a);
	nftobj_parse(new, &b);
	nftobj_index_build(&a, &ia);
	nftobj_index_build(&b, &ib);
	sb_init(&sb);
	for (i = 0; i < b.nblocks; i++) {
		struct nftobj_block *nb = &b.blocks[i], *ob = nftobj_find(&ia, nb->key);

		if (!ob) {
			put_whole(&sb, nb, '+', "added");
			continue;
		}
		script.nops = script.recommented = 0;
		edit_script(ob, nb, &script);
		put_hunks(&sb, nb->key, script.ops, script.nops);
		recommented += script.recommented;
	}
	for (i = 0; i < a.nblocks; i++)
		if (!nftobj_find(&ib, a.blocks[i].key))
			put_whole(&sb, &a.blocks[i], '-', "removed");
	/*
	 * apply would load them, so they count as a change; but listing
	 * every rule below a moved line would bury what really changed.
	 */
	if (recommented)
		sb_printf(&sb, "@@ comments @@\n# %zu %s only in %s comment (the policy line %s)\n",
			  recommented,
			  recommented == 1 ? "rule or element differs"
					   : "rules and elements differ",
			  recommented == 1 ? "its" : "their",
			  recommented == 1 ? "it names moved" : "they name moved");
	free(script.ops);
	free(ia.v);
	free(ib.v);
	nftobj_listing_free(&a);
	nftobj_listing_free(&b);
	if (sb.len) {
		char *body = sb_steal(&sb);

		sb_init(&sb);
		sb_printf(&sb, "--- %s\n+++ %s\n%s", old_label, new_label, body);
		free(body);
	}
	return sb_steal(&sb);
}

/* ---- the command ---- */

void diff_result_free(struct diff_result *r)
{
	prov_plan_free(r->plan);
	free(r->ruleset);
	free(r->old_table);
	memset(r, 0, sizeof(*r));
}

int diff_policy(const struct policy *p, const char *label, struct diff_result *r, struct diag *d)
{
	const char *table = policy_table(p), *old_table;
	const char *const *lines;
	char *text = NULL, *want = NULL, *live = NULL, *ol = NULL, *nl = NULL;
	int ret, state, status = EXIT_OK;

	memset(r, 0, sizeof(*r));
	state = nftload_table_state(table, d);
	if (state < 0) {
		status = exitcode_kernel(state);
		goto out;
	}
	if (state == NFTLOAD_TABLE_FOREIGN) {
		diag_error(d, NULL, 0,
			   "table inet %s exists but was not made by jailfw; apply would refuse to "
			   "replace it",
			   table);
		status = EXIT_CONFLICT;
		goto out;
	}
	text = render_policy_str(p, RENDER_REPLACE);
	/* The new ruleset as the kernel would hold it, loaded where nobody sees it. */
	ret = nftload_run_isolated(p, text, NFTLOAD_LIST_STATELESS, &want, d);
	if (ret) {
		status = exitcode_kernel(ret);
		goto out;
	}
	if (state == NFTLOAD_TABLE_OURS) {
		ret = nftload_list_table(table, NFTLOAD_LIST_STATELESS, &live, d);
		if (ret == -ENOENT) {
			live = xstrdup("");
			state = NFTLOAD_TABLE_ABSENT;
		} else if (ret) {
			status = exitcode_kernel(ret);
			goto out;
		}
	} else {
		live = xstrdup("");
	}
	ol = xasprintf("table inet %s (%s)", table,
		       state == NFTLOAD_TABLE_OURS ? "in force" : "not there");
	nl = xasprintf("table inet %s (%s)", table, label);
	r->ruleset = diff_listings(live, want, ol, nl);

	ret = prov_diff(p, &r->plan, d);
	if (ret) {
		status = exitcode_prov(ret);
		/* diff's 1 is an answer: a policy found invalid here is 2, as in main.c. */
		if (status == EXIT_INVALID)
			status = EXIT_TROUBLE;
		goto out;
	}
	old_table = prov_plan_table(r->plan);
	if (old_table && strcmp(old_table, table) &&
	    nftload_table_state(old_table, d) == NFTLOAD_TABLE_OURS)
		r->old_table = xstrdup(old_table);
	r->changes = *r->ruleset || prov_plan_changes(r->plan, &lines) || r->old_table;
out:
	if (status)
		diff_result_free(r);
	free(text);
	free(want);
	free(live);
	free(ol);
	free(nl);
	return status;
}

int diff_run(const struct policy *p, const char *path, bool quiet, struct diag *d)
{
	const char *const *lines;
	struct diff_result r;
	struct updown ud;
	size_t i, n;
	int status;

	/* What apply would do: the jails `jailfw stop` took down stay down. */
	status = updown_prepare(p, UPDOWN_NONE, NULL, &ud, d);
	if (status)
		return status;
	p = &ud.view;
	status = diff_policy(p, path, &r, d);
	if (status) {
		updown_free(&ud);
		return status;
	}
	n = prov_plan_changes(r.plan, &lines);
	if (!quiet) {
		fputs(r.ruleset, stdout);
		if (n || r.old_table)
			fputs("provisioning:\n", stdout);
		if (r.old_table)
			printf("  delete table inet %s (the policy now uses table inet %s)\n",
			       r.old_table, policy_table(p));
		for (i = 0; i < n; i++)
			printf("  %s\n", lines[i]);
	}
	status = r.changes ? EXIT_DIFF_CHANGES : EXIT_OK;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "jailfw: cannot write the diff: %s\n", strerror(errno));
		status = EXIT_KERNEL;
	}
	diff_result_free(&r);
	updown_free(&ud);
	return status;
}
