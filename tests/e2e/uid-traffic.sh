#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# uid backend, end to end, IPv4 and IPv6: what a uid jail can reach and what
# it cannot, that nobody else is affected, that the ruleset is replaced
# atomically (and kept when the kernel refuses the new one), that bad
# policies and missing privileges change nothing, and that down removes
# only jailfw's table.
#
#   [ sandbox netns = "host" ]  wan0 ---veth--- eth0  [ netns "net" = the internet ]
#     192.0.2.1/24      2001:db8:1::1/64              192.0.2.2/24      2001:db8:1::2/64
#     198.51.100.1/24   2001:db8:2::1/64              198.51.100.2/24   2001:db8:2::2/64
#     lo: 127.0.0.1, ::1                              listeners (dual stack, record the
#     listeners: tcp 5353, 6000 (dual stack, so         source they saw): tcp 22 80 443
#       also on the host's own addresses);              8080, udp 123 124
#       udp 123 on 127.0.0.1 and ::1
#     jailfw runs here; the jail "web" is uid 1099;
#     uid 1100 and root are not jailed
#
# 192.0.2.0/24 and 2001:db8:1::/64 are the jail's allowed destinations,
# 198.51.100.0/24 and 2001:db8:2::/64 "other addresses".

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

JAIL=1099
OTHER=1100
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2
X4=198.51.100.2
X6=2001:db8:2::2
CHAIN=uid_web

# ---------------------------------------------------------------- helpers

drops()
{
	lib_nft_counter jailfw "$CHAIN" drop
}

reaches()
{
	check_reach "$@"
}

# allowed NAME PROTO ADDR PORT [SOURCE]: the jail reaches it; its drop
# counter does not move.
allowed()
{
	local name=$1

	shift
	check_allowed "$name" jailfw "$CHAIN" "$JAIL" "$@"
}

# blocked NAME PROTO ADDR [PORT]: the jail's packet never arrives; its drop
# counter moves.
blocked()
{
	local name=$1

	shift
	check_dropped "$name" jailfw "$CHAIN" "$JAIL" "$@"
}

# free NAME WHO PROTO ADDR [PORT [SOURCE]]: not jailed, reaches it, and the
# jail's chain never sees the packet.
free()
{
	local name=$1

	shift
	check_free "$name" jailfw "$CHAIN" "$@"
}

marked()
{
	lib_nft_anon_counter marks marked
}

unmarked()
{
	lib_nft_anon_counter marks unmarked
}

table_gone()
{
	! nft list table inet jailfw >/dev/null 2>&1
}

# ---------------------------------------------------------------- the world

lib_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:80" "tcp:[::]:443" "tcp:[::]:8080" \
	"udp:[::]:123" "udp:[::]:124" || lib_bail "listeners in net"
lib_serve "" local "tcp:[::]:5353" "tcp:[::]:6000" udp:127.0.0.1:123 "udp:[::1]:123" ||
	lib_bail "listeners on the host"

# Tables that are not jailfw's: "other" must survive apply and down byte for
# byte; "marks" observes the documented fwmark on the jail's packets after
# jailfw's filter chain (priority 100 > filter).
if ! nft -f - <<'EOF'; then
table inet other {
	counter seen {
	}
	set blocked {
		type ipv4_addr
		elements = { 203.0.113.9 }
	}
	chain in {
		type filter hook input priority 10; policy accept;
		ip saddr @blocked counter name "seen" drop
		tcp dport 9 counter drop comment "never used by the test"
	}
	chain helper {
		counter
	}
}
table inet marks {
	chain marked {
		type filter hook postrouting priority 100; policy accept;
		meta skuid 1099 meta mark & 0x00200000 == 0x00200000 counter
	}
	chain unmarked {
		type filter hook postrouting priority 100; policy accept;
		meta skuid 1099 meta mark & 0x00200000 == 0 counter
	}
}
EOF
	lib_bail "foreign tables"
fi
nft list table inet other >"$LIB_TMP/other.before" || lib_bail "nft list table inet other"

