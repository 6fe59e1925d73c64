// SPDX-License-Identifier: GPL-2.0-or-later
#include "nftinfo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct nlmsghdr *nftinfo_nfnl_header(void *buf, uint16_t type, uint16_t flags, uint8_t family,
				     uint16_t res_id, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(res_id);
	return nlh;
}

/*
 * One NETLINK_NETFILTER socket serves every query of a process, and is
 * closed only by nftinfo_release() or the process's end.  Closing such a
 * socket is not free: nf_tables then waits for the clean-up of the last
 * commit (its NETLINK_URELEASE handler flushes the work that frees what
 * a commit deleted), and that clean-up waits an RCU grace period when the
 * commit deleted anything: 5 to 13 ms on the machines measured
 * (docs/ruleset.md, "Delta apply").  A socket per query made the first
 * query after a delta (the handover check, the record's generation)
 * wait for it; one kept open lets the grace period pass while apply
 * goes on.
 *
 * The socket belongs to the process and network namespace that opened
 * it: a forked child, or this process after setns() into a jail's
 * namespace, gets one of its own, so no query ever reaches another
 * namespace's nf_tables than the caller's.  Whatever a query left
 * unread (a callback that stopped a dump early) is drained before the
 * next one is sent, and a socket that saw an error is closed.
 */
static struct {
	struct mnl_socket *nl;
	pid_t pid;
	dev_t ns_dev;
	ino_t ns_ino;
} talk_sock;

void nftinfo_release(void)
{
	if (talk_sock.nl && talk_sock.pid == getpid())
		mnl_socket_close(talk_sock.nl);
	talk_sock.nl = NULL;
}

/*
 * The process's socket for this namespace in *out; *oneshot when it is a
 * socket for this query alone (no /proc to tell the namespace by).
 */
static int talk_socket(struct mnl_socket **out, bool *oneshot, char *buf, size_t bufsize)
{
	struct mnl_socket *nl;
	struct stat ns;
	int ret;

	*oneshot = stat("/proc/self/ns/net", &ns) != 0;
	if (talk_sock.nl && (*oneshot || talk_sock.pid != getpid() ||
			     talk_sock.ns_dev != ns.st_dev || talk_sock.ns_ino != ns.st_ino)) {
		/* Another process's or namespace's: not ours to close. */
		if (talk_sock.pid == getpid() && !*oneshot)
			nftinfo_release();
		talk_sock.nl = NULL;
	}
	if (talk_sock.nl) {
		while (recv(mnl_socket_get_fd(talk_sock.nl), buf, bufsize, MSG_DONTWAIT) > 0)
			;
		*out = talk_sock.nl;
		return 0;
	}
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return ret;
	}
	if (!*oneshot) {
		talk_sock.nl = nl;
		talk_sock.pid = getpid();
		talk_sock.ns_dev = ns.st_dev;
		talk_sock.ns_ino = ns.st_ino;
	}
	*out = nl;
	return 0;
}

/*
 * Send one nf_tables GET and feed every reply to cb until the ack.
 * Returns 0 or -errno (the kernel's, e.g. -ENOENT for a missing table).
 */
int nftinfo_talk(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	const size_t bufsize = 65536; /* a dump's replies come in batches this big */
	char *buf = xmalloc(bufsize);
	struct mnl_socket *nl = NULL;
	uint32_t portid;
	bool oneshot;
	ssize_t n;
	int ret;

	ret = talk_socket(&nl, &oneshot, buf, bufsize);
	if (ret) {
		free(buf);
		return ret;
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, bufsize);
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (ret <= 0) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
out:
	/*
	 * The kernel's answers (-ENOENT for a missing table) leave the
	 * socket as good as new; a failure of the socket itself does not.
	 */
	if (oneshot)
		mnl_socket_close(nl);
	else if (ret && ret != -ENOENT && ret != -EPERM && ret != -EINVAL)
		nftinfo_release();
	free(buf);
	return ret;
}

struct udata_find {
	uint8_t type;
	char *found;
};

