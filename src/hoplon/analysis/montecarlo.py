"""Monte Carlo: many replications of a scenario, on Dask, into a DuckDB results store.

Replication ``k`` of a run with seed ``S`` and ``N`` replications plays the scenario with
the random streams of ``SeedSequence(S).spawn(N)[k]`` (which is
``SeedSequence(S, spawn_key=(k,))``): its result does not depend on the number of
workers, the chunking or the order in which replications finish.

The driver (the ``hoplon mc`` process) splits the missing replications into chunks of
consecutive indices, hands them to Dask workers — a ``LocalCluster`` of worker processes
on this machine, or an existing cluster given by its scheduler address — and commits
each chunk to the store in one transaction as it comes back (see
:mod:`hoplon.analysis.store`). A worker compiles the scenario once and reseeds the world
for each replication; it returns Arrow tables, never writes files.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from hoplon import __version__
from hoplon.analysis.store import MC_TABLES, ResultsStore, StoreMeta, concat
from hoplon.scenario.schema import Scenario
from hoplon.sim.engine import RunResult
from hoplon.sim.engine import run as run_world
from hoplon.sim.world import World, compile_scenario, reseed

__all__ = [
    "replication_seed", "scenario_sha256", "play", "replicate", "replication_tables", "run_chunk", "run_monte_carlo",
    "default_chunk", "McProgress", "MC_TRUTH_STEP_S",
]

MC_TRUTH_STEP_S = 60.0
"""Truth output step of a replication: no truth table is kept, and a step that is a whole
number of seconds leaves the internal 1 s sampling (hence every result) as in ``hoplon
run``."""


def replication_seed(seed: int, n: int, k: int) -> np.random.SeedSequence:
    """The seed of replication ``k`` of ``n``: ``SeedSequence(seed).spawn(n)[k]``."""
    if not 0 <= k < n:
        raise ValueError(f"replication {k} is not in 0..{n - 1}")
    return np.random.SeedSequence(int(seed), spawn_key=(int(k),))


def scenario_sha256(scenario: Scenario) -> str:
    """A hash of the scenario's content (its validated model), to tie a store to it."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


# ------------------------------------------------------------------ one replication


def play(world: World, *, events: bool = False) -> RunResult:
    """The engine as a replication runs it: a lean run (only the tables the store keeps:
    outcomes, interceptors, debris and, with ``events``, the event log), no launch-point
    estimates (no outcome measure uses them)."""
    return run_world(world, truth_step_s=MC_TRUTH_STEP_S, launch_points=False, lean=True, events=events)


def replicate(world: World, seed: int, n: int, k: int, *, events: bool = False) -> RunResult:
    """Play replication ``k`` of ``n`` of ``world``'s scenario with base seed ``seed``
    (with ``events``, its event log too)."""
    return play(reseed(world, replication_seed(seed, n, k)), events=events)


def _table(name: str, cols: dict) -> pa.Table:
    schema = MC_TABLES[name]
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}, schema=schema)


