// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw verify: the sandbox, its helpers, and the report.  See verify.h.
 *
 * Processes:
 *
 *   jailfw (the caller)                 plans the probes, prints the report
 *    `- sandbox (own netns + mount ns)  the sandbox's "host": builds the
 *        |                              world, applies, collects reports
 *        |- listener: internet          setns into the internet namespace
 *        |- listener: host              stays in the sandbox host namespace
 *        |- listener: jail NAME ...     setns into /run/netns/NAME
 *        |- prober: jail NAME ...       uid: setresuid; netns: setns
 *        |- prober: internet            inbound probes (published ports)
 *        `- prober: host                root, unconfined: the controls
 *
 * Helpers report one line each event on a shared pipe (lines are shorter
 * than PIPE_BUF, so each write is atomic); the sandbox sends the caller
 * one line per probe on another pipe.  The sandbox is the leader of its
 * own process group and every process below it has PR_SET_PDEATHSIG, so
 * the caller can end the whole tree with one kill, and none outlives its
 * parent.
 */
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "caps.h"
#include "jsonw.h"
#include "netns.h"
#include "rtnl.h"
#include "state.h"
#include "testhook.h"
#include "util.h"

#define SELF_NETNS "/proc/thread-self/ns/net"
#define PING_RANGE "/proc/sys/net/ipv4/ping_group_range"
/* Where the overlay for /etc keeps its layers (on the sandbox's /run). */
#define ETC_LAYERS "/run/jailfw-verify-etc"

/* Listener ids: the internet, the host, then one per jail index. */
#define LID_INTERNET 0u
#define LID_HOST 1u
#define LID_JAIL0 2u

/* Helpers never outlive a wedged sandbox by much. */
#define LISTEN_LIFETIME_MS 60000
#define READY_MS 5000	 /* listeners must be bound by then */
#define COLLECT_MS 20000 /* probers must be done by then */

struct sbx {
	const struct policy *p; /* the sandbox's copy of the policy */
	struct probe_plan *plan;
	const struct verify_opts *o;
	struct diag *d;
	pid_t self;
	int inetfd;   /* the internet namespace */
	int rfd, wfd; /* helpers' report pipe */
	int resfd;    /* results for the caller */
	uint32_t nonce;
	pid_t *kids;
	size_t nkids;
	bool strip_dns; /* no private /etc/netns could be made */
	/* Collection state. */
	unsigned int ready, nlisteners;
	pid_t *probers;
	bool *prober_done;
	size_t nprobers, ndone;
	bool helper_failed;
	char lbuf[8192];
	size_t llen;
};

