"""Fixtures shared by the report tests: a run directory (anatolia at a 5 s truth step,
made once per session through the CLI, with its report) and a small Monte Carlo results
file in the DuckDB schema version 1 of ``hoplon mc``."""

from __future__ import annotations

import duckdb
import numpy as np

def make_results(path, n=200, seed=1, version="1"):
    """A results file of ``n`` replications of 3 notional threats (numbers drawn, not simulated)."""
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta(key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("schema_version", version), ("scenario", "mc-test"),
        ("scenario_sha256", "0"*64), ("seed", str(seed)), ("n", str(n)), ("hoplon_version", "0.1.0")])
    con.execute("CREATE TABLE replications(rep INTEGER PRIMARY KEY, chunk INTEGER, threats INTEGER, killed INTEGER, leaked INTEGER, flying INTEGER, no_leaker BOOLEAN, assets_hit INTEGER, interceptors_fired INTEGER, debris_clouds INTEGER, fragments_hazardous INTEGER)")
    con.execute("CREATE TABLE threat_outcomes(rep INTEGER, object_id VARCHAR, kind VARCHAR, type VARCHAR, fate VARCHAR, killed_time_s DOUBLE, killed_by VARCHAR, kill_lat_deg DOUBLE, kill_lon_deg DOUBLE, kill_alt_m DOUBLE, impact_time_s DOUBLE, impact_lat_deg DOUBLE, impact_lon_deg DOUBLE, asset_hit VARCHAR)")
    con.execute("CREATE TABLE asset_outcomes(rep INTEGER, asset VARCHAR, value DOUBLE, hits INTEGER, survived BOOLEAN)")
    con.execute("CREATE TABLE battery_fired(rep INTEGER, battery_id VARCHAR, interceptor_type VARCHAR, fired INTEGER)")
    con.execute("CREATE TABLE debris_landings(rep INTEGER, cloud_id VARCHAR, source VARCHAR, fragments INTEGER, hazardous INTEGER, median_lat_deg DOUBLE, median_lon_deg DOUBLE, footprint95_area_km2 DOUBLE, place VARCHAR, admin1 VARCHAR, country VARCHAR, population INTEGER, distance_m DOUBLE)")
    con.execute("CREATE TABLE debris_fragments(rep INTEGER, cloud_id VARCHAR, lat_deg DOUBLE, lon_deg DOUBLE, energy_j DOUBLE, hazardous BOOLEAN, represents DOUBLE)")
    con.execute("CREATE TABLE chunks(chunk INTEGER PRIMARY KEY, first_rep INTEGER, last_rep INTEGER, reps INTEGER)")
    con.execute("CREATE TABLE replication_cost(rep INTEGER PRIMARY KEY, wall_s DOUBLE)")
    reps, threats, assets, fired, frags = [], [], [], [], []
    for k in range(n):
        fates = rng.choice(["killed", "leaked"], size=3, p=[0.8, 0.2])
        leaked = int((fates == "leaked").sum())
        hit = 0
        for i, f in enumerate(fates):
            if f == "leaked":
                lat, lon = 37.0 + rng.normal(0, 0.05), 35.4 + rng.normal(0, 0.05)
                h = "Base" if rng.random() < 0.5 else None
                hit += h is not None
                threats.append((k, f"t{i}", "ballistic_missile", "x", f, None, None, None, None, None, 100.0, lat, lon, h))
            else:
                threats.append((k, f"t{i}", "ballistic_missile", "x", f, 50.0, "b#1", 36.9, 36.0, 20000.0, None, None, None, None))
                for j in range(5):
                    frags.append((k, f"t{i}", 36.8 + rng.normal(0, 0.1), 35.9 + rng.normal(0, 0.1), 1e3, bool(rng.random() < 0.9)))
        nf = int(rng.integers(3, 7))
        reps.append((k, k // 50, 3, 3 - leaked, leaked, 0, leaked == 0, min(hit, 1), nf, 3 - leaked, 5 * (3 - leaked)))
        assets.append((k, "Base", 100.0, hit, hit == 0)); assets.append((k, "City", 50.0, 0, True))
        fired.append((k, "b", "pac", nf))
    con.executemany("INSERT INTO replications VALUES (?,?,?,?,?,?,?,?,?,?,?)", reps)
    con.executemany("INSERT INTO threat_outcomes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", threats)
    con.executemany("INSERT INTO asset_outcomes VALUES (?,?,?,?,?)", assets)
    con.executemany("INSERT INTO battery_fired VALUES (?,?,?,?)", fired)
    con.executemany("INSERT INTO debris_fragments VALUES (?,?,?,?,?,?,?)", [(*f, 1.0) for f in frags])
    con.close()


_RUN: dict[str, object] = {}


def run_dir(tmp_path_factory):
    """The anatolia run directory (5 s truth step) with report.html, made once per session."""
    if "dir" not in _RUN:
        from cli_checks import invoke  # noqa: PLC0415

        out = tmp_path_factory.mktemp("report-run") / "anatolia"
        code, stdout, stderr, exc = invoke("run", "anatolia", "--truth-step", "5 s", "--out", str(out), "-q", "--report")
        assert code == 0, (stdout, stderr, exc)
        _RUN["dir"] = out
        _RUN["stdout"] = stdout
    return _RUN["dir"]


def chromium() -> str | None:
    """Debian's chromium (installed by .ci/run), or None."""
    import shutil  # noqa: PLC0415

    return shutil.which("chromium") or shutil.which("chromium-browser")


def render(html, screenshot, *, width: int = 1280, height: int = 2400):
    """Open ``html`` in headless Chromium with networking disabled: (DOM after the scripts
    ran, Chromium's log on stderr, the screenshot as an array)."""
    import subprocess  # noqa: PLC0415

    from matplotlib.image import imread  # noqa: PLC0415

    exe = chromium()
    offline = ["--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--window-size={width},{height}", "--enable-logging=stderr", "--v=0"]
    url = html.resolve().as_uri()
    dom = subprocess.run([exe, *offline, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    shot = subprocess.run([exe, *offline, f"--screenshot={screenshot}", url], capture_output=True, text=True, timeout=120)
    return dom.stdout, dom.stderr + shot.stderr, imread(str(screenshot))
