"""Sample drills against full drills of the same snapshot, whole `bdr drill run` processes.

Two trees: 100,000 files of 1-2 KB in 500 folders (a file share of small documents), and the
500 MB tree of `bench/run.py` (10,000 files). For each: a full drill and a 5% sample drill,
median of 3 rounds alternating, and the sample's share of the full drill's wall time (goal:
<= 15%); beside them the floor under any sample drill, bare `restic restore --verify` of 5% of
the folders. Run by `make bench` (or alone: `python bench/samples.py`).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import INSTALLED, PASSWORD, ROOT, make_tree

ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))
SMALL = 100_000


def make_small_tree(root: Path) -> None:
    marker = root / ".complete"
    if marker.exists():
        return
    rng = random.Random(5)
    for index in range(SMALL):
        folder = root / f"folder{index // 200:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"doc-{index % 200:04d}.txt").write_bytes(os.urandom(rng.randint(1000, 2000)))
    marker.write_text("done\n")


CONFIG = """
[appliance]
client = "Bench"
id = "bench-samples"
state_dir = "{work}/state"
scratch_dir = "{work}/scratch"
[repositories.local]
url = "{work}/repo"
password_file = "{secret}"
[plans.tree]
sources = ["{data}"]
repository = "local"
[drills.full]
plan = "tree"
repository = "local"
[drills.sample5]
plan = "tree"
repository = "local"
kind = "sample"
sample = "5%"
"""


def timed(argv: list[str], scratch: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, env=INSTALLED, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - started
    # A drill's tree is removed by a process of its own after bdr returns; the next drill is
    # timed once it is gone, not while 100,000 files are being deleted beside it.
    while scratch.exists() and any(scratch.iterdir()):
        time.sleep(0.1)
    return elapsed


def bare_restore(work: Path, secret: Path, folders: list[Path]) -> float:
    """The floor under any sample drill: bare `restic restore --verify` of whole folders
    holding 5% of the tree (one restic process: its key derivation and index load included),
    then removing them."""
    target = work / "bare"
    env = {
        **INSTALLED,
        "RESTIC_REPOSITORY": str(work / "repo"),
        "RESTIC_PASSWORD_FILE": str(secret),
    }
    includes = [arg for folder in folders for arg in ("--include", str(folder))]
    started = time.perf_counter()
    subprocess.run(
        ["restic", "--cache-dir", str(work / "state" / "cache"), "restore", "latest",
         "--target", str(target), "--verify", *includes],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    shutil.rmtree(target)
    return time.perf_counter() - started


def bench(label: str, data: Path, secret: Path) -> None:
    work = ROOT / f"samples-{data.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = work / "bdr.toml"
    config.write_text(CONFIG.format(work=work, secret=secret, data=data))
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    subprocess.run([*bdr, "init"], check=True, capture_output=True)
    subprocess.run([*bdr, "backup"], check=True, capture_output=True)
    folders = sorted(path for path in data.iterdir() if path.is_dir())
    twentieth = folders[::20]  # 5% of the folders, each holding as many files as the others
    times: dict[str, list[float]] = {"full": [], "sample5": [], "floor": []}
    for round_ in range(ROUNDS):
        order = ["full", "sample5"] if round_ % 2 == 0 else ["sample5", "full"]
        for name in order:
            times[name].append(timed([*bdr, "drill", "run", name], work / "scratch"))
        times["floor"].append(bare_restore(work, secret, twentieth))
    with sqlite3.connect(work / "state" / "bdr.sqlite") as db:
        rows = db.execute(
            "SELECT details FROM runs WHERE kind = 'drill' AND subject = 'sample5' ORDER BY id"
        ).fetchall()
    last = json.loads(rows[-1][0])
    full, sample = statistics.median(times["full"]), statistics.median(times["sample5"])
    floor = statistics.median(times["floor"])
    print(
        f"  {label}: full drill {full:6.2f}s, 5% sample drill {sample:6.2f}s = "
        f"{sample / full:.0%} of the full drill; the sample held {last['files']} of "
        f"{last['full_files']} files ({last['files'] / last['full_files']:.1%}) and "
        f"{last['bytes'] / last['full_bytes']:.1%} of the bytes; bare restic restore --verify "
        f"of 5% of the folders {floor:5.2f}s = {floor / full:.0%} of the full drill"
    )
    shutil.rmtree(work)


def main() -> None:
    secret = ROOT / "password"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    small = ROOT / "small-files"
    make_small_tree(small)
    bench("100,000 files of 1-2 KB", small, secret)
    big = ROOT / "data"
    make_tree(big)
    bench("500 MB in 10,000 files", big, secret)


if __name__ == "__main__":
    os.environ.setdefault("BDR_RESTIC", "restic")
    main()