static void say(const struct sbx *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void say(const struct sbx *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o->verbose)
		return;
	fputs("jailfw: verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int verify_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		ret = errno ? -errno : -EIO;
	close(fd);
	return ret;
}

/*
 * Unprivileged ICMP echo sockets for every group, in the caller's
 * network namespace only (the setting is per namespace), so probes can
 * ping as the jail's uid without raw sockets or setuid helpers.
 */
static int allow_ping(void)
{
	return verify_write_file(PING_RANGE, "0 2147483647");
}

/* ------------------------------------------------------------ the world */

static int talk(struct sbx *s, struct rtnl_batch *b, const char *where)
{
	const struct rtnl_req *q;
	struct rtnl r;
	char buf[512];
	int err;

	err = rtnl_open(&r);
	if (err) {
		diag_error(s->d, NULL, 0, "verify: open rtnetlink (%s): %s", where, strerror(-err));
		return err;
	}
	err = rtnl_talk(&r, b);
	rtnl_close(&r);
	if (err) {
		q = rtnl_batch_error(b);
		if (q)
			diag_error(s->d, NULL, 0, "verify: building the sandbox (%s): %s", where,
				   rtnl_req_strerror(q, buf, sizeof(buf)));
		else
			diag_error(s->d, NULL, 0, "verify: building the sandbox (%s): %s", where,
				   strerror(-err));
	}
	return err;
}

static void add_link_up(struct rtnl_batch *b, int ifindex, const char *name)
{
	struct nlmsghdr *nlh =
	    rtnl_build_setlink(rtnl_batch_room(b), rtnl_batch_seq(b), ifindex, IFF_UP, IFF_UP);

	rtnl_batch_add(b, nlh, NULL, NULL, "set link \"%s\" up", name);
}

/*
 * IPv6 addresses without duplicate address detection: a tentative
 * address can be neither bound nor used as a source for a second or more,
 * and nothing else on these links could hold it anyway.
 */
static void add_addr(struct rtnl_batch *b, int ifindex, const struct prefix *a)
{
	char buf[PREFIX_STRLEN];
	struct nlmsghdr *nlh = rtnl_build_addr(rtnl_batch_room(b), rtnl_batch_seq(b), RTM_NEWADDR,
					       ifindex, a, a->family == AF_INET6);

	rtnl_batch_add(b, nlh, NULL, NULL, "add address %s", prefix_str(a, buf));
}

static void add_defroute(struct rtnl_batch *b, int ifindex, const struct prefix *gw)
{
	char buf[PREFIX_STRLEN];
	struct nlmsghdr *nlh = rtnl_build_defroute(rtnl_batch_room(b), rtnl_batch_seq(b),
						   RTM_NEWROUTE, NLM_F_EXCL, ifindex, gw);

	rtnl_batch_add(b, nlh, NULL, NULL, "add default route via %s", addr_str(gw, buf));
}

/* One side of the wan: lo and the link up, its addresses, default routes. */
static int wan_side(struct sbx *s, bool host)
{
	const char *ifname = host ? PROBE_WAN_IF : PROBE_INET_IF;
	struct prefix me, gw;
	struct rtnl_batch b;
	int ifindex, lo, err, fam;
	size_t i;

	lo = (int)if_nametoindex("lo");
	ifindex = (int)if_nametoindex(ifname);
	if (!lo || !ifindex) {
		diag_error(s->d, NULL, 0, "verify: no interface \"%s\" in the sandbox",
			   lo ? ifname : "lo");
		return -ENODEV;
	}
	rtnl_batch_init(&b);
	add_link_up(&b, lo, "lo");
	add_link_up(&b, ifindex, ifname);
	for (fam = 0; fam < 2; fam++) {
		probe_wan_addr(fam ? AF_INET6 : AF_INET, host, &me);
		add_addr(&b, ifindex, &me);
	}
	/* The internet owns every address a probe goes to. */
	for (i = 0; !host && i < s->plan->ninet; i++)
		add_addr(&b, ifindex, &s->plan->inet_addrs[i]);
	err = talk(s, &b, host ? "the host's wan" : "the internet");
	rtnl_batch_reset(&b);
	for (fam = 0; !err && fam < 2; fam++) {
		probe_wan_addr(fam ? AF_INET6 : AF_INET, !host, &gw);
		add_defroute(&b, ifindex, &gw);
	}
	if (!err)
		err = talk(s, &b, host ? "the host's routes" : "the internet's routes");
	rtnl_batch_free(&b);
	return err;
}

/*
 * The internet acts on segment routing headers (seg6_enabled, off by
 * default), as a router beyond the host may: a jail's packet with one
 * would be handed on to the real destination in it (the probes of kind
 * PK_RTHDR, whose controls show that it would).
 */
static int inet_side(void *ctx)
{
	static const char *const keys[] = {"/proc/sys/net/ipv6/conf/all/seg6_enabled",
					   "/proc/sys/net/ipv6/conf/" PROBE_INET_IF
					   "/seg6_enabled"};
	size_t i;
	int err = wan_side(ctx, false);

	for (i = 0; !err && i < ARRAY_SIZE(keys); i++) {
		err = verify_write_file(keys[i], "1");
		if (err == -ENOENT)
			err = 0; /* no IPv6: no such probe either */
		if (err)
			diag_error(((struct sbx *)ctx)->d, NULL, 0, "verify: write %s: %s", keys[i],
				   strerror(-err));
	}
	return err;
}

/*
 * The internet: a namespace of its own, anonymous (nothing of the
 * sandbox's /run/netns can collide with a jail's name), kept alive by
 * s->inetfd, joined to the sandbox host by the wan veth.
 */
static int build_internet(struct sbx *s)
{
	struct rtnl_batch b;
	struct nlmsghdr *nlh;
	int self, err;

	self = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (unshare(CLONE_NEWNET) < 0) {
		err = -errno;
		close(self);
		diag_error(s->d, NULL, 0, "verify: create the internet namespace: %s",
			   strerror(-err));
		return err;
	}
	s->inetfd = open(SELF_NETNS, O_RDONLY | O_CLOEXEC);
	err = s->inetfd < 0 ? -errno : 0;
	/* Staying in the wrong namespace would build the world inside out. */
	if (setns(self, CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"jailfw: fatal: verify: cannot return to the sandbox namespace: %s\n",
			strerror(errno));
		abort();
	}
	close(self);
	if (err)
		return err;

	rtnl_batch_init(&b);
	nlh = rtnl_build_veth(rtnl_batch_room(&b), rtnl_batch_seq(&b), PROBE_WAN_IF, PROBE_INET_IF,
			      s->inetfd);
	rtnl_batch_add(&b, nlh, NULL, NULL, "create veth \"%s\"", PROBE_WAN_IF);
	err = talk(s, &b, "the wan veth");
	rtnl_batch_free(&b);
	if (!err)
		err = netns_run(s->inetfd, inet_side, s);
	if (!err)
		err = wan_side(s, true);
	if (!err)
		err = allow_ping();
	say(s, "internet namespace up: %zu target addresses behind %s", s->plan->ninet,
	    PROBE_WAN_IF);
	return err;
}

/*
 * /etc/netns: the provisioner writes resolv.conf files there.  If the
 * directory exists, a private tmpfs covers it.  If not, creating it would
 * be a change to the host's disk, so an overlay over /etc (its writable
 * layer on the sandbox's /run tmpfs) gives the sandbox an /etc it can
 * write and nobody else sees.  Without overlayfs, the jails' dns
 * statements are left out of the sandbox: they write a file, they do not
 * filter packets.
 */
static void private_etc_netns(struct sbx *s)
{
	struct stat st;

	if (stat(NETNS_ETC_DIR, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (mount("jailfw-verify", NETNS_ETC_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
			  "mode=0755") == 0)
			return;
	} else if (mkdir(ETC_LAYERS, 0700) == 0 && mkdir(ETC_LAYERS "/upper", 0755) == 0 &&
		   mkdir(ETC_LAYERS "/work", 0700) == 0 &&
		   mount("overlay", "/etc", "overlay", 0,
			 "lowerdir=/etc,upperdir=" ETC_LAYERS "/upper,workdir=" ETC_LAYERS
			 "/work") == 0 &&
		   mkdir(NETNS_ETC_DIR, 0755) == 0) {
		return;
	}
	say(s, "no private %s (%s): leaving the jails' dns out of the sandbox", NETNS_ETC_DIR,
	    strerror(errno));
	s->strip_dns = true;
}

/*
 * The sandbox's own network and mount namespaces.  / becomes private
 * first (in a chroot too, see netns_mounts_propagation): on a systemd host
 * / is a shared mount, and every mount below (tmpfs, the namespaces' bind
 * mounts under /run/netns, which netns.c makes shared among its own peers)
 * would otherwise propagate back into the host's mount namespace.  A
 * fresh tmpfs over /run (only in this mount namespace) gives empty
 * /run/netns and /run/jailfw: the sandbox sees nothing of the host's
 * jails, state or lock, and leaves nothing.
 */
static int verify_enter_sandbox(struct sbx *s)
{
	int err;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
		diag_error(s->d, NULL, 0, "verify: cannot create the sandbox's namespaces: %s",
			   strerror(errno));
		return EXIT_PRIV;
	}
	err = netns_mounts_propagation(MS_PRIVATE);
	if (err) {
		diag_error(s->d, NULL, 0, "verify: cannot make / private in the sandbox: %s",
			   strerror(-err));
		return EXIT_PRIV;
	}
	if (mount("jailfw-verify", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0 ||
	    mkdir(NETNS_RUN_DIR, 0755) < 0 || mkdir(STATE_DIR, 0755) < 0) {
		diag_error(s->d, NULL, 0, "verify: cannot mount a private /run in the sandbox: %s",
			   strerror(errno));
		return EXIT_PRIV;
	}
	private_etc_netns(s);
	err = build_internet(s);
	if (err)
		return exitcode_kernel(err);
	return EXIT_OK;
}

/* ------------------------------------------------------------ apply */

/*
 * The policy as the sandbox runs it: the same jails and rules, with the
 * sandbox's wan as the only uplink (the host's wan names mean nothing
 * here).  A shallow copy: it borrows everything from p.
 */
static void sandbox_policy(const struct policy *p, bool strip_dns, char **wan, struct policy *sp,
			   struct jail **jails)
{
	size_t i;

	*sp = *p;
	sp->settings.wan = wan;
	sp->settings.wan_locs = NULL;
	sp->settings.nwan = 1;
	*jails = NULL;
	if (!strip_dns)
		return;
	*jails = xcalloc(p->njails ? p->njails : 1, sizeof(**jails));
	for (i = 0; i < p->njails; i++) {
		(*jails)[i] = p->jails[i];
		(*jails)[i].ndns = 0;
	}
	sp->jails = *jails;
	/* Its own array, exactly this big: VEC_PUSH_CAP must not guess (util.h). */
	sp->jails_cap = p->njails ? p->njails : 1;
}

/* apply_policy()'s chatter (sysctl notes) is shown only if it fails. */
static int sandbox_apply(struct sbx *s, const struct policy *sp)
{
	struct apply_opts ao = {.verbose = s->o->verbose};
	struct apply_result res;
	struct diag ad = *s->d;
	char *text = NULL;
	size_t len = 0;
	FILE *mem;
	int status;

	mem = open_memstream(&text, &len);
	if (!mem)
		return EXIT_KERNEL;
	ad.out = mem;
	ad.errors = ad.warnings = 0;
	status = apply_policy(sp, &ao, &res, &ad);
	fclose(mem);
	if (status || s->o->verbose || res.signal)
		fputs(text, s->d->out);
	/* The sandbox was told to end while it applied: it ends now. */
	if (res.signal)
		apply_reraise(res.signal);
	if (status) {
		s->d->errors += ad.errors;
		diag_error(s->d, NULL, 0, "verify: applying the policy in the sandbox failed");
	} else {
		say(s, "applied: %zu uid, %zu netns jails, table inet %s", res.nuid, res.nnetns,
		    policy_table(sp));
	}
	free(text);
	return status;
}

/*
 * TEST ONLY (testhook.h, a test build's $JAILFW_TEST_VERIFY_SABOTAGE): one
 * nft command in the sandbox, after apply, so tests can check that verify
 * notices a ruleset that does not do what the policy says.  Always
 * announced.  After the stricter re-apply of the conntrack probes (again,
 * so that they can be sabotaged too), a command that ruleset cannot take
 * (it names a chain the policy without rules lacks) is skipped: again is
 * true there.
 */
static int sabotage(struct sbx *s, bool again)
{
	const char *var, *env = testhook_sabotage(&var);
	const char *cmd = s->o->sabotage ? s->o->sabotage : env;
	struct nft_ctx *nft;
	const char *err;
	int ret;

	if (!cmd || !*cmd)
		return EXIT_OK;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return EXIT_KERNEL;
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	ret = nft_run_cmd_from_buffer(nft, cmd);
	if (ret && again) {
		say(s, "test hook %s: not after the stricter re-apply", var);
		ret = 0;
	} else if (ret) {
		err = nft_ctx_get_error_buffer(nft);
		diag_error(s->d, NULL, 0, "verify: test hook %s: nft refused \"%s\": %.*s", var,
			   cmd, (int)strcspn(err ? err : "", "\n"), err ? err : "");
	} else {
		diag_warning(s->d, NULL, 0,
			     "verify: test hook %s changed the sandbox's ruleset: %s", var, cmd);
	}
	nft_ctx_free(nft);
	return ret ? EXIT_KERNEL : EXIT_OK;
}

/* ------------------------------------------------------------ helpers */

/*
 * Fork a helper.  It dies with the sandbox (PR_SET_PDEATHSIG, and the
 * check after it closes the race with a sandbox that died first), and
 * holds no descriptor the caller waits on.
 */
static pid_t spawn(struct sbx *s, int (*fn)(struct sbx *s, const void *ctx), const void *ctx)
{
	pid_t pid = fork();

	if (pid < 0) {
		diag_error(s->d, NULL, 0, "verify: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != s->self)
			_exit(127);
		close(s->resfd);
		close(s->rfd);
		_exit(fn(s, ctx) ? 1 : 0);
	}
	*VEC_PUSH(s->kids, s->nkids) = pid;
	return pid;
}

static void helper_error(struct sbx *s, unsigned int id, const char *what, int err)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "E %u %s: %s\n", id, what, strerror(err));

	if (n > 0 && write(s->wfd, line, (size_t)n) < 0)
		return;
}

/* Enter where a helper runs: the internet, the host, or jail ji. */
static int enter(struct sbx *s, unsigned int lid, unsigned int id)
{
	const struct jail *j;
	int fd, err;

	if (lid == LID_HOST)
		return 0;
	if (lid == LID_INTERNET) {
		if (setns(s->inetfd, CLONE_NEWNET) < 0) {
			helper_error(s, id, "enter the internet namespace", errno);
			return -1;
		}
		return 0;
	}
	j = &s->p->jails[lid - LID_JAIL0];
	err = netns_open(j->name, &fd, &(struct netns_id){0});
	if (!err && setns(fd, CLONE_NEWNET) < 0)
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		helper_error(s, id, j->name, -err);
		return -1;
	}
	return 0;
}

