#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sshd for one flow of ssh.ini: host key, the client's key, authorized_keys
# and sshd_config are made in the flow's private directory
# ($IDLEGATE_WORKDIR, 0700, removed with the run); nothing goes to /etc or
# a home directory. The client's key is made here because the server starts
# first; the flow's command uses it from the same directory.
set -eu
d=$IDLEGATE_WORKDIR
[ -f "$d/hostkey" ] || ssh-keygen -q -N '' -t ed25519 -f "$d/hostkey"
[ -f "$d/id" ] || ssh-keygen -q -N '' -t ed25519 -f "$d/id"
cp "$d/id.pub" "$d/authorized_keys"
cat >"$d/sshd_config" <<CONF
Port $IDLEGATE_PORT
ListenAddress $IDLEGATE_SERVER
HostKey $d/hostkey
AuthorizedKeysFile $d/authorized_keys
# the run's directory lies under /tmp, which StrictModes refuses
StrictModes no
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
LogLevel ERROR
CONF
# scale_program = yes: the session's programs (the remote sleep) run on
# the flow's sped-up clock too; sshd gives a session a fresh environment
if [ -n "${FAKETIME:-}" ]; then
	cat >>"$d/sshd_config" <<CONF
SetEnv "LD_PRELOAD=$LD_PRELOAD" "FAKETIME=$FAKETIME" "IDLEGATE_SCALE=$IDLEGATE_SCALE"
CONF
fi
# sshd running as root needs its privilege separation directory, which the
# Debian service would make at boot
[ -d /run/sshd ] || mkdir -m 0755 /run/sshd
exec /usr/sbin/sshd -D -e -f "$d/sshd_config"
