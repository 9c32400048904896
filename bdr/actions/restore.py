"""`bdr restore`: the technician's manual restore of a plan's snapshot into a directory.

Guards first (target, snapshot: one taken at or after a snapshot suspect of ransomware needs
--allow-suspect, and --as-of passes over such ones), then `restic restore --verify` with
progress. restic 0.14 prints no restore progress and preallocates every file at its full
size, so the target's size says nothing; on 0.14 progress is the bytes restic has written
(`/proc/<pid>/io`, wchar), measured against the restore size from `restic ls`. From 0.16 on,
restic's JSON status is used.
"""

from __future__ import annotations

import os
import posixpath
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from bdr import privilege
from bdr.actions import placement
from bdr.actions.context import Context, recorded_run
from bdr.actions.summary import RunSummary
from bdr.config.model import Config, Plan
from bdr.config.ownership import owned_paths
from bdr.errors import BdrError, UsageError
from bdr.fsnames import REPLACEMENT, json_name, shown
from bdr.fsutil import remove_tree
from bdr.localtime import in_range, localise, with_offset
from bdr.restic import argv as build
from bdr.restic.messages import Node, Snapshot, ls_nodes, restore_status
from bdr.restic.patterns import escape
from bdr.restic.result import require_ok
from bdr.store import judgements, verified
from bdr.store.outcomes import RestoreOutcome

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RestoreRequest:
    plan: str
    target: Path
    snapshot: str = "latest"
    as_of: datetime | None = None
    repository: str | None = None
    includes: tuple[str, ...] = ()
    dry_run: bool = False
    force: bool = False
    in_place: bool = False
    verify: bool = True
    allow_suspect: bool = False
    # Restore relative to the plan's source folders, not under the full path.
    strip: bool = False
    # What to do with a file already where one is restored: None refuses (listing them).
    conflict: str | None = None


@dataclass(frozen=True)
class RestorePlanInfo:
    """What a restore will bring back: the snapshot and the size of the selection."""

    repository: str
    snapshot: Snapshot
    files: int
    bytes: int
    includes: tuple[str, ...] = field(default_factory=tuple)
    # (path, size) of each regular file the listing promises: checked in the target after the
    # restore, as restic exiting 0 is not proof that anything was written.
    listed: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    # Newer snapshots --as-of passed over: taken at or after one suspect of ransomware.
    skipped_suspect: int = 0
    # Files already where the restore would put one (each a path under the target).
    conflicts: tuple[Path, ...] = ()
    strip: tuple[str, ...] | None = None  # the source roots paths are made relative to


def parse_as_of(text: str) -> datetime:
    """Parse --as-of ('2026-11-20', '2026-11-20 14:00', ISO 8601); naive times are local.

    Raises UsageError for an empty text, and for a local time that a DST change skipped or
    repeated (see `localtime.localise`).
    """
    if not text.strip():
        raise UsageError("--as-of is empty: give a date or time, e.g. '2026-11-20 14:00'")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not a date or time (use e.g. '2026-11-20 14:00')"
        ) from None
    aware = moment if moment.tzinfo else localise(moment, what="--as-of")
    return in_range(aware, what=f"--as-of {text.strip()!r}")


def select_snapshot(snapshots: list[Snapshot], spec: str, as_of: datetime | None) -> Snapshot:
    """Return the snapshot meant by `spec` ('latest' or an id prefix) and `as_of`.

    `snapshots` is the plan's list, oldest first. Raises UsageError when nothing matches.
    """
    if not snapshots:
        raise UsageError("there are no snapshots of this plan in this repository")
    if as_of is not None:
        older = [snapshot for snapshot in snapshots if snapshot.time <= as_of]
        if not older:
            raise UsageError(
                f"no snapshot as of {with_offset(as_of)}; "
                f"the oldest is from {with_offset(snapshots[0].time)}"
            )
        return older[-1]
    if not spec:
        raise UsageError("--snapshot is empty: give 'latest' or a snapshot id")
    if spec == "latest":
        return snapshots[-1]
    matches = [snapshot for snapshot in snapshots if snapshot.id.startswith(spec)]
    if not matches:
        # An id of another tier (bdr snapshots of onsite, asked in the cloud): its copy here,
        # which restic's copy records as its `original`.
        matches = [s for s in snapshots if s.original and s.original.startswith(spec)]
    if len(matches) != 1:
        problem = "matches no snapshot" if not matches else "matches several snapshots"
        raise UsageError(f"snapshot id {spec!r} {problem} of this plan", hint="see bdr snapshots")
    return matches[0]


