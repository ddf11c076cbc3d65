"""Shared helpers of the benchmark scripts: timing, and JSON without NaN."""

from __future__ import annotations

import math
import time


def best_of(repeat: int, fn, *args):
    """The least wall time (s) of ``repeat`` calls, and the last call's result."""
    best = math.inf
    out = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def no_nan(x):
    """JSON has no NaN or infinity: such figures (e.g. of an empty sample) become null."""
    if isinstance(x, dict):
        return {k: no_nan(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [no_nan(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
