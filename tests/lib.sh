# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lib.sh: the namespace test library, sourced by every tests/e2e/*.sh.
#
# An e2e script builds its own world and never touches the machine's:
#
#	. "$(dirname "$0")/../lib.sh"
#	lib_enter_sandbox "$@"		# re-executes the script in a new net+mount ns
#	lib_netns_add net		# "the internet"
#	lib_veth "" wan0 net eth0	# "" is the sandbox namespace itself
#	lib_addr "" wan0 192.0.2.1/24
#	...
#	check "jail reaches tcp/80" lib_reach 1099 tcp 192.0.2.2 80
#	lib_done
#
# Output, one line per check, read by tests/run:
#	PASS name
#	FAIL name		followed by indented detail lines
#	SKIP name: why
# A script exits non-zero when any check failed.
#
# Why the sandbox is built the way it is:
#  - unshare --net gives the script a network namespace of its own: every
#    link, address, route and nftables table it creates dies with it, and the
#    machine's ruleset is never read or written.
#  - unshare --mount --propagation private is needed as well, because named
#    namespaces live as bind mounts under /run/netns.  `ip netns add` makes
#    /run/netns a *shared* mount; without a private mount namespace and a
#    tmpfs of our own over it, those bind mounts would propagate to the host
#    and outlive the test.  /run/jailfw (jailfw's state and lock),
#    /etc/netns (per-jail resolv.conf) and /etc/jailfw (the default policy
#    directory and local templates) get a private tmpfs for the same
#    reason: the test must not see or leave anything the host's jailfw owns.
#  - unshare --pid --fork --mount-proc: the script is pid 1 of a pid
#    namespace of its own and /proc shows its processes alone.  jailfw
#    doctor and exec read /proc, and the tests run processes as uid 1099
#    and the like: two suites at once (the CI's lanes) would otherwise see
#    each other's.  When the script ends, the kernel ends whatever it
#    left running.  A script that cannot have it (firejail takes a /proc
#    without the kernel's threads for a sandbox already and then runs its
#    command without one) sets LIB_HOST_PIDS=1 before lib_enter_sandbox.
#  - The sandbox namespace plays "the host": jailfw runs there, and the uid
#    jails' processes run there (as uid 1099 etc. via setpriv).
#  - Inside the sandbox $JAILFW is a copy of the binary under $LIB_TMP, and
#    $JAILFW_TEMPLATE_PATH a copy of templates/, so that uids other than
#    root can run them wherever the checkout is.

LIB_NAME=$(basename "$0" .sh)
LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${JAILFW:=$LIB_ROOT/build/jailfw}"
# The test build (src/testhook.h): the same jailfw with the JAILFW_TEST_*
# hooks, for the scripts that call lib_use_testhooks.
: "${JAILFW_TESTHOOKS:=$(dirname "$JAILFW")/jailfw-testhooks}"
export JAILFW JAILFW_TESTHOOKS
export JAILFW_TEMPLATE_PATH="${JAILFW_TEMPLATE_PATH:-$LIB_ROOT/templates}"

# The distribution's python3, not a per-user shim (pyenv and the like live
# under root's home, which the jailed uids cannot read).
if [ -x /usr/bin/python3 ]; then
	LIB_PY=/usr/bin/python3
else
	LIB_PY=$(command -v python3 || echo python3)
fi

LIB_PASSED=0
LIB_FAILED=0
LIB_SKIPPED=0
LIB_DONE=0
LIB_CLEANUP=()
LIB_TMP=

# ---------------------------------------------------------------- results

pass()
{
	LIB_PASSED=$((LIB_PASSED + 1))
	echo "PASS $1"
}

# fail NAME [DETAIL...]: each detail is printed indented under the FAIL line.
fail()
{
	local name=$1 line

	shift
	LIB_FAILED=$((LIB_FAILED + 1))
	echo "FAIL $name"
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/    | /'
	done
}

skip()
{
	LIB_SKIPPED=$((LIB_SKIPPED + 1))
	echo "SKIP $1: $2"
}

# check NAME CMD...: passes when CMD exits 0; on failure shows CMD's output.
check()
{
	local name=$1 out rc

	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "command failed (exit $rc): $*" "$out"
	return 1
}

# check_fails NAME CMD...: passes when CMD exits non-zero.
check_fails()
{
	local name=$1 out rc

	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "command unexpectedly succeeded: $*" "$out"
	return 1
}

# check_eq NAME GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
		return 0
	fi
	fail "$1" "got:  $2" "want: $3"
	return 1
}

# check_match NAME TEXT ERE: TEXT has a line matching the extended regex.
check_match()
{
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
		return 0
	fi
	fail "$1" "no line matches /$3/ in:" "$2"
	return 1
}

# check_same NAME FILE1 FILE2: the files are byte-identical (diff on failure).
check_same()
{
	local out

	if out=$(diff -u "$2" "$3" 2>&1); then
		pass "$1"
		return 0
	fi
	fail "$1" "$out"
	return 1
}

# lib_bail WHAT: the world could not be built; no point in going on.
lib_bail()
{
	fail "$LIB_NAME: setup: $1" "${@:2}"
	exit 1
}

