"""`make bench`: bdr against bare restic on the same tree, measured in one run.

The tree is ~500 MB in 10,000 files of incompressible data.

Backup: each round backs it up into a fresh repository twice, once with bare `restic backup`
followed by `restic forget` of the same policy (daily 7) and once with `bdr backup` (order
alternating), then once more with nothing changed.

Drill: a full drill (source hash comparison on) against bare `restic restore --verify` of the
same snapshot followed by removing the restored tree; then sample drills of 5% and 10%, whose
projected full recovery is compared with the measured full drills: |projected - measured| /
measured, first with only full drills of another plan (half the tree) in the tier's history
(goal <= 25%), then with one full drill of the plan itself (goal <= 15%).

Reported: median wall times and ratios. Nothing is asserted; the README records the figures.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent / "work"
FILES = 10_000
TOTAL_BYTES = 500 * 1000 * 1000
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))
PASSWORD = "bench password"
# bdr as installed: pip compiles its modules once; a PYTHONDONTWRITEBYTECODE=1 shell would make
# every bdr here compile them again (about 40 ms a process).
INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


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


def write_folders(
    data: Path, folders: int, per_folder: int, sizes: tuple[int, int], rng: random.Random
) -> None:
    """Write `folders` folders of `per_folder` files of random bytes (sizes between the two
    given), named d0042/f0042-0007.dat (as many digits as `folders` has)."""
    width = len(str(folders))
    for folder in range(folders):
        directory = data / f"d{folder:0{width}d}"
        directory.mkdir(parents=True, exist_ok=True)
        for number in range(per_folder):
            path = directory / f"f{folder:0{width}d}-{number:04d}.dat"
            path.write_bytes(rng.randbytes(rng.randint(*sizes)))


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
    version = subprocess.run(["restic", "version"], capture_output=True, text=True).stdout
    size = (data / ".complete").read_text().split()[0]
    print(f"restic {version.split()[1]}, {FILES} files, {size} bytes, {ROUNDS} rounds")
    if os.environ.get("BDR_BENCH_ONLY") != "drill":
        bench_backup(data, secret)
    if os.environ.get("BDR_BENCH_ONLY") != "backup":
        bench_drill(data, secret)


def bench_backup(data: Path, secret: Path) -> None:
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
        # The same policy by hand: bdr's backup forgets by its plan's retention after backing up.
        forget = [
            "restic", "--cache-dir", str(repos / "restic-cache"), "forget", "--tag", "bench",
            "--group-by", "tags", "--keep-daily", "7",
        ]  # fmt: skip
        runs = [
            ("restic", [bare, forget], restic_env),
            ("bdr", [[*bdr, "backup"]], INSTALLED),
        ]
        if round_ % 2:
            runs.reverse()
        for name, argvs, env in runs:
            results[name].append(sum(timed(argv, env) for argv in argvs))
        for name, argvs, env in runs:
            results[f"{name}-unchanged"].append(sum(timed(argv, env) for argv in argvs))
        shutil.rmtree(repos)
    for kind in ("", "-unchanged"):
        bare = statistics.median(results[f"restic{kind}"])
        ours = statistics.median(results[f"bdr{kind}"])
        label = "first backup" if not kind else "unchanged re-run"
        print(f"{label:>17}: restic {bare:6.2f}s  bdr {ours:6.2f}s  ratio {ours / bare:.3f}")


def write_config(repos: Path, secret: Path, data: Path, extra: str = "") -> Path:
    config = repos / "bdr.toml"
    repos.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[appliance]\nstate_dir = "{repos / "state"}"\nscratch_dir = "{repos / "scratch"}"\n'
        f'[repositories.local]\nurl = "{repos / "bdr"}"\npassword_file = "{secret}"\n'
        f'[plans.bench]\nsources = ["{data}"]\nrepository = "local"\n'
        f"retention = {{ daily = 7 }}\n{extra}"
    )
    return config


DRILLS = """
[plans.half]
sources = [HALF]
repository = "local"
[drills.half]
plan = "half"
repository = "local"
[drills.full]
plan = "bench"
repository = "local"
source_compare = "hash"
[drills.sample5]
plan = "bench"
repository = "local"
kind = "sample"
sample = "5%"
[drills.sample10]
plan = "bench"
repository = "local"
kind = "sample"
sample = "10%"
"""


def bench_drill(data: Path, secret: Path) -> None:
    repos = ROOT / "drill"
    shutil.rmtree(repos, ignore_errors=True)
    half = ", ".join(f'"{data / f"dir{i:03d}"}"' for i in range(50))
    config = write_config(repos, secret, data, DRILLS.replace("HALF", half))
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    subprocess.run([*bdr, "init"], check=True, capture_output=True)
    subprocess.run([*bdr, "backup"], check=True, capture_output=True)
    restic_env = {
        **os.environ,
        "RESTIC_REPOSITORY": str(repos / "bdr"),
        "RESTIC_PASSWORD_FILE": str(secret),
    }

    # The tier first knows only full drills of another plan (half of the tree): the sample
    # drills are projected from those. Then one full drill of the plan itself, and the samples
    # are projected again.
    def samples() -> dict[str, dict[str, Any]]:
        for _ in range(ROUNDS):
            for name in ("sample5", "sample10"):
                subprocess.run([*bdr, "drill", "run", name], capture_output=True, check=True)
                wait_for_empty(repos / "scratch")
        return {name: drills(repos, name)[-1] for name in ("sample5", "sample10")}

    for _ in range(2):
        subprocess.run([*bdr, "drill", "run", "half"], capture_output=True, check=True)
        wait_for_empty(repos / "scratch")
    other_plan = samples()
    subprocess.run([*bdr, "drill", "run", "full"], capture_output=True, check=True)
    wait_for_empty(repos / "scratch")
    own_plan = samples()
    target = repos / "bare-restore"
    bare: list[float] = []
    full: list[float] = []
    for round_ in range(ROUNDS):
        runs = [
            ("restic", lambda: bare_restore(repos, target, restic_env)),
            ("bdr", lambda: timed([*bdr, "drill", "run", "full"], INSTALLED)),
        ]
        if round_ % 2:
            runs.reverse()
        for name, run in runs:
            (bare if name == "restic" else full).append(run())
            wait_for_empty(repos / "scratch")  # bdr's removal, after bdr returned
    measured = statistics.median(d["recovery_seconds"] for d in drills(repos, "full"))
    print(
        f"       full drill: restic restore --verify + rm {statistics.median(bare):6.2f}s  "
        f"bdr drill {statistics.median(full):6.2f}s  "
        f"ratio {statistics.median(full) / statistics.median(bare):.3f}  "
        f"(recovery time of the drill {measured:.2f}s)"
    )
    for name in ("sample5", "sample10"):
        for label, result in (
            ("full drills of another plan only", other_plan[name]),
            ("+ one full drill of this plan", own_plan[name]),
        ):
            error = abs(result["projected_seconds"] - measured) / measured
            print(
                f"  {name:>8} projection, history of {label:<32}: "
                f"{result['projected_seconds']:6.2f}s ({result['projection_method']}) vs "
                f"measured {measured:6.2f}s: error {error:.1%}"
            )
    if not os.environ.get("BDR_BENCH_KEEP"):  # kept: its history, to see where time went
        shutil.rmtree(repos)


def bare_restore(repos: Path, target: Path, env: dict[str, str]) -> float:
    """The reference of a full drill: `restic restore --verify` of the plan's newest snapshot
    (the tag matters: the smaller plan's snapshot is newer), then removing the tree."""
    started = time.perf_counter()
    subprocess.run(
        ["restic", "--cache-dir", str(repos / "state" / "cache"), "restore", "latest",
         "--tag", "bdr-plan=bench", "--target", str(target), "--verify"],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    shutil.rmtree(target)
    return time.perf_counter() - started


def wait_for_empty(scratch: Path) -> None:
    while scratch.exists() and any(scratch.iterdir()):
        time.sleep(0.05)


def drills(repos: Path, name: str) -> list[dict[str, Any]]:
    """Return the details of drill `name`'s runs, oldest first, from the bench's history."""
    with sqlite3.connect(repos / "state" / "bdr.sqlite") as db:
        rows = db.execute(
            "SELECT details FROM runs WHERE kind = 'drill' AND subject = ? ORDER BY id", (name,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


if __name__ == "__main__":
    main()
