"""hoplon.core.filters: one conformance suite over every motion model and filter, and
checks against outside authorities.

The conformance suite (scikit-learn's ``test_common.py`` pattern) runs the same checks
over every (motion model, filter) case -- EKF and UKF prediction of ConstantVelocity,
ConstantAcceleration, Singer, CoordinatedTurn and Ballistic, and two IMMs: output
shapes, determinism, batched result equal to a loop of single-track calls, covariances
symmetric positive definite over random physical states (hypothesis), dt = 0.

References, none of them produced by hoplon: the closed forms of Bar-Shalom, Li &
Kirubarajan, *Estimation with Applications to Tracking and Navigation* (2001), sec. 6.2
(white-noise acceleration and white-noise jerk models), written out below; the Singer
process noise as a numeric integral (scipy ``quad_vec`` of e^{As} G Qc G^T e^{A^T s});
central-difference Jacobians computed here; pymap3d's ENU/AER (range, azimuth,
elevation); an independent DOP853 integration of J2 + rotation + drag
(``tests/reference_physics.py``); scipy's chi-square quantiles for the NEES/NIS
consistency tests (Bar-Shalom et al. sec. 5.4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymap3d
import pytest
import reference_physics as ref
import scipy.integrate
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from hoplon.core import filters as flt

# Named tolerances.
METRE = 1.0
MILLIMETRE = 1e-3
CENTIMETRE = 1e-2
MM_PER_S = 1e-3
LOOP_RTOL = 1e-9  # batched vs a loop of single-track calls
MICRORADIAN = 1e-6

ELL = pymap3d.Ellipsoid.from_name("wgs84")


def aer_rad(x, y, z, lat_deg, lon_deg, alt_m):
    """pymap3d's (azimuth, elevation, slant range) in radians and metres."""
    az, el, rg = pymap3d.ecef2aer(x, y, z, lat_deg, lon_deg, alt_m, ell=ELL, deg=True)
    return np.radians(az), np.radians(el), rg
PROPERTY = settings(max_examples=25, deadline=None)

# --------------------------------------------------------------------------- physical states

# One standard deviation per full-state component (FULL_DIM = 11): position, velocity,
# acceleration, turn rate, 1/beta.
FULL_SIGMA = np.array([150.0] * 3 + [15.0] * 3 + [2.0] * 3 + [0.02, 1e-4])


def ecef_state(lat_deg, lon_deg, alt_m, speed_mps, heading_deg, fpa_deg):
    """ECEF position and Earth-relative velocity (pymap3d) of a body over a geodetic point
    moving at ``speed`` on ``heading`` (clockwise from north) climbing at ``fpa``."""
    r = np.array(pymap3d.geodetic2ecef(lat_deg, lon_deg, alt_m, ell=ELL, deg=True))
    h, g = math.radians(heading_deg), math.radians(fpa_deg)
    enu = speed_mps * np.array([math.cos(g) * math.sin(h), math.cos(g) * math.cos(h), math.sin(g)])
    v = np.array(pymap3d.enu2uvw(*enu, lat_deg, lon_deg, deg=True))
    return r, v


def full_state(r, v, *, acc=(0.0, 0.0, 0.0), turn=0.0, theta=2e-4) -> np.ndarray:
    x = np.zeros(flt.FULL_DIM)
    x[flt.POS], x[flt.VEL], x[flt.ACC], x[flt.TURN], x[flt.DRAG] = r, v, acc, turn, theta
    return x


def random_full_states(rng: np.random.Generator, n: int, kind: str, site=(40.0, 20.0)) -> np.ndarray:
    """n physical full states near a site (offset 0.5-2.5 deg so that no state is at the
    zenith of a radar on the site): ``air`` 0.1-20 km altitude, 50-300 m/s, climb within
    +-10 deg; ``ballistic`` 100-1000 km altitude, 1-7 km/s, flight path within +-60 deg."""
    out = np.empty((n, flt.FULL_DIM))
    for i in range(n):
        lat = site[0] + rng.choice([-1, 1]) * rng.uniform(0.5, 2.5)
        lon = site[1] + rng.choice([-1, 1]) * rng.uniform(0.5, 2.5)
        if kind == "air":
            r, v = ecef_state(lat, lon, rng.uniform(100.0, 20e3), rng.uniform(50.0, 300.0),
                              rng.uniform(0, 360), rng.uniform(-10, 10))
        else:
            r, v = ecef_state(lat, lon, rng.uniform(100e3, 1000e3), rng.uniform(1e3, 7e3),
                              rng.uniform(0, 360), rng.uniform(-60, 60))
        out[i] = full_state(r, v, acc=rng.uniform(-5, 5, 3), turn=rng.uniform(-0.1, 0.1),
                            theta=1.0 / rng.uniform(500.0, 10_000.0))
    return out


def random_covariances(rng: np.random.Generator, n: int, indices) -> np.ndarray:
    """n random SPD covariances on ``indices`` of the full state: the sigmas of
    FULL_SIGMA times a random scale in [0.2, 5], with random correlations."""
    idx = list(indices)
    d = len(idx)
    out = np.empty((n, d, d))
    for i in range(n):
        b = rng.normal(size=(d, d))
        c = b @ b.T + d * np.eye(d)
        s = np.sqrt(np.diag(c))
        corr = c / np.outer(s, s)
        sig = FULL_SIGMA[idx] * rng.uniform(0.2, 5.0, d)
        out[i] = corr * np.outer(sig, sig)
    return out


def radar(site=(40.0, 20.0), alt_m=150.0, range_rate=False) -> flt.RadarMeasurement:
    sigma = (25.0, 1e-3, 1e-3, 2.0) if range_rate else (25.0, 1e-3, 1e-3)
    return flt.RadarMeasurement(site[0], site[1], alt_m, sigma, range_rate=range_rate)


def assert_spd(P: np.ndarray, what: str = "") -> None:
    """Symmetric to rounding and positive definite (on the correlation scale, so that
    components of very different units are judged alike)."""
    P = np.asarray(P)
    assert np.all(np.isfinite(P)), what
    scale = np.max(np.abs(P), axis=(-1, -2), keepdims=True)
    assert np.all(np.abs(P - np.swapaxes(P, -1, -2)) <= 1e-12 * scale), f"not symmetric {what}"
    d = np.sqrt(np.diagonal(P, axis1=-2, axis2=-1))
    assert np.all(d > 0), f"non-positive variance {what}"
    corr = P / (d[..., :, None] * d[..., None, :])
    lam = np.linalg.eigvalsh(corr)
    assert np.all(lam[..., 0] > 1e-13), f"not positive definite {what}: {lam[..., 0].min()}"


# --------------------------------------------------------------------------- the family

MODELS: dict[str, flt.MotionModel] = {
    "cv": flt.ConstantVelocity(q=1.0),
    "ca": flt.ConstantAcceleration(q=0.1),
    "singer": flt.Singer(sigma=5.0, tau=20.0),
    "ct": flt.CoordinatedTurn(q=1.0, q_turn=1e-4),
    "ballistic": flt.Ballistic(q=0.05),
}
KIND = {"cv": "air", "ca": "air", "singer": "air", "ct": "air", "ballistic": "ballistic"}


@dataclass(frozen=True)
class Case:
    """One member of the family, behind one interface. A state is a tuple of arrays;
    ``axes`` gives the track axis of each array."""

    name: str
    kind: str  # "air" or "ballistic" (which physical states it gets)
    indices: tuple[int, ...]
    axes: tuple[int, ...]
    init: Callable  # (x (N, d), P (N, d, d), rng) -> state
    predict: Callable  # (state, dt (N,)) -> state
    update: Callable  # (state, z (N, m), meas) -> state
    covariances: Callable  # state -> list of (.., d, d) arrays
    mean_cov: Callable  # state -> (x (N, d), P (N, d, d)) combined


