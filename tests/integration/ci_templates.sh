#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The CI templates: action.yml (the composite GitHub Action) and
# ci/idlegate.gitlab-ci.yml (the GitLab include).
#   - the action's steps run here, as a runner would run them
#     (lib/run_action.py): install by build into a temporary prefix, a shard
#     of scenarios/examples passes, a failing scenario fails the action and
#     is annotated on its file and `expect =` line;
#   - the action's shell steps pass shellcheck (when installed);
#   - the GitLab template: YAML, only hidden jobs, the keys a job needs, the
#     example of docs/ci.md resolved through `extends`, script lines through
#     `bash -n`, and its script run with CI_NODE_INDEX/CI_NODE_TOTAL;
#   - actionlint on docs/ci.md's workflow using the action (as `./`), and on
#     one with a wrong input, which it must refuse. actionlint is installed
#     with `go install` into a cache when missing; only when that cannot be
#     done (no Go, or the Go module proxy unreachable) does the test end
#     with exit 77 after every other check passed.
# Needs root (the scenarios run in network namespaces).
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
tmp=$(mktemp -d /tmp/idlegate-ci.XXXXXX)
chmod 711 "$tmp"       # the run's unprivileged probes run from the prefix in it
trap 'rm -rf "$tmp"' EXIT
source tests/lib/testlib.sh
ACTIONLINT_VERSION=v1.7.12

[ "$(id -u)" -eq 0 ] || skip "needs root (the action's scenarios run in network namespaces)"
python3 -c 'import yaml' 2>/dev/null || skip "no python3-yaml"
# the GitHub runner's tools and files the steps expect; PATH as the runner's
unset IDLEGATE_PROFILES IDLEGATE_SIM IDLEGATE_PROBE

# ---- the action's steps, run here ------------------------------------------
ws=$tmp/workspace
mkdir -p "$ws"
run_action() {   # NAME=VALUE... (inputs); output in $tmp/action.out, status in $arc
	(cd "$ws" && python3 "$repo/tests/integration/lib/run_action.py" "$repo" "$ws" "$@") >"$tmp/action.out" 2>&1
	arc=$?
}
show() { sed 's/^/  | /' "$tmp/action.out" | tail -n "${1:-40}"; }

start=$(date +%s)
run_action scenarios="$repo/scenarios/examples/*.ini" shard=3/3 junit=reports/pass.xml \
	install=build prefix="$tmp/prefix"
[ $arc -eq 0 ] || { show; fail "the action on scenarios/examples/*.ini shard 3/3: exit $arc"; }
[ -x "$tmp/prefix/bin/idlegate" ] && [ -x "$tmp/prefix/sbin/idlegate-sim" ] ||
	{ show; fail "install: build did not install into the prefix"; }
grep -Eq '^idlegate [0-9]+\.[0-9]+\.[0-9]+[^ ]* \(commit [0-9a-f]{7}\)$' "$tmp/action.out" ||
	{ show; fail "the install step did not print idlegate --version"; }
grep -q '::outputs::{"junit": "reports/pass.xml", "exit-code": "0"}' "$tmp/action.out" ||
	{ show; fail "outputs of a passing run"; }
grep -q '^::error' "$tmp/action.out" && { show; fail "annotations for a passing run"; }
python3 - "$ws/reports/pass.xml" <<'PY' || { show; fail "JUnit of the passing shard"; }
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
files = {tc.get("file") for tc in r.iter("testcase")}
assert len(files) == 1 and files.pop().endswith("examples/quickstart.ini"), files   # shard 3/3 of 3
assert r.get("failures") == "0" and r.get("errors") == "0" and int(r.get("tests")) >= 2, r.attrib
PY
ok "action: install build into a prefix, scenarios/examples/*.ini shard 3/3 ran quickstart.ini only, passed, no annotation ($(($(date +%s) - start)) s)"

# A scenario that fails: the NAT forgets after 10 s, the flow idles 20 s
# and expects to live (it gets a RST).
cat >"$ws/fails.ini" <<'INI'
[scenario]
description = deliberately failing: NAT forgets after 10 s, flow idles 20 s
time_scale = 1/5
[middlebox nat]
profile = aws-nat-gateway
tcp.established = 10s

[flow idle-20s]
idle = 20s
keepalive = off
speaker = client
deadline = 5s
expect = alive
INI
line=$(grep -n '^expect' "$ws/fails.ini" | cut -d: -f1)
start=$(date +%s)
run_action scenarios="fails.ini" junit=reports/fail.xml install=build prefix="$tmp/prefix"
[ $arc -eq 1 ] || { show; fail "the action on a failing scenario: exit $arc, expected 1"; }
grep -q '::outputs::{"junit": "reports/fail.xml", "exit-code": "1"}' "$tmp/action.out" ||
	{ show; fail "outputs of a failing run"; }
