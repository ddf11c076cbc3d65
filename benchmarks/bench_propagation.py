#!/usr/bin/env python3
"""Benchmark: batched propagation of ballistic states to impact vs a scipy solve_ivp loop.

N burnout states (burnout altitude 20-80 km, nominal ranges 300-2000 km, ballistic
coefficients 50-10,000 kg/m^2 log-uniform, random places and headings on WGS84) are
flown to impact by ``hoplon.api.propagate_to_impact`` in one call. In the same run a
sample of the same states is flown one by one by ``scipy.integrate.solve_ivp`` at
rtol 1e-9 with the same physics (J2, rotation, drag in the US 1976 atmosphere, impact
at geodetic height 0 located by a solve_ivp event), three ways:

* RK45 (solve_ivp's default method) with a plain Python/NumPy right-hand side;
* DOP853 with the same right-hand side;
* DOP853 with Hoplon's own numba-compiled acceleration as right-hand side (the
  strongest scipy baseline: only solve_ivp's per-step Python overhead remains).

Prints time per trajectory for each, the ratio Hoplon is faster by, and the largest
impact-point difference between Hoplon and the DOP853 runs (same physics check).

    python benchmarks/bench_propagation.py [--n 10000] [--sample 40] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
from scipy.integrate import solve_ivp

from hoplon.api import propagate_to_impact
from hoplon.core.earth import WGS84, _acceleration, _ecef_to_geodetic, _standard_density, density_kg_m3

MU = WGS84.mu_m3_s2
A = WGS84.a_m
E2 = WGS84.e2
J2 = WGS84.j2
W = WGS84.omega_rad_s
RHO_81 = float(density_kg_m3(81_000.0))


def burnout_states(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random burnout states: (N,3) ECEF positions, (N,3) Earth-relative velocities, (N,) beta."""
    rng = np.random.default_rng(seed)
    lat = np.radians(rng.uniform(-70, 70, n))
    lon = np.radians(rng.uniform(-180, 180, n))
    alt = rng.uniform(20e3, 80e3, n)
    rng_m = rng.uniform(300e3, 2000e3, n)
    az = rng.uniform(0, 2 * np.pi, n)
    beta = np.exp(rng.uniform(np.log(50.0), np.log(10_000.0), n))
    psi = rng_m / 6371e3
    gamma = (np.pi - psi) / 4
    s = np.sin(psi / 2)
    speed = np.sqrt(2 * s / (1 + s) * MU / (6371e3 + alt))
    nrm = A / np.sqrt(1 - E2 * np.sin(lat) ** 2)
    r = np.stack(
        [(nrm + alt) * np.cos(lat) * np.cos(lon), (nrm + alt) * np.cos(lat) * np.sin(lon), (nrm * (1 - E2) + alt) * np.sin(lat)],
        axis=1,
    )
    east = np.stack([-np.sin(lon), np.cos(lon), np.zeros(n)], axis=1)
    north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=1)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=1)
    horiz = np.sin(az)[:, None] * east + np.cos(az)[:, None] * north
    v = speed[:, None] * (np.cos(gamma)[:, None] * horiz + np.sin(gamma)[:, None] * up)
    return r, v, beta


# ------------------------------------------------------------------ plain Python physics


def _height(x: float, y: float, z: float) -> float:
    return _ecef_to_geodetic.py_func(x, y, z, A, E2, False)[2]


def _density(h: float) -> float:
    if h <= 81_000.0:
        return _standard_density.py_func(h)
    return RHO_81 * math.exp(-(h - 81_000.0) / 5_900.0)


def numpy_rhs(beta: float):
    def f(_t, y):
        x, yy, z, vx, vy, vz = y
        r2 = x * x + yy * yy + z * z
        r = math.sqrt(r2)
        k = 1.5 * J2 * A * A / r2
        zr = 5 * z * z / r2
        m = -MU / (r2 * r)
        ax = m * x * (1 + k * (1 - zr)) + 2 * W * vy + W * W * x
        ay = m * yy * (1 + k * (1 - zr)) - 2 * W * vx + W * W * yy
        az = m * z * (1 + k * (3 - zr))
        d = -0.5 * _density(_height(x, yy, z)) * math.sqrt(vx * vx + vy * vy + vz * vz) / beta
        return np.array([vx, vy, vz, ax + d * vx, ay + d * vy, az + d * vz])

    return f