struct listener {
	unsigned int lid;
	struct probe_port *ports;
	size_t nports;
};

static int run_listener(struct sbx *s, const void *ctx)
{
	const struct listener *l = ctx;

	if (enter(s, l->lid, l->lid))
		return -1;
	return probe_listen(l->ports, l->nports, s->nonce, l->lid, s->wfd, LISTEN_LIFETIME_MS);
}

struct prober {
	unsigned int id;
	enum probe_from from;
	size_t jail;
	struct probe_op *ops;
	size_t nops;
};

/* Become jail ji: its namespace, or its uid (helper id for errors). */
static int enter_jail(struct sbx *s, size_t ji, unsigned int id)
{
	const struct jail *j = &s->p->jails[ji];

	if (j->backend == BACKEND_NETNS) {
		if (enter(s, LID_JAIL0 + (unsigned int)ji, id))
			return -1;
		if (allow_ping() < 0)
			helper_error(s, id, "ping_group_range", errno);
		return 0;
	}
	/*
	 * The jail's uid and gid, no supplementary groups: every socket from
	 * here on is owned by the uid the output hook matches (meta skuid),
	 * as a service started under nsjail would be.
	 */
	if (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	    setresuid(j->uid, j->uid, j->uid) < 0) {
		helper_error(s, id, "switch to the jail's uid", errno);
		return -1;
	}
	/* A credential change clears the parent-death signal. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != s->self)
		return -1;
	return 0;
}

static int run_prober(struct sbx *s, const void *ctx)
{
	const struct prober *pb = ctx;

	if (pb->from == PROBE_FROM_INTERNET && enter(s, LID_INTERNET, pb->id))
		return -1;
	if (pb->from == PROBE_FROM_JAIL && enter_jail(s, pb->jail, pb->id))
		return -1;
	return probe_send(pb->ops, pb->nops, s->nonce, pb->id, s->wfd);
}

/* ------------------------------------------------------------ collection */

static unsigned int probe_lid(const struct probe *pr)
{
	switch (pr->at) {
	case PROBE_AT_INTERNET:
		return LID_INTERNET;
	case PROBE_AT_HOST:
		return LID_HOST;
	case PROBE_AT_JAIL:
		return LID_JAIL0 + (unsigned int)pr->at_jail;
	case PROBE_AT_ECHO:
		break;
	}
	return UINT32_MAX;
}

/*
 * One report line.  A token counts only at the far end its probe was
 * meant for: an unpublished port whose packet lands on the host's own
 * listener was not delivered to the jail, and says so ("elsewhere").
 */
static void on_line(struct sbx *s, char *line)
{
	struct probe_plan *plan = s->plan;
	unsigned int id, lid;
	int ok, err;
	size_t idx;
	char k;

	if (sscanf(line, "R %u", &id) == 1 && line[0] == 'R') {
		s->ready++;
	} else if (line[0] == 'E' && sscanf(line, "E %u", &id) == 1) {
		const char *msg = strchr(line + 2, ' ');

		diag_error(s->d, NULL, 0, "verify: sandbox helper: %s", msg ? msg + 1 : line);
		s->helper_failed = true;
	} else if (line[0] == 'D' && sscanf(line, "D %u", &id) == 1) {
		if (id < s->nprobers && !s->prober_done[id]) {
			s->prober_done[id] = true;
			s->ndone++;
		}
	} else if (line[0] == 'P' && sscanf(line, "P %zu %c %d %d", &idx, &k, &ok, &err) == 4 &&
		   idx < plan->nprobes) {
		struct probe *pr = &plan->probes[idx];
		bool echo = pr->at == PROBE_AT_ECHO;

		if (k == 'p') {
			pr->ran = ok >= 0;
			pr->err = err;
			if (echo)
				pr->saw_pass = ok == 1;
		} else {
			pr->control_ran = ok >= 0;
			if (echo)
				pr->control_pass = ok == 1;
		}
	} else if (line[0] == 'L' && sscanf(line, "L %u %zu %c", &lid, &idx, &k) == 3 &&
		   idx < plan->nprobes) {
		struct probe *pr = &plan->probes[idx];

		/* A jail's own broadcast reaches its own sockets too: no news. */
		if (pr->kind == PK_BCAST && pr->from == PROBE_FROM_JAIL &&
		    lid == LID_JAIL0 + pr->jail)
			return;
		if (lid != probe_lid(pr)) {
			if (k == 'p')
				pr->elsewhere = true;
		} else if (k == 'p') {
			pr->saw_pass = true;
		} else {
			pr->control_pass = true;
		}
	}
}

static void drain(struct sbx *s, int timeout_ms)
{
	struct pollfd pfd = {.fd = s->rfd, .events = POLLIN};
	char *nl, *start;
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		n = read(s->rfd, s->lbuf + s->llen, sizeof(s->lbuf) - 1 - s->llen);
		if (n <= 0)
			break;
		s->llen += (size_t)n;
		s->lbuf[s->llen] = '\0';
		start = s->lbuf;
		while ((nl = strchr(start, '\n'))) {
			*nl = '\0';
			on_line(s, start);
			start = nl + 1;
		}
		s->llen -= (size_t)(start - s->lbuf);
		memmove(s->lbuf, start, s->llen);
		if (s->llen == sizeof(s->lbuf) - 1)
			s->llen = 0; /* a runaway line: drop it */
	}
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void verify_add_port(struct listener *l, enum proto proto, uint16_t port)
{
	size_t i;

	for (i = 0; i < l->nports; i++)
		if (l->ports[i].proto == proto && l->ports[i].port == port)
			return;
	*VEC_PUSH(l->ports, l->nports) = (struct probe_port){.proto = proto, .port = port};
}

static void verify_add_op(struct prober *pb, const struct probe *pr, size_t idx, bool control)
{
	struct probe_op *op = VEC_PUSH(pb->ops, pb->nops);

	op->idx = idx;
	op->control = control;
	op->proto = pr->proto;
	op->dst = control && pr->control_dst.family ? pr->control_dst : pr->dst;
	op->port = pr->port;
	op->timeout_ms = control || pr->expect_pass ? PROBE_PASS_MS : PROBE_DROP_MS;
	/* The control, root on the host, sends from its own address and interface. */
	op->bcast = pr->bcast;
	snprintf(op->ifname, sizeof(op->ifname), "%s", control ? pr->control_if : pr->ifname);
	op->via = pr->via;
	op->src = control ? (struct prefix){.family = 0} : pr->src;
}

static int start_listeners(struct sbx *s, struct listener *ls, size_t nls)
{
	const struct probe_plan *plan = s->plan;
	long long end;
	size_t i;

	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		unsigned int lid = probe_lid(pr);

		/* A reply ride's far end is its own (run_ride_far). */
		if (lid < nls && pr->kind != PK_RIDE)
			verify_add_port(&ls[lid], pr->proto, pr->listen_port);
	}
	for (i = 0; i < nls; i++) {
		ls[i].lid = (unsigned int)i;
		if (!ls[i].nports)
			continue;
		if (spawn(s, run_listener, &ls[i]) < 0)
			return EXIT_KERNEL;
		s->nlisteners++;
	}
	end = mono_ms() + READY_MS;
	while (s->ready < s->nlisteners && !s->helper_failed && mono_ms() < end)
		drain(s, 50);
	if (s->ready < s->nlisteners) {
		if (!s->helper_failed)
			diag_error(s->d, NULL, 0, "verify: the sandbox's listeners did not start");
		return EXIT_KERNEL;
	}
	say(s, "%u listeners up", s->nlisteners);
	return EXIT_OK;
}

