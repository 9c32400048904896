#!/bin/sh
# The MSP's cloud: SeaweedFS's S3 gateway with one identity for the fleet.
set -eu
mkdir -p /data
cat > /etc/s3.json <<'JSON'
{"identities": [{"name": "fleet", "credentials": [{"accessKey": "fleet-access", "secretKey": "fleet-secret-Qw7"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
exec /usr/local/bin/weed mini -dir=/data -ip=cloud -ip.bind=0.0.0.0 -master.telemetry=false \
    -s3.config=/etc/s3.json -s3.port=8333 -admin.ui=false -webdav=false
