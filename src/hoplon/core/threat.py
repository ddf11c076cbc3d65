"""Threat evaluation from track states: predicted impact point with its 95 % error ellipse
and time to impact, the probability of hitting each defended asset, a threat value, the
estimated launch point, and a kinematic ballistic / air-breathing classification.

Impact and launch points are linearised (first-order covariance propagation): the track's
mean state (ECEF position, Earth-relative velocity and, where the tracker estimates it, the
drag state 1/beta) is flown to the ground by the batched free-flight propagator together
with its state-transition matrix (:func:`hoplon.core.ballistic.impact_sensitivity`: the
variational equations in the integrator's own steps; one array call flies every track),
and the track's covariance is carried to the ground point and the impact time by their
Jacobians. The impact covariance is taken in the local east/north plane of the mean impact
point. Over a track's spread the impact is close to linear in the state: on the battle
manager's `anatolia` tracks, the unscented transform this replaced (14 sigma points
through the same propagator, four to six times the cost) differs by under 5 % in the
ellipse's axes, under 3.5 % of the semi-major axis in the mean point and 0.15-0.2 s in the
mean time (its second-order term), and the true impacts fall inside 97 % of the 95 %
ellipses either way; tests/test_threat.py compares the means and the spreads with Monte
Carlos of the same flights.

Drag: in vacuum a body's ballistic coefficient is unobservable, so a midcourse track's drag
state is still the tracker's broad initial guess (1/beta 2e-4 +- 5e-3 m^2/kg), over which
the impact is far from linear (bodies from no drag to a feather land tens of km apart; the
linearised ellipse of such a state is some hundred km long). Given the threat class's
prior (:func:`drag_prior`: 1/beta uniform over the catalog's re-entry vehicles, beta +-
25 %), the prediction conditions the track on it as a measurement of the drag state (a
Kalman update: the exact product of the two Gaussians, cross-covariances included): an
unobserved drag state becomes the prior, an observed one (re-entry) keeps what the track
has learned, and one the prior does not gate (chi-square 1 dof at 0.9999: a light spent
booster, a decoy) is left alone. The impacts of that prior's spread agree with a Monte
Carlo drawing 1/beta from the uniform itself (tests/test_threat.py). Without a prior, an
unobserved drag state's ellipse says little more than that the impact is unknown along
the track.

Launch points are found by flying the state backwards in time: with time reversed, the
equations of motion in the rotating frame are those of a body with reversed velocity, an
Earth rotating the other way and negative drag, so the same propagator back-extrapolates
the free-flight arc to the ground. That is where the *ballistic arc* meets the ground: the
powered boost (a vertical rise, then the pitch-over) is not modelled, so the estimate
lies off the real launch point along the ground track - for the MRBMs of `anatolia`
about 12-13 km down-range (tests/test_threat.py; README).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import numba
import numpy as np
from scipy.stats import chi2, norm, qmc

from hoplon.core.ballistic import (
    STATUS_IMPACT,
    FlightSamples,
    _sensitivity_flights,
    _sensitivity_result,
    _tolerances,
)
from hoplon.core.earth import P_DRAG, WGS84, EarthModel, _geodetic_to_ecef, _vermeille, earth_model
from hoplon.core.frames import ecef_to_enu, geodetic_to_ecef

__all__ = [
    "CLASS_AIR_BREATHING",
    "CLASS_BALLISTIC",
    "ELLIPSE_PROBABILITY",
    "GroundPrediction",
    "PREDICTION_RTOL",
    "asset_hit_probability",
    "classify_kinematics",
    "drag_estimate",
    "drag_prior",
    "estimate_launch_point",
    "predict_impact",
    "threat_values",
]

ELLIPSE_PROBABILITY = 0.95
"""Probability content of the reported error ellipses."""
_ELLIPSE_SCALE = float(chi2.ppf(ELLIPSE_PROBABILITY, 2))  # 5.991: squared Mahalanobis radius

CLASS_BALLISTIC = 1
CLASS_AIR_BREATHING = 2
BALLISTIC_MIN_SPEED_MPS = 900.0
"""Faster than any air-breathing threat in the catalog (cruise missiles ~250 m/s)."""
BALLISTIC_MIN_ALTITUDE_M = 30e3
"""Above the ceiling of air-breathing threats (drones and cruise missiles fly below 10 km)."""


MAX_INV_BETA = 0.05
"""Largest 1/beta (m^2/kg; beta >= 20 kg/m^2) a prediction flies: a drag estimate the
tracker has not observed (midcourse, and no class prior given) can lie beyond physical
values (and below 0, where it flies none)."""
PREDICTION_RTOL = 1e-6
"""Integrator tolerance of predictions: the mean impact point within about a metre, the
ellipse's axes within 1 % of a tight-tolerance (1e-10) flight of the same states
(tests/test_threat.py), far below any track's spread; a quarter faster than 1e-7."""
_PREDICTION_TOL = _tolerances(PREDICTION_RTOL)
"""The integrator's tolerances (relative and absolute) of predictions."""


