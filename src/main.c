// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw: the command line.  The only file that exits: every other module
 * reports through struct diag and returns, and here each outcome becomes
 * one exit status (docs/design.md, "Exit statuses").
 *
 * The command table below is also the usage text, so the two cannot drift.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "caps.h"
#include "check.h"
#include "compare.h"
#include "diag.h"
#include "diff.h"
#include "doctor.h"
#include "exec.h"
#include "monitor.h"
#include "model.h"
#include "nftload.h"
#include "parse.h"
#include "render.h"
#include "status.h"
#include "verify.h"
#include "util.h"

/* Which command options a command takes. */
enum {
	OPT_TEMPLATES = 1u << 0, /* -I DIR */
	OPT_TABLE = 1u << 1,	 /* --table NAME */
	OPT_JSON = 1u << 2,	 /* --json */
	OPT_NOWAIT = 1u << 3,	 /* --no-wait */
	OPT_KEEPIDS = 1u << 4,	 /* --keep-ids */
	OPT_PROBE = 1u << 5,	 /* compare --probe */
	OPT_MONITOR = 1u << 6,	 /* monitor --suggest, --count N, --timeout S */
};

struct cli {
	bool verbose, quiet, json;
	bool timing; /* -vv: the time of each step of check and apply */
	struct timespec clock;
	const char **dirs; /* template path: -I dirs, then the environment's, ... */
	size_t ndirs;
	char *env_path;		 /* JAILFW_TEMPLATE_PATH, split in place into dirs */
	const char *table;	 /* --table */
	bool no_wait;		 /* --no-wait: exit 75 rather than wait for the lock */
	bool keep_ids;		 /* exec --keep-ids */
	bool probe;		 /* compare --probe */
	struct monitor_opts mon; /* monitor's own options */
	size_t dashdash;	 /* args before "--" (all of them if there was none) */
	char **args;		 /* positional arguments of the command */
	size_t nargs;
	int signal; /* apply, down: a signal held until they finished */
	struct diag d;
};

struct cmd {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned int needs; /* enum caps_need, checked before fn runs */
	unsigned int opts;
	size_t min_args, max_args;
	const char *synopsis;
	const char *help;
};

static int cmd_check(struct cli *c);
static int cmd_render(struct cli *c);
static int cmd_apply(struct cli *c);
static int cmd_down(struct cli *c);
static int cmd_start(struct cli *c);
static int cmd_stop(struct cli *c);
static int cmd_diff(struct cli *c);
static int cmd_status(struct cli *c);
static int cmd_exec(struct cli *c);
static int cmd_compare(struct cli *c);
static int cmd_verify(struct cli *c);
static int cmd_monitor(struct cli *c);
static int cmd_doctor(struct cli *c);
static int cmd_help(struct cli *c);

