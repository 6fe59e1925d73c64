#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Layer 2 (issue 10, item 6, and the link-local half of item 8): root in a
# netns jail floods the host with ARP requests and IPv6 neighbour
# solicitations from made-up senders.  Each one the host accepts becomes
# an entry in its neighbour tables; thousands of them push out entries
# the host needs, its gateway's among them.  The jail's side of the veth
# may speak only for the jail's own addresses (its IPv4 address; its IPv6
# address, its link-local fe80::2 and :: for duplicate address
# detection), at a bounded rate.
#
# The neighbour tables are the kernel's, not a namespace's: their limits
# (gc_thresh3, 1024 by default) count every namespace's entries, this
# machine's own included.  So the flood is sent in batches, and stops at
# the first batch that leaves a made-up entry behind: a broken build
# fails the test after one batch, it never fills the machine's table.
#
#                     [ netns "net" = the gateway and the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64; listener tcp 443
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     default routes via net; jailfw runs here; listener udp 53
#       |
#     foobar-out 10.97.10.1/24 fd00:97::3:1/112
#       |
#     foobar-in  10.97.10.2    fd00:97::3:2, fe80::2
#   [ jail "foobar" ] allow tcp/443, udp/53 to host

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
N4=192.0.2.2
N6=2001:db8:1::2
H4=192.0.2.1
H6=2001:db8:1::1
J4=10.97.10.2
J6=fd00:97::3:2
JH4=10.97.10.1
JH6=fd00:97::3:1

# flood.py arp|ns COUNT FIRST [own]: COUNT ARP requests for the host side's
# address (10.97.10.1) or neighbour solicitations for fd00:97::3:1, each from
# a made-up sender (address FIRST, FIRST+1, ... and a made-up MAC), or with
# "own" from the jail's own addresses and MAC, sent raw on foobar-in.
FLOOD='
import socket, struct, sys
kind, count, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
own = len(sys.argv) > 4
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("foobar-in", 0))
mine = open("/sys/class/net/foobar-in/address").read().strip()
mine = bytes(int(x, 16) for x in mine.split(":"))
def csum(data):
    data += b"\0" * (len(data) % 2)
    c = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while c >> 16:
        c = (c & 0xffff) + (c >> 16)
    return ~c & 0xffff
for i in range(first, first + count):
    mac = mine if own else struct.pack("!HI", 0x0a00, i)
    if kind == "arp":
        spa = socket.inet_aton("10.97.10.2") if own else struct.pack("!I", 0x64400000 + i)
        pkt = (b"\xff" * 6 + mac + b"\x08\x06" +
               struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + spa + b"\0" * 6 +
               socket.inet_aton("10.97.10.1"))
    else:
        src = (socket.inet_pton(socket.AF_INET6, "fe80::2") if own else
               socket.inet_pton(socket.AF_INET6, "2001:db8:99::") [:12] + struct.pack("!I", i))
        tgt = socket.inet_pton(socket.AF_INET6, "fd00:97::3:1")
        dst = socket.inet_pton(socket.AF_INET6, "ff02::1:ff03:1")
        icmp = struct.pack("!BBHI", 135, 0, 0, 0) + tgt + struct.pack("!BB", 1, 1) + mac
        c = csum(src + dst + struct.pack("!I3xB", len(icmp), 58) + icmp)
        icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
        pkt = (b"\x33\x33\xff\x03\x00\x01" + mac + b"\x86\xdd" +
               struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + src + dst + icmp)
    s.send(pkt)
'

flood()
{
	lib_ns foobar "$LIB_PY" -I -c "$FLOOD" "$@" 2>"$LIB_TMP/flood.err"
}

# made_up FAMILY: the host's neighbour entries on foobar-out that are not
# the jail's own addresses.
made_up()
{
	ip "$1" neigh show dev foobar-out 2>/dev/null |
		grep -vE "^($J4|$J6|fe80::2) " | grep -c .
}

# gateway FAMILY ADDR: the host's entry for its gateway is usable
# (REACHABLE, STALE, DELAY or PROBE; not FAILED, INCOMPLETE or missing).
gateway()
{
	ip "$1" neigh show "$2" dev wan0 | grep -qE ' (REACHABLE|STALE|DELAY|PROBE) *$'
}

