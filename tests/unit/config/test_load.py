"""Config validation: every bad input gets a message with its key path, all at once."""

import os
import textwrap
from pathlib import Path

import pytest

from bdr.config.load import load_config, validate, warnings
from bdr.errors import ConfigError, ExitCode, UsageError


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir()
    for name in ("local.pass", "cloud.pass"):
        (directory / name).write_text("secret\n")
        os.chmod(directory / name, 0o600)
    env = directory / "cloud.env"
    env.write_text("AWS_ACCESS_KEY_ID=key\nAWS_SECRET_ACCESS_KEY='s e c'\n")
    os.chmod(env, 0o600)
    return directory


def base(secrets: Path) -> dict:
    return {
        "appliance": {"client": "Acme", "id": "acme-01", "state_dir": "/var/lib/bdr"},
        "repositories": {
            "local": {"url": "/srv/repo", "password_file": str(secrets / "local.pass")},
            "cloud": {
                "url": "s3:https://s3.example.com/b",
                "password_file": str(secrets / "cloud.pass"),
                "env_file": str(secrets / "cloud.env"),
            },
        },
        "plans": {
            "fileserver": {
                "sources": ["/mnt/fileserver"],
                "repository": "local",
                "copy_to": ["cloud"],
                "schedule": "0 */4 * * *",
                "rpo": "4h",
                "retention": {"daily": 14, "weekly": 8},
                "before": [["/usr/local/bin/dump-db", "--out", "/mnt/fileserver/db.dump"]],
            }
        },
        "drills": {
            "onsite": {
                "plan": "fileserver",
                "repository": "local",
                "rto": "1h",
                "checks": [{"run": ["true"], "expect": "ok"}],
            },
            "offsite": {
                "plan": "fileserver",
                "repository": "cloud",
                "kind": "sample",
                "sample": "5%",
            },
        },
        "checks": {"cloud": {"repository": "cloud", "read_data_cycle": 30}},
    }


def problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate(raw, source="test.toml")
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.problems


def test_valid_config_has_typed_values(secrets):
    config = validate(base(secrets), source="test.toml")
    plan = config.plans["fileserver"]
    assert plan.rpo == 4 * 3600
    assert plan.retention is not None and plan.retention.daily == 14
    assert config.drills["onsite"].rto == 3600
    assert config.appliance.lock_timeout == 3600


