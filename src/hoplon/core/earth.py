"""Earth models: WGS84 constants, J2 gravity, rotation, and the US 1976 atmosphere.

Two fidelities, selected everywhere by ``earth=``:

``"wgs84"``
    WGS84 ellipsoid (a = 6378137 m, f = 1/298.257223563), J2 gravity
    (mu = 3.986004418e14 m^3/s^2, J2 = 1.08262668e-3), rotation
    omega = 7.292115e-5 rad/s handled in the Earth-fixed frame (Coriolis and
    centrifugal terms), and drag in a co-rotating US 1976 standard atmosphere.
``"sphere"``
    A sphere of radius 6371 km with point-mass gravity, no rotation and no drag,
    for validation against textbook closed forms.

Atmosphere: at or below 81 km geometric altitude the density is the US 1976 /
ICAO 1993 standard atmosphere exactly as the ``ambiance`` package defines it (its
own layer table, constants and geopotential conversion are read at import); above
81 km an exponential tail continues from the 81 km density with a 5.9 km scale
height. Altitude is geodetic height above the ellipsoid.

Everything here is plain floats and arrays; the scalar ``_``-prefixed functions are
numba kernels that the batched integrators inline.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
from ambiance.ambiance import CONST as _AMBIANCE
from scipy.integrate import cumulative_trapezoid

__all__ = [
    "EarthModel",
    "WGS84",
    "SPHERE",
    "earth_model",
    "density_kg_m3",
    "gravity_ecef_mps2",
    "acceleration_ecef_mps2",
    "ATMOSPHERE_TAIL_START_M",
    "ATMOSPHERE_TAIL_SCALE_HEIGHT_M",
    "TERMINAL_TABLE_TOP_M",
    "terminal_fall_table",
]


@dataclass(frozen=True)
class EarthModel:
    """Parameters of an Earth model (SI units).

    ``f == 0`` makes the ellipsoid a sphere; ``j2 == 0`` gives point-mass gravity;
    ``omega_rad_s == 0`` a non-rotating Earth; ``drag`` switches the atmosphere on.
    """

    name: str
    a_m: float
    f: float
    mu_m3_s2: float
    j2: float
    omega_rad_s: float
    drag: bool

    @property
    def b_m(self) -> float:
        """Polar radius, m."""
        return self.a_m * (1.0 - self.f)

    @property
    def e2(self) -> float:
        """First eccentricity squared."""
        return self.f * (2.0 - self.f)

    @property
    def is_sphere(self) -> bool:
        return self.f == 0.0

    def params(self) -> np.ndarray:
        """The packed float64 parameter vector that the numba kernels take.

        Layout: ``[a_m, e2, mu, j2, omega, drag (0/1), sphere (0/1)]``.
        """
        return np.array(
            [
                self.a_m,
                self.e2,
                self.mu_m3_s2,
                self.j2,
                self.omega_rad_s,
                1.0 if self.drag else 0.0,
                1.0 if self.is_sphere else 0.0,
            ],
            dtype=np.float64,
        )


WGS84 = EarthModel(
    name="wgs84",
    a_m=6378137.0,
    f=1.0 / 298.257223563,
    mu_m3_s2=3.986004418e14,
    j2=1.08262668e-3,
    omega_rad_s=7.292115e-5,
    drag=True,
)
SPHERE = EarthModel(
    name="sphere",
    a_m=6371000.0,
    f=0.0,
    mu_m3_s2=3.986004418e14,
    j2=0.0,
    omega_rad_s=0.0,
    drag=False,
)
_MODELS = {"wgs84": WGS84, "sphere": SPHERE}

# Indices into EarthModel.params().
P_A, P_E2, P_MU, P_J2, P_OMEGA, P_DRAG, P_SPHERE = range(7)


def earth_model(earth: str | EarthModel) -> EarthModel:
    """Resolve ``"wgs84"``, ``"sphere"`` or an :class:`EarthModel` to a model."""
    if isinstance(earth, EarthModel):
        return earth
    try:
        return _MODELS[str(earth).lower()]
    except KeyError:
        raise ValueError(f"unknown earth model {earth!r}; expected one of {sorted(_MODELS)}") from None


# --------------------------------------------------------------------------- atmosphere

# The ambiance (ICAO 1993 = US 1976 below 80 km geopotential) layer table:
# base geopotential height (m), base temperature (K), lapse rate (K/m), base pressure (Pa).
_LAYERS = np.array([row[:4] for row in _AMBIANCE.LAYER_SPEC_PROP], dtype=np.float64)
_G0 = float(_AMBIANCE.g_0)
_R_AIR = float(_AMBIANCE.R)
_R_GEOPOTENTIAL = float(_AMBIANCE.r)
_H_MIN_GEOMETRIC = float(_AMBIANCE.h_min)

ATMOSPHERE_TAIL_START_M = 81_000.0
"""Geometric altitude above which the exponential tail replaces the standard atmosphere."""
ATMOSPHERE_TAIL_SCALE_HEIGHT_M = 5_900.0
"""Scale height of the exponential tail above 81 km, m."""


@numba.njit(cache=True, fastmath=False)
def _standard_density(h_geometric_m: float) -> float:
    """US 1976 / ICAO density at a geometric altitude (m), ambiance's formulas."""
    if h_geometric_m < _H_MIN_GEOMETRIC:
        h_geometric_m = _H_MIN_GEOMETRIC  # ambiance's lowest height; below it, constant
    geop = _R_GEOPOTENTIAL * h_geometric_m / (_R_GEOPOTENTIAL + h_geometric_m)
    n = _LAYERS.shape[0]
    i = 0
    # Layers are valid from their base to the next base; the last one extends upward.
    for k in range(n - 1):
        if geop >= _LAYERS[k, 0]:
            i = k
    base_h = _LAYERS[i, 0]
    base_t = _LAYERS[i, 1]
    lapse = _LAYERS[i, 2]
    base_p = _LAYERS[i, 3]
    temp = base_t + lapse * (geop - base_h)
    if lapse == 0.0:
        p = base_p * math.exp(-_G0 / (_R_AIR * temp) * (geop - base_h))
    else:
        p = base_p * (1.0 + lapse / base_t * (geop - base_h)) ** (-_G0 / (_R_AIR * lapse))
    return p / (_R_AIR * temp)


