#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Who may steer what jailfw, as root, writes and reads (the attacker is
# another local user, uid 4242; the files it goes for belong to uid 4243):
#
#   - symbolic links planted where jailfw writes: in /run/jailfw (its
#     temporary files, the lock, /run/jailfw itself) and /etc/netns/NAME
#     (a link to a directory of the attacker's).  Before this was closed,
#     jailfw overwrote the victim's file through ruleset-jailfw.tmp and
#     wrote resolv.conf into the attacker's directory.  Now nothing is
#     written through a link, a directory that is not root's (or that
#     others may write) is refused with exit 5 and named, and the target is
#     unchanged;
#   - policy and template files, and the directories above them, that are
#     not root's or the caller's, or that others may write: refused with a
#     located error, exit 1, nothing changed (as sshd's StrictModes);
#   - the test hooks (JAILFW_TEST_*): not in the jailfw that is installed,
#     which `make install` checks;
#   - the environment: the variables that would make libxtables load code
#     are gone before any library reads them.
#
#   [ sandbox netns = "host" ]  jailfw runs here
#     |
#   alpha-out 10.97.30.1/24
#   [ jail "alpha": dns 10.97.30.1, so /etc/netns/alpha/resolv.conf ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

EVIL=4242
VICTIM_UID=4243
P=$LIB_TMP/p.conf
printf 'jail alpha {\n\tbackend netns\n\tipv4 10.97.30.0/24\n\tdns 10.97.30.1\n\tallow tcp/443\n}\n' >"$P"
chmod 0644 "$P"

# The victim's file, which nothing may change.
V=$LIB_TMP/victim
printf 'the victim'"'"'s own\n' >"$V"
chown $VICTIM_UID "$V" && chmod 0644 "$V"
vsum()
{
	sha256sum "$V" | cut -d' ' -f1
}
VSUM=$(vsum)

as_evil()
{
	setpriv --reuid=$EVIL --regid=$EVIL --clear-groups -- "$@"
}

# nothing_done WHAT: no namespace, no table, victim unchanged.
nothing_done()
{
	check "$1: no namespace was made" test ! -e /run/netns/alpha
	check_fails "$1: no table was loaded" nft list table inet jailfw
	check_eq "$1: the victim's file is unchanged" "$(vsum)" "$VSUM"
}

# fresh_run: /run/jailfw as jailfw would make it (it is a mount point here:
# emptied, root's, 0700).
fresh_run()
{
	find /run/jailfw -mindepth 1 -delete
	chown 0:0 /run/jailfw && chmod 0700 /run/jailfw
}

# ================================================================ /run/jailfw

# ---- another user's /run/jailfw, with a link planted at a temporary name
chown $EVIL:$EVIL /run/jailfw && chmod 0755 /run/jailfw
as_evil ln -s "$V" /run/jailfw/ruleset-jailfw.tmp
as_evil ln -s "$V" /run/jailfw/committed-jailfw.jailfw-tmp
check_exit "/run/jailfw of uid $EVIL: apply exits 5" 5 "$JAILFW" apply "$P"
check_match "... and says whose it is" "$LIB_ERR" \
	"error: /run/jailfw is owned by uid $EVIL, not by root: jailfw keeps its state only in a directory of root's"
nothing_done "/run/jailfw of uid $EVIL"
check_exit "/run/jailfw of uid $EVIL: down exits 5 too" 5 "$JAILFW" down
check_exit "/run/jailfw of uid $EVIL: status refuses to read it" 3 "$JAILFW" status
check_match "... and says why" "$LIB_ERR" "error: /run/jailfw is owned by uid $EVIL"
check_eq "/run/jailfw of uid $EVIL: the victim's file is unchanged" "$(vsum)" "$VSUM"

# ---- /run/jailfw writable by others
fresh_run
chmod 0777 /run/jailfw
check_exit "world-writable /run/jailfw: apply exits 5" 5 "$JAILFW" apply "$P"
check_match "... and says so" "$LIB_ERR" "error: /run/jailfw is writable by other users \\(mode 0777\\)"
nothing_done "world-writable /run/jailfw"

