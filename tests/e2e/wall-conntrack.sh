#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The wall and conntrack, end to end with real packets: a packet is accepted
# as established or related only when the jail itself opened the connection
# under the allow rules now in force.
#
#  - A stricter apply stops the flows it no longer admits: UDP and TCP flows
#    of a uid and a netns jail, kept open across an apply that removes their
#    rule, are counted at the far end for 3 s from the commit: none may
#    arrive; the far end's pushes into the netns jail stop once apply
#    returns (an apply killed between the commit and its conntrack sweep
#    leaves them to the next apply, which completes it).  Flows the new
#    policy still admits keep flowing, and their conntrack entries, those
#    of jails that did not change too, are the same entries (ids).
#  - A delta whose only change to a netns jail is a narrower destination
#    prefix (tcp/443 to 198.51.100.0/24, then /25) removes the entry of the
#    jail's connection to 198.51.100.200, and the far end's segments stop
#    reaching it; the same connection of an unchanged jail keeps its entry.
#  - A uid jail does not ride another user's conntrack entry: uid 1100 (not
#    jailed) talks from port P to a port the jail may not use, closes, and
#    the jail sends from P to the same place.  Nor the other way: the far
#    end writes to uid 1100's service on port P, which answers and closes,
#    and the jail binds P and writes to the far end (the reply direction of
#    1100's entry).  The control: the jail's own service, restarted on its
#    port after the kernel answered a datagram with port unreachable, still
#    answers its peer.
#  - root in a netns jail forges ICMP errors quoting the host's own
#    connections: a port unreachable that would make a host socket fail
#    with ECONNREFUSED, a "fragmentation needed" that would drop the host's
#    path MTU to 552, an error towards the internet that would leave with
#    the jail's private address.  ICMP errors about the jail's own flows
#    still pass, both ways.
#  - A conntrack helper of another table (FTP, in table inet other) opens
#    expected connections: a jail's data connection, passive or active, is
#    checked against its allow rules like a new one.
#  - jailfw doctor names that helper.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64  lo 198.51.100.200
#                       table inet observe (prerouting, before conntrack):
#                       counters per port, and for the jails' private sources
#                       farend.py: udp echo, tcp sinks, a pusher, an FTP server
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jails "web" (1099) and "keep" (1101);
#     uid 1100 is not jailed; table inet other: an FTP conntrack helper
#       |                                     |
#     box-out 10.97.50.1/24 fd00:97::50:1   steady-out 10.97.51.1/24
#       |                                     |
#     box-in  10.97.50.2    fd00:97::50:2   steady-in 10.97.51.2
#   [ jail "box" ]                        [ jail "steady" ]
#
# web and box change between policy A and policy B; keep and steady do not.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

WEB=1099
OTHER=1100
KEEP=1101
H4=192.0.2.1
H6=2001:db8:1::1
N4=192.0.2.2
N6=2001:db8:1::2
J4=10.97.50.2
J6=fd00:97::50:2
STOP=$LIB_TMP/stop
AS_WEB=(setpriv "--reuid=$WEB" "--regid=$WEB" --clear-groups --)
AS_KEEP=(setpriv "--reuid=$KEEP" "--regid=$KEEP" --clear-groups --)
AS_OTHER=(setpriv "--reuid=$OTHER" "--regid=$OTHER" --clear-groups --)

command -v conntrack >/dev/null 2>&1 ||
	lib_bail "no conntrack tool (tests/install-deps installs it)"

# ---------------------------------------------------------------- programs

# The far end, one thread per SPEC:
#   echo:udp:PORT  answers "ok" to every datagram
#   sink:tcp:PORT  accepts and reads whatever comes
#   push:udp:PORT  once a peer has sent a datagram, sends it one every 20 ms
#                  (until LOG.stop exists)
#   talk:tcp:PORT  accepts, then sends a byte every 20 ms until it fails
#   late:udp:PORT  answers a datagram once, a second later
#   ftp:tcp:PORT   a small FTP control port: "PASV N" listens on N and
#                  answers 227 with it; "PORT a,b,c,d,p,q" connects there
# Every event is a line in LOG: "data PORT PEER", "active ok|fail ADDR PORT".
cat >"$LIB_TMP/farend.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import os, socket, sys, threading, time

log_lock = threading.Lock()
out = open(sys.argv[1], "a", buffering=1)


def log(line):
    with log_lock:
        out.write(line + "\n")


