// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jailfw compare: uid versus netns, per jail.  See compare.h.
 *
 * The words are for someone who has just read the seed story and must
 * pick a backend: what each one stops, what slips past it, and what it
 * costs.  Where the jail's own policy matters (its allowlist, its `to
 * host` rules, its published ports, its uid) the sentence names it.
 */
#include "compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "jsonw.h"
#include "probe.h"
#include "util.h"
#include "verify.h"

static const char *const row_names[CMP_ROWS] = {
    [CMP_EGRESS] = "egress allowlist",
    [CMP_LOOPBACK] = "loopback services",
    [CMP_ABSTRACT] = "abstract unix sockets",
    [CMP_FILESYSTEM] = "the file system (pathname unix sockets)",
    [CMP_SAME_UID] = "other processes of the same uid",
    [CMP_PASSED_SOCKETS] = "sockets opened before a privilege drop or passed in",
    [CMP_SETUID] = "setuid helpers",
    [CMP_INBOUND] = "inbound exposure",
    [CMP_OTHER_JAILS] = "other jails",
    [CMP_HOST_SERVICES] = "the host's own services",
    [CMP_FORWARDING] = "need for forwarding and NAT",
    [CMP_COST] = "per-packet cost",
    [CMP_LAUNCH] = "how a process is launched",
};

const char *compare_row_name(enum compare_row r)
{
	return (size_t)r < CMP_ROWS ? row_names[r] : "?";
}

bool compare_row_measured(enum compare_row r)
{
	return r == CMP_EGRESS || r == CMP_LOOPBACK || r == CMP_INBOUND || r == CMP_OTHER_JAILS ||
	       r == CMP_HOST_SERVICES;
}

/* ------------------------------------------------------------ the words */

static bool rule_to_host(const struct rule *r)
{
	size_t i;

	for (i = 0; i < r->ndests; i++)
		if (r->dests[i].kind == DEST_HOST)
			return true;
	return false;
}

/* "udp/123 anywhere; tcp/80 to 192.0.2.0/24, 2001:db8::/32", or "nothing". */
static void allowlist(struct strbuf *sb, const struct jail *j)
{
	char buf[PREFIX_STRLEN];
	size_t i, k, n = 0;

	for (i = 0; i < j->nrules; i++) {
		const struct rule *r = &j->rules[i];
		bool first = true;

		if (r->ndests && rule_to_host(r) && r->ndests == 1)
			continue;
		sb_puts(sb, n++ ? "; " : "");
		rule_spec_str(r, sb);
		if (!r->ndests) {
			sb_puts(sb, " anywhere");
			continue;
		}
		for (k = 0; k < r->ndests; k++) {
			if (r->dests[k].kind != DEST_PREFIX)
				continue;
			sb_puts(sb, first ? " to " : ", ");
			sb_puts(sb, prefix_str(&r->dests[k].pfx, buf));
			first = false;
		}
	}
	if (!n)
		sb_puts(sb, "nothing");
}

/* "udp/53, tcp/53", or "none". */
static void host_rules(struct strbuf *sb, const struct jail *j)
{
	size_t i, n = 0;

	for (i = 0; i < j->nrules; i++) {
		if (!rule_to_host(&j->rules[i]))
			continue;
		sb_puts(sb, n++ ? ", " : "");
		rule_spec_str(&j->rules[i], sb);
	}
	if (!n)
		sb_puts(sb, "none");
}

static void published(struct strbuf *sb, const struct jail *j)
{
	size_t i;

	for (i = 0; i < j->npubs; i++) {
		const struct publish *pb = &j->pubs[i];

		sb_printf(sb, "%s%s/%u", i ? ", " : "", proto_name(pb->proto), pb->ext_lo);
		if (pb->ext_hi != pb->ext_lo)
			sb_printf(sb, "-%u", pb->ext_hi);
		sb_printf(sb, "->%u", pb->int_lo);
	}
}

/* "uid 1099", or the words for a netns jail without a user. */
static void who(struct strbuf *sb, const struct jail *j)
{
	if (j->backend == BACKEND_UID || j->user)
		sb_printf(sb, "uid %u", (unsigned int)j->uid);
	else
		sb_puts(sb, "the service's uid");
}

static void host_addr(struct strbuf *sb, const struct jail *j)
{
	char buf[PREFIX_STRLEN];
	struct prefix a;

	if (j->backend != BACKEND_NETNS || (!j->has_v4 && !j->has_v6)) {
		sb_puts(sb, "the veth's host address");
		return;
	}
	jail_addr_host(j->has_v4 ? &j->v4 : &j->v6, &a);
	sb_puts(sb, addr_str(&a, buf));
}

static void uid_text(struct strbuf *sb, const struct policy *p, const struct jail *j,
		     enum compare_row r)
{
	switch (r) {
	case CMP_EGRESS:
		sb_puts(sb, "Enforced in the output hook on packets from sockets owned by ");
		who(sb, j);
		sb_puts(sb, ": ");
		allowlist(sb, j);
		sb_puts(sb, ". Everything else they send is dropped and counted.");
		break;
	case CMP_LOOPBACK:
		sb_puts(sb, "Filtered like any interface: 127.0.0.1 and ::1 only through `to host` "
			    "rules (");
		host_rules(sb, j);
		sb_puts(sb, ").");
		break;
	case CMP_ABSTRACT:
		sb_puts(sb, "NOT confined: abstract sockets (@name) belong to the network "
			    "namespace, which the jail shares with the host, so it can talk to any "
			    "host service listening on one (D-Bus, X11, ...). Path sockets: file "
			    "permissions only.");
		break;
	case CMP_FILESYSTEM:
		sb_puts(sb, "Not jailfw's concern: the host's file system, as the uid's "
			    "permissions allow, so a host service's pathname unix socket too.");
		break;
	case CMP_SAME_UID:
		sb_puts(sb, "All confined, wherever they run: a cron job or a login as ");
		who(sb, j);
		sb_puts(sb, " is jailed too. Give the service a uid of its own.");
		break;
	case CMP_PASSED_SOCKETS:
		sb_puts(sb, "Escape: a socket belongs to the uid that created it. One opened as "
			    "root before the drop to ");
		who(sb, j);
		sb_puts(sb, " (or passed in over a unix socket, or by systemd socket activation) "
			    "is not matched.");
		break;
	case CMP_SETUID:
		sb_puts(sb,
			"Escape: a setuid-root program (ping, sudo, ...) sends as root, "
			"unconfined, unless no_new_privs blocks setuid (`jailfw exec` sets it).");
		break;
	case CMP_INBOUND:
		sb_puts(sb, "Not jailfw's concern: what the service listens on is reachable as the "
			    "host's firewall allows. `publish` is not available.");
		break;
	case CMP_OTHER_JAILS:
		sb_puts(sb, "Other uid jails' local services only through `to host` rules; netns "
			    "jails are walled off (their addresses, link-local ones included, and "
			    "their links: dropped).");
		break;
	case CMP_HOST_SERVICES:
		sb_puts(sb, "Only `to host` rules (");
		host_rules(sb, j);
		sb_puts(sb, "), on every address of the host: local traffic leaves through lo. "
			    "Broadcast and multicast, which the host's sockets get a copy of: "
			    "never.");
		break;
	case CMP_FORWARDING:
		sb_puts(sb, "None: no forwarding, no NAT, no extra addresses.");
		break;
	case CMP_COST:
		sb_puts(sb, "One verdict-map lookup for each packet a local process sends; only "
			    "the jail's packets walk its chain.");
		break;
	case CMP_LAUNCH:
		sb_printf(sb,
			  "Run it as its uid: `jailfw exec %s -- CMD`, or nsjail --user / "
			  "systemd User=.",
			  j->name);
		break;
	case CMP_ROWS:
		break;
	}
	(void)p;
}

static void netns_text(struct strbuf *sb, const struct policy *p, const struct jail *j,
		       enum compare_row r)
{
	switch (r) {
	case CMP_EGRESS:
		sb_puts(sb, "Enforced in the forward hook on every packet leaving the namespace, "
			    "whoever sends it: ");
		allowlist(sb, j);
		sb_puts(sb, ". Everything else is dropped and counted.");
		break;
	case CMP_LOOPBACK:
		sb_puts(sb, "Out of reach: 127.0.0.1 in the jail is its own loopback; the host's "
			    "loopback services cannot even be addressed.");
		break;
	case CMP_ABSTRACT:
		sb_puts(sb, "Isolated: the namespace has its own abstract socket names. Path "
			    "sockets (files) stay reachable as file permissions allow.");
		break;
	case CMP_FILESYSTEM:
		sb_puts(sb, "NOT isolated: a network namespace isolates the network, not the file "
			    "system. A host service's pathname unix socket (a relay, a database, "
			    "docker.sock) is reachable as file permissions allow; keep it out with "
			    "permissions or a mount namespace.");
		break;
	case CMP_SAME_UID:
		sb_puts(sb, "Not confined outside the namespace: the same uid elsewhere on the "
			    "host has the host's network. Inside, every uid is confined, root "
			    "too.");
		break;
	case CMP_PASSED_SOCKETS:
		sb_puts(sb, "A socket opened in the host's namespace before entering the jail, or "
			    "passed in, keeps the host's network. `jailfw exec` enters the "
			    "namespace first, so what the service opens itself is confined.");
		break;
	case CMP_SETUID:
		sb_puts(sb, "Confined: a setuid program still runs in the jail's namespace.");
		break;
	case CMP_INBOUND:
		if (j->npubs) {
			sb_puts(sb, "Only published ports reach it (");
			published(sb, j);
			sb_puts(sb, "); its own address is not reachable from outside.");
		} else {
			sb_puts(sb, "Nothing reaches it from outside: nothing is published.");
		}
		break;
	case CMP_OTHER_JAILS:
		sb_puts(sb, "Other netns jails: dropped in the forward chain; uid jails: dropped "
			    "in the output hook. The host's own processes, not jailed, reach its "
			    "services: jailfw walls jails in, not the host out.");
		break;
	case CMP_HOST_SERVICES:
		sb_puts(sb, "Only `to host` rules (");
		host_rules(sb, j);
		sb_puts(sb, "), in the input hook, on ");
		host_addr(sb, j);
		sb_puts(sb, " or any other address of the host; broadcast and multicast count as "
			    "the host.");
		break;
	case CMP_FORWARDING:
		sb_printf(sb,
			  "IP forwarding on (for the families the jail has), masquerade out "
			  "of the wan; a default-drop forward policy elsewhere must accept "
			  "jailfw's fwmark 0x%08x.",
			  policy_fwmark(p));
		break;
	case CMP_COST:
		sb_puts(sb, "A veth crossing, routing, conntrack with NAT and the forward chain's "
			    "lookups for every packet.");
		break;
	case CMP_LAUNCH:
		sb_printf(sb,
			  "Inside the namespace: `jailfw exec %s -- CMD` (or `ip netns exec "
			  "%s`), then drop to the service's user.",
			  j->name, j->name);
		break;
	case CMP_ROWS:
		break;
	}
}

