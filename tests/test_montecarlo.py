"""Monte Carlo: seeds, reproducibility across workers and clusters, crash safety, statistics.

The runs use tests/data/scenarios/mc-small.yaml (two MRBMs against two batteries, about
a second per replication). Statistics are checked against scipy and against Newcombe's
published worked examples; the Dask cluster is a real ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from hoplon.analysis.montecarlo import replicate, replication_seed, run_monte_carlo, scenario_sha256
from hoplon.analysis.statistics import (
    mc_compare,
    mc_report,
    newcombe_difference,
    t_interval,
    welch_difference,
    wilson_interval,
)
from hoplon.analysis.store import MC_SCHEMA_VERSION, REPRODUCIBLE_TABLES
from hoplon.scenario.builtins import resolve_scenario
from hoplon.sim.engine import run
from hoplon.sim.world import compile_scenario, reseed

SCENARIO = Path(__file__).parent / "data" / "scenarios" / "mc-small.yaml"
N, SEED = 4, 11
HOPLON = [str(Path(sys.executable).with_name("hoplon"))]  # the console script of this environment
ORDER = {
    "replications": "rep",
    "threat_outcomes": "rep, object_id",
    "asset_outcomes": "rep, asset",
    "battery_fired": "rep, battery_id",
    "debris_landings": "rep, cloud_id, place NULLS FIRST",
    "debris_fragments": "rep, cloud_id, lat_deg, lon_deg",
}


def contents(path: Path) -> dict:
    """Every reproducible table of a store, in a canonical order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY {ORDER[t]}").fetchall() for t in REPRODUCIBLE_TABLES}
    finally:
        con.close()


@pytest.fixture(scope="module")
def scenario():
    return resolve_scenario(str(SCENARIO))


@pytest.fixture(scope="module")
def reference_store(scenario, tmp_path_factory):
    """N replications on a local cluster of one worker, one chunk per replication."""
    path = tmp_path_factory.mktemp("mc") / "reference.duckdb"
    assert run_monte_carlo(scenario, n=N, seed=SEED, out=path, workers=1, chunk=1) == N
    return path


# ------------------------------------------------------------------ seeds


def test_replication_seed_is_the_spawned_child():
    for k in (0, 3, 9):
        a, b = replication_seed(1234, 10, k), np.random.SeedSequence(1234).spawn(10)[k]
        assert a.entropy == b.entropy and tuple(a.spawn_key) == tuple(b.spawn_key)
        assert np.array_equal(a.generate_state(8), b.generate_state(8))
    with pytest.raises(ValueError):
        replication_seed(1, 10, 10)


def test_reseed_equals_compiling_with_the_seed(scenario):
    world = compile_scenario(scenario)
    seq = np.random.SeedSequence(7).spawn(5)[3]
    a, b = reseed(world, seq).ballistic, compile_scenario(scenario, seed=seq).ballistic
    assert np.array_equal(a.true_aim_lat_deg, b.true_aim_lat_deg)
    assert np.array_equal(a.true_aim_lon_deg, b.true_aim_lon_deg)
    assert not np.array_equal(a.true_aim_lat_deg, world.ballistic.true_aim_lat_deg)


def test_a_replication_is_the_run_with_its_seed(scenario):
    world = compile_scenario(scenario)
    k = 2
    mc = replicate(world, SEED, N, k, events=True)
    seeded = compile_scenario(scenario, seed=np.random.SeedSequence(SEED).spawn(N)[k])
    single = run(seeded)
    for name in ("outcomes", "interceptors", "debris"):
        a, b = getattr(mc, name), getattr(single, name)
        assert a.schema == b.schema and repr(a.to_pydict()) == repr(b.to_pydict()), name  # NaN-aware
    assert mc.debris_clouds == single.debris_clouds
    # a replication builds only the tables the store keeps (the event log when asked)
    assert all(getattr(mc, name) is None for name in ("truth", "detections", "threat_evaluations", "engagements"))
    assert replicate(world, SEED, N, k).events is None
    # Monte Carlo skips only the launch-point estimates (in the classified events' details)
    lean = run(seeded, launch_points=False)
    assert repr(mc.events.to_pydict()) == repr(lean.events.to_pydict())
    assert mc.events.column("kind").to_pylist() == single.events.column("kind").to_pylist()
    details = [d for d, kind in zip(single.events.column("detail").to_pylist(), single.events.column("kind").to_pylist())
               if kind == "classified"]
    assert any("launched from about" in d for d in details)


# ------------------------------------------------------------------ runs and the store


