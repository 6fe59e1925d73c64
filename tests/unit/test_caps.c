// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * caps_require and caps_have_net_admin, with and without capabilities.
 *
 * Every case runs in a forked child that changes its own capability sets
 * with libcap-ng and reports back through a pipe, so the test process keeps
 * its own.  Without root, the child first enters a new user namespace,
 * where it holds every capability, so the test means the same everywhere.
 */
#include <cap-ng.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apply.h"
#include "caps.h"
#include "diag.h"
#include "model.h"
#include "t.h"

struct outcome {
	int ok;		     /* caps_require's result */
	int net_admin;	     /* caps_have_net_admin() */
	unsigned int errors; /* d.errors after the call */
	char text[512];	     /* what was reported */
};

/*
 * In a child: make sure every capability is there, drop those in drop
 * (NULL-free list of CAP_*, or all when drop_all), then call
 * caps_require(verb, need).
 */
static bool probe(const char *verb, unsigned int need, const unsigned int *drop, size_t ndrop,
		  bool drop_all, struct outcome *res)
{
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(pfd))
		return false;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct outcome o;
		char *buf = NULL;
		size_t len = 0, i;
		struct diag d;
		FILE *mem;

		memset(&o, 0, sizeof(o));
		close(pfd[0]);
		if (capng_get_caps_process() ||
		    capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) != 1 ||
		    capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) != 1) {
			if (unshare(CLONE_NEWUSER))
				_exit(77);
			capng_get_caps_process();
		}
		if (drop_all) {
			capng_clear(CAPNG_SELECT_BOTH);
		} else {
			for (i = 0; i < ndrop; i++)
				capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
					     drop[i]);
		}
		if (capng_apply(CAPNG_SELECT_BOTH))
			_exit(78);
		mem = open_memstream(&buf, &len);
		if (!mem)
			_exit(79);
		diag_init(&d, mem);
		o.ok = caps_require(verb, need, &d);
		o.errors = d.errors;
		fclose(mem);
		o.net_admin = caps_have_net_admin();
		snprintf(o.text, sizeof(o.text), "%s", buf);
		free(buf);
		if (write(pfd[1], &o, sizeof(o)) != (ssize_t)sizeof(o))
			_exit(80);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], res, sizeof(*res));
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (n != (ssize_t)sizeof(*res) || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("# probe child failed: exit %d\n",
		       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return false;
	}
	return true;
}

int main(void)
{
	const unsigned int net_admin[] = {CAP_NET_ADMIN};
	const unsigned int sys_admin[] = {CAP_SYS_ADMIN};
	struct outcome o;
	bool ran;

	ran = probe("apply", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, NULL, 0, false, &o);
	T_CHECK(ran, "child with every capability ran");
	T_CHECK(o.ok == 1, "all capabilities: caps_require passes");
	T_STREQ(o.text, "", "all capabilities: nothing reported");
	T_CHECK(o.errors == 0, "all capabilities: no error counted");
	T_CHECK(o.net_admin == 1, "all capabilities: caps_have_net_admin");

	ran = probe("apply", CAPS_NEED_NET_ADMIN, NULL, 0, true, &o);
	T_CHECK(ran, "child without capabilities ran");
	T_CHECK(o.ok == 0, "no capabilities: apply refused");
	T_STREQ(o.text, "jailfw: error: apply needs CAP_NET_ADMIN (run as root or grant it)\n",
		"no capabilities: the exact message");
	T_CHECK(o.errors == 1, "no capabilities: one error counted");
	T_CHECK(o.net_admin == 0, "no capabilities: no CAP_NET_ADMIN");

	ran = probe("apply", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, NULL, 0, true, &o);
	T_CHECK(ran && o.ok == 0, "no capabilities: apply with netns jails refused");
	T_STREQ(o.text,
		"jailfw: error: apply needs CAP_NET_ADMIN and CAP_SYS_ADMIN "
		"(run as root or grant them)\n",
		"no capabilities: every missing capability is named");
	T_CHECK(o.errors == 1, "several missing capabilities: still one error");

	ran = probe("down", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, net_admin, 1, false, &o);
	T_CHECK(ran && o.ok == 0, "without CAP_NET_ADMIN only: refused");
	T_STREQ(o.text, "jailfw: error: down needs CAP_NET_ADMIN (run as root or grant it)\n",
		"without CAP_NET_ADMIN only: names it and only it, with the verb");
	T_CHECK(o.net_admin == 0, "without CAP_NET_ADMIN only: caps_have_net_admin false");

	ran = probe("apply", CAPS_NEED_SYS_ADMIN, net_admin, 1, false, &o);
	T_CHECK(ran && o.ok == 1, "without CAP_NET_ADMIN: a verb needing CAP_SYS_ADMIN passes");
	T_STREQ(o.text, "", "without CAP_NET_ADMIN: nothing reported for CAP_SYS_ADMIN");

	ran = probe("apply", CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN, sys_admin, 1, false, &o);
	T_CHECK(ran && o.ok == 0, "without CAP_SYS_ADMIN only: refused");
	T_STREQ(o.text, "jailfw: error: apply needs CAP_SYS_ADMIN (run as root or grant it)\n",
		"without CAP_SYS_ADMIN only: names it");
	T_CHECK(o.net_admin == 1, "without CAP_SYS_ADMIN only: still has CAP_NET_ADMIN");

	ran = probe("check", 0, NULL, 0, true, &o);
	T_CHECK(ran && o.ok == 1 && o.text[0] == '\0', "a verb that needs nothing always passes");

	/* What apply, diff and down need: CAP_SYS_ADMIN only for namespaces. */
	{
		struct policy p;
		struct jail *j;

		policy_init(&p);
		j = VEC_PUSH(p.jails, p.njails);
		j->name = xstrdup("www");
		j->backend = BACKEND_UID;
		T_CHECK(apply_needs(&p, false) == CAPS_NEED_NET_ADMIN,
			"needs: uid jails only, nothing recorded: CAP_NET_ADMIN alone");
		T_CHECK(apply_needs(&p, true) == (CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN),
			"needs: uid jails replacing recorded netns jails: CAP_SYS_ADMIN too");
		T_CHECK(apply_needs(NULL, false) == CAPS_NEED_NET_ADMIN &&
			    apply_needs(NULL, true) == (CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN),
			"needs: down: CAP_SYS_ADMIN when netns jails are recorded");
		j = VEC_PUSH(p.jails, p.njails);
		j->name = xstrdup("foobar");
		j->backend = BACKEND_NETNS;
		T_CHECK(apply_needs(&p, false) == (CAPS_NEED_NET_ADMIN | CAPS_NEED_SYS_ADMIN),
			"needs: a netns jail: CAP_SYS_ADMIN too");
		policy_free(&p);
	}

	return t_done();
}
