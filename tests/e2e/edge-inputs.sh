#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bad input at the edges, through the real command line: `jailfw check` and
# `jailfw apply` on files that are huge, binary, deeply nested, not text,
# not regular, or not the administrator's.  Each is refused with a located
# error (exit 1), at once (every run is under `timeout 10` and must finish
# in a fraction of it) and in bounded memory (ulimit -v, or ASan's own RSS
# limit for a sanitizer build, which needs terabytes of address space),
# and no apply attempt changes anything in the kernel: the ruleset, with
# jailfw's table from a good apply and another program's table, is the
# same before and after.  CRLF line ends are accepted and mean the same.
#
# Then the fuzzers' regression inputs (fuzz/regressions/NAME/*, each an
# input that once crashed a harness) are replayed with BUILD/fuzz/replay_NAME,
# which is built with the suite's own compiler and sanitizer flags.
#
#   [ sandbox netns = "host" ]   no links but lo; nothing leaves it
#     table inet jailfw    (a good apply: one uid jail)
#     table inet bystander (another program's: must stay as it is)
#     jailfw check/apply run here as root, in $LIB_TMP/edge

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# Before the sandbox copies the binary away from its build directory.
REPLAY_DIR=${JAILFW_BUILD:-$(dirname "$JAILFW")}/fuzz
lib_enter_sandbox "$@"

# A run must end this far under its 10 s timeout, and say little: the
# diagnostics are capped (DIAG_MAX_ERRORS) and quote at most 200 columns.
LIMIT_MS=5000
LIMIT_ERR_BYTES=65536
LIMIT_MEM_MB=400

ULIMIT_V=
if grep -qa __asan_init "$JAILFW"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=$LIMIT_MEM_MB"
else
	ULIMIT_V=$((LIMIT_MEM_MB * 1024))
fi

E=$LIB_TMP/edge
mkdir -p "$E" || lib_bail "mkdir $E"
cd "$E" || lib_bail "cd $E"

# run VERB FILE: jailfw VERB FILE, bounded; sets RC, MS, ERR, ERR_BYTES.
RC=
MS=
ERR=
ERR_BYTES=
run()
{
	local start end

	start=${EPOCHREALTIME/./}
	(
		[ -z "$ULIMIT_V" ] || ulimit -v "$ULIMIT_V"
		exec timeout -k 2 10 "$JAILFW" "$@"
	) >"$LIB_TMP/out" 2>"$LIB_TMP/err" </dev/null
	RC=$?
	end=${EPOCHREALTIME/./}
	MS=$(((end - start) / 1000))
	ERR_BYTES=$(stat -c %s "$LIB_TMP/err")
	ERR=$(head -c 4000 "$LIB_TMP/err")
}

snapshot()
{
	{
		nft list ruleset
		echo "== /run/jailfw"
		cat /run/jailfw/state 2>&1
	} >"$1" 2>&1
}

# refused NAME FILE ERE: check and apply both exit 1 within LIMIT_MS, with
# a diagnostic line matching ERE and not much else; apply leaves the
# ruleset and jailfw's state exactly as they were.
refused()
{
	local name=$1 file=$2 ere=$3 verb

	for verb in check apply; do
		[ "$verb" = apply ] && snapshot "$LIB_TMP/before"
		run "$verb" "$file"
		if [ "$RC" -eq 1 ] && [ "$MS" -lt "$LIMIT_MS" ]; then
			pass "$verb $name: refused (exit 1) in $MS ms"
		else
			fail "$verb $name: refused (exit 1) in under $LIMIT_MS ms" \
				"exit $RC after $MS ms (124: timed out; 134/137: aborted or killed," \
				"e.g. out of memory under ulimit -v $ULIMIT_V)" "$ERR"
		fi
		check_match "$verb $name: located error" "$ERR" "$ere"
		if [ "$ERR_BYTES" -lt "$LIMIT_ERR_BYTES" ]; then
			pass "$verb $name: diagnostics bounded ($ERR_BYTES bytes)"
		else
			fail "$verb $name: diagnostics bounded" \
				"$ERR_BYTES bytes on stderr (limit $LIMIT_ERR_BYTES)"
		fi
		if [ "$verb" = apply ]; then
			snapshot "$LIB_TMP/after"
			check_same "apply $name: kernel unchanged" "$LIB_TMP/before" "$LIB_TMP/after"
		fi
	done
}

