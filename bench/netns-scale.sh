#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/netns-scale.sh [BUILD_DIR]: does the cost of a netns jail grow with
# the number of jails already there?  jailfw apply of a netns policy grown
# step by step (BENCH_STEPS, default "100 1000 5000": each apply starts from
# the previous step's jails), then the same policy with BENCH_ADD (10) more
# jails (the cost of a new jail at the last step, alone), then `down`.
# Prints milliseconds per new jail for each step and per jail for down.
#
# Then, at the last step's jails, the delta apply (docs/ruleset.md, "Delta
# apply"), BENCH_RUNS (5) times each, the median: one jail's allowlist
# changed (no provisioning), one jail added (its namespace and veth made),
# the same jail removed, `jailfw stop` and `start` of one jail; with, for
# the add, the time apply spent provisioning (the "stage" and
# "provisioning commit" steps of `jailfw -vv`, when the build prints them).
# Last, BENCH_UID_JAILS (1000) uid jails: `jailfw stop` and `start` of one.
#
#   [ sandbox = "host" ] wan0 192.0.2.1/24 (to netns "net")
#        |  j0-out 10.100.0.1/30 ... jN-out
#   [ netns jails j0 .. jN-1 ]  j0-in 10.100.0.2/30 ...
#
# BENCH_PERF=DIR records `perf record -g` of every run into DIR/NAME.data
# (apply-N, add-N, again-N, down); with BENCH_STRACE=DIR, `strace -f`
# writes DIR/NAME.txt instead, a summary (-c) unless BENCH_STRACE_OPTS says
# otherwise.  The kernel's own floor: bench/netns-floor.sh.
#
# Runs in tests/lib.sh's sandbox: nothing reaches the machine's own
# namespace.  Needs root.  It measures, it asserts nothing about speed;
# the machine's other load shows in the numbers.

LIB_ROOT_BENCH=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$LIB_ROOT_BENCH/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
export JAILFW=$build/jailfw

# shellcheck source=tests/lib.sh
. "$LIB_ROOT_BENCH/tests/lib.sh"
lib_enter_sandbox "$@"

: "${BENCH_STEPS:=100 1000 5000}"
: "${BENCH_ADD:=10}"
P=$LIB_TMP/policy.conf
LOG=$LIB_TMP/jailfw.out

# gen_policy N [NTP_PORT_OF_J0 [BACKEND]]: N netns jails with a /30 each
# out of 10.100.0.0/16 (or N uid jails, uids from 20000).
gen_policy()
{
	"$LIB_PY" -I - "$1" "$P" "${2:-123}" "${3:-netns}" <<'PY'
import sys
n, path, port0, backend = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
o = ["settings {\n\twan wan0\n}\n"]
for i in range(n):
    b = i * 4
    where = (f"\tipv4 10.100.{b // 256}.{b % 256}/30\n" if backend == "netns"
             else f"\tuser {20000 + i}\n")
    o.append(f"jail j{i} {{\n\tbackend {backend}\n{where}"
             f"\tallow udp/{port0 if i == 0 else 123}\n\tallow tcp/80,443 to 192.0.2.0/24\n}}\n")
open(path, "w").write("".join(o))
PY
	chmod 0644 "$P"
}

# run NAME ARGS...: jailfw ARGS, under perf or strace when asked; sets MS.
run()
{
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	if [ -n "${BENCH_PERF:-}" ]; then
		perf record -q -g -o "$BENCH_PERF/$name.data" -- "$JAILFW" -q "$@" >>"$LOG" 2>&1
	elif [ -n "${BENCH_STRACE:-}" ]; then
		# shellcheck disable=SC2086 # options, split on purpose
		strace ${BENCH_STRACE_OPTS:--c} -f -o "$BENCH_STRACE/$name.txt" "$JAILFW" -q "$@" \
			>>"$LOG" 2>&1
	elif [ -n "${BENCH_VV:-}" ]; then
		"$JAILFW" "$VV" "$@" >"$LIB_TMP/vv.out" 2>&1
	else
		"$JAILFW" -q "$@" >>"$LOG" 2>&1
	fi || lib_bail "jailfw $* ($name)" "$(tail -n 20 "$LOG" "$LIB_TMP/vv.out" 2>/dev/null)"
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
}

lib_netns_add net || lib_bail "netns net"
lib_veth "" wan0 net eth0 || lib_bail "veth wan0/eth0"
lib_addr "" wan0 192.0.2.1/24 || lib_bail "address on wan0"
lib_addr net eth0 192.0.2.2/24 || lib_bail "address on eth0"
lib_defer "$JAILFW" -q down

# check_jails N: what the bench measured is there: N namespaces under
# /run/netns and N host ends up (the `ip` output is read once per step).
check_jails()
{
	local ns up

	ns=$(find /run/netns -mindepth 1 -maxdepth 1 -name 'j*' | wc -l)
	up=$(ip -o link show up | grep -c -- '-out@')
	if [ "$ns" -eq "$1" ] && [ "$up" -eq "$1" ]; then
		pass "$1 jails: $1 namespaces, $1 host ends up"
	else
		fail "$1 jails: $ns namespaces, $up host ends up"
	fi
}

per()
{
	awk -v m="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", m / n; else print "-" }'
}

