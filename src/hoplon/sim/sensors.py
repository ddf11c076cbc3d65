"""The sensor network: radars scanning and space-based infrared launch detection.

:func:`build_network` turns the scenario's ``sensors:`` into arrays; :func:`simulate`
runs every sensor over the run's truth and returns the detections, the launch reports
and the events (first detection of each object by each radar, launch detections).

Scheduling (notional, documented):

* Activity windows: sensors run while something flies (from a minute before the first
  launch to a minute after the last impact of each group of overlapping flights), not
  through the quiet days in between.
* Radars scan every ``scan_period`` from a random phase. An electronically scanned radar
  observes all its targets at the scan instant; a rotating (mechanical) one when its
  beam sweeps past each target's azimuth.
* Dwell modes per (radar, object): *search* (the search radar equation over the search
  sector, only below ``search_elevation_max``); *cued* once a space-based launch report
  for that threat has arrived (search focused on the predicted corridor: ``cue_gain``
  anywhere in the field of view); *track* after the radar's first detection of the
  object, for as long as the object stays in the field of view (``track_gain``, one
  dwell per scan). Leaving the field of view drops the track.
* Every scan draws a new RCS for Swerling 1 objects; detection is a Bernoulli draw with
  the Swerling 0 probability at that RCS (so the marginal is the exact Swerling 1 Pd).
* False alarms: Poisson per search scan over the search sector (Pfa x cells), uniform in
  range, azimuth and solid angle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hoplon.core import radar
from hoplon.core.frames import ecef_to_geodetic, enu_to_ecef
from hoplon.core.sensors import (
    Observation,
    RadarArray,
    aspect_angle_rad,
    measurement_sigmas,
    observe,
    pair_snr_db,
    possibly_visible,
    rcs_by_aspect_m2,
)
from hoplon.errors import ScenarioError
from hoplon.scenario.schema import InfraredType, RadarType, Scenario
from hoplon.sim.events import Event
from hoplon.sim.objects import ObjectTable
from hoplon.sim.truth import TruthStore

__all__ = ["SensorNetwork", "build_network", "radar_array", "simulate", "DETECTIONS_SCHEMA", "LAUNCH_REPORTS_SCHEMA", "WINDOW_MARGIN_S"]

WINDOW_MARGIN_S = 60.0
"""Sensors run from this long before a launch to this long after an impact."""

MODES = ("search", "cued", "track", "false_alarm")
"""A detection's mode (the detections table's ``mode``), by code."""
MODE_SEARCH, MODE_CUED, MODE_TRACK, MODE_FALSE_ALARM = range(4)

DETECTIONS_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        ("sensor_id", pa.string()),
        ("object_id", pa.string()),  # null: a false alarm
        ("range_m", pa.float64()),
        ("azimuth_rad", pa.float64()),
        ("elevation_rad", pa.float64()),
        ("range_rate_mps", pa.float64()),  # null where the radar does not measure it
        ("snr_db", pa.float64()),
        ("sigma_range_m", pa.float64()),
        ("sigma_azimuth_rad", pa.float64()),
        ("sigma_elevation_rad", pa.float64()),
        ("mode", pa.string()),  # search | cued | track | false_alarm
    ],
    metadata={
        "hoplon_table": "detections",
        "schema_version": "1",
        "angles": "azimuth clockwise from true north, elevation above the local horizontal plane (WGS84 normal)",
        "time": "seconds since the scenario epoch (UTC)",
    },
)

LAUNCH_REPORTS_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),  # when the report is available
        ("sensor_id", pa.string()),
        ("object_id", pa.string()),  # the missile reported (for analysis)
        ("launch_time_s", pa.float64()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("heading_deg", pa.float64()),
    ],
    metadata={"hoplon_table": "launch_reports", "schema_version": "1"},
)


@dataclass(frozen=True)
class SensorNetwork:
    """The scenario's sensors as arrays: radars and space-based infrared sensors."""

    radar_id: np.ndarray
    radar_type: np.ndarray
    radars: RadarArray | None
    mechanical: np.ndarray
    track_gain_db: np.ndarray
    cue_gain_db: np.ndarray
    ir_id: np.ndarray
    ir: list[InfraredType]

    @property
    def n_radars(self) -> int:
        return int(self.radar_id.shape[0])


