// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading rendered text through libnftables.
 *
 * One nft_ctx per call, set up the same way every time: output and errors
 * buffered (libnftables never writes to the user's terminal; its messages
 * are parsed and re-emitted through our diagnostics), no include paths (the
 * rendered text never includes anything, and a stray "include" must not
 * read files), dry run for check.  libnftables 1.0.6 has no input flags, so
 * NFT_CTX_INPUT_NO_DNS cannot be set; the renderer prints every address
 * and port numerically, so no name is ever resolved, and uids are kept
 * from the user database by the getpwnam() below.
 *
 * The whole text goes in one nft_run_cmd_*() call and so in one netlink
 * batch: the kernel commits all of it or none of it.  That is what makes
 * "table inet T {}; delete table inet T; table inet T {...}" an atomic
 * replace that leaves the previous table in force when anything is refused.
 */
#include "nftload.h"
#include "nftinfo.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhook.h"
#include "util.h"

/*
 * What a forked child of nftload does (run_in_child): one of two jobs,
 * each with fields that mean one thing.
 *
 * A load here, in jailfw's own network namespace (nftload_run): commit
 * the text, or only validate it.
 */
struct load_job {
	bool dry_run; /* the kernel checks the transaction, then aborts it */
};

/*
 * A load in a throwaway user+network namespace (nftload_run_isolated*):
 * what it is for decides whether the text is committed there.
 */
enum sandbox_want {
	SANDBOX_VALIDATE, /* a dry run; nothing comes back */
	SANDBOX_LISTING,  /* commit, then the table listed as .how says */
	SANDBOX_READBACK, /* commit, then what .readback returns */
};

struct sandbox_job {
	enum sandbox_want want;
	enum nftload_listing how;   /* SANDBOX_LISTING */
	nftload_readback *readback; /* SANDBOX_READBACK */
};

struct child_job {
	const struct policy *p;
	const char *text;
	bool sandbox; /* which of the two: */
	union {
		struct load_job load;
		struct sandbox_job sb;
	};
};

/* One error found in libnftables' error text. */
struct nft_err {
	unsigned int line; /* line of the loaded text; 0: no location */
	char *msg;
};

/*
 * libnftables reads every uid in the text as a user name first, and only
 * when getpwnam() finds no such user as a number (uid_type_parse() in nft
 * 1.0.6).  Two surprises follow:
 *
 * - a user *named* "20001" turns the element for uid 20001 into that
 *   user's uid: the map confines another account and leaves uid 20001
 *   free.  jailfw has resolved every user itself and prints uids as
 *   numbers, so a number must stay a number;
 * - every uid costs an NSS lookup, and with "files" each lookup reopens
 *   and rereads /etc/passwd (seven system calls).  5000 uid jails with
 *   two allow rules each are 20000 lookups: a third of the load time.
 *
 * libnftables has no flag to turn this off.  So while it parses jailfw's
 * text (run_text() below), getpwnam() answers "no such user" without
 * asking NSS.  This definition interposes on the C library's for the whole
 * program: the dynamic linker looks symbols up in the executable first,
 * and the linker exports this one because libnftables refers to it.
 * Outside a load it hands every call to the next definition (the C
 * library's, or a sanitizer's interceptor in front of it).
 */
static bool uid_names_off;

struct passwd *getpwnam(const char *name)
{
	static struct passwd *(*next)(const char *);

	if (uid_names_off) {
		errno = 0;
		return NULL;
	}
	if (!next)
		next = (struct passwd * (*)(const char *)) dlsym(RTLD_NEXT, "getpwnam");
	if (!next) {
		errno = ENOSYS;
		return NULL;
	}
	return next(name);
}

/*
 * Before it evaluates a command, libnftables 1.0.6 fills a cache of what
 * the kernel holds, and for "add rule", "add element" and any "delete"
 * the cache holds every chain of every table: a dump of all of them,
 * each decoded (evaluate_cache_add/del in its cache.c), whatever the
 * command touches.  At 5000 jails that is 5000 chains, for a delta of
 * a few objects.  The delta's commands use none of it: a chain is
 * looked up in that cache only to insert at a rule's position, to list,
 * or to rename, and the delta does none of these; deleting a chain
 * drops it from the cache only if it is there.  What the delta relies
 * on, the table and its sets, is dumped as before.  So while a delta
 * loads (nftload_run_delta), the chain dump asks for the chains of
 * NFPROTO_DECNET, a family nf_tables has no table of (the kernel refuses
 * to make one since Linux 6.8), and comes back empty.  Like getpwnam()
 * above, this definition interposes on libnftnl's for the whole
 * program, and hands every other call on unchanged.
 */
static bool chain_dump_off;