# Baseline: before jailfw, the future jail's uid reaches everything, so every
# "dropped" below is jailfw's doing and not a broken probe.
reaches "baseline: uid $JAIL reaches tcp/22 v4" $JAIL tcp $N4 22 $H4
reaches "baseline: uid $JAIL reaches tcp/22 v6" $JAIL tcp $N6 22 $H6
reaches "baseline: uid $JAIL reaches udp/124 at $X6" $JAIL udp $X6 124
reaches "baseline: uid $JAIL reaches tcp/6000 on 127.0.0.1" $JAIL tcp 127.0.0.1 6000
reaches "baseline: uid $JAIL pings $N4" $JAIL icmp $N4
reaches "baseline: uid $JAIL pings $N6" $JAIL icmp $N6

# ---------------------------------------------------------------- policy 1

P1=$LIB_TMP/web.conf
cat >"$P1" <<'EOF'
# uid-traffic: the jail "web"
jail web {
	backend uid
	user 1099
	allow udp/123
	allow tcp/80,443 to 192.0.2.0/24, 2001:db8:1::/64
	allow tcp/8080 to 192.0.2.0/24
	allow tcp/5353 to host
}
EOF

check "apply policy 1" "$JAILFW" apply "$P1"
check "table inet jailfw is loaded" nft list table inet jailfw
check "chain $CHAIN has a counted drop" test -n "$(drops)"

allowed "jail: tcp/80 v4 arrives, source $H4" tcp $N4 80 $H4
allowed "jail: tcp/80 v6 arrives, source $H6" tcp $N6 80 $H6
allowed "jail: tcp/443 v4 arrives" tcp $N4 443 $H4
allowed "jail: tcp/443 v6 arrives" tcp $N6 443 $H6
allowed "jail: udp/123 v4 arrives, source $H4" udp $N4 123 $H4
allowed "jail: udp/123 v6 arrives, source $H6" udp $N6 123 $H6
allowed "jail: udp/123 (no 'to') reaches any address v4 ($X4)" udp $X4 123
allowed "jail: udp/123 (no 'to') reaches any address v6 ($X6)" udp $X6 123
allowed "jail: tcp/8080 v4 arrives" tcp $N4 8080 $H4

blocked "jail: tcp/8080 v6 dropped (rule is IPv4 only)" tcp $N6 8080
blocked "jail: tcp/22 v4 dropped (other port)" tcp $N4 22
blocked "jail: tcp/22 v6 dropped (other port)" tcp $N6 22
blocked "jail: udp/124 v4 dropped (other port)" udp $N4 124
blocked "jail: udp/124 v6 dropped (other port)" udp $N6 124
blocked "jail: tcp/80 to $X4 dropped (other address)" tcp $X4 80
blocked "jail: tcp/80 to $X6 dropped (other address)" tcp $X6 80
blocked "jail: icmp echo dropped" icmp $N4
blocked "jail: icmpv6 echo dropped" icmp $N6
blocked "jail: tcp/6000 on 127.0.0.1 dropped (loopback)" tcp 127.0.0.1 6000
blocked "jail: tcp/6000 on ::1 dropped (loopback)" tcp ::1 6000
blocked "jail: tcp/6000 on the host's own $H4 dropped" tcp $H4 6000
blocked "jail: udp/123 to 127.0.0.1 dropped (no 'to' excludes the host)" udp 127.0.0.1 123
blocked "jail: udp/123 to ::1 dropped (no 'to' excludes the host)" udp ::1 123

allowed "jail: 'to host' tcp/5353 on 127.0.0.1 arrives" tcp 127.0.0.1 5353 127.0.0.1
allowed "jail: 'to host' tcp/5353 on ::1 arrives" tcp ::1 5353 ::1
allowed "jail: 'to host' tcp/5353 on the host's own $H4 arrives" tcp $H4 5353

