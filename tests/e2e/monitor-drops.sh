#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw monitor, end to end: the drops of a uid jail and of a netns jail
# come out one line each, naming the jail (IPv4, IPv6, ICMP, to the host);
# other programs' entries in the same NFLOG group are ignored; --json
# (every line UTF-8 JSON, an interface named with any bytes too),
# --count, --timeout, SIGINT; a second listener and a caller without
# CAP_NET_ADMIN are refused; and the allow lines --suggest prints, pasted
# into the policy, really let the same traffic through.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       lo   198.51.100.1  203.0.113.7  2001:db8:2::1 ...
#                       listeners: tcp 80 8443, udp 5000 (dual stack)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw and the monitor run here; uid jail "web" = uid 1099
#     listener udp 53 on every address (127.0.0.1, 10.97.71.1)
#     veth $LIB_ANY_BYTES --- anybytes-peer, route 203.0.113.99/32 (--json)
#       |
#     mj-out 10.97.71.1/24
#       |
#     mj-in 10.97.71.2   [ netns jail "mj" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

JAIL=1099
A4=198.51.100.1
A6=2001:db8:2::1
X4=203.0.113.7
H4=192.0.2.1
H6=2001:db8:1::1
J4=10.97.71.2
JH4=10.97.71.1
GROUP=7466

# One packet that nobody answers: a UDP datagram, or a TCP SYN given up
# before the kernel retransmits it (1 s), so each send is one drop.
SEND='
import socket, sys
proto, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
if proto == "udp":
    socket.socket(fam, socket.SOCK_DGRAM).sendto(b"x", (addr, port))
else:
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(0.3)
    try:
        s.connect((addr, port))
    except OSError:
        pass
'

# send NS WHO PROTO ADDR PORT
send()
{
	lib_ns "$1" setpriv --reuid="$(lib__uid "$2")" --regid="$(lib__uid "$2")" \
		--clear-groups -- "$LIB_PY" -I -c "$SEND" "$3" "$4" "$5" 2>/dev/null
}

bound()
{
	awk -v g="$GROUP" '$1 == g { found = 1 } END { exit !found }' \
		/proc/net/netfilter/nfnetlink_log
}

# start_monitor NAME ARGS...: in the background, output in $LIB_TMP/NAME.*;
# returns once the NFLOG group is bound.  $MON is its pid.  Not to be run
# in a subshell (check): $MON and the job must stay in this shell.
start_monitor()
{
	local name=$1

	shift
	"$JAILFW" monitor "$@" >"$LIB_TMP/$name.out" 2>"$LIB_TMP/$name.err" &
	MON=$!
	lib_defer kill "$MON"
	lib_wait_for 5 bound
}

