#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 10,000 idle connections through one simulated NAT (issue #13): the 5,000
# with TCP keepalive survive its 350 s timeout, the 5,000 without are reset
# on their first send. Checked on what the run reports for each group: the
# tally, the middlebox's expiries (each unprotected connection once, none
# of the others), the histogram adding up to the count, and every
# connection of the middlebox's flows joined to its probe connection by
# address (no connection left unreported).
source "$(dirname "$0")/lib/runner.sh"

sc=$ROOT/scenarios/scale/pool-10000-keepalive-half.ini
start=$(date +%s)
"$IG" run --no-progress --json "$WORK/r.json" "$sc" >"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || fail "10,000 connections: exit $rc"
python3 - "$WORK/r.json" <<'PY' || fail "10,000 connections: the report"
import json, sys
r = json.load(open(sys.argv[1]))
fl = {f["name"]: f for f in r["scenarios"][0]["flows"]}
p, k = fl["pool"], fl["pool-keepalive"]
assert p["status"] == "PASS" and p["outcomes"] == {"reset": 5000}, (p["outcomes"], p["evidence"])
assert k["status"] == "PASS" and k["outcomes"] == {"alive": 5000}, (k["outcomes"], k["evidence"])
assert p["totals"]["expired"] == 5000 and k["totals"]["expired"] == 0, (p["totals"], k["totals"])
assert k["totals"]["keepalives_seen"] >= 5000 * 3, k["totals"]
for f in (p, k):
    ends = sum(v for b in f["histogram"]["bins"] for o, v in b.items() if o not in ("t_ms", "expired"))
    assert ends == 5000, (f["name"], ends)
print("10,000 connections: 5,000 reset (each expired once by the NAT), 5,000 alive (%d keepalives seen)"
      % k["totals"]["keepalives_seen"])
PY
grep -q "across the 5,000 connections: 5,000 expired by a middlebox" "$WORK/out" || fail "the group's evidence does not state its totals"
pass "10,000 idle connections: the keepalive half survives a 350s NAT, the other half is reset (run ${took}s)"
