// SPDX-License-Identifier: GPL-2.0-or-later
#include "nftinfo.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

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
	char buf[16384]; /* MNL_SOCKET_BUFFER_SIZE is not a constant */
	struct table_reply reply = { 0 };
	struct mnl_socket *nl = NULL;
	struct nftnl_table *t = NULL;
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	ssize_t n;
	int ret = 0;

	*comment = NULL;
	t = nftnl_table_alloc();
	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_table_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, seq);
	nftnl_table_nlmsg_build_payload(nlh, t);

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	/* A single GET answers with the table, then the ack (or an error). */
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, table_cb, &reply);
		if (ret <= 0) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
	if (!ret && !reply.found)
		ret = -ENOENT;
out:
	if (nl)
		mnl_socket_close(nl);
	nftnl_table_free(t);
	if (ret) {
		free(reply.comment);
		return ret;
	}
	*comment = reply.comment;
	return 0;
}
