"""The broken-config corpus: every mutation of a valid config is a clear exit 2, never an
internal error or a hang, and never accepted when it cannot work.

Each case is the valid config below with one thing broken; `load_config` reads it from a file
as `bdr config check` does (SQLite, restic and the daemon are not involved: no processes).
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bdr.config.load import load_config
from bdr.config.toml_writer import to_toml
from bdr.errors import BdrError, ConfigError, ExitCode, UsageError

BASE = """
[appliance]
client = "Acme"
id = "acme-01"
state_dir = "{root}/state"
scratch_dir = "{root}/scratch"

[repositories.local]
url = "{root}/repo"
password_file = "{root}/secrets/local.pass"

[repositories.cloud]
url = "s3:https://s3.example.com/bucket"
password_file = "{root}/secrets/cloud.pass"
env_file = "{root}/secrets/cloud.env"

[plans.office]
sources = ["{root}/data"]
exclude = ["*.tmp"]
repository = "local"
copy_to = ["cloud"]
schedule = "0 */4 * * *"
rpo = "4h"
retention = {{ daily = 7 }}

[drills.onsite]
plan = "office"
repository = "local"
rto = "1h"
checks = [{{ run = ["/bin/true"], expect = "ok", timeout = "1m" }}]

[drills.cloud]
plan = "office"
repository = "cloud"
kind = "sample"
sample = "5%"

[checks.cloud]
repository = "cloud"
read_data_cycle = 30

[metrics]
listen = "127.0.0.1:9898"

