/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The delta apply: when the table in force is the one jailfw committed
 * last, send only what changed, in one libnftables transaction, instead
 * of replacing the whole table (docs/ruleset.md, "Delta apply").
 *
 * The delta is computed from text, not from the policy model: the
 * rendering committed last (STATE_DIR/committed-TABLE.nft, counters.h)
 * and the new one are cut into objects (nftobj.h) and compared object by
 * object.  It is used only when
 *
 *   - the record is intact (the text's digest is the one recorded) and
 *     the ruleset generation is still the one jailfw's commit made: no
 *     one has committed anything since, so the table is that text;
 *   - the rendering has the same tables (inet, and arp when there are
 *     netns jails) and the same lines around them, and in each table
 *     only chains that are not base chains, elements of sets and maps,
 *     and whole sets and maps added or removed differ: the table's own
 *     lines, the declaration of every set and map in both, every base
 *     chain's hook, priority and policy, and every other object are the
 *     same.
 *
 * Anything else, and any doubt, is a full replace.  Within the one
 * transaction the order keeps every reference valid: new sets and maps
 * are declared and new chains created (empty) first, removed elements are
 * deleted, changed and removed chains are flushed and the rules of
 * changed and new chains added, new elements added, removed sets and
 * maps deleted (no rule names them any more, and a removed verdict map's
 * elements still jump to the chains about to go), and removed chains
 * deleted last; every table's part in its turn.  The kernel makes the
 * transaction atomic, so no packet sees a part of it.
 */
#ifndef JAILFW_DELTA_H
#define JAILFW_DELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/*
 * Pure: the script that turns the tables named TABLE holding old (a
 * rendering, RENDER_REPLACE) into new, malloc'd, with *nobjs the number of objects it
 * touches (chains added, changed or removed; elements added or removed).
 * NULL when the difference cannot be expressed as a delta (*why then says
 * why, a static string) or when there is none (*nobjs 0).
 */
char *delta_script(const char *table, const char *old, const char *new, size_t *nobjs,
		   const char **why);

/*
 * The delta from the table in force to text (rendered from p), if the
 * record l allows one (above): *script set (malloc'd), and *jails
 * (delta_jails), or both NULL and *why set.  Reads only; the caller loads
 * the script with nftload_run_delta.
 */
struct counters_last;
void delta_prepare(const struct policy *p, const char *text, struct counters_last *l, char **script,
		   size_t *nobjs, const char **why, bool **jails);

/*
 * The jails of p that a delta from the record l changes, by index into
 * p->jails (calloc'd): those the record does not list (added or renamed,
 * or a record that lists none) and those whose signature differs from the
 * record's.  After a delta only they can hold conntrack entries the policy
 * no longer admits, so the sweep judges them alone (ctsweep_run_some).
 *
 * The source of truth is the policy model against the record, not the
 * script.  A jail's signature (jail_sig in counters.c) covers all of it that the
 * ruleset renders and the sweep's judgement reads: backend, uid, interface
 * names, its own prefixes, each rule's protocol, ports and destinations
 * (those of the templates it uses included, copied into its rules by
 * check), its published ports.  A jail with the same signature admits
 * exactly what it admitted before, whatever objects the script touches;
 * a jail with another one is selected whether the script names it by a
 * chain, an interface, a prefix or not at all (a shared destination chain).
 * Removed jails are not in p: their namespaces go, and the entries of their
 * prefixes belong to no jail.  Exact for uid and netns jails alike, and
 * O(jails) in memory only: a signature each, taken once per apply
 * (counters_last_sigs: the record reuses them), and a lookup each in the
 * record (where the policy's order puts it, else by name).
 */
bool *delta_jails(const struct policy *p, struct counters_last *l);

#endif
