// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw down: every jailfw link cut, then namespaces, files, sysctls and
 * the state removed (provision.h).
 */
#include "provision_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testhook.h"

int prov_down_cut(struct prov_plan **planp, struct diag *d)
{
	struct prov_plan *pl = prov_plan_new();
	size_t i;
	int err;

	*planp = pl;
	err = prov_load_state(pl, d);
	if (err)
		return err;
	state_copy(&pl->st, &pl->old);
	pl->table = pl->old.table ? xstrdup(pl->old.table) : NULL;
	pl->phase = PLAN_DOWN_CUT;
	if (!pl->old.njails && !pl->old.nsysctls)
		return 0;
	/* The restores come last: a read-only /proc/sys refuses them now, before any cut. */
	for (i = 0; i < pl->old.nsysctls; i++) {
		const struct state_sysctl *rec = &pl->old.sysctls[i];
		char *cur = NULL;

		if (!sysctl_read(rec->key, &cur) && !strcmp(cur, rec->set))
			err = prov_sysctl_writable(rec->key, "", d);
		else
			err = 0;
		free(cur);
		if (err)
			return err;
	}
	pl->st.phase = STATE_DOWN;
	err = prov_save(pl, d);
	if (!err)
		err = prov_open_host(pl, d);
	if (!err)
		err = prov_host_links(pl, d);
	if (err)
		return err;
	for (i = 0; i < pl->old.njails; i++) {
		const struct state_jail *sj = &pl->old.jails[i];
		const struct rtnl_link *hl;
		const char *owner;
		struct pjail *pj;

		/* A uid jail is only its record: it goes with the state. */
		if (sj->backend != BACKEND_NETNS)
			continue;
		pj = prov_add_pjail(pl, sj->name);
		hl = prov_find_hlink(pl, sj->host_if);
		owner = hl ? prov_alias_jail(hl) : NULL;
		pj->action = PJ_REMOVE;
		snprintf(pj->host_if, sizeof(pj->host_if), "%s", sj->host_if);
		snprintf(pj->jail_if, sizeof(pj->jail_if), "%s", sj->jail_if);
		if (owner && !strcmp(owner, pj->name)) {
			pj->host_ifindex = hl->ifindex;
			pj->host_flags = hl->flags;
		}
		prov_add_change(pl, "remove jail %s", pj->name);
	}
	/* Thousands of links cut: their addresses first (prov_unaddr_cut). */
	prov_unaddr_cut(pl, d);
	return prov_set_links(pl, false, prov_want_cut, d);
}

/*
 * Which namespaces of the jails are jailfw's to remove; those that are not
 * are said, and make down end with -EEXIST.  Returns whether there was one.
 */
static bool down_claim_namespaces(struct prov_plan *pl, struct diag *d)
{
	bool foreign = false;
	size_t i;
	int err;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->old, pj->name);
		struct netns_id id;
		bool proven = true;
		int fd;

		err = netns_open(pj->name, &fd, &id);
		if (!err) {
			pj->ns = id;
			pj->ns_ours = !sj->ns.ino || netns_id_eq(&sj->ns, &id);
			if (pj->ns_ours && !prov_ns_is_ours(pl, pj, fd))
				pj->ns_ours = proven = false;
			close(fd);
		} else {
			pj->ns_ours = err == -ENODATA && !sj->ns.ino;
			pj->ns_gone = err == -ENOENT;
			pj->ns = sj->ns;
		}
		if (!proven) {
			prov_say_unproven(d, NULL, pj, true);
			foreign = true;
		} else if (!err && !pj->ns_ours) {
			diag_error(d, NULL, 0,
				   "namespace \"%s\" is not the one jailfw created (%s/%s); left "
				   "alone",
				   pj->name, NETNS_RUN_DIR, pj->name);
			foreign = true;
		} else if ((err == -ENODATA && !pj->ns_ours) || err == -EMEDIUMTYPE) {
			char what[160];

			diag_error(d, NULL, 0,
				   "%s/%s is not the namespace jailfw made (it is %s); left alone",
				   NETNS_RUN_DIR, pj->name,
				   netns_what(pj->name, what, sizeof(what)));
			foreign = true;
		}
	}
	return foreign;
}

/* resolv.conf files and /etc/netns directories of the jails that went. */
static int down_remove_files(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err, ret = 0;

	for (i = 0; i < pl->njails; i++) {
		struct pjail *pj = &pl->jails[i];
		struct state_jail *sj = state_find_jail(&pl->old, pj->name);

		if (pj->ns_ours && !pj->removed)
			continue;
		pj->removed = true;
		err = prov_remove_jail_files(pj, sj, d);
		ret = ret ? ret : err;
	}
	return ret;
}

/* The sysctls jailfw set, given back where nobody changed them since. */
static int down_restore_sysctls(struct prov_plan *pl, struct diag *d)
{
	size_t i;
	int err, ret = 0;

	for (i = 0; i < 2 * pl->old.nsysctls; i++) {
		const struct state_sysctl *rec = &pl->old.sysctls[i % pl->old.nsysctls];
		char name[PATH_MAX], *cur = NULL;

		if (!prov_restore_pass(rec->key, (int)(i / pl->old.nsysctls)))
			continue;
		sysctl_name(rec->key, name, sizeof(name));
		if (!sysctl_read(rec->key, &cur) && strcmp(cur, rec->set) &&
		    !strcmp(cur, rec->old)) {
			/* Restored already (a down killed after it), or never set. */
		} else if (cur && prov_fwd4_shared(rec->key)) {
			diag_note(d, NULL, 0,
				  "%s left at %s: forwarding is on for every interface now "
				  "(net.ipv4.ip_forward = 1), not by jailfw",
				  name, cur);
		} else if (!cur || strcmp(cur, rec->set)) {
			diag_warning(d, NULL, 0,
				     "%s was changed since jailfw set it to %s; left alone", name,
				     rec->set);
		} else {
			err = prov_sysctl_set("restore", rec->key, rec->old, d);
			if (err) {
				ret = ret ? ret : err;
			} else {
				diag_note(d, NULL, 0, "restored %s = %s (was %s)", name, rec->old,
					  rec->set);
				prov_add_change(pl, "restore %s = %s (was %s)", name, rec->old,
						rec->set);
			}
		}
		free(cur);
	}
	return ret;
}

int prov_down_finish(struct prov_plan *pl, struct diag *d)
{
	bool foreign;
	int err, ret;

	if (!pl || pl->phase != PLAN_DOWN_CUT)
		return -EINVAL;
	foreign = down_claim_namespaces(pl, d);
	ret = prov_drop_namespaces(pl, false, d);
	testhook_point("netns-removed");
	err = down_remove_files(pl, d);
	ret = ret ? ret : err;
	err = down_restore_sysctls(pl, d);
	ret = ret ? ret : err;
	testhook_point("sysctls-restored");
	if (!ret) {
		state_drop_next(); /* left by an apply killed before its commit */
		err = state_remove();
		if (err) {
			diag_error(d, NULL, 0, "remove state \"%s\": %s", STATE_FILE,
				   strerror(-err));
			ret = err;
		}
	}
	testhook_point("state-removed");
	pl->phase = PLAN_DOWN_DONE;
	if (!ret && foreign)
		ret = -EEXIST;
	return ret;
}
