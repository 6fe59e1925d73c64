#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netns backend, end to end, IPv4 and IPv6, with real traffic: what a jail
# in its own namespace can reach (masqueraded out of the wan) and what it
# cannot (other ports, addresses and protocols; the host except through
# `to host` rules, link-local included; the other jail; spoofed sources),
# what `publish` opens inbound and nothing more, and that traffic that is
# not a jail's (a LAN routed through the host) passes jailfw's chains
# untouched.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       lo   198.51.100.1  203.0.113.1  203.0.113.7
#                            2001:db8:2::1  2001:db8:3::1  2001:db8:3::7
#                       default routes via the host; listeners (dual stack):
#                       tcp 22 80 443, udp 123 124 443
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; forwarding on (set by the test, for the LAN)
#     rp_filter off, so only jailfw's anti-spoofing stands in the way
#     listeners on every address: tcp 22 53 443, udp 53 54
#       |                          |                         |
#     foobar-out                 second-out                lan0
#     10.97.10.1/24              10.97.11.1/24             10.97.99.1/24
#     fd00:97::3:1/112           fd00:97::4:1/112          fd00:97::99:1/112
#       |                          |                         |
#     foobar-in                  second-in                 eth0
#     10.97.10.2                 10.97.11.2                10.97.99.2
#     fd00:97::3:2               fd00:97::4:2              fd00:97::99:2
#   [ jail "foobar" ]          [ jail "second" ]         [ netns "lan": not a jail,
#     listeners tcp 22 80          listeners tcp 443          routed, not masqueraded ]
#     443 8081
#
# The namespaces foobar and second, their veths, addresses and routes are
# jailfw's (apply); wan0/eth0, net and lan are the test's.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2
A4=198.51.100.1		# in foobar's `to` list
A6=2001:db8:2::1
X4=203.0.113.1		# not in it
X6=2001:db8:3::1
S4=203.0.113.7		# reached through the spoofing routes only
S6=2001:db8:3::7
J4=10.97.10.2		# jail foobar
J6=fd00:97::3:2
JH4=10.97.10.1		# its host side
JH6=fd00:97::3:1
K4=10.97.11.2		# jail second
K6=fd00:97::4:2
KH4=10.97.11.1
L4=10.97.99.2		# the LAN
L6=fd00:97::99:2

# ---------------------------------------------------------------- helpers

# out NAME PROTO ADDR PORT [SOURCE]: from foobar, arrives; fwd_foobar's drop
# counter does not move.
out()
{
	local name=$1

	shift
	check_allowed_ns "foobar: $name" $T fwd_foobar foobar "$@"
}

# nout NAME PROTO ADDR [PORT]: from foobar, dropped by fwd_foobar's last drop.
nout()
{
	local name=$1

	shift
	check_dropped_ns "foobar: $name" $T fwd_foobar foobar "$@"
}

# tohost NAME PROTO ADDR PORT [SOURCE] / ntohost NAME PROTO ADDR [PORT]: from
# foobar to the host itself, through in_foobar (its drop counter does not
# move / moves).
tohost()
{
	local name=$1

	shift
	check_allowed_ns "foobar: $name" $T in_foobar foobar "$@"
}

ntohost()
{
	local name=$1

	shift
	check_dropped_ns "foobar: $name" $T in_foobar foobar "$@"
}

# inbound NAME PROTO ADDR PORT [SOURCE] / ninbound NAME JAIL PROTO ADDR [PORT]:
# from the internet towards a jail (fwdto_JAIL's last drop moves).
inbound()
{
	local name=$1

	shift
	check_reach_ns "internet: $name" net "$@"
}

ninbound()
{
	local name=$1 jail=$2

	shift 2
	check_dropped_ns "internet: $name" $T "fwdto_$jail" net "$@"
}

# jail_counters: the packets every counter in the jails' forward chains has
# seen, one number (traffic that is not a jail's must leave it alone).
jail_counters()
{
	local c sum=0 n

	for c in fwd_foobar fwdto_foobar fwd_second fwdto_second; do
		n=$(lib_nft_anon_counter $T $c) || return 1
		sum=$((sum + n))
	done
	echo "$sum"
}

