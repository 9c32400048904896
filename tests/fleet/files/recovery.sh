#!/bin/sh
# The client's recovery host, where application checks prove a restored service: sshd with a
# host key made when the container is created, so a rebuilt host has a new one.
set -eu
id check >/dev/null 2>&1 || useradd --create-home --shell /bin/sh check
mkdir -p /run/sshd /home/check/.ssh
[ -e /etc/ssh/fleet_host_key ] || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/fleet_host_key
exec /usr/sbin/sshd -D -e -h /etc/ssh/fleet_host_key -o PasswordAuthentication=no