[reports]
msp = "Example IT"
accent = "#112233"
"""

# (key path, bad value): set, or removed when the value is DELETE.
DELETE = object()
FULL_WIDTH_ONE, ARABIC_THREE = "\uff11", "\u0663"  # digits that are not ASCII
BAD_DURATIONS = [
    "", "0", "-1h", "1x", "4 hours", "999999999w", 0, -5, 10**20, 1.5, True, [],
    f"{FULL_WIDTH_ONE}h", f"{ARABIC_THREE}d",
]  # fmt: skip
BAD_CRONS = [
    "",
    "* * * *",
    "* * * * * *",
    "60 * * * *",
    "* 24 * * *",
    "* * 0 * *",
    "* * * 13 *",
    "* * * * 8",
    "0-59/ * * * *",
    "*/0 * * * *",
    "*/99999999999999999999 * * * *",
    "5-1 * * * *",
    "a * * * *",
    "1-2-3 * * * *",
    "@daily",
    0,
    "0 0 31 2 *",  # never fires: February has no 31st
    "0 0 30,31 2 *",
    "0 0 31 4,6,9,11 *",
    f"{FULL_WIDTH_ONE} * * * *",
    f"0 {ARABIC_THREE} * * *",
    f"*/{FULL_WIDTH_ONE}5 * * * *",
]
BAD_NAMES = ["", "a/b", ".hidden", "-dash", "a b", "x" * 0]
MUTATIONS: list[tuple[str, Any]] = [
    *[("appliance.id", value) for value in [*BAD_NAMES, 5, ["a"]]],
    *[("appliance.client", value) for value in [5, ["a"], {"a": 1}]],
    *[("appliance.state_dir", value) for value in ["relative/state", "", 5, "/a\x00b"]],
    *[("appliance.scratch_dir", value) for value in ["scratch", 7, "{root}/state/scratch"]],
    *[("appliance.lock_timeout", value) for value in BAD_DURATIONS],
    *[("appliance.max_parallel_runs", value) for value in [0, -1, "two", 1.5, 65, 10**6]],
    ("appliance.max_run_time", {"backup": "0"}),
    ("appliance.max_run_time", {"demo": "1h"}),
    ("appliance.max_run_time", {"backup": "99999999w"}),
    ("appliance.colour", "blue"),
    ("repositories", DELETE),
    ("repositories", {}),
    ("repositories.local.url", ""),
    ("repositories.local.url", 5),
    ("repositories.local.url", "{root}/state/repo"),
    ("repositories.local.url", "relative/repo"),
    ("repositories.local.url", "local:relative/repo"),
    ("repositories.local.url", "./repo"),
    ("repositories.local.password_file", "relative.pass"),
    ("repositories.local.password_file", "{root}/secrets/missing.pass"),
    ("repositories.local.password_file", "{root}/secrets/open.pass"),
    ("repositories.local.password_file", "{root}/secrets/empty.pass"),
    ("repositories.local.password_file", "{root}/secrets"),
    ("repositories.local.password_file", "{root}/secrets/link.pass"),
    ("repositories.local.password_command", "cat x"),
    ("repositories.local.password_file", DELETE),
    ("repositories.cloud.env_file", "{root}/secrets/bad.env"),
    ("repositories.cloud.url", "{root}/repo"),
    ("repositories.local.options", {"s3.secret-key": "x"}),
    ("repositories.local.options", "notatable"),
    ("repositories.bad name", {"url": "/x", "password_command": "p"}),
    ("plans.office.sources", []),
    ("plans.office.sources", ["relative/data"]),
    ("plans.office.sources", "{root}/data"),
    ("plans.office.sources", ["{root}/state/inside"]),
    ("plans.office.sources", ["/a\x00b"]),
    ("plans.office.exclude", "*.tmp"),
    ("plans.office.exclude", ["{root}/state"]),
    ("plans.office.repository", "nas"),
    ("plans.office.repository", DELETE),
    ("plans.office.copy_to", ["offsite"]),
    ("plans.office.copy_to", "cloud"),
    ("plans.office.copy_to", ["cloud", "cloud"]),
    *[("plans.office.schedule", value) for value in BAD_CRONS],
    *[("plans.office.rpo", value) for value in BAD_DURATIONS],
    ("plans.office.retention", {}),
    ("plans.office.retention", {"daily": 0}),
    ("plans.office.retention", {"daly": 7}),
    ("plans.office.retention", {"daily": "seven"}),
    ("plans.office.before", [[]]),
    ("plans.office.before", "echo hi"),
    ("plans.office.hook_timeout", "forever"),
    ("plans.office.unknown", 1),
    ("plans.bad/name", {"sources": ["/x"], "repository": "local"}),
    ("drills.onsite.plan", "mail"),
    ("drills.onsite.repository", "nas"),
    ("drills.onsite.kind", "partial"),
    *[("drills.onsite.schedule", value) for value in BAD_CRONS[:6]],
    *[("drills.onsite.rto", value) for value in BAD_DURATIONS[:8]],
    ("drills.onsite.checks", [{"run": []}]),
    ("drills.onsite.checks", [{"run": [""]}]),
    ("drills.onsite.checks", [{"run": ["/etc/passwd"]}]),
    ("drills.onsite.checks", [{"run": ["no-such-program-bdr"]}]),
    ("drills.onsite.checks", [{"run": ["/bin/true"], "remote": "nas"}]),
    ("drills.onsite.checks", [{"run": ["/bin/true"], "timeout": "0"}]),
    ("drills.onsite.checks", [{"cmd": ["/bin/true"]}]),
    ("drills.onsite.checks", "run this"),
    ("drills.onsite.source_compare", "sha"),
    ("drills.cloud.sample", "0%"),
    ("drills.cloud.sample", "150%"),
    ("drills.cloud.sample", "lots"),
    ("drills.cloud.sample", "-5MB"),
    ("drills.cloud.repository", "local2"),
    ("checks.cloud.repository", "nas"),
    ("checks.cloud.read_data_cycle", 0),
    ("checks.cloud.read_data_cycle", 257),
    ("checks.cloud.read_data_cycle", "thirty"),
    ("checks.cloud.schedule", "every day"),
    ("metrics.listen", "nowhere"),
    ("metrics.listen", "127.0.0.1:99999"),
    ("metrics.listen", "127.0.0.1"),
    ("metrics.listen", "not a host:9898"),
    ("metrics.listen", "127.0.0.1:" + "\uff19\uff18\uff19\uff18"),
    ("metrics.listen", "bad_host!:9898"),
    ("metrics.listen", "[::1:9898"),
    ("metrics.pushgateway", "not a url"),
    ("metrics.pushgateway", "ftp://127.0.0.1:9091"),
    ("metrics.pushgateway", "http://"),
    ("metrics.pushgateway", "http://127.0.0.1:port"),
    ("metrics.textfile", "relative.prom"),
    ("metrics.basic_auth_password_file", "{root}/secrets/missing.pass"),
    ("metrics.tls_cert_file", "{root}/missing.pem"),
    ("metrics.basic_auth_password_file", "{root}/secrets/empty.pass"),
    ("reports.accent", "blue"),
    ("reports.accent", "#12345"),
    ("reports.logo", "{root}/missing.svg"),
    ("reports.logo", "{root}/secrets/local.pass"),
    ("reports.schedule", "monthly"),
    ("reports.output_dir", "{root}/scratch/reports"),
    ("reports.output_dir", "reports"),
    ("reports.mail_to", ["not an address"]),
    ("reports.mail_to", ["someone@example.com"]),  # needs [notify] with a mailto URL
    ("notify", {"urls_file": "{root}/secrets/missing.urls"}),
    ("notify", {"urls_file": "{root}/secrets/open.pass"}),
    ("notify", {"urls_file": "{root}/secrets/bad.urls"}),
    ("notify", {"urls_file": "{root}/secrets/empty.urls"}),
    ("notify", {"urls_file": "{root}/secrets/local.pass", "remind": "-1h"}),
    ("notify", {"urls_file": "{root}/secrets/local.pass", "min_severity": "debug"}),
    ("notify", {"urls_file": "{root}/secrets/local.pass", "grafana_url": "https://g/{nope}"}),
    ("notify", {"urls_file": "{root}/secrets/local.pass", "min_free": "lots"}),
    ("notify", {"urls_file": "{root}/secrets/local.pass", "min_free": "150%"}),
    ("notify", {"remind": "1h"}),
]
# Whole files that are not a config: (name, bytes).
FILES = [
    ("binary", os.urandom(64) + b"\xff\xfe"),
    ("latin-1", 'client = "Caf\xe9"\n'.encode("latin-1")),
    ("not-toml", b"[appliance\nclient = \n"),
    ("nested", b"a = " + b"[" * 50_000 + b"]" * 50_000 + b"\n"),
    ("huge", b"# " + b"x" * (2 << 20) + b"\n"),
    ("empty", b""),
    ("bom", b"\xef\xbb\xbf[appliance]\n"),
]


def layout(root: Path) -> None:
    secrets = root / "secrets"
    secrets.mkdir(mode=0o700)
    for name, text, mode in (
        ("local.pass", "correct horse battery\n", 0o600),
        ("cloud.pass", "staple of the battery\n", 0o600),
        ("cloud.env", "AWS_ACCESS_KEY_ID=a\nAWS_SECRET_ACCESS_KEY=b\n", 0o600),
        ("bad.env", "RESTIC_PASSWORD=x\n", 0o600),
        ("open.pass", "readable by all\n", 0o644),
        ("empty.pass", "", 0o600),
        ("bad.urls", "not a url at all\n", 0o600),
        ("empty.urls", "# nothing here\n", 0o600),
    ):
        (secrets / name).write_text(text)
        (secrets / name).chmod(mode)
    (secrets / "link.pass").symlink_to(secrets / "local.pass")
    (root / "data").mkdir()


def base(root: Path) -> dict[str, Any]:
    return tomllib.loads(BASE.format(root=root))


def mutated(root: Path, key: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(base(root))
    *parents, last = key.split(".")
    table = data
    for part in parents:
        table = table.setdefault(part, {})
    if value is DELETE:
        table.pop(last, None)
    else:
        table[last] = _fill(value, root)
    return data


def _fill(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{root}", str(root))
    if isinstance(value, list):
        return [_fill(item, root) for item in value]
    if isinstance(value, dict):
        return {k: _fill(v, root) for k, v in value.items()}
    return value


def refused(path: Path) -> BdrError:
    with pytest.raises((ConfigError, UsageError)) as caught:
        load_config(path)
    error = caught.value
    assert isinstance(error, BdrError)
    assert error.exit_code == ExitCode.USAGE
    text = "\n".join([error.message, *getattr(error, "problems", [])])
    assert "internal error" not in text and "Traceback" not in text
    return error


def test_the_base_config_is_valid(tmp_path: Path):
    layout(tmp_path)
    path = tmp_path / "bdr.toml"
    path.write_text(to_toml(base(tmp_path)))
    assert load_config(path).appliance.id == "acme-01"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("plans.office.schedule", "0 0 29 2 *"),  # a leap day: rare, but it comes
        ("plans.office.schedule", "0 0 31 1-12 *"),
        ("plans.office.schedule", "*/15 8-18 * * mon-fri"),
        ("metrics.listen", "[::1]:9898"),
        ("metrics.listen", "localhost:9898"),
        ("metrics.listen", "metrics.acme.example:9898"),
        ("metrics.listen", "0.0.0.0:9898"),
        ("metrics.pushgateway", "http://127.0.0.1:9091"),
        ("metrics.pushgateway", "https://push.msp.example/"),
        ("repositories.local.url", "local:{root}/repo"),
        ("repositories.cloud.url", "sftp:backup@nas.example:/srv/restic"),
        ("repositories.cloud.url", "rest:https://backup.msp.example/acme-01/"),
        ("appliance.max_parallel_runs", 64),
    ],
)
def test_what_looks_odd_but_works_is_accepted(tmp_path: Path, key: str, value: Any):
    layout(tmp_path)
    path = tmp_path / "bdr.toml"
    path.write_text(to_toml(mutated(tmp_path, key, value)))
    load_config(path)


def test_the_corpus_is_big_enough():
    assert len(MUTATIONS) + len(FILES) >= 140


@pytest.mark.parametrize(("key", "value"), MUTATIONS, ids=[f"{k}={v!r}"[:60] for k, v in MUTATIONS])
def test_each_broken_config_is_a_clear_exit_2(tmp_path: Path, key: str, value: Any):
    layout(tmp_path)
    path = tmp_path / "bdr.toml"
    path.write_text(to_toml(mutated(tmp_path, key, value)))
    error = refused(path)
    if isinstance(error, ConfigError):
        # The problem names where it is: the section that was broken (maybe beside another).
        top = key.split(".")[0]
        assert any(top in problem for problem in error.problems), error.problems


@pytest.mark.parametrize(("name", "data"), FILES, ids=[name for name, _ in FILES])
def test_files_that_are_not_a_config_are_a_clear_exit_2(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / f"{name}.toml"
    path.write_bytes(data)
    refused(path)


def test_a_fifo_or_a_device_is_refused_without_waiting(tmp_path: Path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    assert "is not a regular file" in refused(fifo).message
    assert "is not a regular file" in refused(Path("/dev/zero")).message
