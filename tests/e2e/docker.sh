#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw next to a real dockerd (iptables-nft, vfs storage, everything under
# a tmpfs, only in this script's network namespace), in both start orders,
# with real packets:
#
#   jailfw first (the boot order): jailfw turns IPv4 forwarding on only on
#     the jail's host side and the wan, never net.ipv4.ip_forward, so the
#     host routes nothing else (a neighbour on the wan cannot reach the
#     "lan" behind it), and Docker, started later, still sees forwarding
#     off, turns it on itself and sets FORWARD DROP: its container is not
#     reachable from the wan by plain routing.  Docker's DROP stops the
#     jail; doctor names it and its DOCKER-USER rule lets the jail out
#     again.  `jailfw down` leaves the wan's forwarding on, because Docker
#     now needs it: the container still reaches the internet.
#   Docker first: FORWARD DROP, doctor's DOCKER-USER rule; jailfw changes
#     no forwarding.  Then "a reboot" (Docker's tables gone, dockerd started
#     again): the rule is gone, and systemd/examples/docker-user.conf's
#     command puts it back.
#
#   [ netns "net" = the internet ] eth0 192.0.2.2/24, listener tcp 80
#     route 10.97.76.0/24 and 10.97.75.0/24 via 192.0.2.1 (a neighbour
#     that tries to use the host as its router)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     jailfw, dockerd: docker0 10.97.75.1/24, container 10.97.75.2:80
#       |                                   |
#     dk-out 10.97.74.1/24                lan0 10.97.76.1/24
#       |                                   |
#     dk-in 10.97.74.2 [ jail "dk" ]      eth0 10.97.76.2 [ netns "lan" ]
#                                           listener tcp 80

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

for t in dockerd docker containerd iptables busybox; do
	if ! command -v $t >/dev/null; then
		skip "$LIB_NAME" "$t is not installed (tests/install-deps installs it: docker.io, docker-cli, busybox-static)"
		lib_done
	fi
done
case $(readlink -f "$(command -v iptables)") in
*nft*) ;;
*) skip "$LIB_NAME" "iptables is not iptables-nft: doctor cannot read Docker's rules"; lib_done ;;
esac

N4=192.0.2.2
LAN4=10.97.76.2
C4=10.97.75.2
FWD=/proc/sys/net/ipv4/conf

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:0.0.0.0:80" || lib_bail "listener in net"
lib_netns_add lan || lib_bail "netns lan"
lib_veth "" lan0 lan eth0 || lib_bail "veth lan0"
lib_addr "" lan0 10.97.76.1/24 || lib_bail "lan0 address"
lib_addr lan eth0 $LAN4/24 || lib_bail "lan address"
ip -n lan route add default via 10.97.76.1 || lib_bail "lan route"
lib_serve lan lan "tcp:0.0.0.0:80" || lib_bail "listener in lan"
ip -n net route add 10.97.76.0/24 via 192.0.2.1 || lib_bail "net route to lan"
ip -n net route add 10.97.75.0/24 via 192.0.2.1 || lib_bail "net route to docker0"

P=$LIB_TMP/dk.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
}
jail dk {
	backend netns
	ipv4 10.97.74.0/24
	allow tcp/80
}
EOF

# ---------------------------------------------------------------- dockerd

D=$LIB_TMP/docker
mkdir -p "$D/data" "$D/exec" "$D/rootfs/bin" || lib_bail "mkdir"
for d in /run/docker /run/containerd /var/lib/docker /var/lib/containerd /etc/docker; do
	mkdir -p "$d" 2>/dev/null
	mount -t tmpfs -o mode=0711 jailfw-test "$d" || lib_bail "tmpfs on $d"
done
dk()
{
	timeout 60 docker -H "unix://$D/sock" "$@"
}
# tcp80 NS ADDR: NS ("" the host itself) connects to ADDR:80, whose
# listener answers "ok".
tcp80()
{
	lib_ns "$1" timeout 5 sh -c "echo x | busybox nc -w 2 $2 80" 2>/dev/null | grep -q ok
}

