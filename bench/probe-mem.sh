#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The probe's memory per connection: N idle TCP flows on loopback in a
# fresh namespace, RSS of client and server while they idle (root).
# usage: bench/probe-mem.sh [N] (default 10000; N is bounded by the hard
# RLIMIT_NOFILE, which needs CAP_SYS_RESOURCE to raise)
N=${1:-10000}
B=$(cd "$(dirname "$0")/.." && pwd)/build/idlegate-probe
ns=pm$$
ip netns add $ns
ip -n $ns link set lo up
ip netns exec $ns sysctl -qw net.core.somaxconn=65535 net.ipv4.ip_local_port_range="1024 65535"
d=$(mktemp -d)
i=0; while [ $i -lt $N ]; do echo "name=f$i,idle=6s,deadline=5s"; i=$((i+1)); done > $d/flows
ip netns exec $ns sh -c "$B -q server --listen 127.0.0.1:5201 --ready-file $d/ready --results $d/srv.jsonl" & sp=$!
while [ ! -e $d/ready ]; do sleep 0.1; done
ip netns exec $ns sh -c "$B -q client --server 127.0.0.1:5201 --flows-file $d/flows --json $d/out.jsonl --no-table" & cp=$!
sleep 4
cpid=$(pgrep -f "flows-file $d/flows" | while read p; do grep -q "^Name:.*idlegate-pr" /proc/$p/status && echo $p; done | head -1)
spid=$(pgrep -f "ready-file $d/ready" | while read p; do grep -q "^Name:.*idlegate-pr" /proc/$p/status && echo $p; done | head -1)
cr=$(awk "/VmRSS/{print \$2}" /proc/$cpid/status); sr=$(awk "/VmRSS/{print \$2}" /proc/$spid/status)
echo "client RSS $cr kB, server RSS $sr kB: $((cr * 1024 / N)) / $((sr * 1024 / N)) bytes per connection at $N"
echo "client fds: $(ls /proc/$cpid/fd | wc -l)"
wait $cp; echo "client rc $?"
kill $spid 2>/dev/null; wait $sp
echo "outcomes: $(grep -o '"outcome":"[a-z-]*"' $d/out.jsonl | sort | uniq -c | head)"
ip netns del $ns; rm -rf $d
