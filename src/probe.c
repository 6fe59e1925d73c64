// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Probe planning (pure) and the probe engine (sockets).  See probe.h.
 */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* ------------------------------------------------------------ addresses */

static void addr_parse(int family, const char *s, uint8_t len, struct prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = family;
	out->len = len;
	if (inet_pton(family, s, out->addr.b) != 1)
		abort(); /* only ever called on the literals below */
}

void probe_wan_addr(int family, bool host_side, struct prefix *out)
{
	if (family == AF_INET)
		addr_parse(AF_INET, host_side ? "192.0.2.1" : "192.0.2.2", 24, out);
	else
		addr_parse(AF_INET6, host_side ? "2001:db8:ffff::1" : "2001:db8:ffff::2", 64, out);
}

static unsigned int full_len(int family)
{
	return family == AF_INET ? 32 : 128;
}

static void full_addr(struct prefix *a)
{
	a->len = (uint8_t)full_len(a->family);
}

/* net's address plus off (host bits only: off < 2^(full - len)). */
static void addr_add(const struct prefix *net, uint64_t off, struct prefix *out)
{
	int i;

	*out = *net;
	full_addr(out);
	for (i = out->family == AF_INET ? 3 : 15; i >= 0 && off; i--) {
		uint64_t sum = out->addr.b[i] + (off & 0xff);

		out->addr.b[i] = (uint8_t)sum;
		off = (off >> 8) + (sum >> 8);
	}
}

/* net's address minus one (wrapping is the caller's problem). */
static void addr_prev(const struct prefix *net, struct prefix *out)
{
	int i;

	*out = *net;
	full_addr(out);
	for (i = out->family == AF_INET ? 3 : 15; i >= 0; i--)
		if (out->addr.b[i]-- != 0)
			break;
}

/* The first address after net. */
static void addr_after(const struct prefix *net, struct prefix *out)
{
	unsigned int bit, full = full_len(net->family);
	int i;

	*out = *net;
	full_addr(out);
	for (bit = net->len; bit < full; bit++)
		out->addr.b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	for (i = (int)full / 8 - 1; i >= 0; i--)
		if (++out->addr.b[i] != 0)
			break;
}

static bool addr_eq(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr.b, b->addr.b, a->family == AF_INET ? 4 : 16);
}

/*
 * Addresses a probe must never be sent to: they are not "somewhere on the
 * internet" (loopback, multicast, link-local, unspecified, v4-mapped), or
 * they are the sandbox's own (the wan link's ends, its network and
 * broadcast addresses, every jail's prefix).
 */
struct excl {
	struct prefix *p;
	size_t n;
};

static void excl_add(struct excl *x, int family, const char *s, uint8_t len)
{
	addr_parse(family, s, len, VEC_PUSH(x->p, x->n));
}

static void excl_build(const struct policy *p, struct excl *x)
{
	static const struct {
		int family;
		const char *s;
		uint8_t len;
	} fixed[] = {
	    {AF_INET, "0.0.0.0", 8},
	    {AF_INET, "127.0.0.0", 8},
	    {AF_INET, "169.254.0.0", 16},
	    {AF_INET, "224.0.0.0", 3},
	    {AF_INET, "192.0.2.0", 32},
	    {AF_INET, "192.0.2.1", 32},
	    {AF_INET, "192.0.2.2", 32},
	    {AF_INET, "192.0.2.255", 32},
	    {AF_INET6, "::", 127},
	    {AF_INET6, "::ffff:0:0", 96},
	    {AF_INET6, "fe80::", 10},
	    {AF_INET6, "ff00::", 8},
	    {AF_INET6, "2001:db8:ffff::", 128},
	    {AF_INET6, "2001:db8:ffff::1", 128},
	    {AF_INET6, "2001:db8:ffff::2", 128},
	};
	size_t i;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		excl_add(x, fixed[i].family, fixed[i].s, fixed[i].len);
	for (i = 0; i < p->njails; i++) {
		struct prefix own[2];
		size_t k, n = jail_prefixes(&p->jails[i], own);

		for (k = 0; k < n; k++)
			*VEC_PUSH(x->p, x->n) = own[k];
	}
}

static bool excluded(const struct excl *x, const struct prefix *a)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (prefix_contains(&x->p[i], a))
			return true;
	return false;
}

/* Addresses a probe goes to when it can: easy to spot in a capture. */
static const char *const well_known4[] = {"192.0.2.99", "198.51.100.99", "203.0.113.99",
					  "100.64.0.99"};
static const char *const well_known6[] = {"2001:db8::99", "2001:db8:dead::99", "3fff::99",
					  "2001:db8:ffff::99", "fd00:dead::99"};

/*
 * An address inside net for a probe: the 99th host when there is room
 * (::99 in IPv6), else a well-known address inside it (0.0.0.0/0 has no
 * usable 0.0.0.99), else the first usable one.
 */
static bool pick_inside(const struct prefix *net, const struct excl *x, struct prefix *out)
{
	unsigned int hb = full_len(net->family) - net->len;
	uint64_t room = hb >= 63 ? UINT64_MAX : (1ull << hb) - 1, off;
	bool v4 = net->family == AF_INET;
	size_t i, n = v4 ? ARRAY_SIZE(well_known4) : ARRAY_SIZE(well_known6);

	if (!hb) {
		*out = *net;
		return !excluded(x, out);
	}
	if (hb >= 8) {
		addr_add(net, v4 ? 99 : 0x99, out);
		if (!excluded(x, out))
			return true;
	}
	for (i = 0; i < n; i++) {
		addr_parse(net->family, v4 ? well_known4[i] : well_known6[i],
			   (uint8_t)full_len(net->family), out);
		if (prefix_contains(net, out) && !excluded(x, out))
			return true;
	}
	for (off = hb <= 1 ? 0 : 1; off <= room && off < 64; off++) {
		addr_add(net, off, out);
		if (!excluded(x, out))
			return true;
	}
	return false;
}

static bool in_any(const struct prefix *set, size_t n, const struct prefix *a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_contains(&set[i], a))
			return true;
	return false;
}

/*
 * An address of family outside every prefix of allowed: a documentation
 * address when one is free, else the address right after (or before) an
 * allowed prefix: the nearest miss there is.
 */
static bool pick_outside(int family, const struct prefix *allowed, size_t nallowed,
			 const struct excl *x, struct prefix *out)
{
	bool v4 = family == AF_INET;
	size_t i, n = v4 ? ARRAY_SIZE(well_known4) : ARRAY_SIZE(well_known6);

	for (i = 0; i < n; i++) {
		/* 192.0.2.99 last: it is the stand-in for "any destination". */
		const char *s = v4 ? well_known4[(i + 1) % n] : well_known6[(i + 1) % n];

		addr_parse(family, s, (uint8_t)full_len(family), out);
		if (!in_any(allowed, nallowed, out) && !excluded(x, out))
			return true;
	}
	for (i = 0; i < nallowed; i++) {
		if (allowed[i].family != family || !allowed[i].len)
			continue;
		addr_after(&allowed[i], out);
		if (!in_any(allowed, nallowed, out) && !excluded(x, out))
			return true;
		addr_prev(&allowed[i], out);
		if (!in_any(allowed, nallowed, out) && !excluded(x, out))
			return true;
	}
	return false;
}

