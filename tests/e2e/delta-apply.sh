#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The delta apply (docs/ruleset.md, "Delta apply"): when the table in force
# is the one jailfw committed last, apply changes only the chains and
# elements that differ, in one transaction.  The traffic outcome changes
# for the jail that changed; the other jails' chains keep their rule
# handles and counters (nft as the observer); a jail added and one removed
# go the same way; a hand edit of the table (the ruleset generation moved)
# makes the next apply a full replace that restores the policy; a jail
# keeps counting while another changes 100 times; and jailfw killed at
# each step of a delta apply leaves every jail confined, the next apply
# converging.  Then the same for netns jails, whose namespaces and veths
# come and go around the delta (and whose arp table's elements change
# with it): one added, one removed, each a delta; the other netns jail's
# chains keep their handles and counters and its TCP stream its conntrack
# entry; the new jail's destination set renames no other jail's; the new
# jail is confined, the removed one's namespace, veth and arp elements
# gone; and a kill at every step of the add and of the remove converges.
#
#   [ sandbox netns = "host" ]  wan0 ---veth--- eth0  [ netns "net" = the internet ]
#     192.0.2.1/24                                  192.0.2.2/24
#     jailfw runs here; uid jails:                  listeners: tcp 22 80 443 8080,
#       web  1099 (allowlist changes)                 a stream sink on tcp 9000
#       db   1100 (never changes: the observed one)
#       old  1101 (removed), new 1102 (added)
#     netns jails (part 6), masqueraded out of wan0:
#       keep-out 10.97.50.1/30 --- keep-in 10.97.50.2  [ keep ] a stream to tcp/9000
#       nold-out 10.97.51.1/30 --- nold-in 10.97.51.2  [ nold ] tcp/80 (removed)
#       nnew-out 10.97.52.1/30 --- nnew-in 10.97.52.2  [ nnew ] tcp/443 to 192.0.2.2 (added)

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"
lib_use_testhooks

N4=192.0.2.2
P=$LIB_TMP/policy.conf

# policy WEB_PORTS [with-new]: web allows tcp/WEB_PORTS; db tcp/443; old
# tcp/80, or (with-new) new tcp/443 in old's place.
policy()
{
	{
		printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/%s to 192.0.2.0/24\n}\n' "$1"
		printf 'jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/443\n}\n'
		if [ "${2:-}" = with-new ]; then
			printf 'jail new {\n\tbackend uid\n\tuser 1102\n\tallow tcp/443\n}\n'
		else
			printf 'jail old {\n\tbackend uid\n\tuser 1101\n\tallow tcp/80\n}\n'
		fi
	} >"$P"
}

# The db jail's chain as nft lists it with handles and counters.
db_chain()
{
	nft -a list chain inet jailfw uid_db
}

# The packets of db's counted jump (every packet of uid 1100 passes it).
db_count()
{
	lib_nft_counter jailfw uid_db jump
}

apply_v()
{
	"$JAILFW" -v apply "$P" 2>&1
}

lib_internet
lib_serve net internet "tcp:0.0.0.0:22" "tcp:0.0.0.0:80" "tcp:0.0.0.0:443" \
	"tcp:0.0.0.0:8080" || lib_bail "listeners in net"

policy 80
check "first apply" "$JAILFW" apply "$P"
check_reach "db reaches tcp/443" 1100 tcp $N4 443
check_fails "web does not reach tcp/8080 yet" lib_probe 1099 tcp $N4 8080
db_before=$(db_chain)

# ---- (1) one jail's allowlist changed
policy 80,8080
out=$(apply_v)
check_match "allowlist changed: apply took the delta path" "$out" "delta: [0-9]+ objects"
check_reach "web now reaches tcp/8080" 1099 tcp $N4 8080
check_eq "db's chain: same handles, same counters" "$(db_chain)" "$db_before"
check_fails "web still does not reach tcp/22" lib_probe 1099 tcp $N4 22

