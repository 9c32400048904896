"""restic's path patterns (`--exclude`, `--include`) and its names for paths, as pure functions.

restic matches patterns with Go's `filepath.Match` per path component, `**` spanning any number
of components; a pattern that does not start with `/` may match anywhere in a path. A path bdr
means literally must therefore be escaped. restic's JSON output (`ls --json`) carries names as
Go strings: every byte that is not UTF-8 becomes U+FFFD there, while the file on disk keeps its
bytes (see `bdr/fsnames.py`).
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Callable, Sequence

from bdr.fsnames import REPLACEMENT

_SPECIAL = re.compile(r"([\\*?\[\]])")


def escape(path: str) -> str:
    """Return a pattern that matches exactly `path` (restic reads `\\` as an escape)."""
    escaped = _SPECIAL.sub(r"\\\1", path)
    # A name that was not UTF-8 is only known to restic's JSON as U+FFFD: any one byte there.
    return escaped.replace(REPLACEMENT, "?")


@functools.lru_cache(maxsize=512)
def _component_regex(part: str) -> re.Pattern[str] | None:
    """Translate one component of a Go `filepath.Match` pattern; None when it is malformed."""
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            i += 1
            if i == len(part):
                return None
            out.append(re.escape(part[i]))
        elif char == "[":
            end = i + 1
            negate = end < len(part) and part[end] == "^"
            end += negate
            body: list[str] = []
            while end < len(part) and (part[end] != "]" or not body):
                if part[end] == "\\" and end + 1 < len(part):
                    end += 1
                body.append(re.escape(part[end]) if part[end] != "-" else "-")
                end += 1
            if end == len(part):
                return None
            out.append(("[^" if negate else "[") + "".join(body) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _split(path: str) -> list[str]:
    parts = posixpath.normpath(path).split("/")
    if parts[0] == "":
        parts[0] = "/"
    return [part for index, part in enumerate(parts) if part or index == 0]


def _part_matches(pattern: str, name: str) -> bool:
    regex = _component_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


def _match(parts: list[str], names: list[str]) -> bool:
    if "**" in parts:
        at = parts.index("**")
        for width in range(len(names) - len(parts) + 2):
            expanded = [*parts[:at], *(["*"] * width), *parts[at + 1 :]]
            if _match(expanded, names):
                return True
        return False
    if not parts:
        return not names
    if len(parts) > len(names):
        return False
    lowest = 0
    highest = len(names) - len(parts)
    if parts[0] == "/":
        highest = 0
    elif names[0] == "/":
        lowest = 1
    for offset in range(highest, lowest - 1, -1):
        if all(_part_matches(p, names[offset + i]) for i, p in enumerate(parts)):
            return True
    return False


def matches(pattern: str, path: str) -> bool:
    """Return whether restic's exclude `pattern` excludes absolute `path` (or a parent of it)."""
    names = _split(path)
    # restic tests each directory on the way down; a match of any parent excludes the path.
    return any(_match(_split(pattern), names[:depth]) for depth in range(1, len(names) + 1))


def _literal_prefix(pattern: str) -> str:
    """Return the text every path `pattern` matches starts with: up to its first wildcard."""
    out: list[str] = []
    i = 0
    while i < len(pattern) and pattern[i] not in "*?[":
        if pattern[i] == "\\":
            i += 1
            if i == len(pattern):
                break
        out.append(pattern[i])
        i += 1
    return "".join(out)


def selector(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Return a test of whether restic's `--include` `patterns` select absolute `path`: one of
    them matches it or a parent of it (restic restores a matched directory whole).

    Made once for many paths (clean ones, as restic lists them): an anchored pattern without
    `**` (every pattern a sample is made of) is tried only on paths that start with its literal
    part.
    """
    anchored: list[tuple[str, list[str]]] = []
    other: list[str] = []
    for pattern in patterns:
        parts = _split(pattern)
        if parts[0] == "/" and "**" not in parts:
            anchored.append((_literal_prefix("/" + "/".join(parts[1:])), parts))
        else:
            other.append(pattern)

    # One test of all the prefixes at once turns away most paths of a large listing (a
    # sample selects a few percent of it) before any is tried alone.
    prefixes = tuple(prefix for prefix, _ in anchored)

    def selected(path: str) -> bool:
        names: list[str] | None = None
        for prefix, parts in anchored if path.startswith(prefixes) else ():
            if path.startswith(prefix):
                names = names or _split(path)
                if _match(parts, names):
                    return True
        return any(matches(pattern, path) for pattern in other)

    return selected
