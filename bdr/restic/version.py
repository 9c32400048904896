"""restic versions and the one table of what each can do.

Every version-dependent behaviour of bdr is keyed off `Features`, built here and nowhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MINIMUM = (0, 14, 0)
NEWEST_KNOWN = (0, 19)

_VERSION = re.compile(r"restic (\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Features:
    """What the installed restic can do, derived from its version alone."""

    version: tuple[int, int, int]
    # restore --json prints status messages with bytes restored (0.16.0).
    restore_json_progress: bool
    # Exit codes 10 (no repository), 11 (locked), 12 (wrong password) (0.17.0); before that,
    # stderr text is the only clue.
    specific_exit_codes: bool
    # ls --json tags each line with message_type as well as struct_type (0.17.0).
    ls_message_type: bool
    # `restic repair index` replaced `restic rebuild-index` (0.16.0).
    repair_index_command: str = "restic rebuild-index"

    @property
    def version_text(self) -> str:
        return ".".join(str(part) for part in self.version)

    @property
    def newer_than_known(self) -> bool:
        return self.version[:2] > NEWEST_KNOWN


def parse_version(text: str) -> tuple[int, int, int]:
    """Return the version in `restic version` output; raise ValueError when there is none."""
    match = _VERSION.search(text)
    if not match:
        raise ValueError(f"cannot read a restic version from {text.strip()[:80]!r}")
    major, minor, patch = (int(group) for group in match.groups())
    return major, minor, patch


def features_for(version: tuple[int, int, int]) -> Features:
    """Return the feature table of `version`; raise ValueError below the supported minimum."""
    if version < MINIMUM:
        raise ValueError(
            f"restic {'.'.join(map(str, version))} is too old; bdr needs 0.14.0 or newer"
        )
    return Features(
        version=version,
        restore_json_progress=version >= (0, 16, 0),
        specific_exit_codes=version >= (0, 17, 0),
        ls_message_type=version >= (0, 17, 0),
        repair_index_command="restic repair index"
        if version >= (0, 16, 0)
        else "restic rebuild-index",
    )
