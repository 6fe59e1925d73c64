// SPDX-License-Identifier: GPL-2.0-or-later
/* The policy lexer: tokens, locations, line ends, and the bytes it refuses. */
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "t.h"

#define MAX_TOKS 64

struct lexed {
	struct token toks[MAX_TOKS];
	size_t n;
	unsigned int errors;
	char *diag; /* everything diag printed */
};

/* Lex len bytes of buf to the end into out; diag output is kept. */
static void lex_all(const char *buf, size_t len, struct lexed *out)
{
	struct lexer lx;
	struct diag d;
	size_t dlen = 0;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = open_memstream(&out->diag, &dlen);
	diag_init(&d, f);
	diag_add_source(&d, "t.conf", buf, len);
	lex_init(&lx, &d, "t.conf", buf, len);
	do {
		lex_next(&lx, &out->toks[out->n]);
	} while (out->toks[out->n++].kind != TOK_EOF && out->n < MAX_TOKS);
	out->errors = d.errors;
	diag_free(&d);
	fclose(f);
}

static bool tok_eq(const struct token *t, enum tok_kind k, const char *text, unsigned int line,
		   unsigned int col)
{
	return t->kind == k && t->line == line && t->col == col &&
	       (!text || (t->len == strlen(text) && !memcmp(t->text, text, t->len)));
}

static void test_basic(void)
{
	static const char src[] = "jail www {\n\tallow tcp/80,443 to host;}\n";
	struct lexed l;

	lex_all(src, strlen(src), &l);
	T_CHECK(l.n == 14, "basic: 13 tokens and EOF");
	T_CHECK(tok_eq(&l.toks[0], TOK_WORD, "jail", 1, 1), "jail at 1:1");
	T_CHECK(tok_eq(&l.toks[1], TOK_WORD, "www", 1, 6), "www at 1:6");
	T_CHECK(tok_eq(&l.toks[2], TOK_LBRACE, "{", 1, 10), "{ at 1:10");
	T_CHECK(tok_eq(&l.toks[3], TOK_NEWLINE, NULL, 1, 11), "newline at 1:11");
	/* A tab is one byte, so one column: diag prints it as one space. */
	T_CHECK(tok_eq(&l.toks[4], TOK_WORD, "allow", 2, 2), "allow at 2:2 after a tab");
	T_CHECK(tok_eq(&l.toks[5], TOK_WORD, "tcp/80", 2, 8), "tcp/80 is one word");
	T_CHECK(tok_eq(&l.toks[6], TOK_COMMA, ",", 2, 14), "comma is its own token");
	T_CHECK(tok_eq(&l.toks[7], TOK_WORD, "443", 2, 15), "443 after the comma");
	T_CHECK(tok_eq(&l.toks[8], TOK_WORD, "to", 2, 19), "to");
	T_CHECK(tok_eq(&l.toks[9], TOK_WORD, "host", 2, 22), "host");
	T_CHECK(tok_eq(&l.toks[10], TOK_SEMI, ";", 2, 26), "semicolon");
	T_CHECK(tok_eq(&l.toks[11], TOK_RBRACE, "}", 2, 27), "} right after ;");
	T_CHECK(tok_eq(&l.toks[12], TOK_NEWLINE, NULL, 2, 28), "final newline");
	T_CHECK(tok_eq(&l.toks[13], TOK_EOF, NULL, 3, 1), "EOF at 3:1");
	T_CHECK(l.errors == 0, "basic: no errors");
	free(l.diag);
}

