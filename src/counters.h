/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What jailfw committed, object by object, and counters that survive a
 * reload.
 *
 * STATE_DIR/committed-TABLE (its name, directory and writer are state.h's)
 * holds the digest of the committed text, the generation after the commit,
 * and per chain and set a digest of the object as the kernel holds it
 * (counter values left out), plus per chain a signature of what jailfw
 * rendered for it.  apply writes it pending (reading the table back would
 * cost a fifth of a 5000-jail apply); the first reader settles it.
 * status compares the live table with it; apply uses it to skip a load
 * that would change nothing and to carry the counters of unchanged chains
 * into the new text as initial values.  The format, what "unchanged"
 * means and what is lost: docs/design.md, "The committed record and
 * counters".  Zero counters are left out, so a fresh table renders
 * exactly the golden text.
 */
#ifndef JAILFW_COUNTERS_H
#define JAILFW_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"

/* One chain or set of the record. */
struct counters_obj {
	char *name;
	uint64_t digest; /* as the kernel held it (nftinfo digest) */
	uint64_t sig;	 /* chains: the rendered signature (0: none) */
};

struct counters_record {
	uint32_t genid;	      /* the ruleset generation right after the commit */
	uint64_t text_digest; /* of the committed text (0: none recorded) */
	bool pending;	      /* digests not taken yet: counters_record_settle */
	bool legacy_sigs;     /* chain signatures of a record before version 5 */
	uint64_t table_digest;
	struct counters_obj *chains; /* sorted by name */
	size_t nchains;
	struct counters_obj *sets; /* sorted by name */
	size_t nsets;
	/* In the policy's order; sig: the jail's signature, digest unused. */
	struct counters_obj *jails;
	size_t njails;
};

/*
 * The record of the last commit as one apply uses it: read once when the
 * apply starts (under the lock, so nobody else writes it meanwhile), and
 * the digest of the text being applied, taken once.  At 5000 jails the
 * record has 5000 lines and the text a few megabytes: rec holds its
 * generation and digests, not its chains and sets (every line is checked,
 * a malformed one is an error all the same; counters_carry reads them).
 */
struct counters_last {
	int err; /* 0 when rec holds the record */
	struct counters_record rec;
	uint64_t digest; /* of the text being applied */
	/* The signature of each jail being applied, by index: counters_last_sigs */
	uint64_t *sigs;
	/* Record no jail signatures: the next delta takes every jail as changed. */
	bool forget_jails;
};
void counters_last_load(const char *table, const char *text, struct counters_last *l);
/* l->sigs for policy p, computed once (the delta and the record both need them). */
const uint64_t *counters_last_sigs(struct counters_last *l, const struct policy *p);
/* The digest of a committed text, as the record holds it. */
uint64_t counters_text_digest(const char *text);
void counters_last_free(struct counters_last *l);

/*
 * After a successful apply (a reload or not): record, pending, that table
 * inet T now holds text, the ruleset rendered from p (without counter
 * values); l is the record as the apply found it.  Returns 0 or -errno; a
 * failure only costs the next apply its counters and status its drift
 * check.
 */
int counters_save(const struct policy *p, const char *text, struct counters_last *l);

/*
 * Whether table inet T in force is exactly text (rendered from p), so that
 * apply need not load it again (and its counters keep counting): the
 * record's digest of the committed text is text's, and either nothing was
 * committed since (same generation), or the live table, listed without
 * counter values, matches text loaded in a throwaway namespace (comparing
 * listings costs as much as a load: 0.4 s for 5000 jails, hence the
 * generation first).
 */
bool counters_is_current(const struct policy *p, const char *text, struct counters_last *l,
			 struct diag *d);

/*
 * STATE_DIR/committed-TABLE into r.  0, -ENOENT (no record), -EINVAL
 * (malformed) or -errno.  counters_record_free on r in every case.
 */
int counters_record_load(const char *table, struct counters_record *r);
void counters_record_free(struct counters_record *r);

struct nftinfo_table;
/*
 * Give a pending record r of table its kernel digests: from live (the
 * table as just read, may be NULL) when nothing was committed since apply,
 * else from the committed text loaded in a throwaway namespace.  persist:
 * write the settled record back (status does, so that the next status
 * need not settle it again; apply does not, since the apply either fails
 * and must leave everything as it was, or commits and records anew).
 * status is a reader: it writes only if it gets the lock at once
 * (state_try_lock) and the record is still the one it read.
 * 0 (r settled; a settled r is left as it is) or -errno (r still pending:
 * treat it as no record).
 */
int counters_record_settle(const char *table, struct counters_record *r,
			   const struct nftinfo_table *live, bool persist);
const struct counters_obj *counters_record_chain(const struct counters_record *r, const char *name);
const struct counters_obj *counters_record_set(const struct counters_record *r, const char *name);

/* What counters_carry did. */
struct counters_stats {
	size_t kept;   /* chains whose counters were carried over */
	size_t reset;  /* chains that changed: counting from zero */
	size_t edited; /* live chains edited outside jailfw: not carried */
};

/*
 * Before loading text (rendered from p) for a changed policy: text with
 * the live counter values of every unchanged chain as initial values
 * (malloc'd; a plain copy when there is nothing to carry or anything
 * cannot be read).  Line structure is untouched, so nftload's error
 * mapping by line still holds.  st may be NULL.
 */
char *counters_carry(const struct policy *p, const char *text, struct counters_stats *st);

/* ---- pure pieces, exposed for the unit tests ---- */

/*
 * The signature of each chain of rendered text, sorted by name: its rule
 * lines without comments, plus the effective configuration of the jail
 * that owns it.  *nrules[i] and the counter positions come with it.
 */
struct counters_chain_text {
	char *name;
	uint64_t sig;
	size_t nrules;
	bool *counted; /* per rule: has a counter statement */
};
size_t counters_scan_text(const struct policy *p, const char *text,
			  struct counters_chain_text **out);
void counters_chain_text_free(struct counters_chain_text *c, size_t n);

/* Initial values for one chain, rule by rule (has: carry this rule's). */
struct counters_value {
	bool has;
	uint64_t packets, bytes;
};
struct counters_init {
	const char *chain;
	const struct counters_value *rules;
	size_t nrules;
};

/*
 * text with "counter" of the listed chains' rules rewritten to
 * "counter packets N bytes M" (chains sorted by name).  Malloc'd.
 */
char *counters_rewrite(const char *text, const struct counters_init *chains, size_t n);

#endif
