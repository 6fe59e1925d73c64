#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fail closed, under fire: jailfw killed with SIGKILL right after each step
# of an apply and of a down (the test-only hook JAILFW_TEST_KILL_AT), for
# uid and netns jails at once.  Each time, the next apply (or down)
# converges: exit 0, `status` clean, exactly the policy's namespaces and
# links, allowed traffic flows.  Meanwhile senders run throughout, from the
# uid jail and from inside every jail namespace that exists at the moment,
# all to a port no policy allows, and the far end counts what arrives: it
# must stay at zero for the whole script.  SIGTERM and SIGINT delivered
# while jailfw is paused at a step (JAILFW_TEST_PAUSE_AT) do not stop it
# half-way: it finishes, says so, then dies by the signal; a SIGINT it
# inherited as ignored stays ignored; while it only waits for the lock, a
# SIGTERM ends it at once.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       table inet observe, prerouting: counts tcp and udp
#                       to port 9999 ("bad": allowed by no policy), udp
#                       7778 (netns senders) and 7779 (uid sender)
#                       listeners: udp 7777 (dual stack)
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jail "web" (1099) in A and B, "mail" (1100) in B;
#     the uid sender runs as 1099, the netns sender as root, entering
#     whichever of alpha, beta, gamma exists
#       |                      |                       |
#     alpha-out              beta-out (A only)       gamma-out (B only)
#     10.97.40.1/24          10.97.41.1/24           10.97.42.1/24 fd00:97:42::1/112
#   [ jail "alpha" ]       [ jail "beta" ]         [ jail "gamma" ]
#
# Policy A: web, alpha, beta (IPv4 only).  Policy B: web with another
# allowlist, mail added, alpha with another allowlist, beta removed, gamma
# added with IPv6 (so that B turns IPv6 forwarding on: sysctls-written has
# work to do).

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"
lib_use_testhooks

N4=192.0.2.2
N6=2001:db8:1::2
BAD=9999
STATE=/run/jailfw/state

APPLY_STEPS="lock netns-created veth-created addrs-set sysctls-written handover-loaded
	ruleset-committed conntrack-swept links-up netns-removed state-written"
DOWN_STEPS="lock links-down table-deleted netns-removed sysctls-restored state-removed"

# ---------------------------------------------------------------- helpers

# far COUNTER: packets the internet's own prerouting counted (bad, good_ns,
# good_uid).  An observer jailfw cannot touch: it is another namespace.
far()
{
	ip netns exec net nft list counter inet observe "$1" 2>/dev/null |
		sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p'
}

# far_above COUNTER N: it counted more than N.
far_above()
{
	local n

	n=$(far "$1")
	[ -n "$n" ] && [ "$n" -gt "$2" ]
}

# far_clean WHAT: the far end has counted no disallowed packet since the
# baseline.
far_clean()
{
	check_eq "$1: the far end counted no packet to port $BAD" "$(far bad)" "$BAD_BASE"
}

# The jail namespaces (all but the internet's), on one line, sorted.
jail_namespaces()
{
	local f names=()

	for f in /run/netns/*; do
		[ -e "$f" ] && [ "${f##*/}" != net ] && names+=("${f##*/}")
	done
	echo "${names[*]}"
}

# Every veth in the host but the wan: jailfw's, with or without its label.
host_veths()
{
	# shellcheck disable=SC2046
	echo $(ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 |
		grep -vx wan0 | sort)
}

# exactly_now JAILS: the jail namespaces and host veths are exactly JAILS'.
exactly_now()
{
	local j links=

	for j in $1; do
		links+="${links:+ }$j-out"
	done
	[ "$(jail_namespaces)" = "$1" ] && [ "$(host_veths)" = "$links" ]
}

