"""A tier's own settings: bandwidth limits in their hours, a copy schedule, a retention policy."""

from __future__ import annotations

import time
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


def test_a_copy_schedule_of_its_own_keeps_the_copy_out_of_the_backup(appliance: Appliance, office):
    appliance.local_repository()
    appliance.local_repository("cloud")
    appliance.add_plan(
        "office", [office], copy_to=["cloud"], copy_schedule="0 22 * * *", retention={"last": 1}
    )
    appliance.write()
    appliance.bdr("init")
    for _ in range(2):
        done = appliance.bdr("backup")
        assert "copy" not in done.stdout.split(), done.stdout
    assert appliance.snapshot_ids("cloud") == []
    assert len(appliance.snapshot_ids("local")) == 1  # the onsite retention ran
    copied = appliance.bdr("copy", "office")
    kinds = [(r["kind"], r["repository"]) for r in appliance.runs()][-2:]
    assert kinds == [("copy", "cloud"), ("retention", "cloud")], copied.stdout
    assert len(appliance.snapshot_ids("cloud")) == 1


def test_the_cloud_keeps_longer_than_onsite_by_a_policy_of_its_own(appliance: Appliance, office):
    appliance.local_repository()
    appliance.local_repository("cloud")
    appliance.add_plan(
        "office", [office], copy_to=["cloud"], retention={"last": 1},
        tier_retention={"cloud": {"last": 3}},
    )  # fmt: skip
    appliance.write()
    appliance.bdr("init")
    for number in range(4):
        (office / "documents/letters/welcome.txt").write_text(f"version {number}\n")
        appliance.bdr("backup")
    assert len(appliance.snapshot_ids("local")) == 1
    assert len(appliance.snapshot_ids("cloud")) == 3


def test_a_tier_is_late_by_its_own_rpo(appliance: Appliance, office):
    appliance.local_repository()
    appliance.local_repository("cloud")
    # Onsite every few seconds; the cloud, copied nightly, has a day.
    appliance.add_plan("office", [office], copy_to=["cloud"], rpo="2s", tier_rpo={"cloud": "1d"})
    appliance.write()
    appliance.bdr("init")
    appliance.bdr("backup")
    time.sleep(3)
    tiers = {t["repository"]: t for t in appliance.bdr_json("status")["plans"]}
    assert (tiers["local"]["state"], tiers["local"]["rpo_seconds"]) == ("rpo exceeded", 2)
    assert (tiers["cloud"]["state"], tiers["cloud"]["rpo_seconds"]) == ("ok", 86400)
    exported = appliance.bdr("metrics").stdout
    assert 'bdr_rpo_target_seconds{plan="office",repository="cloud"} 86400.0' in exported
    assert 'bdr_rpo_target_seconds{plan="office",repository="local"} 2.0' in exported
