#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages idlegate needs to build and test, when run as
# root on Debian or Ubuntu; otherwise says exactly what to install.
#   scripts/deps.sh              build, unit and integration tests
#   scripts/deps.sh packaging    make deb: debhelper, dpkg-dev, lintian, fakeroot
#   scripts/deps.sh apps         the real programs of scenarios/apps/ (OpenSSH,
#                                PostgreSQL, Redis, libfaketime)
set -eu

# build and unit tests
# The fuzzers need clang's runtime, whose package carries clang's major
# version (libclang-rt-14-dev on bookworm, newer elsewhere): take the one
# that matches the clang installed, or the one Debian's clang depends on.
clang_rt() {
	v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
	[ -n "$v" ] || v=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	echo "libclang-rt-${v:-14}-dev"
}
PKGS="build-essential pkg-config libnetfilter-queue-dev libnftnl-dev libmnl-dev libinih-dev libpcap-dev libjansson-dev check clang $(clang_rt)"
# running scenarios and the integration tests (chromium: the HTML report is
# checked in a real headless browser, tests/integration/reports.sh)
PKGS="$PKGS iproute2 nftables iptables socat iperf3 python3 python3-yaml procps kmod tcpdump libxml2-utils jq bc ethtool shellcheck python3-jsonschema chromium"

# Optional groups, by name: `scripts/deps.sh packaging` (what `make deb`
# needs: the Debian tools and every Build-Depends of debian/control) instead
# of the core group above.
case "${1:-}" in
"") ;;
packaging)
	PKGS="debhelper dpkg-dev lintian fakeroot build-essential pkg-config libnetfilter-queue-dev libnftnl-dev libmnl-dev libinih-dev libpcap-dev libjansson-dev check"
	;;
apps)
	PKGS="openssh-server openssh-client postgresql postgresql-client redis-server redis-tools libfaketime coreutils"
	;;
*)
	echo "usage: scripts/deps.sh [packaging|apps]" >&2
	exit 2
	;;
esac

missing=""
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		continue
	fi
	missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "idlegate: missing packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 3
fi
echo "idlegate: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# apt's output goes to a file of our own (mktemp: never a path in /tmp that
# another user could have planted as a symlink for root to write through)
log=$(mktemp /tmp/idlegate-deps.XXXXXX) || exit 3
trap 'rm -f "$log"' EXIT
if ! apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1; then
	apt-get update -q >>"$log" 2>&1 || true
	apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		echo "idlegate: could not install:$missing" >&2
		exit 3
	}
fi
