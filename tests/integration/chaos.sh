#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Chaos, bounded in time: over CHAOS_CYCLES cycles (default 10), a random
# signal (KILL, TERM or INT) at a random moment (0.1 to 3 s after the start)
# to a random process of a run (the runner, a simulator, a probe) or of a
# shell (the runner of `idlegate shell -c`, or its command); then
# `idlegate cleanup`. Every time: no process of that run left (by its
# IDLEGATE_RUN_PID and by its namespaces), no named namespace, no ig-* link
# and no idlegate_* nftables table in the root namespace, no run directory.
# The seed is printed; CHAOS_SEED=N replays a sequence.
source "$(dirname "$0")/lib/runner.sh"
long_scenario "$WORK/long.ini"
seed=${CHAOS_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "chaos: seed $seed"
cycles=${CHAOS_CYCLES:-10}
signals=(KILL TERM INT)
targets=(runner simulator probe shell shell-command)

# pid_of COMM: the first descendant of $RUN_PID called COMM
pid_of() {
	local p
	for p in $(descendants "$RUN_PID"); do
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = "$1" ] && { echo "$p"; return 0; }
	done
	return 1
}

# owned_by_run PID: processes whose environment names the run
owned_by_run() {
	grep -lzx "IDLEGATE_RUN_PID=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 |
		while read -r p; do [ "$(awk '{print $3}' /proc/"$p"/stat 2>/dev/null)" != Z ] && echo "$p"; done
}

for cycle in $(seq "$cycles"); do
	target=${targets[RANDOM % ${#targets[@]}]}
	sig=${signals[RANDOM % ${#signals[@]}]}
	delay=$(( RANDOM % 30 + 1 ))            # tenths of a second
	case $target in
	shell*) "$IG" shell -c 'sleep 321' "$WORK/long.ini" >"$WORK/out" 2>&1 & ;;
	*) "$IG" run --no-progress "$WORK/long.ini" >"$WORK/out" 2>&1 & ;;
	esac
	RUN_PID=$!
	BG+=("$RUN_PID")
	sleep "$((delay / 10)).$((delay % 10))"
	# the network exists by now or not at all yet: remember what there is
	SNAP_PIDS=$(descendants "$RUN_PID" | sort -u)
	SNAP_TICKS=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", $1 * hz + 1 }' /proc/uptime)
	SNAP_NS=$(for p in $SNAP_PIDS; do readlink /proc/$p/ns/net 2>/dev/null; done | sort -u |
		grep -vxF "$(readlink /proc/self/ns/net)")
	case $target in
	runner|shell) victim=$RUN_PID ;;
	simulator) victim=$(pid_of idlegate-sim) ;;
	probe) victim=$(pid_of idlegate-probe) ;;
	shell-command) victim=$(pgrep -f '^sleep 321' | head -n 1) ;;
	esac
	what="cycle $cycle: SIG$sig to the $target after ${delay}00 ms"
	if [ -n "$victim" ]; then
		kill -"$sig" "$victim" 2>/dev/null
	else
		what="$what (not started yet: SIGTERM to the runner)"
		kill -TERM "$RUN_PID"
	fi
	# a run whose simulator or probe died ends by itself (ERROR); give it
	# time, then end it as a user would
	if ! wait_for 20 sh -c "! kill -0 $RUN_PID"; then
		kill -TERM "$RUN_PID"
		wait_for 20 sh -c "! kill -0 $RUN_PID" || fail "$what: the runner did not end after SIGTERM"
	fi
	wait "$RUN_PID" 2>/dev/null
	"$IG" cleanup >"$WORK/cleanup.out" 2>&1 || fail "$what: cleanup: exit $?: $(cat "$WORK/cleanup.out")"
	wait_for 10 nothing_left_now "$RUN_PID" || nothing_left "$RUN_PID" "$what"
	left=$(owned_by_run "$RUN_PID")
	[ -z "$left" ] || fail "$what: processes of the run left: $(for p in $left; do tr '\0' ' ' </proc/$p/cmdline; echo; done)"
	pgrep -f '^sleep 321' >/dev/null && fail "$what: the shell's command was left running"
	ip netns list | grep -q "^ig-" && fail "$what: a named namespace was left: $(ip netns list)"
	ip -o link show | grep -q ': ig-' && fail "$what: an ig-* link was left in the root namespace"
	nft list tables 2>/dev/null | grep -q 'idlegate_' && fail "$what: an idlegate nftables table was left in the root namespace"
	[ -z "$(ls -d "$WORK"/idlegate-run-* 2>/dev/null)" ] || fail "$what: a run directory was left after cleanup"
	pass "$what: nothing left"
done
