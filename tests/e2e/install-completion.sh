#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The bash completion (completion/jailfw.bash), driven the way bash drives
# it: COMP_WORDS and COMP_CWORD set, _jailfw called, COMPREPLY read.  No
# interactive shell.
#
#   [ sandbox netns = "host" ]   no links but lo; private /run/jailfw
#     jailfw applies a two-jail uid policy here, so that exec's jail names
#     come from what is really in force; stub jailfw scripts stand in for
#     commands the binary does not have (status --json, a JAIL after a
#     POLICY)
#
# Checks: the commands and each command's options are exactly what the
# binary's own usage text lists; the built-in fallback agrees with it; files
# for POLICY, directories for -I; jail names from status --json, the state
# file, the policy file, or a policy given on the line; table names; the
# command after exec's "--"; and, where bash-completion is installed, that
# its loader finds the installed file and its helpers are used.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

COMP=$LIB_ROOT/completion/jailfw.bash

# shellcheck source=completion/jailfw.bash
if ! . "$COMP"; then
	lib_bail "source $COMP"
fi

# comp WORD...: what the completion offers with the cursor at the end of the
# last word, sorted, one per line.
comp()
{
	local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()

	_jailfw
	[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

# lines WORD...: the words, sorted, one per line (what comp prints).
lines()
{
	[ $# -eq 0 ] || printf '%s\n' "$@" | sort -u
}

# The binary's command names and one command's options, from its usage text.
bin_commands()
{
	"$JAILFW" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort -u
}

bin_usage()
{
	"$JAILFW" help "$1" | sed -n "s/^usage: jailfw $1\\( \\|$\\)//p"
}

bin_options()
{
	bin_usage "$1" | grep -oE '\[-[-a-zA-Z]+' | tr -d '[' | sort -u
}

# ---------------------------------------------------------------- registration

check_match "sourcing registers _jailfw for jailfw" "$(complete -p jailfw 2>&1)" \
	'^complete -F _jailfw jailfw$'

# ---------------------------------------------------------------- commands

CMDS=$(bin_commands)
if [ "$(echo "$CMDS" | wc -l)" -lt 5 ]; then
	lib_bail "could not read the command list from $JAILFW --help" "$CMDS"
fi
check_eq "the commands are the ones jailfw --help lists" "$(comp "$JAILFW" "")" "$CMDS"
check_eq "a prefix completes one command" "$(comp "$JAILFW" re)" "render"
check_eq "help COMMAND completes the commands" "$(comp "$JAILFW" help "")" "$CMDS"
check_eq "options before the command" "$(comp "$JAILFW" -)" \
	"$(lines -v --verbose -q --quiet --json -h --help --version)"
check_eq "a global option before the command, then the commands" \
	"$(comp "$JAILFW" -v "")" "$CMDS"

# Each command's options: -v/-q (accepted everywhere) and exactly those its
# own usage line lists, "--" where it comes next.
for c in $CMDS; do
	want=$( (echo -v --verbose -q --quiet | tr ' ' '\n'; bin_options "$c") | sort -u)
	case $c in
	exec) got=$(comp "$JAILFW" exec somejail -) want=$(printf '%s\n' "$want" -- | sort -u) ;;
	*) got=$(comp "$JAILFW" "$c" -) ;;
	esac
	check_eq "$c: the options of 'jailfw help $c'" "$got" "$want"
done

# The built-in usage lines stand in for a binary that cannot be run; they
# must say what the binary says wherever it has the command.
for c in $CMDS; do
	builtin=$(printf '%s\n' "$_jailfw_builtin_usage" | sed -n "s/^$c\\( \\|$\\)//p")
	check_eq "$c: the built-in usage line matches the binary's" "$builtin" "$(bin_usage "$c")"
done

NOBIN=$LIB_TMP/nowhere/jailfw
check_eq "without a runnable binary: every command of the design" "$(comp "$NOBIN" "")" \
	"$(lines check render apply diff status down start stop exec compare verify monitor doctor help)"
check_eq "without a runnable binary: down's options" "$(comp "$NOBIN" down -)" \
	"$(lines -v --verbose -q --quiet -I --table --no-wait)"
check_eq "without a runnable binary: exec's options" "$(comp "$NOBIN" exec j -)" \
	"$(lines -v --verbose -q --quiet --keep-ids --)"
check_eq "without a runnable binary: monitor --suggest" "$(comp "$NOBIN" monitor --s)" "--suggest"
check_eq "without a runnable binary: compare --probe" "$(comp "$NOBIN" compare --p)" "--probe"
check_eq "without a runnable binary: status --json" "$(comp "$NOBIN" status --j)" "--json"

# ---------------------------------------------------------------- files

D=$LIB_TMP/pol
if ! mkdir -p "$D/tdir" || ! touch "$D/a.conf" "$D/b.conf" "$D/c d.conf"; then
	lib_bail "files in $D"
fi
check_eq "POLICY completes file names (spaces and all)" "$(comp "$JAILFW" check "$D/")" \
	"$(lines "$D/a.conf" "$D/b.conf" "$D/c d.conf" "$D/tdir")"
check_eq "POLICY completes a prefix" "$(comp "$JAILFW" render --json "$D/a")" "$D/a.conf"
check_eq "down [POLICY] completes file names" "$(comp "$JAILFW" down --no-wait "$D/b")" \
	"$D/b.conf"
check_eq "-I completes directories only" "$(comp "$JAILFW" apply -I "$D/")" "$D/tdir"
check_eq "after -I DIR, POLICY again" "$(comp "$JAILFW" check -I "$D/tdir" "$D/a")" "$D/a.conf"
check_eq "check takes one POLICY: nothing after it" "$(comp "$JAILFW" check "$D/a.conf" "$D/")" ""

# ---------------------------------------------------------------- jails

POL=$LIB_TMP/jailfw.conf
cat >"$POL" <<'EOF'
# jail commented-out {
jail pol-one {
	backend uid
	user 1099
}
settings { table x }; jail pol-two {
	backend uid; user 1098
}
EOF
_jailfw_state_file=$LIB_TMP/no-state
_jailfw_policy_file=$POL
check_eq "exec JAIL: no state, the jails of the policy file" "$(comp "$JAILFW" exec "")" \
	"$(lines pol-one pol-two)"
check_eq "exec JAIL: a prefix" "$(comp "$JAILFW" exec pol-t)" "pol-two"
check_eq "exec JAIL, then the options" "$(comp "$JAILFW" exec pol-one --k)" "--keep-ids"
check_eq "exec JAIL, then \"--\"" "$(comp "$JAILFW" exec pol-one "")" "--"
_jailfw_policy_file=$LIB_TMP/no-policy
check_eq "exec JAIL: no state, no policy: nothing" "$(comp "$JAILFW" exec "")" ""
# A policy directory, as the default /etc/jailfw: jailfw.conf and jails.d/*.conf.
PDIR=$LIB_TMP/poldir
mkdir -p "$PDIR/jails.d" || lib_bail "mkdir $PDIR"
cp "$POL" "$PDIR/jailfw.conf"
printf 'jail drop-in {\n\tbackend uid\n\tuser 1097\n}\n' >"$PDIR/jails.d/web.conf"
printf 'jail backup-only {\n}\n' >"$PDIR/jails.d/web.conf~"
_jailfw_policy_file=$PDIR
check_eq "exec JAIL: no state, a policy directory's jailfw.conf and jails.d/*.conf" \
	"$(comp "$JAILFW" exec "")" "$(lines pol-one pol-two drop-in)"

# The jails really in force: apply a policy (in this sandbox's own netns),
# then exec's jail names are that policy's, read from what apply recorded
# (or from status --json, once jailfw has it).
APPLIED=$LIB_TMP/applied.conf
cat >"$APPLIED" <<'EOF'
settings {
	table jfwcomp
}
jail live-a {
	backend uid
	user 1099
	allow udp/123
}
jail live-b {
	backend uid
	user 1098
	allow tcp/443
}
EOF
_jailfw_state_file=/run/jailfw/state
_jailfw_policy_file=$POL
if check "apply a policy to complete from" "$JAILFW" -q apply "$APPLIED"; then
	lib_defer "$JAILFW" -q down --table jfwcomp
	check_eq "exec JAIL: the jails in force, not the policy file's" \
		"$(comp "$JAILFW" exec "")" "$(lines live-a live-b)"
	check_eq "down --table: the table in force and the default" \
		"$(comp "$JAILFW" down --table "")" "$(lines jailfw jfwcomp)"
	# bash splits "--table=jf" at '=' (COMP_WORDBREAKS).
	check_eq "down --table=: the same" "$(comp "$JAILFW" down --table = jf)" "jfwcomp"
	check_eq "down --table=, nothing typed yet" "$(comp "$JAILFW" down --table =)" \
		"$(lines jailfw jfwcomp)"
	check_eq "down --table NAME, then POLICY" "$(comp "$JAILFW" down --table jfwcomp "$D/a")" \
		"$D/a.conf"
fi

# A stub jailfw: status --json as the status command will print it (and
# exits 1, as status does when the live state drifted), and a command whose
# JAIL follows a POLICY.
STUB=$LIB_TMP/stub/jailfw
mkdir -p "$(dirname "$STUB")"
cat >"$STUB" <<'EOF'
#!/bin/sh
case "$*" in
"--help")
	printf 'usage: jailfw COMMAND\n\ncommands:\n  status             s\n  pick POLICY JAIL   p\n  exec JAIL -- CMD   e\n\noptions:\n  -v\n'
	;;