static int udata_find_cb(const struct nftnl_udata *attr, void *data)
{
	struct udata_find *f = data;
	const char *s = nftnl_udata_get(attr);
	uint32_t n = nftnl_udata_len(attr);

	/* A string that is not NUL-terminated in its attribute is ignored. */
	if (nftnl_udata_type(attr) == f->type && !f->found && n && memchr(s, '\0', n))
		f->found = xstrdup(s);
	return MNL_CB_OK;
}

/*
 * The comment TLV (udata type number type) of an object's user data, as a
 * malloc'd string, or NULL; one not NUL-terminated within its attribute is
 * ignored rather than read past.
 */
static char *udata_comment(const void *ud, uint32_t len, uint8_t type)
{
	struct udata_find f = {type, NULL};

	if (ud && len)
		nftnl_udata_parse(ud, len, udata_find_cb, &f);
	return f.found;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *gen = nftnl_gen_alloc();
	int ret = MNL_CB_ERROR;

	if (gen && nftnl_gen_nlmsg_parse(nlh, gen) == 0 && nftnl_gen_is_set(gen, NFTNL_GEN_ID)) {
		*(uint32_t *)data = nftnl_gen_get_u32(gen, NFTNL_GEN_ID);
		ret = MNL_CB_OK;
	}
	nftnl_gen_free(gen);
	return ret;
}

int nftinfo_genid(uint32_t *genid)
{
	char buf[256];
	struct nlmsghdr *nlh;

	nlh =
	    nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, (uint32_t)time(NULL));
	return nftinfo_talk(nlh, gen_cb, genid);
}

/* ---- whole-table reads ---- */

#define READ_TRIES 5

/*
 * What one read fills: the table named beforehand (nftinfo_table_read,
 * nftinfo_table_comment), or every table the kernel dumps (all:
 * nftinfo_ruleset_read, whose rules keep their libnftnl rule).
 */
struct reader {
	struct nftinfo_table *tables;
	size_t ntables;
	bool all;
	nftinfo_want *want; /* all: whose contents to read; NULL: everyone's */
	void *arg;
};

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
	return hash64_add(h, &v, sizeof(v));
}

static int chain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nftinfo_chain *)a)->name,
		      ((const struct nftinfo_chain *)b)->name);
}

static int set_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nftinfo_set *)a)->name, ((const struct nftinfo_set *)b)->name);
}

const struct nftinfo_chain *nftinfo_chain_find(const struct nftinfo_table *t, const char *name)
{
	struct nftinfo_chain key = {.name = (char *)name};

	if (!t || !t->nchains)
		return NULL;
	return bsearch(&key, t->chains, t->nchains, sizeof(key), chain_cmp);
}

const struct nftinfo_set *nftinfo_set_find(const struct nftinfo_table *t, const char *name)
{
	struct nftinfo_set key = {.name = (char *)name};

	if (!t || !t->nsets)
		return NULL;
	return bsearch(&key, t->sets, t->nsets, sizeof(key), set_cmp);
}

static struct nftinfo_table *table_of(const struct reader *r, uint32_t family, const char *name)
{
	size_t i;

	for (i = 0; name && i < r->ntables; i++)
		if (r->tables[i].family == family && !strcmp(r->tables[i].name, name))
			return &r->tables[i];
	return NULL;
}

const struct nftinfo_table *nftinfo_table_find(const struct nftinfo_ruleset *rs, uint32_t family,
					       const char *name)
{
	const struct reader r = {.tables = rs->tables, .ntables = rs->ntables};

	return table_of(&r, family, name);
}

