#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates the knob list of docs/man/idlegate-scenario.5 from the code
# (`idlegate profiles --knobs`), between the knobs:begin/end comment lines,
# so the manual cannot drift from policy_knobs(); tests/unit/test_manpages.c
# fails when it has.
set -eu
cd "$(dirname "$0")/.."
bin=${IDLEGATE:-build/idlegate}
[ -x "$bin" ] || { echo "build $bin first (make)" >&2; exit 3; }
page=docs/man/idlegate-scenario.5
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.t"' EXIT
# Markdown rows "| `knob` | values | default | meaning |" (with \| inside
# cells) -> one .TP entry per knob.
"$bin" profiles --knobs | awk '
	/^\| `/ {
		gsub(/\\\|/, "\001")
		sub(/^\| /, ""); sub(/ \|$/, "")
		n = split($0, c, / \| /)
		if (n != 4) { print "bad row: " $0 > "/dev/stderr"; exit 1 }
		for (i = 1; i <= 4; i++) {
			gsub(/\001/, "|", c[i]); gsub(/`/, "", c[i])
			gsub(/\\/, "\\e", c[i]); gsub(/-/, "\\-", c[i])
		}
		print ".TP"
		print "\\fB" c[1] "\\fR = \\fI" c[2] "\\fR (default: \\fB" c[3] "\\fR)"
		print c[4] "."
	}' >"$tmp.t"
[ -s "$tmp.t" ] || { echo "$bin profiles --knobs printed no knobs" >&2; exit 1; }
awk -v table="$tmp.t" '
	/^\.\\" knobs:begin/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/^\.\\" knobs:end/ { skip = 0 }
	!skip { print }
' "$page" >"$tmp"
cat "$tmp" >"$page"
