#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw doctor, end to end: each thing that defeats a policy is built in
# the sandbox, shown to defeat it (the jail's allowed traffic really stops
# arriving, or the jail really escapes), then doctor must name it (exit 1,
# the line), the fix it prints must really restore the traffic, and doctor
# must then be clean (exit 0).  Warnings alone exit 0.
#
#   - another table's output chain with policy drop after jailfw's chain
#     (fix: the fwmark rule), and one with a terminal drop before it, where
#     the fwmark cannot help (fix: accept the jail's uid);
#   - iptables-nft's FORWARD DROP with DOCKER-USER, as Docker sets it up
#     (real iptables when installed, else the same tables made with nft);
#   - /etc/subuid and /etc/subgid ranges of the uid jail's user;
#   - the host's resolver on 127.0.0.53 and a netns jail without its own
#     resolv.conf; the fix (dns + to host) makes its queries arrive;
#   - forwarding turned off since apply;
#   - two programs running as the jail's uid;
#   - jailfw's table deleted behind its back.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24, lo 198.51.100.1 ...
#                       listeners: tcp 80 8443
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     jailfw runs here; uid jail "web" = uid 1099
#     /etc/resolv.conf, /etc/subuid, /etc/subgid covered by private files
#     listeners: udp 127.0.0.53:53 (a stub resolver), later 10.97.72.1:53
#       |
#     dj-out 10.97.72.1/24
#       |
#     dj-in 10.97.72.2   [ netns jail "dj" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

JAIL=1099
A4=198.51.100.1
JH4=10.97.72.1

# doctor_is NAME WANT [POLICY]: doctor exits WANT; output in $LIB_OUT.
doctor_is()
{
	check_exit "$1" "$2" "$JAILFW" doctor ${3:+"$3"}
}

# the_fix WHAT: the commands doctor printed on its "  WHAT: " lines (WHAT a
# basic regex: 'fix\|and').
the_fix()
{
	printf '%s\n' "$LIB_OUT" | sed -n "s/^  \($1\): //p"
}

# run_fixes: run every "fix:" and "and:" command of the last doctor run.
run_fixes()
{
	local cmd

	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		eval "$cmd" || return 1
	done < <(printf '%s\n' "$LIB_OUT" | sed -n 's/^  \(fix\|and\): //p')
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:80" "tcp:[::]:8443" || lib_bail "listeners in net"
lib_serve "" stub "udp:127.0.0.53:53" || lib_bail "stub resolver"

# What doctor reads from /etc, made harmless first: a resolver that is not
# on loopback, no subordinate ids.  Private covers, never the real files.
lib_cover_file /etc/resolv.conf $'nameserver 192.0.2.53\n' || lib_bail "cover /etc/resolv.conf"
HAVE_SUBID=1
for f in /etc/subuid /etc/subgid; do
	lib_cover_file $f "" || HAVE_SUBID=
done

P=$LIB_TMP/doctor.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
}
jail web {
	backend uid
	user 1099
	allow tcp/8443
	allow udp/53 to host
}
jail dj {
	backend netns
	ipv4 10.97.72.0/24
	allow tcp/80
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"
check "dj-out is up" lib_wait_for 5 sh -c "ip -o link show dj-out | grep -q ',UP'"
check_reach "baseline: the uid jail reaches its tcp/8443" $JAIL tcp $A4 8443
check_reach_ns "baseline: the netns jail reaches its tcp/80" dj tcp $A4 80

doctor_is "clean host, with the policy: exit 0" 0 "$P"
check_match "... no problems found" "$LIB_OUT" "^doctor: no problems found \(2 jails: 1 uid, 1 netns\)$"
doctor_is "clean host, jails from the state: exit 0" 0
check_exit "without CAP_NET_ADMIN: exit 4" 4 \
	setpriv --reuid=1100 --regid=1100 --clear-groups -- "$JAILFW" doctor

# ---------------------------------------------------------------- a default-drop output chain after jailfw's

nft -f - <<'EOF' || lib_bail "table inet fw"
table inet fw {
	chain out {
		type filter hook output priority 10; policy drop;
		ct state established,related accept
		oif "lo" accept
	}
}
EOF
check_fails "policy drop at priority 10: the jail's tcp/8443 stops" lib_probe $JAIL tcp $A4 8443
doctor_is "policy drop at priority 10: exit 1" 1 "$P"
check_match "... named, for the uid jail" "$LIB_OUT" \
	"^error: table inet fw chain out \(hook output, priority 10\): its policy drop drops the traffic jailfw accepts for uid jails \(web\)$"
check_eq "... the fix is the fwmark rule" "$(the_fix fix)" \
	"nft 'insert rule inet fw out meta mark & 0x00200000 != 0 accept'"
check "... which runs" run_fixes
check_reach "... and lets the jail's tcp/8443 through" $JAIL tcp $A4 8443
check_fails "... but not what jailfw drops (tcp/80)" lib_probe $JAIL tcp $A4 80
doctor_is "... after which doctor is clean" 0 "$P"
nft delete table inet fw

# ---------------------------------------------------------------- a terminal drop before jailfw's chain
# jailfw's chains run at priority filter - 10 (-10): this one runs first.

nft -f - <<'EOF' || lib_bail "table inet early"
table inet early {
	chain out {
		type filter hook output priority -20; policy accept;
		ct state established,related accept
		meta mark & 0x00200000 != 0 accept
		counter drop
	}
}
EOF
check_fails "terminal drop at priority -20: the jail's tcp/8443 stops" lib_probe $JAIL tcp $A4 8443
doctor_is "terminal drop at priority -20: exit 1" 1 "$P"
check_match "... named, with the rule" "$LIB_OUT" \
	"^error: table inet early chain out \(hook output, priority -20\): an unconditional drop \(chain out, rule handle [0-9]+\) drops the traffic jailfw accepts for uid jails \(web\)$"
check_match "... its fwmark accept cannot match there" "$LIB_OUT" \
	"fwmark accept cannot match: this chain runs before jailfw's \(priority -20 < -10\)"
check_eq "... the fix accepts the jail's uid instead" "$(the_fix fix)" \
	"nft 'insert rule inet early out meta skuid 1099 accept'"
check "... which runs" run_fixes
check_reach "... and lets the jail's tcp/8443 through" $JAIL tcp $A4 8443
check_fails "... while jailfw still drops its tcp/80" lib_probe $JAIL tcp $A4 80
doctor_is "... after which doctor is clean" 0 "$P"
nft delete table inet early

# ---------------------------------------------------------------- Docker: iptables-nft FORWARD DROP

if command -v iptables >/dev/null 2>&1 && iptables --version | grep -q nf_tables; then
	DOCKER=iptables
	{ iptables -N DOCKER-USER && iptables -A DOCKER-USER -j RETURN &&
		iptables -I FORWARD -j DOCKER-USER && iptables -P FORWARD DROP; } ||
		lib_bail "iptables: Docker's FORWARD"
else
	# What iptables-nft makes of the same commands, as nft sees it.
	DOCKER=nft
	nft -f - <<'EOF' || lib_bail "nft: Docker's FORWARD"
table ip filter {
	chain DOCKER-USER {
		return
	}
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
	}
}
EOF
fi
check_blocked_ns "FORWARD DROP ($DOCKER): the netns jail's tcp/80 stops" dj tcp $A4 80
doctor_is "FORWARD DROP: exit 1" 1 "$P"
check_match "... named as iptables-nft's, for the netns jail" "$LIB_OUT" \
	"^error: table ip filter chain FORWARD \(hook forward, priority 0; iptables-nft, where Docker sets FORWARD to DROP\): its policy drop drops the traffic jailfw accepts for netns jails \(dj\)$"
