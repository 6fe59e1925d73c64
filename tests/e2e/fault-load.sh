#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The forked load, killed (docs/design.md, "Fail closed"): jailfw loads a
# whole ruleset in a child process (nftload.c, run_child), and either of
# the two may die at any moment.  With the test-only hooks the child is
# killed or stopped right before its commit (load-started) or right after
# it, before it has said so (load-committed); the same points of the
# handover table's load are handover-load-started and -committed.
#
#  a. the child dies after the commit, before its report: apply says that
#     whether the table was committed is not known and to apply again,
#     exits non-zero; the table in force is one policy's whole ruleset;
#  b. jailfw itself is SIGKILLed while its child is stopped in the load:
#     the child dies with it (PR_SET_PDEATHSIG) and never commits after
#     it; the table in force is whole;
#  c. the child dies before the commit: apply says that the previous
#     ruleset is still in force, exits non-zero, and it is, unchanged;
#
# and each time the next apply converges to the policy, whole, with no
# handover table left.  "Whole" is checked against the kernel's own
# listing (nft -s list) of each policy applied cleanly.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24, listener udp 7777
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     jailfw runs here; uid jails "web" (1099), "mail" (1100) in A, "web"
#     with another allowlist and "news" (1101) in B; table inet bystander:
#     someone else's commit, so that the next apply replaces its table in
#     full (a delta forks no load)
#       |                          |
#     beta-out (A only)          gamma-out (B only)
#     10.97.41.1/24              10.97.42.1/24
#   [ jail "beta" ]            [ jail "gamma" ]
#
# beta, which B does not know, is the attack: whenever B may be in force
# its link must stay cut, so that nothing it sends passes as no jail's.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"
lib_use_testhooks

N4=192.0.2.2
lib_wan_internet
lib_serve net internet "udp:[::]:7777" || lib_bail "listener in net"

A=$LIB_TMP/A.conf
B=$LIB_TMP/B.conf
# policy FILE JAIL...: a policy with the wan and these jails, one a line
# (what differs between A and B is easier to see).
policy()
{
	local f=$1

	shift
	{
		echo "# fault-load: ${f##*/}"
		echo "settings { wan wan0 }"
		printf 'jail %s }\n' "$@"
	} >"$f"
	chmod 0644 "$f"
}
policy "$A" "web { backend uid; user 1099; allow udp/7777; allow tcp/443 to 192.0.2.0/24" \
	"mail { backend uid; user 1100; allow tcp/25" \
	"beta { backend netns; ipv4 10.97.41.0/24; allow udp/7777"
policy "$B" "web { backend uid; user 1099; allow udp/7778; allow tcp/80 to 198.51.100.0/24" \
	"news { backend uid; user 1101; allow tcp/119" \
	"gamma { backend netns; ipv4 10.97.42.0/24; allow udp/7777"

# The table in force as the kernel lists it, without counter values.
listing()
{
	nft -s list table inet jailfw 2>&1
}

# Someone else's commit: the generation moves, and the next apply can no
# longer send a delta (delta.c) but forks a load of the whole table.
bystander()
{
	nft add table inet bystander && nft delete table inet bystander
}

# whole WHAT: the table in force is policy A's or policy B's, whole.
whole()
{
	local now

	now=$(listing)
	if [ "$now" = "$LIST_A" ] || [ "$now" = "$LIST_B" ]; then
		pass "$1: the table in force is one policy's whole ruleset"
	else
		fail "$1: the table in force is one policy's whole ruleset" "$now"
	fi
}

# converges WHAT: the next apply of B goes through, and B is in force.
converges()
{
	bystander
	check_exit "$1: the next apply of B exits 0" 0 "$JAILFW" apply "$B"
	check_eq "$1: then B's table is in force, whole" "$(listing)" "$LIST_B"
	check_fails "$1: then no handover table is left" nft list table inet jailfw-handover
	check "$1: then status is clean" "$JAILFW" status
	check "$1: then namespace beta is gone" test ! -e /run/netns/beta
	check_reach_ns "$1: then gamma reaches udp/7777" gamma udp $N4 7777
}

link_up()
{
	ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'
}

# beta_cut WHAT: B, which does not know beta, may be in force: beta's link
# is down and nothing of beta's reaches the internet.
beta_cut()
{
	check_fails "$1: beta-out is not up" link_up beta-out
	check_blocked_ns "$1: beta's udp/7777 does not reach the internet" beta udp $N4 7777
}

# from_a: policy A in force, applied cleanly, and a full replace ahead.
from_a()
{
	"$JAILFW" apply "$A" >/dev/null 2>&1 || lib_bail "apply A failed"
	bystander
}

