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
# converging.
#
#   [ sandbox netns = "host" ]  wan0 ---veth--- eth0  [ netns "net" = the internet ]
#     192.0.2.1/24                                  192.0.2.2/24
#     jailfw runs here; uid jails:                  listeners: tcp 22 80 443 8080
#       web  1099 (allowlist changes)
#       db   1100 (never changes: the observed one)
#       old  1101 (removed), new 1102 (added)

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
for step in lock delta-ready ruleset-committed state-written; do
	policy 80 with-new
	"$JAILFW" apply "$P" >/dev/null 2>&1 || fail "$step: reset to 80"
	policy 80,8080 with-new
	check_exit "$step: died by SIGKILL" 137 env JAILFW_TEST_KILL_AT="$step" "$JAILFW" apply "$P"
	check_fails "$step: web is confined (tcp/22)" lib_probe 1099 tcp $N4 22
	check_fails "$step: new is confined (tcp/80)" lib_probe 1102 tcp $N4 80
	check "$step: the next apply converges" "$JAILFW" apply "$P"
	check_reach "$step: web reaches tcp/8080 after it" 1099 tcp $N4 8080
	check_fails "$step: web still confined (tcp/22)" lib_probe 1099 tcp $N4 22
done

lib_done
