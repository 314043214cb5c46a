#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Entry point for a fresh Debian/Ubuntu machine: installs what the build
# needs (when run as root), then runs make with the given targets.
#   sudo ./make.sh demo     run the built-in example scenario
#   sudo ./make.sh check    run the whole test suite
set -e
cd "$(dirname "$0")"
sh scripts/deps.sh
exec make -j2 "$@"
