#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# uid backend, end to end: the rule language as the kernel enforces it.
# Two jails side by side; overlapping rules on one port with different
# destinations (port segmentation), port ranges and their boundaries, whole
# protocols (tcp with no ports, icmp, icmpv6), templates from the policy and
# from the template path, a user given by name.  Each jail gets exactly its
# own rules, never the other jail's.
#
#   [ sandbox netns = "host" ]  wan0 ---veth--- eth0  [ netns "net" = the internet ]
#     192.0.2.1/24      2001:db8:1::1/64              192.0.2.2/24      2001:db8:1::2/64
#     198.51.100.1/24   2001:db8:2::1/64              198.51.100.2/24   2001:db8:2::2/64
#     lo: listener tcp 6000                           listeners (dual stack): tcp 22 80
#     jail "a" = uid 1099, jail "b" = user nobody       443 1024 1025 8080, udp 123 1999
#     (65534); root is not jailed                       2000 2500 3000 3001

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

A=1099
B=$(id -u nobody 2>/dev/null) || lib_bail "no user nobody"
N4=192.0.2.2
N6=2001:db8:1::2
X4=198.51.100.2
X6=2001:db8:2::2

lib_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:80" "tcp:[::]:443" "tcp:[::]:1024" \
	"tcp:[::]:1025" "tcp:[::]:8080" "udp:[::]:123" "udp:[::]:1999" "udp:[::]:2000" \
	"udp:[::]:2500" "udp:[::]:3000" "udp:[::]:3001" || lib_bail "listeners in net"
lib_serve "" local "tcp:[::]:6000" || lib_bail "listener on the host"

P=$LIB_TMP/rules.conf
cat >"$P" <<'EOF'
# uid-rules
template web-out {
	allow tcp/443
}

jail a {
	backend uid
	user 1099
	allow tcp/80 to 192.0.2.0/24
	allow tcp/1-1024 to 198.51.100.0/24
	allow tcp/80 to 2001:db8:2::/64
	allow icmp
	use ntp
}

jail b {
	backend uid
	user nobody
	allow tcp
	allow icmpv6
	use web-out
	allow udp/2000-3000 to 192.0.2.2
}
EOF

check "check the policy" "$JAILFW" check "$P"
check "apply the policy" "$JAILFW" apply "$P"

a_ok()
{
	local name=$1

	shift
	check_allowed "a: $name" jailfw uid_a "$A" "$@"
}

a_no()
{
	local name=$1

	shift
	check_dropped "a: $name" jailfw uid_a "$A" "$@"
}

b_ok()
{
	local name=$1

	shift
	check_allowed "b: $name" jailfw uid_b "$B" "$@"
}

b_no()
{
	local name=$1

	shift
	check_dropped "b: $name" jailfw uid_b "$B" "$@"
}

# Jail a: tcp/80 has two rules (192.0.2.0/24 and 2001:db8:2::/64) and lies in
# a third (1-1024 to 198.51.100.0/24): all three destinations, nothing else.
a_ok "tcp/80 to $N4 (first rule)" tcp $N4 80 192.0.2.1
a_ok "tcp/80 to $X4 (range rule)" tcp $X4 80 198.51.100.1
a_ok "tcp/80 to $X6 (third rule)" tcp $X6 80 2001:db8:2::1
a_no "tcp/80 to $N6 (no rule)" tcp $N6 80
a_ok "tcp/22 to $X4 (inside the range)" tcp $X4 22
a_no "tcp/22 to $N4 (range is for 198.51.100.0/24 only)" tcp $N4 22
a_ok "tcp/1024 to $X4 (range upper bound)" tcp $X4 1024
a_no "tcp/1025 to $X4 (just past the range)" tcp $X4 1025
a_no "tcp/8080 to $X4 (outside the range)" tcp $X4 8080
a_ok "icmp echo to $N4" icmp $N4
a_no "icmpv6 echo to $N6 (icmp is IPv4 only)" icmp $N6
a_ok "udp/123 to $N6 (template ntp from the template path)" udp $N6 123
a_ok "udp/123 to $X4 (template ntp)" udp $X4 123
a_no "udp/2500 to $N4 (b's rule, not a's)" udp $N4 2500
a_no "tcp/443 to $N4 (b's template, not a's)" tcp $N4 443

