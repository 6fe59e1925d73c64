#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw exec, end to end: a program started with `jailfw exec` is inside
# its jail (the netns jail's namespace, interfaces, resolv.conf and sysfs),
# is the jail's user with no groups, no capabilities and no_new_privs, has
# no descriptor of jailfw's, and can reach exactly what the policy allows;
# --keep-ids keeps root (netns jails only), and a netns jail without a
# user needs it: exec refuses to hand out uid 0 unasked; unknown jails, missing or
# replaced namespaces and impossible commands fail clearly, with nothing
# run.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       listeners (dual stack): tcp 80 443
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jail "psa" (uid 1099) runs here too
#       |                               |
#     foobar-out 10.97.10.1/24        second-out 10.97.11.1/24
#       |        fd00:97::3:1/112       |
#     foobar-in  10.97.10.2           second-in 10.97.11.2
#   [ jail "foobar": user 1098,      [ jail "second": no user ]
#     dns 10.97.10.1 ]
#
# foobar and psa may open tcp/443 anywhere and nothing else.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
N4=192.0.2.2
N6=2001:db8:1::2
H4=192.0.2.1
H6=2001:db8:1::1
JUID=1098 # foobar's user
PUID=1099 # the uid jail psa

if ! "$JAILFW" help 2>&1 | grep -qE '^ +exec '; then
	skip "$LIB_NAME" "this jailfw has no exec command yet"
	lib_done
fi

# ---------------------------------------------------------------- helpers

# jx JAIL [--keep-ids] -- CMD...: jailfw exec, stdout in $LIB_OUT, stderr
# in $LIB_ERR, exit status in $RC.  Descriptor 7 is open in jailfw (a leak
# from its caller, as it were): it must not reach CMD.
RC=0
jx()
{
	LIB_OUT=$("$JAILFW" exec "$@" 7</dev/null 2>"$LIB_TMP/jx.err")
	RC=$?
	LIB_ERR=$(cat "$LIB_TMP/jx.err")
}

