#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the documentation says about the command line is what the binary
# does:
#  - each per-command option (--json, -I, --table, --no-wait) is taken by
#    the same commands in `jailfw --help`, in `jailfw help COMMAND` and in
#    jailfw(8)'s OPTIONS (the completion is checked against the binary by
#    install-completion.sh);
#  - every command of `jailfw --help` has an entry in jailfw(8) COMMANDS;
#  - the README's example error is real output, byte for byte.
#
#   [ sandbox netns ]   nothing but lo; jailfw only checks a policy here

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

MAN=$LIB_ROOT/docs/jailfw.8
README=$LIB_ROOT/README.md

# bin_cmds_of OPTION: the commands --help lists under OPTION, sorted.
bin_cmds_of()
{
	"$JAILFW" --help | awk -v o="$1" '
		found { gsub(/[() ]/, ""); print; exit }
		$1 == o { found = 1 }' | tr ',' '\n' | sort
}

# help_cmds_of OPTION: the commands whose `help COMMAND` usage has [OPTION].
help_cmds_of()
{
	local c

	for c in $CMDS; do
		"$JAILFW" help "$c" | head -n 1 | grep -qF "[$1" && echo "$c"
	done | sort
}

# man_cmds_of OPTION: the "(a, b)" list of OPTION's entry in jailfw(8).
man_cmds_of()
{
	sed 's/\\//g' "$MAN" | awk -v o="$1" '
		/^\.SH OPTIONS/ { inopt = 1; next }
		/^\.SH / { inopt = 0 }
		inopt && want { sub(/^\(/, ""); sub(/\).*/, ""); gsub(/ /, ""); print; exit }
		inopt && ($1 == ".B" || $1 == ".BI") && $2 == o { want = 1 }' | tr ',' '\n' | sort
}

CMDS=$("$JAILFW" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
[ "$(echo "$CMDS" | wc -l)" -ge 5 ] || lib_bail "no command list in --help" "$CMDS"

for opt in --json -I --table --no-wait; do
	bin=$(bin_cmds_of "$opt")
	check "--help names the commands that take $opt" test -n "$bin"
	check_eq "help COMMAND agrees with --help on $opt" "$(help_cmds_of "$opt")" "$bin"
	check_eq "jailfw(8) OPTIONS agrees with --help on $opt" "$(man_cmds_of "$opt")" "$bin"
done

for c in $CMDS; do
	[ "$c" = help ] && continue
	check "jailfw(8) has an entry for $c" grep -qE "^\\.B[IR]? \"?$c( |\"|\$)" "$MAN"
done

# The README's example: line 12 of a policy is "<tab>allow tpc/80".
{
	printf 'jail www {\n\tbackend uid\n\tuser 1099\n'
	for _ in 4 5 6 7 8 9 10 11; do echo; done
	printf '\tallow tpc/80\n}\n'
} >"$LIB_TMP/policy.conf"
(cd "$LIB_TMP" && "$JAILFW" check policy.conf) >/dev/null 2>"$LIB_TMP/err"
awk '/^```$/ { if (inb) exit; if (getline > 0 && $0 ~ /^policy\.conf:12:/) { inb = 1; print } next }
	inb { print }' "$README" >"$LIB_TMP/readme-err"
check "the README has the example" test -s "$LIB_TMP/readme-err"
head -n "$(wc -l <"$LIB_TMP/readme-err")" "$LIB_TMP/err" >"$LIB_TMP/real-err"
check_same "the README's example error is jailfw's real output" "$LIB_TMP/readme-err" \
	"$LIB_TMP/real-err"

lib_done
