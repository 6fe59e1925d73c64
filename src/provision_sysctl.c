// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host's forwarding and accept_ra sysctls: planned, checked, written,
 * restored.
 */
#include "provision_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

static void prov_add_op(struct prov_plan *pl, const char *key, const char *from, const char *to,
			bool restore, bool new_record)
{
	struct sysop *op = VEC_PUSH(pl->ops, pl->nops);
	char name[PATH_MAX];

	op->key = xstrdup(key);
	op->from = xstrdup(from);
	op->to = xstrdup(to);
	op->restore = restore;
	op->new_record = new_record;
	prov_add_change(pl, "%s %s = %s (was %s)", restore ? "restore" : "set",
			sysctl_name(key, name, sizeof(name)), to, from);
}

/*
 * A recorded per-interface IPv4 forwarding that must not go back to 0:
 * someone turned forwarding on for every interface since (Docker writes
 * net.ipv4.ip_forward = 1 when it starts), and the wan carries their
 * traffic too now.
 */
bool prov_fwd4_shared(const char *key)
{
	char *all = NULL;
	bool shared;

	if (strncmp(key, "net/ipv4/conf/", 14) || strcmp(key + strlen(key) - 11, "/forwarding") ||
	    !strcmp(key, FWD4))
		return false;
	shared = !sysctl_read(FWD4, &all) && strcmp(all, "0");
	free(all);
	return shared;
}

static bool safe_ifname(const char *s)
{
	return s[0] && strlen(s) < IF_NAMESIZE && !strchr(s, '/') && strcmp(s, ".") &&
	       strcmp(s, "..");
}

static bool is_jail_link(const struct prov_plan *pl, const struct rtnl_link *l)
{
	size_t i;

	if (!strncmp(l->alias, ALIAS_PREFIX, strlen(ALIAS_PREFIX)))
		return true;
	for (i = 0; i < pl->njails; i++)
		if (!strcmp(pl->jails[i].host_if, l->name))
			return true;
	return false;
}

/*
 * Which interfaces need accept_ra 2: with forwarding on, the kernel
 * ignores router advertisements where accept_ra is 1, so the host would
 * lose the default route and addresses its uplink learns from them.  And
 * turning forwarding on purges RA-learned default routes at once
 * (rt6_purge_dflt_routers) except on interfaces whose accept_ra is 2
 * already, which is why this is set before forwarding.
 */
static void ra_targets(const struct prov_plan *pl, const struct policy *p, char ***out, size_t *n)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (p->settings.nwan) {
		for (i = 0; i < p->settings.nwan; i++)
			*VEC_PUSH(*out, *n) = xstrdup(p->settings.wan[i]);
		return;
	}
	/* No wan configured: every interface that is not a jail's (nor lo). */
	for (i = 0; i < pl->nhlinks; i++) {
		const struct rtnl_link *l = &pl->hlinks[i];

		if (!(l->flags & IFF_LOOPBACK) && !is_jail_link(pl, l))
			*VEC_PUSH(*out, *n) = xstrdup(l->name);
	}
}

/*
 * Restores run in two passes, forwarding first: with forwarding still on,
 * an accept_ra given back to 1 would already ignore router adverts.
 */
bool prov_restore_pass(const char *key, int pass)
{
	size_t n = strlen(key), f = strlen("/forwarding");
	bool fwd = n >= f && !strcmp(key + n - f, "/forwarding");

	return pass == 0 ? fwd : !fwd;
}

/*
 * A value an earlier apply recorded for KEY is kept (true).  Recorded but
 * still at its old value: an apply was killed between saving its intent
 * (the state is written first) and writing the value.  Write it now; the
 * record stays.
 */
static bool keep_recorded(struct prov_plan *pl, const char *key, bool *keep)
{
	struct state_sysctl *rec = state_find_sysctl(&pl->old, key);
	char *cur = NULL;

	if (!rec)
		return false;
	keep[rec - pl->old.sysctls] = true;
	if (!sysctl_read(key, &cur) && strcmp(cur, rec->set) && !strcmp(cur, rec->old))
		prov_add_op(pl, key, cur, rec->set, false, false);
	free(cur);
	return true;
}

