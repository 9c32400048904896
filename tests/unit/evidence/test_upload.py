"""What an upload stages, and what waits for the evidence store (files only, no processes)."""

from __future__ import annotations

import json
from pathlib import Path

from bdr.evidence import chain, upload
from bdr.evidence.keys import ensure_key, evidence_dir
from bdr.evidence.verify import read_key, verify_directory
from bdr.report.model import PlanSpec, Setup


def _report(reports: Path, month: str, extension: str, *, signed: bool = True) -> Path:
    path = reports / month / f"bdr-test-01-{month}.{extension}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"report {extension}")
    if signed:
        path.with_name(path.name + ".sig").write_text("signature")
    return path


def test_the_staged_upload_is_the_chain_its_signed_head_and_the_reports_never_the_key(
    tmp_path: Path,
):
    state = tmp_path / "state"
    key = ensure_key(state, "test-01")
    for run in (1, 2, 3):
        chain.append(state, {"run": run, "kind": "backup", "status": "ok"}, key)
    # A torn last line (a crash mid-append) is not uploaded.
    with open(evidence_dir(state) / chain.CHAIN, "ab") as torn:
        torn.write(b'{"run":4,')
    reports = tmp_path / "reports"
    _report(reports, "2026-11", "pdf")
    _report(reports, "2026-11", "json")
    _report(reports, "2026-12", "html", signed=False)  # being written: not yet
    setup = Setup(appliance="test-01", client="Dental", plans=(PlanSpec("office", 86400, "local"),))
    staged = upload.stage(state, reports, setup, "Europe/Berlin")
    files = sorted(str(p.relative_to(staged.root)) for p in staged.root.rglob("*") if p.is_file())
    assert files == [
        "allowed_signers",
        "chain.jsonl",
        "head",
        "head.sig",
        "reports/2026-11/bdr-test-01-2026-11.json",
        "reports/2026-11/bdr-test-01-2026-11.json.sig",
        "reports/2026-11/bdr-test-01-2026-11.pdf",
        "reports/2026-11/bdr-test-01-2026-11.pdf.sig",
        "setup.json",
        "signing_key.pub",
    ]
    assert staged.seq == 3
    result = verify_directory(staged.root, read_key(evidence_dir(state) / "allowed_signers"))
    assert result.ok and result.records == 3 and result.head_seq == 3
    facts = json.loads((staged.root / "setup.json").read_text())
    assert facts["zone"] == "Europe/Berlin"
    assert facts["setup"]["plans"][0]["name"] == "office"
    upload.unstage(state)
    assert not upload.staging_dir(state).exists()


def test_pending_counts_records_and_report_files_not_uploaded(tmp_path: Path):
    reports = tmp_path / "reports"
    pdf = _report(reports, "2026-11", "pdf")
    marks = {mark for _, mark in upload.report_files(reports)}
    assert upload.pending(10, 7, reports, set()) == 4
    assert upload.pending(10, 10, reports, marks) == 0
    # A report written again (new bytes, new time) waits again.
    pdf.write_text("report pdf, made again with more runs")
    assert upload.pending(10, 10, reports, marks) == 1
    assert upload.pending(3, 5, tmp_path / "no-reports", set()) == 0
