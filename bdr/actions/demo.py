"""`bdr demo`: a self-contained appliance under one directory, with local stand-ins for both tiers.

It writes sample data of a small office (documents, a SQLite database, photos), a config with
two local repositories ("onsite" and "cloud"), and secrets with the right modes. Everything is
deterministic and reused on the next run, so `make demo` can be run again and again.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from pathlib import Path

from bdr.atomic import write_atomic

PLAN = "office"
DOCUMENT_COUNT = 240
PHOTO_COUNT = 36
PHOTO_BYTES = 600_000

_WORDS = (
    "invoice", "patient", "appointment", "treatment", "insurance", "claim", "quarterly",
    "report", "balance", "payroll", "schedule", "dental", "hygiene", "x-ray", "consent",
    "referral", "supplier", "order", "delivery", "contract", "lease", "budget", "meeting",
    "minutes", "policy", "backup", "recovery", "audit", "compliance",
)  # fmt: skip


def write_sample_data(root: Path, seed: int = 7) -> None:
    """Create the office's files under `root` unless they are already there."""
    marker = root / ".complete"
    if marker.exists():
        return
    rng = random.Random(seed)
    documents = root / "documents"
    for index in range(DOCUMENT_COUNT):
        folder = documents / (
            "invoices" if index % 3 == 0 else "letters" if index % 3 == 1 else "reports"
        )
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(300, 1500)))
        (folder / f"{folder.name[:-1]}-{index:04d}.txt").write_text(words + "\n")
    photos = root / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    for index in range(PHOTO_COUNT):
        # Random bytes behind a JPEG header: incompressible, like real photos.
        body = rng.randbytes(PHOTO_BYTES + rng.randint(0, PHOTO_BYTES))
        (photos / f"IMG_{1000 + index}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + body)
    _write_database(root / "database" / "office.sqlite", rng)
    marker.write_text("sample data complete\n")


def _write_database(path: Path, rng: random.Random) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT, notes TEXT)")
        db.execute(
            "CREATE TABLE appointments (id INTEGER PRIMARY KEY, patient INTEGER, at TEXT, "
            "treatment TEXT)"
        )
        db.executemany(
            "INSERT INTO patients (name, notes) VALUES (?, ?)",
            [
                (f"Patient {i}", " ".join(rng.choice(_WORDS) for _ in range(60)))
                for i in range(8000)
            ],
        )
        db.executemany(
            "INSERT INTO appointments (patient, at, treatment) VALUES (?, ?, ?)",
            [
                (
                    rng.randint(1, 8000),
                    f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    rng.choice(_WORDS),
                )
                for _ in range(30000)
            ],
        )
    db.close()


def _integrity_check() -> list[str]:
    """SQLite's own integrity check of the restored database, with this Python's sqlite3."""
    code = (
        "import sqlite3, sys; "
        "print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])"
    )
    return [sys.executable, "-c", code, "{restore}/database/office.sqlite"]


DEMO_LOGO = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 40" width="160" height="40">
  <rect x="0" y="4" width="32" height="32" rx="6" fill="#1f4e79"/>
  <path d="M8 20 l6 6 l12 -14" stroke="white" stroke-width="4" fill="none"/>
  <text x="40" y="27" font-family="DejaVu Sans, sans-serif" font-size="15"
        fill="#1f4e79">Example IT</text>
</svg>
"""


def write_demo_config(base: Path) -> Path:
    """Write the demo's secrets and config under `base` and return the config path."""
    secrets = base / "secrets"
    secrets.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, password in (("onsite", "demo onsite pass"), ("cloud", "demo 'cloud' pass")):
        path = secrets / f"{name}.pass"
        if not path.exists():
            write_atomic(path, f"{password}\n".encode(), mode=0o600)
    config = base / "bdr.toml"
    text = f"""\
# The demo appliance: written by `bdr demo`; both tiers are local directories.
[appliance]
client = "Demo Dental Practice"
site = "Main office"
id = "demo-01"
state_dir = "{base / "state"}"
scratch_dir = "{base / "scratch"}"
lock_timeout = "5m"

[repositories.onsite]
url = "{base / "repos" / "onsite"}"
password_file = "{secrets / "onsite.pass"}"

[repositories.cloud]
url = "{base / "repos" / "cloud"}"
password_file = "{secrets / "cloud.pass"}"

[plans.{PLAN}]
sources = ["{base / "data" / "office"}"]
exclude = ["*.tmp", "~$*"]
repository = "onsite"
copy_to = ["cloud"]
schedule = "0 */4 * * *"
rpo = "4h"
retention = {{ hourly = 24, daily = 14, weekly = 8, monthly = 12 }}

# Full restore of the onsite tier, with the database's own integrity check.
[drills.office-onsite]
plan = "{PLAN}"
repository = "onsite"
kind = "full"
schedule = "30 2 * * 6"
rto = "1h"
checks = [{{ run = {json.dumps(_integrity_check())}, expect = "ok" }}]

# A 25% sample of the cloud tier, projected to a full recovery.
[drills.office-cloud]
plan = "{PLAN}"
repository = "cloud"
kind = "sample"
sample = "25%"
schedule = "0 3 * * *"
rto = "1h"

[checks.cloud]
repository = "cloud"
schedule = "0 5 * * *"
read_data_cycle = 7

[reports]
msp = "Example IT Services"
contact = "support@example-it.test, +49 30 1234567"
logo = "{base / "msp-logo.svg"}"
accent = "#1f4e79"
output_dir = "{base / "reports"}"
"""
    write_atomic(base / "msp-logo.svg", DEMO_LOGO.encode(), mode=0o644)
    write_atomic(config, text.encode(), mode=0o644)
    return config
