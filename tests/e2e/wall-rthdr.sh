#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# IPv6 routing headers (issue 10, item 7).  A packet with a routing header
# goes first to the address in its IPv6 header, which then hands it on to
# the next one in the header: a jail allowed "udp/123 to A" reaches B by
# sending to A with B in a segment routing header.  Unprivileged processes
# may attach one (IPV6_RTHDR, type 4), root in a namespace can send any
# (type 0 through a raw socket).  jailfw drops every packet of a jail that
# carries a routing header, in both backends.
#
#                     [ netns "net" = the internet ]
#                       eth0 2001:db8:1::2/64 (A: the jails may send to it)
#                       lo   2001:db8:3::1    (B: they may not)
#                       seg6_enabled: hands segment-routed packets on;
#                       table inet obs counts arriving routing headers;
#                       listener udp 123 (any address)
#                                  |
#   [ sandbox netns = "host" ] wan0 2001:db8:1::1/64
#     jailfw runs here; uid jail "web" is uid 1099; listener udp 53;
#     seg6_enabled on foobar-out (so that a routing header to the host
#     would be acted on)
#       |
#     foobar-out fd00:97::3:1/112
#       |
#   [ jail "foobar" ] fd00:97::3:2; allow udp/123 to A, udp/53 to host
#
# A segment-routed datagram forwarded for a netns jail is dropped by
# conntrack as well when it checks checksums (its UDP checksum covers B,
# the header says A): the checks below want jailfw's counted drop.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
UID_J=1099
A=2001:db8:1::2
B=2001:db8:3::1
J6=fd00:97::3:2
JH6=fd00:97::3:1

obs()
{
	lib_ns net nft list chain inet obs pre 2>/dev/null |
		sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1
}

# drops CHAIN: its last counted drop, or for in_* its routing header drop.
drops()
{
	case $1 in
	in_*) lib_nft_rule_counter $T "$1" "routing header" ;;
	*) lib_nft_counter $T "$1" drop ;;
	esac
}

# rh_blocked NAME CHAIN NS WHO ADDR PORT OPTION...: the datagram reaches no
# listener, no routing header reaches the internet, CHAIN's drop moves.
rh_blocked()
{
	local name=$1 chain=$2 ns=$3 who=$4 t before after o0 o1 src

	shift 4
	t=$(lib_token)
	before=$(drops "$chain")
	o0=$(obs)
	lib_send "$ns" "$who" "$1" "$2" "$t" "${@:3}"
	if src=$(lib_seen internet "$t") || src=$(lib_seen host "$t"); then
		fail "$name" "arrived (source $src)"
		return 1
	fi
	after=$(drops "$chain")
	o1=$(obs)
	if [ "$o0" != "$o1" ]; then
		fail "$name" "routing headers reached the internet: $o0 -> $o1"
		return 1
	fi
	if [ -z "$before" ] || [ -z "$after" ] || [ "$after" -le "$before" ]; then
		fail "$name" "$chain's drop counter did not move ('$before' -> '$after')" \
			"sender: $(cat "$LIB_LAST_ERR_FILE")"
		return 1
	fi
	pass "$name"
}

# A type 0 routing header, which no socket option sends: root's raw
# socket in a jail, to A with B as the next address.  The internet's
# observer counts it if it arrives (Linux acts on no type 0 header).  The
# UDP checksum is computed over A, the address in the IPv6 header, so
# that the host's conntrack (which checks it) does not call it invalid:
# only jailfw's rule may stop it.
RH0='
import socket, struct, sys
src, a, b = [socket.inet_pton(socket.AF_INET6, x) for x in sys.argv[1:4]]
payload = sys.argv[4].encode() + b"\n"
udp_len = 8 + len(payload)
pseudo = src + a + struct.pack("!I3xB", udp_len, 17)
udp = struct.pack("!HHHH", 40000, 123, udp_len, 0) + payload
data = pseudo + udp + (b"\0" if len(udp) % 2 else b"")
csum = sum(struct.unpack("!%dH" % (len(data) // 2), data))
while csum >> 16:
    csum = (csum & 0xffff) + (csum >> 16)
udp = udp[:6] + struct.pack("!H", ~csum & 0xffff) + udp[8:]
rh = struct.pack("!BBBB4x", 17, 2, 0, 1) + b
hdr = struct.pack("!IHBB", 6 << 28, len(rh) + len(udp), 43, 64) + src + a
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(3):
    s.sendto(hdr + rh + udp, (sys.argv[2], 0))
'

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "udp:[::]:123" || lib_bail "listener in net"
lib_serve "" host "udp:[::]:53" || lib_bail "listener on the host"
lib_ns net sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.eth0.seg6_enabled=1 ||
	lib_bail "seg6_enabled in net"
lib_ns net nft -f - <<'EOF' || lib_bail "observer table in net"
table inet obs {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		exthdr rt exists counter
	}
}
EOF

# Baseline: the escape works without jailfw.
check_dgram "baseline: uid $UID_J reaches B through A's routing header" internet "" $UID_J \
	$B 123 via=$A

P=$LIB_TMP/wall-rthdr.conf
cat >"$P" <<EOF
jail web {
	backend uid
	user $UID_J
	allow udp/123 to $A
}
jail foobar {
	backend netns
	ipv6 fd00:97::3:0/112
	allow udp/123 to $A
	allow udp/53 to host
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.foobar-out.seg6_enabled=1 ||
	lib_bail "seg6_enabled on the host"
lib_jails_settle foobar || lib_bail "IPv6 addresses still tentative"

check_dgram "uid: udp/123 to A arrives" internet "" $UID_J $A 123
rh_blocked "uid: udp/123 to B through A's segment routing header dropped" uid_web "" $UID_J \
	$B 123 via=$A
rh_blocked "uid: udp/123 to A with a routing header (A itself next) dropped" uid_web "" $UID_J \
	$A 123 via=$A

check_dgram "foobar: udp/123 to A arrives" internet foobar root $A 123
rh_blocked "foobar: udp/123 to B through A's segment routing header dropped" fwd_foobar foobar \
	root $B 123 via=$A
check_dgram "foobar: udp/53 to the host arrives" host foobar root $JH6 53
rh_blocked "foobar: udp/53 to the host with a routing header dropped" in_foobar foobar root \
	$JH6 53 via=$JH6

before=$(lib_nft_counter $T fwd_foobar drop)
o0=$(obs)
lib_ns foobar "$LIB_PY" -I -c "$RH0" $J6 $A $B "$(lib_token)" 2>"$LIB_TMP/rh0.err" ||
	lib_bail "raw socket in foobar" "$(cat "$LIB_TMP/rh0.err")"
sleep 0.5
check_eq "foobar: a type 0 routing header (raw socket) never reaches the internet" "$(obs)" "$o0"
check "foobar: ... and fwd_foobar's drop counter moved" \
	test "$(lib_nft_counter $T fwd_foobar drop)" -gt "$before"

check "down" "$JAILFW" down
lib_done