/* The stand-in for "any destination": the first free well-known one. */
static bool pick_any(int family, const struct excl *x, struct prefix *out)
{
	bool v4 = family == AF_INET;
	size_t i, n = v4 ? ARRAY_SIZE(well_known4) : ARRAY_SIZE(well_known6);

	for (i = 0; i < n; i++) {
		addr_parse(family, v4 ? well_known4[i] : well_known6[i], (uint8_t)full_len(family),
			   out);
		if (!excluded(x, out))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------ the oracle */

static bool jail_has_family(const struct jail *j, int family)
{
	if (j->backend == BACKEND_UID)
		return true;
	return family == AF_INET ? j->has_v4 : j->has_v6;
}

static bool proto_family_ok(enum proto proto, int family)
{
	if (proto == PROTO_ICMP)
		return family == AF_INET;
	if (proto == PROTO_ICMPV6)
		return family == AF_INET6;
	return true;
}

static bool rule_has_port(const struct rule *r, uint16_t port)
{
	size_t i;

	if (!proto_has_ports(r->proto) || !r->nports)
		return true;
	for (i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

bool probe_allowed(const struct jail *j, enum proto proto, const struct prefix *dst, uint16_t port,
		   enum probe_dst kind)
{
	size_t i, k;

	if (!proto_family_ok(proto, dst->family) || !jail_has_family(j, dst->family))
		return false;
	if (kind == PROBE_DST_JAIL)
		return false; /* jail to jail: always dropped, either backend */
	/*
	 * Broadcast and multicast reach the host's own sockets: a uid jail
	 * may send none (they would go out on the wire too), a netns jail's
	 * reach the host only, so they count as the host.
	 */
	if (kind == PROBE_DST_BCAST) {
		if (j->backend == BACKEND_UID)
			return false;
		kind = PROBE_DST_HOST;
	}
	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];

		if (r->proto != proto || !rule_has_port(r, port))
			continue;
		if (!r->ndests && kind != PROBE_DST_HOST)
			return true;
		for (k = 0; k < r->ndests; k++) {
			const struct dest *d = &r->dests[k];

			if (d->kind == DEST_HOST) {
				if (kind == PROBE_DST_HOST)
					return true;
				continue;
			}
			if (kind == PROBE_DST_HOST)
				continue; /* the host is reached only through "to host" */
			if (prefix_contains(&d->pfx, dst))
				return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------ planning */

struct planner {
	const struct policy *p;
	struct probe_plan *plan;
	struct excl x;
	size_t first; /* the current jail's first probe */
};

static void probe_note(struct planner *pl, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void probe_note(struct planner *pl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*VEC_PUSH(pl->plan->notes, pl->plan->nnotes) = xvasprintf(fmt, ap);
	va_end(ap);
}

static void add_inet_addr(struct planner *pl, const struct prefix *a)
{
	struct probe_plan *plan = pl->plan;
	size_t i;

	for (i = 0; i < plan->ninet; i++)
		if (addr_eq(&plan->inet_addrs[i], a))
			return;
	*VEC_PUSH(plan->inet_addrs, plan->ninet) = *a;
}

static bool same_opt_addr(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && (!a->family || addr_eq(a, b));
}

static bool same_probe(const struct probe *a, const struct probe *b)
{
	return a->from == b->from && a->jail == b->jail && a->proto == b->proto &&
	       a->port == b->port && a->at == b->at && a->at_jail == b->at_jail &&
	       addr_eq(&a->dst, &b->dst) && a->bcast == b->bcast && !strcmp(a->ifname, b->ifname) &&
	       same_opt_addr(&a->src, &b->src) && same_opt_addr(&a->via, &b->via) &&
	       same_opt_addr(&a->control_dst, &b->control_dst);
}

/* Add a probe unless the same packet is already planned for this jail. */
static struct probe *add_probe(struct planner *pl, const struct probe *pr)
{
	struct probe_plan *plan = pl->plan;
	struct probe *np;
	size_t i;

	for (i = pl->first; i < plan->nprobes; i++)
		if (same_probe(&plan->probes[i], pr))
			return NULL;
	np = VEC_PUSH(plan->probes, plan->nprobes);
	*np = *pr;
	np->has_control = !np->expect_pass && np->kind != PK_UNPUBLISHED;
	/* An echo beyond the host is answered by the internet, which must own it. */
	if (np->at == PROBE_AT_INTERNET || (np->at == PROBE_AT_ECHO && !excluded(&pl->x, &np->dst)))
		add_inet_addr(pl, &np->dst);
	return np;
}

/* The base name of a file, for short "file:line" labels. */
static const char *probe_base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "?";
}

/* "allow tcp/80,443 to 192.0.2.0/24, host", re-printed from the model. */
static void rule_text(const struct rule *r, struct strbuf *sb)
{
	char buf[PREFIX_STRLEN];
	size_t i;

	sb_puts(sb, "allow ");
	rule_spec_str(r, sb);
	for (i = 0; i < r->ndests; i++) {
		sb_puts(sb, i ? ", " : " to ");
		sb_puts(sb,
			r->dests[i].kind == DEST_HOST ? "host" : prefix_str(&r->dests[i].pfx, buf));
	}
}

/* "publish tcp/8000-8002:9000" */
static void publish_text(const struct publish *pb, char *buf, size_t len)
{
	int n = snprintf(buf, len, "publish %s/%u", proto_name(pb->proto), pb->ext_lo);

	if (n < 0 || (size_t)n >= len)
		return;
	if (pb->ext_hi != pb->ext_lo)
		n += snprintf(buf + n, len - (size_t)n, "-%u", pb->ext_hi);
	if ((size_t)n < len && pb->int_lo != pb->ext_lo)
		snprintf(buf + n, len - (size_t)n, ":%u", pb->int_lo);
}

static void what_rule(struct probe *pr, const struct rule *r)
{
	struct strbuf sb;

	sb_init(&sb);
	rule_text(r, &sb);
	sb_printf(&sb, ", %s:%u", probe_base_name(r->loc.file), r->loc.line);
	snprintf(pr->what, sizeof(pr->what), "%s", sb.s);
	sb_free(&sb);
}

static void what_str(struct probe *pr, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void what_str(struct probe *pr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pr->what, sizeof(pr->what), fmt, ap);
	va_end(ap);
}

/* The ports a rule's probes use: first and last of each range. */
static size_t rule_ports(const struct rule *r, uint16_t *out, size_t max)
{
	size_t i, n = 0;

	if (!proto_has_ports(r->proto)) {
		out[n++] = 0;
		return n;
	}
	if (!r->nports) {
		/* The whole protocol: its first and last port. */
		out[n++] = 1;
		out[n++] = 65535;
		return n;
	}
	for (i = 0; i < r->nports && n + 2 <= max; i++) {
		out[n++] = r->ports[i].lo;
		if (r->ports[i].hi != r->ports[i].lo)
			out[n++] = r->ports[i].hi;
	}
	return n;
}

/* Whether any rule of j allows proto on port, whatever the destination. */
static bool jail_port_used(const struct jail *j, enum proto proto, uint16_t port)
{
	size_t i;

	for (i = 0; i < j->nrules; i++)
		if (j->rules[i].proto == proto && rule_has_port(&j->rules[i], port))
			return true;
	return false;
}

/* A port next to near that no rule of j allows for proto; 0 if none. */
static uint16_t free_port(const struct jail *j, enum proto proto, uint16_t near)
{
	unsigned int q;

	for (q = (unsigned int)near + 1; q <= 65535; q++)
		if (!jail_port_used(j, proto, (uint16_t)q))
			return (uint16_t)q;
	for (q = near; q-- > 1;)
		if (!jail_port_used(j, proto, (uint16_t)q))
			return (uint16_t)q;
	return 0;
}

/* Every prefix of family that allows proto/port from j (to NET). */
static size_t allowed_prefixes(const struct jail *j, enum proto proto, uint16_t port, int family,
			       struct prefix **out)
{
	size_t i, k, n = 0;

	*out = NULL;
	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];

		if (r->proto != proto || !rule_has_port(r, port))
			continue;
		for (k = 0; k < r->ndests; k++)
			if (r->dests[k].kind == DEST_PREFIX && r->dests[k].pfx.family == family)
				*VEC_PUSH(*out, n) = r->dests[k].pfx;
	}
	return n;
}

/* The host as a jail sees it: loopback (uid) or the veth's host side. */
static bool host_target(const struct jail *j, int family, struct prefix *out)
{
	if (j->backend == BACKEND_UID) {
		addr_parse(family, family == AF_INET ? "127.0.0.1" : "::1",
			   (uint8_t)full_len(family), out);
		return true;
	}
	if (!jail_has_family(j, family))
		return false;
	jail_addr_host(family == AF_INET ? &j->v4 : &j->v6, out);
	return true;
}

static const int families[2] = {AF_INET, AF_INET6};

static const char *fam_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* One destination of a rule's probes. */
struct target {
	struct prefix addr;
	enum probe_dst kind;
};

/* The destinations a rule's allow probes go to. */
static size_t rule_targets(struct planner *pl, const struct jail *j, const struct rule *r,
			   struct target *t, size_t max)
{
	char buf[PREFIX_STRLEN];
	size_t i, f, n = 0;

	if (!r->ndests) {
		for (f = 0; f < 2 && n < max; f++) {
			if (!proto_family_ok(r->proto, families[f]) ||
			    !jail_has_family(j, families[f]))
				continue;
			if (pick_any(families[f], &pl->x, &t[n].addr)) {
				t[n++].kind = PROBE_DST_NET;
			}
		}
		return n;
	}
	for (i = 0; i < r->ndests && n < max; i++) {
		const struct dest *d = &r->dests[i];

		if (d->kind == DEST_HOST) {
			for (f = 0; f < 2 && n < max; f++) {
				if (!proto_family_ok(r->proto, families[f]) ||
				    !host_target(j, families[f], &t[n].addr))
					continue;
				t[n++].kind = PROBE_DST_HOST;
			}
			continue;
		}
		if (!jail_has_family(j, d->pfx.family)) {
			probe_note(pl, "%s:%u: jail %s has no %s prefix: %s not probed",
				   probe_base_name(d->loc.file), d->loc.line, j->name,
				   fam_name(d->pfx.family), prefix_str(&d->pfx, buf));
			continue;
		}
		if (!pick_inside(&d->pfx, &pl->x, &t[n].addr)) {
			probe_note(pl,
				   "%s:%u: jail %s: no address in %s can be probed (it is the "
				   "sandbox's own, a jail's, or not unicast)",
				   probe_base_name(d->loc.file), d->loc.line, j->name,
				   prefix_str(&d->pfx, buf));
			continue;
		}
		t[n++].kind = PROBE_DST_NET;
	}
	return n;
}

static enum probe_at at_for(enum probe_dst kind, enum proto proto)
{
	if (proto == PROTO_ICMP || proto == PROTO_ICMPV6)
		return PROBE_AT_ECHO;
	return kind == PROBE_DST_HOST ? PROBE_AT_HOST : PROBE_AT_INTERNET;
}

/* A probe from jail ji; its expectation from the oracle. */
static void jail_probe(struct probe *pr, size_t ji, const struct jail *j, enum probe_kind kind,
		       enum proto proto, const struct prefix *dst, uint16_t port,
		       enum probe_dst dkind, const struct rule *r)
{
	memset(pr, 0, sizeof(*pr));
	pr->jail = ji;
	pr->kind = kind;
	pr->from = PROBE_FROM_JAIL;
	pr->at = at_for(dkind, proto);
	pr->proto = proto;
	pr->dst = *dst;
	pr->port = pr->listen_port = proto_has_ports(proto) ? port : 0;
	pr->rule = r;
	pr->loc = r ? r->loc : j->loc;
	pr->expect_pass = probe_allowed(j, proto, dst, pr->port, dkind);
}

/* Add a near miss, but only if the policy really drops it. */
static void add_miss(struct planner *pl, struct probe *pr)
{
	if (!pr->expect_pass)
		add_probe(pl, pr);
}

static void plan_rule(struct planner *pl, size_t ji, const struct jail *j, const struct rule *r)
{
	struct target t[16];
	uint16_t ports[64], q; /* first and last of up to 32 ranges */
	struct prefix *allowed = NULL, addr;
	size_t nt, np, i, k, f, na;
	struct probe pr;
	bool fam_seen[2] = {false, false}, only_prefixes = r->ndests > 0;
	enum proto other;

	nt = rule_targets(pl, j, r, t, ARRAY_SIZE(t));
	np = rule_ports(r, ports, ARRAY_SIZE(ports));
	for (i = 0; i < nt; i++) {
		for (k = 0; k < np; k++) {
			jail_probe(&pr, ji, j, PK_ALLOW, r->proto, &t[i].addr, ports[k], t[i].kind,
				   r);
			what_rule(&pr, r);
			add_probe(pl, &pr);
		}
	}
	if (!nt)
		return;

	/* Another port, to the first target of each family. */
	q = proto_has_ports(r->proto) && r->nports ? free_port(j, r->proto, ports[np - 1]) : 0;
	for (i = 0; q && i < nt; i++) {
		f = t[i].addr.family == AF_INET6;
		if (fam_seen[f])
			continue;
		fam_seen[f] = true;
		jail_probe(&pr, ji, j, PK_PORT, r->proto, &t[i].addr, q, t[i].kind, r);
		what_str(&pr, "another port");
		add_miss(pl, &pr);
	}

	/* Another protocol, same port, to the first target. */
	if (r->proto == PROTO_TCP || r->proto == PROTO_UDP) {
		other = r->proto == PROTO_TCP ? PROTO_UDP : PROTO_TCP;
		jail_probe(&pr, ji, j, PK_PROTO, other, &t[0].addr, ports[0], t[0].kind, r);
		what_str(&pr, "another protocol");
		add_miss(pl, &pr);
	} else {
		other = r->proto == PROTO_ICMP ? PROTO_ICMPV6 : PROTO_ICMP;
		if (jail_has_family(j, other == PROTO_ICMP ? AF_INET : AF_INET6) &&
		    pick_any(other == PROTO_ICMP ? AF_INET : AF_INET6, &pl->x, &addr)) {
			jail_probe(&pr, ji, j, PK_FAMILY, other, &addr, 0, PROBE_DST_NET, r);
			what_str(&pr, "the other family");
			add_miss(pl, &pr);
		}
	}

	/* Another address, and the other family, for rules with prefixes. */
	for (i = 0; i < r->ndests; i++)
		if (r->dests[i].kind != DEST_PREFIX)
			only_prefixes = false;
	if (!only_prefixes)
		return;
	fam_seen[0] = fam_seen[1] = false;
	for (i = 0; i < r->ndests; i++)
		fam_seen[r->dests[i].pfx.family == AF_INET6] = true;
	for (f = 0; f < 2; f++) {
		int fam = families[f];

		if (!jail_has_family(j, fam) || !proto_family_ok(r->proto, fam))
			continue;
		na = allowed_prefixes(j, r->proto, ports[0], fam, &allowed);
		if (pick_outside(fam, allowed, na, &pl->x, &addr)) {
			jail_probe(&pr, ji, j, fam_seen[f] ? PK_ADDR : PK_FAMILY, r->proto, &addr,
				   ports[0], PROBE_DST_NET, r);
			what_str(&pr, fam_seen[f] ? "another address" : "the other family");
			add_miss(pl, &pr);
		}
		free(allowed);
		allowed = NULL;
	}
}

/*
 * The port (and protocol) the jail-wide near misses use: one the jail may
 * send to the internet, so that only the destination makes the
 * difference; else one it may send to the host; else ssh.
 */
static void pick_probe_port(const struct jail *j, enum probe_dst prefer, enum proto *proto,
			    uint16_t *port)
{
	size_t i, k;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < j->nrules; i++) {
			const struct rule *r = &j->rules[i];
			bool host = false;

			if (!proto_has_ports(r->proto))
				continue;
			for (k = 0; k < r->ndests; k++)
				host |= r->dests[k].kind == DEST_HOST;
			if (pass == 0 && (prefer == PROBE_DST_HOST ? !host : r->ndests != 0))
				continue;
			*proto = r->proto;
			*port = r->nports ? r->ports[0].lo : 1;
			return;
		}
	}
	*proto = PROTO_TCP;
	*port = 22;
}

static void plan_host(struct planner *pl, size_t ji, const struct jail *j)
{
	struct prefix addr[2];
	struct probe pr;
	enum proto proto;
	uint16_t port[2];
	size_t f, k, n, c;

	/*
	 * A port the jail may use elsewhere, so that only the destination
	 * makes the difference ("any" stops short of the host); if the host
	 * is allowed on it, a port next to it that is allowed nowhere.
	 */
	pick_probe_port(j, PROBE_DST_NET, &proto, &port[0]);
	port[1] = free_port(j, proto, port[0]);
	for (f = 0; f < 2; f++) {
		n = 0;
		if (host_target(j, families[f], &addr[n]))
			n++;
		if (jail_has_family(j, families[f])) {
			probe_wan_addr(families[f], true, &addr[n]);
			full_addr(&addr[n++]);
		}
		for (k = 0; k < n; k++) {
			for (c = 0; c < 2 && port[c]; c++) {
				jail_probe(&pr, ji, j, PK_HOST, proto, &addr[k], port[c],
					   PROBE_DST_HOST, NULL);
				if (!pr.expect_pass)
					break;
			}
			if (k == 0)
				what_str(&pr, j->backend == BACKEND_UID ? "the host, loopback"
									: "the host, veth address");
			else
				what_str(&pr, "the host, wan address");
			add_miss(pl, &pr);
		}
		/*
		 * From a netns jail, 127.0.0.1 is the jail's own loopback:
		 * the host's loopback services must be out of reach, `to
		 * host` or not.
		 */
		if (j->backend == BACKEND_NETNS && jail_has_family(j, families[f])) {
			addr_parse(families[f], families[f] == AF_INET ? "127.0.0.1" : "::1",
				   (uint8_t)full_len(families[f]), &addr[0]);
			jail_probe(&pr, ji, j, PK_HOST, proto, &addr[0], port[0], PROBE_DST_HOST,
				   NULL);
			pr.expect_pass = false;
			what_str(&pr, "the host's loopback");
			add_probe(pl, &pr);
		}
	}
}

static void plan_icmp(struct planner *pl, size_t ji, const struct jail *j)
{
	struct prefix addr;
	struct probe pr;
	size_t f;

	for (f = 0; f < 2; f++) {
		enum proto proto = families[f] == AF_INET ? PROTO_ICMP : PROTO_ICMPV6;

		if (!jail_has_family(j, families[f]) || !pick_any(families[f], &pl->x, &addr))
			continue;
		jail_probe(&pr, ji, j, PK_PROTO, proto, &addr, 0, PROBE_DST_NET, NULL);
		what_str(&pr, "%s not allowed", proto_name(proto));
		add_miss(pl, &pr);
	}
}

/* A netns jail's probe target in family: its own address. */
static void jail_target(const struct jail *b, int family, struct prefix *out)
{
	jail_addr_jail(family == AF_INET ? &b->v4 : &b->v6, out);
}

/*
 * Jail to jail: a netns jail to the next netns jail in the policy
 * (cyclic); a uid jail to the first netns jail, by its addresses and by
 * its link-local address on its link.
 */
static void plan_jail(struct planner *pl, size_t ji, const struct jail *j)
{
	const struct policy *p = pl->p;
	struct prefix addr;
	struct probe pr;
	enum proto proto;
	uint16_t port;
	size_t i, f, bi = ji;
	const struct jail *b;

	for (i = 1; i <= p->njails; i++) {
		bi = (j->backend == BACKEND_NETNS ? ji + i : i - 1) % p->njails;
		if (p->jails[bi].backend == BACKEND_NETNS && bi != ji)
			break;
	}
	if (i > p->njails)
		return;
	b = &p->jails[bi];
	pick_probe_port(j, PROBE_DST_NET, &proto, &port);
	for (f = 0; f < 2; f++) {
		if (!jail_has_family(j, families[f]) || !jail_has_family(b, families[f]))
			continue;
		jail_target(b, families[f], &addr);
		jail_probe(&pr, ji, j, PK_JAIL, proto, &addr, port, PROBE_DST_JAIL, NULL);
		pr.at = PROBE_AT_JAIL;
		pr.at_jail = bi;
		what_str(&pr, "another jail: %s", b->name);
		add_miss(pl, &pr);
	}
	if (j->backend != BACKEND_UID || !b->has_v6)
		return;
	addr_parse(AF_INET6, JAIL_LINK_LOCAL, 128, &addr);
	jail_probe(&pr, ji, j, PK_JAIL, proto, &addr, port, PROBE_DST_JAIL, NULL);
	pr.at = PROBE_AT_JAIL;
	pr.at_jail = bi;
	jail_ifname_host(b, pr.ifname);
	jail_ifname_host(b, pr.control_if);
	what_str(&pr, "another jail: %s, link-local", b->name);
	add_miss(pl, &pr);
}

/* The last address of net: its broadcast address, for IPv4. */
static void addr_last(const struct prefix *net, struct prefix *out)
{
	addr_after(net, out);
	addr_prev(out, out);
}

/* The first rule of proto with ports, beyond the host if net, else to it. */
static const struct rule *first_rule(const struct jail *j, enum proto proto, bool net)
{
	size_t i, k;

	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];
		bool host = false;

		if (r->proto != proto)
			continue;
		for (k = 0; k < r->ndests; k++)
			host |= r->dests[k].kind == DEST_HOST;
		if (net ? !r->ndests || !host : host)
			return r;
	}
	return NULL;
}

