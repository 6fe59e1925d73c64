// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz jailfw monitor's reading of nfnetlink_log messages: the bytes come
 * from the kernel, but what they describe (the logged packet, its addresses
 * and extension headers) was sent by whoever a jail talks to, and the
 * NFLOG group may be shared with another program's log rules.
 *
 * The first byte chooses how the rest is used, so that seeds of each kind
 * stay meaningful:
 *
 *   0  raw: a receive buffer, walked as monitor's dispatch() walks it
 *      (mnl_nlmsg_ok/mnl_nlmsg_next), every message to monitor_parse;
 *   1  payload: the nfgenmsg and attributes of one message, behind a valid
 *      nlmsghdr built here (the length the kernel would set);
 *   2  structured: a well-formed NFULNL_MSG_PACKET built with libmnl from
 *      a few fields and a packet, as the kernel lays it out, so that the
 *      IPv4/IPv6 and extension header parsers are reached at once.
 *
 * Every message is in a buffer of exactly its size rounded up to 4 (the
 * rest zeroed), so ASan sees any read past it.  Not the exact size: libmnl
 * walks attributes up to the *aligned* message length (its payload tail),
 * and the kernel's messages are aligned, so an unaligned nlmsg_len at the
 * very end of a buffer would be a report about libmnl, and monitor's
 * receive buffer (64 KiB) always has that slack.
 *
 * Each drop that parses is formatted (text and JSON) and fed to
 * --suggest's collector, whose output is printed at the end.  Invariants:
 * a parsed jail name is one render.c could have written, the two address
 * families agree, and every line printed is one line of printable ASCII
 * (JSON consumers and terminals read it).
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fuzz.h"
#include "monitor.h"
#include "util.h"

#define PACKET_TYPE (NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Text lines carry local time: the same everywhere, no tzfile. */
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* Input bytes consumed front to back; zeros once they run out. */
struct cursor {
	const uint8_t *p;
	size_t n;
};

static void take(struct cursor *c, void *out, size_t len)
{
	size_t k = len < c->n ? len : c->n;

	memset(out, 0, len);
	memcpy(out, c->p, k);
	c->p += k;
	c->n -= k;
}

static uint8_t take8(struct cursor *c)
{
	uint8_t v;

	take(c, &v, 1);
	return v;
}

static bool name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i && (c == '_' || c == '-'))
			continue;
		return false;
	}
	return i > 0 && i < MONITOR_JAIL_MAX;
}

/* The text that broke an invariant, escaped, before the abort. */
static void dump(const char *what, const char *s, size_t len)
{
	size_t i;

	fprintf(stderr, "%s (%zu bytes): \"", what, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputs("\"\n", stderr);
}

/*
 * Lines each ended by '\n', no control bytes below 0x20 but tabs.  Text
 * is printable ASCII; JSON may carry DEL and UTF-8 (jsonw keeps an
 * interface name's bytes, which may be those, and writes U+FFFD for
 * ill-formed UTF-8), so there each line must instead load as JSON:
 * jansson refuses ill-formed UTF-8 on load.
 */
static void assert_lines(const char *what, const char *s, size_t len, bool one_line, bool json)
{
	size_t i, lines = 0, start = 0;
	bool ok = strlen(s) == len && (len == 0 || s[len - 1] == '\n');

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n') {
			lines++;
			if (json) {
				json_t *v = json_loadb(s + start, i - start, JSON_DECODE_ANY, NULL);

				if (!v)
					ok = false;
				json_decref(v);
			}
			start = i + 1;
		} else if ((c < 0x20 && c != '\t') || (c >= 0x7f && !json)) {
			ok = false;
		}
	}
	if (one_line && lines != 1)
		ok = false;
	if (!ok)
		dump(what, s, len);
	FUZZ_ASSERT(ok);
}

