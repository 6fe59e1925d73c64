# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# .ci/roots.sh, sourced by .ci/run: fresh Debian roots, and a way into them.
#
# A root is a minbase debootstrap of one suite plus git: a fresh Debian
# machine with nothing else, from the Debian archive this machine's apt is
# configured with (its URIs and suites as apt reads them; no mirror is
# named here).  The base root of each suite is built once and kept under
# $CI_CACHE/SUITE-KEY, KEY a hash of the suite, those sources and this
# recipe, and rebuilt after $CI_ROOT_MAX_DAYS days; every run works on a
# copy of it, thrown away afterwards.
#
# ci_enter runs a command in a root as the root user, in a new mount
# namespace that dies with it (nothing mounted for it outlives it), with a
# new /proc, the machine's /sys and /dev, an empty tmpfs /run and /tmp,
# and the kernel's modules read-only.  Not in a pid namespace of its own:
# a machine's /proc shows the kernel's threads, and firejail, seeing none,
# takes itself for a sandbox already and runs its command without one
# (--netns ignored).  ci_reap ends what a command left behind instead.
# Two ways in:
#   pivot    the root is bind-mounted onto itself and made / with
#            pivot_root: a machine of its own, / is a mount point, user
#            namespaces work.  What the README's commands must pass on.
#   chroot   chroot into the plain directory, as pbuilder and sbuild do:
#            / is no mount point and the process is chrooted; jailfw
#            verify and the suite must cope (tests/with-root-mount).
# The root shares this machine's network namespace (apt needs the mirror):
# what runs there must build its own namespaces for anything it changes,
# as the README's commands do.  No service starts in a root: its
# policy-rc.d refuses them, as in a Debian container image (installing
# firewalld or docker.io there must not start them on this machine).

CI_CACHE=${CI_CACHE:-/var/cache/jailfw-ci}
CI_ROOT_MAX_DAYS=${CI_ROOT_MAX_DAYS:-14}
# Bump when the recipe below changes: old cached roots are then rebuilt.
CI_ROOT_RECIPE="minbase+git, policy-rc.d 101, sources from the host, v1"

# The Debian entries of this machine's apt sources, as "URI SUITE COMPONENT"
# (one a line; URI with its trailing slash), from what apt itself parsed:
# sources.list and deb822 .sources alike.
ci_host_sources()
{
	# shellcheck disable=SC2016 # apt's format, not the shell's
	apt-get indextargets --format '$(TARGET_OF) $(REPO_URI) $(RELEASE) $(COMPONENT)' |
		awk '$1 == "deb" && NF == 4 { print $2, $3, $4 }' | sort -u
}

# ci_sources SUITE: the host's Debian entries for SUITE instead of the
# host's own release (bookworm-security -> trixie-security, ...), as
# sources.list lines.
ci_sources()
{
	local suite=$1 host

	host=$(. /etc/os-release && echo "$VERSION_CODENAME")
	[ -n "$host" ] || return 1
	ci_host_sources | awk -v host="$host" -v suite="$suite" '
		$2 == host || index($2, host "-") == 1 {
			lines[$1 " " suite substr($2, length(host) + 1)] = lines[$1 " " suite substr($2, length(host) + 1)] " " $3
		}
		END { for (k in lines) print "deb " k lines[k] }' | sort
}

# ci_mirror SUITE: the archive's URI (the entry of SUITE itself).
ci_mirror()
{
	ci_sources "$1" | awk -v s="$1" '$3 == s { print $2; exit }'
}

