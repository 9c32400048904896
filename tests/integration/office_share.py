"""A client's file share of realistic types, and what ransomware and ordinary users do to it.

The files are small (1-8 KiB) so that thousands back up in seconds, and real of their kind: a
PDF begins with %PDF, a DOCX or XLSX is a ZIP with Office parts, a JPEG has its JFIF header, a
SQLite database is made by SQLite.
"""

from __future__ import annotations

import io
import os
import random
import sqlite3
import zipfile
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_WORDS = "invoice customer order payment delivery contract meeting minutes budget quarter report"
WORDS = (*_WORDS.split(), "summary", "project", "offer", "account", "balance", "supplier")
ONION_ADDRESS = "a" * 20 + "bcdefghijklmnopqrstuvwxyz234567" + "abcde" + ".onion"


def _text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word + ("\n" if rng.random() < 0.1 else " "))
        length += len(word) + 1
    return "".join(words)


def _zip(rng: random.Random, parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 5)), text)
    return out.getvalue()


def _content(kind: str, rng: random.Random) -> bytes:
    size = rng.randint(1024, 8192)
    if kind == "txt":
        return _text(rng, size).encode()
    if kind == "csv":
        rows = [
            f"{n},{rng.choice(WORDS)},{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}"
            for n in range(size // 24)
        ]
        return ("id,item,amount\n" + "\n".join(rows) + "\n").encode()
    if kind == "pdf":
        body = _text(rng, size)
        stream = f"1 0 obj << /Length {len(body)} >> stream\n{body}\nendstream endobj\n"
        return f"%PDF-1.4\n{stream}%%EOF\n".encode()
    if kind in ("docx", "xlsx"):
        main = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
        return _zip(
            rng, {"[Content_Types].xml": "<Types/>", main: f"<doc>{_text(rng, size)}</doc>"}
        )
    if kind == "zip":
        return _zip(rng, {f"part{n}.txt": _text(rng, size // 3) for n in range(3)})
    if kind == "jpg":
        return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + rng.randbytes(size) + b"\xff\xd9"
    raise ValueError(kind)


KINDS = ("txt", "csv", "pdf", "docx", "xlsx", "zip", "jpg")


def make_share(root: Path, files: int, *, folders: int = 50, seed: int = 1) -> list[Path]:
    """Write `files` files of KINDS (and a few SQLite databases) into `folders` folders of
    `root`; return their paths."""
    rng = random.Random(seed)
    made: list[Path] = []
    for n in range(files):
        folder = root / f"dept{n % folders:02d}" / ("archive" if n % 3 == 0 else "current")
        folder.mkdir(parents=True, exist_ok=True)
        if n % 250 == 0:
            path = folder / f"ledger{n}.sqlite"
            with sqlite3.connect(path) as db:
                db.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, note TEXT)")
                db.executemany(
                    "INSERT INTO ledger (note) VALUES (?)", [(_text(rng, 40),) for _ in range(20)]
                )
            db.close()
        else:
            kind = KINDS[n % len(KINDS)]
            path = folder / f"{rng.choice(WORDS)}-{n:05d}.{kind}"
            path.write_bytes(_content(kind, rng))
        made.append(path)
    return made


def files_of(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _encrypted(data: bytes, rng: random.Random) -> bytes:
    key, nonce = rng.randbytes(32), rng.randbytes(16)
    encryptor = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def encrypt_in_place(paths: Iterable[Path], *, keep_mtime: bool = False, seed: int = 7) -> None:
    """Overwrite each file with its AES-CTR encryption (the same size)."""
    rng = random.Random(seed)
    for path in paths:
        before = path.stat()
        path.write_bytes(_encrypted(path.read_bytes(), rng))
        if keep_mtime:
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def encrypt_and_rename(paths: Iterable[Path], extension: str, *, seed: int = 7) -> None:
    """Write each file's encryption under its name plus `extension`, and delete the original."""
    rng = random.Random(seed)
    for path in paths:
        target = path.with_name(path.name + extension)
        target.write_bytes(_encrypted(path.read_bytes(), rng))
        path.unlink()


def leave_notes(root: Path, name: str) -> int:
    """A ransom note named `name` in every folder of `root`; return how many."""
    note = f"Your files are encrypted. Visit http://{ONION_ADDRESS} to pay.\n"
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    for folder in folders:
        (folder / name).write_text(note)
    return len(folders)


def share_of(paths: list[Path], share: float, *, seed: int = 3) -> list[Path]:
    """`share` of `paths`, chosen at random."""
    return random.Random(seed).sample(paths, round(len(paths) * share))


def ordinary_edits(paths: list[Path], share: float, *, seed: int) -> list[Path]:
    """A day's work: `share` of `paths` edited and saved in their own format."""
    rng = random.Random(seed)
    edited = rng.sample(paths, max(1, round(len(paths) * share)))
    for path in edited:
        kind = path.suffix.lstrip(".")
        if kind == "sqlite":
            with sqlite3.connect(path) as db:
                db.execute("INSERT INTO ledger (note) VALUES (?)", (_text(rng, 60),))
            db.close()
        elif kind in KINDS:
            path.write_bytes(_content(kind, rng))
    return edited


def binaries(root: Path, count: int, *, seed: int) -> None:
    """`count` program files (.dll, with the MZ header): what a software update rewrites."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (root / f"module{n:03d}.dll").write_bytes(
            b"MZ\x90\x00" + rng.randbytes(rng.randint(2000, 6000))
        )


def rotate_logs(folder: Path, day: int) -> None:
    """A daily log rotation: app.log -> app.log.1 -> app.log.2.gz ... app.log.5.gz dropped."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.log.5.gz").unlink(missing_ok=True)
    for n in range(4, 1, -1):
        older = folder / f"app.log.{n}.gz"
        if older.exists():
            older.rename(folder / f"app.log.{n + 1}.gz")
    first = folder / "app.log.1"
    if first.exists():
        (folder / "app.log.2.gz").write_bytes(gzip.compress(first.read_bytes(), mtime=0))
        first.unlink()
    log = folder / "app.log"
    if log.exists():
        log.rename(first)
    log.write_text("".join(f"day {day} line {n}: request served\n" for n in range(200)))


def zip_folder(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(folder))
