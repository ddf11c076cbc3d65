#!/usr/bin/env python3
"""Benchmark: batched waypoint-route states (drones, cruise missiles) vs per-route loops.

N random feasible routes of 5 waypoints each (launch |lat| < 60 deg, any longitude; legs
50-300 km on the navigation sphere; heading changes below 80 deg at every interior
waypoint; leg ground speeds 40-250 m/s; waypoint altitudes 50-1500 m, so the 10 m/s climb
limit never binds; turn rate 3 deg/s; launch times 0-600 s) are planned by
``hoplon.core.airbreather.plan_routes`` and sampled at M common times (0 to the median
arrival time, so most samples are in flight; the flying fraction is printed) by
``route_states`` in one call. Its figure is states per second (a state: ECEF position and
velocity, geodetic position, heading, speeds, status and leg of one route at one time).

References measured in the same run, for a sample of the same routes at the same times,
compute POSITIONS ONLY for straight great-circle legs with sharp corners (no fly-by
turns, no climb limit -- it does not bind here): a simpler model, so their cost is a
lower bound of a plain implementation of Hoplon's:

* **python per sample** -- a per-route, per-sample Python loop: find the leg (bisect on
  the leg end times), spherical linear interpolation (slerp) between the leg's unit
  vectors on the navigation sphere (``math``), altitude linear in time along the leg,
  then ``pymap3d.geodetic2ecef`` of that one sample;
* **numpy per route** -- a per-route loop, vectorised over the M times with numpy
  (``searchsorted``, array slerp, ``pymap3d.geodetic2ecef`` on arrays): the stronger
  plain baseline.

As a same-model check the references' positions are compared with ``route_states`` of a
sharp-corner plan (``max_turn_rate_rad_s = inf``) of the sample routes (they must agree to
millimetres); the difference from the turning plan is printed for information.

Timings are the best of ``--repeat`` runs (default 3); the first call (numba compile or
cache load) is timed separately.

    python benchmarks/bench_airbreather.py [--n 1000] [--m 600] [--sample 20] [--repeat 3] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import time

import numba
import numpy as np
import pymap3d

from hoplon.core.airbreather import FLYING, NAV_SPHERE_RADIUS_M, plan_routes, route_states
from _timing import best_of

R_NAV = NAV_SPHERE_RADIUS_M
N_WAYPOINTS = 5
TURN_RATE_RAD_S = math.radians(3.0)
CLIMB_RATE_MPS = 10.0


def random_routes(n: int, seed: int) -> dict[str, np.ndarray]:
    """N feasible 5-waypoint routes as the flat arrays of ``plan_routes`` (spherical trigonometry)."""
    rng = np.random.default_rng(seed)
    w = N_WAYPOINTS
    lat = np.empty((n, w))
    lon = np.empty((n, w))
    lat[:, 0] = np.radians(rng.uniform(-60.0, 60.0, n))
    lon[:, 0] = np.radians(rng.uniform(-180.0, 180.0, n))
    heading = np.radians(rng.uniform(0.0, 360.0, n))
    for k in range(1, w):
        if k > 1:
            heading = heading + np.radians(rng.uniform(-80.0, 80.0, n))
        d = rng.uniform(50e3, 300e3, n) / R_NAV
        p1, l1 = lat[:, k - 1], lon[:, k - 1]
        p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(heading))
        l2 = l1 + np.arctan2(np.sin(heading) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
        lat[:, k], lon[:, k] = p2, l2
        # the course on arrival: the reverse of the bearing from point 2 back to point 1
        dl = l1 - l2
        back = np.arctan2(np.sin(dl) * np.cos(p1), np.cos(p2) * np.sin(p1) - np.sin(p2) * np.cos(p1) * np.cos(dl))
        heading = back + np.pi
    return {
        "lat_deg": np.degrees(lat).ravel(),
        "lon_deg": ((np.degrees(lon) + 180.0) % 360.0 - 180.0).ravel(),
        "alt_m": rng.uniform(50.0, 1500.0, (n, w)).ravel(),
        "speed_mps": rng.uniform(40.0, 250.0, (n, w)).ravel(),
        "offsets": np.arange(0, n * w + 1, w, dtype=np.int64),
        "launch_time_s": rng.uniform(0.0, 600.0, n),
    }


def plan(routes: dict[str, np.ndarray], turn_rate: float = TURN_RATE_RAD_S):
    return plan_routes(
        routes["lat_deg"], routes["lon_deg"], routes["alt_m"], routes["speed_mps"], routes["offsets"],
        max_turn_rate_rad_s=turn_rate, climb_rate_mps=CLIMB_RATE_MPS, launch_time_s=routes["launch_time_s"],
    )


def take(routes: dict[str, np.ndarray], idx: np.ndarray) -> dict[str, np.ndarray]:
    rows = (idx[:, None] * N_WAYPOINTS + np.arange(N_WAYPOINTS)).ravel()
    out = {key: routes[key][rows] for key in ("lat_deg", "lon_deg", "alt_m", "speed_mps")}
    out["offsets"] = np.arange(0, idx.size * N_WAYPOINTS + 1, N_WAYPOINTS, dtype=np.int64)
    out["launch_time_s"] = routes["launch_time_s"][idx]
    return out


# ------------------------------------------------------------------ plain references (sharp corners)


def _legs(lat_deg, lon_deg, speed, launch):
    """Unit vectors of the waypoints, leg angles and the times the route reaches each waypoint."""
    u = [
        (math.cos(math.radians(a)) * math.cos(math.radians(b)),
         math.cos(math.radians(a)) * math.sin(math.radians(b)), math.sin(math.radians(a)))
        for a, b in zip(lat_deg, lon_deg)
    ]
    theta = [math.acos(max(-1.0, min(1.0, sum(p * q for p, q in zip(u[k], u[k + 1]))))) for k in range(len(u) - 1)]
    times = [launch]
    for k, th in enumerate(theta):
        times.append(times[-1] + th * R_NAV / speed[k + 1])
    return u, theta, times


def python_per_sample(routes: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    """Positions (N, M, 3) by a Python loop over routes and samples; pymap3d per sample."""
    n = routes["launch_time_s"].size
    out = np.empty((n, times.size, 3))
    for i in range(n):
        sl = slice(routes["offsets"][i], routes["offsets"][i + 1])
        alt = routes["alt_m"][sl].tolist()
        u, theta, t_wp = _legs(routes["lat_deg"][sl], routes["lon_deg"][sl], routes["speed_mps"][sl].tolist(),
                               float(routes["launch_time_s"][i]))
        for j, t in enumerate(times.tolist()):
            t = min(max(t, t_wp[0]), t_wp[-1])
            k = min(max(bisect.bisect_right(t_wp, t) - 1, 0), len(theta) - 1)
            f = (t - t_wp[k]) / (t_wp[k + 1] - t_wp[k])
            th = theta[k]
            a, b = math.sin((1.0 - f) * th) / math.sin(th), math.sin(f * th) / math.sin(th)
            x, y, z = (a * p + b * q for p, q in zip(u[k], u[k + 1]))
            h = alt[k] + f * (alt[k + 1] - alt[k])
            out[i, j] = pymap3d.geodetic2ecef(math.atan2(z, math.hypot(x, y)), math.atan2(y, x), h, deg=False)
    return out


def numpy_per_route(routes: dict[str, np.ndarray], times: np.ndarray) -> np.ndarray:
    """Positions (N, M, 3) by a Python loop over routes, vectorised over the M times."""
    n = routes["launch_time_s"].size
    out = np.empty((n, times.size, 3))
    for i in range(n):
        sl = slice(routes["offsets"][i], routes["offsets"][i + 1])
        la, lo = np.radians(routes["lat_deg"][sl]), np.radians(routes["lon_deg"][sl])
        u = np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)
        theta = np.arccos(np.clip(np.sum(u[:-1] * u[1:], axis=1), -1.0, 1.0))
        t_wp = routes["launch_time_s"][i] + np.concatenate([[0.0], np.cumsum(theta * R_NAV / routes["speed_mps"][sl][1:])])
        t = np.clip(times, t_wp[0], t_wp[-1])
        k = np.clip(np.searchsorted(t_wp, t, side="right") - 1, 0, theta.size - 1)
        f = (t - t_wp[k]) / (t_wp[k + 1] - t_wp[k])
        th = theta[k]
        p = (np.sin((1.0 - f) * th) / np.sin(th))[:, None] * u[k] + (np.sin(f * th) / np.sin(th))[:, None] * u[k + 1]
        alt = routes["alt_m"][sl]
        h = alt[k] + f * (alt[k + 1] - alt[k])
        x, y, z = pymap3d.geodetic2ecef(np.arctan2(p[:, 2], np.hypot(p[:, 0], p[:, 1])), np.arctan2(p[:, 1], p[:, 0]), h,
                                        deg=False)
        out[i] = np.stack([x, y, z], axis=1)
    return out


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="routes evaluated by Hoplon")
    ap.add_argument("--m", type=int, default=600, help="sample times (common grid)")
    ap.add_argument("--sample", type=int, default=20, help="routes evaluated by each reference loop")
    ap.add_argument("--repeat", type=int, default=3, help="timings are the best of this many runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    routes = random_routes(a.n, a.seed)

    t0 = time.perf_counter()
    warm_routes = take(routes, np.arange(min(2, a.n)))
    route_states(plan(warm_routes), np.linspace(0.0, 100.0, 3))  # compile or load the numba cache
    warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    pl = plan(routes)
    t_plan = time.perf_counter() - t0
    times = np.linspace(0.0, float(np.median(pl.arrival_time_s)), a.m)
    t_states, st = best_of(a.repeat, route_states, pl, times)
    n_states = a.n * a.m
    per_state = t_states / n_states

    k = min(a.sample, a.n)
    idx = np.linspace(0, a.n - 1, k).astype(int)
    sample = take(routes, idx)
    refs = {}
    for name, fn in (("python per sample", python_per_sample), ("numpy per route", numpy_per_route)):
        t, pos = best_of(a.repeat, fn, sample, times)
        refs[name] = (t / (k * a.m), pos)
    sharp = route_states(plan(sample, turn_rate=math.inf), times).r_ecef_m
    turning = st.r_ecef_m[idx]

    result = {
        "benchmark": "route_states",
        "n": a.n,
        "numba_threads": numba.get_num_threads(),
        "m": a.m,
        "waypoints_per_route": N_WAYPOINTS,
        "sample": k,
        "repeat": a.repeat,
        "first_call_s": warm,
        "plan_s": t_plan,
        "states_s": t_states,
        "states_per_s": n_states / t_states,
        "s_per_state": per_state,
        "shape": list(st.r_ecef_m.shape),
        "flying_fraction": float(np.mean(st.status == FLYING)),
        "references": {
            name: {
                "s_per_state": t,
                "states_per_s": 1.0 / t,
                "speedup": t / per_state,
                # same model: agreement with Hoplon's sharp-corner plan of the sample routes
                "max_position_difference_sharp_m": float(np.max(np.linalg.norm(pos - sharp, axis=-1))),
                # information only: what the fly-by turns change
                "max_position_difference_turning_m": float(np.max(np.linalg.norm(pos - turning, axis=-1))),
            }
            for name, (t, pos) in refs.items()
        },
    }
    if a.json:
        print(json.dumps(result, indent=2))
        return
    print(f"route_states: {a.n} routes x {a.m} times ({N_WAYPOINTS} waypoints, fly-by turns at 3 deg/s), "
          f"{result['flying_fraction'] * 100:.0f}% of states in flight")
    print(f"  Hoplon (batched, numba)  : {n_states / t_states / 1e6:8.2f} M states/s ({per_state * 1e9:8.1f} ns/state; "
          f"{t_states * 1e3:.1f} ms total; plan_routes {t_plan * 1e3:.1f} ms; first call {warm:.2f} s; {result['numba_threads']} numba threads)")
    for name, ref in result["references"].items():
        print(f"  {name:25s}: {ref['states_per_s'] / 1e6:8.4f} M states/s ({ref['s_per_state'] * 1e9:8.1f} ns/state) "
              f"-> Hoplon {ref['speedup']:6.1f}x faster per state (positions agree with a sharp-corner plan to "
              f"{ref['max_position_difference_sharp_m'] * 1e3:.1e} mm; differ from the turning plan by up to "
              f"{ref['max_position_difference_turning_m'] / 1e3:.2f} km)")
    print("    (the references compute positions only, on straight legs with sharp corners: a lower bound of their cost)")


if __name__ == "__main__":
    main()