static const struct cmd commands[] = {
    {"check", cmd_check, 0, OPT_TEMPLATES, 0, 1, "[POLICY]",
     "parse, validate and dry-run the ruleset; changes nothing"},
    {"render", cmd_render, 0, OPT_TEMPLATES | OPT_JSON, 0, 1, "[POLICY]",
     "print the ruleset apply would load (--json: as JSON)"},
    {"apply", cmd_apply, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES | OPT_NOWAIT, 0, 1, "[POLICY]",
     "provision netns jails, load the ruleset in one atomic transaction"},
    {"down", cmd_down, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES | OPT_TABLE | OPT_NOWAIT, 0, 1,
     "[POLICY]", "remove jailfw's table, namespaces and veths, and nothing else"},
    {"start", cmd_start, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES | OPT_NOWAIT, 1, 2, "JAIL [POLICY]",
     "bring one jail up again after stop; the others are left alone"},
    {"stop", cmd_stop, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES | OPT_NOWAIT, 1, 2, "JAIL [POLICY]",
     "take one jail down until start: its uid stays confined, its netns goes"},
    {"diff", cmd_diff, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES, 0, 1, "[POLICY]",
     "what apply would change, ruleset and provisioning; changes nothing"},
    {"status", cmd_status, CAPS_NEED_NET_ADMIN, OPT_JSON | OPT_TABLE, 0, 0, "",
     "live view: jails, counters, drift from the last apply (--json)"},
    /* exec checks its own capabilities: they depend on the jail's backend. */
    {"exec", cmd_exec, 0, OPT_KEEPIDS, 2, (size_t)-1, "JAIL [--keep-ids] -- CMD...",
     "run CMD confined: in the jail's netns and/or as its user, no capabilities"},
    {"compare", cmd_compare, 0, OPT_TEMPLATES | OPT_JSON | OPT_PROBE, 0, 1, "[--probe] [POLICY]",
     "uid against netns isolation, side by side, for each jail"},
    /* verify checks its own capabilities (namespaces, ids, nftables). */
    {"verify", cmd_verify, 0, OPT_TEMPLATES | OPT_JSON, 0, 1, "[POLICY]",
     "prove the policy in a throwaway sandbox: probe every rule and its near misses"},
    {"monitor", cmd_monitor, CAPS_NEED_NET_ADMIN, OPT_JSON | OPT_MONITOR, 0, 0,
     "[--suggest] [--count N] [--timeout S]",
     "one line per dropped packet, naming the jail; --suggest: allow lines for them"},
    {"doctor", cmd_doctor, CAPS_NEED_NET_ADMIN, OPT_TEMPLATES, 0, 1, "[POLICY]",
     "find what on this host would defeat the policy"},
    {"help", cmd_help, 0, 0, 0, 1, "[COMMAND]", "this text, or one command's"},
};

/*
 * The options that only some commands take.  Which ones take each is read
 * off the command table, for --help and `help COMMAND` alike; the man page
 * and the completion are checked against this output
 * (tests/e2e/cli-docs.sh).
 */
struct cmd_opt {
	unsigned int bit;
	const char *usage; /* as in a usage line */
	const char *help;
};

static const struct cmd_opt cmd_opts[] = {
    {OPT_JSON, "--json", "machine-readable output"},
    {OPT_TEMPLATES, "-I DIR", "look for templates in DIR first; repeatable"},
    {OPT_TABLE, "--table NAME", "the table (default: the last applied, else " DEFAULT_TABLE ")"},
    {OPT_NOWAIT, "--no-wait", "exit 75 if another apply holds the lock"},
};

static void usage(FILE *f)
{
	size_t i, j;

	fputs("usage: jailfw [-v] [-q] [--json] COMMAND [ARGS]\n\ncommands:\n", f);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct cmd *k = &commands[i];
		int w = (int)(strlen(k->name) + 1 + strlen(k->synopsis));

		/* A long synopsis gets a line of its own, the help below it. */
		fprintf(f, "  %s %s%*s%s%s\n", k->name, k->synopsis, w < 18 ? 19 - w : 0,
			w < 18 ? "" : "\n                     ", k->help,
			k->needs & CAPS_NEED_NET_ADMIN ? " (CAP_NET_ADMIN)" : "");
	}
	fputs("\noptions:\n"
	      "  -v, --verbose     say what is being done, on stderr (twice: with the time\n"
	      "                    each step of apply took)\n"
	      "  -q, --quiet       print nothing on success\n",
	      f);
	for (i = 0; i < ARRAY_SIZE(cmd_opts); i++) {
		const char *sep = " (";

		fprintf(f, "  %-16s  %s\n                   ", cmd_opts[i].usage, cmd_opts[i].help);
		for (j = 0; j < ARRAY_SIZE(commands); j++) {
			if (!(commands[j].opts & cmd_opts[i].bit))
				continue;
			fprintf(f, "%s%s", sep, commands[j].name);
			sep = ", ";
		}
		fputs(")\n", f);
	}
	fputs("  -h, --help        show this text\n"
	      "  --version         print the version\n"
	      "\nPOLICY is a policy file, or a directory holding jailfw.conf and jails.d/*.conf\n"
	      "(read in name order).  Without POLICY: " JAILFW_SYSCONF_DIR ";\n"
	      "down and doctor: what was last applied.\n"
	      "\ntemplates (use NAME) are found as NAME.conf in: the -I directories, then\n"
	      "$JAILFW_TEMPLATE_PATH (colon-separated), " JAILFW_SYSCONF_TEMPLATE_DIR
	      ",\n" JAILFW_TEMPLATE_DIR ".\n"
	      "\nexit status: 0 ok, 1 invalid policy (nothing changed), 2 usage error,\n"
	      "3 the kernel refused (rolled back), 4 missing privilege or unsupported,\n"
	      "5 conflict with an object jailfw does not own, 6 verify contradiction,\n"
	      "75 lock busy.  diff: 0 no change, 1 apply would change something, 2 invalid\n"
	      "policy; status: 1 when the live state drifted from the last apply; doctor:\n"
	      "1 something would defeat the policy, 2 invalid policy.  apply prints\n"
	      "\"jailfw: no changes\" when the policy was in force already.\n",
	      f);
}

