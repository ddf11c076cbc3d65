"""Geodesy and reference frames: geodetic <-> ECEF <-> ENU <-> AER, and geodesics.

Conventions (see DESIGN.md):

- ECEF: Earth-centred, Earth-fixed Cartesian coordinates, metres.
- Geodetic: latitude and longitude in degrees, height above the ellipsoid in metres.
  Latitudes lie in [-90, 90]; longitudes returned lie in (-180, 180].
- ENU: local east, north, up at an origin; "up" is the ellipsoid normal (geodetic
  latitude), so the local horizontal plane is tangent to the ellipsoid.
- AER: azimuth clockwise from true north in [0, 2*pi), elevation above the local
  horizontal plane, both in radians; slant range in metres.
- Geodesic azimuths: degrees clockwise from north in [0, 360).

Every function is vectorised: points are arrays of shape (N, 3) (or (..., 3)), angles
and heights arrays of shape (N,) (or any shape) that broadcast against each other.
Scalar in, scalar out: a (3,) point or scalar angles give a (3,) / float result.

``earth`` selects the figure of the Earth (:func:`hoplon.core.earth.earth_model`):
``"wgs84"`` (the default) or ``"sphere"`` (radius 6371 km, where geodetic latitude is
geocentric latitude and geodesics are great circles). The geodetic conversions are
numba loops over the scalar kernels of :mod:`hoplon.core.earth`; geodesics on an
ellipsoid use Karney's algorithm from geographiclib, on a sphere closed forms.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import numba
import numpy as np
from geographiclib.geodesic import Geodesic

from hoplon.core._arrays import as_floats as _floats
from hoplon.core._arrays import broadcast_floats as _broadcast
from hoplon.core._arrays import broadcast_shape as _broadcast_shape
from hoplon.core._arrays import scalar_out as _out
from hoplon.core.earth import (
    EarthModel,
    _ecef_to_geodetic,
    _geodetic_to_ecef,
    _vermeille,
    earth_model,
)

__all__ = [
    "Geodetic",
    "AER",
    "GeodesicInverse",
    "GeodesicDirect",
    "geodetic_to_ecef",
    "ecef_to_geodetic",
    "ecef_to_height",
    "enu_rotation",
    "ecef_to_enu",
    "enu_to_ecef",
    "enu_to_aer",
    "aer_to_enu",
    "ecef_to_aer",
    "aer_to_ecef",
    "ecef_to_aer_pairs",
    "ecef_velocity_to_enu",
    "enu_velocity_to_ecef",
    "geodesic_inverse",
    "geodesic_direct",
    "geodesic_distance_m",
]

_TWO_PI = 2.0 * math.pi

Floats = float | np.ndarray
"""A float, or an array of floats (the result of a scalar or array input)."""


class Geodetic(NamedTuple):
    """Geodetic coordinates: latitude, longitude (deg), height above the ellipsoid (m)."""

    lat_deg: Floats
    lon_deg: Floats
    alt_m: Floats


class AER(NamedTuple):
    """Azimuth (rad, clockwise from north, [0, 2*pi)), elevation (rad), slant range (m)."""

    azimuth_rad: Floats
    elevation_rad: Floats
    range_m: Floats


class GeodesicInverse(NamedTuple):
    """Solution of the inverse geodesic problem.

    ``distance_m``: geodesic length, m; ``azimuth1_deg``: forward azimuth at point 1;
    ``azimuth2_deg``: forward azimuth at point 2 (the direction of travel on arrival);
    azimuths in degrees clockwise from north, in [0, 360).
    """

    distance_m: Floats
    azimuth1_deg: Floats
    azimuth2_deg: Floats


class GeodesicDirect(NamedTuple):
    """Solution of the direct geodesic problem: end point (deg) and forward azimuth there (deg)."""

    lat_deg: Floats
    lon_deg: Floats
    azimuth2_deg: Floats


# --------------------------------------------------------------------------- helpers


def _points(x: object, name: str) -> np.ndarray:
    """A float64 array of points, shape (..., 3)."""
    arr = _floats(x, name)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (N, 3) or (3,), got {arr.shape}")
    return arr


def _kernel_input(x: np.ndarray) -> np.ndarray:
    """C-contiguous, writable float64 copy or view (one numba specialisation for all inputs)."""
    arr = np.ascontiguousarray(x, dtype=np.float64)
    return arr if arr.flags.writeable else arr.copy()


@numba.njit(cache=True)
def _beyond_a_pole(lat_deg: np.ndarray) -> bool:
    for x in lat_deg.flat:
        if abs(x) > 90.0:
            return True
    return False


def _check_latitude(lat_deg: np.ndarray, name: str) -> None:
    if lat_deg.ndim == 0:
        bad = abs(float(lat_deg)) > 90.0
    else:
        bad = _beyond_a_pole(lat_deg) if lat_deg.size else False
    if bad:
        raise ValueError(f"{name} must lie in [-90, 90] degrees")


def _wrap_2pi(az_rad: np.ndarray) -> np.ndarray:
    """Angles from atan2 ([-pi, pi]) to [0, 2*pi); -0.0 becomes 0.0."""
    az = np.where(az_rad < 0.0, az_rad + _TWO_PI, az_rad)
    # A tiny negative angle plus 2*pi rounds to 2*pi exactly.
    return np.where(az >= _TWO_PI, 0.0, az) + 0.0


def _wrap_360(az_deg: np.ndarray) -> np.ndarray:
    """Degrees to [0, 360); -0.0 becomes 0.0."""
    az = np.mod(az_deg, 360.0)
    return np.where(az >= 360.0, 0.0, az) + 0.0


def _wrap_180(lon_deg: np.ndarray) -> np.ndarray:
    """Degrees to (-180, 180], leaving values already there untouched."""
    inside = (lon_deg > -180.0) & (lon_deg <= 180.0)
    return np.where(inside, lon_deg, 180.0 - np.mod(180.0 - lon_deg, 360.0))


def _sincos_deg(angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rad = np.radians(angle_deg)
    return np.sin(rad), np.cos(rad)


# --------------------------------------------------------------------------- geodetic <-> ECEF


@numba.njit(cache=True)
def _geodetic_to_ecef_array(
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_m: np.ndarray,
    a: float,
    e2: float,
    out: np.ndarray,
) -> None:
    for i in range(lat_deg.size):
        out[i, 0], out[i, 1], out[i, 2] = _geodetic_to_ecef(
            math.radians(lat_deg[i]), math.radians(lon_deg[i]), alt_m[i], a, e2
        )


@numba.njit(cache=True)
def _ecef_to_geodetic_array(
    r: np.ndarray,
    a: float,
    e2: float,
    sphere: bool,
    lat_deg: np.ndarray,
    lon_deg: np.ndarray,
    alt_m: np.ndarray,
) -> None:
    for i in range(r.shape[0]):
        lat, lon, h = _ecef_to_geodetic(r[i, 0], r[i, 1], r[i, 2], a, e2, sphere)
        lon = math.degrees(lon)
        if lon <= -180.0:
            lon += 360.0
        lat_deg[i] = math.degrees(lat)
        lon_deg[i] = lon
        alt_m[i] = h


def geodetic_to_ecef(
    lat_deg: Floats, lon_deg: Floats, alt_m: Floats, *, earth: str | EarthModel = "wgs84"
) -> np.ndarray:
    """ECEF positions (N, 3), m, of geodetic points (deg, deg, m above the ellipsoid).

    The three inputs broadcast; scalars give a (3,) result.
    """
    model = earth_model(earth)
    lat, lon, alt = _broadcast(lat_deg=lat_deg, lon_deg=lon_deg, alt_m=alt_m)
    _check_latitude(lat, "lat_deg")
    shape = lat.shape
    out = np.empty((lat.size, 3), dtype=np.float64)
    _geodetic_to_ecef_array(
        _kernel_input(lat).ravel(),
        _kernel_input(lon).ravel(),
        _kernel_input(alt).ravel(),
        model.a_m,
        model.e2,
        out,
    )
    return out.reshape(shape + (3,))


def ecef_to_geodetic(r_ecef_m: np.ndarray, *, earth: str | EarthModel = "wgs84") -> Geodetic:
    """Geodetic latitude (deg), longitude (deg, (-180, 180]) and height (m) of ECEF points.

    Exact closed form (Vermeille 2004), valid farther than ~43 km from the Earth's
    centre. At a pole the longitude is 0 unless ``y`` is signed.
    """
    model = earth_model(earth)
    r = _points(r_ecef_m, "r_ecef_m")
    shape = r.shape[:-1]
    flat = _kernel_input(r.reshape(-1, 3))
    lat, lon, alt = np.empty((3, flat.shape[0]))
    _ecef_to_geodetic_array(flat, model.a_m, model.e2, model.is_sphere, lat, lon, alt)
    if not shape:  # one point: floats
        return Geodetic(float(lat[0]), float(lon[0]), float(alt[0]))
    if len(shape) == 1:
        return Geodetic(lat, lon, alt)
    return Geodetic(lat.reshape(shape), lon.reshape(shape), alt.reshape(shape))


@numba.njit(cache=True)
def _ecef_to_height_array(r: np.ndarray, a: float, e2: float, sphere: bool, alt_m: np.ndarray) -> None:
    for i in range(r.shape[0]):
        x, y, z = r[i, 0], r[i, 1], r[i, 2]
        if math.isnan(x) or math.isnan(y) or math.isnan(z):
            alt_m[i] = math.nan
        elif sphere:  # _ecef_to_geodetic's arithmetic
            rho = math.sqrt(x * x + y * y)
            alt_m[i] = math.sqrt(rho * rho + z * z) - a
        else:
            alt_m[i] = _vermeille(x, y, z, a, e2)[2]


def ecef_to_height(r_ecef_m: np.ndarray, *, earth: str | EarthModel = "wgs84") -> Floats:
    """Height above the ellipsoid (m) of ECEF points (..., 3): :func:`ecef_to_geodetic`'s
    ``alt_m``, the same numbers, without the latitude and longitude (a point with a NaN
    coordinate has a NaN height)."""
    model = earth_model(earth)
    r = _points(r_ecef_m, "r_ecef_m")
    shape = r.shape[:-1]
    alt = np.empty(math.prod(shape))
    _ecef_to_height_array(_kernel_input(r.reshape(-1, 3)), model.a_m, model.e2, model.is_sphere, alt)
    return _out(alt.reshape(shape))


# --------------------------------------------------------------------------- ENU


def enu_rotation(lat_deg: Floats, lon_deg: Floats) -> np.ndarray:
    """Rotation matrices (N, 3, 3) from ECEF to local ENU at geodetic (lat, lon) in degrees.

    Rows are the east, north and up unit vectors expressed in ECEF; "up" is the
    ellipsoid normal. ``enu = R @ d_ecef`` and ``d_ecef = R.T @ enu``.
    """
    lat, lon = _broadcast(lat_deg=lat_deg, lon_deg=lon_deg)
    _check_latitude(lat, "lat_deg")
    sp, cp = _sincos_deg(lat)
    sl, cl = _sincos_deg(lon)
    out = np.empty(lat.shape + (3, 3))
    out[..., 0, 0], out[..., 0, 1], out[..., 0, 2] = -sl, cl, 0.0
    out[..., 1, 0], out[..., 1, 1], out[..., 1, 2] = -sp * cl, -sp * sl, cp
    out[..., 2, 0], out[..., 2, 1], out[..., 2, 2] = cp * cl, cp * sl, sp
    return out


@numba.njit(cache=True)
def _rotate_rows(d: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray, to_enu: bool) -> np.ndarray:
    """The rotations of :func:`_rotate_ecef_to_enu` / :func:`_rotate_enu_to_ecef` for
    rows d (N, 3) and one origin or N origins (the same arithmetic, compiled)."""
    n = d.shape[0]
    k = lat_deg.shape[0]
    out = np.empty((n, 3))
    sp = cp = sl = cl = 0.0
    for i in range(n):
        if i == 0 or k > 1:
            la = math.radians(lat_deg[i if k > 1 else 0])
            lo = math.radians(lon_deg[i if k > 1 else 0])
            sp, cp, sl, cl = math.sin(la), math.cos(la), math.sin(lo), math.cos(lo)
        if to_enu:
            dx, dy, dz = d[i, 0], d[i, 1], d[i, 2]
            t = cl * dx + sl * dy
            out[i, 0] = -sl * dx + cl * dy
            out[i, 1] = -sp * t + cp * dz
            out[i, 2] = cp * t + sp * dz
        else:
            e, nn, u = d[i, 0], d[i, 1], d[i, 2]
            t = cp * u - sp * nn
            out[i, 0] = -sl * e + cl * t
            out[i, 1] = cl * e + sl * t
            out[i, 2] = cp * nn + sp * u
    return out


def _rotate(d: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray, to_enu: bool) -> np.ndarray:
    """Vectors (..., 3) rotated between ECEF and ENU at (lat, lon), broadcasting: flattened
    to rows with one origin or one origin per row for :func:`_rotate_rows`."""
    lat, lon = np.asarray(lat_deg, np.float64), np.asarray(lon_deg, np.float64)
    shape = _broadcast_shape(vectors=d.shape[:-1], lat_deg=lat.shape, lon_deg=lon.shape)
    rows = (d if d.shape[:-1] == shape else np.broadcast_to(d, shape + (3,))).reshape(-1, 3)
    if lat.ndim or lon.ndim:  # an origin per row
        lat, lon = np.broadcast_to(lat, shape), np.broadcast_to(lon, shape)
    out = _rotate_rows(_kernel_input(rows), _kernel_input(lat).reshape(-1), _kernel_input(lon).reshape(-1), to_enu)
    return out.reshape(shape + (3,))


def _rotate_ecef_to_enu(d: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Rotate ECEF vectors (..., 3) into ENU at (lat, lon), broadcasting."""
    return _rotate(d, lat_deg, lon_deg, True)