def test_unknown_key_is_an_error_with_its_path(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["retention"]["daly"] = 7
    (problem,) = problems(raw)
    assert problem.startswith("plans.fileserver.retention.daly: unknown key")


def test_every_error_is_reported_at_once(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["rpo"] = "four hours"
    raw["plans"]["fileserver"]["schedule"] = "0 */4 * *"
    raw["plans"]["fileserver"]["retention"]["daily"] = 0
    raw["plans"]["fileserver"]["copy_to"] = ["offsite"]
    raw["drills"]["onsite"]["rto"] = "soon"
    found = problems(raw)
    paths = sorted(problem.split(":")[0] for problem in found)
    assert paths == [
        # cloud is no longer one of the plan's tiers, so the offsite drill has nothing to restore
        "drills.offsite.repository",
        "drills.onsite.rto",
        "plans.fileserver.copy_to",
        "plans.fileserver.retention.daily",
        "plans.fileserver.rpo",
        "plans.fileserver.schedule",
    ]
    assert "plans.fileserver.copy_to: no repository named 'offsite'" in found


def test_plan_repository_must_exist(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["repository"] = "nas"
    assert "plans.fileserver.repository: no repository named 'nas'" in problems(raw)


def test_missing_required_key(secrets):
    raw = base(secrets)
    del raw["plans"]["fileserver"]["sources"]
    assert problems(raw) == ["plans.fileserver.sources: is required"]


def test_relative_source(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["sources"] = ["data"]
    assert "must be an absolute path" in problems(raw)[0]


def test_password_file_must_exist(secrets):
    raw = base(secrets)
    raw["repositories"]["local"]["password_file"] = str(secrets / "nope.pass")
    assert problems(raw) == [
        f"repositories.local.password_file: file {secrets / 'nope.pass'} does not exist"
    ]


def test_password_file_readable_by_others_is_refused(secrets):
    os.chmod(secrets / "local.pass", 0o644)
    (problem,) = problems(base(secrets))
    assert problem.startswith("repositories.local.password_file:")
    assert "mode 0644" in problem and "chmod 600" in problem


def test_env_file_open_to_group_is_refused(secrets):
    os.chmod(secrets / "cloud.env", 0o640)
    (problem,) = problems(base(secrets))
    assert problem.startswith("repositories.cloud.env_file:") and "mode 0640" in problem


def test_env_file_syntax_error_names_line_not_value(secrets):
    (secrets / "cloud.env").write_text("AWS_ACCESS_KEY_ID=key\nthis is not valid topsecret\n")
    (problem,) = problems(base(secrets))
    assert "line 2 is not KEY=VALUE" in problem
    assert "topsecret" not in problem


def test_exactly_one_password_source(secrets):
    raw = base(secrets)
    raw["repositories"]["local"]["password_command"] = "pass show bdr"
    (problem,) = problems(raw)
    assert problem == "repositories.local: set exactly one of password_file and password_command"


def test_drill_references_and_sample(secrets):
    raw = base(secrets)
    raw["drills"]["onsite"]["plan"] = "mail"
    raw["drills"]["offsite"]["sample"] = "lots"
    found = problems(raw)
    assert "drills.onsite.plan: no plan named 'mail'" in found
    assert any(p.startswith("drills.offsite.sample:") and "'lots'" in p for p in found)


def test_check_repository_reference(secrets):
    raw = base(secrets)
    raw["checks"]["cloud"]["repository"] = "clod"
    assert problems(raw) == ["checks.cloud.repository: no repository named 'clod'"]


def test_load_reports_toml_syntax_and_missing_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[plans\n")
    with pytest.raises(UsageError, match="not valid TOML"):
        load_config(broken)


def test_load_from_file(tmp_path, secrets):
    path = tmp_path / "bdr.toml"
    path.write_text(
        textwrap.dedent(f"""
        [repositories.local]
        url = "/srv/repo"
        password_file = "{secrets / "local.pass"}"
        [plans.docs]
        sources = ["/srv/docs"]
        repository = "local"
    """)
    )
    config = load_config(path)
    assert config.plans["docs"].schedule == "0 */4 * * *"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (b"GIF89a\x01\x00", "is not an SVG or PNG image"),
        (b"<html><body>logo</body></html>", "is not an SVG or PNG image"),
    ],
)
def test_a_logo_that_is_missing_or_not_an_image_is_named(secrets, tmp_path, content, problem):
    logo = tmp_path / "logo.png"
    if content is not None:
        logo.write_bytes(content)
    raw = base(secrets)
    raw["reports"] = {"msp": "Example IT", "logo": str(logo)}
    assert problems(raw) == [f"reports.logo: {logo} {problem}"]


def test_logos_and_accent_that_are_accepted(secrets, tmp_path):
    svg = tmp_path / "logo.svg"
    svg.write_text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    raw = base(secrets)
    raw["reports"] = {"logo": str(svg), "accent": "#12AB9f"}
    assert validate(raw, source="bdr.toml").reports.logo == svg
    raw["reports"] = {"accent": "blue"}
    (problem,) = problems(raw)
    assert problem.startswith("reports.accent: ")


def test_a_secret_behind_a_symlink_of_another_user_or_in_an_open_directory_is_refused(
    secrets, tmp_path
):
    raw = base(secrets)
    real = secrets / "local.pass"
    link = secrets / "link.pass"
    link.symlink_to(real)
    raw["repositories"]["local"]["password_file"] = str(link)
    assert problems(raw) == [
        f"repositories.local.password_file: {link} is a symlink; it holds a secret: "
        "name the file itself"
    ]
    open_dir = tmp_path / "shared"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    moved = open_dir / "local.pass"
    real.rename(moved)
    raw["repositories"]["local"]["password_file"] = str(moved)
    (problem,) = problems(raw)
    assert problem.startswith(f"repositories.local.password_file: {moved} is in {open_dir}, ")
    assert problem.endswith(f"run chmod go-w {open_dir}")
    if os.geteuid() == 0:
        open_dir.chmod(0o755)
        os.chown(moved, 65534, 65534)
        (problem,) = problems(raw)
        assert "belongs to another user (uid 65534)" in problem
        # Root acting as the service user (a root restore): that user's secrets are its own.
        state_dir = tmp_path / "state"
        state_dir.mkdir()
        os.chown(state_dir, 65534, 65534)
        raw["appliance"]["state_dir"] = str(state_dir)
        validate(raw, source="test.toml")


def test_the_schema_puts_nothing_into_the_models_module():
    """The model's string annotations are resolved in the schema's namespace: importing the
    schema and validating leaves the model's module as it was, and the hints read the same."""
    import typing

    from bdr.config import model, schema

    assert "Duration" not in vars(model) and "Cron" not in vars(model)
    hints = typing.get_type_hints(model.Plan, localns=schema.NAMESPACE, include_extras=True)
    assert hints["schedule"] == schema.Cron


def test_an_append_only_tier_is_never_pruned_by_the_appliance(secrets):
    raw = base(secrets)
    raw["repositories"]["cloud"].update(append_only=True, prune_schedule="0 3 * * *")
    (found,) = problems(raw)
    assert found.startswith("repositories.cloud: append_only: bdr never prunes an append-only")
    raw["repositories"]["cloud"].pop("prune_schedule")
    config = validate(raw, source="test.toml")
    assert config.retained_tiers(config.plans["fileserver"]) == ["local"]
    assert config.pruned_repositories() == ["local"]
    assert (
        "plans.fileserver.retention: applies to local only; cloud is append_only: its "
        "retention runs on the MSP's steward"
    ) in warnings(config)


def test_a_retention_no_tier_of_the_plan_can_apply_is_refused(secrets):
    raw = base(secrets)
    raw["repositories"]["local"]["append_only"] = True
    raw["repositories"]["cloud"]["append_only"] = True
    assert problems(raw) == [
        "plans.fileserver.retention: every tier of the plan is append_only, where bdr never "
        "forgets: the MSP's steward runs their retention (remove retention here)"
    ]


def test_the_evidence_store_is_a_repository_of_its_own_and_should_be_append_only(secrets):
    raw = base(secrets)
    raw["evidence"] = {"upload_to": "vault"}
    assert problems(raw) == ["evidence.upload_to: no repository named 'vault'"]
    raw["evidence"] = {"upload_to": "cloud"}
    assert problems(raw) == [
        "evidence.upload_to: 'cloud' is a tier of plan 'fileserver'; the evidence store needs "
        "a repository of its own (another path of the cloud)"
    ]
    raw["repositories"]["proof"] = {**raw["repositories"]["cloud"], "url": "rest:http://x/p/"}
    raw["evidence"] = {"upload_to": "proof"}
    config = validate(raw, source="test.toml")
    assert config.evidence.upload_to == "proof"
    assert any(
        w.startswith("evidence.upload_to: repositories.proof is not append_only")
        for w in warnings(config)
    )
    raw["repositories"]["proof"]["append_only"] = True
    assert not any("evidence.upload_to" in w for w in warnings(validate(raw, source="test.toml")))


def test_an_audit_names_a_repository_and_the_registered_key(secrets, tmp_path):
    raw = base(secrets)
    raw["audit"] = {
        "acme-02": {"repository": "vault", "allowed_signers": str(tmp_path / "missing")},
        "acme-03": {"repository": "cloud", "allowed_signers": "relative/signers"},
    }
    assert sorted(problems(raw)) == [
        "audit.acme-02.allowed_signers: file " + str(tmp_path / "missing") + " does not exist",
        "audit.acme-02.repository: no repository named 'vault'",
        "audit.acme-03.allowed_signers: 'relative/signers' must be an absolute path",
    ]


def test_a_config_that_notifies_nobody_is_warned_about(secrets, tmp_path):
    raw = base(secrets)
    raw.pop("notify", None)
    assert any(w.startswith("notify: not configured") for w in warnings(validate(raw, source="t")))
    urls = tmp_path / "urls"
    urls.write_text("json://localhost\n")
    urls.chmod(0o600)
    raw["notify"] = {"urls_file": str(urls)}
    assert not any(w.startswith("notify:") for w in warnings(validate(raw, source="t")))


def test_a_tier_may_have_an_rpo_of_its_own(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["tier_rpo"] = {"cloud": "26h"}
    plan = validate(raw, source="t").plans["fileserver"]
    assert (plan.rpo_of("local"), plan.rpo_of("cloud")) == (4 * 3600, 26 * 3600)
    raw["plans"]["fileserver"]["tier_rpo"] = {"vault": "1d"}
    (found,) = problems(raw)
    assert "tier_rpo: 'vault' is not a tier of the plan (its tiers: local, cloud)" in found


def test_a_tier_may_keep_by_a_policy_of_its_own(secrets):
    raw = base(secrets)
    raw["plans"]["fileserver"]["tier_retention"] = {"cloud": {"daily": 30, "monthly": 12}}
    config = validate(raw, source="t")
    plan = config.plans["fileserver"]
    assert plan.retention_of("local") == plan.retention
    own = plan.retention_of("cloud")
    assert own is not None and (own.daily, own.monthly) == (30, 12)
    raw["plans"]["fileserver"]["tier_retention"] = {"vault": {"daily": 1}}
    (found,) = problems(raw)
    assert "tier_retention: 'vault' is not a tier of the plan (its tiers: local, cloud)" in found
    raw["plans"]["fileserver"]["tier_retention"] = {"cloud": {"daily": 30}}
    raw["repositories"]["cloud"]["append_only"] = True
    assert problems(raw) == [
        "plans.fileserver.tier_retention.cloud: repositories.cloud is append_only, where bdr "
        "never forgets: the MSP's steward runs its retention"
    ]
