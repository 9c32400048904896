"""What leaves the appliance for the cloud's evidence store, and what is still waiting (files only).

An upload is a folder staged under `state_dir/upload` and backed up to the evidence store by
restic (actions/upload.py): the chain's whole records, the signed head that names the last of
them, the public key, what a report needs of the configuration (`setup.json`, so the MSP can
print a lost appliance's report from the cloud alone), and the signed report files. Never the
private key: the staging is a list of what goes, not the evidence folder minus what must not.

The store is append-only, so every upload is a snapshot of its own: the history of heads the
steward's audit reads to see that the chain only ever grew.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bdr.atomic import write_atomic
from bdr.config.model import Config
from bdr.config.ownership import report_dir
from bdr.evidence.chain import copy_signed, head
from bdr.evidence.keys import ALLOWED_SIGNERS, PUBLIC_FILE, evidence_dir
from bdr.store import daemon_state
from bdr.store.database import History

STAGING = "upload"
SETUP = "setup.json"
REPORTS = "reports"
# The tag of the evidence store's snapshots.
TAG = "bdr-evidence"


def staging_dir(state_dir: Path) -> Path:
    return state_dir / STAGING


@dataclass(frozen=True)
class Staged:
    root: Path
    seq: int  # the last record the staged chain holds (0: none)
    reports: tuple[str, ...]  # what `report_files` named, as the upload state keeps them


def report_files(directory: Path) -> Iterator[tuple[Path, str]]:
    """Each signed report file under `directory` (`YYYY-MM/bdr-*.{html,pdf,json}` with its
    `.sig`), with a mark that changes when the file is written again."""
    for path in sorted(directory.glob("*/bdr-*")):
        if path.suffix not in (".html", ".pdf", ".json"):
            continue
        signature = path.with_name(path.name + ".sig")
        try:
            info = path.stat()
            signature.stat()
        except OSError:
            continue  # a report being written, or one that was never signed
        yield path, f"{path.parent.name}/{path.name}:{info.st_size}:{info.st_mtime_ns}"


def pending(records: int, uploaded_seq: int, reports: Path, uploaded: set[str]) -> int:
    """Evidence records and report files the evidence store does not hold yet."""
    waiting_reports = sum(1 for _, mark in report_files(reports) if mark not in uploaded)
    return max(0, records - uploaded_seq) + waiting_reports


def waiting(config: Config, db: History) -> int:
    """What waits for `[evidence] upload_to` on this appliance (0 when it has no store)."""
    if config.evidence.upload_to is None:
        return 0
    state = daemon_state.uploaded(db)
    records = head(config.appliance.state_dir).records
    return pending(records, state.seq, report_dir(config), set(state.reports))


def stage(state_dir: Path, reports: Path, setup: object, zone_name: str | None) -> Staged:
    """Lay out the next upload under state_dir/upload (emptied first); return what it holds.

    `setup` is the report's Setup (a dataclass): what a report needs of the configuration.
    """
    root = staging_dir(state_dir)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(mode=0o700)
    source = evidence_dir(state_dir)
    seq = copy_signed(state_dir, root)
    for name in (ALLOWED_SIGNERS, PUBLIC_FILE):
        if (source / name).exists():
            shutil.copyfile(source / name, root / name)
    facts = {"setup": dataclasses.asdict(setup), "zone": zone_name}  # type: ignore[call-overload]
    write_atomic(root / SETUP, json.dumps(facts, indent=2, sort_keys=True).encode() + b"\n")
    marks = []
    for path, mark in report_files(reports):
        folder = root / REPORTS / path.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        for name in (path.name, path.name + ".sig"):
            _link_or_copy(path.with_name(name), folder / name)
        marks.append(mark)
    return Staged(root, seq, tuple(marks))


def _link_or_copy(source: Path, target: Path) -> None:
    # Reports are written by rename, never in place: a hard link is the file as it is now.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def unstage(state_dir: Path) -> None:
    shutil.rmtree(staging_dir(state_dir), ignore_errors=True)
