"""Batched Kalman filters in ECEF: motion models, the radar measurement model, EKF, UKF, IMM.

Everything works on N tracks at once: states ``x`` (N, n), covariances ``P`` (N, n, n),
time steps ``dt`` (N,) in seconds (each track predicts from its own time).

State layout. Every model works on a subset of one *full* state, in this order::

    0:3   position, ECEF, m            (all models)
    3:6   velocity, ECEF, m/s          (all models; relative to the rotating Earth)
    6:9   acceleration, ECEF, m/s^2    (constant acceleration, Singer)
    9     turn rate about the local vertical, rad/s   (coordinated turn)
    10    inverse ballistic coefficient 1/beta, m^2/kg (ballistic)

A model's ``indices`` say which components it uses; a single-model filter works on
those only (6 for CV, 9 for CA/Singer, 7 for CT and ballistic); an IMM works on the
union of its models' components (:class:`IMM`).

Motion models (continuous-time white-noise formulations, Bar-Shalom, Li & Kirubarajan,
*Estimation with Applications to Tracking and Navigation*, ch. 6 and 11):

- :class:`ConstantVelocity` -- white-noise acceleration, intensity ``q`` (m^2/s^3);
- :class:`ConstantAcceleration` -- white-noise jerk, intensity ``q`` (m^2/s^5);
- :class:`Singer` -- exponentially correlated acceleration (sigma, tau), discretised
  exactly by Van Loan's method;
- :class:`CoordinatedTurn` -- horizontal turn about the local vertical at rate omega,
  vertical velocity constant; Jacobian by central differences;
- :class:`Ballistic` -- J2 gravity, Earth rotation and drag in the co-rotating US 1976
  atmosphere (Hoplon's free-flight physics, :mod:`hoplon.core.earth`) with the inverse
  ballistic coefficient as a state; RK4 substeps of at most ``max_step_s`` where the air
  matters (5 s substeps where drag cannot reach 0.1 m over the prediction: the
  compiled kernels' ``_substeps``); Jacobian of
  the discrete map exactly, by the variational equations integrated with the same RK4
  stages in the same compiled kernel.

Measurement model (:class:`RadarMeasurement`): range, azimuth (clockwise from true
north), elevation (above the local horizontal plane) and optionally range rate, of a
sensor at a WGS84 position; the azimuth innovation is wrapped to (-pi, pi].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.linalg

from hoplon.core import _tracker_kernels as _k
from hoplon.core._tracker_kernels import _ballistic_predict, _ballistic_propagate
from hoplon.core.earth import EarthModel, earth_model
from hoplon.core.frames import _wrap_2pi

__all__ = [
    "FULL_DIM",
    "POS",
    "VEL",
    "ACC",
    "TURN",
    "DRAG",
    "MotionModel",
    "ConstantVelocity",
    "ConstantAcceleration",
    "Singer",
    "CoordinatedTurn",
    "Ballistic",
    "RadarMeasurement",
    "ekf_predict",
    "ekf_update",
    "ukf_predict",
    "ukf_update",
    "IMM",
    "IMMState",
    "Innovation",
    "innovations",
    "gaussian_likelihood",
    "gaussian_log_likelihood",
    "symmetrize",
]

FULL_DIM = 11
POS = slice(0, 3)
VEL = slice(3, 6)
ACC = slice(6, 9)
TURN = 9
DRAG = 10


def symmetrize(P: np.ndarray) -> np.ndarray:
    """(P + P^T) / 2 over the last two axes."""
    return 0.5 * (P + np.swapaxes(P, -1, -2))


def _per_track(dt, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(dt, dtype=np.float64), (n,))


def _f64(a) -> np.ndarray:
    """A C-contiguous float64 array (no copy when it already is one)."""
    return np.ascontiguousarray(a, dtype=np.float64)


# --------------------------------------------------------------------------- motion models


class MotionModel:
    """A motion model: ``predict`` gives f(x), its Jacobian F and the process noise Q.

    Subclasses set ``name`` and ``indices`` (components of the full state they use).
    """

    name: str = "model"
    indices: tuple[int, ...] = ()

    @property
    def dim(self) -> int:
        return len(self.indices)

    def predict(self, x: np.ndarray, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f(x) (N, n), F (N, n, n), Q (N, n, n)) for states x (N, n) and steps dt (N,)."""
        raise NotImplementedError

    def propagate(self, x: np.ndarray, dt: np.ndarray) -> np.ndarray:
        """f(x) only (for sigma points); default: the mean of :meth:`predict`."""
        return self.predict(x, dt)[0]

    def noise(self, x: np.ndarray, dt: np.ndarray) -> np.ndarray:
        """Q only."""
        return self.predict(x, dt)[2]

    def unused_prior(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance given to full-state components this model does not use
        (for the IMM): acceleration 0 +- 2 m/s^2, turn rate 0 +- 0.05 rad/s,
        1/beta 2e-4 +- 5e-3 m^2/kg."""
        mean = np.zeros(FULL_DIM)
        var = np.zeros(FULL_DIM)
        var[ACC] = 2.0**2
        var[TURN] = 0.05**2
        mean[DRAG] = 2e-4
        var[DRAG] = 5e-3**2
        return mean, var


def _kron3(block: np.ndarray) -> np.ndarray:
    """Per-axis (k x k) blocks (N, k, k) -> 3-D (N, 3k, 3k) for the [pos, vel, acc] ordering."""
    n, k, _ = block.shape
    out = np.zeros((n, k, 3, k, 3))
    for a in range(3):
        out[:, :, a, :, a] = block
    return out.reshape(n, 3 * k, 3 * k)


@dataclass(frozen=True)
class ConstantVelocity(MotionModel):
    """Nearly constant velocity: white-noise acceleration of intensity ``q`` (m^2/s^3) per axis."""

    q: float = 1.0
    name: str = "cv"
    indices: tuple[int, ...] = tuple(range(6))

    def predict(self, x, dt):
        return _k.cv_predict(_f64(x), _f64(_per_track(dt, x.shape[0])), float(self.q))


@dataclass(frozen=True)
class ConstantAcceleration(MotionModel):
    """Nearly constant acceleration: white-noise jerk of intensity ``q`` (m^2/s^5) per axis."""

    q: float = 0.1
    name: str = "ca"
    indices: tuple[int, ...] = tuple(range(9))

    def predict(self, x, dt):
        return _k.ca_predict(_f64(x), _f64(_per_track(dt, x.shape[0])), float(self.q))


def _singer_step(h: float, sigma: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Van Loan (1978) discretisation of one axis over a step short against tau."""
    alpha = 1.0 / tau
    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -alpha]])
    g = np.array([[0.0], [0.0], [1.0]])
    qc = 2.0 * alpha * sigma**2  # spectral density of the driving noise
    m = np.zeros((6, 6))
    m[:3, :3] = -a
    m[:3, 3:] = g @ g.T * qc
    m[3:, 3:] = a.T
    e = scipy.linalg.expm(m * h)
    phi = e[3:, 3:].T
    q = phi @ e[:3, 3:]
    return phi, 0.5 * (q + q.T)


