#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# netns backend, the life of a jail: apply provisions it; a second apply of
# the same policy changes nothing in the kernel (no netlink event, same
# links, addresses, routes, namespace, counters); a changed prefix is fixed
# in place, a changed allowlist takes effect, a jail that left the policy is
# torn down; down removes everything jailfw made and nothing else (foreign
# namespace, veth and table survive, sysctls go back); a refused commit
# leaves no trace of the new jail and the old ruleset in force; objects of
# a jail's names that jailfw did not make are never adopted (exit 5); a busy
# lock makes --no-wait exit 75 and an ordinary apply wait.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       listeners (dual stack): tcp 22 443
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; forwarding off until jailfw turns it on
#     not jailfw's, must survive everything: netns "other", veth fv0/fv1,
#     table inet keep
#       |                                |                       |
#     foobar-out                       second-out              third-out
#     10.97.10.1/24 fd00:97::3:1/112   10.97.11.1/24           10.97.13.1/24
#     later 10.97.12.1 fd00:97::5:1    fd00:97::4:1/112        fd00:97::6:1/112
#       |                                |                     (refused commit:
#     foobar-in                        second-in                never there)
#     10.97.10.2 fd00:97::3:2          10.97.11.2
#     later 10.97.12.2 fd00:97::5:2    fd00:97::4:2
#   [ jail "foobar" ]                [ jail "second" ]       [ jail "third" ]
#     dns -> /etc/netns/foobar/resolv.conf

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2

# ---------------------------------------------------------------- helpers

# sysctls: the host's IPv4/IPv6 settings jailfw may touch (and their
# neighbours, so that an unexpected write shows up too).
sysctls()
{
	sysctl -a 2>/dev/null |
		grep -E '^net\.ipv(4|6)\.(conf\.(all|default|wan0|lo|fv0|fv1)\.|ip_forward)'
}

sysctl_val()
{
	sysctl -n "$1" 2>/dev/null
}

ifindex()
{
	lib_ns "$1" cat "/sys/class/net/$2/ifindex" 2>/dev/null
}

ns_inode()
{
	stat -L -c %i "/run/netns/$1" 2>/dev/null
}

has_link()
{
	lib_ns "$1" ip link show dev "$2" >/dev/null 2>&1
}

no_link()
{
	! has_link "$@"
}

has_addr()
{
	lib_ns "$1" ip -o addr show dev "$2" | grep -qF " $3 "
}

# link_gone NS IF: IF disappears from NS within 5 s (a namespace's veths go
# with it, asynchronously); otherwise show what is left.
link_gone()
{
	if lib_wait_for 5 no_link "$1" "$2"; then
		return 0
	fi
	echo "still there after 5 s:"
	lib_ns "$1" ip -d addr show dev "$2"
	return 1
}

no_namespace()
{
	[ ! -e "/run/netns/$1" ] && ! ip netns list | grep -qE "^$1( |$)"
}

# snap DIR [JAIL...]: everything apply could change, with counters: links
# (with ifindex, flags, alias), addresses, routes of both families in every
# table, in the host and in each JAIL; the namespaces' inodes; the ruleset;
# the sysctls; the jails' resolv.conf (inode and time: never rewritten).
snap()
{
	local d=$1 j

	shift
	mkdir -p "$d"
	ip -d link show >"$d/host.link"
	ip addr show >"$d/host.addr"
	ip -4 route show table all >"$d/host.route4"
	ip -6 route show table all >"$d/host.route6"
	ip netns list >"$d/netns"
	nft list ruleset >"$d/ruleset"
	sysctls >"$d/sysctls"
	for j in "$@"; do
		ip -n "$j" -d link show >"$d/$j.link"
		ip -n "$j" addr show >"$d/$j.addr"
		ip -n "$j" -4 route show table all >"$d/$j.route4"
		ip -n "$j" -6 route show table all >"$d/$j.route6"
		ns_inode "$j" >"$d/$j.inode"
		stat -c '%i %Y %s' "/etc/netns/$j/resolv.conf" >"$d/$j.resolv" 2>&1
	done
}