class GroundPrediction(NamedTuple):
    """Where N tracked bodies meet the ground (arrays of length N).

    ``time_s``: flight time from the track time to the ground (positive for an impact;
    for a launch-point estimate, the time since launch), its standard deviation
    ``time_sigma_s``; the mean point ``lat_deg``, ``lon_deg``, ``r_ecef_m`` (N, 3); its
    covariance in the local east/north plane ``cov_en_m2`` (N, 2, 2); the 95 % ellipse
    ``semi_major_m``, ``semi_minor_m`` and ``major_azimuth_deg`` (clockwise from north,
    [0, 180)). ``valid`` is False where the mean state did not reach the ground within the
    time limit (then the other fields are NaN). ``path``: the mean state's flight sampled
    on a time grid from the track time, where asked (:func:`predict_impact`), else None.
    """

    time_s: np.ndarray
    time_sigma_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    r_ecef_m: np.ndarray
    cov_en_m2: np.ndarray
    semi_major_m: np.ndarray
    semi_minor_m: np.ndarray
    major_azimuth_deg: np.ndarray
    valid: np.ndarray
    path: FlightSamples | None = None

    def mahalanobis2(self, lat_deg, lon_deg) -> np.ndarray:
        """Squared Mahalanobis distance of ground points (N,) from the predictions, in the
        east/north plane; <= chi2_2(0.95) = 5.991 inside the 95 % ellipse."""
        d = _east_north(np.asarray(lat_deg, float), np.asarray(lon_deg, float), self.lat_deg, self.lon_deg)
        sol = np.linalg.solve(self.cov_en_m2, d[..., None])[..., 0]
        return np.einsum("ni,ni->n", d, sol)


def _augmented(state, cov, inv_beta, inv_beta_cov, inv_beta_prior=None):
    """(N, 7) states and (N, 7, 7) covariances; no drag state -> 1/beta = 0, variance 0
    (or the prior, when one is given: :func:`_condition_on_prior`)."""
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(state, dtype=float))[:, :6])
    n = x.shape[0]
    P = np.asarray(cov, dtype=float).reshape(-1, 6, 6)
    P = np.ascontiguousarray(P if P.shape[0] == n else np.broadcast_to(P, (n, 6, 6)))  # one for all, or one each
    # what is absent enters as NaN: a drag state, covariance row or prior that is not finite is not used
    b = _per_track(math.nan if inv_beta is None else inv_beta, n)
    row = (np.full((n, 7), math.nan) if inv_beta is None or inv_beta_cov is None
           else np.ascontiguousarray(np.asarray(inv_beta_cov, dtype=float).reshape(n, 7)))
    mean, sigma = (_per_track(v, n) for v in ((math.nan, math.nan) if inv_beta_prior is None else inv_beta_prior))
    xa, Pa = np.empty((n, 7)), np.empty((n, 7, 7))
    _augment(x, P, b, row, mean, sigma, xa, Pa)
    return xa, Pa


