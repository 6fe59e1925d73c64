# SPDX-License-Identifier: GPL-2.0-or-later
#
# bash completion for jailfw(8).  Installed as
# share/bash-completion/completions/jailfw, where bash-completion loads it on
# first use; works without bash-completion too (`. jailfw.bash`).
#
# The commands and their options come from the jailfw being completed
# (`jailfw --help`, `jailfw help CMD`): its command table is also its usage
# text, so the completion cannot drift from the binary it is used with.  A
# built-in copy of those usage lines stands in when the binary cannot be
# run (not installed yet, or not executable by this user).
#
# Jail names (exec, start, stop JAIL) are the jails in force, from the first source that
# names any: `jailfw status --json`, then /run/jailfw/state (what exec
# itself consults; root only), then the `jail NAME {` lines of the default
# policy, /etc/jailfw/jailfw.conf and /etc/jailfw/jails.d/*.conf.  A JAIL
# that follows a POLICY on the line is one of that policy's jails instead.

# Where the jails in force are read from; the tests point these elsewhere.
# The policy is a file or a policy directory, as jailfw's POLICY.
_jailfw_state_file=/run/jailfw/state
_jailfw_policy_file=/etc/jailfw

# The stand-in usage lines: one "CMD ARGS" per line, in jailfw's own format
# (`jailfw help CMD` prints "usage: jailfw CMD ARGS").
_jailfw_builtin_usage='check [-I DIR] [POLICY]
render [--json] [-I DIR] [POLICY]
apply [-I DIR] [--no-wait] [POLICY]
diff [-I DIR] [POLICY]
status [--json] [--table NAME]
down [-I DIR] [--table NAME] [--no-wait] [POLICY]
start [-I DIR] [--no-wait] JAIL [POLICY]
stop [-I DIR] [--no-wait] JAIL [POLICY]
exec JAIL [--keep-ids] -- CMD...
compare [--json] [-I DIR] [--probe] [POLICY]
verify [--json] [-I DIR] [POLICY]
monitor [--json] [--suggest] [--count N] [--timeout S]
doctor [-I DIR] [POLICY]
help [COMMAND]'

# Accepted before the command, and (but for -h, --version) among its
# arguments.
_jailfw_global_opts='-v --verbose -q --quiet --json -h --help --version'

# _jailfw_bin WORD0: print the path of the jailfw being completed, if it
# can be run.
_jailfw_bin()
{
	local b=$1

	case $b in
	'~'/*) b=$HOME/${b#'~/'} ;;
	*/*) ;;
	*) b=$(type -P -- "$b" 2>/dev/null) || return 1 ;;
	esac
	[ -f "$b" ] && [ -x "$b" ] || return 1
	printf '%s\n' "$b"
}

