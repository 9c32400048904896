"""What a file's first bytes say: does its content still match its name?

Encrypted data and a ZIP or an Office file both measure near 8 bits a byte, so entropy alone
proves nothing. What ransomware cannot keep is a format's signature: a `.pdf` that no longer
begins with `%PDF`, a `.txt` that is no longer text. A file is *lost* when its name promises a
format its bytes no longer have; a name bdr does not know is not judged.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bdr.detection.names import ONION

ZIP = ((0, b"PK\x03\x04"), (0, b"PK\x05\x06"))
OLE = ((0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),)
MP4 = ((4, b"ftyp"),)

# Extension -> the signatures one of which its first bytes carry (offset, bytes).
SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "pdf": ((0, b"%PDF"),),
    **dict.fromkeys(
        ("zip", "docx", "xlsx", "pptx", "docm", "xlsm", "odt", "ods", "odp", "epub", "jar"), ZIP
    ),
    **dict.fromkeys(("doc", "xls", "ppt", "msg", "vsd", "pub"), OLE),
    **dict.fromkeys(("jpg", "jpeg"), ((0, b"\xff\xd8\xff"),)),
    "png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "gif": ((0, b"GIF87a"), (0, b"GIF89a")),
    **dict.fromkeys(("tif", "tiff"), ((0, b"II*\x00"), (0, b"MM\x00*"))),
    "bmp": ((0, b"BM"),),
    **dict.fromkeys(("sqlite", "sqlite3", "db3"), ((0, b"SQLite format 3\x00"),)),
    **dict.fromkeys(("gz", "tgz"), ((0, b"\x1f\x8b"),)),
    "bz2": ((0, b"BZh"),),
    "xz": ((0, b"\xfd7zXZ\x00"),),
    "7z": ((0, b"7z\xbc\xaf\x27\x1c"),),
    "rar": ((0, b"Rar!\x1a\x07"),),
    **dict.fromkeys(("exe", "dll", "sys"), ((0, b"MZ"),)),
    **dict.fromkeys(("mp4", "m4a", "m4v", "mov", "heic"), MP4),
    "rtf": ((0, b"{\\rtf"),),
}

# Extensions whose content is text: lost when it holds control bytes as binary data does, or
# measures like random data.
TEXT = frozenset(
    "txt csv tsv md log ini cfg conf xml html htm json yaml yml svg sql py js css bat ps1 sh "  # noqa: SIM905
    "eml vcf ics tex".split()
)

# Above this, a first block is as random as data gets (encrypted or compressed).
RANDOM_BITS = 7.5
# Fewer bytes than this measure too little to call random (n bytes hold at most log2(n) bits).
MIN_MEASURED = 256
# Text holds almost no control bytes (tab, line ends and form feed aside); random data about
# one byte in nine.
MAX_CONTROL_SHARE = 0.05
_CONTROL = bytes(b for b in (*range(32), 127) if b not in b"\t\n\r\x0c")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def entropy(data: bytes) -> float:
    """Shannon entropy of `data` in bits per byte (0 for no data)."""
    if not data:
        return 0.0
    size = len(data)
    return -sum(n / size * math.log2(n / size) for n in Counter(data).values())


def promised(name: str) -> str | None:
    """The format the file name promises: its extension when bdr knows it, else the one
    before an unknown appended extension (`report.pdf.x7k2` promises a PDF still)."""
    parts = name.lower().rsplit(".", 2)
    for extension in reversed(parts[1:]):
        if extension in SIGNATURES or extension in TEXT:
            return extension
    return None


@dataclass(frozen=True)
class Inspection:
    path: str
    judged: bool  # the name promises a format bdr knows
    lost: bool  # ...and the bytes no longer have it
    entropy: float
    onion: bool  # an onion address in its first bytes


def inspect(path: str, head: bytes) -> Inspection:
    """Judge a file's first bytes `head` against its name (the last part of `path`)."""
    measured = entropy(head)
    onion = ONION.search(head) is not None
    expected = promised(path.rsplit("/", 1)[-1])
    if expected is None or not head:
        return Inspection(path, judged=False, lost=False, entropy=measured, onion=onion)
    if expected in TEXT:
        lost = _binary(head) or (len(head) >= MIN_MEASURED and measured > RANDOM_BITS)
    else:
        lost = not any(head[at : at + len(sig)] == sig for at, sig in SIGNATURES[expected])
    return Inspection(path, judged=True, lost=lost, entropy=measured, onion=onion)


def _binary(head: bytes) -> bool:
    """Whether `head`, named as text, holds control bytes as binary data does (text saved as
    UTF-16, as Windows tools write it, has a byte-order mark and NULs: it is text)."""
    if head.startswith(UTF16_BOMS):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls > len(head) * MAX_CONTROL_SHARE
