"""The chain's appends on disk (no processes)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bdr.evidence import chain
from bdr.evidence.keys import SigningKey


def _lines(state_dir: Path) -> list[dict[str, object]]:
    text = (state_dir / "evidence" / chain.CHAIN).read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_a_run_the_catch_up_appended_meanwhile_is_not_appended_twice(tmp_path: Path):
    """A command-line run writes the history, then appends itself; a daemon starting in
    between appends every finished run the chain lacks, that one included."""
    key = SigningKey(Ed25519PrivateKey.generate(), "test-01@bdr")
    run = {"run": 7, "kind": "backup", "status": "ok", "started": "2026-11-26T10:00:00Z"}
    chain.append(tmp_path, {"run": 6, "kind": "backup", "status": "ok"}, key)
    chain.append_missing(tmp_path, [run, {"run": 8, "kind": "check", "status": "ok"}], key)
    seq = chain.append(tmp_path, run, key)  # the run's own, late append
    lines = _lines(tmp_path)
    assert [line["run"] for line in lines] == [6, 7, 8]
    assert seq == 2
    chain.append(tmp_path, {"run": 9, "kind": "drill", "status": "ok"}, key)
    assert [line["run"] for line in _lines(tmp_path)] == [6, 7, 8, 9]
    # A run whose number only appears inside another field is not taken for recorded.
    chain.append(tmp_path, {"run": 10, "kind": "drill", "reason": '"run":11,', "status": "ok"}, key)
    chain.append(tmp_path, {"run": 11, "kind": "drill", "status": "ok"}, key)
    assert [line["run"] for line in _lines(tmp_path)] == [6, 7, 8, 9, 10, 11]


def test_a_history_begun_anew_numbers_runs_from_1_and_each_is_recorded(tmp_path: Path):
    key = SigningKey(Ed25519PrivateKey.generate(), "test-01@bdr")
    old = {"run": 1, "kind": "backup", "status": "ok", "started": "2026-11-01T10:00:00Z"}
    new = {"run": 1, "kind": "backup", "status": "ok", "started": "2026-11-26T10:00:00Z"}
    chain.append(tmp_path, old, key)
    chain.append(tmp_path, new, key)
    assert chain.append_missing(tmp_path, [old, new], key) == []
    assert [line["started"] for line in _lines(tmp_path)] == [old["started"], new["started"]]
