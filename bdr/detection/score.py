"""The verdict on one backup: clean, or suspect with its reasons and example paths.

One strong signal (a name ransomware leaves, a decoy touched, an onion address, a hundred or
more changed files whose bytes no longer match their format, projected from the sample) or
two weak ones (a rate above the plan's normal, many renames in one folder, most files of one
extension deleted) make a backup suspect. A weak signal alone is an ordinary busy day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bdr.detection import baseline
from bdr.detection.changes import Changes, Moves, extension, moves
from bdr.detection.content import Inspection

EXAMPLES = 5


@dataclass(frozen=True)
class Settings:
    sample_files: int = 200
    sample_bytes: int = 65536
    baseline_backups: int = 30
    k: float = 5.0
    min_count: int = 50  # fewer files than this never make a rate signal
    lost_files: int = 100
    folder_renames: int = 200
    extension_deletes: int = 100


@dataclass(frozen=True)
class Summary:
    """restic's summary of a backup, and the file count of the plan's previous snapshot."""

    total: int
    previous_total: int
    new: int
    changed: int
    unmodified: int

    @property
    def removed(self) -> int:
        return max(self.previous_total - self.changed - self.unmodified, 0)


@dataclass(frozen=True)
class Counts:
    """A backup's files: from restic's summary, and from the diff with the plan's previous
    snapshot when there is one (removed files told apart as deleted, renamed or moved)."""

    total: int
    previous_total: int
    new: int
    changed: int
    deleted: int
    renamed: int = 0
    moved: int = 0


@dataclass(frozen=True)
class Rates:
    changed: float
    deleted: float
    renamed: float

    @classmethod
    def of(cls, counts: Counts) -> Rates:
        base = max(counts.previous_total, 1)
        return cls(counts.changed / base, counts.deleted / base, counts.renamed / base)


@dataclass(frozen=True)
class Signal:
    kind: str
    strong: bool
    text: str
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    summary: Summary
    compared: bool = True  # the plan has a previous snapshot: there is a change to judge
    name_hits: tuple[str, ...] = ()  # new files named as ransomware names them (examples)
    name_hit_count: int = 0
    # restic's diff with the previous snapshot: run only when enough files were removed for a
    # rename, move or delete signal to be possible (it costs a restic process).
    removed: Changes | None = None
    inspections: tuple[Inspection, ...] = ()
    population: int = 0  # the new and modified files the sample was drawn from
    decoys_touched: tuple[str, ...] = ()
    history: tuple[Rates, ...] = ()  # the plan's recent clean backups


@dataclass(frozen=True)
class Verdict:
    suspect: bool
    signals: tuple[Signal, ...]
    counts: Counts
    rates: Rates

    @property
    def reason(self) -> str:
        return "; ".join(signal.text for signal in self.signals)


def judge(facts: Facts, settings: Settings) -> Verdict:
    paired = moves(facts.removed) if facts.removed is not None else None
    counts = _counts(facts.summary, paired)
    rates = Rates.of(counts)
    signals: list[Signal] = []
    if facts.decoys_touched:
        signals.append(
            Signal(
                "decoy",
                True,
                f"{len(facts.decoys_touched)} decoy file(s) changed, renamed or deleted",
                facts.decoys_touched[:EXAMPLES],
            )
        )
    # Names count from the first backup on: a share that already holds ransom notes when the
    # appliance is installed is the client's emergency, not its normal.
    if facts.name_hit_count:
        signals.append(
            Signal(
                "names",
                True,
                f"{facts.name_hit_count} new file(s) named as ransomware names its files or notes",
                facts.name_hits[:EXAMPLES],
            )
        )
    signals += _content(facts, settings)
    if facts.compared:
        signals += _rates(facts, counts, rates, settings)
    if facts.removed is not None and paired is not None:
        signals += _mass(facts.removed, paired, settings)
    strong = any(signal.strong for signal in signals)
    weak = sum(not signal.strong for signal in signals)
    return Verdict(strong or weak >= 2, tuple(signals), counts, rates)


def needs_diff(summary: Summary, settings: Settings) -> bool:
    """Whether enough files were removed for a signal that needs their paths (renamed in one
    folder, deleted by extension, moved told apart from deleted): then restic's diff runs."""
    return summary.removed >= min(
        settings.min_count, settings.folder_renames, settings.extension_deletes
    )


def _counts(summary: Summary, paired: Moves | None) -> Counts:
    if paired is None:
        return Counts(
            summary.total, summary.previous_total, summary.new, summary.changed, summary.removed
        )
    return Counts(
        summary.total,
        summary.previous_total,
        summary.new,
        summary.changed,
        deleted=len(paired.deleted),
        renamed=paired.renamed,
        moved=paired.moved,
    )


def _content(facts: Facts, settings: Settings) -> list[Signal]:
    found: list[Signal] = []
    onion = [i.path for i in facts.inspections if i.onion]
    if onion:
        found.append(
            Signal(
                "onion",
                True,
                f"{len(onion)} new file(s) give an onion address",
                tuple(onion[:EXAMPLES]),
            )
        )
    sampled = len(facts.inspections)
    lost = [i.path for i in facts.inspections if i.lost]
    # A few files that no longer match their format are a user's broken downloads; a
    # hundred, projected from the sample onto every changed file, are an attack.
    projected = round(len(lost) / sampled * max(facts.population, sampled)) if sampled else 0
    if projected >= settings.lost_files:
        found.append(
            Signal(
                "content",
                True,
                f"about {projected} changed file(s) no longer match their format "
                f"({len(lost)} of {sampled} sampled)",
                tuple(lost[:EXAMPLES]),
            )
        )
    return found


def _rates(facts: Facts, counts: Counts, rates: Rates, settings: Settings) -> list[Signal]:
    history = facts.history[: settings.baseline_backups]
    found: list[Signal] = []
    for what, count in (
        ("changed", counts.changed),
        ("deleted", counts.deleted),
        ("renamed", counts.renamed),
    ):
        limit = baseline.threshold([getattr(past, what) for past in history], settings.k)
        rate = getattr(rates, what)
        if limit is not None and count >= settings.min_count and rate > limit:
            found.append(
                Signal(
                    f"rate-{what}",
                    False,
                    f"{count} files {what} ({rate:.1%} of the tree; this plan's normal is "
                    f"at most {limit:.1%})",
                )
            )
    return found


def _mass(changes: Changes, paired: Moves, settings: Settings) -> list[Signal]:
    found: list[Signal] = []
    folders = [f for f, n in paired.renames_by_folder.items() if n >= settings.folder_renames]
    if folders:
        most = max(paired.renames_by_folder[f] for f in folders)
        found.append(
            Signal(
                "folder-renames",
                False,
                f"{most} files renamed in one folder",
                tuple(f + "/" for f in folders[:EXAMPLES]),
            )
        )
    deleted = Counter(extension(path) for path in paired.deleted)
    touched = Counter(extension(p) for p in (*changes.added, *changes.modified, *paired.deleted))
    for ext, count in deleted.most_common():
        if count < settings.extension_deletes:
            break
        if count > touched[ext] / 2:
            examples = tuple(p for p in paired.deleted if extension(p) == ext)[:EXAMPLES]
            found.append(
                Signal(
                    "extension-deletes",
                    False,
                    f"{count} .{ext or '(none)'} files deleted",
                    examples,
                )
            )
            break
    return found
