// SPDX-License-Identifier: GPL-2.0-or-later
#include "nftinfo.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/*
 * Send one nf_tables GET and feed every reply to cb until the ack.
 * Returns 0 or -errno (the kernel's, e.g. -ENOENT for a missing table).
 */
static int nft_get(struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[16384]; /* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct mnl_socket *nl;
	uint32_t portid;
	ssize_t n;
	int ret;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
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
	mnl_socket_close(nl);
	return ret;
}

struct table_reply {
	char *comment;
	bool found;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT)
		*out = nftnl_udata_get(attr);
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct table_reply *r = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_ERROR;
	}
	/*
	 * The comment travels as a TLV inside the table's user data, where
	 * nft puts it; a string that is not NUL-terminated within its
	 * attribute is ignored rather than read past.
	 */
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (ud && len)
		nftnl_udata_parse(ud, len, comment_cb, &comment);
	free(r->comment);
	r->comment = comment && memchr(comment, '\0', len) ? xstrdup(comment) : xstrdup("");
	r->found = true;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int nftinfo_table_comment(const char *table, char **comment)
{
	char buf[1024];
	struct table_reply reply = { 0 };
	struct nftnl_table *t;
	struct nlmsghdr *nlh;
	int ret;

	*comment = NULL;
	if (strlen(table) >= 256)
		return -EINVAL;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK,
					  (uint32_t)time(NULL));
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nft_get(nlh, table_cb, &reply);
	if (!ret && !reply.found)
		ret = -ENOENT;
	if (ret) {
		free(reply.comment);
		return ret;
	}
	*comment = reply.comment;
	return 0;
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

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    (uint32_t)time(NULL));
	return nft_get(nlh, gen_cb, genid);
}
