#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the Check unit-test binaries given as arguments; fails if any fails.
set -u
fail=0
for t in "$@"; do
	out=$(CK_FORK=yes CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60} "$t" 2>&1)
	rc=$?
	printf '%-40s %s\n' "$(basename "$t")" "$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks' | tail -n 1)"
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v ':P:' | tail -n 30
		fail=1
	fi
done
exit $fail
