#!/usr/bin/env python3
"""Benchmark: Monte Carlo throughput (``hoplon mc``), replications per minute.

Measured in one run:

* the reference: a plain in-process loop over replications (compile once, reseed, run,
  build the store's rows), one core, no Dask, no store;
* ``run_monte_carlo`` on a local Dask cluster of 1 and of 2 worker processes, into a
  DuckDB file, with ``--per-worker`` replications per worker in chunks of ``--chunk``
  (default: ``hoplon mc``'s own, about eight chunks per worker): wall time end to end
  (cluster start included) and the steady rate between the first and the last commit;
* scaling efficiency from 1 to 2 workers: steady rate(2) / (2 x steady rate(1));
* the per-replication cost broken down: reseed (targeting of the CEP-displaced aim
  points), the engine's stages (a cProfile of one replication), building the rows, and
  the store's commit.

The issue's goals: 1,000 replications of ``anatolia`` per minute on this 2-core machine,
and 80 % efficiency from 1 to 2 workers.

usage: bench_montecarlo.py [--scenario anatolia] [--per-worker 40] [--chunk C] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).parent))
import pyarrow as pa  # noqa: E402
from bench_engine import STAGES  # noqa: E402

from hoplon.analysis.montecarlo import (  # noqa: E402
    default_chunk,
    play,
    replicate,
    replication_seed,
    replication_tables,
    run_monte_carlo,
)
from hoplon.analysis.store import MC_TABLES, ResultsStore, StoreMeta  # noqa: E402
from hoplon.scenario.builtins import resolve_scenario  # noqa: E402
from hoplon.sim.world import compile_scenario, reseed  # noqa: E402

GOAL_PER_MIN = 1000.0
GOAL_EFFICIENCY = 0.80


def _breakdown(world, seed: int, n: int, k: int, tmp: Path) -> dict:
    """Seconds of each part of one replication (reseed, engine stages, rows, commit)."""
    t0 = time.perf_counter()
    w = reseed(world, replication_seed(seed, n, k))
    t_reseed = time.perf_counter() - t0
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    result = play(w)
    prof.disable()
    t_engine_profiled = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = play(w)
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = replication_tables(result, k)
    t_rows = time.perf_counter() - t0
    tables["replication_cost"] = pa.table({"rep": [k], "wall_s": [0.0]}, schema=MC_TABLES["replication_cost"])
    store = ResultsStore.create_or_resume(tmp / "breakdown.duckdb", StoreMeta(world.name, "-", seed, n, "-"), resume=False)
    t0 = time.perf_counter()
    store.commit_chunk([k], tables)
    t_commit = time.perf_counter() - t0
    store.close()
    st = pstats.Stats(prof).stats
    stages = {label.strip(): round(sum(v[3] for key, v in st.items() if key[0].endswith(f) and key[2] == fn), 4)
              for label, (f, fn) in STAGES.items()}
    return {"reseed_s": round(t_reseed, 4), "engine_s": round(t_engine, 4), "rows_s": round(t_rows, 4),
            "commit_s": round(t_commit, 4), "engine_stages_profiled_s": stages,
            "engine_profiled_total_s": round(t_engine_profiled, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="anatolia")
    ap.add_argument("--per-worker", type=int, default=40, help="replications per worker in the timed runs")
    ap.add_argument("--chunk", type=int, default=None,
                    help="replications per committed chunk (default: hoplon mc's, about eight chunks per worker)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    scenario = resolve_scenario(a.scenario)
    world = compile_scenario(scenario)
    m = a.per_worker
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        replicate(world, a.seed, m, 0)  # warm-up: numba kernels loaded
        t0 = time.perf_counter()
        for k in range(m):
            replication_tables(replicate(world, a.seed, m, k), k)
        loop_s = time.perf_counter() - t0
        runs = {}
        for workers in (1, 2):
            n = m * workers
            commits: list[float] = []
            t0 = time.perf_counter()
            chunk = a.chunk or default_chunk(n, workers)
            run_monte_carlo(scenario, n=n, seed=a.seed, out=tmp / f"w{workers}.duckdb", workers=workers, chunk=chunk,
                            on_chunk=lambda p, c=commits: c.append(time.perf_counter()))
            wall = time.perf_counter() - t0
            # steady: from the first commit to the last, the replications of every chunk but
            # each worker's first (the workers start together, and their first chunks
            # hold their warm-up)
            after_first = n - workers * chunk
            steady = (after_first / (commits[-1] - commits[0]) * 60.0 if after_first > 0 and len(commits) > 1
                      else n / wall * 60.0)
            runs[workers] = {"replications": n, "chunk": chunk, "wall_s": round(wall, 2),
                             "per_min_end_to_end": round(n / wall * 60.0, 2), "per_min_steady": round(steady, 2)}
        breakdown = _breakdown(world, a.seed, m, m - 1, tmp)
    loop_rate = m / loop_s * 60.0
    eff = runs[2]["per_min_steady"] / (2.0 * runs[1]["per_min_steady"])
    best = max(r["per_min_steady"] for r in runs.values())
    out = {
        "benchmark": "monte_carlo_throughput",
        "scenario": a.scenario,
        "cores": os.cpu_count(),
        "reference_in_process_loop_per_min": round(loop_rate, 2),
        "workers": {str(k): v for k, v in runs.items()},
        "scaling_efficiency_1_to_2": round(eff, 3),
        "dask_1_worker_vs_loop": round(runs[1]["per_min_steady"] / loop_rate, 3),
        "goal_per_min": GOAL_PER_MIN,
        "ratio_to_goal": round(best / GOAL_PER_MIN, 4),
        "goal_efficiency": GOAL_EFFICIENCY,
        "per_replication": breakdown,
    }
    if a.json:
        print(json.dumps(out))
        return 0
    print(f"{a.scenario}: in-process loop (reference) {loop_rate:,.1f} replications/min on one core")
    for k, r in runs.items():
        print(f"  Dask, {k} worker{'s' if k > 1 else ''}: {r['per_min_steady']:,.1f}/min steady, "
              f"{r['per_min_end_to_end']:,.1f}/min end to end ({r['replications']} replications in chunks of "
              f"{r['chunk']}, {r['wall_s']} s); "
              f"ratio to the loop {r['per_min_steady'] / loop_rate:.2f}")
    print(f"  scaling efficiency 1 -> 2 workers: {100 * eff:.0f} % (goal {100 * GOAL_EFFICIENCY:.0f} %)")
    print(f"  best rate / goal of {GOAL_PER_MIN:,.0f}/min: {out['ratio_to_goal']:.4f} (> 1 meets it)")
    b = breakdown
    print(f"per replication: reseed {b['reseed_s']:.3f} s, engine {b['engine_s']:.3f} s, rows {b['rows_s']:.3f} s, "
          f"commit {b['commit_s']:.3f} s; engine stages (cProfile, {b['engine_profiled_total_s']:.2f} s):")
    for k, v in b["engine_stages_profiled_s"].items():
        print(f"  {k:40s} {v:8.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
