#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --keep keeps the network of a failing run, named ig-RUNPID-N-HOST, and says
# how to enter it; `idlegate cleanup` removes it, and removes planted
# leftovers of a crashed older version (a named namespace with a process in
# it, a run directory of a dead runner); `idlegate shell -c` works in the
# client namespace and leaves nothing.
source "$(dirname "$0")/lib/runner.sh"
fast_scenario "$WORK/fails.ini" alive

"$IG" run --no-progress --keep "$WORK/fails.ini" >"$WORK/out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "--keep: exit $rc, expected 1"
ns=$(grep -o 'ip netns exec ig-[0-9]*-1-client' "$WORK/out" | awk '{print $4}')
[ -n "$ns" ] || fail "--keep: no instructions to enter the network"
ip netns list | grep -q "^$ns" || fail "--keep: $ns does not exist"
ip netns exec "$ns" ip -br addr show dev eth0 | grep -q 192.0.2.2 || fail "--keep: client has no address"
pass "--keep: failing run's network kept as $ns, enterable"

# plant what a crashed older version could leave
dead=$(sh -c 'echo $$')
planted=ig-$dead-1-client
ip netns add "$planted" || fail "ip netns add"
ip netns exec "$planted" sleep 300 &
BG+=($!)
sleeper=$!
mkdir -m 700 "$WORK/idlegate-run-$dead-abcdef"
wait_for 5 sh -c "ip netns pids $planted | grep -q ." || fail "planted process"

"$IG" cleanup >"$WORK/out" 2>&1 || fail "cleanup: exit $?"
ip netns list | grep -q "^${ns%-client}-" && fail "cleanup: kept namespaces remain"
ip netns list | grep -q "^$planted" && fail "cleanup: planted namespace remains"
wait_for 5 sh -c "! kill -0 $sleeper" || fail "cleanup: the process in the planted namespace survived"
[ -d "$WORK/idlegate-run-$dead-abcdef" ] && fail "cleanup: the dead run's directory remains"
"$IG" cleanup >"$WORK/out" 2>&1 || fail "second cleanup: exit $?"
grep -q 'nothing to clean up' "$WORK/out" || fail "second cleanup found more"
pass "cleanup removes kept and planted namespaces, their processes, dead run directories"

out=$("$IG" shell -c 'ip -br addr show dev eth0; echo "server=$IDLEGATE_SERVER"' "$WORK/fails.ini" 2>"$WORK/out") ||
	fail "shell -c: exit $?"
echo "$out" | grep -q 192.0.2.2 || fail "shell: not in the client namespace: $out"
echo "$out" | grep -q 'server=203.0.113.2' || fail "shell: IDLEGATE_SERVER: $out"
ip netns list | grep -q "^ig-" && fail "shell: left a named namespace: $(ip netns list)"
pass "shell -c runs in the client namespace and leaves nothing"

# shell -c ends CMD, and whatever CMD started (a background job, a daemon
# that left its session), on SIGTERM and on SIGINT, like run: exit 128+sig,
# no process of it left, no namespace, no run directory.
for sig in TERM INT; do
	"$IG" shell -c 'setsid sleep 317 & sleep 318' "$WORK/fails.ini" >"$WORK/out" 2>&1 &
	sh_pid=$!
	BG+=("$sh_pid")
	wait_for 15 sh -c 'pgrep -f "^sleep 318" >/dev/null && pgrep -f "^sleep 317" >/dev/null' ||
		fail "shell -c: the command did not start"
	kill -"$sig" "$sh_pid"
	wait_for 10 sh -c "! kill -0 $sh_pid" || fail "shell -c: SIG$sig did not end it"
	wait "$sh_pid"; rc=$?
	want=$(( 128 + $(kill -l "$sig") ))
	[ "$rc" -eq "$want" ] || fail "shell -c: SIG$sig: exit $rc, expected $want"
	wait_for 5 sh -c '! pgrep -f "^sleep 31[78]" >/dev/null' ||
		fail "shell -c: SIG$sig left the command running: $(pgrep -af '^sleep 31[78]')"
	ip netns list | grep -q "^ig-" && fail "shell -c: SIG$sig left a named namespace"
	[ -z "$(ls -d "$WORK"/idlegate-run-* 2>/dev/null)" ] || fail "shell -c: SIG$sig left its run directory"
	pass "shell -c on SIG$sig: exit $rc, the command and its daemon ended, nothing left"
done
