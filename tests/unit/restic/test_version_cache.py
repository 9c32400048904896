"""restic's version is remembered per binary file, and asked again when the file changes."""

from __future__ import annotations

import os
from pathlib import Path

from bdr.restic import version_cache

TEXT = "restic 0.14.0 compiled with go1.19.8 on linux/amd64\n"


def binary(tmp_path: Path, name: str = "restic") -> Path:
    path = tmp_path / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_remembered_for_the_same_file_only(tmp_path: Path):
    cache = tmp_path / "cache"
    restic = binary(tmp_path)
    key = version_cache.key(str(restic))
    assert version_cache.recall(cache, key) is None
    version_cache.remember(cache, key, TEXT)
    assert version_cache.recall(cache, version_cache.key(str(restic))) == TEXT
    # An upgrade replaces or rewrites the file: asked again.
    os.utime(restic, ns=(1, 1))
    assert version_cache.recall(cache, version_cache.key(str(restic))) is None
    other = binary(tmp_path, "restic-0.17")
    assert version_cache.recall(cache, version_cache.key(str(other))) is None


def test_a_missing_binary_or_a_damaged_cache_is_asked_again(tmp_path: Path):
    assert version_cache.key(str(tmp_path / "no-such-restic")) is None
    cache = tmp_path / "cache"
    cache.mkdir()
    key = version_cache.key(str(binary(tmp_path)))
    for damaged in (b"", b"\xff\xfe", b"[]", b'{"binary": 1}', b'{"binary": null, "version": ""}'):
        (cache / version_cache.FILE).write_bytes(damaged)
        assert version_cache.recall(cache, key) is None
    # A cache that cannot be written is no error.
    version_cache.remember(tmp_path / "bin" / "restic" / "not-a-dir", key, TEXT)