static void test_comments_and_punct(void)
{
	/* "#" ends a word and starts a comment; "{}" need no spaces. */
	static const char src[] = "a#b c\n{x}y,z # h\xc3\xa9llo\n";
	struct lexed l;

	lex_all(src, strlen(src), &l);
	T_CHECK(tok_eq(&l.toks[0], TOK_WORD, "a", 1, 1), "word ends at #");
	T_CHECK(tok_eq(&l.toks[1], TOK_NEWLINE, NULL, 1, 6), "comment runs to the line end");
	T_CHECK(tok_eq(&l.toks[2], TOK_LBRACE, NULL, 2, 1), "{");
	T_CHECK(tok_eq(&l.toks[3], TOK_WORD, "x", 2, 2), "x between braces");
	T_CHECK(tok_eq(&l.toks[4], TOK_RBRACE, NULL, 2, 3), "}");
	T_CHECK(tok_eq(&l.toks[5], TOK_WORD, "y", 2, 4), "y");
	T_CHECK(tok_eq(&l.toks[6], TOK_COMMA, NULL, 2, 5), ",");
	T_CHECK(tok_eq(&l.toks[7], TOK_WORD, "z", 2, 6), "z");
	T_CHECK(tok_eq(&l.toks[8], TOK_NEWLINE, NULL, 2, 16), "newline after comment");
	T_CHECK(l.errors == 0, "UTF-8 inside a comment is fine");
	free(l.diag);
}

static void test_crlf(void)
{
	static const char src[] = "jail a {\r\n  allow udp/53\r\n}";
	struct lexed l;

	lex_all(src, strlen(src), &l);
	T_CHECK(l.errors == 0, "CRLF: no errors");
	T_CHECK(tok_eq(&l.toks[2], TOK_LBRACE, NULL, 1, 8), "CRLF: {");
	T_CHECK(tok_eq(&l.toks[3], TOK_NEWLINE, NULL, 1, 9), "CRLF is one newline token");
	T_CHECK(l.toks[3].len == 2, "CRLF newline spans both bytes");
	T_CHECK(tok_eq(&l.toks[5], TOK_WORD, "udp/53", 2, 9), "CR is not part of the word");
	T_CHECK(tok_eq(&l.toks[7], TOK_RBRACE, NULL, 3, 1), "line count after CRLF");
	T_CHECK(tok_eq(&l.toks[8], TOK_EOF, NULL, 3, 2), "EOF without a final newline");
	free(l.diag);
}

static void test_bad_bytes(void)
{
	/* Cyrillic "а" (0xd0 0xb0) in "allow"; the word is one error token. */
	static const char cyr[] = "x {\n  \xd0\xb0llow tcp/80\n}\n";
	static const char nul[] = "allow\0tcp y";
	static const char ctl[] = "a\x01"
				  "b c\rd\n";
	static const char nbsp[] = "allow\xc2\xa0tcp/80\n";
	struct lexed l;

	lex_all(cyr, strlen(cyr), &l);
	T_CHECK(l.errors == 1, "Cyrillic letter: one error");
	T_STREQ(l.diag,
		"t.conf:2:3: error: non-ASCII byte 0xd0 (only ASCII is allowed)\n"
		"    2 |   ??llow tcp/80\n"
		"      |   ^\n",
		"Cyrillic letter: message, quoted line, caret");
	T_CHECK(l.toks[3].kind == TOK_ERROR && l.toks[3].len == 6,
		"Cyrillic letter: the whole word is one TOK_ERROR");
	T_CHECK(tok_eq(&l.toks[4], TOK_WORD, "tcp/80", 2, 10), "lexing goes on after the bad word");
	free(l.diag);

	lex_all(nul, sizeof(nul) - 1, &l);
	T_CHECK(l.errors == 1, "NUL: one error");
	T_CHECK(strstr(l.diag, "t.conf:1:6: error: NUL byte (binary data is not allowed)\n") !=
		    NULL,
		"NUL: located message");
	T_CHECK(l.toks[0].kind == TOK_ERROR && l.toks[0].len == 9,
		"NUL: word with NUL is an error");
	T_CHECK(tok_eq(&l.toks[1], TOK_WORD, "y", 1, 11), "NUL: words after it still lex");
	free(l.diag);

	lex_all(ctl, strlen(ctl), &l);
	T_CHECK(l.errors == 2, "control characters: two errors");
	T_CHECK(strstr(l.diag, "t.conf:1:2: error: control character 0x01 is not allowed\n") !=
		    NULL,
		"control character 0x01");
	T_CHECK(strstr(l.diag, "t.conf:1:6: error: control character 0x0d is not allowed\n") !=
		    NULL,
		"a lone CR is a control character, not a line end");
	T_CHECK(l.toks[2].kind == TOK_NEWLINE && l.toks[2].line == 1, "only LF ended the line");
	free(l.diag);

	lex_all(nbsp, strlen(nbsp), &l);
	T_CHECK(strstr(l.diag,
		       "t.conf:1:6: error: non-ASCII byte 0xc2 (only ASCII is allowed)\n") != NULL,
		"a non-breaking space is not whitespace");
	T_CHECK(l.n == 3 && l.toks[0].kind == TOK_ERROR, "nbsp joins the words into one bad token");
	free(l.diag);
}

