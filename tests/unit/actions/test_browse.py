"""Paths as the technician types them, and restic's find and diff output (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bdr.actions.browse import diff_modifiers, find_hits, in_snapshot, in_sources
from bdr.config.model import Plan
from bdr.errors import UsageError
from bdr.restic.messages import Snapshot
from tests.unit.appliance import office_config


def plan(tmp_path: Path, *sources: str) -> Plan:
    return office_config(tmp_path, plan={"sources": list(sources)}).plans["office"]


def test_a_relative_path_is_under_each_source_root(tmp_path: Path):
    one = plan(tmp_path, "/srv/share")
    assert in_snapshot(one, "documents/letters/x.txt") == ["/srv/share/documents/letters/x.txt"]
    assert in_snapshot(one, "/srv/share/a/../b") == ["/srv/share/b"]
    two = plan(tmp_path, "/srv/share", "/home")
    assert in_snapshot(two, "./x.txt") == ["/srv/share/x.txt", "/home/x.txt"]
    with pytest.raises(UsageError, match="leaves the plan's sources"):
        in_snapshot(one, "../etc/passwd")
    with pytest.raises(UsageError, match="the path is empty"):
        in_snapshot(one, "  ")


def test_only_the_sources_are_the_clients_data(tmp_path: Path):
    one = plan(tmp_path, "/srv/share")
    assert in_sources(one, "/srv/share") and in_sources(one, "/srv/share/a")
    assert not in_sources(one, "/srv/shared/a")
    assert not in_sources(one, "/var/lib/bdr/canary/office/bdr-canary.txt")


SNAPSHOT = Snapshot("a" * 64, "aaaaaaaa", datetime(2026, 12, 1, tzinfo=UTC), ("/srv",), "h", ())


def test_find_output_of_restic_0_14_becomes_hits():
    # One JSON array for the whole search, as restic 0.14 prints it.
    output = json.dumps(
        [
            {
                "matches": [
                    {"path": "/srv/a.txt", "type": "file", "size": 3,
                     "mtime": "2026-12-01T10:00:00.123456789Z"},
                    {"path": "/srv/d", "type": "dir", "mtime": "2026-12-01T10:00:00Z"},
                ],
                "hits": 2,
                "snapshot": "a" * 64,
            },
            {"matches": [{"path": "/srv/b.txt"}], "hits": 1, "snapshot": "b" * 64},
        ]
    )  # fmt: skip
    hits = find_hits([output + "\n"], {SNAPSHOT.id: SNAPSHOT})
    assert [(h.path, h.type, h.size) for h in hits] == [
        ("/srv/a.txt", "file", 3),
        ("/srv/d", "dir", 0),
    ]
    assert find_hits(["[]\n"], {SNAPSHOT.id: SNAPSHOT}) == []


def test_diff_keeps_files_added_removed_or_changed_not_folders_or_metadata():
    lines = [
        '{"message_type":"change","path":"/srv/docs/","modifier":"M"}\n',
        '{"message_type":"change","path":"/srv/docs/x.txt","modifier":"-"}\n',
        '{"message_type":"change","path":"/srv/docs/y.txt","modifier":"M"}\n',
        '{"message_type":"change","path":"/srv/docs/z.txt","modifier":"+"}\n',
        '{"message_type":"change","path":"/srv/docs/owner.txt","modifier":"U"}\n',
        '{"message_type":"change","path":"/srv/docs/both.txt","modifier":"MU"}\n',
        '{"message_type":"statistics","changed_files":1}\n',
    ]
    assert diff_modifiers(lines) == {
        "/srv/docs/x.txt": "-",
        "/srv/docs/y.txt": "M",
        "/srv/docs/z.txt": "+",
        "/srv/docs/both.txt": "M",
    }


def test_a_restore_says_where_its_files_landed(tmp_path: Path):
    from bdr.actions.restore import landing

    one = landing(tmp_path, [("/srv/share/docs/x.txt", 5)])
    assert one.single_file and one.where == tmp_path / "srv/share/docs/x.txt"
    many = landing(
        tmp_path,
        [("/srv/share/docs/a.txt", 5), ("/srv/share/docs/b.txt", 7), ("/srv/share/db/t", 100)],
    )
    assert not many.single_file and many.where == tmp_path / "srv/share"
    assert many.entries == (("db", 1, 100), ("docs", 2, 12))
