#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Environment faults: whatever the machine refuses, jailfw exits with the
# status of docs/design.md ("Exit statuses"), names what refused (the
# capability, sysctl, file, namespace or netlink operation), and changes
# nothing: the kernel snapshot (ruleset with rule handles, links, addresses,
# routes, every namespace and what is inside it, the sysctls, /run/jailfw,
# /etc/netns) is the same before and after, on a first apply and on a
# re-apply over a policy in force, which stays in force whole (traffic checks
# at the end of each part).
#
#   missing capabilities, each alone      exit 4, checked before anything
#                                         (and those a verb does not need
#                                         are not asked for)
#   read-only /proc/sys                   exit 4, the sysctl named
#   IPv6 disabled (default, and on a      exit 4, the sysctl named; the
#     jail's link: the kernel refuses)    second is a real netlink refusal
#   an altname taking NAME-out            exit 5, the link named
#   /run/netns/NAME not a namespace       exit 5, the path named, untouched
#   full /run/jailfw, full /etc/netns     exit 3, the file and ENOSPC named
#   JAILFW_TEST_FAULT: namespace          exit 3, the operation named, all
#     creation, new link, set link, new   rolled back
#     address, new route, nft commit
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                       listeners (dual stack): tcp 22 443
#                                  |
#                                  | veth (the wan)
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jail "www" (uid 1099) too
#       |                                |
#     foobar-out 10.97.10.1/24         second-out 10.97.11.1/24
#       |        fd00:97::3:1/112        |        fd00:97::4:1/112
#     foobar-in  10.97.10.2            second-in  (only in policy 2,
#   [ jail "foobar": user 1100,        [ jail "second" ]  never applied)
#     dns 10.97.10.1 ]
#
# Policy 1 (in force from part B on): www may open tcp/443, foobar tcp/443.
# Policy 2 (always refused): www also tcp/22, and jail "second".

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"
lib_use_testhooks

N4=192.0.2.2
PUID=1099 # the uid jail www
JUID=1100 # foobar's user, for exec

# ---------------------------------------------------------------- helpers

# nocap CAPS CMD...: CMD as root without CAPS (setpriv's names, comma
# separated, or "all"): root's permitted and effective sets at exec are its
# bounding set, so dropping a capability from that removes it everywhere.
nocap()
{
	local caps=$1

	shift
	setpriv --inh-caps=-all --bounding-set="-${caps//,/,-}" -- "$@"
}

NSNAP=0
# snap: a new snapshot (rule handles, no counter values: background
# traffic must not make it differ); its directory in $SNAP.
snap()
{
	NSNAP=$((NSNAP + 1))
	SNAP=$LIB_TMP/snap.$NSNAP
	lib_kernel_snapshot "$SNAP" stateless
}

# unchanged WHAT DIR: the kernel and jailfw's files are as snapshot DIR
# says, within 5 s: the kernel frees the veth of a namespace a rollback
# removed a moment later, asynchronously.
unchanged()
{
	local what=$1 before=$2 now=$LIB_TMP/snap.now deadline=$((SECONDS + 5)) out

	while :; do
		rm -rf "$now"
		lib_kernel_snapshot "$now" stateless
		if out=$(diff -ru "$before" "$now" 2>&1); then
			pass "$what: nothing changed"
			return 0
		fi
		[ "$SECONDS" -lt "$deadline" ] || break
		sleep 0.2
	done
	fail "$what: nothing changed" "$out"
	return 1
}

# fault NAME WANT ERE CMD...: CMD exits WANT, its stderr has a line
# matching ERE, and nothing changed.  $LIB_ERR keeps the message.
fault()
{
	local name=$1 want=$2 ere=$3

	shift 3
	snap
	check_exit "$name: exit $want" "$want" "$@"
	check_match "$name: says what refused" "$LIB_ERR" "$ere"
	unchanged "$name" "$SNAP"
}

# same NAME CMD...: CMD succeeds and changes nothing (an apply of the policy
# in force).
same()
{
	local name=$1

	shift
	snap
	check "$name" "$@"
	unchanged "$name" "$SNAP"
}

