/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading policy text into the model: lexer (lex.c) and recursive descent
 * parser (parse.c).  The parser reports syntax errors with locations, keeps
 * going at the next statement and never stops at the first error.
 */
#ifndef JAILFW_PARSE_H
#define JAILFW_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"

/* Refuse policy and template files larger than this (bytes). */
#define POLICY_MAX_SIZE (4u << 20)

/* A policy directory: its main file and its drop-in files (jailfw.conf(5)). */
#define POLICY_DIR_MAIN "jailfw.conf"
#define POLICY_DIR_DROPINS "jails.d"
#define POLICY_DROPIN_PATTERN "*.conf"
/* include inside an included file inside ...: at most this deep. */
#define POLICY_INCLUDE_MAX_DEPTH 8

/*
 * Read a policy file: it must be a regular file (symlinks are followed, but
 * the target must be regular), at most POLICY_MAX_SIZE bytes, owned by root
 * or the user running jailfw and not writable by group or others, and so
 * must every directory above it (root's sticky directories, such as /tmp,
 * excepted); template files and policy directories too.  Its text is
 * registered with d for quoting.  Then parse it into p, with every file its
 * include statements name.  Returns false if anything was reported as an
 * error.
 */
bool policy_parse_file(struct policy *p, struct diag *d, const char *path);

/*
 * Read a policy directory: DIR/jailfw.conf (which must exist), then every
 * DIR/jails.d/NAME.conf in byte order of NAME, as if the main file ended
 * in an include of them (one that it includes itself is not read twice).
 * The directories are held to the same rules as the files.
 */
bool policy_parse_dir(struct policy *p, struct diag *d, const char *dir);

/* policy_parse_dir for a directory, policy_parse_file for anything else. */
bool policy_parse_path(struct policy *p, struct diag *d, const char *path);

/*
 * Parse text that is already in memory (tests, fuzzers).  file is the name
 * used in locations.  When template_only, the text may contain only
 * template blocks (a file from the template path).
 */
bool policy_parse_buffer(struct policy *p, struct diag *d, const char *file, const char *buf,
			 size_t len, bool template_only);

/*
 * For every "use NAME" that names no template block of the policy, load
 * NAME.conf from the first directory of dirs that has it (each template
 * file holds template blocks only).  Unknown templates are left for check
 * to report, with a "did you mean".
 */
bool policy_load_templates(struct policy *p, struct diag *d, const char *const *dirs, size_t ndirs);

/* The keywords of the language, for "did you mean" hints. */
extern const char *const policy_keywords[];
extern const size_t policy_nkeywords;

#endif
