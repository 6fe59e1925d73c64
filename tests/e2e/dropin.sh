#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A policy in drop-in files, applied the way packages and configuration
# management would: /etc/jailfw/jailfw.conf plus /etc/jailfw/jails.d/*.conf,
# with a bare `jailfw apply`.  A jail that lives in a drop-in file is
# enforced (traffic, counters); files that are not drop-ins (a backup, a
# package manager leftover, a hidden file, a directory) are never read;
# removing a drop-in file removes its jails at the next apply (the uid is
# unconfined again, the namespace and veth are gone); a jail defined in two
# files, settings in a drop-in and a group-writable jails.d are refused
# with the error located in its file (naming both files for the duplicate)
# and change nothing in the kernel.  A policy directory given as POLICY
# reads the same way, and so does an include statement.
#
#                       [ netns "net" = the internet ]
#                         eth0 192.0.2.2/24  2001:db8:1::2/64
#                         listeners tcp 443 5432, on [::]
#                                    |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     /etc/jailfw: a private tmpfs (tests/lib.sh), the default policy
#     jailfw.conf: settings, uid jail "web" (1099)
#     jails.d/20-db.conf: uid jail "db" (1100)
#     jails.d/30-box.conf: netns jail "box"
#       |
#     box-out 10.97.30.1/30
#       |
#     box-in 10.97.30.2
#   [ jail "box" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

ETC=/etc/jailfw
N4=192.0.2.2

lib_wan_internet
lib_serve net internet "tcp:[::]:443" "tcp:[::]:5432" || lib_bail "listeners in net"

mkdir -p "$ETC/jails.d" || lib_bail "mkdir $ETC/jails.d"
cat >"$ETC/jailfw.conf" <<'EOF'
# The host's settings and its own jail; services drop theirs in jails.d/.
settings {
	wan wan0
}

jail web {
	backend uid
	user 1099
	allow tcp/443
}
EOF
cat >"$ETC/jails.d/20-db.conf" <<'EOF'
# Dropped in by the database's package.
jail db {
	backend uid
	user 1100
	allow tcp/5432 to 192.0.2.2
}
EOF
cat >"$ETC/jails.d/30-box.conf" <<'EOF'
jail box {
	backend netns
	ipv4 10.97.30.0/30
	allow tcp/443
}
EOF
# Not drop-ins: each would make the policy invalid if it were read.
for f in 20-db.conf~ 20-db.conf.dpkg-old 30-box.conf.rpmnew .40-hidden.conf README; do
	printf 'jail web {\n}\nthis is not policy\n' >"$ETC/jails.d/$f"
done
mkdir -p "$ETC/jails.d/50-dir.conf"

# ---------------------------------------------------------------- apply the default

check "bare apply: jailfw.conf and jails.d" "$JAILFW" apply || lib_bail "apply failed"
lib_wait_for 30 lib_no_tentative box || lib_bail "box did not settle"

check_allowed "drop-in jail db reaches tcp/5432" jailfw uid_db 1100 tcp $N4 5432
check_dropped "drop-in jail db: tcp/443 dropped" jailfw uid_db 1100 tcp $N4 443
check_allowed "main file's jail web reaches tcp/443" jailfw uid_web 1099 tcp $N4 443
check_dropped "main file's jail web: tcp/5432 dropped" jailfw uid_web 1099 tcp $N4 5432
check_allowed_ns "drop-in netns jail box reaches tcp/443" jailfw fwd_box box tcp $N4 443
check_dropped_ns "drop-in netns jail box: tcp/5432 dropped" jailfw fwd_box box tcp $N4 5432
check_match "db's rules name their drop-in file" "$(nft list chain inet jailfw uid_db)" \
	'comment "20-db\.conf:2"'
check_eq "only the three jails: no backup, leftover or hidden file was read" \
	"$(nft list table inet jailfw | grep -oE 'chain (uid|fwd)_[a-z]+' | sort | tr '\n' ' ')" \
	"chain fwd_box chain uid_db chain uid_web "

