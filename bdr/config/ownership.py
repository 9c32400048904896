"""What bdr owns on disk, and how it stays out of the client's data and the client's out of it.

bdr owns its state directory (history, locks, cache, canaries), its scratch area and its local
repositories. None of them may contain another or a source: the scratch cleanup, a restore or
a drill would otherwise write into or delete what is not bdr's. A source may contain them (a
plan of `/srv` on an appliance whose repository is `/srv/bdr/repo`): they are then excluded
from that plan's backup, so a snapshot never holds the history, a kept drill or the repository.

The canary must be in every snapshot whatever the plan's excludes say: an exclude that would
match it is anchored under the plan's sources instead, where it means the same for the data.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bdr.config.model import Config, Plan
from bdr.restic import patterns

CANARY_NAME = "bdr-canary.txt"


def canary_dir(state_dir: Path, plan: str) -> Path:
    return state_dir / "canary" / plan


def canary_path(state_dir: Path, plan: str) -> str:
    """The exact path of the plan's canary, as restic records it in the snapshot."""
    return str(canary_dir(state_dir, plan) / CANARY_NAME)


def local_path(url: str) -> str | None:
    """Return the directory of a local repository URL (`/x` or `local:/x`), else None."""
    path = url.removeprefix("local:")
    return posixpath.normpath(path) if path.startswith("/") else None


def _real(path: str | Path) -> str:
    return os.path.realpath(path)


def _inside(path: str, parent: str) -> bool:
    """Whether `path` is `parent` or below it (both real, normalised)."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def same_repository_key(url: str) -> str:
    """Return one spelling for the URLs that name one repository."""
    path = local_path(url)
    if path is not None:
        return "local:" + _real(path)
    scheme, _, rest = url.partition(":")
    return f"{scheme.lower()}:{rest.rstrip('/')}"


def owned_paths(config: Config) -> list[tuple[str, str]]:
    """Return (key path, directory) of everything bdr owns on this machine."""
    # The scratch area first: when it and the state directory overlap, it is the one to move.
    owned = [
        ("appliance.scratch_dir", str(config.appliance.scratch_dir)),
        ("appliance.state_dir", str(config.appliance.state_dir)),
    ]
    for name, repository in config.repositories.items():
        path = local_path(repository.url)
        if path is not None:
            owned.append((f"repositories.{name}.url", path))
    return owned


def watched_places(config: Config) -> list[tuple[str, Path]]:
    """The places whose free space bdr watches, by name: the state and scratch directories and
    every local repository."""
    places = [("state", config.appliance.state_dir), ("scratch", config.appliance.scratch_dir)]
    for name, repository in config.repositories.items():
        local = local_path(repository.url)
        if local is not None:
            places.append((name, Path(local)))
    return places


def report_dir(config: Config) -> Path:
    """Where reports are written: `[reports] output_dir`, else `state_dir/reports`."""
    configured = config.reports.output_dir if config.reports else None
    return configured or config.appliance.state_dir / "reports"


def overlap_problems(config: Config) -> Iterator[str]:
    """Yield a problem for every owned path inside another, and every source inside one."""
    owned = owned_paths(config)

    for index, (key, path) in enumerate(owned):
        for other_key, other in owned[index + 1 :]:
            if other_key.startswith("repositories.") and key.startswith("repositories."):
                continue  # two repositories at one place are the duplicate-URL problem
            real, other_real = _real(path), _real(other)
            if _inside(real, other_real):
                yield f"{key}: {path} is inside {other_key} ({other})"
            elif _inside(other_real, real):
                yield f"{key}: {path} contains {other_key} ({other})"
    yield from _report_dir_problems(config, owned)
    for plan_name, plan in config.plans.items():
        for number, source in enumerate(plan.sources):
            for key, path in owned:
                if _inside(_real(source), _real(path)):
                    yield f"plans.{plan_name}.sources.{number}: {source} is inside {key} ({path})"
    seen: dict[str, str] = {}
    for name, repository in config.repositories.items():
        key = same_repository_key(repository.url)
        if key in seen:
            yield (
                f"repositories.{name}.url: the same repository as repositories.{seen[key]}.url "
                f"({repository.url}); a copy there would be no second copy"
            )
        else:
            seen[key] = name


def _report_dir_problems(config: Config, owned: list[tuple[str, str]]) -> Iterator[str]:
    """Reports belong in the state directory or a place of their own: the scratch area is
    emptied by drills, and a repository is restic's alone."""
    reports = _real(report_dir(config))
    if _inside(reports, _real(config.appliance.state_dir)):
        return
    for key, path in owned:
        if _inside(reports, _real(path)) or _inside(_real(path), reports):
            yield f"reports.output_dir: {report_dir(config)} overlaps {key} ({path})"


