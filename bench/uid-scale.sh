#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Load time of uid jails at scale: 1, 100, 1000 and 5000 jails with two
# allow rules each (the README's uid jail: udp/123 to anywhere, tcp/80,443 to
# 192.0.2.0/24 and 2001:db8::/32), measured three ways in the same run:
#
#   jailfw    `jailfw apply` end to end (parse, check, render, libnftables,
#             state), from no table
#   nft -f    loading jailfw's rendered text with nft -f
#   nft -f/u  the same with an LD_PRELOAD shim that answers getpwnam()
#             with "no such user", as jailfw does while libnftables runs:
#             nft 1.0.6 looks every uid literal up as a user name first, an
#             NSS lookup per element.  The shim also makes nft_ctx_free() a
#             no-op: jailfw's load runs in a child that exits without
#             freeing libnftables' context (nftload.c), nft frees it before
#             it exits, some 13 ms at 5000 jails.  This is the floor jailfw
#             builds on; jailfw's own overhead is the difference
#   re-apply  `jailfw apply` of the policy with one jail's allowlist
#             changed, over the table in force: counters read and carried
#             over, the handover table loaded, the table replaced, the
#             handover table deleted (docs/ruleset.md)
#   naive     the hand-written shape: one chain per jail with anonymous
#             sets (`udp dport { 53, 123 }`), dispatched by a skuid vmap
#
# A second table compares, at BENCH_DELTA_JAILS (default "1000 5000")
# jails, a re-apply through the full replace with the delta apply
# (docs/ruleset.md, "Delta apply"), for three changes to the policy in
# force, all applied from the same file:
#
#   full      the allowlist of jail 0 changed, after a foreign commit
#             (a throwaway table added and removed) moved the ruleset
#             generation, so that apply replaces the table as before
#   allow     the same change as a delta
#   add       one jail added (a delta)
#   remove    the last jail removed (a delta)
#
# with the CPU time (user + system, median) of the three deltas.
#
# Then, for the largest of BENCH_DELTA_JAILS, the time of each step of one
# allowlist change (`jailfw -vv apply`).  The load average is printed
# before and after: wall times mean little when other work shares the
# CPUs, so the first table also gives the CPU time (user + system, the
# process and its children) of jailfw and of nft -f/u, and jailfw's
# overhead by it.
#
# Everything runs in a throwaway network namespace; the machine's own
# ruleset is never touched.  Usage: bench/uid-scale.sh [BUILD_DIR] [RUNS]
# (BENCH_SCALE_JAILS="" skips the first table, BENCH_DELTA_JAILS="" the second.)
#
# BENCH_FLOOR_JAILS=N (none by default) adds, at N jails, the first full
# apply against the floor taken in turn, BENCH_FLOOR_RUNS pairs (21): see
# the last part.
set -euo pipefail

if [ -z "${JAILFW_BENCH_INNER:-}" ]; then
	export JAILFW_BENCH_INNER=1
	exec unshare --net --mount --propagation private "$0" "$@"
fi

build=${1:-build}
runs=${2:-5}
jailfw=$(realpath "$build/jailfw")
work=$(mktemp -d)
trap 'nft delete table inet jailfw 2>/dev/null || true; rm -rf "$work"' EXIT
# mode 0700: jailfw refuses a state directory others may write (state.c).
mount -t tmpfs -o mode=0700 tmpfs /run/jailfw 2>/dev/null || {
	mkdir -p /run/jailfw && mount -t tmpfs -o mode=0700 tmpfs /run/jailfw
}

gen_policy() { # N FILE [NTP_PORT_OF_JAIL_0]
	python3 - "$1" "$2" "${3:-123}" <<'PY'
import sys
n, path, port0 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    for i in range(n):
        f.write(f"jail j{i} {{\n\tbackend uid\n\tuser {20000 + i}\n"
                f"\tallow udp/{port0 if i == 0 else 123}\n"
                "\tallow tcp/80,443 to 192.0.2.0/24, 2001:db8::/32\n}\n")
PY
	chmod 0644 "$2"
}

# The getpwnam() shim for "nft -f/u" (see the header).
cat >"$work/nouid.c" <<'C'
#include <errno.h>
#include <pwd.h>
struct passwd *getpwnam(const char *name)
{
	(void)name;
	errno = 0;
	return 0;
}
struct nft_ctx;
void nft_ctx_free(struct nft_ctx *ctx)
{
	(void)ctx;
}
C
cc -O2 -shared -fPIC -o "$work/nouid.so" "$work/nouid.c"