static int usage_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("jailfw: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'jailfw --help'.\n", stderr);
	return EXIT_USAGE;
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int unknown_cmd(const char *name)
{
	const char *names[ARRAY_SIZE(commands)];
	const char *hint;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	hint = diag_suggest(name, names, ARRAY_SIZE(names));
	if (hint)
		return usage_error("unknown command \"%s\" (did you mean %s?)", name, hint);
	return usage_error("unknown command \"%s\"", name);
}

/*
 * The template path, in order: -I directories, JAILFW_TEMPLATE_PATH's
 * entries, the administrator's directory, the installed templates.
 */
static void build_template_path(struct cli *c)
{
	const char *env = secure_getenv("JAILFW_TEMPLATE_PATH");
	char *s, *tok, *save = NULL;

	if (env && *env) {
		c->env_path = xstrdup(env);
		for (s = c->env_path; (tok = strtok_r(s, ":", &save)); s = NULL)
			*VEC_PUSH(c->dirs, c->ndirs) = tok;
	}
	*VEC_PUSH(c->dirs, c->ndirs) = JAILFW_SYSCONF_TEMPLATE_DIR;
	*VEC_PUSH(c->dirs, c->ndirs) = JAILFW_TEMPLATE_DIR;
	if (c->verbose) {
		size_t i;

		fputs("jailfw: template path:", stderr);
		for (i = 0; i < c->ndirs; i++)
			fprintf(stderr, " %s", c->dirs[i]);
		fputc('\n', stderr);
	}
}

/* The POLICY argument, or the default policy directory. */
static const char *policy_arg(const struct cli *c)
{
	return c->nargs ? c->args[0] : JAILFW_SYSCONF_DIR;
}

/*
 * Parse (a file, or a directory with its drop-in files), pull in
 * templates, check.  The semantic checks run only on a policy that parsed
 * cleanly: on a broken parse they would mostly repeat the syntax errors in
 * other words (a jail whose backend line was a typo is not "missing a
 * backend").
 */
static bool load_policy(struct cli *c, const char *path, struct policy *p)
{
	bool ok;
	size_t i;

	diag_lap(c->timing, &c->clock, NULL);
	policy_init(p);
	policy_parse_path(p, &c->d, path);
	policy_load_templates(p, &c->d, c->dirs, c->ndirs);
	diag_lap(c->timing, &c->clock, "parse");
	/* Which drop-in and template files were read, in order. */
	for (i = 0; c->verbose && i < p->nfiles; i++)
		diag_verbose(true, "read %s", p->files[i]);
	if (c->d.errors)
		return false;
	ok = check_policy(p, &c->d, NULL) && !c->d.errors;
	diag_lap(c->timing, &c->clock, "check");
	return ok;
}

/* "jailfw: 3 errors, policy is invalid" */
static int invalid(const struct cli *c, const char *what)
{
	fprintf(stderr, "jailfw: %u %s, %s\n", c->d.errors, plural(c->d.errors, "error", "errors"),
		what);
	return EXIT_INVALID;
}

