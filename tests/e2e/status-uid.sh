#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw status with uid jails: what it reports is what the kernel holds.
# Real traffic moves the counters, and status shows exactly nft's own
# counters (text and --json).  Drift from what jailfw applied is found and
# named, one line each, with exit status 1: a hand-added map element, a
# hand-edited jail chain, a chain added by hand (one named with any bytes:
# --json stays UTF-8), a dormant table, a deleted table, a table of the
# name that is not jailfw's.  apply again puts it right (exit 0).  Without
# CAP_NET_ADMIN status exits 4, before nothing applied it exits 0.
#
#   [ sandbox netns = "host" ]  wan0 ---veth--- eth0  [ netns "net" = the internet ]
#     192.0.2.1/24      2001:db8:1::1/64              192.0.2.2/24      2001:db8:1::2/64
#     198.51.100.1/24   2001:db8:2::1/64              198.51.100.2/24   2001:db8:2::2/64
#     jailfw runs here; jail "web" = uid 1099         listeners (dual stack): tcp 80,
#     (udp/123 only), jail "db" = uid 1100             udp 123
#     (tcp/5432 only)

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

T=jailfw
N4=192.0.2.2
N6=2001:db8:1::2

# jail_counts JAIL: "ACC_PKTS ACC_BYTES DROP_PKTS DROP_BYTES" from status --json.
jail_counts()
{
	"$JAILFW" status --json | lib_json \
		"' '.join(str(x) for j in d['jails'] if j['name'] == '$1' for x in
		 (j['accepted']['packets'], j['accepted']['bytes'], j['dropped']['packets'],
		  j['dropped']['bytes']))"
}

# text_counts JAIL: "ACCEPTED DROPPED" (packets/bytes) from the text report.
text_counts()
{
	"$JAILFW" status | awk -v j="$1" '$1 == j { print $3, $4 }'
}

# same_counts NAME JAIL CHAIN: status (--json and text) agrees with nft.
same_counts()
{
	local name=$1 jail=$2 chain=$3 want got a

	want=$(lib_nft_jail_counters $T "$chain")
	got=$(jail_counts "$jail")
	check_eq "$name: status --json equals nft's counters of $chain" "$got" "$want"
	read -r -a a <<<"$want"
	check_eq "$name: the text report shows the same" "$(text_counts "$jail")" \
		"${a[0]}/${a[1]} ${a[2]}/${a[3]}"
}

status_exit()
{
	"$JAILFW" status >"$LIB_TMP/status.out" 2>&1
}

# drifted NAME ERE: status exits 1 and has a drift line matching ERE.
drifted()
{
	check_exit "$1: status exits 1" 1 "$JAILFW" status
	check_match "$1: status names it" "$LIB_OUT" "^drift: $2"
}

clean()
{
	check_exit "$1: status exits 0" 0 "$JAILFW" status
	check_eq "$1: no drift line" "$(printf '%s\n' "$LIB_OUT" | grep -c '^drift:')" 0
}

lib_internet
lib_serve net internet "tcp:[::]:80" "udp:[::]:123" || lib_bail "listeners in net"

P=$LIB_TMP/status.conf
cat >"$P" <<'EOF'
# status-uid
jail web {
	backend uid
	user 1099
	allow udp/123
}

jail db {
	backend uid
	user 1100
	allow tcp/5432
}
EOF

# ---------------------------------------------------------------- nothing yet

check_exit "before apply: status exits 0" 0 "$JAILFW" status
check_match "before apply: says nothing is applied" "$LIB_OUT" \
	"^table inet jailfw: not there; nothing applied$"
check_eq "before apply: --json says absent" \
	"$("$JAILFW" status --json | lib_json '[d["table_state"], d["applied"], len(d["jails"])]')" \
	'["absent", false, 0]'
check_exit "without CAP_NET_ADMIN: status exits 4" 4 lib_as 1100 "$JAILFW" status
check_match "without CAP_NET_ADMIN: names the capability" "$LIB_ERR" "CAP_NET_ADMIN"

# ---------------------------------------------------------------- in force

check "apply" "$JAILFW" apply "$P" || lib_bail "apply failed"
clean "after apply"
check_match "after apply: in force, as applied" "$LIB_OUT" \
	"^table inet jailfw: in force, as jailfw applied it \(2 jails: 2 uid, 0 netns\)$"
check_match "after apply: web is a uid jail of uid 1099" "$LIB_OUT" "^web +uid +0/0 +0/0 +uid 1099$"
check_match "after apply: db is a uid jail of uid 1100" "$LIB_OUT" "^db +uid +0/0 +0/0 +uid 1100$"
check_eq "--json: schema and version" \
	"$("$JAILFW" status --json | lib_json '[d["schema"], d["version"], d["table_state"], d["drift"]]')" \
	'["jailfw-status", 1, "jailfw", []]'

# ---------------------------------------------------------------- counters