gen_naive() { # N FILE
	python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
o = ["table inet naive {}", "delete table inet naive", "table inet naive {"]
o.append("\tmap jails {\n\t\ttype uid : verdict\n\t\telements = { %s }\n\t}" %
         ", ".join(f"{20000 + i} : jump j{i}" for i in range(n)))
o.append("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"
         "\t\tmeta skuid vmap @jails\n\t}")
for i in range(n):
    o.append(f"\tchain j{i} {{\n"
             "\t\tct state established,related accept\n"
             "\t\tct state invalid drop\n"
             "\t\tudp dport 123 counter accept\n"
             "\t\tip daddr 192.0.2.0/24 tcp dport { 80, 443 } counter accept\n"
             "\t\tip6 daddr 2001:db8::/32 tcp dport { 80, 443 } counter accept\n"
             "\t\tcounter drop\n\t}")
o.append("}")
open(path, "w").write("\n".join(o) + "\n")
PY
}

# Median wall time in ms of RUNS runs of a command; the table is removed
# before each run so every run loads from scratch.  The median CPU time
# (user + system, ms) goes to $work/cpu.
time_ms() { # CLEANUP CMD...
	local cleanup=$1; shift
	local t=() r
	: >"$work/cpu.runs"
	for ((r = 0; r < runs; r++)); do
		eval "$cleanup" >/dev/null 2>&1 || true
		local s e TIMEFORMAT='%3U %3S'
		s=$(date +%s%N)
		{ time "$@" >/dev/null; } 2>>"$work/cpu.runs"
		e=$(date +%s%N)
		t+=($(( (e - s) / 1000 )))
	done
	awk '{print ($1 + $2) * 1000}' "$work/cpu.runs" | sort -n |
		awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]}' >"$work/cpu"
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f", m/1000}'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %10s %10s %10s %9s %10s %10s %10s %10s %10s %9s\n' jails "jailfw ms" "nft -f ms" \
	"nft-f/u ms" overhead "re-apply" "naive ms" "render ms" "jailfw cpu" "n-f/u cpu" "cpu over"
