// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * netns backend: each jail is a network namespace behind a veth pair, so
 * its traffic is routed through the host and filtered there.  Everything is
 * keyed by the host side interface (NAME-out):
 *
 *   forward   iifname vmap @fwd_from -> fwd_NAME    (jail to the world)
 *             oifname vmap @fwd_to   -> fwdto_NAME  (the world to the jail)
 *   input     iifname vmap @in_from  -> in_NAME     (jail to the host)
 *   nat       masquerade the jails' prefixes; DNAT for publish
 *
 * The chain "towards the jail" is fwdto_NAME rather than fwd_to_NAME: a jail
 * called "to_x" would make fwd_NAME collide with fwd_to_NAME of jail "x".
 */
#include <string.h>

#include "render_int.h"

static void netns_collect(struct rctx *c, const struct jail *j)
{
	size_t i, k;

	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];
		unsigned int net = r->ndests ? 0 : DSTF_NET_ANY;
		bool pfx = false, host = false;

		for (k = 0; k < r->ndests; k++) {
			if (r->dests[k].kind == DEST_HOST)
				host = true;
			else
				pfx = true;
		}
		/*
		 * "to host" is the input hook, everything else is forwarded:
		 * a rule naming both is split between the two allowlists.
		 */
		if (net || pfx)
			render_add_rule(c, r, i, RMAP_NET_PORTS, RMAP_NET_PROTOS, net, pfx);
		if (host)
			render_add_rule(c, r, i, RMAP_HOST_PORTS, RMAP_HOST_PROTOS, DSTF_HOSTIN,
					false);
	}
	render_flush_jail(c, j);
}

struct render_netns_facts render_netns_facts(const struct policy *p)
{
	struct render_netns_facts f = {false, false, false, false};
	size_t i;

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_NETNS)
			continue;
		f.any = true;
		f.v4 |= j->has_v4;
		f.v6 |= j->has_v6;
		f.publish |= j->npubs > 0;
	}
	return f;
}

static void render_netns_key_protos(struct rctx *c, const struct relem *e)
{
	struct strbuf *sb = c->sb;

	render_put_ifname(c, e->jail);
	RSB_LIT(sb, " . ");
	sb_puts(sb, proto_name(e->proto));
}

static void render_netns_key_ports(struct rctx *c, const struct relem *e)
{
	render_netns_key_protos(c, e);
	RSB_LIT(c->sb, " . ");
	render_put_ports(c->sb, e->lo, e->hi);
}

static const char *const sep = ",\n\t\t\t     ";

/*
 * The netns jail at or after *i that has an address of family (AF_UNSPEC:
 * any jail), with the element separator written before every one but the
 * first; NULL after the last.  The loops over a set's elements use it.
 */
static const struct jail *next_element(struct rctx *c, size_t *i, bool *first, int family)
{
	const struct policy *p = c->p;

	for (; *i < p->njails; (*i)++) {
		const struct jail *j = &p->jails[*i];

		if (j->backend != BACKEND_NETNS || (family == AF_INET && !j->has_v4) ||
		    (family == AF_INET6 && !j->has_v6))
			continue;
		if (!*first)
			sb_puts(c->sb, sep);
		*first = false;
		return j;
	}
	return NULL;
}

/*
 * What a jail may say on its link, per second: a resolver asks a few times
 * a minute.  A limit per jail, so in a rule of the jail's own chain: a
 * meter in a dynamic set would do with one shared rule, but its elements
 * come and go with the traffic, and the table would never again read as
 * what jailfw loaded (status, apply's "unchanged" and diff compare them).
 */
#define L2_RATE "limit rate 50/second burst 100 packets"

