#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates docs/example/ (the report of a real run of
# scenarios/examples/quickstart.ini: terminal output, JSON, JUnit XML, the
# SVG timeline and the HTML page, and the SVG timeline of a run of
# scenarios/pool-keepalive-half.ini, whose lanes are flow groups) so the
# examples in docs/reports.md stay what the project really produces. Needs
# root (network namespaces) and a build. The files are replaced only when
# the runs passed.
set -eu
cd "$(dirname "$0")/.."
bin=${IDLEGATE:-build/idlegate}
scenario=scenarios/examples/quickstart.ini
out=docs/example
[ -x "$bin" ] || { echo "build $bin first (make)" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces): sudo $0" >&2; exit 3; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
"$bin" run --no-progress --svg "$tmp/svg" --json "$tmp/quickstart.json" \
	--junit "$tmp/quickstart.junit.xml" --html "$tmp/quickstart.html" --color=never \
	"$scenario" >"$tmp/quickstart.txt" || rc=$?
[ $rc -ne 0 ] || "$bin" run --no-progress --svg "$tmp/svg" --color=never \
	scenarios/pool-keepalive-half.ini >"$tmp/pool.txt" 2>&1 || rc=$?
if [ $rc -ne 0 ]; then
	cat "$tmp/quickstart.txt" "$tmp/pool.txt" >&2 2>/dev/null
	echo "$0: the run exited $rc; $out left as it was" >&2
	exit $rc
fi
mkdir -p "$out"
mv "$tmp/svg/quickstart.svg" "$out/quickstart.svg"
mv "$tmp/svg/pool-keepalive-half.svg" "$out/pool-keepalive-half.svg"
mv "$tmp/quickstart.txt" "$tmp/quickstart.json" "$tmp/quickstart.junit.xml" "$tmp/quickstart.html" "$out/"
chmod 644 "$out"/quickstart.* "$out"/pool-keepalive-half.svg
echo "$out: quickstart.txt quickstart.json quickstart.junit.xml quickstart.svg quickstart.html pool-keepalive-half.svg"