@lru_cache(maxsize=4096)
def _singer_blocks(dt: float, sigma: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact discretisation of the Singer model for one axis over dt (s).

    Van Loan's block exponential holds exp(+dt/tau), which loses all precision once
    dt/tau reaches about 10 (a long coast with a short time constant), so dt is split
    into 2^k steps of at most tau/2, composed by doubling: (Phi, Q) over 2h is
    (Phi^2, Phi Q Phi^T + Q).
    """
    if dt == 0.0:
        return np.eye(3), np.zeros((3, 3))
    k = max(0, math.ceil(math.log2(max(abs(dt) / (0.5 * tau), 1.0))))
    phi, q = _singer_step(dt / 2**k, sigma, tau)
    for _ in range(k):
        q = phi @ q @ phi.T + q
        phi = phi @ phi
    return phi, 0.5 * (q + q.T)


@dataclass(frozen=True)
class Singer(MotionModel):
    """Singer model: acceleration a Gauss-Markov process of RMS ``sigma`` (m/s^2) and time
    constant ``tau`` (s) per axis (Singer 1970), discretised exactly."""

    sigma: float = 5.0
    tau: float = 20.0
    name: str = "singer"
    indices: tuple[int, ...] = tuple(range(9))

    def predict(self, x, dt):
        n = x.shape[0]
        t = _per_track(dt, n)
        keys, inverse = np.unique(np.round(t, 9), return_inverse=True)
        blocks = [_singer_blocks(float(k), self.sigma, self.tau) for k in keys]
        f1 = np.stack([b[0] for b in blocks])[inverse.ravel()]
        q1 = np.stack([b[1] for b in blocks])[inverse.ravel()]
        F, Q = _kron3(f1), _kron3(q1)
        return np.einsum("nij,nj->ni", F, x), F, Q


def _cv_noise(t: np.ndarray, q: float, dim: int = 6) -> np.ndarray:
    """White-noise-acceleration Q (N, dim, dim) of intensity q (zeros past 6)."""
    Q = np.zeros((t.shape[0], dim, dim))
    _k.cv_noise(_f64(t), float(q), Q)
    return Q


def _local_up(r: np.ndarray, model: EarthModel) -> np.ndarray:
    from hoplon.core.frames import ecef_to_geodetic  # noqa: PLC0415

    geo = ecef_to_geodetic(r, earth=model)
    lat, lon = np.radians(np.atleast_1d(geo.lat_deg)), np.radians(np.atleast_1d(geo.lon_deg))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def _numeric_jacobian(f, x: np.ndarray, dt: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian (N, n, n) of a batched map f(x, dt)."""
    n, d = x.shape
    xs = np.repeat(x[:, None, :], 2 * d, axis=1)
    for j in range(d):
        xs[:, 2 * j, j] += steps[j]
        xs[:, 2 * j + 1, j] -= steps[j]
    out = f(xs.reshape(n * 2 * d, d), np.repeat(dt, 2 * d)).reshape(n, 2 * d, d)
    return np.stack([(out[:, 2 * j] - out[:, 2 * j + 1]) / (2 * steps[j]) for j in range(d)], axis=-1)


@dataclass(frozen=True)
class CoordinatedTurn(MotionModel):
    """Horizontal coordinated turn: the horizontal velocity turns about the local vertical
    (ellipsoid normal at the start of the step) at rate omega (positive: counter-clockwise
    seen from above, i.e. a left turn); vertical velocity constant. Noise: white
    acceleration ``q`` (m^2/s^3) and a turn-rate random walk ``q_turn`` (rad^2/s^3)."""

    q: float = 1.0
    q_turn: float = 1e-4
    earth: str = "wgs84"
    name: str = "ct"
    indices: tuple[int, ...] = (0, 1, 2, 3, 4, 5, TURN)

    def propagate(self, x, dt):
        t = _per_track(dt, x.shape[0])
        r, v, w = x[:, 0:3], x[:, 3:6], x[:, 6]
        u = _local_up(r, earth_model(self.earth))
        vu = np.sum(v * u, -1, keepdims=True) * u
        vh = v - vu
        cross = np.cross(u, vh)
        wt = w * t
        small = np.abs(wt) < 1e-6
        safe_w = np.where(small, 1.0, w)
        s_over = np.where(small, t * (1 - wt**2 / 6), np.sin(wt) / safe_w)
        c_over = np.where(small, t * wt / 2, (1 - np.cos(wt)) / safe_w)
        r_new = r + vu * t[:, None] + vh * s_over[:, None] + cross * c_over[:, None]
        v_new = vu + vh * np.cos(wt)[:, None] + cross * np.sin(wt)[:, None]
        return np.concatenate([r_new, v_new, w[:, None]], axis=1)

    def predict(self, x, dt):
        t = _per_track(dt, x.shape[0])
        F = _numeric_jacobian(self.propagate, x, t, np.array([1.0, 1.0, 1.0, 1e-2, 1e-2, 1e-2, 1e-5]))
        Q = _cv_noise(t, self.q, 7)
        Q[:, 6, 6] = self.q_turn * t
        return self.propagate(x, t), F, Q


@dataclass(frozen=True)
class Ballistic(MotionModel):
    """Ballistic free flight (J2, rotation, drag) with 1/beta estimated as a state.

    ``q`` (m^2/s^3) is white acceleration for unmodelled forces; ``q_theta``
    ((m^2/kg)^2/s) a random walk on 1/beta. ``earth`` "wgs84" or "sphere". RK4
    substeps are at most ``max_step_s`` where the air matters, and
    ``_tracker_kernels.VACUUM_STEP_S`` (5 s) where drag at the lowest height reachable
    within the prediction cannot move the object 0.1 m (``_tracker_kernels._substeps``).
    """

    q: float = 0.05
    q_theta: float = 1e-10
    max_step_s: float = 1.0
    earth: str = "wgs84"
    name: str = "ballistic"
    indices: tuple[int, ...] = (0, 1, 2, 3, 4, 5, DRAG)

    def _params(self) -> np.ndarray:
        cached = self.__dict__.get("_params_cache")
        if cached is None:
            cached = earth_model(self.earth).params()
            object.__setattr__(self, "_params_cache", cached)
        return cached

    def propagate(self, x, dt):
        out, _ = self._run(x, dt, jacobian=False)
        return out

    def _run(self, x, dt, *, jacobian: bool):
        n = x.shape[0]
        t = np.ascontiguousarray(_per_track(dt, n))
        out = np.empty((n, 7))
        jac = np.empty((n, 7, 7)) if jacobian else np.empty((0, 7, 7))
        xc = np.ascontiguousarray(x, dtype=np.float64)
        if jacobian:
            _ballistic_predict(xc, t, self.max_step_s, self._params(), out, jac)
        else:
            _ballistic_propagate(xc, t, self.max_step_s, self._params(), out)
        return out, jac

    def predict(self, x, dt):
        t = _per_track(dt, x.shape[0])
        out, F = self._run(x, t, jacobian=True)
        Q = _cv_noise(t, self.q, 7)
        Q[:, 6, 6] = self.q_theta * np.abs(t)
        return out, F, Q


# --------------------------------------------------------------------------- measurement model


class Innovation(NamedTuple):
    """Innovations (N, m) (azimuth wrapped), their covariances S (N, m, m) and the
    predicted measurements (N, m)."""

    nu: np.ndarray
    S: np.ndarray
    z_pred: np.ndarray


def _wrap(a: np.ndarray) -> np.ndarray:
    """Angle differences to [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


@dataclass(frozen=True)
class RadarMeasurement:
    """Range (m), azimuth, elevation (rad) [and range rate (m/s)] from a WGS84 site.

    ``sigma`` holds the standard deviations in that order; azimuth is clockwise from
    true north, elevation above the local horizontal plane (ellipsoid normal).
    """

    lat_deg: float
    lon_deg: float
    alt_m: float
    sigma: tuple[float, ...]
    range_rate: bool = False
    earth: str = "wgs84"
    site_ecef_m: np.ndarray = field(init=False, repr=False, compare=False)
    rotation: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from hoplon.core.frames import enu_rotation, geodetic_to_ecef  # noqa: PLC0415

        site = np.asarray(geodetic_to_ecef(self.lat_deg, self.lon_deg, self.alt_m, earth=self.earth), dtype=np.float64)
        object.__setattr__(self, "site_ecef_m", np.ascontiguousarray(site.reshape(3)))
        object.__setattr__(self, "rotation", np.ascontiguousarray(np.asarray(enu_rotation(self.lat_deg, self.lon_deg), dtype=np.float64).reshape(3, 3)))
        if len(self.sigma) != self.dim:
            raise ValueError(f"sigma needs {self.dim} values, got {len(self.sigma)}")

    @property
    def dim(self) -> int:
        return 4 if self.range_rate else 3

    @property
    def R(self) -> np.ndarray:
        return np.diag(np.asarray(self.sigma, dtype=float) ** 2)

    def h(self, x: np.ndarray) -> np.ndarray:
        """Predicted measurements (N, m) of states x (N, >=6)."""
        if not self.range_rate:
            x = x[:, 0:3]  # a sigma-point view of only what the kernel reads
        return _k.radar_h(_f64(x), self.site_ecef_m, self.rotation, self.range_rate)

    def jacobian(self, x: np.ndarray, n: int) -> np.ndarray:
        """H (N, m, n): derivatives with respect to the first 6 state components."""
        return _k.radar_jacobian(_f64(x), int(n), self.site_ecef_m, self.rotation, self.range_rate)

    def residual(self, z: np.ndarray, z_pred: np.ndarray) -> np.ndarray:
        """z - z_pred with the azimuth difference wrapped to [-pi, pi)."""
        nu = z - z_pred
        nu[:, 1] = _wrap(nu[:, 1])
        return nu


# --------------------------------------------------------------------------- EKF


def ekf_predict(x: np.ndarray, P: np.ndarray, model: MotionModel, dt) -> tuple[np.ndarray, np.ndarray]:
    """Extended Kalman prediction of N tracks by their own dt (N,) (or one scalar)."""
    spec = _single_spec(model)
    if spec is not None:
        N = x.shape[0]
        _, _, _, xp, Pp = _k.predict_fused(
            np.ones((N, 1)), _f64(x)[None], _f64(P)[None], _f64(_per_track(dt, N)), np.ones((N, 1, 1)), *spec)
        return xp, Pp
    xp, F, Q = model.predict(x, dt)
    return xp, _k.cov_predict(_f64(P), np.arange(F.shape[1]), _f64(F), _f64(Q))


@lru_cache(maxsize=256)
def _single_spec(model: MotionModel) -> tuple | None:
    """:func:`_fused_spec` of one model on its own components (cached)."""
    return _fused_spec((model,), [(model, np.arange(model.dim), np.empty(0, np.int64), np.empty(0), np.empty(0))])


def _fused_spec(models, layout) -> tuple | None:
    """The model description :func:`_tracker_kernels.predict_fused` takes, or None when
    a model is not one it knows (constant velocity, constant acceleration, ballistic)."""
    M = len(models)
    kinds = np.empty(M, np.int64)
    qa, qb, max_step = np.zeros(M), np.zeros(M), np.ones(M)
    earth = np.zeros((M, 7))
    for j, m in enumerate(models):
        if type(m) is ConstantVelocity:
            kinds[j], qa[j] = _k.KIND_CV, m.q
        elif type(m) is ConstantAcceleration:
            kinds[j], qa[j] = _k.KIND_CA, m.q
        elif type(m) is Ballistic:
            kinds[j], qa[j], qb[j], max_step[j] = _k.KIND_BALLISTIC, m.q, m.q_theta, m.max_step_s
            earth[j] = m._params()
        else:
            return None
    kmax = max(len(loc) for _, loc, *_ in layout)
    omax = max(1, max(len(other) for _, _, other, *_ in layout))
    locs = np.zeros((M, kmax), np.int64)
    others = np.zeros((M, omax), np.int64)
    means, variances = np.zeros((M, omax)), np.zeros((M, omax))
    nloc, nother = np.zeros(M, np.int64), np.zeros(M, np.int64)
    for j, (_, loc, other, mean, var) in enumerate(layout):
        locs[j, :len(loc)], nloc[j] = loc, len(loc)
        others[j, :len(other)], nother[j] = other, len(other)
        means[j, :len(other)], variances[j, :len(other)] = mean, var
    return kinds, qa, qb, max_step, earth, locs, nloc, others, nother, means, variances


def _noise(meas: RadarMeasurement, R: np.ndarray | None, n: int) -> np.ndarray:
    return np.broadcast_to(meas.R, (n, meas.dim, meas.dim)) if R is None else np.asarray(R, dtype=float)


def ekf_update(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, meas: RadarMeasurement, R: np.ndarray | None = None,
    *, iterations: int = 1,
) -> tuple[np.ndarray, np.ndarray, Innovation]:
    """Extended Kalman update of N tracks with one measurement each, z (N, m).

    ``R`` (N, m, m) overrides the sensor's noise per measurement (e.g. SNR-dependent
    sigmas). ``iterations`` > 1 gives the iterated EKF (Gauss-Newton on the measurement
    function, Bell & Cathey 1993): the measurement is re-linearised at the updated
    estimate, which matters when the prediction is far from the truth (a new track with
    an uncertain velocity). Joseph-form covariance update (stays symmetric positive
    definite). The returned innovation is that of the prediction.
    """
    N = x.shape[0]
    z = _f64(np.asarray(z, dtype=float).reshape(N, meas.dim))
    R = _f64(np.broadcast_to(_noise(meas, R, N), (N, meas.dim, meas.dim)))
    xn, Pn, nu, S, z_pred, _ = _k.ekf_update(_f64(x), _f64(P), z, R, meas.site_ecef_m, meas.rotation, meas.range_rate,
                                             int(iterations))
    return xn, Pn, Innovation(nu, S, z_pred)


def innovations(
    x: np.ndarray, P: np.ndarray, meas: RadarMeasurement, R: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Predicted measurements (N, m) and innovation covariances S (N, m, m) (EKF).

    ``R`` (m, m) or (N, m, m) replaces the sensor's noise."""
    z_pred, HPH = _k.radar_predict(_f64(x), _f64(P), meas.site_ecef_m, meas.rotation, meas.range_rate)
    R = meas.R if R is None else np.asarray(R, dtype=float)
    if np.any(R):
        HPH = symmetrize(HPH + R)
    return z_pred, HPH


