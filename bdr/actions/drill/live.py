"""The live source tree at drill time: where a sample drill chooses its sample before the
snapshot is listed.

Every restic command derives the repository's key and loads its index (about a second on the
appliance), so choosing the sample from a listing of the snapshot put a whole `restic ls`
before the restore. The live tree has the snapshot's shape, but for what changed since the
backup: good enough to choose which directories and name ranges to restore. What the sample
holds, and what it is verified against, is still the snapshot's own listing, made beside the
walk and the restore (of a large snapshot: of the sample's subtrees, beside the restore).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bdr.fsnames import json_name
from bdr.restic.messages import Node
from bdr.restic.patterns import matches

# The sample is chosen by path and size; a walk does not need the time of each file.
UNKNOWN_TIME = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True)
class LiveTree:
    files: list[Node]  # regular files, under the names restic's JSON gives them
    # restic's JSON spelling of a path -> the path with its own bytes, where they differ (a name
    # that is not UTF-8): what a command line naming the path must carry.
    own_names: dict[str, str]

    def on_disk(self, path: str) -> str:
        return self.own_names.get(path, path)


def walk(sources: Sequence[str], excludes: Sequence[str]) -> LiveTree:
    """Return the regular files under `sources`, not following symlinks.

    Directories an exclude pattern matches are left out; files are not tested one by one (the
    cost would be paid on every file, and the listing says what the snapshot really holds).
    What cannot be read is left out too: the sample only needs the tree's shape.
    """
    files: list[Node] = []
    own_names: dict[str, str] = {}

    def named(path: str) -> str:
        name = json_name(path)
        if name != path:
            own_names[name] = path
        return name

    pending: list[str] = []
    for source in sources:
        if os.path.isdir(source) and not os.path.islink(source):
            pending.append(source)
        elif os.path.isfile(source):
            files.append(Node(named(source), "file", os.path.getsize(source), UNKNOWN_TIME))
    while pending:
        directory = pending.pop()
        named(directory)
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not any(matches(pattern, entry.path) for pattern in excludes):
                        pending.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    files.append(Node(named(entry.path), "file", size, UNKNOWN_TIME))
            except OSError:
                continue
    return LiveTree(files, own_names)
