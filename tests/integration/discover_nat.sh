#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate discover's RFC 5780 tests against the simulator's RFC 4787 knobs
# as the oracle: every nat.mapping x nat.filtering combination (3 x 3, all
# at once, time-scaled), with nat.ports preserve or random (seeded, printed).
# Each discover must report exactly the configured mapping, filtering and
# ports, say hairpinning was tried and did not happen (the simulator does
# not hairpin), stay within the wall time it stated, and write a profile
# that `idlegate check` accepts and that holds the same three knob values.
source "$(dirname "$0")/lib/runner.sh"

SEED=${DISCOVER_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
behaviours=(endpoint-independent address-dependent address-and-port-dependent)
ports=(preserve random)
echo "seed $SEED"

combos=()
pids=()
i=0
for m in "${behaviours[@]}"; do
	for f in "${behaviours[@]}"; do
		p=${ports[$((RANDOM % 2))]}
		combos+=("$m $f $p")
		# 10x faster: the UDP timeouts are seconds on the clock, longer
		# than the tests' gaps between refreshing packets (1 s)
		"$IG" discover --profile linux-conntrack --proto udp --max 60s --time-scale 1/10 \
			--set nat=snat --set nat.port_reuse=exclusive --set nat.mapping="$m" --set nat.filtering="$f" --set nat.ports="$p" \
			--set udp.unreplied=30s --set udp.assured=40s \
			--json "$WORK/d$i.json" --write-profile "$WORK/p$i.ini" >"$WORK/out$i" 2>&1 &
		pids+=($!); BG+=($!)
		i=$((i + 1))
	done
done
start=$(date +%s%N)
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/out$i"; fail "discover (${combos[$i]}): exit $rc"; }
done
took=$(( ($(date +%s%N) - start) / 1000000 ))

for i in "${!combos[@]}"; do
	read -r m f p <<<"${combos[$i]}"
	python3 - "$WORK/d$i.json" "$m" "$f" "$p" <<'PY' || { cat "$WORK/out$i"; fail "discover's answer (${combos[$i]})"; }
import json, sys
d = json.load(open(sys.argv[1]))
m, f, p = sys.argv[2:5]
k, r = d["knobs"], d["rfc5780"]
assert k["nat"] == "snat", k
assert k.get("nat.mapping") == m, (k, m)
assert k.get("nat.filtering") == f, (k, f)
assert k.get("nat.ports") == p, (k, p)
assert r["run"] and r["not_measured"] is None, r
assert r["hairpin"] is False, r              # tried; the simulator does not hairpin
assert r["udp_port_kept"] == (p == "preserve"), r
assert d["wall_ms"] <= d["bound"]["wall_ms"], (d["wall_ms"], d["bound"])
assert d["bound"]["nat_tests_ms"] > 0, d["bound"]
PY
	grep -qx "nat.mapping = $m" "$WORK/p$i.ini" && grep -qx "nat.filtering = $f" "$WORK/p$i.ini" &&
		grep -qx "nat.ports = $p" "$WORK/p$i.ini" || { cat "$WORK/p$i.ini"; fail "profile $i (${combos[$i]})"; }
	cat >"$WORK/check$i.ini" <<INI
[scenario]
[middlebox m]
profile = $WORK/p$i.ini
[flow f]
idle = 1s
expect = alive
INI
	"$IG" check -q "$WORK/check$i.ini" >"$WORK/out" 2>&1 ||
		{ cat "$WORK/out" "$WORK/p$i.ini"; fail "idlegate check refused profile $i (${combos[$i]})"; }
done
pass "discover told nat.mapping x nat.filtering exactly in all 9 combinations (ports: ${combos[*]##* }) in ${took} ms, profiles accepted"
