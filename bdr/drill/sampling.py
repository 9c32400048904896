"""The deterministic sample of a sample drill.

Seeded by the snapshot id, so a drill of the same snapshot always restores the same files and
two appliances never argue about what was tested: the canary first, then the largest file
(the one most likely to expose a throughput problem), then files at random up to the size.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from bdr.restic.messages import Node


def choose_sample(
    nodes: Sequence[Node], snapshot_id: str, size_limit: int, *, canary_path: str
) -> list[Node]:
    """Return the files to restore: canary, largest, then random ones while they fit the limit.

    The canary and the largest file are always included, even past the limit.
    """
    files = sorted((node for node in nodes if node.type == "file"), key=lambda node: node.path)
    chosen: list[Node] = []
    # bdr's canary by its exact path: a client file of the same name is ordinary data.
    canaries = [node for node in files if node.path == canary_path]
    chosen.extend(canaries[:1])
    others = [node for node in files if node not in chosen]
    if others:
        largest = max(others, key=lambda node: (node.size, node.path))
        chosen.append(largest)
        others.remove(largest)
    seed = int.from_bytes(hashlib.sha256(snapshot_id.encode()).digest()[:8], "big")
    random.Random(seed).shuffle(others)
    used = sum(node.size for node in chosen)
    for node in others:
        if used + node.size > size_limit:
            continue
        chosen.append(node)
        used += node.size
    return chosen


def sample_limit(spec: str, total_bytes: int) -> int:
    """Return the byte budget of a sample given as a size ("2GiB") or a fraction ("5%")."""
    from bdr.config.units import parse_fraction, parse_size

    if spec.strip().endswith("%"):
        return int(total_bytes * parse_fraction(spec))
    return parse_size(spec)


def include_batches(paths: Sequence[str], *, max_bytes: int = 64 * 1024) -> list[list[str]]:
    """Split paths into batches whose `--include` arguments stay well within argv limits.

    Linux allows about 2 MiB of arguments in all and 128 KiB for one; 64 KiB a batch leaves
    room for the environment and keeps each restic call reasonable.
    """
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in paths:
        cost = len(path.encode()) + len("--include") + 2
        if current and size + cost > max_bytes:
            batches.append(current)
            current, size = [], 0
        current.append(path)
        size += cost
    if current:
        batches.append(current)
    return batches
