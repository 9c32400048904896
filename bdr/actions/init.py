"""`bdr init`: create every configured repository that does not exist yet.

Copy targets are created with `--copy-chunker-params` from their plan's repository so that
`restic copy` deduplicates between tiers. A repository that exists but does not open with the
configured password is reported and left alone: re-initialising it would orphan its data.
"""

from __future__ import annotations

from dataclasses import dataclass

from bdr.actions.context import Context
from bdr.errors import BdrError, ExitCode
from bdr.evidence import journal
from bdr.restic import argv as build
from bdr.restic.outcome import Outcome


@dataclass(frozen=True)
class InitResult:
    repository: str
    state: str  # created | exists | error
    message: str
    exit_code: ExitCode

    def as_json(self) -> dict[str, object]:
        return {
            "repository": self.repository,
            "state": self.state,
            "message": self.message,
            "exit_code": int(self.exit_code),
        }


def chunker_sources(ctx: Context) -> dict[str, str]:
    """Return, for each copy target, the repository whose chunker parameters it should share."""
    sources: dict[str, str] = {}
    for plan in ctx.config.plans.values():
        for target in plan.copy_to:
            sources.setdefault(target, plan.repository)
    return sources


def init_order(ctx: Context) -> list[str]:
    """Return the repositories with every copy source before its targets."""
    sources = chunker_sources(ctx)
    return sorted(ctx.config.repositories, key=lambda name: (name in sources, name))


def init_repositories(ctx: Context) -> list[InitResult]:
    """Create the missing repositories, and the appliance's evidence signing key."""
    journal.prepare(ctx.config, ctx.db)
    sources = chunker_sources(ctx)
    return [init_repository(ctx, name, sources.get(name)) for name in init_order(ctx)]


def init_repository(ctx: Context, name: str, chunker_source: str | None) -> InitResult:
    """Create repository `name` unless it exists; return what happened."""
    try:
        with ctx.lock(name, purpose=f"init of {name}"):
            probe = ctx.restic.run(ctx.restic.args(build.cat_config), ctx.env(name))
            if probe.ok:
                return InitResult(name, "exists", "already initialised", ExitCode.OK)
            if probe.outcome is not Outcome.REPOSITORY_MISSING:
                reason = (
                    "exists but does not open with the configured password; not re-initialised"
                    if probe.outcome is Outcome.WRONG_PASSWORD
                    else f"cannot be opened ({probe.outcome.value}): {probe.error_text()}"
                )
                return InitResult(name, "error", reason, probe.outcome.exit_code)
            ctx.say(f"creating repository {name}")
            created = ctx.restic.run(
                ctx.restic.args(build.init, copy_chunker_params=chunker_source is not None),
                ctx.env(name, from_repository=chunker_source),
                unlock_retry=False,
            )
            if not created.ok:
                return InitResult(
                    name,
                    "error",
                    f"restic init failed: {created.error_text()}",
                    created.outcome.exit_code,
                )
            how = f" with the chunker parameters of {chunker_source}" if chunker_source else ""
            return InitResult(name, "created", f"created{how}", ExitCode.OK)
    except BdrError as error:
        return InitResult(name, "error", error.message, error.exit_code)
