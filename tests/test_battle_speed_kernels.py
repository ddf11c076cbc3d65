"""The battle manager's fused compiled steps give the bits of the public functions they
stand for: the lazy engagement windows those of engagement_windows, the evaluation's
kernel those of predict_impact, asset_hit_probability, drag_estimate and numpy's
argmax, and the shots those of their numpy formulation (np.add.at, np.argwhere,
frames.ecef_to_geodetic)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import hoplon.sim.battle as battle
from hoplon.core.earth import WGS84, earth_model
from hoplon.core.engagement import (
    HEIGHT_BOUND_MARGIN_M,
    FlyoutParameters,
    _flyout_table,
    _height_bounds_decide,
    _windows,
    engagement_windows,
)
from hoplon.core.frames import ecef_to_geodetic, ecef_to_height, geodetic_to_ecef
from hoplon.core.threat import (
    _PREDICTION_TOL,
    _UNIT_NORMALS,
    _UNIT_NORMALS_MAX,
    CLASS_BALLISTIC,
    asset_hit_probability,
    drag_estimate,
    predict_impact,
)
from hoplon.core.wta import _numpy_sum

_PARAMS = FlyoutParameters(*(np.asarray(v, float) for v in (
    [1700.0, 2800.0], [6.0, 15.0], [30.0, 150.0], [60.0, 120.0], [3e3, 20e3], [40e3, 200e3], [50.0, 40e3],
    [25e3, 150e3], [5.0, 8.0])))


def _paths(rng, n_threats=5, n_samples=80):
    """Random descending paths around two batteries (absolute times, ECEF, heights)."""
    times = 1000.0 + np.arange(n_samples)[None, :] * 2.0 + rng.uniform(0, 1, (n_threats, 1))
    lat = 37.0 + rng.uniform(-1.5, 1.5, (n_threats, 1)) + np.linspace(0, 0.5, n_samples)[None, :]
    lon = 35.5 + rng.uniform(-1.0, 2.0, (n_threats, 1)) - np.linspace(0, 1.0, n_samples)[None, :]
    alt = np.clip(rng.uniform(0, 160e3, (n_threats, 1)) - np.linspace(0, 150e3, n_samples)[None, :], 0, None)
    pos = np.asarray(geodetic_to_ecef(lat.ravel(), lon.ravel(), alt.ravel())).reshape(n_threats, n_samples, 3)
    times[1, rng.integers(10, n_samples):] = np.nan  # a short path
    pos[np.isnan(times)] = np.nan
    return times, pos


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(990.0, 1100.0))
def test_lazy_windows_are_engagement_windows_where_they_matter(seed, now):
    rng = np.random.default_rng(seed)
    batteries = np.atleast_2d(geodetic_to_ecef(np.array([37.0, 37.5]), np.array([35.4, 36.5]), np.array([70.0, 500.0])))
    times, pos = _paths(rng)
    not_before = np.where(rng.random(times.shape[0]) < 0.3, now + rng.uniform(0, 60, times.shape[0]), -np.inf)
    full = engagement_windows(batteries, _PARAMS, times, pos, ecef_to_height(pos), now, not_before)
    model = earth_model("wgs84")
    lazy = _windows(batteries, times, pos, np.full(times.shape, np.nan), np.maximum(now, not_before),
                    _flyout_table(_PARAMS, 2), True, model.a_m, model.e2, model.is_sphere)
    ok, launch, fly, first, last, open_s, close_s = lazy
    np.testing.assert_array_equal(ok, full.feasible)
    for got, want in ((first, full.first), (last, full.last), (open_s, full.open_s), (close_s, full.close_s)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(launch[ok], full.launch_time_s[ok])
    np.testing.assert_array_equal(fly[ok], full.flight_time_s[ok])



@settings(max_examples=200, deadline=None)
@given(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0), st.floats(-1e3, 3e6), st.floats(-1e3, 1e6),
       st.floats(0.0, 1e6))
def test_height_bounds_hold_and_decide_as_the_height(lat, lon, alt, lo, width):
    """A point's height above the ellipsoid lies between its distance from the centre
    less the equatorial radius and less the polar radius (the ellipsoid lies between the
    spheres of those radii); where the bounds decide whether it lies in [lo, hi], they
    decide as the exact height does."""
    model = earth_model("wgs84")
    polar = model.a_m * math.sqrt(1.0 - model.e2)
    r = np.asarray(geodetic_to_ecef(lat, lon, alt), float)
    h = float(ecef_to_height(r))
    distance = float(np.sqrt(r @ r))
    assert distance - model.a_m - 1e-6 * HEIGHT_BOUND_MARGIN_M <= h <= distance - polar + 1e-6 * HEIGHT_BOUND_MARGIN_M
    decided = _height_bounds_decide(r[0], r[1], r[2], model.a_m, polar, lo, lo + width)
    if decided >= 0:
        assert decided == (lo <= h <= lo + width)

def test_evaluation_kernel_gives_the_public_predictions_bits():
    rng = np.random.default_rng(5)
    n = 12
    r = geodetic_to_ecef(rng.uniform(36.0, 39.0, n), rng.uniform(33.0, 38.0, n), rng.uniform(2e3, 150e3, n))
    v = rng.normal(size=(n, 3)) * 400.0
    v[: n // 2] += (np.asarray(geodetic_to_ecef(37.0, 36.0, 0.0)) - r[: n // 2]) / 300.0  # falling toward the assets
    v[-3:] = rng.normal(size=(3, 3)) * 60.0  # slow and low: air-breathing
    r[-3:] = geodetic_to_ecef(rng.uniform(36.5, 37.5, 3), rng.uniform(35.5, 36.5, 3), np.full(3, 500.0))
    x = np.concatenate([r, v], axis=1)
    cov = np.zeros((n, 6, 6))
    cov[:, :3, :3] = np.eye(3) * 200.0**2
    cov[:, 3:, 3:] = np.eye(3) * rng.choice([10.0**2, 400.0**2], n)[:, None, None]  # some too vague to predict
    inv_beta = np.where(rng.random(n) < 0.5, rng.uniform(1e-4, 2e-3, n), np.nan)
    inv_beta_cov = np.zeros((n, 7))
    inv_beta_cov[:, 6] = rng.uniform(1e-9, 1e-6, n)
    time_s = 500.0 + rng.uniform(0, 5, n)
    lat_a, lon_a = np.array([37.0, 36.8, 37.3]), np.array([36.0, 35.7, 36.4])
    radius, value = np.array([20e3, 8e3, 30e3]), np.array([100.0, 40.0, 70.0])
    asset_ecef = np.atleast_2d(geodetic_to_ecef(lat_a, lon_a, np.zeros(3)))
    prior = (1e-3, 3e-4)
    cls, kind, ball, impact, probs, top, drag, flights, failure = battle._evaluate_arrays(
        time_s, x, cov, inv_beta, inv_beta_cov, *prior, earth_model("wgs84").params(), _PREDICTION_TOL, lat_a, lon_a,
        radius, asset_ecef, value, _UNIT_NORMALS, _UNIT_NORMALS_MAX, WGS84.a_m, WGS84.e2)
    assert failure == 0
    want_cls, want_kind, predictable = battle._kinematics(x, cov)
    np.testing.assert_array_equal(cls, want_cls)
    np.testing.assert_array_equal(kind, want_kind)
    np.testing.assert_array_equal(ball, np.flatnonzero(predictable))
    assert 0 < ball.size < (cls == CLASS_BALLISTIC).sum() and (cls != CLASS_BALLISTIC).any()
    pred = predict_impact(x[ball], cov[ball], inv_beta=inv_beta[ball], inv_beta_cov=inv_beta_cov[ball],
                          inv_beta_prior=prior, max_time_s=battle.PREDICT_MAX_TIME_S, path_step_s=battle.PATH_STEP_S)
    assert pred.valid.any()
    fields = [time_s[ball] + pred.time_s, pred.time_sigma_s, pred.lat_deg, pred.lon_deg, pred.semi_major_m,
              pred.semi_minor_m, pred.major_azimuth_deg]
    want = np.full((7, n), np.nan)
    want[:, ball[pred.valid]] = np.array(fields)[:, pred.valid]
    assert want.tobytes() == impact.tobytes()
    want_probs = np.zeros((n, 3))
    want_probs[ball] = asset_hit_probability(pred, lat_a, lon_a, radius)
    air = np.flatnonzero(cls != CLASS_BALLISTIC)
    want_probs[air] = battle._air_threat(x[air], asset_ecef, radius)
    assert want_probs.tobytes() == probs.tobytes() and probs.any()
    hit = probs.max(axis=1) > 0
    np.testing.assert_array_equal(top, np.where(hit, np.argmax(probs * value, axis=1), -1))
    unflown = (cls == CLASS_BALLISTIC) & ~predictable
    want_drag = np.zeros(n)
    want_drag[unflown] = drag_estimate(inv_beta[unflown], inv_beta_cov[unflown], prior)
    assert want_drag.tobytes() == drag.tobytes()
    for got, want_a in zip(flights, pred.path[:4], strict=True):
        assert got.tobytes() == want_a.tobytes()


def test_shots_give_the_numpy_formulations_bits():
    rng = np.random.default_rng(2)
    n_b, n_j, n_k = 3, 5, 40
    times, pos = _paths(rng, n_j, n_k)
    feasible = rng.random((n_b, n_j, n_k)) < 0.4
    launch = times[None] - rng.uniform(20.0, 200.0, (n_b, n_j, n_k))
    first = np.where(feasible.any(axis=2), np.argmax(feasible, axis=2), -1)
    assess = np.array([10.0, 30.0, 5.0])
    reach = np.argwhere(first.T >= 0)  # (threat, battery) pairs with a window
    weapon = rng.integers(0, n_b, 30)
    assignment = np.array([j if (j, b) in set(map(tuple, reach.tolist())) else n_j for j, b in
                           zip(rng.integers(0, n_j, 30), weapon)])
    assignment[:4] = n_j  # held back
    model = earth_model("wgs84")
    j_, i_, count, k_, later, lat, lon, alt = battle._shots(assignment, weapon, first, feasible, launch, times, pos,
                                                            assess, model.a_m, model.e2, model.is_sphere)
    rounds = np.zeros((n_j + 1, n_b), np.int64)
    np.add.at(rounds, (assignment, weapon), 1)
    shots = np.argwhere(rounds[:-1] > 0)
    assert shots.size
    np.testing.assert_array_equal(j_, shots[:, 0])
    np.testing.assert_array_equal(i_, shots[:, 1])
    np.testing.assert_array_equal(count, rounds[shots[:, 0], shots[:, 1]])
    k = first[shots[:, 1], shots[:, 0]]
    np.testing.assert_array_equal(k_, k)
    for m, (j, i) in enumerate(shots.tolist()):
        t_int = float(times[j, k[m]])
        assert later[m] == bool((feasible[i, j] & (launch[i, j] >= t_int + assess[i])).any())
    assert later.any() and not later.all()
    geo = ecef_to_geodetic(pos[shots[:, 0], k])
    for got, want in ((lat, geo.lat_deg), (lon, geo.lon_deg), (alt, geo.alt_m)):
        assert np.asarray(want, float).tobytes() == got.tobytes()
    assert math.isfinite(lat.sum())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-1e12, 1e12) | st.sampled_from([0.0, -0.0]), min_size=0, max_size=700),
       st.integers(-12, 12))
def test_wta_objective_sums_as_numpy(xs, exponent):
    """The compiled objective's sum has numpy's bits (its pairwise summation: left to right
    under 8 elements, 8 partial sums up to 128, halves beyond; zero signs included)."""
    x = np.asarray(xs, float) * 10.0**exponent
    assert np.float64(_numpy_sum(x)).tobytes() == np.sum(x).tobytes()
