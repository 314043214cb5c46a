#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Validate idlegate's reports against their published schemas:
#   check_report.py json FILE...    docs/schema/report.schema.json (JSON Schema
#                                   2020-12, with python3-jsonschema), and the
#                                   timeline of every scenario in time order
#   check_report.py junit FILE...   tests/data/junit-10.xsd (xmllint --schema)
# Exit 0 when every file is valid; otherwise says what and where, exit 1.
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def check_json(path):
    import jsonschema
    schema = json.load(open(os.path.join(ROOT, "docs/schema/report.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.load(open(path, encoding="utf-8"))
    errs = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    for e in errs:
        print("%s: %s: %s" % (path, "/".join(str(x) for x in e.path), e.message), file=sys.stderr)
    ok = not errs
    for s in doc.get("scenarios", []):
        t = [m["t_ms"] for m in s.get("timeline", [])]
        if t != sorted(t):
            print("%s: %s: timeline not in time order" % (path, s.get("file")), file=sys.stderr)
            ok = False
        for f in s.get("flows", []):
            ok = check_group(path, f) and ok
    return ok


def check_group(path, f):
    """A flow group's numbers add up: its outcomes and the ends in its
    histogram are its count, its expiries those of its totals, each
    connection at most once."""
    if not all(k in f for k in ("count", "outcomes", "totals", "histogram")):
        return True     # the schema said what is missing
    n, why = f["count"], []
    ends, expired = 0, 0
    for b in f["histogram"]["bins"]:
        for k, v in b.items():
            if k == "expired":
                expired += v
            elif k != "t_ms":
                ends += v
    if sum(f["outcomes"].values()) != n:
        why.append("outcomes %s do not add up to count %d" % (f["outcomes"], n))
    if ends != n:
        why.append("the histogram has %d ends for %d connections" % (ends, n))
    if expired != f["totals"]["expired"] or expired > n:
        why.append("the histogram has %d expiries, totals.expired %d, count %d"
                   % (expired, f["totals"]["expired"], n))
    for w in why:
        print("%s: flow %s: %s" % (path, f["name"], w), file=sys.stderr)
    return not why


def check_junit(path):
    r = subprocess.run(["xmllint", "--noout", "--schema", os.path.join(ROOT, "tests/data/junit-10.xsd"), path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.stderr.write(r.stdout)
    return r.returncode == 0


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("json", "junit"):
        print("usage: check_report.py json|junit FILE...", file=sys.stderr)
        return 2
    fn = check_json if sys.argv[1] == "json" else check_junit
    ok = all([fn(p) for p in sys.argv[2:]])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