/*
 * check is apply's own path up to the commit, with the dry-run flag: the
 * kernel validates a dry run completely and then aborts it.  nfnetlink
 * refuses even a dry run without CAP_NET_ADMIN, so an unprivileged check
 * runs it in a throwaway user+net namespace where it holds that capability.
 */
static int cmd_check(struct cli *c)
{
	const char *path = policy_arg(c);
	struct policy p;
	char *text = NULL;
	size_t nuid, nnetns;
	int status = EXIT_OK, ret, exists;

	if (!load_policy(c, path, &p)) {
		status = invalid(c, "policy is invalid");
		goto out;
	}
	text = render_policy_str(&p, RENDER_REPLACE);
	/*
	 * CAP_NET_ADMIN in our own user namespace is not enough if another
	 * one owns this netns (unshare -U without -n): a quiet look at the
	 * table tells whether nfnetlink will listen to us here.
	 */
	exists = caps_have_net_admin() ? nftload_table_exists(policy_table(&p)) : -EPERM;
	if (exists >= 0) {
		diag_verbose(c->verbose, "dry run in this network namespace");
		ret = nftload_run(&p, text, true, &c->d);
		/* The policy is fine, but apply would stop there: say so now. */
		if (!ret && exists &&
		    nftload_table_state(policy_table(&p), &c->d) == NFTLOAD_TABLE_FOREIGN)
			diag_warning(&c->d, NULL, 0,
				     "table inet %s exists but was not made by jailfw; apply will "
				     "refuse to replace it",
				     policy_table(&p));
	} else {
		diag_verbose(c->verbose, "no CAP_NET_ADMIN here: dry run in a throwaway user and "
					 "network namespace");
		ret = nftload_run_isolated(&p, text, NFTLOAD_LIST_TERSE, NULL, &c->d);
	}
	if (ret) {
		status = exitcode_kernel(ret);
		if (status == EXIT_KERNEL)
			invalid(c, "policy is invalid");
		goto out;
	}
	if (!c->quiet) {
		apply_count_jails(&p, &nuid, &nnetns);
		printf("%s: ok (%zu %s: %zu uid, %zu netns)\n", path, p.njails,
		       plural(p.njails, "jail", "jails"), nuid, nnetns);
	}
out:
	free(text);
	policy_free(&p);
	return status;
}

static int cmd_render(struct cli *c)
{
	struct policy p;
	char *text = NULL, *json = NULL;
	int status = EXIT_OK, ret;

	if (!load_policy(c, policy_arg(c), &p)) {
		status = invalid(c, "policy is invalid");
		goto out;
	}
	if (!c->json) {
		render_policy(stdout, &p, RENDER_REPLACE);
	} else {
		/*
		 * libnftables' JSON describes what the kernel holds, so the
		 * table is really loaded, in a namespace nobody else sees.
		 */
		text = render_policy_str(&p, RENDER_REPLACE);
		ret = nftload_run_isolated(&p, text, NFTLOAD_LIST_JSON, &json, &c->d);
		if (ret) {
			status = exitcode_kernel(ret);
			if (status == EXIT_KERNEL)
				invalid(c, "policy is invalid");
			goto out;
		}
		fputs(json, stdout);
		if (!*json || json[strlen(json) - 1] != '\n')
			fputc('\n', stdout);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "jailfw: cannot write the ruleset: %s\n", strerror(errno));
		status = EXIT_INVALID;
	}
out:
	free(json);
	free(text);
	policy_free(&p);
	return status;
}

/*
 * Rules for a namespace that does not exist would confine nothing, and a
 * half-applied policy is worse than none: refuse before loading anything.
 */
/*
 * apply: CAP_NET_ADMIN was checked before anything was read.  Then the
 * policy is validated in full before anything touches the kernel, and the
 * ruleset goes in as one transaction that replaces table inet T and
 * nothing else; if the kernel refuses any of it, the old table stays.
 */
