#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Command flows are judged on the wire, and programs get what they need:
# a middlebox RST makes `reset` whatever the program printed; a
# server_command that cannot start is an ERROR of its flow (never alive),
# found at once, with its exit status; expect_exit and expect_output;
# run_as with a private $IDLEGATE_WORKDIR of that user;
# $IDLEGATE_SCENARIO_DIR; a command line longer than inih's 199 characters;
# a \r in the output shown as \r.
source "$(dirname "$0")/lib/runner.sh"
command -v socat >/dev/null || skip "needs socat"
FAIL_SHOW=("$WORK/out")

# flow: j -> a JSON flow of the report, by name
flow() { python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["scenarios"]:
    for f in s["flows"]:
        if f["name"] == sys.argv[2]:
            print(f["status"], f["observed"], f["error"] or f["evidence"], sep="|")
' "$WORK/r.json" "$1"; }

mkdir -p "$WORK/sc"
chmod 755 "$WORK/sc"
cat >"$WORK/sc/helper.sh" <<'EOF2'
#!/bin/sh
printf '50%%\r100%% from the helper\r\n'
EOF2
chmod 755 "$WORK/sc/helper.sh"
long=$(printf 'true; %.0s' $(seq 1 60))       # 360 characters of no-ops
cat >"$WORK/sc/cmd.ini" <<INI
[scenario]
time_scale = 1
[middlebox nat]
profile = aws-nat-gateway
tcp.established = 2s

; the client sends after 3 s idle: the expired NAT answers with a RST. The
; program prints nothing about a reset: the wire decides.
[flow rst]
port = 7001
server_command = socat TCP-LISTEN:7001,reuseaddr,fork EXEC:cat
command = (echo one; sleep 3; echo two; sleep 1) | socat - TCP:\$IDLEGATE_SERVER:\$IDLEGATE_PORT >/dev/null 2>&1; echo "it went wrong somehow"; exit 3
expect = reset

[flow alive]
port = 7002
server_command = socat TCP-LISTEN:7002,reuseaddr,fork EXEC:cat
command = $long echo hello | socat -t 1 - TCP:\$IDLEGATE_SERVER:\$IDLEGATE_PORT; "\$IDLEGATE_SCENARIO_DIR/helper.sh"
expect = alive
expect_exit = 0
expect_output = ^hello$

[flow wrong-output]
port = 7003
server_command = socat TCP-LISTEN:7003,reuseaddr,fork EXEC:cat
command = echo hello | socat -t 1 - TCP:\$IDLEGATE_SERVER:\$IDLEGATE_PORT
expect = alive
expect_output = ^goodbye

[flow server-fails]
port = 7004
server_command = exit 7
command = echo never
expect = alive

[flow server-missing]
server_command = /nonexistent/server
command = echo never
expect = alive

[flow as-nobody]
port = 7005
run_as = nobody
server_command = socat TCP-LISTEN:7005,reuseaddr,fork EXEC:cat
command = test "\$(id -un)" = nobody && test "\$HOME" = "\$IDLEGATE_WORKDIR" && test "\$(stat -c '%U %a' "\$IDLEGATE_WORKDIR")" = "nobody 700" && touch "\$IDLEGATE_WORKDIR/mine" && echo hi | socat -t 1 - TCP:\$IDLEGATE_SERVER:\$IDLEGATE_PORT
expect = alive

; per-flow sysctls: each such flow has a client namespace of its own
[flow sysctl-a]
sysctl.net.ipv4.tcp_keepalive_time = 5
sysctl.net.ipv4.tcp_retries2 = 4
command = test "\$(cat /proc/sys/net/ipv4/tcp_keepalive_time) \$(cat /proc/sys/net/ipv4/tcp_retries2)" = "5 4"
expect = alive

[flow sysctl-b]
sysctl.net.ipv4.tcp_keepalive_time = 9
command = test "\$(cat /proc/sys/net/ipv4/tcp_keepalive_time)" = 9
expect = alive

[flow sysctl-none]
command = test "\$(cat /proc/sys/net/ipv4/tcp_keepalive_time)" = 7200
expect = alive

; start = delays a command as it delays a probe
[flow at-once]
command = date +%s%N
expect = alive

[flow later]
start = 3s
command = date +%s%N
expect = alive
INI
grep -q "^command = $long" "$WORK/sc/cmd.ini" && [ "$(grep -c '' <<<"$long")" -eq 1 ] || fail "test setup"
"$IG" check "$WORK/sc/cmd.ini" >"$WORK/out" 2>&1 || fail "check: a long command line is refused"
pass "a command line of $(awk '/^command = true/ { print length }' "$WORK/sc/cmd.ini") characters is accepted"

start=$(date +%s%N)
"$IG" run --no-progress --json "$WORK/r.json" "$WORK/sc/cmd.ini" >"$WORK/out" 2>&1
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ $rc -eq 3 ] || fail "a run with failed servers: exit $rc (want 3, ERROR)"

