"""File names as Python, restic's JSON and a person see them.

On Linux a name is bytes. Python reads one that is not UTF-8 as a str with surrogate escapes
(`caf\\udce9.doc`); restic's JSON output (Go) has U+FFFD for each such byte; SQLite, JSON and a
terminal need valid text. These functions translate between the three, so that a drill compares
the right files and a name can never crash the recording or printing of a run.
"""

from __future__ import annotations

import codecs

REPLACEMENT = "\ufffd"


def _go_replace(error: UnicodeError) -> tuple[str, int]:
    # Go's encoding/json replaces each invalid byte on its own; Python's "replace" would merge
    # a truncated sequence into one U+FFFD.
    assert isinstance(error, UnicodeDecodeError)
    return REPLACEMENT, error.start + 1


codecs.register_error("bdr-go-replace", _go_replace)


def json_name(path: str) -> str:
    """Return `path` (a str from the file system) as restic's JSON output spells it."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "bdr-go-replace")


def shown(text: str) -> str:
    """Return `text` printable and storable: bytes that are not UTF-8 as `\\xe9` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
