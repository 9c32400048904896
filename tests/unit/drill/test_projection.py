import random

import pytest

from bdr.drill.projection import Point, fit, project


def synthetic(a: float, b: float, c: float, noise: float = 0.0, seed: int = 1) -> list[Point]:
    rng = random.Random(seed)
    points = []
    for _ in range(12):
        size = rng.randint(10**6, 10**10)
        files = rng.randint(10, 100_000)
        seconds = (a + b * size + c * files) * (1 + rng.uniform(-noise, noise))
        points.append(Point(size, files, seconds))
    return points


def test_recovers_known_coefficients():
    model = fit(synthetic(a=20.0, b=1 / 150e6, c=0.002))
    assert model is not None
    assert model.a == pytest.approx(20.0, rel=1e-6)
    assert model.b == pytest.approx(1 / 150e6, rel=1e-6)
    assert model.c == pytest.approx(0.002, rel=1e-6)
    assert model.relative_error == pytest.approx(0.0, abs=1e-9)


def test_coefficients_are_never_negative():
    # Timings that would fit a negative fixed cost get a = 0 instead.
    points = [
        Point(size, 10, size / 100e6 - 5 + 0.01 * size / 1e8)
        for size in (10**9, 2 * 10**9, 4 * 10**9, 8 * 10**9)
    ]
    model = fit(points)
    assert model is not None and min(model.a, model.b, model.c) >= 0


def test_noise_gives_an_error_estimate():
    model = fit(synthetic(a=5.0, b=1 / 100e6, c=0.001, noise=0.1))
    assert model is not None and 0.01 < model.relative_error < 0.2


def test_thin_history_without_a_full_drill_is_uncalibrated():
    sample = Point(100_000_000, 1000, 4.0)
    projection = project([sample], sample, 1_000_000_000, 10_000)
    assert projection.method == "uncalibrated"
    assert projection.seconds == pytest.approx(40.0)
    assert projection.error_seconds is None


def restore_time(size: int, files: int) -> float:
    """This appliance: 200 MB/s and 2 ms per file."""
    return size / 200e6 + files * 0.002


@pytest.mark.parametrize(
    ("shape", "size", "files"),
    [("mostly small files", 150_000_000, 100_000), ("mostly large files", 8_000_000_000, 40)],
)
def test_one_full_drill_calibrates_per_byte_and_per_file_costs(shape, size, files):
    """A full drill of a mixed tree and one sample tell the two costs apart, so trees of
    another shape in the same repository are projected within 15%."""
    full = Point(2_000_000_000, 20_000, restore_time(2_000_000_000, 20_000))
    sample = Point(5_000_000, 2_000, restore_time(5_000_000, 2_000))
    projection = project([full, sample], sample, size, files, calibrated=True)
    assert projection.method == "calibrated"
    truth = restore_time(size, files)
    assert abs(projection.seconds - truth) / truth <= 0.15, shape


def test_history_of_one_size_is_too_thin():
    same = [Point(10**8, 100, 4.0 + i * 0.1) for i in range(6)]
    assert fit(same) is None


def test_projection_from_history():
    history = synthetic(a=10.0, b=1 / 200e6, c=0.0, noise=0.05)
    sample = history[-1]
    projection = project(history, sample, 50 * 10**9, 500_000)
    assert projection.method == "history"
    assert projection.seconds == pytest.approx(10 + 50e9 / 200e6, rel=0.1)
    assert projection.error_seconds is not None and projection.error_seconds > 0


def test_one_full_restore_claims_at_least_fifteen_percent():
    from bdr.drill.projection import error_floor

    full = Point(1_000_000_000, 10_000, 100.0)
    assert error_floor([]) == 0.15
    assert error_floor([full]) == 0.15
    sample = Point(50_000_000, 500, 6.0)
    projection = project([full, sample], sample, 1_000_000_000, 10_000, calibrated=True, floor=0.15)
    assert projection.error_seconds == pytest.approx(projection.seconds * 0.15)
    # An uncalibrated projection has no error of its own: the floor is all it claims.
    alone = project([sample], sample, 1_000_000_000, 10_000, floor=0.15)
    assert alone.method == "uncalibrated"
    assert alone.error_seconds == pytest.approx(alone.seconds * 0.15)


def test_the_spread_of_measured_rates_widens_the_error():
    from bdr.drill.projection import error_floor

    # Three full restores of one GB at 100, 100 and 140 s: the slowest is 40% off the median.
    full = [Point(10**9, 10_000, seconds) for seconds in (100.0, 100.0, 140.0)]
    assert error_floor(full) == pytest.approx(0.40)
    # Three that agree: the fit's own error decides, no floor.
    assert error_floor([Point(10**9, 10_000, 100.0)] * 3) == 0.0
    # Two that differ by 60%: the spread, above the 15%.
    assert error_floor([Point(10**9, 1, 100.0), Point(10**9, 1, 160.0)]) == pytest.approx(30 / 130)
