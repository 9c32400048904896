"""Parsing output recorded from the real restic 0.14.0 (tests/fixtures/record-restic.sh)."""

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bdr.restic.messages import (
    BackupSummary,
    FileListing,
    ItemError,
    MalformedOutput,
    backup_messages,
    forget_groups,
    ls_nodes,
    ls_nodes_where,
    ls_snapshot,
    parse_time,
    restore_status,
    restored_snapshot,
    snapshot_list,
)
from bdr.restic.patterns import selector

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text().splitlines(keepends=True)


def test_backup_summary():
    messages = list(backup_messages(lines("backup.ndjson")))
    summary = messages[-1]
    assert isinstance(summary, BackupSummary)
    assert summary.total_files_processed == 2
    assert summary.total_bytes_processed == 100006
    assert len(summary.snapshot_id) >= 8


def test_partial_backup_error_from_stderr_json():
    messages = list(backup_messages(lines("stderr-partial.txt")))
    assert messages == [
        ItemError(
            item="/WORK/partial/secret",
            during="archival",
            message="open partial/secret: permission denied",
        )
    ]


def test_snapshots_sorted_with_tags():
    snapshots = snapshot_list(lines("snapshots.json"))
    assert len(snapshots) == 2
    assert snapshots[0].time < snapshots[1].time
    assert snapshots[0].tags == ("bdr-plan=office",)
    assert snapshots[0].short_id == snapshots[0].id[:8]


def test_ls_nodes_skip_the_snapshot_line():
    nodes = list(ls_nodes(lines("ls.ndjson")))
    files = {node.path: node.size for node in nodes if node.type == "file"}
    # The fixture backed up the relative path "src": restic lists it from the root.
    assert files == {"/src/docs/a.txt": 100000, "/src/b.txt": 14}


def test_forget_with_prune_text_after_json():
    text = lines("forget-prune.txt")
    assert any(not line.startswith(("[", "{")) for line in text)
    (group,) = forget_groups(text)
    assert len(group.remove) == 1 and len(group.keep) >= 1
    assert all(len(snapshot_id) == 64 for snapshot_id in (*group.keep, *group.remove))


def test_tolerates_non_json_and_broken_lines():
    mixed = [
        "[0:01] 10.00%  progress line\n",
        "{not json\n",
        "\n",
        '{"message_type":"summary","snapshot_id":"abcd1234"}\n',
    ]
    (summary,) = backup_messages(mixed)
    assert isinstance(summary, BackupSummary) and summary.snapshot_id == "abcd1234"


def test_restore_status_of_newer_restic():
    line = '{"message_type":"status","percent_done":0.5,"total_bytes":200,"bytes_restored":100}'
    (status,) = restore_status([line])
    assert status.bytes_restored == 100 and status.total_bytes == 200


def test_the_snapshot_restore_says_it_restores():
    old = (
        "restoring <Snapshot 6975594e of [/srv/data /var/lib/bdr/canary/office] at 2026-11-26 "
        "07:10:16.327368782 +0000 UTC by root@vm> to /var/lib/bdr/scratch/onsite/7\n"
    )
    new = "restoring snapshot 6975594e of [/srv/data] at 2026-11-26 07:10:16 by bdr@vm to /x\n"
    assert restored_snapshot([old]) == restored_snapshot([new]) == "6975594e"
    # Not said (--json, an unknown form, a file named like it further on): nothing is assumed.
    assert restored_snapshot(['{"message_type":"summary"}\n']) is None
    assert restored_snapshot(["restoring <Snapshot of [/srv] at 2015-05-08> to /x\n"]) is None
    assert restored_snapshot(["restoring <Snapshot 6975594X of [/srv]> to /x\n"]) is None


def test_parse_time_with_nanoseconds():
    assert parse_time("2026-11-25T16:52:20.578256081Z") == datetime(
        2026, 11, 25, 16, 52, 20, 578256, tzinfo=UTC
    )
    assert parse_time("2026-11-25T17:52:20.5+01:00").utcoffset() is not None


def test_ls_snapshot_line():
    from bdr.restic.messages import ls_snapshot

    snapshot = ls_snapshot(lines("ls.ndjson"))
    assert snapshot is not None and snapshot.paths == ("/WORK/src",)
    assert ls_snapshot([]) is None


def _go_json(value: object) -> str:
    """JSON as restic (Go's encoder) writes it: no spaces, non-ASCII as is, <>& escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _node_line(path: str, kind: str = "file", size: int = 1) -> str:
    name = path.rpartition("/")[2]
    return _go_json({"name": name, "type": kind, "path": path, "size": size, "struct_type": "node"})


def test_ls_nodes_where_the_sample_selects_only():
    roots = ["/share/a", "/share/b/c.txt"]
    paths = [
        "/share", "/share/a", "/share/a/x", "/share/ab/x", "/share/b", "/share/b/c.txt",
        "/share/b/c.txt2", "/other/share/a/x",
    ]  # fmt: skip
    listing = [lines("ls.ndjson")[0], *(_node_line(path) for path in paths)]
    found = [node.path for node in ls_nodes_where(listing, selector(roots))]
    assert found == ["/share/a", "/share/a/x", "/share/b/c.txt"]
    assert [node.path for node in ls_nodes_where(listing, lambda path: True)] == paths


def test_ls_nodes_where_reads_names_with_quotes_escapes_and_markup_as_the_full_parse_does():
    """The quick test reads a path from the line's text; any name JSON escapes (quotes,
    backslashes, markup Go escapes, U+FFFD for bytes that are not UTF-8) must come out as a
    parse of the whole line says, however the name tries to look like another key."""
    rng = random.Random(7)
    alphabet = ["a", "b", "/", '"', "\\", "<", ">", "&", ":", ",", "{", "}", "é", "\ufffd", " "]
    names = ['"path":"/share/a/x', 'a","path":"/share/a/evil', "x\\", '\\"path\\":\\"/share/a']
    for _ in range(400):
        names.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))))
    roots = ["/share/a", '/share/q"uote', "/share/<b>"]
    listing = []
    for name in names:
        for parent in ["/share/a", "/share", '/share/q"uote', "/share/<b>", "/elsewhere"]:
            listing.append(_node_line(f"{parent}/{name}"))
    expected = [
        node.path
        for node in ls_nodes(listing)
        if node.path in roots or any(node.path.startswith(root + "/") for root in roots)
    ]
    assert [node.path for node in ls_nodes_where(listing, selector(roots))] == expected
    assert len(expected) > len(names)  # the roots' subtrees were found, not just some


def test_a_listing_read_a_line_at_a_time_keeps_the_snapshot_and_the_files():
    recorded = lines("ls.ndjson")
    listing = FileListing()
    for line in recorded:
        listing.feed(line)
    assert listing.files == [node for node in ls_nodes(recorded) if node.type == "file"]
    assert listing.files and all(node.type == "file" for node in listing.files)
    assert ls_snapshot(listing.head) == ls_snapshot(recorded)
    assert FileListing.of(recorded).files == listing.files


def test_a_malformed_node_stops_a_listing_read_a_line_at_a_time():
    listing = FileListing.of(lines("ls.ndjson")[:1])
    with pytest.raises(MalformedOutput, match="path is 'relative/x'"):
        listing.feed(_node_line("relative/x"))
