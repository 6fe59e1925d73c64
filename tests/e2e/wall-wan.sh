#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The wan (issue 10, item 10).  A netns jail's traffic is masqueraded out
# of the wan only; anything that would leave another way keeps the jail's
# private source.  So:
#
#  - a wan that does not exist (`wan eth9`, misspelt) is an error at apply,
#    located at the policy line, exit 1, and nothing changes (the whole
#    kernel state compared before and after);
#  - with a wan that does, a jail's packet that would leave through another
#    interface (a LAN of the host's) is dropped, both families.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       default routes via the host; listener tcp 443
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; forwarding on (the test's)
#       |                                |
#     foobar-out                       lan0 10.98.0.1/24 fd00:98::1/64
#     10.97.10.1/24 fd00:97::3:1/112     |
#       |                              eth0 10.98.0.2 fd00:98::2
#   [ jail "foobar" ] .2 / ::2         [ netns "lan" ] listener tcp 443;
#     allow tcp/443                      default routes via the host

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2
L4=10.98.0.2
L6=fd00:98::2

lib_wan_internet
lib_netns_add lan || lib_bail "netns lan"
lib_veth "" lan0 lan eth0 || lib_bail "veth lan0/eth0"
lib_addr "" lan0 10.98.0.1/24 && lib_addr "" lan0 fd00:98::1/64 || lib_bail "lan0 addresses"
lib_addr lan eth0 $L4/24 && lib_addr lan eth0 $L6/64 || lib_bail "lan addresses"
lib_route lan default 10.98.0.1 && lib_route lan default fd00:98::1 || lib_bail "lan routes"
sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1 || lib_bail "forwarding"
lib_serve net internet "tcp:[::]:443" || lib_bail "listener in net"
lib_serve lan lan "tcp:[::]:443" || lib_bail "listener in lan"

policy()
{
	cat >"$1" <<EOF
settings {
	log-drops no
	wan $2
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/443
}
EOF
}

# ---------------------------------------------------------------- a wan that does not exist

BAD=$LIB_TMP/bad.conf
policy "$BAD" eth9
# The world's own link-local addresses settle first: their DAD would read
# as a change.
for ns in "" net lan; do
	lib_wait_for 30 lib_no_tentative "$ns" || lib_bail "'$ns' did not settle"
done
lib_snapshot_before
if ! check_exit "apply with wan eth9 (no such interface) exits 1" 1 "$JAILFW" apply "$BAD" &&
	nft list table inet $T >/dev/null 2>&1; then
	# It applied: what the jail's traffic looks like on the internet.
	lib_wait_for 30 lib_no_tentative foobar
	if src=$(lib_reach_ns foobar tcp $N4 443); then
		fail "wan eth9: the jail's tcp/443 reached the internet with source $src"
	fi
	"$JAILFW" down >/dev/null 2>&1
fi
check_match "the error is located at the name" "$LIB_ERR" \
	"^$BAD:3:6: error: wan interface \"eth9\" does not exist on this host"
check_untouched "apply with wan eth9"
policy "$BAD" "wan0, eth9"
check_exit "apply with wan wan0, eth9 exits 1" 1 "$JAILFW" apply "$BAD"
check_match "the error is located at the second name" "$LIB_ERR" \
	"^$BAD:3:12: error: wan interface \"eth9\" does not exist on this host"
check_exit "diff with wan wan0, eth9 exits 2 (an invalid policy, for diff)" 2 "$JAILFW" diff "$BAD"
check_match "diff says why" "$LIB_ERR" "wan interface \"eth9\" does not exist"
check "... and left no table behind" sh -c "! nft list table inet $T"

# ---------------------------------------------------------------- out of the wan only

GOOD=$LIB_TMP/good.conf
policy "$GOOD" wan0
check "apply with wan wan0" "$JAILFW" apply "$GOOD" || lib_bail "apply failed"
lib_wait_for 30 lib_no_tentative foobar || lib_bail "IPv6 addresses still tentative in foobar"
check_allowed_ns "tcp/443 out of the wan v4, masqueraded to $H4" $T fwd_foobar foobar \
	tcp $N4 443 $H4
check_allowed_ns "tcp/443 out of the wan v6, masqueraded to $H6" $T fwd_foobar foobar \
	tcp $N6 443 $H6
check_dropped_ns "tcp/443 to the LAN $L4 (not the wan: un-NATed) dropped" $T fwd_foobar \
	foobar tcp $L4 443
check_dropped_ns "tcp/443 to the LAN $L6 (not the wan: un-NATed) dropped" $T fwd_foobar \
	foobar tcp $L6 443
check_reach_ns "the LAN itself still reaches the internet" lan tcp $N4 443 $L4

check "down" "$JAILFW" down
lib_done
