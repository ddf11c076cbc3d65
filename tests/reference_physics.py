"""An independent, slow, scalar implementation of Hoplon's free-flight and boost physics.

Written from the textbook formulas for the tests only: density from the ``ambiance``
package itself (not Hoplon's numba port of it), geodetic height from ``pymap3d``,
J2 gravity from Vallado, *Fundamentals of Astrodynamics and Applications*, eq. 8-30,
and integration by scipy's DOP853. Nothing here imports Hoplon's kernels.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
from ambiance import Atmosphere
from scipy.integrate import solve_ivp

MU = 3.986004418e14
J2 = 1.08262668e-3
A_WGS84 = 6378137.0
OMEGA = 7.292115e-5
G0 = 9.80665
_ELL = pymap3d.Ellipsoid.from_name("wgs84")


def density(h_m: float) -> float:
    """US 1976 via ambiance below 81 km, exponential tail (H = 5.9 km) above."""
    if h_m <= 81_000.0:
        return float(Atmosphere(max(h_m, -5000.0)).density[0])
    return float(Atmosphere(81_000.0).density[0]) * math.exp(-(h_m - 81_000.0) / 5_900.0)


def geodetic(r):
    lat, lon, h = pymap3d.ecef2geodetic(r[0], r[1], r[2], ell=_ELL, deg=False)
    return float(lat), float(lon), float(h)


def gravity_j2(r):
    x, y, z = r
    rn = math.sqrt(x * x + y * y + z * z)
    c = 1.5 * J2 * (A_WGS84 / rn) ** 2
    s = 5.0 * (z / rn) ** 2
    k = -MU / rn**3
    return np.array([k * x * (1 + c * (1 - s)), k * y * (1 + c * (1 - s)), k * z * (1 + c * (3 - s))])


def free_flight_rhs(beta: float):
    w = np.array([0.0, 0.0, OMEGA])

    def rhs(_t, y):
        r, v = y[:3], y[3:]
        a = gravity_j2(r) - 2.0 * np.cross(w, v) - np.cross(w, np.cross(w, r))
        if math.isfinite(beta):
            h = geodetic(r)[2]
            a = a - density(h) * np.linalg.norm(v) * v / (2.0 * beta)
        return np.concatenate([v, a])

    return rhs


def fly_to_ground(r0, v0, beta: float, *, ground_m: float = 0.0, rtol: float = 1e-12, t_max: float = 7200.0,
                  method: str = "DOP853"):
    """DOP853 reference: time of flight (s) and final ECEF state at geodetic height ``ground_m``.
    ``method="LSODA"`` (or "Radau") for a stiff fall: a light body at its terminal speed."""

    def hit(_t, y):
        return geodetic(y[:3])[2] - ground_m

    hit.terminal = True
    hit.direction = -1
    sol = solve_ivp(
        free_flight_rhs(beta), (0.0, t_max), np.concatenate([r0, v0]), method=method,
        rtol=rtol, atol=1e-9, events=hit,
    )
    assert sol.status == 1, sol.message
    return float(sol.t_events[0][0]), sol.y_events[0][0]


def local_axes(lat, lon):
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
    return east, north, up


def geodetic_to_ecef(lat_deg, lon_deg, h_m):
    return np.array(pymap3d.geodetic2ecef(lat_deg, lon_deg, h_m, ell=_ELL))


def state_from_flight_path(lat_deg, lon_deg, h_m, azimuth_deg, fpa_deg, speed_mps):
    """ECEF position and Earth-relative velocity from local flight-path coordinates."""
    r = geodetic_to_ecef(lat_deg, lon_deg, h_m)
    east, north, up = local_axes(math.radians(lat_deg), math.radians(lon_deg))
    az, g = math.radians(azimuth_deg), math.radians(fpa_deg)
    v = speed_mps * (math.cos(g) * (math.sin(az) * east + math.cos(az) * north) + math.sin(g) * up)
    return r, v


def boost_burnout(lat_deg, lon_deg, h_m, *, azimuth_rad, kick_rad, cutoff_s, m0, mp, tb, isp, tv, area, cd):
    """Reference gravity-turn boost (vertical rise, kick, thrust along velocity), DOP853."""
    mdot = mp / tb
    thrust = isp * G0 * mdot
    w = np.array([0.0, 0.0, OMEGA])

    def rhs(vertical):
        def f(t, y):
            r, v = y[:3], y[3:]
            m = m0 - mdot * t
            lat, lon, h = geodetic(r)
            a = gravity_j2(r) - 2.0 * np.cross(w, v) - np.cross(w, np.cross(w, r))
            a = a - density(h) * np.linalg.norm(v) * v * cd * area / (2.0 * m)
            d = local_axes(lat, lon)[2] if vertical else v / np.linalg.norm(v)
            return np.concatenate([v, a + thrust / m * d])

        return f

    y = np.concatenate([geodetic_to_ecef(lat_deg, lon_deg, h_m), np.zeros(3)])
    if tv > 0:
        y = solve_ivp(rhs(True), (0.0, tv), y, method="DOP853", rtol=1e-12, atol=1e-9).y[:, -1]
    lat, lon, _ = geodetic(y[:3])
    east, north, up = local_axes(lat, lon)
    speed = np.linalg.norm(y[3:])
    el = math.pi / 2 - kick_rad
    y[3:] = speed * (math.sin(el) * up + math.cos(el) * (math.sin(azimuth_rad) * east + math.cos(azimuth_rad) * north))
    y = solve_ivp(rhs(False), (tv, cutoff_s), y, method="DOP853", rtol=1e-12, atol=1e-9).y[:, -1]
    return y[:3], y[3:]