for who in $OTHER root; do
	free "uid $(lib__uid "$who") unaffected: tcp/22 v4" "$who" tcp $N4 22 $H4
	free "uid $(lib__uid "$who") unaffected: tcp/22 v6" "$who" tcp $N6 22 $H6
	free "uid $(lib__uid "$who") unaffected: tcp/80 to $X4" "$who" tcp $X4 80
	free "uid $(lib__uid "$who") unaffected: tcp/8080 v6" "$who" tcp $N6 8080
	free "uid $(lib__uid "$who") unaffected: udp/124 to $X6" "$who" udp $X6 124
	free "uid $(lib__uid "$who") unaffected: icmp" "$who" icmp $N4
	free "uid $(lib__uid "$who") unaffected: icmpv6" "$who" icmp $N6
	free "uid $(lib__uid "$who") unaffected: tcp/6000 on 127.0.0.1" "$who" tcp 127.0.0.1 6000
	free "uid $(lib__uid "$who") unaffected: tcp/6000 on ::1" "$who" tcp ::1 6000
done

# The documented fwmark: every packet jailfw accepts for a jail carries it.
m0=$(marked)
u0=$(unmarked)
lib_reach $JAIL tcp $N6 443 >/dev/null
m1=$(marked)
u1=$(unmarked)
if [ "$m1" -gt "$m0" ] && [ "$u1" = "$u0" ]; then
	pass "fwmark 0x00200000 set on the jail's accepted packets"
else
	fail "fwmark 0x00200000 set on the jail's accepted packets" \
		"marked $m0 -> $m1 (want more), unmarked $u0 -> $u1 (want equal)"
fi

check_same "foreign table unchanged by apply" "$LIB_TMP/other.before" \
	<(nft list table inet other)

# ---------------------------------------------------------------- policy 2

# Re-applying a changed policy: 22 and 6000 now pass, 443 and 5353 no longer
# do, 8080 gains IPv6.
P2=$LIB_TMP/web2.conf
cat >"$P2" <<'EOF'
# uid-traffic: the jail "web", changed
jail web {
	backend uid
	user 1099
	allow udp/123
	allow tcp/22,80 to 192.0.2.0/24, 2001:db8:1::/64
	allow tcp/8080 to 192.0.2.0/24, 2001:db8:1::/64
	allow tcp/6000 to host
}
EOF
check "apply policy 2 (changed)" "$JAILFW" apply "$P2"
allowed "changed: tcp/22 v4 now arrives" tcp $N4 22 $H4
allowed "changed: tcp/22 v6 now arrives" tcp $N6 22 $H6
allowed "changed: tcp/8080 v6 now arrives" tcp $N6 8080 $H6
allowed "changed: tcp/6000 on 127.0.0.1 now arrives" tcp 127.0.0.1 6000
allowed "changed: tcp/80 v4 still arrives" tcp $N4 80 $H4
blocked "changed: tcp/443 v4 now dropped" tcp $N4 443
blocked "changed: tcp/443 v6 now dropped" tcp $N6 443
blocked "changed: tcp/5353 on 127.0.0.1 now dropped" tcp 127.0.0.1 5353
check_same "foreign table unchanged by re-apply" "$LIB_TMP/other.before" \
	<(nft list table inet other)

# docs/design.md, "The pipeline": a second apply of the same policy changes
# nothing in the kernel and keeps the counters.
lib_probe $JAIL tcp $N4 443
nft list table inet jailfw >"$LIB_TMP/same.before" 2>&1
check "apply policy 2 again (unchanged)" "$JAILFW" apply "$P2"
check_same "re-applying the same policy keeps the table and its counters" \
	"$LIB_TMP/same.before" <(nft list table inet jailfw 2>&1)

# ---------------------------------------------------------------- kernel refusal

# The test-only fault hook makes the transaction fail inside the kernel: the
# table in force before must stay exactly as it was, rules and counters.
nft list table inet jailfw >"$LIB_TMP/jailfw.before" 2>&1
check "policy 2's table is loaded before the refused commit" nft list table inet jailfw
check_exit "refused commit exits 3" 3 env JAILFW_TEST_FAULT=nft-commit "$JAILFW_TESTHOOKS" apply "$P1"
check_same "refused commit leaves the previous table as it was" "$LIB_TMP/jailfw.before" \
	<(nft list table inet jailfw)
