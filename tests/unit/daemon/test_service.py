"""The daemon's dispatch and stop, on the typed fake of restic: no process runs.

A job of each kind runs its action (what restic is asked tells which); a stop gives running
runs their grace, then interrupts restic through the supervisor, and a run still queued for a
repository gives up at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bdr.config.model import Config
from bdr.config.schema import validate
from bdr.daemon.jobs import ACTIONS
from bdr.daemon.service import ActiveRuns, Daemon
from bdr.restic.lock import repository_lock
from bdr.restic.supervisor import Supervisor
from bdr.schedule.jobs import JobSpec, job_specs
from bdr.store import daemon_state, runs
from bdr.store.database import connect
from tests.unit.fake_restic import FakeRestic, Reply, ok

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"
BACKUP = (FIXTURES / "backup.ndjson").read_text().splitlines(keepends=True)


def appliance(tmp_path: Path, **appliance: object) -> Config:
    password = tmp_path / "pass"
    password.write_text("a password long enough\n")
    password.chmod(0o600)
    source = tmp_path / "share"
    source.mkdir(exist_ok=True)
    (source / "letter.txt").write_text("Dear client\n")
    return validate(
        {
            "appliance": {
                "state_dir": str(tmp_path / "state"),
                "scratch_dir": str(tmp_path / "scratch"),
                **appliance,
            },
            "repositories": {
                "local": {
                    "url": str(tmp_path / "repo"),
                    "password_file": str(password),
                    "prune_schedule": "0 4 * * 0",
                },
                # An appliance's cloud this host keeps as the MSP's steward.
                "cloud": {"url": str(tmp_path / "cloud"), "password_file": str(password)},
            },
            "plans": {
                "office": {
                    "sources": [str(source)],
                    "repository": "local",
                    "retention": {"daily": 7},
                },
                # Copied to the cloud in the client's quiet hours, not after each backup.
                "mail": {
                    "sources": [str(source)],
                    "repository": "local",
                    "copy_to": ["cloud"],
                    "copy_schedule": "0 22 * * *",
                },
            },
            "drills": {"onsite": {"plan": "office", "repository": "local"}},
            "checks": {"local": {"repository": "local"}},
            "steward": {"cloud": {"keep": {"within_daily": "30d"}}},
            # ... and audits the evidence of.
            "audit": {"office-1": {"repository": "cloud", "allowed_signers": str(password)}},
        }
    )


def daemon_of(config: Config, restic: FakeRestic, tmp_path: Path) -> Daemon:
    return Daemon(config_path=tmp_path / "bdr.toml", config=config, restic=restic)


def test_the_job_table_names_every_kind_a_config_schedules(tmp_path: Path):
    kinds = {spec.kind for spec in job_specs(appliance(tmp_path))}
    assert (
        kinds
        == set(ACTIONS)
        == {
            "backup",
            "copy",
            "drill",
            "check",
            "prune",
            "steward",
            "audit",
            "report",
        }
    )


@pytest.mark.parametrize(
    ("job_id", "kind", "subject", "asked"),
    [
        ("backup:office", "backup", "office", "backup"),
        ("check:local", "check", "local", "check"),
        ("prune:local", "prune", "local", "prune"),
        ("steward:cloud", "steward", "cloud", "snapshots"),
    ],
)
def test_a_job_runs_its_action_and_is_recorded(
    tmp_path: Path, job_id: str, kind: str, subject: str, asked: str
):
    config = appliance(tmp_path)
    restic = FakeRestic(
        {
            "backup": lambda _: Reply(stdout=BACKUP),
            "check": ok,
            "prune": ok,
            "forget": ok,
            "snapshots": lambda _: Reply(stdout=["[]\n"]),
            "stats": lambda _: Reply(stdout=['{"total_size":123456,"total_file_count":3}\n']),
        }
    )
    daemon = daemon_of(config, restic, tmp_path)
    daemon.run_job(JobSpec(job_id, kind, subject, "0 1 * * *"))
    assert asked in restic.subcommands()
    db = connect(config.appliance.state_dir)
    (run,) = [run for run in runs.list_runs(db) if run.kind == kind]
    assert run.status in (runs.OK, runs.WARNING), run.error
    assert daemon.active.names() == []


def test_a_failing_job_never_takes_the_daemon_down(tmp_path: Path):
    config = appliance(tmp_path)
    restic = FakeRestic(
        {"check": lambda _: Reply(code=1, stderr="Fatal: repository is damaged\n"), "stats": ok}
    )
    daemon = daemon_of(config, restic, tmp_path)
    daemon.run_job(JobSpec("check:local", "check", "local", "0 1 * * *"))
    db = connect(config.appliance.state_dir)
    (run,) = runs.list_runs(db)
    assert run.kind == "check" and run.status == runs.FAILED


def test_a_stop_interrupts_a_run_that_outlasts_the_grace(tmp_path: Path):
    config = appliance(tmp_path, stop_grace="1s")
    restic = FakeRestic({"check": lambda _: Reply(hang=True)})
    daemon = daemon_of(config, restic, tmp_path)
    db = connect(config.appliance.state_dir)  # made before the job, as the daemon's start does
    job = threading.Thread(
        target=daemon.run_job, args=(JobSpec("check:local", "check", "local", "0 1 * * *"),)
    )
    job.start()
    _until(lambda: "check" in restic.subcommands())
    assert daemon.shutdown(db) == 0
    job.join(timeout=10)
    assert not job.is_alive()
    (run,) = runs.list_runs(db)
    assert run.status == runs.INTERRUPTED
    assert restic.supervisor.stopping
    assert daemon_state.daemon_values(db)["stopped_at"]


def test_a_run_that_ends_within_the_grace_is_not_interrupted(tmp_path: Path):
    config = appliance(tmp_path, stop_grace="1m")
    release = threading.Event()

    def slow_check(_: tuple[str, ...]) -> Reply:
        release.wait(10)
        return Reply()

    restic = FakeRestic({"check": slow_check, "stats": ok})
    daemon = daemon_of(config, restic, tmp_path)
    connect(config.appliance.state_dir).close()  # made before the job, as the daemon's start does
    job = threading.Thread(
        target=daemon.run_job, args=(JobSpec("check:local", "check", "local", "0 1 * * *"),)
    )
    job.start()
    _until(lambda: "check" in restic.subcommands())
    state_dir = config.appliance.state_dir
    stopping = threading.Thread(target=lambda: daemon.shutdown(connect(state_dir)))
    stopping.start()
    _until(lambda: restic.supervisor.draining)
    release.set()
    stopping.join(timeout=10)
    job.join(timeout=10)
    (run,) = runs.list_runs(connect(config.appliance.state_dir))
    assert run.status == runs.OK
    assert not restic.supervisor.stopping, "nothing was interrupted"


def test_a_run_queued_for_a_repository_gives_up_when_the_stop_drains(tmp_path: Path):
    config = appliance(tmp_path, stop_grace="1m")
    restic = FakeRestic({"check": ok, "stats": ok})
    daemon = daemon_of(config, restic, tmp_path)
    holder = Supervisor()  # a technician's command, holding the repository
    db = connect(config.appliance.state_dir)  # made before the job, as the daemon's start does
    with repository_lock(
        config.appliance.state_dir, "local", timeout=5, purpose="restore", supervisor=holder
    ):
        job = threading.Thread(
            target=daemon.run_job, args=(JobSpec("check:local", "check", "local", "0 1 * * *"),)
        )
        job.start()
        _until(lambda: daemon.active.names() == ["check:local"])
        assert daemon.shutdown(db) == 0
        job.join(timeout=10)
    (run,) = runs.list_runs(db)
    assert run.status == runs.INTERRUPTED and "stopped while waiting" in (run.error or "")
    assert restic.subcommands() == [], "restic never started"


def test_active_runs_wake_their_waiter_as_the_last_ends():
    active = ActiveRuns()
    entered, leave = threading.Event(), threading.Event()

    def run() -> None:
        with active.running("backup:office"):
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    entered.wait(10)
    assert not active.wait_idle(0.01)
    leave.set()
    assert active.wait_idle(10)
    thread.join()


def _until(condition: object, seconds: float = 10) -> None:
    """Wait for a condition another thread makes true (the test's only wait)."""
    waiter = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():  # type: ignore[operator]
            return
        waiter.wait(0.01)
    raise AssertionError("condition never became true")


def test_a_failing_upload_is_tried_again_later_and_later_up_to_an_hour():
    from bdr.daemon.uploader import retry_after

    assert [retry_after(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert retry_after(20) == 3600.0
