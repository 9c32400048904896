"""The steward's policy: kept from now on its own clock, forged times set aside."""

from datetime import UTC, datetime

from bdr.config.model import Keep
from bdr.steward.policy import Listed, forged, kept

DAY = 86400.0
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC).timestamp()
OFFICE = ("bdr-plan=office",)


def daily(days: int, group: tuple[str, ...] = OFFICE, prefix: str = "s") -> list[Listed]:
    """Two snapshots a day, 06:00 ("am") and 10:00 ("pm") UTC, for `days` days up to today."""
    found = []
    for back in range(days):
        day = NOW - back * DAY
        found += [
            Listed(f"{prefix}{back}am", day - 6 * 3600, group),
            Listed(f"{prefix}{back}pm", day - 2 * 3600, group),
        ]
    return found


def test_within_daily_keeps_the_newest_of_each_day_in_the_window():
    listed = daily(10)
    chosen = kept(listed, Keep(within_daily=3 * 86400), now=NOW, zone=UTC)
    assert chosen == {"s0pm", "s1pm", "s2pm"}


def test_within_keeps_every_snapshot_that_young_and_the_newest_always():
    listed = daily(10)
    assert kept(listed, Keep(within=86400), now=NOW, zone=UTC) == {"s0am", "s0pm"}
    # Nothing in the window: the newest stays all the same.
    old = [Listed("a", NOW - 100 * DAY, OFFICE), Listed("b", NOW - 90 * DAY, OFFICE)]
    assert kept(old, Keep(within=86400), now=NOW, zone=UTC) == {"b"}


def test_each_plan_is_decided_on_its_own():
    listed = daily(5) + daily(5, ("bdr-plan=photos",), "p")
    chosen = kept(listed, Keep(within_daily=86400), now=NOW, zone=UTC)
    assert chosen == {"s0pm", "p0pm"}


def test_a_snapshot_dated_in_the_future_is_forged_and_moves_nothing():
    listed = [*daily(10), Listed("x2030", datetime(2030, 1, 1, tzinfo=UTC).timestamp(), OFFICE)]
    untrusted = forged(listed, now=NOW, previous_look=None, seen_before=set(), max_backup_time=DAY)
    assert untrusted == {"x2030": "dated in the future"}
    trusted = [s for s in listed if s.id not in untrusted]
    # restic's keep-within would count from 2030 and keep nothing of 2026 but the newest.
    assert kept(trusted, Keep(within_daily=3 * DAY), now=NOW, zone=UTC) == {"s0pm", "s1pm", "s2pm"}


def test_a_snapshot_new_since_the_previous_look_but_dated_long_before_it_is_back_dated():
    previous = NOW - DAY
    listed = [
        Listed("old", NOW - 30 * DAY, OFFICE),  # seen at the previous look
        Listed("backdated", NOW - 20 * DAY, OFFICE),  # new, claims to be 20 days old
        Listed("long-backup", previous - 2 * DAY, OFFICE),  # new, within a long backup's time
        Listed("fresh", NOW - 3600, OFFICE),
    ]
    untrusted = forged(
        listed, now=NOW, previous_look=previous, seen_before={"old"}, max_backup_time=3 * DAY
    )
    assert list(untrusted) == ["backdated"]
    assert untrusted["backdated"].startswith("back-dated")
    # The first look cannot tell: nothing is back-dated then.
    assert forged(listed, now=NOW, previous_look=None, seen_before=set(), max_backup_time=DAY) == {}