struct nlmsghdr *nftnl_nlmsg_build_hdr(char *buf, uint16_t type, uint16_t family, uint16_t flags,
				       uint32_t seq)
{
	static struct nlmsghdr *(*next)(char *, uint16_t, uint16_t, uint16_t, uint32_t);

	if (!next)
		next = (struct nlmsghdr * (*)(char *, uint16_t, uint16_t, uint16_t, uint32_t))
		    dlsym(RTLD_NEXT, "nftnl_nlmsg_build_hdr");
	if (!next) {
		fputs("jailfw: libnftnl has no nftnl_nlmsg_build_hdr\n", stderr);
		abort();
	}
	if (chain_dump_off && type == NFT_MSG_GETCHAIN && (flags & NLM_F_DUMP))
		family = NFPROTO_DECNET;
	return next(buf, type, family, flags, seq);
}

static struct nft_ctx *ctx_new(bool dry_run, unsigned int output_flags)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!nft)
		return NULL;
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		nft_ctx_free(nft);
		return NULL;
	}
	nft_ctx_clear_include_paths(nft);
	nft_ctx_set_dry_run(nft, dry_run);
	nft_ctx_output_set_flags(nft, output_flags);
	return nft;
}

static bool nftload_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * Every command goes through here, never straight to
 * nft_run_cmd_from_buffer(), for two surprises of libnftables 1.0.6:
 *
 * - errors in a buffer carry no line number, and quote the buffer's first
 *   line whatever line the error is on (erec_print() treats a buffer as a
 *   one-line command).  Read from a file, every error starts
 *   "FILE:LINE:COL-COL:" with the right line, and the line is what leads
 *   back to the policy (each rendered rule's comment names its line);
 * - on EPERM, the buffer path prints "Operation not permitted (you must be
 *   root)" straight to stderr, past the error buffer.
 *
 * So the text goes into an anonymous memfd loaded through its /proc/self/fd
 * path: nothing is written to any filesystem, nothing is left behind.
 * Without memfd or /proc we fall back to the buffer and lose only the
 * mapping, not the load.
 */
static int run_text(struct nft_ctx *nft, const char *text)
{
	char path[64];
	int fd, rc;

	fd = memfd_create("jailfw-ruleset", MFD_CLOEXEC);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!nftload_write_all(fd, text, strlen(text)) || access(path, R_OK)) {
			close(fd);
			fd = -1;
		}
	}
	uid_names_off = true;
	if (fd >= 0)
		rc = nft_run_cmd_from_filename(nft, path);
	else
		rc = nft_run_cmd_from_buffer(nft, text);
	uid_names_off = false;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Skip the "FILE:" of "FILE:LINE:COL-COL" and parse LINE; 0 if not so. */
static unsigned int header_line(const char *s, size_t n)
{
	const char *col, *line, *end = s + n;
	unsigned long v;
	char *stop;

	col = memrchr(s, ':', n);
	if (!col || col == s)
		return 0;
	line = memrchr(s, ':', (size_t)(col - s));
	if (!line)
		return 0;
	line++;
	if (line == col || !strchr("0123456789", *line))
		return 0;
	v = strtoul(line, &stop, 10);
	if (stop != col || v == 0 || v > 0xffffffffUL)
		return 0;
	/* COL-COL: digits and one dash, nothing else. */
	for (col++; col < end; col++)
		if (!strchr("0123456789-", *col))
			return 0;
	return (unsigned int)v;
}

/* A message fit to quote: no control characters, no trailing blanks. */
static char *clean_msg(const char *s, size_t n)
{
	char *m;
	size_t i;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n > 300)
		n = 300;
	m = xstrndup(s, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x20 || m[i] == 0x7f)
			m[i] = '?';
	return m;
}

/*
 * libnftables' error text, one error at a time:
 *
 *   /proc/self/fd/4:7:24-29: Error: Could not process rule: No such file or directory
 *   <the offending line>
 *   <carets>
 *   netlink: Error: cache initialization failed: Operation not permitted
 *   Error: syntax error, unexpected comment          (buffer input: no location)
 *
 * A located error is followed by the quoted line and the carets, which are
 * skipped unread: the quoted line is rendered text and may contain anything
 * a comment holds.
 */
static size_t parse_errors(const char *errbuf, struct nft_err **out)
{
	static const char tag[] = ": Error: ";
	struct nft_err *errs = NULL;
	const char *p = errbuf ? errbuf : "";
	unsigned int skip = 0;
	size_t n = 0;

	while (*p) {
		const char *eol = strchrnul(p, '\n');
		size_t len = (size_t)(eol - p);
		const char *hit = memmem(p, len, tag, sizeof(tag) - 1);
		struct nft_err *e;

		if (skip) {
			skip--;
		} else if (hit || !strncmp(p, "Error: ", 7)) {
			const char *msg = hit ? hit + sizeof(tag) - 1 : p + 7;

			e = VEC_PUSH(errs, n);
			e->line = hit ? header_line(p, (size_t)(hit - p)) : 0;
			e->msg = clean_msg(msg, (size_t)(eol - msg));
			if (e->line)
				skip = 2;
		}
		p = *eol ? eol + 1 : eol;
	}
	*out = errs;
	return n;
}