_RHO_TAIL_START = _standard_density(ATMOSPHERE_TAIL_START_M)


@numba.njit(cache=True)
def _density(h_m: float) -> float:
    """Air density (kg/m^3) at geodetic altitude ``h_m``: standard atmosphere, then tail."""
    if h_m <= ATMOSPHERE_TAIL_START_M:
        return _standard_density(h_m)
    return _RHO_TAIL_START * math.exp(-(h_m - ATMOSPHERE_TAIL_START_M) / ATMOSPHERE_TAIL_SCALE_HEIGHT_M)


@numba.njit(cache=True)
def _density_array(h_m: np.ndarray, out: np.ndarray) -> None:
    for i in range(h_m.size):
        out.flat[i] = _density(h_m.flat[i])


def density_kg_m3(alt_m: float | np.ndarray) -> float | np.ndarray:
    """Air density, kg/m^3, at geometric (geodetic) altitude ``alt_m`` in metres.

    Scalar in, scalar out; arrays of any shape keep their shape.
    """
    h = np.asarray(alt_m, dtype=np.float64)
    out = np.empty_like(h)
    _density_array(np.ascontiguousarray(h), out)
    return float(out) if out.ndim == 0 else out


TERMINAL_TABLE_BOTTOM_M = -1_000.0
TERMINAL_TABLE_TOP_M = 100_000.0
"""Heights (m) covered by :func:`terminal_fall_table`."""
TERMINAL_TABLE_STEP_M = 5.0
TERMINAL_G_REF_MPS2 = 9.80665
"""Surface gravity of the table's gravity profile g_ref(z) = G_REF (a / (a + z))^2."""


