"""Battle management: threat evaluation and engagement planning from the track picture.

Every ``PLAN_PERIOD_S`` seconds in which tracks were updated the battle manager takes the
latest state of every confirmed track and

1. classifies it from kinematics (ballistic or air-breathing);
2. for ballistic tracks predicts the impact point, its 95 % ellipse and time to impact
   (the mean state flown with its state-transition matrix, the covariance carried to
   the ground linearly) and estimates the launch point (the
   free-flight arc flown back to the ground), the probability of hitting each defended
   asset and a threat value (sum of asset value x probability); for air-breathing tracks
   it extrapolates the velocity
   and takes the asset passed closest (within its radius plus ``AIR_THREAT_MARGIN_M``);
3. computes the engagement windows of every battery against every threat along the
   predicted path (batched);
4. assigns rounds to threats by exact weapon-target assignment (:mod:`hoplon.core.wta`;
   a battery's rounds are one weapon type, so the instances are small): the rounds on offer are each battery's remaining rounds,
   at most ``salvo`` per threat it can reach, and a "hold" pseudo-target takes the rest;
   a battery engages only threats that put at least ``MIN_ENGAGE_VALUE`` of the assets it
   defends at risk (any asset if it defends none); shots already committed against a
   threat lower its value by their kill probabilities (dynamic WTA), and a later shot
   must intercept after the earlier ones are assessed (shoot-look-shoot across tiers);
5. applies the doctrine: shoot-look-shoot fires one round when the window leaves time
   for a second intercept after the kill assessment delay, otherwise a salvo.

A plan whose launch comes before the next cycle is committed (the battery's inventory
falls and the engine launches its rounds), unless an earlier shot at the same track
still awaits its kill assessment; any other plan is revised at the next cycle. A
committed shot lowers the threat's value by its kill probability until it is assessed:
assessed killed, the track is engaged no more; assessed surviving, the shot no longer
counts (:meth:`BattleManager.assessed`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
import pyarrow as pa

from hoplon.core.ballistic import STATUS_IMPACT, FlightSamples, sample_flight
from hoplon.core.earth import WGS84, earth_model
from hoplon.core.engagement import FlyoutParameters, _flyout_table, _windows
from hoplon.core.frames import (
    _ecef_to_geodetic_array,
    ecef_to_geodetic,
    geodetic_to_ecef,
)
from hoplon.core.threat import (
    _BEYOND_A_POLE,
    _NOT_DEFINITE,
    _PREDICTION_TOL,
    _UNIT_NORMALS,
    _UNIT_NORMALS_MAX,
    CLASS_BALLISTIC,
    MAX_INV_BETA,
    PREDICTION_RTOL,
    _augment,
    _clip,
    _disc_probabilities,
    _linearised_flights,
    _speed_and_class,
    drag_prior,
    estimate_launch_point,
)
from hoplon.core.wta import solve_exact
from hoplon.sim.events import Event

__all__ = ["BattleManager", "ENGAGEMENTS_SCHEMA", "PLAN_PERIOD_S", "THREATS_SCHEMA"]

PLAN_PERIOD_S = 10.0
"""Battle-management cycle, s."""
PATH_STEP_S = 2.0
"""Sampling step of predicted threat paths for engagement windows, s."""
MIN_ENGAGE_VALUE = 1.0
"""A battery engages a threat only when the expected value at risk among the assets it
defends (sum of value x probability of hit) is at least this (asset values are 10-100)."""
WTA_MAX_COLUMNS = 50_000
WTA_SAFETY_TIME_LIMIT_S = 30.0
MAX_PREDICT_SPEED_SIGMA_MPS = 300.0
"""Tracks with a vaguer velocity get no impact prediction yet (their ellipse would span
hundreds of km and a linearisation over it would mean little)."""
PREDICT_MAX_TIME_S = 1800.0
AIR_THREAT_MARGIN_M = 5000.0
AIR_HORIZON_S = 1800.0
FRESH_S = 15.0
"""A track row older than this at a planning time is not used."""

ENGAGEMENTS_SCHEMA = pa.schema(
    [
        ("planned_at_s", pa.float64()),
        ("track_id", pa.int64()),
        ("object_id", pa.string()),  # the true object of the track (analysis only)
        ("battery_id", pa.string()),
        ("interceptor_type", pa.string()),
        ("rounds", pa.int64()),
        ("doctrine", pa.string()),  # shoot-look-shoot (one round, look) or shoot-shoot (salvo)
        ("launch_time_s", pa.float64()),
        ("intercept_time_s", pa.float64()),
        ("intercept_lat_deg", pa.float64()),
        ("intercept_lon_deg", pa.float64()),
        ("intercept_alt_m", pa.float64()),
        ("window_open_s", pa.float64()),
        ("window_close_s", pa.float64()),
        ("pk", pa.float64()),
        ("committed", pa.bool_()),  # its launch time came; the last revision of the plan
        ("engagement_id", pa.int64()),  # committed engagements: the interceptors' reference
    ],
    metadata={"hoplon_table": "engagements", "schema_version": "2"},
)

THREATS_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        ("track_id", pa.int64()),
        ("object_id", pa.string()),
        ("classification", pa.string()),
        ("impact_time_s", pa.float64()),  # predicted, absolute (ballistic only)
        ("impact_time_sigma_s", pa.float64()),
        ("impact_lat_deg", pa.float64()),
        ("impact_lon_deg", pa.float64()),
        ("ellipse_semi_major_m", pa.float64()),  # 95 %
        ("ellipse_semi_minor_m", pa.float64()),
        ("ellipse_major_azimuth_deg", pa.float64()),
        ("launch_lat_deg", pa.float64()),  # estimated: the free-flight arc back to the ground
        ("launch_lon_deg", pa.float64()),
        ("launch_time_s", pa.float64()),
        ("launch_ellipse_semi_major_m", pa.float64()),  # 95 %
        ("launch_ellipse_semi_minor_m", pa.float64()),
        ("threatened_asset", pa.string()),
        ("asset_probability", pa.float64()),
        ("threat_value", pa.float64()),
    ],
    metadata={"hoplon_table": "threat_evaluations", "schema_version": "1"},
)


@dataclass
class _Batteries:
    ids: list[str]
    types: list[str]
    ecef: np.ndarray
    params: FlyoutParameters
    flyout: np.ndarray  # (9, B) the params as engagement._windows takes them
    pk: np.ndarray  # (3, B) single-shot kill probability against a ballistic threat, a cruise missile, a drone
    rounds: np.ndarray
    salvo: np.ndarray
    look: np.ndarray  # shoot-look-shoot
    assess_s: np.ndarray
    defended: list[np.ndarray]  # indices of the assets each battery defends, ascending (empty: any)

    @classmethod
    def of(cls, world) -> _Batteries:
        sc = world.scenario
        cat = sc.threat_catalog.section("interceptor")
        bats = sc.batteries
        types = [cat[b.type] for b in bats]

        def arr(name):
            return np.array([getattr(t, name) for t in types], dtype=float)

        ecef = np.atleast_2d(geodetic_to_ecef(np.array([b.lat_deg for b in bats]), np.array([b.lon_deg for b in bats]),
                                              np.array([b.alt_m for b in bats]), earth=world.earth)) if bats else np.empty((0, 3))
        names = list(world.assets.name)
        params = FlyoutParameters(*(arr(n) for n in ("burnout_speed_mps", "burnout_time_s", "coast_decay_time_s",
                                                     "max_flight_time_s", "min_range_m", "max_range_m", "min_altitude_m",
                                                     "max_altitude_m", "launch_delay_s")))
        return cls(
            ids=[b.id for b in bats], types=[b.type for b in bats], ecef=np.ascontiguousarray(ecef), params=params,
            flyout=_flyout_table(params, len(bats)),
            pk=np.array([[float(dict(t.pk).get(c, 0.0)) for t in types] for c in _PK_CLASSES]).reshape(3, len(types)),
            rounds=np.array([(b.launchers or t.launchers) * (b.rounds_per_launcher or t.rounds_per_launcher)
                             for b, t in zip(bats, types)], dtype=np.int64),
            salvo=np.array([b.doctrine.salvo for b in bats], dtype=np.int64),
            look=np.array([b.doctrine.mode == "shoot-look-shoot" for b in bats]),
            assess_s=np.array([b.doctrine.kill_assessment_delay_s for b in bats], dtype=float),
            defended=[np.array(sorted({names.index(a) for a in b.defends}), dtype=np.int64) for b in bats],
        )


_PK_CLASSES = ("ballistic", "cruise_missile", "drone")
"""The threat classes of :attr:`_Batteries.pk`'s rows."""
CRUISE_MIN_SPEED_MPS = 150.0
"""An air-breathing track faster than this is taken for a cruise missile, else a drone."""