# jailfw's forward chain (-10) runs before FORWARD (0): its fwmark is there.
check_eq "... the fix goes into DOCKER-USER: accept jailfw's fwmark" "$(the_fix 'fix\|and')" \
	"iptables -I DOCKER-USER -m mark --mark 0x200000/0x200000 -j ACCEPT"
if [ $DOCKER = iptables ]; then
	check "... which runs" run_fixes
	check_reach_ns "... and lets the netns jail's tcp/80 through" dj tcp $A4 80
	check_blocked_ns "... while jailfw still drops its tcp/8080" dj tcp $A4 8080
	doctor_is "... after which doctor is clean" 0 "$P"
	check_eq "... not even a warning" "$(grep -c '^warning' <<<"$LIB_OUT")" 0
else
	skip "Docker fix applied" "no iptables-nft to run it with"
fi
nft delete table ip filter

# ---------------------------------------------------------------- subordinate ids

if [ -n "$HAVE_SUBID" ]; then
	lib_cover_file /etc/subuid $'root:100000:65536\n1099:200000:65536\n'
	doctor_is "subordinate uids of the uid jail's user: exit 1" 1 "$P"
	check_match "... named at the user line" "$LIB_OUT" \
		"^$P:[0-9]+:[0-9]+: error: uid jail web: uid 1099 has subordinate uids 200000-265535 in /etc/subuid"
	doctor_is "... from the state too: exit 1" 1
	# An owner given by name, for a jail whose user is given by name.
	P3=$LIB_TMP/doctor-nobody.conf
	{ cat "$P"; printf 'jail nob {\n\tbackend uid\n\tuser nobody\n\tallow udp/123\n}\n'; } >"$P3"
	lib_cover_file /etc/subuid $'nobody:300000:65536\n'
	doctor_is "subordinate uids of a user by name: exit 1" 1 "$P3"
	check_match "... named with the user" "$LIB_OUT" \
		"error: uid jail nob: user nobody \(uid [0-9]+\) has subordinate uids 300000-365535 in /etc/subuid"
	check_match "... the fix removes the range" "$LIB_OUT" \
		"^  fix: usermod --del-subuids 300000-365535 nobody; "
	check_eq "... and only that jail is named" "$(grep -c ': error: ' <<<"$LIB_OUT")" 1
	lib_cover_file /etc/subuid ""
	lib_cover_file /etc/subgid $'1099:200000:65536\n'
	doctor_is "subordinate gids only: a warning, exit 0" 0 "$P"
	check_match "... named" "$LIB_OUT" "^$P:[0-9]+:[0-9]+: warning: uid jail web: uid 1099 has subordinate gids"
	lib_cover_file /etc/subgid ""