static int run_probes(struct sbx *s)
{
	struct probe_plan *plan = s->plan;
	size_t nls = LID_JAIL0 + s->p->njails, npb = s->p->njails + 2, i, k;
	struct listener *ls = xcalloc(nls, sizeof(*ls));
	struct prober *pbs = xcalloc(npb, sizeof(*pbs));
	int status, wst;
	long long end;

	status = start_listeners(s, ls, nls);
	if (status)
		goto out;
	/* Probers: one per jail, the internet (inbound), the host (controls). */
	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];

		if (pr->kind == PK_FORGED || pr->kind == PK_STALE || pr->kind == PK_RIDE)
			continue; /* run_ct_probes() */
		if (pr->from == PROBE_FROM_JAIL)
			verify_add_op(&pbs[pr->jail], pr, i, false);
		else
			verify_add_op(&pbs[s->p->njails], pr, i, false);
		if (pr->has_control)
			verify_add_op(&pbs[s->p->njails + 1], pr, i, true);
	}
	s->probers = xcalloc(npb, sizeof(*s->probers));
	s->prober_done = xcalloc(npb, sizeof(*s->prober_done));
	for (i = 0; i < npb; i++) {
		pbs[i].id = (unsigned int)i;
		pbs[i].jail = i;
		pbs[i].from = i < s->p->njails	  ? PROBE_FROM_JAIL
			      : i == s->p->njails ? PROBE_FROM_INTERNET
						  : PROBE_FROM_HOST;
		s->nprobers = i + 1;
		if (!pbs[i].nops) {
			s->prober_done[i] = true;
			s->ndone++;
			continue;
		}
		s->probers[i] = spawn(s, run_prober, &pbs[i]);
		if (s->probers[i] < 0) {
			status = EXIT_KERNEL;
			goto out;
		}
	}
	say(s, "%zu probes (and their controls) sent", plan->nprobes);
	end = mono_ms() + COLLECT_MS;
	while (s->ndone < s->nprobers && mono_ms() < end) {
		drain(s, 50);
		/* A prober that died without saying "done" is done too. */
		for (k = 0; k < s->nprobers; k++) {
			if (s->prober_done[k] || s->probers[k] <= 0)
				continue;
			if (waitpid(s->probers[k], &wst, WNOHANG) == s->probers[k]) {
				s->probers[k] = 0;
				drain(s, 0);
				if (!s->prober_done[k]) {
					s->prober_done[k] = true;
					s->ndone++;
				}
			}
		}
	}
	/* The far end's last datagrams. */
	end = mono_ms() + PROBE_GRACE_MS;
	while (mono_ms() < end)
		drain(s, (int)(end - mono_ms()));
	drain(s, 0);
out:
	for (i = 0; i < nls; i++)
		free(ls[i].ports);
	for (i = 0; i < npb; i++)
		free(pbs[i].ops);
	free(ls);
	free(pbs);
	return status;
}

/* ------------------------------------------------------------ conntrack probes */

/*
 * A UDP flow of the sandbox host, from its wan address to the internet's
 * PROBE_FORGED_PORT, where a listener takes datagrams and answers nothing:
 * only a forged error can make the socket fail.  Returns the socket (its
 * port in *sport), or -errno.
 */
