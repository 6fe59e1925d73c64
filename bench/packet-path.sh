#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/packet-path.sh [BUILD_DIR] [RUNS]: the packet path at scale.  One
# jail's throughput is measured while 1, 100, 1000 and 5000 jails are
# loaded, for both backends:
#
#   local      a uid jail's own traffic (iperf3 started with `jailfw exec`,
#              so as the jail's uid) leaves through jailfw's output chain
#              and wan0; the other N-1 uid jails have two allow rules each
#   forwarded  a netns jail's traffic (iperf3 in its namespace, `jailfw
#              exec`) crosses the host's forward chain and is masqueraded
#              out of wan0; the other N-1 are real netns jails too (a
#              namespace and a veth pair each, provisioned by jailfw apply),
#              two allow rules each
#
# The ruleset dispatches through verdict maps (docs/ruleset.md), so the
# goal is that the cost per packet does not grow with the number of jails:
# within 5% of the one-jail figure at 5000 jails.
#
#   [ netns "net" = the internet ] eth0 192.0.2.2/24: iperf3 server (tcp and
#                                  udp 5201), a listener on 5202 (a port no
#                                  jail may reach: the sanity check)
#                |
#                | veth (the wan)
#                |
#   [ sandbox = "host" ] wan0 192.0.2.1/24; jailfw runs here, and so does
#     the uid jails' iperf3 (u0 = uid 20000, u1.. = 20001..: no process)
#                |  j0-out 10.100.0.1/30 ... jN-out 10.100.x.y+1/30
#   [ netns jails j0 .. jN-1 ]  j0-in 10.100.0.2/30: iperf3 client
#
# Two measurements per run, each a fresh iperf3 client:
#
#   Gbit/s  one TCP stream, BENCH_TCP_SECONDS (default 4).  TCP's
#           segmentation offload hands the filter 64 KiB superpackets,
#           so this hides most of the per-packet cost.
#   kpps    UDP datagrams of BENCH_UDP_LEN (64) bytes, unlimited rate,
#           BENCH_UDP_SECONDS (default 4): thousands of datagrams *sent*
#           per second.  With veth, the whole way from the client's
#           sendmsg() to the server's socket queue (output hook or
#           forward hook, NAT, both veths) runs on the sender's CPU, so
#           the sending rate is the one that carries the filter's cost;
#           the rate the server takes in is capped by the receiving
#           process, which the ruleset never sees.  Both are printed
#           per run on stderr.
#   ns      of the same UDP runs: the client's CPU time per datagram sent
#           (iperf3's getrusage figure, which is the scheduler's exact
#           run time), so the cost of one datagram's whole way including
#           the filter.  Other load on the machine slows the rates down
#           but hardly this, which is why it gets a table of its own.  It
#           counts the softirq work done in the client's context: on a
#           kernel with CONFIG_IRQ_TIME_ACCOUNTING (the bench says so) or
#           when ksoftirqd takes the work over, part of it is missing.
#
# Each figure is the median of RUNS runs (default 3) after a warm-up of
# BENCH_OMIT seconds (1) that iperf3 leaves out.  The row "none" is the same
# path without jailfw at all (no table, no conntrack, no NAT: a hand-made
# namespace with routes for the forwarded one), the price of confinement;
# BENCH_BASELINE=0 skips it.  BENCH_SCALES ("1 100 1000 5000") picks the
# rows, BENCH_PATHS ("local forwarded") the columns.  With two CPUs or more
# the client runs on CPU 0 and the server on CPU 1 (BENCH_PIN=0: anywhere).
#
# At every row the bench also checks what it measures: the measured jail
# is refused the port next to the iperf3 one (so the ruleset confines it
# at that scale), and its accepted counter in `jailfw status --json` moved
# by at least the datagrams the server received (so the measured packets
# went through its jail chain).  Those are PASS/FAIL lines as in the e2e
# tests (tests/lib.sh, whose sandbox this uses: nothing reaches the
# machine's own namespace); the table comes last.
#
# 5000 real netns jails: on the development machine (2 CPUs, 24 GiB, Linux
# 6.18) jailfw apply took 30 to 40 s for them and 1.3 to 1.6 GiB of kernel
# memory (about 330 KiB of slab per jail); down 9 to 19 s.  Before each netns row
# the bench checks MemAvailable for about twice that and skips the row,
# saying so, when there is not enough.  The provisioning time and memory of
# each row (from the previous row's jails) are printed under the table.
#
# A full run with the defaults took 6 minutes on that machine, busy.  Needs root and
# iperf3 (tests/install-deps).  It measures; it asserts no performance.

