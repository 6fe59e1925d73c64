#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Reload under load, both backends at once: while a uid jail and a netns
# jail each flood a disallowed port (UDP datagrams and TCP SYNs, IPv4 and
# IPv6, as fast as they can), the policy is re-applied 100 times
# (RELOAD_APPLIES), alternating two policies that differ in a third jail:
# every odd apply replaces the table (a foreign commit first moved the
# ruleset generation), every even one applies the delta.  Meanwhile each jail keeps
# long-lived TCP streams to an allowed port open (IPv4 and IPv6).  Asserted:
#  - the far end saw zero packets on the disallowed ports (an nft counter in
#    its own prerouting, before conntrack, and the listeners' own counts);
#  - the floods were real: what each flooder sent, and the jails' drop
#    counters moved by thousands;
#  - every stream is intact: never reset, every byte of a counted pattern
#    arrived in order (checked at the far end and confirmed back), and its
#    conntrack entry is the same one (id) after the applies as before;
#  - every apply exited 0; the odd ones loaded a new table (new table
#    handle), the even ones took the delta (same table handle);
#  - status is clean at the end, and no handover table is left;
#  - a replace the kernel refuses after the handover table is loaded leaves
#    the table as it was and no handover table.
# And the observer works: the same flooder's packets do arrive and are
# counted while the ports are not confined (uid: before any apply; netns:
# under a policy that allows them).
#
# This test found that a table replaced in one transaction lets a packet in
# flight through unfiltered now and then (1 to 11 packets per run of 100 to
# 300 applies, both backends); apply.c explains why, and how jailfw's
# handover table stops it.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       table inet observe: prerouting counters per port
#                       farend.py: counts udp 9001 9011, tcp 9002 9012;
#                       verifies streams on tcp 80 (uid) and 443 (netns)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; jail "web" = uid 1099 floods 9001/9002, streams to 80
#       |
#     box-out 10.97.20.1/24 fd00:97::20:1/112
#       |
#     box-in  10.97.20.2    fd00:97::20:2
#   [ jail "box" ] floods 9011/9012, streams to 443, masqueraded out of wan0

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

JAIL=1099
N4=192.0.2.2
N6=2001:db8:1::2
APPLIES=${RELOAD_APPLIES:-100}
STOP=$LIB_TMP/stop
# As the jail's uid, exec'ing (not lib_as, a shell function): in the
# background, $! is then the program itself.
AS_JAIL=(setpriv "--reuid=$JAIL" "--regid=$JAIL" --clear-groups --)

# ---------------------------------------------------------------- programs

# The far end.  Not lib_serve: that one logs a line per datagram and waits
# up to 2 s for each connection's token, which a flood would drown.  This
# one only counts (udp datagrams, accepted tcp connections) per port, and
# checks streams byte for byte against the pattern, answering "ok BYTES" at
# the stream's end (or "bad OFFSET" at the first wrong byte).  Its state
# goes to STATE every 0.2 s and on SIGTERM:
#	count udp|tcp PORT N
#	stream PORT PEER BYTES open|ok|bad@OFFSET|error:WHY
cat >"$LIB_TMP/farend.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import os, random, select, signal, socket, sys, time

P = 65521
PAT = bytes(random.Random(20240917).getrandbits(8) for _ in range(P))
PAT2 = PAT + PAT


def mismatch(off, data):
    i = 0
    while i < len(data):
        o = (off + i) % P
        n = min(len(data) - i, P)
        if data[i:i + n] != PAT2[o:o + n]:
            for k in range(n):
                if data[i + k] != PAT2[o + k]:
                    return off + i + k
        i += n
    return -1


def listener(proto, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp"
                      else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if proto == "udp":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("::", port))
    if proto == "tcp":
        s.listen(4096)
    s.setblocking(False)
    return s


