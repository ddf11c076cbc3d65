#!/usr/bin/env python3
"""Benchmark: static weapon-target assignment (hoplon.core.wta), exact and heuristic.

Instances after Ahuja, Kumar, Jha & Orlin (2007), "Exact and heuristic algorithms for the
weapon-target assignment problem", Oper. Res. 55(6): W weapons, T targets, values
V_j ~ integer uniform [25, 100], kill probabilities p_ij ~ uniform [0.6, 0.9], drawn here
in this order from ``numpy.random.default_rng(seed)`` (the same draws as the shared
generator ``bench/gen_wta.py``, so instance (W, T, seed) is the same instance). Each
weapon is assigned to exactly one target; the objective is the expected surviving value
sum_j V_j prod_i (1 - p_ij)^x_ij.

What it measures, per size W x T over seeds 0 .. N-1 (``--seeds N``, default 10):

* **exact** -- :func:`hoplon.core.wta.solve_exact` (default gap 1e-6, ``--time-limit``):
  median and max wall time, the max certified gap (objective - lower_bound) / objective,
  and the statuses. Default sizes 80x80, 200x200, 400x400, 80x40, 200x100.
* **heuristic** -- :func:`hoplon.core.wta.solve_heuristic`: median wall time and the
  median / max gap (heuristic - reference) / reference, both to the optimum (the exact
  solver's objective, when it certifies optimality) and to the exact solver's certified
  lower bound. Default sizes 200x200 (goal on the gap to the optimum) and 1000x1000 (goal
  on the gap to the bound; the exact solve runs with the same ``--time-limit``, 120 s).
* **reference** -- measured in the same run on ``--reference-size`` (80x80) for the first
  ``--reference-seeds`` seeds (3): the textbook open baseline, an outer-approximation
  MILP solved by ``scipy.optimize.milp`` (HiGHS). Variables x_ij binary (each weapon
  exactly one target) and z_j >= 0; minimise sum_j z_j subject to tangent cuts
  z_j >= V_j e^{-y0} (1 - (y_j - y0)) of V_j e^{-y_j}, where y_j = sum_i q_ij x_ij and
  q_ij = -ln(1 - p_ij). It starts from cuts at y0 = 0 and at the even-spread level
  y0 = (W / T) mean_i q_ij, then repeatedly solves the MILP (``mip_rel_gap`` 1e-5) and
  adds a cut at every target's y_j of the MILP's assignment whose z_j underestimates
  V_j e^{-y_j}, until the MILP objective is within 1e-4 relative of the true objective
  of its assignment, or ``--reference-time-limit`` (60 s per instance) runs out. Printed:
  its median time and the ratio to Hoplon's exact median time on the same seeds (">="
  when the reference hit its time limit: its time is then a lower bound).

Every returned assignment's objective is recomputed here by a plain loop over the
weapons and must equal ``solution.objective`` to 1e-9 relative (the script fails
otherwise). Times are ``time.perf_counter`` wall seconds of single calls, after one tiny
warm-up solve that loads or compiles the numba functions. Published anchors are printed
as context (other hardware), then the goals and whether each holds.

    python benchmarks/bench_wta.py [--seeds 10] [--sizes 80x80 200x200 ...]
        [--heuristic-sizes 200x200 1000x1000] [--time-limit 120]
        [--reference-size 80x80] [--reference-seeds 3] [--reference-time-limit 60]
        [--quick] [--json]

``--quick`` (the smoke test) runs 2 seeds of 20x20 and 20x10, and the reference on one
20x10 instance; explicit options override it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from collections import Counter

import numba
import numpy as np
import scipy
from _timing import no_nan
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from hoplon.core.wta import solve_exact, solve_heuristic

EXACT_SIZES = ((80, 80), (200, 200), (400, 400), (80, 40), (200, 100))
HEURISTIC_SIZES = ((200, 200), (1000, 1000))
QUICK_SIZES = ((20, 20), (20, 10))
OBJECTIVE_RTOL = 1e-9
OA_TOLERANCE = 1e-4
"""The outer approximation stops when its MILP objective is this close (relative) to the
true objective of the MILP's assignment."""
OA_MIP_REL_GAP = 1e-5

