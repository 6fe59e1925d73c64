// SPDX-License-Identifier: GPL-2.0-or-later
#include "model.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *proto_name(enum proto p)
{
	static const char *const names[PROTO_COUNT] = {
	    [PROTO_TCP] = "tcp",
	    [PROTO_UDP] = "udp",
	    [PROTO_ICMP] = "icmp",
	    [PROTO_ICMPV6] = "icmpv6",
	};

	return (unsigned int)p < PROTO_COUNT ? names[p] : "?";
}

bool proto_has_ports(enum proto p)
{
	return p == PROTO_TCP || p == PROTO_UDP;
}

const char *backend_name(enum backend b)
{
	switch (b) {
	case BACKEND_UID:
		return "uid";
	case BACKEND_NETNS:
		return "netns";
	case BACKEND_NONE:
		break;
	}
	return "none";
}

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

void policy_release(struct policy *p, void *ptr)
{
	if (!arena_owns(&p->arena, ptr))
		free(ptr);
}

static void rules_free(struct policy *p, struct rule *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		policy_release(p, r[i].ports);
		policy_release(p, r[i].dests);
	}
	policy_release(p, r);
}

void policy_free(struct policy *p)
{
	size_t i, k;

	for (i = 0; i < p->njails; i++) {
		struct jail *j = &p->jails[i];

		policy_release(p, j->name);
		policy_release(p, j->user);
		policy_release(p, j->ifname);
		free(j->dns);
		rules_free(p, j->rules, j->nrules);
		free(j->pubs);
		for (k = 0; k < j->nuses; k++)
			policy_release(p, j->uses[k].name);
		free(j->uses);
	}
	free(p->jails);
	for (i = 0; i < p->ntmpls; i++) {
		policy_release(p, p->tmpls[i].name);
		rules_free(p, p->tmpls[i].rules, p->tmpls[i].nrules);
		free(p->tmpls[i].pubs);
	}
	free(p->tmpls);
	for (i = 0; i < p->settings.nwan; i++)
		free(p->settings.wan[i]);
	free(p->settings.wan);
	free(p->settings.wan_locs);
	free(p->settings.table);
	for (i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	arena_free(&p->arena);
	memset(p, 0, sizeof(*p));
}

const char *policy_add_file(struct policy *p, const char *name)
{
	char **slot = VEC_PUSH(p->files, p->nfiles);

	*slot = xstrdup(name);
	return *slot;
}

static const char *model_base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int label_cmp(const void *a, const void *b, void *labels)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(((char **)labels)[x], ((char **)labels)[y]);

	return r ? r : (x > y) - (x < y);
}

/*
 * A file whose basename another file shares: its path below the main
 * file's directory (a relative main file: any relative path), else the
 * whole path.
 */
static char *long_label(const struct policy *p, const char *path)
{
	const char *root = p->files[0], *slash = strrchr(root, '/');
	size_t n = slash ? (size_t)(slash - root + 1) : 0;

	if (n ? !strncmp(path, root, n) : path[0] != '/')
		return xstrdup(path + n);
	return xstrdup(path);
}

char **policy_file_labels(const struct policy *p)
{
	char **labels = xcalloc(p->nfiles ? p->nfiles : 1, sizeof(*labels));
	size_t *order, i, k;

	for (i = 0; i < p->nfiles; i++)
		labels[i] = xstrdup(model_base_name(p->files[i]));
	/* Sorted, equal names are neighbours: O(n log n) for thousands of drop-ins. */
	order = xcalloc(p->nfiles ? p->nfiles : 1, sizeof(*order));
	for (i = 0; i < p->nfiles; i++)
		order[i] = i;
	qsort_r(order, p->nfiles, sizeof(*order), label_cmp, labels);
	for (i = 0; i < p->nfiles; i = k) {
		bool clash = false;

		for (k = i + 1; k < p->nfiles && !strcmp(labels[order[i]], labels[order[k]]); k++)
			clash = clash || strcmp(p->files[order[i]], p->files[order[k]]);
		for (; clash && i < k; i++) {
			free(labels[order[i]]);
			labels[order[i]] = long_label(p, p->files[order[i]]);
		}
	}
	free(order);
	return labels;
}

