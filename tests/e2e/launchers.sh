#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw with the launchers people start services with: bubblewrap and
# firejail (Debian packages them), and nsjail when one is installed (it is
# not in Debian: set NSJAIL or JAILFW_NSJAIL=/path/to/nsjail, or have it in
# PATH).  Each runs
# inside a jail of each backend where it applies, and real traffic shows
# the allowlist holds: tcp/80 arrives, tcp/81 does not.
#
#   - bwrap inside `jailfw exec` of the netns jail, and of the uid jail with
#     --unshare-user --uid 0 (root inside is the jail's uid outside);
#   - the trap: bwrap started by root with --unshare-user --uid 1099 runs
#     as uid 1099 inside but as root outside, escapes the uid jail, and
#     doctor names it (nsjail's --user 1099 without :1099 is the same);
#   - firejail --netns=JAIL (joins the jail's namespace), and firejail run
#     as the uid jail's user;
#   - nsjail: the README's commands (-N in the netns jail, and without it
#     an empty namespace; clone_newnet: false in a config file; --user
#     1099:1099 as root; --user 1099 under jailfw exec of the uid jail), and
#     the trap: root's --user 1099 escapes, and doctor names it.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24; listeners tcp 80 81
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24
#     jailfw; uid jail "lu" = uid 1099 (user "lu", a private /etc/passwd)
#       |
#     ln-out 10.97.77.1/24
#       |
#     ln-in 10.97.77.2   [ netns jail "ln", user 1098 ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# The machine's pid namespace: firejail, seeing no kernel thread in /proc,
# would take itself for a sandbox already and ignore --netns.  doctor's
# user-namespace finding is about the sandbox's network namespace only, so
# another suite's processes do not reach it.
LIB_HOST_PIDS=1
lib_enter_sandbox "$@"

N4=192.0.2.2

lib_wan_internet
lib_serve net internet "tcp:0.0.0.0:80" "tcp:0.0.0.0:81" || lib_bail "listeners in net"
# firejail wants a passwd entry for the uid it runs as, and runs the command
# through its shell: a private one.
lib_cover_file /etc/passwd "$(cat /etc/passwd)
lu:x:1099:1099::/nonexistent:/bin/sh" || lib_bail "cover /etc/passwd"
lib_cover_file /etc/group "$(cat /etc/group)
lu:x:1099:" || lib_bail "cover /etc/group"

P=$LIB_TMP/launchers.conf
cat >"$P" <<'EOF'
settings {
	wan wan0
}
jail lu {
	backend uid
	user 1099
	allow tcp/80
}
jail ln {
	backend netns
	ipv4 10.97.77.0/24
	user 1098
	allow tcp/80
}
EOF
check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed; nothing to test"

