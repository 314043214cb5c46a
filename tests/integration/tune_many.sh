#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate tune over more candidates than the old cap of 64 flows: five
# middleboxes with TCP timeouts one second apart (the first picked at
# random, seeded, printed), kernel keepalive and heartbeat sweeps, every
# point of every grid in one run. Each middlebox's boundaries fall just
# below its own timeout, and the combined answer takes the smallest; 33
# middleboxes, one past the limit, are refused with the limit said.
source "$(dirname "$0")/lib/runner.sh"

SEED=${TUNE_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
T0=$(( 10 + RANDOM % 3 ))
N=5
echo "seed $SEED: tcp timeouts from ${T0}s, $N middleboxes"
{
	for i in $(seq 0 $(( N - 1 ))); do
		# half a second past the grid's whole seconds: a keepalive due at
		# the very millisecond of the expiry is a race (the kernel's
		# keepalive timer counts in jiffies), not an answer
		printf '[middlebox m%d]\nprofile = aws-nat-gateway\ntcp.established = %d.5s\n' "$i" $(( T0 + i ))
	done
	printf '[flow x]\nidle = 1s\nexpect = alive\npath = m0\n'
} >"$WORK/five.ini"
# one middlebox past the limit is refused at once, saying the limit
{
	for i in $(seq 0 32); do printf '[middlebox m%d]\nprofile = aws-nat-gateway\n' "$i"; done
	printf '[flow x]\nidle = 1s\nexpect = alive\npath = m0\n'
} >"$WORK/33.ini"
"$IG" tune --scenario "$WORK/33.ini" >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "33 middleboxes not refused with exit 2"
grep -q 'at most 32 middleboxes at once' "$WORK/out" || fail "33 middleboxes: message"

start=$(date +%s)
"$IG" tune --scenario "$WORK/five.ini" --json "$WORK/t.json" >"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || fail "tune over $N middleboxes: exit $rc"
grep -Eq 'idlegate tune: [0-9]+ candidates in one run' "$WORK/out" || fail "no candidate count"
python3 - "$WORK/t.json" "$T0" "$N" <<'PY' || fail "tune over $N middleboxes: answer"
import json, sys
d = json.load(open(sys.argv[1])); T0, N = int(sys.argv[2]), int(sys.argv[3])
total = sum(len(s["candidates"]) for p in d["profiles"] for s in p["sweeps"])
assert total > 64, f"{total} candidates: not more than 64"
assert len(d["profiles"]) == N, d["profiles"]
for i, p in enumerate(d["profiles"]):
    T, ms = T0 + i, (T0 + i) * 1000 + 500     # the timeout: T.5 s
    assert len(p["sweeps"]) == 2, p
    for s in p["sweeps"]:
        # every grid point from 25 % to 130 % of the timeout (1 s steps)
        vals = [c["value_s"] for c in s["candidates"]]
        assert vals[0] == ms * 25 // 100 // 1000 and vals[-1] == ms * 130 // 100 // 1000, (p["name"], vals)
        assert T - 2 <= s["boundary_s"] < ms / 1000, (p["name"], s["kind"], s["boundary_s"], ms)
for kind, c in d["combined"].items():
    assert c["boundary_s"] < T0 + 0.5, (kind, c)
print(f"{total} candidates")
PY
pass "tune: $(grep -Eo '[0-9]+ candidates' "$WORK/out" | head -1) over $N middleboxes in one run of $took s, each boundary below its own timeout"
