/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw status: what is really in force, read from the kernel, not from
 * the policy.
 *
 *   - table inet T (T: --table, else the state file's, else jailfw) read
 *     whole with libnftnl (nftinfo_table_read): the jails it dispatches to
 *     (uid_jails: uid -> uid_NAME; fwd_from: NAME-out -> fwd_NAME) and
 *     the counters of each jail's chains;
 *   - netns jails: the host link NAME-out (present, jailfw's alias, up,
 *     addresses) through rtnetlink, and /run/netns/NAME's identity;
 *   - the sysctls jailfw set, read back from /proc/sys.
 *
 * and compares it with what jailfw last applied (the state file and the
 * committed record of counters.h).  Each difference is one drift item, one
 * line: the table missing, not jailfw's, or changed since the commit
 * (which chain or set), a jail's link gone, down or without its address,
 * its namespace gone or replaced, a sysctl reverted, an apply or down that
 * did not finish.
 *
 * Exit status (status_run): 0 in force and as applied (or nothing applied
 * and nothing there), 1 drift found, 3 the kernel or the state could not
 * be read, 4 missing privilege (nfnetlink answers even reads only with
 * CAP_NET_ADMIN).
 */
#ifndef JAILFW_STATUS_H
#define JAILFW_STATUS_H

#include <jansson.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"
#include "netns.h"

#define STATUS_JSON_VERSION 1

struct status_count {
	uint64_t packets, bytes;
};

/* One direction of a jail: what passed its allowlist, what it dropped. */
struct status_flow {
	bool present; /* the chain exists */
	struct status_count accepted, dropped;
};

struct status_jail {
	char *name;
	enum backend backend;
	bool in_table; /* the live table dispatches to its chain */
	bool recorded; /* jailfw's state lists it */
	bool stopped;  /* `jailfw stop` took it down (STATE_STOPPED) */
	bool has_uid;
	uint32_t uid;

	/* netns jails */
	char host_if[IF_NAMESIZE], jail_if[IF_NAMESIZE];
	bool has_v4, has_v6;
	struct prefix v4, v6; /* the jail's prefixes, from the state */
	bool link_present, link_up, link_ours;
	struct prefix *addrs; /* addresses on host_if, with their lengths */
	size_t naddrs;
	struct netns_id ns_made; /* the namespace jailfw made (state), 0:0 unknown */
	bool ns_checked, ns_present, ns_same;

	/*
	 * accepted: packets that passed the jail's allowlist chain (its
	 * counted jump, minus what came back to its final drop); dropped:
	 * the final drop plus, for netns, anti-spoofing and jail-to-jail.
	 * netns: out (fwd_NAME) + host (in_NAME); inbound (fwdto_NAME) is
	 * shown apart: accepted published traffic, dropped unsolicited.
	 */
	struct status_count accepted, dropped;
	struct status_flow out, host, inbound;
};

struct status_sysctl {
	char *key; /* net.ipv4.conf.all.forwarding */
	char *set; /* what jailfw wrote */
	char *now; /* what it is now; NULL when unreadable */
	char *was; /* before jailfw */
};

struct status_drift {
	const char *kind; /* a fixed word: see docs/status-json.md */
	char *jail;	  /* NULL: not about one jail */
	char *message;	  /* one line, no trailing newline */
};

enum status_table {
	STATUS_TABLE_ABSENT,
	STATUS_TABLE_OURS,
	STATUS_TABLE_FOREIGN,
};

struct status_report {
	char *table;
	enum status_table table_state;
	bool applied;  /* jailfw has a record of applying it */
	bool recorded; /* the committed record was there to compare with */
	bool changed;  /* the table differs from the committed record */
	bool dormant;
	uint32_t genid;
	const char *phase;	   /* "idle", "applying", "down" */
	struct status_jail *jails; /* sorted by name */
	size_t njails;
	size_t nsorted; /* internal, while collecting: jails[0..nsorted) are sorted */
	struct status_sysctl *sysctls;
	size_t nsysctls;
	struct status_drift *drift;
	size_t ndrift;
	char **notes; /* not drift, but worth saying */
	size_t nnotes;
};

/*
 * Read everything into r (initialised here; free with status_report_free
 * in every case).  table NULL: the state file's, else DEFAULT_TABLE.
 * Returns 0 or -errno, reported through d.
 */
int status_collect(const char *table, struct status_report *r, struct diag *d);
void status_report_free(struct status_report *r);

/* Pure: the report as text (quiet: only the drift lines) or as JSON. */
void status_print(FILE *out, const struct status_report *r, bool quiet);
json_t *status_json(const struct status_report *r);

/* 0: in force and as applied; 1: drift. */
int status_exit(const struct status_report *r);

/* The whole command: collect, print, exit status (see above). */
int status_run(const char *table, bool json, bool quiet, struct diag *d);

#endif
