"""Tracking metrics: GOSPA, OSPA, per-scan scoring, NEES, and ``hoplon metrics``.

Expected values come from outside the implementation: GOSPA and OSPA cases worked by
hand from the papers' definitions (Rahmathullah, Garcia-Fernandez & Svensson 2017, eq.
(1): a minimum over all partial assignments with the uncut base distance; Schuhmacher,
Vo & Vo 2008), brute-force minima over every assignment of small random sets, the
metric axioms, chi-square quantiles of scipy.stats, and for the command an independent
scorer written below from the shared tracking benchmark's definition (pyproj for
geodetic -> ECEF, scipy for the assignment).
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from cli_checks import assert_clean_error, invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from hoplon.core.metrics import anees, chi2_interval, gospa, nees, ospa, scan_metrics

HYPOTHESIS = settings(max_examples=150, deadline=None)
REL = 1e-9
TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)  # WGS84 (lon, lat, h) -> ECEF
TO_GEODETIC = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


# --- GOSPA: hand-worked cases ---------------------------------------------------------


def test_gospa_of_two_empty_sets_is_zero():
    g = gospa(np.zeros((0, 3)), np.zeros((0, 3)), c=10.0, p=2)
    assert (g.total, g.localisation, g.missed, g.false, g.n_assigned) == (0.0, 0.0, 0.0, 0.0, 0)
    assert g.assignment.shape == (0,)


def test_gospa_only_missed_targets():
    # three targets, no estimate: each costs c^p / 2
    g = gospa([[0, 0], [5, 5], [100, 0]], [], c=10.0, p=2)
    assert g.total == pytest.approx(math.sqrt(3 * 100 / 2), rel=REL)
    assert (g.localisation, g.missed, g.false, g.n_assigned) == (0.0, 150.0, 0.0, 0)
    assert list(g.assignment) == [-1, -1, -1]


def test_gospa_only_false_tracks():
    g = gospa([], [[1.0, 2.0], [3.0, 4.0]], c=10.0, p=1)
    assert g.total == pytest.approx(2 * 10 / 2, rel=REL)
    assert (g.localisation, g.missed, g.false) == (0.0, 0.0, 10.0)


def test_gospa_one_exact_pair_is_zero():
    g = gospa([[7.0, -3.0, 2.0]], [[7.0, -3.0, 2.0]], c=10.0, p=2)
    assert g.total == 0.0 and g.n_assigned == 1 and list(g.assignment) == [0]


def test_gospa_pair_beyond_the_cutoff_is_one_missed_and_one_false():
    for far in (10.0, 20.0, 1e6):  # d = c exactly counts as not assigned
        g = gospa([[0.0, 0.0]], [[far, 0.0]], c=10.0, p=1)
        assert g.total == pytest.approx(10.0, rel=REL)  # c^p/2 + c^p/2
        assert (g.localisation, g.missed, g.false, g.n_assigned) == (0.0, 5.0, 5.0, 0)
        assert list(g.assignment) == [-1]


def test_gospa_mixed_case():
    # one pair at 5 m (3-4-5), one target left over: p = 2 -> 25 + 100/2
    X, Y = [[0.0, 0.0], [100.0, 0.0]], [[3.0, 4.0]]
    g = gospa(X, Y, c=10.0, p=2)
    assert g.total == pytest.approx(math.sqrt(75.0), rel=REL)
    assert (g.localisation, g.missed, g.false, g.n_assigned) == (25.0, 50.0, 0.0, 1)
    assert list(g.assignment) == [0, -1]
    assert gospa(X, Y, c=10.0, p=1).total == pytest.approx(5.0 + 5.0, rel=REL)


def test_gospa_rejects_bad_parameters():
    with pytest.raises(ValueError, match="alpha"):
        gospa([[0.0]], [[1.0]], alpha=1)
    with pytest.raises(ValueError, match="cut-off"):
        gospa([[0.0]], [[1.0]], c=0.0)
    with pytest.raises(ValueError, match="order"):
        gospa([[0.0]], [[1.0]], p=0.5)
    with pytest.raises(ValueError, match="dimension"):
        gospa([[0.0, 1.0]], [[1.0, 2.0, 3.0]])


# --- GOSPA and OSPA against brute force ----------------------------------------------------


def brute_gospa_p(X: np.ndarray, Y: np.ndarray, c: float, p: float) -> float:
    """min over all partial assignments g of sum_g d^p + c^p/2 (|X| + |Y| - 2|g|), with
    the uncut distance (the paper's eq. (1), alpha = 2)."""
    best = math.inf
    for choice in itertools.product(range(-1, len(Y)), repeat=len(X)):
        used = [j for j in choice if j >= 0]
        if len(used) != len(set(used)):
            continue
        cost = sum(float(np.linalg.norm(X[i] - Y[j])) ** p for i, j in enumerate(choice) if j >= 0)
        best = min(best, cost + c**p / 2 * (len(X) + len(Y) - 2 * len(used)))
    return best


def brute_ospa(X: np.ndarray, Y: np.ndarray, c: float, p: float) -> float:
    """Schuhmacher et al. 2008: the smaller set assigned into the larger, every way."""
    if len(X) > len(Y):
        X, Y = Y, X
    m, n = len(X), len(Y)
    if n == 0:
        return 0.0
    best = math.inf
    for perm in itertools.permutations(range(n), m):
        s = sum(min(float(np.linalg.norm(X[i] - Y[j])), c) ** p for i, j in enumerate(perm))
        best = min(best, s)
    return ((best + c**p * (n - m)) / n) ** (1 / p)


coord = st.floats(-30.0, 30.0, allow_nan=False, allow_infinity=False)
point_sets = st.lists(st.tuples(coord, coord), min_size=0, max_size=4).map(lambda v: np.array(v, dtype=float).reshape(-1, 2))


@HYPOTHESIS
@given(point_sets, point_sets, st.sampled_from([3.0, 10.0, 40.0]), st.sampled_from([1.0, 2.0, 3.0]))
def test_gospa_equals_the_brute_force_minimum(X, Y, c, p):
    g = gospa(X, Y, c=c, p=p)
    assert g.total**p == pytest.approx(brute_gospa_p(X, Y, c, p), rel=1e-9, abs=1e-9)
    # the parts add up and describe the assignment
    assert g.localisation + g.missed + g.false == pytest.approx(g.total**p, rel=1e-12, abs=1e-12)
    assert g.missed == pytest.approx(c**p / 2 * (len(X) - g.n_assigned))
    assert g.false == pytest.approx(c**p / 2 * (len(Y) - g.n_assigned))
    paired = [(i, j) for i, j in enumerate(g.assignment) if j >= 0]
    assert len(paired) == g.n_assigned
    assert len({j for _, j in paired}) == len(paired)
    d = [float(np.linalg.norm(X[i] - Y[j])) for i, j in paired]
    assert all(x < c for x in d)
    assert sum(x**p for x in d) == pytest.approx(g.localisation, rel=1e-12, abs=1e-12)
    assert gospa(Y, X, c=c, p=p).total == pytest.approx(g.total, rel=1e-12, abs=1e-12)


@HYPOTHESIS
@given(point_sets, point_sets, st.sampled_from([3.0, 10.0, 40.0]), st.sampled_from([1.0, 2.0]))
def test_ospa_equals_the_brute_force_minimum(X, Y, c, p):
    assert ospa(X, Y, c=c, p=p) == pytest.approx(brute_ospa(X, Y, c, p), rel=1e-9, abs=1e-9)


def test_ospa_hand_cases():
    assert ospa([], [], c=10.0, p=2) == 0.0
    assert ospa([[0.0, 0.0]], [], c=10.0, p=2) == pytest.approx(10.0)
    # one pair at 5 m, one extra estimate: ((25 + 100) / 2)^(1/2)
    assert ospa([[0.0, 0.0]], [[3.0, 4.0], [100.0, 0.0]], c=10.0, p=2) == pytest.approx(math.sqrt(62.5))


grid = st.tuples(st.integers(0, 4), st.integers(0, 4))
grid_sets = st.sets(grid, max_size=3).map(lambda s: np.array(sorted(s), dtype=float).reshape(-1, 2))


@HYPOTHESIS
@given(grid_sets, grid_sets, grid_sets, st.sampled_from([1.0, 2.5, 10.0]), st.sampled_from([1.0, 2.0, 3.0]))
def test_ospa_and_gospa_are_metrics(X, Y, Z, c, p):
    def ospa_d(a, b):
        return ospa(a, b, c=c, p=p)

    def gospa_d(a, b):
        return gospa(a, b, c=c, p=p).total

    for d in (ospa_d, gospa_d):
        same = {tuple(r) for r in X} == {tuple(r) for r in Y}
        assert d(X, Y) == pytest.approx(d(Y, X), rel=1e-12, abs=1e-12)
        assert d(X, X) == 0.0
        assert (d(X, Y) == 0.0) == same
        assert d(X, Z) <= d(X, Y) + d(Y, Z) + 1e-9


# --- scan_metrics on a constructed scenario ---------------------------------------------


def constructed_scenario():
    """Targets A, B (times 0..5) and C (time 3 only); c = 100 m, p = 2.

    t0: A-1 at 5 m (3-4-5), B-2 exact          t3: A-3 (new id after the gap), B-2, C-7 at 150 m
    t1: A-1, B-2, false track 9 far away       t4: A-3, B-4 (switch without a gap)
    t2: A missed, B-2                          t5: no tracks at all (everything missed)
    plus track 8 at t = 6, when there is no truth (not scored).
    """
    def A(t):
        return np.array([1000.0 + 10 * t, 0.0, 0.0])

    def B(t):
        return np.array([0.0, 2000.0 - 5 * t, 0.0])

    Cp = np.array([0.0, 0.0, 5000.0])
    truth = [(t, "A", A(t)) for t in range(6)] + [(t, "B", B(t)) for t in range(6)] + [(3, "C", Cp)]
    off = np.array([3.0, 4.0, 0.0])
    tracks = [
        (0, 1, A(0) + off), (0, 2, B(0)),
        (1, 1, A(1)), (1, 2, B(1)), (1, 9, np.array([9e4, 0.0, 0.0])),
        (2, 2, B(2)),
        (3, 3, A(3)), (3, 2, B(3)), (3, 7, Cp + [150.0, 0.0, 0.0]),
        (4, 3, A(4)), (4, 4, B(4)),
        (6, 8, A(6)),
    ]
    tt = np.array([r[0] for r in truth], float)
    ti = np.array([r[1] for r in truth])
    tp = np.array([r[2] for r in truth])
    kt = np.array([r[0] for r in tracks], float) + 1e-9  # within the 1e-6 s time key
    ki = np.array([r[1] for r in tracks])
    kp = np.array([r[2] for r in tracks])
    return tt, ti, tp, kt, ki, kp


def test_scan_metrics_counts_on_a_constructed_scenario():
    tt, ti, tp, kt, ki, kp = constructed_scenario()
    tv = np.zeros_like(tp)
    kv = np.zeros_like(kp)
    kv[0] = [3.0, 0.0, 0.0]  # A-1 at t0: 3 m/s off; every other pair exact
    res = scan_metrics(tt, ti, tp, kt, ki, kp, truth_vel=tv, track_vel=kv, c=100.0, p=2)
    s = res.summary
    half = 100.0**2 / 2
    per_scan = [math.sqrt(25.0), math.sqrt(half), math.sqrt(half), math.sqrt(2 * half), 0.0, math.sqrt(2 * half)]
    assert list(res.time_s) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert res.gospa_m == pytest.approx(per_scan, rel=REL)
    assert s.mean_gospa_m == pytest.approx(np.mean(per_scan), rel=REL)
    assert list(res.n_truth) == [2, 2, 2, 3, 2, 2]
    assert list(res.n_tracks) == [2, 3, 1, 3, 2, 0]
    assert list(res.n_assigned) == [2, 2, 1, 2, 2, 0]
    assert s.missed_target_scans == 1 + 1 + 2  # A at t2, C at t3, A and B at t5
    assert s.false_track_scans == 1 + 1  # track 9 at t1, track 7 at t3
    assert s.id_switches == 2  # A: 1 -> 3, B: 2 -> 4
    assert s.track_breaks == 3  # A at t2, A and B at t5
    assert s.truth_scans == 6 and s.assigned_pairs == 9 and s.track_times_unscored == 1
    assert s.rms_position_m == pytest.approx(math.sqrt(25.0 / 9), rel=REL)
    assert s.rms_velocity_mps == pytest.approx(math.sqrt(9.0 / 9), rel=REL)
    assert s.mean_missed == pytest.approx(half * 4 / 6, rel=REL)
    assert s.mean_false == pytest.approx(half * 2 / 6, rel=REL)
    assert s.mean_localisation == pytest.approx(25.0 / 6, rel=REL)
    ospas = [math.sqrt(25 / 2), math.sqrt(1e4 / 3), math.sqrt(1e4 / 2), math.sqrt(1e4 / 3), 0.0, 100.0]
    assert s.mean_ospa_m == pytest.approx(np.mean(ospas), rel=REL)
    # pairs point back into the inputs
    assert np.all(ti[res.pair_truth] != "C")
    assert np.allclose(np.linalg.norm(tp[res.pair_truth] - kp[res.pair_track], axis=1), res.pair_distance_m)
    assert np.isnan(scan_metrics(tt, ti, tp, kt, ki, kp, c=100.0).summary.rms_velocity_mps)


def test_scan_metrics_ignore_row_order():
    tt, ti, tp, kt, ki, kp = constructed_scenario()
    ref = scan_metrics(tt, ti, tp, kt, ki, kp, c=100.0).summary
    rng = np.random.default_rng(3)
    a, b = rng.permutation(len(tt)), rng.permutation(len(kt))
    got = scan_metrics(tt[a], ti[a], tp[a], kt[b], ki[b], kp[b], c=100.0).summary
    for name in ("mean_gospa_m", "mean_ospa_m", "rms_position_m"):
        assert getattr(got, name) == pytest.approx(getattr(ref, name), rel=1e-12)
    for name in ("missed_target_scans", "false_track_scans", "id_switches", "track_breaks", "truth_scans"):
        assert getattr(got, name) == getattr(ref, name)


def test_scan_metrics_edge_cases():
    tt, ti, tp, kt, ki, kp = constructed_scenario()
    none = scan_metrics(tt, ti, tp, [], [], np.zeros((0, 3)), c=100.0).summary
    assert none.missed_target_scans == len(tt) and none.false_track_scans == 0 and none.id_switches == 0
    assert none.mean_gospa_m == pytest.approx(np.mean([math.sqrt(n * 1e4 / 2) for n in (2, 2, 2, 3, 2, 2)]))
    assert math.isnan(none.rms_position_m)
    empty = scan_metrics([], [], np.zeros((0, 3)), kt, ki, kp).summary
    assert empty.truth_scans == 0 and math.isnan(empty.mean_gospa_m)
    with pytest.raises(ValueError, match="more than once"):
        scan_metrics([0.0, 0.0], ["A", "A"], np.zeros((2, 3)), [], [], np.zeros((0, 3)))


# --- NEES ------------------------------------------------------------------------------


def test_nees_of_exact_gaussian_errors_has_mean_k():
    rng = np.random.default_rng(11)
    k, n = 3, 4000
    A = rng.normal(size=(n, k, k))
    P = A @ np.swapaxes(A, 1, 2) + 0.1 * np.eye(k)  # random SPD covariances
    err = (np.linalg.cholesky(P) @ rng.normal(size=(n, k, 1)))[..., 0]
    e = nees(err, P)
    assert e.shape == (n,)
    lo, hi = chi2_interval(k, n, 0.999)
    assert lo < anees(err, P) < hi
    assert lo < float(np.mean(e)) < hi
    # per-time ANEES over runs: (runs, times, k)
    per_time = anees(err.reshape(100, 40, k), P.reshape(100, 40, k, k), axis=0)
    assert per_time.shape == (40,)


def test_nees_against_the_explicit_inverse():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(5, 4, 4))
    P = A @ np.swapaxes(A, 1, 2) + np.eye(4)
    err = rng.normal(size=(5, 4))
    ref = np.einsum("ni,nij,nj->n", err, np.linalg.inv(P), err)
    assert nees(err, P) == pytest.approx(ref, rel=1e-10)
    assert nees([1.0, 2.0], np.diag([4.0, 1.0])) == pytest.approx(0.25 + 4.0)
    assert nees(np.ones((3, 2)), np.eye(2)) == pytest.approx([2.0, 2.0, 2.0])  # one P for all
    with pytest.raises(ValueError, match="positive definite"):
        nees([1.0, 1.0], [[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize("k,n,conf", [(1, 1, 0.95), (3, 50, 0.95), (6, 100, 0.99), (2, 7, 0.9)])
def test_chi2_interval_matches_scipy(k, n, conf):
    lo, hi = chi2_interval(k, n, conf)
    a = (1 - conf) / 2
    assert lo == pytest.approx(chi2.ppf(a, k * n) / n, rel=1e-12)
    assert hi == pytest.approx(chi2.ppf(1 - a, k * n) / n, rel=1e-12)
    with pytest.raises(ValueError):
        chi2_interval(k, 0)


# --- the command ---------------------------------------------------------------------------


def cli(*args: str):
    return invoke("metrics", *args)


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([[repr(float(x)) if isinstance(x, float | np.floating) else x for x in r] for r in rows])
    return path


def reference_score(truth_path: Path, tracks_path: Path, c: float = 1000.0, p: float = 2.0) -> dict:
    """The shared benchmark scorer's definition, written out independently."""

    def load(path, id_col):
        scans = {}
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            t = round(float(r["time_s"]), 6)
            x, y, z = TO_ECEF.transform(float(r["lon_deg"]), float(r["lat_deg"]), float(r["alt_m"]))
            scans.setdefault(t, []).append((r[id_col], (x, y, z)))
        return {t: ([a for a, _ in v], np.array([b for _, b in v])) for t, v in scans.items()}

    truth, tracks = load(truth_path, "target_id"), load(tracks_path, "track_id")
    gospas, sq, npairs, missed, false, switches, last = [], 0.0, 0, 0, 0, 0, {}
    for t in sorted(truth):
        tid, X = truth[t]
        kid, Y = tracks.get(t, ([], np.zeros((0, 3))))
        loc, n = 0.0, 0
        if len(Y):
            D = np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=2))
            r, k = linear_sum_assignment(np.minimum(D, c) ** p)
            ok = D[r, k] < c
            loc, n = float((D[r, k][ok] ** p).sum()), int(ok.sum())
            sq += float((D[r, k][ok] ** 2).sum())
            npairs += n
            for i, j in zip(r[ok], k[ok]):
                if tid[i] in last and last[tid[i]] != kid[j]:
                    switches += 1
                last[tid[i]] = kid[j]
        missed += len(X) - n
        false += len(Y) - n
        gospas.append((loc + c**p / 2 * (len(X) - n + len(Y) - n)) ** (1 / p))
    return {"mean_gospa_m": float(np.mean(gospas)), "rms_position_m": (sq / npairs) ** 0.5 if npairs else None,
            "missed_target_scans": missed, "false_track_scans": false, "id_switches": switches,
            "truth_scans": len(gospas)}


def enu_frame(lat0, lon0):
    """Rows east, north, up (ECEF unit vectors) at a geodetic point, written out here."""
    la, lo = math.radians(lat0), math.radians(lon0)
    return np.array([
        [-math.sin(lo), math.cos(lo), 0.0],
        [-math.sin(la) * math.cos(lo), -math.sin(la) * math.sin(lo), math.cos(la)],
        [math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)],
    ])