static int host_flow(const struct prefix *to, uint16_t *sport)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
	struct sockaddr_in a4 = {.sin_family = AF_INET};
	socklen_t len = sizeof(ss);
	struct prefix from;
	int fd, err;

	probe_wan_addr(to->family, true, &from);
	fd = socket(to->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	a4.sin_addr = from.addr.v4;
	a6.sin6_addr = from.addr.v6;
	a4.sin_port = a6.sin6_port = 0;
	if (bind(fd, to->family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6,
		 to->family == AF_INET ? sizeof(a4) : sizeof(a6)) < 0)
		goto fail;
	a4.sin_addr = to->addr.v4;
	a6.sin6_addr = to->addr.v6;
	a4.sin_port = a6.sin6_port = htons(PROBE_FORGED_PORT);
	if (connect(fd, to->family == AF_INET ? (struct sockaddr *)&a4 : (struct sockaddr *)&a6,
		    to->family == AF_INET ? sizeof(a4) : sizeof(a6)) < 0 ||
	    send(fd, "jailfw\n", 7, 0) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto fail;
	*sport = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					       : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Whether an ICMP error reached the flow's socket within ms. */
static bool flow_refused(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[16];

	if (poll(&pfd, 1, ms) <= 0)
		return false;
	return recv(fd, buf, sizeof(buf), 0) < 0 && errno == ECONNREFUSED;
}

struct forger {
	size_t jail;
	unsigned int id;
	uint8_t pkt[PROBE_FORGE_MAX];
	size_t len;
	struct prefix to;
};

static int run_forger(struct sbx *s, const void *ctx)
{
	const struct forger *f = ctx;
	int err;

	if (enter(s, LID_JAIL0 + (unsigned int)f->jail, f->id))
		return -1;
	err = probe_forge_send(f->pkt, f->len, &f->to);
	if (err)
		helper_error(s, f->id, "forge an ICMP error", -err);
	return err;
}

/*
 * PK_FORGED: root in the jail sends the host a port unreachable from the
 * jail's address that quotes a host flow; the flow's socket tells whether
 * it arrived.  The control: root on the sandbox host sends the same packet
 * itself, unconfined, against a second flow.
 */
static void run_forged(struct sbx *s, struct probe *pr)
{
	const struct jail *j = &s->p->jails[pr->jail];
	struct forger f = {.jail = pr->jail, .id = (unsigned int)(s->p->njails + 2)};
	struct prefix me, host;
	uint16_t sport;
	pid_t pid;
	int fd, wst;

	jail_addr_jail(pr->dst.family == AF_INET ? &j->v4 : &j->v6, &me);
	probe_wan_addr(pr->dst.family, true, &host);
	f.to = host;
	fd = host_flow(&pr->dst, &sport);
	if (fd < 0) {
		pr->err = -fd;
		return;
	}
	f.len = probe_forge_unreach(f.pkt, &me, &host, &host, sport, &pr->dst, pr->port);
	pr->control_ran = probe_forge_send(f.pkt, f.len, &host) == 0;
	pr->control_pass = pr->control_ran && flow_refused(fd, PROBE_DROP_MS);
	close(fd);
	fd = host_flow(&pr->dst, &sport);
	if (fd < 0) {
		pr->err = -fd;
		return;
	}
	f.len = probe_forge_unreach(f.pkt, &me, &host, &host, sport, &pr->dst, pr->port);
	pid = spawn(s, run_forger, &f);
	if (pid > 0 && waitpid(pid, &wst, 0) == pid && WIFEXITED(wst) && !WEXITSTATUS(wst)) {
		pr->ran = true;
		pr->saw_pass = flow_refused(fd, PROBE_DROP_MS);
	}
	close(fd);
	drain(s, 0);
}

/*
 * A UDP socket of family bound to addr:port (SO_REUSEADDR; addr NULL: the
 * family's any address), or -errno.
 */
static int udp_bound(int family, const struct prefix *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct prefix any = {.family = family};
	socklen_t alen = probe_sockaddr(addr ? addr : &any, port, &ss);
	int fd, one = 1, err;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, alen) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct ride {
	size_t idx;
	const struct probe *pr;
	unsigned int id;
};

/*
 * PK_RIDE, the internet's side: from the probe's port, a datagram to
 * root's service on the host; its answer is the control (the entry is
 * established, answered by a socket outside the jails).  Then whatever
 * the jail sends from the service's port: its token is the probe.
 */
static int run_ride_far(struct sbx *s, const void *ctx)
{
	const struct ride *r = ctx;
	char tok[PROBE_TOKEN_MAX], buf[PROBE_TOKEN_MAX + 1];
	struct pollfd pfd = {.events = POLLIN};
	int family = r->pr->dst.family;
	struct sockaddr_storage host;
	struct prefix me, h;
	socklen_t hlen;
	size_t tlen;
	long long end;
	ssize_t n;
	int fd;

	if (enter(s, LID_INTERNET, r->id))
		return -1;
	probe_wan_addr(family, false, &me);
	probe_wan_addr(family, true, &h);
	hlen = probe_sockaddr(&h, PROBE_RIDE_HOST_PORT, &host);
	fd = udp_bound(family, &me, r->pr->port);
	if (fd < 0) {
		helper_error(s, r->id, "bind the reply ride's far end", -fd);
		return -1;
	}
	if (sendto(fd, "jailfw\n", 7, 0, (struct sockaddr *)&host, hlen) < 0) {
		helper_error(s, r->id, "write to the host's service", errno);
		return -1;
	}
	tlen = probe_token(tok, s->nonce, r->idx, false);
	pfd.fd = fd;
	end = mono_ms() + 2 * PROBE_PASS_MS + 3 * PROBE_UDP_GAP_MS + PROBE_GRACE_MS;
	while (mono_ms() < end && poll(&pfd, 1, (int)(end - mono_ms())) > 0) {
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		if ((size_t)n == tlen && !memcmp(buf, tok, tlen))
			dprintf(s->wfd, "L %u %zu p ride\n", LID_INTERNET, r->idx);
		else if (n == 3 && !memcmp(buf, "ok\n", 3))
			dprintf(s->wfd, "L %u %zu c ride\n", LID_INTERNET, r->idx);
	}
	close(fd);
	return 0;
}

/* PK_RIDE, the jail's side: the service's port, the token to its peer. */
static int run_ride_jail(struct sbx *s, const void *ctx)
{
	const struct ride *r = ctx;
	char tok[PROBE_TOKEN_MAX];
	struct sockaddr_storage far;
	socklen_t flen;
	size_t tlen;
	int fd, i;

	if (enter_jail(s, r->pr->jail, r->id))
		return -1;
	fd = udp_bound(r->pr->dst.family, NULL, PROBE_RIDE_HOST_PORT);
	if (fd < 0) {
		helper_error(s, r->id, "bind the closed service's port", -fd);
		return -1;
	}
	flen = probe_sockaddr(&r->pr->dst, r->pr->port, &far);
	tlen = probe_token(tok, s->nonce, r->idx, false);
	for (i = 0; i < 3; i++) {
		/* Dropped in the output hook: EPERM, as any sender sees. */
		sendto(fd, tok, tlen, 0, (struct sockaddr *)&far, flen);
		usleep(PROBE_UDP_GAP_MS * 1000);
	}
	close(fd);
	return 0;
}

/*
 * PK_RIDE: root's UDP service on the host answers the internet once and
 * closes; then the jail binds its port and writes to the same peer.
 */
static void run_ride(struct sbx *s, size_t idx)
{
	struct probe *pr = &s->plan->probes[idx];
	struct ride r = {.idx = idx, .pr = pr, .id = (unsigned int)(s->p->njails + 4)};
	struct pollfd pfd = {.events = POLLIN};
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct prefix h;
	long long end;
	pid_t pid;
	int fd, wst;

	probe_wan_addr(pr->dst.family, true, &h);
	fd = udp_bound(pr->dst.family, &h, PROBE_RIDE_HOST_PORT);
	if (fd < 0) {
		pr->err = -fd;
		return;
	}
	pr->control_ran = spawn(s, run_ride_far, &r) > 0;
	pfd.fd = fd;
	if (pr->control_ran && poll(&pfd, 1, PROBE_PASS_MS) > 0 &&
	    recvfrom(fd, NULL, 0, MSG_TRUNC, (struct sockaddr *)&peer, &plen) >= 0)
		sendto(fd, "ok\n", 3, 0, (struct sockaddr *)&peer, plen);
	close(fd);
	end = mono_ms() + PROBE_PASS_MS;
	while (!pr->control_pass && mono_ms() < end)
		drain(s, 50);
	if (!pr->control_pass)
		return; /* untestable: the entry was never answered */
	r.id++;
	pid = spawn(s, run_ride_jail, &r);
	if (pid > 0 && waitpid(pid, &wst, 0) == pid && WIFEXITED(wst) && !WEXITSTATUS(wst))
		pr->ran = true;
	end = mono_ms() + PROBE_GRACE_MS;
	while (mono_ms() < end)
		drain(s, (int)(end - mono_ms()));
}

struct stale_flow {
	size_t idx;
	const struct probe *pr;
	int go, go_w; /* a pipe: a byte means send again, EOF means stop */
};

/*
 * PK_STALE, in the jail: a UDP flow to the allow probe's far end, the
 * control token three times (the flow is open and admitted), then, after
 * the stricter re-apply, the probe token three times on the same socket.
 */
static int run_stale(struct sbx *s, const void *ctx)
{
	const struct stale_flow *sf = ctx;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	char tok[PROBE_TOKEN_MAX], go;
	size_t len;
	int fd, i, round;

	close(sf->go_w);
	if (enter_jail(s, sf->pr->jail, (unsigned int)(s->p->njails + 3)))
		return -1;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)sf->pr->dst.family;
	if (sf->pr->dst.family == AF_INET) {
		a4->sin_addr = sf->pr->dst.addr.v4;
		a4->sin_port = htons(sf->pr->port);
	} else {
		a6->sin6_addr = sf->pr->dst.addr.v6;
		a6->sin6_port = htons(sf->pr->port);
	}
	fd = socket(sf->pr->dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss,
			      sf->pr->dst.family == AF_INET ? sizeof(*a4) : sizeof(*a6)) < 0)
		return -1;
	for (round = 0; round < 2; round++) {
		if (round && read(sf->go, &go, 1) != 1)
			break;
		len = probe_token(tok, s->nonce, sf->idx, round == 0);
		for (i = 0; i < 3; i++) {
			/* Dropped in the output hook: EPERM, as any sender sees. */
			if (send(fd, tok, len, 0) < 0 && errno != EPERM)
				break;
			usleep(PROBE_UDP_GAP_MS * 1000);
		}
	}
	close(fd);
	return 0;
}

