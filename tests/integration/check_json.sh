#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `idlegate check --json` for editors and CI: one document on standard
# output; every file with ok, its problems (line, message, hint) as the
# text output has them, and the size of a good scenario; exit 2 when a file
# has problems. Needs no root and creates nothing.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
IG=$ROOT/build/idlegate
source "$ROOT/tests/lib/testlib.sh"
[ -x "$IG" ] || skip "not built"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cd "$ROOT" || fail "cd"
"$IG" check --json scenarios/udp-heartbeat.ini tests/data/broken/bad-duration.ini >"$WORK/j" 2>"$WORK/err"
rc=$?
[ $rc -eq 2 ] || fail "check --json with a broken file: exit $rc, expected 2"
[ -s "$WORK/err" ] && { cat "$WORK/err"; fail "check --json wrote to standard error"; }
"$IG" check tests/data/broken/bad-duration.ini 2>"$WORK/text"
python3 - "$WORK/j" "$WORK/text" <<'PY' || fail "check --json document"
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert d["version"] == 1 and d["ok"] is False, d
good, bad = d["files"]
assert good["ok"] is True and good["problems"] == [] and good["scenario"]["flows"] == 2, good
assert good["scenario"]["time_scale"] == "1/5" and good["scenario"]["estimate_ms"] > 0, good
assert bad["ok"] is False and bad["file"] == "tests/data/broken/bad-duration.ini", bad
p = bad["problems"][0]
assert isinstance(p["line"], int) and p["line"] > 0, p
assert "%s:%d: %s" % (bad["file"], p["line"], p["message"]) in text, (p, text)
assert p["hint"] is None or "hint: " + p["hint"] in text, (p, text)
PY
"$IG" check --json scenarios/udp-heartbeat.ini >"$WORK/j"
[ $? -eq 0 ] && python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["ok"] is True' "$WORK/j" ||
	fail "check --json of a good file"
pass "check --json: one document, problems with line, message and hint as the text says them; exit 2 / 0"

# standard input and a process substitution are read (a pipe behind a link)
"$IG" check /dev/stdin <scenarios/udp-heartbeat.ini >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "check /dev/stdin"; }
"$IG" check <(cat scenarios/udp-heartbeat.ini) >"$WORK/out" 2>&1 || { cat "$WORK/out"; fail "check <(...)"; }
grep -q 'ok: 1 middlebox, 2 flows' "$WORK/out" || fail "check <(...): output"
"$IG" check "" >"$WORK/out" 2>&1
[ $? -eq 2 ] && grep -q "^'': an empty file name (an empty argument?)" "$WORK/out" || { cat "$WORK/out"; fail "check ''"; }
mkfifo "$WORK/fifo.ini"
timeout 5 "$IG" check "$WORK/fifo.ini" >"$WORK/out" 2>&1
[ $? -eq 2 ] && grep -q 'not a regular file' "$WORK/out" || { cat "$WORK/out"; fail "check FIFO"; }
pass "check reads /dev/stdin and <(...); an empty argument and a FIFO have their own messages"
