"""The monthly report of a busy appliance: wall time and peak memory of `bdr report`.

A month (October 2026, UTC) of 5 plans with hourly backups and copies, daily sample drills
of the cloud tier, weekly full drills onsite and daily checks of both repositories: about
7,500 runs. Run by `make bench` (or alone: `python bench/report.py`).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bdr.store.database import connect

ROOT = Path(__file__).resolve().parent / "work" / "report"
MONTH = "2026-10"
START = datetime(2026, 10, 1, tzinfo=UTC).timestamp()
HOUR = 3600.0

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
[checks.cloud]
repository = "cloud"
[reports]
msp = "Bench IT"
"""

PLAN = """
[plans.{name}]
sources = ["/srv/{name}"]
repository = "local"
copy_to = ["cloud"]
schedule = "0 * * * *"
rpo = "2h"
[drills.{name}-onsite]
plan = "{name}"
repository = "local"
[drills.{name}-cloud]
plan = "{name}"
repository = "cloud"
kind = "sample"
sample = "5%"
"""

PLANS = [f"plan{i}" for i in range(5)]


def _row(kind, plan, repository, subject, status, began, seconds, snapshot, details):  # type: ignore[no-untyped-def]
    return (
        kind, plan, repository, subject, status, began, began + seconds, "bench", 1, None,
        snapshot, 0 if status == "ok" else 1, None if status == "ok" else f"{kind} failed",
        10**6, 10**9, 10**5, json.dumps(details), details.get("snapshot_time"),
    )  # fmt: skip


def fill(root: Path) -> int:
    db = connect(root / "state")
    rng = random.Random(11)
    rows = []
    for hour in range(31 * 24):
        began = START + hour * HOUR
        for plan in PLANS:
            status = rng.choices(["ok", "warning", "failed"], [95, 3, 2])[0]
            snapshot = None if status == "failed" else f"{int(began):x}{plan[-1]}"
            rows.append(_row("backup", plan, "local", None, status, began, 60, snapshot, {}))
            copied = "failed" if status == "failed" or rng.random() < 0.02 else "ok"
            details = {"copied_snapshots": 1, "snapshot_time": began} if copied == "ok" else {}
            copy = None if copied == "failed" else snapshot
            rows.append(_row("copy", plan, "cloud", "local", copied, began + 60, 30, copy, details))
    for day in range(31):
        for plan in PLANS:
            began = START + day * 86400 + 3 * HOUR
            verdict = rng.choices(["passed", "rto", "data"], [90, 5, 5])[0]
            sample = {
                "kind": "sample",
                "rto": 3600,
                "snapshot_time": began - HOUR,
                "files": 500,
                "full_files": 10_000,
                "bytes": 10**8,
                "recovery_seconds": 40.0,
                "projected_seconds": 900.0,
                "projected_error_seconds": 120.0,
                "verdict": verdict,
                "reason": "" if verdict == "passed" else f"{verdict} finding",
            }
            status = "ok" if verdict == "passed" else "failed"
            rows.append(
                _row("drill", plan, "cloud", f"{plan}-cloud", status, began, 40, "ab", sample)
            )
            if day % 7 == 4:
                full = {**sample, "kind": "full", "recovery_seconds": 1500.0, "verdict": "passed"}
                rows.append(
                    _row("drill", plan, "local", f"{plan}-onsite", "ok", began, 1500, "ab", full)
                )
        for repository in ("local", "cloud"):
            check = {"subset": day % 30 + 1, "cycle": 30, "coverage": min(day + 1, 30) / 30}
            rows.append(
                _row("check", None, repository, None, "ok", START + day * 86400 + 5 * HOUR, 90,
                     None, {**check, "repository_size_bytes": 10**12})
            )  # fmt: skip
    db.executemany(
        "INSERT INTO runs (kind, plan, repository, subject, status, started_at, ended_at, host, "
        "pid, pid_start, snapshot_id, exit_code, error, bytes_added, bytes_processed, "
        "files_processed, details, snapshot_time) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.close()
    return len(rows)


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    (ROOT / "password").write_text("bench\n")
    (ROOT / "password").chmod(0o600)
    plans = "".join(PLAN.format(name=name) for name in PLANS)
    (ROOT / "bdr.toml").write_text(CONFIG.format(root=ROOT, plans=plans))
    count = fill(ROOT)
    command = [sys.executable, "-m", "bdr", "--config", str(ROOT / "bdr.toml"), "report"]
    env = {**os.environ, "TZ": "UTC"}
    # As the appliance's daemon leaves it: every run recorded in the evidence chain, which the
    # report compares the history with (not timed).
    upkeep = ["evidence", "upkeep", "--catch-up-before", repr(time.time())]
    subprocess.run([*command[:-1], *upkeep], env=env, check=True, stdout=subprocess.DEVNULL)
    walls = []
    for attempt in range(3):
        out = ROOT / f"out{attempt}"
        started = time.perf_counter()
        subprocess.run([*command, "--month", MONTH, "--out", str(out)], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        walls.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    pdf = next((ROOT / "out0").rglob("*.pdf"))
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    page_count = next((line.split()[-1] for line in pages.splitlines() if "Pages" in line), "?")
    print(
        f"  report of a month of {count} runs (HTML + PDF + JSON, whole process): "
        f"{min(walls):.2f}-{max(walls):.2f} s (median {statistics.median(walls):.2f} s), "
        f"peak RSS {peak:.0f} MB, {page_count} PDF pages"
    )
    shutil.rmtree(ROOT) if not os.environ.get("BDR_BENCH_KEEP") else None


if __name__ == "__main__":
    os.environ.setdefault("BDR_RESTIC", "restic")
    main()
