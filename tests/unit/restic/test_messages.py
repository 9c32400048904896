"""Parsing output recorded from the real restic 0.14.0 (tests/fixtures/record-restic.sh)."""

from datetime import UTC, datetime
from pathlib import Path

from bdr.restic.messages import (
    BackupSummary,
    ItemError,
    backup_messages,
    forgotten_count,
    ls_nodes,
    parse_time,
    restore_status,
    restored_snapshot,
    snapshot_list,
)

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
    assert forgotten_count(text) == 1


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