/* A jail-keyed verdict map: "NAME-out" comment "p.conf:L" : jump PFX_NAME. */
static void put_jail_vmap(struct rctx *c, const char *map, const char *chain)
{
	struct strbuf *sb = c->sb;
	const struct jail *j;
	bool first = true;
	size_t i;

	sb_printf(sb,
		  "\tmap %s {\n\t\ttype ifname : verdict\n"
		  "\t\telements = { ",
		  map);
	for (i = 0; (j = next_element(c, &i, &first, AF_UNSPEC)); i++) {
		render_put_ifname(c, j);
		render_put_jail_comment(c, j);
		RSB_LIT(sb, " : jump ");
		render_put_jail_ident(c, chain, j);
	}
	RSB_LIT(sb, " }\n\t}\n");
}

/*
 * The netns jails' prefixes of one family: jail_nets4/6 for masquerade;
 * with own, jail_own4/6, each with its jail's interface, for whose
 * connection an ICMP error is about (net_related): a concatenation rather
 * than rules per jail, which would cost more to load.
 */
static void put_nets(struct rctx *c, int family, bool own)
{
	struct strbuf *sb = c->sb;
	const struct jail *j;
	bool first = true;
	size_t i;

	sb_printf(sb,
		  "\tset jail_%s%c {\n\t\ttype %s%s\n\t\tflags interval\n"
		  "\t\telements = { ",
		  own ? "own" : "nets", family == AF_INET ? '4' : '6', own ? "ifname . " : "",
		  family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0; (j = next_element(c, &i, &first, family)); i++) {
		if (own) {
			render_put_ifname(c, j);
			RSB_LIT(sb, " . ");
		}
		render_put_prefix(sb, family == AF_INET ? &j->v4 : &j->v6);
		render_put_loc_comment(c, family == AF_INET ? &j->v4_loc : &j->v6_loc, NULL);
	}
	RSB_LIT(sb, " }\n\t}\n");
}

static void netns_objects(struct rctx *c)
{
	const struct policy *p = c->p;
	struct render_netns_facts f = render_netns_facts(p);
	struct strbuf *sb = c->sb;
	const struct jail *j;
	bool first = true;
	size_t i;

	if (!f.any)
		return;
	RSB_LIT(sb, "\tset jail_ifs {\n\t\ttype ifname\n\t\telements = { ");
	for (i = 0; (j = next_element(c, &i, &first, AF_UNSPEC)); i++) {
		render_put_ifname(c, j);
		render_put_jail_comment(c, j);
	}
	RSB_LIT(sb, " }\n\t}\n");
	if (p->settings.nwan) {
		RSB_LIT(sb, "\tset wan_ifs {\n\t\ttype ifname\n\t\telements = { ");
		for (i = 0; i < p->settings.nwan; i++) {
			if (i)
				sb_puts(sb, sep);
			render_put_quoted(sb, p->settings.wan[i]);
			render_put_loc_comment(c, &p->settings.wan_loc, NULL);
		}
		RSB_LIT(sb, " }\n\t}\n");
	}
	if (f.v4) {
		put_nets(c, AF_INET, false);
		put_nets(c, AF_INET, true);
	}
	if (f.v6) {
		put_nets(c, AF_INET6, false);
		put_nets(c, AF_INET6, true);
		RSB_LIT(sb, "\tset nd_types {\n\t\ttype icmpv6_type\n"
			    "\t\telements = { nd-neighbor-solicit, nd-neighbor-advert }\n"
			    "\t}\n");
	}
	put_jail_vmap(c, "fwd_from", "fwd_");
	put_jail_vmap(c, "fwd_to", "fwdto_");
	put_jail_vmap(c, "in_from", "in_");
	render_put_map(c, RMAP_NET_PORTS, "net_ports", "ifname . inet_proto . inet_service",
		       render_netns_key_ports);
	render_put_map(c, RMAP_NET_PROTOS, "net_protos", "ifname . inet_proto",
		       render_netns_key_protos);
	render_put_map(c, RMAP_HOST_PORTS, "host_ports", "ifname . inet_proto . inet_service",
		       render_netns_key_ports);
	render_put_map(c, RMAP_HOST_PROTOS, "host_protos", "ifname . inet_proto",
		       render_netns_key_protos);
}

