#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The command line: check and render need no privilege, render's output is
# a ruleset the kernel loads, usage errors exit 2, invalid policies exit 1
# with a located message and change nothing, --version works.
#
#   [ sandbox netns = "host" ]   no links but lo; nothing leaves it
#     jailfw runs here as root and as uid 1100 (no capabilities);
#     render's output is loaded here with nft -f

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

USER_UID=1100
VERSION=$(sed -n 's/^VERSION := *//p' "$LIB_ROOT/Makefile")

# run_as WHO CMD...: stdout in $OUT, stderr in $ERR, exit status in $RC.
OUT=
ERR=
RC=
run_as()
{
	local who=$1

	shift
	OUT=$(lib_as "$who" "$@" 2>"$LIB_TMP/stderr")
	RC=$?
	ERR=$(cat "$LIB_TMP/stderr")
}

# expect NAME WANT WHO CMD...: CMD run as WHO exits WANT.
expect()
{
	local name=$1 want=$2

	shift 2
	run_as "$@"
	if [ "$RC" -eq "$want" ]; then
		pass "$name"
		return 0
	fi
	fail "$name" "exit $RC, want $want: $*" "$ERR"
	return 1
}

P=$LIB_TMP/cli.conf
cat >"$P" <<'EOF'
jail web {
	backend uid
	user 1099
	allow udp/123
	allow tcp/80,443 to 192.0.2.0/24, 2001:db8::/32
	allow udp/53,tcp/53 to host
}
EOF

PT=$LIB_TMP/tmpl.conf
cat >"$PT" <<'EOF'
settings {
	table jfwtest
}

template web-out {
	allow tcp/443
}

jail a {
	backend uid
	user 1099
	use web-out
}

jail b {
	backend uid
	user 1100
	use web-out, ntp
	allow icmp
}
EOF

BAD=$LIB_TMP/bad.conf
cat >"$BAD" <<'EOF'
jail web {
	backend uid
	user 1099
	allow tpc/80
}
EOF

EMPTY=$LIB_TMP/empty.conf
printf '# nothing here\n' >"$EMPTY"

WW=$LIB_TMP/world-writable.conf
cp "$P" "$WW"
chmod 0666 "$WW"

# ---------------------------------------------------------------- usage

expect "--version exits 0" 0 root "$JAILFW" --version
check_match "--version prints $VERSION" "$OUT$ERR" "${VERSION//./\\.}"
expect "--help exits 0" 0 root "$JAILFW" --help
expect "no command: usage error 2" 2 root "$JAILFW"
expect "unknown command: usage error 2" 2 root "$JAILFW" frobnicate
expect "unknown option: usage error 2" 2 root "$JAILFW" --frobnicate check "$P"
# Without POLICY: the default policy directory, /etc/jailfw (a private,
# empty tmpfs in this sandbox: lib.sh), whose jailfw.conf is missing.
for c in check render apply; do
	expect "$c without POLICY: the default /etc/jailfw, not there: exit 1" 1 root "$JAILFW" "$c"
	check_match "$c without POLICY: names the default's main file" "$ERR" \
		"^/etc/jailfw/jailfw\.conf: error: cannot open: No such file or directory$"
done
expect "check with two policies: usage error 2" 2 root "$JAILFW" check "$P" "$P"

# ---------------------------------------------------------------- no privilege

expect "check as uid $USER_UID (no capabilities) exits 0" 0 $USER_UID "$JAILFW" check "$P"
expect "render as uid $USER_UID exits 0" 0 $USER_UID "$JAILFW" render "$P"
printf '%s\n' "$OUT" >"$LIB_TMP/user.nft"
check "render as uid $USER_UID prints a ruleset" test -s "$LIB_TMP/user.nft"
expect "check as uid $USER_UID of an invalid policy exits 1" 1 $USER_UID "$JAILFW" check "$BAD"
check_match "check reports the error located" "$ERR" '(^|/)bad\.conf:4:[0-9]+: error:.*tpc'
expect "down as uid $USER_UID exits 4" 4 $USER_UID "$JAILFW" down
check_match "down as uid $USER_UID names CAP_NET_ADMIN" "$ERR" CAP_NET_ADMIN

# ---------------------------------------------------------------- check changes nothing

nft list ruleset >"$LIB_TMP/ruleset.before"
expect "check as root exits 0" 0 root "$JAILFW" check "$P"
check_same "check loads nothing" "$LIB_TMP/ruleset.before" <(nft list ruleset)
expect "check of an invalid policy exits 1" 1 root "$JAILFW" check "$BAD"
expect "check of an empty policy exits 1" 1 root "$JAILFW" check "$EMPTY"
expect "check of a world-writable policy exits 1" 1 root "$JAILFW" check "$WW"
expect "check of a missing file exits 1" 1 root "$JAILFW" check "$LIB_TMP/nonexistent.conf"
expect "render of an invalid policy exits 1" 1 root "$JAILFW" render "$BAD"
check_same "invalid policies load nothing" "$LIB_TMP/ruleset.before" <(nft list ruleset)

# ---------------------------------------------------------------- render loads

expect "render as root exits 0" 0 root "$JAILFW" render "$P"
printf '%s\n' "$OUT" >"$LIB_TMP/root.nft"
check_same "render is the same with and without privilege" "$LIB_TMP/root.nft" "$LIB_TMP/user.nft"
run_as root "$JAILFW" render "$P"
printf '%s\n' "$OUT" >"$LIB_TMP/again.nft"
check_same "render is deterministic" "$LIB_TMP/root.nft" "$LIB_TMP/again.nft"

check "render output loads with nft -f" nft -f "$LIB_TMP/root.nft"
check "the loaded ruleset has table inet jailfw" nft list table inet jailfw
check "the loaded jail chain ends in a counted drop" \
	test -n "$(lib_nft_counter jailfw uid_web drop)"
check_match "the loaded jail chain names its policy line" \
	"$(nft list chain inet jailfw uid_web 2>&1)" 'comment "cli\.conf:1"'
check "render output loads again over the loaded table" nft -f "$LIB_TMP/root.nft"
check "a replaced table is still one table" \
	test "$(nft list tables | grep -c 'table inet jailfw$')" -eq 1
nft delete table inet jailfw 2>/dev/null

expect "render with templates (policy and template path) exits 0" 0 root \
	"$JAILFW" render "$PT"
printf '%s\n' "$OUT" >"$LIB_TMP/tmpl.nft"
check "templated render loads with nft -f" nft -f "$LIB_TMP/tmpl.nft"
check "settings table names the loaded table" nft list table inet jfwtest
check_fails "settings table: no table inet jailfw" nft list table inet jailfw
expect "check with templates exits 0" 0 $USER_UID "$JAILFW" check "$PT"
nft delete table inet jfwtest 2>/dev/null

lib_done
