"""`make bench`: `bdr snapshots` against `restic snapshots --json` of a repository holding 500
snapshots of one plan, median of 3, in one run. The repository is made once and kept under
bench/work/snapshots (500 restic backups of a small tree, two at a time)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from run import INSTALLED, timed  # bench/ is on sys.path when a bench script runs

ROOT = Path(__file__).resolve().parent / "work" / "snapshots"
COUNT = 500
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))


def repository_env(root: Path) -> dict[str, str]:
    """restic's environment for a bench's repository root/repo (password in root/password)."""
    return {
        **os.environ,
        "RESTIC_REPOSITORY": str(root / "repo"),
        "RESTIC_PASSWORD_FILE": str(root / "password"),
    }


def init_repository(root: Path, env: dict[str, str]) -> None:
    """Make `root`, its password file and the repository, unless a run before made them."""
    root.mkdir(parents=True, exist_ok=True)
    secret = root / "password"
    secret.write_text("bench password\n")
    secret.chmod(0o600)
    if not (root / "repo" / "config").exists():
        subprocess.run(["restic", "init"], env=env, check=True, capture_output=True)


def make_repository() -> dict[str, str]:
    env = repository_env(ROOT)
    marker = ROOT / ".complete"
    if marker.exists():
        return env
    init_repository(ROOT, env)
    data = ROOT / "data"
    data.mkdir(exist_ok=True)
    (data / "a.txt").write_text("a small tree\n")

    def backup(index: int) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(1_700_000_000 + index * 3600))
        subprocess.run(
            ["restic", "backup", "--tag", "bdr-plan=office", "--time", when, str(data)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(backup, range(COUNT)))
    marker.write_text(f"{COUNT}\n")
    return env


def write_config(root: Path = ROOT) -> Path:
    """The config of one plan `office` of root/data into the repository root/repo."""
    config = root / "bdr.toml"
    config.write_text(
        f'[appliance]\nstate_dir = "{root / "state"}"\nscratch_dir = "{root / "scratch"}"\n'
        f'[repositories.local]\nurl = "{root / "repo"}"\npassword_file = "{root / "password"}"\n'
        f'[plans.office]\nsources = ["{root / "data"}"]\nrepository = "local"\n'
    )
    return config


def main() -> None:
    env = make_repository()
    config = write_config()
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    installed = INSTALLED
    cache = ["--cache-dir", str(ROOT / "state" / "cache")]
    runs = {
        "restic snapshots --json": (["restic", *cache, "snapshots", "--json"], env),
        "bdr snapshots": ([*bdr, "snapshots"], installed),
        "bdr --json snapshots": ([*bdr, "--json", "snapshots"], installed),
    }
    for argv, run_env in runs.values():
        timed(argv, run_env)  # warm the cache and the page cache
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, (argv, run_env) in runs.items():
            times[name].append(timed(argv, run_env))
    reference = statistics.median(times["restic snapshots --json"])
    print(f"{COUNT} snapshots: restic snapshots --json {reference:.2f}s")
    for name in ("bdr snapshots", "bdr --json snapshots"):
        ours = statistics.median(times[name])
        print(f"  {name:>22}: {ours:.2f}s  ratio {ours / reference:.2f}")


if __name__ == "__main__":
    main()
