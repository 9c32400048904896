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


def test_a_long_catch_up_signs_each_month_and_every_month_exports_and_verifies(
    tmp_path: Path, monkeypatch
):
    """An appliance's first year of history appended at once: one write, a checkpoint at each
    month's end (not two files per run), and each month's bundle still has its signed head and
    anchor, and verifies."""
    from bdr.evidence.export import export_month
    from bdr.evidence.journal import _month
    from bdr.evidence.keys import ensure_key
    from bdr.evidence.verify import verify_directory

    monkeypatch.setenv("TZ", "Europe/Berlin")
    key = ensure_key(tmp_path, "test-01")
    records = [
        {
            "run": index,
            "kind": "backup",
            "status": "ok",
            "started": f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00Z",
            # Berlin is an hour ahead: the run of 23:30Z on the last day ends in the next month.
            "ended": f"2026-{month:02d}-{day:02d}T{hour:02d}:30:00Z",
        }
        for index, (month, day, hour) in enumerate(
            ((m, d, h) for m in (8, 9, 10) for d in (1, 15, 30) for h in (0, 12, 23)), start=1
        )
    ]
    assert len(chain.append_missing(tmp_path, records, key, _month)) == 27
    checkpoints = sorted(
        int(path.name.split(".")[0])
        for path in (tmp_path / "evidence" / chain.CHECKPOINTS).glob("*.head")
    )
    # The last record of each month in Berlin time: 2026-08-30 23:30Z is still August there,
    # 09-30 23:30Z is already October 1st.
    assert checkpoints == [9, 17, 27]
    assert verify_directory(tmp_path / "evidence", key.public).ok
    for month in ("2026-08", "2026-09", "2026-10"):
        bundle = export_month(tmp_path, "test-01", month, tmp_path / "out", key.fingerprint)
        assert verify_directory(bundle, key.public).ok, month
