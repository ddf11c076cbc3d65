"""The engine's tracker: every radar's detections fused into tracks.

All detections of the run go to one :class:`~hoplon.core.tracker.Tracker` in time order,
one scan per (radar, time), each measurement with its own SNR-dependent sigmas. Each
track is labelled, for analysis only, with the true object most of its updates came
from (false alarms count for none); the events say when each object's track was
confirmed and when tracks were dropped.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hoplon.core.frames import ecef_to_geodetic
from hoplon.core.tracker import (
    ConfirmedTracks,
    ScanBatch,
    SensorInfo,
    Tracker,
    TrackerConfig,
    batch_scans,
    in_time_then_sensor_order,
)
from hoplon.sim.events import Event

__all__ = ["TRACKS_SCHEMA", "EngineTracker", "run_tracker", "DEFAULT_ENGINE_TRACKER", "INITIATOR_SCANS"]

DEFAULT_ENGINE_TRACKER = TrackerConfig(
    motion="imm-ballistic",
    q_ca=5.0,
    q_ballistic=1e-6,
    init_speed_sigma_mps=1500.0,
    init_vertical_speed_sigma_mps=1500.0,
    confirm_m=3,
    confirm_n=4,
    delete_misses=4,
    max_coast_s=180.0,
    initiation="two-point",
    initiation_max_speed_mps=5000.0,
    initiation_max_age_s=15.0,  # a world with radars takes INITIATOR_SCANS of the slowest one's period
)
"""Ballistic missiles from boost to re-entry and drones: an IMM of the ballistic model
and a constant-acceleration model (boost, manoeuvres). The ballistic model's process
noise is nearly zero because the simulation's free flight obeys exactly the physics it
models (J2, rotation, US 1976 drag); more noise makes the filter conservative over a
midcourse of several minutes (benchmarks/bench_ballistic_tracking.py). Two-point
initiation (Blackman & Popoli 1999, ch. 9): a detection no track claims only waits as
an initiator, with no filter to predict, until a detection of a later scan lies within
reach of a target no faster than 5 km/s; the pair then starts a track with a
differenced velocity. 5 km/s is the fastest flight of the packaged ballistic types
(4.1 km/s, the 2,000 km MRBM at full burn and best kick, tests/test_catalog.py) with a
margin. An initiator waits for the next scan, as in the classic two-scan logic: a world
with radars sets ``initiation_max_age_s`` to :data:`INITIATOR_SCANS` periods of its
slowest radar (sim/world.py), so that every radar can pair two consecutive scans of
its own, and a scenario's ``tracker`` settings override it. (Before, every false
alarm started a tentative track of its own, and predicting those was most of the
tracker's time in long, quiet scenarios.) Velocity priors (of the single-point
initiation a scenario may choose) wide enough for a missile's first detection; 3-of-4
confirmation (the initiating pair and one more hit); coasting up to 3 minutes so that
a missile leaving one radar's field of view keeps its track until the next radar sees
it."""

INITIATOR_SCANS = 1.1
"""How long a two-point initiator waits, in scan periods of the world's slowest radar:
one period (the next scan), with a margin for a rotating radar's beam reaching a moving
target a little later. Longer waits pair far more false alarms (the volume reachable at
5 km/s grows with the cube of the wait) while a missile with a missed detection is
initiated one scan later."""

TRACKS_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        ("track_id", pa.int64()),
        ("object_id", pa.string()),  # the true object most updates came from (analysis)
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_m", pa.float64()),
        ("x_m", pa.float64()),
        ("y_m", pa.float64()),
        ("z_m", pa.float64()),
        ("vx_mps", pa.float64()),
        ("vy_mps", pa.float64()),
        ("vz_mps", pa.float64()),
        ("position_sigma_m", pa.float64()),
        ("updated", pa.bool_()),  # updated by a detection at this time (else predicted)
        ("score", pa.float64()),  # track quality: log-likelihood ratio, target vs false alarms
        ("covariance", pa.list_(pa.float64(), 36)),  # 6x6 of ECEF position and velocity, row-major
        ("inv_beta_m2_kg", pa.float64()),  # drag state 1/beta of the ballistic model
        ("inv_beta_cov", pa.list_(pa.float64(), 7)),  # its covariance row over (pos, vel, 1/beta)
    ],
    metadata={"hoplon_table": "tracks", "schema_version": "2", "frame": "WGS84 ECEF"},
)


def _scans(detections: pa.Table, radar_ids: list[str], object_ids: list[str]) -> ScanBatch:
    """The detections as scans, in (time, radar) order; labels are object indices (-1:
    a false alarm or an object not in ``object_ids``)."""
    def column(name):
        return np.asarray(detections.column(name).to_numpy(), dtype=float)

    def positions(name, names):
        """Each row's position of its ``name`` value in ``names`` (-1: none or null)."""
        found = pc.index_in(detections.column(name), value_set=pa.array(names, pa.string()))
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)

    t = column("time_s")
    sid = positions("sensor_id", radar_ids)
    if (sid < 0).any():
        raise ValueError("detections of a sensor that is not one of the tracker's radars")
    labels = positions("object_id", object_ids)
    z = np.stack([column("range_m"), column("azimuth_rad"), column("elevation_rad")], axis=1)
    sig = np.stack([column("sigma_range_m"), column("sigma_azimuth_rad"), column("sigma_elevation_rad")], axis=1)
    if in_time_then_sensor_order(t, sid):  # the engine's detections are
        return batch_scans(t, sid, z, sigma=sig, label=labels)
    order = np.lexsort((sid, t))
    return batch_scans(t[order], sid[order], z[order], sigma=sig[order], label=labels[order], row=order)


