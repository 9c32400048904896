from datetime import UTC, datetime
from pathlib import Path

from bdr.actions.drill.checks import expand, expected_output
from bdr.drill.verification import CHANGED, GONE, UNCHANGED, compare_tree, mtime_us, source_state
from bdr.restic.messages import Node


def test_compare_tree():
    diff = compare_tree({"/a": 1, "/b": 2, "/c": 3}, {"/a": 1, "/b": 5, "/d": 4})
    assert [found.first for found in (diff.missing, diff.extra, diff.size_different)] == [
        ["/c"],
        ["/d"],
        ["/b"],
    ]
    assert not diff.ok
    assert "1 file(s) missing (first: /c)" in diff.describe()
    assert compare_tree({"/a": 1}, {"/a": 1}).ok


def test_source_state_by_size_and_exact_mtime():
    moment = datetime(2026, 11, 25, 16, 52, 20, 562338, tzinfo=UTC)
    node = Node("/srv/a", "file", 10, moment)
    assert mtime_us(moment) == 1795625540562338
    assert source_state(node, (10, mtime_us(moment))) == UNCHANGED
    assert source_state(node, (10, mtime_us(moment) + 1)) == CHANGED
    assert source_state(node, (11, mtime_us(moment))) == CHANGED
    assert source_state(node, None) == GONE


def test_check_arguments_and_expected_output():
    scratch = Path("/scratch/d/7")
    assert (
        expand("{restore}/db.sqlite", scratch, ["/srv/files"]) == "/scratch/d/7/srv/files/db.sqlite"
    )
    assert expand("{root}", scratch, ["/srv/files"]) == "/scratch/d/7"
    assert expected_output("ok\n", "ok")
    assert expected_output("checking...\nok\n", "ok")
    assert not expected_output("not ok\n", "ok")
    assert expected_output("anything", None)
