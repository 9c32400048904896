"""What restic says of each file as it backs it up (`backup --json --verbose`), read as it
streams: how many files are new and modified, the new ones named as ransomware names them,
and an even random sample of both, in memory that does not grow with the tree.

restic 0.14 prints one `verbose_status` message a file and a folder (`action` new, modified
or unchanged; a folder's `item` ends with `/`). Removed files are not among them: the diff
with the previous snapshot names those, when there are enough to matter.
"""

from __future__ import annotations

import json
import random

from bdr.detection.names import NamePatterns

# Examples kept of the new files with ransomware's names (all are counted).
MAX_NAME_HITS = 100


class BackupWatch:
    def __init__(
        self, patterns: NamePatterns, sample_size: int, *, seed: str, ignore: str = ""
    ) -> None:
        self.patterns = patterns
        self.size = sample_size
        self.random = random.Random(seed)
        self.ignore = ignore  # a path prefix of bdr's own files (the canary)
        self.added = 0
        self.modified = 0
        self.name_hits: list[str] = []
        self.name_hit_count = 0
        # (path, new) of a uniform sample of the new and modified files (reservoir sampling).
        self.sample: list[tuple[str, bool]] = []

    def feed(self, line: str) -> bool:
        """Take `line` if it is a file's verbose status; say whether it was one."""
        if '"verbose_status"' not in line:
            return False
        if '"action":"unchanged"' in line:
            return True
        try:
            message = json.loads(line)
        except ValueError:
            return False
        item, action = message.get("item"), message.get("action")
        if not isinstance(item, str) or item.endswith("/") or item.startswith(self.ignore or "\0"):
            return True
        if action == "new":
            self.added += 1
            if self.patterns.matches(item.rsplit("/", 1)[-1]):
                self.name_hit_count += 1
                if len(self.name_hits) < MAX_NAME_HITS:
                    self.name_hits.append(item)
        elif action == "modified":
            self.modified += 1
        else:
            return True
        self._offer((item, action == "new"))
        return True

    def _offer(self, entry: tuple[str, bool]) -> None:
        seen = self.added + self.modified
        if len(self.sample) < self.size:
            self.sample.append(entry)
            return
        slot = self.random.randrange(seen)
        if slot < self.size:
            self.sample[slot] = entry