# exactly JAILS WHAT: exactly_now, within 30 s.  The kernel frees a removed
# namespace's veth asynchronously, in one work queue for the whole machine:
# behind the teardown of every other namespace on the machine, that took more
# than 5 s in CI.  A veth that stays is still an orphan; only a pass waits.
exactly()
{
	local j links=

	for j in $1; do
		links+="${links:+ }$j-out"
	done
	lib_wait_for 30 exactly_now "$1"
	check_eq "$2: namespaces are exactly the policy's" "$(jail_namespaces)" "$1"
	check_eq "$2: host veths are exactly the policy's (no orphan)" "$(host_veths)" "$links"
}

link_up()
{
	ip -o link show dev "$1" 2>/dev/null | grep -q '[<,]UP[,>]'
}

link_down()
{
	ip -o link show dev "$1" >/dev/null 2>&1 && ! link_up "$1"
}

has_alias()
{
	ip -d link show dev "$1" 2>/dev/null | grep -q "alias jailfw:"
}

table_has()
{
	nft list table inet jailfw 2>/dev/null | grep -qF "$1"
}

no_table()
{
	! nft list table inet jailfw >/dev/null 2>&1
}

# The host's sysctls jailfw may change (and their neighbours).
sysctls()
{
	sysctl -a 2>/dev/null | grep -E '^net\.ipv(4|6)\.conf\.(all|default|wan0)\.'
}

pstate()
{
	sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1
}

stopped()
{
	[ "$(pstate "$1")" = T ]
}

