"""A plan's normal: median plus k times its spread, from ten clean backups on."""

from bdr.detection.baseline import MIN_HISTORY, threshold


def test_no_normal_before_ten_backups():
    assert threshold([0.01] * (MIN_HISTORY - 1), 5) is None


def test_a_busy_plan_has_a_higher_normal_than_a_quiet_one():
    busy = threshold([0.02, 0.03, 0.01, 0.025, 0.02, 0.015, 0.03, 0.02, 0.01, 0.02], 5)
    quiet = threshold([0.0] * 10, 5)
    assert busy is not None and quiet is not None
    assert busy > 0.05
    # A plan that changed nothing for weeks still allows a tenth of a percent times k.
    assert quiet == 0.005