static void free_errors(struct nft_err *errs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(errs[i].msg);
	free(errs);
}

/*
 * libnftables returns -1 and no errno; its messages end in strerror() of
 * what netlink said.  Only the errnos that change what we do are told
 * apart: absent object, missing privilege, no nf_tables in this kernel.
 */
static int msg_errno(const char *msg)
{
	static const int known[] = {ENOENT,	  EPERM,      EACCES, EPROTONOSUPPORT,
				    EAFNOSUPPORT, EOPNOTSUPP, EEXIST, EBUSY,
				    ENOMEM,	  ENOBUFS,    ENOSPC};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (strstr(msg, strerror(known[i])))
			return known[i];
	return 0;
}

/* The errno of the first error of errbuf (0 if there is none). */
static int first_errno(const char *errbuf)
{
	struct nft_err *errs;
	size_t n = parse_errors(errbuf, &errs);
	int e = n ? msg_errno(errs[0].msg) : 0;

	free_errors(errs, n);
	return e;
}

/* Line number line (1-based) of text as [*start, *start + *len). */
static bool text_line(const char *text, unsigned int line, const char **start, size_t *len)
{
	const char *p = text;

	while (--line) {
		p = strchr(p, '\n');
		if (!p)
			return false;
		p++;
	}
	*start = p;
	*len = (size_t)(strchrnul(p, '\n') - p);
	return true;
}

/*
 * The renderer writes file names into comments with every character outside
 * its safe set replaced by '_' (render.c, safe_char); compare the same way.
 */
static bool comment_char_eq(char c, char from_file)
{
	bool safe = (from_file >= 'a' && from_file <= 'z') ||
		    (from_file >= 'A' && from_file <= 'Z') ||
		    (from_file >= '0' && from_file <= '9') || strchr(" _-.:,/+@=()", from_file);

	return c == (safe ? from_file : '_');
}

/*
 * Match "FILE:LINE" at s (length n) against the files the policy was read
 * from, named as in the comments (policy_file_labels); the longest name
 * wins, so "a.conf" never shadows "aa.conf".  Returns the characters
 * consumed, 0 if nothing matched.
 */
static size_t match_loc(const struct policy *p, char *const *labels, const char *s, size_t n,
			struct loc *loc)
{
	size_t best = 0, used = 0, i;

	for (i = 0; i < p->nfiles; i++) {
		const char *b = labels[i];
		size_t bl = strlen(b), k, d;
		unsigned long line = 0;

		if (bl <= best || bl + 2 > n || s[bl] != ':')
			continue;
		for (k = 0; k < bl && comment_char_eq(s[k], b[k]); k++)
			;
		if (k < bl)
			continue;
		for (d = bl + 1; d < n && s[d] >= '0' && s[d] <= '9' && line < 100000000; d++)
			line = line * 10 + (unsigned long)(s[d] - '0');
		if (d == bl + 1 || line == 0)
			continue;
		best = bl;
		used = d;
		loc->file = p->files[i];
		loc->line = (unsigned int)line;
		loc->col = 1;
	}
	return used;
}

/*
 * A rendered line's comment names the policy line it came from:
 *   comment "policy.conf:12"
 *   comment "policy.conf:13: anti-spoofing"
 *   comment "ntp.conf:2 via policy.conf:9"      (a template's rule, used at :9)
 * loc gets the first place, via the "via" one (line 0 if none).
 */
static bool comment_locs(const struct policy *p, char *const *labels, const char *s, size_t n,
			 struct loc *loc, struct loc *via)
{
	static const char tag[] = "comment \"";
	static const char via_tag[] = " via ";
	const char *c = memmem(s, n, tag, sizeof(tag) - 1), *end;
	size_t used;

	memset(via, 0, sizeof(*via));
	if (!c)
		return false;
	c += sizeof(tag) - 1;
	end = memchr(c, '"', (size_t)(s + n - c));
	if (!end)
		end = s + n;
	used = match_loc(p, labels, c, (size_t)(end - c), loc);
	if (!used)
		return false;
	c += used;
	if ((size_t)(end - c) > sizeof(via_tag) - 1 && !memcmp(c, via_tag, sizeof(via_tag) - 1)) {
		c += sizeof(via_tag) - 1;
		if (!match_loc(p, labels, c, (size_t)(end - c), via))
			memset(via, 0, sizeof(*via));
	}
	return true;
}

/*
 * Point at the statement on loc's line: its first column and, for the
 * underline, its length up to a trailing comment.  Needs the file's text,
 * which the parser registered with d; without it, column 1, no underline.
 */
