"""Command lines that crashed or misled: each is a one-line error and exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Appliance


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> Appliance:
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    (root / "a-file").write_text("not a directory\n")
    appliance = Appliance(root / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [data])
    appliance.add("drills", "onsite", plan="office", repository="local")
    appliance.bdr("init")
    appliance.bdr("backup")
    return appliance


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["restore", "office", "--target", "/proc/self/x"], "/proc is a virtual file system"),
        (["restore", "office", "--target", "{root}/a-file/sub"], "is not a directory"),
        (["restore", "office", "--target", "{root}/t", "--as-of", "0001-01-01"], "no snapshot"),
        (
            ["restore", "office", "--target", "{root}/t", "--snapshot=--cache-dir=/tmp/x"],
            "not a snapshot id",
        ),
        (["drill", "run", "onsite", "--snapshot=--help"], "not a snapshot id"),
        (["backup", "--lock-timeout", "nan"], "is not a number of seconds"),
        (["backup", "--lock-timeout", "-1"], "is not a number of seconds"),
        (["backup", "--lock-timeout", "inf"], "is not a number of seconds"),
    ],
)
def test_bad_command_lines_are_refused_clearly(backed_up: Appliance, args: list[str], said: str):
    root = str(backed_up.root.parent)
    runs_before = len(backed_up.runs())
    result = backed_up.bdr(*[arg.format(root=root) for arg in args], expect=2)
    assert said in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(backed_up.runs()) == runs_before
    assert not Path(root, "t").exists()