# goals: (size, gap limit, median seconds limit)
EXACT_GOALS = (((80, 80), 1e-4, 1.0), ((200, 200), 1e-4, 5.0), ((400, 400), 1e-4, 60.0))
# heuristic goals: (size, against "optimum" or "bound", gap limit, median seconds limit)
HEURISTIC_GOALS = (((200, 200), "optimum", 1e-3, 0.1), ((1000, 1000), "bound", 5e-3, 1.0))

ANCHORS = (
    ("Ahuja et al. (2007): VLSN heuristic 0.0008 % gap at 200x200 in 1.1 s (2003 hardware); "
     "their branch and bound 16 h at 80x80"),
    "Lu & Chen (2021): 80x80 solved to optimality in 0.4 s",
)


def instance(weapons: int, targets: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ahuja et al. (2007) instance: values (T,), kill probabilities (W, T)."""
    rng = np.random.default_rng(seed)
    values = rng.integers(25, 101, size=targets).astype(float)
    pk = rng.uniform(0.6, 0.9, size=(weapons, targets))
    return values, pk


def plain_objective(values: np.ndarray, pk: np.ndarray, assignment) -> float:
    """Expected surviving value, by a plain loop over the weapons (independent check)."""
    survive = [float(v) for v in values]
    for i, j in enumerate(assignment):
        j = int(j)
        if not 0 <= j < len(survive):
            raise AssertionError(f"weapon {i} assigned to target {j}: not one of {len(survive)}")
        survive[j] *= 1.0 - float(pk[i, j])
    return math.fsum(survive)


def checked_objective(values, pk, sol, what: str) -> float:
    """The recomputed objective; fails unless it equals ``sol.objective`` to 1e-9 relative."""
    obj = plain_objective(values, pk, sol.assignment)
    if len(sol.assignment) != pk.shape[0]:
        raise AssertionError(f"{what}: {len(sol.assignment)} assignments for {pk.shape[0]} weapons")
    if abs(obj - sol.objective) > OBJECTIVE_RTOL * abs(obj):
        raise AssertionError(f"{what}: objective {sol.objective!r} but the assignment's is {obj!r}")
    return obj


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, t = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WxT, e.g. 80x80, got {text!r}") from None
    if w < 1 or t < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, t


def label(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


# ------------------------------------------------------------------ the reference


def outer_approximation(values: np.ndarray, pk: np.ndarray, time_limit_s: float) -> dict:
    """Outer-approximation MILP (scipy.optimize.milp, HiGHS) with tangent cuts of
    V_j exp(-y_j); see the module docstring. Returns its figures."""
    t0 = time.perf_counter()
    n_w, n_t = pk.shape
    n_x = n_w * n_t
    q = -np.log1p(-pk)  # (W, T)
    cost = np.concatenate([np.zeros(n_x), np.ones(n_t)])
    integrality = np.concatenate([np.ones(n_x), np.zeros(n_t)])
    bounds = Bounds(np.zeros(n_x + n_t), np.concatenate([np.ones(n_x), np.full(n_t, np.inf)]))
    rows = np.repeat(np.arange(n_w), n_t)
    assign = LinearConstraint(csr_matrix((np.ones(n_x), (rows, np.arange(n_x))), shape=(n_w, n_x + n_t)), 1.0, 1.0)
    weapon_of = np.arange(n_w)

    cut_rows: list[np.ndarray] = []
    cut_cols: list[np.ndarray] = []
    cut_vals: list[np.ndarray] = []
    cut_lb: list[float] = []

    def add_cut(j: int, y0: float) -> None:
        # z_j + a sum_i q_ij x_ij >= a (1 + y0),  a = V_j e^{-y0}
        a = values[j] * math.exp(-y0)
        r = len(cut_lb)
        cut_rows.append(np.full(n_w + 1, r))
        cut_cols.append(np.concatenate([weapon_of * n_t + j, [n_x + j]]))
        cut_vals.append(np.concatenate([a * q[:, j], [1.0]]))
        cut_lb.append(a * (1.0 + y0))

    for j in range(n_t):
        add_cut(j, 0.0)
        add_cut(j, n_w / n_t * float(q[:, j].mean()))

    best_obj, best_a, lower, iterations, status = math.inf, None, -math.inf, 0, "time_limit"
    while True:
        remaining = time_limit_s - (time.perf_counter() - t0)
        if remaining <= 0.0:
            break
        cuts = coo_matrix(
            (np.concatenate(cut_vals), (np.concatenate(cut_rows), np.concatenate(cut_cols))),
            shape=(len(cut_lb), n_x + n_t),
        ).tocsr()
        res = milp(
            cost, integrality=integrality, bounds=bounds,
            constraints=[assign, LinearConstraint(cuts, np.asarray(cut_lb), np.inf)],
            options={"time_limit": remaining, "mip_rel_gap": OA_MIP_REL_GAP, "disp": False},
        )
        iterations += 1
        dual = getattr(res, "mip_dual_bound", None)
        if dual is not None and np.isfinite(dual):
            lower = max(lower, float(dual))  # the outer approximation is a relaxation
        if res.x is None:  # time limit before any solution, or a failure
            status = "time_limit" if res.status == 1 else f"failed ({res.message})"
            break
        a = np.argmax(res.x[:n_x].reshape(n_w, n_t), axis=1)
        obj = plain_objective(values, pk, a)
        if obj < best_obj:
            best_obj, best_a = obj, a
        if res.status != 0:
            status = "time_limit"
            break
        if lower == -math.inf:
            lower = float(res.fun)
        if obj - res.fun <= OA_TOLERANCE * obj:
            status = "converged"
            break
        y = q[np.arange(n_w), a]
        y_t = np.bincount(a, weights=y, minlength=n_t)
        z = res.x[n_x:]
        added = 0
        for j in range(n_t):
            if values[j] * math.exp(-y_t[j]) > z[j] + 1e-9 * max(values[j], 1.0):
                add_cut(j, float(y_t[j]))
                added += 1
        if not added:  # cannot happen while the tolerance is unmet; guard against a loop
            status = "stalled"
            break
    return {
        "seconds": time.perf_counter() - t0,
        "status": status,
        "iterations": iterations,
        "cuts": len(cut_lb),
        "objective": best_obj if best_a is not None else None,
        "lower_bound": lower if np.isfinite(lower) else None,
    }


# ------------------------------------------------------------------ measurements


class Runner:
    """Solves instances once each, keeping results so that sizes shared by the sections
    are not solved twice."""

    def __init__(self, time_limit_s: float):
        self.time_limit_s = time_limit_s
        self.exact_cache: dict[tuple[int, int, int], dict] = {}

    def exact(self, w: int, t: int, seed: int) -> dict:
        key = (w, t, seed)
        if key not in self.exact_cache:
            values, pk = instance(w, t, seed)
            t0 = time.perf_counter()
            sol = solve_exact(values, pk, time_limit_s=self.time_limit_s)
            seconds = time.perf_counter() - t0
            obj = checked_objective(values, pk, sol, f"solve_exact {w}x{t} seed {seed}")
            self.exact_cache[key] = {
                "seed": seed, "seconds": seconds, "objective": obj, "lower_bound": sol.lower_bound,
                "gap": (obj - sol.lower_bound) / obj, "status": sol.status, "details": sol.details,
            }
        return self.exact_cache[key]

    def heuristic(self, w: int, t: int, seed: int) -> dict:
        values, pk = instance(w, t, seed)
        t0 = time.perf_counter()
        sol = solve_heuristic(values, pk)
        seconds = time.perf_counter() - t0
        obj = checked_objective(values, pk, sol, f"solve_heuristic {w}x{t} seed {seed}")
        ex = self.exact(w, t, seed)
        optimal = ex["status"] == "optimal"
        return {
            "seed": seed, "seconds": seconds, "objective": obj, "exact_status": ex["status"],
            "gap_to_optimum": (obj - ex["objective"]) / ex["objective"] if optimal else None,
            "gap_to_bound": (obj - ex["lower_bound"]) / ex["lower_bound"],
        }


def _median(xs):
    xs = [x for x in xs if x is not None]
    return float(np.median(xs)) if xs else None


def _max(xs):
    xs = [x for x in xs if x is not None]
    return float(max(xs)) if xs else None


def exact_row(runner: Runner, size, seeds) -> dict:
    runs = [runner.exact(*size, s) for s in seeds]
    return {
        "size": label(size), "weapons": size[0], "targets": size[1], "seeds": len(runs),
        "median_s": _median([r["seconds"] for r in runs]), "max_s": _max([r["seconds"] for r in runs]),
        "max_gap": _max([r["gap"] for r in runs]),
        "statuses": dict(Counter(r["status"] for r in runs)),
        "median_enumerated_columns": _median([r["details"].get("enumerated_columns", 0) for r in runs]),
    }


def heuristic_row(runner: Runner, size, seeds) -> dict:
    runs = [runner.heuristic(*size, s) for s in seeds]
    to_opt = [r["gap_to_optimum"] for r in runs]
    to_bound = [r["gap_to_bound"] for r in runs]
    return {
        "size": label(size), "weapons": size[0], "targets": size[1], "seeds": len(runs),
        "median_s": _median([r["seconds"] for r in runs]), "max_s": _max([r["seconds"] for r in runs]),
        "optimum_known": sum(g is not None for g in to_opt),
        "median_gap_to_optimum": _median(to_opt), "max_gap_to_optimum": _max(to_opt),
        "median_gap_to_bound": _median(to_bound), "max_gap_to_bound": _max(to_bound),
        "exact_statuses": dict(Counter(r["exact_status"] for r in runs)),
        "exact_median_s": _median([runner.exact(*size, s)["seconds"] for s in seeds]),
    }


def reference_section(runner: Runner, size, seeds, time_limit_s: float) -> dict:
    runs = []
    for s in seeds:
        values, pk = instance(*size, s)
        ref = outer_approximation(values, pk, time_limit_s)
        ex = runner.exact(*size, s)
        if ref["objective"] is not None and ex["status"] == "optimal":
            # Hoplon's optimum is certified: no feasible assignment may beat it
            if ref["objective"] < ex["lower_bound"] * (1.0 - 1e-9):
                raise AssertionError(f"reference objective {ref['objective']} below Hoplon's bound {ex['lower_bound']}")
            ref["excess_over_optimum"] = (ref["objective"] - ex["objective"]) / ex["objective"]
        else:
            ref["excess_over_optimum"] = None
        ref["seed"] = s
        ref["hoplon_s"] = ex["seconds"]
        runs.append(ref)
    ref_median = _median([r["seconds"] for r in runs])
    hop_median = _median([r["hoplon_s"] for r in runs])
    limited = sum(r["status"] != "converged" for r in runs)
    return {
        "method": "outer-approximation MILP, scipy.optimize.milp (HiGHS), tangent cuts",
        "size": label(size), "seeds": len(runs), "time_limit_s": time_limit_s,
        "median_s": ref_median, "hoplon_exact_median_s": hop_median,
        "ratio": ref_median / hop_median if ref_median and hop_median else None,
        "ratio_is_lower_bound": limited > 0,
        "statuses": dict(Counter(r["status"] for r in runs)),
        "runs": runs,
    }


def goals(exact_rows, heuristic_rows) -> list[dict]:
    ex = {r["size"]: r for r in exact_rows}
    he = {r["size"]: r for r in heuristic_rows}
    out = []
    for size, gap, secs in EXACT_GOALS:
        text = f"exact {label(size)}: max certified gap <= {gap * 100:g} % and median time <= {secs:g} s"
        r = ex.get(label(size))
        met = None
        if r is not None:
            met = r["max_gap"] <= gap and r["median_s"] <= secs
        out.append({"goal": text, "met": met})
    for size, against, gap, secs in HEURISTIC_GOALS:
        text = (f"heuristic {label(size)}: max gap to the certified {against} <= {gap * 100:g} % "
                f"and median time <= {secs * 1e3:g} ms")
        r = he.get(label(size))
        met = None
        if r is not None:
            worst = r["max_gap_to_optimum"] if against == "optimum" else r["max_gap_to_bound"]
            complete = against == "bound" or r["optimum_known"] == r["seeds"]
            met = complete and worst is not None and worst <= gap and r["median_s"] <= secs
        out.append({"goal": text, "met": met})
    return out


# ------------------------------------------------------------------ output


def _pct(x) -> str:
    return "      n/a" if x is None else f"{x * 100:9.5f}"


def _statuses(d: dict) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(d.items()))


def print_text(r: dict) -> None:
    print(f"Static WTA, Ahuja et al. (2007) instances (V ~ U{{25..100}}, p ~ U[0.6, 0.9]); "
          f"{r['seeds']} seeds from {r['first_seed']}; numba {numba.__version__}, scipy {scipy.__version__}, "
          f"{os.cpu_count()} CPUs; first call (numba load/compile) {r['first_call_s']:.2f} s")
    print()
    print(f"hoplon solve_exact (gap 1e-6, time limit {r['time_limit_s']:g} s); gap = (objective - bound) / objective")
    print(f"  {'W x T':>9}  {'median s':>9}  {'max s':>9}  {'max gap %':>9}  {'enum cols':>9}  statuses")
    for e in r["exact"]:
        print(f"  {e['size']:>9}  {e['median_s']:9.3f}  {e['max_s']:9.3f}  {_pct(e['max_gap'])}  "
              f"{e['median_enumerated_columns']:9.0f}  {_statuses(e['statuses'])}")
    if r["heuristic"]:
        print()
        print("hoplon solve_heuristic; gap = (heuristic - reference) / reference, reference = solve_exact's "
              "optimum or its certified bound")
        print(f"  {'W x T':>9}  {'median s':>9}  {'max s':>9}  {'med gap opt %':>13}  {'max gap opt %':>13}  "
              f"{'med gap bnd %':>13}  {'max gap bnd %':>13}  exact (median s, statuses)")
    for h in r["heuristic"]:
        print(f"  {h['size']:>9}  {h['median_s']:9.4f}  {h['max_s']:9.4f}  {_pct(h['median_gap_to_optimum']):>13}  "
              f"{_pct(h['max_gap_to_optimum']):>13}  {_pct(h['median_gap_to_bound']):>13}  "
              f"{_pct(h['max_gap_to_bound']):>13}  {h['exact_median_s']:.3f} s, {_statuses(h['exact_statuses'])}")
    ref = r["reference"]
    if ref is not None:
        print()
        print(f"reference: {ref['method']}, {ref['size']}, {ref['seeds']} seeds, "
              f"time limit {ref['time_limit_s']:g} s each")
        for run in ref["runs"]:
            obj = "none" if run["objective"] is None else f"{run['objective']:.6f}"
            exc = "" if run["excess_over_optimum"] is None else f" ({run['excess_over_optimum'] * 100:.5f} % above the optimum)"
            lb = "none" if run["lower_bound"] is None else f"{run['lower_bound']:.6f}"
            print(f"  seed {run['seed']}: {run['seconds']:8.2f} s, {run['status']}, {run['iterations']} MILPs, "
                  f"{run['cuts']} cuts, objective {obj}{exc}, bound {lb}; hoplon exact {run['hoplon_s']:.3f} s")
        if ref["ratio"] is not None:
            ge = ">= " if ref["ratio_is_lower_bound"] else ""
            print(f"  median {ref['median_s']:.2f} s vs hoplon exact median {ref['hoplon_exact_median_s']:.3f} s "
                  f"on the same seeds -> ratio {ge}{ref['ratio']:.1f}x")
            if ref["ratio_is_lower_bound"]:
                print("  (the reference hit its time limit on at least one seed: its time, and so the ratio, "
                      "is a lower bound)")
    print()
    print("published anchors (context only; other hardware, not measured here):")
    for a in ANCHORS:
        print(f"  {a}")
    print()
    print("goals:")
    for g in r["goals"]:
        verdict = "not measured" if g["met"] is None else ("met" if g["met"] else "NOT met")
        print(f"  {g['goal']}: {verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=None, help="seeds per size (default 10; --quick 2)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--sizes", type=parse_size, nargs="+", default=None, metavar="WxT",
                    help="sizes of the exact solver (default 80x80 200x200 400x400 80x40 200x100)")
    ap.add_argument("--heuristic-sizes", type=parse_size, nargs="*", default=None, metavar="WxT",
                    help="sizes of the heuristic (default 200x200 1000x1000)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="solve_exact's time limit (s)")
    ap.add_argument("--reference-size", type=parse_size, default=None, metavar="WxT", help="default 80x80")
    ap.add_argument("--reference-seeds", type=int, default=None, help="default 3 (0: no reference)")
    ap.add_argument("--reference-time-limit", type=float, default=None, help="per instance, s (default 60)")
    ap.add_argument("--quick", action="store_true", help="tiny configuration for the smoke test")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()

    def pick(value, normal, quick):
        return value if value is not None else (quick if a.quick else normal)

    n_seeds = pick(a.seeds, 10, 2)
    sizes = pick(a.sizes, list(EXACT_SIZES), list(QUICK_SIZES))
    h_sizes = pick(a.heuristic_sizes, list(HEURISTIC_SIZES), list(QUICK_SIZES))
    ref_size = pick(a.reference_size, (80, 80), (20, 10))
    ref_seeds = pick(a.reference_seeds, 3, 1)
    ref_limit = pick(a.reference_time_limit, 60.0, 20.0)
    seeds = list(range(a.first_seed, a.first_seed + n_seeds))

    # warm-up: load (or compile) the numba functions and HiGHS once, untimed
    t0 = time.perf_counter()
    values, pk = instance(6, 4, 12345)
    solve_exact(values, pk)
    solve_heuristic(values, pk)
    first_call = time.perf_counter() - t0
    if ref_seeds > 0:
        outer_approximation(values, pk, 10.0)

    runner = Runner(a.time_limit)
    exact_rows = [exact_row(runner, s, seeds) for s in sizes]
    heuristic_rows = [heuristic_row(runner, s, seeds) for s in h_sizes]
    ref = None
    if ref_seeds > 0:
        ref = reference_section(runner, ref_size, seeds[:ref_seeds], ref_limit)
    result = {
        "benchmark": "wta",
        "seeds": n_seeds,
        "first_seed": a.first_seed,
        "time_limit_s": a.time_limit,
        "first_call_s": first_call,
        "exact": exact_rows,
        "heuristic": heuristic_rows,
        "reference": ref,
        "anchors": list(ANCHORS),
        "goals": goals(exact_rows, heuristic_rows),
    }
    if a.json:
        print(json.dumps(no_nan(result), indent=2))
    else:
        print_text(result)


if __name__ == "__main__":
    main()
