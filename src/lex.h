/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy lexer.  Tokens are words (maximal runs of bytes that are not
 * whitespace and not one of "{ } ; # ,"), the punctuation "{ } ; ,", and
 * newlines, which end statements.  Each token knows its line and column
 * (1-based, counted in bytes, so a tab is one column: diag prints a tab as
 * one space and the caret still lines up).
 *
 * Only printable ASCII may appear outside comments.  A look-alike letter
 * (Cyrillic "а" for "a", a non-breaking space) would otherwise turn "allow"
 * into an unknown word with a baffling message, or worse, a name that
 * looks right and is not.  Such a byte, a control character, a quote or an
 * overlong word is reported here, located, and the whole word becomes one
 * TOK_ERROR token so the parser can skip the statement without piling a
 * second message on top.
 */
#ifndef JAILFW_LEX_H
#define JAILFW_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* Longer words are refused: nothing in the language needs more. */
#define LEX_MAX_TOKEN 256

enum tok_kind {
	TOK_EOF,
	TOK_WORD,
	TOK_NEWLINE,
	TOK_SEMI,
	TOK_COMMA,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_ERROR, /* a word the lexer already reported */
};

struct token {
	enum tok_kind kind;
	const char *text; /* into the buffer; not NUL-terminated */
	size_t len;
	unsigned int line, col;
};

struct lexer {
	const char *buf;
	size_t len, pos;
	unsigned int line;
	size_t line_start; /* offset of the current line's first byte */
	const char *file;  /* for locations; must outlive the tokens' users */
	struct diag *d;
};

void lex_init(struct lexer *lx, struct diag *d, const char *file, const char *buf, size_t len);
/* The next token; at the end of the buffer, TOK_EOF forever. */
void lex_next(struct lexer *lx, struct token *t);
/* "word", "newline", "end of file", "{" ... for messages. */
const char *lex_kind_name(enum tok_kind k);
/*
 * True if the token is a word equal to s.  Inline: the parser asks it of
 * every statement keyword with literals, whose length the compiler knows.
 */
static inline bool tok_is(const struct token *t, const char *s)
{
	return t->kind == TOK_WORD && __builtin_strlen(s) == t->len &&
	       !__builtin_memcmp(t->text, s, t->len);
}

#endif
