"""`bdr ls`, `bdr find`, `bdr diff`: look into a plan's snapshots before restoring."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bdr.cli.app import App
from bdr.cli.params import complete_plans, complete_repositories, snapshot_id

if TYPE_CHECKING:
    from bdr.restic.messages import Snapshot


def _chosen(app: App, plan: str, repository: str | None, spec: str, as_of: str | None) -> Snapshot:
    from bdr.actions.browse import plan_snapshots, plan_tier
    from bdr.actions.restore import parse_as_of, select_snapshot

    if spec != "latest" and as_of is not None:
        app.abort("use either --snapshot or --as-of, not both", 2)
    ctx = app.context()
    _, tier = plan_tier(ctx, plan, repository)
    moment = parse_as_of(as_of) if as_of is not None else None
    return select_snapshot(plan_snapshots(ctx, plan, tier), spec, moment)


def _size(value: int | None) -> str:
    from bdr.config.units import format_size

    return "-" if value is None else format_size(value)


@click.command(name="ls")
@click.argument("plan", shell_complete=complete_plans)
@click.argument("path", required=False)
@click.option("--snapshot", default="latest", show_default=True, callback=snapshot_id,
              help="'latest' or a snapshot id.")  # fmt: skip
@click.option("--as-of", metavar="TIME", help="The newest snapshot not newer than TIME.")
@click.option(
    "--repository",
    shell_complete=complete_repositories,
    help="Look in this tier (default: the plan's repository).",
)
@click.pass_obj
def ls(
    app: App, plan: str, path: str | None, snapshot: str, as_of: str | None, repository: str | None
) -> None:
    """List PATH in a snapshot of PLAN (default: the plan's sources). PATH is as in the
    snapshot, or relative to the plan's source folders."""
    from bdr.actions.browse import list_path
    from bdr.cli.render import listing
    from bdr.fsnames import shown
    from bdr.localtime import with_offset

    chosen = _chosen(app, plan, repository, snapshot, as_of)
    found = list_path(app.context(), plan, path, snapshot=chosen, repository=repository)
    if app.json_output:
        app.print_json(
            {
                "repository": found.repository,
                "snapshot": found.snapshot.id,
                "time": found.snapshot.time.isoformat(),
                "entries": [
                    {
                        "path": node.path,
                        "type": node.type,
                        "size": node.size,
                        "mtime": node.mtime.isoformat(),
                    }
                    for node in found.nodes
                ],
            }
        )
        return
    click.echo(
        f"snapshot {found.snapshot.short_id} of {plan} ({with_offset(found.snapshot.time)}) "
        f"in {found.repository}:"
    )
    listing(
        ["type", "size", "modified", "path"],
        [
            [
                node.type,
                _size(node.size) if node.type == "file" else "-",
                with_offset(node.mtime),
                shown(node.path) + ("/" if node.type == "dir" else ""),
            ]
            for node in found.nodes
        ],
    )


@click.command()
@click.argument("plan", shell_complete=complete_plans)
@click.argument("pattern")
@click.option("--all-snapshots", is_flag=True, help="Look in every snapshot, not the newest only.")
@click.option(
    "--repository",
    shell_complete=complete_repositories,
    help="Look in this tier (default: the plan's repository).",
)
@click.pass_obj
def find(app: App, plan: str, pattern: str, all_snapshots: bool, repository: str | None) -> None:
    """Find files and folders named PATTERN ('*.docx', 'invoice?.pdf') in PLAN's newest
    snapshot (or every one), newest first. Exit 1 when nothing is found."""
    from bdr.actions.browse import find as find_hits
    from bdr.cli.render import listing
    from bdr.fsnames import shown
    from bdr.localtime import with_offset

    hits = find_hits(
        app.context(), plan, pattern, all_snapshots=all_snapshots, repository=repository
    )
    if app.json_output:
        app.print_json(
            [
                {
                    "snapshot": hit.snapshot.id,
                    "time": hit.snapshot.time.isoformat(),
                    "type": hit.type,
                    "size": hit.size,
                    "path": hit.path,
                }
                for hit in hits
            ]
        )
    elif hits:
        listing(
            ["snapshot", "time", "size", "path"],
            [
                [
                    hit.snapshot.short_id,
                    with_offset(hit.snapshot.time),
                    _size(hit.size) if hit.type == "file" else "-",
                    shown(hit.path) + ("/" if hit.type == "dir" else ""),
                ]
                for hit in hits
            ],
        )
    else:
        where = (
            "any snapshot" if all_snapshots else "the newest snapshot (--all-snapshots: every one)"
        )
        click.echo(f"nothing named {pattern!r} in {where} of {plan}", err=True)
    app.exit(0 if hits else 1)


@click.command()
@click.argument("plan", shell_complete=complete_plans)
@click.argument("first", callback=snapshot_id)
@click.argument("second", callback=snapshot_id, default="latest")
@click.option(
    "--repository",
    shell_complete=complete_repositories,
    help="Compare in this tier (default: the plan's repository).",
)
@click.pass_obj
def diff(app: App, plan: str, first: str, second: str, repository: str | None) -> None:
    """What changed in PLAN from snapshot FIRST to SECOND (default: latest): files added,
    removed and changed, with their sizes."""
    from bdr.actions.browse import diff as compare
    from bdr.cli.render import listing
    from bdr.fsnames import shown

    result = compare(app.context(), plan, first, second, repository=repository)
    kinds = (("+", "added"), ("-", "removed"), ("M", "changed"), ("T", "type changed"))
    if app.json_output:
        app.print_json(
            {
                "repository": result.repository,
                "from": result.older.id,
                "to": result.newer.id,
                **{
                    name.replace(" ", "_"): [
                        {"path": c.path, "size_before": c.before, "size_after": c.after}
                        for c in result.of(modifier)
                    ]
                    for modifier, name in kinds
                },
            }
        )
        return
    click.echo(
        f"plan {plan} in {result.repository}: {result.older.short_id} -> {result.newer.short_id}"
    )
    for modifier, name in kinds:
        changes = result.of(modifier)
        if not changes:
            continue
        total = sum((c.after or 0) - (c.before or 0) for c in changes)
        click.echo(
            f"{name}: {len(changes)} file(s), {'+' if total >= 0 else '-'}{_size(abs(total))}"
        )
        listing(
            ["before", "after", "path"],
            [[_size(c.before), _size(c.after), shown(c.path)] for c in changes],
        )
    if not result.changes:
        click.echo("no file was added, removed or changed")