else
	skip "subordinate ids" "no /etc/subuid or /etc/subgid to cover"
fi

# ---------------------------------------------------------------- programs sharing the uid

# A launcher and the program it starts are one service: a shell (as nsjail
# or a wrapper script would) running as the jail's uid, and its child.
setpriv --reuid=$JAIL --regid=$JAIL --clear-groups -- sh -c 'sleep 300; :' &
L1=$!
lib_defer kill $L1
lib_wait_for 5 sh -c "pgrep -P $L1 -x sleep"
doctor_is "a launcher and its child as the jail's uid: exit 0" 0 "$P"
# (The test's own listeners may run as the uid too; the child must not be
# named as a program of its own, as sleep is below when root starts it.)
check_eq "... the child is not a program of its own" \
	"$(grep -Ec 'different programs \(.*sleep' <<<"$LIB_OUT")" 0
pkill -P $L1 -x sleep
wait $L1 2>/dev/null

setpriv --reuid=$JAIL --regid=$JAIL --clear-groups -- sleep 300 &
S1=$!
setpriv --reuid=$JAIL --regid=$JAIL --clear-groups -- "$LIB_PY" -I -c 'import time; time.sleep(300)' &
S2=$!
lib_defer kill $S1 $S2
lib_wait_for 5 sh -c "grep -q python /proc/$S2/comm"
doctor_is "two programs as the jail's uid: a warning, exit 0" 0 "$P"
check_match "... named" "$LIB_OUT" "warning: uid jail web: uid 1099 runs [2-9] different programs \(.*sleep.*\)"
kill $S1 $S2
wait $S1 $S2 2>/dev/null

# ---------------------------------------------------------------- forwarding turned off

# jailfw turns IPv4 forwarding on for the wan (and the jail's side) only.
sysctl -qw net.ipv4.conf.wan0.forwarding=0
check_blocked_ns "forwarding off: the netns jail's tcp/80 stops" dj tcp $A4 80
doctor_is "forwarding off: exit 1" 1 "$P"
check_match "... named" "$LIB_OUT" \
	"^error: net.ipv4.conf.wan0.forwarding is 0, but apply set it to 1: it changed since$"
sysctl -qw net.ipv4.conf.wan0.forwarding=1
check_reach_ns "forwarding on again: tcp/80 arrives" dj tcp $A4 80
doctor_is "... and doctor is clean" 0 "$P"

# ---------------------------------------------------------------- a stub resolver on loopback

lib_cover_file /etc/resolv.conf $'# systemd-resolved\nnameserver 127.0.0.53\noptions edns0\n'
check_reach "the host reaches its stub resolver" root udp 127.0.0.53 53
check_fails "the netns jail does not (its loopback is its own)" lib_reach_ns dj udp 127.0.0.53 53
doctor_is "stub resolver on loopback: exit 1" 1 "$P"
check_match "... named at the jail" "$LIB_OUT" \
	"^$P:[0-9]+:[0-9]+: error: netns jail dj: it has no /etc/netns/dj/resolv.conf, so it uses the host's /etc/resolv.conf, which names the resolver 127.0.0.53"
check_match "... the fix names the veth's host address" "$LIB_OUT" \
	"fix: in jail dj: \"dns $JH4\" and \"allow udp/53,tcp/53 to host\""
P2=$LIB_TMP/doctor-dns.conf
sed "s|^\tallow tcp/80\$|\tallow tcp/80\n\tdns $JH4\n\tallow udp/53,tcp/53 to host|" "$P" >"$P2"
check "apply the fix (dns and to host)" "$JAILFW" apply "$P2"
lib_serve "" resolver "udp:$JH4:53" || lib_bail "resolver on $JH4"
check_reach_ns "... the jail now reaches a resolver" dj udp $JH4 53
doctor_is "... and doctor is clean" 0 "$P2"

# ---------------------------------------------------------------- jailfw's table gone

nft delete table inet jailfw
check_reach "table deleted: the uid jail reaches what it may not (tcp/80)" $JAIL tcp $A4 80
doctor_is "table deleted: exit 1" 1
check_match "... named" "$LIB_OUT" \
	"^error: table inet jailfw is not loaded: no jail is confined, although jails are recorded as applied$"
check "re-apply" "$JAILFW" apply "$P2"
doctor_is "... and doctor is clean" 0

# ---------------------------------------------------------------- the policy's table name taken

nft add table inet squat || lib_bail "table inet squat"
P4=$LIB_TMP/doctor-squat.conf
sed 's/^\twan wan0$/\twan wan0\n\ttable squat/' "$P2" >"$P4"
doctor_is "another program's table has the policy's table name: exit 1" 1 "$P4"
check_match "... named" "$LIB_OUT" "^error: table inet squat exists but was not made by jailfw$"

lib_done
