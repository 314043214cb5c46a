#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a Debian base image locally, for machines that reach Debian's package
# mirror but no image registry (air-gapped CI): debootstrap a minbase
# system from the mirror this machine's apt already uses, import it as an
# image, and give it the host's apt source configuration so that `apt-get
# install` in docker/Dockerfile's builder reaches the same mirror the same way.
#
#   docker/build-base.sh [--force] [TAG]      (root; default TAG idlegate-base:bookworm)
#
# Does nothing when TAG exists already (unless --force). Then build with:
#   docker build -f docker/Dockerfile --build-arg BASE_IMAGE=TAG -t idlegate .
# Environment: SUITE (default bookworm), MIRROR (default: read from
# /etc/apt/sources.list{,.d/*}).
set -eu

force=0
if [ "${1:-}" = "--force" ]; then
	force=1
	shift
fi
case "${1:-}" in
-h|--help)
	sed -n '3,16s/^# \{0,1\}//p' "$0"
	exit 0
	;;
esac
TAG=${1:-idlegate-base:bookworm}
SUITE=${SUITE:-bookworm}

say() { echo "build-base: $*" >&2; }

if [ "$force" = 0 ] && docker image inspect "$TAG" >/dev/null 2>&1; then
	say "$TAG exists, nothing to do"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	say "must run as root (debootstrap)"
	exit 3
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	if ! command -v apt-get >/dev/null 2>&1; then
		say "debootstrap is missing and there is no apt-get to install it"
		exit 3
	fi
	say "installing debootstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 || true
		  apt-get install -y -q --no-install-recommends debootstrap >/dev/null; }
fi

# Host apt source files that are active (*.list, *.sources).
host_sources() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# The first Debian mirror the host uses for $SUITE: a one-line
# "deb URI SUITE ..." entry or a deb822 stanza with URIs: and Suites:.
find_mirror() {
	for f in $(host_sources); do
		case "$f" in
		*.sources)
			awk -v suite="$SUITE" '
				/^[ \t]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
				tolower($1) == "uris:" { uri = $2 }
				tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
				END { if (uri != "" && ok) print uri }' "$f" | head -n 1
			;;
		*)
			awk -v suite="$SUITE" '
				$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) while ($i !~ /\]$/) i++
					if ($i ~ /^\[/ || $i ~ /\]$/) i++
					if ($(i + 1) == suite) { print $i; exit }
				}' "$f"
			;;
		esac
	done | head -n 1
}

MIRROR=${MIRROR:-$(find_mirror)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d /var/tmp/idlegate-base.XXXXXX)
trap 'rm -rf "$WORK"' EXIT INT TERM
ROOT=$WORK/root

say "debootstrap --variant=minbase $SUITE from $MIRROR (a few minutes)"
if ! debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/log" 2>&1; then
	tail -n 30 "$WORK/log" >&2
	[ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOT/debootstrap/debootstrap.log" >&2
	say "debootstrap failed"
	exit 3
fi

# The host's way to the mirror: its source entries that name the mirror
# (with their keyrings) and the apt.conf.d settings about fetching
# (Acquire::, e.g. a proxy or snapshot date checks). Other repositories of
# the host are left out: their keys and hosts need not exist in the image.
copied=0
host_mirror=$(echo "$MIRROR" | sed 's|/*$||')
for f in $(host_sources); do
	grep -q "$host_mirror" "$f" || continue
	install -D -m 0644 "$f" "$ROOT$f"
	copied=1
	for k in $(sed -n 's/^[ \t]*Signed-By:[ \t]*\(\/[^ \t]*\)/\1/p; s/.*signed-by=\(\/[^] \t]*\).*/\1/p' "$f"); do
		[ -f "$k" ] && [ ! -f "$ROOT$k" ] && install -D -m 0644 "$k" "$ROOT$k"
	done
done
if [ "$copied" = 1 ]; then
	# debootstrap wrote a one-line sources.list; the host's files replace it
	[ -f /etc/apt/sources.list ] && grep -q "$host_mirror" /etc/apt/sources.list ||
		rm -f "$ROOT/etc/apt/sources.list"
fi
for f in /etc/apt/apt.conf.d/*; do
	# settings only: hooks (Post-Invoke) would call the host's programs
	[ -f "$f" ] && grep -q '^[[:space:]]*Acquire' "$f" && ! grep -q 'Invoke' "$f" &&
		install -m 0644 "$f" "$ROOT$f"
done
# Small images, as Debian's official slim images: no apt caches or lists.
printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
	'Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";' \
	'APT::Install-Recommends "false";' >"$ROOT/etc/apt/apt.conf.d/docker-clean"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/debootstrap
rm -f "$ROOT/etc/hostname" "$ROOT/etc/resolv.conf"

say "importing as $TAG"
tar --numeric-owner -C "$ROOT" -c . |
	docker import --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$TAG" >/dev/null
say "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1 / 1e6}'))"