gateway_ok()
{
	local name=$1 fam=$2 addr=$3

	check "$name: the host's entry for its gateway $addr is usable" gateway "$fam" "$addr"
	check "$name: the host reaches its gateway $addr" lib_ping root "$addr"
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_route "" default $N4 || lib_bail "default route"
lib_route "" default $N6 || lib_bail "IPv6 default route"
lib_serve net internet "tcp:[::]:443" || lib_bail "listener in net"
lib_serve "" host "udp:[::]:53" || lib_bail "listener on the host"

P=$LIB_TMP/wall-l2.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
}
jail foobar {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	allow tcp/443
	allow udp/53 to host
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
lib_jails_settle foobar || lib_bail "IPv6 addresses still tentative"
gateway_ok "before" -4 $N4
gateway_ok "before" -6 $N6

# ---------------------------------------------------------------- made-up senders

# One batch, small enough to leave the machine's tables alone whatever the
# build does.  The old code took every one of them.
flood arp 100 1 || lib_bail "ARP from foobar" "$(cat "$LIB_TMP/flood.err")"
flood ns 100 1 || lib_bail "NS from foobar" "$(cat "$LIB_TMP/flood.err")"
sleep 0.5
check_eq "100 ARP requests from made-up senders left no entry on the host" "$(made_up -4)" 0
check_eq "100 neighbour solicitations from made-up senders left no entry on the host" \
	"$(made_up -6)" 0
check "... the arp table counted them as dropped" \
	test "$(nft list table arp $T 2>/dev/null | grep -c 'counter packets [1-9]')" -ge 1

# The full flood, while the host talks to its gateway: 3000 of each, in
# batches of 200, with a check after every batch (so that a broken build
# stays below gc_thresh2, 512, where the kernel starts evicting entries).
ok=1
(for i in $(seq 1 30); do lib_ping root $N4; lib_ping root $N6; sleep 0.1; done) \
	>"$LIB_TMP/pings" 2>&1 &
pinger=$!
for b in $(seq 0 14); do
	flood arp 200 $((1000 + b * 200)) && flood ns 200 $((1000 + b * 200)) ||
		lib_bail "flood" "$(cat "$LIB_TMP/flood.err")"
	if [ "$(made_up -4)" != 0 ] || [ "$(made_up -6)" != 0 ]; then
		ok=0
		fail "flood batch $b left made-up entries: $(made_up -4) IPv4, $(made_up -6) IPv6 (flood stopped)"
		break
	fi
	gateway -4 $N4 && gateway -6 $N6 || { ok=0; fail "flood batch $b: the gateway's entry is gone" "$(ip neigh show dev wan0)"; }
done
wait $pinger
[ "$ok" = 1 ] && pass "3000 ARP requests and 3000 solicitations from made-up senders left no entry"
gateway_ok "during and after the flood" -4 $N4
gateway_ok "during and after the flood" -6 $N6

# ---------------------------------------------------------------- the jail's own

ip neigh flush dev foobar-out
ip -n foobar neigh flush dev foobar-in
check_reach_ns "foobar still resolves the host: udp/53 to $JH4" foobar udp $JH4 53
check_reach_ns "foobar still resolves the host: udp/53 to $JH6" foobar udp $JH6 53
check_reach_ns "foobar's tcp/443 to $N4 arrives" foobar tcp $N4 443 $H4
check_reach_ns "foobar's tcp/443 to $N6 arrives" foobar tcp $N6 443 $H6
check "the host resolved foobar's $J4" sh -c "ip -4 neigh show $J4 dev foobar-out | grep -q lladdr"
check "the host resolved foobar's $J6 or fe80::2" \
	sh -c "ip -6 neigh show dev foobar-out | grep -E '^($J6|fe80::2) ' | grep -q lladdr"
check_eq "foobar-in's only link-local address is fe80::2" \
	"$(ip -n foobar -6 -o addr show dev foobar-in scope link | awk '{print $4}')" "fe80::2/64"

# The jail's own address, but faster than any resolver needs: over the
# rate, dropped and counted.
before_arp=$(nft list chain arp $T arpj_foobar | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
flood arp 600 1 own || lib_bail "own ARP" "$(cat "$LIB_TMP/flood.err")"
after_arp=$(nft list chain arp $T arpj_foobar | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "600 ARP requests from the jail's own address at once: some dropped over the rate" \
	test "${after_arp:-0}" -gt "${before_arp:-0}"
before=$(lib_nft_counter $T in_foobar drop)
flood ns 600 1 own || lib_bail "own NS" "$(cat "$LIB_TMP/flood.err")"
check "600 solicitations from fe80::2 at once: some dropped over the rate" \
	test "$(lib_nft_counter $T in_foobar drop)" -gt "${before:-0}"

# ---------------------------------------------------------------- a jail made before

# A jail side as jailfw made it before it fixed the link-local address:
# the kernel's own (addr_gen_mode eui64), no fe80::2.  Apply repairs it.
ip netns exec foobar sysctl -qw net.ipv6.conf.foobar-in.addr_gen_mode=0 ||
	lib_bail "addr_gen_mode in foobar"
ip -n foobar -6 addr del fe80::2/64 dev foobar-in || lib_bail "delete fe80::2"
ip -n foobar -6 addr add fe80::1234/64 dev foobar-in nodad || lib_bail "add fe80::1234"
check "apply again, over the old jail side" "$JAILFW" apply "$P"
check_eq "... foobar-in's only link-local address is fe80::2 again" \
	"$(ip -n foobar -6 -o addr show dev foobar-in scope link | awk '{print $4}')" "fe80::2/64"
check_eq "... and it makes none of its own (addr_gen_mode 1)" \
	"$(ip netns exec foobar sysctl -n net.ipv6.conf.foobar-in.addr_gen_mode)" 1
check_reach_ns "... foobar resolves the host again: udp/53 to $JH6" foobar udp $JH6 53

# ---------------------------------------------------------------- the arp table's life

nft delete table arp $T || lib_bail "delete table arp"
check_exit "table arp deleted by hand: status exits 1" 1 "$JAILFW" status
check_match "... and names it" "$LIB_OUT" "^drift: table arp $T is missing"
check_exit "... doctor says so" 1 "$JAILFW" doctor "$P"
check_match "... naming the table" "$LIB_OUT" "table arp $T is not loaded"
check "apply restores it (the same policy, a changed ruleset)" "$JAILFW" apply "$P"
check "... table arp $T is back" nft list chain arp $T arpj_foobar
check_exit "... status exits 0" 0 "$JAILFW" status

check "down" "$JAILFW" down
check "down removed table arp $T" sh -c "! nft list table arp $T"

nft add table arp $T || lib_bail "a foreign table arp $T"
check_exit "a table arp $T that is not jailfw's: apply exits 5" 5 "$JAILFW" apply "$P"
check "... and left it alone" nft list table arp $T
check "... and applied nothing" sh -c "! nft list table inet $T"
nft delete table arp $T
lib_done