@numba.njit(cache=True)
def _augment(x, P, inv_beta, inv_beta_cov, prior_mean, prior_sigma, xa, Pa) -> None:
    """:func:`_augmented` into ``xa``, ``Pa``: the drag state and its covariance row where
    finite (the row only with the state), then the prior (:func:`_condition_on_prior`)."""
    n = x.shape[0]
    has = np.zeros(n, np.bool_)
    for i in range(n):
        xa[i, :6] = x[i]
        xa[i, 6] = 0.0
        Pa[i, :6, :6] = P[i]
        Pa[i, 6, :] = 0.0
        Pa[i, :6, 6] = 0.0
        has[i] = math.isfinite(inv_beta[i])
        if has[i]:
            xa[i, 6] = inv_beta[i]
            finite = True
            for a in range(7):
                finite = finite and math.isfinite(inv_beta_cov[i, a])
            if finite:
                Pa[i, 6, :] = inv_beta_cov[i]
                Pa[i, :, 6] = inv_beta_cov[i]
    _condition_on_prior(xa, Pa, has, prior_mean, prior_sigma)


def _per_track(v, n: int) -> np.ndarray:
    """A scalar or (n,) array as a contiguous (n,) float array."""
    a = np.asarray(v, dtype=float)
    if a.shape == (n,):
        return np.ascontiguousarray(a)
    return np.full(n, a) if a.ndim == 0 else np.ascontiguousarray(np.broadcast_to(a, (n,)))


DRAG_PRIOR_GATE = float(chi2.ppf(0.9999, 1))
"""A track's drag estimate farther than this squared number of standard deviations from
the class prior (15.1) is another kind of body (a spent booster, a decoy): the prior is
not applied to it."""


@numba.njit(cache=True)
def _condition_on_prior(xa, Pa, has, prior_mean, prior_sigma) -> None:
    """In place: the drag prior (mean, sigma) of 1/beta enters as a measurement of the drag
    state (a Kalman update of the whole state: the exact Gaussian conditioning); tracks
    without a drag state take the prior; a track whose estimate the prior does not gate
    keeps its own."""
    for i in range(xa.shape[0]):
        m0, r = prior_mean[i], prior_sigma[i] ** 2
        if not (math.isfinite(m0) and math.isfinite(r) and r > 0.0):
            continue
        if not has[i]:
            xa[i, 6] = m0
            Pa[i, 6, :] = 0.0
            Pa[i, :, 6] = 0.0
            Pa[i, 6, 6] = r
            continue
        c = Pa[i, 6, :].copy()  # covariance of the drag state with the state
        s = c[6] + r
        innov = m0 - xa[i, 6]
        if not innov**2 / s <= DRAG_PRIOR_GATE:
            continue
        for a in range(7):
            xa[i, a] += c[a] * (innov / s)
            for b in range(7):
                Pa[i, a, b] -= c[a] * c[b] / s
        for a in range(7):  # the drag row without cancellation: P_6j r / (P_66 + r)
            Pa[i, 6, a] = Pa[i, a, 6] = c[a] * (r / s)


def drag_prior(beta_kg_m2, uncertainty: float = 1.25) -> tuple[float, float]:
    """Mean and standard deviation (m^2/kg) of 1/beta uniform between the heaviest and the
    lightest of ``beta_kg_m2`` (a threat class's ballistic coefficients, kg/m^2), each
    uncertain by the factor ``uncertainty`` either way; (NaN, NaN) for none."""
    beta = np.asarray(beta_kg_m2, dtype=float).ravel()
    beta = beta[np.isfinite(beta) & (beta > 0)]
    if beta.size == 0:
        return math.nan, math.nan
    lo, hi = 1.0 / (uncertainty * beta.max()), uncertainty / beta.min()
    return 0.5 * (lo + hi), (hi - lo) / math.sqrt(12.0)


def _east_north(lat_deg, lon_deg, lat_ref, lon_ref) -> np.ndarray:
    """East/north offsets (N, 2) of ground points from ground reference points (N,), metres."""
    r = geodetic_to_ecef(lat_deg, lon_deg, np.zeros_like(lat_deg))
    return ecef_to_enu(np.atleast_2d(r), lat0_deg=lat_ref, lon0_deg=lon_ref, alt0_m=0.0)[:, :2]


