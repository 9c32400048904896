"""`bdr daemon` against real restic: schedules, crash safety, signals, sd_notify."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance, lock_files, make_tree
from tests.integration.daemon import RunningDaemon, runs, wait_for


@pytest.fixture
def scheduled(appliance: Appliance, office) -> Appliance:
    appliance.appliance["stop_grace"] = "5s"
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="*/3 * * * *")
    appliance.add("drills", "onsite", plan="office", repository="local", schedule="*/4 * * * *")
    appliance.add("checks", "local", repository="local", schedule="*/5 * * * *")
    appliance.bdr("init")
    return appliance


@pytest.fixture
def big(appliance: Appliance, tmp_path: Path) -> Appliance:
    # 400 MB: a backup still runs a second or two after it starts, when the signals arrive.
    data = make_tree(tmp_path / "big", {f"f{i}.bin": os.urandom(8 << 20) for i in range(50)})
    appliance.appliance["stop_grace"] = "2s"
    appliance.local_repository()
    appliance.add_plan("big", [data], schedule="*/2 * * * *")
    appliance.bdr("init")
    return appliance


def restic_running(appliance: Appliance, command: str) -> bool:
    """Whether this appliance's restic (found by its cache directory) runs `command`."""
    pattern = f"restic --cache-dir {appliance.state_dir}/cache {command}"
    return subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 0


def test_daemon_runs_backup_drill_and_check_on_schedule(scheduled: Appliance):
    daemon = RunningDaemon(scheduled)
    try:
        wait_for(
            "a backup, a drill and a check",
            lambda: (
                {row["kind"] for row in runs(scheduled) if row["status"] == "ok"}
                >= {"backup", "drill", "check"}
            ),
        )
        status = scheduled.bdr_json("status")
        assert status["daemon"]["alive"]
        jobs = {job["job"]: job for job in status["daemon"]["jobs"]}
        assert set(jobs) == {"backup:office", "drill:onsite", "check:local", "report:monthly"}
        assert all(job["next_run"] > time.time() - 5 for job in jobs.values())
        assert "daemon: alive" in scheduled.bdr("status").stdout
    finally:
        assert daemon.stop() == 0
    log = daemon.text()
    assert "run=" in log and "backup ok" in log and "daemon stopped" in log
    assert not scheduled.bdr_json("status")["daemon"]["alive"]


def test_sigterm_during_a_backup_exits_0_and_records_the_run(big: Appliance):
    big.appliance["stop_grace"] = "1s"
    big.write()
    daemon = RunningDaemon(big)
    wait_for("a backup to start", lambda: restic_running(big, "backup"))
    started = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - started < 1 + 30  # the grace, then restic stops on SIGINT
    assert not restic_running(big, "backup")
    assert "interrupted 1 restic process" in daemon.text()
    assert runs(big, "backup")[-1]["status"] == "interrupted"
    locks = Path(big.repositories["local"]["url"]) / "locks"
    assert not any(locks.iterdir()), "restic, stopped with SIGINT, removed its own lock"


def test_kill_9_then_restart_recovers(big: Appliance):
    daemon = RunningDaemon(big)
    locks = Path(big.repositories["local"]["url"]) / "locks"
    wait_for(
        "a backup to lock the repository",
        lambda: restic_running(big, "backup") and bool(lock_files(locks)),
    )
    daemon.stop(signal.SIGKILL)
    # A power cut takes restic with it (under systemd the whole cgroup is killed).
    subprocess.run(["pkill", "-9", "-f", f"restic --cache-dir {big.state_dir}/cache backup"])
    wait_for("restic to die", lambda: not restic_running(big, "backup"), 10)
    assert lock_files(locks), "the killed restic left a lock"
    history_before = len(runs(big))
    assert runs(big, "backup")[-1]["status"] == "running"
    restarted = RunningDaemon(big)
    try:
        assert "marked interrupted" in restarted.text()
        assert "stale restic locks cleared" in restarted.text()
        interrupted = [row for row in runs(big, "backup") if row["status"] == "interrupted"]
        assert len(interrupted) == 1
        wait_for(
            "a backup after the restart",
            lambda: any(row["status"] == "ok" for row in runs(big, "backup")),
            120,
        )
    finally:
        assert restarted.stop() == 0
    assert len(runs(big)) >= history_before


