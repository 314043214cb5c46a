#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates docs/example/ (the report of a real run of
# scenarios/examples/quickstart.ini: terminal output, JSON, JUnit XML, the
# SVG timeline and the HTML page) so the example in docs/reports.md stays what the
# project really produces. Needs root (network namespaces) and a build.
# The files are replaced only when the run passed.
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
if [ $rc -ne 0 ]; then
	cat "$tmp/quickstart.txt" >&2
	echo "$0: the run exited $rc; $out left as it was" >&2
	exit $rc
fi
mkdir -p "$out"
mv "$tmp/svg/quickstart.svg" "$out/quickstart.svg"
mv "$tmp/quickstart.txt" "$tmp/quickstart.json" "$tmp/quickstart.junit.xml" "$tmp/quickstart.html" "$out/"
chmod 644 "$out"/quickstart.*
echo "$out: quickstart.txt quickstart.json quickstart.junit.xml quickstart.svg quickstart.html"
