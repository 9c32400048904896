"""What bdr owns: overlaps refused, owned paths inside sources excluded, the canary kept."""

from dataclasses import replace
from pathlib import Path

from bdr.config.model import Appliance, Config, Plan, Repository
from bdr.config.ownership import backup_set, ownership_problems, same_repository_key


def config(tmp_path: Path, **plans: Plan) -> Config:
    return Config(
        appliance=Appliance(state_dir=tmp_path / "srv/bdr/state", scratch_dir=tmp_path / "scratch"),
        repositories={
            "local": Repository(url=str(tmp_path / "srv/bdr/repo"), password_command="p"),
            "cloud": Repository(url="s3:https://s3.example.com/bucket", password_command="p"),
        },
        plans=plans,
    )


def test_a_sane_layout_has_no_problems(tmp_path):
    plan = Plan(sources=[str(tmp_path / "data")], repository="local", exclude=["*.tmp"])
    assert ownership_problems(config(tmp_path, p=plan)) == []


def test_scratch_containing_the_repository_and_a_source_inside_state_are_refused(tmp_path):
    plan = Plan(sources=[str(tmp_path / "srv/bdr/state/x")], repository="local")
    cfg = replace(
        config(tmp_path, p=plan),
        appliance=Appliance(state_dir=tmp_path / "srv/bdr/state", scratch_dir=tmp_path),
    )
    problems = ownership_problems(cfg)
    assert f"appliance.scratch_dir: {tmp_path} contains appliance.state_dir" in problems[0]
    assert any(
        p.startswith("appliance.scratch_dir") and "repositories.local.url" in p for p in problems
    )
    assert any(
        p.startswith("plans.p.sources.0:") and "inside appliance.state_dir" in p for p in problems
    )


def test_one_repository_under_two_spellings():
    assert same_repository_key("/x/repo") == same_repository_key("local:/x/../x/repo/")
    assert same_repository_key("s3:https://h/b") == same_repository_key("s3:https://h/b/")
    assert same_repository_key("s3:https://h/b") != same_repository_key("s3:https://h/c")


def test_owned_paths_inside_a_source_are_excluded_but_the_canary_stays(tmp_path):
    state = tmp_path / "srv/bdr/state"
    for child in ("locks", "cache", "canary/p", "canary/other"):
        (state / child).mkdir(parents=True)
    (state / "bdr.sqlite").write_text("")
    plan = Plan(sources=[str(tmp_path / "srv")], repository="local")
    selection = backup_set(config(tmp_path, p=plan), "p", plan)
    assert selection.automatic == tuple(
        sorted(
            str(tmp_path / "srv/bdr" / name)
            for name in (
                "repo",
                "state/bdr.sqlite",
                "state/cache",
                "state/canary/other",
                "state/locks",
            )
        )
    )
    assert selection.canary_dir == str(state / "canary/p")


def test_an_exclude_matching_the_canary_is_anchored_under_the_sources(tmp_path):
    data = tmp_path / "da[ta]"
    plan = Plan(sources=[str(data)], repository="local", exclude=["*.txt", "*.tmp"])
    selection = backup_set(config(tmp_path, p=plan), "p", plan)
    assert selection.excludes == (str(tmp_path) + r"/da\[ta\]/**/*.txt", "*.tmp")
    assert selection.problems == ()


def test_an_anchored_exclude_of_the_canary_is_a_config_problem(tmp_path):
    plan = Plan(sources=[str(tmp_path / "data")], repository="local", exclude=[f"{tmp_path}/srv"])
    (problem,) = backup_set(config(tmp_path, p=plan), "p", plan).problems
    assert problem.startswith("plans.p.exclude.0:") and "would exclude bdr's canary" in problem


def test_a_symlinked_source_is_backed_up_as_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    plan = Plan(sources=[str(tmp_path / "link")], repository="local")
    (source,) = backup_set(config(tmp_path, p=plan), "p", plan).sources
    assert (source.configured, source.backed_up) == (str(tmp_path / "link"), str(tmp_path / "real"))


def test_reports_in_the_scratch_area_or_a_repository_are_refused(tmp_path):
    from bdr.config.model import Reports

    cfg = config(tmp_path)
    assert ownership_problems(cfg) == []  # state_dir/reports by default
    for inside in (tmp_path / "scratch/reports", tmp_path / "srv/bdr/repo/reports"):
        wrong = replace(cfg, reports=Reports(output_dir=inside))
        (problem,) = ownership_problems(wrong)
        assert problem.startswith(f"reports.output_dir: {inside} overlaps ")
    mine = replace(cfg, reports=Reports(output_dir=tmp_path / "reports"))
    assert ownership_problems(mine) == []
