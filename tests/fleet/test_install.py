"""Case 4: install and upgrade on a real Debian root (not a DESTDIR): install.sh twice, an
upgrade to a newer release, --uninstall, and a backup as the bdr user afterwards."""

from __future__ import annotations

from tests.fleet.conftest import Fleet

B = "appliance-b"
PIP = "BDR_PIP_ARGS=--no-index --find-links /wheels"
# What belongs to the client and must survive every install, upgrade and uninstall.
KEPT = " ".join(
    (
        "/etc/bdr/bdr.toml",
        "/etc/bdr/secrets/local.pass",
        "/etc/bdr/secrets/cloud.pass",
        "/etc/bdr/secrets/cloud.env",
        "/var/lib/bdr/evidence/signing_key",
        "/srv/bdr/repo/config",
    )
)
NEXT = (
    "rm -rf /tmp/next && cp -a /tmp/release /tmp/next && "
    "sed -i 's/^version = .*/version = \"0.1.1\"/' /tmp/next/pyproject.toml && "
    "sed -i 's/^__version__ = .*/__version__ = \"0.1.1\"/' /tmp/next/bdr/__init__.py"
)


def _kept(fleet: Fleet) -> str:
    return fleet.exec(B, "sh", "-c", f"sha256sum {KEPT}").stdout


def _install(fleet: Fleet, release: str, *args: str) -> str:
    return fleet.exec(B, "env", PIP, "sh", f"{release}/appliance/install.sh", *args).stdout


def test_install_twice_upgrade_uninstall_and_back(fleet: Fleet):
    fleet.bdr(B, "init")
    fleet.bdr(B, "backup")
    kept = _kept(fleet)
    snapshots = fleet.bdr_json(B, "snapshots", "--repository", "local")
    records = fleet.bdr(B, "evidence", "verify").stdout

    again = _install(fleet, "/tmp/release")
    assert "kept the existing /etc/bdr/bdr.toml" in again and "created" not in again
    assert _kept(fleet) == kept

    # The next release: the same tree with a higher version, as a release tarball would be.
    fleet.exec(B, "sh", "-c", NEXT)
    upgraded = _install(fleet, "/tmp/next")
    assert "installed bdr 0.1.1" in upgraded, upgraded
    assert "0.1.1" in fleet.bdr(B, "--version").stdout
    assert _kept(fleet) == kept
    assert fleet.bdr_json(B, "snapshots", "--repository", "local") == snapshots  # history kept
    assert fleet.bdr(B, "evidence", "verify").stdout.splitlines()[0] == records.splitlines()[0]
    fleet.bdr(B, "backup")
    kept = _kept(fleet)

    removed = _install(fleet, "/tmp/next", "--uninstall")
    assert "kept /etc/bdr" in removed
    assert fleet.exec(B, "test", "-e", "/opt/bdr", expect=1).returncode == 1
    assert fleet.exec(B, "test", "-e", "/usr/local/bin/bdr", expect=1).returncode == 1
    assert _kept(fleet) == kept

    # Back again; a backup as the bdr user, with no more than the install gave it.
    _install(fleet, "/tmp/next")
    fleet.bdr(B, "backup")
    fleet.bdr(B, "evidence", "verify")
    owners = fleet.exec(B, "stat", "-c", "%U %a %n", "/etc/bdr/secrets", "/var/lib/bdr",
                        "/srv/bdr/repo").stdout.splitlines()  # fmt: skip
    assert owners == ["bdr 700 /etc/bdr/secrets", "bdr 750 /var/lib/bdr", "bdr 700 /srv/bdr/repo"]
