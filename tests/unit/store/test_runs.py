"""The history store (SQLite is a library here, not a process)."""

import sqlite3

import pytest

from bdr.errors import BdrError
from bdr.store import runs
from bdr.store.database import connect
from bdr.store.outcomes import BackupOutcome, DrillOutcome
from bdr.store.schema import SCHEMA_VERSION


def test_runs_are_written_at_start_and_at_end(tmp_path):
    db = connect(tmp_path)
    run_id = runs.start_run(db, "backup", plan="office", repository="onsite", now=lambda: 100.0)
    assert runs.get_run(db, run_id).status == runs.RUNNING
    runs.finish_run(
        db,
        run_id,
        runs.WARNING,
        snapshot_id="abcd1234",
        exit_code=3,
        error="partial backup",
        outcome=BackupOutcome(missing_sources=("/x",)),
        now=lambda: 130.0,
    )
    run = runs.get_run(connect(tmp_path), run_id)
    assert (run.status, run.duration, run.outcome) == (
        runs.WARNING,
        30.0,
        BackupOutcome(missing_sources=("/x",)),
    )


def test_database_is_wal_and_versioned(tmp_path):
    db = connect(tmp_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    connect(tmp_path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(BdrError, match="newer than this bdr knows"):
        connect(tmp_path)


def test_runs_of_dead_processes_become_interrupted(tmp_path):
    db = connect(tmp_path)
    mine = runs.start_run(db, "backup", plan="a")
    dead = runs.start_run(db, "backup", plan="b")
    # A pid far beyond pid_max cannot belong to a live process.
    db.execute("UPDATE runs SET pid = 2147483000 WHERE id = ?", (dead,))
    assert runs.recover_dead_runs(db) == [dead]
    assert runs.get_run(db, dead).status == runs.INTERRUPTED
    assert runs.get_run(db, mine).status == runs.RUNNING


def test_reused_pid_is_recognised(tmp_path):
    db = connect(tmp_path)
    run_id = runs.start_run(db, "backup")
    db.execute("UPDATE runs SET pid_start = '1' WHERE id = ?", (run_id,))
    assert runs.recover_dead_runs(db) == [run_id]


def test_latest_snapshot_is_the_last_recorded_even_when_older(tmp_path):
    db = connect(tmp_path)
    runs.record_latest_snapshot(db, "p", "r", "future-dated", 200.0)
    runs.record_latest_snapshot(db, "p", "r", "after-the-clock-fix", 100.0)
    assert runs.latest_snapshot(db, "p", "r") == runs.LatestSnapshot("after-the-clock-fix", 100.0)


def test_finish_run_stores_names_that_are_not_utf8(tmp_path):
    db = connect(tmp_path)
    run_id = runs.start_run(db, "drill")
    runs.finish_run(
        db,
        run_id,
        runs.FAILED,
        error="1 file(s) differ (first: /srv/caf\udce9.doc)",
        outcome=DrillOutcome(extra=("/srv/caf\udce9.doc",)),
    )
    run = runs.get_run(db, run_id)
    assert run.status == runs.FAILED
    assert run.error == "1 file(s) differ (first: /srv/caf\\xe9.doc)"
    assert run.outcome == DrillOutcome(extra=("/srv/caf\udce9.doc",))


def test_last_run_filters(tmp_path):
    db = connect(tmp_path)
    first = runs.start_run(db, "backup", plan="p", repository="r", now=lambda: 1.0)
    runs.finish_run(db, first, runs.OK)
    second = runs.start_run(db, "backup", plan="p", repository="r", now=lambda: 2.0)
    runs.finish_run(db, second, runs.FAILED, error="boom")
    assert runs.last_run(db, "backup", plan="p").id == second
    assert runs.last_run(db, "backup", plan="p", statuses=(runs.OK,)).id == first
    assert runs.last_run(db, "copy") is None


def test_cannot_end_as_running(tmp_path):
    db = connect(tmp_path)
    with pytest.raises(ValueError):
        runs.finish_run(db, runs.start_run(db, "backup"), runs.RUNNING)


def test_migration_from_empty_database(tmp_path):
    sqlite3.connect(tmp_path / "bdr.sqlite").close()
    db = connect(tmp_path)
    assert {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "runs",
        "latest_snapshots",
    }


def test_run_counts_follow_every_write_and_survive_the_upgrade_from_schema_10(tmp_path):
    from bdr.store.database import _statements
    from bdr.store.schema import MIGRATIONS

    # A history as the release before the counts wrote it: schema 10, runs already in it.
    old = sqlite3.connect(tmp_path / "bdr.sqlite")
    for step in MIGRATIONS[:10]:
        for statement in _statements(step):
            old.execute(statement)
    old.execute("PRAGMA user_version = 10")
    old.executemany(
        "INSERT INTO runs (kind, status, started_at, host, pid) VALUES (?, ?, 1.0, 'h', 1)",
        [("backup", "ok")] * 3 + [("backup", "failed"), ("drill", "ok")],
    )
    old.commit()
    old.close()
    db = connect(tmp_path)
    assert runs.counts(db) == {("backup", "ok"): 3, ("backup", "failed"): 1, ("drill", "ok"): 1}
    running = runs.start_run(db, "check", repository="local")
    assert runs.counts(db)[("check", "running")] == 1
    runs.finish_run(db, running, runs.OK)
    counted = runs.counts(db)
    assert ("check", "running") not in counted and counted[("check", "ok")] == 1
    db.execute("DELETE FROM runs WHERE kind = 'drill'")
    assert ("drill", "ok") not in runs.counts(db)
    truth = db.execute("SELECT kind, status, COUNT(*) FROM runs GROUP BY kind, status")
    assert runs.counts(db) == {(kind, status): n for kind, status, n in truth}
    # Each job's last good run before a period is found, for jobs of before the upgrade (the
    # migration listed them) and after it (the trigger does).
    for start in (20.0, 30.0):
        done = runs.start_run(db, "check", repository="cloud", now=lambda at=start: at)
        runs.finish_run(db, done, runs.OK if start == 20.0 else runs.FAILED)
    before = {
        (run.kind, run.repository, run.started_at) for run in runs.runs_for_period(db, 40, 50)
    }
    assert before == {("backup", None, 1.0), ("check", "cloud", 20.0)}