static unsigned int statement_span(const struct diag *d, struct loc *loc)
{
	const struct diag_src *src = NULL;
	size_t i, start = 0, eol, last;
	unsigned int line;

	for (i = d->nsrcs; i-- > 0;) {
		if (d->srcs[i].file == loc->file || !strcmp(d->srcs[i].file, loc->file)) {
			src = &d->srcs[i];
			break;
		}
	}
	if (!src)
		return 0;
	for (line = 1; line < loc->line; line++) {
		while (start < src->len && src->text[start] != '\n')
			start++;
		if (start == src->len)
			return 0;
		start++;
	}
	for (eol = start; eol < src->len && src->text[eol] != '\n'; eol++)
		;
	while (start < eol && (src->text[start] == ' ' || src->text[start] == '\t'))
		start++;
	for (i = start; i > 0 && src->text[i - 1] != '\n'; i--)
		;
	loc->col = (unsigned int)(start - i) + 1;
	for (last = start; last < eol && src->text[last] != '#'; last++)
		;
	while (last > start && strchr(" \t;\r", src->text[last - 1]))
		last--;
	return (unsigned int)(last - start);
}

unsigned int nftload_report_errors(const struct policy *p, const char *text, const char *errbuf,
				   struct diag *d)
{
	char **labels = policy_file_labels(p);
	struct loc prev = {0};
	const char *prev_msg = NULL;
	unsigned int reported = 0;
	struct nft_err *errs;
	size_t n, i;

	n = parse_errors(errbuf, &errs);
	for (i = 0; i < n; i++) {
		struct loc loc, via;
		unsigned int span;
		const char *s;
		size_t len;

		if (!errs[i].line || !text || !text_line(text, errs[i].line, &s, &len) ||
		    !comment_locs(p, labels, s, len, &loc, &via))
			continue;
		/* One rule of the policy renders to many lines: say it once. */
		if (prev_msg && prev.file == loc.file && prev.line == loc.line &&
		    !strcmp(prev_msg, errs[i].msg))
			continue;
		span = statement_span(d, &loc);
		diag_error(d, &loc, span, "the kernel refused the rule made from this line: %s",
			   errs[i].msg);
		if (via.line) {
			span = statement_span(d, &via);
			diag_note(d, &via, span, "the template is used here");
		}
		prev = loc;
		prev_msg = errs[i].msg;
		reported++;
	}
	if (!reported) {
		if (n && msg_errno(errs[0].msg) == EPERM)
			diag_error(d, NULL, 0,
				   "nftables refused access: %s (CAP_NET_ADMIN over this network "
				   "namespace is needed)",
				   errs[0].msg);
		else if (n)
			diag_error(d, NULL, 0, "the kernel refused the ruleset: %s", errs[0].msg);
		else
			diag_error(d, NULL, 0, "the kernel refused the ruleset (no reason given)");
		if (n && errs[0].line)
			diag_note(d, NULL, 0,
				  "at line %u of the ruleset that \"jailfw render\" prints",
				  errs[0].line);
		reported++;
	}
	free_errors(errs, n);
	policy_file_labels_free(p, labels);
	return reported;
}

/*
 * Table names go into command text, so they are checked here too, not only
 * by check.c: a letter, then letters, digits, '_' or '-'.
 */
