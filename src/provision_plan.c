// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Analysis: read the state, the host and every jail's namespace, decide,
 * change nothing.
 */
#include "provision_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

/* A conflict found by analysis: said at loc, and counted (stage then refuses). */
void PRINTF_LIKE(4, 5)
    prov_conflict(struct prov_plan *pl, struct diag *d, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(d, loc, 0, "%s", msg);
	free(msg);
	pl->conflicts++;
}

struct pjail *prov_add_pjail(struct prov_plan *pl, const char *name)
{
	struct pjail *pj = VEC_PUSH(pl->jails, pl->njails);

	pj->name = xstrdup(name);
	pj->nsfd = -1;
	snprintf(pj->alias, sizeof(pj->alias), ALIAS_PREFIX "%s", name);
	return pj;
}

/*
 * The alias of a link jailfw made names its jail; the jail a link belongs
 * to, or NULL when it is not jailfw's.
 */
const char *prov_alias_jail(const struct rtnl_link *l)
{
	size_t n = strlen(ALIAS_PREFIX);

	return strncmp(l->alias, ALIAS_PREFIX, n) ? NULL : l->alias + n;
}

static int prov_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, so that each jail of the state is looked up in O(log n). */
static void index_netns_names(struct prov_plan *pl)
{
	size_t i;

	pl->netns_names = xcalloc(pl->njails ? pl->njails : 1, sizeof(*pl->netns_names));
	for (i = 0; i < pl->njails; i++)
		pl->netns_names[i] = pl->jails[i].name;
	pl->nnetns_names = pl->njails;
	qsort(pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names), prov_name_cmp);
}

