from bdr.actions.status import IN_FUTURE, NEVER, OK, RPO_EXCEEDED, TierStatus, judge
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


def tier(plan: str, repository: str, status: str, age: float | None) -> "TierStatus":
    from bdr.actions.status import TierStatus
    from bdr.store.runs import LatestSnapshot
    from bdr.store.tiers import TierFacts

    latest = None if age is None else LatestSnapshot("abcdef12", 10_000.0 - age)
    facts = TierFacts(plan, repository, "backup", run(status), run(status), latest, None)
    return TierStatus(facts, 3600, 10_000.0)


def test_status_check_is_one_line_and_a_nagios_code():
    from bdr.actions.status import DaemonStatus, Verdict, verdict

    alive = DaemonStatus(True, 5.0, 42, [])
    good = [tier("office", "local", "ok", 60), tier("office", "cloud", "ok", 120)]
    assert verdict(good, alive) == Verdict(0, "BDR OK - 2 tier(s) within their RPO")
    behind = [good[0], tier("office", "cloud", "ok", 7200)]
    assert verdict(behind, alive).code == 2
    assert verdict(behind, alive).line == "BDR CRITICAL - office/cloud rpo exceeded"
    partial = [good[0], tier("office", "cloud", "warning", 60)]
    assert verdict(partial, alive).line == "BDR WARNING - office/cloud last run warning"
    down = DaemonStatus(False, 900.0, None, [])
    assert verdict(good, down).line == "BDR CRITICAL - daemon not running"
    assert verdict([], alive).code == 3
