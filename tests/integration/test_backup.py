"""`bdr backup` against real restic on local-path repositories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.integration.conftest import Appliance


def test_init_then_backup_makes_a_tagged_snapshot_with_the_canary(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    result = appliance.bdr_json("backup")
    (backup,) = result
    assert backup["status"] == "ok" and backup["exit_code"] == 0
    listing = json.loads(appliance.restic("local", "snapshots", "--json").stdout)
    assert [snap["tags"] for snap in listing] == [["bdr-plan=office"]]
    files = appliance.restic("local", "ls", "latest").stdout
    assert str(office / "documents/invoices/2026-001.txt") in files
    assert "bdr-canary.txt" in files
    run = appliance.runs()[-1]
    details = json.loads(run["details"])
    assert run["kind"] == "backup" and run["status"] == "ok"
    assert run["snapshot_id"] == listing[0]["short_id"]
    assert run["files_processed"] >= 6 and run["bytes_processed"] > 350_000
    assert len(details["canary_sha256"]) == 64


def test_one_of_two_sources_missing_is_partial_and_named(appliance: Appliance, office, tmp_path):
    appliance.local_repository()
    gone = tmp_path / "mail-archive"
    appliance.add_plan("office", [office, gone])
    appliance.bdr("init")
    result = appliance.bdr("backup", expect=3)
    assert f"missing source: {gone}" in result.stdout
    run = appliance.runs()[-1]
    assert run["status"] == "warning" and run["exit_code"] == 3
    assert appliance.snapshot_ids("local"), "the present source is still backed up"


def test_all_sources_missing_fails_without_snapshot(appliance: Appliance, tmp_path):
    appliance.local_repository()
    appliance.add_plan("office", [tmp_path / "nothing-here"])
    appliance.bdr("init")
    result = appliance.bdr("backup", expect=1)
    assert "none of the sources exist" in result.stdout
    assert appliance.snapshot_ids("local") == []


def test_unreadable_file_is_a_partial_backup(appliance: Appliance, office):
    """The file is unreadable to bdr: root runs it without the capabilities that bypass modes,
    which is what a non-root backup user is (the interpreter may live where nobody can reach)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to make a file unreadable to the backup process")
    secret = office / "documents" / "hr-salaries.txt"
    secret.write_text("confidential\n")
    os.chown(secret, 65534, 65534)
    secret.chmod(0o000)
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    result = appliance.bdr(
        "backup",
        expect=3,
        prefix=["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"],
    )
    assert "could not be read" in result.stdout and str(secret) in result.stdout
    run = appliance.runs()[-1]
    assert run["status"] == "warning"
    assert str(secret) in json.loads(run["details"])["unreadable"][0]
    assert "documents/invoices/2026-001.txt" in appliance.restic("local", "ls", "latest").stdout


def test_failing_before_hook_stops_the_backup(appliance: Appliance, office, tmp_path):
    hook = tmp_path / "dump-db.sh"
    hook.write_text("#!/bin/sh\necho 'pg_dump: connection to database failed' >&2\nexit 4\n")
    hook.chmod(0o755)
    appliance.local_repository()
    appliance.add_plan("office", [office], before=[[str(hook), "--out", "x"]])
    appliance.bdr("init")
    result = appliance.bdr("backup", expect=1)
    assert "plans.office.before.0" in result.stdout
    assert "exited with 4" in result.stdout and "connection to database failed" in result.stdout
    assert appliance.snapshot_ids("local") == []
    assert appliance.runs()[-1]["status"] == "failed"