char *compare_text(const struct policy *p, const struct jail *j, enum backend b, enum compare_row r)
{
	struct strbuf sb;

	sb_init(&sb);
	if (b == BACKEND_UID)
		uid_text(&sb, p, j, r);
	else
		netns_text(&sb, p, j, r);
	return sb_steal(&sb);
}

/* ------------------------------------------------------------ switching */

static bool uid_taken(const struct policy *p, uid_t uid)
{
	size_t i;

	for (i = 0; i < p->njails; i++)
		if ((p->jails[i].backend == BACKEND_UID || p->jails[i].user) &&
		    p->jails[i].uid == uid)
			return true;
	return false;
}

/*
 * uid -> netns: 10.200.N.0/24 and fd00:200:N::/64 (N from 1: jailfw's own
 * examples use 10.97.x), an interface prefix "cmpN" when the name is too
 * long for NAME-out.  netns -> uid: the first free uid from 64000 + N; no
 * publish, no dns (neither exists for uid jails).
 */
void compare_switched(const struct policy *p, struct policy *out)
{
	uid_t next = 64000;
	size_t i;

	*out = *p;
	out->jails = xcalloc(p->njails ? p->njails : 1, sizeof(*out->jails));
	/* Its own array, exactly this big: VEC_PUSH_CAP must not guess (util.h). */
	out->jails_cap = p->njails ? p->njails : 1;
	for (i = 0; i < p->njails; i++) {
		struct jail *j = &out->jails[i];
		unsigned int n = (unsigned int)i + 1;

		*j = p->jails[i];
		if (j->backend == BACKEND_UID) {
			j->backend = BACKEND_NETNS;
			memset(&j->v4, 0, sizeof(j->v4));
			j->v4.family = AF_INET;
			j->v4.len = 24;
			j->v4.addr.b[0] = 10;
			j->v4.addr.b[1] = (uint8_t)(200 + n / 256);
			j->v4.addr.b[2] = (uint8_t)(n % 256);
			memset(&j->v6, 0, sizeof(j->v6));
			j->v6.family = AF_INET6;
			j->v6.len = 64;
			j->v6.addr.b[0] = 0xfd;
			j->v6.addr.b[2] = 0x02;
			j->v6.addr.b[4] = (uint8_t)(n >> 8);
			j->v6.addr.b[5] = (uint8_t)n;
			j->has_v4 = j->has_v6 = true;
			if (strlen(j->name) > JAIL_IFPREFIX_MAX)
				j->ifname = xasprintf("cmp%u", n);
		} else if (j->backend == BACKEND_NETNS) {
			j->backend = BACKEND_UID;
			while (uid_taken(p, next + n))
				next++;
			j->uid = j->gid = next + n;
			j->uid_resolved = true;
			j->user = xasprintf("%u", (unsigned int)j->uid);
			j->pubs = NULL;
			j->npubs = 0;
			j->ndns = 0;
		}
	}
}

