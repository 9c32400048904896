"""Dashboards and alert rules: generated as committed, and only names from DESIGN.md's table."""

import json
import sys

from bdr.metrics.names import METRIC_NAMES
from tests.promql import DASHBOARDS, dashboard_files, metric_names_used, with_bool

sys.path.insert(0, str(DASHBOARDS))
import generate


def test_committed_json_is_what_the_generator_writes():
    for filename, build in generate.DASHBOARDS.items():
        assert (DASHBOARDS / filename).read_text() == generate.render(build()), filename


def test_only_metric_names_of_the_table():
    used = metric_names_used()
    for name, names in used.items():
        assert names, f"{name} uses no bdr metric"
        assert names <= set(METRIC_NAMES), f"{name}: {names - set(METRIC_NAMES)}"


def test_every_panel_has_a_unit_and_the_template_variables():
    for path in dashboard_files():
        data = json.loads(path.read_text())
        names = [variable["name"] for variable in data["templating"]["list"]]
        assert names == ["datasource", "client", "appliance"]
        for panel in data["panels"]:
            assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
            for target in panel["targets"]:
                assert "$client" in target["expr"] and "$appliance" in target["expr"], panel[
                    "title"
                ]


def test_provisioning_points_at_the_dashboards():
    text = (DASHBOARDS / "provisioning" / "bdr.yml").read_text()
    assert "type: file" in text and "/var/lib/grafana/dashboards/bdr" in text


def test_with_bool():
    assert with_bool("bdr_drill_last_success == 0") == "bdr_drill_last_success == bool 0"
    assert with_bool('increase(x{a=~"b"}[1d]) >= 3') == 'increase(x{a=~"b"}[1d]) >= bool 3'
    assert (
        with_bool("(a - b) > ignoring(r) group_left c") == "(a - b) > bool ignoring(r) group_left c"
    )
