"""`bdr ls`, `bdr find`, `bdr diff`: the technician looks into a plan's snapshots before a
restore, with the plan's repository and password set (never bare restic).

A path is absolute as in the snapshot, or relative to the plan's source roots
(`documents/letters/x.txt` is `/srv/share/documents/letters/x.txt` for a plan of
`/srv/share`); with several roots, each is tried.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bdr.actions.context import Context
from bdr.actions.placement import source_root
from bdr.config.model import Plan
from bdr.errors import UsageError, unknown_name
from bdr.restic import argv as build
from bdr.restic.messages import Node, Snapshot, json_objects, ls_nodes, parse_time, snapshot_list
from bdr.restic.patterns import escape
from bdr.restic.result import require_ok


def plan_tier(ctx: Context, plan_name: str, repository: str | None) -> tuple[Plan, str]:
    """The plan and the tier asked for (its own repository by default); UsageError naming
    the known plans, or the plan's tiers."""
    plan = ctx.config.plans.get(plan_name)
    if plan is None:
        raise unknown_name("plan", plan_name, ctx.config.plans)
    tier = repository or plan.repository
    tiers = [plan.repository, *plan.copy_to]
    if tier not in tiers:
        raise UsageError(
            f"plan {plan_name!r} keeps no snapshots in {tier!r} (tiers: {', '.join(tiers)})"
        )
    return plan, tier


def plan_snapshots(ctx: Context, plan_name: str, repository: str) -> list[Snapshot]:
    """The plan's snapshots in `repository`, oldest first."""
    listing = require_ok(
        ctx.restic.run(ctx.restic.args(build.snapshots, plan=plan_name), ctx.env(repository)),
        f"listing snapshots in {repository}",
    )
    return snapshot_list(listing.stdout)


def in_sources(plan: Plan, path: str) -> bool:
    """Whether a snapshot's `path` is one of the plan's sources or under one: what the client
    backs up, not the canary bdr adds to each snapshot."""
    return source_root(path, [str(source) for source in plan.sources]) is not None


def in_snapshot(plan: Plan, path: str) -> list[str]:
    """The absolute paths `path` may mean in a snapshot of `plan`: itself when absolute, else
    under each source root. UsageError for an empty path or one that climbs out (`..`)."""
    if not path.strip():
        raise UsageError("the path is empty: give one as in the snapshot, or relative to a source")
    if path.startswith("/"):
        return [posixpath.normpath(path)]
    relative = posixpath.normpath(path)
    if relative == ".." or relative.startswith("../"):
        raise UsageError(f"{path!r} leaves the plan's sources: give an absolute path")
    roots = [str(source).rstrip("/") or "/" for source in plan.sources]
    return [posixpath.normpath(posixpath.join(root, relative)) for root in roots]


@dataclass(frozen=True)
class Listing:
    repository: str
    snapshot: Snapshot
    nodes: tuple[Node, ...]  # the folder (or file) asked for first, then its entries


def list_path(
    ctx: Context,
    plan_name: str,
    path: str | None,
    *,
    snapshot: Snapshot | None = None,
    repository: str | None = None,
) -> Listing:
    """The entries of `path` (default: the plan's source roots) in `snapshot` (default: the
    plan's newest); UsageError when the snapshot holds no such path."""
    plan, tier = plan_tier(ctx, plan_name, repository)
    chosen = snapshot or _newest(ctx, plan_name, tier)
    asked = in_snapshot(plan, path) if path is not None else [str(s) for s in plan.sources]
    with ctx.time_limit("snapshots"):
        listed = require_ok(
            ctx.restic.run(ctx.restic.args(build.ls, chosen.id) + tuple(asked), ctx.env(tier)),
            f"listing snapshot {chosen.short_id}",
        )
    nodes = tuple(ls_nodes(listed.stdout))
    if not nodes:
        where = " or ".join(asked)
        raise UsageError(
            f"{where} is not in snapshot {chosen.short_id} of plan {plan_name}",
            hint=f"bdr find {plan_name} NAME finds a file by its name",
        )
    return Listing(tier, chosen, nodes)


def _newest(ctx: Context, plan_name: str, repository: str) -> Snapshot:
    snapshots = plan_snapshots(ctx, plan_name, repository)
    if not snapshots:
        raise UsageError(f"plan {plan_name!r} has no snapshots in {repository!r}")
    return snapshots[-1]


@dataclass(frozen=True)
class Hit:
    snapshot: Snapshot
    path: str
    type: str
    size: int
    mtime: datetime | None