"help pick") echo "usage: jailfw pick [-I DIR] POLICY JAIL" ;;
"help status") echo "usage: jailfw status [--json]" ;;
"help exec") echo "usage: jailfw exec JAIL [--keep-ids] -- CMD..." ;;
"status --json")
	cat <<'JSON'
{ "table": "jailfw", "name": "not-a-jail",
  "jails": [
    { "name": "st-one", "backend": "netns",
      "interfaces": [ { "name": "st-one-out" }, { "name": "st-one-in" } ],
      "counters": { "accepted": 3, "dropped": 0 } },
    { "backend": "uid", "uid": 1099, "name": "st-two", "note": "a \"quoted\" name: x" }
  ],
  "more": [ { "name": "nope" } ] }
JSON
	exit 1
	;;
*) exit 2 ;;
esac
EOF
chmod 0755 "$STUB"
check_eq "exec JAIL: from status --json first (jail objects' names only)" \
	"$(comp "$STUB" exec "")" "$(lines st-one st-two)"
check_eq "JAIL after POLICY: that policy's jails" "$(comp "$STUB" pick "$POL" "")" \
	"$(lines pol-one pol-two)"
check_eq "JAIL after -I DIR POLICY: that policy's jails" \
	"$(comp "$STUB" pick -I "$D" "$POL" pol-o)" "pol-one"