static int cmd_apply(struct cli *c)
{
	struct apply_opts o = {.no_wait = c->no_wait, .verbose = c->verbose, .timing = c->timing};
	const char *path = policy_arg(c);
	struct apply_result res;
	struct policy p;
	int status;

	if (!load_policy(c, path, &p)) {
		status = invalid(c, "policy not applied");
		goto out;
	}
	status = apply_policy(&p, &o, &res, &c->d);
	c->signal = res.signal;
	if (status) {
		if (c->d.errors)
			invalid(c, res.unknown ? "policy perhaps applied" : "policy not applied");
		goto out;
	}
	/*
	 * The first words are for scripts (docs/ansible.md): "jailfw: no
	 * changes" exactly when nothing in the kernel changed.
	 */
	if (!c->quiet && !res.nchanges)
		printf("jailfw: no changes (%s: %zu uid %s, %zu netns %s, table inet %s)\n", path,
		       res.nuid, plural(res.nuid, "jail", "jails"), res.nnetns,
		       plural(res.nnetns, "jail", "jails"), policy_table(&p));
	else if (!c->quiet)
		printf("jailfw: applied %zu %s (%s: %zu uid %s, %zu netns %s, table inet %s; "
		       "ruleset %s)\n",
		       res.nchanges, plural(res.nchanges, "change", "changes"), path, res.nuid,
		       plural(res.nuid, "jail", "jails"), res.nnetns,
		       plural(res.nnetns, "jail", "jails"), policy_table(&p),
		       res.loaded ? "reloaded" : "unchanged");
out:
	policy_free(&p);
	return status;
}

static int cmd_down(struct cli *c)
{
	struct apply_opts o = {.no_wait = c->no_wait, .verbose = c->verbose, .timing = c->timing};
	const char *table = c->table;
	char *used = NULL;
	struct policy p;
	bool removed;
	int status = EXIT_OK;

	policy_init(&p);
	if (c->nargs && c->table) {
		status = usage_error("down takes --table or a POLICY, not both");
		goto out;
	}
	if (c->nargs) {
		if (!load_policy(c, policy_arg(c), &p)) {
			status = invalid(c, "nothing was removed");
			goto out;
		}
		table = policy_table(&p);
	} else if (table && !nftload_table_name_ok(table)) {
		status = usage_error("invalid table name \"%s\" (a letter, then letters, digits, "
				     "'_' or '-')",
				     table);
		goto out;
	}
	status = apply_down(table, &o, &used, &removed, &c->signal, &c->d);
	if (!status && !c->quiet)
		printf(removed ? "removed table inet %s\n"
			       : "table inet %s is not there; nothing to remove\n",
		       used);
out:
	free(used);
	policy_free(&p);
	return status;
}

/*
 * start and stop: an apply of POLICY with JAIL's mark changed (updown.h),
 * for jailfw@.service.  A JAIL the policy does not have changes nothing.
 */
static int cmd_updown(struct cli *c, enum updown_change change)
{
	struct apply_opts o = {.no_wait = c->no_wait, .verbose = c->verbose, .timing = c->timing};
	const char *path = c->nargs > 1 ? c->args[1] : JAILFW_SYSCONF_DIR;
	const char *verb = change == UPDOWN_START ? "start" : "stop";
	struct apply_result res;
	struct policy p;
	int status;

	if (!load_policy(c, path, &p)) {
		status = invalid(c, "nothing changed");
		goto out;
	}
	if (!updown_find(&p, c->args[0])) {
		const char **names = xcalloc(p.njails + 1, sizeof(*names));
		const char *hint;
		size_t i;

		for (i = 0; i < p.njails; i++)
			names[i] = p.jails[i].name;
		hint = diag_suggest(c->args[0], names, p.njails);
		fprintf(stderr, "jailfw: %s: no jail \"%s\" in %s%s%s%s; nothing changed\n", verb,
			c->args[0], path, hint ? " (did you mean \"" : "", hint ? hint : "",
			hint ? "\"?)" : "");
		free(names);
		status = EXIT_INVALID;
		goto out;
	}
	o.change = change;
	o.jail = c->args[0];
	status = apply_policy(&p, &o, &res, &c->d);
	c->signal = res.signal;
	if (status) {
		if (c->d.errors)
			invalid(c, "nothing changed");
		goto out;
	}
	if (!c->quiet)
		printf("jailfw: jail %s %s (%zu %s; table inet %s)\n", c->args[0],
		       change == UPDOWN_START ? "started" : "stopped", res.nchanges,
		       plural(res.nchanges, "change", "changes"), policy_table(&p));
out:
	policy_free(&p);
	return status;
}