static void render_netns_put_line(struct rctx *c, const char *rule, const char *comment)
{
	RSB_LIT(c->sb, "\t\t");
	sb_puts(c->sb, rule);
	render_put_comment(c->sb, comment);
	rsb_putc(c->sb, '\n');
}

/* "chain NAME {" and its filter hook line: jailfw's filter priority, policy accept. */
static void put_base_chain(struct rctx *c, const char *name, const char *hook)
{
	sb_printf(c->sb,
		  "\tchain %s {\n\t\ttype filter hook %s priority " RENDER_FILTER_PRIO
		  "; policy accept;\n",
		  name, hook);
}

static void render_netns_put_accept(struct rctx *c)
{
	rsb_putn(c->sb, c->mark, c->marklen);
	RSB_LIT(c->sb, " accept");
}

/*
 * Anti-spoofing: a jail may only send from its own address, not from the
 * rest of its prefix (the host side's address is in it), and not at all
 * in a family it has no prefix in.  Towards the host its link-local
 * address is fine too: jailfw gives it a fixed one (provision_links.c), so that
 * no other link-local source, made up to fill the host's neighbour table,
 * gets through.
 */
static void put_antispoof(struct rctx *c, const struct jail *j, bool input)
{
	struct strbuf *sb = c->sb;
	struct prefix own;

	if (j->has_v4) {
		jail_addr_jail(&j->v4, &own);
		RSB_LIT(sb, "\t\tmeta nfproto ipv4 ip saddr != ");
		render_put_prefix(sb, &own);
		RSB_LIT(sb, " counter drop");
		render_put_loc_comment(c, &j->v4_loc, ": anti-spoofing");
	} else {
		RSB_LIT(sb, "\t\tmeta nfproto ipv4 counter drop");
		render_put_loc_comment(c, &j->loc, ": no ipv4 in this jail");
	}
	rsb_putc(sb, '\n');
	if (j->has_v6) {
		RSB_LIT(sb, "\t\tmeta nfproto ipv6 ");
		jail_addr_jail(&j->v6, &own);
		RSB_LIT(sb, "ip6 saddr != ");
		render_put_prefix(sb, &own);
		if (input)
			RSB_LIT(sb, " ip6 saddr != " JAIL_LINK_LOCAL);
		RSB_LIT(sb, " counter drop");
		render_put_loc_comment(c, &j->v6_loc, ": anti-spoofing");
	} else {
		RSB_LIT(sb, "\t\tmeta nfproto ipv6 counter drop");
		render_put_loc_comment(c, &j->loc, ": no ipv6 in this jail");
	}
	rsb_putc(sb, '\n');
}

/*
 * A jail's established packets pass here only in the reply direction of
 * their connection: answers to what came towards it (published ports, the
 * host), or replies to what it opened.  What it sends in a connection's
 * original direction meets the allowlist at every packet (net_common,
 * host_common), so that a flow the policy no longer admits stops at once.
 * Related packets go through net_related.
 */
static void put_established(struct rctx *c, const struct jail *j)
{
	struct strbuf *sb = c->sb;

	RSB_LIT(sb, "\t\tct direction reply ct state established ");
	render_netns_put_accept(c);
	render_put_jail_comment(c, j);
	RSB_LIT(sb, "\n\t\tct state related jump net_related");
	render_put_jail_comment(c, j);
	rsb_putc(sb, '\n');
}

