/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink over libmnl, in three layers:
 *
 *  - builders: pure functions that write one request into a caller buffer
 *    with mnl_nlmsg_put_header()/mnl_attr_put_*() and always ask for an
 *    acknowledgement (NLM_F_ACK), so every request gets an answer and
 *    nothing fails silently.  Unit tests round-trip them without root.
 *  - parsers: pure functions that turn a link, address, route or ack
 *    message into a small struct.
 *  - one talker, rtnl_talk(), the only function that touches the socket.
 *    It sends a whole batch of requests with few sendmsg() calls and
 *    collects one answer per request, keeping the kernel's extended-ack
 *    text, so a failure reads
 *
 *      create veth "foobar-out": File exists (kernel: ...)
 *
 * A netlink socket belongs to the network namespace it was created in:
 * to talk to a jail's namespace, open the socket while inside it.
 */
#ifndef JAILFW_RTNL_H
#define JAILFW_RTNL_H

#include <linux/netlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

/* Every builder writes at most this many bytes. */
#define RTNL_MSG_MAX 512

/* ---- builders: each returns the message it wrote at buf ---- */

/*
 * RTM_NEWLINK, create only (NLM_F_EXCL): a veth pair whose host end is
 * named host, and whose peer is created directly in the namespace of
 * peer_nsfd (-1: the caller's); both ends are down.  Creating the
 * peer in place matters: moving a veth end to another namespace
 * afterwards costs about 20 ms.
 *
 * No alias here: the kernel refuses IFLA_IFALIAS in a create request
 * (ENOTCONN, kernel 6.18), so label the link with rtnl_build_alias()
 * in the same batch.
 */
struct nlmsghdr *rtnl_build_veth(void *buf, uint32_t seq, const char *host, const char *peer,
				 int peer_nsfd);

/* RTM_SETLINK by name: set IFLA_IFALIAS, nothing else. */
struct nlmsghdr *rtnl_build_alias(void *buf, uint32_t seq, const char *name, const char *alias);

/*
 * RTM_SETLINK on ifindex: the IFF_ bits in change take their value from
 * flags (e.g. flags IFF_UP, change IFF_UP: bring it up).
 */
/*
 * RTM_SETLINK of link NAME's IPv6 addr_gen_mode (IN6_ADDR_GEN_MODE_*):
 * with "none", set while the link is down, it makes no link-local address
 * when it comes up.
 */
struct nlmsghdr *rtnl_build_addr_gen_mode(void *buf, uint32_t seq, const char *name, uint8_t mode);
struct nlmsghdr *rtnl_build_setlink(void *buf, uint32_t seq, int ifindex, unsigned int flags,
				    unsigned int change);

/* RTM_DELLINK on ifindex. */
struct nlmsghdr *rtnl_build_dellink(void *buf, uint32_t seq, int ifindex);

/* RTM_GETLINK for one interface by name (not a dump). */
struct nlmsghdr *rtnl_build_getlink(void *buf, uint32_t seq, const char *name);

/*
 * A dump request: type is RTM_GETLINK, RTM_GETADDR or RTM_GETROUTE,
 * family AF_UNSPEC, AF_INET or AF_INET6.  Route dumps ask for the main
 * table only.  A dump must be the last request of its batch.
 */
struct nlmsghdr *rtnl_build_dump(void *buf, uint32_t seq, uint16_t type, uint8_t family);

/*
 * RTM_NEWADDR (create only) or RTM_DELADDR: addr->len is the prefix
 * length, e.g. 10.97.10.1/24.  nodad sets IFA_F_NODAD (IPv6).
 */
struct nlmsghdr *rtnl_build_addr(void *buf, uint32_t seq, uint16_t type, int ifindex,
				 const struct prefix *addr, bool nodad);

/*
 * A default route of gw's family in the main table via gw on ifindex.
 * type RTM_NEWROUTE with nlflags NLM_F_EXCL (create) or NLM_F_REPLACE;
 * RTM_DELROUTE (nlflags 0) deletes it.
 */
struct nlmsghdr *rtnl_build_defroute(void *buf, uint32_t seq, uint16_t type, uint16_t nlflags,
				     int ifindex, const struct prefix *gw);

/* ---- parsers ---- */

#define RTNL_ALIAS_MAX 256 /* IFALIASZ */

struct rtnl_link {
	int ifindex;
	unsigned int flags; /* IFF_* */
	char name[IF_NAMESIZE];
	char alias[RTNL_ALIAS_MAX];
	char kind[16];	   /* IFLA_INFO_KIND, "" if none */
	int iflink;	   /* IFLA_LINK: a veth's peer ifindex, in the peer's netns */
	int accept_ra;	   /* IPv6 accept_ra (IFLA_INET6_CONF), -1 if not sent */
	int addr_gen_mode; /* IFLA_INET6_ADDR_GEN_MODE, -1 if not sent */
	int forwarding4;   /* IPv4 forwarding (IFLA_INET_CONF), -1 if not sent */
	int disable_ipv6;  /* IPv6 disable_ipv6 (IFLA_INET6_CONF), -1 if not sent */
	bool oper_up;	   /* IFLA_OPERSTATE is IF_OPER_UP (RFC 2863 "up") */
};

