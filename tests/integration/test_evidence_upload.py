"""The proof leaves the box: the appliance uploads its chain, signed head and signed reports
to an append-only evidence store (`rclone serve restic --append-only`); the MSP's steward
audits them from the full-access door against the key it registered, catches a rollback, a
chain signed by another key and a report that quotes a head the chain does not hold, and
prints a lost appliance's month from the cloud alone."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.conftest import Appliance

STORE = "test-01-evidence"


def pending(appliance: Appliance) -> float:
    text = appliance.bdr("metrics").stdout
    found = re.search(r"^bdr_evidence_upload_pending (\S+)$", text, re.MULTILINE)
    assert found, "bdr_evidence_upload_pending is not exported"
    return float(found.group(1))


def evidence(appliance: Appliance, code: str) -> None:
    """Run `code` (Python, with bdr's evidence modules) as whoever owns the appliance would."""
    done = subprocess.run(
        [sys.executable, "-c", code, str(appliance.state_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def audit(steward: Appliance, expect: int) -> str:
    done = steward.bdr("steward", "audit", expect=expect)
    return done.stdout + done.stderr


def test_the_evidence_leaves_the_box_and_the_steward_audits_it(tmp_path, office, rclone_doors):
    door, full = rclone_doors
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_repository(
        "evidence", door.url(STORE), env_file=door.env_file(appliance.secrets / "cloud.env")
    )
    appliance.repositories["evidence"]["append_only"] = True
    appliance.add_plan("office", [office], retention={"last": 3})
    appliance.sections["evidence"] = {"upload_to": "evidence"}
    appliance.write()
    appliance.bdr("init")
    appliance.bdr("backup")
    assert pending(appliance) >= 1
    uploaded = appliance.bdr("evidence", "upload")
    assert "evidence uploaded to evidence" in uploaded.stdout
    assert pending(appliance) == 0
    # The private key never leaves the box.
    served = door.data / STORE
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in served.rglob("*") if p.is_file())

    # The cloud stops answering: the upload waits, a backup does not, and the backlog drains.
    assert door.process is not None
    os.kill(door.process.pid, signal.SIGSTOP)
    try:
        stuck = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bdr",
                "--config",
                str(appliance.config_path),
                "evidence",
                "upload",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **appliance.env},
        )
        started = time.monotonic()
        appliance.bdr("backup")
        assert time.monotonic() - started < 60
        assert stuck.poll() is None, "the upload cannot finish while the cloud is stopped"
        assert pending(appliance) >= 1
    finally:
        os.kill(door.process.pid, signal.SIGCONT)
    assert stuck.wait(timeout=120) == 0, stuck.stderr.read() if stuck.stderr else ""
    # It took the chain as it was when it began; the backup's records go in the next one
    # (the daemon's uploader makes it within a minute).
    assert pending(appliance) >= 1
    appliance.bdr("evidence", "upload")
    assert pending(appliance) == 0
    status = appliance.bdr_json("status")["evidence_upload"]
    assert status["store"] == "evidence" and status["pending"] == 0 and status["error"] is None
    assert "evidence: 0 waiting for evidence, last upload" in appliance.bdr("status").stdout

    # The MSP registers the appliance's key and audits from the full-access door.
    key = appliance.bdr_json("evidence", "key")
    steward = Appliance(tmp_path / "steward")
    steward.add_repository(
        STORE, full.url(STORE), env_file=full.env_file(steward.secrets / "full.env")
    )
    registered = steward.secrets / "test-01.allowed_signers"
    registered.write_text(key["allowed_signers"] + "\n")
    steward.add("audit", "test-01", repository=STORE, allowed_signers=str(registered))
    steward.write()
    assert "evidence of test-01 intact" in audit(steward, 0)
    metrics = steward.bdr("metrics").stdout
    assert 'bdr_steward_audit_ok{appliance="test-01"} 1.0' in metrics

    # A lost appliance's month, from the cloud alone: rebuilt from the chain before the
    # appliance made its own report, its signed files after.
    month = time.strftime("%Y-%m")
    rebuilt = steward.bdr_json("steward", "report", "test-01", "--month", month, "--out",
                               str(tmp_path / "printed"))  # fmt: skip
    assert rebuilt["rebuilt"] is True
    html = Path(next(f for f in rebuilt["files"] if f.endswith(".html"))).read_text()
    assert "Test Client" in html and "rebuilt by the MSP" in html
    report_json = json.loads(
        Path(next(f for f in rebuilt["files"] if f.endswith(".json"))).read_text()
    )
    assert report_json["evidence"]["records"] >= 2
    assert (
        Path(next(f for f in rebuilt["files"] if f.endswith(".pdf"))).read_bytes()[:5] == b"%PDF-"
    )
    appliance.bdr("report", "--month", month)
    appliance.bdr("evidence", "upload")
    own = steward.bdr_json("steward", "report", "test-01", "--month", month, "--out",
                           str(tmp_path / "signed"))  # fmt: skip
    assert own["rebuilt"] is False
    made = appliance.state_dir / "reports" / month / f"bdr-test-01-{month}.pdf"
    copied = tmp_path / "signed" / month / made.name
    assert copied.read_bytes() == made.read_bytes()
    assert Path(f"{copied}.sig").read_bytes() == Path(f"{made}.sig").read_bytes()
    assert "intact" in audit(steward, 0)

    # A report that quotes a head the chain does not hold, signed with the appliance's key.
    report = appliance.state_dir / "reports" / month / f"bdr-test-01-{month}.json"
    original = report.read_bytes(), Path(f"{report}.sig").read_bytes()
    evidence(
        appliance,
        "import json, sys; from pathlib import Path\n"
        "from bdr.evidence.keys import load_key\n"
        "state = Path(sys.argv[1]); key = load_key(state, 'test-01')\n"
        f"path = state / 'reports' / '{month}' / 'bdr-test-01-{month}.json'\n"
        "data = json.loads(path.read_bytes()); data['evidence']['head_sha256'] = '0' * 64\n"
        "body = json.dumps(data).encode(); path.write_bytes(body)\n"
        "Path(str(path) + '.sig').write_text(key.sign(body))\n",
    )
    appliance.bdr("evidence", "upload")
    assert "which the chain does not hold" in audit(steward, 1)
    report.write_bytes(original[0])
    Path(f"{report}.sig").write_bytes(original[1])
    appliance.bdr("evidence", "upload")
    assert "intact" in audit(steward, 0)

    # The chain signed again with another key (the attacker's own).
    folder = appliance.state_dir / "evidence"
    kept = {p.name: p.read_bytes() for p in folder.glob("signing_key*")}
    for name in kept:
        (folder / name).unlink()
    appliance.bdr("backup")  # a new key is made, and signs the head
    appliance.bdr("evidence", "upload")
    assert "signature" in audit(steward, 1)
    for name, data in kept.items():
        (folder / name).write_bytes(data)
    appliance.bdr("backup")  # the registered key signs the head again
    appliance.bdr("evidence", "upload")
    assert "intact" in audit(steward, 0)

    # The chain cut short on the appliance, signed with its own key, and uploaded again.
    evidence(
        appliance,
        "import sys; from pathlib import Path\n"
        "from bdr.evidence import chain; from bdr.evidence.keys import load_key\n"
        "state = Path(sys.argv[1]); path = state / 'evidence' / 'chain.jsonl'\n"
        "path.write_bytes(b''.join(path.read_bytes().splitlines(keepends=True)[:2]))\n"
        "chain.append(state, {'run': 999, 'kind': 'backup', 'started': "
        "'2026-01-01T00:00:00.000Z', 'status': 'ok'}, load_key(state, 'test-01'))\n",
    )
    appliance.bdr("evidence", "upload")
    found = audit(steward, 1)
    assert "rolled back" in found
    assert [r["status"] for r in steward.runs() if r["kind"] == "audit"][-1] == "failed"
    assert 'bdr_steward_audit_ok{appliance="test-01"} 0.0' in steward.bdr("metrics").stdout
    # Nothing the appliance did removed or changed a byte it had uploaded before.
    assert all(door.request("DELETE", f"{STORE}/snapshots/{p.name}") == 403
               for p in (served / "snapshots").iterdir())  # fmt: skip


def test_an_appliance_without_a_store_says_so(tmp_path, office):
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.write()
    refused = appliance.bdr("evidence", "upload", expect=2)
    assert "[evidence] upload_to is not set" in refused.stderr


def test_the_store_cannot_be_a_plans_tier(tmp_path, office):
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.sections["evidence"] = {"upload_to": "local"}
    appliance.write()
    refused = appliance.bdr("config", "check", expect=2)
    assert "evidence.upload_to: 'local' is a tier of plan 'office'" in refused.stderr
