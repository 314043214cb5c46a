#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The reports of a real run tell the whole truth, in files CI tools accept:
# the UDP heartbeat scenario run with every report; the JSON validates
# against docs/schema/report.schema.json with its timeline in time order,
# the JUnit file against the Jenkins/GitLab schema (tests/data/junit-10.xsd)
# with per-flow times and the same lines as the JSON; the SVG shows the
# heartbeats and the data exchanges; the HTML page is self-contained and
# renders in a real headless browser (chromium) to a screenshot with the
# table and the timeline. Reports go to standard output with "-", through a
# symlink (which stays one), into a FIFO, and never replace a device. A
# flow group's SVG lane holds the histogram of its connections' ends.
source "$(dirname "$0")/lib/runner.sh"

command -v xmllint >/dev/null || skip "xmllint missing (scripts/deps.sh)"
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema missing (scripts/deps.sh)"

# -- the heartbeat scenario with every report ---------------------------------
ln -s "$WORK/junit-target.xml" "$WORK/junit-link.xml"
"$IG" run --no-progress --json - --junit "$WORK/junit-link.xml" --html "$WORK/r.html" \
	--svg "$WORK/svg" "$ROOT/scenarios/udp-heartbeat.ini" >"$WORK/r.json" 2>"$WORK/out"
rc=$?
[ $rc -eq 0 ] || fail "heartbeat scenario: exit $rc"
grep -q '2 passed, 0 failed' "$WORK/out" || fail "--json -: the table did not go to standard error"
python3 "$ROOT/tests/lib/check_report.py" json "$WORK/r.json" || fail "the JSON report does not validate"
pass "--json - writes the report to standard output; it validates against docs/schema/report.schema.json, timeline in time order"

[ -L "$WORK/junit-link.xml" ] || fail "--junit through a symlink replaced the symlink"
[ -s "$WORK/junit-target.xml" ] || fail "--junit through a symlink: the target is empty"
python3 "$ROOT/tests/lib/check_report.py" junit "$WORK/junit-link.xml" || fail "the JUnit report does not validate"
python3 - "$WORK/r.json" "$WORK/junit-link.xml" <<'PY' || fail "JUnit and JSON disagree"
import json, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))["scenarios"][0]
s = ET.parse(sys.argv[2]).getroot().find("testsuite")
assert s.get("timestamp"), s.attrib
tc = {t.get("name"): t for t in s.findall("testcase")}
for f in j["flows"]:
    t = tc[f["name"]]
    assert int(t.get("line")) == f["line"], (t.attrib, f["line"])
    assert abs(float(t.get("time")) * 1000 - f["wall_ms"]) <= 1, (t.attrib, f["wall_ms"])
    assert float(t.get("time")) <= float(s.get("time")), (t.attrib, s.attrib)
# the heartbeat flow ended at 60 s of scenario time (12 s at 1/5), not with the scenario
assert float(tc["heartbeat-25s"].get("time")) < 0.9 * float(s.get("time")), tc["heartbeat-25s"].attrib
PY
pass "JUnit: validates against junit-10.xsd, per-flow times, timestamp, same lines as the JSON; written through a symlink"

# -- the timeline tells the whole truth ------------------------------------------
python3 - "$WORK/r.json" "$WORK/svg/udp-heartbeat.svg" <<'PY' || fail "timeline"
import json, re, sys, xml.etree.ElementTree as ET
tl = json.load(open(sys.argv[1]))["scenarios"][0]["timeline"]
hb = [m for m in tl if m["kind"] == "heartbeat" and m["flow"] == "heartbeat-25s"]
assert len(hb) == 2 and all(m["dir"] == "c2s" for m in hb), hb          # 25 s and 50 s of a 60 s idle
assert not [m for m in tl if m["kind"] == "heartbeat" and m["flow"] == "no-heartbeat"]
data = [m for m in tl if m["kind"] == "data" and m["flow"] == "heartbeat-25s"]
assert {m["dir"] for m in data} == {"c2s", "s2c"}, data
ns = {"s": "http://www.w3.org/2000/svg"}
svg = ET.parse(sys.argv[2]).getroot()
titles = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}title")]
hbm = [t for t in titles if re.match(r"\d+s: heartbeat heartbeat-25s", t)]
assert len(hbm) == 2, titles
assert [t for t in titles if ": data heartbeat-25s" in t], titles
# the teal heartbeat dots are drawn in the lane
dots = [c for c in svg.iter("{http://www.w3.org/2000/svg}circle") if c.get("fill") == "#138d90"
        and (c.findtext("{http://www.w3.org/2000/svg}title") or "").find("heartbeat-25s") > 0]
