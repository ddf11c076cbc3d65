"""Export a run's radar detections in the input format of ``hoplon track``.

``tracker.yaml``: the settings of the run's engine tracker, so that ``hoplon track
--config tracker.yaml`` tracks the exported measurements as the engine did (the engine
uses each detection's own SNR-dependent sigmas; the files carry one per radar).

``sensors.yaml``: a list under ``sensors:`` with id, lat_deg, lon_deg, alt_m,
sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad, pd, false_alarms_per_scan and
scan_period_s for every radar. The sigmas are the median of the radar's reported sigmas
over its detections of real objects (they vary with SNR; each measurement's own are in
measurements.csv); ``pd`` is the fraction of the radar's opportunities (object
scans in its coverage) that gave a detection; ``false_alarms_per_scan`` is the model's
mean (Pfa x resolution cells of the search sector); the coverage fields (max_range_m,
boresight_rad, azimuth_half_width_rad, elevation_min_rad, elevation_max_rad) let the
tracker count a miss only where the radar could have seen the track.

``measurements.csv``: time_s, sensor_id, range_m, azimuth_rad, elevation_rad of every
detection including false alarms, by time (azimuth clockwise from true north, elevation
above the local horizontal plane, radians), with each detection's own sigmas
(sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad: they follow its SNR). ``truth.csv``: for scoring the tracks of
``hoplon track`` with ``hoplon metrics``, the true state (interpolated from the run's
dense truth) of every object in flight at every distinct measurement time (the times at
which the track file has rows), with ``target_id``. Objects that no radar can see at that
time are included: to the scoring they are missed targets.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from hoplon.io.run_files import atomic_write

__all__ = ["export_measurements"]


def _write_text(path: Path, text: str) -> None:
    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    atomic_write(path, write)


def _sensors_yaml(result) -> str:
    net = result.world.sensors
    det = result.detections.to_pydict()
    sensor = np.asarray(det["sensor_id"], dtype=object)
    real = np.asarray([o is not None for o in det["object_id"]], dtype=bool)
    stats = {s["sensor_id"]: s for s in result.sensor_stats}
    lines = ["sensors:"]
    radars = net.radars
    for i in range(net.n_radars):
        sid = str(net.radar_id[i])
        mine = (sensor == sid) & real
        st = stats.get(sid, {})

        def median(col, default):
            vals = np.asarray(det[col], dtype=float)[mine]
            return float(np.median(vals)) if vals.size else default

        pd = st.get("detections", 0) / st["opportunities"] if st.get("opportunities") else 0.0
        lines += [
            f"  - id: {sid}",
            f"    lat_deg: {float(radars.lat_deg[i])!r}",
            f"    lon_deg: {float(radars.lon_deg[i])!r}",
            f"    alt_m: {float(radars.alt_m[i])!r}",
            f"    sigma_range_m: {median('sigma_range_m', float(radars.range_floor_m[i]))!r}",
            f"    sigma_azimuth_rad: {median('sigma_azimuth_rad', float(radars.angle_floor_rad[i]))!r}",
            f"    sigma_elevation_rad: {median('sigma_elevation_rad', float(radars.angle_floor_rad[i]))!r}",
            f"    pd: {min(max(pd, 0.0), 1.0)!r}",
            f"    false_alarms_per_scan: {float(st.get('false_alarms_per_scan', 0.0))!r}",
            f"    scan_period_s: {float(radars.scan_period_s[i])!r}",
            f"    max_range_m: {float(radars.max_range_m[i])!r}",
            f"    boresight_rad: {float(radars.boresight_rad[i])!r}",
            f"    azimuth_half_width_rad: {float(radars.azimuth_half_width_rad[i])!r}",
            f"    elevation_min_rad: {float(radars.elevation_min_rad[i])!r}",
            f"    elevation_max_rad: {float(radars.elevation_max_rad[i])!r}",
        ]
    if net.n_radars == 0:
        lines = ["sensors: []"]
    return "\n".join(lines) + "\n"


def _tracker_yaml(result) -> str:
    """The settings of the tracker that made the run's tracks.parquet, as TRACKER.yaml."""
    import dataclasses  # noqa: PLC0415

    cfg = result.world.tracker
    lines = ["# the engine tracker's settings of this run (hoplon track --config tracker.yaml)"]
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        lines.append(f"{f.name}: {value!r}" if not isinstance(value, str) else f"{f.name}: {value}")
    return "\n".join(lines) + "\n"


def _csv(header: list[str], columns: list) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in zip(*columns):
        w.writerow([repr(float(x)) if isinstance(x, float | np.floating) else x for x in row])
    return buf.getvalue()


def export_measurements(result, out_dir: Path) -> None:
    """Write ``sensors.yaml``, ``measurements.csv``, ``truth.csv`` and ``tracker.yaml``
    (the engine tracker's settings, for ``hoplon track --config``) into ``out_dir``."""
    det = result.detections.to_pydict()
    truth = result.truth_store.table_at(np.unique(np.asarray(det["time_s"], dtype=float))).to_pydict()
    _write_text(out_dir / "sensors.yaml", _sensors_yaml(result))
    _write_text(out_dir / "tracker.yaml", _tracker_yaml(result))
    _write_text(
        out_dir / "measurements.csv",
        _csv(["time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad",
              "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad"],
             [det[k] for k in ("time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad",
                               "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad")]),
    )
    _write_text(
        out_dir / "truth.csv",
        _csv(["time_s", "target_id", "kind", "lat_deg", "lon_deg", "alt_m", "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps"],
             [truth[k] for k in ("time_s", "object_id", "kind", "lat_deg", "lon_deg", "alt_m", "x_m", "y_m", "z_m",
                                 "vx_mps", "vy_mps", "vz_mps")]),
    )
