#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw next to the real firewalld (nftables backend, default zone public),
# as a host boots: firewalld first, then jailfw.  firewalld's filter_FORWARD
# and filter_INPUT reject what its zones do not allow, which defeats a netns
# jail; doctor must name both chains and print firewalld's own fix (the
# jail's interface in the trusted zone), which must really restore the
# jail's traffic, last across `firewall-cmd --reload` and a restart of
# firewalld, keep jailfw's allowlist in force, and leave doctor clean.  An
# nft rule inserted into firewalld's table, by contrast, is gone at its
# next reload (firewalld 2, in Debian 13, owns its table: the kernel
# refuses the rule outright).
#
# firewalld runs only inside this script's network namespace, with its
# configuration copied onto a private mount, /run/firewalld and /run/dbus
# on tmpfs, and a private system dbus-daemon there: nothing of the
# machine's own is read or changed.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24; listeners tcp 80 81
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     firewalld + dbus-daemon, jailfw; listeners tcp 10.97.73.1:8053 8054
#       |
#     fw-out 10.97.73.1/24
#       |
#     fw-in 10.97.73.2   [ netns jail "fw": tcp/80 out, tcp/8053 to host ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

for t in firewalld firewall-cmd dbus-daemon; do
	if ! command -v $t >/dev/null; then
		skip "$LIB_NAME" "$t is not installed (tests/install-deps installs firewalld and dbus)"
		lib_done
	fi
done

N4=192.0.2.2
JH4=10.97.73.1

# ---------------------------------------------------------------- firewalld in the sandbox

# Private copies: its configuration (firewall-cmd --permanent writes
# there), its runtime state, its log, and the system bus it talks on.
mkdir -p "$LIB_TMP/fwconf" || lib_bail "mkdir"
cp -a /etc/firewalld/. "$LIB_TMP/fwconf/" || lib_bail "copy /etc/firewalld"
mount --bind "$LIB_TMP/fwconf" /etc/firewalld || lib_bail "bind /etc/firewalld"
for d in /run/dbus /run/firewalld /var/log/firewalld; do
	mkdir -p "$d" 2>/dev/null
	mount -t tmpfs -o mode=0755 jailfw-test "$d" || lib_bail "tmpfs on $d"
done

dbus-daemon --system --nofork --nopidfile >"$LIB_TMP/dbus.log" 2>&1 &
DBUS_PID=$!
disown $DBUS_PID
lib_defer kill $DBUS_PID
lib_wait_for 10 test -S /run/dbus/system_bus_socket ||
	lib_bail "private dbus-daemon did not start" "$(cat "$LIB_TMP/dbus.log")"

FWD_PID=
fwd_start()
{
	firewalld --nofork --nopid --log-target console >>"$LIB_TMP/firewalld.log" 2>&1 &
	FWD_PID=$!
	disown $FWD_PID
	lib_wait_for 60 firewall-cmd --state
}
fwd_stop()
{
	kill $FWD_PID 2>/dev/null
	lib_wait_for 30 sh -c "! kill -0 $FWD_PID"
}
lib_defer fwd_stop
fwd_start || lib_bail "firewalld did not start" "$(tail -20 "$LIB_TMP/firewalld.log")"
check_eq "firewalld runs, default zone public" "$(firewall-cmd --get-default-zone)" public

# ---------------------------------------------------------------- the world and the jail

lib_wan_internet
lib_serve net internet "tcp:0.0.0.0:80" "tcp:0.0.0.0:81" || lib_bail "listeners in net"

P=$LIB_TMP/fw.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
}
jail fw {
	backend netns
	ipv4 10.97.73.0/24
	allow tcp/80
	allow tcp/8053 to host
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
lib_serve "" host "tcp:$JH4:8053" "tcp:$JH4:8054" || lib_bail "listeners on $JH4"

doctor_is()
{
	check_exit "$1" "$2" "$JAILFW" doctor "$P"
}

# run_fixes: every "fix:" and "and:" command of the last doctor run.
run_fixes()
{
	local cmd

	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		eval "$cmd" || return 1
	done < <(printf '%s\n' "$LIB_OUT" | sed -n 's/^  \(fix\|and\): //p')
}

# jail_traffic WHEN: the allowlist holds in both directions of the wall.
jail_traffic()
{
	check_reach_ns "$1: the jail's tcp/80 arrives" fw tcp $N4 80
	check_reach_ns "$1: its tcp/8053 to the host arrives" fw tcp $JH4 8053
	check_fails "$1: tcp/81 (not allowed) does not" lib_probe_ns fw tcp $N4 81
	check_fails "$1: tcp/8054 to the host (not allowed) does not" lib_probe_ns fw tcp $JH4 8054
}

# ---------------------------------------------------------------- firewalld defeats the jail

check_fails "firewalld's public zone: the jail's tcp/80 does not arrive" lib_probe_ns fw tcp $N4 80
check_fails "... nor its tcp/8053 to the host" lib_probe_ns fw tcp $JH4 8053
doctor_is "doctor: exit 1" 1
check_match "... names filter_FORWARD" "$LIB_OUT" \
	'^error: table inet firewalld chain filter_FORWARD .*drops the traffic jailfw accepts for netns jails \(fw\)'
check_match "... and filter_INPUT" "$LIB_OUT" \
	'^error: table inet firewalld chain filter_INPUT .*drops the traffic jailfw accepts for netns jails to the host \(fw\)'
check_match "... the fix is the trusted zone" "$LIB_OUT" \
	'^  fix: firewall-cmd --permanent --zone=trusted --add-interface=fw-out$'
check_match "... then a reload" "$LIB_OUT" '^  and: firewall-cmd --reload$'
check_eq "... and no nft rule for firewalld's table" \
	"$(printf '%s\n' "$LIB_OUT" | grep -c "nft 'insert rule inet firewalld")" 0

# What doctor used to suggest: an nft rule in firewalld's table.  It works
# until firewalld reloads.  firewalld 2 (Debian 13) makes its table its
# own (flags owner): the kernel refuses anyone else's change to it.
FWD_RULE=(insert rule inet firewalld filter_FORWARD meta mark '&' 0x00200000 != 0 accept)
if nft list table inet firewalld 2>/dev/null | grep -Eq '^[[:space:]]*flags .*\<owner\>'; then
	check_fails "firewalld owns its table: an nft fwmark rule cannot go in" nft "${FWD_RULE[@]}"
	check_fails "... and tcp/80 still does not arrive" lib_probe_ns fw tcp $N4 80
else
	nft "${FWD_RULE[@]}"
	check_reach_ns "an nft fwmark rule in filter_FORWARD: tcp/80 arrives" fw tcp $N4 80
	check "firewall-cmd --reload" firewall-cmd --reload
	check_fails "... and the nft rule is gone: tcp/80 does not arrive" lib_probe_ns fw tcp $N4 80
fi

# ---------------------------------------------------------------- the fix that lasts

doctor_is "doctor again: exit 1" 1
check "doctor's fix runs" run_fixes
jail_traffic "in the trusted zone"
doctor_is "doctor: clean now, exit 0" 0
check_match "... no problems found" "$LIB_OUT" '^doctor: no problems found'
check "firewall-cmd --reload" firewall-cmd --reload
jail_traffic "after a reload"
fwd_stop
fwd_start || lib_bail "firewalld did not start again" "$(tail -20 "$LIB_TMP/firewalld.log")"
jail_traffic "after firewalld restarted"
doctor_is "doctor: still clean, exit 0" 0

lib_done
