#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A jail per systemd unit: systemd/jailfw@.service.in's own ExecStart= and
# ExecStop= lines, read out of the unit file (its @SBINDIR@ and
# @SYSCONFDIR@ replaced as `make install` does, %i by the jail's name), run
# here as systemd would run them, on the default policy directory.
#  - stop of a uid jail: its uid stays confined, its traffic is dropped and
#    its drop counter moves; taken as a delta (the other jails' chains keep
#    their rule handles);
#  - stop of a netns jail: its namespace and veth are gone (ip as the
#    observer), and its chains and arp elements; taken as a delta too;
#  - status lists both as stopped (text and --json), and calls it no drift;
#  - a plain `jailfw apply` (jailfw.service's reload) leaves both stopped;
#  - start again: traffic flows, the namespace is back;
#  - all along, jail keep streams TCP to the internet: its counter only
#    grows and its conntrack entry keeps its id;
#  - a NAME not in the policy: exit 1, the message, the kernel untouched;
#    a record of stopped jails jailfw did not write: exit 5, the same;
#  - killed right after the stopped mark is recorded, the jail is still up
#    and the next apply takes it down (fail closed).
#
#                       [ netns "net" = the internet ]
#                         eth0 192.0.2.2/24; listeners tcp 443, 8080 (stream sink)
#                                    |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     /etc/jailfw/jailfw.conf (private tmpfs, tests/lib.sh):
#       uid jail "web" (1099) tcp/443
#       |                                   |
#     box-out 10.97.40.1/30               keep-out 10.97.41.1/30
#     box-in  10.97.40.2                  keep-in  10.97.41.2
#   [ jail "box" ] tcp/443              [ jail "keep" ] tcp/8080, a stream

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

# shellcheck source=tests/stream.sh
. "$LIB_ROOT/tests/stream.sh"

N4=192.0.2.2
ETC=/etc/jailfw
UNIT=$LIB_TMP/jailfw@.service

# The unit as `make install` makes it, naming the binary under test.
sed -e "s|@SBINDIR@/jailfw|$JAILFW|g" -e "s|@SYSCONFDIR@|/etc|g" \
	"$LIB_ROOT/systemd/jailfw@.service.in" >"$UNIT" || lib_bail "unit"

