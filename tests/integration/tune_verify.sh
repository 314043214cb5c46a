#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# idlegate tune end to end on a scaled profile chosen at random (seeded,
# printed): the sweep finds a boundary; a scenario using the recommended
# kernel keepalive and heartbeat passes in the simulator, and the same
# settings one grid step above the boundary fail (the flow dies, or survives
# only because its state was expired and re-created). Also: the JSON and
# SVG are well formed, and bad options are refused with exit 2.
source "$(dirname "$0")/lib/runner.sh"

SEED=${TUNE_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
profiles=(aws-nat-gateway home-router-short azure-lb gcp-cloud-nat cisco-asa)
PROFILE=${profiles[$((RANDOM % ${#profiles[@]}))]}
T=$(( 10 + RANDOM % 7 ))
echo "seed $SEED: profile $PROFILE, tcp.established = ${T}s"

# -- usage errors, no root needed for them ----------------------------------
"$IG" tune --profile aws-nat-gateway --time-scale 3/4 >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "--time-scale 3/4 not refused with exit 2"
grep -q 'whole N' "$WORK/out" || fail "--time-scale 3/4: message"
"$IG" tune --profile aws-nat-gateway --set tcp.bogus=1s >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "--set unknown knob not refused"
"$IG" tune --profile aws-nat-gateway --loss 2 >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "--loss 2 not refused"
"$IG" tune --profile no-such-profile >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "unknown profile not refused"
"$IG" tune --profile linux-conntrack >"$WORK/out" 2>&1
[ $? -eq 2 ] || fail "a 5-day timeout should be refused as untunable"
pass "bad options refused with exit 2"

# -- the sweep ------------------------------------------------------------------
start=$(date +%s)
"$IG" tune --profile "$PROFILE" --set tcp.established=${T}s --json "$WORK/t.json" --svg "$WORK/t.svg" \
	>"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
[ $rc -eq 0 ] || fail "tune: exit $rc"
[ $took -le $(( T * 2 + 20 )) ] || fail "tune took $took s for a ${T} s timeout: not one run"
grep -q 'Recommendation' "$WORK/out" || fail "no recommendation in the text"
grep -q 'net.ipv4.tcp_keepalive_time' "$WORK/out" || fail "no sysctl line"
grep -q 'ServerAliveInterval' "$WORK/out" || fail "no OpenSSH line"
xmllint --noout "$WORK/t.svg" 2>/dev/null || python3 -c "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])" "$WORK/t.svg" ||
	fail "SVG not well formed"
grep -q 'class="recommendation"' "$WORK/t.svg" || fail "SVG lacks the recommendation"
python3 - "$WORK/t.json" "$T" "$WORK/verify.ini" "$PROFILE" <<'PY' || fail "tune JSON / verification scenario"
import json, sys
d = json.load(open(sys.argv[1])); T = int(sys.argv[2])
assert d["step_s"] == 1 and d["time_scale"] == "1", d
out = ["[scenario]", "description = tune verification", "[middlebox m]", "profile = " + sys.argv[4],
       "tcp.established = %ds" % T]
for kind, c in d["combined"].items():
    b, r = c["boundary_s"], c["recommended"]
    assert b is not None and r is not None, (kind, c)
    # the boundary lies just below the timeout: within one step
    assert T - 2 <= b < T, (kind, b, T)
    assert r["value_s"] <= 0.8 * b, (kind, r, b)
    sw = d["profiles"][0]["sweeps"]
    above = b + d["step_s"]
    if kind == "kernel-keepalive":
        ok = "keepalive = %ds,%ds,%d" % (r["idle_s"], r["interval_s"], r["count"])
        bad = "keepalive = %ds,%ds,3" % (above, max(1, above // 5))
    else:
        ok = "heartbeat = %ds" % r["interval_s"]
        bad = "heartbeat = %ds" % above
    for name, setting in (("rec", ok), ("above", bad)):
        out += ["[flow %s-%s]" % (kind[:2], name), setting, "idle = %ds" % (T + T // 4 + 2),
                "speaker = server", "deadline = 3s", "expect = alive"]
open(sys.argv[3], "w").write("\n".join(out) + "\n")
PY
pass "tune: boundary just below ${T}s, recommendation within 80 % of it, in $took s"

# -- the recommendation survives, a step above the boundary does not --------------
"$IG" run --no-progress --json "$WORK/v.json" "$WORK/verify.ini" >"$WORK/out" 2>&1
python3 - "$WORK/v.json" <<'PY' || fail "verification run"
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["scenarios"][0]["flows"]:
    n, obs, ev = f["name"], f["observed"], f["evidence"]
    assert f["status"] != "ERROR", f
    if n.endswith("-rec"):
        assert obs == "alive" and "expired the flow" not in ev, f
    else:
        assert obs != "alive" or "expired the flow" in ev, f
PY
pass "$PROFILE at ${T}s: the recommended settings pass, one step above the boundary fails"
