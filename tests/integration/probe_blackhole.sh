#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate-probe across two namespaces joined by a veth pair, as root.
# Phase 1: the server's namespace turns into a blackhole (nft drop) during
# the idle period: keepalive 1s/1s/3 must end as keepalive-timeout at ~4 s,
# TCP_USER_TIMEOUT with heartbeats as keepalive-timeout, a flow without
# keepalive as timeout at idle + deadline, UDP as timeout; the client must
# say it could not get the server's side.
# Phase 2: the server's namespace rejects with ICMP host-unreachable: the
# first packet after the idle must end the flow as unreachable.
set -u
cd "$(dirname "$0")/../.."
source tests/lib/testlib.sh
PROBE=${PROBE:-build/idlegate-probe}
[ -x "$PROBE" ] || skip "$PROBE not built"
command -v nft >/dev/null || skip "nft missing"
command -v jq >/dev/null || skip "jq missing"

tag=igpbh$$
C=$tag-c S=$tag-s
tmp=$(mktemp -d /tmp/$tag.XXXXXX)
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	for ns in "$C" "$S"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	ip netns del "$C" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

FAIL_SHOW=("$tmp/c.json")

ip netns add "$C" && ip netns add "$S" || { echo "skip: cannot create namespaces"; exit 77; }
ip link add v0 netns "$C" type veth peer name v1 netns "$S" || fail "veth"
ip -n "$C" addr add 10.199.0.1/24 dev v0
ip -n "$S" addr add 10.199.0.2/24 dev v1
ip -n "$C" link set v0 up; ip -n "$C" link set lo up
ip -n "$S" link set v1 up; ip -n "$S" link set lo up

start_server() {
	rm -f "$tmp/ready"
	ip netns exec "$S" "$PROBE" -v -v server --listen 10.199.0.2:7201 --ready-file "$tmp/ready" \
		--results "$tmp/s.json" 2>"$tmp/s.log" &
	spid=$!
	for _ in $(seq 100); do [ -f "$tmp/ready" ] && return 0; sleep 0.05; done
	fail "server not ready: $(cat "$tmp/s.log")"
}

# wait (with a deadline) until the server has taken n flows
wait_flows() {
	local n=$1
	for _ in $(seq 100); do
		[ "$(grep -c ': tcp, idle\|: udp, idle' "$tmp/s.log")" -ge "$n" ] && return 0
		sleep 0.05
	done
	fail "server took only $(grep -c 'idle' "$tmp/s.log") of $n flows"
}

# flow name -> field
flow_field() { jq -r --arg f "$1" "select(.flow == \$f) | $2" "$tmp/c.json"; }
in_range() { # value lo hi what
	[ "$1" != null ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4: $1 not in [$2, $3]"
}

# ---- phase 1: blackhole ----
start_server
ip netns exec "$C" "$PROBE" client --server 10.199.0.2:7201 --query-timeout 1s --json "$tmp/c.json" \
	--flow name=ka,keepalive=1s/1s/3,idle=8s,expect=keepalive-timeout \
	--flow name=uto,user_timeout=3s,heartbeat=1s,idle=8s,expect=keepalive-timeout \
	--flow name=noka,idle=2s,deadline=2s,expect=timeout \
	--flow name=noka-srv,idle=2s,deadline=2s,speaker=server,expect=timeout \
	--flow name=udp,proto=udp,idle=2s,deadline=2s,expect=timeout \
	>"$tmp/c.table" 2>"$tmp/c.log" &
cpid=$!
wait_flows 5
ip netns exec "$S" nft -f - <<NFT || fail "nft"
table inet $tag {
	chain in { type filter hook input priority 0; policy drop; }
	chain out { type filter hook output priority 0; policy drop; }
}
NFT
wait $cpid
rc=$?
cat "$tmp/c.table"
[ $rc -eq 0 ] || fail "client exit $rc (an expectation failed)"
in_range "$(flow_field ka .at_ms)" 3500 5500 "ka: keepalive timeout"
[ "$(flow_field ka .client.errno_name)" = ETIMEDOUT ] || fail "ka: errno $(flow_field ka .client.errno_name)"
[ "$(flow_field ka .client.tcp_info.probes)" -ge 1 ] 2>/dev/null || [ "$(flow_field ka .client.tcp_info.state)" = close ] ||
	fail "ka: tcp_info $(flow_field ka .client.tcp_info)"
in_range "$(flow_field uto .at_ms)" 3500 5500 "uto: user timeout"
in_range "$(flow_field noka .at_ms)" 4000 4500 "noka: idle + deadline"
[ "$(flow_field noka .noticed_by)" = client ] || fail "noka: noticed by $(flow_field noka .noticed_by)"
[ "$(flow_field udp .server_reachable)" = false ] || fail "udp: server reachable through a blackhole?"
kill "$spid"; wait "$spid"; spid=
# the server, stopped, wrote its unfinished flows as interrupted or timed out
[ "$(wc -l <"$tmp/s.json")" -ge 5 ] || fail "server results: $(cat "$tmp/s.json")"

# ---- phase 2: ICMP host unreachable ----
ip netns exec "$S" nft delete table inet $tag
# the ICMP errors below must not be rate-limited away
ip netns exec "$S" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000
start_server
ip netns exec "$C" "$PROBE" client --server 10.199.0.2:7201 --query-timeout 1s --json "$tmp/c.json" \
	--flow name=tcp,idle=2s,deadline=2s,expect=unreachable \
	--flow name=udp,proto=udp,idle=2s,deadline=2s,expect=unreachable \
	>"$tmp/c.table" 2>"$tmp/c.log" &
cpid=$!
wait_flows 2
ip netns exec "$S" nft -f - <<NFT || fail "nft"
table inet $tag {
	chain in { type filter hook input priority 0; ip saddr 10.199.0.1 reject with icmp type host-unreachable; }
}
NFT
wait $cpid
rc=$?
cat "$tmp/c.table"
[ $rc -eq 0 ] || fail "client exit $rc (an expectation failed)"
[ "$(flow_field tcp .client.errno_name)" = EHOSTUNREACH ] || fail "tcp: errno $(flow_field tcp .client.errno_name)"
in_range "$(flow_field tcp .at_ms)" 2000 2500 "tcp: first packet after the idle"
echo "ok"