def radar_array(kinds: list[RadarType], lat_deg, lon_deg, alt_m, boresight_rad) -> RadarArray:
    """A :class:`RadarArray` of catalog radar types placed at sites (arrays of len(kinds))."""

    def col(f, dtype=float):
        return np.array([f(k) for k in kinds], dtype=dtype)

    return RadarArray(
        lat_deg=np.asarray(lat_deg, dtype=float),
        lon_deg=np.asarray(lon_deg, dtype=float),
        alt_m=np.asarray(alt_m, dtype=float),
        boresight_rad=np.mod(np.asarray(boresight_rad, dtype=float), 2 * math.pi),
        azimuth_half_width_rad=col(lambda k: k.azimuth_half_width_rad),
        elevation_min_rad=col(lambda k: k.elevation_min_rad),
        elevation_max_rad=col(lambda k: k.elevation_max_rad),
        search_elevation_max_rad=col(
            lambda k: k.search_elevation_max_rad if k.search_elevation_max_rad is not None else k.elevation_max_rad
        ),
        min_range_m=col(lambda k: k.min_range_m),
        max_range_m=col(lambda k: k.max_range_m),
        scan_period_s=col(lambda k: k.scan_period_s),
        power_aperture_w_m2=col(lambda k: k.power_aperture_w_m2),
        system_temp_k=col(lambda k: k.system_temp_k),
        losses_db=col(lambda k: k.losses_db),
        pfa=col(lambda k: k.pfa),
        n_pulses=col(lambda k: k.n_pulses, dtype=np.int64),
        beamwidth_az_rad=col(lambda k: k.beamwidth_az_rad),
        beamwidth_el_rad=col(lambda k: k.beamwidth_el_rad),
        bandwidth_hz=col(lambda k: k.bandwidth_hz),
        wavelength_m=col(lambda k: radar.SPEED_OF_LIGHT_MPS / k.frequency_hz),
        range_floor_m=col(lambda k: k.range_floor_m),
        angle_floor_rad=col(lambda k: k.angle_floor_rad),
        range_rate=col(lambda k: k.range_rate, dtype=bool),
        range_rate_floor_mps=col(lambda k: k.range_rate_floor_mps),
        dwell_time_s=col(lambda k: k.dwell_time_s),
    )


def build_network(scenario: Scenario) -> SensorNetwork:
    """The sensors of ``scenario`` (types resolved, overrides applied)."""
    sites, kinds, ir_ids, ir = [], [], [], []
    for site in scenario.sensors:
        kind = scenario.sensor_type(site)
        if isinstance(kind, RadarType):
            sites.append(site)
            kinds.append(kind)
        else:
            ir_ids.append(site.id)
            ir.append(kind)
    radars = None
    if kinds:
        radars = radar_array(
            kinds, [s.lat_deg for s in sites], [s.lon_deg for s in sites], [s.alt_m or 0.0 for s in sites],
            [s.boresight_rad or 0.0 for s in sites],
        )
    return SensorNetwork(
        radar_id=np.array([s.id for s in sites], dtype=object),
        radar_type=np.array([s.type for s in sites], dtype=object),
        radars=radars,
        mechanical=np.array([k.scan == "mechanical" for k in kinds], dtype=bool),
        track_gain_db=np.array([k.track_gain_db for k in kinds], dtype=float),
        cue_gain_db=np.array([k.cue_gain_db for k in kinds], dtype=float),
        ir_id=np.array(ir_ids, dtype=object),
        ir=ir,
    )


def check_signatures(scenario: Scenario) -> None:
    """With radars in the scenario, every threat type flown must have its RCS."""
    if not any(isinstance(scenario.sensor_type(s), RadarType) for s in scenario.sensors):
        return
    problems = []
    for section, index, threat in scenario.threats.entries():
        kind = scenario.threat_type(section, threat)
        need = ["rcs"]
        if section == "ballistic":
            need.append("boost_rcs")
            if kind.booster_beta_kg_m2 is not None:
                need.append("booster_rcs")
        missing = [name for name in need if getattr(kind, name) is None]
        if missing:
            problems.append(
                scenario.problem(
                    ("threats", section, index, "type"),
                    f"type '{threat.type}' has no {' or '.join(missing)}; the scenario's radars need it",
                )
            )
    if problems:
        raise ScenarioError(problems)


# --------------------------------------------------------------------------- helpers


def activity_windows(store: TruthStore, margin_s: float = WINDOW_MARGIN_S) -> list[tuple[float, float]]:
    """Merged intervals [start - margin, end + margin] over every object's flight."""
    if len(store) == 0:
        return []
    spans = sorted(zip(store.start_s - margin_s, store.end_s + margin_s))
    merged = [list(spans[0])]
    for a, b in spans[1:]:
        if a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(float(a), float(b)) for a, b in merged]


