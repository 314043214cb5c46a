#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs tests/integration/*.sh (each builds its own namespaces), a few at a
# time, and prints one line per test and a closing "N passed, N failed" line.
# Exit status 77 from a test means skipped (with its reason on stdout).
set -u
cd "$(dirname "$0")/.." || exit 2
jobs=${IDLEGATE_TEST_JOBS:-2}
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
	# the longest first (tests/integration/longest, measured here), so that
	# the last to start is a short one and no worker idles at the end
	tests=()
	while read -r t; do
		[ -e "tests/integration/$t.sh" ] && tests+=("tests/integration/$t.sh")
	done < <(grep -v '^#' tests/integration/longest)
	for t in tests/integration/*.sh; do
		case " ${tests[*]} " in *" $t "*) ;; *) tests+=("$t") ;; esac
	done
fi
if [ ! -e "${tests[0]}" ]; then
	echo "integration: no tests"; exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "integration: skipped, needs root (network namespaces)"
	echo "0 passed, 0 failed, ${#tests[@]} skipped"
	exit 0
fi
logdir=$(mktemp -d /tmp/idlegate-it.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$logdir"' EXIT
run_one() {
	local t=$1 name log start rc
	name=$(basename "$t" .sh); log="$logdir/$name.log"
	start=$(date +%s)
	timeout --kill-after=10 "${IDLEGATE_TEST_TIMEOUT:-600}" bash "$t" >"$log" 2>&1
	rc=$?
	echo "$rc $(( $(date +%s) - start ))" >"$logdir/$name.rc"
}
running=0
for t in "${tests[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
pass=0 fail=0 skip=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	read -r rc secs <"$logdir/$name.rc"
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS  %-36s %4ss\n' "$name" "$secs" ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-36s %s\n' "$name" "$(tail -n 1 "$logdir/$name.log")" ;;
	*) fail=$((fail + 1)); printf 'FAIL  %-36s %4ss (exit %s)\n' "$name" "$secs" "$rc"
	   sed 's/^/      | /' "$logdir/$name.log" | tail -n 40 ;;
	esac
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