static void put_jail_chains(struct rctx *c, const struct jail *j)
{
	struct strbuf *sb = c->sb;
	size_t i;

	/* From the jail, being forwarded. */
	RSB_LIT(sb, "\tchain ");
	render_put_jail_ident(c, "fwd_", j);
	RSB_LIT(sb, " {\n");
	put_antispoof(c, j, false);
	RSB_LIT(sb, "\t\toifname @jail_ifs counter drop");
	render_put_loc_comment(c, &j->loc, ": jail to jail");
	rsb_putc(sb, '\n');
	render_put_jail_tail(c, j, "net_common");

	/*
	 * Towards the jail: replies, and published ports after DNAT (the
	 * forward hook sees the translated jail port).
	 */
	RSB_LIT(sb, "\tchain ");
	render_put_jail_ident(c, "fwdto_", j);
	RSB_LIT(sb, " {\n");
	put_established(c, j);
	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];

		sb_printf(sb, "\t\tct status dnat meta l4proto %s th dport ",
			  proto_name(pb->proto));
		render_put_ports(sb, pb->int_lo,
				 (uint16_t)(pb->int_lo + (pb->ext_hi - pb->ext_lo)));
		RSB_LIT(sb, " counter ");
		render_netns_put_accept(c);
		render_put_publish_comment(c, pb);
		rsb_putc(sb, '\n');
	}
	RSB_LIT(sb, "\t\tcounter drop");
	render_put_jail_comment(c, j);
	RSB_LIT(sb, "\n\t}\n");

	/* From the jail to the host itself. */
	RSB_LIT(sb, "\tchain ");
	render_put_jail_ident(c, "in_", j);
	RSB_LIT(sb, " {\n");
	if (j->has_v6) {
		RSB_LIT(sb, "\t\texthdr rt exists counter drop");
		render_put_loc_comment(c, &j->v6_loc, ": IPv6 routing header");
		rsb_putc(sb, '\n');
	}
	put_established(c, j);
	RSB_LIT(sb, "\t\tct state invalid drop");
	render_put_jail_comment(c, j);
	rsb_putc(sb, '\n');
	/*
	 * Neighbour discovery, which IPv6 cannot do without, only from the
	 * jail's own addresses (after the anti-spoofing), and duplicate
	 * address detection's solicitations from ::, which make no
	 * neighbour entry: every solicitation the host takes from a source
	 * puts that source in its neighbour table.
	 */
	if (j->has_v6) {
		RSB_LIT(sb, "\t\tip6 saddr :: icmpv6 type nd-neighbor-solicit " L2_RATE " ");
		render_netns_put_accept(c);
		render_put_loc_comment(c, &j->v6_loc, ": duplicate address detection");
		rsb_putc(sb, '\n');
	}
	put_antispoof(c, j, true);
	/* Over the rate, it ends in the jail's counted drop. */
	if (j->has_v6) {
		RSB_LIT(sb, "\t\ticmpv6 type @nd_types " L2_RATE " ");
		render_netns_put_accept(c);
		render_put_loc_comment(c, &j->v6_loc, ": neighbour discovery");
		rsb_putc(sb, '\n');
	}
	render_put_jail_tail(c, j, "host_common");
}

/*
 * Related packets of the netns jails: an ICMP error passes only when it is
 * about one of the jail's own connections, in the direction it travels.
 * conntrack relates an error to the connection its quoted packet belongs
 * to, checking only that the error goes back to that packet's sender
 * (nf_conntrack_inet_error()), so root in a jail can make errors about
 * the host's connections, or another jail's, and have them classified
 * related (docs/ruleset.md).  The jail's own: from the jail (iifname), an
 * error travelling in the original direction of a connection the jail
 * opened, or in the reply direction of one made towards it; towards the
 * jail (oifname), the other way round.  Anything but ICMP is a conntrack
 * helper's expected connection: it returns, and is checked like a new one.
 */
