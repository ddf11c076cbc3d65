"""The multi-target, multi-sensor tracker: arrays of tracks, scan by scan.

Centralised measurement fusion: scans (all measurements of one sensor at one time) are
processed in time order. For each scan every track is predicted to the scan time, gated
against the scan's measurements, associated (global nearest neighbour or JPDA) and
updated; the measurements no track claims start tentative tracks (single-point
initiation), or, with ``initiation="two-point"``, wait as initiators until a later
measurement lies within reach of one (a velocity gate), the pair then starting a track
with a differenced velocity (two hits). A tentative track is confirmed when it has been
updated in M of its last N opportunities; a track is deleted after too many
consecutive misses, when it coasts too long, or when its position uncertainty grows
too large. A track's opportunities are the scans of the sensors that
have updated it (Hoplon does not assume it knows every sensor's coverage).

Track quality is the sequential log-likelihood ratio of "target" against "false alarms"
(Blackman & Popoli 1999, sec. 6.2), starting at 0: each update adds
ln(P_D / beta_FA) - ln(2 pi)^(m/2) |S|^(1/2) - d^2 / 2 (beta_FA: ``clutter_density``, the
false alarms per unit of measurement space), each miss in coverage ln(1 - P_D). A
tentative track is one that is not yet confirmed; confirmation itself is M of N.

Out-of-order scans (arrival order not time order, e.g. from several sensors with
different latencies) are held back for ``latency_window_s`` and released in time
order; a scan older than the last one processed is rejected and counted.

Everything per scan is array work over all tracks (:mod:`hoplon.core.filters`,
:mod:`hoplon.core.association`); the Python loop is over scans, or, for a run of scans
given as flat arrays (:class:`ScanBatch`, :meth:`Tracker.feed`: a simulation stepping
the tracker), in compiled code (:mod:`hoplon.core._tracker_kernels`), which hands back
only the scans its common path cannot do.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from hoplon.core import _tracker_kernels as _k
from hoplon.core import association as assoc
from hoplon.core import filters as flt
from hoplon.core.earth import earth_model

__all__ = ["TrackerConfig", "SensorInfo", "Scan", "ScanBatch", "Tracker", "TrackOutput", "ConfirmedTracks", "MOTION_MODELS",
           "track_all", "group_scans", "batch_scans", "in_time_then_sensor_order"]

MOTION_MODELS = ("cv", "ca", "singer", "ct", "ballistic", "imm", "imm-ballistic")


@dataclass(frozen=True)
class TrackerConfig:
    """Tracker settings (SI units). The defaults suit aircraft and drones seen by a
    surveillance radar with clutter; ``motion="ballistic"`` or ``"imm-ballistic"`` for
    missiles."""

    motion: str = "cv"
    filter: str = "ekf"  # ekf | ukf (single-model filters)
    iekf_iterations: int = 3  # iterated EKF updates of young tracks (first 3 updates; 1: plain EKF)
    association: str = "gnn"  # gnn | jpda
    q_cv: float = 1.0  # white acceleration, m^2/s^3
    q_ca: float = 1.0  # white jerk, m^2/s^5
    singer_sigma: float = 10.0  # m/s^2
    singer_tau: float = 20.0  # s
    q_turn: float = 1e-4  # rad^2/s^3
    q_ballistic: float = 0.05  # m^2/s^3
    q_theta: float = 1e-10  # (m^2/kg)^2/s
    imm_switch_rate: float = 0.01  # model switches per second
    earth: str = "wgs84"
    gate_probability: float = 0.9999
    confirm_m: int = 2  # confirm after M updates in the last N opportunities
    confirm_n: int = 2
    delete_misses: int = 3
    max_coast_s: float = 60.0
    max_position_sigma_m: float = 20_000.0
    min_altitude_m: float = -1_000.0  # a track predicted this far below the ellipsoid has hit the ground
    init_speed_sigma_mps: float = 300.0  # horizontal velocity prior of a new track, per axis
    init_vertical_speed_sigma_mps: float = 50.0  # vertical velocity prior of a new track
    init_theta: float = 2e-4  # 1/beta prior, m^2/kg
    init_theta_sigma: float = 5e-3
    pd: float = 0.9  # JPDA
    clutter_density: float = 1e-9  # JPDA, per unit of measurement space (m rad^2)
    latency_window_s: float = 0.0
    dense_gating_limit: int = 40_000  # tracks x measurements above which a k-d tree prefilters
    # track initiation: "single-point" (every unclaimed measurement starts a tentative
    # track) or "two-point" (it waits as an initiator for a second measurement within
    # the velocity gate: _tracker_kernels.two_point_initiate)
    initiation: str = "single-point"
    initiation_max_speed_mps: float = 1500.0  # two-point velocity gate
    initiation_max_age_s: float = 15.0  # how long an initiator waits for its second measurement

    def __post_init__(self) -> None:
        if self.motion not in MOTION_MODELS:
            raise ValueError(f"motion must be one of {MOTION_MODELS}, got {self.motion!r}")
        if self.filter not in ("ekf", "ukf"):
            raise ValueError(f"filter must be ekf or ukf, got {self.filter!r}")
        if self.association not in ("gnn", "jpda"):
            raise ValueError(f"association must be gnn or jpda, got {self.association!r}")
        if not 1 <= self.confirm_m <= self.confirm_n <= 62:
            raise ValueError("need 1 <= confirm_m <= confirm_n <= 62")
        if not 0.0 < self.gate_probability < 1.0:
            raise ValueError("gate_probability must lie in (0, 1)")
        if self.initiation not in ("single-point", "two-point"):
            raise ValueError(f"initiation must be single-point or two-point, got {self.initiation!r}")
        if not (self.initiation_max_speed_mps > 0.0 and self.initiation_max_age_s > 0.0):
            raise ValueError("initiation_max_speed_mps and initiation_max_age_s must be > 0")
        if self.association == "jpda" and (self.motion.startswith("imm") or self.filter == "ukf"):
            raise ValueError("JPDA works with a single-model EKF (motion cv, ca, singer, ct or ballistic; filter ekf)")

    def models(self) -> tuple[flt.MotionModel, ...]:
        cv = flt.ConstantVelocity(q=self.q_cv)
        ca = flt.ConstantAcceleration(q=self.q_ca)
        ct = flt.CoordinatedTurn(q=self.q_cv, q_turn=self.q_turn, earth=self.earth)
        bal = flt.Ballistic(q=self.q_ballistic, q_theta=self.q_theta, earth=self.earth)
        return {
            "cv": (cv,),
            "ca": (ca,),
            "singer": (flt.Singer(sigma=self.singer_sigma, tau=self.singer_tau),),
            "ct": (ct,),
            "ballistic": (bal,),
            "imm": (cv, ca, ct),
            "imm-ballistic": (bal, ca),  # free flight; boost or manoeuvre
        }[self.motion]


@dataclass(frozen=True)
class SensorInfo:
    """A sensor the tracker knows: its position, nominal noise and scan period."""

    id: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    sigma_range_m: float
    sigma_azimuth_rad: float
    sigma_elevation_rad: float
    scan_period_s: float | None = None
    pd: float | None = None
    false_alarms_per_scan: float | None = None
    # optional coverage: a scan is an opportunity (a miss counts) only for tracks inside it
    max_range_m: float | None = None
    boresight_rad: float | None = None
    azimuth_half_width_rad: float | None = None
    elevation_min_rad: float | None = None
    elevation_max_rad: float | None = None

    def covers(self, z_pred: np.ndarray) -> np.ndarray:
        """Whether predicted measurements (N, 3) (range, azimuth, elevation) lie in coverage."""
        ok = np.ones(z_pred.shape[0], dtype=bool)
        if self.max_range_m is not None:
            ok &= z_pred[:, 0] <= self.max_range_m
        if self.boresight_rad is not None and self.azimuth_half_width_rad is not None and self.azimuth_half_width_rad < math.pi:
            off = (z_pred[:, 1] - self.boresight_rad + math.pi) % (2 * math.pi) - math.pi
            ok &= np.abs(off) <= self.azimuth_half_width_rad
        if self.elevation_min_rad is not None:
            ok &= z_pred[:, 2] >= self.elevation_min_rad
        if self.elevation_max_rad is not None:
            ok &= z_pred[:, 2] <= self.elevation_max_rad
        return ok


@dataclass
class Scan:
    """The measurements of one sensor at one time: z (M, 3) range, azimuth, elevation;
    optional per-measurement sigmas (M, 3) and integer labels (M,) carried through to
    the association log (e.g. the true object of a simulated detection, -1 clutter)."""

    time_s: float
    sensor: int
    z: np.ndarray
    sigma: np.ndarray | None = None
    label: np.ndarray | None = None
    index: np.ndarray | None = None  # row numbers of the measurements in the input


class ScanBatch(NamedTuple):
    """Scans as flat arrays (:func:`batch_scans`): scan k, of sensor ``sensor[k]`` at
    ``time_s[k]``, holds the measurements ``start[k]:start[k + 1]`` of ``z`` (M, 3),
    ``sigma`` (M, 3) (None: the sensors' nominal sigmas), ``label`` (None: -1) and
    ``index`` (M,) (as in :class:`Scan`)."""

    time_s: np.ndarray
    sensor: np.ndarray
    start: np.ndarray
    z: np.ndarray
    sigma: np.ndarray | None
    label: np.ndarray | None
    index: np.ndarray

    def scan(self, k: int, keep: np.ndarray | None = None) -> Scan:
        """Scan k (views of the batch's arrays), or its measurements where ``keep``."""
        a, b = int(self.start[k]), int(self.start[k + 1])
        sel = slice(a, b) if keep is None else a + np.flatnonzero(keep)
        return Scan(time_s=float(self.time_s[k]), sensor=int(self.sensor[k]), z=self.z[sel],
                    sigma=None if self.sigma is None else self.sigma[sel],
                    label=None if self.label is None else self.label[sel], index=self.index[sel])


def in_time_then_sensor_order(time_s: np.ndarray, sensor: np.ndarray) -> bool:
    """Whether measurements (M,) are sorted by time, then sensor (a simulation's
    detections are): :func:`batch_scans` then groups them without sorting."""
    return bool(np.all((time_s[1:] > time_s[:-1]) | ((time_s[1:] == time_s[:-1]) & (sensor[1:] >= sensor[:-1]))))


def batch_scans(
    time_s: np.ndarray, sensor: np.ndarray, z: np.ndarray, *, sigma: np.ndarray | None = None,
    label: np.ndarray | None = None, row: np.ndarray | None = None,
) -> ScanBatch:
    """Group measurements (M,) into scans (same sensor, same time), in the order of each
    scan's first measurement (arrival order), each scan's measurements in input order;
    ``z`` (M, 3), optional ``sigma`` (M, 3) and ``label`` (M,) go with them, and each
    measurement's ``index`` is its ``row`` number (default: its position)."""
    time_s = np.asarray(time_s, dtype=float)
    n = time_s.shape[0]
    row = np.arange(n) if row is None else np.asarray(row, np.int64)
    sensor = np.asarray(sensor)
    key_s = sensor.astype(float)
    if in_time_then_sensor_order(time_s, key_s):
        # sorted by time, then sensor (a simulation's detections): the groups are the runs
        # of equal (sensor, time), already in order
        order = None
        begin = np.append(np.flatnonzero(np.concatenate(([n > 0], (key_s[1:] != key_s[:-1])
                                                         | (time_s[1:] != time_s[:-1])))), n)
        first = begin[:-1]
    else:
        # groups: runs of equal (sensor, time) in a stable sort (each group's positions in
        # input order), taken in order of their first position
        by_group = np.lexsort((time_s, key_s))
        s_sorted, t_sorted = key_s[by_group], time_s[by_group]
        new_group = np.concatenate(([n > 0], (s_sorted[1:] != s_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])))
        start = np.flatnonzero(new_group)
        size = np.diff(np.append(start, n))
        groups = np.argsort(by_group[start], kind="stable")
        begin = np.concatenate(([0], np.cumsum(size[groups])))
        # position p of the new order, in group g: by_group[start[g] + p - begin[g]]
        order = by_group[np.arange(n) + np.repeat(start[groups] - begin[:-1], size[groups])]
        first = order[begin[:-1]]

    def take(a, dtype):
        if a is None:
            return None
        a = np.asarray(a, dtype=dtype)
        return np.array(a, order="C") if order is None else np.ascontiguousarray(a[order])

    return ScanBatch(time_s=time_s[first], sensor=sensor[first].astype(np.int64), start=begin.astype(np.int64),
                     z=take(np.asarray(z, dtype=float).reshape(-1, 3), float), sigma=take(sigma, float),
                     label=take(label, np.int64), index=row.copy() if order is None else row[order])


def group_scans(
    time_s: np.ndarray, sensor: np.ndarray, z: np.ndarray, *, sigma: np.ndarray | None = None,
    label: np.ndarray | None = None, row: np.ndarray | None = None,
) -> list[Scan]:
    """The scans of :func:`batch_scans` as :class:`Scan` objects (views of its arrays)."""
    batch = batch_scans(time_s, sensor, z, sigma=sigma, label=label, row=row)
    return [batch.scan(k) for k in range(batch.time_s.shape[0])]


class TrackOutput(NamedTuple):
    """Everything a run of the tracker produced, as arrays.

    ``rows``: one per confirmed track per output time: time_s, track_id, state (pos, vel
    in ECEF), covariance of pos/vel (R, 6, 6). ``log``: every update: time, track id,
    measurement input index, measurement label (a two-point track's first measurement,
    with its own earlier time, is logged when the track starts). ``events``: (time, track_id, kind) with
    kind "confirmed" or "deleted:<reason>". ``rejected_scans``: out-of-order scans dropped.
    """

    time_s: np.ndarray
    track_id: np.ndarray
    state: np.ndarray
    cov: np.ndarray
    updated: np.ndarray  # True where the row's track was updated by a measurement at that time
    score: np.ndarray  # track quality: log-likelihood ratio of target vs false alarms
    log_time_s: np.ndarray
    log_track_id: np.ndarray
    log_index: np.ndarray
    log_label: np.ndarray
    events: list[tuple[float, int, str]]
    rejected_scans: int
    # the drag state 1/beta (m^2/kg) of models that estimate it (NaN otherwise) and its
    # row of the covariance over (pos, vel, 1/beta) (R, 7)
    inv_beta: np.ndarray | None = None
    inv_beta_cov: np.ndarray | None = None


class ConfirmedTracks(NamedTuple):
    """A snapshot of the confirmed tracks (see :meth:`Tracker.confirmed`)."""

    id: np.ndarray
    time_s: np.ndarray
    state: np.ndarray  # (N, 6)
    cov: np.ndarray  # (N, 6, 6)
    inv_beta: np.ndarray  # (N,) NaN without a drag state
    inv_beta_cov: np.ndarray  # (N, 7)
    last_update_s: np.ndarray
    score: np.ndarray


def _meas_to_ecef(meas: flt.RadarMeasurement, z: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ECEF positions (M, 3) and their covariances (M, 3, 3) of range/az/el measurements."""
    return _k.meas_to_ecef(flt._f64(z), flt._f64(sigma), meas.site_ecef_m, meas.rotation)


@dataclass
class _Tracks:
    """Structure of arrays of the live tracks (filter space of dimension d)."""

    d: int
    m: int  # IMM models (1 for a single model)
    id: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    t: np.ndarray = field(default_factory=lambda: np.empty(0))
    x: np.ndarray = field(init=False)  # (N, d) combined
    P: np.ndarray = field(init=False)  # (N, d, d) combined
    mu: np.ndarray = field(init=False)  # (N, M)
    xm: np.ndarray = field(init=False)  # (M, N, d)
    Pm: np.ndarray = field(init=False)  # (M, N, d, d)
    confirmed: np.ndarray = field(default_factory=lambda: np.empty(0, bool))
    history: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # hit bits, newest lowest
    opportunities: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    misses: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    last_update: np.ndarray = field(default_factory=lambda: np.empty(0))
    updates: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    sensors: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # bit mask
    score: np.ndarray = field(default_factory=lambda: np.empty(0))  # track quality: log-likelihood ratio

    def __post_init__(self) -> None:
        self.x = np.empty((0, self.d))
        self.P = np.empty((0, self.d, self.d))
        self.mu = np.empty((0, self.m))
        self.xm = np.empty((self.m, 0, self.d))
        self.Pm = np.empty((self.m, 0, self.d, self.d))

    def __len__(self) -> int:
        return int(self.id.shape[0])

    _FIELDS = ("id", "t", "x", "P", "mu", "confirmed", "history", "opportunities", "misses", "last_update", "updates", "sensors",
               "score")

    def set_arrays(self, arrays) -> None:
        """Replace every array, in the order of :func:`_tracker_kernels.end_scan`."""
        (self.id, self.t, self.x, self.P, self.mu, self.xm, self.Pm, self.confirmed, self.history, self.opportunities,
         self.misses, self.last_update, self.updates, self.sensors, self.score) = arrays

    def keep(self, mask: np.ndarray) -> None:
        d = self.__dict__
        for name in self._FIELDS:
            d[name] = d[name][mask]
        self.xm = self.xm[:, mask]
        self.Pm = self.Pm[:, mask]

    _ALL = ("id", "t", "x", "P", "mu", "xm", "Pm", "confirmed", "history", "opportunities", "misses", "last_update",
            "updates", "sensors", "score")  # the order of _tracker_kernels.end_scan and process_scans

    def buffers(self, need: int) -> tuple[np.ndarray, ...]:
        """Buffers of capacity >= ``need`` (axis 1 of xm and Pm, else axis 0) whose first
        :meth:`count` rows hold the tracks, for the kernels that work on them in place
        (:func:`_tracker_kernels.process_scans`), which then say how many rows hold
        tracks (:meth:`set_count`). The arrays are views of them again only when read
        (:meth:`views`); where other code replaced an array, it is copied in here."""
        d = self.__dict__
        bufs = d.get("_bufs")
        lazy = d.get("_lazy", -1)
        if lazy >= 0:  # the buffers hold the tracks
            n = lazy
            if bufs[0].shape[0] >= need:
                return bufs
            src = tuple(b[:, :n] if k in ("xm", "Pm") else b[:n] for k, b in zip(self._ALL, bufs))
        else:
            views = d.get("_views")
            if views is not None and bufs[0].shape[0] >= need and all(d[k] is v for k, v in zip(self._ALL, views)):
                d["_lazy"] = int(views[0].shape[0])
                return bufs
            n = len(self)
            src = tuple(d[k] for k in self._ALL)
        cap = 0 if bufs is None else bufs[0].shape[0]
        if bufs is None or cap < need:
            cap = max(need, 2 * cap, 16)
            bufs = tuple(np.empty((a.shape[0], cap, *a.shape[2:]) if k in ("xm", "Pm") else (cap, *a.shape[1:]), dtype=a.dtype)
                         for k, a in zip(self._ALL, src))
        for k, b, a in zip(self._ALL, bufs, src):
            if k in ("xm", "Pm"):
                b[:, :n] = a
            else:
                b[:n] = a
        d["_bufs"] = bufs
        d["_lazy"] = n
        return bufs

    def set_count(self, n: int) -> None:
        """After a kernel wrote the buffers (:meth:`buffers`): the first ``n`` rows hold
        the tracks."""
        self.__dict__["_lazy"] = n

    def count(self) -> int:
        """The number of tracks, without making views."""
        lazy = self.__dict__.get("_lazy", -1)
        return lazy if lazy >= 0 else len(self)

    def current(self) -> tuple[int, tuple[np.ndarray, ...]]:
        """The number of tracks n and the arrays (:meth:`buffers` order) whose first n
        rows hold them, without making views."""
        d = self.__dict__
        n = d.get("_lazy", -1)
        if n >= 0:
            return n, d["_bufs"]
        return len(self), tuple(d[k] for k in self._ALL)

    def views(self) -> _Tracks:
        """Make the arrays views of the buffers' tracks if a kernel left them there."""
        d = self.__dict__
        n = d.get("_lazy", -1)
        if n >= 0:
            b = d["_bufs"]
            views = (b[0][:n], b[1][:n], b[2][:n], b[3][:n], b[4][:n], b[5][:, :n], b[6][:, :n], b[7][:n], b[8][:n],
                     b[9][:n], b[10][:n], b[11][:n], b[12][:n], b[13][:n], b[14][:n])
            d.update(zip(self._ALL, views))
            d["_views"] = views
            d["_lazy"] = -1
        return self

    def append(self, other: _Tracks) -> None:
        self.extend({name: getattr(other, name) for name in self._FIELDS}, other.xm, other.Pm)

    def extend(self, fields: dict[str, np.ndarray], xm: np.ndarray, Pm: np.ndarray) -> None:
        """Add tracks given as arrays: ``fields`` (one per name of _FIELDS), xm, Pm."""
        if len(self) == 0:
            for name, value in fields.items():
                setattr(self, name, value)
            self.xm, self.Pm = xm, Pm
            return
        d = self.__dict__
        for name, value in fields.items():
            d[name] = np.concatenate((d[name], value))
        self.xm = np.concatenate((self.xm, xm), axis=1)
        self.Pm = np.concatenate((self.Pm, Pm), axis=1)


class _Columns:
    """Growing columns: arrays of one capacity whose first ``n`` rows are used."""

    def __init__(self, *columns: tuple[type, tuple[int, ...]]) -> None:
        self.n = 0
        self.arrays = tuple(np.empty((16, *shape), dtype) for dtype, shape in columns)

    def reserve(self, extra: int) -> tuple[np.ndarray, ...]:
        """The arrays, grown (doubling) to hold ``extra`` more rows."""
        cap = self.arrays[0].shape[0]
        if self.n + extra > cap:
            cap = max(self.n + extra, 2 * cap)
            grown = []
            for a in self.arrays:
                b = np.empty((cap, *a.shape[1:]), a.dtype)
                b[:self.n] = a[:self.n]
                grown.append(b)
            self.arrays = tuple(grown)
        return self.arrays

    def append(self, m: int, *values) -> None:
        """Add ``m`` rows: one value per column (the rows' values, or one for all)."""
        for a, v in zip(self.reserve(m), values):
            a[self.n:self.n + m] = v
        self.n += m

    def used(self) -> tuple[np.ndarray, ...]:
        """Copies of the used rows."""
        return tuple(a[:self.n].copy() for a in self.arrays)


class Tracker:
    """Multi-target tracker over a fixed set of sensors (see the module docstring)."""

    def __init__(self, sensors: list[SensorInfo], config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.sensors = list(sensors)
        if len(self.sensors) > 62:
            raise ValueError("at most 62 sensors")
        cfg = self.config
        self.meas = [
            flt.RadarMeasurement(s.lat_deg, s.lon_deg, s.alt_m, (s.sigma_range_m, s.sigma_azimuth_rad, s.sigma_elevation_rad), earth=cfg.earth)
            for s in self.sensors
        ]
        self.models = cfg.models()
        rates = None
        if cfg.motion == "imm-ballistic":
            # boost (constant acceleration) ends for good; free flight rarely looks powered
            rates = ((0.0, cfg.imm_switch_rate / 10.0), (5.0 * cfg.imm_switch_rate, 0.0))
        self.imm = flt.IMM(self.models, switch_rate=cfg.imm_switch_rate, rates=rates) if len(self.models) > 1 else None
        self.indices = self.imm.indices if self.imm else self.models[0].indices
        self.d = len(self.indices)
        # where the drag state 1/beta sits in the tracks' state (the models' common
        # components: (0..5, DRAG) for the ballistic model, (0..8, DRAG) for imm-ballistic)
        self._drag = list(self.indices).index(flt.DRAG) if flt.DRAG in self.indices else -1
        self._tracks = _Tracks(self.d, len(self.models))
        self.gate = assoc.gate_threshold(cfg.gate_probability, 3)
        self.next_id = 1
        self.last_time = -math.inf
        self.rejected = 0
        self._buffer: list[tuple[float, int, int, Scan]] = []
        self._serial = 0
        self._latest_arrival = -math.inf
        # outputs: rows (time, track id, state, covariance, updated, score, drag state and
        # its covariance row), the association log (time, track id, input index, label)
        f64, i64 = np.float64, np.int64
        self._rows = _Columns((f64, ()), (i64, ()), (f64, (6,)), (f64, (6, 6)), (bool, ()), (f64, ()), (f64, ()),
                              (f64, (7,)))
        self._log = _Columns((f64, ()), (i64, ()), (i64, ()), (i64, ()))
        self.events: list[tuple[float, int, str]] = []
        self._pending_output_time: float | None = None
        mean, var = self.models[0].unused_prior()
        mean[flt.DRAG] = cfg.init_theta
        var[flt.DRAG] = cfg.init_theta_sigma**2
        self._prior_mean = flt._f64(mean[list(self.indices)])
        self._prior_var = flt._f64(var[list(self.indices)])
        # per sensor, for the kernels: nominal sigmas (1, 3) and coverage (NaN: unknown)
        self._nominal = [np.array([m.sigma[:3]], dtype=np.float64) for m in self.meas]
        self._cover = [
            np.array([np.nan if v is None else float(v) for v in (
                s.max_range_m, s.boresight_rad, s.azimuth_half_width_rad, s.elevation_min_rad, s.elevation_max_rad)])
            for s in self.sensors
        ]
        self._earth = earth_model(cfg.earth).params()
        # the compiled prediction when every model has one (and the IMM's switching)
        if self.imm:
            self._spec = self.imm._fused()
            self._eig = self.imm._generator_eig() if self.imm.transition is None else None
        else:
            self._spec = flt._single_spec(self.models[0]) if cfg.filter == "ekf" else None
            self._eig = None
        self._mu0 = np.full(len(self.models), 1.0 / len(self.models))
        # two-point initiation: the initiators (time, ECEF position and covariance, sensor
        # bit, input index, label); a new track is born with two hits (else one)
        self._two_point = cfg.initiation == "two-point"
        self._ini = _Columns((f64, ()), (f64, (3,)), (f64, (3, 3)), (i64, ()), (i64, ()), (i64, ()))
        self._confirm_new = cfg.confirm_m <= (2 if self._two_point else 1)
        # the whole scan in one compiled call (GNN, EKF models the fused prediction knows,
        # the IMM's switching by its generator): settings as arrays, a scratch for its outputs
        self._fast = (cfg.association == "gnn" and cfg.filter == "ekf" and self._spec is not None
                      and (self.imm is None or self._eig is not None))
        self._cfg_f = np.array([self.gate, cfg.max_coast_s, cfg.max_position_sigma_m, cfg.min_altitude_m,
                                cfg.init_speed_sigma_mps**2, cfg.init_vertical_speed_sigma_mps**2,
                                cfg.initiation_max_speed_mps, cfg.initiation_max_age_s])
        self._cfg_i = np.array([cfg.dense_gating_limit, cfg.confirm_m, cfg.confirm_n, cfg.delete_misses,
                                cfg.iekf_iterations, self.imm is not None, self._confirm_new, self._two_point],
                               dtype=np.int64)
        eig = self._eig if self._eig is not None else (
            np.empty(0, np.complex128), np.empty((0, 0), np.complex128), np.empty((0, 0), np.complex128))
        # per sensor: its bit, and the score's gains of a hit (before the innovation's
        # terms) and of a miss
        self._bit = [np.int64(1) << np.int64(k) for k in range(len(self.sensors))]
        self._gains = []
        for info in self.sensors:
            pd = info.pd or cfg.pd
            self._gains.append((math.log(pd / cfg.clutter_density) - 1.5 * math.log(2 * math.pi), math.log(max(1.0 - pd, 1e-12))))
        if self._fast:  # process_scans' fixed arguments
            self._fixed_args = (self._cfg_f, self._cfg_i, self._earth, *eig, *self._spec, self._prior_mean, self._prior_var,
                                self._mu0)
            # process_scans' per-sensor arrays (bits, sites, rotations, coverages, gains),
            # its counters and times, and its events (time, track id, code)
            S = len(self.sensors)
            self._sensor_arrays = (
                np.array(self._bit, np.int64).reshape(S), np.array([m.site_ecef_m for m in self.meas]).reshape(S, 3),
                np.array([m.rotation for m in self.meas]).reshape(S, 3, 3), np.array(self._cover).reshape(S, 5),
                np.array(self._gains).reshape(S, 2))
            self._state_i = np.zeros(7, np.int64)
            self._state_f = np.zeros(2)
            self._events_buf = (np.empty(64), np.empty(64, np.int64), np.empty(64, np.int64))
            self._one_scan = (np.zeros(1), np.zeros(1, np.int64), np.zeros(2, np.int64))  # add_scan's batch of one

    @property
    def tracks(self) -> _Tracks:
        """The live tracks (structure of arrays)."""
        return self._tracks.views()

    # ------------------------------------------------------------------ input

    def add_scan(self, scan: Scan) -> None:
        """Receive one scan (in arrival order); processes what the latency window releases."""
        if scan.time_s < self.last_time - 1e-9:
            self.rejected += 1
            return
        if not self._buffer and self.config.latency_window_s == 0.0:  # released at once: no need to queue it
            self._latest_arrival = max(self._latest_arrival, scan.time_s)
            self._serial += 1
            self._process(scan)
            return
        self._latest_arrival = max(self._latest_arrival, scan.time_s)
        # simultaneous scans go in sensor order, whatever their arrival order
        heapq.heappush(self._buffer, (scan.time_s, scan.sensor, self._serial, scan))
        self._serial += 1
        self._release(self._latest_arrival - self.config.latency_window_s)

    def finish(self) -> TrackOutput:
        """Process what is still buffered and return the outputs."""
        self._release(math.inf)
        self._flush_output()
        return self.output()

    def advance(self, until: float) -> None:
        """Process every buffered scan up to time ``until`` (s), whatever the latency
        window, and write the output rows of those times (a simulation that steps the
        tracker and reads :meth:`confirmed` between steps)."""
        self._release(until)
        self._flush_output()

    def confirmed(self) -> ConfirmedTracks:
        """The confirmed tracks now: ids, the time their state is at, state and covariance
        of ECEF position and velocity, the drag state, the last update time, the score."""
        n, a = self._tracks.current()
        return ConfirmedTracks(*_k.confirmed_tracks(n, self._drag, a[0], a[1], a[2], a[3], a[7], a[11], a[14]))

    def _any_confirmed(self) -> bool:
        n, a = self._tracks.current()
        return bool(a[7][:n].any())

    def updates_since(self, k: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Track ids and measurement labels of the updates logged from entry ``k`` on, and
        the next entry number (read the association log incrementally)."""
        log = self._log
        return log.arrays[1][k:log.n].copy(), log.arrays[3][k:log.n].copy(), log.n

    def feed(self, scans: ScanBatch, first: int, until: float, drop_after_s: np.ndarray | None = None, *,
             stop_at_confirmed: bool = False) -> int:
        """:meth:`add_scan` of the scans of ``scans`` (in time order) from ``first`` on up
        to time ``until`` (s), then :meth:`advance`; a measurement whose label l >= 0 has
        ``drop_after_s[l]`` (s) before the scan's time is left out (e.g. the detection of
        an object destroyed by then), and a scan left without any is skipped. With
        ``stop_at_confirmed``, feeding ends after the first scan that leaves a confirmed
        track (with any later scans of the same time): a simulation that waits for
        something to act on. Returns the first scan not fed. Without a latency window
        and with the compiled scan path, every scan is done in one compiled call but
        those it hands back (:func:`_tracker_kernels.process_scans`)."""
        drop = np.empty(0) if drop_after_s is None else np.asarray(drop_after_s, dtype=np.float64)
        K = scans.time_s.shape[0]
        if not (self._fast and not self._buffer and self.config.latency_window_s == 0.0):
            k = first
            while k < K and scans.time_s[k] <= until:
                scan = self._kept(scans, k, drop)
                if scan is not None:
                    self.add_scan(scan)
                    if stop_at_confirmed:
                        self._release(scan.time_s)  # as advance would, so that a confirmation shows at once
                        if self._any_confirmed():
                            until = scan.time_s  # the scans of the same time, then the rows
                k += 1
            self.advance(until)
            return k
        sigma = scans.sigma
        if sigma is None:  # each measurement its sensor's nominal sigmas
            sigma = np.concatenate(self._nominal)[np.repeat(scans.sensor, np.diff(scans.start))]
        label = scans.label if scans.label is not None else np.full(scans.z.shape[0], -1, np.int64)
        k = first
        while True:
            status, k, scan_status = self._run_compiled(scans, k, until, drop, sigma, label, stop_at_confirmed,
                                                        solve_conflicts=True, rows_at_end=True)
            if status == _k.BATCH_DONE:
                self._latest_arrival = max(self._latest_arrival, self.last_time)
                return k
            # the general path for this scan (its rows written, time taken, stale tracks dropped)
            scan = self._kept(scans, k, drop)
            self._process_general(scan, scan.time_s, *self._measurements(scan),
                                  predicted=scan_status == _k.SCAN_CONFLICT)
            k += 1
            if stop_at_confirmed and self._any_confirmed():
                until = scan.time_s  # the scans of the same time, then the rows

    def _run_compiled(self, scans: ScanBatch, first: int, until: float, drop: np.ndarray, sigma: np.ndarray,
                      label: np.ndarray, stop_at_confirmed: bool, *, solve_conflicts: bool,
                      rows_at_end: bool) -> tuple[int, int, int]:
        """:func:`_tracker_kernels.process_scans` from scan ``first`` on (sigmas and labels
        of every measurement given), its buffers grown as it asks and its state read back;
        returns its status (BATCH_DONE or BATCH_GENERAL), the scan it stopped at and that
        scan's status."""
        st_i, st_f = self._state_i, self._state_f
        K = scans.time_s.shape[0]
        k = first
        while True:
            tr = self._tracks
            n = tr.count()
            st_i[:] = (self.next_id, n, self._log.n, 0, self._rows.n, self.rejected, self._ini.n)
            st_f[:] = (self.last_time, np.nan if self._pending_output_time is None else self._pending_output_time)
            bufs = tr.buffers(n + 16)
            status, k, scan_status = _k.process_scans(
                k, until, scans.time_s, scans.sensor, scans.start, scans.z, sigma, label, scans.index, drop,
                *self._sensor_arrays, *self._fixed_args, self._drag, st_i, st_f, *bufs, *self._ini.arrays,
                *self._log.arrays, *self._events_buf, *self._rows.arrays, stop_at_confirmed, solve_conflicts, rows_at_end)
            tr.set_count(int(st_i[_k.ST_N]))
            self.next_id = int(st_i[_k.ST_NEXT_ID])
            self._log.n, self._rows.n = int(st_i[_k.ST_LOG]), int(st_i[_k.ST_ROWS])
            self.rejected = int(st_i[_k.ST_REJECTED])
            self._ini.n = int(st_i[_k.ST_INI])
            self.last_time = float(st_f[_k.ST_LAST_TIME])
            pending = float(st_f[_k.ST_PENDING])
            self._pending_output_time = None if math.isnan(pending) else pending
            ev_t, ev_id, ev_code = self._events_buf
            for e in range(int(st_i[_k.ST_EVENTS])):
                code = int(ev_code[e])
                self.events.append((float(ev_t[e]), int(ev_id[e]), "confirmed" if code == _k.EVENT_CONFIRMED else
                                    f"deleted:{_REASONS[code]}"))
            if status != _k.BATCH_GROW:
                return status, k, scan_status
            # room for the scan's new tracks, and all it may log
            need = n + int(scans.start[k + 1] - scans.start[k]) if k < K else n
            tr.buffers(2 * need)
            self._log.reserve(2 * need)
            self._rows.reserve(2 * need)
            if self._two_point:
                self._ini.reserve(2 * need)
            if self._events_buf[0].shape[0] < 6 * need:
                self._events_buf = (np.empty(6 * need), np.empty(6 * need, np.int64), np.empty(6 * need, np.int64))

    @staticmethod
    def _keep_mask(scans: ScanBatch, k: int, drop: np.ndarray) -> np.ndarray:
        """Which measurements of scan k are kept (see :meth:`feed`)."""
        a, b = int(scans.start[k]), int(scans.start[k + 1])
        if scans.label is None or drop.size == 0:
            return np.ones(b - a, bool)
        lab = scans.label[a:b]
        known = (lab >= 0) & (lab < drop.size)
        return ~(known & (drop[np.where(known, lab, 0)] < scans.time_s[k]))

    def _kept(self, scans: ScanBatch, k: int, drop: np.ndarray) -> Scan | None:
        """Scan k with its kept measurements (None when it had some and none is kept)."""
        keep = self._keep_mask(scans, k, drop)
        if keep.all():
            return scans.scan(k)
        return scans.scan(k, keep) if keep.any() else None

    def _release(self, until: float) -> None:
        while self._buffer and self._buffer[0][0] <= until:
            *_, scan = heapq.heappop(self._buffer)
            if scan.time_s < self.last_time - 1e-9:
                self.rejected += 1
                continue
            self._process(scan)

    # ------------------------------------------------------------------ one scan

    def _predict(self, t: float) -> None:
        tr = self.tracks
        if len(tr) == 0:
            return
        dt = t - tr.t
        if self._spec is not None:  # one compiled call (IMM or single-model EKF)
            if self.imm:
                T = _k.imm_transition(*self._eig, dt) if self._eig is not None else flt._f64(self.imm.transition_matrix(dt))
                tr.mu, tr.xm, tr.Pm, tr.x, tr.P = _k.predict_fused(tr.mu, tr.xm, tr.Pm, dt, T, *self._spec)
            else:
                n = len(tr)
                _, _, _, tr.x, tr.P = _k.predict_fused(np.ones((n, 1)), tr.x[None], tr.P[None], dt, np.ones((n, 1, 1)), *self._spec)
        elif self.imm:
            st, tr.x, tr.P = self.imm.predict_combined(flt.IMMState(tr.mu, tr.xm, tr.Pm), dt)
            tr.mu, tr.xm, tr.Pm = st.mu, st.x, st.P
        else:
            fn = flt.ukf_predict if self.config.filter == "ukf" else flt.ekf_predict
            tr.x, tr.P = fn(tr.x, tr.P, self.models[0], dt)
        tr.t = np.full(len(tr), t)

    def _process(self, scan: Scan) -> None:
        t = float(scan.time_s)
        if self._pending_output_time is not None and t > self._pending_output_time + 1e-9:
            self._flush_output()
        self.last_time = t
        z, sigma = self._measurements(scan)
        status = None
        if self._fast:
            status = self._process_fast(scan, t, z, sigma)
            if status == _k.SCAN_DONE:
                return
        self._process_general(scan, t, z, sigma, predicted=status == _k.SCAN_CONFLICT)

    def _measurements(self, scan: Scan) -> tuple[np.ndarray, np.ndarray]:
        """The scan's measurements z (M, 3) and their sigmas (M, 3) (the sensor's nominal
        ones where the scan has none), C-contiguous float64."""
        z = scan.z
        if not (type(z) is np.ndarray and z.dtype == np.float64 and z.ndim == 2 and z.flags.c_contiguous):
            z = flt._f64(np.asarray(z, dtype=float).reshape(-1, 3))
        n_meas = z.shape[0]
        sigma = np.repeat(self._nominal[scan.sensor], n_meas, axis=0) if scan.sigma is None else flt._f64(scan.sigma)
        return z, sigma

    def _process_general(self, scan: Scan, t: float, z: np.ndarray, sigma: np.ndarray, *,
                         predicted: bool = False) -> None:
        """The general path of a scan (k-d tree gating, assignment conflicts, JPDA, UKF,
        other models), once its output rows are written and its time taken (and, when
        ``predicted``, its tracks predicted to t)."""
        cfg = self.config
        meas = self.meas[scan.sensor]
        n_meas = z.shape[0]
        if not predicted:
            self._drop_stale(t)
            self._predict(t)
        tr = self.tracks
        n = len(tr)
        assigned = pair_d2 = pair_logdet = None
        used = None
        z_pred = None
        if n and n_meas:
            z_pred, HPH = _k.radar_predict(tr.x, tr.P, meas.site_ecef_m, meas.rotation, False)
            if n * n_meas > cfg.dense_gating_limit:
                ti, mj = self._candidates(tr, meas, z, sigma, HPH, z_pred)
                dense = False
            else:
                ti = mj = _NO_PAIRS
                dense = True
            # innovation covariance with the scan's typical noise (median): the miss cost;
            # with one noise for the whole scan the gates use it, with per-measurement
            # noise each pair's own (after a loose gate with the scan's largest noise)
            g_t, g_m, g_d2, g_ld, logdet = _k.gate_pairs(z_pred, HPH, z, sigma, dense, ti, mj, self.gate)
            if g_t.size:
                gates = assoc.Gates(g_t, g_m, g_d2, g_ld)
                used = np.zeros(n_meas, dtype=bool)
                if cfg.association == "gnn":
                    assigned = assoc.gnn(n, n_meas, gates, self.gate + logdet)
                    pair_d2, pair_logdet = _k.assigned_pairs(g_t, g_m, g_d2, g_ld, assigned)
                    self._update_gnn(assigned, z, sigma, meas)
                    used[assigned[assigned >= 0]] = True
                else:
                    Rm = _diag_noise(sigma)
                    beta, beta0 = assoc.jpda_marginals(
                        n, n_meas, gates, 3, pd=np.full(n, cfg.pd), pg=cfg.gate_probability,
                        clutter_density=cfg.clutter_density,
                    )
                    assigned = self._update_jpda(gates, beta, beta0, z, Rm, meas, z_pred, HPH)
                    pair_d2, pair_logdet = _assigned_pairs(gates, assigned, n_meas)
                    # a measurement is claimed when some track takes it with probability > 1/2
                    used[gates.meas[beta > 0.5]] = True
                    z_pred = None  # the JPDA update moved tracks without a hit: predict again
        any_hit = assigned is not None
        if assigned is None:
            assigned = np.full(n, -1, np.int64)
            pair_d2 = pair_logdet = np.zeros(n)
        free = np.arange(n_meas) if used is None else np.flatnonzero(~used)
        # bookkeeping: this scan is an opportunity for the tracks of this sensor that lie
        # in its coverage (when the sensor's coverage is known), and for those it hit;
        # then M-of-N confirmation and deletion; then the surviving tracks and new ones
        # from the unclaimed measurements
        if n and z_pred is None:
            z_pred = _k.radar_h(tr.x, meas.site_ecef_m, meas.rotation, False)
        elif not n:
            z_pred = _NO_MEAS
        old_id, old_confirmed = tr.id, tr.confirmed
        newly, reason, *arrays = _k.end_scan(
            t, self._bit[scan.sensor], assigned, pair_d2, pair_logdet, z_pred, self._cover[scan.sensor],
            *self._gains[scan.sensor], cfg.confirm_m, cfg.confirm_n, cfg.delete_misses, cfg.max_coast_s, cfg.max_position_sigma_m,
            cfg.min_altitude_m, self._earth,
            tr.id, tr.t, tr.x, tr.P, tr.mu, tr.xm, tr.Pm, tr.confirmed, tr.history, tr.opportunities, tr.misses,
            tr.last_update, tr.updates, tr.sensors, tr.score,
            z, sigma, _NO_PAIRS if self._two_point else free, meas.site_ecef_m, meas.rotation, self._prior_mean,
            self._prior_var,
            cfg.init_speed_sigma_mps**2, cfg.init_vertical_speed_sigma_mps**2, self._mu0, self.next_id, cfg.confirm_m <= 1,
        )
        tr.set_arrays(arrays)
        labels = index = None
        if n:
            hit = assigned >= 0
            if any_hit and hit.any():
                labels, index = _labels_and_index(scan, n_meas)
                self._log.append(int(hit.sum()), t, old_id[hit], index[assigned[hit]], labels[assigned[hit]])
            if newly.any():
                for tid in old_id[newly]:
                    self.events.append((t, int(tid), "confirmed"))
            if reason.any():
                for k in np.flatnonzero((reason > 0) & old_confirmed):
                    self.events.append((t, int(old_id[k]), f"deleted:{_REASONS[reason[k]]}"))
        m = free.size
        if labels is None and (self._two_point or m):
            labels, index = _labels_and_index(scan, n_meas)
        if self._two_point:
            self._two_point_initiation(t, scan.sensor, z[free], sigma[free], index[free], labels[free])
        elif m:
            ids = np.arange(self.next_id, self.next_id + m, dtype=np.int64)
            self.next_id += m
            if cfg.confirm_m <= 1:
                for tid in ids:
                    self.events.append((t, int(tid), "confirmed"))
            self._log.append(m, t, ids, index[free], labels[free])
        self._pending_output_time = t

    def _two_point_initiation(self, t: float, sensor: int, z: np.ndarray, sigma: np.ndarray, index: np.ndarray,
                              labels: np.ndarray) -> None:
        """The general path's two-point initiation of a scan's unclaimed measurements
        (:func:`_tracker_kernels.two_point_initiate`): the new tracks appended with two
        hits, score 0, and, as a single-point track, uniform model probabilities and
        every model's state the combined one; both their measurements logged (the
        initiator's first)."""
        cfg = self.config
        meas = self.meas[sensor]
        pos, cov = _k.meas_to_ecef(z, sigma, meas.site_ecef_m, meas.rotation)
        ini = self._ini
        ini.n, q, t_a, bit_a, index_a, label_a, x, P = _k.two_point_initiate(
            t, pos, cov, self._bit[sensor], index, labels, cfg.initiation_max_speed_mps, cfg.initiation_max_age_s,
            ini.n, *ini.reserve(z.shape[0]), self._prior_mean, self._prior_var)
        m = q.size
        if not m:
            return
        ids = np.arange(self.next_id, self.next_id + m, dtype=np.int64)
        self.next_id += m
        window = (1 << cfg.confirm_n) - 1
        models = len(self.models)
        self.tracks.extend(
            {"id": ids, "t": np.full(m, t), "x": x, "P": P, "mu": np.tile(self._mu0, (m, 1)),
             "confirmed": np.full(m, self._confirm_new), "history": np.full(m, 3 & window, np.int64),
             "opportunities": np.full(m, 2, np.int64), "misses": np.zeros(m, np.int64), "last_update": np.full(m, t),
             "updates": np.full(m, 2, np.int64), "sensors": bit_a | self._bit[sensor], "score": np.zeros(m)},
            np.repeat(x[None], models, axis=0), np.repeat(P[None], models, axis=0))
        if self._confirm_new:
            for tid in ids.tolist():
                self.events.append((t, tid, "confirmed"))
        self._log.append(2 * m, np.stack((t_a, np.full(m, t)), axis=1).ravel(), np.repeat(ids, 2),
                         np.stack((index_a, index[q]), axis=1).ravel(), np.stack((label_a, labels[q]), axis=1).ravel())

    def _process_fast(self, scan: Scan, t: float, z: np.ndarray, sigma: np.ndarray) -> int:
        """:meth:`_process` by :func:`_tracker_kernels.process_scans` (a batch of this one
        scan, its rows left for later, an assignment conflict left to the general path);
        returns the scan's status (nothing is done unless it is SCAN_DONE, but the
        deletion of stale tracks and, for SCAN_CONFLICT, the prediction)."""
        n_meas = z.shape[0]
        labels, index = _labels_and_index(scan, n_meas)
        one_t, one_sensor, one_start = self._one_scan
        one_t[0], one_sensor[0], one_start[1] = t, scan.sensor, n_meas
        batch = ScanBatch(time_s=one_t, sensor=one_sensor, start=one_start, z=z, sigma=sigma, label=labels, index=index)
        status, _, scan_status = self._run_compiled(batch, 0, t, _NO_DROP, sigma, labels, False, solve_conflicts=False,
                                                    rows_at_end=False)
        return _k.SCAN_DONE if status == _k.BATCH_DONE else scan_status

    def _drop_stale(self, t: float) -> None:
        """Delete, before predicting them, the tracks that would coast too long."""
        tr = self.tracks
        stale = (t - tr.last_update) > self.config.max_coast_s
        if stale.any():
            for k in np.flatnonzero(stale & tr.confirmed):
                self.events.append((float(tr.last_update[k] + self.config.max_coast_s), int(tr.id[k]), "deleted:coasted"))
            tr.keep(~stale)

    def _candidates(self, tr: _Tracks, meas, z, sigma, HPH, z_pred) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs from a k-d tree: measurement positions within a radius that
        bounds each track's gate (largest standard deviation of position and noise)."""
        pos, _ = _meas_to_ecef(meas, z, sigma)
        lam = np.linalg.eigvalsh(tr.P[:, 0:3, 0:3])[:, -1]
        rng = z_pred[:, 0]
        noise = np.max(np.stack([sigma[:, 0].max() * np.ones(len(tr)), rng * sigma[:, 1].max(), rng * sigma[:, 2].max()]), axis=0)
        radius = math.sqrt(self.gate) * np.sqrt(lam + noise**2) * 1.05 + 1.0
        return assoc.candidate_pairs(tr.x[:, 0:3], radius, pos)

    def _update_gnn(self, assigned, z, sigma, meas) -> None:
        tr = self.tracks
        k = np.flatnonzero(assigned >= 0)
        if k.size == 0:
            return
        # young tracks (an uncertain velocity: the prediction may be far from the truth)
        # get iterated updates, the others plain ones
        young = tr.updates[k] < 3
        if self.config.filter == "ekf":  # in place, one compiled call
            iters = np.where(young, self.config.iekf_iterations, 1).astype(np.int64)
            _k.update_rows(k, iters, assigned[k], z, sigma, tr.mu, tr.xm, tr.Pm, tr.x, tr.P, self.imm is not None,
                           meas.site_ecef_m, meas.rotation)
            return
        for sel, iters in ((k[young], self.config.iekf_iterations), (k[~young], 1)):
            if sel.size == 0:
                continue
            zk, Rk = z[assigned[sel]], _diag_noise(sigma[assigned[sel]])
            if self.imm:
                st = flt.IMMState(tr.mu[sel], tr.xm[:, sel], tr.Pm[:, sel])
                st, _, tr.x[sel], tr.P[sel] = self.imm.update_combined(st, zk, meas, Rk, iterations=iters)
                tr.mu[sel], tr.xm[:, sel], tr.Pm[:, sel] = st.mu, st.x, st.P
            elif self.config.filter == "ukf":
                tr.x[sel], tr.P[sel], _ = flt.ukf_update(tr.x[sel], tr.P[sel], zk, meas, Rk)
            else:
                tr.x[sel], tr.P[sel], _ = flt.ekf_update(tr.x[sel], tr.P[sel], zk, meas, Rk, iterations=iters)

    def _update_jpda(self, gates, beta, beta0, z, Rm, meas, z_pred, HPH) -> np.ndarray:
        """JPDA update (combined innovation, Bar-Shalom's PDA covariance); returns the most
        probable measurement per track (-1 when 'none' is the most probable), for the
        hit/miss bookkeeping. The gain uses each track's covariance with the sensor's
        typical noise (the scan's median measurement covariance)."""
        tr = self.tracks
        n = len(tr)
        best = np.full(n, -1, np.int64)
        if gates.track.size == 0:
            return best
        # best measurement per track (for hit/miss bookkeeping)
        order = np.lexsort((-beta, gates.track))
        first = np.concatenate([[True], gates.track[order][1:] != gates.track[order][:-1]])
        top = order[first]
        take = beta[top] > beta0[gates.track[top]]
        best[gates.track[top][take]] = gates.meas[top][take]
        k = np.unique(gates.track)
        H = meas.jacobian(tr.x[k], self.d)
        Sk = HPH[k] + np.median(Rm, axis=0)[None]
        PHt = tr.P[k] @ np.swapaxes(H, 1, 2)
        K = np.swapaxes(np.linalg.solve(Sk, np.swapaxes(PHt, 1, 2)), 1, 2)
        pos = np.searchsorted(k, gates.track)
        nu = meas.residual(z[gates.meas], z_pred[gates.track])
        nu_comb = np.zeros((k.size, 3))
        np.add.at(nu_comb, pos, beta[:, None] * nu)
        spread = np.zeros((k.size, 3, 3))
        np.add.at(spread, pos, beta[:, None, None] * nu[:, :, None] * nu[:, None, :])
        spread -= nu_comb[:, :, None] * nu_comb[:, None, :]
        x = tr.x[k] + np.einsum("nij,nj->ni", K, nu_comb)
        Pc = tr.P[k] - K @ Sk @ np.swapaxes(K, 1, 2)
        b0 = beta0[k][:, None, None]
        P = b0 * tr.P[k] + (1 - b0) * Pc + K @ spread @ np.swapaxes(K, 1, 2)
        tr.x[k], tr.P[k] = x, flt.symmetrize(P)
        return best

    # ------------------------------------------------------------------ output

    def _flush_output(self) -> None:
        """Write the output rows of the confirmed tracks at the last scan's time."""
        if self._pending_output_time is None:
            return
        n, arrays = self._tracks.current()
        rows = self._rows
        rows.n += _k.write_rows(self._pending_output_time, n, self._drag, arrays[0], arrays[2], arrays[3], arrays[7],
                                arrays[11], arrays[14], rows.n, *rows.reserve(n))
        self._pending_output_time = None

    def output(self) -> TrackOutput:
        t, tid, x, P, updated, score, inv_beta, inv_beta_cov = self._rows.used()
        log_t, log_id, log_index, log_label = self._log.used()
        return TrackOutput(
            time_s=t, track_id=tid, state=x, cov=P, updated=updated, score=score, log_time_s=log_t, log_track_id=log_id,
            log_index=log_index, log_label=log_label, events=list(self.events), rejected_scans=self.rejected,
            inv_beta=inv_beta, inv_beta_cov=inv_beta_cov,
        )


_REASONS = ("", "ground", "misses", "coasted", "diverged", "tentative")
_NO_DROP = np.empty(0)  # process_scans' drop times when no measurement is left out
_NO_PAIRS = np.empty(0, np.int64)
_NO_MEAS = np.empty((0, 3))


def _labels_and_index(scan: Scan, n_meas: int) -> tuple[np.ndarray, np.ndarray]:
    """A scan's measurement labels (-1: none given) and input indices (their positions
    when none given), as int64 arrays of ``n_meas``."""
    labels = np.full(n_meas, -1, np.int64) if scan.label is None else np.asarray(scan.label, np.int64)
    index = np.arange(n_meas, dtype=np.int64) if scan.index is None else np.asarray(scan.index, np.int64)
    return labels, index


def _diag_noise(sigma: np.ndarray) -> np.ndarray:
    """Diagonal measurement covariances (M, 3, 3) of per-measurement sigmas (M, 3)."""
    R = np.zeros((sigma.shape[0], 3, 3))
    R[:, 0, 0], R[:, 1, 1], R[:, 2, 2] = sigma[:, 0] ** 2, sigma[:, 1] ** 2, sigma[:, 2] ** 2
    return R


def _assigned_pairs(gates: assoc.Gates, assigned: np.ndarray, n_meas: int) -> tuple[np.ndarray, np.ndarray]:
    """d^2 and ln|S| of each track's assigned pair (zeros where none)."""
    d2 = np.zeros(assigned.shape[0])
    logdet = np.zeros(assigned.shape[0])
    k = np.flatnonzero(assigned >= 0)
    if k.size:
        keys = gates.track.astype(np.int64) * n_meas + gates.meas
        order = np.argsort(keys, kind="stable")
        at = order[np.searchsorted(keys[order], k * n_meas + assigned[k])]
        d2[k], logdet[k] = gates.d2[at], gates.logdet[at]
    return d2, logdet


def track_all(sensors: list[SensorInfo], scans, config: TrackerConfig | None = None) -> TrackOutput:
    """Run a tracker over an iterable of :class:`Scan` (arrival order) and return its output."""
    tracker = Tracker(sensors, config)
    for scan in scans:
        tracker.add_scan(scan)
    return tracker.finish()

