#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates the knob table of docs/scenario-format.md from the code
# (`idlegate profiles --knobs`), between the knobs:begin/end markers.
set -eu
cd "$(dirname "$0")/.."
bin=${IDLEGATE:-build/idlegate}
[ -x "$bin" ] || { echo "build $bin first (make)" >&2; exit 3; }
doc=docs/scenario-format.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.t"' EXIT
"$bin" profiles --knobs >"$tmp.t"
awk -v table="$tmp.t" '
	/<!-- knobs:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
	/<!-- knobs:end -->/ { skip = 0 }
	!skip { print }
' "$doc" >"$tmp"
cat "$tmp" >"$doc"