static uint16_t rule_first_port(const struct rule *r)
{
	return r->nports ? r->ports[0].lo : 1;
}

/*
 * Broadcast and multicast: the kernel hands a copy to the host's own
 * sockets.  On a UDP port the jail may use beyond the host (only the
 * destination makes the difference), and for a netns jail on one it may
 * use to the host too (they count as the host there).
 */
static void plan_bcast(struct planner *pl, size_t ji, const struct jail *j)
{
	const struct rule *rs[2] = {first_rule(j, PROTO_UDP, true),
				    first_rule(j, PROTO_UDP, false)};
	char in[16], out[16];
	struct prefix a, link4, wan4;
	struct probe pr;
	size_t t, k;

	/*
	 * The controls, root on the host, go through the wan: the host's
	 * own broadcast or multicast on a jail's link comes back to it as
	 * the jail's packet, and in_NAME drops it.
	 */
	snprintf(out, sizeof(out), "%s", PROBE_WAN_IF);
	probe_wan_addr(AF_INET, true, &wan4);
	if (j->backend == BACKEND_UID) {
		snprintf(in, sizeof(in), "%s", PROBE_WAN_IF);
		link4 = wan4;
	} else {
		jail_ifname_jail(j, in);
		link4 = j->v4;
		rs[1] = rs[1] == rs[0] ? NULL : rs[1];
	}
	if (j->backend == BACKEND_UID)
		rs[1] = NULL;
	for (k = 0; k < 2; k++) {
		uint16_t port = rs[k] ? rule_first_port(rs[k]) : 9;

		if (k && !rs[k])
			break;
		for (t = 0; t < 4; t++) {
			int fam = t == 3 ? AF_INET6 : AF_INET;

			if (!jail_has_family(j, fam))
				continue;
			if (t == 0)
				addr_parse(AF_INET, "255.255.255.255", 32, &a);
			else if (t == 1)
				addr_last(&link4, &a);
			else if (t == 2)
				addr_parse(AF_INET, "224.0.0.1", 32, &a);
			else
				addr_parse(AF_INET6, "ff02::1", 128, &a);
			jail_probe(&pr, ji, j, PK_BCAST, PROTO_UDP, &a, port, PROBE_DST_BCAST,
				   rs[k]);
			pr.at = PROBE_AT_HOST;
			pr.bcast = t < 2;
			if (t == 1)
				addr_last(&wan4, &pr.control_dst);
			if (t >= 2) {
				snprintf(pr.ifname, sizeof(pr.ifname), "%s", in);
				snprintf(pr.control_if, sizeof(pr.control_if), "%s", out);
			}
			what_str(&pr, "%s to the host",
				 t == 0	  ? "broadcast"
				 : t == 1 ? "the link's broadcast"
					  : "multicast");
			add_probe(pl, &pr);
		}
	}
}

