#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate discover --server: a real path to an idlegate-probe server, here
# client -- idlegate-sim -- server in namespaces this test creates, with a
# NAT whose TCP and UDP timeouts are picked at random (seeded, printed).
# discover runs in the client namespace and knows nothing of the
# simulator: each timeout must come back within the stated resolution
# (plus 100 ms), the NAT's RST toward the inside must be named, and inbound-only
# UDP traffic (the server's heartbeats) must be seen to refresh the mapping.
source "$(dirname "$0")/lib/netns.sh"
IG=$ROOT/build/idlegate
PROBE=$ROOT/build/idlegate-probe
[ -x "$IG" ] && [ -x "$PROBE" ] || skip "not built"

SEED=${DISCOVER_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
TT=$(( 6 + RANDOM % 7 ))
TU=$(( 4 + RANDOM % 6 ))
echo "seed $SEED: tcp.established=${TT}s udp=${TU}s"

NETNS_NAT=1 netns_setup
sim_start --profile "$ROOT/scenarios/profiles/aws-nat-gateway.ini" --set nat.address=203.0.113.1 \
	--set tcp.established=${TT}s --set udp.assured=${TU}s --set udp.unreplied=${TU}s
nsx "$NS_S" "$PROBE" -q server --listen 203.0.113.2:7201 --results "$WORK/srv.jsonl" \
	--ready-file "$WORK/srv.ready" 2>"$WORK/srv.err" &
PIDS+=($!)
wait_for 10 test -e "$WORK/srv.ready" || fail "probe server not ready"

start=$(date +%s)
nsx "$NS_C" env TMPDIR="$WORK" "$IG" discover --server 203.0.113.2:7201 --max 16s --json "$WORK/d.json" \
	>"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
cat "$WORK/out"
[ $rc -eq 0 ] || fail "discover --server: exit $rc"
python3 - "$WORK/d.json" "$TT" "$TU" <<'PY' || fail "discover --server: answer"
import json, sys
d = json.load(open(sys.argv[1]))
for proto, T in (("tcp", int(sys.argv[2])), ("udp", int(sys.argv[3]))):
    m = d[proto]
    assert m["found"] and abs(m["timeout_s"] - T) <= m["resolution_s"] + 0.1, (proto, m, T)
assert d["behaviour"]["tcp_on_expire"] == "rst-inside-on-next", d["behaviour"]
assert d["behaviour"]["tcp_keepalive_refreshes"] is True, d["behaviour"]
# the profile's refresh = any: the server's heartbeats alone keep the UDP mapping
assert d["behaviour"]["udp_inbound_only_refreshes"] is True, d["behaviour"]
PY
pass "discover --server: TCP ${TT}s and UDP ${TU}s recovered through a real path in $took s"