/*
 * The policy again with no allow rule in any jail (publishes stay): what
 * a stricter apply does to the flows open under the first one.  The test
 * hook's sabotage, if any, follows it as it followed the first apply.
 */
static int reapply_stricter(struct sbx *s)
{
	struct policy sp = *s->p;
	struct jail *jails = xcalloc(sp.njails ? sp.njails : 1, sizeof(*jails));
	size_t i;
	int status;

	for (i = 0; i < sp.njails; i++) {
		jails[i] = s->p->jails[i];
		jails[i].nrules = 0;
	}
	sp.jails = jails;
	sp.jails_cap = sp.njails ? sp.njails : 1;
	say(s, "re-applying the policy without its allow rules, flows open");
	status = sandbox_apply(s, &sp);
	if (!status)
		status = sabotage(s, true);
	free(jails);
	return status;
}

static bool stale_controls_in(const struct stale_flow *sf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!sf[i].pr->control_pass)
			return false;
	return true;
}

/*
 * The conntrack probes, after the others (docs/ruleset.md): forged ICMP
 * errors one at a time; then every stale flow at once around one stricter
 * re-apply, which ends what the sandbox can probe.
 */
static int run_ct_probes(struct sbx *s)
{
	struct probe_plan *plan = s->plan;
	struct stale_flow *sf = NULL;
	size_t i, n = 0;
	int fds[2], status = EXIT_OK;
	long long end;

	for (i = 0; i < plan->nprobes; i++)
		if (plan->probes[i].kind == PK_FORGED)
			run_forged(s, &plan->probes[i]);
	for (i = 0; i < plan->nprobes; i++)
		if (plan->probes[i].kind == PK_RIDE)
			run_ride(s, i);
	for (i = 0; i < plan->nprobes; i++) {
		struct stale_flow *f;

		if (plan->probes[i].kind != PK_STALE)
			continue;
		if (pipe2(fds, O_CLOEXEC) < 0)
			break;
		f = VEC_PUSH(sf, n);
		f->idx = i;
		f->pr = &plan->probes[i];
		f->go = fds[0];
		f->go_w = fds[1];
		plan->probes[i].control_ran = spawn(s, run_stale, f) > 0;
		close(fds[0]);
	}
	if (!n)
		goto out;
	end = mono_ms() + PROBE_PASS_MS;
	while (!stale_controls_in(sf, n) && mono_ms() < end)
		drain(s, 50);
	status = reapply_stricter(s);
	for (i = 0; i < n; i++) {
		if (!status && write(sf[i].go_w, "g", 1) == 1)
			plan->probes[sf[i].idx].ran = true;
		close(sf[i].go_w);
	}
	end = mono_ms() + 3 * PROBE_UDP_GAP_MS + PROBE_GRACE_MS;
	while (mono_ms() < end)
		drain(s, (int)(end - mono_ms()));
out:
	free(sf);
	return status;
}

/* End every helper, by id, and reap it. */
static void end_helpers(struct sbx *s)
{
	size_t i;

	for (i = 0; i < s->nkids; i++)
		kill(s->kids[i], SIGKILL);
	for (i = 0; i < s->nkids; i++)
		while (waitpid(s->kids[i], NULL, 0) < 0 && errno == EINTR)
			;
	free(s->kids);
	s->kids = NULL;
	s->nkids = 0;
}

/*
 * One line per probe for the caller, the status, then "X" and the
 * sandbox's diagnostics, which the caller prints through its own diag:
 * the sandbox's copy of the caller's output stream may be memory (a
 * memstream) that only the caller can see.
 */
