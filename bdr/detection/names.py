"""The names ransomware leaves (appended extensions, ransom notes) and onion addresses."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources

# A Tor v3 address, as ransom notes give their payment sites.
ONION = re.compile(rb"[a-z2-7]{56}\.onion")


@dataclass(frozen=True)
class NamePatterns:
    """The shipped list (its version) and the appliance's own patterns, as one expression."""

    version: str
    patterns: tuple[str, ...]
    expression: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One expression for every pattern: a backup of 100,000 new files asks it once a file.
        joined = "|".join(f"(?:{fnmatch.translate(p.lower())})" for p in self.patterns)
        object.__setattr__(self, "expression", re.compile(joined or r"(?!)", re.DOTALL))

    def matches(self, name: str) -> bool:
        """Whether the file name `name` (no folder) is one ransomware leaves."""
        return self.expression.fullmatch(name.lower()) is not None

    def hits(self, paths: Iterable[str]) -> list[str]:
        return [path for path in paths if self.matches(path.rsplit("/", 1)[-1])]


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
