/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy model: plain data, one owner (struct policy), one
 * policy_free().  No I/O here.  Every node keeps the location it was parsed
 * from, so any later stage (check, render, nftload, provision) can point the
 * user at the policy line concerned.
 *
 * Arrays are grown with VEC_PUSH; nodes refer to each other by index, never
 * by pointer, because a later push may move an array.
 */
#ifndef JAILFW_MODEL_H
#define JAILFW_MODEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena.h"

/* A place in a policy or template file.  file points into policy.files. */
struct loc {
	const char *file;
	unsigned int line, col;
};

enum proto { PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6 };
#define PROTO_COUNT 4
const char *proto_name(enum proto p);
/* True for protocols that carry ports (tcp, udp). */
bool proto_has_ports(enum proto p);

struct port_range {
	uint16_t lo, hi; /* inclusive; lo == hi for a single port */
	struct loc loc;
};

/* An address or prefix; an address is a prefix of full length. */
struct prefix {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t b[16];
	} addr;
	uint8_t len; /* prefix length in bits */
};

enum dest_kind {
	DEST_PREFIX, /* an address or CIDR prefix */
	DEST_HOST,   /* the host itself: loopback (uid) or the host (netns) */
};

struct dest {
	enum dest_kind kind;
	struct prefix pfx; /* DEST_PREFIX only */
	struct loc loc;
};

/*
 * One allow rule.  The shorthand "allow udp/53,tcp/53" becomes two rules
 * sharing loc (the statement) with their own proto_loc.  Rules pulled in
 * by "use" are copies whose loc points into the template and whose use_loc
 * points at the use statement.
 */
struct rule {
	struct loc loc;
	struct loc proto_loc;
	enum proto proto;
	struct port_range *ports; /* nports == 0: every port / whole protocol */
	size_t nports;
	struct dest *dests; /* ndests == 0: any destination, both families */
	size_t ndests;
	bool from_template;
	struct loc use_loc;   /* from_template only */
	const char *template; /* from_template only: points at tmpl.name */
};

/* publish PROTO/EXT[:INT]: inbound wan EXT -> jail INT (DNAT). */
struct publish {
	struct loc loc;
	enum proto proto; /* tcp or udp */
	uint16_t ext_lo, ext_hi;
	uint16_t int_lo; /* the jail's port for ext_lo; ranges map 1:1 */
	/*
	 * As in struct rule: a publish pulled in by "use" is a copy whose
	 * loc points into the template and whose use_loc points at the use.
	 */
	bool from_template;
	struct loc use_loc;   /* from_template only */
	const char *template; /* from_template only: points at tmpl.name */
};

struct use {
	char *name;
	struct loc loc;
};

enum backend { BACKEND_NONE, BACKEND_UID, BACKEND_NETNS };
const char *backend_name(enum backend b);

/* Tri-state for settings that a jail may override. */
enum tristate { TRI_UNSET = 0, TRI_NO, TRI_YES };

struct jail {
	char *name;
	struct loc loc;

	enum backend backend;
	struct loc backend_loc;

	char *user; /* as written: a name or a number; NULL if absent */
	struct loc user_loc;
	bool uid_resolved; /* set by check */
	uid_t uid;
	gid_t gid;

	bool has_v4, has_v6;
	struct prefix v4, v6;
	struct loc v4_loc, v6_loc;

	char *ifname; /* interface prefix override; NULL: the jail name */
	struct loc ifname_loc;

	struct prefix *dns; /* plain addresses */
	size_t ndns;
	struct loc dns_loc;

	enum tristate log_drops;
	struct loc log_drops_loc;

	struct rule *rules;
	size_t nrules;
	struct publish *pubs;
	size_t npubs;
	struct use *uses;
	size_t nuses;
};

struct tmpl {
	char *name;
	struct loc loc;
	struct rule *rules;
	size_t nrules;
	bool from_file;	      /* loaded from the template path, not the policy */
	struct publish *pubs; /* copied into netns jails only (check.c) */
	size_t npubs;
};

#define DEFAULT_TABLE "jailfw"
/*
 * The fwmark bit jailfw sets on every packet it accepts for a jail, so a
 * default-drop firewall elsewhere can accept them with one rule
 * ("meta mark & 0x00200000 != 0 accept").  Documented in jailfw.conf(5).
 */