def replication_tables(result: RunResult, rep: int) -> dict[str, pa.Table]:
    """The store's rows for one replication (every table but ``replication_cost``)."""
    world = result.world
    out = result.outcomes.to_pydict()
    n = len(out["object_id"])
    fate = out["fate"]
    killed = sum(f == "killed" for f in fate)
    leaked = sum(f == "leaked" for f in fate)
    hits = [a for a in out["asset_hit"] if a]
    threat = {name: out[name] for name in ("object_id", "kind", "type", "fate", "killed_time_s", "killed_by",
                                          "kill_lat_deg", "kill_lon_deg", "kill_alt_m", "impact_time_s",
                                          "impact_lat_deg", "impact_lon_deg", "asset_hit")}
    threat["rep"] = [rep] * n
    assets = world.assets
    asset_hits = [sum(h == name for h in hits) for name in assets.name]
    asset = {"rep": [rep] * len(assets), "asset": [str(x) for x in assets.name], "value": assets.value.tolist(),
             "hits": asset_hits, "survived": [h == 0 for h in asset_hits]}
    icpt = result.interceptors.to_pydict() if result.interceptors is not None else {"battery_id": []}
    bat = {"rep": [], "battery_id": [], "interceptor_type": [], "fired": []}
    for b in world.scenario.batteries:
        bat["rep"].append(rep)
        bat["battery_id"].append(b.id)
        bat["interceptor_type"].append(b.type)
        bat["fired"].append(sum(x == b.id for x in icpt["battery_id"]))
    land = {f.name: [] for f in MC_TABLES["debris_landings"]}
    clouds = result.debris_clouds or []
    for c in clouds:  # one row per place (or one with no place), the cloud's columns repeated
        places = c["places"] or [None]
        land["rep"] += [rep] * len(places)
        for key in ("cloud_id", "source", "fragments", "hazardous", "median_lat_deg", "median_lon_deg",
                    "footprint95_area_km2"):
            land[key] += [c[key]] * len(places)
        for key, field in (("place", "name"), ("admin1", "admin1"), ("country", "country"),
                           ("population", "population"), ("distance_m", "distance_m")):
            land[key] += [p[field] if p else None for p in places]
    frag = {f.name: [] for f in MC_TABLES["debris_fragments"]}
    if result.debris is not None and result.debris.num_rows:
        d = result.debris.filter(result.debris.column("landed"))
        frag = {name: d.column(name).to_pylist()
                for name in ("cloud_id", "lat_deg", "lon_deg", "energy_j", "hazardous", "represents")}
        frag["rep"] = [rep] * d.num_rows
    kill_clouds = [c for c in clouds if c["source"] == "kill"]
    summary = {
        "rep": [rep], "threats": [n], "killed": [killed], "leaked": [leaked],
        "flying": [n - killed - leaked], "no_leaker": [leaked == 0], "assets_hit": [sum(h > 0 for h in asset_hits)],
        "interceptors_fired": [sum(bat["fired"])], "debris_clouds": [len(kill_clouds)],
        "fragments_hazardous": [sum(c["hazardous"] for c in kill_clouds)],
    }
    return {
        "replications": _table("replications", summary),
        "threat_outcomes": _table("threat_outcomes", threat),
        "asset_outcomes": _table("asset_outcomes", asset),
        "battery_fired": _table("battery_fired", bat),
        "debris_landings": _table("debris_landings", land),
        "debris_fragments": _table("debris_fragments", frag),
    }


# ------------------------------------------------------------------ a chunk (on a worker)

_WORLDS: dict[str, World] = {}  # per worker process: the compiled scenario, by content hash


def _world_for(scenario: Scenario, sha: str) -> World:
    world = _WORLDS.get(sha)
    if world is None:
        _WORLDS.clear()
        world = _WORLDS[sha] = compile_scenario(scenario)
    return world


def run_chunk(scenario: Scenario, sha: str, seed: int, n: int, reps: list[int],
              events: bool = False) -> dict[str, pa.Table]:
    """Play replications ``reps`` (a worker's task); returns the store's tables for them
    (and, with ``events``, their event logs as ``"events"``, with a ``rep`` column)."""
    world = _world_for(scenario, sha)
    parts = []
    for k in reps:
        t0 = time.perf_counter()
        result = replicate(world, seed, n, k, events=events)
        part = replication_tables(result, k)
        part["replication_cost"] = _table("replication_cost", {"rep": [k], "wall_s": [time.perf_counter() - t0]})
        if events:
            ev = result.events
            part["events"] = ev.add_column(0, "rep", pa.array(np.full(ev.num_rows, k, dtype=np.int64)))
        parts.append(part)
    out = concat(parts)
    if events:
        out["events"] = pa.concat_tables([p["events"] for p in parts])
    return out


# ------------------------------------------------------------------ the driver


def default_chunk(missing: int, workers: int) -> int:
    """Replications per chunk: about eight chunks per worker (frequent commits, balanced
    load), between 1 and 100."""
    return max(1, min(100, math.ceil(missing / (8 * max(1, workers)))))


def _chunks(missing: list[int], size: int) -> list[list[int]]:
    """Runs of consecutive replication indices, at most ``size`` long."""
    out: list[list[int]] = []
    for k in sorted(missing):
        if out and len(out[-1]) < size and out[-1][-1] == k - 1:
            out[-1].append(k)
        else:
            out.append([k])
    return out