def included(path: str, includes: Iterable[str]) -> bool:
    """Return whether snapshot `path` is one of the `--include` paths or below one (or there
    are none). Includes are paths, not patterns: `weird[1].txt` is that file."""
    wanted = [json_name(item.rstrip("/") or "/") for item in includes]
    if not wanted:
        return True
    return any(path == stem or path.startswith(stem.rstrip("/") + "/") for stem in wanted)


def selection(nodes: Iterable[Node], includes: Iterable[str]) -> list[tuple[str, int]]:
    """Return (path, size) of the regular files a restore with `includes` brings back.

    Raises BdrError for a path that would leave the target (`..`, not absolute): the listing
    is refused, never followed."""
    patterns = list(includes)
    found = []
    for node in nodes:
        parts = node.path.split("/")
        if not node.path.startswith("/") or ".." in parts or "." in parts:
            raise BdrError(
                f"the snapshot's listing names {shown(node.path)!r}, a path that would leave the "
                "target: refused, nothing was restored"
            )
        if node.type == "file" and included(node.path, patterns):
            found.append((node.path, node.size))
    return found


@dataclass(frozen=True)
class Landing:
    """Where a restore put what it restored: the folder (or the one file) all of it is in, and
    that folder's first entries with how many files and bytes each holds."""

    where: Path
    single_file: bool
    entries: tuple[tuple[str, int, int], ...]  # (name, files, bytes), the largest first


def landing(
    target: Path,
    listed: Sequence[tuple[str, int]],
    *,
    strip: Sequence[str] | None = None,
    most: int = 5,
) -> Landing:
    """Where the files of `listed` (snapshot paths, sizes) are under `target` after a restore:
    under their full paths (restic's way), or relative to their source folders (`strip`)."""
    placed = [
        (str(where), size)
        for path, size in listed
        if (where := placement.destination(target, path, strip)) is not None
    ]
    if not placed:
        return Landing(target, False, ())
    paths = [path for path, _ in placed]
    common = posixpath.commonpath(paths) if len(paths) > 1 else paths[0]
    if len(paths) == 1:
        return Landing(Path(common), True, ())
    counts: dict[str, list[int]] = {}
    for path, size in placed:
        name = path[len(common) :].lstrip("/").split("/", 1)[0]
        entry = counts.setdefault(name, [0, 0])
        entry[0] += 1
        entry[1] += size
    ranked = sorted(counts.items(), key=lambda item: (-item[1][1], item[0]))[:most]
    return Landing(Path(common), False, tuple((name, n, size) for name, (n, size) in ranked))


def missing_in(target: Path, listed: Iterable[tuple[str, int]]) -> list[str]:
    """The listed files (snapshot path, size) that are not in `target` as regular files of
    their size. A name that is not UTF-8 is spelled with U+FFFD in restic's listing: it is
    found by the spelling of its directory's entries."""
    root = os.fsencode(target)
    entries: dict[bytes, dict[str, bytes]] = {}
    wrong = []
    for path, size in listed:
        where = root + os.fsencode(path)
        if REPLACEMENT in path:
            folder, _, name = where.rpartition(b"/")
            if folder not in entries:
                try:
                    entries[folder] = {json_name(os.fsdecode(n)): n for n in os.listdir(folder)}
                except OSError:
                    entries[folder] = {}
            found = entries[folder].get(json_name(os.fsdecode(name)))
            where = folder + b"/" + found if found is not None else where
        try:
            info = os.lstat(where)
        except OSError:
            wrong.append(path)
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            wrong.append(path)
    return wrong


def check_target(target: Path, plan: Plan, config: Config, *, in_place: bool) -> None:
    """Refuse a target that would overwrite live data, mix with existing files, or land in
    what bdr owns (a drill's cleanup would delete it; a repository would be damaged)."""
    resolved = Path(os.path.realpath(target))
    for virtual in (Path("/proc"), Path("/sys"), Path("/dev")):
        if resolved == virtual or virtual in resolved.parents:
            raise UsageError(
                f"refusing to restore into {target}: {virtual} is a virtual file system"
            )
    existing = next(p for p in (resolved, *resolved.parents) if p.exists() or p == Path("/"))
    if existing != resolved and not existing.is_dir():
        raise UsageError(f"target {target} cannot be made: {existing} is not a directory")
    for key, owned in owned_paths(config):
        real = Path(os.path.realpath(owned))
        if resolved == real or real in resolved.parents:
            raise UsageError(
                f"refusing to restore into {target}: it is inside {key} ({owned}), which bdr "
                "manages and may clean up",
                hint="restore somewhere else",
            )
    if not in_place:
        if resolved == Path("/"):
            raise UsageError(
                "refusing to restore into / (that overwrites the live files)",
                hint="pass --in-place if that is really what you want",
            )
        for source in plan.sources:
            live = Path(os.path.realpath(source))
            if resolved == live or live in resolved.parents:
                raise UsageError(
                    f"refusing to restore into {target}: it is the source {source} or inside it",
                    hint="restore elsewhere, or pass --in-place",
                )
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(f"target {target} exists and is not a directory")


