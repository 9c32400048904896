"""Root's restores, run as the service user except where the client's files are touched.

A restore as root keeps the files' owners and can write into any share; everything else bdr
writes (the history, locks, logs, caches, the evidence chain) must stay the service user's, or
the daemon, which runs as that user, could no longer write it. So a root `bdr restore` drops
its *effective* ids to the service user at start (files it makes are that user's), keeps root
as its real and saved id, and takes root back only around the work in the target:
`elevated()`. Threads share the ids (glibc changes them for the whole process).
"""

from __future__ import annotations

import contextlib
import os
import pwd
from collections.abc import Iterator
from typing import Any

_dropped: tuple[int, int] | None = None  # the service user's (uid, gid) while dropped
_raised = 0  # depth of elevated() blocks
_capable = False  # whether root's capabilities were kept through the drop


_PR_SET_SECUREBITS = 28
_SECBIT_NO_SETUID_FIXUP = 1 << 2


def _keep_capabilities() -> bool:
    """Keep root's capabilities across the change of effective id: the process still reads
    what root reads (its own interpreter and modules may be where the service user cannot
    go), while the files it makes are the service user's. The restic it starts as that user
    gets no capability (exec gives them to euid 0 only). Without CAP_SETPCAP (a container
    that took it), bdr goes on without: the service user must then reach bdr's install."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(_PR_SET_SECUREBITS, _SECBIT_NO_SETUID_FIXUP, 0, 0, 0) == 0)


def drop_to(uid: int) -> None:
    """Make `uid` (and its groups) this process's effective ids; root stays the real one."""
    global _dropped, _capable
    _capable = _keep_capabilities()
    try:
        entry = pwd.getpwuid(uid)
        name, gid = entry.pw_name, entry.pw_gid
    except KeyError:
        name, gid = None, uid
    if name is not None:
        os.initgroups(name, gid)
    else:
        os.setgroups([gid])
    os.setegid(gid)
    os.seteuid(uid)
    _dropped = (uid, gid)


def for_children() -> dict[str, Any]:
    """How a program started now must run (`subprocess.Popen` arguments): while this root
    process acts as the service user, as that user in full (real ids too: the ssh of an SFTP
    tier's restic reads the home of its real user), else as this process does."""
    if _dropped is None or _raised:
        return {}
    uid, gid = _dropped
    ids: dict[str, Any] = {"user": uid, "group": gid}
    if _capable:  # setting the groups needs root's capability
        ids["extra_groups"] = os.getgroups()
    return ids


def raised() -> bool:
    """Whether root's ids are in effect for the target's work (inside `elevated()`)."""
    return _raised > 0


@contextlib.contextmanager
def elevated() -> Iterator[None]:
    """Root's effective ids for the block, when this process dropped them; else nothing."""
    global _raised
    if _dropped is None:
        yield
        return
    if _raised == 0:
        os.seteuid(0)
        os.setegid(0)
    _raised += 1
    try:
        yield
    finally:
        _raised -= 1
        if _raised == 0:
            os.setegid(_dropped[1])
            os.seteuid(_dropped[0])
