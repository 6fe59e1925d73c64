// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recursive descent over the tokens of lex.c into struct policy.
 *
 * Every statement parser either consumes its statement up to the end
 * (newline or ";", leaving a "}" for the block) or reports a located error
 * and skips to that end, so one run reports every syntax error.  Only
 * syntax and the validity of each token are checked here; everything that
 * needs the whole policy (users, overlaps, missing statements) is check.c's.
 */
#include "parse.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lex.h"

const char *const policy_keywords[] = {
    "settings", "jail", "template", "wan",  "log-drops", "table", "fwmark",
    "backend",	"user", "ipv4",	    "ipv6", "ifname",	 "dns",	  "allow",
    "publish",	"use",	"to",	    "host", "include",
};
const size_t policy_nkeywords = ARRAY_SIZE(policy_keywords);

/* "template" must stay third: template files allow only that one. */
static const char *const top_kw[] = {"settings", "jail", "template", "include"};
static const char *const settings_kw[] = {"wan", "log-drops", "table", "fwmark"};
static const char *const jail_kw[] = {"backend", "user",  "ipv4",    "ipv6", "ifname",
				      "dns",	 "allow", "publish", "use",  "log-drops"};
static const char *const tmpl_kw[] = {"allow", "publish"};

#define NAME_MAX_LEN 64	 /* jail, template and interface prefix names */
#define TABLE_MAX_LEN 32 /* settings { table NAME } */
#define WAN_MAX_LEN 15	 /* IFNAMSIZ - 1 */
#define DNS_MAX 3	 /* MAXNS: resolv.conf ignores further nameservers */
#define LOC_STR_MAX 4200 /* "file:line" */

enum block_kind { BLK_TOP, BLK_SETTINGS, BLK_JAIL, BLK_TMPL };

struct reader;

struct parser {
	struct lexer lx;
	struct token tok; /* the lookahead */
	struct policy *p;
	struct diag *d;
	const char *file;
	bool template_only;
	bool is_main;	   /* the policy's main file: settings belong here */
	struct reader *rd; /* the files read so far; NULL: no include */
};

static void parse_include(struct parser *ps);
static const char *reader_main(const struct reader *rd);

static void advance(struct parser *ps)
{
	lex_next(&ps->lx, &ps->tok);
}

static struct loc tok_loc(const struct parser *ps, const struct token *t)
{
	struct loc l = {ps->file, t->line, t->col};

	return l;
}

/* The location of byte off within word t. */
static struct loc sub_loc(const struct parser *ps, const struct token *t, size_t off)
{
	struct loc l = {ps->file, t->line, t->col + (unsigned int)off};

	return l;
}

static unsigned int span_of(size_t n)
{
	return n ? (unsigned int)n : 1;
}

static void perr(struct parser *ps, struct loc l, size_t span, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
static void perr(struct parser *ps, struct loc l, size_t span, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_error(ps->d, &l, span_of(span), "%s", msg);
	free(msg);
}

/* An error on a whole token. */
#define terr(ps, t, ...)                                                                           \
	perr((ps), tok_loc((ps), (t)), (t)->kind == TOK_WORD ? (t)->len : 1, __VA_ARGS__)

/* How a token reads in a message: "word", "{", end of line. */
static const char *tok_desc(const struct token *t, char *buf, size_t n)
{
	if (t->kind == TOK_WORD || t->kind == TOK_ERROR) {
		snprintf(buf, n, "\"%.*s\"", (int)t->len, t->text);
		return buf;
	}
	return lex_kind_name(t->kind);
}

static bool in_list(const struct token *t, const char *const *list, size_t n)
{
	size_t i;

	/* The first byte before strlen(): asked of every statement. */
	for (i = 0; i < n; i++)
		if (t->len && t->text[0] == list[i][0] && tok_is(t, list[i]))
			return true;
	return false;
}

/* ---- skipping (error recovery) ---- */

/* At "{": skip to just past the matching "}" (or to the end of the file). */
static void skip_block(struct parser *ps)
{
	unsigned int depth = 0;

	do {
		if (ps->tok.kind == TOK_EOF)
			return;
		if (ps->tok.kind == TOK_LBRACE)
			depth++;
		else if (ps->tok.kind == TOK_RBRACE)
			depth--;
		advance(ps);
	} while (depth);
}

/*
 * Skip the rest of a statement: past its newline or ";", or up to (not
 * past) the "}" that closes the enclosing block.  A block opened inside
 * the statement is skipped whole.
 */
static void skip_stmt(struct parser *ps)
{
	for (;;) {
		switch (ps->tok.kind) {
		case TOK_EOF:
		case TOK_RBRACE:
			return;
		case TOK_NEWLINE:
		case TOK_SEMI:
			advance(ps);
			return;
		case TOK_LBRACE:
			skip_block(ps);
			continue;
		default:
			advance(ps);
		}
	}
}

/*
 * A token that cannot start a statement ("{", ",", or a word the lexer
 * already reported): said, and skipped with what follows it.
 */
static void skip_stray(struct parser *ps)
{
	if (ps->tok.kind == TOK_LBRACE) {
		terr(ps, &ps->tok, "unexpected \"{\"");
		skip_block(ps);
		return;
	}
	if (ps->tok.kind == TOK_COMMA)
		terr(ps, &ps->tok, "unexpected \",\"");
	skip_stmt(ps);
}

static bool at_stmt_end(const struct parser *ps)
{
	switch (ps->tok.kind) {
	case TOK_EOF:
	case TOK_RBRACE:
	case TOK_NEWLINE:
	case TOK_SEMI:
		return true;
	default:
		return false;
	}
}

/* The statement is complete: consume its end or report what follows. */
static bool expect_end(struct parser *ps, const struct token *kw, const char *hint)
{
	char buf[LEX_MAX_TOKEN + 8];

	if (at_stmt_end(ps)) {
		if (ps->tok.kind == TOK_NEWLINE || ps->tok.kind == TOK_SEMI)
			advance(ps);
		return true;
	}
	if (ps->tok.kind != TOK_ERROR)
		terr(ps, &ps->tok, "unexpected %s at end of \"%.*s\" statement%s",
		     tok_desc(&ps->tok, buf, sizeof(buf)), (int)kw->len, kw->text,
		     hint ? hint : "");
	skip_stmt(ps);
	return false;
}

/*
 * The lookahead must be a word (a value of statement kw).  Otherwise report
 * what is missing and skip the statement.
 */
static bool need_word(struct parser *ps, const struct token *kw, const char *expected)
{
	if (ps->tok.kind == TOK_WORD)
		return true;
	if (ps->tok.kind != TOK_ERROR)
		terr(ps, &ps->tok, "missing value after \"%.*s\" (expected %s)", (int)kw->len,
		     kw->text, expected);
	skip_stmt(ps);
	return false;
}

/* After a ",": the next list item must follow. */
static bool need_item(struct parser *ps, const struct token *comma)
{
	char buf[LEX_MAX_TOKEN + 8];

	if (ps->tok.kind == TOK_WORD && !tok_is(&ps->tok, "to"))
		return true;
	if (ps->tok.kind != TOK_ERROR) {
		if (ps->tok.kind == TOK_WORD || ps->tok.kind == TOK_COMMA)
			terr(ps, &ps->tok, "unexpected %s after \",\"",
			     tok_desc(&ps->tok, buf, sizeof(buf)));
		else
			terr(ps, comma, "missing value after \",\"");
	}
	skip_stmt(ps);
	return false;
}

/* ---- token validation ---- */

enum num_res { NUM_OK, NUM_SYNTAX, NUM_NONCANON, NUM_RANGE };

/*
 * A canonical decimal number: digits only, no sign, no leading zero.
 * Values above max saturate to NUM_RANGE without overflowing.
 */
static enum num_res parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool big = false;
	size_t i;

	if (!n)
		return NUM_SYNTAX;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return NUM_SYNTAX;
		if (!big) {
			v = v * 10 + (uint64_t)(s[i] - '0');
			big = v > max;
		}
	}
	if (n > 1 && s[0] == '0')
		return NUM_NONCANON;
	if (big)
		return NUM_RANGE;
	*out = v;
	return NUM_OK;
}