check_exit "check without POLICY: the same policy" 0 "$JAILFW" check
check_eq "check without POLICY: its three jails" "$LIB_OUT" \
	"/etc/jailfw: ok (3 jails: 2 uid, 1 netns)"
check_exit "diff without POLICY: nothing to change" 0 "$JAILFW" diff
check_exit "the directory as POLICY: nothing to change" 0 "$JAILFW" diff "$ETC"

# ---------------------------------------------------------------- a duplicate

lib_snapshot_before
cat >"$ETC/jails.d/40-web.conf" <<'EOF'
jail web {
	backend uid
	user 1101
	allow tcp/5432
}
EOF
check_exit "a jail in two files: apply exits 1" 1 "$JAILFW" apply
check_match "a jail in two files: located in the drop-in, naming the main file" "$LIB_ERR" \
	'^/etc/jailfw/jails\.d/40-web\.conf:1:6: error: duplicate jail "web" \(first defined at /etc/jailfw/jailfw\.conf:6\)$'
check_untouched "a jail in two files"
rm -f "$ETC/jails.d/40-web.conf"

printf 'settings {\n\tfwmark 0x1\n}\n' >"$ETC/jails.d/45-settings.conf"
check_exit "settings in a drop-in: apply exits 1" 1 "$JAILFW" apply
check_match "settings in a drop-in: located there" "$LIB_ERR" \
	'^/etc/jailfw/jails\.d/45-settings\.conf:1:1: error: "settings" belongs in the main policy file'
check_untouched "settings in a drop-in"
rm -f "$ETC/jails.d/45-settings.conf"

chmod g+w "$ETC/jails.d"
check_exit "a group-writable jails.d: apply exits 1" 1 "$JAILFW" apply
check_match "a group-writable jails.d: named" "$LIB_ERR" \
	'^/etc/jailfw/jails\.d: error: is writable by its group \(chmod g-w\)$'
check_untouched "a group-writable jails.d"
chmod g-w "$ETC/jails.d"

# ---------------------------------------------------------------- removing drop-ins

rm -f "$ETC/jails.d/20-db.conf"
check "db's file removed: apply" "$JAILFW" apply
check "db's file removed: its chain is gone" sh -c '! nft list chain inet jailfw uid_db'
check_reach "db's file removed: uid 1100 is unconfined again (tcp/443)" 1100 tcp $N4 443
check_allowed "db's file removed: web is still confined (tcp/443 passes)" jailfw uid_web \
	1099 tcp $N4 443
check_dropped "db's file removed: web is still confined (tcp/5432 dropped)" jailfw uid_web \
	1099 tcp $N4 5432

rm -f "$ETC/jails.d/30-box.conf"
check "box's file removed: apply" "$JAILFW" apply
check "box's file removed: its namespace is gone" test ! -e /run/netns/box
# The host end goes with the namespace, which the kernel frees
# asynchronously once its last reference is closed: wait for it.
check "box's file removed: its veth is gone" lib_wait_for 10 sh -c '! ip link show box-out'
check "box's file removed: its chain is gone" sh -c '! nft list chain inet jailfw fwd_box'

# ---------------------------------------------------------------- include, a directory as POLICY

# The same db jail, now from a directory of the test's own through an include.
P=$LIB_TMP/pol
mkdir -p "$P/jails.d" "$P/services" || lib_bail "mkdir $P"
cp "$ETC/jailfw.conf" "$P/jailfw.conf"
printf 'include services/*.conf\n' >>"$P/jailfw.conf"
printf 'jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5432 to 192.0.2.2\n}\n' \
	>"$P/services/db.conf"
check "a policy directory as POLICY, with an include: apply" "$JAILFW" apply "$P"
check_allowed "included jail db reaches tcp/5432" jailfw uid_db 1100 tcp $N4 5432
check_dropped "included jail db: tcp/443 dropped" jailfw uid_db 1100 tcp $N4 443
check_match "db's rules name the included file" "$(nft list chain inet jailfw uid_db)" \
	'comment "db\.conf:1"'

check "down" "$JAILFW" down
lib_done