# Jail b: every tcp port anywhere but the host, icmpv6, udp 2000-3000 to one
# address.
b_ok "tcp/22 to $N4 (allow tcp, no ports)" tcp $N4 22
b_ok "tcp/8080 to $X6 (allow tcp, no ports)" tcp $X6 8080
b_ok "tcp/443 to $N6 (template web-out, also covered by tcp)" tcp $N6 443
b_no "tcp/6000 on 127.0.0.1 (no 'to' excludes the host)" tcp 127.0.0.1 6000
b_ok "icmpv6 echo to $N6" icmp $N6
b_no "icmp echo to $N4 (icmpv6 is IPv6 only)" icmp $N4
b_ok "udp/2000 to $N4 (range lower bound)" udp $N4 2000
b_ok "udp/2500 to $N4" udp $N4 2500
b_ok "udp/3000 to $N4 (range upper bound)" udp $N4 3000
b_no "udp/1999 to $N4 (just before the range)" udp $N4 1999
b_no "udp/3001 to $N4 (just past the range)" udp $N4 3001
b_no "udp/2500 to $X4 (range is for 192.0.2.2 only)" udp $X4 2500
b_no "udp/2500 to $N6 (range is for IPv4 192.0.2.2 only)" udp $N6 2500
b_no "udp/123 to $N4 (a's template, not b's)" udp $N4 123

# One jail's drops are its own: a dropped packet of a's moves a's counter,
# not b's.
b0=$(lib_nft_counter jailfw uid_b drop)
lib_probe $A tcp $N4 8080
check_eq "a's drop does not count in b's chain" "$(lib_nft_counter jailfw uid_b drop)" "$b0"

check_free "root unaffected: udp/3001" jailfw uid_a root udp $N4 3001
check_free "root unaffected: tcp/6000 on ::1" jailfw uid_b root tcp ::1 6000

check "down" "$JAILFW" down "$P"
check_reach "after down: a reaches tcp/8080" $A tcp $N4 8080
check_reach "after down: b reaches udp/123" $B udp $N4 123

# ------------------------------------------------- a user *named* like a uid

# libnftables reads every uid of the text as a user name first: with a user
# named "1099" (uid 1234) in the user database, the element "1099" would
# become uid 1234, confining the wrong account and leaving uid 1099 free.
# jailfw keeps uids numeric while libnftables parses its text.  The user
# database is a copy bind-mounted over /etc/passwd in the sandbox's own
# mount namespace, for the apply only: setpriv, which runs the probes, has
# the same ambiguity.
cp /etc/passwd "$LIB_TMP/passwd" && echo "1099:x:1234:1234::/nonexistent:/usr/sbin/nologin" \
	>>"$LIB_TMP/passwd" && chmod 0644 "$LIB_TMP/passwd" &&
	mount --bind "$LIB_TMP/passwd" /etc/passwd || lib_bail "cannot cover /etc/passwd"
check_eq "numeric user name: the user database has user \"1099\" as uid 1234" \
	"$(getent passwd | grep '^1099:' | cut -d: -f3)" "1234"
check "numeric user name: apply" "$JAILFW" apply "$P"
umount /etc/passwd || lib_bail "cannot uncover /etc/passwd"
check_eq "numeric user name: the kernel dispatches uid 1099 (not 1234)" \
	"$(nft -j list map inet jailfw uid_jails |
		lib_json '[e[0]["elem"]["val"] for x in d["nftables"] if "map" in x for e in x["map"]["elem"]]' |
		tr -d ' ')" "[1099,$B]"
check_dropped "numeric user name: uid 1099 is confined (tcp/8080)" jailfw uid_a $A tcp $N4 8080
check_reach "numeric user name: uid 1099's tcp/80 arrives" $A tcp $N4 80
check "numeric user name: down" "$JAILFW" down "$P"

lib_done
