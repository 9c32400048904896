"""Classification of a finished restic command into the outcomes bdr acts on."""

from __future__ import annotations

import enum
import re

from bdr.errors import ExitCode


class Outcome(enum.Enum):
    OK = "ok"
    PARTIAL = "partial"
    REPOSITORY_MISSING = "repository missing"
    LOCKED = "locked"
    WRONG_PASSWORD = "wrong password"
    # The storage refused the credentials (S3 keys, an SSH key, a REST server's login): the
    # repository may well exist, so never one to create.
    ACCESS_DENIED = "storage refused the credentials"
    INTERRUPTED = "interrupted"
    # The repository opened, but data it refers to is gone or does not decrypt.
    DAMAGED = "repository data damaged"
    # A write failed for want of space (or inodes, or quota) where restic was writing.
    NO_SPACE = "no space left"
    FAILED = "failed"

    @property
    def exit_code(self) -> ExitCode:
        return _EXIT_CODES[self]


_EXIT_CODES = {
    Outcome.OK: ExitCode.OK,
    Outcome.PARTIAL: ExitCode.PARTIAL,
    Outcome.REPOSITORY_MISSING: ExitCode.REPOSITORY,
    Outcome.WRONG_PASSWORD: ExitCode.REPOSITORY,
    Outcome.ACCESS_DENIED: ExitCode.REPOSITORY,
    Outcome.LOCKED: ExitCode.LOCKED,
    Outcome.INTERRUPTED: ExitCode.FAILED,
    Outcome.DAMAGED: ExitCode.FAILED,
    Outcome.NO_SPACE: ExitCode.FAILED,
    Outcome.FAILED: ExitCode.FAILED,
}

# restic before 0.17 has no specific exit codes: these stderr texts are the only clue. They are
# checked on every version, since newer restic prints them too.
_MISSING_TEXTS = ("Is there a repository at the following location?",)
_LOCKED_TEXTS = ("repository is already locked", "unable to create lock in backend")
_PASSWORD_TEXTS = ("wrong password or no key found",)
# restic 0.14 adds "Is there a repository" to these too. S3 (AWS, SeaweedFS, MinIO), SFTP, and
# rest-server's answers to a login it refuses.
_ACCESS_TEXTS = (
    "The request signature we calculated does not match",
    "The access key ID you provided does not exist",
    "The AWS Access Key Id you provided does not exist",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "Access Denied",
    "AccessDenied",
    "Permission denied (publickey",
    "unexpected HTTP response (401)",
    "unexpected HTTP response (403)",
)
# restic 0.14 adds "Is there a repository" to a backend it cannot reach at all; an offline cloud
# is a failure to retry later, not a repository to create.
_NETWORK_TEXTS = (
    "connection refused",
    "no such host",
    "i/o timeout",
    "network is unreachable",
    "connection reset",
    "TLS handshake",
    "no route to host",
)


_NO_SPACE_TEXTS = ("no space left on device", "disk quota exceeded")
# Lower case: they are matched against lowered text.
_DAMAGED_TEXTS = (
    "not found in repository",
    "ciphertext verification failed",
    "invalid data returned",
)


def classify(exit_code: int, stderr: str) -> Outcome:
    """Return the outcome of a restic command from its exit code and the tail of its stderr."""
    if exit_code == 0:
        return Outcome.OK
    if exit_code == 3:
        return Outcome.PARTIAL
    lowered = stderr.lower()
    if any(text in lowered for text in _NO_SPACE_TEXTS):
        return Outcome.NO_SPACE
    if any(text in stderr for text in _NETWORK_TEXTS):
        return Outcome.FAILED
    if any(text in lowered for text in _DAMAGED_TEXTS):
        return Outcome.DAMAGED
    if any(text in stderr for text in _ACCESS_TEXTS):
        return Outcome.ACCESS_DENIED
    if exit_code == 10 or any(text in stderr for text in _MISSING_TEXTS):
        return Outcome.REPOSITORY_MISSING
    if exit_code == 12 or any(text in stderr for text in _PASSWORD_TEXTS):
        return Outcome.WRONG_PASSWORD
    if exit_code == 11 or any(text in stderr for text in _LOCKED_TEXTS):
        return Outcome.LOCKED
    # 130 is restic's own exit after SIGINT; a negative code is Python's "killed by signal".
    if exit_code in (130, 143) or exit_code < 0:
        return Outcome.INTERRUPTED
    return Outcome.FAILED


def telling_line(outcome: Outcome, stderr: str) -> str | None:
    """Return the first line of `stderr` that shows why the outcome is what it is, for the
    outcomes whose cause restic states once and then buries under consequences."""
    texts = {Outcome.NO_SPACE: _NO_SPACE_TEXTS, Outcome.DAMAGED: _DAMAGED_TEXTS}.get(outcome)
    for line in stderr.splitlines() if texts else []:
        if any(text in line.lower() for text in texts or ()):
            return line.strip()
    return None


_LOCK_HOLDER = re.compile(
    r"already locked (?P<exclusive>exclusively )?by PID (?P<pid>\d+) on (?P<host>\S+) "
    r"by (?P<user>[^()]+?) \(UID"
)
_LOCK_CREATED = re.compile(r"lock was created at (?P<at>[^()]+?) \((?P<age>[^()]+) ago\)")


def lock_holder(stderr: str) -> str | None:
    """Who holds the lock restic could not get, as restic 0.14+ says it: `restic PID 4531 on vm
    (user root), exclusive, created 2026-11-25 17:02:23 (517ms ago)`; None when unsaid."""
    holder = _LOCK_HOLDER.search(stderr)
    if holder is None:
        return None
    text = f"restic PID {holder['pid']} on {holder['host']} (user {holder['user'].strip()})"
    if holder["exclusive"]:
        text += ", exclusive"
    created = _LOCK_CREATED.search(stderr)
    if created:
        age = re.sub(r"(\d+)\.\d+", r"\1", created["age"])  # 517.734754ms -> 517ms
        text += f", created {created['at'].strip()} ({age} ago)"
    return text


# What a run's error says of the repository it could not use, in the words the technician's
# ticket gets: one cause of a repository's, however many jobs it broke.
_CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refused the credentials", (Outcome.ACCESS_DENIED.value,)),
    ("wrong password", (Outcome.WRONG_PASSWORD.value,)),
    ("missing", (Outcome.REPOSITORY_MISSING.value,)),
    ("full", (Outcome.NO_SPACE.value,)),
    # restic's own lock, or bdr's queue for the repository past lock_timeout (a plan's own
    # queue, "plan 'office' is busy", is no fault of the repository's).
    ("locked too long", ("locked by a live restic", "repository locked by", "' is busy: held")),
    ("unreachable", _NETWORK_TEXTS),
)


def repository_cause(error: str | None) -> str | None:
    """Why a run could not use its repository, from its recorded error; None when the run
    failed for a reason of its own (a source, a check's finding, a drill's data)."""
    for cause, texts in _CAUSES:
        if error and any(text in error for text in texts):
            if cause == "locked too long" and "repository '" not in error:
                continue
            return cause
    return None
