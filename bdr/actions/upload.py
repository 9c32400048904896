"""`bdr evidence upload`: the evidence leaves the box for the cloud's evidence store.

One upload is one restic snapshot (tag `bdr-evidence`) of the folder evidence/upload.py
stages. It is not a run: a run's record goes into the chain, so an upload recorded as one
would leave the chain one record ahead of the store for ever. What was uploaded, and why the
last upload failed, are daemon values that status and `bdr_evidence_upload_pending` read; the
daemon's uploader retries until nothing is pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bdr.actions.context import Context
from bdr.config.ownership import report_dir
from bdr.errors import BdrError, UsageError
from bdr.evidence import upload
from bdr.localtime import zone_name
from bdr.restic import argv as build
from bdr.restic.result import require_ok
from bdr.store import daemon_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Uploaded:
    store: str
    seq: int
    reports: int  # report files in the upload


def upload_evidence(ctx: Context) -> Uploaded:
    """Stage and back up the evidence to `[evidence] upload_to`; raise BdrError when it fails
    (noted for status: the next try uploads everything that waits)."""
    from bdr.report.load import setup_of

    store = ctx.config.evidence.upload_to
    if store is None:
        raise UsageError("[evidence] upload_to is not set: this appliance uploads no evidence")
    state_dir = ctx.config.appliance.state_dir
    try:
        # Alone: the daemon's uploader and a technician's `bdr evidence upload` share one
        # staging folder, which each empties first.
        with ctx.lock(store, purpose="evidence upload"), ctx.time_limit("upload"):
            staged = upload.stage(
                state_dir, report_dir(ctx.config), setup_of(ctx.config), zone_name()
            )
            args = ctx.restic.args(build.backup_tagged, str(staged.root), tag=upload.TAG)
            require_ok(ctx.restic.run(args, ctx.env(store)), f"evidence upload to {store}")
    except BdrError as error:
        daemon_state.note_upload_failed(ctx.db, error.message)
        raise
    except OSError as error:
        message = f"evidence upload: staging in {upload.staging_dir(state_dir)}: {error.strerror}"
        daemon_state.note_upload_failed(ctx.db, message)
        raise BdrError(message) from None
    finally:
        upload.unstage(state_dir)
    daemon_state.note_uploaded(ctx.db, staged.seq, staged.reports, ctx.now())
    log.info(
        "evidence uploaded to %s: records to %d, %d report files",
        store,
        staged.seq,
        len(staged.reports),
    )
    return Uploaded(store, staged.seq, len(staged.reports))