bool nftload_table_name_ok(const char *t)
{
	size_t i;

	if (!t || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return false;
	for (i = 1; t[i]; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-'))
			return false;
	return i <= 64;
}

char *nftload_handover_name(const char *table)
{
	return xasprintf("%s" NFTLOAD_HANDOVER_SUFFIX, table);
}

static bool is_handover(const char *table)
{
	size_t n = strlen(table), k = strlen(NFTLOAD_HANDOVER_SUFFIX);

	return n > k && !strcmp(table + n - k, NFTLOAD_HANDOVER_SUFFIX);
}

/*
 * The context of the last delta that committed, freed by
 * nftload_release(): closing its socket right after the commit would
 * wait for the kernel's clean-up of what the commit deleted (an RCU grace
 * period, nftinfo.c says more), which passes while apply goes on.
 */
static struct nft_ctx *delta_ctx;

void nftload_release(void)
{
	if (delta_ctx)
		nft_ctx_free(delta_ctx);
	delta_ctx = NULL;
}

/*
 * leave: the process exits right after (run_child), so libnftables' context
 * is left for the kernel to reclaim with the process instead of freed.
 */
static int run_ruleset(const struct policy *p, const char *text, bool dry_run, bool delta,
		       bool leave, struct diag *d)
{
	struct nft_ctx *nft = NULL;
	char *faulty = NULL, *errbuf = NULL;
	int ret = 0, e;

	/*
	 * Test-only (JAILFW_TEST_FAULT=nft-commit, see testhook.h): append,
	 * in the same transaction, a rule for a chain that does not exist.
	 * The kernel refuses the whole batch, which lets the tests prove that
	 * a refused ruleset leaves the previous table exactly as it was.
	 * nft-commit-replace does it only to a load into jailfw's own table,
	 * not into the handover table: a replace fails after the handover
	 * table is in, and the tests prove that it goes again.
	 */
	if (testhook_fault("nft-commit") ||
	    (testhook_fault("nft-commit-replace") && !is_handover(policy_table(p))))
		text = faulty =
		    xasprintf("%sadd rule inet %s no_such_chain counter\n", text, policy_table(p));
	nft = ctx_new(dry_run, 0);
	if (!nft) {
		diag_error(d, NULL, 0, "cannot set up libnftables: %s", strerror(ENOMEM));
		ret = -ENOMEM;
		goto out;
	}
	chain_dump_off = delta;
	ret = run_text(nft, text);
	chain_dump_off = false;
	if (ret == 0)
		goto out;
	/*
	 * Read once: nft_ctx_get_error_buffer() hands out the text and
	 * rewinds the buffer, so a second call finds it empty.
	 */
	errbuf = xstrdup(nft_ctx_get_error_buffer(nft));
	e = first_errno(errbuf);
	if (e == EPERM || e == EACCES)
		ret = -EPERM;
	else if (e == EPROTONOSUPPORT || e == EAFNOSUPPORT)
		ret = -EPROTONOSUPPORT;
	else
		ret = -EINVAL;
	nftload_report_errors(p, text, errbuf, d);
out:
	if (nft && delta && ret == 0 && !dry_run) {
		nftload_release();
		delta_ctx = nft;
	} else if (nft && !leave) {
		nft_ctx_free(nft);
	}
	free(errbuf);
	free(faulty);
	return ret;
}

static int run_in_child(const struct child_job *j, char **listing, struct diag *d);

/*
 * A whole ruleset is loaded in a forked child (run_child), not here: what
 * libnftables builds from it (its cache of the table just committed, every
 * rule parsed and evaluated) is tens of thousands of small blocks, and
 * freeing them one by one cost more than a tenth of the load at 5000 jails
 * (nft_ctx_free(): about 35 ms of CPU in jailfw, where glibc merges them
 * with the free blocks around them, against 13 ms in nft).  The child
 * exits without freeing them.  The load is the same one transaction; the
 * child's result and messages come back through a pipe.
 */
int nftload_run(const struct policy *p, const char *text, bool dry_run, struct diag *d)
{
	struct child_job j = {.p = p, .text = text, .load = {.dry_run = dry_run}};

	return run_in_child(&j, NULL, d);
}

/* A delta is a few objects: the fork would cost more than it saves. */
int nftload_run_delta(const struct policy *p, const char *script, struct diag *d)
{
	return run_ruleset(p, script, false, true, false, d);
}

/*
 * The nft command cmd's output into *out (malloc'd); JSON or terse text.
 * On failure *err gets libnftables' first error message and -errno is
 * returned (-ENOENT: no such table).
 */
static int list_cmd(const char *cmd, unsigned int flags, char **out, char **err)
{
	struct nft_ctx *nft;
	struct nft_err *errs;
	size_t n;
	int ret = 0;

	*out = NULL;
	*err = NULL;
	nft = ctx_new(false, flags);
	if (!nft) {
		*err = xstrdup(strerror(ENOMEM));
		return -ENOMEM;
	}
	if (run_text(nft, cmd) == 0) {
		*out = xstrdup(nft_ctx_get_output_buffer(nft));
		goto out;
	}
	n = parse_errors(nft_ctx_get_error_buffer(nft), &errs);
	ret = n ? msg_errno(errs[0].msg) : 0;
	ret = ret ? -ret : -EIO;
	*err = n ? xstrdup(errs[0].msg) : xstrdup("no reason given");
	free_errors(errs, n);
out:
	nft_ctx_free(nft);
	return ret;
}

/*
 * jailfw's tables of that name: "list table inet NAME", followed by the
 * arp table's listing when there is one (render_netns.c).  JSON lists the
 * inet table alone (two documents would make no JSON): only the throwaway
 * namespace lists both in JSON, where they are its whole ruleset.
 */
static int list_table(const char *table, unsigned int flags, char **out, char **err)
{
	char *cmd = xasprintf("list table inet %s", table), *arp = NULL, *comment = NULL;
	int ret = list_cmd(cmd, flags, out, err);

	free(cmd);
	if (ret || (flags & NFT_CTX_OUTPUT_JSON) ||
	    nftinfo_family_table_comment(NFPROTO_ARP, table, &comment))
		return ret;
	free(comment);
	cmd = xasprintf("list table arp %s", table);
	ret = list_cmd(cmd, flags, &arp, err);
	free(cmd);
	if (ret) {
		free(*out);
		*out = NULL;
		return ret;
	}
	cmd = xasprintf("%s%s", *out, arp);
	free(*out);
	free(arp);
	*out = cmd;
	return 0;
}

static unsigned int listing_flags(enum nftload_listing how)
{
	switch (how) {
	case NFTLOAD_LIST_JSON:
		return NFT_CTX_OUTPUT_JSON;
	case NFTLOAD_LIST_STATELESS:
		return NFT_CTX_OUTPUT_STATELESS;
	case NFTLOAD_LIST_TERSE:
		break;
	}
	return NFT_CTX_OUTPUT_TERSE;
}

int nftload_list_table(const char *table, enum nftload_listing how, char **out, struct diag *d)
{
	char *err = NULL;
	int ret;

	*out = NULL;
	if (!nftload_table_name_ok(table)) {
		diag_error(d, NULL, 0, "invalid table name \"%s\"", table);
		return -EINVAL;
	}
	ret = list_table(table, listing_flags(how), out, &err);
	if (ret)
		diag_error(d, NULL, 0, "cannot list table inet %s: %s", table, err);
	free(err);
	return ret;
}

int nftload_table_exists(const char *table)
{
	char *comment = NULL;
	int ret;

	if (!nftload_table_name_ok(table))
		return -EINVAL;
	ret = nftinfo_table_comment(table, &comment);
	free(comment);
	if (ret == -ENOENT)
		return 0;
	return ret ? ret : 1;
}

int nftload_delete_table(const char *table, struct diag *d)
{
	struct nft_ctx *nft = NULL;
	char *cmd = NULL;
	struct nft_err *errs;
	size_t n;
	int ret = 0;

	if (!nftload_table_name_ok(table)) {
		diag_error(d, NULL, 0, "invalid table name \"%s\"", table);
		return -EINVAL;
	}
	nft = ctx_new(false, 0);
	if (!nft) {
		diag_error(d, NULL, 0, "cannot set up libnftables: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	/*
	 * Declaring the table first makes the delete idempotent without a
	 * look-then-delete race: in one transaction, an absent table is
	 * created and deleted (no visible effect), a present one deleted.
	 * The arp table of the same name goes with it (render_netns.c).
	 */
	cmd = xasprintf("table inet %s {}\ndelete table inet %s\n"
			"table arp %s {}\ndelete table arp %s\n",
			table, table, table, table);
	if (run_text(nft, cmd) == 0)
		goto out;
	n = parse_errors(nft_ctx_get_error_buffer(nft), &errs);
	ret = n ? msg_errno(errs[0].msg) : 0;
	ret = ret ? -ret : -EIO;
	diag_error(d, NULL, 0, "cannot delete table inet %s: %s", table,
		   n ? errs[0].msg : "no reason given");
	free_errors(errs, n);
out:
	free(cmd);
	nft_ctx_free(nft);
	return ret;
}

/*
 * The throwaway namespace.
 *
 * nfnetlink checks CAP_NET_ADMIN against the user namespace that owns the
 * network namespace, not against the initial one.  A process that creates
 * a user namespace holds every capability in it, and a network namespace
 * created together with it is owned by it: so even an unprivileged user
 * can load rules there, into an empty netns that dies with the process.
 * That is how check dry-runs (the kernel validates a dry run as fully as a
 * commit, then aborts it: nothing less exercises the kernel's own checks)
 * and how render --json gets libnftables' JSON for a table.
 *
 * The id maps map only our own uid and gid to root inside, which is all an
 * unprivileged process may write; setgroups must be denied before gid_map
 * can be written (otherwise an unprivileged user could drop a group that
 * denies it access somewhere).  Where user namespaces are disabled but we
 * hold CAP_SYS_ADMIN, a plain new netns serves as well.
 *
 * The work runs in a forked child, never in this process: unsharing here
 * would leave jailfw in the throwaway netns for the rest of the run.
 */
static int nftload_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (!nftload_write_all(fd, text, strlen(text)))
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

static int nftload_enter_sandbox(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int ret, err;

	/*
	 * With CAP_SYS_ADMIN, a plain new netns keeps our real capabilities:
	 * inside a new user namespace CAP_NET_ADMIN no longer lets libnftables
	 * force its socket buffers past net.core.wmem_max, and a large
	 * ruleset's batch then fails with EMSGSIZE ("Message too long").
	 */
	if (unshare(CLONE_NEWNET) == 0)
		return 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
		/* Kernels before 3.19 have no setgroups file: nothing to deny. */
		ret = nftload_write_file("/proc/self/setgroups", "deny");
		if (ret && ret != -ENOENT)
			return ret;
		/*
		 * Root without CAP_SETFCAP (an emptied bounding set) may not
		 * map uid 0 (Linux 5.12: an unmapped root could otherwise
		 * write file capabilities valid outside).  The map is not
		 * needed: the creator of a user namespace holds every
		 * capability in it, mapped or not; nfnetlink asks nothing
		 * more of us than CAP_NET_ADMIN there.
		 */
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
		ret = nftload_write_file("/proc/self/uid_map", map);
		if (ret == -EPERM && uid == 0)
			ret = 0;
		if (ret)
			return ret;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
		return nftload_write_file("/proc/self/gid_map", map);
	}
	err = errno;
	if (unshare(CLONE_NEWNET) == 0)
		return 0;
	return -err;
}

/*
 * The load of a load_job, in the child.  The two test hook points bracket
 * the commit: a child killed at the first has committed nothing, one
 * killed at the second has committed and not said so (fault-load.sh).  The
 * handover table's load has points of its own, so that a test can pick
 * either load of a replace.
 */
static int child_load(const struct child_job *j, struct diag *d)
{
	bool handover = is_handover(policy_table(j->p));
	int ret;

	if (!j->load.dry_run)
		testhook_point(handover ? "handover-load-started" : "load-started");
	ret = run_ruleset(j->p, j->text, j->load.dry_run, false, true, d);
	if (!ret && !j->load.dry_run)
		testhook_point(handover ? "handover-load-committed" : "load-committed");
	return ret;
}

/* The work of a sandbox_job, in the child; *out: what goes back. */
static int child_sandbox(const struct child_job *j, char **out, struct diag *d)
{
	const struct sandbox_job *sb = &j->sb;
	const char *table = policy_table(j->p);
	char *err = NULL;
	int ret;

	ret = nftload_enter_sandbox();
	if (ret) {
		diag_error(d, NULL, 0, "cannot create a throwaway user and network namespace: %s",
			   strerror(-ret));
		diag_note(d, NULL, 0,
			  "without CAP_NET_ADMIN this needs unprivileged user namespaces "
			  "(user.max_user_namespaces > 0, kernel.unprivileged_userns_clone = 1)");
		return -EPERM;
	}
	ret = run_ruleset(j->p, j->text, sb->want == SANDBOX_VALIDATE, false, true, d);
	if (ret)
		return ret;
	switch (sb->want) {
	case SANDBOX_VALIDATE:
		break;
	case SANDBOX_READBACK:
		*out = sb->readback(table);
		if (!*out) {
			diag_error(d, NULL, 0, "cannot read table inet %s back", table);
			ret = -EIO;
		}
		break;
	case SANDBOX_LISTING:
		if (sb->how != NFTLOAD_LIST_JSON)
			return nftload_list_table(table, sb->how, out, d);
		/* Here jailfw's tables are the whole ruleset: one document. */
		ret = list_cmd("list ruleset", NFT_CTX_OUTPUT_JSON, out, &err);
		if (ret)
			diag_error(d, NULL, 0, "cannot list the ruleset: %s", err);
		free(err);
		break;
	}
	return ret;
}

/*
 * Child side: do the work, then send one message up the pipe and exit:
 *   "RET ERRORS DIAGLEN OUTLEN\n" DIAG-TEXT OUTPUT
 * The child's diag is a copy of the parent's (fork copied the registered
 * sources, so quoting works) writing into memory.
 *
 * A load in the parent's own namespace dies with the parent: a jailfw
 * killed during its load leaves no process behind to commit after it (or
 * to hold the lock, which the child inherited).  Should the parent die
 * before prctl() the check of getppid() catches it.
 */
static void run_child(const struct child_job *j, const struct diag *pd, pid_t parent, int fd)
{
	struct diag d = *pd;
	char *dtext = NULL, *out = NULL, *hdr;
	size_t dlen = 0;
	FILE *mem;
	int ret;

	if (!j->sandbox && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
		_exit(125);
	mem = open_memstream(&dtext, &dlen);
	if (!mem)
		_exit(127);
	d.out = mem;
	d.errors = d.warnings = 0;
	ret = j->sandbox ? child_sandbox(j, &out, &d) : child_load(j, &d);
	fclose(mem);
	hdr = xasprintf("%d %u %zu %zu\n", ret, d.errors, dlen, out ? strlen(out) : 0);
	if (!nftload_write_all(fd, hdr, strlen(hdr)) || !nftload_write_all(fd, dtext, dlen) ||
	    (out && !nftload_write_all(fd, out, strlen(out))))
		_exit(126);
	/* _exit: the parent owns stdio buffers and any atexit work. */
	_exit(0);
}

/* Run j in a forked child (run_child); *listing: its output, if wanted. */
static int run_in_child(const struct child_job *j, char **listing, struct diag *d)
{
	pid_t parent = getpid();
	struct strbuf buf;
	int pfd[2] = {-1, -1}, status, ret, cret;
	unsigned int cerrors;
	size_t dlen, olen;
	char chunk[4096];
	uint32_t gen = 0, gen_after;
	bool gen_known = false;
	pid_t pid;
	int hdr_len = 0;

	if (listing)
		*listing = NULL;
	/*
	 * The generation before a load here: should the child die without
	 * a word, an unchanged one proves it committed nothing (the kernel
	 * bumps it with every commit, of anyone's).
	 */
	if (!j->sandbox && !j->load.dry_run)
		gen_known = nftinfo_genid(&gen) == 0;
	sb_init(&buf);
	/* Whatever stdio holds would be written twice, once per process. */
	fflush(NULL);
	if (pipe2(pfd, O_CLOEXEC)) {
		ret = -errno;
		diag_error(d, NULL, 0, "cannot create a pipe: %s", strerror(-ret));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		diag_error(d, NULL, 0, "cannot fork: %s", strerror(-ret));
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		run_child(j, d, parent, pfd[1]);
	}
	close(pfd[1]);
	pfd[1] = -1;
	for (;;) {
		ssize_t n = read(pfd[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_printf(&buf, "%.*s", (int)n, chunk);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (sscanf(buf.s, "%d %u %zu %zu\n%n", &cret, &cerrors, &dlen, &olen, &hdr_len) != 4 ||
	    !hdr_len || (size_t)hdr_len + dlen + olen != buf.len) {
		diag_error(d, NULL, 0, "the %s process failed (%s %d)",
			   j->sandbox ? "throwaway namespace" : "libnftables",
			   WIFSIGNALED(status) ? "signal" : "exit status",
			   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		ret = -ECHILD;
		if (j->sandbox || j->load.dry_run)
			goto out;
		if (gen_known && nftinfo_genid(&gen_after) == 0 && gen_after == gen) {
			diag_note(d, NULL, 0,
				  "nothing was committed (the ruleset generation is unchanged)");
			goto out;
		}
		/* It may have died between the commit and its report. */
		diag_note(d, NULL, 0,
			  "whether table inet %s was committed is not known: apply again",
			  policy_table(j->p));
		ret = NFTLOAD_COMMIT_UNKNOWN;
		goto out;
	}
	fwrite(buf.s + hdr_len, 1, dlen, d->out);
	d->errors += cerrors;
	ret = cret;
	if (!ret && listing)
		*listing = xstrndup(buf.s + hdr_len + dlen, olen);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	sb_free(&buf);
	return ret;
}

int nftload_run_isolated(const struct policy *p, const char *text, enum nftload_listing how,
			 char **listing, struct diag *d)
{
	struct child_job j = {
	    .p = p,
	    .text = text,
	    .sandbox = true,
	    .sb = {.want = listing ? SANDBOX_LISTING : SANDBOX_VALIDATE, .how = how}};

	return run_in_child(&j, listing, d);
}

int nftload_run_isolated_readback(const struct policy *p, const char *text,
				  nftload_readback *readback, char **out, struct diag *d)
{
	struct child_job j = {.p = p,
			      .text = text,
			      .sandbox = true,
			      .sb = {.want = SANDBOX_READBACK, .readback = readback}};

	return run_in_child(&j, out, d);
}

static int family_table_state(uint32_t family, const char *table, struct diag *d)
{
	static const char mark[] = "managed by jailfw";
	char *comment = NULL;
	int ret;

	/* The renderer starts every table's comment with the mark. */
	ret = nftinfo_family_table_comment(family, table, &comment);
	if (ret == -ENOENT)
		ret = NFTLOAD_TABLE_ABSENT;
	else if (ret)
		diag_error(d, NULL, 0, "cannot read table %s %s: %s",
			   family == NFPROTO_ARP ? "arp" : "inet", table, strerror(-ret));
	else
		ret = strncmp(comment, mark, sizeof(mark) - 1) ? NFTLOAD_TABLE_FOREIGN
							       : NFTLOAD_TABLE_OURS;
	free(comment);
	return ret;
}

int nftload_table_state(const char *table, struct diag *d)
{
	int inet, arp;

	if (!nftload_table_name_ok(table)) {
		diag_error(d, NULL, 0, "invalid table name \"%s\"", table);
		return -EINVAL;
	}
	inet = family_table_state(NFPROTO_INET, table, d);
	if (inet < 0)
		return inet;
	arp = family_table_state(NFPROTO_ARP, table, d);
	if (arp < 0)
		return arp;
	/*
	 * jailfw replaces and deletes both at once: either being foreign
	 * stops it.  The inet table says whether jailfw's rules are in
	 * force; an arp table left alone goes with the next replace or down.
	 */
	if (inet == NFTLOAD_TABLE_FOREIGN || arp == NFTLOAD_TABLE_FOREIGN)
		return NFTLOAD_TABLE_FOREIGN;
	return inet;
}
