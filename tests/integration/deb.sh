#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package from a fresh clone, installed in a clean container:
# `make deb` in a `git clone` of this tree (committed work only), then in a
# container from the local Debian base image (docker/build-base.sh):
# `apt-get install ./idlegate_*.deb` (the container reaches the same Debian
# mirror as the host, for iproute2, procps and the libraries), the
# package's own autopkgtests (debian/tests: the quickstart scenario as
# root, with the privileges docs/docker.md gives run mode), `idlegate
# --version` shows the release and the commit, and `apt-get purge idlegate`
# leaves none of the files `dpkg -L` listed. Exit 77 (skipped, with the
# reason) where no Docker engine runs or the container reaches no mirror.
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
BASE=${IDLEGATE_BASE_IMAGE:-idlegate-base:bookworm}
name=idlegate-deb-$$
tmp=$(mktemp -d /tmp/idlegate-deb.XXXXXX)
trap 'docker rm -f "$name" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
source tests/lib/testlib.sh

command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 ||
	skip "no Docker engine answers here (docker info failed)"
command -v git >/dev/null 2>&1 || skip "no git to clone the tree with"
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
	docker/build-base.sh "$BASE" >"$tmp/base.log" 2>&1 ||
		{ tail -n 20 "$tmp/base.log"; skip "no base image $BASE, and docker/build-base.sh could not make it"; }
fi

# ---- make deb from a fresh clone -------------------------------------------
start=$(date +%s)
git clone -q "$repo" "$tmp/src" || fail "git clone $repo"
commit=$(git -C "$tmp/src" rev-parse --short=7 HEAD)
version=$(cat "$tmp/src/VERSION")
make -C "$tmp/src" deb >"$tmp/deb.log" 2>&1 || { tail -n 40 "$tmp/deb.log"; fail "make deb"; }
set -- "$tmp"/src/build/deb/idlegate_*.deb
[ -f "$1" ] && [ $# -eq 1 ] || fail "make deb made no single build/deb/idlegate_*.deb: $*"
deb=$1
case $(basename "$deb") in
"idlegate_${version}-"*"_$(dpkg --print-architecture).deb") ;;
*) fail "package named $(basename "$deb"), not idlegate_${version}-REV_ARCH.deb" ;;
esac
grep -E '^[EW]: ' "$tmp/deb.log" | sed 's/^/  lintian | /'
grep -q '^E: ' "$tmp/deb.log" && fail "lintian reports errors"
ok "make deb in a fresh clone: $(basename "$deb") ($(($(date +%s) - start)) s), no lintian errors"

# ---- install, run, purge in a clean container ------------------------------
mkdir -p "$tmp/ctx"
cp "$deb" "$tmp/src/debian/tests/quickstart" "$tmp/src/debian/tests/installed" "$tmp/ctx/"
# Can the container reach the Debian mirror? (docker/build-base.sh gives it
# the host's apt sources.) Everything below needs it for the dependencies.
docker run --rm "$BASE" apt-get update -q >"$tmp/update.log" 2>&1 ||
	{ tail -n 5 "$tmp/update.log"; skip "a container from $BASE reaches no Debian mirror (apt-get update failed)"; }

cat >"$tmp/ctx/in-container.sh" <<'SH'
set -eu
export DEBIAN_FRONTEND=noninteractive
say() { echo "  [container] $*"; }
apt-get update -q >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 10; }
find / -xdev \( -path /proc -o -path /sys -o -path /tmp -o -path /var/cache -o -path /var/lib/apt -o -path /var/log -o -path /deb \) -prune -o -print 2>/dev/null | sort >/tmp/before
cp /deb/*.deb /tmp/
apt-get install -y -q /tmp/idlegate_*.deb >/tmp/apt.log 2>&1 || { tail -n 30 /tmp/apt.log; exit 11; }
say "installed: $(dpkg-query -W -f '${Package} ${Version}' idlegate)"
dpkg -L idlegate | sort >/tmp/files
say "$(wc -l </tmp/files) paths listed by dpkg -L idlegate"
idlegate --version | tee /tmp/version
grep -qx "idlegate $EXPECT_VERSION (commit $EXPECT_COMMIT)" /tmp/version || { say "--version is not 'idlegate $EXPECT_VERSION (commit $EXPECT_COMMIT)'"; exit 12; }
# the package's autopkgtests, as autopkgtest would run them
AUTOPKGTEST_TMP=$(mktemp -d) sh /deb/installed || exit 13
AUTOPKGTEST_TMP=$(mktemp -d) sh /deb/quickstart || exit 14
apt-get purge -y -q idlegate >/tmp/apt.log 2>&1 || { tail -n 30 /tmp/apt.log; exit 15; }
left=0
while read -r f; do
	[ "$f" = /. ] && continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		# directories other packages share (/usr/bin, /usr/share/man/man1...)
		# may stay, if they existed before; everything else must be gone
		if [ -d "$f" ] && grep -qx "$f" /tmp/before; then continue; fi
		say "left after purge: $f"; left=1
	fi
done </tmp/files
dpkg-query -W idlegate 2>/dev/null | grep -q . && { say "dpkg still knows idlegate"; left=1; }
[ -z "$(find / -xdev -name '*idlegate*' ! -path '/deb/*' ! -path '/tmp/*' ! -path '/proc/*' 2>/dev/null)" ] ||
	{ find / -xdev -name '*idlegate*' ! -path '/deb/*' ! -path '/tmp/*' ! -path '/proc/*' 2>/dev/null | sed 's/^/  [container] left: /'; left=1; }
[ $left = 0 ] || exit 16
say "purged: none of the $(wc -l </tmp/files) paths remains"
SH

say_rc() {
	case $1 in
	10) echo "apt-get update in the container" ;; 11) echo "apt-get install ./$(basename "$deb")" ;;
	12) echo "idlegate --version" ;; 13) echo "debian/tests/installed" ;;
	14) echo "debian/tests/quickstart (idlegate run quickstart.ini)" ;; 15) echo "apt-get purge" ;;
	16) echo "files left after apt-get purge" ;; *) echo "container exited $1" ;;
	esac
}
start=$(date +%s)
# run mode's privileges (docs/docker.md); Docker's default set stays, for apt
docker run --rm --name "$name" \
	--cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW \
	--security-opt systempaths=unconfined \
	-e EXPECT_VERSION="$version" -e EXPECT_COMMIT="$commit" \
	-v "$tmp/ctx:/deb:ro" "$BASE" sh /deb/in-container.sh >"$tmp/run.log" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/run.log"
[ $rc -eq 0 ] || fail "$(say_rc $rc)"
ok "in a clean $BASE container: apt-get install, --version '$version (commit $commit)', quickstart passed, purge left nothing ($(($(date +%s) - start)) s)"
echo "2 passed, 0 failed"