static int cmd_start(struct cli *c)
{
	return cmd_updown(c, UPDOWN_START);
}

static int cmd_stop(struct cli *c)
{
	return cmd_updown(c, UPDOWN_STOP);
}

static int cmd_monitor(struct cli *c)
{
	c->mon.json = c->json;
	c->mon.verbose = c->verbose;
	return monitor_run(&c->mon, &c->d);
}

static int cmd_doctor(struct cli *c)
{
	struct doctor_opts o = {.verbose = c->verbose, .quiet = c->quiet};
	struct policy p;
	int status;

	policy_init(&p);
	if (c->nargs && !load_policy(c, policy_arg(c), &p)) {
		invalid(c, "nothing was checked");
		status = EXIT_TROUBLE;
		goto out;
	}
	status = doctor_run(c->nargs ? &p : NULL, &o, &c->d);
out:
	policy_free(&p);
	return status;
}

static int cmd_verify(struct cli *c)
{
	struct verify_opts o = {.json = c->json, .verbose = c->verbose, .quiet = c->quiet};
	struct policy p;
	int status;

	if (!load_policy(c, policy_arg(c), &p)) {
		status = invalid(c, "nothing was verified");
		goto out;
	}
	status = verify_policy(&p, &o, &c->d);
out:
	policy_free(&p);
	return status;
}

static int cmd_compare(struct cli *c)
{
	struct compare_opts o = {.json = c->json, .probe = c->probe, .verbose = c->verbose};
	struct policy p;
	int status;

	if (!load_policy(c, policy_arg(c), &p)) {
		status = invalid(c, "nothing was compared");
		goto out;
	}
	status = compare_policy(&p, &o, &c->d);
out:
	policy_free(&p);
	return status;
}

/*
 * diff: exit 0 nothing would change, 1 something would, above 1 trouble
 * (as diff(1)): an invalid policy is 2 here, not 1.
 */
static int cmd_diff(struct cli *c)
{
	struct policy p;
	int status;

	if (!load_policy(c, policy_arg(c), &p)) {
		invalid(c, "policy is invalid");
		status = EXIT_TROUBLE;
		goto out;
	}
	/* diff enters the jails' namespaces to compare them. */
	if (!apply_require_caps("diff", &p, &c->d)) {
		status = EXIT_PRIV;
		goto out;
	}
	status = diff_run(&p, policy_arg(c), c->quiet, &c->d);
out:
	policy_free(&p);
	return status;
}

/* status: exit 0 in force as applied, 1 drift, 3 unreadable, 4 privilege. */
static int cmd_status(struct cli *c)
{
	if (c->table && !nftload_table_name_ok(c->table))
		return usage_error("invalid table name \"%s\" (a letter, then letters, digits, "
				   "'_' or '-')",
				   c->table);
	return status_run(c->table, c->json, c->quiet, &c->d);
}

/*
 * exec JAIL -- CMD...: everything after "--" is CMD, never an option of
 * ours.  exec_jail only returns on failure; the process may then already
 * be half-way into the jail, so nothing else runs before exiting.
 */
