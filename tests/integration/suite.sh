#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The regression suite: every scenario in scenarios/ (one per device profile
# and per knob behaviour) and the examples, run in parallel, must meet its
# expectations; the JUnit report must be valid XML with one testcase per
# flow and no failures, and the JSON report validates against its schema.
source "$(dirname "$0")/lib/runner.sh"

cd "$ROOT"
files=(scenarios/*.ini scenarios/examples/*.ini)
[ ${#files[@]} -ge 25 ] || fail "only ${#files[@]} scenarios"
"$IG" check "${files[@]}" >"$WORK/check" 2>&1 || { cat "$WORK/check"; fail "idlegate check"; }
# the scenario shown in README.md must be valid too
sed -n '/^```ini/,/^```/p' README.md | sed '1d;$d' >"$WORK/readme.ini"
"$IG" check "$WORK/readme.ini" >/dev/null || fail "README.md's scenario does not check"
flows=$("$IG" check "${files[@]}" | sed -n 's/.*, \([0-9]*\) flows\?,.*/\1/p' | paste -sd+ | bc)

"$IG" run -j "${SUITE_JOBS:-6}" --junit "$WORK/suite.xml" --json "$WORK/suite.json" "${files[@]}" >"$WORK/out" 2>&1
rc=$?
grep -E '^ *[a-z0-9.-]+ .* (FAIL|ERROR)$' -A1 "$WORK/out" | head -40
tail -n 3 "$WORK/out"
[ $rc -eq 0 ] || fail "idlegate run exited $rc"

python3 - "$WORK/suite.xml" "$flows" <<'PY' || fail "JUnit report"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall('.//testcase')
assert len(cases) == int(sys.argv[2]), (len(cases), sys.argv[2])
bad = [c.get('name') for c in cases if c.find('failure') is not None or c.find('error') is not None]
assert not bad, bad
print("junit: %d testcases in %d testsuites, all passed" % (len(cases), len(root.findall('testsuite'))))
PY
if python3 -c 'import jsonschema' 2>/dev/null; then
	python3 "$ROOT/tests/lib/check_report.py" json "$WORK/suite.json" || fail "the suite's JSON report does not validate"
fi
# connections that never got through say so, with what the middlebox did
# to their SYNs (table full: dropped; NAT out of ports: RST or ICMP)
python3 - "$WORK/suite.json" <<'PY' || fail "evidence of connections that never got through"
import json, re, sys
r = json.load(open(sys.argv[1]))
fl = {(s["file"].split("/")[-1], f["name"]): f for s in r["scenarios"] for f in s["flows"]}
want = {
    ("table-full-refuse.ini", "pool"): r"pool\.\d+: never connected: no answer to the SYN, .*\(middlebox fw dropped [1-9]\d* packets?\)$",
    ("nat-exhausted-answers.ini", "pool-rst"): r"never connected: the SYN was answered with RST \(ECONNREFUSED\)",
    ("nat-exhausted-answers.ini", "pool-icmp"): r"never connected: the SYN was answered with ICMP unreachable \(EHOSTUNREACH\)",
}
for k, rx in want.items():
    e = fl[k]["evidence"]
    assert re.search(rx, e), (k, e)
    assert "after ? idle" not in e and "never connected" in e, (k, e)
    assert fl[k]["totals"]["drops"] > 0, (k, fl[k]["totals"])
print("never connected: said, with the middleboxes' drops, in %d groups" % len(want))
PY
pass "${#files[@]} scenarios, $flows flows, all as expected"
