#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make install / make uninstall into staging roots, the way a distribution
# package is built: `make PREFIX=/usr`, then
# `make install DESTDIR=$stage PREFIX=/usr`.
#
#   [ sandbox netns = "host" ]   no links but lo; the host's /usr and /etc
#     are mounted read-only in here, so an install that ignored DESTDIR
#     fails instead of writing to the machine
#   $LIB_TMP/build     a build for PREFIX=/usr (the binary knows DATADIR)
#   $LIB_TMP/stage     DESTDIR: the tree is checked file by file, mode by
#                      mode; then the installed jailfw.service's own
#                      ExecStart/ExecReload/ExecStop lines are run here
#                      (what systemd would run), with a flush of the whole
#                      ruleset in between, as a restart of nftables.service
#                      does
#
# Checks: every file, its mode and content, nothing else; --version; the
# units name the installed binary and pass systemd-analyze verify; the
# administrator's policy is never touched; uninstall removes exactly what
# install installed; installing for another PREFIX rebuilds for it.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

VERSION=$(sed -n 's/^VERSION := *//p' "$LIB_ROOT/Makefile")
B=$LIB_TMP/build
STAGE=$LIB_TMP/stage

# mk ARGS...: make in the repository, with our build dir, and none of the
# flags or variables of a make that may be running this test.
mk()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -C "$LIB_ROOT" --no-print-directory BUILD="$B" "$@"
}

# ls_tree ROOT: "MODE PATH" of every file and symlink under ROOT, sorted.
ls_tree()
{
	(cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | sort -k2)
}

# Private read-only views of /usr and /etc (recursive binds: /etc/netns,
# the sandbox's tmpfs, stays writable under /etc).
for d in /usr /etc; do
	if ! mount --rbind "$d" "$d" || ! mount -o remount,bind,ro "$d"; then
		lib_bail "read-only bind of $d"
	fi
done
check_fails "the host's /usr is read-only in the sandbox" touch /usr/.jailfw-install-test

check "build for PREFIX=/usr" mk -s -j2 PREFIX=/usr "$B/jailfw" || lib_bail "no build"

# The policy is the administrator's: an install must not create or
# overwrite it, an uninstall must not remove it.
mkdir -p "$STAGE/etc/jailfw"
echo "# the administrator's policy" >"$STAGE/etc/jailfw/jailfw.conf"
chmod 0600 "$STAGE/etc/jailfw/jailfw.conf"

check "make install DESTDIR=stage PREFIX=/usr" mk -s PREFIX=/usr DESTDIR="$STAGE" install ||
	lib_bail "install failed"

# ---------------------------------------------------------------- the tree

# systemd's unit directory for PREFIX=/usr: pkg-config's (Debian:
# /lib/systemd/system) when systemd's own prefix is /usr.
UNITDIR=
if [ "$(pkg-config --variable=prefix systemd 2>/dev/null)" = /usr ]; then
	UNITDIR=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
fi
: "${UNITDIR:=/usr/lib/systemd/system}"
U=${UNITDIR#/}

expected()
{
	local f

	echo "600 etc/jailfw/jailfw.conf"
	echo "755 usr/sbin/jailfw"
	for f in "$LIB_ROOT"/templates/*.conf; do
		echo "644 usr/share/jailfw/templates/${f##*/}"
	done
	echo "644 usr/share/man/man8/jailfw.8"
	echo "644 usr/share/man/man5/jailfw.conf.5"
	echo "644 $U/jailfw.service"
	echo "644 $U/jailfw@.service"
	echo "644 $U/nftables.service.d/jailfw.conf"
	echo "644 $U/firewalld.service.d/jailfw.conf"
	echo "644 usr/share/bash-completion/completions/jailfw"
	for f in "$LIB_ROOT"/policies/*.conf; do
		echo "644 usr/share/doc/jailfw/examples/${f##*/}"
	done
	for f in "$LIB_ROOT"/systemd/examples/*.conf; do
		echo "644 usr/share/doc/jailfw/examples/systemd/${f##*/}"
	done
}
check_eq "every file installed, with its mode, and nothing else" \
	"$(ls_tree "$STAGE")" "$(expected | sort -k2)"

