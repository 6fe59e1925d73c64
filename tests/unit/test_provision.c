// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * provision: netns jails made, checked, changed and removed for real.
 *
 * The binary re-executes itself under
 * `unshare --net --mount --propagation private` (marked by
 * JAILFW_TEST_PROVISION so it does not loop), and before anything else
 * mounts private tmpfs where jailfw writes: /run (so that the mount points
 * below need not exist on the machine), /run/netns, /run/jailfw, and
 * /etc/netns (over an overlay of /etc whose upper layer is in that tmpfs
 * when /etc/netns does not exist).  Nothing it does can reach the
 * machine's namespaces, mounts or files.
 *
 *   [ sandbox netns = "the host" ]  wan0 ---veth--- eth0 [ netns inet ]
 *                                   eth9 ---veth--- eth1 [ netns inet ]
 *        foobar-out ---veth--- foobar-in [ netns foobar ]  (v4 + v6, dns)
 *        web-out    ---veth--- web-in    [ netns web ]     (v4 only)
 *        six-out    ---veth--- six-in    [ netns six ]     (v6 only)
 *
 * The checks read the kernel back with `ip` (the tools a user would use on
 * what jailfw built), /proc/sys, the files, and an rtnetlink listener that
 * sees every link, address and route change; the connectivity check sends
 * ICMP echo from inside a jail to the host end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "diag.h"
#include "fileio.h"
#include "model.h"
#include "parse.h"
#include "provision.h"
#include "state.h"
#include "testhook.h"
#include "util.h"
#include "sandbox.h"
#include "capture.h"
#include "t.h"

#define SANDBOX_ENV "JAILFW_TEST_PROVISION"

/* ---- helpers ---- */

static char *run(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Run a shell command (an observer: ip, cat) and return its output. */
static char *run(const char *fmt, ...)
{
	struct strbuf cmd, out;
	char buf[4096];
	va_list ap;
	size_t n;
	FILE *f;

	sb_init(&cmd);
	va_start(ap, fmt);
	sb_vprintf(&cmd, fmt, ap);
	va_end(ap);
	sb_puts(&cmd, " 2>&1");
	sb_init(&out);
	f = popen(cmd.s, "r");
	if (f) {
		while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
			buf[n] = '\0';
			sb_puts(&out, buf);
		}
		pclose(f);
	}
	sb_free(&cmd);
	return sb_steal(&out);
}

static bool has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

/* Check that the output of a command contains (or lacks) a string. */
#define T_OUT(want, cmd, needle, what)                                                             \
	do {                                                                                       \
		char *t_out = run("%s", cmd);                                                      \
		bool t_ok = has(t_out, needle) == (want);                                          \
		T_CHECK(t_ok, what);                                                               \
		if (!t_ok)                                                                         \
			printf("# %s:\n%s# (%s \"%s\")\n", cmd, t_out,                             \
			       (want) ? "wanted" : "unwanted", needle);                            \
		free(t_out);                                                                       \
	} while (0)

static char *slurp(const char *path)
{
	char *text = NULL;

	return fileio_read(path, &text) ? NULL : text;
}

static bool file_is(const char *path, const char *want)
{
	char *text = slurp(path);
	bool ok = text && !strcmp(text, want);

	if (!ok)
		printf("# %s: \"%s\" (want \"%s\")\n", path, text ? text : "(none)", want);
	free(text);
	return ok;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
}

/* The admin flag of a link, from `ip -o link show` ("<...,UP,...>"). */
static bool link_up(const char *ns, const char *ifname)
{
	char *out = ns ? run("ip -n %s -o link show dev %s", ns, ifname)
		       : run("ip -o link show dev %s", ifname);
	char *lt = strchr(out, '<'), *gt = lt ? strchr(lt, '>') : NULL, *save = NULL, *flag;
	bool up = false;

	if (gt) {
		*gt = '\0';
		for (flag = strtok_r(lt + 1, ",", &save); flag; flag = strtok_r(NULL, ",", &save))
			up |= !strcmp(flag, "UP");
	}
	free(out);
	return up;
}

static bool ns_exists(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) == 0;
}

static ino_t ns_ino(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) ? 0 : st.st_ino;
}

/* The kernel frees a deleted namespace's veth a moment later. */
static bool wait_link_gone(const char *ifname)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (!if_nametoindex(ifname))
			return true;
		usleep(10000);
	}
	return false;
}

