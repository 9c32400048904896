"""restic output that is broken or hostile: every parser either reads what it can or says the
output is malformed (a BdrError, exit 1); none crashes with another exception, none lies."""

from __future__ import annotations

import json

import pytest

from bdr.restic import messages
from bdr.restic.messages import MalformedOutput

GOOD_ID = "a" * 64
SUMMARY = {"message_type": "summary", "snapshot_id": GOOD_ID, "files_new": 1}
NODE = {"struct_type": "node", "path": "/srv/a", "type": "file", "size": 5,
        "mtime": "2026-11-26T04:00:00.123456789Z"}  # fmt: skip
SNAPSHOT = {
    "id": GOOD_ID,
    "short_id": GOOD_ID[:8],
    "time": "2026-11-26T04:00:00Z",
    "paths": ["/srv"],
}


def lines(*objects: object) -> list[str]:
    return [o if isinstance(o, str) else json.dumps(o) for o in objects]


PARSERS = {
    "backup": lambda ls: list(messages.backup_messages(ls)),
    "snapshots": messages.snapshot_list,
    "ls": lambda ls: list(messages.ls_nodes(ls)),
    "ls-snapshot": messages.ls_snapshot,
    "restore": lambda ls: list(messages.restore_status(ls)),
    "forget": messages.forget_groups,
    "copy": messages.copied_count,
    "stats": messages.stats_total_size,
    "check": messages.check_errors,
    "prune": messages.pruned_bytes,
}
# (name, lines): output that must never crash any parser.
HOSTILE = [
    ("empty", []),
    ("not json", ["Fatal: something", "<html>502</html>", "\x00\x01\x02"]),
    ("truncated json", ['{"message_type": "summary", "snapshot_id": "ab']),
    ("json scalars", ["1", "null", '"text"', "true"]),
    ("nested arrays", ["[[[[[]]]]]"]),
    ("wrong types", lines({"message_type": "status", "percent_done": "abc"})),
    ("bool for number", lines({"message_type": "status", "percent_done": True})),
    ("huge numbers", lines({"message_type": "status", "percent_done": 1e400})),
    ("null fields", lines({"message_type": None, "struct_type": None, "id": None})),
    ("list of junk", lines([1, "x", None, {"id": 5}])),
    ("unknown message", lines({"message_type": "verbose_status", "x": [1, 2]})),
    ("10 MB line", ['{"message_type": "status", "pad": "' + "x" * 10_000_000 + '"}']),
    ("non-utf8 replaced", ['{"message_type": "error", "item": "caf\ufffd"}']),
    ("error without fields", lines({"message_type": "error"})),
    ("stats garbage", lines({"total_size": "lots"}, {"total_size": -5})),
    ("prune garbage", ["total prune: lots of blobs / 3 parsecs", "total prune: 1 blobs / x MiB"]),
    ("check garbage", ["error: ", "{}", "Fatal: repository contains errors"]),
]


@pytest.mark.parametrize("parser", sorted(PARSERS))
@pytest.mark.parametrize(("name", "output"), HOSTILE, ids=[name for name, _ in HOSTILE])
def test_hostile_output_never_crashes_a_parser(parser, name, output):
    try:
        PARSERS[parser](output)
    except MalformedOutput as error:
        assert error.message.startswith("restic printed a malformed ")


@pytest.mark.parametrize(
    ("parser", "output", "said"),
    [
        ("backup", lines({**SUMMARY, "snapshot_id": ""}), "backup summary: snapshot_id is ''"),
        ("backup", lines({**SUMMARY, "snapshot_id": "--cache-dir=/x"}), "snapshot_id"),
        ("backup", lines({**SUMMARY, "snapshot_id": "f" * 10_000_000}), "snapshot_id"),
        ("backup", lines({**SUMMARY, "snapshot_id": 12345678}), "snapshot_id is 12345678"),
        ("snapshots", lines([{**SNAPSHOT, "time": "yesterday"}]), "snapshot: time is 'yesterday'"),
        ("snapshots", lines([{**SNAPSHOT, "id": "../../etc"}]), "snapshot: id"),
        ("ls", lines({**NODE, "path": None}), "listing node: path is None"),
        ("ls", lines({**NODE, "path": "relative/x"}), "listing node: path"),
        ("ls", lines({**NODE, "size": "5"}), "listing node: size is '5'"),
        ("ls", lines({**NODE, "size": -1}), "listing node: size is -1"),
        ("ls", lines({**NODE, "mtime": "noon"}), "listing node: mtime is 'noon'"),
    ],
)
def test_figures_bdr_relies_on_are_refused_when_wrong(parser, output, said):
    with pytest.raises(MalformedOutput) as caught:
        PARSERS[parser](output)
    assert said in caught.value.message
    assert len(caught.value.message) < 200  # one line, whatever restic printed


def test_good_output_still_reads():
    (summary,) = messages.backup_messages(lines(SUMMARY))
    assert summary.snapshot_id == GOOD_ID
    (node,) = messages.ls_nodes(lines(NODE))
    assert (node.path, node.size) == ("/srv/a", 5)
    (snapshot,) = messages.snapshot_list(lines([SNAPSHOT]))
    assert snapshot.short_id == GOOD_ID[:8]


def test_the_harness_covers_enough_behaviours():
    assert len(HOSTILE) + 11 >= 17
