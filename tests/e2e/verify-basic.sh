#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# jailfw verify, end to end: the write-up policy and every template (each
# wrapped in a uid jail and a netns jail, IPv4 and IPv6) hold; a sandbox
# ruleset sabotaged between apply and the probes (through the test-only
# hook JAILFW_TEST_VERIFY_SABOTAGE) makes verify exit 6 and name the probe
# that failed; and verify leaves the namespace it runs in exactly as it
# found it, Ctrl-C included.
#
# verify builds its own world; this script's sandbox is only the outer
# wall, and the "machine" whose state the checks compare:
#
#   [ this script's sandbox netns: lo only, no tables ]
#      `- jailfw verify  ->  [ verify's host netns ] wan0 --- eth0 [ internet ]
#                                 |  NAME-out --- NAME-in [ jail NAME ] ...
#
# What is asserted is the exit status, the probe named, and the kernel
# state of this namespace (links, namespaces, tables, sysctls, mounts)
# before and after.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
lib_enter_sandbox "$@"

if ! "$JAILFW" help verify >/dev/null 2>&1; then
	skip "verify-basic" "this jailfw has no verify command yet"
	lib_done
fi

# The state verify must not change.
state()
{
	ip -o link show | awk -F': ' '{print $2}' | sort
	ip -o addr show | awk '{print $2, $4}' | sort
	ip route show table all 2>/dev/null | sort
	nft list ruleset
	ls -A /run/netns /run/jailfw /etc/netns
	cat /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv6/conf/all/forwarding
	wc -l </proc/self/mountinfo
}

# write_policy NAME TEXT: a policy file jailfw accepts (not writable by others).
write_policy()
{
	printf '%s\n' "$2" >"$LIB_TMP/$1"
	chmod 0644 "$LIB_TMP/$1"
}

before=$(state)

# ---------------------------------------------------------------- holds