static void contents_free(struct nftinfo_table *t)
{
	size_t i, k;

	for (i = 0; i < t->nchains; i++) {
		for (k = 0; k < t->chains[i].nrules; k++) {
			free(t->chains[i].rules[k].comment);
			free(t->chains[i].rules[k].target);
			if (t->chains[i].rules[k].nl)
				nftnl_rule_free(t->chains[i].rules[k].nl);
		}
		free(t->chains[i].rules);
		free(t->chains[i].name);
		free(t->chains[i].type);
	}
	free(t->chains);
	for (i = 0; i < t->nsets; i++) {
		for (k = 0; k < t->sets[i].nelems; k++)
			free(t->sets[i].elems[k].chain);
		free(t->sets[i].elems);
		free(t->sets[i].name);
	}
	free(t->sets);
	free(t->comment);
	t->chains = NULL;
	t->sets = NULL;
	t->comment = NULL;
	t->nchains = t->nsets = 0;
}

/* The tables named beforehand are emptied; dumped ones go altogether. */
static void reader_reset(struct reader *r)
{
	size_t i;

	for (i = 0; i < r->ntables; i++) {
		contents_free(&r->tables[i]);
		if (r->all)
			free(r->tables[i].name);
	}
	if (r->all) {
		free(r->tables);
		r->tables = NULL;
		r->ntables = 0;
	}
}

void nftinfo_table_free(struct nftinfo_table *t)
{
	if (!t)
		return;
	contents_free(t);
	free(t->name);
	free(t);
}

void nftinfo_ruleset_free(struct nftinfo_ruleset *rs)
{
	struct reader r = {.tables = rs->tables, .ntables = rs->ntables, .all = true};

	reader_reset(&r);
	memset(rs, 0, sizeof(*rs));
}

/* A table's own attributes. */
static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct nftinfo_table *t;
	const char *name;
	const void *ud;
	uint32_t len = 0, family;

	if (!nt)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, nt) < 0) {
		nftnl_table_free(nt);
		return MNL_CB_ERROR;
	}
	name = nftnl_table_get_str(nt, NFTNL_TABLE_NAME);
	family = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
	t = table_of(r, family, name);
	if (!t && r->all && name) {
		t = VEC_PUSH(r->tables, r->ntables);
		t->name = xstrdup(name);
		t->family = family;
	}
	if (!t) {
		nftnl_table_free(nt);
		return MNL_CB_OK;
	}
	/* The comment travels as a TLV inside the table's user data. */
	ud = nftnl_table_get_data(nt, NFTNL_TABLE_USERDATA, &len);
	free(t->comment);
	t->comment = udata_comment(ud, len, NFTNL_UDATA_TABLE_COMMENT);
	if (!t->comment)
		t->comment = xstrdup("");
	t->flags = nftnl_table_is_set(nt, NFTNL_TABLE_FLAGS)
		       ? nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS)
		       : 0;
	/* Not the flags: a dormant table is a drift of its own (status). */
	t->digest = hash64_str(HASH64_INIT, t->comment);
	if (ud && len)
		t->digest = hash64_add(t->digest, ud, len);
	nftnl_table_free(nt);
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftinfo_chain *ic;
	struct nftinfo_table *t;
	const char *name, *type;
	const void *ud;
	uint32_t len = 0;
	uint64_t h;

	if (!c)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	/* Chain dumps are not filtered by table in every kernel. */
	t = table_of(data, nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
		     nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE));
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if (!t || !name) {
		nftnl_chain_free(c);
		return MNL_CB_OK;
	}
	ic = VEC_PUSH(t->chains, t->nchains);
	ic->name = xstrdup(name);
	h = hash64_str(HASH64_INIT, ic->name);
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		ic->base = true;
		ic->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
		ic->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
		ic->policy = nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
				 ? nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
				 : NF_ACCEPT;
		type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
		ic->type = xstrdup(type ? type : "filter");
		h = fnv_u32(h, ic->hook);
		h = fnv_u32(h, (uint32_t)ic->prio);
		h = fnv_u32(h,
			    nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ? ic->policy : 0xffffffffu);
		h = hash64_str(h, type);
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV))
			h = hash64_str(h, nftnl_chain_get_str(c, NFTNL_CHAIN_DEV));
	}
	ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
	if (ud && len)
		h = hash64_add(h, ud, len);
	/* Rules are folded in later, in order; see read_contents. */
	ic->digest = h;
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

