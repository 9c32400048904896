"""A file's first bytes against its name: lost when the format its name promises is gone."""

import os
import random

import pytest

from bdr.detection.content import entropy, inspect, promised

RANDOM = random.Random(5).randbytes(65536)


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.pdf", b"%PDF-1.7\n" + RANDOM[:2000]),
        ("a.docx", b"PK\x03\x04" + RANDOM[:2000]),
        ("a.xlsx", b"PK\x03\x04" + RANDOM[:2000]),
        ("a.jpg", b"\xff\xd8\xff\xe0" + RANDOM[:2000]),
        ("a.png", b"\x89PNG\r\n\x1a\n" + RANDOM[:2000]),
        ("a.sqlite", b"SQLite format 3\x00" + bytes(2000)),
        ("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)),
        ("a.txt", b"Dear customer,\nyour invoice is attached.\n" * 50),
        ("a.csv", "id;Straße;Betrag\n1;Hauptstraße 3;12,50\n".encode("cp1252") * 40),
        ("a.txt", "Notepad saved this as Unicode\r\n".encode("utf-16")),
    ],
)
def test_a_file_that_keeps_its_format_is_not_lost(name, head):
    found = inspect(f"/srv/share/{name}", head)
    assert found.judged and not found.lost


@pytest.mark.parametrize("name", ["a.pdf", "a.docx", "a.jpg", "a.sqlite", "a.txt", "a.csv"])
def test_encrypted_content_is_lost(name):
    found = inspect(f"/srv/share/{name}", RANDOM)
    assert found.lost
    assert found.entropy > 7.9


def test_a_small_encrypted_text_is_lost_by_its_control_bytes():
    # 200 random bytes measure only ~7 bits a byte: entropy alone cannot call them random.
    assert inspect("/srv/notes.txt", RANDOM[:200]).lost


def test_a_zip_is_high_entropy_and_not_lost():
    found = inspect("/srv/a.zip", b"PK\x03\x04" + RANDOM[:4000])
    assert found.entropy > 7.5 and not found.lost


def test_a_name_bdr_does_not_know_is_not_judged():
    found = inspect("/srv/data.bin", RANDOM)
    assert not found.judged and not found.lost


def test_an_unknown_appended_extension_still_promises_the_format_before_it():
    assert promised("report.pdf.x7k2q") == "pdf"
    assert inspect("/srv/report.pdf.x7k2q", RANDOM).lost
    assert promised("archive.tar") is None


def test_an_empty_file_is_not_judged():
    assert not inspect("/srv/a.pdf", b"").judged


def test_an_onion_address_is_seen():
    assert inspect("/srv/x.txt", b"visit " + b"b" * 56 + b".onion").onion


def test_entropy_of_nothing_one_symbol_and_random():
    assert entropy(b"") == 0
    assert entropy(b"aaaa") == 0
    assert entropy(os.urandom(1 << 16)) > 7.99
