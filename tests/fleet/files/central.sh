#!/bin/sh
# The MSP's central Prometheus: receives the agents' remote writes, evaluates bdr's alert
# rules. The rules are bdr's own with their `for:` durations set to 0s, so that a test sees an
# alert fire in seconds instead of minutes; the expressions are unchanged.
set -eu
sed -E 's/^( +)for: .*/\1for: 0s/' /dashboards/bdr-alerts.yml > /etc/prometheus/bdr-alerts.yml
cat > /etc/prometheus/central.yml <<'YAML'
global:
  evaluation_interval: 2s
rule_files: [/etc/prometheus/bdr-alerts.yml]
YAML
exec prometheus --config.file=/etc/prometheus/central.yml --storage.tsdb.path=/tmp/tsdb \
    --web.enable-remote-write-receiver --web.listen-address=0.0.0.0:9090
