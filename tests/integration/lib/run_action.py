#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs a composite GitHub Action's steps here, as the hosted runner would:
each `run:` script with `bash --noprofile --norc -eo pipefail`, its `env:`
with the ${{ }} expressions the action uses evaluated (inputs.*, with their
defaults; github.action_path, github.workspace; steps.ID.outputs.*), and the
GITHUB_OUTPUT, GITHUB_PATH, GITHUB_ENV and GITHUB_STEP_SUMMARY files; INPUT_*
variables are set too. Stops at the first failing step, as the runner does.

    run_action.py ACTION_DIR WORKSPACE NAME=VALUE...     (the action's inputs)

Prints the steps' output as it comes; exits with the status of the step
that failed (0 if none); prints "::outputs::" and the action's outputs as
JSON last. Only the expressions this project's action uses are known; any
other is an error (so the test notices one that it would not evaluate).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def main():
    action_dir, workspace = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    given = dict(a.split("=", 1) for a in sys.argv[3:])
    with open(os.path.join(action_dir, "action.yml")) as f:
        action = yaml.safe_load(f)
    assert action["runs"]["using"] == "composite", "not a composite action"
    inputs = {}
    for name, spec in (action.get("inputs") or {}).items():
        if name in given:
            inputs[name] = given.pop(name)
        elif spec.get("required") and "default" not in spec:
            sys.exit("run_action: required input %s not given" % name)
        else:
            inputs[name] = str(spec.get("default", ""))
    if given:
        sys.exit("run_action: the action has no input %s" % ", ".join(given))
    steps = {}
    tmp = tempfile.mkdtemp(prefix="run-action.")
    files = {k: os.path.join(tmp, k.lower()) for k in
             ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")}
    extra_path, extra_env = [], {}

    def evaluate(text):
        def one(m):
            e = m.group(1)
            if e.startswith("inputs."):
                return inputs[e[7:]]
            if e == "github.action_path":
                return action_dir
            if e == "github.workspace":
                return workspace
            m2 = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e)
            if m2:
                return steps.get(m2.group(1), {}).get(m2.group(2), "")
            raise SystemExit("run_action: cannot evaluate ${{ %s }}" % e)
        return EXPR.sub(one, str(text))

    rc = 0
    for i, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id", "step%d" % i)
        assert "run" in step, "step %s uses another action: not run here" % sid
        assert step.get("shell") == "bash", "step %s: shell %s" % (sid, step.get("shell"))
        if "if" in step:
            raise SystemExit("run_action: step %s has an if: this runner does not evaluate" % sid)
        for f in files.values():
            open(f, "w").close()
        env = dict(os.environ)
        env.update(extra_env)
        env["PATH"] = ":".join(extra_path + [env.get("PATH", "")])
        env.update({k: v for k, v in files.items()})
        env.update({"GITHUB_WORKSPACE": workspace, "GITHUB_ACTION_PATH": action_dir,
                    "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_TEMP": tmp})
        env.update({"INPUT_" + k.upper().replace(" ", "_"): v for k, v in inputs.items()})
        for k, v in (step.get("env") or {}).items():
            env[k] = evaluate(v)
        script = os.path.join(tmp, "%s.sh" % sid)
        with open(script, "w") as f:
            f.write(evaluate(step["run"]) if EXPR.search(step["run"]) else step["run"])
        print("##[group]%s" % step.get("name", sid), flush=True)
        rc = subprocess.call(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                             cwd=workspace, env=env)
        print("##[endgroup] %s: exit %d" % (sid, rc), flush=True)
        out = {}
        for line in open(files["GITHUB_OUTPUT"]):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
        steps[sid] = out
        extra_path = [l.strip() for l in open(files["GITHUB_PATH"]) if l.strip()][::-1] + extra_path
        for line in open(files["GITHUB_ENV"]):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                extra_env[k] = v
        with open(files["GITHUB_STEP_SUMMARY"]) as s:
            summary = s.read()
        if summary:
            print("##[summary]\n" + summary, end="", flush=True)
        if rc != 0:
            break
    outputs = {k: evaluate(v["value"]) for k, v in (action.get("outputs") or {}).items()}
    print("::outputs::" + json.dumps(outputs), flush=True)
    subprocess.call(["rm", "-rf", tmp])
    sys.exit(rc)


if __name__ == "__main__":
    main()
