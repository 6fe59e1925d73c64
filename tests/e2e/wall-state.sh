#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /run/jailfw/state is input, not proof: lines appended to it (by a
# mistake, a restored backup, or whoever got to write there) make jailfw
# neither delete a namespace it did not make nor write a sysctl it does not
# manage.  Before this was closed, the same lines made `apply` and `down`
# delete the foreign namespaces ("netns=0:0", or a foreign namespace's real
# dev:ino) and write any sysctl (net.ipv4.ip_unprivileged_port_start, and
# kernel.core_pattern, here a stand-in file bound over it in the sandbox's
# mount namespace: the real one is the host's).
#
#   [ sandbox netns = "host" ]  jailfw runs here
#     |                                 ip netns add (not jailfw's):
#   alpha-out 10.97.30.1/24             [ "victim" ] [ "victim2" ] [ "beta" ]
#   [ jail "alpha" ]                    (only lo, nothing of jailfw's)
#
# Policy A: jail alpha.  Policy B: alpha and beta, a name a foreign
# namespace already holds.
#
# What must hold, each time: the foreign namespaces are still there (same
# inode), nothing of jailfw's was put in them, the sysctl values are
# unchanged, and a file jailfw could not have written is refused whole,
# with the line named.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

STATE=/run/jailfw/state
A=$LIB_TMP/a.conf
B=$LIB_TMP/b.conf
printf 'jail alpha {\n\tbackend netns\n\tipv4 10.97.30.0/24\n\tallow tcp/443\n}\n' >"$A"
cp "$A" "$B"
printf 'jail beta {\n\tbackend netns\n\tipv4 10.97.31.0/24\n\tallow tcp/443\n}\n' >>"$B"
chmod 0644 "$A" "$B"

# ino NAME: the nsfs inode of /run/netns/NAME (empty if none).
ino()
{
	stat -L -c %i "/run/netns/$1" 2>/dev/null
}

# dev_ino NAME: "DEV:INODE" as jailfw records a namespace.
dev_ino()
{
	"$LIB_PY" -c 'import os, sys; s = os.stat(sys.argv[1]); print("%d:%d" % (s.st_dev, s.st_ino))' \
		"/run/netns/$1"
}

# foreign NAME: a namespace of NAME that jailfw did not make, lo up.
foreign()
{
	ip netns add "$1" && ip -n "$1" link set lo up
}

# intact NAME INODE WHAT: /run/netns/NAME is still the foreign namespace,
# with nothing in it but its lo, unlabelled.
intact()
{
	check_eq "$3: namespace $1 is still there, the same one" "$(ino "$1")" "$2"
	check_eq "$3: namespace $1 holds only its own lo" \
		"$(ip -n "$1" -o link show 2>&1 | awk -F': ' '{print $2}' | xargs)" lo
	check_fails "$3: namespace $1's lo carries no jailfw label" \
		sh -c "ip -n '$1' -d link show lo | grep -q 'alias jailfw:'"
}

# forge LINES...: append lines to the state, as a text editor would.
forge()
{
	printf '%s\n' "$@" >>"$STATE"
}

check "apply policy A" "$JAILFW" apply "$A" || lib_bail "apply A"
check "alpha's namespace carries jailfw's label on its lo" \
	sh -c "ip -n alpha -d link show lo | grep -q 'alias jailfw:alpha'"
foreign victim || lib_bail "ip netns add victim"
foreign victim2 || lib_bail "ip netns add victim2"
V1=$(ino victim)
V2=$(ino victim2)

# ---- 1. apply with records of namespaces jailfw never made
cp "$STATE" "$LIB_TMP/state.good"
forge "jail victim host=victim-out peer=victim-in netns=0:0 pending=1" \
	"jail victim2 host=victim2-out peer=victim2-in netns=$(dev_ino victim2)"
check_exit "forged records: apply A still succeeds" 0 "$JAILFW" apply "$A"
check_match "forged records: apply says it leaves victim alone" "$LIB_ERR" \
	'warning: namespace "victim" \(/run/netns/victim\) carries neither jailfw.s label .* nor jailfw.s veth'
check_match "forged records: ... and victim2 (its real identity recorded)" "$LIB_ERR" \
	'warning: namespace "victim2" .* leaves it alone'
intact victim "$V1" "apply"
intact victim2 "$V2" "apply"
check_fails "apply dropped the forged records" grep -Eq '^jail victim2? ' "$STATE"
check "alpha is still in force" sh -c "ip -o link show alpha-out | grep -q ',UP'"

# ---- 2. down with the same records
forge "jail victim host=victim-out peer=victim-in netns=0:0 pending=1" \
	"jail victim2 host=victim2-out peer=victim2-in netns=$(dev_ino victim2)"