same()
{
	cmp -s "$1" "$2" || { echo "$2 differs from $1"; return 1; }
}
check "the binary is the one built" same "$B/jailfw" "$STAGE/usr/sbin/jailfw"
for f in "$LIB_ROOT"/templates/*.conf; do
	check "template ${f##*/}" same "$f" "$STAGE/usr/share/jailfw/templates/${f##*/}"
done
check "man page jailfw.8" same "$LIB_ROOT/docs/jailfw.8" "$STAGE/usr/share/man/man8/jailfw.8"
check "man page jailfw.conf.5" same "$LIB_ROOT/docs/jailfw.conf.5" \
	"$STAGE/usr/share/man/man5/jailfw.conf.5"
check "the completion" same "$LIB_ROOT/completion/jailfw.bash" \
	"$STAGE/usr/share/bash-completion/completions/jailfw"
for u in nftables firewalld; do
	check "the $u.service drop-in" same "$LIB_ROOT/systemd/reapply.conf" \
		"$STAGE/$U/$u.service.d/jailfw.conf"
done
for f in "$LIB_ROOT"/policies/*.conf "$LIB_ROOT"/systemd/examples/*.conf; do
	case $f in
	*/systemd/*) t=$STAGE/usr/share/doc/jailfw/examples/systemd/${f##*/} ;;
	*) t=$STAGE/usr/share/doc/jailfw/examples/${f##*/} ;;
	esac
	check "example ${f#"$LIB_ROOT"/}" same "$f" "$t"
done
check_eq "the administrator's policy is untouched" \
	"$(cat "$STAGE/etc/jailfw/jailfw.conf")" "# the administrator's policy"

# ---------------------------------------------------------------- the binary

JF=$STAGE/usr/sbin/jailfw
check_eq "jailfw --version prints the Makefile's VERSION" "$("$JF" --version 2>&1)" \
	"jailfw $VERSION"
check_match "the man pages carry the same version" \
	"$(grep -h '^\.TH' "$LIB_ROOT/docs/jailfw.8" "$LIB_ROOT/docs/jailfw.conf.5" |
		grep -c "\"jailfw $VERSION\"")" '^2$'
# The Debian package is native: its version is the Makefile's.
check_eq "debian/changelog carries the same version" \
	"$(sed -n '1s/^jailfw (\([^)]*\)).*/\1/p' "$LIB_ROOT/debian/changelog")" "$VERSION"
check_match "the binary looks for templates where they were installed" \
	"$("$JF" --help 2>&1 | tr -s ' \n' '  ')" ' /usr/share/jailfw/templates\.'

# ---------------------------------------------------------------- the units

UNIT=$STAGE/$U/jailfw.service
check_eq "no @VARIABLE@ is left in jailfw.service" "$(grep -c '@[A-Z]*@' "$UNIT")" 0
TUNIT=$STAGE/$U/jailfw@.service
check_eq "no @VARIABLE@ is left in jailfw@.service" "$(grep -c '@[A-Z]*@' "$TUNIT")" 0
check_eq "jailfw@.service runs the installed binary on the installed policy" \
	"$(grep -E '^Exec' "$TUNIT")" \
	"$(printf '%s\n' "ExecStart=/usr/sbin/jailfw start %i /etc/jailfw" \
		"ExecStop=/usr/sbin/jailfw stop %i /etc/jailfw")"
check_eq "jailfw@.service has no mount-namespacing option" \
	"$(grep -cE '^(Protect[A-Za-z]*|Private[A-Za-z]*|(ReadOnly|ReadWrite|Inaccessible|Exec|NoExec|Bind|BindReadOnly)Paths|TemporaryFileSystem|RootDirectory|RootImage|MountFlags|NetworkNamespacePath)=' "$TUNIT")" 0
check_eq "jailfw.service runs the installed binary on the installed policy" \
	"$(grep -E '^Exec' "$UNIT")" \
	"$(printf '%s\n' "ExecStart=/usr/sbin/jailfw apply /etc/jailfw" \
		"ExecReload=/usr/sbin/jailfw apply /etc/jailfw" \
		"ExecStop=/usr/sbin/jailfw down")"
