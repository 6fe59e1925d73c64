#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What configuration management runs on every host of a fleet, and what it
# can tell from the answers: `jailfw diff` exits 0 when apply would change
# nothing, 1 when it would change something, 2 (not 1) when the policy is
# invalid; `jailfw apply` prints "jailfw: no changes" exactly when it
# changed nothing in the kernel, and "jailfw: applied N changes" when it
# did.  The kernel is the observer: a "no changes" apply leaves the ruleset
# (counters included), links, addresses, routes, namespaces, sysctls and
# jailfw's files as they were; a "changed" one is seen in the ruleset, in
# traffic, or in a link brought back up.  The commands are the ones
# docs/ansible.md has its tasks run.
#
#                       [ netns "net" = the internet ]
#                         eth0 192.0.2.2/24  2001:db8:1::2/64
#                         listeners tcp 443 8443, on [::]
#                                    |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     /etc/jailfw (private tmpfs): jailfw.conf + jails.d/web.conf (uid 1099),
#     jails.d/box.conf
#       |
#     box-out 10.97.40.1/30
#       |
#     box-in 10.97.40.2
#   [ jail "box" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

ETC=/etc/jailfw
N4=192.0.2.2

# web PORT: the drop-in of jail "web", allowing tcp/PORT.
web()
{
	printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/%s\n}\n' "$1" \
		>"$ETC/jails.d/web.conf"
}

lib_wan_internet
lib_serve net internet "tcp:[::]:443" "tcp:[::]:8443" || lib_bail "listeners in net"

mkdir -p "$ETC/jails.d" || lib_bail "mkdir $ETC/jails.d"
printf 'settings {\n\twan wan0\n}\n' >"$ETC/jailfw.conf"
web 443
printf 'jail box {\n\tbackend netns\n\tipv4 10.97.40.0/30\n\tallow tcp/443\n}\n' \
	>"$ETC/jails.d/box.conf"

# ---------------------------------------------------------------- a new host

check_exit "nothing applied: diff exits 1" 1 "$JAILFW" diff
check_exit "nothing applied: diff -q exits 1" 1 "$JAILFW" -q diff
check_eq "nothing applied: diff -q prints nothing" "$LIB_OUT" ""
check "nothing applied: no table yet" sh -c '! nft list table inet jailfw'

check_exit "first apply: exit 0" 0 "$JAILFW" apply || lib_bail "apply failed"
check_match "first apply: says it changed something" "$LIB_OUT" \
	'^jailfw: applied [0-9]+ changes \(/etc/jailfw: 1 uid jail, 1 netns jail, table inet jailfw; ruleset reloaded\)$'
check "first apply: the table is there" nft list table inet jailfw
check "first apply: the namespace is there" test -e /run/netns/box
lib_wait_for 30 lib_no_tentative box || lib_bail "box did not settle"
ip netns exec box sysctl -qw net.ipv6.conf.box-in.router_solicitations=0
check_allowed "first apply: web reaches tcp/443" jailfw uid_web 1099 tcp $N4 443
check_dropped "first apply: web's tcp/8443 is dropped" jailfw uid_web 1099 tcp $N4 8443
check_allowed_ns "first apply: box reaches tcp/443" jailfw fwd_box box tcp $N4 443

# ---------------------------------------------------------------- the same again

check_exit "in force: diff exits 0" 0 "$JAILFW" diff
check_eq "in force: diff prints nothing" "$LIB_OUT" ""
lib_snapshot_before
check_exit "in force: apply exits 0" 0 "$JAILFW" apply
check_eq "in force: apply says no changes" "$LIB_OUT" \
	"jailfw: no changes (/etc/jailfw: 1 uid jail, 1 netns jail, table inet jailfw)"
check_untouched "in force: apply"

# ---------------------------------------------------------------- a changed drop-in

web 8443
check_exit "web's drop-in changed: diff exits 1" 1 "$JAILFW" diff
check_match "web's drop-in changed: the element that goes" "$LIB_OUT" \
	'^-.*1099 \. tcp \. 443 comment "web\.conf:4"'
check_exit "web's drop-in changed: apply exits 0" 0 "$JAILFW" apply
check_match "web's drop-in changed: apply says it changed something" "$LIB_OUT" \
	'^jailfw: applied 1 change \(.*; ruleset reloaded\)$'
check_allowed "web's drop-in changed: web reaches tcp/8443" jailfw uid_web 1099 tcp $N4 8443
check_dropped "web's drop-in changed: web's tcp/443 is dropped" jailfw uid_web 1099 tcp $N4 443
check_exit "web's drop-in changed: diff exits 0 after apply" 0 "$JAILFW" diff

# ---------------------------------------------------------------- drift outside the policy

# Nothing in the policy changed, but the host did: apply repairs it and
# says so, though the ruleset stays as it is.
ip link set box-out down
check_exit "box-out set down by hand: diff exits 1" 1 "$JAILFW" diff
check_exit "box-out set down by hand: apply exits 0" 0 "$JAILFW" apply
check_match "box-out set down by hand: apply says it changed something" "$LIB_OUT" \
	'^jailfw: applied [0-9]+ changes? \(.*; ruleset unchanged\)$'
check_match "box-out set down by hand: it is up again" "$(ip -o link show box-out)" \
	'<[^>]*,UP[,>]'
check_exit "box-out repaired: apply says no changes" 0 "$JAILFW" apply
check_match "box-out repaired: no changes" "$LIB_OUT" '^jailfw: no changes '

# ---------------------------------------------------------------- trouble is not an answer

lib_snapshot_before
printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/44e\n}\n' >"$ETC/jails.d/web.conf"
check_exit "invalid drop-in: diff exits 2, not 1" 2 "$JAILFW" diff
check_match "invalid drop-in: diff names the place" "$LIB_ERR" \
	'^/etc/jailfw/jails\.d/web\.conf:4:12: error: invalid port "44e"'
check_exit "invalid drop-in: diff -q exits 2" 2 "$JAILFW" -q diff
check_exit "invalid drop-in: doctor exits 2, not 1" 2 "$JAILFW" doctor "$ETC"
check_exit "invalid drop-in: apply exits 1" 1 "$JAILFW" apply
check_eq "invalid drop-in: apply prints nothing on stdout" "$LIB_OUT" ""
check_exit "invalid drop-in: check exits 1" 1 "$JAILFW" check
check_exit "diff with two arguments: usage error 2" 2 "$JAILFW" diff "$ETC" "$ETC"
check_untouched "invalid drop-in"
web 8443

check "down" "$JAILFW" down
lib_done
