"""Tracking performance measures: GOSPA and OSPA, per-scan scoring of tracks against
truth, and filter consistency (NEES, ANEES and their chi-square bounds).

Set distances (positions in m, any dimension d; ``c`` the cut-off in m, ``p >= 1``):

- **GOSPA** with alpha = 2 (A. S. Rahmathullah, A. F. Garcia-Fernandez and L. Svensson,
  "Generalized optimal sub-pattern assignment metric", FUSION 2017, eq. (1) and
  Proposition 1)::

      d(X, Y) = ( min over partial assignments g of
                  sum_{(i, j) in g} d(x_i, y_j)^p  +  c^p / 2 * (|X| + |Y| - 2 |g|) )^(1/p)

  computed as in the paper: one optimal assignment of the smaller set into the larger
  on the cut-off cost ``min(d, c)^p`` (:func:`scipy.optimize.linear_sum_assignment`);
  the pairs with ``d < c`` are the localisation part, every other element of X is a
  missed target and every other element of Y a false track, each costing ``c^p / 2``
  (a pair with ``d >= c`` costs ``c^p`` either way: one miss plus one false). Only
  alpha = 2 splits into those three parts, so it is the only alpha accepted.
- **OSPA** (D. Schuhmacher, B.-T. Vo and B.-N. Vo, "A consistent metric for performance
  evaluation of multi-object filters", IEEE Trans. Signal Processing 56(8), 2008)::

      d(X, Y) = ( (min over assignments pi of sum_i min(d(x_i, y_pi(i)), c)^p
                  + c^p |n - m|) / max(n, m) )^(1/p),   0 when both sets are empty.

:func:`scan_metrics` scores tracks against truth at every truth time, with the same
definitions as the shared tracking benchmark's scorer (so that the figures compare):
time keys are the times rounded to 1e-6 s (Python's ``round(t, 6)``), one GOSPA per
distinct truth time (a time with no tracks has every target missed), tracks at times
with no truth are not scored, the RMS position error is over the assigned pairs
(``d < c``) whatever ``p``, missed-target and false-track scans are the summed counts
of missed targets and false tracks over the truth times, and an id switch is a truth
target assigned to a different track id than at its previous assignment.

Consistency: the normalised estimation error squared ``e^T P^-1 e`` of an estimate with
error ``e`` and covariance ``P`` is chi-square with ``k = dim e`` degrees of freedom
when the filter is consistent; the average of ``n`` independent ones (ANEES, over Monte
Carlo runs) times ``n`` is chi-square with ``k n`` degrees of freedom (Y. Bar-Shalom,
X. R. Li and T. Kirubarajan, *Estimation with Applications to Tracking and Navigation*,
Wiley 2001, sec. 5.4.2).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from hoplon.core._arrays import as_floats

__all__ = [
    "GOSPA",
    "MetricsSummary",
    "ScanMetrics",
    "anees",
    "chi2_interval",
    "gospa",
    "nees",
    "ospa",
    "scan_metrics",
    "time_keys",
]


class GOSPA(NamedTuple):
    """GOSPA between a truth set X (n points) and an estimate set Y (m points).

    ``total`` in m; ``localisation``, ``missed`` and ``false`` are the three additive
    terms of ``total**p`` in m^p (``total = (localisation + missed + false)**(1/p)``):
    the sum of ``d^p`` over the assigned pairs, and ``c^p / 2`` times the number of
    missed targets and of false tracks. ``n_assigned`` is the number of pairs with
    ``d < c``; ``assignment`` (n,) gives, for each point of X, the index of its partner
    in Y or -1 (missed).
    """

    total: float
    localisation: float
    missed: float
    false: float
    n_assigned: int
    assignment: np.ndarray


def _check_cp(c: float, p: float) -> tuple[float, float]:
    c, p = float(c), float(p)
    if not (math.isfinite(c) and c > 0.0):
        raise ValueError(f"the cut-off c must be a finite number > 0, got {c!r}")
    if not (math.isfinite(p) and p >= 1.0):
        raise ValueError(f"the order p must be a finite number >= 1, got {p!r}")
    return c, p


def _point_sets(X: object, Y: object) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) and Y (m, d) as float arrays; an empty set may be given as [] or (0, d)."""
    a, b = as_floats(X, "X"), as_floats(Y, "Y")
    dim = next((s.shape[1] for s in (a, b) if s.ndim == 2 and s.size), None)
    out = []
    for s, name in ((a, "X"), (b, "Y")):
        if s.size == 0 and s.ndim <= 2:
            s = s.reshape(0, dim if dim is not None else (s.shape[1] if s.ndim == 2 else 0))
        if s.ndim != 2:
            raise ValueError(f"{name} must be an (n, d) array of points, got shape {s.shape}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"{name} holds a NaN or infinite coordinate")
        out.append(s)
    if out[0].size and out[1].size and out[0].shape[1] != out[1].shape[1]:
        raise ValueError(f"X and Y have points of different dimension: {out[0].shape[1]} and {out[1].shape[1]}")
    return out[0], out[1]


def _assign(X: np.ndarray, Y: np.ndarray, c: float, p: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal assignment on min(d, c)^p: row indices, column indices, distances (m)."""
    if len(X) == 0 or len(Y) == 0:
        empty = np.empty(0, np.int64)
        return empty, empty, np.empty(0)
    D = np.linalg.norm(X[:, None, :] - Y[None, :, :], axis=2)
    r, k = linear_sum_assignment(np.minimum(D, c) ** p)
    return r, k, D[r, k]


def _gospa_terms(n: int, m: int, d_pairs: np.ndarray, c: float, p: float) -> tuple[float, float, float, int, np.ndarray]:
    ok = d_pairs < c
    n_ok = int(ok.sum())
    loc = float(np.sum(d_pairs[ok] ** p))
    half = c**p / 2.0
    return loc, half * (n - n_ok), half * (m - n_ok), n_ok, ok


def gospa(X: object, Y: object, *, c: float = 1000.0, p: float = 2, alpha: float = 2) -> GOSPA:
    """GOSPA (alpha = 2) between truth points X (n, d) and estimates Y (m, d), in m.

    ``c``: cut-off distance, m (> 0); ``p``: order (>= 1). Rahmathullah, Garcia-Fernandez
    & Svensson 2017; see the module docstring for the definition and :class:`GOSPA` for
    the parts. Either set may be empty.
    """
    c, p = _check_cp(c, p)
    if float(alpha) != 2.0:
        raise ValueError(f"only alpha = 2 is supported (the value that splits GOSPA into localisation, missed "
                         f"and false parts), got {alpha!r}")
    Xa, Ya = _point_sets(X, Y)
    r, k, d = _assign(Xa, Ya, c, p)
    loc, missed, false, n_ok, ok = _gospa_terms(len(Xa), len(Ya), d, c, p)
    assignment = np.full(len(Xa), -1, dtype=np.int64)
    assignment[r[ok]] = k[ok]
    total = (loc + missed + false) ** (1.0 / p)
    return GOSPA(float(total), loc, missed, false, n_ok, assignment)


def _ospa_value(n: int, m: int, d_pairs: np.ndarray, c: float, p: float) -> float:
    big = max(n, m)
    if big == 0:
        return 0.0
    s = float(np.sum(np.minimum(d_pairs, c) ** p)) + c**p * abs(n - m)
    return (s / big) ** (1.0 / p)


def ospa(X: object, Y: object, *, c: float = 1000.0, p: float = 2) -> float:
    """OSPA distance (m) between point sets X (n, d) and Y (m, d): Schuhmacher, Vo & Vo
    2008 with cut-off ``c`` (m, > 0) and order ``p`` (>= 1); 0 when both are empty, ``c``
    when exactly one is."""
    c, p = _check_cp(c, p)
    Xa, Ya = _point_sets(X, Y)
    _, _, d = _assign(Xa, Ya, c, p)
    return _ospa_value(len(Xa), len(Ya), d, c, p)


# ------------------------------------------------------------------------------ scans


class MetricsSummary(NamedTuple):
    """The figures of :func:`scan_metrics` over all truth times.

    Means are over truth times; ``mean_localisation``, ``mean_missed`` and
    ``mean_false`` are in m^p (the GOSPA parts, see :class:`GOSPA`). RMS errors are over
    the assigned pairs (``d < c``); NaN where there is none (or, for velocity, where
    velocities were not given for both). ``missed_target_scans`` / ``false_track_scans``:
    missed targets / false tracks summed over the truth times. ``id_switches``: a target
    assigned to a different track id than at its previous assignment. ``track_breaks``:
    a target that was assigned at its previous truth time and is not at this one (once
    per gap; a new track id after the gap is also an id switch).
    ``track_times_unscored``: distinct track times that match no truth time (not scored).
    """

    mean_gospa_m: float
    mean_localisation: float
    mean_missed: float
    mean_false: float
    mean_ospa_m: float
    rms_position_m: float
    rms_velocity_mps: float
    missed_target_scans: int
    false_track_scans: int
    id_switches: int
    track_breaks: int
    truth_scans: int
    assigned_pairs: int
    track_times_unscored: int
    c_m: float
    p: float


class ScanMetrics(NamedTuple):
    """Per truth time (S,): the time key (s), GOSPA (m) and its parts (m^p), OSPA (m),
    the numbers of truth points, tracks and assigned pairs. Per assigned pair (d < c):
    its truth time index ``pair_scan``, row numbers into the truth and track inputs,
    and the distance (m). ``summary``: the figures over all truth times."""

    time_s: np.ndarray
    gospa_m: np.ndarray
    localisation: np.ndarray
    missed: np.ndarray
    false: np.ndarray
    ospa_m: np.ndarray
    n_truth: np.ndarray
    n_tracks: np.ndarray
    n_assigned: np.ndarray
    pair_scan: np.ndarray
    pair_truth: np.ndarray
    pair_track: np.ndarray
    pair_distance_m: np.ndarray
    summary: MetricsSummary


def time_keys(time_s: object) -> np.ndarray:
    """Times (s) rounded to 1e-6 s exactly as Python's ``round(t, 6)`` does (the shared
    benchmark's scorer uses it; numpy's ``round`` may differ at half-microsecond ties)."""
    t = as_floats(time_s, "time_s").ravel()
    return np.fromiter((round(x, 6) for x in t.tolist()), dtype=np.float64, count=t.size)


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stable grouping by key: (sorted row order, distinct keys, group start offsets + end)."""
    order = np.argsort(keys, kind="stable")
    distinct, start = np.unique(keys[order], return_index=True)
    return order, distinct, np.append(start, len(keys))


def _codes(ids: object, n: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(ids)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one id per row ({n}), got shape {arr.shape}")
    if n == 0:
        return arr, np.empty(0, np.int64)
    uniq, code = np.unique(arr, return_inverse=True)
    return uniq, code.ravel().astype(np.int64)


def _rows(pos: object, n: int, name: str) -> np.ndarray:
    a = as_floats(pos, name)
    if a.size == 0 and n == 0:
        return a.reshape(0, 3) if a.ndim < 2 else a
    if a.ndim != 2 or a.shape[0] != n:
        raise ValueError(f"{name} must be an ({n}, d) array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds a NaN or infinite value")
    return a


def _check_unique(code: np.ndarray, key: np.ndarray, uniq: np.ndarray, what: str) -> None:
    if len(code) < 2:
        return
    order = np.lexsort((key, code))
    same = (code[order][1:] == code[order][:-1]) & (key[order][1:] == key[order][:-1])
    if same.any():
        i = order[1:][np.argmax(same)]
        raise ValueError(f"{what} {uniq[code[i]]!r} appears more than once at time {key[i]!r} s")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else math.nan


def scan_metrics(
    truth_time: object,
    truth_id: object,
    truth_pos: object,
    track_time: object,
    track_id: object,
    track_pos: object,
    *,
    truth_vel: object | None = None,
    track_vel: object | None = None,
    c: float = 1000.0,
    p: float = 2,
) -> ScanMetrics:
    """Score tracks against truth at every truth time.

    Truth: times (N,) s, target ids (N,), positions (N, d) m (ECEF for geodetic data);
    tracks: times (M,), track ids (M,), positions (M, d). Optional velocities (N, d) and
    (M, d) in m/s in the same frame give the RMS velocity error of the assigned pairs.
    Rows are matched on :func:`time_keys`; a (target, time) or (track, time) twice is a
    ValueError. ``c`` (m) and ``p``: the GOSPA/OSPA cut-off and order. Definitions in
    the module docstring and :class:`MetricsSummary`; within a time, rows keep their
    input order (ties of the assignment fall as the shared scorer's do).
    """
    c, p = _check_cp(c, p)
    tkey = time_keys(truth_time)
    kkey = time_keys(track_time)
    n_t, n_k = len(tkey), len(kkey)
    X = _rows(truth_pos, n_t, "truth_pos")
    Y = _rows(track_pos, n_k, "track_pos")
    if n_t and n_k and X.shape[1] != Y.shape[1]:
        raise ValueError(f"truth and track positions differ in dimension: {X.shape[1]} and {Y.shape[1]}")
    t_uniq, t_code = _codes(truth_id, n_t, "truth_id")
    k_uniq, k_code = _codes(track_id, n_k, "track_id")
    _check_unique(t_code, tkey, t_uniq, "truth target")
    _check_unique(k_code, kkey, k_uniq, "track")
    with_vel = truth_vel is not None and track_vel is not None
    if with_vel:
        VX = _rows(truth_vel, n_t, "truth_vel")
        VY = _rows(track_vel, n_k, "track_vel")

    t_order, t_times, t_edge = _groups(tkey)
    k_order, k_times, k_edge = _groups(kkey)
    S = len(t_times)
    at = np.searchsorted(k_times, t_times)
    found = at < len(k_times)
    found[found] = k_times[at[found]] == t_times[found]

    loc, missed, false, osp = np.zeros(S), np.zeros(S), np.zeros(S), np.zeros(S)
    n_truth = np.diff(t_edge).astype(np.int64)
    n_tracks = np.zeros(S, np.int64)
    n_assigned = np.zeros(S, np.int64)
    p_scan, p_truth, p_track, p_dist = [], [], [], []
    empty = np.empty(0, np.int64)
    for s in range(S):
        rows_t = t_order[t_edge[s]:t_edge[s + 1]]
        rows_k = k_order[k_edge[at[s]]:k_edge[at[s] + 1]] if found[s] else empty
        r, k, d = _assign(X[rows_t], Y[rows_k], c, p)
        loc[s], missed[s], false[s], n_ok, ok = _gospa_terms(len(rows_t), len(rows_k), d, c, p)
        osp[s] = _ospa_value(len(rows_t), len(rows_k), d, c, p)
        n_tracks[s], n_assigned[s] = len(rows_k), n_ok
        if n_ok:
            p_scan.append(np.full(n_ok, s, np.int64))
            p_truth.append(rows_t[r[ok]])
            p_track.append(rows_k[k[ok]])
            p_dist.append(d[ok])
    gospa_m = (loc + missed + false) ** (1.0 / p)

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)

    pair_scan, pair_truth = cat(p_scan, np.int64), cat(p_truth, np.int64)
    pair_track, pair_dist = cat(p_track, np.int64), cat(p_dist, np.float64)

    # per truth row: the code of its assigned track, or -1
    assigned = np.full(n_t, -1, np.int64)
    assigned[pair_truth] = k_code[pair_track]
    order = np.lexsort((tkey, t_code))  # by target, then time
    same_target = t_code[order][1:] == t_code[order][:-1]
    a_prev, a_next = assigned[order][:-1], assigned[order][1:]
    track_breaks = int(np.sum(same_target & (a_prev >= 0) & (a_next < 0)))
    hit = order[assigned[order] >= 0]  # assigned rows, by target then time
    id_switches = int(np.sum((t_code[hit][1:] == t_code[hit][:-1]) & (assigned[hit][1:] != assigned[hit][:-1])))

    rms_pos = float(np.sqrt(np.mean(pair_dist**2))) if len(pair_dist) else math.nan
    rms_vel = math.nan
    if with_vel and len(pair_dist):
        dv = VX[pair_truth] - VY[pair_track]
        rms_vel = float(np.sqrt(np.mean(np.sum(dv * dv, axis=1))))

    summary = MetricsSummary(
        mean_gospa_m=_mean(gospa_m),
        mean_localisation=_mean(loc),
        mean_missed=_mean(missed),
        mean_false=_mean(false),
        mean_ospa_m=_mean(osp),
        rms_position_m=rms_pos,
        rms_velocity_mps=rms_vel,
        missed_target_scans=int(np.sum(n_truth - n_assigned)),
        false_track_scans=int(np.sum(n_tracks - n_assigned)),
        id_switches=id_switches,
        track_breaks=track_breaks,
        truth_scans=S,
        assigned_pairs=len(pair_dist),
        track_times_unscored=int(len(k_times) - np.count_nonzero(found)),
        c_m=c,
        p=p,
    )
    return ScanMetrics(t_times, gospa_m, loc, missed, false, osp, n_truth, n_tracks, n_assigned,
                       pair_scan, pair_truth, pair_track, pair_dist, summary)


# ------------------------------------------------------------------------------ consistency


def nees(err: object, P: object) -> np.ndarray | float:
    """Normalised estimation error squared ``e^T P^-1 e`` of errors (..., k) with
    covariances (..., k, k) (broadcasting; units cancel): shape (...,), a float for one
    error. Solved through the Cholesky factor, so a covariance that is not symmetric
    positive definite raises ValueError. Chi-square with k degrees of freedom for a
    consistent estimator (Bar-Shalom, Li & Kirubarajan 2001, sec. 5.4.2)."""
    e = as_floats(err, "err")
    S = as_floats(P, "P")
    if e.ndim < 1 or S.ndim < 2 or S.shape[-1] != S.shape[-2] or S.shape[-1] != e.shape[-1]:
        raise ValueError(f"need errors (..., k) and covariances (..., k, k); got {e.shape} and {S.shape}")
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        raise ValueError("a covariance is not symmetric positive definite") from None
    y = np.linalg.solve(L, e[..., None])[..., 0]
    out = np.sum(y * y, axis=-1)
    return float(out) if out.ndim == 0 else out


def anees(err: object, P: object, *, axis: int | None = None) -> np.ndarray | float:
    """Average NEES: the mean of :func:`nees` over ``axis`` of the leading dimensions
    (all of them by default). For n independent samples of a consistent estimator, n
    times it is chi-square with k n degrees of freedom: compare with
    :func:`chi2_interval` (Bar-Shalom, Li & Kirubarajan 2001, sec. 5.4.2)."""
    out = np.mean(np.asarray(nees(err, P)), axis=axis)
    return float(out) if np.ndim(out) == 0 else out


def chi2_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided acceptance interval of the ANEES of ``n`` independent samples (Monte
    Carlo runs) of a ``k``-dimensional error: the central ``confidence`` interval of
    chi2(k n) / n (Bar-Shalom, Li & Kirubarajan 2001, sec. 5.4.2; e.g. k = 3, n = 50 at
    95 %: [2.36, 3.72]). With n = 1 it is the interval of a single NEES."""
    if int(k) != k or k < 1 or int(n) != n or n < 1:
        raise ValueError(f"k and n must be integers >= 1, got k={k!r}, n={n!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    dof = int(k) * int(n)
    tail = (1.0 - confidence) / 2.0
    lo, hi = chi2.ppf([tail, 1.0 - tail], dof) / int(n)
    return float(lo), float(hi)