# Any of these gives the unit a mount namespace of its own, where the
# /run/netns bind mounts apply makes would stay (see the unit's comment).
check_eq "jailfw.service has no mount-namespacing option" \
	"$(grep -cE '^(Protect[A-Za-z]*|Private[A-Za-z]*|(ReadOnly|ReadWrite|Inaccessible|Exec|NoExec|Bind|BindReadOnly)Paths|TemporaryFileSystem|RootDirectory|RootImage|MountFlags|NetworkNamespacePath)=' "$UNIT")" 0

# systemd-analyze verify in a copy of the staged root: jailfw.service, the
# firewalls' units with the drop-ins, and a service with each example.
# Then what systemd made of them, from its debug dump of each unit.
V=$LIB_TMP/vroot

# unit_dump UNIT: systemd's view of UNIT in $V, one "Key: value" a line.
# SYSTEMD_UTF8=0: systemd 257 starts each unit's dump with "→ Unit",
# 252 and a non-UTF-8 locale with "-> Unit".
unit_dump()
{
	SYSTEMD_UTF8=0 SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --man=no --root="$V" "$1" 2>&1 |
		sed -n "/^[[:space:]]*-> Unit $1:/,/^[[:space:]]*-> Unit /p" | sed 's/^[[:space:]]*//'
}

# check_dump NAME UNIT LINE...: the dump of UNIT has every LINE.
check_dump()
{
	local name=$1 unit=$2 dump l missing=()

	shift 2
	dump=$(unit_dump "$unit")
	for l in "$@"; do
		grep -qxF -- "$l" <<<"$dump" || missing+=("$l")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "not in systemd's dump of $unit:" "${missing[@]}"
}