# unit_exec KEY NAME: the unit's KEY= line for instance NAME, run as
# systemd runs it (no shell: the words split at blanks, %i replaced).
unit_exec()
{
	local line argv

	line=$(sed -n "s/^$1=//p" "$UNIT")
	[ -n "$line" ] || return 99
	line=${line//%i/$2}
	read -ra argv <<<"$line"
	"${argv[@]}"
}

lib_wan_internet

mkdir -p "$ETC" || lib_bail "mkdir $ETC"
cat >"$ETC/jailfw.conf" <<'EOF'
settings {
	wan wan0
}
jail web {
	backend uid
	user 1099
	allow tcp/443
}
jail box {
	backend netns
	ipv4 10.97.40.0/30
	allow tcp/443
}
jail keep {
	backend netns
	ipv4 10.97.41.0/30
	allow tcp/8080
}
EOF

lib_serve net internet "tcp:[::]:443" || lib_bail "listener in net"

# The stream (tests/stream.sh): a sink in net, a sender in keep.
stream_sink net 8080

keep_count()
{
	lib_nft_counter jailfw fwd_keep jump
}

# The rule handles of keep's chains: kept by a delta, new after a replace.
keep_handles()
{
	nft -a list chain inet jailfw fwd_keep | grep -o 'handle [0-9]*' | tr '\n' ' '
}

# grew NAME BEFORE: keep's counter moved past BEFORE; prints the new one.
KEEP_LAST=
grew()
{
	local now

	sleep 0.3
	now=$(keep_count)
	if [ -n "$2" ] && [ -n "$now" ] && [ "$now" -gt "$2" ]; then
		pass "$1 ($2 -> $now)"
	else
		fail "$1" "keep's counter '$2' -> '$now' (want it to grow)"
	fi
	KEEP_LAST=$now
}

# ---------------------------------------------------------------- all up

check "ExecStart of jailfw@keep: the policy applied, every jail up" unit_exec ExecStart keep ||
	lib_bail "start failed"
check "ExecStart of jailfw@web" unit_exec ExecStart web
check "ExecStart of jailfw@box" unit_exec ExecStart box
check_allowed "web reaches tcp/443" jailfw uid_web 1099 tcp $N4 443
lib_wait_for 10 lib_probe_ns box tcp $N4 443 || true
check_allowed_ns "box reaches tcp/443" jailfw fwd_box box tcp $N4 443

stream_start keep $N4 8080
sleep 0.5
ct0=$(stream_ct 8080)
check_match "keep's stream has one conntrack entry" "$ct0" '^[0-9]+ $'
c0=$(keep_count)
handles0=$(keep_handles)

# ---------------------------------------------------------------- stop a uid jail

check_exit "ExecStop of jailfw@web: exit 0" 0 unit_exec ExecStop web
check_eq "web is recorded as stopped" "$(cat /run/jailfw/stopped 2>&1)" \
	"$(printf 'jailfw-stopped 1\nweb')"
check_dropped "web stopped: its tcp/443 is dropped, its drop counter moves" jailfw uid_web \
	1099 tcp $N4 443
check "web stopped: uid 1099 is still dispatched to its chain" \
	sh -c 'nft list map inet jailfw uid_jails | grep -q "1099 .*: jump uid_web"'
check_eq "web stopped as a delta: keep's chain has the same rule handles" "$(keep_handles)" \
	"$handles0"
grew "web stopped: keep's counter grows" "$c0"
check_allowed_ns "web stopped: box still reaches tcp/443" jailfw fwd_box box tcp $N4 443

# ---------------------------------------------------------------- stop a netns jail

check_exit "ExecStop of jailfw@box: exit 0" 0 unit_exec ExecStop box
check "box stopped: its namespace is gone" test ! -e /run/netns/box
check_fails "box stopped: ip netns lists no box" sh -c 'ip netns list | grep -qw box'
# The kernel frees the namespace, and the veth pair with it, after the
# apply returns: wait for it (as delta-apply.sh does).
check "box stopped: its veth box-out is gone" lib_wait_for 10 sh -c '! ip link show box-out'
check_fails "box stopped: its chain is gone" nft list chain inet jailfw fwd_box
check_eq "both recorded as stopped" "$(cat /run/jailfw/stopped 2>&1)" \
	"$(printf 'jailfw-stopped 1\nbox\nweb')"
grew "box stopped: keep's counter grows" "$KEEP_LAST"
check_eq "box stopped: keep's conntrack entry is the same" "$(stream_ct 8080)" "$ct0"
check_eq "box stopped as a delta: keep's chain has the same rule handles" "$(keep_handles)" \
	"$handles0"
check_fails "box stopped: no arp element for box-out" \
	sh -c 'nft list map arp jailfw arp_from | grep -q "box-out"'

# status lists both as stopped: the uid jail where it is, the netns jail by name.
out=$("$JAILFW" status 2>&1)
check_match "status: the headline counts the stopped jails" "$out" \
	"^table inet jailfw: in force, as jailfw applied it \(3 jails: 1 uid, 2 netns; 2 stopped\)$"
check_match "status: box is listed as stopped" "$out" "^box +netns +0/0 +0/0 +stopped$"
check_match "status: web is listed as stopped" "$out" "^web +uid +[0-9]+/[0-9]+ +[0-9]+/[0-9]+ +uid 1099, stopped$"
check_match "status: keep is not" "$out" "^keep +netns .* keep-out up 10.97.41.1/30, netns ok$"
json=$("$JAILFW" status --json 2>&1)
check_eq "status --json: the stopped jails" \
	"$(printf '%s' "$json" |
		lib_json '" ".join(j["name"] + ":" + j["backend"] for j in d["jails"] if j["stopped"])')" \
	"box:netns web:uid"
check_exit "status: stopped jails are no drift" 0 "$JAILFW" status

# ---------------------------------------------------------------- a plain apply