ann=$(grep '^::error' "$tmp/action.out")
[ "$(printf '%s\n' "$ann" | grep -c .)" -eq 1 ] || { show; fail "expected one annotation, got: $ann"; }
case $ann in
"::error file=fails.ini,line=$line,title=idlegate FAIL%3A idle-20s::expected alive, observed reset"*) ;;
*) show; fail "annotation: $ann" ;;
esac
flowline=$(grep -n '^\[flow' "$ws/fails.ini" | cut -d: -f1)
grep -q '^| fails.ini | '"$flowline"' | idle-20s | FAIL |' "$tmp/action.out" || { show; fail "no job summary table"; }
grep -q '##\[endgroup\] annotate: exit 0' "$tmp/action.out" || { show; fail "the annotate step failed"; }
ok "action: failing scenario gives exit 1 and '${ann:0:90}...' (its expect = line), a summary table ($(($(date +%s) - start)) s)"

run_action scenarios="no-such-*.ini" install=build prefix="$tmp/prefix"
[ $arc -eq 2 ] && grep -q '^::error title=idlegate action::no scenario file matches no-such-\*.ini' "$tmp/action.out" ||
	{ show; fail "a glob that matches nothing: exit $arc"; }
ok "action: a glob that matches nothing is an error (exit 2)"

# ---- shellcheck on the action's shell steps --------------------------------
python3 - "$repo/action.yml" "$tmp/steps" <<'PY' || fail "extracting the action's run: scripts"
import os, sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
os.makedirs(sys.argv[2])
for i, s in enumerate(a["runs"]["steps"]):
    assert s.get("shell") == "bash" and "run" in s, s
    assert "${{" not in s["run"], "step %s: expressions belong in env:, not in the script" % s.get("id", i)
    open(os.path.join(sys.argv[2], "%d-%s.sh" % (i, s.get("id", "result"))), "w").write("#!/bin/bash\n" + s["run"])
