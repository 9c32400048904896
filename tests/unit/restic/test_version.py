import pytest

from bdr.restic.version import features_for, parse_version


def test_parse_version():
    assert parse_version("restic 0.14.0 compiled with go1.19.8 on linux/amd64") == (0, 14, 0)
    with pytest.raises(ValueError):
        parse_version("command not found")


def test_feature_table():
    old = features_for((0, 14, 0))
    assert not old.restore_json_progress and not old.specific_exit_codes
    new = features_for((0, 17, 3))
    assert new.restore_json_progress and new.specific_exit_codes
    assert features_for((0, 16, 0)).restore_json_progress
    assert features_for((0, 20, 0)).newer_than_known
    with pytest.raises(ValueError, match="too old"):
        features_for((0, 13, 1))