LIB_ROOT_BENCH=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$LIB_ROOT_BENCH/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
RUNS=${2:-3}
export JAILFW=$build/jailfw

# shellcheck source=tests/lib.sh
. "$LIB_ROOT_BENCH/tests/lib.sh"

if [ "${JAILFW_E2E_SANDBOX:-}" != "$LIB_NAME" ] && ! command -v iperf3 >/dev/null; then
	echo "FAIL $LIB_NAME: iperf3 is missing (run tests/install-deps)"
	exit 1
fi
case $RUNS in
'' | *[!0-9]* | 0)
	echo "usage: $0 [BUILD_DIR] [RUNS]  (RUNS a positive number, not '$RUNS')" >&2
	exit 2
	;;
esac
lib_enter_sandbox "$@"

: "${BENCH_SCALES:=1 100 1000 5000}"
: "${BENCH_PATHS:=local forwarded}"
: "${BENCH_TCP_SECONDS:=4}"
: "${BENCH_UDP_SECONDS:=4}"
: "${BENCH_UDP_LEN:=64}"
: "${BENCH_OMIT:=1}"
: "${BENCH_BASELINE:=1}"
: "${BENCH_PIN:=1}"
# Kernel memory a netns jail costs (KiB, measured above with margin), and
# how long to let new links finish their IPv6 chatter (router and neighbour
# solicitations, MLD) before measuring.
: "${BENCH_NETNS_KIB:=800}"
: "${BENCH_SETTLE:=3}"

SRV=192.0.2.2
PORT=5201
DECOY=5202
UID0=20000
P=$LIB_TMP/policy.conf
# Not *.log: lib_reach looks for its tokens in $LIB_TMP/*.log.
LOG=$LIB_TMP/jailfw.out