# ---------------------------------------------------------------- the world

POLICY='# A good policy, applied first: the apply attempts below must keep it.
jail web {
	backend uid
	user 1099
	allow tcp/443 to 192.0.2.0/24
	allow udp/53 to host
}
'
printf '%s' "$POLICY" >policy.conf
if ! nft add table inet bystander ||
	! nft add chain inet bystander out '{ type filter hook output priority 0; }' ||
	! nft add rule inet bystander out tcp dport 9 counter drop; then
	lib_bail "the bystander table"
fi
run apply policy.conf
[ "$RC" -eq 0 ] || lib_bail "apply the good policy (exit $RC)" "$ERR"
# The comparisons below mean something only if the snapshot shows both.
snapshot "$LIB_TMP/first"
if ! grep -q '^table inet jailfw ' "$LIB_TMP/first" ||
	! grep -q '^table inet bystander ' "$LIB_TMP/first"; then
	lib_bail "the ruleset lacks jailfw's or the bystander's table" "$(cat "$LIB_TMP/first")"
fi

# ---------------------------------------------------------------- size

# Refused from fstat(): not a byte is read.
yes '# padding, a comment line that is perfectly valid' | head -c $((5 << 20)) >huge.conf
refused "a 5 MiB file" huge.conf \
	'^huge\.conf: error: is too large \(5242880 bytes, at most 4194304\)'

# One line of about 1 MB: a list of 80000 addresses, the last one bad.
{
	printf 'jail web {\n\tbackend uid\n\tuser 1099\n\tallow tcp/443 to '
	for ((i = 0; i < 80000; i++)); do
		printf '192.0.2.%d, ' $((i % 250 + 1))
	done
	printf '192.0.2.300\n}\n'
} >longline.conf
[ "$(sed -n 4p longline.conf | wc -c)" -gt 1000000 ] || lib_bail "longline.conf is too short"
refused "a 1 MB line" longline.conf '^longline\.conf:4:[0-9]{7}: error: .*192\.0\.2\.300'

# One word of 1 MB.
{
	printf 'jail '
	head -c 1000000 /dev/zero | tr '\0' 'a'
	printf ' {\n\tbackend uid\n\tuser 1099\n}\n'
} >token.conf
refused "a 1 MB word" token.conf \
	'^token\.conf:1:6: error: word is too long \(1000000 bytes, at most 256\)'

# 10000 blocks deep, on one line, closed on the next.
{
	for ((i = 0; i < 10000; i++)); do
		printf 'jail j%d { ' "$i"
	done
	printf '\n'
	for ((i = 0; i < 10000; i++)); do
		printf '}'
	done
	printf '\n'
} >deep.conf
refused "blocks nested 10000 deep" deep.conf '^deep\.conf:1:[0-9]+: error: '

# ---------------------------------------------------------------- bytes

printf 'jail web {\n\tbackend uid\n\tuser 10\00099\n}\n' >nul.conf
refused "a NUL byte" nul.conf '^nul\.conf:3:9: error: NUL byte'

printf 'jail web {\n\tbackend uid\n\tuser www\377\376\n}\n' >utf8.conf
refused "invalid UTF-8" utf8.conf '^utf8\.conf:3:10: error: non-ASCII byte 0xff'

# "аllow" with a Cyrillic а (U+0430, UTF-8 d0 b0): looks right, is not.
printf 'jail web {\n\tbackend uid\n\tuser 1099\n\t\320\260llow tcp/443\n}\n' >lookalike.conf
refused "a Cyrillic look-alike in allow" lookalike.conf \
	'^lookalike\.conf:4:2: error: non-ASCII byte 0xd0'

