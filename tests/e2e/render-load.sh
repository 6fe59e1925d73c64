#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every golden ruleset (tests/render/*.nft) must load into the kernel with
# nft -f, exactly as rendered.  No topology: one throwaway network namespace
# (the script re-executes itself under `unshare --net --mount`), nothing else.
#
#   [ private netns ]  nft -c -f NAME.nft     dry run passes
#                      nft -f NAME.nft        loads
#                      nft list table ...     lists
#                      nft -f NAME.nft again  replace is idempotent
#                      table inet other       survives a jailfw replace
#
# Prints PASS name / FAIL name lines; exits non-zero on any failure.
# Run from anywhere (paths are relative to the repo root); needs root.
set -u

if [ -z "${JAILFW_RENDER_LOAD_INNER:-}" ]; then
	export JAILFW_RENDER_LOAD_INNER=1
	exec unshare --net --mount "$0" "$@"
fi

cd "$(dirname "$0")/../.." || exit 1
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1"
	[ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20
	fails=$((fails + 1))
}

# The table a golden file declares ("table inet NAME {" on its 3rd line).
table_of() {
	sed -n 's/^table inet \([a-z0-9_]*\) {$/\1/p' "$1" | head -1
}

# Element and rule counts as nft lists them, without counters.
listing() {
	nft list table inet "$1" 2>/dev/null | sed 's/packets [0-9]* bytes [0-9]*//'
}

nfts=(tests/render/*.nft)
if [ ! -e "${nfts[0]}" ]; then
	echo "FAIL no tests/render/*.nft"
	exit 1
fi

for f in "${nfts[@]}"; do
	name=$(basename "$f" .nft)
	t=$(table_of "$f")
	if [ -z "$t" ]; then
		: >"$tmp/err"
		fail "$name: no table declaration"
		continue
	fi

	if nft -c -f "$f" 2>"$tmp/err"; then
		pass "$name: nft -c"
	else
		fail "$name: nft -c"
	fi

	if nft -f "$f" 2>"$tmp/err"; then
		pass "$name: load"
	else
		fail "$name: load"
		continue
	fi

	if nft list table inet "$t" >"$tmp/list1" 2>"$tmp/err" &&
		grep -q "^table inet $t {" "$tmp/list1"; then
		pass "$name: list table inet $t"
	else
		fail "$name: list table inet $t"
	fi

	# Loading again replaces the table: same content, not doubled.
	listing "$t" >"$tmp/before"
	if nft -f "$f" 2>"$tmp/err" && listing "$t" >"$tmp/after" &&
		cmp -s "$tmp/before" "$tmp/after"; then
		pass "$name: replace is idempotent"
	else
		diff "$tmp/before" "$tmp/after" >"$tmp/err" 2>&1
		fail "$name: replace is idempotent"
	fi

	# Jail chains named after nft keywords must exist as named, in the
	# table (inet, or the netns jails' arp one) that declares them.
	while read -r fam chain; do
		if ! nft list chain "$fam" "$t" "$chain" >/dev/null 2>"$tmp/err"; then
			fail "$name: chain $chain listed"
			continue 2
		fi
	done < <(awk '/^table [a-z]+ [^ ]+ [{]$/ { fam = $2 }
		/^\tchain [a-z0-9_-]+ [{]$/ { print fam, $2 }' "$f")
	pass "$name: every chain listed"

	nft delete table inet "$t" 2>/dev/null
done

# Coexistence: another table (with a base chain on the same hook) survives a
# jailfw replace, rules and all, and jailfw's table is still replaced.
first=tests/render/writeup.nft
[ -e "$first" ] || first=${nfts[0]}
t=$(table_of "$first")
cat >"$tmp/other.nft" <<'EOF'
table inet other {
	chain output {
		type filter hook output priority filter; policy accept;
		meta mark 0x00000042 counter accept comment "other's rule"
	}
}
EOF
: >"$tmp/err"
if nft -f "$tmp/other.nft" 2>"$tmp/err" && nft -f "$first" 2>>"$tmp/err" &&
	nft -f "$first" 2>>"$tmp/err" &&
	nft list table inet other 2>>"$tmp/err" | grep -q "other's rule" &&
	nft list table inet "$t" >/dev/null 2>>"$tmp/err"; then
	pass "coexistence: table inet other survives"
else
	fail "coexistence: table inet other survives"
fi
nft delete table inet other 2>/dev/null
nft delete table inet "$t" 2>/dev/null

# A load the kernel refuses (a jump to a missing chain: ENOENT at commit
# time, not a parse error) leaves the old table exactly as it was.
: >"$tmp/err"
nft -f "$first" 2>"$tmp/err"
listing "$t" >"$tmp/before"
{
	cat "$first"
	echo "add chain inet $t broken"
	echo "add rule inet $t broken jump does_not_exist"
} >"$tmp/broken.nft"
if [ -s "$tmp/before" ] && ! nft -f "$tmp/broken.nft" 2>/dev/null &&
	listing "$t" >"$tmp/after" && cmp -s "$tmp/before" "$tmp/after"; then
	pass "failed load keeps the old table"
else
	fail "failed load keeps the old table"
fi
nft delete table inet "$t" 2>/dev/null

if [ "$fails" -ne 0 ]; then
	echo "render-load: $fails failure(s)"
	exit 1
fi
echo "render-load: all passed"