CLIENT_PIN=()
SERVER_PIN=()
if [ "$BENCH_PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	CLIENT_PIN=(-A 0)
	SERVER_PIN=(-A 1)
fi

note()
{
	echo "packet-path: $*" >&2
}

# ---------------------------------------------------------------- policies

# gen_policy uid|netns N FILE: the measured jail (u0 or j0: tcp and udp to
# the iperf3 port) and N-1 others with the uid-scale bench's allowlist.
# netns jails get a /30 each out of 10.100.0.0/16 (16384 of them fit).
gen_policy()
{
	"$LIB_PY" -I - "$@" <<'PY'
import sys
backend, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
o = []
if backend == "netns":
    o.append("settings {\n\twan wan0\n}\n")
for i in range(n):
    if i == 0:
        rules = "\tallow tcp/5201 to 192.0.2.0/24\n\tallow udp/5201 to 192.0.2.0/24\n"
    else:
        rules = "\tallow udp/123\n\tallow tcp/80,443 to 192.0.2.0/24\n"
    if backend == "uid":
        o.append(f"jail u{i} {{\n\tbackend uid\n\tuser {20000 + i}\n{rules}}}\n")
    else:
        b = i * 4
        o.append(f"jail j{i} {{\n\tbackend netns\n\tipv4 10.100.{b // 256}.{b % 256}/30\n"
                 f"{rules}}}\n")
open(path, "w").write("".join(o))
PY
	chmod 0644 "$3"
}

mem_kib()
{
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

# apply_policy BACKEND N: apply N jails; sets APPLY_MS and APPLY_MIB.
apply_policy()
{
	local m0 m1 t0 t1

	gen_policy "$1" "$2" "$P" || return 1
	m0=$(mem_kib MemAvailable)
	t0=$(date +%s%N)
	if ! "$JAILFW" -q apply "$P" >>"$LOG" 2>&1; then
		fail "$1 $2 jails: jailfw apply" "$(tail -n 20 "$LOG")"
		return 1
	fi
	t1=$(date +%s%N)
	m1=$(mem_kib MemAvailable)
	APPLY_MS=$(((t1 - t0) / 1000000))
	APPLY_MIB=$(((m0 - m1) / 1024))
	sleep "$BENCH_SETTLE"
}

# ---------------------------------------------------------------- iperf3

iperf_server()
{
	ip netns exec net iperf3 -s -B "$SRV" -p "$PORT" --idle-timeout 30 "${SERVER_PIN[@]}" \
		>"$LIB_TMP/iperf3-server.out" 2>&1 &
	IPERF_SERVER=$!
	disown "$IPERF_SERVER"
	lib_defer kill "$IPERF_SERVER"
	lib_wait_for 5 server_listens
}

# shellcheck disable=SC2317 # called through lib_wait_for
server_listens()
{
	ip netns exec net ss -Hltn "sport = :$PORT" | grep -q .
}

# client WHERE ARGS...: run an iperf3 client from WHERE: a jail's name
# (through `jailfw exec`: as the uid jail's user, or in the netns jail's
# namespace), "uid" (uid 20000 with no jailfw table) or "ns" (the
# baseline namespace b0).
client()
{
	local where=$1 t

	shift
	t=$((BENCH_OMIT + BENCH_TCP_SECONDS + BENCH_UDP_SECONDS + 30))
	case $where in
	uid) lib_as "$UID0" timeout "$t" iperf3 "$@" ;;
	ns) ip netns exec b0 timeout "$t" iperf3 "$@" ;;
	# The netns jails name no user: root in the namespace, as asked for.
	j*) timeout "$t" "$JAILFW" exec "$where" --keep-ids -- iperf3 "$@" ;;
	*) timeout "$t" "$JAILFW" exec "$where" -- iperf3 "$@" ;;
	esac
}

# one_run WHERE tcp|udp: one iperf3 client; prints
# "BITS_PER_S SENT_PPS DELIVERED_PPS DELIVERED_PACKETS".  A run that fails
# is tried once more (a server that missed the end of the previous test
# refuses the next one for a moment).
one_run()
{
	local where=$1 mode=$2 args out

	args=(-c "$SRV" -p "$PORT" -J --connect-timeout 3000 "${CLIENT_PIN[@]}")
	if [ "$mode" = udp ]; then
		# No warm-up: UDP has no slow start, and iperf3 3.12 miscounts
		# the datagrams lost across the end of one (its receiver's own
		# byte count stays right, hence the division below).
		args+=(-u -b 0 -l "$BENCH_UDP_LEN" -t "$BENCH_UDP_SECONDS")
	else
		args+=(-t "$BENCH_TCP_SECONDS" -O "$BENCH_OMIT")
	fi
	for _ in 1 2; do
		if out=$(client "$where" "${args[@]}" 2>"$LIB_TMP/iperf3-client.err") &&
			"$LIB_PY" -I -c '
import json, sys
e = json.loads(sys.argv[1])["end"]
if sys.argv[2] == "udp":
    s, r = e["sum_sent"], e["sum_received"]
    got = r["bytes"] // int(sys.argv[3])
    # The client CPU time (getrusage: its system time includes the
    # softirq work done on its way out) per datagram sent, in ns.
    cpu = e["cpu_utilization_percent"]["host_total"] / 100 * s["seconds"]
    print(r["bits_per_second"], s["packets"] / s["seconds"], got / r["seconds"], got,
          cpu * 1e9 / max(s["packets"], 1))
else:
    print(e["sum_received"]["bits_per_second"], 0, 0, 0, 0)
' "$out" "$mode" "$BENCH_UDP_LEN" 2>>"$LIB_TMP/iperf3-client.err"; then
			return 0
		fi
		sleep 2
	done
	echo "iperf3 $mode from $where failed: $(cat "$LIB_TMP/iperf3-client.err")" \
		"$(printf '%s' "$out" | grep -o '"error":.*' | head -n 1)" >&2
	return 1
}

