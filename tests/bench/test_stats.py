"""The arithmetic the load, scale and storm benchmarks print their verdicts with."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from bench.stack import Metrics, mean_ms_by
from bench.stats import extrapolate, fit_line, knee, percentile, poisson_arrivals, summary


def test_percentiles_by_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == 51  # rank round(0.5 * 99) = 50 (0-based)
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(reversed(values), 0) == 1
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)
    s = summary([5.0, 1.0, 3.0])
    assert (s["p50"], s["max"], s["n"]) == (3.0, 5.0, 3.0)


def test_poisson_arrivals_come_at_the_rate_with_exponential_gaps():
    arrivals = poisson_arrivals(3.25, 2000, random.Random(1))
    assert arrivals == sorted(arrivals) and 0 < arrivals[0] and arrivals[-1] < 2000
    assert len(arrivals) / 2000 == pytest.approx(3.25, rel=0.05)
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # exponential: the standard deviation equals the mean (a fixed pace would have none)
    assert statistics.pstdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.1)
    assert poisson_arrivals(1, 100, random.Random(7)) == poisson_arrivals(1, 100, random.Random(7))
    with pytest.raises(ValueError):
        poisson_arrivals(0, 10, random.Random(1))


def test_the_knee_is_the_last_rate_before_the_first_failing_one():
    curve = {
        0.65: {"POST /appeals": 80, "accept": 40},
        3.25: {"POST /appeals": 250, "accept": 90},
        6.5: {"POST /appeals": 310, "accept": 95},  # the intake crosses 300 ms
        13.0: {"POST /appeals": 200, "accept": 80},  # a lucky rate after the break does not count
    }
    assert knee(curve) == 3.25
    assert knee(curve, limit_ms=400) == 13.0
    assert knee({0.65: {"accept": 300.0}}) is None  # 300 is not under 300
    assert knee({0.65: {"accept": math.nan}}) is None  # no figure is no pass


def test_extrapolation_follows_the_measured_slope():
    points = [(10_000, 1.0e9), (25_000, 2.5e9), (50_000, 5.0e9)]
    slope, intercept = fit_line(points)
    assert slope == pytest.approx(1e5) and intercept == pytest.approx(0, abs=1e-3)
    assert extrapolate(points, 400_000) == pytest.approx(4.0e10)
    # a fixed cost plus a slope: the intercept is kept
    assert extrapolate([(1, 12.0), (3, 16.0)], 10) == pytest.approx(30.0)
    assert extrapolate([(1_000, 5.0)], 4_000) == pytest.approx(20.0)  # one point: through the origin
    with pytest.raises(ValueError):
        fit_line([])


def test_histogram_means_between_two_scrapes_by_label():
    before = Metrics.parse(
        'h_sum{route="/appeals/{appeal_no}/accept"} 1.0\nh_count{route="/appeals/{appeal_no}/accept"} 10\n'
    )
    after = Metrics.parse(
        "# HELP h seconds\n"
        'h_sum{route="/appeals/{appeal_no}/accept"} 1.5\nh_count{route="/appeals/{appeal_no}/accept"} 20\n'
        'h_sum{route="/appeals"} 0.2\nh_count{route="/appeals"} 2\n'
    )
    means = mean_ms_by(before, after, "h", "route")
    assert means["/appeals/{appeal_no}/accept"] == (pytest.approx(0.05), 10)
    assert means["/appeals"] == (pytest.approx(0.1), 2)
    assert after.total("h_count") == 22
