// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench/netns-floor.c: the kernel's floor under jailfw's netns jails.
 * Makes N named namespaces the way `ip netns add` and jailfw do (unshare,
 * a bind mount on /run/netns/NAME), each with a veth pair whose one end
 * is created inside it (IFLA_NET_NS_FD), and prints the time per jail for
 * every STEP jails made, so that a cost growing with the number already
 * there shows; then deletes them all (umount + unlink, the host ends go
 * with their namespaces) and prints that time, and the time until the
 * kernel has freed the last host end (it cleans dead namespaces up on a
 * workqueue of its own, in batches).  Nothing of jailfw: the
 * fewest system calls that give a jail its namespace and veth.
 *
 *   netns-floor N STEPS [up] [addr] [nov6] [sysctl] [ownproc] [unaddr] [cut]
 *
 * STEPS: a number (a line for every that many jails made) or a list of
 * counts, "100,1000,5000" (a line per count, as bench/netns-scale.sh's
 * steps; N is then the last).
 *
 * Options add what jailfw does to each jail besides: "up" brings both ends
 * up (with carrier, IPv6 addrconf gives the host
 * end a link-local address and routes, which the kernel walks whenever a
 * link comes or goes), "addr"
 * gives it an IPv4 /30 (10.100.0.0/16: a local and a prefix route, which
 * the kernel walks when a link goes), "nov6" sets the host end's
 * addr_gen_mode to none while it is down (no link-local address: what
 * jailfw does for a jail without ipv6), "sysctl" writes the new
 * namespace's net.ipv6.conf.default.accept_ra as jailfw did (through
 * /proc: a path lookup in /proc/sys whose cost grows with the namespaces
 * that looked it up), "ownproc" makes that write through a proc instance
 * made for each 32 namespaces, as jailfw does now (provision_create.c),
 * "cut" sets every host end down before the names go, as jailfw's down
 * does, and "unaddr" deletes their addresses first, as jailfw's down does
 * now (a link going down with routes makes the kernel walk them all).
 *
 * Run only inside a throwaway `unshare --net --mount` with a private tmpfs
 * on /run/netns (bench/netns-floor.sh does): it changes the network
 * namespace it runs in.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RUN_DIR "/run/netns"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "netns-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One request: the header, a struct ifinfomsg, attributes. */
union req {
	struct nlmsghdr h;
	char buf[1024];
};

static struct ifinfomsg *req_init(union req *r)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r->h.nlmsg_type = RTM_NEWLINK;
	return NLMSG_DATA(&r->h);
}

static struct rtattr *put(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void nest_end(struct nlmsghdr *h, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

/* Send one request, wait for its ack. */
static void talk(int fd, struct nlmsghdr *h, const char *what)
{
	char buf[4096];
	struct nlmsgerr *e;
	ssize_t n;

	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, h, h->nlmsg_len, 0) < 0)
		die(what);
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*e)))
		die(what);
	e = NLMSG_DATA((struct nlmsghdr *)buf);
	if (e->error) {
		errno = -e->error;
		die(what);
	}
}

static void veth(int fd, const char *host, const char *jail, int nsfd)
{
	struct rtattr *li, *data, *peer;
	struct ifinfomsg pi = {0};
	union req r;

	req_init(&r);
	r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	put(&r.h, IFLA_IFNAME, host, strlen(host) + 1);
	li = put(&r.h, IFLA_LINKINFO, NULL, 0);
	put(&r.h, IFLA_INFO_KIND, "veth", 5);
	data = put(&r.h, IFLA_INFO_DATA, NULL, 0);
	peer = put(&r.h, VETH_INFO_PEER, &pi, sizeof(pi));
	put(&r.h, IFLA_IFNAME, jail, strlen(jail) + 1);
	put(&r.h, IFLA_NET_NS_FD, &nsfd, sizeof(nsfd));
	nest_end(&r.h, peer);
	nest_end(&r.h, data);
	nest_end(&r.h, li);
	talk(fd, &r.h, "create veth");
}

/* Up or down by name: fd may be a socket in another namespace. */
static void link_set(int fd, const char *name, bool up)
{
	union req r;
	struct ifinfomsg *i = req_init(&r);

	i->ifi_flags = up ? IFF_UP : 0;
	i->ifi_change = IFF_UP;
	put(&r.h, IFLA_IFNAME, name, strlen(name) + 1);
	talk(fd, &r.h, "set link up or down");
}

static bool opt_sysctl, opt_ownproc;
static int own_proc = -1, own_uses;

/* 10.100.0.0/16 cut into /30s, the host end's address: .1 of jail i's. */
static void host_addr(int fd, const char *name, int i, int type)
{
	union req r;
	struct ifaddrmsg *a;
	unsigned char ip[4] = {10, 100 + (i * 4) / 65536, ((i * 4) / 256) % 256, (i * 4) % 256 + 1};

	memset(&r, 0, sizeof(r));
	r.h.nlmsg_len = NLMSG_LENGTH(sizeof(*a));
	r.h.nlmsg_type = type;
	r.h.nlmsg_flags = type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0;
	a = NLMSG_DATA(&r.h);
	a->ifa_family = AF_INET;
	a->ifa_prefixlen = 30;
	a->ifa_index = if_nametoindex(name);
	if (!a->ifa_index)
		die(name);
	put(&r.h, IFA_LOCAL, ip, 4);
	put(&r.h, IFA_ADDRESS, ip, 4);
	talk(fd, &r.h, type == RTM_NEWADDR ? "add address" : "delete address");
}

