"""Restore drills and checks against real restic, S3 on SeaweedFS and sshd."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.conftest import (
    Appliance,
    damage_largest_pack,
    make_tree,
    start_restoring_drill,
)
from tests.integration.daemon import wait_for


@pytest.fixture
def drilled(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.bdr("init")
    appliance.bdr("backup")
    return appliance


def scratch_is_clean(appliance: Appliance) -> bool:
    return not appliance.scratch_dir.exists() or not any(appliance.scratch_dir.rglob("*"))


def test_full_drill_passes_on_a_fresh_backup(drilled: Appliance):
    (result,) = drilled.bdr_json("drill", "run", "onsite")
    assert result["verdict"] == "passed", result["reason"]
    assert result["canary"] == "ok"
    assert result["files"] == result["verified_files"] == 6  # five office files and the canary
    assert result["compared_files"] == 5 and result["changed_files"] == 0
    assert result["mismatched_files"] == 0
    assert set(result["phases"]) == {"restore", "verify", "checks"}
    assert result["projected_seconds"] == result["recovery_seconds"] < 3600
    assert drilled.scratch_emptied()
    human = drilled.bdr("drill", "run", "onsite").stdout
    assert "passed" in human and "within the RTO of 1h 00m" in human


OVERLAP_RESTIC = """#!/bin/sh
# restic, with the start and end of each command written to a log. A listing and a restore
# each wait (up to a minute) for the other to have started, and write whether it had: both
# lines are there only when bdr started each before the other ended.
for word in "$@"; do
    case "$word" in ls|restore|backup|snapshots|forget|version|init|cat) command=$word; break;; esac
done
echo "start $command" >> "LOG"
case "$command" in ls) other=restore;; restore) other=ls;; *) other="";; esac
if [ -n "$other" ]; then
    i=0
    while ! grep -qx "start $other" "LOG" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    grep -qx "start $other" "LOG" && echo "$command saw $other" >> "LOG"
