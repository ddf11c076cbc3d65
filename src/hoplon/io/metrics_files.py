"""Read TRUTH.csv and TRACKS.csv for ``hoplon metrics`` (positions and velocities in
WGS84 ECEF).

Inputs are checked as strictly as the tracker's: every problem names the file, the line
and the field, and the CLI exits with status 2. Columns may come in any order; other
columns are ignored.

TRUTH.csv: time_s, target_id, lat_deg, lon_deg, alt_m (geodetic, WGS84), and optionally
velocities, either ``vx_mps, vy_mps, vz_mps`` (Earth-relative ECEF, as the truth.csv of
``hoplon run --export-measurements`` has) or ``v_east_mps, v_north_mps, v_up_mps``.
East/north/up velocities are taken in the local ENU frame of each row's own position,
except when the file also has ``east_m, north_m, up_m`` (positions in one fixed ENU
frame, e.g. of a radar, as the shared tracking benchmark writes): the velocities are
then in that same fixed frame, whose origin is recovered from the rows (a least-squares
fit; every row must agree with its lat/lon/alt within 10 m). Positions always come from
lat_deg, lon_deg, alt_m. A truth file needs at least one row.

TRACKS.csv (as ``hoplon track`` writes it): time_s, track_id, lat_deg, lon_deg, alt_m,
and optionally ``v_east_mps, v_north_mps, v_up_mps`` (local ENU at the track's
position) or ``vx_mps, vy_mps, vz_mps`` (ECEF). A header alone, or an empty file, is a
valid file with no tracks (every target is then missed).

A (target, time) or (track, time) pair may appear only once; times are matched at
1e-6 s (:func:`hoplon.core.metrics.time_keys`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hoplon.core.frames import (
    ecef_to_geodetic,
    enu_rotation,
    enu_velocity_to_ecef,
    geodetic_to_ecef,
)
from hoplon.core.metrics import time_keys
from hoplon.errors import InputError, Problem
from hoplon.io.tracking_files import _read_text

__all__ = ["FIXED_FRAME_TOLERANCE_M", "TRACKS_COLUMNS", "TRUTH_COLUMNS", "TimedPoints", "read_tracks", "read_truth"]

TRUTH_COLUMNS = ("time_s", "target_id", "lat_deg", "lon_deg", "alt_m")
TRACKS_COLUMNS = ("time_s", "track_id", "lat_deg", "lon_deg", "alt_m")
ECEF_VELOCITY = ("vx_mps", "vy_mps", "vz_mps")
ENU_VELOCITY = ("v_east_mps", "v_north_mps", "v_up_mps")
ENU_POSITION = ("east_m", "north_m", "up_m")
FIXED_FRAME_TOLERANCE_M = 10.0
"""Largest disagreement (m) between a row's east/north/up and its lat/lon/alt in the
fitted fixed ENU frame."""

_RANGES = {"lat_deg": (-90.0, 90.0), "lon_deg": (-180.0, 360.0), "alt_m": (-1e5, 1e9)}


class TimedPoints(NamedTuple):
    """Rows of a truth or track file: times (N,) s, ids (N,) str, ECEF positions (N, 3) m,
    ECEF velocities (N, 3) m/s or None, the velocity columns' frame ("ecef",
    "local-enu", "fixed-enu" or None) and the 1-based CSV line of every row (N,)."""

    time_s: np.ndarray
    id: np.ndarray
    pos_ecef_m: np.ndarray
    vel_ecef_mps: np.ndarray | None
    velocity_frame: str | None
    line: np.ndarray


class _Csv(NamedTuple):
    header: list[str]
    cells: dict[str, list[str]]
    line: np.ndarray


def _parse(path: Path, option: str, required: tuple[str, ...], optional: tuple[str, ...], *, allow_empty: bool) -> _Csv:
    name = str(path)
    text = _read_text(path, option)
    if not text.strip():
        if allow_empty:
            return _Csv(list(required), {c: [] for c in required}, np.empty(0, np.int64))
        raise InputError(Problem(name, None, "", "file is empty (expected a header: " + ",".join(required) + ")"))
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    for i, h in enumerate(header):
        if h and h in header[:i]:
            raise InputError(Problem(name, 1, h, "column appears twice in the header"))
    for c in required:
        if c not in header:
            raise InputError(Problem(name, 1, c, f"missing column (need {', '.join(required)})"))
    wanted = [c for c in required + optional if c in header]
    col = {c: header.index(c) for c in wanted}
    cells: dict[str, list[str]] = {c: [] for c in wanted}
    lines = []
    for row in reader:
        line = reader.line_num
        if not row or all(not x.strip() for x in row):
            continue
        if len(row) != len(header):
            raise InputError(Problem(name, line, "", f"expected {len(header)} columns (as the header), got {len(row)}"))
        lines.append(line)
        for c in wanted:
            cells[c].append(row[col[c]].strip())
    return _Csv(header, cells, np.asarray(lines, dtype=np.int64))


def _numbers(data: _Csv, column: str, name: str) -> np.ndarray:
    """A column as floats: finite, and inside the column's range if it has one."""
    values = data.cells[column]
    try:
        x = np.array(values, dtype=np.float64)
    except ValueError:
        for i, s in enumerate(values):
            try:
                float(s)
            except ValueError:
                raise InputError(Problem(name, int(data.line[i]), column, f"expected a number, got {s!r}")) from None
        raise  # pragma: no cover - numpy and float() disagree
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(Problem(name, int(data.line[i]), column, f"expected a finite number, got {values[i]!r}"))
    if column in _RANGES:
        lo, hi = _RANGES[column]
        bad = (x < lo) | (x > hi)
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(Problem(name, int(data.line[i]), column, f"must lie in [{lo:g}, {hi:g}], got {values[i]!r}"))
    return x