/*
 * A netns jail's datagram from an address that is not its own: the host
 * side's (in its prefix, and the host's), and another prefix (another
 * jail's address, or a documentation one).  UDP only: the far end can
 * tell a datagram arrived, a spoofed TCP connection never opens.
 */
static void plan_spoof(struct planner *pl, size_t ji, const struct jail *j)
{
	const struct policy *p = pl->p;
	const struct rule *r = first_rule(j, PROTO_UDP, true);
	struct target t[16];
	struct prefix src[2];
	struct probe pr;
	size_t nt, i, k, f, o;

	if (j->backend != BACKEND_NETNS)
		return;
	if (!r) {
		probe_note(pl, "jail %s: no udp rule beyond the host: spoofed sources not probed",
			   j->name);
		return;
	}
	nt = rule_targets(pl, j, r, t, ARRAY_SIZE(t));
	for (f = 0; f < 2; f++) {
		int fam = families[f];

		for (i = 0; i < nt && (t[i].addr.family != fam || t[i].kind != PROBE_DST_NET); i++)
			;
		if (i == nt)
			continue;
		jail_addr_host(fam == AF_INET ? &j->v4 : &j->v6, &src[0]);
		addr_parse(fam, fam == AF_INET ? "203.0.113.66" : "2001:db8:dead::66",
			   (uint8_t)full_len(fam), &src[1]);
		for (o = 0; o < p->njails; o++) {
			const struct jail *b = &p->jails[o];

			if (o != ji && b->backend == BACKEND_NETNS && jail_has_family(b, fam)) {
				jail_target(b, fam, &src[1]);
				break;
			}
		}
		for (k = 0; k < 2; k++) {
			char buf[PREFIX_STRLEN];

			jail_probe(&pr, ji, j, PK_SPOOF, PROTO_UDP, &t[i].addr, rule_first_port(r),
				   PROBE_DST_NET, r);
			pr.src = src[k];
			full_addr(&pr.src);
			pr.expect_pass = false;
			what_str(&pr, "spoofed source %s%s", addr_str(&pr.src, buf),
				 k ? "" : ", the host side's");
			add_probe(pl, &pr);
		}
	}
}

/* An IPv6 address of the stand-in internet other than not. */
static bool pick_other6(const struct excl *x, const struct prefix * not, struct prefix *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(well_known6); i++) {
		addr_parse(AF_INET6, well_known6[i], 128, out);
		if (!excluded(x, out) && !addr_eq(out, not ))
			return true;
	}
	return false;
}

