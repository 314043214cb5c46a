# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the `idlegate run` integration tests (run_*.sh): paths, a work
# directory used as TMPDIR (so each run's private directory is ours to
# inspect), small scenario files, and checks that a run left nothing behind.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
IG=$ROOT/build/idlegate
WORK=$(mktemp -d /tmp/idlegate-rt$$.XXXXXX)
chmod 711 "$WORK"       # the run's unprivileged processes pass through it
export TMPDIR=$WORK
BG=()

source "$ROOT/tests/lib/testlib.sh"
FAIL_SHOW=("$WORK/out")

runner_cleanup() {
	local p
	for p in "${BG[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap runner_cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" -eq 0 ] || skip "needs root"
[ -x "$IG" ] && [ -x "$ROOT/build/idlegate-sim" ] && [ -x "$ROOT/build/idlegate-probe" ] || skip "not built"


# A scenario that fails fast: the NAT forgets after 2 s (scaled), the flow
# idles 4 s and expects to live (it gets a RST: the NAT expired the flow). $1: file, $2: expect (default alive)
fast_scenario() {
	cat >"$1" <<INI
[scenario]
description = test: NAT forgets after 10 s, flow idles 20 s
time_scale = 1/5
[middlebox nat]
profile = aws-nat-gateway
tcp.established = 10s
[flow idle-20s]
idle = 20s
keepalive = off
speaker = client
deadline = 5s
expect = ${2:-alive}
INI
}

# A scenario that runs long enough to be interrupted (30 s of idle).
long_scenario() {
	cat >"$1" <<INI
[scenario]
description = test: long idle, to be interrupted
[middlebox fw]
profile = linux-conntrack
[flow long]
idle = 30s
expect = alive
INI
}


# run_snapshot PID: remember the run's processes and network namespaces
run_snapshot() {
	SNAP_PIDS=$(descendants "$1" | sort -u)
	# a namespace's inode number is reused once it is gone: a process
	# started after this moment in a namespace of the same number belongs
	# to another run (tests run in parallel)
	SNAP_TICKS=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", $1 * hz + 1 }' /proc/uptime)
	SNAP_NS=$(for p in $SNAP_PIDS; do readlink /proc/$p/ns/net 2>/dev/null; done | sort -u |
		grep -vxF "$(readlink /proc/self/ns/net)")
	[ -n "$SNAP_NS" ] || fail "the run has no namespace of its own"
}

# nothing_left: no process of the snapshot runs and no process anywhere is in
# one of its namespaces; no named ig-RUNPID namespace; no run link in root.
nothing_left_now() {
	local p ns
	for p in $SNAP_PIDS; do
		[ -d /proc/"$p" ] && [ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" != Z ] && return 1
	done
	for ns in $SNAP_NS; do
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p"/ns/net 2>/dev/null)" = "$ns" ] || continue
			[ "$(awk '{ print $22 }' "$p"/stat 2>/dev/null)" -gt "$SNAP_TICKS" ] 2>/dev/null && continue
			return 1
		done
	done
	ip netns list | grep -q "^ig-$1-" && return 1
	ip -o link show dev inside >/dev/null 2>&1 && return 1
	ip -o link show dev outside >/dev/null 2>&1 && return 1
	return 0
}
nothing_left() {
	wait_for 10 nothing_left_now "$1" || fail "$2: something was left: $(
		for p in $SNAP_PIDS; do [ -d /proc/$p ] && echo "pid $p $(tr '\0' ' ' </proc/$p/cmdline) $(awk '{print $3}' /proc/$p/stat)"; done
		for ns in $SNAP_NS; do for p in /proc/[0-9]*; do
			[ "$(readlink "$p"/ns/net 2>/dev/null)" = "$ns" ] && echo "in $ns: $p $(tr '\0' ' ' <$p/cmdline)"; done; done
		ip netns list | grep "^ig-$1-"; ip -o link show dev inside; ip -o link show dev outside)"
}
