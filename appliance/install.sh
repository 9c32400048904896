#!/bin/sh
# Provision a Debian 12 box as a bdr appliance, or remove bdr from it. Idempotent.
#
#   appliance/install.sh               install or upgrade (as root)
#   appliance/install.sh --uninstall   remove the service and the program; keep data and config
#
# DESTDIR=/some/root installs into that tree instead of /, for tests and packaging: the bdr
# user goes into DESTDIR/etc/passwd, the unit is enabled with `systemctl --root`, and apt is
# not run. BDR_PIP_ARGS adds pip options (e.g. --no-index --find-links ...).
set -eu

DESTDIR=${DESTDIR:-}
SOURCE=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/bdr
USER_NAME=bdr

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
# Whether systemd manages this machine (not so in a container or a chroot).
systemd_runs() { [ -d /run/systemd/system ]; }

[ "$(id -u)" -eq 0 ] || die "run as root"

uninstall() {
    if [ -e "$DESTDIR/etc/systemd/system/bdr.service" ]; then
        if [ -n "$DESTDIR" ]; then
            systemctl --root="$DESTDIR" disable bdr.service >/dev/null 2>&1 || true
        elif systemd_runs; then
            systemctl disable --now bdr.service >/dev/null 2>&1 || true
        fi
        rm -f "$DESTDIR/etc/systemd/system/bdr.service"
        [ -n "$DESTDIR" ] || ! systemd_runs || systemctl daemon-reload
    fi
    # The command link, only if it is ours.
    if [ "$(readlink "$DESTDIR/usr/local/bin/bdr" 2>/dev/null)" = "$PREFIX/venv/bin/bdr" ]; then
        rm -f "$DESTDIR/usr/local/bin/bdr"
    fi
    rm -rf "$DESTDIR$PREFIX"
    say "removed the service and $PREFIX; kept /etc/bdr, /var/lib/bdr, /srv/bdr and the $USER_NAME user"
}

if [ "${1:-}" = "--uninstall" ]; then
    uninstall
    exit 0
fi
[ $# -eq 0 ] || die "unknown argument: $1 (use --uninstall or nothing)"

# 1. restic, Python, and what WeasyPrint renders the report's PDF with, from Debian.
if [ -z "$DESTDIR" ]; then
    missing=""
    command -v restic >/dev/null 2>&1 || missing="$missing restic"
    python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$missing python3-venv"
    for library in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
        dpkg-query -W -f='${Status}' "$library" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $library"
    done
    if [ -n "$missing" ]; then
        say "installing$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    fi
fi

# 2. The bdr system user.
for file in passwd group shadow gshadow; do
    if [ ! -e "$DESTDIR/etc/$file" ]; then
        mkdir -p "$DESTDIR/etc"
        : > "$DESTDIR/etc/$file"
        # As Debian has them: the shadow files readable by root (and group shadow) only.
        case $file in shadow|gshadow) chmod 0640 "$DESTDIR/etc/$file" ;; esac
    fi
done
if ! grep -q "^$USER_NAME:" "$DESTDIR/etc/passwd"; then
    if [ -n "$DESTDIR" ]; then
        useradd --prefix "$DESTDIR" --system --user-group --home-dir /var/lib/bdr \
            --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
    else
        useradd --system --user-group --home-dir /var/lib/bdr --no-create-home \
            --shell /usr/sbin/nologin "$USER_NAME"
    fi
    say "created the $USER_NAME user"
fi
uid=$(awk -F: -v u="$USER_NAME" '$1 == u { print $3 }' "$DESTDIR/etc/passwd")
gid=$(awk -F: -v u="$USER_NAME" '$1 == u { print $4 }' "$DESTDIR/etc/passwd")

# 3. Directories, with their owners and modes, set when the directory is made: a second run
# never loosens what an admin tightened since.
directory() {  # path mode owner
    if [ ! -d "$DESTDIR$1" ]; then
        mkdir -p "$DESTDIR$1"
        chmod "$2" "$DESTDIR$1"
        chown "$3" "$DESTDIR$1"
    fi
}
directory /etc/bdr 0755 0:0
directory /etc/bdr/secrets 0700 "$uid:$gid"
directory /var/lib/bdr 0750 "$uid:$gid"
directory /srv/bdr 0750 "$uid:$gid"
directory /srv/bdr/repo 0700 "$uid:$gid"
directory /srv/bdr/scratch 0700 "$uid:$gid"

# 4. bdr in its own virtual environment (replaced as a whole on upgrade).
mkdir -p "$DESTDIR$PREFIX"
if [ ! -x "$DESTDIR$PREFIX/venv/bin/python" ]; then
    python3 -m venv "$DESTDIR$PREFIX/venv"
fi
# shellcheck disable=SC2086
"$DESTDIR$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    ${BDR_PIP_ARGS:-} --upgrade "$SOURCE"
say "installed bdr $("$DESTDIR$PREFIX/venv/bin/python" -c 'import bdr; print(bdr.__version__)') into $PREFIX/venv"

# 5. The config: the example the first time only; never overwritten.
if [ ! -e "$DESTDIR/etc/bdr/bdr.toml" ]; then
    install -m 0640 -o 0 -g "$gid" "$SOURCE/appliance/bdr.example.toml" "$DESTDIR/etc/bdr/bdr.toml"
    say "wrote /etc/bdr/bdr.toml from the example: edit it, then: bdr config check"
else
    say "kept the existing /etc/bdr/bdr.toml"
fi

# 6. The service.
# `bdr` on the PATH, for the technician at the console (not replacing someone else's bdr).
link=$(readlink "$DESTDIR/usr/local/bin/bdr" 2>/dev/null || true)
if [ ! -e "$DESTDIR/usr/local/bin/bdr" ] || [ "$link" = "$PREFIX/venv/bin/bdr" ]; then
    mkdir -p "$DESTDIR/usr/local/bin"
    ln -sfn "$PREFIX/venv/bin/bdr" "$DESTDIR/usr/local/bin/bdr"
else
    say "kept /usr/local/bin/bdr, which is not this installation's; use $PREFIX/venv/bin/bdr"
fi

install -D -m 0644 "$SOURCE/systemd/bdr.service" "$DESTDIR/etc/systemd/system/bdr.service"
if [ -n "$DESTDIR" ]; then
    systemctl --root="$DESTDIR" enable bdr.service >/dev/null 2>&1
    say "bdr.service installed and enabled; start it once the config checks: systemctl start bdr"
elif systemd_runs; then
    systemctl daemon-reload
    systemctl enable bdr.service >/dev/null 2>&1
    say "bdr.service installed and enabled; start it once the config checks: systemctl start bdr"
else
    # A container or chroot: the unit is there for when systemd runs; until then the daemon is
    # started by whatever supervises this machine, as the bdr user.
    say "systemd is not running here: bdr.service installed, not enabled; run the daemon as" \
        "$USER_NAME: setpriv --reuid=$USER_NAME --regid=$USER_NAME --init-groups $PREFIX/venv/bin/bdr daemon"
fi
