#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate tune --proto udp over a scenario's two middleboxes with different
# UDP timeouts (picked at random, seeded, printed): one run, each
# middlebox's boundary just below its own timeout, the combined answer the
# smaller one, the loss allowance applied (m = 2 at 1 %), and a WireGuard line.
source "$(dirname "$0")/lib/runner.sh"

SEED=${TUNE_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
A=$(( 8 + RANDOM % 5 )); B=$(( A + 3 + RANDOM % 4 ))
echo "seed $SEED: udp timeouts ${A}s and ${B}s"
cat >"$WORK/two.ini" <<INI
[middlebox home]
profile = home-router-short
udp.assured = ${A}s
udp.unreplied = ${A}s
[middlebox cgn]
profile = azure-nat-gateway
udp.assured = ${B}s
udp.unreplied = ${B}s
[flow x]
proto = udp
idle = 1s
expect = alive
INI
"$IG" tune --proto udp --scenario "$WORK/two.ini" --loss 1% --json "$WORK/t.json" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "tune --proto udp: exit $rc"
grep -q 'PersistentKeepalive = ' "$WORK/out" || fail "no WireGuard line"
python3 - "$WORK/t.json" "$A" "$B" <<'PY' || fail "tune --proto udp: answer"
import json, sys
d = json.load(open(sys.argv[1])); A, B = int(sys.argv[2]), int(sys.argv[3])
p = {x["name"]: x["sweeps"][0] for x in d["profiles"]}
assert A - 2 <= p["home"]["boundary_s"] < A, p["home"]
assert B - 2 <= p["cgn"]["boundary_s"] < B, p["cgn"]
c = d["combined"]["heartbeat"]
assert c["boundary_s"] == p["home"]["boundary_s"], c
r = c["recommended"]
assert r["retries_for_loss"] == 2 and r["value_s"] == min(int(0.8 * c["boundary_s"]), c["boundary_s"] // 3), r
PY
pass "udp over two middleboxes: boundaries ${A}/${B}s found, combined takes the smaller, loss margin applied"
