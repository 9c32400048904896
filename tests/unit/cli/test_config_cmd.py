"""`bdr config` through click's runner (no processes: these commands read files only)."""

import json
import os
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bdr.cli.main import cli


@pytest.fixture
def config(tmp_path: Path) -> Path:
    secret = tmp_path / "local.pass"
    secret.write_text("pw\n")
    os.chmod(secret, 0o600)
    path = tmp_path / "bdr.toml"
    path.write_text(f"""
[appliance]
client = "Acme Dental"
state_dir = "{tmp_path / "state"}"

[repositories.local]
url = "/srv/repo"
password_file = "{secret}"

[repositories.vault]
url = "/srv/vault"
password_command = "echo topsecret"

[plans.files]
sources = ["/srv/files"]
repository = "local"
copy_to = ["vault"]
rpo = "4h"
retention = {{ daily = 7 }}
""")
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, standalone_mode=False)


def test_check_valid(config):
    result = run("--config", str(config), "config", "check")
    assert "valid (2 repositories, 1 plans" in result.output


def test_show_masks_secrets_and_round_trips(config):
    result = run("--config", str(config), "config", "show")
    assert "topsecret" not in result.output
    shown = tomllib.loads(result.output)
    assert shown["plans"]["files"]["rpo"] == "4h"
    assert shown["plans"]["files"]["retention"] == {"daily": 7}
    assert shown["repositories"]["vault"]["password_command"] == "***"


def test_schema_is_json_schema(config):
    schema = json.loads(run("config", "schema").output)
    assert schema["additionalProperties"] is False
    assert "repositories" in schema["required"]


def test_invalid_config_lists_every_problem(config, capsys):
    from bdr.cli.main import main

    config.write_text(config.read_text().replace('rpo = "4h"', 'rpo = "4 hours"\nkeep = 3'))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "config", "check"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "2 configuration errors" in err
    assert "plans.files.rpo: '4 hours' is not a duration" in err
    assert "plans.files.keep: unknown key" in err