#define DEFAULT_FWMARK 0x00200000u
#define DEFAULT_LOG_GROUP 7466 /* NFLOG group of the drop log */

struct settings {
	char **wan; /* uplink interface names; nwan == 0: any non-jail iface */
	size_t nwan;
	struct loc wan_loc;   /* the first name */
	struct loc *wan_locs; /* each name's; NULL in a policy not parsed */
	enum tristate log_drops;
	struct loc log_drops_loc;
	char *table; /* NULL: DEFAULT_TABLE */
	struct loc table_loc;
	uint32_t fwmark; /* 0: DEFAULT_FWMARK */
	struct loc fwmark_loc;
};

struct policy {
	char **files; /* every file read; struct loc.file points in here */
	size_t nfiles;
	struct settings settings;
	bool has_settings;
	struct jail *jails;
	size_t njails, jails_cap; /* jails_cap: VEC_PUSH_CAP (util.h) */
	struct tmpl *tmpls;
	size_t ntmpls;
	/*
	 * What the parser made that lives as long as the policy (names, port
	 * and destination lists): one allocation for many, freed with it.
	 * Fields may also hold malloc'd memory (hand-built models, check.c's
	 * copies of template rules): policy_release() tells them apart.
	 */
	struct arena arena;
};

void policy_init(struct policy *p);
void policy_free(struct policy *p);
/* free(ptr), unless ptr is in p->arena: that goes with the policy. */
void policy_release(struct policy *p, void *ptr);
/* Register a file name; returns the stable copy that locations point at. */
const char *policy_add_file(struct policy *p, const char *name);
/*
 * The names of p->files in rule comments, malloc'd, one per file: the
 * basename ("web.conf", "ntp.conf"), so the text does not depend on where
 * it ran; when different files share one, their path below the main
 * file's directory ("jails.d/web.conf") or, outside it, the whole path.
 */
char **policy_file_labels(const struct policy *p);
void policy_file_labels_free(const struct policy *p, char **labels);

const char *policy_table(const struct policy *p);
uint32_t policy_fwmark(const struct policy *p);
bool jail_log_drops(const struct policy *p, const struct jail *j);

/*
 * Derived netns facts.  IFNAMSIZ is 16 with the NUL, so NAME-out and
 * NAME-in need a prefix of at most 11 characters.
 */
#define JAIL_IFPREFIX_MAX 11
/* "PREFIX-out" (host side) and "PREFIX-in" (jail side) into buf[16]. */
void jail_ifname_host(const struct jail *j, char buf[16]);
void jail_ifname_jail(const struct jail *j, char buf[16]);
/* A netns jail's prefixes into out (IPv4 first); 0 for other backends. */
size_t jail_prefixes(const struct jail *j, struct prefix out[2]);
/*
 * The jail side's IPv6 link-local address, the same on every jail's link:
 * jailfw gives it, the kernel makes none (provision_links.c), so that in_NAME
 * can tell the jail's link-local source from a made-up one.
 */
#define JAIL_LINK_LOCAL "fe80::2"
/* Host side address: the prefix's first host (.1 / ::1); jail side: .2. */
void jail_addr_host(const struct prefix *net, struct prefix *out);
void jail_addr_jail(const struct prefix *net, struct prefix *out);

/* Formatting: "192.0.2.0/24", "2001:db8::1" (length omitted when full). */
#define PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)
const char *prefix_str(const struct prefix *pfx, char buf[PREFIX_STRLEN]);
const char *addr_str(const struct prefix *pfx, char buf[PREFIX_STRLEN]);
bool prefix_contains(const struct prefix *net, const struct prefix *p);
bool prefix_overlaps(const struct prefix *a, const struct prefix *b);
/* Clear the host bits of pfx; true if any were set (check only warns). */
bool prefix_mask(struct prefix *pfx);
struct strbuf;
/* "tcp/80,1024-2048", "icmp": a rule's protocol and ports, re-printed. */
void rule_spec_str(const struct rule *r, struct strbuf *sb);
/* "file:line" for comments and messages, into buf. */
const char *loc_str(const struct loc *l, char *buf, size_t len);

#endif