def test_manual_backup_waits_for_the_daemons_backup(big: Appliance):
    daemon = RunningDaemon(big)
    try:
        wait_for("a backup to start", lambda: restic_running(big, "backup"))
        manual = big.bdr("backup")
        # One backup of a plan at a time (restic would let two share the repository).
        assert "waiting for plan 'big'" in manual.stderr
        assert "backup of plan big" in manual.stderr
    finally:
        daemon.stop()


def test_sighup_with_a_broken_config_keeps_the_old_one(scheduled: Appliance):
    daemon = RunningDaemon(scheduled)
    good = scheduled.config_path.read_text()
    try:
        scheduled.config_path.write_text(
            good.replace('rto = "1h"', 'rto = "soon"') + "\n[plans.office.typo]\n"
        )
        daemon.process.send_signal(signal.SIGHUP)
        wait_for("the reload to be refused", lambda: "reload refused" in daemon.text())
        assert "drills.onsite.rto" in daemon.text() or "configuration error" in daemon.text()
        count = len(runs(scheduled, "backup"))
        wait_for("backups to go on", lambda: len(runs(scheduled, "backup")) > count + 1)
        assert daemon.process.poll() is None
        # Files that once killed a reload: not UTF-8, a schedule only APScheduler refused.
        for broken in (
            b"\xff\xfe binary",
            good.replace('"*/3 * * * *"', '"0-59/ * * * *"').encode(),
        ):
            refusals = daemon.text().count("reload refused")
            scheduled.config_path.write_bytes(broken)
            daemon.process.send_signal(signal.SIGHUP)
            wait_for(
                "the reload to be refused",
                lambda n=refusals: daemon.text().count("reload refused") > n,
            )
            assert daemon.process.poll() is None
        scheduled.config_path.write_text(good.replace('"*/3 * * * *"', '"0 0 1 1 *"'))
        daemon.process.send_signal(signal.SIGHUP)
        wait_for("the reload", lambda: "config reloaded" in daemon.text())
        jobs = {job["job"]: job for job in scheduled.bdr_json("status")["daemon"]["jobs"]}
        assert jobs["backup:office"]["schedule"] == "0 0 1 1 *"
    finally:
        assert daemon.stop() == 0


def _daily_far_from_now() -> str:
    """A daily schedule whose slot is 12 hours away: the fast clock cannot reach it in a test."""
    return f"0 {(datetime.now().hour + 12) % 24} * * *"


def test_missed_schedule_runs_once_at_start(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule=_daily_far_from_now())
    appliance.bdr("init")
    first = RunningDaemon(appliance)
    first.stop()
    assert runs(appliance, "backup") == []  # never ran before: nothing was missed
    db = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
    # The daemon last ran the job three days ago: three of its daily slots have passed since.
    db.execute(
        "UPDATE schedule SET last_fire = ? WHERE job_id = 'backup:office'",
        (time.time() - 3 * 86400,),
    )
    db.commit()
    second = RunningDaemon(appliance)
    try:
        wait_for(
            "the missed backup", lambda: any(r["status"] == "ok" for r in runs(appliance, "backup"))
        )
    finally:
        assert second.stop() == 0
    # Three missed slots, one run: the daemon is stopped, so nothing more can come.
    assert len(runs(appliance, "backup")) == 1
    assert second.text().count("missed a run while the daemon was down") == 1


