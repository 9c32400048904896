"""Case 6: the MSP's steward (issue 26). The three appliances copy to the cloud's append-only
door and their daemons upload their evidence there; the MSP enrols each appliance on its
steward host (the cloud's password, the key it registers), which keeps every cloud's
retention from the full-access door and audits every appliance's proof, naming the one that
rolled its chain back."""

from __future__ import annotations

import re

from tests.fleet.conftest import APPLIANCES, Fleet

S = "steward"
DOOR = "http://cloud:8001"
SECRETS = "/etc/bdr/steward"


def _write(fleet: Fleet, path: str, text: str, mode: str = "600") -> None:
    """A file on the steward host, the bdr user's, as the MSP's technician would write it."""
    fleet.exec(S, "sh", "-c", 'printf "%s\\n" "$1" > "$2" && chown bdr:bdr "$2" && chmod "$3" "$2"',
               "write", text, path, mode)  # fmt: skip


def _enrol(fleet: Fleet) -> None:
    """The steward's config: each appliance's cloud and evidence store by the full-access
    door, with the cloud's password and the key the MSP registered for the appliance."""
    _write(fleet, f"{SECRETS}/door.env",
           "RESTIC_REST_USERNAME=steward\nRESTIC_REST_PASSWORD=steward-rest-Pz8")  # fmt: skip
    config = [
        "[appliance]",
        'client = "The MSP"',
        'id = "msp-steward"',
        'state_dir = "/var/lib/bdr"',
        'scratch_dir = "/srv/bdr/scratch"',
    ]
    for service, appliance in APPLIANCES.items():
        password = fleet.exec(service, "cat", "/etc/bdr/secrets/cloud.pass").stdout.strip()
        _write(fleet, f"{SECRETS}/{appliance}.pass", password)
        key = fleet.bdr_json(service, "evidence", "key")["allowed_signers"]
        _write(fleet, f"{SECRETS}/{appliance}.allowed_signers", key, mode="644")
        for name, path in ((appliance, "cloud"), (f"{appliance}-evidence", "evidence")):
            config += [
                f"[repositories.{name}]",
                f'url = "rest:{DOOR}/{appliance}/{path}/"',
                f'password_file = "{SECRETS}/{appliance}.pass"',
                f'env_file = "{SECRETS}/door.env"',
            ]
        config += [
            f"[steward.{appliance}]",
            'keep = { within_daily = "30d" }',
            f"[audit.{appliance}]",
            f'repository = "{appliance}-evidence"',
            f'allowed_signers = "{SECRETS}/{appliance}.allowed_signers"',
        ]
    _write(fleet, "/etc/bdr/bdr.toml", "\n".join(config), mode="640")


def _lines(output: str, kind: str) -> dict[str, str]:
    """The summary line of each appliance's run of `kind` (its subject is in the message)."""
    found = {}
    for line in output.splitlines():
        if line.startswith(kind):
            for appliance in APPLIANCES.values():
                if f"of {appliance}" in line or f" {appliance} " in line:
                    found[appliance] = line
    return found


def test_the_steward_keeps_every_cloud_and_audits_every_appliances_proof(fleet: Fleet):
    fleet.wait_for(
        "bdr installed on the steward host",
        lambda: (
            fleet.exec(S, "test", "-e", "/run/fleet-installed", expect=None).returncode == 0 or None
        ),
        timeout=600,
    )
    for service in APPLIANCES:
        fleet.bdr(service, "init")
        for _ in range(2):  # each with its copy to the append-only cloud
            fleet.bdr(service, "backup")
    # Each daemon's uploader sends the new records without being asked.
    fleet.wait_for(
        "every appliance's evidence uploaded by its daemon",
        lambda: (
            {s["metric"]["appliance"] for s in fleet.query("bdr_evidence_upload_pending == 0")}
            == set(APPLIANCES.values())
        ),
        timeout=240,
    )
    _enrol(fleet)
    fleet.bdr(S, "config", "check")
    kept = fleet.bdr(S, "steward", "run").stdout
    retention = _lines(kept, "steward")
    assert sorted(retention) == sorted(APPLIANCES.values()), kept
    # Every snapshot is of today: the newest of the day is what within_daily keeps, the
    # others are forgotten and pruned, from the door the appliances do not have.
    for service, appliance in APPLIANCES.items():
        listed = re.search(r" ok +(\d+) of (\d+) snapshot\(s\) forgotten", retention[appliance])
        assert listed and int(listed[2]) >= 2, retention[appliance]
        assert int(listed[1]) == int(listed[2]) - 1, retention[appliance]
        cloud = fleet.bdr_json(service, "snapshots", "--repository", "cloud")["snapshots"]
        local = fleet.bdr_json(service, "snapshots", "--repository", "local")["snapshots"]
        assert [row["time"] for row in cloud] == [max(row["time"] for row in local)]
    assert sorted(_lines(kept, "prune")) == sorted(APPLIANCES.values()), kept
    audited = fleet.bdr(S, "steward", "audit").stdout
    assert sorted(_lines(audited, "audit")) == sorted(APPLIANCES.values()), audited
    assert all("intact" in line for line in _lines(audited, "audit").values()), audited

    # clinic-01's owner cuts its chain short, signs it with the appliance's key, uploads it.
    fleet.exec(
        "appliance-c", "/opt/bdr/venv/bin/python", "-c",
        "from pathlib import Path\n"
        "from bdr.evidence import chain\nfrom bdr.evidence.keys import load_key\n"
        "state = Path('/var/lib/bdr'); path = state / 'evidence' / 'chain.jsonl'\n"
        "path.write_bytes(b''.join(path.read_bytes().splitlines(keepends=True)[:1]))\n"
        "chain.append(state, {'run': 9999, 'kind': 'backup', 'status': 'ok', "
        "'started': '2026-01-01T00:00:00.000Z'}, load_key(state, 'clinic-01'))\n",
        user="bdr",
    )  # fmt: skip
    fleet.bdr("appliance-c", "evidence", "upload")
    caught = fleet.bdr(S, "steward", "audit", expect=1).stdout
    lines = _lines(caught, "audit")
    assert "rolled back" in lines["clinic-01"], caught
    assert "intact" in lines["dental-01"] and "intact" in lines["law-01"], caught
