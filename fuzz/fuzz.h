/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libFuzzer entry points of jailfw's harnesses (fuzz_*.c).  Each
 * harness is linked either with libFuzzer (-fsanitize=fuzzer: make fuzz)
 * or with replay_main.c, which feeds it files (the regression inputs that
 * tests/e2e/edge-inputs.sh replays).  A harness reports a broken
 * invariant by aborting, as a sanitizer does, so both drivers see a crash.
 */
#ifndef JAILFW_FUZZ_H
#define JAILFW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print what failed and abort (file-local invariants of a harness). */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,  \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
