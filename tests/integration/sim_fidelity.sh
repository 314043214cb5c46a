#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fidelity against Linux itself: the same flows through kernel conntrack +
# masquerade (established timeout set with the namespace's sysctl) and
# through idlegate-sim with the linux-conntrack profile give the same
# outcomes: idle < T alive; idle > T with the client speaking first alive
# (the entry is picked up again and the port kept); idle > T with the
# server speaking first: the client waits in vain and the server gets an
# RST from the box's own stack.
# UDP (issue 15): the server's datagram to a mapping that has expired reaches
# the box's own stack and conntrack records it (unreplied, for the UDP
# timeout); the client returning meanwhile is given a new port (rebound),
# after the record has gone the old one (alive). The two clients run at once.
# TCP leaves no such record (conntrack deletes an entry whose only reply is
# the box's RST): after a SYN from the server to a free outside port, a
# client connecting from that port to that server keeps it.
# Ports are unique per 5-tuple, not per inside host: two inside hosts with
# the same port, talking to different server ports at once, both keep it.
source "$(dirname "$0")/lib/netns.sh"
NETNS_NAT=1
netns_setup
command -v nft >/dev/null || skip "needs nft"
nsx "$NS_S" $PEER server --port 5001 >"$WORK/server.log" 2>&1 &
PIDS+=($!)
nsx "$NS_S" $PEER server --port 5002 --udp >"$WORK/userver.log" 2>&1 &
PIDS+=($!)
nsx "$NS_S" $PEER server --port 5003 >"$WORK/server3.log" 2>&1 &
PIDS+=($!)
ip -n "$NS_C" addr add 198.51.100.3/24 dev c0 || fail "second client address"
wait_for 5 grep -q listening "$WORK/server.log" || fail "server did not start"
wait_for 5 grep -q listening "$WORK/userver.log" || fail "udp server did not start"
wait_for 5 grep -q listening "$WORK/server3.log" || fail "server 5003 did not start"
T=2
U=2

run_flows() {        # prints "outcome outcome outcome server-saw-rst"
	local a b c before after
	a=$(field "$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 1)" outcome)
	b=$(field "$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 3.5)" outcome)
	before=$(grep -c 'server-after-late reset' "$WORK/server.log")
	c=$(field "$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --idle 3.5 --speaker server --wait 1.5)" outcome)
	wait_for 3 test "$(grep -c 'server-after-late reset' "$WORK/server.log")" -gt "$before" &&
		after=server-rst || after=no-server-rst
	echo "$a $b $c $after"
}

# The TCP non-clash: prints "kept" or "changed" (port P, one per phase).
run_tcp_record() {
	local p=$1 out
	nsx "$NS_S" $PEER syn 203.0.113.1 "$p" --src 203.0.113.2 --sport 5001 || fail "raw syn"
	sleep 0.2
	out=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --bind-port "$p") || fail "tcp from port $p"
	[ "$(field "$out" seen)" = "203.0.113.1:$p" ] && echo kept || echo changed
}

# Port reuse: prints "shared" when both hosts were seen from port P.
run_tcp_reuse() {
	local p=$1 a b
	nsx "$NS_C" $PEER tcp 203.0.113.2 5001 --bind-port "$p" --idle 1.5 >"$WORK/reuse-a" &
	sleep 0.5
	b=$(nsx "$NS_C" $PEER tcp 203.0.113.2 5003 --bind-addr 198.51.100.3 --bind-port "$p") ||
		fail "tcp from 198.51.100.3:$p"
	wait
	a=$(cat "$WORK/reuse-a")
	[ "$(field "$a" seen) $(field "$b" seen)" = "203.0.113.1:$p 203.0.113.1:$p" ] &&
		echo shared || echo "not-shared"
}

# The UDP clash: mapping expires at U s, the server's datagram at 3.5 s
# leaves a record until 3.5 + U s; one client speaks at 4 s, one at 6.5 s.
run_udp() {          # prints "then-outcome then-outcome"
	nsx "$NS_C" $PEER udp 203.0.113.2 5002 --speaker server --idle 3.5 --wait 0.5 \
		--then-client 0 >"$WORK/udp-soon" &
	nsx "$NS_C" $PEER udp 203.0.113.2 5002 --speaker server --idle 3.5 --wait 0.5 \
		--then-client 2.5 >"$WORK/udp-later" &
	wait
	echo "$(field "$(cat "$WORK/udp-soon")" then) $(field "$(cat "$WORK/udp-later")" then)"
}

# Linux: conntrack + masquerade
nsx "$NS_M" nft -f - <<NFT || fail "nft masquerade"
table ip reference {
	chain post { type nat hook postrouting priority srcnat; oifname "mo0" masquerade; }
}
NFT
nsx "$NS_M" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=$T \
	net.netfilter.nf_conntrack_udp_timeout=$U net.netfilter.nf_conntrack_udp_timeout_stream=$U ||
	fail "conntrack sysctl"
linux=$(run_flows)
linux_udp=$(run_udp)
linux_tcp=$(run_tcp_record 41234)
linux_reuse=$(run_tcp_reuse 41300)
nsx "$NS_M" nft delete table ip reference
nsx "$NS_M" sh -c 'command -v conntrack >/dev/null && conntrack -F' >/dev/null 2>&1
echo "linux:       $linux; udp: $linux_udp; tcp after an inbound SYN: $linux_tcp; port reuse: $linux_reuse"

# idlegate-sim with the linux-conntrack profile, same timeout
prof=linux-conntrack
[ -f "$ROOT/scenarios/profiles/linux-conntrack.ini" ] && prof="$ROOT/scenarios/profiles/linux-conntrack.ini"
sim_start --profile "$prof" --set nat=snat --set tcp.established=${T}s \
	--set udp.unreplied=${U}s --set udp.assured=${U}s
sim=$(run_flows)
sim_udp=$(run_udp)
sim_tcp=$(run_tcp_record 41235)
sim_reuse=$(run_tcp_reuse 41301)
sim_stop
echo "idlegate-sim: $sim; udp: $sim_udp; tcp after an inbound SYN: $sim_tcp; port reuse: $sim_reuse"

[ "$linux" = "alive alive timeout server-rst" ] || fail "the Linux reference did not behave as documented: $linux"
[ "$linux_udp" = "rebound alive" ] || fail "the Linux reference did not behave as documented (udp): $linux_udp"
[ "$linux_tcp" = kept ] || fail "the Linux reference did not behave as documented (tcp): $linux_tcp"
[ "$linux_reuse" = shared ] || fail "the Linux reference did not behave as documented (port reuse): $linux_reuse"
[ "$sim" = "$linux" ] || fail "idlegate-sim differs from Linux: $sim vs $linux"
[ "$sim_udp" = "$linux_udp" ] || fail "idlegate-sim differs from Linux (udp): $sim_udp vs $linux_udp"
[ "$sim_tcp" = "$linux_tcp" ] || fail "idlegate-sim differs from Linux (tcp): $sim_tcp vs $linux_tcp"
[ "$sim_reuse" = "$linux_reuse" ] || fail "idlegate-sim differs from Linux (port reuse): $sim_reuse vs $linux_reuse"
pass "same outcomes as Linux conntrack: $sim; udp after the server's datagram: $sim_udp; tcp after a SYN: $sim_tcp; port reuse: $sim_reuse"
