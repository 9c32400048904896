"""The evidence chain, made by real runs (restic), checked by bdr and by OpenSSH alone."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bdr.evidence import sshsig
from tests.integration.conftest import Appliance, damage_largest_pack
from tests.integration.daemon import RunningDaemon, wait_for


def prove(appliance: Appliance, office: Path) -> Appliance:
    """A backup, a passed drill and a check of `office`: three records in the chain."""
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.add("checks", "local", repository="local", read_data_cycle=2)
    appliance.bdr("init")
    appliance.bdr("backup")
    appliance.bdr("drill", "run", "onsite")
    appliance.bdr("check")
    return appliance


@pytest.fixture
def proven(appliance: Appliance, office) -> Appliance:
    return prove(appliance, office)


def evidence(appliance: Appliance) -> Path:
    return appliance.state_dir / "evidence"


def lines(appliance: Appliance) -> list[bytes]:
    return (evidence(appliance) / "chain.jsonl").read_bytes().splitlines(keepends=True)


def verify(appliance: Appliance, *args: str, expect: int = 0) -> dict:
    return json.loads(appliance.bdr("--json", "evidence", "verify", *args, expect=expect).stdout)


def test_every_run_is_a_linked_signed_record(proven: Appliance):
    records = [json.loads(line) for line in lines(proven)]
    runs = proven.runs()
    assert [r["run"] for r in records] == [row["id"] for row in runs]
    assert [r["kind"] for r in records] == ["backup", "drill", "check"]
    drill = records[1]
    assert drill["verdict"] == "passed" and drill["canary"] == "ok"
    assert drill["rto_seconds"] == 3600 and drill["recovery_seconds"] > 0
    assert records[2]["coverage"] == 0.5
    assert "prev" not in records[0] and records[0]["chain"]
    result = verify(proven)
    assert result["ok"] and result["records"] == 3 and result["head_seq"] == 3


def test_a_third_party_checks_links_with_sha256sum_and_signatures_with_ssh_keygen(
    proven: Appliance,
):
    folder = evidence(proven)
    for number in (1, 2):
        digest = subprocess.run(
            f"sed -n {number}p chain.jsonl | sha256sum",
            shell=True,
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[0]
        assert json.loads(lines(proven)[number])["prev"] == digest
    with open(folder / "head", "rb") as head:
        good = subprocess.run(
            [
                *("ssh-keygen", "-Y", "verify", "-f", "allowed_signers"),
                *("-I", "test-01@bdr", "-n", "bdr-evidence", "-s", "head.sig"),
            ],
            stdin=head,
            cwd=folder,
            capture_output=True,
            text=True,
        )
    assert good.returncode == 0, good.stderr
    assert 'Good "bdr-evidence" signature for test-01@bdr' in good.stdout
    printed = proven.bdr("evidence", "key").stdout
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(folder / "signing_key.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert listed.split()[1] in printed
    assert oct((folder / "signing_key").stat().st_mode & 0o777) == "0o600"


def _rewrite(appliance: Appliance, new_lines: list[bytes]) -> None:
    (evidence(appliance) / "chain.jsonl").write_bytes(b"".join(new_lines))


@pytest.mark.parametrize(
    ("case", "found"),
    [
        ("figure", "not the record that was signed"),
        ("status", "prev does not match"),
        ("deleted", "seq is 3, expected 2"),
        ("swapped", "seq is 3, expected 2"),
        ("truncated", "torn"),
    ],
)
def test_tampering_with_the_chain_is_found(proven: Appliance, case: str, found: str):
    chain = lines(proven)
    if case == "figure":
        # The check's coverage, re-encoded canonically: only the signature can tell.
        record = json.loads(chain[2])
        record["coverage"] = 1.0
        chain[2] = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    elif case == "status":
        chain[0] = chain[0].replace(b'"status":"ok"', b'"status":"ko"')
    elif case == "deleted":
        del chain[1]
    elif case == "swapped":
        chain[1], chain[2] = chain[2], chain[1]
    else:
        chain[2] = chain[2][:40]
    _rewrite(proven, chain)
    result = verify(proven, expect=1)
    assert not result["ok"]
    assert any(found in problem for problem in result["problems"]), result["problems"]
    human = proven.bdr("evidence", "verify", expect=1)
    assert "BROKEN" in human.stdout and "the evidence chain is broken" in human.stderr


def test_a_chain_re_signed_with_another_key_fails_against_the_registered_one(
    proven: Appliance, tmp_path: Path
):
    folder = evidence(proven)
    registered = tmp_path / "registered_allowed_signers"
    shutil.copy(folder / "allowed_signers", registered)
    forger = Ed25519PrivateKey.generate()
    for head in [folder / "head", *sorted((folder / "checkpoints").glob("*.head"))]:
        Path(f"{head}.sig").write_text(sshsig.sign(forger, head.read_bytes(), "bdr-evidence"))
    line = sshsig.public_line(forger.public_key(), "test-01@bdr").rsplit(" ", 1)[0]
    (folder / "allowed_signers").write_text(f'test-01@bdr namespaces="bdr-evidence" {line}\n')
    assert verify(proven)["ok"], "consistent with the key beside it"
    result = verify(proven, "--allowed-signers", str(registered), expect=1)
    assert any("signed by another key" in problem for problem in result["problems"])


def test_a_replayed_older_head_is_found(proven: Appliance):
    folder = evidence(proven)
    first = folder / "checkpoints" / "00000001.head"
    shutil.copy(first, folder / "head")
    shutil.copy(f"{first}.sig", folder / "head.sig")
    result = verify(proven, expect=1)
    assert any("an older head was put back" in problem for problem in result["problems"])


def test_a_torn_last_line_is_cut_off_by_the_next_run_and_noted(proven: Appliance):
    chain = evidence(proven) / "chain.jsonl"
    with open(chain, "ab") as handle:
        handle.write(b'{"appliance":"test-01","kind":"bac')  # a crash in the middle of a write
    assert not verify(proven, expect=1)["ok"]
    proven.bdr("backup")
    result = verify(proven)
    assert result["ok"] and result["records"] == 4
    assert any("torn last line of 34 bytes was cut off" in repair for repair in result["repairs"])
    assert "repaired:" in proven.bdr("evidence", "verify").stdout


@pytest.fixture
def two_months(appliance: Appliance, office) -> Appliance:
    """Runs of last month (the clock set back 40 days for bdr) and of this month."""
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.bdr("init")
    appliance.bdr("backup", prefix=["faketime", "-f", "-40d"])
    appliance.bdr("backup")
    appliance.bdr("drill", "run", "onsite")
    return appliance


def export(appliance: Appliance, out: Path) -> Path:
    month = datetime.now().astimezone().strftime("%Y-%m")
    result = appliance.bdr_json("evidence", "export", "--month", month, "--out", str(out))
    return Path(result["bundle"])


def verify_sh(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # OpenSSH and coreutils are all it needs: no Python, no bdr on its PATH.
    return subprocess.run(
        ["sh", str(bundle / "verify.sh"), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )


def test_a_months_bundle_verifies_with_openssh_and_coreutils_alone(
    two_months: Appliance, tmp_path: Path
):
    bundle = export(two_months, tmp_path)
    assert sorted(p.name for p in bundle.iterdir()) == [
        "VERIFY.md",
        "allowed_signers",
        "anchor.head",
        "anchor.head.sig",
        "chain.jsonl",
        "head",
        "head.sig",
        "signing_key.pub",
        "verify.sh",
    ]
    # The backup of 40 days ago is the anchor; this month's backup and drill are the segment.
    assert [
        json.loads(line)["kind"] for line in (bundle / "chain.jsonl").read_bytes().splitlines()
    ] == [
        "backup",
        "drill",
    ]
    checked = verify_sh(bundle)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("intact: records 2 to 3 of chain")
    assert two_months.bdr_json("evidence", "verify", str(bundle))["ok"]


@pytest.mark.parametrize("case", ["figure", "deleted", "swapped", "torn", "signers", "resigned"])
def test_a_tampered_bundle_fails_verify_sh_and_bdr(
    two_months: Appliance, tmp_path: Path, case: str
):
    bundle = export(two_months, tmp_path)
    registered = tmp_path / "registered"
    shutil.copy(bundle / "allowed_signers", registered)
    chain = bundle / "chain.jsonl"
    records = chain.read_bytes().splitlines(keepends=True)
    forger = Ed25519PrivateKey.generate()
    forged = sshsig.public_line(forger.public_key(), "test-01@bdr").rsplit(" ", 1)[0]
    if case == "figure":
        chain.write_bytes(
            records[0] + records[1].replace(b'"verdict":"passed"', b'"verdict":"PASSED"')
        )
    elif case == "deleted":
        chain.write_bytes(records[1])
    elif case == "swapped":
        chain.write_bytes(records[1] + records[0])
    elif case == "torn":
        chain.write_bytes(records[0] + records[1][:-10])
    elif case == "signers":
        (bundle / "allowed_signers").write_text(f'test-01@bdr namespaces="bdr-evidence" {forged}\n')
    else:
        # Records rewritten and the checkpoints re-signed by someone else's key.
        for head in ("head", "anchor.head"):
            signature = sshsig.sign(forger, (bundle / head).read_bytes(), "bdr-evidence")
            (bundle / f"{head}.sig").write_text(signature)
        (bundle / "allowed_signers").write_text(f'test-01@bdr namespaces="bdr-evidence" {forged}\n')
    # A swapped key alone no longer matches the signatures; a re-signed bundle is consistent
    # with the key it carries, and only the key the MSP registered tells it is not the
    # appliance's.
    against = [str(registered)] if case == "resigned" else []
    checked = verify_sh(bundle, *against)
    assert checked.returncode == 1 and checked.stdout.startswith("BROKEN:"), checked.stdout
    options = ["--allowed-signers", str(registered)] if against else []
    result = two_months.bdr("--json", "evidence", "verify", str(bundle), *options, expect=1)
    assert not json.loads(result.stdout)["ok"]


def test_the_daemon_appends_runs_the_chain_lacks(proven: Appliance):
    # A history from before the chain (or a crash between the two): the chain is gone.
    folder = evidence(proven)
    for name in ("chain.jsonl", "head", "head.sig"):
        (folder / name).unlink()
    shutil.rmtree(folder / "checkpoints")
    missing = proven.bdr("evidence", "verify", expect=1)
    assert "is missing, but the history holds 3 runs" in missing.stderr
    proven.plans["office"]["schedule"] = f"0 {(datetime.now().hour + 12) % 24} * * *"
    proven.write()
    daemon = RunningDaemon(proven)
    try:
        wait_for("the catch-up", lambda: (folder / "head").exists())
        wait_for("the verification", lambda: "3 finished run(s) were missing" in daemon.text())
    finally:
        assert daemon.stop() == 0
    result = verify(proven)
    assert result["ok"] and result["records"] == 3
    assert [json.loads(line)["run"] for line in lines(proven)] == [1, 2, 3]


# Loaded into the bdr process through PYTHONPATH: the write of a chain line puts half of the line
# on disk, then the process is killed with SIGKILL, as a crash in the middle of an append.
KILL_MID_APPEND = """
import os, signal