fi
restic "$@"
code=$?
echo "end $command" >> "LOG"
exit $code
"""


def ran_beside_each_other(log: Path) -> bool:
    """Whether the listing and the restore ran at once (see OVERLAP_RESTIC)."""
    lines = log.read_text().splitlines()
    return "ls saw restore" in lines and "restore saw ls" in lines


def test_a_full_drill_restores_while_it_lists_the_snapshot(drilled: Appliance, tmp_path):
    log = tmp_path / "restic.log"
    drilled.use_restic(OVERLAP_RESTIC.replace("LOG", str(log)))
    (result,) = drilled.bdr_json("drill", "run", "onsite")
    assert result["verdict"] == "passed", result["reason"]
    assert result["files"] == result["verified_files"] == 6
    # Both started before either ended: the listing's key derivation is not paid before the
    # restore starts.
    assert ran_beside_each_other(log), log.read_text()
    assert drilled.scratch_emptied()


@pytest.fixture
def share(appliance: Appliance, tmp_path) -> Path:
    """A plan of 400 small files in four folders with a full drill (the tier is calibrated) and
    a 20% sample drill."""
    data = make_tree(
        tmp_path / "share",
        {f"dept{i % 4}/doc{i:03d}.txt": os.urandom(2000 + i) for i in range(400)},
    )
    appliance.local_repository()
    appliance.add_plan("share", [data])
    appliance.add("drills", "onsite", plan="share", repository="local", rto="1h")
    appliance.add("drills", "sample", plan="share", repository="local", kind="sample", sample="20%")
    appliance.bdr("init")
    appliance.bdr("backup")
    appliance.bdr("drill", "run", "onsite")
    return data


def test_a_sample_is_chosen_from_the_live_tree_and_restored_while_listed(
    appliance: Appliance, share: Path, tmp_path
):
    log = tmp_path / "restic.log"
    appliance.use_restic(OVERLAP_RESTIC.replace("LOG", str(log)))
    result = appliance.bdr("--json", "drill", "run", "sample")
    (drill,) = json.loads(result.stdout)
    assert "in the live tree" in result.stderr
    assert drill["verdict"] == "passed", drill["reason"]
    assert drill["files"] == drill["verified_files"] == drill["compared_files"] + 1
    assert 60 <= drill["compared_files"] <= 100  # about 20% of 400
    assert (drill["full_files"], drill["canary"]) == (401, "ok")
    lines = log.read_text().splitlines()
    assert [line.split()[:2] for line in lines].count(["start", "restore"]) == 1
    assert ran_beside_each_other(log), log.read_text()
    assert appliance.scratch_emptied()


# restic, with each command line written to a log
LOGGED_RESTIC = """#!/bin/sh
echo "$*" >> "LOG"
exec restic "$@"
"""


def test_a_sample_of_a_large_snapshot_lists_only_the_subtrees_it_restores(
    appliance: Appliance, share: Path, tmp_path
):
    """A snapshot over the limit is listed once the sample is chosen, the sample's folders
    only, and the drill proves the same. Run in this process, with a context whose limit is
    100 files (the snapshot holds 401), and the real restic."""
    from bdr.actions.context import Context
    from bdr.actions.drill import run_drill
    from bdr.config.load import load_config
    from bdr.drill.strategy import Tuning
    from bdr.restic.runner import Restic
    from bdr.store.database import connect

    log = tmp_path / "restic.log"
    logged = appliance.use_restic(LOGGED_RESTIC.replace("LOG", str(log)))
    config = load_config(appliance.config_path)
    db = connect(config.appliance.state_dir)
    try:
        ctx = Context(
            config=config,
            db=db,
            restic=Restic.detect(str(logged), cache_dir=config.appliance.state_dir / "cache"),
            tuning=Tuning(early_listing_max_files=100),
        )
        result = run_drill(ctx, "sample")
    finally:
        db.close()
    outcome = result.outcome
    assert result.verdict.kind == "passed", result.verdict.reason
    assert outcome.drill_kind == "sample"
    assert outcome.files == outcome.verified_files == outcome.compared_files + 1
    assert 60 <= outcome.compared_files <= 100 and outcome.full_files == 401
    (listing,) = [line.split() for line in log.read_text().splitlines() if " ls " in line]
    named = [word for word in listing if word.startswith(str(share))]
    assert "--recursive" in listing and named
    assert all(word.startswith(f"{share}/dept") for word in named)
    assert appliance.scratch_emptied()


def test_a_sample_from_a_live_tree_changed_since_the_backup_verifies_the_snapshot(
    appliance: Appliance, share: Path
):
    """The live tree chooses which folders and name ranges to restore; what is restored and
    verified is the snapshot's: files deleted since the backup are restored and proven, files
    added since are not expected."""
    for index in range(0, 400, 3):
        (share / f"dept{index % 4}" / f"doc{index:03d}.txt").unlink()
    for index in range(100):
        (share / "dept0" / f"doc{index:03d}-new.txt").write_text("written after the backup\n")
    (drill,) = appliance.bdr_json("drill", "run", "sample")
    assert drill["verdict"] == "passed", drill["reason"]
    assert drill["gone_files"] > 0, "files deleted since the backup are restored and verified"
    assert drill["files"] == drill["verified_files"]
    assert drill["files"] == drill["compared_files"] + drill["gone_files"] + 1
    assert drill["full_files"] == 401


def test_a_sample_the_snapshot_does_not_hold_is_chosen_again_from_its_listing(
    appliance: Appliance, share: Path, tmp_path
):
    """Folders renamed since the backup: the patterns chosen from the live tree select nothing
    in the snapshot, which must not make a drill that proves nothing (or fails for nothing)."""
    for index in range(4):
        (share / f"dept{index}").rename(share / f"renamed{index}")
    log = tmp_path / "restic.log"
    appliance.use_restic(OVERLAP_RESTIC.replace("LOG", str(log)))
    result = appliance.bdr("--json", "drill", "run", "sample")
    (drill,) = json.loads(result.stdout)
    assert "choosing the sample from the snapshot's listing" in result.stderr
    assert drill["verdict"] == "passed", drill["reason"]
    assert 60 <= drill["files"] - 1 <= 100 and drill["gone_files"] == drill["files"] - 1
    assert appliance.scratch_emptied()
    # The sample is chosen again from the listing made beside the first restore: the snapshot
    # is not listed (its key derived, its trees read) a second time.
    started = [line.split()[1] for line in log.read_text().splitlines() if line.startswith("start")]
    assert started.count("ls") == 1 and started.count("restore") == 2


def test_a_sample_whose_sources_are_not_there_now_lists_the_snapshot_first(
    appliance: Appliance, share: Path
):
    share.rename(share.with_name("share-unmounted"))
    result = appliance.bdr("--json", "drill", "run", "sample")
    (drill,) = json.loads(result.stdout)
    assert "in the live tree" not in result.stderr
    assert drill["verdict"] == "passed", drill["reason"]
    assert drill["gone_files"] == drill["files"] - 1 and 60 <= drill["files"] <= 100


def test_source_changed_after_the_snapshot_is_counted_not_a_mismatch(drilled: Appliance, office):
    letter = office / "documents" / "letters" / "welcome.txt"
    before = letter.stat().st_mtime_ns
    letter.write_text("Dear client, (edited)\n")
    os.utime(letter, ns=(before + 10**9, before + 10**9))  # edited a second later
    (result,) = drilled.bdr_json("drill", "run", "onsite")
    assert result["verdict"] == "passed"
    assert result["changed_files"] == 1 and result["compared_files"] == 4
    assert result["mismatched_files"] == 0


def test_verified_rpo_in_status(drilled: Appliance):
    before = drilled.bdr_json("status")["plans"][0]
    assert before["verified_snapshot_id"] is None
    drilled.bdr("drill", "run", "onsite")
    after = drilled.bdr_json("status")["plans"][0]
    assert after["verified_snapshot_id"] == after["snapshot_id"]
    assert 0 <= after["verified_snapshot_age_seconds"] < 300


def test_corrupted_pack_fails_the_drill_as_data_and_the_check(drilled: Appliance):
    drilled.add("checks", "local", repository="local", read_data_cycle=1)
    drilled.write()
    drilled.bdr("check")
    damage_largest_pack(drilled)
    result = drilled.bdr("--json", "drill", "run", "onsite", expect=4)
    (drill,) = json.loads(result.stdout)
    assert drill["verdict"] == "data"
    assert drill["reason"].startswith("the restored data is wrong")
    assert drill["mismatched_files"] >= 1
    assert drilled.scratch_emptied()
    check = drilled.bdr("--json", "check", expect=1)
    (summary,) = json.loads(check.stdout)
    assert summary["status"] == "failed" and "found errors" in summary["message"]
    assert summary["details"]["errors"]


def test_failing_application_check_gives_verdict_check(drilled: Appliance, office):
    drilled.add(
        "drills",
        "with-check",
        plan="office",
        repository="local",
        rto="1h",
        checks=[
            {
                "run": ["cat", "{restore}/documents/invoices/2026-001.txt"],
                "expect": "Invoice 1: 120 EUR",
            },
            {"run": ["sh", "-c", "echo 'database is malformed'; exit 0"], "expect": "ok"},
        ],
    )
    drilled.write()
    result = drilled.bdr("--json", "drill", "run", "with-check", expect=4)
    (drill,) = json.loads(result.stdout)
    assert drill["verdict"] == "check"
    assert "checks.1" in drill["reason"] and "database is malformed" in drill["reason"]
    assert [c["ok"] for c in drill["checks"]] == [True, False]


def test_rto_exceeded_with_the_data_verified(appliance: Appliance, tmp_path):
    data = make_tree(tmp_path / "big", {f"f{i}.bin": os.urandom(8 << 20) for i in range(24)})
    appliance.local_repository()
    appliance.add_plan("big", [data])
    appliance.add("drills", "tight", plan="big", repository="local", rto="1s")
    appliance.bdr("init")
    appliance.bdr("backup")
    result = appliance.bdr("--json", "drill", "run", "tight", expect=4)
    (drill,) = json.loads(result.stdout)
    assert drill["verdict"] == "rto"
    assert drill["reason"].startswith("data verified, but the recovery takes")
    assert drill["mismatched_files"] == 0 and drill["canary"] == "ok"
    assert drill["recovery_seconds"] > 1


def test_scratch_too_small_is_a_clear_error_and_leaves_nothing(drilled: Appliance):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the scratch area")
    drilled.scratch_dir.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(drilled.scratch_dir)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        result = drilled.bdr("--json", "drill", "run", "onsite", expect=1)
        (drill,) = json.loads(result.stdout)
        assert drill["verdict"] == "error"
        assert f"scratch area {drilled.scratch_dir} has" in drill["reason"]
        assert "has 64 KiB free; restoring 6 files" in drill["reason"]
        assert "needs 342 KiB" in drill["reason"]
        assert drilled.scratch_emptied()
    finally:
        subprocess.run(["umount", str(drilled.scratch_dir)], check=True)


def test_sigterm_during_a_drill_removes_scratch_and_records_interrupted(
    appliance: Appliance, tmp_path
):
    data = make_tree(tmp_path / "big", {f"f{i}.bin": os.urandom(8 << 20) for i in range(40)})
    appliance.local_repository()
    appliance.add_plan("big", [data])
    appliance.add("drills", "long", plan="big", repository="local", rto="1h")
    appliance.bdr("init")
    appliance.bdr("backup")
    process = start_restoring_drill(appliance, "long")
    wait_for("the restore to write", lambda: any(appliance.scratch_dir.rglob("*.bin")), 60)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 143
    assert scratch_is_clean(appliance)
    run = appliance.runs()[-1]
    assert (run["kind"], run["status"]) == ("drill", "interrupted")


def test_sample_drill_on_s3_projects_the_full_recovery(appliance: Appliance, seaweed, tmp_path):
    data = make_tree(
        tmp_path / "files",
        {f"dir{i % 5}/file{i:03d}.bin": os.urandom(20_000 + i * 1500) for i in range(150)},
    )
    appliance.local_repository("onsite")
    appliance.add_repository(
        "cloud",
        seaweed.url(f"drill-{uuid.uuid4().hex[:8]}"),
        env_file=seaweed.env_file(appliance.secrets / "cloud.env"),
    )
    appliance.add_plan("files", [data], repository="onsite", copy_to=["cloud"])
    appliance.add(
        "drills",
        "cloud-sample",
        plan="files",
        repository="cloud",
        kind="sample",
        sample="10%",
        rto="8h",
    )
    appliance.bdr("init")
    appliance.bdr("backup")
    # The cloud tier has no full drill yet: the first drill restores everything, to calibrate.
    first = appliance.bdr("--json", "drill", "run", "cloud-sample")
    (calibration,) = json.loads(first.stdout)
    assert "to calibrate the projections" in first.stderr
    assert calibration["kind"] == "full" and calibration["verdict"] == "passed"
    assert calibration["files"] == calibration["full_files"] == 151
    (drill,) = appliance.bdr_json("drill", "run", "cloud-sample")
    assert drill["kind"] == "sample" and drill["verdict"] == "passed", drill["reason"]
    assert drill["canary"] == "ok"  # recorded for the onsite snapshot, found through the copy
    assert 2 < drill["files"] < drill["full_files"] == 151
    assert drill["bytes"] < drill["full_bytes"]
    assert drill["projection_method"] == "calibrated"
    assert drill["projected_seconds"] > drill["phases"]["restore"]
    again = appliance.bdr_json("drill", "run", "cloud-sample")[0]
    assert again["files"] == drill["files"], "the same snapshot gives the same sample"
    assert "projected full recovery" in appliance.bdr("drill", "run", "cloud-sample").stdout
    history = appliance.bdr_json("drill", "history", "cloud-sample")
    assert len(history) == 4 and all(h["projected_seconds"] for h in history)
    assert history[0]["headroom_seconds"] > 0


def test_remote_check_over_ssh_and_unknown_host_key(drilled: Appliance, sftp_server, tmp_path):
    d = sftp_server.directory
    drilled.add(
        "remote",
        "recovery",
        host="127.0.0.1",
        port=sftp_server.port,
        user=sftp_server.user,
        key_file=str(d / "client_key"),
        known_hosts=str(d / "known_hosts"),
    )
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    drilled.add(
        "remote",
        "stranger",
        host="127.0.0.1",
        port=sftp_server.port,
        user=sftp_server.user,
        key_file=str(d / "client_key"),
        known_hosts=str(empty),
    )
    invoice = ["cat", "{restore}/documents/invoices/2026-001.txt"]
    drilled.add(
        "drills",
        "remote-ok",
        plan="office",
        repository="local",
        rto="1h",
        checks=[{"run": invoice, "expect": "Invoice 1: 120 EUR", "remote": "recovery"}],
    )
    drilled.add(
        "drills",
        "remote-unknown",
        plan="office",
        repository="local",
        rto="1h",
        checks=[{"run": invoice, "expect": "Invoice 1: 120 EUR", "remote": "stranger"}],
    )
    drilled.write()
    (ok,) = drilled.bdr_json("drill", "run", "remote-ok")
    assert ok["verdict"] == "passed", ok["reason"]
    assert ok["checks"][0]["ok"]
    result = drilled.bdr("--json", "drill", "run", "remote-unknown", expect=4)
    (refused,) = json.loads(result.stdout)
    assert refused["verdict"] == "check"
    assert "host key unknown" in refused["reason"] and "refusing to connect" in refused["reason"]
    # 3 MB on stderr (more than an SSH window) before the answer: both streams are read.
    loud = ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' x >&2; echo ok"]
    slow = ["sleep", "431"]
    for name, run, timeout in (("remote-loud", loud, "1m"), ("remote-slow", slow, "2s")):
        drilled.add(
            "drills",
            name,
            plan="office",
            repository="local",
            rto="1h",
            checks=[{"run": run, "expect": "ok", "remote": "recovery", "timeout": timeout}],
        )
    drilled.write()
    (loud_result,) = drilled.bdr_json("drill", "run", "remote-loud")
    assert loud_result["verdict"] == "passed", loud_result["reason"]
    started = time.monotonic()
    (slow_result,) = json.loads(
        drilled.bdr("--json", "drill", "run", "remote-slow", expect=4).stdout
    )
    assert time.monotonic() - started < 25
    assert "did not end within its timeout of 2s" in slow_result["reason"]
    assert "cannot connect" not in slow_result["reason"]
    # The check was ended on the remote host too, not left running there.
    wait_for_gone = time.monotonic() + 10
    while subprocess.run(["pgrep", "-fx", "sleep 431"], capture_output=True).returncode == 0:
        assert time.monotonic() < wait_for_gone, "the remote check is still running"
        time.sleep(0.2)


def test_drill_list_and_history(drilled: Appliance):
    drilled.bdr("drill", "run", "onsite")
    listing = drilled.bdr_json("drill", "list")
    assert [(d["drill"], d["last_verdict"]) for d in listing] == [("onsite", "passed")]
    history = drilled.bdr_json("drill", "history")
    assert history[0]["verdict"] == "passed" and history[0]["rto_seconds"] == 3600
    table = drilled.bdr("drill", "history", "onsite").stdout
    assert "onsite" in table and "passed" in table


def test_check_rotates_the_read_subset(drilled: Appliance):
    drilled.add("checks", "local", repository="local", read_data_cycle=3)
    drilled.write()
    subsets = []
    for _ in range(4):
        (summary,) = drilled.bdr_json("check")
        subsets.append((summary["details"]["subset"], round(summary["details"]["coverage"], 2)))
    assert subsets == [(1, 0.33), (2, 0.67), (3, 1.0), (1, 1.0)]


SLOW_RESTORE = """#!/bin/sh
# restic, whose restores are 12 s slower while FLAG exists (a busy disk)
for word in "$@"; do
    case "$word" in restore) if [ -e "FLAG" ]; then sleep 12; fi; break;; esac