static void test_quotes(void)
{
	static const char src[] = "user \"my user\" x\n";
	struct lexed l;

	lex_all(src, strlen(src), &l);
	T_CHECK(l.errors == 1, "quoted string: one error, not one per word");
	T_CHECK(strstr(l.diag, "t.conf:1:6: error: quotes are not part of the language (write the "
			       "word without them)\n") != NULL,
		"quotes: message");
	T_CHECK(l.toks[1].kind == TOK_ERROR && l.toks[1].len == 9, "quoted text is one bad token");
	T_CHECK(tok_eq(&l.toks[2], TOK_WORD, "x", 1, 16), "after the quotes lexing goes on");
	free(l.diag);
}

static void test_long(void)
{
	char buf[600];
	struct lexed l;

	memset(buf, 'a', sizeof(buf));
	buf[LEX_MAX_TOKEN] = ' ';
	buf[LEX_MAX_TOKEN + 1 + LEX_MAX_TOKEN + 1] = '\n';
	/* Word one: exactly the limit; word two: one byte over it. */
	lex_all(buf, LEX_MAX_TOKEN + 1 + LEX_MAX_TOKEN + 2, &l);
	T_CHECK(l.toks[0].kind == TOK_WORD && l.toks[0].len == LEX_MAX_TOKEN,
		"a word of 256 bytes is fine");
	T_CHECK(l.toks[1].kind == TOK_ERROR && l.toks[1].len == LEX_MAX_TOKEN + 1,
		"a word of 257 bytes is an error token");
	T_CHECK(l.errors == 1, "long word: one error");
	T_CHECK(strncmp(l.diag, "t.conf:1:258: error: word is too long (257 bytes, at most 256)\n",
			63) == 0,
		"long word: located message");
	T_CHECK(l.toks[2].kind == TOK_NEWLINE && l.toks[3].kind == TOK_EOF, "then newline and EOF");
	free(l.diag);
}

static void test_eof(void)
{
	struct lexed l;
	struct lexer lx;
	struct token t;
	struct diag d;

	lex_all("", 0, &l);
	T_CHECK(l.n == 1 && tok_eq(&l.toks[0], TOK_EOF, NULL, 1, 1), "empty input: EOF at 1:1");
	free(l.diag);

	/* EOF is sticky: a parser may look at it more than once. */
	diag_init(&d, stderr);
	lex_init(&lx, &d, "t.conf", "x", 1);
	lex_next(&lx, &t);
	lex_next(&lx, &t);
	lex_next(&lx, &t);
	T_CHECK(t.kind == TOK_EOF, "EOF repeats");
	diag_free(&d);

	T_CHECK(tok_is(&l.toks[0], "") == false, "tok_is is false for EOF");
}

int main(void)
{
	test_basic();
	test_comments_and_punct();
	test_crlf();
	test_bad_bytes();
	test_quotes();
	test_long();
	test_eof();
	return t_done();
}
