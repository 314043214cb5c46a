#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The control socket under abuse (docs/man/idlegate-sim.8, CONTROL SOCKET
# LIMITS), with real sockets against a real idlegate-sim: 40 silent clients
# do not lock out a real request (eviction), silent clients are closed after
# the 10 s idle timeout, a client that half-closes reads a flow list of over
# 1 MB in full, and a subscriber that never reads is dropped while the
# simulator's memory stays bounded.
source "$(dirname "$0")/lib/netns.sh"
netns_setup
sim_start --set udp.unreplied=10m

rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$SIM_PID"/status; }

# 6000 UDP flows (one socket, 6000 destination ports): a flows answer of
# well over 1 MB
nsx "$NS_C" python3 - <<'PY' || fail "udp burst"
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(10000, 16000):
    s.sendto(b"x", ("203.0.113.2", p))
    if p % 500 == 0:
        time.sleep(0.01)
PY
wait_for 10 sh -c "[ \$(grep -c flow-new '$WORK/events.jsonl') -ge 6000 ]" ||
	fail "only $(events_count flow-new) flows made"

python3 - "$WORK/ctl" <<'PY' || fail "half-closed flows request"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"flows"}\n')
s.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = s.recv(1 << 16)
    if not d:
        break
    buf += d
assert len(buf) > 1 << 20, "answer of %d bytes" % len(buf)
assert buf.endswith(b"\n") and buf.count(b"\n") == 1, "not one line"
a = json.loads(buf)
assert a["ok"] and a["count"] >= 6000 and len(a["flows"]) == a["count"], a.get("count")
print("flows answer: %d bytes, %d flows, read in full after half-close" % (len(buf), a["count"]))
PY
pass "half-closed client read a flows answer of over 1 MB in full"

# a last request without its newline, then half-close: answered too
python3 - "$WORK/ctl" <<'PY' || fail "request without newline before EOF"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"stats"}\n{"cmd":"get","key":"seed"}')
s.shutdown(socket.SHUT_WR)
buf = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    buf += d
lines = buf.splitlines()
assert len(lines) == 2 and b'"uptime_ms"' in lines[0] and b'"value":"1"' in lines[1], buf[:300]
PY
pass "pipelined requests and a last one without newline answered after half-close"

# 40 silent clients, then a real request: answered at once (the longest
# idle silent clients are evicted), and the rest closed after 10 s idle
python3 - "$WORK/ctl" <<'PY' || fail "silent clients"
import socket, sys, time
path = sys.argv[1]
silent = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX); s.connect(path); silent.append(s)
    time.sleep(0.01)
time.sleep(0.3)
t0 = time.time()
s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(path)
s.sendall(b'{"cmd":"stats"}\n')
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
dt = time.time() - t0
assert b'"ok":true' in buf, buf
assert dt < 1, "answered after %.1f s" % dt
def closed(c):
    c.setblocking(False)
    try:
        return c.recv(100) == b""   # EOF: the server closed it
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
n = sum(closed(c) for c in silent)
# 41 connections, 32 slots: the 9 oldest (or more) were evicted
assert n >= 9, "%d silent clients closed" % n
assert not closed(silent[-1]), "the newest silent client was evicted"
print("real request answered in %.3f s; %d of 40 silent clients evicted" % (dt, n))
time.sleep(10.5)
n = sum(closed(c) for c in silent)
assert n == 40, "after the idle timeout only %d of 40 closed" % n
PY
pass "40 silent clients: a real request answered at once; silent clients closed after 10 s"

# a subscriber that never reads: dropped once its backlog passes 4 MiB;
# the simulator's memory does not follow the event volume
rss0=$(rss_kb)
python3 - "$WORK/ctl" "$NS_C" <<'PY' >"$WORK/sub.out" 2>&1 &
import socket, subprocess, sys, time
path, ns = sys.argv[1], sys.argv[2]
sub = socket.socket(socket.AF_UNIX)
sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
sub.connect(path)
sub.sendall(b'{"cmd":"subscribe"}\n')
# events: 8 x (flush + 6000 new flows), about 6 MB of event lines (~130 B each)
burst = '''
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in range(20000, 26000):
    s.sendto(b"x", ("203.0.113.2", p))
    if p % 500 == 0:
        time.sleep(0.01)
'''
def ctl(req):
    c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(path)
    c.sendall(req + b"\n")
    b = b""
    while not b.endswith(b"\n"):
        d = c.recv(1 << 20)
        if not d:
            break
        b += d
    return b
for r in range(8):
    ctl(b'{"cmd":"flush"}')
    subprocess.run(["ip", "netns", "exec", ns, "python3", "-c", burst], check=True)
    time.sleep(0.5)
print(ctl(b'{"cmd":"stats"}').decode().strip())
# now read what was queued: it ends (EOF) below the cap plus socket buffers
sub.settimeout(5)
got = 0
while True:
    d = sub.recv(1 << 16)
    if not d:
        break
    got += len(d)
print("subscriber got %d bytes, then EOF" % got)
assert got < (4 << 20) + (1 << 20), got
PY
SUBPY=$!
PIDS+=($SUBPY)
wait "$SUBPY" || fail "non-reading subscriber: $(cat "$WORK/sub.out")"
grep -q '"subscribers_dropped":[1-9]' "$WORK/sub.out" || fail "subscriber not dropped: $(cat "$WORK/sub.out")"
rss1=$(rss_kb)
[ $((rss1 - rss0)) -lt 24576 ] || fail "RSS grew from $rss0 to $rss1 kB"
pass "non-reading subscriber dropped; RSS $rss0 -> $rss1 kB; $(tail -n 1 "$WORK/sub.out")"

# values that used to wrap are refused with the limit named
r=$(ctl '{"cmd":"set","key":"tcp.established","value":"18446744073709551615ms"}')
grep -qF '"error":"tcp.established: 18446744073709551615ms is above the limit of 24d"' <<<"$r" || fail "set: $r"
r=$(ctl '{"cmd":"blackhole","value":"18446744073709551615ms"}')
grep -qF '"error":"value: 18446744073709551615ms is above the limit of 24d"' <<<"$r" || fail "blackhole: $r"
ctl '{"cmd":"set","key":"delay.inbound","value":"24d"}' | grep -q '"ok":true' || fail "delay at the limit"
ctl '{"cmd":"set","key":"delay.inbound","value":"0s"}' | grep -q '"ok":true' || fail "delay back to 0"
pass "set and blackhole refuse durations above 24d, naming the limit"

# the daemon is still fine
ctl '{"cmd":"stats"}' | grep -q '"ok":true' || fail "stats after all that"
sim_stop
[ "$SIM_RC" -eq 0 ] || fail "simulator exit $SIM_RC"
pass "simulator still answers and exits cleanly"
