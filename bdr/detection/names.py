"""The names ransomware leaves (appended extensions, ransom notes) and onion addresses."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

# A Tor v3 address, as ransom notes give their payment sites.
ONION = re.compile(rb"[a-z2-7]{56}\.onion")


_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class NamePatterns:
    """The shipped list (its version) and the appliance's own patterns, asked as few tests."""

    version: str
    patterns: tuple[str, ...]
    _tests: _Tests = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tests", _Tests.of(self.patterns))

    def matches(self, name: str) -> bool:
        """Whether the file name `name` (no folder) is one ransomware leaves."""
        return self._tests.matches(name.lower())

    def hits(self, paths: Iterable[str]) -> list[str]:
        return [path for path in paths if self.matches(path.rsplit("/", 1)[-1])]


@dataclass(frozen=True)
class _Tests:
    """Patterns as the tests that answer them fastest. A backup of a million new files asks
    once a file: most patterns are an extension (`*.locked`), a name (`info.hta`) or a part of
    one (`*how_to_decrypt*`), answered without a regular expression (one expression of every
    pattern took 7 us a name, these 0.8); what is left is one expression."""

    names: frozenset[str]
    endings: tuple[str, ...]
    beginnings: tuple[str, ...]
    parts: re.Pattern[str] | None
    others: re.Pattern[str] | None

    @classmethod
    def of(cls, patterns: Iterable[str]) -> _Tests:
        names, endings, beginnings, parts, others = set(), [], [], [], []
        for pattern in (p.lower() for p in patterns):
            inner = pattern.strip("*")
            if not inner or _GLOB & set(inner):
                others.append(pattern)
            elif pattern == inner:
                names.add(pattern)
            elif pattern == f"*{inner}":
                endings.append(inner)
            elif pattern == f"{inner}*":
                beginnings.append(inner)
            elif pattern == f"*{inner}*":
                parts.append(inner)
            else:
                others.append(pattern)
        return cls(
            frozenset(names),
            tuple(endings),
            tuple(beginnings),
            re.compile("|".join(map(re.escape, parts))) if parts else None,
            (
                re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in others), re.DOTALL)
                if others
                else None
            ),
        )

    def matches(self, name: str) -> bool:
        return (
            name in self.names
            or name.endswith(self.endings)
            or name.startswith(self.beginnings)
            or (self.parts is not None and self.parts.search(name) is not None)
            or (self.others is not None and self.others.fullmatch(name) is not None)
        )


def parse(text: str) -> tuple[str, tuple[str, ...]]:
    """The version and the patterns of a names file (see names.txt)."""
    version = ""
    patterns: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("version "):
            version = line.removeprefix("version ").strip()
        else:
            patterns.append(line)
    return version, tuple(patterns)


def shipped(extra: Sequence[str] = ()) -> NamePatterns:
    """The patterns shipped with bdr, with `extra` ([detection] extra_patterns) added."""
    text = resources.files("bdr.detection").joinpath("names.txt").read_text(encoding="utf-8")
    version, patterns = parse(text)
    return NamePatterns(version, (*patterns, *extra))
