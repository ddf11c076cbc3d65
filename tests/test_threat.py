"""Threat evaluation (core.threat): impact prediction, asset hit probability, launch point
estimation, classification.

Oracles: a Monte Carlo of the same flights (sampling the state distribution, not the
unscented transform), the Rayleigh and Rice (non-central chi-square, scipy) distributions
of a circular Gaussian over a disc, exact time reversal of a free flight, and the true
impact points of `anatolia` runs (calibration).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2, ncx2

from hoplon.core.ballistic import propagate, propagate_to_impact, sample_flight
from hoplon.core.frames import ecef_to_geodetic, enu_rotation, geodesic_inverse, geodetic_to_ecef
from hoplon.core.threat import (
    CLASS_AIR_BREATHING,
    CLASS_BALLISTIC,
    GroundPrediction,
    _jittered_cholesky,
    asset_hit_probability,
    classify_kinematics,
    drag_estimate,
    drag_prior,
    estimate_launch_point,
    predict_impact,
    threat_values,
)


def _east_north_of(impacts, pred):
    """East/north (M, 2), m, of sampled impacts from the first predicted impact point
    (geodesic distance and azimuth, geographiclib)."""
    d = geodesic_inverse(pred.lat_deg[0], pred.lon_deg[0], impacts.lat_deg, impacts.lon_deg)
    az = np.radians(d.azimuth1_deg)
    return np.column_stack([d.distance_m * np.sin(az), d.distance_m * np.cos(az)])


def _assert_matches_samples(pred, imp, *, mean: float, cov: tuple[float, float], time_mean: float,
                            time_sigma: float) -> None:
    """The first prediction of ``pred`` against the sampled impacts ``imp``: its mean
    within ``mean`` of the samples' spread, the trace of its covariance within ``cov``
    (low, high factors) of theirs, 93-98 % of them inside its 95 % ellipse, its impact
    time within ``time_mean`` of their time spread and its time sigma within a relative
    ``time_sigma`` of that spread."""
    en = _east_north_of(imp, pred)
    mc_cov = np.cov(en.T)
    assert np.linalg.norm(en.mean(axis=0)) < mean * math.sqrt(np.trace(mc_cov))
    assert cov[0] * np.trace(mc_cov) <= np.trace(pred.cov_en_m2[0]) <= cov[1] * np.trace(mc_cov)
    m2 = np.einsum("ni,ij,nj->n", en, np.linalg.inv(pred.cov_en_m2[0]), en)
    assert 0.93 <= np.mean(m2 <= chi2.ppf(0.95, 2)) <= 0.98  # about 95 % inside the 95 % ellipse
    t_sigma = float(np.std(imp.time_s))
    assert abs(pred.time_s[0] - np.mean(imp.time_s)) < time_mean * t_sigma
    assert pred.time_sigma_s[0] == pytest.approx(t_sigma, rel=time_sigma)


def midcourse_state(lat=35.0, lon=45.0, az_deg=280.0, speed=2500.0, gamma_deg=40.0, fly_s=150.0, beta=np.inf):
    """A ground launch (no boost) flown ``fly_s`` seconds: its state, and the launch point."""
    r0 = geodetic_to_ecef(lat, lon, 0.0)
    R = enu_rotation(lat, lon)
    g, a = math.radians(gamma_deg), math.radians(az_deg)
    v_enu = speed * np.array([math.cos(g) * math.sin(a), math.cos(g) * math.cos(a), math.sin(g)])
    v0 = R.T @ v_enu
    res = propagate(r0[None], v0[None], beta, fly_s)
    assert not res.impacted[0]
    return np.concatenate([res.r_ecef_m[0], res.v_ecef_mps[0]]), (lat, lon)


def test_impact_prediction_matches_a_monte_carlo_of_the_same_flights():
    x, _ = midcourse_state()
    P = np.diag([200.0**2] * 3 + [5.0**2] * 3)
    pred = predict_impact(x[None], P[None])
    assert pred.valid[0]
    rng = np.random.default_rng(1)
    samples = rng.multivariate_normal(x, P, size=4000)
    imp = propagate_to_impact(samples[:, :3], samples[:, 3:], np.inf)
    # the linearised mean within 15 % of the spread (the flight's second-order terms shift
    # the sampled mean a little), its covariance within -5 %/+20 % of the sampled one on
    # so long a flight
    _assert_matches_samples(pred, imp, mean=0.15, cov=(0.95, 1.2), time_mean=0.5, time_sigma=0.25)


def test_a_certain_state_predicts_the_propagator_impact():
    x, _ = midcourse_state(beta=5000.0, fly_s=60.0)
    pred = predict_impact(x[None], np.zeros((1, 6, 6)), inv_beta=np.array([1 / 5000.0]))
    imp = propagate_to_impact(x[None, :3], x[None, 3:], 5000.0)
    d = geodesic_inverse(pred.lat_deg[0], pred.lon_deg[0], imp.lat_deg[0], imp.lon_deg[0]).distance_m
    assert d < 1.0
    assert pred.time_s[0] == pytest.approx(imp.time_s[0], abs=1e-3)


def test_the_predicted_path_is_the_flight_of_the_mean_state():
    """``path``: the mean state (no cross-covariance with the drag: the track's own
    kinematics) flown with the drag it predicts with, sampled as sample_flight does."""
    x, _ = midcourse_state(fly_s=60.0)
    row = np.zeros(7)
    row[6] = 5e-3**2
    prior = drag_prior([5000.0, 8000.0])
    pred = predict_impact(x[None], np.diag([100.0**2] * 3 + [2.0**2] * 3)[None], inv_beta=np.array([2e-4]),
                          inv_beta_cov=row[None], inv_beta_prior=prior, path_step_s=2.0)
    drag = drag_estimate(np.array([2e-4]), row[None], prior)
    ref = sample_flight(x[None, :3], x[None, 3:], 1.0 / drag, step_s=2.0, rtol=1e-6)
    path = pred.path
    assert path.time_s[0] == 0.0 and path.time_s[-1] == pred.time_s[0]
    np.testing.assert_array_equal(path.r_ecef_m[-1], pred.r_ecef_m[0])
    np.testing.assert_array_equal(np.diff(path.time_s[:-1]), 2.0)
    np.testing.assert_array_equal(path.offsets, ref.offsets)
    np.testing.assert_allclose(path.r_ecef_m, ref.r_ecef_m, rtol=0, atol=1e-3)
    assert predict_impact(x[None], np.zeros((1, 6, 6))).path is None


@pytest.mark.parametrize(("beta", "fly_s"), [(np.inf, 200.0), (8000.0, 60.0)])
def test_launch_point_estimate_recovers_the_start_of_a_free_flight(beta, fly_s):
    """Time reversal: flying back from midcourse reaches the launch point (no boost here;
    with drag, back through the dense air the launch climbed through)."""
    x, (lat, lon) = midcourse_state(beta=beta, fly_s=fly_s)
    ib = None if not np.isfinite(beta) else np.array([1.0 / beta])
    est = estimate_launch_point(x[None], np.zeros((1, 6, 6)), inv_beta=ib)
    assert est.valid[0]
    d = geodesic_inverse(lat, lon, est.lat_deg[0], est.lon_deg[0]).distance_m
    assert d < 5.0
    assert est.time_s[0] == pytest.approx(fly_s, abs=0.05)


def _prediction(sigma_e, sigma_n, lat=37.0, lon=35.4, rho=0.0):
    cov = np.array([[sigma_e**2, rho * sigma_e * sigma_n], [rho * sigma_e * sigma_n, sigma_n**2]])
    r = geodetic_to_ecef(lat, lon, 0.0)
    one = np.ones(1)
    return GroundPrediction(one * 100.0, one, one * lat, one * lon, r[None], cov[None], one, one, one, np.array([True]))


def test_asset_probability_is_rayleigh_for_a_centred_circular_gaussian():
    sigma, radius = 1000.0, 1500.0
    p = asset_hit_probability(_prediction(sigma, sigma), [37.0], [35.4], [radius])
    assert p[0, 0] == pytest.approx(1.0 - math.exp(-radius**2 / (2 * sigma**2)), abs=3e-3)


def test_asset_probability_is_rice_for_an_offset_circular_gaussian():
    sigma, radius = 2000.0, 3000.0
    # an asset 4 km north of the predicted impact
    lat_asset = 37.0 + 4000.0 / 110_950.0
    d = geodesic_inverse(37.0, 35.4, lat_asset, 35.4).distance_m
    p = asset_hit_probability(_prediction(sigma, sigma), [lat_asset], [35.4], [radius])
    expected = ncx2.cdf((radius / sigma) ** 2, 2, (d / sigma) ** 2)
    assert p[0, 0] == pytest.approx(expected, abs=4e-3)
    assert threat_values(p, [80.0])[0] == pytest.approx(80.0 * p[0, 0])


def test_disc_probabilities_factor_the_covariance_as_lapack_does():
    """The kernel's 2 x 2 Cholesky factor of the jittered covariance is numpy's (LAPACK
    potrf) bit for bit, over scales from mm^2 to 1e12 m^2 and correlations up to 1 - 1e-12;
    a covariance that is not positive definite fails as numpy's does."""
    rng = np.random.default_rng(5)
    n = 20_000
    b = rng.normal(size=(n, 2, 2)) * 10.0 ** rng.uniform(-3.0, 6.0, (n, 1, 1))
    cov = b @ b.transpose(0, 2, 1)
    rho = rng.choice([-1.0, 1.0], n // 2) * (1.0 - 10.0 ** rng.uniform(-12.0, 0.0, n // 2))
    cov[::2, 0, 1] = cov[::2, 1, 0] = rho * np.sqrt(cov[::2, 0, 0] * cov[::2, 1, 1])
    jitter = 1e-9 * np.maximum(np.trace(cov, axis1=1, axis2=2), 1e-6)
    lapack = np.linalg.cholesky(cov + jitter[:, None, None] * np.eye(2))
    ours = np.array([_jittered_cholesky(c[0, 0], c[1, 0], c[1, 1]) for c in cov])
    assert ours[:, 3].all()
    np.testing.assert_array_equal(ours[:, :3], lapack[:, [0, 1, 1], [0, 0, 1]])
    indefinite = _prediction(1000.0, 1000.0)._replace(cov_en_m2=np.array([[[1e6, 2e6], [2e6, 1e6]]]))
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(indefinite.cov_en_m2)
    with pytest.raises(np.linalg.LinAlgError):
        asset_hit_probability(indefinite, [37.0], [35.4], [5000.0])


def test_invalid_predictions_threaten_nothing():
    pred = _prediction(100.0, 100.0)._replace(valid=np.array([False]))
    assert asset_hit_probability(pred, [37.0], [35.4], [5000.0])[0, 0] == 0.0
    # nor is an invalid prediction's covariance factored, nor any without assets: an
    # indefinite one raises nothing
    indefinite = pred._replace(cov_en_m2=np.array([[[1e6, 2e6], [2e6, 1e6]]]))
    assert asset_hit_probability(indefinite, [37.0], [35.4], [5000.0])[0, 0] == 0.0
    assert asset_hit_probability(indefinite._replace(valid=np.array([True])), [], [], []).shape == (1, 0)


def test_asset_latitudes_beyond_a_pole_are_refused():
    """Whether or not a prediction is valid (the assets are checked first)."""
    for valid in (True, False):
        pred = _prediction(100.0, 100.0)._replace(valid=np.array([valid]))
        with pytest.raises(ValueError, match=r"asset_lat_deg must lie in \[-90, 90\] degrees"):
            asset_hit_probability(pred, [37.0, 90.5], [35.4, 35.4], [5000.0, 5000.0])


def test_classification_from_kinematics():
    mrbm, _ = midcourse_state()
    r = geodetic_to_ecef(37.5, 40.0, 2000.0)
    R = enu_rotation(37.5, 40.0)
    drone = np.concatenate([r, R.T @ np.array([-50.0, 5.0, 0.0])])
    cruise = np.concatenate([geodetic_to_ecef(36.0, 38.0, 50.0), R.T @ np.array([-240.0, 0.0, 0.0])])
    assert classify_kinematics(np.stack([mrbm, drone, cruise])).tolist() == [CLASS_BALLISTIC, CLASS_AIR_BREATHING, CLASS_AIR_BREATHING]


def test_classification_thresholds_are_exact():
    """At the thresholds (speeds within an ulp of 900 m/s, heights within a metre of 30 km)
    the class is decided by numpy's norm of the velocity and frames' geodetic height."""
    rng = np.random.default_rng(9)
    n = 20_000
    lat, lon = rng.uniform(-80.0, 80.0, n), rng.uniform(-180.0, 180.0, n)
    r = geodetic_to_ecef(lat, lon, 30e3 + rng.uniform(-1.0, 1.0, n))
    v = rng.normal(size=(n, 3))
    v *= (900.0 / np.linalg.norm(v, axis=1))[:, None]  # 900 m/s, give or take an ulp
    state = np.concatenate([r, v], axis=1)
    speed = np.linalg.norm(state[:, 3:6], axis=1)
    height = ecef_to_geodetic(state[:, :3]).alt_m
    assert (speed > 900.0).any() and (speed <= 900.0).any() and (height > 30e3).any() and (height <= 30e3).any()
    expected = np.where((speed > 900.0) | (height > 30e3), CLASS_BALLISTIC, CLASS_AIR_BREATHING)
    np.testing.assert_array_equal(classify_kinematics(state), expected)


@pytest.mark.slow
def test_impact_prediction_is_calibrated_on_anatolia_tracks():
    """The true impact lies inside the 95 % ellipse in about 95 % of the predictions the
    battle manager made from the tracks of several seeds."""
    from hoplon.scenario.builtins import resolve_scenario
    from hoplon.sim.engine import run
    from hoplon.sim.world import compile_scenario

    inside: list[bool] = []
    launch_miss_km: list[float] = []
    for seed in range(3):
        # without batteries: every missile flies to its true impact, the quantity predicted
        sc = resolve_scenario("anatolia").model_copy(update={"seed": seed, "batteries": []})
        result = run(compile_scenario(sc))
        o = result.outcomes.to_pydict()
        truth = {o["object_id"][k]: (o["impact_lat_deg"][k], o["impact_lon_deg"][k]) for k in range(len(o["object_id"]))}
        ev = result.threat_evaluations.to_pydict()
        launches = {t.id: (t.launch.lat_deg, t.launch.lon_deg) for t in sc.threats.ballistic}
        for k in range(len(ev["time_s"])):
            oid = ev["object_id"][k]
            base = (oid or "").rsplit("-", 1)[0]
            if base in launches and "booster" not in oid and math.isfinite(ev["launch_lat_deg"][k]):
                launch_miss_km.append(geodesic_inverse(ev["launch_lat_deg"][k], ev["launch_lon_deg"][k], *launches[base]).distance_m / 1e3)
            if oid not in truth or not math.isfinite(ev["impact_lat_deg"][k]):
                continue
            a, b = ev["ellipse_semi_major_m"][k], ev["ellipse_semi_minor_m"][k]
            az = math.radians(ev["ellipse_major_azimuth_deg"][k])
            d = geodesic_inverse(ev["impact_lat_deg"][k], ev["impact_lon_deg"][k], *truth[oid])
            e = d.distance_m * math.sin(math.radians(d.azimuth1_deg))
            n = d.distance_m * math.cos(math.radians(d.azimuth1_deg))
            major = e * math.sin(az) + n * math.cos(az)
            minor = e * math.cos(az) - n * math.sin(az)
            inside.append((major / a) ** 2 + (minor / max(b, 1e-9)) ** 2 <= 1.0)
    assert len(inside) >= 300
    assert 0.90 <= float(np.mean(inside)) <= 0.99, np.mean(inside)
    # launch points: the free-flight arc meets the ground ~12 km down-range of the launcher
    # (the boost is not modelled); late re-entry states, slowed by drag, fly back farther
    assert len(launch_miss_km) >= 300
    assert 5.0 <= float(np.median(launch_miss_km)) <= 20.0
    assert np.mean(np.array(launch_miss_km) <= 25.0) >= 0.8


def test_prediction_tolerance_moves_the_ellipse_negligibly(monkeypatch):
    """The predictions' integrator tolerance against a tight tolerance (1e-10), on MRBM
    tracks in midcourse whose drag state is unobserved (the tracker's initial spread) or
    known, conditioned on the class prior of ballistic RVs as the battle manager does."""
    import hoplon.core.threat as threat

    states, covs, ib, ib_cov = [], [], [], []
    for k, (az, fly) in enumerate([(280.0, 150.0), (200.0, 180.0), (95.0, 120.0), (10.0, 200.0)]):
        x, _ = midcourse_state(az_deg=az, fly_s=fly)
        states.append(x)
        covs.append(np.diag([300.0**2] * 3 + [8.0**2] * 3))
        ib.append(2e-4)
        row = np.zeros(7)
        row[6] = (5e-3 if k % 2 == 0 else 5e-5) ** 2
        ib_cov.append(row)
    args = (np.array(states), np.array(covs))
    kw = {"inv_beta": np.array(ib), "inv_beta_cov": np.array(ib_cov), "inv_beta_prior": drag_prior([5000.0, 8000.0])}
    pred = predict_impact(*args, **kw)
    monkeypatch.setattr(threat, "PREDICTION_RTOL", 1e-10)
    ref = predict_impact(*args, **kw)
    assert pred.valid.all() and ref.valid.all()
    shift = np.linalg.norm(pred.r_ecef_m - ref.r_ecef_m, axis=1)
    assert np.all(shift < 1.0)  # metres (1e-3 moves them by up to 9 m)
    assert np.all(shift < 0.01 * ref.semi_minor_m)
    np.testing.assert_allclose(pred.semi_major_m, ref.semi_major_m, rtol=0.01)
    np.testing.assert_allclose(pred.semi_minor_m, ref.semi_minor_m, rtol=0.01)
    np.testing.assert_allclose(pred.time_s, ref.time_s, atol=0.005)


def test_asset_probabilities_of_many_tracks_and_assets_are_rice():
    """Every (track, asset) pair at once, near and far (a far asset: exactly 0)."""
    sigmas = [500.0, 2000.0, 8000.0]
    preds = [_prediction(s, s, lat=37.0 + 0.1 * k) for k, s in enumerate(sigmas)]
    fields = [f for f in GroundPrediction._fields if f != "path"]
    pred = GroundPrediction(*(np.concatenate([getattr(p, f) for p in preds]) for f in fields))
    asset_lat = np.array([37.0, 37.05, 37.2, 39.0])
    asset_lon = np.full(4, 35.4)
    radius = np.array([1000.0, 3000.0, 5000.0, 2000.0])
    p = asset_hit_probability(pred, asset_lat, asset_lon, radius)
    assert p.shape == (3, 4)
    for k, s in enumerate(sigmas):
        for j in range(4):
            d = geodesic_inverse(37.0 + 0.1 * k, 35.4, asset_lat[j], asset_lon[j]).distance_m
            expected = ncx2.cdf((radius[j] / s) ** 2, 2, (d / s) ** 2)
            assert p[k, j] == pytest.approx(expected, abs=4e-3)
    assert np.all(p[:, 3] == 0.0)


def test_drag_prior_is_the_uniform_over_the_class_betas():
    """Moments of 1/beta uniform on [1/(1.25 beta_max), 1.25/beta_min] (closed form)."""
    mean, sigma = drag_prior([5000.0, 8000.0, 6000.0, np.inf])
    lo, hi = 1.0 / 10_000.0, 1.0 / 4000.0
    assert mean == pytest.approx((lo + hi) / 2, rel=1e-12)
    assert sigma == pytest.approx((hi - lo) / math.sqrt(12.0), rel=1e-12)
    assert all(math.isnan(v) for v in drag_prior([]))


def test_drag_prior_conditions_the_drag_state_as_a_gaussian_product():
    """A consistent drag estimate fuses with the prior (precision-weighted mean, variance
    1/(1/P + 1/r)); no drag state takes the prior; an estimate the prior does not gate (a
    light spent booster) keeps its own."""
    m0, s0 = 1.75e-4, 4e-5
    ib = np.array([2e-4, np.nan, 1e-2, 2e-4])
    var = np.array([1e-4**2, np.nan, 1e-3**2, 2.0**2])
    rows = np.zeros((4, 7))
    rows[:, 6] = var
    got = drag_estimate(ib, rows, (m0, s0))
    fused = (ib[0] / var[0] + m0 / s0**2) / (1 / var[0] + 1 / s0**2)
    assert got[0] == pytest.approx(fused, rel=1e-9)
    assert got[1] == pytest.approx(m0, rel=1e-12)
    assert got[2] == pytest.approx(1e-2, rel=1e-12)
    assert got[3] == pytest.approx(m0, rel=1e-6)  # an unobserved state (sigma 2 m^2/kg): the prior


def test_impact_prediction_with_a_drag_prior_matches_a_monte_carlo_of_that_prior():
    """An unobserved drag state (the tracker's own broad prior) with the class prior of
    ballistic RVs (beta 5000-8000 kg/m^2, +/- 25 %): the linearised prediction against a
    Monte Carlo that draws the kinematic state from the track and 1/beta from the uniform
    prior itself, each sample flown to the ground at a tight tolerance (1e-9)."""
    beta_class = [5000.0, 8000.0]
    prior = drag_prior(beta_class)
    rng = np.random.default_rng(7)
    for az, fly, sp, sv in [(280.0, 150.0, 200.0, 5.0), (95.0, 200.0, 50.0, 1.0)]:
        x, _ = midcourse_state(az_deg=az, fly_s=fly)
        P = np.diag([sp**2] * 3 + [sv**2] * 3)
        row = np.zeros(7)
        row[6] = 5e-3**2  # unobserved in midcourse: the tracker's initial spread
        pred = predict_impact(x[None], P[None], inv_beta=np.array([2e-4]), inv_beta_cov=row[None], inv_beta_prior=prior)
        assert pred.valid[0]
        m = 3000
        samples = rng.multivariate_normal(x, P, size=m)
        ib = rng.uniform(1 / (1.25 * 8000.0), 1.25 / 5000.0, size=m)
        imp = propagate_to_impact(samples[:, :3], samples[:, 3:], np.inf, inv_beta_m2_kg=ib, rtol=1e-9)
        _assert_matches_samples(pred, imp, mean=0.1, cov=(0.93, 1.1), time_mean=0.1, time_sigma=0.1)
        # the drag alone: a certain kinematic state, the prior's spread of impacts along track
        pred0 = predict_impact(x[None], np.zeros((1, 6, 6)), inv_beta=np.array([2e-4]), inv_beta_cov=row[None],
                               inv_beta_prior=prior)
        imp0 = propagate_to_impact(np.repeat(x[None, :3], m, 0), np.repeat(x[None, 3:], m, 0), np.inf,
                                   inv_beta_m2_kg=ib, rtol=1e-9)
        d0 = geodesic_inverse(pred0.lat_deg[0], pred0.lon_deg[0], imp0.lat_deg, imp0.lon_deg)
        spread = math.sqrt(np.mean(d0.distance_m**2))
        assert math.sqrt(np.trace(pred0.cov_en_m2[0])) == pytest.approx(spread, rel=0.1)