static bool name_chars_ok(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (i > 0)
			ok = ok || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* Jail, template and interface prefix names: [a-z0-9][a-z0-9_-]*, <= 64. */
static bool check_name(struct parser *ps, const struct token *t, const char *what)
{
	if (!name_chars_ok(t->text, t->len)) {
		terr(ps, t,
		     "invalid %s \"%.*s\" (expected [a-z0-9][a-z0-9_-]*, at most %d characters)",
		     what, (int)t->len, t->text, NAME_MAX_LEN);
		return false;
	}
	if (t->len > NAME_MAX_LEN) {
		terr(ps, t, "%s \"%.*s\" is too long (%zu characters, at most %d)", what,
		     (int)t->len, t->text, t->len, NAME_MAX_LEN);
		return false;
	}
	return true;
}

static bool parse_yesno(struct parser *ps, const struct token *kw, enum tristate *out)
{
	if (tok_is(&ps->tok, "yes"))
		*out = TRI_YES;
	else if (tok_is(&ps->tok, "no"))
		*out = TRI_NO;
	else {
		terr(ps, &ps->tok, "invalid value \"%.*s\" for \"%.*s\" (expected yes or no)",
		     (int)ps->tok.len, ps->tok.text, (int)kw->len, kw->text);
		return false;
	}
	return true;
}

/* One port: 1..65535, canonical.  s/n is a part of word t at offset off. */
static bool parse_port(struct parser *ps, const struct token *t, size_t off, size_t n,
		       uint16_t *out)
{
	const char *s = t->text + off;
	struct loc l = sub_loc(ps, t, off);
	uint64_t v;

	switch (parse_dec(s, n, 65535, &v)) {
	case NUM_SYNTAX:
		if (!n)
			perr(ps, l, 1, "missing port number");
		else
			perr(ps, l, n, "invalid port \"%.*s\" (expected a number 1-65535)", (int)n,
			     s);
		return false;
	case NUM_NONCANON:
		perr(ps, l, n, "non-canonical number \"%.*s\"", (int)n, s);
		return false;
	case NUM_RANGE:
		perr(ps, l, n, "port %.*s is out of range (1-65535)", (int)n, s);
		return false;
	case NUM_OK:
		break;
	}
	if (v == 0) {
		perr(ps, l, n, "port 0 is not allowed");
		return false;
	}
	*out = (uint16_t)v;
	return true;
}

/* N or N-M within word t at offset off, length n. */
static bool parse_range(struct parser *ps, const struct token *t, size_t off, size_t n,
			struct port_range *pr)
{
	const char *s = t->text + off;
	const char *dash = memchr(s, '-', n);
	size_t nlo = dash ? (size_t)(dash - s) : n;
	bool ok;

	memset(pr, 0, sizeof(*pr));
	pr->loc = sub_loc(ps, t, off);
	if (!dash) {
		if (!parse_port(ps, t, off, n, &pr->lo))
			return false;
		pr->hi = pr->lo;
		return true;
	}
	if (nlo == 0 || nlo + 1 == n) {
		perr(ps, pr->loc, n, "invalid port range \"%.*s\" (expected N-M)", (int)n, s);
		return false;
	}
	ok = parse_port(ps, t, off, nlo, &pr->lo);
	ok = parse_port(ps, t, off + nlo + 1, n - nlo - 1, &pr->hi) && ok;
	if (!ok)
		return false;
	if (pr->lo > pr->hi) {
		perr(ps, pr->loc, n, "reversed port range %u-%u", pr->lo, pr->hi);
		return false;
	}
	return true;
}

static bool lookup_proto(const char *s, size_t n, enum proto *out)
{
	unsigned int i;

	for (i = 0; i < PROTO_COUNT; i++) {
		const char *name = proto_name((enum proto)i);

		if (strlen(name) == n && !memcmp(name, s, n)) {
			*out = (enum proto)i;
			return true;
		}
	}
	return false;
}

static bool parse_proto(struct parser *ps, const struct token *t, size_t n, enum proto *out)
{
	if (lookup_proto(t->text, n, out))
		return true;
	if (!n)
		perr(ps, tok_loc(ps, t), 1, "missing protocol before \"/\"");
	else
		perr(ps, tok_loc(ps, t), n,
		     "unknown protocol \"%.*s\" (expected tcp, udp, icmp, icmpv6)", (int)n,
		     t->text);
	return false;
}

static const char *parse_family_name(int af)
{
	return af == AF_INET ? "IPv4" : "IPv6";
}

enum pfx_len { PFX_LEN_OPTIONAL, PFX_LEN_REQUIRED, PFX_LEN_FORBIDDEN };

/*
 * ADDRESS or ADDRESS/LEN, exactly as inet_pton accepts the address (no
 * "10.1", no zone index, no names): AF_INET6 if it has a ':'.  LEN is a
 * canonical decimal within the family's width.  Host bits are left as
 * written; the caller decides whether they are a warning or an error.
 */
static bool parse_prefix(struct parser *ps, const struct token *t, enum pfx_len lenmode,
			 const char *what, struct prefix *out)
{
	char addr[LEX_MAX_TOKEN + 1];
	const char *slash = memchr(t->text, '/', t->len);
	size_t na = slash ? (size_t)(slash - t->text) : t->len;
	unsigned int max;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	if (slash && lenmode == PFX_LEN_FORBIDDEN) {
		terr(ps, t, "%s takes plain addresses, not prefixes (\"%.*s\")", what, (int)t->len,
		     t->text);
		return false;
	}
	if (na > LEX_MAX_TOKEN)
		na = LEX_MAX_TOKEN;
	memcpy(addr, t->text, na);
	addr[na] = '\0';
	out->family = memchr(addr, ':', na) ? AF_INET6 : AF_INET;
	max = out->family == AF_INET ? 32 : 128;
	if (inet_pton(out->family, addr, out->addr.b) != 1) {
		perr(ps, tok_loc(ps, t), na, "invalid %s address \"%s\"",
		     parse_family_name(out->family), addr);
		return false;
	}
	out->len = (uint8_t)max;
	if (!slash) {
		if (lenmode != PFX_LEN_REQUIRED)
			return true;
		terr(ps, t, "missing prefix length in \"%s\" (expected ADDRESS/LEN)", addr);
		return false;
	}
	switch (parse_dec(slash + 1, t->len - na - 1, max, &v)) {
	case NUM_SYNTAX:
		perr(ps, sub_loc(ps, t, na), t->len - na,
		     "invalid prefix length \"%.*s\" (expected 0-%u)", (int)(t->len - na - 1),
		     slash + 1, max);
		return false;
	case NUM_NONCANON:
		perr(ps, sub_loc(ps, t, na + 1), t->len - na - 1, "non-canonical number \"%.*s\"",
		     (int)(t->len - na - 1), slash + 1);
		return false;
	case NUM_RANGE:
		perr(ps, sub_loc(ps, t, na + 1), t->len - na - 1,
		     "prefix length %.*s is out of range for %s (0-%u)", (int)(t->len - na - 1),
		     slash + 1, parse_family_name(out->family), max);
		return false;
	case NUM_OK:
		break;
	}
	out->len = (uint8_t)v;
	return true;
}

/* ---- statements ---- */

/*
 * First locations of the single-valued statements of one block, for
 * "duplicate" messages.  Kept apart from the model so that a statement
 * with a bad value still counts as the first one.
 */
struct seen {
	const char *kw;
	struct loc loc;
};

static bool dup_check(struct parser *ps, struct seen *seen, size_t n, const struct token *kw)
{
	char where[LOC_STR_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!tok_is(kw, seen[i].kw))
			continue;
		if (seen[i].loc.line) {
			terr(ps, kw, "duplicate \"%s\" statement (first at %s)", seen[i].kw,
			     loc_str(&seen[i].loc, where, sizeof(where)));
			skip_stmt(ps);
			return false;
		}
		seen[i].loc = tok_loc(ps, kw);
		return true;
	}
	return true;
}

/* Report an unknown or misplaced statement keyword and skip the statement. */
static void unknown_stmt(struct parser *ps, enum block_kind bk, const char *const *cands,
			 size_t ncands)
{
	static const char *const where[] = {
	    [BLK_TOP] = "at top level",
	    [BLK_SETTINGS] = "in settings block",
	    [BLK_JAIL] = "in jail block",
	    [BLK_TMPL] = "in template block",
	};
	const struct token *t = &ps->tok;
	char *word = xstrndup(t->text, t->len);
	const char *hint = NULL, *sug;

	if (in_list(t, settings_kw, ARRAY_SIZE(settings_kw)) ||
	    in_list(t, jail_kw, ARRAY_SIZE(jail_kw))) {
		if (bk == BLK_TMPL)
			hint = "templates hold only allow and publish statements";
		else if (tok_is(t, "log-drops"))
			hint = "it belongs in the settings block or a jail block";
		else if (tok_is(t, "allow"))
			hint = "it belongs in a jail or template block";
		else if (in_list(t, settings_kw, ARRAY_SIZE(settings_kw)))
			hint = "it belongs in the settings block";
		else
			hint = "it belongs in a jail block";
		terr(ps, t, "\"%s\" is not allowed %s (%s)", word, where[bk], hint);
	} else if ((sug = diag_suggest(word, cands, ncands))) {
		terr(ps, t, "unknown statement \"%s\" %s (did you mean \"%s\"?)", word, where[bk],
		     sug);
	} else if (bk == BLK_TOP && !ps->template_only) {
		terr(ps, t,
		     "unknown statement \"%s\" at top level (expected settings, jail or "
		     "template)",
		     word);
	} else {
		terr(ps, t, "unknown statement \"%s\" %s", word, where[bk]);
	}
	free(word);
	skip_stmt(ps);
}

/*
 * Start a single-valued statement: refuse a duplicate, step over the
 * keyword and make sure a value follows.
 */
static bool start_value(struct parser *ps, const struct token *kw, struct seen *seen, size_t nseen,
			const char *expected)
{
	if (!dup_check(ps, seen, nseen, kw))
		return false;
	advance(ps);
	return need_word(ps, kw, expected);
}

/*
 * The value is parsed: step over it, then the statement must end.  Returns
 * whether the value is good: a valid value followed by junk is still
 * stored, so check does not add "missing backend" to the junk's error.
 */
static bool finish_value(struct parser *ps, const struct token *kw, bool ok)
{
	advance(ps);
	expect_end(ps, kw, NULL);
	return ok;
}