def _single_case(name: str, filt: str) -> Case:
    model = MODELS[name]
    pred = flt.ukf_predict if filt == "ukf" else flt.ekf_predict
    upd = {
        "ekf": flt.ekf_update,
        "iekf": lambda x, P, z, meas: flt.ekf_update(x, P, z, meas, iterations=3),
        "ukf": flt.ukf_update,
    }[filt]

    def update(s, z, meas):
        x, P, inn = upd(s[0], s[1], z, meas)
        return x, P, inn.nu, inn.S, inn.z_pred

    return Case(
        name=f"{filt}-{name}",
        kind=KIND[name],
        indices=model.indices,
        axes=(0, 0),
        init=lambda x, P, rng: (x, P),
        predict=lambda s, dt: pred(s[0], s[1], model, dt),
        update=update,
        covariances=lambda s: [s[1]],
        mean_cov=lambda s: (s[0], s[1]),
    )


def _imm_case(name: str, kind: str, imm: flt.IMM) -> Case:
    def init(x, P, rng):
        # different per-model states and probabilities, so that mixing is not trivial
        m = len(imm.models)
        mu = rng.dirichlet(np.ones(m), size=x.shape[0])
        st0 = imm.initial(x, P, mu)
        jitter = rng.normal(size=st0.x.shape) * 0.3 * np.sqrt(np.diagonal(P, axis1=1, axis2=2))[None]
        return st0.mu, st0.x + jitter, st0.P

    def predict(s, dt):
        return tuple(imm.predict(flt.IMMState(*s), dt))

    def update(s, z, meas):
        new, lik = imm.update(flt.IMMState(*s[:3]), z, meas)
        return (*new, lik)

    return Case(
        name=name,
        kind=kind,
        indices=imm.indices,
        axes=(0, 1, 1),
        init=init,
        predict=predict,
        update=update,
        covariances=lambda s: [s[2]],
        mean_cov=lambda s: imm.combine(flt.IMMState(*s[:3])),
    )


IMM_AIR = flt.IMM((MODELS["cv"], MODELS["ca"], MODELS["ct"]))
IMM_BALLISTIC = flt.IMM((MODELS["ballistic"], MODELS["ca"]))
# EKF and UKF prediction/update of every model, the iterated EKF update (3 iterations,
# used by the tracker for young tracks), and two IMMs
CASES = [_single_case(m, f) for m in MODELS for f in ("ekf", "iekf", "ukf")] + [
    _imm_case("imm-cv-ca-ct", "air", IMM_AIR),
    _imm_case("imm-ballistic-ca", "ballistic", IMM_BALLISTIC),
]
CASE_IDS = [c.name for c in CASES]


def _setup(case: Case, rng: np.random.Generator, n: int):
    """Physical states, covariances, per-track steps and noisy radar measurements."""
    full = random_full_states(rng, n, case.kind)
    x = full[:, list(case.indices)]
    P = random_covariances(rng, n, case.indices)
    dt = rng.uniform(0.5, 10.0, n) if case.kind == "air" else rng.uniform(0.5, 20.0, n)
    meas = radar()
    z = measure(meas, truth_after(full, dt, case.kind), rng)
    return case.init(x, P, rng), dt, z, meas


def truth_after(full: np.ndarray, dt: np.ndarray, kind: str) -> np.ndarray:
    """Where a body starting at ``full`` is after dt: straight line (air) or free flight."""
    if kind == "air":
        return full[:, :6] + np.hstack([full[:, 3:6], np.zeros((len(full), 3))]) * np.asarray(dt)[:, None]
    return MODELS["ballistic"].propagate(full[:, list(flt.Ballistic.indices)], dt)[:, :6]


def measure(meas: flt.RadarMeasurement, truth: np.ndarray, rng) -> np.ndarray:
    """Noisy range/azimuth/elevation from pymap3d (independent of RadarMeasurement.h)."""
    az, el, rg = aer_rad(truth[:, 0], truth[:, 1], truth[:, 2], meas.lat_deg, meas.lon_deg, meas.alt_m)
    z = np.stack([rg, az, el], axis=1) + rng.normal(size=(len(truth), 3)) * np.array(meas.sigma[:3])
    z[:, 1] %= 2 * math.pi
    return z


def _take(state, axes, i):
    return tuple(np.take(a, [i], axis=ax) for a, ax in zip(state, axes))


def _out_axes(case: Case, state) -> tuple[int, ...]:
    # outputs of update carry extra arrays (innovations or the likelihood) on axis 0
    return tuple(case.axes) + (0,) * (len(state) - len(case.axes))


