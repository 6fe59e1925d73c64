/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the provision*.c files share: the plan, its jails and sysctl
 * operations, and the functions one file calls in another.  Not for any
 * other module: provision.h is the interface.
 */
#ifndef JAILFW_PROVISION_INT_H
#define JAILFW_PROVISION_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "netns.h"
#include "provision.h"
#include "rtnl.h"
#include "state.h"
#include "sysctl.h"
#include "util.h"

#define ALIAS_PREFIX "jailfw:"
/*
 * New jails are made in groups: each holds a namespace descriptor and a
 * netlink socket open until its veth exists, and a policy of thousands of
 * jails must not run out of descriptors.
 */
#define CREATE_GROUP 32

/*
 * IPv4 forwarding is decided by the interface a packet comes in on
 * (conf/IF/forwarding; conf/all/forwarding, alias net.ipv4.ip_forward,
 * sets every interface at once).  Where it is off, jailfw turns it on only
 * on the jails' host sides and the wan (FWD4_IF_FMT), never conf/all: the
 * host then routes nothing between its other interfaces, and a program
 * started later (Docker) still sees forwarding off and protects itself
 * (docs/ruleset.md, "Forwarding").  IPv6 forwarding has no such switch
 * before Linux 6.17, so FWD6 is the global one.  FWD4 is read, and only
 * written back where an older jailfw recorded it.
 */
#define FWD4 "net/ipv4/conf/all/forwarding"
#define FWD4_IF_FMT "net/ipv4/conf/%s/forwarding"
#define FWD6 "net/ipv6/conf/all/forwarding"
/*
 * A jail needs no router advertisements (its routes are static), and with
 * accept_ra 1 its kernel solicits routers from the host every few seconds
 * for good, which in_NAME counts (and logs) as drops.  At 0 the kernel
 * sends no router solicitation at all, and stops soliciting at once on a
 * link that already does.  Read from the jail's link dump (rtnl_link's
 * accept_ra); written through /proc/sys from inside the jail, where the
 * jail's own settings are (they are per namespace).
 */
#define RA_DEFAULT "net/ipv6/conf/default/accept_ra"
#define RA_JAIL_FMT "net/ipv6/conf/%s/accept_ra"
/*
 * The jail side's IPv6 link-local address is jailfw's JAIL_LINK_LOCAL, the
 * same on every jail's link, so that in_NAME can accept it and nothing
 * else (render_netns.c): with addr_gen_mode 1 ("none") the kernel makes
 * none of its own, from a MAC address that root in the jail may change.
 * Set like accept_ra, on the namespace's default before NAME-in exists.
 */
#define AGM_DEFAULT "net/ipv6/conf/default/addr_gen_mode"
#define AGM_JAIL_FMT "net/ipv6/conf/%s/addr_gen_mode"
#define AGM_NONE 1 /* IN6_ADDR_GEN_MODE_NONE */

enum pj_action {
	PJ_KEEP,   /* in the policy, namespace exists and is jailfw's */
	PJ_CREATE, /* in the policy, namespace to be made */
	PJ_REMOVE, /* jailfw's, no longer in the policy */
};

struct pjail {
	char *name;
	const struct jail *pol; /* NULL for PJ_REMOVE */
	enum pj_action action;
	char host_if[IF_NAMESIZE], jail_if[IF_NAMESIZE];
	char alias[IF_NAMESIZE + sizeof(ALIAS_PREFIX)];
	bool has_v4, has_v6;
	struct prefix v4, v6; /* the jail's prefixes */