median()
{
	sort -g | awk '{ a[NR] = $1 } END { if (NR) print (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'
}

# measure PATH LABEL WHERE: RUNS runs of TCP then UDP; sets GBPS, KPPS and
# DELIVERED (datagrams the server received over all runs).  The median of
# an even count is the mean of the middle two.
measure()
{
	local path=$1 label=$2 where=$3 r tcp udp bps spps dpps dn nspp tcps=() kpps=() nss=()

	DELIVERED=0
	GBPS=
	KPPS=
	NSPP=
	for ((r = 1; r <= RUNS; r++)); do
		tcp=$(one_run "$where" tcp) || return 1
		udp=$(one_run "$where" udp) || return 1
		read -r bps _ _ _ <<<"$tcp"
		read -r _ spps dpps dn nspp <<<"$udp"
		tcps+=("$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')")
		kpps+=("$(awk -v p="$spps" 'BEGIN { printf "%.1f", p / 1e3 }')")
		nss+=("$(awk -v p="$nspp" 'BEGIN { printf "%.0f", p }')")
		DELIVERED=$((DELIVERED + dn))
		note "$(printf '%-9s %-5s run %d: tcp %7.3f Gbit/s  udp %7.1f kpps sent, %7.1f kpps delivered, %5d ns CPU/datagram' \
			"$path" "$label" "$r" "${tcps[-1]}" "${kpps[-1]}" \
			"$(awk -v p="$dpps" 'BEGIN { printf "%.1f", p / 1e3 }')" "${nss[-1]}")"
	done
	GBPS=$(printf '%s\n' "${tcps[@]}" | median)
	KPPS=$(printf '%s\n' "${kpps[@]}" | median)
	NSPP=$(printf '%s\n' "${nss[@]}" | median)
}

# accepted JAIL: the jail's accepted packets ("out" flow) per jailfw status.
accepted()
{
	"$JAILFW" status --json 2>/dev/null | lib_status_jail '["flows"]["out"]["accepted"]["packets"]' "$1"
}

# measure_jail PATH N JAIL: measure, then the sanity checks of the header.
measure_jail()
{
	local path=$1 n=$2 jail=$3 before after

	before=$(accepted "$jail")
	if ! measure "$path" "$n" "$jail"; then
		fail "$path, $n jails: iperf3 from $jail" "$(tail -n 5 "$LOG")"
		return 1
	fi
	after=$(accepted "$jail")
	case "$before$after" in
	'' | *[!0-9]*)
		fail "$path, $n jails: $jail's accepted counter" \
			"jailfw status --json gave '$before' and '$after'"
		;;
	*)
		if [ $((after - before)) -ge "$DELIVERED" ] && [ "$DELIVERED" -gt 0 ]; then
			pass "$path, $n jails: $jail accepted $((after - before)) packets, the server got $DELIVERED datagrams"
		else
			fail "$path, $n jails: $jail's accepted counter" \
				"moved by $((after - before)), but the server received $DELIVERED datagrams"
		fi
		;;
	esac
	if [ "$path" = local ]; then
		check_fails "$path, $n jails: $jail is refused tcp/$DECOY" \
			lib_reach "$UID0" tcp "$SRV" "$DECOY"
	else
		check_blocked_ns "$path, $n jails: $jail is refused tcp/$DECOY" \
			"$jail" tcp "$SRV" "$DECOY"
	fi
	# The figures stand whatever the checks said (their FAIL lines do).
	return 0
}