static int cmd_exec(struct cli *c)
{
	struct exec_opts o = {.keep_ids = c->keep_ids};
	char **argv;
	int ret;

	if (c->dashdash != 1 || c->nargs < 2)
		return usage_error("exec needs JAIL -- CMD... (usage: jailfw exec JAIL "
				   "[--keep-ids] -- CMD...)");
	/* CMD's argv, NULL-terminated. */
	argv = xcalloc(c->nargs, sizeof(*argv));
	memcpy(argv, c->args + 1, (c->nargs - 1) * sizeof(*argv));
	ret = exec_jail(c->args[0], &o, argv, &c->d);
	free(argv);
	return exec_exit_status(ret);
}

static int cmd_help(struct cli *c)
{
	const struct cmd *k;
	bool netns;
	size_t i;

	if (!c->nargs) {
		usage(stdout);
		return EXIT_OK;
	}
	k = find_cmd(c->args[0]);
	if (!k)
		return unknown_cmd(c->args[0]);
	printf("usage: jailfw %s", k->name);
	for (i = 0; i < ARRAY_SIZE(cmd_opts); i++)
		if (k->opts & cmd_opts[i].bit)
			printf(" [%s]", cmd_opts[i].usage);
	printf("%s%s\n  %s\n", *k->synopsis ? " " : "", k->synopsis, k->help);
	netns = !strcmp(k->name, "apply") || !strcmp(k->name, "down") || !strcmp(k->name, "diff") ||
		!strcmp(k->name, "start") || !strcmp(k->name, "stop");
	if (k->needs)
		printf("  needs CAP_NET_ADMIN%s\n",
		       netns ? " (and CAP_SYS_ADMIN for netns jails)" : "");
	return EXIT_OK;
}

/* -v, -q, --json: accepted before the command and among its arguments. */
static bool global_flag(struct cli *c, const char *a)
{
	if (!strcmp(a, "-v") || !strcmp(a, "--verbose") || !strcmp(a, "-vv")) {
		c->timing = c->verbose || !strcmp(a, "-vv");
		c->verbose = true;
	} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
		c->quiet = true;
	else if (!strcmp(a, "--json"))
		c->json = true;
	else
		return false;
	return true;
}

/*
 * An option with a value: "-I DIR" or "-IDIR" (short), "--table NAME" or
 * "--table=NAME" (long).  Returns 1 and the value (advancing *i past a
 * separate one), 0 if argv[*i] is not this option, -1 if its value is
 * missing.
 */
static int opt_value(int argc, char **argv, int *i, const char *opt, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(opt);
	bool is_long = opt[1] == '-';

	if (strncmp(a, opt, n))
		return 0;
	if (a[n] == '\0') {
		if (*i + 1 >= argc)
			return -1;
		*val = argv[++*i];
		return 1;
	}
	if (is_long && a[n] != '=')
		return 0;
	*val = a + n + is_long;
	return 1;
}

static int parse_cmd_args(struct cli *c, const struct cmd *k, int argc, char **argv)
{
	bool dashdash = false;
	const char *v = NULL;
	int i, r;

	c->dashdash = (size_t)-1;
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash || a[0] != '-' || !a[1]) {
			*VEC_PUSH(c->args, c->nargs) = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			c->dashdash = c->nargs;
			continue;
		}
		if ((k->opts & OPT_KEEPIDS) && !strcmp(a, "--keep-ids")) {
			c->keep_ids = true;
			continue;
		}
		if ((k->opts & OPT_PROBE) && !strcmp(a, "--probe")) {
			c->probe = true;
			continue;
		}
		if (k->opts & OPT_MONITOR) {
			const char *why = NULL;

			r = monitor_parse_opt(argc, argv, &i, &c->mon, &why);
			if (r < 0)
				return usage_error("%s", why);
			if (r > 0)
				continue;
		}
		if (global_flag(c, a))
			continue;
		r = k->opts & OPT_TEMPLATES ? opt_value(argc, argv, &i, "-I", &v) : 0;
		if (r < 0)
			return usage_error("-I needs a directory");
		if (r > 0) {
			*VEC_PUSH(c->dirs, c->ndirs) = v;
			continue;
		}
		if ((k->opts & OPT_NOWAIT) && !strcmp(a, "--no-wait")) {
			c->no_wait = true;
			continue;
		}
		r = k->opts & OPT_TABLE ? opt_value(argc, argv, &i, "--table", &v) : 0;
		if (r < 0)
			return usage_error("--table needs a name");
		if (r > 0) {
			c->table = v;
			continue;
		}
		return usage_error("%s: unknown option \"%s\"", k->name, a);
	}
	if (c->dashdash == (size_t)-1)
		c->dashdash = c->nargs;
	if (c->json && !(k->opts & OPT_JSON))
		return usage_error("%s has no --json output", k->name);
	if (c->nargs < k->min_args)
		return usage_error("%s needs %s (usage: jailfw %s %s)", k->name,
				   strstr(k->synopsis, "POLICY") ? "a POLICY" : "an argument",
				   k->name, k->synopsis);
	if (c->nargs > k->max_args)
		return usage_error("too many arguments for %s (usage: jailfw %s %s)", k->name,
				   k->name, k->synopsis);
	return EXIT_OK;
}