# ---- (2) a jail added, one removed
policy 80,8080 with-new
out=$(apply_v)
check_match "jail added and removed: delta path" "$out" "delta: [0-9]+ objects"
check_reach "new jail reaches tcp/443" 1102 tcp $N4 443
check_fails "new jail does not reach tcp/80" lib_probe 1102 tcp $N4 80
check_reach "removed jail's uid is free again (tcp/22)" 1101 tcp $N4 22
check "removed jail's chain is gone" bash -c '! nft list chain inet jailfw uid_old'
check_eq "db's chain untouched by the add and remove" "$(db_chain)" "$db_before"

# ---- (3) a hand edit: the generation moved, full replace restores the policy
nft insert rule inet jailfw uid_web accept || lib_bail "hand edit"
check_reach "hand edit: web reaches tcp/22 (unconfined by hand)" 1099 tcp $N4 22
policy 80 with-new
out=$(apply_v)
check_match "hand edit: apply replaced the table" "$out" "delta: not possible"
if printf '%s\n' "$out" | grep -Eq "delta: [0-9]+ objects"; then
	fail "hand edit: no delta taken" "$out"
else
	pass "hand edit: no delta taken"
fi
check_fails "after the replace web is confined again (tcp/22)" lib_probe 1099 tcp $N4 22
check_fails "after the replace web's tcp/8080 is gone" lib_probe 1099 tcp $N4 8080

# ---- (4) db keeps counting while web changes 100 times
check_reach "db sends before the 100 applies" 1100 tcp $N4 443
db_handles=$(db_chain | grep -o 'handle [0-9]*' | tr '\n' ' ')
prev=$(db_count)
ok=1
ndelta=0
for i in $(seq 1 100); do
	if [ $((i % 2)) -eq 1 ]; then policy 80,8080 with-new; else policy 80 with-new; fi
	out=$(apply_v) || { ok=0; fail "apply $i of 100" "$out"; break; }
	printf '%s\n' "$out" | grep -Eq "delta: [0-9]+ objects" && ndelta=$((ndelta + 1))
	if [ $((i % 10)) -eq 0 ]; then
		lib_reach 1100 tcp $N4 443 >/dev/null || { ok=0; fail "db reaches tcp/443 at apply $i"; break; }
	fi
	now=$(db_count)
	if [ -z "$now" ] || [ "$now" -lt "$prev" ]; then
		ok=0
		fail "db's counter only grows" "apply $i: $prev -> $now"
		break
	fi
	prev=$now
done
[ "$ok" = 1 ] && pass "db's counter only grew over 100 applies ($prev packets)"
check_eq "all 100 applies took the delta path" "$ndelta" 100
check_eq "db's rule handles unchanged over 100 applies" \
	"$(db_chain | grep -o 'handle [0-9]*' | tr '\n' ' ')" "$db_handles"

# ---- (5) killed at each step of a delta apply
# With no netns jail, nothing to provision: the state is written once, at
# the end (state.next renamed over it), so a kill before that leaves it
# exactly as it was.
for step in lock delta-ready ruleset-committed state-written; do
	policy 80 with-new
	"$JAILFW" apply "$P" >/dev/null 2>&1 || fail "$step: reset to 80"
	cp /run/jailfw/state "$LIB_TMP/state.before"
	policy 80,8080 with-new
	check_exit "$step: died by SIGKILL" 137 env JAILFW_TEST_KILL_AT="$step" "$JAILFW" apply "$P"
	if [ "$step" != state-written ]; then
		check "$step: the state is as it was (uid jails only: no progress written)" \
			cmp "$LIB_TMP/state.before" /run/jailfw/state
	fi
	check_fails "$step: web is confined (tcp/22)" lib_probe 1099 tcp $N4 22
	check_fails "$step: new is confined (tcp/80)" lib_probe 1102 tcp $N4 80
	check "$step: the next apply converges" "$JAILFW" apply "$P"
	check_reach "$step: web reaches tcp/8080 after it" 1099 tcp $N4 8080
	check_fails "$step: web still confined (tcp/22)" lib_probe 1099 tcp $N4 22
done

# ---- (6) netns jails: one added, one removed, each a delta

