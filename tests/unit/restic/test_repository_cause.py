"""Why a run could not use its repository, from its recorded error (pure)."""

from bdr.restic.outcome import repository_cause


def test_the_cause_a_run_could_not_use_its_repository_for():
    assert repository_cause("copy to cloud: storage refused the credentials: 401") == (
        "refused the credentials"
    )
    assert repository_cause("repository 'local' is busy: held by pid 4: check (for 2m)") == (
        "locked too long"
    )
    assert repository_cause("plan 'office' is busy: held by pid 4: backup (for 2m)") is None
    assert repository_cause("copy: failed: dial tcp: connection refused") == "unreachable"
    assert repository_cause("drill onsite: 3 files differ") is None
    assert repository_cause(None) is None