def random_files(tmp: Path, seed: int) -> tuple[Path, Path, dict]:
    """Targets flying in the ENU frame of a radar near Malatya; tracks with noise,
    drop-outs, swapped ids, false tracks, far-off estimates and unscored times."""
    rng = np.random.default_rng(seed)
    lat0, lon0, h0 = 38.35, 37.79, 2000.0
    R = enu_frame(lat0, lon0)
    r0 = np.array(TO_ECEF.transform(lon0, lat0, h0))
    n_tg, n_t = 6, 25
    p0 = rng.uniform([-60e3, -60e3, 1e3], [60e3, 60e3, 10e3], size=(n_tg, 3))
    v = rng.uniform([-250, -250, -5], [250, 250, 5], size=(n_tg, 3))
    truth_rows, track_rows, true_vel = [], [], {}
    track_of = list(range(1, n_tg + 1))
    next_id = 100
    for s in range(n_t):
        t = 2.0 * s
        for i in range(n_tg):
            if (i == 0 and s > 20) or (i == 1 and s < 3):
                continue  # target 0 ends early, target 1 starts late
            enu = p0[i] + v[i] * t
            ecef = r0 + enu @ R
            lon, lat, alt = TO_GEODETIC.transform(*ecef)
            truth_rows.append([t, f"T{i}", lat, lon, alt, *enu, *v[i]])
            true_vel[(round(t, 6), f"T{i}")] = v[i] @ R
            if rng.random() < 0.12:
                continue  # no track for this target now
            if rng.random() < 0.05:
                track_of[i] = next_id  # a new track id
                next_id += 1
            noise = rng.normal(0.0, 60.0, 3) if rng.random() > 0.05 else rng.normal(0.0, 3000.0, 3)
            lon_k, lat_k, alt_k = TO_GEODETIC.transform(*(ecef + noise))
            v_ecef = v[i] @ R + rng.normal(0.0, 5.0, 3)
            v_local = enu_frame(lat_k, lon_k) @ v_ecef
            track_rows.append([t + 1e-8, track_of[i], lat_k, lon_k, alt_k, *v_local])
        for _ in range(rng.poisson(0.7)):  # false tracks
            enu = rng.uniform([-80e3, -80e3, 0.0], [80e3, 80e3, 12e3])
            lon, lat, alt = TO_GEODETIC.transform(*(r0 + enu @ R))
            track_rows.append([t, next_id, lat, lon, alt, 0.0, 0.0, 0.0])
            next_id += 1
    track_rows.append([1.0, 999, lat0, lon0, 5000.0, 0.0, 0.0, 0.0])  # no truth at 1 s: not scored
    rng.shuffle(track_rows)
    truth = write_csv(tmp / "truth.csv", ["time_s", "target_id", "lat_deg", "lon_deg", "alt_m", "east_m", "north_m",
                                          "up_m", "v_east_mps", "v_north_mps", "v_up_mps"], truth_rows)
    tracks = write_csv(tmp / "tracks.csv", ["time_s", "track_id", "lat_deg", "lon_deg", "alt_m", "v_east_mps",
                                            "v_north_mps", "v_up_mps"], track_rows)
    return truth, tracks, true_vel


