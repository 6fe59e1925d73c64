/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jailfw exec JAIL [--keep-ids] -- CMD...: run CMD confined by a jail in
 * force (one the last apply recorded in the state), the way a service
 * should be started under it:
 *
 *   netns jail   enter /run/netns/NAME (after proving it is the namespace
 *                jailfw made), in a private mount namespace with /sys
 *                remounted for it and /etc/netns/NAME/FILE bind-mounted
 *                over /etc/FILE, as `ip netns exec` does; then, when the
 *                jail names a user, become that user.
 *   uid jail     become the jail's user: the ruleset confines that uid
 *                and nothing else.
 *
 * Then, unless --keep-ids: no supplementary groups, no capabilities in any
 * set (effective, permitted, inheritable, bounding, ambient), and
 * no_new_privs; in every case no descriptor of jailfw's beyond 0, 1 and 2
 * reaches CMD.  --keep-ids keeps root and its capabilities for a launcher
 * that drops privileges itself (nsjail); it is refused for uid jails,
 * where root would simply not be confined.  A netns jail without a user
 * (or whose user is uid 0) needs --keep-ids: uid 0 without capabilities
 * still owns root's files, so exec refuses to hand it out unasked.
 *
 * Nothing is run unless all of it succeeded, and before anything changes
 * jailfw checks that the jail is in force: known to the state, not being
 * set up or torn down, its nftables table loaded and jailfw's.
 */
#ifndef JAILFW_EXEC_H
#define JAILFW_EXEC_H

#include <stdbool.h>

#include "diag.h"
#include "state.h"

struct exec_opts {
	bool keep_ids; /* --keep-ids: stay root, keep capabilities */
};

/*
 * What exec_jail returns when CMD itself could not be executed, after
 * everything else was done: the exit status shells use.
 */
#define EXEC_STATUS_CANNOT_RUN 126 /* found, but execve refused it */
#define EXEC_STATUS_NOT_FOUND 127  /* no such file (or not on PATH) */

/*
 * Run argv (argv[0] looked up on PATH, as execvp does) confined by jail.
 * Returns only on failure, always after reporting it through d:
 *
 *   -ESRCH    no jail of that name in force (the message lists the jails
 *             that are, with a "did you mean")        -> exit 2 (usage)
 *   -EINVAL   a request that cannot be honoured: --keep-ids for a uid
 *             jail, no --keep-ids for a jail without a user (or with
 *             uid 0), an empty argv                    -> exit 2 (usage)
 *   -EBUSY    the jail is being set up or torn down (an apply or down
 *             under way, or killed half-way)           -> exit 75
 *   -EEXIST   its namespace or table is not the one jailfw made, or
 *             the state is not one jailfw wrote        -> exit 5
 *   -EPERM, -EACCES  a capability is missing (named) or the kernel said
 *             no                                       -> exit 4
 *   other -errno  the state could not be read, the namespace or table is
 *             missing, or the kernel refused a step    -> exit 3
 *   EXEC_STATUS_CANNOT_RUN, EXEC_STATUS_NOT_FOUND (positive): the jail
 *             was fully entered but execvp failed: `cannot run "cmd": ...`;
 *             use it as the exit status, as a shell would.
 *
 * The process is changed for good once the first namespace step is taken
 * (namespaces entered, ids and capabilities dropped): the caller must exit
 * after a failure, never carry on.
 */
int exec_jail(const char *jail, const struct exec_opts *o, char *const argv[], struct diag *d);

/*
 * The pure first step, for tests: find jail in s and check that it may be
 * entered with o.  Returns 0 with *jp set, or -ESRCH, -EINVAL or -EBUSY
 * as exec_jail does, reported through d.
 */
int exec_lookup(struct state *s, const char *jail, const struct exec_opts *o,
		const struct state_jail **jp, struct diag *d);

/*
 * The capabilities exec_jail needs for jail j with o (CAP_* numbers, at
 * most 8), into caps; returns how many.
 */
size_t exec_needs(const struct state_jail *j, const struct exec_opts *o, unsigned int caps[8]);

/*
 * Is the namespace found at /run/netns/NAME the one jailfw made for j?
 * open_err is what netns_open returned, id the identity it found.
 * Returns 0, or -ENOENT (missing), -EEXIST (replaced), reported through d.
 */
int exec_check_netns(const struct state_jail *j, int open_err, const struct netns_id *id,
		     struct diag *d);

/* The exit status for execvp's errno: 127 for ENOENT, otherwise 126. */
int exec_cmd_status(int err);

/*
 * The exit status for what exec_jail returned, as tabled above (enum
 * jailfw_exit, exitcode.h; 126 and 127 passed through), so that main.c can
 * end `jailfw exec` with exit(exec_exit_status(exec_jail(...))).
 */
int exec_exit_status(int ret);

#endif
