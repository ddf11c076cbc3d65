"""The Monte Carlo results store: one DuckDB file, written a chunk at a time.

Tables (schema version ``MC_SCHEMA_VERSION``; ``rep`` is the replication index k, whose
random streams come from ``SeedSequence(seed).spawn(n)[k]``):

* ``meta(key, value)``: schema_version, scenario, scenario_sha256, seed, n, hoplon_version;
* ``replications``: one row per replication with its outcome measures;
* ``threat_outcomes``: one row per threat per replication (fate, kill, impact, asset hit);
* ``asset_outcomes``: one row per defended asset per replication (hits, survived);
* ``battery_fired``: interceptors fired per battery per replication (zeros included);
* ``debris_landings``: one row per debris cloud per populated place inside or near its
  footprint (place NULL when none is);
* ``debris_fragments``: every landed sampled fragment (position, energy, above 15 J, and
  how many real fragments it stands for);
* ``chunks``: the committed chunks (first and last replication);
* ``replication_cost``: wall time per replication (the only column that is not
  reproducible; kept apart so that every other table is).

A chunk's rows and its ``chunks`` row are written in one transaction: after a crash (even
``kill -9``) a replication is either wholly in the store or not at all, and a resume runs
exactly the missing ones. DuckDB allows one writing process per file: the Monte Carlo
driver is that process, its workers return Arrow tables to it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from hoplon.errors import InputError, Problem

__all__ = ["MC_SCHEMA_VERSION", "MC_TABLES", "ResultsStore", "StoreMeta", "open_results"]

MC_SCHEMA_VERSION = 1

_I, _F, _S, _B = pa.int64(), pa.float64(), pa.string(), pa.bool_()

MC_TABLES: dict[str, pa.Schema] = {
    "replications": pa.schema([
        ("rep", _I), ("threats", _I), ("killed", _I), ("leaked", _I), ("flying", _I),
        ("no_leaker", _B), ("assets_hit", _I), ("interceptors_fired", _I), ("debris_clouds", _I),
        ("fragments_hazardous", _I),
    ]),
    "threat_outcomes": pa.schema([
        ("rep", _I), ("object_id", _S), ("kind", _S), ("type", _S), ("fate", _S), ("killed_time_s", _F),
        ("killed_by", _S), ("kill_lat_deg", _F), ("kill_lon_deg", _F), ("kill_alt_m", _F), ("impact_time_s", _F),
        ("impact_lat_deg", _F), ("impact_lon_deg", _F), ("asset_hit", _S),
    ]),
    "asset_outcomes": pa.schema([("rep", _I), ("asset", _S), ("value", _F), ("hits", _I), ("survived", _B)]),
    "battery_fired": pa.schema([("rep", _I), ("battery_id", _S), ("interceptor_type", _S), ("fired", _I)]),
    "debris_landings": pa.schema([
        ("rep", _I), ("cloud_id", _S), ("source", _S), ("fragments", _I), ("hazardous", _I), ("median_lat_deg", _F),
        ("median_lon_deg", _F), ("footprint95_area_km2", _F), ("place", _S), ("admin1", _S), ("country", _S),
        ("population", _I), ("distance_m", _F),
    ]),
    "debris_fragments": pa.schema([
        ("rep", _I), ("cloud_id", _S), ("lat_deg", _F), ("lon_deg", _F), ("energy_j", _F), ("hazardous", _B),
        ("represents", _F),
    ]),
    "replication_cost": pa.schema([("rep", _I), ("wall_s", _F)]),
}
_PRIMARY_KEYS = {"replications": "rep", "replication_cost": "rep"}
_SQL_TYPES = {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN"}
REPRODUCIBLE_TABLES = [t for t in MC_TABLES if t != "replication_cost"]


@dataclass(frozen=True)
class StoreMeta:
    """What a store holds: the scenario (name and content hash), the seed, the number of
    replications, and the Hoplon version that wrote it."""

    scenario: str
    scenario_sha256: str
    seed: int
    n: int
    hoplon_version: str
    events: bool = False  # event logs kept as Parquet partitions beside the store

    def as_rows(self) -> list[tuple[str, str]]:
        return [("schema_version", str(MC_SCHEMA_VERSION)), ("scenario", self.scenario),
                ("scenario_sha256", self.scenario_sha256), ("seed", str(self.seed)), ("n", str(self.n)),
                ("hoplon_version", self.hoplon_version), ("events", "1" if self.events else "0")]


def _duckdb():
    import duckdb  # noqa: PLC0415  (imported on use: `hoplon run` does not need it)

    return duckdb


def _connect(path: Path, *, read_only: bool):
    duckdb = _duckdb()
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        if "lock" in first.lower():
            first = "is in use by another process (a Monte Carlo run still writing it?)"
        raise InputError(Problem(str(path), None, "", f"cannot open as a DuckDB results file: {first}")) from None


def _read_meta(con, path: Path) -> dict[str, str]:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "meta" not in tables:
        raise InputError(Problem(str(path), None, "meta", "not a Hoplon Monte Carlo results file (no meta table)"))
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    version = meta.get("schema_version")
    if version != str(MC_SCHEMA_VERSION):
        raise InputError(Problem(str(path), None, "meta.schema_version",
                                 f"is {version!r}; this Hoplon reads version {MC_SCHEMA_VERSION}"))
    missing = [t for t in [*MC_TABLES, "chunks"] if t not in tables]
    if missing:
        raise InputError(Problem(str(path), None, missing[0], "table missing: the file is not a complete results store"))
    return meta


class ResultsStore:
    """A Monte Carlo results file open for writing (the driver's side)."""

    def __init__(self, path: Path, con, meta: StoreMeta) -> None:
        self.path, self.con, self.meta = path, con, meta
        # one DuckDB thread: a chunk's commit is small, and more threads only cost CPU
        # that the local workers need (-20 % of a commit's)
        con.execute("SET threads = 1")

    @classmethod
    def create_or_resume(cls, path: Path, meta: StoreMeta, *, resume: bool) -> ResultsStore:
        """Create ``path`` for ``meta``; with ``resume``, reopen an existing store that
        must hold the same scenario, seed and N. An existing file without ``resume`` is an
        error (nothing already written is overwritten)."""
        path = Path(path)
        if path.exists() and path.is_dir():
            raise InputError(Problem(str(path), None, "--out", "is a directory"))
        if path.exists() and not resume:
            raise InputError(Problem(str(path), None, "--out", "exists; use --resume to complete it, or another path"))
        if not path.exists() and resume:
            raise InputError(Problem(str(path), None, "--resume", "there is no results file to resume"))
        if not path.parent.exists():
            raise InputError(Problem(str(path), None, "--out", "its directory does not exist"))
        if path.exists():
            con = _connect(path, read_only=False)
            try:
                old = _read_meta(con, path)
                for key, value in meta.as_rows():
                    if key in ("scenario", "scenario_sha256", "seed", "n", "events") and old.get(key, "0") != value:
                        what = "the scenario's content" if key == "scenario_sha256" else key
                        raise InputError(Problem(str(path), None, f"meta.{key}",
                                                 f"the file was written for {what} {old.get(key)!r}, this run has "
                                                 f"{value!r}: --resume needs the same scenario, seed, -n and --events"))
            except BaseException:
                con.close()
                raise
            store = cls(path, con, meta)
            store._drop_uncommitted_events()
            return store
        con = _connect(path, read_only=False)
        con.begin()
        con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta.as_rows())
        for name, schema in MC_TABLES.items():
            cols = []
            for f in schema:
                col = f"{f.name} {_SQL_TYPES[f.type]}"
                if _PRIMARY_KEYS.get(name) == f.name:
                    col += " PRIMARY KEY"
                cols.append(col)
            con.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
        con.execute("CREATE TABLE chunks (chunk BIGINT PRIMARY KEY, first_rep BIGINT, last_rep BIGINT, reps BIGINT)")
        con.commit()
        return cls(path, con, meta)

    @property
    def events_dir(self) -> Path:
        """Where the event-log partitions go: ``<store>.events/``, one file per chunk."""
        return self.path.with_name(self.path.name + ".events")

    def _drop_uncommitted_events(self) -> None:
        """Remove event files of chunks that never committed (a crash between writing
        the file and committing the chunk): their replications will be played again."""
        if not self.events_dir.is_dir():
            return
        committed = {self._events_file(a, b) for a, b in self.con.execute("SELECT first_rep, last_rep FROM chunks").fetchall()}
        for f in self.events_dir.iterdir():
            if f not in committed:
                f.unlink()

    def _events_file(self, first: int, last: int) -> Path:
        """The event-log partition of the chunk of replications first..last."""
        return self.events_dir / f"chunk-{first:09d}-{last:09d}.parquet"

    def done_reps(self) -> set[int]:
        return {int(r[0]) for r in self.con.execute("SELECT rep FROM replications").fetchall()}

    def commit_chunk(self, reps: list[int], tables: dict[str, pa.Table]) -> None:
        """Write one chunk's tables and its ``chunks`` row atomically (its event log, if
        kept, is written first, under the chunk's name, and counts once the chunk commits)."""
        con = self.con
        if self.meta.events:
            self._write_events(min(reps), max(reps), tables["events"])
        con.begin()
        try:
            for name, schema in MC_TABLES.items():
                rows = tables[name].select(schema.names).cast(schema)  # noqa: F841 (read by the query)
                # DuckDB reads the local Arrow table by its name (a replacement scan):
                # a third less CPU than registering and unregistering it
                con.execute(f"INSERT INTO {name} SELECT * FROM rows")
            con.execute("INSERT INTO chunks VALUES (?, ?, ?, ?)", [min(reps), min(reps), max(reps), len(reps)])
            if self.meta.events:
                glob = str(self.events_dir.resolve() / "*.parquet").replace("'", "''")
                con.execute(f"CREATE OR REPLACE VIEW events AS SELECT * FROM read_parquet('{glob}')")
            con.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                con.rollback()
            raise

    def _write_events(self, first: int, last: int, table: pa.Table) -> None:
        import pyarrow.parquet as pq  # noqa: PLC0415

        self.events_dir.mkdir(exist_ok=True)
        target = self._events_file(first, last)
        tmp = target.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="zstd")
        tmp.replace(target)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.con.execute("CHECKPOINT")
        self.con.close()


def open_results(path: Path, *, option: str = "RESULTS"):
    """Open a results file read-only; returns (connection, meta dict). Raises InputError
    naming the file for a missing, foreign or incompatible file."""
    path = Path(path)
    if not path.exists():
        raise InputError(Problem(str(path), None, option, "no such file"))
    if path.is_dir():
        raise InputError(Problem(str(path), None, option, "is a directory, not a results file"))
    con = _connect(path, read_only=True)
    try:
        meta = _read_meta(con, path)
    except BaseException:
        con.close()
        raise
    return con, meta


def concat(parts: Iterable[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """Concatenate per-replication tables, table by table."""
    parts = list(parts)
    return {name: pa.concat_tables([p[name] for p in parts]) if parts else schema.empty_table()
            for name, schema in MC_TABLES.items()}