void compare_switched_free(struct policy *sw, const struct policy *orig)
{
	size_t i;

	for (i = 0; i < sw->njails && i < orig->njails; i++) {
		if (sw->jails[i].user != orig->jails[i].user)
			free(sw->jails[i].user);
		if (sw->jails[i].ifname != orig->jails[i].ifname)
			free(sw->jails[i].ifname);
	}
	free(sw->jails);
	memset(sw, 0, sizeof(*sw));
}

/* ------------------------------------------------------------ measuring */

struct measure {
	size_t n, counts[3], passed, dropped;
};

static bool compare_is_loopback(const struct prefix *a)
{
	static const uint8_t lo6[16] = {[15] = 1};

	if (a->family == AF_INET)
		return a->addr.b[0] == 127;
	return !memcmp(a->addr.b, lo6, 16);
}

/* Which row a probe measures. */
static enum compare_row probe_row(const struct probe *pr)
{
	switch (pr->kind) {
	case PK_JAIL:
		return CMP_OTHER_JAILS;
	case PK_PUBLISH:
	case PK_UNPUBLISHED:
	case PK_DIRECT:
		return CMP_INBOUND;
	default:
		break;
	}
	if (pr->kind == PK_HOST || pr->at == PROBE_AT_HOST)
		return compare_is_loopback(&pr->dst) ? CMP_LOOPBACK : CMP_HOST_SERVICES;
	return CMP_EGRESS;
}

