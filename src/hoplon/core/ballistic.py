"""Free flight of ballistic bodies: batched integration to impact, for a time, or sampled,
and the impact's sensitivity to the initial state and drag.

Equations of motion in the rotating WGS84 ECEF frame (see :mod:`hoplon.core.earth`)::

    dr/dt = v
    dv/dt = g_J2(r) - 2 w x v - w x (w x r) - rho(h) |v| v / (2 beta)

with ``v`` the Earth-relative velocity, ``h`` the geodetic height and ``beta`` the
ballistic coefficient (kg/m^2; ``inf`` for no drag). On ``earth="sphere"`` the same code
runs with point-mass gravity, no rotation and no drag.

The integrator is an adaptive Dormand-Prince 5(4) Runge-Kutta method (Hairer, Norsett &
Wanner, *Solving ODEs I*, II.5), compiled with numba and run in parallel over bodies:
every body takes its own steps, so one array call flies thousands of trajectories.
Its step size follows the PI controller of Gustafsson, Lundh & Soderlind (1988) in the
form and with the constants of Hairer's DOPRI5 code (HNW I, II.4; HNW II, IV.2), and
does not grow right after a rejected step. Samples between steps and the events use the
step's dense output, quintic Hermite interpolation on position, velocity and
acceleration at both ends (an error of order h^6 in position, below the step's own): the
impact (geodetic height 0) and the apogee (vertical velocity 0) are found on it by
Illinois regula falsi, as scipy's ``solve_ivp`` finds its events on its dense output.

Fast air (``fast_air``, for the falls of debris fragments, which spend most of their cost
on the height and density of their drag): the height comes from Bowring's formula with one
iteration (within 1e-8 m of the exact height from -1 km to 300 km) and the density below
the atmosphere's tail from cubics interpolating the standard atmosphere on a 100 m grid of
geopotential height (within 1e-10 of it, relative): a fall costs half as much and lands
within micrometres of the exact one. Other flights keep Vermeille's exact height and the
atmosphere's own formulas.

:func:`impact_sensitivity` flies the state-transition matrix d(r, v) / d(r0, v0, 1/beta)
along (the variational equations in the same steps: "internal differentiation", Bock
1981), which carries a covariance to the impact point to first order.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numba
import numpy as np

from hoplon.core._tracker_kernels import _acceleration_and_jacobian
from hoplon.core.earth import (
    _H_MIN_GEOMETRIC,
    _LAYERS,
    _R_GEOPOTENTIAL,
    ATMOSPHERE_TAIL_START_M,
    P_A,
    P_DRAG,
    P_E2,
    P_MU,
    P_SPHERE,
    TERMINAL_G_REF_MPS2,
    TERMINAL_TABLE_TOP_M,
    EarthModel,
    _acceleration,
    _acceleration_array,
    _density,
    _gravity_in_rotating_frame,
    _height_and_up,
    _standard_density,
    _with_drag,
    density_kg_m3,
    earth_model,
    inverse_beta,
    terminal_fall_table,
)
from hoplon.core.frames import _ecef_to_geodetic_array

__all__ = [
    "ImpactResult",
    "ImpactSensitivity",
    "PropagationResult",
    "FlightSamples",
    "propagate_to_impact",
    "impact_sensitivity",
    "propagate",
    "sample_flight",
    "DEFAULT_RTOL",
    "STATUS_IMPACT",
    "STATUS_TIMEOUT",
    "STATUS_FAILED",
    "STATUS_APOGEE",
]

DEFAULT_RTOL = 1e-9
"""Default relative tolerance of the integrator (per step, on position and velocity)."""
_ATOL_POS_M = 1e-3
_ATOL_VEL_MPS = 1e-6
_MAX_STEPS = 200_000
_SAFETY = 0.9
_FACTOR_MIN, _FACTOR_MAX = 0.2, 10.0
"""A new step is between these multiples of the last (Hairer's DOPRI5)."""
_PI_BETA = 0.04
_PI_ALPHA = 0.2 - 0.75 * _PI_BETA
"""Exponents of the PI controller, ``h_new = 0.9 h err^-alpha err_before^beta`` (DOPRI5's)."""
_ERROR_FLOOR = 1e-4
"""The smallest scaled error the controller remembers (DOPRI5's floor of ``FACOLD``)."""

STATUS_IMPACT = 0
"""The body reached geodetic height 0."""
STATUS_TIMEOUT = 1
"""The time limit came first (no impact)."""
STATUS_FAILED = 2
"""The integrator gave up (step size underflow or too many steps)."""
STATUS_APOGEE = 3
"""The flight stopped at its apogee (on request)."""
STATUS_TERMINAL = 4
"""Internal: the body fell into its quasi-steady terminal descent (``terminal_tau_s``); the
public functions finish its fall in closed form and report it as an impact or a timeout."""

# Dormand-Prince 5(4) tableau.
_C2, _C3, _C4, _C5 = 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0
_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63, _A64, _A65 = (
    9017.0 / 3168.0,
    -355.0 / 33.0,
    46732.0 / 5247.0,
    49.0 / 176.0,
    -5103.0 / 18656.0,
)
_B1, _B3, _B4, _B5, _B6 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
_E1, _E3, _E4, _E5, _E6, _E7 = (
    71.0 / 57600.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
)


# ------------------------------------------------------------------- fast air (module notes)
# The helpers of a derivative evaluation are inlined into the integrator (numba's
# ``inline="always"``): as calls, each would take and release references to its array
# arguments, which cost a fragment's fall a third of its time.

_FAST_DENSITY_STEP_M = 100.0
"""Geopotential height step (m) of :data:`_FAST_DENSITY`: a divisor of every layer base of
the standard atmosphere."""


def _fast_density_table() -> np.ndarray:
    """Cubics (cells, 4) in the fraction of a cell of :data:`_FAST_DENSITY_STEP_M` of
    geopotential height, from the lowest layer base up to the exponential tail: each
    interpolates the standard atmosphere's density
    (:func:`hoplon.core.earth._standard_density`) at the cell's four Chebyshev points, which
    lie inside the cell and so in its layer (ambiance's rounded base pressures make the
    density jump by a few parts per million at some layer bases)."""
    base = _LAYERS[0, 0]
    top = _R_GEOPOTENTIAL * ATMOSPHERE_TAIL_START_M / (_R_GEOPOTENTIAL + ATMOSPHERE_TAIL_START_M)
    cells = math.ceil((top - base) / _FAST_DENSITY_STEP_M)
    f = 0.5 - 0.5 * np.cos((2 * np.arange(4) + 1) * math.pi / 8)
    geopotential = base + (np.arange(cells)[:, None] + f) * _FAST_DENSITY_STEP_M
    height = _R_GEOPOTENTIAL * geopotential / (_R_GEOPOTENTIAL - geopotential)
    rho = np.vectorize(_standard_density)(height)
    return np.ascontiguousarray(np.linalg.solve(np.vander(f, 4, increasing=True), rho.T).T)


_FAST_DENSITY = _fast_density_table()
_FAST_DENSITY_CELL_SCALE = _R_GEOPOTENTIAL / _FAST_DENSITY_STEP_M
_FAST_DENSITY_FIRST_CELL = float(_LAYERS[0, 0]) / _FAST_DENSITY_STEP_M


@numba.njit(cache=True, inline="always")
def _fast_density(h_m: float) -> float:
    """:func:`hoplon.core.earth._density` (kg/m^3) at geodetic height ``h_m`` (m), below the
    exponential tail from the cubics of :data:`_FAST_DENSITY` (within 1e-10, relative)."""
    if h_m > ATMOSPHERE_TAIL_START_M:
        return _density(h_m)
    h_m = max(h_m, _H_MIN_GEOMETRIC)
    u = _FAST_DENSITY_CELL_SCALE * h_m / (_R_GEOPOTENTIAL + h_m) - _FAST_DENSITY_FIRST_CELL  # cells of geopotential
    i = min(max(int(u), 0), _FAST_DENSITY.shape[0] - 1)
    f = u - i
    c = _FAST_DENSITY[i]
    return (c[0] + f * c[1]) + f * f * (c[2] + f * c[3])  # Estrin's scheme: a shorter chain than Horner's


@numba.njit(cache=True, inline="always")
def _bowring_normal(x: float, y: float, z: float, a: float, e2: float) -> tuple[float, float, float]:
    """The distance (m) of an ECEF point (m) from the axis, and the ellipsoid normal through it
    in its meridian plane (outward and up components, not of unit length), by Bowring's
    formula (B. R. Bowring, "Transformation from spatial to geographical coordinates",
    Survey Review 23 (1976) 323-327): one iteration from the parametric latitude of the
    point's own direction, without trigonometry (the factors of each product ordered so that
    the slowest comes last)."""
    rho2 = x * x + y * y
    rho = math.sqrt(rho2)
    b2 = 1.0 - e2  # (b / a)^2
    q = b2 * rho2 + z * z
    s3 = 1.0 / (q * math.sqrt(q))
    # the parametric latitude's cosine cubed is b2^1.5 rho^3 s3, its sine cubed z^3 s3
    return rho, rho - e2 * a * b2 * math.sqrt(b2) * rho2 * rho * s3, z + e2 * a / math.sqrt(b2) * z * z * z * s3


@numba.njit(cache=True, inline="always")
def _height_along(rho: float, z: float, out: float, up: float, norm: float, a: float, e2: float) -> float:
    """Height (m) above the ellipsoid of the point at ``rho`` from the axis and ``z`` (m)
    along the normal (``out``, ``up``) of length ``norm``."""
    return (rho * out + z * up - a * math.sqrt(out * out + (1.0 - e2) * up * up)) / norm


@numba.njit(cache=True, inline="always")
def _fast_height(x: float, y: float, z: float, p: np.ndarray) -> float:
    """Height above the ellipsoid (m) of an ECEF point (m) along :func:`_bowring_normal`:
    within 1e-8 m of the exact height from -1 km to 300 km (tests/test_ballistic_fast_air.py),
    in half the time of Vermeille's exact method (:func:`hoplon.core.earth._vermeille`)."""
    rho, out, up = _bowring_normal(x, y, z, p[P_A], p[P_E2])
    return _height_along(rho, z, out, up, math.sqrt(out * out + up * up), p[P_A], p[P_E2])


@numba.njit(cache=True, inline="always")
def _fast_height_and_up(x: float, y: float, z: float, p: np.ndarray) -> tuple[float, float, float, float]:
    """:func:`_fast_height` and the unit normal (local up) along which it is measured."""
    rho, out, up = _bowring_normal(x, y, z, p[P_A], p[P_E2])
    norm = math.sqrt(out * out + up * up)
    h = _height_along(rho, z, out, up, norm, p[P_A], p[P_E2])
    cl, sl = out / norm, up / norm
    if rho > 0.0:
        return h, cl * x / rho, cl * y / rho, sl
    return h, 0.0, 0.0, sl


@numba.njit(cache=True, inline="always")
def _fast_acceleration(x: float, y: float, z: float, vx: float, vy: float, vz: float, inv_beta: float,
                       p: np.ndarray) -> tuple[float, float, float]:
    """:func:`hoplon.core.earth._acceleration` with the fast air: the drag's height from
    :func:`_fast_height` and its density from :func:`_fast_density`."""
    return _acceleration_in_air(x, y, z, vx, vy, vz, inv_beta, _fast_density(_fast_height(x, y, z, p)), p)


@numba.njit(cache=True, inline="always")
def _acceleration_in_air(x: float, y: float, z: float, vx: float, vy: float, vz: float, inv_beta: float,
                         air_density: float, p: np.ndarray) -> tuple[float, float, float]:
    """:func:`hoplon.core.earth._acceleration` with the drag in air of ``air_density`` (kg/m^3)."""
    gx, gy, gz = _gravity_in_rotating_frame(x, y, z, vx, vy, p)
    if p[P_DRAG] != 0.0 and inv_beta != 0.0:
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        k = air_density * (-0.5 * speed * inv_beta)
        gx += k * vx
        gy += k * vy
        gz += k * vz
    return gx, gy, gz


# --------------------------------------------------------------------------- kernels


@numba.njit(cache=True)
def _error_norm(y: np.ndarray, y_new: np.ndarray, k: np.ndarray, h: float, tol: np.ndarray) -> float:
    """RMS of the embedded error estimate scaled by ``atol + rtol |y|``.

    ``tol`` = [rtol, atol on position (m), atol on velocity (m/s)].
    """
    acc = 0.0
    for i in range(6):
        err = h * (
            _E1 * k[0, i] + _E3 * k[2, i] + _E4 * k[3, i] + _E5 * k[4, i] + _E6 * k[5, i] + _E7 * k[6, i]
        )
        atol = tol[1] if i < 3 else tol[2]
        sc = atol + tol[0] * max(abs(y[i]), abs(y_new[i]))
        acc += (err / sc) ** 2
    return math.sqrt(acc / 6.0)


@numba.njit(cache=True)
def _rejected_step_factor(err: float) -> float:
    """The factor on a step rejected with scaled error ``err`` > 1 (DOPRI5's)."""
    return max(_FACTOR_MIN, _SAFETY * err**-_PI_ALPHA)


@numba.njit(cache=True)
def _accepted_step_factor(err: float, err_before: float, after_rejection: bool) -> float:
    """The factor on the next step after a step accepted with scaled error ``err`` <= 1:
    the PI controller (module notes) with ``err_before``, the floored error of the accepted
    step before; within [0.2, 10], and at most 1 right after a rejection."""
    fac = _SAFETY * max(err, 1e-12) ** -_PI_ALPHA * err_before**_PI_BETA
    fac = min(_FACTOR_MAX, max(_FACTOR_MIN, fac))
    return min(fac, 1.0) if after_rejection else fac


@numba.njit(cache=True)
def _state_height_and_up(y: np.ndarray, p: np.ndarray, fast_air: bool) -> tuple[float, float, float, float]:
    """Geodetic height (m) and local up of state y: exact, or with the fast air's formula."""
    if fast_air:
        return _fast_height_and_up(y[0], y[1], y[2], p)
    return _height_and_up(y[0], y[1], y[2], p[P_A], p[P_E2], p[P_SPHERE] != 0.0)


@numba.njit(cache=True)
def _height_and_rate(y: np.ndarray, p: np.ndarray, fast_air: bool = False) -> tuple[float, float]:
    """Geodetic height (m) and its time derivative (m/s) of state y."""
    h, ux, uy, uz = _state_height_and_up(y, p, fast_air)
    return h, y[3] * ux + y[4] * uy + y[5] * uz


@numba.njit(cache=True)
def _event_value(y: np.ndarray, which: int, ground: float, p: np.ndarray, fast_air: bool = False) -> float:
    h, rate = _height_and_rate(y, p, fast_air)
    return h - ground if which == 0 else rate


@numba.njit(cache=True)
def _hermite(
    y0: np.ndarray, f0: np.ndarray, y1: np.ndarray, f1: np.ndarray, h: float, s: float, out: np.ndarray,
    first: int = 0, count: int = 3,
) -> None:
    """Quintic Hermite interpolation of position (and its derivative for velocity).

    Uses position, velocity and acceleration at both ends of a step of size h; s in [0, 1].
    The positions are the ``count`` entries from ``first`` of the states ``y0``, ``y1``, their
    velocities the ``count`` entries after them, whose derivatives ``f0``, ``f1`` hold.
    """
    s2 = s * s
    s3 = s2 * s
    s4 = s3 * s
    s5 = s4 * s
    h00 = 1.0 - 10.0 * s3 + 15.0 * s4 - 6.0 * s5
    h10 = s - 6.0 * s3 + 8.0 * s4 - 3.0 * s5
    h20 = 0.5 * s2 - 1.5 * s3 + 1.5 * s4 - 0.5 * s5
    h01 = 10.0 * s3 - 15.0 * s4 + 6.0 * s5
    h11 = -4.0 * s3 + 7.0 * s4 - 3.0 * s5
    h21 = 0.5 * s3 - s4 + 0.5 * s5
    d00 = -30.0 * s2 + 60.0 * s3 - 30.0 * s4
    d10 = 1.0 - 18.0 * s2 + 32.0 * s3 - 15.0 * s4
    d20 = s - 4.5 * s2 + 6.0 * s3 - 2.5 * s4
    d01 = 30.0 * s2 - 60.0 * s3 + 30.0 * s4
    d11 = -12.0 * s2 + 28.0 * s3 - 15.0 * s4
    d21 = 1.5 * s2 - 4.0 * s3 + 2.5 * s4
    hh = h * h
    for i in range(first, first + count):
        out[i] = (
            h00 * y0[i] + h10 * h * y0[count + i] + h20 * hh * f0[count + i]
            + h01 * y1[i] + h11 * h * y1[count + i] + h21 * hh * f1[count + i]
        )
        out[count + i] = (
            d00 * y0[i] / h + d10 * y0[count + i] + d20 * h * f0[count + i]
            + d01 * y1[i] / h + d11 * y1[count + i] + d21 * h * f1[count + i]
        )


@numba.njit(cache=True)
def _locate_event(
    y0: np.ndarray,
    f0: np.ndarray,
    y1: np.ndarray,
    f1: np.ndarray,
    h: float,
    g0: float,
    g1: float,
    which: int,
    ground: float,
    y_out: np.ndarray,
    p: np.ndarray,
    fast_air: bool = False,
) -> float:
    """Find tau in (0, h] with event ``which`` (0: height - ground, 1: height rate) = 0 on
    the dense output of the step of size h from state y0 to y1 (derivatives f0, f1).

    ``g0 > 0 >= g1`` are its values at the ends. Illinois regula falsi to 10 um (height)
    or 0.1 um/s (rate); returns tau and leaves the interpolated state there in ``y_out``.
    """
    lo, hi = 0.0, h
    glo, ghi = g0, g1
    side = 0
    tau = h
    tol = 1e-5 if which == 0 else 1e-7
    for _ in range(60):
        tau = (lo * ghi - hi * glo) / (ghi - glo)
        if not (lo < tau < hi):
            tau = 0.5 * (lo + hi)
        _hermite(y0, f0, y1, f1, h, tau / h, y_out)
        g = _event_value(y_out, which, ground, p, fast_air)
        if abs(g) < tol or hi - lo < 1e-9:
            break
        if g > 0.0:
            lo, glo = tau, g
            if side == -1:
                ghi *= 0.5
            side = -1
        else:
            hi, ghi = tau, g
            if side == 1:
                glo *= 0.5
            side = 1
    return tau


TERMINAL_SPEED_TOLERANCE = 0.03
"""A body is in its terminal descent when its velocity is within this fraction of its
terminal speed of the terminal velocity (straight down at v_t)."""


@numba.njit(cache=True)
def _is_terminal(y: np.ndarray, height: float, ux: float, uy: float, uz: float, air_density: float, inv_beta: float,
                 terminal_tau: float, p: np.ndarray) -> bool:
    """Whether a body with drag falls in its quasi-steady terminal descent: its drag
    relaxation time ``v_t / g`` is below ``terminal_tau`` (s) and its velocity is within
    :data:`TERMINAL_SPEED_TOLERANCE` of ``-v_t`` times the local up (``ux``, ``uy``,
    ``uz``) at its ``height`` (m), where the air's density is ``air_density`` (kg/m^3;
    NaN: the exact air's)."""
    if inv_beta <= 0.0 or p[P_DRAG] == 0.0 or height >= TERMINAL_TABLE_TOP_M:
        return False
    g = p[P_MU] / (y[0] * y[0] + y[1] * y[1] + y[2] * y[2])
    vt = math.sqrt(2.0 * g / ((_density(height) if math.isnan(air_density) else air_density) * inv_beta))
    if vt > terminal_tau * g:
        return False
    dx, dy, dz = y[3] + vt * ux, y[4] + vt * uy, y[5] + vt * uz
    return dx * dx + dy * dy + dz * dz <= (TERMINAL_SPEED_TOLERANCE * vt) ** 2


# The flight kernel holds the state, the Runge-Kutta stages and the Earth's parameters in
# tuples (registers, and the parameters' invariant arithmetic hoisted out of the loop by
# the compiler) rather than arrays: a flight costs ~15-20 % less than with arrays, for the
# same arithmetic in the same order. The debris fall's kernel shares these helpers.


@numba.njit(cache=True, inline="always")
def _derivative(s, inv_beta: float, p, fast_air: bool):
    """Time derivative of the state ``s`` (ECEF position m, velocity m/s; a 6-tuple; ``p``
    the Earth's parameters, a tuple) with 1/beta ``inv_beta`` (m^2/kg), in the exact air
    or the fast air (module notes)."""
    if fast_air:
        ax, ay, az = _fast_acceleration(s[0], s[1], s[2], s[3], s[4], s[5], inv_beta, p)
    else:
        ax, ay, az = _acceleration(s[0], s[1], s[2], s[3], s[4], s[5], inv_beta, p)
    return (s[3], s[4], s[5], ax, ay, az)


@numba.njit(cache=True, inline="always")
def _derivative_and_air(s, inv_beta: float, p, fast_air: bool):
    """:func:`_derivative` and the height (m), local up and air density (kg/m^3) at ``s``:
    the derivative's own, from one height (the exact air's arithmetic of
    :func:`hoplon.core.earth._acceleration`); NaN density where the derivative has none
    (no drag, or the sphere, whose drag takes its height from the radius alone)."""
    if not fast_air:
        h, ux, uy, uz = _height_and_up(s[0], s[1], s[2], p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
        if p[P_SPHERE] != 0.0 or p[P_DRAG] == 0.0 or inv_beta == 0.0:
            return _derivative(s, inv_beta, p, False), h, ux, uy, uz, math.nan
        gx, gy, gz = _gravity_in_rotating_frame(s[0], s[1], s[2], s[3], s[4], p)
        density = _density(h)
        ax, ay, az = _with_drag(gx, gy, gz, s[3], s[4], s[5], inv_beta, density)
        return (s[3], s[4], s[5], ax, ay, az), h, ux, uy, uz, density
    h, ux, uy, uz = _fast_height_and_up(s[0], s[1], s[2], p)
    density = _fast_density(h)
    ax, ay, az = _acceleration_in_air(s[0], s[1], s[2], s[3], s[4], s[5], inv_beta, density, p)
    return (s[3], s[4], s[5], ax, ay, az), h, ux, uy, uz, density


@numba.njit(cache=True, inline="always")
def _weighted(c, k, i: int) -> float:
    """``c[0] k[0][i] + c[1] k[1][i] + ...``, summed in that order."""
    s = c[0] * k[0][i]
    for j in range(1, len(c)):
        s += c[j] * k[j][i]
    return s


@numba.njit(cache=True, inline="always")
def _weighted_sums(c, k):
    """:func:`_weighted` of each component."""
    return (_weighted(c, k, 0), _weighted(c, k, 1), _weighted(c, k, 2), _weighted(c, k, 3), _weighted(c, k, 4),
            _weighted(c, k, 5))


@numba.njit(cache=True, inline="always")
def _stage(y, h: float, c, k):
    """``y + h (c[0] k[0] + c[1] k[1] + ...)``, component by component."""
    s = _weighted_sums(c, k)
    return (y[0] + h * s[0], y[1] + h * s[1], y[2] + h * s[2], y[3] + h * s[3], y[4] + h * s[4], y[5] + h * s[5])


@numba.njit(cache=True, inline="always")
def _dopri_step(y, h: float, k0, inv_beta: float, p, fast_air: bool):
    """One Dormand-Prince step from ``y`` (``k0`` = f(y)) by ``h``: the 5th-order solution
    and, per component, its error estimate's sum without the last term, h e7 f(y_new)
    (FSAL: the caller's, with the height and air there, :func:`_derivative_and_air`)."""
    k1 = _derivative(_stage(y, h * _A21, (1.0,), (k0,)), inv_beta, p, fast_air)  # y + (h a21) k0
    k2 = _derivative(_stage(y, h, (_A31, _A32), (k0, k1)), inv_beta, p, fast_air)
    k3 = _derivative(_stage(y, h, (_A41, _A42, _A43), (k0, k1, k2)), inv_beta, p, fast_air)
    k4 = _derivative(_stage(y, h, (_A51, _A52, _A53, _A54), (k0, k1, k2, k3)), inv_beta, p, fast_air)
    k5 = _derivative(_stage(y, h, (_A61, _A62, _A63, _A64, _A65), (k0, k1, k2, k3, k4)), inv_beta, p, fast_air)
    k = (k0, k2, k3, k4, k5)
    return _stage(y, h, (_B1, _B3, _B4, _B5, _B6), k), _weighted_sums((_E1, _E3, _E4, _E5, _E6), k)


@numba.njit(cache=True, inline="always")
def _error(y, y_new, e5, k6, h: float, tol) -> float:
    """:func:`_error_norm` of the step from ``y`` to ``y_new``: ``e5`` from
    :func:`_dopri_step`, ``k6`` = f(y_new)."""
    acc = 0.0
    for i in range(6):
        err = h * (e5[i] + _E7 * k6[i])
        atol = tol[1] if i < 3 else tol[2]
        sc = atol + tol[0] * max(abs(y[i]), abs(y_new[i]))
        acc += (err / sc) ** 2
    return math.sqrt(acc / 6.0)


@numba.njit(cache=True, inline="always")
def _as_tuple6(a: np.ndarray):
    """The first six entries of ``a``, as a tuple."""
    return (a[0], a[1], a[2], a[3], a[4], a[5])


@numba.njit(cache=True)
def _fly_one(
    y0: np.ndarray,
    inv_beta: float,
    t_max: float,
    ground: float,
    stop_at_ground: bool,
    stop_at_apogee: bool,
    p_array: np.ndarray,
    tol_array: np.ndarray,
    sample_t0: float,
    sample_dt: float,
    samples: np.ndarray,
    y_end: np.ndarray,
    apogee: np.ndarray,
    terminal_tau: float = 0.0,
    fast_air: bool = False,
) -> tuple[int, float, int]:
    """Fly one body from y0 (time 0) until impact (height ``ground``), apogee or t_max.

    With ``terminal_tau > 0`` a falling body with drag also stops
    (:data:`STATUS_TERMINAL`) once it is in its quasi-steady terminal descent:
    :func:`_is_terminal`. ``fast_air``: the fast air of the module notes.

    Returns (status, end time, number of samples written). Samples at times
    ``sample_t0 + j*sample_dt`` (>= 0, <= end) go to ``samples[j]`` rows of
    [t, x, y, z, vx, vy, vz] as long as there is room (``sample_dt <= 0``: none).
    ``apogee`` receives [t, x, y, z, vx, vy, vz, height] of the highest point flown.
    """
    p = (p_array[0], p_array[1], p_array[2], p_array[3], p_array[4], p_array[5], p_array[6])
    tol = (tol_array[0], tol_array[1], tol_array[2])
    y = _as_tuple6(y0)
    y_ev = np.empty(6)
    interp = np.empty(6)
    k0, g_h, ux, uy, uz, _ = _derivative_and_air(y, inv_beta, p, fast_air)
    g_rate = y[3] * ux + y[4] * uy + y[5] * uz
    t = 0.0
    apogee[0] = 0.0
    for c in range(6):
        apogee[1 + c] = y[c]
    apogee[7] = g_h
    # the apogee is the start when the body is not climbing
    climbing = g_rate > 0.0
    n_samples = samples.shape[0]
    j = 0
    if sample_dt > 0.0:
        j = max(0, int(math.ceil((0.0 - sample_t0) / sample_dt - 1e-12)))
    written = 0
    if stop_at_ground and g_h <= ground and g_rate <= 0.0:
        for c in range(6):
            y_end[c] = y[c]
        return STATUS_IMPACT, 0.0, 0
    # initial step: a fraction of the time to change velocity noticeably
    speed = math.sqrt(y[3] ** 2 + y[4] ** 2 + y[5] ** 2)
    accel = math.sqrt(k0[3] ** 2 + k0[4] ** 2 + k0[5] ** 2)
    h = min(10.0, 0.01 * (speed + 100.0) / max(accel, 1e-3))
    status = STATUS_TIMEOUT
    err_before, rejected = _ERROR_FLOOR, False  # the controller's memory
    for _ in range(_MAX_STEPS):
        if t >= t_max:
            break
        if t + h > t_max:
            h = t_max - t
        y_new, e5 = _dopri_step(y, h, k0, inv_beta, p, fast_air)
        k6, n_h, ux, uy, uz, air_density = _derivative_and_air(y_new, inv_beta, p, fast_air)
        err = _error(y, y_new, e5, k6, h, tol)
        if err > 1.0:
            h *= _rejected_step_factor(err)
            rejected = True
            if h < 1e-9:
                status = STATUS_FAILED
                break
            continue
        # accepted: events inside [t, t + h], on the step's dense output
        t_stop = h
        event = -1
        n_rate = y_new[3] * ux + y_new[4] * uy + y_new[5] * uz
        if climbing and n_rate <= 0.0:
            tau = _locate_event(y, k0, y_new, k6, h, g_rate, n_rate, 1, 0.0, y_ev, p, fast_air)
            apogee[0] = t + tau
            for c in range(6):
                apogee[1 + c] = y_ev[c]
            apogee[7] = _height_and_rate(y_ev, p, fast_air)[0]
            climbing = False
            if stop_at_apogee:
                event = 1
                t_stop = tau
        if event < 0 and stop_at_ground and n_h <= ground and g_h > ground:
            t_stop = _locate_event(y, k0, y_new, k6, h, g_h - ground, n_h - ground, 0, ground, y_ev, p, fast_air)
            event = 0
        # samples in (t, t + t_stop]
        if sample_dt > 0.0:
            while written < n_samples:
                ts = sample_t0 + j * sample_dt
                if ts > t + t_stop + 1e-9:
                    break
                _hermite(y, k0, y_new, k6, h, min(max((ts - t) / h, 0.0), t_stop / h), interp)
                samples[written, 0] = ts
                for c in range(6):
                    samples[written, 1 + c] = interp[c]
                written += 1
                j += 1
        if event >= 0:
            t += t_stop
            y = _as_tuple6(y_ev)
            status = STATUS_IMPACT if event == 0 else STATUS_APOGEE
            break
        t += h
        y, k0 = y_new, k6
        g_h, g_rate = n_h, n_rate
        if not climbing and g_h > apogee[7]:
            # a body that started downward and then climbs again (rare): keep the max
            apogee[0] = t
            for c in range(6):
                apogee[1 + c] = y[c]
            apogee[7] = g_h
        if not climbing and g_rate > 0.0:
            climbing = True
        if (terminal_tau > 0.0 and stop_at_ground and not climbing
                and _is_terminal(y, g_h, ux, uy, uz, air_density, inv_beta, terminal_tau, p)):
            status = STATUS_TERMINAL
            break
        factor = _accepted_step_factor(err, err_before, rejected)
        err_before, rejected = max(err, _ERROR_FLOOR), False
        h *= factor
    else:
        status = STATUS_FAILED
    for c in range(6):
        y_end[c] = y[c]
    return status, t, written


@numba.njit(cache=True)
def _fly_item(
    i: int, r0: np.ndarray, v0: np.ndarray, inv_beta: np.ndarray, t_max: np.ndarray, ground: np.ndarray,
    stop_at_ground: bool, stop_at_apogee: bool, p: np.ndarray, tol: np.ndarray, sample_t0: np.ndarray,
    sample_dt: float, sample_offsets: np.ndarray, samples: np.ndarray, status: np.ndarray, t_end: np.ndarray,
    y_end: np.ndarray, apogee: np.ndarray, n_written: np.ndarray, terminal_tau: float, fast_air: bool,
) -> None:
    y0 = np.empty(6)
    y0[0:3] = r0[i]
    y0[3:6] = v0[i]
    yend = np.empty(6)
    apo = np.empty(8)
    s0 = sample_offsets[i]
    s1 = sample_offsets[i + 1]
    st, te, w = _fly_one(
        y0, inv_beta[i], t_max[i], ground[i], stop_at_ground, stop_at_apogee, p, tol,
        sample_t0[i], sample_dt, samples[s0:s1], yend, apo, terminal_tau, fast_air,
    )
    status[i] = st
    t_end[i] = te
    y_end[i] = yend
    apogee[i] = apo
    n_written[i] = w


@numba.njit(cache=True)
def fly_state_for(y0: np.ndarray, inv_beta: float, duration_s: float, p: np.ndarray, rtol: float,
                  y_end: np.ndarray) -> int:
    """Compiled, for numba callers: fly one state ``y0`` (6,: ECEF m, m/s) with 1/beta
    ``inv_beta`` (m^2/kg) for ``duration_s`` (s, >= 0) or to the ground, as
    :func:`propagate` flies it at ``rtol`` (bit for bit); ``p``: the earth model's
    params. Writes the end state into ``y_end`` (6,); returns the status."""
    tol = np.array([rtol, _ATOL_POS_M, _ATOL_VEL_MPS])
    no_samples = np.empty((0, 7))
    apogee = np.empty(8)
    status, _, _ = _fly_one(y0, inv_beta, duration_s, 0.0, True, False, p, tol, 0.0, 0.0, no_samples[0:0], y_end,
                            apogee, 0.0, False)
    return status


@numba.njit(cache=True, parallel=True)
def _fly_many_parallel(
    r0, v0, inv_beta, t_max, ground, stop_at_ground, stop_at_apogee, p, tol, sample_t0, sample_dt,
    sample_offsets, samples, status, t_end, y_end, apogee, n_written, terminal_tau, fast_air,
) -> None:
    for i in numba.prange(r0.shape[0]):
        _fly_item(
            i, r0, v0, inv_beta, t_max, ground, stop_at_ground, stop_at_apogee, p, tol, sample_t0, sample_dt,
            sample_offsets, samples, status, t_end, y_end, apogee, n_written, terminal_tau, fast_air,
        )


@numba.njit(cache=True)
def _fly_many_serial(
    r0, v0, inv_beta, t_max, ground, stop_at_ground, stop_at_apogee, p, tol, sample_t0, sample_dt,
    sample_offsets, samples, status, t_end, y_end, apogee, n_written, terminal_tau, fast_air,
) -> None:
    for i in range(r0.shape[0]):
        _fly_item(
            i, r0, v0, inv_beta, t_max, ground, stop_at_ground, stop_at_apogee, p, tol, sample_t0, sample_dt,
            sample_offsets, samples, status, t_end, y_end, apogee, n_written, terminal_tau, fast_air,
        )


ONE_PASS_MAX_SAMPLES = 1 << 20
""":func:`sample_flight` reserves room for every body's samples up to its time limit and
flies once while that is at most this many rows (56 MB, touched only where written);
beyond, a first pass finds the flight times."""

PARALLEL_MIN_BODIES = 32
"""Batches smaller than this run on one thread: for a few bodies, waking the thread pool
costs more than it saves (and much more on a busy machine)."""


# ------------------------------------------------------------------ sensitivity kernels

_SENSITIVITY_SIZE = 6 + 6 * 7
"""A body's state (6) flown together with its sensitivity, the (6, 7) matrix
d(state) / d(initial state, 1/beta), row-major."""


@numba.njit(cache=True, inline="always")
def _deriv_sensitivity(y: np.ndarray, out: np.ndarray, inv_beta: float, p: np.ndarray, A: np.ndarray) -> None:
    """Time derivative of the state ``y[:6]`` and of its sensitivity Phi = ``y[6:]``: the
    variational equations dPhi/dt = F Phi + dF/d(1/beta) with F the Jacobian of the
    dynamics (``A``: (3, 7) scratch for the acceleration's derivatives). The state's
    derivative has the bits of :func:`_derivative`."""
    out[0] = y[3]
    out[1] = y[4]
    out[2] = y[5]
    out[3], out[4], out[5] = _acceleration_and_jacobian(y[0], y[1], y[2], y[3], y[4], y[5], inv_beta, p, A)
    for j in range(21):  # the position rows change by the velocity rows
        out[6 + j] = y[27 + j]
    for a in range(3):  # the velocity rows by A (r, v) Phi, plus the drag column's own term
        for j in range(7):
            acc = A[a, 6] if j == 6 else 0.0
            for b in range(6):
                acc += A[a, b] * y[6 + 7 * b + j]
            out[27 + 7 * a + j] = acc


@numba.njit(cache=True, inline="always")
def _rk_step_sensitivity(
    y: np.ndarray, h: float, k: np.ndarray, tmp: np.ndarray, y_new: np.ndarray, inv_beta: float, p: np.ndarray,
    A: np.ndarray,
) -> None:
    """:func:`_dopri_step` of the state and its sensitivity (the state's bits unchanged)."""
    n = y.shape[0]
    for i in range(n):
        tmp[i] = y[i] + h * _A21 * k[0, i]
    _deriv_sensitivity(tmp, k[1], inv_beta, p, A)
    for i in range(n):
        tmp[i] = y[i] + h * (_A31 * k[0, i] + _A32 * k[1, i])
    _deriv_sensitivity(tmp, k[2], inv_beta, p, A)
    for i in range(n):
        tmp[i] = y[i] + h * (_A41 * k[0, i] + _A42 * k[1, i] + _A43 * k[2, i])
    _deriv_sensitivity(tmp, k[3], inv_beta, p, A)
    for i in range(n):
        tmp[i] = y[i] + h * (_A51 * k[0, i] + _A52 * k[1, i] + _A53 * k[2, i] + _A54 * k[3, i])
    _deriv_sensitivity(tmp, k[4], inv_beta, p, A)
    for i in range(n):
        tmp[i] = y[i] + h * (
            _A61 * k[0, i] + _A62 * k[1, i] + _A63 * k[2, i] + _A64 * k[3, i] + _A65 * k[4, i]
        )
    _deriv_sensitivity(tmp, k[5], inv_beta, p, A)
    for i in range(n):
        y_new[i] = y[i] + h * (_B1 * k[0, i] + _B3 * k[2, i] + _B4 * k[3, i] + _B5 * k[4, i] + _B6 * k[5, i])
    _deriv_sensitivity(y_new, k[6], inv_beta, p, A)


@numba.njit(cache=True)
def _fly_sensitivity_one(y0: np.ndarray, inv_beta: float, t_max: float, p: np.ndarray, tol: np.ndarray,
                         sample_dt: float, samples: np.ndarray, y_end: np.ndarray,
                         apogee: np.ndarray) -> tuple[int, float, int]:
    """:func:`_fly_one` of a body to geodetic height 0 with its sensitivity (``y0``: the
    state and the identity sensitivity): the same steps (error control on the state
    only) and the same dense output, so the state, its samples (every ``sample_dt`` s
    from the start, as room allows; 0: none), the apogee and the impact have the bits of
    that flight; the dense output of the sensitivity carries it to the impact. Returns
    (status, end time, number of samples written)."""
    y = y0.copy()
    y_new = np.empty(_SENSITIVITY_SIZE)
    tmp = np.empty(_SENSITIVITY_SIZE)
    f0 = np.empty(_SENSITIVITY_SIZE)
    k = np.empty((7, _SENSITIVITY_SIZE))
    A = np.empty((3, 7))
    interp = np.empty(6)
    y_event = np.empty(6)
    _deriv_sensitivity(y, k[0], inv_beta, p, A)
    t = 0.0
    g_h, g_rate = _height_and_rate(y, p)
    apogee[0] = 0.0
    apogee[1:7] = y[:6]
    apogee[7] = g_h
    climbing = g_rate > 0.0
    j = 0  # the next sample
    if g_h <= 0.0 and g_rate <= 0.0:
        y_end[:] = y
        return STATUS_IMPACT, 0.0, 0
    speed = math.sqrt(y[3] ** 2 + y[4] ** 2 + y[5] ** 2)
    accel = math.sqrt(k[0, 3] ** 2 + k[0, 4] ** 2 + k[0, 5] ** 2)
    h = min(10.0, 0.01 * (speed + 100.0) / max(accel, 1e-3))
    status = STATUS_TIMEOUT
    err_before, rejected = _ERROR_FLOOR, False
    for _ in range(_MAX_STEPS):
        if t >= t_max:
            break
        if t + h > t_max:
            h = t_max - t
        f0[:] = k[0]
        _rk_step_sensitivity(y, h, k, tmp, y_new, inv_beta, p, A)
        err = _error_norm(y, y_new, k, h, tol)
        if err > 1.0:
            h *= _rejected_step_factor(err)
            rejected = True
            k[0, :] = f0
            if h < 1e-9:
                status = STATUS_FAILED
                break
            continue
        t_stop = h
        n_h, n_rate = _height_and_rate(y_new, p)
        if climbing and n_rate <= 0.0:
            tau = _locate_event(y[:6], f0[:6], y_new[:6], k[6, :6], h, g_rate, n_rate, 1, 0.0, y_event, p)
            apogee[0] = t + tau
            apogee[1:7] = y_event
            apogee[7] = _height_and_rate(y_event, p)[0]
            climbing = False
        impact = n_h <= 0.0 and g_h > 0.0
        if impact:
            t_stop = _locate_event(y[:6], f0[:6], y_new[:6], k[6, :6], h, g_h, n_h, 0, 0.0, y_event, p)
        while sample_dt > 0.0 and j < samples.shape[0]:  # samples in (t, t + t_stop]
            ts = j * sample_dt
            if ts > t + t_stop + 1e-9:
                break
            _hermite(y, f0, y_new, k[6], h, min(max((ts - t) / h, 0.0), t_stop / h), interp)
            samples[j, 0] = ts
            samples[j, 1:7] = interp
            j += 1
        if impact:
            _hermite(y, f0, y_new, k[6], h, t_stop / h, tmp, 6, 21)  # the sensitivity (rows of 7)
            y[:6] = y_event
            y[6:] = tmp[6:]
            t += t_stop
            status = STATUS_IMPACT
            break
        t += h
        y[:] = y_new
        k[0, :] = k[6]
        g_h, g_rate = n_h, n_rate
        if not climbing and g_h > apogee[7]:  # a body that started downward climbs again (rare)
            apogee[0] = t
            apogee[1:7] = y[:6]
            apogee[7] = g_h
        if not climbing and g_rate > 0.0:
            climbing = True
        factor = _accepted_step_factor(err, err_before, rejected)
        err_before, rejected = max(err, _ERROR_FLOOR), False
        h *= factor
    else:
        status = STATUS_FAILED
    y_end[:] = y
    return status, t, j


@numba.njit(cache=True)
def _fly_sensitivity_many(r0, v0, inv_beta, t_max, p, tol, sample_dt, sample_offsets, samples, status, t_end, y_end,
                          apogee, n_written, d_east_north, d_time) -> None:
    """:func:`_fly_sensitivity_one` for each body, and the derivatives of its impact point
    in the local east/north plane (N, 2, 7) and of its time (N, 7) (:func:`impact_sensitivity`)."""
    for i in range(r0.shape[0]):
        y = np.zeros(_SENSITIVITY_SIZE)
        y[0:3] = r0[i]
        y[3:6] = v0[i]
        for j in range(6):
            y[6 + 7 * j + j] = 1.0
        status[i], t_end[i], n_written[i] = _fly_sensitivity_one(
            y.copy(), inv_beta[i], t_max[i], p, tol, sample_dt, samples[sample_offsets[i] : sample_offsets[i + 1]], y,
            apogee[i])
        y_end[i] = y[:6]
        _, ux, uy, uz = _height_and_up(y[0], y[1], y[2], p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
        rho = math.sqrt(y[0] * y[0] + y[1] * y[1])
        ex, ey = (-y[1] / rho, y[0] / rho) if rho > 0.0 else (0.0, 1.0)  # east (at a pole: longitude 0)
        nx, ny, nz = -uz * ey, uz * ex, ux * ey - uy * ex  # north = up x east
        climb = ux * y[3] + uy * y[4] + uz * y[5]
        for j in range(7):
            dx, dy, dz = y[6 + j], y[13 + j], y[20 + j]  # d(position at the impact time)
            dt = -(ux * dx + uy * dy + uz * dz) / climb
            dx, dy, dz = dx + y[3] * dt, dy + y[4] * dt, dz + y[5] * dt
            d_time[i, j] = dt
            d_east_north[i, 0, j] = ex * dx + ey * dy
            d_east_north[i, 1, j] = nx * dx + ny * dy + nz * dz


@numba.njit(cache=True)
def _sensitivity_flights(r0, v0, inv_beta, t_max, p, tol, sample_dt):
    """:func:`impact_sensitivity`'s flights (:func:`_fly_sensitivity_many`) and what it
    returns, as arrays: the fields of the ImpactResult (as :func:`_impact_result` makes
    them, the latitude and longitude with frames.ecef_to_geodetic's arithmetic), d(east,
    north), d(time) and, with ``sample_dt`` > 0, the fields of the FlightSamples but their
    end (as :func:`_flight_samples` makes them; room for every sample up to ``t_max``).
    Raises ValueError where a state or 1/beta is not finite, or, sampled, a time limit."""
    n = r0.shape[0]
    for i in range(n):
        finite = math.isfinite(inv_beta[i])
        for a in range(3):
            finite = finite and math.isfinite(r0[i, a]) and math.isfinite(v0[i, a])
        if not finite:
            raise ValueError("states and inv_beta_m2_kg must be finite")
    offsets = np.zeros(n + 1, np.int64)
    if sample_dt > 0.0:
        for i in range(n):
            if not math.isfinite(t_max[i]):
                raise ValueError("sampled flights need a finite max_time_s")
            offsets[i + 1] = offsets[i] + _samples_from_zero(t_max[i], sample_dt)
    samples = np.empty((offsets[n], 7))
    status, written = np.empty(n, np.int64), np.empty(n, np.int64)
    t_end, y_end, apogee = np.empty(n), np.empty((n, 6)), np.empty((n, 8))
    d_east_north, d_time = np.empty((n, 2, 7)), np.empty((n, 7))
    _fly_sensitivity_many(r0, v0, inv_beta, t_max, p, tol, sample_dt, offsets, samples, status, t_end, y_end, apogee,
                          written, d_east_north, d_time)
    time_s, lat, lon, alt = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        time_s[i] = t_end[i] if status[i] == STATUS_IMPACT else math.nan
    r_end = y_end[:, :3].copy()
    _ecef_to_geodetic_array(r_end, p[P_A], p[P_E2], p[P_SPHERE] != 0.0, lat, lon, alt)
    impact = (time_s, lat, lon, r_end, y_end[:, 3:].copy(), status, apogee[:, 0].copy(), apogee[:, 7].copy(),
              apogee[:, 1:4].copy(), np.full(n, math.nan))  # integrated to the end
    rows = np.empty((0, 7))
    if sample_dt > 0.0:
        kept = np.empty(n, np.int64)
        for i in range(n):
            kept[i] = min(written[i], _samples_from_zero(t_end[i], sample_dt))
        offsets, rows = _samples_table(samples, offsets, kept, t_end, y_end)
    return impact, d_east_north, d_time, (offsets, rows[:, 0].copy(), rows[:, 1:4].copy(), rows[:, 4:7].copy())


@numba.njit(cache=True)
def _samples_from_zero(t: float, step: float) -> int:
    """:func:`_grid_count` of the grid from 0: how many of the times k step (k >= 0) lie
    in [0, t]."""
    return int(max(0.0, math.floor(t / step + 1e-9) + 1.0))


# --------------------------------------------------------------------------- public API


class ImpactResult(NamedTuple):
    """Where and when N bodies reach geodetic height 0 (arrays of length N).

    ``time_s`` is the flight time from the given states; ``status`` is
    :data:`STATUS_IMPACT` where they impact within ``max_time_s`` (elsewhere the
    impact fields hold the last state and ``time_s`` is NaN). The apogee fields give
    the highest point flown (the start, when a body is not climbing).
    ``terminal_alt_m`` (with ``terminal_tau_s``): the height at which a body's
    closed-form terminal descent began, NaN where it was integrated to the end.
    """

    time_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    status: np.ndarray
    apogee_time_s: np.ndarray
    apogee_alt_m: np.ndarray
    apogee_r_ecef_m: np.ndarray
    terminal_alt_m: np.ndarray | None = None


class PropagationResult(NamedTuple):
    """States of N bodies after a flight of at most ``duration_s``.

    ``time_s`` is the time actually flown (shorter where a body hit the ground,
    ``impacted`` True).
    """

    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    time_s: np.ndarray
    impacted: np.ndarray


class FlightSamples(NamedTuple):
    """Regularly sampled flights of N bodies, as flat arrays with per-body offsets.

    Body i owns rows ``offsets[i]:offsets[i+1]``: ``time_s`` (since the start of its
    flight, on the grid ``t0_s + k*step_s``), ECEF positions and velocities. The last
    row of each body is its impact (or end) state at its exact time.
    """

    offsets: np.ndarray
    time_s: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    end: ImpactResult


def _prepare(r_ecef_m, v_ecef_mps, beta_kg_m2):
    r = np.ascontiguousarray(r_ecef_m, dtype=np.float64)
    v = np.ascontiguousarray(v_ecef_mps, dtype=np.float64)
    scalar = r.ndim == 1
    r = np.atleast_2d(r)
    v = np.atleast_2d(v)
    if r.shape != v.shape or r.shape[1] != 3:
        raise ValueError(f"r_ecef_m and v_ecef_mps must both have shape (N, 3); got {r.shape} and {v.shape}")
    if not (np.isfinite(r).all() and np.isfinite(v).all()):
        raise ValueError("states must be finite")
    inv_b = inverse_beta(beta_kg_m2, r.shape[0])
    return r, v, inv_b, scalar


def _tolerances(rtol) -> np.ndarray:
    """[rtol, atol_pos_m, atol_vel_mps] from a scalar rtol or an explicit triple."""
    tol = np.atleast_1d(np.asarray(rtol, dtype=np.float64))
    if tol.size == 1:
        return np.array([tol[0], _ATOL_POS_M, _ATOL_VEL_MPS])
    return tol.copy()


def _per_body(x, n: int) -> np.ndarray:
    """``x`` (a number or (n,)) as a contiguous float64 array (n,) the kernels only read
    (an array that already is one is passed as it is)."""
    if isinstance(x, float | int):
        return np.full(n, float(x))
    if type(x) is np.ndarray and x.shape == (n,) and x.dtype == np.float64 and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)))


