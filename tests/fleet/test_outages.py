"""Case 2: the cloud outage. The MSP's cloud frozen in the middle of a copy, and an
appliance cut off from it in the middle of a drill of the cloud tier."""

from __future__ import annotations

import json
from typing import Any

from tests.fleet import engine
from tests.fleet.conftest import PROJECT, Fleet, container

A = "appliance-a"


def _snapshots(fleet: Fleet, repository: str) -> list[str]:
    """The times of the repository's snapshots (a copy has an id of its own, and its time)."""
    listed = fleet.bdr_json(A, "snapshots", "--repository", repository)
    return sorted(row["time"] for row in listed["snapshots"])


def _tiers(fleet: Fleet) -> dict[str, dict[str, Any]]:
    return {row["repository"]: row for row in fleet.bdr_json(A, "status")["plans"]}


def test_a_frozen_cloud_fails_the_copy_and_the_next_backup_copies_what_it_missed(fleet: Fleet):
    fleet.bdr(A, "init")
    fleet.bdr(A, "backup")
    local_before = _snapshots(fleet, "local")
    backup = fleet.start(A, "backup")
    fleet.wait_line(backup, "copying plan share")
    engine.docker("pause", container("cloud"))
    try:
        out, err = backup.communicate(timeout=180)
        assert backup.returncode == 1, out + err
        (copy,) = [line for line in out.splitlines() if line.startswith("copy")]
        assert "failed" in copy and "timed out after 20s" in copy, copy
        local = _snapshots(fleet, "local")
        assert len(local) == len(local_before) + 1  # the local snapshot stands
        tiers = _tiers(fleet)
        assert tiers["cloud"]["last_run"]["status"] == "failed"
        assert tiers["cloud"]["snapshot_age_seconds"] > tiers["local"]["snapshot_age_seconds"]
        fleet.wait_for(
            "the failed copy in the central Prometheus",
            lambda: fleet.query(
                'bdr_backup_last_status{appliance="dental-01", repository="cloud"} == 0'
            ),
        )
    finally:
        engine.docker("unpause", container("cloud"))
    assert _snapshots(fleet, "cloud")[-1] < local[-1]  # the cloud tier is behind
    # The frozen cloud kept restic's lock; the next copy finds it stale and goes on.
    fleet.bdr(A, "backup")
    assert _snapshots(fleet, "cloud") == _snapshots(fleet, "local")
    fleet.bdr(A, "check", "cloud")  # restic check of the cloud repository: clean
    assert _tiers(fleet)["cloud"]["last_run"]["status"] == "ok"


def test_a_partition_during_a_cloud_drill_is_an_error_and_leaves_no_scratch(fleet: Fleet):
    fleet.bdr(A, "init")
    fleet.bdr(A, "backup")
    drill = fleet.start(A, "--json", "drill", "run", "share-cloud")
    fleet.wait_line(drill, "restoring")
    network = f"{PROJECT}_wan"
    engine.docker("network", "disconnect", network, container(A))
    try:
        out, err = drill.communicate(timeout=180)
    finally:
        engine.docker("network", "connect", network, container(A))
    assert drill.returncode == 1, out + err
    (result,) = json.loads(out)  # one drill
    assert result["verdict"] == "error", result
    fleet.wait_for(
        "the drill's scratch removed",
        lambda: fleet.exec(A, "find", "/srv/bdr/scratch", "-mindepth", "1").stdout == "" or None,
        timeout=60,
    )