def _ids(data: _Csv, column: str, name: str) -> np.ndarray:
    ids = np.asarray(data.cells[column], dtype=object)
    for i, s in enumerate(data.cells[column]):
        if not s:
            raise InputError(Problem(name, int(data.line[i]), column, "empty id"))
    return ids


def _no_repeats(ids: np.ndarray, t: np.ndarray, lines: np.ndarray, name: str, column: str, what: str) -> None:
    key = time_keys(t)
    seen: dict[tuple[str, float], int] = {}
    for i, pair in enumerate(zip(ids.tolist(), key.tolist())):
        first = seen.setdefault(pair, i)
        if first != i:
            raise InputError(Problem(name, int(lines[i]), column, f"{what} {pair[0]!r} appears twice at time {pair[1]:g} s "
                                                                  f"(also line {int(lines[first])})"))


def _velocity_columns(data: _Csv, name: str) -> tuple[str, ...] | None:
    """The complete velocity column group (ECEF preferred), None if there is none."""
    complete = None
    for group in (ECEF_VELOCITY, ENU_VELOCITY):
        present = [c for c in group if c in data.cells]
        if present and len(present) < 3:
            missing = next(c for c in group if c not in data.cells)
            raise InputError(Problem(name, 1, missing, f"missing column: velocities need all of {', '.join(group)}"))
        if present and complete is None:
            complete = group
    return complete


def _fixed_enu_rotation(r: np.ndarray, enu: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (3, 3) from ECEF to the fixed ENU frame in which the rows have ``enu``
    (m), and each row's disagreement (m). The origin solves r_i = r0 + R(r0)^T enu_i in
    the least-squares sense by fixed-point iteration (R depends on the origin only
    through its latitude and longitude, weakly: it contracts by about |enu| / R_earth)."""
    lat0, lon0 = float(lat[0]), float(lon[0])
    for _ in range(50):
        R = enu_rotation(lat0, lon0)
        r0 = np.mean(r - enu @ R, axis=0)
        g = ecef_to_geodetic(r0)
        new = float(g.lat_deg), float(g.lon_deg)
        done = abs(new[0] - lat0) < 1e-12 and abs((new[1] - lon0 + 180.0) % 360.0 - 180.0) < 1e-12
        lat0, lon0 = new
        if done:
            break
    R = enu_rotation(lat0, lon0)
    return R, np.linalg.norm(r - r0 - enu @ R, axis=1)


def _read(path: Path, *, option: str, id_column: str, required: tuple[str, ...], what: str, allow_empty: bool) -> TimedPoints:
    name = str(path)
    data = _parse(path, option, required, ECEF_VELOCITY + ENU_VELOCITY + ENU_POSITION, allow_empty=allow_empty)
    n = len(data.line)
    if n == 0 and not allow_empty:
        raise InputError(Problem(name, None, "", "no rows (a truth file needs at least one row to score against)"))
    t = _numbers(data, "time_s", name)
    ids = _ids(data, id_column, name)
    lat, lon, alt = (_numbers(data, c, name) for c in ("lat_deg", "lon_deg", "alt_m"))
    _no_repeats(ids, t, data.line, name, id_column, what)
    pos = geodetic_to_ecef(lat, lon, alt).reshape(n, 3)
    group = _velocity_columns(data, name)
    vel, frame = None, None
    if group == ECEF_VELOCITY:
        vel, frame = np.stack([_numbers(data, c, name) for c in group], axis=1).reshape(n, 3), "ecef"
    elif group == ENU_VELOCITY:
        v_enu = np.stack([_numbers(data, c, name) for c in group], axis=1).reshape(n, 3)
        if all(c in data.cells for c in ENU_POSITION) and n and what == "target":
            enu = np.stack([_numbers(data, c, name) for c in ENU_POSITION], axis=1)
            R, miss = _fixed_enu_rotation(pos, enu, lat, lon)
            worst = int(np.argmax(miss))
            if miss[worst] > FIXED_FRAME_TOLERANCE_M:
                raise InputError(Problem(
                    name, int(data.line[worst]), "east_m",
                    f"east_m, north_m, up_m are {miss[worst]:.0f} m from lat_deg, lon_deg, alt_m in the best fixed ENU "
                    "frame, so the frame of v_east_mps, v_north_mps, v_up_mps is unknown (drop the east_m, north_m, "
                    "up_m columns to read the velocities in the local ENU frame of each row)"))
            vel, frame = v_enu @ R, "fixed-enu"
        else:
            vel, frame = enu_velocity_to_ecef(v_enu, lat0_deg=lat, lon0_deg=lon).reshape(n, 3), "local-enu"
    return TimedPoints(t, ids, pos, vel, frame, data.line)


def read_truth(path: Path) -> TimedPoints:
    """The rows of TRUTH.csv (see the module docstring); errors name file, line, field."""
    return _read(Path(path), option="--truth", id_column="target_id", required=TRUTH_COLUMNS, what="target",
                 allow_empty=False)


def read_tracks(path: Path) -> TimedPoints:
    """The rows of TRACKS.csv (see the module docstring); an empty file has no tracks."""
    return _read(Path(path), option="--tracks", id_column="track_id", required=TRACKS_COLUMNS, what="track",
                 allow_empty=True)
