"""`bdr evidence export --month`: a bundle an auditor checks with OpenSSH and coreutils only.

The bundle holds the chain's records of the month (`chain.jsonl`, a contiguous segment), the
signed checkpoint of the record just before it (`anchor.head`, absent when the segment starts
the chain), the signed checkpoint of its last record (`head`), the public key and
`allowed_signers`, `VERIFY.md` and `verify.sh` (POSIX sh, `sha256sum`, `ssh-keygen -Y verify`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bdr.errors import UsageError
from bdr.evidence.chain import CHAIN, CHECKPOINTS
from bdr.evidence.keys import ALLOWED_SIGNERS, PUBLIC_FILE, evidence_dir
from bdr.evidence.records import from_rfc3339
from bdr.localtime import zone
from bdr.period import month_bounds

VERIFY_SH = r"""#!/bin/sh
# Checks this bdr evidence bundle with OpenSSH's ssh-keygen and coreutils only.
# Usage: sh verify.sh [ALLOWED_SIGNERS [LAST_SHA256]]
#   ALLOWED_SIGNERS: the key the MSP registered for this appliance (default: the
#   allowed_signers file in this bundle, which proves the bundle is whole, not whose it is;
#   "-" for that default).
#   LAST_SHA256: the SHA-256 of the month's last record, as the month's signed report quotes
#   it: a bundle cut short, with an older signed head put back, is found only with it.
set -eu
if [ $# -ge 1 ] && [ "$1" != "-" ]; then
    signers=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
fi
want=${2:-}
cd "$(dirname "$0")"
signers=${signers:-$PWD/allowed_signers}
principal=$(head -n 1 "$signers" | cut -d ' ' -f 1)

fail() {
    echo "BROKEN: $*"
    exit 1
}

# The value of a field of one line of canonical JSON (a number, or a string without quotes).
field() {
    sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"
}

signed() {
    ssh-keygen -Y verify -f "$signers" -I "$principal" -n bdr-evidence -s "$1.sig" \
        < "$1" > /dev/null 2>&1 || fail "$1: its signature does not verify against $signers"
}

signed head
chain=$(field chain < head)
expected=""
seq=0
if [ -f anchor.head ]; then
    signed anchor.head
    [ "$(field chain < anchor.head)" = "$chain" ] || fail "anchor.head signs another chain"
    expected=$(field sha256 < anchor.head)
    seq=$(field seq < anchor.head)
fi
first=$((seq + 1))
while IFS= read -r line || { [ -n "$line" ] && fail "record $((seq + 1)) is torn (no newline)"; }
do
    seq=$((seq + 1))
    got=$(printf '%s\n' "$line" | field seq)
    [ "$got" = "$seq" ] || fail "record $seq: seq is $got: a record was removed, added or moved"
    [ "$(printf '%s\n' "$line" | field chain)" = "$chain" ] || fail "record $seq: another chain"
    [ "$(printf '%s\n' "$line" | field prev)" = "$expected" ] ||
        fail "record $seq: prev does not match the record before: one of them was changed"
    expected=$(printf '%s\n' "$line" | sha256sum | cut -d ' ' -f 1)
done < chain.jsonl
[ "$(field seq < head)" = "$seq" ] ||
    fail "head signs record $(field seq < head), the bundle ends at $seq"
[ "$(field sha256 < head)" = "$expected" ] || fail "record $seq is not the record head signs"
if [ -n "$want" ] && [ "$want" != "$expected" ]; then
    fail "the last record has SHA-256 $expected, not $want: records were cut off" \
        "and an older head put back"
fi
echo "intact: records $first to $seq of chain $chain, signed by $principal"
[ -n "$want" ] && echo "the last record is the one the report names ($want)"
exit 0
"""

VERIFY_MD = """# Checking this evidence bundle

This bundle is part of the evidence chain of bdr appliance `{appliance}`: records {first} to
{last} of chain `{chain}` (the runs that ended in {month}). Each record is one line of
canonical JSON; its `prev` is the SHA-256 of the line before it. `head` is a checkpoint, signed
by the appliance's Ed25519 key, naming the SHA-256 of the last record; `anchor.head` (when
present) is the signed checkpoint of the record just before this segment.

With OpenSSH and coreutils only:

    sh verify.sh                          # the bundle is whole and signed by the key in it
    sh verify.sh registered_signers       # ... by the key the MSP registered for `{principal}`
    sh verify.sh registered_signers SHA256   # ... and it ends with the record the month's
                                             # signed report names (its evidence appendix)

Or by hand:

    ssh-keygen -Y verify -f allowed_signers -I {principal} -n bdr-evidence -s head.sig < head
    sed -n 1p chain.jsonl | sha256sum     # equals "prev" of the second line

The key's fingerprint (compare it with the one the MSP registered): {fingerprint}
"""


def _ended(line: bytes) -> float | None:
    value = json.loads(line).get("ended")
    if not isinstance(value, str):
        return None
    return from_rfc3339(value)


def export_month(state_dir: Path, appliance: str, month: str, out: Path, fingerprint: str) -> Path:
    """Write the bundle of `month` under `out`; return its directory.

    Raises UsageError for a bad month, a month without records, or an existing bundle.
    """
    start, end = month_bounds(month, zone())
    source = evidence_dir(state_dir)
    try:
        lines = (source / CHAIN).read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        raise UsageError(f"{source / CHAIN} does not exist: no run was recorded yet") from None
    whole = [line for line in lines if line.endswith(b"\n")]
    inside = [i for i, line in enumerate(whole) if start <= (_ended(line) or -1) < end]
    if not inside:
        raise UsageError(f"no evidence records of runs that ended in {month}")
    first, last = inside[0], inside[-1]
    bundle = out / f"bdr-evidence-{appliance}-{month}"
    if bundle.exists():
        raise UsageError(f"{bundle} exists already: move it away or choose another --out")
    head = source / CHECKPOINTS / f"{last + 1:08d}.head"
    if not head.exists():
        raise UsageError(f"record {last + 1} has no signed checkpoint yet: run bdr evidence verify")
    bundle.mkdir(parents=True)
    (bundle / CHAIN).write_bytes(b"".join(whole[first : last + 1]))
    shutil.copy(head, bundle / "head")
    shutil.copy(f"{head}.sig", bundle / "head.sig")
    if first > 0:
        anchor = source / CHECKPOINTS / f"{first:08d}.head"
        shutil.copy(anchor, bundle / "anchor.head")
        shutil.copy(f"{anchor}.sig", bundle / "anchor.head.sig")
    for name in (ALLOWED_SIGNERS, PUBLIC_FILE):
        shutil.copy(source / name, bundle / name)
    script = bundle / "verify.sh"
    script.write_text(VERIFY_SH)
    script.chmod(0o755)
    chain = json.loads(whole[first])["chain"]
    (bundle / "VERIFY.md").write_text(
        VERIFY_MD.format(
            appliance=appliance,
            first=first + 1,
            last=last + 1,
            chain=chain,
            month=month,
            principal=f"{appliance}@bdr",
            fingerprint=fingerprint,
        )
    )
    return bundle
