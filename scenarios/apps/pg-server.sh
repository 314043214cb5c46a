#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A PostgreSQL server for one flow of postgresql.ini, run as the flow's
# run_as user (PostgreSQL refuses root): a fresh cluster in the flow's
# private directory ($IDLEGATE_WORKDIR, 0700, the user's, removed with the
# run), trusting every connection, listening on the scenario's server
# address only. Nothing goes to /etc, /var/lib/postgresql or a home.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
d=$IDLEGATE_WORKDIR
"$bin/initdb" -N -A trust -U postgres -D "$d/data" >"$d/initdb.log" 2>&1 || {
	cat "$d/initdb.log" >&2
	exit 1
}
# initdb trusts only the loopback; the client comes through the middleboxes
echo "host all all 0.0.0.0/0 trust" >>"$d/data/pg_hba.conf"
exec "$bin/postgres" -D "$d/data" -p "$IDLEGATE_PORT" -k "$d" \
	-c listen_addresses="$IDLEGATE_SERVER" -c fsync=off -c logging_collector=off