declare -A R_GBPS R_KPPS R_NSPP R_NOTE
PROV=()

# shellcheck disable=SC2034 # read through the namerefs of cell and ratio
record()
{
	R_GBPS[$1,$2]=$GBPS
	R_KPPS[$1,$2]=$KPPS
	R_NSPP[$1,$2]=$NSPP
}

# ---------------------------------------------------------------- the world

lib_wan_internet
iperf_server || lib_bail "iperf3 server in net" "$(cat "$LIB_TMP/iperf3-server.out")"
lib_serve net decoy "tcp:$SRV:$DECOY" || lib_bail "decoy listener"
check_reach "root reaches the decoy port tcp/$DECOY" root tcp "$SRV" "$DECOY"
# Runs first in cleanup (deferred last): the namespaces go before the
# sandbox that holds their mounts.
lib_defer "$JAILFW" -q down

scales=()
for n in $BENCH_SCALES; do
	case $n in
	'' | *[!0-9]* | 0) lib_bail "BENCH_SCALES: '$n' is not a positive number" ;;
	esac
	# The netns jails' /30 prefixes come out of one /16.
	[ "$n" -le 16384 ] || lib_bail "BENCH_SCALES: $n jails, at most 16384"
	case " ${scales[*]} " in *" $n "*) continue ;; esac
	scales+=("$n")
done

want()
{
	case " $BENCH_PATHS " in *" $1 "*) return 0 ;; esac
	return 1
}

# The baseline: no jailfw table, hence no conntrack and no NAT either.  The
# forwarded one goes through a namespace made by hand, routed rather than
# masqueraded (net routes everything back through the host).
if [ "$BENCH_BASELINE" = 1 ]; then
	if want local && measure local none uid; then
		record local none
	fi
	if want forwarded; then
		lib_netns_add b0 || lib_bail "netns b0"
		lib_veth "" b0-out b0 b0-in || lib_bail "veth b0"
		if ! lib_addr "" b0-out 10.99.0.1/30 || ! lib_addr b0 b0-in 10.99.0.2/30 ||
			! lib_route b0 default 10.99.0.1; then
			lib_bail "b0 addresses and route"
		fi
		sysctl -qw net.ipv4.ip_forward=1 || lib_bail "forwarding in the sandbox"
		if measure forwarded none ns; then
			record forwarded none
		fi
		# jailfw turns forwarding on itself (and off with down).
		sysctl -qw net.ipv4.ip_forward=0
		ip netns del b0
	fi
fi

if want local; then
	for n in "${scales[@]}"; do
		apply_policy uid "$n" || continue
		note "local: $n uid jails applied in $APPLY_MS ms"
		PROV+=("$(printf '%6d uid jails:   apply %7.1f s' "$n" \
			"$(awk -v m="$APPLY_MS" 'BEGIN { print m / 1000 }')")")
		measure_jail local "$n" u0 && record local "$n"
	done
	"$JAILFW" -q down >>"$LOG" 2>&1 || fail "jailfw down (uid jails)" "$(tail -n 20 "$LOG")"
fi

