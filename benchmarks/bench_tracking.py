#!/usr/bin/env python3
"""Benchmark: Hoplon's multi-target tracker against the Stone Soup reference tracker.

The scenario (benchmarks/tracking_scenarios.py, the tracking benchmark's
specification): one radar at Kürecik, 40 nearly-constant-velocity targets with random
births and lives over 120 scans 1 s apart, detection probability 0.9, Poisson(30)
false alarms per scan, 25 m / 2 mrad noise. For each seed the scenario is generated in
memory and tracked by

* Hoplon: :func:`hoplon.core.tracker.track_all` with the DEFAULT ``TrackerConfig`` (no
  configuration file; ``--set KEY=VALUE`` tries other settings and says so), timed as
  the best of ``--repeat`` runs after a warm-up call on the first scans;
* Stone Soup, when ``stonesoup`` is importable in this interpreter (an optional extra):
  benchmarks/stonesoup_tracker.py (EKF, NCV q = 0.5, GNN with Mahalanobis gating and
  missed distance 4, 3-point initiation, deletion after 3 scans without update), on the
  same scans in the same process, one run, its tracking loop timed.

Both are scored by one function (:func:`hoplon.core.metrics.scan_metrics`, the shared
tracking benchmark's definitions): at every truth time GOSPA with c = 1000 m, p = 2,
alpha = 2 on WGS84 ECEF positions, the RMS position error of the assigned pairs, the
missed-target and false-track scans and the track-id switches. Prints per seed both
trackers' figures, the GOSPA difference (Hoplon minus Stone Soup; <= 0 is no worse) and
the ratio of measurements per second, then the goal: GOSPA no worse than Stone Soup's
on every seed and at least 100 times its measurements per second.

``--scale`` runs the scale case instead: 1000 targets over a 120 degree sector living
through every scan, 1000 false alarms per scan in the same sector, 30 scans 1 s apart,
fed to a :class:`hoplon.core.tracker.Tracker` scan by scan; prints the steady-state
time per scan (the median over the last 20 scans) against the goal of 0.1 s.

Everything runs on ONE core: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS and
NUMBA_NUM_THREADS are set to 1 in ``os.environ`` before NumPy (or numba) is imported,
so the figures are per core for Hoplon and Stone Soup alike.

    python benchmarks/bench_tracking.py [--seeds 1 2 3] [--targets 40] [--scans 120] [--json]
    python benchmarks/bench_tracking.py --scale [--scale-targets 1000] [--scale-clutter 1000] [--scale-scans 30]
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _name in THREAD_VARIABLES:  # before NumPy and numba are imported: one core
    os.environ[_name] = "1"

import argparse
import dataclasses
import json
import time

import numpy as np
import stonesoup_tracker
from _timing import best_of, no_nan
from tracking_scenarios import TrackingScenario, generate, generate_scale

from hoplon.core.frames import enu_to_ecef
from hoplon.core.metrics import scan_metrics
from hoplon.core.tracker import Tracker, TrackerConfig, track_all

GOSPA_C_M = 1000.0
GOSPA_P = 2
SPEEDUP_GOAL = 100.0
SCALE_GOAL_S = 0.1
SCALE_STEADY_SCANS = 20


def score(sc: TrackingScenario, time_s: np.ndarray, track_id: np.ndarray, pos_ecef_m: np.ndarray) -> dict:
    """The benchmark's figures of tracks (ECEF positions) against the scenario's truth."""
    s = scan_metrics(sc.truth_time_s, sc.truth_id, sc.truth_ecef_m, time_s, track_id, pos_ecef_m,
                     c=GOSPA_C_M, p=GOSPA_P).summary
    return {
        "mean_gospa_m": s.mean_gospa_m,
        "rms_position_m": s.rms_position_m,
        "missed_target_scans": s.missed_target_scans,
        "false_track_scans": s.false_track_scans,
        "id_switches": s.id_switches,
        "track_breaks": s.track_breaks,
        "truth_scans": s.truth_scans,
        "tracks": int(np.unique(track_id).size),
    }


def run_hoplon(sc: TrackingScenario, cfg: TrackerConfig, repeat: int) -> dict:
    t0 = time.perf_counter()
    track_all(sc.sensors, sc.scans[:3], cfg)  # warm-up: numba compilation or cache load
    warm = time.perf_counter() - t0
    seconds, out = best_of(repeat, track_all, sc.sensors, sc.scans, cfg)
    fig = score(sc, out.time_s, out.track_id, out.state[:, 0:3])
    fig.update(seconds=seconds, measurements_per_s=sc.n_measurements / seconds, first_call_s=warm)
    return fig


def run_reference(sc: TrackingScenario) -> dict:
    ss = stonesoup_tracker.run_stonesoup(sc.sensor, sc.scans)
    lat, lon, alt = sc.params["site"]
    pos = enu_to_ecef(ss.enu_m, lat0_deg=lat, lon0_deg=lon, alt0_m=alt) if len(ss.enu_m) else np.empty((0, 3))
    fig = score(sc, ss.time_s, ss.track_id, pos)
    fig.update(seconds=ss.seconds, measurements_per_s=ss.measurements / ss.seconds)
    return fig


def _config(settings: list[str]) -> tuple[TrackerConfig, dict]:
    """The default TrackerConfig, with ``KEY=VALUE`` overrides (typed as the defaults)."""
    cfg = TrackerConfig()
    changes = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or key not in {f.name for f in dataclasses.fields(TrackerConfig)}:
            raise SystemExit(f"--set expects KEY=VALUE with a TrackerConfig field, got {item!r}")
        kind = type(getattr(cfg, key))
        changes[key] = value if kind is str else kind(float(value)) if kind is int else kind(value)
    return dataclasses.replace(cfg, **changes), changes


def _threads() -> dict:
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


def bench_seeds(a: argparse.Namespace, cfg: TrackerConfig, changes: dict) -> dict:
    use_ss = stonesoup_tracker.AVAILABLE and not a.no_stonesoup
    seeds = []
    for seed in a.seeds:
        sc = generate(seed, targets=a.targets, scans=a.scans, clutter=a.clutter, pd=a.pd)
        row = {
            "seed": seed, "measurements": sc.n_measurements, "false_alarms": sc.n_false_alarms,
            "scans": len(sc.scans), "truth_rows": int(sc.truth_time_s.size),
            "hoplon": run_hoplon(sc, cfg, a.repeat), "stonesoup": None, "gospa_difference_m": None, "speedup": None,
        }
        if use_ss:
            ref = run_reference(sc)
            row["stonesoup"] = ref
            row["gospa_difference_m"] = row["hoplon"]["mean_gospa_m"] - ref["mean_gospa_m"]
            row["speedup"] = row["hoplon"]["measurements_per_s"] / ref["measurements_per_s"]
        seeds.append(row)
    result = {
        "benchmark": "tracking",
        "scenario": {"targets": a.targets, "scans": a.scans, "dt_s": 1.0, "pd": a.pd, "false_alarms_per_scan": a.clutter,
                     "q": 0.5, "sigma_range_m": 25.0, "sigma_angle_rad": 0.002},
        "tracker_config": "default" if not changes else changes,
        "hoplon_repeat": a.repeat,
        "stonesoup_version": stonesoup_tracker.VERSION if use_ss else None,
        "threads": _threads(),
        "gospa": {"c_m": GOSPA_C_M, "p": GOSPA_P, "alpha": 2},
        "seeds": seeds,
        "goal": None,
    }
    if use_ss:
        no_worse = all(r["gospa_difference_m"] <= 0.0 for r in seeds)
        min_speedup = min(r["speedup"] for r in seeds)
        result["goal"] = {
            "gospa_no_worse_every_seed": no_worse,
            "min_speedup": min_speedup,
            "speedup_goal": SPEEDUP_GOAL,
            "met": bool(no_worse and min_speedup >= SPEEDUP_GOAL),
        }
    return result


def bench_scale(a: argparse.Namespace, cfg: TrackerConfig, changes: dict) -> dict:
    sc = generate_scale(a.seeds[0], targets=a.scale_targets, clutter=a.scale_clutter, scans=a.scale_scans, pd=a.pd)
    t0 = time.perf_counter()
    track_all(sc.sensors, sc.scans[:3], cfg)  # warm-up
    warm = time.perf_counter() - t0
    tracker = Tracker(sc.sensors, cfg)
    per_scan, live = [], []
    for scan in sc.scans:
        t0 = time.perf_counter()
        tracker.add_scan(scan)
        per_scan.append(time.perf_counter() - t0)
        live.append(len(tracker.tracks))
    out = tracker.finish()
    steady = per_scan[-SCALE_STEADY_SCANS:]
    median = float(np.median(steady))
    fig = score(sc, out.time_s, out.track_id, out.state[:, 0:3])
    return {
        "benchmark": "tracking_scale",
        "scenario": {k: sc.params[k] for k in ("seed", "targets", "clutter", "scans", "dt", "pd", "sector_deg")},
        "tracker_config": "default" if not changes else changes,
        "threads": _threads(),
        "measurements": sc.n_measurements,
        "first_call_s": warm,
        "scan_s": per_scan,
        "live_tracks": live,
        "steady_scans": len(steady),
        "steady_median_s_per_scan": median,
        "steady_max_s_per_scan": float(np.max(steady)),
        "total_s": float(np.sum(per_scan)),
        "measurements_per_s": sc.n_measurements / float(np.sum(per_scan)),
        "goal_s_per_scan": SCALE_GOAL_S,
        "met": median < SCALE_GOAL_S,
        "metrics": fig,
    }


def _print_seeds(r: dict) -> None:
    s = r["scenario"]
    cfg = "default TrackerConfig" if r["tracker_config"] == "default" else f"TrackerConfig with {r['tracker_config']} (NOT the default)"
    ref = f"Stone Soup {r['stonesoup_version']}" if r["stonesoup_version"] else "no Stone Soup (not installed or --no-stonesoup)"
    print(f"Tracking: {s['targets']} targets, {s['scans']} scans, pd {s['pd']}, {s['false_alarms_per_scan']:g} false alarms/scan; "
          f"Hoplon {cfg} (best of {r['hoplon_repeat']}); {ref}; one thread")
    head = f"  {'':11s} {'GOSPA m':>8s} {'RMS m':>7s} {'missed':>7s} {'false':>6s} {'switches':>8s} {'meas/s':>10s}"
    for row in r["seeds"]:
        print(f"seed {row['seed']}: {row['measurements']} measurements ({row['false_alarms']} false alarms), "
              f"{row['truth_rows']} truth rows, {row['scans']} scans")
        print(head)
        for name, key in (("Hoplon", "hoplon"), ("Stone Soup", "stonesoup")):
            f = row[key]
            if f is None:
                continue
            print(f"  {name:11s} {f['mean_gospa_m']:8.1f} {f['rms_position_m']:7.1f} {f['missed_target_scans']:7d} "
                  f"{f['false_track_scans']:6d} {f['id_switches']:8d} {f['measurements_per_s']:10,.0f}")
        if row["stonesoup"] is not None:
            d = row["gospa_difference_m"]
            print(f"  -> GOSPA Hoplon - Stone Soup: {d:+.1f} m ({'no worse' if d <= 0 else 'WORSE'}); "
                  f"Hoplon {row['speedup']:.0f}x the measurements/s")
    g = r["goal"]
    if g is not None:
        print(f"Goal (GOSPA no worse on every seed, >= {g['speedup_goal']:.0f}x measurements/s): "
              f"{'MET' if g['met'] else 'NOT MET'} (GOSPA no worse on every seed: {'yes' if g['gospa_no_worse_every_seed'] else 'no'}; "
              f"least ratio {g['min_speedup']:.0f}x)")


def _print_scale(r: dict) -> None:
    s = r["scenario"]
    cfg = "default TrackerConfig" if r["tracker_config"] == "default" else f"TrackerConfig with {r['tracker_config']} (NOT the default)"
    print(f"Tracking at scale: {s['targets']} targets over {s['sector_deg']:g} deg, {s['clutter']:g} false alarms/scan, "
          f"{s['scans']} scans of {s['dt']:g} s; Hoplon {cfg}; one thread")
    print(f"  {r['measurements']} measurements, {r['total_s']:.2f} s in all ({r['measurements_per_s']:,.0f} measurements/s; "
          f"first call {r['first_call_s']:.2f} s); live tracks at the end {r['live_tracks'][-1]}")
    print(f"  steady state (last {r['steady_scans']} scans): median {r['steady_median_s_per_scan'] * 1e3:.1f} ms/scan, "
          f"max {r['steady_max_s_per_scan'] * 1e3:.1f} ms/scan")
    m = r["metrics"]
    print(f"  mean GOSPA {m['mean_gospa_m']:.1f} m, RMS {m['rms_position_m']:.1f} m, missed {m['missed_target_scans']}, "
          f"false {m['false_track_scans']}, switches {m['id_switches']}")
    print(f"Goal (< {r['goal_s_per_scan']:g} s per scan, median of the steady state): {'PASS' if r['met'] else 'FAIL'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="scenario seeds (--scale uses the first)")
    ap.add_argument("--targets", type=int, default=40)
    ap.add_argument("--scans", type=int, default=120)
    ap.add_argument("--clutter", type=float, default=30.0, help="mean false alarms per scan")
    ap.add_argument("--pd", type=float, default=0.9)
    ap.add_argument("--repeat", type=int, default=3, help="Hoplon runs per seed; the fastest is timed")
    ap.add_argument("--no-stonesoup", action="store_true", help="do not run Stone Soup even when it is installed")
    ap.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                    help="override a TrackerConfig field (the goal is stated for the defaults)")
    ap.add_argument("--scale", action="store_true", help="run the scale case instead of the seeds")
    ap.add_argument("--scale-targets", type=int, default=1000)
    ap.add_argument("--scale-clutter", type=float, default=1000.0, help="mean false alarms per scan")
    ap.add_argument("--scale-scans", type=int, default=30)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    cfg, changes = _config(a.settings)
    result = bench_scale(a, cfg, changes) if a.scale else bench_seeds(a, cfg, changes)
    if a.json:
        print(json.dumps(no_nan(result), indent=2))
        return
    (_print_scale if a.scale else _print_seeds)(result)


if __name__ == "__main__":
    main()
