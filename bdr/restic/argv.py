"""Pure builders of restic command lines.

Each returns the whole argv as a tuple. The repository, passwords and credentials are never
here: they reach restic through the environment (see `restic/environment.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Retention(Protocol):
    """A retention policy as restic's `--keep-*` flags take it (the config's `retention`)."""

    @property
    def last(self) -> int | None: ...
    @property
    def hourly(self) -> int | None: ...
    @property
    def daily(self) -> int | None: ...
    @property
    def weekly(self) -> int | None: ...
    @property
    def monthly(self) -> int | None: ...
    @property
    def yearly(self) -> int | None: ...


Argv = tuple[str, ...]


def plan_tag(plan: str) -> str:
    """Return the tag that marks the snapshots of `plan`."""
    return f"bdr-plan={plan}"


# The cache_dir of a restic that must not touch bdr's cache (one run as root).
NO_CACHE = ""


def _base(binary: str, cache_dir: str | None) -> Argv:
    if cache_dir == NO_CACHE:
        return (binary, "--no-cache")
    return (binary, "--cache-dir", cache_dir) if cache_dir else (binary,)


def version(binary: str = "restic") -> Argv:
    return (binary, "version")


def cat_config(binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv that opens the repository and nothing more: proves it exists and the key works."""
    return (*_base(binary, cache_dir), "cat", "config")


def init(
    binary: str = "restic", cache_dir: str | None = None, *, copy_chunker_params: bool = False
) -> Argv:
    """Argv of `restic init`; with `copy_chunker_params` the source is RESTIC_FROM_REPOSITORY."""
    extra = ("--copy-chunker-params",) if copy_chunker_params else ()
    return (*_base(binary, cache_dir), "init", *extra)


def backup(
    sources: Sequence[str],
    *,
    plan: str,
    excludes: Sequence[str] = (),
    each_file: bool = False,
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    """Argv of a backup; `each_file`: restic says of every file whether it is new, modified or
    unchanged (a `verbose_status` message each), as the ransomware judgement reads them."""
    exclude_args = tuple(arg for pattern in excludes for arg in ("--exclude", pattern))
    return (
        *_base(binary, cache_dir),
        "backup",
        "--json",
        *(("--verbose",) if each_file else ()),
        "--tag",
        plan_tag(plan),
        *exclude_args,
        "--",
        *sources,
    )


def backup_tagged(
    path: str, *, tag: str, binary: str = "restic", cache_dir: str | None = None
) -> Argv:
    """Argv of a backup of one folder under `tag` (not a plan's: the evidence upload)."""
    return (*_base(binary, cache_dir), "backup", "--json", "--tag", tag, "--", path)


def dump(snapshot: str, path: str, *, binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv that writes one file of `snapshot` to stdout."""
    return (*_base(binary, cache_dir), "dump", "--", snapshot, path)


def find(
    pattern: str,
    *,
    snapshot_id: str | None = None,
    plan: str | None = None,
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    """Argv that finds files named like `pattern` in one snapshot, or in every snapshot of
    `plan`."""
    chosen = ("--snapshot", snapshot_id) if snapshot_id else ("--tag", plan_tag(plan or ""))
    return (*_base(binary, cache_dir), "find", "--json", *chosen, "--", pattern)


def copy(plan: str, *, binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv that copies the plan's snapshots from RESTIC_FROM_REPOSITORY; copies are idempotent."""
    return (*_base(binary, cache_dir), "copy", "--tag", plan_tag(plan))


def forget(
    plan: str,
    retention: Retention,
    *,
    dry_run: bool = False,
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    """Argv that forgets the plan's snapshots beyond its policy (prune is a separate step);
    with `dry_run`, that only lists what the policy keeps and removes.

    Grouping by tags makes each plan one group whatever its hosts and paths were, so a change
    of sources never leaves old snapshots outside the policy.
    """
    keeps: list[str] = []
    for field, flag in (
        ("last", "--keep-last"),
        ("hourly", "--keep-hourly"),
        ("daily", "--keep-daily"),
        ("weekly", "--keep-weekly"),
        ("monthly", "--keep-monthly"),
        ("yearly", "--keep-yearly"),
    ):
        value = getattr(retention, field)
        if value:
            keeps += [flag, str(value)]
    return (
        *_base(binary, cache_dir),
        "forget",
        "--json",
        *(("--dry-run",) if dry_run else ()),
        "--tag",
        plan_tag(plan),
        "--group-by",
        "tags",
        *keeps,
    )


def forget_ids(
    snapshot_ids: Sequence[str], *, binary: str = "restic", cache_dir: str | None = None
) -> Argv:
    """Argv that forgets exactly `snapshot_ids` (full ids, chosen by bdr from a dry run)."""
    return (*_base(binary, cache_dir), "forget", "--json", "--", *snapshot_ids)


def diff(
    previous: str, current: str, *, binary: str = "restic", cache_dir: str | None = None
) -> Argv:
    """Argv that lists, one JSON message a path, what changed from `previous` to `current`."""
    return (*_base(binary, cache_dir), "diff", "--json", previous, current)


def prune(
    *, max_unused: str | None = None, binary: str = "restic", cache_dir: str | None = None
) -> Argv:
    extra = ("--max-unused", max_unused) if max_unused else ()
    return (*_base(binary, cache_dir), "prune", *extra)


def snapshots(
    *,
    plan: str | None = None,
    tagged: str | None = None,
    latest: int | None = None,
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    tag = ("--tag", plan_tag(plan)) if plan else ("--tag", tagged) if tagged else ()
    newest = ("--latest", str(latest)) if latest else ()
    return (*_base(binary, cache_dir), "snapshots", "--json", *tag, *newest)


def ls(
    snapshot_id: str,
    *,
    plan: str | None = None,
    within: Sequence[str] = (),
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    """Argv that lists a snapshot (its first JSON line) and its nodes; with `plan`, "latest"
    means the plan's newest snapshot, which saves a separate `snapshots` call. With `within`
    (absolute paths), only those paths and everything under them are listed, and restic reads
    only the trees on the way there."""
    tag = ("--tag", plan_tag(plan)) if plan else ()
    recursive = ("--recursive",) if within else ()
    return (*_base(binary, cache_dir), "ls", "--json", *tag, *recursive, snapshot_id, *within)


def restore(
    snapshot_id: str,
    target: str,
    *,
    includes: Sequence[str] = (),
    verify: bool = True,
    json_progress: bool = False,
    plan: str | None = None,
    binary: str = "restic",
    cache_dir: str | None = None,
) -> Argv:
    """Argv that restores a snapshot into `target`; with `plan`, "latest" means the plan's
    newest snapshot, as for `ls`."""
    include_args = tuple(arg for path in includes for arg in ("--include", path))
    tag = ("--tag", plan_tag(plan)) if plan else ()
    return (
        *_base(binary, cache_dir),
        "restore",
        *(("--json",) if json_progress else ()),
        *tag,
        snapshot_id,
        "--target",
        target,
        *include_args,
        *(("--verify",) if verify else ()),
    )


def unlock(binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv of `restic unlock`: removes stale locks only, never a live one."""
    return (*_base(binary, cache_dir), "unlock")


def stats_raw(binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv of the repository's stored size (all snapshots, deduplicated, as stored)."""
    return (*_base(binary, cache_dir), "stats", "--json", "--mode", "raw-data")


def check(subset: int, cycle: int, *, binary: str = "restic", cache_dir: str | None = None) -> Argv:
    """Argv of a structural check that also reads subset `subset` of `cycle` of the packs."""
    return (*_base(binary, cache_dir), "check", f"--read-data-subset={subset}/{cycle}")
