"""The scratch areas of drills: `scratch_dir/<drill>/<run-id>`, each marked as bdr's own.

A drill writes a marker file holding its run id into the directory it creates, and every
removal (after the drill, or at the daemon's start for a drill that died) first reads that
marker: a directory bdr did not create and mark is never deleted, whatever its name.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path

from bdr.config.model import Config
from bdr.errors import BdrError
from bdr.fsutil import remove_tree
from bdr.store.database import History

log = logging.getLogger(__name__)

MARKER = ".bdr-scratch"


def create(scratch_dir: Path, drill: str, run_id: int) -> Path:
    """Create and mark the scratch directory of run `run_id`; raise BdrError if it exists."""
    area = scratch_dir / drill / str(run_id)
    try:
        area.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        area.mkdir(mode=0o700)
        (area / MARKER).write_text(f"{run_id}\n")
    except FileExistsError:
        raise BdrError(
            f"scratch directory {area} already exists and is not this drill's: "
            "it is left alone; move it away"
        ) from None
    except OSError as error:
        raise BdrError(f"appliance.scratch_dir: cannot create {area}: {error.strerror}") from None
    return area


def marked_run(area: Path) -> int | None:
    """Return the run id a scratch directory is marked with, or None when it is not bdr's."""
    try:
        text = (area / MARKER).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() and text == area.name else None


def remove(area: Path, run_id: int) -> None:
    """Remove the scratch directory of run `run_id`, if it is marked as that run's."""
    if marked_run(area) != run_id:
        return
    remove_tree(area)
    with contextlib.suppress(OSError):
        area.parent.rmdir()  # the drill's directory, once it holds no other run


def remove_in_background(area: Path, run_id: int) -> None:
    """Remove the scratch directory of run `run_id` in a process of its own, which the caller
    neither waits for nor shares its output with: deleting a restored tree of many files takes
    a while, and the drill's verdict is already recorded. An area the process leaves (it was
    killed) is a dead run's, removed by the next clean-up."""
    if marked_run(area) != run_id:
        return
    try:
        subprocess.Popen(
            [sys.executable, "-m", "bdr.actions.scratch", str(area), str(run_id)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C at the caller's terminal does not reach it
        )
    except OSError as error:
        log.warning("cannot remove scratch %s in the background (%s); removing it now", area, error)
        remove(area, run_id)


def remove_dead(scratch_dir: Path, running: Collection[int]) -> list[Path]:
    """Remove the marked scratch directories of runs that are not running; return them."""
    removed: list[Path] = []
    drills = sorted(scratch_dir.iterdir()) if scratch_dir.is_dir() else []
    for drill_dir in drills:
        if not drill_dir.is_dir() or drill_dir.is_symlink():
            continue
        for area in sorted(drill_dir.iterdir()):
            run_id = marked_run(area) if area.is_dir() and not area.is_symlink() else None
            if run_id is None or run_id in running:
                continue
            log.warning("removing scratch %s left by dead drill run %d", area, run_id)
            remove_tree(area)
            removed.append(area)
        with contextlib.suppress(OSError):
            drill_dir.rmdir()
    return removed


CHECK_CACHE_PREFIX = "restic-check-cache-"


def remove_check_caches(cache_dir: Path) -> list[Path]:
    """Remove the temporary caches `restic check` makes in bdr's cache directory and removes
    itself when it ends: one that is left was a check that died. Call with no check running."""
    removed: list[Path] = []
    if not cache_dir.is_dir():
        return removed
    for entry in sorted(cache_dir.iterdir()):
        if entry.name.startswith(CHECK_CACHE_PREFIX) and entry.is_dir() and not entry.is_symlink():
            log.warning("removing %s left by a restic check that died", entry)
            remove_tree(entry)
            removed.append(entry)
    return removed


def clean_up_dead(config: Config, db: History) -> list[Path]:
    """Remove what runs of dead processes left: their marked scratch areas and check caches."""
    from bdr.store import runs

    running = [run for run in runs.list_runs(db, limit=1000) if run.status == runs.RUNNING]
    removed = remove_dead(config.appliance.scratch_dir, {run.id for run in running})
    if not any(run.kind == "check" for run in running):
        removed += remove_check_caches(config.appliance.state_dir / "cache")
    return removed


if __name__ == "__main__":  # remove_in_background's process: AREA RUN-ID
    remove(Path(sys.argv[1]), int(sys.argv[2]))
