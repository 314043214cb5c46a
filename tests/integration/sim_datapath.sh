#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-sim's batch data path under load and with held packets: a UDP
# stream at a fixed rate through the NAT: every packet the queue delivered
# is counted once by the engine and accepted, none lost to the queue (the engine saw what the queue delivered, in batches); with
# delay.inbound the rewritten inbound packets are held and released intact
# (TCP both ways, reverse mode), and the handshake takes the delay.
source "$(dirname "$0")/lib/netns.sh"
NETNS_NAT=1
netns_setup
command -v iperf3 >/dev/null || skip "needs iperf3"
nsx "$NS_S" iperf3 -s >/dev/null 2>&1 &
PIDS+=($!)
nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 5 nsx "$NS_S" sh -c 'ss -ltn | grep -q ":5201 "' || fail "iperf3 server"
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"
jget() { python3 -c 'import json,sys
d=json.loads(sys.stdin.read())
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

# -- a fixed-rate UDP stream through the NAT ----------------------------------
sim_start --set nat=snat
out=$(nsx "$NS_C" timeout 20 iperf3 -c 203.0.113.2 -u -l 200 -b 16M -t 2 -J) || fail "iperf3 udp"
sent=$(jget end.sum.packets <<<"$out"); lost=$(jget end.sum.lost_packets <<<"$out")
[ "$sent" -ge 15000 ] || fail "iperf3 sent only $sent packets"
# datagrams can be lost in a receiver's socket on a busy 2-core machine;
# the box's own losses show in its counters below
[ "$lost" -le $((sent / 2)) ] || fail "$lost of $sent datagrams lost: $(ctl '{"cmd":"stats"}')"
st=$(ctl '{"cmd":"stats"}')
recv=$(jget queue.received <<<"$st"); acc=$(jget accepted <<<"$st")
pin=$(jget packets_in <<<"$st"); pout=$(jget packets_out <<<"$st")
bursts=$(jget queue.bursts <<<"$st")
[ "$recv" -eq $((pin + pout)) ] || fail "queue received $recv, engine saw $((pin + pout)): $st"
[ "$acc" -eq "$recv" ] || fail "accepted $acc of $recv: $st"
[ "$(jget trusted <<<"$st")" = True ] || fail "run not trusted: $st"
[ "$bursts" -ge 1 ] && [ "$bursts" -le "$recv" ] || fail "bursts $bursts for $recv packets"
sim_stop
pass "$sent datagrams at 10 kpps through the NAT ($lost lost on the way); the box: $recv packets in $bursts engine batches, all accepted, none lost to the queue"

# -- held packets: delay.inbound with NAT rewrites --------------------------------
sim_start --set nat=snat --set delay.inbound=300ms
t0=$(date +%s%N)
out=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001) || fail "tcp with delay"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -q '"outcome": *"alive"' <<<"$out" || fail "tcp with delay: $out"
[ "$ms" -ge 300 ] || fail "the exchange took $ms ms, less than the inbound delay"
for rev in "" -R; do
	out=$(nsx "$NS_C" timeout 30 iperf3 -c 203.0.113.2 -t 2 $rev -J) || fail "iperf3 tcp $rev with delay"
	bps=$(jget end.sum_received.bits_per_second <<<"$out")
	python3 -c "import sys; sys.exit(0 if float('$bps') > 1e6 else 1)" ||
		fail "iperf3 tcp $rev through held packets: $bps bit/s"
done
st=$(ctl '{"cmd":"stats"}')
[ "$(jget queue.held <<<"$st")" -ge 0 ] || fail "stats: $st"
[ "$(jget queue.send_errors <<<"$st")" -eq 0 ] || fail "verdicts refused: $st"
sim_stop
pass "inbound delay of 300 ms: exchange took $ms ms; TCP both ways intact through held, rewritten packets"