static void send_results(struct sbx *s, int status, const char *diags)
{
	FILE *f = fdopen(s->resfd, "w");
	size_t i;

	if (!f)
		return;
	for (i = 0; i < s->plan->nprobes; i++) {
		const struct probe *pr = &s->plan->probes[i];

		fprintf(f, "O %zu %d %d %d %d %d %d\n", i, pr->ran, pr->saw_pass, pr->control_ran,
			pr->control_pass, pr->err, pr->elsewhere);
	}
	fprintf(f, "S %d %u %u\nX\n%s", status, s->d->errors, s->d->warnings, diags ? diags : "");
	fclose(f);
}

/* The sandbox process: never returns to the caller's code. */
static int sandbox_main(const struct policy *p, struct probe_plan *plan,
			const struct verify_opts *o, struct diag *caller_d, int resfd)
{
	struct sbx s = {.plan = plan, .o = o, .inetfd = -1, .resfd = resfd};
	char *wan[1] = {(char *)PROBE_WAN_IF}, *diags = NULL;
	struct jail *jails = NULL;
	struct diag d = *caller_d; /* borrows the sources; never freed here */
	struct policy sp;
	struct rlimit nofile;
	size_t dlen = 0;
	FILE *dmem;
	int status, fds[2];

	dmem = open_memstream(&diags, &dlen);
	if (dmem)
		d.out = dmem;
	d.errors = d.warnings = 0;
	s.d = &d;
	s.self = getpid();
	/*
	 * A listener holds four sockets per probed port (TCP and UDP, both
	 * families): a large policy needs more than the usual soft limit of
	 * 1024 descriptors.  The helpers inherit the raised limit.
	 */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	s.nonce = (uint32_t)(s.self ^ (uint32_t)mono_ms() ^ ((uint32_t)time(NULL) << 11));
	if (pipe2(fds, O_CLOEXEC) < 0) {
		diag_error(&d, NULL, 0, "verify: pipe: %s", strerror(errno));
		status = EXIT_KERNEL;
		goto out;
	}
	s.rfd = fds[0];
	s.wfd = fds[1];
	fcntl(s.rfd, F_SETFL, O_NONBLOCK);
	status = verify_enter_sandbox(&s);
	if (status)
		goto out;
	sandbox_policy(p, s.strip_dns, wan, &sp, &jails);
	s.p = &sp;
	status = sandbox_apply(&s, &sp);
	if (!status)
		status = sabotage(&s, false);
	if (!status)
		status = run_probes(&s);
	if (!status)
		status = run_ct_probes(&s);
out:
	end_helpers(&s);
	if (dmem)
		fclose(dmem);
	send_results(&s, status, diags);
	free(diags);
	free(jails);
	free(s.probers);
	free(s.prober_done);
	return status;
}

/* ------------------------------------------------------------ the caller */

static volatile sig_atomic_t got_signal;
static volatile pid_t sandbox_pid;

/*
 * Ctrl-C or a TERM: end the sandbox's whole process group at once.
 * SIGKILL, not the signal itself: nothing in there needs to clean up
 * (its namespaces and mounts vanish with its last process), and a helper
 * that inherited an ignored SIGINT must die all the same.
 */
static void verify_on_signal(int sig)
{
	if (!got_signal)
		got_signal = sig;
	if (sandbox_pid > 0) {
		kill(-sandbox_pid, SIGKILL);
		kill(sandbox_pid, SIGKILL);
	}
}

/* The sandbox's report: probe lines, "S STATUS ERRORS WARNINGS", "X", diagnostics. */
static void parse_results(char *text, struct probe_plan *plan, int *status, struct diag *d)
{
	char *line, *save = NULL, *diags = NULL;
	unsigned int errors, warnings;
	int v[7];
	size_t idx;

	if (!strncmp(text, "X\n", 2)) {
		diags = text + 2;
		*text = '\0';
	} else if ((diags = strstr(text, "\nX\n"))) {
		*diags = '\0';
		diags += 3;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "O %zu %d %d %d %d %d %d", &idx, &v[0], &v[1], &v[2], &v[3], &v[4],
			   &v[5]) == 7 &&
		    idx < plan->nprobes) {
			struct probe *pr = &plan->probes[idx];

			pr->ran = v[0];
			pr->saw_pass = v[1];
			pr->control_ran = v[2];
			pr->control_pass = v[3];
			pr->err = v[4];
			pr->elsewhere = v[5];
		} else if (sscanf(line, "S %d %u %u", &v[6], &errors, &warnings) == 3) {
			*status = v[6];
			d->errors += errors;
			d->warnings += warnings;
		}
	}
	if (diags && *diags) {
		fputs(diags, d->out);
		fflush(d->out);
	}
}

int verify_run(const struct policy *p, struct probe_plan *plan, const struct verify_opts *o,
	       struct diag *d)
{
	static const unsigned int caps[] = {CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SETUID, CAP_SETGID};
	struct sigaction sa, old[3];
	static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	struct strbuf sb;
	char buf[4096];
	int fds[2], status = -1, wst = 0, i;
	pid_t pid, parent = getpid();
	ssize_t n;

	if (!caps_require_list("verify", caps, ARRAY_SIZE(caps), d))
		return EXIT_PRIV;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		diag_error(d, NULL, 0, "verify: pipe: %s", strerror(errno));
		return EXIT_KERNEL;
	}
	fflush(NULL);
	got_signal = 0;
	pid = fork();
	if (pid < 0) {
		diag_error(d, NULL, 0, "verify: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return EXIT_KERNEL;
	}
	if (pid == 0) {
		close(fds[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(EXIT_KERNEL);
		status = sandbox_main(p, plan, o, d, fds[1]);
		fflush(stderr);
		_exit(status);
	}
	sandbox_pid = pid;
	setpgid(pid, pid);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = verify_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	close(fds[1]);

	sb_init(&sb);
	for (;;) {
		n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_printf(&sb, "%.*s", (int)n, buf);
	}
	close(fds[0]);
	while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
		;
	sandbox_pid = 0;
	for (i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);

	if (got_signal) {
		diag_error(d, NULL, 0, "verify: interrupted (%s); the sandbox is gone",
			   strsignal(got_signal));
		status = 128 + got_signal;
		goto out;
	}
	parse_results(sb.s, plan, &status, d);
	if (status < 0) {
		diag_error(d, NULL, 0, "verify: the sandbox ended without a result (%s %d)",
			   WIFSIGNALED(wst) ? "signal" : "exit status",
			   WIFSIGNALED(wst) ? WTERMSIG(wst) : WEXITSTATUS(wst));
		status = EXIT_KERNEL;
	}
out:
	sb_free(&sb);
	return status;
}

/* ------------------------------------------------------------ the report */

enum verify_verdict verify_verdict(const struct probe *pr)
{
	if (!pr->ran)
		return VERDICT_UNTESTABLE;
	if (pr->saw_pass != pr->expect_pass)
		return VERDICT_FAIL;
	if (!pr->expect_pass && pr->has_control && !(pr->control_ran && pr->control_pass))
		return VERDICT_UNTESTABLE;
	return VERDICT_OK;
}

static const char *verdict_word(enum verify_verdict v)
{
	return v == VERDICT_OK ? "ok" : v == VERDICT_FAIL ? "FAIL" : "untestable";
}

/* Why a row is not ok, or why a drop happened, in a few words. */
static void row_detail(const struct probe *pr, char *buf, size_t len)
{
	enum verify_verdict v = verify_verdict(pr);

	buf[0] = '\0';
	if (!pr->ran)
		snprintf(buf, len, "not sent%s%s", pr->err ? ": " : "",
			 pr->err ? strerror(pr->err) : "");
	else if (v == VERDICT_UNTESTABLE)
		snprintf(buf, len, "unconfined root could not reach it either");
	else if (pr->elsewhere && !pr->saw_pass)
		snprintf(buf, len, "reached another far end");
	else if (v == VERDICT_FAIL && pr->err && !pr->saw_pass)
		snprintf(buf, len, "%s", strerror(pr->err));
}

static void print_table(FILE *f, const struct policy *p, const struct probe_plan *plan)
{
	size_t i, wj = 4, wp = 5, n;
	char what[PROBE_WHAT_MAX + 64], ps[96], detail[128];

	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];

		n = strlen(p->jails[pr->jail].name);
		wj = n > wj ? n : wj;
		n = strlen(probe_str(pr, ps, sizeof(ps))) + strlen(pr->what) + 3;
		wp = n > wp ? n : wp;
	}
	fprintf(f, "%-*s  %-*s  %-6s  %-6s  %s\n", (int)wj, "JAIL", (int)wp, "PROBE", "EXPECT",
		"SAW", "RESULT");
	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		enum verify_verdict v = verify_verdict(pr);

		snprintf(what, sizeof(what), "%s (%s)", probe_str(pr, ps, sizeof(ps)), pr->what);
		row_detail(pr, detail, sizeof(detail));
		fprintf(f, "%-*s  %-*s  %-6s  %-6s  %s%s%s\n", (int)wj, p->jails[pr->jail].name,
			(int)wp, what, pr->expect_pass ? "pass" : "drop",
			!pr->ran       ? "-"
			: pr->saw_pass ? "pass"
				       : "drop",
			verdict_word(v), detail[0] ? ": " : "", detail);
	}
	for (i = 0; i < plan->nnotes; i++)
		fprintf(f, "note: %s\n", plan->notes[i]);
}

