"""Sample drills against bare restic restoring the same sample, whole `bdr drill run` processes.

Three trees: 100,000 files of 1-2 KB in 500 folders (a file share of small documents), the same
count in 1,000 folders of 100 beside 1,000 documents and a 20 MB file, and the 500 MB tree of
`bench/run.py` (10,000 files). For each: a full drill and a 5% sample drill, median of 3 rounds
alternating, and the reference: bare `restic restore --verify` of *the same include set* (the
sample's own patterns, read from a `--debug` run of the same drill: a sample is seeded by the
snapshot, so every run restores the same), one whole process, its tree removed after (goal:
the sample drill <= 1.15x that). The sample's share of the full drill is printed beside it.
Run by `make bench` (or alone: `python bench/samples.py`).
"""

from __future__ import annotations

import json
import os
import random
import shlex
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


def make_wide_tree(root: Path) -> None:
    """100,000 files of 1-2 KiB in 1,000 folders of 100, beside 1,000 documents of 10-100 KiB
    in a folder of their own and one 20 MB file."""
    marker = root / ".complete"
    if marker.exists():
        return
    rng = random.Random(7)
    for index in range(SMALL):
        folder = root / "share" / f"folder{index // 100:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"doc-{index % 100:03d}.txt").write_bytes(os.urandom(rng.randint(1024, 2048)))
    documents = root / "documents"
    documents.mkdir()
    for index in range(1000):
        (documents / f"report-{index:04d}.docx").write_bytes(
            os.urandom(rng.randint(10_240, 102_400))
        )
    (root / "archive.zip").write_bytes(os.urandom(20_000_000))
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


def sample_restores(bdr: list[str]) -> list[list[str]]:
    """The restic restore command lines of one sample drill (from its --debug log)."""
    done = subprocess.run(
        [*bdr[:-2], "--debug", *bdr[-2:], "drill", "run", "sample5"],
        env=INSTALLED, check=True, capture_output=True, text=True,
    )  # fmt: skip
    lines = [
        line.split("running ", 1)[1]
        for line in done.stderr.splitlines()
        if "running restic" in line
    ]
    return [shlex.split(line) for line in lines if " restore " in line]


def bare_restore(work: Path, secret: Path, restores: list[list[str]]) -> float:
    """The reference: bare `restic restore --verify` of the sample drill's own include set, in
    one restic process (its key derivation and index load included), then removing the tree."""
    target = work / "bare"
    env = {
        **INSTALLED,
        "RESTIC_REPOSITORY": str(work / "repo"),
        "RESTIC_PASSWORD_FILE": str(secret),
    }
    first = restores[0]
    includes = [arg for argv in restores for arg in _pairs(argv, "--include")]
    head = first[: first.index("--target")]
    argv = [*head, "--target", str(target), "--verify", *includes]
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    shutil.rmtree(target)
    return time.perf_counter() - started


def _pairs(argv: list[str], flag: str) -> list[str]:
    return [arg for index, value in enumerate(argv[:-1]) if value == flag
            for arg in (flag, argv[index + 1])]  # fmt: skip


def bench(label: str, data: Path, secret: Path) -> None:
    work = ROOT / f"samples-{data.name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    config = work / "bdr.toml"
    config.write_text(CONFIG.format(work=work, secret=secret, data=data))
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    subprocess.run([*bdr, "init"], check=True, capture_output=True)
    subprocess.run([*bdr, "backup"], check=True, capture_output=True)
    # The first drills: the sample calibrates its tier with a full restore, the full drill
    # gives its projection a measure; neither is timed.
    for name in ("sample5", "full"):
        timed([*bdr, "drill", "run", name], work / "scratch")
    restores = sample_restores(bdr)
    times: dict[str, list[float]] = {"full": [], "sample5": [], "floor": []}
    for round_ in range(ROUNDS):
        order = ["full", "sample5"] if round_ % 2 == 0 else ["sample5", "full"]
        for name in order:
            times[name].append(timed([*bdr, "drill", "run", name], work / "scratch"))
        times["floor"].append(bare_restore(work, secret, restores))
    with sqlite3.connect(work / "state" / "bdr.sqlite") as db:
        rows = db.execute(
            "SELECT details FROM runs WHERE kind = 'drill' AND subject = 'sample5' ORDER BY id"
        ).fetchall()
    last = json.loads(rows[-1][0])
    full, sample = statistics.median(times["full"]), statistics.median(times["sample5"])
    floor = statistics.median(times["floor"])
    patterns = len(_pairs(restores[0], "--include")) // 2
    print(
        f"  {label}: 5% sample drill {sample:6.2f}s = {sample / floor:.2f}x bare restic "
        f"restore --verify of the same sample ({floor:5.2f}s, {patterns} patterns); full "
        f"drill {full:6.2f}s, the sample {sample / full:.0%} of it; the sample held "
        f"{last['files']} of {last['full_files']} files "
        f"({last['files'] / last['full_files']:.1%}) and "
        f"{last['bytes'] / last['full_bytes']:.1%} of the bytes"
    )
    shutil.rmtree(work)


def main() -> None:
    secret = ROOT / "password"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    small = ROOT / "small-files"
    make_small_tree(small)
    bench("100,000 files of 1-2 KB in 500 folders", small, secret)
    wide = ROOT / "wide-files"
    make_wide_tree(wide)
    bench("100,000 files of 1-2 KiB in 1,000 folders, 1,000 documents, 20 MB", wide, secret)
    big = ROOT / "data"
    make_tree(big)
    bench("500 MB in 10,000 files", big, secret)


if __name__ == "__main__":
    os.environ.setdefault("BDR_RESTIC", "restic")
    main()
