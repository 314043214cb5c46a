#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The recipes of scenarios/apps/ pass as written, with the real programs
# (OpenSSH, PostgreSQL, Redis): every flow's observed outcome is the one
# the file expects. Installs scripts/deps.sh's apps group if it is missing
# (skips only when apt cannot install it), and checks that the recipes left
# nothing in root's home, /etc or /var/lib/postgresql.
source "$(dirname "$0")/lib/runner.sh"
FAIL_SHOW=("$WORK/out")

# docs/running.md quotes the recipes: every quoted block is in a file
python3 - "$ROOT" <<'PY' || fail "docs/running.md quotes a recipe that is not in scenarios/apps/"
import glob, re, sys
root = sys.argv[1]
doc = open(root + "/docs/running.md").read()
sec = doc[doc.index("### Recipes"):doc.index("## Limits")]
files = [open(f).read() for f in glob.glob(root + "/scenarios/apps/*")]
blocks = re.findall(r"```(?:ini|sh)\n(.*?)```", sec, re.S)
assert blocks, "no quoted recipe"
for b in blocks:
    if not any(b.rstrip("\n") in f for f in files):
        print("not in scenarios/apps/:\n" + b)
        sys.exit(1)
PY
pass "docs/running.md quotes the recipes as they are"

if ! "$ROOT/scripts/deps.sh" apps >"$WORK/deps" 2>&1; then
	skip "the apps group could not be installed: $(tail -n 3 "$WORK/deps")"
fi

snapshot() {
	{
		ls -la /root /root/.ssh 2>/dev/null
		find /etc /var/lib/postgresql -newer "$WORK/deps" 2>/dev/null
	} | grep -v ' \.$' | sort
}
touch "$WORK/deps"
sleep 1
before=$(snapshot)

start=$(date +%s)
"$IG" run --no-progress -j3 --json "$WORK/r.json" "$ROOT"/scenarios/apps/*.ini >"$WORK/out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
python3 - "$WORK/r.json" <<'PY' || fail "a recipe's flow did not have its expected outcome"
import json, sys
d = json.load(open(sys.argv[1]))
bad = 0
for s in d["scenarios"]:
    for f in s["flows"]:
        line = "%s [flow %s]: expected %s, observed %s, %s: %s" % (
            s["file"], f["name"], f["expected"], f["observed"], f["status"], f["error"] or f["evidence"])
        print(line)
        if f["status"] != "PASS" or f["observed"] != f["expected"]:
            bad += 1
sys.exit(1 if bad else 0)
PY
[ $rc -eq 0 ] || fail "idlegate run: exit $rc"
# NAME-scaled.ini (time_scale 1/20, scale_program) has the outcomes of NAME.ini
python3 - "$WORK/r.json" <<'PY' || fail "a scaled recipe's outcomes differ from the unscaled one's"
import json, os, sys
d = json.load(open(sys.argv[1]))
by = {os.path.basename(s["file"]): [f["observed"] for f in s["flows"]] for s in d["scenarios"]}
n = 0
for name, obs in by.items():
    if name.endswith("-scaled.ini"):
        base = by[name.replace("-scaled", "")]
        print("%s: %s; %s: %s" % (name.replace("-scaled", ""), base, name, obs))
        if obs != base:
            sys.exit(1)
        n += 1
sys.exit(0 if n else 1)
PY
pass "at time_scale 1/20 with scale_program = yes, ssh and PostgreSQL have the outcomes of time_scale 1"
n=$(python3 -c 'import json,sys; print(sum(len(s["flows"]) for s in json.load(open(sys.argv[1]))["scenarios"]))' "$WORK/r.json")
pass "every flow of scenarios/apps/*.ini as expected ($n flows, ${took} s)"

after=$(snapshot)
[ "$before" = "$after" ] || fail "the recipes left something behind: $(diff <(echo "$before") <(echo "$after"))"
ls "$WORK" | grep -q idlegate-run && fail "a run left its directory"
pass "nothing left in /root, /etc or /var/lib/postgresql"
