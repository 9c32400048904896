#!/bin/sh
# The MSP's cloud (issue 26): Debian's `rclone serve restic` over one directory, behind two
# doors. Port 8000 is the appliances' door: append-only (nothing can be deleted or rewritten;
# restic's own lock files aside) and --private-repos (each appliance's login reaches only its
# own /<id>/ path). Port 8001 is the MSP's steward's door, with full access. Both run as a
# user of their own, as a hardened repository would.
set -eu
id cloud >/dev/null 2>&1 || useradd --system --home-dir /data --shell /usr/sbin/nologin cloud
mkdir -p /data/restic
chown cloud:cloud /data/restic
as_cloud="setpriv --reuid=cloud --regid=cloud --init-groups"
$as_cloud rclone serve restic --addr 0.0.0.0:8001 --htpasswd /fleet/steward.htpasswd \
    --config /dev/null /data/restic &
exec $as_cloud rclone serve restic --append-only --private-repos --addr 0.0.0.0:8000 \
    --htpasswd /fleet/appliances.htpasswd --config /dev/null /data/restic
