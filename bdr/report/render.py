"""Rendering the view model: self-contained HTML (Jinja2), PDF (WeasyPrint) and JSON.

Each format is a pure function of the model and the branding, so the same history and
generation time give the same bytes; WeasyPrint and Jinja2 are imported only here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from bdr.config.units import format_duration, format_size
from bdr.period import Period
from bdr.report import charts
from bdr.report.model import Report, as_json
from bdr.report.tiers import days_of
from bdr.report.wording import spoken


@dataclass(frozen=True)
class Branding:
    accent: str = "#1f4e79"
    logo_uri: str | None = None  # a data: URI


def to_json(report: Report) -> bytes:
    text = json.dumps(as_json(report), indent=2, sort_keys=True, ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def _environment(zone: tzinfo) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bdr.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def when(moment: float | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        return "—" if moment is None else datetime.fromtimestamp(moment, zone).strftime(pattern)

    def duration(seconds: float | None) -> str:
        return "—" if seconds is None else format_duration(seconds)

    def words(seconds: float | None) -> str:
        return "—" if seconds is None else spoken(seconds)

    def size(value: float | None) -> str:
        return "—" if value is None else format_size(value)

    def percent(share: float | None, digits: int = 1) -> str:
        if share is None:
            return "—"
        text = f"{share * 100:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{text}%"

    def ids(values: Any, most: int = 12) -> str:
        shown = [str(v) for v in values]
        if len(shown) > most:
            half = most // 2
            return (
                ", ".join(shown[:half])
                + f", … ({len(shown) - 2 * half} more) …, "
                + ", ".join(shown[-half:])
            )
        return ", ".join(shown) or "—"

    env.filters.update(
        when=when, duration=duration, words=words, size=size, percent=percent, ids=ids
    )
    return env


def to_html(report: Report, period: Period, zone: tzinfo, branding: Branding) -> str:
    days = len(days_of(period, zone))
    month_end = days_of(period, zone)[-1][2]
    tiers = [
        {
            "detail": tier,
            "drill_svg": charts.drill_chart(tier.drills, tier.rto, period.start, month_end, days),
            "age_svg": charts.age_chart(tier.ages, tier.rpo, period.start, month_end, days),
        }
        for tier in report.tiers
    ]
    template = _environment(zone).get_template("report.html.j2")
    return str(
        template.render(
            report=report,
            cover=report.cover,
            summary=report.summary,
            tiers=tiers,
            branding=branding,
            month_name=datetime.fromtimestamp(period.start, zone).strftime("%B %Y"),
        )
    )


def to_pdf(html: str, *, title: str, generated_at: float) -> bytes:
    """The HTML as an A4 PDF with embedded fonts; deterministic for the same inputs."""
    import logging

    import weasyprint

    # WeasyPrint logs every CSS property it ignores; the report's CSS is ours and tested.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, base_url=None).render()
    document.metadata.title = title
    stamp = datetime.fromtimestamp(generated_at, UTC).isoformat(timespec="seconds")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    pdf: bytes = document.write_pdf()
    return pdf