if want forwarded; then
	prev=0
	for n in "${scales[@]}"; do
		need=$((n * BENCH_NETNS_KIB / 1024 + 512))
		have=$(($(mem_kib MemAvailable) / 1024))
		if [ "$have" -lt "$need" ]; then
			R_NOTE[forwarded,$n]="skipped: $n namespaces need about $need MiB, $have MiB available"
			note "forwarded: ${R_NOTE[forwarded,$n]}"
			continue
		fi
		apply_policy netns "$n" || continue
		# Each row's apply starts from the previous row's jails.
		PROV+=("$(printf '%6d netns jails: apply %7.1f s from %d jails (%s), %5d MiB' \
			"$n" "$(awk -v m="$APPLY_MS" 'BEGIN { print m / 1000 }')" "$prev" \
			"$(awk -v m="$APPLY_MS" -v a="$((n - prev))" 'BEGIN {
				if (a > 0) printf "%.2f ms per new jail", m / a; else print "none new" }')" \
			"$APPLY_MIB")")
		prev=$n
		note "forwarded: $n netns jails applied in $APPLY_MS ms, $APPLY_MIB MiB"
		measure_jail forwarded "$n" j0 && record forwarded "$n"
	done
	t0=$(date +%s%N)
	"$JAILFW" -q down >>"$LOG" 2>&1 || fail "jailfw down (netns jails)" "$(tail -n 20 "$LOG")"
	DOWN_MS=$((($(date +%s%N) - t0) / 1000000))
fi

# ---------------------------------------------------------------- the table

# ratio PATH N KIND: the row's figure over the one-jail figure.
ratio()
{
	local -n r=R_$3
	local a=${r[$1,$2]:-} b=${r[$1,1]:-}

	if [ -z "$a" ] || [ -z "$b" ]; then
		echo -
		return
	fi
	awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'
}

# cell PATH N KIND
cell()
{
	local -n c=R_$3

	echo "${c[$1,$2]:--}"
}

echo
echo "packet path: one jail measured while N jails are loaded; median of $RUNS runs"
echo "TCP: one stream, ${BENCH_TCP_SECONDS} s; UDP: ${BENCH_UDP_LEN}-byte datagrams sent at full speed," \
	"${BENCH_UDP_SECONDS} s; ratios to the 1-jail row"
printf '%-6s %10s %7s %10s %7s   %10s %7s %10s %7s\n' jails "fwd Gbit/s" ratio "fwd kpps" ratio \
	"loc Gbit/s" ratio "loc kpps" ratio
rows=()
[ "$BENCH_BASELINE" = 1 ] && rows+=(none)
rows+=("${scales[@]}")
for n in "${rows[@]}"; do
	printf '%-6s %10s %7s %10s %7s   %10s %7s %10s %7s\n' "$n" \
		"$(cell forwarded "$n" GBPS)" "$(ratio forwarded "$n" GBPS)" \
		"$(cell forwarded "$n" KPPS)" "$(ratio forwarded "$n" KPPS)" \
		"$(cell local "$n" GBPS)" "$(ratio local "$n" GBPS)" \
		"$(cell local "$n" KPPS)" "$(ratio local "$n" KPPS)"
done
echo
echo "CPU time of the client per datagram sent, ns (its sendmsg() and the softirq work on the"
echo "way to the server's socket, which run on its CPU): a busy machine slows the rates above,"
echo "but barely this"
printf '%-6s %10s %7s   %10s %7s\n' jails "fwd ns" ratio "loc ns" ratio
for n in "${rows[@]}"; do
	printf '%-6s %10s %7s   %10s %7s\n' "$n" \
		"$(cell forwarded "$n" NSPP)" "$(ratio forwarded "$n" NSPP)" \
		"$(cell local "$n" NSPP)" "$(ratio local "$n" NSPP)"
done
echo
for k in "${!R_NOTE[@]}"; do
	echo "${k/,/ }: ${R_NOTE[$k]}"
done
echo "none: no jailfw table (no conntrack, no NAT; forwarded is routed from a hand-made namespace)"
echo "kpps: thousands of datagrams sent per second (the filter's cost is on the sender's CPU)"
if zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_IRQ_TIME_ACCOUNTING=y'; then
	echo "note: this kernel accounts softirq time apart (CONFIG_IRQ_TIME_ACCOUNTING): the ns" \
		"figures leave out the forwarding and receiving work"
fi
if [ "${#PROV[@]}" -gt 0 ]; then
	echo "jailfw apply, each row from the previous row's jails (netns: real namespaces and veth"
	echo "pairs; MiB: MemAvailable before minus after):"
	printf '  %s\n' "${PROV[@]}"
	[ -z "${DOWN_MS:-}" ] || echo "  down of the last netns row: $(awk -v m="${DOWN_MS:-0}" 'BEGIN { printf "%.1f", m / 1000 }') s"
fi
lib_done
