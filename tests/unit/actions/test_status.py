from bdr.actions.status import IN_FUTURE, NEVER, OK, RPO_EXCEEDED, judge
from bdr.store.runs import Run


def run(status: str) -> Run:
    return Run(
        id=1,
        kind="backup",
        plan="p",
        repository="r",
        subject=None,
        status=status,
        started_at=0,
        ended_at=1,
        snapshot_id=None,
        exit_code=None,
        error=None,
        bytes_added=None,
        bytes_processed=None,
        files_processed=None,
    )


def test_states():
    assert judge(None, None, 3600) == NEVER
    assert judge(run("failed"), None, 3600) == "last run failed"
    assert judge(run("ok"), 60, 3600) == OK
    assert judge(run("ok"), 7200, 3600) == RPO_EXCEEDED
    assert judge(run("failed"), 60, 3600) == "last run failed"
    assert judge(run("warning"), 60, 3600) == "last run warning"


def test_a_snapshot_dated_in_the_future_is_flagged_not_fresh():
    assert judge(run("ok"), -86400, 3600) == IN_FUTURE
    assert judge(run("ok"), -60, 3600) == OK, "a minute of clock skew is tolerated"
