#!/usr/bin/env python3
"""Benchmark: tracking a raid of ballistic missiles; consistency of the ballistic filter.

A raid of ``--missiles`` (default 50) MRBM-class missiles from five launch areas in
western Iran toward five aim points in south-eastern Turkey (notional; the packaged
catalog's Ghadr-class type, whose re-entry vehicle separates from its spent booster) is
flown by ``hoplon run``'s engine and seen by one forward-based X-band radar (the
catalog's fbx-xband-ew-class at Kürecik, 5 s revisit). The radar's detections of free
flight (after each object's burnout, plus every false alarm) are tracked three times,
everything else equal: with the engine tracker's ballistic model (J2, rotation, drag,
1/beta estimated), with constant velocity at the same process noise, and with constant
velocity at the command-line tracker's default noise (q = 1 m^2/s^3).

Consistency is the normalised estimation error squared of position and velocity,
NEES = e^T P^-1 e with 6 degrees of freedom (Bar-Shalom, Li & Kirubarajan 2001, sec.
5.4), on every row where a track was updated by a detection (coasting rows are
predictions), after the track's first ``--settle`` updates (initiation from one point
with a 1.5 km/s velocity prior), against the true state of the object most of the
track's detections came from, interpolated from the engine's dense truth. Rows are
grouped by the track's update count k; the M tracks present at step k are independent
runs (different missiles, independent noise), so ANEES(k), the mean NEES over them, has
the 95 % interval chi2(6M)/M at 2.5 % and 97.5 %. Reported: the mean of ANEES(k) over the
steps with at least 5 tracks, the interval for the median M, and the fraction of steps
whose ANEES(k) is inside its own interval (about 95 % for a consistent filter).

The headline group is the re-entry vehicles (the missiles). Spent boosters are reported
apart: above 30 km they are like the re-entry vehicles; below it they fall at terminal
speed, where drag sets the velocity and the filter is conservative.

    python benchmarks/bench_ballistic_tracking.py [--missiles 50] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pyarrow as pa
from scipy.stats import chi2

from hoplon.scenario.loader import load_scenario
from hoplon.sim.engine import run
from hoplon.sim.tracking import DEFAULT_ENGINE_TRACKER, run_tracker
from hoplon.sim.world import compile_scenario

LAUNCH_AREAS = [(34.40, 46.95), (35.30, 46.60), (36.70, 46.30), (33.55, 48.20), (37.60, 45.40)]
AIMS = [(37.00194, 35.42583), (37.06, 37.38), (36.99, 35.33), (38.35, 38.32), (36.80, 36.20)]
BOOSTER_SPLIT_ALT_M = 30_000.0


def raid_scenario(missiles: int, seed: int) -> str:
    """YAML of the raid: ``missiles`` launches spread over five sites and five aims."""
    lines = [
        "hoplon: 1",
        "name: ballistic-raid",
        "epoch: 2026-03-09T00:00:00Z",
        f"seed: {seed}",
        "threats:",
        "  ballistic:",
    ]
    for k in range(missiles):
        lat, lon = LAUNCH_AREAS[k % len(LAUNCH_AREAS)]
        alat, alon = AIMS[(k // len(LAUNCH_AREAS)) % len(AIMS)]
        lines += [
            f"    - id: m{k:03d}",
            "      type: mrbm-liquid-ghadr-class",
            f"      launch_time: {600 + 17 * k} s",
            f"      launch: {{lat: {lat + 0.05 * (k % 3)}, lon: {lon - 0.05 * (k % 4)}, alt: 1300 m}}",
            f"      aim: {{lat: {alat}, lon: {alon}, alt: 100 m}}",
        ]
    lines += [
        "sensors:",
        "  - {id: fbx, type: fbx-xband-ew-class, lat: 38.34944, lon: 37.79361, alt: 2100 m, boresight: 105 deg}",
    ]
    return "\n".join(lines) + "\n"


def _burnout_times(result) -> dict[str, float]:
    return {row["object_id"]: row["burnout_time_s"] for row in result.outcomes.to_pylist()}


def free_flight_detections(result) -> pa.Table:
    """Detections after each object's burnout, and every false alarm: the ballistic model
    describes free flight, not powered flight."""
    burnout = _burnout_times(result)
    d = result.detections.to_pydict()
    keep = [o is None or t > burnout.get(o.split(".")[0], -np.inf) for t, o in zip(d["time_s"], d["object_id"])]
    return result.detections.filter(pa.array(keep))


@dataclasses.dataclass
class NeesRows:
    """Per evaluated track row: NEES, errors, update step, altitude, object, track."""

    nees: np.ndarray
    error: np.ndarray  # (n, 6) estimate - truth, m and m/s
    step: np.ndarray
    alt_m: np.ndarray
    object_id: np.ndarray
    track_id: np.ndarray


def nees_rows(result, tracks: pa.Table, settle: int) -> NeesRows:
    """NEES of the updated free-flight rows of ``tracks`` against the run's dense truth."""
    t = tracks.to_pydict()
    time_s = np.asarray(t["time_s"], dtype=float)
    track = np.asarray(t["track_id"], dtype=np.int64)
    oid = np.asarray(t["object_id"], dtype=object)
    updated = np.asarray(t["updated"], dtype=bool)
    burnout = _burnout_times(result)
    keep, step = [], []
    for tid in np.unique(track):
        rows = np.flatnonzero(track == tid)
        obj = oid[rows[0]]
        if obj is None:  # a track of false alarms
            continue
        free = rows[(time_s[rows] > burnout.get(obj.split(".")[0], np.inf)) & updated[rows]][settle:]
        keep.append(free)
        step.append(np.arange(free.size) + settle)
    rows = np.concatenate(keep) if keep else np.empty(0, dtype=np.int64)
    steps = np.concatenate(step) if step else np.empty(0, dtype=np.int64)
    store = result.truth_store
    index = {o: k for k, o in enumerate(store.object_id)}
    r, v = store.state_at(np.array([index[o] for o in oid[rows]], dtype=np.int64), time_s[rows])
    x = np.stack([t[c] for c in ("x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps")], axis=1)[rows]
    P = np.asarray(tracks.column("covariance").combine_chunks().flatten()).reshape(-1, 6, 6)[rows]
    err = x - np.concatenate([r, v], axis=1)
    nees = np.einsum("ni,ni->n", err, np.linalg.solve(P, err[:, :, None])[:, :, 0])
    return NeesRows(nees, err, steps, np.asarray(t["alt_m"])[rows], oid[rows], track[rows])


