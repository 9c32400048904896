"""Case 1: the fleet view. Every query of the fleet dashboard, evaluated on the MSP's central
Prometheus, sees the three appliances apart; an alert fires for the one whose cloud
credentials broke, and for it alone."""

from __future__ import annotations

from tests.fleet.conftest import APPLIANCES, Fleet
from tests.promql import dashboard_expressions

CLIENTS = {"dental-01": ("Acme Dental", "Main office"), "law-01": ("Baker Law", "Downtown"),
           "clinic-01": ("Cedar Clinic", "North")}  # fmt: skip


def _every_appliance_ran(fleet: Fleet) -> None:
    for service in APPLIANCES:
        fleet.bdr(service, "init")
        fleet.bdr(service, "backup")  # and its copy to the cloud
        fleet.bdr(service, "drill", "run", "share-onsite")
        fleet.bdr(service, "drill", "run", "share-cloud")
        fleet.bdr(service, "check", "cloud")


def _appliances_in(fleet: Fleet, promql: str) -> set[str]:
    return {series["metric"].get("appliance", "") for series in fleet.query(promql)}


def test_every_fleet_query_sees_each_appliance_with_its_client_and_site(fleet: Fleet):
    _every_appliance_ran(fleet)
    # The check is each appliance's last command: its size is the last series to arrive.
    fleet.wait_for(
        "every appliance's drill and check in the central Prometheus",
        lambda: all(
            _appliances_in(fleet, name) == set(CLIENTS)
            for name in ("bdr_drill_last_success", "bdr_repository_size_bytes")
        ),
    )
    for where, promql in dashboard_expressions():
        if not where.startswith("bdr-fleet.json"):
            continue
        result = fleet.query(promql)
        if promql.startswith("count("):
            # A stat panel: one number for the fleet, and nothing is wrong anywhere.
            assert [float(s["value"][1]) for s in result] == [0.0], (where, result)
            continue
        assert {s["metric"].get("appliance") for s in result} == set(CLIENTS), (where, result)
        for series in result:
            labels = series["metric"]
            assert (labels["client"], labels["site"]) == CLIENTS[labels["appliance"]], where
        if "by (client, site, appliance)" in promql:
            assert len(result) == 3, (where, result)


def _firing(fleet: Fleet, alert: str) -> set[tuple[str, str]]:
    return {
        (s["metric"]["appliance"], s["metric"].get("repository", ""))
        for s in fleet.query(f'ALERTS{{alertname="{alert}", alertstate="firing"}}')
    }


def test_broken_cloud_credentials_fire_the_copy_alert_for_that_appliance_alone(fleet: Fleet):
    for service in APPLIANCES:
        fleet.bdr(service, "init")
        fleet.bdr(service, "backup")
    env = "/etc/bdr/secrets/cloud.env"
    fleet.exec(
        "appliance-b", "sed", "-i", "s/^RESTIC_REST_PASSWORD=.*/RESTIC_REST_PASSWORD=wrong/", env
    )
    try:
        # The local backup stands; the copy fails for want of access (exit 6), which the
        # technician must fix: bdr said "repository missing" here before the fleet found it.
        backup = fleet.bdr("appliance-b", "backup", expect=6)
        assert "storage refused the credentials" in backup.stdout
        fleet.wait_for(
            "BdrBackupFailed firing for law-01's cloud tier",
            lambda: _firing(fleet, "BdrBackupFailed") == {("law-01", "cloud")},
        )
    finally:
        fleet.exec(
            "appliance-b",
            "sed",
            "-i",
            "s/^RESTIC_REST_PASSWORD=.*/RESTIC_REST_PASSWORD=rest-law-01-Jk4/",
            env,
        )
    fleet.bdr("appliance-b", "backup")
    fleet.wait_for(
        "BdrBackupFailed resolved", lambda: not _firing(fleet, "BdrBackupFailed") or None
    )