def _rotate_enu_to_ecef(v: np.ndarray, lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Rotate ENU vectors (..., 3) at (lat, lon) into ECEF, broadcasting."""
    return _rotate(v, lat_deg, lon_deg, False)


def _origin(
    lat0_deg: Floats, lon0_deg: Floats, alt0_m: Floats, model: EarthModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat0, lon0, alt0 = _broadcast(lat0_deg=lat0_deg, lon0_deg=lon0_deg, alt0_m=alt0_m)
    return lat0, lon0, geodetic_to_ecef(lat0, lon0, alt0, earth=model)


def ecef_to_enu(
    r_ecef_m: np.ndarray,
    *,
    lat0_deg: Floats,
    lon0_deg: Floats,
    alt0_m: Floats,
    earth: str | EarthModel = "wgs84",
) -> np.ndarray:
    """ENU coordinates (N, 3), m, of ECEF points relative to a geodetic origin.

    The origin (deg, deg, m) may be scalar or an array that broadcasts against N.
    """
    model = earth_model(earth)
    r = _points(r_ecef_m, "r_ecef_m")
    lat0, lon0, r0 = _origin(lat0_deg, lon0_deg, alt0_m, model)
    _broadcast_shape(r_ecef_m=r.shape[:-1], origin=lat0.shape)
    return _rotate_ecef_to_enu(r - r0, lat0, lon0)


def enu_to_ecef(
    enu_m: np.ndarray,
    *,
    lat0_deg: Floats,
    lon0_deg: Floats,
    alt0_m: Floats,
    earth: str | EarthModel = "wgs84",
) -> np.ndarray:
    """ECEF positions (N, 3), m, of ENU points (m) relative to a geodetic origin."""
    model = earth_model(earth)
    enu = _points(enu_m, "enu_m")
    lat0, lon0, r0 = _origin(lat0_deg, lon0_deg, alt0_m, model)
    _broadcast_shape(enu_m=enu.shape[:-1], origin=lat0.shape)
    return r0 + _rotate_enu_to_ecef(enu, lat0, lon0)


def ecef_velocity_to_enu(
    v_ecef_mps: np.ndarray, *, lat0_deg: Floats, lon0_deg: Floats
) -> np.ndarray:
    """Earth-relative ECEF velocities (N, 3), m/s, rotated into ENU at (lat0, lon0) deg."""
    v = _points(v_ecef_mps, "v_ecef_mps")
    lat0, lon0 = _broadcast(lat0_deg=lat0_deg, lon0_deg=lon0_deg)
    _check_latitude(lat0, "lat0_deg")
    _broadcast_shape(v_ecef_mps=v.shape[:-1], origin=lat0.shape)
    return _rotate_ecef_to_enu(v, lat0, lon0)


def enu_velocity_to_ecef(
    v_enu_mps: np.ndarray, *, lat0_deg: Floats, lon0_deg: Floats
) -> np.ndarray:
    """ENU velocities (N, 3), m/s, at (lat0, lon0) deg rotated into ECEF (Earth-relative)."""
    v = _points(v_enu_mps, "v_enu_mps")
    lat0, lon0 = _broadcast(lat0_deg=lat0_deg, lon0_deg=lon0_deg)
    _check_latitude(lat0, "lat0_deg")
    _broadcast_shape(v_enu_mps=v.shape[:-1], origin=lat0.shape)
    return _rotate_enu_to_ecef(v, lat0, lon0)


# --------------------------------------------------------------------------- AER


def _aer_from_components(e: np.ndarray, n: np.ndarray, u: np.ndarray) -> AER:
    horizontal = np.hypot(e, n)
    return AER(
        _out(_wrap_2pi(np.arctan2(e, n))),
        _out(np.arctan2(u, horizontal)),
        _out(np.hypot(horizontal, u)),
    )


def enu_to_aer(enu_m: np.ndarray) -> AER:
    """Azimuth (rad, [0, 2*pi) from north), elevation (rad) and range (m) of ENU vectors (N, 3).

    A zero vector has azimuth and elevation 0.
    """
    enu = _points(enu_m, "enu_m")
    return _aer_from_components(enu[..., 0], enu[..., 1], enu[..., 2])


def aer_to_enu(azimuth_rad: Floats, elevation_rad: Floats, range_m: Floats) -> np.ndarray:
    """ENU vectors (N, 3), m, from azimuth (rad), elevation (rad) and range (m); broadcasting."""
    az, el, rng = _broadcast(azimuth_rad=azimuth_rad, elevation_rad=elevation_rad, range_m=range_m)
    horizontal = rng * np.cos(el)
    return np.stack([horizontal * np.sin(az), horizontal * np.cos(az), rng * np.sin(el)], axis=-1)


def ecef_to_aer(
    r_ecef_m: np.ndarray,
    *,
    lat0_deg: Floats,
    lon0_deg: Floats,
    alt0_m: Floats,
    earth: str | EarthModel = "wgs84",
) -> AER:
    """AER of ECEF points (N, 3), m, seen from a geodetic observer (deg, deg, m)."""
    return enu_to_aer(
        ecef_to_enu(r_ecef_m, lat0_deg=lat0_deg, lon0_deg=lon0_deg, alt0_m=alt0_m, earth=earth)
    )


def aer_to_ecef(
    azimuth_rad: Floats,
    elevation_rad: Floats,
    range_m: Floats,
    *,
    lat0_deg: Floats,
    lon0_deg: Floats,
    alt0_m: Floats,
    earth: str | EarthModel = "wgs84",
) -> np.ndarray:
    """ECEF positions (N, 3), m, at azimuth, elevation (rad) and range (m) from an observer."""
    enu = aer_to_enu(azimuth_rad, elevation_rad, range_m)
    return enu_to_ecef(enu, lat0_deg=lat0_deg, lon0_deg=lon0_deg, alt0_m=alt0_m, earth=earth)


def ecef_to_aer_pairs(
    r_target_ecef_m: np.ndarray,
    *,
    observer_ecef_m: np.ndarray,
    observer_lat_deg: Floats,
    observer_lon_deg: Floats,
) -> AER:
    """AER of every target seen from every observer: arrays of shape (M, N).

    ``r_target_ecef_m`` (N, 3) and ``observer_ecef_m`` (M, 3) in metres; the observers'
    geodetic latitude and longitude (M,) in degrees orient their ENU frames (pass the
    ones that match ``observer_ecef_m``). A (3,) target or observer drops that axis.
    """
    t = _points(r_target_ecef_m, "r_target_ecef_m")
    o = _points(observer_ecef_m, "observer_ecef_m")
    if t.ndim > 2 or o.ndim > 2:
        raise ValueError(
            f"r_target_ecef_m and observer_ecef_m must have shape (N, 3) / (M, 3) or (3,), "
            f"got {t.shape} and {o.shape}"
        )
    lat = _floats(observer_lat_deg, "observer_lat_deg")
    lon = _floats(observer_lon_deg, "observer_lon_deg")
    for name, arr in (("observer_lat_deg", lat), ("observer_lon_deg", lon)):
        if arr.shape not in ((), o.shape[:-1]):
            raise ValueError(
                f"{name} must have shape {o.shape[:-1]} to match observer_ecef_m, got {arr.shape}"
            )
    _check_latitude(lat, "observer_lat_deg")
    t2 = t.reshape(-1, 3)
    o2 = o.reshape(-1, 3)
    m = o2.shape[0]
    sp, cp = (x[:, None] for x in _sincos_deg(np.broadcast_to(lat, (m,))))
    sl, cl = (x[:, None] for x in _sincos_deg(np.broadcast_to(lon, (m,))))
    # Differences first (exact to rounding), then rotate; every array is (M, N).
    dx = t2[None, :, 0] - o2[:, 0, None]
    dy = t2[None, :, 1] - o2[:, 1, None]
    dz = t2[None, :, 2] - o2[:, 2, None]
    east = cl * dy - sl * dx
    outward = cl * dx + sl * dy  # component along the observer's meridian plane, off the axis
    del dx, dy
    north = cp * dz - sp * outward
    up = cp * outward + sp * dz
    del dz, outward
    aer = _aer_from_components(east, north, up)
    shape = o.shape[:-1] + t.shape[:-1]
    return AER(*(_out(np.reshape(x, shape)) for x in aer))


# --------------------------------------------------------------------------- geodesics


@lru_cache(maxsize=8)
def _geographiclib(a_m: float, f: float) -> Geodesic:
    if a_m == Geodesic.WGS84.a and f == Geodesic.WGS84.f:
        return Geodesic.WGS84
    return Geodesic(a_m, f)


def _karney(
    model: EarthModel, method: str, args: list[np.ndarray], mask: int, keys: tuple[str, ...]
) -> list[np.ndarray]:
    """Loop geographiclib's ``Inverse`` or ``Direct`` over broadcast arrays; one array per key."""
    solve = getattr(_geographiclib(model.a_m, model.f), method)
    out = np.empty((args[0].size, len(keys)))
    for i, row in enumerate(zip(*(a.ravel().tolist() for a in args), strict=True)):
        sol = solve(*row, mask)
        out[i] = [sol[k] for k in keys]
    return [out[:, j].reshape(args[0].shape) for j in range(len(keys))]


def _sphere_inverse(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s1, c1 = _sincos_deg(lat1)
    s2, c2 = _sincos_deg(lat2)
    sd, cd = _sincos_deg(np.mod(lon2 - lon1, 360.0))
    y1 = c2 * sd
    x1 = c1 * s2 - s1 * c2 * cd
    # Vincenty's form of the central angle: accurate from 0 to the antipode.
    sigma = np.arctan2(np.hypot(y1, x1), s1 * s2 + c1 * c2 * cd)
    az1 = np.degrees(np.arctan2(y1, x1))
    az2 = np.degrees(np.arctan2(c1 * sd, c1 * s2 * cd - s1 * c2))
    return radius_m * sigma, _wrap_360(az1), _wrap_360(az2)


def _sphere_direct(
    lat1: np.ndarray, lon1: np.ndarray, az1: np.ndarray, dist: np.ndarray, radius_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Unit vectors in a frame rotated so that point 1 lies on the meridian lon = 0.
    sp, cp = _sincos_deg(lat1)
    sa, ca = _sincos_deg(az1)
    delta = dist / radius_m
    sdl, cdl = np.sin(delta), np.cos(delta)
    # p2 = cos(delta) p1 + sin(delta) d1 and its tangent t2 = -sin(delta) p1 + cos(delta) d1,
    # with p1 = (cp, 0, sp) and d1 = ca * north1 + sa * east1.
    px, py, pz = cdl * cp - sdl * ca * sp, sdl * sa, cdl * sp + sdl * ca * cp
    tx, ty, tz = -sdl * cp - cdl * ca * sp, cdl * sa, -sdl * sp + cdl * ca * cp
    rho = np.hypot(px, py)
    lat2 = np.arctan2(pz, rho)
    dlon = np.arctan2(py, px)
    s2, c2 = np.sin(lat2), np.cos(lat2)
    sl, cl = np.sin(dlon), np.cos(dlon)
    east = -sl * tx + cl * ty
    north = -s2 * (cl * tx + sl * ty) + c2 * tz
    lon2 = _wrap_180(lon1 + np.degrees(dlon))
    return np.degrees(lat2), lon2, _wrap_360(np.degrees(np.arctan2(east, north)))


def geodesic_inverse(
    lat1_deg: Floats,
    lon1_deg: Floats,
    lat2_deg: Floats,
    lon2_deg: Floats,
    *,
    earth: str | EarthModel = "wgs84",
) -> GeodesicInverse:
    """Shortest geodesic between two points (deg): length (m) and azimuths (deg, [0, 360)).

    Ellipsoid: Karney's algorithm (geographiclib, ~15 nm accurate). Sphere: great
    circle in closed form. Inputs broadcast. At a pole the azimuth is measured as the
    limit along the meridian of the given longitude (geographiclib's convention).
    """
    model = earth_model(earth)
    lat1, lon1, lat2, lon2 = _broadcast(
        lat1_deg=lat1_deg, lon1_deg=lon1_deg, lat2_deg=lat2_deg, lon2_deg=lon2_deg
    )
    _check_latitude(lat1, "lat1_deg")
    _check_latitude(lat2, "lat2_deg")
    if model.is_sphere:
        dist, az1, az2 = _sphere_inverse(lat1, lon1, lat2, lon2, model.a_m)
    else:
        mask = Geodesic.DISTANCE | Geodesic.AZIMUTH
        dist, az1, az2 = _karney(
            model, "Inverse", [lat1, lon1, lat2, lon2], mask, ("s12", "azi1", "azi2")
        )
        az1, az2 = _wrap_360(az1), _wrap_360(az2)
    return GeodesicInverse(_out(dist), _out(az1), _out(az2))


def geodesic_direct(
    lat1_deg: Floats,
    lon1_deg: Floats,
    azimuth1_deg: Floats,
    distance_m: Floats,
    *,
    earth: str | EarthModel = "wgs84",
) -> GeodesicDirect:
    """End point (deg; longitude in (-180, 180]) and forward azimuth there (deg, [0, 360))
    after travelling ``distance_m`` along the geodesic leaving point 1 at ``azimuth1_deg``.

    Ellipsoid: Karney's algorithm (geographiclib). Sphere: great circle in closed form.
    Inputs broadcast; negative distances travel backwards.
    """
    model = earth_model(earth)
    lat1, lon1, az1, dist = _broadcast(
        lat1_deg=lat1_deg, lon1_deg=lon1_deg, azimuth1_deg=azimuth1_deg, distance_m=distance_m
    )
    _check_latitude(lat1, "lat1_deg")
    if model.is_sphere:
        lat2, lon2, az2 = _sphere_direct(lat1, lon1, az1, dist, model.a_m)
    else:
        mask = Geodesic.LATITUDE | Geodesic.LONGITUDE | Geodesic.AZIMUTH
        lat2, lon2, az2 = _karney(
            model, "Direct", [lat1, lon1, az1, dist], mask, ("lat2", "lon2", "azi2")
        )
        lon2, az2 = _wrap_180(lon2), _wrap_360(az2)
    return GeodesicDirect(_out(lat2), _out(lon2), _out(az2))


def geodesic_distance_m(
    lat1_deg: Floats,
    lon1_deg: Floats,
    lat2_deg: Floats,
    lon2_deg: Floats,
    *,
    earth: str | EarthModel = "wgs84",
) -> Floats:
    """Geodesic distance, m, between points given in degrees; see :func:`geodesic_inverse`."""
    model = earth_model(earth)
    if model.is_sphere:
        return geodesic_inverse(lat1_deg, lon1_deg, lat2_deg, lon2_deg, earth=model).distance_m
    lat1, lon1, lat2, lon2 = _broadcast(
        lat1_deg=lat1_deg, lon1_deg=lon1_deg, lat2_deg=lat2_deg, lon2_deg=lon2_deg
    )
    _check_latitude(lat1, "lat1_deg")
    _check_latitude(lat2, "lat2_deg")
    (dist,) = _karney(model, "Inverse", [lat1, lon1, lat2, lon2], Geodesic.DISTANCE, ("s12",))
    return _out(dist)
