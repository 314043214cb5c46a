#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-sim around the data path: the control socket (mode 0600, stats,
# flows, get/set, expire, flush, subscribe, strict errors), privileges after
# setup, the pcap (injected packets included), --help, and the queue rule
# without bypass unless --fail-open.
source "$(dirname "$0")/lib/netns.sh"
netns_setup
command -v tcpdump >/dev/null || skip "needs tcpdump (to read the pcap)"
nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"

# --help documents every knob
help=$("$SIM" --help) || fail "--help"
for k in tcp.established udp.assured refresh on_expire pickup nat nat.ports nat.mapping \
	expiry table.max_flows loss.outbound delay.inbound seed; do
	grep -q "^  $k " <<<"$help" || fail "--help does not document $k"
done
"$SIM" --inside a 2>/dev/null; [ $? -eq 2 ] || fail "usage error should exit 2"
"$SIM" --inside a --outside b --set nope=1 2>/dev/null; [ $? -eq 2 ] || fail "unknown knob should exit 2"
nsx "$NS_M" "$SIM" --inside nosuch0 --outside mo0 2>/dev/null; [ $? -eq 3 ] || fail "missing interface should exit 3"
pass "--help and exit codes"

sim_start --set tcp.established=30s --set pickup=strict --set on_expire=rst-inside-on-next \
	--pcap "$WORK/cap.pcap"
[ "$(stat -c %a "$WORK/ctl")" = 600 ] || fail "control socket mode $(stat -c %a "$WORK/ctl")"
st=$(grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/"$SIM_PID"/status)
grep -q 'CapEff:.*0000000000003000' <<<"$st" || fail "effective capabilities: $st"
grep -q 'CapBnd:.*0000000000003000' <<<"$st" || fail "bounding set: $st"
grep -q 'NoNewPrivs:.*1' <<<"$st" || fail "no_new_privs not set: $st"
pass "socket 0600; only CAP_NET_ADMIN + CAP_NET_RAW kept; no_new_privs"
rules=$(nsx "$NS_M" nft list ruleset 2>/dev/null)
grep -q 'queue num 0' <<<"$rules" || fail "no queue rule: $rules"
grep -q bypass <<<"$rules" && fail "queue rule bypasses without --fail-open"
pass "queue rule without bypass"

# a subscriber sees events as they happen
python3 - "$WORK/ctl" >"$WORK/sub.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(15)
s.sendall(b'{"cmd":"subscribe"}\n')
buf = b""
end = time.time() + 15
while b"flow-expired" not in buf and time.time() < end:
    d = s.recv(65536)
    if not d: break
    buf += d
    sys.stdout.write(d.decode()); sys.stdout.flush()
PY
SUB=$!
PIDS+=($SUB)
wait_for 3 grep -q '"ok":true' "$WORK/sub.out" || fail "subscribe not acknowledged"

# a flow, held open, listed, expired on request
nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 6 >"$WORK/client.out" &
CL=$!
PIDS+=($CL)
wait_for 3 sh -c "grep -q accept '$WORK/server.log'" || fail "no connection"
flows=$(ctl '{"cmd":"flows"}')
id=$(python3 -c 'import json,sys; f=json.loads(sys.argv[1])["flows"]; print([x for x in f if x["dport"]==5001][0]["id"])' "$flows") ||
	fail "flow not listed: $flows"
ctl '{"cmd":"get","key":"tcp.established"}' | grep -q '"value":"30s"' || fail "get: $(ctl '{"cmd":"get","key":"tcp.established"}')"
ctl '{"cmd":"set","key":"tcp.established","value":"1h"}' | grep -q '"ok":true' || fail "set"
ctl '{"cmd":"set","key":"tcp.established","value":"soon"}' | grep -q '"ok":false' || fail "bad value accepted"
ctl '{"cmd":"expire","id":4000000}' | grep -q '"ok":false' || fail "expire of unknown id accepted"
ctl '{"cmd":"expire","id":'"$id"'}' | grep -q '"ok":true' || fail "expire $id"
ctl '{"cmd":"stats","extra":1}' | grep -q '"ok":false,"error":"unknown member' || fail "strictness"
wait $CL
grep -q '"outcome": "reset"' "$WORK/client.out" || fail "expired flow: client should get RST on next send: $(cat "$WORK/client.out")"
pass "flows, get, set, expire by id: the client got ECONNRESET"
wait $SUB
grep -q '"event":"flow-new"' "$WORK/sub.out" && grep -q '"event":"flow-expired"' "$WORK/sub.out" ||
	fail "subscriber did not get the events: $(cat "$WORK/sub.out")"
grep -q '"event":"set"' "$WORK/sub.out" || fail "subscriber did not see the set"
pass "subscriber saw flow-new, set, flow-expired"
ctl '{"cmd":"flush"}' | grep -q '"ok":true' || fail "flush"
ctl '{"cmd":"flows"}' | grep -q '"count":0' || fail "flows after flush: $(ctl '{"cmd":"flows"}')"
pass "flush forgets every flow"

sim_stop
[ ! -e "$WORK/ctl" ] || fail "control socket left behind"
n=$(tcpdump -nr "$WORK/cap.pcap" 2>/dev/null | wc -l)
rst=$(tcpdump -nr "$WORK/cap.pcap" 'tcp[tcpflags] & tcp-rst != 0 and dst host 198.51.100.2' 2>/dev/null | wc -l)
[ "$n" -ge 6 ] || fail "pcap has $n packets"
[ "$rst" -ge 1 ] || fail "pcap lacks the injected RST"
pass "pcap: $n packets, the injected RST among them"

sim_start --fail-open
nsx "$NS_M" nft list ruleset 2>/dev/null | grep -q 'queue num 0 bypass' || fail "--fail-open rule lacks bypass"
sim_stop
pass "--fail-open queues with bypass"
