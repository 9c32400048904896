"""restic's patterns: escaping paths, and whether an exclude removes a path (the canary)."""

import random

import pytest

from bdr.fsnames import json_name, shown
from bdr.restic.patterns import escape, matches, selector


def test_escape_makes_a_literal_pattern():
    assert escape("/srv/weird[1].txt") == r"/srv/weird\[1\].txt"
    assert escape("/srv/back\\slash.txt") == r"/srv/back\\slash.txt"
    assert escape("/srv/star*?.txt") == r"/srv/star\*\?.txt"
    assert matches(escape("/srv/weird[1].txt"), "/srv/weird[1].txt")
    assert not matches(escape("/srv/weird[1].txt"), "/srv/weird1.txt")


def test_a_name_that_was_not_utf8_is_any_one_byte_in_the_pattern():
    listed = json_name("/srv/caf\udce9.doc")
    assert listed == "/srv/caf\ufffd.doc"
    assert escape(listed) == "/srv/caf?.doc"


def test_go_replaces_each_invalid_byte_on_its_own():
    # b"\xe9\x80" is a truncated three-byte sequence: Go writes two U+FFFD, Python's "replace" one.
    name = b"/a\xe9\x80b".decode("utf-8", "surrogateescape")
    assert json_name(name) == "/a\ufffd\ufffdb"
    assert shown(name) == "/a\\xe9\\x80b"
    assert shown("/plain/é.txt") == "/plain/é.txt"


CANARY = "/var/lib/bdr/canary/office/bdr-canary.txt"


@pytest.mark.parametrize(
    ("pattern", "excluded"),
    [
        ("*.txt", True),
        ("*", True),
        ("canary", True),  # a directory on the way down
        ("bdr-*", True),
        ("/var/lib/*", True),
        ("/var/**/office", True),
        ("**/*.txt", True),
        ("*.tmp", False),
        ("/srv", False),
        ("/var/lib/bdr/canary/other", False),
        ("lib/bdr", True),  # unanchored: a run of components anywhere
        ("bdr/lib", False),
        ("[!x]*.txt", False),  # Go has no `!` negation in a class; `[^x]` is its form
        ("[^x]*.txt", True),
    ],
)
def test_exclude_matching_follows_restic(pattern, excluded):
    assert matches(pattern, CANARY) is excluded


def test_an_anchored_rewrite_leaves_paths_outside_the_source_alone():
    assert matches("/srv/data/**/*.txt", "/srv/data/a.txt")
    assert matches("/srv/data/**/*.txt", "/srv/data/x/y/a.txt")
    assert not matches("/srv/data/**/*.txt", CANARY)


def test_a_selector_agrees_with_restic_matching_of_each_pattern():
    rng = random.Random(7)
    names = ["a", "ab", "b[1]", "b1", "c*", "cd", "x\ufffdy", "back\\slash", "-", "]"]
    paths = [
        "/" + "/".join(rng.choice(names) for _ in range(rng.randint(1, 4))) for _ in range(400)
    ]
    patterns = [escape(path) for path in rng.sample(paths, 20)]
    patterns += [escape(path.rpartition("/")[0] or "/") + "/a*" for path in rng.sample(paths, 5)]
    patterns += ["/a/[\\a\\b]*", "/b?1", "cd", "**/ab", "/a/**/cd", "/[^a]*/x"]
    for count in (1, 3, 12, len(patterns)):
        chosen = rng.sample(patterns, count)
        selected = selector(chosen)
        for path in paths:
            assert selected(path) == any(matches(p, path) for p in chosen), (chosen, path)
