#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install DESTDIR=... PREFIX=/usr` gives a tree whose programs work
# from any directory without being told where their data is: the installed
# idlegate lists the installed profiles (and only those), checks an
# installed example scenario, and finds its simulator; the man pages render;
# the completion loads; `make uninstall` leaves no file behind. Creates no
# namespaces and needs no root.
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
tmp=$(mktemp -d /tmp/idlegate-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
source tests/lib/testlib.sh

# Nothing from the environment may point the programs at the source tree.
unset IDLEGATE_PROFILES IDLEGATE_SIM IDLEGATE_PROBE

# The build of `make` is installed as it is: installing with another
# PREFIX must not rebuild (when the build is up to date to begin with).
uptodate=0
make -q build/idlegate build/idlegate-sim build/idlegate-probe >/dev/null 2>&1 && uptodate=1
make install DESTDIR="$dest" PREFIX=/usr >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "make install"; }
if [ $uptodate = 1 ] && grep -qE '^  (CC|LD|AR) ' "$tmp/install.log"; then
	cat "$tmp/install.log"; fail "make install rebuilt an up-to-date build"
fi
ok "make install DESTDIR=$dest PREFIX=/usr (build up to date before: $uptodate)"

for f in usr/bin/idlegate usr/bin/idlegate-probe usr/sbin/idlegate-sim; do
	[ -x "$dest/$f" ] || fail "$f not installed"
done
for f in usr/share/man/man1/idlegate.1 usr/share/man/man1/idlegate-probe.1 \
	usr/share/man/man5/idlegate-scenario.5 usr/share/man/man8/idlegate-sim.8 \
	usr/share/bash-completion/completions/idlegate \
	usr/share/bash-completion/completions/idlegate-probe \
	usr/share/bash-completion/completions/idlegate-sim \
	usr/share/idlegate/scenarios/examples/quickstart.ini; do
	[ -f "$dest/$f" ] || fail "$f not installed"
done
nsc=$(find scenarios -name '*.ini' ! -path 'scenarios/profiles/*' | wc -l)
[ "$(find "$dest/usr/share/idlegate/scenarios" -name '*.ini' | wc -l)" -eq "$nsc" ] ||
	fail "not every scenario installed ($nsc in the tree)"
nprof=$(ls scenarios/profiles/*.ini | wc -l)
[ "$(ls "$dest"/usr/share/idlegate/profiles/*.ini | wc -l)" -eq "$nprof" ] ||
	fail "not every profile installed"
ok "files in place"

# From a directory that has nothing of idlegate in it.
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere"
bin=$dest/usr/bin
"$bin/idlegate" --help >/dev/null || fail "idlegate --help"
"$bin/idlegate-probe" --help >/dev/null || fail "idlegate-probe --help"
"$dest/usr/sbin/idlegate-sim" --help >/dev/null || fail "idlegate-sim --help"
ok "--help of the three installed programs"

"$bin/idlegate" profiles --paths >"$tmp/profiles.txt" 2>&1 ||
	{ cat "$tmp/profiles.txt"; fail "installed idlegate profiles"; }
# every shipped profile, each found in the installed tree (not in the source
# tree, nor in a copy the build's PREFIX might point to)
for p in "$repo"/scenarios/profiles/*.ini; do
	n=$(basename "$p" .ini)
	awk -v n="$n" '$1 == n { getline; print $1 }' "$tmp/profiles.txt" |
		grep -qx "$dest/usr/bin/../share/idlegate/profiles/$n.ini" ||
		{ cat "$tmp/profiles.txt"; fail "profile $n not listed from $dest"; }
done
grep -Eq '^gcp-cloud-nat .* snat, 64 per host to one destination$' "$tmp/profiles.txt" ||
	{ cat "$tmp/profiles.txt"; fail "the list does not state GCP Cloud NAT's 64 ports per VM"; }
ok "idlegate profiles lists the $nprof installed profiles, with their NAT port limits"

"$bin/idlegate" profiles aws-nat-gateway | grep -q 'on_expire *= rst-inside-on-next' ||
	fail "idlegate profiles aws-nat-gateway"
out=$("$dest/usr/sbin/idlegate-sim" --inside lo --outside ig-no-such0 --profile no-such-profile 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "$dest/usr/sbin/../share/idlegate/profiles" ||
	fail "idlegate-sim does not search the installed profiles: $out"
ok "profile details; idlegate-sim searches the installed profiles"

find "$dest/usr/share/idlegate/scenarios" -name '*.ini' -exec "$bin/idlegate" check -q {} + >"$tmp/check.txt" 2>&1 ||
	{ cat "$tmp/check.txt"; fail "idlegate check on the installed scenarios"; }
cp "$dest/usr/share/idlegate/scenarios/examples/quickstart.ini" ./mine.ini
"$bin/idlegate" check mine.ini >/dev/null 2>&1 || fail "idlegate check on a copy of the example"
sed 's/^profile = .*/profile = no-such-profile/' mine.ini >bad.ini
"$bin/idlegate" check bad.ini >"$tmp/bad.txt" 2>&1
[ $? -eq 2 ] || fail "idlegate check accepted an unknown profile"
ok "idlegate check on the $nsc installed scenarios (and refuses an unknown profile)"

if command -v man >/dev/null; then
	for m in man1/idlegate.1 man1/idlegate-probe.1 man5/idlegate-scenario.5 man8/idlegate-sim.8; do
		warn=$(MANWIDTH=80 man -l "$dest/usr/share/man/$m" 2>&1 >/dev/null)
		[ -z "$warn" ] || fail "man $m: $warn"
		MANWIDTH=80 man -l "$dest/usr/share/man/$m" 2>/dev/null | grep -q '^NAME' || fail "man $m renders no NAME"
	done
	ok "man pages render without warnings"
fi

# The completion defines itself and completes installed profile names.
res=$(bash -c '
	source "$1/usr/share/bash-completion/completions/idlegate"
	COMP_WORDS=("$1/usr/bin/idlegate" profiles aws-na); COMP_CWORD=2
	_idlegate; echo "${COMPREPLY[*]}"' _ "$dest")
[ "$res" = "aws-nat-gateway" ] || fail "completion of profile names gave '$res'"
for c in idlegate-probe idlegate-sim; do
	bash -c 'source "$1"; complete -p "$2" >/dev/null' _ \
		"$dest/usr/share/bash-completion/completions/$c" "$c" || fail "completion $c"
done
ok "bash completion"

cd "$repo"
make uninstall DESTDIR="$dest" PREFIX=/usr >"$tmp/uninstall.log" 2>&1 ||
	{ cat "$tmp/uninstall.log"; fail "make uninstall"; }
left=$(find "$dest" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall leaves no files"
