"""The engine: fly a compiled world and record what happened.

This version flies the threats only (sensors, tracking, battle management and
interceptors come with later issues): every ballistic missile through its boost,
separation and free flight to impact, every spent booster to the ground, and every
drone and cruise missile along its route. All objects of a kind are flown in one
batched call of the core; the truth is sampled on one absolute time grid (multiples of
``truth_step_s`` after the epoch) plus each object's exact impact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hoplon.core.airbreather import route_states_at
from hoplon.core.ballistic import FlightSamples, sample_flight
from hoplon.core.boost import fly_boost
from hoplon.core.frames import ecef_to_geodetic, geodesic_inverse
from hoplon.sim.events import Event, events_table
from hoplon.sim.objects import ObjectTable, Signature
from hoplon.sim.random import stream
from hoplon.sim.sensors import simulate as simulate_sensors
from hoplon.sim.tables import table_from_parts
from hoplon.sim.battle import plan_engagements
from hoplon.sim.tracking import run_tracker
from hoplon.sim.truth import TRUTH_SCHEMA, TruthStore
from hoplon.sim.world import World

__all__ = ["RunResult", "run", "estimated_truth_rows", "MAX_TRUTH_ROWS", "TRUTH_SCHEMA", "OUTCOMES_SCHEMA"]

INTERNAL_STEP_MAX_S = 1.0
"""The truth is sampled at least this often internally (for the sensors)."""

MAX_TRUTH_ROWS = 20_000_000
"""Largest truth table a run will sample (about 2 GB in memory)."""

OUTCOMES_SCHEMA = pa.schema(
    [
        ("object_id", pa.string()),
        ("kind", pa.string()),
        ("type", pa.string()),
        ("launch_time_s", pa.float64()),
        ("impact_time_s", pa.float64()),
        ("impact_lat_deg", pa.float64()),
        ("impact_lon_deg", pa.float64()),
        ("impact_alt_m", pa.float64()),
        ("aim", pa.string()),
        ("miss_distance_m", pa.float64()),
        ("asset_hit", pa.string()),
        ("apogee_alt_m", pa.float64()),
        ("burnout_time_s", pa.float64()),
        ("burnout_speed_mps", pa.float64()),
        ("impact_speed_mps", pa.float64()),
    ],
    metadata={"hoplon_table": "outcomes", "schema_version": "1"},
)

KIND_MISSILE = "ballistic_missile"
KIND_BOOSTER = "spent_booster"


@dataclass(frozen=True)
class RunResult:
    """What a run produced: tables with fixed schemas, plus the world it ran."""

    world: World
    truth: pa.Table
    events: pa.Table
    outcomes: pa.Table
    truth_step_s: float
    detections: pa.Table
    launch_reports: pa.Table
    sensor_stats: list[dict]
    tracks: pa.Table
    threat_evaluations: pa.Table | None = None
    engagements: pa.Table | None = None
    truth_store: TruthStore | None = None  # dense truth for analysis (not written to files)


def _grid(t_start: float, t_end: float, step: float) -> np.ndarray:
    """Multiples of ``step`` in [t_start, t_end)."""
    k0 = int(np.ceil(t_start / step - 1e-9))
    k1 = int(np.ceil(t_end / step - 1e-9))
    return np.arange(k0, k1, dtype=np.float64) * step


def _hermite(t_nodes, r_nodes, v_nodes, t):
    """Cubic Hermite interpolation of positions (and velocities) between nodes."""
    i = np.clip(np.searchsorted(t_nodes, t, side="right") - 1, 0, len(t_nodes) - 2)
    h = (t_nodes[i + 1] - t_nodes[i])[:, None]
    s = ((t - t_nodes[i]) / h[:, 0])[:, None]
    r0, r1, v0, v1 = r_nodes[i], r_nodes[i + 1], v_nodes[i], v_nodes[i + 1]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    r = h00 * r0 + h10 * h * v0 + h01 * r1 + h11 * h * v1
    d00, d10, d01, d11 = 6 * s**2 - 6 * s, 3 * s**2 - 4 * s + 1, -6 * s**2 + 6 * s, 3 * s**2 - 2 * s
    v = (d00 * r0 + d01 * r1) / h + d10 * v0 + d11 * v1
    return r, v


def _nearest_asset(world: World, lat, lon):
    """Name of the asset whose radius holds each point ('' for none), and the distance."""
    a = world.assets
    names = np.full(lat.shape[0], "", dtype=object)
    if len(a) == 0:
        return names
    best = np.full(lat.shape[0], np.inf)
    for j in range(len(a)):
        d = np.atleast_1d(geodesic_inverse(lat, lon, a.lat_deg[j], a.lon_deg[j], earth=world.earth).distance_m)
        inside = (d <= a.radius_m[j]) & (d < best)
        names = np.where(inside, a.name[j], names)
        best = np.where(inside, d, best)
    return names


def _on_grid(t: np.ndarray, step: float, every: int) -> np.ndarray:
    """Which times are multiples of ``step * every`` (the output grid)."""
    k = np.round(t / step)
    return (np.abs(t - k * step) < 1e-6) & (np.mod(k, every) == 0)


def _ballistic(world: World, step: float, every: int, truth: TruthStore, objects: ObjectTable, events: list[Event]) -> dict:
    m = world.ballistic
    n = len(m)
    if n == 0:
        return {}
    sol = m.solution
    burn, nodes = fly_boost(
        m.launch_lat_deg, m.launch_lon_deg, m.launch_alt_m, azimuth_rad=sol.azimuth_rad, kick_rad=sol.kick_rad,
        cutoff_s=sol.cutoff_s, boost=m.boost, earth=world.earth, record=True,
    )
    t_burnout = m.launch_time_s + burn.time_s
    rv = sample_flight(
        burn.r_ecef_m, burn.v_ecef_mps, m.rv_beta_kg_m2, step_s=step, t0_s=-t_burnout, earth=world.earth,
        ground_alt_m=m.aim_alt_m,
    )
    separates = np.isfinite(m.booster_beta_kg_m2)
    sep = np.flatnonzero(separates)
    booster: FlightSamples | None = None
    if sep.size:
        booster = sample_flight(
            burn.r_ecef_m[sep], burn.v_ecef_mps[sep], m.booster_beta_kg_m2[sep], step_s=step,
            t0_s=-t_burnout[sep], earth=world.earth, ground_alt_m=m.aim_alt_m[sep],
        )
    burn_geo = ecef_to_geodetic(burn.r_ecef_m, earth=world.earth)
    apo_geo = ecef_to_geodetic(rv.end.apogee_r_ecef_m, earth=world.earth)
    imp_geo = ecef_to_geodetic(rv.end.r_ecef_m, earth=world.earth)
    imp_lat, imp_lon = np.atleast_1d(imp_geo.lat_deg), np.atleast_1d(imp_geo.lon_deg)
    miss = np.atleast_1d(geodesic_inverse(imp_lat, imp_lon, m.aim_lat_deg, m.aim_lon_deg, earth=world.earth).distance_m)
    hit = _nearest_asset(world, imp_lat, imp_lon)
    impact_time = t_burnout + rv.end.time_s
    catalog = world.scenario.threat_catalog.ballistic
    for i in range(n):
        oid = str(m.object_id[i])
        kind_type = catalog[str(m.type_name[i])]
        a, b = nodes.offsets[i], nodes.offsets[i + 1]
        t_nodes = m.launch_time_s[i] + nodes.time_s[a:b]
        t_boost = _grid(m.launch_time_s[i], t_burnout[i], step)
        r_b, v_b = _hermite(t_nodes, nodes.r_ecef_m[a:b], nodes.v_ecef_mps[a:b], t_boost)
        a, b = rv.offsets[i], rv.offsets[i + 1]
        t_ff = t_burnout[i] + rv.time_s[a:b]
        t_ff[: b - a - 1] = np.round(t_ff[: b - a - 1] / step) * step  # exact grid times
        t_all = np.concatenate([t_boost, [t_burnout[i]], t_ff])
        out = np.concatenate([_on_grid(t_boost, step, every), [False], _on_grid(t_ff, step, every)])
        out[-1] = True  # the impact
        truth.add(
            oid, KIND_MISSILE, t_all,
            np.concatenate([r_b, burn.r_ecef_m[i : i + 1], rv.r_ecef_m[a:b]]),
            np.concatenate([v_b, burn.v_ecef_mps[i : i + 1], rv.v_ecef_mps[a:b]]), out,
        )
        objects.add(
            object_id=oid, kind=KIND_MISSILE, type_name=str(m.type_name[i]), threat_id=oid,
            launch_time_s=m.launch_time_s[i], switch_time_s=t_burnout[i],
            before=Signature.from_model(kind_type.boost_rcs), after=Signature.from_model(kind_type.rcs), missile_index=i,
        )
        events.append(Event(float(m.launch_time_s[i]), "launch", oid, float(m.launch_lat_deg[i]), float(m.launch_lon_deg[i]),
                            float(m.launch_alt_m[i]), f"{m.type_name[i]} toward {m.aim_asset[i] or 'a point'}"))
        events.append(Event(float(t_burnout[i]), "boost_end", oid, float(burn_geo.lat_deg[i]), float(burn_geo.lon_deg[i]),
                            float(burn_geo.alt_m[i]),
                            f"burnout at {burn.speed_mps[i]:.0f} m/s, flight-path angle {np.degrees(burn.flight_path_angle_rad[i]):.1f} deg"))
        events.append(Event(float(t_burnout[i] + rv.end.apogee_time_s[i]), "apogee", oid, float(apo_geo.lat_deg[i]),
                            float(apo_geo.lon_deg[i]), float(rv.end.apogee_alt_m[i]), ""))
        detail = f"{miss[i]:.0f} m from the aim point" + (f"; inside {hit[i]}" if hit[i] else "")
        events.append(Event(float(impact_time[i]), "impact", oid, float(imp_lat[i]), float(imp_lon[i]),
                            float(np.atleast_1d(imp_geo.alt_m)[i]), detail))
    if booster is not None:
        b_geo = ecef_to_geodetic(booster.end.r_ecef_m, earth=world.earth)
        for j, i in enumerate(sep):
            oid = f"{m.object_id[i]}.booster"
            a, b = booster.offsets[j], booster.offsets[j + 1]
            t_ff = t_burnout[i] + booster.time_s[a:b]
            t_ff[: b - a - 1] = np.round(t_ff[: b - a - 1] / step) * step
            t_all = np.concatenate([[t_burnout[i]], t_ff])
            out = np.concatenate([[False], _on_grid(t_ff, step, every)])
            out[-1] = True
            truth.add(
                oid, KIND_BOOSTER, t_all, np.concatenate([burn.r_ecef_m[i : i + 1], booster.r_ecef_m[a:b]]),
                np.concatenate([burn.v_ecef_mps[i : i + 1], booster.v_ecef_mps[a:b]]), out,
            )
            kind_type = catalog[str(m.type_name[i])]
            sig = Signature.from_model(kind_type.booster_rcs)
            objects.add(
                object_id=oid, kind=KIND_BOOSTER, type_name=str(m.type_name[i]), threat_id=str(m.object_id[i]),
                launch_time_s=t_burnout[i], before=sig, after=sig, missile_index=int(i),
            )
            events.append(Event(float(t_burnout[i] + booster.end.time_s[j]), "impact", oid,
                                float(np.atleast_1d(b_geo.lat_deg)[j]), float(np.atleast_1d(b_geo.lon_deg)[j]),
                                float(np.atleast_1d(b_geo.alt_m)[j]), "spent booster"))
    return {
        "object_id": [str(x) for x in m.object_id],
        "kind": [KIND_MISSILE] * n,
        "type": [str(x) for x in m.type_name],
        "launch_time_s": m.launch_time_s,
        "impact_time_s": impact_time,
        "impact_lat_deg": imp_lat,
        "impact_lon_deg": imp_lon,
        "impact_alt_m": np.atleast_1d(imp_geo.alt_m),
        "aim": [str(x) for x in m.aim_asset],
        "miss_distance_m": miss,
        "asset_hit": [str(x) for x in hit],
        "apogee_alt_m": rv.end.apogee_alt_m,
        "burnout_time_s": t_burnout,
        "burnout_speed_mps": burn.speed_mps,
        "impact_speed_mps": np.linalg.norm(rv.end.v_ecef_mps, axis=1),
    }


def _airbreathers(world: World, step: float, every: int, truth: TruthStore, objects: ObjectTable, events: list[Event]) -> dict:
    ab = world.airbreathers
    n = len(ab)
    if n == 0:
        return {}
    plan = ab.plan
    launch, arrival = plan.launch_time_s, plan.arrival_time_s
    grids = [np.append(_grid(launch[i], arrival[i], step), arrival[i]) for i in range(n)]
    idx = np.concatenate([np.full(g.shape[0], i) for i, g in enumerate(grids)])
    # the last row is the impact: its state is the limit from before arrival (at the
    # arrival instant the route reports the vehicle at rest on the target)
    times = np.concatenate(grids)
    ends = np.cumsum([g.shape[0] for g in grids]) - 1
    times[ends] = np.nextafter(times[ends], -np.inf)
    st = route_states_at(plan, idx, times)
    off = np.concatenate([[0], np.cumsum([g.shape[0] for g in grids])])
    end_rows = off[1:] - 1
    end_lat, end_lon = st.lat_deg[end_rows], st.lon_deg[end_rows]
    aim_lat = np.array([world.scenario.asset(t).lat_deg if t else np.nan for t in ab.target_asset])
    aim_lon = np.array([world.scenario.asset(t).lon_deg if t else np.nan for t in ab.target_asset])
    has_aim = np.isfinite(aim_lat)
    miss = np.full(n, np.nan)
    if np.any(has_aim):
        miss[has_aim] = np.atleast_1d(
            geodesic_inverse(end_lat[has_aim], end_lon[has_aim], aim_lat[has_aim], aim_lon[has_aim], earth=world.earth).distance_m
        )
    hit = _nearest_asset(world, end_lat, end_lon)
    catalog = world.scenario.threat_catalog
    for i in range(n):
        oid, kind = str(ab.object_id[i]), str(ab.kind[i]).replace("-", "_")
        rows = slice(off[i], off[i + 1])
        out = _on_grid(grids[i], step, every)
        out[-1] = True  # the impact (grids keep the exact arrival time)
        truth.add(oid, kind, grids[i], st.r_ecef_m[rows], st.v_ecef_mps[rows], out)
        section = "drone" if kind == "drone" else "cruise_missile"
        sig = Signature.from_model(catalog.section(section)[str(ab.type_name[i])].rcs)
        objects.add(object_id=oid, kind=kind, type_name=str(ab.type_name[i]), threat_id=oid,
                    launch_time_s=launch[i], before=sig, after=sig)
        s0 = off[i]
        events.append(Event(float(launch[i]), "launch", oid, float(st.lat_deg[s0]), float(st.lon_deg[s0]), float(st.alt_m[s0]),
                            f"{ab.type_name[i]} toward {ab.target_asset[i] or 'a point'}"))
        detail = (f"{miss[i]:.0f} m from the aim point; " if np.isfinite(miss[i]) else "") + (f"inside {hit[i]}" if hit[i] else "")
        events.append(Event(float(arrival[i]), "impact", oid, float(end_lat[i]), float(end_lon[i]), float(st.alt_m[end_rows[i]]),
                            detail.rstrip("; ")))
    return {
        "object_id": [str(x) for x in ab.object_id],
        "kind": [str(k).replace("-", "_") for k in ab.kind],
        "type": [str(x) for x in ab.type_name],
        "launch_time_s": launch,
        "impact_time_s": arrival,
        "impact_lat_deg": end_lat,
        "impact_lon_deg": end_lon,
        "impact_alt_m": st.alt_m[end_rows],
        "aim": [str(x) for x in ab.target_asset],
        "miss_distance_m": miss,
        "asset_hit": [str(x) for x in hit],
        "apogee_alt_m": np.full(n, np.nan),
        "burnout_time_s": np.full(n, np.nan),
        "burnout_speed_mps": np.full(n, np.nan),
        "impact_speed_mps": np.linalg.norm(st.v_ecef_mps[end_rows], axis=1),
    }


def _outcomes(parts: list[dict]) -> pa.Table:
    return table_from_parts(parts, OUTCOMES_SCHEMA)


def estimated_truth_rows(world: World, truth_step_s: float) -> int:
    """About how many truth rows a run of ``world`` samples internally (for ``truth_step_s``).

    Spent boosters, whose fall is not known before the run, count twice their missile.
    """
    seconds = 0.0
    rows = 0
    m = world.ballistic
    if len(m):
        boosters = np.isfinite(m.booster_beta_kg_m2)
        seconds += float(np.sum(m.solution.total_time_s * (1.0 + 2.0 * boosters)))
        rows += 2 * len(m)
    ab = world.airbreathers
    if len(ab):
        seconds += float(np.sum(ab.plan.arrival_time_s - ab.plan.launch_time_s))
        rows += len(ab)
    internal = truth_step_s / max(1, math.ceil(truth_step_s / INTERNAL_STEP_MAX_S - 1e-9))
    return int(math.ceil(seconds / internal)) + rows


def run(world: World, *, truth_step_s: float = 1.0) -> RunResult:
    """Fly every threat of ``world``, run its sensors; truth written every ``truth_step_s`` s.

    Internally the truth is sampled at least every second (the output step divided
    evenly), which is what sensors interpolate.
    """
    if not truth_step_s > 0:
        raise ValueError("truth_step_s must be > 0")
    if estimated_truth_rows(world, truth_step_s) > MAX_TRUTH_ROWS:
        raise ValueError(f"a truth step of {truth_step_s:g} s would sample more than {MAX_TRUTH_ROWS:,} rows")
    every = max(1, math.ceil(truth_step_s / INTERNAL_STEP_MAX_S - 1e-9))
    step = truth_step_s / every
    truth = TruthStore(world.earth)
    objects = ObjectTable()
    events: list[Event] = []
    parts = [
        _ballistic(world, step, every, truth, objects, events),
        _airbreathers(world, step, every, truth, objects, events),
    ]
    truth.freeze()
    detections, reports, stats = simulate_sensors(world, truth, objects, stream(world.seed, "sensors"), events)
    tracks = run_tracker(world, detections, objects.object_id, events, world.tracker)
    evaluations, engagements = plan_engagements(world, tracks, events)
    return RunResult(
        world=world,
        truth=truth.table(),
        events=events_table(events),
        outcomes=_outcomes(parts),
        truth_step_s=truth_step_s,
        detections=detections,
        launch_reports=reports,
        sensor_stats=stats,
        tracks=tracks,
        threat_evaluations=evaluations,
        engagements=engagements,
        truth_store=truth,
    )