/*
 * An IPv6 segment routing header: to an address the jail may reach (A),
 * with the real destination (B) after it, which A hands the packet on to
 * (the sandbox's internet acts on such headers).  UDP where the jail has
 * a rule for it, else TCP.
 */
static void plan_rthdr(struct planner *pl, size_t ji, const struct jail *j)
{
	const struct rule *r = first_rule(j, PROTO_UDP, true);
	struct prefix *allowed = NULL, b;
	struct target t[16];
	struct probe pr;
	size_t nt, i, na;
	uint16_t port;

	if (!r)
		r = first_rule(j, PROTO_TCP, true);
	if (!r || !jail_has_family(j, AF_INET6))
		return;
	nt = rule_targets(pl, j, r, t, ARRAY_SIZE(t));
	for (i = 0; i < nt && (t[i].addr.family != AF_INET6 || t[i].kind != PROBE_DST_NET); i++)
		;
	if (i == nt)
		return;
	port = rule_first_port(r);
	na = allowed_prefixes(j, r->proto, port, AF_INET6, &allowed);
	if (!(na && pick_outside(AF_INET6, allowed, na, &pl->x, &b)) &&
	    !pick_other6(&pl->x, &t[i].addr, &b)) {
		free(allowed);
		return;
	}
	free(allowed);
	jail_probe(&pr, ji, j, PK_RTHDR, r->proto, &b, port, PROBE_DST_NET, r);
	pr.via = t[i].addr;
	pr.expect_pass = false;
	what_str(&pr, "routing header: the real destination after an allowed one");
	add_inet_addr(pl, &pr.via);
	add_probe(pl, &pr);
}

/*
 * A rule's prefix that holds one of the host's addresses (the wan's, a
 * netns jail's host side) does not open the host: only "to host" does.
 */
static void plan_hostpfx(struct planner *pl, size_t ji, const struct jail *j, const struct rule *r)
{
	const struct policy *p = pl->p;
	struct prefix host[64];
	struct probe pr;
	size_t nh = 0, i, k;

	probe_wan_addr(AF_INET, true, &host[nh]);
	full_addr(&host[nh++]);
	probe_wan_addr(AF_INET6, true, &host[nh]);
	full_addr(&host[nh++]);
	for (i = 0; i < p->njails && nh + 2 <= ARRAY_SIZE(host); i++) {
		const struct jail *b = &p->jails[i];

		if (b->backend != BACKEND_NETNS)
			continue;
		if (b->has_v4)
			jail_addr_host(&b->v4, &host[nh++]);
		if (b->has_v6)
			jail_addr_host(&b->v6, &host[nh++]);
	}
	for (k = 0; k < r->ndests; k++) {
		const struct dest *d = &r->dests[k];

		if (d->kind != DEST_PREFIX || !jail_has_family(j, d->pfx.family) ||
		    !proto_family_ok(r->proto, d->pfx.family))
			continue;
		for (i = 0; i < nh; i++) {
			char buf[PREFIX_STRLEN];

			if (!prefix_contains(&d->pfx, &host[i]))
				continue;
			jail_probe(&pr, ji, j, PK_HOST, r->proto, &host[i],
				   proto_has_ports(r->proto) ? rule_first_port(r) : 0,
				   PROBE_DST_HOST, r);
			what_str(&pr, "the host's %s, in the rule's %s", addr_str(&host[i], buf),
				 prefix_str(&d->pfx, (char[PREFIX_STRLEN]){0}));
			add_probe(pl, &pr);
			break;
		}
	}
}

/* Whether any netns jail publishes proto on external port ext. */
static bool port_published(const struct policy *p, enum proto proto, unsigned int ext)
{
	size_t i, k;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_NETNS)
			continue;
		for (k = 0; k < j->npubs; k++)
			if (j->pubs[k].proto == proto && ext >= j->pubs[k].ext_lo &&
			    ext <= j->pubs[k].ext_hi)
				return true;
	}
	return false;
}

static void inbound(struct probe *pr, size_t ji, const struct publish *pb, enum probe_kind kind,
		    const struct prefix *dst, uint16_t port, uint16_t listen_port)
{
	memset(pr, 0, sizeof(*pr));
	pr->jail = ji;
	pr->kind = kind;
	pr->from = PROBE_FROM_INTERNET;
	pr->at = PROBE_AT_JAIL;
	pr->at_jail = ji;
	pr->proto = pb->proto;
	pr->dst = *dst;
	pr->port = port;
	pr->listen_port = listen_port;
	pr->pub = pb;
	pr->loc = pb->loc;
	pr->expect_pass = kind == PK_PUBLISH;
}

static void plan_publish(struct planner *pl, size_t ji, const struct jail *j)
{
	struct prefix wan, direct;
	struct probe pr;
	size_t i, f;

	if (j->backend != BACKEND_NETNS)
		return;
	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];
		unsigned int span = pb->ext_hi - pb->ext_lo, next;
		char ptext[64];

		publish_text(pb, ptext, sizeof(ptext));

		for (f = 0; f < 2; f++) {
			if (!jail_has_family(j, families[f]))
				continue;
			probe_wan_addr(families[f], true, &wan);
			full_addr(&wan);
			inbound(&pr, ji, pb, PK_PUBLISH, &wan, pb->ext_lo, pb->int_lo);
			what_str(&pr, "%s, %s:%u", ptext, probe_base_name(pb->loc.file),
				 pb->loc.line);
			add_probe(pl, &pr);
			if (span) {
				inbound(&pr, ji, pb, PK_PUBLISH, &wan, pb->ext_hi,
					(uint16_t)(pb->int_lo + span));
				what_str(&pr, "%s, %s:%u", ptext, probe_base_name(pb->loc.file),
					 pb->loc.line);
				add_probe(pl, &pr);
			}
			/* The next port, to where a range one too wide would send it. */
			next = (unsigned int)pb->ext_hi + 1;
			if (next <= 65535 && pb->int_lo + span + 1 <= 65535 &&
			    !port_published(pl->p, pb->proto, next)) {
				inbound(&pr, ji, pb, PK_UNPUBLISHED, &wan, (uint16_t)next,
					(uint16_t)(pb->int_lo + span + 1));
				what_str(&pr, "inbound, the port after it");
				add_probe(pl, &pr);
			}
			/* The jail's own port, not through the published one. */
			jail_addr_jail(families[f] == AF_INET ? &j->v4 : &j->v6, &direct);
			inbound(&pr, ji, pb, PK_DIRECT, &direct, pb->int_lo, pb->int_lo);
			what_str(&pr, "inbound, the jail's address directly");
			add_probe(pl, &pr);
		}
	}
}

/*
 * A conntrack probe: never a duplicate of the packet probe it resembles,
 * and its far end is the internet's own (the wan address, or the allow
 * probe's target).
 */
static void add_ct_probe(struct planner *pl, const struct probe *pr)
{
	struct probe *np = VEC_PUSH(pl->plan->probes, pl->plan->nprobes);

	*np = *pr;
	np->has_control = true;
}

/* A UDP probe of kind k from jail ji to the internet's wan address. */
static void udp_to_internet(struct probe *pr, size_t ji, enum probe_kind k, int family)
{
	memset(pr, 0, sizeof(*pr));
	pr->jail = ji;
	pr->kind = k;
	pr->from = PROBE_FROM_JAIL;
	pr->at = PROBE_AT_INTERNET;
	pr->proto = PROTO_UDP;
	probe_wan_addr(family, false, &pr->dst);
	full_addr(&pr->dst);
}

/*
 * A uid jail takes over the port of another user's UDP service once it
 * is closed, and writes to that service's peer: the reply direction of an
 * entry the jail did not answer first (docs/ruleset.md, "Whose answer it
 * is").  The peer's port is one the jail may not use.
 */
static void plan_ride(struct planner *pl, size_t ji, const struct jail *j, int family)
{
	struct probe pr;
	unsigned int port;

	udp_to_internet(&pr, ji, PK_RIDE, family);
	for (port = PROBE_RIDE_PORT; port < PROBE_RIDE_PORT + 64; port++)
		if (!probe_allowed(j, PROTO_UDP, &pr.dst, (uint16_t)port, PROBE_DST_NET))
			break;
	if (port == PROBE_RIDE_PORT + 64) {
		probe_note(pl,
			   "jail %s: may use every udp port near %u, so no reply ride is probed",
			   j->name, PROBE_RIDE_PORT);
		return;
	}
	pr.port = pr.listen_port = (uint16_t)port;
	pr.loc = j->loc;
	what_str(&pr, "the peer of another user's closed udp service, from its port");
	add_ct_probe(pl, &pr);
}

