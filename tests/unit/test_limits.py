"""Bandwidth limits of a repository, and the hours they apply in (pure)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bdr.restic.environment import bandwidth_limits, within_hours
from tests.unit.appliance import office_config


def test_hours_may_wrap_past_midnight():
    at = lambda h, m=0: datetime(2026, 12, 7, h, m)  # noqa: E731
    assert within_hours(None, at(3))
    assert within_hours("07:30-18:00", at(7, 30)) and not within_hours("07:30-18:00", at(18))
    assert within_hours("22:00-06:00", at(23)) and within_hours("22:00-06:00", at(5, 59))
    assert not within_hours("22:00-06:00", at(12))


def test_the_lowest_limit_of_the_repositories_involved_applies_in_its_hours(tmp_path: Path):
    config = office_config(tmp_path)
    from dataclasses import replace

    onsite = config.repositories["local"]
    cloud = replace(onsite, limit_upload=2048, limit_download=8192, limit_hours="08:00-18:00")
    slow = replace(onsite, limit_upload=512)
    noon, night = datetime(2026, 12, 7, 12), datetime(2026, 12, 7, 23)
    assert bandwidth_limits(onsite, cloud, now=noon) == (
        "--limit-upload", "2048", "--limit-download", "8192",
    )  # fmt: skip
    assert bandwidth_limits(onsite, cloud, now=night) == ()
    assert bandwidth_limits(slow, cloud, now=noon) == (
        "--limit-upload",
        "512",
        "--limit-download",
        "8192",
    )
    assert bandwidth_limits(onsite, None, now=noon) == ()
