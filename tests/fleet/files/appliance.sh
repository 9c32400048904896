#!/bin/sh
# A client's appliance, set up as an MSP technician would on a fresh Debian box: unpack the
# release, run its install.sh (the real one: apt finds everything present, pip takes the
# wheels the box was given), write the config and secrets, start Prometheus's agent and the
# daemon as the bdr user. Environment: ID, CLIENT, SITE.
set -eu
rm -rf /tmp/release && cp -a /release /tmp/release
BDR_PIP_ARGS="--no-index --find-links /wheels" sh /tmp/release/appliance/install.sh

secret() {  # name content
    printf '%s\n' "$2" > "/etc/bdr/secrets/$1"
    chown bdr:bdr "/etc/bdr/secrets/$1"
    chmod 0600 "/etc/bdr/secrets/$1"
}
[ -e /etc/bdr/secrets/local.pass ] || secret local.pass "local-$ID-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[ -e /etc/bdr/secrets/cloud.pass ] || secret cloud.pass "cloud-$ID-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[ -e /etc/bdr/secrets/cloud.env ] || secret cloud.env "AWS_ACCESS_KEY_ID=fleet-access
AWS_SECRET_ACCESS_KEY=fleet-secret-Qw7"
sed -e "s/@ID@/$ID/g" -e "s/@CLIENT@/$CLIENT/g" -e "s/@SITE@/$SITE/g" /fleet/bdr.toml > /etc/bdr/bdr.toml

# The client's data: a file share of its own.
if [ ! -d /srv/share ]; then
    mkdir -p /srv/share/docs /srv/share/db
    for n in 1 2 3 4 5 6 7 8; do
        head -c $((n * 40000)) /dev/urandom > "/srv/share/docs/file-$n.bin"
    done
    printf 'client %s\n' "$CLIENT" > /srv/share/db/readme.txt
fi

# Prometheus in agent mode, as appliance/README.md says, with this appliance's labels and the
# MSP's central server for remote_write.
mkdir -p /var/lib/prometheus/agent
sed -e "s/@ID@/$ID/g" -e "s/@CLIENT@/$CLIENT/g" -e "s/@SITE@/$SITE/g" /fleet/agent.yml > /etc/bdr/prometheus-agent.yml
prometheus --enable-feature=agent --config.file=/etc/bdr/prometheus-agent.yml \
    --storage.agent.path=/var/lib/prometheus/agent --web.listen-address=127.0.0.1:9090 \
    > /var/log/prometheus-agent.log 2>&1 &

touch /run/fleet-installed
exec setpriv --reuid=bdr --regid=bdr --init-groups /opt/bdr/venv/bin/bdr --config /etc/bdr/bdr.toml daemon