# npolicy NNEW NOLD: wan0 as the wan (a delta then looks up only the host
# ends it reads, part 7), the uid jails as they are now, netns jail keep,
# and nnew (first after the settings: its destination union is the first
# one used) and nold when NNEW / NOLD are 1.  An absent jail leaves as
# many comment lines, so that no other jail's line numbers (in its
# comments) move.
npolicy()
{
	{
		printf 'settings {\n\twan wan0\n}\n'
		if [ "$1" = 1 ]; then
			printf 'jail nnew {\n\tbackend netns\n\tipv4 10.97.52.0/30\n'
			printf '\tallow tcp/443 to 192.0.2.2\n}\n'
		else
			printf '#\n#\n#\n#\n#\n'
		fi
		printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/80 to 192.0.2.0/24\n}\n'
		printf 'jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/443\n}\n'
		printf 'jail new {\n\tbackend uid\n\tuser 1102\n\tallow tcp/443\n}\n'
		printf 'jail keep {\n\tbackend netns\n\tipv4 10.97.50.0/30\n\tallow tcp/9000\n}\n'
		if [ "$2" = 1 ]; then
			printf 'jail nold {\n\tbackend netns\n\tipv4 10.97.51.0/30\n\tallow tcp/80\n}\n'
		else
			printf '#\n#\n#\n#\n#\n'
		fi
	} >"$P"
}

# keep's chains as nft lists them, with handles; handles: just those.
keep_chains()
{
	nft -a list chain inet jailfw fwd_keep
	nft -a list chain inet jailfw fwdto_keep
	nft -a list chain inet jailfw in_keep
	nft -a list chain arp jailfw arpj_keep
}
handles()
{
	grep -o 'handle [0-9]*' | tr '\n' ' '
}
# web's destination chain (its name, rules and handles): a new union
# numbered in front of it would rename it.
web_dst()
{
	local name

	name=$(nft list map inet jailfw uid_ports | grep -o '1099 . tcp . 80 [^,}]*jump [a-z0-9_]*' |
		sed 's/.*jump //')
	echo "$name"
	nft -a list chain inet jailfw "$name" | grep -v '^table\|^}'
}
# The arp table's elements of a jail: its interface and its prefix.
arp_elems()
{
	{
		nft list map arp jailfw arp_from
		nft list set arp jailfw jail_nets4
	} 2>/dev/null | grep -oF -e "\"$1-out\"" -e "$2" | wc -l
}

# shellcheck source=tests/stream.sh
. "$LIB_ROOT/tests/stream.sh"
stream_sink net 9000

npolicy 0 1
check "netns: the first apply with netns jails (a full replace: an arp table comes)" \
	"$JAILFW" apply "$P"
lib_wait_for 10 lib_probe_ns nold tcp $N4 80 || true
check_dropped_ns "netns: keep does not reach tcp/443" jailfw fwd_keep keep tcp $N4 443
check_allowed_ns "netns: nold reaches tcp/80" jailfw fwd_nold nold tcp $N4 80
stream_start keep $N4 9000
sleep 0.3
ct0=$(stream_ct 9000)
check_match "netns: keep's stream has one conntrack entry" "$ct0" '^[0-9]+ $'
keep0=$(keep_chains | handles)
web0=$(web_dst)
c0=$(lib_nft_counter jailfw fwd_keep jump)

# One added, with a destination union of its own, first in the file.
npolicy 1 1
out=$(apply_v)
check_match "netns jail added: apply took the delta path" "$out" "delta: [0-9]+ objects"
check_match "netns jail added: its namespace and veth were made" "$out" "create jail nnew"
check "netns jail added: its namespace is there" test -e /run/netns/nnew
lib_wait_for 10 lib_probe_ns nnew tcp $N4 443 || true
check_allowed_ns "nnew reaches tcp/443 of 192.0.2.2" jailfw fwd_nnew nnew tcp $N4 443 192.0.2.1
check_dropped_ns "nnew does not reach tcp/80" jailfw fwd_nnew nnew tcp $N4 80
check_eq "netns jail added: its arp elements are there" "$(arp_elems nnew 10.97.52.0/30)" 2
check_eq "netns jail added: keep's chains keep their handles" "$(keep_chains | handles)" "$keep0"
check_eq "netns jail added: web's destination chain is the same, its handles too" \
	"$(web_dst)" "$web0"