# converged WHAT POLICY JAILS: after the plain apply, everything is POLICY's
# and allowed traffic flows.
converged()
{
	local what=$1 pol=$2 jails=$3 j

	check "$what: status is clean" "$JAILFW" status
	check "$what: diff finds nothing left to do" "$JAILFW" diff "$pol"
	check_fails "$what: no handover table left" nft list table inet jailfw-handover
	exactly "$jails" "$what"
	for j in $jails; do
		check_reach_ns "$what: $j reaches udp/7777 v4" "$j" udp $N4 7777
	done
	check_reach "$what: uid jail web reaches udp/7777" 1099 udp $N4 7777
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "udp:[::]:7777" || lib_bail "listeners in net"
ip netns exec net nft -f - <<EOF || lib_bail "table inet observe in net"
table inet observe {
	counter bad {
	}
	counter good_ns {
	}
	counter good_uid {
	}
	chain pre {
		type filter hook prerouting priority -400; policy accept;
		meta l4proto { tcp, udp } th dport $BAD counter name "bad"
		udp dport 7778 counter name "good_ns"
		udp dport 7779 counter name "good_uid"
	}
}
EOF
SYSCTLS0=$(sysctls)

A=$LIB_TMP/A.conf
B=$LIB_TMP/B.conf
cat >"$A" <<'EOF'
# fault-kill: policy A
settings {
	wan wan0
}
jail web {
	backend uid
	user 1099
	allow udp/7777-7779
	allow tcp/443
}
jail alpha {
	backend netns
	ipv4 10.97.40.0/24
	allow udp/7777-7779
	allow tcp/443
}
jail beta {
	backend netns
	ipv4 10.97.41.0/24
	dns 10.97.41.1
	allow udp/7777-7779
}
EOF
cat >"$B" <<'EOF'
# fault-kill: policy B
settings {
	wan wan0
}
jail web {
	backend uid
	user 1099
	allow udp/7777-7779
	allow tcp/80
}
jail mail {
	backend uid
	user 1100
	allow udp/7777-7779
}
jail alpha {
	backend netns
	ipv4 10.97.40.0/24
	allow udp/7777-7779
	allow tcp/22
}
jail gamma {
	backend netns
	ipv4 10.97.42.0/24
	ipv6 fd00:97:42::/112
	dns 10.97.42.1
	allow udp/7777-7779
}
EOF
chmod 0644 "$A" "$B"

# The sender: sends one UDP datagram and one TCP SYN to every target, from
# inside each named jail namespace that exists at the moment (MODE jails)
# or from where it runs (MODE here), about fifty times a second, until
# STOP exists; then prints how much it sent, per namespace.  It
# enters a namespace with setns(2) and creates its sockets there (a socket
# stays in the namespace it was made in), so one process covers jails
# that come and go; a namespace file without a namespace on it (a
# creation killed half-way) is skipped.
cat >"$LIB_TMP/sender.py" <<'EOF'
import ctypes, errno, os, socket, sys, time

CLONE_NEWNET = 0x40000000
mode, stop, lifetime = sys.argv[1:4]
args = sys.argv[4:]
if mode == "jails":
    where = args[0].split(",")
    args = args[1:]
else:
    where = [None]
targets = []
for t in args:
    proto, rest = t.split("/", 1)
    port, addr = rest.split("@", 1)
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    targets.append((fam, proto, addr, int(port)))
libc = ctypes.CDLL(None, use_errno=True)
home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
sent = {w: 0 for w in where}
deadline = time.monotonic() + float(lifetime)


def fire():
    n = 0
    for fam, proto, addr, port in targets:
        s = socket.socket(fam, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            if proto == "udp":
                s.sendto(b"x", (addr, port))
                n += 1
            elif s.connect_ex((addr, port)) in (0, errno.EINPROGRESS):
                n += 1
        except OSError:
            pass
        finally:
            s.close()
    return n


while not os.path.exists(stop) and time.monotonic() < deadline:
    for w in where:
        if w is None:
            sent[w] += fire()
            continue
        try:
            fd = os.open("/run/netns/" + w, os.O_RDONLY)
        except OSError:
            continue
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                continue
            try:
                sent[w] += fire()
            finally:
                if libc.setns(home, CLONE_NEWNET) != 0:
                    print("sender: cannot return home", file=sys.stderr)
                    os._exit(2)
        finally:
            os.close(fd)
    time.sleep(0.02)
for w in where:
    print("%s %d" % (w or "here", sent[w]))
EOF
chmod 0644 "$LIB_TMP/sender.py"

# start_sender NAME WHO MODE ARGS...: WHO root or a uid.
start_sender()
{
	local name=$1 who=$2 pid

	shift 2
	rm -f "$LIB_TMP/$name.stop" "$LIB_TMP/$name.log"
	# The log is opened here, by root: the sender may run as a uid that
	# cannot write to $LIB_TMP.
	lib_as "$who" "$LIB_PY" -I "$LIB_TMP/sender.py" "$1" "$LIB_TMP/$name.stop" 600 \
		"${@:2}" >"$LIB_TMP/$name.log" 2>"$LIB_TMP/$name.err" &
	pid=$!
	disown "$pid"
	lib_defer kill "$pid"
}

# stop_sender NAME: ends it and waits for its log.
stop_sender()
{
	touch "$LIB_TMP/$1.stop"
	lib_wait_for 10 test -s "$LIB_TMP/$1.log"
}

# sent NAME WHERE: how many packets the sender got out in WHERE.
sent()
{
	awk -v w="$2" '$1 == w {print $2}' "$LIB_TMP/$1.log" 2>/dev/null
}

# ---------------------------------------------------------------- controls

# The far end counts what reaches it: root and the future jail uids, not
# confined yet, send to the bad port and it moves.  Every "counted no
# packet" below is therefore jailfw's doing, not a deaf observer.
B0=$(far bad)
lib_as root "$LIB_PY" -I "$LIB_TMP/probe.py" udp $N4 $BAD control 0.2 >/dev/null 2>&1
lib_as 1099 "$LIB_PY" -I "$LIB_TMP/probe.py" udp $N6 $BAD control 0.2 >/dev/null 2>&1
lib_as 1100 "$LIB_PY" -I "$LIB_TMP/probe.py" tcp $N4 $BAD control 0.2 >/dev/null 2>&1
check_eq "control: the far end counts packets to port $BAD (root, uids 1099, 1100)" \
	"$(far bad)" $((${B0:-0} + 3))

check "apply A" "$JAILFW" apply "$A" || lib_bail "apply A failed; nothing to test"
BAD_BASE=$(far bad)
start_sender jails root jails alpha,beta,gamma \
	udp/$BAD@$N4 tcp/$BAD@$N4 udp/$BAD@$N6 tcp/$BAD@$N6 udp/7778@$N4 udp/7778@$N6
start_sender uid 1099 here udp/$BAD@$N4 tcp/$BAD@$N4 udp/$BAD@$N6 tcp/$BAD@$N6 udp/7779@$N4
G0=$(far good_ns)
U0=$(far good_uid)
# The senders do get out when the policy lets them: their allowed port
# counts, so the bad port's zero means dropped, not never sent.
check "control: the jails' sender reaches the far end on an allowed port" \
	lib_wait_for 5 far_above good_ns "${G0:-0}"
check "control: the uid jail's sender reaches the far end on an allowed port" \
	lib_wait_for 5 far_above good_uid "${U0:-0}"
far_clean "policy A in force"

# ---------------------------------------------------------------- apply, killed at each step

# Where it died: the hook fired right after the step, not before or later
# (so that the convergence below is from the state each step leaves).
died_at()
{
	local s=$1 w="apply killed at $1"

	case $s in
	lock)
		check "$w: nothing changed yet (no namespace gamma)" test ! -e /run/netns/gamma
		check "$w: nothing changed yet (policy A's table)" table_has 10.97.41.0/24
		;;
	netns-created)
		check "$w: namespace gamma made" test -e /run/netns/gamma
		check "$w: no gamma-out yet" sh -c '! ip link show dev gamma-out'
		;;
	veth-created)
		check "$w: gamma-out made, down" link_down gamma-out
		check_fails "$w: gamma-out not labelled yet" has_alias gamma-out
		;;
	addrs-set)
		check_match "$w: gamma-out has its address" "$(ip -o addr show dev gamma-out)" \
			" 10\.97\.42\.1/24 "
		check "$w: gamma-out still down" link_down gamma-out
		;;
	sysctls-written)
		check_eq "$w: IPv6 forwarding on" "$(sysctl -n net.ipv6.conf.all.forwarding)" 1
		check "$w: gamma-out still down" link_down gamma-out
		check "$w: policy A's table still in force" table_has 10.97.41.0/24
		;;
	handover-loaded)
		# Both in force: a jail gets only what A and B both allow.
		check "$w: policy A's table still in force" table_has 10.97.41.0/24
		check "$w: policy B's ruleset in the handover table" \
			sh -c 'nft list table inet jailfw-handover | grep -q 10.97.42.0/24'
		check "$w: gamma-out still down" link_down gamma-out
		;;
	ruleset-committed)
		check "$w: policy B's table in force" table_has 10.97.42.0/24
		check "$w: gamma-out still down" link_down gamma-out
		check "$w: beta-out down (cut)" link_down beta-out
		;;
	links-up)
		check "$w: gamma-out up" link_up gamma-out
		check "$w: namespace beta not removed yet" test -e /run/netns/beta
		;;
	netns-removed)
		check "$w: namespace beta removed" test ! -e /run/netns/beta
		check_match "$w: the state still says applying" "$(cat $STATE)" "^phase applying"
		;;
	state-written)
		check_match "$w: the state says idle" "$(cat $STATE)" "^phase idle"
		;;
	esac
}