check_reach "web: udp/123 v4 arrives" 1099 udp $N4 123
check_reach "web: udp/123 v6 arrives" 1099 udp $N6 123
check_dropped "web: tcp/80 is dropped" $T uid_web 1099 tcp $N4 80
ACC=$(jail_counts web | cut -d' ' -f1)
DROP=$(jail_counts web | cut -d' ' -f3)
check "web: accepted packets counted (udp there and back: >= 2)" test "${ACC:-0}" -ge 2
check "web: dropped packets counted" test "${DROP:-0}" -ge 1
same_counts "web after traffic" web uid_web
same_counts "db, no traffic" db uid_db
check_eq "db: nothing counted" "$(jail_counts db)" "0 0 0 0"
check_reach "web: more udp/123" 1099 udp $N4 123
check "web: the accepted counter moved" test "$(jail_counts web | cut -d' ' -f1)" -gt "$ACC"
same_counts "web after more traffic" web uid_web

# ---------------------------------------------------------------- drift

# A hand-added allow element: the set is no longer what jailfw committed.
nft add element inet $T uid_ports '{ 1099 . tcp . 80 : jump dst_any }' ||
	lib_bail "nft add element"
drifted "hand-added element" "table inet jailfw was changed since jailfw applied it: set uid_ports modified$"
check_eq "hand-added element: --json says changed" \
	"$("$JAILFW" status --json | lib_json '[[x["kind"] for x in d["drift"]], d["changed"]]')" \
	'[["table-changed"], true]'
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after the element"
check_dropped "re-applied: web's tcp/80 is dropped again" $T uid_web 1099 tcp $N4 80

# A hand-edited jail chain.
nft insert rule inet $T uid_db accept || lib_bail "nft insert rule"
drifted "hand-edited chain" "table inet jailfw was changed since jailfw applied it: chain uid_db modified$"
# A chain added by hand.
nft add chain inet $T extra || lib_bail "nft add chain"
drifted "hand-added chain" "table inet jailfw was changed since jailfw applied it: chain extra added, chain uid_db modified$"
# One named with any bytes (the kernel takes them): --json is still UTF-8
# and names it, U+FFFD where its name is not UTF-8.
lib_nft_add_chain_raw $T "$LIB_ANY_BYTES" || lib_bail "add a chain named with any bytes"
check_eq "a chain named with any bytes: status --json parses and names it" \
	"$("$JAILFW" status --json | lib_json 'd["drift"][0]["message"]')" \
	"$(lib_utf8_replace "table inet jailfw was changed since jailfw applied it: chain extra added, chain $LIB_ANY_BYTES added, chain uid_db modified")"
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after the chain edits"

# apply leaves its record "pending" and the first reader of the table takes
# the kernel's digests: from the live table when nothing was committed
# since, else from the committed text loaded in a throwaway namespace.
# Someone else's commit in between must neither hide a hand edit nor
# invent one.
nft insert rule inet $T uid_web accept || lib_bail "nft insert rule"
check "apply again" "$JAILFW" apply "$P"
check_match "the record apply wrote is pending" "$(cat /run/jailfw/committed-$T)" "^pending$"
nft add table inet bystander || lib_bail "nft add table bystander"
clean "another table committed before the first status"
check_exit "the first status settled the record" 1 grep -qx pending /run/jailfw/committed-$T
nft insert rule inet $T uid_web accept || lib_bail "nft insert rule"
check "apply again" "$JAILFW" apply "$P"
check_match "re-applied: the record is pending again" "$(cat /run/jailfw/committed-$T)" "^pending$"
nft add table inet bystander2 || lib_bail "nft add table bystander2"
nft insert rule inet $T uid_db accept || lib_bail "nft insert rule"
drifted "hand edit after another table's commit" \
	"table inet jailfw was changed since jailfw applied it: chain uid_db modified$"
nft delete table inet bystander && nft delete table inet bystander2 || lib_bail "nft delete"
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after the bystanders"

# Dormant: the table is there but none of it applies.
nft add table inet $T '{ flags dormant; }' || lib_bail "set the table dormant"
drifted "dormant table" "table inet jailfw is dormant: none of its rules are in force$"
check_eq "dormant table: that is the only drift" "$(printf '%s\n' "$LIB_OUT" | grep -c '^drift:')" 1
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after dormant"

# Quiet: only the drift lines.
nft delete table inet $T || lib_bail "nft delete table"
check_exit "deleted table: status -q exits 1" 1 "$JAILFW" -q status
check_eq "deleted table: status -q prints only the drift" "$LIB_OUT" \
	"drift: table inet jailfw is missing: jailfw applied it, and it was deleted since"
drifted "deleted table" "table inet jailfw is missing: jailfw applied it, and it was deleted since$"
check_match "deleted table: the jails are listed as not in the table" "$LIB_OUT" \
	"^web +uid +0/0 +0/0 +uid 1099 \(not in the table\)$"
check_eq "deleted table: --json" \
	"$("$JAILFW" status --json | lib_json '[d["table_state"], [x["kind"] for x in d["drift"]]]')" \
	'["absent", ["table-missing"]]'

# Someone else's table of jailfw's name.
nft add table inet $T || lib_bail "nft add table"
drifted "foreign table" "table inet jailfw is not jailfw's"
nft delete table inet $T
check "apply again" "$JAILFW" apply "$P"
clean "re-applied after the deletion"

# ---------------------------------------------------------------- down

check "down" "$JAILFW" down
check_exit "after down: status exits 0" 0 "$JAILFW" status
check_match "after down: nothing applied" "$LIB_OUT" "^table inet jailfw: not there; nothing applied$"

lib_done
