#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Concurrent applies are serialised: ten applies of two different policies
# started at once end in exactly one of them, whole (diff finds nothing to
# change for it), with no duplicate rule, no orphaned link and no stray
# namespace; a busy lock makes --no-wait exit 75 and changes nothing.
#
#   [ sandbox netns = "host" ]
#     jailfw runs here, ten times at once
#       |                         |
#     a-out / b-out             shared-out
#   [ jail "a" or "b" ]       [ jail "shared" ]    (a in policy A, b in B)

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

write_policy() # NAME TEXT
{
	printf '%s\n' "$2" >"$LIB_TMP/$1"
	chmod 0644 "$LIB_TMP/$1"
}

write_policy A.conf 'jail shared {
	backend netns
	ipv4 10.97.20.0/24
	allow tcp/443
}
jail a {
	backend netns
	ipv4 10.97.21.0/24
	allow udp/123
}
jail webuid {
	backend uid
	user 1099
	allow tcp/80
}'
write_policy B.conf 'jail shared {
	backend netns
	ipv4 10.97.20.0/24
	allow tcp/443,8443
}
jail b {
	backend netns
	ipv4 10.97.22.0/24
	ipv6 fd00:97:22::/112
	allow udp/53
}
jail webuid {
	backend uid
	user 1099
	allow tcp/80,443
}'

pids=()
for i in 0 1 2 3 4 5 6 7 8 9; do
	if [ $((i % 2)) -eq 0 ]; then p=A.conf; else p=B.conf; fi
	"$JAILFW" -q apply "$LIB_TMP/$p" >"$LIB_TMP/out.$i" 2>&1 &
	pids+=($!)
done
failed=0
why=
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		failed=$((failed + 1))
		why+="apply $i: $(cat "$LIB_TMP/out.$i")"$'\n'
	fi
done
check_eq "ten concurrent applies: every one succeeds (they wait for the lock)" "$failed" 0 ||
	printf '%s' "$why" | sed 's/^/        | /'


"$JAILFW" diff "$LIB_TMP/A.conf" >/dev/null 2>&1
da=$?
"$JAILFW" diff "$LIB_TMP/B.conf" >/dev/null 2>&1
db=$?
check_eq "exactly one policy is in force, whole (diff exit codes A/B)" \
	"$( { [ $da -eq 0 ] && [ $db -eq 1 ]; } || { [ $da -eq 1 ] && [ $db -eq 0 ]; } && echo one || echo "A=$da B=$db")" one
if [ $da -eq 0 ]; then winner=a loser=b; else winner=b loser=a; fi

check_eq "one jailfw table" "$(nft list tables | grep -c 'inet jailfw')" 1
dups=$(nft list table inet jailfw | grep -v '^\s*$' | sed 's/counter packets [0-9]* bytes [0-9]*/counter/' |
	grep -E '^\s+(chain|map|set) ' | sort | uniq -d)
check_eq "no duplicate chain, set or map" "$dups" ""
dup_rules=$(nft list chain inet jailfw fwd_shared | grep -c 'jump net_common')
check_eq "the shared jail's chain has its rules once" "$dup_rules" 1
check_eq "namespaces: shared and the winner ($winner) only" \
	"$(ip netns list | awk '{print $1}' | sort | tr '\n' ' ')" "$(printf '%s\n' shared $winner | sort | tr '\n' ' ')"
host_veths() { ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ' '; }
want_veths=$(printf '%s\n' shared-out $winner-out | sort | tr '\n' ' ')
# The loser's host veth goes with its namespace, which the kernel frees
# asynchronously in one work queue for the whole machine (fault-kill.sh):
# wait for it, up to 30 s; one that stays is still a failure.
lib_wait_for 30 eval '[ "$(host_veths)" = "$want_veths" ]'
check_eq "host links: shared-out and $winner-out only, one each" "$(host_veths)" "$want_veths"
check_fails "the loser's namespace is not there" test -e /run/netns/$loser

# --no-wait while another holds the lock: 75, nothing changed.
# Links by name, their addresses, namespaces, the ruleset without counter
# values: carrier, operstate and link-local addresses settle on their own
# (linkwatch, IPv6 autoconf) a moment after a link comes up.
snapshot()
{
	nft -s list ruleset
	ip -o link show | awk '{print $2}'
	ip -o addr show | awk '$4 !~ /^fe80:/ {print $2, $4}'
	ls /run/netns
}
before=$(snapshot)
flock /run/jailfw/lock sh -c "touch '$LIB_TMP/held'; while [ ! -e '$LIB_TMP/release' ]; do sleep 0.1; done" &
holder=$!
lib_defer kill "$holder"
lib_wait_for 5 test -e "$LIB_TMP/held" || lib_bail "flock did not take /run/jailfw/lock"
other=A.conf
[ $winner = a ] && other=B.conf
check_exit "--no-wait while the lock is held: exit 75" 75 "$JAILFW" apply --no-wait "$LIB_TMP/$other"
check_match "... naming the lock" "$LIB_ERR$LIB_OUT" "holds /run/jailfw/lock"
after=$(snapshot)
check_eq "... and nothing changed" "$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after"))" ""
touch "$LIB_TMP/release"
wait "$holder"

check "down" "$JAILFW" -q down
check_eq "down: no namespace left" "$(ip netns list)" ""
lib_done
