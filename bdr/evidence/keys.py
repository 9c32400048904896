"""The appliance's signing key: an Ed25519 key in `state_dir/evidence`, made once, owner-only.

Next to it: the public key as an OpenSSH line and an `allowed_signers` line, the two files an
auditor (or the MSP, centrally) needs to check signatures with `ssh-keygen -Y verify`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_ssh_private_key,
)

from bdr.atomic import write_atomic
from bdr.errors import BdrError
from bdr.evidence import sshsig

NAMESPACE = "bdr-evidence"
KEY_FILE = "signing_key"
PUBLIC_FILE = "signing_key.pub"
ALLOWED_SIGNERS = "allowed_signers"


def evidence_dir(state_dir: Path) -> Path:
    return state_dir / "evidence"


def principal(appliance_id: str) -> str:
    """Who signs, for `ssh-keygen -Y verify -I`: `<appliance-id>@bdr`."""
    return f"{appliance_id}@bdr"


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    principal: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def fingerprint(self) -> str:
        return sshsig.fingerprint(self.public)

    def public_line(self) -> str:
        return sshsig.public_line(self.public, self.principal)

    def allowed_signers_line(self) -> str:
        key = self.public_line().rsplit(" ", 1)[0]
        return f'{self.principal} namespaces="{NAMESPACE}" {key}'

    def sign(self, message: bytes) -> str:
        return sshsig.sign(self.private, message, NAMESPACE)


def ensure_key(state_dir: Path, appliance_id: str) -> SigningKey:
    """Return the appliance's key, making it (0600) and its public files the first time.

    Raises BdrError when the key file exists but cannot be read, or is open to others.
    """
    directory = evidence_dir(state_dir)
    path = directory / KEY_FILE
    if path.exists():
        return load_key(state_dir, appliance_id)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption())
    # Created 0600 from the start (O_EXCL): never readable by others, not even for a moment.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(state_dir, appliance_id)  # another process made it first
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    key = SigningKey(private, principal(appliance_id))
    _write_public(directory, key)
    return key


def load_key(state_dir: Path, appliance_id: str) -> SigningKey:
    path = evidence_dir(state_dir) / KEY_FILE
    try:
        if path.stat().st_mode & 0o077:
            raise BdrError(f"{path} is open to group or others: run chmod 600 {path}")
        private = load_ssh_private_key(path.read_bytes(), password=None)
    except OSError as error:
        raise BdrError(f"evidence signing key {path} cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise BdrError(f"evidence signing key {path} is not an OpenSSH key: {error}") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise BdrError(f"evidence signing key {path} is not an Ed25519 key")
    key = SigningKey(private, principal(appliance_id))
    directory = path.parent
    if not (directory / ALLOWED_SIGNERS).exists():
        _write_public(directory, key)
    return key


def _write_public(directory: Path, key: SigningKey) -> None:
    write_atomic(directory / PUBLIC_FILE, (key.public_line() + "\n").encode(), mode=0o644)
    write_atomic(
        directory / ALLOWED_SIGNERS, (key.allowed_signers_line() + "\n").encode(), mode=0o644
    )