static void measure(const struct probe_plan *plan, size_t ji, struct measure m[CMP_ROWS])
{
	size_t i;

	memset(m, 0, CMP_ROWS * sizeof(*m));
	for (i = 0; plan && i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		struct measure *x;

		if (pr->jail != ji)
			continue;
		x = &m[probe_row(pr)];
		x->n++;
		x->counts[verify_verdict(pr)]++;
		if (pr->ran && pr->saw_pass)
			x->passed++;
		else if (pr->ran)
			x->dropped++;
	}
}

static void measure_text(struct strbuf *sb, const struct measure *m)
{
	if (!m->n) {
		sb_puts(sb, "Measured: nothing to probe.");
		return;
	}
	sb_printf(sb, "Measured: %zu %s, %zu passed, %zu dropped: ", m->n,
		  m->n == 1 ? "probe" : "probes", m->passed, m->dropped);
	if (m->counts[VERDICT_FAIL])
		sb_printf(sb, "%zu CONTRADICT the policy", m->counts[VERDICT_FAIL]);
	else if (m->counts[VERDICT_UNTESTABLE])
		sb_printf(sb, "%zu could not be tested", m->counts[VERDICT_UNTESTABLE]);
	else
		sb_puts(sb, "all as the policy says.");
}

/* Contradictions of one run, named with the backend they ran under. */
static size_t compare_report(const struct policy *p, const struct probe_plan *plan, struct diag *d)
{
	char ps[96];
	size_t i, bad = 0;

	for (i = 0; i < plan->nprobes; i++) {
		const struct probe *pr = &plan->probes[i];
		const struct jail *j = &p->jails[pr->jail];
		enum verify_verdict v = verify_verdict(pr);

		if (v == VERDICT_OK)
			continue;
		bad += v == VERDICT_FAIL;
		diag_error(d, &pr->loc, 0, "compare: jail %s as %s: %s (%s) %s", j->name,
			   backend_name(j->backend), probe_str(pr, ps, sizeof(ps)), pr->what,
			   v == VERDICT_UNTESTABLE ? "could not be tested"
			   : pr->saw_pass	   ? "got through, but the policy drops it"
						   : "was dropped, but the policy allows it");
	}
	return bad;
}

