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

# gen_policy N: N netns jails with a /30 each out of 10.100.0.0/16.
gen_policy()
{
	"$LIB_PY" -I - "$1" "$P" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
o = ["settings {\n\twan wan0\n}\n"]
for i in range(n):
    b = i * 4
    o.append(f"jail j{i} {{\n\tbackend netns\n\tipv4 10.100.{b // 256}.{b % 256}/30\n"
             "\tallow udp/123\n\tallow tcp/80,443 to 192.0.2.0/24\n}\n")
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
	else
		"$JAILFW" -q "$@" >>"$LOG" 2>&1
	fi || lib_bail "jailfw $* ($name)" "$(tail -n 20 "$LOG")"
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
run down down
printf 'down of %6d netns jails: %8d ms, %6s ms per jail\n' "$last" "$MS" "$(per "$MS" "$last")"
if [ -z "$(find /run/netns -mindepth 1 -maxdepth 1 -name 'j*')" ]; then
	pass "down: no namespace left"
else
	fail "down: namespaces left" "$(ls /run/netns)"
fi
lib_done
