/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probes for `jailfw verify`: which packets to send from where, what the
 * policy says must happen to each, and the small socket engine that sends
 * them and listens for them.
 *
 * Planning is pure (no kernel, unit-tested without root): from a checked
 * policy, per jail,
 *
 *   - every allow rule, for each of its port ranges the first and the last
 *     port, to an address inside each of its `to` prefixes (or to a
 *     stand-in internet address when it has no `to`, in both families, or
 *     to the host for `to host`): must pass;
 *   - its near misses: another port, another address, the other family,
 *     another protocol, the host's services, another jail, and for
 *     published ports the port next to it and the jail's own address
 *     reached directly from the internet: must be dropped;
 *   - the ways around the wall (docs/ruleset.md): the host's address in a
 *     rule's prefix, broadcast and multicast (the host's own sockets get
 *     a copy), a netns jail from a uid jail, a spoofed source (the host
 *     side's address, another prefix), an IPv6 routing header that names
 *     the real destination after an allowed one: dropped, or for a netns
 *     jail's broadcast and multicast, what "to host" allows.
 *   - conntrack (docs/ruleset.md): a netns jail's forged ICMP error quoting
 *     the host's own UDP flow to the internet (PROBE_FORGED_PORT), and a
 *     UDP flow of an allow rule kept open while the sandbox re-applies the
 *     policy without any allow rule: neither may get through.  These two
 *     are run by verify.c after the others, each in its own way.
 *
 * What must happen is not guessed from how the probe was built: every
 * probe's expectation comes from probe_allowed(), one reading of the policy
 * language (docs/jailfw.conf.5, docs/ruleset.md), so a near miss that
 * another rule happens to allow is simply not generated.
 *
 * The sandbox the probes run in (verify.c) looks like this:
 *
 *   [ internet ns ] eth0 192.0.2.2/24 2001:db8:ffff::2/64, and every
 *                   target address of the plan (/32, /128); default
 *                   routes via the host; listeners on every probed port
 *          |
 *   [ sandbox host ] wan0 192.0.2.1/24 2001:db8:ffff::1/64, default routes
 *                   via the internet; jailfw's table; uid jails' probes;
 *                   listeners for "to host" (any address, loopback too)
 *          |
 *   [ netns jails ] NAME-in .2 / ::2, as apply makes them; listeners for
 *                   published ports and jail-to-jail probes
 */
#ifndef JAILFW_PROBE_H
#define JAILFW_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "model.h"

/* The sandbox's wan link (documentation prefixes). */
#define PROBE_WAN_IF "wan0"  /* on the sandbox host */
#define PROBE_INET_IF "eth0" /* in the internet namespace */

/* Time limits of the engine, in milliseconds. */
#define PROBE_PASS_MS 1500   /* a probe that must pass gets this long */
#define PROBE_DROP_MS 300    /* one that must be dropped: delivery is fast */
#define PROBE_UDP_GAP_MS 100 /* UDP and ICMP: 3 sends, this far apart */
#define PROBE_GRACE_MS 300   /* the far end's wait for the last datagram */

/*
 * The wan addresses: host_side 192.0.2.1/24 or 2001:db8:ffff::1/64, the
 * internet side .2 / ::2 (len is the link's prefix length).
 */
void probe_wan_addr(int family, bool host_side, struct prefix *out);

/* a:port as a socket address of a's family; returns its length. */
socklen_t probe_sockaddr(const struct prefix *a, uint16_t port, struct sockaddr_storage *ss);

/* Why a probe exists. */
enum probe_kind {
	PK_ALLOW,	/* an allow rule: must pass */
	PK_PORT,	/* another port */
	PK_ADDR,	/* another address */
	PK_FAMILY,	/* the other address family */
	PK_PROTO,	/* another protocol */
	PK_HOST,	/* the host's own services */
	PK_JAIL,	/* another jail */
	PK_PUBLISH,	/* a published port, from the internet: must pass */
	PK_UNPUBLISHED, /* the port next to a published one */
	PK_DIRECT,	/* the jail's own address, bypassing DNAT */
	PK_FORGED,	/* root in a netns jail forges an ICMP error quoting the host's flow */
	PK_STALE,	/* a flow the jail keeps open across a stricter re-apply */
	PK_BCAST,	/* broadcast or multicast: the host's sockets get a copy */
	PK_SPOOF,	/* a netns jail's packet from an address not its own */
	PK_RTHDR,	/* an IPv6 routing header, the real destination after it */
	PK_RIDE,	/* a uid jail answers the peer of another user's closed UDP service */
};

/* Where a probe is sent from. */
enum probe_from {
	PROBE_FROM_JAIL,     /* inside the jail: as its uid, or in its netns */
	PROBE_FROM_INTERNET, /* the internet namespace (inbound probes) */
	PROBE_FROM_HOST,     /* root on the sandbox host (controls) */
};

/* Where the far end that must (not) see the probe is. */
enum probe_at {
	PROBE_AT_INTERNET,
	PROBE_AT_HOST,
	PROBE_AT_JAIL, /* the netns jail probe.at_jail */
	PROBE_AT_ECHO, /* ICMP: the echo reply is the proof */
};

/* What probe_allowed() is asked about the destination. */
enum probe_dst {
	PROBE_DST_NET,	 /* anything beyond the host (forwarded, or out of the wan) */
	PROBE_DST_HOST,	 /* the host itself: loopback or any of its addresses */
	PROBE_DST_JAIL,	 /* another netns jail */
	PROBE_DST_BCAST, /* broadcast or multicast */
};

#define PROBE_WHAT_MAX 112

struct probe {
	size_t jail; /* index into policy.jails (inbound: the jail published) */
	enum probe_kind kind;
	enum probe_from from;
	enum probe_at at;
	size_t at_jail; /* PROBE_AT_JAIL only */
	enum proto proto;
	struct prefix dst;    /* a full-length address */
	uint16_t port;	      /* tcp, udp: the destination port */
	uint16_t listen_port; /* where the far end listens (publish: after DNAT) */
	/*
	 * What an attacker sets on the socket (family 0, "": not set):
	 * SO_BROADCAST; the interface of a multicast or link-local
	 * destination (the control sends from the host, through control_if);
	 * a source that is not the sender's (IP_FREEBIND; the control sends
	 * from its own); an IPv6 segment routing header through via.
	 */
	bool bcast;
	char ifname[16], control_if[16];
	struct prefix src, via;
	/*
	 * Where the control goes when it cannot go where the probe does
	 * (family 0: the same place): the host's own broadcast on a jail's
	 * link comes back to it as the jail's, and is dropped as such.
	 */
	struct prefix control_dst;
	bool expect_pass;
	/*
	 * Drop probes are repeated by root on the sandbox host, where
	 * nothing confines them: if that control does not get through
	 * either, a "drop" proves nothing and the probe is untestable.
	 */
	bool has_control;
	const struct rule *rule;   /* the rule tested, or missed; may be NULL */
	const struct publish *pub; /* inbound probes */
	struct loc loc;		   /* the rule's, else the jail's */
	char what[PROBE_WHAT_MAX]; /* "allow udp/123, writeup.conf:35", "another port" */

	/* Filled in by the run (verify.c). */
	bool ran;      /* an observation came back */
	bool saw_pass; /* delivered to the far end (ICMP: answered) */
	bool control_ran;
	bool control_pass;
	int err;	/* the sender's errno (0: none, or timed out) */
	bool elsewhere; /* delivered, but to another far end than .at */
};

struct probe_plan {
	struct probe *probes;
	size_t nprobes;
	/* Addresses the internet namespace must own (/32, /128). */
	struct prefix *inet_addrs;
	size_t ninet;
	/* What could not be probed, and why: one line each. */
	char **notes;
	size_t nnotes;
};

/*
 * Plan the probes of every jail of a checked policy.  Pure: the same
 * policy always gives the same plan, in policy order.
 */
void probe_plan_build(const struct policy *p, struct probe_plan *plan);
void probe_plan_free(struct probe_plan *plan);

/*
 * The policy's verdict on one packet from jail j: proto to dst (an
 * address), port (tcp, udp), with dst being of kind kind.  Reads the
 * language, not the ruleset: a rule without `to` allows any destination
 * beyond the host, in both families; `to host` allows only the host (uid:
 * loopback and every local address; netns: the host's addresses as seen
 * from the jail); a `to PREFIX` never reaches the host, whatever host
 * address the prefix holds; a netns jail never reaches another jail.
 */
bool probe_allowed(const struct jail *j, enum proto proto, const struct prefix *dst, uint16_t port,
		   enum probe_dst kind);

/* The internet's UDP port of the host flow that PK_FORGED errors quote. */
#define PROBE_FORGED_PORT 33434
/*
 * PK_RIDE: the internet writes from PROBE_RIDE_PORT (or the next port the
 * jail may not use) to a service of root's on the host's PROBE_RIDE_HOST_PORT.
 */
#define PROBE_RIDE_PORT 33435
#define PROBE_RIDE_HOST_PORT 33436

/*
 * A port unreachable (ICMP type 3 code 3, ICMPv6 type 1 code 4) from src to
 * dst, with its IP header, quoting a UDP datagram qsrc:qsport ->
 * qdst:qdport, into buf (at least PROBE_FORGE_MAX bytes); returns its
 * length.  Pure.  probe_forge_send() sends such a packet as it is, from a
 * raw socket of the caller's namespace (needs CAP_NET_RAW): 0 or -errno.
 */
#define PROBE_FORGE_MAX 128
size_t probe_forge_unreach(uint8_t *buf, const struct prefix *src, const struct prefix *dst,
			   const struct prefix *qsrc, uint16_t qsport, const struct prefix *qdst,
			   uint16_t qdport);
int probe_forge_send(const uint8_t *pkt, size_t len, const struct prefix *dst);

/* "udp 192.0.2.99:123", "tcp [2001:db8::99]:80", "icmp 192.0.2.99". */
const char *probe_str(const struct probe *pr, char *buf, size_t len);
const char *probe_kind_name(enum probe_kind k);
const char *probe_from_name(enum probe_from f);

/* ---- the engine (kernel-facing: sockets in the caller's namespace) ---- */

/* One packet to send, and how long to wait for it. */
struct probe_op {
	size_t idx;   /* the probe's index in the plan */
	bool control; /* the control run of that probe */
	enum proto proto;
	struct prefix dst;
	uint16_t port;
	int timeout_ms;
	bool bcast;	 /* probe.bcast */
	char ifname[16]; /* probe.ifname or control_if, looked up where it is sent */
	struct prefix src, via;
};

/*
 * Send every op at once (non-blocking sockets, one poll loop) and write
 * one line per op to report_fd:
 *
 *   P IDX p|c OK ERRNO       OK: ICMP answered / TCP connected, 0 or 1
 *
 * then "D ID" when all are done.  TCP and UDP carry a token naming the
 * run (nonce), the probe and whether it is a control; the listener that
 * receives it reports it (probe_listen).  Returns 0 or -errno.
 */
int probe_send(const struct probe_op *ops, size_t nops, uint32_t nonce, unsigned int id,
	       int report_fd);

/*
 * The token of probe idx (or of its control) in run nonce, as probe_send()
 * sends it and probe_listen() reports it; returns its length.
 */
#define PROBE_TOKEN_MAX 48
size_t probe_token(char buf[PROBE_TOKEN_MAX], uint32_t nonce, size_t idx, bool control);

/* One port to listen on: both families, any address. */
struct probe_port {
	enum proto proto; /* tcp or udp */
	uint16_t port;
};

/*
 * Listen on every port (IPv4 and IPv6, any address), write "R ID" to
 * report_fd once bound, then for every well-formed token of this run:
 *
 *   L ID IDX p|c SOURCE
 *
 * and answer it with "ok" if it came over UDP.
 * until killed or lifetime_ms passes.  A port that cannot be bound is
 * reported as "E ID message" and ends the listener.  Returns 0 or -errno.
 */
int probe_listen(const struct probe_port *ports, size_t nports, uint32_t nonce, unsigned int id,
		 int report_fd, int lifetime_ms);

#endif