class TerminalFallTable(NamedTuple):
    """Heights ``z_m`` (m) on a regular grid, the integrand ``s = sqrt(rho(z) / (2 g_ref(z)))``
    and its integral ``S(z)`` from the grid's bottom (s sqrt(kg)/m), and the integral
    ``V(z)`` of ``1 / s`` (the terminal speed of beta = 1 kg/m^2; m^2 / (s sqrt(kg)))."""

    z_m: np.ndarray
    s: np.ndarray
    S: np.ndarray
    V: np.ndarray


@functools.lru_cache(maxsize=1)
def terminal_fall_table() -> TerminalFallTable:
    """The quasi-steady fall integral of the WGS84 model's atmosphere.

    A body whose drag relaxation time is short falls at its local terminal speed
    ``v_t(z) = sqrt(2 beta g(z) / rho(z))``, so it takes ``dt = dz / v_t`` to fall dz:
    from height z1 to z0 it falls for ``sqrt(G_REF / g_s) (S(z1) - S(z0)) / sqrt(beta)``
    with g_s the surface gravity below it (gravity falling off as (a / (a + z))^2);
    ``sqrt(beta g_s / G_REF) (V(z1) - V(z0))`` is the integral of its speed over that
    fall (its Coriolis drift). Trapezoidal integration on a 5 m grid (relative error ~ (dz / H)^2 / 12 < 1e-7).
    """
    z = np.arange(TERMINAL_TABLE_BOTTOM_M, TERMINAL_TABLE_TOP_M + TERMINAL_TABLE_STEP_M / 2, TERMINAL_TABLE_STEP_M)
    rho = np.empty_like(z)
    _density_array(z, rho)
    a = WGS84.a_m
    s = np.sqrt(rho / (2.0 * TERMINAL_G_REF_MPS2)) * (a + z) / a
    S = cumulative_trapezoid(s, z, initial=0.0)
    V = cumulative_trapezoid(1.0 / s, z, initial=0.0)
    for arr in (z, s, S, V):
        arr.setflags(write=False)
    return TerminalFallTable(z, s, S, V)


# --------------------------------------------------------------------------- ellipsoid


@numba.njit(cache=True)
def _vermeille(x: float, y: float, z: float, a: float, e2: float) -> tuple[float, float, float]:
    """Core of Vermeille's (2004) exact ECEF-to-geodetic transformation.

    H. Vermeille, "Direct transformation from geocentric coordinates to geodetic
    coordinates", J. Geodesy 76 (2004) 451-454; valid for every point farther than
    ~43 km from the Earth's centre. Returns (d, dz, h): the geodetic latitude is the
    angle of the vector (d, z), dz = |(d, z)|, and h is the height above the ellipsoid.
    """
    e4 = e2 * e2
    rho2 = x * x + y * y
    p = rho2 / (a * a)
    q = (1.0 - e2) / (a * a) * z * z
    r = (p + q - e4) / 6.0
    s = e4 * p * q / (4.0 * r * r * r)
    t = (1.0 + s + math.sqrt(s * (2.0 + s))) ** (1.0 / 3.0)
    u = r * (1.0 + t + 1.0 / t)
    v = math.sqrt(u * u + e4 * q)
    w = e2 * (u + v - q) / (2.0 * v)
    k = math.sqrt(u + v + w * w) - w
    d = k * math.sqrt(rho2) / (k + e2)
    dz = math.sqrt(d * d + z * z)
    return d, dz, (k + e2 - 1.0) / k * dz


@numba.njit(cache=True)
def _ecef_to_geodetic(x: float, y: float, z: float, a: float, e2: float, sphere: bool) -> tuple[float, float, float]:
    """ECEF (m) to geodetic latitude (rad), longitude (rad), height above the ellipsoid (m).

    Exact (Vermeille 2004, see :func:`_vermeille`). On a sphere (``sphere``), the
    geocentric latitude and ``|r| - a``.
    """
    lon = math.atan2(y, x)
    rho = math.sqrt(x * x + y * y)
    if sphere:
        return math.atan2(z, rho), lon, math.sqrt(rho * rho + z * z) - a
    d, dz, h = _vermeille(x, y, z, a, e2)
    # latitude = angle of (d, z); the half-angle form is accurate at every latitude
    return 2.0 * math.atan2(z, d + dz), lon, h


