// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The test-only hooks: JAILFW_TEST_FAULT names faults in a comma list (no
 * prefix matches); JAILFW_TEST_KILL_AT kills the process at a named step
 * and JAILFW_TEST_PAUSE_AT stops it there, after one line on stderr, once
 * per step; without them, or at a step they do not name, nothing happens.
 *
 * Kills and pauses happen in forked children, watched with waitpid; a
 * child's stderr goes to a pipe, so the pause line can be read.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testhook.h"
#include "t.h"

/*
 * In a child with KILL_AT=kill and PAUSE_AT=pause set as given, pass the
 * steps in order, then exit 0.  *stops counts the times it stopped (each
 * is continued); *err gets its stderr.
 */
static int run_child(const char *kill_at, const char *pause_at, const char *const *steps,
		     int *stops, char *err, size_t errlen)
{
	int pfd[2], st = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	*stops = 0;
	err[0] = '\0';
	if (pipe(pfd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		unsetenv(TESTHOOK_KILL_ENV);
		unsetenv(TESTHOOK_PAUSE_ENV);
		if (kill_at)
			setenv(TESTHOOK_KILL_ENV, kill_at, 1);
		if (pause_at)
			setenv(TESTHOOK_PAUSE_ENV, pause_at, 1);
		for (; *steps; steps++)
			testhook_point(*steps);
		_exit(0);
	}
	close(pfd[1]);
	for (;;) {
		if (waitpid(pid, &st, WUNTRACED) < 0)
			break;
		if (!WIFSTOPPED(st))
			break;
		(*stops)++;
		kill(pid, SIGCONT);
	}
	while (len + 1 < errlen && (n = read(pfd[0], err + len, errlen - len - 1)) > 0)
		len += (size_t)n;
	err[len] = '\0';
	close(pfd[0]);
	return st;
}

int main(void)
{
	static const char *const steps[] = {"lock", "veth-created", "veth-created", "links-up",
					    NULL};
	char err[256];
	int st, stops;

	setenv(TESTHOOK_FAULT_ENV, "other,nft-commit", 1);
	T_CHECK(testhook_fault("nft-commit"), "fault: named after another");
	T_CHECK(testhook_fault("other"), "fault: named first");
	T_CHECK(!testhook_fault("nft"), "fault: a prefix of a name is not the name");
	T_CHECK(!testhook_fault("nft-commit-x"), "fault: nor is a longer one");
	unsetenv(TESTHOOK_FAULT_ENV);
	T_CHECK(!testhook_fault("nft-commit"), "fault: none without the variable");

	st = run_child(NULL, NULL, steps, &stops, err, sizeof(err));
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !stops, "no variable: runs through");

	st = run_child("links-up-x,state-written", "veth", steps, &stops, err, sizeof(err));
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !stops,
		"steps not named (only similar): runs through");
	T_STREQ(err, "", "steps not named: says nothing");

	st = run_child("foo,veth-created", NULL, steps, &stops, err, sizeof(err));
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "kill at a named step: SIGKILL");

	st = run_child(NULL, "veth-created", steps, &stops, err, sizeof(err));
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pause: goes on after SIGCONT");
	T_CHECK(stops == 1, "pause: stops once, though the step is passed twice");
	T_STREQ(err, "jailfw: test pause at veth-created\n", "pause: says where, once");

	st = run_child("links-up", "lock", steps, &stops, err, sizeof(err));
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && stops == 1,
		"pause at one step, then killed at a later one");
	return t_done();
}
