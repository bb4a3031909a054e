"""The arithmetic of the load, scale and storm benchmarks, kept pure so it is tested alone:
percentiles, an open-loop arrival schedule, the knee of a latency curve, a straight-line
extrapolation."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence

#: Beijing's reported single-day peak, 56,000 appeals, spread over 24 hours (DOMAIN.md).
PEAK_RATE = 0.65


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile by nearest rank on the sorted values (p in 0..100); NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    if not 0 <= p <= 100:
        raise ValueError("p must be within 0..100")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, max and the count."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values, default=math.nan),
        "n": float(len(values)),
    }


def poisson_arrivals(rate: float, duration: float, rng: random.Random) -> list[float]:
    """Arrival times (seconds from 0) of a Poisson process of `rate` per second over `duration`:
    exponential gaps, so arrivals do not wait for the system (an open loop)."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    times, t = [], rng.expovariate(rate)
    while t < duration:
        times.append(t)
        t += rng.expovariate(rate)
    return times


def knee(p99_by_rate: Mapping[float, Mapping[str, float]], limit_ms: float = 300.0) -> float | None:
    """The highest rate at which every endpoint's p99 is under `limit_ms`, counting only rates
    below the first one that fails (a rate that passes after a failure is luck, not headroom);
    None when the lowest rate already fails."""
    best = None
    for rate in sorted(p99_by_rate):
        p99s = p99_by_rate[rate]
        if not p99s or any(not (v < limit_ms) for v in p99s.values()):
            break
        best = rate
    return best


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of y over x; one point gives a line through the origin."""
    if not points:
        raise ValueError("no points")
    if len(points) == 1 or len({x for x, _ in points}) == 1:
        x, y = points[-1]
        return (y / x if x else 0.0), 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    slope = sxy / sxx
    return slope, my - slope * mx


def extrapolate(points: Sequence[tuple[float, float]], at: float) -> float:
    """The straight line through the measured (x, y) points, read at `at`."""
    slope, intercept = fit_line(points)
    return intercept + slope * at
