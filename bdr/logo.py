"""The MSP's logo: an SVG or PNG file, put into the report as a data URI (no external request)."""

from __future__ import annotations

import base64
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def image_type(path: Path) -> str:
    """Return the MIME type of the logo at `path`; raise ValueError saying what is wrong."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a directory, not an image") from None
    except OSError as error:
        raise ValueError(f"{path} cannot be read: {error.strerror}") from None
    if len(head) > MAX_BYTES:
        raise ValueError(f"{path} is larger than 2 MiB")
    if head.startswith(PNG_MAGIC):
        return "image/png"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if (text.startswith(b"<?xml") or text.startswith(b"<svg") or text.startswith(b"<!--")) and (
        b"<svg" in text[:4096]
    ):
        return "image/svg+xml"
    raise ValueError(f"{path} is not an SVG or PNG image")


def data_uri(path: Path) -> str:
    """The logo as a data URI; raise ValueError as image_type does."""
    kind = image_type(path)
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
