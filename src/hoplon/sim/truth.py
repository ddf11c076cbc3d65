"""Ground truth of a run: every object's sampled states, interpolated where needed.

The engine adds each object's states (ECEF position and Earth-relative velocity) on a
dense internal time grid plus the exact instants that matter (burnout, impact);
:meth:`TruthStore.state_at` interpolates any (object, time) pairs at once with cubic
Hermite polynomials (positions and velocities at both ends of an interval), which is
what sensors observe; :meth:`TruthStore.table` writes the rows on the output grid.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from hoplon.core.earth import EarthModel
from hoplon.core.frames import ecef_to_geodetic

__all__ = ["TruthStore", "TRUTH_SCHEMA"]

TRUTH_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        ("object_id", pa.string()),
        ("kind", pa.string()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_m", pa.float64()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
        ("vx_mps", pa.float64()),
        ("vy_mps", pa.float64()),
        ("vz_mps", pa.float64()),
    ],
    metadata={
        "hoplon_table": "truth",
        "schema_version": "1",
        "frame": "WGS84 ECEF (Earth-fixed); velocity relative to the rotating Earth",
        "time": "seconds since the scenario epoch (UTC)",
    },
)


class TruthStore:
    """Per-object time series; objects are numbered in the order they are added."""

    def __init__(self, earth: EarthModel) -> None:
        self.earth = earth
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.object_id: list[str] = []
        self.kind: list[str] = []
        self._frozen = False

    def add(self, object_id: str, kind: str, time_s, r, v, output) -> int:
        """Add one object's samples (sorted by time, duplicate instants dropped; arrays
        whose times already increase are kept as given, not copied, until :meth:`freeze`);
        ``output`` marks the rows written to the truth table. Returns the object's index."""
        if self._frozen:
            raise RuntimeError("the store is frozen")
        t = np.asarray(time_s, dtype=float)
        r, v, output = np.asarray(r, float), np.asarray(v, float), np.asarray(output, bool)
        if not np.all(np.diff(t) > 1e-9):
            order = np.argsort(t, kind="stable")
            t = t[order]
            keep = np.concatenate([[True], np.diff(t) > 1e-9])  # drop duplicate instants
            sel = order[keep]
            t, r, v, output = t[keep], r[sel], v[sel], output[sel]
        self._parts.append((t, r, v, output))
        self.object_id.append(object_id)
        self.kind.append(kind)
        return len(self.object_id) - 1

    def freeze(self) -> None:
        """Concatenate the samples for fast interpolation (after the last ``add``)."""
        n = [p[0].shape[0] for p in self._parts]
        self.offsets = np.concatenate([[0], np.cumsum(n)]).astype(np.int64)
        empty3 = np.empty((0, 3))
        self.t = np.concatenate([p[0] for p in self._parts]) if n else np.empty(0)
        self.r = np.concatenate([p[1] for p in self._parts]) if n else empty3
        self.v = np.concatenate([p[2] for p in self._parts]) if n else empty3
        self.out = np.concatenate([p[3] for p in self._parts]) if n else np.empty(0, bool)
        self.start_s = self.t[self.offsets[:-1]] if n else np.empty(0)
        self.end_s = self.t[self.offsets[1:] - 1] if n else np.empty(0)
        self.killed_s = np.full(len(n), np.inf)
        self._frozen = True

    def kill(self, obj: int, time_s: float) -> None:
        """Object ``obj`` is destroyed at ``time_s``: it is no longer in flight after it,
        and the truth table ends its rows with its state at that instant."""
        if not self.start_s[obj] <= time_s <= self.end_s[obj]:
            raise ValueError(f"{self.object_id[obj]} is not in flight at {time_s} s")
        self.killed_s[obj] = time_s
        self.end_s[obj] = time_s

    def __len__(self) -> int:
        return len(self.object_id)

    def state_at(self, obj: np.ndarray, time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ECEF positions and velocities (P, 3) of objects ``obj`` at ``time_s`` (P,).

        Times are clamped to each object's sampled span.
        """
        obj = np.asarray(obj, dtype=np.int64)
        t = np.broadcast_to(np.asarray(time_s, dtype=float), obj.shape)
        return _hermite_states(obj.ravel(), np.ascontiguousarray(t).ravel(), self.offsets, self.t, self.r, self.v,
                               self.start_s, self.end_s)

    def alive(self, time_s: float | np.ndarray) -> np.ndarray:
        """Boolean (N,) or (T, N): which objects are in flight at each time."""
        t = np.asarray(time_s, dtype=float)
        return (t[..., None] >= self.start_s) & (t[..., None] <= self.end_s)

    def table(self) -> pa.Table:
        """The rows marked for output, by time then object id."""
        if not self._frozen:
            self.freeze()
        if len(self) == 0:
            return TRUTH_SCHEMA.empty_table()
        obj = np.repeat(np.arange(len(self)), np.diff(self.offsets))
        keep = self.out & (self.t < self.killed_s[obj])
        obj = obj[keep]
        t, r, v = self.t[keep], self.r[keep], self.v[keep]
        killed = np.flatnonzero(np.isfinite(self.killed_s))
        if killed.size:  # the state at each kill
            rk, vk = self.state_at(killed, self.killed_s[killed])
            obj, t = np.concatenate([obj, killed]), np.concatenate([t, self.killed_s[killed]])
            r, v = np.concatenate([r, rk]), np.concatenate([v, vk])
        order = np.lexsort((np.asarray(self.object_id, dtype=object)[obj], t))
        return self._rows_table(t[order], obj[order], r[order], v[order])

    def table_at(self, times: np.ndarray) -> pa.Table:
        """Every object in flight at each of ``times`` (s), interpolated, by time then
        object id."""
        times = np.asarray(times, dtype=float)
        if len(self) == 0 or times.size == 0:
            return TRUTH_SCHEMA.empty_table()
        by_id = np.argsort(np.asarray(self.object_id, dtype=object), kind="stable")
        ti, oi = np.nonzero(self.alive(times)[:, by_id])  # (time, object) pairs in that order
        obj, t = by_id[oi], times[ti]
        r, v = self.state_at(obj, t)
        return self._rows_table(t, obj, r, v)

    def _rows_table(self, t: np.ndarray, obj: np.ndarray, r: np.ndarray, v: np.ndarray) -> pa.Table:
        """A truth table of rows (time, object index, ECEF position and velocity)."""
        geo = ecef_to_geodetic(r, earth=self.earth)
        return pa.table(
            {
                "time_s": t,
                "object_id": [self.object_id[k] for k in obj],
                "kind": [self.kind[k] for k in obj],
                "lat_deg": np.atleast_1d(geo.lat_deg),
                "lon_deg": np.atleast_1d(geo.lon_deg),
                "alt_m": np.atleast_1d(geo.alt_m),
                "x_m": r[:, 0],
                "y_m": r[:, 1],
                "z_m": r[:, 2],
                "vx_mps": v[:, 0],
                "vy_mps": v[:, 1],
                "vz_mps": v[:, 2],
            },
            schema=TRUTH_SCHEMA,
        )


@njit(cache=True)
def _hermite_states(obj, time_s, offsets, t, r, v, start_s, end_s):
    """:meth:`TruthStore.state_at` for P (object, time) pairs: a binary search for the
    samples [i, i+1] around each (clamped) time, then cubic Hermite interpolation.
    After a pair of the same object at an earlier time (pairs by object, then time),
    the search gallops forward from that pair's samples instead of starting over."""
    n = obj.shape[0]
    r_out = np.empty((n, 3))
    v_out = np.empty((n, 3))
    prev_o, prev_i = -1, -1
    for p in range(n):
        o = obj[p]
        tp = min(max(time_s[p], start_s[o]), end_s[o])
        lo = offsets[o]
        hi = offsets[o + 1] - 1  # last sample of the object
        a, b = lo, max(hi - 1, lo)
        if o == prev_o and t[prev_i] <= tp:
            a, step = prev_i, 1
            while a + step <= b and t[a + step] <= tp:  # t[a] <= tp throughout
                a += step
                step *= 2
            b = min(a + step - 1, b)  # t[a + step] > tp, if it exists
        while a < b:  # the last i in [lo, hi - 1] with t[i] <= tp
            mid = (a + b + 1) // 2
            if t[mid] <= tp:
                a = mid
            else:
                b = mid - 1
        i = a
        prev_o, prev_i = o, i
        j = min(i + 1, hi)
        h = t[j] - t[i]
        if h <= 0.0:  # a single sample
            for c in range(3):
                r_out[p, c] = r[i, c]
                v_out[p, c] = v[i, c]
            continue
        s = (tp - t[i]) / h
        s2 = s * s
        s3 = s * s * s
        h00, h10, h01, h11 = 2 * s3 - 3 * s2 + 1, s3 - 2 * s2 + s, -2 * s3 + 3 * s2, s3 - s2
        d00, d01, d10, d11 = 6 * s2 - 6 * s, -6 * s2 + 6 * s, 3 * s2 - 4 * s + 1, 3 * s2 - 2 * s
        for c in range(3):
            r_out[p, c] = h00 * r[i, c] + h10 * h * v[i, c] + h01 * r[j, c] + h11 * h * v[j, c]
            v_out[p, c] = (d00 * r[i, c] + d01 * r[j, c]) / h + d10 * v[i, c] + d11 * v[j, c]
    return r_out, v_out