# policy FILE WWW_PORTS [SECOND]: www (uid) with its ports, foobar (netns);
# with SECOND, the jail "second" too.
policy()
{
	{
		echo "# env-faults"
		printf 'settings {\n\twan wan0\n}\n'
		printf 'jail www {\n\tbackend uid\n\tuser %s\n\tallow tcp/%s\n}\n' $PUID "$2"
		printf 'jail foobar {\n\tbackend netns\n\tipv4 10.97.10.0/24\n'
		printf '\tipv6 fd00:97::3:0/112\n\tuser %s\n\tdns 10.97.10.1\n' $JUID
		printf '\tallow tcp/443\n}\n'
		if [ -n "${3:-}" ]; then
			printf 'jail second {\n\tbackend netns\n\tipv4 10.97.11.0/24\n'
			printf '\tipv6 fd00:97::4:0/112\n\tdns 10.97.11.1\n\tallow tcp/443\n}\n'
		fi
	} >"$1"
}

# in_force WHAT: policy 1, whole: foobar and www reach tcp/443 and not
# tcp/22 (which policy 2 would have opened for www).
in_force()
{
	check_reach_ns "$1: foobar reaches tcp/443" foobar tcp $N4 443
	check_blocked_ns "$1: foobar does not reach tcp/22" foobar tcp $N4 22
	check_reach "$1: www reaches tcp/443" $PUID tcp $N4 443
	check_fails "$1: www does not reach tcp/22" lib_reach $PUID tcp $N4 22
}

# ro_proc_sys / rw_proc_sys: /proc/sys read-only in the sandbox's own
# mount namespace (what a container or ProtectKernelTunables= gives), and
# back.
ro_proc_sys()
{
	mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys
}

rw_proc_sys()
{
	umount /proc/sys
}

# full DIR: DIR's contents on a small tmpfs of its own, filled to the last
# page; the filler is a dot file, so the snapshots do not list it.
# unfull DIR: the real DIR again (nothing jailfw wrote meanwhile survives).
full()
{
	local dir=$1 keep=$LIB_TMP/full.tar

	tar -C "$dir" -cf "$keep" . &&
		mount -t tmpfs -o size=256k,mode=0755 jailfw-full "$dir" &&
		tar -C "$dir" -xf "$keep" || return 1
	dd if=/dev/zero of="$dir/.fill" bs=4096 2>/dev/null
	[ "$(stat -f -c %a "$dir")" -eq 0 ]
}

unfull()
{
	umount "$1"
}

# ns_file_case NAME KIND SETUP...: /run/netns/NAME made by SETUP; apply of
# POLICY is refused (exit 5, the path and KIND named), the file is left as
# it was; then it is removed.
ns_file_case()
{
	local name=$1 kind=$2 pol=$3 ere

	shift 3
	"$@" || lib_bail "make /run/netns/$name: $kind"
	ere="/run/netns/$name is not a network namespace jailfw made \\(it is $kind\\)"
	fault "/run/netns/$name is $kind: apply" 5 "$ere" "$JAILFW" apply "$pol"
	{
		umount /run/netns/"$name"
		umount /run/netns/"$name"
		rm -rf /run/netns/"$name" "$LIB_TMP/nsdir" "$LIB_TMP/nssrc"
	} 2>/dev/null
}

ns_regular()
{
	echo "not a namespace" >"/run/netns/$1"
}

ns_tmpfs_file()
{
	mkdir -p "$LIB_TMP/nssrc" && mount -t tmpfs nssrc "$LIB_TMP/nssrc" &&
		touch "$LIB_TMP/nssrc/f" "/run/netns/$1" &&
		mount --bind "$LIB_TMP/nssrc/f" "/run/netns/$1" && umount -l "$LIB_TMP/nssrc"
}

ns_dir_bind()
{
	mkdir -p "$LIB_TMP/nsdir" "/run/netns/$1" &&
		mount --bind "$LIB_TMP/nsdir" "/run/netns/$1"
}

ns_uts()
{
	touch "/run/netns/$1" && mount --bind /proc/self/ns/uts "/run/netns/$1"
}

ns_foreign_net()
{
	ip netns add "$1"
}