def bound(proto, port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp"
                      else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    if proto == "tcp":
        s.listen(64)
    return s


def echo(port):
    s = bound("udp", port)
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(b"ok\n", peer)


def sink_conn(c):
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass


def serve(port, conn):
    s = bound("tcp", port)
    while True:
        c, _ = s.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def sink(port):
    serve(port, sink_conn)


def push(port):
    s = bound("udp", port)
    s.settimeout(0.02)
    peers = set()
    while not os.path.exists(sys.argv[1] + ".stop"):
        try:
            _, peer = s.recvfrom(2048)
            peers.add(peer)
        except socket.timeout:
            pass
        for p in peers:
            try:
                s.sendto(b"push\n", p)
            except OSError:
                pass


def talk(port):
    serve(port, talk_conn)


def talk_conn(c):
    try:
        while True:
            c.send(b"t")
            time.sleep(0.02)
    except OSError:
        pass


def late(port):
    s = bound("udp", port)
    while True:
        _, peer = s.recvfrom(2048)
        time.sleep(1)
        s.sendto(b"late\n", peer)


def ftp_data(port):
    d = bound("tcp", port)
    d.settimeout(10)
    try:
        c, peer = d.accept()
        log("data %d %s" % (port, peer[0].replace("::ffff:", "")))
        c.close()
    except OSError:
        pass
    d.close()


def ftp_conn(c):
    f = c.makefile("rwb", buffering=0)
    f.write(b"220 ready\r\n")
    for line in f:
        words = line.decode(errors="replace").strip().split()
        if not words:
            continue
        if words[0] == "PASV":
            port = int(words[1])
            threading.Thread(target=ftp_data, args=(port,), daemon=True).start()
            time.sleep(0.2)
            f.write(b"227 Entering Passive Mode (192,0,2,2,%d,%d)\r\n"
                    % (port >> 8, port & 255))
        elif words[0] == "PORT":
            n = [int(x) for x in words[1].split(",")]
            addr, port = "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]
            try:
                socket.create_connection((addr, port), timeout=2).close()
                log("active ok %s %d" % (addr, port))
                f.write(b"200 connected\r\n")
            except OSError:
                log("active fail %s %d" % (addr, port))
                f.write(b"425 no data connection\r\n")
        else:
            f.write(b"500 what\r\n")


def ftp(port):
    serve(port, ftp_conn)


kinds = {"echo": echo, "sink": sink, "push": push, "late": late, "ftp": ftp, "talk": talk}
for spec in sys.argv[3:]:
    kind, _, port = spec.split(":")
    threading.Thread(target=kinds[kind], args=(int(port),), daemon=True).start()
time.sleep(0.3)
log("ready")
time.sleep(float(sys.argv[2]))
EOF

# A flow: until STOP exists, one small packet every 20 ms over PROTO to
# ADDR:PORT (from SPORT when given).  Errors (EPERM when the firewall drops
# what the jail sends) are ignored: the flow keeps trying, as an
# application would.  Prints "up" once the far end has answered (UDP) or
# the connection is made (TCP).
cat >"$LIB_TMP/flow.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import os, socket, sys, time

stop, proto, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sport = int(sys.argv[5]) if len(sys.argv) > 5 else 0
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
if sport:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", sport))
if proto == "tcp":
    s.settimeout(5)
    s.connect((addr, port))
    print("up", flush=True)
else:
    s.connect((addr, port))
s.setblocking(False)
up = proto == "tcp"
while not os.path.exists(stop):
    try:
        s.send(b"x" * 64)
    except OSError:
        pass
    try:
        while s.recv(2048):
            if not up:
                print("up", flush=True)
                up = True
    except OSError:
        pass
    time.sleep(0.02)
EOF

# once ADDR PORT SPORT: one UDP datagram from SPORT, wait for the answer,
# close.  Exits 0 when it was answered.
cat >"$LIB_TMP/once.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import socket, sys

addr, port, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", sport))
s.settimeout(3)
s.sendto(b"hello\n", (addr, port))
s.recvfrom(64)
s.close()
EOF

# answer PORT: a UDP service on PORT that answers one datagram and closes.
cat >"$LIB_TMP/answer.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import socket, sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.settimeout(5)
_, peer = s.recvfrom(64)
s.sendto(b"ok\n", peer)
s.close()
EOF

# forge TYPE SRC DST ISRC ISPORT IDST IDPORT [MTU]: as root, send one
# ICMP error from SRC to DST (a raw packet, the kernel adds nothing) that
# quotes a UDP datagram ISRC:ISPORT -> IDST:IDPORT.  TYPE: unreach (port
# unreachable; IPv4 or IPv6) or fragneeded (fragmentation needed, next-hop
# MTU; IPv4).
cat >"$LIB_TMP/forge.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import socket, struct, sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def iphdr(src, dst, proto, length):
    if ":" in src:
        return struct.pack("!IHBB16s16s", 6 << 28, length, proto, 64,
                           socket.inet_pton(socket.AF_INET6, src),
                           socket.inet_pton(socket.AF_INET6, dst))
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, 0x1234, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


kind, src, dst, isrc, isport, idst, idport = sys.argv[1:8]
mtu = int(sys.argv[8]) if len(sys.argv) > 8 else 0
v6 = ":" in src
inner = iphdr(isrc, idst, 17, 8 + 6) + struct.pack("!HHHH", int(isport), int(idport), 8 + 6, 0)
if v6:
    icmp = struct.pack("!BBHI", 1, 4, 0, 0) + inner
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!I3xB", len(icmp), 58))
    icmp = icmp[:2] + struct.pack("!H", csum(pseudo + icmp)) + icmp[4:]
else:
    code, rest = (3, 0) if kind == "unreach" else (4, mtu)
    icmp = struct.pack("!BBHHH", 3, code, 0, 0, rest) + inner
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
pkt = iphdr(src, dst, 58 if v6 else 1, len(icmp)) + icmp
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(pkt, (dst, 0))
EOF

# victim SPORT ADDR PORT [CMD...]: a connected UDP socket SPORT -> ADDR:PORT
# (0: any port) sends a datagram.  With CMD, once it has been answered (so
# its conntrack entry is established), CMD runs.  Then the socket waits
# 1.5 s for an answer or an error.  Prints "refused" (an ICMP error reached
# it), "answered" or "quiet".
cat >"$LIB_TMP/victim.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import socket, subprocess, sys

sport, addr, port, cmd = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", sport))
s.connect((addr, port))
s.settimeout(3)
s.send(b"hi\n")
if cmd:
    s.recv(64)
    subprocess.run(cmd, check=False)
s.settimeout(1.5)
try:
    s.recv(64)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("quiet")
except OSError as e:
    print("error: %s" % e)
EOF

# ftpc pasv ADDR PORT: an FTP control connection to ADDR:21, "PASV PORT",
# then the data connection to where the 227 answer points.  Prints
# "data connected" or "data failed: WHY".
# ftpc port ADDR LISTEN ANNOUNCE PORT: listens on LISTEN:PORT, sends
# "PORT" announcing ANNOUNCE:PORT and waits 4 s for the server's data
# connection.  Prints "active accepted" or "active none".
cat >"$LIB_TMP/ftpc.py" <<'EOF'
# SPDX-License-Identifier: GPL-2.0-or-later
import re, socket, sys

mode, addr = sys.argv[1], sys.argv[2]
c = socket.create_connection((addr, 21), timeout=5)
f = c.makefile("rwb", buffering=0)
f.readline()
# The helper reads a command only after a line of the same direction: it
# tracks where lines start, and a first line has nothing before it.
f.write(b"USER anonymous\r\n")
f.readline()
if mode == "pasv":
    f.write(b"PASV %s\r\n" % sys.argv[3].encode())
    m = re.search(rb"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", f.readline())
    n = [int(x) for x in m.groups()]
    try:
        socket.create_connection(("%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]),
                                 timeout=2).close()
        print("data connected")
    except OSError as e:
        print("data failed: %s" % e)
else:
    listen, announce, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((listen, port))
    l.listen(4)
    l.settimeout(4)
    f.write(b"PORT %s,%d,%d\r\n" % (announce.replace(".", ",").encode(), port >> 8,
                                     port & 255))
    try:
        l.accept()[0].close()
        print("active accepted")
    except OSError:
        print("active none")
EOF
chmod 0644 "$LIB_TMP"/*.py

# ---------------------------------------------------------------- helpers

# far NAME: packets the far end's prerouting counter NAME saw.
far()
{
	ip netns exec net nft list counter inet observe "$1" 2>/dev/null |
		sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p'
}

# far_all NAMES...: "NAME=N ..." for each.
far_all()
{
	local n

	for n in "$@"; do
		printf '%s=%s ' "$n" "$(far "$n")"
	done
}

# box_pushes: push datagrams that reached jail box (its own input counter).
box_pushes()
{
	seen box pushes
}

# seen JAIL NAME: packets JAIL's own input counter NAME saw.
seen()
{
	ip netns exec "$1" nft list counter inet seen "$2" 2>/dev/null |
		sed -n 's/.*packets \([0-9][0-9]*\).*/\1/p'
}

# ct_ids ARGS...: the ids of the conntrack entries `conntrack -L ARGS`
# lists, sorted, on one line.
ct_ids()
{
	conntrack -L -o id "$@" 2>/dev/null | sed -n 's/.* id=\([0-9]*\).*/\1/p' | sort | tr '\n' ' '
}

# moved NAME BEFORE AFTER: the counter moved (a flow that must go on).
moved()
{
	if [ -n "$2" ] && [ -n "$3" ] && [ "$3" -gt "$2" ]; then
		pass "$1 ($2 -> $3)"
		return 0
	fi
	fail "$1" "the far end's counter went '$2' -> '$3' (want it to move)"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_addr net lo 198.51.100.200/32 || lib_bail "address 198.51.100.200 on net's lo"
if ! ip netns exec net nft -f - <<'EOF'; then
# Before conntrack: every packet that reaches the far end's interface.
table inet observe {
	counter web_udp {
	}
	counter web_tcp {
	}
	counter web_kept {
	}
	counter box_udp {
	}
	counter box_tcp {
	}
	counter box_kept {
	}
	counter keep_udp {
	}
	counter keep_tcp {
	}
	counter steady_udp {
	}
	counter steady_tcp {
	}
	counter reuse {
	}
	counter reuse_reply {
	}
	counter restart_reply {
	}
	counter private {
	}
	counter own_unreach {
	}
	chain pre {
		type filter hook prerouting priority raw - 10; policy accept;
		udp dport 7001 counter name "web_udp"
		tcp dport 7002 counter name "web_tcp"
		udp dport 7003 counter name "web_kept"
		udp dport 7011 counter name "box_udp"
		tcp dport 7012 counter name "box_tcp"
		udp dport 7013 counter name "box_kept"
		udp dport 7021 counter name "keep_udp"
		tcp dport 7022 counter name "keep_tcp"
		udp dport 7031 counter name "steady_udp"
		tcp dport 7032 counter name "steady_tcp"
		udp dport 7101 counter name "reuse"
		udp dport 7102 counter name "reuse_reply"
		udp dport 7103 counter name "restart_reply"
		ip saddr 10.97.0.0/16 counter name "private"
		# A port unreachable quoting a datagram from udp/7212 (the ICMP
		# header is 8 bytes, the quoted IPv4 header 20).
		icmp type destination-unreachable @th,224,16 7212 counter name "own_unreach"
	}
}
EOF
	lib_bail "observer table in net"
fi
FAR_PORTS="echo:udp:7001 sink:tcp:7002 echo:udp:7003 echo:udp:7011 sink:tcp:7012
	echo:udp:7013 push:udp:7014 echo:udp:7021 sink:tcp:7022 echo:udp:7031 sink:tcp:7032
	echo:udp:7101 echo:udp:7201 echo:udp:7202 echo:udp:7203 echo:udp:7211 late:udp:7212
	ftp:tcp:21 talk:tcp:443"
# shellcheck disable=SC2086 # one word per spec
lib_bg farend ip netns exec net "$LIB_PY" -I "$LIB_TMP/farend.py" "$LIB_TMP/farend.log" 600 \
	$FAR_PORTS
lib_wait_for 10 grep -qx ready "$LIB_TMP/farend.log" ||
	lib_bail "far end did not start" "$(cat "$LIB_TMP/farend.err")"

P=$LIB_TMP/conntrack.conf
# policy A|B [DST]: web and box lose their udp and tcp flows' rules in B;
# keep and steady are the same in both (byte for byte: the same lines).
# With DST, box may use tcp/443 to DST and steady tcp/443 to 198.51.100.0/24.
policy()
{
	local web box box443='' steady443=''

	if [ "$1" = A ]; then
		web="allow udp/7001, tcp/7002"
		box="allow udp/7011,7014, tcp/7012"
	else
		web="# (udp/7001 and tcp/7002 removed)"
		box="# (udp/7011,7014 and tcp/7012 removed)"
	fi
	if [ -n "${2:-}" ]; then
		box443="allow tcp/443 to $2"
		steady443="allow tcp/443 to 198.51.100.0/24"
	fi
	cat <<EOF
# wall-conntrack, policy $1
settings {
	wan wan0
}
jail keep {
	backend uid
	user $KEEP
	allow udp/7021, tcp/7022
}
jail steady {
	backend netns
	ipv4 10.97.51.0/24
	allow udp/7031, tcp/7032
	$steady443
}
jail web {
	backend uid
	user $WEB
	allow udp/7003, udp/7210, tcp/21, tcp/7305 to $N4
	$web
}
jail box {
	backend netns
	ipv4 10.97.50.0/24
	ipv6 fd00:97::50:0/112
	allow udp/7013, udp/7210-7212, tcp/21 to $N4
	$box
	$box443
}
EOF
}

policy A >"$P"
check "apply policy A" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
lib_wait_for 30 lib_no_tentative box || lib_bail "IPv6 addresses still tentative in box"
# What reaches box from the pusher, counted inside box.
ip netns exec box nft -f - <<'EOF' || lib_bail "counter table in box"
table inet seen {
	counter pushes {
	}
	chain in {
		type filter hook input priority filter; policy accept;
		udp sport 7014 counter name "pushes"
	}
}
EOF

# ---------------------------------------------------------------- 4: a stricter apply

rm -f "$STOP"
lib_bg web_udp "${AS_WEB[@]}" "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7001
lib_bg web_tcp "${AS_WEB[@]}" "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $N4 7002
lib_bg web_kept "${AS_WEB[@]}" "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7003
lib_bg keep_udp "${AS_KEEP[@]}" "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7021
lib_bg keep_tcp "${AS_KEEP[@]}" "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $N4 7022
lib_bg box_udp ip netns exec box "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7011
lib_bg box_tcp ip netns exec box "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $N4 7012
lib_bg box_kept ip netns exec box "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7013
lib_bg box_push ip netns exec box "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7014
lib_bg steady_udp ip netns exec steady "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7031
lib_bg steady_tcp ip netns exec steady "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $N4 7032
for f in web_udp web_tcp web_kept keep_udp keep_tcp box_udp box_tcp box_kept box_push \
	steady_udp steady_tcp; do
	lib_wait_for 10 grep -qx up "$LIB_TMP/$f.out" ||
		lib_bail "flow $f did not come up" "$(cat "$LIB_TMP/$f.err")"
done
sleep 1
FLOWS="web_udp web_tcp web_kept box_udp box_tcp box_kept keep_udp keep_tcp steady_udp steady_tcp"
read -r -a b0 <<<"$(far_all $FLOWS)"
p0=$(box_pushes)
sleep 1
read -r -a b1 <<<"$(far_all $FLOWS)"
p1=$(box_pushes)
ok=1
for i in "${!b0[@]}"; do
	[ "${b1[i]#*=}" -gt "${b0[i]#*=}" ] || ok=0
done
if [ "$ok" = 1 ] && [ "$p1" -gt "$p0" ]; then
	pass "baseline: every flow flows under policy A"
else
	fail "baseline: every flow flows under policy A" "before: ${b0[*]}" "after:  ${b1[*]}" \
		"pushes into box: $p0 -> $p1"
fi

keep_ids0=$(ct_ids -s 192.0.2.1 -d $N4 --dport 7021)$(ct_ids -s 192.0.2.1 -d $N4 --dport 7022)
kept_ids0=$(ct_ids -s $J4 -d $N4 --dport 7013)
steady_ids0=$(ct_ids -s 10.97.51.2 -d $N4 --dport 7031)$(ct_ids -s 10.97.51.2 -d $N4 --dport 7032)

# Apply B is killed right after its commit, before it removes conntrack
# entries: the ruleset alone already stops what the jails send, but the far
# end's pushes still reach box.  The next apply of B completes the killed
# one, sweep included, and the pushes stop.
policy B >"$P"
check_exit "apply policy B, killed right after the commit" 137 \
	env JAILFW_TEST_KILL_AT=ruleset-committed "$JAILFW_TESTHOOKS" apply "$P"
read -r -a c0 <<<"$(far_all $FLOWS)"
q0=$(box_pushes)
sleep 1.5
q1=$(box_pushes)
moved "4: box: the far end's pushes still reach it after the commit alone" "$q0" "$q1"
check "apply policy B again: it completes the killed apply" "$JAILFW" apply "$P"
q2=$(box_pushes)
sleep 1.5
read -r -a c1 <<<"$(far_all $FLOWS)"
q3=$(box_pushes)

for i in "${!c0[@]}"; do
	name=${c0[i]%%=*}
	before=${c0[i]#*=}
	after=${c1[i]#*=}
	case $name in
	web_udp | web_tcp | box_udp | box_tcp)
		check_eq "4: $name: no packet reaches the far end once B was committed (3 s)" \
			"$((after - before))" 0
		;;
	*)
		moved "4: $name: the flow the new policy still admits goes on" "$before" "$after"
		;;
	esac
done
check_eq "4: box: the far end's pushes on a flow policy B does not admit no longer reach it" \
	"$((q3 - q2))" 0
check_eq "4: box: its flow policy B still admits keeps its conntrack entry" \
	"$(ct_ids -s $J4 -d $N4 --dport 7013)" "$kept_ids0"
check_eq "4: box: the entries of the flows policy B does not admit are gone" \
	"$(ct_ids -s $J4 -d $N4 --dport 7011)$(ct_ids -s $J4 -d $N4 --dport 7012)$(ct_ids -s $J4 -d $N4 --dport 7014)" ""
check_eq "4: keep (unchanged): the same conntrack entries after apply B" \
	"$(ct_ids -s 192.0.2.1 -d $N4 --dport 7021)$(ct_ids -s 192.0.2.1 -d $N4 --dport 7022)" \
	"$keep_ids0"
check_eq "4: steady (unchanged): the same conntrack entries after apply B" \
	"$(ct_ids -s 10.97.51.2 -d $N4 --dport 7031)$(ct_ids -s 10.97.51.2 -d $N4 --dport 7032)" \
	"$steady_ids0"
# The same without a kill: back to A (the flows come back), then B.
policy A >"$P"
check "apply policy A again" "$JAILFW" apply "$P"
sleep 1
r0=$(box_pushes)
read -r -a c2 <<<"$(far_all web_udp box_udp)"
policy B >"$P"
out=$("$JAILFW" -v apply "$P" 2>&1)
check_match "apply policy B again, in one go: a delta" "$out" "delta: [0-9]+ objects"
read -r -a c3 <<<"$(far_all web_udp box_udp)"
r1=$(box_pushes)
sleep 1.5
read -r -a c4 <<<"$(far_all web_udp box_udp)"
r2=$(box_pushes)
moved "4: under A again, box's flow and the far end's pushes resumed" "$r0" "$r1"
check_eq "4: after B in one go: nothing of web's and box's udp flows reaches the far end" \
	"${c4[*]}" "${c3[*]}"
check_eq "4: after B in one go: the far end's pushes no longer reach box" "$((r2 - r1))" 0
check_eq "4: after B in one go: box's entries B does not admit are gone (the delta's sweep)" \
	"$(ct_ids -s $J4 -d $N4 --dport 7011)$(ct_ids -s $J4 -d $N4 --dport 7014)" ""
check_eq "4: after B in one go: box's flow B admits keeps its conntrack entry" \
	"$(ct_ids -s $J4 -d $N4 --dport 7013)" "$kept_ids0"
check_eq "4: after B in one go: steady (unchanged) keeps its conntrack entries" \
	"$(ct_ids -s 10.97.51.2 -d $N4 --dport 7031)$(ct_ids -s 10.97.51.2 -d $N4 --dport 7032)" \
	"$steady_ids0"
touch "$STOP" "$LIB_TMP/farend.log.stop"

# ---------------------------------------------------------------- 4b: a narrower prefix

# box and steady may use tcp/443 to 198.51.100.0/24, and each opens a
# connection to 198.51.100.200, whose far end sends a byte every 20 ms.
# Then box's prefix alone becomes /25: .200 is outside it.  The delta's
# only change to box is that destination (a shared destination chain and
# box's element that jumps to it), and steady does not change at all.
T4=198.51.100.200
ct443()
{
	ct_ids -p tcp -s "$1" -d $T4 --dport 443
}
for j in box steady; do
	ip netns exec $j nft -f - <<'EOF' || lib_bail "counter of tcp/443 in $j"
table inet seen {
	counter talk {
	}
	chain talk_in {
		type filter hook input priority filter; policy accept;
		tcp sport 443 counter name "talk"
	}
}
EOF
done
policy B 198.51.100.0/24 >"$P"
out=$("$JAILFW" -v apply "$P" 2>&1)
check_match "4b: box and steady may use tcp/443 to 198.51.100.0/24 (a delta)" "$out" \
	"delta: [0-9]+ objects"
rm -f "$STOP"
lib_bg box_443 ip netns exec box "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $T4 443
lib_bg steady_443 ip netns exec steady "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" tcp $T4 443
for f in box_443 steady_443; do
	lib_wait_for 10 grep -qx up "$LIB_TMP/$f.out" ||
		lib_bail "flow $f did not come up" "$(cat "$LIB_TMP/$f.err")"
done
sleep 0.5
bt0=$(seen box talk)
st0=$(seen steady talk)
sleep 1
moved "4b: baseline: the far end's tcp/443 segments reach box" "$bt0" "$(seen box talk)"
moved "4b: baseline: ... and steady" "$st0" "$(seen steady talk)"
box443_ids=$(ct443 $J4)
steady443_ids=$(ct443 10.97.51.2)
check_match "4b: baseline: box's and steady's connections have an entry each" \
	"$box443_ids/$steady443_ids" '^[0-9]+ /[0-9]+ $'

policy B 198.51.100.0/25 >"$P"
out=$("$JAILFW" -v apply "$P" 2>&1)
check_match "4b: box's tcp/443 narrowed to 198.51.100.0/25: a delta" "$out" \
	"delta: [0-9]+ objects"
sleep 0.3
bt1=$(seen box talk)
st1=$(seen steady talk)
sleep 1.5
check_eq "4b: box: its connection to $T4 lost its entry" "$(ct443 $J4)" ""
check_eq "4b: box: the far end's segments on it no longer reach box (1.5 s)" \
	"$(($(seen box talk) - bt1))" 0
check_eq "4b: steady (unchanged): its connection keeps its entry" "$(ct443 10.97.51.2)" \
	"$steady443_ids"
moved "4b: steady (unchanged): the far end's segments still reach it" "$st1" "$(seen steady talk)"
touch "$STOP"

# ---------------------------------------------------------------- 5a: another user's entry

# uid 1100 is not jailed: its datagram from port 40123 to udp/7101 is
# answered, which makes the entry established.  The jail then sends from the
# same port to the same place: same 5-tuple, and udp/7101 is not its to use.
r0=$(far reuse)
check "5a: baseline: uid $OTHER's datagram from port 40123 to udp/7101 is answered" \
	"${AS_OTHER[@]}" "$LIB_PY" -I "$LIB_TMP/once.py" $N4 7101 40123
r1=$(far reuse)
rm -f "$STOP"
lib_bg reuse "${AS_WEB[@]}" timeout 2 "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" udp $N4 7101 40123
sleep 2.5
r2=$(far reuse)
check_eq "5a: web from the same port to udp/7101 (uid $OTHER's entry): nothing arrives" \
	"$((r2 - r1)) (baseline $((r1 - r0)))" "0 (baseline 1)"

# answered_once WHO AS_VAR PORT FARPORT: WHO's UDP service on the host's
# PORT answers one datagram from the far end's FARPORT and closes.
answered_once()
{
	local who=$1 port=$3 farport=$4 srv
	local -n as=$2

	lib_bg "srv_$port" "${as[@]}" "$LIB_PY" -I "$LIB_TMP/answer.py" "$port"
	srv=$LIB_BG_PID
	sleep 0.3
	check "5a: baseline: $who on port $port answers the far end's udp/$farport" \
		ip netns exec net "$LIB_PY" -I "$LIB_TMP/once.py" $H4 "$port" "$farport"
	lib_wait_for 6 sh -c "! kill -0 $srv 2>/dev/null" || lib_bail "$who did not finish"
}

# web_writes_from PORT FARPORT: web sends from PORT to the far end's
# udp/FARPORT for 2 s.
web_writes_from()
{
	rm -f "$STOP"
	lib_bg "web_from_$1" "${AS_WEB[@]}" timeout 2 "$LIB_PY" -I "$LIB_TMP/flow.py" "$STOP" \
		udp $N4 "$2" "$1"
	sleep 2.5
}

# The other direction: the far end writes from udp/7102 to a service of
# uid 1100 on the host's port 40124, which answers (the entry, made towards
# the host, is established) and closes.  web binds 40124 and writes to the
# far end's udp/7102: the reply direction of uid 1100's entry, and udp/7102
# is not web's to use.
r0=$(far reuse_reply)
answered_once "uid $OTHER's service" AS_OTHER 40124 7102
r1=$(far reuse_reply)
web_writes_from 40124 7102
r2=$(far reuse_reply)
check_eq "5a: web from port 40124 to udp/7102 (uid $OTHER's entry, reply direction): nothing arrives" \
	"$((r2 - r1)) (baseline $((r1 - r0)))" "0 (baseline 1)"

# The control: web's own UDP service on 40125 answers the far end's
# udp/7103 and closes; the far end writes again and gets the kernel's port
# unreachable (a related packet, not an answer of another socket); the
# service comes back on 40125 and answers: its replies arrive.
r0=$(far restart_reply)
answered_once "web's own service" AS_WEB 40125 7103
ip netns exec net "$LIB_PY" -I -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 7103))
s.sendto(b"anyone?\n", ("'$H4'", 40125))
'
sleep 0.3
r1=$(far restart_reply)
web_writes_from 40125 7103
r2=$(far restart_reply)
if [ "$((r1 - r0))" = 1 ] && [ "$((r2 - r1))" -gt 10 ]; then
	pass "5a: web restarted on 40125 still answers the far end's udp/7103 ($((r2 - r1)) arrived)"
