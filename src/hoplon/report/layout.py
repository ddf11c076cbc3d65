"""The scenario's layout for reports and exports: assets, sensors with their coverage,
batteries with their engagement zones, and the notional data's sources.

``hoplon run`` writes it as ``scenario.json`` beside the run's tables, so a report needs
no scenario file. Sensor coverage is the detection range (``core.sensors.coverage``:
the least of the 4/3-Earth horizon, the lowest elevation, the search radar equation and
the instrumented range; search dwells, and dwells cued by another sensor with the type's
cue gain) against a reference target (:data:`REFERENCE_RCS_M2`, Swerling 1,
Pd :data:`REFERENCE_PD`) at each of :data:`COVERAGE_ALTITUDES_M`, as a ground range.
"""

from __future__ import annotations

import math

import numpy as np

from hoplon.core.frames import geodesic_direct
from hoplon.core.sensors import coverage
from hoplon.scenario.schema import InfraredType, RadarType, Scenario
from hoplon.sim.sensors import radar_array

__all__ = [
    "LAYOUT_VERSION",
    "COVERAGE_ALTITUDES_M",
    "REFERENCE_RCS_M2",
    "REFERENCE_PD",
    "scenario_layout",
    "ground_range_m",
    "fan_polygon",
    "circle_polygon",
]

LAYOUT_VERSION = 1
COVERAGE_ALTITUDES_M = (1_000.0, 3_000.0, 10_000.0, 30_000.0, 100_000.0, 300_000.0)
REFERENCE_RCS_M2 = 0.1
REFERENCE_PD = 0.9
_EARTH_RADIUS_M = 6371e3  # the radius core.sensors.coverage uses for geometry


def ground_range_m(slant_m: float, radar_alt_m: float, target_alt_m: float) -> float:
    """Ground range (m, on a sphere of 6371 km) of a target at ``target_alt_m`` seen at
    ``slant_m`` from a radar at ``radar_alt_m``: the law of cosines in the triangle
    centre-radar-target."""
    a = _EARTH_RADIUS_M + radar_alt_m
    b = _EARTH_RADIUS_M + target_alt_m
    if slant_m <= abs(b - a):
        return 0.0
    cos_theta = (a * a + b * b - slant_m * slant_m) / (2.0 * a * b)
    return _EARTH_RADIUS_M * math.acos(max(-1.0, min(1.0, cos_theta)))


def fan_polygon(lat: float, lon: float, boresight_deg: float, half_width_deg: float, range_m: float,
                step_deg: float = 2.0) -> list[list[float]]:
    """[[lat, lon], ...] of a field-of-view fan (closed ring); a full circle when the
    half width reaches 180 deg. Points on the arc are geodesic (WGS84)."""
    if range_m <= 0.0:
        return []
    if half_width_deg >= 180.0:
        return circle_polygon(lat, lon, range_m, step_deg)
    n = max(2, int(math.ceil(2.0 * half_width_deg / step_deg)) + 1)
    az = np.linspace(boresight_deg - half_width_deg, boresight_deg + half_width_deg, n)
    end = geodesic_direct(lat, lon, az, np.full(n, range_m))
    ring = [[lat, lon]] + [[float(a), float(b)] for a, b in zip(end.lat_deg, end.lon_deg)] + [[lat, lon]]
    return [[round(a, 5), round(b, 5)] for a, b in ring]


def circle_polygon(lat: float, lon: float, range_m: float, step_deg: float = 4.0) -> list[list[float]]:
    """[[lat, lon], ...] of a closed geodesic circle of radius ``range_m``."""
    n = int(round(360.0 / step_deg))
    az = np.arange(n) * (360.0 / n)
    end = geodesic_direct(lat, lon, az, np.full(n, range_m))
    ring = [[round(float(a), 5), round(float(b), 5)] for a, b in zip(end.lat_deg, end.lon_deg)]
    return ring + [ring[0]]


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(float(x), digits)