# ci_base_root SUITE: print the cached base root of SUITE, building it
# first if there is none (or it is too old).  Progress goes to stderr.
ci_base_root()
{
	local suite=$1 sources mirror key dir tmp old

	sources=$(ci_sources "$suite")
	mirror=$(ci_mirror "$suite")
	if [ -z "$mirror" ]; then
		echo "ci: no Debian archive for $suite in this machine's apt sources" >&2
		return 1
	fi
	key=$(printf '%s\n' "$suite" "$sources" "$CI_ROOT_RECIPE" \
		"$(dpkg-query -W -f '${Version}' debootstrap 2>/dev/null)" | sha256sum | cut -c1-12)
	dir=$CI_CACHE/$suite-$key
	if [ -f "$dir/.ci-root-ready" ] &&
		[ -z "$(find "$dir/.ci-root-ready" -mtime +"$CI_ROOT_MAX_DAYS")" ]; then
		echo "$dir"
		return 0
	fi
	mkdir -p "$CI_CACHE" || return 1
	for old in "$CI_CACHE/$suite"-*; do
		[ -d "$old" ] || continue
		ci_remove_tree "$old" || return 1
	done
	tmp=$dir.tmp
	echo "ci: building the $suite base root from $mirror into $dir" >&2
	# Its own mount namespace: debootstrap mounts /proc and /sys in the
	# target, and a debootstrap killed half-way must not leave them
	# mounted on this machine.
	if ! unshare --mount --propagation private -- debootstrap --variant=minbase \
		--include=git --components=main "$suite" "$tmp" "$mirror" >&2; then
		echo "ci: debootstrap $suite failed" >&2
		return 1
	fi
	printf '%s\n' "$sources" >"$tmp/etc/apt/sources.list" &&
		printf '#!/bin/sh\n# CI root: no service starts here (it shares the machine'"'"'s network).\nexit 101\n' \
			>"$tmp/usr/sbin/policy-rc.d" &&
		chmod 0755 "$tmp/usr/sbin/policy-rc.d" &&
		rm -f "$tmp/var/cache/apt/archives/"*.deb &&
		printf '%s\n' "$suite" "$sources" "$CI_ROOT_RECIPE" >"$tmp/.ci-root-ready" &&
		mv "$tmp" "$dir" || return 1
	echo "$dir"
}

# ci_remove_tree DIR: rm -rf DIR, but only when nothing is mounted at or
# below it (in this mount namespace), so that a leftover bind mount of
# the machine's /dev or /sys is never emptied.
ci_remove_tree()
{
	local d

	d=$(realpath -e "$1" 2>/dev/null) || return 0
	if awk -v d="$d" '$5 == d || index($5, d "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mountinfo; then
		echo "ci: refusing to remove $d: something is mounted there" >&2
		return 1
	fi
	rm -rf --one-file-system "$d"
}

# ci_fresh_root SUITE DIR: a copy of SUITE's base root at DIR.
ci_fresh_root()
{
	local base

	base=$(ci_base_root "$1") || return 1
	cp -a "$base" "$2"
}

# ci_enter MODE ROOT SHARE APTCACHE CMD: run the bash command line CMD in
# ROOT (MODE pivot or chroot, see above) as its root user, in a plain
# login-like environment, with SHARE (a directory of this machine) at
# /mnt/ci and APTCACHE as apt's package cache (downloaded packages are
# kept between runs; apt checks each against the fresh package lists).
ci_enter()
{
	mkdir -p "$4/partial" || return 1
	unshare --mount --propagation private -- \
		/bin/bash -c "$CI_ENTER_SCRIPT" ci-enter "$@"
}

# ci_reap ROOT: end, by id, every process whose root directory is ROOT
# (chroot, pivot_root into its bind mount, and the suite's own sandboxes
# in it alike): what a command run there started and left running.  Not
# by namespace: a namespace's number is reused once it is gone.
ci_reap()
{
	local want p

	want=$(stat -c '%d:%i' "$1") || return 0
	for p in /proc/[0-9]*; do
		[ "$(stat -L -c '%d:%i' "$p/root" 2>/dev/null)" = "$want" ] || continue
		echo "ci: ending process ${p#/proc/} left behind: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
		kill -KILL "${p#/proc/}" 2>/dev/null
	done
}

# shellcheck disable=SC2016 # expanded by the inner bash
CI_ENTER_SCRIPT='
set -e
mode=$1 root=$2 share=$3 aptcache=$4 cmd=$5
[ "$mode" = chroot ] || mount --bind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o nosuid,nodev,mode=0755 ci-run "$root/run"
mount -t tmpfs -o nosuid,nodev,mode=1777 ci-tmp "$root/tmp"
modules=/lib/modules/$(uname -r)
if [ -d "$modules" ]; then
	mkdir -p "$root$modules"
	mount --bind "$modules" "$root$modules"
	mount -o remount,bind,ro "$root$modules"
fi
mkdir -p "$root/mnt/ci"
mount --bind "$share" "$root/mnt/ci"
mount --bind "$aptcache" "$root/var/cache/apt/archives"
env="HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb"
env="$env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
if [ "$mode" = chroot ]; then
	# shellcheck disable=SC2086
	exec chroot "$root" /usr/bin/env -i $env /bin/bash -c "cd /root && $cmd"
fi
cd "$root"
pivot_root . .
umount -l .
cd /
# shellcheck disable=SC2086
exec /usr/bin/env -i $env /bin/bash -c "cd /root && $cmd"
'