else
	fail "5a: web restarted on 40125 still answers the far end's udp/7103" \
		"baseline $((r1 - r0)), after the restart $((r2 - r1)) (want 1, more than 10)"
fi

# ---------------------------------------------------------------- 5b: forged ICMP errors

# A host socket 192.0.2.1:40201 -> N4:7201, answered.  Root in box quotes it
# in a port unreachable sent to the host; the same error sent by root on
# the host itself (nothing confines that) shows that it would work.  Both
# families.
got=$("$LIB_PY" -I "$LIB_TMP/victim.py" 40200 $N4 7201 \
	"$LIB_PY" -I "$LIB_TMP/forge.py" unreach $J4 $H4 $H4 40200 $N4 7201)
check_eq "5b: control: the forged port unreachable, sent on the host, fails the socket" \
	"$got" refused
got=$("$LIB_PY" -I "$LIB_TMP/victim.py" 40201 $N4 7201 \
	ip netns exec box "$LIB_PY" -I "$LIB_TMP/forge.py" unreach $J4 $H4 $H4 40201 $N4 7201)
check_eq "5b: a port unreachable forged in box does not reach the host's socket" "$got" quiet
got=$("$LIB_PY" -I "$LIB_TMP/victim.py" 40204 $N6 7201 \
	"$LIB_PY" -I "$LIB_TMP/forge.py" unreach $J6 $H6 $H6 40204 $N6 7201)