class _Picture(NamedTuple):
    """The fresh confirmed tracks of one cycle, one row each (J rows)."""

    track_id: np.ndarray  # (J,) int
    time_s: np.ndarray  # (J,) time of each track's state, s
    state: np.ndarray  # (J, 6) ECEF position (m) and Earth-relative velocity (m/s)
    cov: np.ndarray  # (J, 6, 6)
    inv_beta: np.ndarray  # (J,) drag state 1/beta, m^2/kg (NaN: none)
    inv_beta_cov: np.ndarray  # (J, 7) its covariance row over (position, velocity, 1/beta)
    object_id: list[str]  # the true object of each track (analysis only; "" for none)


class _Evaluation(NamedTuple):
    """Threat evaluation of a picture's J rows (:func:`_evaluate`)."""

    rows: list[dict] | None  # the threat evaluations table's rows (None: not asked for)
    cls: np.ndarray  # (J,) CLASS_BALLISTIC or CLASS_AIR_BREATHING
    probs: np.ndarray  # (J, A) probability of hitting each asset
    values: np.ndarray  # (J,) threat value: sum over assets of value x probability
    kind: np.ndarray  # (J,) the row of _Batteries.pk of its class (_PK_CLASSES)
    inv_beta: np.ndarray  # (J,) drag flown by ballistic rows without a prediction, m^2/kg
    flown: np.ndarray  # (P,) the rows with a prediction, ascending
    flights: FlightSamples | None  # their paths: their predictions' mean states' flights, without their end (None without)


@dataclass
class _Plan:
    rows: list[dict] = field(default_factory=list)  # the engagements table: committed, then pending
    pending: dict[tuple[int, str], dict] = field(default_factory=dict)  # (track, battery) -> plan
    shots: dict[int, list[dict]] = field(default_factory=dict)  # track -> its committed engagements
    announced: set[tuple[int, str]] = field(default_factory=set)  # (track, battery) with an event