@numba.njit(cache=True)
def _ground_ellipses(J, d_time, P, cov_en, time_var, eigenvalues, azimuth_deg) -> None:
    """Per track: the east/north covariance ``J P J^T`` (``J`` (N, 2, 7), ``P`` (N, 7, 7)
    symmetrised), the impact time's variance (``d_time`` (N, 7)), the covariance's
    eigenvalues (major, minor; >= 0) and the major axis's azimuth (deg clockwise from
    north, [0, 180))."""
    for i in range(J.shape[0]):
        for a in range(2):
            for b in range(2):
                acc = 0.0
                for k in range(7):
                    for m in range(7):
                        acc += J[i, a, k] * 0.5 * (P[i, k, m] + P[i, m, k]) * J[i, b, m]
                cov_en[i, a, b] = acc
        acc = 0.0
        for k in range(7):
            for m in range(7):
                acc += d_time[i, k] * 0.5 * (P[i, k, m] + P[i, m, k]) * d_time[i, m]
        time_var[i] = acc
        ee, nn, en = cov_en[i, 0, 0], cov_en[i, 1, 1], 0.5 * (cov_en[i, 0, 1] + cov_en[i, 1, 0])
        half_sum, radius = 0.5 * (ee + nn), math.hypot(0.5 * (ee - nn), en)
        eigenvalues[i, 0] = max(half_sum + radius, 0.0)
        eigenvalues[i, 1] = max(half_sum - radius, 0.0)
        # the major axis at 0.5 atan2(2 en, ee - nn) from east, counter-clockwise
        azimuth_deg[i] = (90.0 - 0.5 * math.degrees(math.atan2(2.0 * en, ee - nn))) % 180.0


_REVERSED = np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0])
"""The time-reversed flight starts from (r, -v, -1/beta)."""


def _fly_linearised(state, cov, inv_beta, inv_beta_cov, *, earth, max_time_s, backward: bool,
                    inv_beta_prior=None, path_step_s: float = 0.0) -> GroundPrediction:
    """The tracks' mean states flown to the ground with their state-transition matrices;
    the covariances carried there by the impact's Jacobians (module notes)."""
    model = earth_model(earth)
    if backward:  # time reversal: -v, the Earth turning the other way, negative drag
        model = dataclasses.replace(model, omega_rad_s=-model.omega_rad_s)
    xa, Pa = _augmented(state, cov, inv_beta, inv_beta_cov, inv_beta_prior)
    flights, ground = _linearised_flights(xa, Pa, backward, model.params(), _PREDICTION_TOL,
                                          _per_track(max_time_s, xa.shape[0]), float(path_step_s))
    fly = _sensitivity_result(*flights, sampled=path_step_s > 0)
    return GroundPrediction(*ground, valid=fly.impact.status == STATUS_IMPACT, path=fly.samples)


@numba.njit(cache=True)
def _clip(x: float, lo: float, hi: float) -> float:
    """np.clip's arithmetic: ``lo`` where x < lo, ``hi`` where x > hi, else x (-0.0 and NaN kept)."""
    if x < lo:
        x = lo
    if x > hi:
        x = hi
    return x