	/* What analysis found (a snapshot; stage changes only from it). */
	bool need_veth;	 /* create the veth pair */
	bool clear_file; /* remove an empty /run/netns/NAME first */
	bool ns_ours;	 /* PJ_REMOVE: the namespace may be removed */
	bool ns_gone;	 /* PJ_REMOVE: its name is gone (ns: as recorded) */
	int stale_host;	 /* a leftover NAME-out of jailfw's to delete first */
	int old_host;	 /* the pair under the jail's former ifname, to delete */
	char old_host_if[IF_NAMESIZE];
	bool fix_alias; /* jailfw's link without its alias */
	struct netns_id ns;
	int host_ifindex, host_iflink;
	unsigned int host_flags;
	int host_fwd4, host_dis6; /* its forwarding and disable_ipv6 as dumped; -1: unknown */
	int jail_ifindex, jail_iflink, lo_ifindex;
	unsigned int jail_flags, lo_flags;
	bool lo_marked; /* its lo carries jailfw's label (see ns_proven) */
	char jail_kind[16];
	struct rtnl_addr *haddrs; /* on NAME-out */
	size_t nhaddrs;
	struct rtnl_addr *jaddrs; /* on NAME-in */
	size_t njaddrs;
	struct rtnl_route *routes; /* default routes of the jail's main table */
	size_t nroutes;
	char *resolv; /* wanted /etc/netns/NAME/resolv.conf, or NULL */
	bool resolv_write, resolv_remove, resolv_existed;
	bool etc_dir_new; /* /etc/netns/NAME is not there: this apply makes it */
	bool fix_ra;	  /* NAME-in's accept_ra is not 0 (ra_was) */
	char ra_was[16];
	bool fix_agm; /* NAME-in makes a link-local address of its own */
	/*
	 * PJ_KEEP, unchanged, and its host end as recorded: its namespace
	 * was not entered (PROV_CHECK_CHANGED), so the jail side fields
	 * above say nothing and nothing is fixed inside.
	 */
	bool unentered;
	/*
	 * unentered, and its host end not even looked up (a delta with a
	 * wan, see prov_host_links_named): the host side fields say
	 * nothing either and nothing is fixed on the host.
	 */
	bool host_unread;

	/* What this run did, for rollback. */
	int nsfd;
	struct rtnl jr;
	bool jr_open;
	bool created_ns, created_veth, took_down, brought_up, removed;
	bool wrote_resolv, made_etc_dir;
	bool inside_err;   /* creation: open_jail_socket failed (and said so) */
	pid_t user;	   /* teardown: a process still in the namespace */
	bool host_deleted; /* teardown: NAME-out deleted explicitly */
};

struct sysop {
	char *key; /* below /proc/sys */
	char *from, *to;
	bool restore; /* at commit: give back a value jailfw had changed */
	bool done;
	bool new_record; /* a change with no state record before this run */
};

/* An alternative name of a host link short enough to be a jail's ifname. */
struct altname {
	char name[IF_NAMESIZE];
	char owner[IF_NAMESIZE]; /* the link's name */
};

enum plan_phase {
	PLAN_ANALYSED,
	PLAN_STAGING,
	PLAN_STAGED,
	PLAN_COMMITTING,
	PLAN_COMMITTED,
	PLAN_ROLLED_BACK,
	PLAN_DOWN_CUT,
	PLAN_DOWN_DONE,
};

struct prov_plan {
	enum plan_phase phase;
	bool dry_run;
	enum prov_check check;
	struct state old; /* as loaded */
	struct state st;  /* as it is being written */
	char *table;	  /* recorded by the last apply (down deletes it) */
	char *new_table;  /* the policy's */
	struct pjail *jails;
	size_t njails;
	struct sysop *ops;
	size_t nops;
	char **changes;
	size_t nchanges;
	unsigned int conflicts;
	bool had_state;	  /* the state file existed before this run */
	bool saved;	  /* this run wrote the state file */
	bool state_stays; /* the state in force is what commit records (stage) */
	char *next_text;  /* the state prepared for the commit (STATE_NEXT) */
	bool host_open;
	struct rtnl host;
	struct rtnl_batch b;
	struct rtnl_link *hlinks; /* the host's links, sorted by name */
	size_t nhlinks;
	struct altname *alts; /* their alternative names, sorted */
	size_t nalts;
	/*
	 * The policy's uid jails, as state records: provisioning has nothing
	 * to do for them, but commit records them, so that the state lists
	 * every jail in force with its user (for `jailfw exec`).
	 */
	struct state uid_jails;
	const char **netns_names; /* the policy's netns jails, sorted (pl->jails owns them) */
	size_t nnetns_names;
};

struct haddr_ctx {
	struct prov_plan *pl;
	struct pjail **by_ifindex; /* sorted by host_ifindex */
	size_t n;
};

struct snap_ctx {
	struct pjail *pj;
	struct diag *d;
	bool links_only;
};

/* provision.c */
void PRINTF_LIKE(2, 3) prov_add_change(struct prov_plan *pl, const char *fmt, ...);
const struct loc *prov_pj_loc(const struct pjail *pj);
const char *prov_cidr(const struct prefix *p, char buf[PREFIX_STRLEN]);
struct prefix prov_side_addr(const struct prefix *net, bool host);
bool prov_addr_eq(const struct prefix *a, const struct prefix *b);
bool prov_same_ip(const struct prefix *a, const struct prefix *b);
struct prov_plan *prov_plan_new(void);

/* provision_rtnl.c */
int prov_talk_ignoring(struct rtnl *r, struct rtnl_batch *b, int ignore, struct diag *d);
int prov_talk(struct rtnl *r, struct rtnl_batch *b, struct diag *d);
int prov_dump(struct rtnl *r, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb, void *ctx,
	      void (*reset)(void *ctx), const char *what, struct diag *d);