@pytest.mark.parametrize("seed", [1, 2])
def test_cli_matches_an_independent_scorer(tmp_path, seed):
    import json

    truth, tracks, _ = random_files(tmp_path, seed)
    ref = reference_score(truth, tracks)
    code, out, err, exc = cli("--truth", str(truth), "--tracks", str(tracks), "--json")
    assert code == 0, out + err + repr(exc)
    got = json.loads(out)
    assert got["mean_gospa_m"] == pytest.approx(ref["mean_gospa_m"], rel=1e-9)
    assert got["rms_position_m"] == pytest.approx(ref["rms_position_m"], rel=1e-9)
    for key in ("missed_target_scans", "false_track_scans", "id_switches", "truth_scans"):
        assert got[key] == ref[key], key
    assert ref["missed_target_scans"] > 0 and ref["false_track_scans"] > 0 and ref["id_switches"] > 0
    assert got["track_times_unscored"] == 1
    assert got["truth_velocity_frame"] == "fixed-enu" and got["tracks_velocity_frame"] == "local-enu"
    # the table tells the same story
    code, out, err, _ = cli("--truth", str(truth), "--tracks", str(tracks))
    assert code == 0, err
    assert f"{ref['mean_gospa_m']:,.3f}" in out and "id switches" in out and "track breaks" in out


