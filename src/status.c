// SPDX-License-Identifier: GPL-2.0-or-later
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "fileio.h"
#include "jsonw.h"
#include "netns.h"
#include "nftinfo.h"
#include "rtnl.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

#define OURS_PREFIX "managed by jailfw"
#define ALIAS_PREFIX "jailfw:"
#define MAX_NAMED 6 /* changed objects named in one drift line */

/* ---- building the report ---- */

static void drift(struct status_report *r, const char *kind, const char *jail, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static void drift(struct status_report *r, const char *kind, const char *jail, const char *fmt, ...)
{
	struct status_drift *dr = VEC_PUSH(r->drift, r->ndrift);
	va_list ap;

	va_start(ap, fmt);
	dr->message = xvasprintf(fmt, ap);
	va_end(ap);
	dr->kind = kind;
	dr->jail = jail ? xstrdup(jail) : NULL;
}

static void status_note(struct status_report *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void status_note(struct status_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*VEC_PUSH(r->notes, r->nnotes) = xvasprintf(fmt, ap);
	va_end(ap);
}

static int jail_cmp(const void *a, const void *b)
{
	return strcmp(((const struct status_jail *)a)->name, ((const struct status_jail *)b)->name);
}

static struct status_jail *jail_add(struct status_report *r, const char *name)
{
	r->jails = vec_grow(r->jails, r->njails, sizeof(*r->jails));
	memset(&r->jails[r->njails], 0, sizeof(*r->jails));
	r->jails[r->njails].name = xstrdup(name);
	return &r->jails[r->njails++];
}

/* Sort what is there, so that jail_get finds it in log time. */
static void jails_sort(struct status_report *r)
{
	if (r->njails)
		qsort(r->jails, r->njails, sizeof(*r->jails), jail_cmp);
	r->nsorted = r->njails;
}

/* The jail of that name, added (zeroed, backend none) when new. */
static struct status_jail *jail_get(struct status_report *r, const char *name)
{
	struct status_jail key = {.name = (char *)name}, *hit;
	size_t i;

	hit = r->nsorted ? bsearch(&key, r->jails, r->nsorted, sizeof(key), jail_cmp) : NULL;
	if (hit)
		return hit;
	for (i = r->nsorted; i < r->njails; i++)
		if (!strcmp(r->jails[i].name, name))
			return &r->jails[i];
	return jail_add(r, name);
}

void status_report_free(struct status_report *r)
{
	size_t i;

	for (i = 0; i < r->njails; i++) {
		free(r->jails[i].name);
		free(r->jails[i].addrs);
	}
	free(r->jails);
	for (i = 0; i < r->nsysctls; i++) {
		free(r->sysctls[i].key);
		free(r->sysctls[i].set);
		free(r->sysctls[i].now);
		free(r->sysctls[i].was);
	}
	free(r->sysctls);
	for (i = 0; i < r->ndrift; i++) {
		free(r->drift[i].jail);
		free(r->drift[i].message);
	}
	free(r->drift);
	for (i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->table);
	memset(r, 0, sizeof(*r));
}

/* ---- counters ---- */

static void add(struct status_count *a, uint64_t packets, uint64_t bytes)
{
	a->packets += packets;
	a->bytes += bytes;
}

/* a - b, never below zero (two rules are not read in the same instant). */
static struct status_count minus(struct status_count a, struct status_count b)
{
	struct status_count c = {a.packets > b.packets ? a.packets - b.packets : 0,
				 a.bytes > b.bytes ? a.bytes - b.bytes : 0};

	return c;
}

/*
 * A jail chain: its counted jump into the shared allowlist chain is the
 * count of everything that entered it; what the allowlist did not accept
 * comes back and ends in the last counted drop.  Every other counted drop
 * (anti-spoofing, jail to jail) is a drop too; counted accepts (published
 * ports) are accepted.
 */
static void flow_of(const struct nftinfo_table *t, const char *prefix, const char *name,
		    struct status_flow *f)
{
	char *cname = xasprintf("%s%s", prefix, name);
	const struct nftinfo_chain *c = nftinfo_chain_find(t, cname);
	struct status_count entry = {0, 0}, final = {0, 0};
	bool has_entry = false;
	size_t i, last = (size_t)-1;

	free(cname);
	memset(f, 0, sizeof(*f));
	if (!c)
		return;
	f->present = true;
	for (i = 0; i < c->nrules; i++) {
		const struct nftinfo_rule *r = &c->rules[i];

		if (!r->has_counter)
			continue;
		if (r->verdict == NFTINFO_V_DROP)
			last = i;
	}
	for (i = 0; i < c->nrules; i++) {
		const struct nftinfo_rule *r = &c->rules[i];

		if (!r->has_counter)
			continue;
		if ((r->verdict == NFTINFO_V_JUMP || r->verdict == NFTINFO_V_GOTO) && !has_entry) {
			has_entry = true;
			entry.packets = r->packets;
			entry.bytes = r->bytes;
		} else if (r->verdict == NFTINFO_V_DROP) {
			add(&f->dropped, r->packets, r->bytes);
			if (i == last) {
				final.packets = r->packets;
				final.bytes = r->bytes;
			}
		} else if (r->verdict == NFTINFO_V_ACCEPT) {
			add(&f->accepted, r->packets, r->bytes);
		}
	}
	if (has_entry) {
		struct status_count passed = minus(entry, final);

		add(&f->accepted, passed.packets, passed.bytes);
	}
}

/* ---- the table ---- */

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Jails the live table dispatches to, from its verdict maps. */
static void table_jails(struct status_report *r, const struct nftinfo_table *t)
{
	const struct nftinfo_set *uid = nftinfo_set_find(t, "uid_jails");
	const struct nftinfo_set *fwd = nftinfo_set_find(t, "fwd_from");
	struct status_jail *j;
	size_t i;

	for (i = 0; uid && i < uid->nelems; i++) {
		const struct nftinfo_elem *e = &uid->elems[i];
		uint32_t u;

		if (!e->chain || !starts_with(e->chain, "uid_") || e->key_len != sizeof(u))
			continue;
		memcpy(&u, e->key, sizeof(u)); /* meta skuid: host byte order */
		/* Map keys are unique: no lookup (thousands of jails). */
		j = jail_add(r, e->chain + 4);
		j->backend = BACKEND_UID;
		j->in_table = true;
		j->has_uid = true;
		j->uid = u;
	}
	for (i = 0; fwd && i < fwd->nelems; i++) {
		const struct nftinfo_elem *e = &fwd->elems[i];

		if (!e->chain || !starts_with(e->chain, "fwd_"))
			continue;
		j = jail_add(r, e->chain + 4);
		j->backend = BACKEND_NETNS;
		j->in_table = true;
		if (!j->host_if[0])
			snprintf(j->host_if, sizeof(j->host_if), "%.*s",
				 (int)strnlen((const char *)e->key, e->key_len),
				 (const char *)e->key);
	}
}

static void table_counters(struct status_report *r, const struct nftinfo_table *t)
{
	size_t i;

	for (i = 0; i < r->njails; i++) {
		struct status_jail *j = &r->jails[i];

		if (j->backend == BACKEND_UID) {
			flow_of(t, "uid_", j->name, &j->out);
		} else if (j->backend == BACKEND_NETNS) {
			flow_of(t, "fwd_", j->name, &j->out);
			flow_of(t, "in_", j->name, &j->host);
			flow_of(t, "fwdto_", j->name, &j->inbound);
		}
		j->accepted = j->out.accepted;
		add(&j->accepted, j->host.accepted.packets, j->host.accepted.bytes);
		j->dropped = j->out.dropped;
		add(&j->dropped, j->host.dropped.packets, j->host.dropped.bytes);
	}
}

/* "chain uid_web modified, set uid_ports modified, chain x added" */
static void name_change(struct strbuf *sb, size_t *n, const char *kind, const char *name,
			const char *how)
{
	if (*n < MAX_NAMED)
		sb_printf(sb, "%s%s %s %s", *n ? ", " : "", kind, name, how);
	(*n)++;
}

static void compare_objects(struct strbuf *sb, size_t *n, const char *kind,
			    const struct counters_obj *rec, size_t nrec,
			    const char *(*live_name)(const struct nftinfo_table *, size_t),
			    uint64_t (*live_digest)(const struct nftinfo_table *, size_t),
			    size_t nlive, const struct nftinfo_table *t)
{
	size_t i = 0, k = 0;
	int c;

	/* Both sides are sorted by name: one merge. */
	while (i < nrec || k < nlive) {
		if (i == nrec)
			c = 1;
		else if (k == nlive)
			c = -1;
		else
			c = strcmp(rec[i].name, live_name(t, k));
		if (c < 0) {
			name_change(sb, n, kind, rec[i].name, "deleted");
			i++;
		} else if (c > 0) {
			name_change(sb, n, kind, live_name(t, k), "added");
			k++;
		} else {
			if (rec[i].digest != live_digest(t, k))
				name_change(sb, n, kind, rec[i].name, "modified");
			i++;
			k++;
		}
	}
}

static const char *chain_name(const struct nftinfo_table *t, size_t i)
{
	return t->chains[i].name;
}

static uint64_t chain_digest(const struct nftinfo_table *t, size_t i)
{
	return t->chains[i].digest;
}

static const char *set_name(const struct nftinfo_table *t, size_t i)
{
	return t->sets[i].name;
}

static uint64_t set_digest(const struct nftinfo_table *t, size_t i)
{
	return t->sets[i].digest;
}

/* The live table against what jailfw committed. */
static void table_drift(struct status_report *r, const struct nftinfo_table *t,
			const struct counters_record *rec)
{
	struct strbuf sb;
	size_t n = 0;

	if (t->flags & NFT_TABLE_F_DORMANT) {
		r->dormant = true;
		drift(r, "table-dormant", NULL,
		      "table inet %s is dormant: none of its rules are in force", r->table);
	}
	/* Nothing committed since jailfw's own commit: nothing changed. */
	if (t->genid == rec->genid)
		return;
	sb_init(&sb);
	if (t->digest != rec->table_digest)
		name_change(&sb, &n, "table", "comment", "modified");
	compare_objects(&sb, &n, "chain", rec->chains, rec->nchains, chain_name, chain_digest,
			t->nchains, t);
	compare_objects(&sb, &n, "set", rec->sets, rec->nsets, set_name, set_digest, t->nsets, t);
	if (n > MAX_NAMED)
		sb_printf(&sb, " and %zu more", n - MAX_NAMED);
	if (n) {
		r->changed = true;
		drift(r, "table-changed", NULL,
		      "table inet %s was changed since jailfw applied it: %s", r->table, sb.s);
	}
	sb_free(&sb);
}

/* ---- links, addresses, namespaces ---- */

struct host_links {
	struct rtnl_link *links;
	size_t nlinks;
	struct rtnl_addr *addrs;
	size_t naddrs;
};

static int link_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct host_links *h = ctx;
	struct rtnl_link l;

	if (rtnl_parse_link(nlh, &l))
		*VEC_PUSH(h->links, h->nlinks) = l;
	return 0;
}

static int addr_cb(const struct nlmsghdr *nlh, void *ctx)
{
	struct host_links *h = ctx;
	struct rtnl_addr a;

	if (rtnl_parse_addr(nlh, &a))
		*VEC_PUSH(h->addrs, h->naddrs) = a;
	return 0;
}

static void host_links_reset(struct host_links *h)
{
	free(h->links);
	free(h->addrs);
	memset(h, 0, sizeof(*h));
}

/* A dump interrupted by a change starts over from nothing. */
static void links_reset(void *ctx)
{
	struct host_links *h = ctx;

	free(h->links);
	h->links = NULL;
	h->nlinks = 0;
}

static void addrs_reset(void *ctx)
{
	struct host_links *h = ctx;

	free(h->addrs);
	h->addrs = NULL;
	h->naddrs = 0;
}

static int dump(struct rtnl *rt, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb,
		struct host_links *h, struct diag *d)
{
	int err = rtnl_dump(rt, b, type, cb, h, type == RTM_GETLINK ? links_reset : addrs_reset,
			    type == RTM_GETLINK ? "dump links" : "dump addresses");

	if (err) {
		const struct rtnl_req *q = rtnl_batch_error(b);
		char buf[512];

		if (q)
			diag_error(d, NULL, 0, "%s", rtnl_req_strerror(q, buf, sizeof(buf)));
		else
			diag_error(d, NULL, 0, "rtnetlink: %s", strerror(-err));
	}
	return err;
}

static int read_links(struct host_links *h, struct diag *d)
{
	struct rtnl_batch b;
	struct rtnl rt;
	int err;

	err = rtnl_open(&rt);
	if (err) {
		diag_error(d, NULL, 0, "open rtnetlink: %s", strerror(-err));
		return err;
	}
	rtnl_batch_init(&b);
	err = dump(&rt, &b, RTM_GETLINK, link_cb, h, d);
	if (!err)
		err = dump(&rt, &b, RTM_GETADDR, addr_cb, h, d);
	rtnl_batch_free(&b);
	rtnl_close(&rt);
	return err;
}

static bool status_has_addr(const struct status_jail *j, const struct prefix *want)
{
	size_t i, n = want->family == AF_INET ? 4 : 16;

	for (i = 0; i < j->naddrs; i++)
		if (j->addrs[i].family == want->family && j->addrs[i].len == want->len &&
		    !memcmp(j->addrs[i].addr.b, want->addr.b, n))
			return true;
	return false;
}

static void check_addr(struct status_report *r, struct status_jail *j, const struct prefix *net)
{
	char buf[PREFIX_STRLEN];
	struct prefix want;

	jail_addr_host(net, &want);
	want.len = net->len;
	if (!status_has_addr(j, &want))
		drift(r, "address-missing", j->name,
		      "jail %s: interface %s lacks its address %s/%u", j->name, j->host_if,
		      addr_str(&want, buf), want.len);
}

static int link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rtnl_link *)a)->name, ((const struct rtnl_link *)b)->name);
}

