"""Shell completion completes the config's plan, drill and repository names; `--json` is
accepted after any command (no restic, no process)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bdr.cli.main import cli

CONFIG = """
[repositories.local]
url = "/srv/repo"
password_file = "/nonexistent"
[repositories.cloud]
url = "/srv/cloud"
password_file = "/nonexistent"
[plans.office]
sources = ["/srv/share"]
repository = "local"
[plans.orders]
sources = ["/srv/orders"]
repository = "local"
[drills.onsite]
plan = "office"
repository = "local"
"""


def completions(config: Path, line: str) -> list[str]:
    words = line.split(" ")
    env = {
        "_BDR_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(["bdr", "--config", str(config), *words]),
        "COMP_CWORD": str(len(words) + 2),
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="bdr")
    return [row.split(",", 1)[1] for row in result.output.splitlines() if row]


def test_names_come_from_the_config_even_one_that_does_not_validate(tmp_path: Path):
    config = tmp_path / "bdr.toml"
    config.write_text(CONFIG)  # its password files do not exist: completion does not care
    assert completions(config, "restore o") == ["office", "orders"]
    assert completions(config, "backup of") == ["office"]
    assert completions(config, "drill run ") == ["onsite"]
    assert completions(config, "check c") == ["cloud"]
    assert completions(config, "ls office --repository ") == ["cloud", "local"]
    assert completions(tmp_path / "missing.toml", "restore ") == []


def test_json_after_the_command_is_the_global_flag():
    from bdr.cli.main import COMMANDS, LazyGroup

    group = LazyGroup()
    for name in COMMANDS:
        command = group.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        leaves = command.commands.values() if hasattr(command, "commands") else [command]
        for leaf in leaves:
            assert any("--json" in getattr(p, "opts", ()) for p in leaf.params), (name, leaf)