# Every example policy holds, whatever else is checked on writeup.conf below.
for src in "$LIB_ROOT"/policies/*.conf; do
	name=$(basename "$src")
	cp "$src" "$LIB_TMP/$name" && chmod 0644 "$LIB_TMP/$name"
	check_exit "policies/$name: verify exits 0" 0 "$JAILFW" verify "$LIB_TMP/$name"
	bad=$(printf '%s\n' "$LIB_OUT" | grep -Ev '^(JAIL|verify:|note:)' | grep -Ev ' ok$')
	check_eq "policies/$name: every row is ok" "$bad" ""
done

cp "$LIB_ROOT/policies/writeup.conf" "$LIB_TMP/writeup.conf"
chmod 0644 "$LIB_TMP/writeup.conf"

check_exit "writeup.conf: verify exits 0" 0 "$JAILFW" verify "$LIB_TMP/writeup.conf"
check_match "writeup.conf: the summary says the policy holds" "$LIB_OUT" \
	'^verify: the policy holds: [0-9]+ probes in 2 jails'
check_match "writeup.conf: psa-www's udp/123 passes, IPv6 too" "$LIB_OUT" \
	'^psa-www +udp \[2001:db8::99\]:123 \(allow udp/123, writeup.conf:[0-9]+\) +pass +pass +ok'
check_match "writeup.conf: foobar's published port is probed from the internet" "$LIB_OUT" \
	'^foobar +tcp 192\.0\.2\.1:8080 \(publish tcp/8080:80, writeup.conf:[0-9]+\) +pass +pass +ok'
bad=$(printf '%s\n' "$LIB_OUT" | grep -Ev '^(JAIL|verify:)' | grep -Ev ' ok$')
check_eq "writeup.conf: every row is ok" "$bad" ""

check_exit "writeup.conf: --json exits 0" 0 "$JAILFW" --json verify "$LIB_TMP/writeup.conf"
json_ok=$(printf '%s\n' "$LIB_OUT" | "$LIB_PY" -I -c '
import json, sys
d = json.load(sys.stdin)
p = d["probes"]
bad = [x for x in p if x["result"] != "ok"]
fams = set(":" in x["dst"] for x in p)
print(d["summary"]["holds"] and len(p) > 20 and not bad and fams == {True, False})
')
check_eq "writeup.conf: --json rows, both families, all ok" "$json_ok" "True"

# A policy file's name can hold any byte but '/': it reaches the JSON in
# each probe's "policy" and "why" and in the notes (10.97.10.2 is jail n's
# own address: not probed, a note says so).  The name below is cut
# inside a character in "why" (its buffer holds 111 bytes); the document
# is UTF-8 all the same, U+FFFD where the text was not.
ANY=$LIB_ANY_BYTES$(printf '\342\202\254%.0s' $(seq 40))
write_policy "$ANY.conf" "jail u {
	backend uid
	user 1099
	allow udp/123 to 198.51.100.7
	allow tcp/80 to 10.97.10.2
}
jail n {
	backend netns
	ipv4 10.97.10.0/24
}"
check_exit "a policy named with any bytes: --json exits 0" 0 \
	"$JAILFW" --json verify "$LIB_TMP/$ANY.conf"
# What jailfw wrote, cut as it cuts, read as a JSON reader reads it.
any_ok=$(printf '%s' "$LIB_OUT" | "$LIB_PY" -I -c '
import json, os, sys
d = json.loads(sys.stdin.buffer.read().decode("utf-8"))
raw = os.fsencode(sys.argv[1])
path, base = raw.decode("utf-8", "replace"), os.path.basename(raw)
why = (b"allow udp/123 to 198.51.100.7, " + base + b":4")[:111].decode("utf-8", "replace")
print(all(p["policy"] == path + ":" + p["policy"].rsplit(":", 1)[1] for p in d["probes"]),
      why.endswith("\ufffd") and why in [p["why"] for p in d["probes"]],
      any(base.decode("utf-8", "replace") + ":5: jail u: no address" in n for n in d["notes"]))
' "$LIB_TMP/$ANY.conf")
check_eq "... UTF-8 JSON naming the file in policy, why (cut mid-character) and notes" \
	"$any_ok" "True True True"
# render --json is libnftables' JSON: the rule comments name the file with
# every byte outside a safe ASCII set as '_' (src/render.c).
check_eq "... render --json: UTF-8 JSON, the file in the comments as q_b_" \
	"$("$JAILFW" --json render "$LIB_TMP/$ANY.conf" | lib_json \
		'any(x["rule"].get("comment", "").startswith("q_b_") for x in d["nftables"] if "rule" in x)')" \
	"true"

for t in "$JAILFW_TEMPLATE_PATH"/*.conf; do
	name=$(basename "$t" .conf)
	uid_jail="jail u {
	backend uid
	user 1099
	use $name
}"
	wrap="a uid and a netns jail"
	# A uid jail cannot publish (check refuses it): a template that
	# publishes (web-server) goes in the netns jail only.
	if grep -Eq '^[[:space:]]*publish[[:space:]]' "$t"; then
		uid_jail=
		wrap="a netns jail"
	fi
	write_policy "tmpl-$name.conf" "$uid_jail
jail n {
	backend netns
	ipv4 10.97.10.0/24
	ipv6 fd00:97::3:0/112
	use $name
}"
	check_exit "template $name in $wrap: verify exits 0" 0 \
		"$JAILFW" verify "$LIB_TMP/tmpl-$name.conf"
	if [ -n "$uid_jail" ]; then
		check_match "template $name: both jails probed, both families" "$LIB_OUT" \
			'^n +[a-z]+ \[2001:db8::99\]'
		continue
	fi
	check_match "template $name: its published ports are probed over IPv6 too" "$LIB_OUT" \
		'^n +(tcp|udp) \[[0-9a-f:]+\]:[0-9]+ \(publish '
	write_policy "tmpl-$name-uid.conf" "jail u {
	backend uid
	user 1099
	use $name
}"
	check_exit "template $name in a uid jail: refused (exit 1)" 1 \
		"$JAILFW" check "$LIB_TMP/tmpl-$name-uid.conf"
done

# ---------------------------------------------------------------- sabotage

export JAILFW_TEST_VERIFY_SABOTAGE='insert rule inet jailfw skuid_common accept'
check_exit "sabotage: uid jails unconfined: exit 6" 6 "$JAILFW_TESTHOOKS" verify "$LIB_TMP/writeup.conf"
check_match "sabotage: the error names the near miss that got through" "$LIB_ERR" \
	'writeup.conf:[0-9]+:[0-9]+: error: verify: jail psa-www: udp 192\.0\.2\.99:124 \(another port\) got through, but the policy drops it'
check_match "sabotage: the table marks it FAIL" "$LIB_OUT" \
	'^psa-www +udp 192\.0\.2\.99:124 \(another port\) +drop +pass +FAIL'
check_match "sabotage: the test hook announces itself" "$LIB_ERR" 'JAILFW_TEST_VERIFY_SABOTAGE'

export JAILFW_TEST_VERIFY_SABOTAGE='flush chain inet jailfw dst_any'
check_exit "sabotage: dst_any flushed: exit 6" 6 "$JAILFW_TESTHOOKS" verify "$LIB_TMP/writeup.conf"
check_match "sabotage: the error names the allow rule that was dropped" "$LIB_ERR" \
	'error: verify: jail psa-www: udp 192\.0\.2\.99:123 \(allow udp/123, writeup.conf:[0-9]+\) was dropped, but the policy allows it'

export JAILFW_TEST_VERIFY_SABOTAGE='insert rule inet jailfw net_common accept'
check_exit "sabotage: netns jails unconfined: exit 6" 6 "$JAILFW_TESTHOOKS" verify "$LIB_TMP/writeup.conf"
check_match "sabotage: the forwarded near miss is named" "$LIB_ERR" \
	'error: verify: jail foobar: tcp 198\.51\.100\.99:80 \(another address\) got through'
unset JAILFW_TEST_VERIFY_SABOTAGE

# ---------------------------------------------------------------- cleanup

# Ctrl-C in the middle of a run: 130, and no process of it is left.
"$JAILFW" verify "$LIB_TMP/writeup.conf" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -INT "$pid"
wait "$pid"
rc=$?
check_eq "Ctrl-C: verify exits 130" "$rc" 130
sleep 0.3
check_eq "Ctrl-C: no process of verify is left" "$(pgrep -c -f "$JAILFW verify")" 0

after=$(state)
if [ "$before" = "$after" ]; then
	pass "verify left this namespace as it found it (links, addresses, routes, ruleset, namespaces, state, sysctls, mounts)"
else
	fail "verify changed this namespace" "$(diff <(echo "$before") <(echo "$after"))"
fi

lib_done
