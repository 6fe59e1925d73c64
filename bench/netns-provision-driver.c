// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bench driver for bench/netns-provision.sh: provision N netns jails with
 * the library (lock, stage, commit), apply the same policy again (must be
 * a no-op), then tear everything down (down_cut, down_finish), printing
 * the time of each step.  Run it only inside a throwaway
 * `unshare --net --mount` with private tmpfs on /run/netns, /run/jailfw and
 * /etc/netns: it changes the network namespace it runs in.
 *
 *   netns-provision-driver N
 *
 * Output, one line per step: "provision N MS", "reapply N MS", "teardown N MS".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "model.h"
#include "provision.h"
#include "state.h"
#include "util.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Jail i: "j<i>", 10.<96 + i/256>.<i%256>.0/24 and fd00:97::<i+1>:0/112. */
static void build_policy(struct policy *p, unsigned int n)
{
	const char *file = policy_add_file(p, "bench.conf");
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct jail *j = VEC_PUSH(p->jails, p->njails);
		char buf[64];

		j->name = xasprintf("j%u", i);
		j->loc = (struct loc){file, i + 1, 1};
		j->backend = BACKEND_NETNS;
		j->has_v4 = j->has_v6 = true;
		snprintf(buf, sizeof(buf), "10.%u.%u.0", 96 + i / 256, i % 256);
		j->v4.family = AF_INET;
		inet_pton(AF_INET, buf, j->v4.addr.b);
		j->v4.len = 24;
		snprintf(buf, sizeof(buf), "fd00:97::%x:0", i + 1);
		j->v6.family = AF_INET6;
		inet_pton(AF_INET6, buf, j->v6.addr.b);
		j->v6.len = 112;
	}
}

static int apply(const struct policy *p, struct diag *d)
{
	struct prov_plan *plan = NULL;
	int fd, err;

	err = state_lock(true, &fd, NULL);
	if (err)
		return err;
	err = prov_stage(p, &plan, d);
	/* (the ruleset commit would be here) */
	if (!err)
		err = prov_commit(plan, d);
	if (err)
		prov_rollback(plan, d);
	prov_plan_free(plan);
	state_unlock(fd);
	return err;
}

static int down(struct diag *d)
{
	struct prov_plan *plan = NULL;
	int fd, err;

	err = state_lock(true, &fd, NULL);
	if (err)
		return err;
	err = prov_down_cut(&plan, d);
	/* (the table would be deleted here) */
	if (!err)
		err = prov_down_finish(plan, d);
	prov_plan_free(plan);
	state_unlock(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct policy p;
	struct diag d;
	unsigned int n;
	double t;
	int err;

	if (argc != 2 || (n = (unsigned int)atoi(argv[1])) == 0 || n > 4096) {
		fprintf(stderr, "usage: %s N (1..4096)\n", argv[0]);
		return 2;
	}
	policy_init(&p);
	diag_init(&d, stderr);
	build_policy(&p, n);

	t = now_ms();
	err = apply(&p, &d);
	if (err)
		goto out;
	printf("provision %u %.3f\n", n, now_ms() - t);

	t = now_ms();
	err = apply(&p, &d);
	if (err)
		goto out;
	printf("reapply %u %.3f\n", n, now_ms() - t);

	t = now_ms();
	err = down(&d);
	if (err)
		goto out;
	printf("teardown %u %.3f\n", n, now_ms() - t);
out:
	if (err)
		fprintf(stderr, "netns-provision-driver: %s\n", strerror(-err));
	policy_free(&p);
	diag_free(&d);
	return err ? 1 : 0;
}