if command -v systemd-analyze >/dev/null; then
	cp -a "$STAGE" "$V"
	# The targets and slices the units order against.
	cp /lib/systemd/system/*.target /lib/systemd/system/*.slice "$V/$U/"
	# The firewalls' units are stubs, never this machine's: what is
	# verified is jailfw's drop-in on them, not whatever the installed
	# package ships (firewalld's own unit fails verify without dbus).
	for u in nftables:nft firewalld:firewalld; do
		printf '[Service]\nType=oneshot\nExecStart=/usr/sbin/%s\n' "${u#*:}" >"$V/$U/${u%:*}.service"
	done
	for e in netns-jail uid-jail; do
		printf '[Service]\nExecStart=/usr/sbin/jailfw --version\n' >"$V/$U/example-$e.service"
		mkdir -p "$V/$U/example-$e.service.d"
		cp "$V/usr/share/doc/jailfw/examples/systemd/$e.conf" \
			"$V/$U/example-$e.service.d/jailfw.conf"
	done
	# verify wants every command a unit runs to exist in the root.
	for t in /usr/sbin/nft /usr/sbin/firewalld /usr/bin/systemctl; do
		mkdir -p "$V$(dirname "$t")"
		[ -e "$V$t" ] || install -m 0755 /dev/null "$V$t"
	done
	out=$(systemd-analyze verify --man=no --root="$V" jailfw.service nftables.service \
		firewalld.service jailfw@foobar.service jailfw@psa-www.service \
		example-netns-jail.service example-uid-jail.service 2>&1)
	rc=$?
	check_eq "systemd-analyze verify: no complaint (exit $rc)" "$rc:$out" "0:"
	check_dump "jailfw.service: early, oneshot, bounded" jailfw.service \
		"DefaultDependencies: no" "Type: oneshot" "RemainAfterExit: yes" \
		"TimeoutStartSec: 5min" "Wants: network-pre.target (origin-file)" \
		"Before: network-pre.target (origin-file)" \
		"After: local-fs.target (origin-file)" \
		"After: systemd-sysctl.service (origin-file)"
	check_dump "jailfw.service: after the firewalls, reloaded with them" jailfw.service \
		"After: nftables.service (origin-file)" "After: firewalld.service (origin-file)" \
		"ReloadPropagatedFrom: nftables.service (origin-file)" \
		"ReloadPropagatedFrom: firewalld.service (origin-file)"
	for u in nftables firewalld; do
		check_dump "$u.service: the drop-in reloads jailfw.service after a restart" \
			"$u.service" "DropIn Path: $V/$U/$u.service.d/jailfw.conf" \
			"Command Line: systemctl --no-block try-reload-or-restart jailfw.service"
	done
	check_dump "jailfw@foobar.service: oneshot, after jailfw.service, down when unneeded" \
		jailfw@foobar.service "DefaultDependencies: no" "Type: oneshot" \
		"RemainAfterExit: yes" "StopWhenUnneeded: yes" \
		"Requires: jailfw.service (origin-file)" "After: jailfw.service (origin-file)" \
		"Command Line: /usr/sbin/jailfw start foobar /etc/jailfw" \
		"Command Line: /usr/sbin/jailfw stop foobar /etc/jailfw"
	check_dump "example netns-jail.conf: in the jail's namespace, bound to its jail unit" \
		example-netns-jail.service "BindsTo: jailfw@foobar.service (origin-file)" \
		"After: jailfw@foobar.service (origin-file)" "NetworkNamespacePath: /run/netns/foobar" \
		"BindReadOnlyPaths: /etc/netns/foobar/resolv.conf:/etc/resolv.conf:rbind"
	check_dump "example uid-jail.conf: as the jail's user, bound to its jail unit" \
		example-uid-jail.service "BindsTo: jailfw@psa-www.service (origin-file)" \
		"After: jailfw@psa-www.service (origin-file)" "User: psa-www"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# What systemd would run, run here: ExecStart, a flush of the whole ruleset
# (nftables.service's restart), ExecReload, ExecStop.  The policy is a
# policy directory, as /etc/jailfw: jailfw.conf and a drop-in file.
POLICY=$LIB_TMP/policy
mkdir -p "$POLICY/jails.d"
cat >"$POLICY/jailfw.conf" <<'EOF'
jail svc-uid {
	backend uid
	user 1099
	allow udp/123
}
EOF
cat >"$POLICY/jails.d/svcns.conf" <<'EOF'
jail svcns {
	backend netns
	ipv4 10.97.30.0/30
	allow tcp/443
}
EOF
chmod 0644 "$POLICY/jailfw.conf" "$POLICY/jails.d/svcns.conf"

# unit_cmd KEY [INSTANCE UNITFILE]: the unit's KEY= command line (of
# jailfw.service, or of UNITFILE with %i replaced by INSTANCE), run with
# the staged binary on the test's policy.
unit_cmd()
{
	local line argv

	line=$(sed -n "s/^$1=//p" "${3:-$UNIT}")
	line=${line//%i/${2:-}}
	line=${line//\/usr\/sbin\/jailfw/$JF}
	line=${line//\/etc\/jailfw/$POLICY}
	read -ra argv <<<"$line"
	"${argv[@]}"
}

table_there()
{
	nft list table inet jailfw >/dev/null 2>&1
}

ns_inode()
{
	stat -L -c %i /run/netns/svcns 2>/dev/null
}

if check "ExecStart: apply" unit_cmd ExecStart; then
	check "after ExecStart: jailfw's table is loaded" table_there
	ino=$(ns_inode)
	check "after ExecStart: the netns jail's namespace exists" test -n "$ino"
	nft flush ruleset
	check_fails "nft flush ruleset removed jailfw's table" table_there
	check "ExecReload after the flush: apply" unit_cmd ExecReload
	check "after ExecReload: jailfw's table is back" table_there
	check_eq "after ExecReload: the same namespace (the jailed services keep theirs)" \
		"$(ns_inode)" "$ino"
	echo "jail broken {" >"$POLICY/jails.d/broken.conf"
	check_exit "ExecReload of an invalid drop-in: exit 1" 1 unit_cmd ExecReload
	check "after a failed ExecReload: the table stays in force" table_there
	rm "$POLICY/jails.d/broken.conf"
	# jailfw@svcns.service's own lines (tests/e2e/unit-jail.sh has the traffic).
	check "jailfw@svcns ExecStop: stop" unit_cmd ExecStop svcns "$TUNIT"
	check "after it: the namespace is gone" test ! -e /run/netns/svcns
	check "after it: jailfw's table stays" table_there
	check "jailfw@svcns ExecStart: start" unit_cmd ExecStart svcns "$TUNIT"
	check "after it: the namespace is back" test -e /run/netns/svcns
	check "ExecStop: down" unit_cmd ExecStop
	check_fails "after ExecStop: jailfw's table is gone" table_there
	check "after ExecStop: the namespace is gone" test ! -e /run/netns/svcns
	check "ExecStop again: nothing to do, success" unit_cmd ExecStop
fi

# ---------------------------------------------------------------- uninstall

# Files that are not jailfw's, in jailfw's directories and next to its
# drop-in: they stay, and so do their directories.
echo "# local" >"$STAGE/usr/share/doc/jailfw/examples/local.conf"
echo "[Service]" >"$STAGE/$U/nftables.service.d/local.conf"
check "make uninstall DESTDIR=stage PREFIX=/usr" mk -s PREFIX=/usr DESTDIR="$STAGE" uninstall
check_eq "uninstall left only the administrator's and foreign files" "$(ls_tree "$STAGE")" \
	"$(printf '%s\n' "600 etc/jailfw/jailfw.conf" "644 usr/share/doc/jailfw/examples/local.conf" \
		"644 $U/nftables.service.d/local.conf" | sort -k2)"
rm "$STAGE/usr/share/doc/jailfw/examples/local.conf" "$STAGE/$U/nftables.service.d/local.conf"
check "make uninstall again: success" mk -s PREFIX=/usr DESTDIR="$STAGE" uninstall
check_eq "uninstall removed jailfw's own directories once empty" \
	"$(cd "$STAGE" && ls -d usr/share/jailfw usr/share/doc/jailfw "$U/nftables.service.d" \
		"$U/firewalld.service.d" 2>/dev/null)" ""
check_eq "the administrator's policy survives uninstall" \
	"$(cat "$STAGE/etc/jailfw/jailfw.conf")" "# the administrator's policy"

# ---------------------------------------------------------------- variables

S3=$LIB_TMP/stage3
check "install with SYSTEMDUNITDIR, BASHCOMPDIR, DOCDIR given" mk -s PREFIX=/usr DESTDIR="$S3" \
	SYSTEMDUNITDIR=/etc/systemd/system BASHCOMPDIR=/etc/bash_completion.d \
	DOCDIR=/usr/share/doc/jailfw-test install
check_match "the unit went to SYSTEMDUNITDIR" "$(ls_tree "$S3")" \
	'^644 etc/systemd/system/jailfw\.service$'
check_match "the drop-in went to SYSTEMDUNITDIR" "$(ls_tree "$S3")" \
	'^644 etc/systemd/system/nftables\.service\.d/jailfw\.conf$'
check_match "the completion went to BASHCOMPDIR" "$(ls_tree "$S3")" \
	'^644 etc/bash_completion\.d/jailfw$'
check_match "the examples went to DOCDIR" "$(ls_tree "$S3")" \
	'^644 usr/share/doc/jailfw-test/examples/systemd/netns-jail\.conf$'
check "uninstall with the same variables" mk -s PREFIX=/usr DESTDIR="$S3" \
	SYSTEMDUNITDIR=/etc/systemd/system BASHCOMPDIR=/etc/bash_completion.d \
	DOCDIR=/usr/share/doc/jailfw-test uninstall
check_eq "... leaves no file" "$(ls_tree "$S3")" ""

# A binary built for PREFIX=/usr looks for its templates in /usr/share:
# installing it under /usr/local rebuilds it first (the objects depend on
# the compiled-in directories), so it looks where its templates go.
S2=$LIB_TMP/stage2
check "install for another PREFIX rebuilds and installs" \
	mk -s -j2 PREFIX=/usr/local DESTDIR="$S2" install
check "... a binary that looks in /usr/local/share/jailfw/templates" \
	grep -qaF /usr/local/share/jailfw/templates "$S2/usr/local/sbin/jailfw"
check_fails "... and not in /usr/share/jailfw/templates" \
	grep -qaF /usr/share/jailfw/templates "$S2/usr/local/sbin/jailfw"

lib_done
