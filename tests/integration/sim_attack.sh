#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-sim against traffic a careless middlebox gets wrong: an off-path
# RST (random sequence number, spoofed from the server) leaves a live TCP
# connection alone, in the box as at the client (tcp.rst_check = window);
# with tcp.rst_check = any the box closes its flow. An IPv6 datagram behind
# a 264-byte destination-options header crosses the firewall.
source "$(dirname "$0")/lib/netns.sh"
netns_setup
nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"

# A client that says PING, writes its port, waits 2 s, says PING again.
cat >"$WORK/client.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("203.0.113.2", 5001), timeout=5)
f = s.makefile("rb")
s.sendall(b"PING\n"); first = f.readline().strip()
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(2)
try:
    s.sendall(b"PING\n"); second = f.readline().strip()
except OSError as e:
    second = str(e).encode()
print(first.decode(), second.decode() or "eof")
PY
# A RST from the server's address and port with a random sequence number.
cat >"$WORK/rst.py" <<'PY'
import random, socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
src, dst, sport, dport = "203.0.113.2", "198.51.100.2", 5001, int(sys.argv[1])
seq = random.randrange(1 << 32)
tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x04, 0, 0, 0)
ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
r.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 0)
r.bind((src, 0))
r.sendto(tcp, (dst, 0))
PY
flow_state() { ctl '{"cmd":"flows"}' | python3 -c 'import json,sys
for f in json.load(sys.stdin)["flows"]:
    if f["proto"] == "tcp" and f["dport"] == 5001: print(f["state"])'; }

for mode in window any; do
	sim_start --set tcp.rst_check=$mode
	rm -f "$WORK/port"
	nsx "$NS_C" python3 "$WORK/client.py" "$WORK/port" >"$WORK/client.out" 2>&1 &
	cpid=$!
	wait_for 5 test -s "$WORK/port" || fail "client did not connect: $(cat "$WORK/client.out")"
	[ "$(flow_state)" = established ] || fail "flow before the RST: $(flow_state)"
	nsx "$NS_S" python3 "$WORK/rst.py" "$(cat "$WORK/port")" || fail "sending the RST"
	sleep 0.3
	after=$(flow_state)
	wait "$cpid"
	st=$(ctl '{"cmd":"stats"}')
	sim_stop
	if [ $mode = window ]; then
		[ "$after" = established ] || fail "rst_check=window: an off-path RST moved the flow to '$after'"
		[ "$(cat "$WORK/client.out")" = "PONG PONG" ] ||
			fail "rst_check=window: the connection did not survive: $(cat "$WORK/client.out")"
		pass "off-path RST ignored by the box and the client; the connection goes on"
	else
		[ "$after" = close ] || fail "rst_check=any: the RST should close the flow, state '$after'"
		pass "rst_check=any: the same RST closes the box's flow"
	fi
done

# -- IPv6 with a 264-byte destination-options header, firewall mode ----------
cat >"$WORK/v6.py" <<'PY'
import socket, sys
if sys.argv[1] == "server":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("2001:db8:2::2", 5003)); s.settimeout(5)
    print("listening", flush=True)
    d, a = s.recvfrom(4096)
    print("got", len(d), flush=True)
else:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    # next header (filled in by the kernel), length 32 (264 bytes), two
    # experimental options (0x1e, skipped by receivers) of 128 and 130 bytes
    opts = bytes([0, 32, 0x1e, 128]) + bytes(128) + bytes([0x1e, 130]) + bytes(130)
    s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_DSTOPTS", 59), opts)
    s.sendto(b"x" * 1000, ("2001:db8:2::2", 5003))
PY
sim_start
nsx "$NS_S" python3 "$WORK/v6.py" server >"$WORK/v6.out" 2>&1 &
PIDS+=($!)
wait_for 5 grep -q listening "$WORK/v6.out" || fail "v6 server"
nsx "$NS_C" python3 "$WORK/v6.py" client || fail "v6 client"
wait_for 5 grep -q "got 1000" "$WORK/v6.out" ||
	fail "IPv6 datagram behind a 264-byte destination-options header lost: $(ctl '{"cmd":"stats"}')"
sim_stop
grep -q '"malformed"' "$WORK/sim.out" && fail "a packet was dropped as malformed: $(cat "$WORK/sim.out")"
pass "IPv6 with a 264-byte destination-options header passes the firewall"