static void put_related_chain(struct rctx *c, const struct render_netns_facts *f)
{
	static const struct {
		const char *rule;
		bool v6;
	} own[] = {
	    {"ct direction original iifname . ct original ip saddr @jail_own4 ", false},
	    {"ct direction reply iifname . ct reply ip saddr @jail_own4 ", false},
	    {"ct direction reply oifname . ct original ip saddr @jail_own4 ", false},
	    {"ct direction original oifname . ct reply ip saddr @jail_own4 ", false},
	    {"ct direction original iifname . ct original ip6 saddr @jail_own6 ", true},
	    {"ct direction reply iifname . ct reply ip6 saddr @jail_own6 ", true},
	    {"ct direction reply oifname . ct original ip6 saddr @jail_own6 ", true},
	    {"ct direction original oifname . ct reply ip6 saddr @jail_own6 ", true},
	};
	struct strbuf *sb = c->sb;
	size_t i;

	RSB_LIT(sb, "\tchain net_related {\n");
	render_netns_put_line(c, "meta l4proto != icmp meta l4proto != ipv6-icmp return",
			      "netns jails: expected connections are checked like new ones");
	for (i = 0; i < ARRAY_SIZE(own); i++) {
		if (own[i].v6 ? !f->v6 : !f->v4)
			continue;
		RSB_LIT(sb, "\t\t");
		sb_puts(sb, own[i].rule);
		render_netns_put_accept(c);
		render_put_comment(sb, "netns jails: ICMP errors of their own connections");
		rsb_putc(sb, '\n');
	}
	render_netns_put_line(c, "drop", "netns jails: ICMP errors of other connections");
	RSB_LIT(sb, "\t}\n");
}

/*
 * DNAT for one publish statement and one family.  A port range mapped to
 * the same ports needs no port in the target (the port is kept); a range
 * shifted elsewhere must map port by port: nft 1.0.6 has no syntax for the
 * kernel's NF_NAT_RANGE_PROTO_OFFSET, and a plain target range would hand
 * out its first free port, not the corresponding one.
 */
static void put_dnat(struct rctx *c, const struct jail *j, const struct publish *pb, int family)
{
	struct strbuf *sb = c->sb;
	struct prefix to;
	uint32_t port, lo = pb->ext_lo, hi = pb->ext_hi;
	bool shifted = lo != hi && pb->int_lo != lo;
	bool v4 = family == AF_INET;

	jail_addr_jail(v4 ? &j->v4 : &j->v6, &to);
	for (port = lo; port <= hi; port++) {
		sb_puts(sb,
			c->p->settings.nwan ? "\t\tiifname @wan_ifs" : "\t\tiifname != @jail_ifs");
		sb_printf(sb, " fib daddr type local %s dport ", proto_name(pb->proto));
		if (shifted)
			render_put_u(sb, port);
		else
			render_put_ports(sb, pb->ext_lo, pb->ext_hi);
		sb_puts(sb, v4 ? " dnat ip to " : " dnat ip6 to ");
		if (lo == hi || shifted) {
			if (!v4)
				rsb_putc(sb, '[');
			render_put_prefix(sb, &to);
			sb_puts(sb, v4 ? ":" : "]:");
			render_put_u(sb, pb->int_lo + (port - lo));
		} else {
			render_put_prefix(sb, &to);
		}
		render_put_publish_comment(c, pb);
		rsb_putc(sb, '\n');
		if (!shifted)
			break;
	}
}