/* Until no address anywhere is tentative (link-local DAD), up to 5 s. */
static void wait_dad(const char *const *nss)
{
	int i, k;

	for (i = 0; i < 50; i++) {
		bool busy = false;
		char *out = run("ip addr");

		busy = has(out, "tentative");
		free(out);
		for (k = 0; nss[k] && !busy; k++) {
			out = run("ip -n %s addr", nss[k]);
			busy = has(out, "tentative");
			free(out);
		}
		if (!busy)
			return;
		usleep(100000);
	}
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* In a child inside namespace ns: one ICMP echo to addr, reply within 2 s. */
static bool ping_from(const char *ns, const char *addr)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct sockaddr_storage ss = {0};
		char path[128], pkt[64] = {0}, in[512];
		struct pollfd pfd;
		socklen_t sl;
		int fd, s, i;

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(2);
		s = socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
		if (s < 0)
			_exit(3);
		if (family == AF_INET) {
			struct sockaddr_in *sin = (void *)&ss;
			struct icmphdr *h = (void *)pkt;

			sin->sin_family = AF_INET;
			inet_pton(AF_INET, addr, &sin->sin_addr);
			sl = sizeof(*sin);
			h->type = ICMP_ECHO;
			h->un.echo.id = htons(0x4a46);
			h->un.echo.sequence = htons(1);
			h->checksum = csum(pkt, sizeof(pkt));
		} else {
			struct sockaddr_in6 *sin6 = (void *)&ss;
			struct icmp6_hdr *h = (void *)pkt;

			sin6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, addr, &sin6->sin6_addr);
			sl = sizeof(*sin6);
			/* The kernel computes ICMPv6 checksums on raw sockets. */
			h->icmp6_type = ICMP6_ECHO_REQUEST;
			h->icmp6_id = htons(0x4a46);
			h->icmp6_seq = htons(1);
		}
		for (i = 0; i < 3; i++) {
			if (sendto(s, pkt, sizeof(pkt), 0, (void *)&ss, sl) < 0)
				_exit(4);
			pfd.fd = s;
			pfd.events = POLLIN;
			while (poll(&pfd, 1, 700) == 1) {
				ssize_t n = recv(s, in, sizeof(in), 0);

				if (family == AF_INET && n >= 28) {
					/* IPv4 raw sockets see the IP header. */
					size_t ihl = (size_t)(in[0] & 0x0f) * 4;
					struct icmphdr *h = (void *)(in + ihl);

					if ((size_t)n >= ihl + 8 && h->type == ICMP_ECHOREPLY &&
					    h->un.echo.id == htons(0x4a46))
						_exit(0);
				} else if (family == AF_INET6 && n >= 8) {
					struct icmp6_hdr *h = (void *)in;

					if (h->icmp6_type == ICMP6_ECHO_REPLY &&
					    h->icmp6_id == htons(0x4a46))
						_exit(0);
				}
			}
		}
		_exit(1);
	}
	if (waitpid(pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * A process that stays in namespace ns until killed, as a service in a
 * jail would: it keeps the namespace alive once its name is gone.
 */
static pid_t sit_in(const char *ns)
{
	int p[2], fd;
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char path[128];

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(1);
		/*
		 * Nothing of the parent's stays open here (its state lock, a
		 * namespace descriptor): only the process itself holds ns.
		 */
		if (p[1] > 3)
			close_range(3, (unsigned int)p[1] - 1, 0);
		close_range((unsigned int)p[1] + 1, ~0U, 0);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static void unsit(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* The interfaces of pid's network namespace, as /proc/PID/net/dev lists them. */
static char *links_of(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%ld/net/dev", (long)pid);
	return slurp(path);
}

/* A sysctl as seen from inside namespace ns, e.g. "0\n". */
static char *jail_sysctl(const char *ns, const char *key)
{
	return run("ip netns exec %s cat /proc/sys/%s", ns, key);
}

static bool jail_sysctl_is(const char *ns, const char *key, const char *want)
{
	char *v = jail_sysctl(ns, key);
	bool ok = !strcmp(v, want);

	if (!ok)
		printf("# %s in %s: \"%s\" (want \"%s\")\n", key, ns, v, want);
	free(v);
	return ok;
}

/* ---- listening for kernel changes ---- */

struct listener {
	struct mnl_socket *nl[4];
	size_t n;
};

static void listen_in(struct listener *l, const char *ns)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY), fd = -1;
	struct mnl_socket *nl;

	if (ns) {
		char path[128];

		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			goto out;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (nl && mnl_socket_bind(nl,
				  RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
				      RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
				  MNL_SOCKET_AUTOPID) == 0)
		l->nl[l->n++] = nl;
	else if (nl)
		mnl_socket_close(nl);
out:
	if (ns && setns(self, CLONE_NEWNET) < 0)
		abort();
	if (fd >= 0)
		close(fd);
	close(self);
}

/* How many change notifications arrived (quiet: not listed); closes the sockets. */
static int listen_count(struct listener *l, bool quiet)
{
	char buf[8192];
	int count = 0;
	size_t i;

	for (i = 0; i < l->n; i++) {
		ssize_t n;

		while ((n = recv(mnl_socket_get_fd(l->nl[i]), buf, sizeof(buf), MSG_DONTWAIT)) >
		       0) {
			const struct nlmsghdr *nlh = (const void *)buf;
			int len = (int)n;

			for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
				if (!quiet)
					printf("# change notification: type %u in listener %zu\n",
					       nlh->nlmsg_type, i);
				count++;
			}
		}
		mnl_socket_close(l->nl[i]);
	}
	l->n = 0;
	return count;
}

/* ---- policies ---- */

static struct prefix pfx(const char *s)
{
	struct prefix p;
	char buf[64], *slash;

	memset(&p, 0, sizeof(p));
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	*slash = '\0';
	p.family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	inet_pton(p.family, buf, p.addr.b);
	p.len = (uint8_t)atoi(slash + 1);
	return p;
}

static struct jail *add_jail(struct policy *p, const char *name, const char *v4, const char *v6)
{
	struct jail *j = VEC_PUSH(p->jails, p->njails);

	j->name = xstrdup(name);
	j->loc = (struct loc){p->files[0], (unsigned int)p->njails * 10, 1};
	j->backend = BACKEND_NETNS;
	if (v4) {
		j->has_v4 = true;
		j->v4 = pfx(v4);
	}
	if (v6) {
		j->has_v6 = true;
		j->v6 = pfx(v6);
	}
	return j;
}

enum {
	P_FOOBAR = 1 << 0,
	P_WEB = 1 << 1,
	P_SIX = 1 << 2,
	P_MOVED = 1 << 3, /* foobar on other prefixes */
	P_FB = 1 << 4,	  /* foobar with "ifname fb" */
};

static void policy_make(struct policy *p, unsigned int what)
{
	struct jail *j;

	policy_init(p);
	policy_add_file(p, "prov.conf");
	/* A uid jail: provisioning ignores it. */
	j = VEC_PUSH(p->jails, p->njails);
	j->name = xstrdup("psa");
	j->backend = BACKEND_UID;
	j->user = xstrdup("1099");
	j->uid_resolved = true;
	j->uid = j->gid = 1099;
	if (what & P_FOOBAR) {
		j = (what & P_MOVED) ? add_jail(p, "foobar", "10.97.20.0/24", "fd00:97::5:0/112")
				     : add_jail(p, "foobar", "10.97.10.0/24", "fd00:97::3:0/112");
		j->user = xstrdup("nobody");
		j->uid_resolved = true;
		j->uid = j->gid = 65534;
		j->dns = xcalloc(1, sizeof(*j->dns));
		j->dns[0] = (what & P_MOVED) ? pfx("10.97.20.1/32") : pfx("10.97.10.1/32");
		j->ndns = 1;
		j->dns_loc = j->loc;
		if (what & P_FB)
			j->ifname = xstrdup("fb");
	}
	if (what & P_WEB)
		add_jail(p, "web", "10.97.11.0/24", NULL);
	if (what & P_SIX)
		add_jail(p, "six", NULL, "fd00:97::4:0/112");
}

#define P_ALL (P_FOOBAR | P_WEB | P_SIX)

/* A diag that writes into memory, to look at the messages. */
/* A whole apply: lock, stage, commit (no ruleset in these tests). */
static int apply(unsigned int what, struct cap *c)
{
	struct prov_plan *plan = NULL;
	struct policy p;
	int fd, err;

	policy_make(&p, what);
	err = state_lock(false, &fd, NULL);
	if (err)
		goto out;
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c->d);
	if (!err)
		err = prov_commit(plan, &c->d);
	if (err)
		prov_rollback(plan, &c->d);
	prov_plan_free(plan);
	state_unlock(fd);
out:
	policy_free(&p);
	if (err)
		printf("# apply: %s\n%s", strerror(-err), cap_text(c));
	return err;
}

/* Everything `ip` shows on the host and in the jails. */
static char *snapshot(void)
{
	static const char *const nss[] = {"foobar", "web", "six"};
	struct strbuf sb;
	char *out;
	size_t i;

	sb_init(&sb);
	out = run("ip -d link show; ip addr show; ip route show; ip -6 route show");
	sb_puts(&sb, out);
	free(out);
	for (i = 0; i < ARRAY_SIZE(nss); i++) {
		out = run("{ ip -n %s -d link show; ip -n %s addr show; ip -n %s route show; "
			  "ip -n %s -6 route show; }",
			  nss[i], nss[i], nss[i], nss[i]);
		sb_puts(&sb, out);
		free(out);
	}
	return sb_steal(&sb);
}

/* ---- the tests ---- */

static void test_rollback_fresh(void)
{
	struct prov_plan *plan = NULL;
	struct policy p;
	struct cap c;
	int fd, err;
	pid_t sitter;
	char *links;

	cap_init(&c);
	policy_make(&p, P_ALL);
	T_CHECK(state_lock(false, &fd, NULL) == 0, "fresh: lock");
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0, "fresh: stage");
	T_CHECK(ns_exists("foobar") && if_nametoindex("foobar-out"), "fresh: staged jail exists");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "1\n") &&
		    file_is("/proc/sys/net/ipv4/conf/all/forwarding", "0\n"),
		"fresh: IPv4 forwarding on for the wan only, not for all");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "2\n"), "fresh: accept_ra 2");
	sitter = sit_in("web");
	T_CHECK(sitter > 0, "fresh: a process enters namespace web");
	T_CHECK(prov_rollback(plan, &c.d) == 0, "fresh: rollback");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	T_CHECK(!if_nametoindex("web-out"),
		"rollback: web-out deleted at once, though a process keeps web alive");
	links = links_of(sitter);
	T_CHECK(has(links, "lo:") && !has(links, "web-in"),
		"rollback: that process is left in its namespace, without web-in");
	free(links);
	unsit(sitter);

	T_OUT(false, "ip netns list", "foobar", "rollback: namespace foobar gone");
	T_CHECK(!ns_exists("web") && !ns_exists("six"), "rollback: no namespace left");
	T_CHECK(wait_link_gone("foobar-out") && wait_link_gone("web-out") &&
		    wait_link_gone("six-out"),
		"rollback: veths gone (freed with their namespaces)");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "0\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "0\n"),
		"rollback: forwarding restored");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n"),
		"rollback: accept_ra restored");
	T_CHECK(access("/etc/netns/foobar", F_OK) != 0, "rollback: /etc/netns/foobar removed");
	T_CHECK(access(STATE_FILE, F_OK) != 0, "rollback: no state file, as before");
	cap_free(&c);
}

