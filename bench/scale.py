"""`BDR_BENCH_SCALE=1 make bench`: a million files, bdr against bare restic in one run.

The tree, 1,000,000 files of 1-4 KiB in 10,000 folders of 100 (about 2.5 GB), is made once and
kept under bench/work/million with its repository (its first backup takes a while); each run
measures, beside its reference:

- an unchanged backup: `bdr backup` against `restic backup` + `restic forget` of the same tree
  into the same repository (alternating; BDR_BENCH_ROUNDS rounds, 10 by default, which also
  leaves the plan its 20 snapshots);
- `bdr find` of one name over the plan's 20 snapshots against `restic find --tag`;
- a full drill (source hash comparison on) against `restic restore --verify` + removing the
  tree, with bdr's own peak resident memory during the drill (its restic's not counted: it is
  read from /proc for bdr's process alone);
- a 5% sample drill, as a share of the full drill.

Nothing is asserted; the README records the figures.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from run import (  # bench/ is on sys.path when a bench script runs
    INSTALLED,
    bare_restore,
    drills,
    timed,
    wait_for_empty,
    write_folders,
)
from snapshots import init_repository, repository_env

ROOT = Path(__file__).resolve().parent / "work" / "million"
FOLDERS, PER_FOLDER = 10_000, 100
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "10"))
WANTED = "f04242-0042.dat"  # one name, in every snapshot
TAG = "bdr-plan=bench"

CONFIG = """
[appliance]
client = "Bench"
id = "bench-million"
state_dir = "{root}/state"
scratch_dir = "{root}/scratch"
[repositories.local]
url = "{root}/repo"
password_file = "{root}/password"
[plans.bench]
sources = ["{root}/data"]
repository = "local"
retention = {{ last = 30 }}
[drills.full]
plan = "bench"
repository = "local"
[drills.sample5]
plan = "bench"
repository = "local"
kind = "sample"
sample = "5%"
"""


def make_tree(data: Path) -> None:
    marker = ROOT / ".tree-complete"
    if marker.exists():
        return
    write_folders(data, FOLDERS, PER_FOLDER, (1024, 4096), random.Random(1_000_000))
    marker.write_text("done\n")


def make_repository() -> tuple[list[str], dict[str, str]]:
    env = repository_env(ROOT)
    init_repository(ROOT, env)
    config = ROOT / "bdr.toml"
    config.write_text(CONFIG.format(root=ROOT))
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    make_tree(ROOT / "data")
    marker = ROOT / ".backed-up"
    if not marker.exists():
        subprocess.run([*bdr, "init"], env=INSTALLED, check=True, capture_output=True)
        started = time.perf_counter()
        subprocess.run([*bdr, "backup"], env=INSTALLED, check=True, capture_output=True)
        print(f"  first backup: {time.perf_counter() - started:.1f}s", file=sys.stderr)
        marker.write_text("done\n")
    return bdr, env


def bench_backup(bdr: list[str], env: dict[str, str]) -> None:
    """Unchanged backups, bdr's and bare restic's with the plan's tag and retention, into the
    plan's repository (so every one of them is a snapshot `find` searches)."""
    cache = ["--cache-dir", str(ROOT / "state" / "cache")]
    bare = [
        ["restic", *cache, "backup", "--json", "--tag", TAG, str(ROOT / "data")],
        ["restic", *cache, "forget", "--tag", TAG, "--group-by", "tags", "--keep-last", "30"],
    ]
    times: dict[str, list[float]] = {"restic": [], "bdr": []}
    for round_ in range(ROUNDS):
        runs = [("restic", bare, env), ("bdr", [[*bdr, "backup"]], INSTALLED)]
        for name, argvs, run_env in runs if round_ % 2 == 0 else reversed(runs):
            times[name].append(sum(timed(argv, run_env) for argv in argvs))
    reference, ours = statistics.median(times["restic"]), statistics.median(times["bdr"])
    print(
        f"unchanged backup of 1,000,000 files ({ROUNDS} rounds): restic backup + forget "
        f"{reference:.2f}s, bdr backup {ours:.2f}s, ratio {ours / reference:.3f}"
    )


