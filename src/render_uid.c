// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uid backend: confine by socket owner in the output hook.
 *
 *   skuid_output   output hook; meta skuid vmap @uid_jails
 *   uid_NAME       per jail: counted jump to skuid_common, counted drop
 *   skuid_common   shared: replies, then the uid_ports / uid_protos lookups
 *
 * The allowlist of every jail lives in two maps keyed by uid, so loading
 * stays linear in the number of jails.  The fixed chains are named
 * "skuid_*", not "uid_*": a jail called "output" or "common" would
 * otherwise collide with them.
 *
 * Limits worth knowing: meta skuid only sees packets that have a local
 * socket, so it confines what a uid sends, not what other processes send
 * on its behalf; and loopback is filtered like any other interface, so a
 * uid jail reaches local services only through "to host" rules.
 */
#include <string.h>

#include "render_int.h"

static void uid_collect(struct rctx *c, const struct jail *j)
{
	size_t i, k;

	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];
		unsigned int flags = 0;
		bool pfx = false;

		if (!r->ndests)
			flags = DSTF_UID_ANY;
		for (k = 0; k < r->ndests; k++) {
			if (r->dests[k].kind == DEST_HOST)
				flags |= DSTF_UID_HOST;
			else
				pfx = true;
		}
		if (pfx)
			flags |= DSTF_UID_PFX;
		render_add_rule(c, r, i, RMAP_UID_PORTS, RMAP_UID_PROTOS, flags, pfx);
	}
	render_flush_jail(c, j);
}

static bool has_uid_jails(const struct policy *p)
{
	size_t i;

	for (i = 0; i < p->njails; i++)
		if (p->jails[i].backend == BACKEND_UID)
			return true;
	return false;
}

static void render_uid_key_protos(struct rctx *c, const struct relem *e)
{
	struct strbuf *sb = c->sb;

	render_put_u(sb, e->jail->uid);
	RSB_LIT(sb, " . ");
	sb_puts(sb, proto_name(e->proto));
}

static void render_uid_key_ports(struct rctx *c, const struct relem *e)
{
	render_uid_key_protos(c, e);
	RSB_LIT(c->sb, " . ");
	render_put_ports(c->sb, e->lo, e->hi);
}

static void uid_objects(struct rctx *c)
{
	const struct policy *p = c->p;
	struct strbuf *sb = c->sb;
	bool first = true;
	size_t i;

	if (!has_uid_jails(p))
		return;
	RSB_LIT(sb, "\tmap uid_jails {\n\t\ttype uid : verdict\n"
		    "\t\telements = { ");
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_UID)
			continue;
		if (!first)
			RSB_LIT(sb, ",\n\t\t\t     ");
		first = false;
		render_put_u(sb, j->uid);
		render_put_jail_comment(c, j);
		RSB_LIT(sb, " : jump ");
		render_put_jail_ident(c, "uid_", j);
	}
	RSB_LIT(sb, " }\n\t}\n");
	RSB_LIT(sb, "\tset host_addrtypes {\n\t\ttype fib_addrtype\n"
		    "\t\telements = { local, broadcast, anycast, multicast }\n\t}\n");
	render_put_map(c, RMAP_UID_PORTS, "uid_ports", "uid . inet_proto . inet_service",
		       render_uid_key_ports);
	render_put_map(c, RMAP_UID_PROTOS, "uid_protos", "uid . inet_proto", render_uid_key_protos);
}

/* jailfw's bits of the conntrack mark: the fwmark's (docs/ruleset.md). */
static void put_ctmark_bits(struct rctx *c)
{
	sb_printf(c->sb, "0x%08x", policy_fwmark(c->p));
}

static void put_ctmark_clear(struct rctx *c)
{
	RSB_LIT(c->sb, "ct mark & ");
	put_ctmark_bits(c);
	RSB_LIT(c->sb, " == 0x00000000");
}