DOCKERD=
dockerd_start()
{
	dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/pid" \
		-H "unix://$D/sock" --storage-driver vfs --iptables=true --ip6tables=false \
		--bip 10.97.75.1/24 >>"$D/log" 2>&1 &
	DOCKERD=$!
	disown $DOCKERD
	lib_wait_for 60 dk info || return 1
	# One tiny image, made here: no registry is reachable.
	if ! dk image inspect bb:1 >/dev/null 2>&1; then
		busybox_rootfs "$D/rootfs" || return 1
		tar -C "$D/rootfs" -c . | dk import - bb:1 >/dev/null || return 1
	fi
	dk run -d --name c1 bb:1 /bin/sh -c \
		'while true; do echo ok | nc -l -p 80; done' >/dev/null || return 1
	# `docker run -d` returns once the container is created, even when
	# its command cannot run: the checks that it is not reachable mean
	# something only once it is seen serving.
	if ! lib_wait_for 10 tcp80 "" $C4; then
		echo "container c1 does not serve tcp/80; its log:" >>"$D/log"
		dk logs c1 >>"$D/log" 2>&1
		return 1
	fi
}
# busybox_rootfs DIR: busybox and its applets in DIR/bin and, when it is
# dynamically linked (Debian's busybox, not busybox-static), the loader
# and libraries it needs at the paths ldd names.
busybox_rootfs()
{
	local bb lib a

	bb=$(command -v busybox) || return 1
	cp "$bb" "$1/bin/busybox" || return 1
	for a in sh nc sleep echo; do
		ln -sf busybox "$1/bin/$a" || return 1
	done
	for lib in $(ldd "$bb" 2>/dev/null | grep -o '/[^ ]*'); do
		cp -L --parents "$lib" "$1" || return 1
	done
}
dockerd_stop()
{
	[ -n "$DOCKERD" ] || return 0
	dk rm -f c1 >/dev/null 2>&1
	kill "$DOCKERD" 2>/dev/null
	lib_wait_for 30 sh -c "! kill -0 $DOCKERD"
	DOCKERD=
}
lib_defer dockerd_stop

# container_out: the container opens tcp/80 on the internet; the listener
# logs the token line it sent.
container_out()
{
	local token="c$BASHPID-$(date +%s%N)"

	dk exec c1 sh -c "echo $token | nc -w 3 $N4 80" >/dev/null 2>&1
	grep -qF " $token" "$LIB_TMP/internet.log" || grep -qF "$token" "$LIB_TMP/internet.log"
}

# from_net ADDR: a neighbour on the wan connects to ADDR:80 through the host.
from_net()
{
	tcp80 net "$1"
}

# from_lan: the lan connects to the internet's tcp/80 through the host.
from_lan()
{
	tcp80 lan "$N4"
}

doctor_fix()
{
	check_exit "$1: doctor exit 1" 1 "$JAILFW" doctor "$P"
	check_match "$1: ... names iptables' FORWARD" "$LIB_OUT" \
		'^error: table ip filter chain FORWARD .*Docker sets FORWARD to DROP.*\(dk\)'
	check_match "$1: ... the fix goes into DOCKER-USER" "$LIB_OUT" \
		'^  fix: iptables -I DOCKER-USER -m mark --mark 0x200000/0x200000 -j ACCEPT$'
	check "$1: ... which runs" iptables -I DOCKER-USER -m mark --mark 0x200000/0x200000 -j ACCEPT
}

# ---------------------------------------------------------------- jailfw first

check_eq "before: no forwarding anywhere" "$(cat $FWD/all/forwarding)$(cat $FWD/wan0/forwarding)" 00
check "jailfw first: apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
check_eq "... forwarding on the wan and the jail's host side only" \
	"$(cat $FWD/all/forwarding) $(cat $FWD/wan0/forwarding) $(cat $FWD/dk-out/forwarding) $(cat $FWD/lan0/forwarding)" \
	"0 1 1 0"