for n in ${BENCH_SCALE_JAILS-1 100 1000 5000}; do
	gen_policy "$n" "$work/p$n.conf"
	gen_policy "$n" "$work/q$n.conf" 124
	"$jailfw" render "$work/p$n.conf" >"$work/p$n.nft"
	gen_naive "$n" "$work/naive$n.nft"
	tj=$(time_ms "nft delete table inet jailfw" "$jailfw" -q apply "$work/p$n.conf")
	cj=$(cat "$work/cpu")
	tn=$(time_ms "nft delete table inet jailfw" nft -f "$work/p$n.nft")
	tu=$(time_ms "nft delete table inet jailfw" env LD_PRELOAD="$work/nouid.so" nft -f "$work/p$n.nft")
	cu=$(cat "$work/cpu")
	tc=$(time_ms "nft delete table inet jailfw; $jailfw -q apply $work/p$n.conf" \
		"$jailfw" -q apply "$work/q$n.conf")
	if [ "$n" -le 1000 ] || [ "${BENCH_NAIVE_5000:-1}" = 1 ]; then
		tv=$(time_ms "nft delete table inet naive" nft -f "$work/naive$n.nft")
	else
		tv=skipped
	fi
	tr=$(time_ms true "$jailfw" render "$work/p$n.conf")
	ov=$(awk -v a="$tj" -v b="$tu" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')
	oc=$(awk -v a="$cj" -v b="$cu" 'BEGIN { printf "%+.1f%%", (a - b) * 100 / b }')
	printf '%-6s %10s %10s %10s %9s %10s %10s %10s %10s %10s %9s\n' "$n" "$tj" "$tn" "$tu" "$ov" \
		"$tc" "$tv" "$tr" "$cj" "$cu" "$oc"
	nft delete table inet naive 2>/dev/null || true
done

# ---- full replace versus delta, from one policy file
gen_policy_n() { # N FILE PORT0: like gen_policy with N jails
	gen_policy "$1" "$2" "$3"
}
cur=$work/cur.conf
printf '\n%-6s %10s %10s %10s %10s %10s %10s %10s %10s\n' jails "full ms" "allow ms" "add ms" \
	"remove ms" "delta/full" "allow cpu" "add cpu" "rm cpu"
last=
for n in ${BENCH_DELTA_JAILS-1000 5000}; do
	last=$n
	gen_policy_n "$n" "$work/base$n.conf" 123
	gen_policy_n "$n" "$work/allow$n.conf" 124
	gen_policy_n "$((n + 1))" "$work/add$n.conf" 123
	gen_policy_n "$((n - 1))" "$work/remove$n.conf" 123
	# Each run starts from the base policy in force (a delta itself), then
	# puts the variant in place; only the variant's apply is timed.
	setup() { # VARIANT [FOREIGN]
		cp "$work/base$n.conf" "$cur"
		"$jailfw" -q apply "$cur"
		cp "$work/$1$n.conf" "$cur"
		if [ -n "${2:-}" ]; then
			nft add table inet bench_foreign && nft delete table inet bench_foreign
		fi
	}
	nft delete table inet jailfw 2>/dev/null || true
	cp "$work/base$n.conf" "$cur"
	"$jailfw" -q apply "$cur"
	tf=$(time_ms "setup allow foreign" "$jailfw" -q apply "$cur")
	ta=$(time_ms "setup allow" "$jailfw" -q apply "$cur")
	ca=$(cat "$work/cpu")
	tadd=$(time_ms "setup add" "$jailfw" -q apply "$cur")
	cadd=$(cat "$work/cpu")
	trm=$(time_ms "setup remove" "$jailfw" -q apply "$cur")
	crm=$(cat "$work/cpu")
	# Proof that the timed applies took the path they are named after.
	setup allow
	out=$("$jailfw" -v apply "$cur" 2>&1)
	[[ $out == *"objects, in one transaction"* ]] ||
		echo "warning: the allowlist change at $n jails did not take the delta path" >&2
	setup allow foreign
	out=$("$jailfw" -v apply "$cur" 2>&1)
	[[ $out == *"delta: not possible"* ]] ||
		echo "warning: the full replace at $n jails took the delta path" >&2
	rt=$(awk -v a="$ta" -v b="$tadd" -v c="$trm" -v f="$tf" \
		'BEGIN { m = a; if (b > m) m = b; if (c > m) m = c; printf "1/%.0f", f / m }')
	printf '%-6s %10s %10s %10s %10s %10s %10s %10s %10s\n' "$n" "$tf" "$ta" "$tadd" "$trm" "$rt" \
		"$ca" "$cadd" "$crm"
done
if [ -n "$last" ]; then
	setup allow
	echo
	echo "one allowlist change at $n jails, step by step (jailfw -vv):"
	"$jailfw" -vv apply "$cur" 2>&1 | sed -n 's/^jailfw: time: /  /p'
fi
# ---- the first full apply against its floor, interleaved
# One jailfw apply and one nft -f/u of the same render, taken in turn from
# no table, BENCH_FLOOR_RUNS times (default 21): the two share whatever
# else the machine does in those seconds, which separate series of runs
# do not.  CPU time (user + system, with children) of each; the overhead
# by the medians and by each pair's ratio (median and quartiles).
cpu_of() { # CMD...: its CPU time in ms, from no table
	local TIMEFORMAT='%3U %3S'
	nft delete table inet jailfw >/dev/null 2>&1 || true
	{ time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print ($1 + $2) * 1000}'
}
for n in ${BENCH_FLOOR_JAILS-}; do
	gen_policy "$n" "$work/f$n.conf"
	"$jailfw" render "$work/f$n.conf" >"$work/f$n.nft"
	: >"$work/floor.pairs"
	for ((r = 0; r < ${BENCH_FLOOR_RUNS:-21}; r++)); do
		a=$(cpu_of "$jailfw" -q apply "$work/f$n.conf")
		b=$(cpu_of env LD_PRELOAD="$work/nouid.so" nft -f "$work/f$n.nft")
		echo "$a $b" >>"$work/floor.pairs"
	done
	echo
	echo "first apply of $n jails against the floor, ${BENCH_FLOOR_RUNS:-21} interleaved pairs (CPU ms):"
	awk '{ j[NR] = $1; f[NR] = $2; r[NR] = $1 / $2 }
	function med(a, n,   i, k, t) {
		for (i = 1; i <= n; i++) for (k = i + 1; k <= n; k++) if (a[k] < a[i]) { t = a[i]; a[i] = a[k]; a[k] = t }
		return a[int((n + 1) / 2)]
	}
	function q(a, n, p,   i) { return a[int(p * (n - 1)) + 1] }
	END {
		n = NR; mj = med(j, n); mf = med(f, n); mr = med(r, n)
		printf "  jailfw %.1f, floor %.1f: %+.1f%% by the medians; per pair: median %.3f, quartiles %.3f-%.3f\n",
			mj, mf, (mj - mf) * 100 / mf, mr, q(r, n, 0.25), q(r, n, 0.75)
	}' "$work/floor.pairs"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
