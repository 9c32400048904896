"""The MSP's steward keeps an appliance's append-only cloud: checked, then the keep-within
policy from now on its own clock, forged times kept aside and named, then pruned. The
appliance writes through the append-only door of `rclone serve restic`, the steward through
the full-access one."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from tests.integration.conftest import PASSWORD, Appliance
from tests.integration.servers import RcloneRestic

DAY = 86400


def appliance_restic(door: RcloneRestic, repository: str, *args: str) -> str:
    """restic as the appliance runs it: the append-only door, the appliance's login."""
    url = door.url(repository).replace("http://", f"http://{door.user}:{quote(door.password)}@")
    env = {**os.environ, "RESTIC_REPOSITORY": url, "RESTIC_PASSWORD": PASSWORD}
    done = subprocess.run(["restic", *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def backup_at(door: RcloneRestic, repository: str, source: Path, moment: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))
    out = appliance_restic(
        door, repository, "backup", "--json", "--tag", "bdr-plan=office", "--time", when,
        str(source),
    )  # fmt: skip
    return json.loads(out.splitlines()[-1])["snapshot_id"]


def listed(door: RcloneRestic, repository: str) -> list[str]:
    return [
        s["short_id"] for s in json.loads(appliance_restic(door, repository, "snapshots", "--json"))
    ]


def test_the_steward_keeps_by_policy_from_now_and_sets_forged_times_aside(
    tmp_path, office, rclone_doors
):
    door, full = rclone_doors
    repository = "dental-01-steward"
    appliance_restic(door, repository, "init")
    now = time.time()
    days = [backup_at(door, repository, office, now - back * DAY - 60) for back in range(8)]
    future = backup_at(door, repository, office, time.mktime((2030, 1, 1, 0, 0, 0, 0, 0, -1)))
    steward = Appliance(tmp_path / "steward")
    steward.add_repository(
        "dental-01", full.url(repository), env_file=full.env_file(steward.secrets / "full.env")
    )
    steward.add("steward", "dental-01", keep={"within_daily": "3d"})
    steward.write()
    first = steward.bdr("steward", "run", expect=3)
    assert (
        "1 snapshot(s) of dental-01 with a forged time, kept and left out of retention: "
        f"{future}: dated in the future"
    ) in first.stdout
    kinds = [(r["kind"], r["status"]) for r in steward.runs()]
    assert kinds == [("check", "ok"), ("steward", "warning"), ("prune", "ok")]
    # Three days from now, not from 2030: restic's own keep-within would have kept nothing.
    assert sorted(listed(door, repository)) == sorted([*days[:3], future])
    problems = steward.bdr_json("notify", "status")["open"]
    assert [p["key"] for p in problems] == ["test-01:steward:dental-01"]
    metrics = steward.bdr("metrics").stdout
    assert (
        'bdr_steward_last_success_timestamp_seconds{appliance="dental-01",job="retention",repository="dental-01"}'
        in metrics
    )
    # The appliance (or whoever owns it) slips in a snapshot dated three weeks back.
    backdated = backup_at(door, repository, office, now - 21 * DAY)
    second = steward.bdr("steward", "run", expect=3)
    assert f"{backdated}: back-dated" in second.stdout
    assert backdated in listed(door, repository)
    assert [r["status"] for r in steward.runs() if r["kind"] == "steward"][-1] == "warning"
