#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw status with netns jails: counters of real traffic (forwarded,
# to the host, anti-spoofing drops) exactly as nft counts them; the host
# link, its addresses and the namespace as they are; and drift from what
# jailfw applied, each named on its own line with exit status 1: a link
# set down, an address removed, a forwarding sysctl reverted, a namespace
# deleted, a namespace replaced by one jailfw did not make.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       lo   198.51.100.1  203.0.113.1  203.0.113.7 ...
#                       listeners (dual stack): tcp 22 443
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; listener udp 53 (for "to host")
#       |                                |
#     box-out                          other-out
#     10.97.10.1/24 fd00:97::3:1/112   10.97.11.1/24
#       |                                |
#     box-in 10.97.10.2 fd00:97::3:2   other-in 10.97.11.2
#     (later also 10.99.0.5: spoofed)
#   [ jail "box" ]                   [ jail "other" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
N4=192.0.2.2
N6=2001:db8:1::2
S4=203.0.113.7
JH4=10.97.10.1

# status_counts JAIL [FLOW]: "ACC_PKTS ACC_BYTES DROP_PKTS DROP_BYTES" from
# status --json: the jail's totals, or one flow (out, host, inbound).
status_counts()
{
	local sel="j"

	[ -n "${2:-}" ] && sel="j['flows']['$2']"
	"$JAILFW" status --json | lib_json \
		"' '.join(str(x) for j in d['jails'] if j['name'] == '$1' for f in [$sel] for x in
		 (f['accepted']['packets'], f['accepted']['bytes'], f['dropped']['packets'],
		  f['dropped']['bytes']))"
}

# nft_counts JAIL: the same totals from nft's own counters: fwd_JAIL + in_JAIL.
nft_counts()
{
	local a b

	read -r -a a <<<"$(lib_nft_jail_counters $T "fwd_$1")"
	read -r -a b <<<"$(lib_nft_jail_counters $T "in_$1")"
	echo "$((a[0] + b[0])) $((a[1] + b[1])) $((a[2] + b[2])) $((a[3] + b[3]))"
}

# same_counts NAME JAIL: status agrees with nft, for the totals and for
# the forwarded flow alone.  A jail's kernel may still send a multicast
# listener report now and then: compare only between two equal nft reads.
same_counts()
{
	local name=$1 jail=$2 i a b c fa fb

	for i in 1 2 3 4 5; do
		a=$(nft_counts "$jail")
		fa=$(lib_nft_jail_counters $T "fwd_$jail")
		b=$(status_counts "$jail")
		fb=$(status_counts "$jail" out)
		c=$(nft_counts "$jail")
		[ "$a" = "$c" ] && break
		sleep 1
	done
	check_eq "$name: status --json totals equal nft's (fwd_$jail + in_$jail)" "$b" "$a"
	check_eq "$name: its forwarded flow equals nft's fwd_$jail" "$fb" "$fa"
}

drifted()
{
	check_exit "$1: status exits 1" 1 "$JAILFW" status
	check_match "$1: status names it" "$LIB_OUT" "^drift: $2"
}

clean()
{
	check_exit "$1: status exits 0" 0 "$JAILFW" status
	check_eq "$1: no drift line" "$(printf '%s\n' "$LIB_OUT" | grep -c '^drift:')" 0
}

settle()
{
	local ns

	for ns in "" "$@"; do
		lib_wait_for 10 lib_no_tentative "$ns" || return 1
	done
	for ns in "$@"; do
		ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ns-in.router_solicitations=0" || return 1
	done
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:443" || lib_bail "listeners in net"
for s in net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0; do
	sysctl -qw "$s" || lib_bail "sysctl $s"
done
check_eq "before apply: IPv4 forwarding is off" "$(sysctl -n net.ipv4.conf.all.forwarding)" 0

P=$LIB_TMP/status-netns.conf
cat >"$P" <<'EOF'
# status-netns
settings {
	wan wan0
}
jail box {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/443
	allow udp/53 to host
}
jail other {
	backend netns
	ipv4 10.97.11.0/24
	allow tcp/443
}
EOF

check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
settle box other || lib_bail "the jails did not settle"
lib_serve "" host "udp:$JH4:53" || lib_bail "listener on the host"
lib_ns_allow_ping box || lib_bail "ping_group_range in box"

clean "after apply"
check_match "after apply: box-out up with its addresses, namespace ok" "$LIB_OUT" \
	"^box +netns +[0-9]+/[0-9]+ +[0-9]+/[0-9]+ +box-out up( [^ ]+)* 10\.97\.10\.1/24( [^ ]+)* fd00:97::3:1/112.*, netns ok$"
check_match "after apply: other is listed" "$LIB_OUT" "^other +netns .* other-out up .*, netns ok$"
# other has no IPv6: its host end gets no IPv6 address at all (no
# link-local the jail could reach, none of the kernel's IPv6 route walks);
# box's host end keeps its own and a link-local one.
check_eq "after apply: other-out (no ipv6 in the jail) has no IPv6 address" \
	"$(ip -6 -o addr show dev other-out | wc -l)" 0
check_match "... while box-out has fd00:97::3:1" "$(ip -6 -o addr show dev box-out)" "inet6 fd00:97::3:1/"
check_match "... and a link-local address" "$(ip -6 -o addr show dev box-out)" "inet6 fe80::"
check_eq "--json: box's link and namespace" \
	"$("$JAILFW" status --json | lib_json '[[j["link"]["name"], j["link"]["up"],
		j["link"]["jailfw"], j["namespace"]["present"], j["namespace"]["jailfw"],
		j["prefixes"]] for j in d["jails"] if j["name"] == "box"][0]')" \
	'["box-out", true, true, true, true, ["10.97.10.0/24", "fd00:97::3:0/112"]]'