# ---------------------------------------------------------------- the two rulesets

check "apply A" "$JAILFW" apply "$A" || lib_bail "apply A failed; nothing to test"
LIST_A=$(listing)
check_reach_ns "control: under A beta reaches udp/7777" beta udp $N4 7777
bystander
check "apply B" "$JAILFW" apply "$B" || lib_bail "apply B failed; nothing to test"
LIST_B=$(listing)
check_match "control: A's table has A's rule" "$LIST_A" "192\.0\.2\.0/24"
check_reach_ns "control: under B gamma reaches udp/7777" gamma udp $N4 7777
check_match "control: B's table has B's rule" "$LIST_B" "198\.51\.100\.0/24"
[ "$LIST_A" != "$LIST_B" ] || lib_bail "A and B list the same"

# kill_child STEP WHAT: apply B over A with the load's child killed at STEP;
# apply fails and says its child died (LIB_ERR: what it said).
kill_child()
{
	from_a
	check_exit "$2: apply fails (exit 3)" 3 env JAILFW_TEST_KILL_AT="$1" "$JAILFW" apply "$B"
	check_match "$2: it says the libnftables process died" "$LIB_ERR" \
		"error: the libnftables process failed \(signal 9\)"
}

# ---------------------------------------------------------------- a. killed between commit and report

for step in load-committed handover-load-committed; do
	w="child killed at $step"
	kill_child $step "$w"
	check_match "$w: it says the commit is not known, and to apply again" "$LIB_ERR" \
		"whether table inet jailfw(-handover)? was committed is not known: apply again"
	if [ $step = load-committed ]; then
		check_fails "$w: it does not claim the previous ruleset is in force" \
			grep -Eq "previous ruleset is still in force|policy not applied" <<<"$LIB_ERR"
		check_eq "$w: B's table was committed, whole" "$(listing)" "$LIST_B"
		beta_cut "$w"
	else
		check_eq "$w: A's table is still in force, unchanged" "$(listing)" "$LIST_A"
	fi
	converges "$w"
done

# ---------------------------------------------------------------- c. killed before the commit

for step in load-started handover-load-started; do
	w="child killed at $step"
	kill_child $step "$w"
	check_match "$w: it says nothing was committed" "$LIB_ERR" \
		"nothing was committed"
	check_match "$w: it says the previous ruleset is still in force" "$LIB_ERR" \
		"the previous ruleset is still in force"
	check_eq "$w: A's table is still in force, unchanged" "$(listing)" "$LIST_A"
	converges "$w"
done

# ---------------------------------------------------------------- b. jailfw killed during its child's load

# stop_child_at STEP: apply B with its child stopped at STEP; sets PARENT
# and CHILD.
stop_child_at()
{
	local err=$LIB_TMP/paused.err

	: >"$err"
	env JAILFW_TEST_PAUSE_AT="$1" "$JAILFW" apply "$B" >/dev/null 2>"$err" &
	PARENT=$!
	lib_defer kill -KILL "$PARENT"
	CHILD=
	lib_wait_for 20 grep -q "test pause at $1" "$err" ||
		{ fail "paused at $1" "$(cat "$err")"; return 1; }
	CHILD=$(pgrep -P "$PARENT")
	[ -n "$CHILD" ] || { fail "paused at $1: jailfw has a child" "$(cat "$err")"; return 1; }
	lib_defer kill -KILL "$CHILD"
}

gone()
{
	! kill -0 "$1" 2>/dev/null
}

for step in load-started load-committed handover-load-started handover-load-committed; do
	w="jailfw killed while its child is stopped at $step"
	from_a
	stop_child_at "$step" || continue
	check_eq "$w: the child is stopped" "$(ps -o stat= -p "$CHILD" | cut -c1)" T
	kill -KILL "$PARENT"
	wait "$PARENT" 2>/dev/null
	# Without PR_SET_PDEATHSIG it stays, stopped, holding the lock.
	check "$w: the child died with it" lib_wait_for 10 gone "$CHILD" ||
		kill -KILL "$CHILD"
	check_eq "$w: no process of the apply is left" "$(pgrep -f "apply $B")" ""
	case $step in
	load-started | handover-load-started)
		check_eq "$w: A's table is still in force, unchanged" "$(listing)" "$LIST_A" ;;
	load-committed)
		check_eq "$w: B's table is in force, whole" "$(listing)" "$LIST_B"
		beta_cut "$w" ;;
	*) whole "$w" ;;
	esac
	converges "$w"
done

lib_done