def bench_find(bdr: list[str], env: dict[str, str]) -> None:
    cache = ["--cache-dir", str(ROOT / "state" / "cache")]
    listed = subprocess.run(
        ["restic", *cache, "snapshots", "--json", "--tag", TAG],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    count = len(json.loads(listed.stdout))
    runs = {
        "restic": (["restic", *cache, "find", "--json", "--tag", TAG, WANTED], env),
        "bdr": ([*bdr, "--json", "find", "bench", WANTED, "--all-snapshots"], INSTALLED),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for argv, run_env in runs.values():
        timed(argv, run_env)  # warm the cache and the page cache
    for _ in range(3):
        for name, (argv, run_env) in runs.items():
            times[name].append(timed(argv, run_env))
    reference, ours = statistics.median(times["restic"]), statistics.median(times["bdr"])
    print(
        f"find one name in {count} snapshots of 1,000,000 files: restic find {reference:.2f}s, "
        f"bdr find {ours:.2f}s, ratio {ours / reference:.2f}"
    )


def peak_of(argv: list[str]) -> tuple[float, int]:
    """Run `argv` to its end; return its wall time and its own peak resident memory in bytes
    (VmHWM of that one process, polled: its children are not counted)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=INSTALLED, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    peak = 0

    def poll() -> None:
        nonlocal peak
        status = Path(f"/proc/{process.pid}/status")
        while process.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]) * 1024)
            except (OSError, ValueError):
                pass  # the process just ended
            time.sleep(0.05)

    watcher = threading.Thread(target=poll)
    watcher.start()
    _, stderr = process.communicate()
    watcher.join()
    if process.returncode != 0:
        raise SystemExit(f"{argv} failed ({process.returncode}): {stderr.decode()[-2000:]}")
    return time.perf_counter() - started, peak


def bench_drills(bdr: list[str], env: dict[str, str]) -> None:
    scratch = ROOT / "scratch"
    rounds = int(os.environ.get("BDR_BENCH_DRILL_ROUNDS", "1"))
    # The newest snapshot of the plan's tag is bdr's own (the backup bench leaves bare
    # restic's last, half of the time), as on an appliance.
    subprocess.run([*bdr, "backup"], env=INSTALLED, check=True, capture_output=True)
    bare, full, peaks = [], [], []
    for round_ in range(rounds):
        order = ["restic", "bdr"] if round_ % 2 == 0 else ["bdr", "restic"]
        for name in order:
            if name == "restic":
                bare.append(bare_restore(ROOT, ROOT / "bare-restore", env))
            else:
                seconds, peak = peak_of([*bdr, "drill", "run", "full"])
                full.append(seconds)
                peaks.append(peak)
                wait_for_empty(scratch)
    reference, ours = statistics.median(bare), statistics.median(full)
    print(
        f"full drill of 1,000,000 files ({rounds} round(s)): restic restore --verify + rm "
        f"{reference:.1f}s, bdr drill {ours:.1f}s, ratio {ours / reference:.3f}; bdr's own "
        f"peak RSS {max(peaks) / 1e6:.0f} MB"
    )
    # The sample's first run may calibrate its tier with a full restore: not timed.
    if not drills(ROOT, "sample5"):
        peak_of([*bdr, "drill", "run", "sample5"])
        wait_for_empty(scratch)
    seconds, peak = peak_of([*bdr, "drill", "run", "sample5"])
    wait_for_empty(scratch)
    print(
        f"5% sample drill of 1,000,000 files: {seconds:.1f}s, {seconds / ours:.1%} of the full "
        f"drill; bdr's own peak RSS {peak / 1e6:.0f} MB"
    )


def main() -> None:
    if not os.environ.get("BDR_BENCH_SCALE"):
        print("scale: skipped (BDR_BENCH_SCALE=1 runs it: a million files, about an hour)")
        return
    bdr, env = make_repository()
    only = os.environ.get("BDR_BENCH_ONLY")
    if only in (None, "backup"):
        bench_backup(bdr, env)
    if only in (None, "find"):
        bench_find(bdr, env)
    if only in (None, "drill"):
        bench_drills(bdr, env)


if __name__ == "__main__":
    os.environ.setdefault("BDR_RESTIC", "restic")
    main()