def plan_restore(ctx: Context, request: RestoreRequest) -> RestorePlanInfo:
    """Resolve the snapshot and measure the selection; raise UsageError on a bad request."""
    with ctx.time_limit("restore"):
        return _plan_restore(ctx, request)


def _plan_restore(ctx: Context, request: RestoreRequest) -> RestorePlanInfo:
    from bdr.actions.browse import in_snapshot, plan_snapshots, plan_tier

    plan, repository = plan_tier(ctx, request.plan, request.repository)
    empty = [item for item in request.includes if not item.strip()]
    if empty:
        raise UsageError(
            "--include is empty: give a path as in the snapshot, or relative to a source"
        )
    # A path relative to the plan's sources means that path under each of them.
    includes = tuple(
        dict.fromkeys(path for item in request.includes for path in in_snapshot(plan, item))
    )
    with privilege.elevated():  # a root restore sees the target as root will write it
        check_target(request.target, plan, ctx.config, in_place=request.in_place)
    env = ctx.env(repository)
    snapshots = plan_snapshots(ctx, request.plan, repository)
    boundary = None if request.allow_suspect else judgements.boundary(ctx.db, request.plan)
    skipped = 0
    if boundary is not None and request.as_of is not None:
        clean = [s for s in snapshots if s.time.timestamp() < boundary]
        skipped = len([s for s in snapshots if s.time <= request.as_of]) - len(
            [s for s in clean if s.time <= request.as_of]
        )
        snapshots = clean or snapshots
    snapshot = select_snapshot(snapshots, request.snapshot, request.as_of)
    if boundary is not None and snapshot.time.timestamp() >= boundary:
        _refuse_suspect(ctx, request.plan, repository, snapshot)
    nodes = require_ok(
        ctx.restic.run(ctx.restic.args(build.ls, snapshot.id), env),
        f"listing snapshot {snapshot.short_id}",
    )
    listed = selection(ls_nodes(nodes.stdout), includes)
    files, size = len(listed), sum(size for _, size in listed)
    if includes and files == 0:
        raise UsageError(
            f"--include {' '.join(request.includes)} matches no file "
            f"in snapshot {snapshot.short_id}",
            hint=f"paths are as in the snapshot or relative to a source: bdr ls {request.plan}, "
            f"bdr find {request.plan} NAME",
        )
    if includes:
        # Only the candidates the snapshot holds go to restic (a relative path under one of
        # several roots).
        includes = tuple(i for i in includes if any(included(p, (i,)) for p, _ in listed))
    strip = tuple(str(source) for source in plan.sources) if request.strip else None
    with privilege.elevated():
        clashes = tuple(placement.conflicts(request.target, listed, strip))
    if clashes and request.conflict is None and not request.force and not request.dry_run:
        first = ", ".join(shown(str(path)) for path in clashes[:5])
        raise UsageError(
            f"{len(clashes)} file(s) in {request.target} would be overwritten (first: {first})",
            hint="--conflict skip keeps them, rename puts the restored file beside each, "
            "overwrite replaces them; --dry-run lists them all",
        )
    return RestorePlanInfo(
        repository,
        snapshot,
        files,
        size,
        includes,
        tuple(listed),
        skipped,
        conflicts=clashes,
        strip=strip,
    )


def _refuse_suspect(ctx: Context, plan: str, repository: str, snapshot: Snapshot) -> None:
    """Refuse a snapshot taken at or after one of `plan` suspect of ransomware, naming the
    last clean restore point of the tier."""
    first = judgements.open_suspects(ctx.db, plan)[0]
    clean = verified.last_clean(ctx.db, plan, repository)
    where = (
        f"the last clean restore point is {clean.snapshot_id[:8]} "
        f"({with_offset(datetime.fromtimestamp(clean.snapshot_time).astimezone())})"
        if clean
        else "no snapshot before it passed a drill (bdr snapshots lists the older ones)"
    )
    raise UsageError(
        f"snapshot {snapshot.short_id} of plan {plan} may hold ransomware's work: it was taken "
        f"at or after snapshot {first.snapshot_id[:8]}, judged suspect; {where}",
        hint="bdr suspect show " + first.snapshot_id[:8] + "; restore it anyway with "
        "--allow-suspect",
    )


