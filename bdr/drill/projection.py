"""The projected full recovery time: t = a + b*bytes + c*files, fitted to the drill history.

Non-negative least squares over three coefficients is solved exactly by trying every subset
of them (eight), solving the normal equations on each and keeping the best feasible one: no
numerical library needed, and the result is the true NNLS optimum for this size.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

MIN_POINTS = 4
# Until this many full restores of a tier were measured, a projection claims no less than
# MIN_RELATIVE_ERROR: one calibrating drill says little of how much restores of it vary.
FULL_RESTORES_FOR_SPREAD = 3
MIN_RELATIVE_ERROR = 0.15


@dataclass(frozen=True)
class Point:
    """One drill's measurement: what it restored and how long restore and verify took."""

    bytes: int
    files: int
    seconds: float


@dataclass(frozen=True)
class Model:
    a: float  # fixed cost per drill, seconds
    b: float  # seconds per byte
    c: float  # seconds per file
    points: int
    relative_error: float | None  # RMS of the relative residuals; None for a one-point rate

    def predict(self, size: int, files: int) -> float:
        return self.a + self.b * size + self.c * files


@dataclass(frozen=True)
class Projection:
    seconds: float
    error_seconds: float | None
    method: str  # "history" (fitted model) or "sample rate"
    points: int


def fit(points: Sequence[Point]) -> Model | None:
    """Fit the model by NNLS; return None when the points cannot determine it."""
    sizes = [p.bytes for p in points]
    # Points of one size say nothing about how time grows with size: too thin to extrapolate.
    if len(points) < MIN_POINTS or max(sizes) < 2 * max(min(sizes), 1):
        return None
    # Scale columns to comparable magnitudes so the normal equations stay well conditioned.
    scale_b = max((p.bytes for p in points), default=1) or 1
    scale_c = max((p.files for p in points), default=1) or 1
    rows = [(1.0, p.bytes / scale_b, p.files / scale_c) for p in points]
    targets = [p.seconds for p in points]
    best: tuple[float, list[float]] | None = None
    for size in range(1, 4):
        for active in itertools.combinations(range(3), size):
            solution = _least_squares([[row[i] for i in active] for row in rows], targets)
            if solution is None or any(value < 0 for value in solution):
                continue
            coefficients = [0.0, 0.0, 0.0]
            for index, value in zip(active, solution, strict=True):
                coefficients[index] = value
            residual = sum(
                (sum(c * x for c, x in zip(coefficients, row, strict=True)) - t) ** 2
                for row, t in zip(rows, targets, strict=True)
            )
            if best is None or residual < best[0] - 1e-12:
                best = (residual, coefficients)
    if best is None:
        return None
    a, b, c = best[1]
    model = Model(a=a, b=b / scale_b, c=c / scale_c, points=len(points), relative_error=None)
    relative = [
        (model.predict(p.bytes, p.files) - p.seconds) / p.seconds for p in points if p.seconds > 0
    ]
    error = math.sqrt(sum(r * r for r in relative) / len(relative)) if relative else None
    return Model(a=model.a, b=model.b, c=model.c, points=len(points), relative_error=error)


def error_floor(full_restores: Sequence[Point]) -> float:
    """The smallest relative error a projection of a tier may claim, given the full restores
    measured on it: the spread of their rates (the largest distance of one's seconds per byte
    from their median, relative to it), and at least MIN_RELATIVE_ERROR while fewer than
    FULL_RESTORES_FOR_SPREAD exist."""
    rates = sorted(p.seconds / max(p.bytes, 1) for p in full_restores if p.seconds > 0)
    spread = 0.0
    if rates:
        middle = len(rates) // 2
        median = rates[middle] if len(rates) % 2 else (rates[middle - 1] + rates[middle]) / 2
        spread = max(abs(rate - median) for rate in rates) / median if median > 0 else 0.0
    if len(rates) < FULL_RESTORES_FOR_SPREAD:
        return max(spread, MIN_RELATIVE_ERROR)
    return spread