check_eq "5b: control: the same over IPv6, sent on the host, fails the socket" "$got" refused
got=$("$LIB_PY" -I "$LIB_TMP/victim.py" 40205 $N6 7201 \
	ip netns exec box "$LIB_PY" -I "$LIB_TMP/forge.py" unreach $J6 $H6 $H6 40205 $N6 7201)
check_eq "5b: ... and forged in box over IPv6, it does not reach the host's socket" "$got" quiet

# The same with "fragmentation needed, MTU 552": the host's path MTU to N4
# must not drop.
"$LIB_PY" -I "$LIB_TMP/victim.py" 40202 $N4 7202 \
	ip netns exec box "$LIB_PY" -I "$LIB_TMP/forge.py" fragneeded $J4 $H4 $H4 40202 $N4 7202 552 \
	>/dev/null
sleep 0.2
check_eq "5b: a forged 'fragmentation needed' leaves the host's path MTU to $N4 alone" \
	"$(ip route get $N4 | grep -o 'mtu [0-9]*')" ""

# An error towards the internet, quoting the far end's packet to the host:
# it would leave with box's private address.
v0=$(far private)
"$LIB_PY" -I "$LIB_TMP/victim.py" 40203 $N4 7203 \
	ip netns exec box "$LIB_PY" -I "$LIB_TMP/forge.py" unreach $J4 $N4 $N4 7203 $H4 40203 \
	>/dev/null
