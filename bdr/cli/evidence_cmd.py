"""`bdr evidence key|verify|export|upload|upkeep`."""

from __future__ import annotations

from pathlib import Path

import click

from bdr.cli.app import App


@click.group()
def evidence() -> None:
    """The signed hash chain of every run: the key, and checking the chain."""


@evidence.command()
@click.pass_obj
def key(app: App) -> None:
    """Print the appliance's public signing key, its fingerprint and allowed_signers line."""
    from bdr.evidence.keys import ensure_key

    signing = ensure_key(app.config.appliance.state_dir, app.config.appliance.id)
    if app.json_output:
        app.print_json(
            {
                "public_key": signing.public_line(),
                "fingerprint": signing.fingerprint,
                "allowed_signers": signing.allowed_signers_line(),
            }
        )
        return
    click.echo(signing.public_line())
    click.echo(f"256 {signing.fingerprint} {signing.principal} (ED25519)")
    click.echo(signing.allowed_signers_line())


@evidence.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--allowed-signers",
    type=click.Path(path_type=Path),
    help="Check the signatures against this key (the one the MSP registered), not the one "
    "next to the chain.",
)
@click.option(
    "--expect-last",
    metavar="SHA256",
    help="The SHA-256 of the last record, as the month's signed report quotes it: finds a "
    "bundle cut short with an older head put back.",
)
@click.pass_obj
def verify(
    app: App, path: Path | None, allowed_signers: Path | None, expect_last: str | None
) -> None:
    """Check every link and signature of the chain (or of the evidence directory PATH).

    Exit 0 intact, 1 broken, 2 bad input.
    """
    from bdr.evidence.chain import CHAIN
    from bdr.evidence.keys import ALLOWED_SIGNERS, evidence_dir
    from bdr.evidence.verify import check_last, read_key, verify_directory

    directory = path or evidence_dir(app.config.appliance.state_dir)
    if path is None and not (directory / CHAIN).exists():
        from bdr.store import runs

        recorded = sum(
            count
            for (_, status), count in runs.counts(app.history()).items()
            if status != runs.RUNNING
        )
        if recorded == 0:
            click.echo("no run recorded yet: the chain starts with the first run")
            app.exit(0)
        app.abort(f"{directory / CHAIN} is missing, but the history holds {recorded} runs", 1)
    if not directory.is_dir():
        app.abort(f"{directory} is not an evidence directory", 2)
    try:
        key_file = allowed_signers or directory / ALLOWED_SIGNERS
        result = verify_directory(directory, read_key(key_file))
    except ValueError as error:
        app.abort(str(error), 2)
    if expect_last is not None:
        check_last(result, expect_last)
    disagreements: list[str] = []
    if path is None and result.ok:
        # The appliance's own chain: the history must say what the chain says.
        import time

        from bdr.evidence.journal import history_disagreements, note_verified

        history = app.history()
        found = history_disagreements(app.config, history, now=time.time())
        disagreements = [d.text for d in found]
        if disagreements:
            result.problems.append(disagreements[0])
        note_verified(history, result.problems[0] if result.problems else None)
    if app.json_output:
        app.print_json({**result.as_json(), "history_disagreements": disagreements})
    else:
        click.echo(
            f"{result.records} records, {result.checkpoints} signed checkpoints, "
            f"head at record {result.head_seq or '-'} (chain {result.chain or '-'})"
        )
        for repair in result.repairs:
            click.echo(f"repaired: {repair}")
        if result.unsigned:
            click.echo(f"{result.unsigned} record(s) after the newest checkpoint are not signed")
        click.echo(
            "intact"
            if result.ok
            else f"{'DISAGREES' if disagreements else 'BROKEN'}: {result.problems[0]}"
        )
        for more in disagreements[1:]:
            click.echo(f"also: {more}")
    if disagreements:
        app.abort(f"the chain is intact, but the {disagreements[0]}", 1)
    if not result.ok:
        app.abort(f"the evidence chain is broken: {result.problems[0]}", 1)
    app.exit(0)


@evidence.command()
@click.option("--month", required=True, metavar="YYYY-MM", help="The month of runs to export.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the bundle directory is made.",
)
@click.pass_obj
def export(app: App, month: str, out: Path) -> None:
    """Write the month's records, checkpoints, key and a verify.sh for an auditor."""
    from bdr.evidence.export import export_month
    from bdr.evidence.keys import load_key

    appliance = app.config.appliance
    key = load_key(appliance.state_dir, appliance.id)
    bundle = export_month(appliance.state_dir, appliance.id, month, out, key.fingerprint)
    if app.json_output:
        app.print_json({"bundle": str(bundle)})
    else:
        click.echo(f"{bundle}: check it with  sh {bundle}/verify.sh")


@evidence.command()
@click.pass_obj
def upload(app: App) -> None:
    """Upload the chain, its signed head and the signed reports to [evidence] upload_to now
    (the daemon does it after runs, and retries until nothing waits).

    Exit 0 uploaded, 2 no store configured, 6 the store refused or could not be reached.
    """
    from bdr.actions.upload import upload_evidence

    done = upload_evidence(app.context())
    if app.json_output:
        app.print_json({"store": done.store, "records": done.seq, "report_files": done.reports})
    else:
        click.echo(
            f"evidence uploaded to {done.store}: the chain to record {done.seq}, "
            f"{done.reports} report file(s)"
        )


@evidence.command()
@click.option(
    "--catch-up-before",
    type=float,
    metavar="TIMESTAMP",
    help="First record the finished runs that started before TIMESTAMP (the daemon's start) "
    "and that the chain lacks.",
)
@click.pass_obj
def upkeep(app: App, catch_up_before: float | None) -> None:
    """The daemon's upkeep of the chain: catch up, then verify the chain and the history
    against it, for bdr_evidence_chain_ok. The daemon runs it at its start and daily.

    Exit 0 intact, 1 broken.
    """
    import logging
    import sys

    from bdr.evidence.journal import upkeep as keep_up

    # Its lines go where the daemon's go, in the daemon's format.
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stdout,
        force=True,
        format="%(levelname)s %(name)s: %(message)s",
    )
    result = keep_up(app.config, app.history(), catch_up_before=catch_up_before)
    if not result.ok:
        raise SystemExit(1)
