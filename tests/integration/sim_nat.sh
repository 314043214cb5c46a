#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-sim in NAT mode: the server (which has no route to the inside)
# sees the outside address; port allocation behaves as configured; UDP
# mappings expire; bulk transfers both ways arrive byte-for-byte intact with
# checksum offload on and off; a killed simulator leaves no rule behind.
source "$(dirname "$0")/lib/netns.sh"
NETNS_NAT=1
netns_setup
command -v socat >/dev/null || skip "needs socat"

nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
nsx "$NS_S" $PEER server --port 5002 --udp >"$WORK/userver.log" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"
wait_for 5 grep -q listening "$WORK/userver.log" || fail "udp server did not start"

# -- addresses and ports ------------------------------------------------------
sim_start --set nat=snat --set nat.ports=preserve --set udp.unreplied=1500ms --set udp.assured=1500ms
out=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001) || fail "tcp through NAT"
[ "$(field "$out" outcome)" = alive ] || fail "tcp through NAT: $out"
[ "$(field "$out" seen)" = "203.0.113.1:$(field "$out" lport)" ] ||
	fail "server should see 203.0.113.1 with the client's port (preserve): $out"
pass "server sees the outside address, port preserved ($out)"
ctl '{"cmd":"flows"}' | grep -q '"nat_addr":"203.0.113.1"' || fail "flow list lacks the mapping"
[ "$(events_count '"event":"flow-new".*"nat_addr":"203.0.113.1","nat_port"')" -ge 1 ] ||
	fail "flow-new event lacks the NAT mapping"
pass "flow list and events show the mapping"

# -- UDP mapping expiry ---------------------------------------------------------
out=$(nsx "$NS_C" $PEER udp 203.0.113.2 5002 --speaker server --idle 0.5) || fail "udp"
[ "$(field "$out" outcome)" = alive ] || fail "udp before expiry: $out"
[ "${out#*203.0.113.1}" != "$out" ] || fail "udp server should see the outside address: $out"
out=$(nsx "$NS_C" $PEER udp 203.0.113.2 5002 --speaker server --idle 2.5 --wait 1) || fail "udp"
[ "$(field "$out" outcome)" = timeout ] || fail "udp after expiry: the server's datagram should be lost: $out"
pass "udp mapping lives 0.5 s, is gone after 2.5 s"

# -- bulk transfer, both directions, offload on and off -----------------------------
head -c 24M /dev/urandom >"$WORK/blob"
want=$(sha256sum <"$WORK/blob" | cut -d' ' -f1)
bulk() {
	local tag=$1 got
	rm -f "$WORK/up" "$WORK/down"
	nsx "$NS_S" socat -u TCP-LISTEN:6000,reuseaddr OPEN:"$WORK/up",creat,trunc &
	local up=$!
	nsx "$NS_S" socat -u OPEN:"$WORK/blob" TCP-LISTEN:6001,reuseaddr &
	local down=$!
	wait_for 5 nsx "$NS_S" sh -c 'ss -ltn | grep -q ":6001 "' || fail "socat listeners"
	wait_for 5 nsx "$NS_S" sh -c 'ss -ltn | grep -q ":6000 "' || fail "socat listeners"
	nsx "$NS_C" timeout 60 socat -u OPEN:"$WORK/blob" TCP:203.0.113.2:6000 || fail "$tag: upload"
	nsx "$NS_C" timeout 60 socat -u TCP:203.0.113.2:6001 CREATE:"$WORK/down" || fail "$tag: download"
	wait $up; wait $down
	got=$(sha256sum <"$WORK/up" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$tag: upload digest differs ($(stat -c %s "$WORK/up") bytes)"
	got=$(sha256sum <"$WORK/down" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "$tag: download digest differs ($(stat -c %s "$WORK/down") bytes)"
	pass "$tag: 24 MiB each way intact"
}
bulk "offload on"
if command -v ethtool >/dev/null; then
	nsx "$NS_C" ethtool -K c0 tx off rx off >/dev/null 2>&1
	nsx "$NS_M" ethtool -K mi0 tx off rx off >/dev/null 2>&1
	nsx "$NS_M" ethtool -K mo0 tx off rx off >/dev/null 2>&1
	nsx "$NS_S" ethtool -K s0 tx off rx off >/dev/null 2>&1
	nsx "$NS_C" ethtool -k c0 | grep -q 'tx-checksumming: off' || fail "could not turn offload off"
	bulk "offload off"
else
	echo "note: ethtool missing, offload-off case not run"
fi
stats=$(ctl '{"cmd":"stats"}')
echo "$stats" | grep -q '"trusted":true' || fail "stats after bulk: $stats"
echo "$stats" | grep -q '"rewritten":0,' && fail "nothing rewritten? $stats"
sim_stop
pass "stats trusted after bulk"

# -- sequential ports from a range ----------------------------------------------
sim_start --set nat=snat --set nat.ports=sequential --set nat.port_range=20000-20010
a=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001) || fail "tcp"
b=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001) || fail "tcp"
pa=$(field "$a" seen); pb=$(field "$b" seen)
case "$pa $pb" in
203.0.113.1:200[01][0-9]\ 203.0.113.1:200[01][0-9]) ;;
*) fail "sequential ports should come from 20000-20010: $pa $pb" ;;
esac
[ "$pa" != "$pb" ] || fail "two flows got the same port $pa"
pass "sequential ports from the range ($pa, $pb)"

# -- a killed simulator leaves no rule ------------------------------------------------
[ -n "$(nsx "$NS_M" nft list tables)" ] || fail "no table while running"
kill -KILL "$SIM_PID"; wait "$SIM_PID" 2>/dev/null
wait_for 3 test -z "$(nsx "$NS_M" nft list tables)" || fail "table left after SIGKILL: $(nsx "$NS_M" nft list ruleset)"
pass "SIGKILL leaves no table behind"
