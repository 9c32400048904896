"""`bdr init`."""

from __future__ import annotations

import click

from bdr.cli.app import App


@click.command()
@click.pass_obj
def init(app: App) -> None:
    """Create every configured repository that does not exist yet (safe to run again)."""
    from bdr.actions.init import init_repositories

    results = init_repositories(app.context())

    def show() -> None:
        from bdr.cli.render import console, plain, styled

        out = console()
        for result in results:
            state = {"created": "ok", "exists": "ok"}.get(result.state, "failed")
            out.print(f"{result.repository:<16} {styled(state):<8} {plain(result.message)}")

    app.finish_runs(results, show)
