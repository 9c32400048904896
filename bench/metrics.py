"""A busy appliance's years: scrape latency, the daemon's idle memory, `bdr status` and one
month's report over a history of a million runs (BDR_BENCH_RUNS to change it).

Run by `make bench` after the backup and drill figures (or alone: `python bench/metrics.py`).
The history is written straight into the store (a run every 10 minutes: about 19 years, up to
now); the report is of the last full month, without an evidence chain (catching one up over a
million runs is the upkeep's work, not the report's).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bdr.config.load import load_config
from bdr.metrics.exporter import exposition
from bdr.store.database import connect

ROOT = Path(__file__).resolve().parent / "work" / "metrics"
RUNS = int(os.environ.get("BDR_BENCH_RUNS", "1000000"))
SCRAPES = 300

CONFIG = """
[appliance]
client = "Bench Dental"
id = "bench-01"
state_dir = "{root}/state"
scratch_dir = "{root}/scratch"
[repositories.local]
url = "{root}/repo"
password_file = "{root}/password"
[repositories.cloud]
url = "{root}/cloud"
password_file = "{root}/password"
{plans}
[checks.local]
repository = "local"
schedule = "0 5 * * *"
[checks.cloud]
repository = "cloud"
schedule = "0 6 * * *"
[metrics]
listen = "127.0.0.1:{port}"
"""

PLAN = """
[plans.{name}]
sources = ["/srv/{name}"]
repository = "local"
copy_to = ["cloud"]
schedule = "0 */4 * * *"
[drills.{name}-onsite]
plan = "{name}"
repository = "local"
schedule = "0 2 * * 6"
[drills.{name}-cloud]
plan = "{name}"
repository = "cloud"
kind = "sample"
sample = "5%"
schedule = "0 3 * * *"
"""

PLANS = [f"plan{i}" for i in range(5)]


def fill(root: Path) -> None:
    """Write RUNS finished runs, a realistic mix, straight into the store."""
    db = connect(root / "state")
    rng = random.Random(3)
    rows = []
    start = time.time() - RUNS * 600
    for index in range(RUNS):
        plan = rng.choice(PLANS)
        kind = rng.choices(["backup", "copy", "retention", "drill", "check"], [6, 6, 2, 1, 1])[0]
        repository = "cloud" if kind == "copy" or rng.random() < 0.5 else "local"
        status = rng.choices(["ok", "warning", "failed"], [90, 7, 3])[0]
        subject = None
        details: dict[str, object] = {}
        if kind == "drill":
            subject = f"{plan}-{'onsite' if repository == 'local' else 'cloud'}"
            details = {
                "verdict": "passed" if status == "ok" else "rto",
                "recovery_seconds": 60,
                "projected_seconds": 600,
                "verified_files": 1000,
                "mismatched_files": 0,
                "snapshot_time": start + index * 600,
            }
        elif kind == "check":
            plan = None  # type: ignore[assignment]
            details = {
                "subset": index % 30 + 1,
                "cycle": 30,
                "coverage": 1.0,
                "repository_size_bytes": 10**12,
            }
        began = start + index * 600
        rows.append(
            (
                kind,
                plan,
                repository,
                subject,
                status,
                began,
                began + 300,
                "bench",
                1,
                None,
                "abcd1234",
                0,
                None,
                10**6,
                10**9,
                10**5,
                json.dumps(details),
                details.get("snapshot_time"),
            )
        )
    db.executemany(
        "INSERT INTO runs (kind, plan, repository, subject, status, started_at, ended_at, host, "
        "pid, pid_start, snapshot_id, exit_code, error, bytes_added, bytes_processed, "
        "files_processed, details, snapshot_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    for plan in PLANS:
        for repository in ("local", "cloud"):
            db.execute(
                "INSERT INTO latest_snapshots VALUES (?, ?, 'abcd1234', ?, ?)",
                (plan, repository, time.time(), time.time()),
            )
    db.close()


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    (ROOT / "password").write_text("bench\n")
    (ROOT / "password").chmod(0o600)
    port = 19898
    (ROOT / "bdr.toml").write_text(
        CONFIG.format(root=ROOT, port=port, plans="".join(PLAN.format(name=name) for name in PLANS))
    )
    config = load_config(ROOT / "bdr.toml")
    fill(ROOT)
    times = []
    for _ in range(SCRAPES):
        started = time.perf_counter()
        exposition(config)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"  scrape over {RUNS} runs: p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms "
        f"({SCRAPES} collections, in process)"
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "bdr", "--config", str(ROOT / "bdr.toml"), "daemon"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(8)
        import urllib.request

        scrapes = []
        for _ in range(SCRAPES):  # what Prometheus sees: the whole HTTP round trip
            started = time.perf_counter()
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
            scrapes.append((time.perf_counter() - started) * 1000)
        scrapes.sort()
        print(
            f"  scrape over HTTP from the daemon: p50 {statistics.median(scrapes):.1f} ms, "
            f"p99 {scrapes[int(len(scrapes) * 0.99) - 1]:.1f} ms"
        )
        time.sleep(2)
        status = Path(f"/proc/{daemon.pid}/status").read_text()
        rss = next(line for line in status.splitlines() if line.startswith("VmRSS"))
        print(f"  daemon idle after {SCRAPES} scrapes: {rss.split(':')[1].strip()} resident")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    bdr = [sys.executable, "-m", "bdr", "--config", str(ROOT / "bdr.toml")]
    for label, argv in (
        ("bdr status", [*bdr, "status"]),
        ("bdr report (the last full month)", [*bdr, "report", "--out", str(ROOT)]),
    ):
        walls = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run(argv, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - started)
        print(
            f"  {label} over {RUNS} runs: median {statistics.median(walls):.2f} s (whole process)"
        )
    shutil.rmtree(ROOT) if not os.environ.get("BDR_BENCH_KEEP") else None


if __name__ == "__main__":
    os.environ.setdefault("BDR_RESTIC", "restic")
    main()
