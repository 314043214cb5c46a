# SPDX-License-Identifier: GPL-2.0-or-later
# The one shell library of idlegate's tests (integration and docker): how a
# test says skip / fail / pass, waits for a condition, reads a JSON field,
# and finds a process tree. Sourced first by every test and by the helper
# libraries in tests/integration/lib/.
#
#   FAIL_SHOW=(file ...)   files whose tail fail() prints (a program's log)

FAIL_SHOW=()

# skip REASON: exit 77, which the runner counts as skipped, with the reason
skip() { echo "SKIP: $*"; exit 77; }

# fail WHAT: say what failed, show the tail of each file in FAIL_SHOW, exit 1
fail() {
	local f
	echo "FAIL: $*"
	for f in "${FAIL_SHOW[@]}"; do
		[ -f "$f" ] && sed 's/^/  | /' "$f" | tail -n 30
	done
	exit 1
}

pass() { echo "ok: $*"; }
ok() { pass "$@"; }

# wait_for SECONDS CMD...: poll CMD until it succeeds or the deadline passes
wait_for() {
	local deadline=$(( $(date +%s%N) / 1000000 + ${1%.*} * 1000 )); shift
	while ! "$@" 2>/dev/null; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
		sleep 0.05
	done
}

# field JSON KEY: one member of a JSON object given as text
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# descendants PID: PID and every process below it
descendants() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END { for (p in parent) { q = p; while (q != "" && q != 0 && q != 1) {
			if (q == root) { print p; break } q = parent[q] } } }'
}