/* The document --json prints: every probe, the notes, the verdict. */
static json_t *verify_json(const struct policy *p, const struct probe_plan *plan,
			   const size_t counts[3])
{
	json_t *probes = jsonw_pack("[]"), *notes = jsonw_pack("[]"), *row;
	char a[PREFIX_STRLEN], ps[96], detail[128], loc[512];
	size_t i;

	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		const struct jail *j = &p->jails[pr->jail];

		/* why and policy hold file names, any bytes: jsonw_str. */
		row = jsonw_pack("{s:o, s:s, s:s, s:s, s:o, s:s, s:s}", "jail", jsonw_str(j->name),
				 "backend", backend_name(j->backend), "from",
				 probe_from_name(pr->from), "kind", probe_kind_name(pr->kind),
				 "probe", jsonw_str(probe_str(pr, ps, sizeof(ps))), "proto",
				 proto_name(pr->proto), "dst", addr_str(&pr->dst, a));
		if (proto_has_ports(pr->proto))
			jsonw_merge(row, jsonw_pack("{s:i}", "port", pr->port));
		row_detail(pr, detail, sizeof(detail));
		jsonw_merge(row,
			    jsonw_pack("{s:o, s:o, s:s, s:s, s:s, s:o}", "why", jsonw_str(pr->what),
				       "policy", jsonw_str(loc_str(&pr->loc, loc, sizeof(loc))),
				       "expect", pr->expect_pass ? "pass" : "drop", "saw",
				       !pr->ran	      ? "none"
				       : pr->saw_pass ? "pass"
						      : "drop",
				       "result", verdict_word(verify_verdict(pr)), "detail",
				       jsonw_str(detail)));
		jsonw_append(probes, row);
	}
	for (i = 0; i < plan->nnotes; i++)
		jsonw_append(notes, jsonw_str(plan->notes[i]));
	return jsonw_pack("{s:o, s:o, s:{s:o, s:o, s:o, s:o, s:b}}", "probes", probes, "notes",
			  notes, "summary", "probes", jsonw_u64(plan->nprobes), "ok",
			  jsonw_u64(counts[VERDICT_OK]), "failed", jsonw_u64(counts[VERDICT_FAIL]),
			  "untestable", jsonw_u64(counts[VERDICT_UNTESTABLE]), "holds",
			  !counts[VERDICT_FAIL] && !counts[VERDICT_UNTESTABLE]);
}

void verify_report_errors(const struct policy *p, const struct probe_plan *plan, struct diag *d)
{
	char ps[96], detail[128];
	size_t i;

	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		const char *jail = p->jails[pr->jail].name;
		enum verify_verdict v = verify_verdict(pr);

		if (v == VERDICT_FAIL)
			diag_error(d, &pr->loc, 0,
				   "verify: jail %s: %s (%s) %s, but the policy %s it", jail,
				   probe_str(pr, ps, sizeof(ps)), pr->what,
				   pr->saw_pass ? "got through" : "was dropped",
				   pr->expect_pass ? "allows" : "drops");
		else if (v == VERDICT_UNTESTABLE) {
			row_detail(pr, detail, sizeof(detail));
			diag_error(d, &pr->loc, 0,
				   "verify: jail %s: %s (%s) could not be tested: %s", jail,
				   probe_str(pr, ps, sizeof(ps)), pr->what, detail);
		}
	}
}

int verify_policy(const struct policy *p, const struct verify_opts *o, struct diag *d)
{
	FILE *f = o->out ? o->out : stdout;
	struct probe_plan plan;
	size_t counts[3] = {0, 0, 0}, i;
	int status, err = 0;

	probe_plan_build(p, &plan);
	status = verify_run(p, &plan, o, d);
	if (status)
		goto out;
	for (i = 0; i < plan.nprobes; i++)
		counts[verify_verdict(&plan.probes[i])]++;
	if (o->json) {
		json_t *doc = verify_json(p, &plan, counts);

		err = jsonw_print(f, doc);
		json_decref(doc);
	} else if (!o->quiet) {
		print_table(f, p, &plan);
	}
	verify_report_errors(p, &plan, d);
	if (counts[VERDICT_FAIL])
		status = EXIT_VERIFY;
	else if (counts[VERDICT_UNTESTABLE])
		status = EXIT_KERNEL;
	if (!o->json && !(o->quiet && status == EXIT_OK)) {
		if (status == EXIT_OK)
			fprintf(f,
				"verify: the policy holds: %zu probes in %zu %s, all as the policy "
				"says\n",
				plan.nprobes, p->njails, p->njails == 1 ? "jail" : "jails");
		else
			fprintf(f,
				"verify: %zu of %zu probes contradict the policy, %zu untestable\n",
				counts[VERDICT_FAIL], plan.nprobes, counts[VERDICT_UNTESTABLE]);
	}
	errno = 0;
	if (!o->json && (fflush(f) || ferror(f)))
		err = errno ? -errno : -EIO;
	if (err) {
		diag_error(d, NULL, 0, "verify: cannot write the report: %s", strerror(-err));
		status = status ? status : EXIT_INVALID;
	}
out:
	probe_plan_free(&plan);
	return status;
}
