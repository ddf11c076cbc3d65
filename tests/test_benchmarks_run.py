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


def test_tracking_benchmark_runs_and_reports_both_trackers():
    import math

    out = _run_benchmark("bench_tracking.py", "--seeds", "1", "--targets", "5", "--scans", "15", "--repeat", "1")
    assert out["benchmark"] == "tracking" and out["tracker_config"] == "default"
    assert out["threads"] == {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}
    assert out["scenario"]["targets"] == 5 and out["scenario"]["scans"] == 15
    (row,) = out["seeds"]
    assert row["seed"] == 1 and row["scans"] == 15 and row["measurements"] > row["false_alarms"] > 0
    hop = row["hoplon"]
    for key in ("mean_gospa_m", "rms_position_m", "missed_target_scans", "false_track_scans", "id_switches",
                "measurements_per_s", "seconds"):
        assert key in hop
    assert math.isfinite(hop["mean_gospa_m"]) and hop["mean_gospa_m"] >= 0.0
    assert hop["measurements_per_s"] > 0 and hop["truth_scans"] == 15
    if out["stonesoup_version"] is None:  # stonesoup is an optional extra
        assert row["stonesoup"] is None and out["goal"] is None
    else:
        assert math.isfinite(row["stonesoup"]["mean_gospa_m"]) and row["speedup"] > 0
        assert set(out["goal"]) == {"gospa_no_worse_every_seed", "min_speedup", "speedup_goal", "met"}


def test_tracking_benchmark_scale_case_runs():
    import math

    out = _run_benchmark("bench_tracking.py", "--scale", "--scale-targets", "20", "--scale-clutter", "20", "--scale-scans", "5")
    assert out["benchmark"] == "tracking_scale"
    assert out["scenario"]["targets"] == 20 and out["scenario"]["scans"] == 5
    assert len(out["scan_s"]) == len(out["live_tracks"]) == 5 and out["steady_scans"] == 5
    assert out["steady_median_s_per_scan"] > 0 and out["goal_s_per_scan"] == 0.1 and isinstance(out["met"], bool)
    assert math.isfinite(out["metrics"]["mean_gospa_m"])


def test_tracking_scenario_generator_follows_the_specification(tmp_path):
    import numpy as np

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from tracking_scenarios import generate, generate_scale
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from hoplon.core.frames import ecef_to_aer
    from hoplon.io.tracking_files import read_measurements, read_sensors, scans_from_measurements

    sc = generate(3, targets=12, scans=60)
    assert len(sc.scans) == 60
    again = generate(3, targets=12, scans=60)
    assert np.array_equal(sc.meas_range_m, again.meas_range_m) and np.array_equal(sc.truth_ecef_m, again.truth_ecef_m)
    # every detection lies within a few sigmas of its target's true position as the radar sees it
    aer = ecef_to_aer(sc.truth_ecef_m, lat0_deg=sc.sensor.lat_deg, lon0_deg=sc.sensor.lon_deg, alt0_m=sc.sensor.alt_m)
    key = {(t, k): i for i, (t, k) in enumerate(zip(sc.truth_time_s.tolist(), sc.truth_id.tolist()))}
    det = np.flatnonzero(sc.meas_label >= 0)
    rows = np.array([key[(t, k)] for t, k in zip(sc.meas_time_s[det].tolist(), sc.meas_label[det].tolist())])
    assert np.max(np.abs(sc.meas_range_m[det] - aer.range_m[rows])) < 6 * 25.0
    daz = (sc.meas_azimuth_rad[det] - aer.azimuth_rad[rows] + np.pi) % (2 * np.pi) - np.pi
    assert np.max(np.abs(daz)) < 6 * 0.002
    assert np.max(np.abs(sc.meas_elevation_rad[det] - aer.elevation_rad[rows])) < 6 * 0.002
    assert 0.8 < det.size / sc.truth_time_s.size < 1.0  # pd 0.9
    fa = sc.meas_label < 0
    assert 20 < fa.sum() / 60 < 40  # Poisson(30) per scan
    assert np.all((sc.meas_range_m[fa] >= 10e3) & (sc.meas_range_m[fa] <= 200e3))
    assert np.all((sc.meas_elevation_rad[fa] >= 0.0) & (sc.meas_elevation_rad[fa] <= 0.2))
    # the files read back into the same scans
    paths = sc.write(tmp_path)
    sensors = read_sensors(paths["sensors"])
    scans = scans_from_measurements(read_measurements(paths["measurements"], sensors))
    assert sensors == [sc.sensor] and len(scans) == len(sc.scans)
    assert all(np.array_equal(a.z, b.z) and a.time_s == b.time_s for a, b in zip(scans, sc.scans))
    big = generate_scale(1, targets=50, clutter=40.0, scans=4)
    assert big.truth_time_s.size == 200 and np.unique(big.truth_id).size == 50


