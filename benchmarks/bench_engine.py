#!/usr/bin/env python3
"""Benchmark: one replication of a whole engagement (``hoplon.sim.engine.run``).

The scenario is loaded and compiled once (as a Monte Carlo worker would); each
replication then runs the engine in memory, writing no files, on one core (numba with one
thread). Printed: the wall time of a replication (median of ``--repeat``) two ways --
the whole ``hoplon run`` engine (every output table, truth every second, launch-point
estimates) and a Monte Carlo replication as ``hoplon mc`` plays it (reseed to the
replication's seed, then ``analysis.montecarlo.play``: the same engine without the
outputs no outcome measure uses) -- the simulated span (first launch to the last object
on the ground) and the ratio to real time, the ratio to the issue's goal (100 ms per
``anatolia`` Monte Carlo replication; 20x real time for ``raid``), and where the time
goes: cumulative seconds of the engine's stages (a cProfile of one ``hoplon run``
replication).

usage: bench_engine.py [--scenario anatolia] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

from hoplon.analysis.montecarlo import play, replication_seed  # noqa: E402
from hoplon.scenario.builtins import resolve_scenario  # noqa: E402
from hoplon.sim.engine import run  # noqa: E402
from hoplon.sim.world import compile_scenario, reseed  # noqa: E402

GOALS = {"anatolia": ("mc_replication_s", 0.100), "raid": ("real_time_ratio", 20.0)}
STAGES = {
    "flights (truth)": ("engine.py", "_ballistic"),
    "flights (air-breathing)": ("engine.py", "_airbreathers"),
    "sensors": ("sensors.py", "simulate"),
    "tracking": ("tracking.py", "advance"),
    "battle management": ("battle.py", "cycle"),
    "  of which WTA": ("wta.py", "solve_exact"),
    "  of which impact/launch prediction": ("threat.py", "_fly_linearised"),
    "interceptors (guidance, end game)": ("intercepts.py", "guide"),
    "debris": ("debris.py", "run_debris"),
    "tracks table": ("tracking.py", "table"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="anatolia")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    world = compile_scenario(resolve_scenario(a.scenario))
    run(world)  # warm-up: numba kernels compiled or loaded from the cache
    times = []
    result = None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        result = run(world)
        times.append(time.perf_counter() - t0)
    times.sort()
    wall = times[len(times) // 2]
    mc_times = []
    for k in range(a.repeat):  # Monte Carlo replications k of a run of --repeat, base seed 1
        t0 = time.perf_counter()
        play(reseed(world, replication_seed(1, a.repeat, k)))
        mc_times.append(time.perf_counter() - t0)
    mc_wall = sorted(mc_times)[len(mc_times) // 2]
    ev = result.events.to_pydict()
    span = max(ev["time_s"]) - min(t for t, k in zip(ev["time_s"], ev["kind"]) if k == "launch")
    prof = cProfile.Profile()
    prof.enable()
    run(world)
    prof.disable()
    st = pstats.Stats(prof).stats
    stages = {}
    for label, (fname, func) in STAGES.items():
        stages[label] = round(sum(v[3] for k, v in st.items() if k[0].endswith(fname) and k[2] == func), 3)
    profiled_total = sum(v[3] for k, v in st.items() if k[2] == "run" and k[0].endswith("engine.py"))
    out = {
        "benchmark": "engine_replication",
        "scenario": a.scenario,
        "replication_s": round(wall, 4),
        "mc_replication_s": round(mc_wall, 4),
        "simulated_span_s": round(span, 1),
        "real_time_ratio": round(span / wall, 1),
        "threats": result.outcomes.num_rows,
        "interceptors": result.interceptors.num_rows,
        "scans": sum(s["scans"] for s in result.sensor_stats),
        "profile_s": stages,
        "profiled_total_s": round(profiled_total, 3),
    }
    goal = GOALS.get(a.scenario)
    if goal:
        key, value = goal
        out["goal"] = {key: value}
        out["ratio_to_goal"] = round(value / mc_wall if key == "mc_replication_s" else out["real_time_ratio"] / value, 3)
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{a.scenario}: {wall * 1e3:.0f} ms per replication (median of {a.repeat}, one core, no files), "
              f"{span:.0f} s simulated: {span / wall:.0f}x real time; {out['threats']} threats, "
              f"{out['interceptors']} interceptors, {out['scans']} radar scans")
        print(f"Monte Carlo replication (reseed + play): {mc_wall * 1e3:.0f} ms (median of {a.repeat} seeds)")
        if goal:
            print(f"goal {goal[0]} {goal[1]}: ratio {out['ratio_to_goal']} (> 1 meets it)")
        print(f"profile of one replication ({profiled_total:.2f} s under cProfile):")
        for k, v in stages.items():
            print(f"  {k:40s} {v:8.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
