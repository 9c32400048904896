from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bdr.schedule.clock import Clock
from bdr.schedule.cron import check as check_cron
from bdr.schedule.cron import day_of_week as cron_day_of_week
from bdr.schedule.jobs import JobSpec
from bdr.schedule.scheduler import missed_jobs, next_fire, trigger_for


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("6", "sat"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-wed", "mon,tue,wed"),
    ],
)
def test_cron_days_become_names_apscheduler_cannot_misread(field, names):
    assert cron_day_of_week(field) == names


def test_saturday_is_saturday():
    # cron "6" is Saturday; APScheduler 3 alone would read it as Sunday.
    fire = next_fire("30 2 * * 6", datetime(2026, 11, 25, tzinfo=UTC), UTC)
    assert fire == datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
    assert fire.strftime("%A") == "Saturday"


def test_next_fire_is_strictly_after():
    moment = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert next_fire("0 */4 * * *", moment, UTC) == moment + timedelta(hours=4)


def test_a_faster_clock_runs_cron_minutes_as_seconds():
    origin = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    clock = Clock(speed=60, origin=origin.timestamp())
    trigger = trigger_for("*/5 * * * *", UTC, clock)
    after = origin + timedelta(seconds=1)  # 04:01 on the schedule's clock
    assert trigger.get_next_fire_time(None, after) == origin + timedelta(seconds=5)
    assert trigger_for("*/5 * * * *", UTC).get_next_fire_time(None, after) == origin + timedelta(
        minutes=5
    )
    # APScheduler asks again with the fire it was given: the next slot, never the same one.
    fire = origin + timedelta(seconds=5)
    for _ in range(3):
        following = trigger.get_next_fire_time(fire, fire)
        assert following - fire == timedelta(seconds=5)
        fire = following


def test_six_field_schedules_are_refused():
    with pytest.raises(ValueError, match="must have 5 fields"):
        check_cron("*/5 * * * * *")


def test_missed_jobs_run_once_and_new_jobs_wait():
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    daily = JobSpec("backup:a", "backup", "a", "0 3 * * *")
    fresh = JobSpec("backup:b", "backup", "b", "0 3 * * *")
    recent = JobSpec("check:c", "check", "c", "0 3 * * *")
    last = {
        "backup:a": (now - timedelta(days=3)).timestamp(),  # three slots missed: one run
        "check:c": datetime(2026, 11, 25, 3, 0, tzinfo=UTC).timestamp(),  # ran at its slot
    }
    assert missed_jobs([daily, fresh, recent], last, now, UTC) == [daily]


def test_the_monthly_report_is_a_job_with_or_without_a_reports_section():
    from bdr.config.model import Appliance, Config, Reports, Repository
    from bdr.schedule.jobs import job_specs

    config = Config(
        appliance=Appliance(), repositories={"r": Repository(url="/r", password_command="p")}
    )
    assert job_specs(config)[-1] == JobSpec("report:monthly", "report", "monthly", "0 6 1 * *")
    custom = replace(config, reports=Reports(schedule="30 7 2 * *"))
    assert job_specs(custom)[-1].cron == "30 7 2 * *"


FIELD_FORMS = {
    "minute": ["*", "0", "59", "*/1", "*/59", "0-59/15", "5,10-20/5", "0-0"],
    "hour": ["*", "23", "*/23", "1-5", "0,12"],
    "day": ["*", "1", "31", "*/30", "1-15/7"],
    "month": ["*", "12", "jan", "JAN-mar", "*/11"],
    "weekday": ["*", "0", "7", "sun", "mon-fri", "*/6", "1-5/2"],
}


def test_every_schedule_the_config_accepts_is_one_apscheduler_can_run():
    """The config's own cron check and APScheduler's parser must agree: a schedule that passes
    `config check` and fails in the daemon stopped the daemon (0-59/, */<huge>)."""
    import itertools
    from zoneinfo import ZoneInfo

    from bdr.schedule.scheduler import trigger_for

    accepted = 0
    for fields in itertools.product(*FIELD_FORMS.values()):
        cron = " ".join(fields)
        check_cron(cron)  # all of these are valid
        trigger_for(cron, ZoneInfo("Europe/Berlin"))
        accepted += 1
    assert accepted == 8 * 5 * 5 * 5 * 7
    # "0-0/1" was refused by the hand-written copy of APScheduler's rules; APScheduler runs it
    # (minute 0), and the check is APScheduler's own now.
    for bad in ("0-59/ * * * *", "*/60 * * * *", "* * * */12 *", "1-5/7 * * * *"):
        with pytest.raises(ValueError):
            check_cron(bad)


def test_prune_is_a_job_per_repository_a_plan_with_retention_writes_to():
    from bdr.config.model import Appliance, Config, Plan, Repository, Retention
    from bdr.schedule.jobs import job_specs

    repositories = {
        name: Repository(url=f"/{name}", password_command="p") for name in ("a", "b", "spare")
    }
    repositories["b"] = replace(repositories["b"], prune_schedule="0 3 * * 1")
    config = Config(
        appliance=Appliance(),
        repositories=repositories,
        plans={
            "kept": Plan(
                sources=["/x"], repository="a", copy_to=["b"], retention=Retention(last=3)
            ),
            "forever": Plan(sources=["/y"], repository="spare"),
        },
    )
    prunes = {s.job_id: s.cron for s in job_specs(config) if s.kind == "prune"}
    assert prunes == {"prune:a": "0 4 * * 0", "prune:b": "0 3 * * 1"}