check_exit "forged records: down exits 5, naming what it left alone" 5 "$JAILFW" down
check_match "down names victim" "$LIB_ERR" 'error: namespace "victim" .* leaves it alone'
check_match "down names victim2" "$LIB_ERR" 'error: namespace "victim2" .* leaves it alone'
intact victim "$V1" "down"
intact victim2 "$V2" "down"
check "down removed what was jailfw's: alpha" test ! -e /run/netns/alpha
check "apply policy A again" "$JAILFW" apply "$A" || lib_bail "apply A again"

# ---- 3. a record that claims no namespace is refused whole
cp "$STATE" "$LIB_TMP/state.before"
forge "jail victim host=victim-out peer=victim-in netns=0:0"
n=$(wc -l <"$STATE")
check_exit "0:0, not pending: down refuses the file (exit 5)" 5 "$JAILFW" down
check_match "0:0, not pending: the line is named" "$LIB_ERR" \
	"^/run/jailfw/state:$n:1: error: namespace identity 0:0 in a record that is not pending: jailfw did not write this, so none of the file is used"
intact victim "$V1" "0:0 refused"
check "0:0 refused: alpha was not torn down either (nothing of the file used)" \
	sh -c "ip -o link show alpha-out | grep -q ',UP'"
cp "$LIB_TMP/state.before" "$STATE"

# ---- 4. sysctls jailfw does not manage
sysctl -qw net.ipv4.ip_unprivileged_port_start=1024
forge "sysctl net/ipv4/ip_unprivileged_port_start old=0 set=1024"
n=$(wc -l <"$STATE")
check_exit "ip_unprivileged_port_start record: apply refuses the file (exit 5)" 5 \
	"$JAILFW" apply "$A"
check_match "ip_unprivileged_port_start record: the line is named" "$LIB_ERR" \
	"^/run/jailfw/state:$n:1: error: a sysctl jailfw does not change"
check_eq "ip_unprivileged_port_start unchanged" \
	"$(sysctl -n net.ipv4.ip_unprivileged_port_start)" 1024
check_exit "ip_unprivileged_port_start record: down refuses it too (exit 5)" 5 "$JAILFW" down
check_eq "ip_unprivileged_port_start still unchanged" \
	"$(sysctl -n net.ipv4.ip_unprivileged_port_start)" 1024
cp "$LIB_TMP/state.before" "$STATE"

lib_cover_file /proc/sys/kernel/core_pattern "core" || lib_bail "a stand-in for core_pattern"
forge "sysctl kernel/core_pattern old=|$LIB_TMP/evil set=core"
check_exit "core_pattern record: apply refuses the file (exit 5)" 5 "$JAILFW" apply "$A"
check_eq "core_pattern (its stand-in) unchanged" "$(cat /proc/sys/kernel/core_pattern)" core
check_exit "core_pattern record: down refuses it too (exit 5)" 5 "$JAILFW" down
check_eq "core_pattern (its stand-in) still unchanged" "$(cat /proc/sys/kernel/core_pattern)" core
lib_uncover_file /proc/sys/kernel/core_pattern
cp "$LIB_TMP/state.before" "$STATE"

# A managed key with a value jailfw never writes is no better: with
# forwarding off for all (jailfw turns it on per interface), a restore of
# this record would turn it on for every interface.
fwd_all=$(sysctl -n net.ipv4.conf.all.forwarding)
forge "sysctl net/ipv4/conf/all/forwarding old=1 set=0"
check_exit "forwarding 1 -> 0 record: refused (exit 5)" 5 "$JAILFW" apply "$A"
check_exit "forwarding 1 -> 0 record: down refuses it too (exit 5)" 5 "$JAILFW" down
check_eq "forwarding for all unchanged ($fwd_all)" \
	"$(sysctl -n net.ipv4.conf.all.forwarding)" "$fwd_all"
cp "$LIB_TMP/state.before" "$STATE"

# ---- 5. a foreign namespace under a jail's name, its identity recorded
foreign beta || lib_bail "ip netns add beta"
VB=$(ino beta)
forge "jail beta host=beta-out peer=beta-in netns=$(dev_ino beta)"
check_exit "beta recorded but foreign: apply B exits 5" 5 "$JAILFW" apply "$B"
check_match "beta: says it is not jailfw's" "$LIB_ERR" \
	'error: namespace "beta" \(/run/netns/beta\) carries neither jailfw.s label'
intact beta "$VB" "apply B"
check "beta: no beta-out was made on the host" test ! -e /sys/class/net/beta-out
check "alpha is still in force after the refused apply" \
	sh -c "ip -o link show alpha-out | grep -q ',UP'"

# ---- and the state of a real apply is accepted as it is
cp "$LIB_TMP/state.before" "$STATE"
check "the state jailfw wrote: down" "$JAILFW" down
intact victim "$V1" "final down"
intact victim2 "$V2" "final down"
intact beta "$VB" "final down"
check "final down removed alpha" test ! -e /run/netns/alpha
check_eq "final down: forwarding restored" "$(sysctl -n net.ipv4.conf.all.forwarding)" 0

lib_done
