#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ssh to the flow's sshd (ssh-server.sh) with the options given, run
# REMOTE there. No config file of root's is read (-F /dev/null) and nothing
# is written to known_hosts (UserKnownHostsFile=/dev/null; note that
# StrictHostKeyChecking=no alone would still write root's known_hosts).
#   ssh-client.sh 'REMOTE COMMAND' [ssh -o options...]
set -eu
remote=$1
shift
exec ssh -F /dev/null -i "$IDLEGATE_WORKDIR/id" -p "$IDLEGATE_PORT" \
	-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
	-o BatchMode=yes -o LogLevel=ERROR "$@" "root@$IDLEGATE_SERVER" "$remote"
