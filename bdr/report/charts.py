"""The report's charts as inline SVG (pure, deterministic: the same model gives the same bytes).

Hand-written rather than drawn with a plotting library: two simple chart types, no font or
timestamp metadata to strip, nothing to import on the appliance, and text that WeasyPrint and
browsers render alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from bdr.report.model import DrillRow

WIDTH, HEIGHT = 360, 150  # drawn half the page wide, two side by side
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 14, 28
FONT = 'font-family="DejaVu Sans, sans-serif" font-size="10"'
GOOD, BAD, LINE, AXIS, MUTED = "#2e7d32", "#c62828", "#1f4e79", "#555555", "#999999"
DAY = 86400.0


@dataclass(frozen=True)
class _Frame:
    start: float
    end: float
    top: float  # the largest y value shown

    def x(self, t: float) -> float:
        span = max(self.end - self.start, 1.0)
        return LEFT + (min(max(t, self.start), self.end) - self.start) / span * (
            WIDTH - LEFT - RIGHT
        )

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - min(max(value, 0.0), self.top) / self.top * (HEIGHT - TOP - BOTTOM)


def _n(value: float) -> str:
    return f"{value:.1f}"


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _unit(top: float) -> tuple[float, str]:
    """The unit the y axis is labelled in: minutes up to 3 hours, hours up to 3 days, days."""
    if top <= 3 * 3600:
        return 60.0, "min"
    if top <= 3 * DAY:
        return 3600.0, "h"
    return DAY, "d"


def _axes(frame: _Frame, line: float, line_label: str, days: int) -> list[str]:
    size, unit = _unit(frame.top)
    body = [
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        f'stroke="{AXIS}" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="{AXIS}" '
        'stroke-width="1"/>',
    ]
    for value in (0.0, frame.top / 2, frame.top):
        body.append(
            f'<text x="{LEFT - 4}" y="{_n(frame.y(value) + 3)}" text-anchor="end" {FONT} '
            f'fill="{AXIS}">{value / size:.0f} {unit}</text>'
        )
    for day in range(0, days, 7):
        x = frame.x(frame.start + day * DAY)
        body.append(
            f'<text x="{_n(x)}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" {FONT} '
            f'fill="{AXIS}">{day + 1}</text>'
        )
    y = frame.y(line)
    body.append(
        f'<line x1="{LEFT}" y1="{_n(y)}" x2="{WIDTH - RIGHT}" y2="{_n(y)}" stroke="{BAD}" '
        'stroke-width="1.2" stroke-dasharray="6 4"/>'
    )
    body.append(
        f'<text x="{WIDTH - RIGHT - 2}" y="{_n(y - 4)}" text-anchor="end" {FONT} '
        f'fill="{BAD}">{escape(line_label)}</text>'
    )
    return body


def drill_chart(
    drills: Sequence[DrillRow], rto: float | None, start: float, end: float, days: int
) -> str:
    """Every drill's recovery time (measured; projected with its error for samples) vs the RTO."""
    values = [d.measured_seconds or 0.0 for d in drills]
    values += [(d.projected_seconds or 0.0) + (d.projected_error_seconds or 0.0) for d in drills]
    line = rto or 0.0
    top = max([line * 1.25, *[v * 1.1 for v in values], 60.0])
    frame = _Frame(start, end, top)
    size, unit = _unit(top)
    body = _axes(frame, line, f"RTO {line / size:.0f} {unit}" if rto else "no RTO", days)
    for drill in drills:
        x = frame.x(drill.started_at)
        colour = GOOD if drill.verdict == "passed" else BAD
        title = escape(f"run {drill.run}: {drill.kind} drill, {drill.verdict}")
        if drill.kind == "sample" and drill.projected_seconds is not None:
            error = drill.projected_error_seconds or 0.0
            low = frame.y(drill.projected_seconds - error)
            high = frame.y(drill.projected_seconds + error)
            y = frame.y(drill.projected_seconds)
            body.append(
                f'<g><title>{title}</title><line x1="{_n(x)}" y1="{_n(low)}" x2="{_n(x)}" '
                f'y2="{_n(high)}" stroke="{colour}" stroke-width="1.2"/>'
                f'<rect x="{_n(x - 3.5)}" y="{_n(y - 3.5)}" width="7" height="7" fill="white" '
                f'stroke="{colour}" stroke-width="1.5"/></g>'
            )
        if drill.measured_seconds is not None:
            y = frame.y(drill.measured_seconds)
            radius = "4" if drill.kind == "full" else "2"
            body.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius}" fill="{colour}">'
                f"<title>{title}</title></circle>"
            )
    if not drills:
        body.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {FONT} '
            f'fill="{MUTED}">no drill in this period</text>'
        )
    return _svg(body, "recovery time of each drill against the RTO")


def age_chart(
    ages: Sequence[tuple[float, float | None]], rpo: float, start: float, end: float, days: int
) -> str:
    """The newest snapshot's age across the period (the saw-tooth) vs the RPO."""
    known = [age for _, age in ages if age is not None]
    top = max([rpo * 1.25, *[a * 1.05 for a in known], 60.0])
    frame = _Frame(start, end, top)
    size, unit = _unit(top)
    body = _axes(frame, rpo, f"RPO {rpo / size:.0f} {unit}", days)
    segment: list[str] = []
    segments: list[list[str]] = []
    for t, age in ages:
        if age is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{_n(frame.x(t))},{_n(frame.y(age))}")
    if segment:
        segments.append(segment)
    for points in segments:
        body.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}" '
            'stroke-width="1.2"/>'
        )
    if not known:
        body.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" {FONT} '
            f'fill="{MUTED}">no snapshot on this tier</text>'
        )
    return _svg(body, "age of the newest snapshot against the RPO")
