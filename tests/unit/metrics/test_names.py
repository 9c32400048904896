"""The metric names are DESIGN.md's table, and the collector exports exactly those."""

import re
from pathlib import Path

import pytest

from bdr.metrics.names import METRIC_NAMES

DESIGN = Path(__file__).parents[3].parent / "shared" / "DESIGN.md"


def design_table() -> set[str]:
    """Names in the first column of the metrics table; `/ `_x_y`` abbreviates a sibling whose
    last words differ (`bdr_backup_last_added_bytes` / `_processed_bytes`)."""
    text = DESIGN.read_text()
    table = text[text.index("## Metrics contract") : text.index("## CLI")]
    # The identity metric is named in the prose above the table: `bdr_appliance_info{...} 1`.
    names = set(re.findall(r"`(bdr_\w+)\{", table))
    for row in re.findall(r"^\| (`bdr_[^|]+)\|", table, re.MULTILINE):
        tokens = re.findall(r"`(\w+)`", row)
        base = tokens[0]
        for token in tokens:
            if token.startswith("bdr_"):
                names.add(token)
            else:
                words = token.strip("_").count("_") + 1
                names.add(base.rsplit("_", words)[0] + token)
    return names


# In DESIGN.md's table for features not built yet; each leaves this list with its issue.
PENDING: dict[str, str] = {}
# Added by issues after DESIGN.md's table was written; each names its issue.
BEYOND: dict[str, str] = {}


def test_names_are_the_design_table():
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not beside this checkout")
    assert (set(METRIC_NAMES) - set(BEYOND)) | set(PENDING) == design_table()
    assert not set(METRIC_NAMES) & set(PENDING)