def compiled_rhs(beta: float):
    p = WGS84.params()
    inv = 1.0 / beta

    def f(_t, y):
        a = _acceleration(y[0], y[1], y[2], y[3], y[4], y[5], inv, p)
        return np.array([y[3], y[4], y[5], a[0], a[1], a[2]])

    return f


def _hit(_t, y):
    return _height(y[0], y[1], y[2])


_hit.terminal = True
_hit.direction = -1


def scipy_loop(r, v, beta, *, method: str, rhs_factory) -> tuple[float, np.ndarray]:
    """Seconds per trajectory and the impact points of a solve_ivp loop."""
    out = np.empty((len(beta), 3))
    t0 = time.perf_counter()
    for i in range(len(beta)):
        sol = solve_ivp(
            rhs_factory(beta[i]), (0.0, 7200.0), np.concatenate([r[i], v[i]]), method=method,
            rtol=1e-9, atol=1e-6, events=_hit,
        )
        out[i] = sol.y_events[0][0][:3]
    return (time.perf_counter() - t0) / len(beta), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="states flown by Hoplon")
    ap.add_argument("--sample", type=int, default=40, help="states flown by each scipy loop")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    r, v, beta = burnout_states(a.n, a.seed)

    t0 = time.perf_counter()
    propagate_to_impact(r[:2], v[:2], beta[:2])  # compile or load the numba cache
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    imp = propagate_to_impact(r, v, beta)
    t_hoplon = (time.perf_counter() - t0) / a.n
    # accuracy of the default tolerance against Hoplon converged (rtol 1e-13) on all states
    conv = propagate_to_impact(r, v, beta, rtol=[1e-13, 1e-7, 1e-10])
    err = np.linalg.norm(imp.r_ecef_m - conv.r_ecef_m, axis=1)

    k = min(a.sample, a.n)
    idx = np.linspace(0, a.n - 1, k).astype(int)
    refs = {
        "scipy RK45, NumPy RHS": scipy_loop(r[idx], v[idx], beta[idx], method="RK45", rhs_factory=numpy_rhs),
        "scipy DOP853, NumPy RHS": scipy_loop(r[idx], v[idx], beta[idx], method="DOP853", rhs_factory=numpy_rhs),
        "scipy DOP853, compiled RHS": scipy_loop(r[idx], v[idx], beta[idx], method="DOP853", rhs_factory=compiled_rhs),
    }
    result = {
        "benchmark": "propagate_to_impact",
        "n": a.n,
        "sample": k,
        "hoplon_s_per_trajectory": t_hoplon,
        "hoplon_total_s": t_hoplon * a.n,
        "first_call_s": warm,
        "impacted": int(np.sum(imp.status == 0)),
        "error_vs_converged_m": {"max": float(err.max()), "p99": float(np.percentile(err, 99)), "median": float(np.median(err))},
        "time_error_vs_converged_s": float(np.max(np.abs(imp.time_s - conv.time_s))),
        "references": {
            name: {
                "s_per_trajectory": t,
                "speedup": t / t_hoplon,
                "max_impact_difference_m": float(np.max(np.linalg.norm(pts - imp.r_ecef_m[idx], axis=1))),
            }
            for name, (t, pts) in refs.items()
        },
    }
    if a.json:
        print(json.dumps(result, indent=2))
        return
    print(f"propagate_to_impact: {a.n} states, {result['impacted']} impacted")
    print(f"  Hoplon (batched, numba, DP5(4) rtol 1e-9): {t_hoplon * 1e6:9.1f} us/trajectory "
          f"({t_hoplon * a.n:.2f} s total; first call {warm:.2f} s)")
    e = result["error_vs_converged_m"]
    print(f"  impact points vs Hoplon converged (rtol 1e-13): median {e['median']:.2f} m, p99 {e['p99']:.2f} m, "
          f"max {e['max']:.2f} m; times within {result['time_error_vs_converged_s'] * 1e3:.1f} ms")
    for name, ref in result["references"].items():
        print(f"  {name:28s}: {ref['s_per_trajectory'] * 1e6:9.1f} us/trajectory -> Hoplon {ref['speedup']:7.0f}x faster "
              f"(impact points agree to {ref['max_impact_difference_m']:.2f} m)")


if __name__ == "__main__":
    main()