# sent PORT LAUNCHER...: LAUNCHER runs the probe (tcp/PORT to the
# internet); succeeds when the listener recorded its token.
sent()
{
	local port=$1 token

	shift
	token="l$BASHPID-$(date +%s%N)"
	timeout 20 "$@" "$LIB_PY" -I "$LIB_TMP/probe.py" tcp $N4 "$port" "$token" 2 \
		>/dev/null 2>"$LIB_TMP/sent.err"
	grep -qF " $token" "$LIB_TMP"/*.log
}

# holds NAME LAUNCHER...: the allowlist holds under LAUNCHER.
holds()
{
	local name=$1

	shift
	check "$name: tcp/80 arrives" sent 80 "$@"
	check_fails "$name: tcp/81 does not" sent 81 "$@"
}

# ---------------------------------------------------------------- bubblewrap

if command -v bwrap >/dev/null; then
	holds "bwrap in the netns jail" "$JAILFW" exec ln -- bwrap --dev-bind / / --
	holds "bwrap --unshare-user --uid 0 in the uid jail" \
		"$JAILFW" exec lu -- bwrap --dev-bind / / --unshare-user --uid 0 --
	check_eq "... root inside is uid 1099 outside" \
		"$("$JAILFW" exec lu -- bwrap --dev-bind / / --unshare-user --uid 0 -- \
			cat /proc/self/uid_map | tr -s ' ')" " 0 1099 1"
	# The trap: root starts it, so the namespace maps 1099 inside to 0.
	check "root's bwrap --unshare-user --uid 1099: escapes the uid jail (tcp/81 arrives)" \
		sent 81 bwrap --dev-bind / / --unshare-user --uid 1099 --gid 1099 --
	bwrap --dev-bind / / --unshare-user --uid 1099 --gid 1099 --die-with-parent -- sleep 60 &
	TRAP=$!
	disown $TRAP
	lib_defer kill $TRAP
	lib_wait_for 5 sh -c "grep -q '1099 *0 *1' /proc/$TRAP/uid_map" ||
		lib_wait_for 5 sh -c "pgrep -P $TRAP >/dev/null"
	check_exit "... doctor: exit 1" 1 "$JAILFW" doctor "$P"
	check_match "... names the process and the uid" "$LIB_OUT" \
		'error: process [0-9]+ \((bwrap|sleep)\) runs as uid 1099 in a user namespace that maps it to uid 0 outside'
	check_match "... and the jail" "$LIB_OUT" '^  jail: lu \(uid 1099\)$'
	kill $TRAP 2>/dev/null
	lib_wait_for 5 sh -c "! kill -0 $TRAP"
	check_exit "... gone: doctor exit 0" 0 "$JAILFW" doctor "$P"
else
	skip "bubblewrap" "bwrap is not installed (tests/install-deps installs bubblewrap)"
fi

# ---------------------------------------------------------------- firejail

if command -v firejail >/dev/null && [ -u "$(command -v firejail)" ]; then
	holds "firejail --netns=ln" firejail --noprofile --quiet --netns=ln --
	# As the jail's user, not through jailfw exec: firejail is setuid
	# root, and exec's no_new_privs would stop it.
	holds "firejail as the uid jail's user" \
		setpriv --reuid=1099 --regid=1099 --clear-groups -- firejail --noprofile --quiet --
else
	skip "firejail" "no setuid firejail (tests/install-deps installs firejail)"
fi

# ---------------------------------------------------------------- nsjail

NSJAIL=${NSJAIL:-${JAILFW_NSJAIL:-$(command -v nsjail || true)}}
if [ -n "$NSJAIL" ] && [ -x "$NSJAIL" ]; then
	holds "nsjail -N in the netns jail (jailfw exec --keep-ids)" \
		"$JAILFW" exec ln --keep-ids -- "$NSJAIL" -Mo -N --chroot / -q \
		--user 99999:99999 --group 99999:99999 --
	# Without -N nsjail makes an empty namespace of its own: nothing leaves.
	check_fails "... without -N: tcp/80 does not arrive either (an empty namespace)" \
		sent 80 "$JAILFW" exec ln --keep-ids -- "$NSJAIL" -Mo --chroot / -q \
		--user 99999:99999 --group 99999:99999 --
	# The same from a config file: clone_newnet: false keeps the jail's.
	cat >"$LIB_TMP/nsjail.cfg" <<'CFG'
mode: ONCE
clone_newnet: false
uidmap { inside_id: "99999" outside_id: "99999" }
gidmap { inside_id: "99999" outside_id: "99999" }
mount { src: "/" dst: "/" is_bind: true }
CFG
	holds "nsjail -C with clone_newnet: false in the netns jail" \
		"$JAILFW" exec ln --keep-ids -- "$NSJAIL" -C "$LIB_TMP/nsjail.cfg" -q --
	holds "nsjail -N --user 1099:1099 for the uid jail" \
		"$NSJAIL" -Mo -N --chroot / -q --user 1099:1099 --group 1099:1099 --
	holds "nsjail --user 1099 under jailfw exec of the uid jail" \
		"$JAILFW" exec lu -- "$NSJAIL" -Mo -N --chroot / -q --user 1099 --
	check_eq "... maps 1099 to itself" \
		"$("$JAILFW" exec lu -- "$NSJAIL" -Mo -N --chroot / -q --user 1099 -- \
			/bin/cat /proc/self/uid_map 2>/dev/null | tr -s ' ')" " 1099 1099 1"
	check "the trap: root's nsjail --user 1099 escapes (tcp/81 arrives)" \
		sent 81 "$NSJAIL" -Mo -N --chroot / -q --user 1099 --
	check_eq "... maps 1099 to 0" \
		"$("$NSJAIL" -Mo -N --chroot / -q --user 1099 -- \
			/bin/cat /proc/self/uid_map 2>/dev/null | tr -s ' ')" " 1099 0 1"
	"$NSJAIL" -Mo -N --chroot / -q --user 1099 -- /bin/sleep 60 2>/dev/null &
	TRAP=$!
	disown $TRAP
	lib_defer kill $TRAP
	lib_wait_for 5 sh -c "for c in \$(pgrep -P $TRAP); do grep -q '1099 *0 *1' /proc/\$c/uid_map && exit 0; done; exit 1"
	check_exit "... doctor: exit 1" 1 "$JAILFW" doctor "$P"
	check_match "... names the process and the uid" "$LIB_OUT" \
		'error: process [0-9]+ \(sleep\) runs as uid 1099 in a user namespace that maps it to uid 0 outside'
	check_match "... and the jail" "$LIB_OUT" '^  jail: lu \(uid 1099\)$'
	kill $TRAP 2>/dev/null
	lib_wait_for 5 sh -c "! kill -0 $TRAP"
	check_exit "... gone: doctor exit 0" 0 "$JAILFW" doctor "$P"
else
	skip "nsjail" "not installed (not in Debian; set NSJAIL or JAILFW_NSJAIL=/path/to/nsjail)"
fi

lib_done