struct rule_ctx {
	struct nftinfo_table *t;
	struct nftinfo_chain *last; /* rules of a chain come in a row */
	bool keep;		    /* keep each libnftnl rule */
	char buf[1024];
};

static enum nftinfo_verdict verdict_of(int32_t v)
{
	switch (v) {
	case NF_ACCEPT:
		return NFTINFO_V_ACCEPT;
	case NF_DROP:
		return NFTINFO_V_DROP;
	case NFT_JUMP:
		return NFTINFO_V_JUMP;
	case NFT_GOTO:
		return NFTINFO_V_GOTO;
	case NFT_RETURN:
		return NFTINFO_V_RETURN;
	}
	return NFTINFO_V_OTHER;
}

/*
 * One expression into the rule's digest and facts.  A counter contributes
 * its presence only: its values are what changes all the time.  Every
 * other expression contributes libnftnl's text of it, which names what it
 * matches and the sets and chains it refers to by name (never by handle
 * or transaction id, which differ from load to load).
 */
static uint64_t add_expr(struct rule_ctx *x, struct nftinfo_rule *r, struct nftnl_expr *e,
			 uint64_t h)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		return h;
	h = hash64_str(h, name);
	if (!strcmp(name, "counter")) {
		if (!r->has_counter) {
			r->has_counter = true;
			r->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			r->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		}
		return h;
	}
	if (!strcmp(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
		r->verdict = verdict_of((int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
		free(r->target);
		r->target = NULL;
		if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN))
			r->target = xstrdup(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
	}
	x->buf[0] = '\0';
	nftnl_expr_snprintf(x->buf, sizeof(x->buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	return hash64_str(h, x->buf);
}

static struct nftinfo_chain *chain_of(struct rule_ctx *x, const char *name)
{
	struct nftinfo_table *t = x->t;
	size_t i;

	if (x->last && !strcmp(x->last->name, name))
		return x->last;
	/* Chains are sorted once the chain dump is in. */
	x->last = (struct nftinfo_chain *)nftinfo_chain_find(t, name);
	if (x->last)
		return x->last;
	/* A chain made between the two dumps: the genid check redoes it all. */
	for (i = 0; i < t->nchains; i++)
		if (!strcmp(t->chains[i].name, name))
			return x->last = &t->chains[i];
	return NULL;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_ctx *x = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nftnl_expr_iter *it = NULL;
	struct nftinfo_chain *c;
	struct nftinfo_rule *r;
	struct nftnl_expr *e;
	const char *table, *chain;
	const void *ud;
	uint32_t len = 0;
	uint64_t h = HASH64_INIT;
	int ret = MNL_CB_OK;

	if (!nr)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		ret = MNL_CB_ERROR;
		goto out;
	}
	table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	if (!table || !chain || strcmp(table, x->t->name))
		goto out;
	c = chain_of(x, chain);
	if (!c)
		goto out;
	r = VEC_PUSH(c->rules, c->nrules);
	r->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	it = nftnl_expr_iter_create(nr);
	if (!it) {
		ret = MNL_CB_ERROR;
		goto out;
	}
	while ((e = nftnl_expr_iter_next(it)))
		h = add_expr(x, r, e, h);
	ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);
	if (ud && len) {
		h = hash64_add(h, ud, len);
		r->comment = udata_comment(ud, len, NFTNL_UDATA_RULE_COMMENT);
	}
	r->digest = h;
	if (x->keep) {
		r->nl = nr;
		nr = NULL;
	}
out:
	if (it)
		nftnl_expr_iter_destroy(it);
	if (nr)
		nftnl_rule_free(nr);
	return ret;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftinfo_table *out = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftinfo_set *is;
	const char *table, *name;
	const void *ud;
	uint32_t len = 0;
	uint64_t h;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_ERROR;
	}
	table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (!table || !name || strcmp(table, out->name)) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	is = VEC_PUSH(out->sets, out->nsets);
	is->name = xstrdup(name);
	is->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	h = hash64_str(HASH64_INIT, name);
	h = fnv_u32(h, is->flags);
	h = fnv_u32(h, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE));
	h = fnv_u32(h, nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
	h = fnv_u32(h, nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE));
	h = fnv_u32(h, nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN));
	h = fnv_u32(h, nftnl_set_get_u32(s, NFTNL_SET_POLICY));
	ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
	if (ud && len)
		h = hash64_add(h, ud, len);
	/* Elements are added in (commutatively); see elem_cb. */
	is->digest = h;
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static uint64_t elem_digest(struct nftnl_set_elem *e)
{
	static const uint16_t attrs[] = {
	    NFTNL_SET_ELEM_FLAGS,    NFTNL_SET_ELEM_KEY,    NFTNL_SET_ELEM_KEY_END,
	    NFTNL_SET_ELEM_VERDICT,  NFTNL_SET_ELEM_CHAIN,  NFTNL_SET_ELEM_DATA,
	    NFTNL_SET_ELEM_USERDATA, NFTNL_SET_ELEM_OBJREF,
	};
	uint64_t h = HASH64_INIT;
	const void *v;
	uint32_t len;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		if (!nftnl_set_elem_is_set(e, attrs[i]))
			continue;
		len = 0;
		v = nftnl_set_elem_get(e, attrs[i], &len);
		h = fnv_u32(h, attrs[i]);
		if (v && len)
			h = hash64_add(h, v, len);
	}
	return h;
}

