"""Read a run directory (``hoplon run --out DIR``) for reports and exports.

A run directory holds ``summary.json`` and the run's Parquet tables, and (since issue 8)
``scenario.json``, the scenario's layout (:mod:`hoplon.report.layout`). Everything a
report needs is checked here, once: a missing directory or file, a file that is not
JSON or Parquet, a table without a column the report uses, or a summary of another
version raises :class:`~hoplon.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hoplon.errors import HoplonError, InputError, Problem

__all__ = ["RunData", "load_run", "TABLE_COLUMNS", "column", "ground_tracks"]

SUMMARY_VERSION = 1

# the columns each table must have for reports and exports (others are ignored)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "truth": ("time_s", "object_id", "kind", "lat_deg", "lon_deg", "alt_m"),
    "events": ("time_s", "kind", "object_id", "lat_deg", "lon_deg", "alt_m", "detail"),
    "outcomes": ("object_id", "kind", "type", "launch_time_s", "impact_time_s", "impact_lat_deg", "impact_lon_deg",
                 "asset_hit", "fate", "killed_time_s", "killed_by", "kill_lat_deg", "kill_lon_deg", "kill_alt_m"),
    "engagements": ("engagement_id", "object_id", "battery_id", "interceptor_type", "rounds", "launch_time_s", "intercept_time_s",
                    "committed"),
    "interceptors": ("interceptor_id", "engagement_id", "battery_id", "interceptor_type", "launch_time_s", "intercept_time_s",
                     "target_object_id", "result", "miss_distance_m", "end_lat_deg", "end_lon_deg", "end_alt_m"),
    "debris": ("cloud_id", "source", "lat_deg", "lon_deg", "energy_j", "hazardous", "landed"),
}
REQUIRED_TABLES = ("truth", "events", "outcomes")


@dataclass(frozen=True)
class RunData:
    """One run: its summary, its tables (pyarrow) and its scenario layout (or None)."""

    path: Path
    summary: dict
    tables: dict[str, pa.Table]
    layout: dict | None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.summary.get("scenario", {}).get("name", self.path.name))

    @property
    def epoch_utc(self) -> str:
        return str(self.summary["scenario"]["epoch_utc"])

    def table(self, name: str) -> pa.Table:
        """The table ``name``; an empty one with the expected columns if the run lacks it."""
        t = self.tables.get(name)
        if t is None:
            return pa.table({c: pa.array([], type=pa.float64()) for c in TABLE_COLUMNS[name]})
        return t


def column(table: pa.Table, name: str) -> np.ndarray:
    """A column as numpy (strings as object arrays, nulls as NaN/None)."""
    col = table.column(name)
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        return col.to_numpy(zero_copy_only=False).astype(float) if col.null_count else col.to_numpy(zero_copy_only=False)
    return np.array(col.to_pylist(), dtype=object)


def _read_json(path: Path, what: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(Problem(str(path), None, "", f"cannot read {what}: {exc.strerror}")) from None
    except UnicodeDecodeError:
        raise InputError(Problem(str(path), None, "", f"{what} is not UTF-8 text")) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(Problem(str(path), exc.lineno, "", f"{what} is not valid JSON: {exc.msg}")) from None
    if not isinstance(doc, dict):
        raise InputError(Problem(str(path), None, "", f"{what} must be a JSON object"))
    return doc


def _read_table(path: Path, name: str) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(Problem(str(path), None, "", f"not a readable Parquet file: {msg}")) from None
    problems = [
        Problem(str(path), None, col, f"missing column (the {name} table needs {', '.join(TABLE_COLUMNS[name])})")
        for col in TABLE_COLUMNS[name] if col not in table.column_names
    ]
    if problems:
        raise InputError(problems)
    return table


def _check_summary(path: Path, summary: dict) -> None:
    version = summary.get("summary_version")
    if version != SUMMARY_VERSION:
        raise InputError(Problem(str(path), None, "summary_version",
                                 f"expected {SUMMARY_VERSION}, got {version!r} (a run of another Hoplon version?)"))
    scenario = summary.get("scenario")
    if not isinstance(scenario, dict):
        raise InputError(Problem(str(path), None, "scenario", "missing or not an object"))
    for key in ("name", "epoch_utc"):
        if not isinstance(scenario.get(key), str):
            raise InputError(Problem(str(path), None, f"scenario.{key}", "missing or not a string"))


def _layout_from_scenario(name: str, notes: list[str]) -> dict | None:
    """Older run directories have no scenario.json: rebuild it from a built-in scenario."""
    from hoplon.report.layout import scenario_layout  # noqa: PLC0415
    from hoplon.scenario.builtins import builtin_names, resolve_scenario  # noqa: PLC0415

    if name not in builtin_names():
        notes.append(f"no scenario.json and {name!r} is not a built-in scenario: sensors, batteries and assets "
                     "are not shown")
        return None
    try:
        layout = scenario_layout(resolve_scenario(name))
    except HoplonError:  # pragma: no cover - built-ins are valid
        return None
    notes.append(f"no scenario.json: sensors, batteries and assets from the built-in scenario {name!r}")
    return layout


def load_run(path: Path | str) -> RunData:
    """Read and check the run directory ``path``."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), None, "RUN_DIR", "no such directory"))
    if not path.is_dir():
        raise InputError(Problem(str(path), None, "RUN_DIR", "is not a directory"))
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise InputError(Problem(str(path), None, "RUN_DIR",
                                 "not a Hoplon run directory (no summary.json; make one with `hoplon run --out DIR`)"))
    summary = _read_json(summary_path, "the run summary")
    _check_summary(summary_path, summary)
    tables: dict[str, pa.Table] = {}
    for name in TABLE_COLUMNS:
        file = path / f"{name}.parquet"
        if not file.is_file():
            if name in REQUIRED_TABLES:
                raise InputError(Problem(str(file), None, "", "missing: a run directory has this table"))
            continue
        tables[name] = _read_table(file, name)
    notes: list[str] = []
    layout_path = path / "scenario.json"
    if layout_path.is_file():
        layout = _read_json(layout_path, "the scenario layout")
        if layout.get("layout_version") != 1:
            raise InputError(Problem(str(layout_path), None, "layout_version",
                                     f"expected 1, got {layout.get('layout_version')!r}"))
        for key in ("assets", "sensors", "batteries"):
            if not isinstance(layout.get(key), list):
                raise InputError(Problem(str(layout_path), None, key, "missing or not a list"))
    else:
        layout = _layout_from_scenario(summary["scenario"]["name"], notes)
    return RunData(path=path, summary=summary, tables=tables, layout=layout, notes=notes)