# --------------------------------------------------------------------------- UKF


def _sigma_points(x: np.ndarray, P: np.ndarray, alpha: float = 1.0, beta: float = 2.0, kappa: float = 0.0):
    """Scaled unscented sigma points (Van der Merwe): (N, 2n+1, n) and weights."""
    n = x.shape[1]
    lam = alpha**2 * (n + kappa) - n
    L = np.linalg.cholesky(symmetrize(P) * (n + lam) + 1e-12 * np.eye(n))
    cols = np.swapaxes(L, 1, 2)  # rows of L^T = columns of L
    X = np.concatenate([x[:, None, :], x[:, None, :] + cols, x[:, None, :] - cols], axis=1)
    wm = np.full(2 * n + 1, 1.0 / (2 * (n + lam)))
    wc = wm.copy()
    wm[0] = lam / (n + lam)
    wc[0] = lam / (n + lam) + (1 - alpha**2 + beta)
    return X, wm, wc


def ukf_predict(x: np.ndarray, P: np.ndarray, model: MotionModel, dt) -> tuple[np.ndarray, np.ndarray]:
    """Unscented prediction of N tracks (process noise additive)."""
    N, n = x.shape
    t = _per_track(dt, N)
    X, wm, wc = _sigma_points(x, P)
    Y = model.propagate(X.reshape(-1, n), np.repeat(t, 2 * n + 1)).reshape(N, 2 * n + 1, n)
    xp = np.einsum("k,nki->ni", wm, Y)
    d = Y - xp[:, None, :]
    Pp = np.einsum("k,nki,nkj->nij", wc, d, d) + model.noise(x, t)
    return xp, symmetrize(Pp)