for s in $APPLY_STEPS; do
	w="apply killed at $s"
	check_exit "$w: back to policy A first" 0 "$JAILFW" apply "$A" ||
		printf '%s\n' "$LIB_ERR" | sed 's/^/    | /'
	check_exit "$w: died by SIGKILL (137)" 137 env JAILFW_TEST_KILL_AT="$s" "$JAILFW" apply "$B"
	died_at "$s"
	far_clean "$w"
	check_exit "$w: the next apply of B converges" 0 "$JAILFW" apply "$B" ||
		printf '%s\n' "$LIB_ERR" | sed 's/^/    | /'
	converged "$w" "$B" "alpha gamma"
	check_reach_ns "$w: gamma reaches udp/7777 v6" gamma udp $N6 7777
	check_reach "$w: uid jail mail (new in B) reaches udp/7777" 1100 udp $N4 7777
	far_clean "$w, after convergence"
done

# mail is a jail now: its packets to the bad port are dropped (the far end,
# which counted uid 1100 before any apply, does not move).
lib_as 1100 "$LIB_PY" -I "$LIB_TMP/probe.py" udp $N4 $BAD mail 0.2 >/dev/null 2>&1
far_clean "policy B: uid jail mail sent to port $BAD"

# ---------------------------------------------------------------- down, killed at each step

