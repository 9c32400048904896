"""The cloud tier on real servers: S3 on SeaweedFS and SFTP on OpenSSH, both on loopback."""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance
from tests.integration.servers import SeaweedS3


def test_s3_copy_and_restore_from_the_cloud_tier(appliance: Appliance, office, seaweed, tmp_path):
    appliance.local_repository("onsite")
    env_file = seaweed.env_file(appliance.secrets / "cloud.env")
    appliance.add_repository("cloud", seaweed.url(f"bdr-{uuid.uuid4().hex[:8]}"), env_file=env_file)
    appliance.add_plan("office", [office], repository="onsite", copy_to=["cloud"])
    assert [r["state"] for r in appliance.bdr_json("init")] == ["created", "created"]
    runs = appliance.bdr_json("backup")
    assert [(r["kind"], r["status"]) for r in runs] == [("backup", "ok"), ("copy", "ok")]
    assert len(appliance.snapshot_ids("cloud")) == 1
    target = tmp_path / "from-cloud"
    summary = appliance.bdr_json(
        "restore", "office", "--repository", "cloud", "--target", str(target)
    )
    assert summary["status"] == "ok" and summary["files"] >= 6
    photo = office / "photos" / "team.jpg"
    assert (target / photo.relative_to("/")).read_bytes() == photo.read_bytes()


@contextmanager
def own_cloud(appliance: Appliance, office: Path, tmp_path: Path) -> Iterator[SeaweedS3]:
    """An S3 server of the test's own (to stop or freeze), as the `cloud` tier of plan office,
    whose primary is the local `onsite`."""
    server = SeaweedS3(tmp_path / "weed")
    server.start()
    try:
        appliance.local_repository("onsite")
        appliance.add_repository(
            "cloud", server.url("bdr"), env_file=server.env_file(appliance.secrets / "cloud.env")
        )
        appliance.add_plan("office", [office], repository="onsite", copy_to=["cloud"])
        yield server
    finally:
        server.stop()


def test_refused_cloud_credentials_are_said_so_and_never_taken_for_a_missing_repository(
    appliance: Appliance, office, tmp_path
):
    with own_cloud(appliance, office, tmp_path) as server:
        appliance.bdr("init")
        env_file = appliance.secrets / "cloud.env"
        env_file.write_text(
            f"AWS_ACCESS_KEY_ID={server.access_key}\nAWS_SECRET_ACCESS_KEY=not-the-secret-7Hq\n"
        )
        init = appliance.bdr("init", expect=6)
        assert "storage refused the credentials" in init.stdout + init.stderr
        assert "creating repository cloud" not in init.stdout + init.stderr
        backup = appliance.bdr("backup", expect=6)
        (copy,) = [line for line in backup.stdout.splitlines() if line.startswith("copy")]
        assert "storage refused the credentials" in copy and "missing" not in copy
        assert (
            "not-the-secret-7Hq" not in backup.stdout + backup.stderr
        )  # the secret itself is never shown
        assert len(appliance.snapshot_ids("onsite")) == 1  # the local snapshot stands


def test_cloud_outage_fails_only_the_copy_and_the_next_copy_catches_up(
    appliance: Appliance, office, tmp_path
):
    with own_cloud(appliance, office, tmp_path) as server:
        appliance.bdr("init")
        appliance.bdr("backup")
        server.stop()  # the cloud is offline when the next backup copies
        (office / "documents" / "monday.txt").write_text("written during the outage\n")
        runs = appliance.bdr_json("backup", expect=1)
        assert [(r["kind"], r["status"]) for r in runs] == [("backup", "ok"), ("copy", "failed")]
        assert "connection refused" in runs[1]["message"]
        assert len(appliance.snapshot_ids("onsite")) == 2
        status = {p["repository"]: p for p in appliance.bdr_json("status")["plans"]}
        assert status["onsite"]["state"] == "ok"
        assert status["cloud"]["state"] == "last run failed"
        server.start()
        runs = appliance.bdr_json("backup")
        assert runs[1]["kind"] == "copy" and runs[1]["details"]["copied_snapshots"] == 2
        assert len(appliance.snapshot_ids("cloud")) == 3


def test_a_cloud_that_stops_answering_holds_the_locks_no_longer_than_max_run_time(
    appliance: Appliance, office, tmp_path
):
    with own_cloud(appliance, office, tmp_path) as server:
        appliance.appliance["max_run_time"] = {"copy": "15s"}
        appliance.bdr("init")
        appliance.bdr("backup")
        assert server.process is not None
        server.process.send_signal(signal.SIGSTOP)  # connections open, nothing answers
        try:
            started = time.monotonic()
            runs = appliance.bdr_json("backup", expect=1)
            took = time.monotonic() - started
        finally:
            server.process.send_signal(signal.SIGCONT)
        assert [(r["kind"], r["status"]) for r in runs] == [("backup", "ok"), ("copy", "failed")]
        assert (
            "timed out after 15s (appliance.max_run_time.copy): restic was stopped"
            in runs[1]["message"]
        )
        assert took < 15 + 45 + 30, "restic retried past the limit"
        # Both repositories' locks are free again: the next backup and copy go through.
        runs = appliance.bdr_json("backup")
        assert [(r["kind"], r["status"]) for r in runs] == [("backup", "ok"), ("copy", "ok")]
        assert len(appliance.snapshot_ids("cloud")) == 3


def test_sftp_repository(appliance: Appliance, office, sftp_server, tmp_path):
    appliance.add_repository(
        "nas", sftp_server.url(tmp_path / "sftp-repo"), options=sftp_server.options
    )
    appliance.add_plan("office", [office], repository="nas")
    assert appliance.bdr_json("init")[0]["state"] == "created"
    assert (tmp_path / "sftp-repo" / "config").exists()
    appliance.bdr("backup")
    target = tmp_path / "restored"
    appliance.bdr("restore", "office", "--target", str(target))
    invoice = office / "documents" / "invoices" / "2026-001.txt"
    assert (target / invoice.relative_to("/")).read_text() == invoice.read_text()


@pytest.mark.parametrize("tier", ["s3", "local"])
def test_password_with_spaces_and_quotes_never_reaches_output(
    appliance: Appliance, office, seaweed, tmp_path, tier
):
    password = """my "very" secret 'pass' phrase"""
    appliance.local_repository("onsite", password=password)
    if tier == "s3":
        env_file = seaweed.env_file(appliance.secrets / "cloud.env")
        appliance.add_repository(
            "cloud", seaweed.url(f"pw-{uuid.uuid4().hex[:8]}"), password=password, env_file=env_file
        )
    else:
        appliance.local_repository("cloud", password=password)
    appliance.add_plan("office", [office], repository="onsite", copy_to=["cloud"])
    outputs = [
        appliance.bdr("--debug", "init"),
        appliance.bdr("--debug", "backup"),
        appliance.bdr(
            "--debug", "restore", "office", "--repository", "cloud", "--target", str(tmp_path / "r")
        ),
        appliance.bdr("--debug", "config", "show"),
        appliance.bdr("--debug", "status"),
    ]
    appliance.secret("cloud.pass", "wrong\n")
    # The cloud's password is now wrong: the copy fails as such (exit 6), though the password
    # file says "wrong", the very word restic's message is classified by.
    outputs.append(appliance.bdr("--debug", "backup", expect=6))
    text = "\n".join(o.stdout + o.stderr for o in outputs)
    assert "running restic" in text  # the debug log is there, and shows the command lines
    history = json.dumps([dict(row) for row in appliance.runs()])
    for secret in (password, "very", seaweed.secret_key):
        assert secret not in text
        assert secret not in history
