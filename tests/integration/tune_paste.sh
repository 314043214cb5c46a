#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What `idlegate tune` prints under "In common software" can be pasted:
# every printed form is fed, as printed, to the real program's own parser:
# the sysctl lines as a file to `sysctl -p` (inside a fresh network
# namespace: unshare -n), the ssh_config lines to `ssh -G -F FILE`, the
# ssh -o options to `ssh -G`, the libpq keywords to pg_isready -d (exit 3
# would mean libpq refused the connection string). No traffic leaves the
# namespaces.
source "$(dirname "$0")/lib/runner.sh"
command -v ssh >/dev/null && command -v pg_isready >/dev/null && command -v unshare >/dev/null ||
	skip "needs ssh, pg_isready (scripts/deps.sh apps) and unshare"

"$IG" tune --profile aws-nat-gateway --set tcp.established=10s >"$WORK/out" 2>&1 || fail "tune: exit $?"
# block NAME: the lines printed for one software, the name column cut off
block() {
	awk -v name="$1" '
		/^In common software:/ { on = 1; next }
		!on { next }
		{ col = substr($0, 3, 19); sub(/ +$/, "", col) }
		col == name { take = 1; print substr($0, 23); next }
		take && col == "" && substr($0, 23, 1) != "(" { print substr($0, 23); next }
		{ take = 0 }' "$WORK/out"
}

block "Linux sysctl" >"$WORK/sysctl.conf"
[ "$(wc -l <"$WORK/sysctl.conf")" -eq 3 ] || fail "sysctl: not three lines: $(cat "$WORK/sysctl.conf")"
want=$(sed -n 's/^net.ipv4.tcp_keepalive_time = //p' "$WORK/sysctl.conf")
got=$(unshare -n sh -c "sysctl -q -p '$WORK/sysctl.conf' && cat /proc/sys/net/ipv4/tcp_keepalive_time" 2>&1) ||
	fail "sysctl -p refuses tune's lines: $got"
[ "$got" = "$want" ] || fail "sysctl -p: keepalive_time $got, printed $want"
pass "the sysctl lines are a file sysctl -p takes (keepalive_time $got, in a namespace of its own)"

block "OpenSSH client" >"$WORK/ssh_config"
want=$(awk '/^ServerAliveInterval/ { print $2 }' "$WORK/ssh_config")
[ -n "$want" ] || fail "no ServerAliveInterval line: $(cat "$WORK/ssh_config")"
got=$(ssh -G -F "$WORK/ssh_config" example.invalid 2>&1) || fail "ssh -G -F refuses tune's ssh_config: $got"
grep -qx "serveraliveinterval $want" <<<"$got" || fail "ssh_config: $(grep -i serveralive <<<"$got")"
pass "the ssh_config lines are taken by ssh -G -F (ServerAliveInterval $want)"

opts=$(block "OpenSSH ssh -o")
[ -n "$opts" ] || fail "no ssh -o options printed"
# shellcheck disable=SC2086  # the options are to be split as a shell would
got=$(ssh -G -F /dev/null $opts example.invalid 2>&1) || fail "ssh -o refuses '$opts': $got"
grep -qx "serveraliveinterval $want" <<<"$got" && grep -q "^serveralivecountmax " <<<"$got" ||
	fail "ssh -o: $(grep -i serveralive <<<"$got")"
pass "the ssh -o options are taken by ssh: $opts"

conninfo=$(block "libpq (PostgreSQL)")
grep -q 'keepalives_idle=[0-9]' <<<"$conninfo" || fail "no libpq keywords printed: '$conninfo'"
unshare -n pg_isready -t 1 -d "host=127.0.0.1 port=9 dbname=x $conninfo" >"$WORK/pg" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "pg_isready -d '$conninfo': exit $rc (3: libpq refused the string): $(cat "$WORK/pg")"
pass "the libpq keywords are a connection string libpq takes: $conninfo"
