#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate run end to end: the quickstart example passes (exit 0, both flows
# PASS in the JSON report); a scenario engineered to fail exits 1 and says
# why; --shard picks files; a flow with command=/server_command= runs real
# programs through the path; a simulator that dies mid-run makes the run an
# ERROR (exit 3), never a pass or fail; without root it exits 3 and says so.
source "$(dirname "$0")/lib/runner.sh"

# -- the quickstart example, with every report ------------------------------
"$IG" run --json "$WORK/r.json" --junit "$WORK/r.xml" --tap --svg "$WORK/svg" \
	"$ROOT/scenarios/examples/quickstart.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "quickstart: exit $rc"
python3 - "$WORK/r.json" <<'PY' || fail "quickstart: JSON report"
import json, sys
r = json.load(open(sys.argv[1]))
fl = {f["name"]: f for f in r["scenarios"][0]["flows"]}
assert fl["no-keepalive"]["status"] == "PASS" and fl["no-keepalive"]["observed"] == "reset", fl
assert fl["keepalive-60s"]["status"] == "PASS" and fl["keepalive-60s"]["observed"] == "alive", fl
assert "RST" in fl["no-keepalive"]["evidence"], fl
PY
grep -q '^ok .*no-keepalive' "$WORK/out" || fail "quickstart: TAP lacks the flow"
grep -q 'testcase' "$WORK/r.xml" || fail "quickstart: JUnit report"
ls "$WORK"/svg/*.svg >/dev/null 2>&1 || fail "quickstart: no SVG"
[ -z "$(ls -d "$WORK"/idlegate-run-* 2>/dev/null)" ] || fail "quickstart: run directory left"
pass "quickstart: exit 0, both flows PASS, reports written"

# -- a scenario engineered to fail --------------------------------------------
fast_scenario "$WORK/fails.ini" alive
"$IG" run --no-progress "$WORK/fails.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "failing scenario: exit $rc, expected 1"
grep -q 'FAIL' "$WORK/out" || fail "failing scenario: no FAIL in the report"
grep -Eq 'alive +reset +FAIL' "$WORK/out" || fail "failing scenario: expected/observed not in the report"
grep -Eq 'RST \(ECONNRESET\) after 20(\.[0-9])?s idle, seen by the client' "$WORK/out" || fail "failing scenario: the report does not say why"
# the middlebox's view ends where the flow did: the server's late packets,
# dropped for want of a flow after the client had its RST, are not evidence
grep -Eq 'expired the flow at 10(\.[0-9])?s\)' "$WORK/out" || fail "failing scenario: no middlebox view, or one past the flow's end"
pass "failing scenario: exit 1, report says the client got a RST after the NAT expired the flow"

# -- --shard: 2/2 of (good, failing) runs only the failing one ------------------
fast_scenario "$WORK/good.ini" reset
"$IG" run --no-progress --shard 2/2 "$WORK/good.ini" "$WORK/fails.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "shard 2/2: exit $rc"
grep -q 'good.ini' "$WORK/out" && fail "shard 2/2 ran good.ini"
"$IG" run --no-progress -j2 --shard 1/2 "$WORK/good.ini" "$WORK/fails.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "shard 1/2: exit $rc"
pass "--shard K/N picks every N-th file from the K-th"

# -- command= and server_command= ----------------------------------------------
if command -v socat >/dev/null; then
	cat >"$WORK/cmd.ini" <<'INI'
[scenario]
time_scale = 1/10
[middlebox nat]
profile = aws-nat-gateway
[flow echo]
port = 7000
server_command = socat TCP-LISTEN:7000,reuseaddr,fork EXEC:cat
command = test "$(echo hello | socat -t 2 - TCP:$IDLEGATE_SERVER:$IDLEGATE_PORT)" = hello
expect = alive
INI
	"$IG" run --no-progress "$WORK/cmd.ini" >"$WORK/out" 2>&1
	rc=$?
	[ $rc -eq 0 ] || fail "command flow: exit $rc"
	grep -q 'command exited with status 0' "$WORK/out" || fail "command flow: evidence"
	pass "command= through the path to server_command="
fi

# -- a simulator that dies mid-run: ERROR, exit 3 -------------------------------
cat >"$WORK/dying-sim" <<EOF2
#!/bin/sh
"$ROOT/build/idlegate-sim" "\$@" &
pid=\$!
sleep 1.5
kill -KILL \$pid
wait \$pid
EOF2
chmod +x "$WORK/dying-sim"
IDLEGATE_SIM=$WORK/dying-sim "$IG" run --no-progress "$WORK/fails.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "dying simulator: exit $rc, expected 3"
grep -q 'ERROR' "$WORK/out" || fail "dying simulator: no ERROR"
grep -q 'idlegate-sim exited during the run' "$WORK/out" || fail "dying simulator: reason missing"
grep -Eq 'PASS|FAIL  *$' "$WORK/out" && fail "dying simulator: a flow was judged"
pass "a simulator that dies mid-run makes the run an ERROR (exit 3)"

# -- not root: exit 3, says what is missing ---------------------------------------
if command -v setpriv >/dev/null; then
	chmod o+rx "$WORK"; chmod o+r "$WORK/fails.ini"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$IG" run "$WORK/fails.ini" >"$WORK/out" 2>&1
	rc=$?
	[ $rc -eq 3 ] || fail "not root: exit $rc, expected 3"
	grep -q 'needs root' "$WORK/out" || fail "not root: message"
	pass "without root: exit 3, 'needs root'"
fi