assert len(dots) == 2, len(dots)
# the axis ends near the run: no tick beyond 110% of the last mark
last = max(m["t_ms"] for m in tl)
ticks = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.text and re.fullmatch(r"(\d+m)?(\d+s)?", t.text)]
def ms(s):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", s)
    return (int(m.group(1) or 0) * 60 + int(m.group(2) or 0)) * 1000
assert ticks and max(ms(t) for t in ticks) <= last * 1.1, (ticks, last)
PY
pass "timeline: the heartbeats and data exchanges are in the JSON and drawn in the SVG; the axis ends near the run"

# -- a flow group's lane: a histogram of its connections' ends and expiries ------
# 1,000 pooled connections in two groups of 500 behind a 350 s NAT (1/50):
# the half without keepalive is expired, then reset; the other half lives
"$IG" run --no-progress --json "$WORK/g.json" --svg "$WORK/gsvg" --junit "$WORK/g.xml" --html "$WORK/g.html" \
	"$ROOT/scenarios/pool-keepalive-half.ini" >"$WORK/out" 2>&1 || fail "group scenario: exit $?"
python3 "$ROOT/tests/lib/check_report.py" json "$WORK/g.json" || fail "group scenario: the JSON report does not validate"
python3 "$ROOT/tests/lib/check_report.py" junit "$WORK/g.xml" || fail "group scenario: the JUnit report does not validate"
python3 - "$WORK/g.json" "$WORK/gsvg/pool-keepalive-half.svg" "$WORK/g.xml" <<'PY' || fail "group lanes"
import json, sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
flows = {f["name"]: f for f in json.load(open(sys.argv[1]))["scenarios"][0]["flows"]}
svg = ET.parse(sys.argv[2]).getroot()
lanes = {g.get("data-flow"): g for g in svg.iter(ns + "g") if g.get("class") == "group"}
assert set(lanes) == {"pool", "pool-keepalive"}, lanes.keys()
want = {"pool": ({"reset": 500}, 500), "pool-keepalive": ({"alive": 500}, 0)}
for name, (outcomes, expired) in want.items():
    f, lane = flows[name], lanes[name]
    assert f["count"] == 500 and f["outcomes"] == outcomes, (name, f["count"], f["outcomes"])
    bars = {}
    for b in lane.iter(ns + "rect"):
        if b.get("class") == "hist":
            bars[(int(b.get("data-t-ms")), b.get("data-kind"))] = int(b.get("data-count"))
    tot = {}
    for (t, k), n in bars.items():
        tot[k] = tot.get(k, 0) + n
    assert {k: n for k, n in tot.items() if k != "expired"} == outcomes, (name, tot)
    assert tot.get("expired", 0) == expired, (name, tot)
    # the bars are the JSON histogram's bins, bin for bin
    h = f["histogram"]
    assert int(lane.get("data-bin-ms")) == h["bin_ms"], (lane.attrib, h["bin_ms"])
    js = {(b["t_ms"], k): n for b in h["bins"] for k, n in b.items() if k != "t_ms"}
    assert js == bars, (name, js, bars)
    # expiries at 350 s of each connection's idle, its end at 400 s: spread by the 50 s ramp
    ends = [t for (t, k) in bars if k != "expired"]
    assert min(ends) >= 390000 and max(ends) <= 470000, (name, sorted(bars))
texts = ["".join(t.itertext()) for t in svg.iter(ns + "text")]
assert any(t.startswith("flow group, connections per time bin") for t in texts), texts
assert "expired by a middlebox (below; each connection once)" in texts and "reset" in texts and "alive" in texts, texts
tc = {t.get("name"): t for t in ET.parse(sys.argv[3]).getroot().iter("testcase")}
assert set(tc) == {"pool", "pool-keepalive"}, tc.keys()
assert "connections: 500" in tc["pool"].findtext("system-out"), tc["pool"].findtext("system-out")
PY
grep -q 'class="hist"' "$WORK/g.html" || fail "HTML: the group's histogram is not in the page"
pass "flow groups: one SVG lane each with a histogram (500 reset, 500 expired; 500 alive), the same bins as the JSON, one JUnit testcase each; in the HTML page"

