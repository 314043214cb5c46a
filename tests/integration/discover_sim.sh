#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate discover against the simulator configured at random (seeded,
# printed): TCP and UDP timeouts, what happens on TCP expiry, whether the
# NAT keeps the outside port, whether keepalives refresh, whether inbound-only
# UDP traffic refreshes (refresh = any vs outbound). Each timeout must
# be recovered within the stated resolution (plus 100 ms for timer jitter)
# and each behaviour named as configured.
source "$(dirname "$0")/lib/runner.sh"

SEED=${DISCOVER_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
TT=$(( 8 + RANDOM % 9 ))                # TCP timeout, s
TU=$(( 5 + RANDOM % 8 ))                # UDP timeout, s
expiries=(drop rst-inside-on-next rst-next-sender rst-both-at-expiry)
EXP=${expiries[$((RANDOM % 4))]}
ports=(preserve random)
PORTS=${ports[$((RANDOM % 2))]}
refreshes=(any any,data-only outbound outbound,data-only)
REF=${REFRESH:-${refreshes[$((RANDOM % 4))]}}
echo "seed $SEED: tcp.established=${TT}s udp=${TU}s on_expire=$EXP nat.ports=$PORTS refresh=$REF"

"$IG" discover --profile aws-nat-gateway --max 3s --server 1.2.3.4:5 >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "two targets not refused"

start=$(date +%s)
"$IG" discover --profile aws-nat-gateway --max 20s --json "$WORK/d.json" \
	--set tcp.established=${TT}s --set udp.assured=${TU}s --set udp.unreplied=${TU}s \
	--set on_expire=$EXP --set nat.ports=$PORTS --set refresh=$REF --set pickup=strict \
	>"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
cat "$WORK/out"
[ $rc -eq 0 ] || fail "discover: exit $rc"
[ $took -le 90 ] || fail "discover took $took s: not about max + timeout"
python3 - "$WORK/d.json" "$TT" "$TU" "$EXP" "$PORTS" "$REF" <<'PY' || fail "discover's answer"
import json, sys
d = json.load(open(sys.argv[1]))
TT, TU, exp, ports, ref = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
for proto, T in (("tcp", TT), ("udp", TU)):
    m = d[proto]
    assert m["found"], (proto, m)
    err = abs(m["timeout_s"] - T)
    assert err <= m["resolution_s"] + 0.1, (proto, m, T)
    assert m["resolution_s"] <= 1.0, m
b = d["behaviour"]
assert b["tcp_on_expire"] == exp, (b, exp)
assert b["udp_port_after_expiry"] == ("kept" if ports == "preserve" else "changed"), (b, ports)
# keepalive probes go outbound: refresh = outbound counts them unless data-only
assert b["tcp_keepalive_refreshes"] == ("data-only" not in ref), (b, ref)
# the server's heartbeats are inbound data: only refresh = any lets them refresh
assert b["udp_inbound_only_refreshes"] == ref.startswith("any"), (b, ref)
f = [x for x in d["fine"] if x["name"] == "b-udp-inbound"][0]
assert f["server_heartbeats"] > 0, f
if not ref.startswith("any"):
    # they stopped at about the timeout, within the coarse bracket
    assert f["last_server_heartbeat_ms"] <= d["udp"]["coarse"]["expired_s"] * 1000 + 200, (f, d["udp"])
PY
pass "discover: TCP ${TT}s and UDP ${TU}s recovered within the resolution, $EXP, port $PORTS, refresh $REF (inbound-only UDP refresh: $(case $REF in any*) echo yes;; *) echo no;; esac)), in $took s"
