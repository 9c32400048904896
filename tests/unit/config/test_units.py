import pytest

from bdr.config.units import format_size, parse_duration, parse_fraction, parse_size
from bdr.schedule.cron import check as check_cron


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
        ("0 0 5-1 * *", "day of month '5-1': The minimum value in a range must not be higher"),
        ("*/0 * * * *", r"minute '\*/0': Increment must be higher than 0"),
        ("0 0 * * 5-1", "day of week '5-1': the range '5-1' runs backwards"),
        ("0 0 * * 8", "day of week '8': '8' is not a day"),
        ("0 0 * * */9", "day of week '\\*/9': the step 9 is larger than the range"),
        ("0 0 31 2 *", "never fires"),
        ("\uff11 0 * * *", "minute '\uff11' must be written in ASCII"),
    ],
)
def test_bad_cron(expression, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_cron(expression)


def test_format_size():
    assert format_size(512) == "512 B"
    assert format_size(1536 * 1024**2) == "1.5 GiB"
