"""Percentiles and distributions of samples (pure, no I/O)."""

import math
from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-quantile (0..1) by the nearest-rank method; NaN for no samples."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def cdf(values: Iterable[float]) -> tuple[list[float], list[float]]:
    """Sorted values and the fraction of samples at or below each."""
    ordered = sorted(values)
    n = len(ordered)
    return ordered, [(i + 1) / n for i in range(n)]


def ratio(value: float, baseline: float) -> float:
    """value / baseline, NaN when the baseline is zero or missing."""
    return value / baseline if baseline else float("nan")


def per_minute(samples: Iterable[tuple[float, float]], start: float) -> dict[int, list[float]]:
    """(time, value) samples grouped by the minute (0, 1, …) since `start`."""
    minutes: dict[int, list[float]] = {}
    for at, value in samples:
        minutes.setdefault(int((at - start) // 60), []).append(value)
    return dict(sorted(minutes.items()))