# ended PID: the process is gone.
ended()
{
	! kill -0 "$1" 2>/dev/null
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_ns_allow_ping net || lib_bail "ping_group_range in net"
lib_serve net internet "tcp:[::]:80" "tcp:[::]:8443" "udp:[::]:5000" ||
	lib_bail "listeners in net"
lib_serve "" hostdns "udp:0.0.0.0:53" || lib_bail "listener on the host"

P=$LIB_TMP/monitor.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
	log-drops yes
}
jail web {
	backend uid
	user 1099
	allow udp/123
}
jail mj {
	backend netns
	ipv4 10.97.71.0/24
	allow tcp/443
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
check "mj-out is up" lib_wait_for 5 sh -c "ip -o link show mj-out | grep -q ',UP'"

# Another table logs to the same group: an entry of its own and one that
# forges a jailfw prefix with a name jailfw would never render.
nft -f - <<EOF || lib_bail "foreign logging table"
table inet other {
	chain out {
		type filter hook output priority 5; policy accept;
		meta skuid 1100 counter log prefix "other drop: " group $GROUP
		meta skuid 1101 counter log prefix "jailfw drop Bad!: " group $GROUP
	}
}
EOF

# ---------------------------------------------------------------- the stream

start_monitor mon --suggest --timeout 60
MAIN=$MON
check "monitor binds NFLOG group $GROUP" bound ||
	lib_bail "monitor did not start: $(cat "$LIB_TMP/mon.err")"

check_exit "a second monitor: the group is taken (exit 5)" 5 "$JAILFW" monitor --timeout 1
check_match "... and it says so" "$LIB_ERR" "group $GROUP is taken"
check_exit "monitor without CAP_NET_ADMIN: exit 4" 4 \
	setpriv --reuid=1100 --regid=1100 --clear-groups -- "$JAILFW" monitor --timeout 1

send "" 1100 udp $A4 9
send "" 1101 udp $A4 9
check_eq "the foreign log rules fired" \
	"$(nft list chain inet other out | grep -c 'counter packets 1 ')" 2

send "" $JAIL tcp $A4 8443
send "" $JAIL udp $A6 5000
send "" $JAIL udp 127.0.0.1 53
lib_ping $JAIL $A4
send mj root tcp $X4 80
send mj root udp $JH4 53

check "six drops printed" lib_wait_for 10 sh -c "[ \$(grep -c . '$LIB_TMP/mon.out') -ge 6 ]"
OUT=$(cat "$LIB_TMP/mon.out")
T='^[0-9]{2}:[0-9]{2}:[0-9]{2} '
check_match "uid jail, tcp, IPv4" "$OUT" "${T}web tcp $H4 -> $A4:8443 uid $JAIL\$"
check_match "uid jail, udp, IPv6 in brackets" "$OUT" "${T}web udp $H6 -> \\[$A6\\]:5000 uid $JAIL\$"
check_match "uid jail, udp to the host" "$OUT" "${T}web udp 127\\.0\\.0\\.1 -> 127\\.0\\.0\\.1:53 uid $JAIL\$"
check_match "uid jail, icmp type/code" "$OUT" "${T}web icmp $H4 -> $A4 type 8 code 0 uid $JAIL\$"
check_match "netns jail, forwarded" "$OUT" "${T}mj tcp $J4 -> $X4:80\$"
check_match "netns jail, to the host" "$OUT" "${T}mj udp $J4 -> $JH4:53\$"
check_eq "nothing but the jails' drops (no foreign or forged entries)" \
	"$(grep -v -E "${T}(web|mj) " "$LIB_TMP/mon.out")" ""
check_eq "each drop once" "$(grep -c . "$LIB_TMP/mon.out")" 6

kill -INT "$MAIN"
check "SIGINT ends the monitor" lib_wait_for 5 ended "$MAIN"
wait "$MAIN"
check_eq "... with exit 0" "$?" 0
SUG=$(sed -n '/^# jail /,$p' "$LIB_TMP/mon.out")
check_eq "--suggest on exit" "$SUG" "# jail mj: 2 drops; add to its block:
	allow tcp/80 to $X4	# 1 drop
	allow udp/53 to host	# 1 drop
# jail web: 4 drops; add to its block:
	allow tcp/8443 to $A4	# 1 drop
	allow udp/53 to host	# 1 drop
	allow udp/5000 to $A6	# 1 drop
	allow icmp to $A4	# 1 drop"
check_fails "the group is released" bound

# ---------------------------------------------------------------- --json, --count, --timeout

start_monitor json --json --count 1 --timeout 20
ONE=$MON
check "--json --count 1 starts" bound
send "" $JAIL tcp $A4 8443
check "--count 1 ends by itself after one drop" lib_wait_for 10 ended "$ONE"
wait "$ONE"
check_eq "... with exit 0" "$?" 0
check_eq "... having printed one line" "$(grep -c . "$LIB_TMP/json.out")" 1
check "... a JSON object naming jail, addresses, port, hook and uid" "$LIB_PY" -I -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
want = {"jail": "web", "family": "ipv4", "proto": "tcp", "src": sys.argv[2],
        "dst": sys.argv[3], "dport": 8443, "hook": "output", "uid": 1099,
        "to_host": False}
bad = {k: d.get(k) for k in want if d.get(k) != want[k]}
assert not bad and d["time"].endswith("Z"), bad
' "$LIB_TMP/json.out" $H4 $A4

# An interface name can hold any byte but '/', ':' and white space: a drop
# leaving through one named $LIB_ANY_BYTES is still a line of UTF-8 JSON
# that names it, U+FFFD where it is not UTF-8 (the old writer made each
# byte above 0x7f a \u00XX of its own: "é" came out as "Ã©").
ip link add "$LIB_ANY_BYTES" type veth peer name anybytes-peer &&
	ip link set "$LIB_ANY_BYTES" up && ip link set anybytes-peer up &&
	ip route add 203.0.113.99/32 dev "$LIB_ANY_BYTES" ||
	lib_bail "an interface named with any bytes"
start_monitor anyname --json --suggest --count 1 --timeout 20
ANY=$MON
send "" $JAIL udp 203.0.113.99 9
check "--json --suggest --count 1: ends after the drop" lib_wait_for 10 ended "$ANY"
wait "$ANY"
check_eq "... every line is JSON in UTF-8: the drop, then its suggestion" \
	"$("$LIB_PY" -I -c '
import json, sys
lines = [json.loads(l.decode("utf-8")) for l in open(sys.argv[1], "rb").read().splitlines()]
print(len(lines), lines[1]["suggest"]["rule"])
' "$LIB_TMP/anyname.out")" "2 allow udp/9 to 203.0.113.99"
check_eq "... the drop names the interface of any bytes" \
	"$(head -n 1 "$LIB_TMP/anyname.out" | lib_json 'd["out"]')" \
	"$(lib_utf8_replace "$LIB_ANY_BYTES")"

start_monitor quiet --timeout 1 --suggest
Q=$MON
check "--timeout 1 ends a quiet monitor" lib_wait_for 5 ended "$Q"
wait "$Q"
check_eq "... with exit 0" "$?" 0
check_eq "... saying there was nothing to suggest" "$(cat "$LIB_TMP/quiet.out")" \
	"# no drops seen: nothing to suggest"

# ---------------------------------------------------------------- the suggestions work

# Paste each jail's suggested lines into its block, apply, and send the
# same traffic again: it must now arrive.
"$LIB_PY" -I - "$P" "$LIB_TMP/mon.out" >"$LIB_TMP/suggested.conf" <<'EOF' ||
import re, sys
policy, out = open(sys.argv[1]).read(), open(sys.argv[2]).read()
jail = None
add = {}
for line in out.splitlines():
    m = re.match(r"# jail (\S+):", line)
    if m:
        jail = m.group(1)
    elif jail and line.startswith("\tallow"):
        add.setdefault(jail, []).append(line)
for name, lines in add.items():
    policy = re.sub(r"(jail %s \{\n)" % re.escape(name),
                    lambda m: m.group(1) + "\n".join(lines) + "\n", policy)
print(policy, end="")
EOF
	lib_bail "pasting the suggestions"
chmod 0644 "$LIB_TMP/suggested.conf"
check "apply the policy with the suggestions pasted in" "$JAILFW" apply "$LIB_TMP/suggested.conf"
check_reach "suggested: uid jail reaches tcp/8443 on $A4" $JAIL tcp $A4 8443
check_reach "suggested: uid jail reaches udp/5000 on $A6" $JAIL udp $A6 5000
check_reach "suggested: uid jail reaches the host's udp/53" $JAIL udp 127.0.0.1 53
check "suggested: uid jail pings $A4" lib_ping $JAIL $A4
check_reach_ns "suggested: netns jail reaches tcp/80 on $X4" mj tcp $X4 80
check_reach_ns "suggested: netns jail reaches the host's udp/53" mj udp $JH4 53

lib_done