struct rtnl_addr {
	int ifindex;
	uint8_t scope;
	uint32_t flags;	    /* IFA_F_*, from IFA_FLAGS when present */
	struct prefix addr; /* the local address, len = prefix length */
};

struct rtnl_route {
	uint32_t table;
	uint8_t type, protocol;
	int oif; /* 0 if absent */
	uint32_t priority;
	bool has_gw;
	struct prefix dst; /* family and dst_len in len */
	struct prefix gw;  /* has_gw only */
};

/* False when nlh is not a well-formed message of that kind. */
bool rtnl_parse_link(const struct nlmsghdr *nlh, struct rtnl_link *out);

/*
 * Call fn for each alternative name of a link (IFLA_PROP_LIST's
 * IFLA_ALT_IFNAME, `ip link property add ... altname`): the kernel looks
 * names up among altnames too, so a new link cannot be given one.
 * Returns how many there were.
 */
size_t rtnl_link_altnames(const struct nlmsghdr *nlh, void (*fn)(const char *name, void *ctx),
			  void *ctx);
bool rtnl_parse_addr(const struct nlmsghdr *nlh, struct rtnl_addr *out);
bool rtnl_parse_route(const struct nlmsghdr *nlh, struct rtnl_route *out);

/*
 * An NLMSG_ERROR or NLMSG_DONE: *err becomes 0 or -errno, *msg the
 * kernel's extended-ack text (NLMSGERR_ATTR_MSG, pointing into nlh) or
 * NULL.  False when nlh is neither or is truncated.
 */
bool rtnl_parse_ack(const struct nlmsghdr *nlh, int *err, const char **msg);

/* ---- batches and the talker ---- */

/*
 * Called for every data message answering a request (several for a
 * dump).  Returns 0, or -errno to mark the request as failed.
 */
typedef int (*rtnl_reply_cb)(const struct nlmsghdr *nlh, void *ctx);

struct rtnl_req {
	uint32_t seq;
	bool done, dump;
	int err;    /* 0 or -errno once done */
	char *what; /* "create veth \"foobar-out\"", for messages */
	char *kmsg; /* the kernel's extended-ack text, or NULL */
	rtnl_reply_cb cb;
	void *ctx;
};

struct rtnl_batch {
	char *buf;
	size_t len, cap;
	struct rtnl_req *reqs;
	size_t nreqs;
	uint32_t seq; /* of the next request */
};

void rtnl_batch_init(struct rtnl_batch *b);
void rtnl_batch_free(struct rtnl_batch *b);
/* Forget every request; keeps the memory. */
void rtnl_batch_reset(struct rtnl_batch *b);
/* Where to build the next request: room for RTNL_MSG_MAX bytes. */
void *rtnl_batch_room(struct rtnl_batch *b);
/* The sequence number the next request must carry. */
uint32_t rtnl_batch_seq(const struct rtnl_batch *b);
/*
 * Account the request just built at rtnl_batch_room(); what (printf
 * style) names it in messages.  cb (may be NULL) sees its data replies.
 */
struct rtnl_req *rtnl_batch_add(struct rtnl_batch *b, struct nlmsghdr *nlh, rtnl_reply_cb cb,
				void *ctx, const char *fmt, ...) PRINTF_LIKE(5, 6);
/* The first failed request, or NULL. */
const struct rtnl_req *rtnl_batch_error(const struct rtnl_batch *b);

/* `what: strerror (kernel: text)` into buf. */
const char *rtnl_req_strerror(const struct rtnl_req *q, char *buf, size_t len);

struct rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	char *rbuf;
};

/* Open a socket in the caller's current network namespace. */
int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/*
 * Send every request of b and wait for every answer.  Requests are
 * independent: a failure does not stop the ones after it.  Returns 0, the
 * first failed request's -errno, or -errno of the socket itself (then the
 * outcome of unanswered requests is unknown).
 */
int rtnl_talk(struct rtnl *r, struct rtnl_batch *b);

/*
 * One dump of type (every family) through b, each answer to cb(ctx); b
 * keeps the request for rtnl_batch_error().  A concurrent change that interrupts the dump
 * (NLM_F_DUMP_INTR) has it asked again, after reset(ctx) (NULL: none) and
 * a pause that grows, for up to about three seconds: right after links
 * come up, IPv6 address configuration changes the addresses of thousands
 * of them for seconds, and a dump of them all is interrupted again and
 * again.  Returns rtnl_talk's result, -EINTR if it never got through.
 */
int rtnl_dump(struct rtnl *r, struct rtnl_batch *b, uint16_t type, rtnl_reply_cb cb, void *ctx,
	      void (*reset)(void *ctx), const char *what);

#endif