def _run(
    r, v, inv_b, model, *, t_max, stop_at_ground, stop_at_apogee, rtol,
    ground_alt_m=0.0, sample_t0=None, sample_dt=0.0, sample_counts=None, terminal_tau_s=0.0, fast_air=False,
):
    n = r.shape[0]
    if sample_counts is None:
        offsets = np.zeros(n + 1, dtype=np.int64)
        samples = np.empty((0, 7))
        sample_t0 = np.zeros(n)
    else:
        offsets = np.concatenate([[0], np.cumsum(sample_counts)]).astype(np.int64)
        samples = np.empty((int(offsets[-1]), 7))
    status = np.empty(n, dtype=np.int64)
    t_end = np.empty(n)
    y_end = np.empty((n, 6))
    apogee = np.empty((n, 8))
    written = np.empty(n, dtype=np.int64)
    kernel = _fly_many_parallel if n >= PARALLEL_MIN_BODIES else _fly_many_serial
    kernel(
        r, v, inv_b, _per_body(t_max, n), _per_body(ground_alt_m, n),
        stop_at_ground, stop_at_apogee, model.params(), _tolerances(rtol),
        _per_body(sample_t0, n), float(sample_dt), offsets, samples,
        status, t_end, y_end, apogee, written, float(terminal_tau_s), bool(fast_air),
    )
    return status, t_end, y_end, apogee, offsets, samples, written