def _sensor_infos(world) -> list[SensorInfo]:
    net = world.sensors
    radars = net.radars
    return [
        SensorInfo(
            id=str(net.radar_id[i]), lat_deg=float(radars.lat_deg[i]), lon_deg=float(radars.lon_deg[i]),
            alt_m=float(radars.alt_m[i]), sigma_range_m=max(float(radars.range_floor_m[i]), 1.0),
            sigma_azimuth_rad=max(float(radars.angle_floor_rad[i]), 1e-5),
            sigma_elevation_rad=max(float(radars.angle_floor_rad[i]), 1e-5), scan_period_s=float(radars.scan_period_s[i]),
            max_range_m=float(radars.max_range_m[i]), boresight_rad=float(radars.boresight_rad[i]),
            azimuth_half_width_rad=float(radars.azimuth_half_width_rad[i]),
            elevation_min_rad=float(radars.elevation_min_rad[i]), elevation_max_rad=float(radars.elevation_max_rad[i]),
        )
        for i in range(net.n_radars)
    ]


class EngineTracker:
    """The run's tracker, stepped by the engine: :meth:`advance` feeds the scans up to a
    time, leaving out detections of objects already destroyed; :meth:`confirmed` and
    :meth:`label` give the battle manager its picture; :meth:`table` the tracks table."""

    def __init__(self, world, detections: pa.Table, object_ids: list[str], config: TrackerConfig | None = None) -> None:
        self.world = world
        self.object_ids = object_ids
        self.sensors = _sensor_infos(world) if world.sensors.n_radars else []
        self.scans = _scans(detections if self.sensors else detections.slice(0, 0), [s.id for s in self.sensors],
                            object_ids)
        self.tracker = Tracker(self.sensors, config or DEFAULT_ENGINE_TRACKER) if self.sensors else None
        self.next_scan = 0
        self._log_k = 0
        # per track: its updates counted per true object, and the object counted most
        # (count, object; ties to the larger object index); false alarms count for none
        self._counts: dict[int, Counter] = {}
        self._top: dict[int, tuple[int, int]] = {}

    @property
    def next_scan_time_s(self) -> float:
        """Time of the next scan not yet fed (inf when none is left)."""
        if self.next_scan >= self.scans.time_s.shape[0]:
            return math.inf
        return float(self.scans.time_s[self.next_scan])

    def advance(self, until: float, death_s: np.ndarray, *, stop_at_confirmed: bool = False) -> None:
        """Feed every scan up to ``until`` (s); detections of object k after ``death_s[k]``
        are dropped (the object no longer exists). With ``stop_at_confirmed``, feeding
        stops after the first scan that leaves a confirmed track (:meth:`Tracker.feed`)."""
        if self.tracker is None:
            return
        self.next_scan = self.tracker.feed(self.scans, self.next_scan, until, death_s,
                                           stop_at_confirmed=stop_at_confirmed)
        ids, labels, self._log_k = self.tracker.updates_since(self._log_k)
        real = labels >= 0
        if not real.any():
            return
        counts, top = self._counts, self._top
        for tid, lab in zip(ids[real].tolist(), labels[real].tolist()):
            c = counts.get(tid)
            if c is None:
                c = counts[tid] = Counter()
            c[lab] += 1
            mine = (c[lab], lab)
            if mine > top.get(tid, (0, -1)):
                top[tid] = mine

    @property
    def last_scan_time_s(self) -> float:
        """Time of the last scan fed (-inf before the first)."""
        return self.tracker.last_time if self.tracker is not None else -math.inf

    def confirmed(self) -> ConfirmedTracks | None:
        return self.tracker.confirmed() if self.tracker is not None else None

    def label(self, track_id: int) -> str:
        """The true object most of the track's updates so far came from ('' for none)."""
        top = self._top.get(track_id)
        return self.object_ids[top[1]] if top is not None else ""

    def table(self, events: list[Event]) -> pa.Table:
        """Finish tracking; the tracks table (and the track events)."""
        if self.tracker is None:
            return TRACKS_SCHEMA.empty_table()
        return _tracks_table(self.world, self.tracker.finish(), self.object_ids, events)


