#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate run on more flow sections than the old fixed arrays held (64):
# 300 [flow] sections on one path through a NAT that forgets after 120 s
# (scaled 1/40: 3 s), half kept alive by keepalive, half not. Their results come
# back from the worker whole (no flow lost or misnamed), and every report
# carries all 300: the JSON, JUnit testcases, TAP plan, HTML rows, the SVG.
source "$(dirname "$0")/lib/runner.sh"

N=${RUN_MANY_N:-300}   # RUN_MANY_N=1000, the limit, runs too (about 11 s)
{
	printf '[scenario]\ndescription = test: %d flow sections\ntime_scale = 1/40\n' $N
	printf '[middlebox nat]\nprofile = aws-nat-gateway\ntcp.established = 120s\n'
	for i in $(seq 1 $N); do
		if [ $(( i % 2 )) -eq 0 ]; then
			printf '[flow ka-%d]\nkeepalive = 40s,40s,3\nidle = 240s\nexpect = alive\n' "$i"
		else
			printf '[flow off-%d]\nkeepalive = off\nidle = 240s\nexpect = reset\n' "$i"
		fi
	done
} >"$WORK/many.ini"
"$IG" check "$WORK/many.ini" >"$WORK/out" 2>&1 || fail "check of $N flow sections: exit $?"
start=$(date +%s)
"$IG" run --no-progress --json "$WORK/r.json" --junit "$WORK/r.xml" --tap --html "$WORK/r.html" \
	--svg "$WORK/svg" "$WORK/many.ini" >"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || fail "$N flow sections: exit $rc"
python3 - "$WORK/r.json" "$N" <<'PY' || fail "$N flow sections: JSON report"
import json, sys
r = json.load(open(sys.argv[1])); n = int(sys.argv[2])
fl = r["scenarios"][0]["flows"]
assert len(fl) == n, len(fl)
names = {f["name"] for f in fl}
assert names == {f"ka-{i}" if i % 2 == 0 else f"off-{i}" for i in range(1, n + 1)}, "names"
bad = [f for f in fl if f["status"] != "PASS"]
assert not bad, bad[:3]
assert all(f["observed"] == ("alive" if f["name"].startswith("ka-") else "reset") for f in fl)
PY
[ "$(grep -c '<testcase ' "$WORK/r.xml")" -eq $N ] || fail "JUnit: not $N testcases"
grep -qx "1..$N" "$WORK/out" || fail "TAP: no plan of $N"
[ "$(grep -c '^ok ' "$WORK/out")" -eq $N ] || fail "TAP: not $N ok lines"
[ "$(grep -o '<tr class="PASSrow">' "$WORK/r.html" | wc -l)" -eq $(( 2 * N )) ] || fail "HTML: not $N rows twice"
xmllint --noout "$WORK"/svg/many.svg || fail "SVG not well formed"
grep -q "ka-$N" "$WORK"/svg/many.svg || fail "SVG: no lane of the last flow"
pass "$N flow sections: every one PASS, in every report, in $took s"
