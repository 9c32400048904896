"""Generate the Grafana dashboards: `python dashboards/generate.py` rewrites the JSON files.

Written as code so that every panel gets the same template filter, data source and unit; the
tests check that the committed JSON is what this produces.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SELECTOR = 'client=~"$client", appliance=~"$appliance"'


def sel(metric: str, extra: str = "") -> str:
    """`metric` filtered by the dashboard's client and appliance variables."""
    return f"{metric}{{{SELECTOR}{', ' + extra if extra else ''}}}"


def target(
    expr: str, legend: str = "", ref: str = "A", *, instant: bool = False, table: bool = False
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "refId": ref,
        "expr": expr,
        "datasource": DATASOURCE,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
    }
    if table:
        item["format"] = "table"
    return item


def panel(
    kind: str,
    title: str,
    unit: str,
    targets: list[dict[str, Any]],
    grid: tuple[int, int, int, int],
    *,
    description: str = "",
    thresholds: list[tuple[float | None, str]] | None = None,
    options: dict[str, Any] | None = None,
    transformations: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    x, y, w, h = grid
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    result: dict[str, Any] = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": options or {},
    }
    if transformations:
        result["transformations"] = transformations
    return result


def variables() -> list[dict[str, Any]]:
    def query(name: str, label: str, expr: str) -> dict[str, Any]:
        return {
            "type": "query",
            "name": name,
            "label": label,
            "datasource": DATASOURCE,
            "query": {"query": expr, "refId": name},
            "refresh": 2,
            "includeAll": True,
            "multi": True,
            "allValue": ".*",
            "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        }

    return [
        {
            "type": "datasource",
            "name": "datasource",
            "label": "Data source",
            "query": "prometheus",
            "refresh": 1,
        },
        query("client", "Client", "label_values(bdr_appliance_info, client)"),
        query(
            "appliance",
            "Appliance",
            'label_values(bdr_appliance_info{client=~"$client"}, appliance)',
        ),
    ]


def dashboard(
    uid: str, title: str, description: str, panels: list[dict[str, Any]], time_from: str
) -> dict[str, Any]:
    for number, item in enumerate(panels, start=1):
        item["id"] = number
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["bdr", "backup"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "timezone": "browser",
        "refresh": "1m",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": variables()},
        "annotations": {"list": []},
        "links": [],
        "panels": panels,
    }


RED_AT_1 = [(None, "green"), (0.8, "orange"), (1, "red")]
RED_AT_ONE_COUNT = [(None, "green"), (1, "red")]


def fleet() -> dict[str, Any]:
    backup_age = f"(time() - {sel('bdr_snapshot_latest_timestamp_seconds')})"
    verified_age = f"(time() - {sel('bdr_verified_snapshot_timestamp_seconds')})"
    rpo = sel("bdr_rpo_target_seconds")
    failed = sel("bdr_runs_total", 'status="failed"')
    panels = [
        panel(
            "stat",
            "Failing drills",
            "short",
            [target(f"count({sel('bdr_drill_last_success')} == 0) or vector(0)", instant=True)],
            (0, 0, 5, 4),
            thresholds=RED_AT_ONE_COUNT,
            description="Drills whose last run did not pass (data, RTO, check or error).",
        ),
        panel(
            "stat",
            "Failing checks",
            "short",
            [target(f"count({sel('bdr_check_last_status')} == 0) or vector(0)", instant=True)],
            (5, 0, 5, 4),
            thresholds=RED_AT_ONE_COUNT,
            description="Repositories whose last integrity check found errors.",
        ),
        panel(
            "stat",
            "Silent appliances",
            "short",
            [
                target(
                    "count(time() - max_over_time("
                    f"{sel('bdr_daemon_heartbeat_timestamp_seconds')}[1d]) > 900) or vector(0)",
                    instant=True,
                )
            ],
            (10, 0, 5, 4),
            thresholds=RED_AT_ONE_COUNT,
            description="Appliances whose daemon has not written a heartbeat for 15 minutes, "
            "also those whose series stopped altogether (a dead box), as BdrApplianceSilent "
            "counts them: any heartbeat in the last day.",
        ),
        panel(
            "stat",
            "Plans over their RPO",
            "short",
            [
                target(
                    f"count({backup_age} > {rpo}) or vector(0)",
                    instant=True,
                )
            ],
            (15, 0, 5, 4),
            thresholds=RED_AT_ONE_COUNT,
            description="Plan tiers whose newest snapshot is older than the plan's RPO.",
        ),
        panel(
            "stat",
            "Backups suspect of ransomware",
            "short",
            [target(f"count({sel('bdr_backup_suspect')} == 1) or vector(0)", instant=True)],
            (20, 0, 4, 4),
            thresholds=RED_AT_ONE_COUNT,
            description="Plans with a snapshot judged suspect of ransomware that no technician "
            "has cleared: `bdr suspect list` on the appliance.",
        ),
        panel(
            "bargauge",
            "Problems open",
            "short",
            [
                target(
                    f"sum by (client, site, appliance) ({sel('bdr_problems_open')})",
                    "{{client}} {{appliance}}",
                    instant=True,
                )
            ],
            (0, 4, 6, 8),
            thresholds=[(None, "green"), (1, "orange"), (3, "red")],
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Open problems (tickets) per appliance: `bdr notify status` on it.",
        ),
        panel(
            "bargauge",
            "Failed runs in the last 24 h",
            "short",
            [
                target(
                    "sum by (client, site, appliance, kind) (increase("
                    f"{failed}[24h])) or sum by (client, "
                    f"site, appliance, kind) (0 * {sel('bdr_runs_total')})",
                    "{{client}} {{appliance}} {{kind}}",
                    instant=True,
                )
            ],
            (6, 4, 6, 8),
            thresholds=RED_AT_ONE_COUNT,
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Failed backups, copies, drills, checks... per appliance and kind.",
        ),
        panel(
            "bargauge",
            "Free disk",
            "bytes",
            [
                target(
                    f"min by (client, site, appliance, path) ({sel('bdr_filesystem_free_bytes')})",
                    "{{client}} {{appliance}} {{path}}",
                    instant=True,
                )
            ],
            (12, 4, 6, 8),
            thresholds=[(None, "red"), (10 * 2**30, "orange"), (50 * 2**30, "green")],
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Free space where the appliance keeps its state, scratch area and "
            "local repositories: red under 10 GiB, orange under 50 GiB.",
        ),
        panel(
            "bargauge",
            "Repository size",
            "bytes",
            [
                target(
                    f"max by (client, site, appliance, repository) "
                    f"({sel('bdr_repository_size_bytes')})",
                    "{{client}} {{appliance}} {{repository}}",
                    instant=True,
                )
            ],
            (18, 4, 6, 8),
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Each repository's size, measured after its check.",
        ),
        panel(
            "bargauge",
            "RTO compliance: projected full recovery / RTO",
            "percentunit",
            [
                target(
                    f"{sel('bdr_drill_projected_full_recovery_seconds')} / "
                    f"{sel('bdr_drill_rto_target_seconds')}",
                    "{{client}} {{appliance}} {{drill}}",
                    instant=True,
                )
            ],
            (0, 12, 12, 9),
            thresholds=RED_AT_1,
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Measured (full drills) or projected (sample drills) full recovery "
            "time as a share of the RTO; over 100% breaks the promise.",
        ),
        panel(
            "bargauge",
            "RTO compliance: measured drill time / RTO",
            "percentunit",
            [
                target(
                    f"{sel('bdr_drill_last_recovery_seconds')} / "
                    f"{sel('bdr_drill_rto_target_seconds')}",
                    "{{client}} {{appliance}} {{drill}}",
                    instant=True,
                )
            ],
            (12, 12, 12, 9),
            thresholds=RED_AT_1,
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="What the last drill actually took, restore to checks.",
        ),
        panel(
            "bargauge",
            "RPO compliance: backup age / RPO",
            "percentunit",
            [
                target(
                    f"{backup_age} / {rpo}",
                    "{{client}} {{appliance}} {{plan}} {{repository}}",
                    instant=True,
                )
            ],
            (0, 21, 12, 9),
            thresholds=RED_AT_1,
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Age of the newest snapshot as a share of the RPO.",
        ),
        panel(
            "bargauge",
            "RPO compliance: verified snapshot age / RPO",
            "percentunit",
            [
                target(
                    f"{verified_age} / {rpo}",
                    "{{client}} {{appliance}} {{plan}} {{repository}}",
                    instant=True,
                )
            ],
            (12, 21, 12, 9),
            thresholds=[(None, "green"), (24, "orange"), (48, "red")],
            options={"orientation": "horizontal", "displayMode": "gradient"},
            description="Age of the newest snapshot that passed a restore drill, in RPOs.",
        ),
        panel(
            "table",
            "Per client",
            "s",
            [
                target(
                    f"max by (client, site, appliance) {backup_age}",
                    ref="A",
                    instant=True,
                    table=True,
                ),
                target(
                    f"max by (client, site, appliance) {verified_age}",
                    ref="B",
                    instant=True,
                    table=True,
                ),
                target(
                    f"time() - max by (client, site, appliance) "
                    f"({sel('bdr_daemon_heartbeat_timestamp_seconds')})",
                    ref="C",
                    instant=True,
                    table=True,
                ),
                target(
                    f"min by (client, site, appliance) ({sel('bdr_drill_last_success')})",
                    ref="D",
                    instant=True,
                    table=True,
                ),
            ],
            (0, 30, 24, 10),
            description="Oldest backup, oldest verified snapshot, heartbeat age (seconds) and "
            "whether every drill passed (1), per appliance.",
            transformations=[
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {"Time": True},
                        "renameByName": {
                            "Value #A": "oldest backup",
                            "Value #B": "oldest verified",
                            "Value #C": "heartbeat age",
                            "Value #D": "drills passed",
                        },
                    },
                },
            ],
        ),
    ]
    per_client = panels[-1]
    # One unit does not fit every column: ages are seconds, "drills passed" is 1 or 0.
    per_client["fieldConfig"]["overrides"] = [
        {
            "matcher": {"id": "byName", "options": "drills passed"},
            "properties": [
                {"id": "unit", "value": "bool_yes_no"},
                {
                    "id": "thresholds",
                    "value": {
                        "mode": "absolute",
                        "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
                    },
                },
                {"id": "custom.cellOptions", "value": {"type": "color-background"}},
            ],
        }
    ]
    # From a row of the fleet to that appliance's own dashboard.
    per_client["fieldConfig"]["defaults"]["links"] = [
        {
            "title": "Open the appliance's dashboard",
            "url": "/d/bdr-appliance/bdr-appliance?var-client=${__data.fields.client}"
            "&var-appliance=${__data.fields.appliance}",
        }
    ]
    return dashboard(
        "bdr-fleet",
        "bdr fleet",
        "Every bdr appliance at a glance: RTO and RPO "
        "compliance, failing drills and checks, silent appliances.",
        panels,
        "now-24h",
    )


