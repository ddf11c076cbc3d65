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

import numpy as np
import pyarrow as pa

from hoplon.core.ballistic import sample_flight
from hoplon.core.engagement import FlyoutParameters, engagement_windows
from hoplon.core.frames import ecef_to_geodetic, geodetic_to_ecef
from hoplon.core.threat import (
    CLASS_BALLISTIC,
    PREDICTION_RTOL,
    asset_hit_probability,
    classify_kinematics,
    drag_estimate,
    drag_prior,
    estimate_launch_point,
    predict_impact,
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
    pk: list[dict]
    rounds: np.ndarray
    salvo: np.ndarray
    look: np.ndarray  # shoot-look-shoot
    assess_s: np.ndarray
    defends: list[set[str]]

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
        return cls(
            ids=[b.id for b in bats], types=[b.type for b in bats], ecef=ecef,
            params=FlyoutParameters(*(arr(n) for n in ("burnout_speed_mps", "burnout_time_s", "coast_decay_time_s",
                                                       "max_flight_time_s", "min_range_m", "max_range_m", "min_altitude_m",
                                                       "max_altitude_m", "launch_delay_s"))),
            pk=[dict(t.pk) for t in types],
            rounds=np.array([(b.launchers or t.launchers) * (b.rounds_per_launcher or t.rounds_per_launcher)
                             for b, t in zip(bats, types)], dtype=np.int64),
            salvo=np.array([b.doctrine.salvo for b in bats], dtype=np.int64),
            look=np.array([b.doctrine.mode == "shoot-look-shoot" for b in bats]),
            assess_s=np.array([b.doctrine.kill_assessment_delay_s for b in bats], dtype=float),
            defends=[set(b.defends) for b in bats],
        )


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

    def __init__(self, world, events: list[Event], *, launch_points: bool = True) -> None:
        self.world = world
        self.events = events
        self.launch_points = launch_points  # estimate where each ballistic track came from
        self.batteries = _Batteries.of(world)
        self.drag_prior = _drag_prior(world)
        self.plan = _Plan()
        self.evaluations: list[dict] = []
        self.classified: set[int] = set()
        self.killed_tracks: set[int] = set()  # assessed killed
        self._next_engagement = 1

    def cycle(self, now: float, snap, label) -> list[dict]:
        """One planning cycle at ``now`` (s) over ``snap`` (:class:`ConfirmedTracks`);
        ``label(track_id)`` names the track's true object (analysis only). Returns the
        engagements committed (launching before ``now + PLAN_PERIOD_S``)."""
        world = self.world
        if snap is not None and len(snap.id):
            fresh = (snap.last_update_s >= now - FRESH_S) & ~np.isin(snap.id, list(self.killed_tracks))
            rows = np.flatnonzero(fresh)
        else:
            rows = np.empty(0, np.int64)
        if rows.size:
            cols = {"time_s": snap.time_s, "track_id": snap.id, "cov": snap.cov, "inv_beta_m2_kg": snap.inv_beta,
                    "inv_beta_cov": snap.inv_beta_cov,
                    "object_id": np.array([label(int(t)) for t in snap.id], dtype=object)}
            state = snap.state
            ev = _evaluate(world, cols, state, rows, world.assets, launch_points=self.launch_points,
                           drag_prior=self.drag_prior)
            for k, r in enumerate(rows):
                tid = int(cols["track_id"][r])
                self.evaluations.append({**ev["row"][k], "time_s": float(cols["time_s"][r]), "track_id": tid,
                                         "object_id": cols["object_id"][r]})
                if tid not in self.classified:
                    self.classified.add(tid)
                    self._announce_classification(tid, cols, state, r, ev["row"][k])
            if len(self.batteries.ids):
                _plan_cycle(world, self.plan, self.batteries, cols, state, rows, ev, now, self.events)
        return self._commit(now + PLAN_PERIOD_S)

    def _announce_classification(self, tid, cols, state, r, row) -> None:
        geo = ecef_to_geodetic(state[r, :3], earth=self.world.earth)
        detail = f"track {tid}: {row['classification']}"
        if row["classification"] == "ballistic" and math.isfinite(row["impact_lat_deg"]):
            detail += (f"; predicted impact {row['impact_lat_deg']:.3f} N {row['impact_lon_deg']:.3f} E "
                       f"(95 % ellipse {row['ellipse_semi_major_m'] / 1e3:.1f} x {row['ellipse_semi_minor_m'] / 1e3:.1f} km)")
        if row["threatened_asset"]:
            detail += f", threatens {row['threatened_asset']} (p = {row['asset_probability']:.2f})"
        if math.isfinite(row["launch_lat_deg"]):
            detail += (f"; launched from about {row['launch_lat_deg']:.2f} N {row['launch_lon_deg']:.2f} E "
                       f"(+/- {row['launch_ellipse_semi_major_m'] / 1e3:.0f} km)")
        self.events.append(Event(float(cols["time_s"][r]), "classified", cols["object_id"][r] or f"track-{tid}",
                                 float(geo.lat_deg), float(geo.lon_deg), float(geo.alt_m), detail))

    def _commit(self, before: float) -> list[dict]:
        """Engagements launching before ``before`` become the plan of record."""
        plan, batteries = self.plan, self.batteries
        out = []
        for key in sorted(plan.pending):
            row = plan.pending[key]
            waiting = any(shot["_unassessed"] > 0 for shot in plan.shots.get(key[0], []))
            if row["launch_time_s"] <= before and not waiting:  # look before shooting again
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


def _evaluate(world, cols, state, rows, assets, *, launch_points: bool = True, drag_prior=None) -> dict:
    """Classification, impact prediction, asset probabilities, value and path per row (and,
    with ``launch_points``, the estimated launch point: reported, never used to decide).
    ``drag_prior`` (mean, sigma) of 1/beta: the threat class's (:func:`_drag_prior`)."""
    n = rows.size
    x = state[rows]
    cls = classify_kinematics(x)
    out_rows = []
    probs = np.zeros((n, len(assets)))
    pred = None
    # impact prediction once the velocity is known to better than MAX_PREDICT_SPEED_SIGMA_MPS
    speed_sigma = np.sqrt(np.trace(cols["cov"][rows][:, 3:6, 3:6], axis1=1, axis2=2))
    ball = np.flatnonzero((cls == CLASS_BALLISTIC) & (speed_sigma <= MAX_PREDICT_SPEED_SIGMA_MPS))
    if ball.size:
        r = rows[ball]
        pred = predict_impact(x[ball], cols["cov"][r], inv_beta=cols["inv_beta_m2_kg"][r],
                              inv_beta_cov=cols["inv_beta_cov"][r], inv_beta_prior=drag_prior, earth=world.earth,
                              max_time_s=PREDICT_MAX_TIME_S, path_step_s=PATH_STEP_S)
        # without the drag state: unobserved in midcourse, and flown backwards through the
        # dense air its spread grows without bound (negative drag)
        origin = (estimate_launch_point(x[ball], cols["cov"][r], earth=world.earth, max_time_s=PREDICT_MAX_TIME_S)
                  if launch_points else None)
        if len(assets):
            probs[ball] = asset_hit_probability(pred, assets.lat_deg, assets.lon_deg, assets.radius_m)
    air = np.flatnonzero(cls != CLASS_BALLISTIC)
    if air.size and len(assets):
        probs[air] = _air_threat(world, x[air], assets)
    values = probs @ assets.value if len(assets) else np.zeros(n)
    for k in range(n):
        row = {"classification": "ballistic" if cls[k] == CLASS_BALLISTIC else "air-breathing",
               "impact_time_s": math.nan, "impact_time_sigma_s": math.nan, "impact_lat_deg": math.nan,
               "impact_lon_deg": math.nan, "ellipse_semi_major_m": math.nan, "ellipse_semi_minor_m": math.nan,
               "ellipse_major_azimuth_deg": math.nan, "launch_lat_deg": math.nan, "launch_lon_deg": math.nan,
               "launch_time_s": math.nan, "launch_ellipse_semi_major_m": math.nan, "launch_ellipse_semi_minor_m": math.nan,
               "threatened_asset": "", "asset_probability": 0.0,
               "threat_value": float(values[k])}
        if len(assets) and probs[k].max() > 0:
            j = int(np.argmax(probs[k] * assets.value))
            row["threatened_asset"], row["asset_probability"] = str(assets.name[j]), float(probs[k, j])
        out_rows.append(row)
    if pred is not None:
        for m, k in enumerate(ball):
            if pred.valid[m]:
                out_rows[k].update(
                    impact_time_s=float(cols["time_s"][rows[k]] + pred.time_s[m]), impact_time_sigma_s=float(pred.time_sigma_s[m]),
                    impact_lat_deg=float(pred.lat_deg[m]), impact_lon_deg=float(pred.lon_deg[m]),
                    ellipse_semi_major_m=float(pred.semi_major_m[m]), ellipse_semi_minor_m=float(pred.semi_minor_m[m]),
                    ellipse_major_azimuth_deg=float(pred.major_azimuth_deg[m]))
            if origin is not None and origin.valid[m]:
                out_rows[k].update(
                    launch_lat_deg=float(origin.lat_deg[m]), launch_lon_deg=float(origin.lon_deg[m]),
                    launch_time_s=float(cols["time_s"][rows[k]] - origin.time_s[m]),
                    launch_ellipse_semi_major_m=float(origin.semi_major_m[m]),
                    launch_ellipse_semi_minor_m=float(origin.semi_minor_m[m]))
    # the drag the engagement paths of ballistic rows without a prediction fly (the one a
    # prediction's mean would fly); predicted rows take their prediction's flight
    inv_beta = np.zeros(n)
    flies = cls == CLASS_BALLISTIC
    flies[ball] = False
    if flies.any():
        r = rows[flies]
        inv_beta[flies] = drag_estimate(cols["inv_beta_m2_kg"][r], cols["inv_beta_cov"][r], drag_prior)
    # the engagement paths of the predicted rows: the flights of their predictions' mean states
    paths = {int(k): (pred.path, m) for m, k in enumerate(ball)} if pred is not None else {}
    return {"row": out_rows, "class": cls, "probs": probs, "values": values, "inv_beta": inv_beta, "paths": paths}


def _air_threat(world, x, assets) -> np.ndarray:
    """1 for the asset an air-breathing track passes within its radius + margin of (straight
    extrapolation of its velocity over AIR_HORIZON_S), else 0."""
    a = np.atleast_2d(geodetic_to_ecef(assets.lat_deg, assets.lon_deg, assets.alt_m, earth=world.earth))
    p, v = x[:, None, :3], x[:, None, 3:6]
    d = a[None] - p
    vv = np.maximum((v * v).sum(axis=2), 1e-9)
    t = np.clip((d * v).sum(axis=2) / vv, 0.0, AIR_HORIZON_S)
    miss = np.linalg.norm(d - v * t[..., None], axis=2)
    hit = miss <= assets.radius_m[None, :] + AIR_THREAT_MARGIN_M
    out = np.zeros(hit.shape)
    k = np.argmin(np.where(hit, miss, np.inf), axis=1)
    has = hit.any(axis=1)
    out[np.flatnonzero(has), k[has]] = 1.0
    return out


def _paths(world, cols, state, rows, cls, inv_beta, predicted):
    """Predicted paths (J, K) times, (J, K, 3) ECEF and (J, K) altitudes from each row
    (ballistic rows: ``predicted`` {row: (samples, index)} where the impact prediction flew
    them, else their drag estimate ``inv_beta`` (J,), m^2/kg)."""
    n = rows.size
    t0 = cols["time_s"][rows]
    x = state[rows]
    flights = dict(predicted)
    rest = np.array([j for j in np.flatnonzero(cls == CLASS_BALLISTIC) if j not in flights], dtype=np.int64)
    if rest.size:
        ib = inv_beta[rest]
        with np.errstate(divide="ignore"):
            beta = np.where(ib > 0, 1.0 / np.where(ib > 0, ib, 1.0), np.inf)
        fs = sample_flight(x[rest, :3], x[rest, 3:6], beta, step_s=PATH_STEP_S, earth=world.earth, max_time_s=3600.0,
                           rtol=PREDICTION_RTOL)  # the impact prediction's tolerance: a metre, not a track's metres
        flights.update({int(j): (fs, m) for m, j in enumerate(rest)})
    counts = {j: int(fs.offsets[m + 1] - fs.offsets[m]) for j, (fs, m) in flights.items()}
    k_air = int(AIR_HORIZON_S / (5 * PATH_STEP_S)) + 1
    k = max([k_air, *counts.values()])
    times = np.full((n, k), np.nan)
    pos = np.full((n, k, 3), np.nan)
    for j, (fs, m) in flights.items():  # ballistic: the free flight to the ground
        sl = slice(fs.offsets[m], fs.offsets[m + 1])
        times[j, : counts[j]] = t0[j] + fs.time_s[sl]
        pos[j, : counts[j]] = fs.r_ecef_m[sl]
    for j in np.flatnonzero(cls != CLASS_BALLISTIC):  # air-breathing: straight line at constant velocity
        dt = np.arange(k_air) * 5 * PATH_STEP_S
        times[j, :k_air] = t0[j] + dt
        pos[j, :k_air] = x[j, :3] + dt[:, None] * x[j, 3:6]
    alt = np.full((n, k), np.nan)
    ok = np.isfinite(times)
    if ok.any():
        alt[ok] = np.atleast_1d(ecef_to_geodetic(pos[ok], earth=world.earth).alt_m)
    return times, pos, alt


def _pk_table(batteries: _Batteries, cls: np.ndarray, speed: np.ndarray) -> np.ndarray:
    """(B, J) single-shot kill probability of each battery's interceptor per threat class."""
    out = np.zeros((len(batteries.ids), cls.size))
    for i, pk in enumerate(batteries.pk):
        for j in range(cls.size):
            if cls[j] == CLASS_BALLISTIC:
                out[i, j] = pk.get("ballistic", 0.0)
            else:
                out[i, j] = pk.get("cruise_missile" if speed[j] > 150.0 else "drone", 0.0)
    return out


def _plan_cycle(world, plan: _Plan, batteries: _Batteries, cols, state, rows, ev, now: float, events: list[Event]) -> None:
    """One dynamic WTA over the threats in view: committed shots lower a threat's value
    (by their kill probabilities) and push later intercepts past their kill assessment."""
    tids = cols["track_id"][rows]
    cls, probs, values = ev["class"], ev["probs"], ev["values"].copy()
    times, pos, alt = _paths(world, cols, state, rows, cls, ev["inv_beta"], ev["paths"])
    not_before = np.full(tids.size, -np.inf)
    for j, tid in enumerate(tids.tolist()):
        for shot in plan.shots.get(tid, []):
            if shot["_open"] <= 0:
                continue  # assessed: every round missed
            values[j] *= (1.0 - shot["pk"]) ** shot["_open"]
            i = batteries.ids.index(shot["battery_id"])
            not_before[j] = max(not_before[j], shot["intercept_time_s"] + batteries.assess_s[i])
    # look, then shoot again: a further launch waits for the earlier shots' kill assessment
    win = engagement_windows(batteries.ecef, batteries.params, times, pos, alt, now, not_before)
    pk = _pk_table(batteries, cls, np.linalg.norm(state[rows, 3:6], axis=1))
    names = list(world.assets.name)
    for i, defends in enumerate(batteries.defends):  # defended-area rule
        if defends:
            idx = [names.index(a) for a in defends]
            pk[i, (probs[:, idx] @ world.assets.value[idx]) < MIN_ENGAGE_VALUE] = 0.0
    pk = np.where((win.first >= 0) & (values >= MIN_ENGAGE_VALUE)[None, :], pk, 0.0)
    for key in [k for k in plan.pending if k[0] in set(tids.tolist())]:
        del plan.pending[key]  # revise what is not committed
    # rounds still held by the plans of tracks not revised this cycle (not fresh): not on offer
    held = np.zeros(len(batteries.ids), np.int64)
    for row in plan.pending.values():
        held[batteries.ids.index(row["battery_id"])] += row["rounds"]
    # rounds on offer: per battery, its remaining rounds up to salvo x reachable threats
    weapons: list[int] = []
    for i in range(len(batteries.ids)):
        n = int(min(batteries.rounds[i] - held[i], batteries.salvo[i] * np.count_nonzero(pk[i] > 0)))
        weapons += [i] * max(n, 0)
    if not weapons:
        return
    w = np.array(weapons)
    pk_w = np.column_stack([pk[w], np.zeros(w.size)])  # last column: hold
    # exact; the column cap keeps it deterministic (its fallback is the heuristic
    # incumbent), the time limit is only a safety valve
    sol = solve_exact(np.append(values, 0.0), pk_w, max_columns=WTA_MAX_COLUMNS, time_limit_s=WTA_SAFETY_TIME_LIMIT_S)
    for j in range(tids.size):
        shooters = w[sol.assignment == j]
        for i in np.unique(shooters):
            n_rounds = int(np.count_nonzero(shooters == i))
            k = int(win.first[i, j])  # the earliest intercept leaves the most time to look
            t_int = float(times[j, k])
            later = win.feasible[i, j] & (win.launch_time_s[i, j] >= t_int + batteries.assess_s[i])
            mode = "shoot-shoot"
            if batteries.look[i] and later.any():
                n_rounds, mode = 1, "shoot-look-shoot"
            geo = ecef_to_geodetic(pos[j, k], earth=world.earth)
            tid = int(tids[j])
            row = {
                "planned_at_s": now, "track_id": tid, "object_id": cols["object_id"][rows[j]],
                "battery_id": batteries.ids[i], "interceptor_type": batteries.types[i], "rounds": n_rounds,
                "doctrine": mode, "launch_time_s": float(win.launch_time_s[i, j, k]), "intercept_time_s": t_int,
                "intercept_lat_deg": float(geo.lat_deg), "intercept_lon_deg": float(geo.lon_deg),
                "intercept_alt_m": float(geo.alt_m), "window_open_s": float(win.open_s[i, j]),
                "window_close_s": float(win.close_s[i, j]), "pk": float(pk[i, j]), "committed": False,
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
