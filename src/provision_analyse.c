// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One jail's analysis: its namespace and host link as they are found
 * (kept, to be made, a leftover, or another's), and the proof that a
 * namespace is jailfw's.  Reads, changes nothing.
 */
#include "provision_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The alias of a link jailfw made names its jail; the jail a link belongs
 * to, or NULL when it is not jailfw's.
 */
const char *prov_alias_jail(const struct rtnl_link *l)
{
	size_t n = strlen(ALIAS_PREFIX);

	return strncmp(l->alias, ALIAS_PREFIX, n) ? NULL : l->alias + n;
}

/*
 * The record of the netns jail name in the state as loaded.  A uid jail's
 * record of the same name (a jail that switched backend) proves nothing
 * about a namespace: jailfw never made one for it.
 */
static const struct state_jail *old_netns(struct prov_plan *pl, const char *name)
{
	const struct state_jail *st = state_find_jail(&pl->old, name);

	return st && st->backend == BACKEND_NETNS ? st : NULL;
}

/*
 * Ownership: the state file proves nothing; the namespace does.  Its lo
 * is labelled "jailfw:NAME" before the namespace has a name
 * (open_jail_socket), or, made before labels, its NAME-in's peer is the
 * host link labelled so.  Only a namespace proven so is adopted or
 * removed (docs/design.md, "The state is input, not proof").
 */
static bool ns_proven(const struct prov_plan *pl, const struct pjail *pj)
{
	const struct rtnl_link *hl;

	if (pj->lo_marked)
		return true;
	if (!pj->jail_ifindex || strcmp(pj->jail_kind, "veth"))
		return false;
	hl = prov_find_hlink(pl, pj->host_if);
	return hl && !strcmp(hl->alias, pj->alias) && hl->ifindex == pj->jail_iflink &&
	       hl->iflink == pj->jail_ifindex;
}

/* The namespace open at fd, read into pj: is it proven jailfw's? */
bool prov_ns_is_ours(const struct prov_plan *pl, struct pjail *pj, int fd)
{
	struct snap_ctx c = {pj, NULL, true};

	return netns_run(fd, prov_jail_snapshot, &c) == 0 && ns_proven(pl, pj);
}

/* Say that pj's namespace is not proven jailfw's: an error, or a warning. */
void prov_say_unproven(struct diag *d, const struct loc *loc, const struct pjail *pj, bool error)
{
	char *msg = xasprintf("namespace \"%s\" (%s/%s) carries neither jailfw's label (alias "
			      "\"%s\" on its lo) nor jailfw's veth: it is not the one jailfw "
			      "made, and jailfw leaves it alone",
			      pj->name, NETNS_RUN_DIR, pj->name, pj->alias);

	if (error)
		diag_error(d, loc, 0, "%s", msg);
	else
		diag_warning(d, loc, 0, "%s", msg);
	free(msg);
}

static int analyse_kept(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	struct snap_ctx c = {pj, d, false};
	unsigned int errors = d->errors;
	int fd, err;

	err = netns_open(pj->name, &fd, &pj->ns);
	if (err)
		return err;
	err = netns_run(fd, prov_jail_snapshot, &c);
	close(fd);
	/* prov_jail_snapshot reports its own failures; setns() does not. */
	if (err && d->errors == errors)
		diag_error(d, prov_pj_loc(pj), 0, "enter namespace \"%s\" (%s/%s): %s", pj->name,
			   NETNS_RUN_DIR, pj->name, strerror(-err));
	if (err)
		return err;
	if (!pj->jail_ifindex) {
		if (pj->host_ifindex)
			prov_conflict(pl, d, prov_pj_loc(pj),
				      "interface \"%s\" is jailfw's but its peer is not \"%s\" in "
				      "namespace \"%s\"",
				      pj->host_if, pj->jail_if, pj->name);
		else
			pj->need_veth = true;
		return 0;
	}
	if (!pj->host_ifindex) {
		prov_conflict(pl, d, prov_pj_loc(pj),
			      "interface \"%s\" in namespace \"%s\" is not the jail end of a "
			      "jailfw veth (no \"%s\" on the host)",
			      pj->jail_if, pj->name, pj->host_if);
		return 0;
	}
	if (strcmp(pj->jail_kind, "veth") || pj->jail_iflink != pj->host_ifindex ||
	    pj->host_iflink != pj->jail_ifindex) {
		prov_conflict(pl, d, prov_pj_loc(pj),
			      "\"%s\" and \"%s\" in namespace \"%s\" are not the two ends of "
			      "one veth pair",
			      pj->host_if, pj->jail_if, pj->name);
		return 0;
	}
	return 0;
}

/*
 * The steps of a jail's analysis return 0 (go on), -errno, or
 * ANALYSE_STOP: they found a conflict, said it, and the jail's analysis
 * ends there.
 */
#define ANALYSE_STOP 1

/*
 * The cheap check's half of netns_open (PROV_CHECK_CHANGED): one fstatat
 * of /run/netns/NAME.  Its dev:ino are those of the namespace mounted
 * there, the identity netns_open reads through a descriptor; equal to the
 * recorded ones (taken from an nsfs descriptor), it is the namespace
 * jailfw made, and nothing else can carry them.  Anything else is left to
 * netns_open, which tells the cases apart.
 */
static bool ns_as_recorded(const struct prov_plan *pl, const struct pjail *pj,
			   const struct state_jail *st)
{
	char path[PATH_MAX];
	struct stat sb;

	if (pl->check != PROV_CHECK_CHANGED || !st || !st->ns.ino || strchr(pj->name, '/'))
		return false;
	snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, pj->name);
	return fstatat(AT_FDCWD, path, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (uint64_t)sb.st_dev == st->ns.dev && (uint64_t)sb.st_ino == st->ns.ino;
}

/* The jail's namespace: kept (jailfw's), to be made, or a conflict. */
static int analyse_ns(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
		      struct diag *d)
{
	struct netns_id id;
	char what[160];
	int err;

	if (ns_as_recorded(pl, pj, st)) {
		pj->action = PJ_KEEP;
		pj->ns = st->ns;
		return 0;
	}
	err = netns_open(pj->name, NULL, &id);
	if (!err) {
		if (!st) {
			prov_conflict(
			    pl, d, prov_pj_loc(pj),
			    "namespace \"%s\" exists (%s/%s) but jailfw did not create it; "
			    "remove it (ip netns delete %s) or rename the jail",
			    pj->name, NETNS_RUN_DIR, pj->name, pj->name);
			return ANALYSE_STOP;
		}
		if (st->ns.ino && !netns_id_eq(&st->ns, &id)) {
			prov_conflict(pl, d, prov_pj_loc(pj),
				      "namespace \"%s\" is not the one jailfw created (%s/%s was "
				      "deleted and made again by something else)",
				      pj->name, NETNS_RUN_DIR, pj->name);
			return ANALYSE_STOP;
		}
		pj->action = PJ_KEEP;
		pj->ns = id;
	} else if (err == -ENOENT || (err == -ENODATA && st && !st->ns.ino)) {
		/* Gone, or a creation of jailfw's killed before the mount. */
		pj->action = PJ_CREATE;
		pj->clear_file = err == -ENODATA;
		pj->need_veth = true;
	} else if (err == -ENODATA || err == -EMEDIUMTYPE) {
		prov_conflict(pl, d, prov_pj_loc(pj),
			      "%s/%s is not a network namespace jailfw made (it is %s); remove it "
			      "or rename the jail",
			      NETNS_RUN_DIR, pj->name, netns_what(pj->name, what, sizeof(what)));
		if (err == -ENODATA)
			diag_note(d, NULL, 0, "another tool's `ip netns add %s` under way?",
				  pj->name);
		return ANALYSE_STOP;
	} else {
		diag_error(d, prov_pj_loc(pj), 0, "open namespace \"%s\" (%s/%s): %s", pj->name,
			   NETNS_RUN_DIR, pj->name, strerror(-err));
		return err;
	}
	return 0;
}

/* The host end NAME-out: jailfw's and kept, a leftover to delete, or a conflict. */
static int analyse_host_link(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			     struct diag *d)
{
	const struct rtnl_link *hl = prov_find_hlink(pl, pj->host_if);
	const char *owner = hl ? prov_alias_jail(hl) : NULL;

	if (hl && owner && !strcmp(owner, pj->name) && pj->action == PJ_KEEP) {
		pj->host_ifindex = hl->ifindex;
		pj->host_iflink = hl->iflink;
		pj->host_flags = hl->flags;
		pj->host_fwd4 = hl->forwarding4;
		pj->host_dis6 = hl->disable_ipv6;
	} else if (hl && owner &&
		   (!strcmp(owner, pj->name) || !prov_policy_has_netns_jail(pl, owner))) {
		/*
		 * jailfw's, but a leftover: its namespace is gone (the kernel
		 * frees the pair a moment after the namespace) or it belongs
		 * to a jail that left the policy.  Delete it explicitly.
		 */
		pj->stale_host = hl->ifindex;
	} else if (hl && owner) {
		prov_conflict(pl, d, prov_pj_loc(pj), "interface \"%s\" belongs to jail \"%s\"",
			      pj->host_if, owner);
		return ANALYSE_STOP;
	} else if (hl && !hl->alias[0] && pj->action == PJ_KEEP && st && st->pending) {
		/*
		 * An apply killed between creating the pair and labelling it:
		 * jailfw's if its peer is in jailfw's namespace (checked next).
		 */
		pj->host_ifindex = hl->ifindex;
		pj->host_iflink = hl->iflink;
		pj->host_flags = hl->flags;
		pj->host_fwd4 = hl->forwarding4;
		pj->host_dis6 = hl->disable_ipv6;
		pj->fix_alias = true;
	} else if (hl) {
		prov_conflict(pl, d, prov_pj_loc(pj),
			      "interface \"%s\" exists and is not jailfw's (alias \"%s\"; "
			      "jailfw marks its own \"%s\")",
			      pj->host_if, hl->alias, pj->alias);
		return ANALYSE_STOP;
	}
	return 0;
}

/* The ifname changed: the old pair goes, a new one is made. */
static void analyse_old_ifname(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st)
{
	const struct rtnl_link *old;
	const char *o;

	if (!st || !strcmp(st->host_if, pj->host_if))
		return;
	old = prov_find_hlink(pl, st->host_if);
	o = old ? prov_alias_jail(old) : NULL;
	if (o && !strcmp(o, pj->name)) {
		pj->old_host = old->ifindex;
		snprintf(pj->old_host_if, sizeof(pj->old_host_if), "%s", old->name);
	}
}

/* A kept namespace, read from inside: proven jailfw's, or made again if it vanished. */
static int analyse_kept_ns(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	int err = analyse_kept(pl, pj, d);

	if (err) {
		if (err != -ENOENT && err != -ENODATA)
			return err;
		/* Vanished under us: make it again. */
		pj->action = PJ_CREATE;
		pj->need_veth = true;
		pj->stale_host = pj->host_ifindex;
		pj->host_ifindex = 0;
	} else if (!ns_proven(pl, pj)) {
		pl->conflicts++;
		prov_say_unproven(d, prov_pj_loc(pj), pj, true);
		return ANALYSE_STOP;
	}
	return 0;
}

/*
 * The kernel refuses a new link a name that is another link's
 * alternative name (EEXIST, half-way through the apply): say so now.
 */
static void analyse_altname(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	const struct altname *alt;

	if (!pj->need_veth || prov_find_hlink(pl, pj->host_if))
		return;
	alt = prov_find_altname(pl, pj->host_if);
	if (alt)
		prov_conflict(pl, d, prov_pj_loc(pj),
			      "interface name \"%s\" is taken: it is an alternative name of "
			      "\"%s\" (ip link property del dev %s altname %s)",
			      pj->host_if, alt->owner, alt->owner, pj->host_if);
}

/*
 * A delta's check, and the state records the jail made and settled, under
 * the policy's interface names and prefixes.
 */
static bool recorded_as_policy(const struct prov_plan *pl, const struct pjail *pj,
			       const struct state_jail *st)
{
	return pl->check == PROV_CHECK_CHANGED && st && st->backend == BACKEND_NETNS &&
	       !st->pending && st->ns.ino && !strcmp(st->host_if, pj->host_if) &&
	       !strcmp(st->jail_if, pj->jail_if) && st->has_v4 == pj->has_v4 &&
	       st->has_v6 == pj->has_v6 && (!pj->has_v4 || prov_addr_eq(&st->v4, &pj->v4)) &&
	       (!pj->has_v6 || prov_addr_eq(&st->v6, &pj->v6));
}

/*
 * The cheap check of a kept jail (PROV_CHECK_CHANGED), from the host only:
 * the state records it made and settled, under the same interface names
 * and prefixes as the policy's; its namespace is the recorded one
 * (analyse_ns compared dev:ino); its host end is there, jailfw's, a veth
 * with a peer, and not being repaired.  Such a jail is not entered: what
 * root in the jail may have changed on its side (addresses, routes,
 * sysctls, its end's name or namespace) is found only by a full check,
 * and the ruleset drops what it sends from any other source anyway
 * (docs/design.md, "What an apply checks").
 */
static bool kept_as_recorded(const struct prov_plan *pl, const struct pjail *pj,
			     const struct state_jail *st)
{
	const struct rtnl_link *hl = prov_find_hlink(pl, pj->host_if);

	if (pj->action != PJ_KEEP || !recorded_as_policy(pl, pj, st))
		return false;
	return hl && pj->host_ifindex == hl->ifindex && !pj->fix_alias && !pj->stale_host &&
	       !pj->old_host && !strcmp(hl->kind, "veth") && hl->iflink > 0;
}

/*
 * The cheaper check still, for a delta whose policy names its wan: the
 * last apply finished, the state records the jail made and settled under
 * the policy's names and prefixes, and /run/netns/NAME is the recorded
 * namespace (dev:ino).  Its host end is not looked up at all
 * (prov_host_links_named): what was done to it behind jailfw's back
 * (deleted, renamed, addresses changed) is found by the next full check,
 * and the ruleset names it, so packets from a link renamed away are
 * dropped meanwhile (docs/design.md, "What an apply checks").  Marks pj
 * kept, unentered and unread.
 */
bool prov_kept_unread(struct prov_plan *pl, struct pjail *pj)
{
	const struct state_jail *st = old_netns(pl, pj->name);

	if (pj->action == PJ_REMOVE || pl->old.phase != STATE_IDLE ||
	    !recorded_as_policy(pl, pj, st) || !ns_as_recorded(pl, pj, st))
		return false;
	pj->action = PJ_KEEP;
	pj->ns = st->ns;
	pj->unentered = pj->host_unread = true;
	return true;
}

int prov_analyse_jail(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	const struct state_jail *st = old_netns(pl, pj->name);
	int err;

	if (pj->host_unread) {
		err = prov_analyse_resolv(pl, pj, st, d);
		return err == ANALYSE_STOP ? 0 : err;
	}
	err = analyse_ns(pl, pj, st, d);
	if (!err)
		err = analyse_host_link(pl, pj, st, d);
	if (!err)
		analyse_old_ifname(pl, pj, st);
	if (!err && kept_as_recorded(pl, pj, st))
		pj->unentered = true;
	else if (!err && pj->action == PJ_KEEP)
		err = analyse_kept_ns(pl, pj, d);
	if (!err)
		analyse_altname(pl, pj, d);
	if (!err)
		err = prov_analyse_resolv(pl, pj, st, d);
	return err == ANALYSE_STOP ? 0 : err;
}

void prov_analyse_leaving(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
			  struct diag *d)
{
	const struct rtnl_link *hl;
	const char *owner;
	struct netns_id id;
	int fd, err;

	err = netns_open(pj->name, &fd, &id);
	if (!err) {
		pj->ns = id;
		pj->ns_ours = !st->ns.ino || netns_id_eq(&st->ns, &id);
		if (!pj->ns_ours) {
			diag_warning(d, NULL, 0,
				     "namespace \"%s\" is no longer the one jailfw created "
				     "(%s/%s); left alone",
				     pj->name, NETNS_RUN_DIR, pj->name);
		} else if (!prov_ns_is_ours(pl, pj, fd)) {
			pj->ns_ours = false;
			prov_say_unproven(d, NULL, pj, false);
		}
		close(fd);
	} else if (err == -ENODATA && !st->ns.ino) {
		pj->ns_ours = true; /* an empty file from a killed creation */
	} else if (err == -ENOENT) {
		pj->ns_gone = true;
		pj->ns = st->ns;
	} else if (err == -ENODATA || err == -EMEDIUMTYPE) {
		char what[160];

		diag_warning(d, NULL, 0,
			     "%s/%s is not the namespace jailfw made (it is %s); left alone",
			     NETNS_RUN_DIR, pj->name, netns_what(pj->name, what, sizeof(what)));
	}
	hl = prov_find_hlink(pl, pj->host_if);
	owner = hl ? prov_alias_jail(hl) : NULL;
	if (owner && !strcmp(owner, pj->name)) {
		pj->host_ifindex = hl->ifindex;
		pj->host_flags = hl->flags;
	}
	pj->resolv_remove = st->resolv;
	prov_add_change(pl, "remove jail %s: %s down, namespace %s deleted", pj->name, pj->host_if,
			pj->name);
}
