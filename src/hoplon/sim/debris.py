"""Debris of a run: the fragments of every kill and every missed interceptor, where they
land, their footprints and the populated places they endanger.

Each kill breaks the killed object (its catalog ``mass``) and the interceptor (its
burnout ``mass``) into one fragment cloud at the intercept, moving with their centre of
mass (a hit-to-kill collision is perfectly inelastic: a head-on interceptor takes a large
share of the threat's speed away) plus the collision form of the breakup model's
velocity spread (:func:`hoplon.core.debris.fragment_cloud`, ``debris.fragments``
fragments, the run's ``debris`` stream); every fragment of every cloud falls in one batched call, with
the scenario's wind profile. A missed interceptor falls whole
(:meth:`hoplon.sim.intercepts.Interceptors.falls`). ``debris.parquet`` has one row per
fragment; the footprint of each cloud (95 % polygon and hull), the fragments above the
15 J casualty threshold and the places (GeoNames, at least ``PLACE_MIN_POPULATION``
inhabitants) inside or within ``PLACE_MARGIN_M`` of the 95 % polygon go to the events and
the summary.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from hoplon.core.debris import (
    CASUALTY_ENERGY_J,
    Footprint,
    FragmentCloud,
    _median,
    fall,
    footprint,
    fragment_cloud,
    greatest_angle_rad,
    places_near,
    polygon_reach_rad,
)
from hoplon.core.earth import SPHERE
from hoplon.scenario.places import describe_location, load_places, places_within
from hoplon.sim.events import Event

__all__ = ["DEBRIS_SCHEMA", "PLACE_MARGIN_M", "PLACE_MIN_POPULATION", "run_debris", "object_mass_kg"]

PLACE_MARGIN_M = 10_000.0
PLACE_MIN_POPULATION = 5000
DEFAULT_AIRBREATHER_MASS_KG = 200.0

DEBRIS_SCHEMA = pa.schema(
    [
        ("cloud_id", pa.string()),  # the killed object's id, or the missed interceptor's
        ("source", pa.string()),  # kill | interceptor
        ("fragment", pa.int64()),
        ("break_time_s", pa.float64()),
        ("land_time_s", pa.float64()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("mass_kg", pa.float64()),  # of this fragment
        ("represents", pa.float64()),  # real fragments this sampled one stands for
        ("beta_kg_m2", pa.float64()),
        ("impact_speed_mps", pa.float64()),
        ("energy_j", pa.float64()),
        ("hazardous", pa.bool_()),  # above the 15 J casualty threshold
        ("landed", pa.bool_()),
    ],
    metadata={"hoplon_table": "debris", "schema_version": "2"},
)


def object_mass_kg(world, kind: str, type_name: str) -> float:
    """Mass that breaks up when an object of ``kind`` and catalog ``type_name`` is killed
    (the type's ``mass``; default: a ballistic type's dry mass, a spent booster's dry mass
    less the re-entry vehicle's, 200 kg for air-breathing types)."""
    cat = world.scenario.threat_catalog
    if kind in ("ballistic_missile", "spent_booster"):
        t = cat.ballistic[type_name]
        dry = t.launch_mass_kg - t.propellant_mass_kg
        rv = t.mass_kg if t.mass_kg is not None else dry
        return max(dry - rv, 0.1 * dry) if kind == "spent_booster" else rv
    section = "drone" if kind == "drone" else "cruise_missile"
    t = cat.section(section)[type_name]
    return t.mass_kg if t.mass_kg is not None else DEFAULT_AIRBREATHER_MASS_KG


def _wind(world):
    layers = sorted(world.scenario.debris.wind, key=lambda w: w.alt_m)
    if not layers:
        return None
    h = np.array([w.alt_m for w in layers])
    e = np.array([w.east_mps for w in layers])
    n = np.array([w.north_mps for w in layers])
    return lambda alt: (np.interp(alt, h, e), np.interp(alt, h, n))


def run_debris(world, kills: list[dict], interceptor_falls: list[dict], rng: np.random.Generator,
               events: list[Event]) -> tuple[pa.Table, list[dict]]:
    """The debris table and one summary per cloud. ``kills``: dicts with object_id, kind,
    type, time_s, r (ECEF), v; ``interceptor_falls``: dicts with interceptor_id,
    break_time_s, land_time_s, lat_deg, lon_deg, mass_kg."""
    n_frag = world.scenario.debris.fragments
    parts: dict[str, list] = {name: [] for name in DEBRIS_SCHEMA.names}  # blocks of rows: arrays or lists
    clouds = []
    if kills:
        r, v, m, a, beta, cid, t0, count = [], [], [], [], [], [], [], []
        for kill in kills:
            # a hit-to-kill collision is perfectly inelastic: the cloud holds both bodies and
            # moves with their centre of mass
            m_obj, m_int = object_mass_kg(world, kill["kind"], kill["type"]), kill["interceptor_mass_kg"]
            v_cm = (m_obj * kill["v"] + m_int * kill["interceptor_v"]) / (m_obj + m_int)
            c = fragment_cloud(kill["r"], v_cm, m_obj + m_int, rng, n_fragments=n_frag)
            r.append(c.r_ecef_m)
            v.append(c.v_ecef_mps)
            m.append(c.mass_kg)
            beta.append(c.beta_kg_m2)
            a.append(c.area_m2)
            count.append(c.count)
            cid.append(np.full(c.mass_kg.size, len(clouds)))
            t0.append(np.full(c.mass_kg.size, kill["time_s"]))
            clouds.append(kill)
        all_cloud = FragmentCloud(np.concatenate(r), np.concatenate(v), np.concatenate(m), np.concatenate(a),
                                  np.concatenate(beta), np.zeros(sum(x.size for x in m)))
        land = fall(all_cloud, earth=world.earth, wind=_wind(world))
        which, t_break = np.concatenate(cid), np.concatenate(t0)
        frag = np.concatenate([np.arange(x.size) for x in m])
        kill_rows = {
            "cloud_id": [clouds[k]["object_id"] for k in which], "source": ["kill"] * which.size, "fragment": frag,
            "break_time_s": t_break, "land_time_s": t_break + land.fall_time_s, "lat_deg": land.lat_deg,
            "lon_deg": land.lon_deg, "mass_kg": all_cloud.mass_kg, "represents": np.concatenate(count),
            "beta_kg_m2": all_cloud.beta_kg_m2, "impact_speed_mps": land.impact_speed_mps, "energy_j": land.energy_j,
            "hazardous": land.landed & (land.energy_j > CASUALTY_ENERGY_J), "landed": land.landed,
        }
        for name, block in kill_rows.items():
            parts[name].append(block)
    fall_rows: dict[str, list] = {name: [] for name in DEBRIS_SCHEMA.names}
    for f in interceptor_falls:
        fall_rows["cloud_id"].append(f["interceptor_id"])
        fall_rows["source"].append("interceptor")
        fall_rows["fragment"].append(0)
        fall_rows["break_time_s"].append(f["break_time_s"])
        fall_rows["land_time_s"].append(f["land_time_s"])
        fall_rows["lat_deg"].append(f["lat_deg"])
        fall_rows["lon_deg"].append(f["lon_deg"])
        fall_rows["mass_kg"].append(f["mass_kg"])
        fall_rows["represents"].append(1.0)
        fall_rows["beta_kg_m2"].append(f["beta_kg_m2"])
        fall_rows["impact_speed_mps"].append(f["impact_speed_mps"])
        fall_rows["energy_j"].append(0.5 * f["mass_kg"] * f["impact_speed_mps"] ** 2)
        fall_rows["hazardous"].append(0.5 * f["mass_kg"] * f["impact_speed_mps"] ** 2 > CASUALTY_ENERGY_J)
        fall_rows["landed"].append(math.isfinite(f["land_time_s"]))
    for name, block in fall_rows.items():
        parts[name].append(block)
    table = pa.table([pa.concat_arrays([pa.array(block, type=field.type) for block in parts[field.name]])
                      for field in DEBRIS_SCHEMA], schema=DEBRIS_SCHEMA)
    return table, _summaries(world, table, events)


def _summaries(world, table: pa.Table, events: list[Event]) -> list[dict]:
    """Footprint, hazard and places of each cloud; a debris_landed event each."""
    if table.num_rows == 0:
        return []
    d = {k: table.column(k).to_numpy(zero_copy_only=False) for k in table.column_names
         if k not in ("cloud_id", "source")}  # the strings as Python objects only where read
    places = load_places(PLACE_MIN_POPULATION)
    ids = table.column("cloud_id").combine_chunks().dictionary_encode()  # in order of first appearance
    codes = ids.indices.to_numpy()
    clouds = []  # (cloud id, its landed rows, footprint, places under it)
    for code, cid in enumerate(ids.dictionary.to_pylist()):
        rows = np.flatnonzero((codes == code) & d["landed"])
        if rows.size:
            fp = footprint(d["lat_deg"][rows], d["lon_deg"][rows])
            clouds.append((cid, rows, fp, _places_under(fp, d["lat_deg"][rows], d["lon_deg"][rows], places)))
    if not clouds:
        return []
    labels = describe_location([c[2].median_lat_deg for c in clouds], [c[2].median_lon_deg for c in clouds])
    out = []
    for (cid, rows, fp, found), label in zip(clouds, labels, strict=True):
        source = table.column("source")[int(rows[0])].as_py()
        t_land = d["land_time_s"][rows]
        weight = d["represents"][rows]
        summary = {
            "cloud_id": str(cid), "source": source, "fragments": int(round(weight.sum())), "samples": int(rows.size),
            "hazardous": int(round(weight[d["hazardous"][rows]].sum())), "mass_kg": float((d["mass_kg"][rows] * weight).sum()),
            "break_time_s": float(d["break_time_s"][rows[0]]), "first_landing_s": float(t_land.min()),
            "last_landing_s": float(t_land.max()), "median_lat_deg": fp.median_lat_deg, "median_lon_deg": fp.median_lon_deg,
            "footprint95_area_km2": fp.polygon95_area_m2 / 1e6, "hull_area_km2": fp.hull_area_m2 / 1e6,
            "polygon95_lat_deg": fp.polygon95_lat_deg.tolist(), "polygon95_lon_deg": fp.polygon95_lon_deg.tolist(),
            "places": found, "near": label,
        }
        out.append(summary)
        what = (f"{summary['fragments']:,} fragments of {cid} ({summary['hazardous']:,} above 15 J; {summary['samples']} "
                f"sampled), 95 % footprint "
                f"{summary['footprint95_area_km2']:.0f} km2" if source == "kill" else f"spent interceptor {cid}")
        if found:
            what += "; places: " + ", ".join(f"{p['name']} ({p['population']:,})" for p in found[:4])
        events.append(Event(float(_median(t_land)), "debris_landed", str(cid), fp.median_lat_deg, fp.median_lon_deg, 0.0,
                            f"{what}; near {summary['near']}"))
    return out


def _places_under(fp: Footprint, lat: np.ndarray, lon: np.ndarray, places) -> list[dict]:
    """The places inside or within ``PLACE_MARGIN_M`` of the 95 % polygon of a cloud that
    landed at ``lat``/``lon`` (deg): inside first (distance 0), then by distance; among
    equals the most populous first."""
    # searched within the great-circle reach of the landings on the mean sphere (the metric
    # places_within searches with; the ellipsoidal geodesic would cost a Python call per
    # fragment), and no farther than a place within the margin of the polygon can lie
    # (+1 km: places_within's sphere is 8.8 m larger, and rounding)
    reach = SPHERE.a_m * greatest_angle_rad(fp.median_lat_deg, fp.median_lon_deg, lat, lon)
    radius = min(reach + PLACE_MARGIN_M, SPHERE.a_m * polygon_reach_rad(fp, PLACE_MARGIN_M) + 1000.0)
    near = places_within(fp.median_lat_deg, fp.median_lon_deg, radius, min_population=PLACE_MIN_POPULATION)
    if not near.size:
        return []
    inside, dist = places_near(fp, places.lat_deg[near], places.lon_deg[near], margin_m=PLACE_MARGIN_M)
    pop = places.population[near].astype(float)
    order = np.flatnonzero(inside)[np.lexsort((-pop[inside], dist[inside]))]
    p = near[order]
    return [{"name": name, "country": country, "admin1": admin1, "population": population, "distance_m": distance}
            for name, country, admin1, population, distance in zip(
                places.name[p].tolist(), places.country_code[p].tolist(), places.admin1_code[p].tolist(),
                places.population[p].tolist(), dist[order].tolist(), strict=True)]