check_eq "--json: the sysctls jailfw set, as they are now" \
	"$("$JAILFW" status --json | lib_json \
		'[[s["set"], s["now"]] for s in d["sysctls"] if s["key"] == "net.ipv4.conf.wan0.forwarding"]')" \
	'[["1", "1"]]'

# ---------------------------------------------------------------- counters

check_reach_ns "box: tcp/443 v4 arrives" box tcp $N4 443
check_reach_ns "box: tcp/443 v6 arrives" box tcp $N6 443
check_reach_ns "box: udp/53 to the host arrives" box udp $JH4 53
check_dropped_ns "box: tcp/22 is dropped" $T fwd_box box tcp $N4 22
same_counts "box after traffic" box
read -r -a C <<<"$(status_counts box)"
check "box: accepted packets counted" test "${C[0]:-0}" -ge 4
check "box: dropped packets counted" test "${C[2]:-0}" -ge 1
check "box: traffic to the host is counted in its host flow" \
	test "$(status_counts box host | cut -d' ' -f1)" -ge 1

# Spoofed source: dropped by the anti-spoofing rule, counted as dropped.
ip -n box addr add 10.99.0.5/32 dev box-in || lib_bail "address 10.99.0.5 in box"
ip -n box route add $S4/32 via $JH4 src 10.99.0.5 || lib_bail "spoofing route in box"
D0=$(status_counts box | cut -d' ' -f3)
check_dropped_rule_ns "box: spoofed source 10.99.0.5 dropped" $T fwd_box \
	"ip saddr != 10.97.10.2 .*anti-spoofing" box tcp $S4 443
check "box: the anti-spoofing drop is in status' dropped count" \
	test "$(status_counts box | cut -d' ' -f3)" -gt "$D0"
same_counts "box after spoofing" box
same_counts "other, no traffic" other

# ---------------------------------------------------------------- drift

# The host side taken down (IPv6 drops its addresses with it).
ip link set box-out down || lib_bail "link down"
drifted "box-out down" "jail box: interface box-out is down$"
check_match "box-out down: the jail's line says so" "$LIB_OUT" "^box +netns .* box-out down"
check_eq "box-out down: --json kind" \
	"$("$JAILFW" status --json | lib_json '"link-down" in [x["kind"] for x in d["drift"]]')" true
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after link down"

# An address removed.
ip addr del 10.97.10.1/24 dev box-out || lib_bail "address delete"
drifted "address removed" "jail box: interface box-out lacks its address 10\.97\.10\.1/24$"
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after the address"

# A sysctl jailfw set, set back.
sysctl -qw net.ipv4.conf.wan0.forwarding=0 || lib_bail "sysctl"
drifted "forwarding reverted" "sysctl net\.ipv4\.conf\.wan0\.forwarding is 0; jailfw set 1 \(it was 0\)$"
check_eq "forwarding reverted: --json" \
	"$("$JAILFW" status --json | lib_json \
		'[[x["kind"], x["jail"]] for x in d["drift"]]')" \
	'[["sysctl-reverted", null]]'
sysctl -qw net.ipv4.conf.wan0.forwarding=1 || lib_bail "sysctl"
clean "forwarding back on"

# Namespaces: one deleted, the other replaced by one jailfw did not make.
ip netns del box || lib_bail "ip netns del box"
drifted "namespace deleted" "jail box: namespace /run/netns/box is gone$"
ip netns del other || lib_bail "ip netns del other"
ip netns add other || lib_bail "ip netns add other"
lib_defer ip netns del other
drifted "namespace replaced" "jail other: /run/netns/other is another namespace than the one jailfw made"
check_eq "namespaces: --json kinds, one per jail" \
	"$("$JAILFW" status --json | lib_json \
		'sorted([x["kind"], x["jail"]] for x in d["drift"] if x["kind"].startswith("namespace"))')" \
	'[["namespace-missing", "box"], ["namespace-replaced", "other"]]'
check_eq "namespaces: status -q prints only drift lines" \
	"$("$JAILFW" -q status | grep -vc '^drift: ')" 0

lib_done