# xreach JAIL PROTO ADDR PORT: through jailfw exec, send a token; prints the
# source address the listener saw, fails if it saw nothing.
xreach()
{
	local jail=$1 proto=$2 addr=$3 port=$4 token line src

	token="x$BASHPID-$(date +%s%N)"
	timeout 15 "$JAILFW" exec "$jail" -- "$LIB_PY" -I "$LIB_TMP/probe.py" \
		"$proto" "$addr" "$port" "$token" 2 >/dev/null 2>"$LIB_LAST_ERR_FILE"
	line=$(cat "$LIB_TMP"/*.log 2>/dev/null | grep -F " $token" | head -n 1)
	[ -n "$line" ] || return 1
	read -r _ _ src _ <<<"$line"
	echo "$src"
}

# x_allowed NAME CHAIN JAIL PROTO ADDR PORT SOURCE: arrives from SOURCE;
# CHAIN's drop counter does not move.
x_allowed()
{
	local name=$1 chain=$2 jail=$3 proto=$4 addr=$5 port=$6 want=$7 before after src

	before=$(lib_nft_counter $T "$chain" drop)
	if ! src=$(xreach "$jail" "$proto" "$addr" "$port"); then
		fail "$name" "did not arrive: $(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	after=$(lib_nft_counter $T "$chain" drop)
	if [ "$src" != "$want" ]; then
		fail "$name" "the far end saw source $src, want $want"
	elif [ -z "$before" ] || [ "$before" != "$after" ]; then
		fail "$name" "arrived, but $chain's drop counter is '$before' -> '$after'"
	else
		pass "$name"
	fi
}

# x_dropped NAME CHAIN JAIL PROTO ADDR PORT: never arrives, and CHAIN's drop
# counter moves.
x_dropped()
{
	local name=$1 chain=$2 jail=$3 proto=$4 addr=$5 port=$6 before after

	before=$(lib_nft_counter $T "$chain" drop)
	if xreach "$jail" "$proto" "$addr" "$port" >/dev/null; then
		fail "$name" "arrived, but must be dropped"
		return 1
	fi
	after=$(lib_nft_counter $T "$chain" drop)
	if [ -z "$before" ] || [ -z "$after" ] || [ "$after" -le "$before" ]; then
		fail "$name" "not delivered, but $chain's drop counter did not move ('$before' -> '$after')" \
			"probe: $(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	pass "$name"
}

# The lines of /proc/self/status that say who CMD is and what it may do.
STATUS_FIELDS='^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):'

# words TEXT: TEXT's words on one line ("0 1 2 3" for ls's four lines).
words()
{
	printf '%s\n' "$1" | xargs
}

# trimmed TEXT: without trailing blanks (the kernel ends "Groups:" with one).
trimmed()
{
	printf '%s\n' "$1" | sed 's/[[:space:]]*$//'
}

# dropped_status UID GID: what those lines must be without --keep-ids.
dropped_status()
{
	printf 'Uid:\t%s\t%s\t%s\t%s\nGid:\t%s\t%s\t%s\t%s\nGroups:\n' "$1" "$1" "$1" "$1" \
		"$2" "$2" "$2" "$2"
	printf 'CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n'
	printf 'CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n'
	printf 'CapAmb:\t0000000000000000\nNoNewPrivs:\t1\n'
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:80" "tcp:[::]:443" || lib_bail "listeners in net"
mkdir -m 1777 "$LIB_TMP/m" || lib_bail "a world-writable directory"
RESOLV_BEFORE=$(cat /etc/resolv.conf 2>/dev/null)

P=$LIB_TMP/exec.conf
cat >"$P" <<EOF
# exec: two netns jails and a uid jail
settings {
	wan wan0
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	user $JUID
	dns 10.97.10.1
	allow tcp/443
}
jail second {
	backend netns
	ipv4 10.97.11.0/24
}
jail psa {
	backend uid
	user $PUID
	allow tcp/443
}
EOF

check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
check "foobar-out is up" lib_wait_for 5 sh -c "ip -o link show foobar-out | grep -q ',UP'"
lib_wait_for 30 lib_no_tentative foobar || lib_bail "IPv6 addresses still tentative in foobar"
check_match "the state lists the uid jail with its user" "$(cat /run/jailfw/state)" \
	"^jail psa backend=uid uid=$PUID gid=$PUID\$"

# ---------------------------------------------------------------- inside a netns jail

jx foobar -- ip -o link
check_eq "foobar: exit status 0" "$RC" 0
check_eq "foobar: sees only lo and foobar-in" \
	"$(printf '%s\n' "$LIB_OUT" | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | xargs)" \
	"foobar-in lo"
jx foobar -- ls /sys/class/net
check_eq "foobar: /sys/class/net is the jail's" "$(words "$LIB_OUT")" "foobar-in lo"
jx foobar -- cat /etc/resolv.conf
check_eq "foobar: /etc/resolv.conf is the jail's" "$LIB_OUT" "$(cat /etc/netns/foobar/resolv.conf)"
check_match "foobar: it names the jail's resolver" "$LIB_OUT" '^nameserver 10\.97\.10\.1$'
check_eq "the host's /etc/resolv.conf is unchanged" "$(cat /etc/resolv.conf 2>/dev/null)" \
	"$RESOLV_BEFORE"
jx foobar -- readlink /proc/self/ns/net
check_eq "foobar: in the namespace /run/netns/foobar" "$LIB_OUT" \
	"net:[$(stat -L -c %i /run/netns/foobar)]"
jx foobar -- grep -E "$STATUS_FIELDS" /proc/self/status
check_eq "foobar: uid/gid $JUID, no groups, no capabilities, no_new_privs" "$(trimmed "$LIB_OUT")" \
	"$(dropped_status $JUID $JUID)"
jx foobar -- ls /proc/self/fd
check_eq "foobar: no descriptor beyond 0 1 2 (3 is ls's own)" "$(words "$LIB_OUT")" "0 1 2 3"

lib_serve foobar in-foobar "tcp:[::]:8443" || lib_bail "listener in foobar"
x_allowed "foobar: tcp/443 v4 arrives, masqueraded to $H4" fwd_foobar foobar tcp $N4 443 $H4
x_allowed "foobar: tcp/443 v6 arrives, masqueraded to $H6" fwd_foobar foobar tcp $N6 443 $H6
x_dropped "foobar: tcp/80 v4 dropped" fwd_foobar foobar tcp $N4 80
x_dropped "foobar: tcp/80 v6 dropped" fwd_foobar foobar tcp $N6 80
check_eq "foobar: a program inside reaches the jail's own listener" \
	"$(xreach foobar tcp 10.97.10.2 8443)" 10.97.10.2

# --keep-ids: root, with root's capabilities, for a launcher that drops them.
jx foobar --keep-ids -- grep -E '^(Uid|CapEff|NoNewPrivs):' /proc/self/status
check_eq "foobar --keep-ids: exit status 0" "$RC" 0
check_match "foobar --keep-ids: uid 0" "$LIB_OUT" $'^Uid:\t0\t0\t0\t0$'
check_match "foobar --keep-ids: capabilities kept" "$LIB_OUT" "^$(grep '^CapEff:' /proc/self/status)\$"
check_match "foobar --keep-ids: no no_new_privs" "$LIB_OUT" $'^NoNewPrivs:\t0$'
jx foobar --keep-ids -- ls /proc/self/fd
check_eq "foobar --keep-ids: no descriptor beyond 0 1 2" "$(words "$LIB_OUT")" "0 1 2 3"
jx foobar --keep-ids -- ip -o link
check_eq "foobar --keep-ids: still inside the jail" \
	"$(printf '%s\n' "$LIB_OUT" | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort | xargs)" \
	"foobar-in lo"

# A netns jail without a user: CMD would be uid 0, which owns root's files
# even without a capability (a root-owned 0600 file stands in for
# /etc/shadow; before exec refused, the append went through).  Refused,
# unless the caller asks for root by name with --keep-ids.
printf 'secret\n' >"$LIB_TMP/shadow" && chmod 0600 "$LIB_TMP/shadow"
jx second -- sh -c "echo owned >>'$LIB_TMP/shadow'"
check_eq "second (no user): refused (exit 2)" "$RC" 2
check_match "second (no user): says why" "$LIB_ERR" \
	"jail \"second\" names no user: CMD would run as uid 0, which even without capabilities owns root's files"
check_match "second (no user): names the flag" "$LIB_ERR" 'pass --keep-ids'
check_eq "second (no user): root's file unchanged" "$(cat "$LIB_TMP/shadow")" secret
jx second --keep-ids -- id -u
check_eq "second --keep-ids: runs (exit 0)" "$RC" 0
check_eq "second --keep-ids: as root, as asked" "$LIB_OUT" 0

# ---------------------------------------------------------------- a uid jail

jx psa -- grep -E "$STATUS_FIELDS" /proc/self/status
check_eq "psa: exit status 0" "$RC" 0
check_eq "psa: uid/gid $PUID, no groups, no capabilities, no_new_privs" "$(trimmed "$LIB_OUT")" \
	"$(dropped_status $PUID $PUID)"
jx psa -- ls /proc/self/fd
check_eq "psa: no descriptor beyond 0 1 2" "$(words "$LIB_OUT")" "0 1 2 3"
jx psa -- readlink /proc/self/ns/net
check_eq "psa: stays in the host's namespace" "$LIB_OUT" "$(readlink /proc/self/ns/net)"
x_allowed "psa: tcp/443 v4 arrives" uid_psa psa tcp $N4 443 $H4
x_allowed "psa: tcp/443 v6 arrives" uid_psa psa tcp $N6 443 $H6
x_dropped "psa: tcp/80 v4 dropped" uid_psa psa tcp $N4 80
x_dropped "psa: tcp/80 v6 dropped" uid_psa psa tcp $N6 80

jx psa --keep-ids -- touch "$LIB_TMP/m/keep"
check_eq "psa --keep-ids: refused (exit 2)" "$RC" 2
check_match "psa --keep-ids: says why" "$LIB_ERR" 'keep-ids is refused for uid jail "psa"'
check "psa --keep-ids: nothing run" test ! -e "$LIB_TMP/m/keep"

# ---------------------------------------------------------------- CMD's own fate

jx psa -- sh -c 'exit 7'
check_eq "CMD's exit status is jailfw exec's" "$RC" 7
jx psa -- /nonexistent/cmd
check_eq "CMD not found: exit 127" "$RC" 127
check_match "CMD not found: message" "$LIB_ERR" 'cannot run "/nonexistent/cmd": No such file or directory'
printf '#!/bin/sh\n' >"$LIB_TMP/m/noexec" && chmod 0644 "$LIB_TMP/m/noexec"
jx psa -- "$LIB_TMP/m/noexec"
check_eq "CMD not executable: exit 126" "$RC" 126
check_match "CMD not executable: message" "$LIB_ERR" 'cannot run ".*/noexec": Permission denied'

# ---------------------------------------------------------------- refusals

jx fooba -- touch "$LIB_TMP/m/unknown"
check_eq "unknown jail: exit 2" "$RC" 2
check_match "unknown jail: lists the jails" "$LIB_ERR" \
	'no jail "fooba" in force \(jails: foobar, psa, second\)'
check_match "unknown jail: did you mean" "$LIB_ERR" 'did you mean "foobar"'
check "unknown jail: nothing run" test ! -e "$LIB_TMP/m/unknown"

# The foreign namespace is made while jailfw's still exists: nsfs inode
# numbers are reused once a namespace is freed, and a new one made after
# the deletion can get the old one's number (dev:ino is what the state
# records), which made this check fail now and then.
ip netns add foreign || lib_bail "add a namespace of our own"
ip netns delete second || lib_bail "delete namespace second"
jx second --keep-ids -- touch "$LIB_TMP/m/missing"
check "missing namespace: non-zero exit" test "$RC" -ne 0
check_match "missing namespace: says so" "$LIB_ERR" 'namespace of jail "second" is missing'
check "missing namespace: nothing run" test ! -e "$LIB_TMP/m/missing"

touch /run/netns/second && mount --bind /run/netns/foreign /run/netns/second ||
	lib_bail "put our namespace at /run/netns/second"
jx second --keep-ids -- touch "$LIB_TMP/m/foreign"
check_eq "replaced namespace: exit 5" "$RC" 5
check_match "replaced namespace: says so" "$LIB_ERR" \
	'namespace "second" is not the one jailfw created'
check "replaced namespace: nothing run" test ! -e "$LIB_TMP/m/foreign"
ip netns delete second
ip netns delete foreign

# Not root: refused before anything, naming what it takes.
LIB_OUT=$(setpriv --reuid=1100 --regid=1100 --clear-groups -- "$JAILFW" exec psa -- \
	touch "$LIB_TMP/m/nonroot" 2>&1)
RC=$?
check_eq "not root: exit 4" "$RC" 4
check_match "not root: names the capabilities" "$LIB_OUT" 'exec needs CAP_[A-Z_]+'
check "not root: nothing run" test ! -e "$LIB_TMP/m/nonroot"

# The ruleset is the uid jail's whole confinement: without it, nothing runs.
nft delete table inet $T || lib_bail "delete table inet $T"
jx psa -- touch "$LIB_TMP/m/unconfined"
check "no table: non-zero exit" test "$RC" -ne 0
check_match "no table: says the jail is not confined" "$LIB_ERR" \
	"table inet $T is not loaded"
check "no table: nothing run" test ! -e "$LIB_TMP/m/unconfined"

check "down" "$JAILFW" down
jx foobar -- true
check_eq "after down: no jail in force (exit 2)" "$RC" 2
check_match "after down: says so" "$LIB_ERR" 'no jail "foobar" in force'

lib_done
