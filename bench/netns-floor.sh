#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/netns-floor.sh [N [STEPS]]: the kernel's floor under jailfw's netns
# jails, without jailfw.  Builds bench/netns-floor.c and runs it in a
# throwaway `unshare --net --mount` with a private tmpfs on /run (so on
# /run/netns too; nothing reaches the machine), once per row:
#
#   bare           a named namespace (unshare + bind mount on /run/netns)
#                  and a veth pair made with its one end in it
#   +up+addr       and the host end with an IPv4 /30 and up, as jailfw's
#   +sysctl        and net.ipv6.conf.default.accept_ra written in the new
#                  namespace through /proc, as jailfw did
#                  (docs/ruleset.md, "netns jails at scale")
#   jailfw         what jailfw does now: the host end without IPv6
#                  (addr_gen_mode none), accept_ra written through a proc
#                  instance per 32 namespaces, and at teardown the host
#                  ends' addresses deleted before they are set down
#
# N jails (default 5000), the time per jail printed for every STEPS (1000)
# made, or at each count of a list (STEPS="100,1000,5000", N the last, as
# bench/netns-scale.sh's steps), then the teardown: every host end set down
# first (as `jailfw down` cuts the jails off), the names removed, and the
# time until the kernel has freed the last host end.  BENCH_FLOOR_ROWS
# picks rows by name.
#
# Needs root and about 350 KiB of kernel memory per jail.  It measures;
# the machine's other load shows in the numbers.

set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-5000}
STEPS=${2:-1000}
: "${BENCH_FLOOR_ROWS:=bare +up+addr +sysctl jailfw}"

if [ "${JAILFW_BENCH_SANDBOX:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "netns-floor: needs root (unshare --net --mount)" >&2
		exit 1
	fi
	tmp=$(mktemp -d /tmp/jailfw-bench.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	cc -std=gnu11 -O2 -Wall -Wextra -D_GNU_SOURCE -o "$tmp/netns-floor" \
		"$root/bench/netns-floor.c"
	JAILFW_BENCH_SANDBOX=1 unshare --net --mount --propagation private -- \
		bash "$0" "$N" "$STEPS" "$tmp/netns-floor"
	exit $?
fi

# ---- inside the sandbox ----
floor=$3
mount -t tmpfs -o mode=0755 jailfw-bench /run
mkdir -p /run/netns
ip link set lo up

for row in $BENCH_FLOOR_ROWS; do
	case $row in
	bare) opts=(cut) ;;
	+up+addr) opts=(up addr cut) ;;
	+sysctl) opts=(up addr sysctl cut) ;;
	jailfw) opts=(up addr nov6 sysctl ownproc unaddr cut) ;;
	*)
		echo "netns-floor: no row '$row' (bare, +up+addr, +sysctl, jailfw)" >&2
		exit 2
		;;
	esac
	echo "== $row ($N jails)"
	"$floor" "$N" "$STEPS" "${opts[@]}"
	# The next row starts from an empty sandbox.
	while ip -o link show | grep -q -- '-out'; do
		sleep 0.1
	done
done
