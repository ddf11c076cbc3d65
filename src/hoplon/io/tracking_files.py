"""Read tracker inputs (SENSORS.yaml, MEAS.csv or .parquet) and write TRACKS.csv.

Inputs are checked as strictly as scenarios: every problem names the file, the line (or
row) and the field, and the CLI exits with status 2. An empty measurement file (no
bytes, blank, or a header only) is valid: it gives an empty track file.

SENSORS.yaml: ``sensors:`` a list of mappings with id, lat_deg, lon_deg, alt_m,
sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad and optional pd,
false_alarms_per_scan, scan_period_s and coverage (max_range_m, boresight_rad,
azimuth_half_width_rad, elevation_min_rad, elevation_max_rad), plain numbers in the
units their names carry.

MEAS.csv / .parquet: time_s, sensor_id, range_m, azimuth_rad, elevation_rad (azimuth
clockwise from true north in [0, 2 pi), elevation above the sensor's local horizontal
plane), optionally sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad per
measurement; other columns are ignored; rows may come in any order (arrival order).

TRACKS.csv: one row per confirmed track at every measurement time at which it exists:
time_s, track_id, lat_deg, lon_deg, alt_m, v_east_mps, v_north_mps, v_up_mps,
position_cov_trace_m2, and the track quality ``score`` (log-likelihood ratio of target
against false alarms, see :mod:`hoplon.core.tracker`).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from hoplon.core.frames import ecef_to_geodetic, ecef_velocity_to_enu
from hoplon.core.tracker import Scan, SensorInfo, TrackOutput, group_scans
from hoplon.errors import InputError, Problem
from hoplon.io.run_files import atomic_write

__all__ = ["read_sensors", "read_measurements", "scans_from_measurements", "write_tracks_csv", "tracks_table_columns"]

_REQUIRED_SENSOR = ("id", "lat_deg", "lon_deg", "alt_m", "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad")
_OPTIONAL_BOUNDS: dict[str, dict] = {
    "pd": {"lo": 0.0, "hi": 1.0},
    "false_alarms_per_scan": {"lo": 0.0},
    "scan_period_s": {"positive": True},
    # coverage: a scan counts as a miss only for tracks inside it
    "max_range_m": {"positive": True},
    "boresight_rad": {"lo": -2 * math.pi, "hi": 2 * math.pi},
    "azimuth_half_width_rad": {"lo": 0.0, "hi": math.pi},
    "elevation_min_rad": {"lo": -math.pi / 2, "hi": math.pi / 2},
    "elevation_max_rad": {"lo": -math.pi / 2, "hi": math.pi / 2},
}
_OPTIONAL_SENSOR = tuple(_OPTIONAL_BOUNDS)
MEAS_COLUMNS = ("time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad")
SIGMA_COLUMNS = ("sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad")
"""Optional per-measurement noise (all three or none); without them each sensor's own."""