static void test_stage_commit(void)
{
	struct prov_plan *plan = NULL;
	const char *const *lines;
	struct policy p;
	struct cap c;
	int fd, err;
	char *st;

	cap_init(&c);
	policy_make(&p, P_ALL);
	T_CHECK(state_lock(false, &fd, NULL) == 0, "stage: lock");
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0, "stage: succeeds");
	if (err)
		printf("%s", cap_text(&c));

	T_OUT(true, "ip netns list", "foobar", "stage: ip netns list shows foobar");
	T_OUT(true, "ip -d link show foobar-out", "alias jailfw:foobar",
	      "stage: host end has alias");
	T_OUT(true, "ip -d link show foobar-out", "veth", "stage: host end is a veth");
	T_OUT(true, "ip -d link show foobar-out", "link-netns foobar",
	      "stage: peer is in netns foobar");
	T_CHECK(!link_up(NULL, "foobar-out") && !link_up(NULL, "web-out") &&
		    !link_up(NULL, "six-out"),
		"stage: host ends DOWN until the ruleset is committed");
	T_CHECK(link_up("foobar", "foobar-in") && link_up("foobar", "lo"),
		"stage: jail end and jail lo up");
	T_OUT(true, "ip addr show foobar-out", "inet 10.97.10.1/24", "stage: host v4 address");
	T_OUT(true, "ip addr show foobar-out", "inet6 fd00:97::3:1/112", "stage: host v6 address");
	T_OUT(true, "ip -n foobar addr show foobar-in", "inet 10.97.10.2/24",
	      "stage: jail v4 address");
	T_OUT(true, "ip -n foobar addr show foobar-in", "inet6 fd00:97::3:2/112",
	      "stage: jail v6 address");
	T_OUT(true, "ip -6 addr show foobar-out scope global", "nodad",
	      "stage: host v6 address without DAD");
	T_OUT(true, "ip -n foobar -6 addr show foobar-in scope global", "nodad",
	      "stage: jail v6 address without DAD");
	T_OUT(true, "ip -n foobar route show default", "default via 10.97.10.1 dev foobar-in",
	      "stage: jail v4 default route");
	T_OUT(true, "ip -n foobar -6 route show default", "default via fd00:97::3:1 dev foobar-in",
	      "stage: jail v6 default route");
	T_OUT(true, "ip -n web addr show web-in", "inet 10.97.11.2/24", "stage: web v4 address");
	T_OUT(false, "ip -n web -6 addr show web-in scope global", "inet6",
	      "stage: web has no global v6 address");
	T_OUT(false, "ip -n web -6 route show default", "default", "stage: web has no v6 route");
	T_OUT(true, "ip -n six -6 route show default", "default via fd00:97::4:1 dev six-in",
	      "stage: six v6 default route");
	T_OUT(false, "ip -n six route show default", "default", "stage: six has no v4 route");
	T_OUT(true, "ip netns exec foobar cat /etc/resolv.conf", "nameserver 10.97.10.1",
	      "stage: ip netns exec sees the jail's resolv.conf");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "1\n"),
		"stage: forwarding on for both families");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "2\n"),
		"stage: accept_ra 2 on a non-jail interface that had 1");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/eth9/accept_ra", "0\n"),
		"stage: accept_ra 0 left alone");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/foobar-out/accept_ra", "1\n"),
		"stage: host ends' accept_ra left alone");
	T_CHECK(jail_sysctl_is("foobar", "net/ipv6/conf/foobar-in/accept_ra", "0\n") &&
		    jail_sysctl_is("web", "net/ipv6/conf/web-in/accept_ra", "0\n") &&
		    jail_sysctl_is("six", "net/ipv6/conf/six-in/accept_ra", "0\n"),
		"stage: accept_ra 0 on the jail ends, inside the jails (no router solicitation)");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/default/accept_ra", "1\n"),
		"stage: the host's default accept_ra left alone");
	T_CHECK(has(cap_text(&c), "set net.ipv6.conf.all.forwarding = 1 (was 0)") &&
		    has(cap_text(&c), "set net.ipv6.conf.wan0.accept_ra = 2 (was 1)"),
		"stage: sysctl changes reported");
	st = slurp(STATE_FILE);
	T_CHECK(has(st, "phase applying") &&
		    has(st, "jail foobar host=foobar-out peer=foobar-in") && has(st, "pending=1") &&
		    has(st, "sysctl net/ipv4/conf/wan0/forwarding old=0 set=1"),
		"stage: state records the apply in progress");
	free(st);
	T_CHECK(prov_plan_changes(plan, &lines) > 3 && has(lines[0], "create jail foobar"),
		"stage: change list");
	T_CHECK(!ping_from("foobar", "10.97.10.1") && !ping_from("foobar", "fd00:97::3:1"),
		"stage: fail closed, the jail reaches nothing before the commit");

	err = prov_commit(plan, &c.d);
	T_CHECK(err == 0, "commit: succeeds");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	T_CHECK(link_up(NULL, "foobar-out") && link_up(NULL, "web-out") && link_up(NULL, "six-out"),
		"commit: host ends UP");
	st = slurp(STATE_FILE);
	T_CHECK(has(st, "phase idle") && !has(st, "pending") && has(st, "uid=65534 gid=65534") &&
		    has(st, "table jailfw") && has(st, "jail psa backend=uid uid=1099 gid=1099\n"),
		"commit: state idle, records the jail user and the uid jail");
	free(st);
	T_CHECK(ping_from("foobar", "10.97.10.1"), "connectivity: jail pings host end (IPv4)");
	T_CHECK(ping_from("foobar", "fd00:97::3:1"), "connectivity: jail pings host end (IPv6)");
	T_CHECK(ping_from("six", "fd00:97::4:1"), "connectivity: v6-only jail pings host end");
	T_CHECK(!ping_from("foobar", "10.97.10.9"),
		"connectivity: no answer from an unused address");
	cap_free(&c);
}

static void test_idempotent(void)
{
	static const char *const nss[] = {"foobar", "web", "six", NULL};
	struct prov_plan *plan = NULL;
	const char *const *lines;
	struct listener l = {.n = 0};
	char *before, *after;
	struct policy p;
	struct cap c;
	size_t i;
	int fd, err;

	wait_dad(nss);
	before = snapshot();
	listen_in(&l, NULL);
	for (i = 0; nss[i]; i++)
		listen_in(&l, nss[i]);
	T_CHECK(l.n == 4, "again: listening on the host and in each jail");

	cap_init(&c);
	policy_make(&p, P_ALL);
	state_lock(false, &fd, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0 && prov_plan_changes(plan, &lines) == 0, "again: stage plans no change");
	err = err ? err : prov_commit(plan, &c.d);
	T_CHECK(err == 0, "again: commit");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);

	T_CHECK(listen_count(&l, false) == 0,
		"again: no link, address or route changed in the kernel");
	after = snapshot();
	T_CHECK(!strcmp(before, after),
		"again: ip -d link/addr/route identical, ifindexes unchanged");
	if (strcmp(before, after))
		printf("# before:\n%s# after:\n%s", before, after);
	T_CHECK(!has(cap_text(&c), "note"), "again: nothing reported");
	free(before);
	free(after);
	cap_free(&c);
}