# _jailfw_commands BIN: the command names, one per line.
_jailfw_commands()
{
	local out

	if [ -n "$1" ]; then
		# The "commands:" block of --help: "  NAME ARGS  what it does".
		out=$("$1" --help 2>/dev/null </dev/null |
			sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
	fi
	if [ -z "$out" ]; then
		out=$(printf '%s\n' "$_jailfw_builtin_usage" | sed 's/ .*//')
	fi
	printf '%s\n' "$out"
}

# _jailfw_usage BIN CMD: CMD's arguments in usage notation ("[-I DIR]
# POLICY"), from the binary when it knows CMD, else the built-in line.
_jailfw_usage()
{
	local line=

	# The name goes into a sed expression: only what a command looks like.
	[[ $2 =~ ^[a-z][a-z-]*$ ]] || return 0
	if [ -n "$1" ]; then
		# "usage: jailfw CMD ARGS", or nothing if it does not know CMD.
		line=$("$1" help "$2" 2>/dev/null </dev/null | sed -n "s/^usage: [^ ]* $2\( \|$\)/=/p")
	fi
	if [ -z "$line" ]; then
		line=$(printf '%s\n' "$_jailfw_builtin_usage" | sed -n "s/^$2\( \|$\)/=/p")
	fi
	printf '%s\n' "${line#=}"
}

# _jailfw_policy_jails POLICY: the jail names a policy file declares, or
# a policy directory's jailfw.conf and jails.d/*.conf (its includes are
# not followed).
_jailfw_policy_jails()
{
	local f files=("$1")

	if [ -d "$1" ]; then
		files=("$1/jailfw.conf" "$1"/jails.d/*.conf)
	fi
	for f in "${files[@]}"; do
		[ -f "$f" ] && [ -r "$f" ] || continue
		# Statements may share a line, separated by ';'; '#' starts a comment.
		sed -e 's/#.*//' -e 's/;/\n/g' -- "$f" 2>/dev/null |
			sed -n 's/^[[:space:]]*jail[[:space:]][[:space:]]*\([a-z0-9][a-z0-9_-]*\)[[:space:]]*{.*/\1/p'
	done
}

# _jailfw_status_jails BIN: the jail names `jailfw status --json` shows:
# the "name" of each object in its "jails" array.  Its exit status is not
# looked at: status exits non-zero when the live state drifted, and still
# names the jails in force.  Bounded: a completion must never hang the shell.
_jailfw_status_jails()
{
	[ -n "$1" ] || return 0
	timeout 2 "$1" status --json 2>/dev/null </dev/null | awk '
	# A small tokenizer: strings, and the punctuation that nests.  Every
	# "name" one level inside the array that follows the key "jails".
	{ text = text $0 "\n" }
	END {
		depth = 0; jails = -1; key = ""; prev = ""
		n = length(text)
		for (i = 1; i <= n; i++) {
			c = substr(text, i, 1)
			if (c == "\"") {
				s = ""
				for (i++; i <= n; i++) {
					c = substr(text, i, 1)
					if (c == "\\") { s = s substr(text, i, 2); i++; continue }
					if (c == "\"") break
					s = s c
				}
				if (prev == ":" && key == "name" && jails >= 0 && depth == jails + 2)
					print s
				if (prev == "{" || prev == ",")
					key = s
				prev = "s"
				continue
			}
			if (c ~ /[ \t\r\n]/)
				continue
			if (c == "[" || c == "{") {
				if (c == "[" && prev == ":" && key == "jails" && jails == -1)
					jails = depth
				depth++
			} else if (c == "]" || c == "}") {
				depth--
				if (jails >= 0 && depth == jails)
					jails = -2
			}
			prev = c
		}
	}' | grep -E '^[a-z0-9][a-z0-9_-]*$'
}

# _jailfw_jails_in_force BIN: the jails exec can run in.
_jailfw_jails_in_force()
{
	local out

	out=$(_jailfw_status_jails "$1")
	if [ -z "$out" ] && [ -r "$_jailfw_state_file" ]; then
		# "jail NAME key=value ...": one line per jail in force.
		out=$(sed -n 's/^jail \([a-z0-9][a-z0-9_-]*\)\( .*\)\{0,1\}$/\1/p' \
			"$_jailfw_state_file" 2>/dev/null)
	fi
	if [ -z "$out" ]; then
		out=$(_jailfw_policy_jails "$_jailfw_policy_file")
	fi
	printf '%s\n' "$out"
}

# _jailfw_tables: names for down --table: the last applied, the default.
_jailfw_tables()
{
	if [ -r "$_jailfw_state_file" ]; then
		sed -n 's/^table \([A-Za-z][A-Za-z0-9_-]*\)$/\1/p' "$_jailfw_state_file" 2>/dev/null
	fi
	echo jailfw
}

# _jailfw_reply WORDS CUR: COMPREPLY from a word list.
_jailfw_reply()
{
	local IFS=$' \t\n'

	# shellcheck disable=SC2207 # the words are names, never spaced
	COMPREPLY=($(compgen -W "$1" -- "$2"))
}

_jailfw_files()
{
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	if declare -F _filedir >/dev/null; then
		# bash-completion's: quoting, ~, and directories to descend.
		_filedir
		return
	fi
	# shellcheck disable=SC2207 # one name per line
	COMPREPLY=($(compgen -f -- "$1"))
}

_jailfw_dirs()
{
	local IFS=$'\n'

	compopt -o filenames 2>/dev/null
	if declare -F _filedir >/dev/null; then
		_filedir -d
		return
	fi
	# shellcheck disable=SC2207 # one name per line
	COMPREPLY=($(compgen -d -- "$1"))
}

_jailfw()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]:-} bin cmd=
	local i ci=0 w usage words=() opts='' valopts='' places=() npos=0 dd=0 policy='' skip=0
	local IFS=$' \t\n'

	COMPREPLY=()
	bin=$(_jailfw_bin "${COMP_WORDS[0]}") || bin=

	# "--table=NAME": bash splits it at '=' (a COMP_WORDBREAKS character)
	# into "--table" "=" "NAME"; readline completes only what follows '='.
	if [ "$cur" = "=" ]; then
		cur=
	elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi

	# The command: the first word before the cursor that is not an option.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*)
			ci=$i
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	if [ -z "$cmd" ]; then
		case $cur in
		-*) _jailfw_reply "$_jailfw_global_opts" "$cur" ;;
		*) _jailfw_reply "$(_jailfw_commands "$bin")" "$cur" ;;
		esac
		return 0
	fi

	# The command's usage: options (and which take a value), then the
	# positional places in order ("--" is one of them for exec).
	usage=$(_jailfw_usage "$bin" "$cmd")
	# Split without globbing ("[-I DIR]" is a pattern).
	read -ra words <<<"$usage"
	set -- "${words[@]}"
	while [ $# -gt 0 ]; do
		case $1 in
		'[-'*']') opts="$opts ${1//[][]/}" ;;
		'[-'*)
			# "[-I DIR]": an option with a value.
			opts="$opts ${1#[}"
			valopts="$valopts ${1#[} "
			shift
			;;
		*) places+=("$1") ;;
		esac
		shift
	done

	# Where the cursor is: after "--", or the value of an option, or the
	# Nth positional argument.
	for ((i = ci + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$dd" -gt 0 ]; then
			continue
		fi
		if [ "$skip" -eq 1 ]; then
			skip=0
			continue
		fi
		case $w in
		--)
			dd=$i
			npos=$((npos + 1))
			;;
		=) ;;
		-*)
			case "$valopts" in
			*" $w "*) [ "${COMP_WORDS[i + 1]:-}" = "=" ] || skip=1 ;;
			esac
			;;
		*)
			# After "=" comes the value of the option before it.
			[ "${COMP_WORDS[i - 1]}" != "=" ] || continue
			case ${places[npos]:-} in
			POLICY | '[POLICY]') policy=$w ;;
			esac
			npos=$((npos + 1))
			;;
		esac
	done

	if [ "$dd" -gt 0 ]; then
		# CMD... of exec: a command, then its own arguments.
		if [ $((dd + 1)) -eq "$COMP_CWORD" ]; then
			IFS=$'\n'
			# shellcheck disable=SC2207 # one name per line
			COMPREPLY=($(compgen -c -- "$cur"))
		elif declare -F _command_offset >/dev/null; then
			_command_offset $((dd + 1))
		else
			_jailfw_files "$cur"
		fi
		return 0
	fi

	case " $valopts " in
	*" $prev "*)
		case $prev in
		-I) _jailfw_dirs "$cur" ;;
		--table) _jailfw_reply "$(_jailfw_tables)" "$cur" ;;
		esac
		return 0
		;;
	esac

	case $cur in
	-*)
		_jailfw_reply "-v --verbose -q --quiet $opts" "$cur"
		# "--" ends the options where the usage expects it next.
		if [ "${places[npos]:-}" = "--" ] && [[ -- == "$cur"* ]]; then
			COMPREPLY+=(--)
		fi
		return 0
		;;
	esac

	case ${places[npos]:-} in
	POLICY | '[POLICY]') _jailfw_files "$cur" ;;
	JAIL | '[JAIL]')
		if [ -n "$policy" ]; then
			_jailfw_reply "$(_jailfw_policy_jails "$policy")" "$cur"
		else
			_jailfw_reply "$(_jailfw_jails_in_force "$bin")" "$cur"
		fi
		;;
	COMMAND | '[COMMAND]') _jailfw_reply "$(_jailfw_commands "$bin")" "$cur" ;;
	--) _jailfw_reply -- "$cur" ;;
	esac
	return 0
}

complete -F _jailfw jailfw