/*
 * Fill the stack below us with 0x7f before each call that formats: a
 * local the code forgets to initialise then holds that, not whatever the
 * previous input left, so the bug shows on every run (as DEL bytes in the
 * output, or a read past a buffer that should have had its NUL).  This is
 * how the unchecked gmtime_r() in monitor.c's format_json was pinned down.
 */
static void __attribute__((noinline)) stack_poison(void)
{
	volatile unsigned char junk[16384];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = 0x7f;
}

static void check_drop(struct monitor_drop *d, struct monitor_suggest *sug, const char *in,
		       const char *out)
{
	struct strbuf sb;

	FUZZ_ASSERT(name_ok(d->jail));
	FUZZ_ASSERT(d->src.family == d->dst.family);
	FUZZ_ASSERT(d->src.family == AF_INET || d->src.family == AF_INET6);
	FUZZ_ASSERT(!(d->has_ports && d->has_icmp));
	FUZZ_ASSERT(!d->fragment || (!d->has_ports && !d->has_icmp));

	/* monitor_run fills these from if_indextoname(): any 15 bytes. */
	snprintf(d->in_name, sizeof(d->in_name), "%s", in);
	snprintf(d->out_name, sizeof(d->out_name), "%s", out);
	(void)monitor_drop_to_host(d);

	sb_init(&sb);
	stack_poison();
	monitor_format(d, false, &sb);
	assert_lines("monitor_format text", sb.s, sb.len, true, false);
	sb.len = 0;
	sb.s[0] = '\0';
	stack_poison();
	monitor_format(d, true, &sb);
	assert_lines("monitor_format json", sb.s, sb.len, true, true);
	FUZZ_ASSERT(sb.s[0] == '{' && sb.len >= 3 && sb.s[sb.len - 2] == '}');
	sb_free(&sb);
	monitor_suggest_add(sug, d);
}

/* A copy of len bytes in a buffer of their aligned size, zero padded. */
static void *copy_aligned(const void *data, size_t len)
{
	void *buf = calloc(1, MNL_ALIGN(len) ? MNL_ALIGN(len) : 4);

	FUZZ_ASSERT(buf);
	memcpy(buf, data, len);
	return buf;
}

static void parse_one(const void *msg, size_t len, struct monitor_suggest *sug, const char *in,
		      const char *out)
{
	struct nlmsghdr *nlh = copy_aligned(msg, len);
	struct monitor_drop d;

	if (monitor_parse(nlh, &d))
		check_drop(&d, sug, in, out);
	free(nlh);
}

/* 0: a receive buffer, as dispatch() in monitor.c walks it. */
static void fuzz_raw(const uint8_t *data, size_t size, struct monitor_suggest *sug)
{
	void *buf = copy_aligned(data, size);
	const struct nlmsghdr *nlh = buf;
	int n = size > INT32_MAX ? INT32_MAX : (int)size;
	struct monitor_drop d;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		/*
		 * libmnl 1.0.4's mnl_nlmsg_ok() compares (int)nlmsg_len with
		 * the bytes left, so a length of 2^31 or more passes and
		 * mnl_nlmsg_next() jumps gigabytes past the buffer.  Found by
		 * this harness; dispatch() in monitor.c has the same loop (a
		 * sender needs CAP_NET_ADMIN over the netns to write to the
		 * socket).  Stop there, as the kernel's NLMSG_OK() would, so
		 * that fuzzing goes on past it.
		 */
		if (nlh->nlmsg_len > (uint32_t)n)
			break;
		if (nlh->nlmsg_type != PACKET_TYPE)
			continue;
		if (monitor_parse(nlh, &d))
			check_drop(&d, sug, "", "");
	}
	free(buf);
}

/* 1: the input is the payload of one message with a valid header. */
static void fuzz_payload(const uint8_t *data, size_t size, struct monitor_suggest *sug)
{
	size_t len = MNL_NLMSG_HDRLEN + size;
	struct nlmsghdr *nlh = calloc(1, MNL_ALIGN(len));
	struct monitor_drop d;

	FUZZ_ASSERT(nlh);
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = PACKET_TYPE;
	memcpy((uint8_t *)nlh + MNL_NLMSG_HDRLEN, data, size);
	if (monitor_parse(nlh, &d))
		check_drop(&d, sug, "", "");
	free(nlh);
}