PY
for f in "$tmp"/steps/*.sh; do bash -n "$f" || fail "bash -n $(basename "$f")"; done
if command -v shellcheck >/dev/null 2>&1; then
	shellcheck -s bash -S warning "$tmp"/steps/*.sh || fail "shellcheck on the action's steps"
	ok "action: every step's script passes bash -n and shellcheck"
else
	ok "action: every step's script passes bash -n (shellcheck not installed: not run)"
fi

# ---- the GitLab template ---------------------------------------------------
python3 - "$repo/ci/idlegate.gitlab-ci.yml" "$repo/docs/ci.md" "$tmp/gitlab" <<'PY' || fail "GitLab template structure"
import copy, os, re, subprocess, sys, yaml
t = yaml.safe_load(open(sys.argv[1]))
assert isinstance(t, dict) and t, "not a mapping"
# Included, it must add no job of its own: only hidden keys (and no
# pipeline-wide keys that would override the includer's).
assert all(k.startswith(".") for k in t), "not only hidden jobs: %s" % list(t)
job = t[".idlegate"]
keywords = {"image", "variables", "before_script", "script", "after_script", "artifacts",
            "services", "tags", "timeout", "retry", "rules", "cache", "interruptible", "stage"}
assert set(job) <= keywords, "unknown job keys: %s" % (set(job) - keywords)
for k in ("image", "variables", "script", "artifacts"):
    assert k in job, "no " + k
v = job["variables"]
for k in ("IDLEGATE_SCENARIOS", "IDLEGATE_ARGS", "IDLEGATE_INSTALL"):
    assert k in v, "no variable " + k
assert all(isinstance(x, (str, int)) for x in v.values()), v
art = job["artifacts"]
assert art.get("when") == "always", "artifacts only on success"
junit = art["reports"]["junit"]
assert any(re.match(r"^idlegate-reports/", p) for p in art["paths"]), art
text = "\n".join(job["script"])
assert "CI_NODE_INDEX" in text and "CI_NODE_TOTAL" in text and "--shard" in text and "--junit" in text
# every script line is valid shell (GitLab runs them one after another)
lines = job.get("before_script", []) + job["script"]
assert all(isinstance(l, str) for l in lines)
for i, l in enumerate(lines):
    r = subprocess.run(["bash", "-n"], input=l, text=True, capture_output=True)
    assert r.returncode == 0, "line %d: %s\n%s" % (i, l, r.stderr)
# docs/ci.md's include example, with extends resolved as GitLab does
doc = open(sys.argv[2]).read()
ex = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "extends: .idlegate" in b]
assert len(ex) == 1, "docs/ci.md: no single example that extends .idlegate"
user = yaml.safe_load(ex[0])
assert "include" in user and "ci/idlegate.gitlab-ci.yml" in str(user["include"])
def merge(base, over):
    out = copy.deepcopy(base)
    for k, val in over.items():
        out[k] = merge(out[k], val) if isinstance(val, dict) and isinstance(out.get(k), dict) else val
    return out
j = user["idlegate"]
assert j["extends"] == ".idlegate"
res = merge(t[".idlegate"], {k: x for k, x in j.items() if k != "extends"})
assert res["script"] == job["script"] and res["variables"]["IDLEGATE_SCENARIOS"] == "scenarios/*.ini"
assert res["variables"]["IDLEGATE_INSTALL"] == "build" and res["artifacts"]["reports"]["junit"] == junit
# the script lines, for the run below
os.makedirs(sys.argv[3])
open(os.path.join(sys.argv[3], "script.sh"), "w").write("set -e\n" + "\n".join(job["script"]) + "\n")
open(os.path.join(sys.argv[3], "junit"), "w").write(junit)
PY
ok "GitLab template: YAML, only the hidden job .idlegate, its keys and variables, docs' include + extends resolve, bash -n on every line"

# Its script, as the second of two parallel jobs, against two files: only
# the second (the failing one) runs, and the JUnit report is where the
# artifacts expect it.
gl=$tmp/gitlab/project
mkdir -p "$gl/scenarios"
cp "$repo/scenarios/examples/quickstart.ini" "$gl/scenarios/a.ini"
cp "$ws/fails.ini" "$gl/scenarios/b.ini"
(cd "$gl" && env PATH="$tmp/prefix/bin:$tmp/prefix/sbin:$PATH" CI_NODE_INDEX=2 CI_NODE_TOTAL=2 \
	IDLEGATE_SCENARIOS='scenarios/*.ini' IDLEGATE_ARGS='' bash "$tmp/gitlab/script.sh") >"$tmp/gitlab.out" 2>&1
rc=$?
[ $rc -eq 1 ] || { sed 's/^/  | /' "$tmp/gitlab.out"; fail "the GitLab script, shard 2/2: exit $rc, expected 1 (b.ini fails)"; }
set -- "$gl"/$(cat "$tmp/gitlab/junit")
[ $# -eq 1 ] && [ "$(basename "$1")" = junit-2.xml ] || fail "JUnit report of shard 2: $*"
grep -q 'a.ini' "$1" && fail "shard 2/2 ran a.ini"
grep -q '<failure' "$1" || fail "shard 2/2: no failure in $1"
ok "GitLab script as shard 2/2: ran only b.ini, failed as it must, idlegate-reports/junit-2.xml for artifacts:reports:junit"

# ---- actionlint --------------------------------------------------------------
tools=${IDLEGATE_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/idlegate/tools}
actionlint=$(command -v actionlint 2>/dev/null || true)
[ -n "$actionlint" ] || { [ -x "$tools/actionlint" ] && actionlint=$tools/actionlint; }
if [ -z "$actionlint" ]; then
	command -v go >/dev/null 2>&1 || skip "actionlint not run: not installed and no Go toolchain to install it (everything else passed)"
	mkdir -p "$tools"
	if ! GOBIN=$tools timeout 300 go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >"$tmp/go.log" 2>&1; then
		if ! timeout 60 go list -m "github.com/rhysd/actionlint@$ACTIONLINT_VERSION" >/dev/null 2>&1; then
			skip "actionlint not run: the Go module proxy cannot be reached (everything else passed)"
		fi
		cat "$tmp/go.log"; fail "go install actionlint@$ACTIONLINT_VERSION"
	fi
	actionlint=$tools/actionlint
fi
# A project that uses the action as GitHub would see it: action.yml at the
# root of the repository, the workflow of docs/ci.md with `uses: ./`.
proj=$tmp/lint
mkdir -p "$proj/.github/workflows"
git init -q "$proj"
cp action.yml "$proj/"
python3 - docs/ci.md "$proj/.github/workflows" <<'PY' || fail "the workflow in docs/ci.md"
import re, sys
doc = open(sys.argv[1]).read()
blocks = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.S) if "uses: OWNER/idlegate@v" in b]
whole = [b for b in blocks if "jobs:" in b]
assert len(whole) == 1 and len(blocks) == 2, "docs/ci.md: expected the one-line use and one workflow"
open(sys.argv[2] + "/idlegate.yml", "w").write(re.sub(r"OWNER/idlegate@v[0-9.]+", "./", whole[0]))
bad = re.sub(r"\bscenarios:", "scenario:", open(sys.argv[2] + "/idlegate.yml").read())
open(sys.argv[2] + "/../bad.yml", "w").write(bad)
PY
(cd "$proj" && "$actionlint" -no-color .github/workflows/idlegate.yml) >"$tmp/lint.out" 2>&1 ||
	{ cat "$tmp/lint.out"; fail "actionlint on docs/ci.md's workflow with the action"; }
mv "$proj/.github/bad.yml" "$proj/.github/workflows/bad.yml"
(cd "$proj" && "$actionlint" -no-color .github/workflows/bad.yml) >"$tmp/lint.out" 2>&1 &&
	fail "actionlint accepted a workflow that gives the action no scenarios input"
grep -q 'input "scenario" is not defined' "$tmp/lint.out" && grep -q 'missing input "scenarios"' "$tmp/lint.out" ||
	{ cat "$tmp/lint.out"; fail "actionlint did not read action.yml's inputs"; }
ok "actionlint $("$actionlint" -version | head -n 1): docs/ci.md's workflow with the action passes; a misspelt input is refused (action.yml read)"
echo "7 passed, 0 failed"