def terminal_time_scale(lat_deg, lon_deg, inv_beta_m2_kg, model: EarthModel) -> tuple[np.ndarray, np.ndarray]:
    """For bodies in their terminal descent at (lat, lon) (deg): the surface gravity below
    them (m/s^2, with the centrifugal term) and the seconds per unit of the fall integral
    S of :func:`hoplon.core.earth.terminal_fall_table`, ``sqrt(G_REF / g_s) / sqrt(beta)``."""
    from hoplon.core.frames import geodetic_to_ecef  # noqa: PLC0415

    lat = np.atleast_1d(np.asarray(lat_deg, float))
    r_ground = np.atleast_2d(geodetic_to_ecef(lat, lon_deg, np.zeros(lat.size), earth=model))
    g_vec = np.empty_like(r_ground)
    _acceleration_array(r_ground, np.zeros_like(r_ground), np.zeros(lat.size), model.params(), g_vec)
    g_s = np.linalg.norm(g_vec, axis=1)
    return g_s, np.sqrt(TERMINAL_G_REF_MPS2 * np.asarray(inv_beta_m2_kg, float) / g_s)


@numba.njit(cache=True)
def _interp_on_grid(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp(x, xp, fp)`` bit for bit (its arithmetic: the slope of the cell times the
    offset in it, NaN handling included) for ``xp`` ascending and nearly evenly spaced (the
    heights of :func:`hoplon.core.earth.terminal_fall_table`): each cell is found from one
    division and checked against its ends, not by a binary search through the table."""
    n = xp.shape[0]
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        v = x[i]
        if not v >= xp[0] or v > xp[n - 1]:  # NaN, or outside: np.interp's NaN and end values
            out[i] = v if math.isnan(v) else (fp[0] if v < xp[0] else fp[n - 1])
            continue
        j = min(int((v - xp[0]) / (xp[n - 1] - xp[0]) * (n - 1)), n - 1)
        while xp[j] > v:
            j -= 1
        while j < n - 1 and xp[j + 1] <= v:
            j += 1
        if j == n - 1 or xp[j] == v:
            out[i] = fp[j]
            continue
        slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])
        out[i] = slope * (v - xp[j]) + fp[j]
        if math.isnan(out[i]):  # np.interp then tries from the other end
            out[i] = slope * (v - xp[j + 1]) + fp[j + 1]
            if math.isnan(out[i]) and fp[j] == fp[j + 1]:
                out[i] = fp[j]
    return out


def _finish_terminal(status, t_end, y_end, inv_b, t_max, ground_alt_m, model: EarthModel):
    """Finish in closed form the fall of the bodies that stopped in their terminal descent
    (:data:`STATUS_TERMINAL`): they fall along the local vertical at their local terminal
    speed (quasi-steady descent, :func:`hoplon.core.earth.terminal_fall_table`), reaching
    ``ground_alt_m`` or, if later than ``t_max``, stopping at ``t_max`` in the air.

    Returns new (status, t_end, y_end) and the height where each body's quasi-steady
    descent began (NaN for the others). First-order corrections: the speed lags behind
    the falling terminal speed by ``v_t dv_t/dz / (2 g)`` (and a start off the terminal
    speed decays within ``v_t / (2 g)``), which shortens the fall by ``(v_0 - v_t(end)) /
    (2 g)`` with v_0 the downward speed at the start; a horizontal speed u_0 left at the
    start decays within ``v_t / g`` and carries the body ``u_0 v_t / g``; the Coriolis
    force deflects the falling body east by ``2 omega cos(lat) / g`` times the integral
    of its speed over the height fallen (drag holds its eastward speed at
    ``2 omega cos(lat) v_t^2 / g``).
    """
    from hoplon.core.frames import ecef_to_geodetic, enu_rotation, geodetic_to_ecef  # noqa: PLC0415

    n = status.shape[0]
    terminal_alt = np.full(n, np.nan)
    if not (status == STATUS_TERMINAL).any():
        return status, t_end, y_end, terminal_alt
    idx = np.flatnonzero(status == STATUS_TERMINAL)
    status, t_end, y_end = status.copy(), t_end.copy(), y_end.copy()
    geo = ecef_to_geodetic(y_end[idx, :3], earth=model)
    lat, lon, h = (np.atleast_1d(np.asarray(x, float)) for x in (geo.lat_deg, geo.lon_deg, geo.alt_m))
    ground = _per_body(ground_alt_m, n)[idx]
    tmax = _per_body(t_max, n)[idx]
    g_s, scale = terminal_time_scale(lat, lon, inv_b[idx], model)
    table = terminal_fall_table()
    a = model.a_m

    def terminal_speed(z):
        return np.sqrt(2.0 * g_s * (a / (a + z)) ** 2 / (np.atleast_1d(density_kg_m3(z)) * inv_b[idx]))

    R = enu_rotation(lat, lon).reshape(-1, 3, 3)
    v_down = -np.einsum("ni,ni->n", R[:, 2, :], y_end[idx, 3:])
    # a horizontal speed left at the start decays within v_t / g: it carries the body that far
    v_horizontal = y_end[idx, 3:] + v_down[:, None] * R[:, 2, :]
    carry = v_horizontal * (terminal_speed(h) / g_s)[:, None]
    s_start = _interp_on_grid(h, table.z_m, table.S)
    vt_ground = terminal_speed(ground)
    fall_s = scale * (s_start - _interp_on_grid(ground, table.z_m, table.S)) - (v_down - vt_ground) / (2.0 * g_s)
    lands = t_end[idx] + fall_s <= tmax
    # in the air at t_max: the height the quasi-steady fall reaches (lag correction neglected there)
    aloft = np.flatnonzero(~lands)
    end_h = ground.copy()
    end_h[aloft] = np.interp(s_start[aloft] - (tmax[aloft] - t_end[idx][aloft]) / scale[aloft], table.S, table.z_m)
    t_end[idx] = np.where(lands, t_end[idx] + fall_s, tmax)
    status[idx] = np.where(lands, STATUS_IMPACT, STATUS_TIMEOUT)
    vt = np.where(lands, vt_ground, terminal_speed(end_h))
    # Coriolis: east by 2 omega cos(lat) / g times the integral of v_t over the height fallen
    speed_integral = np.sqrt(g_s / (TERMINAL_G_REF_MPS2 * inv_b[idx])) * (
        _interp_on_grid(h, table.z_m, table.V) - _interp_on_grid(end_h, table.z_m, table.V))
    east = 2.0 * model.omega_rad_s * np.cos(np.radians(lat)) / g_s * speed_integral
    y_end[idx, :3] = np.atleast_2d(geodetic_to_ecef(lat, lon, end_h, earth=model)) + east[:, None] * R[:, 0, :] + carry
    y_end[idx, 3:] = -vt[:, None] * R[:, 2, :]
    terminal_alt[idx] = h
    return status, t_end, y_end, terminal_alt


def _impact_result(status, t_end, y_end, apogee, model: EarthModel, terminal_alt=None) -> ImpactResult:
    from hoplon.core.frames import ecef_to_geodetic  # noqa: PLC0415 (avoid import cycle)

    geo = ecef_to_geodetic(y_end[:, :3], earth=model)
    hit = status == STATUS_IMPACT
    return ImpactResult(
        time_s=np.where(hit, t_end, np.nan),
        lat_deg=np.asarray(geo.lat_deg),
        lon_deg=np.asarray(geo.lon_deg),
        r_ecef_m=y_end[:, :3].copy(),
        v_ecef_mps=y_end[:, 3:].copy(),
        status=status,
        apogee_time_s=apogee[:, 0].copy(),
        apogee_alt_m=apogee[:, 7].copy(),
        apogee_r_ecef_m=apogee[:, 1:4].copy(),
        terminal_alt_m=terminal_alt,
    )


def _squeeze(result, scalar: bool):
    if not scalar:
        return result
    return type(result)(*(np.asarray(f)[0] if isinstance(f, np.ndarray) else f for f in result))


def propagate_to_impact(
    r_ecef_m: np.ndarray,
    v_ecef_mps: np.ndarray,
    beta_kg_m2: np.ndarray | float,
    *,
    earth: str | EarthModel = "wgs84",
    max_time_s: float | np.ndarray = 7200.0,
    ground_alt_m: float | np.ndarray = 0.0,
    rtol: float = DEFAULT_RTOL,
    inv_beta_m2_kg: np.ndarray | None = None,
    terminal_tau_s: float = 0.0,
    fast_air: bool = False,
) -> ImpactResult:
    """Fly N bodies in free flight until they reach geodetic height 0.

    ``r_ecef_m`` (N, 3) ECEF positions, m; ``v_ecef_mps`` (N, 3) velocities relative
    to the rotating Earth (the time derivative of the ECEF position), m/s;
    ``beta_kg_m2`` (N,) or scalar ballistic coefficients, kg/m^2 (``inf``: no drag).
    Returns the impact time (s after the given states), geodetic latitude and
    longitude (deg), ECEF position and velocity at impact, and the apogee.
    ``ground_alt_m`` (scalar or (N,)) moves the impact surface to that geodetic height
    (the height of the ground around a target; default the ellipsoid).
    ``inv_beta_m2_kg`` (N,), if given, replaces ``beta_kg_m2`` by its inverse and may be
    negative: a negative 1/beta is the drag of a time-reversed flight (back-propagation).
    ``terminal_tau_s`` > 0: a falling body whose drag relaxation time ``v_t / g`` drops
    below it while it falls within 3 % of its terminal velocity finishes its fall in
    closed form, at its local terminal speed along the vertical (the stiff part of a
    light fragment's fall, which the explicit integrator would crawl through in steps of
    a few relaxation times; see :func:`_finish_terminal` for what that neglects).
    ``fast_air``: the drag takes its height and density from the fast formulas (module
    notes), which move a fragment's landing by micrometres and halve the cost of its fall.
    """
    model = earth_model(earth)
    r, v, inv_b, scalar = _prepare(r_ecef_m, v_ecef_mps, beta_kg_m2)
    if inv_beta_m2_kg is not None:
        inv_b = np.ascontiguousarray(np.broadcast_to(np.asarray(inv_beta_m2_kg, dtype=np.float64), (r.shape[0],)))
        if not np.all(np.isfinite(inv_b)):
            raise ValueError("inv_beta_m2_kg must be finite")
    status, t_end, y_end, apogee, *_ = _run(
        r, v, inv_b, model, t_max=max_time_s, stop_at_ground=True, stop_at_apogee=False, rtol=rtol,
        ground_alt_m=ground_alt_m, terminal_tau_s=terminal_tau_s, fast_air=fast_air,
    )
    status, t_end, y_end, terminal_alt = _finish_terminal(status, t_end, y_end, inv_b, max_time_s, ground_alt_m, model)
    return _squeeze(_impact_result(status, t_end, y_end, apogee, model, terminal_alt), scalar)


class ImpactSensitivity(NamedTuple):
    """Where and when N bodies reach geodetic height 0 (``impact``, as from
    :func:`propagate_to_impact`), and how that moves with their initial state and drag:
    ``d_east_north_d_x0`` (N, 2, 7), the derivative of the impact point (on the ground:
    the impact time moves with the state), east and north in its local plane (m), with
    respect to the initial (ECEF position, velocity, 1/beta); ``d_time_d_x0`` (N, 7), the
    impact time's. ``samples``: the flights sampled as by :func:`sample_flight`, when asked.
    """

    impact: ImpactResult
    d_east_north_d_x0: np.ndarray
    d_time_d_x0: np.ndarray
    samples: FlightSamples | None


def impact_sensitivity(
    r_ecef_m: np.ndarray,
    v_ecef_mps: np.ndarray,
    inv_beta_m2_kg: np.ndarray,
    *,
    earth: str | EarthModel = "wgs84",
    max_time_s: float | np.ndarray = 7200.0,
    rtol: float = DEFAULT_RTOL,
    sample_step_s: float = 0.0,
) -> ImpactSensitivity:
    """Fly N bodies (``r_ecef_m``, ``v_ecef_mps`` (N, 3), ``inv_beta_m2_kg`` (N,), 0: no
    drag, negative: a time-reversed flight) to geodetic height 0 together with their
    state-transition matrices Phi = d(r, v) / d(r0, v0, 1/beta): the variational
    equations (the dynamics' Jacobian from
    :func:`hoplon.core._tracker_kernels._acceleration_and_jacobian`) integrated in the
    Dormand-Prince steps of the state, whose flight is that of
    :func:`propagate_to_impact` bit for bit. The impact moves to first order by
    ``d r = (I - v u^T / (u . v)) Phi_r d x0`` and ``d t = -u^T Phi_r d x0 / (u . v)``,
    ``u`` the local up (the gradient of the geodetic height) and ``v`` the impact
    velocity. The derivatives agree with central differences of tight-tolerance flights
    to 0.2 % (tests/test_ballistic_sensitivity.py). The steps are chosen for the state
    alone: a body flown without drag crosses the air in steps that do not resolve its
    derivative with respect to 1/beta (that column is then off by factors).
    ``sample_step_s`` > 0: the flights are also sampled every so many seconds from their
    start (``samples``; room for every sample up to ``max_time_s``, which must be finite),
    bit for bit those of :func:`sample_flight`."""
    model = earth_model(earth)
    r = np.ascontiguousarray(np.atleast_2d(r_ecef_m), dtype=np.float64)
    v = np.ascontiguousarray(np.atleast_2d(v_ecef_mps), dtype=np.float64)
    n = r.shape[0]
    inv_b = np.ascontiguousarray(np.broadcast_to(np.asarray(inv_beta_m2_kg, dtype=np.float64), (n,)))
    flights = _sensitivity_flights(r, v, inv_b, _per_body(max_time_s, n), model.params(), _tolerances(rtol),
                                   float(sample_step_s))
    return _sensitivity_result(*flights, sampled=sample_step_s > 0)


def _sensitivity_result(impact, d_east_north, d_time, samples, *, sampled: bool) -> ImpactSensitivity:
    """The ImpactSensitivity of :func:`_sensitivity_flights`'s arrays (``sampled``: with
    its samples)."""
    end = ImpactResult(*impact)
    return ImpactSensitivity(end, d_east_north, d_time, FlightSamples(*samples, end) if sampled else None)


def propagate(
    r_ecef_m: np.ndarray,
    v_ecef_mps: np.ndarray,
    beta_kg_m2: np.ndarray | float,
    duration_s: float | np.ndarray,
    *,
    earth: str | EarthModel = "wgs84",
    stop_at_ground: bool = True,
    ground_alt_m: float | np.ndarray = 0.0,
    rtol: float = DEFAULT_RTOL,
) -> PropagationResult:
    """Fly N bodies for ``duration_s`` (scalar or (N,), s >= 0), stopping at the ground."""
    model = earth_model(earth)
    r, v, inv_b, scalar = _prepare(r_ecef_m, v_ecef_mps, beta_kg_m2)
    dur = np.broadcast_to(np.asarray(duration_s, dtype=np.float64), (r.shape[0],))
    if (dur < 0).any() or not np.isfinite(dur).all():
        raise ValueError("duration_s must be finite and >= 0")
    status, t_end, y_end, *_ = _run(
        r, v, inv_b, model, t_max=dur, stop_at_ground=stop_at_ground, stop_at_apogee=False, rtol=rtol,
        ground_alt_m=ground_alt_m,
    )
    if np.any(status == STATUS_FAILED):
        raise RuntimeError("integration failed for some bodies (step size underflow)")
    result = PropagationResult(y_end[:, :3].copy(), y_end[:, 3:].copy(), t_end, status == STATUS_IMPACT)
    return _squeeze(result, scalar)


def _grid_count(t_end, t0, step_s) -> np.ndarray:
    """How many sample times ``t0 + k step_s`` (k integer) lie in [0, t_end] (arrays (N,))."""
    first = np.maximum(0, np.ceil(-t0 / step_s - 1e-12))
    return np.maximum(0, np.floor((t_end - t0) / step_s + 1e-9) - first + 1).astype(np.int64)


@numba.njit(cache=True)
def _samples_table(samples, offsets, kept, t_end, y_end) -> tuple[np.ndarray, np.ndarray]:
    """Rows [t, r, v] of each body's first ``kept`` samples (``samples`` from ``offsets[i]``)
    then of its end state ``t_end``, ``y_end`` (in place of a sample at that time), and the
    bodies' row offsets."""
    n = kept.size
    out_offsets = np.zeros(n + 1, dtype=np.int64)
    rows = kept.copy()
    for i in range(n):
        if rows[i] > 0 and samples[offsets[i] + rows[i] - 1, 0] >= t_end[i] - 1e-9:
            rows[i] -= 1
        out_offsets[i + 1] = out_offsets[i] + rows[i] + 1
    flat = np.empty((out_offsets[n], 7))
    for i in range(n):
        start = out_offsets[i]
        flat[start : start + rows[i]] = samples[offsets[i] : offsets[i] + rows[i]]
        flat[start + rows[i], 0] = t_end[i]
        flat[start + rows[i], 1:] = y_end[i]
    return out_offsets, flat