def ukf_update(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, meas: RadarMeasurement, R: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, Innovation]:
    """Unscented update of N tracks with one measurement each (azimuth averaged on the circle)."""
    N, n = x.shape
    X, wm, wc = _sigma_points(x, P)
    Z = meas.h(X.reshape(-1, n)).reshape(N, 2 * n + 1, -1)
    z_pred = np.einsum("k,nkm->nm", wm, Z)
    z_pred[:, 1] = _wrap_2pi(np.arctan2(np.einsum("k,nk->n", wm, np.sin(Z[:, :, 1])),
                                        np.einsum("k,nk->n", wm, np.cos(Z[:, :, 1]))))
    dz = Z - z_pred[:, None, :]
    dz[:, :, 1] = _wrap(dz[:, :, 1])
    dx = X - x[:, None, :]
    S = symmetrize(np.einsum("k,nki,nkj->nij", wc, dz, dz) + _noise(meas, R, N))
    C = np.einsum("k,nki,nkj->nij", wc, dx, dz)
    K = np.swapaxes(np.linalg.solve(S, np.swapaxes(C, 1, 2)), 1, 2)
    nu = meas.residual(np.asarray(z, dtype=float), z_pred)
    x_new = x + np.einsum("nij,nj->ni", K, nu)
    P_new = symmetrize(P - K @ S @ np.swapaxes(K, 1, 2))
    return x_new, P_new, Innovation(nu, S, z_pred)


