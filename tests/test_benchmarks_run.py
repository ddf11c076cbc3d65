"""The benchmarks stay runnable (tiny sizes; no timing is asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_propagation_benchmark_runs_and_reports_ratios():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_propagation.py"), "--n", "40", "--sample", "2", "--json"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 40 and out["impacted"] == 40
    assert set(out["references"]) == {"scipy RK45, NumPy RHS", "scipy DOP853, NumPy RHS", "scipy DOP853, compiled RHS"}
    for ref in out["references"].values():
        assert ref["speedup"] > 0
        # the same physics: impact points agree with the scipy runs
        assert ref["max_impact_difference_m"] < 50.0


def _run_benchmark(name: str, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / name), *args, "--json"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_targeting_benchmark_runs_and_reports_ratios():
    out = _run_benchmark("bench_targeting.py", "--k", "3", "--sample", "1", "--scipy-sample", "1")
    assert out["benchmark"] == "solve_targeting" and out["k"] == 3
    for key in ("first_call_s", "batched_s_per_problem", "batched_total_s", "max_miss_m", "numba_threads"):
        assert out[key] > 0
    # every batched solution hits within 100 m
    assert out["hits"] == 3 and out["failures"] == [] and out["max_miss_m"] < 100.0
    assert set(out["references"]) == {"loop", "scipy"}
    loop, scipy_ref = out["references"]["loop"], out["references"]["scipy"]
    assert loop["sample"] == 1 and loop["speedup"] > 0 and loop["max_miss_m"] < 100.0
    assert scipy_ref["sample"] == 1 and scipy_ref["hits"] == 1 and scipy_ref["speedup"] > 0
    # the same physics: the scipy reference finds the batched solution's controls
    assert scipy_ref["max_miss_m"] < 100.0
    assert scipy_ref["max_cutoff_difference_s"] < 0.01
    assert scipy_ref["max_azimuth_difference_mrad"] < 0.01


def test_airbreather_benchmark_runs_and_reports_ratios():
    out = _run_benchmark("bench_airbreather.py", "--n", "30", "--m", "40", "--sample", "3", "--repeat", "1")
    assert out["benchmark"] == "route_states"
    assert (out["n"], out["m"], out["sample"], out["waypoints_per_route"]) == (30, 40, 3, 5)
    assert out["shape"] == [30, 40, 3]
    for key in ("first_call_s", "plan_s", "states_s", "states_per_s", "s_per_state"):
        assert out[key] > 0
    assert 0.0 < out["flying_fraction"] <= 1.0
    assert set(out["references"]) == {"python per sample", "numpy per route"}
    for ref in out["references"].values():
        assert ref["speedup"] > 0 and ref["states_per_s"] > 0
        # the same model: sharp-corner positions agree to millimetres
        assert ref["max_position_difference_sharp_m"] < 1e-3
        # the turning routes cut their corners: not the same positions
        assert ref["max_position_difference_turning_m"] > 1.0


def test_detections_benchmark_runs_and_reports_ratios():
    # the sample is every pair, so pairs in the search volume are compared
    out = _run_benchmark("bench_detections.py", "--radars", "3", "--targets", "200", "--sample", "600", "--repeat", "1")
    assert out["benchmark"] == "detections"
    assert (out["radars"], out["targets"], out["pairs"], out["sample"]) == (3, 200, 600, 600)
    for key in ("first_call_s", "scan_s", "ms_per_scan", "pairs_per_s", "s_per_pair"):
        assert out[key] > 0
    assert out["detections"] <= out["in_search_pairs"] <= out["visible_pairs"] <= out["pairs"]
    assert set(out["stages_ms"]) == {"observe", "detection_probability"}
    assert set(out["references"]) == {"python per pair"}
    ref = out["references"]["python per pair"]
    assert ref["speedup"] > 0 and ref["pairs_per_s"] > 0 and ref["ms_per_scan"] > 0
    # the same physics: both agree on coverage and on the SNR of the pairs in it
    c = out["consistency"]
    assert c["visibility_agreement"] >= 0.99 and c["in_search_agreement"] >= 0.99
    assert c["snr_pairs"] > 0 and c["max_snr_difference_db"] < 0.01
    assert c["max_range_difference_m"] < 1e-3 and c["max_angle_difference_rad"] < 1e-9
    assert c["max_pd_difference"] < 1e-9
