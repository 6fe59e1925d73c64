/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What jailfw has made, remembered between runs under /run/jailfw/ (gone
 * at reboot, like everything it describes): the state file (jails,
 * sysctls changed, the phase of an unfinished apply or down), state.next,
 * the lock, and each table's committed record (counters.h).
 *
 * This module owns every file there: their names, the directory (0700,
 * root's and writable by nobody else: fileio.h), the lock, and the one
 * writer, fileio_write_at.  Every write happens under the lock; readers
 * never write, except status through state_try_lock.  The state file is
 * untrusted input: state_load refuses it whole unless every line is one
 * jailfw could have written.  What each file holds, who writes it and the
 * format: docs/design.md, "The files under /run/jailfw".
 */
#ifndef JAILFW_STATE_H
#define JAILFW_STATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "diag.h"
#include "model.h"
#include "netns.h"

#define STATE_DIR "/run/jailfw"
#define STATE_NAME "state"
#define STATE_NEXT_NAME "state.next"
#define STATE_LOCK_NAME "lock"
#define STATE_FILE STATE_DIR "/" STATE_NAME
#define STATE_LOCK STATE_DIR "/" STATE_LOCK_NAME
#define STATE_NEXT STATE_DIR "/" STATE_NEXT_NAME
#define STATE_STOPPED_NAME "stopped"
#define STATE_STOPPED STATE_DIR "/" STATE_STOPPED_NAME

enum state_phase {
	STATE_IDLE,	/* the last apply or down finished */
	STATE_APPLYING, /* an apply is (or was killed) between stage and commit */
	STATE_DOWN,	/* a down is (or was killed) under way */
};

struct state_jail {
	char *name;		   /* also the namespace's name */
	char host_if[IF_NAMESIZE]; /* NAME-out */
	char jail_if[IF_NAMESIZE]; /* NAME-in, in the namespace */
	struct netns_id ns;	   /* 0:0 while its creation is under way */
	bool has_v4, has_v6;
	struct prefix v4, v6; /* the jail's prefixes */
	bool has_user;
	uid_t uid;
	gid_t gid;
	bool resolv;  /* /etc/netns/NAME/resolv.conf is jailfw's */
	bool etc_dir; /* jailfw created /etc/netns/NAME */
	bool pending; /* created by an apply that has not committed yet */
	/*
	 * BACKEND_NETNS (the default of state_add_jail) or BACKEND_UID: a
	 * uid jail has only a name and a user (has_user, uid, gid); no
	 * namespace, interfaces, prefixes or files.
	 */
	enum backend backend;
};

struct state_sysctl {
	char *key; /* below /proc/sys, '/'-separated: net/ipv4/conf/all/forwarding */
	char *old; /* the value before jailfw changed it */
	char *set; /* the value jailfw wrote */
};

struct state {
	enum state_phase phase;
	char *table; /* the nftables table of the last apply, NULL if none */
	struct state_jail *jails;
	size_t njails, jails_cap; /* jails_cap: VEC_PUSH_CAP (util.h) */
	struct state_sysctl *sysctls;
	size_t nsysctls;
	/*
	 * Private to state.c: a hash of the jails by name (index + 1 per
	 * slot, 0 free), made by the first state_find_jail and kept up to
	 * date by state_add_jail; state_del_jail and state_jails_moved
	 * drop it.
	 */
	size_t *jail_slots;
	size_t njail_slots;
};

void state_init(struct state *s);
void state_free(struct state *s);
void state_copy(struct state *dst, const struct state *src);

/*
 * Read STATE_FILE into s (initialised here).  No file is an empty, idle
 * state.  A file with any line jailfw could not have written is reported
 * through d (file:line and what is wrong; d NULL: not reported) and
 * refused whole with -EINVAL: nothing of it is used.  -EEXIST: STATE_DIR
 * is not a directory jailfw may trust (reported too).
 */
int state_load(struct state *s, struct diag *d);

/*
 * Whether STATE_FILE records a netns jail, whose namespace an apply or
 * down would enter or remove.  False when there is no state or it cannot
 * be read (state_load then says why, where it matters).
 */
bool state_has_netns(void);
/* Replace STATE_FILE atomically, creating STATE_DIR if needed. */
int state_save(const struct state *s);
/* Remove STATE_FILE (after down). */
int state_remove(void);

/* The text state_save would write for s (malloc'd). */
char *state_format(const struct state *s);

/*
 * A state to be installed later without needing any space: write text to
 * STATE_NEXT now (atomically, as state_save does), and later rename it
 * over STATE_FILE (state_install_next), which allocates nothing.  So a
 * full file system refuses the state before the ruleset commit, never
 * after it.  state_drop_next removes an unused one.
 */
int state_prepare_next(const char *text);
int state_install_next(void);
void state_drop_next(void);

struct state_jail *state_find_jail(struct state *s, const char *name);
/* A new zeroed netns entry named name (the name is copied). */
struct state_jail *state_add_jail(struct state *s, const char *name);
void state_del_jail(struct state *s, const char *name);
/* After s->jails was edited in place (entries moved or dropped). */
void state_jails_moved(struct state *s);
struct state_sysctl *state_find_sysctl(struct state *s, const char *key);
void state_add_sysctl(struct state *s, const char *key, const char *old, const char *set);
void state_del_sysctl(struct state *s, const char *key);

/*
 * Whether jailfw manages sysctl key (below /proc/sys, '/'-separated) and
 * would change it from old to set: the forwarding switches from 0 to 1,
 * an interface's accept_ra from 1 to 2.  Anything else in the state was
 * not written by jailfw and is never written back.
 */
bool state_sysctl_managed(const char *key, const char *old, const char *set);

/*
 * Take the lock (STATE_LOCK, flock) for a whole apply or down, creating
 * STATE_DIR if needed.  wait: block until the holder is done; otherwise
 * -EBUSY at once.  -EEXIST: STATE_DIR is not a directory jailfw may
 * trust (reported through d).  *fdp is the descriptor to hand to
 * state_unlock (closing it also unlocks).
 */
int state_lock(bool wait, int *fdp, struct diag *d);
/*
 * The same without waiting and without reporting, for a reader that may
 * write a record back only when no apply or down is under way: true with
 * *fdp held, false if anything is in the way.
 */
bool state_try_lock(int *fdp);
void state_unlock(int fd);

/*
 * The jails `jailfw stop` took down (updown.h), by name, in STATE_STOPPED:
 * sorted, each once.  A file with a line jailfw could not have written is
 * reported through d and refused whole (-EINVAL); no file is none.
 * state_stopped_save writes them (the lock held); none removes the file.
 */
int state_stopped_load(char ***names, size_t *n, struct diag *d);
int state_stopped_save(char *const *names, size_t n);

/* The files of one table's record (counters.h). */
enum state_record {
	STATE_RECORD_COMMITTED, /* committed-TABLE */
	STATE_RECORD_TEXT,	/* committed-TABLE.nft */
};
int state_record_read(const char *table, enum state_record which, char **text);
/* Replace it atomically (the lock held). */
int state_record_write(const char *table, enum state_record which, const char *text, size_t len);
/* After down, or when the policy moved to another table: all of them go. */
void state_record_forget(const char *table);

#endif