# down removes the table, and with it the only thing that confines a uid
# jail: once it is gone, uid 1099 is an ordinary user again, by
# definition.  So the uid sender stops here; the netns sender goes on (a
# jail's link is cut before its rules go, so it must still count zero).
stop_sender uid
check "the uid sender sent from start to here" test "$(sent uid here)" -gt 0

down_died_at()
{
	local s=$1 w="down killed at $1"

	case $s in
	lock)
		check "$w: nothing changed yet (table there)" table_has 10.97.42.0/24
		check "$w: nothing changed yet (gamma-out up)" link_up gamma-out
		;;
	links-down)
		check "$w: alpha-out down" link_down alpha-out
		check "$w: gamma-out down" link_down gamma-out
		check "$w: table still there" table_has 10.97.42.0/24
		;;
	table-deleted)
		check "$w: no table" no_table
		check "$w: namespace alpha still there" test -e /run/netns/alpha
		check "$w: alpha-out down" link_down alpha-out
		;;
	netns-removed)
		check "$w: namespaces gone" test -z "$(jail_namespaces)"
		check_eq "$w: IPv6 forwarding still jailfw's 1" \
			"$(sysctl -n net.ipv6.conf.all.forwarding)" 1
		;;
	sysctls-restored)
		check_eq "$w: sysctls restored" "$(sysctls)" "$SYSCTLS0"
		check "$w: the state is still there" test -e $STATE
		;;
	state-removed)
		check "$w: the state is gone" test ! -e $STATE
		;;
	esac
}

for s in $DOWN_STEPS; do
	w="down killed at $s"
	check_exit "$w: policy B first" 0 "$JAILFW" apply "$B" ||
		printf '%s\n' "$LIB_ERR" | sed 's/^/    | /'
	check_exit "$w: died by SIGKILL (137)" 137 env JAILFW_TEST_KILL_AT="$s" "$JAILFW" down
	down_died_at "$s"
	far_clean "$w"
	check_exit "$w: the next down converges" 0 "$JAILFW" down ||
		printf '%s\n' "$LIB_ERR" | sed 's/^/    | /'
	check "$w: no table" no_table
	exactly "" "$w"
	check_eq "$w: sysctls as before the first apply" "$(sysctls)" "$SYSCTLS0"
	check "$w: no state left" test ! -e $STATE
	check "$w: no resolv.conf left" test -z "$(ls /etc/netns)"
	check "$w: status is clean" "$JAILFW" status
	far_clean "$w, after convergence"
done

# ---------------------------------------------------------------- signals at a paused step

# paused RUNNER SIG STEP ARGS...: run jailfw ARGS with JAILFW_TEST_PAUSE_AT=
# STEP in the background, wait until it has stopped itself there, deliver
# SIG, let it go on, and leave its exit status in PAUSED_RC and its stderr
# in PAUSED_ERR.  RUNNER "default" resets SIGINT to its default action
# (a shell leaves it ignored in its background jobs), "inherit" keeps what
# the shell gives.
paused()
{
	local runner=$1 sig=$2 step=$3 pid pre=()

	shift 3
	[ "$runner" = default ] && pre=(--default-signal=INT)
	env "${pre[@]}" JAILFW_TEST_PAUSE_AT="$step" "$JAILFW" "$@" \
		>"$LIB_TMP/paused.out" 2>"$LIB_TMP/paused.err" &
	pid=$!
	if ! lib_wait_for 20 stopped "$pid"; then
		fail "paused at $step: jailfw never stopped there (state $(pstate "$pid"))" \
			"$(cat "$LIB_TMP/paused.err")"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		PAUSED_RC=-1
		return 1
	fi
	kill -"$sig" "$pid"
	# Still stopped: a held signal does not end it.
	sleep 0.2
	check_eq "paused at $step: still there after SIG$sig" "$(pstate "$pid")" T
	kill -CONT "$pid"
	wait "$pid"
	PAUSED_RC=$?
	PAUSED_ERR=$(cat "$LIB_TMP/paused.err")
}