ns_unknown_cases()
{
	local name=$1 pol=$2

	ns_file_case "$name" "a regular file of 16 bytes, nothing mounted on it" "$pol" \
		ns_regular "$name"
	ns_file_case "$name" "a file with a tmpfs file mounted on it" "$pol" \
		ns_tmpfs_file "$name"
	ns_file_case "$name" "a directory with something mounted on it" "$pol" \
		ns_dir_bind "$name"
	ns_file_case "$name" "a uts namespace" "$pol" ns_uts "$name"
	ns_foreign_net "$name" || lib_bail "ip netns add $name"
	fault "/run/netns/$name is a namespace jailfw did not make: apply" 5 \
		"namespace \"$name\" exists \\(/run/netns/$name\\) but jailfw did not create it" \
		"$JAILFW" apply "$pol"
	ip netns delete "$name"
}

# injected POLICY JAIL V4: each kind of write refused (JAILFW_TEST_FAULT),
# for the jail JAIL that POLICY adds: exit 3, the operation named.
injected()
{
	local pol=$1 j=$2 net=$3 f ere

	for f in netns-create rtnl-newlink rtnl-setlink rtnl-newaddr rtnl-newroute nft-commit; do
		case $f in
		netns-create) ere="create namespace \"$j\": No space left on device" ;;
		rtnl-newlink) ere="create veth \"$j-out\": .*JAILFW_TEST_FAULT=rtnl-newlink" ;;
		# A new jail's first setlink labels its namespace's lo, before
		# the namespace has its name (provision_plan.c, ns_proven).
		rtnl-setlink) ere="set alias \"jailfw:$j\" on \"lo\" in namespace \"$j\": .*JAILFW_TEST_FAULT=rtnl-setlink" ;;
		rtnl-newaddr) ere="add address ${net//./\\.}\\.2/24 to \"$j-in\" in namespace \"$j\": .*rtnl-newaddr" ;;
		rtnl-newroute) ere="set default route via ${net//./\\.}\\.1 in namespace \"$j\": .*rtnl-newroute" ;;
		nft-commit) ere="the kernel refused the ruleset" ;;
		esac
		fault "JAILFW_TEST_FAULT=$f: apply" 3 "$ere" \
			env JAILFW_TEST_FAULT=$f "$JAILFW" apply "$pol"
		check_match "JAILFW_TEST_FAULT=$f: the previous ruleset is still in force" "$LIB_ERR" \
			"note: the previous ruleset is still in force"
	done
}

# ---------------------------------------------------------------- the world

lib_wan_internet
lib_serve net internet "tcp:[::]:22" "tcp:[::]:443" || lib_bail "listeners in net"
# exec's commands leave their mark here, as any uid.
M=$LIB_TMP/marks
mkdir -p "$M" && chmod 1777 "$M" || lib_bail "mark directory"

P1=$LIB_TMP/p1.conf   # www + foobar
P2=$LIB_TMP/p2.conf   # www with tcp/22, foobar, second
PU=$LIB_TMP/pu.conf   # www alone
PBIG=$LIB_TMP/pbig.conf
policy "$P1" 443
policy "$P2" 22,443 second
printf 'jail www {\n\tbackend uid\n\tuser %s\n\tallow tcp/443\n}\n' $PUID >"$PU"
{
	cat "$P1"
	for i in $(seq 2000 2199); do
		printf 'jail u%s {\n\tbackend uid\n\tuser %s\n\tallow tcp/443\n}\n' "$i" "$i"
	done
} >"$PBIG"
chmod 0644 "$P1" "$P2" "$PU" "$PBIG"
check "the policies are valid" sh -c "\"$JAILFW\" check \"$P1\" && \"$JAILFW\" check \"$P2\""

# ================================================================ A: first apply

# ---- capabilities, each alone, checked before anything (not even the lock)
fault "uid policy without CAP_NET_ADMIN" 4 "^jailfw: error: apply needs CAP_NET_ADMIN \\(" \
	nocap net_admin "$JAILFW" apply "$PU"
fault "netns policy without CAP_NET_ADMIN" 4 "^jailfw: error: apply needs CAP_NET_ADMIN \\(" \
	nocap net_admin "$JAILFW" apply "$P1"
fault "netns policy without CAP_SYS_ADMIN" 4 "^jailfw: error: apply needs CAP_SYS_ADMIN \\(" \
	nocap sys_admin "$JAILFW" apply "$P1"
