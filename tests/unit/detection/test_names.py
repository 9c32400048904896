"""The names ransomware leaves: the shipped list matches them and no ordinary office file."""

import fnmatch
import random
import re

import pytest

from bdr.detection.names import ONION, NamePatterns, parse, shipped


@pytest.mark.parametrize(
    "name",
    [
        "Budget 2024.xlsx.locked",
        "report.docx.LOCKBIT",
        "photo.jpg.wncry",
        "contract.pdf.djvu",
        "HOW_TO_DECRYPT.txt",
        "_readme.txt",
        "Restore-My-Files.txt",
        "!!!READ_ME!!!.html",
        "info.hta",
    ],
)
def test_the_shipped_list_knows_ransomwares_names(name):
    assert shipped().matches(name)


@pytest.mark.parametrize(
    "name",
    [
        "report.docx",
        "readme.txt",
        "README.md",
        "Main.java",
        "package.lock",
        "yarn.lock",
        "backup.zip",
        "secret.enc",
        "invoice-2024.pdf",
        "Thumbs.db",
        "desktop.ini",
        "notes [draft].txt",
    ],
)
def test_ordinary_names_are_not_flagged(name):
    assert not shipped().matches(name)


def test_the_list_has_a_version_and_the_appliance_adds_its_own():
    patterns = shipped(["*.mylocker", "READ_ME_NOW.txt"])
    assert patterns.version
    assert patterns.matches("x.doc.MyLocker")
    assert patterns.matches("read_me_now.txt")
    assert not shipped().matches("x.doc.mylocker")


def test_a_name_with_pattern_characters_is_only_a_name():
    patterns = NamePatterns("1", ("*.locked",))
    assert not patterns.matches("[*].txt")
    assert patterns.hits(["/srv/a/[x].locked", "/srv/a/b.txt"]) == ["/srv/a/[x].locked"]


def test_no_patterns_match_nothing():
    assert not NamePatterns("0", ()).matches("anything.locked")


def test_parse_skips_comments_and_reads_the_version():
    assert parse("# a comment\nversion 7\n\n*.x\n  *.y  \n") == ("7", ("*.x", "*.y"))


def test_an_onion_address_is_56_base32_characters():
    assert ONION.search(b"pay at http://" + b"a" * 56 + b".onion now")
    assert not ONION.search(b"http://" + b"a" * 16 + b".onion")  # v2: retired


def test_the_quick_tests_answer_as_one_expression_of_every_pattern_would():
    """Patterns are answered by name, ending, beginning or part where they can be: for any
    name and any pattern, the answer is the one fnmatch's expression gives."""
    rng = random.Random(28)
    alphabet = ["a", "b", ".", "_", "*", "?", "[", "]", "!", "-", " ", "é", "\\"]
    patterns = ["*", "**", "*.a", "a*", "*ab*", "a", "**a", "a**", "*a*b*", "[ab]*", "*?", "a?b"]
    patterns += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(300)
    ]
    names = ["", "a", "b.a", "ab", "x.ab.y", "[ab]", "a*b", *shipped().patterns]
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))) for _ in range(300)]
    for pattern in patterns:
        one = NamePatterns("test", (pattern,))
        expression = re.compile(fnmatch.translate(pattern.lower()), re.DOTALL)
        for name in names:
            expected = expression.fullmatch(name.lower()) is not None
            assert one.matches(name) is expected, (pattern, name)
