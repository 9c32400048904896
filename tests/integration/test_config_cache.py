"""A config validated once is kept: the next command starts without pydantic, an edited
config is validated again."""

from __future__ import annotations

from tests.integration.conftest import Appliance


def imported(stderr: str) -> set[str]:
    """The modules -X importtime reports as imported."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_an_unchanged_config_starts_without_pydantic_and_an_edit_is_validated(
    appliance: Appliance, office
):
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    appliance.bdr("status")  # validates the config, and keeps it in the state_dir made by init
    appliance.env["PYTHONPROFILEIMPORTTIME"] = "1"
    status = appliance.bdr("status")
    assert "bdr.config.model" in imported(status.stderr)
    assert "pydantic" not in imported(status.stderr)
    appliance.plans["office"]["rpo"] = "0s"
    appliance.write()
    refused = appliance.bdr("status", expect=2)
    assert "plans.office.rpo: '0s' must be longer than zero" in refused.stderr
    assert "pydantic" in imported(refused.stderr)