# Call at the end of every script: exits 1 if any check failed.
lib_done()
{
	LIB_DONE=1
	if [ "$LIB_FAILED" -gt 0 ]; then
		exit 1
	fi
	if [ "$((LIB_PASSED + LIB_SKIPPED))" -eq 0 ]; then
		fail "$LIB_NAME: no checks ran"
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- cleanup

# lib_defer CMD [ARGS...]: run CMD at exit, in reverse order of deferral.
lib_defer()
{
	local cmd

	printf -v cmd '%q ' "$@"
	LIB_CLEANUP+=("$cmd")
}

lib_cleanup()
{
	local i

	for ((i = ${#LIB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${LIB_CLEANUP[i]}" >/dev/null 2>&1
	done
	LIB_CLEANUP=()
}

# Every process still in a network namespace this script created was started
# by it (the sandbox and its netns are private to the script): end them by
# id, so that no listener or stuck probe outlives the test.
lib__kill_leftovers()
{
	local me p ns nslist=()

	me=$(readlink /proc/$$/ns/net) || return 0
	nslist+=("$me")
	for ns in /run/netns/*; do
		[ -e "$ns" ] && nslist+=("$(stat -L -c 'net:[%i]' "$ns" 2>/dev/null)")
	done
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" != $$ ] || continue
		ns=$(readlink "/proc/$p/ns/net" 2>/dev/null) || continue
		case " ${nslist[*]} " in
		*" $ns "*) kill -KILL "$p" 2>/dev/null ;;
		esac
	done
}

lib__on_exit()
{
	local rc=$?

	trap - EXIT INT TERM
	lib__kill_leftovers
	lib_cleanup
	if [ "$LIB_DONE" -ne 1 ] && [ "$rc" -eq 0 ]; then
		# A script that stops without lib_done lost some of its checks.
		fail "$LIB_NAME: script ended before lib_done"
		rc=1
	fi
	exit "$rc"
}

# ---------------------------------------------------------------- sandbox

lib__need_tools()
{
	local t missing=

	for t in unshare nft ip setpriv mount timeout "$LIB_PY"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		# install-deps provides all of these: their absence is a failure.
		echo "FAIL $LIB_NAME: missing tools:$missing (run tests/install-deps)"
		exit 1
	fi
}

# lib_enter_sandbox "$@": re-execute this script under
# unshare --net --mount --propagation private (and --pid, see above), then
# set up the private mounts, lo, traps and a work directory ($LIB_TMP).
lib_enter_sandbox()
{
	local d created=() rc lockfd pidns=(--pid --fork --kill-child --mount-proc)

	if [ "${JAILFW_E2E_SANDBOX:-}" != "$LIB_NAME" ]; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "SKIP $LIB_NAME: needs root (unshare --net --mount)"
			exit 0
		fi
		lib__need_tools
		if [ ! -x "$JAILFW" ]; then
			echo "FAIL $LIB_NAME: no jailfw binary at $JAILFW (build first)"
			exit 1
		fi
		# Mount points must exist before the private tmpfs can cover
		# them; remove the ones we created once the sandbox is gone, but
		# only when no other sandbox runs: removing a directory detaches
		# the mounts other mount namespaces have on it, and a test that
		# runs on would then write into the machine's /etc/netns.  Each
		# sandbox holds a shared lock for its whole life; the exclusive
		# one is only to be had when none runs.
		exec {lockfd}>>/tmp/jailfw-e2e.lock && flock -s "$lockfd"
		for d in /run/netns /run/jailfw /etc/netns /etc/jailfw; do
			if [ ! -d "$d" ]; then
				mkdir -p "$d" && created+=("$d")
			fi
		done
		# A handler, not "ignore": an ignored signal would stay ignored
		# in the sandboxed script, whose own traps clean up.  This one
		# only lets us outlive it long enough to remove the mount points.
		trap 'rc=143' TERM
		trap 'rc=130' INT
		# with-root-mount: in a chroot (/ no mount point), unshare's
		# --propagation private would fail (EINVAL) and leave the
		# script's mounts shared with the machine's.
		[ "${LIB_HOST_PIDS:-}" != 1 ] || pidns=()
		JAILFW_E2E_SANDBOX=$LIB_NAME "$LIB_ROOT/tests/with-root-mount" \
			unshare --net --mount --propagation private "${pidns[@]}" -- \
			"$BASH" "$0" "$@" {lockfd}>&-
		rc=$?
		trap - TERM INT
		if [ "${#created[@]}" -gt 0 ] && flock -xn "$lockfd"; then
			for d in "${created[@]}"; do
				rmdir "$d" 2>/dev/null
			done
		fi
		exit "$rc"
	fi

	trap lib__on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	for d in /run/netns /run/jailfw /etc/netns /etc/jailfw; do
		if ! mount -t tmpfs -o mode=0755 jailfw-test "$d"; then
			echo "FAIL $LIB_NAME: cannot mount a private tmpfs on $d"
			exit 1
		fi
	done
	ip link set lo up || exit 1
	# Unprivileged ICMP echo sockets, so the probes can ping as any uid
	# without raw sockets or a setuid ping (per netns: this one only).
	echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range

	LIB_TMP=$(mktemp -d /tmp/jailfw-e2e.XXXXXX) || exit 1
	lib_defer rm -rf "$LIB_TMP"
	LIB_LAST_ERR_FILE=$LIB_TMP/last-probe.err
	umask 022
	# The jailed uids read the probe helper and the policies from here.
	chmod 0755 "$LIB_TMP"
	lib__write_probe
	lib__write_send
	# Tests run jailfw as other uids too, and a CI checkout may sit below a
	# directory they cannot enter (/root): give them a copy of the binary
	# and of the templates in a place every uid can read.
	mkdir -p "$LIB_TMP/bin" || exit 1
	cp "$JAILFW" "$LIB_TMP/bin/jailfw" || lib_bail "copy $JAILFW"
	JAILFW=$LIB_TMP/bin/jailfw
	if [ -x "$JAILFW_TESTHOOKS" ]; then
		cp "$JAILFW_TESTHOOKS" "$LIB_TMP/bin/jailfw-testhooks" ||
			lib_bail "copy $JAILFW_TESTHOOKS"
		JAILFW_TESTHOOKS=$LIB_TMP/bin/jailfw-testhooks
	fi
	if [ -d "$JAILFW_TEMPLATE_PATH" ]; then
		cp -r "$JAILFW_TEMPLATE_PATH" "$LIB_TMP/templates" &&
			JAILFW_TEMPLATE_PATH=$LIB_TMP/templates
	fi
}

# lib_use_testhooks: from here on $JAILFW is the test build, whose
# JAILFW_TEST_* variables make it fail, stop or die on request; the
# installed jailfw has none (src/testhook.h).
lib_use_testhooks()
{
	[ -x "$JAILFW_TESTHOOKS" ] ||
		lib_bail "no test build at $JAILFW_TESTHOOKS (make builds it next to jailfw)"
	JAILFW=$JAILFW_TESTHOOKS
	export JAILFW
}

# ---------------------------------------------------------------- topology

# lib_ns NS CMD...: run CMD in netns NS ("" = the sandbox namespace itself).
lib_ns()
{
	local ns=$1

	shift
	if [ -z "$ns" ]; then
		"$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

# lib_netns_add NAME: a named namespace (as `ip netns add` makes it), lo up.
lib_netns_add()
{
	ip netns add "$1" || return 1
	lib_defer ip netns del "$1"
	ip -n "$1" link set lo up
}

# lib_veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces, both up.
lib_veth()
{
	local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4

	ip link add "$if_a" type veth peer name "$if_b" || return 1
	if [ -n "$ns_a" ]; then
		ip link set "$if_a" netns "$ns_a" || return 1
	fi
	if [ -n "$ns_b" ]; then
		ip link set "$if_b" netns "$ns_b" || return 1
	fi
	lib_ns "$ns_a" ip link set "$if_a" up || return 1
	lib_ns "$ns_b" ip link set "$if_b" up || return 1
	lib_defer lib_ns "$ns_a" ip link del "$if_a"
}

# lib_addr NS IF ADDR/LEN: IPv6 addresses are added without duplicate
# address detection, or they stay "tentative" for a second or more and
# neither bind() nor routing will use them.
lib_addr()
{
	case $3 in
	*:*) lib_ns "$1" ip -6 addr add "$3" dev "$2" nodad ;;
	*) lib_ns "$1" ip addr add "$3" dev "$2" ;;
	esac
}

# lib_route NS DEST VIA
lib_route()
{
	lib_ns "$1" ip route add "$2" via "$3"
}

# lib_internet: the usual "internet" next to the sandbox (which plays the
# host), on one veth, reachable by root once this returns:
#
#   [ sandbox = "host" ] wan0 ---veth--- eth0 [ netns "net" = the internet ]
#     192.0.2.1/24     2001:db8:1::1/64        192.0.2.2/24     2001:db8:1::2/64
#     198.51.100.1/24  2001:db8:2::1/64        198.51.100.2/24  2001:db8:2::2/64
lib_internet()
{
	local a

	lib_netns_add net || lib_bail "netns net"
	lib_veth "" wan0 net eth0 || lib_bail "veth wan0/eth0"
	for a in 192.0.2.1/24 198.51.100.1/24 2001:db8:1::1/64 2001:db8:2::1/64; do
		lib_addr "" wan0 "$a" || lib_bail "address $a on wan0"
	done
	for a in 192.0.2.2/24 198.51.100.2/24 2001:db8:1::2/64 2001:db8:2::2/64; do
		lib_addr net eth0 "$a" || lib_bail "address $a on eth0"
	done
	for a in 192.0.2.2 198.51.100.2 2001:db8:1::2 2001:db8:2::2; do
		lib_wait_for 10 lib_ping root "$a" ||
			lib_bail "root pings $a" "$(cat "$LIB_LAST_ERR_FILE")"
	done
}

# lib_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
lib_wait_for()
{
	local deadline=$((SECONDS + $1))

	shift
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# ---------------------------------------------------------------- probes

# lib_as WHO CMD...: WHO is "root" or a numeric uid (the gid is the same
# number; no supplementary groups).
lib_as()
{
	local who=$1

	shift
	if [ "$who" = root ]; then
		"$@"
	else
		setpriv --reuid="$who" --regid="$who" --clear-groups -- "$@"
	fi
}

# lib_serve NS NAME SPEC...: start a listener in NS that records every
# connection or datagram (protocol, port, the source address it saw and
# the token the probe sent) in $LIB_TMP/NAME.log and answers "ok".
# SPEC is tcp:ADDR:PORT or udp:ADDR:PORT, IPv6 in brackets; ADDR [::] is
# dual-stack.
lib_serve()
{
	local ns=$1 name=$2 log pid

	shift 2
	log=$LIB_TMP/$name.log
	: >"$log"
	# Bounded lifetime: a listener can never outlive a wedged script by much.
	# Started directly, not through a shell function, so that $! is the
	# listener itself and the deferred kill reaches it.
	if [ -z "$ns" ]; then
		"$LIB_PY" -I "$LIB_TMP/probe.py" serve "$log" 600 "$@" \
			2>>"$LIB_TMP/$name.err" &
	else
		ip netns exec "$ns" "$LIB_PY" -I "$LIB_TMP/probe.py" serve "$log" 600 "$@" \
			2>>"$LIB_TMP/$name.err" &
	fi
	pid=$!
	# No "Killed" job notice from bash when cleanup ends it.
	disown "$pid"
	lib_defer kill "$pid"
	if ! lib_wait_for 5 grep -qx ready "$log"; then
		echo "listener $name did not start: $(cat "$LIB_TMP/$name.err")" >&2
		return 1
	fi
}

# lib_bg NAME CMD...: run CMD (a program, not a shell function, so that
# LIB_BG_PID is the process itself) in the background, its output in
# $LIB_TMP/NAME.out and NAME.err; killed at exit if still running.
lib_bg()
{
	local name=$1

	shift
	"$@" >"$LIB_TMP/$name.out" 2>"$LIB_TMP/$name.err" &
	LIB_BG_PID=$!
	disown "$LIB_BG_PID"
	lib_defer kill "$LIB_BG_PID"
}

# lib_reach WHO PROTO ADDR PORT [NS]: as WHO (root or a uid), from NS (default
# the sandbox), send a unique token over PROTO (tcp or udp) to ADDR:PORT.
# Succeeds when a listener recorded the token, i.e. the kernel delivered it;
# prints the source address that listener saw.  The probe's own error (e.g.
# "Operation not permitted") is kept in $LIB_LAST_ERR_FILE.
LIB_LAST_ERR_FILE=/dev/null
lib_reach()
{
	local who=$1 proto=$2 addr=$3 port=$4 ns=${5:-} token line src

	# Unique even when called in a subshell (check runs it in one).
	token="t$BASHPID-$(date +%s%N)"
	lib_ns "$ns" timeout 10 setpriv --reuid="$(lib__uid "$who")" \
		--regid="$(lib__uid "$who")" --clear-groups -- \
		"$LIB_PY" -I "$LIB_TMP/probe.py" "$proto" "$addr" "$port" "$token" 2 \
		>/dev/null 2>"$LIB_LAST_ERR_FILE"
	line=$(cat "$LIB_TMP"/*.log 2>/dev/null | grep -F " $token" | head -n 1)
	if [ -z "$line" ]; then
		return 1
	fi
	# "proto port source token"
	read -r _ _ src _ <<<"$line"
	echo "$src"
}

lib__uid()
{
	if [ "$1" = root ]; then
		echo 0
	else
		echo "$1"
	fi
}

# lib_ping WHO ADDR [NS]: one ICMP / ICMPv6 echo; succeeds on a reply.
lib_ping()
{
	local who=$1 addr=$2 ns=${3:-}

	lib_ns "$ns" timeout 10 setpriv --reuid="$(lib__uid "$who")" \
		--regid="$(lib__uid "$who")" --clear-groups -- \
		"$LIB_PY" -I "$LIB_TMP/probe.py" icmp "$addr" 2 \
		>/dev/null 2>"$LIB_LAST_ERR_FILE"
}

# lib_probe WHO PROTO ADDR [PORT]: lib_reach for tcp/udp, lib_ping for icmp.
lib_probe()
{
	case $2 in
	icmp | icmpv6) lib_ping "$1" "$3" ;;
	*) lib_reach "$@" >/dev/null ;;
	esac
}

# ---------------------------------------------------------------- traffic checks
#
# WHO is root or a numeric uid; PROTO tcp, udp or icmp (ICMPv6 for an IPv6
# ADDR); SOURCE, when given, is the source address the far end must see.
# TABLE CHAIN name the jail's chain (inet family): its last counted drop is
# the jail's drop counter, its counted jump the count of packets it saw.

lib__probe_detail()
{
	echo "$2 to $3${4:+ port $4} as uid $(lib__uid "$1"): $(cat "$LIB_LAST_ERR_FILE" 2>/dev/null)"
}

# lib_arrives WHO PROTO ADDR [PORT [SOURCE]]: succeeds when the far end got
# it (from SOURCE); otherwise prints why.
lib_arrives()
{
	local who=$1 proto=$2 addr=$3 port=${4:-} want=${5:-} src

	if [ "$proto" = icmp ] || [ "$proto" = icmpv6 ]; then
		lib_ping "$who" "$addr" && return 0
		echo "no echo reply: $(lib__probe_detail "$who" icmp "$addr")"
		return 1
	fi
	if ! src=$(lib_reach "$who" "$proto" "$addr" "$port"); then
		echo "did not arrive: $(lib__probe_detail "$who" "$proto" "$addr" "$port")"
		return 1
	fi
	if [ -n "$want" ] && [ "$src" != "$want" ]; then
		echo "the far end saw source $src, want $want"
		return 1
	fi
}

# check_reach NAME WHO PROTO ADDR [PORT [SOURCE]]
check_reach()
{
	local name=$1 why

	shift
	if why=$(lib_arrives "$@"); then
		pass "$name"
		return 0
	fi
	fail "$name" "$why"
	return 1
}

# check_allowed NAME TABLE CHAIN WHO PROTO ADDR [PORT [SOURCE]]: arrives, and
# the jail's drop counter does not move.
check_allowed()
{
	local name=$1 table=$2 chain=$3 before after why

	shift 3
	before=$(lib_nft_counter "$table" "$chain" drop)
	if ! why=$(lib_arrives "$@"); then
		fail "$name" "$why"
		return 1
	fi
	after=$(lib_nft_counter "$table" "$chain" drop)
	if [ -z "$before" ] || [ "$before" != "$after" ]; then
		fail "$name" "arrived, but $chain's drop counter is '$before' -> '$after' (want a number, unchanged)"
		return 1
	fi
	pass "$name"
}

# check_dropped NAME TABLE CHAIN WHO PROTO ADDR [PORT]: never arrives, and the
# jail's drop counter moves.
check_dropped()
{
	local name=$1 table=$2 chain=$3 who=$4 proto=$5 addr=$6 port=${7:-} before after

	before=$(lib_nft_counter "$table" "$chain" drop)
	if lib_probe "$who" "$proto" "$addr" "$port"; then
		fail "$name" "arrived, but must be dropped: $proto to $addr${port:+ port $port} as uid $(lib__uid "$who")"
		return 1
	fi
	after=$(lib_nft_counter "$table" "$chain" drop)
	if [ -z "$before" ] || [ -z "$after" ] || [ "$after" -le "$before" ]; then
		fail "$name" "not delivered, but $chain's drop counter did not move ('$before' -> '$after')" \
			"$(lib__probe_detail "$who" "$proto" "$addr" "$port")"
		return 1
	fi
	pass "$name"
}

# check_free NAME TABLE CHAIN WHO PROTO ADDR [PORT [SOURCE]]: arrives, and
# the jail's chain never saw the packet (none of its counters moved).
check_free()
{
	local name=$1 table=$2 chain=$3 b1 b2 a1 a2 why

	shift 3
	b1=$(lib_nft_counter "$table" "$chain" drop)
	b2=$(lib_nft_counter "$table" "$chain" jump)
	if ! why=$(lib_arrives "$@"); then
		fail "$name" "$why"
		return 1
	fi
	a1=$(lib_nft_counter "$table" "$chain" drop)
	a2=$(lib_nft_counter "$table" "$chain" jump)
	if [ -z "$b1" ] || [ -z "$b2" ] || [ "$b1" != "$a1" ] || [ "$b2" != "$a2" ]; then
		fail "$name" "arrived, but $chain's counters are not unchanged numbers: drop '$b1' -> '$a1', jump '$b2' -> '$a2'"
		return 1
	fi
	pass "$name"
}

# check_exit NAME WANT CMD...: CMD exits with status WANT; its stdout is left
# in $LIB_OUT, its stderr in $LIB_ERR.
# shellcheck disable=SC2034
LIB_OUT=
LIB_ERR=
check_exit()
{
	local name=$1 want=$2 rc

	shift 2
	LIB_OUT=$("$@" 2>"$LIB_TMP/check_exit.err")
	rc=$?
	LIB_ERR=$(cat "$LIB_TMP/check_exit.err")
	if [ "$rc" -eq "$want" ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "exit $rc, want $want: $*" "$LIB_ERR"
	return 1
}

# ---------------------------------------------------------------- counters

# lib_nft_counter TABLE CHAIN [VERDICT]: packets of the last counted rule in
# inet TABLE CHAIN whose verdict is VERDICT (drop, accept, jump or goto (any
# target), or a target chain's name; default drop).  Prints nothing if there
# is none.
lib_nft_counter()
{
	nft -j list chain inet "$1" "$2" 2>/dev/null |
		"$LIB_PY" -I -c '
import json, sys
want = sys.argv[1]
found = ""
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for obj in doc.get("nftables", []):
    rule = obj.get("rule")
    if not rule:
        continue
    exprs = rule.get("expr", [])
    pk = None
    verdict = None
    for e in exprs:
        if "counter" in e and isinstance(e["counter"], dict):
            pk = e["counter"].get("packets")
        for v in ("drop", "accept"):
            if v in e:
                verdict = v
        for v in ("jump", "goto"):
            if v in e:
                verdict = e[v].get("target")
                if want == v:
                    verdict = v
    if pk is not None and verdict == want:
        found = str(pk)
print(found)
' "${3:-drop}"
}

# lib_nft_anon_counter TABLE CHAIN: sum of the packets of every counter in
# the chain (for foreign test tables built by the scripts).
lib_nft_anon_counter()
{
	nft -j list chain inet "$1" "$2" 2>/dev/null |
		"$LIB_PY" -I -c '
import json, sys
total = 0
for obj in json.load(sys.stdin).get("nftables", []):
    for e in obj.get("rule", {}).get("expr", []):
        if "counter" in e and isinstance(e["counter"], dict):
            total += e["counter"].get("packets", 0)
print(total)
'
}

# ---------------------------------------------------------------- the probe

lib__write_probe()
{
	cat >"$LIB_TMP/probe.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
# Traffic probes for the jailfw e2e tests (written by tests/lib.sh).
#   serve LOG LIFETIME SPEC...     SPEC = tcp:ADDR:PORT | udp:[ADDR6]:PORT
#   tcp ADDR PORT TOKEN TIMEOUT    connect, send TOKEN, expect "ok"
#   udp ADDR PORT TOKEN TIMEOUT    send TOKEN, expect "ok"
#   icmp ADDR TIMEOUT              one echo request over a ping socket
import os, select, socket, struct, sys, time


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def norm(addr):
    # A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
    return addr[7:] if addr.startswith("::ffff:") else addr


def serve(log, lifetime, specs):
    socks = {}
    for spec in specs:
        # tcp:ADDR:PORT, IPv6 addresses in brackets: udp:[::1]:123
        proto, rest = spec.split(":", 1)
        addr, port = rest.rsplit(":", 1)
        addr = addr.strip("[]")
        s = socket.socket(fam(addr), socket.SOCK_STREAM if proto == "tcp"
                          else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam(addr) == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY,
                         0 if addr == "::" else 1)
        s.bind((addr, int(port)))
        if proto == "tcp":
            s.listen(64)
        socks[s] = (proto, port)
    out = open(log, "a", buffering=1)
    out.write("ready\n")
    end = time.monotonic() + lifetime
    while time.monotonic() < end:
        ready, _, _ = select.select(list(socks), [], [], 1)
        for s in ready:
            proto, port = socks[s]
            try:
                if proto == "tcp":
                    c, peer = s.accept()
                    c.settimeout(2)
                    data = b""
                    while not data.endswith(b"\n") and len(data) < 256:
                        d = c.recv(256)
                        if not d:
                            break
                        data += d
                    out.write("tcp %s %s %s\n" % (port, norm(peer[0]),
                              data.decode(errors="replace").strip()))
                    c.sendall(b"ok\n")
                    c.close()
                else:
                    data, peer = s.recvfrom(512)
                    out.write("udp %s %s %s\n" % (port, norm(peer[0]),
                              data.decode(errors="replace").strip()))
                    s.sendto(b"ok\n", peer)
            except OSError as e:
                out.write("error %s %s %s\n" % (proto, port, e))


def tcp(addr, port, token, timeout):
    s = socket.socket(fam(addr), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, int(port)))
    s.sendall(token.encode() + b"\n")
    return s.recv(16) == b"ok\n"


def udp(addr, port, token, timeout):
    s = socket.socket(fam(addr), socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.sendto(token.encode() + b"\n", (addr, int(port)))
    data, _ = s.recvfrom(16)
    return data == b"ok\n"


def icmp(addr, timeout):
    v6 = ":" in addr
    s = socket.socket(fam(addr), socket.SOCK_DGRAM,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.settimeout(timeout)
    # The kernel fills in the identifier and the checksum.
    s.sendto(struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 0, 1) + b"jailfw",
             (addr, 0))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data, _ = s.recvfrom(1024)
        if data and data[0] == (129 if v6 else 0):
            return True
    return False


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        if cmd == "serve":
            serve(args[0], float(args[1]), args[2:])
            return 0
        if cmd == "tcp":
            ok = tcp(args[0], args[1], args[2], float(args[3]))
        elif cmd == "udp":
            ok = udp(args[0], args[1], args[2], float(args[3]))
        elif cmd == "icmp":
            ok = icmp(args[0], float(args[1]))
        else:
            print("probe: unknown command %s" % cmd, file=sys.stderr)
            return 2
    except OSError as e:
        print("%s %s: %s" % (cmd, " ".join(args[:2]), e), file=sys.stderr)
        return 1
    return 0 if ok else 1


sys.exit(main())
EOF
	chmod 0644 "$LIB_TMP/probe.py"
}

# ---------------------------------------------------------------- netns jails
#
# Probes from inside a namespace, run as root there (a netns jail confines
# everything in its namespace, whoever runs it).  NS is a namespace name, ""
# the sandbox.  A probe that is dropped waits out its whole timeout, so the
# "must not arrive" probes use LIB_NS_TIMEOUT (short), the "must arrive"
# ones LIB_NS_PASS_TIMEOUT (they return as soon as the answer comes).
LIB_NS_TIMEOUT=${LIB_NS_TIMEOUT:-1}
LIB_NS_PASS_TIMEOUT=${LIB_NS_PASS_TIMEOUT:-3}

# lib_ns_allow_ping NS: let every uid, root included, open ICMP echo
# sockets in NS.  ping_group_range is per namespace and a new one allows
# nobody, so the probe's pings fail with EACCES until this is done.
lib_ns_allow_ping()
{
	lib_ns "$1" sh -c 'echo "0 2147483647" >/proc/sys/net/ipv4/ping_group_range'
}

# The probe's tcp and udp for a link-local ADDR%IF: Python ignores the
# %scope of an address given as (host, port), and without the interface
# index the kernel refuses a link-local destination (EINVAL).  Same output
# and error format as probe.py.
LIB__LL_PROBE='
import socket, sys
proto, dst, port, token, timeout = sys.argv[1:6]
addr, ifname = dst.split("%", 1)
try:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp"
                      else socket.SOCK_DGRAM)
    s.settimeout(float(timeout))
    sa = (addr, int(port), 0, socket.if_nametoindex(ifname))
    if proto == "tcp":
        s.connect(sa)
        s.sendall(token.encode() + b"\n")
        ok = s.recv(16) == b"ok\n"
    else:
        s.sendto(token.encode() + b"\n", sa)
        ok = s.recvfrom(16)[0] == b"ok\n"
except OSError as e:
    print("%s %s %s: %s" % (proto, dst, port, e), file=sys.stderr)
    sys.exit(1)
sys.exit(0 if ok else 1)
'

# lib_reach_ns NS PROTO ADDR PORT [TIMEOUT]: as root in NS, send a unique
# token over PROTO (tcp or udp) to ADDR:PORT (a link-local ADDR carries its
# %interface).  Succeeds when a listener recorded the token; prints the
# source address it saw.  The probe's error is kept in $LIB_LAST_ERR_FILE.
lib_reach_ns()
{
	local ns=$1 proto=$2 addr=$3 port=$4 t=${5:-$LIB_NS_PASS_TIMEOUT} token line src

	token="n$BASHPID-$(date +%s%N)"
	case $addr in
	*%*)
		lib_ns "$ns" timeout $((${t%.*} + 10)) "$LIB_PY" -I -c "$LIB__LL_PROBE" \
			"$proto" "$addr" "$port" "$token" "$t" >/dev/null 2>"$LIB_LAST_ERR_FILE"
		;;
	*)
		lib_ns "$ns" timeout $((${t%.*} + 10)) "$LIB_PY" -I "$LIB_TMP/probe.py" \
			"$proto" "$addr" "$port" "$token" "$t" >/dev/null 2>"$LIB_LAST_ERR_FILE"
		;;
	esac
	line=$(cat "$LIB_TMP"/*.log 2>/dev/null | grep -F " $token" | head -n 1)
	if [ -z "$line" ]; then
		return 1
	fi
	read -r _ _ src _ <<<"$line"
	echo "$src"
}

# lib_ping_ns NS ADDR [TIMEOUT]: one ICMP / ICMPv6 echo from NS (see
# lib_ns_allow_ping); succeeds on a reply.
lib_ping_ns()
{
	local ns=$1 addr=$2 t=${3:-$LIB_NS_PASS_TIMEOUT}

	lib_ns "$ns" timeout $((${t%.*} + 10)) "$LIB_PY" -I "$LIB_TMP/probe.py" \
		icmp "$addr" "$t" >/dev/null 2>"$LIB_LAST_ERR_FILE"
}

# lib_probe_ns NS PROTO ADDR [PORT [TIMEOUT]]: lib_reach_ns, or lib_ping_ns
# for icmp (ICMPv6 for an IPv6 ADDR); the exit status says if it arrived.
lib_probe_ns()
{
	case $2 in
	icmp | icmpv6) lib_ping_ns "$1" "$3" "${5:-}" ;;
	*) lib_reach_ns "$1" "$2" "$3" "$4" "${5:-}" >/dev/null ;;
	esac
}

# lib_arrives_ns NS PROTO ADDR [PORT [SOURCE]]: succeeds when the far end
# got it (from SOURCE, when given); otherwise prints why.
lib_arrives_ns()
{
	local ns=$1 proto=$2 addr=$3 port=${4:-} want=${5:-} src

	if [ "$proto" = icmp ] || [ "$proto" = icmpv6 ]; then
		lib_ping_ns "$ns" "$addr" && return 0
		echo "no echo reply from $addr in netns '${ns:-sandbox}': $(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	if ! src=$(lib_reach_ns "$ns" "$proto" "$addr" "$port"); then
		echo "did not arrive: $proto to $addr port $port from netns '${ns:-sandbox}':" \
			"$(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	if [ -n "$want" ] && [ "$src" != "$want" ]; then
		echo "the far end saw source $src, want $want"
		return 1
	fi
}

# check_reach_ns NAME NS PROTO ADDR [PORT [SOURCE]]
check_reach_ns()
{
	local name=$1 why

	shift
	if why=$(lib_arrives_ns "$@"); then
		pass "$name"
		return 0
	fi
	fail "$name" "$why"
	return 1
}

# check_blocked_ns NAME NS PROTO ADDR [PORT]: never arrives (no counter is
# asked: for traffic that no jail chain sees).
check_blocked_ns()
{
	local name=$1 ns=$2 proto=$3 addr=$4 port=${5:-}

	if lib_probe_ns "$ns" "$proto" "$addr" "$port" "$LIB_NS_TIMEOUT"; then
		fail "$name" "arrived, but must not: $proto to $addr${port:+ port $port} from netns '${ns:-sandbox}'"
		return 1
	fi
	pass "$name"
}

# lib_nft_rule_counter TABLE CHAIN ERE: packets of the first rule of inet
# TABLE CHAIN whose `nft list` line matches ERE and has a counter.
lib_nft_rule_counter()
{
	nft list chain inet "$1" "$2" 2>/dev/null | grep -E -- "$3" |
		sed -n 's/.*counter packets \([0-9][0-9]*\) .*/\1/p' | head -n 1
}

# lib__ns_counter TABLE CHAIN ERE: ERE empty = the chain's last counted drop.
lib__ns_counter()
{
	if [ -z "$3" ]; then
		lib_nft_counter "$1" "$2" drop
	else
		lib_nft_rule_counter "$1" "$2" "$3"
	fi
}

# check_allowed_ns NAME TABLE CHAIN NS PROTO ADDR [PORT [SOURCE]]: arrives,
# and the chain's last counted drop does not move.
check_allowed_ns()
{
	local name=$1 table=$2 chain=$3 before after why

	shift 3
	before=$(lib_nft_counter "$table" "$chain" drop)
	if ! why=$(lib_arrives_ns "$@"); then
		fail "$name" "$why"
		return 1
	fi
	after=$(lib_nft_counter "$table" "$chain" drop)
	if [ -z "$before" ] || [ "$before" != "$after" ]; then
		fail "$name" "arrived, but $chain's drop counter is '$before' -> '$after' (want a number, unchanged)"
		return 1
	fi
	pass "$name"
}

lib__check_dropped_ns()
{
	local name=$1 table=$2 chain=$3 ere=$4 ns=$5 proto=$6 addr=$7 port=${8:-} before after

	before=$(lib__ns_counter "$table" "$chain" "$ere")
	if lib_probe_ns "$ns" "$proto" "$addr" "$port" "$LIB_NS_TIMEOUT"; then
		fail "$name" "arrived, but must be dropped: $proto to $addr${port:+ port $port} from netns '${ns:-sandbox}'"
		return 1
	fi
	after=$(lib__ns_counter "$table" "$chain" "$ere")
	# Dropped silently, the probe waits out its timeout; any other error
	# (refused, unreachable, invalid) means something else stopped it.
	if ! grep -q "timed out" "$LIB_LAST_ERR_FILE" 2>/dev/null; then
		fail "$name" "not delivered, but the probe did not time out (not a silent drop):" \
			"$(cat "$LIB_LAST_ERR_FILE" 2>/dev/null)"
		return 1
	fi
	if [ -z "$before" ] || [ -z "$after" ] || [ "$after" -le "$before" ]; then
		fail "$name" "not delivered, but the counter of $chain${ere:+ /$ere/} did not move ('$before' -> '$after')" \
			"probe: $(cat "$LIB_LAST_ERR_FILE" 2>/dev/null)"
		return 1
	fi
	pass "$name"
}

# check_dropped_ns NAME TABLE CHAIN NS PROTO ADDR [PORT]: never arrives, and
# the chain's last counted drop moves.
check_dropped_ns()
{
	local name=$1 table=$2 chain=$3

	shift 3
	lib__check_dropped_ns "$name" "$table" "$chain" "" "$@"
}

# check_dropped_rule_ns NAME TABLE CHAIN ERE NS PROTO ADDR [PORT]: never
# arrives, and the counter of the chain's rule matching ERE moves (e.g. the
# anti-spoofing or jail-to-jail drop).
check_dropped_rule_ns()
{
	lib__check_dropped_ns "$@"
}

# lib_no_tentative NS: no IPv6 address in NS is still doing duplicate
# address detection (link-local addresses are unusable until it is done).
lib_no_tentative()
{
	[ -z "$(lib_ns "$1" ip -6 addr show tentative 2>/dev/null)" ]
}

# lib_settle: no IPv6 address still doing duplicate address detection in
# the sandbox or any namespace under /run/netns.  DAD ends on its own, a
# second or so after a link comes up, and seconds later when many
# namespaces come and go on the machine at once (its timers wait for the
# rtnl lock): a snapshot taken during it differs from one taken after.
lib_settle()
{
	local ns

	lib_wait_for 30 lib_no_tentative "" || return 1
	for ns in /run/netns/*; do
		[ "$(stat -f -c %T "$ns" 2>/dev/null)" = nsfs ] || continue
		lib_wait_for 30 lib_no_tentative "$(basename "$ns")" || return 1
	done
}

# lib_link_local NS IF: IF's IPv6 link-local address in NS.
lib_link_local()
{
	lib_ns "$1" ip -6 -o addr show dev "$2" scope link |
		sed -n 's/.* inet6 \(fe80[^/]*\)\/.*/\1/p' | head -n 1
}

# lib_wan_internet: "the internet" behind the sandbox's wan, for netns
# jails (their traffic is routed and masqueraded out of wan0):
#
#   [ sandbox = "host" ] wan0 ---veth--- eth0 [ netns "net" = the internet ]
#     192.0.2.1/24   2001:db8:1::1/64       192.0.2.2/24   2001:db8:1::2/64
#     routes to 198.51.100.0/24, 203.0.113.0/24,     lo: 198.51.100.1 203.0.113.1
#       2001:db8:2::/64, 2001:db8:3::/64 via net         203.0.113.7 2001:db8:2::1
#                                                        2001:db8:3::1 2001:db8:3::7
#                                                    default routes via the host
#
# net's default routes point at the host, so it answers whatever the host
# forwards to it without masquerading (another LAN behind the host), and can
# itself send to addresses behind the host (a jail's, directly).  Root in
# the sandbox and in net may ping.
lib_wan_internet()
{
	local a

	lib_netns_add net || lib_bail "netns net"
	lib_ns_allow_ping net || lib_bail "ping_group_range in net"
	lib_veth "" wan0 net eth0 || lib_bail "veth wan0/eth0"
	for a in 192.0.2.1/24 2001:db8:1::1/64; do
		lib_addr "" wan0 "$a" || lib_bail "address $a on wan0"
	done
	for a in 192.0.2.2/24 2001:db8:1::2/64; do
		lib_addr net eth0 "$a" || lib_bail "address $a on eth0"
	done
	for a in 198.51.100.1/32 203.0.113.1/32 203.0.113.7/32 2001:db8:2::1/128 \
		2001:db8:3::1/128 2001:db8:3::7/128; do
		lib_addr net lo "$a" || lib_bail "address $a on net's lo"
	done
	for a in "198.51.100.0/24 192.0.2.2" "203.0.113.0/24 192.0.2.2" \
		"2001:db8:2::/64 2001:db8:1::2" "2001:db8:3::/64 2001:db8:1::2"; do
		# shellcheck disable=SC2086 # DEST VIA
		lib_route "" $a || lib_bail "route $a"
	done
	lib_route net default 192.0.2.1 || lib_bail "default route in net"
	lib_route net default 2001:db8:1::1 || lib_bail "IPv6 default route in net"
	for a in 192.0.2.2 198.51.100.1 203.0.113.1 2001:db8:1::2 2001:db8:2::1 2001:db8:3::1; do
		lib_wait_for 10 lib_ping root "$a" ||
			lib_bail "root pings $a" "$(cat "$LIB_LAST_ERR_FILE")"
	done
	# The link-local addresses of wan0 and eth0 do duplicate address
	# detection: wait for it, or a snapshot taken next sees them settle
	# later (tentative, then not) as a change.
	lib_wait_for 30 lib_no_tentative "" && lib_wait_for 30 lib_no_tentative net ||
		lib_bail "wan0 and eth0's link-local addresses are still tentative"
}

# ---------------------------------------------------------------- host files

declare -A LIB_COVERS

# lib_cover_file PATH TEXT: make PATH (an existing file, e.g. /etc/subuid or
# /etc/resolv.conf) read TEXT, inside the sandbox only: a private file is
# bind-mounted over it in the sandbox's own mount namespace, so the real
# file is never written and the cover dies with the sandbox.  Calling it
# again for PATH rewrites the cover in place.  Fails if PATH does not exist
# (a bind mount needs a target, and creating one would change the host).
lib_cover_file()
{
	local path=$1 f

	[ "${JAILFW_E2E_SANDBOX:-}" = "$LIB_NAME" ] || lib_bail "lib_cover_file outside the sandbox"
	f=${LIB_COVERS[$path]:-}
	if [ -z "$f" ]; then
		[ -e "$path" ] || return 1
		f=$(mktemp "$LIB_TMP/cover.XXXXXX") || return 1
		chmod 0644 "$f"
		mount --bind "$f" "$path" || return 1
		LIB_COVERS[$path]=$f
	fi
	printf '%s' "$2" >"$f"
}

# lib_uncover_file PATH: the real PATH again.
lib_uncover_file()
{
	[ -n "${LIB_COVERS[$1]:-}" ] || return 0
	umount "$1" && unset "LIB_COVERS[$1]"
}

# ---------------------------------------------------------------- status and diff

# lib_json EXPR: evaluate the Python expression EXPR over the JSON document
# on stdin (bound to d) and print the result (lists, objects, booleans and
# null as JSON).  Fails when stdin is not JSON, not UTF-8 (RFC 8259; read
# as bytes, whatever the locale) or EXPR does not evaluate.
#	jailfw status --json | lib_json 'd["table_state"]'
lib_json()
{
	"$LIB_PY" -I -c '
import json, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8"))
v = eval(sys.argv[1], {"d": d})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
' "$1"
}

# Text that did not come from jailfw reaches its JSON with any bytes: a
# quote, a backslash, a control character, a byte that is never UTF-8, a
# two-byte character, a three-byte one cut short.  Ten bytes: an interface
# name can hold it (no '/', ':' or white space).
LIB_ANY_BYTES=$(printf 'q"b\\\001\377\303\251\342\202')

# lib_utf8_replace TEXT: TEXT as a JSON reader sees jailfw's string of it:
# each byte sequence that is not UTF-8 one U+FFFD (src/jsonw.h).
lib_utf8_replace()
{
	"$LIB_PY" -I -c '
import os, sys
sys.stdout.buffer.write(os.fsencode(sys.argv[1]).decode("utf-8", "replace").encode())
' "$1"
}

# lib_nft_add_chain_raw TABLE NAME: add chain NAME, any bytes, to table inet
# TABLE.  The kernel takes any name; nft's parser would refuse most, so
# this sends the nfnetlink batch itself.
lib_nft_add_chain_raw()
{
	"$LIB_PY" -I -c '
import os, socket, struct, sys
table, name = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
def attr(t, v):
    v += b"\0"
    a = struct.pack("=HH", 4 + len(v), t) + v
    return a + b"\0" * (-len(a) % 4)
def msg(typ, flags, seq, family, res, body=b""):
    return (struct.pack("=IHHII", 20 + len(body), typ, flags, seq, 0) +
            struct.pack("=BBH", family, 0, socket.htons(res)) + body)
REQ, ACK, CREATE, NFT, NETLINK_NETFILTER = 1, 4, 0x400, 10, 12
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.bind((0, 0))
s.send(msg(0x10, REQ, 1, 0, NFT) +                       # batch begin
       msg((NFT << 8) | 3, REQ | ACK | CREATE, 2, 1, 0,  # NEWCHAIN, inet
           attr(1, table) + attr(3, name)) +             # TABLE, NAME
       msg(0x11, REQ, 3, 0, NFT))                        # batch end
while True:
    r = s.recv(65536)
    typ, seq = struct.unpack_from("=H", r, 4)[0], struct.unpack_from("=I", r, 8)[0]
    if typ == 2 and seq == 2:                            # NLMSG_ERROR: the ack
        sys.exit(-struct.unpack_from("=i", r, 16)[0])
' "$1" "$2"
}

# lib_status_jail FIELD JAIL: a jail's field from `jailfw status --json` on
# stdin, FIELD a Python subscript chain such as ["accepted"]["packets"].
lib_status_jail()
{
	lib_json "[j for j in d[\"jails\"] if j[\"name\"] == \"$2\"][0]$1"
}

# lib_nft_jail_counters TABLE CHAIN: what nft's own counters say a jail's
# chain let through and dropped, as "ACC_PKTS ACC_BYTES DROP_PKTS DROP_BYTES":
# accepted is the chain's counted jump (everything that entered the shared
# allowlist chain) minus its last counted drop (what came back from it),
# plus any counted accept; dropped is the sum of every counted drop.
# Prints nothing when the chain is not there.
lib_nft_jail_counters()
{
	nft -j list chain inet "$1" "$2" 2>/dev/null |
		"$LIB_PY" -I -c '
import json, sys
try:
    doc = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
rules = []
for obj in doc.get("nftables", []):
    r = obj.get("rule")
    if not r:
        continue
    c = None
    v = None
    for e in r.get("expr", []):
        if "counter" in e and isinstance(e["counter"], dict):
            c = (e["counter"]["packets"], e["counter"]["bytes"])
        for k in ("drop", "accept", "jump", "goto"):
            if k in e:
                v = k
    if c is not None:
        rules.append((v, c))
entry = next((c for v, c in rules if v in ("jump", "goto")), (0, 0))
drops = [c for v, c in rules if v == "drop"]
final = drops[-1] if drops else (0, 0)
acc = [max(entry[0] - final[0], 0), max(entry[1] - final[1], 0)]
for v, c in rules:
    if v == "accept":
        acc[0] += c[0]
        acc[1] += c[1]
print(acc[0], acc[1], sum(c[0] for c in drops), sum(c[1] for c in drops))
'
}

# lib_kernel_snapshot DIR [stateless]: everything status and diff must never
# change: the whole ruleset with counters, links, addresses, routes,
# namespaces (what /run/netns holds, and inside each network namespace its
# links, addresses, routes and IPv6 settings), the IPv4/IPv6 sysctls,
# jailfw's state files and /etc/netns.  "stateless": the ruleset without
# counter values but with rule handles (a table loaded again gets new
# ones), for checks that traffic in the background must not disturb.  The
# lock file is left out: any apply or down that gets as far as the lock
# creates it, empty, for good; so are dot files in /run/jailfw and
# /etc/netns (jailfw makes none: the tests' fillers of a full file system).
lib_kernel_snapshot()
{
	local ns n

	mkdir -p "$1"
	# An address leaving DAD is the kernel's housekeeping, not a change.
	lib_settle
	if [ "${2:-}" = stateless ]; then
		nft -s -a list ruleset >"$1/ruleset" 2>&1
	else
		nft list ruleset >"$1/ruleset" 2>&1
	fi
	ip -d link show >"$1/link" 2>&1
	ip addr show >"$1/addr" 2>&1
	ip -4 route show table all >"$1/route4" 2>&1
	ip -6 route show table all >"$1/route6" 2>&1
	ls -i /run/netns >"$1/netns" 2>&1
	sysctl -a 2>/dev/null | grep -E '^net\.ipv(4|6)\.' |
		grep -vE '\.(neigh|route)\.|stable_secret|base_reachable' >"$1/sysctl"
	(cd /run/jailfw && for f in *; do
		[ -f "$f" ] && [ "$f" != lock ] && echo "== $f" && cat "$f"
	done) >"$1/state" 2>&1
	for ns in /run/netns/*; do
		[ -e "$ns" ] || continue
		n=$(basename "$ns")
		echo "== $n: $(stat -c '%F %i %s' "$ns") $(findmnt -n -o FSTYPE --target "$ns")"
		[ "$(stat -f -c %T "$ns" 2>/dev/null)" = nsfs ] || continue
		ip -n "$n" -d link show
		ip -n "$n" addr show
		ip -n "$n" -4 route show table all
		ip -n "$n" -6 route show table all
		ip netns exec "$n" grep -r . /proc/sys/net/ipv6/conf 2>/dev/null
	done >"$1/namespaces" 2>&1
	find /etc/netns -name '.?*' -prune -o -printf '%p %y %m %i\n' 2>&1 | sort >"$1/etc-netns"
	find /etc/netns -name '.?*' -prune -o -type f \
		-exec sh -c 'for f; do echo "== $f"; cat "$f"; done' sh {} + >>"$1/etc-netns" 2>&1
}

# lib_snapshot_before: the kernel and jailfw's files now (lib_kernel_snapshot
# into $LIB_TMP/before), for check_untouched.
lib_snapshot_before()
{
	rm -rf "$LIB_TMP/before"
	lib_kernel_snapshot "$LIB_TMP/before"
}

# check_untouched NAME: the kernel and jailfw's files are as
# lib_snapshot_before saw them; one check per part of the snapshot.
check_untouched()
{
	local f

	rm -rf "$LIB_TMP/after"
	lib_kernel_snapshot "$LIB_TMP/after"
	for f in "$LIB_TMP"/before/*; do
		f=$(basename "$f")
		check_same "$1: $f unchanged" "$LIB_TMP/before/$f" "$LIB_TMP/after/$f"
	done
}

# ---------------------------------------------------------------- datagrams

# lib_send NS WHO ADDR PORT TOKEN [OPTION...]: from NS ("" the sandbox), as
# WHO (root or a uid), send TOKEN three times as a UDP datagram to
# ADDR:PORT and wait for nothing: what arrived is what a listener logged
# (lib_seen).  Options, for the packets an attacker crafts:
#	bcast		SO_BROADCAST (255.255.255.255, a subnet's broadcast)
#	if=IFNAME	the interface of a link-local or multicast ADDR
#	src=ADDR	bind to ADDR first, even when it is not the sender's
#			own (IP_FREEBIND): a spoofed source
#	via=ADDR	an IPv6 segment routing header: the packet goes to ADDR,
#			which hands it on to the real destination ADDR
# Fails (the error in $LIB_LAST_ERR_FILE) when the kernel refused to send.
lib_send()
{
	local ns=$1 who=$2

	shift 2
	lib_ns "$ns" timeout 10 setpriv --reuid="$(lib__uid "$who")" \
		--regid="$(lib__uid "$who")" --clear-groups -- \
		"$LIB_PY" -I "$LIB_TMP/send.py" "$@" >/dev/null 2>"$LIB_LAST_ERR_FILE"
}

# lib_seen NAME TOKEN: the listener NAME (lib_serve) logged TOKEN; prints
# the source it saw.  Waits up to a second for datagrams still on their way.
lib_seen()
{
	local line i

	for i in 1 2 3 4 5; do
		line=$(grep -F " $2" "$LIB_TMP/$1.log" 2>/dev/null | head -n 1)
		if [ -n "$line" ]; then
			read -r _ _ line _ <<<"$line"
			echo "$line"
			return 0
		fi
		sleep 0.2
	done
	return 1
}

# lib_token: a token no other probe of the run carries.
lib_token()
{
	echo "d$BASHPID-$(date +%s%N)"
}

# check_dgram NAME LISTENER NS WHO ADDR PORT [OPTION...]: lib_send's
# datagram reaches the listener LISTENER (lib_serve's NAME).
check_dgram()
{
	local name=$1 log=$2 ns=$3 who=$4 t src

	shift 4
	t=$(lib_token)
	lib_send "$ns" "$who" "$1" "$2" "$t" "${@:3}"
	if src=$(lib_seen "$log" "$t"); then
		pass "$name"
		return 0
	fi
	fail "$name" "$log never got it; sender: $(cat "$LIB_LAST_ERR_FILE")"
	return 1
}

# check_dgram_dropped NAME LISTENER TABLE CHAIN ERE NS WHO ADDR PORT
# [OPTION...]: lib_send's datagram never reaches LISTENER, and the counter
# of inet TABLE CHAIN's rule matching ERE (empty: its last counted drop)
# moves.
check_dgram_dropped()
{
	local name=$1 log=$2 table=$3 chain=$4 ere=$5 ns=$6 who=$7 t before after src

	shift 7
	t=$(lib_token)
	before=$(lib__ns_counter "$table" "$chain" "$ere")
	lib_send "$ns" "$who" "$1" "$2" "$t" "${@:3}"
	if src=$(lib_seen "$log" "$t"); then
		fail "$name" "$log got it (source $src)"
		return 1
	fi
	after=$(lib__ns_counter "$table" "$chain" "$ere")
	if [ -z "$before" ] || [ -z "$after" ] || [ "$after" -le "$before" ]; then
		fail "$name" "not delivered, but the counter of $chain${ere:+ /$ere/} did not move ('$before' -> '$after')" \
			"sender: $(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	pass "$name"
}

# lib_jails_settle JAIL...: the jails' kernels solicit no routers (in_JAIL
# would count them as drops), and no IPv6 address of theirs or the
# sandbox's is still doing duplicate address detection.
lib_jails_settle()
{
	local j ns

	for j in "$@"; do
		ip netns exec "$j" sysctl -qw "net.ipv6.conf.$j-in.router_solicitations=0"
	done
	for ns in "" "$@"; do
		lib_wait_for 30 lib_no_tentative "$ns" || return 1
	done
}

lib__write_send()
{
	cat >"$LIB_TMP/send.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
# send.py ADDR PORT TOKEN [bcast] [if=IFNAME] [src=ADDR] [via=ADDR]
# (written by tests/lib.sh; see lib_send there).
import socket, struct, sys, time

addr, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
opts = dict(o.split("=", 1) if "=" in o else (o, "1") for o in sys.argv[4:])
v6 = ":" in addr
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
scope = socket.if_nametoindex(opts["if"]) if "if" in opts else 0
if "bcast" in opts:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
if scope and v6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, scope)
elif scope:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                 struct.pack("=4s4si", b"\0" * 4, b"\0" * 4, scope))
if "src" in opts:
    # IP_FREEBIND: bind to an address that is not ours; IPv4 routes such a
    # source only with IP_TRANSPARENT too (root in the sender's namespace).
    s.setsockopt(socket.SOL_IP, 15, 1)
    if not v6:
        s.setsockopt(socket.SOL_IP, 19, 1)
    s.bind((opts["src"], 0))
if "via" in opts:
    # Segment routing header (type 4): the wire's destination is via; the
    # kernel puts the socket's destination in segment 0, reached next.
    seg = socket.inet_pton(socket.AF_INET6, opts["via"])
    srh = struct.pack("!BBBBBBH", 0, 4, 4, 1, 1, 0, 0) + b"\0" * 16 + seg
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RTHDR, srh)
dst = (addr, port, 0, scope) if v6 else (addr, port)
try:
    for i in range(3):
        s.sendto(token.encode() + b"\n", dst)
        time.sleep(0.05)
except OSError as e:
    print("udp %s %s: %s" % (addr, port, e), file=sys.stderr)
    sys.exit(1)
EOF
}