def _scan_times(windows, period: float, phase: float) -> np.ndarray:
    out = []
    for a, b in windows:
        k0 = math.ceil((a - phase) / period)
        k1 = math.floor((b - phase) / period)
        if k1 >= k0:
            out.append(phase + period * np.arange(k0, k1 + 1, dtype=np.float64))
    return np.concatenate(out) if out else np.empty(0)


def _after_first_in_run(group: np.ndarray, pair: np.ndarray, flag: np.ndarray) -> np.ndarray:
    """For the visible pairs ``pair`` (indices, increasing) of pairs sorted by (group,
    scan): True where an earlier pair of the same run -- consecutive pairs of the same
    ``group``, all visible -- had ``flag`` set (an exclusive prefix OR)."""
    n = group.shape[0]
    if n == 0:
        return np.zeros(0, bool)
    new_run = np.ones(n, dtype=bool)
    new_run[1:] = (group[1:] != group[:-1]) | (pair[1:] != pair[:-1] + 1)
    run_id = np.cumsum(new_run) - 1
    f = flag.astype(np.int64)
    # exclusive cumulative sum within each run
    csum = np.cumsum(f)
    start = np.flatnonzero(new_run)
    before = csum - f - (csum[start] - f[start])[run_id]
    return before > 0


# --------------------------------------------------------------------------- infrared


