#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make check-docker`: builds the idlegate image (and, with no image
# registry in reach, its Debian base with docker/build-base.sh), runs a
# scenario in run mode with the documented privileges, and a probe exchange
# through the compose lab while `idlegate ctl` watches and changes the nat.
# Skips (exit 0, with a message) where no Docker engine runs. Every
# container and network it creates is removed on any exit.
#
# Environment: IDLEGATE_IMAGE (default idlegate:latest), IDLEGATE_BASE_IMAGE
# (default debian:bookworm-slim if present, else one built locally).
set -u
cd "$(dirname "$0")/../.."

IMAGE=${IDLEGATE_IMAGE:-idlegate:latest}
TAG=idlegate-check-$$
WORK=$(mktemp -d /tmp/$TAG.XXXXXX)
PASSED=0
COMPOSE=()
LAB_UP=0

say() { echo "check-docker: $*"; }
pass() { say "ok: $*"; PASSED=$((PASSED + 1)); }
fail() {
	say "FAIL: $*"
	echo "$PASSED passed, 1 failed"
	exit 1
}
cleanup() {
	docker rm -f "$TAG-run" >/dev/null 2>&1
	if [ "$LAB_UP" = 1 ]; then
		"${COMPOSE[@]}" logs --no-color >"$WORK/lab.log" 2>&1
		[ -n "${SHOW_LAB_LOG:-}" ] && tail -n 40 "$WORK/lab.log" | sed 's/^/  lab: /'
		"${COMPOSE[@]}" down -v --remove-orphans -t 2 >/dev/null 2>&1
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
	say "SKIP: no Docker engine answers here (docker info failed); nothing was tested"
	exit 0
fi

# ---- the image -------------------------------------------------------------
BASE=${IDLEGATE_BASE_IMAGE:-}
if [ -z "$BASE" ]; then
	if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
		BASE=debian:bookworm-slim
	else
		# No registry needed: debootstrap from the host's Debian mirror,
		# once (build-base.sh does nothing when the image exists).
		BASE=idlegate-base:bookworm
		docker/build-base.sh "$BASE" || fail "could not build the base image $BASE"
	fi
fi
say "building $IMAGE on $BASE"
start=$(date +%s)
VERSION=$(scripts/version.sh)
COMMIT=$(scripts/version.sh --commit)
if ! docker build -f docker/Dockerfile --build-arg BASE_IMAGE="$BASE" \
	--build-arg VERSION="$VERSION" --build-arg COMMIT="$COMMIT" \
	--build-arg SOURCE="${IDLEGATE_SOURCE_URL:-https://github.com/OWNER/idlegate}" \
	-t "$IMAGE" . >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log"
	fail "docker build"
fi
pass "image $IMAGE built ($(($(date +%s) - start)) s)"
for p in idlegate idlegate-sim idlegate-probe; do
	docker run --rm --entrypoint "$p" "$IMAGE" --version >/dev/null 2>&1 || fail "$p does not run in the image"
done
docker run --rm "$IMAGE" profiles | grep -q '^aws-nat-gateway' || fail "profiles missing from the image"
pass "the three programs run; profiles and examples are in the image"
v=$(docker run --rm "$IMAGE" --version)
[ "$v" = "idlegate $VERSION (commit $COMMIT)" ] || fail "idlegate --version in the image: '$v', not 'idlegate $VERSION (commit $COMMIT)'"
for l in title=idlegate licenses=GPL-2.0-or-later version="$VERSION" revision="$COMMIT"; do
	got=$(docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.${l%%=*}\"}}" "$IMAGE")
	[ "$got" = "${l#*=}" ] || fail "label org.opencontainers.image.${l%%=*} is '$got', not '${l#*=}'"
done
for l in source description; do
	got=$(docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$l\"}}" "$IMAGE")
	[ -n "$got" ] || fail "label org.opencontainers.image.$l is empty"
done
docker run --rm --user 65534:65534 "$IMAGE" check -q /usr/share/idlegate/scenarios/examples/quickstart.ini ||
	fail "idlegate check as a non-root user in the image"
pass "--version '$v'; OCI labels title, description, licenses, version, revision, source; check runs as a non-root user"

# ---- run mode --------------------------------------------------------------
# The documented least privilege (docs/docker.md): no --privileged.
mkdir -p "$WORK/scenarios" "$WORK/out"
cp scenarios/examples/quickstart.ini "$WORK/scenarios/"
say "run mode: idlegate run quickstart.ini (about 30 s)"
docker run --rm --name "$TAG-run" \
	--cap-drop ALL --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add NET_RAW \
	--security-opt systempaths=unconfined \
	-v "$WORK/scenarios:/scenarios:ro" -v "$WORK/out:/out" \
	"$IMAGE" run --no-progress --json /out/report.json --junit /out/junit.xml --svg /out/svg \
	quickstart.ini >"$WORK/run.log" 2>&1
rc=$?
sed 's/^/  | /' "$WORK/run.log"
[ $rc -eq 0 ] || fail "idlegate run in a container exited $rc"
[ -s "$WORK/out/report.json" ] && [ -s "$WORK/out/junit.xml" ] || fail "reports missing in the mounted folder"
python3 - "$WORK/out/report.json" <<'PY' || fail "report.json: not every flow passed"
import json, sys
r = json.load(open(sys.argv[1]))
sc = r["scenarios"]
assert len(sc) == 1 and sc[0]["status"] == "PASS", sc
assert len(sc[0]["flows"]) >= 2 and all(f["status"] == "PASS" for f in sc[0]["flows"]), sc
PY
ls "$WORK/out/svg/"*.svg >/dev/null 2>&1 || fail "no SVG timeline in the mounted folder"
pass "run mode: scenario passed, JSON, JUnit and SVG reports written to the mounted folder"

# ---- lab mode --------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
	COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
	COMPOSE=(docker-compose)
else
	say "SKIP lab: neither 'docker compose' nor docker-compose is installed"
	echo "$PASSED passed, 0 failed, 1 skipped"
	exit 0
fi
COMPOSE+=(-p "$TAG" -f docker/compose.yaml)
export IDLEGATE_IMAGE="$IMAGE" IDLEGATE_PROFILE=aws-nat-gateway
export LAB_INSIDE_NET=${LAB_INSIDE_NET:-198.18.1} LAB_OUTSIDE_NET=${LAB_OUTSIDE_NET:-198.18.2}
IN=$LAB_INSIDE_NET OUT=$LAB_OUTSIDE_NET
# Docker accepts a bridge subnet that the host itself uses, and the host
# then loses that network: refuse before creating anything.
if command -v ip >/dev/null 2>&1; then
	clash=$(ip -4 -o route show table all 2>/dev/null | python3 -c '
import ipaddress, sys
nets = [ipaddress.ip_network(n + ".0/24") for n in sys.argv[1:]]
for line in sys.stdin:
    w = line.split()
    dst = w[1] if w[0] in ("local", "broadcast", "unicast") else w[0]
    if dst == "default":
        continue
    try:
        d = ipaddress.ip_network(dst, strict=False)
    except ValueError:
        continue
    if any(d.overlaps(n) for n in nets):
        print(line.strip())
' "$IN" "$OUT" | head -n 3)
	[ -z "$clash" ] || fail "the lab's subnets $IN.0/24, $OUT.0/24 clash with this host's routes ($clash): set LAB_INSIDE_NET/LAB_OUTSIDE_NET"
fi
say "lab: ${COMPOSE[*]} up"
LAB_UP=1
if ! "${COMPOSE[@]}" up -d >"$WORK/up.log" 2>&1; then
	cat "$WORK/up.log"
	SHOW_LAB_LOG=1
	fail "the lab did not come up"
fi
ctl() { "${COMPOSE[@]}" exec -T nat idlegate ctl "$@"; }
ctl stats >/dev/null || { SHOW_LAB_LOG=1; fail "idlegate ctl stats in the nat container"; }
pass "lab up: nat runs idlegate-sim (aws-nat-gateway), healthy through idlegate ctl"

# Shorten the profile's 350 s to 3 s at run time; its on_expire stays
# rst-inside-on-next (AWS: the client gets an RST when it next sends).
ctl set tcp.established 3s >/dev/null || fail "ctl set tcp.established"
"${COMPOSE[@]}" exec -T client idlegate-probe client --server $OUT.10:7201 \
	--json /tmp/probe.json \
	--flow name=short,idle=1s,expect=alive \
	--flow name=expires,idle=5s,expect=reset >"$WORK/probe.log" 2>&1 &
probe=$!
# while the second flow idles, the nat lists it with its NAT mapping
mapping="${IN//./\\.}\\.10:[0-9]+ +${OUT//./\\.}\\.10:7201 +${OUT//./\\.}\\.2:[0-9]+ +established"
deadline=$(($(date +%s) + 10))
until ctl flows >"$WORK/flows.txt" 2>&1 && grep -Eq "$mapping" "$WORK/flows.txt"; do
	[ "$(date +%s)" -ge $deadline ] && { cat "$WORK/flows.txt"; fail "ctl flows: no NAT mapping client -> $OUT.2 -> server"; }
	sleep 0.2
done
sed 's/^/  | /' "$WORK/flows.txt"
pass "ctl flows in the nat shows the client's flows and their NAT mapping"
wait $probe
rc=$?
sed 's/^/  | /' "$WORK/probe.log"
[ $rc -eq 0 ] || fail "probe exchange through the lab: exit $rc (expected short=alive, expires=reset)"
"${COMPOSE[@]}" exec -T client cat /tmp/probe.json >"$WORK/probe.json" || fail "probe JSON"
python3 - "$WORK/probe.json" "$OUT.2:" <<'PY' || fail "probe results: $(cat "$WORK/probe.json")"
import json, sys
res = {r["flow"]: r for r in map(json.loads, open(sys.argv[1]))}
assert res["short"]["outcome"] == "alive" and res["expires"]["outcome"] == "reset", res
seen = res["short"]["client"]["seen_as"]
assert seen.startswith(sys.argv[2]), "server saw " + seen
PY
pass "probe exchange through the nat: 1 s idle alive, 5 s idle reset; the server saw the NAT address"
echo "$PASSED passed, 0 failed"
