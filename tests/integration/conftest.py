"""Fixtures for integration tests: a real appliance directory, real restic, real servers."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bdr.config.toml_writer import to_toml
from tests.integration.servers import RcloneRestic, SeaweedS3, SftpServer

PASSWORD = "correct horse battery staple"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's `pytestmark` marks nothing: the marker is put on this folder's tests here,
    # so that `-m "not integration"` runs the unit suite alone.
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.integration)
    if mine and shutil.which("restic") is None:
        # Integration tests are the proof that features work: never skip them silently.
        raise pytest.UsageError("restic is not installed; run `make test`, which installs it")


@dataclass
class Appliance:
    """One appliance under a temporary directory, driven through the real `bdr` command."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    repositories: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    appliance: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.state_dir = self.root / "state"
        self.secrets = self.root / "secrets"
        self.secrets.mkdir(parents=True, exist_ok=True)
        self.config_path = self.root / "bdr.toml"

    def secret(self, name: str, text: str) -> Path:
        path = self.secrets / name
        path.write_text(text)
        path.chmod(0o600)
        return path

    def add_repository(
        self,
        name: str,
        url: str,
        *,
        password: str = PASSWORD,
        env_file: Path | None = None,
        options: dict[str, str] | None = None,
    ) -> None:
        entry: dict[str, Any] = {
            "url": url,
            "password_file": str(self.secret(f"{name}.pass", password + "\n")),
        }
        if env_file is not None:
            entry["env_file"] = str(env_file)
        if options:
            entry["options"] = options
        self.repositories[name] = entry

    def local_repository(self, name: str = "local", **kwargs: Any) -> Path:
        path = self.root / "repos" / name
        self.add_repository(name, str(path), **kwargs)
        return path

    def add_plan(
        self, name: str, sources: list[Path | str], repository: str = "local", **extra: Any
    ) -> None:
        self.plans[name] = {"sources": [str(s) for s in sources], "repository": repository, **extra}

    def add(self, section: str, name: str, **entry: Any) -> None:
        """Add a [section.name] table (drills, checks, remote)."""
        self.sections.setdefault(section, {})[name] = entry

    @property
    def scratch_dir(self) -> Path:
        return self.root / "scratch"

    def write(self) -> Path:
        data = {
            "appliance": {
                "client": "Test Client",
                "id": "test-01",
                "state_dir": str(self.state_dir),
                "scratch_dir": str(self.scratch_dir),
                "lock_timeout": "30s",
                **self.appliance,
            },
            "repositories": self.repositories,
            "plans": self.plans,
            **self.sections,
        }
        self.config_path.write_text(to_toml(data) + "\n")
        return self.config_path

    def use_restic(self, script: str) -> Path:
        """Run bdr from now on with `script` (a shell script standing in for restic) as its
        restic; return the script's path."""
        fake = self.root / "restic-fake"
        fake.write_text(script)
        fake.chmod(0o755)
        self.env["BDR_RESTIC"] = str(fake)
        return fake

    def scratch_emptied(self, timeout: float = 30) -> bool:
        """Whether the scratch area holds nothing within `timeout` seconds: a finished drill's
        tree is removed by a process of its own after bdr has returned."""
        deadline = time.monotonic() + timeout
        while self.scratch_dir.exists() and any(self.scratch_dir.rglob("*")):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def bdr(
        self,
        *args: str,
        expect: int | None = 0,
        timeout: float = 600,
        prefix: list[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real bdr command; assert its exit code unless `expect` is None."""
        if not self.config_path.exists():
            self.write()
        completed = subprocess.run(
            [
                *(prefix or []),
                sys.executable,
                "-m",
                "bdr",
                "--config",
                str(self.config_path),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.env},
        )
        if expect is not None:
            assert completed.returncode == expect, (
                f"bdr {' '.join(args)} exited {completed.returncode}, expected {expect}\n"
                f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
            )
        return completed

    def bdr_json(self, *args: str, expect: int | None = 0) -> Any:
        return json.loads(self.bdr("--json", *args, expect=expect).stdout)

    def restic(
        self, repository: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run restic directly against a configured repository, to check what bdr did."""
        repo = self.repositories[repository]
        env = {
            **os.environ,
            **self.env,
            "RESTIC_REPOSITORY": repo["url"],
            "RESTIC_PASSWORD_FILE": repo["password_file"],
        }
        if "env_file" in repo:
            for line in Path(repo["env_file"]).read_text().splitlines():
                key, _, value = line.partition("=")
                env[key] = value
        options = [arg for k, v in repo.get("options", {}).items() for arg in ("-o", f"{k}={v}")]
        return subprocess.run(
            ["restic", *options, *args],
            capture_output=True,
            text=True,
            env=env,
            check=check,
            timeout=300,
        )

    def snapshot_ids(self, repository: str) -> list[str]:
        listing = json.loads(self.restic(repository, "snapshots", "--json").stdout)
        return [item["short_id"] for item in listing]

    def runs(self) -> list[sqlite3.Row]:
        db = sqlite3.connect(self.state_dir / "bdr.sqlite")
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM runs ORDER BY id").fetchall()


@pytest.fixture
def appliance(tmp_path: Path) -> Appliance:
    return Appliance(tmp_path / "appliance")


def lock_files(locks: Path) -> list[Path]:
    """The locks restic lists: a lock is written as `<id>-tmp-<n>` and then renamed to its id,
    and a restic killed between the two leaves a temporary file that no restic reads as a lock
    (a loaded CI run killed the holder there, and the backup rightly went ahead)."""
    return [path for path in locks.iterdir() if re.fullmatch("[0-9a-f]{64}", path.name)]


def start_restoring_drill(appliance: Appliance, drill: str) -> subprocess.Popen[str]:
    """Start `bdr drill run DRILL` and return once its restic restore runs."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bdr",
            "--config",
            str(appliance.config_path),
            "drill",
            "run",
            drill,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **appliance.env},
    )
    deadline = time.monotonic() + 60
    pattern = f"restic --cache-dir {appliance.state_dir}/cache restore"
    while subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode:
        assert time.monotonic() < deadline, "the drill never started restoring"
        time.sleep(0.05)
    return process


def damage_largest_pack(appliance: Appliance, repository: str = "local") -> Path:
    """Flip bytes in the repository's largest pack (which holds file contents); return it."""
    packs = sorted(
        (Path(appliance.repositories[repository]["url"]) / "data").rglob("*"),
        key=lambda p: p.stat().st_size if p.is_file() else 0,
    )
    pack = packs[-1]
    pack.chmod(0o600)
    data = bytearray(pack.read_bytes())
    for offset in range(100, 400):
        data[offset] ^= 0xFF
    pack.write_bytes(bytes(data))
    return pack


def make_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    return root


@pytest.fixture
def office(tmp_path: Path) -> Path:
    """A small office file share."""
    return make_tree(
        tmp_path / "office",
        {
            "documents/invoices/2026-001.txt": "Invoice 1: 120 EUR\n",
            "documents/invoices/2026-002.txt": "Invoice 2: 80 EUR\n",
            "documents/letters/welcome.txt": "Dear client,\n",
            "photos/team.jpg": os.urandom(300_000),
            "database/office.sqlite": os.urandom(50_000),
        },
    )


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = SeaweedS3(tmp_path_factory.mktemp("seaweed"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    server = SftpServer(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rclone_doors() -> Iterator[tuple[RcloneRestic, RcloneRestic]]:
    """The appliance's append-only door and the steward's full-access one, over one directory
    (outside root's 0700 pytest directories, so that `nobody` can serve it)."""
    root = Path(tempfile.mkdtemp(prefix="bdr-rclone-"))
    root.chmod(0o755)
    appliance = RcloneRestic(root / "data", "dental-01", "appliance password 1")
    steward = RcloneRestic(root / "data", "steward", "steward password 22", append_only=False)
    appliance.start()
    steward.start()
    yield appliance, steward
    appliance.stop()
    steward.stop()
    shutil.rmtree(root, ignore_errors=True)