def consistency(rows: NeesRows, select: np.ndarray, dof: int = 6, min_tracks: int = 5) -> dict:
    """ANEES by update step over the selected rows, with chi-square 95 % intervals."""
    nees, steps = rows.nees[select], rows.step[select]
    per_step, inside, counts = [], [], []
    for k in np.unique(steps):
        sel = nees[steps == k]
        m = sel.size
        if m < min_tracks:
            continue
        lo, hi = chi2.ppf(0.025, dof * m) / m, chi2.ppf(0.975, dof * m) / m
        per_step.append(float(sel.mean()))
        inside.append(lo <= per_step[-1] <= hi)
        counts.append(m)
    m_med = int(np.median(counts)) if counts else 0
    lo, hi = (chi2.ppf(0.025, dof * m_med) / m_med, chi2.ppf(0.975, dof * m_med) / m_med) if m_med else (np.nan, np.nan)
    anees = float(np.mean(per_step)) if per_step else float("nan")
    err = rows.error[select]
    return {
        "rows": int(select.sum()),
        "tracks": int(np.unique(rows.track_id[select]).size),
        "objects": int(np.unique(rows.object_id[select].astype(str)).size),
        "rms_position_m": float(np.sqrt(np.mean(np.sum(err[:, 0:3] ** 2, axis=1)))) if err.size else float("nan"),
        "rms_velocity_mps": float(np.sqrt(np.mean(np.sum(err[:, 3:6] ** 2, axis=1)))) if err.size else float("nan"),
        "anees": anees,
        "pooled_nees": float(nees.mean()) if nees.size else float("nan"),
        "interval_95": [float(lo), float(hi)],
        "median_tracks_per_step": m_med,
        "inside_interval": bool(lo <= anees <= hi),
        "steps": len(per_step),
        "steps_inside_fraction": float(np.mean(inside)) if inside else float("nan"),
    }


