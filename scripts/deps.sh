#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages idlegate needs to build and test, when run as
# root on Debian or Ubuntu; otherwise says exactly what to install.
set -eu

# build and unit tests
PKGS="build-essential pkg-config libnetfilter-queue-dev libnftnl-dev libmnl-dev libinih-dev libpcap-dev libjansson-dev check clang libclang-rt-14-dev"
# running scenarios and the integration tests
PKGS="$PKGS iproute2 nftables iptables socat iperf3 python3 procps kmod tcpdump libxml2-utils jq bc ethtool"

missing=""
for p in $PKGS; do
	# accept a newer clang runtime when the named one does not exist
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
if ! apt-get install -y -q --no-install-recommends $missing >/tmp/idlegate-deps.log 2>&1; then
	apt-get update -q >>/tmp/idlegate-deps.log 2>&1 || true
	apt-get install -y -q --no-install-recommends $missing >>/tmp/idlegate-deps.log 2>&1 || {
		tail -n 20 /tmp/idlegate-deps.log >&2
		echo "idlegate: could not install:$missing" >&2
		exit 3
	}
fi
