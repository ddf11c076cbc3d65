"""What a run shows on a map, as plain JSON-ready data: the common ground of the HTML
report, the CZML/KML/GeoJSON exports and the static figures.

Everything is in the order of the run's tables (deterministic); coordinates are rounded
to 1e-6 deg (0.1 m) and heights to 0.1 m.
"""

from __future__ import annotations

import math

import numpy as np

from hoplon.report.layout import circle_polygon, fan_polygon
from hoplon.report.run_data import RunData, column, ground_tracks

__all__ = ["build_scene", "THREAT_KINDS", "threat_rows", "interceptor_rows", "places_near", "frame_times"]

THREAT_KINDS = ("ballistic_missile", "cruise_missile", "drone")


def _f(x, digits: int = 6) -> float | None:
    if x is None:
        return None
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def threat_rows(run: RunData) -> list[dict]:
    """The outcomes table as dicts (one per threat), non-finite numbers as None."""
    rows = run.table("outcomes").to_pylist()
    return [{k: (_f(v, 6) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]


def interceptor_rows(run: RunData) -> list[dict]:
    """The interceptors table as dicts, each with the ``threat`` its engagement was
    against (engagements.object_id)."""
    eng = run.table("engagements")
    target_of = {}
    if eng.num_rows:
        for eid, oid in zip(column(eng, "engagement_id"), column(eng, "object_id")):
            target_of[int(eid)] = oid
    out = []
    for r in run.table("interceptors").to_pylist():
        r = {k: (_f(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
        r["threat"] = target_of.get(int(r["engagement_id"])) if r.get("engagement_id") is not None else None
        out.append(r)
    return out


def places_near(lat_min: float, lat_max: float, lon_min: float, lon_max: float, *, min_population: int = 100_000,
                limit: int = 300) -> list[dict]:
    """GeoNames places of at least ``min_population`` in a box, largest first."""
    from hoplon.scenario.places import load_places  # noqa: PLC0415

    p = load_places(min_population=min_population)
    inside = (p.lat_deg >= lat_min) & (p.lat_deg <= lat_max) & (p.lon_deg >= lon_min) & (p.lon_deg <= lon_max)
    idx = np.flatnonzero(inside)
    idx = idx[np.lexsort((p.name[idx].astype(str), -p.population[idx]))][:limit]
    return [
        {"name": str(p.name[i]), "country": str(p.country_code[i]), "lat_deg": _f(p.lat_deg[i], 5),
         "lon_deg": _f(p.lon_deg[i], 5), "population": int(p.population[i])}
        for i in idx
    ]


def frame_times(starts_ends: list[tuple[float, float]], max_frames: int = 2000, gap_s: float = 600.0) -> list[float]:
    """Replay times: the active spans (merged when closer than ``gap_s``), sampled evenly
    with one step chosen so that there are at most ``max_frames`` frames; idle gaps
    (days between two raids) are skipped."""
    spans = sorted((a, b) for a, b in starts_ends if math.isfinite(a) and math.isfinite(b))
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1] + gap_s:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    total = sum(b - a for a, b in merged)
    if not merged:
        return []
    step = max(1.0, math.ceil(total / max(1, max_frames - 2 * len(merged))))
    out: list[float] = []
    for a, b in merged:
        n = int(math.floor((b - a) / step))
        out.extend(round(a + k * step, 3) for k in range(n + 1))
        if out[-1] < b:
            out.append(round(b, 3))
    return out


def _coverage_fans(sensor: dict) -> list[dict]:
    fans = []
    for c in sensor.get("coverage", []):
        fans.append({
            "altitude_m": c["altitude_m"],
            "search": fan_polygon(sensor["lat_deg"], sensor["lon_deg"], sensor["boresight_deg"],
                                  sensor["azimuth_half_width_deg"], c["ground_range_m"]),
            "cued": fan_polygon(sensor["lat_deg"], sensor["lon_deg"], sensor["boresight_deg"],
                                sensor["azimuth_half_width_deg"], c.get("cued_ground_range_m", 0.0)),
            "search_range_km": round(c["detection_range_m"] / 1e3, 1),
            "cued_range_km": round(c.get("cued_range_m", 0.0) / 1e3, 1),
        })
    return fans


def build_scene(run: RunData, *, max_track_points: int = 400, places: bool = True) -> dict:
    """The JSON-ready scene of a run (see the module docstring)."""
    layout = run.layout or {"assets": [], "sensors": [], "batteries": []}
    tracks = ground_tracks(run, max_points=max_track_points)
    objects = []
    for oid, tr in tracks.items():
        objects.append({
            "id": oid, "kind": tr["kind"],
            "t": [_f(x, 3) for x in tr["t"]], "lat": [_f(x) for x in tr["lat"]], "lon": [_f(x) for x in tr["lon"]],
            "alt": [_f(x, 1) for x in tr["alt"]],
        })
    threats = threat_rows(run)
    interceptors = interceptor_rows(run)
    intercepts = [
        {"interceptor": r["interceptor_id"], "battery": r["battery_id"], "threat": r["threat"], "result": r["result"],
         "time_s": r["intercept_time_s"], "lat_deg": r["end_lat_deg"], "lon_deg": r["end_lon_deg"],
         "alt_m": _f(r["end_alt_m"], 1), "miss_distance_m": _f(r["miss_distance_m"], 2)}
        for r in interceptors if r["end_lat_deg"] is not None and r["end_lon_deg"] is not None
    ]
    leakers = [
        {"id": r["object_id"], "kind": r["kind"], "time_s": r["impact_time_s"], "lat_deg": r["impact_lat_deg"],
         "lon_deg": r["impact_lon_deg"], "asset_hit": r["asset_hit"] or None}
        for r in threats if r["fate"] == "leaked" and r["impact_lat_deg"] is not None
    ]
    kills = [
        {"id": r["object_id"], "time_s": r["killed_time_s"], "lat_deg": r["kill_lat_deg"], "lon_deg": r["kill_lon_deg"],
         "alt_m": _f(r["kill_alt_m"], 1), "by": r["killed_by"]}
        for r in threats if r["fate"] == "killed" and r["kill_lat_deg"] is not None
    ]
    clouds = []
    for c in run.summary.get("debris", []) or []:
        lat, lon = c.get("polygon95_lat_deg") or [], c.get("polygon95_lon_deg") or []
        clouds.append({
            "id": c.get("cloud_id"), "source": c.get("source"), "fragments": c.get("fragments"),
            "hazardous": c.get("hazardous"), "time_s": _f(c.get("first_landing_s"), 3),
            "area_km2": _f(c.get("footprint95_area_km2"), 3), "near": c.get("near"),
            "places": [p if isinstance(p, str) else p.get("name", str(p)) for p in c.get("places", []) or []],
            "median": [_f(c.get("median_lat_deg")), _f(c.get("median_lon_deg"))],
            "polygon": [[_f(a), _f(b)] for a, b in zip(lat, lon)],
        })
    deb = run.table("debris")
    fragments = []
    if deb.num_rows:
        landed = column(deb, "landed").astype(bool)
        hazardous = column(deb, "hazardous").astype(bool)
        lat, lon = column(deb, "lat_deg").astype(float), column(deb, "lon_deg").astype(float)
        cloud = column(deb, "cloud_id")
        land_t = column(deb, "land_time_s").astype(float) if "land_time_s" in deb.column_names else np.full(lat.shape, np.nan)
        for i in np.flatnonzero(landed & np.isfinite(lat) & np.isfinite(lon)):
            fragments.append([_f(lat[i], 5), _f(lon[i], 5), int(hazardous[i]), str(cloud[i]), _f(land_t[i], 1)])
    sensors = []
    for s in layout["sensors"]:
        if s.get("kind") != "radar":
            sensors.append({"id": s["id"], "type": s["type"], "label": s.get("label", ""), "kind": s.get("kind")})
            continue
        sensors.append({**{k: s[k] for k in ("id", "type", "label", "kind", "lat_deg", "lon_deg", "alt_m",
                                             "boresight_deg", "azimuth_half_width_deg", "max_range_m")},
                        "fans": _coverage_fans(s)})
    batteries = []
    for b in layout["batteries"]:
        batteries.append({**b, "zone": circle_polygon(b["lat_deg"], b["lon_deg"], b["max_range_m"]),
                          "inner": circle_polygon(b["lat_deg"], b["lon_deg"], b["min_range_m"]) if b["min_range_m"] > 0 else []})
    assets = [{**a, "ring": circle_polygon(a["lat_deg"], a["lon_deg"], a["radius_m"], 10.0)} for a in layout["assets"]]
    events = [
        {"t": _f(r["time_s"], 3), "kind": r["kind"], "object": r["object_id"], "lat": _f(r["lat_deg"]),
         "lon": _f(r["lon_deg"]), "alt": _f(r["alt_m"], 1), "detail": r["detail"]}
        for r in run.table("events").to_pylist()
    ]
    # the box of everything that moved, for the view and the places
    lats = [x for o in objects for x in o["lat"] if x is not None] + [a["lat_deg"] for a in assets] + \
        [s["lat_deg"] for s in sensors if "lat_deg" in s] + [b["lat_deg"] for b in batteries]
    lons = [x for o in objects for x in o["lon"] if x is not None] + [a["lon_deg"] for a in assets] + \
        [s["lon_deg"] for s in sensors if "lon_deg" in s] + [b["lon_deg"] for b in batteries]
    bounds = [[min(lats), min(lons)], [max(lats), max(lons)]] if lats else [[-60.0, -180.0], [75.0, 180.0]]
    pad = 1.0
    near = places_near(bounds[0][0] - pad, bounds[1][0] + pad, bounds[0][1] - pad, bounds[1][1] + pad) if places and lats else []
    spans = [(o["t"][0], o["t"][-1]) for o in objects if o["t"]]
    spans += [(c["time_s"], c["time_s"]) for c in clouds if c["time_s"] is not None]
    return {
        "name": run.name,
        "epoch_utc": run.epoch_utc,
        "bounds": [[_f(bounds[0][0]), _f(bounds[0][1])], [_f(bounds[1][0]), _f(bounds[1][1])]],
        "objects": objects,
        "threats": threats,
        "interceptors": interceptors,
        "intercepts": intercepts,
        "kills": kills,
        "leakers": leakers,
        "clouds": clouds,
        "fragments": fragments,
        "sensors": sensors,
        "batteries": batteries,
        "assets": assets,
        "places": near,
        "events": events,
        "frames": frame_times(spans),
        "reference_target": (run.layout or {}).get("reference_target"),
    }