def _boost_heights(store: TruthStore, objects: ObjectTable, missiles: list[int], earth) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per missile: times every half second or less from launch to burnout (s) and its
    heights then (m), all interpolated in one call."""
    times = []
    for i in missiles:
        t0, t1 = objects.launch_time_s[i], objects.switch_time_s[i]
        times.append(np.linspace(t0, t1, max(2, int(math.ceil((t1 - t0) / 0.5)) + 1)))
    if not times:
        return []
    r, _ = store.state_at(np.repeat(missiles, [t.size for t in times]), np.concatenate(times))
    alt = np.asarray(ecef_to_geodetic(r, earth=earth).alt_m)
    return list(zip(times, np.split(alt, np.cumsum([t.size for t in times])[:-1])))


def _launch_reports(world, store: TruthStore, objects: ObjectTable, network: SensorNetwork, rng, events):
    """Space-based launch reports of every missile; returns (table, cue time per object)."""
    n_obj = len(objects)
    cue_time = np.full(n_obj, np.inf)
    rows = []
    missiles = [i for i in range(n_obj) if objects.kind[i] == "ballistic_missile"]
    m = world.ballistic
    boosts = _boost_heights(store, objects, missiles, world.earth) if len(network.ir) else []
    for s, (sid, kind) in enumerate(zip(network.ir_id, network.ir)):
        for i, (times, alt) in zip(missiles, boosts):
            above = np.flatnonzero(alt >= kind.min_altitude_m)
            seen = rng.random() < kind.detection_probability
            d_t, d_e, d_n, d_h = rng.standard_normal(4)
            if above.size == 0 or not seen:
                continue
            k = int(above[0])
            if k > 0:  # interpolate the crossing of min_altitude
                f = (kind.min_altitude_m - alt[k - 1]) / (alt[k] - alt[k - 1])
                t_see = times[k - 1] + f * (times[k] - times[k - 1])
            else:
                t_see = times[0]
            t_report = t_see + kind.report_delay_s
            j = objects.missile_index[i]
            point = enu_to_ecef(
                np.array([[d_e * kind.launch_point_sigma_m, d_n * kind.launch_point_sigma_m, 0.0]]),
                lat0_deg=m.launch_lat_deg[j], lon0_deg=m.launch_lon_deg[j], alt0_m=m.launch_alt_m[j], earth=world.earth,
            )
            geo = ecef_to_geodetic(point, earth=world.earth)
            heading = (math.degrees(m.solution.azimuth_rad[j]) + math.degrees(d_h * kind.heading_sigma_rad)) % 360.0
            est_launch = objects.launch_time_s[i] + d_t * kind.launch_time_sigma_s
            rows.append((t_report, str(sid), objects.object_id[i], est_launch, float(np.atleast_1d(geo.lat_deg)[0]),
                         float(np.atleast_1d(geo.lon_deg)[0]), heading))
            events.append(Event(float(t_report), "launch_detected", objects.object_id[i], float(np.atleast_1d(geo.lat_deg)[0]),
                                float(np.atleast_1d(geo.lon_deg)[0]), 0.0,
                                f"by {sid}: launch at {est_launch - objects.launch_time_s[i]:+.0f} s from truth, heading {heading:.0f} deg"))
            if kind.cues:
                threat = objects.threat_id[i]
                for o in range(n_obj):  # the report cues every object of the same threat
                    if objects.threat_id[o] == threat:
                        cue_time[o] = min(cue_time[o], t_report)
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    cols = list(zip(*rows)) if rows else [[] for _ in LAUNCH_REPORTS_SCHEMA.names]
    table = pa.table({name: list(c) for name, c in zip(LAUNCH_REPORTS_SCHEMA.names, cols)}, schema=LAUNCH_REPORTS_SCHEMA)
    return table, cue_time


# --------------------------------------------------------------------------- radars


def _radar_detections(world, store: TruthStore, objects: ObjectTable, network: SensorNetwork, cue_time, windows, rng, events):
    radars = network.radars
    sites = radars.position_ecef_m(world.earth)
    false_alarms_per_scan = radars.false_alarms_per_scan()
    parts = []
    stats = []
    for ri in range(network.n_radars):
        sid = str(network.radar_id[ri])
        period = float(radars.scan_period_s[ri])
        phase = float(rng.random() * period)
        scans = _scan_times(windows, period, phase)
        stat = {
            "sensor_id": sid, "type": str(network.radar_type[ri]), "scans": int(scans.size), "opportunities": 0,
            "detections": 0, "false_alarms": 0, "false_alarms_per_scan": float(false_alarms_per_scan[ri]),
            "scan_period_s": period,
        }
        stats.append(stat)
        if scans.size == 0:
            continue
        mechanical = bool(network.mechanical[ri])
        # candidates: objects in flight at the scan instant, or (rotating radar) at any
        # time while the beam sweeps through the scan period
        ahead = period if mechanical else 0.0
        alive = (store.start_s[None, :] <= scans[:, None] + ahead) & (store.end_s[None, :] >= scans[:, None])
        # pairs in (object, scan) order (each object's states in time order, and the
        # runs of scans of the track dwells); ``draw``: each pair's rank in (scan,
        # object) order, the order of the random draws
        o_idx, s_idx = np.nonzero(alive.T)
        draw = (np.cumsum(alive.ravel()) - 1).reshape(alive.shape)[s_idx, o_idx]
        t = scans[s_idx]
        idx = np.full(t.shape, ri)
        r, v = store.state_at(o_idx, t)
        site = sites[ri]
        if mechanical:
            # the beam sweeps from the boresight azimuth once per period: each object is
            # seen when the beam passes its azimuth (found from its position at the scan
            # start, then re-evaluated), and only if it is in flight then
            first = observe(radars, idx, r, v, None, earth=world.earth)
            offset = np.mod(first.azimuth_rad - radars.boresight_rad[ri], 2 * math.pi) / (2 * math.pi) * period
            t = t + offset
            flying = (t >= store.start_s[o_idx]) & (t <= store.end_s[o_idx])
            o_idx, t, idx = o_idx[flying], t[flying], idx[flying]
            kept = np.zeros(draw.shape[0], dtype=bool)
            kept[draw[flying]] = True
            draw = (np.cumsum(kept) - 1)[draw[flying]]
            r, v = store.state_at(o_idx, t)
        # the geometry only of the pairs the radar could see (its range limits and field
        # of view, with a margin); the aspect, RCS, SNR and detection only of the visible
        # ones. ``vis``: the visible pairs, in pair order
        n = t.shape[0]
        cand = np.flatnonzero(possibly_visible(radars, ri, r, earth=world.earth))
        obs = observe(radars, idx[cand], r[cand], v[cand], None, earth=world.earth)
        vis = cand[obs.visible]
        obs = Observation(*(x[obs.visible] for x in obs))  # (of the visible pairs)
        o_vis, t_vis = o_idx[vis], t[vis]
        nose, broad, tail, swer = objects.signature_arrays(o_vis, t_vis)
        rcs = rcs_by_aspect_m2(aspect_angle_rad(r[vis], v[vis], site), nose, broad, tail)
        snr_db = pair_snr_db(radars, idx[vis], obs.range_m, rcs)
        # every pair's draws (in their draw order), of which the visible pairs' are used
        fluct = np.where(swer == 1, rng.exponential(1.0, n)[draw[vis]], 1.0)
        u = rng.random(n)[draw[vis]]
        noise = rng.standard_normal((n, 4))
        fluct_db = 10.0 * np.log10(np.maximum(fluct, 1e-300))
        cued = cue_time[o_vis] <= t_vis
        searchable = obs.in_search | cued
        search_snr = snr_db + fluct_db + np.where(cued, network.cue_gain_db[ri], 0.0)
        track_snr = snr_db + fluct_db + network.track_gain_db[ri]
        pfa, npulse = float(radars.pfa[ri]), int(radars.n_pulses[ri])
        pd = (  # both dwells' in one call
            radar.detection_probability(np.concatenate([search_snr, track_snr]), pfa, swerling=0, n_pulses=npulse)
            if vis.size else np.empty(0)
        )
        search_det = searchable & (u < pd[: vis.size])
        # track dwells follow a first detection in the same run of consecutive visible scans
        tracking = _after_first_in_run(o_vis, vis, search_det)
        det = np.where(tracking, u < pd[vis.size :], search_det)
        d = np.flatnonzero(det)  # (among the visible pairs)
        snr_eff = np.where(tracking[d], track_snr[d], search_snr[d])
        mode = np.where(tracking[d], MODE_TRACK, np.where(cued[d], MODE_CUED, MODE_SEARCH)).astype(np.int8)
        stat["opportunities"] = int(vis.size)
        stat["detections"] = int(d.size)
        s_r, s_az, s_el, s_rr = measurement_sigmas(radars, idx[vis[d]], snr_eff)
        noise_d = noise[draw[vis[d]]]
        meas_r = obs.range_m[d] + noise_d[:, 0] * s_r
        meas_az = np.mod(obs.azimuth_rad[d] + noise_d[:, 1] * s_az, 2 * math.pi)
        meas_el = obs.elevation_rad[d] + noise_d[:, 2] * s_el
        meas_rr = np.where(radars.range_rate[ri], obs.range_rate_mps[d] + noise_d[:, 3] * s_rr, np.nan)
        parts.append({
            "time_s": t_vis[d], "sensor": ri, "object": o_vis[d],
            "range_m": meas_r, "azimuth_rad": meas_az, "elevation_rad": meas_el, "range_rate_mps": meas_rr,
            "snr_db": snr_eff, "sigma_range_m": s_r, "sigma_azimuth_rad": s_az, "sigma_elevation_rad": s_el,
            "mode": mode,
        })
        # first detection of each object by this radar (pairs by object, then time),
        # in time order, then object order
        firsts = np.unique(o_vis[d], return_index=True)[1]
        for k in firsts[np.argsort(t_vis[d][firsts], kind="stable")]:
            o, p = int(o_vis[d[k]]), vis[d[k]]
            geo = ecef_to_geodetic(r[p], earth=world.earth)
            events.append(Event(float(t[p]), "first_detection", objects.object_id[o], float(geo.lat_deg), float(geo.lon_deg),
                                float(geo.alt_m),
                                f"by {sid} ({MODES[mode[k]]}, {obs.range_m[d[k]] / 1e3:.0f} km, SNR {snr_eff[k]:.1f} dB)"))
        fa = _false_alarms(radars, ri, scans, network.mechanical[ri], float(false_alarms_per_scan[ri]), rng)
        stat["false_alarms"] = len(fa["mode"])
        parts.append(fa)
    return _detections_table(parts, [str(r) for r in network.radar_id], objects.object_id), stats


def _false_alarms(radars: RadarArray, ri: int, scans: np.ndarray, mechanical: bool, mean: float, rng) -> dict:
    """False alarms of radar ``ri`` over ``scans`` (s), ``mean`` per scan."""
    counts = rng.poisson(mean, scans.shape[0])
    n = int(counts.sum())
    t = np.repeat(scans, counts)
    hw = min(float(radars.azimuth_half_width_rad[ri]), math.pi)
    bore = float(radars.boresight_rad[ri])
    # uniform over the resolution cells of the search sector, for all scans at once:
    # uniform in range and azimuth, and in solid angle (uniform in sin(elevation)), as
    # the cell count (range bins x solid angle / beam solid angle) assumes
    rng_m = rng.uniform(float(radars.min_range_m[ri]), float(radars.max_range_m[ri]), n)
    az = np.mod(bore - hw + 2.0 * hw * rng.random(n), 2 * math.pi)
    sin_lo = math.sin(float(radars.elevation_min_rad[ri]))
    sin_hi = math.sin(float(radars.search_elevation_max_rad[ri]))
    el = np.arcsin(rng.uniform(sin_lo, sin_hi, n))
    if mechanical:
        t = t + np.mod(az - bore, 2 * math.pi) / (2 * math.pi) * float(radars.scan_period_s[ri])
    snr = np.asarray(radar.noise_snr_db(rng, n, float(radars.pfa[ri]))) if n else np.empty(0)
    idx = np.full(n, ri)
    s_r, s_az, s_el, _ = measurement_sigmas(radars, idx, snr, range_rate=False) if n else (np.empty(0),) * 4
    return {
        "time_s": t, "sensor": ri, "object": np.full(n, -1), "range_m": rng_m, "azimuth_rad": az,
        "elevation_rad": el, "range_rate_mps": np.full(n, np.nan), "snr_db": snr, "sigma_range_m": s_r,
        "sigma_azimuth_rad": s_az, "sigma_elevation_rad": s_el, "mode": np.full(n, MODE_FALSE_ALARM, np.int8),
    }


def _by_keys_then_range(time_s, sensor_rank, object_rank, range_m) -> np.ndarray:
    """The stable order of rows by time, sensor, object, then range: sorted on the first
    three, then the rows equal in all three (a scan's false alarms) among themselves by
    range (the order ``np.lexsort`` gives the four keys, without sorting every range)."""
    order = np.lexsort((object_rank, sensor_rank, time_s))
    t, s, o = time_s[order], sensor_rank[order], object_rank[order]
    same = (t[1:] == t[:-1]) & (s[1:] == s[:-1]) & (o[1:] == o[:-1])  # as the row before
    if same.any():
        group = np.cumsum(np.concatenate([[True], ~same]))
        tied = np.flatnonzero(np.concatenate([same, [False]]) | np.concatenate([[False], same]))
        order[tied] = order[tied][np.lexsort((range_m[order[tied]], group[tied]))]
    return order


def _detections_table(parts: list[dict], radar_ids: list[str], object_ids: list[str]) -> pa.Table:
    """Detections by time, then sensor id, then object id (false alarms first), then
    range. Each part holds one radar's: its index ``sensor``, the object indices
    ``object`` (-1: a false alarm), the :data:`MODES` codes ``mode`` and the numeric
    columns of the schema (NaN: null)."""
    parts = [p for p in parts if len(p["time_s"])]
    if not parts:
        return DETECTIONS_SCHEMA.empty_table()
    column = lambda name: np.concatenate([np.asarray(p[name]) for p in parts])  # noqa: E731
    sensor = np.concatenate([np.full(len(p["time_s"]), p["sensor"]) for p in parts])
    obj = column("object") + 1  # 0: a false alarm
    # the names' string order as ranks ('' of a false alarm first)
    sensor_rank = np.unique(np.asarray(radar_ids, dtype=object), return_inverse=True)[1]
    object_rank = np.unique(np.asarray(["", *object_ids], dtype=object), return_inverse=True)[1]
    order = _by_keys_then_range(column("time_s"), sensor_rank[sensor], object_rank[obj], column("range_m"))
    arrays = {
        "sensor_id": pa.array(radar_ids, pa.string()).take(sensor[order]),
        "object_id": pa.array([None, *object_ids], pa.string()).take(obj[order]),
        "mode": pa.array(MODES, pa.string()).take(column("mode")[order]),
    }
    for field in DETECTIONS_SCHEMA:
        if field.name not in arrays:
            x = column(field.name).astype(float)[order]
            arrays[field.name] = pa.array(x, type=field.type, mask=np.isnan(x))
    return pa.table(arrays, schema=DETECTIONS_SCHEMA)


def simulate(world, store: TruthStore, objects: ObjectTable, rng: np.random.Generator, events: list[Event]):
    """Run the sensor network over the truth.

    Returns the detections and launch-report tables and, per radar, counts: scans,
    opportunities (object-scans in coverage), object detections and false alarms.
    """
    network = world.sensors
    reports, cue_time = _launch_reports(world, store, objects, network, rng, events)
    if network.n_radars == 0:
        return DETECTIONS_SCHEMA.empty_table(), reports, []
    windows = activity_windows(store)
    detections, stats = _radar_detections(world, store, objects, network, cue_time, windows, rng, events)
    return detections, reports, stats
