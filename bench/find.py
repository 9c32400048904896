"""`make bench`: `bdr find` against `restic find` over every snapshot of a plan: 100 snapshots
of a 100,000-file tree (1,000 folders of 100 files of 1-2 KiB), each snapshot after a few
files changed. Median of 3, in one run. The repository is made once and kept under
bench/work/find (building it takes some minutes).

The reference is restic's own search of the same snapshots (`restic find --tag`): bdr's
`find` is that search, plus the plan's snapshot listing it needs to name each hit's snapshot
and time.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

from run import INSTALLED, timed, write_folders  # bench/ is on sys.path when a bench script runs
from snapshots import init_repository, repository_env, write_config

ROOT = Path(__file__).resolve().parent / "work" / "find"
FOLDERS, PER_FOLDER = 1_000, 100
SNAPSHOTS = 100
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))
WANTED = "f0042-0042.dat"  # one name, in every snapshot


def make_repository() -> dict[str, str]:
    env = repository_env(ROOT)
    marker = ROOT / ".complete"
    if marker.exists():
        return env
    init_repository(ROOT, env)
    data = ROOT / "data"
    rng = random.Random(42)
    write_folders(data, FOLDERS, PER_FOLDER, (1024, 2048), rng)
    for index in range(SNAPSHOTS):
        for _ in range(10):  # a few files edited between two backups
            folder, number = rng.randrange(FOLDERS), rng.randrange(PER_FOLDER)
            path = data / f"d{folder:04d}" / f"f{folder:04d}-{number:04d}.dat"
            path.write_bytes(rng.randbytes(rng.randint(1024, 2048)))
        subprocess.run(
            ["restic", "backup", "--tag", "bdr-plan=office", str(data)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        print(f"  snapshot {index + 1} of {SNAPSHOTS}", file=sys.stderr)
    marker.write_text(f"{SNAPSHOTS}\n")
    return env


def main() -> None:
    env = make_repository()
    config = write_config(ROOT)
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    cache = ["--cache-dir", str(ROOT / "state" / "cache")]
    runs = {
        "restic find": (
            ["restic", *cache, "find", "--json", "--tag", "bdr-plan=office", WANTED],
            env,
        ),
        "bdr find --all-snapshots": (
            [*bdr, "--json", "find", "office", WANTED, "--all-snapshots"],
            INSTALLED,
        ),
    }
    for argv, run_env in runs.values():
        timed(argv, run_env)  # warm the cache and the page cache
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(ROUNDS):
        for name, (argv, run_env) in runs.items():
            times[name].append(timed(argv, run_env))
    reference = statistics.median(times["restic find"])
    ours = statistics.median(times["bdr find --all-snapshots"])
    print(
        f"find one name in {SNAPSHOTS} snapshots of {FOLDERS * PER_FOLDER:,} files: "
        f"restic find {reference:.2f}s, bdr find {ours:.2f}s, ratio {ours / reference:.2f}"
    )


if __name__ == "__main__":
    main()