allowed "refused commit: tcp/22 v4 still arrives (policy 2 in force)" tcp $N4 22 $H4
blocked "refused commit: tcp/443 v4 still dropped (policy 2 in force)" tcp $N4 443

# ---------------------------------------------------------------- bad policies

# bad_policy NAME FILE LINE [WORD]: apply exits 1 with "FILE:LINE:COL: error:"
# (mentioning WORD) and the kernel's ruleset is byte-identical afterwards.
bad_policy()
{
	local name=$1 file=$2 line=$3 word=${4:-} base

	base=$(basename "$file")
	nft list ruleset >"$LIB_TMP/ruleset.before"
	check_exit "$name: apply exits 1" 1 "$JAILFW" apply "$file"
	check_match "$name: located error" "$LIB_ERR" \
		"(^|/)${base//./\\.}:$line:[0-9]+: error:${word:+.*$word}"
	check_same "$name: ruleset unchanged" "$LIB_TMP/ruleset.before" <(nft list ruleset)
}

B1=$LIB_TMP/bad-syntax.conf
cat >"$B1" <<'EOF'
jail web {
	backend uid
	user 1099
	allow tcp/80 to ,
}
EOF
bad_policy "syntax error" "$B1" 4

B2=$LIB_TMP/bad-proto.conf
cat >"$B2" <<'EOF'
jail web {
	backend uid
	user 1099
	allow udp/123
	allow tpc/80
}
EOF
bad_policy "unknown protocol" "$B2" 5 tpc

B3=$LIB_TMP/bad-uid0.conf
cat >"$B3" <<'EOF'
jail web {
	backend uid
	user 0
	allow udp/123
}
EOF
bad_policy "uid 0" "$B3" 3

# ---------------------------------------------------------------- privilege

nft list ruleset >"$LIB_TMP/ruleset.before"
check_exit "apply without CAP_NET_ADMIN (root, bounding set) exits 4" 4 \
	setpriv --inh-caps=-all --bounding-set=-net_admin -- "$JAILFW" apply "$P1"
check_match "apply without CAP_NET_ADMIN names it" "$LIB_ERR" CAP_NET_ADMIN
check_exit "apply as uid $OTHER exits 4" 4 lib_as $OTHER "$JAILFW" apply "$P1"
check_match "apply as uid $OTHER names CAP_NET_ADMIN" "$LIB_ERR" CAP_NET_ADMIN
check_same "apply without privilege changes nothing" "$LIB_TMP/ruleset.before" <(nft list ruleset)
blocked "without privilege: policy 2 still in force (tcp/443 dropped)" tcp $N4 443

# ---------------------------------------------------------------- down

check "down POLICY" "$JAILFW" down "$P2"
check "down removed table inet jailfw" table_gone
check_same "foreign table unchanged by down" "$LIB_TMP/other.before" \
	<(nft list table inet other)
check "down left table inet marks" nft list table inet marks
reaches "after down: uid $JAIL reaches tcp/443 again" $JAIL tcp $N4 443 $H4
reaches "after down: uid $JAIL reaches $X6 again" $JAIL tcp $X6 80
reaches "after down: uid $JAIL pings again" $JAIL icmp $N6
reaches "after down: uid $JAIL reaches tcp/5353 on ::1 again" $JAIL tcp ::1 5353
u0=$(unmarked)
lib_reach $JAIL tcp $N4 22 >/dev/null
check "after down: the jail's packets are no longer marked" test "$(unmarked)" -gt "$u0"
check "down again (nothing to remove) exits 0" "$JAILFW" down "$P2"

check "apply policy 1 again" "$JAILFW" apply "$P1"
blocked "re-applied: tcp/22 dropped again" tcp $N4 22
check "down without POLICY" "$JAILFW" down
check "down without POLICY removed table inet jailfw" table_gone
check_same "foreign table unchanged at the end" "$LIB_TMP/other.before" \
	<(nft list table inet other)

lib_done
