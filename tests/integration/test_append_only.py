"""An append-only cloud tier (`rclone serve restic --append-only`, as its own user): the
appliance backs up, copies, drills, checks and restores there, and can delete nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.conftest import Appliance


def tree_hashes(root: Path) -> dict[str, str]:
    """Every file the server holds (locks aside: restic's own, created and removed by design)
    with its SHA-256."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "locks" not in path.parts
    }


def test_an_append_only_cloud_works_as_a_tier_and_refuses_every_deletion(
    tmp_path, office, rclone_doors
):
    door, _ = rclone_doors
    appliance = Appliance(tmp_path / "appliance")
    appliance.local_repository()
    appliance.add_repository(
        "cloud", door.url("dental-01"), env_file=door.env_file(appliance.secrets / "cloud.env")
    )
    appliance.repositories["cloud"]["append_only"] = True
    appliance.add_plan("office", [office], copy_to=["cloud"], retention={"last": 1})
    appliance.add("drills", "offsite", plan="office", repository="cloud", rto="1h")
    appliance.add("checks", "cloud", repository="cloud")
    appliance.write()
    checked = appliance.bdr("config", "check")
    assert "plans.office.retention: applies to local only; cloud is append_only" in (
        checked.stdout + checked.stderr
    )
    appliance.bdr("init")
    for _ in range(3):
        appliance.bdr("backup")
    retention = [
        (r["repository"], r["status"]) for r in appliance.runs() if r["kind"] == "retention"
    ]
    assert retention == [("local", "ok")] * 3, "never a forget on the append-only tier"
    assert len(appliance.snapshot_ids("local")) == 1
    listed = appliance.bdr_json("snapshots", "--repository", "cloud")["snapshots"]
    assert len(listed) == 3
    appliance.bdr("drill", "run", "offsite")
    appliance.bdr("check", "cloud")
    appliance.bdr("restore", "office", "--repository", "cloud", "--target", str(tmp_path / "r"))
    restored = tmp_path / "r" / office.relative_to("/")
    assert sorted(p.name for p in restored.rglob("*")) == sorted(p.name for p in office.rglob("*"))
    refused = appliance.bdr("prune", "cloud", expect=2)
    assert "append_only" in refused.stderr
    status = appliance.bdr_json("status")["plans"]
    assert [(t["repository"], t["append_only"]) for t in status] == [
        ("local", False),
        ("cloud", True),
    ]
    # With the appliance's own login, the server refuses to delete or rewrite anything.
    served = door.data / "dental-01"
    before = tree_hashes(served)
    snapshot = next((served / "snapshots").iterdir()).name
    pack = next(p for p in (served / "data").rglob("*") if p.is_file())
    assert door.request("DELETE", f"dental-01/snapshots/{snapshot}") == 403
    assert door.request("DELETE", f"dental-01/data/{pack.name}") == 403
    assert door.request("POST", "dental-01/config", b"not a config") == 403
    assert door.request("POST", f"dental-01/data/{pack.name}", b"junk") == 403
    assert tree_hashes(served) == before