def run_tracker(world, detections: pa.Table, object_ids: list[str], events: list[Event],
                config: TrackerConfig | None = None) -> pa.Table:
    """Track every radar detection of a run at once; returns the tracks table and adds events."""
    if world.sensors.n_radars == 0 or detections.num_rows == 0:
        return TRACKS_SCHEMA.empty_table()
    sensors = _sensor_infos(world)
    tracker = Tracker(sensors, config or DEFAULT_ENGINE_TRACKER)
    tracker.feed(_scans(detections, [s.id for s in sensors], object_ids), 0, math.inf)
    return _tracks_table(world, tracker.finish(), object_ids, events)


def _majority_labels(track_id: np.ndarray, label: np.ndarray) -> dict[int, int]:
    """Per track, the object label (>= 0) of most of its updates, ties to the larger
    label (tracks without any: absent)."""
    real = label >= 0
    if not real.any():
        return {}
    pairs, counts = np.unique(np.stack([track_id[real], label[real]], axis=1), axis=0, return_counts=True)
    pairs = pairs[np.lexsort((pairs[:, 1], counts, pairs[:, 0]))]  # per track, the most counted (then largest) last
    last = np.append(pairs[1:, 0] != pairs[:-1, 0], True)
    return dict(zip(pairs[last, 0].tolist(), pairs[last, 1].tolist()))


def _tracks_table(world, out, object_ids: list[str], events: list[Event]) -> pa.Table:
    # label each track with the object most of its updates came from
    label = _majority_labels(out.log_track_id, out.log_label)
    geo_rows = ecef_to_geodetic(out.state[:, 0:3], earth=world.earth)

    def where(tid: int, t: float) -> tuple[float, float, float]:
        rows = np.flatnonzero(out.track_id == tid)
        if rows.size == 0:
            return float("nan"), float("nan"), float("nan")
        k = rows[np.argmin(np.abs(out.time_s[rows] - t))]
        return float(geo_rows.lat_deg[k]), float(geo_rows.lon_deg[k]), float(geo_rows.alt_m[k])

    for t, tid, kind in out.events:
        lab = label.get(tid, -1)
        oid = object_ids[lab] if lab >= 0 else ""
        lat, lon, alt = where(tid, t)
        if kind == "confirmed":
            events.append(Event(float(t), "track_confirmed", oid or f"track-{tid}", lat, lon, alt,
                                f"track {tid}" + ("" if oid else " (from false alarms)")))
        else:
            events.append(Event(float(t), "track_deleted", oid or f"track-{tid}", lat, lon, alt,
                                f"track {tid}: {kind.split(':', 1)[1]}"))
    n = out.time_s.shape[0]
    if n == 0:
        return TRACKS_SCHEMA.empty_table()
    order = np.lexsort((out.track_id, out.time_s))
    x = out.state[order]
    cov = out.cov[order]
    names = [None if lab < 0 else object_ids[lab] for lab in range(-1, len(object_ids))]  # label + 1 -> name
    obj = [names[label.get(t, -1) + 1] for t in out.track_id[order].tolist()]
    return pa.table(
        {
            "time_s": out.time_s[order],
            "track_id": out.track_id[order],
            "object_id": obj,
            "lat_deg": geo_rows.lat_deg[order],
            "lon_deg": geo_rows.lon_deg[order],
            "alt_m": geo_rows.alt_m[order],
            "x_m": x[:, 0],
            "y_m": x[:, 1],
            "z_m": x[:, 2],
            "vx_mps": x[:, 3],
            "vy_mps": x[:, 4],
            "vz_mps": x[:, 5],
            "position_sigma_m": np.sqrt(np.trace(cov[:, 0:3, 0:3], axis1=1, axis2=2)),
            "updated": out.updated[order],
            "score": out.score[order],
            "covariance": pa.FixedSizeListArray.from_arrays(pa.array(cov.reshape(-1)), 36),
            "inv_beta_m2_kg": out.inv_beta[order],
            "inv_beta_cov": pa.FixedSizeListArray.from_arrays(pa.array(out.inv_beta_cov[order].reshape(-1)), 7),
        },
        schema=TRACKS_SCHEMA,
    )
