"""The engine: play a compiled world from the first launch to the last object on the ground.

The threats are flown first, as if nothing were shot down: every ballistic missile
through its boost, separation and free flight to impact, every spent booster to the
ground, and every drone and cruise missile along its route. All objects of a kind are
flown in one batched call of the core; the truth is sampled on one absolute time grid
(multiples of ``truth_step_s`` after the epoch) plus each object's exact impact. Then
:func:`run` steps the sensors' detections, the tracker, battle management and the
interceptors through time; a kill ends an object's flight there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hoplon.core.airbreather import route_states_at
from hoplon.core.ballistic import FlightSamples, sample_flight
from hoplon.core.boost import fly_boost
from hoplon.core.frames import ecef_to_geodetic, geodesic_inverse, geodetic_to_ecef
from hoplon.sim.battle import FRESH_S, PLAN_PERIOD_S, BattleManager
from hoplon.sim.debris import run_debris
from hoplon.sim.events import Event, events_table
from hoplon.sim.intercepts import INTERCEPTOR_BETA_KG_M2, Interceptors
from hoplon.sim.objects import ObjectTable, Signature
from hoplon.sim.random import stream
from hoplon.sim.sensors import simulate as simulate_sensors
from hoplon.sim.tables import table_from_parts
from hoplon.sim.tracking import EngineTracker
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
        ("fate", pa.string()),  # killed | leaked (reached the ground)
        ("killed_time_s", pa.float64()),
        ("killed_by", pa.string()),  # interceptor id
        ("kill_lat_deg", pa.float64()),
        ("kill_lon_deg", pa.float64()),
        ("kill_alt_m", pa.float64()),
    ],
    metadata={"hoplon_table": "outcomes", "schema_version": "2"},
)

KIND_MISSILE = "ballistic_missile"
KIND_BOOSTER = "spent_booster"


@dataclass(frozen=True)
class RunResult:
    """What a run produced: tables with fixed schemas, plus the world it ran."""

    world: World
    truth: pa.Table | None  # None: a lean run (see run)
    events: pa.Table | None
    outcomes: pa.Table
    truth_step_s: float
    detections: pa.Table | None
    launch_reports: pa.Table
    sensor_stats: list[dict]
    tracks: pa.Table | None
    threat_evaluations: pa.Table | None = None
    engagements: pa.Table | None = None
    interceptors: pa.Table | None = None
    debris: pa.Table | None = None
    debris_clouds: list | None = None  # one summary dict per cloud (footprint, places)
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
    # the geodesic only where the chord between the points on the ellipsoid is within
    # the radius (plus a metre): a geodesic is never shorter than its chord
    here = np.atleast_2d(geodetic_to_ecef(lat, lon, np.zeros_like(lat), earth=world.earth)).reshape(-1, 3)
    sites = np.atleast_2d(geodetic_to_ecef(a.lat_deg, a.lon_deg, np.zeros(len(a)), earth=world.earth)).reshape(-1, 3)
    for j in range(len(a)):
        near = np.flatnonzero(np.linalg.norm(here - sites[j], axis=1) <= a.radius_m[j] + 1.0)
        if near.size == 0:
            continue
        d = np.atleast_1d(geodesic_inverse(lat[near], lon[near], a.lat_deg[j], a.lon_deg[j],
                                           earth=world.earth).distance_m)
        inside = (d <= a.radius_m[j]) & (d < best[near])
        names[near[inside]] = a.name[j]
        best[near[inside]] = d[inside]
    return names


def _on_grid(t: np.ndarray, step: float, every: int) -> np.ndarray:
    """Which times are multiples of ``step * every`` (the output grid)."""
    k = np.round(t / step)
    on_step = np.abs(t - k * step) < 1e-6
    return on_step & (np.mod(k, every) == 0) if every > 1 else on_step


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


def _routes_flown(world: World, step: float):
    """The drones' and cruise missiles' states on the truth grid of ``step`` (s), with
    their arrival points, misses and assets hit: they draw nothing from the seed, so a
    world and its reseeds fly them once per step (memo in ``world.airbreathers.flown``)."""
    ab = world.airbreathers
    memo = ab.flown.get(step)
    if memo is not None:
        return memo
    n = len(ab)
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
    memo = ab.flown[step] = (grids, st, off, end_rows, miss, _nearest_asset(world, end_lat, end_lon))
    return memo


def _airbreathers(world: World, step: float, every: int, truth: TruthStore, objects: ObjectTable, events: list[Event]) -> dict:
    ab = world.airbreathers
    n = len(ab)
    if n == 0:
        return {}
    launch, arrival = ab.plan.launch_time_s, ab.plan.arrival_time_s
    grids, st, off, end_rows, miss, hit = _routes_flown(world, step)
    end_lat, end_lon = st.lat_deg[end_rows], st.lon_deg[end_rows]
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


def _outcomes(parts: list[dict], truth: TruthStore, flights: Interceptors) -> pa.Table:
    """One row per threat: how it ended (killed, or leaked: reached the ground)."""
    index = {oid: k for k, oid in enumerate(truth.object_id)}
    killer = {res["target"]: flights.ids[k] for k, res in enumerate(flights.results) if res.get("result") == "kill"}
    done = []
    for part in parts:
        if not part:
            continue
        part = dict(part)
        obj = np.array([index[o] for o in part["object_id"]], dtype=np.int64)
        killed_s = truth.killed_s[obj]
        killed = np.isfinite(killed_s)
        kill_geo = np.full((obj.size, 3), np.nan)
        if killed.any():
            r, _ = truth.state_at(obj[killed], killed_s[killed])
            geo = ecef_to_geodetic(r, earth=truth.earth)
            kill_geo[killed] = np.column_stack([np.atleast_1d(geo.lat_deg), np.atleast_1d(geo.lon_deg), np.atleast_1d(geo.alt_m)])
        for name in ("impact_time_s", "impact_lat_deg", "impact_lon_deg", "impact_alt_m", "miss_distance_m", "impact_speed_mps"):
            part[name] = np.where(killed, np.nan, np.asarray(part[name], float))
        part["asset_hit"] = ["" if k else a for k, a in zip(killed, part["asset_hit"])]
        part["fate"] = ["killed" if k else "leaked" for k in killed]
        part["killed_time_s"] = killed_s
        part["killed_by"] = [killer.get(int(o), "") for o in obj]
        part["kill_lat_deg"], part["kill_lon_deg"], part["kill_alt_m"] = kill_geo.T
        done.append(part)
    return table_from_parts(done, OUTCOMES_SCHEMA)


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


def run(world: World, *, truth_step_s: float = 1.0, launch_points: bool = True, lean: bool = False,
        events: bool = True) -> RunResult:
    """Play ``world`` from the first launch to the last object on the ground; truth
    written every ``truth_step_s`` s. ``launch_points=False`` skips the battle manager's
    launch-point estimates (reported in the threat evaluations and ``classified`` events,
    never used to decide: every other output is unchanged); Monte Carlo does so.
    ``lean=True`` builds only what a Monte Carlo replication stores (outcomes,
    interceptors, debris and, unless ``events=False``, the event log); the truth,
    detections, tracks, threat evaluations and engagements tables are then None (the
    play is the same).

    The flights of every threat are computed first as if nothing were shot down, and the
    sensors' detections of them (both are deterministic physics and draws of their own
    streams). Then one loop steps through time every ``PLAN_PERIOD_S`` (while nothing is
    under way -- no confirmed track, interceptor or plan -- on to the first cycle after the
    scan that confirms a track):

    1. intercepts due by now are resolved (a kill ends the object's flight);
    2. the tracker receives the scans up to now, without the detections of objects
       already destroyed;
    3. kill assessments due by now reach the battle manager;
    4. the battle manager evaluates the confirmed tracks and plans; engagements launching
       before the next cycle are committed and their interceptors added;
    5. interceptors in flight update their aim point from their tracks.

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
    log: list[Event] = []
    parts = [
        _ballistic(world, step, every, truth, objects, log),
        _airbreathers(world, step, every, truth, objects, log),
    ]
    truth.freeze()
    detections, reports, stats = simulate_sensors(world, truth, objects, stream(world.seed, "sensors"), log)
    tracker = EngineTracker(world, detections, objects.object_id, world.tracker)
    keep_events = events or not lean
    battle = BattleManager(world, log, launch_points=launch_points, evaluations=keep_events)
    flights = Interceptors(world, battle.batteries, stream(world.seed, "intercepts"))
    kills = _loop(world, truth, tracker, battle, flights, log)
    # afterwards: what the destroyed objects no longer did
    death = truth.killed_s
    log = _prune_events(log, objects, death)
    detections = None if lean else _prune_detections(detections, objects, death)
    tracks = tracker.table(log) if keep_events else None  # (and the track events)
    evaluations, engagements = battle.tables() if not lean else (None, None)
    falls = flights.falls()
    debris_table, clouds = run_debris(
        world,
        [{"object_id": objects.object_id[o], "kind": objects.kind[o], "type": objects.type_name[o], "time_s": t,
          "r": r, "v": v, "interceptor_mass_kg": flights.mass_kg(k), "interceptor_v": flights.velocity(k)}
         for o, t, r, v, k in kills],
        [_fall_row(flights, k, f) for k, f in sorted(falls.items())],
        stream(world.seed, "debris"), log,
    )
    truth_table = None if lean else truth.table()
    if truth_table is not None and len(flights):
        truth_table = pa.concat_tables([truth_table, _interceptor_truth(flights, truth_step_s, world)])
        truth_table = truth_table.take(pc.sort_indices(truth_table, [("time_s", "ascending"), ("object_id", "ascending")]))
    return RunResult(
        world=world,
        truth=truth_table,
        events=events_table(log) if keep_events else None,
        outcomes=_outcomes(parts, truth, flights),
        truth_step_s=truth_step_s,
        detections=detections,
        launch_reports=reports,
        sensor_stats=stats,
        tracks=tracks,
        threat_evaluations=evaluations,
        engagements=engagements,
        interceptors=flights.table(truth, falls),
        debris=debris_table,
        debris_clouds=clouds,
        truth_store=truth,
    )


def _loop(world, truth: TruthStore, tracker: EngineTracker, battle: BattleManager, flights: Interceptors,
          events: list[Event]) -> list[tuple[int, float, np.ndarray, np.ndarray, int]]:
    """The time loop (see :func:`run`); returns the kills (object, time, r, v, interceptor)."""
    period = PLAN_PERIOD_S
    kills = []
    now = math.ceil(tracker.next_scan_time_s / period) * period if math.isfinite(tracker.next_scan_time_s) else math.inf
    death = truth.killed_s  # updated in place by truth.kill
    while math.isfinite(now):
        for k, obj, t in flights.resolve(now, truth, events):
            r, v = truth.state_at(np.array([obj]), np.array([t]))
            kills.append((obj, t, r[0], v[0], k))
        tracker.advance(now, death)
        for k in flights.assessments_due(now):
            battle.assessed(flights.engagement[k], flights.assess(k, truth, events))
        snap = tracker.confirmed()
        committed = battle.cycle(now, snap, tracker.label)
        if committed:
            aims = geodetic_to_ecef(np.array([r["intercept_lat_deg"] for r in committed]),
                                    np.array([r["intercept_lon_deg"] for r in committed]),
                                    np.array([r["intercept_alt_m"] for r in committed]), earth=world.earth)
            flights.launch(committed, np.atleast_2d(aims), events)
        flights.guide(now, snap)
        # next cycle: every period while anything is under way; else nothing happens until
        # a track is confirmed (a cycle without confirmed tracks, interceptors or plans
        # changes nothing), so the tracker runs on to the first scan that confirms one
        # and the next cycle is the first one after that scan (none if no scan does).
        # Confirmed tracks keep the loop going while scans remain, or while one is fresh
        # enough to plan on: after the last scan no track changes any more
        scans_left = math.isfinite(tracker.next_scan_time_s)
        tracks = snap is not None and len(snap.id) > 0
        fresh = tracks and bool(np.any(snap.last_update_s >= now - FRESH_S))
        if flights.pending or battle.plan.pending or fresh or (tracks and scans_left):
            now += period
        elif scans_left:
            tracker.advance(math.inf, death, stop_at_confirmed=True)
            snap = tracker.confirmed()
            if snap is not None and len(snap.id):
                now = max(now + period, math.ceil(tracker.last_scan_time_s / period) * period)
            else:
                now = math.inf
        else:
            now = math.inf
    return kills


def _prune_events(events: list[Event], objects: ObjectTable, death: np.ndarray) -> list[Event]:
    """Drop what a destroyed object would have done after its death; a threat that reached
    the ground is a leaker."""
    index = {oid: k for k, oid in enumerate(objects.object_id)}
    out = []
    for e in events:
        k = index.get(e.object_id)
        if k is not None and e.kind in ("first_detection", "apogee", "impact") and e.time_s > death[k]:
            continue
        if k is not None and e.kind == "impact" and objects.kind[k] != KIND_BOOSTER:
            e = Event(e.time_s, "leaker_impact", e.object_id, e.lat_deg, e.lon_deg, e.alt_m, e.detail)
        out.append(e)
    return out


def _prune_detections(detections: pa.Table, objects: ObjectTable, death: np.ndarray) -> pa.Table:
    """Detections of objects after their death never happened."""
    if detections.num_rows == 0 or not np.isfinite(death).any():
        return detections
    index = {oid: k for k, oid in enumerate(objects.object_id)}
    obj = detections.column("object_id").to_pylist()
    t = detections.column("time_s").to_numpy()
    d_obj = np.array([death[index[o]] if o is not None else np.inf for o in obj])
    return detections.filter(pa.array(t <= d_obj))


def _fall_row(flights: Interceptors, k: int, f) -> dict:
    t, lat, lon, _, speed = f
    return {"interceptor_id": flights.ids[k], "break_time_s": float(flights.intercept_s[k]), "land_time_s": t,
            "lat_deg": lat, "lon_deg": lon, "mass_kg": flights.mass_kg(k), "beta_kg_m2": INTERCEPTOR_BETA_KG_M2,
            "impact_speed_mps": speed}


def _interceptor_truth(flights: Interceptors, step_s: float, world: World) -> pa.Table:
    """Truth rows of the interceptors' flown paths (kind ``interceptor``)."""
    if len(flights) == 0:
        return TRUTH_SCHEMA.empty_table()
    ids, ts, rs, vs = flights.path_samples(step_s)
    store = TruthStore(world.earth)
    for oid, t, r, v in zip(ids, ts, rs, vs):
        store.add(oid, "interceptor", t, r, v, np.ones(t.size, bool))
    return store.table()
