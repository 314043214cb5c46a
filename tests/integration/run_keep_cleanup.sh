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