/* "log-drops yes|no", in a jail or in the settings. */
static void parse_log_drops(struct parser *ps, const struct token *kw, struct seen *seen,
			    size_t nseen, enum tristate *out, struct loc *loc)
{
	enum tristate v = TRI_UNSET;
	struct token t;
	bool ok;

	if (!start_value(ps, kw, seen, nseen, "yes or no"))
		return;
	t = ps->tok;
	ok = parse_yesno(ps, kw, &v);
	if (finish_value(ps, kw, ok)) {
		*out = v;
		*loc = tok_loc(ps, &t);
	}
}

/*
 * Step to the next item of a comma list.  Returns 1 if there is one, 0 at
 * the end of the list, -1 after reporting a dangling comma (the statement
 * was skipped).
 */
static int next_item(struct parser *ps)
{
	struct token comma;

	advance(ps);
	if (ps->tok.kind != TOK_COMMA)
		return 0;
	comma = ps->tok;
	advance(ps);
	return need_item(ps, &comma) ? 1 : -1;
}

struct spec_state {
	struct rule *rules;
	size_t n;
	bool have_cur;	/* rules[n - 1] is what a bare port continues */
	bool cur_ports; /* ... and it was written with a port list */
	bool cur_bad;	/* the previous spec was bad: do not report its ports again */
};

/* One SPEC of an allow statement: PROTO, PROTO/PORTS or a bare PORTS. */
static bool parse_spec(struct parser *ps, const struct token *t, struct loc stmt,
		       struct spec_state *st)
{
	const char *slash = memchr(t->text, '/', t->len);
	size_t n = slash ? (size_t)(slash - t->text) : t->len;
	struct port_range pr;
	struct rule *r;
	enum proto proto;

	if (!slash && t->text[0] >= '0' && t->text[0] <= '9') {
		if (!st->have_cur) {
			if (!st->cur_bad)
				terr(ps, t,
				     "port \"%.*s\" has no protocol (write tcp/%.*s or udp/%.*s)",
				     (int)t->len, t->text, (int)t->len, t->text, (int)t->len,
				     t->text);
			return false;
		}
		r = &st->rules[st->n - 1];
		if (!proto_has_ports(r->proto)) {
			terr(ps, t, "%s takes no port", proto_name(r->proto));
			return false;
		}
		if (!st->cur_ports) {
			terr(ps, t,
			     "port \"%.*s\" follows \"%s\", which has no port list (write %s/%.*s)",
			     (int)t->len, t->text, proto_name(r->proto), proto_name(r->proto),
			     (int)t->len, t->text);
			return false;
		}
		if (!parse_range(ps, t, 0, t->len, &pr))
			return false;
		*VEC_PUSH(r->ports, r->nports) = pr;
		return true;
	}
	st->have_cur = false;
	st->cur_bad = true;
	if (!parse_proto(ps, t, n, &proto))
		return false;
	if (slash && !proto_has_ports(proto)) {
		perr(ps, sub_loc(ps, t, n + 1), t->len - n - 1, "%s takes no port",
		     proto_name(proto));
		return false;
	}
	if (slash && n + 1 == t->len) {
		perr(ps, sub_loc(ps, t, n), 1, "missing port after \"%.*s\"", (int)t->len, t->text);
		return false;
	}
	r = VEC_PUSH(st->rules, st->n);
	r->loc = stmt;
	r->proto_loc = tok_loc(ps, t);
	r->proto = proto;
	st->have_cur = true;
	st->cur_bad = false;
	st->cur_ports = slash != NULL;
	if (!slash)
		return true;
	/* Keep the rule even if the port is bad, so "tcp/0,70000" reports both. */
	if (!parse_range(ps, t, n + 1, t->len - n - 1, &pr))
		return false;
	*VEC_PUSH(r->ports, r->nports) = pr;
	return true;
}

/* One DEST of "to": host, an address or a prefix. */
static bool parse_dest(struct parser *ps, const struct token *t, struct dest **dests, size_t *n)
{
	struct dest dst;

	memset(&dst, 0, sizeof(dst));
	dst.loc = tok_loc(ps, t);
	if (tok_is(t, "host")) {
		dst.kind = DEST_HOST;
	} else {
		struct prefix masked;
		char buf[PREFIX_STRLEN];

		if (!parse_prefix(ps, t, PFX_LEN_OPTIONAL, "to", &dst.pfx))
			return false;
		masked = dst.pfx;
		/* Harmless and common (an address pasted with its length): warn. */
		if (prefix_mask(&masked)) {
			diag_warning(ps->d, &dst.loc, span_of(t->len),
				     "%.*s has host bits set; using %s", (int)t->len, t->text,
				     prefix_str(&masked, buf));
			dst.pfx = masked;
		}
		dst.kind = DEST_PREFIX;
	}
	*VEC_PUSH(*dests, *n) = dst;
	return true;
}

/* Does a stray word look like a destination that lacks its "to"? */
static bool looks_like_dest(const struct token *t)
{
	return t->kind == TOK_WORD &&
	       (tok_is(t, "host") || memchr(t->text, '.', t->len) || memchr(t->text, ':', t->len));
}

/* allow SPEC[, SPEC...] [to DEST[, DEST...]] */
static void parse_allow(struct parser *ps, struct rule **rules, size_t *nrules)
{
	struct token kw = ps->tok, t;
	struct loc stmt = tok_loc(ps, &kw);
	struct spec_state st;
	struct dest *dests = NULL;
	size_t ndests = 0, i;
	bool ok = true, saw_to = false;
	int more;

	memset(&st, 0, sizeof(st));
	advance(ps);
	if (tok_is(&ps->tok, "to")) {
		terr(ps, &ps->tok, "missing protocol before \"to\"");
		skip_stmt(ps);
		return;
	}
	if (!need_word(ps, &kw, "tcp, udp, icmp or icmpv6"))
		return;
	do {
		t = ps->tok;
		ok = parse_spec(ps, &t, stmt, &st) && ok;
	} while ((more = next_item(ps)) > 0);
	if (more < 0) {
		ok = false;
		goto out;
	}
	if (tok_is(&ps->tok, "to")) {
		struct token to = ps->tok;

		saw_to = true;
		advance(ps);
		if (!need_word(ps, &to, "host, an address or a prefix")) {
			ok = false;
			goto out;
		}
		do {
			t = ps->tok;
			ok = parse_dest(ps, &t, &dests, &ndests) && ok;
		} while ((more = next_item(ps)) > 0);
		if (more < 0) {
			ok = false;
			goto out;
		}
	}
	if (!expect_end(ps, &kw,
			!saw_to && looks_like_dest(&ps->tok) ? " (missing \"to\"?)" : NULL))
		ok = false;
out:
	for (i = 0; i < st.n; i++) {
		struct rule *r = &st.rules[i];

		if (!ok) {
			free(r->ports);
			continue;
		}
		/* To size, next to each other: vectors leave room and headers. */
		if (r->nports) {
			struct port_range *ports = r->ports;

			r->ports = arena_memdup(&ps->p->arena, ports, r->nports * sizeof(*ports));
			free(ports);
		}
		r->dests = arena_memdup(&ps->p->arena, dests, ndests * sizeof(*dests));
		r->ndests = ndests;
		*VEC_PUSH(*rules, *nrules) = *r;
	}
	free(st.rules);
	free(dests);
}

/* publish PROTO/EXT[:INT], in a jail or a template block */
static void parse_publish(struct parser *ps, struct publish **pubs, size_t *npubs)
{
	struct token kw = ps->tok, t;
	struct port_range ext;
	struct publish *pub;
	const char *slash, *colon;
	size_t n, off, ne;
	uint16_t int_lo = 0;
	enum proto proto;
	bool ok = false;

	advance(ps);
	if (!need_word(ps, &kw, "tcp/PORT[:PORT] or udp/PORT[:PORT]"))
		return;
	t = ps->tok;
	slash = memchr(t.text, '/', t.len);
	n = slash ? (size_t)(slash - t.text) : t.len;
	if (!parse_proto(ps, &t, n, &proto))
		goto end;
	if (!proto_has_ports(proto)) {
		perr(ps, tok_loc(ps, &t), n, "publish takes tcp or udp, not %s", proto_name(proto));
		goto end;
	}
	if (!slash || n + 1 == t.len) {
		terr(ps, &t, "missing port in \"%.*s\" (expected %s/PORT[:PORT])", (int)t.len,
		     t.text, proto_name(proto));
		goto end;
	}
	off = n + 1;
	colon = memchr(t.text + off, ':', t.len - off);
	ne = colon ? (size_t)(colon - (t.text + off)) : t.len - off;
	ok = parse_range(ps, &t, off, ne, &ext);
	if (!colon) {
		int_lo = ext.lo;
	} else {
		size_t ioff = off + ne + 1, ni = t.len - ioff;

		if (!ni) {
			perr(ps, sub_loc(ps, &t, ioff - 1), 1, "missing port after \":\"");
			ok = false;
		} else if (memchr(t.text + ioff, '-', ni)) {
			perr(ps, sub_loc(ps, &t, ioff), ni,
			     "the jail's port must be a single port (a range maps 1:1 from its "
			     "first port)");
			ok = false;
		} else {
			ok = parse_port(ps, &t, ioff, ni, &int_lo) && ok;
		}
	}
	if (ok && (unsigned int)int_lo + (ext.hi - ext.lo) > 65535) {
		terr(ps, &t, "port range %u-%u mapped to %u runs past port 65535", ext.lo, ext.hi,
		     int_lo);
		ok = false;
	}
end:
	if (!finish_value(ps, &kw, ok))
		return;
	pub = VEC_PUSH(*pubs, *npubs);
	memset(pub, 0, sizeof(*pub));
	pub->loc = tok_loc(ps, &kw);
	pub->proto = proto;
	pub->ext_lo = ext.lo;
	pub->ext_hi = ext.hi;
	pub->int_lo = int_lo;
}

