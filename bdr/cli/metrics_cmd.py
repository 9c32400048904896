"""`bdr metrics`."""

from __future__ import annotations

import sys

import click

from bdr.cli.app import App


@click.command()
@click.pass_obj
def metrics(app: App) -> None:
    """Print the Prometheus exposition once, read from the history (restic is not run)."""
    from bdr.metrics.exporter import exposition

    app.history()  # migrated and recovered: the collector only reads
    sys.stdout.buffer.write(exposition(app.config))
