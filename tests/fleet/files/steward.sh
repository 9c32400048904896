#!/bin/sh
# The MSP's steward host: bdr installed from the release as on an appliance (install.sh), with
# no appliance of its own to run; the suite writes /etc/bdr/steward.toml as it enrols them.
set -eu
rm -f /run/fleet-installed
rm -rf /tmp/release && cp -a /release /tmp/release
BDR_PIP_ARGS="--no-index --find-links /wheels" sh /tmp/release/appliance/install.sh
mkdir -p /etc/bdr/steward
chown bdr:bdr /etc/bdr/steward
chmod 0700 /etc/bdr/steward
touch /run/fleet-installed
exec sleep infinity
