#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw diff POLICY shows what apply would change and changes nothing.
# Nothing applied yet: the whole table and the jail's creation, exit 1.
# The policy in force: no output, exit 0.  A changed allowlist, an added
# uid jail, an added netns jail, a removed netns jail: exit 1 and exactly
# that change, under the name of the chain or map it touches, with the
# provisioning it needs.  After every diff the ruleset (counters
# included), links, addresses, routes, namespaces, sysctls and jailfw's
# state files are exactly as before.  A table of the policy's name that is
# not jailfw's: exit 5.
#
#                     [ netns "net" = the internet ]
#                       eth0 192.0.2.2/24  2001:db8:1::2/64
#                                  |
#   [ sandbox netns = "host" ] wan0 192.0.2.1/24  2001:db8:1::1/64
#     jailfw runs here; uid jail "web" (1099), later "db" (1100)
#       |                              (diff only, never applied:)
#     box-out 10.97.10.1/24            nbox-out 10.97.12.1/24
#       |
#     box-in 10.97.10.2
#   [ jail "box" ]

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

WEB='jail web {\n\tbackend uid\n\tuser 1099\n\tallow udp/%s\n}\n'
DB='jail db {\n\tbackend uid\n\tuser 1100\n\tallow tcp/5432\n}\n'
BOX='jail box {\n\tbackend netns\n\tipv4 10.97.10.0/24\n\tallow tcp/443\n}\n'
NBOX='jail nbox {\n\tbackend netns\n\tipv4 10.97.12.0/24\n\tallow tcp/443\n}\n'

# policy FORMAT [ARGS]: rewrite $P, as an administrator edits the policy:
# the settings block, then the jails.  PAD=1 adds a comment line on top.
P=
policy()
{
	{
		[ -z "${PAD:-}" ] || printf '# a new first line: every line below moves\n'
		printf '# diff-policy\nsettings {\n\twan wan0\n}\n'
		# shellcheck disable=SC2059 # the jails are formats
		printf "$@"
	} >"$P"
}

# has_line NAME LINE: the last diff printed LINE exactly (tabs included).
has_line()
{
	if printf '%s\n' "$LIB_OUT" | grep -qxF -- "$2"; then
		pass "$1"
	else
		fail "$1" "no line '$2' in:" "$LIB_OUT"
	fi
}

lib_wan_internet
# wan0's and eth0's link-local addresses end their duplicate address
# detection a second or so after they are made: the snapshot below would
# see them change (it did, under load).
for ns in "" net; do
	lib_wait_for 30 lib_no_tentative "$ns" || lib_bail "'$ns' did not settle"
done

P=$LIB_TMP/jailfw.conf
policy "$WEB$BOX" 123
cp "$P" "$LIB_TMP/applied.conf"

# ---------------------------------------------------------------- nothing applied

lib_snapshot_before
check_exit "nothing applied: diff exits 1" 1 "$JAILFW" diff "$P"
has_line "nothing applied: the table header" "--- table inet jailfw (not there)"
has_line "nothing applied: web's chain is added" "@@ chain uid_web: added @@"
has_line "nothing applied: with its counted drop" \
	"$(printf '+\t\tcounter drop comment "jailfw.conf:5"')"
has_line "nothing applied: box's chain is added" "@@ chain fwd_box: added @@"
has_line "nothing applied: provisioning follows" "provisioning:"
check_match "nothing applied: box would be created" "$LIB_OUT" "^  create jail box: namespace box, veth box-out/box-in"
check_match "nothing applied: forwarding would be turned on, on the wan" "$LIB_OUT" \
	"^  set net\.ipv4\.conf\.wan0\.forwarding = 1 \(was 0\)"
check_untouched "nothing applied"
check "nothing applied: no namespace box" test ! -e /run/netns/box

# ---------------------------------------------------------------- in force

check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
# The host side's link-local address too: its duplicate address detection
# ends a second or so after apply, which would read as a change.
for ns in "" box; do
	lib_wait_for 30 lib_no_tentative "$ns" || lib_bail "'$ns' did not settle"
done
ip netns exec box sysctl -qw net.ipv6.conf.box-in.router_solicitations=0
# Some traffic, so that the counters have values diff must not touch.
lib_serve net internet "tcp:[::]:443" || lib_bail "listener in net"
check_reach_ns "box reaches tcp/443" box tcp 192.0.2.2 443
sleep 1
lib_snapshot_before
check "the ruleset has non-zero counters" grep -q "counter packets [1-9]" "$LIB_TMP/before/ruleset"

