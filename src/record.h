/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What jailfw last committed, so that applying an unchanged policy again
 * changes nothing in the kernel and keeps every counter.
 *
 * Replacing the table resets its counters, so apply first asks whether the
 * table in force is exactly what it would load.  Comparing listings costs
 * as much as a load (0.4 s for 5000 jails), so the answer comes in two
 * steps:
 *
 *   - the digest of the rendered text and the kernel's ruleset generation
 *     are recorded after each commit (STATE_DIR/ruleset-TABLE);
 *   - same digest and same generation: nobody has committed anything, to
 *     any table, since; the table is jailfw's last commit, unchanged;
 *   - same digest but another generation (firewalld reloaded, or someone
 *     edited jailfw's table by hand): the live table is listed without
 *     counter values and compared with the rendered text loaded in a
 *     throwaway namespace.  Only an exact match skips the load.
 */
#ifndef JAILFW_RECORD_H
#define JAILFW_RECORD_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"

/* True when table inet T in force is exactly text (rendered from p). */
bool record_is_current(const struct policy *p, const char *text, struct diag *d);

/* After a successful commit of text (and any later commit of this run). */
void record_save(const struct policy *p, const char *text);

/* After down: nothing of table is in force any more. */
void record_forget(const char *table);

#endif
