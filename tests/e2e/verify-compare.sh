#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw compare: every property of docs/design.md ("What each backend
# confines") for every jail, uid and netns side by side, the current backend
# marked; --json; and --probe, which runs verify under both backends (each
# jail switched to the other one in a second sandbox) and fills the network
# rows with what the probes measured.  A sabotaged sandbox (test-only hook)
# makes --probe exit 6.
#
#   [ this script's sandbox netns ]
#      `- jailfw compare --probe -> verify sandbox: the policy as written
#                                -> verify sandbox: every jail switched
#                                   (uid -> netns 10.200.N.0/24, fd00:200:N::/64;
#                                    netns -> uid 64000+N)

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

if ! "$JAILFW" help compare >/dev/null 2>&1; then
	skip "verify-compare" "this jailfw has no compare command yet"
	lib_done
fi

# Every example policy, both backends measured: nothing contradicts it.
for src in "$LIB_ROOT"/policies/*.conf; do
	name=$(basename "$src")
	cp "$src" "$LIB_TMP/$name" && chmod 0644 "$LIB_TMP/$name"
	check_exit "policies/$name: compare --probe exits 0" 0 "$JAILFW" compare --probe "$LIB_TMP/$name"
	check_eq "policies/$name: no measured row contradicts the policy" \
		"$(printf '%s\n' "$LIB_OUT" | grep -ci 'contradict')" 0
done

cp "$LIB_ROOT/policies/writeup.conf" "$LIB_TMP/writeup.conf"
chmod 0644 "$LIB_TMP/writeup.conf"
P=$LIB_TMP/writeup.conf

check_exit "compare: exit 0" 0 "$JAILFW" compare "$P"
check_match "compare: psa-www's current backend (uid) is marked" "$LIB_OUT" \
	'^jail psa-www: backend uid'
check_match "compare: foobar's current backend (netns) is marked" "$LIB_OUT" \
	'^ +uid +netns \(current\)$'
for row in "egress allowlist" "loopback services" "abstract unix sockets" "the file system" \
	"other processes of the" "sockets opened before" "setuid helpers" \
	"inbound exposure" "other jails" "the host's own" "need for forwarding" \
	"per-packet cost" "how a process is"; do
	n=$(printf '%s\n' "$LIB_OUT" | grep -c "^  $row")
	check_eq "compare: row \"$row\" for both jails" "$n" 2
done

check_exit "compare --json: exit 0" 0 "$JAILFW" --json compare "$P"
ok=$(printf '%s\n' "$LIB_OUT" | "$LIB_PY" -I -c '
import json, sys
d = json.load(sys.stdin)
j = {x["jail"]: x for x in d["jails"]}
print(sorted(j) == ["foobar", "psa-www"] and j["psa-www"]["backend"] == "uid"
      and all(len(x["rows"]) == 13 and all(r["uid"] and r["netns"] for r in x["rows"])
              for x in d["jails"])
      and not d["probed"])
')
check_eq "compare --json: 13 rows per jail, both columns filled" "$ok" "True"
row()
{
	printf '%s\n' "$LIB_OUT" | "$LIB_PY" -I -c '
import json, sys
d = json.load(sys.stdin)
for x in d["jails"]:
    if x["jail"] == sys.argv[1]:
        for r in x["rows"]:
            if r["property"] == sys.argv[2]:
                print(r[sys.argv[3]])
' "$@"
}
check_match "compare: foobar's allowlist is named, as uid too" \
	"$(row foobar "egress allowlist" uid)" 'tcp/443 anywhere; tcp/80 to 192\.0\.2\.0/24, 2001:db8::/32'
check_match "compare: foobar's published port is named under netns" \
	"$(row foobar "inbound exposure" netns)" 'tcp/8080->80'
check_match "compare: psa-www's uid is named" "$(row psa-www "other processes of the same uid" uid)" \
	'uid 1099'
check_match "compare: foobar's to-host rules and veth address" \
	"$(row foobar "the host's own services" netns)" 'udp/53, tcp/53.*10\.97\.10\.1'

check_exit "compare --probe: exit 0" 0 "$JAILFW" compare --probe "$P"
n=$(printf '%s\n' "$LIB_OUT" | grep -c 'Measured:')
check_eq "compare --probe: two columns of measured rows start per network row" \
	"$((n >= 10))" 1
check_match "compare --probe: no measured row contradicts" \
	"$(printf '%s\n' "$LIB_OUT" | grep -c CONTRADICT)" '^0$'

check_exit "compare --probe --json: exit 0" 0 "$JAILFW" --json compare --probe "$P"
ok=$(printf '%s\n' "$LIB_OUT" | "$LIB_PY" -I -c '
import json, sys
d = json.load(sys.stdin)
good = d["probed"]
for x in d["jails"]:
    for r in x["rows"]:
        if r["network"]:
            m = r["measured"]
            good = good and m["uid"]["failed"] == 0 and m["netns"]["failed"] == 0
            good = good and m["uid"]["untestable"] == 0 and m["netns"]["untestable"] == 0
egress = [r for x in d["jails"] for r in x["rows"] if r["property"] == "egress allowlist"]
good = good and all(r["measured"]["uid"]["passed"] > 0 and r["measured"]["netns"]["passed"] > 0
                    for r in egress)
inbound = [r for x in d["jails"] if x["jail"] == "foobar" for r in x["rows"]
           if r["property"] == "inbound exposure"][0]["measured"]
good = good and inbound["netns"]["passed"] > 0 and inbound["uid"]["probes"] == 0
print(good)
')
check_eq "compare --probe --json: both backends measured, published port only under netns" \
	"$ok" "True"

export JAILFW_TEST_VERIFY_SABOTAGE='insert rule inet jailfw skuid_common accept'
check_exit "compare --probe with a sabotaged sandbox: exit 6" 6 "$JAILFW_TESTHOOKS" compare --probe "$P"
check_match "compare --probe: the contradiction is named with the backend it ran under" \
	"$LIB_ERR" 'error: compare: jail (psa-www|foobar) as uid: .* got through, but the policy drops it'
unset JAILFW_TEST_VERIFY_SABOTAGE

lib_done