sleep 0.2
check_eq "5b: a forged error towards the internet does not leave with box's address" \
	"$(($(far private) - v0))" 0

# The jail's own flows still get their ICMP errors.  The far end has no
# udp/7210: its port unreachable reaches box's socket, and web's.
got=$(ip netns exec box "$LIB_PY" -I "$LIB_TMP/victim.py" 0 $N4 7210)
check_eq "5b: box's own flow to a closed port gets the port unreachable" "$got" refused
got=$("${AS_WEB[@]}" "$LIB_PY" -I "$LIB_TMP/victim.py" 0 $N4 7210)
check_eq "5b: web's own flow to a closed port gets the port unreachable" "$got" refused

# "Fragmentation needed" from the far end for box's own flow (as the far
# end sees it: from the host's address and the masquerade's port): box's
# path MTU drops.
ip netns exec box "$LIB_PY" -I -c '
import socket, subprocess, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 40211))
s.connect(("192.0.2.2", 7211))
s.settimeout(3)
s.send(b"x")
s.recv(64)
open(sys.argv[1], "w").write("up\n")
time.sleep(3)
' "$LIB_TMP/own211" &
own=$!
lib_wait_for 5 test -s "$LIB_TMP/own211"
mport=$(conntrack -L -p udp -s 10.97.50.2 --dport 7211 2>/dev/null |
	sed -n 's/.*dst=192.0.2.1 sport=7211 dport=\([0-9]*\).*/\1/p' | head -n 1)