/*
 * A jail whose accept_ra is not 0 (made by an earlier jailfw, or changed
 * by hand): apply puts it back to 0, inside the jail, and says so; the
 * next apply has nothing to do.
 */
static void test_accept_ra_existing(void)
{
	struct prov_plan *plan = NULL;
	const char *const *lines;
	struct policy p;
	struct strbuf all;
	struct cap c;
	size_t i, n;

	free(run(
	    "ip netns exec foobar sh -c 'echo 1 >/proc/sys/net/ipv6/conf/foobar-in/accept_ra'"));
	T_CHECK(jail_sysctl_is("foobar", "net/ipv6/conf/foobar-in/accept_ra", "1\n"),
		"accept_ra: set to 1 in jail foobar by hand");
	cap_init(&c);
	policy_make(&p, P_ALL);
	T_CHECK(prov_diff(&p, &plan, &c.d) == 0, "accept_ra: diff");
	n = prov_plan_changes(plan, &lines);
	sb_init(&all);
	for (i = 0; i < n; i++)
		sb_printf(&all, "%s\n", lines[i]);
	T_CHECK(n == 1 && has(all.s, "set net.ipv6.conf.foobar-in.accept_ra = 0 in namespace "
				     "\"foobar\" (was 1)\n"),
		"accept_ra: diff lists that change alone");
	if (n != 1)
		printf("# %s", all.s);
	sb_free(&all);
	prov_plan_free(plan);
	policy_free(&p);
	T_CHECK(jail_sysctl_is("foobar", "net/ipv6/conf/foobar-in/accept_ra", "1\n"),
		"accept_ra: diff changed nothing");
	T_CHECK(apply(P_ALL, &c) == 0, "accept_ra: apply");
	T_CHECK(jail_sysctl_is("foobar", "net/ipv6/conf/foobar-in/accept_ra", "0\n"),
		"accept_ra: apply set it back to 0 in the jail");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/default/accept_ra", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/foobar-out/accept_ra", "1\n"),
		"accept_ra: the host's own settings untouched");
	cap_free(&c);

	cap_init(&c);
	policy_make(&p, P_ALL);
	T_CHECK(prov_diff(&p, &plan, &c.d) == 0 && prov_plan_changes(plan, &lines) == 0,
		"accept_ra: then nothing left to change");
	prov_plan_free(plan);
	policy_free(&p);
	cap_free(&c);
}

static void test_leaving_rollback(void)
{
	struct listener l = {.n = 0};
	struct prov_plan *plan = NULL;
	struct policy p;
	struct cap c;
	int fd, err;

	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_WEB);
	state_lock(false, &fd, NULL);
	listen_in(&l, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0, "leaving: stage without six");
	T_CHECK(listen_count(&l, true) > 0, "leaving: the change listener sees a link go down");
	T_CHECK(!link_up(NULL, "six-out") && ns_exists("six"),
		"leaving: six cut (link down) before the ruleset commit, not yet removed");
	T_CHECK(prov_rollback(plan, &c.d) == 0, "leaving: rollback");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	T_CHECK(link_up(NULL, "six-out"), "leaving: rollback brings six back up");
	T_OUT(true, "ip addr show six-out", "inet6 fd00:97::4:1/112",
	      "leaving: six-out's IPv6 address (flushed by going down) is back");
	T_CHECK(ping_from("six", "fd00:97::4:1"), "leaving: six works again");
	cap_free(&c);
}

/* diff: what apply would do, and nothing done. */
static void test_diff(void)
{
	static const char *const nss[] = {"foobar", "web", "six", NULL};
	struct listener l = {.n = 0};
	struct prov_plan *plan = NULL;
	const char *const *lines;
	char *st_before, *st_after;
	struct policy p;
	struct strbuf all;
	struct cap c;
	size_t i, n;

	st_before = slurp(STATE_FILE);
	listen_in(&l, NULL);
	for (i = 0; nss[i]; i++)
		listen_in(&l, nss[i]);
	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_SIX | P_MOVED);
	T_CHECK(prov_diff(&p, &plan, &c.d) == 0, "diff: succeeds");
	n = prov_plan_changes(plan, &lines);
	sb_init(&all);
	for (i = 0; i < n; i++)
		sb_printf(&all, "%s\n", lines[i]);
	T_CHECK(has(all.s, "add address 10.97.20.1/24 to \"foobar-out\"\n") &&
		    has(all.s, "delete address 10.97.10.1/24 from \"foobar-out\"\n") &&
		    has(all.s, "set default route via 10.97.20.1 in namespace \"foobar\"\n") &&
		    has(all.s, "delete address fd00:97::3:2/112 from \"foobar-in\" in namespace "
			       "\"foobar\"\n") &&
		    has(all.s, "remove jail web") &&
		    has(all.s, "write /etc/netns/foobar/resolv.conf"),
		"diff: lists the address, route, file and jail changes");
	if (!has(all.s, "remove jail web"))
		printf("# %s", all.s);
	T_CHECK(prov_rollback(plan, &c.d) == 0, "diff: rollback is a no-op");
	prov_plan_free(plan);
	policy_free(&p);
	T_CHECK(listen_count(&l, false) == 0, "diff: nothing changed in the kernel");
	st_after = slurp(STATE_FILE);
	T_CHECK(st_before && st_after && !strcmp(st_before, st_after), "diff: state unchanged");
	T_CHECK(file_is("/etc/netns/foobar/resolv.conf",
			"# jailfw: resolv.conf of jail foobar (jailfw down removes it)\n"
			"nameserver 10.97.10.1\n"),
		"diff: resolv.conf unchanged");
	free(st_before);
	free(st_after);
	sb_free(&all);
	cap_free(&c);
}

static void test_prefix_change(void)
{
	unsigned int idx_out = if_nametoindex("foobar-out");
	ino_t ino = ns_ino("foobar");
	char *in_before = run("ip -n foobar -o link show foobar-in | cut -d: -f1"), *in_after;
	struct cap c;

	cap_init(&c);
	T_CHECK(apply(P_ALL | P_MOVED, &c) == 0, "moved: apply with foobar on new prefixes");
	T_CHECK(if_nametoindex("foobar-out") == idx_out && ns_ino("foobar") == ino,
		"moved: same namespace, same host link (fixed in place)");
	in_after = run("ip -n foobar -o link show foobar-in | cut -d: -f1");
	T_CHECK(!strcmp(in_before, in_after), "moved: same jail link");
	T_OUT(true, "ip addr show foobar-out", "inet 10.97.20.1/24", "moved: new host v4");
	T_OUT(false, "ip addr show foobar-out", "10.97.10.1", "moved: old host v4 gone");
	T_OUT(true, "ip addr show foobar-out", "inet6 fd00:97::5:1/112", "moved: new host v6");
	T_OUT(false, "ip addr show foobar-out", "fd00:97::3:1", "moved: old host v6 gone");
	T_OUT(true, "ip -n foobar addr show foobar-in", "inet 10.97.20.2/24", "moved: new jail v4");
	T_OUT(false, "ip -n foobar addr show foobar-in", "10.97.10.2", "moved: old jail v4 gone");
	T_OUT(false, "ip -n foobar addr show foobar-in", "fd00:97::3:2", "moved: old jail v6 gone");
	T_OUT(true, "ip -n foobar route show default", "default via 10.97.20.1 dev foobar-in",
	      "moved: v4 default route via the new host address");
	T_OUT(true, "ip -n foobar -6 route show default", "default via fd00:97::5:1 dev foobar-in",
	      "moved: v6 default route via the new host address");
	T_OUT(false, "ip -n foobar -6 route show default", "fd00:97::3:1",
	      "moved: old v6 route gone");
	T_CHECK(file_is("/etc/netns/foobar/resolv.conf",
			"# jailfw: resolv.conf of jail foobar (jailfw down removes it)\n"
			"nameserver 10.97.20.1\n"),
		"moved: resolv.conf rewritten");
	T_CHECK(ping_from("foobar", "10.97.20.1") && ping_from("foobar", "fd00:97::5:1"),
		"moved: jail reaches the new host addresses");
	free(in_before);
	free(in_after);
	cap_free(&c);
}