prev=0
last=0
for n in $BENCH_STEPS; do
	gen_policy "$n"
	run "apply-$n" apply "$P"
	printf '%6d -> %6d netns jails: %8d ms, %6s ms per new jail\n' "$prev" "$n" "$MS" \
		"$(per "$MS" $((n - prev)))"
	check_jails "$n"
	prev=$n
	last=$n
done
if [ "$BENCH_ADD" -gt 0 ]; then
	n=$((last + BENCH_ADD))
	gen_policy "$n"
	run "add-$n" apply "$P"
	printf '%6d -> %6d netns jails: %8d ms, %6s ms per new jail\n' "$last" "$n" "$MS" \
		"$(per "$MS" "$BENCH_ADD")"
	check_jails "$n"
	last=$n
fi
gen_policy "$last"
run "again-$last" apply "$P"
printf '%6d netns jails again (no change): %8d ms\n' "$last" "$MS"

: "${BENCH_RUNS:=5}"
# -vv times each step of an apply; a build without it says -v's steps only.
VV=-vv
"$JAILFW" -vv --version >/dev/null 2>&1 || VV=-v
median()
{
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}
# delta NAME ARGS...: jailfw -vv ARGS, which must take the delta path;
# appends MS and the provisioning steps' time to $LIB_TMP/NAME.ms/.prov.
delta()
{
	local name=$1

	shift
	BENCH_VV=1 run "$name" "$@"
	grep -Eq 'delta: [0-9]+ objects' "$LIB_TMP/vv.out" ||
		fail "$name: the delta path" "$(grep delta: "$LIB_TMP/vv.out")"
	keep "$name"
}
# keep NAME: the last run's MS and provisioning time, for row, and the time
# of each -vv step, for steps.
keep()
{
	echo "$MS" >>"$LIB_TMP/$1.ms"
	cp "$LIB_TMP/vv.out" "$LIB_TMP/$1.vv"
	sed -n 's/^jailfw: time: \(.*\) \([0-9.]*\) ms$/\1\t\2/p' "$LIB_TMP/vv.out" \
		>>"$LIB_TMP/$1.steps"
	sed -n 's/^jailfw: time: \(stage\|provisioning commit\) \([0-9.]*\) ms$/\2/p' \
		"$LIB_TMP/vv.out" | awk '{ t += $1 } END { if (NR) printf "%.1f\n", t }' \
		>>"$LIB_TMP/$1.prov"
}
row()
{
	printf '%-34s %8s ms   provisioning %6s ms\n' "$1" "$(median <"$LIB_TMP/$2.ms")" \
		"$(median <"$LIB_TMP/$2.prov")"
}
# From here on the default policy, /etc/jailfw (the sandbox's own,
# tests/lib.sh), which stop and start apply: the table's comment names the
# file, and a change of it would be a full replace.
mkdir -p /etc/jailfw
P=/etc/jailfw/jailfw.conf
gen_policy "$last"
run "default-$last" apply
for i in $(seq 1 "$BENCH_RUNS"); do
	# The same change as "allow" through the full replace: a foreign
	# commit (a throwaway table) moves the ruleset generation first.
	nft add table inet bench_bump && nft delete table inet bench_bump
	gen_policy "$last" 125
	BENCH_VV=1 run full apply
	keep full
	gen_policy "$last" 124
	delta allow apply
	gen_policy $((last + 1))
	delta add apply
	gen_policy "$last"
	delta remove apply
	delta stop stop j1
	delta start start j1
done
echo "delta at $last netns jails ($BENCH_RUNS runs, median; load $(cut -d' ' -f1-3 /proc/loadavg)):"
row "  allowlist changed, full replace" full
row "  one jail's allowlist changed" allow
row "  one jail added" add
row "  one jail removed" remove
row "  jailfw stop j1" stop
row "  jailfw start j1" start
# steps NAME: each -vv step of NAME's runs, the median, in the order of the last run.
steps()
{
	local step

	sed -n 's/^jailfw: time: \(.*\) [0-9.]* ms$/\1/p' "$LIB_TMP/$1.vv" | while read -r step; do
		printf '  %-22s %8s ms\n' "$step" \
			"$(awk -F'\t' -v s="$step" '$1 == s { print $2 }' "$LIB_TMP/$1.steps" | median)"
	done
}
echo "the steps of an add (-vv, median of the runs):"
steps add
check_jails "$last"
run down down
printf 'down of %6d netns jails: %8d ms, %6s ms per jail\n' "$last" "$MS" "$(per "$MS" "$last")"
if [ -z "$(find /run/netns -mindepth 1 -maxdepth 1 -name 'j*')" ]; then
	pass "down: no namespace left"
else
	fail "down: namespaces left" "$(ls /run/netns)"
fi

: "${BENCH_UID_JAILS:=1000}"
if [ "$BENCH_UID_JAILS" -gt 0 ]; then
	rm -f "$LIB_TMP"/stop.* "$LIB_TMP"/start.*
	gen_policy "$BENCH_UID_JAILS" 123 uid
	run "uid-$BENCH_UID_JAILS" apply
	for i in $(seq 1 "$BENCH_RUNS"); do
		delta stop stop j1
		delta start start j1
	done
	echo "at $BENCH_UID_JAILS uid jails ($BENCH_RUNS runs, median; load $(cut -d' ' -f1-3 /proc/loadavg)):"
	row "  jailfw stop j1" stop
	row "  jailfw start j1" start
	run down down
fi
lib_done
