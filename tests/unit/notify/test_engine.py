"""Problems, not events: opened once, reminded at most every `remind`, resolved once.

Runs are written through the store (SQLite is a library here) with an injected clock; the
outbox is read back. Nothing is delivered: delivery is tested against real servers.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from bdr.config.model import Appliance, Config, Notify, Plan, Repository
from bdr.notify.engine import Notifier
from bdr.notify.messages import SUBJECT
from bdr.store import outbox, problems, runs
from bdr.store.database import connect

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path: Path):
    urls = tmp_path / "notify.urls"
    urls.write_text("json://127.0.0.1:9/a\nmailtos://u:p@127.0.0.1:25?to=x@y.test\n")
    os.chmod(urls, 0o600)
    config = Config(
        appliance=Appliance(id="acme-01", client="Acme", state_dir=tmp_path / "state"),
        repositories={"local": Repository(url=str(tmp_path / "repo"), password_command="p")},
        plans={
            "office": Plan(sources=["/srv"], repository="local", rpo=4 * 3600),
            "mail": Plan(sources=["/var/mail"], repository="local"),
        },
        # The machine's own disk (a CI run's, nearly full) opens no problem in these tests.
        notify=Notify(urls_file=urls, remind=6 * 3600, min_free="1KiB"),
    )
    db = connect(config.appliance.state_dir)
    clock = Clock()
    return config, db, clock


def backup(
    db, clock, status, plan="office", error="backup of plan office: a source is unreadable",
    kind="backup", repository="local", subject=None,
):  # fmt: skip
    run_id = runs.start_run(db, kind, plan=plan, repository=repository, subject=subject, now=clock)
    runs.finish_run(
        db,
        run_id,
        status,
        error=None if status == runs.OK else error,
        snapshot_id="abcd1234" if status == runs.OK else None,
        now=clock,
    )
    return run_id


def messages(db):
    return db.execute("SELECT event, target, subject, body FROM outbox ORDER BY id").fetchall()


def test_ten_failures_one_message_per_target_then_one_resolved(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    for _ in range(10):
        notifier.after_run(backup(db, clock, runs.FAILED))
        clock.now += 60
    sent = messages(db)
    assert [row["event"] for row in sent] == ["opened", "opened"]  # one per URL
    assert len({row["target"] for row in sent}) == 2
    (problem,) = problems.all_open(db)
    assert problem.occurrences == 10 and problem.severity == problems.FAILURE
    good = backup(db, clock, runs.OK)
    notifier.after_run(good)
    resolved = messages(db)[2:]
    assert [row["event"] for row in resolved] == ["resolved", "resolved"]
    opened_subject = SUBJECT.match(sent[0]["subject"])
    resolved_subject = SUBJECT.match(resolved[0]["subject"])
    assert opened_subject and resolved_subject
    assert opened_subject["level"] == "FAIL" and resolved_subject["level"] == "OK"
    assert opened_subject["reason"] == resolved_subject["reason"]
    assert "open for 10m 00s" in resolved[0]["body"]
    assert problems.all_open(db) == [] and problems.recent(db)[0].resolved_by == good


def test_reminders_only_after_remind(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.FAILED))
    for _ in range(5):  # the daemon evaluates every minute; an hour passes each time here
        clock.now += HOUR
        notifier.remind()
    assert [row["event"] for row in messages(db)] == ["opened"] * 2
    clock.now += HOUR  # six hours since the opening
    notifier.remind()
    notifier.remind()
    events = [row["event"] for row in messages(db)]
    assert events == ["opened"] * 2 + ["reminder"] * 2
    subjects = {row["subject"] for row in messages(db)}
    assert len(subjects) == 1  # the reminder threads with the opening


def test_remind_zero_never_reminds(setup):
    config, db, clock = setup
    config = replace(config, notify=replace(config.notify, remind=0))
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.FAILED))
    clock.now += 30 * 86400
    notifier.remind()
    assert [row["event"] for row in messages(db)] == ["opened"] * 2


def test_two_plans_are_two_problems_and_a_partial_is_a_warning(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.FAILED))
    notifier.after_run(backup(db, clock, runs.WARNING, plan="mail", error="2 files unreadable"))
    keys = {(p.key, p.severity) for p in problems.all_open(db)}
    assert keys == {("acme-01:backup:office", "failure"), ("acme-01:backup:mail", "warning")}
    levels = sorted(SUBJECT.match(row["subject"])["level"] for row in messages(db))
    assert levels == ["FAIL", "FAIL", "WARN", "WARN"]


def test_below_min_severity_is_tracked_but_not_sent_nor_resolved_by_mail(setup):
    config, db, clock = setup
    config = replace(config, notify=replace(config.notify, min_severity="failure"))
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.WARNING, error="2 files unreadable"))
    assert len(problems.all_open(db)) == 1 and messages(db) == []
    notifier.after_run(backup(db, clock, runs.OK))
    assert problems.all_open(db) == [] and messages(db) == []


def test_an_rpo_breach_opens_without_a_run_and_clears(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    runs.record_latest_snapshot(db, "office", "local", "abcd1234", clock.now, now=clock)
    runs.record_latest_snapshot(db, "mail", "local", "bcde2345", clock.now + 10 * HOUR)
    clock.now += 3 * HOUR
    notifier.evaluate()
    assert problems.open_for(db, "acme-01:rpo:office/local") is None
    clock.now += 2 * HOUR  # five hours: over the 4 h RPO
    notifier.evaluate()
    problem = problems.open_for(db, "acme-01:rpo:office/local")
    assert problem is not None and problem.title == "newest snapshot older than the RPO of 4h 00m"
    assert "is 5h 00m old" in problem.last_reason
    runs.record_latest_snapshot(db, "office", "local", "cdef3456", clock.now)
    notifier.evaluate()
    assert problems.open_for(db, "acme-01:rpo:office/local") is None
    assert [row["event"] for row in messages(db)] == ["opened"] * 2 + ["resolved"] * 2


def test_the_verified_rpo_names_only_a_verified_snapshot_that_still_exists(setup):
    from bdr.config.model import Drill
    from bdr.store import verified
    from bdr.store.outcomes import DrillOutcome

    config, db, clock = setup
    config = replace(
        config,
        drills={"onsite": Drill(plan="office", repository="local", rto=3600)},
        notify=replace(config.notify, verified_max_age=2 * 86400),
    )
    notifier = Notifier(config, db, now=clock)
    for snapshot, taken in (("aaaa1111", clock.now - 3 * 86400), ("bbbb2222", clock.now)):
        run_id = runs.start_run(db, "drill", plan="office", repository="local", subject="onsite")
        outcome = DrillOutcome(verdict="passed", snapshot_time=taken)
        runs.finish_run(
            db, run_id, runs.OK, snapshot_id=snapshot, snapshot_time=taken, outcome=outcome
        )
    notifier.evaluate()
    assert problems.open_for(db, "acme-01:verified-rpo:office/local") is None
    # The verified snapshot is forgotten by hand: the one verified before it is 3 days old.
    verified.note_listing(db, "office", "local", ["aaaa1111" + "0" * 56])
    notifier.evaluate()
    problem = problems.open_for(db, "acme-01:verified-rpo:office/local")
    assert problem is not None
    assert problem.last_reason == "the newest snapshot that passed a drill is 3d 0h old (aaaa1111)"
    verified.note_listing(db, "office", "local", [])
    notifier.evaluate()
    problem = problems.open_for(db, "acme-01:verified-rpo:office/local")
    assert problem.last_reason == "no snapshot of this tier that still exists has passed a drill"


def test_outbox_backs_off_and_gives_up_after_three_days(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.FAILED))
    first = outbox.due(db, clock.now)[0]
    outbox.failed(db, first, "connection refused", clock.now)
    assert [m.id for m in outbox.due(db, clock.now + 29)] == [first.id + 1]
    again = outbox.due(db, clock.now + 30)[0]
    assert again.id == first.id and again.attempts == 1
    outbox.failed(db, again, "connection refused", clock.now + 30)
    assert outbox.due(db, clock.now + 30 + 59)[0].id != first.id  # the next wait is a minute
    late = outbox.due(db, clock.now + 4 * 86400)
    outbox.failed(db, late[0], "still refused", clock.now + 4 * 86400)
    assert outbox.sent_counts(db) == {"sent": 0, "failed": 3, "given_up": 1}
    assert outbox.pending_count(db) == 1


def test_one_broken_cloud_password_is_one_ticket_naming_the_jobs_it_broke(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    refused = "copy to cloud: storage refused the credentials: 401 Unauthorized"
    notifier.after_run(backup(db, clock, runs.OK))  # the onsite backup stands
    notifier.after_run(backup(db, clock, runs.FAILED, kind="copy", repository="cloud",
                              error=refused))  # fmt: skip
    clock.now += 60
    notifier.after_run(backup(db, clock, runs.FAILED, kind="drill", repository="cloud",
                              subject="offsite", error="drill offsite: " + refused))  # fmt: skip
    notifier.after_run(backup(db, clock, runs.FAILED, kind="check", repository="cloud",
                              plan=None, error="check of cloud: " + refused))  # fmt: skip
    (problem,) = problems.all_open(db)
    assert problem.key == "acme-01:repository:cloud"
    assert problem.title == "repository cloud: refused the credentials"
    assert problem.last_reason.endswith("jobs it broke: copy of office, drill offsite, check")
    assert [row["event"] for row in messages(db)] == ["opened", "opened"]  # one per URL
    # Any job that reaches the cloud again resolves it.
    notifier.after_run(backup(db, clock, runs.OK, kind="copy", repository="cloud"))
    assert problems.all_open(db) == []


def test_a_job_that_fails_for_its_own_reason_keeps_its_own_ticket(setup):
    config, db, clock = setup
    notifier = Notifier(config, db, now=clock)
    notifier.after_run(backup(db, clock, runs.FAILED, kind="drill", repository="local",
                              subject="onsite", error="drill onsite: 3 files differ"))  # fmt: skip
    (problem,) = problems.all_open(db)
    assert problem.key == "acme-01:drill:onsite"