@numba.njit(cache=True)
def _linearised_flights(xa, Pa, backward, p, tol, t_limit, sample_dt):
    """:func:`_fly_linearised`'s flights from the augmented states ``xa`` (N, 7) and
    covariances ``Pa`` (N, 7, 7): the mean states (physical drag only, 0 <= 1/beta <=
    MAX_INV_BETA; ``backward``: time-reversed) flown by
    :func:`hoplon.core.ballistic._sensitivity_flights` (whose arrays are returned first),
    and the GroundPrediction's fields from ``time_s`` to ``major_azimuth_deg`` (NaN where a
    flight did not reach the ground), with numpy's arithmetic of the steps it replaces."""
    n = xa.shape[0]
    r0, v0, ib = np.empty((n, 3)), np.empty((n, 3)), np.empty(n)
    for i in range(n):
        b = _clip(xa[i, 6], 0.0, MAX_INV_BETA)
        for a in range(3):
            r0[i, a] = xa[i, a]
            v0[i, a] = -xa[i, 3 + a] if backward else xa[i, 3 + a]
        ib[i] = 0.0 if p[P_DRAG] == 0.0 else (-b if backward else b)
    flights = _sensitivity_flights(r0, v0, ib, t_limit, p, tol, sample_dt)
    (impact_time, lat, lon, r_impact, _, status, _, _, _, _), J, d_time, _ = flights
    if backward:  # derivatives with respect to the flown (-v, -1/beta)
        J, d_time = J * _REVERSED, d_time * _REVERSED
    cov_en, time_var, eigenvalues, az = np.empty((n, 2, 2)), np.empty(n), np.empty((n, 2)), np.empty(n)
    _ground_ellipses(J, d_time, Pa, cov_en, time_var, eigenvalues, az)
    time_s, time_sigma, lat_deg, lon_deg = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    r_ecef, semi_major, semi_minor = np.empty((n, 3)), np.empty(n), np.empty(n)
    for i in range(n):
        ok = 1.0 if status[i] == STATUS_IMPACT else math.nan
        time_s[i] = impact_time[i] * ok
        var = time_var[i] if time_var[i] >= 0.0 or math.isnan(time_var[i]) else 0.0  # np.maximum(var, 0.0)
        time_sigma[i] = math.sqrt(var) * ok
        lat_deg[i], lon_deg[i] = lat[i] * ok, lon[i] * ok
        for a in range(3):
            r_ecef[i, a] = r_impact[i, a] * ok
        for a in range(2):
            for b in range(2):
                cov_en[i, a, b] *= ok
        semi_major[i] = math.sqrt(_ELLIPSE_SCALE * eigenvalues[i, 0]) * ok
        semi_minor[i] = math.sqrt(_ELLIPSE_SCALE * eigenvalues[i, 1]) * ok
        az[i] *= ok
    return flights, (time_s, time_sigma, lat_deg, lon_deg, r_ecef, cov_en, semi_major, semi_minor, az)


def predict_impact(state, cov, *, inv_beta=None, inv_beta_cov=None, inv_beta_prior=None,
                   earth: str | EarthModel = "wgs84", max_time_s: float = 3600.0,
                   path_step_s: float = 0.0) -> GroundPrediction:
    """Predicted impact of N tracks: ``state`` (N, 6) ECEF position (m) and Earth-relative
    velocity (m/s), ``cov`` (N, 6, 6); optional drag state ``inv_beta`` (N,) in m^2/kg
    (NaN or absent: no drag) with its covariance row over (pos, vel, 1/beta) (N, 7).
    ``inv_beta_prior``: optional (mean, sigma) of 1/beta for the threat class (scalars or
    (N,) arrays; :func:`drag_prior`), conditioned on as a measurement of the drag state
    (module notes). ``time_s`` is the time to impact. ``path_step_s`` > 0: ``path`` holds
    the mean state's flight sampled every so many seconds (as
    :func:`hoplon.core.ballistic.sample_flight` would fly that state and drag)."""
    return _fly_linearised(state, cov, inv_beta, inv_beta_cov, earth=earth, max_time_s=max_time_s, backward=False,
                           inv_beta_prior=inv_beta_prior, path_step_s=path_step_s)


def drag_estimate(inv_beta, inv_beta_cov, inv_beta_prior) -> np.ndarray:
    """(N,) mean 1/beta (m^2/kg) that :func:`predict_impact` flies: the track's drag state
    conditioned on the class prior (0 where there is neither; never negative)."""
    b = np.atleast_1d(np.asarray(inv_beta, dtype=float))
    n = b.size
    xa, _ = _augmented(np.zeros((n, 6)), np.zeros((n, 6, 6)), b, inv_beta_cov, inv_beta_prior)
    return np.clip(xa[:, 6], 0.0, MAX_INV_BETA)


def estimate_launch_point(state, cov, *, inv_beta=None, inv_beta_cov=None, earth: str | EarthModel = "wgs84",
                          max_time_s: float = 3600.0) -> GroundPrediction:
    """Where the free-flight arc of N tracks meets the ground behind them (module notes:
    the boost is not modelled). ``time_s`` is the time since that point. A drag state
    makes the backward flight unstable in dense air (negative drag amplifies spread);
    leave ``inv_beta`` out unless it is well known."""
    return _fly_linearised(state, cov, inv_beta, inv_beta_cov, earth=earth, max_time_s=max_time_s, backward=True)