# -- late starts, two middleboxes: every mark at its time, evidence per connection --
# A flow that starts at 100 s and a group of 20 from 50 s (ramp 20 s), both
# through a NAT and a firewall that forget after 60 s (1/50): the marks of
# each (JSON, SVG, the HTML page's inline SVG) are at their scenario times,
# not as if they started at 0; the group's evidence tells its sample's
# drops and labels the group's as totals; each expired connection counts
# once in the histogram although both middleboxes expired it.
cat >"$WORK/late.ini" <<'INI'
[scenario]
description = test: late starts through two middleboxes that both forget after 60 s
time_scale = 1/50
[middlebox nat]
nat = snat
tcp.established = 60s
pickup = strict
inbound_unknown = drop
[middlebox fw]
tcp.established = 60s
pickup = strict
inbound_unknown = drop
[flow late]
path = nat fw
start = 100s
keepalive = off
idle = 150s
deadline = 10s
expect = timeout
[flow pool]
path = nat fw
count = 20
start = 50s
ramp = 20s
keepalive = off
idle = 150s
deadline = 10s
expect = timeout
INI
"$IG" run --no-progress --json "$WORK/late.json" --svg "$WORK/latesvg" --html "$WORK/late.html" \
	"$WORK/late.ini" >"$WORK/out" 2>&1 || fail "late starts: exit $?"
python3 "$ROOT/tests/lib/check_report.py" json "$WORK/late.json" || fail "late starts: the JSON report does not validate (or a group's numbers do not add up)"
python3 - "$WORK/late.json" "$WORK/latesvg/late.svg" "$WORK/late.html" <<'PY' || fail "late starts"
import json, re, sys, xml.etree.ElementTree as ET
sc = json.load(open(sys.argv[1]))["scenarios"][0]
flows = {f["name"]: f for f in sc["flows"]}
start = {"late": 100000, "pool": 50000}
for name, t0 in start.items():
    marks = [m for m in sc["timeline"] if m["flow"] == name]
    kinds = {m["kind"]: m["t_ms"] for m in reversed(marks)}     # the first of each kind
    assert min(m["t_ms"] for m in marks) >= t0, (name, marks[:3])
    assert kinds["idle-start"] == t0 and kinds["data"] == t0, (name, kinds)
    # the expiries 60 s into the idle period, the outcome after it (150 s idle)
    assert t0 + 60000 <= kinds["expire"] < t0 + 75000, (name, kinds)
    assert kinds["outcome"] >= t0 + 150000 > kinds["expire"], (name, kinds)
    assert 60000 <= flows[name]["expired_ms"] < 75000, (name, flows[name]["expired_ms"])
# the SVG, and the same SVG inline in the HTML page: late's marks from 100 s on
def svg_times(root, flow):
    ts = []
    for t in root.iter("{http://www.w3.org/2000/svg}title"):
        m = re.match(r"(?:(\d+)m)?(?:([\d.]+)s)?: \S+ " + flow + r"\b", t.text or "")
        if m and (m.group(1) or m.group(2)):
            ts.append(int(m.group(1) or 0) * 60 + float(m.group(2) or 0))
    return ts
for root in (ET.parse(sys.argv[2]).getroot(),
             next(ET.parse(sys.argv[3]).getroot().iter("{http://www.w3.org/2000/svg}svg"))):
    ts = svg_times(root, "late")
    assert ts and min(ts) >= 100 and max(ts) >= 250, ts
# the group: the sample's own drops in its evidence, the group's as totals
p = flows["pool"]
assert p["outcomes"] == {"timeout": 20} and p["totals"]["expired"] == 20, (p["outcomes"], p["totals"])
exp = sum(b.get("expired", 0) for b in p["histogram"]["bins"])
assert exp == 20, p["histogram"]                  # once per connection, not per middlebox
m = re.match(r"across the 20 connections: 20 expired by a middlebox, ([\d,]+) packets dropped; (pool\.\d+): ", p["evidence"])
assert m and int(m.group(1).replace(",", "")) == p["totals"]["drops"], p["evidence"]
assert m.group(2) == p["sample"], (p["sample"], p["evidence"])
d = re.search(r"nat and fw expired the flow at [\d.]+s, dropped (\d+) packets?\)", p["evidence"])
assert d and int(d.group(1)) == p["drops"] < p["totals"]["drops"], (p["drops"], p["totals"], p["evidence"])
PY
pass "late starts: every mark at its scenario time (JSON, SVG, HTML); a group's evidence is its sample's, its totals labelled; an expiry by two middleboxes counts once"

# -- connections the probe never reported: their own outcome, counted ------------
# The probe client is killed while a group of 10 waits out its idle period:
# the group is an ERROR whose outcomes and histogram still count all 10.
cat >"$WORK/killed.ini" <<'INI'
[scenario]
description = test: the probe client dies during the idle period
time_scale = 1/50
[middlebox nat]
profile = aws-nat-gateway
[flow pool]
count = 10
idle = 300s
expect = alive
INI
"$IG" run --no-progress --json "$WORK/killed.json" "$WORK/killed.ini" >"$WORK/out" 2>&1 &
igpid=$!
BG+=("$igpid")
cli=
for _ in $(seq 50); do
	# ours: its files are in this test's work directory (TMPDIR)
	cli=$(pgrep -f "idlegate-probe .*client .*--json $WORK/") && break
	sleep 0.1
