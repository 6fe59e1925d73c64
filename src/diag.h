/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Located diagnostics, compiler style:
 *
 *   policy.conf:12:11: error: unknown protocol "tpc" (expected tcp, udp, icmp, icmpv6)
 *      12 |     allow tpc/80
 *         |           ^~~
 *
 * Every stage reports through one struct diag so that all errors of a run
 * come out together (capped at max_errors), then the caller refuses.
 */
#ifndef JAILFW_DIAG_H
#define JAILFW_DIAG_H

#include <stdio.h>
#include <time.h>

#include "model.h"
#include "util.h"

struct diag_src {
	const char *file; /* compared by string */
	char *text;
	size_t len;
};

struct diag {
	FILE *out;
	unsigned int errors, warnings;
	unsigned int max_errors; /* 0: unlimited; printing stops past it */
	struct diag_src *srcs;
	size_t nsrcs;
};

#define DIAG_MAX_ERRORS 20

void diag_init(struct diag *d, FILE *out);
void diag_free(struct diag *d);
/* Keep a copy of a file's text so messages can quote the offending line. */
void diag_add_source(struct diag *d, const char *file, const char *text, size_t len);

/*
 * Report at loc (NULL or line 0: no position).  span is the number of
 * columns to underline (0 or 1: a lone caret).
 */
void diag_error(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
void diag_warning(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
/* A note attached to the previous message (not counted). */
void diag_note(struct diag *d, const struct loc *loc, unsigned int span, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* -v: "jailfw: MESSAGE" on stderr when on, nothing otherwise. */
void diag_verbose(bool on, const char *fmt, ...) PRINTF_LIKE(2, 3);

/*
 * -vv: "jailfw: time: STEP N.N ms", the time since *since, on stderr when
 * on; *since then moves on to now.  step NULL only starts the clock.
 */
void diag_lap(bool on, struct timespec *since, const char *step);

/*
 * The closest candidate to word within a small edit distance, or NULL.
 * Used for "did you mean" hints.
 */
const char *diag_suggest(const char *word, const char *const *cands, size_t n);

#endif