/* ------------------------------------------------------------ output */

/*
 * Split text into lines of at most width columns, at spaces, keeping a
 * `quoted command` on one line when it fits.
 */
static size_t wrap(const char *text, size_t width, char ***lines)
{
	const char *s = text, *brk, *q;
	size_t n = 0, len;
	bool quoted;

	*lines = NULL;
	while (*s) {
		len = strlen(s);
		if (len <= width) {
			*VEC_PUSH(*lines, n) = xstrdup(s);
			break;
		}
		brk = NULL;
		quoted = false;
		for (q = s; q <= s + width; q++) {
			if (*q == '`')
				quoted = !quoted;
			else if (*q == ' ' && !quoted)
				brk = q;
		}
		if (!brk) /* no space outside quotes: any space, else cut */
			for (brk = s + width; brk > s && *brk != ' '; brk--)
				;
		if (brk == s)
			brk = s + width;
		*VEC_PUSH(*lines, n) = xstrndup(s, (size_t)(brk - s));
		s = brk;
		while (*s == ' ')
			s++;
	}
	return n;
}

#define COL_PROP 22
#define COL_TEXT 44

static void print_row(FILE *f, const char *prop, const char *a, const char *b)
{
	char **lp, **la, **lb;
	size_t np = wrap(prop, COL_PROP, &lp), na = wrap(a, COL_TEXT, &la),
	       nb = wrap(b, COL_TEXT, &lb);
	size_t i, n = np > na ? np : na;

	n = n > nb ? n : nb;
	for (i = 0; i < n; i++)
		fprintf(f, "  %-*s  %-*s  %s\n", COL_PROP, i < np ? lp[i] : "", COL_TEXT,
			i < na ? la[i] : "", i < nb ? lb[i] : "");
	strv_free(lp, np);
	strv_free(la, na);
	strv_free(lb, nb);
}

/*
 * One jail, both columns.  ju and jn are the jail as each column
 * describes it: the jail itself under its own backend; under the other,
 * the switched copy that --probe ran (its addresses, its uid), else the
 * jail itself in general words.  mu, mn: what each run measured, or NULL.
 */
static void compare_print_jail(FILE *f, const struct policy *p, const struct jail *j,
			       const struct jail *ju, const struct jail *jn,
			       const struct measure *mu, const struct measure *mn)
{
	char head_u[32], head_n[32];
	enum compare_row r;

	fprintf(f, "jail %s: backend %s", j->name, backend_name(j->backend));
	if (j->backend == BACKEND_UID)
		fprintf(f, " (uid %u)", (unsigned int)j->uid);
	fputs("\n\n", f);
	snprintf(head_u, sizeof(head_u), "uid%s", j->backend == BACKEND_UID ? " (current)" : "");
	snprintf(head_n, sizeof(head_n), "netns%s",
		 j->backend == BACKEND_NETNS ? " (current)" : "");
	print_row(f, "", head_u, head_n);
	for (r = 0; r < CMP_ROWS; r++) {
		char *a = compare_text(p, ju, BACKEND_UID, r),
		     *b = compare_text(p, jn, BACKEND_NETNS, r);

		if (mu && compare_row_measured(r)) {
			struct strbuf sa, sb;

			sb_init(&sa);
			sb_init(&sb);
			sb_printf(&sa, "%s ", a);
			measure_text(&sa, &mu[r]);
			sb_printf(&sb, "%s ", b);
			measure_text(&sb, &mn[r]);
			free(a);
			free(b);
			a = sb_steal(&sa);
			b = sb_steal(&sb);
		}
		print_row(f, compare_row_name(r), a, b);
		free(a);
		free(b);
	}
	fputc('\n', f);
}

