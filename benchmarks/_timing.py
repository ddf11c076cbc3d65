"""Shared timing helper of the benchmark scripts."""

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
