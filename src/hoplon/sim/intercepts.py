"""Interceptors in flight, intercepts and kill assessment.

Every committed engagement launches its rounds at its launch time. An interceptor flies
the kinematic fly-out of its type (:mod:`hoplon.core.engagement`: speed along the path
as a function of time since launch) in a straight line toward its aim point, the
predicted position of its track at the planned intercept time. At every battle-management
cycle while it flies, the aim point is updated from the track (midcourse guidance): the
track's latest state is predicted to the intercept time (the ballistic propagator with
the track's drag state for ballistic tracks, a straight line for air-breathing ones), and
the interceptor turns from where it is toward the new point. All interceptors are
arrays, updated together.

At the intercept time (notional end game, documented):

* the interceptor is where its fly-out has taken it (short of the aim point when the
  updated point lies beyond its reach);
* its seeker acquires the nearest object still in flight within the type's
  ``seeker_basket`` of the interceptor, preferring a threat (warhead, drone, cruise
  missile) to a spent booster (notional discrimination; another warhead is as good a
  target as the tracked one);
* homing leaves a miss distance drawn from a Rayleigh law whose scale makes
  P(miss < lethal_radius) equal the single-shot kill probability; the object is killed
  when the miss distance is below the lethal radius. One uniform draw from the run's
  ``intercepts`` stream per interceptor, in order of intercept time, decides both;
* an interceptor whose seeker finds nothing misses by the distance to the nearest object.

Kill assessment: ``kill_assessment_delay`` after the intercept, the battery's sensors
report the outcome, correctly with the doctrine's ``kill_assessment_probability`` (a
second draw); the battle manager acts on the report, right or wrong.

A missed interceptor falls from where it ended with its speed along its path (ballistic
coefficient ``INTERCEPTOR_BETA_KG_M2``, notional); a killed object breaks up
(:mod:`hoplon.sim.debris`).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numba
import numpy as np
import pyarrow as pa

from hoplon.core.ballistic import DEFAULT_RTOL, STATUS_FAILED, fly_state_for, propagate_to_impact
from hoplon.core.earth import WGS84
from hoplon.core.engagement import flyout_distance_m, flyout_speed_mps
from hoplon.core.frames import ecef_to_geodetic
from hoplon.core.threat import CLASS_BALLISTIC, _speed_and_class
from hoplon.sim.events import Event
from hoplon.sim.truth import TruthStore

__all__ = ["INTERCEPTORS_SCHEMA", "INTERCEPTOR_BETA_KG_M2", "Interceptors", "homing_miss_distance_m"]

INTERCEPTOR_BETA_KG_M2 = 3000.0
"""Ballistic coefficient of a spent interceptor falling after a miss (notional)."""
_FLOAT_MAX = float(np.finfo(np.float64).max)

INTERCEPTORS_SCHEMA = pa.schema(
    [
        ("interceptor_id", pa.string()),
        ("engagement_id", pa.int64()),
        ("battery_id", pa.string()),
        ("interceptor_type", pa.string()),
        ("track_id", pa.int64()),
        ("launch_time_s", pa.float64()),
        ("intercept_time_s", pa.float64()),
        ("aim_lat_deg", pa.float64()),  # the last aim point (after guidance updates)
        ("aim_lon_deg", pa.float64()),
        ("aim_alt_m", pa.float64()),
        ("guidance_updates", pa.int64()),
        ("end_lat_deg", pa.float64()),  # where the interceptor was at the intercept time
        ("end_lon_deg", pa.float64()),
        ("end_alt_m", pa.float64()),
        ("target_object_id", pa.string()),  # the object the seeker homed on ("" none)
        ("result", pa.string()),  # kill | miss
        ("miss_distance_m", pa.float64()),
        ("cause", pa.string()),
        ("assessed_at_s", pa.float64()),
        ("assessed_killed", pa.bool_()),
        ("assessment_correct", pa.bool_()),
        ("fall_time_s", pa.float64()),  # a missed interceptor's landing (NaN after a kill)
        ("fall_lat_deg", pa.float64()),
        ("fall_lon_deg", pa.float64()),
    ],
    metadata={"hoplon_table": "interceptors", "schema_version": "1", "frame": "WGS84"},
)


@dataclass
class _Path:
    """One interceptor's path: straight segments (start time, start point, distance flown
    at the start, direction)."""

    t0: list[float] = field(default_factory=list)
    p0: list[np.ndarray] = field(default_factory=list)
    s0: list[float] = field(default_factory=list)
    u: list[np.ndarray] = field(default_factory=list)


class Interceptors:
    """Every interceptor of a run as arrays (module notes)."""

    def __init__(self, world, batteries, rng: np.random.Generator) -> None:
        self.world = world
        self.bat = batteries  # battle._Batteries
        cat = world.scenario.threat_catalog.section("interceptor")
        self._type = [cat[t] for t in batteries.types]
        self._assess_p = np.array([b.doctrine.kill_assessment_probability for b in world.scenario.batteries], float)
        self.rng = rng
        self.ids: list[str] = []
        self.engagement: list[dict] = []
        self.battery = np.empty(0, np.int64)
        self.launch_s = np.empty(0)
        self.intercept_s = np.empty(0)
        self.aim = np.empty((0, 3))
        self.updates = np.empty(0, np.int64)
        self.state = np.empty(0, np.int64)  # 0 planned/flying, 1 resolved, 2 assessed
        self._in_state = [0, 0, 0]  # how many interceptors are in each state (the loop asks every cycle)
        self.paths: list[_Path] = []
        self.results: list[dict] = []
        self._serial: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ launches

    def launch(self, engagements: list[dict], aim_ecef: np.ndarray, events: list[Event]) -> None:
        """Add the rounds of committed ``engagements``, each aimed at its planned point."""
        for row, aim in zip(engagements, aim_ecef):
            i = self.bat.ids.index(row["battery_id"])
            for _ in range(row["rounds"]):
                k = self._serial.get(row["battery_id"], 0) + 1
                self._serial[row["battery_id"]] = k
                iid = f"{row['battery_id']}#{k}"
                self.ids.append(iid)
                self.engagement.append(row)
                path = _Path()
                path.t0.append(row["launch_time_s"])
                path.p0.append(self.bat.ecef[i].copy())
                path.s0.append(0.0)
                path.u.append(_unit(aim - self.bat.ecef[i]))
                self.paths.append(path)
                self.results.append({})
                geo = ecef_to_geodetic(self.bat.ecef[i], earth=self.world.earth)
                events.append(Event(row["launch_time_s"], "interceptor_launched", iid, float(geo.lat_deg), float(geo.lon_deg),
                                    float(geo.alt_m),
                                    f"{row['interceptor_type']} at track {row['track_id']} "
                                    f"({row['object_id'] or 'unknown object'}), intercept planned at "
                                    f"{row['intercept_alt_m'] / 1e3:.0f} km"))
            n = row["rounds"]
            self.battery = np.append(self.battery, np.full(n, i))
            self.launch_s = np.append(self.launch_s, np.full(n, row["launch_time_s"]))
            self.intercept_s = np.append(self.intercept_s, np.full(n, row["intercept_time_s"]))
            self.aim = np.vstack([self.aim, np.repeat(aim[None], n, axis=0)])
            self.updates = np.append(self.updates, np.zeros(n, np.int64))
            self.state = np.append(self.state, np.zeros(n, np.int64))
            self._in_state[0] += n

    def _flyout(self, k: np.ndarray, t: np.ndarray, fn) -> np.ndarray:
        p = self.bat.params
        b = self.battery[k]
        return fn(t - self.launch_s[k], p.burnout_speed_mps[b], p.burnout_time_s[b], p.coast_decay_time_s[b])

    # ------------------------------------------------------------------ guidance

    def guide(self, now: float, snap) -> None:
        """Update the aim point of every interceptor not yet at its intercept from its
        track's state in ``snap`` (a :class:`ConfirmedTracks`), batched."""
        if snap is None or len(snap.id) == 0 or self._in_state[0] == 0:
            return
        live = np.flatnonzero((self.state == 0) & (self.intercept_s > now))
        if live.size == 0:
            return
        where = {t: j for j, t in enumerate(snap.id.tolist())}  # track id -> its row in snap
        pairs = [(k, where[t]) for k in live.tolist() if (t := self.engagement[k]["track_id"]) in where]
        if not pairs:
            return
        live, j = (np.array(c) for c in zip(*pairs))
        x = snap.state[j]
        aim = np.empty((live.size, 3))
        failure = _aim_points(x, self.intercept_s[live] - snap.time_s[j], snap.inv_beta[j], WGS84.a_m, WGS84.e2,
                              self.world.earth.params(), DEFAULT_RTOL, aim)
        if failure == _NOT_FINITE:
            raise ValueError("track states and intercept times must be finite")
        if failure == _FLIGHT_FAILED:
            raise RuntimeError("integration failed for some bodies (step size underflow)")
        flown = self._flyout(live, np.maximum(now, self.launch_s[live]), flyout_distance_m).tolist()  # distance by now
        flying = (now > self.launch_s[live]).tolist()
        for m, k in enumerate(live.tolist()):
            path = self.paths[k]
            if flying[m]:  # in flight: a new leg from where it is now
                s = flown[m]
                leg = max(0, bisect.bisect_right(path.t0, now) - 1)
                p = path.p0[leg] + (s - path.s0[leg]) * path.u[leg]
                path.t0.append(now)
                path.p0.append(p)
                path.s0.append(s)
                path.u.append(_unit(aim[m] - p))
            else:  # not launched yet: the first leg's direction
                path.u[0] = _unit(aim[m] - path.p0[0])
        self.aim[live] = aim
        self.updates[live] += 1

    # ------------------------------------------------------------------ end game

    def next_intercept_s(self) -> float:
        flying = self.state == 0
        return float(self.intercept_s[flying].min()) if flying.any() else math.inf

    def resolve(self, until: float, truth: TruthStore, events: list[Event]) -> list[tuple[int, int, float]]:
        """Resolve the intercepts due by ``until`` (s) in time order; returns (interceptor,
        object killed, time) for each kill (the object's flight ends there)."""
        if self._in_state[0] == 0:
            return []
        due = np.flatnonzero((self.state == 0) & (self.intercept_s <= until))
        if due.size == 0:
            return []
        due = due[np.lexsort((np.array([self.ids[k] for k in due], dtype=object), self.intercept_s[due]))]
        kills = []
        # where each interceptor is at its intercept time: along its last leg, as far as
        # its fly-out takes it, short of the aim point
        flown = self._flyout(due, self.intercept_s[due], flyout_distance_m).tolist()
        ends = []
        for k, s in zip(due.tolist(), flown):
            path = self.paths[k]
            reach = s - path.s0[-1]
            to_aim = float(np.linalg.norm(self.aim[k] - path.p0[-1]))
            ends.append(path.p0[-1] + min(reach, to_aim) * path.u[-1])
        geos = ecef_to_geodetic(np.array(ends), earth=self.world.earth)
        for n, (k, end) in enumerate(zip(due.tolist(), ends)):
            t = float(self.intercept_s[k])
            typ = self._type[self.battery[k]]
            u = float(self.rng.random())
            alive = np.flatnonzero((truth.start_s <= t) & (truth.end_s >= t) & ~(truth.killed_s <= t))
            target, dist = -1, math.inf
            if alive.size:
                r, _ = truth.state_at(alive, np.full(alive.size, t))
                d = np.linalg.norm(r - end, axis=1)
                # the seeker prefers a threat to a spent booster within its basket
                booster = np.array([truth.kind[o] == "spent_booster" for o in alive])
                rank = np.where(booster & (d <= typ.seeker_basket_m), d + 2 * typ.seeker_basket_m, d)
                m = int(np.argmin(rank))
                target, dist = int(alive[m]), float(d[m])
            row = self.engagement[k]
            res: dict = {"end": end}
            if target >= 0 and dist <= typ.seeker_basket_m:
                miss = float(homing_miss_distance_m(row["pk"], typ.lethal_radius_m, u))
                killed = miss < typ.lethal_radius_m
                res.update(result="kill" if killed else "miss", miss=miss,
                           cause=("hit" if killed else f"homed on {truth.object_id[target]} but passed {miss:.1f} m from it"))
            else:
                killed = False
                res.update(result="miss", miss=dist,
                           cause=(f"no object within the {typ.seeker_basket_m / 1e3:.0f} km seeker basket "
                                  f"(nearest {dist / 1e3:.1f} km)" if target >= 0 else "nothing in flight"))
                target = -1  # the seeker acquired nothing
            res["target"] = target
            self.results[k] = res
            self.state[k] = 1
            self._in_state[0] -= 1
            self._in_state[1] += 1
            lat, lon, alt = float(geos.lat_deg[n]), float(geos.lon_deg[n]), float(geos.alt_m[n])
            tname = truth.object_id[target] if target >= 0 else ""
            if killed:
                kills.append((k, target, t))
                truth.kill(target, t)
                events.append(Event(t, "intercept_kill", tname, lat, lon, alt,
                                    f"by {self.ids[k]} ({row['interceptor_type']}), miss distance {res['miss']:.2f} m"))
            else:
                events.append(Event(t, "intercept_miss", tname or self.ids[k], lat, lon, alt, f"{self.ids[k]}: {res['cause']}"))
        return kills

    def assessments_due(self, until: float) -> list[int]:
        """Interceptors whose kill assessment is due by ``until`` (s), in time order."""
        if self._in_state[1] == 0:
            return []
        done = np.flatnonzero(self.state == 1)
        at = self.intercept_s[done] + self.bat.assess_s[self.battery[done]]
        sel = at <= until
        order = np.lexsort((np.array([self.ids[k] for k in done[sel]], dtype=object), at[sel]))
        return done[sel][order].tolist()

    def assess(self, k: int, truth: TruthStore, events: list[Event]) -> bool:
        """Draw interceptor ``k``'s kill assessment; returns what the battery believes."""
        res = self.results[k]
        at = float(self.intercept_s[k] + self.bat.assess_s[self.battery[k]])
        correct = bool(self.rng.random() < self._assess_p[self.battery[k]])
        killed = res["result"] == "kill"
        believed = killed if correct else not killed
        res.update(assessed_at=at, assessed_killed=believed, correct=correct)
        self.state[k] = 2
        self._in_state[1] -= 1
        self._in_state[2] += 1
        row = self.engagement[k]
        target = res["target"]
        name = truth.object_id[target] if target >= 0 else (row["object_id"] or f"track-{row['track_id']}")
        geo = ecef_to_geodetic(res["end"], earth=self.world.earth)
        events.append(Event(at, "kill_assessed", name, float(geo.lat_deg), float(geo.lon_deg), float(geo.alt_m),
                            f"{self.ids[k]} on track {row['track_id']}: assessed {'killed' if believed else 'surviving'}"
                            + ("" if correct else " (wrong)")))
        return believed

    @property
    def pending(self) -> bool:
        """Interceptors still flying or awaiting their kill assessment."""
        return self._in_state[0] + self._in_state[1] > 0

    # ------------------------------------------------------------------ afterwards

    def falls(self) -> dict[int, tuple[float, float, float, np.ndarray]]:
        """Where every missed interceptor lands: index -> (time, lat, lon, ECEF, impact
        speed), batched."""
        miss = [k for k in range(len(self)) if self.results[k].get("result") == "miss"]
        if not miss:
            return {}
        k = np.array(miss)
        r = np.array([self.results[i]["end"] for i in miss])
        v = np.array([self.velocity(i) for i in miss])
        res = propagate_to_impact(r, v, INTERCEPTOR_BETA_KG_M2, earth=self.world.earth)
        lat, lon = np.atleast_1d(res.lat_deg), np.atleast_1d(res.lon_deg)
        t = self.intercept_s[k] + np.atleast_1d(res.time_s)
        v_end = np.linalg.norm(np.atleast_2d(res.v_ecef_mps), axis=1)
        return {i: (float(t[m]), float(lat[m]), float(lon[m]), np.atleast_2d(res.r_ecef_m)[m], float(v_end[m]))
                for m, i in enumerate(miss)}

    def velocity(self, k: int) -> np.ndarray:
        """ECEF velocity of interceptor ``k`` at its intercept time (m/s)."""
        speed = float(self._flyout(np.array([k]), self.intercept_s[k:k + 1], flyout_speed_mps)[0])
        return speed * self.paths[k].u[-1]

    def mass_kg(self, k: int) -> float:
        """Burnout mass of interceptor ``k``'s type."""
        return float(self._type[self.battery[k]].mass_kg)

    def path_samples(self, step_s: float) -> tuple[list[str], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
        """Per interceptor: times (every ``step_s`` from launch, each guidance turn and the
        intercept), ECEF positions and velocities along its flown path."""
        ids, ts, rs, vs = [], [], [], []
        for k in range(len(self)):
            t_l, t_i = float(self.launch_s[k]), float(self.intercept_s[k])
            t = np.append(np.arange(math.ceil(t_l / step_s), math.ceil(t_i / step_s - 1e-9)) * step_s, t_i)
            path = self.paths[k]
            t = np.unique(np.concatenate([[t_l], t[t >= t_l], np.array(path.t0)]))  # with every turn
            seg = np.maximum(np.searchsorted(path.t0, t, side="right") - 1, 0)
            kk = np.full(t.size, k)
            s = self._flyout(kk, t, flyout_distance_m)
            p0, s0, u = np.array(path.p0)[seg], np.array(path.s0)[seg], np.array(path.u)[seg]
            ids.append(self.ids[k])
            ts.append(t)
            rs.append(p0 + (s - s0)[:, None] * u)
            vs.append(self._flyout(kk, t, flyout_speed_mps)[:, None] * u)
        return ids, ts, rs, vs

    def table(self, truth: TruthStore, falls: dict) -> pa.Table:
        """One row per interceptor fired."""
        if len(self) == 0:
            return INTERCEPTORS_SCHEMA.empty_table()
        earth = self.world.earth
        aim = ecef_to_geodetic(self.aim, earth=earth)
        ends = np.array([self.results[k].get("end", self.aim[k]) for k in range(len(self))])
        endg = ecef_to_geodetic(ends, earth=earth)
        rows = []
        for k in range(len(self)):
            res, row = self.results[k], self.engagement[k]
            f = falls.get(k)
            rows.append({
                "interceptor_id": self.ids[k], "engagement_id": row["engagement_id"], "battery_id": row["battery_id"],
                "interceptor_type": row["interceptor_type"], "track_id": row["track_id"],
                "launch_time_s": float(self.launch_s[k]), "intercept_time_s": float(self.intercept_s[k]),
                "aim_lat_deg": float(np.atleast_1d(aim.lat_deg)[k]), "aim_lon_deg": float(np.atleast_1d(aim.lon_deg)[k]),
                "aim_alt_m": float(np.atleast_1d(aim.alt_m)[k]), "guidance_updates": int(self.updates[k]),
                "end_lat_deg": float(np.atleast_1d(endg.lat_deg)[k]), "end_lon_deg": float(np.atleast_1d(endg.lon_deg)[k]),
                "end_alt_m": float(np.atleast_1d(endg.alt_m)[k]),
                "target_object_id": truth.object_id[res["target"]] if res.get("target", -1) >= 0 else "",
                "result": res.get("result", "in_flight"), "miss_distance_m": res.get("miss", math.nan),
                "cause": res.get("cause", ""), "assessed_at_s": res.get("assessed_at", math.nan),
                "assessed_killed": res.get("assessed_killed"), "assessment_correct": res.get("correct"),
                "fall_time_s": f[0] if f else math.nan, "fall_lat_deg": f[1] if f else math.nan,
                "fall_lon_deg": f[2] if f else math.nan,
            })
        return pa.Table.from_pylist(rows, schema=INTERCEPTORS_SCHEMA)


def homing_miss_distance_m(pk: float, lethal_radius_m: float, u) -> np.ndarray:
    """Miss distance (m) of a homing interceptor from a uniform draw ``u`` in (0, 1]: the
    Rayleigh quantile whose scale makes P(miss < ``lethal_radius_m``) equal ``pk``."""
    u = np.asarray(u, float)
    if pk <= 0:
        return np.full(u.shape, np.inf)
    sigma = lethal_radius_m / math.sqrt(-2.0 * math.log1p(-min(pk, 1.0 - 1e-12)))
    return sigma * np.sqrt(-2.0 * np.log(np.maximum(u, 1e-300)))


_NOT_FINITE = 1
_FLIGHT_FAILED = 2
""":func:`_aim_points`' failures (0: none)."""


@numba.njit(cache=True)
def _aim_points(x, dt, inv_beta, a, e2, p, rtol, aim) -> int:
    """Where each track's state ``x`` (N, 6: ECEF m, m/s) will be ``dt`` (N,) seconds on,
    into ``aim`` (N, 3): an air-breathing track (:func:`hoplon.core.threat.classify_kinematics`; ``a``,
    ``e2``: WGS84's) along a straight line, a ballistic one flown (``p``: the earth
    model's params, ``rtol``) with its 1/beta ``inv_beta`` (m^2/kg; none (NaN) or <= 0:
    without drag, infinite: as the largest float), for max(dt, 0) s or to the ground, as
    :func:`hoplon.core.ballistic.propagate` flies it with beta = 1 / (1/beta) (bit for bit). Returns 0, or
    :data:`_NOT_FINITE` / :data:`_FLIGHT_FAILED`, propagate's errors."""
    y0 = np.empty(6)
    y_end = np.empty(6)
    for i in range(x.shape[0]):
        for c in range(3):
            aim[i, c] = x[i, c] + dt[i] * x[i, 3 + c]
        if _speed_and_class(x[i], a, e2)[1] != CLASS_BALLISTIC:
            continue
        duration = max(dt[i], 0.0)
        for c in range(6):
            y0[c] = x[i, c]
            if not math.isfinite(y0[c]):
                return _NOT_FINITE
        if not math.isfinite(duration):
            return _NOT_FINITE
        inv = 0.0
        if inv_beta[i] > 0.0:
            inv = 1.0 / (1.0 / min(inv_beta[i], _FLOAT_MAX))
            if not math.isfinite(inv):
                inv = 0.0
        if fly_state_for(y0, inv, duration, p, rtol, y_end) == STATUS_FAILED:
            return _FLIGHT_FAILED
        for c in range(3):
            aim[i, c] = y_end[c]
    return 0


def _unit(v: np.ndarray) -> np.ndarray:
    n = math.sqrt(v.dot(v))  # np.linalg.norm's arithmetic for a vector, without its checks
    return v / n if n > 0 else np.array([0.0, 0.0, 1.0])
