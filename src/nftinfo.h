/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small, fast reads of nf_tables objects through libnftnl.
 *
 * libnftables answers "list table" by fetching the whole ruleset into its
 * cache: 0.4 s for a table of 5000 jails.  Deciding whether jailfw's table
 * exists and is jailfw's only needs the table object itself, which one
 * NFT_MSG_GETTABLE round trip returns.
 */
#ifndef JAILFW_NFTINFO_H
#define JAILFW_NFTINFO_H

#include <stdint.h>

/*
 * Fetch table inet NAME.  Returns 0 and sets *comment (malloc'd, "" when
 * the table has none), -ENOENT when there is no such table, or -errno.
 */
int nftinfo_table_comment(const char *table, char **comment);

/*
 * The ruleset generation of this network namespace: the kernel bumps it
 * on every committed transaction, of any table.  Unchanged since jailfw's
 * last commit means nobody has touched any ruleset since.
 */
int nftinfo_genid(uint32_t *genid);

#endif
