#!/usr/bin/env python3
"""Benchmark: the battle manager's array kernels - impact prediction and engagement windows.

1. **Impact prediction** (``hoplon.core.threat.predict_impact``): N midcourse MRBM-like
   track states (300-1500 km ranges, position sigma 50-500 m, velocity sigma 1-10 m/s,
   1/beta 1e-4 m^2/kg) predicted to the ground by linearisation (each mean state flown
   once with its state-transition matrix, all tracks in one call). Reference in the same
   run: the textbook alternative, a Monte Carlo of ``--mc`` sampled states per track flown
   by the same batched propagator (its accuracy is ~1/sqrt(mc) of the spread; the
   linearised prediction is deterministic). Printed: time per track for both, and the ratio.
2. **Engagement windows** (``hoplon.core.engagement.engagement_windows``): B batteries x J
   threats x K path samples in one numpy call. Reference: a per-(battery, threat, sample)
   Python loop with the same rules (``math``), on a sample of the threats. Printed: time
   per pair-sample and the ratio; the loop's feasibility must equal the batched one.

usage: bench_battle.py [--n 500] [--mc 200] [--batteries 6] [--threats 400] [--samples 300]
                       [--loop-threats 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import best_of

from hoplon.core.ballistic import propagate_to_impact, sample_flight
from hoplon.core.engagement import FlyoutParameters, engagement_windows, flyout_time_s
from hoplon.core.frames import ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from hoplon.core.threat import predict_impact


def midcourse_states(n: int, rng: np.random.Generator):
    """States 150 s after a ground launch at 2.2-3.2 km/s, 35-50 deg, any azimuth."""
    lat = rng.uniform(30.0, 40.0, n)
    lon = rng.uniform(40.0, 50.0, n)
    r0 = np.atleast_2d(geodetic_to_ecef(lat, lon, np.full(n, 30e3)))
    speed, gamma, az = rng.uniform(2200, 3200, n), np.radians(rng.uniform(35, 50, n)), np.radians(rng.uniform(0, 360, n))
    v_enu = np.column_stack([speed * np.cos(gamma) * np.sin(az), speed * np.cos(gamma) * np.cos(az), speed * np.sin(gamma)])
    R = enu_rotation(lat, lon).reshape(-1, 3, 3)
    v0 = np.einsum("nji,nj->ni", R, v_enu)
    from hoplon.core.ballistic import propagate

    res = propagate(r0, v0, np.inf, 150.0)
    x = np.column_stack([res.r_ecef_m, res.v_ecef_mps])
    sp, sv = rng.uniform(50, 500, n), rng.uniform(1, 10, n)
    P = np.zeros((n, 6, 6))
    P[:, [0, 1, 2], [0, 1, 2]] = (sp**2)[:, None]
    P[:, [3, 4, 5], [3, 4, 5]] = (sv**2)[:, None]
    return x, P


def bench_prediction(n: int, mc: int, rng: np.random.Generator) -> dict:
    x, P = midcourse_states(n, rng)
    ib = np.full(n, 1e-4)
    predict_impact(x[:2], P[:2], inv_beta=ib[:2])  # compile / warm up
    t_pred, pred = best_of(3, lambda: predict_impact(x, P, inv_beta=ib))
    m = min(n, 50)
    samples = np.concatenate([rng.multivariate_normal(x[i], P[i], size=mc) for i in range(m)])

    def monte_carlo():
        return propagate_to_impact(samples[:, :3], samples[:, 3:], 1.0 / 1e-4, rtol=1e-7)

    t_mc, imp = best_of(1, monte_carlo)
    # agreement: MC mean impact vs the predicted mean, in units of the MC spread
    lat = imp.lat_deg.reshape(m, mc)
    lon = imp.lon_deg.reshape(m, mc)
    dlat = (lat.mean(axis=1) - pred.lat_deg[:m]) * 111e3
    dlon = (lon.mean(axis=1) - pred.lon_deg[:m]) * 111e3 * np.cos(np.radians(pred.lat_deg[:m]))
    spread = np.sqrt((lat.std(axis=1) * 111e3) ** 2 + (lon.std(axis=1) * 111e3 * np.cos(np.radians(lat.mean(axis=1)))) ** 2)
    return {
        "n": n, "valid": int(pred.valid.sum()), "predict_s_per_track": t_pred / n, "mc_samples": mc,
        "mc_s_per_track": t_mc / m, "speedup": (t_mc / m) / (t_pred / n),
        "median_mean_offset_over_spread": float(np.median(np.hypot(dlat, dlon) / spread)),
    }


def bench_windows(n_bat: int, n_threats: int, k: int, loop_threats: int, rng: np.random.Generator) -> dict:
    x, _ = midcourse_states(n_threats, rng)
    fs = sample_flight(x[:, :3], x[:, 3:], np.inf, step_s=2.0)
    counts = np.diff(fs.offsets)
    kk = min(k, int(counts.max()))
    times = np.full((n_threats, kk), np.nan)
    pos = np.full((n_threats, kk, 3), np.nan)
    for j in range(n_threats):  # the last kk samples of each path: the terminal phase
        c = min(kk, counts[j])
        times[j, :c] = fs.time_s[fs.offsets[j + 1] - c: fs.offsets[j + 1]]
        pos[j, :c] = fs.r_ecef_m[fs.offsets[j + 1] - c: fs.offsets[j + 1]]
    alt = np.full(times.shape, np.nan)
    ok = np.isfinite(times)
    alt[ok] = ecef_to_geodetic(pos[ok]).alt_m
    # batteries 30-80 km from the impact points of the first threats, so windows open
    end = fs.end
    pick = np.arange(n_bat) % n_threats
    blat = end.lat_deg[pick] + rng.uniform(-0.7, 0.7, n_bat)
    blon = end.lon_deg[pick] + rng.uniform(-0.7, 0.7, n_bat)
    bat = np.atleast_2d(geodetic_to_ecef(blat, blon, np.zeros(n_bat)))
    params = FlyoutParameters(*(np.full(n_bat, v) for v in (2800.0, 15.0, 150.0, 120.0, 20e3, 200e3, 40e3, 150e3, 8.0)))
    now = 100.0
    engagement_windows(bat, params, times[:2], pos[:2], alt[:2], now)
    t_b, win = best_of(3, lambda: engagement_windows(bat, params, times, pos, alt, now))

    def loop():
        out = np.zeros((n_bat, loop_threats, kk), bool)
        for b in range(n_bat):
            for j in range(loop_threats):
                for s in range(kk):
                    if not math.isfinite(times[j, s]):
                        continue
                    d = math.dist(pos[j, s], bat[b])
                    fly = float(flyout_time_s(d, 2800.0, 15.0, 150.0))
                    out[b, j, s] = (20e3 <= d <= 200e3 and 40e3 <= alt[j, s] <= 150e3 and fly <= 120.0
                                    and times[j, s] - fly - 8.0 >= now)
        return out

    t_l, ref = best_of(1, loop)
    assert np.array_equal(ref, win.feasible[:, :loop_threats]), "loop and batched windows differ"
    pairs = n_bat * n_threats * kk
    return {"batteries": n_bat, "threats": n_threats, "samples": kk, "batched_ns_per_pair_sample": 1e9 * t_b / pairs,
            "loop_ns_per_pair_sample": 1e9 * t_l / (n_bat * loop_threats * kk),
            "speedup": (t_l / (n_bat * loop_threats * kk)) / (t_b / pairs), "feasible_fraction": float(win.feasible.mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--mc", type=int, default=200)
    ap.add_argument("--batteries", type=int, default=6)
    ap.add_argument("--threats", type=int, default=400)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--loop-threats", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    pred = bench_prediction(args.n, args.mc, rng)
    win = bench_windows(args.batteries, args.threats, args.samples, min(args.loop_threats, args.threats), rng)
    out = {"benchmark": "battle", "prediction": pred, "windows": win, "wall_s": time.perf_counter() - t0}
    if args.json:
        print(json.dumps(out, indent=2))
        return
    print(f"impact prediction, {pred['n']} midcourse tracks ({pred['valid']} valid): linearised {1e3 * pred['predict_s_per_track']:.2f} ms "
          f"per track; Monte Carlo of {pred['mc_samples']} samples per track (same propagator) {1e3 * pred['mc_s_per_track']:.1f} ms "
          f"-> {pred['speedup']:.0f}x; predicted mean vs MC mean: median {pred['median_mean_offset_over_spread']:.3f} of the spread")
    print(f"engagement windows, {win['batteries']} batteries x {win['threats']} threats x {win['samples']} samples: "
          f"{win['batched_ns_per_pair_sample']:.0f} ns per battery-threat-sample; per-sample Python loop "
          f"{win['loop_ns_per_pair_sample']:.0f} ns -> {win['speedup']:.0f}x (identical feasibility; "
          f"{100 * win['feasible_fraction']:.1f} % feasible)")


if __name__ == "__main__":
    main()
