#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /run/netns as systemd leaves it: a plain directory on a /run that is a
# shared mount.  jailfw makes /run/netns a mount point of its own, as
# `ip netns add` does; the checks are what the kernel's mount table holds:
#
#  - each jail's namespace is mounted once, not twice: a /run/netns bind
#    mount left in /run's peer group gets a second copy of every
#    namespace mount through /run (iproute2 82c8b9fe);
#  - /run/netns is in a peer group of its own, still shared (so that
#    `ip netns exec` from other mount namespaces sees new jails);
#  - jailfw takes the flock that `ip netns add` takes around that first
#    mount: while another process holds it, no namespace appears, and the
#    apply goes on once it is released (iproute2 975c4944: two processes
#    doing the dance at once stack mounts without end).
#
#   [ sandbox netns = "host", /run a fresh shared tmpfs, /run/netns a plain
#     directory in it ]
#       |
#     rd-out 10.97.30.1/24
#       |
#     rd-in 10.97.30.2/24
#   [ jail "rd" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

# The sandbox's own tmpfs on /run/netns and /run/jailfw make way for a new
# /run: only this script's private mount namespace sees any of it.
umount /run/netns /run/jailfw || lib_bail "umount the sandbox's /run mounts"
mount -t tmpfs -o mode=0755 jailfw-run /run || lib_bail "tmpfs on /run"
mount --make-shared /run || lib_bail "make /run shared"
mkdir -p /run/netns /run/jailfw || lib_bail "mkdir in /run"

cat >"$LIB_TMP/p.conf" <<'EOF'
jail rd {
	backend netns
	ipv4 10.97.30.0/24
	allow tcp/80
}
EOF

# mounts_of PATH: how many mount table entries have PATH as mount point.
mounts_of()
{
	awk -v p="$1" '$5 == p' /proc/self/mountinfo | wc -l
}

# peer_group PATH: the "shared:N" tag of the mount at PATH (empty if none).
peer_group()
{
	awk -v p="$1" '$5 == p { for (i = 7; $i != "-"; i++) if ($i ~ /^shared:/) print $i }' \
		/proc/self/mountinfo | tail -n 1
}

check_eq "/run/netns starts as a plain directory" "$(mounts_of /run/netns)" 0

# ---- the flock: held by someone else, jailfw waits for it
flock /run/netns sleep 3 &
holder=$!
lib_defer kill "$holder"
lib_wait_for 5 test -n "$(ls /proc/$holder/fd 2>/dev/null)"
sleep 0.3
"$JAILFW" apply "$LIB_TMP/p.conf" >"$LIB_TMP/apply.out" 2>&1 &
applier=$!
sleep 1.5
check "no namespace while another process holds the /run/netns lock" \
	test ! -e /run/netns/rd
check "the apply is still waiting then" kill -0 "$applier"
wait "$holder"
wait "$applier"
rc=$?
check_eq "the apply finishes once the lock is free" "$rc" 0
[ "$rc" -eq 0 ] || cat "$LIB_TMP/apply.out"
lib_defer "$JAILFW" down

# ---- the mount table
check_eq "/run/netns is a mount point once" "$(mounts_of /run/netns)" 1
check_eq "the jail's namespace is mounted once" "$(mounts_of /run/netns/rd)" 1
rungrp=$(peer_group /run)
nsgrp=$(peer_group /run/netns)
check_match "/run/netns is shared" "$nsgrp" '^shared:[0-9]+$'
check "/run/netns has a peer group of its own, not /run's ($rungrp)" \
	test "$nsgrp" != "$rungrp"
check "the namespace works: its veth is there" ip netns exec rd ip link show rd-in

# A second jail after the first: the same, and nothing stacked on /run/netns.
cat >>"$LIB_TMP/p.conf" <<'EOF'
jail rd2 {
	backend netns
	ipv4 10.97.31.0/24
	allow tcp/80
}
EOF
check "apply with a second jail" "$JAILFW" apply "$LIB_TMP/p.conf"
check_eq "still one mount at /run/netns" "$(mounts_of /run/netns)" 1
check_eq "the second namespace is mounted once" "$(mounts_of /run/netns/rd2)" 1

check "down" "$JAILFW" down
check_eq "no namespace mount is left" \
	"$(awk '$5 ~ "^/run/netns/"' /proc/self/mountinfo | wc -l)" 0

lib_done