check_eq "a stub's usage is followed: status --json" "$(comp "$STUB" status -)" \
	"$(lines -v --verbose -q --quiet --json)"

# ---------------------------------------------------------------- exec's CMD

got=$(comp "$JAILFW" exec live-a -- ech)
check_match "after \"--\": command names" "$got" '^echo$'
check_eq "after \"--\" CMD: its arguments are files" \
	"$(comp "$JAILFW" exec live-a -- cat "$D/b")" "$D/b.conf"
check_eq "exec --keep-ids JAIL -- CMD: still a command" \
	"$(comp "$JAILFW" exec --keep-ids live-a -- bas | grep -x bash)" "bash"

# ---------------------------------------------------------------- bash-completion

# Installed, the file is found by bash-completion's loader the first time
# jailfw is completed, and then uses its helpers: _filedir for files,
# _command_offset to complete CMD with CMD's own completion.
BC=/usr/share/bash-completion/bash_completion
if [ -r "$BC" ]; then
	mkdir -p "$LIB_TMP/share/bash-completion/completions"
	cp "$COMP" "$LIB_TMP/share/bash-completion/completions/jailfw"
	cat >"$LIB_TMP/bc.sh" <<'EOF'
# bc.sh BC COMP CMD...: run CMD in a shell with bash-completion loaded.
. "$1" || exit 1
[ -z "$2" ] || . "$2" || exit 1
shift 2
comp()
{
	local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMPREPLY=()
	local COMP_LINE="$*"
	local COMP_POINT=${#COMP_LINE}

	_jailfw
	[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort -u
}
"$@"
EOF
	out=$(XDG_DATA_DIRS=$LIB_TMP/share bash -c '. "$1"; __load_completion jailfw &&
		complete -p jailfw' _ "$BC" 2>&1)
	check_eq "bash-completion loads it from share/bash-completion/completions" "$out" \
		"complete -F _jailfw jailfw"
	bcomp()
	{
		bash "$LIB_TMP/bc.sh" "$BC" "$COMP" comp "$@" 2>&1
	}
	check_eq "with bash-completion: POLICY file names" "$(bcomp "$JAILFW" check "$D/")" \
		"$(lines "$D/a.conf" "$D/b.conf" "$D/c d.conf" "$D/tdir")"
	check_eq "with bash-completion: -I directories" "$(bcomp "$JAILFW" check -I "$D/")" \
		"$D/tdir"
	check_eq "with bash-completion: exec's jails" "$(bcomp "$STUB" exec st-o)" "st-one"
	check_match "with bash-completion: CMD's own completion after \"--\"" \
		"$(bcomp "$JAILFW" exec live-a -- ls --colo)" '^--color$'
else
	skip "bash-completion" "$BC is not installed (apt-get install bash-completion)"
fi

# ---------------------------------------------------------------- robustness

# Interactive shells with nounset or noglob must not break, nor be changed.
out=$(
	set -u -f
	comp "$JAILFW" exec pol-one --k
	[[ $- == *f* ]] && echo "noglob kept"
)
check_eq "works under set -u -f, leaves noglob set" "$out" "$(printf '%s\n' --keep-ids "noglob kept")"
# "[--json]" is also a glob pattern: a file named "j" must not eat it.
mkdir -p "$LIB_TMP/globdir" && touch "$LIB_TMP/globdir/j" "$LIB_TMP/globdir/I"
out=$(cd "$LIB_TMP/globdir" && comp "$JAILFW" render --j)
check_eq "usage words are not globbed in a directory with matching files" "$out" "--json"
out=$(comp "$JAILFW" 'a;b' - 2>&1)
check_eq "an unknown command word: only the global options, quietly" "$out" \
	"$(lines -v --verbose -q --quiet)"

lib_done