/* use NAME[, NAME...] */
static void parse_use(struct parser *ps, struct jail *j)
{
	struct token kw = ps->tok;
	int more;

	advance(ps);
	if (!need_word(ps, &kw, "a template name"))
		return;
	do {
		if (check_name(ps, &ps->tok, "template name")) {
			struct use *u = VEC_PUSH(j->uses, j->nuses);

			u->name = arena_strndup(&ps->p->arena, ps->tok.text, ps->tok.len);
			u->loc = tok_loc(ps, &ps->tok);
		}
	} while ((more = next_item(ps)) > 0);
	if (!more)
		expect_end(ps, &kw, NULL);
}

/* dns ADDR[, ADDR...] */
static void parse_dns(struct parser *ps, struct jail *j, struct seen *seen, size_t nseen)
{
	struct token kw = ps->tok;
	struct prefix *addrs = NULL;
	size_t n = 0;
	bool ok = true;
	int more;

	if (!start_value(ps, &kw, seen, nseen, "an address"))
		return;
	j->dns_loc = tok_loc(ps, &ps->tok);
	do {
		struct prefix a;

		if (!parse_prefix(ps, &ps->tok, PFX_LEN_FORBIDDEN, "dns", &a)) {
			ok = false;
		} else if (n == DNS_MAX) {
			terr(ps, &ps->tok, "too many dns servers (at most %d, as resolv.conf uses)",
			     DNS_MAX);
			ok = false;
		} else {
			*VEC_PUSH(addrs, n) = a;
		}
	} while ((more = next_item(ps)) > 0);
	if (!more)
		expect_end(ps, &kw, NULL);
	if (more < 0 || !ok) {
		free(addrs);
		memset(&j->dns_loc, 0, sizeof(j->dns_loc));
		return;
	}
	j->dns = addrs;
	j->ndns = n;
}

/* A user name as useradd accepts it, or a decimal uid. */
static bool parse_user(struct parser *ps, const struct token *t)
{
	uint64_t v;
	size_t i;

	if (t->text[0] >= '0' && t->text[0] <= '9') {
		/* (uid_t)-1 means "no change" to setresuid: not a user. */
		switch (parse_dec(t->text, t->len, 4294967294u, &v)) {
		case NUM_OK:
			return true;
		case NUM_NONCANON:
			terr(ps, t, "non-canonical number \"%.*s\"", (int)t->len, t->text);
			return false;
		case NUM_RANGE:
			terr(ps, t, "uid %.*s is out of range (0-4294967294)", (int)t->len,
			     t->text);
			return false;
		case NUM_SYNTAX:
			break;
		}
	} else {
		bool ok = (t->text[0] >= 'a' && t->text[0] <= 'z') ||
			  (t->text[0] >= 'A' && t->text[0] <= 'Z') || t->text[0] == '_';

		for (i = 1; ok && i < t->len; i++) {
			char c = t->text[i];

			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		}
		if (ok)
			return true;
	}
	terr(ps, t,
	     "invalid user \"%.*s\" (expected a name of letters, digits, _ . - starting with a "
	     "letter or _, or a number)",
	     (int)t->len, t->text);
	return false;
}

static bool check_ifname(struct parser *ps, const struct token *t)
{
	return check_name(ps, t, "interface prefix");
}

/*
 * A statement whose value is one word kept as text (user, ifname): checked
 * by check(), stored with its location only when the statement is whole.
 */
static void name_value(struct parser *ps, const struct token *kw, struct seen *seen, size_t nseen,
		       const char *what, bool (*check)(struct parser *, const struct token *),
		       char **out, struct loc *loc)
{
	struct token t;
	bool ok;

	if (!start_value(ps, kw, seen, nseen, what))
		return;
	t = ps->tok;
	ok = check(ps, &t);
	if (finish_value(ps, kw, ok)) {
		*out = arena_strndup(&ps->p->arena, t.text, t.len);
		*loc = tok_loc(ps, &t);
	}
}

/* ipv4 PREFIX / ipv6 PREFIX: the jail's network, host bits clear. */
static bool parse_jail_net(struct parser *ps, const struct token *kw, const struct token *t,
			   struct prefix *out)
{
	int af = tok_is(kw, "ipv4") ? AF_INET : AF_INET6;
	struct prefix masked;
	char buf[PREFIX_STRLEN];

	if (!parse_prefix(ps, t, PFX_LEN_REQUIRED, NULL, out))
		return false;
	if (out->family != af) {
		terr(ps, t, "%s needs an %s prefix; \"%.*s\" is %s",
		     af == AF_INET ? "ipv4" : "ipv6", parse_family_name(af), (int)t->len, t->text,
		     parse_family_name(out->family));
		return false;
	}
	/*
	 * An error, not a warning as in "to": the jail's addresses (.1, .2)
	 * are derived from the network, so a typo here would move them.
	 */
	masked = *out;
	if (prefix_mask(&masked)) {
		terr(ps, t, "%.*s has host bits set (did you mean %s?)", (int)t->len, t->text,
		     prefix_str(&masked, buf));
		return false;
	}
	return true;
}

static void parse_jail_stmt(struct parser *ps, struct jail *j, struct seen *seen, size_t nseen)
{
	struct token kw = ps->tok, t;
	struct prefix pfx;
	bool ok;

	if (tok_is(&kw, "allow")) {
		parse_allow(ps, &j->rules, &j->nrules);
	} else if (tok_is(&kw, "publish")) {
		parse_publish(ps, &j->pubs, &j->npubs);
	} else if (tok_is(&kw, "use")) {
		parse_use(ps, j);
	} else if (tok_is(&kw, "dns")) {
		parse_dns(ps, j, seen, nseen);
	} else if (tok_is(&kw, "backend")) {
		enum backend b = BACKEND_NONE;

		if (!start_value(ps, &kw, seen, nseen, "uid or netns"))
			return;
		t = ps->tok;
		if (tok_is(&t, "uid"))
			b = BACKEND_UID;
		else if (tok_is(&t, "netns"))
			b = BACKEND_NETNS;
		else
			terr(ps, &t, "unknown backend \"%.*s\" (expected uid or netns)", (int)t.len,
			     t.text);
		if (finish_value(ps, &kw, b != BACKEND_NONE)) {
			j->backend = b;
			j->backend_loc = tok_loc(ps, &t);
		}
	} else if (tok_is(&kw, "user")) {
		name_value(ps, &kw, seen, nseen, "a user name or number", parse_user, &j->user,
			   &j->user_loc);
	} else if (tok_is(&kw, "ipv4") || tok_is(&kw, "ipv6")) {
		bool v4 = tok_is(&kw, "ipv4");

		if (!start_value(ps, &kw, seen, nseen, v4 ? "an IPv4 prefix" : "an IPv6 prefix"))
			return;
		t = ps->tok;
		ok = parse_jail_net(ps, &kw, &t, &pfx);
		if (finish_value(ps, &kw, ok)) {
			if (v4) {
				j->has_v4 = true;
				j->v4 = pfx;
				j->v4_loc = tok_loc(ps, &t);
			} else {
				j->has_v6 = true;
				j->v6 = pfx;
				j->v6_loc = tok_loc(ps, &t);
			}
		}
	} else if (tok_is(&kw, "ifname")) {
		name_value(ps, &kw, seen, nseen, "an interface prefix", check_ifname, &j->ifname,
			   &j->ifname_loc);
	} else if (tok_is(&kw, "log-drops")) {
		parse_log_drops(ps, &kw, seen, nseen, &j->log_drops, &j->log_drops_loc);
	} else {
		unknown_stmt(ps, BLK_JAIL, jail_kw, ARRAY_SIZE(jail_kw));
	}
}