/*
 * 2: flags, hook, ifindexes, uid, gid, timestamp, the jail name (its
 * length first), two interface names, then the packet.  Flags say which
 * attributes are present and whether the prefix is jailfw's
 * "jailfw drop NAME: " or the name bytes as they are.
 */
enum {
	F_HOOK = 1 << 0,
	F_INDEV = 1 << 1,
	F_OUTDEV = 1 << 2,
	F_UID = 1 << 3,
	F_GID = 1 << 4,
	F_TIME = 1 << 5,
	F_RAWPREFIX = 1 << 6,
	F_NOPREFIX = 1 << 7,
};

static void fuzz_structured(const uint8_t *data, size_t size, struct monitor_suggest *sug)
{
	struct cursor c = {data, size};
	struct nfulnl_msg_packet_hdr ph;
	struct nfulnl_msg_packet_timestamp ts;
	uint32_t indev, outdev, uid, gid;
	char name[256], in[16], out[16], *prefix;
	uint8_t flags, nlen;
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	size_t bufsize;
	char *buf;

	flags = take8(&c);
	memset(&ph, 0, sizeof(ph));
	ph.hook = take8(&c);
	take(&c, &indev, sizeof(indev));
	take(&c, &outdev, sizeof(outdev));
	take(&c, &uid, sizeof(uid));
	take(&c, &gid, sizeof(gid));
	take(&c, &ts, sizeof(ts));
	nlen = take8(&c);
	take(&c, name, nlen);
	name[nlen] = '\0';
	take(&c, in, sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	take(&c, out, sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	if (flags & F_RAWPREFIX)
		prefix = xstrdup(name);
	else
		prefix = xasprintf("jailfw drop %s: ", name);

	/* The rest is the packet; room for it and every attribute. */
	bufsize = MNL_NLMSG_HDRLEN + 512 + MNL_ALIGN(strlen(prefix) + 1) + MNL_ALIGN(c.n);
	buf = xcalloc(1, bufsize);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = PACKET_TYPE;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(DEFAULT_LOG_GROUP);
	/* The kernel's order (__build_packet_message), which parsing ignores. */
	if (flags & F_HOOK)
		mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (!(flags & F_NOPREFIX))
		mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	if (flags & F_INDEV)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_INDEV, indev);
	if (flags & F_OUTDEV)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, outdev);
	if (flags & F_TIME)
		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(ts), &ts);
	if (flags & F_UID)
		mnl_attr_put_u32(nlh, NFULA_UID, uid);
	if (flags & F_GID)
		mnl_attr_put_u32(nlh, NFULA_GID, gid);
	mnl_attr_put(nlh, NFULA_PAYLOAD, c.n, c.p);
	FUZZ_ASSERT(nlh->nlmsg_len <= bufsize);
	parse_one(nlh, nlh->nlmsg_len, sug, in, out);
	free(buf);
	free(prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct monitor_suggest sug;
	struct strbuf sb;

	if (size < 1)
		return 0;
	monitor_suggest_init(&sug);
	switch (data[0] % 3) {
	case 0:
		fuzz_raw(data + 1, size - 1, &sug);
		break;
	case 1:
		fuzz_payload(data + 1, size - 1, &sug);
		break;
	default:
		fuzz_structured(data + 1, size - 1, &sug);
		break;
	}
	sb_init(&sb);
	monitor_suggest_print(&sug, false, &sb);
	assert_lines("monitor_suggest_print text", sb.s, sb.len, false, false);
	sb.len = 0;
	sb.s[0] = '\0';
	monitor_suggest_print(&sug, true, &sb);
	assert_lines("monitor_suggest_print json", sb.s, sb.len, false, true);
	sb_free(&sb);
	monitor_suggest_free(&sug);
	return 0;
}