/*
 * Decide the sysctl writes: IPv4 forwarding only if a netns jail has IPv4,
 * IPv6 forwarding only if one has IPv6, only where it is off, and accept_ra
 * 2 (only on interfaces at 1) where jailfw is the one that turns IPv6
 * forwarding on.  Values jailfw set that are no longer needed go back at
 * commit.  Changes come out in execution order: accept_ra first.
 */
void prov_plan_sysctls(struct prov_plan *pl, const struct policy *p, struct diag *d)
{
	bool need4 = false, need6 = false, own6 = false, change6 = false, per4 = false;
	char *cur6 = NULL, *cur4 = NULL, *cur = NULL, **ra = NULL, key[PATH_MAX];
	bool *keep = xcalloc(pl->old.nsysctls + 1, sizeof(bool));
	struct state_sysctl *rec;
	size_t i, nra = 0;

	for (i = 0; i < pl->njails; i++) {
		if (pl->jails[i].action == PJ_REMOVE)
			continue;
		need4 |= pl->jails[i].has_v4;
		need6 |= pl->jails[i].has_v6;
	}
	if (need6 && !sysctl_read(FWD6, &cur6)) {
		rec = state_find_sysctl(&pl->old, FWD6);
		change6 = !strcmp(cur6, "0");
		own6 = change6 || rec;
		if (rec)
			keep[rec - pl->old.sysctls] = true;
	}
	if (need4 && !sysctl_read(FWD4, &cur4)) {
		rec = state_find_sysctl(&pl->old, FWD4);
		/* An older jailfw turned it on for all: kept until down. */
		if (rec)
			keep[rec - pl->old.sysctls] = true;
		else
			per4 = !strcmp(cur4, "0");
	}
	if (own6 || per4)
		ra_targets(pl, p, &ra, &nra);
	/* The wan's IPv4 forwarding; the jails' host sides at stage. */
	for (i = 0; per4 && i < nra; i++) {
		if (!safe_ifname(ra[i]))
			continue;
		snprintf(key, sizeof(key), FWD4_IF_FMT, ra[i]);
		free(cur);
		cur = NULL;
		if (keep_recorded(pl, key, keep))
			continue;
		if (!sysctl_read(key, &cur) && !strcmp(cur, "0"))
			prov_add_op(pl, key, cur, "1", false, true);
	}
	if (own6) {
		for (i = 0; i < nra; i++) {
			if (!safe_ifname(ra[i]))
				continue;
			snprintf(key, sizeof(key), "net/ipv6/conf/%s/accept_ra", ra[i]);
			free(cur);
			cur = NULL;
			if (keep_recorded(pl, key, keep))
				continue;
			if (sysctl_read(key, &cur)) {
				if (p->settings.nwan)
					diag_warning(d, &p->settings.wan_loc, 0,
						     "wan interface \"%s\" has no IPv6 settings "
						     "(missing?); accept_ra left alone",
						     ra[i]);
				continue;
			}
			if (!strcmp(cur, "1"))
				prov_add_op(pl, key, cur, "2", false, true);
		}
	}
	if (change6)
		prov_add_op(pl, FWD6, cur6, "1", false, !state_find_sysctl(&pl->old, FWD6));
	/* Restores, in the order they will run (see prov_restore_pass). */
	for (i = 0; i < 2 * pl->old.nsysctls; i++) {
		char name[PATH_MAX];

		rec = &pl->old.sysctls[i % pl->old.nsysctls];
		if (keep[i % pl->old.nsysctls] ||
		    !prov_restore_pass(rec->key, (int)(i / pl->old.nsysctls)))
			continue;
		free(cur);
		cur = NULL;
		if (sysctl_read(rec->key, &cur) || strcmp(cur, rec->set) ||
		    prov_fwd4_shared(rec->key)) {
			struct sysop *op = VEC_PUSH(pl->ops, pl->nops);

			/*
			 * Nothing to write, only the record to forget.  No
			 * warning when it is back at its old value: a killed
			 * apply never wrote it (its intent was saved first),
			 * or a killed one restored it.
			 */
			if (cur && !strcmp(cur, rec->set))
				diag_note(d, NULL, 0,
					  "%s left at %s: forwarding is on for every interface "
					  "now (net.ipv4.ip_forward = 1), not by jailfw",
					  sysctl_name(rec->key, name, sizeof(name)), cur);
			else if (!cur || strcmp(cur, rec->old))
				diag_warning(d, NULL, 0,
					     "%s was changed since jailfw set it to %s; left alone",
					     sysctl_name(rec->key, name, sizeof(name)), rec->set);
			op->key = xstrdup(rec->key);
			op->from = xstrdup(cur ? cur : "?");
			op->to = xstrdup(op->from);
			op->restore = true;
			op->done = true;
			continue;
		}
		prov_add_op(pl, rec->key, cur, rec->old, true, false);
	}
	for (i = 0; i < nra; i++)
		free(ra[i]);
	free(ra);
	free(cur);
	free(cur4);
	free(cur6);
	free(keep);
}

