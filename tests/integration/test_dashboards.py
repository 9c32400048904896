"""Dashboards against Grafana's own schema, and alert rules through promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.promql import DASHBOARDS, dashboard_files

GRAFANA_SCHEMA = "@grafana/schema@13.2.3"
TYPESCRIPT = "typescript@7.0.2"
# TypeScript enums are nominal: a JSON string cannot satisfy them, so the few enum-typed
# values a dashboard holds are written as the enum members they stand for.
ENUM_VALUES = {'"mode": "absolute"': '"mode": ThresholdsMode.Absolute'}


@pytest.fixture(scope="session")
def typescript(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: the dashboards are checked with tsc and @grafana/schema")
    directory = tmp_path_factory.mktemp("tsc")
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", GRAFANA_SCHEMA, TYPESCRIPT],
        cwd=directory,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return directory


def typecheck(directory: Path, sources: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Write each dashboard's JSON as `<json> satisfies Dashboard` and run tsc --strict on them."""
    for name, text in sources.items():
        for value, member in ENUM_VALUES.items():
            text = text.replace(value, member)
        (directory / f"{name}.ts").write_text(
            'import { ThresholdsMode } from "@grafana/schema";\n'
            'import type { Dashboard } from "@grafana/schema";\n'
            f"export const dashboard = {text.strip()} satisfies Dashboard;\n"
        )
    return subprocess.run(
        [
            "npx",
            "tsc",
            "--noEmit",
            "--strict",
            "--moduleResolution",
            "bundler",
            "--module",
            "esnext",
            "--target",
            "es2022",
            *(f"{name}.ts" for name in sources),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dashboards_satisfy_grafanas_schema(typescript: Path):
    sources = {path.stem: path.read_text() for path in dashboard_files()}
    assert len(sources) == 2
    result = typecheck(typescript, sources)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_dashboard_is_caught(typescript: Path):
    """The check can fail: a misspelt panel key is an error."""
    text = (DASHBOARDS / "bdr-fleet.json").read_text().replace('"gridPos"', '"gridPosition"', 1)
    result = typecheck(typescript, {"wrong": text})
    assert result.returncode != 0 and "gridPosition" in result.stdout


def test_promtool_checks_and_tests_the_rules():
    check = subprocess.run(
        ["promtool", "check", "rules", "bdr-alerts.yml"],
        cwd=DASHBOARDS,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 19 rules found" in check.stdout
    tests = subprocess.run(
        ["promtool", "test", "rules", "bdr-alerts.test.yml", "bdr-alerts-monthly.test.yml"],
        cwd=DASHBOARDS,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