check_match "netns policy without CAP_SYS_ADMIN: the note names the jail and its line" \
	"$LIB_ERR" "p1\\.conf:[0-9]+:[0-9]+: note: CAP_SYS_ADMIN: for the network namespace of netns jail \"foobar\""
fault "diff of a netns policy without CAP_SYS_ADMIN" 4 "diff needs CAP_SYS_ADMIN" \
	nocap sys_admin "$JAILFW" diff "$P1"
check "missing capabilities: not even the lock file was made" test ! -e /run/jailfw/lock

# ...and nothing a verb does not need is asked for.
NOTNEEDED=sys_admin,sys_ptrace,dac_override,dac_read_search,setuid,setgid,setpcap,fowner,chown
check "uid policy applies without $NOTNEEDED" nocap $NOTNEEDED "$JAILFW" apply "$PU"
check_reach "uid policy applied that way: www reaches tcp/443" $PUID tcp $N4 443
check "down of a uid policy without the same" nocap $NOTNEEDED "$JAILFW" down
for verb in check render "render --json"; do
	# shellcheck disable=SC2086 # "render --json" is two words
	check "$verb without any capability" nocap all "$JAILFW" $verb "$P1"
done

# ---- read-only /proc/sys
ro_proc_sys || lib_bail "read-only /proc/sys"
fault "read-only /proc/sys: netns policy" 4 \
	"cannot write net\\.ipv(4|6)\\.conf\\.(all|wan0)\\.(forwarding|accept_ra) \\(/proc/sys/.*\\): Read-only file system" \
	"$JAILFW" apply "$P1"
check_match "read-only /proc/sys: says so" "$LIB_ERR" "note: /proc/sys is read-only here"
check "read-only /proc/sys: a uid policy writes no sysctl, so it applies" "$JAILFW" apply "$PU"
check "read-only /proc/sys: and goes" "$JAILFW" down
rw_proc_sys || lib_bail "/proc/sys writable again"

# ---- IPv6 disabled for new interfaces (only in this namespace)
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || lib_bail "default.disable_ipv6"
fault "IPv6 disabled: netns policy with ipv6" 4 \
	"p1\\.conf:[0-9]+:[0-9]+: error: jail \"foobar\" has ipv6, but IPv6 is disabled on new interfaces \\(net\\.ipv6\\.conf\\.default\\.disable_ipv6 = 1\\)" \
	"$JAILFW" apply "$P1"
sysctl -qw net.ipv6.conf.default.disable_ipv6=0

# ---- an alternative name that is foobar-out
ip link add xv0 type veth peer name xv1 && ip link property add dev xv0 altname foobar-out ||
	lib_bail "veth xv0 with altname foobar-out"
fault "foobar-out is xv0's altname" 5 \
	"interface name \"foobar-out\" is taken: it is an alternative name of \"xv0\"" \
	"$JAILFW" apply "$P1"
ip link del xv0

# ---- /run/netns/foobar that is not a namespace of jailfw's
ns_unknown_cases foobar "$P1"

# ---- full /run/jailfw: the state cannot be written
full /run/jailfw || lib_bail "full /run/jailfw"
fault "full /run/jailfw: uid policy" 3 \
	"write state \"/run/jailfw/state\": No space left on device" "$JAILFW" apply "$PU"
fault "full /run/jailfw: netns policy" 3 \
	"write state \"/run/jailfw/state\": No space left on device" "$JAILFW" apply "$P1"
unfull /run/jailfw

# ---- full /etc/netns: resolv.conf, after the namespace and veth were made
full /etc/netns || lib_bail "full /etc/netns"
fault "full /etc/netns: netns policy" 3 \
	"write /etc/netns/foobar/resolv\\.conf: No space left on device" "$JAILFW" apply "$P1"
unfull /etc/netns

# ---- every kind of write refused
injected "$P1" foobar 10.97.10
fault "JAILFW_TEST_FAULT=nft-commit: uid policy" 3 "the kernel refused the ruleset" \
	env JAILFW_TEST_FAULT=nft-commit "$JAILFW" apply "$PU"

check "nothing applied yet: no table inet jailfw" sh -c '! nft list table inet jailfw'

# ================================================================ B: over policy 1

