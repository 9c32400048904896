from pathlib import Path

import pytest

from bdr.errors import ExitCode
from bdr.restic.outcome import Outcome, classify

FIXTURES = Path(__file__).parents[2] / "fixtures" / "restic-0.14.0"


@pytest.mark.parametrize(
    ("fixture", "outcome"),
    [
        ("stderr-missing.txt", Outcome.REPOSITORY_MISSING),
        ("stderr-wrong-password.txt", Outcome.WRONG_PASSWORD),
        ("stderr-locked.txt", Outcome.LOCKED),
        # Not "missing", although restic 0.14 asks "Is there a repository" here too: a
        # technician told so would run `bdr init` against a repository that exists.
        ("stderr-s3-signature.txt", Outcome.ACCESS_DENIED),
        ("stderr-s3-key-id.txt", Outcome.ACCESS_DENIED),
        ("stderr-sftp-key-refused.txt", Outcome.ACCESS_DENIED),
    ],
)
def test_restic_014_is_classified_by_stderr(fixture, outcome):
    assert classify(1, (FIXTURES / fixture).read_text()) is outcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (0, Outcome.OK),
        (3, Outcome.PARTIAL),
        (10, Outcome.REPOSITORY_MISSING),
        (11, Outcome.LOCKED),
        (12, Outcome.WRONG_PASSWORD),
        (130, Outcome.INTERRUPTED),
        (-9, Outcome.INTERRUPTED),
        (1, Outcome.FAILED),
    ],
)
def test_exit_codes_of_newer_restic(code, outcome):
    assert classify(code, "") is outcome


def test_outcomes_map_to_bdr_exit_codes():
    assert Outcome.PARTIAL.exit_code == ExitCode.PARTIAL
    assert Outcome.LOCKED.exit_code == ExitCode.LOCKED
    assert Outcome.WRONG_PASSWORD.exit_code == ExitCode.REPOSITORY
    assert Outcome.REPOSITORY_MISSING.exit_code == ExitCode.REPOSITORY
    assert Outcome.ACCESS_DENIED.exit_code == ExitCode.REPOSITORY


def test_unreachable_backend_is_a_failure_not_a_missing_repository():
    stderr = (
        'Fatal: unable to open config file: Stat: Get "http://127.0.0.1:18333/b/?location=": '
        "dial tcp 127.0.0.1:18333: connect: connection refused\n"
        "Is there a repository at the following location?\ns3:http://127.0.0.1:18333/b\n"
    )
    assert classify(1, stderr) is Outcome.FAILED


def test_damaged_repository_and_full_disk_are_their_own_outcomes():
    index_gone = (FIXTURES / "stderr-ls-index-deleted.txt").read_text()
    assert classify(1, index_gone) is Outcome.DAMAGED
    no_space = (FIXTURES / "stderr-restore-no-space.txt").read_text()
    assert classify(1, no_space) is Outcome.NO_SPACE
    # The cause comes first; the tail holds only its consequences.
    assert "no space left" not in no_space[-1000:]


def test_the_error_line_is_restics_message_not_a_stack_frame():
    from bdr.restic.result import error_line

    text = (FIXTURES / "stderr-ls-index-deleted.txt").read_text()
    line = error_line(text, 1)
    assert line.startswith("id ") and line.endswith("not found in repository")
    assert error_line("doing x\nFatal: unable to open config file\n", 1) == (
        "unable to open config file"
    )


def test_the_lock_holder_is_named_as_restic_says_it():
    from bdr.restic.outcome import lock_holder

    stderr = (FIXTURES / "stderr-locked.txt").read_text()
    assert lock_holder(stderr) == (
        "restic PID 4531 on vm (user root), exclusive, created 2026-11-25 17:02:23 (517ms ago)"
    )
    shared = "unable to create lock in backend: repository is already locked by PID 7 on nas by bdr (UID 998, GID 998)\nlock was created at 2026-11-25 17:02:23 (5m3.2s ago)\n"  # noqa: E501
    assert lock_holder(shared) == (
        "restic PID 7 on nas (user bdr), created 2026-11-25 17:02:23 (5m3s ago)"
    )
    assert lock_holder("Fatal: unable to open config file") is None