def _sources(scenario: Scenario) -> list[dict]:
    """The catalog types the scenario uses, with their label and public sources."""
    catalog = scenario.threat_catalog
    used: list[tuple[str, str]] = []
    for t in scenario.threats.ballistic:
        used.append(("ballistic", t.type))
    for t in scenario.threats.drones:
        used.append(("drone", t.type))
    for t in scenario.threats.cruise_missiles:
        used.append(("cruise_missile", t.type))
    for s in scenario.sensors:
        used.append(("radar" if s.type in catalog.radar else "infrared", s.type))
    for b in scenario.batteries:
        used.append(("interceptor", b.type))
    out, seen = [], set()
    for section, name in used:
        if (section, name) in seen:
            continue
        seen.add((section, name))
        kind = catalog.section(section).get(name)
        if kind is None:
            continue
        out.append({"section": section, "type": name, "label": kind.label, "sources": list(kind.sources)})
    return out


def scenario_layout(scenario: Scenario) -> dict:
    """The JSON-ready layout of ``scenario`` (deterministic: no clock, fixed order)."""
    sensors = []
    for site in scenario.sensors:
        kind = scenario.sensor_type(site)
        row: dict = {"id": site.id, "type": site.type, "label": kind.label}
        if isinstance(kind, RadarType):
            alt = site.alt_m or 0.0
            radars = radar_array([kind], [site.lat_deg], [site.lon_deg], [alt], [site.boresight_rad or 0.0])
            # search dwells, and dwells cued by another sensor (the type's cue gain)
            cov = coverage(radars, rcs_m2=REFERENCE_RCS_M2, altitudes_m=np.array(COVERAGE_ALTITUDES_M),
                           pd=REFERENCE_PD, swerling=1, track_gain_db=kind.cue_gain_db)
            row.update(
                kind="radar", lat_deg=_r(site.lat_deg, 6), lon_deg=_r(site.lon_deg, 6), alt_m=_r(alt, 1),
                boresight_deg=_r(math.degrees(site.boresight_rad or 0.0), 3),
                azimuth_half_width_deg=_r(math.degrees(kind.azimuth_half_width_rad), 3),
                elevation_min_deg=_r(math.degrees(kind.elevation_min_rad), 3),
                elevation_max_deg=_r(math.degrees(kind.elevation_max_rad), 3),
                max_range_m=_r(kind.max_range_m, 1),
                coverage=[
                    {"altitude_m": h, "detection_range_m": _r(d, 1),
                     "ground_range_m": _r(ground_range_m(float(d), alt, h), 1),
                     "cued_range_m": _r(c, 1), "cued_ground_range_m": _r(ground_range_m(float(c), alt, h), 1)}
                    for h, d, c in zip(COVERAGE_ALTITUDES_M, cov.detection_range_m, cov.track_range_m)
                ],
            )
        else:
            assert isinstance(kind, InfraredType)
            row.update(kind="infrared", min_altitude_m=_r(kind.min_altitude_m, 1))
        sensors.append(row)
    catalog = scenario.threat_catalog.section("interceptor")
    batteries = []
    for b in scenario.batteries:
        kind = catalog[b.type]
        batteries.append({
            "id": b.id, "type": b.type, "label": kind.label, "tier": kind.tier,
            "lat_deg": _r(b.lat_deg, 6), "lon_deg": _r(b.lon_deg, 6), "alt_m": _r(b.alt_m, 1),
            "min_range_m": _r(kind.min_range_m, 1), "max_range_m": _r(kind.max_range_m, 1),
            "min_altitude_m": _r(kind.min_altitude_m, 1), "max_altitude_m": _r(kind.max_altitude_m, 1),
            "radar": b.radar, "defends": list(b.defends),
            "rounds": (b.launchers or kind.launchers) * (b.rounds_per_launcher or kind.rounds_per_launcher),
        })
    assets = [
        {"name": a.name, "lat_deg": _r(a.lat_deg, 6), "lon_deg": _r(a.lon_deg, 6), "alt_m": _r(a.alt_m, 1),
         "value": a.value, "radius_m": _r(a.radius_m, 1), "kind": a.kind}
        for a in scenario.assets
    ]
    return {
        "layout_version": LAYOUT_VERSION,
        "name": scenario.name,
        "description": scenario.description,
        "reference_target": {"rcs_m2": REFERENCE_RCS_M2, "swerling": 1, "pd": REFERENCE_PD},
        "assets": assets,
        "sensors": sensors,
        "batteries": batteries,
        "sources": list(scenario.sources),
        "catalog_sources": _sources(scenario),
    }