/* Write val to key; a failure is said as "VERB NAME = VAL: why". */
int prov_sysctl_set(const char *verb, const char *key, const char *val, struct diag *d)
{
	char name[PATH_MAX];
	int err = sysctl_write(key, val);

	if (err)
		diag_error(d, NULL, 0, "%s %s = %s: %s", verb, sysctl_name(key, name, sizeof(name)),
			   val, strerror(-err));
	return err;
}

int prov_run_ops(struct prov_plan *pl, bool restore, struct diag *d)
{
	char name[PATH_MAX];
	size_t i;
	int err;

	for (i = 0; i < pl->nops; i++) {
		struct sysop *op = &pl->ops[i];

		if (op->restore != restore || op->done)
			continue;
		err = prov_sysctl_set("set", op->key, op->to, d);
		if (err)
			return err;
		op->done = true;
		diag_note(d, NULL, 0, "%s %s = %s (was %s)", restore ? "restored" : "set",
			  sysctl_name(op->key, name, sizeof(name)), op->to, op->from);
	}
	return 0;
}

/*
 * Can /proc/sys/KEY be written?  A read-only /proc/sys (a container's,
 * systemd's ProtectKernelTunables=) refuses every write with EROFS, in
 * every network namespace alike: it is one mount.  AT_EACCESS: the
 * effective ids, as the write itself would use.  0 when KEY does not
 * exist (a kernel without IPv6): nothing is written there.
 */
int prov_sysctl_writable(const char *key, const char *where, struct diag *d)
{
	char path[PATH_MAX], name[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 || errno == ENOENT)
		return 0;
	err = -errno;
	diag_error(d, NULL, 0, "cannot write %s%s (%s): %s", sysctl_name(key, name, sizeof(name)),
		   where, path, strerror(-err));
	if (err == -EROFS)
		diag_note(d, NULL, 0,
			  "/proc/sys is read-only here (a container, or systemd's "
			  "ProtectKernelTunables=); nothing was changed");
	return err;
}

/*
 * Before stage changes anything: the writes the kernel would refuse
 * half-way through, for reasons no rollback can fix.  Every sysctl the
 * plan writes (forwarding, accept_ra on the wan, their restores, and
 * accept_ra in each jail namespace made or fixed) must be writable; and
 * IPv6 must be enabled where a jail's IPv6 address goes, or the kernel
 * refuses it ("IPv6 is disabled on this device", EACCES): a new NAME-out
 * takes net.ipv6.conf.default.disable_ipv6, an existing one has its own.
 * The jail side of an existing jail is not looked at from here; the
 * kernel's refusal there rolls the apply back like any other.
 */
