/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading rendered text through libnftables.  check and apply share this
 * one code path; check only sets the dry-run flag.
 */
#ifndef JAILFW_NFTLOAD_H
#define JAILFW_NFTLOAD_H

#include <errno.h>
#include <stdbool.h>

#include "diag.h"
#include "model.h"

/*
 * Load text (rendered from p with RENDER_REPLACE) in one transaction, or
 * only validate it when dry_run.  On refusal the kernel's or libnftables'
 * message is mapped back to the policy line named in the failing rule's
 * comment and reported through d; the previous table is left untouched.
 * libnftables runs in a forked child (nftload.c says why).  When it ends
 * without a result: -ECHILD if the ruleset generation shows that nothing
 * was committed, else NFTLOAD_COMMIT_UNKNOWN (said through d): the text
 * may be in force or not, and the caller leaves everything as a jailfw
 * killed at this point would, for the next apply to finish or undo.
 * Returns 0 or -errno (-EINVAL when the ruleset was refused).
 */
#define NFTLOAD_COMMIT_UNKNOWN (-EINPROGRESS)
int nftload_run(const struct policy *p, const char *text, bool dry_run, struct diag *d);

/*
 * nftload_run for a delta script (delta.h) on table inet T in force,
 * which the delta knows to be what jailfw committed last: libnftables
 * then does without its cache of every chain (nftload.c says why), which
 * none of the delta's commands needs.
 */
int nftload_run_delta(const struct policy *p, const char *script, struct diag *d);

/*
 * Free what the last committed delta kept (nftload.c says why it keeps
 * it); apply calls it when it is done.
 */
void nftload_release(void);

/*
 * The table a replace of table inet T loads first (apply.c explains why):
 * "T-handover", malloc'd.  A policy cannot name a table with a '-', so it
 * is never another policy's table.
 */
#define NFTLOAD_HANDOVER_SUFFIX "-handover"
char *nftload_handover_name(const char *table);

/*
 * Whether t may name a table in command text: a letter, then letters,
 * digits, '_' or '-', at most 64 characters.
 */
bool nftload_table_name_ok(const char *t);

/*
 * Delete table inet NAME and table arp NAME (render_netns.c) if they
 * exist, in one transaction; 0 when gone (or never there).
 */
int nftload_delete_table(const char *table, struct diag *d);

/* 1 if table inet NAME exists, 0 if not, -errno on error. */
int nftload_table_exists(const char *table);

/*
 * Report libnftables' error text errbuf, from loading text (rendered from
 * p), through d.  Each located error is mapped back through the comment on
 * the rendered line it points at ("policy.conf:12", "ntp.conf:2 via
 * policy.conf:9") to the policy or template line, and reported there:
 * "the kernel refused the rule made from this line: MESSAGE".  When no
 * error maps, the first one is reported as "the kernel refused the
 * ruleset: MESSAGE".  Pure (no kernel): unit-tested on canned text.
 * Returns the number of errors reported.
 */
unsigned int nftload_report_errors(const struct policy *p, const char *text, const char *errbuf,
				   struct diag *d);

/* How nftload_list_table and nftload_run_isolated print a table. */
enum nftload_listing {
	NFTLOAD_LIST_TERSE,	/* nft list, without set elements' noise */
	NFTLOAD_LIST_JSON,	/* libnftables JSON */
	NFTLOAD_LIST_STATELESS, /* nft list -s: no counter values */
};

/*
 * nftload_run in a forked child inside a throwaway user+network namespace,
 * for callers without CAP_NET_ADMIN (check): there even an unprivileged
 * user holds it, over an empty netns that dies with the child.  listing
 * NULL: dry run.  listing non-NULL: load for real there, then return the
 * table as how says in *listing (malloc'd).  The child's diagnostics are
 * copied to d.  Returns 0 or -errno (-EPERM: no namespace could be made).
 */
int nftload_run_isolated(const struct policy *p, const char *text, enum nftload_listing how,
			 char **listing, struct diag *d);

/*
 * The same, but what comes back is readback(TABLE), called in the child
 * once the text is loaded there: a malloc'd string, NULL on failure.  For
 * facts about how the kernel holds a text (its digests) without touching
 * the real ruleset.
 */
typedef char *nftload_readback(const char *table);
int nftload_run_isolated_readback(const struct policy *p, const char *text,
				  nftload_readback *readback, char **out, struct diag *d);

/*
 * "list table inet NAME" into *out (malloc'd), followed by table arp NAME
 * when it exists (not in JSON).  Returns 0 or -errno
 * (-ENOENT: no such table), reporting failures through d.
 */
int nftload_list_table(const char *table, enum nftload_listing how, char **out, struct diag *d);

/* What holds the name table inet NAME (nftload_table_state). */
enum nftload_table_state {
	NFTLOAD_TABLE_ABSENT = 0,
	NFTLOAD_TABLE_OURS = 1,	   /* its comment says "managed by jailfw" */
	NFTLOAD_TABLE_FOREIGN = 2, /* someone else's table of that name */
};

/*
 * Whether table inet NAME exists and is jailfw's: apply and down refuse to
 * replace or delete a table of that name that jailfw did not make.  A
 * table arp NAME that is not jailfw's makes it FOREIGN too: jailfw
 * replaces and deletes the two together.  Returns an enum
 * nftload_table_state or -errno (reported through d).
 */
int nftload_table_state(const char *table, struct diag *d);

#endif
