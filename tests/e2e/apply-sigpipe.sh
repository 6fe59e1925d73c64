#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A reader of jailfw's output that goes away (`jailfw -v apply P 2>&1 |
# head -1`) does not stop an apply or a down half-way: SIGPIPE waits, like
# SIGINT and SIGTERM, until the work is finished (or rolled back) and the
# lock released, and then ends jailfw (128 + 13 in the shell).  Before it
# was held, the apply died at its next verbose line after the namespace was
# made, leaving "phase applying" and no ruleset.
#
# Made deterministic with the test build's pause: jailfw stops right after
# making the namespace (JAILFW_TEST_PAUSE_AT=netns-created) and says so;
# the reader leaves once it has read that line (a reader that leaves
# sooner, while jailfw still waits for the lock, ends it before anything
# changed, as SIGINT would), then jailfw goes on writing into the closed
# pipe.
#
#   [ sandbox netns = "host" ]  jailfw runs here
#     |
#   pipe-out 10.97.33.1/24
#   [ jail "pipe" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"
lib_use_testhooks

P=$LIB_TMP/p.conf
printf 'jail pipe {\n\tbackend netns\n\tipv4 10.97.33.0/24\n\tallow tcp/443\n}\n' >"$P"
chmod 0644 "$P"

# cut_short STEP VERB [ARGS]: jailfw -v VERB ARGS 2>&1 into a reader that
# leaves after jailfw's "test pause at STEP" line, through a FIFO; jailfw
# goes on once the reader has gone.  Sets RC (jailfw's exit status) and
# FIRST (the last line the reader read).
cut_short()
{
	local step=$1 fifo=$LIB_TMP/fifo jp hp i st

	shift
	rm -f "$fifo" && mkfifo "$fifo" || return 1
	sed -n '/test pause at/{p;q}' <"$fifo" >"$LIB_TMP/first" &
	hp=$!
	env JAILFW_TEST_PAUSE_AT="$step" "$JAILFW" -v "$@" >"$fifo" 2>&1 &
	jp=$!
	for i in $(seq 100); do
		st=$(awk '{print $3}' "/proc/$jp/stat" 2>/dev/null)
		{ [ "$st" = T ] || [ -z "$st" ] || [ "$st" = Z ]; } && break
		sleep 0.1
	done
	wait "$hp" # the pipe has no reader any more
	kill -CONT "$jp" 2>/dev/null
	wait "$jp"
	RC=$?
	FIRST=$(cat "$LIB_TMP/first")
}

cut_short netns-created apply "$P" || lib_bail "apply, reader gone"
check_eq "apply, its reader gone: jailfw finished, then died by SIGPIPE (128 + 13)" "$RC" 141
check_match "apply, its reader gone: the reader left after the pause" "$FIRST" \
	'^jailfw: test pause at netns-created$'
check "apply, its reader gone: the state is idle (the apply finished)" grep -qx 'phase idle' /run/jailfw/state
check "apply, its reader gone: the table is in force" nft list table inet jailfw
check "apply, its reader gone: the jail's link is up" sh -c "ip -o link show pipe-out | grep -q ',UP'"
check "apply, its reader gone: status finds nothing amiss" "$JAILFW" -q status
check "apply, its reader gone: the lock is free" flock -n /run/jailfw/lock true

cut_short links-down down || lib_bail "down, reader gone"
check_eq "down, its reader gone: jailfw finished, then died by SIGPIPE" "$RC" 141
check "down, its reader gone: no state left (the down finished)" test ! -e /run/jailfw/state
check_fails "down, its reader gone: the table is gone" nft list table inet jailfw
check "down, its reader gone: the namespace is gone" test ! -e /run/netns/pipe

# An ignored SIGPIPE stays ignored: jailfw only sees EPIPE, and exits 0.
trap '' PIPE
cut_short netns-created apply "$P" || lib_bail "apply, reader gone, SIGPIPE ignored"
trap - PIPE
check_eq "SIGPIPE ignored: apply exits 0" "$RC" 0
check "SIGPIPE ignored: the table is in force" nft list table inet jailfw
check "down" "$JAILFW" down

lib_done