def test_results_do_not_depend_on_workers_or_chunking(scenario, reference_store, tmp_path):
    path = tmp_path / "two.duckdb"
    before = dict(os.environ)
    assert run_monte_carlo(scenario, n=N, seed=SEED, out=path, workers=2, chunk=3) == N
    # the workers run one thread each; this process's environment is left as it was,
    # the nannies' pre-spawn variables included (numba refuses a thread-count change once
    # its threads run)
    assert dict(os.environ) == before
    ref = contents(reference_store)
    assert contents(path) == ref
    assert len(ref["replications"]) == N
    # another seed changes the random outcomes
    other = tmp_path / "other.duckdb"
    run_monte_carlo(scenario, n=2, seed=SEED + 1, out=other, workers=1)
    assert contents(other)["threat_outcomes"] != ref["threat_outcomes"][: len(contents(other)["threat_outcomes"])]


def test_event_logs_are_parquet_partitions_the_store_can_query(scenario, tmp_path):
    path = tmp_path / "events.duckdb"
    run_monte_carlo(scenario, n=2, seed=SEED, out=path, workers=1, chunk=1, events=True)
    files = sorted(p.name for p in (tmp_path / "events.duckdb.events").iterdir())
    assert files == ["chunk-000000000-000000000.parquet", "chunk-000000001-000000001.parquet"]
    con = duckdb.connect(str(path), read_only=True)
    per_rep = con.execute("SELECT rep, count(*) FROM events GROUP BY rep ORDER BY rep").fetchall()
    launches = con.execute("SELECT count(*) FROM events WHERE kind = 'launch'").fetchone()[0]
    con.close()
    world = compile_scenario(scenario)
    expected = [(k, replicate(world, SEED, 2, k, events=True).events.num_rows) for k in range(2)]
    assert per_rep == expected
    assert launches == 2 * len(world.ballistic.object_id)
    # a partition whose chunk never committed (a crash between the two) goes on resume
    stray = tmp_path / "events.duckdb.events" / "chunk-000000007-000000007.parquet"
    stray.write_bytes(b"partial")
    run_monte_carlo(scenario, n=2, seed=SEED, out=path, workers=1, events=True, resume=True)
    assert sorted(p.name for p in (tmp_path / "events.duckdb.events").iterdir()) == files


