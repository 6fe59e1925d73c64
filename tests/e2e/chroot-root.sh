#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# verify and the test library in a chroot whose / is not a mount point, as
# pbuilder and sbuild build packages: there, making / private fails with
# EINVAL, and the mount that holds the chroot is shared with the machine's
# (systemd makes / shared), so a mount made in it would propagate out.
#
#   [ this script's sandbox (netns + private mount ns) ]
#     $D     a tmpfs, made shared: the machine's / as systemd has it
#     $P     a bind of $D, its peer: a mount that leaks out of a chroot
#            in $D shows up here too
#     $D/root     the chroot, a plain directory: /usr, /etc (read-only),
#                 /dev, /sys bound in, a new /proc, /run and /tmp plain
#                 directories (pbuilder mounts neither); /jailfw holds the
#                 binary, the templates, the write-up policy, tests/lib.sh
#
# Checks: the chroot really refuses `unshare --propagation private`;
# jailfw verify proves the write-up policy there and leaves no mount in
# $D or $P; jailfw exec (after an apply, in this script's sandbox) gives
# the jail's resolv.conf there and leaves no mount either; a script of the test library runs there (its sandbox gets a
# / that is a mount point, `ip netns exec` and user namespaces work) and
# leaves no mount either; and tests/run's way in (tests/with-root-mount)
# runs a unit test that unshares.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

# Not under $LIB_TMP: its cleanup is rm -rf, and this tree holds binds of
# the machine's /usr and /etc.  It is only ever unmounted, then rmdir'ed.
D=$(mktemp -d /tmp/jailfw-chroot.XXXXXX) || lib_bail "mktemp"
lib_defer rmdir "$D"
P=$LIB_TMP/peer
R=$D/root
mkdir -p "$P" || lib_bail "mkdir $P"
mount -t tmpfs -o mode=0755 jailfw-test "$D" || lib_bail "tmpfs on $D"
lib_defer umount -R "$D"
mount --make-shared "$D" || lib_bail "make $D shared"
mount --bind "$D" "$P" || lib_bail "bind $D to $P"
lib_defer umount -R "$P"

mkdir "$R" || lib_bail "mkdir $R"
for d in usr etc bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		cp -P "/$d" "$R/$d" || lib_bail "symlink /$d"
	elif [ -d "/$d" ]; then
		mkdir "$R/$d" && mount --rbind "/$d" "$R/$d" &&
			mount -o remount,bind,ro "$R/$d" || lib_bail "read-only bind of /$d"
	fi
done
mkdir -m 0755 "$R/proc" "$R/dev" "$R/sys" "$R/run" "$R/root" "$R/jailfw" &&
	mkdir -m 1777 "$R/tmp" || lib_bail "directories in the chroot"
mount -t proc proc "$R/proc" || lib_bail "proc in the chroot"
mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" || lib_bail "/dev, /sys in the chroot"
mkdir -p "$R/jailfw/tests/e2e" &&
	cp "$JAILFW" "$R/jailfw/jailfw" &&
	cp -r "$JAILFW_TEMPLATE_PATH" "$R/jailfw/templates" &&
	cp "$LIB_ROOT/policies/writeup.conf" "$R/jailfw/" &&
	cp "$LIB_ROOT/tests/lib.sh" "$LIB_ROOT/tests/with-root-mount" "$R/jailfw/tests/" ||
	lib_bail "copy jailfw into the chroot"

# in_chroot CMD...: CMD in the chroot, with a plain environment.
in_chroot()
{
	chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		JAILFW=/jailfw/jailfw JAILFW_TEMPLATE_PATH=/jailfw/templates "$@"
}

# Every mount point in this namespace at or under $D or $P.
mounts()
{
	awk '{ print $5 }' /proc/self/mountinfo | grep -E "^($D|$P)(/|$)" | sort
}

# shellcheck disable=SC2016 # awk's $5
check_fails "in the chroot, / is not a mount point" in_chroot awk \
	'$5 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo
check_fails "in the chroot, unshare --propagation private fails" \
	in_chroot unshare --mount --propagation private true