def test_ballistic_tracking_benchmark_runs_and_separates_the_models():
    out = _run_benchmark("bench_ballistic_tracking.py", "--missiles", "6")
    assert out["missiles"] == 6 and 0 < out["free_flight_detections"] <= out["detections"]
    assert set(out["models"]) >= {"ballistic", "constant velocity, same noise"}
    rv = out["models"]["ballistic"]["groups"]["re-entry vehicles"]
    assert rv["rows"] > 0 and rv["tracks"] > 0 and rv["rms_position_m"] > 0
    assert rv["interval_95"][0] < 6.0 < rv["interval_95"][1] or rv["steps"] == 0
    # at the ballistic model's tiny process noise, constant velocity cannot follow a
    # ballistic missile: its tracks of the re-entry vehicles hold far fewer updates
    cv = out["models"]["constant velocity, same noise"]["groups"]["re-entry vehicles"]
    assert cv["rows"] < rv["rows"] / 2


def test_wta_benchmark_runs_and_reports_gaps_and_the_reference():
    out = _run_benchmark("bench_wta.py", "--quick")
    assert out["benchmark"] == "wta" and out["seeds"] == 2 and out["first_call_s"] > 0
    assert [r["size"] for r in out["exact"]] == ["20x20", "20x10"]
    assert [r["size"] for r in out["heuristic"]] == ["20x20", "20x10"]
    for row in out["exact"]:
        assert row["statuses"] == {"optimal": 2} and 0 <= row["max_gap"] <= 1e-6
        assert 0 < row["median_s"] <= row["max_s"]
    for row in out["heuristic"]:
        assert row["median_s"] > 0 and row["optimum_known"] == 2
        # the heuristic never beats the certified optimum, and its bound gap is no smaller
        assert -1e-9 <= row["median_gap_to_optimum"] <= row["max_gap_to_optimum"] <= row["max_gap_to_bound"]
    ref = out["reference"]
    assert ref["size"] == "20x10" and ref["seeds"] == 1 and ref["ratio"] > 0
    (run,) = ref["runs"]
    assert run["status"] == "converged" and run["excess_over_optimum"] <= 1e-4
    assert len(out["goals"]) == 5 and all(g["met"] is None for g in out["goals"])  # no goal size in --quick
    # the text report prints the same figures
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_wta.py"), "--quick"],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("solve_exact", "solve_heuristic", "outer-approximation MILP", "ratio", "Lu & Chen", "goals:"):
        assert text in proc.stdout


def test_battle_benchmark_runs_and_reports_ratios():
    out = _run_benchmark("bench_battle.py", "--n", "12", "--mc", "20", "--threats", "12", "--samples", "40", "--loop-threats", "2")
    assert out["benchmark"] == "battle"
    pred, win = out["prediction"], out["windows"]
    assert pred["valid"] == 12 and pred["speedup"] > 0 and pred["predict_s_per_track"] > 0
    # the predicted mean sits inside the Monte Carlo spread
    assert pred["median_mean_offset_over_spread"] < 0.5
    assert win["speedup"] > 0 and 0.0 <= win["feasible_fraction"] <= 1.0


def test_engine_benchmark_runs_and_reports_the_goal():
    out = _run_benchmark("bench_engine.py", "--scenario", "anatolia", "--repeat", "1")
    assert out["benchmark"] == "engine_replication" and out["threats"] == 7
    assert out["replication_s"] > 0 and out["mc_replication_s"] > 0 and out["ratio_to_goal"] > 0
    assert out["goal"] == {"mc_replication_s": 0.1}
    assert set(out["profile_s"]) >= {"tracking", "battle management", "debris"}


def test_montecarlo_benchmark_runs_and_reports_ratios():
    scenario = ROOT / "tests" / "data" / "scenarios" / "mc-small.yaml"
    out = _run_benchmark("bench_montecarlo.py", "--scenario", str(scenario), "--per-worker", "1")
    assert out["benchmark"] == "monte_carlo_throughput"
    assert out["reference_in_process_loop_per_min"] > 0 and out["scaling_efficiency_1_to_2"] > 0
    assert {k: v["replications"] for k, v in out["workers"].items()} == {"1": 1, "2": 2}
    parts = out["per_replication"]
    assert all(parts[k] > 0 for k in ("reseed_s", "engine_s", "rows_s", "commit_s"))