static void test_remove(void)
{
	char *st, *links;
	pid_t sitter;
	struct cap c;

	cap_init(&c);
	sitter = sit_in("web");
	T_CHECK(sitter > 0, "remove: a process enters namespace web");
	T_CHECK(apply(P_FOOBAR | P_SIX | P_MOVED, &c) == 0, "remove: apply without web");
	T_CHECK(!ns_exists("web"), "remove: namespace web deleted");
	T_OUT(false, "ip netns list", "web", "remove: ip netns list has no web");
	T_CHECK(!if_nametoindex("web-out"),
		"remove: web-out deleted at once, though a process keeps web alive");
	links = links_of(sitter);
	T_CHECK(has(links, "lo:") && !has(links, "web-in"),
		"remove: that process is left in its namespace, without web-in");
	free(links);
	unsit(sitter);
	st = slurp(STATE_FILE);
	T_CHECK(!has(st, "jail web") && has(st, "jail six"), "remove: state forgets web only");
	free(st);
	T_CHECK(ns_exists("six") && link_up(NULL, "six-out"), "remove: other jails untouched");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "1\n"),
		"remove: v4 forwarding still needed (foobar)");
	cap_free(&c);
}

/* Stage a policy with one extra jail; expect a refusal naming want. */
static void refused(const char *jail, const char *v4, const char *want)
{
	struct prov_plan *plan = NULL;
	char *st_before, *st_after, what[128];
	struct policy p;
	struct cap c;
	int fd, err;

	st_before = slurp(STATE_FILE);
	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_SIX | P_MOVED);
	add_jail(&p, jail, v4, NULL);
	add_jail(&p, "newbie", "10.97.32.0/24", NULL);
	state_lock(false, &fd, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	snprintf(what, sizeof(what), "foreign %s: stage refuses with -EEXIST", jail);
	T_CHECK(err == -EEXIST, what);
	snprintf(what, sizeof(what), "foreign %s: error at the jail's line names it", jail);
	T_CHECK(has(cap_text(&c), want), what);
	printf("# %s", cap_text(&c));
	snprintf(what, sizeof(what), "foreign %s: rollback is a no-op", jail);
	T_CHECK(prov_rollback(plan, &c.d) == 0, what);
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	snprintf(what, sizeof(what), "foreign %s: nothing created, not even for the other jail",
		 jail);
	T_CHECK(!ns_exists("newbie") && !if_nametoindex("newbie-out"), what);
	st_after = slurp(STATE_FILE);
	snprintf(what, sizeof(what), "foreign %s: state unchanged", jail);
	T_CHECK(st_before && st_after && !strcmp(st_before, st_after), what);
	free(st_before);
	free(st_after);
	cap_free(&c);
}

static void test_ifname_change(void)
{
	unsigned int what = P_FOOBAR | P_SIX | P_MOVED;
	ino_t ino = ns_ino("foobar");
	struct cap c;

	cap_init(&c);
	T_CHECK(apply(what | P_FB, &c) == 0, "ifname: apply with foobar's interfaces renamed fb");
	T_CHECK(if_nametoindex("fb-out") && !if_nametoindex("foobar-out") &&
		    ns_ino("foobar") == ino,
		"ifname: fb-out made, foobar-out deleted, same namespace");
	T_OUT(true, "ip -d link show fb-out", "alias jailfw:foobar", "ifname: fb-out is jailfw's");
	T_OUT(false, "ip -n foobar link", "foobar-in", "ifname: old jail end gone");
	T_OUT(true, "ip -n foobar -6 route show default", "default via fd00:97::5:1 dev fb-in",
	      "ifname: route via the new jail end");
	T_CHECK(link_up(NULL, "fb-out") && ping_from("foobar", "10.97.20.1"),
		"ifname: up and working after commit");
	T_CHECK(apply(what, &c) == 0 && if_nametoindex("foobar-out") && !if_nametoindex("fb-out"),
		"ifname: and back");
	T_CHECK(ping_from("foobar", "fd00:97::5:1"), "ifname: working again");
	cap_free(&c);
}

static void test_foreign(void)
{
	unsigned int ghost_idx;
	char *ghost;
	ino_t alien;

	free(run("ip netns add alien"));
	free(run("ip link add ghost-out type veth peer name ghost-peer"));
	alien = ns_ino("alien");
	ghost_idx = if_nametoindex("ghost-out");
	T_CHECK(alien && ghost_idx, "foreign: a namespace and a veth jailfw did not make");

	refused("alien", "10.97.30.0/24",
		"prov.conf:40:1: error: namespace \"alien\" exists (/run/netns/alien) but jailfw "
		"did not create it");
	T_CHECK(ns_ino("alien") == alien && !if_nametoindex("alien-out"),
		"foreign alien: namespace untouched, no veth into it");
	T_OUT(false, "ip -n alien link", "alien-in", "foreign alien: nothing added inside");

	refused("ghost", "10.97.31.0/24",
		"prov.conf:40:1: error: interface \"ghost-out\" exists and is not jailfw's");
	T_CHECK(if_nametoindex("ghost-out") == ghost_idx && !ns_exists("ghost"),
		"foreign ghost: veth untouched, no namespace made");
	ghost = run("ip -d link show ghost-out");
	T_CHECK(!has(ghost, "alias") && !link_up(NULL, "ghost-out") && !has(ghost, "inet"),
		"foreign ghost: not relabelled, not up, no address");
	free(ghost);
	free(run("ip netns delete alien; ip link delete ghost-out"));
}

/*
 * /run/netns/NAME holding something that is not a network namespace, in
 * each way a user or another tool could leave it: refused (-EEXIST, the
 * path and what is there named), and left exactly as it was.
 */
static void not_a_namespace(const char *setup, const char *kind, const char *want_what)
{
	char *before, *after, what[160], want[256];
	struct stat st;

	free(run("%s", setup));
	T_CHECK(lstat("/run/netns/nons", &st) == 0, kind);
	before = run("stat -c '%%F %%i %%s %%Y' /run/netns/nons; findmnt -n -o FSTYPE,SOURCE "
		     "--target /run/netns/nons");
	snprintf(want, sizeof(want),
		 "prov.conf:40:1: error: /run/netns/nons is not a network namespace jailfw made "
		 "(it is %s); remove it or rename the jail",
		 want_what);
	refused("nons", "10.97.33.0/24", want);
	after = run("stat -c '%%F %%i %%s %%Y' /run/netns/nons; findmnt -n -o FSTYPE,SOURCE "
		    "--target /run/netns/nons");
	snprintf(what, sizeof(what), "not a namespace (%s): left exactly as it was", kind);
	T_CHECK(!strcmp(before, after), what);
	if (strcmp(before, after))
		printf("# before: %s# after: %s", before, after);
	free(before);
	free(after);
	free(run("{ umount /run/netns/nons; umount /run/netns/nons; rm -rf /run/netns/nons "
		 "/run/nons-src /run/nons-dir; } 2>/dev/null"));
}