ip netns exec net "$LIB_PY" -I "$LIB_TMP/forge.py" fragneeded $N4 $H4 $H4 "${mport:-0}" $N4 7211 552
sleep 0.3
check_match "5b: 'fragmentation needed' for box's own flow reaches box (path MTU 552)" \
	"$(ip netns exec box ip route get $N4)" 'mtu 552'
wait "$own" 2>/dev/null

# Box's kernel answers the far end's late datagram on a flow box has closed
# with a port unreachable: it leaves, masqueraded.
u0=$(far own_unreach)
ip netns exec box "$LIB_PY" -I -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 40212))
s.sendto(b"x", ("192.0.2.2", 7212))
s.close()
'
sleep 1.5
moved "5b: box's port unreachable for its own (closed) flow reaches the far end, masqueraded" \
	"$u0" "$(far own_unreach)"

# ---------------------------------------------------------------- 5c: helpers

helper_ok=0
if nft -f - 2>"$LIB_TMP/helper.err" <<'EOF'; then
table inet other {
	ct helper ftp-standard {
		type "ftp" protocol tcp;
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-standard"
	}
	chain out {
		type filter hook output priority filter; policy accept;
		tcp dport 21 ct helper set "ftp-standard"
	}
}
EOF
	helper_ok=1
fi
if [ "$helper_ok" = 0 ]; then
	skip "5c: ftp helper" "the kernel has no ftp conntrack helper (nf_conntrack_ftp): $(cat "$LIB_TMP/helper.err")"