IFS='|' read -r st obs why <<<"$(flow rst)"
[ "$st $obs" = "PASS reset" ] || fail "rst: $st $obs: $why"
grep -q 'RST' <<<"$why" || fail "rst: the evidence does not name the RST: $why"
pass "a command whose connection a middlebox reset is 'reset' (it printed only 'it went wrong somehow')"

IFS='|' read -r st obs why <<<"$(flow alive)"
[ "$st $obs" = "PASS alive" ] || fail "alive: $st $obs: $why"
pass "expect_exit, expect_output and a helper found through \$IDLEGATE_SCENARIO_DIR"
grep -qF '50%\r100% from the helper (' "$WORK/out" || fail "a \\r in the output is not shown as \\r"
pass "a \\r in the output is shown as \\r"

IFS='|' read -r st obs why <<<"$(flow wrong-output)"
[ "$st" = FAIL ] && grep -q 'expect_output' <<<"$why" || fail "wrong-output: $st $obs: $why"
pass "output not matching expect_output fails the flow: $why"

for f in server-fails server-missing; do
	IFS='|' read -r st obs why <<<"$(flow $f)"
	[ "$st" = ERROR ] && [ "$obs" = None ] || fail "$f: $st, observed $obs: $why"
	grep -q 'server_command exited with status' <<<"$why" || fail "$f: $why"
done
grep -q 'status 7' <<<"$(flow server-fails)" || fail "server-fails: the status is not 7"
grep -q 'status 127' <<<"$(flow server-missing)" || fail "server-missing: the status is not 127"
[ "$took" -lt 9000 ] || fail "the failed servers took ${took} ms to notice"
pass "a server_command that cannot start is an ERROR of its own flow with its status, found at once (run: ${took} ms)"

IFS='|' read -r st obs why <<<"$(flow as-nobody)"
[ "$st $obs" = "PASS alive" ] || fail "as-nobody: $st $obs: $why"
pass "run_as = nobody: the command runs as nobody in a 0700 directory of its own (\$IDLEGATE_WORKDIR = \$HOME)"

for f in sysctl-a sysctl-b sysctl-none; do
	IFS='|' read -r st obs why <<<"$(flow $f)"
	[ "$st $obs" = "PASS alive" ] || fail "$f: $st $obs: $why"
done
pass "sysctl.NAME per flow, in a client namespace of its own (5, 9 and the default 7200 side by side)"

IFS='|' read -r st1 _ why1 <<<"$(flow at-once)"
IFS='|' read -r st2 _ why2 <<<"$(flow later)"
[ "$st1 $st2" = "PASS PASS" ] || fail "start =: $st1 $why1 / $st2 $why2"
t1=$(grep -o ': [0-9]\{19\}' <<<"$why1" | tr -dc 0-9) t2=$(grep -o ': [0-9]\{19\}' <<<"$why2" | tr -dc 0-9)
[ -n "$t1" ] && [ -n "$t2" ] || fail "start =: no time in the evidence: $why1 / $why2"
late=$(( (t2 - t1) / 1000000 ))
[ "$late" -ge 2500 ] && [ "$late" -lt 4500 ] || fail "start = 3s: the command started ${late} ms after the one without"
python3 - "$WORK/r.json" <<'PY' || fail "start =: the command's outcome is not drawn after its start"
import json, sys
d = json.load(open(sys.argv[1]))
tl = [m for s in d["scenarios"] for m in s["timeline"] if m.get("flow") == "later" and m["kind"] == "outcome"]
assert tl and tl[0]["t_ms"] >= 3000, tl
PY
pass "start = 3s delays a command: it ran ${late} ms after the one without, and its outcome is drawn after 3s"

ls "$WORK" | grep -q idlegate-run && fail "the run left its directory: $(ls "$WORK")"
pass "nothing left behind"
