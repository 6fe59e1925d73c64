#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Jails are walled off from each other and speak only from their own
# addresses (issue 10, items 3, 8 and 9), with real packets:
#
#  - uid -> netns: a uid jail allowed "tcp/22" and "udp/53" (anywhere but
#    the host) does not reach a netns jail's unpublished ports, by its
#    address, its link-local address or its link's broadcast;
#  - netns -> uid: a uid jail's listening sockets are the host's, reached
#    only through "to host";
#  - netns -> netns: dropped, unicast and broadcast;
#  - the host's own processes (not jailed) do reach a netns jail's ports,
#    as they reach any machine on a directly connected network; jailfw
#    walls jails in, it does not wall the host out (docs/ruleset.md);
#  - spoofing: root in a netns jail sends only from the jail's own address
#    (not from the host side's, nor from another address of its prefix);
#  - a renamed host-side interface does not leave the jail unfiltered: its
#    packets are dropped (forwarded, to the host, towards it), and status
#    names the interface and exits 1.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       lo   198.51.100.1 2001:db8:2::1 ...
#                       listeners tcp 22 443, udp 53 123
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jail "web" is uid 1099 and listens on tcp 5000
#     (as uid 1099); root listens on tcp 22, udp 53
#       |                                |
#     foobar-out                       second-out
#     10.97.10.1/24 fd00:97::3:1/112   10.97.11.1/24 fd00:97::4:1/112
#       |                                |
#   [ jail "foobar" ] .2 / ::2         [ jail "second" ] .2 / ::2
#     listeners tcp 22, udp 53           listeners tcp 22, udp 53
#     allow tcp/443, udp/123,            allow tcp/443
#     udp/53 to host

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
UID_J=1099
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2
J4=10.97.10.2
J6=fd00:97::3:2
JH4=10.97.10.1
JH6=fd00:97::3:1
K4=10.97.11.2
K6=fd00:97::4:2