const struct altname *prov_find_altname(const struct prov_plan *pl, const char *name);
const struct rtnl_link *prov_find_hlink(const struct prov_plan *pl, const char *name);
int prov_pj_ifindex_cmp(const void *a, const void *b);
int prov_haddr_cb(const struct nlmsghdr *nlh, void *ctx);
void prov_haddr_reset(void *ctx);
int prov_jlink_cb(const struct nlmsghdr *nlh, void *ctx);
void prov_jlink_reset(void *ctx);
int prov_jail_snapshot(void *ctx);
int prov_open_host(struct prov_plan *pl, struct diag *d);
int prov_host_links(struct prov_plan *pl, struct diag *d);
int prov_host_links_named(struct prov_plan *pl, const char **names, size_t n, struct diag *d);
bool prov_kept_unread(struct prov_plan *pl, struct pjail *pj);
int prov_host_addrs(struct prov_plan *pl, struct diag *d);

/* provision_links.c */
void prov_batch_addr(struct pjail *pj, struct rtnl_batch *b, uint16_t type, bool host,
		     const struct prefix *a);
void prov_add_lo_label(struct pjail *pj, struct rtnl_batch *b);
void prov_build_jail_fix(struct pjail *pj, struct rtnl_batch *b);
void prov_build_host_fix(struct pjail *pj, struct rtnl_batch *b);
void prov_batch_changes(struct prov_plan *pl, struct rtnl_batch *b);
int prov_set_links(struct prov_plan *pl, bool up, bool (*want)(const struct pjail *),
		   struct diag *d);
bool prov_want_cut(const struct pjail *pj);
int prov_delete_stale(struct prov_plan *pl, struct diag *d);

/* provision_create.c */
int prov_create_group(struct prov_plan *pl, struct pjail **grp, size_t n, struct diag *d);
int prov_fix_kept(struct pjail *pj, struct diag *d);

/* provision_resolv.c */
void prov_resolv_error(struct diag *d, const struct loc *loc, const char *verb, const char *name,
		       int err, const char *why);
int prov_remove_resolv(const char *name, bool rmdir_too, const struct loc *loc, struct diag *d);
int prov_write_resolv(struct prov_plan *pl, struct diag *d);
int prov_analyse_resolv(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			struct diag *d);

/* provision_sysctl.c */
bool prov_fwd4_shared(const char *key);
bool prov_restore_pass(const char *key, int pass);
void prov_plan_sysctls(struct prov_plan *pl, const struct policy *p, struct diag *d);
int prov_sysctl_set(const char *verb, const char *key, const char *val, struct diag *d);
int prov_run_ops(struct prov_plan *pl, bool restore, struct diag *d);
int prov_sysctl_writable(const char *key, const char *where, struct diag *d);
int prov_check_env(struct prov_plan *pl, struct diag *d);
int prov_jail_forwarding(struct prov_plan *pl, struct diag *d);

/* provision_plan.c */
void PRINTF_LIKE(4, 5) prov_conflict(struct prov_plan *pl, struct diag *d, const struct loc *loc,
				     const char *fmt, ...);
struct pjail *prov_add_pjail(struct prov_plan *pl, const char *name);
bool prov_policy_has_netns_jail(const struct prov_plan *pl, const char *name);
int prov_load_state(struct prov_plan *pl, struct diag *d);
int prov_analyse(struct prov_plan *pl, const struct policy *p, struct diag *d);

/* provision_analyse.c */
const char *prov_alias_jail(const struct rtnl_link *l);
bool prov_ns_is_ours(const struct prov_plan *pl, struct pjail *pj, int fd);
void prov_say_unproven(struct diag *d, const struct loc *loc, const struct pjail *pj, bool error);
int prov_analyse_jail(struct prov_plan *pl, struct pjail *pj, struct diag *d);
void prov_analyse_leaving(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			  struct diag *d);

/* provision_commit.c */
void prov_state_intent(struct prov_plan *pl);
int prov_save(struct prov_plan *pl, struct diag *d);
int prov_prepare(struct prov_plan *pl, struct diag *d);
int prov_remove_jail_files(struct pjail *pj, const struct state_jail *sj, struct diag *d);

/* provision_teardown.c */
int prov_drop_namespaces(struct prov_plan *pl, bool rollback, struct diag *d);
/* The addresses of the host ends that prov_want_cut deleted, before the cut. */
void prov_unaddr_cut(struct prov_plan *pl, struct diag *d);

#endif
