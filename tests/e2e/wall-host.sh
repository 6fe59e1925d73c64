#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The host is reached only through `to host` (issue 10, items 1 and 2),
# with real packets from both backends:
#
#  - a `to PREFIX` rule whose prefix holds one of the host's addresses (its
#    wan address, a jail's veth address) does not open the host's port on
#    that address;
#  - broadcast and multicast (255.255.255.255, a subnet's broadcast,
#    224.0.0.1, ff02::1) are never "any destination but the host": the
#    kernel loops a copy back to the host's own sockets.  A uid jail may not
#    send them at all (they would go out on the wire too); a netns jail's
#    reach only the host, so they count as the host (`to host`).
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       listeners tcp 2222, udp 53
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     default routes via net; jailfw runs here; uid jail "web" is uid 1099
#     listeners: tcp 2222 and udp 53 (IPv4 socket and dual-stack IPv6)
#       |                               |
#     foobar-out 10.97.10.1/24        dns-out 10.97.11.1/24
#                fd00:97::3:1/112             fd00:97::4:1/112
#       |                               |
#   [ jail "foobar" ] .2 / ::2        [ jail "dns" ] .2 / ::2
#     allow tcp/2222 to the wan's       allow udp/53 to host
#     and its own prefixes; udp/53

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
UID_J=1099
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2

# blocked NAME CHAIN NS WHO ADDR PORT [OPTION...]: the datagram never
# reaches the host's listener, and CHAIN's last counted drop moves.
blocked()
{
	local name=$1 chain=$2

	shift 2
	check_dgram_dropped "$name" host $T "$chain" "" "$@"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_route "" default $N4 || lib_bail "default route"
lib_route "" default $N6 || lib_bail "IPv6 default route"
lib_serve net internet "tcp:[::]:2222" "udp:[::]:53" || lib_bail "listeners in net"
# An IPv4 socket as well: multicast is not delivered to dual-stack sockets.
lib_serve "" host "tcp:[::]:2222" "udp:0.0.0.0:53" "udp:[::]:53" ||
	lib_bail "listeners on the host"

# Baseline: without jailfw the uid reaches the host's broadcast listener.
check_dgram "baseline: uid $UID_J's broadcast reaches the host's listener" host "" $UID_J \
	255.255.255.255 53 bcast

P=$LIB_TMP/wall-host.conf
cat >"$P" <<EOF
settings {
	wan wan0
}
jail web {
	backend uid
	user $UID_J
	allow tcp/2222 to 192.0.2.0/24, 2001:db8:1::/64
	allow udp/53
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/2222 to 192.0.2.0/24, 2001:db8:1::/64, 10.97.10.0/24, fd00:97::3:0/112
	allow udp/53
}
jail dns {
	backend netns
	ipv4 10.97.11.0/24
	ipv6 fd00:97::4:0/112
	allow udp/53 to host
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
lib_jails_settle foobar dns || lib_bail "IPv6 addresses still tentative"

# ---------------------------------------------------------------- item 1: a prefix holding the host

check_allowed "uid: tcp/2222 to $N4 (in the prefix) arrives" $T uid_web $UID_J tcp $N4 2222
check_allowed "uid: tcp/2222 to $N6 (in the prefix) arrives" $T uid_web $UID_J tcp $N6 2222
check_dropped "uid: tcp/2222 to the host's $H4 (in the prefix) dropped" $T uid_web $UID_J \
	tcp $H4 2222
check_dropped "uid: tcp/2222 to the host's $H6 (in the prefix) dropped" $T uid_web $UID_J \
	tcp $H6 2222

check_allowed_ns "foobar: tcp/2222 to $N4 (in the prefix) arrives" $T fwd_foobar foobar \
	tcp $N4 2222 $H4
check_allowed_ns "foobar: tcp/2222 to $N6 (in the prefix) arrives" $T fwd_foobar foobar \
	tcp $N6 2222 $H6
for a in $H4 $H6 10.97.10.1 fd00:97::3:1; do
	check_dropped_ns "foobar: tcp/2222 to the host's $a (in the prefix) dropped" $T in_foobar \
		foobar tcp $a 2222
done

# ---------------------------------------------------------------- item 2: broadcast and multicast

check_dgram "uid: udp/53 to $N4 (any destination) arrives" internet "" $UID_J $N4 53
blocked "uid: udp/53 to 255.255.255.255 never reaches the host" uid_web "" $UID_J \
	255.255.255.255 53 bcast
blocked "uid: udp/53 to the wan's broadcast 192.0.2.255 never reaches the host" uid_web \
	"" $UID_J 192.0.2.255 53 bcast
blocked "uid: udp/53 to 224.0.0.1 never reaches the host" uid_web "" $UID_J \
	224.0.0.1 53 if=wan0
blocked "uid: udp/53 to ff02::1%wan0 never reaches the host" uid_web "" $UID_J \
	ff02::1 53 if=wan0

check_dgram "foobar: udp/53 to $N4 (any destination) arrives" internet foobar root $N4 53
blocked "foobar: udp/53 to 255.255.255.255 never reaches the host" in_foobar foobar \
	root 255.255.255.255 53 bcast
blocked "foobar: udp/53 to its link's broadcast 10.97.10.255 never reaches the host" \
	in_foobar foobar root 10.97.10.255 53 bcast
blocked "foobar: udp/53 to 224.0.0.1 never reaches the host" in_foobar foobar root \
	224.0.0.1 53 if=foobar-in
blocked "foobar: udp/53 to ff02::1 never reaches the host" in_foobar foobar root \
	ff02::1 53 if=foobar-in

# A netns jail's broadcast and multicast reach only the host: `to host`.
check_dgram "dns (to host): udp/53 to 10.97.11.255 reaches the host" host dns root \
	10.97.11.255 53 bcast
check_dgram "dns (to host): udp/53 to 224.0.0.1 reaches the host" host dns root \
	224.0.0.1 53 if=dns-in
check_dgram "dns (to host): udp/53 to ff02::1 reaches the host" host dns root \
	ff02::1 53 if=dns-in

check "down" "$JAILFW" down
lib_done
