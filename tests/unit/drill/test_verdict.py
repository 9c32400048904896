from bdr.drill.verdict import CHECK, DATA, PASSED, RTO, judge


def verdict(**overrides):
    arguments = dict(
        data_problems=[],
        failed_checks=[],
        recovery_seconds=100.0,
        judged_seconds=100.0,
        rto=3600,
        projected=False,
    )
    arguments.update(overrides)
    return judge(**arguments)


def test_passed_within_the_rto():
    result = verdict()
    assert result.kind == PASSED and result.passed
    assert "within the RTO of 1h 00m" in result.reason


def test_data_outranks_checks_and_rto():
    result = verdict(data_problems=["2 file(s) missing"], failed_checks=["x"], judged_seconds=9999)
    assert result.kind == DATA and "2 file(s) missing" in result.reason


def test_check_outranks_rto():
    assert verdict(failed_checks=["checks.0: exited 1"], judged_seconds=9999).kind == CHECK


def test_rto_exceeded_says_the_data_was_fine():
    result = verdict(judged_seconds=5400)
    assert result.kind == RTO
    assert result.reason.startswith("data verified") and "1h 30m" in result.reason


def test_sample_drill_is_judged_on_its_projection():
    result = verdict(recovery_seconds=60, judged_seconds=4000, projected=True)
    assert result.kind == RTO and "projected full recovery" in result.reason


def test_an_uncalibrated_projection_over_the_rto_is_unproven_not_failed():
    from bdr.drill.verdict import UNPROVEN

    result = verdict(recovery_seconds=60, judged_seconds=4000, projected=True, calibrated=False)
    assert result.kind == UNPROVEN and not result.passed
    assert "RTO not proven" in result.reason and "a full drill of this tier" in result.reason
    within = verdict(recovery_seconds=60, judged_seconds=600, projected=True, calibrated=False)
    assert within.kind == PASSED
    # Data and checks still fail a drill whatever the projection.
    assert verdict(data_problems=["x"], projected=True, calibrated=False).kind == DATA