check_exit "the policy in force: diff exits 0" 0 "$JAILFW" diff "$P"
check_eq "the policy in force: no output" "$LIB_OUT" ""
check_eq "the policy in force: nothing on stderr" "$LIB_ERR" ""
check_untouched "the policy in force"

# ---------------------------------------------------------------- changes

PAD=1 policy "$WEB$BOX" 123
# 31: 27 in the inet table, 4 in the arp table (arp_from's and jail_nets4's
# elements, arpj_box's two rules).
check_exit "only lines moved: diff exits 1 (apply would reload)" 1 "$JAILFW" diff "$P"
check_eq "only lines moved: one summary, no rule shown" \
	"$(printf '%s\n' "$LIB_OUT" | grep -v '^[-+]\{3\} ')" \
	"$(printf '@@ comments @@\n# 31 rules and elements differ only in their comment (the policy line they name moved)')"
check_untouched "only lines moved"

policy "$WEB$BOX" 124
check_exit "changed allowlist: diff exits 1" 1 "$JAILFW" diff "$P"
has_line "changed allowlist: under map uid_ports" "@@ map uid_ports @@"
has_line "changed allowlist: the old element" \
	"$(printf -- '-\t\t\t1099 . udp . 123 comment "jailfw.conf:8" : jump dst_any')"
has_line "changed allowlist: the new element" \
	"$(printf '+\t\t\t1099 . udp . 124 comment "jailfw.conf:8" : jump dst_any')"
check_eq "changed allowlist: nothing else changes" \
	"$(printf '%s\n' "$LIB_OUT" | grep '^@@')" "@@ map uid_ports @@"
check_eq "changed allowlist: no provisioning" \
	"$(printf '%s\n' "$LIB_OUT" | grep -c '^provisioning:')" 0
check_exit "changed allowlist: diff -q exits 1" 1 "$JAILFW" -q diff "$P"
check_eq "changed allowlist: diff -q prints nothing" "$LIB_OUT" ""
check_untouched "changed allowlist"

policy "$WEB$BOX$DB" 123
check_exit "added uid jail: diff exits 1" 1 "$JAILFW" diff "$P"
has_line "added uid jail: its chain" "@@ chain uid_db: added @@"
has_line "added uid jail: its dispatch element" \
	"$(printf '+\t\t\t1100 comment "jailfw.conf:15" : jump uid_db')"
has_line "added uid jail: its allowlist element" \
	"$(printf '+\t\t\t1100 . tcp . 5432 comment "jailfw.conf:18" : jump dst_any')"
check_untouched "added uid jail"

policy "$WEB$BOX$NBOX" 123
check_exit "added netns jail: diff exits 1" 1 "$JAILFW" diff "$P"
has_line "added netns jail: its forward chain" "@@ chain fwd_nbox: added @@"
check_match "added netns jail: it would be created" "$LIB_OUT" \
	"^  create jail nbox: namespace nbox, veth nbox-out/nbox-in"
check_eq "added netns jail: box is not touched" \
	"$(printf '%s\n' "$LIB_OUT" | grep -c '^  .* box[: ]')" 0
check_untouched "added netns jail"
check "added netns jail: no namespace nbox" test ! -e /run/netns/nbox

policy "$WEB" 123
check_exit "removed netns jail: diff exits 1" 1 "$JAILFW" diff "$P"
has_line "removed netns jail: its chain" "@@ chain fwd_box: removed @@"
has_line "removed netns jail: the forward hook goes too" "@@ chain forward: removed @@"
check_match "removed netns jail: it would be torn down" "$LIB_OUT" "^  remove jail box"
check_untouched "removed netns jail"
check "removed netns jail: box is still there" test -e /run/netns/box

# ---------------------------------------------------------------- not jailfw's

printf "settings {\n\ttable other\n}\n$WEB" 123 >"$P"
nft add table inet other || lib_bail "nft add table"
check_exit "foreign table: diff exits 5" 5 "$JAILFW" diff "$P"
check_match "foreign table: says apply would refuse" "$LIB_ERR" "table inet other .*not made by jailfw"
nft delete table inet other

lib_done