@dataclass(frozen=True)
class Source:
    configured: str
    backed_up: str


@dataclass(frozen=True)
class BackupSet:
    """What restic is given for one plan: sources, the canary directory, and excludes."""

    sources: tuple[Source, ...]
    canary_dir: str
    excludes: tuple[str, ...]
    # Paths of bdr's own inside a source, excluded from the backup (shown by `config show`).
    automatic: tuple[str, ...]
    problems: tuple[str, ...] = ()


def resolve_source(source: str) -> str:
    """A source that is a symlink is backed up as what it points to (restic stores a bare link)."""
    return _real(source) if os.path.islink(source) else source


def _excluded_owned(config: Config, plan: str, sources: list[Source]) -> list[str]:
    """Return the owned paths inside the sources, spelt as restic will meet them."""
    state = str(config.appliance.state_dir)
    keep = {str(canary_dir(config.appliance.state_dir, plan))}
    found: list[str] = []
    for _, owned in owned_paths(config):
        real_owned = _real(owned)
        for source in sources:
            real_source = _real(source.backed_up)
            if not _inside(real_owned, real_source) or real_owned == real_source:
                continue
            below = os.path.relpath(real_owned, real_source)
            spelt = posixpath.join(source.backed_up, below)
            if owned != state:
                found.append(spelt)
                continue
            # The state directory holds the plan's canary, which must stay: exclude the rest.
            for child in _children(Path(owned)):
                if child.name == "canary":
                    for canary in _children(child):
                        if str(canary) not in keep:
                            found.append(posixpath.join(spelt, "canary", canary.name))
                else:
                    found.append(posixpath.join(spelt, child.name))
    return sorted(dict.fromkeys(found))


def _children(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir())
    except OSError:
        return []


def _plan_excludes(
    config: Config, name: str, plan: Plan, sources: list[Source]
) -> tuple[list[str], list[str]]:
    """Return the plan's excludes as restic gets them (any that would match the canary
    anchored under the sources), and the problems of those that cannot be."""
    canary = canary_path(config.appliance.state_dir, name)
    excludes: list[str] = []
    problems: list[str] = []
    for number, pattern in enumerate(plan.exclude):
        if not patterns.matches(pattern, canary):
            excludes.append(pattern)
            continue
        where = f"plans.{name}.exclude.{number}"
        if pattern.startswith("/"):
            problems.append(
                f"{where}: {pattern!r} would exclude bdr's canary {canary}; "
                "write it so that it does not match below appliance.state_dir"
            )
            continue
        anchored = []
        for source in sources:
            root = patterns.escape(source.backed_up)
            anchored.append(f"{root}/**/{pattern}")
            if patterns.matches(pattern, source.backed_up):
                anchored.append(root)
        if any(patterns.matches(item, canary) for item in anchored):
            problems.append(
                f"{where}: {pattern!r} would exclude bdr's canary {canary}, which is inside a "
                "source: narrow the pattern"
            )
            continue
        excludes.extend(anchored)
    return excludes, problems


def _sources(plan: Plan) -> list[Source]:
    return [Source(source, resolve_source(source)) for source in plan.sources]


def backup_set(config: Config, name: str, plan: Plan) -> BackupSet:
    """Return the sources, canary and excludes of plan `name`'s next backup."""
    sources = _sources(plan)
    automatic = _excluded_owned(config, name, sources)
    excludes, problems = _plan_excludes(config, name, plan, sources)
    return BackupSet(
        sources=tuple(sources),
        canary_dir=str(canary_dir(config.appliance.state_dir, name)),
        excludes=(*excludes, *(patterns.escape(path) for path in automatic)),
        automatic=tuple(automatic),
        problems=tuple(problems),
    )


def ownership_problems(config: Config) -> list[str]:
    """Every problem with what bdr owns: overlaps, duplicate repositories, canary excludes."""
    problems = list(overlap_problems(config))
    # Only the patterns: listing what bdr owns inside the sources is the backup's work, not
    # every command's that loads the config.
    for name, plan in config.plans.items():
        problems.extend(_plan_excludes(config, name, plan, _sources(plan))[1])
    return problems