/* addr_gen_mode none on a link that is down: no IPv6 link-local address. */
static void no_v6(int fd, const char *name)
{
	struct rtattr *spec, *in6;
	unsigned char mode = 1; /* IN6_ADDR_GEN_MODE_NONE */
	union req r;

	req_init(&r);
	put(&r.h, IFLA_IFNAME, name, strlen(name) + 1);
	spec = put(&r.h, IFLA_AF_SPEC, NULL, 0);
	in6 = put(&r.h, AF_INET6, NULL, 0);
	put(&r.h, IFLA_INET6_ADDR_GEN_MODE, &mode, 1);
	nest_end(&r.h, in6);
	nest_end(&r.h, spec);
	talk(fd, &r.h, "set addr_gen_mode");
}

/* A proc instance of our own, not mounted anywhere (fsopen, Linux 5.2). */
static int proc_instance(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC), m;

	if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		die("fsopen proc");
	m = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (m < 0)
		die("fsmount proc");
	close(fs);
	return m;
}

/*
 * A named namespace as `ip netns add NAME` makes it; returns an fd to it,
 * and in *nl a netlink socket in it.
 */
static int ns_add(const char *name, int self, int *nl)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), RUN_DIR "/%s", name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		die(path);
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare");
	if (opt_sysctl && opt_ownproc && own_uses++ % 32 == 0) {
		if (own_proc >= 0)
			close(own_proc);
		own_proc = proc_instance();
	}
	if (opt_sysctl) {
		fd = opt_ownproc
			 ? openat(own_proc, "sys/net/ipv6/conf/default/accept_ra",
				  O_WRONLY | O_CLOEXEC)
			 : open("/proc/sys/net/ipv6/conf/default/accept_ra", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0\n", 2) != 2)
			die("accept_ra");
		close(fd);
	}
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		die("bind mount");
	*nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (*nl < 0)
		die("netlink socket in the namespace");
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open netns");
	if (setns(self, CLONE_NEWNET) < 0)
		die("setns back");
	return fd;
}

static void ns_del(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), RUN_DIR "/%s", name);
	if (umount2(path, MNT_DETACH) < 0 || unlink(path) < 0)
		die(path);
}

/* The teardown's figures, per jail. */
static void say(const char *what, int n, double t)
{
	double ms = now_ms() - t;

	printf("%s %d in %.0f ms (%.3f ms per jail)\n", what, n, ms, ms / n);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int n, step = 0, i, fd, self, nsfd, nl, counts[64], ncounts = 0, c = 0, from = 0;
	bool up = false, addr = false, cut = false, nov6 = false, unaddr = false;
	char name[32], host[IFNAMSIZ], jail[IFNAMSIZ], *p;
	double t, t0;

	if (argc < 3 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: %s N STEPS [options]\n", argv[0]);
		return 2;
	}
	if (strchr(argv[2], ',')) {
		for (p = argv[2]; *p && ncounts < 64; p += strspn(p, ","))
			counts[ncounts++] = (int)strtol(p, &p, 10);
		n = counts[ncounts - 1];
	} else if ((step = atoi(argv[2])) <= 0) {
		fprintf(stderr, "%s: STEPS: a number or a list of counts\n", argv[0]);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "up"))
			up = true;
		else if (!strcmp(argv[i], "cut"))
			cut = true;
		else if (!strcmp(argv[i], "addr"))
			addr = true;
		else if (!strcmp(argv[i], "nov6"))
			nov6 = true;
		else if (!strcmp(argv[i], "unaddr"))
			unaddr = true;
		else if (!strcmp(argv[i], "sysctl"))
			opt_sysctl = true;
		else if (!strcmp(argv[i], "ownproc"))
			opt_ownproc = true;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || self < 0)
		die("netlink socket");
	printf("%7s %7s  %s\n", "from", "to", "ms per jail (namespace + veth into it)");
	t = t0 = now_ms();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		snprintf(host, sizeof(host), "f%d-out", i);
		snprintf(jail, sizeof(jail), "f%d-in", i);
		nsfd = ns_add(name, self, &nl);
		veth(fd, host, jail, nsfd);
		if (nov6)
			no_v6(fd, host);
		if (up)
			link_set(nl, jail, true);
		close(nl);
		if (addr)
			host_addr(fd, host, i, RTM_NEWADDR);
		if (up)
			link_set(fd, host, true);
		close(nsfd);
		if (step ? (i + 1) % step == 0 || i + 1 == n : i + 1 == counts[c]) {
			double now = now_ms();

			printf("%7d %7d  %.3f\n", from, i + 1, (now - t) / (i + 1 - from));
			fflush(stdout);
			t = now;
			from = i + 1;
			c++;
		}
	}
	if (own_proc >= 0)
		close(own_proc);
	say("made", n, t0);
	if (unaddr && addr) {
		t = now_ms();
		for (i = 0; i < n; i++) {
			snprintf(host, sizeof(host), "f%d-out", i);
			host_addr(fd, host, i, RTM_DELADDR);
		}
		say("deleted the addresses of", n, t);
	}
	if (cut) {
		t = now_ms();
		for (i = 0; i < n; i++) {
			snprintf(host, sizeof(host), "f%d-out", i);
			link_set(fd, host, false);
		}
		say("set down", n, t);
	}
	t = now_ms();
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ns_del(name);
	}
	say("deleted the names of", n, t);
	for (i = 0; i < n; i++) {
		snprintf(host, sizeof(host), "f%d-out", i);
		while (if_nametoindex(host))
			usleep(1000);
	}
	say("all host ends gone, from the names' deletion:", n, t);
	return 0;
}