def find(
    ctx: Context,
    plan_name: str,
    pattern: str,
    *,
    all_snapshots: bool = False,
    repository: str | None = None,
) -> list[Hit]:
    """The files and folders whose name matches `pattern` (restic's: `*` and `?`, `[...]`)
    in the plan's newest snapshot, or in every one: newest snapshot first."""
    if not pattern.strip():
        raise UsageError("the pattern is empty: give a name, or a pattern such as '*.docx'")
    plan, tier = plan_tier(ctx, plan_name, repository)
    snapshots = plan_snapshots(ctx, plan_name, tier)
    if not snapshots:
        raise UsageError(f"plan {plan_name!r} has no snapshots in {tier!r}")
    by_id = {s.id: s for s in snapshots}
    within = {"plan": plan_name} if all_snapshots else {"snapshot_id": snapshots[-1].id}

    def search(text: str) -> list[Hit]:
        args = ctx.restic.args(build.find, text, **within)
        found = require_ok(ctx.restic.run(args, ctx.env(tier)), f"finding {text!r} in {tier}")
        return [hit for hit in find_hits(found.stdout, by_id) if in_sources(plan, hit.path)]

    hits = search(pattern)
    if not hits and escape(pattern) != pattern:
        # A name that only looks like a pattern (`report[1].docx`): the file of that name.
        hits = search(escape(pattern))
    hits.sort(key=lambda hit: (hit.snapshot.time, hit.path), reverse=True)
    return hits


def find_hits(lines: Iterable[str], snapshots: dict[str, Snapshot]) -> list[Hit]:
    """The matches of `restic find --json` (one array of {snapshot, matches}), with their
    snapshots; matches in a snapshot not in `snapshots` are left out."""
    hits: list[Hit] = []
    for value in json_objects(lines):
        groups = value if isinstance(value, list) else [value]
        for group in groups:
            if not isinstance(group, dict):
                continue
            snapshot = snapshots.get(str(group.get("snapshot")))
            if snapshot is None:
                continue
            for match in group.get("matches") or ():
                if isinstance(match, dict) and isinstance(match.get("path"), str):
                    mtime = match.get("mtime")
                    hits.append(
                        Hit(
                            snapshot,
                            match["path"],
                            str(match.get("type", "")),
                            int(match.get("size") or 0),
                            parse_time(mtime) if isinstance(mtime, str) else None,
                        )
                    )
    return hits


@dataclass(frozen=True)
class Change:
    modifier: str  # "+" added, "-" removed, "M" content changed, "T" type changed
    path: str
    before: int | None  # the size in the older snapshot
    after: int | None  # ... in the newer one


@dataclass(frozen=True)
class Difference:
    repository: str
    older: Snapshot
    newer: Snapshot
    changes: tuple[Change, ...]

    def of(self, modifier: str) -> list[Change]:
        return [change for change in self.changes if modifier in change.modifier]


def diff(
    ctx: Context, plan_name: str, first: str, second: str, *, repository: str | None = None
) -> Difference:
    """What changed from snapshot `first` to `second` of the plan (ids or 'latest'), files
    only, with each file's size before and after; metadata-only changes are left out."""
    from bdr.actions.restore import select_snapshot

    plan, tier = plan_tier(ctx, plan_name, repository)
    snapshots = plan_snapshots(ctx, plan_name, tier)
    a, b = (select_snapshot(snapshots, spec, None) for spec in (first, second))
    older, newer = (a, b) if a.time <= b.time else (b, a)
    env = ctx.env(tier)
    changed = require_ok(
        ctx.restic.run(ctx.restic.args(build.diff, older.id, newer.id), env),
        f"comparing {older.short_id} with {newer.short_id}",
    )
    modifiers = {
        path: modifier
        for path, modifier in diff_modifiers(changed.stdout).items()
        if in_sources(plan, path)
    }
    sizes = {}
    for snapshot, side in ((older, "-"), (newer, "+")):
        wanted = {p for p, m in modifiers.items() if side in m or "M" in m or "T" in m}
        if not wanted:
            continue
        listed = require_ok(
            ctx.restic.run(ctx.restic.args(build.ls, snapshot.id), env),
            f"listing snapshot {snapshot.short_id}",
        )
        sizes[side] = {
            node.path: node.size for node in ls_nodes(listed.stdout) if node.path in wanted
        }
    changes = tuple(
        Change(
            modifier,
            path,
            sizes.get("-", {}).get(path),
            sizes.get("+", {}).get(path),
        )
        for path, modifier in sorted(modifiers.items())
    )
    return Difference(tier, older, newer, changes)


def diff_modifiers(lines: Sequence[str]) -> dict[str, str]:
    """Path -> modifier of each file `restic diff --json` says was added, removed or changed
    in content or type (folders and metadata-only changes left out)."""
    found: dict[str, str] = {}
    for line in lines:
        if '"change"' not in line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        path, modifier = message.get("path"), message.get("modifier")
        if not isinstance(path, str) or not isinstance(modifier, str) or path.endswith("/"):
            continue
        kept = "".join(m for m in modifier if m in "+-MT")
        if kept:
            found[path] = kept
    return found
