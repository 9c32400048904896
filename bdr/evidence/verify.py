"""Checking a chain and its checkpoints: every link, every signature, against a known key.

`check_lines` is pure (bytes in, findings out); `verify_directory` reads an evidence directory
(the appliance's, or an exported bundle laid out the same way).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from bdr.evidence import sshsig
from bdr.evidence.chain import CHAIN, CHECKPOINTS, line_hash
from bdr.evidence.keys import ALLOWED_SIGNERS, NAMESPACE, evidence_dir
from bdr.evidence.records import encode

ANCHOR = "anchor.head"


@dataclass
class Verification:
    records: int = 0
    last_sha256: str | None = None  # of the last whole record
    checkpoints: int = 0
    head_seq: int | None = None
    chain: str | None = None
    problems: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    unsigned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "head_seq": self.head_seq,
            "last_sha256": self.last_sha256,
            "chain": self.chain,
            "unsigned_records": self.unsigned,
            "problems": self.problems,
            "repairs": self.repairs,
        }


def check_lines(
    lines: Iterable[bytes], result: Verification, *, anchor: dict[str, object] | None = None
) -> list[str]:
    """Check the links of `lines` (each with its newline); return each line's SHA-256.

    `lines` may be an open file: a chain of 100,000 records (40 MB) is read a line at a time,
    not held whole by a daemon that verifies its chain every day.

    `anchor`, for an exported segment, is the signed checkpoint of the record just before
    the segment: the first line must follow it.
    """
    hashes: list[str] = []
    first = 1 if anchor is None else int(str(anchor["seq"])) + 1
    if anchor is not None:
        result.chain = str(anchor["chain"])
    for index, line in enumerate(lines):
        number = first + index
        where = f"record {number}"
        if not line.endswith(b"\n"):
            result.problems.append(f"{where}: torn (no newline): the chain ends mid-record")
            break
        try:
            record = json.loads(line)
        except ValueError:
            result.problems.append(f"{where}: not JSON")
            break
        if not isinstance(record, dict) or encode(record) != line:
            result.problems.append(f"{where}: not canonical JSON: its bytes were edited")
            break
        if record.get("seq") != number:
            result.problems.append(
                f"{where}: seq is {record.get('seq')}, expected {number}: a record was "
                "removed, added or moved"
            )
            break
        before = hashes[-1] if hashes else (None if anchor is None else anchor["sha256"])
        if number == 1:
            if "prev" in record or not record.get("chain"):
                result.problems.append(f"{where}: the first record must name a chain, no prev")
                break
            result.chain = str(record["chain"])
        elif record.get("prev") != before or record.get("chain") != result.chain:
            result.problems.append(
                f"{where}: prev does not match record {number - 1}: the record before was "
                "changed, or this one does not follow it"
            )
            break
        if record.get("repaired"):
            result.repairs.append(f"{where}: {record['repaired']}")
        hashes.append(line_hash(line))
        result.records = index + 1
    return hashes


def read_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key from an OpenSSH public key or allowed_signers file."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror}") from None
    for line in text.splitlines():
        fields = line.split()
        if "ssh-ed25519" in fields:
            at = fields.index("ssh-ed25519")
            if at + 1 < len(fields):
                key = load_ssh_public_key(f"ssh-ed25519 {fields[at + 1]}".encode())
                if isinstance(key, Ed25519PublicKey):
                    return key
    raise ValueError(f"{path}: holds no ssh-ed25519 key")


def verify_appliance(state_dir: Path) -> Verification:
    """Verify the appliance's own chain against the key beside it.

    Raises ValueError when that key cannot be read.
    """
    folder = evidence_dir(state_dir)
    return verify_directory(folder, read_key(folder / ALLOWED_SIGNERS))


def verify_directory(directory: Path, key: Ed25519PublicKey) -> Verification:
    """Verify the chain and every checkpoint in `directory` against `key`: the appliance's
    evidence directory, or an exported bundle (a segment, with `anchor.head` before it)."""
    result = Verification()
    try:
        # Opened, not looked for first: a chain removed in between is "no chain" too.
        lines = open(directory / CHAIN, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        result.problems.append(f"{directory / CHAIN}: no chain")
        return result
    with lines:
        anchor = None
        anchor_path = directory / ANCHOR
        if anchor_path.exists():
            try:
                # Read once: what is parsed is what was verified.
                anchor_bytes = anchor_path.read_bytes()
                sshsig.verify(Path(f"{anchor_path}.sig").read_text(), anchor_bytes, NAMESPACE, key)
            except (OSError, ValueError) as error:
                result.problems.append(f"anchor: bad signature: {error}")
                return result
            anchor = json.loads(anchor_bytes)
        hashes = check_lines(lines, result, anchor=anchor)
    result.last_sha256 = hashes[-1] if hashes else None
    first = 1 if anchor is None else int(anchor["seq"]) + 1
    newest = 0
    for head_path in sorted((directory / CHECKPOINTS).glob("*.head")):
        try:
            seq = _check_checkpoint(head_path, key, result.chain, hashes, first)
        except ValueError as problem:
            result.problems.append(f"checkpoint {head_path.name}: {problem}")
            continue
        result.checkpoints += 1
        newest = max(newest, seq)
    head = directory / "head"
    if head.exists():
        try:
            result.head_seq = _check_checkpoint(head, key, result.chain, hashes, first)
        except ValueError as problem:
            result.problems.append(f"head: {problem}")
        else:
            if result.head_seq < newest:
                result.problems.append(
                    f"head signs record {result.head_seq}, but checkpoint {newest} exists: an "
                    "older head was put back"
                )
    elif result.records:
        result.problems.append("no signed head")
    signed = max(newest, result.head_seq or 0)
    result.unsigned = max(0, first - 1 + result.records - signed) if result.records else 0
    return result


def check_last(result: Verification, expected: str) -> None:
    """Add a problem when the last record is not the one `expected` (its SHA-256) names: the
    record a signed report quotes as its period's last. A bundle cut short, with an older
    signed head put back, is consistent in itself; only this pin tells."""
    if result.last_sha256 != expected.strip().lower():
        result.problems.append(
            f"the last record has SHA-256 {result.last_sha256 or '-'}, not {expected.strip()}: "
            "records were cut off and an older head put back, or this is another period"
        )


def _check_checkpoint(
    path: Path, key: Ed25519PublicKey, chain: str | None, hashes: list[str], first: int
) -> int:
    """Return the record a checkpoint signs; raise ValueError saying why it is not good."""
    data = path.read_bytes()
    try:
        sshsig.verify(Path(f"{path}.sig").read_text(), data, NAMESPACE, key)
    except FileNotFoundError:
        raise ValueError("no signature") from None
    except ValueError as error:
        raise ValueError(f"bad signature: {error}") from None
    head = json.loads(data)
    seq = head.get("seq")
    if head.get("chain") != chain:
        raise ValueError("signs another chain")
    if not isinstance(seq, int) or not first <= seq < first + len(hashes):
        raise ValueError(f"signs record {seq}, which the chain does not hold (intact)")
    if head.get("sha256") != hashes[seq - first]:
        raise ValueError(f"record {seq} is not the record that was signed")
    return seq