static void netns_chains(struct rctx *c)
{
	const struct policy *p = c->p;
	struct render_netns_facts f = render_netns_facts(p);
	struct strbuf *sb = c->sb;
	const char *out;
	size_t i, k;

	if (!f.any)
		return;
	put_base_chain(c, "forward", "forward");
	render_netns_put_line(c, "iifname vmap @fwd_from", "netns jails: from the jail");
	render_netns_put_line(c, "oifname vmap @fwd_to", "netns jails: to the jail");
	/*
	 * Every jail chain ends in a verdict, so what comes here is no
	 * jail's by interface name.  A jail's address on another interface
	 * is the jail behind a renamed host side (the maps are keyed by
	 * name), or someone spoofing it: never let through unfiltered.
	 */
	if (f.v4) {
		render_netns_put_line(c, "ip saddr @jail_nets4 counter drop",
				      "netns jails: jail address from another interface");
		render_netns_put_line(c, "ip daddr @jail_nets4 counter drop",
				      "netns jails: jail address through another interface");
	}
	if (f.v6) {
		render_netns_put_line(c, "ip6 saddr @jail_nets6 counter drop",
				      "netns jails: jail address from another interface");
		render_netns_put_line(c, "ip6 daddr @jail_nets6 counter drop",
				      "netns jails: jail address through another interface");
	}
	RSB_LIT(sb, "\t}\n");
	put_base_chain(c, "input", "input");
	render_netns_put_line(c, "iifname vmap @in_from", "netns jails: to the host");
	/* lo: the host's own packets from its jail-side addresses. */
	if (f.v4)
		render_netns_put_line(c, "iifname != \"lo\" ip saddr @jail_nets4 counter drop",
				      "netns jails: jail address from another interface");
	if (f.v6)
		render_netns_put_line(c, "iifname != \"lo\" ip6 saddr @jail_nets6 counter drop",
				      "netns jails: jail address from another interface");
	RSB_LIT(sb, "\t}\n");

	put_related_chain(c, &f);
	/* Routing headers: see render_uid.c. */
	RSB_LIT(sb, "\tchain net_common {\n");
	render_netns_put_line(c, "exthdr rt exists return", "netns jails: IPv6 routing headers");
	RSB_LIT(sb, "\t\tct direction reply ct state established ");
	render_netns_put_accept(c);
	render_put_comment(sb, "netns jails: answers and replies");
	rsb_putc(sb, '\n');
	render_netns_put_line(c, "ct state related jump net_related", "netns jails: related");
	render_netns_put_line(c, "ct state invalid drop", "netns jails: invalid");
	/*
	 * After the answers' accept (no flow of these ever gets
	 * established).  With a wan: out of the wan only, since masquerade
	 * is for the wan and out of another interface a jail's packet would
	 * keep its private source; that also keeps every other jail out,
	 * renamed interfaces included, with one compare.  Without: jail to
	 * jail by address, which a renamed interface does not hide: a
	 * lookup in the interval set of every jail prefix, which costs
	 * about a sixth of the sender's CPU per packet at 5000 jails
	 * (docs/ruleset.md), hence only where nothing cheaper does it.
	 */
	if (p->settings.nwan) {
		render_netns_put_line(c, "oifname != @wan_ifs return",
				      "netns jails: out of the wan only");
	} else {
		if (f.v4)
			render_netns_put_line(c, "ip daddr @jail_nets4 return",
					      "netns jails: jail to jail");
		if (f.v6)
			render_netns_put_line(c, "ip6 daddr @jail_nets6 return",
					      "netns jails: jail to jail");
	}
	if (c->map_used[RMAP_NET_PORTS])
		render_netns_put_line(c, "iifname . meta l4proto . th dport vmap @net_ports",
				      "netns jails: allow by port");
	if (c->map_used[RMAP_NET_PROTOS])
		render_netns_put_line(c, "iifname . meta l4proto vmap @net_protos",
				      "netns jails: allow by protocol");
	RSB_LIT(sb, "\t}\n");

	/* in_NAME has already handled replies and invalid packets. */
	RSB_LIT(sb, "\tchain host_common {\n");
	if (c->map_used[RMAP_HOST_PORTS])
		render_netns_put_line(c, "iifname . meta l4proto . th dport vmap @host_ports",
				      "netns jails: allow to the host by port");
	if (c->map_used[RMAP_HOST_PROTOS])
		render_netns_put_line(c, "iifname . meta l4proto vmap @host_protos",
				      "netns jails: allow to the host by protocol");
	RSB_LIT(sb, "\t}\n");

	for (i = 0; i < p->njails; i++)
		if (p->jails[i].backend == BACKEND_NETNS)
			put_jail_chains(c, &p->jails[i]);

	if (f.publish) {
		RSB_LIT(sb, "\tchain nat_prerouting {\n"
			    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
		for (i = 0; i < p->njails; i++) {
			const struct jail *j = &p->jails[i];

			if (j->backend != BACKEND_NETNS)
				continue;
			for (k = 0; k < j->npubs; k++) {
				if (j->has_v4)
					put_dnat(c, j, &j->pubs[k], AF_INET);
				if (j->has_v6)
					put_dnat(c, j, &j->pubs[k], AF_INET6);
			}
		}
		RSB_LIT(sb, "\t}\n");
	}

	/* Masquerade out of the wan only: never towards another jail. */
	out = p->settings.nwan ? "oifname @wan_ifs" : "oifname != @jail_ifs";
	RSB_LIT(sb, "\tchain nat_postrouting {\n"
		    "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	if (f.v4) {
		sb_printf(sb, "\t\t%s ip saddr @jail_nets4 masquerade", out);
		render_put_comment(sb, "netns jails: masquerade");
		rsb_putc(sb, '\n');
	}
	if (f.v6) {
		sb_printf(sb, "\t\t%s ip6 saddr @jail_nets6 masquerade", out);
		render_put_comment(sb, "netns jails: masquerade");
		rsb_putc(sb, '\n');
	}
	RSB_LIT(sb, "\t}\n");
}

/*
 * table arp NAME: what a jail says on its link.  Every ARP request or
 * reply the host takes puts its sender in the host's neighbour table, and
 * that table is the kernel's, shared by every namespace and bounded
 * (gc_thresh3): root in a jail sending thousands with made-up senders
 * pushes out the entries the host needs, its gateway's too.  ARP has no
 * hook in the inet family, so this is a table of its own, of the same
 * name, replaced and deleted with the inet table in one transaction.
 *
 * On a jail's interface only the jail's own address speaks, at a bounded
 * rate; a jail's address anywhere else (a renamed interface, a spoofer)
 * does not speak at all.  A jail without IPv4 is on its interface too:
 * the host answers ARP on any link.
 */
static void netns_tables(struct rctx *c)
{
	const struct policy *p = c->p;
	struct render_netns_facts f = render_netns_facts(p);
	struct strbuf *sb = c->sb;
	struct prefix own;
	size_t i;

	if (!f.any)
		return;
	RSB_LIT(sb, "table arp ");
	render_put_ident(sb, "", policy_table(p));
	RSB_LIT(sb, " {\n\tcomment ");
	render_put_table_comment(c);
	rsb_putc(sb, '\n');
	if (f.v4)
		put_nets(c, AF_INET, false);
	put_jail_vmap(c, "arp_from", "arpj_");
	put_base_chain(c, "arp_input", "input");
	render_netns_put_line(c, "iifname vmap @arp_from", "netns jails: ARP from the jail");
	if (f.v4)
		render_netns_put_line(c, "arp saddr ip @jail_nets4 counter drop",
				      "netns jails: ARP for a jail address from another interface");
	RSB_LIT(sb, "\t}\n");
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_NETNS)
			continue;
		RSB_LIT(sb, "\tchain ");
		render_put_jail_ident(c, "arpj_", j);
		RSB_LIT(sb, " {\n");
		if (j->has_v4) {
			RSB_LIT(sb, "\t\tarp saddr ip ");
			jail_addr_jail(&j->v4, &own);
			render_put_prefix(sb, &own);
			RSB_LIT(sb, " " L2_RATE " accept");
			render_put_loc_comment(c, &j->v4_loc, ": its own address");
			rsb_putc(sb, '\n');
		}
		RSB_LIT(sb, "\t\tcounter drop");
		render_put_jail_comment(c, j);
		RSB_LIT(sb, "\n\t}\n");
	}
	RSB_LIT(sb, "}\n");
}

const struct render_backend render_netns_backend = {
    .backend = BACKEND_NETNS,
    .collect = netns_collect,
    .objects = netns_objects,
    .chains = netns_chains,
    .tables = netns_tables,
};
