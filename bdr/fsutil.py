"""Filesystem helpers: free space, removal that does not give up, comparing and reading files
bdr did not write without blocking on them."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path


def free_bytes(path: Path) -> int:
    """Return the bytes free to this user on the filesystem that holds `path` (or its parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def usage_near(path: Path) -> tuple[int, int] | None:
    """(total, free) bytes of the file system holding `path` or its nearest existing parent;
    None when none can be read."""
    for candidate in (path, *path.parents):
        try:
            usage = shutil.disk_usage(candidate)
        except OSError:
            continue
        return usage.total, usage.free
    return None


def remove_tree(path: Path) -> None:
    """Remove `path` and everything under it, also read-only directories a restore recreated."""
    if not os.path.lexists(path):
        return

    def make_writable(function: object, target: str, error: tuple[type, object, object]) -> None:
        if issubclass(error[0], FileNotFoundError):
            return  # removed meanwhile by another process cleaning up (a dead drill's scratch)
        parent = os.path.dirname(target)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        if os.path.isdir(target) and not os.path.islink(target):
            os.chmod(target, os.stat(target).st_mode | stat.S_IRWXU)
            shutil.rmtree(target, onerror=make_writable)
        else:
            os.unlink(target)

    with contextlib.suppress(FileNotFoundError):
        if path.is_dir() and not path.is_symlink():
            os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)
            shutil.rmtree(path, onerror=make_writable)
        else:
            path.unlink()


def same_content(first: str | Path, second: str | Path, *, chunk: int = 1 << 20) -> bool:
    """Return whether two files hold the same bytes; stops at the first difference.

    Comparing bytes reads each file once, like hashing both, but a memcmp is several times
    faster than SHA-256, and the drill's recovery time is what the client pays for.
    """
    with open(first, "rb") as one, open(second, "rb") as two:
        while True:
            a = one.read(chunk)
            b = two.read(chunk)
            if a != b:
                return False
            if not a:
                return True


def read_head(path: str | Path, limit: int) -> bytes | None:
    """The first `limit` bytes of the regular file at `path`; None when it is gone, not a
    regular file (a FIFO would block, a device never ends) or unreadable. Its access time is
    left as it was where bdr may (its own files, or with CAP_FOWNER)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        try:
            fd = os.open(path, flags | os.O_NOATIME)
        except PermissionError:
            fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
