"""`make bench`: what judging each backup for ransomware costs `bdr backup`, in one run.

A share of 20,000 small files of office formats (text, CSV, PDF, DOCX/XLSX/ZIP, JPEG, SQLite;
made once under bench/work/detection) is backed up into two repositories, one with
`[detection] enabled = true` (the default), one with it off. Each round: a first backup of
both, an unchanged re-run of both, then 10% of the files edited in their own format and a
backup of both (order alternating). Goals (issue 25): the detection adds at most 5% to an
unchanged backup (only the canary changed, so no `restic diff` runs), at most 15% when 10% of
the files changed. Medians of the whole `bdr backup` processes; nothing is asserted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import INSTALLED, PASSWORD  # bench/ is on sys.path when a bench script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration import office_share  # the tests' generator of real formats

ROOT = Path(__file__).resolve().parent / "work" / "detection"
FILES = 20_000
ROUNDS = int(os.environ.get("BDR_BENCH_ROUNDS", "3"))


def make_share() -> Path:
    pristine = ROOT / "pristine"
    marker = ROOT / ".complete"
    if not marker.exists():
        shutil.rmtree(pristine, ignore_errors=True)
        office_share.make_share(pristine, FILES, folders=200)
        marker.write_text(f"{FILES} files\n")
    return pristine


def write_config(where: Path, secret: Path, data: Path, enabled: bool) -> list[str]:
    config = where / "bdr.toml"
    where.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[appliance]\nstate_dir = "{where / "state"}"\nscratch_dir = "{where / "scratch"}"\n'
        f'[repositories.local]\nurl = "{where / "repo"}"\npassword_file = "{secret}"\n'
        f'[plans.office]\nsources = ["{data}"]\nrepository = "local"\n'
        f"[detection]\nenabled = {'true' if enabled else 'false'}\n"
    )
    bdr = [sys.executable, "-m", "bdr", "--config", str(config)]
    subprocess.run([*bdr, "init"], check=True, capture_output=True)
    return bdr


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        argv, env=INSTALLED, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    return time.perf_counter() - started


def main() -> None:
    pristine = make_share()
    secret = ROOT / "password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    results: dict[str, list[float]] = {
        f"{what}-{mode}": [] for what in ("unchanged", "changed") for mode in ("on", "off")
    }
    for round_ in range(ROUNDS):
        work = ROOT / f"round-{round_}"
        shutil.rmtree(work, ignore_errors=True)
        data = work / "share"
        shutil.copytree(pristine, data)
        configs = {
            "on": write_config(work / "on", secret, data, enabled=True),
            "off": write_config(work / "off", secret, data, enabled=False),
        }
        order = ["on", "off"] if round_ % 2 == 0 else ["off", "on"]
        for mode in order:
            subprocess.run(
                [*configs[mode], "backup"], env=INSTALLED, check=True, capture_output=True
            )
        for mode in order:
            results[f"unchanged-{mode}"].append(timed([*configs[mode], "backup"]))
        office_share.ordinary_edits(office_share.files_of(data), 0.10, seed=round_)
        for mode in order:
            results[f"changed-{mode}"].append(timed([*configs[mode], "backup"]))
        shutil.rmtree(work)
    print(f"detection: {FILES} files of office formats, {ROUNDS} rounds")
    for what, goal in (("unchanged", 1.05), ("changed", 1.15)):
        on = statistics.median(results[f"{what}-on"])
        off = statistics.median(results[f"{what}-off"])
        label = "unchanged re-run" if what == "unchanged" else "10% of files edited"
        verdict = "met" if on / off <= goal else "missed"
        print(
            f"{label:>20}: detection off {off:6.2f}s  on {on:6.2f}s  ratio {on / off:.3f} "
            f"(goal <= {goal}: {verdict})"
        )


if __name__ == "__main__":
    main()