static int addr_cmp(const void *a, const void *b)
{
	int x = ((const struct rtnl_addr *)a)->ifindex, y = ((const struct rtnl_addr *)b)->ifindex;

	return x < y ? -1 : x > y;
}

/* Sorted once, looked up per jail: thousands of jails, as many links. */
static void host_links_sort(struct host_links *h)
{
	if (h->nlinks)
		qsort(h->links, h->nlinks, sizeof(*h->links), link_cmp);
	if (h->naddrs)
		qsort(h->addrs, h->naddrs, sizeof(*h->addrs), addr_cmp);
}

static const struct rtnl_link *find_link(const struct host_links *h, const char *name)
{
	struct rtnl_link key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return h->nlinks ? bsearch(&key, h->links, h->nlinks, sizeof(key), link_cmp) : NULL;
}

/* The link jailfw labelled alias, whatever its name now (a linear scan). */
static const struct rtnl_link *find_alias(const struct host_links *h, const char *alias)
{
	size_t i;

	for (i = 0; i < h->nlinks; i++)
		if (!strcmp(h->links[i].alias, alias))
			return &h->links[i];
	return NULL;
}

/* The first address of ifindex in the sorted h->addrs (or h->naddrs). */
static size_t first_addr(const struct host_links *h, int ifindex)
{
	size_t lo = 0, hi = h->naddrs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->addrs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void netns_facts(struct status_report *r, struct status_jail *j, const struct host_links *h)
{
	char alias[RTNL_ALIAS_MAX];
	const struct rtnl_link *l;
	struct netns_id id;
	size_t i;
	int err;

	snprintf(alias, sizeof(alias), ALIAS_PREFIX "%s", j->name);
	l = find_link(h, j->host_if);
	if (l) {
		j->link_present = true;
		j->link_up = l->flags & IFF_UP;
		j->link_ours = !strcmp(l->alias, alias);
		for (i = first_addr(h, l->ifindex);
		     i < h->naddrs && h->addrs[i].ifindex == l->ifindex; i++)
			*VEC_PUSH(j->addrs, j->naddrs) = h->addrs[i].addr;
	}
	if (!j->recorded)
		return;
	/* What jailfw made and recorded, and what became of it. */
	if (!l && (l = find_alias(h, alias))) {
		/*
		 * The ruleset knows a jail's interface by name: under another
		 * name the jail's packets meet only the catch-all drops of
		 * its addresses (docs/ruleset.md).
		 */
		drift(r, "link-renamed", j->name,
		      "jail %s: interface %s was renamed to %s: its traffic is dropped (rename it "
		      "back)",
		      j->name, j->host_if, l->name);
	} else if (!l) {
		drift(r, "link-missing", j->name, "jail %s: interface %s is gone", j->name,
		      j->host_if);
	} else if (!j->link_ours) {
		drift(r, "link-foreign", j->name,
		      "jail %s: interface %s is not jailfw's (its alias is not \"%s\")", j->name,
		      j->host_if, alias);
	} else {
		if (!j->link_up)
			drift(r, "link-down", j->name, "jail %s: interface %s is down", j->name,
			      j->host_if);
		if (j->has_v4)
			check_addr(r, j, &j->v4);
		if (j->has_v6)
			check_addr(r, j, &j->v6);
	}
	j->ns_checked = true;
	err = netns_open(j->name, NULL, &id);
	j->ns_present = !err;
	j->ns_same = !err && netns_id_eq(&id, &j->ns_made);
	if (err == -ENOENT || err == -ENODATA) {
		drift(r, "namespace-missing", j->name, "jail %s: namespace %s/%s is gone", j->name,
		      NETNS_RUN_DIR, j->name);
	} else if (err == -EMEDIUMTYPE) {
		char what[160];

		drift(r, "namespace-replaced", j->name,
		      "jail %s: %s/%s is not the namespace jailfw made (it is %s)", j->name,
		      NETNS_RUN_DIR, j->name, netns_what(j->name, what, sizeof(what)));
	} else if (err)
		drift(r, "namespace-missing", j->name,
		      "jail %s: namespace %s/%s cannot be opened: %s", j->name, NETNS_RUN_DIR,
		      j->name, strerror(-err));
	else if (!j->ns_same && (j->ns_made.dev || j->ns_made.ino))
		drift(r, "namespace-replaced", j->name,
		      "jail %s: %s/%s is another namespace than the one jailfw made "
		      "(inode %" PRIu64 ", jailfw's was %" PRIu64 ")",
		      j->name, NETNS_RUN_DIR, j->name, id.ino, j->ns_made.ino);
}

/* ---- sysctls ---- */

static void sysctls(struct status_report *r, const struct state *st)
{
	size_t i;

	for (i = 0; i < st->nsysctls; i++) {
		const struct state_sysctl *ss = &st->sysctls[i];
		struct status_sysctl *s = VEC_PUSH(r->sysctls, r->nsysctls);
		char name[PATH_MAX];

		s->key = xstrdup(sysctl_name(ss->key, name, sizeof(name)));
		s->set = xstrdup(ss->set);
		s->was = xstrdup(ss->old);
		/* A key from the state file must stay below /proc/sys. */
		if (strstr(ss->key, "..") || sysctl_read(ss->key, &s->now)) {
			free(s->now);
			s->now = NULL;
		}
		if (!s->now)
			drift(r, "sysctl-reverted", NULL, "sysctl %s cannot be read; jailfw set %s",
			      s->key, s->set);
		else if (strcmp(s->now, s->set))
			drift(r, "sysctl-reverted", NULL,
			      "sysctl %s is %s; jailfw set %s (it was %s)", s->key, s->now, s->set,
			      s->was);
	}
}

/* ---- collect ---- */

static const char *phase_name(enum state_phase p)
{
	switch (p) {
	case STATE_IDLE:
		return "idle";
	case STATE_APPLYING:
		return "applying";
	case STATE_DOWN:
		return "down";
	}
	return "idle";
}

static void state_jails(struct status_report *r, const struct state *st, bool table_ours)
{
	size_t i;

	for (i = 0; i < st->njails; i++) {
		const struct state_jail *sj = &st->jails[i];
		struct status_jail *j;

		if (sj->pending)
			continue;
		j = jail_get(r, sj->name);
		j->recorded = true;
		if (j->backend == BACKEND_NONE)
			j->backend = sj->backend;
		if (sj->backend == BACKEND_UID) {
			if (j->in_table && j->backend == BACKEND_UID && sj->has_user &&
			    j->uid != (uint32_t)sj->uid)
				drift(r, "jail-changed", j->name,
				      "jail %s: the table confines uid %" PRIu32
				      ", jailfw applied uid %u",
				      j->name, j->uid, (unsigned int)sj->uid);
			if (!j->has_uid && sj->has_user) {
				j->has_uid = true;
				j->uid = (uint32_t)sj->uid;
			}
		} else {
			snprintf(j->host_if, sizeof(j->host_if), "%s", sj->host_if);
			snprintf(j->jail_if, sizeof(j->jail_if), "%s", sj->jail_if);
			j->has_v4 = sj->has_v4;
			j->has_v6 = sj->has_v6;
			j->v4 = sj->v4;
			j->v6 = sj->v6;
			j->ns_made = sj->ns;
		}
		if (table_ours && !j->in_table)
			drift(r, "jail-missing", j->name,
			      "jail %s: table inet %s no longer confines it (no %s element for it)",
			      j->name, r->table,
			      sj->backend == BACKEND_UID ? "uid_jails" : "fwd_from");
	}
}

/*
 * The jails `jailfw stop` took down (updown.h): a uid jail stays in the
 * table, without its allow rules; a netns jail is gone from the table and
 * the state, and this record names it alone.  Not drift: jailfw did it.
 */
static void stopped_jails(struct status_report *r)
{
	char **names;
	size_t n, i;

	if (state_stopped_load(&names, &n, NULL)) {
		status_note(r, "cannot read %s: the jails stopped by jailfw stop are not shown",
			    STATE_STOPPED);
		return;
	}
	for (i = 0; i < n; i++) {
		struct status_jail *j = jail_get(r, names[i]);

		j->stopped = true;
		/* A stopped uid jail stays in the table: one that is not is netns. */
		if (j->backend == BACKEND_NONE && r->table_state == STATUS_TABLE_OURS)
			j->backend = BACKEND_NETNS;
	}
	strv_free(names, n);
}

/*
 * The netns jails' other table: table arp NAME, with what a jail may say
 * on its link (render_netns.c).  Checked for being there and jailfw's;
 * its contents are what apply compares (record.c), not status.
 */
static void arp_table(struct status_report *r)
{
	char *comment = NULL;
	int err = nftinfo_family_table_comment(NFPROTO_ARP, r->table, &comment);

	if (err == -ENOENT)
		drift(r, "table-missing", NULL,
		      "table arp %s is missing: the netns jails' ARP is unchecked (jailfw apply "
		      "restores it)",
		      r->table);
	else if (err)
		status_note(r, "cannot read table arp %s: %s", r->table, strerror(-err));
	else if (!starts_with(comment, OURS_PREFIX))
		drift(r, "table-foreign", NULL,
		      "table arp %s is not jailfw's (its comment does not say \"" OURS_PREFIX "\")",
		      r->table);
	free(comment);
}

int status_collect(const char *table, struct status_report *r, struct diag *d)
{
	struct counters_record rec;
	struct host_links h = {0};
	struct nftinfo_table *t = NULL;
	struct state st;
	bool has_rec;
	size_t i;
	int err;

	memset(r, 0, sizeof(*r));
	memset(&rec, 0, sizeof(rec));
	err = state_load(&st, d);
	if (err)
		return err;
	r->table = xstrdup(table ? table : st.table ? st.table : DEFAULT_TABLE);
	r->phase = phase_name(st.phase);
	has_rec = counters_record_load(r->table, &rec) == 0;
	r->applied = has_rec || (st.table && !strcmp(st.table, r->table));

	err = nftinfo_table_read(r->table, &t);
	if (err && err != -ENOENT) {
		diag_error(d, NULL, 0, "read table inet %s: %s", r->table, strerror(-err));
		goto out;
	}
	err = 0;
	if (!t)
		r->table_state = STATUS_TABLE_ABSENT;
	else if (starts_with(t->comment, OURS_PREFIX))
		r->table_state = STATUS_TABLE_OURS;
	else
		r->table_state = STATUS_TABLE_FOREIGN;
	if (t)
		r->genid = t->genid;

	if (st.phase != STATE_IDLE)
		drift(r, "unfinished", NULL,
		      "the last jailfw %s did not finish: run jailfw %s again",
		      st.phase == STATE_DOWN ? "down" : "apply",
		      st.phase == STATE_DOWN ? "down" : "apply");
	if (r->applied && r->table_state == STATUS_TABLE_ABSENT)
		drift(r, "table-missing", NULL,
		      "table inet %s is missing: jailfw applied it, and it was deleted since",
		      r->table);
	if (r->table_state == STATUS_TABLE_FOREIGN)
		drift(r, "table-foreign", NULL,
		      "table inet %s is not jailfw's (its comment does not say \"" OURS_PREFIX
		      "\")",
		      r->table);
	if (r->table_state == STATUS_TABLE_OURS) {
		table_jails(r, t);
		jails_sort(r);
		if (has_rec && counters_record_settle(r->table, &rec, t, true)) {
			status_note(
			    r,
			    "cannot take the digests of what jailfw committed to table inet %s: "
			    "changes to it cannot be detected",
			    r->table);
		} else if (has_rec) {
			r->recorded = true;
			table_drift(r, t, &rec);
		} else {
			status_note(
			    r,
			    "no record of what jailfw committed to table inet %s: changes to it "
			    "cannot be detected (apply again to record it)",
			    r->table);
		}
	}
	/* The state describes the table it names, not another one. */
	if (!st.table || !strcmp(st.table, r->table)) {
		state_jails(r, &st, r->table_state == STATUS_TABLE_OURS);
		stopped_jails(r);
	} else {
		status_note(r, "jailfw's last apply used table inet %s", st.table);
	}
	if (r->table_state == STATUS_TABLE_OURS)
		table_counters(r, t);

	/* A stopped netns jail has no link, namespace or arp table to look at. */
	for (i = 0; i < r->njails; i++)
		if (r->jails[i].backend == BACKEND_NETNS && !r->jails[i].stopped)
			break;
	if (i < r->njails) {
		if (r->table_state == STATUS_TABLE_OURS)
			arp_table(r);
		err = read_links(&h, d);
		if (err)
			goto out;
		host_links_sort(&h);
		for (i = 0; i < r->njails; i++) {
			struct status_jail *j = &r->jails[i];

			if (j->backend == BACKEND_NETNS && j->host_if[0])
				netns_facts(r, j, &h);
		}
	}
	if (!st.table || !strcmp(st.table, r->table))
		sysctls(r, &st);
	jails_sort(r);
out:
	host_links_reset(&h);
	nftinfo_table_free(t);
	counters_record_free(&rec);
	state_free(&st);
	return err;
}

int status_exit(const struct status_report *r)
{
	return r->ndrift ? 1 : 0;
}

/* ---- text ---- */

static const char *headline(const struct status_report *r)
{
	switch (r->table_state) {
	case STATUS_TABLE_ABSENT:
		return r->applied ? "missing" : "not there; nothing applied";
	case STATUS_TABLE_FOREIGN:
		return "exists, but is not jailfw's";
	case STATUS_TABLE_OURS:
		break;
	}
	if (r->dormant)
		return "dormant (not in force)";
	if (r->changed)
		return "in force, changed since jailfw applied it";
	if (!r->recorded)
		return "in force (no record of what jailfw committed)";
	return "in force, as jailfw applied it";
}

static void count_str(char *buf, size_t len, const struct status_count *c)
{
	snprintf(buf, len, "%" PRIu64 "/%" PRIu64, c->packets, c->bytes);
}

static void where(struct strbuf *sb, const struct status_jail *j)
{
	char buf[PREFIX_STRLEN];
	size_t i;

	if (j->backend == BACKEND_UID) {
		if (j->has_uid)
			sb_printf(sb, "uid %" PRIu32, j->uid);
		return;
	}
	if (j->backend != BACKEND_NETNS)
		return;
	if (!j->host_if[0])
		return;
	sb_printf(sb, "%s %s", j->host_if, !j->link_present ? "gone" : j->link_up ? "up" : "down");
	/* Link-local addresses are the kernel's own: in --json only. */
	for (i = 0; i < j->naddrs; i++)
		if (j->addrs[i].family != AF_INET6 || j->addrs[i].addr.b[0] != 0xfe ||
		    (j->addrs[i].addr.b[1] & 0xc0) != 0x80)
			sb_printf(sb, " %s/%u", addr_str(&j->addrs[i], buf), j->addrs[i].len);
	if (j->ns_checked)
		sb_printf(sb, ", netns %s",
			  !j->ns_present ? "gone"
			  : j->ns_same	 ? "ok"
					 : "replaced");
}

void status_print(FILE *out, const struct status_report *r, bool quiet)
{
	size_t i, nuid = 0, nnet = 0, nstop = 0, wname = 4, wacc = 8, wdrop = 7;
	char acc[48], drop[48];
	struct strbuf sb;

	if (quiet) {
		for (i = 0; i < r->ndrift; i++)
			fprintf(out, "drift: %s\n", r->drift[i].message);
		return;
	}
	for (i = 0; i < r->njails; i++) {
		const struct status_jail *j = &r->jails[i];

		nuid += j->backend == BACKEND_UID;
		nnet += j->backend == BACKEND_NETNS;
		nstop += j->stopped;
		if (strlen(j->name) > wname)
			wname = strlen(j->name);
		count_str(acc, sizeof(acc), &j->accepted);
		count_str(drop, sizeof(drop), &j->dropped);
		if (strlen(acc) > wacc)
			wacc = strlen(acc);
		if (strlen(drop) > wdrop)
			wdrop = strlen(drop);
	}
	fprintf(out, "table inet %s: %s", r->table, headline(r));
	if (r->njails)
		fprintf(out, " (%zu %s: %zu uid, %zu netns%s", r->njails,
			r->njails == 1 ? "jail" : "jails", nuid, nnet, nstop ? ";" : ")");
	if (nstop)
		fprintf(out, " %zu stopped)", nstop);
	fputc('\n', out);
	if (r->njails) {
		fprintf(out, "%-*s  %-7s  %*s  %*s  %s\n", (int)wname, "JAIL", "BACKEND", (int)wacc,
			"ACCEPTED", (int)wdrop, "DROPPED", "WHERE");
		sb_init(&sb);
		for (i = 0; i < r->njails; i++) {
			const struct status_jail *j = &r->jails[i];

			count_str(acc, sizeof(acc), &j->accepted);
			count_str(drop, sizeof(drop), &j->dropped);
			sb.len = 0;
			sb.s[0] = '\0';
			where(&sb, j);
			if (j->stopped)
				sb_puts(&sb, sb.len ? ", stopped" : "stopped");
			else if (!j->in_table)
				sb_puts(&sb, sb.len ? " (not in the table)" : "(not in the table)");
			fprintf(out, "%-*s  %-7s  %*s  %*s  %s\n", (int)wname, j->name,
				backend_name(j->backend), (int)wacc, acc, (int)wdrop, drop, sb.s);
		}
		sb_free(&sb);
		fputs("(counters: packets/bytes)\n", out);
	}
	for (i = 0; i < r->nnotes; i++)
		fprintf(out, "note: %s\n", r->notes[i]);
	for (i = 0; i < r->ndrift; i++)
		fprintf(out, "drift: %s\n", r->drift[i].message);
}

/* ---- JSON (docs/status-json.md) ---- */

static json_t *status_json_count(const struct status_count *c)
{
	return jsonw_pack("{s:o, s:o}", "packets", jsonw_u64(c->packets), "bytes",
			  jsonw_u64(c->bytes));
}

/* A direction: null when its chain is missing. */
static json_t *status_json_flow(const struct status_flow *f)
{
	if (!f->present)
		return json_null();
	return jsonw_pack("{s:o, s:o}", "accepted", status_json_count(&f->accepted), "dropped",
			  status_json_count(&f->dropped));
}

static const char *table_state_name(const struct status_report *r)
{
	switch (r->table_state) {
	case STATUS_TABLE_ABSENT:
		return "absent";
	case STATUS_TABLE_FOREIGN:
		return "foreign";
	case STATUS_TABLE_OURS:
		break;
	}
	return "jailfw";
}

static json_t *status_json_link(const struct status_jail *j)
{
	json_t *addrs = jsonw_pack("[]");
	char buf[PREFIX_STRLEN], *a;
	size_t i;

	for (i = 0; i < j->naddrs; i++) {
		a = xasprintf("%s/%u", addr_str(&j->addrs[i], buf), j->addrs[i].len);
		jsonw_append(addrs, jsonw_str(a));
		free(a);
	}
	return jsonw_pack("{s:o, s:b, s:b, s:b, s:o}", "name",
			  jsonw_str(j->host_if[0] ? j->host_if : NULL), "present", j->link_present,
			  "up", j->link_up, "jailfw", j->link_ours, "addresses", addrs);
}

/* netns jails: "link", "namespace" (null when not recorded), "prefixes". */
static json_t *status_json_netns(const struct status_jail *j)
{
	json_t *ns = json_null(), *pfx = jsonw_pack("[]");
	char buf[PREFIX_STRLEN], *path;

	if (j->ns_checked) {
		path = xasprintf("%s/%s", NETNS_RUN_DIR, j->name);
		ns = jsonw_pack("{s:o, s:b, s:b}", "path", jsonw_str(path), "present",
				j->ns_present, "jailfw", j->ns_same);
		free(path);
	}
	if (j->has_v4)
		jsonw_append(pfx, jsonw_str(prefix_str(&j->v4, buf)));
	if (j->has_v6)
		jsonw_append(pfx, jsonw_str(prefix_str(&j->v6, buf)));
	return jsonw_pack("{s:o, s:o, s:o}", "link", status_json_link(j), "namespace", ns,
			  "prefixes", pfx);
}

static json_t *status_json_jail(const struct status_jail *j)
{
	bool netns = j->backend == BACKEND_NETNS;
	json_t *v, *flows;

	v = jsonw_pack("{s:o, s:s, s:b, s:b, s:b}", "name", jsonw_str(j->name), "backend",
		       backend_name(j->backend), "in_table", j->in_table, "recorded", j->recorded,
		       "stopped", j->stopped);
	if (j->backend == BACKEND_UID)
		jsonw_merge(
		    v, jsonw_pack("{s:o}", "uid", j->has_uid ? jsonw_u64(j->uid) : json_null()));
	if (netns)
		jsonw_merge(v, status_json_netns(j));
	/* out = uid_NAME or fwd_NAME, host = in_NAME, inbound = fwdto_NAME. */
	flows = jsonw_pack("{s:o}", "out", status_json_flow(&j->out));
	if (netns)
		jsonw_merge(flows, jsonw_pack("{s:o, s:o}", "host", status_json_flow(&j->host),
					      "inbound", status_json_flow(&j->inbound)));
	jsonw_merge(v, jsonw_pack("{s:o, s:o, s:o}", "accepted", status_json_count(&j->accepted),
				  "dropped", status_json_count(&j->dropped), "flows", flows));
	return v;
}

json_t *status_json(const struct status_report *r)
{
	json_t *drift = jsonw_pack("[]"), *notes = jsonw_pack("[]"), *jails = jsonw_pack("[]"),
	       *sysctls = jsonw_pack("[]");
	size_t i;

	for (i = 0; i < r->ndrift; i++)
		jsonw_append(drift, jsonw_pack("{s:s, s:o, s:o}", "kind", r->drift[i].kind, "jail",
					       jsonw_str(r->drift[i].jail), "message",
					       jsonw_str(r->drift[i].message)));
	for (i = 0; i < r->nnotes; i++)
		jsonw_append(notes, jsonw_str(r->notes[i]));
	for (i = 0; i < r->njails; i++)
		jsonw_append(jails, status_json_jail(&r->jails[i]));
	for (i = 0; i < r->nsysctls; i++) {
		const struct status_sysctl *s = &r->sysctls[i];

		jsonw_append(sysctls, jsonw_pack("{s:o, s:o, s:o, s:o}", "key", jsonw_str(s->key),
						 "set", jsonw_str(s->set), "now", jsonw_str(s->now),
						 "was", jsonw_str(s->was)));
	}
	return jsonw_pack("{s:s, s:i, s:o, s:s, s:b, s:b, s:b, s:b, s:s, s:o, s:o, s:o, s:o, s:o}",
			  "schema", "jailfw-status", "version", STATUS_JSON_VERSION, "table",
			  jsonw_str(r->table), "table_state", table_state_name(r), "applied",
			  r->applied, "recorded", r->recorded, "changed", r->changed, "dormant",
			  r->dormant, "phase", r->phase ? r->phase : "idle", "genid",
			  jsonw_u64(r->genid), "drift", drift, "notes", notes, "jails", jails,
			  "sysctls", sysctls);
}

/* ---- the command ---- */

int status_run(const char *table, bool json, bool quiet, struct diag *d)
{
	struct status_report r;
	int err, status;

	err = status_collect(table, &r, d);
	if (err) {
		status_report_free(&r);
		if (err == -EPERM || err == -EACCES) {
			diag_note(d, NULL, 0, "status reads nf_tables, which needs CAP_NET_ADMIN");
			return 4;
		}
		return 3;
	}
	errno = 0;
	if (json) {
		json_t *doc = status_json(&r);

		err = jsonw_print(stdout, doc);
		json_decref(doc);
	} else {
		status_print(stdout, &r, quiet);
		if (fflush(stdout) || ferror(stdout))
			err = errno ? -errno : -EIO;
	}
	status = status_exit(&r);
	status_report_free(&r);
	if (err) {
		fprintf(stderr, "jailfw: cannot write the status: %s\n", strerror(-err));
		return 3;
	}
	return status;
}