class BattleManager:
    """Threat evaluation and engagement planning, one cycle at a time (module notes).

    The engine calls :meth:`cycle` every ``PLAN_PERIOD_S`` with the confirmed tracks; the
    engagements whose launch comes before the next cycle are committed and returned (the
    engine flies their interceptors). :meth:`assessed` tells the manager the outcome of
    an engagement's kill assessment: a track assessed killed is engaged no more; one
    assessed surviving loses the committed shots' credit and can be engaged again.
    """

    def __init__(self, world, events: list[Event], *, launch_points: bool = True, evaluations: bool = True) -> None:
        self.world = world
        self.events = events
        self.launch_points = launch_points  # estimate where each ballistic track came from
        # keep the threat evaluations table's rows and announce the classifications (a
        # replication that keeps neither table nor events builds neither: every
        # decision is the same)
        self.keep_evaluations = evaluations
        self.batteries = _Batteries.of(world)
        self.drag_prior = _drag_prior(world)
        assets = world.assets
        self.asset_ecef = np.atleast_2d(geodetic_to_ecef(assets.lat_deg, assets.lon_deg, assets.alt_m,
                                                         earth=world.earth))  # (A, 3), m
        self.plan = _Plan()
        self.evaluations: list[dict] = []
        self.classified: set[int] = set()
        self.killed_tracks: set[int] = set()  # assessed killed
        self._next_engagement = 1

    def cycle(self, now: float, snap, label) -> list[dict]:
        """One planning cycle at ``now`` (s) over ``snap`` (:class:`ConfirmedTracks`);
        ``label(track_id)`` names the track's true object (analysis only). Returns the
        engagements committed (launching before ``now + PLAN_PERIOD_S``)."""
        pic = self._picture(now, snap, label) if snap is not None and len(snap.id) else None
        if pic is not None:
            world = self.world
            ev = _evaluate(world, pic, world.assets, self.asset_ecef, launch_points=self.launch_points,
                           drag_prior=self.drag_prior, rows=self.keep_evaluations)
            if ev.rows is not None:
                self.evaluations += ev.rows
                for r, tid in enumerate(pic.track_id.tolist()):
                    if tid not in self.classified:
                        self.classified.add(tid)
                        self._announce_classification(tid, pic, r, ev.rows[r])
            if len(self.batteries.ids):
                _plan_cycle(world, self.plan, self.batteries, pic, ev, now, self.events)
        return self._commit(now + PLAN_PERIOD_S)

    def _picture(self, now: float, snap, label) -> _Picture | None:
        """The tracks of ``snap`` updated within ``FRESH_S`` of ``now`` and not assessed
        killed (None if there are none)."""
        fresh = snap.last_update_s >= now - FRESH_S
        if self.killed_tracks:
            fresh &= np.array([t not in self.killed_tracks for t in snap.id.tolist()], dtype=bool)
        columns = (snap.id, snap.time_s, snap.state, snap.cov, snap.inv_beta, snap.inv_beta_cov)
        if not fresh.all():
            rows = np.flatnonzero(fresh)
            if rows.size == 0:
                return None
            columns = tuple(c[rows] for c in columns)
        return _Picture(*columns, [label(t) for t in columns[0].tolist()])

    def _announce_classification(self, tid: int, pic: _Picture, r: int, row: dict) -> None:
        geo = ecef_to_geodetic(pic.state[r, :3], earth=self.world.earth)
        detail = f"track {tid}: {row['classification']}"
        if row["classification"] == "ballistic" and math.isfinite(row["impact_lat_deg"]):
            detail += (f"; predicted impact {row['impact_lat_deg']:.3f} N {row['impact_lon_deg']:.3f} E "
                       f"(95 % ellipse {row['ellipse_semi_major_m'] / 1e3:.1f} x {row['ellipse_semi_minor_m'] / 1e3:.1f} km)")
        if row["threatened_asset"]:
            detail += f", threatens {row['threatened_asset']} (p = {row['asset_probability']:.2f})"
        if math.isfinite(row["launch_lat_deg"]):
            detail += (f"; launched from about {row['launch_lat_deg']:.2f} N {row['launch_lon_deg']:.2f} E "
                       f"(+/- {row['launch_ellipse_semi_major_m'] / 1e3:.0f} km)")
        self.events.append(Event(row["time_s"], "classified", row["object_id"] or f"track-{tid}",
                                 float(geo.lat_deg), float(geo.lon_deg), float(geo.alt_m), detail))

    def _commit(self, before: float) -> list[dict]:
        """Engagements launching before ``before`` become the plan of record."""
        plan, batteries = self.plan, self.batteries
        out = []
        for key in sorted(plan.pending):
            row = plan.pending[key]
            if row["launch_time_s"] > before:
                continue
            if any(shot["_unassessed"] > 0 for shot in plan.shots.get(key[0], [])):
                continue  # look before shooting again
            row["committed"] = True
            row["engagement_id"] = self._next_engagement
            self._next_engagement += 1
            row["_open"] = row["rounds"]  # interceptors not yet assessed surviving
            row["_unassessed"] = row["rounds"]
            i = batteries.ids.index(row["battery_id"])
            if row["rounds"] > batteries.rounds[i]:
                raise AssertionError("inventory would go negative")
            batteries.rounds[i] -= row["rounds"]
            plan.rows.append(row)
            plan.shots.setdefault(key[0], []).append(row)
            del plan.pending[key]
            out.append(row)
        return out

    def assessed(self, engagement: dict, killed: bool) -> None:
        """The kill assessment of one interceptor of ``engagement`` (a committed row)."""
        tid = engagement["track_id"]
        engagement["_unassessed"] -= 1
        if killed:
            self.killed_tracks.add(tid)
            for key in [k for k in self.plan.pending if k[0] == tid]:
                del self.plan.pending[key]
        else:
            engagement["_open"] -= 1

    def tables(self) -> tuple[pa.Table, pa.Table]:
        """Threat evaluations and engagements (committed, then plans never launched)."""
        rows = self.plan.rows + [self.plan.pending[k] for k in sorted(self.plan.pending)]
        eng = pa.Table.from_pylist(sorted(rows, key=lambda r: (r["launch_time_s"], r["track_id"], r["battery_id"])),
                                   schema=ENGAGEMENTS_SCHEMA) if rows else ENGAGEMENTS_SCHEMA.empty_table()
        thr = (pa.Table.from_pylist(self.evaluations, schema=THREATS_SCHEMA) if self.evaluations
               else THREATS_SCHEMA.empty_table())
        return thr, eng