check_reach_ns "... the jail's tcp/80 arrives" dk tcp $N4 80
check_fails "... the jail's tcp/81 does not" lib_probe_ns dk tcp $N4 81
check_fails "... the host routes nothing else: the wan cannot reach the lan" from_net $LAN4
check_fails "... nor the lan the internet (lan0 does not forward)" from_lan

dockerd_start || lib_bail "dockerd did not start" "$(tail -20 "$D/log")"
check_eq "Docker started later: it saw forwarding off and set FORWARD DROP" \
	"$(cat $FWD/all/forwarding) $(iptables -S FORWARD | head -n 1)" "1 -P FORWARD DROP"
check_fails "... its container is not reachable from the wan by routing" from_net $C4
check "... its container reaches the internet" lib_wait_for 10 container_out
check_fails "... Docker's DROP stops the jail's tcp/80" lib_probe_ns dk tcp $N4 80
doctor_fix "jailfw first"
check_reach_ns "... the jail's tcp/80 arrives again" dk tcp $N4 80
check_fails "... its tcp/81 still does not" lib_probe_ns dk tcp $N4 81

check_exit "jailfw down" 0 "$JAILFW" down "$P"
check_match "... leaves the wan's forwarding to Docker, and says so" "$LIB_ERR" \
	'net.ipv4.conf.wan0.forwarding left at 1: forwarding is on for every interface'
check_eq "... wan0 still forwards, Docker's ip_forward untouched" \
	"$(cat $FWD/all/forwarding)$(cat $FWD/wan0/forwarding)" 11
check "... Docker's container still reaches the internet" lib_wait_for 10 container_out
dockerd_stop

# ---------------------------------------------------------------- Docker first

# As after a reboot: Docker's tables and forwarding gone.
nft delete table ip filter 2>/dev/null
nft delete table ip nat 2>/dev/null
echo 0 >$FWD/all/forwarding
dockerd_start || lib_bail "dockerd did not start again" "$(tail -20 "$D/log")"
check_eq "Docker first: ip_forward 1, FORWARD DROP" \
	"$(cat $FWD/all/forwarding) $(iptables -S FORWARD | head -n 1)" "1 -P FORWARD DROP"
check "... apply" "$JAILFW" apply "$P"
check_eq "... jailfw recorded no forwarding change" \
	"$(grep -c forwarding /run/jailfw/state 2>/dev/null)" 0
check_fails "... Docker's DROP stops the jail" lib_probe_ns dk tcp $N4 80
doctor_fix "Docker first"
check_reach_ns "... the jail's tcp/80 arrives" dk tcp $N4 80

# "Reboot": Docker's tables and forwarding are gone, jailfw applies first,
# then Docker starts; the rule went with Docker's tables, and the drop-in's
# command puts it back when docker.service starts.
dockerd_stop
check "reboot: jailfw down" "$JAILFW" down "$P"
nft delete table ip filter
nft delete table ip nat
echo 0 >$FWD/all/forwarding
check "... jailfw apply" "$JAILFW" apply "$P"
dockerd_start || lib_bail "dockerd did not start again" "$(tail -20 "$D/log")"
check_eq "... Docker saw forwarding off again: FORWARD DROP" \
	"$(iptables -S FORWARD | head -n 1)" "-P FORWARD DROP"
check_fails "after a reboot: the DOCKER-USER rule is gone, the jail is stopped" \
	lib_probe_ns dk tcp $N4 80
DROPIN=$LIB_ROOT/systemd/examples/docker-user.conf
cmd=$(sed -n 's/^ExecStartPost=//p' "$DROPIN")
check "... the drop-in's ExecStartPost runs" eval "$cmd"
check_reach_ns "... and the jail's tcp/80 arrives again" dk tcp $N4 80
check "... run twice, it adds the rule once" eval "$cmd"
check_eq "... one rule" "$(iptables -S DOCKER-USER | grep -c 'mark')" 1
check "... doctor is clean" "$JAILFW" doctor "$P"
check "jailfw down" "$JAILFW" down "$P"
check_eq "... Docker's forwarding untouched" "$(cat $FWD/all/forwarding)" 1
check "... its container still reaches the internet" lib_wait_for 10 container_out

lib_done
