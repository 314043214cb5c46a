#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate discover against the simulator configured at random (seeded,
# printed): TCP, UDP (one exchange) and UDP stream timeouts, what happens on
# TCP expiry (on_expire, pickup, inbound_unknown), NAT or not and its ports,
# which packets refresh. Each timeout must be recovered within the stated
# resolution (plus 100 ms for timer jitter), the wall time must stay within
# the bound discover stated, the behaviours must be named as valid knob
# values, and the profile it writes must replay the path: flows clear of
# every bracket end the same through the written profile as through the
# configured middlebox.
source "$(dirname "$0")/lib/runner.sh"
REPLAY="python3 $ROOT/tests/integration/lib/discover_replay.py"

SEED=${DISCOVER_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
TT=$(( 4 + RANDOM % 7 ))                # TCP timeout, s
TU=$(( 3 + RANDOM % 5 ))                # UDP unreplied, s
TS=$(( TU + 2 + RANDOM % 4 ))           # UDP assured, s
expiries=(drop rst-inside-on-next rst-next-sender rst-both-at-expiry)
EXP=${expiries[$((RANDOM % 4))]}
nats=(snat off)
NAT=${nats[$((RANDOM % 2))]}
ports=(preserve random)
PORTS=${ports[$((RANDOM % 2))]}
pickups=(strict loose)
PICK=${pickups[$((RANDOM % 2))]}
# without NAT, inbound_unknown = pass lets everything in: no timeout to see
inbounds=(drop rst pass)
n_in=3
[ "$NAT" = snat ] || n_in=2
IN=${inbounds[$((RANDOM % n_in))]}
refreshes=(any any,data-only outbound outbound,data-only)
REF=${REFRESH:-${refreshes[$((RANDOM % 4))]}}
SETS=(tcp.established=${TT}s udp.unreplied=${TU}s udp.assured=${TS}s on_expire=$EXP nat=$NAT
	nat.ports=$PORTS pickup=$PICK inbound_unknown=$IN refresh=$REF)
echo "seed $SEED: ${SETS[*]}"

"$IG" discover --profile aws-nat-gateway --max 3s --server 1.2.3.4:5 >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "two targets not refused"

args=()
for s in "${SETS[@]}"; do args+=(--set "$s"); done
start=$(date +%s%N)
"$IG" discover --profile aws-nat-gateway --max 12s --json "$WORK/d.json" --write-profile "$WORK/path.ini" \
	"${args[@]}" >"$WORK/out" 2>&1
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$WORK/out"
[ $rc -eq 0 ] || fail "discover: exit $rc"
head -1 "$WORK/out" | grep -q "takes at most" || fail "discover did not state its wall time first"
python3 - "$WORK/d.json" "$TT" "$TU" "$TS" "$NAT" "$PORTS" "$PICK" "$IN" "$REF" "$took" <<'PY' ||
import json, sys
d = json.load(open(sys.argv[1]))
TT, TU, TS = (int(x) for x in sys.argv[2:5])
nat, ports, pick, inb, ref, took = sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9], int(sys.argv[10])
for proto, T in (("tcp", TT), ("udp", TU), ("udp_stream", TS)):
    m = d[proto]
    assert m["found"], (proto, m)
    assert abs(m["timeout_s"] - T) <= m["resolution_s"] + 0.1, (proto, m, T)
    assert m["resolution_s"] <= 1.0, m
# the wall time: within the bound stated for the timeouts found, which is
# the longest coarse bracket + one fine pass + the stated overhead
b = d["bound"]
hi = max(d[p]["coarse"]["expired_s"] for p in ("tcp", "udp", "udp_stream")) * 1000
extra = 3000 + d["deadline_ms"]          # the stream flows' warmup, the deadline
assert b["wall_ms"] == hi + extra + b["fine_longest_idle_ms"] + extra + 2 * b["overhead_per_pass_ms"], b
assert d["wall_ms"] <= b["wall_ms"] and took <= b["wall_ms"] + 1000, (d["wall_ms"], took, b)
k, bh = d["knobs"], d["behaviour"]
assert k["nat"] == nat, (k, nat)
if nat == "snat":
    assert k["nat.ports"] == ports, (k, ports)
    assert bh["udp_port_after_expiry"] == ("kept" if ports == "preserve" else "changed"), bh
else:
    assert bh["udp_port_after_expiry"] is None, bh     # no NAT: no outside port to keep
# keepalive probes go outbound: refresh = outbound counts them unless
# data-only (with loose pickup a late probe may start the flow again)
if pick == "strict":
    assert bh["tcp_keepalive_refreshes"] == ("data-only" not in ref), (bh, ref)
# the server's heartbeats are inbound: only refresh = any lets them refresh
# (unless a firewall lets unknown inbound packets through anyway)
if nat == "snat" or inb != "pass":
    assert bh["udp_inbound_only_refreshes"] == ref.startswith("any"), (bh, ref)
PY
	fail "discover's answer"

# every behaviour is a valid knob value: the profile loads in a scenario
cat >"$WORK/check.ini" <<EOF
[scenario]
[middlebox m]
profile = $WORK/path.ini
[flow f]
idle = 1s
expect = alive
EOF
"$IG" check -q "$WORK/check.ini" >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "idlegate check refused the written profile"; }
cat "$WORK/path.ini"

# the replay: the same flows through the written profile and through the
# middlebox discover measured, at once
$REPLAY flows "$WORK/d.json" "$WORK/path.ini" "$WORK/replay.ini" "$WORK/flows.txt" || fail "replay flows"
{
	echo "[scenario]"
	echo "description = the measured middlebox"
	echo "[middlebox m]"
	echo "profile = aws-nat-gateway"
	for s in "${SETS[@]}"; do echo "${s%%=*} = ${s#*=}"; done
	sed -n '/^\[flow /,$p' "$WORK/replay.ini"
} >"$WORK/measured.ini"
"$IG" run -q --json "$WORK/r1.json" "$WORK/replay.ini" >"$WORK/r1.out" 2>&1 &
p1=$!; BG+=($p1)
"$IG" run -q --json "$WORK/r2.json" "$WORK/measured.ini" >"$WORK/r2.out" 2>&1
wait $p1
[ -s "$WORK/r1.json" ] && [ -s "$WORK/r2.json" ] || { cat "$WORK/r1.out" "$WORK/r2.out"; fail "replay runs"; }
$REPLAY same "$WORK/r1.json" "$WORK/r2.json" || fail "the written profile does not replay the path"
pass "discover: TCP ${TT}s, UDP ${TU}s, UDP stream ${TS}s within the resolution in ${took} ms (${SETS[*]:3}); the written profile replays the path"