check "jailfw apply (jailfw.service's reload)" "$JAILFW" apply
check "after apply: box's namespace is still gone" test ! -e /run/netns/box
check_fails "after apply: box-out is still gone" ip link show box-out
check_dropped "after apply: web's tcp/443 is still dropped" jailfw uid_web 1099 tcp $N4 443
check_exit "diff: a stopped jail is no change" 0 "$JAILFW" diff
grew "after apply: keep's counter grows" "$KEEP_LAST"

# ---------------------------------------------------------------- start again

check_exit "ExecStart of jailfw@web: exit 0" 0 unit_exec ExecStart web
check_allowed "web started: it reaches tcp/443 again" jailfw uid_web 1099 tcp $N4 443
check_exit "ExecStart of jailfw@box: exit 0" 0 unit_exec ExecStart box
check "box started: its namespace is back" test -e /run/netns/box
check "box started: box-out is back" ip link show box-out
lib_wait_for 10 lib_probe_ns box tcp $N4 443 || true
check_allowed_ns "box started: it reaches tcp/443 again" jailfw fwd_box box tcp $N4 443
check "nothing is recorded as stopped" test ! -e /run/jailfw/stopped
check_fails "status: no jail is stopped" sh -c '"$0" status | grep -q stopped' "$JAILFW"
grew "started: keep's counter grows" "$KEEP_LAST"
check_eq "after all of it: keep's conntrack entry is the same" "$(stream_ct 8080)" "$ct0"
stream_end "keep's stream"

# ---------------------------------------------------------------- a name not in the policy

# box's host end came up again just now: let its link-local address settle.
lib_wait_for 10 lib_no_tentative "" || lib_bail "box-out's link-local address stays tentative"
lib_snapshot_before
check_exit "ExecStop of jailfw@nosuch: exit 1" 1 unit_exec ExecStop nosuch
check_eq "ExecStop of jailfw@nosuch: the message" "$LIB_ERR" \
	'jailfw: stop: no jail "nosuch" in /etc/jailfw; nothing changed'
check_exit "ExecStart of jailfw@bx: exit 1" 1 unit_exec ExecStart bx
check_eq "ExecStart of jailfw@bx: the message, with a suggestion" "$LIB_ERR" \
	'jailfw: start: no jail "bx" in /etc/jailfw (did you mean "box"?); nothing changed'
check_untouched "a name not in the policy"

# The record is input too: a line jailfw could not have written (a path,
# not a jail name) refuses the whole file, and nothing changes.
printf 'jailfw-stopped 1\n../etc\n' >/run/jailfw/stopped
lib_snapshot_before
check_exit "a stopped record jailfw did not write: apply exits 5" 5 "$JAILFW" apply
check_match "... the line named" "$LIB_ERR" '^/run/jailfw/stopped:2(:1)?: error: not a jail name'
check_untouched "a stopped record jailfw did not write"
rm -f /run/jailfw/stopped

# ---------------------------------------------------------------- killed half-way

if [ -x "$JAILFW_TESTHOOKS" ]; then
	check_exit "stop box killed right after taking the lock: SIGKILL" 137 \
		env JAILFW_TEST_KILL_AT=lock "$JAILFW_TESTHOOKS" stop box
	check "killed before the mark: box is still up" test -e /run/netns/box
	check "killed before the mark: nothing is recorded as stopped" \
		test ! -e /run/jailfw/stopped
	check_exit "stop box killed before the ruleset changed: SIGKILL" 137 \
		env JAILFW_TEST_KILL_AT=delta-ready "$JAILFW_TESTHOOKS" stop box
	check "killed before the commit: box is still there" test -e /run/netns/box
	check_eq "killed before the commit: box is recorded as stopped" \
		"$(cat /run/jailfw/stopped 2>&1)" "$(printf 'jailfw-stopped 1\nbox')"
	check "the next apply converges" "$JAILFW" apply
	check "after it: box's namespace is gone" test ! -e /run/netns/box
	check "start box again" "$JAILFW" start box
	check "box is back" test -e /run/netns/box
else
	skip "killed half-way" "no test build at $JAILFW_TESTHOOKS"
fi

lib_done