check "apply policy 1" "$JAILFW" apply "$P1" || lib_bail "apply policy 1 failed"
lib_settle || lib_bail "IPv6 addresses still tentative"
in_force "policy 1 applied"

# ---- capabilities
fault "over policy 1: policy 2 without CAP_NET_ADMIN" 4 "apply needs CAP_NET_ADMIN" \
	nocap net_admin "$JAILFW" apply "$P2"
fault "over policy 1: policy 2 without CAP_SYS_ADMIN" 4 "apply needs CAP_SYS_ADMIN" \
	nocap sys_admin "$JAILFW" apply "$P2"
fault "over policy 1: a uid-only policy without CAP_SYS_ADMIN" 4 "apply needs CAP_SYS_ADMIN" \
	nocap sys_admin "$JAILFW" apply "$PU"
check_match "a uid-only policy without CAP_SYS_ADMIN: removing foobar needs it" "$LIB_ERR" \
	"note: CAP_SYS_ADMIN: to remove the network namespaces of the netns jails recorded in /run/jailfw/state"
fault "over policy 1: diff without CAP_SYS_ADMIN" 4 "diff needs CAP_SYS_ADMIN" \
	nocap sys_admin "$JAILFW" diff "$P2"
fault "over policy 1: down without CAP_NET_ADMIN" 4 "down needs CAP_NET_ADMIN" \
	nocap net_admin "$JAILFW" down
fault "over policy 1: down without CAP_SYS_ADMIN" 4 "down needs CAP_SYS_ADMIN" \
	nocap sys_admin "$JAILFW" down
same "over policy 1: policy 1 again without $NOTNEEDED minus sys_admin" \
	nocap sys_ptrace,dac_override,dac_read_search,setuid,setgid,setpcap,fowner,chown \
	"$JAILFW" apply "$P1"

# exec: each capability it needs for a netns jail with a user, alone.
for cap in net_admin sys_admin setuid setgid setpcap; do
	fault "exec foobar without CAP_${cap^^}" 4 "exec needs CAP_${cap^^} \\(" \
		nocap $cap "$JAILFW" exec foobar -- touch "$M/$cap"
	check "exec foobar without CAP_${cap^^}: nothing ran" test ! -e "$M/$cap"
done
check "exec foobar without sys_ptrace,dac_override,dac_read_search: runs" \
	nocap sys_ptrace,dac_override,dac_read_search "$JAILFW" exec foobar -- touch "$M/foobar"
check "exec foobar --keep-ids without setuid,setgid,setpcap: runs" \
	nocap setuid,setgid,setpcap "$JAILFW" exec foobar --keep-ids -- touch "$M/keep"
check "exec uid jail www without sys_admin: runs" \
	nocap sys_admin "$JAILFW" exec www -- touch "$M/www"
check_eq "exec www ran as its uid" "$(stat -c %u "$M/www" 2>&1)" $PUID
fault "exec uid jail www without CAP_SETUID" 4 "exec needs CAP_SETUID \\(" \
	nocap setuid "$JAILFW" exec www -- touch "$M/www-setuid"
check "exec www without CAP_SETUID: nothing ran" test ! -e "$M/www-setuid"

# ---- read-only /proc/sys
ro_proc_sys || lib_bail "read-only /proc/sys"
fault "read-only /proc/sys: policy 2 (a new jail)" 4 \
	"cannot write net\\.ipv6\\.conf\\.default\\.accept_ra \\(in the jails' namespaces\\)" \
	"$JAILFW" apply "$P2"
same "read-only /proc/sys: policy 1 again writes nothing, and applies" "$JAILFW" apply "$P1"
fault "read-only /proc/sys: down" 4 \
	"cannot write net\\.ipv(4|6)\\.conf\\.(all|wan0)\\.(forwarding|accept_ra) .*Read-only file system" \
	"$JAILFW" down
rw_proc_sys || lib_bail "/proc/sys writable again"

# ---- IPv6 disabled: for new interfaces (checked first), then inside foobar,
# where the kernel itself refuses foobar-in's address half-way through
# (after second's namespace and veth were made).
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || lib_bail "default.disable_ipv6"
fault "IPv6 disabled for new interfaces: policy 2" 4 \
	"jail \"second\" has ipv6, but IPv6 is disabled on new interfaces" "$JAILFW" apply "$P2"
