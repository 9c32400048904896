#!/usr/bin/env bash
# Install the system packages bdr and its tests need, when they are missing.
# Usage: scripts/system-deps.sh [runtime|test]
set -euo pipefail

want=(restic)
[ "${1:-runtime}" = test ] && want+=(sshd ssh-keygen pgrep setpriv unshare systemd-analyze prometheus
                                   prometheus-pushgateway faketime pdftotext chromium
                                   dockerd docker-compose debootstrap rclone)
# Libraries have no command to look for: WeasyPrint renders the report's PDF with Pango and
# HarfBuzz, in the DejaVu fonts the report's CSS names.
libraries=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)

declare -A package=(
    [restic]=restic [sshd]=openssh-server [ssh-keygen]=openssh-client [pgrep]=procps
    [setpriv]=util-linux [unshare]=util-linux [systemd-analyze]=systemd
    [prometheus]=prometheus [prometheus-pushgateway]=prometheus-pushgateway [faketime]=faketime
    [pdftotext]=poppler-utils [chromium]=chromium
    # The fleet suite (tests/fleet): its own dockerd, Compose v1, and the image's root file system.
    [dockerd]=docker.io [docker-compose]=docker-compose [debootstrap]=debootstrap
    # The append-only REST server of the cloud tier's tests (`rclone serve restic`).
    [rclone]=rclone
)
missing=()
for command in "${want[@]}"; do
    if ! command -v "$command" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$command" ]; then
        missing+=("${package[$command]}")
    fi
done
for library in "${libraries[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$library" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$library")
    fi
done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "bdr needs these Debian packages: ${missing[*]}" >&2
    echo "run as root:  apt-get install -y ${missing[*]}   (then run make again)" >&2
    exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
