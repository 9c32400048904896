"""A plan's own normal: how much of its tree a backup usually changes, deletes and renames.

A busy file server and a quiet one differ a hundredfold; one fixed threshold would flag the
first every day or miss an attack on the second. The threshold is the median of the plan's
recent clean backups plus k times their spread (the median absolute deviation, scaled to a
normal's standard deviation), and never below a floor: a server that changed nothing for a
month must not flag its first ordinary edit.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# Fewer clean backups than this are no normal to judge by: no rate signal until then.
MIN_HISTORY = 10
# The MAD of a normal distribution is 0.6745 of its standard deviation.
MAD_TO_SIGMA = 1.4826
# The least spread assumed: a tenth of a percent of the tree.
MIN_SPREAD = 0.001


def threshold(history: Sequence[float], k: float) -> float | None:
    """The rate above which a backup is unusual for this plan; None before MIN_HISTORY."""
    if len(history) < MIN_HISTORY:
        return None
    median = statistics.median(history)
    mad = statistics.median(abs(rate - median) for rate in history)
    return median + k * max(MAD_TO_SIGMA * mad, MIN_SPREAD)
