#!/bin/sh
# A client's appliance, set up as an MSP technician would on a fresh Debian box: unpack the
# release, run its install.sh (the real one: apt finds everything present, pip takes the
# wheels the box was given), write the config and secrets, start Prometheus's agent and the
# daemon as the bdr user. Environment: ID, CLIENT, SITE.
set -eu
rm -f /run/fleet-installed  # set again below, once this start has installed bdr
rm -rf /tmp/release && cp -a /release /tmp/release
BDR_PIP_ARGS="--no-index --find-links /wheels" sh /tmp/release/appliance/install.sh

secret() {  # name content
    printf '%s\n' "$2" > "/etc/bdr/secrets/$1"
    chown bdr:bdr "/etc/bdr/secrets/$1"
    chmod 0600 "/etc/bdr/secrets/$1"
}
[ -e /etc/bdr/secrets/local.pass ] || secret local.pass "local-$ID-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
[ -e /etc/bdr/secrets/cloud.pass ] || secret cloud.pass "cloud-$ID-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The appliance's login at the cloud's append-only door (tests/fleet/files/appliances.htpasswd).
[ -e /etc/bdr/secrets/cloud.env ] || secret cloud.env "RESTIC_REST_USERNAME=$ID
RESTIC_REST_PASSWORD=rest-$ID-Jk4"
# The fleet's config replaces the example install.sh wrote, once: what a test adds later (a
# remote host, a drill) stays across restarts and upgrades, as a technician's edits do.
if cmp -s /etc/bdr/bdr.toml /tmp/release/appliance/bdr.example.toml; then
    sed -e "s/@ID@/$ID/g" -e "s/@CLIENT@/$CLIENT/g" -e "s/@SITE@/$SITE/g" /fleet/bdr.toml > /etc/bdr/bdr.toml
fi

# The client's data: a file share of its own.
if [ ! -d /srv/share ]; then
    mkdir -p /srv/share/docs /srv/share/db
    for n in 1 2 3 4 5 6 7 8; do
        head -c $((n * 40000)) /dev/urandom > "/srv/share/docs/file-$n.bin"
    done
    for n in 1 2 3; do
        head -c 8000000 /dev/urandom > "/srv/share/db/table-$n.dat"
    done
    printf 'client %s\n' "$CLIENT" > /srv/share/db/readme.txt
fi

# Prometheus in agent mode, as appliance/README.md says: the shipped prometheus-agent.yml with
# this appliance's three labels, the MSP's central server and a credential filled in (and a
# 5s scrape, so that the tests do not wait a minute for a sample).
mkdir -p /var/lib/prometheus/agent
[ -e /etc/bdr/secrets/remote-write.pass ] || secret remote-write.pass "rw-$ID"
sed -e "s/^\( *client:\).*/\1 \"$CLIENT\"/" -e "s/^\( *site:\).*/\1 \"$SITE\"/" \
    -e "s/^\( *appliance:\).*/\1 \"$ID\"/" -e "s/^\( *username:\).*/\1 \"$ID\"/" \
    -e "s|^\( *- url:\).*|\1 \"http://central:9090/api/v1/write\"|" \
    -e "s/^\( *scrape_interval:\).*/\1 5s/" \
    /tmp/release/appliance/prometheus-agent.yml > /etc/bdr/prometheus-agent.yml
prometheus --enable-feature=agent --config.file=/etc/bdr/prometheus-agent.yml \
    --storage.agent.path=/var/lib/prometheus/agent --web.listen-address=127.0.0.1:9090 \
    > /var/log/prometheus-agent.log 2>&1 &

touch /run/fleet-installed
exec setpriv --reuid=bdr --regid=bdr --init-groups /opt/bdr/venv/bin/bdr --config /etc/bdr/bdr.toml daemon