def main():
    state, lifetime = sys.argv[1], float(sys.argv[2])
    counts = {}     # sock -> [proto, port, n]
    streams = {}    # listening sock -> port
    conns = {}      # conn -> [port, peer, bytes, status]
    done = []
    for spec in sys.argv[3:]:
        kind, proto, port = spec.split(":")
        s = listener(proto, int(port))
        if kind == "count":
            counts[s] = [proto, int(port), 0]
        else:
            streams[s] = int(port)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))

    def dump():
        lines = ["count %s %d %d" % tuple(c) for c in counts.values()]
        for c in list(conns.values()) + done:
            lines.append("stream %d %s %d %s" % tuple(c))
        tmp = state + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\nready\n")
        os.rename(tmp, state)

    dump()
    end = time.monotonic() + lifetime
    last = 0.0
    while not stop and time.monotonic() < end:
        try:
            ready, _, _ = select.select(list(counts) + list(streams) + list(conns),
                                        [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            if s in counts:
                c = counts[s]
                while True:
                    try:
                        if c[0] == "udp":
                            s.recv(2048)
                        else:
                            s.accept()[0].close()
                    except OSError:
                        break
                    c[2] += 1
            elif s in streams:
                try:
                    conn, peer = s.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                conns[conn] = [streams[s], peer[0].replace("::ffff:", ""), 0, "open"]
            else:
                c = conns[s]
                try:
                    data = s.recv(1 << 18)
                except BlockingIOError:
                    continue
                except OSError as e:
                    c[3] = "error:" + type(e).__name__
                    data = None
                if data:
                    bad = mismatch(c[2], data)
                    if bad < 0:
                        c[2] += len(data)
                        continue
                    c[3] = "bad@%d" % bad
                    reply = b"bad %d\n" % bad
                else:
                    if data is not None:
                        c[3] = "ok"
                    reply = b"ok %d\n" % c[2]
                try:
                    s.setblocking(True)
                    s.settimeout(5)
                    s.sendall(reply)
                except OSError:
                    pass
                s.close()
                done.append(conns.pop(s))
        if time.monotonic() - last > 0.2:
            dump()
            last = time.monotonic()
    dump()


main()
EOF

# The flooder: until STOP exists (or SECONDS pass), to every ADDR, UDP
# datagrams to UPORT from one non-blocking socket and TCP SYNs to TPORT
# (a non-blocking connect per SYN; the socket is closed 64 SYNs later, so
# that where the SYN does arrive the handshake completes and the listener
# counts it, and where it is dropped the port is freed at once).  Prints
# what it sent: "udp_sent N udp_failed N syn N" (a uid jail's dropped
# datagram fails with EPERM at sendto: it counts as failed, but the packet
# was made and met the firewall).
cat >"$LIB_TMP/flood.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import collections, errno, os, socket, sys, time

stop, secs, uport, tport = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
dsts = []
for a in sys.argv[5:]:
    f = socket.AF_INET6 if ":" in a else socket.AF_INET
    u = socket.socket(f, socket.SOCK_DGRAM)
    u.setblocking(False)
    dsts.append((f, u, (a, uport), (a, tport)))
sent = failed = syn = 0
pool = collections.deque()
payload = b"flood" * 8
end = time.monotonic() + secs
n = 0
while True:
    n += 1
    if n % 32 == 0 and (os.path.exists(stop) or time.monotonic() > end):
        break
    for f, u, ua, ta in dsts:
        for _ in range(8):
            try:
                u.sendto(payload, ua)
                sent += 1
            except OSError:
                failed += 1
        t = socket.socket(f, socket.SOCK_STREAM)
        t.setblocking(False)
        if t.connect_ex(ta) in (0, errno.EINPROGRESS):
            syn += 1
        pool.append(t)
        if len(pool) > 64:
            pool.popleft().close()
print("udp_sent %d udp_failed %d syn %d" % (sent, failed, syn))
EOF

# The stream: connect to ADDR PORT, send the far end's pattern in 8 KiB
# chunks every 4 ms until STOP exists, then half-close and wait for the
# far end's verdict.  Prints "connected" once connected, then
# "sent BYTES reply REPLY" or "error WHY after BYTES".
cat >"$LIB_TMP/stream.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import os, random, socket, sys, time

P = 65521
PAT = bytes(random.Random(20240917).getrandbits(8) for _ in range(P))
PAT2 = PAT + PAT
addr, port, stop, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
sent = 0
try:
    s = socket.create_connection((addr, port), timeout=10)
    s.settimeout(30)
    print("connected", flush=True)
    end = time.monotonic() + secs
    while not os.path.exists(stop) and time.monotonic() < end:
        o = sent % P
        s.sendall(PAT2[o:o + 8192])
        sent += 8192
        time.sleep(0.004)
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while not reply.endswith(b"\n"):
        d = s.recv(64)
        if not d:
            break
        reply += d
    print("sent %d reply %s" % (sent, reply.decode(errors="replace").strip() or "(none)"))
except OSError as e:
    print("error %s after %d" % (e, sent))
EOF
chmod 0644 "$LIB_TMP"/farend.py "$LIB_TMP"/flood.py "$LIB_TMP"/stream.py

# ---------------------------------------------------------------- helpers

# wait_pid PID SECONDS: wait for a background process (not our child any
# more after disown) to end.
wait_pid()
{
	lib_wait_for "$2" sh -c "! kill -0 $1"
}

# observed NAME: packets the far end's prerouting counter NAME saw.
observed()
{
	ip netns exec net nft list counter inet observe "$1" |
		sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p'
}

# heard PROTO PORT: what the far end's listener counted on PORT.
heard()
{
	sed -n "s/^count $1 $2 \\([0-9]*\\)$/\\1/p" "$LIB_TMP/farend.state"
}

# field OUTFILE KEY: the number after KEY in a flooder's output.
field()
{
	sed -n "s/.*\\b$2 \\([0-9][0-9]*\\).*/\\1/p" "$1"
}

# dropped JAIL: the jail's dropped packets as jailfw status reads them.
dropped()
{
	"$JAILFW" status --json | lib_status_jail '["dropped"]["packets"]' "$1"
}

# table_handle: the kernel's handle of table inet jailfw; a new table (a
# real reload) gets a new one.
table_handle()
{
	nft -j list tables | sed -n 's/.*"name": "jailfw", "handle": \([0-9]*\).*/\1/p'
}

# snapshot: far-end counts as "nft_udp nft_tcp listener_udp listener_tcp"
# for the uid (9001/9002) and netns (9011/9012) ports.
snapshot()
{
	echo "$(observed uid_udp) $(observed uid_tcp) $(heard udp 9001) $(heard tcp 9002)" \
		"$(observed box_udp) $(observed box_tcp) $(heard udp 9011) $(heard tcp 9012)"
}

# all_positive NAME A B C D: each of the four counts moved (> 0).
all_positive()
{
	local name=$1

	shift
	if [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] && [ "$4" -gt 0 ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "far end saw: nft udp $1, nft tcp $2, listener udp $3, listener tcp $4" \
		"(want every one > 0)"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
if ! ip netns exec net nft -f - <<'EOF'; then
# Before conntrack (raw - 10): every packet that reaches the far end's
# interface on a disallowed port is counted, whatever becomes of it.
table inet observe {
	counter uid_udp {
	}
	counter uid_tcp {
	}
	counter box_udp {
	}
	counter box_tcp {
	}
	chain pre {
		type filter hook prerouting priority raw - 10; policy accept;
		udp dport 9001 counter name "uid_udp"
		tcp dport 9002 counter name "uid_tcp"
		udp dport 9011 counter name "box_udp"
		tcp dport 9012 counter name "box_tcp"
	}
}
EOF
	lib_bail "observer table in net"
fi
lib_bg farend ip netns exec net "$LIB_PY" -I "$LIB_TMP/farend.py" "$LIB_TMP/farend.state" 600 \
	count:udp:9001 count:tcp:9002 count:udp:9011 count:tcp:9012 stream:tcp:80 stream:tcp:443
FAREND=$LIB_BG_PID
lib_wait_for 10 grep -qx ready "$LIB_TMP/farend.state" ||
	lib_bail "far end did not start" "$(cat "$LIB_TMP/farend.err")"

# One file for every policy: a rule's comment names its file and line, so
# chains that did not change stay byte-identical across the applies and
# keep their counters (jailfw carries them over), and the jails' drop
# counters add up over the whole reload phase.
P=$LIB_TMP/reload.conf
# policy PORT [EXTRA BOX RULES]: web and box allow the streams' ports (web
# tcp/80, box tcp/443) and neither the floods' (9001/9002, 9011/9012); a
# third jail, spare, allows udp/PORT.  Alternating PORT changes the table
# (so each apply reloads it) but not web's or box's chains, whose counters
# jailfw carries across the reloads.
policy()
{
	cat <<EOF
# reload-load
settings {
	wan wan0
}
jail web {
	backend uid
	user $JAIL
	allow tcp/80
}
jail box {
	backend netns
	ipv4 10.97.20.0/24
	ipv6 fd00:97::20:0/112
	allow tcp/443
	$2
}
jail spare {
	backend uid
	user 1101
	allow udp/$1
}
EOF
}

# ---------------------------------------------------------------- the observer works

# uid: before jailfw confines anything, the same flooder as the same uid
# reaches the far end, and both the nft counter and the listener count it.
s0=$(snapshot)
lib_as $JAIL "$LIB_PY" -I "$LIB_TMP/flood.py" "$STOP" 1 9001 9002 $N4 $N6 \
	>"$LIB_TMP/base-uid.out" 2>&1
sleep 0.5
read -r -a a <<<"$s0"
read -r -a b <<<"$(snapshot)"
all_positive "baseline: uid $JAIL's flood arrives before jailfw ($(cat "$LIB_TMP/base-uid.out"))" \
	$((b[0] - a[0])) $((b[1] - a[1])) $((b[2] - a[2])) $((b[3] - a[3]))

# netns: under a policy that allows the flood's ports, the same flooder in
# the jail, masqueraded out of wan0, is counted the same way.
policy 123 "allow udp/9011, tcp/9012" >"$P"
check "apply the policy that allows the flood ports" "$JAILFW" apply "$P" ||
	lib_bail "apply failed; nothing to test"
lib_wait_for 10 lib_no_tentative box || lib_bail "IPv6 addresses still tentative in box"
s0=$(snapshot)
lib_ns box "$LIB_PY" -I "$LIB_TMP/flood.py" "$STOP" 1 9011 9012 $N4 $N6 \
	>"$LIB_TMP/base-box.out" 2>&1
sleep 0.5
read -r -a a <<<"$s0"
read -r -a b <<<"$(snapshot)"
all_positive "baseline: box's flood arrives where allowed ($(cat "$LIB_TMP/base-box.out"))" \
	$((b[4] - a[4])) $((b[5] - a[5])) $((b[6] - a[6])) $((b[7] - a[7]))

# ---------------------------------------------------------------- load

policy 123 >"$P"
check "apply policy A (flood ports confined)" "$JAILFW" apply "$P" ||
	lib_bail "apply failed; nothing to test"
check_blocked_ns "box: udp/9011 no longer arrives" box udp $N4 9011
sleep 1
start=$(snapshot)
drop_web0=$(dropped web)
drop_box0=$(dropped box)

rm -f "$STOP"
STREAMS="web4 web6 box4 box6"
lib_bg web4 "${AS_JAIL[@]}" "$LIB_PY" -I "$LIB_TMP/stream.py" $N4 80 "$STOP" 300
lib_bg web6 "${AS_JAIL[@]}" "$LIB_PY" -I "$LIB_TMP/stream.py" $N6 80 "$STOP" 300
lib_bg box4 ip netns exec box "$LIB_PY" -I "$LIB_TMP/stream.py" $N4 443 "$STOP" 300
lib_bg box6 ip netns exec box "$LIB_PY" -I "$LIB_TMP/stream.py" $N6 443 "$STOP" 300
for s in $STREAMS; do
	lib_wait_for 10 grep -qx connected "$LIB_TMP/$s.out" ||
		lib_bail "stream $s did not connect" "$(cat "$LIB_TMP/$s.out" "$LIB_TMP/$s.err")"
done
# The streams' conntrack entries (ids): every apply sweeps the entries the
# policy no longer admits, and these it admits throughout.
stream_ids()
{
	conntrack -L -p tcp -o id 2>/dev/null | grep -E 'dport=(80|443) ' |
		sed -n 's/.* id=\([0-9]*\).*/\1/p' | sort | tr '\n' ' '
}
ids0=$(stream_ids)
# nice: as fast as the CPU lets them, but the applies and the streams are
# what is measured, and two flooders would otherwise starve them on 2 cores.
lib_bg flood-web nice -n 10 "${AS_JAIL[@]}" \
	"$LIB_PY" -I "$LIB_TMP/flood.py" "$STOP" 300 9001 9002 $N4 $N6
FLOOD_WEB=$LIB_BG_PID
lib_bg flood-box nice -n 10 ip netns exec box \
	"$LIB_PY" -I "$LIB_TMP/flood.py" "$STOP" 300 9011 9012 $N4 $N6
FLOOD_BOX=$LIB_BG_PID
sleep 0.5

bad_rc=() not_loaded=() same_handle=() not_delta=() new_handle=()
prev=$(table_handle)
t0=$SECONDS
for ((i = 1; i <= APPLIES; i++)); do
	if ((i % 2)); then policy 124; else policy 123; fi >"$P"
	# Odd applies: a foreign commit first moves the ruleset generation, so
	# the table is replaced through the handover table; even ones take the
	# delta (docs/ruleset.md): both paths run under the same flood.
	if ((i % 2)); then
		nft add table inet reload_bump && nft delete table inet reload_bump
	fi
	"$JAILFW" -v apply "$P" 2>"$LIB_TMP/apply.err" >/dev/null
	rc=$?
	[ "$rc" -eq 0 ] || bad_rc+=("apply $i: exit $rc: $(head -n 3 "$LIB_TMP/apply.err")")
	h=$(table_handle)
	if ((i % 2)); then
		grep -q "loading table inet jailfw" "$LIB_TMP/apply.err" || not_loaded+=("apply $i")
		[ -n "$h" ] && [ "$h" != "$prev" ] || same_handle+=("apply $i: handle '$prev' -> '$h'")
	else
		grep -Eq "delta: [0-9]+ objects" "$LIB_TMP/apply.err" || not_delta+=("apply $i")
		[ -n "$h" ] && [ "$h" = "$prev" ] || new_handle+=("apply $i: handle '$prev' -> '$h'")
	fi
	prev=$h
done
reload_secs=$((SECONDS - t0))
ids1=$(stream_ids)
sleep 0.5
touch "$STOP"
for pid in $FLOOD_WEB $FLOOD_BOX; do
	wait_pid "$pid" 20
done
sleep 1
end=$(snapshot)
drop_web1=$(dropped web)
drop_box1=$(dropped box)

check_eq "$APPLIES applies under load all exited 0 (${reload_secs}s)" "${bad_rc[*]}" ""
check_eq "every odd apply loaded the table (jailfw -v)" "${not_loaded[*]}" ""
check_eq "every odd apply replaced the table (a new table handle each time)" "${same_handle[*]}" ""
check_eq "every even apply took the delta (jailfw -v)" "${not_delta[*]}" ""
check_eq "every even apply kept the table (same table handle)" "${new_handle[*]}" ""

# ---------------------------------------------------------------- the far end

read -r -a a <<<"$start"
read -r -a b <<<"$end"
check_eq "far end: uid jail's udp/9001 (nft counter, listener)" \
	"$((b[0] - a[0])) $((b[2] - a[2]))" "0 0"
check_eq "far end: uid jail's tcp/9002 SYNs (nft counter, listener)" \
	"$((b[1] - a[1])) $((b[3] - a[3]))" "0 0"
check_eq "far end: netns jail's udp/9011 (nft counter, listener)" \
	"$((b[4] - a[4])) $((b[6] - a[6]))" "0 0"
check_eq "far end: netns jail's tcp/9012 SYNs (nft counter, listener)" \
	"$((b[5] - a[5])) $((b[7] - a[7]))" "0 0"

# The floods were floods: what each sent, and the jail's drop counter.
flooded()
{
	local name=$1 out=$2 before=$3 after=$4 sent

	sent=$(($(field "$out" udp_sent) + $(field "$out" udp_failed) + $(field "$out" syn)))
	if [ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -ge 5000 ] &&
		[ "$sent" -ge 5000 ]; then
		pass "$name flooded: sent $sent packets, $((after - before)) dropped ($(cat "$out"))"
		return 0
	fi
	fail "$name flooded" "sent: $(cat "$out")" \
		"drop counter: '$before' -> '$after' (want +5000 or more)"
}
flooded "uid jail" "$LIB_TMP/flood-web.out" "$drop_web0" "$drop_web1"
flooded "netns jail" "$LIB_TMP/flood-box.out" "$drop_box0" "$drop_box1"

# ---------------------------------------------------------------- the streams

for s in $STREAMS; do
	lib_wait_for 30 grep -Eq '^(sent|error) ' "$LIB_TMP/$s.out"
	out=$(grep -E '^(sent|error) ' "$LIB_TMP/$s.out")
	n=$(echo "$out" | sed -n 's/^sent \([0-9]*\) reply ok \([0-9]*\)$/\1 \2/p')
	read -r sent got <<<"$n"
	if [ -n "$n" ] && [ "$sent" = "$got" ] && [ "$sent" -ge 1000000 ]; then
		pass "stream $s intact across $APPLIES applies: $sent bytes, in order"
	else
		fail "stream $s intact across $APPLIES applies" "$out" "$(cat "$LIB_TMP/$s.err")" \
			"(want 'sent N reply ok N', N >= 1000000)"
	fi
done
kill "$FAREND" 2>/dev/null
wait_pid "$FAREND" 10
# The far end's own record: four streams (two per port), all ended "ok",
# none reset or mismatched.
check_eq "the streams kept their conntrack entries across the applies (ids)" \
	"$(wc -w <<<"$ids1") entries: $ids1" "4 entries: $ids0"
check_eq "far end: 4 streams, each ended ok" \
	"$(awk '$1 == "stream" { print $2, $5 }' "$LIB_TMP/farend.state" | sort | uniq -c |
		tr -s ' ' | sed 's/^ //' | tr '\n' ';')" "2 443 ok;2 80 ok;"

# ---------------------------------------------------------------- the end state

check "no handover table is left after the reloads" \
	sh -c '! nft list tables | grep -q handover'
check "status is clean after the reloads" "$JAILFW" status

# A replace that the kernel refuses after the handover table is in: the
# table in force stays exactly as it was, and the handover table goes.
nft list table inet jailfw >"$LIB_TMP/table.before"
policy 125 >"$P"
check_exit "a refused replace exits 3" 3 env JAILFW_TEST_FAULT=nft-commit-replace \
	"$JAILFW_TESTHOOKS" -v apply "$P"
check_match "a refused replace: refused after the handover table was loaded" "$LIB_ERR" \
	"loading the new ruleset into table inet jailfw-handover"
check_match "a refused replace says the previous ruleset is in force" "$LIB_ERR" \
	"previous ruleset is still in force"
check_same "a refused replace leaves the table as it was" "$LIB_TMP/table.before" \
	<(nft list table inet jailfw)
check "a refused replace leaves no handover table" sh -c '! nft list tables | grep -q handover'
check "status is clean after the refused replace" "$JAILFW" status
check "down" "$JAILFW" down

lib_done