c1=$(lib_nft_counter jailfw fwd_keep jump)
sleep 0.3
c2=$(lib_nft_counter jailfw fwd_keep jump)
if [ -n "$c1" ] && [ -n "$c2" ] && [ "$c1" -ge "$c0" ] && [ "$c2" -gt "$c1" ]; then
	pass "netns jail added: keep's counter keeps counting ($c0 -> $c1 -> $c2)"
else
	fail "netns jail added: keep's counter keeps counting" "$c0 -> $c1 -> $c2"
fi
check_eq "netns jail added: keep's stream keeps its conntrack entry" "$(stream_ct 9000)" "$ct0"

# One removed.
npolicy 1 0
out=$(apply_v)
check_match "netns jail removed: apply took the delta path" "$out" "delta: [0-9]+ objects"
check "netns jail removed: its namespace is gone" test ! -e /run/netns/nold
# The host end goes with the namespace, which the kernel frees
# asynchronously once its last reference is closed: wait for it.
check "netns jail removed: its veth is gone" lib_wait_for 10 sh -c '! ip link show nold-out'
check_fails "netns jail removed: its chain is gone" nft list chain inet jailfw fwd_nold
check_eq "netns jail removed: its arp elements are gone" "$(arp_elems nold 10.97.51.0/30)" 0
check_fails "netns jail removed: its arp chain is gone" nft list chain arp jailfw arpj_nold
check_eq "netns jail removed: keep's chains keep their handles" "$(keep_chains | handles)" \
	"$keep0"
check_eq "netns jail removed: keep's stream keeps its conntrack entry" "$(stream_ct 9000)" "$ct0"
check_allowed_ns "netns jail removed: nnew still reaches tcp/443" jailfw fwd_nnew nnew tcp $N4 443

# Killed at each step of a netns add and of a netns remove.
for step in lock netns-created veth-created addrs-set sysctls-written delta-ready \
	ruleset-committed conntrack-swept links-up netns-removed state-written; do
	# A removal makes no namespace or veth: it never passes those two.
	case $step in
	netns-created | veth-created) ;;
	*)
		npolicy 1 1
		"$JAILFW" apply "$P" >/dev/null 2>&1 || fail "$step: reset (nold back)"
		npolicy 1 0
		check_exit "$step: remove killed" 137 \
			env JAILFW_TEST_KILL_AT="$step" "$JAILFW" apply "$P"
		check_blocked_ns "$step: nold, if still there, is confined (tcp/22)" nold tcp $N4 22
		check_blocked_ns "$step: keep is confined (tcp/443)" keep tcp $N4 443
		check "$step: the next apply converges" "$JAILFW" apply "$P"
		check "$step: nold is gone after it" test ! -e /run/netns/nold
		;;
	esac

	npolicy 0 0
	"$JAILFW" apply "$P" >/dev/null 2>&1 || fail "$step: reset (nnew gone)"
	npolicy 1 0
	check_exit "$step: add killed" 137 env JAILFW_TEST_KILL_AT="$step" "$JAILFW" apply "$P"
	check_blocked_ns "$step: nnew, if there, is confined (tcp/80)" nnew tcp $N4 80
	check "$step: the next apply converges" "$JAILFW" apply "$P"
	lib_wait_for 10 lib_probe_ns nnew tcp $N4 443 || true
	check_reach_ns "$step: nnew reaches tcp/443 after it" nnew tcp $N4 443
	check_blocked_ns "$step: nnew is confined after it (tcp/80)" nnew tcp $N4 80
done
check_eq "after the kills: keep's stream keeps its conntrack entry" "$(stream_ct 9000)" "$ct0"
stream_end "keep's stream"

# Root in a kept jail changes its side between applies: nnew takes keep's
# address as a second one, with a route that makes the kernel send from it
# to 192.0.2.2.  A delta (nold added) checks the kept jails from the host
# only and does not enter nnew (docs/design.md, "What an apply checks"):
# the address stays, and the ruleset is the wall, dropping what nnew sends
# from it.  The apply of the unchanged policy, a full check, removes it.
AS="ip saddr != 10.97.52.2 .*anti-spoofing"
ip -n nnew addr add 10.97.50.2/32 dev nnew-in || lib_bail "keep's address in nnew"
ip -n nnew route add $N4/32 via 10.97.52.1 src 10.97.50.2 || lib_bail "route in nnew"
check_dropped_rule_ns "nnew as keep (10.97.50.2), before the delta: tcp/443 dropped" jailfw \
	fwd_nnew "$AS" nnew tcp $N4 443