# ---- /run/jailfw a symbolic link to a directory of the attacker's
# (/run/jailfw is a mount point in the sandbox: the link goes below a
# stand-in /run of our own, bound over the real one)
fresh_run
mkdir -p "$LIB_TMP/run/netns" "$LIB_TMP/evil" && chown $EVIL "$LIB_TMP/evil" ||
	lib_bail "stand-in /run"
mount --bind /run/netns "$LIB_TMP/run/netns" && mount --bind "$LIB_TMP/run" /run ||
	lib_bail "bind the stand-in /run"
ln -s "$LIB_TMP/evil" /run/jailfw
check_exit "/run/jailfw a symbolic link: apply exits 5" 5 "$JAILFW" apply "$P"
check_match "... and says so" "$LIB_ERR" "error: /run/jailfw is a symbolic link"
check_eq "... and wrote nothing where it points" "$(ls -A "$LIB_TMP/evil")" ""
nothing_done "/run/jailfw a symbolic link"
umount /run || lib_bail "unbind the stand-in /run"

# ---- root's own /run/jailfw with links at every name jailfw writes: never
# followed (a temporary file is made anew, a link at a final name is
# replaced, not written through)
fresh_run
for f in ruleset-jailfw.tmp state.jailfw-tmp state.next.jailfw-tmp committed-jailfw.jailfw-tmp \
	committed-jailfw.nft.jailfw-tmp committed-jailfw committed-jailfw.nft; do
	ln -s "$V" "/run/jailfw/$f"
done
check "links in /run/jailfw: apply succeeds" "$JAILFW" apply "$P"
check_eq "links in /run/jailfw: the victim's file is unchanged" "$(vsum)" "$VSUM"
check "links in /run/jailfw: the state is a file of its own" test -f /run/jailfw/state -a ! -L /run/jailfw/state
check "links in /run/jailfw: so is the record" \
	test -f /run/jailfw/committed-jailfw -a ! -L /run/jailfw/committed-jailfw
check "links in /run/jailfw: status is clean" "$JAILFW" -q status
check "down" "$JAILFW" down

fresh_run
ln -s "$V" /run/jailfw/lock
check_exit "the lock a link: apply refuses (exit 3)" 3 "$JAILFW" apply "$P"
check_match "... naming the lock" "$LIB_ERR" "cannot lock /run/jailfw/lock: Too many levels of symbolic links"
nothing_done "the lock a link"
fresh_run

# ================================================================ /etc/netns/NAME

mkdir -p "$LIB_TMP/foreign" && chown $EVIL "$LIB_TMP/foreign" || lib_bail "foreign directory"
ln -s "$LIB_TMP/foreign" /etc/netns/alpha
check_exit "/etc/netns/alpha a link to uid $EVIL's directory: apply exits 5" 5 "$JAILFW" apply "$P"
check_match "... and says so, at the dns line" "$LIB_ERR" \
	"p\\.conf:4:[0-9]+: error: /etc/netns/alpha is a symbolic link: jailfw writes /etc/netns/alpha/resolv.conf only into directories of root's"
check_eq "... and wrote nothing into that directory" "$(ls -A "$LIB_TMP/foreign")" ""
nothing_done "/etc/netns/alpha a link"
rm /etc/netns/alpha

mkdir /etc/netns/alpha && chown $EVIL /etc/netns/alpha
check_exit "/etc/netns/alpha owned by uid $EVIL: apply exits 5" 5 "$JAILFW" apply "$P"
check_match "... and says so" "$LIB_ERR" "error: /etc/netns/alpha is owned by uid $EVIL, not by root"
check_eq "... and wrote nothing into it" "$(ls -A /etc/netns/alpha)" ""
nothing_done "/etc/netns/alpha of uid $EVIL"
rmdir /etc/netns/alpha

check "jailfw's own /etc/netns/alpha: apply" "$JAILFW" apply "$P"
check_eq "... resolv.conf written, root's, 0644" "$(stat -c '%u %a' /etc/netns/alpha/resolv.conf)" "0 644"
check "down" "$JAILFW" down
check "down removed /etc/netns/alpha" test ! -e /etc/netns/alpha

# ================================================================ what jailfw reads

T=$LIB_TMP/tmpl
mkdir -p "$T" && chmod 0755 "$T"
printf 'template mine {\n\tallow tcp/443\n}\n' >"$T/mine.conf" && chmod 0644 "$T/mine.conf"
PT=$LIB_TMP/pt.conf
printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tuse mine\n}\n' >"$PT" && chmod 0644 "$PT"
check "root's template: apply" "$JAILFW" apply -I "$T" "$PT"
check "down" "$JAILFW" down

