#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A run whose simulator's queue overflows is an ERROR, and the
# reason gives the simulator's own numbers: every counter the reason names
# equals the one in the simulator's final "stats" event (the files are kept
# with IDLEGATE_KEEP_FILES=1 to compare), and none of them is zero.
source "$(dirname "$0")/lib/runner.sh"
command -v iperf3 >/dev/null || skip "needs iperf3"
cat >"$WORK/flood.ini" <<'INI'
[scenario]
description = test: a flood overloads the simulator's queue
[middlebox fw]
profile = linux-conntrack
[flow idle]
idle = 12s
expect = alive
INI

IDLEGATE_KEEP_FILES=1 "$IG" run --no-progress "$WORK/flood.ini" >"$WORK/out" 2>&1 &
RUN_PID=$!
BG+=("$RUN_PID")
probe_pid() {
	local p
	for p in $(descendants "$RUN_PID"); do
		[ "$(cat /proc/$p/comm 2>/dev/null)" = idlegate-probe ] &&
			tr '\0' ' ' </proc/$p/cmdline | grep -q " $1 " && { echo "$p"; return 0; }
	done
	return 1
}
wait_for 20 probe_pid client >/dev/null || fail "the run did not start its client"
srv=$(probe_pid server) && cli=$(probe_pid client) || fail "no probe server"
nsenter -t "$srv" -n iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
BG+=($!)
sleep 0.5
# Overload, made certain: while iperf3 sends 64-byte UDP as fast as it can
# (its control connection already up), the simulator stops reading
# (SIGSTOP) for a second, so the kernel's queue (8192 packets) fills and
# drops; then it goes on. iperf3 writes its interval lines to a file only
# with --forceflush (else all at its exit): without it the stop came after
# the flood, and the test passed only when the flood alone overran the
# simulator.
sim=$(for p in $(descendants "$RUN_PID"); do [ "$(cat /proc/$p/comm 2>/dev/null)" = idlegate-sim ] && echo $p; done)
[ -n "$sim" ] || fail "no simulator"
nsenter -t "$cli" -n iperf3 -c 203.0.113.2 -p 5301 -u -b 0 -l 64 -t 3 --forceflush >"$WORK/iperf" 2>&1 &
flood=$!
BG+=("$flood")
wait_for 5 grep -q 'Mbits/sec' "$WORK/iperf" || fail "iperf3 did not start: $(cat "$WORK/iperf")"
kill -STOP $sim || fail "SIGSTOP"
sleep 1
kill -CONT $sim || fail "SIGCONT"
wait "$flood"
wait "$RUN_PID"; rc=$?
[ $rc -eq 3 ] || fail "flooded run: exit $rc, expected 3 (ERROR): $(tail -n 3 "$WORK/iperf")"
reason=$(grep -o "the simulator's queue lost packets or events ([^)]*)" "$WORK/out" | head -n 1)
[ -n "$reason" ] || fail "the ERROR does not give the queue's numbers"
events=$(ls "$WORK"/idlegate-run-*/p0-fw/events.jsonl) || fail "no kept event log"
python3 - "$events" "$reason" <<'PY' || fail "the reason's numbers are not the simulator's: $reason"
import json, re, sys
stats = [json.loads(l) for l in open(sys.argv[1]) if '"stats"' in l]
st = [s for s in stats if s.get("event") == "stats"][-1]
q = st["queue"]
want = {"enobufs": q.get("enobufs", 0), "queue full": q.get("kernel_queue_dropped", 0),
        "socket full": q.get("kernel_user_dropped", 0), "delay queue overflow": q.get("hold_overflow", 0),
        "verdict send errors": q.get("send_errors", 0), "events lost": st.get("events_lost", 0)}
got = {k: int(v) for k, v in re.findall(r"([a-z ]+?) (\d+)(?:,|\))", sys.argv[2].split("(", 1)[1])}
got = {k.strip(): v for k, v in got.items()}
nonzero = {k: v for k, v in want.items() if v}
print("simulator:", nonzero, "reason:", got)
sys.exit(0 if nonzero and got == nonzero else 1)
PY
pass "a flooded run is an ERROR whose reason gives the simulator's own counters: $reason"
