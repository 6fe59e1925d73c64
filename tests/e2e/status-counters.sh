#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Counters survive apply.  The same policy applied again keeps every
# counter (the table is not reloaded).  A changed policy is reloaded, and
# every jail whose configuration did not change keeps its counters, rule by
# rule, even when its lines moved in the file: here jail db's allowlist
# changes and a comment line shifts every line of the file.  db's chain
# starts from zero (its counts described the old allowlist), web's and
# box's go on counting from where they were.  A jail chain edited by hand
# since the last apply is not carried over.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       listeners (dual stack): tcp 22 80 443 8080, udp 123
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jails "web" (1099) and "db" (1100)
#       |
#     box-out 10.97.10.1/24
#       |
#     box-in 10.97.10.2
#   [ jail "box" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
N4=192.0.2.2

# rule_counters CHAIN: "PACKETS/BYTES" of every counted rule of the chain,
# in order, from nft's own listing.
rule_counters()
{
	nft -j list chain inet $T "$1" 2>/dev/null | "$LIB_PY" -I -c '
import json, sys
out = []
for obj in json.load(sys.stdin).get("nftables", []):
    for e in obj.get("rule", {}).get("expr", []):
        if "counter" in e and isinstance(e["counter"], dict):
            out.append("%d/%d" % (e["counter"]["packets"], e["counter"]["bytes"]))
print(" ".join(out))
'
}

# all_counters: every jail chain's rule counters, one line per chain.
all_counters()
{
	local c

	for c in uid_web uid_db fwd_box fwdto_box in_box; do
		echo "$c: $(rule_counters $c)"
	done
}

nonzero()
{
	[ -n "$1" ] && [ "$(echo "$1" | tr ' /' '\n\n' | sort -un | tail -n 1)" -gt 0 ]
}

policy()
{
	local f=$1 dbport=$2 pad=$3

	{
		echo "# status-counters"
		[ -z "$pad" ] || printf '# one more line: every line below moves down\n'
		printf 'settings {\n\twan wan0\n}\n'
		printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow udp/123\n}\n'
		printf 'jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/%s\n}\n' "$dbport"
		printf 'jail box {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tallow tcp/443\n}\n'
	} >"$f"
}

traffic()
{
	check_reach "$1: web udp/123 arrives" 1099 udp $N4 123
	check_dropped "$1: web tcp/80 is dropped" $T uid_web 1099 tcp $N4 80
	check_reach "$1: db tcp/80 arrives" 1100 tcp $N4 80
	check_dropped "$1: db udp/123 is dropped" $T uid_db 1100 udp $N4 123
	check_reach_ns "$1: box tcp/443 arrives" box tcp $N4 443
	check_dropped_ns "$1: box tcp/22 is dropped" $T fwd_box box tcp $N4 22
}

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:80" "tcp:[::]:443" "tcp:[::]:8080" \
	"udp:[::]:123" || lib_bail "listeners in net"

P1=$LIB_TMP/p1.conf
P2=$LIB_TMP/p2.conf
policy "$P1" 80 ""
policy "$P2" "80,8080" pad

check "apply" "$JAILFW" apply "$P1" || lib_bail "apply failed"
lib_wait_for 10 lib_no_tentative box || lib_bail "box did not settle"
ip netns exec box sysctl -qw net.ipv6.conf.box-in.router_solicitations=0
traffic "first policy"
all_counters >"$LIB_TMP/c0"
check_match "first policy: web's rules name line 5" "$(nft list chain inet $T uid_web)" \
	'comment "p1\.conf:5"'
for c in uid_web uid_db fwd_box; do
	check "first policy: $c counted something" nonzero "$(rule_counters $c)"
done

# ---------------------------------------------------------------- the same policy

check_exit "the same policy again" 0 "$JAILFW" apply "$P1"
check_match "the same policy again: not reloaded" "$LIB_OUT" "^jailfw: no changes "
all_counters >"$LIB_TMP/c1"
check_same "the same policy again: every counter kept" "$LIB_TMP/c0" "$LIB_TMP/c1"

# ---------------------------------------------------------------- a changed policy

GEN0=$(nft list ruleset | md5sum)
check_exit "db's allowlist changed, every line moved" 0 "$JAILFW" apply "$P2"
check_match "changed policy: the table was reloaded" "$LIB_OUT" \
	"^jailfw: applied [0-9]+ changes? .*; ruleset reloaded\)$"
check "changed policy: the ruleset is different" test "$(nft list ruleset | md5sum)" != "$GEN0"
check_match "changed policy: web's rules name its new line 6" \
	"$(nft list chain inet $T uid_web)" 'comment "p2\.conf:6"'
for c in uid_web fwd_box fwdto_box in_box; do
	check_eq "changed policy: $c kept every counter" "$(rule_counters $c)" \
		"$(sed -n "s/^$c: //p" "$LIB_TMP/c0")"
done
check_eq "changed policy: db's chain starts from zero" "$(rule_counters uid_db)" "0/0 0/0"
check_reach "changed policy: db's new tcp/8080 arrives" 1100 tcp $N4 8080

# Carried counters go on counting from where they were.
W0=$(lib_nft_counter $T uid_web drop)
check_dropped "changed policy: web tcp/80 still dropped" $T uid_web 1099 tcp $N4 80
check "changed policy: web's drop counter went on from $W0" \
	test "$(lib_nft_counter $T uid_web drop)" -gt "$W0"
check_eq "changed policy: status agrees with nft for web" \
	"$("$JAILFW" status --json | lib_json \
		'" ".join(str(j[k]["packets"]) for j in d["jails"] if j["name"] == "web" for k in ("accepted", "dropped"))')" \
	"$(lib_nft_jail_counters $T uid_web | awk '{ print $1, $3 }')"

# ---------------------------------------------------------------- hand edits

# web's chain edited by hand: its counts no longer describe jailfw's rules.
all_counters >"$LIB_TMP/c2"
nft insert rule inet $T uid_web meta l4proto icmp counter accept || lib_bail "nft insert rule"
nft add element inet $T uid_ports '{ 1100 . tcp . 22 : jump dst_any }' || lib_bail "nft add element"
check_exit "back to the first policy, after hand edits" 0 "$JAILFW" apply "$P1"
check_eq "hand edits: the edited chain uid_web starts from zero" "$(rule_counters uid_web)" \
	"0/0 0/0"
check_eq "hand edits: db changed back, starts from zero" "$(rule_counters uid_db)" "0/0 0/0"
for c in fwd_box fwdto_box in_box; do
	check_eq "hand edits: $c (not edited) kept every counter" "$(rule_counters $c)" \
		"$(sed -n "s/^$c: //p" "$LIB_TMP/c2")"
done
check_exit "hand edits: status is clean again" 0 "$JAILFW" status

lib_done
