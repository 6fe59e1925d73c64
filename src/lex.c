// SPDX-License-Identifier: GPL-2.0-or-later
#include "lex.h"

#include <string.h>

void lex_init(struct lexer *lx, struct diag *d, const char *file, const char *buf, size_t len)
{
	memset(lx, 0, sizeof(*lx));
	lx->buf = buf;
	lx->len = len;
	lx->line = 1;
	lx->file = file;
	lx->d = d;
}

const char *lex_kind_name(enum tok_kind k)
{
	switch (k) {
	case TOK_EOF:
		return "end of file";
	case TOK_WORD:
	case TOK_ERROR:
		return "word";
	case TOK_NEWLINE:
		return "end of line";
	case TOK_SEMI:
		return "\";\"";
	case TOK_COMMA:
		return "\",\"";
	case TOK_LBRACE:
		return "\"{\"";
	case TOK_RBRACE:
		return "\"}\"";
	}
	return "token";
}

static unsigned int col_at(const struct lexer *lx, size_t pos)
{
	return (unsigned int)(pos - lx->line_start + 1);
}

static struct loc loc_at(const struct lexer *lx, size_t pos)
{
	struct loc l = {lx->file, lx->line, col_at(lx, pos)};

	return l;
}

/* A CR is part of a line end only right before LF (CRLF files). */
static bool is_crlf(const struct lexer *lx, size_t pos)
{
	return lx->buf[pos] == '\r' && pos + 1 < lx->len && lx->buf[pos + 1] == '\n';
}

static bool is_word_byte(const struct lexer *lx, size_t pos)
{
	switch (lx->buf[pos]) {
	case ' ':
	case '\t':
	case '\n':
	case '{':
	case '}':
	case ';':
	case '#':
	case ',':
		return false;
	case '\r':
		return !is_crlf(lx, pos);
	}
	return true;
}

/*
 * Report the first bad byte of a word.  Returns false if the byte is
 * allowed.  A NUL or control byte says the file is not text; a byte with
 * the high bit set is usually UTF-8 that looks like ASCII and is not.
 */
static bool bad_byte(struct lexer *lx, size_t pos)
{
	unsigned char c = (unsigned char)lx->buf[pos];
	struct loc l;

	if (c >= 0x20 && c < 0x7f)
		return false;
	l = loc_at(lx, pos);
	if (c == 0)
		diag_error(lx->d, &l, 1, "NUL byte (binary data is not allowed)");
	else if (c >= 0x80)
		diag_error(lx->d, &l, 1, "non-ASCII byte 0x%02x (only ASCII is allowed)", c);
	else if (c < 0x20 || c == 0x7f)
		diag_error(lx->d, &l, 1, "control character 0x%02x is not allowed", c);
	else
		return false;
	return true;
}

/*
 * Skip a comment up to (not including) the line end.  Comments may hold
 * UTF-8 (people write names and notes in them; nothing there reaches the
 * kernel), but a NUL still means the file is not text.
 */
static void skip_comment(struct lexer *lx)
{
	bool nul_seen = false;

	while (lx->pos < lx->len && lx->buf[lx->pos] != '\n') {
		if (lx->buf[lx->pos] == '\0' && !nul_seen) {
			bad_byte(lx, lx->pos);
			nul_seen = true;
		}
		lx->pos++;
	}
}

/* A byte of a word that needs no second look: printable, no delimiter, no quote. */
static bool plain_word_byte(char c)
{
	switch (c) {
	case ' ':
	case '{':
	case '}':
	case ';':
	case '#':
	case ',':
	case '"':
	case '\'':
		return false;
	}
	return c > 0x20 && c < 0x7f;
}

static void scan_word(struct lexer *lx, struct token *t)
{
	size_t start = lx->pos;
	bool bad = false;

	/* The common case first; anything else takes the careful loop below. */
	while (lx->pos < lx->len && plain_word_byte(lx->buf[lx->pos]))
		lx->pos++;
	while (lx->pos < lx->len && is_word_byte(lx, lx->pos)) {
		char c = lx->buf[lx->pos];

		if (bad) {
			lx->pos++;
			continue;
		}
		if (c == '"' || c == '\'') {
			struct loc l = loc_at(lx, lx->pos);

			diag_error(
			    lx->d, &l, 1,
			    "quotes are not part of the language (write the word without them)");
			bad = true;
			/* Swallow the quoted text so its words are not reported again. */
			for (lx->pos++; lx->pos < lx->len; lx->pos++) {
				if (lx->buf[lx->pos] == '\n' || is_crlf(lx, lx->pos))
					break;
				if (lx->buf[lx->pos] == c) {
					lx->pos++;
					break;
				}
			}
			continue;
		}
		bad = bad_byte(lx, lx->pos);
		lx->pos++;
	}
	t->kind = bad ? TOK_ERROR : TOK_WORD;
	t->text = lx->buf + start;
	t->len = lx->pos - start;
	if (!bad && t->len > LEX_MAX_TOKEN) {
		struct loc l = {lx->file, t->line, t->col};

		diag_error(lx->d, &l, 1, "word is too long (%zu bytes, at most %d)", t->len,
			   LEX_MAX_TOKEN);
		t->kind = TOK_ERROR;
	}
}

static enum tok_kind punct_kind(char c)
{
	switch (c) {
	case ';':
		return TOK_SEMI;
	case ',':
		return TOK_COMMA;
	case '{':
		return TOK_LBRACE;
	case '}':
		return TOK_RBRACE;
	}
	return TOK_WORD;
}

void lex_next(struct lexer *lx, struct token *t)
{
	char c;

	for (;;) {
		t->line = lx->line;
		t->col = col_at(lx, lx->pos);
		t->text = lx->buf + lx->pos;
		t->len = 0;
		if (lx->pos >= lx->len) {
			t->kind = TOK_EOF;
			return;
		}
		c = lx->buf[lx->pos];
		if (c == ' ' || c == '\t')
			lx->pos++;
		else if (c == '#')
			skip_comment(lx);
		else
			break;
	}
	if (c == '\n' || is_crlf(lx, lx->pos)) {
		t->kind = TOK_NEWLINE;
		t->len = c == '\n' ? 1 : 2;
		lx->pos += t->len;
		lx->line++;
		lx->line_start = lx->pos;
		return;
	}
	t->kind = punct_kind(c);
	if (t->kind != TOK_WORD) {
		t->len = 1;
		lx->pos++;
		return;
	}
	scan_word(lx, t);
}
