#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-sim as a stateful firewall: a TCP flow idle shorter than its
# timeout survives; one idle longer dies the way each on_expire promises, as
# the client application sees it (timeout, ECONNRESET, EOF, EHOSTUNREACH).
source "$(dirname "$0")/lib/netns.sh"
netns_setup

nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
sim_start --set tcp.established=1500ms --set pickup=strict
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"

# flow NAME ON_EXPIRE IDLE EXPECTED [peer options]
flow() {
	local name=$1 action=$2 idle=$3 want=$4 out got; shift 4
	ctl "{\"cmd\":\"set\",\"key\":\"on_expire\",\"value\":\"$action\"}" | grep -q '"ok":true' ||
		fail "$name: set on_expire=$action"
	out=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle "$idle" --wait 2 "$@") || fail "$name: client failed"
	got=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["outcome"])' "$out")
	[ "$got" = "$want" ] || fail "$name: expected $want, got $out"
	pass "$name: $got ($out)"
}

flow short-idle-survives drop 0.5 alive
flow drop-silently drop 2.5 timeout
flow rst-inside-on-next rst-inside-on-next 2.5 reset
before=$(grep -c 'server reset' "$WORK/server.log")
flow rst-both-at-expiry rst-both-at-expiry 3 reset
wait_for 3 test "$(grep -c 'server reset' "$WORK/server.log")" -gt "$before" ||
	fail "rst-both-at-expiry: the server did not get an RST"
pass "rst-both-at-expiry: the server got an RST too"
flow fin-inside fin-inside 3 closed
flow icmp-unreachable icmp-unreachable 2.5 unreachable --user-timeout 1000

# the event log tells the same story
[ "$(events_count '"event":"flow-expired".*"idle_ms"')" -ge 5 ] || fail "expiry events missing"
[ "$(events_count '"event":"inject".*"what":"rst"')" -ge 3 ] || fail "rst inject events missing"
[ "$(events_count '"event":"inject".*"what":"fin"')" -ge 1 ] || fail "fin inject event missing"
[ "$(events_count '"event":"inject".*"what":"icmp"')" -ge 1 ] || fail "icmp inject event missing"
[ "$(events_count '"event":"drop".*"reason"')" -ge 1 ] || fail "drop events missing"
pass "event log"

sim_stop
[ "$SIM_RC" -eq 0 ] || fail "simulator exit status $SIM_RC"
grep -q '"event":"stats".*"trusted":true' "$WORK/sim.out" || fail "final stats: $(cat "$WORK/sim.out")"
[ -z "$(nsx "$NS_M" nft list tables)" ] || fail "a table is left after shutdown"
pass "clean shutdown with final stats, no table left"