@numba.njit(cache=True)
def _height_and_up(x: float, y: float, z: float, a: float, e2: float, sphere: bool) -> tuple[float, float, float, float]:
    """Height above the ellipsoid (m) and the unit ellipsoid normal (local up), no trigonometry.

    The integrators' hot path: cos(lat) = d/dz, sin(lat) = z/dz, and the longitude
    direction is (x, y)/rho.
    """
    rho = math.sqrt(x * x + y * y)
    if sphere:
        rn = math.sqrt(rho * rho + z * z)
        return rn - a, x / rn, y / rn, z / rn
    d, dz, h = _vermeille(x, y, z, a, e2)
    cl, sl = d / dz, z / dz
    if rho > 0.0:
        return h, cl * x / rho, cl * y / rho, sl
    return h, 0.0, 0.0, sl


@numba.njit(cache=True)
def _geodetic_height(x: float, y: float, z: float, a: float, e2: float, sphere: bool) -> float:
    """Height above the ellipsoid (or sphere), m, of an ECEF point."""
    if sphere:
        return math.sqrt(x * x + y * y + z * z) - a
    return _vermeille(x, y, z, a, e2)[2]


@numba.njit(cache=True)
def _geodetic_to_ecef(lat: float, lon: float, h: float, a: float, e2: float) -> tuple[float, float, float]:
    """Geodetic latitude, longitude (rad) and height (m) to ECEF (m)."""
    sl = math.sin(lat)
    cl = math.cos(lat)
    n = a / math.sqrt(1.0 - e2 * sl * sl)
    return (n + h) * cl * math.cos(lon), (n + h) * cl * math.sin(lon), (n * (1.0 - e2) + h) * sl


# --------------------------------------------------------------------------- gravity


@numba.njit(cache=True)
def _gravity(x: float, y: float, z: float, mu: float, j2: float, a: float) -> tuple[float, float, float]:
    """Gravitational acceleration (m/s^2) of a point mass plus the J2 zonal term, ECEF."""
    r2 = x * x + y * y + z * z
    r = math.sqrt(r2)
    mu_r3 = mu / (r2 * r)
    if j2 == 0.0:
        return -mu_r3 * x, -mu_r3 * y, -mu_r3 * z
    k = 1.5 * j2 * (a * a) / r2
    zr2 = 5.0 * z * z / r2
    fxy = -mu_r3 * (1.0 + k * (1.0 - zr2))
    fz = -mu_r3 * (1.0 + k * (3.0 - zr2))
    return fxy * x, fxy * y, fz * z


@numba.njit(cache=True)
def _gravity_in_rotating_frame(x: float, y: float, z: float, vx: float, vy: float,
                               p: np.ndarray) -> tuple[float, float, float]:
    """Gravity (J2 when ``p[P_J2] != 0``) plus the Coriolis ``-2 w x v`` and centrifugal
    ``-w x (w x r)`` accelerations (m/s^2), ``w = (0, 0, omega)``: :func:`_acceleration`
    without the drag."""
    gx, gy, gz = _gravity(x, y, z, p[P_MU], p[P_J2], p[P_A])
    w = p[P_OMEGA]
    if w != 0.0:
        gx += 2.0 * w * vy + w * w * x
        gy += -2.0 * w * vx + w * w * y
    return gx, gy, gz


