#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Entrypoint of the lab's containers (docker/compose.yaml): routes the other
# side's subnet through the nat container, then runs the command; in the nat
# container it starts idlegate-sim between the two networks' interfaces.
#
#   lab-entrypoint nat [idlegate-sim options...]
#   lab-entrypoint COMMAND [ARGS...]
#
# Environment:
#   LAB_ROUTES       "SUBNET=GATEWAY ..." routes to set first (SUBNET may be
#                    "default"; needs NET_ADMIN)
#   LAB_INSIDE       nat: subnet of the clients' network (its interface is --inside)
#   LAB_OUTSIDE      nat: subnet of the servers' network (--outside)
#   IDLEGATE_PROFILE nat: device profile (default linux-conntrack)
#   IDLEGATE_CTL     nat: control socket (default /run/idlegate/ctl.sock, where
#                    `idlegate ctl` looks)
set -eu

say() { echo "lab-entrypoint: $*" >&2; }

for r in ${LAB_ROUTES:-}; do
	net=${r%%=*}
	gw=${r#*=}
	if ! ip route replace "$net" via "$gw" 2>/dev/null; then
		say "cannot route $net via $gw (the container needs cap_add: NET_ADMIN)"
		exit 3
	fi
done

# The interface with an IPv4 address in subnet $1. Docker attaches a
# container's second network just before it starts: wait a little for it.
iface_in() {
	i=0
	while [ $i -lt 50 ]; do
		dev=$(ip -o -4 addr show to "$1" | awk '{ sub(/@.*/, "", $2); print $2; exit }')
		if [ -n "$dev" ]; then
			echo "$dev"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	say "no interface has an address in $1"
	return 1
}

if [ "${1:-}" = nat ]; then
	shift
	: "${LAB_INSIDE:?set LAB_INSIDE to the clients subnet}" "${LAB_OUTSIDE:?set LAB_OUTSIDE to the servers subnet}"
	in=$(iface_in "$LAB_INSIDE")
	out=$(iface_in "$LAB_OUTSIDE")
	# The lab's networks are plain Docker bridges (see docs/docker.md): the
	# nat forwards only between them, never toward Docker's gateway.
	ip route del default 2>/dev/null || true
	if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
		say "IP forwarding is off (compose: sysctls: net.ipv4.ip_forward: 1)"
		exit 3
	fi
	ctl=${IDLEGATE_CTL:-/run/idlegate/ctl.sock}
	mkdir -p "$(dirname "$ctl")"
	say "idlegate-sim: inside $in ($LAB_INSIDE), outside $out ($LAB_OUTSIDE), profile ${IDLEGATE_PROFILE:-linux-conntrack}"
	exec idlegate-sim --inside "$in" --outside "$out" \
		--profile "${IDLEGATE_PROFILE:-linux-conntrack}" --ctl "$ctl" "$@"
fi
[ $# -gt 0 ] || set -- sleep infinity
exec "$@"