# same_snap WHAT DIR1 DIR2: one check per file of the snapshot.
same_snap()
{
	local what=$1 a=$2 b=$3 f

	for f in "$a"/*; do
		f=$(basename "$f")
		check_same "$what: $f unchanged" "$a/$f" "$b/$f"
	done
}

# monitor_start DIR JAIL...: netlink and nftables event listeners in the
# host and in each JAIL; monitor_stop ends them.  An apply that changes
# nothing sends nothing.
MON_PIDS=()
monitor_start()
{
	local d=$1 j

	shift
	mkdir -p "$d"
	timeout 30 ip monitor link address route netconf >"$d/ip.host" 2>&1 &
	MON_PIDS+=($!)
	timeout 30 nft monitor >"$d/nft" 2>&1 &
	MON_PIDS+=($!)
	for j in "$@"; do
		timeout 30 ip -n "$j" monitor link address route netconf >"$d/ip.$j" 2>&1 &
		MON_PIDS+=($!)
	done
	# No way to ask a monitor whether it has subscribed yet.
	sleep 0.5
}

monitor_stop()
{
	local p

	sleep 0.5
	for p in "${MON_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	MON_PIDS=()
}

# quiet_jails JAIL...: the jails' kernels send router solicitations to the
# host every few seconds after link up, and in_JAIL counts them as drops
# (see netns-traffic.sh); stop them, so that only the test moves counters.
quiet_jails()
{
	local j

	for j in "$@"; do
		ip netns exec "$j" sysctl -qw "net.ipv6.conf.$j-in.router_solicitations=0"
	done
}

settle()
{
	local j

	lib_wait_for 30 lib_no_tentative "" || return 1
	for j in "$@"; do
		lib_wait_for 30 lib_no_tentative "$j" || return 1
	done
}

out()
{
	local name=$1

	shift
	check_allowed_ns "foobar: $name" $T fwd_foobar foobar "$@"
}

nout()
{
	local name=$1

	shift
	check_dropped_ns "foobar: $name" $T fwd_foobar foobar "$@"
}

# policy FILE FOOBAR4 FOOBAR6 DNS ALLOW [JAIL V4 V6]...: foobar with its
# prefixes, resolver and allowed tcp port, then more jails allowing tcp/443.
policy()
{
	local f=$1

	{
		echo "# netns-lifecycle"
		printf 'settings {\n\twan wan0\n}\n'
		printf 'jail foobar {\n\tbackend netns\n\tipv4 %s\n\tipv6 %s\n' "$2" "$3"
		printf '\tdns %s\n\tallow tcp/%s\n\tallow udp/53 to host\n' "$4" "$5"
		printf '\tpublish tcp/8080:80\n}\n'
		shift 5
		while [ $# -ge 3 ]; do
			printf 'jail %s {\n\tbackend netns\n\tipv4 %s\n\tipv6 %s\n' "$1" "$2" "$3"
			printf '\tallow tcp/443\n}\n'
			shift 3
		done
	} >"$f"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:443" || lib_bail "listeners in net"

# Not jailfw's: must come through everything unchanged.
lib_netns_add other || lib_bail "netns other"
ip link add fv0 type veth peer name fv1 || lib_bail "veth fv0/fv1"
lib_defer ip link del fv0
nft -f - <<'EOF' || lib_bail "table inet keep"
table inet keep {
	set s {
		type ipv4_addr
		elements = { 203.0.113.9 }
	}
	chain c {
		ip saddr @s counter drop
	}
}
EOF
OTHER_INODE=$(ns_inode other)
FV0=$(ifindex "" fv0)
FV1=$(ifindex "" fv1)
settle || lib_bail "IPv6 addresses still tentative"

P1=$LIB_TMP/p1.conf
policy "$P1" 10.97.10.0/24 fd00:97::3:0/112 10.97.10.1 443 \
	second 10.97.11.0/24 fd00:97::4:0/112

check_eq "before apply: IPv4 forwarding is off" "$(sysctl_val net.ipv4.conf.all.forwarding)" 0
check_eq "before apply: IPv6 forwarding is off" "$(sysctl_val net.ipv6.conf.all.forwarding)" 0
snap "$LIB_TMP/s0"
nft list table inet keep >"$LIB_TMP/keep.before"

# ---------------------------------------------------------------- apply

check "apply" "$JAILFW" apply "$P1" || lib_bail "apply failed; nothing to test"
for j in foobar second; do
	check "$j: namespace in /run/netns, listed by ip netns" \
		sh -c "test -e /run/netns/$j && ip netns list | grep -qE '^$j( |\$)'"
	check "$j: $j-out on the host, marked jailfw:$j" \
		sh -c "ip -d link show dev $j-out | grep -q 'alias jailfw:$j'"
	check "$j: $j-out is up" sh -c "ip -o link show dev $j-out | grep -q ',UP'"
	check "$j: $j-in inside the jail, up" sh -c "ip -n $j -o link show dev $j-in | grep -q ',UP'"
	check "$j: $j-in is not in the host" no_link "" $j-in
	check "$j: lo up in the jail" sh -c "ip -n $j -o link show dev lo | grep -q ',UP'"
done
check "foobar: host side 10.97.10.1/24" has_addr "" foobar-out 10.97.10.1/24
check "foobar: host side fd00:97::3:1/112" has_addr "" foobar-out fd00:97::3:1/112
check "foobar: jail side 10.97.10.2/24" has_addr foobar foobar-in 10.97.10.2/24
check "foobar: jail side fd00:97::3:2/112" has_addr foobar foobar-in fd00:97::3:2/112
check_match "foobar: IPv4 default route via 10.97.10.1" "$(ip -n foobar -4 route show default)" \
	"^default via 10\.97\.10\.1 dev foobar-in"
check_match "foobar: IPv6 default route via fd00:97::3:1" "$(ip -n foobar -6 route show default)" \
	"^default via fd00:97::3:1 dev foobar-in"
check_match "foobar: resolv.conf names 10.97.10.1" "$(cat /etc/netns/foobar/resolv.conf 2>&1)" \
	"^nameserver 10\.97\.10\.1$"
# IPv4 forwarding per interface (docs/ruleset.md, "Forwarding"): on where
# jail traffic comes in, the wan and the jails' host sides, and nowhere else.
check_eq "apply turned IPv4 forwarding on for the wan and the jails only" \
	"$(sysctl_val net.ipv4.conf.all.forwarding) $(sysctl_val net.ipv4.conf.wan0.forwarding) $(sysctl_val net.ipv4.conf.foobar-out.forwarding) $(sysctl_val net.ipv4.conf.second-out.forwarding) $(sysctl_val net.ipv4.conf.fv0.forwarding)" \
	"0 1 1 1 0"
check_eq "apply turned IPv6 forwarding on" "$(sysctl_val net.ipv6.conf.all.forwarding)" 1
check_eq "apply set accept_ra 2 on the wan" "$(sysctl_val net.ipv6.conf.wan0.accept_ra)" 2
check_same "apply left table inet keep alone" "$LIB_TMP/keep.before" <(nft list table inet keep)

settle foobar second || lib_bail "IPv6 addresses still tentative in the jails"
quiet_jails foobar second
for j in foobar second; do
	lib_ns_allow_ping $j || lib_bail "ping_group_range in $j"
done

out "tcp/443 v4 arrives, masqueraded" tcp $N4 443 $H4
out "tcp/443 v6 arrives, masqueraded" tcp $N6 443 $H6
nout "tcp/22 v4 dropped" tcp $N4 22
nout "tcp/22 v6 dropped" tcp $N6 22

# ---------------------------------------------------------------- convergence

D1=$(lib_nft_counter $T fwd_foobar drop)
check "fwd_foobar's drop counter is non-zero before re-applying" test "${D1:-0}" -gt 0
snap "$LIB_TMP/s1" foobar second
monitor_start "$LIB_TMP/mon1" foobar second
check "apply the same policy again" "$JAILFW" apply "$P1"
monitor_stop
snap "$LIB_TMP/s2" foobar second
same_snap "same policy" "$LIB_TMP/s1" "$LIB_TMP/s2"
for f in "$LIB_TMP"/mon1/*; do
	check_eq "same policy: no $(basename "$f") events" "$(cat "$f")" ""
done
check_eq "same policy: fwd_foobar's drop counter kept" "$(lib_nft_counter $T fwd_foobar drop)" "$D1"

# ---------------------------------------------------------------- changed prefix

# Fixed in place: the same namespace and links, new addresses and routes.
IF_OUT=$(ifindex "" foobar-out)
IF_IN=$(ifindex foobar foobar-in)
INODE=$(ns_inode foobar)
IF_SECOND=$(ifindex "" second-out)
P2=$LIB_TMP/p2.conf
policy "$P2" 10.97.12.0/24 fd00:97::5:0/112 10.97.12.1 443 \
	second 10.97.11.0/24 fd00:97::4:0/112
monitor_start "$LIB_TMP/mon2" foobar
check "apply a changed prefix" "$JAILFW" apply "$P2"
monitor_stop
# The monitors are live: they do see this apply (so "no events" above is
# a finding, not a deaf listener).
check_match "changed prefix: the jail's monitor saw 10.97.12.2 added" \
	"$(cat "$LIB_TMP/mon2/ip.foobar")" "10\.97\.12\.2/24"
check_match "changed prefix: the host's monitor saw 10.97.12.1 added" \
	"$(cat "$LIB_TMP/mon2/ip.host")" "10\.97\.12\.1/24"
check_match "changed prefix: nft monitor saw the new ruleset" \
	"$(cat "$LIB_TMP/mon2/nft")" "10\.97\.12\.0/24"
check_eq "changed prefix: same namespace" "$(ns_inode foobar)" "$INODE"
check_eq "changed prefix: same foobar-out" "$(ifindex "" foobar-out)" "$IF_OUT"
check_eq "changed prefix: same foobar-in" "$(ifindex foobar foobar-in)" "$IF_IN"
check_eq "changed prefix: second untouched" "$(ifindex "" second-out)" "$IF_SECOND"
check "changed prefix: host side 10.97.12.1/24" has_addr "" foobar-out 10.97.12.1/24
check "changed prefix: host side fd00:97::5:1/112" has_addr "" foobar-out fd00:97::5:1/112
check "changed prefix: jail side 10.97.12.2/24" has_addr foobar foobar-in 10.97.12.2/24
check "changed prefix: jail side fd00:97::5:2/112" has_addr foobar foobar-in fd00:97::5:2/112
check_fails "changed prefix: old 10.97.10.1 gone" has_addr "" foobar-out 10.97.10.1/24
check_fails "changed prefix: old fd00:97::3:1 gone" has_addr "" foobar-out fd00:97::3:1/112
check_fails "changed prefix: old 10.97.10.2 gone" has_addr foobar foobar-in 10.97.10.2/24
check_fails "changed prefix: old fd00:97::3:2 gone" has_addr foobar foobar-in fd00:97::3:2/112
check_match "changed prefix: IPv4 default route via 10.97.12.1" \
	"$(ip -n foobar -4 route show default)" "^default via 10\.97\.12\.1 dev foobar-in"
check_match "changed prefix: IPv6 default route via fd00:97::5:1" \
	"$(ip -n foobar -6 route show default)" "^default via fd00:97::5:1 dev foobar-in"
check_match "changed prefix: resolv.conf names 10.97.12.1" \
	"$(cat /etc/netns/foobar/resolv.conf 2>&1)" "^nameserver 10\.97\.12\.1$"
out "changed prefix: tcp/443 v4 arrives, masqueraded" tcp $N4 443 $H4
out "changed prefix: tcp/443 v6 arrives, masqueraded" tcp $N6 443 $H6
nout "changed prefix: tcp/22 v4 still dropped" tcp $N4 22

# ---------------------------------------------------------------- changed allowlist

P3=$LIB_TMP/p3.conf
policy "$P3" 10.97.12.0/24 fd00:97::5:0/112 10.97.12.1 22 \
	second 10.97.11.0/24 fd00:97::4:0/112
check "apply a changed allowlist" "$JAILFW" apply "$P3"
out "changed allowlist: tcp/22 v4 now arrives" tcp $N4 22 $H4
out "changed allowlist: tcp/22 v6 now arrives" tcp $N6 22 $H6
nout "changed allowlist: tcp/443 v4 now dropped" tcp $N4 443
nout "changed allowlist: tcp/443 v6 now dropped" tcp $N6 443
check_eq "changed allowlist: same foobar-out" "$(ifindex "" foobar-out)" "$IF_OUT"

# ---------------------------------------------------------------- jail removed

P4=$LIB_TMP/p4.conf
policy "$P4" 10.97.12.0/24 fd00:97::5:0/112 10.97.12.1 22
check "apply without jail second" "$JAILFW" apply "$P4"
check "jail removed: namespace second gone" no_namespace second
check "jail removed: second-out gone" link_gone "" second-out
check_fails "jail removed: no chain fwd_second" nft list chain inet $T fwd_second
check_eq "jail removed: foobar untouched" "$(ifindex "" foobar-out)" "$IF_OUT"
out "jail removed: foobar's tcp/22 v4 still arrives" tcp $N4 22 $H4

# ---------------------------------------------------------------- refused commit

# The fault hook makes the kernel refuse the ruleset that would confine a
# new jail: its namespace and veth must go again, and the ruleset in force
# stay as it was, counters and all.
P5=$LIB_TMP/p5.conf
policy "$P5" 10.97.12.0/24 fd00:97::5:0/112 10.97.12.1 22 \
	third 10.97.13.0/24 fd00:97::6:0/112
snap "$LIB_TMP/s3" foobar
check_exit "refused commit exits 3" 3 env JAILFW_TEST_FAULT=nft-commit "$JAILFW_TESTHOOKS" apply "$P5"
check "refused commit: no namespace third" no_namespace third
check "refused commit: no third-out" link_gone "" third-out
snap "$LIB_TMP/s4" foobar
same_snap "refused commit" "$LIB_TMP/s3" "$LIB_TMP/s4"
out "refused commit: foobar's tcp/22 v4 still arrives" tcp $N4 22 $H4
nout "refused commit: foobar's tcp/443 v4 still dropped" tcp $N4 443

# ---------------------------------------------------------------- foreign object, live

# A new jail whose namespace exists but is not jailfw's: refused before
# anything changes, the running jail and the ruleset untouched.
lib_netns_add clash || lib_bail "netns clash"
CLASH=$(ns_inode clash)
P6=$LIB_TMP/p6.conf
policy "$P6" 10.97.12.0/24 fd00:97::5:0/112 10.97.12.1 22 \
	clash 10.97.14.0/24 fd00:97::7:0/112
snap "$LIB_TMP/s5" foobar
check_exit "foreign namespace clash: apply exits 5" 5 "$JAILFW" apply "$P6"
check_match "foreign namespace clash: the error names it" "$LIB_ERR" 'namespace "clash"'
check_eq "foreign namespace clash: left alone" "$(ns_inode clash)" "$CLASH"
check "foreign namespace clash: no clash-out" no_link "" clash-out
check "foreign namespace clash: nothing in it" no_link clash clash-in
snap "$LIB_TMP/s6" foobar
same_snap "foreign namespace clash" "$LIB_TMP/s5" "$LIB_TMP/s6"
ip netns del clash

# ---------------------------------------------------------------- the lock

flock /run/jailfw/lock sh -c "touch '$LIB_TMP/held'; while [ ! -e '$LIB_TMP/release' ]; do sleep 0.1; done" &
HOLDER=$!
lib_defer kill "$HOLDER"
lib_wait_for 5 test -e "$LIB_TMP/held" || lib_bail "could not take /run/jailfw/lock"
snap "$LIB_TMP/s7" foobar
check_exit "lock held: apply --no-wait exits 75" 75 "$JAILFW" apply --no-wait "$P3"
check_exit "lock held: down --no-wait exits 75" 75 "$JAILFW" down --no-wait
snap "$LIB_TMP/s8" foobar
same_snap "lock held" "$LIB_TMP/s7" "$LIB_TMP/s8"
# Without --no-wait, apply waits for the lock and then does its work (P3
# brings jail second back).
timeout 30 "$JAILFW" apply "$P3" >"$LIB_TMP/waiter.out" 2>&1 &
WAITER=$!
lib_defer kill "$WAITER"
sleep 1
check "lock held: apply without --no-wait waits" kill -0 "$WAITER"
check "lock held: the waiting apply has not created jail second yet" no_namespace second
touch "$LIB_TMP/release"
wait "$HOLDER"
wait "$WAITER"
check_eq "lock released: the waiting apply succeeds" "$?" 0
check "lock released: jail second is back" test -e /run/netns/second
nout "lock released: the waiting apply's policy is in force (tcp/443 dropped)" tcp $N4 443
settle second || lib_bail "IPv6 addresses still tentative in second"
quiet_jails second

# ---------------------------------------------------------------- down

check "down" "$JAILFW" down
check_fails "down: table inet $T gone" nft list table inet $T
for j in foobar second; do
	check "down: namespace $j gone" no_namespace $j
	check "down: $j-out gone" link_gone "" $j-out
	check "down: /etc/netns/$j gone" test ! -e /etc/netns/$j
done
check_eq "down: foreign namespace other kept" "$(ns_inode other)" "$OTHER_INODE"
check_eq "down: foreign veth fv0 kept" "$(ifindex "" fv0)" "$FV0"
check_eq "down: foreign veth fv1 kept" "$(ifindex "" fv1)" "$FV1"
check_same "down: table inet keep unchanged" "$LIB_TMP/keep.before" <(nft list table inet keep)
snap "$LIB_TMP/s9"
# Sysctls back to their values before the first apply; links, addresses,
# routes, namespaces and the ruleset as they were.
same_snap "down, compared with before the first apply" "$LIB_TMP/s0" "$LIB_TMP/s9"
check "down again: nothing to do, exits 0" "$JAILFW" down

# ---------------------------------------------------------------- foreign objects

# foreign FILE WHAT OBJ: apply FILE must exit 5 naming OBJ, and change
# nothing at all in the host.
foreign()
{
	local file=$1 what=$2 obj=$3

	snap "$LIB_TMP/f.before"
	check_exit "$what: apply exits 5" 5 "$JAILFW" apply "$file"
	check_match "$what: the error names \"$obj\"" "$LIB_ERR" "\"$obj\""
	check_fails "$what: no table inet $T" nft list table inet $T
	check "$what: no namespace second" no_namespace second
	check "$what: no second-out" no_link "" second-out
	check "$what: no /etc/netns/foobar" test ! -e /etc/netns/foobar
	snap "$LIB_TMP/f.after"
	same_snap "$what" "$LIB_TMP/f.before" "$LIB_TMP/f.after"
}

ip netns add foobar || lib_bail "netns foobar"
lib_defer ip netns del foobar
FOREIGN=$(ns_inode foobar)
foreign "$P1" "foreign namespace foobar" foobar
check_eq "foreign namespace foobar: same namespace" "$(ns_inode foobar)" "$FOREIGN"
check "foreign namespace foobar: nothing put in it" no_link foobar foobar-in
check "foreign namespace foobar: no foobar-out" no_link "" foobar-out
ip netns del foobar

# (a veth: this kernel may have no dummy driver)
ip link add foobar-out type veth peer name fb-peer || lib_bail "veth foobar-out/fb-peer"
lib_defer ip link del foobar-out
FOREIGN_IF=$(ifindex "" foobar-out)
FOREIGN_PEER=$(ifindex "" fb-peer)
ip -d link show dev foobar-out >"$LIB_TMP/foreign-if.before"
foreign "$P1" "foreign interface foobar-out" foobar-out
check_eq "foreign interface foobar-out: same interface" "$(ifindex "" foobar-out)" "$FOREIGN_IF"
check_eq "foreign interface foobar-out: same peer, still in the host" \
	"$(ifindex "" fb-peer)" "$FOREIGN_PEER"
check_same "foreign interface foobar-out: unchanged (no alias, not moved, still down)" \
	"$LIB_TMP/foreign-if.before" <(ip -d link show dev foobar-out)
check "foreign interface foobar-out: no namespace foobar" no_namespace foobar
ip link del foobar-out

# ---------------------------------------------------------------- live jails

# A process still inside a jail keeps its namespace alive after the bind
# mount is gone, and with it the veth pair: removing the jail must remove
# the host's end all the same (deleting a veth deletes its peer), or an
# interface marked jailfw's outlives the jail jailfw no longer knows.
check "apply both jails once more" "$JAILFW" apply "$P1"
ip netns exec second sleep 60 &
SLEEPER2=$!
lib_defer kill "$SLEEPER2"
ip netns exec foobar sleep 60 &
SLEEPER1=$!
lib_defer kill "$SLEEPER1"
check "apply without second, a process still in it" "$JAILFW" apply "$P4"
check "jail removed while in use: namespace second gone" no_namespace second
check "jail removed while in use: second-out gone" link_gone "" second-out
check "down, a process still in foobar" "$JAILFW" down
check "down while in use: namespace foobar gone" no_namespace foobar
check "down while in use: foobar-out gone" link_gone "" foobar-out
kill "$SLEEPER1" "$SLEEPER2" 2>/dev/null
wait "$SLEEPER1" "$SLEEPER2" 2>/dev/null
check "once the processes are gone: foobar-out and second-out gone" \
	lib_wait_for 5 sh -c '! ip link show dev foobar-out && ! ip link show dev second-out'
check_eq "after all: sysctls as before the first apply" "$(sysctls)" "$(cat "$LIB_TMP/s0/sysctls")"

lib_done