npolicy 1 1
out=$(apply_v)
check_match "nnew's side changed, nold added: apply took the delta path" "$out" \
	"delta: [0-9]+ objects"
check_match "the delta did not enter nnew: keep's address is still on nnew-in" \
	"$(ip -n nnew -4 addr show dev nnew-in)" "inet 10\\.97\\.50\\.2/32"
check_dropped_rule_ns "nnew as keep (10.97.50.2), after the delta: tcp/443 dropped" jailfw \
	fwd_nnew "$AS" nnew tcp $N4 443
check_blocked_ns "keep itself is still confined (tcp/443)" keep tcp $N4 443
out=$(apply_v)
check_match "the unchanged policy again: no reload" "$out" "already what the policy renders"
check_fails "the full check removed keep's address from nnew-in" \
	grep -q "inet 10\\.97\\.50\\.2/" <<<"$(ip -n nnew -4 addr show dev nnew-in)"
check_reach_ns "nnew reaches tcp/443 from its own address again" nnew tcp $N4 443 192.0.2.1

# ---- (7) a kept jail's host end changed behind jailfw's back
# A delta whose policy names its wan looks up only the host ends of the
# jails it adds, repairs or removes (docs/design.md, "What an apply
# checks"): a kept one's is not looked at.  Renamed, nnew's packets come
# in on an interface the ruleset does not name, and the forward chain's
# drop of a jail's address on another interface drops them; a delta
# (nold removed) leaves it so; the next full check refuses, naming it,
# until it is named back.  Deleted (its peer goes with it), nnew has no
# way out; a delta leaves it so; the next full check makes the pair again.
rename_link()
{
	ip link set "$1" down && ip link set "$1" name "$2" && ip link set "$2" up
}
rename_link nnew-out nnew-x || lib_bail "rename nnew-out"
check_blocked_ns "nnew-out renamed: nnew is dropped, even to its tcp/443" nnew tcp $N4 443
npolicy 1 0
out=$(apply_v)
check_match "nnew-out renamed, nold removed: apply took the delta path" "$out" \
	"delta: [0-9]+ objects"
check_fails "the delta did not look at nnew's host end" grep -q nnew <<<"$out"
check "the delta left the renamed nnew-x alone" ip link show nnew-x
check_blocked_ns "after the delta: nnew is still dropped (tcp/443)" nnew tcp $N4 443
out=$("$JAILFW" apply "$P" 2>&1)
check_eq "the full check refuses the renamed host end: exit 5" "$?" 5
check_match "the full check names it" "$out" 'no "nnew-out" on the host'
rename_link nnew-x nnew-out || lib_bail "rename nnew-x back"
check "named back: the next apply converges" "$JAILFW" apply "$P"
lib_wait_for 10 lib_probe_ns nnew tcp $N4 443 || true
check_reach_ns "named back: nnew reaches tcp/443" nnew tcp $N4 443

ip link del nnew-out || lib_bail "delete nnew-out"
check_blocked_ns "nnew-out deleted: nnew reaches nothing (tcp/443)" nnew tcp $N4 443
npolicy 1 1
out=$(apply_v)
check_match "nnew-out deleted, nold added: apply took the delta path" "$out" \
	"delta: [0-9]+ objects"
check_fails "the delta did not repair nnew" grep -q "repair jail nnew" <<<"$out"
check_fails "the delta left nnew-out deleted" ip link show nnew-out
out=$(apply_v)
check_match "the full check repairs nnew" "$out" "repair jail nnew: create veth nnew-out/nnew-in"
lib_wait_for 10 lib_probe_ns nnew tcp $N4 443 || true
check_reach_ns "repaired: nnew reaches tcp/443" nnew tcp $N4 443
check_blocked_ns "repaired: nnew is confined (tcp/80)" nnew tcp $N4 80

lib_done