def _drag_prior(world) -> tuple[float, float] | None:
    """Mean and sigma of 1/beta for a ballistic track whose drag is unobserved: the
    scenario catalog's ballistic re-entry vehicles (core.threat.drag_prior); None without."""
    cat = world.scenario.threat_catalog.section("ballistic")
    prior = drag_prior([t.rv_beta_kg_m2 for t in cat.values()])
    return prior if math.isfinite(prior[0]) else None


def _evaluate(world, pic: _Picture, assets, asset_ecef: np.ndarray, *, launch_points: bool = True,
              drag_prior=None, rows: bool = True) -> _Evaluation:
    """Classification, impact prediction, asset probabilities, value and path per row (and,
    with ``launch_points``, the estimated launch point: reported, never used to decide).
    ``asset_ecef`` (A, 3): the assets' ECEF positions (m); ``drag_prior`` (mean, sigma) of
    1/beta: the threat class's (:func:`_drag_prior`). ``rows`` False: no table rows (None)
    and no launch points, the rest the same."""
    n = pic.time_s.size
    x = pic.state
    n_assets = len(assets)
    prior = (math.nan, math.nan) if drag_prior is None else drag_prior
    cls, kind, ball, impact, probs, top, inv_beta, flights, failure = _evaluate_arrays(
        pic.time_s, x, pic.cov, pic.inv_beta, pic.inv_beta_cov, float(prior[0]), float(prior[1]),
        earth_model(world.earth).params(), _PREDICTION_TOL, assets.lat_deg, assets.lon_deg, assets.radius_m, asset_ecef,
        assets.value, _UNIT_NORMALS, _UNIT_NORMALS_MAX, WGS84.a_m, WGS84.e2)
    if failure == _BEYOND_A_POLE:
        raise ValueError("asset_lat_deg must lie in [-90, 90] degrees")
    if failure == _NOT_DEFINITE:
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    flights = FlightSamples(*flights, None) if ball.size else None
    values = probs @ assets.value if n_assets else np.zeros(n)
    if not rows:
        return _Evaluation(None, cls, probs, values, kind, inv_beta, ball, flights)
    ballistic = cls == CLASS_BALLISTIC
    launch = np.full((len(_LAUNCH_FIELDS), n), np.nan)
    if ball.size and launch_points:
        # without the drag state: unobserved in midcourse, and flown backwards through the
        # dense air its spread grows without bound (negative drag)
        origin = estimate_launch_point(x[ball], pic.cov[ball], earth=world.earth, max_time_s=PREDICT_MAX_TIME_S)
        _fill(launch, ball, origin, [origin.lat_deg, origin.lon_deg, pic.time_s[ball] - origin.time_s,
                                     origin.semi_major_m, origin.semi_minor_m])
    threatened, p_threatened = [""] * n, [0.0] * n
    for k in np.flatnonzero(top >= 0).tolist():
        threatened[k], p_threatened[k] = str(assets.name[top[k]]), float(probs[k, top[k]])
    columns = [pic.time_s.tolist(), pic.track_id.tolist(), pic.object_id,
               ["ballistic" if b else "air-breathing" for b in ballistic.tolist()], *impact.tolist(), *launch.tolist(),
               threatened, p_threatened, values.tolist()]
    rows = [dict(zip(_EVALUATION_FIELDS, r)) for r in zip(*columns)]
    return _Evaluation(rows, cls, probs, values, kind, inv_beta, ball, flights)


_WGS84_A_M, _WGS84_E2 = WGS84.a_m, WGS84.e2
"""The ellipsoid of kinematic classification (threat.classify_kinematics)."""