sysctl -qw net.ipv6.conf.default.disable_ipv6=0
ip netns exec foobar sysctl -qw net.ipv6.conf.foobar-in.disable_ipv6=1 ||
	lib_bail "disable IPv6 on foobar-in"
fault "IPv6 disabled on foobar-in: policy 2" 4 \
	"add address fd00:97::3:2/112 to \"foobar-in\" in namespace \"foobar\": Permission denied \\(kernel: .*IPv6 is disabled" \
	"$JAILFW" apply "$P2"
check_match "IPv6 disabled on foobar-in: rolled back" "$LIB_ERR" \
	"note: the previous ruleset is still in force"
ip netns exec foobar sysctl -qw net.ipv6.conf.foobar-in.disable_ipv6=0
check "IPv6 enabled on foobar-in again: policy 1 puts its address back" "$JAILFW" apply "$P1"
check_match "foobar-in has fd00:97::3:2 again" "$(ip -n foobar -6 addr show dev foobar-in)" \
	"inet6 fd00:97::3:2/112"

# ---- an alternative name that is second-out
ip link add xv0 type veth peer name xv1 && ip link property add dev xv0 altname second-out ||
	lib_bail "veth xv0 with altname second-out"
fault "second-out is xv0's altname: policy 2" 5 \
	"interface name \"second-out\" is taken: it is an alternative name of \"xv0\"" \
	"$JAILFW" apply "$P2"
ip link del xv0

# ---- /run/netns/second that is not a namespace of jailfw's
ns_unknown_cases second "$P2"

# ---- full /run/jailfw
full /run/jailfw || lib_bail "full /run/jailfw"
fault "full /run/jailfw: policy 2" 3 \
	"write state \"/run/jailfw/state\": No space left on device" "$JAILFW" apply "$P2"
fault "full /run/jailfw: down" 3 \
	"write state \"/run/jailfw/state\": No space left on device" "$JAILFW" down
# One page free: enough for the state this apply starts with, not for the
# one it would commit (200 more uid jails).  It must be refused before the
# ruleset commit, not after it.
truncate -s -4096 /run/jailfw/.fill
fault "one free page in /run/jailfw: policy 1 and 200 uid jails" 3 \
	"write state \"/run/jailfw/state\\.next\": No space left on device" "$JAILFW" apply "$PBIG"
unfull /run/jailfw

# ---- full /etc/netns
full /etc/netns || lib_bail "full /etc/netns"
fault "full /etc/netns: policy 2" 3 \
	"write /etc/netns/second/resolv\\.conf: No space left on device" "$JAILFW" apply "$P2"
unfull /etc/netns

# ---- every kind of write refused
injected "$P2" second 10.97.11

in_force "after every refused apply of policy 2"

# ================================================================ C: a namespace replaced

# Someone removed foobar's namespace and left a file in its place: exec
# refuses to run anything; down removes everything that is jailfw's and
# leaves the file alone (exit 5, named).
ip netns delete foobar
echo "not a namespace" >/run/netns/foobar
FILE_ID=$(stat -c '%i %s %Y' /run/netns/foobar)
fault "/run/netns/foobar replaced by a file: exec foobar" 5 \
	"/run/netns/foobar is not the namespace jailfw made for jail \"foobar\" \\(it is a regular file of 16 bytes" \
	"$JAILFW" exec foobar -- touch "$M/replaced"
check "exec into the replaced namespace: nothing ran" test ! -e "$M/replaced"
check_exit "/run/netns/foobar replaced by a file: down exits 5" 5 "$JAILFW" down
check_match "down names it" "$LIB_ERR" \
	"/run/netns/foobar is not the namespace jailfw made \\(it is a regular file of 16 bytes, nothing mounted on it\\); left alone"
check_eq "down left the file as it was" \
	"$(stat -c '%i %s %Y' /run/netns/foobar) $(cat /run/netns/foobar)" "$FILE_ID not a namespace"
check "down removed the rest: no table inet jailfw" sh -c '! nft list table inet jailfw'
check "down removed the rest: no state" test ! -e /run/jailfw/state
check_eq "down removed the rest: IPv4 forwarding off again" \
	"$(sysctl -n net.ipv4.conf.all.forwarding)" 0
rm -f /run/netns/foobar

lib_done