before=$(mounts)
# The control: a mount made in a new mount namespace in the chroot, with
# its propagation unchanged, shows up in $P: the checks below can fail.
in_chroot unshare --mount --propagation unchanged mount -t tmpfs leak /run
check_match "control: an unprivate mount in the chroot leaks to the peer" "$(mounts)" "^$P/root/run\$"
umount "$P/root/run" "$D/root/run" 2>/dev/null
check_eq "control: the leaked mount is gone again" "$(mounts)" "$before"

out=$(in_chroot /jailfw/jailfw verify /jailfw/writeup.conf 2>&1)
rc=$?
check_eq "jailfw verify in the chroot: exit 0" "$rc" 0 || printf '%s\n' "$out" | sed 's/^/    | /'
check_match "jailfw verify in the chroot: the policy holds" "$out" '^verify: the policy holds'
check_eq "verify's mounts stayed in its own namespace" "$(mounts)" "$before"

# jailfw exec in the chroot: its mount namespace (the jail's resolv.conf
# over /etc/resolv.conf, a sysfs of the jail's) must stay its own.  apply
# itself shares /run/netns with the machine, as `ip netns add` does, so
# the baseline is taken after it.  This script's sandbox is the "host".
cat >"$R/jailfw/exec.conf" <<'EOF'
jail box {
	backend netns
	ipv4 10.97.40.0/30
	dns 10.97.40.1
	allow tcp/443
}
EOF
if check "jailfw apply in the chroot" in_chroot /jailfw/jailfw apply /jailfw/exec.conf; then
	applied=$(mounts)
	check_match "jailfw exec in the chroot: the jail's resolv.conf" \
		"$(in_chroot /jailfw/jailfw exec box --keep-ids -- cat /etc/resolv.conf 2>&1)" \
		'^nameserver 10\.97\.40\.1$'
	check_eq "exec's mounts stayed in its own namespace" "$(mounts)" "$applied"
	check "jailfw down in the chroot" in_chroot /jailfw/jailfw down
fi
# down removed the namespace; /run/netns stays a mount, as after ip netns.
for m in "$P/root/run/netns" "$D/root/run/netns"; do
	umount "$m" 2>/dev/null
done
check_eq "after down, only /run/netns was left, and is gone" "$(mounts)" "$before"

cat >"$R/jailfw/tests/e2e/inner.sh" <<'EOF'
. /jailfw/tests/lib.sh
lib_enter_sandbox "$@"
check "/ is a mount point in the sandbox" awk '$5 == "/" { found = 1 } END { exit !found }' \
	/proc/self/mountinfo
lib_netns_add net || lib_bail "netns net"
check "ip netns exec" ip netns exec net true
check "a user namespace" unshare --user --map-root-user true
check "jailfw check" "$JAILFW" check /jailfw/writeup.conf
lib_done
EOF
out=$(in_chroot bash /jailfw/tests/e2e/inner.sh 2>&1)
rc=$?
check_eq "a test library script in the chroot: exit 0, 4 checks passed" \
	"$rc $(grep -c '^PASS ' <<<"$out")" "0 4" || printf '%s\n' "$out" | sed 's/^/    | /'
check_eq "the test library's mounts stayed in its own namespace" "$(mounts)" "$before"

# A unit test that re-executes itself under `unshare --propagation
# private`, entered the way tests/run enters a chroot.
unit=${JAILFW_BUILD:-$LIB_ROOT/build}/tests/test_nftload
if [ -x "$unit" ]; then
	cp "$unit" "$R/jailfw/" || lib_bail "copy $unit"
	out=$(in_chroot /jailfw/tests/with-root-mount /jailfw/test_nftload 2>&1)
	rc=$?
	check_eq "unit test_nftload in the chroot via tests/with-root-mount: exit 0, no failure" \
		"$rc $(grep -c '^not ok' <<<"$out")" "0 0" || printf '%s\n' "$out" | tail -n 20 |
		sed 's/^/    | /'
	check_eq "... its mounts stayed in its own namespace" "$(mounts)" "$before"
else
	skip "unit test_nftload in the chroot" "no $unit"
fi

lib_done
