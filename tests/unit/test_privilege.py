"""What a root restore's children run as (the ids themselves are changed by the integration
test `test_root_restores_keep_owners...`: a unit test changes no process's ids)."""

from __future__ import annotations

import os

import pytest

from bdr import privilege


def test_a_process_that_dropped_nothing_starts_its_children_as_itself():
    assert privilege.for_children() == {}
    with privilege.elevated():  # nothing to take back
        assert not privilege.raised()


def test_a_root_restores_children_run_as_the_service_user_but_in_the_target(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(privilege, "_dropped", (1234, 1235))
    monkeypatch.setattr(privilege, "_capable", True)
    ids = privilege.for_children()
    assert (ids["user"], ids["group"]) == (1234, 1235)
    assert ids["extra_groups"] == os.getgroups()
    monkeypatch.setattr(privilege, "_capable", False)  # setgroups needs root's capability
    assert "extra_groups" not in privilege.for_children()
    monkeypatch.setattr(privilege, "_raised", 1)  # restic's restore itself: root's
    assert privilege.for_children() == {} and privilege.raised()
