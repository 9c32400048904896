import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bdr.actions.restore import (
    check_target,
    included,
    missing_in,
    parse_as_of,
    select_snapshot,
    selection,
)
from bdr.config.model import Appliance, Config, Plan, Repository
from bdr.errors import BdrError, UsageError
from bdr.restic.messages import Node, Snapshot


def snap(short: str, day: int) -> Snapshot:
    return Snapshot(
        id=short + "0" * 56,
        short_id=short,
        time=datetime(2026, 11, day, 12, tzinfo=UTC),
        paths=("/srv",),
        hostname="h",
        tags=("bdr-plan=p",),
    )


SNAPSHOTS = [snap("aaaa1111", 1), snap("bbbb2222", 5), snap("bbbc3333", 9)]


def test_latest_id_prefix_and_as_of():
    assert select_snapshot(SNAPSHOTS, "latest", None).short_id == "bbbc3333"
    assert select_snapshot(SNAPSHOTS, "aaaa", None).short_id == "aaaa1111"
    as_of = datetime(2026, 11, 6, tzinfo=UTC)
    assert select_snapshot(SNAPSHOTS, "latest", as_of).short_id == "bbbb2222"


def test_ambiguous_unknown_and_too_early():
    with pytest.raises(UsageError, match="several"):
        select_snapshot(SNAPSHOTS, "bbb", None)
    with pytest.raises(UsageError, match="matches no snapshot"):
        select_snapshot(SNAPSHOTS, "ffff", None)
    with pytest.raises(UsageError, match="the oldest is from"):
        select_snapshot(SNAPSHOTS, "latest", datetime(2026, 10, 1, tzinfo=UTC))
    with pytest.raises(UsageError, match="no snapshots"):
        select_snapshot([], "latest", None)


def test_as_of_parsing():
    assert parse_as_of("2026-11-20 14:00").tzinfo is not None
    with pytest.raises(UsageError, match="--as-of 'yesterday'"):
        parse_as_of("yesterday")


def test_include_matching_and_selection_size():
    nodes = [
        Node("/srv/docs", "dir", 0, datetime.min),
        Node("/srv/docs/a.txt", "file", 10, datetime.min),
        Node("/srv/docs-old/b.txt", "file", 20, datetime.min),
        Node("/srv/photos/c.jpg", "file", 30, datetime.min),
    ]
    assert included("/srv/docs/a.txt", ["/srv/docs"])
    assert not included("/srv/docs-old/b.txt", ["/srv/docs/"])
    assert not included("/srv/photos/c.jpg", ["*.jpg"]), "a path, not a pattern"
    assert selection(nodes, ["/srv/docs"]) == [("/srv/docs/a.txt", 10)]
    assert [size for _, size in selection(nodes, [])] == [10, 20, 30]


@pytest.mark.parametrize("path", ["/srv/../../etc/shadow", "srv/a.txt", "/srv/./a", "/srv/.."])
def test_a_listed_path_that_would_leave_the_target_is_refused(path):
    nodes = [Node("/srv/a.txt", "file", 1, datetime.min), Node(path, "file", 5, datetime.min)]
    with pytest.raises(BdrError, match="a path that would leave the target: refused"):
        selection(nodes, [])


def test_what_the_listing_promised_is_looked_for_in_the_target(tmp_path):
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "a.txt").write_bytes(b"12345")
    (tmp_path / "srv" / "short.txt").write_bytes(b"12")
    (tmp_path / "srv" / "link").symlink_to("a.txt")
    odd = os.fsdecode(b"caf\xe9.doc")
    (tmp_path / "srv" / odd).write_bytes(b"abc")
    listed = [
        ("/srv/a.txt", 5),
        ("/srv/short.txt", 5),
        ("/srv/link", 5),
        ("/srv/gone.txt", 1),
        ("/srv/caf\ufffd.doc", 3),  # as restic's JSON spells a name that is not UTF-8
    ]
    assert missing_in(tmp_path, listed) == ["/srv/short.txt", "/srv/link", "/srv/gone.txt"]


def test_include_of_names_that_look_like_patterns_or_are_not_utf8():
    assert included("/srv/weird[1].txt", ["/srv/weird[1].txt"])
    assert not included("/srv/weird1.txt", ["/srv/weird[1].txt"])
    # restic's listing has U+FFFD where the name on disk has the byte 0xe9.
    assert included("/srv/caf\ufffd.doc", ["/srv/caf\udce9.doc"])


def test_empty_options_and_local_times_that_do_not_exist_or_exist_twice(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    with pytest.raises(UsageError, match="--as-of is empty"):
        parse_as_of(" ")
    with pytest.raises(UsageError, match="does not exist in Europe/Berlin"):
        parse_as_of("2026-03-29 02:30")
    with pytest.raises(
        UsageError, match=r"happens twice .* 02:30\+02:00 or 2026-10-25 02:30\+01:00"
    ):
        parse_as_of("2026-10-25 02:30")
    assert parse_as_of("2026-10-25 02:30+01:00").hour == 2
    assert parse_as_of("2026-07-01 12:00").utcoffset().total_seconds() == 7200
    with pytest.raises(UsageError, match="--snapshot is empty"):
        select_snapshot(SNAPSHOTS, "", None)


def test_target_guards(tmp_path: Path):
    source = tmp_path / "live"
    source.mkdir()
    plan = Plan(sources=[str(source)], repository="r")
    config = Config(
        appliance=Appliance(state_dir=tmp_path / "state", scratch_dir=tmp_path / "scratch"),
        repositories={"r": Repository(url=str(tmp_path / "repo"), password_command="pass")},
    )
    for owned in ("state", "scratch/x", "repo/data"):
        with pytest.raises(UsageError, match=r"inside .* which bdr manages"):
            check_target(tmp_path / owned, plan, config, in_place=True)
    with pytest.raises(UsageError, match="into /"):
        check_target(Path("/"), plan, config, in_place=False)
    with pytest.raises(UsageError, match="source"):
        check_target(source / "sub", plan, config, in_place=False)
    # A target that holds files is fine: what would be overwritten is judged file by file.
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    check_target(full, plan, config, in_place=False)
    check_target(tmp_path / "new", plan, config, in_place=False)
    check_target(source, plan, config, in_place=True)


def test_conflicts_are_the_files_already_where_one_lands(tmp_path: Path):
    from bdr.actions.placement import conflicts, destination

    listed = [("/srv/share/docs/a.txt", 1), ("/srv/share/docs/b.txt", 2), ("/var/canary", 3)]
    assert destination(tmp_path, "/srv/share/docs/a.txt", None) == tmp_path / "srv/share/docs/a.txt"
    assert destination(tmp_path, "/srv/share/docs/a.txt", ["/srv/share"]) == tmp_path / "docs/a.txt"
    assert destination(tmp_path, "/var/canary", ["/srv/share"]) is None
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/b.txt").write_text("edited")
    assert conflicts(tmp_path, listed, ["/srv/share"]) == [tmp_path / "docs/b.txt"]
    assert conflicts(tmp_path, listed, None) == []


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00+14:00", "0001-01-01", "9999-12-31T23:59-12:00", "1969-07-20"]
)
def test_as_of_out_of_range_is_a_usage_error(text):
    with pytest.raises(UsageError, match=re.escape(f"--as-of '{text}' is out of range")):
        parse_as_of(text)
