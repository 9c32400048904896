"""Parsing of the human units used in the config: durations, sizes and cron expressions.

Pure functions; each raises ValueError with a message that can follow a key path.
"""

from __future__ import annotations

import re

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# [0-9], not \d: Python's \d takes full-width and Arabic-Indic digits, which int() reads.
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])")

_SIZE_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "KIB": 1024,
    "M": 1000**2,
    "MB": 1000**2,
    "MIB": 1024**2,
    "G": 1000**3,
    "GB": 1000**3,
    "GIB": 1024**3,
    "T": 1000**4,
    "TB": 1000**4,
    "TIB": 1024**4,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_duration(text: str) -> int:
    """Return the number of seconds in `text` ("90s", "4h", "7d", "1h30m"); raise ValueError."""
    cleaned = text.strip().lower()
    if not cleaned or _DURATION_PART.sub("", cleaned) != "":
        raise ValueError(f"{text!r} is not a duration (use e.g. '90s', '30m', '4h', '7d', '1h30m')")
    seconds = sum(int(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    if seconds > MAX_DURATION:
        # Timers and dates overflow long before; nothing bdr waits for lasts ten years.
        raise ValueError(f"{text!r} is longer than ten years")
    return seconds


MAX_DURATION = 3650 * 86400


def format_duration(seconds: float) -> str:
    """Return a short human form of a number of seconds: '45s', '12m 03s', '4h 00m', '3d 2h'."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def parse_size(text: str) -> int:
    """Return the number of bytes in `text` ("2GiB", "500MB", "1024"); raise ValueError."""
    match = _SIZE.match(text)
    unit = match.group(2).upper() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size (use e.g. '500MB', '2GiB')")
    value = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if value <= 0:
        raise ValueError(f"{text!r} must be larger than zero")
    return value


def parse_fraction(text: str) -> float:
    """Return the fraction in a percentage ("5%" -> 0.05); raise ValueError."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a percentage")
    value = float(match.group(1)) / 100
    if not 0 < value <= 1:
        raise ValueError(f"{text!r} must be above 0% and at most 100%")
    return value


def format_size(size: float) -> str:
    """Return a size in binary units with three significant figures: '512 B', '1.50 GiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() takes full-width and Arabic-Indic digits too."""
    return text.isascii() and text.isdigit()
