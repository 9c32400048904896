"""The PromQL of the dashboards and alert rules, made queryable for the tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

DASHBOARDS = Path(__file__).parents[1] / "dashboards"
_COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """Yield (where, PromQL) of every panel target, with the template variables set to 'all'."""
    for path in dashboard_files():
        data = json.loads(path.read_text())
        for panel in data["panels"]:
            for target in panel.get("targets", []):
                where = f"{path.name}: {panel['title']} ({target['refId']})"
                yield where, target["expr"].replace("$client", ".*").replace("$appliance", ".*")


def rule_expressions() -> Iterator[tuple[str, str]]:
    """Yield (alert, PromQL) of every alert rule, its last comparison made `bool`.

    An alert's expression returns nothing while all is well; with `bool` it returns 0 or 1 for
    every series it compares, which proves the names and label matching are right.
    """
    import yaml

    rules = yaml.safe_load((DASHBOARDS / "bdr-alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            yield rule["alert"], with_bool(rule["expr"].strip())


def with_bool(expression: str) -> str:
    """Insert `bool` after the last comparison outside brackets and quotes."""
    depth = 0
    quote = ""
    last = -1
    width = 0
    index = 0
    while index < len(expression):
        char = expression[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0:
            for operator in _COMPARISONS:
                if expression.startswith(operator, index):
                    last, width = index, len(operator)
                    index += len(operator) - 1
                    break
        index += 1
    if last < 0:
        return expression
    return f"{expression[: last + width]} bool{expression[last + width :]}"


def metric_names_used() -> dict[str, set[str]]:
    """Every bdr_* name each dashboard and the rules mention."""
    found = {}
    for path in [*dashboard_files(), DASHBOARDS / "bdr-alerts.yml"]:
        found[path.name] = set(re.findall(r"\bbdr_[a-z_]+\b", path.read_text()))
    return found
