from bdr.actions.status import daemon_status
from bdr.store import daemon_state
from bdr.store.database import connect


def test_daemon_alive_by_heartbeat(tmp_path):
    db = connect(tmp_path)
    assert daemon_status(db, 1000.0).heartbeat_age is None
    daemon_state.set_daemon_value(db, "heartbeat", "990")
    daemon_state.set_daemon_value(db, "pid", "42")
    status = daemon_status(db, 1000.0)
    assert status.alive and status.pid == 42 and status.heartbeat_age == 10.0
    assert not daemon_status(db, 1100.0).alive  # silent for over a minute
    daemon_state.set_daemon_value(db, "stopped_at", "995")
    assert not daemon_status(db, 1000.0).alive  # stopped cleanly after its last beat


def test_schedule_keeps_last_fire_across_saves(tmp_path):
    db = connect(tmp_path)
    job = daemon_state.ScheduledJob("backup:a", "backup", "a", "0 3 * * *", 2000.0, None)
    daemon_state.save_schedule(db, [job])
    daemon_state.record_fire(db, "backup:a", 1500.0, 2500.0)
    daemon_state.save_schedule(
        db, [job, daemon_state.ScheduledJob("check:c", "check", "c", "0 5 * * *", 9.0, None)]
    )
    saved = {j.job_id: j for j in daemon_state.scheduled_jobs(db)}
    assert saved["backup:a"].last_fire == 1500.0 and saved["backup:a"].next_run == 2000.0
    daemon_state.save_schedule(db, [job])
    assert [j.job_id for j in daemon_state.scheduled_jobs(db)] == ["backup:a"]