static void test_not_a_namespace(void)
{
	struct netns_id id;
	char buf[160];
	int fd = -1;

	free(run("touch /run/netns/nons"));
	T_CHECK(netns_open("nons", &fd, &id) == -ENODATA && fd == -1,
		"netns_open: an empty file is -ENODATA (what a killed creation leaves)");
	T_STREQ(netns_what("nons", buf, sizeof(buf)),
		"a regular file of 0 bytes, nothing mounted on it", "netns_what: empty file");
	free(run("echo x >/run/netns/nons"));
	T_CHECK(netns_open("nons", NULL, &id) == -EMEDIUMTYPE,
		"netns_open: a file with content is -EMEDIUMTYPE");
	free(run("rm -f /run/netns/nons; mkfifo /run/netns/nons"));
	T_CHECK(netns_open("nons", NULL, &id) == -EMEDIUMTYPE,
		"netns_open: a FIFO is -EMEDIUMTYPE (and open does not block)");
	T_STREQ(netns_what("nons", buf, sizeof(buf)), "a special file (a FIFO, socket or device)",
		"netns_what: FIFO");
	free(run("rm -f /run/netns/nons; ln -s /proc/self/ns/net /run/netns/nons"));
	T_CHECK(netns_open("nons", NULL, &id) == -EMEDIUMTYPE,
		"netns_open: a symbolic link is -EMEDIUMTYPE, even to a network namespace");
	free(run("rm -f /run/netns/nons"));
	T_CHECK(netns_open("nons", NULL, &id) == -ENOENT, "netns_open: nothing is -ENOENT");

	not_a_namespace("echo 'not a namespace' >/run/netns/nons", "a file with content",
			"a regular file of 16 bytes, nothing mounted on it");
	not_a_namespace("mkdir /run/nons-src && mount -t tmpfs nons /run/nons-src && "
			"touch /run/nons-src/f /run/netns/nons && "
			"mount --bind /run/nons-src/f /run/netns/nons && umount -l /run/nons-src",
			"an empty file with a tmpfs file bind-mounted on it",
			"a file with a tmpfs file mounted on it");
	not_a_namespace("mkdir /run/nons-dir /run/netns/nons && "
			"mount --bind /run/nons-dir /run/netns/nons",
			"a bind mount of a directory", "a directory with something mounted on it");
	not_a_namespace("touch /run/netns/nons && mount --bind /proc/self/ns/uts /run/netns/nons",
			"a uts namespace", "a uts namespace");
}

/*
 * A new jail "newbie" next to the jails in force, staged under fault:
 * stage fails with want_err reporting want, and after the rollback the
 * kernel (links, addresses, routes, in the host and the jails), the
 * namespaces and the state are as before.
 */
static void faulted(const char *label, const char *fault, int want_err, const char *want)
{
	struct prov_plan *plan = NULL;
	char *st_before, *st_after, *k_before, *k_after, what[160];
	struct policy p;
	struct cap c;
	int fd, err;

	static const char *const nss[] = {"foobar", "six", NULL};

	st_before = slurp(STATE_FILE);
	wait_dad(nss);
	k_before = snapshot();
	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_SIX | P_MOVED);
	add_jail(&p, "newbie", "10.97.32.0/24", "fd00:97::32:0/112");
	state_lock(false, &fd, NULL);
	if (fault)
		setenv("JAILFW_TEST_FAULT", fault, 1);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	unsetenv("JAILFW_TEST_FAULT");
	snprintf(what, sizeof(what), "%s: stage fails with %s", label, strerror(-want_err));
	T_CHECK(err == want_err, what);
	snprintf(what, sizeof(what), "%s: the message names the step", label);
	T_CHECK(has(cap_text(&c), want), what);
	printf("# %s", cap_text(&c));
	prov_rollback(plan, &c.d);
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	snprintf(what, sizeof(what), "%s: newbie's namespace and veth gone", label);
	T_CHECK(!ns_exists("newbie") && wait_link_gone("newbie-out"), what);
	st_after = slurp(STATE_FILE);
	wait_dad(nss);
	k_after = snapshot();
	snprintf(what, sizeof(what), "%s: state unchanged", label);
	T_CHECK(st_before && st_after && !strcmp(st_before, st_after), what);
	snprintf(what, sizeof(what), "%s: links, addresses, routes unchanged", label);
	T_CHECK(!strcmp(k_before, k_after), what);
	if (strcmp(k_before, k_after))
		printf("# before:\n%s# after:\n%s", k_before, k_after);
	snprintf(what, sizeof(what), "%s: no prepared state left behind", label);
	T_CHECK(access(STATE_NEXT, F_OK) != 0, what);
	free(st_before);
	free(st_after);
	free(k_before);
	free(k_after);
	cap_free(&c);
}

static void test_env_faults(void)
{
	struct prov_plan *plan = NULL;
	struct policy p;
	struct cap c;
	char *next, *st;
	int fd, err;

	faulted("netns-create", "netns-create", -ENOSPC,
		"prov.conf:40:1: error: create namespace \"newbie\": No space left on device");
	T_CHECK(access("/run/netns/newbie", F_OK) != 0,
		"netns-create: the file made for the namespace is removed");
	faulted("rtnl-newlink", "rtnl-newlink", -EIO,
		"create veth \"newbie-out\": Input/output error (kernel: refused by "
		"JAILFW_TEST_FAULT=rtnl-newlink)");
	/* A new jail's first setlink labels its namespace (ns_proven). */
	faulted("rtnl-setlink", "rtnl-setlink", -EIO,
		"set alias \"jailfw:newbie\" on \"lo\" in namespace \"newbie\": ");
	faulted("rtnl-newaddr", "rtnl-newaddr", -EIO,
		"add address 10.97.32.2/24 to \"newbie-in\" in namespace");
	faulted("rtnl-newroute", "rtnl-newroute", -EIO,
		"set default route via 10.97.32.1 in namespace \"newbie\"");

	/* A read-only /proc/sys: refused before anything is made. */
	T_CHECK(mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) == 0 &&
		    mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) == 0,
		"read-only /proc/sys (in the sandbox's mount namespace)");
	faulted("read-only /proc/sys", NULL, -EROFS,
		"error: cannot write net.ipv6.conf.default.accept_ra (in the jails' namespaces) "
		"(/proc/sys/net/ipv6/conf/default/accept_ra): Read-only file system");
	umount2("/proc/sys", MNT_DETACH);

	/* IPv6 off for new interfaces: refused before anything is made. */
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	faulted("IPv6 disabled", NULL, -EAFNOSUPPORT,
		"jail \"newbie\" has ipv6, but IPv6 is disabled on new interfaces "
		"(net.ipv6.conf.default.disable_ipv6 = 1)");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "0");

	/* The committed state is written at stage, installed by a rename. */
	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_SIX | P_MOVED);
	add_jail(&p, "newbie", "10.97.32.0/24", NULL);
	state_lock(false, &fd, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	next = slurp(STATE_NEXT);
	T_CHECK(err == 0 && has(next, "phase idle") && has(next, "jail newbie") &&
		    !has(next, "pending"),
		"prepared state: stage writes what commit will record");
	err = err ? err : prov_commit(plan, &c.d);
	st = slurp(STATE_FILE);
	T_CHECK(err == 0 && next && st && !strcmp(next, st) && access(STATE_NEXT, F_OK) != 0,
		"prepared state: commit installs it");
	free(next);
	free(st);
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	cap_free(&c);
	T_CHECK(apply(P_FOOBAR | P_SIX | P_MOVED, &c) == 0 && !ns_exists("newbie"),
		"prepared state: newbie removed again");
}

