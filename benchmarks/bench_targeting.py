#!/usr/bin/env python3
"""Benchmark: batched ballistic targeting (boost + free flight) vs one-at-a-time solves.

K random targeting problems on WGS84: launch points at |lat| < 60 deg anywhere in
longitude, aim points 300-1600 km away on a random azimuth (geographiclib's Direct on
the WGS84 ellipsoid), both on the ellipsoid (height 0). The missile is the packaged
catalog type ``mrbm-liquid-ghadr-class`` (notional single-stage liquid MRBM: its
``BoostParameters`` and its re-entry vehicle's ``rv_beta``). All K are solved by
``hoplon.core.targeting.solve_targeting`` in ONE batched call, minimum-energy profile
(controls: thrust cutoff time, pitch-over kick angle, launch azimuth; each flight is the
RK4 gravity-turn boost then the DP5(4) free flight with J2, rotation and drag).

References measured in the same run, on the same problems:

* **loop** -- the same solver called with one problem at a time, for a sample of the
  problems: what batching gains (Python overhead and under-filled integrator calls);
* **scipy** -- a plain scipy approach for a smaller sample: ``scipy.optimize.
  least_squares`` on two controls, (cutoff time, azimuth), with the kick FIXED to the
  batched solution's kick. Its residual (east, north miss at the aim point, m) flies the
  boost with Hoplon's ``fly_boost`` and the free flight with ``scipy.integrate.solve_ivp``
  (DOP853, rtol 1e-9) of the same physics, with the plain Python right-hand side and
  impact event of ``benchmarks/bench_propagation.py``. It starts from the mid-point of
  the cutoff interval and the geodesic azimuth. The reference solves an easier problem
  (two unknowns, no minimum-energy condition, kick given), so its time is a lower bound
  of what a plain scipy targeting costs.

Prints ms per solved problem for each, the ratios, the largest miss of the batched
solutions (each must hit within 100 m; the count that does is printed), the misses of the
scipy solutions and the first call's time (numba compile or cache load) separately.
Timings are the best of ``--repeat`` runs (default 1: the batched call takes seconds).

    python benchmarks/bench_targeting.py [--k 200] [--sample 10] [--scipy-sample 3] [--repeat 1] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numba
import numpy as np
from geographiclib.geodesic import Geodesic
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

from hoplon.core.boost import BoostParameters, fly_boost
from hoplon.core.frames import geodetic_to_ecef
from hoplon.core.targeting import Profile, solve_targeting
from hoplon.scenario.catalog import load_packaged_catalog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of, no_nan
from bench_propagation import _hit, numpy_rhs

THREAT_TYPE = "mrbm-liquid-ghadr-class"
HIT_M = 100.0


def missile() -> tuple[BoostParameters, float]:
    """Boost model and RV ballistic coefficient (kg/m^2) of the packaged catalog type."""
    t = load_packaged_catalog().ballistic[THREAT_TYPE]
    boost = BoostParameters(
        launch_mass_kg=t.launch_mass_kg, propellant_mass_kg=t.propellant_mass_kg, burn_time_s=t.burn_time_s,
        specific_impulse_s=t.specific_impulse_s, vertical_rise_s=t.vertical_rise_s,
        reference_area_m2=t.reference_area_m2, drag_coefficient=t.drag_coefficient,
    )
    return boost, float(t.rv_beta_kg_m2)


def problems(k: int, seed: int) -> dict[str, np.ndarray]:
    """K launch/aim pairs 300-1600 km apart (WGS84 geodesics), launch |lat| < 60 deg."""
    rng = np.random.default_rng(seed)
    lat1 = rng.uniform(-60.0, 60.0, k)
    lon1 = rng.uniform(-180.0, 180.0, k)
    azi = rng.uniform(0.0, 360.0, k)
    dist = rng.uniform(300e3, 1600e3, k)
    g = Geodesic.WGS84
    out = [g.Direct(a, b, c, d) for a, b, c, d in zip(lat1, lon1, azi, dist)]
    return {
        "lat1": lat1, "lon1": lon1, "azi_deg": azi, "dist_m": dist,
        "lat2": np.array([o["lat2"] for o in out]), "lon2": np.array([o["lon2"] for o in out]),
    }


def solve(p, idx, boost, beta):
    return solve_targeting(
        p["lat1"][idx], p["lon1"][idx], 0.0, p["lat2"][idx], p["lon2"][idx], 0.0,
        beta_kg_m2=beta, profile=Profile.MINIMUM_ENERGY, boost=boost,
    )


# ------------------------------------------------------------------ the plain scipy reference


def _east_north(lat_deg: float, lon_deg: float) -> np.ndarray:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.array([
        [-np.sin(lo), np.cos(lo), 0.0],
        [-np.sin(la) * np.cos(lo), -np.sin(la) * np.sin(lo), np.cos(la)],
    ])


def scipy_target(lat1, lon1, lat2, lon2, azi0_rad, kick_rad, boost: BoostParameters, beta: float):
    """least_squares on (cutoff, azimuth), kick fixed; returns (cutoff, azimuth, miss_m, nfev)."""
    rhs = numpy_rhs(beta)
    r_aim = np.asarray(geodetic_to_ecef(lat2, lon2, 0.0), dtype=float)
    en = _east_north(lat2, lon2)

    def impact(x):
        bo, _ = fly_boost(lat1, lon1, 0.0, azimuth_rad=x[1], kick_rad=kick_rad, cutoff_s=x[0], boost=boost)
        y0 = np.concatenate([bo.r_ecef_m[0], bo.v_ecef_mps[0]])
        sol = solve_ivp(rhs, (0.0, 7200.0), y0, method="DOP853", rtol=1e-9, atol=1e-6, events=_hit)
        if not sol.y_events[0].size:  # never came down: a large residual steers back
            return sol.y[:3, -1]
        return sol.y_events[0][0][:3]

    def residual(x):
        return en @ (impact(x) - r_aim)

    t_v, t_b = float(boost.vertical_rise_s), float(boost.burn_time_s)
    lo, hi = t_v + 0.05 * (t_b - t_v), t_b
    res = least_squares(
        residual, x0=[0.5 * (lo + hi), azi0_rad], bounds=([lo, -np.inf], [hi, np.inf]),
        x_scale=[1.0, 1e-3], diff_step=1e-7, xtol=1e-12, ftol=1e-12, gtol=None, max_nfev=200,
    )
    miss = float(np.linalg.norm(impact(res.x) - r_aim))
    return float(res.x[0]), float(res.x[1]), miss, int(res.nfev)


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--k", type=int, default=200, help="problems solved in one batched call")
    ap.add_argument("--sample", type=int, default=10, help="problems solved one at a time by the same solver")
    ap.add_argument("--scipy-sample", type=int, default=3, help="problems solved by the plain scipy reference")
    ap.add_argument("--repeat", type=int, default=1, help="timings are the best of this many runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    boost, beta = missile()
    p = problems(a.k, a.seed)
    all_idx = np.arange(a.k)

    warm_idx = all_idx[:2]
    t0 = time.perf_counter()
    solve(p, warm_idx, boost, beta)  # compile or load the numba cache
    warm = time.perf_counter() - t0

    t_batch, sol = best_of(a.repeat, solve, p, all_idx, boost, beta)
    t_batch /= a.k
    hits = sol.ok & (sol.miss_m < HIT_M)

    k_loop = min(a.sample, a.k)
    loop_idx = np.linspace(0, a.k - 1, k_loop).astype(int) if k_loop else np.array([], dtype=int)
    t_loop, loop_miss = best_of(a.repeat, lambda: [float(solve(p, [i], boost, beta).miss_m[0]) for i in loop_idx])
    t_loop = t_loop / k_loop if k_loop else float("nan")

    # scipy: only problems the batched solver hit (its kick is the reference's input)
    k_sp = min(a.scipy_sample, int(hits.sum()))
    sp_idx = np.flatnonzero(hits)[np.linspace(0, int(hits.sum()) - 1, k_sp).astype(int)] if k_sp else []

    def scipy_all():
        rows = []
        for i in sp_idx:
            cut, az, miss, nfev = scipy_target(
                p["lat1"][i], p["lon1"][i], p["lat2"][i], p["lon2"][i], np.radians(p["azi_deg"][i]),
                sol.kick_rad[i], boost, beta,
            )
            rows.append((int(i), cut, az, miss, nfev))
        return rows

    t_sp, sp_rows = best_of(a.repeat, scipy_all)
    t_sp = t_sp / k_sp if k_sp else float("nan")

    failed = np.flatnonzero(~hits)
    result = {
        "benchmark": "solve_targeting",
        "threat_type": THREAT_TYPE,
        "k": a.k,
        "numba_threads": numba.get_num_threads(),
        "repeat": a.repeat,
        "first_call_s": warm,
        "batched_s_per_problem": t_batch,
        "batched_total_s": t_batch * a.k,
        "hits": int(hits.sum()),
        "max_miss_m": float(np.max(sol.miss_m)) if a.k else float("nan"),
        "failures": [{"index": int(i), "range_km": float(p["dist_m"][i] / 1e3), "message": sol.message[i]}
                     for i in failed],
        "references": {
            "loop": {
                "sample": k_loop,
                "s_per_problem": t_loop,
                "speedup": t_loop / t_batch,
                "max_miss_m": max(loop_miss, default=float("nan")),
            },
            "scipy": {
                "sample": k_sp,
                "s_per_problem": t_sp,
                "speedup": t_sp / t_batch,
                "hits": sum(r[3] < HIT_M for r in sp_rows),
                "max_miss_m": max((r[3] for r in sp_rows), default=float("nan")),
                "mean_nfev": float(np.mean([r[4] for r in sp_rows])) if sp_rows else float("nan"),
                # the same physics: the controls agree with the batched solution's
                "max_cutoff_difference_s": max((abs(r[1] - sol.cutoff_s[r[0]]) for r in sp_rows),
                                               default=float("nan")),
                "max_azimuth_difference_mrad": max(
                    (abs((r[2] - sol.azimuth_rad[r[0]] + np.pi) % (2 * np.pi) - np.pi) * 1e3 for r in sp_rows),
                    default=float("nan"),
                ),
            },
        },
    }
    if a.json:
        print(json.dumps(no_nan(result), indent=2))
        return
    lp, sp = result["references"]["loop"], result["references"]["scipy"]
    print(f"solve_targeting ({THREAT_TYPE}, minimum energy): {a.k} problems 300-1600 km, "
          f"{result['hits']} hit within {HIT_M:.0f} m (largest miss {result['max_miss_m']:.3f} m)")
    print(f"  Hoplon batched (one call)     : {t_batch * 1e3:9.2f} ms/problem ({t_batch * a.k:.2f} s total; "
          f"first call {warm:.2f} s; {result['numba_threads']} numba threads)")
    if k_loop:
        print(f"  Hoplon one problem per call   : {t_loop * 1e3:9.2f} ms/problem over {k_loop} -> batched "
              f"{lp['speedup']:.1f}x faster")
    if k_sp:
        print(f"  scipy least_squares + DOP853  : {t_sp * 1e3:9.2f} ms/problem over {k_sp} -> batched "
              f"{sp['speedup']:.1f}x faster ({sp['hits']}/{k_sp} hit, largest miss {sp['max_miss_m']:.3f} m, "
              f"{sp['mean_nfev']:.0f} residual calls each; controls agree to {sp['max_cutoff_difference_s']:.2e} s "
              f"and {sp['max_azimuth_difference_mrad']:.2e} mrad)")
        print("    (the scipy reference solves 2 controls with the kick given: a lower bound of its cost)")
    for f in result["failures"]:
        print(f"  failed #{f['index']} ({f['range_km']:.0f} km): {f['message']}")


if __name__ == "__main__":
    main()