static json_t *compare_json_measure(const struct measure *m)
{
	return jsonw_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "probes", jsonw_u64(m->n), "passed",
			  jsonw_u64(m->passed), "dropped", jsonw_u64(m->dropped), "ok",
			  jsonw_u64(m->counts[VERDICT_OK]), "failed",
			  jsonw_u64(m->counts[VERDICT_FAIL]), "untestable",
			  jsonw_u64(m->counts[VERDICT_UNTESTABLE]));
}

static json_t *compare_json_jail(const struct policy *p, const struct jail *j,
				 const struct jail *ju, const struct jail *jn,
				 const struct measure *mu, const struct measure *mn)
{
	json_t *rows = jsonw_pack("[]"), *row;
	enum compare_row r;

	for (r = 0; r < CMP_ROWS; r++) {
		char *a = compare_text(p, ju, BACKEND_UID, r),
		     *b = compare_text(p, jn, BACKEND_NETNS, r);

		row = jsonw_pack("{s:s, s:o, s:o, s:b}", "property", compare_row_name(r), "uid",
				 jsonw_str(a), "netns", jsonw_str(b), "network",
				 compare_row_measured(r));
		if (mu && compare_row_measured(r))
			jsonw_merge(row, jsonw_pack("{s:{s:o, s:o}}", "measured", "uid",
						    compare_json_measure(&mu[r]), "netns",
						    compare_json_measure(&mn[r])));
		jsonw_append(rows, row);
		free(a);
		free(b);
	}
	return jsonw_pack("{s:o, s:s, s:o}", "jail", jsonw_str(j->name), "backend",
			  backend_name(j->backend), "rows", rows);
}

int compare_policy(const struct policy *p, const struct compare_opts *o, struct diag *d)
{
	struct verify_opts vo = {.verbose = o->verbose};
	FILE *f = o->out ? o->out : stdout;
	struct probe_plan plan_cur, plan_sw;
	struct measure mcur[CMP_ROWS], msw[CMP_ROWS];
	struct policy sw;
	bool probed = false;
	json_t *jails = jsonw_pack("[]"), *doc;
	size_t i, bad = 0;
	int status = EXIT_OK, err = 0;

	memset(&plan_cur, 0, sizeof(plan_cur));
	memset(&plan_sw, 0, sizeof(plan_sw));
	compare_switched(p, &sw);
	if (o->probe) {
		/* The policy as written, then every jail under the other backend. */
		probe_plan_build(p, &plan_cur);
		status = verify_run(p, &plan_cur, &vo, d);
		if (!status) {
			probe_plan_build(&sw, &plan_sw);
			status = verify_run(&sw, &plan_sw, &vo, d);
		}
		if (status)
			goto out;
		bad = compare_report(p, &plan_cur, d) + compare_report(&sw, &plan_sw, d);
		probed = true;
	}
	for (i = 0; i < p->njails; i++) {
		const struct jail *j = &p->jails[i], *other = probed ? &sw.jails[i] : j;
		const struct jail *ju = j->backend == BACKEND_UID ? j : other;
		const struct jail *jn = j->backend == BACKEND_UID ? other : j;
		const struct measure *mu = NULL, *mn = NULL;

		if (probed) {
			measure(&plan_cur, i, mcur);
			measure(&plan_sw, i, msw);
			mu = j->backend == BACKEND_UID ? mcur : msw;
			mn = j->backend == BACKEND_UID ? msw : mcur;
		}
		if (o->json)
			jsonw_append(jails, compare_json_jail(p, j, ju, jn, mu, mn));
		else
			compare_print_jail(f, p, j, ju, jn, mu, mn);
	}
	errno = 0;
	if (o->json) {
		doc = jsonw_pack("{s:o, s:b}", "jails", jails, "probed", probed);
		jails = NULL;
		err = jsonw_print(f, doc);
		json_decref(doc);
	} else {
		if (!probed)
			fputs("(network rows from the policy's words; `compare --probe` measures "
			      "them in a sandbox under both backends)\n",
			      f);
		if (fflush(f) || ferror(f))
			err = errno ? -errno : -EIO;
	}
	if (err)
		diag_error(d, NULL, 0, "compare: cannot write the report: %s", strerror(-err));
	if (bad)
		status = EXIT_VERIFY;
	else if (err)
		status = EXIT_INVALID;
out:
	json_decref(jails);
	probe_plan_free(&plan_cur);
	probe_plan_free(&plan_sw);
	compare_switched_free(&sw, p);
	return status;
}
