import pytest

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


# (projection, error, verdict) around an RTO of one hour: a projection passes only when its
# whole error bar is within the RTO, fails only when the whole bar is over it.
AROUND_THE_RTO = [
    (2400, 600, PASSED),  # 40 min ± 10: at most 50 min
    (3000, 600, PASSED),  # 50 min ± 10: at most the RTO itself
    (3300, 720, "unproven"),  # 55 min ± 12: the case
    (3600, 1, "unproven"),  # at the RTO: it may be a second over
    (3700, 200, "unproven"),  # 61 min 40 s ± 3 min 20 s: it may be under
    (4200, 600, "unproven"),  # 70 min ± 10: it may be the RTO exactly
    (4300, 600, RTO),  # 71 min 40 s ± 10: at least 61 min 40 s
]


@pytest.mark.parametrize(("projection", "error", "expected"), AROUND_THE_RTO)
def test_a_projection_is_judged_with_its_error(projection, error, expected):
    result = verdict(
        recovery_seconds=60, judged_seconds=projection, error_seconds=error, projected=True
    )
    assert result.kind == expected, result.reason
    assert result.passed == (expected == PASSED)
    if expected == "unproven":
        assert "RTO not proven" in result.reason and "±" in result.reason


def test_a_measured_recovery_has_no_error_bar():
    # A full drill's error is not asked for, and an error given is not used.
    assert verdict(judged_seconds=3500, error_seconds=600).kind == PASSED
    assert verdict(judged_seconds=3700, error_seconds=600).kind == RTO


def test_the_reason_says_where_the_recovery_was_proven():
    result = verdict(repository="cloud", checks_on=["recovery host db1", "the appliance"])
    assert result.reason == (
        "restored from cloud and verified on the appliance in 1m 40s, within the RTO of 1h 00m; "
        "application checks passed on recovery host db1 and the appliance"
    )
    sample = verdict(
        repository="cloud", recovery_seconds=60, judged_seconds=600, error_seconds=90,
        projected=True,
    )  # fmt: skip
    assert "1m 00s sample projects the full recovery at 10m 00s ± 1m 30s" in sample.reason
