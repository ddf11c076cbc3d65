"""``hoplon track``: file formats, end to end, and errors on bad input.

Measurements are made here with pymap3d (WGS84 azimuth/elevation/range of straight-line
targets), so the expected track positions come from outside Hoplon.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pymap3d
from cli_checks import assert_clean_error, invoke

SITE = (37.0, 36.0, 500.0)
TRACK_COLUMNS = ["time_s", "track_id", "lat_deg", "lon_deg", "alt_m", "v_east_mps", "v_north_mps", "v_up_mps",
                 "position_cov_trace_m2", "score"]
SENSORS_YAML = f"""sensors:
  - id: r1
    lat_deg: {SITE[0]}
    lon_deg: {SITE[1]}
    alt_m: {SITE[2]}
    sigma_range_m: 20
    sigma_azimuth_rad: 0.001
    sigma_elevation_rad: 0.001
    scan_period_s: 2
"""


def cli(*args: str):
    return invoke("track", *args)


def two_targets(scans: int = 20, period: float = 2.0, seed: int = 1):
    """Truth (ENU of the site, m) and noisy measurements of two straight-line targets."""
    rng = np.random.default_rng(seed)
    starts = np.array([[20e3, 40e3, 5e3], [-30e3, 50e3, 8e3]])
    vel = np.array([[-150.0, 20.0, 0.0], [120.0, -40.0, 0.0]])
    rows, truth = [], []
    for k in range(scans):
        t = k * period
        for i in range(2):
            e, n, u = starts[i] + vel[i] * t
            az, el, rg = pymap3d.enu2aer(e, n, u, deg=False)
            truth.append((t, i, e, n, u))
            rows.append([t, "r1", rg + 20 * rng.standard_normal(), (az + 0.001 * rng.standard_normal()) % (2 * np.pi),
                         el + 0.001 * rng.standard_normal()])
    return rows, truth, vel


def write_files(tmp_path: Path, rows) -> tuple[Path, Path]:
    sensors = tmp_path / "sensors.yaml"
    sensors.write_text(SENSORS_YAML)
    meas = tmp_path / "meas.csv"
    with open(meas, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad", "comment"])
        w.writerows([[*r, "ignored"] for r in rows])
    return sensors, meas


def read_tracks(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == TRACK_COLUMNS
    data = np.array(rows[1:], dtype=float).reshape(-1, len(TRACK_COLUMNS))
    return {c: data[:, k] for k, c in enumerate(TRACK_COLUMNS)}


def test_two_targets_give_two_tracks_close_to_the_truth(tmp_path):
    rows, truth, vel = two_targets()
    sensors, meas = write_files(tmp_path, rows)
    out = tmp_path / "tracks.csv"
    code, _, err, _ = cli("--sensors", str(sensors), "--measurements", str(meas), "--out", str(out))
    assert code == 0, err
    tr = read_tracks(out)
    assert np.unique(tr["track_id"]).size == 2
    # every row is at a measurement time, and every track row is near one target
    times = {r[0] for r in rows}
    assert set(tr["time_s"].tolist()) <= times
    e, n, u = pymap3d.geodetic2enu(tr["lat_deg"], tr["lon_deg"], tr["alt_m"], *SITE)
    est = np.stack([e, n, u], axis=1)
    for tid in np.unique(tr["track_id"]):
        sel = tr["track_id"] == tid
        t = tr["time_s"][sel]
        d = []
        for i in range(2):
            ref = np.array([[x[2], x[3], x[4]] for x in truth if x[1] == i and x[0] in set(t.tolist())])
            d.append(np.sqrt(np.mean(np.sum((est[sel] - ref) ** 2, axis=1))))
        # cross-range noise at ~50 km is 50 m per axis; the tracks are well inside that
        assert min(d) < 60.0 and max(d) > 10e3
        i = int(np.argmin(d))
        # ENU velocity at the target (the site's ENU axes differ by < 1 degree here)
        v = np.stack([tr["v_east_mps"][sel], tr["v_north_mps"][sel], tr["v_up_mps"][sel]], axis=1)[-5:]
        assert np.all(np.linalg.norm(v - vel[i], axis=1) < 15.0)
    assert np.all(tr["position_cov_trace_m2"] > 0)


def test_parquet_measurements_give_the_same_tracks(tmp_path):
    rows, _, _ = two_targets()
    sensors, meas = write_files(tmp_path, rows)
    pq.write_table(pa.table({"time_s": [r[0] for r in rows], "sensor_id": [r[1] for r in rows],
                             "range_m": [r[2] for r in rows], "azimuth_rad": [r[3] for r in rows],
                             "elevation_rad": [r[4] for r in rows]}), tmp_path / "meas.parquet")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("--sensors", str(sensors), "--measurements", str(meas), "--out", str(a))[0] == 0
    assert cli("--sensors", str(sensors), "--measurements", str(tmp_path / "meas.parquet"), "--out", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()


def test_same_input_gives_byte_identical_tracks(tmp_path):
    rows, _, _ = two_targets()
    sensors, meas = write_files(tmp_path, rows)
    outs = [tmp_path / f"t{k}.csv" for k in range(2)]
    for o in outs:
        assert cli("--sensors", str(sensors), "--measurements", str(meas), "--out", str(o), "--motion", "imm")[0] == 0
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_an_empty_measurement_file_gives_an_empty_track_file(tmp_path):
    sensors, _ = write_files(tmp_path, [])
    for name, text in (("zero.csv", ""), ("blank.csv", "\n\n"),
                       ("header.csv", "time_s,sensor_id,range_m,azimuth_rad,elevation_rad\n")):
        meas = tmp_path / name
        meas.write_text(text)
        out = tmp_path / f"tracks-{name}"
        code, _, err, _ = cli("--sensors", str(sensors), "--measurements", str(meas), "--out", str(out))
        assert code == 0, err
        assert out.read_text().splitlines() == [",".join(TRACK_COLUMNS)]


def test_bad_sensor_files_name_file_line_and_field(tmp_path):
    rows, _, _ = two_targets(scans=3)
    _, meas = write_files(tmp_path, rows)
    out = tmp_path / "tracks.csv"

    def run_with(text: str, *needles: str) -> None:
        path = tmp_path / "s.yaml"
        path.write_text(text)
        assert_clean_error(*cli("--sensors", str(path), "--measurements", str(meas), "--out", str(out)), str(path), *needles)

    run_with(SENSORS_YAML.replace(f"lat_deg: {SITE[0]}", "lat_deg: 123"), ":3:", "lat_deg", "must lie in")
    run_with(SENSORS_YAML.replace("sigma_range_m: 20", "sigma_range_m: -1"), ":6:", "sigma_range_m", "must be > 0")
    run_with(SENSORS_YAML.replace("sigma_range_m: 20", "sigma_range_m: twenty"), ":6:", "sigma_range_m", "expected a number")
    run_with(SENSORS_YAML.replace("    sigma_elevation_rad: 0.001\n", ""), "sensors[0]", "missing required field 'sigma_elevation_rad'")
    run_with(SENSORS_YAML + "    colour: blue\n", ":10:", "colour")
    run_with("", "file is empty")
    run_with("sensors: [\n", "")
    (tmp_path / "bin.yaml").write_bytes(b"\x00\x01\x02binary")
    assert_clean_error(*cli("--sensors", str(tmp_path / "bin.yaml"), "--measurements", str(meas), "--out", str(out)),
                       "bin.yaml", "not a text file")
    assert_clean_error(*cli("--sensors", str(tmp_path / "none.yaml"), "--measurements", str(meas), "--out", str(out)),
                       "none.yaml", "--sensors", "no such file")
    assert not out.exists()


def test_bad_measurement_files_name_file_line_and_field(tmp_path):
    rows, _, _ = two_targets(scans=3)
    sensors, _ = write_files(tmp_path, rows)
    out = tmp_path / "tracks.csv"
    out.write_text("an earlier result\n")
    header = "time_s,sensor_id,range_m,azimuth_rad,elevation_rad\n"
    good = "0.0,r1,50000,1.0,0.1\n"

    def run_with(text: str | bytes, *needles: str) -> None:
        path = tmp_path / "m.csv"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        assert_clean_error(*cli("--sensors", str(sensors), "--measurements", str(path), "--out", str(out)), *needles)

    run_with(header + good + "2.0,r2,50000,1.0,0.1\n", "m.csv:3:", "sensor_id", "unknown sensor 'r2'")
    run_with(header + good + "2.0,r1,far,1.0,0.1\n", "m.csv:3:", "range_m", "expected a number")
    run_with(header + good + "2.0,r1,50000,1.0,2.0\n", "m.csv:3:", "elevation_rad", "must lie in")
    run_with(header + good + "2.0,r1,-5,1.0,0.1\n", "m.csv:3:", "range_m", "must be > 0")
    run_with(header + "nan,r1,50000,1.0,0.1\n", "m.csv:2:", "time_s", "finite")
    run_with(header + "2.0,r1,50000\n", "m.csv:2:", "expected 5 columns")
    run_with("time_s,sensor,range_m\n" + good, "m.csv:1:", "missing column")
    run_with(b"\x00\xff\x00binary", "m.csv", "not a text file")
    run_with(b"time_s,sensor_id\n\xff\xfe", "m.csv", "invalid UTF-8")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    assert_clean_error(*cli("--sensors", str(sensors), "--measurements", str(tmp_path / "bad.parquet"), "--out", str(out)),
                       "bad.parquet", "cannot read as Parquet")
    # the earlier output is untouched by every failed run
    assert out.read_text() == "an earlier result\n"


def test_bad_options_and_config(tmp_path):
    rows, _, _ = two_targets(scans=3)
    sensors, meas = write_files(tmp_path, rows)
    out = tmp_path / "tracks.csv"
    base = ("--sensors", str(sensors), "--measurements", str(meas))
    assert_clean_error(*cli(*base, "--out", str(out), "--motion", "warp"), "--motion", "expected one of")
    assert_clean_error(*cli(*base, "--out", str(tmp_path)), "--out", "is a directory")
    assert_clean_error(*cli(*base, "--out", str(tmp_path / "no" / "t.csv")), "--out", "does not exist")
    cfg = tmp_path / "tracker.yaml"
    cfg.write_text("motion: imm\nconfirm_m: 3\nconfirm_n: 2\n")
    assert_clean_error(*cli(*base, "--out", str(out), "--config", str(cfg)), "tracker.yaml")
    cfg.write_text("motion: imm\ngate_probabilty: 0.99\n")
    assert_clean_error(*cli(*base, "--out", str(out), "--config", str(cfg)), "tracker.yaml:2:", "gate_probabilty")
    assert_clean_error(*cli(*base, "--out", str(out), "--config", str(tmp_path / "none.yaml")), "--config", "no such file")
    cfg.write_text("motion: ca\nconfirm_m: 3\nconfirm_n: 4\n")
    code, _, err, _ = cli(*base, "--out", str(out), "--config", str(cfg))
    assert code == 0 and "motion ca" in err


def test_per_measurement_sigma_columns_are_used(tmp_path):
    rows, _, _ = two_targets()
    sensors, meas = write_files(tmp_path, rows)
    # the same measurements, each declared 3x noisier than the sensor's nominal noise
    noisy = tmp_path / "noisy.csv"
    with open(noisy, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad",
                    "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad"])
        w.writerows([[*r, 60.0, 0.003, 0.003] for r in rows])
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert cli("--sensors", str(sensors), "--measurements", str(meas), "--out", str(a))[0] == 0
    assert cli("--sensors", str(sensors), "--measurements", str(noisy), "--out", str(b))[0] == 0
    ta, tb = read_tracks(a), read_tracks(b)
    last_a = ta["position_cov_trace_m2"][ta["time_s"] == ta["time_s"].max()]
    last_b = tb["position_cov_trace_m2"][tb["time_s"] == tb["time_s"].max()]
    # a covariance scales with the noise variance (9x); allow for the process noise
    assert np.all(np.sort(last_b) > 4 * np.sort(last_a))
    partial = tmp_path / "partial.csv"
    partial.write_text("time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m\n0,r1,50000,1,0.1,5\n")
    assert_clean_error(*cli("--sensors", str(sensors), "--measurements", str(partial), "--out", str(a)),
                       "partial.csv:1:", "sigma_azimuth_rad", "need all of")
    bad = tmp_path / "bad_sigma.csv"
    bad.write_text("time_s,sensor_id,range_m,azimuth_rad,elevation_rad,sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad\n"
                   "0,r1,50000,1,0.1,5,0.001,0\n")
    assert_clean_error(*cli("--sensors", str(sensors), "--measurements", str(bad), "--out", str(a)),
                       "bad_sigma.csv:2:", "sigma_elevation_rad", "must be > 0")
