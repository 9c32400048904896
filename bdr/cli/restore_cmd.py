"""`bdr restore PLAN --target DIR`: the technician's manual restore."""

from __future__ import annotations

from pathlib import Path

import click

from bdr.actions.placement import CONFLICTS
from bdr.cli.app import App
from bdr.cli.params import complete_plans, complete_repositories, snapshot_id


def _target(value: str) -> Path:
    """The target as typed: an empty one is an error, never the current directory."""
    if not value.strip():
        raise click.BadParameter("--target is empty: give the folder to restore into")
    return Path(value)


@click.command()
@click.argument("plan", shell_complete=complete_plans)
@click.option(
    "--target",
    required=True,
    callback=lambda ctx, param, value: _target(value),
    help="Directory to restore into (created if missing). A file already where one is "
    "restored is refused unless --conflict says what to do.",
)
@click.option(
    "--snapshot",
    default="latest",
    show_default=True,
    callback=snapshot_id,
    help="'latest' or a snapshot id.",
)
@click.option("--as-of", metavar="TIME", help="The newest snapshot not newer than TIME.")
@click.option(
    "--repository",
    shell_complete=complete_repositories,
    help="Restore from this tier (default: the plan's repository).",
)
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="PATH",
    help="Restore only this path (absolute, as in the snapshot); repeatable.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be restored, restore nothing.")
@click.option(
    "--conflict",
    type=click.Choice(CONFLICTS),
    help="A file already where one is restored: keep it (skip), replace it (overwrite), or "
    "put the restored one beside it as NAME.restored-DATE (rename). Default: refuse, naming them.",
)
@click.option("--force", is_flag=True, help="Same as --conflict overwrite.")
@click.option(
    "--strip",
    is_flag=True,
    help="Restore relative to the plan's source folder, not under its full path "
    "(documents/x.txt, not srv/share/documents/x.txt).",
)
@click.option("--in-place", is_flag=True, help="Allow restoring into / or over a source path.")
@click.option(
    "--allow-suspect",
    is_flag=True,
    help="Restore a snapshot taken at or after one suspect of ransomware (bdr suspect list).",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Read the restored files back and compare them with the repository.",
)
@click.pass_obj
def restore(
    app: App,
    plan: str,
    target: Path,
    snapshot: str,
    as_of: str | None,
    repository: str | None,
    includes: tuple[str, ...],
    dry_run: bool,
    conflict: str | None,
    force: bool,
    strip: bool,
    in_place: bool,
    verify: bool,
    allow_suspect: bool,
) -> None:
    """Restore a snapshot of PLAN into --target, verified, with progress. As root, files keep
    their owners and any folder can be the target; bdr's own files stay the service user's."""
    import time

    app.root_allowed = True

    from bdr.actions.restore import RestoreRequest, landing, parse_as_of, plan_restore
    from bdr.actions.restore import restore as run_restore
    from bdr.cli.render import console
    from bdr.config.units import format_duration, format_size
    from bdr.fsnames import shown
    from bdr.localtime import with_offset

    if snapshot != "latest" and as_of is not None:
        app.abort("use either --snapshot or --as-of, not both", 2)
    if not snapshot.strip():
        app.abort("--snapshot is empty: give 'latest' or a snapshot id", 2)
    request = RestoreRequest(
        plan=plan,
        target=target,
        snapshot=snapshot,
        as_of=parse_as_of(as_of) if as_of is not None else None,
        repository=repository,
        includes=includes,
        dry_run=dry_run,
        force=force,
        conflict=conflict,
        strip=strip,
        in_place=in_place,
        verify=verify,
        allow_suspect=allow_suspect,
    )
    ctx = app.context()
    info = plan_restore(ctx, request)
    if info.skipped_suspect and not app.json_output:
        app.say(
            f"--as-of passed over {info.skipped_suspect} newer snapshot(s) taken at or after one "
            "suspect of ransomware (bdr suspect list; --allow-suspect to take them)"
        )
    described = (
        f"snapshot {info.snapshot.short_id} of plan {plan} "
        f"({with_offset(info.snapshot.time)}) from {info.repository}: "
        f"{info.files} files, {format_size(info.bytes)}"
    )
    if dry_run:
        if app.json_output:
            app.print_json(
                {
                    "dry_run": True,
                    "snapshot": info.snapshot.id,
                    "files": info.files,
                    "bytes": info.bytes,
                    "repository": info.repository,
                    "target": str(target),
                    "skipped_suspect": info.skipped_suspect,
                    "would_overwrite": [str(path) for path in info.conflicts],
                }
            )
        else:
            click.echo(f"would restore {described} into {target}")
            if info.conflicts:
                what = {"skip": "would keep", "rename": "would put the restored one beside"}
                verb = what.get(conflict or "", "would overwrite")
                click.echo(f"{verb} {len(info.conflicts)} file(s) already there:")
                for path in info.conflicts:
                    click.echo(f"  {shown(str(path))}")
        return
    started = time.monotonic()
    if app.json_output:
        summary = run_restore(ctx, request, info)
    else:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        app.say(f"restoring {described} into {target}")
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("restore", total=info.bytes or 1)
            summary = run_restore(
                ctx,
                request,
                info,
                progress=lambda done, total: bar.update(task, completed=done, total=total or 1),
            )
    elapsed = time.monotonic() - started
    landed = landing(target, info.listed, strip=info.strip)
    if app.json_output:
        app.print_json(
            {
                **summary.as_json(),
                "files": info.files,
                "bytes": info.bytes,
                "seconds": elapsed,
                "target": str(target),
                "restored_to": str(landed.where),
                "snapshot": info.snapshot.id,
            }
        )
    elif summary.status == "ok":
        verified = "verified" if verify else "not verified"
        click.echo(
            f"restored {described}\n  into {target} in {format_duration(elapsed)} ({verified})"
        )
        if landed.single_file:
            click.echo(f"  the file is {landed.where}")
        else:
            click.echo(f"  all of it is in {landed.where}/")
            for name, files, size in landed.entries:
                click.echo(f"    {name}: {files} file(s), {format_size(size)}")
        from bdr.store.outcomes import RestoreOutcome

        outcome = summary.outcome
        if isinstance(outcome, RestoreOutcome):
            if outcome.skipped:
                click.echo(f"  {outcome.skipped} file(s) already there were kept (--conflict skip)")
            for renamed in outcome.renamed:
                click.echo(f"  restored beside the file there: {shown(renamed)}")
    else:
        app.abort(summary.message, summary.exit_code)
    app.exit(summary.exit_code)
