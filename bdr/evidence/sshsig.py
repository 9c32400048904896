"""OpenSSH's SSH signature format (PROTOCOL.sshsig) for Ed25519, written with `cryptography`.

A signature made here is what `ssh-keygen -Y sign` makes, so a third party checks it with
`ssh-keygen -Y verify` and nothing of bdr's. Pure functions over bytes.
"""

from __future__ import annotations

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"SSHSIG"
VERSION = 1
HASH = "sha512"
KEY_TYPE = b"ssh-ed25519"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise ValueError("truncated SSH signature")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated SSH signature")
    return blob[offset + 4 : end], end


def public_blob(key: Ed25519PublicKey) -> bytes:
    """The SSH wire form of the key: string "ssh-ed25519", string key."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return _string(KEY_TYPE) + _string(raw)


def _signed_data(message: bytes, namespace: str) -> bytes:
    digest = hashlib.sha512(message).digest()
    return (
        MAGIC
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH.encode())
        + _string(digest)
    )


def sign(key: Ed25519PrivateKey, message: bytes, namespace: str) -> str:
    """Return the armored SSH signature of `message` in `namespace`."""
    signature = key.sign(_signed_data(message, namespace))
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(public_blob(key.public_key()))
        + _string(namespace.encode())
        + _string(b"")
        + _string(HASH.encode())
        + _string(_string(KEY_TYPE) + _string(signature))
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def verify(armored: str, message: bytes, namespace: str, key: Ed25519PublicKey) -> None:
    """Check that `armored` signs `message` in `namespace` with `key`; raise ValueError if not."""
    body = armored.strip()
    if not body.startswith(BEGIN) or not body.endswith(END):
        raise ValueError("not an SSH signature")
    try:
        blob = base64.b64decode("".join(body[len(BEGIN) : -len(END)].split()), validate=True)
    except ValueError:
        raise ValueError("SSH signature is not base64") from None
    if blob[:6] != MAGIC or struct.unpack(">I", blob[6:10])[0] != VERSION:
        raise ValueError("not an SSHSIG version 1 signature")
    signer, offset = _read_string(blob, 10)
    signed_namespace, offset = _read_string(blob, offset)
    _, offset = _read_string(blob, offset)
    hash_name, offset = _read_string(blob, offset)
    inner, offset = _read_string(blob, offset)
    if signer != public_blob(key):
        raise ValueError("signed by another key")
    if signed_namespace.decode(errors="replace") != namespace:
        raise ValueError(f"signature is for namespace {signed_namespace!r}, not {namespace}")
    if hash_name != HASH.encode():
        raise ValueError(f"unsupported hash {hash_name!r}")
    kind, rest = _read_string(inner, 0)
    raw, _ = _read_string(inner, rest)
    if kind != KEY_TYPE:
        raise ValueError("not an Ed25519 signature")
    try:
        key.verify(raw, _signed_data(message, namespace))
    except InvalidSignature:
        raise ValueError("signature does not match the data") from None


def public_line(key: Ed25519PublicKey, comment: str) -> str:
    """The key as an OpenSSH public key line (`ssh-ed25519 AAAA... comment`)."""
    return f"ssh-ed25519 {base64.b64encode(public_blob(key)).decode()} {comment}"


def fingerprint(key: Ed25519PublicKey) -> str:
    """The SHA256 fingerprint as `ssh-keygen -l` prints it (unpadded base64)."""
    digest = hashlib.sha256(public_blob(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
