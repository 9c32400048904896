"""Command lines that crashed or misled: each is a one-line error and exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Appliance

T = ["--target", "{root}/t"]
# More bad command lines: (argv, what the error says). Each exits 2 having run nothing.
MORE: list[tuple[list[str], str]] = [
    (["frobnicate"], "No such command"),
    (["backup", "nosuch"], "nosuch"),
    (["backup", "--bogus"], "No such option"),
    (["backup", "--lock-timeout", "abc"], "--lock-timeout"),
    (["restore"], "Missing argument"),
    (["restore", "office"], "Missing option '--target'"),
    (["restore", "nosuch", *T], "nosuch"),
    (["restore", "office", "--target", ""], "target"),
    (["restore", "office", *T, "--snapshot", ""], "--snapshot"),
    (["restore", "office", *T, "--snapshot", "zzzz"], "not a snapshot id"),
    (["restore", "office", *T, "--snapshot", "abcdef12"], "abcdef12"),
    (["restore", "office", *T, "--as-of", "yesterday-ish"], "--as-of"),
    (["restore", "office", *T, "--as-of", "9999-12-31T99:99"], "--as-of"),
    (["restore", "office", *T, "--snapshot", "abcdef12", "--as-of", "2026-01-01"], "not both"),
    (["restore", "office", *T, "--repository", "nosuch"], "nosuch"),
    (["restore", "office", *T, "--include", "relative/path"], "relative/path"),
    (["restore", "office", *T, "--include", "/not/in/the/snapshot"], "/not/in/the/snapshot"),
    (["restore", "office", "--target", "/dev/null"], "/dev is a virtual file system"),
    (["restore", "office", "--target", "/sys/kernel"], "/sys is a virtual file system"),
    (["restore", "office", "--target", "{root}/appliance/state/x"], "appliance.state_dir"),
    (["restore", "office", "--target", "{root}/data"], "it is the source"),
    (["restore", "office", "--target", "/"], "refusing to restore into /"),
    (["drill", "run"], "name one drill, or pass --all"),
    (["drill", "run", "nosuch"], "no drill named 'nosuch'"),
    (["drill", "run", "onsite", "--all"], "name one drill, or pass --all"),
    (["drill", "run", "--all", "--snapshot", "abcdef12"], "--snapshot goes with one drill"),
    (["drill", "run", "onsite", "--snapshot", "xyz"], "not a snapshot id"),
    (["drill", "nosuch"], "No such command"),
    (["check", "nosuch"], "no repository named 'nosuch'"),
    (["prune", "nosuch"], "no repository named 'nosuch'"),
    (["report", "--month", "2026-13"], "--month '2026-13' is not YYYY-MM"),
    (["report", "--month", "26-11"], "is not YYYY-MM"),
    (["report", "--month", "2999-01"], "has not begun yet"),
    (["report", "--month", ""], "is not YYYY-MM"),
    (["report", "--month", "9999-12"], "--month '9999-12' is out of range"),
    (["report", "--month", "0001-01"], "--month '0001-01' is out of range"),
    (["evidence", "export", "--month", "9999-12"], "is out of range"),
    (["restore", "office", *T, "--as-of", "0001-01-01T00:00+14:00"], "is out of range"),
    (["restore", "office", *T, "--as-of", "9999-12-31T23:59-12:00"], "is out of range"),
    (["report", "--format", "docx"], "--format 'docx': choose from html, pdf, json"),
    (["report", "--format", ""], "--format"),
    (["report", "list", "extra"], "unexpected extra argument"),
    (["evidence", "export"], "Missing option '--month'"),
    (["evidence", "export", "--month", "2026-13"], "is not YYYY-MM"),
    (["evidence", "export", "--month", "1999-01"], "1999-01"),
    (["evidence", "verify", "/nonexistent/bundle"], "/nonexistent/bundle"),
    (["evidence", "verify", "--allowed-signers", "/nonexistent/signers"], "/nonexistent"),
    (["evidence", "nosuch"], "No such command"),
    (["config", "nosuch"], "No such command"),
    (["--config", "/nonexistent/bdr.toml", "status"], "does not exist"),
    (["--config", "/dev/null", "status"], "is not a regular file"),
    (["snapshots", "--plan", "nosuch"], "nosuch"),
    (["snapshots", "--repository", "nosuch"], "nosuch"),
    (["status", "extra"], "unexpected extra argument"),
    (["notify", "test"], "has no [notify] section"),
    (["notify", "nosuch"], "No such command"),
    (["metrics", "--bogus"], "No such option"),
    (["init", "extra"], "unexpected extra argument"),
    (["check", "local", "extra"], "unexpected extra argument"),
    (["drill", "list", "extra"], "unexpected extra argument"),
]


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
        (["restore", "office", "--target", "{root}/t", "--as-of", "0001-01-01"], "out of range"),
        (
            ["restore", "office", "--target", "{root}/t", "--snapshot=--cache-dir=/tmp/x"],
            "not a snapshot id",
        ),
        (["drill", "run", "onsite", "--snapshot=--help"], "not a snapshot id"),
        (["backup", "--lock-timeout", "nan"], "is not a number of seconds"),
        (["backup", "--lock-timeout", "-1"], "is not a number of seconds"),
        (["backup", "--lock-timeout", "inf"], "is not a number of seconds"),
        *[(args, said) for args, said in MORE],
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