/*
 * The conntrack probes of jail ji (docs/ruleset.md).  The stale flow
 * rides on the jail's first UDP allow probe to the internet: its far end
 * listens there already, and a UDP flow can be kept open across the
 * re-apply without a connection to nurse.  The forged error needs root in
 * the jail, which only a netns jail has.
 */
static void plan_conntrack(struct planner *pl, size_t ji, const struct jail *j)
{
	const struct probe_plan *plan = pl->plan;
	const struct probe *allow = NULL;
	struct probe pr;
	size_t i;

	for (i = pl->first; i < plan->nprobes && !allow; i++) {
		const struct probe *q = &plan->probes[i];

		if (q->kind == PK_ALLOW && q->proto == PROTO_UDP && q->at == PROBE_AT_INTERNET &&
		    q->expect_pass)
			allow = q;
	}
	if (allow) {
		pr = *allow;
		pr.kind = PK_STALE;
		pr.expect_pass = false;
		what_str(&pr, "a flow kept open across a stricter re-apply");
		add_ct_probe(pl, &pr);
	} else if (j->nrules) {
		probe_note(pl,
			   "jail %s: no udp rule to the internet, so no flow is kept open across a "
			   "stricter re-apply",
			   j->name);
	}
	if (j->backend == BACKEND_UID) {
		plan_ride(pl, ji, j, AF_INET);
		plan_ride(pl, ji, j, AF_INET6);
	}
	if (j->backend != BACKEND_NETNS || (!j->has_v4 && !j->has_v6))
		return;
	udp_to_internet(&pr, ji, PK_FORGED, j->has_v4 ? AF_INET : AF_INET6);
	pr.port = pr.listen_port = PROBE_FORGED_PORT;
	pr.loc = j->loc;
	what_str(&pr, "a forged ICMP error quoting the host's flow to it");
	add_ct_probe(pl, &pr);
}

void probe_plan_build(const struct policy *p, struct probe_plan *plan)
{
	struct planner pl = {.p = p, .plan = plan};
	size_t ji, i;

	memset(plan, 0, sizeof(*plan));
	excl_build(p, &pl.x);
	for (ji = 0; ji < p->njails; ji++) {
		const struct jail *j = &p->jails[ji];

		if (j->backend != BACKEND_UID && j->backend != BACKEND_NETNS)
			continue;
		pl.first = plan->nprobes;
		for (i = 0; i < j->nrules; i++) {
			plan_rule(&pl, ji, j, &j->rules[i]);
			plan_hostpfx(&pl, ji, j, &j->rules[i]);
		}
		plan_icmp(&pl, ji, j);
		plan_host(&pl, ji, j);
		plan_jail(&pl, ji, j);
		plan_publish(&pl, ji, j);
		plan_bcast(&pl, ji, j);
		plan_spoof(&pl, ji, j);
		plan_rthdr(&pl, ji, j);
		plan_conntrack(&pl, ji, j);
		if (pl.first == plan->nprobes)
			probe_note(&pl, "jail %s: nothing to probe", j->name);
	}
	free(pl.x.p);
}

void probe_plan_free(struct probe_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nnotes; i++)
		free(plan->notes[i]);
	free(plan->notes);
	free(plan->probes);
	free(plan->inet_addrs);
	memset(plan, 0, sizeof(*plan));
}

const char *probe_str(const struct probe *pr, char *buf, size_t len)
{
	char a[PREFIX_STRLEN], o[PREFIX_STRLEN];
	int n;

	addr_str(&pr->dst, a);
	if (!proto_has_ports(pr->proto))
		n = snprintf(buf, len, "%s %s", proto_name(pr->proto), a);
	else if (pr->dst.family == AF_INET6)
		n = snprintf(buf, len, "%s [%s]:%u", proto_name(pr->proto), a, pr->port);
	else
		n = snprintf(buf, len, "%s %s:%u", proto_name(pr->proto), a, pr->port);
	/* What the sender set, in ip(8)'s words. */
	if (n > 0 && (size_t)n < len && pr->ifname[0])
		n += snprintf(buf + n, len - (size_t)n, " dev %s", pr->ifname);
	if (n > 0 && (size_t)n < len && pr->src.family)
		n += snprintf(buf + n, len - (size_t)n, " from %s", addr_str(&pr->src, o));
	if (n > 0 && (size_t)n < len && pr->via.family)
		snprintf(buf + n, len - (size_t)n, " via %s", addr_str(&pr->via, o));
	return buf;
}

const char *probe_kind_name(enum probe_kind k)
{
	static const char *const names[] = {
	    [PK_ALLOW] = "allow",     [PK_PORT] = "port",	   [PK_ADDR] = "address",
	    [PK_FAMILY] = "family",   [PK_PROTO] = "protocol",	   [PK_HOST] = "host",
	    [PK_JAIL] = "jail",	      [PK_PUBLISH] = "publish",	   [PK_UNPUBLISHED] = "unpublished",
	    [PK_DIRECT] = "direct",   [PK_FORGED] = "forged-icmp", [PK_STALE] = "stale-flow",
	    [PK_BCAST] = "broadcast", [PK_SPOOF] = "spoofed",	   [PK_RTHDR] = "routing-header",
	    [PK_RIDE] = "reply-ride",
	};

	return (size_t)k < ARRAY_SIZE(names) ? names[k] : "?";
}

const char *probe_from_name(enum probe_from f)
{
	switch (f) {
	case PROBE_FROM_JAIL:
		return "jail";
	case PROBE_FROM_INTERNET:
		return "internet";
	case PROBE_FROM_HOST:
		return "host";
	}
	return "?";
}

/* ------------------------------------------------------------ the engine */

/*
 * The token a TCP or UDP probe carries: the run, the probe, and whether it
 * is the control.  The far end reports only tokens of this run, so a stray
 * packet can never count as a probe getting through.
 */
#define TOKEN_FMT "JFV %08x %zu %c\n"
#define TOKEN_MAX PROBE_TOKEN_MAX

size_t probe_token(char buf[PROBE_TOKEN_MAX], uint32_t nonce, size_t idx, bool control)
{
	return (size_t)snprintf(buf, PROBE_TOKEN_MAX, TOKEN_FMT, nonce, idx, control ? 'c' : 'p');
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to the report pipe: short enough for one atomic write. */
static void probe_report(int fd, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void probe_report(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	while (write(fd, line, (size_t)n) < 0 && errno == EINTR)
		;
}

socklen_t probe_sockaddr(const struct prefix *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->addr.v4;
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->addr.v6;
		return sizeof(*sin6);
	}
}

enum { SEND_PENDING, SEND_CONNECTING, SEND_WAITING, SEND_DONE };

struct sender {
	const struct probe_op *op;
	unsigned int ifindex; /* op->ifname's, where it is sent */
	int fd;
	int state;
	int sends; /* UDP, ICMP: datagrams sent so far */
	long long next, deadline;
	int ok; /* 1 answered / connected, 0 not, -1 could not even be sent */
	int err;
	char token[TOKEN_MAX];
	size_t tlen;
};

static void sender_finish(struct sender *s, int ok, int err)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = SEND_DONE;
	s->ok = ok;
	if (err)
		s->err = err;
}

/* An ICMP echo request: the kernel fills in the identifier and checksum. */
static void send_echo(struct sender *s, socklen_t alen, const struct sockaddr_storage *ss)
{
	unsigned char pkt[16] = {0};

	pkt[0] = s->op->proto == PROTO_ICMP ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	pkt[7] = (unsigned char)s->sends;
	memcpy(pkt + 8, "jailfw!", 8);
	if (sendto(s->fd, pkt, sizeof(pkt), 0, (const struct sockaddr *)ss, alen) < 0)
		s->err = errno;
}

