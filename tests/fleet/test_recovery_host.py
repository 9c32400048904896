"""Case 3: the recovery host. An application check that runs on the client's recovery host
over SSH proves the drill; a rebuilt host with a new host key is refused, and nothing runs there."""

from __future__ import annotations

import json
import subprocess

from tests.fleet import engine
from tests.fleet.conftest import PROJECT, Fleet

A = "appliance-a"
RAN = "/home/check/ran"

DRILL = """
[remote.recovery]
host = "recovery"
user = "check"
key_file = "/etc/bdr/secrets/recovery_key"
known_hosts = "/etc/bdr/recovery_known_hosts"

[drills.share-app]
plan = "share"
repository = "local"
kind = "full"
rto = "1h"
[[drills.share-app.checks]]
run = ["sh", "-c", "echo ran >> /home/check/ran && echo service-up"]
expect = "service-up"
remote = "recovery"
"""


KEY = "/etc/bdr/secrets/recovery_key"


def _authorise(fleet: Fleet) -> None:
    """The appliance's public key in the recovery host's authorized_keys."""
    public = fleet.exec(A, "cat", f"{KEY}.pub").stdout.strip()
    fleet.exec("recovery", "sh", "-c", f"echo '{public}' > /home/check/.ssh/authorized_keys")


def _trust_recovery(fleet: Fleet) -> None:
    """What the technician does once: the appliance's key on the recovery host, the recovery
    host's key in the appliance's known_hosts."""
    if fleet.exec(A, "test", "-e", KEY, expect=None).returncode != 0:
        fleet.exec(A, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", KEY, user="bdr")
    _authorise(fleet)
    scanned = fleet.exec(A, "ssh-keyscan", "-t", "ed25519", "recovery").stdout
    assert scanned.strip(), "ssh-keyscan found no key on recovery"
    fleet.exec(A, "sh", "-c", f"echo '{scanned.strip()}' > /etc/bdr/recovery_known_hosts")
    if "share-app" not in fleet.exec(A, "cat", "/etc/bdr/bdr.toml").stdout:
        fleet.exec(A, "sh", "-c", f"cat >> /etc/bdr/bdr.toml <<'EOF'\n{DRILL}EOF")


def test_a_check_on_the_recovery_host_then_a_changed_host_key(fleet: Fleet):
    fleet.bdr(A, "init")
    fleet.bdr(A, "backup")
    _trust_recovery(fleet)
    (passed,) = json.loads(fleet.bdr(A, "--json", "drill", "run", "share-app").stdout)
    assert passed["verdict"] == "passed", passed
    assert fleet.exec("recovery", "cat", RAN).stdout == "ran\n"

    # The recovery host is rebuilt: same name, a new host key, nothing of the old one left.
    compose = ["docker-compose", "-f", str(fleet.compose_file), "-p", PROJECT]
    subprocess.run(
        [*compose, "up", "-d", "--force-recreate", "--no-deps", "recovery"],
        env=engine.docker_env(), check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    fleet.wait_for(
        "sshd on the rebuilt recovery host",
        lambda: fleet.exec(A, "ssh-keyscan", "-t", "ed25519", "recovery", expect=None).stdout,
    )
    # The appliance's key is authorised again: only the host key tells the hosts apart.
    _authorise(fleet)
    failed = fleet.bdr(A, "--json", "drill", "run", "share-app", expect=4)
    (result,) = json.loads(failed.stdout)
    assert result["verdict"] == "check", result
    assert "host key has CHANGED" in result["reason"], result
    assert fleet.exec("recovery", "test", "-e", RAN, expect=1).returncode == 1  # ran nothing