def ground_tracks(run: RunData, max_points: int = 400) -> dict[str, dict]:
    """Per object of the truth table (in order of first appearance): kind and its samples
    ``t, lat, lon, alt`` thinned to at most ``max_points`` (first and last kept)."""
    truth = run.table("truth")
    if truth.num_rows == 0:
        return {}
    ids = column(truth, "object_id")
    kinds = column(truth, "kind")
    t = column(truth, "time_s").astype(float)
    lat = column(truth, "lat_deg").astype(float)
    lon = column(truth, "lon_deg").astype(float)
    alt = column(truth, "alt_m").astype(float)
    order: list[str] = []
    rows: dict[str, list[int]] = {}
    for i, oid in enumerate(ids):
        if oid not in rows:
            rows[oid] = []
            order.append(oid)
        rows[oid].append(i)
    out = {}
    for oid in order:
        idx = np.array(rows[oid])
        idx = idx[np.argsort(t[idx], kind="stable")]
        if idx.size > max_points:
            keep = np.unique(np.round(np.linspace(0, idx.size - 1, max_points)).astype(int))
            idx = idx[keep]
        out[str(oid)] = {"kind": str(kinds[idx[0]]), "t": t[idx], "lat": lat[idx], "lon": lon[idx], "alt": alt[idx]}
    return out