static int elem_one(struct nftnl_set_elem *e, void *data)
{
	struct nftinfo_set *set = data;
	struct nftinfo_elem *ie;
	const void *key;
	uint32_t len = 0;

	/* Summed, not chained: the dump order of a hash set is arbitrary. */
	set->digest += elem_digest(e);
	ie = VEC_PUSH(set->elems, set->nelems);
	key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (key && len <= sizeof(ie->key)) {
		memcpy(ie->key, key, len);
		ie->key_len = len;
	}
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
		ie->chain = xstrdup(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
	return 0;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0 ||
	    nftnl_set_elem_foreach(s, elem_one, data) < 0)
		ret = MNL_CB_ERROR;
	nftnl_set_free(s);
	return ret;
}

/*
 * One request about table t (GETTABLE: t itself; GETSETELEM: its set
 * named set), or a dump of every table's objects (t NULL; family
 * NFPROTO_UNSPEC: of every family).  The table attribute filters rule,
 * set and element dumps in the kernel.
 */
static int request(uint16_t type, const struct nftinfo_table *t, uint32_t family, const char *set,
		   mnl_cb_t cb, void *data)
{
	uint16_t flags = type == NFT_MSG_GETTABLE && t ? NLM_F_ACK : NLM_F_DUMP | NLM_F_ACK;
	char buf[1024];
	struct nlmsghdr *nlh;

	nlh = nftnl_nlmsg_build_hdr(buf, type, (uint16_t)family, flags, (uint32_t)time(NULL));
	_Static_assert((int)NFTA_TABLE_NAME == (int)NFTA_RULE_TABLE &&
			   (int)NFTA_RULE_TABLE == (int)NFTA_SET_TABLE &&
			   (int)NFTA_SET_TABLE == (int)NFTA_SET_ELEM_LIST_TABLE,
		       "one attribute type names the table in every request");
	if (t)
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t->name);
	if (set)
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	return nftinfo_talk(nlh, cb, data);
}

/* Table t's rules, sets and elements; its chains are in, sorted. */
static int read_contents(struct nftinfo_table *t, bool keep)
{
	struct rule_ctx *x = xcalloc(1, sizeof(*x));
	size_t i, k;
	int ret;

	x->t = t;
	x->keep = keep;
	ret = request(NFT_MSG_GETRULE, t, t->family, NULL, rule_cb, x);
	free(x);
	if (!ret)
		ret = request(NFT_MSG_GETSET, t, t->family, NULL, set_cb, t);
	if (ret)
		return ret;
	if (t->nsets)
		qsort(t->sets, t->nsets, sizeof(*t->sets), set_cmp);
	for (i = 0; !ret && i < t->nsets; i++)
		ret = request(NFT_MSG_GETSETELEM, t, t->family, t->sets[i].name, elem_cb,
			      &t->sets[i]);
	for (i = 0; i < t->nchains; i++)
		for (k = 0; k < t->chains[i].nrules; k++)
			t->chains[i].digest = hash64_add(
			    t->chains[i].digest, &t->chains[i].rules[k].digest, sizeof(uint64_t));
	return ret;
}

