import pytest

from bdr.config.units import check_cron, format_size, parse_duration, parse_fraction, parse_size


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("4h", 14400), ("7d", 604800), ("1h30m", 5400), ("2w", 1209600)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "4", "4 hours", "h", "-1h", "0s", "1.5h"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "size"), [("2GiB", 2 * 1024**3), ("500MB", 500_000_000), ("1024", 1024)]
)
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "2 GiBs", "lots", "0MB"])
def test_bad_sizes(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_fraction():
    assert parse_fraction("5%") == pytest.approx(0.05)
    for bad in ("0%", "150%", "5"):
        with pytest.raises(ValueError):
            parse_fraction(bad)


@pytest.mark.parametrize(
    "expression",
    ["0 */4 * * *", "30 2 * * 6", "0 6 1 * *", "0 3 * jan-mar mon-fri", "5,10 1-3 * * *"],
)
def test_valid_cron(expression):
    check_cron(expression)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 */4 * *", "5 fields"),
        ("60 * * * *", "minute '60'"),
        ("0 25 * * *", "hour '25'"),
        ("0 0 * * funday", "day of week 'funday'"),
        ("0 0 5-1 * *", "runs backwards"),
        ("*/0 * * * *", "step"),
    ],
)
def test_bad_cron(expression, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_cron(expression)


def test_format_size():
    assert format_size(512) == "512 B"
    assert format_size(1536 * 1024**2) == "1.5 GiB"
