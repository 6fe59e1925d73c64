#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/netns-provision.sh [BUILD]: provisioning speed, jailfw's library
# against the write-up's `ip` command sequence.
#
# For 1, 10 and 100 jails (v4 + v6 each), in one throwaway
# `unshare --net --mount` sandbox with private tmpfs on /run, /run/netns,
# /run/jailfw and /etc/netns (nothing reaches the machine):
#
#   lib  bench/netns-provision-driver (built here against BUILD/libjailfw.a):
#        lock + stage + commit, then down_cut + down_finish
#   ip   per jail, as the write-up's setup script does it:
#          ip netns add J
#          ip link add J-out type veth peer name J-in
#          ip link set J-in netns J
#          ip addr add .1 dev J-out; ip -6 addr add ::1 dev J-out
#          ip -n J addr add .2 dev J-in; ip -n J -6 addr add ::2 dev J-in
#          ip link set J-out up; ip -n J link set J-in up; ip -n J link set lo up
#          ip -n J route add default via .1; ip -n J -6 route add default via ::1
#        teardown: ip netns delete J (the veth goes with the namespace)
#
# and prints milliseconds per jail for both and the ratio ip/lib.  Between
# runs it waits until the kernel has freed the previous run's namespaces,
# whose cleanup would otherwise slow the next run down.  The goal: at most
# 2 ms per jail to provision and 1 ms to tear down (lib).
#
# Needs root.  Numbers vary with the machine and its load: this measures,
# it does not assert.

set -eu

root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${JAILFW_BENCH_SANDBOX:-}" != 1 ]; then
	build=${1:-$root/build}
	case $build in /*) ;; *) build=$PWD/$build ;; esac
	if [ "$(id -u)" -ne 0 ]; then
		echo "netns-provision: needs root (unshare --net --mount)" >&2
		exit 1
	fi
	if [ ! -f "$build/libjailfw.a" ]; then
		echo "netns-provision: no $build/libjailfw.a (make BUILD=$build first)" >&2
		exit 1
	fi
	tmp=$(mktemp -d /tmp/jailfw-bench.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	# shellcheck disable=SC2046
	cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$root/src" \
		-o "$tmp/netns-provision-driver" "$root/bench/netns-provision-driver.c" \
		"$build/libjailfw.a" $(pkg-config --libs libnftables libnftnl libmnl libcap-ng)
	JAILFW_BENCH_SANDBOX=1 unshare --net --mount --propagation private -- \
		bash "$0" "$tmp/netns-provision-driver"
	exit $?
fi

# ---- inside the sandbox ----
driver=$1

# /run first, so the mount points below need not exist on the machine;
# /etc/netns over an overlay of /etc whose upper layer is in that tmpfs.
mount -t tmpfs -o mode=0755 jailfw-bench /run
mkdir -p /run/netns /run/jailfw
if [ ! -d /etc/netns ]; then
	mkdir -p /run/.etc/upper /run/.etc/work
	mount -t overlay overlay \
		-o lowerdir=/etc,upperdir=/run/.etc/upper,workdir=/run/.etc/work /etc
	mkdir /etc/netns
fi
for d in /run/netns /run/jailfw /etc/netns; do
	mount -t tmpfs -o mode=0755 jailfw-bench "$d"
done
ip link set lo up

now_ns()
{
	date +%s%N
}

# Wait until the kernel has freed every veth of the previous run.
settle()
{
	local i
	for i in $(seq 1 500); do
		ip -o link show | grep -q -- '-out' || return 0
		sleep 0.02
	done
	echo "netns-provision: veths still there after 10 s" >&2
}

ip_provision()
{
	local n=$1 i j a4 a6
	for ((i = 0; i < n; i++)); do
		j=j$i
		a4=10.$((96 + i / 256)).$((i % 256))
		a6=fd00:97::$(printf %x $((i + 1)))
		ip netns add $j
		ip link add $j-out type veth peer name $j-in
		ip link set $j-in netns $j
		ip addr add $a4.1/24 dev $j-out
		ip -6 addr add $a6:1/112 dev $j-out nodad
		ip -n $j addr add $a4.2/24 dev $j-in
		ip -n $j -6 addr add $a6:2/112 dev $j-in nodad
		ip link set $j-out up
		ip -n $j link set $j-in up
		ip -n $j link set lo up
		ip -n $j route add default via $a4.1
		ip -n $j -6 route add default via $a6:1
	done
}

ip_teardown()
{
	local n=$1 i
	for ((i = 0; i < n; i++)); do
		ip netns delete j$i
	done
}

ms_per()
{
	# ms_per NANOSECONDS N
	awk -v t="$1" -v n="$2" 'BEGIN { printf "%.3f", t / 1e6 / n }'
}

printf '%6s  %11s %11s %7s   %13s %13s %7s   %13s\n' jails \
	"lib up ms/j" "ip up ms/j" "ip/lib" "lib down ms/j" "ip down ms/j" "ip/lib" "lib again ms/j"
log=/run/driver.log
for n in 1 10 100; do
	settle
	if ! out=$("$driver" "$n" 2>"$log"); then
		echo "netns-provision: the driver failed for $n jails:" >&2
		cat "$log" >&2
		exit 1
	fi
	lib_up=$(awk -v n="$n" '$1 == "provision" { printf "%.3f", $3 / n }' <<<"$out")
	lib_again=$(awk -v n="$n" '$1 == "reapply" { printf "%.3f", $3 / n }' <<<"$out")
	lib_down=$(awk -v n="$n" '$1 == "teardown" { printf "%.3f", $3 / n }' <<<"$out")

	settle
	t0=$(now_ns)
	ip_provision "$n"
	t1=$(now_ns)
	ip_teardown "$n"
	t2=$(now_ns)
	ip_up=$(ms_per $((t1 - t0)) "$n")
	ip_down=$(ms_per $((t2 - t1)) "$n")

	printf '%6d  %11s %11s %7s   %13s %13s %7s   %13s\n' "$n" "$lib_up" "$ip_up" \
		"$(awk -v a="$ip_up" -v b="$lib_up" 'BEGIN { printf "%.1fx", a / b }')" \
		"$lib_down" "$ip_down" \
		"$(awk -v a="$ip_down" -v b="$lib_down" 'BEGIN { printf "%.1fx", a / b }')" \
		"$lib_again"
done
echo "lib up: lock, stage, commit; down: down_cut, down_finish (each with its fixed cost:"
echo "lock, state file, forwarding sysctls); again: the same policy applied a second time (no-op)."