@numba.njit(cache=True)
def _acceleration(
    x: float,
    y: float,
    z: float,
    vx: float,
    vy: float,
    vz: float,
    inv_beta: float,
    p: np.ndarray,
) -> tuple[float, float, float]:
    """Acceleration (m/s^2) in the rotating ECEF frame of a free-flying body.

    Gravity (J2 when ``p[P_J2] != 0``), Coriolis ``-2 w x v``, centrifugal
    ``-w x (w x r)`` with ``w = (0, 0, omega)``, and drag ``-rho |v| v / (2 beta)``
    with ``v`` the Earth-relative velocity. ``inv_beta`` is 1/beta in m^2/kg (0: no drag;
    a filter's estimate may be negative, and is used as it is so that it stays smooth).
    """
    gx, gy, gz = _gravity_in_rotating_frame(x, y, z, vx, vy, p)
    if p[P_DRAG] != 0.0 and inv_beta != 0.0:
        h = _geodetic_height(x, y, z, p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
        return _with_drag(gx, gy, gz, vx, vy, vz, inv_beta, _density(h))
    return gx, gy, gz


@numba.njit(cache=True, inline="always")
def _with_drag(gx: float, gy: float, gz: float, vx: float, vy: float, vz: float, inv_beta: float,
               density: float) -> tuple[float, float, float]:
    """The acceleration (gx, gy, gz) (m/s^2) plus the drag ``-rho |v| v / (2 beta)`` of a
    body with Earth-relative velocity (vx, vy, vz) (m/s) and 1/beta ``inv_beta`` (m^2/kg)
    in air of ``density`` (kg/m^3): :func:`_acceleration`'s arithmetic."""
    k = -0.5 * density * math.sqrt(vx * vx + vy * vy + vz * vz) * inv_beta
    return gx + k * vx, gy + k * vy, gz + k * vz


@numba.njit(cache=True)
def _acceleration_array(r: np.ndarray, v: np.ndarray, inv_beta: np.ndarray, p: np.ndarray, out: np.ndarray) -> None:
    for i in range(r.shape[0]):
        out[i, 0], out[i, 1], out[i, 2] = _acceleration(
            r[i, 0], r[i, 1], r[i, 2], v[i, 0], v[i, 1], v[i, 2], inv_beta[i], p
        )


def _as_n3(a: np.ndarray | list, name: str) -> np.ndarray:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim == 1 and arr.shape == (3,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3) or (3,), got {arr.shape}")
    return arr


def inverse_beta(beta_kg_m2: np.ndarray | float, n: int) -> np.ndarray:
    """1/beta per object (m^2/kg); ``inf`` or ``nan`` beta means no drag (0)."""
    beta = np.broadcast_to(np.asarray(beta_kg_m2, dtype=np.float64), (n,))
    if (beta <= 0.0).any():
        raise ValueError("ballistic coefficient beta_kg_m2 must be positive")
    inv = 1.0 / beta  # (beta > 0: no division by zero)
    return np.ascontiguousarray(np.where(np.isfinite(inv), inv, 0.0))


def acceleration_ecef_mps2(
    r_ecef_m: np.ndarray,
    v_ecef_mps: np.ndarray,
    beta_kg_m2: np.ndarray | float = np.inf,
    *,
    earth: str | EarthModel = "wgs84",
) -> np.ndarray:
    """Acceleration (N, 3), m/s^2, of free-flying bodies in the rotating ECEF frame.

    ``v_ecef_mps`` is the Earth-relative velocity (time derivative of the ECEF
    position). Includes gravity, Coriolis and centrifugal terms and drag per the
    chosen ``earth``; ``beta_kg_m2=inf`` switches drag off for that body.
    """
    model = earth_model(earth)
    r = _as_n3(r_ecef_m, "r_ecef_m")
    v = _as_n3(v_ecef_mps, "v_ecef_mps")
    out = np.empty_like(r)
    _acceleration_array(r, v, inverse_beta(beta_kg_m2, r.shape[0]), model.params(), out)
    return out


def gravity_ecef_mps2(r_ecef_m: np.ndarray, *, earth: str | EarthModel = "wgs84") -> np.ndarray:
    """Gravitational acceleration (N, 3), m/s^2, at ECEF positions (no rotation terms)."""
    model = earth_model(earth)
    r = _as_n3(r_ecef_m, "r_ecef_m")
    still = model.params()
    still[P_OMEGA] = 0.0
    still[P_DRAG] = 0.0
    out = np.empty_like(r)
    _acceleration_array(r, np.zeros_like(r), np.zeros(r.shape[0]), still, out)
    return out