def test_sd_notify_ready_and_watchdog(appliance: Appliance, office, tmp_path):
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule=_daily_far_from_now())
    appliance.bdr("init")
    address = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(30)
        # `bdr daemon` itself, as systemd starts it.
        daemon = RunningDaemon(
            appliance, {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000"}, fast=False
        )
        try:
            messages: list[str] = []
            while not any("WATCHDOG=1" in m for m in messages):
                messages.append(sock.recv(4096).decode())
            assert any(m.startswith("READY=1") for m in messages)
        finally:
            assert daemon.stop() == 0
        assert "STOPPING=1" in sock.recv(4096).decode()


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("install.sh runs as root")
    root = tmp_path / "root"
    env = {**os.environ, "DESTDIR": str(root)}
    subprocess.run(
        ["sh", "appliance/install.sh"],
        env=env,
        check=True,
        capture_output=True,
        cwd=Path(__file__).parents[2],
        timeout=600,
    )
    yield root


def test_install_sh_into_a_prefix(installed: Path):
    root = installed
    passwd = (root / "etc/passwd").read_text()
    uid = int(next(line for line in passwd.splitlines() if line.startswith("bdr:")).split(":")[2])
    for path, mode, owner in (
        ("etc/bdr/secrets", 0o700, uid),
        ("var/lib/bdr", 0o750, uid),
        ("srv/bdr/scratch", 0o700, uid),
        ("srv/bdr/repo", 0o700, uid),
        ("etc/bdr/bdr.toml", 0o640, 0),
        ("etc/shadow", 0o640, 0),
        ("etc/gshadow", 0o640, 0),
    ):
        info = (root / path).stat()
        assert (info.st_mode & 0o777, info.st_uid) == (mode, owner), path
    assert (root / "etc/systemd/system/multi-user.target.wants/bdr.service").is_symlink()
    # `bdr` on the technician's PATH, pointing into the installation.
    assert os.readlink(root / "usr/local/bin/bdr") == "/opt/bdr/venv/bin/bdr"
    version = subprocess.run(
        [root / "opt/bdr/venv/bin/bdr", "--version"], capture_output=True, text=True, check=True
    )
    assert "bdr, version" in version.stdout


def test_install_sh_is_idempotent_and_uninstall_keeps_data(installed: Path):
    root = installed
    config = root / "etc/bdr/bdr.toml"
    config.write_text(config.read_text() + "\n# edited by the technician\n")
    (root / "etc/bdr").chmod(0o750)  # tightened by the admin
    env = {**os.environ, "DESTDIR": str(root)}
    repo = Path(__file__).parents[2]
    again = subprocess.run(
        ["sh", "appliance/install.sh"],
        env=env,
        check=True,
        text=True,
        capture_output=True,
        cwd=repo,
        timeout=600,
    )
    assert "kept the existing /etc/bdr/bdr.toml" in again.stdout
    assert "edited by the technician" in config.read_text()
    assert (root / "etc/bdr").stat().st_mode & 0o777 == 0o750  # not loosened again
    users = [line for line in (root / "etc/passwd").read_text().splitlines()]
    assert [line.split(":")[0] for line in users].count("bdr") == 1
    subprocess.run(
        ["sh", "appliance/install.sh", "--uninstall"],
        env=env,
        check=True,
        capture_output=True,
        cwd=repo,
    )
    assert not (root / "opt/bdr").exists()
    assert not (root / "etc/systemd/system/bdr.service").exists()
    assert not (root / "usr/local/bin/bdr").is_symlink()
    assert "edited by the technician" in config.read_text()
    assert (root / "var/lib/bdr").is_dir() and (root / "srv/bdr/repo").is_dir()


def test_systemd_analyze_verifies_the_unit(installed: Path):
    if subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode:
        pytest.fail("systemd-analyze is missing: make test installs systemd")
    unit = installed / "etc/systemd/system/bdr.service"
    # The unit names /opt/bdr/venv/bin/bdr: verify it where /opt is the installed tree's.
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            f"mount --bind {installed / 'opt'} /opt && systemd-analyze verify {unit}",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    exposure = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)],
        capture_output=True,
        text=True,
    )
    score = float(exposure.stdout.split("Overall exposure level for bdr.service: ")[1].split()[0])
    assert score <= 2.0, exposure.stdout