def _flight_samples(samples, offsets, kept, t_end, y_end, end: ImpactResult) -> FlightSamples:
    """FlightSamples of :func:`_samples_table`'s rows."""
    out_offsets, flat = _samples_table(samples, offsets, kept, t_end, y_end)
    return FlightSamples(out_offsets, flat[:, 0].copy(), flat[:, 1:4].copy(), flat[:, 4:7].copy(), end)


def sample_flight(
    r_ecef_m: np.ndarray,
    v_ecef_mps: np.ndarray,
    beta_kg_m2: np.ndarray | float,
    *,
    step_s: float,
    t0_s: float | np.ndarray = 0.0,
    earth: str | EarthModel = "wgs84",
    max_time_s: float | np.ndarray = 7200.0,
    ground_alt_m: float | np.ndarray = 0.0,
    rtol: float = DEFAULT_RTOL,
    terminal_tau_s: float = 0.0,
    fast_air: bool = False,
) -> FlightSamples:
    """Fly N bodies to impact and return their states every ``step_s`` seconds.

    Sample times are ``t0_s + k*step_s`` (k integer, only those in [0, impact]) in
    each body's own flight time, so that bodies launched at different times can share
    one absolute time grid (pass ``t0_s = grid_origin - launch_time``). The impact
    state closes each body's samples. ``terminal_tau_s``: as for
    :func:`propagate_to_impact`; the samples of a body that fell into its closed-form
    terminal descent end with the state where that began (``end`` is its impact).
    ``fast_air``: as for :func:`propagate_to_impact`.
    """
    if not step_s > 0:
        raise ValueError("step_s must be > 0")
    model = earth_model(earth)
    r, v, inv_b, _ = _prepare(r_ecef_m, v_ecef_mps, beta_kg_m2)
    n = r.shape[0]
    t0 = np.broadcast_to(np.asarray(t0_s, dtype=np.float64), (n,)).copy()
    run = functools.partial(_run, r, v, inv_b, model, t_max=max_time_s, stop_at_ground=True, stop_at_apogee=False,
                            rtol=rtol, ground_alt_m=ground_alt_m, terminal_tau_s=terminal_tau_s, fast_air=fast_air)
    t_limit = _per_body(max_time_s, n)
    room = _grid_count(t_limit, t0, step_s) if np.isfinite(t_limit).all() else None
    if room is None or room.sum() > ONE_PASS_MAX_SAMPLES:  # pass 1: the flight times, to size the samples
        room = _grid_count(run()[1], t0, step_s)
    status, t_end, y_end, apogee, offsets, samples, written = run(sample_t0=t0, sample_dt=step_s, sample_counts=room)
    # the samples end where the flight was integrated to; ``end`` is where it lands
    end_status, end_t, end_y, terminal_alt = _finish_terminal(status, t_end, y_end, inv_b, max_time_s, ground_alt_m,
                                                              model)
    end = _impact_result(end_status, end_t, end_y, apogee, model, terminal_alt)
    return _flight_samples(samples, offsets, np.minimum(written, _grid_count(t_end, t0, step_s)), t_end, y_end, end)