@numba.njit(cache=True)
def _kinematics(x, cov) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of states ``x`` (J, 6) with covariances ``cov`` (J, 6, 6): the kinematic
    class (threat.classify_kinematics), the threat class's row of _Batteries.pk (an
    air-breathing threat faster than CRUISE_MIN_SPEED_MPS is a cruise missile) and
    whether it is ballistic with a velocity known well enough to predict its impact (the
    square root of the trace of its covariance, summed left to right as numpy sums it, at
    most MAX_PREDICT_SPEED_SIGMA_MPS)."""
    n = x.shape[0]
    cls, kind, predictable = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.bool_)
    for i in range(n):
        speed, cls[i] = _speed_and_class(x[i], _WGS84_A_M, _WGS84_E2)
        kind[i] = 0 if cls[i] == CLASS_BALLISTIC else (1 if speed > CRUISE_MIN_SPEED_MPS else 2)  # _PK_CLASSES
        sigma = math.sqrt(cov[i, 3, 3] + cov[i, 4, 4] + cov[i, 5, 5])
        predictable[i] = cls[i] == CLASS_BALLISTIC and sigma <= MAX_PREDICT_SPEED_SIGMA_MPS
    return cls, kind, predictable


@numba.njit(cache=True)
def _evaluate_arrays(time_s, x, cov, inv_beta, inv_beta_cov, prior_mean, prior_sigma, p, tol, asset_lat_deg,
                     asset_lon_deg, asset_radius_m, asset_ecef, asset_value, normals, farthest, a, e2):
    """:func:`_evaluate`'s compiled steps over the picture's rows (``time_s`` (J,), states
    ``x`` (J, 6), ``cov`` (J, 6, 6), drag states ``inv_beta`` (J,) with their covariance
    rows (J, 7); the class's drag prior, NaN for none): the class and kind
    (:func:`_kinematics`); the rows with an impact prediction (ascending) and its fields
    (the _IMPACT_FIELDS, (7, J), NaN without one), as threat.predict_impact makes them
    (Earth parameters ``p``, tolerances ``tol``, flights sampled every PATH_STEP_S); each
    row's probability of hitting each asset (J, A): a prediction's as
    threat.asset_hit_probability computes it (``normals``, ``farthest``: its sample; ``a``,
    ``e2``: its ellipsoid), an air-breathing row's by :func:`_air_threat`; the asset each
    row threatens most (the first largest value x probability; -1 where every probability
    is 0); the drag (1/beta, m^2/kg) the paths of ballistic rows without a prediction fly
    (0 for the others); the predictions' flights (the FlightSamples' fields but its end, of
    threat._linearised_flights' first array)
    and the failure of the hit probabilities (threat._disc_probabilities)."""
    n, n_assets = time_s.size, asset_radius_m.size
    cls, kind, predictable = _kinematics(x, cov)
    ball = np.flatnonzero(predictable)
    m = ball.size
    # threat._augmented's arrays of the predicted rows
    xb, Pb, ib, ib_cov = np.empty((m, 6)), np.empty((m, 6, 6)), np.empty(m), np.empty((m, 7))
    for r in range(m):
        xb[r] = x[ball[r], :6]
        Pb[r] = cov[ball[r]]
        ib[r] = inv_beta[ball[r]]
        ib_cov[r] = inv_beta_cov[ball[r]]
    xa, Pa = np.empty((m, 7)), np.empty((m, 7, 7))
    _augment(xb, Pb, ib, ib_cov, np.full(m, prior_mean), np.full(m, prior_sigma), xa, Pa)
    flights, ground = _linearised_flights(xa, Pa, False, p, tol, np.full(m, PREDICT_MAX_TIME_S), PATH_STEP_S)
    time_to_go, time_sigma, lat_deg, lon_deg, _, cov_en, semi_major, semi_minor, azimuth = ground
    valid = flights[0][5] == STATUS_IMPACT
    impact = np.full((len(_IMPACT_FIELDS), n), np.nan)
    for r in range(m):
        if valid[r]:
            j = ball[r]
            impact[0, j] = time_s[j] + time_to_go[r]
            impact[1, j], impact[2, j], impact[3, j] = time_sigma[r], lat_deg[r], lon_deg[r]
            impact[4, j], impact[5, j], impact[6, j] = semi_major[r], semi_minor[r], azimuth[r]
    probs = np.zeros((n, n_assets))
    failure = 0
    if n_assets and m:
        hits = np.zeros((m, n_assets))
        failure = _disc_probabilities(lat_deg, lon_deg, cov_en, valid, asset_lat_deg, asset_lon_deg, asset_radius_m,
                                      normals, farthest, a, e2, hits)
        for r in range(m):
            probs[ball[r]] = hits[r]
    air = np.flatnonzero(cls != CLASS_BALLISTIC)
    if air.size and n_assets:
        xs = np.empty((air.size, 6))
        for r in range(air.size):
            xs[r] = x[air[r], :6]
        near = _air_threat(xs, asset_ecef, asset_radius_m)
        for r in range(air.size):
            probs[air[r]] = near[r]
    top = np.full(n, -1, np.int64)
    for j in range(n):  # np.argmax(probs * asset_value, axis=1) where probs.max(axis=1) > 0 (no NaN)
        best, best_k, hit = -math.inf, 0, False
        for k in range(n_assets):
            hit = hit or probs[j, k] > 0.0
            if probs[j, k] * asset_value[k] > best:
                best, best_k = probs[j, k] * asset_value[k], k
        if hit:
            top[j] = best_k
    # the drag the engagement paths of ballistic rows without a prediction fly (the one a
    # prediction's mean would fly: threat.drag_estimate); predicted rows take their
    # prediction's flight
    unflown = np.flatnonzero((cls == CLASS_BALLISTIC) & ~predictable)
    q = unflown.size
    xu, Pu = np.empty((q, 7)), np.empty((q, 7, 7))
    _augment(np.zeros((q, 6)), np.zeros((q, 6, 6)), inv_beta[unflown], inv_beta_cov[unflown], np.full(q, prior_mean),
             np.full(q, prior_sigma), xu, Pu)
    drag = np.zeros(n)
    for r in range(q):
        drag[unflown[r]] = _clip(xu[r, 6], 0.0, MAX_INV_BETA)
    return cls, kind, ball, impact, probs, top, drag, flights[3], failure


_IMPACT_FIELDS = ("impact_time_s", "impact_time_sigma_s", "impact_lat_deg", "impact_lon_deg", "ellipse_semi_major_m",
                  "ellipse_semi_minor_m", "ellipse_major_azimuth_deg")
_LAUNCH_FIELDS = ("launch_lat_deg", "launch_lon_deg", "launch_time_s", "launch_ellipse_semi_major_m",
                  "launch_ellipse_semi_minor_m")
"""The threat evaluation's columns from the impact and launch-point predictions (NaN without one)."""
_EVALUATION_FIELDS = ("time_s", "track_id", "object_id", "classification", *_IMPACT_FIELDS, *_LAUNCH_FIELDS,
                      "threatened_asset", "asset_probability", "threat_value")
"""A threat evaluation row's fields, in the order of :data:`THREATS_SCHEMA`."""


def _fill(block: np.ndarray, rows: np.ndarray, pred, fields: list[np.ndarray]) -> None:
    """``block[f, rows]`` = ``fields[f]`` (one per row of ``block``) where ``pred`` (a
    GroundPrediction of ``rows``) is valid."""
    ok = pred.valid
    block[:, rows[ok]] = np.array(fields)[:, ok]


@numba.njit(cache=True)
def _air_threat(x, asset_ecef, asset_radius_m) -> np.ndarray:
    """1 for the asset an air-breathing track passes within its radius + margin of (straight
    extrapolation of its velocity over AIR_HORIZON_S; the nearest, the first of equals),
    else 0 (the arithmetic of the numpy steps this replaced: sums left to right)."""
    n, m = x.shape[0], asset_ecef.shape[0]
    out = np.zeros((n, m))
    for i in range(n):
        vx, vy, vz = x[i, 3], x[i, 4], x[i, 5]
        vv = vx * vx + vy * vy + vz * vz
        if vv < 1e-9:  # np.maximum(vv, 1e-9)
            vv = 1e-9
        nearest, nearest_miss = -1, math.inf
        for j in range(m):
            dx, dy, dz = asset_ecef[j, 0] - x[i, 0], asset_ecef[j, 1] - x[i, 1], asset_ecef[j, 2] - x[i, 2]
            t = _clip((dx * vx + dy * vy + dz * vz) / vv, 0.0, AIR_HORIZON_S)
            ex, ey, ez = dx - vx * t, dy - vy * t, dz - vz * t
            miss = math.sqrt(ex * ex + ey * ey + ez * ez)
            if miss <= asset_radius_m[j] + AIR_THREAT_MARGIN_M and miss < nearest_miss:
                nearest, nearest_miss = j, miss
        if nearest >= 0:
            out[i, nearest] = 1.0
    return out


def _path_flights(world, pic: _Picture, ev: _Evaluation):
    """The flights the predicted paths of ballistic rows follow (:func:`_path_samples`'
    ``rows``, ``offsets``, ``flight_t``, ``flight_r``): ``ev.flights`` where the impact
    prediction flew them, else flown with their drag estimate ``ev.inv_beta``."""
    x = pic.state
    rows = ev.flown
    flights = (ev.flights.offsets, ev.flights.time_s, ev.flights.r_ecef_m) if rows.size else _NO_FLIGHTS
    unflown = ev.cls == CLASS_BALLISTIC
    unflown[rows] = False
    if unflown.any():
        rest = np.flatnonzero(unflown)
        ib = ev.inv_beta[rest]
        with np.errstate(divide="ignore"):
            beta = np.where(ib > 0, 1.0 / np.where(ib > 0, ib, 1.0), np.inf)
        fs = sample_flight(x[rest, :3], x[rest, 3:6], beta, step_s=PATH_STEP_S, earth=world.earth, max_time_s=3600.0,
                           rtol=PREDICTION_RTOL)  # the impact prediction's tolerance: a metre, not a track's metres
        offsets, t, r = flights
        rows = np.concatenate([rows, rest])
        flights = (np.concatenate([offsets, offsets[-1] + fs.offsets[1:]]), np.concatenate([t, fs.time_s]),
                   np.concatenate([r, fs.r_ecef_m]))
    return (rows, *flights)


_NO_FLIGHTS = (np.zeros(1, np.int64), np.empty(0), np.empty((0, 3)))
"""No flight samples: offsets, times, positions."""
_AIR_PATH_SAMPLES = int(AIR_HORIZON_S / (5 * PATH_STEP_S)) + 1
"""Samples of an air-breathing row's path (every 5 PATH_STEP_S)."""


@numba.njit(cache=True)
def _path_samples(time_s, state, rows, offsets, flight_t, flight_r, air):
    """Predicted paths (J, K) times and (J, K, 3) ECEF (NaN where a path has no sample)
    for the rows of ``time_s`` (J,) (s) and ``state`` (J, 6):
    row ``rows[m]`` follows flight m, the samples ``offsets[m]:offsets[m + 1]`` of
    ``flight_t`` (s from the row's time) and ``flight_r`` (ECEF, m); the ``air`` rows a
    straight line at constant velocity sampled every 5 PATH_STEP_S up to AIR_HORIZON_S."""
    n = time_s.size
    k = _AIR_PATH_SAMPLES
    for m in range(rows.size):
        k = max(k, offsets[m + 1] - offsets[m])
    path_t = np.full((n, k), np.nan)
    path_r = np.full((n, k, 3), np.nan)
    for m in range(rows.size):  # ballistic: the free flight to the ground
        j = rows[m]
        for s in range(offsets[m + 1] - offsets[m]):
            path_t[j, s] = time_s[j] + flight_t[offsets[m] + s]
            path_r[j, s] = flight_r[offsets[m] + s]
    for j in range(n):  # air-breathing: straight line at constant velocity
        if air[j]:
            for s in range(_AIR_PATH_SAMPLES):
                dt = float(s * 5) * PATH_STEP_S
                path_t[j, s] = time_s[j] + dt
                for c in range(3):
                    path_r[j, s, c] = state[j, c] + dt * state[j, 3 + c]
    return path_t, path_r


@numba.njit(cache=True)
def _rounds_on_offer(pk_of_kind, kind, defends, first, values, left, salvo):
    """The weapons of a cycle's WTA. Returns the (B, J) single-shot kill probability of
    each battery's interceptor on each threat (``pk_of_kind`` (3, B) of the threat's
    ``kind``; 0 where the battery's window is empty, ``first`` < 0, where the threat's
    value is below MIN_ENGAGE_VALUE, or where it does not threaten what the battery
    ``defends``), the rounds on offer (per battery, its ``left`` rounds up to ``salvo``
    x the threats it can reach): the battery of each, (W,), and their kill probabilities
    on each threat and the hold (last column), (W, J + 1)."""
    n_b, n_j = first.shape
    pk = np.zeros((n_b, n_j))
    offer = np.zeros(n_b, np.int64)
    for i in range(n_b):
        reach = 0
        for j in range(n_j):
            if defends[i, j] and first[i, j] >= 0 and values[j] >= MIN_ENGAGE_VALUE:
                pk[i, j] = pk_of_kind[kind[j], i]
            if pk[i, j] > 0.0:
                reach += 1
        offer[i] = max(min(left[i], salvo[i] * reach), 0)
    weapon = np.empty(offer.sum(), np.int64)
    pk_w = np.zeros((weapon.size, n_j + 1))
    m = 0
    for i in range(n_b):
        for _ in range(offer[i]):
            weapon[m] = i
            pk_w[m, :n_j] = pk[i]
            m += 1
    return pk, weapon, pk_w


@numba.njit(cache=True)
def _plan_arrays(time_s, state, rows, offsets, flight_t, flight_r, cls, a, e2, sphere, battery_ecef, flyout, now,
                 not_before, pk_of_kind, kind, defends, values, rounds, held, salvo):
    """:func:`_plan_cycle`'s compiled steps: the paths (:func:`_path_samples`; the rows
    not of ``cls`` CLASS_BALLISTIC air-breathing), the engagement windows along them of the
    batteries at ``battery_ecef`` (engagement's, with the ``flyout`` table and the earliest
    launch per threat ``now`` or its ``not_before``, the later; lazy: the heights on the
    ellipsoid ``a``, ``e2`` or the ``sphere`` only where needed) and the rounds on offer
    (:func:`_rounds_on_offer`; the batteries' ``rounds`` less those ``held``). Returns the paths' times and positions, the windows'
    feasibility, launch times, first feasible samples and their times, the last ones' times
    (EngagementWindows' fields but the flight times and last samples) and the rounds on offer."""
    path_t, path_r = _path_samples(time_s, state, rows, offsets, flight_t, flight_r, cls != CLASS_BALLISTIC)
    feasible, launch, _, first, _, open_s, close_s = _windows(battery_ecef, path_t, path_r, np.full(path_t.shape, np.nan),
                                                              np.maximum(now, not_before), flyout, True, a, e2, sphere)
    pk, weapon, pk_w = _rounds_on_offer(pk_of_kind, kind, defends, first, values, rounds - held, salvo)
    return path_t, path_r, (feasible, launch, first, open_s, close_s), pk, weapon, pk_w


@numba.njit(cache=True)
def _shots(assignment, weapon, first, feasible, launch_time_s, path_t, path_r, assess_s, a, e2, sphere):
    """The shots of a cycle's WTA ``assignment`` (a threat, or the hold after the last, per
    round on offer; ``weapon``: the battery of each): the (threat, battery) pairs given
    rounds, by threat then battery, with their rounds, the path sample of the earliest
    intercept in the window (``first`` (B, J)), whether the window (``feasible``,
    ``launch_time_s`` (B, J, K)) has a launch after that intercept's kill assessment
    (``assess_s`` (B,) after it, on the path times ``path_t`` (J, K)), and the intercept
    point's latitude, longitude (deg) and height (m) (frames.ecef_to_geodetic of its
    ``path_r`` (J, K, 3) on the ellipsoid ``a``, ``e2`` or the ``sphere``)."""
    n_b, n_j = first.shape
    rounds = np.zeros((n_j + 1, n_b), np.int64)
    for m in range(assignment.size):
        rounds[assignment[m], weapon[m]] += 1
    n = 0
    for j in range(n_j):
        for i in range(n_b):
            n += rounds[j, i] > 0
    j_, i_, count, k_ = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    later = np.zeros(n, np.bool_)
    m = 0
    for j in range(n_j):
        for i in range(n_b):
            if rounds[j, i] > 0:
                j_[m], i_[m], count[m], k_[m] = j, i, rounds[j, i], first[i, j]
                look_at = path_t[j, first[i, j]] + assess_s[i]
                for k in range(feasible.shape[2]):
                    if feasible[i, j, k] and launch_time_s[i, j, k] >= look_at:
                        later[m] = True
                m += 1
    r = np.empty((n, 3))
    for m in range(n):
        r[m] = path_r[j_[m], k_[m]]
    lat, lon, alt = np.empty(n), np.empty(n), np.empty(n)
    _ecef_to_geodetic_array(r, a, e2, sphere, lat, lon, alt)
    return j_, i_, count, k_, later, lat, lon, alt


def _plan_cycle(world, plan: _Plan, batteries: _Batteries, pic: _Picture, ev: _Evaluation, now: float,
                events: list[Event]) -> None:
    """One dynamic WTA over the threats in view: committed shots lower a threat's value
    (by their kill probabilities) and push later intercepts past their kill assessment."""
    tids = pic.track_id.tolist()
    values = ev.values.copy()
    not_before = np.full(len(tids), -np.inf)
    for j, tid in enumerate(tids):
        for shot in plan.shots.get(tid, []):
            if shot["_open"] <= 0:
                continue  # assessed: every round missed
            values[j] *= (1.0 - shot["pk"]) ** shot["_open"]
            i = batteries.ids.index(shot["battery_id"])
            not_before[j] = max(not_before[j], shot["intercept_time_s"] + batteries.assess_s[i])
    defends = np.ones((len(batteries.ids), len(tids)), np.bool_)
    for i, idx in enumerate(batteries.defended):  # defended-area rule
        if idx.size:
            defends[i] = ~((ev.probs[:, idx] @ world.assets.value[idx]) < MIN_ENGAGE_VALUE)
    revised = set(tids)
    for key in [k for k in plan.pending if k[0] in revised]:
        del plan.pending[key]  # revise what is not committed
    # rounds still held by the plans of tracks not revised this cycle (not fresh): not on offer
    held = np.zeros(len(batteries.ids), np.int64)
    for row in plan.pending.values():
        held[batteries.ids.index(row["battery_id"])] += row["rounds"]
    model = earth_model(world.earth)
    # look, then shoot again: a further launch waits for the earlier shots' kill assessment
    times, pos, (feasible, launch, first_k, open_s, close_s), pk, w, pk_w = _plan_arrays(
        pic.time_s, pic.state, *_path_flights(world, pic, ev), ev.cls, model.a_m, model.e2, model.is_sphere,
        batteries.ecef, batteries.flyout, now, not_before, batteries.pk, ev.kind, defends, values, batteries.rounds, held,
        batteries.salvo)
    if w.size == 0:
        return
    # exact; the column cap keeps it deterministic (its fallback is the heuristic
    # incumbent), the time limit is only a safety valve
    sol = solve_exact(np.append(values, 0.0), pk_w, max_columns=WTA_MAX_COLUMNS, time_limit_s=WTA_SAFETY_TIME_LIMIT_S)
    j_, i_, rounds, first, later, lat, lon, alt = _shots(sol.assignment, w, first_k, feasible, launch, times, pos,
                                                         batteries.assess_s, model.a_m, model.e2, model.is_sphere)
    for m, (j, i, n_rounds, k) in enumerate(zip(j_.tolist(), i_.tolist(), rounds.tolist(), first.tolist())):
        t_int = float(times[j, k])
        mode = "shoot-shoot"
        if batteries.look[i] and later[m]:
            n_rounds, mode = 1, "shoot-look-shoot"
        tid = tids[j]
        row = {
            "planned_at_s": now, "track_id": tid, "object_id": pic.object_id[j],
            "battery_id": batteries.ids[i], "interceptor_type": batteries.types[i], "rounds": n_rounds,
            "doctrine": mode, "launch_time_s": float(launch[i, j, k]), "intercept_time_s": t_int,
            "intercept_lat_deg": float(lat[m]), "intercept_lon_deg": float(lon[m]), "intercept_alt_m": float(alt[m]), "window_open_s": float(open_s[i, j]),
            "window_close_s": float(close_s[i, j]), "pk": float(pk[i, j]), "committed": False,
            "engagement_id": None,
        }
        plan.pending[(tid, batteries.ids[i])] = row
        if (tid, batteries.ids[i]) not in plan.announced:
            plan.announced.add((tid, batteries.ids[i]))
            events.append(Event(now, "engagement_planned", row["object_id"] or f"track-{tid}",
                                row["intercept_lat_deg"], row["intercept_lon_deg"], row["intercept_alt_m"],
                                f"track {tid} by {batteries.ids[i]}: {n_rounds} x {batteries.types[i]} "
                                f"({mode}), launch at +{row['launch_time_s'] - now:.0f} s, intercept at "
                                f"{row['intercept_alt_m'] / 1e3:.0f} km"))