check "signals: policy A first" "$JAILFW" apply "$A"
paused default TERM netns-created apply "$B"
check_eq "SIGTERM mid-apply: died by SIGTERM (143) once done" "$PAUSED_RC" 143
check_match "SIGTERM mid-apply: it stopped at the step" "$PAUSED_ERR" "test pause at netns-created"
check_match "SIGTERM mid-apply: says it finished first" "$PAUSED_ERR" \
	"SIGTERM received; the apply finished first"
check "SIGTERM mid-apply: the apply finished (diff B finds nothing to do)" "$JAILFW" diff "$B"
check "SIGTERM mid-apply: status is clean" "$JAILFW" status
exactly "alpha gamma" "SIGTERM mid-apply"
far_clean "SIGTERM mid-apply"

paused default INT ruleset-committed apply "$A"
check_eq "SIGINT mid-apply: died by SIGINT (130) once done" "$PAUSED_RC" 130
check_match "SIGINT mid-apply: says it finished first" "$PAUSED_ERR" \
	"SIGINT received; the apply finished first"
check "SIGINT mid-apply: the apply finished (diff A finds nothing to do)" "$JAILFW" diff "$A"
check "SIGINT mid-apply: status is clean" "$JAILFW" status
exactly "alpha beta" "SIGINT mid-apply"
far_clean "SIGINT mid-apply"

# Started in the background by a shell, SIGINT is ignored: it stays so.
paused inherit INT links-up apply "$B"
check_eq "ignored SIGINT mid-apply: exits 0" "$PAUSED_RC" 0
check_fails "ignored SIGINT mid-apply: nothing said about it" \
	grep -q "received" "$LIB_TMP/paused.err"
check "ignored SIGINT mid-apply: the apply finished" "$JAILFW" diff "$B"

paused default TERM table-deleted down
check_eq "SIGTERM mid-down: died by SIGTERM (143) once done" "$PAUSED_RC" 143
check_match "SIGTERM mid-down: says it finished first" "$PAUSED_ERR" \
	"SIGTERM received; the down finished first"
check "SIGTERM mid-down: no table" no_table
exactly "" "SIGTERM mid-down"
check "SIGTERM mid-down: no state left" test ! -e $STATE
check_eq "SIGTERM mid-down: sysctls as before the first apply" "$(sysctls)" "$SYSCTLS0"
far_clean "SIGTERM mid-down"

# Waiting for the lock is not held up: nothing has changed yet.
check "lock wait: policy A first" "$JAILFW" apply "$A"
flock /run/jailfw/lock sh -c "touch '$LIB_TMP/held'; while [ ! -e '$LIB_TMP/release' ]; do sleep 0.1; done" &
HOLDER=$!
lib_defer touch "$LIB_TMP/release"
lib_wait_for 5 test -e "$LIB_TMP/held" || lib_bail "could not take /run/jailfw/lock"
"$JAILFW" apply "$B" >/dev/null 2>&1 &
WAITER=$!
sleep 0.5
check "lock wait: the apply is waiting" kill -0 "$WAITER"
kill -TERM "$WAITER"
wait "$WAITER"
check_eq "lock wait: SIGTERM ends it at once (143)" "$?" 143
touch "$LIB_TMP/release"
wait "$HOLDER"
check "lock wait: nothing changed (diff A finds nothing to do)" "$JAILFW" diff "$A"

# ---------------------------------------------------------------- the end

check "down" "$JAILFW" down
stop_sender jails
for j in alpha beta gamma; do
	check "the jails' sender sent from inside $j" test "$(sent jails "$j")" -gt 0
done
far_clean "from start to end"

lib_done
