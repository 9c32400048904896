"""`bdr demo`: init, backup with copy, restore of one folder, status, on local repositories."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from bdr.cli.app import App
from bdr.errors import ExitCode, worst


@click.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where the demo appliance lives.",
)
@click.pass_context
def demo(click_ctx: click.Context, directory: Path) -> None:
    """Run a self-contained demo appliance: init, backup + copy, restore, drills, check, report."""
    from bdr.actions.demo import PLAN, write_demo_config, write_sample_data
    from bdr.actions.init import init_repositories
    from bdr.cli.render import console, plain, styled, summaries
    from bdr.cli.status_cmd import status
    from bdr.config.units import format_size

    app: App = click_ctx.obj
    base = directory.resolve()
    out = console()
    out.rule("[bold]bdr demo")
    out.print(f"appliance under {plain(base)}")
    data = base / "data" / "office"
    write_sample_data(data)
    app.config_option = str(write_demo_config(base))
    ctx = app.context(lock_timeout=300)

    out.rule("1. init: create the onsite and cloud repositories")
    inits = init_repositories(ctx)
    for result in inits:
        out.print(f"  {result.repository:<8} {result.state:<8} {plain(result.message)}")
    if worst([result.exit_code for result in inits]) != ExitCode.OK:
        app.abort("could not create the demo repositories", worst([r.exit_code for r in inits]))

    out.rule("2. backup: onsite snapshot, copy to cloud, retention")
    from bdr.actions.backup import backup_plans

    results = backup_plans(ctx, ctx.config.plans_named(()))
    summaries(results)
    code = worst([summary.exit_code for summary in results])
    if code not in (ExitCode.OK, ExitCode.PARTIAL):
        app.abort("the demo backup failed", code)

    out.rule("3. restore: the documents/invoices folder, from the cloud tier")
    from bdr.actions.restore import RestoreRequest, plan_restore, restore

    folder = str(data / "documents" / "invoices")
    with tempfile.TemporaryDirectory(prefix="bdr-demo-restore-") as scratch:
        target = Path(scratch) / "restore"
        request = RestoreRequest(plan=PLAN, target=target, repository="cloud", includes=(folder,))
        info = plan_restore(ctx, request)
        restored = restore(ctx, request, info)
        count = sum(1 for _ in target.rglob("*.txt"))
        out.print(
            f"  {restored.status}: {count} invoices of snapshot {info.snapshot.short_id} restored "
            f"from cloud into {plain(target)} and verified"
        )
        if restored.status != "ok":
            app.abort(restored.message, restored.exit_code)

    out.rule("4. drills against a 1h RTO: a full restore onsite; a 25% sample of the cloud")
    from bdr.actions.drill import run_drill
    from bdr.config.units import format_duration

    drills = [run_drill(ctx, name) for name in ctx.config.drills]
    for outcome in drills:
        d = outcome.outcome
        out.print(
            f"  {outcome.drill:<14} {styled(outcome.verdict.kind):<8} "
            f"{plain(outcome.verdict.reason)}"
        )
        if d.projected_seconds is not None and d.recovery_seconds is not None:
            out.print(
                f"  {'':<14} measured {format_duration(d.recovery_seconds)} for "
                f"{d.files} files ({format_size(d.bytes or 0)}); full recovery "
                f"{format_duration(d.projected_seconds)} ({d.projection_method})"
            )

    out.rule("5. status")
    click_ctx.invoke(status)

    out.rule("6. check: read a subset of the cloud's packs")
    from bdr.actions.check import check_repository

    checked = [
        check_repository(ctx, check.repository, check.read_data_cycle)
        for check in ctx.config.checks.values()
    ]
    summaries(checked)

    out.rule("7. report: this month's restore-test report for the client")
    from bdr.actions.report import Request, make_report
    from bdr.localtime import zone
    from bdr.period import month_of
    from bdr.store.outcomes import ReportOutcome

    report = make_report(ctx, Request(month=month_of(ctx.now(), zone())))
    written = report.outcome.files if isinstance(report.outcome, ReportOutcome) else ()
    for path in written:
        out.print(f"  {plain(path)}")
    if report.exit_code != ExitCode.OK:
        out.print(f"  {styled(report.status)}: {plain(report.message)}")

    out.rule("8. evidence: every run above, in a signed hash chain")
    from bdr.evidence.keys import evidence_dir
    from bdr.evidence.verify import verify_appliance

    chain_dir = evidence_dir(ctx.config.appliance.state_dir)
    proof = verify_appliance(ctx.config.appliance.state_dir)
    out.print(
        f"  {proof.records} records, head signed at record {proof.head_seq}: "
        f"{'intact' if proof.ok else 'BROKEN'} ({plain(str(chain_dir))})"
    )
    # Under `make demo` the command is .venv/bin/bdr, which is not on PATH: show that one.
    command = sys.argv[0] if sys.argv[0].endswith("/bdr") else "bdr"
    out.print(f"\nTry: {plain(command)} --config {plain(app.config_option)} drill history")
    pdf = [path for path in written if path.endswith(".pdf")]
    if pdf:
        click.echo(f"The client's report: {pdf[0]}")  # one line, never wrapped: scripts read it
    failed = worst(
        [outcome.exit_code for outcome in drills]
        + [summary.exit_code for summary in checked]
        + [report.exit_code]
    )
    if failed != ExitCode.OK:
        app.exit(failed)