def groups(rows: NeesRows) -> dict[str, np.ndarray]:
    booster = np.array(["booster" in str(o) for o in rows.object_id], dtype=bool)
    return {
        "re-entry vehicles": ~booster,
        "boosters above 30 km": booster & (rows.alt_m >= BOOSTER_SPLIT_ALT_M),
        "boosters below 30 km": booster & (rows.alt_m < BOOSTER_SPLIT_ALT_M),
    }


ENGINE_IMM = "engine IMM, all detections"
MODELS = {
    "ballistic": {"motion": "ballistic"},
    "constant velocity, same noise": {"motion": "cv", "q_cv": DEFAULT_ENGINE_TRACKER.q_ballistic},
    "constant velocity, q = 10": {"motion": "cv", "q_cv": 10.0},
    "constant velocity, q = 100": {"motion": "cv", "q_cv": 100.0},
    "constant velocity, q = 1000": {"motion": "cv", "q_cv": 1000.0},
    ENGINE_IMM: {},
}
"""Tracker variants (overrides of the engine tracker's settings). The last is the engine's
own tracker (IMM of ballistic and constant acceleration) fed every detection, boost
included, as ``hoplon run`` does; it is evaluated on free flight like the others; the
others see free-flight detections only."""


def measure(missiles: int = 50, seed: int = 1, settle: int = 3) -> dict:
    t0 = time.perf_counter()
    world = compile_scenario(load_scenario(raid_scenario(missiles, seed), filename="raid.yaml"))
    result = run(world, truth_step_s=1.0)
    t_run = time.perf_counter() - t0
    free = free_flight_detections(result)
    object_ids = list(result.truth_store.object_id)
    out = {"missiles": missiles, "seed": seed, "settle": settle, "detections": result.detections.num_rows,
           "free_flight_detections": free.num_rows, "engine_run_s": t_run,
           "q_ballistic": DEFAULT_ENGINE_TRACKER.q_ballistic, "models": {}}
    for name, overrides in MODELS.items():
        cfg = dataclasses.replace(DEFAULT_ENGINE_TRACKER, **overrides)
        t0 = time.perf_counter()
        tracks = run_tracker(world, result.detections if name == ENGINE_IMM else free, object_ids, [], cfg)
        elapsed = time.perf_counter() - t0
        rows = nees_rows(result, tracks, settle)
        out["models"][name] = {"tracking_s": elapsed,
                               "groups": {g: consistency(rows, sel) for g, sel in groups(rows).items()}}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--missiles", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--settle", type=int, default=3, help="updates of each track skipped (initiation)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    out = measure(a.missiles, a.seed, a.settle)
    if a.json:
        print(json.dumps(out, indent=2))
        return
    print(f"ballistic raid: {a.missiles} missiles (seed {a.seed}), {out['detections']} detections by one "
          f"forward-based X-band radar, {out['free_flight_detections']} in free flight (engine {out['engine_run_s']:.1f} s)")
    for name, m in out["models"].items():
        print(f"{name} ({m['tracking_s']:.1f} s):")
        for g, s in m["groups"].items():
            if not s["steps"]:
                print(f"  {g:22s}: {s['rows']} rows of {s['tracks']} tracks, too few per step for ANEES")
                continue
            verdict = "inside" if s["inside_interval"] else "OUTSIDE"
            print(f"  {g:22s}: RMS position {s['rms_position_m']:7.1f} m, velocity {s['rms_velocity_mps']:6.2f} m/s; "
                  f"ANEES {s['anees']:8.2f} {verdict} [{s['interval_95'][0]:.2f}, {s['interval_95'][1]:.2f}] "
                  f"(M = {s['median_tracks_per_step']}), {100 * s['steps_inside_fraction']:.0f} % of {s['steps']} steps "
                  f"inside; {s['rows']} rows, {s['tracks']} tracks of {s['objects']} objects")


if __name__ == "__main__":
    main()