@pytest.mark.parametrize("parallel", [1, 2])
def test_runs_on_two_repositories_overlap_only_up_to_the_limit(
    appliance: Appliance, tmp_path: Path, parallel: int
):
    for name in ("one", "two"):
        data = make_tree(tmp_path / name, {f"f{i}.bin": os.urandom(4 << 20) for i in range(30)})
        appliance.local_repository(name)
        appliance.add_plan(name, [data], repository=name, schedule="*/2 * * * *")
    appliance.appliance["max_parallel_runs"] = parallel
    appliance.bdr("init")
    daemon = RunningDaemon(appliance)
    try:
        wait_for(
            "a backup of each plan",
            lambda: (
                {row["plan"] for row in runs(appliance, "backup") if row["status"] == "ok"}
                == {"one", "two"}
            ),
            120,
        )
    finally:
        assert daemon.stop() == 0
    spans = [
        (row["started_at"], row["ended_at"])
        for row in runs(appliance, "backup")
        if row["ended_at"] is not None
    ]
    overlapping = any(
        a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :]
    )
    assert overlapping == (parallel == 2)


def test_sigterm_during_start_up_exits_0(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="0 3 * * *")
    appliance.bdr("init")
    # The start-up clears stale restic locks: a slow password command makes it last seconds.
    password = appliance.repositories["local"].pop("password_file")
    appliance.repositories["local"]["password_command"] = f"sh -c 'sleep 4.17; cat {password}'"
    appliance.write()
    log = appliance.root / "daemon-start.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bdr", "--config", str(appliance.config_path), "daemon"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    wait_for("the start-up", lambda: "daemon starting" in log.read_text(), 30)
    # In the start-up's restic unlock, asking for the password.
    wait_for("the password command", lambda: pgrep_exact("sleep 4.17"), 30)
    assert "daemon ready" not in log.read_text()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()
    assert "daemon stopped during its start-up" in log.read_text()


def test_sigterm_while_a_run_waits_for_its_repository_stops_at_once(appliance: Appliance, office):
    """A scheduled backup queued behind a technician's command (bdr's lock of the repository
    held) has started nothing: SIGTERM ends it as interrupted within the grace, instead of
    holding the daemon's stop until lock_timeout (an hour) and systemd's SIGKILL."""
    from tests.integration.test_locks import hold_bdr_lock

    appliance.appliance.update(stop_grace="2s", lock_timeout="1h")
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="* * * * *")
    appliance.bdr("init")
    holder = hold_bdr_lock(appliance, 600)
    try:
        daemon = RunningDaemon(appliance)
        wait_for("the backup queued", lambda: "waiting for repository 'local'" in daemon.text())
        started = time.monotonic()
        assert daemon.stop(timeout=60) == 0
        assert time.monotonic() - started < 20, daemon.text()[-3000:]
    finally:
        holder.kill()
        holder.wait()
    assert runs(appliance, "backup")[-1]["status"] == "interrupted"
    assert "stopped while waiting for repository 'local'" in daemon.text()


def test_the_evidence_upkeep_process_ends_with_the_daemon():
    from bdr.daemon.upkeep import Upkeep

    upkeep = Upkeep(["sleep", "613"])
    wait_for("the upkeep to start", lambda: pgrep_exact("sleep 613"))
    started = time.monotonic()
    upkeep.stop()
    assert time.monotonic() - started < 5
    assert not upkeep.is_alive()
    assert not pgrep_exact("sleep 613")


def pgrep_exact(command: str) -> bool:
    return subprocess.run(["pgrep", "-fx", command], capture_output=True).returncode == 0