def test_cli_velocity_error_in_the_right_frames(tmp_path):
    """Tracks carrying the exact truth velocity (local ENU) against truth velocities in
    the radar's fixed ENU frame: the RMS velocity error is zero, not the rotation between
    the two frames (about 1.5 % of the speed here)."""
    import json

    rng = np.random.default_rng(4)
    lat0, lon0, h0 = 38.35, 37.79, 2000.0
    R, r0 = enu_frame(lat0, lon0), np.array(TO_ECEF.transform(lon0, lat0, h0))
    truth_rows, track_rows = [], []
    for i in range(5):
        enu = rng.uniform([-150e3, -150e3, 1e3], [150e3, 150e3, 10e3])
        v_enu = rng.uniform(-300, 300, 3)
        lon, lat, alt = TO_GEODETIC.transform(*(r0 + enu @ R))
        truth_rows.append([0.0, f"T{i}", lat, lon, alt, *enu, *v_enu])
        track_rows.append([0.0, i, lat, lon, alt, *(enu_frame(lat, lon) @ (v_enu @ R))])
    truth = write_csv(tmp_path / "truth.csv", ["time_s", "target_id", "lat_deg", "lon_deg", "alt_m", "east_m", "north_m",
                                               "up_m", "v_east_mps", "v_north_mps", "v_up_mps"], truth_rows)
    tracks = write_csv(tmp_path / "tracks.csv", ["time_s", "track_id", "lat_deg", "lon_deg", "alt_m", "v_east_mps",
                                                 "v_north_mps", "v_up_mps"], track_rows)
    code, out, err, _ = cli("--truth", str(truth), "--tracks", str(tracks), "--json")
    assert code == 0, err
    assert json.loads(out)["rms_velocity_mps"] < 1e-6
    # ECEF truth velocities (the columns `hoplon run --export-measurements` writes)
    ecef_rows = [[r[0], r[1], r[2], r[3], r[4], *(np.array(r[8:11]) @ R)] for r in truth_rows]
    truth2 = write_csv(tmp_path / "truth2.csv", ["time_s", "target_id", "lat_deg", "lon_deg", "alt_m", "vx_mps",
                                                 "vy_mps", "vz_mps"], ecef_rows)
    code, out, err, _ = cli("--truth", str(truth2), "--tracks", str(tracks), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["rms_velocity_mps"] < 1e-6 and got["truth_velocity_frame"] == "ecef"
    # east/north/up that no fixed frame explains: a located error
    truth_rows[2][5] += 500.0
    bad = write_csv(tmp_path / "bad.csv", ["time_s", "target_id", "lat_deg", "lon_deg", "alt_m", "east_m", "north_m",
                                           "up_m", "v_east_mps", "v_north_mps", "v_up_mps"], truth_rows)
    assert_clean_error(*cli("--truth", str(bad), "--tracks", str(tracks)), f"{bad}:", "east_m", "fixed ENU")


TRUTH_HEADER = ["time_s", "target_id", "lat_deg", "lon_deg", "alt_m"]
TRACKS_HEADER = ["time_s", "track_id", "lat_deg", "lon_deg", "alt_m"]


def small_truth(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "truth.csv", TRUTH_HEADER,
                     [[0.0, "a", 38.0, 37.0, 1000.0], [0.0, "b", 38.1, 37.0, 1000.0], [1.0, "a", 38.0, 37.001, 1000.0]])


def test_cli_empty_tracks_means_every_target_missed(tmp_path):
    import json

    truth = small_truth(tmp_path)
    header_only = write_csv(tmp_path / "tracks.csv", TRACKS_HEADER, [])
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    for tracks in (header_only, blank):
        code, out, err, _ = cli("--truth", str(truth), "--tracks", str(tracks), "--json", "--c", "100")
        assert code == 0, err
        got = json.loads(out)
        assert got["missed_target_scans"] == 3 and got["false_track_scans"] == 0 and got["truth_scans"] == 2
        assert got["mean_gospa_m"] == pytest.approx((math.sqrt(2 * 1e4 / 2) + math.sqrt(1e4 / 2)) / 2, rel=REL)
        assert got["rms_position_m"] is None and got["rms_velocity_mps"] is None
    code, out, err, _ = cli("--truth", str(truth), "--tracks", str(header_only))
    assert code == 0 and "missed-target scans" in out


def test_cli_errors_name_file_line_and_field(tmp_path):
    truth = small_truth(tmp_path)
    tracks = write_csv(tmp_path / "tracks.csv", TRACKS_HEADER, [[0.0, 1, 38.0, 37.0, 1000.0]])
    # a missing column
    no_id = write_csv(tmp_path / "no_id.csv", ["time_s", "lat_deg", "lon_deg", "alt_m"], [[0.0, 38.0, 37.0, 1.0]])
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(no_id)), f"{no_id}:1: track_id: missing column")
    # a bad number, on line 3
    bad = write_csv(tmp_path / "bad.csv", TRUTH_HEADER, [[0.0, "a", 38.0, 37.0, 1.0], [1.0, "a", "north", 37.0, 1.0]])
    assert_clean_error(*cli("--truth", str(bad), "--tracks", str(tracks)), f"{bad}:3: lat_deg: expected a number, got 'north'")
    out_of_range = write_csv(tmp_path / "range.csv", TRUTH_HEADER, [[0.0, "a", 95.0, 37.0, 1.0]])
    assert_clean_error(*cli("--truth", str(out_of_range), "--tracks", str(tracks)), f"{out_of_range}:2: lat_deg: must lie in")
    nan = write_csv(tmp_path / "nan.csv", TRACKS_HEADER, [[0.0, 1, 38.0, 37.0, "nan"]])
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(nan)), f"{nan}:2: alt_m: expected a finite number")
    # a target twice at one time
    twice = write_csv(tmp_path / "twice.csv", TRUTH_HEADER, [[0.0, "a", 38.0, 37.0, 1.0], [0.0000001, "a", 38.0, 37.0, 1.0]])
    assert_clean_error(*cli("--truth", str(twice), "--tracks", str(tracks)), f"{twice}:3: target_id:", "also line 2")
    # a short row, a half velocity group
    short = tmp_path / "short.csv"
    short.write_text(",".join(TRACKS_HEADER) + "\n0.0,1,38.0\n")
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(short)), f"{short}:2:", "expected 5 columns")
    half = write_csv(tmp_path / "half.csv", [*TRACKS_HEADER, "v_east_mps"], [[0.0, 1, 38.0, 37.0, 1.0, 3.0]])
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(half)), f"{half}:1: v_north_mps: missing column")
    # files that are not there, or hold nothing to score
    missing = tmp_path / "nope.csv"
    assert_clean_error(*cli("--truth", str(missing), "--tracks", str(tracks)), f"{missing}: --truth: no such file")
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(missing)), f"{missing}: --tracks: no such file")
    empty_truth = write_csv(tmp_path / "empty_truth.csv", TRUTH_HEADER, [])
    assert_clean_error(*cli("--truth", str(empty_truth), "--tracks", str(tracks)), f"{empty_truth}: no rows")
    # option values
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(tracks), "--c", "0"), "--c: must be")
    assert_clean_error(*cli("--truth", str(truth), "--tracks", str(tracks), "--p", "0.5"), "--p: must be")