/* The destination, with the scope of a link-local or multicast IPv6 one. */
static socklen_t sender_addr(const struct sender *s, struct sockaddr_storage *ss)
{
	socklen_t alen = probe_sockaddr(&s->op->dst, s->op->port, ss);

	if (s->op->dst.family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_scope_id = s->ifindex;
	return alen;
}

static bool addr_multicast(const struct prefix *a)
{
	return a->family == AF_INET ? (a->addr.b[0] & 0xf0) == 0xe0 : a->addr.b[0] == 0xff;
}

/* IPV6_RTHDR: a segment routing header (type 4) with one segment, via. */
static int set_srh(int fd, const struct prefix *via)
{
	unsigned char srh[8 + 2 * 16] = {0};

	srh[1] = 4; /* length in 8 octets, the first 8 left out */
	srh[2] = 4; /* type: segment routing */
	srh[3] = 1; /* segments left */
	srh[4] = 1; /* last entry */
	/* Segment 0 is the socket's destination (the kernel puts it there). */
	memcpy(srh + 8 + 16, via->addr.b, 16);
	return setsockopt(fd, IPPROTO_IPV6, IPV6_RTHDR, srh, sizeof(srh));
}

/*
 * What an attacker sets on the socket before sending.  A failure is kept
 * as the probe's detail; the packet goes out (or not) as the kernel says.
 */
static int sender_options(struct sender *s)
{
	const struct probe_op *op = s->op;
	struct sockaddr_storage ss;
	int one = 1, idx = (int)s->ifindex;

	if (op->bcast && setsockopt(s->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0)
		return errno;
	/* A link-local destination needs only its scope (sender_addr). */
	if (!s->ifindex || !addr_multicast(&op->dst))
		idx = 0;
	if (idx && op->dst.family == AF_INET6 &&
	    setsockopt(s->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0)
		return errno;
	if (idx && op->dst.family == AF_INET) {
		struct ip_mreqn mr = {.imr_ifindex = idx};

		if (setsockopt(s->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			return errno;
	}
	if (op->src.family) {
		/*
		 * IP_FREEBIND binds an address that is not ours; IPv4 routes
		 * from it only with IP_TRANSPARENT too (CAP_NET_ADMIN, which
		 * root in a netns jail has).
		 */
		if (setsockopt(s->fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
		    (op->src.family == AF_INET &&
		     setsockopt(s->fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one)) < 0) ||
		    bind(s->fd, (struct sockaddr *)&ss, probe_sockaddr(&op->src, 0, &ss)) < 0)
			return errno;
	}
	if (op->via.family && set_srh(s->fd, &op->via) < 0)
		return errno;
	return 0;
}

static void sender_start(struct sender *s, uint32_t nonce, long long now)
{
	const struct probe_op *op = s->op;
	struct sockaddr_storage ss;
	socklen_t alen;
	int type = op->proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, proto = 0, err;

	if (op->proto == PROTO_ICMP)
		proto = IPPROTO_ICMP;
	else if (op->proto == PROTO_ICMPV6)
		proto = IPPROTO_ICMPV6;
	s->deadline = now + op->timeout_ms;
	s->tlen = probe_token(s->token, nonce, op->idx, op->control);
	s->ifindex = op->ifname[0] ? if_nametoindex(op->ifname) : 0;
	alen = sender_addr(s, &ss);
	s->fd = socket(op->dst.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (s->fd < 0) {
		sender_finish(s, -1, errno);
		return;
	}
	err = sender_options(s);
	if (err) {
		sender_finish(s, -1, err);
		return;
	}
	if (op->proto == PROTO_TCP) {
		if (connect(s->fd, (struct sockaddr *)&ss, alen) == 0) {
			if (send(s->fd, s->token, s->tlen, MSG_NOSIGNAL) < 0)
				s->err = errno;
			sender_finish(s, 1, 0);
		} else if (errno == EINPROGRESS) {
			s->state = SEND_CONNECTING;
		} else {
			sender_finish(s, 0, errno);
		}
		return;
	}
	/*
	 * UDP and ICMP: three datagrams, so that one lost to neighbour
	 * resolution does not read as a drop.  A datagram dropped in the
	 * output hook fails right here with EPERM: kept as the detail.
	 */
	s->state = SEND_WAITING;
	s->sends = 0;
	s->next = now;
}

static void sender_tick(struct sender *s, long long now)
{
	struct sockaddr_storage ss;
	socklen_t alen;

	if (s->state == SEND_DONE)
		return;
	if (s->state == SEND_WAITING && s->sends < 3 && now >= s->next) {
		alen = sender_addr(s, &ss);
		if (s->op->proto == PROTO_UDP) {
			if (sendto(s->fd, s->token, s->tlen, 0, (struct sockaddr *)&ss, alen) < 0)
				s->err = errno;
		} else {
			send_echo(s, alen, &ss);
		}
		s->sends++;
		s->next = now + PROBE_UDP_GAP_MS;
		/* UDP has no answer to wait for: the listener tells. */
		if (s->op->proto == PROTO_UDP && s->sends == 3)
			sender_finish(s, 0, 0);
		return;
	}
	if (now >= s->deadline)
		sender_finish(s, 0, s->err ? 0 : ETIMEDOUT);
}

static void sender_event(struct sender *s, short revents)
{
	unsigned char buf[256];
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (s->state == SEND_CONNECTING) {
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			sender_finish(s, 0, err);
			return;
		}
		if (send(s->fd, s->token, s->tlen, MSG_NOSIGNAL) < 0)
			s->err = errno;
		sender_finish(s, 1, 0);
		return;
	}
	if (!(revents & (POLLIN | POLLERR)))
		return;
	/* ICMP: an echo reply ends it; an error (unreachable) is noted. */
	n = recv(s->fd, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			s->err = errno;
		return;
	}
	if (n > 0 && buf[0] == (s->op->proto == PROTO_ICMP ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
		sender_finish(s, 1, 0);
}

/* At most this many probes in flight, well below the usual 1024 fds. */
#define SEND_WINDOW 256

static void send_window(const struct probe_op *ops, size_t n, uint32_t nonce, int report_fd)
{
	struct sender s[SEND_WINDOW];
	struct pollfd pfd[SEND_WINDOW];
	size_t map[SEND_WINDOW];
	long long now = now_ms(), wake;
	size_t i, np, left;
	int timeout;

	for (i = 0; i < n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		s[i].op = &ops[i];
		s[i].fd = -1;
		sender_start(&s[i], nonce, now);
	}
	for (;;) {
		now = now_ms();
		np = left = 0;
		wake = now + 1000;
		for (i = 0; i < n; i++) {
			sender_tick(&s[i], now);
			if (s[i].state == SEND_DONE)
				continue;
			left++;
			if (s[i].deadline < wake)
				wake = s[i].deadline;
			if (s[i].state == SEND_WAITING && s[i].sends < 3 && s[i].next < wake)
				wake = s[i].next;
			if (s[i].state == SEND_CONNECTING ||
			    (s[i].state == SEND_WAITING && s[i].op->proto != PROTO_UDP)) {
				pfd[np].fd = s[i].fd;
				pfd[np].events = s[i].state == SEND_CONNECTING ? POLLOUT : POLLIN;
				pfd[np].revents = 0;
				map[np++] = i;
			}
		}
		if (!left)
			break;
		timeout = wake > now ? (int)(wake - now) : 0;
		if (poll(pfd, np, timeout) < 0 && errno != EINTR)
			break;
		for (i = 0; i < np; i++)
			if (pfd[i].revents)
				sender_event(&s[map[i]], pfd[i].revents);
	}
	for (i = 0; i < n; i++) {
		if (s[i].state != SEND_DONE)
			sender_finish(&s[i], 0, ETIMEDOUT);
		probe_report(report_fd, "P %zu %c %d %d\n", s[i].op->idx,
			     s[i].op->control ? 'c' : 'p', s[i].ok, s[i].err);
	}
}

int probe_send(const struct probe_op *ops, size_t nops, uint32_t nonce, unsigned int id,
	       int report_fd)
{
	size_t i, n;

	for (i = 0; i < nops; i += n) {
		n = nops - i < SEND_WINDOW ? nops - i : SEND_WINDOW;
		send_window(ops + i, n, nonce, report_fd);
	}
	probe_report(report_fd, "D %u\n", id);
	return 0;
}

/* ---- the listener ---- */

struct lsock {
	int fd;
	enum proto proto; /* tcp listener, udp socket, or an accepted tcp connection */
	bool conn;
	char buf[TOKEN_MAX];
	size_t len;
	char peer[INET6_ADDRSTRLEN];
};

static const char *peer_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a = ss->ss_family == AF_INET
			    ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
			    : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (!inet_ntop(ss->ss_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* Report a token if it is one of this run's. */
static bool got_token(const char *text, size_t len, const char *peer, uint32_t nonce,
		      unsigned int id, int report_fd)
{
	char tok[TOKEN_MAX], kind;
	unsigned int got;
	size_t idx;

	if (len >= sizeof(tok))
		len = sizeof(tok) - 1;
	memcpy(tok, text, len);
	tok[len] = '\0';
	if (sscanf(tok, "JFV %8x %zu %c", &got, &idx, &kind) != 3 || got != nonce ||
	    (kind != 'p' && kind != 'c'))
		return false;
	probe_report(report_fd, "L %u %zu %c %s\n", id, idx, kind, peer);
	return true;
}

/*
 * A datagram: its token reported, and answered as a service would, from
 * the address it came to (the internet owns many), so that conntrack sees
 * the reply and a flow kept open is an established one (PK_STALE).
 */
static void udp_token(int fd, uint32_t nonce, unsigned int id, int report_fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_storage ss;
	char buf[TOKEN_MAX], peer[INET6_ADDRSTRLEN];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr mh = {.msg_name = &ss,
			    .msg_namelen = sizeof(ss),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c;
	ssize_t got = recvmsg(fd, &mh, 0);

	if (got <= 0 ||
	    !got_token(buf, (size_t)got, peer_str(&ss, peer, sizeof(peer)), nonce, id, report_fd))
		return;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)CMSG_DATA(c);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			((struct in6_pktinfo *)CMSG_DATA(c))->ipi6_ifindex = 0;
		}
	}
	iov.iov_base = "ok\n";
	iov.iov_len = 3;
	sendmsg(fd, &mh, 0);
}

static int bind_one(int family, enum proto proto, uint16_t port, struct lsock *ls)
{
	struct prefix any = {.family = family};
	struct sockaddr_storage ss;
	socklen_t alen = probe_sockaddr(&any, port, &ss);
	int one = 1, fd, err;

	fd = socket(family,
		    (proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Which address a datagram came to: the answer goes out from it. */
	if (proto == PROTO_UDP && family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	else if (proto == PROTO_UDP)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, alen) < 0 ||
	    (proto == PROTO_TCP && listen(fd, 128) < 0)) {
		err = -errno;
		close(fd);
		return err;
	}
	memset(ls, 0, sizeof(*ls));
	ls->fd = fd;
	ls->proto = proto;
	return 0;
}

static void lsock_close(struct lsock *socks, size_t *n, size_t i)
{
	close(socks[i].fd);
	socks[i] = socks[--*n];
}

/* Accepted connections kept at once; the oldest goes when full. */
#define LISTEN_CONNS 512

int probe_listen(const struct probe_port *ports, size_t nports, uint32_t nonce, unsigned int id,
		 int report_fd, int lifetime_ms)
{
	struct lsock *socks = NULL;
	struct pollfd *pfd = NULL;
	size_t n = 0, nbound, i, f, nconn = 0;
	long long end = now_ms() + lifetime_ms, now;
	int ret = 0, err;

	for (i = 0; i < nports; i++) {
		for (f = 0; f < 2; f++) {
			struct lsock ls;

			err = bind_one(f ? AF_INET6 : AF_INET, ports[i].proto, ports[i].port, &ls);
			if (err == -EAFNOSUPPORT)
				continue;
			if (err == -EADDRINUSE && i && ports[i - 1].proto == ports[i].proto &&
			    ports[i - 1].port == ports[i].port)
				continue; /* a duplicate in the list */
			if (err) {
				probe_report(report_fd, "E %u cannot listen on %s/%u (%s): %s\n",
					     id, proto_name(ports[i].proto), ports[i].port,
					     f ? "IPv6" : "IPv4", strerror(-err));
				ret = err;
				goto out;
			}
			*VEC_PUSH(socks, n) = ls;
		}
	}
	nbound = n;
	probe_report(report_fd, "R %u\n", id);
	for (;;) {
		now = now_ms();
		if (now >= end)
			break;
		pfd = xrealloc(pfd, (n ? n : 1) * sizeof(*pfd));
		for (i = 0; i < n; i++) {
			pfd[i].fd = socks[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (poll(pfd, n, (int)(end - now)) < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = n; i-- > 0;) {
			struct lsock *ls = &socks[i];
			struct sockaddr_storage ss;
			socklen_t slen = sizeof(ss);
			ssize_t got;
			int fd;

			if (i >= n || !pfd[i].revents)
				continue;
			if (ls->conn) {
				got = recv(ls->fd, ls->buf + ls->len, sizeof(ls->buf) - ls->len, 0);
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (got > 0)
					ls->len += (size_t)got;
				if (got <= 0 || memchr(ls->buf, '\n', ls->len) ||
				    ls->len == sizeof(ls->buf)) {
					got_token(ls->buf, ls->len, ls->peer, nonce, id, report_fd);
					lsock_close(socks, &n, i);
					nconn--;
				}
				continue;
			}
			if (ls->proto == PROTO_UDP) {
				udp_token(ls->fd, nonce, id, report_fd);
				continue;
			}
			fd = accept4(ls->fd, (struct sockaddr *)&ss, &slen,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			if (nconn == LISTEN_CONNS) {
				/* The oldest connection is the first after the bound sockets. */
				lsock_close(socks, &n, nbound);
				nconn--;
			}
			{
				struct lsock *c = VEC_PUSH(socks, n);

				memset(c, 0, sizeof(*c));
				c->fd = fd;
				c->proto = PROTO_TCP;
				c->conn = true;
				peer_str(&ss, c->peer, sizeof(c->peer));
				nconn++;
			}
		}
	}
out:
	for (i = 0; i < n; i++)
		close(socks[i].fd);
	free(socks);
	free(pfd);
	return ret;
}

/* ------------------------------------------------------------ forged errors */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static void csum_put(uint8_t *at, uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	at[0] = (uint8_t)(sum >> 8);
	at[1] = (uint8_t)sum;
}

/* An IP header (no options) for a payload of len bytes; returns its size. */
static size_t put_iphdr(uint8_t *b, const struct prefix *src, const struct prefix *dst,
			uint8_t proto, size_t len)
{
	if (src->family == AF_INET) {
		memset(b, 0, 20);
		b[0] = 0x45;
		b[2] = (uint8_t)((20 + len) >> 8);
		b[3] = (uint8_t)(20 + len);
		b[8] = 64;
		b[9] = proto;
		memcpy(b + 12, src->addr.b, 4);
		memcpy(b + 16, dst->addr.b, 4);
		csum_put(b + 10, csum_add(0, b, 20));
		return 20;
	}
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(len >> 8);
	b[5] = (uint8_t)len;
	b[6] = proto;
	b[7] = 64;
	memcpy(b + 8, src->addr.b, 16);
	memcpy(b + 24, dst->addr.b, 16);
	return 40;
}

size_t probe_forge_unreach(uint8_t *buf, const struct prefix *src, const struct prefix *dst,
			   const struct prefix *qsrc, uint16_t qsport, const struct prefix *qdst,
			   uint16_t qdport)
{
	bool v4 = src->family == AF_INET;
	size_t hl = v4 ? 20 : 40, icmp = hl, quoted = icmp + 8, udp, len;
	uint8_t *ic, pseudo[40];
	uint32_t sum;

	/* The quoted datagram: its IP header and UDP header, 6 bytes of data. */
	udp = quoted + put_iphdr(buf + quoted, qsrc, qdst, IPPROTO_UDP, 8 + 6);
	memset(buf + udp, 0, 8 + 6);
	buf[udp] = (uint8_t)(qsport >> 8);
	buf[udp + 1] = (uint8_t)qsport;
	buf[udp + 2] = (uint8_t)(qdport >> 8);
	buf[udp + 3] = (uint8_t)qdport;
	buf[udp + 5] = 8 + 6;
	len = udp + 8 + 6 - icmp;
	ic = buf + icmp;
	memset(ic, 0, 8);
	ic[0] = v4 ? 3 : 1; /* destination unreachable */
	ic[1] = v4 ? 3 : 4; /* port unreachable */
	put_iphdr(buf, src, dst, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, len);
	sum = csum_add(0, ic, len);
	if (!v4) {
		/* ICMPv6 covers a pseudo-header: addresses, length, next header. */
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, src->addr.b, 16);
		memcpy(pseudo + 16, dst->addr.b, 16);
		pseudo[34] = (uint8_t)(len >> 8);
		pseudo[35] = (uint8_t)len;
		pseudo[39] = IPPROTO_ICMPV6;
		sum = csum_add(sum, pseudo, sizeof(pseudo));
	}
	csum_put(ic + 2, sum);
	return icmp + len;
}

/*
 * IPPROTO_RAW sends the packet as it is, its IP header included (IPv6 too,
 * since Linux 4.5): the source is the forger's to choose.
 */
int probe_forge_send(const uint8_t *pkt, size_t len, const struct prefix *dst)
{
	struct sockaddr_storage ss;
	socklen_t alen = probe_sockaddr(dst, 0, &ss);
	int fd = socket(dst->family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW), ret = 0;

	if (fd < 0)
		return -errno;
	if (sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, alen) < 0)
		ret = -errno;
	close(fd);
	return ret;
}
