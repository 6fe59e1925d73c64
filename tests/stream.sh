# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A long TCP stream through a jail (tests/stream.py), for the e2e tests
# that check that a connection outlives an apply: its conntrack entry
# keeps its id, its sends never fail.  Sourced after tests/lib.sh.
#
#   stream_sink NS PORT        the sink, in namespace NS
#   stream_start NS ADDR PORT  the sender, in NS (sets STREAM_PID); bails
#                              unless it connects
#   stream_ct PORT             the ids of the conntrack entries to PORT
#   stream_end NAME            checks that it never broke, stops it, and
#                              checks that it ended cleanly

command -v conntrack >/dev/null 2>&1 ||
	lib_bail "no conntrack tool (tests/install-deps installs it)"

STREAM_STOP=$LIB_TMP/stop-stream

stream_sink()
{
	lib_bg sink ip netns exec "$1" "$LIB_PY" -I "$LIB_ROOT/tests/stream.py" sink "$2"
}

stream_start()
{
	lib_bg stream ip netns exec "$1" "$LIB_PY" -I "$LIB_ROOT/tests/stream.py" send "$2" "$3" \
		"$STREAM_STOP"
	STREAM_PID=$LIB_BG_PID
	lib_wait_for 10 grep -qx connected "$LIB_TMP/stream.out" ||
		lib_bail "the stream did not connect" \
			"$(cat "$LIB_TMP/stream.out" "$LIB_TMP/stream.err")"
}

stream_ct()
{
	conntrack -L -p tcp --dport "$1" -o id 2>/dev/null | sed -n 's/.* id=\([0-9]*\).*/\1/p' |
		sort | tr '\n' ' '
}

stream_end()
{
	check "$1 never broke" kill -0 "$STREAM_PID"
	touch "$STREAM_STOP"
	lib_wait_for 5 grep -qx "done" "$LIB_TMP/stream.out"
	check_eq "$1 ended cleanly" "$(tail -n 1 "$LIB_TMP/stream.out")" "done"
}