def restore(
    ctx: Context, request: RestoreRequest, info: RestorePlanInfo, progress: Progress | None = None
) -> RunSummary:
    """Restore the planned selection into the target, verified; record it as a restore run."""
    with (
        recorded_run(
            ctx,
            "restore",
            plan=request.plan,
            repository=info.repository,
            subject=str(request.target),
        ) as record,
        ctx.lock(info.repository, purpose=f"restore of plan {request.plan}", exclusive=False),
    ):
        record.snapshot_id = info.snapshot.short_id
        outcome = record.outcome = RestoreOutcome(
            target=str(request.target), includes=info.includes, verified=request.verify
        )
        # As root (when root runs it): the target is the client's; restic restores owners.
        with privilege.elevated():
            outcome = _restore_into_target(ctx, request, info, outcome, record.id, progress)
        if progress:
            progress(info.bytes, info.bytes)
        record.files_processed = info.files
        record.bytes_processed = info.bytes
        record.outcome = outcome
        record.message = (
            f"restored {info.files} files into {request.target}"
            + (
                f"; {outcome.skipped} kept as they were (--conflict skip)"
                if outcome.skipped
                else ""
            )
            + (
                f"; {len(outcome.renamed)} restored beside the file there (--conflict rename)"
                if outcome.renamed
                else ""
            )
        )
    return RunSummary.of(record)


def _restore_into_target(
    ctx: Context,
    request: RestoreRequest,
    info: RestorePlanInfo,
    outcome: RestoreOutcome,
    run_id: int,
    progress: Progress | None,
) -> RestoreOutcome:
    """restic's restore into the target (or a folder staged in it), checked and put in place;
    return the outcome with what was kept or renamed, and the time it took."""
    request.target.mkdir(parents=True, exist_ok=True)
    staged = info.strip is not None or request.conflict in (placement.SKIP, placement.RENAME)
    # Staged: restic restores beside the target, and the files are moved into place. A folder
    # made new here (never one of the client's of the same name): it is removed after, and bdr
    # removes only what it made.
    into = (
        Path(tempfile.mkdtemp(prefix=f".bdr-restore-{run_id}-", dir=request.target))
        if staged
        else request.target
    )
    json_progress = ctx.restic.features.restore_json_progress
    meter = _WriteMeter(info.bytes, progress) if progress and not json_progress else None
    started = time.monotonic()
    result = ctx.restic.run(
        ctx.restic.args(
            build.restore,
            info.snapshot.id,
            str(into),
            includes=[escape(item) for item in info.includes],
            verify=request.verify,
            json_progress=json_progress,
        ),
        ctx.env(info.repository),
        on_line=_json_progress(info.bytes, progress) if progress and json_progress else None,
        on_start=meter.start if meter else None,
    )
    if meter:
        meter.stop()
    try:
        require_ok(result, f"restore of snapshot {info.snapshot.short_id}")
        wrong = missing_in(into, info.listed)
        if wrong:
            raise BdrError(
                f"restore of snapshot {info.snapshot.short_id}: restic reported success, "
                f"but {len(wrong)} of {info.files} listed file(s) are not in {into} with "
                f"their size (first: {shown(wrong[0])})"
            )
        if staged:
            suffix = "restored-" + time.strftime("%Y%m%d-%H%M", time.localtime(ctx.now()))
            placed = placement.place(
                into, request.target, info.strip, request.conflict or placement.OVERWRITE, suffix
            )
            outcome = replace(
                outcome,
                skipped=len(placed.skipped),
                renamed=tuple(str(path) for path in placed.renamed.values()),
            )
    finally:
        if staged:
            remove_tree(into)
    return replace(outcome, seconds=time.monotonic() - started)


def _json_progress(total: int, progress: Progress) -> Callable[[str], None]:
    def on_line(line: str) -> None:
        for status in restore_status([line]):
            done = status.bytes_restored or int(status.percent_done * total)
            progress(min(done, total), status.total_bytes or total)

    return on_line


class _WriteMeter:
    """Polls the bytes a restic process has written, as restore progress for restic 0.14."""

    def __init__(self, total: int, progress: Progress, interval: float = 0.25) -> None:
        self.total = total
        self.progress = progress
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._poll, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _poll(self, pid: int) -> None:
        while not self._stopped.wait(self.interval):
            written = _bytes_written(pid)
            if written is None:
                return
            self.progress(min(written, self.total), self.total)


def _bytes_written(pid: int) -> int | None:
    try:
        text = Path(f"/proc/{pid}/io").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return None
