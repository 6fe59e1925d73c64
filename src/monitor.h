/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw monitor (docs/design.md, "Where each verb enters"): a live stream
 * of the packets jailfw's jail chains drop, one line per drop, naming the
 * jail.
 *
 * With log-drops on, every jail chain logs its final counted drop, rate
 * limited, to NFLOG group DEFAULT_LOG_GROUP with the prefix
 * "jailfw drop NAME: " (render.c).  monitor binds that group through
 * nfnetlink_log (libmnl), asks for the first bytes of each packet (enough
 * for the IP and layer-4 headers) and prints
 *
 *   12:00:01 web tcp 192.0.2.1 -> 198.51.100.7:443 uid 1099
 *   12:00:02 web icmp 192.0.2.1 -> 198.51.100.7 type 8 code 0
 *
 * or, with --json, one JSON object per line.  --suggest collects what it
 * saw and prints, on exit, the allow lines that would have let it through,
 * grouped per jail, deduplicated, ports of one destination merged:
 *
 *   # jail web: 4 drops; add to its block:
 *   	allow tcp/443,8443 to 198.51.100.7	# 3 drops
 *   	allow udp/53 to host	# 1 drop
 *
 * The parser and the suggestions are pure functions of the netlink messages,
 * unit-tested on synthetic ones; monitor_run is the only part that needs a
 * socket (and CAP_NET_ADMIN, which the caller checks).
 */
#ifndef JAILFW_MONITOR_H
#define JAILFW_MONITOR_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"
#include "util.h"

/* render.c writes at most 100 characters of a jail name into the prefix. */
#define MONITOR_JAIL_MAX 101

/* One dropped packet, as the kernel logged it. */
struct monitor_drop {
	char jail[MONITOR_JAIL_MAX]; /* from "jailfw drop NAME: " */
	uint8_t l4proto;	     /* IPPROTO_TCP, IPPROTO_ICMPV6, ... */
	struct prefix src, dst;	     /* full-length prefixes: addresses */
	bool has_ports;		     /* tcp, udp, udplite, sctp, dccp */
	uint16_t sport, dport;
	bool has_icmp; /* icmp or icmpv6 */
	uint8_t icmp_type, icmp_code;
	bool fragment; /* not the first fragment: no layer-4 header */
	bool has_hook;
	uint8_t hook;			/* NF_INET_LOCAL_OUT, NF_INET_FORWARD, ... */
	uint32_t indev, outdev;		/* interface indexes, 0: none */
	char in_name[16], out_name[16]; /* "" unless filled in (monitor_run) */
	bool has_uid;			/* the socket owner (locally generated packets) */
	uint32_t uid, gid;
	bool has_time; /* the kernel's timestamp (absent for many local packets) */
	int64_t sec;
	uint32_t usec;
};

/*
 * The jail name in an NFLOG prefix "jailfw drop NAME: ", into name (at
 * least MONITOR_JAIL_MAX bytes).  False for any other prefix and for a
 * NAME outside jailfw's character set ([a-z0-9][a-z0-9_-]*).
 */
bool monitor_jail_from_prefix(const char *prefix, char *name);

/*
 * Parse one nfnetlink_log message (NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET).
 * True when it is one of jailfw's drops with a parsable IPv4 or IPv6
 * header; false (out undefined) for anything else, which callers ignore:
 * another program's log entry in the group, a truncated packet, a message
 * of another type.
 */
bool monitor_parse(const struct nlmsghdr *nlh, struct monitor_drop *out);

/*
 * The "to host" test the ruleset makes: a uid jail's packet leaving
 * through lo (loopback and the host's own addresses), a netns jail's
 * packet on the input hook (to the host side of its veth), or a loopback
 * destination.
 */
bool monitor_drop_to_host(const struct monitor_drop *d);

/*
 * One line for d, with its newline, appended to sb: the text form above,
 * or a JSON object.  Times are printed in local time (text) or as UTC
 * ISO 8601 (JSON); a drop without the kernel's timestamp has none
 * printed, so callers fill in has_time/sec/usec at receipt.
 */
void monitor_format(const struct monitor_drop *d, bool json, struct strbuf *sb);

/* What --suggest has collected (opaque; monitor_suggest_*). */
struct monitor_target;
struct monitor_suggest {
	struct monitor_target *targets;
	size_t ntargets;
	unsigned long ignored;	/* drops that no allow line can express */
	unsigned long overflow; /* drops past MONITOR_SUGGEST_MAX targets */
};

/* Distinct (jail, protocol, destination) kept; more are only counted. */
#define MONITOR_SUGGEST_MAX 4096

void monitor_suggest_init(struct monitor_suggest *s);
void monitor_suggest_free(struct monitor_suggest *s);
void monitor_suggest_add(struct monitor_suggest *s, const struct monitor_drop *d);
/*
 * The allow lines, grouped per jail (sorted by name), deduplicated, ports
 * of one protocol and destination merged into one list (runs as ranges),
 * destinations with the same protocol and ports merged into one "to"
 * list.  Text: a "# jail NAME: N drops; add to its block:" comment and
 * tab-indented lines that paste into the jail's block; JSON: one
 * {"suggest": {"jail": ..., "rule": ..., "drops": N}} per line.  Nothing
 * at all when nothing was collected and !json (a "# no drops seen" line
 * otherwise in text mode is printed by monitor_run).
 */
void monitor_suggest_print(const struct monitor_suggest *s, bool json, struct strbuf *sb);

struct monitor_opts {
	bool json;	     /* one JSON object per line */
	bool suggest;	     /* print allow lines on exit */
	bool verbose;	     /* say what is being listened to, on stderr */
	unsigned long count; /* stop after this many drops; 0: never */
	double timeout;	     /* stop after this many seconds; 0: never */
	FILE *out;	     /* NULL: stdout */
	uint16_t group;	     /* 0: DEFAULT_LOG_GROUP */
};

/*
 * monitor's own command-line options, for main's argument loop: argv[*i]
 * is "--suggest", "--count N" ("--count=N") or "--timeout SECONDS"
 * ("--timeout=SECONDS").  Returns 1 (consumed; *i advanced past a separate
 * value), 0 (not one of them), or -1 with *why set to a usage message.
 */
int monitor_parse_opt(int argc, char **argv, int *i, struct monitor_opts *o, const char **why);

/*
 * Listen until SIGINT or SIGTERM, o->count drops or o->timeout seconds,
 * printing each drop to o->out; then the suggestions if o->suggest.  The
 * caller has checked CAP_NET_ADMIN.  Returns an exit status: EXIT_OK
 * (also when stopped by a signal: that is how a monitor ends), EXIT_PRIV
 * (-EPERM from netlink), EXIT_CONFLICT (another program holds the NFLOG
 * group), EXIT_KERNEL (any other netlink failure); reported through d.
 */
int monitor_run(const struct monitor_opts *o, struct diag *d);

#endif
