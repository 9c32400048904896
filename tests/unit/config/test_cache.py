"""The validated-config cache: an unchanged config starts without pydantic, a changed one is
validated again, the machine's checks run every time, and the cache builds nothing else."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from bdr.config import cache, schema
from bdr.config.load import load_config
from bdr.errors import ConfigError

CONFIG = """
[appliance]
state_dir = "{root}/state"
scratch_dir = "{root}/scratch"

[repositories.local]
url = "{root}/repo"
password_file = "{root}/local.pass"

[plans.office]
sources = ["{root}/data"]
repository = "local"
rpo = "4h"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    (tmp_path / "state").mkdir()
    password = tmp_path / "local.pass"
    password.write_text("a long enough password\n")
    password.chmod(0o600)
    path = tmp_path / "bdr.toml"
    path.write_text(CONFIG.format(root=tmp_path))
    return path


def kept(config_file: Path) -> Path:
    return config_file.parent / "state" / "cache" / cache.FILE


def test_a_config_is_kept_once_valid_and_read_back_the_same(config_file: Path, monkeypatch):
    first = load_config(config_file)
    assert kept(config_file).stat().st_mode & 0o777 == 0o600
    # Read back without validating: the schema is not asked again.
    monkeypatch.setattr(schema, "validate", lambda raw: pytest.fail("validated again"))
    assert load_config(config_file) == first
    assert first.plans["office"].rpo == 4 * 3600


def test_a_changed_config_is_validated_again(config_file: Path):
    load_config(config_file)
    config_file.write_text(config_file.read_text().replace('rpo = "4h"', 'rpo = "0s"'))
    with pytest.raises(ConfigError) as error:
        load_config(config_file)
    assert "plans.office.rpo: '0s' must be longer than zero" in error.value.problems


def test_the_machine_is_checked_at_every_load(config_file: Path):
    load_config(config_file)
    password = config_file.parent / "local.pass"
    password.chmod(0o644)
    with pytest.raises(ConfigError) as error:
        load_config(config_file)
    assert any("is open to group or others (mode 0644)" in p for p in error.value.problems)


def test_no_state_dir_no_cache(config_file: Path):
    (config_file.parent / "state").rmdir()
    load_config(config_file)
    assert not (config_file.parent / "state").exists()  # loading a config creates nothing


class Boom:
    def __reduce__(self):
        return (os.system, ("echo owned > /dev/null",))


@pytest.mark.parametrize(
    "body",
    [pickle.dumps(Boom()), b"not a pickle", pickle.dumps({"a": 1})],
    ids=["foreign object", "garbage", "not a config"],
)
def test_a_cache_file_that_is_not_a_config_is_ignored(config_file: Path, body: bytes, monkeypatch):
    good = load_config(config_file)
    text_key = kept(config_file).read_bytes().split(b"\n", 1)[0]
    kept(config_file).write_bytes(text_key + b"\n" + body)
    monkeypatch.setattr(os, "system", lambda command: pytest.fail(f"ran {command!r}"))
    assert load_config(config_file) == good


def test_the_key_is_the_text_s():
    assert cache.key("a") == cache.key("a")
    assert cache.key("a") != cache.key("a ")