# --------------------------------------------------------------------------- IMM


class IMMState(NamedTuple):
    """IMM state of N tracks over M models: probabilities (N, M), per-model states
    (M, N, d) and covariances (M, N, d, d) in the IMM's common space."""

    mu: np.ndarray
    x: np.ndarray
    P: np.ndarray


@dataclass(frozen=True)
class IMM:
    """Interacting multiple model filter (Blom & Bar-Shalom 1988) over EKF models.

    The models live in the union of their state components; a model's prediction gives
    the components it does not use their neutral prior (:meth:`MotionModel.unused_prior`).
    Model switching is a continuous-time Markov chain: a track switches from model i to
    model j at ``rates[i, j]`` per second (default: ``switch_rate`` to each other model
    alike), so steps of any length are consistent: the per-step matrix is
    expm(G dt) with generator G. ``transition`` (M, M), if given, is a fixed per-step
    matrix instead.
    """

    models: tuple[MotionModel, ...]
    switch_rate: float = 0.01
    rates: tuple[tuple[float, ...], ...] | None = None
    transition: np.ndarray | None = None

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(sorted(set().union(*(m.indices for m in self.models))))

    @property
    def dim(self) -> int:
        return len(self.indices)

    def transition_matrix(self, dt: np.ndarray | float = 1.0) -> np.ndarray:
        """Per-track switching matrices (N, M, M) for steps dt (N,) (row: from, column: to)."""
        dt = np.atleast_1d(np.asarray(dt, dtype=float))
        m = len(self.models)
        if self.transition is not None:
            return np.broadcast_to(np.asarray(self.transition, dtype=float), (dt.size, m, m))
        if m == 1:
            return np.ones((dt.size, 1, 1))
        w, V, Vinv = self._generator_eig()
        # expm(G dt) = V exp(w dt) V^-1 for all dt at once, clipped to [0, 1], rows normalised
        return _k.imm_transition(w, V, Vinv, _f64(dt))

    def _generator_eig(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Eigen-decomposition (w, V, V^-1) of the switching generator (cached)."""
        cached = self.__dict__.get("_eig_cache")
        if cached is None:
            m = len(self.models)
            gen = np.full((m, m), self.switch_rate) if self.rates is None else np.asarray(self.rates, dtype=float).copy()
            np.fill_diagonal(gen, 0.0)
            np.fill_diagonal(gen, -gen.sum(axis=1))
            w, V = np.linalg.eig(gen)
            c = np.complex128
            cached = (np.ascontiguousarray(w, dtype=c), np.ascontiguousarray(V, dtype=c), np.ascontiguousarray(np.linalg.inv(V), dtype=c))
            object.__setattr__(self, "_eig_cache", cached)
        return cached

    def _local(self, model: MotionModel) -> np.ndarray:
        pos = {k: i for i, k in enumerate(self.indices)}
        return np.array([pos[k] for k in model.indices], dtype=np.int64)

    def initial(self, x: np.ndarray, P: np.ndarray, mu: np.ndarray | None = None) -> IMMState:
        """Start N tracks with the same common-space state in every model."""
        m = len(self.models)
        mu = np.full((x.shape[0], m), 1.0 / m) if mu is None else np.asarray(mu, dtype=float)
        return IMMState(mu, np.repeat(x[None], m, axis=0), np.repeat(P[None], m, axis=0))

    def predict(self, state: IMMState, dt) -> IMMState:
        """Mix, then predict each model (EKF) by dt (N,)."""
        return self.predict_combined(state, dt)[0]

    def predict_combined(self, state: IMMState, dt) -> tuple[IMMState, np.ndarray, np.ndarray]:
        """:meth:`predict`, and the combined estimate (:meth:`combine`) of the prediction."""
        N = state.mu.shape[0]
        dt = _f64(np.broadcast_to(np.asarray(dt, dtype=float), (N,)))
        if self.transition is None and len(self.models) > 1:
            T = _k.imm_transition(*self._generator_eig(), dt)
        else:
            T = _f64(self.transition_matrix(dt))
        spec = self._fused()
        if spec is not None:
            c, xs, Ps, x, P = _k.predict_fused(_f64(state.mu), _f64(state.x), _f64(state.P), dt, T, *spec)
            return IMMState(c, xs, Ps), x, P
        # mu_{i|j}, the predicted model probabilities c (N, M) and the mixed states
        c, x0, P0 = _k.imm_mix(_f64(state.mu), T, _f64(state.x), _f64(state.P))
        xs = np.empty_like(x0)
        Ps = np.zeros_like(P0)
        for j, (model, loc, other, mean, var) in enumerate(self._layout()):
            xn, F, Q = model.predict(x0[j][:, loc], dt)
            Pn = _k.cov_predict(P0[j], loc, _f64(F), _f64(Q))
            _k.imm_scatter(xs[j], Ps[j], loc, _f64(xn), Pn, other, mean, var)
        x, P = _k.imm_combine(c, xs, Ps)
        return IMMState(c, xs, Ps), x, P

    def _fused(self) -> tuple | None:
        """The models as :func:`_tracker_kernels.predict_fused` takes them (cached; None
        when a model needs the generic path)."""
        if "_fused_cache" not in self.__dict__:
            object.__setattr__(self, "_fused_cache", _fused_spec(self.models, self._layout()))
        return self.__dict__["_fused_cache"]

    def _layout(self) -> list[tuple[MotionModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """Per model: its components in the common space, the others, and their prior."""
        cached = self.__dict__.get("_layout_cache")
        if cached is None:
            full_mean, full_var = self.models[0].unused_prior()
            common = np.array(self.indices)
            cached = []
            for model in self.models:
                loc = self._local(model)
                other = np.setdiff1d(np.arange(self.dim), loc)
                cached.append((model, loc, other.astype(np.int64), _f64(full_mean[common[other]]), _f64(full_var[common[other]])))
            object.__setattr__(self, "_layout_cache", cached)
        return cached

    def update(
        self, state: IMMState, z: np.ndarray, meas: RadarMeasurement, R: np.ndarray | None = None,
        *, iterations: int = 1,
    ) -> tuple[IMMState, np.ndarray]:
        """Update every model with z (N, m); returns the new state and the mixture
        likelihood of z (N,)."""
        state, total, _, _ = self.update_combined(state, z, meas, R, iterations=iterations)
        return state, total

    def update_combined(
        self, state: IMMState, z: np.ndarray, meas: RadarMeasurement, R: np.ndarray | None = None,
        *, iterations: int = 1,
    ) -> tuple[IMMState, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`update`, and the combined estimate (:meth:`combine`) of the new state.

        Every model gets the (iterated) EKF update; the model probabilities are
        normalised in log space (the likelihoods of an unlikely measurement underflow)."""
        N = state.mu.shape[0]
        z = _f64(np.asarray(z, dtype=float).reshape(N, meas.dim))
        R = _f64(np.broadcast_to(_noise(meas, R, N), (N, meas.dim, meas.dim)))
        mu, xs, Ps, total, x, P = _k.imm_update(_f64(state.mu), _f64(state.x), _f64(state.P), z, R, meas.site_ecef_m,
                                                meas.rotation, meas.range_rate, int(iterations))
        return IMMState(mu, xs, Ps), total, x, P

    @staticmethod
    def combine(state: IMMState) -> tuple[np.ndarray, np.ndarray]:
        """The moment-matched estimate (N, d) and covariance (N, d, d)."""
        return _k.imm_combine(_f64(state.mu), _f64(state.x), _f64(state.P))


def gaussian_log_likelihood(nu: np.ndarray, S: np.ndarray) -> np.ndarray:
    """log N(nu; 0, S) for N innovations."""
    m = nu.shape[1]
    sol = np.linalg.solve(S, nu[:, :, None])[:, :, 0]
    d2 = np.sum(nu * sol, axis=1)
    _, logdet = np.linalg.slogdet(S)
    return -0.5 * (d2 + logdet + m * math.log(2 * math.pi))


def gaussian_likelihood(nu: np.ndarray, S: np.ndarray) -> np.ndarray:
    """N(nu; 0, S) for N innovations."""
    return np.exp(gaussian_log_likelihood(nu, S))

