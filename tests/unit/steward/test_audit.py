"""The steward's audit findings, from facts (pure)."""

from bdr.steward import audit

CHAIN = "c" * 32
HASHES = [f"{n:064x}" for n in range(1, 6)]  # records 1..5
UPLOADED = audit.Uploaded(chain=CHAIN, hashes=HASHES, last_ended=1000.0)


def head(seq: int, sha: str | None = None, chain: str = CHAIN) -> audit.Head:
    return audit.Head(chain, seq, sha if sha is not None else HASHES[seq - 1])


def test_a_head_the_chain_holds_is_no_finding():
    assert audit.rollback(UPLOADED, head(3), seen_at="then") is None
    assert audit.rollback(UPLOADED, None, seen_at="then") is None
    assert audit.stray_heads(UPLOADED, [("abcdef12", head(5))]) == []


def test_a_chain_shorter_than_the_head_seen_before_was_rolled_back():
    found = audit.rollback(UPLOADED, head(7, "f" * 64), seen_at="2026-12-01 06:30 UTC")
    assert found == (
        "rolled back: the audit of 2026-12-01 06:30 UTC saw record 7, the uploaded chain ends "
        "at record 5"
    )


def test_a_record_that_changed_since_the_last_audit_was_rewritten():
    found = audit.rollback(UPLOADED, head(2, "e" * 64), seen_at="then")
    assert found is not None and found.startswith("rewritten: record 2")


def test_another_chain_replaced_the_one_seen():
    found = audit.rollback(UPLOADED, head(2, chain="d" * 32), seen_at="then")
    assert found is not None and found.startswith("the chain was replaced")


def test_an_upload_whose_head_is_not_in_the_newest_chain_is_named():
    found = audit.stray_heads(UPLOADED, [("aaaaaaaa11", head(4, "0" * 64)), ("bbbbbbbb22", None)])
    assert found == [
        "upload aaaaaaaa holds a head (record 4) that is not in the newest chain: a chain cut "
        "short or rewritten was uploaded",
        "upload bbbbbbbb holds no readable signed head",
    ]


def test_a_chain_that_stopped_growing_is_a_finding_after_stalled_after():
    assert audit.stalled(UPLOADED, now=1000.0 + 86400, stalled_after=2 * 86400) is None
    found = audit.stalled(UPLOADED, now=1000.0 + 3 * 86400, stalled_after=2 * 86400)
    assert found is not None and "stopped growing" in found and "3d" in found


def test_a_report_quoting_a_head_the_chain_lacks_is_named():
    found = audit.report_heads(
        UPLOADED, [("ok.json", head(5)), ("forged.json", head(5, "1" * 64)), ("old.json", None)]
    )
    assert len(found) == 2
    assert found[0].startswith("report forged.json quotes chain head record 5")
    assert found[1] == "report old.json quotes no chain head"


def test_open_suspects_are_suspect_backups_no_review_cleared():
    records = [
        {"kind": "backup", "snapshot": "s1", "verdict": "suspect"},
        {"kind": "backup", "snapshot": "s2", "verdict": "clean"},
        {"kind": "backup", "snapshot": "s3", "verdict": "suspect"},
        {"kind": "review", "snapshot": "s1", "decision": "cleared"},
        {"kind": "review", "snapshot": "s3", "decision": "confirmed"},
        {"kind": "drill", "snapshot": "s3"},
    ]
    assert audit.open_suspects(records) == ["s3"]
