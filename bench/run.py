"""`make bench`: bdr against bare restic on the same tree, measured in one run.

The tree is ~500 MB in 10,000 files of incompressible data. Each round backs it up into a
fresh repository twice, once with bare `restic backup` and once with `bdr backup` (order
alternating), then once more into the same repositories with nothing changed. Reported: the
median wall times and their ratio. Nothing here is asserted; the README records the figures.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "work"
FILES = 10_000
TOTAL_BYTES = 500 * 1000 * 1000
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))
PASSWORD = "bench password"


def make_tree(root: Path) -> None:
    marker = root / ".complete"
    if marker.exists():
        return
    rng = random.Random(1)
    sizes = [rng.randint(1, 2 * TOTAL_BYTES // FILES) for _ in range(FILES)]
    for index, size in enumerate(sizes):
        folder = root / f"dir{index % 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{index:05d}.bin").write_bytes(os.urandom(size))
    marker.write_text(f"{sum(sizes)} bytes\n")


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main() -> None:
    data = ROOT / "data"
    make_tree(data)
    secret = ROOT / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    results: dict[str, list[float]] = {
        key: [] for key in ("restic", "bdr", "restic-unchanged", "bdr-unchanged")
    }
    for round_ in range(ROUNDS):
        repos = ROOT / f"repos-{round_}"
        shutil.rmtree(repos, ignore_errors=True)
        restic_env = {
            **os.environ,
            "RESTIC_REPOSITORY": str(repos / "restic"),
            "RESTIC_PASSWORD_FILE": str(secret),
        }
        subprocess.run(["restic", "init"], env=restic_env, check=True, capture_output=True)
        config = write_config(repos, secret, data)
        bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
        subprocess.run([*bdr, "init"], check=True, capture_output=True)
        bare = [
            "restic",
            "--cache-dir",
            str(repos / "restic-cache"),
            "backup",
            "--json",
            "--tag",
            "bench",
            str(data),
        ]
        runs = [("restic", bare, restic_env), ("bdr", [*bdr, "backup"], dict(os.environ))]
        if round_ % 2:
            runs.reverse()
        for name, argv, env in runs:
            results[name].append(timed(argv, env))
        for name, argv, env in runs:
            results[f"{name}-unchanged"].append(timed(argv, env))
        shutil.rmtree(repos)
    version = subprocess.run(["restic", "version"], capture_output=True, text=True).stdout
    size = (data / ".complete").read_text().split()[0]
    print(f"restic {version.split()[1]}, {FILES} files, {size} bytes, {ROUNDS} rounds")
    for kind in ("", "-unchanged"):
        bare = statistics.median(results[f"restic{kind}"])
        ours = statistics.median(results[f"bdr{kind}"])
        label = "first backup" if not kind else "unchanged re-run"
        print(f"{label:>17}: restic {bare:6.2f}s  bdr {ours:6.2f}s  ratio {ours / bare:.3f}")


def write_config(repos: Path, secret: Path, data: Path) -> Path:
    config = repos / "bdr.toml"
    config.write_text(
        f'[appliance]\nstate_dir = "{repos / "state"}"\nscratch_dir = "{repos / "scratch"}"\n'
        f'[repositories.local]\nurl = "{repos / "bdr"}"\npassword_file = "{secret}"\n'
        f'[plans.bench]\nsources = ["{data}"]\nrepository = "local"\n'
    )
    return config


if __name__ == "__main__":
    main()