def _read_text(path: Path, option: str) -> str:
    name = str(path)
    if not path.exists():
        raise InputError(Problem(name, None, option, "no such file"))
    if path.is_dir():
        raise InputError(Problem(name, None, option, "is a directory, not a file"))
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise InputError(Problem(name, None, "", "not a text file: it contains NUL bytes (binary data?)"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(Problem(name, None, "", f"not a text file: invalid UTF-8 at byte {exc.start}")) from None


def _number(value, *, name: str, file: str, line: int | None, field: str, lo=-math.inf, hi=math.inf, positive=False):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(Problem(file, line, field, f"expected a number, got {value!r}"))
    try:
        x = float(value)
    except ValueError:
        raise InputError(Problem(file, line, field, f"expected a number, got {value!r}")) from None
    if not math.isfinite(x):
        raise InputError(Problem(file, line, field, f"expected a finite number, got {value!r}"))
    if positive and not x > 0:
        raise InputError(Problem(file, line, field, f"must be > 0, got {value!r}"))
    if not lo <= x <= hi:
        raise InputError(Problem(file, line, field, f"must lie in [{lo:g}, {hi:g}], got {value!r}"))
    return x


def read_sensors(path: Path) -> list[SensorInfo]:
    """Sensors of a SENSORS.yaml file (errors name the file, line and field)."""
    from hoplon.errors import ScenarioError  # noqa: PLC0415
    from hoplon.scenario.loader import load_yaml  # noqa: PLC0415 (YAML with line numbers)

    name = str(path)
    _read_text(path, "--sensors")
    try:
        data, source = load_yaml(path, filename=name)
    except ScenarioError as exc:
        raise InputError(exc.problems) from None
    if not isinstance(data, dict) or "sensors" not in data:
        raise InputError(Problem(name, source.line_for(()), "", "expected a mapping with a 'sensors:' list"))
    unknown = [k for k in data if k != "sensors"]
    if unknown:
        raise InputError(Problem(name, source.line_for((unknown[0],)), unknown[0], "unknown field (expected only 'sensors')"))
    items = data["sensors"]
    if not isinstance(items, list) or not items:
        raise InputError(Problem(name, source.line_for(("sensors",)), "sensors", "expected a non-empty list of sensors"))
    out, seen = [], set()
    for i, item in enumerate(items):
        where = ("sensors", i)
        line = source.line_for(where)
        if not isinstance(item, dict):
            raise InputError(Problem(name, line, f"sensors[{i}]", "expected a mapping"))
        for key in item:
            if key not in _REQUIRED_SENSOR + _OPTIONAL_SENSOR:
                raise InputError(Problem(name, source.line_for(where + (key,)), f"sensors[{i}].{key}",
                                         f"unknown field (expected {', '.join(_REQUIRED_SENSOR + _OPTIONAL_SENSOR)})"))
        for key in _REQUIRED_SENSOR:
            if key not in item:
                raise InputError(Problem(name, line, f"sensors[{i}]", f"missing required field '{key}'"))
        sid = str(item["id"])
        if sid in seen:
            raise InputError(Problem(name, source.line_for(where + ("id",)), f"sensors[{i}].id", f"duplicate sensor id '{sid}'"))
        seen.add(sid)

        def num(key, **kw):
            return _number(item[key], name=key, file=name, line=source.line_for(where + (key,)), field=f"sensors[{i}].{key}", **kw)

        opt = {key: num(key, **bounds) for key, bounds in _OPTIONAL_BOUNDS.items() if key in item}
        if opt.get("elevation_min_rad", -math.inf) > opt.get("elevation_max_rad", math.inf):
            raise InputError(Problem(name, source.line_for(where + ("elevation_max_rad",)), f"sensors[{i}].elevation_max_rad",
                                     "must not be below elevation_min_rad"))
        out.append(SensorInfo(
            id=sid, lat_deg=num("lat_deg", lo=-90, hi=90), lon_deg=num("lon_deg", lo=-180, hi=360),
            alt_m=num("alt_m", lo=-500, hi=1e8), sigma_range_m=num("sigma_range_m", positive=True),
            sigma_azimuth_rad=num("sigma_azimuth_rad", positive=True),
            sigma_elevation_rad=num("sigma_elevation_rad", positive=True), **opt,
        ))
    return out


def read_measurements(path: Path, sensors: list[SensorInfo]) -> dict[str, np.ndarray]:
    """Columns of MEAS.csv or .parquet, checked row by row (1-based CSV line numbers)."""
    name = str(path)
    ids = {s.id: k for k, s in enumerate(sensors)}
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, ids)
    text = _read_text(path, "--measurements")
    if not text.strip():  # no detections at all (a quiet sky): an empty track file follows
        return _empty_measurements()
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    missing = [c for c in MEAS_COLUMNS if c not in header]
    if missing:
        raise InputError(Problem(name, 1, "", f"missing column(s) {', '.join(missing)} (need {','.join(MEAS_COLUMNS)})"))
    col = {c: header.index(c) for c in MEAS_COLUMNS}
    with_sigma = _sigma_columns(header, name)
    col.update({c: header.index(c) for c in SIGMA_COLUMNS if with_sigma})
    sig: list[tuple[float, float, float]] = []
    t, sensor, r, az, el = [], [], [], [], []
    for line, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise InputError(Problem(name, line, "", f"expected {len(header)} columns, got {len(row)}"))
        sid = row[col["sensor_id"]].strip()
        if sid not in ids:
            raise InputError(Problem(name, line, "sensor_id", f"unknown sensor '{sid}' (known: {', '.join(ids)})"))
        sensor.append(ids[sid])
        t.append(_number(row[col["time_s"]], name="time_s", file=name, line=line, field="time_s"))
        r.append(_number(row[col["range_m"]], name="range_m", file=name, line=line, field="range_m", positive=True))
        az.append(_number(row[col["azimuth_rad"]], name="azimuth_rad", file=name, line=line, field="azimuth_rad",
                          lo=-2 * math.pi, hi=2 * math.pi))
        el.append(_number(row[col["elevation_rad"]], name="elevation_rad", file=name, line=line, field="elevation_rad",
                          lo=-math.pi / 2, hi=math.pi / 2))
        if with_sigma:
            sig.append(tuple(_number(row[col[c]], name=c, file=name, line=line, field=c, positive=True)  # type: ignore[misc]
                             for c in SIGMA_COLUMNS))
    out = {
        "time_s": np.asarray(t, float), "sensor": np.asarray(sensor, np.int64), "range_m": np.asarray(r, float),
        "azimuth_rad": np.mod(np.asarray(az, float), 2 * math.pi), "elevation_rad": np.asarray(el, float),
    }
    if with_sigma:
        out["sigma"] = np.asarray(sig, float).reshape(-1, 3)
    return out


def _sigma_columns(header: list[str], name: str) -> bool:
    """Whether the file gives per-measurement sigmas (all three columns, or none)."""
    present = [c for c in SIGMA_COLUMNS if c in header]
    if present and len(present) < len(SIGMA_COLUMNS):
        missing = [c for c in SIGMA_COLUMNS if c not in present]
        raise InputError(Problem(name, 1, missing[0], f"per-measurement sigmas need all of {', '.join(SIGMA_COLUMNS)}"))
    return bool(present)


def _empty_measurements() -> dict[str, np.ndarray]:
    return {"time_s": np.empty(0), "sensor": np.empty(0, np.int64), "range_m": np.empty(0),
            "azimuth_rad": np.empty(0), "elevation_rad": np.empty(0)}


def _read_parquet(path: Path, ids: dict[str, int]) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq  # noqa: PLC0415

    name = str(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises assorted errors on bad files
        raise InputError(Problem(name, None, "", f"cannot read as Parquet: {exc}")) from None
    missing = [c for c in MEAS_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(Problem(name, None, "", f"missing column(s) {', '.join(missing)}"))
    with_sigma = _sigma_columns(table.column_names, name)
    cols = {c: table.column(c).to_pylist() for c in MEAS_COLUMNS + (SIGMA_COLUMNS if with_sigma else ())}
    out: dict[str, list] = {k: [] for k in ("time_s", "sensor", "range_m", "azimuth_rad", "elevation_rad", *SIGMA_COLUMNS)}
    for i in range(table.num_rows):
        row = i + 1
        sid = str(cols["sensor_id"][i])
        if sid not in ids:
            raise InputError(Problem(name, row, "sensor_id", f"unknown sensor '{sid}' (row {row})"))
        out["sensor"].append(ids[sid])
        checks: list[tuple[str, dict]] = [
            ("time_s", {}), ("range_m", {"positive": True}), ("azimuth_rad", {"lo": -2 * math.pi, "hi": 2 * math.pi}),
            ("elevation_rad", {"lo": -math.pi / 2, "hi": math.pi / 2}),
        ]
        if with_sigma:
            checks += [(c, {"positive": True}) for c in SIGMA_COLUMNS]
        for c, kw in checks:
            v = cols[c][i]
            out[c].append(_number(v if v is not None else "null", name=c, file=name, line=row, field=c, **kw))
    result = {k: np.asarray(out[k], dtype=np.int64 if k == "sensor" else float)
              for k in ("time_s", "sensor", "range_m", "azimuth_rad", "elevation_rad")}
    result["azimuth_rad"] = np.mod(result["azimuth_rad"], 2 * math.pi)
    if with_sigma:
        result["sigma"] = np.stack([np.asarray(out[c], float) for c in SIGMA_COLUMNS], axis=1).reshape(-1, 3)
    return result


def scans_from_measurements(meas: dict[str, np.ndarray]) -> list[Scan]:
    """Group measurements into scans (same sensor, same time) in arrival order of each
    scan's first row; measurements keep their row numbers as ``index``."""
    z = np.stack([meas["range_m"], meas["azimuth_rad"], meas["elevation_rad"]], axis=1)
    return group_scans(meas["time_s"], meas["sensor"], z, sigma=meas.get("sigma"))


def tracks_table_columns(out: TrackOutput, earth: str = "wgs84") -> dict[str, np.ndarray]:
    """The TRACKS.csv columns of a tracker output, by time then track id."""
    order = np.lexsort((out.track_id, out.time_s))
    x = out.state[order]
    geo = ecef_to_geodetic(x[:, 0:3], earth=earth) if len(x) else None
    if geo is None:
        return {k: np.empty(0) for k in ("time_s", "track_id", "lat_deg", "lon_deg", "alt_m", "v_east_mps", "v_north_mps",
                                          "v_up_mps", "position_cov_trace_m2", "score")}
    lat, lon = np.atleast_1d(geo.lat_deg), np.atleast_1d(geo.lon_deg)
    venu = np.atleast_2d(ecef_velocity_to_enu(x[:, 3:6], lat0_deg=lat, lon0_deg=lon))
    return {
        "time_s": out.time_s[order],
        "track_id": out.track_id[order],
        "lat_deg": lat,
        "lon_deg": lon,
        "alt_m": np.atleast_1d(geo.alt_m),
        "v_east_mps": venu[:, 0],
        "v_north_mps": venu[:, 1],
        "v_up_mps": venu[:, 2],
        "position_cov_trace_m2": np.trace(out.cov[order][:, 0:3, 0:3], axis1=1, axis2=2),
        "score": out.score[order],
    }


def write_tracks_csv(out: TrackOutput, target: Path, earth: str = "wgs84") -> int:
    """Write TRACKS.csv atomically; returns the number of rows."""
    cols = tracks_table_columns(out, earth)
    names = list(cols)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    n = len(cols["time_s"])
    for i in range(n):
        w.writerow([int(cols[k][i]) if k == "track_id" else repr(float(cols[k][i])) for k in names])
    text = buf.getvalue()

    def write(p: Path) -> None:
        p.write_text(text, encoding="utf-8")

    atomic_write(target, write)
    return n