done
[ -n "$cli" ] || fail "unreported: no probe client under the runner"
kill -KILL $cli
wait "$igpid"
rc=$?
[ $rc -ne 0 ] || fail "unreported: a run whose probe client was killed passed"
python3 "$ROOT/tests/lib/check_report.py" json "$WORK/killed.json" || fail "unreported: the JSON report does not validate (or the group's numbers do not add up)"
python3 - "$WORK/killed.json" <<'PY' || fail "unreported"
import json, sys
f = json.load(open(sys.argv[1]))["scenarios"][0]["flows"][0]
assert f["status"] == "ERROR" and f["outcomes"] == {"unreported": 10}, (f["status"], f["outcomes"])
bins = f["histogram"]["bins"]
assert sum(b.get("unreported", 0) for b in bins) == 10, bins
# placed when the client died, before any connection could have ended (300 s idle)
assert all(b["t_ms"] < 300000 for b in bins if "unreported" in b), bins
PY
pass "connections the probe never reported: 10 'unreported' in the outcomes and the histogram, when the client died"

# -- the HTML page: self-contained, renders in a real browser -------------------
grep -q '<svg' "$WORK/r.html" || fail "HTML: no inline timeline"
grep -Eiq '<(script|link|img|iframe)|src=|url\(|@import' "$WORK/r.html" && fail "HTML: refers to something outside the page"
grep -Eo 'https?://[^" ]*' "$WORK/r.html" | grep -v '^http://www.w3.org/2000/svg$' && fail "HTML: an external address"
xmllint --noout "$WORK/r.html" || fail "HTML: not well-formed (it is written to parse as XML too)"
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$WORK/apt.log" 2>&1
	CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] || skip "the HTML check needs chromium (scripts/deps.sh)"
# offline: the page is opened from a file, in a network namespace with nothing in it
ip netns add "igrep$$" || fail "netns"
BG_NS="igrep$$"
trap 'ip netns del "$BG_NS" 2>/dev/null; runner_cleanup' EXIT
chmod 755 "$WORK"; chmod 644 "$WORK/r.html"
ip netns exec "$BG_NS" timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
	--user-data-dir="$WORK/chromium" --screenshot="$WORK/shot.png" --window-size=1300,1400 \
	"file://$WORK/r.html" >"$WORK/chromium.log" 2>&1
[ -s "$WORK/shot.png" ] || { cat "$WORK/chromium.log"; fail "chromium wrote no screenshot"; }
read -r w h colours nonwhite < <(python3 "$ROOT/tests/lib/png_stats.py" "$WORK/shot.png")
[ "$w" -eq 1300 ] && [ "$h" -eq 1400 ] || fail "screenshot is ${w}x$h"
[ "$colours" -ge 50 ] || fail "screenshot has only $colours colours: blank?"
awk -v p="$nonwhite" 'BEGIN { exit !(p >= 2) }' || fail "screenshot is $nonwhite% drawn: blank?"
[ -n "${REPORTS_SHOT:-}" ] && cp "$WORK/shot.png" "$REPORTS_SHOT"
pass "HTML: self-contained, renders offline in headless chromium ($colours colours, $nonwhite% drawn)"

# -- a FIFO is written into, a device is never replaced ---------------------------
fast_scenario "$WORK/fast.ini" reset
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from-fifo" &
BG+=($!)
IDLEGATE_CI_PROGRESS_MS=1000 "$IG" run --junit "$WORK/fifo" --json /dev/null --artifacts "$WORK/art" --pcap \
	"$WORK/fast.ini" >"$WORK/out" 2>"$WORK/err"
rc=$?
cat "$WORK/err" >>"$WORK/out"
[ $rc -eq 0 ] || fail "FIFO run: exit $rc"
wait "${BG[-1]}"
[ -p "$WORK/fifo" ] || fail "--junit FIFO: the FIFO was replaced"
grep -q '<testsuites' "$WORK/from-fifo" || fail "--junit FIFO: nothing came out of it"
[ -c /dev/null ] || fail "--json /dev/null replaced /dev/null"
pass "a FIFO is written into and stays a FIFO; /dev/null stays a device"