def test_hooks_get_no_secret_of_bdrs_environment(appliance: Appliance, office):
    leaks = 'test -z "$RESTIC_PASSWORD$AWS_SECRET_ACCESS_KEY$BDR_CONFIG" || { env >&2; exit 3; }'
    appliance.local_repository()
    appliance.add_plan("office", [office], before=[["sh", "-c", leaks]])
    appliance.bdr("init")
    appliance.env.update(RESTIC_PASSWORD="hunter2-hunter2", AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI")
    result = appliance.bdr("backup")
    assert "hunter2" not in result.stdout + result.stderr


def test_a_hook_past_its_timeout_is_ended_with_what_it_started(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan(
        "office", [office], before=[["sh", "-c", "sleep 317 & sleep 318"]], hook_timeout="2s"
    )
    appliance.bdr("init")
    result = appliance.bdr("backup", expect=1)
    assert "still running after 2s, stopped" in result.stdout
    left = subprocess.run(["pgrep", "-f", "sleep 31[78]"], capture_output=True, text=True)
    assert left.returncode == 1, left.stdout  # the background sleep went with its hook


def test_successful_hook_runs_before_restic(appliance: Appliance, office):
    dump = office / "database" / "dump.sql"
    appliance.local_repository()
    appliance.add_plan(
        "office", [office], before=[["sh", "-c", f"echo 'CREATE TABLE t;' > {dump}"]]
    )
    appliance.bdr("init")
    appliance.bdr("backup")
    assert str(dump) in appliance.restic("local", "ls", "latest").stdout


def test_wrong_password_exits_6(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.secret("local.pass", "not the password\n")
    result = appliance.bdr("backup", expect=6)
    assert "wrong password" in result.stdout
    assert appliance.runs()[-1]["exit_code"] == 6


def test_missing_repository_exits_6(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    result = appliance.bdr("backup", expect=6)
    assert "repository missing" in result.stdout


def test_copy_and_retention_per_plan(appliance: Appliance, office):
    appliance.local_repository("onsite")
    appliance.local_repository("offsite")
    appliance.add_plan(
        "office", [office], repository="onsite", copy_to=["offsite"], retention={"last": 2}
    )
    assert [r["state"] for r in appliance.bdr_json("init")] == ["created", "created"]
    for round_ in range(3):
        (office / f"new-{round_}.txt").write_text(str(round_))
        runs = appliance.bdr_json("backup")
        assert [(r["kind"], r["repository"], r["status"]) for r in runs] == [
            ("backup", "onsite", "ok"),
            ("copy", "offsite", "ok"),
            ("retention", "onsite", "ok"),
            ("retention", "offsite", "ok"),
        ]
    assert len(appliance.snapshot_ids("onsite")) == 2
    assert len(appliance.snapshot_ids("offsite")) == 2
    # Forget only: the data of forgotten snapshots goes at the prune, a job of its own.
    assert runs[2]["details"] == {
        "forgotten": 1,
        "pruned": False,
        "kept_verified": [],
        "frozen_by": None,
    }
    assert not [row for row in appliance.runs() if row["kind"] == "prune"]
    pruned = appliance.bdr_json("prune")
    assert [(r["kind"], r["repository"], r["status"]) for r in pruned] == [
        ("prune", "onsite", "ok"),
        ("prune", "offsite", "ok"),
    ]
    assert pruned[0]["details"]["freed_bytes"] > 0
    assert len(appliance.snapshot_ids("onsite")) == 2
    metrics = appliance.bdr("metrics").stdout
    assert 'bdr_prune_last_freed_bytes{repository="onsite"}' in metrics


def test_prune_passes_max_unused_to_restic(appliance: Appliance, office):
    appliance.local_repository("onsite")
    appliance.repositories["onsite"]["max_unused"] = "5%"
    appliance.add_plan("office", [office], repository="onsite", retention={"last": 1})
    appliance.bdr("init")
    appliance.bdr("backup")
    (run,) = appliance.bdr_json("prune", "onsite")
    assert (run["status"], run["details"]["max_unused"]) == ("ok", "5%")


def test_status_shows_each_tier_against_the_rpo(appliance: Appliance, office):
    appliance.local_repository("onsite")
    appliance.local_repository("offsite")
    appliance.add_plan("office", [office], repository="onsite", copy_to=["offsite"], rpo="1h")
    appliance.bdr("init")
    before = appliance.bdr_json("status")
    assert [p["state"] for p in before["plans"]] == ["never backed up", "never backed up"]
    appliance.bdr("backup")
    after = appliance.bdr_json("status")
    assert [(p["repository"], p["state"]) for p in after["plans"]] == [
        ("onsite", "ok"),
        ("offsite", "ok"),
    ]
    assert all(p["snapshot_age_seconds"] < 120 for p in after["plans"])
    table = appliance.bdr("status").stdout
    assert "office" in table and "offsite" in table


def test_snapshots_command(appliance: Appliance, office, tmp_path):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.add_plan("photos", [office / "photos"])
    appliance.bdr("init")
    appliance.bdr("backup")
    listing = appliance.bdr_json("snapshots")
    assert sorted(row["plan"] for row in listing["snapshots"]) == ["office", "photos"]
    only = appliance.bdr_json("snapshots", "--plan", "photos")
    assert [row["plan"] for row in only["snapshots"]] == ["photos"]
    assert "photos" in appliance.bdr("snapshots").stdout


def test_unknown_plan_is_a_usage_error(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    result = appliance.bdr("backup", "ofice", expect=2)
    assert "no plan named 'ofice' (configured: office); did you mean 'office'?" in result.stderr


def test_init_is_idempotent_and_never_reinitialises(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    assert appliance.bdr_json("init")[0]["state"] == "created"
    appliance.bdr("backup")
    assert appliance.bdr_json("init")[0]["state"] == "exists"
    appliance.secret("local.pass", "another password\n")
    result = appliance.bdr("init", expect=6)
    assert "does not open with the configured password; not re-initialised" in result.stdout
    appliance.secret("local.pass", "correct horse battery staple\n")
    assert len(appliance.snapshot_ids("local")) == 1


def test_copy_target_shares_chunker_params(appliance: Appliance, office):
    appliance.local_repository("onsite")
    appliance.local_repository("offsite")
    appliance.add_plan("office", [office], repository="onsite", copy_to=["offsite"])
    appliance.bdr("init")
    params = [
        {
            k: v
            for k, v in json.loads(appliance.restic(name, "cat", "config").stdout).items()
            if k == "chunker_polynomial"
        }
        for name in ("onsite", "offsite")
    ]
    assert params[0] == params[1] and params[0]


def test_a_full_repository_disk_is_a_failure_not_a_lock(appliance: Appliance, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the repository")
    data = tmp_path / "data"
    data.mkdir()
    (data / "big.bin").write_bytes(os.urandom(6_000_000))
    repo = appliance.local_repository()
    appliance.add_plan("data", [data])
    repo.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(repo)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        appliance.bdr("init")
        result = appliance.bdr("backup", expect=1)
        assert "storage is full" in result.stdout and "no space left on device" in result.stdout
        assert "locked" not in result.stdout
    finally:
        subprocess.run(["umount", str(repo)], check=True)


def test_a_repository_without_its_index_is_named_not_the_clients_files(
    appliance: Appliance, office
):
    repository = appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    (first,) = appliance.bdr_json("backup")
    for index in (repository / "index").iterdir():
        index.chmod(0o600)
        index.unlink()
    (office / "documents" / "new.txt").write_text("new\n")
    (run,) = appliance.bdr_json("backup", expect=6)
    said = run["message"]
    assert "the repository local may be damaged: restic could not read its own data" in said
    assert said.endswith("run `bdr check local`")
    assert "could not be read" not in said, "the client's readable files are not blamed"
    run = appliance.runs()[-1]
    assert (run["kind"], run["status"], run["exit_code"]) == ("backup", "failed", 6)
    (tier,) = appliance.bdr_json("status")["plans"]
    assert tier["snapshot_id"] == first["snapshot_id"], "a damaged backup is not the newest"