else
	got=$(ip netns exec box timeout 10 "$LIB_PY" -I "$LIB_TMP/ftpc.py" pasv $N4 7301)
	check_eq "5c: box's passive data connection to tcp/7301 (not allowed) is dropped" \
		"${got%%:*}" "data failed"
	got=$("${AS_WEB[@]}" timeout 10 "$LIB_PY" -I "$LIB_TMP/ftpc.py" pasv $N4 7302)
	check_eq "5c: web's passive data connection to tcp/7302 (not allowed) is dropped" \
		"${got%%:*}" "data failed"
	got=$("${AS_WEB[@]}" timeout 10 "$LIB_PY" -I "$LIB_TMP/ftpc.py" pasv $N4 7305)
	check_eq "5c: web's passive data connection to tcp/7305 (allowed) is made" \
		"$got" "data connected"
	got=$(ip netns exec box timeout 10 "$LIB_PY" -I "$LIB_TMP/ftpc.py" port $N4 $J4 $J4 7401)
	check_eq "5c: the server's active data connection into box (not published) is dropped" \
		"$got" "active none"
	check_match "5c: jailfw doctor names the ftp helper of table inet other" \
		"$("$JAILFW" doctor "$P" 2>&1)" '^note: conntrack helper "ftp-standard" \(ftp over tcp\) in table inet other'
	nft delete table inet other
fi

check "down" "$JAILFW" down
lib_done