def project(
    history: Sequence[Point],
    sample: Point,
    full_bytes: int,
    full_files: int,
    *,
    calibrated: bool = False,
    floor: float = 0.0,
) -> Projection:
    """Project the full recovery time of a snapshot, with an error of at least `floor` (a
    share of the projection: see `error_floor`)."""
    found = _project(history, sample, full_bytes, full_files, calibrated=calibrated)
    least = found.seconds * floor
    if found.error_seconds is None:
        return replace(found, error_seconds=least if floor > 0 else None)
    return replace(found, error_seconds=max(found.error_seconds, least))


def _project(
    history: Sequence[Point],
    sample: Point,
    full_bytes: int,
    full_files: int,
    *,
    calibrated: bool = False,
) -> Projection:
    """Project the full recovery time of a snapshot from the history, or from the sample's rate.

    The sample itself is part of the history it is given. `calibrated`: the history holds a
    full drill of the repository. With enough history, a fitted model ("history"); with a full
    drill but little history, per-byte and per-file costs solved from the points
    ("calibrated"); with neither, the sample's own throughput scaled to the full size, which
    is no evidence ("uncalibrated", no error estimate).
    """
    model = fit(history)
    if model is not None:
        seconds = max(model.predict(full_bytes, full_files), sample.seconds)
        error = None if model.relative_error is None else seconds * model.relative_error
        return Projection(seconds, error, "history", model.points)
    if calibrated:
        costs = _per_byte_and_file(history)
        if costs is not None:
            seconds = max(costs.predict(full_bytes, full_files), sample.seconds)
            error = None if costs.relative_error is None else seconds * costs.relative_error
            return Projection(seconds, error, "calibrated", costs.points)
    if sample.bytes > 0:
        seconds = sample.seconds * full_bytes / sample.bytes
    elif sample.files > 0:
        seconds = sample.seconds * full_files / sample.files
    else:
        seconds = sample.seconds
    return Projection(max(seconds, sample.seconds), None, "uncalibrated", 1)


def _per_byte_and_file(points: Sequence[Point]) -> Model | None:
    """Seconds per byte and per file, non-negative, through the origin: what two drills of
    different shape (a full one and a sample) already tell apart."""
    usable = [p for p in points if p.seconds > 0 and (p.bytes or p.files)]
    if len(usable) < 2:
        return None
    scale_b = max(p.bytes for p in usable) or 1
    scale_c = max(p.files for p in usable) or 1
    rows = [(p.bytes / scale_b, p.files / scale_c) for p in usable]
    targets = [p.seconds for p in usable]
    best: tuple[float, list[float]] | None = None
    for active in ((0, 1), (0,), (1,)):
        solution = _least_squares([[row[i] for i in active] for row in rows], targets)
        if solution is None or any(value < 0 for value in solution):
            continue
        coefficients = [0.0, 0.0]
        for index, value in zip(active, solution, strict=True):
            coefficients[index] = value
        residual = sum(
            (coefficients[0] * b + coefficients[1] * c - t) ** 2
            for (b, c), t in zip(rows, targets, strict=True)
        )
        if best is None or residual < best[0] - 1e-12:
            best = (residual, coefficients)
    if best is None:
        return None
    model = Model(0.0, best[1][0] / scale_b, best[1][1] / scale_c, len(usable), None)
    if len(usable) < 3:
        return model
    relative = [(model.predict(p.bytes, p.files) - p.seconds) / p.seconds for p in usable]
    error = math.sqrt(sum(r * r for r in relative) / len(relative))
    return Model(model.a, model.b, model.c, len(usable), error)


def _least_squares(matrix: list[list[float]], targets: list[float]) -> list[float] | None:
    """Solve min |Ax - y| through the normal equations; None when A'A is singular."""
    n = len(matrix[0])
    normal = [[sum(row[i] * row[j] for row in matrix) for j in range(n)] for i in range(n)]
    rhs = [sum(row[i] * t for row, t in zip(matrix, targets, strict=True)) for i in range(n)]
    return _solve(normal, rhs)


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float] | None:
    n = len(rhs)
    a = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for column in range(n):
        pivot = max(range(column, n), key=lambda r: abs(a[r][column]))
        if abs(a[pivot][column]) < 1e-12:
            return None
        a[column], a[pivot] = a[pivot], a[column]
        for r in range(n):
            if r != column:
                factor = a[r][column] / a[column][column]
                a[r] = [x - factor * y for x, y in zip(a[r], a[column], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]
