#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate discover --server against a real path: Linux conntrack with
# masquerade, or as a stateful firewall without NAT (picked at random), in a
# middlebox namespace this test creates, its TCP, UDP
# (unreplied) and UDP stream timeouts picked at random (seeded, printed) and
# set through the namespace's own sysctls. discover runs in the client
# namespace and knows nothing of them: each timeout must come back within
# the stated resolution (plus 100 ms), within the wall time it stated, and
# Linux's behaviour must be named as the knob values that reproduce it
# (on_expire = drop, pickup = loose, refresh = any; with masquerade
# inbound_unknown = pass, nat = snat, nat.ports = preserve; as a firewall
# inbound_unknown = drop, nat = off and nothing said of outside ports). Then the profile it wrote replays the
# path: the same flows, clear of every bracket, through idlegate run with
# that profile and through the kernel end the same.
source "$(dirname "$0")/lib/netns.sh"
IG=$ROOT/build/idlegate
PROBE=$ROOT/build/idlegate-probe
REPLAY="python3 $ROOT/tests/integration/lib/discover_replay.py"
[ -x "$IG" ] && [ -x "$PROBE" ] || skip "not built"
command -v nft >/dev/null || skip "needs nft"

SEED=${DISCOVER_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
TT=$(( 3 + RANDOM % 6 ))
TU=$(( 3 + RANDOM % 4 ))
TS=$(( TU + 2 + RANDOM % 4 ))
modes=(nat firewall)
MODE=${DISCOVER_MODE:-${modes[$((RANDOM % 2))]}}
echo "seed $SEED: kernel conntrack as a $MODE, tcp established ${TT}s, udp ${TU}s, udp stream ${TS}s"

if [ "$MODE" = nat ]; then
	NETNS_NAT=1 netns_setup
	nsx "$NS_M" nft -f - <<NFT || fail "nft masquerade"
table ip discover {
	chain post { type nat hook postrouting priority srcnat; oifname "mo0" masquerade; }
}
NFT
else
	netns_setup
	nsx "$NS_M" nft -f - <<NFT || fail "nft firewall"
table ip discover {
	chain filt { type filter hook forward priority filter; policy drop;
		ct state established,related accept; iifname "mi0" accept; }
}
NFT
fi
chmod 711 "$WORK"       # idlegate run's unprivileged processes pass through it
nsx "$NS_M" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=$TT \
	net.netfilter.nf_conntrack_udp_timeout=$TU net.netfilter.nf_conntrack_udp_timeout_stream=$TS ||
	fail "conntrack sysctls"
nsx "$NS_S" "$PROBE" -q server --listen 203.0.113.2:7201 --results "$WORK/srv.jsonl" \
	--ready-file "$WORK/srv.ready" 2>"$WORK/srv.err" &
PIDS+=($!)
wait_for 10 test -e "$WORK/srv.ready" || fail "probe server not ready"

start=$(date +%s%N)
nsx "$NS_C" env TMPDIR="$WORK" "$IG" discover --server 203.0.113.2:7201 --max 12s --json "$WORK/d.json" \
	--write-profile "$WORK/path.ini" >"$WORK/out" 2>&1
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$WORK/out"
[ $rc -eq 0 ] || fail "discover --server: exit $rc"
python3 - "$WORK/d.json" "$TT" "$TU" "$TS" "$took" "$MODE" <<'PY' || fail "discover --server: answer"
import json, sys
d = json.load(open(sys.argv[1]))
TT, TU, TS, took = (int(x) for x in sys.argv[2:6])
mode = sys.argv[6]
for proto, T in (("tcp", TT), ("udp", TU), ("udp_stream", TS)):
    m = d[proto]
    assert m["found"] and abs(m["timeout_s"] - T) <= m["resolution_s"] + 0.1, (proto, m, T)
b = d["bound"]
hi = max(d[p]["coarse"]["expired_s"] for p in ("tcp", "udp", "udp_stream")) * 1000
extra = 3000 + d["deadline_ms"]
assert b["wall_ms"] == hi + extra + b["fine_longest_idle_ms"] + extra + 2 * b["overhead_per_pass_ms"], b
assert took <= b["wall_ms"] + 1000, (took, b)
want = {"on_expire": "drop", "pickup": "loose", "refresh": "any"}
if mode == "nat":
    want.update({"inbound_unknown": "pass", "nat": "snat", "nat.ports": "preserve"})
    assert d["behaviour"]["udp_port_after_expiry"] == "kept", d["behaviour"]
else:
    want.update({"inbound_unknown": "drop", "nat": "off", "nat.ports": None})
    assert d["behaviour"]["udp_port_after_expiry"] is None, d["behaviour"]
for k, v in want.items():
    assert d["knobs"].get(k) == v, (k, d["knobs"])
assert d["behaviour"]["tcp_keepalive_refreshes"] is True, d["behaviour"]
assert d["behaviour"]["udp_inbound_only_refreshes"] is True, d["behaviour"]
PY
cat "$WORK/path.ini"
printf '[scenario]\n[middlebox m]\nprofile = %s\n[flow f]\nidle = 1s\nexpect = alive\n' "$WORK/path.ini" >"$WORK/check.ini"
"$IG" check -q "$WORK/check.ini" || fail "idlegate check refused the written profile"

# the replay: the same flows through the kernel and through the written profile, at once
$REPLAY flows "$WORK/d.json" "$WORK/path.ini" "$WORK/replay.ini" "$WORK/flows.txt" || fail "replay flows"
nsx "$NS_C" "$PROBE" -q client --server 203.0.113.2:7201 --flows-file "$WORK/flows.txt" --no-table \
	--json "$WORK/kernel.jsonl" 2>"$WORK/kernel.err" &
pk=$!
TMPDIR=$WORK "$IG" run -q --json "$WORK/r1.json" "$WORK/replay.ini" >"$WORK/r1.out" 2>&1
wait $pk
[ -s "$WORK/r1.json" ] && [ -s "$WORK/kernel.jsonl" ] ||
	{ cat "$WORK/r1.out" "$WORK/kernel.err"; fail "replay runs"; }
$REPLAY same "$WORK/r1.json" "$WORK/kernel.jsonl" || fail "the written profile does not replay the kernel's path"
pass "discover --server: kernel conntrack as a $MODE, TCP ${TT}s, UDP ${TU}s, UDP stream ${TS}s recovered in ${took} ms as Linux's knob values; the written profile replays it"