_UNIT_NORMALS = norm.ppf(qmc.Sobol(d=2, scramble=True, seed=20260304).random(4096).clip(1e-12, 1 - 1e-12))
"""A fixed quasi-random N(0, I_2) sample: disc probabilities to about 1/4096, reproducibly."""
_UNIT_NORMALS_MAX = float(np.sqrt((_UNIT_NORMALS**2).sum(axis=1)).max())


@numba.njit(cache=True)
def _jittered_cholesky(c00: float, c10: float, c11: float) -> tuple[float, float, float, bool]:
    """Lower Cholesky factor (l00, l10, l11) of the 2 x 2 covariance [[c00, .], [c10, c11]]
    plus 1e-9 of its trace (at least 1e-6) on the diagonal, and whether it is positive
    definite (no pivot <= 0): LAPACK's arithmetic as numpy.linalg.cholesky calls it (potrf:
    the column scaled by the pivot's reciprocal; the same bits, tests/test_threat.py)."""
    trace = c00 + c11
    jitter = 1e-9 * (1e-6 if trace < 1e-6 else trace)  # (np.maximum: NaN stays NaN)
    a00, a10, a11 = c00 + jitter, c10 + jitter * 0.0, c11 + jitter
    if a00 <= 0.0:
        return math.nan, math.nan, math.nan, False
    l00 = math.sqrt(a00)
    l10 = a10 * (1.0 / l00)
    d = a11 - l10 * l10
    if d <= 0.0:
        return math.nan, math.nan, math.nan, False
    return l00, l10, math.sqrt(d), True


_BEYOND_A_POLE, _NOT_DEFINITE = 1, 2
"""Failures of :func:`_disc_probabilities`."""


@numba.njit(cache=True)
def _disc_probabilities(lat_deg, lon_deg, cov, valid, asset_lat_deg, asset_lon_deg, radius_m, normals, farthest, a, e2,
                        out) -> int:
    """``out[m, j]`` (zeros on entry; rows not ``valid`` are left so): the fraction of the
    points ``L[m] @ normal`` (``normals`` (K, 2); L the
    :func:`_jittered_cholesky` factor of ``cov[m]``) in the east/north plane at
    (``lat_deg[m]``, ``lon_deg[m]``) on the ellipsoid (``a``, m; ``e2``) within
    ``radius_m[j]`` of asset j (on the ellipsoid at (``asset_lat_deg[j]``,
    ``asset_lon_deg[j]``), placed by frames.ecef_to_enu's arithmetic); 0 without counting
    where the asset is farther than its radius plus the farthest point (``|L|_F`` times
    ``farthest``, the largest ``|normal|``; and a rounding margin). Returns 0, or
    _BEYOND_A_POLE (nothing done) if an asset's latitude is beyond +-90 deg, or
    _NOT_DEFINITE if a covariance is not positive definite (its row is left 0)."""
    for j in range(radius_m.size):
        if abs(asset_lat_deg[j]) > 90.0:
            return _BEYOND_A_POLE
    n_points = normals.shape[0]
    r_assets = np.empty((radius_m.size, 3))
    for j in range(radius_m.size):  # frames.geodetic_to_ecef's arithmetic
        r_assets[j, 0], r_assets[j, 1], r_assets[j, 2] = _geodetic_to_ecef(
            math.radians(asset_lat_deg[j]), math.radians(asset_lon_deg[j]), 0.0, a, e2)
    east, north = np.empty(n_points), np.empty(n_points)  # the points of the current prediction
    failure = 0
    for m in range(cov.shape[0]):
        if not valid[m]:
            continue
        l00, l10, l11, ok = _jittered_cholesky(cov[m, 0, 0], cov[m, 1, 0], cov[m, 1, 1])
        if not ok:
            failure = _NOT_DEFINITE
            continue
        l01 = 0.0
        la, lo = math.radians(lat_deg[m]), math.radians(lon_deg[m])
        x0, y0, z0 = _geodetic_to_ecef(la, lo, 0.0, a, e2)
        sp, cp, sl, cl = math.sin(la), math.cos(la), math.sin(lo), math.cos(lo)
        reach = math.sqrt(l00**2 + l01**2 + l10**2 + l11**2) * farthest
        placed = False
        for j in range(radius_m.size):
            dx, dy, dz = r_assets[j, 0] - x0, r_assets[j, 1] - y0, r_assets[j, 2] - z0
            t = cl * dx + sl * dy
            east0, north0 = -sl * dx + cl * dy, -sp * t + cp * dz  # the asset
            if math.sqrt(east0**2 + north0**2) > (reach + radius_m[j]) * (1.0 + 1e-9) + 1e-6:
                continue
            if not placed:  # once per prediction, for every asset within reach
                for k in range(n_points):
                    u0, u1 = normals[k, 0], normals[k, 1]
                    east[k] = l00 * u0 + l01 * u1
                    north[k] = l10 * u0 + l11 * u1
                placed = True
            r2 = radius_m[j] ** 2
            inside = 0
            for k in range(n_points):
                if (east[k] - east0) ** 2 + (north[k] - north0) ** 2 <= r2:
                    inside += 1
            out[m, j] = inside / n_points
    return failure


