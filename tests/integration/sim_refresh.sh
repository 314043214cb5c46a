#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# refresh = data-only: kernel TCP keepalives (no payload) do not keep a flow
# alive, while with refresh = any they do. The box sees the keepalives
# either way (events, stats).
source "$(dirname "$0")/lib/netns.sh"
netns_setup
nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"

for mode in any data-only; do
	sim_start --set tcp.established=1500ms --set pickup=strict --set on_expire=rst-inside-on-next \
		--set refresh="$mode"
	out=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 4 --keepalive 1,1,9) || fail "client"
	got=$(field "$out" outcome)
	if [ "$mode" = any ]; then
		[ "$got" = alive ] || fail "refresh=any: keepalives every 1 s should keep a 1.5 s flow alive: $out"
	else
		[ "$got" = reset ] || fail "refresh=data-only: keepalives should not refresh: $out"
	fi
	[ "$(events_count '"event":"keepalive"')" -ge 1 ] || fail "refresh=$mode: no keepalive events"
	stats=$(ctl '{"cmd":"stats"}')
	echo "$stats" | grep -q '"keepalives":0,' && fail "refresh=$mode: stats count no keepalives"
	pass "refresh=$mode: $got, $(events_count '"event":"keepalive"') keepalives seen"
	sim_stop
done
