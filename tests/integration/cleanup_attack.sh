#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `idlegate cleanup` runs as root over a world-writable TMPDIR: it must not
# be turned against root's files.
#  1. An unprivileged user (nobody) makes look-alike run directories of a
#     "dead" run, one holding a subdirectory that a loop keeps swapping for a
#     symlink to a root-owned directory, one that is itself such a symlink:
#     cleanup leaves them (with a message) and no root file is touched.
#  2. Even inside a genuine private directory, a subdirectory swapped for a
#     symlink mid-walk is never followed (the walk is descriptor-relative).
#  3. A SIGKILLed runner that is still a zombie is gone: cleanup removes
#     its directory at once.
source "$(dirname "$0")/lib/runner.sh"

SHARED=$WORK/shared
mkdir -m 1777 "$SHARED"
chmod 755 "$WORK"
dead=$(sh -c 'echo $$')          # a PID that no longer runs

# victim DIR: a root-owned directory of 1500 files; count DIR: how many remain
victim() { mkdir -p "$1/sub"; (cd "$1/sub" && seq -f 'f%04.0f' 1500 | xargs touch); chmod 755 "$1" "$1/sub"; }
count() { find "$1" -type f | wc -l; }

# --- 1: the unprivileged attacker -------------------------------------------
victim "$WORK/victim1"
look=$SHARED/idlegate-run-$dead-attack
setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "
	mkdir -m 700 '$look' && mkdir '$look/a' && cd '$look/a' && seq 1500 | xargs touch &&
	ln -s '$WORK/victim1' '$SHARED/idlegate-run-$dead-link'" || fail "attacker setup"
# the swap loop, as nobody: a <-> symlink to the victim, as fast as it goes
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "
import os, sys, time
d = sys.argv[1]; v = sys.argv[2]; end = time.time() + 30
while time.time() < end:
    try:
        os.rename(d + '/a', d + '/a.real'); os.symlink(v, d + '/a')
        os.unlink(d + '/a'); os.rename(d + '/a.real', d + '/a')
    except OSError:
        pass
" "$look" "$WORK/victim1/sub" &
swapper=$!
BG+=("$swapper")
for i in 1 2 3 4 5; do
	TMPDIR=$SHARED "$IG" cleanup >"$WORK/out" 2>&1 || fail "cleanup $i: exit $?"
	grep -q "left directory $look: not made by idlegate" "$WORK/out" || fail "cleanup $i: no refusal for the look-alike"
	grep -q "left directory $SHARED/idlegate-run-$dead-link: not a directory" "$WORK/out" ||
		fail "cleanup $i: no refusal for the symlink"
done
kill "$swapper" 2>/dev/null; wait "$swapper" 2>/dev/null
[ "$(count "$WORK/victim1")" -eq 1500 ] || fail "root's files were removed: $(count "$WORK/victim1") of 1500 left"
[ -L "$SHARED/idlegate-run-$dead-link" ] || fail "the attacker's symlink was removed"
pass "an unprivileged user's look-alike run directories (swap loop, symlink) are refused; no root file touched"

# --- 2: a genuine private directory, swapped inside by a racing loop ----------
victim "$WORK/victim2"
for round in 1 2 3; do
	run=$(mktemp -d "$SHARED/idlegate-run-$dead-XXXXXX")
	mkdir "$run/a" && (cd "$run/a" && seq 3000 | xargs touch)
	python3 -c "
import os, sys, time
d = sys.argv[1]; v = sys.argv[2]; end = time.time() + 10
while time.time() < end and os.path.isdir(d):
    try:
        os.rename(d + '/a', d + '/a.real'); os.symlink(v, d + '/a')
        os.unlink(d + '/a'); os.rename(d + '/a.real', d + '/a')
    except OSError:
        pass
" "$run" "$WORK/victim2/sub" &
	racer=$!
	BG+=("$racer")
	TMPDIR=$SHARED "$IG" cleanup >"$WORK/out" 2>&1
	kill "$racer" 2>/dev/null; wait "$racer" 2>/dev/null
	[ "$(count "$WORK/victim2")" -eq 1500 ] || fail "round $round: the walk followed a swapped symlink: $(count "$WORK/victim2") of 1500 left"
	# whatever the race left, a quiet second cleanup removes
	TMPDIR=$SHARED "$IG" cleanup >"$WORK/out" 2>&1 || fail "round $round: second cleanup: exit $?"
	[ -e "$run" ] && fail "round $round: $run remains"
done
pass "a directory swapped for a symlink mid-walk is never followed (3 rounds, 3000 files each)"

# --- 2b: reports are not written through another user's link in a shared /tmp --
echo precious >"$WORK/victim3"
setpriv --reuid=65534 --regid=65534 --clear-groups ln -s "$WORK/victim3" "$SHARED/report.json" || fail "link"
fast_scenario "$WORK/fast.ini"
"$IG" run --no-progress --json "$SHARED/report.json" "$WORK/fast.ini" >"$WORK/out" 2>&1; rc=$?
[ $rc -eq 2 ] || fail "a report through nobody's symlink in a sticky /tmp: exit $rc, expected 2"
[ "$(cat "$WORK/victim3")" = precious ] || fail "root wrote through nobody's symlink"
grep -q "not written through as root" "$WORK/out" || fail "no reason given for the refused report path"
pass "a report path that is another user's symlink in a shared /tmp is refused before the run"

# --- 3: a SIGKILLed run whose worker is still a zombie -------------------------
# The run directory is named after the worker that made it. A subreaper
# holds the runner and, once the runner is SIGKILLed and the worker dies
# with it (PDEATHSIG), the worker's zombie, unreaped, while cleanup runs.
long_scenario "$WORK/long.ini"
python3 - "$IG" "$WORK/long.ini" "$WORK" >"$WORK/zombie" 2>&1 <<'PY' &
import ctypes, glob, os, re, signal, subprocess, sys, time
ig, ini, work = sys.argv[1:4]
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
p = subprocess.Popen([ig, "run", "--no-progress", ini], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
end = time.time() + 15
ready = []
while time.time() < end and not ready:
    ready = glob.glob(f"{work}/idlegate-run-*/probes/p0-server-*.ready")
    time.sleep(0.05)
worker = int(re.search(r"idlegate-run-(\d+)-", ready[0]).group(1))
os.kill(p.pid, signal.SIGKILL)
def state(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
while state(worker) != "Z" or state(p.pid) != "Z":
    time.sleep(0.01)
print(worker, flush=True)
time.sleep(30)    # keep both zombies unreaped until killed
PY
holder=$!
BG+=("$holder")
wait_for 20 grep -q . "$WORK/zombie" || fail "the run did not start: $(cat "$WORK/zombie")"
zpid=$(head -n 1 "$WORK/zombie")
[ "$(awk '{print $3}' /proc/"$zpid"/stat)" = Z ] || fail "worker $zpid is not a zombie"
ls -d "$WORK/idlegate-run-$zpid-"* >/dev/null 2>&1 || fail "no run directory of worker $zpid"
"$IG" cleanup >"$WORK/out" 2>&1 || fail "cleanup after SIGKILL: exit $?"
ls -d "$WORK/idlegate-run-$zpid-"* >/dev/null 2>&1 && fail "cleanup missed the directory of the SIGKILLed (zombie) worker $zpid"
[ "$(awk '{print $3}' /proc/"$zpid"/stat)" = Z ] || fail "the worker was reaped before cleanup ran: the test proves nothing"
pass "a SIGKILLed run whose worker is still a zombie counts as gone: its directory is removed"
