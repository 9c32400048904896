"""Decoy files: ordinary-looking documents bdr plants in a source root and no one has reason
to open. Ransomware walks every folder; a decoy changed, renamed or deleted is a strong sign.

Their names sort first and last in a folder (walkers go in name order, either way) and read
like an office's archive; their bytes are fixed, so their hashes are known before planting.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

_CSV = (
    "invoice,date,customer,amount\n"
    + "".join(
        f"2019-{n:04d},2019-{(n % 12) + 1:02d}-{(n % 27) + 1:02d},Customer {n % 37},{(n * 7919) % 5000}.{n % 100:02d}\n"  # noqa: E501
        for n in range(1, 240)
    )
).encode()

_TEXT = (
    "Scanned contracts, archive box 4\n\n"
    + "".join(
        f"{n:03d}  contract {n * 37 % 1000:03d}, signed {2010 + n % 9}\n" for n in range(1, 120)
    )
).encode()


def _docx() -> bytes:
    """A minimal Word document with fixed timestamps: the same bytes on every appliance."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType'
            '="application/xml"/><Override PartName="/word/document.xml" ContentType="applicatio'
            'n/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxml'
            'formats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schema'
            's.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word'
            '/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlf'
            'ormats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Minutes of the board'
            " meeting, archived copy. See the archive index for the signed original.</w:t></w:r>"
            "</w:p></w:body></w:document>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2019, 3, 4, 9, 30, 0)), text)
    return out.getvalue()


# File name -> its bytes. "!" sorts before letters and digits, "~" after them.
DECOYS: dict[str, bytes] = {
    "!Archive index 2019.csv": _CSV,
    "~Archive board minutes.docx": _docx(),
    "~Archive scanned contracts.txt": _TEXT,
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
