"""bdr never deletes or damages what it does not own (issue 8, cases 1 to 3, 10 to 12)."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import Appliance, make_tree
from tests.integration.daemon import RunningDaemon


# 1. Scratch cleanup removes only what a drill created and marked.
def test_config_check_refuses_scratch_or_state_overlapping_repositories_and_sources(
    appliance: Appliance, office
):
    repo = appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.appliance["scratch_dir"] = str(repo.parent)
    appliance.appliance["state_dir"] = str(office / "documents")
    appliance.write()
    result = appliance.bdr("config", "check", expect=2)
    assert (
        f"appliance.scratch_dir: {repo.parent} contains repositories.local.url ({repo})"
        in result.stderr
    )
    assert (
        f"appliance.state_dir: {office}/documents is inside plans.office.sources.0 ({office})"
        not in result.stderr
    ), "a state_dir inside a source is excluded from the backup, not refused"
    appliance.appliance["state_dir"] = str(appliance.root / "state")
    appliance.appliance["scratch_dir"] = str(appliance.root / "state" / "scratch")
    appliance.write()
    result = appliance.bdr("config", "check", expect=2)
    assert "appliance.scratch_dir" in result.stderr and "is inside appliance.state_dir" in (
        result.stderr
    )
    appliance.add_plan("inside", [appliance.root / "scratchy"])
    appliance.appliance["scratch_dir"] = str(appliance.root)
    appliance.write()
    result = appliance.bdr("config", "check", expect=2)
    assert f"plans.inside.sources.0: {appliance.root}/scratchy is inside appliance.scratch_dir" in (
        result.stderr
    )


def test_daemon_start_removes_only_marked_scratch_of_dead_drills(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="0 3 * * *")
    appliance.bdr("init")
    foreign = appliance.scratch_dir / "for-client" / "invoices"
    foreign.mkdir(parents=True)
    (foreign / "restored-by-hand.pdf").write_bytes(b"the technician's restore")
    unmarked = appliance.scratch_dir / "onsite" / "4242"
    unmarked.mkdir(parents=True)
    (unmarked / "not-ours.txt").write_text("no marker: bdr did not make this")
    marked = appliance.scratch_dir / "onsite" / "4243"
    (marked / "srv" / "data").mkdir(parents=True)
    (marked / ".bdr-scratch").write_text("4243\n")
    (marked / "srv" / "data" / "half-restored.bin").write_bytes(b"x" * 1000)
    daemon = RunningDaemon(appliance)
    try:
        assert not marked.exists()
        assert f"removing scratch {marked} left by dead drill run 4243" in daemon.text()
        assert (foreign / "restored-by-hand.pdf").read_bytes() == b"the technician's restore"
        assert (unmarked / "not-ours.txt").exists()
    finally:
        assert daemon.stop() == 0


def test_restore_refuses_targets_inside_scratch_state_or_a_repository(appliance: Appliance, office):
    repo = appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    for key, inside in (
        ("appliance.scratch_dir", appliance.scratch_dir / "for-client"),
        ("appliance.state_dir", appliance.state_dir / "restore"),
        ("repositories.local.url", repo / "restored"),
    ):
        result = appliance.bdr("restore", "office", "--target", str(inside), expect=2)
        assert f"refusing to restore into {inside}: it is inside {key}" in result.stderr
        assert not inside.exists()


# 2. What bdr owns is never in the client's snapshot.
def test_repository_state_and_scratch_inside_a_source_are_excluded(appliance: Appliance, tmp_path):
    data = make_tree(tmp_path / "srv", {"share/report.txt": "quarterly\n"})
    appliance.add_repository("local", str(data / "bdr" / "repo"))
    appliance.appliance["state_dir"] = str(data / "bdr" / "state")
    appliance.appliance["scratch_dir"] = str(data / "bdr" / "scratch")
    appliance.add_plan("srv", [data])
    appliance.add(
        "drills", "onsite", plan="srv", repository="local", rto="1h", keep_on_failure=True
    )
    appliance.write()
    shown = appliance.bdr("config", "show").stdout
    assert "# plans.srv: bdr also excludes" in shown
    assert str(data / "bdr" / "repo") in shown
    appliance.bdr("init")
    for _ in range(3):
        appliance.bdr("backup")
    appliance.bdr("drill", "run", "onsite")
    appliance.bdr("backup")
    paths = [
        json.loads(line)["path"]
        for line in appliance.restic("local", "ls", "--json", "latest").stdout.splitlines()[1:]
    ]
    ours = [p for p in paths if p.startswith(f"{data}/bdr/")]
    assert ours == [
        f"{data}/bdr/state",
        f"{data}/bdr/state/canary",
        f"{data}/bdr/state/canary/srv",
        f"{data}/bdr/state/canary/srv/bdr-canary.txt",
    ]
    assert f"{data}/share/report.txt" in paths
    (drill,) = appliance.bdr_json("drill", "run", "onsite")
    assert drill["verdict"] == "passed", drill["reason"]


# 3. Two names for one repository.
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("{root}/repo", "{root}/repo/"),
        ("{root}/repo", "local:{root}/x/../repo"),
        ("s3:http://127.0.0.1:8333/bucket", "s3:http://127.0.0.1:8333/bucket/"),
    ],
)
def test_two_repositories_at_one_url_are_refused(appliance: Appliance, office, first, second):
    for name, url in (("local", first), ("offsite", second)):
        appliance.add_repository(name, url.format(root=appliance.root))
    appliance.add_plan("office", [office], copy_to=["offsite"])
    appliance.write()
    result = appliance.bdr("config", "check", expect=2)
    assert "repositories.offsite.url: the same repository as repositories.local.url" in (
        result.stderr
    )


# 10. An env_file holds backend credentials, nothing that redirects restic.
def test_env_file_may_not_set_restic_or_loader_variables(appliance: Appliance, office, tmp_path):
    repo = appliance.local_repository()
    env = appliance.secret(
        "local.env",
        "AWS_ACCESS_KEY_ID=abc\nRESTIC_REPOSITORY=/tmp/elsewhere\nLD_PRELOAD=/x.so\nPATH=/evil\n",
    )
    appliance.repositories["local"]["env_file"] = str(env)
    appliance.add_plan("office", [office])
    appliance.write()
    result = appliance.bdr("config", "check", expect=2)
    for variable in ("RESTIC_REPOSITORY", "LD_PRELOAD", "PATH"):
        assert f"repositories.local.env_file: {env}: {variable} is not a backend credential" in (
            result.stderr
        )
    assert "/tmp/elsewhere" not in result.stderr
    assert not repo.exists()


# 11. A clock that jumped ahead does not hide that backups stopped.
def test_a_future_dated_snapshot_does_not_stay_the_newest(appliance: Appliance, office):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("backup", prefix=["faketime", "-f", "+1d"])
    status = appliance.bdr_json("status")["plans"][0]
    assert status["snapshot_in_future"] is True
    assert status["state"] == "snapshot dated in the future"
    assert "in the future" in appliance.bdr("status").stdout
    appliance.bdr("backup")
    newest = appliance.snapshot_ids("local")[-1]
    status = appliance.bdr_json("status")["plans"][0]
    assert status["snapshot_id"].startswith(newest[:8])
    assert status["snapshot_in_future"] is False
    assert 0 <= status["snapshot_age_seconds"] < 300


# 12. Times that do not exist, or exist twice, are refused; empty options are errors.
@pytest.fixture
def berlin(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.env["TZ"] = "Europe/Berlin"
    appliance.bdr("init")
    appliance.bdr("backup")
    return appliance


def test_as_of_in_a_dst_gap_or_overlap_is_refused(berlin: Appliance, tmp_path):
    target = str(tmp_path / "t")
    gap = berlin.bdr(
        "restore", "office", "--target", target, "--as-of", "2026-03-29 02:30", expect=2
    )
    assert "2026-03-29 02:30 does not exist in Europe/Berlin" in gap.stderr
    assert "+01:00" in gap.stderr or "+02:00" in gap.stderr
    twice = berlin.bdr(
        "restore", "office", "--target", target, "--as-of", "2026-10-25 02:30", expect=2
    )
    assert "2026-10-25 02:30 happens twice in Europe/Berlin" in twice.stderr
    assert "2026-10-25 02:30+02:00" in twice.stderr and "2026-10-25 02:30+01:00" in twice.stderr
    dry = berlin.bdr(
        "restore", "office", "--target", target, "--as-of", "2099-10-25 02:30+01:00", "--dry-run"
    )
    assert "+01:00" in dry.stdout or "+02:00" in dry.stdout, "snapshot times carry their offset"


@pytest.mark.parametrize("option", ["--as-of", "--snapshot", "--include"])
def test_empty_restore_options_are_errors(berlin: Appliance, tmp_path, option):
    result = berlin.bdr("restore", "office", "--target", str(tmp_path / "t"), option, "", expect=2)
    assert f"{option} is empty" in result.stderr
    assert not (tmp_path / "t").exists()


def test_restore_include_is_a_path_not_a_pattern(appliance: Appliance, tmp_path):
    data = make_tree(
        tmp_path / "weird",
        {"weird[1].txt": "brackets\n", "weird1.txt": "decoy\n", "caf\udce9.doc": "latin-1\n"},
    )
    appliance.local_repository()
    appliance.add_plan("weird", [data])
    appliance.bdr("init")
    appliance.bdr("backup")
    for name in ("weird[1].txt", "caf\udce9.doc"):
        target = tmp_path / f"restore-{len(name)}"
        appliance.bdr("restore", "weird", "--target", str(target), "--include", str(data / name))
        restored = [p.name for p in target.rglob("*") if p.is_file()]
        assert restored == [name]
