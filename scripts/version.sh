#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Prints idlegate's version (semver) for the build:
#   tag v0.2.0 on HEAD          0.2.0
#   3 commits after v0.2.0      0.2.0+3.gabc1234
#   no v* tag reachable         0.2.0+gabc1234    (X.Y.Z from the VERSION file)
#   no git (tarball, .dsc)      0.2.0             (the VERSION file as it is)
# A work tree with uncommitted changes adds ".dirty" to the build metadata.
# --commit prints the short commit hash instead ("unknown" without git).
set -eu
cd "$(dirname "$0")/.."
base=$(head -n 1 VERSION 2>/dev/null | tr -d ' \t\r' || true)
# Only this tree's own git, never that of a directory it was unpacked into.
if [ -e .git ] && command -v git >/dev/null 2>&1 && hash=$(git rev-parse --short=7 HEAD 2>/dev/null); then
	if [ "${1:-}" = --commit ]; then echo "$hash"; exit 0; fi
	dirty=
	git diff-index --quiet HEAD -- 2>/dev/null || dirty=.dirty
	if d=$(git describe --tags --match 'v[0-9]*' --long HEAD 2>/dev/null); then
		# v0.2.0-3-gabc1234
		n=${d%-g*}; n=${n##*-}
		t=${d%-*-g*}; t=${t#v}
		if [ "$n" = 0 ]; then
			[ -z "$dirty" ] && echo "$t" || echo "$t+${dirty#.}"
		else
			echo "$t+$n.g$hash$dirty"
		fi
	else
		echo "${base:-0.0.0}+g$hash$dirty"
	fi
	exit 0
fi
if [ "${1:-}" = --commit ]; then echo unknown; exit 0; fi
[ -n "$base" ] || { echo "version.sh: no VERSION file and no git" >&2; exit 1; }
echo "$base"
