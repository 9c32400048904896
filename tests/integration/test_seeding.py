"""A repository's bandwidth limits reach restic, in their hours only."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.integration.conftest import Appliance


def test_the_clouds_upload_limit_reaches_the_copy_within_its_hours(appliance: Appliance, office):
    appliance.local_repository()
    appliance.local_repository("cloud")
    appliance.repositories["cloud"]["limit_upload"] = 512
    appliance.add_plan("office", [office], copy_to=["cloud"])
    appliance.write()
    appliance.bdr("init")
    done = appliance.bdr("--debug", "backup")
    copies = [
        line for line in done.stderr.splitlines() if "running restic" in line and " copy " in line
    ]
    assert copies and "--limit-upload 512" in copies[0], done.stderr[-2000:]
    backups = [
        line for line in done.stderr.splitlines() if "running restic" in line and " backup " in line
    ]
    assert backups and "--limit-upload" not in backups[0], "the onsite backup is not limited"
    # Quiet hours twelve hours away from now: outside them, no limit.
    away = (datetime.now() + timedelta(hours=12)).hour
    appliance.repositories["cloud"]["limit_hours"] = f"{away:02d}:00-{(away + 1) % 24:02d}:00"
    appliance.write()
    later = appliance.bdr("--debug", "backup")
    copies = [
        line for line in later.stderr.splitlines() if "running restic" in line and " copy " in line
    ]
    assert copies and "--limit-upload" not in copies[0]
    assert len(appliance.snapshot_ids("cloud")) == 2