int prov_check_env(struct prov_plan *pl, struct diag *d)
{
	bool jail_ra = false;
	size_t i;
	int err, ret = 0, conf6 = -EBADF;

	for (i = 0; i < pl->nops; i++) {
		if (pl->ops[i].done)
			continue;
		err = prov_sysctl_writable(pl->ops[i].key, "", d);
		ret = ret ? ret : err;
	}
	for (i = 0; i < pl->njails; i++) {
		const struct pjail *pj = &pl->jails[i];

		if (pj->action != PJ_REMOVE && (pj->need_veth || pj->fix_ra || pj->fix_agm))
			jail_ra = true;
	}
	if (jail_ra && !ret)
		ret = prov_sysctl_writable(RA_DEFAULT, " (in the jails' namespaces)", d);
	if (jail_ra && !ret)
		ret = prov_sysctl_writable(AGM_DEFAULT, " (in the jails' namespaces)", d);
	for (i = 0; i < pl->njails; i++) {
		const struct pjail *pj = &pl->jails[i];
		char key[PATH_MAX], name[PATH_MAX], *cur = NULL;
		const char *ifname = "default";

		if (pj->action == PJ_REMOVE || !pj->has_v6 || pj->host_unread)
			continue;
		if (!pj->need_veth && pj->host_ifindex && pj->host_dis6 == 0)
			continue; /* the host's dump showed it */
		if (!pj->need_veth && pj->host_ifindex)
			ifname = pj->host_if;
		snprintf(key, sizeof(key), "net/ipv6/conf/%s/disable_ipv6", ifname);
		/* One lookup of net/ipv6 for all jails (sysctl_open_dir). */
		if (conf6 == -EBADF)
			conf6 = sysctl_open_dir(-1, "net/ipv6/conf");
		err =
		    conf6 < 0 ? conf6 : sysctl_read_at(conf6, key + strlen("net/ipv6/conf/"), &cur);
		if (err == -ENOENT && access("/proc/sys/net/ipv6", F_OK) != 0) {
			diag_error(d, &pj->pol->v6_loc, 0,
				   "jail \"%s\" has ipv6, but this kernel has no IPv6 (no "
				   "/proc/sys/net/ipv6: ipv6.disable=1?)",
				   pj->name);
			ret = ret ? ret : -EAFNOSUPPORT;
		} else if (!err && strcmp(cur, "0")) {
			diag_error(d, &pj->pol->v6_loc, 0,
				   "jail \"%s\" has ipv6, but IPv6 is disabled on %s (%s = %s): "
				   "the kernel would refuse its address",
				   pj->name, pj->need_veth ? "new interfaces" : pj->host_if,
				   sysctl_name(key, name, sizeof(name)), cur);
			ret = ret ? ret : -EAFNOSUPPORT;
		}
		free(cur);
	}
	if (conf6 >= 0)
		close(conf6);
	return ret;
}

/*
 * IPv4 forwarding on each jail's host side, where its packets come in
 * (see FWD4).  Not recorded: the interface is jailfw's and goes with the
 * jail.  Where conf/all is on, a new interface has it on already.
 */
int prov_jail_forwarding(struct prov_plan *pl, struct diag *d)
{
	char key[PATH_MAX], *cur = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < pl->njails && !err; i++) {
		const struct pjail *pj = &pl->jails[i];

		if (pj->action == PJ_REMOVE || !pj->has_v4 || !safe_ifname(pj->host_if) ||
		    pj->host_unread)
			continue;
		/* A kept link the host's dump showed forwarding: no read. */
		if (!pj->need_veth && pj->host_ifindex && pj->host_fwd4 == 1)
			continue;
		snprintf(key, sizeof(key), FWD4_IF_FMT, pj->host_if);
		free(cur);
		cur = NULL;
		if (!sysctl_read(key, &cur) && !strcmp(cur, "1"))
			continue;
		err = prov_sysctl_set("set", key, "1", d);
	}
	free(cur);
	return err;
}
