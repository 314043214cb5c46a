#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Least privilege, read from /proc/PID/status of every process of a running
# scenario (a NAT and a firewall in a chain, TCP and UDP probe flows):
#   idlegate-probe  the run user (nobody), no capability at all, no_new_privs
#   idlegate-sim    the run user, only CAP_NET_ADMIN and CAP_NET_RAW
#                   (effective = permitted = bounding = 0x3000), no_new_privs
#   idlegate-ns     the namespace holders: root's uid (a runner without
#                   CAP_SYS_PTRACE, as in a container, can enter only its own
#                   uid's namespaces) but no capability at all, no_new_privs
#   idlegate        the runner and its worker: root (they build the network)
# Nothing else runs as root in the run's process tree. A run user that does
# not exist, or is root, is refused (exit 3) before anything starts.
source "$(dirname "$0")/lib/runner.sh"

cat >"$WORK/chain.ini" <<'INI'
[scenario]
description = test: privileges of a run's processes
time_scale = 1/5
[middlebox nat]
profile = aws-nat-gateway
[middlebox fw]
profile = linux-conntrack
[flow tcp]
path = nat, fw
idle = 30s
expect = alive
[flow udp]
path = nat, fw
proto = udp
idle = 20s
expect = alive
INI
nobody=$(id -u nobody)

"$IG" run --no-progress "$WORK/chain.ini" >"$WORK/out" 2>&1 &
RUN_PID=$!
BG+=("$RUN_PID")
# running: both probes have exec'd (a child between fork and exec is still
# called idlegate, and still root)
probes_running() {
	[ "$(for p in $(descendants "$RUN_PID"); do cat /proc/$p/comm 2>/dev/null; done |
		grep -cx idlegate-probe)" -eq 2 ]
}
wait_for 20 probes_running || fail "the run did not start its probes"

status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
seen_probe=0 seen_sim=0 seen_ns=0 seen_root=0
for p in $(descendants "$RUN_PID" | sort -u); do
	[ -r "/proc/$p/status" ] || continue
	comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
	uid=$(status_field Uid "$p"); eff=$(status_field CapEff "$p"); prm=$(status_field CapPrm "$p")
	bnd=$(status_field CapBnd "$p"); inh=$(status_field CapInh "$p"); amb=$(status_field CapAmb "$p"); nnp=$(status_field NoNewPrivs "$p")
	what="$comm (pid $p): uid $uid eff $eff prm $prm bnd $bnd inh $inh amb $amb nnp $nnp"
	echo "  $what"
	case $comm in
	idlegate-probe)
		[ "$uid" = "$nobody" ] && [ "$eff$prm$bnd$inh$amb" = "$(printf '0%.0s' $(seq 80))" ] && [ "$nnp" = 1 ] ||
			fail "probe holds privileges: $what"
		seen_probe=$((seen_probe + 1)) ;;
	idlegate-sim)
		[ "$uid" = "$nobody" ] && [ "$eff" = 0000000000003000 ] && [ "$prm" = 0000000000003000 ] &&
			[ "$bnd" = 0000000000003000 ] && [ "$inh$amb" = "$(printf '0%.0s' $(seq 32))" ] && [ "$nnp" = 1 ] ||
			fail "simulator holds more than NET_ADMIN+NET_RAW as the run user: $what"
		seen_sim=$((seen_sim + 1)) ;;
	idlegate-ns)
		[ "$uid" = 0 ] && [ "$eff$prm$bnd$inh$amb" = "$(printf '0%.0s' $(seq 80))" ] && [ "$nnp" = 1 ] ||
			fail "namespace holder holds privileges: $what"
		seen_ns=$((seen_ns + 1)) ;;
	idlegate)
		seen_root=$((seen_root + 1)) ;;
	*)
		[ "$uid" != 0 ] || [ "$eff$prm" = "$(printf '0%.0s' $(seq 32))" ] ||
			fail "an unexpected process of the run runs as root: $what" ;;
	esac
done
[ $seen_probe -eq 2 ] || fail "expected a probe server and a client, saw $seen_probe probes"
[ $seen_sim -eq 2 ] || fail "expected 2 simulators, saw $seen_sim"
[ $seen_ns -eq 4 ] || fail "expected 4 namespace holders, saw $seen_ns"
[ $seen_root -le 2 ] || fail "expected the runner and one worker as root, saw $seen_root"
pass "probes and simulators run as nobody with only what they need, holders with no capability; only runner and worker hold root's"

wait "$RUN_PID"; rc=$?
[ $rc -eq 0 ] || fail "the run failed (exit $rc) with dropped privileges"
pass "the scenario passes with dropped privileges"

IDLEGATE_RUN_AS=no-such-user-here "$IG" run --no-progress "$WORK/chain.ini" >"$WORK/out" 2>&1; rc=$?
[ $rc -eq 3 ] && grep -q "IDLEGATE_RUN_AS: no user 'no-such-user-here'" "$WORK/out" || fail "unknown run user: exit $rc"
IDLEGATE_RUN_AS=root "$IG" run --no-progress "$WORK/chain.ini" >"$WORK/out" 2>&1; rc=$?
[ $rc -eq 3 ] && grep -q "is root" "$WORK/out" || fail "root as run user: exit $rc"
pass "a run user that does not exist, or is root, is refused with exit 3"