# gone NAME LISTENER CHAIN ERE NS WHO ADDR PORT [OPTION...]: the datagram
# never reaches LISTENER, and the counter of CHAIN's rule matching ERE
# (empty: its last counted drop) moves.
gone()
{
	local name=$1 log=$2

	shift 2
	check_dgram_dropped "$name" "$log" $T "$@"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:443" "udp:[::]:53" "udp:[::]:123" ||
	lib_bail "listeners in net"
lib_serve "" host "tcp:[::]:22" "udp:0.0.0.0:53" "udp:[::]:53" || lib_bail "listeners on the host"

P=$LIB_TMP/wall-jails.conf
cat >"$P" <<EOF
settings {
	wan wan0
}
jail web {
	backend uid
	user $UID_J
	allow tcp/22
	allow udp/53
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/443
	allow udp/123
	allow udp/53 to host
}
jail second {
	backend netns
	ipv4 10.97.11.0/24
	ipv6 fd00:97::4:0/112
	allow tcp/443
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
lib_jails_settle foobar second || lib_bail "IPv6 addresses still tentative"
lib_serve foobar jail-foobar "tcp:[::]:22" "udp:0.0.0.0:53" "udp:[::]:53" ||
	lib_bail "listeners in foobar"
lib_serve second jail-second "tcp:[::]:22" "udp:0.0.0.0:53" "udp:[::]:53" ||
	lib_bail "listeners in second"
# The uid jail's own listener: a socket of uid 1099 on the host.
install -m 0666 /dev/null "$LIB_TMP/uidjail.log"
lib_as $UID_J "$LIB_PY" -I "$LIB_TMP/probe.py" serve "$LIB_TMP/uidjail.log" 600 \
	"tcp:[::]:5000" 2>/dev/null &
lib_defer kill $!
disown $!
lib_wait_for 5 grep -qx ready "$LIB_TMP/uidjail.log" || lib_bail "uid jail's listener"
JLL=$(lib_link_local foobar foobar-in)
[ -n "$JLL" ] || lib_bail "no link-local address on foobar-in"

# ---------------------------------------------------------------- item 3: jail to jail

check_allowed "uid: tcp/22 to the internet $N4 arrives (any destination)" $T uid_web $UID_J \
	tcp $N4 22
check_dropped "uid -> foobar: tcp/22 to $J4 dropped" $T uid_web $UID_J tcp $J4 22
check_dropped "uid -> foobar: tcp/22 to $J6 dropped" $T uid_web $UID_J tcp $J6 22
gone "uid -> foobar: udp/53 to its link-local $JLL dropped" jail-foobar uid_web "" "" \
	$UID_J "$JLL" 53 if=foobar-out
gone "uid -> foobar: udp/53 to $J4 dropped" jail-foobar uid_web "" "" $UID_J $J4 53
gone "uid -> foobar: udp/53 to $J6 dropped" jail-foobar uid_web "" "" $UID_J $J6 53
gone "uid -> foobar: udp/53 to its link's broadcast 10.97.10.255 dropped" jail-foobar \
	uid_web "" "" $UID_J 10.97.10.255 53 bcast
gone "uid -> foobar: udp/53 to ff02::1%foobar-out dropped" jail-foobar uid_web "" "" \
	$UID_J ff02::1 53 if=foobar-out

check_dropped_ns "foobar -> uid jail's listener on $JH4 dropped (no 'to host' for it)" $T \
	in_foobar foobar tcp $JH4 5000
check_dropped_ns "foobar -> uid jail's listener on $H6 dropped (no 'to host' for it)" $T \
	in_foobar foobar tcp $H6 5000

check_dropped_rule_ns "foobar -> second: tcp/22 to $K4 dropped" $T fwd_foobar "jail to jail" \
	foobar tcp $K4 22
check_dropped_rule_ns "foobar -> second: tcp/22 to $K6 dropped" $T fwd_foobar "jail to jail" \
	foobar tcp $K6 22
# The host takes second's broadcast address as its own, and foobar may
# send udp/53 to the host: the host gets it, second never does.
t=$(lib_token)
lib_send foobar root 10.97.11.255 53 "$t" bcast
check "foobar -> second: udp/53 to second's broadcast 10.97.11.255 reaches the host" \
	lib_seen host "$t"
check_fails "foobar -> second: ... and never second" lib_seen jail-second "$t"

check_reach "host (root, not jailed) reaches foobar's tcp/22 on $J4" root tcp $J4 22
check_reach "host (root, not jailed) reaches foobar's tcp/22 on $J6" root tcp $J6 22
check_dgram "host (root, not jailed) reaches foobar's udp/53" jail-foobar "" root $J4 53

# ---------------------------------------------------------------- item 8: spoofing

check_dgram "foobar: udp/123 from its own $J6 arrives" internet foobar root $N6 123
check_dgram "foobar: udp/123 from its own $J4 arrives" internet foobar root $N4 123
AS4="ip saddr != .*anti-spoofing"
AS6="ip6 saddr != .*anti-spoofing"
gone "foobar: udp/123 from the host side's $JH6 dropped" internet fwd_foobar "$AS6" \
	foobar root $N6 123 src=$JH6
gone "foobar: udp/123 from fd00:97::3:77 (its prefix, not its address) dropped" \
	internet fwd_foobar "$AS6" foobar root $N6 123 src=fd00:97::3:77
gone "foobar: udp/123 from 10.97.10.77 (its prefix, not its address) dropped" \
	internet fwd_foobar "$AS4" foobar root $N4 123 src=10.97.10.77
gone "foobar: udp/123 from second's $K6 dropped" internet fwd_foobar "$AS6" \
	foobar root $N6 123 src=$K6
gone "foobar: udp/53 to host from the host side's $JH6 dropped" host in_foobar \
	"$AS6" foobar root $JH6 53 src=$JH6
gone "foobar: udp/53 to host from fd00:97::3:77 dropped" host in_foobar "$AS6" \
	foobar root $JH6 53 src=fd00:97::3:77
gone "foobar: udp/53 to host from 10.97.10.77 dropped" host in_foobar "$AS4" \
	foobar root $JH4 53 src=10.97.10.77
check_dgram "foobar: udp/53 to host from its own $J6 arrives" host foobar root $JH6 53

# ---------------------------------------------------------------- item 9: a renamed interface

check_exit "status before the rename exits 0" 0 "$JAILFW" status
# Renaming takes the link down, which would remove its IPv6 addresses.
sysctl -qw net.ipv6.conf.foobar-out.keep_addr_on_down=1 || lib_bail "keep_addr_on_down"
ip link set foobar-out down && ip link set foobar-out name renamed0 && ip link set renamed0 up ||
	lib_bail "rename foobar-out"
lib_defer ip link set renamed0 name foobar-out
lib_wait_for 5 lib_ping_ns foobar $JH4 || true
check_exit "status after the rename exits 1" 1 "$JAILFW" status
check_match "status names the renamed interface" "$LIB_OUT" \
	"^drift: .*foobar-out.*renamed0"
check_blocked_ns "renamed: foobar's tcp/443 to $N4 dropped" foobar tcp $N4 443
check_blocked_ns "renamed: foobar's tcp/443 to $N6 dropped" foobar tcp $N6 443
check_blocked_ns "renamed: foobar's tcp/22 to the host $JH4 dropped" foobar tcp $JH4 22
check_blocked_ns "renamed: foobar's tcp/22 to the host $JH6 dropped" foobar tcp $JH6 22
check_blocked_ns "renamed: the internet's tcp/22 to foobar's $J4 dropped" net tcp $J4 22
check_blocked_ns "renamed: the internet's tcp/22 to foobar's $J6 dropped" net tcp $J6 22
ip link set renamed0 down && ip link set renamed0 name foobar-out && ip link set foobar-out up ||
	lib_bail "rename back"
lib_wait_for 30 lib_no_tentative "" || true
check "apply again" "$JAILFW" apply "$P"
check_exit "status after renaming it back exits 0" 0 "$JAILFW" status
check_reach_ns "foobar's tcp/443 to $N4 arrives again" foobar tcp $N4 443 $H4

check "down" "$JAILFW" down
lib_done