# A CR that ends no line is a control character, not whitespace.
printf 'jail web {\n\tbackend uid\r\tuser 1099\n}\n' >cr.conf
refused "a lone CR" cr.conf '^cr\.conf:2:13: error: control character 0x0d'

# ---------------------------------------------------------------- not a policy file

# O_NONBLOCK: opening a FIFO with no writer must not wait for one.
mkfifo fifo.conf || lib_bail "mkfifo"
refused "a FIFO" fifo.conf '^fifo\.conf: error: is not a regular file'

refused "/dev/zero" /dev/zero '^/dev/zero: error: is not a regular file'

# A directory is a policy directory (jailfw.conf and jails.d): this one
# has no jailfw.conf.
mkdir dir.conf || lib_bail "mkdir"
refused "a directory without jailfw.conf" dir.conf \
	'^dir\.conf/jailfw\.conf: error: cannot open: No such file or directory$'

# A regular file to stat() (size 0), read to its end: KEY=VALUE words
# separated by NUL bytes, reported where they are.
ln -s /proc/self/environ environ.conf || lib_bail "ln -s"
refused "a symlink to /proc/self/environ" environ.conf '^environ\.conf:1:[0-9]+: error: '

# Whoever can write the policy decides what the jails may reach.
printf '%s' "$POLICY" >writable.conf
chmod 0666 writable.conf
refused "a world-writable file" writable.conf \
	'^writable\.conf: error: is writable by other users'

# ---------------------------------------------------------------- CRLF

# The applied policy, rewritten with CRLF line ends, in place: the same
# ruleset, byte for byte, so apply finds the table current and keeps it.
mkdir lf crlf || lib_bail "mkdir"
printf '%s' "$POLICY" >lf/policy.conf
printf '%s' "$POLICY" | sed 's/$/\r/' >crlf/policy.conf
grep -q $'\r$' crlf/policy.conf || lib_bail "no CRLF in crlf/policy.conf"
run check crlf/policy.conf
if [ "$RC" -eq 0 ] && [ "$MS" -lt "$LIMIT_MS" ]; then
	pass "check CRLF line ends: accepted"
else
	fail "check CRLF line ends: accepted" "exit $RC after $MS ms" "$ERR"
fi
(cd lf && "$JAILFW" render policy.conf) >lf.nft 2>&1
(cd crlf && "$JAILFW" render policy.conf) >crlf.nft 2>&1
grep -q 'table inet jailfw' lf.nft || lib_bail "render of the LF policy" "$(cat lf.nft)"
check_same "render CRLF line ends: the same ruleset as LF" lf.nft crlf.nft
snapshot "$LIB_TMP/before"
printf '%s' "$POLICY" | sed 's/$/\r/' >policy.conf
run apply policy.conf
if [ "$RC" -eq 0 ]; then
	pass "apply CRLF line ends: accepted"
else
	fail "apply CRLF line ends: accepted" "exit $RC" "$ERR"
fi
snapshot "$LIB_TMP/after"
check_same "apply CRLF line ends: the ruleset in force is unchanged" \
	"$LIB_TMP/before" "$LIB_TMP/after"

# ---------------------------------------------------------------- fuzz regressions

# Every input a fuzzer once crashed on, replayed by the harness's own
# program: a crash, a sanitizer report or a broken invariant fails.
shopt -s nullglob
for dir in "$LIB_ROOT"/fuzz/regressions/*/; do
	name=$(basename "$dir")
	files=()
	for f in "$dir"*; do
		[ -f "$f" ] && files+=("$f")
	done
	[ "${#files[@]}" -gt 0 ] || continue
	bin=$REPLAY_DIR/replay_$name
	if [ ! -x "$bin" ]; then
		fail "replay fuzz/regressions/$name" "no $bin (make builds it)"
		continue
	fi
	for f in "${files[@]}"; do
		check "replay fuzz/regressions/$name/$(basename "$f")" timeout -k 5 60 "$bin" "$f"
	done
done

lib_done