# --------------------------------------------------------------------------- conformance


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_shapes(case):
    rng = np.random.default_rng(1)
    n = 5
    state, dt, z, meas = _setup(case, rng, n)
    d = len(case.indices)
    pred = case.predict(state, dt)
    upd = case.update(pred, z, meas)
    for s in (pred, upd):
        x, P = case.mean_cov(s)
        assert x.shape == (n, d) and P.shape == (n, d, d)
        assert all(np.all(np.isfinite(a)) for a in s)
    if case.axes == (0, 0):  # single filters: x, P, nu, S, z_pred
        assert [a.shape for a in upd] == [(n, d), (n, d, d), (n, 3), (n, 3, 3), (n, 3)]
    else:  # IMM: mu, x, P, likelihood
        m = state[0].shape[1]
        assert [a.shape for a in upd] == [(n, m), (m, n, d), (m, n, d, d), (n,)]
        np.testing.assert_allclose(pred[0].sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(upd[0].sum(axis=1), 1.0, rtol=1e-12)
    # a scalar dt means the same step for every track
    same = case.predict(state, float(dt[0]))
    each = case.predict(state, np.full(n, dt[0]))
    for a, b in zip(same, each):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_determinism_and_inputs_untouched(case):
    rng = np.random.default_rng(2)
    state, dt, z, meas = _setup(case, rng, 4)
    copies = [a.copy() for a in state]
    z_copy, dt_copy = z.copy(), dt.copy()
    runs = []
    for _ in range(2):
        pred = case.predict(state, dt)
        runs.append((pred, case.update(pred, z, meas)))
    for a, b in zip(runs[0][0] + runs[0][1], runs[1][0] + runs[1][1]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(state, copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(z, z_copy)
    np.testing.assert_array_equal(dt, dt_copy)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_batched_equals_loop_of_single_tracks(case):
    rng = np.random.default_rng(3)
    n = 6
    state, dt, z, meas = _setup(case, rng, n)
    pred = case.predict(state, dt)
    upd = case.update(pred, z, meas)
    for i in range(n):
        pred_i = case.predict(_take(state, case.axes, i), dt[i : i + 1])
        upd_i = case.update(pred_i, z[i : i + 1], meas)
        for got, want in zip(pred_i, _take(pred, case.axes, i)):
            np.testing.assert_allclose(got, want, rtol=LOOP_RTOL, atol=0)
        for got, want in zip(upd_i, _take(upd, _out_axes(case, upd), i)):
            np.testing.assert_allclose(got, want, rtol=LOOP_RTOL, atol=1e-300)


@st.composite
def step_and_seed(draw, kind):
    dt = draw(st.floats(0.01, 20.0) if kind == "air" else st.floats(0.01, 30.0))
    return dt, draw(st.integers(0, 2**32 - 1))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_covariances_stay_spd(case):
    @PROPERTY
    @given(params=step_and_seed(case.kind))
    def check(params):
        dt, seed = params
        rng = np.random.default_rng(seed)
        state, _, z, meas = _setup(case, rng, 3)
        for P in case.covariances(state):
            assert_spd(P, "input")
        pred = case.predict(state, np.full(3, dt))
        for P in case.covariances(pred) + [case.mean_cov(pred)[1]]:
            assert_spd(P, f"predicted dt={dt}")
        upd = case.update(pred, z, meas)
        for P in case.covariances(upd) + [case.mean_cov(upd)[1]]:
            assert_spd(P, f"updated dt={dt}")
        # an update never increases the variance of any component (single filters)
        if case.axes == (0, 0):
            assert np.all(np.diagonal(upd[1], axis1=1, axis2=2) <= np.diagonal(pred[1], axis1=1, axis2=2) * (1 + 1e-9))

    check()


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_zero_step_changes_nothing(case):
    rng = np.random.default_rng(4)
    n = 4
    full = random_full_states(rng, n, case.kind)
    if case.axes != (0, 0):
        # IMM: components a model does not use are reset to the neutral prior, so start
        # every model there (acceleration 0, turn rate 0, 1/beta at the prior mean)
        mean, _ = flt.MotionModel().unused_prior()
        full[:, flt.ACC], full[:, flt.TURN], full[:, flt.DRAG] = 0.0, 0.0, mean[flt.DRAG]
    x = full[:, list(case.indices)]
    P = random_covariances(rng, n, case.indices)
    if case.axes == (0, 0):
        xp, Pp = case.predict((x, P), np.zeros(n))
        np.testing.assert_allclose(xp, x, rtol=1e-13, atol=1e-12)
        # no noise: UKF reproduces P up to its 1e-12 Cholesky jitter
        np.testing.assert_allclose(Pp, P, rtol=1e-9, atol=1e-11)
    else:
        imm = IMM_AIR if case.kind == "air" else IMM_BALLISTIC
        s = imm.initial(x, P)
        out = imm.predict(s, np.zeros(n))
        np.testing.assert_allclose(out.mu, s.mu, rtol=1e-15)
        for j, model in enumerate(imm.models):
            loc = np.array([imm.indices.index(k) for k in model.indices])
            np.testing.assert_allclose(out.x[j], x, rtol=1e-13, atol=1e-12)
            np.testing.assert_allclose(out.P[j][:, loc[:, None], loc[None, :]], P[:, loc[:, None], loc[None, :]],
                                       rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("name", list(MODELS))
def test_noise_is_zero_at_zero_step_and_grows(name):
    model = MODELS[name]
    rng = np.random.default_rng(5)
    x = random_full_states(rng, 3, KIND[name])[:, list(model.indices)]
    _, F, Q = model.predict(x, np.zeros(3))
    assert np.all(Q == 0.0)
    np.testing.assert_allclose(F, np.broadcast_to(np.eye(model.dim), F.shape), atol=1e-8)
    Q1, Q2 = model.noise(x, np.full(3, 1.0)), model.noise(x, np.full(3, 2.0))
    assert np.all(np.linalg.eigvalsh(Q2 - Q1)[:, 0] > -1e-9 * np.abs(Q2).max())


# --------------------------------------------------------------------------- Jacobians


def central_jacobian(f, x: np.ndarray, dt: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central differences of a batched map, one column at a time (written for the tests)."""
    n, d = x.shape
    J = np.empty((n, d, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = steps[j]
        J[:, :, j] = (f(x + e, dt) - f(x - e, dt)) / (2 * steps[j])
    return J


# per full-state component: 3 m, 0.03 m/s, 0.01 m/s^2, 3e-5 rad/s, 3e-7 m^2/kg
FULL_STEPS = np.array([3.0] * 3 + [0.03] * 3 + [0.01] * 3 + [3e-5, 3e-7])


@pytest.mark.parametrize("name", list(MODELS))
def test_transition_matrix_is_jacobian_of_propagate(name):
    model = MODELS[name]
    rng = np.random.default_rng(6)
    n = 6
    kind = KIND[name]
    x = random_full_states(rng, n, kind)[:, list(model.indices)]
    if name == "ballistic":
        # include bodies low enough for drag to matter (1/beta column non-trivial)
        low = random_full_states(rng, 2, kind)
        for i in range(2):
            r, v = ecef_state(35.0 + i, 25.0, 45e3 + 10e3 * i, 2500.0, 90.0, -30.0)
            low[i, flt.POS], low[i, flt.VEL] = r, v
        x = np.vstack([x, low[:, list(model.indices)]])
    dt = rng.uniform(0.5, 20.0, x.shape[0])
    fx, F, _ = model.predict(x, dt)
    np.testing.assert_array_equal(fx, model.propagate(x, dt))
    J = central_jacobian(model.propagate, x, dt, FULL_STEPS[list(model.indices)])
    # each column judged against its own size (entries mix m, m/s, rad/s, m^2/kg)
    scale = np.max(np.abs(J), axis=1, keepdims=True)
    assert np.all(np.abs(F - J) <= 1e-6 * scale + 1e-9), np.max(np.abs(F - J) / (scale + 1e-30))


@pytest.mark.parametrize("theta", [2e-4, 5e-3, 0.0, -1e-3])
def test_ballistic_acceleration_jacobian_equals_central_difference_of_reference_physics(theta):
    """The derivatives of the free-flight acceleration that the ballistic model's
    Jacobian integrates, against central differences of the independent scalar physics
    (tests/reference_physics.py: Vallado's J2, Coriolis and centrifugal terms, ambiance's
    density at pymap3d's geodetic height), from the ground to 600 km; theta = 0 is no drag
    but still has a 1/beta column, theta < 0 is a filter's overshoot."""
    from hoplon.core._tracker_kernels import _acceleration_jacobian  # noqa: PLC0415
    from hoplon.core.earth import earth_model  # noqa: PLC0415

    def accel(y, th):
        return ref.free_flight_rhs(1.0 / th if th != 0.0 else math.inf)(0.0, y)[3:]

    rng = np.random.default_rng(11)
    p = earth_model("wgs84").params()
    steps = np.array([10.0] * 3 + [0.01] * 3)
    for alt in (2e3, 15e3, 37e3, 60e3, 95e3, 250e3, 600e3):
        r, v = ecef_state(rng.uniform(-70, 70), rng.uniform(-180, 180), alt, rng.uniform(300, 7000),
                          rng.uniform(0, 360), rng.uniform(-60, 30))
        y = np.concatenate([r, v])
        J = np.empty((3, 7))
        for j in range(6):
            e = np.zeros(6)
            e[j] = steps[j]
            J[:, j] = (accel(y + e, theta) - accel(y - e, theta)) / (2 * steps[j])
        # the acceleration is linear in 1/beta: its column is the drag per unit 1/beta
        # (a difference quotient would lose it under gravity high up)
        J[:, 6] = -0.5 * ref.density(ref.geodetic(r)[2]) * np.linalg.norm(v) * v
        A = np.empty((3, 7))
        _acceleration_jacobian(*y, theta, p, A)
        for block in (slice(0, 3), slice(3, 6), slice(6, 7)):
            scale = np.max(np.abs(J[:, block]))
            assert np.all(np.abs(A[:, block] - J[:, block]) <= 1e-5 * scale), (alt, block, A[:, block], J[:, block])


@pytest.mark.parametrize("name", ["cv", "ca", "singer"])
def test_linear_models_are_linear(name):
    model = MODELS[name]
    rng = np.random.default_rng(7)
    x = random_full_states(rng, 4, "air")[:, list(model.indices)]
    dt = rng.uniform(0.1, 30.0, 4)
    fx, F, _ = model.predict(x, dt)
    np.testing.assert_allclose(fx, np.einsum("nij,nj->ni", F, x), rtol=1e-15)
    np.testing.assert_allclose(model.propagate(2 * x, dt), 2 * fx, rtol=1e-14)


# --------------------------------------------------------------------------- closed forms


def _blocks(M, k):
    """Per-derivative-order 3x3 blocks of a (3k, 3k) matrix in [pos, vel, acc] order."""
    return [[M[3 * i : 3 * i + 3, 3 * j : 3 * j + 3] for j in range(k)] for i in range(k)]


@pytest.mark.parametrize("T", [0.1, 1.0, 4.0, 30.0])
def test_cv_matches_bar_shalom_white_noise_acceleration(T):
    # Bar-Shalom, Li & Kirubarajan (2001), eq. 6.2.2-12: F = [[1, T], [0, 1]],
    # Q = q [[T^3/3, T^2/2], [T^2/2, T]] per axis (continuous white-noise acceleration)
    q = 2.5
    model = flt.ConstantVelocity(q=q)
    _, F, Q = model.predict(np.zeros((1, 6)), np.array([T]))
    I = np.eye(3)
    F_ref = np.block([[I, T * I], [0 * I, I]])
    Q_ref = q * np.block([[T**3 / 3 * I, T**2 / 2 * I], [T**2 / 2 * I, T * I]])
    np.testing.assert_allclose(F[0], F_ref, rtol=1e-15)
    np.testing.assert_allclose(Q[0], Q_ref, rtol=1e-14)


@pytest.mark.parametrize("T", [0.1, 1.0, 4.0, 30.0])
def test_ca_matches_bar_shalom_white_noise_jerk(T):
    # Bar-Shalom, Li & Kirubarajan (2001), eq. 6.2.3-8/6.2.3-9 (continuous Wiener-process
    # acceleration): F = [[1, T, T^2/2], [0, 1, T], [0, 0, 1]],
    # Q = q [[T^5/20, T^4/8, T^3/6], [T^4/8, T^3/3, T^2/2], [T^3/6, T^2/2, T]] per axis
    q = 0.3
    model = flt.ConstantAcceleration(q=q)
    _, F, Q = model.predict(np.zeros((1, 9)), np.array([T]))
    I, Z = np.eye(3), np.zeros((3, 3))
    F_ref = np.block([[I, T * I, T**2 / 2 * I], [Z, I, T * I], [Z, Z, I]])
    Q_ref = q * np.block([
        [T**5 / 20 * I, T**4 / 8 * I, T**3 / 6 * I],
        [T**4 / 8 * I, T**3 / 3 * I, T**2 / 2 * I],
        [T**3 / 6 * I, T**2 / 2 * I, T * I],
    ])
    np.testing.assert_allclose(F[0], F_ref, rtol=1e-15)
    np.testing.assert_allclose(Q[0], Q_ref, rtol=1e-14)


def singer_reference(sigma: float, tau: float, T: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis Singer (1970) F = e^{AT} and Q = int_0^T e^{As} G qc G^T e^{A^T s} ds with
    A = [[0, 1, 0], [0, 0, 1], [0, 0, -1/tau]], G = [0, 0, 1]^T, qc = 2 sigma^2 / tau,
    integrated numerically (adaptive quadrature of scipy's matrix exponential)."""
    A = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0 / tau]])
    G = np.array([[0.0], [0.0], [1.0]])
    qc = 2.0 * sigma**2 / tau

    def integrand(s):
        E = scipy.linalg.expm(A * s)
        return E @ G @ G.T @ E.T * qc

    Q, _ = scipy.integrate.quad_vec(integrand, 0.0, T, epsabs=0.0, epsrel=1e-12)
    return scipy.linalg.expm(A * T), Q


def _singer_axis(model, T):
    _, F, Q = model.predict(np.zeros((1, 9)), np.array([T]))
    # x-axis block: rows/columns 0, 3, 6; every axis is the same
    Fx, Qx = F[0][::3, ::3], Q[0][::3, ::3]
    for a in (1, 2):
        np.testing.assert_array_equal(F[0][a::3, a::3], Fx)
        np.testing.assert_array_equal(Q[0][a::3, a::3], Qx)
    return Fx, Qx


@pytest.mark.parametrize(("tau", "T"), [(20.0, 0.5), (20.0, 1.0), (20.0, 60.0), (5.0, 10.0), (100.0, 3.0), (2.0, 8.0)])
def test_singer_matches_numeric_integral(tau, T):
    model = flt.Singer(sigma=7.0, tau=tau)
    F, Q = _singer_axis(model, T)
    F_ref, Q_ref = singer_reference(7.0, tau, T)
    # F comes out of the same 6x6 matrix exponential as Q, accurate to its norm
    np.testing.assert_allclose(F, F_ref, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(Q, Q_ref, rtol=1e-7)


@pytest.mark.parametrize(("tau", "T"), [(1.0, 30.0), (2.0, 60.0)])
def test_singer_long_step_matches_numeric_integral(tau, T):
    # a track coasting 30-60 s with a manoeuvre time constant of 1-2 s
    model = flt.Singer(sigma=7.0, tau=tau)
    _, Q = _singer_axis(model, T)
    _, Q_ref = singer_reference(7.0, tau, T)
    np.testing.assert_allclose(Q, Q_ref, rtol=1e-6)


@pytest.mark.parametrize("T", [0.5, 2.0, 10.0])
def test_singer_tends_to_ca_as_tau_grows(T):
    # tau -> inf with sigma^2 = q tau / 2 (so qc = 2 sigma^2 / tau = q fixed): the
    # acceleration becomes a Wiener process, i.e. the white-noise-jerk CA model of intensity q
    q, tau = 0.4, 1e7
    F, Q = _singer_axis(flt.Singer(sigma=math.sqrt(q * tau / 2), tau=tau), T)
    _, F_ca, Q_ca = flt.ConstantAcceleration(q=q).predict(np.zeros((1, 9)), np.array([T]))
    np.testing.assert_allclose(F, F_ca[0][::3, ::3], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(Q, Q_ca[0][::3, ::3], rtol=1e-4)


def test_singer_tends_to_cv_as_tau_vanishes():
    # tau -> 0 with sigma^2 tau fixed: the acceleration becomes white noise of spectral
    # density 2 sigma^2 tau, i.e. the CV model with q = 2 sigma^2 tau (position/velocity block)
    q, tau, T = 1.5, 1e-3, 2.0
    with np.errstate(all="ignore"):
        F, Q = _singer_axis(flt.Singer(sigma=math.sqrt(q / (2 * tau)), tau=tau), T)
    _, F_cv, Q_cv = flt.ConstantVelocity(q=q).predict(np.zeros((1, 6)), np.array([T]))
    np.testing.assert_allclose(F[:2, :2], F_cv[0][::3, ::3], rtol=1e-3)
    np.testing.assert_allclose(Q[:2, :2], Q_cv[0][::3, ::3], rtol=1e-2)


# --------------------------------------------------------------------------- coordinated turn


def _enu_velocity(v_ecef, lat, lon):
    return np.array(pymap3d.ecef2enuv(*v_ecef, lat, lon, deg=True))


@pytest.mark.parametrize("seed", range(4))
def test_coordinated_turn_without_turn_is_constant_velocity(seed):
    # omega = 0 is exactly CV (to rounding); omega -> 0 tends to CV, the path bending
    # sideways by at most speed * dt^2 * |omega| / 2
    rng = np.random.default_rng(seed)
    full = random_full_states(rng, 5, "air")
    full[:, flt.TURN] = [0.0, 1e-12, -1e-12, 1e-8, -1e-8]
    dt = rng.uniform(0.1, 30.0, 5)
    ct = flt.CoordinatedTurn().propagate(full[:, list(flt.CoordinatedTurn.indices)], dt)
    cv = flt.ConstantVelocity().propagate(full[:, :6], dt)
    speed = np.linalg.norm(full[:, flt.VEL], axis=1)
    bend = speed * dt**2 * np.abs(full[:, flt.TURN]) / 2
    assert np.all(np.linalg.norm(ct[:, :3] - cv[:, :3], axis=1) <= 1e-3 * MILLIMETRE + bend)
    assert np.all(np.linalg.norm(ct[:, 3:6] - cv[:, 3:6], axis=1) <= 1e-9 + speed * dt * np.abs(full[:, flt.TURN]))
    np.testing.assert_array_equal(ct[:, 6], full[:, flt.TURN])


@given(
    lat=st.floats(-80, 80), lon=st.floats(-180, 180), alt=st.floats(0, 20e3),
    speed=st.floats(50, 300), heading=st.floats(0, 360), climb=st.floats(-20, 20),
    omega=st.one_of(st.floats(-0.3, -1e-4), st.floats(1e-4, 0.3)), dt=st.floats(0.1, 30.0),
)
@settings(max_examples=40, deadline=None)
def test_coordinated_turn_keeps_speed_and_turns_heading(lat, lon, alt, speed, heading, climb, omega, dt):
    r, v = ecef_state(lat, lon, alt, speed, heading, 0.0)
    up = np.array(pymap3d.enu2uvw(0.0, 0.0, 1.0, lat, lon, deg=True))
    v = v + climb * up
    x = np.concatenate([r, v, [omega]])[None]
    out = flt.CoordinatedTurn().propagate(x, np.array([dt]))[0]
    e0, n0, u0 = _enu_velocity(v, lat, lon)
    e1, n1, u1 = _enu_velocity(out[3:6], lat, lon)  # in the ENU frame of the start point
    assert math.hypot(e1, n1) == pytest.approx(math.hypot(e0, n0), rel=1e-12)
    assert u1 == pytest.approx(u0, abs=1e-9)
    # positive omega is counter-clockwise seen from above: the heading (clockwise from
    # north) decreases by omega dt
    turned = math.atan2(e1, n1) - math.atan2(e0, n0)
    assert (turned + omega * dt + math.pi) % (2 * math.pi) - math.pi == pytest.approx(0.0, abs=1e-10)
    # position: integrate the turning velocity in the start ENU frame (scipy) and map
    # the flat ENU offset back to ECEF with pymap3d
    sol = scipy.integrate.solve_ivp(
        lambda t, y: [y[3], y[4], y[5], -omega * y[4], omega * y[3], 0.0],
        (0.0, dt), [0.0, 0.0, 0.0, e0, n0, u0], method="DOP853", rtol=1e-12, atol=1e-9,
    )
    e, n, u = sol.y[:3, -1]
    r_ref = np.array(pymap3d.enu2ecef(e, n, u, lat, lon, alt, ell=ELL, deg=True))
    np.testing.assert_allclose(out[:3], r_ref, rtol=0, atol=1 * MILLIMETRE)
    assert out[6] == omega


# --------------------------------------------------------------------------- ballistic


def _reference_flight(x: np.ndarray, dt: float) -> np.ndarray:
    beta = math.inf if x[6] <= 0 else 1.0 / x[6]
    sol = scipy.integrate.solve_ivp(
        ref.free_flight_rhs(beta), (0.0, dt), x[:6], method="DOP853", rtol=1e-12, atol=1e-9
    )
    return sol.y[:, -1]


@pytest.mark.parametrize("seed", range(6))
def test_ballistic_propagate_matches_independent_dop853(seed):
    # 100-1000 km altitude, 1-7 km/s, 10-60 s: J2 + rotation (+ a thin drag) against the
    # scalar reference (ambiance density, pymap3d geodetic height, Vallado's J2)
    rng = np.random.default_rng(100 + seed)
    x = random_full_states(rng, 2, "ballistic")[:, list(flt.Ballistic.indices)]
    dt = rng.uniform(10.0, 60.0, 2)
    got = flt.Ballistic().propagate(x, dt)
    for i in range(2):
        want = _reference_flight(x[i], dt[i])
        assert np.linalg.norm(got[i, :3] - want[:3]) < 1 * METRE
        assert np.linalg.norm(got[i, 3:6] - want[3:6]) < 10 * MM_PER_S
        assert got[i, 6] == x[i, 6]


@pytest.mark.parametrize(("alt_km", "beta"), [(70.0, 2000.0), (50.0, 5000.0), (40.0, 20_000.0)])
def test_ballistic_drag_matches_independent_dop853(alt_km, beta):
    # in the atmosphere, drag is the largest correction: a re-entering body for 10-30 s
    r, v = ecef_state(33.0, 44.0, alt_km * 1e3, 3000.0, 60.0, -35.0)
    x = np.concatenate([r, v, [1.0 / beta]])
    for dt in (10.0, 20.0):
        got = flt.Ballistic().propagate(x[None], np.array([dt]))[0]
        want = _reference_flight(x, dt)
        no_drag = _reference_flight(np.concatenate([x[:6], [0.0]]), dt)
        assert np.linalg.norm(want[:3] - no_drag[:3]) > 20 * METRE  # drag does matter here
        assert np.linalg.norm(got[:3] - want[:3]) < 1 * METRE
        assert np.linalg.norm(got[3:6] - want[3:6]) < 200 * MM_PER_S
        # the residual is the 1 s RK4 step: with finer steps the two agree to centimetres
        fine = flt.Ballistic(max_step_s=0.25).propagate(x[None], np.array([dt]))[0]
        assert np.linalg.norm(fine[:3] - want[:3]) < 2 * CENTIMETRE
        assert np.linalg.norm(fine[3:6] - want[3:6]) < 5 * MM_PER_S


def test_ballistic_substeps_follow_the_air():
    # above the air (120 km, a re-entry vehicle's beta) a 5 s prediction is one RK4 step,
    # bit for bit Ballistic(max_step_s=5)'s, and within a centimetre of DOP853; in it
    # (60 km) the steps stay max_step_s's: five chained 1 s predictions, bit for bit
    from hoplon.core._tracker_kernels import _substeps
    from hoplon.core.earth import earth_model

    p = earth_model("wgs84").params()
    for alt_km, beta, n in ((120.0, 5000.0, 1), (60.0, 5000.0, 5), (120.0, 1e-3, 5)):
        r, v = ecef_state(33.0, 44.0, alt_km * 1e3, 3000.0, 60.0, -35.0)
        x = np.concatenate([r, v, [1.0 / beta]])
        assert _substeps(x, 5.0, 1.0, p) == n
        got, F, _ = flt.Ballistic().predict(x[None], np.array([5.0]))
        if n == 1:
            want, Fw, _ = flt.Ballistic(max_step_s=5.0).predict(x[None], np.array([5.0]))
            ref_state = _reference_flight(x, 5.0)
            assert np.linalg.norm(got[0, :3] - ref_state[:3]) < 1 * CENTIMETRE
            assert np.linalg.norm(got[0, 3:6] - ref_state[3:6]) < 1 * MM_PER_S
        else:
            want, Fw = x[None].copy(), np.eye(7)
            for _ in range(5):
                want, Fs, _ = flt.Ballistic().predict(want, np.array([1.0]))
                Fw = Fs[0] @ Fw
            np.testing.assert_allclose(F[0], Fw, rtol=1e-9, atol=1e-12)  # the chain rule
            F = Fw = None
        np.testing.assert_array_equal(got, want)
        if F is not None:
            np.testing.assert_array_equal(F, Fw)


# --------------------------------------------------------------------------- radar measurement


@given(
    site_lat=st.floats(-85, 85), site_lon=st.floats(-180, 180), site_alt=st.floats(-100, 3000),
    e=st.floats(-400e3, 400e3), n=st.floats(-400e3, 400e3), u=st.floats(-20e3, 800e3),
)
@settings(max_examples=60, deadline=None)
def test_radar_h_equals_pymap3d_aer(site_lat, site_lon, site_alt, e, n, u):
    # pymap3d rounds ENU components below 1 mm to 0 ("for singularity stability"):
    # keep every component either 0 or at least 1 cm
    e, n, u = (0.0 if abs(c) < 0.01 else c for c in (e, n, u))
    if math.hypot(e, n) < 1e3:  # away from the zenith, where azimuth is undefined
        e += 2e3
    meas = flt.RadarMeasurement(site_lat, site_lon, site_alt, (1.0, 1e-3, 1e-3))
    r = np.array(pymap3d.enu2ecef(e, n, u, site_lat, site_lon, site_alt, ell=ELL, deg=True))
    x = np.concatenate([r, [100.0, -50.0, 10.0]])[None]
    az, el, rng_m = aer_rad(*r, site_lat, site_lon, site_alt)
    got = meas.h(x)[0]
    assert got[0] == pytest.approx(rng_m, abs=1 * MILLIMETRE)
    angle_tol = 1e-9
    daz = (got[1] - az + math.pi) % (2 * math.pi) - math.pi
    assert abs(daz) < angle_tol and 0.0 <= got[1] <= 2 * math.pi  # [0, 2 pi)
    assert got[2] == pytest.approx(el, abs=angle_tol)


def test_radar_azimuth_is_below_two_pi_just_west_of_north():
    meas = flt.RadarMeasurement(0.0, 0.0, 0.0, (1.0, 1e-3, 1e-3))
    r = np.array(pymap3d.enu2ecef(-1e-100, 1000.0, 0.0, 0.0, 0.0, 0.0, ell=ELL, deg=True))
    az = meas.h(np.concatenate([r, [0.0, 0.0, 0.0]])[None])[0, 1]
    assert 0.0 <= az < 2 * math.pi


def test_radar_jacobian_equals_central_difference_and_range_rate_is_los_projection():
    rng = np.random.default_rng(8)
    for rr in (False, True):
        meas = radar(range_rate=rr)
        x = np.vstack([random_full_states(rng, 6, "air")[:, :6], random_full_states(rng, 4, "ballistic")[:, :6]])
        H = meas.jacobian(x, 6)
        assert H.shape == (10, meas.dim, 6)
        J = np.empty_like(H)
        steps = np.array([1.0] * 3 + [0.01] * 3)
        for j in range(6):
            dx = np.zeros(6)
            dx[j] = steps[j]
            hp, hm = meas.h(x + dx), meas.h(x - dx)
            diff = hp - hm
            diff[:, 1] = (diff[:, 1] + math.pi) % (2 * math.pi) - math.pi
            J[:, :, j] = diff / (2 * steps[j])
        np.testing.assert_allclose(H, J, rtol=1e-6, atol=1e-12)
        # the extra state columns of a larger filter state are zero
        big = meas.jacobian(np.hstack([x, np.ones((10, 3))]), 9)
        np.testing.assert_array_equal(big[:, :, :6], H)
        assert np.all(big[:, :, 6:] == 0)
        if rr:
            # range rate = d|d|/dt along the straight-line motion, from pymap3d ranges
            eps = 1e-3
            for i in range(3):
                p, v = x[i, :3], x[i, 3:6]
                rp = pymap3d.ecef2aer(*(p + eps * v), meas.lat_deg, meas.lon_deg, meas.alt_m, ell=ELL)[2]
                rm = pymap3d.ecef2aer(*(p - eps * v), meas.lat_deg, meas.lon_deg, meas.alt_m, ell=ELL)[2]
                assert meas.h(x[i : i + 1])[0, 3] == pytest.approx((rp - rm) / (2 * eps), abs=1e-5)


def test_azimuth_residual_wraps_across_north():
    meas = radar()
    z = np.array([[1e5, 0.001, 0.1], [1e5, 2 * math.pi - 0.001, 0.1], [1e5, math.pi + 0.1, 0.1]])
    zp = np.array([[1e5, 2 * math.pi - 0.001, 0.1], [1e5, 0.001, 0.1], [1e5, 0.1, 0.1]])
    nu = meas.residual(z.copy(), zp)
    np.testing.assert_allclose(nu[:2, 1], [0.002, -0.002], atol=1e-12)
    # exactly half a turn: the docstring says (-pi, pi], the code gives -pi ([-pi, pi));
    # either is a valid wrap, so only the magnitude is checked
    assert abs(nu[2, 1]) == pytest.approx(math.pi, abs=1e-12)
    rng = np.random.default_rng(13)
    a, b = rng.uniform(0, 2 * math.pi, (2, 1000))
    za, zb = np.zeros((1000, 3)), np.zeros((1000, 3))
    za[:, 1], zb[:, 1] = a, b
    w = meas.residual(za, zb)[:, 1]
    assert np.all(np.abs(w) <= math.pi)
    np.testing.assert_allclose(np.cos(w), np.cos(a - b), atol=1e-12)
    np.testing.assert_allclose(np.sin(w), np.sin(a - b), atol=1e-12)


@pytest.mark.parametrize("update", [flt.ekf_update, flt.ukf_update], ids=["ekf", "ukf"])
def test_update_across_north_moves_a_little(update):
    # a track due north of the radar (azimuth 359.97 deg) and a measurement at 0.03 deg:
    # the innovation is 0.06 deg (1.05 mrad), not -359.94 deg
    meas = flt.RadarMeasurement(50.0, 10.0, 0.0, (20.0, 1e-3, 1e-3))
    enu_t = (-0.0005 * 150e3, 150e3, 5e3)
    r = np.array(pymap3d.enu2ecef(*enu_t, 50.0, 10.0, 0.0, ell=ELL, deg=True))
    x = np.concatenate([r, [0.0, 0.0, 0.0]])[None]
    P = np.diag([300.0**2] * 3 + [50.0**2] * 3)[None]
    z_true = np.array(pymap3d.enu2ecef(0.0005 * 150e3, 150e3, 5e3, 50.0, 10.0, 0.0, ell=ELL, deg=True))
    az, el, rg = aer_rad(*z_true, 50.0, 10.0, 0.0)
    xn, Pn, inn = update(x, P, np.array([[rg, az, el]]), meas)
    assert abs(inn.nu[0, 1]) < 2e-3 and inn.nu[0, 1] > 0
    move = np.linalg.norm(xn[0, :3] - x[0, :3])
    assert 50.0 < move < 300.0  # toward the measurement (150 m away), not across the sky
    assert_spd(Pn)


def test_iterated_ekf_converges_to_the_map_estimate():
    # Bell & Cathey (1993): the iterated EKF is Gauss-Newton on the MAP cost
    # |z - h(x)|^2_R + |x - x0|^2_P; a prediction 6 km off at 200 km range (a new track)
    # is strongly non-linear. Reference: scipy's least_squares on the whitened residuals.
    import scipy.optimize

    meas = flt.RadarMeasurement(45.0, 10.0, 200.0, (30.0, 1e-3, 1e-3))
    r_true, v_true = ecef_state(44.0, 8.0, 60e3, 3000.0, 40.0, 40.0)
    truth = np.concatenate([r_true, v_true])
    P = np.diag([4000.0**2] * 3 + [3000.0**2] * 3)
    x0 = truth + np.array([3000.0, -4000.0, 2500.0, 2500.0, -1500.0, -2500.0])
    z = measure(meas, truth[None], np.random.default_rng(20))[0]
    LR = np.linalg.cholesky(np.linalg.inv(meas.R))
    LP = np.linalg.cholesky(np.linalg.inv(P))

    def residuals(x):
        nu = meas.residual(z[None], meas.h(x[None]))[0]
        return np.concatenate([LR.T @ nu, LP.T @ (x - x0)])

    ref = scipy.optimize.least_squares(residuals, x0, x_scale=np.sqrt(np.diag(P)), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    x1, _, inn1 = flt.ekf_update(x0[None], P[None], z[None], meas)
    x20, P20, inn20 = flt.ekf_update(x0[None], P[None], z[None], meas, iterations=20)
    assert np.linalg.norm(x20[0, :3] - ref.x[:3]) < 1 * MILLIMETRE
    assert np.linalg.norm(x20[0, 3:] - ref.x[3:]) < 1 * MM_PER_S
    assert np.linalg.norm(x1[0, :3] - ref.x[:3]) > 10 * METRE  # the plain EKF is not there
    # the returned innovation is the prediction's; one iteration is the plain EKF
    np.testing.assert_array_equal(inn20.nu, inn1.nu)
    np.testing.assert_array_equal(inn20.S, inn1.S)
    x_one, _, _ = flt.ekf_update(x0[None], P[None], z[None], meas, iterations=1)
    np.testing.assert_array_equal(x_one, x1)
    assert_spd(P20)


def test_ukf_and_ekf_agree_far_from_the_radar():
    # a linear-enough case: the two filters give nearly the same update
    rng = np.random.default_rng(9)
    meas = radar()
    x = random_full_states(rng, 5, "air")[:, :6]
    P = np.broadcast_to(np.diag([50.0**2] * 3 + [5.0**2] * 3), (5, 6, 6)).copy()
    z = meas.h(x) + rng.normal(size=(5, 3)) * np.array(meas.sigma)
    xe, Pe, _ = flt.ekf_update(x, P, z, meas)
    xu, Pu, _ = flt.ukf_update(x, P, z, meas)
    np.testing.assert_allclose(xu[:, :3], xe[:, :3], atol=0.5 * METRE)
    np.testing.assert_allclose(Pu, Pe, rtol=0.02, atol=1e-3)


# --------------------------------------------------------------------------- IMM


def test_imm_of_identical_models_equals_single_ekf():
    # mixing identical Gaussians changes nothing: an IMM of two equal CV models is an EKF
    rng = np.random.default_rng(10)
    n = 4
    cv = flt.ConstantVelocity(q=2.0)
    imm = flt.IMM((cv, flt.ConstantVelocity(q=2.0)), transition=np.array([[0.9, 0.1], [0.1, 0.9]]))
    x = random_full_states(rng, n, "air")[:, :6]
    P = random_covariances(rng, n, cv.indices)
    meas = radar()
    s = imm.initial(x, P, rng.dirichlet([1, 1], size=n))
    xe, Pe = x, P
    for k in range(5):
        dt = np.full(n, 2.0)
        s = imm.predict(s, dt)
        xe, Pe = flt.ekf_predict(xe, Pe, cv, dt)
        z = meas.h(xe) + rng.normal(size=(n, 3)) * np.array(meas.sigma)
        s, lik = imm.update(s, z, meas)
        xe, Pe, inn = flt.ekf_update(xe, Pe, z, meas)
        xc, Pc = imm.combine(s)
        np.testing.assert_allclose(xc, xe, rtol=1e-10)
        np.testing.assert_allclose(Pc, Pe, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(lik, flt.gaussian_likelihood(inn.nu, inn.S), rtol=1e-7)


def test_imm_mode_probabilities_stay_normalised_for_unlikely_measurements():
    # two identical models: whatever the measurement, the posterior equals the prior.
    # Range offsets of 32-39 sigma put the likelihood through the subnormal band.
    n = 40
    imm = flt.IMM((flt.ConstantVelocity(q=1.0), flt.ConstantVelocity(q=1.0)))
    meas = flt.RadarMeasurement(40.0, 20.0, 0.0, (5.0, 1e-4, 1e-4))
    r = np.array(pymap3d.enu2ecef(60e3, 80e3, 5e3, 40.0, 20.0, 0.0, ell=ELL, deg=True))
    x = np.tile(np.concatenate([r, [100.0, 0.0, 0.0]]), (n, 1))
    P = np.tile(np.diag([10.0**2] * 3 + [5.0**2] * 3), (n, 1, 1))
    s = imm.initial(x, P, np.tile([0.3, 0.7], (n, 1)))
    z = meas.h(x)
    z[:, 0] += np.linspace(32.0, 39.0, n) * math.sqrt(125.0)  # S_rr = 10^2 + 5^2
    new, _ = imm.update(s, z, meas)
    np.testing.assert_allclose(new.mu.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(new.mu, s.mu, rtol=1e-12)
    xc, _ = imm.combine(new)
    np.testing.assert_allclose(xc, new.x[0], rtol=1e-12)


def test_gaussian_likelihood_equals_scipy():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(11)
    S = random_covariances(rng, 4, range(3))
    nu = rng.normal(size=(4, 3)) * 100
    want = [multivariate_normal(mean=np.zeros(3), cov=S[i]).pdf(nu[i]) for i in range(4)]
    np.testing.assert_allclose(flt.gaussian_likelihood(nu, S), want, rtol=1e-10)


def test_imm_mode_probabilities_follow_the_data():
    # a turning target: the IMM of CV/CA/CT ends up preferring the coordinated turn
    imm = IMM_AIR
    meas = flt.RadarMeasurement(45.0, 5.0, 0.0, (5.0, 2e-4, 2e-4))
    lat, lon, alt = 45.3, 5.4, 8000.0
    r, v = ecef_state(lat, lon, alt, 250.0, 0.0, 0.0)
    truth = full_state(r, v, turn=0.05)[list(flt.CoordinatedTurn.indices)]
    ct = flt.CoordinatedTurn(q=0.0, q_turn=0.0)
    x0 = flt.MotionModel().unused_prior()[0][list(imm.indices)]
    x0[:6] = truth[:6]
    P0 = np.diag(flt.MotionModel().unused_prior()[1][list(imm.indices)])
    P0[:3, :3], P0[3:6, 3:6] = np.eye(3) * 50.0**2, np.eye(3) * 20.0**2
    s = imm.initial(x0[None], P0[None])
    rng = np.random.default_rng(12)
    for _ in range(40):
        truth = ct.propagate(truth[None], np.array([1.0]))[0]
        s = imm.predict(s, np.array([1.0]))
        z = meas.h(truth[None]) + rng.normal(size=(1, 3)) * np.array(meas.sigma)
        s, _ = imm.update(s, z, meas)
    assert np.argmax(s.mu[0]) == 2, s.mu
    x, _ = imm.combine(s)
    assert np.linalg.norm(x[0, :3] - truth[:3]) < 50 * METRE


# --------------------------------------------------------------------------- NEES / NIS


def _nees_monte_carlo(filt: str, runs: int = 200, steps: int = 50, seed: int = 2024):
    """Monte Carlo of a CV target 250-300 km from the radar, process noise exactly the
    filter's (Bar-Shalom's discrete Q of the white-noise-acceleration model, written
    here), range/azimuth/elevation measurements from pymap3d with the stated sigmas.
    Returns the NEES (steps, runs) of position+velocity and the NIS (steps, runs)."""
    rng = np.random.default_rng(seed)
    q, T = 1.0, 1.0
    sigma = np.array([30.0, 1e-3, 1e-3])
    site = (40.0, 20.0, 100.0)
    meas = flt.RadarMeasurement(*site, tuple(sigma))
    model = flt.ConstantVelocity(q=q)
    I = np.eye(3)
    F = np.block([[I, T * I], [0 * I, I]])
    Q = q * np.block([[T**3 / 3 * I, T**2 / 2 * I], [T**2 / 2 * I, T * I]])
    LQ = np.linalg.cholesky(Q)
    r0 = np.array(pymap3d.enu2ecef(150e3, 200e3, 15e3, *site, ell=ELL, deg=True))
    v0 = np.array(pymap3d.enu2uvw(-150.0, 120.0, 0.0, site[0], site[1], deg=True))
    P0 = np.diag([200.0**2] * 3 + [20.0**2] * 3)
    truth = np.tile(np.concatenate([r0, v0]), (runs, 1))
    x = truth + rng.normal(size=(runs, 6)) @ np.linalg.cholesky(P0).T
    P = np.tile(P0, (runs, 1, 1))
    pred = flt.ekf_predict if filt == "ekf" else flt.ukf_predict
    upd = flt.ekf_update if filt == "ekf" else flt.ukf_update
    nees, nis = np.empty((steps, runs)), np.empty((steps, runs))
    for k in range(steps):
        truth = truth @ F.T + rng.normal(size=(runs, 6)) @ LQ.T
        az, el, rg = aer_rad(truth[:, 0], truth[:, 1], truth[:, 2], *site)
        assert np.all(rg > 200e3)
        z = np.stack([rg, az, el], axis=1) + rng.normal(size=(runs, 3)) * sigma
        x, P = pred(x, P, model, T)
        x, P, inn = upd(x, P, z, meas)
        nis[k] = np.einsum("ni,ni->n", inn.nu, np.linalg.solve(inn.S, inn.nu[:, :, None])[:, :, 0])
        e = truth - x
        nees[k] = np.einsum("ni,ni->n", e, np.linalg.solve(P, e[:, :, None])[:, :, 0])
    return nees, nis


def _chi2_interval(dof_per_run: int, runs: int) -> tuple[float, float]:
    """Two-sided 95 % interval of the average of ``runs`` chi-square(dof) variables."""
    return (chi2.ppf(0.025, runs * dof_per_run) / runs, chi2.ppf(0.975, runs * dof_per_run) / runs)


@pytest.mark.parametrize("filt", ["ekf", "ukf"])
def test_nees_and_nis_consistency_on_a_linear_gaussian_case(filt):
    runs = 200
    nees, nis = _nees_monte_carlo(filt, runs=runs)
    lo, hi = _chi2_interval(6, runs)
    anees = nees.mean(axis=1)  # per step, over runs
    assert lo < anees.mean() < hi, (lo, anees.mean(), hi)
    # and step by step: at 95 % per step, expect about 1 step in 20 outside
    assert np.mean((anees > lo) & (anees < hi)) >= 0.85
    lo3, hi3 = _chi2_interval(3, runs)
    anis = nis.mean(axis=1)
    assert lo3 < anis.mean() < hi3, (lo3, anis.mean(), hi3)
    assert np.mean((anis > lo3) & (anis < hi3)) >= 0.85


def test_nees_detects_an_inconsistent_filter():
    # the check has teeth: a filter whose R is 4x too small (sigmas halved) is rejected
    runs = 200
    rng = np.random.default_rng(5)
    q, T = 1.0, 1.0
    true_sigma = np.array([30.0, 1e-3, 1e-3])
    site = (40.0, 20.0, 100.0)
    meas = flt.RadarMeasurement(*site, tuple(true_sigma / 2))
    model = flt.ConstantVelocity(q=q)
    r0 = np.array(pymap3d.enu2ecef(150e3, 200e3, 15e3, *site, ell=ELL, deg=True))
    truth = np.tile(np.concatenate([r0, [0.0, 0.0, 0.0]]), (runs, 1))
    P = np.tile(np.diag([200.0**2] * 3 + [20.0**2] * 3), (runs, 1, 1))
    x = truth + rng.normal(size=(runs, 6)) * np.sqrt(np.diagonal(P[0]))
    nees = []
    for _ in range(20):
        az, el, rg = aer_rad(truth[:, 0], truth[:, 1], truth[:, 2], *site)
        z = np.stack([rg, az, el], axis=1) + rng.normal(size=(runs, 3)) * true_sigma
        x, P = flt.ekf_predict(x, P, model, T)
        x, P, _ = flt.ekf_update(x, P, z, meas)
        e = truth - x
        nees.append(np.mean(np.einsum("ni,ni->n", e, np.linalg.solve(P, e[:, :, None])[:, :, 0])))
    assert np.mean(nees) > _chi2_interval(6, runs)[1]


def test_ballistic_filter_learns_inverse_beta_through_reentry_and_stays_consistent():
    # A re-entry vehicle (beta 5000 kg/m^2, from 120 km, 2.5 km/s, 25 deg down) seen every
    # 2 s by a radar 300 km away; the truth is the independent DOP853 reference. The prior
    # on 1/beta (2e-4 +- 2e-3 m^2/kg) puts many runs' first guess below zero: the filter
    # must still learn 1/beta once drag is felt (a clip at zero once froze it there and
    # the track diverged below 80 km), and stay consistent while it does.
    runs, period, beta = 100, 2.0, 5000.0
    rng = np.random.default_rng(11)
    site = (36.0, 38.0, 500.0)
    sigma = np.array([10.0, 5e-4, 5e-4])
    meas = flt.RadarMeasurement(*site, tuple(sigma))
    r0, v0 = ecef_state(36.0, 41.4, 120e3, 2500.0, 270.0, -25.0)
    times = np.arange(0.0, 80.0, period)
    sol = scipy.integrate.solve_ivp(ref.free_flight_rhs(beta), (0.0, times[-1]), np.concatenate([r0, v0]),
                                    method="DOP853", rtol=1e-12, atol=1e-9, t_eval=times)
    truth = sol.y.T
    alt_km = np.array([pymap3d.ecef2geodetic(*s[:3], ell=ELL)[2] for s in truth]) / 1e3
    assert alt_km[-1] > 5.0 and alt_km[-1] < 30.0  # the run ends deep in the atmosphere
    P0 = np.diag([300.0**2] * 3 + [50.0**2] * 3 + [2e-3**2])
    x = np.concatenate([truth[0], [2e-4]]) + rng.normal(size=(runs, 7)) * np.sqrt(np.diag(P0))
    P = np.tile(P0, (runs, 1, 1))
    assert np.mean(x[:, 6] < 0) > 0.3
    model = flt.Ballistic(q=0.0, q_theta=0.0)
    anees = []
    for k in range(1, times.size):
        x, P = flt.ekf_predict(x, P, model, period)
        az, el, rg = aer_rad(*np.tile(truth[k, :3], (runs, 1)).T, *site)
        z = np.stack([rg, az, el], axis=1) + rng.normal(size=(runs, 3)) * sigma
        x, P, _ = flt.ekf_update(x, P, z, meas)
        e = x[:, :6] - truth[k]
        anees.append(np.mean(np.einsum("ni,ni->n", e, np.linalg.solve(P[:, :6, :6], e[:, :, None])[:, :, 0])))
    anees = np.array(anees)
    # 1/beta learnt: within 3 of its own sigmas in nearly every run, and much sharper
    theta_sigma = np.sqrt(P[:, 6, 6])
    assert np.mean(np.abs(x[:, 6] - 1.0 / beta) < 3 * theta_sigma) > 0.9
    assert np.median(theta_sigma) < 0.1 / beta
    # consistent in the atmosphere: the mean ANEES of the steps below 80 km lies in the
    # 95 % interval of an average of runs x steps chi-square(6) variables widened for the
    # correlation of successive steps (counted as independent runs only)
    low = alt_km[1:] < 80.0
    assert low.sum() >= 5
    lo, hi = _chi2_interval(6, runs)
    assert lo < anees[low].mean() < hi, (lo, anees[low].mean(), hi)
    assert np.all(anees < 3 * hi)