static int read_once(struct reader *r)
{
	/* Named beforehand: one table, of family inet. */
	const struct nftinfo_table *one = r->all ? NULL : &r->tables[0];
	uint32_t family = one ? NFPROTO_INET : NFPROTO_UNSPEC;
	size_t i;
	int ret;

	ret = request(NFT_MSG_GETTABLE, one, family, NULL, table_cb, r);
	if (!ret && one && !one->comment)
		ret = -ENOENT;
	if (!ret)
		ret = request(NFT_MSG_GETCHAIN, NULL, family, NULL, chain_cb, r);
	for (i = 0; !ret && i < r->ntables; i++) {
		struct nftinfo_table *t = &r->tables[i];

		if (t->nchains)
			qsort(t->chains, t->nchains, sizeof(*t->chains), chain_cmp);
		if (one || !r->want || r->want(t, r->arg))
			ret = read_contents(t, !one);
	}
	return ret;
}

/*
 * Several dumps are not one snapshot: when the generation moved while
 * they ran (anyone's commit, or a dump the kernel marks interrupted),
 * read again.
 */
static int read_consistent(struct reader *r, uint32_t *genid)
{
	uint32_t after;
	int ret = -EAGAIN, tries;

	for (tries = 0; tries < READ_TRIES; tries++) {
		reader_reset(r);
		ret = nftinfo_genid(genid);
		if (!ret)
			ret = read_once(r);
		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		if (ret)
			break;
		ret = nftinfo_genid(&after);
		if (ret || after == *genid)
			break;
		ret = -EAGAIN;
	}
	if (ret)
		reader_reset(r);
	return ret;
}

int nftinfo_table_read(const char *table, struct nftinfo_table **out)
{
	struct reader r = {.ntables = 1};
	int ret;

	*out = NULL;
	if (strlen(table) >= 256)
		return -EINVAL;
	r.tables = xcalloc(1, sizeof(*r.tables));
	r.tables->name = xstrdup(table);
	r.tables->family = NFPROTO_INET;
	ret = read_consistent(&r, &r.tables->genid);
	if (ret) {
		nftinfo_table_free(r.tables);
		return ret;
	}
	*out = r.tables;
	return 0;
}

int nftinfo_table_comment(const char *table, char **comment)
{
	return nftinfo_family_table_comment(NFPROTO_INET, table, comment);
}

int nftinfo_family_table_comment(uint32_t family, const char *table, char **comment)
{
	struct nftinfo_table t = {.name = (char *)table, .family = family};
	struct reader r = {.tables = &t, .ntables = 1};
	int ret;

	*comment = NULL;
	if (strlen(table) >= 256)
		return -EINVAL;
	ret = request(NFT_MSG_GETTABLE, &t, family, NULL, table_cb, &r);
	if (!ret && !t.comment)
		ret = -ENOENT;
	if (ret)
		free(t.comment);
	else
		*comment = t.comment;
	return ret;
}

int nftinfo_ruleset_read(nftinfo_want *want, void *arg, struct nftinfo_ruleset *rs)
{
	struct reader r = {.all = true, .want = want, .arg = arg};
	size_t i;
	int ret;

	memset(rs, 0, sizeof(*rs));
	ret = read_consistent(&r, &rs->genid);
	if (ret)
		return ret;
	rs->tables = r.tables;
	rs->ntables = r.ntables;
	for (i = 0; i < rs->ntables; i++)
		rs->tables[i].genid = rs->genid;
	return 0;
}
