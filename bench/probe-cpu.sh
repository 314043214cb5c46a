#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The probes' CPU time per connection, at a small and a large number of
# connections in the same run (root: a fresh namespace, loopback). Each
# connection does the same work (HELLO, an idle, an exchange, the query),
# so the cost per connection must not grow with their number: a ratio
# large/small near 1 is linear, near LARGE/SMALL is a scan per message.
# usage: bench/probe-cpu.sh [SMALL [LARGE]] (default 1000 and 8000; LARGE
# is bounded by the hard RLIMIT_NOFILE, which needs CAP_SYS_RESOURCE)
set -e
SMALL=${1:-1000}
LARGE=${2:-8000}
B=$(cd "$(dirname "$0")/.." && pwd)/build/idlegate-probe
ns=pc$$
d=$(mktemp -d)
trap 'ip netns del $ns 2>/dev/null; rm -rf "$d"' EXIT
ip netns add $ns
ip -n $ns link set lo up
ip netns exec $ns sysctl -qw net.core.somaxconn=65535 net.ipv4.ip_local_port_range="1024 65535"

# one run of N connections: "N server_cpu_s client_cpu_s alive"
run() {
	ip netns exec $ns python3 - "$B" "$1" "$d" <<'PY'
import os, resource, subprocess, sys, time
b, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
flows = os.path.join(d, "flows")
with open(flows, "w") as f:
    for i in range(n):
        f.write("name=f%d,idle=2s,deadline=10s\n" % i)
ready = os.path.join(d, "ready.%d" % n)
srv = subprocess.Popen([b, "-q", "server", "--listen", "127.0.0.1:7201", "--ready-file", ready,
                        "--max-flows", str(n + 10)], stdout=subprocess.DEVNULL)
while not os.path.exists(ready):
    time.sleep(0.05)
out = os.path.join(d, "out.%d" % n)
cli = subprocess.Popen([b, "-q", "client", "--server", "127.0.0.1:7201", "--flows-file", flows,
                        "--json", out, "--no-table"], stdout=subprocess.DEVNULL)
cli.wait()
c = resource.getrusage(resource.RUSAGE_CHILDREN)
client_cpu = c.ru_utime + c.ru_stime
srv.terminate()
srv.wait()
c2 = resource.getrusage(resource.RUSAGE_CHILDREN)
server_cpu = c2.ru_utime + c2.ru_stime - client_cpu
alive = sum(1 for l in open(out) if '"outcome":"alive"' in l.split('"client"')[0])
print(n, "%.3f" % server_cpu, "%.3f" % client_cpu, alive)
PY
}

set -- $(run "$SMALL") $(run "$LARGE")
python3 - "$@" <<'PY'
import sys
a = sys.argv[1:]
n1, s1, c1, ok1, n2, s2, c2, ok2 = int(a[0]), float(a[1]), float(a[2]), int(a[3]), int(a[4]), float(a[5]), float(a[6]), int(a[7])
for n, s, c, ok in ((n1, s1, c1, ok1), (n2, s2, c2, ok2)):
    print("%6d connections (%d alive): server %.1f us, client %.1f us of CPU per connection"
          % (n, ok, s / n * 1e6, c / n * 1e6))
rs, rc = (s2 / n2) / (s1 / n1), (c2 / n2) / (c1 / n1)
print("per-connection CPU at %d vs %d: server ratio %.2f, client ratio %.2f (1 = linear, %.0f = a scan per message)"
      % (n2, n1, rs, rc, n2 / n1))
PY