# -- without a terminal: lines a CI log keeps ------------------------------------
grep -q "^idlegate: \[1/1\] start $WORK/fast.ini: 1 flow, about [0-9.]*s on the clock$" "$WORK/err" || fail "CI: no start line"
grep -q "^idlegate: \[1/1\] end $WORK/fast.ini: PASS in [0-9.]*s (1 passed, 0 failed)$" "$WORK/err" || fail "CI: no end line"
grep -Eq '^idlegate: fast.ini: scenario time [0-9.]+s of [0-9.]+s, wall clock [0-9.]+s of about [0-9.]+s, 0/1 flows ended, [01] expired$' "$WORK/err" || fail "CI: no progress line"
grep -q $'\r' "$WORK/err" && fail "CI: a carriage return in a log"
# flows are counted as they end (the probe's --ended-file), not when all have
cat >"$WORK/two.ini" <<'INI'
[scenario]
time_scale = 1/5
[middlebox nat]
profile = aws-nat-gateway
tcp.established = 10s
[flow short]
idle = 5s
expect = alive
[flow long]
idle = 20s
deadline = 5s
expect = reset
INI
IDLEGATE_CI_PROGRESS_MS=500 "$IG" run "$WORK/two.ini" >"$WORK/out" 2>"$WORK/err"
[ $? -eq 0 ] || { cat "$WORK/err" >>"$WORK/out"; fail "two flows: exit status"; }
grep -Eq 'two.ini: scenario time [0-9.]+s of [0-9.]+s, .* 1/2 flows ended' "$WORK/err" ||
	{ cat "$WORK/err" >>"$WORK/out"; fail "CI: the first flow to end was not counted before the second"; }
pass "without a terminal: a line per scenario start and end, progress lines with both clocks labelled, flows counted as they end"

# -- --artifacts DIR --pcap: the logs and a capture per middlebox are kept ------
a=$WORK/art/1-fast
[ -s "$a/p0-nat/events.jsonl" ] || fail "artifacts: no simulator event log"
head -c 4 "$a/p0-nat/capture.pcap" | od -An -tx1 | grep -Eq 'd4 c3 b2 a1|a1 b2 c3 d4|4d 3c b2 a1|a1 b2 3c 4d' || fail "artifacts: no pcap capture"
[ "$(stat -c %s "$a/p0-nat/capture.pcap")" -gt 100 ] || fail "artifacts: an empty capture"
ls "$a"/probes/*client*.jsonl >/dev/null 2>&1 || fail "artifacts: no probe results"
[ -z "$(find "$WORK/art" ! -type f ! -type d)" ] || fail "artifacts: not only files and folders"
"$IG" run --pcap "$WORK/fast.ini" >"$WORK/out" 2>&1
[ $? -eq 2 ] && grep -q -- '--pcap keeps the captures in --artifacts DIR' "$WORK/out" || fail "--pcap without --artifacts"
pass "--artifacts DIR --pcap: the simulator's event log and capture, the probes' results, in DIR/1-fast/"

# -- annotations ------------------------------------------------------------------
fast_scenario "$WORK/fails.ini" alive
line=$(grep -n '^expect' "$WORK/fails.ini" | cut -d: -f1)
(cd "$WORK" && GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK "$IG" run --no-progress fails.ini >"$WORK/out" 2>&1)
[ $? -eq 1 ] || fail "annotations: exit status"
grep -q "^::error file=fails.ini,line=$line,title=idlegate FAIL%3A idle-20s::expected alive, observed reset: RST" "$WORK/out" ||
	fail "GITHUB_ACTIONS=true: no ::error annotation on the expect line"
grep -q $'\033' "$WORK/out" && fail "colour without a terminal"
"$IG" run -q --color=always --no-progress --annotate gitlab "$WORK/fails.ini" >"$WORK/out" 2>&1
grep -q $'\033\\[' "$WORK/out" || fail "--color=always: no colour"
grep -q "^$WORK/fails.ini:$line: error: idlegate FAIL: idle-20s: expected alive, observed reset" "$WORK/out" ||
	fail "--annotate gitlab"
# on a terminal (script(1) gives one), NO_COLOR turns the colour off
GITHUB_ACTIONS=true NO_COLOR=1 script -qec "$IG run --no-progress --annotate none $WORK/fails.ini" /dev/null >"$WORK/out" 2>&1
grep -q '::error' "$WORK/out" && fail "--annotate none still annotates"
grep -q 'FAIL' "$WORK/out" || fail "on a terminal: no table"
grep -q $'\033\\[[0-9;]*m' "$WORK/out" && fail "NO_COLOR: colour on a terminal"
pass "annotations: ::error on the expect line when GITHUB_ACTIONS=true, --annotate gitlab, --annotate none; -q and --color=always on run, NO_COLOR on a terminal"
