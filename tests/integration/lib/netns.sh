# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the idlegate-sim integration tests: a client — middlebox — server
# topology in three network namespaces this test creates (names unique per
# process), idlegate-sim started in the middlebox, and small helpers. Every
# namespace and process is removed on any exit.
#
#   client 198.51.100.2/24, 2001:db8:1::2/64   (c0)
#   mb     198.51.100.1/24  (mi0)  203.0.113.1/24, 2001:db8:2::1/64 (mo0)
#   server 203.0.113.2/24,  2001:db8:2::2/64   (s0)
# The server has a route back to the client network unless NETNS_NAT=1 (then
# only NAT makes replies possible).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
SIM=${IDLEGATE_SIM:-$ROOT/build/idlegate-sim}
PEER="python3 $ROOT/tests/integration/lib/peer.py"
TAG=${TAG:-ig}$$
NS_C=$TAG-c NS_M=$TAG-m NS_S=$TAG-s
WORK=$(mktemp -d /tmp/idlegate-$TAG.XXXXXX)
PIDS=()

source "$ROOT/tests/lib/testlib.sh"
FAIL_SHOW=("$WORK/sim.err")

netns_cleanup() {
	local p ns
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# whatever still runs inside our namespaces (a background `nsx ... &`
	# is a subshell: killing it leaves the command itself running)
	for ns in "$NS_C" "$NS_M" "$NS_S"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	ip netns del "$NS_C" 2>/dev/null
	ip netns del "$NS_M" 2>/dev/null
	ip netns del "$NS_S" 2>/dev/null
	rm -rf "$WORK"
}

# from the moment WORK exists: a test that skips or fails before its
# topology is built leaves nothing either
trap netns_cleanup EXIT
trap 'exit 1' INT TERM

netns_require() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	[ -x "$SIM" ] || skip "$SIM not built"
	command -v python3 >/dev/null || skip "needs python3"
	modprobe nfnetlink_queue 2>/dev/null
	modprobe nft_compat 2>/dev/null
	true
}

# netns_setup: build the topology. NETNS_NAT=1: no server route back.
netns_setup() {
	netns_require
	ip netns add "$NS_C" && ip netns add "$NS_M" && ip netns add "$NS_S" || fail "ip netns add"
	ip -n "$NS_C" link add c0 type veth peer name mi0 netns "$NS_M" || fail "veth"
	ip -n "$NS_S" link add s0 type veth peer name mo0 netns "$NS_M" || fail "veth"
	ip -n "$NS_C" link set lo up; ip -n "$NS_M" link set lo up; ip -n "$NS_S" link set lo up
	ip -n "$NS_C" addr add 198.51.100.2/24 dev c0
	ip -n "$NS_C" addr add 2001:db8:1::2/64 dev c0 nodad
	ip -n "$NS_M" addr add 198.51.100.1/24 dev mi0
	ip -n "$NS_M" addr add 2001:db8:1::1/64 dev mi0 nodad
	ip -n "$NS_M" addr add 203.0.113.1/24 dev mo0
	ip -n "$NS_M" addr add 2001:db8:2::1/64 dev mo0 nodad
	ip -n "$NS_S" addr add 203.0.113.2/24 dev s0
	ip -n "$NS_S" addr add 2001:db8:2::2/64 dev s0 nodad
	ip -n "$NS_C" link set c0 up; ip -n "$NS_M" link set mi0 up
	ip -n "$NS_M" link set mo0 up; ip -n "$NS_S" link set s0 up
	ip -n "$NS_C" route add default via 198.51.100.1
	ip -n "$NS_C" -6 route add default via 2001:db8:1::1
	if [ "${NETNS_NAT:-0}" != 1 ]; then
		ip -n "$NS_S" route add 198.51.100.0/24 via 203.0.113.1
		ip -n "$NS_S" -6 route add 2001:db8:1::/64 via 2001:db8:2::1
	fi
	ip netns exec "$NS_M" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# nsx NS CMD...: run in a namespace
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# sim_start ARGS...: start idlegate-sim in the middlebox with a control
# socket and event log in $WORK, and wait for its ready file.
sim_start() {
	rm -f "$WORK/ready"
	ip netns exec "$NS_M" "$SIM" --inside mi0 --outside mo0 --ctl "$WORK/ctl" \
		--events "$WORK/events.jsonl" --ready-file "$WORK/ready" --no-ready-line \
		"$@" >"$WORK/sim.out" 2>"$WORK/sim.err" &
	SIM_PID=$!
	PIDS+=("$SIM_PID")
	wait_for 10 test -e "$WORK/ready" || fail "simulator not ready: $(cat "$WORK/sim.err")"
}

# sim_stop: SIGTERM and wait; the final stats line is in $WORK/sim.out
sim_stop() {
	kill -TERM "$SIM_PID" 2>/dev/null
	wait "$SIM_PID"
	SIM_RC=$?
}

# ctl JSON: one request, prints the reply line
ctl() {
	python3 - "$WORK/ctl" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(1 << 20)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}

# events_count FILTER: number of event lines matching a grep -E pattern
events_count() { grep -cE "$1" "$WORK/events.jsonl" 2>/dev/null || true; }
