"""Verifying a restored tree folder by folder against a listing read once, in restic's order."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bdr.actions.drill.steps import SpooledLines
from bdr.actions.drill.verify import ExpectedCanary, verify
from bdr.config.model import Drill
from bdr.errors import BdrError
from bdr.fsnames import json_name
from bdr.restic.messages import FileListing, Node
from bdr.store.outcomes import DrillOutcome

MOMENT = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
CANARY = ExpectedCanary("/state/canary", None)
DRILL = Drill(plan="office", repository="local", source_compare="none")


def restore(scratch: Path, files: dict[str, bytes]) -> None:
    """Write `files` (snapshot paths, bytes) under `scratch` as restic would restore them."""
    for path, content in files.items():
        target = Path(os.fsdecode(os.fsencode(str(scratch)) + os.fsencode(path)))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def listing(files: dict[str, bytes]) -> list[Node]:
    """The listing of `files` in restic's order: a folder's content together, names sorted."""
    return [
        Node(json_name(path), "file", len(content), MOMENT)
        for path, content in sorted(files.items(), key=lambda item: os.fsencode(item[0]))
    ]


def run(scratch: Path, nodes: list[Node]) -> tuple[DrillOutcome, list[str]]:
    # A generator: the verifier reads the listing once, as a spooled one is read.
    return verify(DRILL, CANARY, (node for node in nodes), scratch, DrillOutcome())


TREE = {
    "/srv/share/a.txt": b"a",
    "/srv/share/b/one.doc": b"one",
    "/srv/share/b/deeper/two.doc": b"two2",
    "/srv/share/b.txt": b"bee",  # after the folder b in restic's order, before it as text
    "/srv/share/c.txt": b"sea",
    "/srv/other/d.txt": b"dee",
    "/state/canary": b"canary",
}


def test_a_faithful_restore_verifies_every_file(tmp_path: Path):
    restore(tmp_path, TREE)
    outcome, problems = run(tmp_path, listing(TREE))
    assert problems == []
    assert outcome.verified_files == len(TREE)
    assert (outcome.missing, outcome.extra, outcome.size_different) == ((), (), ())
    assert outcome.canary == "unknown"  # listed and restored; no hash recorded to check


def test_what_differs_is_named_wherever_it_is(tmp_path: Path):
    restored = {**TREE, "/srv/share/b/one.doc": b"on", "/srv/share/b/stray.tmp": b"x"}
    del restored["/srv/share/b/deeper/two.doc"]
    restore(tmp_path, restored)
    restore(tmp_path, {"/srv/unlisted/deep/er.txt": b"extra"})  # a folder the listing lacks
    outcome, problems = run(tmp_path, listing(TREE))
    assert outcome.missing == ("/srv/share/b/deeper/two.doc",)
    assert set(outcome.extra) == {"/srv/share/b/stray.tmp", "/srv/unlisted/deep/er.txt"}
    assert outcome.size_different == ("/srv/share/b/one.doc",)
    assert outcome.verified_files == len(TREE) - 2
    assert outcome.mismatched_files == 4
    assert problems == [
        "1 file(s) missing (first: /srv/share/b/deeper/two.doc); 2 file(s) extra (first: "
        f"{outcome.extra[0]}); 1 file(s) of a different size (first: /srv/share/b/one.doc)"
    ]


def test_a_folder_not_restored_has_all_its_files_missing(tmp_path: Path):
    restore(tmp_path, {path: data for path, data in TREE.items() if "/b/" not in path})
    outcome, _ = run(tmp_path, listing(TREE))
    assert set(outcome.missing) == {"/srv/share/b/one.doc", "/srv/share/b/deeper/two.doc"}


def test_many_missing_files_are_counted_and_twenty_named(tmp_path: Path):
    files = {f"/srv/f{index:03d}.txt": b"x" for index in range(100)}
    restore(tmp_path, {"/state/canary": b"canary"})
    outcome, problems = run(tmp_path, listing({**files, "/state/canary": b"canary"}))
    assert len(outcome.missing) == 20
    assert outcome.mismatched_files == 100
    assert problems[0].startswith("100 file(s) missing (first: /srv/f000.txt)")


def test_names_that_are_not_utf8_are_matched_by_their_own_bytes(tmp_path: Path):
    folder = os.fsdecode(b"/srv/caf\xe9")
    files = {f"{folder}/men\xfc.txt": b"ok", os.fsdecode(b"/srv/caf\xe9/r\xe9sum\xe9.doc"): b"cv"}
    files["/state/canary"] = b"canary"
    restore(tmp_path, files)
    outcome, problems = run(tmp_path, listing(files))
    assert problems == []
    assert outcome.verified_files == 3


def test_a_listing_that_leaves_a_folder_and_comes_back_is_refused(tmp_path: Path):
    restore(tmp_path, TREE)
    nodes = listing(TREE)
    # /srv/other between two files of /srv/share: /srv/share is left, then entered again.
    other = next(node for node in nodes if node.path == "/srv/other/d.txt")
    apart = [node for node in nodes if node is not other]
    apart.insert([node.path for node in apart].index("/srv/share/c.txt"), other)
    with pytest.raises(BdrError, match="named folder /srv/share twice"):
        run(tmp_path, apart)


def test_a_spooled_listing_reads_back_its_files_in_order_every_time():
    lines = [
        json.dumps({"time": "2026-12-01T03:00:00Z", "tree": "t", "id": "abc", "paths": ["/srv"]}),
        *(
            json.dumps(
                {
                    "struct_type": "node",
                    "path": path,
                    "type": kind,
                    "size": 1,
                    "mtime": "2026-12-01T03:00:00.123456789Z",
                }
            )
            for path, kind in (("/srv", "dir"), ("/srv/a", "file"), ("/srv/b", "file"))
        ),
    ]
    spooled = FileListing(io.StringIO())
    for line in lines:
        spooled.feed(line)
    assert (spooled.count, spooled.bytes, len(spooled.head)) == (2, 2, 1)
    assert [node.path for node in spooled] == ["/srv/a", "/srv/b"]
    assert [node.path for node in spooled] == ["/srv/a", "/srv/b"]
    with pytest.raises(AssertionError):
        spooled.files  # noqa: B018 - held files are a listing without a spool's
    assert [node.path for node in FileListing.of(lines)] == ["/srv/a", "/srv/b"]


def test_spooled_lines_read_back_whole_after_a_reader_stopped_early():
    spooled = SpooledLines(io.StringIO())
    for line in ("snapshot\n", "node one\n", "node two"):
        spooled.feed(line)
    assert next(iter(spooled)) == "snapshot\n"  # the snapshot's line, as list_snapshot reads it
    assert list(spooled) == ["snapshot\n", "node one\n", "node two\n"]