# refused WHAT ERE CMD...: exit 1, a located error matching ERE, nothing
# applied.
refused()
{
	local what=$1 ere=$2

	shift 2
	check_exit "$what: exit 1" 1 "$@"
	check_match "$what: a located error" "$LIB_ERR" "$ere"
	check_fails "$what: nothing applied" nft list table inet jailfw
	check "$what: no state" test ! -e /run/jailfw/state
}

chown $EVIL "$T/mine.conf"
refused "a template of uid $EVIL (0644)" \
	"^$T/mine\\.conf: error: is owned by uid $EVIL, not by root or by uid 0, who runs jailfw" \
	"$JAILFW" apply -I "$T" "$PT"
chown 0 "$T/mine.conf"

chmod 0775 "$T"
refused "a template in a group-writable directory" \
	"^$T/mine\\.conf: error: is in directory \"$T\", writable by its group" \
	"$JAILFW" apply -I "$T" "$PT"
chmod 0755 "$T"

chown $EVIL "$T"
refused "a template in a directory of uid $EVIL" \
	"^$T/mine\\.conf: error: is in directory \"$T\", owned by uid $EVIL" \
	"$JAILFW" apply -I "$T" "$PT"
chown 0 "$T"

chown $EVIL "$PT"
refused "a policy of uid $EVIL (0644)" "^$PT: error: is owned by uid $EVIL" "$JAILFW" apply -I "$T" "$PT"
chown 0 "$PT"

# A user's own policy is theirs to use (check needs no privilege).
chown 1099 "$PT" "$T/mine.conf"
check "uid 1099 checks a policy and template of its own" \
	setpriv --reuid=1099 --regid=1099 --clear-groups -- "$JAILFW" check -I "$T" "$PT"
chown 0 "$PT" "$T/mine.conf"

# Root's sticky directories (/tmp) are fine: nobody may replace what is not theirs.
S=$LIB_TMP/sticky
mkdir -p "$S" && chmod 1777 "$S" && cp -p "$PT" "$S/pt.conf"
check "a policy in a sticky directory of root's" "$JAILFW" check -I "$T" "$S/pt.conf"

# ================================================================ test hooks, environment

check_eq "the jailfw that is installed holds no JAILFW_TEST_ hook" \
	"$(tr '\0' '\n' <"$JAILFW" | grep -c JAILFW_TEST_)" 0
if [ -x "$JAILFW_TESTHOOKS" ]; then
	check "the test build does" sh -c "tr '\\0' '\\n' <'$JAILFW_TESTHOOKS' | grep -q JAILFW_TEST_KILL_AT"
fi
check "JAILFW_TEST_FAULT and JAILFW_TEST_KILL_AT do nothing to it: apply succeeds" \
	env JAILFW_TEST_FAULT=nft-commit,netns-create JAILFW_TEST_KILL_AT=lock,netns-created \
	"$JAILFW" apply "$P"
check "... the table is there" nft list table inet jailfw

check_eq "XTABLES_LIBDIR and the iptables ones are gone before anything runs" \
	"$(env XTABLES_LIBDIR="$LIB_TMP/evil" IPTABLES_LIB_DIR=x IP6TABLES_LIB_DIR=x \
		"$JAILFW" exec alpha --keep-ids -- sh -c 'echo ${XTABLES_LIBDIR-none} ${IPTABLES_LIB_DIR-none} ${IP6TABLES_LIB_DIR-none}' 2>&1)" \
	"none none none"
check "down" "$JAILFW" down

if [ -x "$JAILFW_TESTHOOKS" ]; then
	I=$LIB_TMP/inst
	mkdir -p "$I" && cp "$JAILFW_TESTHOOKS" "$I/jailfw"
	check_exit "make install refuses a test build" 2 \
		make -C "$LIB_ROOT" -s --no-print-directory install BUILD="$I" -o "$I/jailfw" \
		DESTDIR="$I/stage"
	check_match "... saying why" "$LIB_ERR" "install: $I/jailfw is a test build"
	check_eq "... and installed nothing" "$(ls -A "$I/stage" 2>/dev/null)" ""
fi

lib_done
