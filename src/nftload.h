/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading rendered text through libnftables.  check and apply share this
 * one code path; check only sets the dry-run flag.
 */
#ifndef JAILFW_NFTLOAD_H
#define JAILFW_NFTLOAD_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"

/*
 * Load text (rendered from p with RENDER_REPLACE) in one transaction, or
 * only validate it when dry_run.  On refusal the kernel's or libnftables'
 * message is mapped back to the policy line named in the failing rule's
 * comment and reported through d; the previous table is left untouched.
 * Returns 0 or -errno (-EINVAL when the ruleset was refused).
 */
int nftload_run(const struct policy *p, const char *text, bool dry_run, struct diag *d);

/* Delete table inet NAME if it exists; 0 when gone (or never there). */
int nftload_delete_table(const char *table, struct diag *d);

/* 1 if table inet NAME exists, 0 if not, -errno on error. */
int nftload_table_exists(const char *table);

#endif
