#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Dependencies point one way. Each folder below may include only the folders
# listed after it (and itself); an include that points up a layer, or into
# another program's internals, fails the build. docs/architecture.md draws it.
#
#   common                 the vocabulary every program shares: nothing else
#   simulator/engine       the pure engine: common
#   simulator              the daemon: engine, common
#   probes                 the probe: common
#   runner/util            text, files, exit codes: common
#   runner/model           scenarios and results: util, common
#   runner/report          one writer per format: model, util, common
#   runner/tune            tune's arithmetic: model, common
#   runner/run             a run: processes, network, simulators, judging: report, model, util, common
#   runner/cmd             one file per subcommand: every runner layer, common
#   runner                 main.c: cmd, util
set -u
cd "$(dirname "$0")/.."

allowed() {
	case $1 in
	common) echo "common" ;;
	simulator/engine) echo "simulator/engine common" ;;
	simulator) echo "simulator simulator/engine common" ;;
	probes) echo "probes common" ;;
	runner/util) echo "runner/util common" ;;
	runner/model) echo "runner/model runner/util common" ;;
	runner/report) echo "runner/report runner/model runner/util common" ;;
	runner/tune) echo "runner/tune runner/model common" ;;
	runner/run) echo "runner/run runner/report runner/model runner/util common" ;;
	runner/cmd) echo "runner/cmd runner/run runner/tune runner/report runner/model runner/util common" ;;
	runner) echo "runner/cmd runner/util common" ;;
	*) echo "?" ;;
	esac
}

bad=0
for f in $(find common simulator probes runner -name '*.[ch]' | sort); do
	dir=$(dirname "$f")
	ok=$(allowed "$dir")
	if [ "$ok" = "?" ]; then
		echo "$f: folder $dir has no layer in scripts/check-layers.sh" >&2
		bad=1
		continue
	fi
	for inc in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		to=$(dirname "$inc")
		case " $ok " in
		*" $to "*) ;;
		*) echo "$f: includes $inc, but $dir may include only: $ok" >&2; bad=1 ;;
		esac
	done
done
[ $bad -eq 0 ] || { echo "check-layers: an include points up a layer (see scripts/check-layers.sh)" >&2; exit 1; }