def appliance() -> dict[str, Any]:
    timeseries = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "none"},
    }
    panels = [
        panel(
            "timeseries",
            "Backup duration",
            "s",
            [target(sel("bdr_backup_last_duration_seconds"), "{{plan}} → {{repository}}")],
            (0, 0, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Backup size",
            "bytes",
            [
                target(sel("bdr_backup_last_processed_bytes"), "{{plan}} read", "A"),
                target(sel("bdr_backup_last_added_bytes"), "{{plan}} added", "B"),
            ],
            (12, 0, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Drill recovery time against the RTO",
            "s",
            [
                target(sel("bdr_drill_last_recovery_seconds"), "{{drill}} measured", "A"),
                target(sel("bdr_drill_rto_target_seconds"), "{{drill}} RTO", "B"),
            ],
            (0, 8, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Projected full recovery",
            "s",
            [
                target(
                    sel("bdr_drill_projected_full_recovery_seconds"), "{{drill}} full recovery", "A"
                ),
                target(sel("bdr_drill_rto_target_seconds"), "{{drill}} RTO", "B"),
            ],
            (12, 8, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Check read coverage",
            "percentunit",
            [target(sel("bdr_check_read_coverage_ratio"), "{{repository}}")],
            (0, 16, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Repository growth",
            "bytes",
            [target(sel("bdr_repository_size_bytes"), "{{repository}}")],
            (12, 16, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Snapshot age",
            "s",
            [
                target(
                    f"time() - {sel('bdr_snapshot_latest_timestamp_seconds')}",
                    "{{plan}} in {{repository}}",
                    "A",
                ),
                target(
                    f"time() - {sel('bdr_verified_snapshot_timestamp_seconds')}",
                    "{{plan}} in {{repository}}, verified",
                    "B",
                ),
                target(
                    f"time() - {sel('bdr_last_clean_snapshot_timestamp_seconds')}",
                    "{{plan}} in {{repository}}, last clean restore point",
                    "C",
                ),
            ],
            (0, 24, 12, 8),
            options=timeseries,
        ),
        panel(
            "timeseries",
            "Runs per day",
            "short",
            [target(f"increase({sel('bdr_runs_total')}[1d])", "{{kind}} {{status}}")],
            (12, 24, 12, 8),
            options=timeseries,
        ),
        panel(
            "table",
            "Next scheduled runs",
            "dateTimeAsIso",
            [
                target(
                    f"{sel('bdr_scheduler_next_run_timestamp_seconds')} * 1000",
                    "{{job}}",
                    instant=True,
                    table=True,
                )
            ],
            (0, 32, 12, 8),
            transformations=[
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {"Time": True, "__name__": True},
                        "renameByName": {"Value": "next run"},
                    },
                }
            ],
        ),
        panel(
            "timeseries",
            "Evidence chain: records, and 1 when verified intact",
            "short",
            [
                target(sel("bdr_evidence_records_total"), "records", "A"),
                target(sel("bdr_evidence_chain_ok"), "verified intact", "B"),
            ],
            (12, 32, 12, 8),
            options=timeseries,
        ),
    ]
    return dashboard(
        "bdr-appliance",
        "bdr appliance",
        "One bdr appliance over time: backups, "
        "drills against the RTO, checks and repository growth.",
        panels,
        "now-30d",
    )


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


DASHBOARDS = {"bdr-fleet.json": fleet, "bdr-appliance.json": appliance}

if __name__ == "__main__":
    for filename, build in DASHBOARDS.items():
        (HERE / filename).write_text(render(build()))
        print(f"wrote {HERE / filename}")