static void uid_chains(struct rctx *c)
{
	static const char *const udps[] = {"udp", "udplite"};
	const struct policy *p = c->p;
	struct render_netns_facts netns = render_netns_facts(p);
	struct strbuf *sb = c->sb;
	size_t i;

	if (!has_uid_jails(p))
		return;
	RSB_LIT(sb, "\tchain skuid_output {\n"
		    "\t\ttype filter hook output priority " RENDER_FILTER_PRIO "; policy accept;\n"
		    "\t\tmeta skuid vmap @uid_jails");
	render_put_comment(sb, "uid jails: dispatch by socket owner");
	/*
	 * A UDP entry made towards the host is answered by whoever holds
	 * the port at the time.  Once a socket outside the jails has
	 * answered on it, a uid jail that binds the port after that socket
	 * is closed must not pass as answering its own connection (the far
	 * end is someone else's peer): the entry remembers, in jailfw's bit
	 * of the conntrack mark, that it was answered outside the jails.
	 * Jailed packets never get here (their chains end in a verdict).
	 * TCP needs nothing: a jail cannot take over another socket's
	 * connection state.  Only UDP packets of the entry itself: the
	 * kernel's own port unreachable, sent on the entry while a jailed
	 * service restarts, is an ICMP packet related to it and must not
	 * lock the jail out of its own peers (wall-conntrack.sh's control).
	 */
	for (i = 0; i < ARRAY_SIZE(udps); i++) {
		sb_printf(sb, "\n\t\tmeta l4proto %s ct direction reply ct state established ",
			  udps[i]);
		put_ctmark_clear(c);
		RSB_LIT(sb, " ct mark set ct mark | ");
		put_ctmark_bits(c);
		render_put_comment(sb, "uid jails: UDP answered outside the jails");
	}
	RSB_LIT(sb, "\n\t}\n");

	/*
	 * A routing header carries the real destination past every address
	 * match: the packet goes to the address in its IPv6 header first,
	 * which hands it on.  First: the header rides on every packet of a
	 * socket that set it.
	 *
	 * What the jail sends in a connection's original direction is the
	 * jail opening or using a connection: it meets the allowlist at
	 * every packet, established or not, so that a connection the policy
	 * no longer admits stops at once, and a conntrack entry another user
	 * left (same 5-tuple) admits nothing.  Only the jail's answers to
	 * connections made towards it pass as established: the uid backend
	 * does not filter what comes in.  A related ICMP error that a uid
	 * sends can only be forged (the kernel sends its own errors from a
	 * socket of uid 0); an expected connection of a conntrack helper is
	 * checked like a new one.  docs/ruleset.md says why.
	 */
	RSB_LIT(sb, "\tchain skuid_common {\n\t\texthdr rt exists return");
	render_put_comment(sb, "uid jails: IPv6 routing headers");
	RSB_LIT(sb, "\n\t\tct direction reply ct state established ");
	put_ctmark_clear(c);
	rsb_putc(sb, ' ');
	rsb_putn(sb, c->mark, c->marklen);
	RSB_LIT(sb, " accept");
	render_put_comment(sb, "uid jails: answers to connections towards the jail");
	RSB_LIT(sb, "\n\t\tct state invalid drop");
	render_put_comment(sb, "uid jails: invalid");
	RSB_LIT(sb, "\n\t\tct state related meta l4proto icmp drop");
	render_put_comment(sb, "uid jails: forged ICMP errors");
	RSB_LIT(sb, "\n\t\tct state related meta l4proto ipv6-icmp drop");
	render_put_comment(sb, "uid jails: forged ICMP errors");
	rsb_putc(sb, '\n');
	/*
	 * What the kernel delivers to the host's own sockets but sends
	 * through another interface than lo: a broadcast or multicast
	 * datagram (looped back to local listeners, and out on the wire
	 * too), one of the host's addresses reached off loopback.  "to
	 * host" means loopback; these are refused whatever the rule.
	 */
	RSB_LIT(sb, "\t\toif != \"lo\" fib daddr type @host_addrtypes return");
	render_put_comment(sb, "uid jails: broadcast, multicast, the host off loopback");
	rsb_putc(sb, '\n');
	/*
	 * A netns jail is walled off from uid jails too: by its link (its
	 * link-local address included) and by its addresses, whichever
	 * interface they are routed through.  Its host side address is the
	 * host's, reached through lo.
	 */
	if (netns.any) {
		RSB_LIT(sb, "\t\toifname @jail_ifs return");
		render_put_comment(sb, "uid jails: never to a netns jail");
		rsb_putc(sb, '\n');
	}
	if (netns.v4) {
		RSB_LIT(sb, "\t\toif != \"lo\" ip daddr @jail_nets4 return");
		render_put_comment(sb, "uid jails: never to a netns jail");
		rsb_putc(sb, '\n');
	}
	if (netns.v6) {
		RSB_LIT(sb, "\t\toif != \"lo\" ip6 daddr @jail_nets6 return");
		render_put_comment(sb, "uid jails: never to a netns jail");
		rsb_putc(sb, '\n');
	}
	if (c->map_used[RMAP_UID_PORTS]) {
		RSB_LIT(sb, "\t\tmeta skuid . meta l4proto . th dport vmap @uid_ports");
		render_put_comment(sb, "uid jails: allow by port");
		rsb_putc(sb, '\n');
	}
	if (c->map_used[RMAP_UID_PROTOS]) {
		RSB_LIT(sb, "\t\tmeta skuid . meta l4proto vmap @uid_protos");
		render_put_comment(sb, "uid jails: allow by protocol");
		rsb_putc(sb, '\n');
	}
	RSB_LIT(sb, "\t}\n");

	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];

		if (j->backend != BACKEND_UID)
			continue;
		RSB_LIT(sb, "\tchain ");
		render_put_jail_ident(c, "uid_", j);
		RSB_LIT(sb, " {\n");
		render_put_jail_tail(c, j, "skuid_common");
	}
}

const struct render_backend render_uid_backend = {
    .backend = BACKEND_UID,
    .collect = uid_collect,
    .objects = uid_objects,
    .chains = uid_chains,
};