void policy_file_labels_free(const struct policy *p, char **labels)
{
	size_t i;

	for (i = 0; labels && i < p->nfiles; i++)
		free(labels[i]);
	free(labels);
}

const char *policy_table(const struct policy *p)
{
	return p->settings.table ? p->settings.table : DEFAULT_TABLE;
}

uint32_t policy_fwmark(const struct policy *p)
{
	return p->settings.fwmark ? p->settings.fwmark : DEFAULT_FWMARK;
}

bool jail_log_drops(const struct policy *p, const struct jail *j)
{
	if (j->log_drops != TRI_UNSET)
		return j->log_drops == TRI_YES;
	return p->settings.log_drops == TRI_YES;
}

static void jail_ifname(const struct jail *j, const char *suffix, char buf[16])
{
	snprintf(buf, 16, "%.11s-%s", j->ifname ? j->ifname : j->name, suffix);
}

void jail_ifname_host(const struct jail *j, char buf[16])
{
	jail_ifname(j, "out", buf);
}

void jail_ifname_jail(const struct jail *j, char buf[16])
{
	jail_ifname(j, "in", buf);
}

static void addr_nth(const struct prefix *net, uint8_t n, struct prefix *out)
{
	size_t last = net->family == AF_INET ? 3 : 15;

	*out = *net;
	out->len = net->family == AF_INET ? 32 : 128;
	/* Prefixes are canonical (host bits clear) and have room for .2. */
	out->addr.b[last] |= n;
}

size_t jail_prefixes(const struct jail *j, struct prefix out[2])
{
	size_t n = 0;

	if (j->backend != BACKEND_NETNS)
		return 0;
	if (j->has_v4)
		out[n++] = j->v4;
	if (j->has_v6)
		out[n++] = j->v6;
	return n;
}

void jail_addr_host(const struct prefix *net, struct prefix *out)
{
	addr_nth(net, 1, out);
}

void jail_addr_jail(const struct prefix *net, struct prefix *out)
{
	addr_nth(net, 2, out);
}

const char *addr_str(const struct prefix *pfx, char buf[PREFIX_STRLEN])
{
	if (!inet_ntop(pfx->family, pfx->addr.b, buf, PREFIX_STRLEN))
		snprintf(buf, PREFIX_STRLEN, "?");
	return buf;
}

const char *prefix_str(const struct prefix *pfx, char buf[PREFIX_STRLEN])
{
	unsigned int full = pfx->family == AF_INET ? 32 : 128;
	size_t n;

	addr_str(pfx, buf);
	n = strlen(buf);
	if (pfx->len != full)
		snprintf(buf + n, PREFIX_STRLEN - n, "/%u", pfx->len);
	return buf;
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes))
		return false;
	if (!rem)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

bool prefix_contains(const struct prefix *net, const struct prefix *p)
{
	return net->family == p->family && net->len <= p->len &&
	       bits_equal(net->addr.b, p->addr.b, net->len);
}

bool prefix_mask(struct prefix *pfx)
{
	unsigned int bytes = pfx->family == AF_INET ? 4 : 16, i;
	bool changed = false;

	for (i = 0; i < bytes; i++) {
		unsigned int keep = pfx->len >= (i + 1) * 8 ? 8
				    : pfx->len > i * 8	    ? pfx->len - i * 8
							    : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if (pfx->addr.b[i] & ~mask)
			changed = true;
		pfx->addr.b[i] &= mask;
	}
	/* The unused bytes of an IPv4 address: equal prefixes compare equal. */
	for (i = bytes; i < sizeof(pfx->addr.b); i++)
		pfx->addr.b[i] = 0;
	return changed;
}

bool prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	return prefix_contains(a, b) || prefix_contains(b, a);
}

void rule_spec_str(const struct rule *r, struct strbuf *sb)
{
	size_t i;

	sb_puts(sb, proto_name(r->proto));
	for (i = 0; i < r->nports; i++) {
		sb_putc(sb, i ? ',' : '/');
		if (r->ports[i].lo == r->ports[i].hi)
			sb_printf(sb, "%u", r->ports[i].lo);
		else
			sb_printf(sb, "%u-%u", r->ports[i].lo, r->ports[i].hi);
	}
}

const char *loc_str(const struct loc *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", l->file ? l->file : "?", l->line);
	return buf;
}