static bool policy_has_netns_jail(const struct prov_plan *pl, const char *name)
{
	return bsearch(&name, pl->netns_names, pl->nnetns_names, sizeof(*pl->netns_names),
		       prov_name_cmp) != NULL;
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

/* The jail's namespace: kept (jailfw's), to be made, or a conflict. */
static int analyse_ns(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
		      struct diag *d)
{
	struct netns_id id;
	char what[160];
	int err;

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
	} else if (hl && owner && (!strcmp(owner, pj->name) || !policy_has_netns_jail(pl, owner))) {
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

static int analyse_jail(struct prov_plan *pl, struct pjail *pj, struct diag *d)
{
	const struct state_jail *st = old_netns(pl, pj->name);
	int err;

	err = analyse_ns(pl, pj, st, d);
	if (!err)
		err = analyse_host_link(pl, pj, st, d);
	if (!err)
		analyse_old_ifname(pl, pj, st);
	if (!err && pj->action == PJ_KEEP)
		err = analyse_kept_ns(pl, pj, d);
	if (!err)
		analyse_altname(pl, pj, d);
	if (!err)
		err = prov_analyse_resolv(pl, pj, st, d);
	return err == ANALYSE_STOP ? 0 : err;
}

static void analyse_leaving(struct prov_plan *pl, struct pjail *pj, const struct state_jail *st,
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

static void describe_jail(struct prov_plan *pl, struct pjail *pj)
{
	char a[PREFIX_STRLEN], b6[PREFIX_STRLEN];
	struct prefix x;

	if (pj->action == PJ_CREATE) {
		a[0] = b6[0] = '\0';
		if (pj->has_v4) {
			x = prov_side_addr(&pj->v4, true);
			prov_cidr(&x, a);
		}
		if (pj->has_v6) {
			x = prov_side_addr(&pj->v6, true);
			prov_cidr(&x, b6);
		}
		prov_add_change(pl, "create jail %s: namespace %s, veth %s/%s%s%s%s%s", pj->name,
				pj->name, pj->host_if, pj->jail_if, a[0] ? " " : "", a,
				b6[0] ? " " : "", b6);
	} else if (pj->need_veth) {
		prov_add_change(pl, "repair jail %s: create veth %s/%s", pj->name, pj->host_if,
				pj->jail_if);
	} else {
		if (pj->fix_ra) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), RA_JAIL_FMT, pj->jail_if);
			prov_add_change(pl, "set %s = 0 in namespace \"%s\" (was %s)",
					sysctl_name(key, name, sizeof(name)), pj->name, pj->ra_was);
		}
		if (pj->fix_agm) {
			char key[PATH_MAX], name[PATH_MAX];

			snprintf(key, sizeof(key), AGM_JAIL_FMT, pj->jail_if);
			prov_add_change(pl, "set %s = %d in namespace \"%s\"",
					sysctl_name(key, name, sizeof(name)), AGM_NONE, pj->name);
		}
		prov_build_host_fix(pj, &pl->b);
		prov_batch_changes(pl, &pl->b);
		prov_build_jail_fix(pj, &pl->b);
		prov_batch_changes(pl, &pl->b);
	}
	if (pj->stale_host)
		prov_add_change(pl, "delete leftover interface %s", pj->host_if);
	if (pj->old_host)
		prov_add_change(pl, "delete interface %s (the jail's interfaces are now %s/%s)",
				pj->old_host_if, pj->host_if, pj->jail_if);
	if (pj->resolv_write)
		prov_add_change(pl, "write %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->resolv_remove)
		prov_add_change(pl, "remove %s/%s/resolv.conf", NETNS_ETC_DIR, pj->name);
	if (pj->action != PJ_CREATE && !pj->need_veth && !(pj->host_flags & IFF_UP))
		prov_add_change(pl, "set %s up after the ruleset commit", pj->host_if);
}

/*
 * The state, as state_load reads it.  One that jailfw did not write is a
 * conflict like any object it does not own: -EEXIST, exit 5.
 */
int prov_load_state(struct prov_plan *pl, struct diag *d)
{
	int err = state_load(&pl->old, d);

	return err == -EINVAL ? -EEXIST : err;
}

/*
 * A jail's traffic is masqueraded out of the wan only: with a wan that
 * does not exist (a typo), it would leave through the real uplink with
 * its private source.  An error of the policy, found before anything
 * changes.
 */
static int check_wan(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	const struct settings *s = &p->settings;
	size_t i;
	int err = 0;

	for (i = 0; i < s->nwan; i++) {
		if (prov_find_hlink(pl, s->wan[i]) || prov_find_altname(pl, s->wan[i]))
			continue;
		diag_error(d, s->wan_locs ? &s->wan_locs[i] : &s->wan_loc,
			   (unsigned int)strlen(s->wan[i]),
			   "wan interface \"%s\" does not exist on this host", s->wan[i]);
		err = -ENXIO;
	}
	return err;
}

int prov_analyse(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	size_t i;
	int err;

	pl->had_state = access(STATE_FILE, F_OK) == 0;
	err = prov_load_state(pl, d);
	if (err)
		return err;
	if (pl->old.phase != STATE_IDLE)
		diag_note(d, NULL, 0,
			  "the previous jailfw %s did not finish; this apply completes it",
			  pl->old.phase == STATE_DOWN ? "down" : "apply");
	pl->table = pl->old.table ? xstrdup(pl->old.table) : NULL;
	pl->new_table = xstrdup(policy_table(p));
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i];
		struct pjail *pj;

		if (j->backend == BACKEND_UID && j->uid_resolved) {
			struct state_jail *u = state_add_jail(&pl->uid_jails, j->name);

			u->backend = BACKEND_UID;
			u->has_user = true;
			u->uid = j->uid;
			u->gid = j->gid;
		}
		if (j->backend != BACKEND_NETNS)
			continue;
		pj = prov_add_pjail(pl, j->name);
		pj->pol = j;
		jail_ifname_host(j, pj->host_if);
		jail_ifname_jail(j, pj->jail_if);
		pj->has_v4 = j->has_v4;
		pj->has_v6 = j->has_v6;
		pj->v4 = j->v4;
		pj->v6 = j->v6;
	}
	index_netns_names(pl);
	for (i = 0; i < pl->old.njails; i++) {
		const struct state_jail *st = &pl->old.jails[i];
		struct pjail *pj;

		if (st->backend != BACKEND_NETNS || policy_has_netns_jail(pl, st->name))
			continue;
		pj = prov_add_pjail(pl, st->name);
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", st->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", st->jail_if);
		pj->has_v4 = st->has_v4;
		pj->has_v6 = st->has_v6;
		pj->v4 = st->v4;
		pj->v6 = st->v6;
	}
	err = prov_open_host(pl, d);
	if (!err)
		err = prov_host_links(pl, d);
	if (!err)
		err = check_wan(pl, p, d);
	for (i = 0; !err && i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE)
			analyse_leaving(pl, pj, state_find_jail(&pl->old, pj->name), d);
		else
			err = analyse_jail(pl, pj, d);
	}
	if (!err)
		err = prov_host_addrs(pl, d);
	if (err)
		return err;
	if (pl->conflicts)
		return -EEXIST;
	for (i = 0; i < pl->njails; i++)
		if (pl->jails[i].action != PJ_REMOVE)
			describe_jail(pl, &pl->jails[i]);
	prov_plan_sysctls(pl, p, d);
	return 0;
}