_write = os.write


def write(fd, data):
    if os.readlink(f"/proc/self/fd/{fd}").endswith("chain.jsonl"):
        _write(fd, bytes(data)[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return _write(fd, data)


os.write = write
"""


def test_kill_9_in_the_middle_of_an_append_is_repaired_at_the_next_start(
    proven: Appliance, tmp_path: Path
):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_MID_APPEND)
    proven.env["PYTHONPATH"] = str(hook)
    killed = proven.bdr("backup", expect=-9)
    del proven.env["PYTHONPATH"]
    assert killed.returncode == -9
    backup = proven.runs()[-1]
    assert (backup["id"], backup["kind"], backup["status"]) == (4, "backup", "ok")
    assert not lines(proven)[-1].endswith(b"\n")  # half a line on disk
    assert not verify(proven, expect=1)["ok"]
    proven.plans["office"]["schedule"] = f"0 {(datetime.now().hour + 12) % 24} * * *"
    proven.write()
    daemon = RunningDaemon(proven)
    try:
        wait_for("the catch-up", lambda: "1 finished run(s) were missing" in daemon.text())
    finally:
        assert daemon.stop() == 0
    result = verify(proven)
    assert result["ok"] and result["records"] == 4
    record = json.loads(lines(proven)[-1])
    assert record["run"] == 4 and "torn last line" in record["repaired"]


def test_a_bundle_cut_short_with_an_older_head_is_found_by_the_reports_last_record(
    appliance: Appliance, office, tmp_path: Path
):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    for _ in range(2):
        appliance.bdr("backup", prefix=["faketime", "-f", "-40d"])
    month = (datetime.now().astimezone() - timedelta(days=40)).strftime("%Y-%m")
    (report,) = appliance.bdr_json("report", "--month", month, "--format", "json")
    (path,) = report["details"]["files"]
    pinned = json.loads(Path(path).read_text())["evidence"]["period_last_sha256"]
    bundle = Path(
        appliance.bdr_json("evidence", "export", "--month", month, "--out", str(tmp_path))["bundle"]
    )
    good = verify_sh(bundle, "-", pinned)
    assert good.returncode == 0 and "the last record is the one the report names" in good.stdout
    # Cut the last record off and put the older record's signed head back: consistent in itself.
    chain = (bundle / "chain.jsonl").read_bytes().splitlines(keepends=True)
    (bundle / "chain.jsonl").write_bytes(b"".join(chain[:-1]))
    older = evidence(appliance) / "checkpoints" / f"{len(chain) - 1:08d}.head"
    shutil.copy(older, bundle / "head")
    shutil.copy(f"{older}.sig", bundle / "head.sig")
    assert verify_sh(bundle).returncode == 0  # what the bundle alone cannot tell
    cut = verify_sh(bundle, "-", pinned)
    assert cut.returncode == 1 and cut.stdout.startswith("BROKEN: the last record has SHA-256")
    result = appliance.bdr(
        "--json", "evidence", "verify", str(bundle), "--expect-last", pinned, expect=1
    )
    assert "records were cut off" in json.loads(result.stdout)["problems"][0]


def history(appliance: Appliance, sql: str, *args: object) -> None:
    import sqlite3

    db = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
    with db:
        db.execute(sql, args)
    db.close()


# (edit of the history, what `bdr evidence verify` names): each on the runs of `proven`
# (1 backup, 2 drill, 3 check).
HISTORY_EDITS = [
    ("UPDATE runs SET status = 'failed' WHERE id = 3", "run 3 (status: history failed, chain ok)"),
    (
        "UPDATE runs SET details = json_set(details, '$.verdict', 'rto') WHERE id = 2",
        "run 2 (verdict: history rto, chain passed)",
    ),
    (
        "UPDATE runs SET details = json_set(details, '$.recovery_seconds', 1.5) WHERE id = 2",
        "run 2 (recovery_seconds: history 1.5, chain ",
    ),
    ("UPDATE runs SET snapshot_id = 'deadbeef' WHERE id = 1", "run 1 (snapshot: history deadbeef"),
    (
        "DELETE FROM runs WHERE id = 3",
        "run 3: the chain records a check run (ok) the history lacks",
    ),
    (
        "INSERT INTO runs (kind, plan, repository, status, started_at, ended_at, host, pid, "
        "snapshot_id) SELECT 'backup', 'office', 'local', 'ok', started_at - 7200, "
        "started_at - 7100, host, pid, 'cafe0000' FROM runs WHERE id = 1",
        "run 4: the history holds a backup run the chain never recorded",
    ),
]


@pytest.fixture(scope="module")
def proven_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """`proven`, made once for the history edits: each edit gets the history back as it was."""
    root = tmp_path_factory.mktemp("edited")
    office = root / "office"
    office.mkdir()
    (office / "letter.txt").write_text("Dear client,\n")
    appliance = prove(Appliance(root / "appliance"), office)
    assert verify(appliance)["ok"]
    yield appliance


@pytest.mark.parametrize(("edit", "named"), HISTORY_EDITS, ids=lambda v: str(v)[:40])
def test_a_history_edited_against_the_chain_is_named(proven_once: Appliance, edit: str, named: str):
    database = proven_once.state_dir / "bdr.sqlite"
    kept = database.with_name("bdr.sqlite.before-edit")
    source, copy = sqlite3.connect(database), sqlite3.connect(kept)
    source.backup(copy)
    source.close()
    copy.close()
    try:
        history(proven_once, edit)
        result = verify(proven_once, expect=1)
        assert not result["ok"]
        assert named in result["history_disagreements"][0], result["history_disagreements"]
        human = proven_once.bdr("evidence", "verify", expect=1)
        assert "the chain is intact, but the history disagrees with the evidence chain" in (
            human.stderr
        )
        assert named in human.stderr
        metrics = proven_once.bdr("metrics").stdout
        assert "bdr_evidence_chain_ok 0.0" in metrics
    finally:
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        kept.replace(database)


def test_a_report_of_an_edited_history_shows_the_chains_figures(proven: Appliance, tmp_path):
    # The drill fails on a damaged pack; its row is then edited to copy the passed drill's.
    damage_largest_pack(proven)
    (failed,) = proven.bdr_json("drill", "run", "onsite", expect=4)
    assert failed["verdict"] == "data"
    history(
        proven,
        "UPDATE runs SET (status, details, error, exit_code) = (SELECT status, details, error, "
        "exit_code FROM runs WHERE id = 2) WHERE id = ?",
        failed["run_id"],
    )
    history_says = proven.bdr_json("drill", "history", "onsite")
    assert [d["verdict"] for d in history_says] == ["passed", "passed"]  # the edit took

    month = datetime.now().strftime("%Y-%m")
    out = tmp_path / "reports"
    proven.bdr("report", "--month", month, "--format", "json,html", "--out", str(out))
    report = json.loads(next(out.glob(f"{month}/*.json")).read_text())
    rows = {row["run"]: row for row in report["drills"]}
    assert rows[failed["run_id"]]["verdict"] == "data"
    assert rows[failed["run_id"]]["status"] == "failed"
    assert rows[2]["verdict"] == "passed"
    texts = [finding["text"] for finding in report["summary"]["findings"]]
    assert any(
        text.startswith(
            f"history disagrees with the evidence chain for run {failed['run_id']} (status: "
            "history ok, chain failed; verdict: history passed, chain data; "
        )
        for text in texts
    ), texts
    (plan,) = report["summary"]["plans"]
    assert plan["light"] != "green"
    # The report opened the evidence problem: the metric says so until the next verification.
    assert "bdr_evidence_chain_ok 0.0" in proven.bdr("metrics").stdout


def test_the_daemons_verification_compares_the_history(proven: Appliance):
    history(proven, "UPDATE runs SET status = 'failed' WHERE id = 3")
    proven.plans["office"]["schedule"] = f"0 {(datetime.now().hour + 12) % 24} * * *"
    proven.write()
    daemon = RunningDaemon(proven)
    try:
        wait_for("the verification", lambda: "evidence chain BROKEN" in daemon.text())
        assert "history disagrees with the evidence chain for run 3" in daemon.text()
        metrics = proven.bdr("metrics").stdout
        assert "bdr_evidence_chain_ok 0.0" in metrics
    finally:
        assert daemon.stop() == 0