/* Interface names as the kernel's dev_valid_name() takes them, minus '/' and ':'. */
static bool wan_name_ok(const struct token *t)
{
	size_t i;

	if (!t->len || t->len > WAN_MAX_LEN || tok_is(t, ".") || tok_is(t, ".."))
		return false;
	for (i = 0; i < t->len; i++) {
		char c = t->text[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static bool parse_fwmark(struct parser *ps, const struct token *t, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (t->len > 2 && t->text[0] == '0' && (t->text[1] == 'x' || t->text[1] == 'X')) {
		for (i = 2; i < t->len; i++) {
			char c = t->text[i];
			unsigned int dig;

			if (c >= '0' && c <= '9')
				dig = (unsigned int)(c - '0');
			else if (c >= 'a' && c <= 'f')
				dig = (unsigned int)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				dig = (unsigned int)(c - 'A' + 10);
			else
				goto syntax;
			if (v <= 0xffffffffu)
				v = v * 16 + dig;
		}
	} else {
		switch (parse_dec(t->text, t->len, 0xffffffffu, &v)) {
		case NUM_OK:
			break;
		case NUM_NONCANON:
			terr(ps, t, "non-canonical number \"%.*s\"", (int)t->len, t->text);
			return false;
		case NUM_RANGE:
			v = UINT64_MAX;
			break;
		case NUM_SYNTAX:
			goto syntax;
		}
	}
	if (v > 0xffffffffu) {
		terr(ps, t, "fwmark %.*s is out of range (32 bits)", (int)t->len, t->text);
		return false;
	}
	if (!v) {
		terr(ps, t, "fwmark 0 is not allowed (it would mark nothing)");
		return false;
	}
	*out = (uint32_t)v;
	return true;
syntax:
	terr(ps, t, "invalid fwmark \"%.*s\" (expected a decimal or 0x hexadecimal number)",
	     (int)t->len, t->text);
	return false;
}

static bool parse_table_name_ok(const struct token *t)
{
	size_t i;

	if (!t->len || t->len > TABLE_MAX_LEN || t->text[0] < 'a' || t->text[0] > 'z')
		return false;
	for (i = 1; i < t->len; i++) {
		char c = t->text[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static void parse_settings_stmt(struct parser *ps, struct settings *s, struct seen *seen,
				size_t nseen)
{
	struct token kw = ps->tok, t;
	bool ok;

	if (tok_is(&kw, "wan")) {
		char **names = NULL;
		struct loc *locs = NULL;
		size_t n = 0, nl = 0, i;
		int more;

		if (!start_value(ps, &kw, seen, nseen, "an interface name"))
			return;
		ok = true;
		s->wan_loc = tok_loc(ps, &ps->tok);
		do {
			if (wan_name_ok(&ps->tok)) {
				*VEC_PUSH(names, n) = xstrndup(ps->tok.text, ps->tok.len);
				*VEC_PUSH(locs, nl) = tok_loc(ps, &ps->tok);
			} else {
				terr(ps, &ps->tok,
				     "invalid interface name \"%.*s\" (1-%d characters: letters, "
				     "digits, _ . -)",
				     (int)ps->tok.len, ps->tok.text, WAN_MAX_LEN);
				ok = false;
			}
		} while ((more = next_item(ps)) > 0);
		if (!more)
			expect_end(ps, &kw, NULL);
		if (more < 0 || !ok) {
			for (i = 0; i < n; i++)
				free(names[i]);
			free(names);
			free(locs);
			memset(&s->wan_loc, 0, sizeof(s->wan_loc));
			return;
		}
		s->wan = names;
		s->wan_locs = locs;
		s->nwan = n;
	} else if (tok_is(&kw, "log-drops")) {
		parse_log_drops(ps, &kw, seen, nseen, &s->log_drops, &s->log_drops_loc);
	} else if (tok_is(&kw, "table")) {
		if (!start_value(ps, &kw, seen, nseen, "a table name"))
			return;
		t = ps->tok;
		ok = parse_table_name_ok(&t);
		if (!ok)
			terr(ps, &t,
			     "invalid table name \"%.*s\" (expected [a-z][a-z0-9_]*, at most %d "
			     "characters)",
			     (int)t.len, t.text, TABLE_MAX_LEN);
		if (finish_value(ps, &kw, ok)) {
			s->table = xstrndup(t.text, t.len);
			s->table_loc = tok_loc(ps, &t);
		}
	} else if (tok_is(&kw, "fwmark")) {
		uint32_t mark = 0;

		if (!start_value(ps, &kw, seen, nseen, "a number"))
			return;
		t = ps->tok;
		ok = parse_fwmark(ps, &t, &mark);
		if (finish_value(ps, &kw, ok)) {
			s->fwmark = mark;
			s->fwmark_loc = tok_loc(ps, &t);
		}
	} else {
		unknown_stmt(ps, BLK_SETTINGS, settings_kw, ARRAY_SIZE(settings_kw));
	}
}

/* ---- blocks ---- */

/*
 * After a block's header the "{" must follow on the same line.  Returns
 * true with the "{" consumed; on false nothing is left to skip.
 */
static bool parse_lbrace(struct parser *ps, const char *desc, struct token *lb)
{
	char buf[LEX_MAX_TOKEN + 8];

	if (ps->tok.kind == TOK_LBRACE)
		goto open;
	if (ps->tok.kind == TOK_NEWLINE) {
		struct token nl = ps->tok;

		while (ps->tok.kind == TOK_NEWLINE)
			advance(ps);
		if (ps->tok.kind == TOK_LBRACE) {
			/* Say so once and read the block anyway: the intent is clear. */
			terr(ps, &ps->tok, "\"{\" must be on the same line as %s", desc);
			goto open;
		}
		terr(ps, &nl, "expected \"{\" after %s", desc);
		return false;
	}
	if (ps->tok.kind == TOK_EOF) {
		terr(ps, &ps->tok, "expected \"{\" after %s", desc);
		return false;
	}
	if (ps->tok.kind != TOK_ERROR)
		terr(ps, &ps->tok, "unexpected %s after %s (expected \"{\")",
		     tok_desc(&ps->tok, buf, sizeof(buf)), desc);
	/* A "{" later on the line still opens the block: read it. */
	while (!at_stmt_end(ps) && ps->tok.kind != TOK_LBRACE)
		advance(ps);
	if (ps->tok.kind == TOK_LBRACE)
		goto open;
	if (ps->tok.kind == TOK_NEWLINE || ps->tok.kind == TOK_SEMI)
		advance(ps);
	return false;
open:
	*lb = ps->tok;
	advance(ps);
	return true;
}

/* "jail NAME" / "template NAME": the name, or NULL if missing or invalid. */
static char *parse_block_name(struct parser *ps, const struct token *kw, const char *what,
			      struct loc *loc)
{
	char *name = NULL;

	if (ps->tok.kind == TOK_WORD) {
		if (check_name(ps, &ps->tok, what))
			name = arena_strndup(&ps->p->arena, ps->tok.text, ps->tok.len);
		*loc = tok_loc(ps, &ps->tok);
		advance(ps);
	} else if (ps->tok.kind == TOK_ERROR) {
		advance(ps);
	} else {
		terr(ps, &ps->tok, "missing name after \"%.*s\"", (int)kw->len, kw->text);
	}
	return name;
}

/*
 * "jail NAME {" / "template NAME {", after the keyword kw: the name (NULL
 * if missing or invalid), desc for the messages about the block, and its
 * "{" in lb.  False, with no name kept, when the "{" is missing: the block
 * was not read, and keeping it would only add errors.
 */
static bool parse_block_head(struct parser *ps, const struct token *kw, const char *what,
			     char **name, struct loc *loc, char *desc, size_t len, struct token *lb)
{
	size_t n;

	*name = parse_block_name(ps, kw, what, loc);
	/* Every block has this: without snprintf() when it fits, as it does. */
	if (*name && (n = strlen(*name)) + kw->len + 4 <= len) {
		memcpy(desc, kw->text, kw->len);
		memcpy(desc + kw->len, " \"", 2);
		memcpy(desc + kw->len + 2, *name, n);
		memcpy(desc + kw->len + 2 + n, "\"", 2);
	} else if (*name)
		snprintf(desc, len, "%.*s \"%s\"", (int)kw->len, kw->text, *name);
	else
		snprintf(desc, len, "\"%.*s\"", (int)kw->len, kw->text);
	if (parse_lbrace(ps, desc, lb))
		return true;
	policy_release(ps->p, *name);
	*name = NULL;
	return false;
}

static void parse_body(struct parser *ps, enum block_kind bk, void *obj, struct seen *seen,
		       size_t nseen, const struct token *lb, const char *desc)
{
	for (;;) {
		switch (ps->tok.kind) {
		case TOK_NEWLINE:
		case TOK_SEMI:
			advance(ps);
			continue;
		case TOK_RBRACE:
			advance(ps);
			return;
		case TOK_EOF:
			terr(ps, lb, "%s is not closed (missing \"}\" at end of file)", desc);
			return;
		case TOK_LBRACE:
		case TOK_COMMA:
		case TOK_ERROR:
			skip_stray(ps);
			continue;
		case TOK_WORD:
			break;
		}
		if (in_list(&ps->tok, top_kw, ARRAY_SIZE(top_kw))) {
			/*
			 * Most likely the "}" of this block was forgotten:
			 * close it here so the next block parses normally.
			 */
			terr(ps, &ps->tok, "\"%.*s\" inside %s (missing \"}\"?)", (int)ps->tok.len,
			     ps->tok.text, desc);
			return;
		}
		switch (bk) {
		case BLK_SETTINGS:
			parse_settings_stmt(ps, obj, seen, nseen);
			break;
		case BLK_JAIL:
			parse_jail_stmt(ps, obj, seen, nseen);
			break;
		case BLK_TMPL: {
			struct tmpl *tm = obj;

			/*
			 * A template may publish too (a web server's ports):
			 * check.c copies that into netns jails only and
			 * refuses it in a uid jail, as it refuses a publish
			 * written in one.
			 */
			if (tok_is(&ps->tok, "allow")) {
				parse_allow(ps, &tm->rules, &tm->nrules);
			} else if (tok_is(&ps->tok, "publish")) {
				parse_publish(ps, &tm->pubs, &tm->npubs);
			} else {
				unknown_stmt(ps, BLK_TMPL, tmpl_kw, ARRAY_SIZE(tmpl_kw));
			}
			break;
		}
		case BLK_TOP:
			break;
		}
	}
}

static void rules_discard(struct parser *ps, struct rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		policy_release(ps->p, r[i].ports);
		policy_release(ps->p, r[i].dests);
	}
	free(r);
}

static void jail_discard(struct parser *ps, struct jail *j)
{
	size_t i;

	policy_release(ps->p, j->name);
	policy_release(ps->p, j->user);
	policy_release(ps->p, j->ifname);
	free(j->dns);
	rules_discard(ps, j->rules, j->nrules);
	free(j->pubs);
	for (i = 0; i < j->nuses; i++)
		policy_release(ps->p, j->uses[i].name);
	free(j->uses);
}

static void parse_jail(struct parser *ps)
{
	struct seen seen[] = {{"backend", {0}}, {"user", {0}}, {"ipv4", {0}},	  {"ipv6", {0}},
			      {"ifname", {0}},	{"dns", {0}},  {"log-drops", {0}}};
	struct token kw = ps->tok, lb;
	char desc[NAME_MAX_LEN + 16];
	struct jail j;

	memset(&j, 0, sizeof(j));
	advance(ps);
	if (!parse_block_head(ps, &kw, "jail name", &j.name, &j.loc, desc, sizeof(desc), &lb))
		return;
	parse_body(ps, BLK_JAIL, &j, seen, ARRAY_SIZE(seen), &lb, desc);
	if (!j.name) {
		jail_discard(ps, &j);
		return;
	}
	*VEC_PUSH_CAP(ps->p->jails, ps->p->njails, ps->p->jails_cap) = j;
}

static void parse_template(struct parser *ps)
{
	struct token kw = ps->tok, lb;
	char desc[NAME_MAX_LEN + 16];
	struct tmpl tm;

	memset(&tm, 0, sizeof(tm));
	tm.from_file = ps->template_only;
	advance(ps);
	if (!parse_block_head(ps, &kw, "template name", &tm.name, &tm.loc, desc, sizeof(desc), &lb))
		return;
	parse_body(ps, BLK_TMPL, &tm, NULL, 0, &lb, desc);
	if (!tm.name) {
		rules_discard(ps, tm.rules, tm.nrules);
		free(tm.pubs);
		return;
	}
	*VEC_PUSH(ps->p->tmpls, ps->p->ntmpls) = tm;
}

static void parse_settings(struct parser *ps, struct loc *first)
{
	struct seen seen[] = {{"wan", {0}}, {"log-drops", {0}}, {"table", {0}}, {"fwmark", {0}}};
	struct settings scratch, *s = &ps->p->settings;
	struct token kw = ps->tok, lb;
	char where[LOC_STR_MAX];
	size_t i;

	memset(&scratch, 0, sizeof(scratch));
	if (!ps->is_main) {
		/*
		 * Settings act on every jail (the table, the wan, the mark):
		 * a file dropped in for one service must not change them.
		 */
		terr(ps, &kw,
		     "\"settings\" belongs in the main policy file (%s), not in an included one",
		     reader_main(ps->rd));
		s = &scratch;
	} else if (ps->p->has_settings) {
		/* Read the second block too, for its errors, but keep nothing. */
		if (first->line)
			terr(ps, &kw, "duplicate \"settings\" block (first at %s)",
			     loc_str(first, where, sizeof(where)));
		else
			terr(ps, &kw, "duplicate \"settings\" block");
		s = &scratch;
	} else {
		ps->p->has_settings = true;
		*first = tok_loc(ps, &kw);
	}
	advance(ps);
	if (parse_lbrace(ps, "\"settings\"", &lb))
		parse_body(ps, BLK_SETTINGS, s, seen, ARRAY_SIZE(seen), &lb, "\"settings\"");
	for (i = 0; i < scratch.nwan; i++)
		free(scratch.wan[i]);
	free(scratch.wan);
	free(scratch.wan_locs);
	free(scratch.table);
}

static void parse_top(struct parser *ps)
{
	struct loc settings_loc = {NULL, 0, 0};

	for (;;) {
		switch (ps->tok.kind) {
		case TOK_NEWLINE:
		case TOK_SEMI:
			advance(ps);
			continue;
		case TOK_EOF:
			return;
		case TOK_RBRACE:
			terr(ps, &ps->tok, "unexpected \"}\" (no block is open)");
			advance(ps);
			continue;
		case TOK_LBRACE:
		case TOK_COMMA:
		case TOK_ERROR:
			skip_stray(ps);
			continue;
		case TOK_WORD:
			break;
		}
		if (ps->template_only &&
		    (tok_is(&ps->tok, "settings") || tok_is(&ps->tok, "jail") ||
		     tok_is(&ps->tok, "include"))) {
			terr(ps, &ps->tok,
			     "\"%.*s\" is not allowed in a template file (only template "
			     "blocks)",
			     (int)ps->tok.len, ps->tok.text);
			skip_stmt(ps);
		} else if (tok_is(&ps->tok, "settings")) {
			parse_settings(ps, &settings_loc);
		} else if (tok_is(&ps->tok, "jail")) {
			parse_jail(ps);
		} else if (tok_is(&ps->tok, "template")) {
			parse_template(ps);
		} else if (!ps->template_only && tok_is(&ps->tok, "include")) {
			parse_include(ps);
		} else if (ps->template_only) {
			unknown_stmt(ps, BLK_TOP, top_kw + 2, 1);
		} else {
			unknown_stmt(ps, BLK_TOP, top_kw, ARRAY_SIZE(top_kw));
		}
	}
}

/* ---- entry points ---- */

/*
 * The files of one policy read so far, known by device and inode (a
 * symlink or a second path to a file is the same file), so that an
 * include cycle or a file read twice is an error rather than a loop or a
 * "duplicate jail" against itself.
 */
struct rfile {
	dev_t dev;
	ino_t ino;
	const char *name; /* as registered in policy.files */
	struct loc from;  /* the include that read it; file NULL: none did */
	unsigned int from_span;
	bool reading; /* on the chain of includes being read now */
};

struct reader {
	struct rfile *files;
	size_t nfiles;
	/*
	 * files by device and inode, open addressing (index + 1, 0: empty),
	 * at most half full: a jails.d may hold thousands of files.
	 */
	size_t *slots;
	size_t nslots;
	unsigned int depth;  /* files on the chain being read now */
	const char *main;    /* the main file, as registered */
	const char *dropins; /* policy_parse_dir: its jails.d, for messages */
};

enum {
	RF_MISSING_OK = 1u << 0, /* a file that does not exist: return -1 */
	RF_SKIP_SEEN = 1u << 1,	 /* a file already read: skip it quietly */
};

static const char *reader_main(const struct reader *rd)
{
	return rd && rd->main ? rd->main : "?";
}

/*
 * Room for the jails of buf, counted as the word "jail" (comments may
 * overcount): an array of thousands of jail structs doubled a dozen times
 * is copied and faulted in over and over.
 */
static void reserve_jails(struct policy *p, const char *buf, size_t len)
{
	const char *s = buf, *end = buf + len;
	size_t n = 0;

	while (s < end && (s = memmem(s, (size_t)(end - s), "jail", 4))) {
		n++;
		s += 4;
	}
	if (n > 64)
		p->jails = vec_reserve(p->jails, p->njails, &p->jails_cap, p->njails + n,
				       sizeof(*p->jails));
}

/* file is already registered with p (stable) and its text with d. */
static bool parse_text(struct policy *p, struct diag *d, const char *file, const char *buf,
		       size_t len, bool template_only, struct reader *rd)
{
	unsigned int errors = d->errors;
	struct parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.p = p;
	ps.d = d;
	ps.file = file;
	ps.template_only = template_only;
	ps.rd = rd;
	ps.is_main = !rd || file == rd->main;
	reserve_jails(p, buf, len);
	lex_init(&ps.lx, d, file, buf, len);
	advance(&ps);
	parse_top(&ps);
	return d->errors == errors;
}

bool policy_parse_buffer(struct policy *p, struct diag *d, const char *file, const char *buf,
			 size_t len, bool template_only)
{
	const char *f = policy_add_file(p, file);

	diag_add_source(d, f, buf, len);
	return parse_text(p, d, f, buf, len, template_only, NULL);
}

/* Root, or the user running jailfw, may own what jailfw reads. */
static bool owner_ok(uid_t uid)
{
	return uid == 0 || uid == getuid();
}

/*
 * Whoever can write the policy, or a directory it is read from, decides
 * what the jails may reach; a world-writable file hands that to every
 * local user, a group-writable one to every member of its group, and a
 * file of another user's to that user (sshd's StrictModes refuses all
 * three for the same reason).
 */
static bool mode_trusted(struct diag *d, const struct loc *l, const struct stat *st)
{
	if (!owner_ok(st->st_uid)) {
		diag_error(d, l, 0,
			   "is owned by uid %u, not by root or by uid %u, who runs jailfw "
			   "(chown root)",
			   (unsigned int)st->st_uid, (unsigned int)getuid());
		return false;
	}
	if (st->st_mode & S_IWOTH) {
		diag_error(d, l, 0, "is writable by other users (chmod o-w)");
		return false;
	}
	if (st->st_mode & S_IWGRP) {
		diag_error(d, l, 0, "is writable by its group (chmod g-w)");
		return false;
	}
	return true;
}

/*
 * Whoever can write a directory on the way to the file can put another
 * file in its place (rename the directory away, make a new one): so, as
 * sshd's StrictModes does, every directory from the file's up to / must be
 * owned by root or the user running jailfw and writable by nobody else.
 * One exception, root's sticky directories (/tmp): there nobody may
 * rename or remove what is not theirs.  The path checked is the one the
 * kernel opened (symbolic links resolved), from /proc/self/fd.
 */
static bool dirs_trusted(int fd, const char *path, struct diag *d, const struct loc *l)
{
	char link[64], real[PATH_MAX], *slash;
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n > 0 && real[0] == '/') {
		real[n] = '\0';
	} else if (!realpath(path, real)) {
		diag_error(d, l, 0, "cannot tell which directories hold it: %s", strerror(errno));
		return false;
	}
	while ((slash = strrchr(real, '/'))) {
		slash[slash == real] = '\0';
		if (stat(real, &st) < 0) {
			diag_error(d, l, 0, "cannot check directory \"%s\": %s", real,
				   strerror(errno));
			return false;
		}
		if (!owner_ok(st.st_uid)) {
			diag_error(d, l, 0,
				   "is in directory \"%s\", owned by uid %u, not by root or by uid "
				   "%u, who runs jailfw: its owner could replace the file",
				   real, (unsigned int)st.st_uid, (unsigned int)getuid());
			return false;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(st.st_uid == 0 && (st.st_mode & S_ISVTX))) {
			diag_error(d, l, 0,
				   "is in directory \"%s\", writable by %s (chmod go-w): they "
				   "could replace the file",
				   real, st.st_mode & S_IWOTH ? "other users" : "its group");
			return false;
		}
		if (!strcmp(real, "/"))
			break;
	}
	return true;
}

/*
 * Open and read a policy or template file.  Returns 1 with the text in
 * *text (registered in p and d) and the file's identity in *st, 0 after
 * reporting an error, -1 when the file does not exist and missing_ok.
 *
 * O_NONBLOCK so that opening a FIFO cannot hang us before fstat() refuses
 * it; O_NOCTTY so a terminal device cannot become our controlling tty.
 */
static int parse_read_file(struct policy *p, struct diag *d, const char *path, bool missing_ok,
			   const char **fname, char **text, size_t *len, struct stat *st)
{
	struct loc l = {NULL, 0, 0};
	size_t cap = 0, n = 0;
	char *buf = NULL;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && missing_ok && (errno == ENOENT || errno == ENOTDIR))
		return -1;
	l.file = *fname = policy_add_file(p, path);
	if (fd < 0) {
		diag_error(d, &l, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, st) < 0) {
		diag_error(d, &l, 0, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		diag_error(d, &l, 0, "is not a regular file");
		goto out;
	}
	if (!mode_trusted(d, &l, st) || !dirs_trusted(fd, path, d, &l))
		goto out;
	if (st->st_size > (off_t)POLICY_MAX_SIZE) {
		diag_error(d, &l, 0, "is too large (%lld bytes, at most %u)",
			   (long long)st->st_size, POLICY_MAX_SIZE);
		goto out;
	}
	/* st_size is only a hint: files in /proc report 0, others grow. */
	cap = (size_t)st->st_size + 1;
	if (cap < 4096)
		cap = 4096;
	buf = xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(d, &l, 0, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > POLICY_MAX_SIZE) {
			diag_error(d, &l, 0, "is too large (more than %u bytes)", POLICY_MAX_SIZE);
			goto out;
		}
	}
	diag_add_source(d, *fname, buf, n);
	*text = buf;
	*len = n;
	buf = NULL;
	ret = 1;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* ---- policy files: include, drop-in directories ---- */

static bool has_wildcard(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* "DIR/NAME", without doubling a slash DIR ends in. */
static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

/*
 * Open a directory the policy is read from and hold it to the files'
 * rules.  Returns 1 with *fd open, 0 after reporting an error, -1 when it
 * does not exist.
 */
static int open_policy_dir(struct diag *d, const char *dir, int *fd)
{
	struct loc l = {dir, 0, 0};
	struct stat st;

	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0 && errno == ENOENT)
		return -1;
	if (*fd < 0) {
		diag_error(d, &l, 0, errno == ENOTDIR ? "is not a directory" : "cannot open: %s",
			   strerror(errno));
		return 0;
	}
	if (fstat(*fd, &st) < 0) {
		diag_error(d, &l, 0, "cannot stat: %s", strerror(errno));
	} else if (mode_trusted(d, &l, &st)) {
		return 1;
	}
	close(*fd);
	*fd = -1;
	return 0;
}

static int parse_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in dir that pattern matches and that are regular files (or
 * symlinks to one), sorted by strcmp(): byte order, the C locale's,
 * whatever the environment's locale says, so that every host reads the
 * same files in the same order.  FNM_PERIOD: a leading dot is matched only
 * by a dot, so hidden files (an editor's ".web.conf.swp" or "#" lock
 * file) never match "*.conf", as in the shell.  Anything else, a
 * directory, a socket, a symlink to nowhere, is not policy and is skipped.
 * A missing directory has no names.  Returns false after reporting an
 * error.
 */
static bool list_policy_dir(struct diag *d, const char *dir, const char *pattern, char ***names,
			    size_t *n)
{
	struct dirent *e;
	struct stat st;
	bool ok = true;
	DIR *dh;
	int fd, r;

	*names = NULL;
	*n = 0;
	r = open_policy_dir(d, dir, &fd);
	if (r <= 0)
		return r < 0;
	dh = fdopendir(fd);
	if (!dh) {
		struct loc l = {dir, 0, 0};

		diag_error(d, &l, 0, "cannot read: %s", strerror(errno));
		close(fd);
		return false;
	}
	for (;;) {
		errno = 0;
		e = readdir(dh);
		if (!e)
			break;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fnmatch(pattern, e->d_name, FNM_PERIOD))
			continue;
		/* The directory knows most types; ask about links and the rest. */
		if (e->d_type == DT_REG) {
			*VEC_PUSH(*names, *n) = xstrdup(e->d_name);
			continue;
		}
		if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN)
			continue;
		if (fstatat(fd, e->d_name, &st, 0) < 0) {
			char *path;
			struct loc l = {NULL, 0, 0};

			/* Removed since readdir(), or a dangling symlink. */
			if (errno == ENOENT)
				continue;
			l.file = path = path_join(dir, e->d_name);
			diag_error(d, &l, 0, "cannot stat: %s", strerror(errno));
			free(path);
			ok = false;
			continue;
		}
		if (S_ISREG(st.st_mode))
			*VEC_PUSH(*names, *n) = xstrdup(e->d_name);
	}
	if (errno) {
		struct loc l = {dir, 0, 0};

		diag_error(d, &l, 0, "cannot read: %s", strerror(errno));
		ok = false;
	}
	closedir(dh);
	if (*n)
		qsort(*names, *n, sizeof(**names), parse_name_cmp);
	return ok;
}

static size_t reader_slot(const struct reader *rd, dev_t dev, ino_t ino)
{
	uint64_t h = hash64_add(hash64_add(HASH64_INIT, &dev, sizeof(dev)), &ino, sizeof(ino));

	return (size_t)h & (rd->nslots - 1);
}

static struct rfile *reader_find(struct reader *rd, const struct stat *st)
{
	size_t i, mask = rd->nslots - 1;

	if (!rd->nslots)
		return NULL;
	for (i = reader_slot(rd, st->st_dev, st->st_ino); rd->slots[i]; i = (i + 1) & mask) {
		struct rfile *f = &rd->files[rd->slots[i] - 1];

		if (f->dev == st->st_dev && f->ino == st->st_ino)
			return f;
	}
	return NULL;
}

static void reader_slot_put(struct reader *rd, size_t idx)
{
	size_t i, mask = rd->nslots - 1;

	for (i = reader_slot(rd, rd->files[idx].dev, rd->files[idx].ino); rd->slots[i];
	     i = (i + 1) & mask)
		;
	rd->slots[i] = idx + 1;
}

/* Index rd->files[idx], just pushed, growing the table when half full. */
static void reader_add(struct reader *rd, size_t idx)
{
	size_t k;

	if (2 * rd->nfiles <= rd->nslots) {
		reader_slot_put(rd, idx);
		return;
	}
	free(rd->slots);
	rd->nslots = rd->nslots ? 2 * rd->nslots : 64;
	rd->slots = xcalloc(rd->nslots, sizeof(*rd->slots));
	for (k = 0; k < rd->nfiles; k++)
		reader_slot_put(rd, k);
}

static void reader_free(struct reader *rd)
{
	free(rd->files);
	free(rd->slots);
}

/* Where a file that is read again was read first. */
static void note_first_read(struct diag *d, const struct reader *rd, const struct rfile *f)
{
	struct loc l = {f->name, 0, 0};

	if (f->from.file)
		diag_note(d, &f->from, f->from_span, "\"%s\" is included here", f->name);
	else if (f->name == rd->main)
		diag_note(d, &l, 0, "the main policy file");
	else
		diag_note(d, &l, 0, "read as a drop-in file of %s", rd->dropins);
}

/*
 * Read path into p and parse it, with its own includes.  from (span
 * columns) is the include statement that names it, NULL for the main
 * file and a policy directory's drop-in files.  Returns 1 when read (or
 * skipped, RF_SKIP_SEEN), 0 after reporting an error, -1 when it does not
 * exist and RF_MISSING_OK.
 */
static int read_policy_file(struct reader *rd, struct policy *p, struct diag *d, const char *path,
			    const struct loc *from, unsigned int span, unsigned int flags)
{
	const char *fname;
	struct rfile *seen;
	char *text = NULL;
	struct stat st;
	size_t len = 0, idx;
	int r;

	/* Belt and braces: a cycle is caught below, but only file by file. */
	if (rd->depth > POLICY_INCLUDE_MAX_DEPTH) {
		diag_error(d, from, span, "includes nested more than %d deep",
			   POLICY_INCLUDE_MAX_DEPTH);
		return 0;
	}
	r = parse_read_file(p, d, path, flags & RF_MISSING_OK, &fname, &text, &len, &st);
	if (r != 1)
		return r;
	seen = reader_find(rd, &st);
	if (seen && !seen->reading && (flags & RF_SKIP_SEEN)) {
		free(text);
		return 1;
	}
	if (seen) {
		if (seen->reading)
			diag_error(d, from, span, "include cycle: \"%s\" is already being read",
				   fname);
		else
			diag_error(d, from, span, "\"%s\" is already part of the policy", fname);
		note_first_read(d, rd, seen);
		free(text);
		return 0;
	}
	idx = rd->nfiles;
	*VEC_PUSH(rd->files, rd->nfiles) = (struct rfile){
	    .dev = st.st_dev,
	    .ino = st.st_ino,
	    .name = fname,
	    .from = from ? *from : (struct loc){NULL, 0, 0},
	    .from_span = span,
	    .reading = true,
	};
	reader_add(rd, idx);
	if (!rd->main)
		rd->main = fname;
	rd->depth++;
	parse_text(p, d, fname, text, len, false, rd);
	rd->depth--;
	/* By index: the includes may have moved the array. */
	rd->files[idx].reading = false;
	free(text);
	return 1;
}

/*
 * Every file of dir that pattern matches, in byte order (list_policy_dir).
 * from as for read_policy_file.
 */
static void read_policy_dir_files(struct reader *rd, struct policy *p, struct diag *d,
				  const char *dir, const char *pattern, const struct loc *from,
				  unsigned int span, unsigned int flags)
{
	char **names;
	size_t n, i;

	if (!list_policy_dir(d, dir, pattern, &names, &n))
		return;
	for (i = 0; i < n; i++) {
		char *path = path_join(dir, names[i]);

		/* A file removed since the listing is not policy any more. */
		read_policy_file(rd, p, d, path, from, span, flags | RF_MISSING_OK);
		free(path);
	}
	strv_free(names, n);
}

/*
 * include PATTERN, at the top level: a file, or (with a wildcard in its
 * last part) every file a pattern matches, read right here as if its text
 * stood in place of the statement.  A relative PATTERN starts at the
 * including file's directory, so a policy directory can be copied or
 * moved whole.  A pattern may match nothing (an empty jails.d is a normal
 * state), but a plain file name that names nothing is an error: a typo
 * must not silently drop the jails it was meant to bring in.
 */
static void parse_include(struct parser *ps)
{
	struct token kw = ps->tok, t;
	const char *base, *slash;
	char *path = NULL, *dir = NULL;
	struct loc at;

	advance(ps);
	if (!need_word(ps, &kw, "a file name or a pattern such as jails.d/*.conf"))
		return;
	t = ps->tok;
	advance(ps);
	if (!expect_end(ps, &kw, NULL))
		return;
	at = tok_loc(ps, &t);
	if (!ps->rd) {
		terr(ps, &kw, "\"include\" needs a policy read from a file");
		return;
	}
	slash = strrchr(ps->file, '/');
	if (t.text[0] == '/' || !slash)
		path = xstrndup(t.text, t.len);
	else
		path = xasprintf("%.*s%.*s", (int)(slash - ps->file + 1), ps->file, (int)t.len,
				 t.text);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (has_wildcard(path, (size_t)(base - path))) {
		perr(ps, at, t.len,
		     "wildcards are allowed only in the file name of an include, not in its "
		     "directories");
		goto out;
	}
	if (!has_wildcard(base, strlen(base))) {
		if (read_policy_file(ps->rd, ps->p, ps->d, path, &at, span_of(t.len),
				     RF_MISSING_OK) < 0)
			perr(ps, at, t.len, "cannot include \"%s\": no such file", path);
		goto out;
	}
	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	read_policy_dir_files(ps->rd, ps->p, ps->d, dir, base, &at, span_of(t.len), 0);
out:
	free(dir);
	free(path);
}

static bool parse_main_file(struct reader *rd, struct policy *p, struct diag *d, const char *path)
{
	unsigned int errors = d->errors;

	read_policy_file(rd, p, d, path, NULL, 0, 0);
	return d->errors == errors;
}

bool policy_parse_file(struct policy *p, struct diag *d, const char *path)
{
	struct reader rd;
	bool ok;

	memset(&rd, 0, sizeof(rd));
	ok = parse_main_file(&rd, p, d, path);
	reader_free(&rd);
	return ok;
}

bool policy_parse_dir(struct policy *p, struct diag *d, const char *dir)
{
	unsigned int errors = d->errors;
	struct reader rd;
	char *path;
	int fd, r;

	memset(&rd, 0, sizeof(rd));
	r = open_policy_dir(d, dir, &fd);
	if (r < 0) {
		struct loc l = {dir, 0, 0};

		diag_error(d, &l, 0, "cannot open: %s", strerror(ENOENT));
	}
	if (r <= 0)
		return false;
	close(fd);
	path = path_join(dir, POLICY_DIR_MAIN);
	parse_main_file(&rd, p, d, path);
	free(path);
	path = path_join(dir, POLICY_DIR_DROPINS);
	rd.dropins = path;
	read_policy_dir_files(&rd, p, d, path, POLICY_DROPIN_PATTERN, NULL, 0, RF_SKIP_SEEN);
	free(path);
	reader_free(&rd);
	return d->errors == errors;
}

/* A jails.d beside it that has drop-in files, none of which was read. */
static bool dropins_left_out(const struct policy *p, const char *dropins)
{
	size_t n = strlen(dropins), i;
	struct dirent *e;
	bool found = false;
	DIR *dh;

	for (i = 0; i < p->nfiles; i++)
		if (!strncmp(p->files[i], dropins, n) && p->files[i][n] == '/')
			return false;
	dh = opendir(dropins);
	if (!dh)
		return false;
	while (!found && (e = readdir(dh)))
		found = !fnmatch(POLICY_DROPIN_PATTERN, e->d_name, FNM_PERIOD);
	closedir(dh);
	return found;
}

bool policy_parse_path(struct policy *p, struct diag *d, const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct stat st;
	char *dir, *dropins;
	bool ok;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return policy_parse_dir(p, d, path);
	ok = policy_parse_file(p, d, path);
	if (!ok || strcmp(base, POLICY_DIR_MAIN))
		return ok;
	/*
	 * "jailfw apply /etc/jailfw/jailfw.conf" reads that file alone, while
	 * the directory or a bare "jailfw apply" reads its jails.d as well:
	 * say so, rather than tear down the drop-ins' jails unannounced.
	 */
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	dropins = path_join(dir, POLICY_DIR_DROPINS);
	if (dropins_left_out(p, dropins)) {
		struct loc l = {p->files[0], 0, 0};

		diag_warning(d, &l, 0, "%s is not read: the policy named is this file alone",
			     dropins);
		diag_note(d, &l, 0,
			  "name the directory (%s) to read %s with %s, or include them in this "
			  "file (include %s/%s)",
			  dir, POLICY_DIR_MAIN, POLICY_DIR_DROPINS, POLICY_DIR_DROPINS,
			  POLICY_DROPIN_PATTERN);
	}
	free(dropins);
	free(dir);
	return ok;
}

static bool has_template(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->ntmpls; i++)
		if (!strcmp(p->tmpls[i].name, name))
			return true;
	return false;
}

bool policy_load_templates(struct policy *p, struct diag *d, const char *const *dirs, size_t ndirs)
{
	unsigned int errors = d->errors;
	char **tried = NULL;
	size_t ntried = 0, i, k, t, dir;

	for (i = 0; i < p->njails; i++) {
		for (k = 0; k < p->jails[i].nuses; k++) {
			const char *name = p->jails[i].uses[k].name;
			bool seen = false;

			/*
			 * The parser let only [a-z0-9][a-z0-9_-]* through, so
			 * the name cannot climb out of the directory; check
			 * again, a hand-built model may not have been parsed.
			 */
			if (has_template(p, name) || !name_chars_ok(name, strlen(name)))
				continue;
			for (t = 0; t < ntried; t++)
				seen = seen || !strcmp(tried[t], name);
			if (seen)
				continue;
			*VEC_PUSH(tried, ntried) = xstrdup(name);
			for (dir = 0; dir < ndirs; dir++) {
				char *path = xasprintf("%s/%s.conf", dirs[dir], name);
				const char *fname;
				char *text = NULL;
				struct stat st;
				size_t len = 0;
				int r = parse_read_file(p, d, path, true, &fname, &text, &len, &st);

				free(path);
				if (r < 0)
					continue;
				if (r > 0) {
					parse_text(p, d, fname, text, len, true, NULL);
					free(text);
					if (!has_template(p, name)) {
						struct loc l = {fname, 0, 0};

						diag_error(d, &l, 0,
							   "does not define template \"%s\"", name);
					}
				}
				/* The first file found wins, even a bad one. */
				break;
			}
		}
	}
	for (t = 0; t < ntried; t++)
		free(tried[t]);
	free(tried);
	return d->errors == errors;
}