/*
 * What in the environment could steer jailfw, run as root, beyond what
 * its caller may do anyway (docs/jailfw.8, ENVIRONMENT).  jailfw's own
 * variables are read with secure_getenv, so they count for nothing when
 * jailfw has more privilege than its caller (setuid, file capabilities);
 * it never calls setlocale(), so no locale file is read and messages stay
 * in English.  What remains is a library's: libnftables loads libxtables,
 * which dlopen()s its extensions from $XTABLES_LIBDIR (and the iptables
 * variables before it) when a ruleset listed holds an xt expression
 * (doctor and status list the live ruleset): code of the caller's choice,
 * run as root.  They go before any library reads them.
 */
static void scrub_environment(void)
{
	static const char *const steer[] = {"XTABLES_LIBDIR", "IPTABLES_LIB_DIR",
					    "IP6TABLES_LIB_DIR"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(steer); i++)
		unsetenv(steer[i]);
}

int main(int argc, char **argv)
{
	const struct cmd *k;
	struct cli c;
	int i, status;

	/*
	 * At thousands of jails the policy renders to megabytes, read,
	 * copied, digested and freed several times per apply.  With glibc's
	 * defaults each such buffer is a mapping of its own, faulted in page
	 * by page and unmapped at free; from the heap, freed memory is used
	 * again (about a tenth of a delta apply's time at 5000 jails).
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	scrub_environment();
	memset(&c, 0, sizeof(c));
	diag_init(&c.d, stderr);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (global_flag(&c, argv[i]))
			continue;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			status = EXIT_OK;
			goto out;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("jailfw %s\n", JAILFW_VERSION);
			status = EXIT_OK;
			goto out;
		}
		status = usage_error("unknown option \"%s\"", argv[i]);
		goto out;
	}
	if (i == argc) {
		usage(stderr);
		status = EXIT_USAGE;
		goto out;
	}
	k = find_cmd(argv[i]);
	if (!k) {
		status = unknown_cmd(argv[i]);
		goto out;
	}
	status = parse_cmd_args(&c, k, argc - i - 1, argv + i + 1);
	if (status)
		goto out;
	build_template_path(&c);
	/* Privilege first, before reading anything: say what is missing. */
	if (k->needs && !caps_require(k->name, k->needs, &c.d)) {
		status = EXIT_PRIV;
		goto out;
	}
	status = k->fn(&c);
out:
	diag_free(&c.d);
	free(c.dirs);
	free(c.args);
	free(c.env_path);
	/*
	 * A SIGTERM, SIGINT, SIGHUP, SIGQUIT or SIGPIPE that came during apply or
	 * down: the work is done and reported, now end the way it asks (see
	 * apply_reraise).  128 + N only if the signal did not end us.
	 */
	if (c.signal) {
		apply_reraise(c.signal);
		status = 128 + c.signal;
	}
	return status;
}