def asset_hit_probability(pred: GroundPrediction, asset_lat_deg, asset_lon_deg, asset_radius_m) -> np.ndarray:
    """(N, A) probability that each predicted impact (Gaussian in the east/north plane) falls
    within each asset's radius (quasi-Monte Carlo over a fixed Sobol sample; 0 where the
    prediction is invalid). The assets' latitudes, longitudes (deg) and radii (m) broadcast.
    Raises numpy.linalg.LinAlgError where a valid prediction's covariance is not positive
    definite."""
    lat, lon, rad = (np.atleast_1d(np.asarray(x, float)) for x in (asset_lat_deg, asset_lon_deg, asset_radius_m))
    if not lat.shape == lon.shape == rad.shape:
        lat, lon, rad = np.broadcast_arrays(lat, lon, rad)
    lat, lon, rad = (np.ascontiguousarray(x.ravel()) for x in (lat, lon, rad))
    out = np.zeros((pred.lat_deg.size, lat.size))
    if lat.size == 0:
        return out
    failure = _disc_probabilities(pred.lat_deg, pred.lon_deg, pred.cov_en_m2, pred.valid, lat, lon, rad, _UNIT_NORMALS,
                                  _UNIT_NORMALS_MAX, WGS84.a_m, WGS84.e2, out)
    if failure == _BEYOND_A_POLE:
        raise ValueError("asset_lat_deg must lie in [-90, 90] degrees")
    if failure == _NOT_DEFINITE:
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    return out


def threat_values(hit_probability: np.ndarray, asset_values) -> np.ndarray:
    """Threat value per track: sum over assets of value x probability of hitting it."""
    return np.asarray(hit_probability, float) @ np.asarray(asset_values, float)


def classify_kinematics(state) -> np.ndarray:
    """Ballistic (1) or air-breathing (2) from one ECEF state (N, 6) per track: ballistic
    when faster than 900 m/s or higher than 30 km (WGS84); air-breathing threats (drones,
    cruise missiles) fly below 10 km at under 300 m/s."""
    x = np.ascontiguousarray(np.atleast_2d(np.asarray(state, float)))
    cls = np.empty(x.shape[0], np.int64)
    _classify(x, WGS84.a_m, WGS84.e2, cls)
    return cls


@numba.njit(cache=True)
def _classify(x, a, e2, cls) -> None:
    """:func:`classify_kinematics` into ``cls``."""
    for i in range(x.shape[0]):
        cls[i] = _speed_and_class(x[i], a, e2)[1]


@numba.njit(cache=True)
def _speed_and_class(x, a, e2) -> tuple[float, int]:
    """The speed (m/s) and kinematic class of one state (:func:`classify_kinematics`;
    ``a``, ``e2``: WGS84's): the speed as np.linalg.norm sums it (left to right), the
    height as frames.ecef_to_height computes it (a NaN fails both tests)."""
    speed = math.sqrt(x[3] * x[3] + x[4] * x[4] + x[5] * x[5])
    alt = _vermeille(x[0], x[1], x[2], a, e2)[2]
    ballistic = speed > BALLISTIC_MIN_SPEED_MPS or alt > BALLISTIC_MIN_ALTITUDE_M
    return speed, CLASS_BALLISTIC if ballistic else CLASS_AIR_BREATHING
