#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate ctl against a running idlegate-sim: the flow table shows a live
# NAT flow with its mapping, set/get change a knob, expire ends one flow,
# events streams the simulator's events, refusals and a missing simulator
# give the documented exit codes.
source "$(dirname "$0")/lib/netns.sh"
NETNS_NAT=1
IG=${IDLEGATE:-$ROOT/build/idlegate}
[ -x "$IG" ] || skip "$IG not built"
netns_setup

nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"
sim_start --set nat=snat --set nat.ports=preserve
igctl() { "$IG" ctl --socket "$WORK/ctl" "$@"; }

# a flow that stays idle long enough to be listed while it is open
nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 4 >"$WORK/client.out" 2>&1 &
CLIENT=$!
PIDS+=("$CLIENT")
wait_for 5 sh -c "'$IG' ctl --socket '$WORK/ctl' flows | grep -q established" ||
	fail "flows: no established flow: $(igctl flows 2>&1)"
table=$(igctl flows)
echo "$table" | grep -q '^ID .*INSIDE .*OUTSIDE .*NAT .*STATE' || fail "flows: no header: $table"
echo "$table" | grep -Eq '^[0-9]+ +tcp +198\.51\.100\.2:[0-9]+ +203\.0\.113\.2:5001 +203\.0\.113\.1:[0-9]+ +established' ||
	fail "flows: the NAT flow is not shown as expected: $table"
echo "$table" | grep -q '^1 flow ' || fail "flows: count line: $table"
pass "flows table: $(echo "$table" | sed -n 2p)"
igctl --json flows | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["count"]==1, d' ||
	fail "flows --json is not the simulator's JSON"
pass "flows --json"

# events: subscribe, then a set must show up as an event line
"$IG" ctl --socket "$WORK/ctl" events >"$WORK/events.out" 2>"$WORK/events.err" &
EV=$!
PIDS+=("$EV")
igctl stats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"], d' || fail "stats is not JSON"
pass "stats"
# the subscription is in place once the events process has read its ack;
# retry the set until its event line is seen
wait_for 5 sh -c "'$IG' ctl --socket '$WORK/ctl' set tcp.established 90s >/dev/null && grep -q '\"event\":\"set\".*tcp.established' '$WORK/events.out'" ||
	fail "events: no set event: $(cat "$WORK/events.out" "$WORK/events.err")"
pass "events streams lines ($(head -c 100 "$WORK/events.out"))"
igctl get tcp.established | grep -q '"value":"90s"' ||
	fail "get after set: $(igctl get tcp.established)"
pass "set then get"

# expire the flow: the client, talking after its idle, finds it gone
id=$(igctl flows | awk 'NR == 2 { print $1 }')
igctl set on_expire rst-inside-on-next >/dev/null || fail "set on_expire"
igctl expire "$id" >/dev/null || fail "expire $id"
wait "$CLIENT"
grep -q '"outcome": *"reset"' "$WORK/client.out" || fail "client after expire: $(cat "$WORK/client.out")"
pass "expire $id: the client got a reset"

# refusals and errors
igctl expire 999999 2>"$WORK/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'no such flow' "$WORK/err" || fail "expire of a missing flow: rc $rc, $(cat "$WORK/err")"
igctl set no.such.knob 1 2>/dev/null; rc=$?
[ $rc -eq 1 ] || fail "set of an unknown knob: rc $rc"
igctl expire abc 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "expire abc: rc $rc"
igctl set tcp.established 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "set with one argument: rc $rc"
pass "refusals exit 1, usage errors 2"

sim_stop
wait_for 5 sh -c "! kill -0 $EV 2>/dev/null" || fail "events did not end with the simulator"
wait "$EV"; rc=$?
[ $rc -eq 3 ] || fail "events after the simulator stopped: rc $rc"
igctl stats 2>/dev/null; rc=$?
[ $rc -eq 3 ] || fail "no simulator: rc $rc"
pass "no simulator: exit 3"