done
exec restic "$@"
"""


def test_a_sample_whose_error_bar_holds_the_rto_is_unproven(appliance: Appliance, office, tmp_path):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.add(
        "drills", "sampled", plan="office", repository="local", kind="sample", sample="50%",
        rto="5s",
    )  # fmt: skip
    flag = tmp_path / "slow"
    appliance.use_restic(SLOW_RESTORE.replace("FLAG", str(flag)))
    appliance.bdr("init")
    appliance.bdr("backup")
    # Two full restores of the tier, one 12 s slower: their rates are far apart, and so the
    # projection's error bar is wide (the spread), holding an RTO of 5 s from both sides.
    appliance.bdr("drill", "run", "onsite")
    flag.touch()
    appliance.bdr("drill", "run", "onsite")
    flag.unlink()
    (result,) = appliance.bdr_json("drill", "run", "sampled", expect=4)
    assert result["verdict"] == "unproven", result["reason"]
    projected, error = result["projected_seconds"], result["projected_error_seconds"]
    assert projected - error <= 5 < projected + error
    assert "RTO not proven" in result["reason"] and "±" in result["reason"]
    metrics = appliance.bdr("metrics").stdout
    assert 'bdr_drill_last_success{drill="sampled",plan="office",repository="local"} 0.0' in metrics
    (last,) = appliance.bdr_json("drill", "history", "sampled")
    assert last["verdict"] == "unproven"
    month = time.strftime("%Y-%m")
    out = tmp_path / "reports"
    appliance.bdr("report", "--month", month, "--format", "html,json", "--out", str(out))
    html = next(out.glob(f"{month}/*.html")).read_text()
    assert html.count('<tr class="unproven">') == 1