# The local cluster's settings, in the configuration its nannies spawn workers with.
_LOCAL_CLUSTER_CONFIG = {
    # one thread per worker process, numba's kernels included: set in the environment the
    # workers are spawned with (not in this process's, where numba refuses a change once
    # its threads run)
    "distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS": "1",
    "distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS": "1",
    # glibc's own malloc thresholds, not the nanny's fixed 64 KiB trim threshold (fixing
    # it fixes the mmap threshold too, so that every array over 128 KiB is mapped and
    # unmapped afresh: ~3 % of a replication)
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # no dashboard diagnostics (the cluster has no dashboard): the statistical profiler
    # walked the running task's stack every 10 ms, and with the 20 ms event-loop tick and
    # the 0.1 s memory and 0.5 s system monitors took ~8 % of a worker's CPU, the GIL
    # included, from the replications
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextlib.contextmanager
def _environ_kept():
    """Restore this process's environment afterwards (a nanny sets its pre-spawn
    variables here before it spawns its worker)."""
    old = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(old):
            del os.environ[key]
        os.environ.update(old)


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while processes are started (an ignored signal stays ignored in a
    child, and Python then installs no KeyboardInterrupt handler there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _interruptible():
    """Turn the first Ctrl-C (SIGINT) or SIGTERM into a flag the driver polls, so it stops
    between commits (a second Ctrl-C interrupts at once). Outside the main thread no
    handler can be set and the flag is never raised."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


@dataclass
class McProgress:
    """What the driver reports after each committed chunk."""

    done: int  # replications in the store
    total: int
    chunk: list[int]  # the replications just committed
    started_with: int  # replications already in the store when this run began


def run_monte_carlo(
    scenario: Scenario,
    *,
    n: int,
    seed: int,
    out: Path,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    chunk: int | None = None,
    events: bool = False,
    on_start: Callable[[int, int], None] | None = None,
    on_chunk: Callable[[McProgress], None] | None = None,
) -> int:
    """Run the missing replications of ``scenario`` into the store ``out``; returns the
    number of replications in the store. With ``events``, every replication's event log
    is also kept, as Parquet files beside the store (``<out>.events/``) that its view
    ``events`` reads. Raises KeyboardInterrupt after cancelling the outstanding work
    (committed chunks stay)."""
    import dask  # noqa: PLC0415
    from dask.distributed import Client, LocalCluster, wait  # noqa: PLC0415
    from dask.distributed import TimeoutError as DaskTimeout  # noqa: PLC0415

    sha = scenario_sha256(scenario)
    meta = StoreMeta(scenario.name, sha, int(seed), int(n), __version__, events=events)
    store = ResultsStore.create_or_resume(Path(out), meta, resume=resume)
    cluster = client = None
    try:
        done = store.done_reps()
        missing = [k for k in range(n) if k not in done]
        if on_start is not None:
            on_start(len(done), n)
        if not missing:
            return len(done)
        if scheduler is None:
            # SIGINT ignored in the workers, a Ctrl-C is the driver's to handle
            with _sigint_ignored(), dask.config.set(_LOCAL_CLUSTER_CONFIG), _environ_kept():
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=50)
            client = Client(cluster)
            n_workers = workers
        else:
            client = Client(scheduler, timeout="20s")
            n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        size = chunk if chunk is not None else default_chunk(len(missing), n_workers)
        scenario_ref = client.scatter(scenario, broadcast=True)
        futures = [client.submit(run_chunk, scenario_ref, sha, int(seed), int(n), reps, events, pure=False,
                                 key=f"hoplon-mc-{sha[:12]}-{reps[0]}-{reps[-1]}")
                   for reps in _chunks(missing, size)]
        order = {f.key: i for i, f in enumerate(futures)}
        count = len(done)
        with _interruptible() as stop:
            try:
                pending = set(futures)
                while pending:
                    if stop.is_set():
                        raise KeyboardInterrupt
                    try:
                        finished, pending = wait(pending, timeout=0.25, return_when="FIRST_COMPLETED")
                    except (TimeoutError, DaskTimeout):
                        continue
                    for fut in sorted(finished, key=lambda f: order[f.key]):
                        try:
                            tables = fut.result()
                        except Exception:
                            if stop.is_set():  # a Ctrl-C in a terminal reaches the local workers too
                                raise KeyboardInterrupt from None
                            raise
                        reps = tables["replications"].column("rep").to_pylist()
                        store.commit_chunk(reps, tables)
                        count += len(reps)
                        fut.release()
                        if on_chunk is not None:
                            on_chunk(McProgress(count, n, reps, len(done)))
            except BaseException:
                client.cancel(futures)
                raise
        return count
    finally:
        store.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