/* An apply killed between stage and commit, then the next one. */
static void test_interrupted(void)
{
	struct prov_plan *plan = NULL;
	struct policy p;
	struct cap c;
	int fd, err;
	char *st;

	cap_init(&c);
	policy_make(&p, P_FOOBAR | P_SIX | P_MOVED);
	add_jail(&p, "late", "10.97.40.0/24", "fd00:97::40:0/112");
	state_lock(false, &fd, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0 && !link_up(NULL, "late-out"), "killed: stage made late (down)");
	/* Killed here: no commit, no rollback, the lock goes with the process. */
	prov_plan_free(plan);
	state_unlock(fd);
	st = slurp(STATE_FILE);
	T_CHECK(has(st, "phase applying") && has(st, "jail late") && has(st, "pending=1"),
		"killed: state says an apply was under way");
	free(st);

	err = state_lock(false, &fd, NULL);
	plan = NULL;
	if (!err)
		err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	T_CHECK(err == 0 && has(cap_text(&c), "did not finish"),
		"killed: next apply notices and stages");
	T_CHECK(prov_commit(plan, &c.d) == 0 && link_up(NULL, "late-out"),
		"killed: next apply completes it (late up)");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	st = slurp(STATE_FILE);
	T_CHECK(has(st, "phase idle") && has(st, "jail late") && !has(st, "pending"),
		"killed: state idle again");
	free(st);
	T_CHECK(ping_from("late", "10.97.40.1"), "killed: late works");
	cap_free(&c);
}

/* Only as far as needed: no IPv4 jail left, no IPv4 forwarding. */
static void test_v6_only(void)
{
	struct cap c;

	cap_init(&c);
	T_CHECK(apply(P_SIX, &c) == 0, "v6 only: apply with six alone");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "0\n"),
		"v6 only: IPv4 forwarding given back at commit");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/all/forwarding", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "2\n"),
		"v6 only: IPv6 forwarding and accept_ra kept");
	T_CHECK(has(cap_text(&c), "restored net.ipv4.conf.wan0.forwarding = 0 (was 1)"),
		"v6 only: the restore is reported");
	T_CHECK(!ns_exists("foobar") && !ns_exists("late") &&
		    access("/etc/netns/foobar", F_OK) != 0,
		"v6 only: leaving jails removed with their resolv.conf and directory");
	T_CHECK(apply(P_FOOBAR | P_SIX | P_MOVED, &c) == 0 &&
		    file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "1\n") &&
		    ping_from("foobar", "10.97.20.1"),
		"v6 only: foobar back, IPv4 forwarding on again");
	cap_free(&c);
}

static void test_lock(void)
{
	int fd1, fd2 = -1;

	T_CHECK(state_lock(false, &fd1, NULL) == 0, "lock: taken");
	/* flock locks belong to the open file: a second open conflicts. */
	T_CHECK(state_lock(false, &fd2, NULL) == -EBUSY && fd2 == -1,
		"lock: second no-wait is -EBUSY");
	state_unlock(fd1);
	T_CHECK(state_lock(false, &fd2, NULL) == 0, "lock: free again after unlock");
	state_unlock(fd2);
}

/*
 * down with both jails still held: a process in six (found, six-out
 * deleted at once), and a mere descriptor of foobar's namespace (no scan
 * of processes finds that: foobar-out lingers, but inert).
 */
static void test_down(void)
{
	struct prov_plan *plan = NULL;
	char *links, *out, note[128];
	int fd, err, held;
	pid_t sitter;
	struct cap c;

	sitter = sit_in("six");
	held = open("/run/netns/foobar", O_RDONLY | O_CLOEXEC);
	T_CHECK(sitter > 0 && held >= 0,
		"down: a process in six, a descriptor of foobar's namespace held");
	T_OUT(true, "ip addr show foobar-out", "inet 10.97.20.1/24",
	      "down: foobar-out has its IPv4 address before");
	cap_init(&c);
	state_lock(false, &fd, NULL);
	err = prov_down_cut(&plan, &c.d);
	T_CHECK(err == 0, "down: cut");
	T_CHECK(prov_plan_table(plan) && !strcmp(prov_plan_table(plan), "jailfw"),
		"down: recorded table name for the caller");
	T_CHECK(!link_up(NULL, "foobar-out") && !link_up(NULL, "six-out"),
		"down: every jail cut before the table goes");
	T_CHECK(ns_exists("foobar"), "down: namespaces still there between the two steps");
	err = prov_down_finish(plan, &c.d);
	T_CHECK(err == 0, "down: finish");
	prov_plan_free(plan);
	state_unlock(fd);
	T_OUT(false, "ip netns list", "foobar", "down: no namespace left (foobar)");
	T_CHECK(!ns_exists("six"), "down: no namespace left (six)");
	T_CHECK(!if_nametoindex("six-out"),
		"down: six-out deleted at once, though a process keeps six alive");
	links = links_of(sitter);
	T_CHECK(has(links, "lo:") && !has(links, "six-in"),
		"down: that process is left in its namespace, without six-in");
	snprintf(note, sizeof(note), "namespace \"six\" is still in use (process %ld)",
		 (long)sitter);
	T_CHECK(has(cap_text(&c), note), "down: reports the process found in six");
	free(links);
	unsit(sitter);
	T_CHECK(if_nametoindex("foobar-out"),
		"down: foobar-out lingers while a descriptor holds its namespace");
	out = run("ip addr show dev foobar-out");
	T_CHECK(!has(out, "inet") && !link_up(NULL, "foobar-out"),
		"down: the lingering foobar-out is inert: no address, down");
	if (has(out, "inet"))
		printf("# %s", out);
	free(out);
	close(held);
	T_CHECK(wait_link_gone("foobar-out"),
		"down: foobar-out freed by the kernel once the descriptor is closed");
	T_CHECK(file_is("/proc/sys/net/ipv4/conf/wan0/forwarding", "0\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "0\n"),
		"down: forwarding restored");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/eth9/accept_ra", "0\n"),
		"down: accept_ra restored");
	T_CHECK(has(cap_text(&c), "restored net.ipv6.conf.all.forwarding = 0 (was 1)"),
		"down: restores reported");
	T_CHECK(access("/etc/netns/foobar", F_OK) != 0, "down: /etc/netns/foobar removed");
	T_CHECK(access(STATE_FILE, F_OK) != 0, "down: state removed");
	T_CHECK(!has(cap_text(&c), "warning"), "down: no warning");
	T_CHECK(if_nametoindex("wan0") && if_nametoindex("eth9"),
		"down: other interfaces untouched");
	cap_free(&c);
}

/* A whole down: lock, cut, finish. */
static int down(struct cap *c)
{
	struct prov_plan *plan = NULL;
	int fd, err;

	err = state_lock(false, &fd, NULL);
	if (err)
		return err;
	err = prov_down_cut(&plan, &c->d);
	err = err ? err : prov_down_finish(plan, &c->d);
	prov_plan_free(plan);
	state_unlock(fd);
	if (err)
		printf("# down: %s\n%s", strerror(-err), cap_text(c));
	return err;
}

/*
 * In a child, an apply of what (or a down, what 0) that the test-only
 * hook kills right after step; true if it died so.
 */
