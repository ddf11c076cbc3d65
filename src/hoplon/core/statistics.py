"""Small statistics shared by the Monte Carlo layer and the reports (pure numbers)."""

from __future__ import annotations

import math

from scipy import stats as sps

__all__ = ["wilson_interval"]


def _z(conf: float) -> float:
    return float(sps.norm.ppf(0.5 + conf / 2.0))


def wilson_interval(successes: int, n: int, conf: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (NaNs when n = 0)."""
    if n <= 0:
        return math.nan, math.nan
    z = _z(conf)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 (k = n) the bound is exactly 0 (1); the formula leaves a rounding residue
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high