def test_store_has_its_schema_version_and_meta(reference_store, scenario):
    con = duckdb.connect(str(reference_store), read_only=True)
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    chunks = con.execute("SELECT first_rep, last_rep, reps FROM chunks ORDER BY chunk").fetchall()
    con.close()
    assert meta["schema_version"] == str(MC_SCHEMA_VERSION)
    assert meta["scenario"] == "mc-small" and meta["seed"] == str(SEED) and meta["n"] == str(N)
    assert meta["scenario_sha256"] == scenario_sha256(scenario)
    assert chunks == [(k, k, 1) for k in range(N)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster(tmp_path):
    """A real scheduler and two single-threaded workers on 127.0.0.1; stopped afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1",
                                           "--nthreads", "1", "--no-dashboard", "--name", f"w{i}",
                                           "--local-directory", str(tmp_path / f"w{i}")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        from dask.distributed import Client  # noqa: PLC0415

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_scheduler_run_equals_local_run(dask_cluster, reference_store, tmp_path):
    path = tmp_path / "cluster.duckdb"
    proc = subprocess.run([*HOPLON, "mc", str(SCENARIO), "-n", str(N), "--seed", str(SEED), "--scheduler",
                           dask_cluster, "--out", str(path), "--chunk", "1", "--quiet"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert contents(path) == contents(reference_store)


def test_kill_9_then_resume_gives_exactly_n(reference_store, tmp_path):
    """kill -9 the whole run (driver and its worker processes) after two committed
    chunks; --resume completes it: N replications, no duplicates, the same results."""
    path = tmp_path / "killed.duckdb"
    cmd = [*HOPLON, "mc", str(SCENARIO), "-n", str(N), "--seed", str(SEED), "--workers", "1", "--chunk", "1",
           "--out", str(path), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    committed = 0
    try:
        deadline = time.monotonic() + 300
        while committed < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed += line.startswith("committed")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert committed == 2
    assert proc.returncode == -signal.SIGKILL
    partial = contents(path)["replications"]
    assert 2 <= len(partial) < N  # the third may have landed before the kill
    again = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{len(partial)} of {N} replications already stored" in again.stderr
    done = contents(path)
    assert [r[0] for r in done["replications"]] == list(range(N))
    assert done == contents(reference_store)
    assert mc_report(path)["p_no_leaker"] == mc_report(reference_store)["p_no_leaker"]


def test_ctrl_c_stops_cleanly_and_keeps_the_finished_chunks(tmp_path):
    """SIGINT to the run's process group (what a terminal's Ctrl-C does): exit 130, a
    message, no traceback; the chunks committed before it are kept."""
    path = tmp_path / "interrupted.duckdb"
    cmd = [*HOPLON, "mc", str(SCENARIO), "-n", "20", "--seed", str(SEED), "--workers", "1", "--chunk", "1",
           "--out", str(path), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("committed"), first
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    stored = contents(path)["replications"]
    assert 1 <= len(stored) < 20
    assert [r[0] for r in stored] == list(range(len(stored)))


# ------------------------------------------------------------------ statistics


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_interval_matches_scipy(k, n):
    k = min(k, n)
    ref = sps.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(ref.low, abs=1e-12) and hi == pytest.approx(ref.high, abs=1e-12)
    assert lo <= k / n <= hi


def test_t_and_welch_intervals_match_scipy():
    rng = np.random.default_rng(3)
    x, y = rng.poisson(2.0, 40).astype(float), rng.poisson(3.0, 25).astype(float)
    m, lo, hi = t_interval(x)
    ref = sps.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert (m, lo, hi) == pytest.approx((x.mean(), ref.low, ref.high), rel=1e-12)
    d, lo, hi = welch_difference(x, y)
    ref = sps.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert (d, lo, hi) == pytest.approx((x.mean() - y.mean(), ref.low, ref.high), rel=1e-12)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "low", "high"), [
    (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe (1998), Stat. Med. 17:873, Table II, example (a), method 10
    (9, 10, 3, 10, 0.1705, 0.8090),  # ibid., example (b)
])
def test_newcombe_difference_matches_the_published_examples(k1, n1, k2, n2, low, high):
    d, lo, hi = newcombe_difference(k1, n1, k2, n2)
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (lo, hi) == pytest.approx((low, high), abs=1e-4)


def test_report_agrees_with_the_store(reference_store):
    rep = mc_report(reference_store)
    con = duckdb.connect(str(reference_store), read_only=True)
    k = con.execute("SELECT count(*) FILTER (WHERE no_leaker) FROM replications").fetchone()[0]
    fired = dict(con.execute("SELECT battery_id, avg(fired) FROM battery_fired GROUP BY battery_id").fetchall())
    con.close()
    assert rep["replications"] == N and rep["complete"]
    assert rep["p_no_leaker"]["count"] == k
    assert (rep["p_no_leaker"]["low"], rep["p_no_leaker"]["high"]) == pytest.approx(wilson_interval(k, N), abs=1e-4)
    assert {b["battery_id"]: b["mean"] for b in rep["interceptors_per_battery"]} == pytest.approx(fired, abs=1e-4)
    assert rep["convergence"][-1]["n"] == N
    cmp = mc_compare(reference_store, reference_store)
    assert all(m["difference"] == 0 and not m["significant"] for m in cmp["measures"])


# ------------------------------------------------------------------ the commands and bad input


def _hoplon(*args, timeout=300):
    return subprocess.run([*HOPLON, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_report_and_compare_commands(reference_store):
    p = _hoplon("mc-report", reference_store)
    assert p.returncode == 0, p.stderr
    assert "P(no leaker)" in p.stdout and "incirlik-patriot" in p.stdout
    p = _hoplon("mc-report", reference_store, "--json")
    import json  # noqa: PLC0415

    assert json.loads(p.stdout)["replications"] == N
    p = _hoplon("mc-compare", reference_store, reference_store)
    assert p.returncode == 0 and "P(no leaker)" in p.stdout


def test_bad_inputs_exit_2_with_the_file_named(reference_store, tmp_path):
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n")
    for args, expect in [
        (("mc-report", tmp_path / "missing.duckdb"), "no such file"),
        (("mc-report", text), str(text)),
        (("mc", SCENARIO, "-n", "2", "--out", reference_store), "exists; use --resume"),
        (("mc", SCENARIO, "-n", "2", "--out", tmp_path / "new.duckdb", "--resume"), "no results file to resume"),
        (("mc", SCENARIO, "-n", str(N), "--seed", "99", "--out", reference_store, "--resume"), "meta.seed"),
        (("mc", SCENARIO, "-n", "2", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"), "--scheduler"),
    ]:
        before = reference_store.read_bytes()
        p = _hoplon(*args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert expect in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
        assert reference_store.read_bytes() == before  # nothing written is lost or changed
    assert text.read_text() == "not a database\n"
    old = tmp_path / "old.duckdb"
    con = duckdb.connect(str(old))
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    con.close()
    p = _hoplon("mc-report", old)
    assert p.returncode == 2 and "meta.schema_version" in p.stderr


def test_the_html_report_reads_a_real_store(reference_store, tmp_path):
    out = tmp_path / "mc.html"
    p = _hoplon("report", reference_store, "--out", out)
    assert p.returncode == 0, p.stderr
    html = out.read_text(encoding="utf-8")
    assert "mc-small" in html and len(html) > 10_000