# lan NAME PROTO ADDR [PORT [SOURCE]]: from the LAN, arrives, and no counter
# of the jails' forward chains moves.
lan()
{
	local name=$1 before after why

	shift
	before=$(jail_counters)
	if ! why=$(lib_arrives_ns lan "$@"); then
		fail "lan: $name" "$why"
		return 1
	fi
	after=$(jail_counters)
	if [ -z "$before" ] || [ "$before" != "$after" ]; then
		fail "lan: $name" "arrived, but the jails' forward counters moved: '$before' -> '$after'"
		return 1
	fi
	pass "lan: $name"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:80" "tcp:[::]:443" \
	"udp:[::]:123" "udp:[::]:124" "udp:[::]:443" || lib_bail "listeners in net"
lib_serve "" host "tcp:[::]:22" "tcp:[::]:53" "tcp:[::]:443" "udp:[::]:53" "udp:[::]:54" ||
	lib_bail "listeners on the host"

# A LAN routed through the host, not masqueraded: forwarding is the test's
# doing, before jailfw ever runs.  rp_filter off everywhere (new interfaces
# take "default"), so that a spoofed source gets as far as jailfw's chains.
lib_netns_add lan || lib_bail "netns lan"
lib_ns_allow_ping lan || lib_bail "ping_group_range in lan"
lib_veth "" lan0 lan eth0 || lib_bail "veth lan0/eth0"
for a in 10.97.99.1/24 fd00:97::99:1/112; do
	lib_addr "" lan0 "$a" || lib_bail "address $a on lan0"
done
for a in $L4/24 $L6/112; do
	lib_addr lan eth0 "$a" || lib_bail "address $a in lan"
done
for a in 10.97.99.1 fd00:97::99:1; do
	lib_route lan default $a || lib_bail "default route via $a in lan"
done
for s in net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1 \
	net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
	net.ipv4.conf.wan0.rp_filter=0 net.ipv4.conf.lan0.rp_filter=0; do
	sysctl -qw "$s" || lib_bail "sysctl $s"
done

# Baseline: the LAN reaches the internet before jailfw is involved, keeping
# its source address, so the "lan:" checks below test jailfw, not the setup.
check_reach_ns "baseline: lan reaches tcp/22 v4, source $L4" lan tcp $N4 22 $L4
check_reach_ns "baseline: lan reaches tcp/22 v6, source $L6" lan tcp $N6 22 $L6

# ---------------------------------------------------------------- the policy

P=$LIB_TMP/netns-traffic.conf
cat >"$P" <<'EOF'
# netns-traffic: two netns jails behind wan0
settings {
	wan wan0
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/443
	allow udp/123
	allow tcp/80 to 198.51.100.0/24, 2001:db8:2::/64
	allow udp/53,tcp/53 to host
	publish tcp/8080:80
}
jail second {
	backend netns
	ipv4 10.97.11.0/24
	ipv6 fd00:97::4:0/112
	allow tcp/443
}
EOF

check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
for j in foobar second; do
	check "namespace /run/netns/$j exists" test -e /run/netns/$j
	check "$j-out is up on the host" lib_wait_for 5 \
		sh -c "ip -o link show $j-out | grep -q ',UP'"
	check "$j-in is up in the jail" lib_wait_for 5 \
		sh -c "ip -n $j -o link show $j-in | grep -q ',UP'"
	check "chain fwd_$j has a counted drop" test -n "$(lib_nft_counter $T fwd_$j drop)"
	check "chain fwdto_$j has a counted drop" test -n "$(lib_nft_counter $T fwdto_$j drop)"
	check "chain in_$j has a counted drop" test -n "$(lib_nft_counter $T in_$j drop)"
	lib_ns_allow_ping $j || lib_bail "ping_group_range in $j"
done
# Link-local addresses are usable only once duplicate address detection
# is over (jailfw adds the global ones without it, the kernel does not).
for ns in "" foobar second; do
	lib_wait_for 30 lib_no_tentative "$ns" || lib_bail "IPv6 addresses still tentative in '$ns'"
done
LL=$(lib_link_local "" foobar-out)
[ -n "$LL" ] || lib_bail "no link-local address on foobar-out"

# A jail at rest sends nothing, so nothing of it may be counted as dropped.
# Its kernel does send IPv6 router solicitations to the host (to ff02::2,
# which the host joins once it forwards), a few seconds apart: the drop
# counter, and with log-drops the drop log, must not fill up with the
# jail's own housekeeping.
rest0=$(lib_nft_counter $T in_foobar drop)
sleep 5
check_eq "foobar at rest for 5 s: in_foobar's drop counter does not move" \
	"$(lib_nft_counter $T in_foobar drop)" "$rest0"
# From here on, the jails' kernels solicit no more routers, so that in_*
# drop counters count the probes alone.
for j in foobar second; do
	ip netns exec $j sysctl -qw net.ipv6.conf.$j-in.router_solicitations=0 ||
		lib_bail "router_solicitations in $j"
done

lib_serve foobar jail-foobar "tcp:[::]:22" "tcp:[::]:80" "tcp:[::]:443" "tcp:[::]:8081" ||
	lib_bail "listeners in foobar"
lib_serve second jail-second "tcp:[::]:443" || lib_bail "listeners in second"

# ---------------------------------------------------------------- jail to the world

out "tcp/443 v4 arrives, masqueraded to $H4" tcp $N4 443 $H4
out "tcp/443 v6 arrives, masqueraded to $H6" tcp $N6 443 $H6
out "tcp/443 (no 'to') reaches any address v4 ($X4)" tcp $X4 443 $H4
out "tcp/443 (no 'to') reaches any address v6 ($X6)" tcp $X6 443 $H6
out "udp/123 v4 arrives, masqueraded to $H4" udp $N4 123 $H4
out "udp/123 v6 arrives, masqueraded to $H6" udp $N6 123 $H6
out "tcp/80 to $A4 (in the 'to' list) arrives" tcp $A4 80 $H4
out "tcp/80 to $A6 (in the 'to' list) arrives" tcp $A6 80 $H6

nout "tcp/80 to $X4 dropped (not in the 'to' list)" tcp $X4 80
nout "tcp/80 to $X6 dropped (not in the 'to' list)" tcp $X6 80
nout "tcp/80 to $N4 dropped (not in the 'to' list)" tcp $N4 80
nout "tcp/22 v4 dropped (other port)" tcp $N4 22
nout "tcp/22 v6 dropped (other port)" tcp $N6 22
nout "udp/124 v4 dropped (other port)" udp $N4 124
nout "udp/124 v6 dropped (other port)" udp $N6 124
nout "udp/443 v4 dropped (only tcp/443 allowed)" udp $N4 443
nout "udp/443 v6 dropped (only tcp/443 allowed)" udp $N6 443
nout "icmp echo dropped" icmp $N4
nout "icmpv6 echo dropped" icmp $N6

check_allowed_ns "second: tcp/443 v4 arrives, masqueraded to $H4" $T fwd_second second \
	tcp $N4 443 $H4
check_allowed_ns "second: tcp/443 v6 arrives, masqueraded to $H6" $T fwd_second second \
	tcp $N6 443 $H6
check_dropped_ns "second: tcp/80 to $A4 dropped (foobar's rule, not second's)" $T fwd_second \
	second tcp $A4 80
check_dropped_ns "second: udp/123 v6 dropped (foobar's rule, not second's)" $T fwd_second \
	second udp $N6 123

# ---------------------------------------------------------------- jail to the host

tohost "'to host' tcp/53 on $JH4 arrives, source $J4" tcp $JH4 53 $J4
tohost "'to host' udp/53 on $JH4 arrives, source $J4" udp $JH4 53 $J4
tohost "'to host' tcp/53 on $JH6 arrives, source $J6" tcp $JH6 53 $J6
tohost "'to host' udp/53 on $JH6 arrives, source $J6" udp $JH6 53 $J6
tohost "'to host' tcp/53 on the host's wan address $H4 arrives" tcp $H4 53 $J4
tohost "'to host' tcp/53 on the host's wan address $H6 arrives" tcp $H6 53 $J6
tohost "'to host' tcp/53 on foobar-out's link-local $LL arrives" tcp "$LL%foobar-in" 53

ntohost "tcp/22 on $JH4 dropped (other host port)" tcp $JH4 22
ntohost "tcp/22 on $JH6 dropped (other host port)" tcp $JH6 22
ntohost "udp/54 on $JH4 dropped (other host port)" udp $JH4 54
ntohost "udp/54 on $JH6 dropped (other host port)" udp $JH6 54
ntohost "tcp/22 on the host's wan address $H4 dropped" tcp $H4 22
ntohost "tcp/22 on the host's wan address $H6 dropped" tcp $H6 22
ntohost "tcp/22 on link-local $LL dropped" tcp "$LL%foobar-in" 22
ntohost "udp/54 on link-local $LL dropped" udp "$LL%foobar-in" 54
ntohost "tcp/443 on $JH4 dropped (no 'to' means the world, not the host)" tcp $JH4 443
ntohost "tcp/443 on $H6 dropped (no 'to' means the world, not the host)" tcp $H6 443
ntohost "icmp echo to $JH4 dropped" icmp $JH4
ntohost "icmpv6 echo to $JH6 dropped" icmp $JH6
check_dropped_ns "second: tcp/53 on $KH4 dropped (no 'to host' rule)" $T in_second \
	second tcp $KH4 53

# ---------------------------------------------------------------- jail to jail

J2J="jail to jail"
check_dropped_rule_ns "foobar -> second $K4 tcp/443 dropped" $T fwd_foobar "$J2J" \
	foobar tcp $K4 443
check_dropped_rule_ns "foobar -> second $K6 tcp/443 dropped" $T fwd_foobar "$J2J" \
	foobar tcp $K6 443
check_dropped_rule_ns "second -> foobar $J4 tcp/443 dropped" $T fwd_second "$J2J" \
	second tcp $J4 443
check_dropped_rule_ns "second -> foobar $J6 tcp/443 dropped" $T fwd_second "$J2J" \
	second tcp $J6 443

# ---------------------------------------------------------------- spoofing

# A second address outside the jail's prefixes, and routes that make the
# kernel pick it as the source towards $S4/$S6 (allowed destinations:
# tcp/443 and udp/123 go anywhere), and towards the host's wan address.
# The legitimate source reaches $S4 first, so only the source decides.
check_reach_ns "spoofing control: tcp/443 to $S4 arrives from $J4" foobar tcp $S4 443 $H4
check_reach_ns "spoofing control: tcp/443 to $S6 arrives from $J6" foobar tcp $S6 443 $H6
ip -n foobar addr add 10.99.0.5/32 dev foobar-in || lib_bail "address 10.99.0.5 in foobar"
ip -n foobar -6 addr add fd00:99::5/128 dev foobar-in nodad || lib_bail "address fd00:99::5 in foobar"
for r in "$S4/32 via $JH4 src 10.99.0.5" "$S6/128 via $JH6 src fd00:99::5" \
	"$H4/32 via $JH4 src 10.99.0.5" "$H6/128 via $JH6 src fd00:99::5"; do
	# shellcheck disable=SC2086 # one route, split into words on purpose
	ip -n foobar route add $r || lib_bail "route $r in foobar"
done
AS4="ip saddr != 10.97.10.2 .*anti-spoofing"
AS6="ip6 saddr != fd00:97::3:2 .*anti-spoofing"
check_dropped_rule_ns "spoofed source 10.99.0.5, tcp/443 to $S4 dropped" $T fwd_foobar "$AS4" \
	foobar tcp $S4 443
check_dropped_rule_ns "spoofed source 10.99.0.5, udp/123 to $S4 dropped" $T fwd_foobar "$AS4" \
	foobar udp $S4 123
check_dropped_rule_ns "spoofed source fd00:99::5, tcp/443 to $S6 dropped" $T fwd_foobar "$AS6" \
	foobar tcp $S6 443
check_dropped_rule_ns "spoofed source fd00:99::5, udp/123 to $S6 dropped" $T fwd_foobar "$AS6" \
	foobar udp $S6 123
check_dropped_rule_ns "spoofed source 10.99.0.5, 'to host' tcp/53 on $H4 dropped" $T in_foobar \
	"$AS4" foobar tcp $H4 53
check_dropped_rule_ns "spoofed source fd00:99::5, 'to host' tcp/53 on $H6 dropped" $T in_foobar \
	"ip6 saddr != fd00:97::3:2 ip6 saddr != fe80::2 .*anti-spoofing" foobar tcp $H6 53
ip -n foobar route del $H4/32
ip -n foobar -6 route del $H6/128
out "after spoofing: tcp/443 v4 from $J4 still arrives" tcp $N4 443 $H4

# ---------------------------------------------------------------- inbound

inbound "publish: tcp $H4:8080 reaches foobar's port 80, source $N4" tcp $H4 8080 $N4
inbound "publish: tcp [$H6]:8080 reaches foobar's port 80, source $N6" tcp $H6 8080 $N6
ninbound "tcp/22 to $J4 (routed via the host) dropped" foobar tcp $J4 22
ninbound "tcp/22 to $J6 (routed via the host) dropped" foobar tcp $J6 22
ninbound "tcp/80 to $J4 directly (only via the DNAT) dropped" foobar tcp $J4 80
ninbound "tcp/80 to $J6 directly (only via the DNAT) dropped" foobar tcp $J6 80
ninbound "icmp echo to $J4 dropped" foobar icmp $J4
ninbound "icmpv6 echo to $J6 dropped" foobar icmp $J6
ninbound "tcp/443 to second $K4 dropped" second tcp $K4 443
ninbound "tcp/443 to second $K6 dropped" second tcp $K6 443
check_blocked_ns "internet: tcp $H4:8081 (not published) reaches nothing in foobar" \
	net tcp $H4 8081
check_blocked_ns "internet: tcp [$H6]:8081 (not published) reaches nothing in foobar" \
	net tcp $H6 8081

# ---------------------------------------------------------------- not a jail's

lan "tcp/22 v4 passes, keeps source $L4 (no masquerade)" tcp $N4 22 $L4
lan "tcp/22 v6 passes, keeps source $L6 (no masquerade)" tcp $N6 22 $L6
lan "udp/124 v4 passes, keeps source $L4" udp $N4 124 $L4
lan "udp/443 v6 passes, keeps source $L6" udp $N6 443 $L6
lan "tcp/80 to $X4 passes" tcp $X4 80 $L4
lan "icmp echo passes" icmp $N4
lan "icmpv6 echo passes" icmp $N6
lib_serve lan lan "tcp:[::]:2222" || lib_bail "listener in lan"
before=$(jail_counters)
check_reach_ns "internet -> lan tcp/2222 v4 passes, source $N4" net tcp $L4 2222 $N4
check_reach_ns "internet -> lan tcp/2222 v6 passes, source $N6" net tcp $L6 2222 $N6
check_eq "internet -> lan: the jails' forward counters did not move" "$(jail_counters)" "$before"

# ---------------------------------------------------------------- down

check "down" "$JAILFW" down
check "down removed table inet $T" sh -c "! nft list table inet $T"
for j in foobar second; do
	check "down removed namespace $j" test ! -e /run/netns/$j
done
check_reach_ns "lan: after down, tcp/22 v4 still passes (forwarding was not jailfw's)" \
	lan tcp $N4 22 $L4
check_reach_ns "lan: after down, tcp/22 v6 still passes (forwarding was not jailfw's)" \
	lan tcp $N6 22 $L6

lib_done