static bool killed_at(const char *step, unsigned int what)
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct cap c;

		setenv(TESTHOOK_KILL_ENV, step, 1);
		cap_init(&c);
		if (what)
			apply(what, &c);
		else
			down(&c);
		_exit(0);
	}
	return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/*
 * Killed half-way (SIGKILL, from the test-only hook): the state an apply
 * saves first announces what it is about to do, and the next run must do
 * it, or undo it, from there.
 */
static void test_killed(void)
{
	struct cap c;

	T_CHECK(killed_at("netns-created", P_FOOBAR), "killed at netns-created: died");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "0\n"),
		"killed at netns-created: the sysctls were recorded, not written yet");
	cap_init(&c);
	T_CHECK(apply(P_FOOBAR, &c) == 0, "killed at netns-created: the next apply");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "2\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "1\n"),
		"killed at netns-created: the next apply writes what the killed one recorded");
	T_CHECK(down(&c) == 0 && file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n") &&
		    file_is("/proc/sys/net/ipv6/conf/all/forwarding", "0\n"),
		"killed at netns-created: down restores them");
	T_CHECK(!has(cap_text(&c), "warning"), "killed at netns-created: no warning");
	cap_free(&c);

	/* After resolv.conf and its directory were made, before the state said so. */
	T_CHECK(killed_at("sysctls-written", P_FOOBAR) &&
		    access("/etc/netns/foobar/resolv.conf", F_OK) == 0,
		"killed at sysctls-written: died, /etc/netns/foobar made");
	cap_init(&c);
	T_CHECK(apply(P_FOOBAR, &c) == 0 && down(&c) == 0,
		"killed at sysctls-written: the next apply, then down");
	T_CHECK(access("/etc/netns/foobar", F_OK) != 0,
		"killed at sysctls-written: down removes the directory the killed apply made");
	cap_free(&c);

	/* A down killed once the sysctls were restored: the next has nothing to warn about. */
	cap_init(&c);
	T_CHECK(apply(P_FOOBAR, &c) == 0, "killed at sysctls-restored: apply");
	T_CHECK(killed_at("sysctls-restored", 0) &&
		    file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n"),
		"killed at sysctls-restored: died, accept_ra restored");
	cap_free(&c);
	cap_init(&c);
	T_CHECK(down(&c) == 0 && access(STATE_FILE, F_OK) != 0,
		"killed at sysctls-restored: the next down finishes");
	T_CHECK(!has(cap_text(&c), "warning"), "killed at sysctls-restored: no warning");
	if (has(cap_text(&c), "warning"))
		printf("# %s", cap_text(&c));
	cap_free(&c);
}

/* The whole front half of the pipeline: policy text, parser, checker. */
static void test_parsed_policy(void)
{
	static const char text[] = "settings {\n"
				   "\twan wan0\n"
				   "}\n"
				   "jail www {\n"
				   "\tbackend netns\n"
				   "\tipv4 10.97.50.0/24\n"
				   "\tipv6 fd00:97::50:0/112\n"
				   "\tifname w3\n"
				   "\tdns 10.97.50.1, fd00:97::50:1\n"
				   "\tallow tcp/443\n"
				   "}\n";
	struct prov_plan *plan = NULL;
	struct policy p;
	struct cap c;
	int fd, err;

	/* eth9 at 1 too: only the configured wan may change. */
	write_file("/proc/sys/net/ipv6/conf/eth9/accept_ra", "1");
	cap_init(&c);
	policy_init(&p);
	T_CHECK(policy_parse_buffer(&p, &c.d, "www.conf", text, strlen(text), false) &&
		    check_policy(&p, &c.d, NULL),
		"parsed: the policy parses and checks");
	state_lock(false, &fd, NULL);
	err = prov_stage(&p, PROV_CHECK_FULL, &plan, &c.d);
	err = err ? err : prov_commit(plan, &c.d);
	T_CHECK(err == 0, "parsed: stage and commit");
	prov_plan_free(plan);
	plan = NULL;
	T_OUT(true, "ip -d link show w3-out", "alias jailfw:www",
	      "parsed: ifname w3, alias names the jail");
	T_OUT(true, "ip -n www addr show w3-in", "inet6 fd00:97::50:2/112",
	      "parsed: jail v6 address");
	T_CHECK(file_is("/etc/netns/www/resolv.conf",
			"# jailfw: resolv.conf of jail www (jailfw down removes it)\n"
			"nameserver 10.97.50.1\nnameserver fd00:97::50:1\n"),
		"parsed: resolv.conf with both servers");
	T_CHECK(file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "2\n") &&
		    file_is("/proc/sys/net/ipv6/conf/eth9/accept_ra", "1\n"),
		"parsed: accept_ra 2 on the configured wan only");
	T_CHECK(ping_from("www", "fd00:97::50:1"), "parsed: the jail works");
	err = prov_down_cut(&plan, &c.d);
	err = err ? err : prov_down_finish(plan, &c.d);
	T_CHECK(err == 0 && !ns_exists("www") &&
		    file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n"),
		"parsed: down");
	prov_plan_free(plan);
	state_unlock(fd);
	policy_free(&p);
	cap_free(&c);
}

/* ---- the sandbox ---- */

static bool mount_tmpfs(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return false;
	return mount("jailfw-test", dir, "tmpfs", 0, "mode=0755") == 0;
}

/* Private tmpfs everywhere jailfw writes, before anything else. */
static bool sandbox(void)
{
	struct stat st;

	if (!mount_tmpfs("/run") || !mount_tmpfs("/run/netns") || !mount_tmpfs("/run/jailfw"))
		return false;
	if (stat("/etc/netns", &st) != 0) {
		/*
		 * /etc/netns must exist to be covered: create it in an overlay
		 * of /etc whose upper layer lives in our /run tmpfs, so that
		 * the machine's /etc is never written.
		 */
		if (mkdir("/run/.etc", 0755) || mkdir("/run/.etc/upper", 0755) ||
		    mkdir("/run/.etc/work", 0755) ||
		    mount("overlay", "/etc", "overlay", 0,
			  "lowerdir=/etc,upperdir=/run/.etc/upper,workdir=/run/.etc/work"))
			return false;
	}
	if (!mount_tmpfs("/etc/netns"))
		return false;
	/* The host's world: lo, and two uplinks to a namespace "inet". */
	free(run("ip link set lo up; ip netns add inet; "
		 "ip link add wan0 type veth peer name eth0 netns inet; "
		 "ip link add eth9 type veth peer name eth1 netns inet; "
		 "ip link set wan0 up; ip link set eth9 up"));
	write_file("/proc/sys/net/ipv6/conf/eth9/accept_ra", "0");
	return if_nametoindex("wan0") && if_nametoindex("eth9") &&
	       file_is("/proc/sys/net/ipv6/conf/wan0/accept_ra", "1\n");
}

int main(void)
{
	if (!getenv(SANDBOX_ENV)) {
		int err = t_reexec_unshared(SANDBOX_ENV);

		printf("not ok 1 - cannot run unshare: %s\n", strerror(-err));
		return 1;
	}
	T_CHECK(sandbox(), "sandbox: private tmpfs on /run/netns, /run/jailfw, /etc/netns");
	if (t_failed)
		return t_done();
	test_lock();
	test_rollback_fresh();
	test_stage_commit();
	test_idempotent();
	test_accept_ra_existing();
	test_leaving_rollback();
	test_diff();
	test_prefix_change();
	test_remove();
	test_ifname_change();
	test_foreign();
	test_not_a_namespace();
	test_env_faults();
	test_interrupted();
	test_v6_only();
	test_down();
	test_killed();
	test_parsed_policy();
	return t_done();
}
