#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interrupting a run leaves nothing behind: SIGINT and SIGTERM of the runner
# (it stops everything and exits 130/143), SIGKILL of the runner (the
# holders, simulators and probes die with it through PR_SET_PDEATHSIG and the
# unnamed namespaces vanish), SIGKILL of a simulator (the run is an ERROR,
# exit 3). After each: no process of the run, no process in any of its
# namespaces, no named namespace, no link in the root namespace.
source "$(dirname "$0")/lib/runner.sh"
long_scenario "$WORK/long.ini"

# start_run: the runner in the background, waited for until its simulator
# and probes run; sets RUN_PID
# (N scenario files at once, default 2)
start_run() {
	local n=${1:-2} files=()
	for i in $(seq "$n"); do files+=("$WORK/long.ini"); done
	"$IG" run --no-progress -j"$n" "${files[@]}" >"$WORK/out" 2>&1 &
	RUN_PID=$!
	BG+=("$RUN_PID")
	wait_for 15 sh -c "ls $WORK/idlegate-run-*/probes/p0-server-*.ready 2>/dev/null | wc -l | grep -qx $n" ||
		fail "the runs did not start"
	wait_for 5 sh -c "ls $WORK/idlegate-run-*/p0-client-*.err 2>/dev/null | wc -l | grep -qx $n" ||
		fail "the probe clients did not start"
	run_snapshot "$RUN_PID"
	[ "$(echo "$SNAP_NS" | wc -l)" -eq $((3 * n)) ] || fail "expected $((3 * n)) namespaces, got: $SNAP_NS"
}

# wait_exit SECONDS: the runner's exit status, or fail
wait_exit() {
	wait_for "$1" sh -c "! kill -0 $RUN_PID" || fail "the runner did not exit"
	wait "$RUN_PID"
}

for sig in INT TERM; do
	start_run
	kill -"$sig" "$RUN_PID"
	wait_exit 20; rc=$?
	want=$(( 128 + $(kill -l "$sig") ))
	[ "$rc" -eq "$want" ] || fail "SIG$sig: exit $rc, expected $want"
	nothing_left "$RUN_PID" "SIG$sig"
	[ -z "$(ls -d "$WORK"/idlegate-run-* 2>/dev/null)" ] || fail "SIG$sig: run directory left"
	grep -q 'interrupted' "$WORK/out" || fail "SIG$sig: the partial report does not say interrupted"
	pass "SIG$sig of the runner: exit $rc, partial report, nothing left"
done

start_run
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
nothing_left "$RUN_PID" "SIGKILL"
pass "SIGKILL of the runner: nothing left"
rm -rf "$WORK"/idlegate-run-*

start_run 1
sim=$(for p in $SNAP_PIDS; do [ "$(cat /proc/$p/comm 2>/dev/null)" = idlegate-sim ] && echo $p; done | head -n 1)
[ -n "$sim" ] || fail "no simulator among the run's processes"
kill -KILL "$sim"
wait_exit 20; rc=$?
[ "$rc" -eq 3 ] || fail "SIGKILL of a simulator: exit $rc, expected 3"
grep -q 'idlegate-sim exited during the run' "$WORK/out" || fail "SIGKILL of a simulator: reason missing"
nothing_left "$RUN_PID" "SIGKILL of a simulator"
pass "SIGKILL of a simulator: ERROR (exit 3), nothing left"
