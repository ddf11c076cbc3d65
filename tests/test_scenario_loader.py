"""Scenario loading: a valid file gives SI values; each broken file gives located problems.

Every broken variant below is the minimal scenario with one edit. The test checks that
the error names the file as given, the line (found independently, by searching the
edited text for a marker), the field path in YAML names, and a helpful message.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hoplon.errors import ScenarioError
from hoplon.scenario import (
    Asset,
    AssetRef,
    AssetWaypoint,
    Catalog,
    GeoPoint,
    Scenario,
    ShapedProfile,
    Waypoint,
    format_path,
    load_catalog,
    load_packaged_catalog,
    load_scenario,
    load_yaml,
    parse_path,
    scenario_json_schema,
)

DATA = Path(__file__).parent / "data" / "scenarios"
MINIMAL = (DATA / "minimal.yaml").read_text(encoding="utf-8")
FILE = "broken.yaml"
DEGREE = math.pi / 180

# Words that would mean a traceback or a raw pydantic message leaked to the user.
LEAKS = ("Traceback", 'File "', "Input should", "pydantic", "For further information", "[type=")


def line_of(text: str, marker: str) -> int:
    """1-based number of the first line of ``text`` that contains ``marker``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in text")


def edit(old: str, new: str, text: str = MINIMAL) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def load_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | bytes,
                **kwargs: Any) -> ScenarioError:
    """Write ``content`` to broken.yaml, load it by its relative name, return the error."""
    monkeypatch.chdir(tmp_path)
    path = Path(FILE)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    message = str(info.value)
    for leak in LEAKS:
        assert leak not in message, message
    return info.value


# --- the valid scenario ---------------------------------------------------------------


@pytest.fixture(scope="module")
def minimal() -> Scenario:
    return load_scenario(DATA / "minimal.yaml")


def test_minimal_loads_with_si_values(minimal: Scenario) -> None:
    assert minimal.name == "minimal-test"
    assert minimal.epoch == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    assert minimal.seed == 20260304
    asset = minimal.assets[0]
    assert (asset.lat_deg, asset.lon_deg, asset.alt_m) == (37.00194, 35.42583, 70.0)
    assert asset.radius_m == 3000.0
    assert asset.value == 100.0

    bm = minimal.threats.ballistic[0]
    assert bm.id == "w1-bm"
    assert bm.launch_time_s == 4200.0  # 01:10 after the epoch
    assert bm.launch == GeoPoint(lat=36.0, lon=38.0, alt="0 m")
    assert bm.aim == AssetRef(asset="Incirlik Air Base")
    assert isinstance(bm.profile, ShapedProfile)
    assert bm.profile.kind == "lofted"
    assert bm.profile.shaping.apogee_m == 150_000.0
    assert bm.launches() == [("w1-bm-1", 4200.0), ("w1-bm-2", 4230.0), ("w1-bm-3", 4260.0)]

    drone = minimal.threats.drones[0]
    assert drone.id == "drones-0"  # the default id
    assert drone.launch_time_s == 3600.0
    first, second, last = drone.route
    assert isinstance(first, Waypoint) and first.alt_m is None and first.speed_m_s is None
    assert isinstance(second, Waypoint)
    assert second.speed_m_s == pytest.approx(185 / 3.6, rel=1e-12)
    assert isinstance(last, AssetWaypoint) and last.asset == "Incirlik Air Base"

    srbm = minimal.catalog.ballistic["test-srbm"]
    assert srbm.max_range_m == 300_000.0
    assert srbm.rv_beta_kg_m2 == 4000.0
    drone_type = minimal.catalog.drone["test-drone"]
    assert drone_type.max_turn_rate_rad_s == pytest.approx(3 * DEGREE, rel=1e-12)
    assert minimal.threat_type("drones", drone) is drone_type
    assert minimal.sensors == [] and minimal.batteries == []


def test_scenario_locates_fields_for_later_checks(minimal: Scenario) -> None:
    path = DATA / "minimal.yaml"
    aim_line = line_of(MINIMAL, "aim: {asset: Incirlik Air Base}")
    problem = minimal.problem(("threats", "ballistic", 0, "aim"), "out of range")
    assert problem.file == str(path)
    assert problem.line == aim_line
    assert problem.field == "threats.ballistic[0].aim"
    assert str(problem) == f"{path}:{aim_line}: threats.ballistic[0].aim: out of range"
    # Dotted paths work too, and a field filled by default points at its mapping.
    assert minimal.line_for("threats.ballistic[0].aim.asset") == aim_line
    assert minimal.line_for("threats.ballistic[0].launch.alt") == line_of(MINIMAL, "launch: {")
    assert minimal.line_for("threats.drones[0].id") == line_of(MINIMAL, "- type: test-drone")
    err = minimal.error("threats.drones[0].route[1].speed", "faster than the type can fly")
    assert isinstance(err, ScenarioError)
    assert err.problems[0].line == line_of(MINIMAL, "alt: 300 m, speed: 185 km/h")


def test_scenario_from_text_uses_the_given_name() -> None:
    scenario = load_scenario(MINIMAL, filename="builtin:minimal")
    assert scenario.filename == "builtin:minimal"
    assert scenario.problem("seed", "x").line == line_of(MINIMAL, "seed:")


def test_a_str_that_looks_like_a_path_is_refused() -> None:
    with pytest.raises(TypeError, match="pathlib.Path"):
        load_scenario("scenarios/minimal.yaml")


def test_dump_and_reload_gives_the_same_scenario(minimal: Scenario) -> None:
    import yaml

    data = minimal.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert data["assets"][0]["radius"] == "3 km"
    assert data["threats"]["ballistic"][0]["launch_time"] == "4200 s"
    again = load_scenario(yaml.safe_dump(data, sort_keys=False), filename="dumped.yaml")
    assert again == minimal


def test_models_can_be_built_in_python() -> None:
    by_alias = Asset(name="a", lat=1, lon=2, value=1, radius="3 km")
    by_name = Asset(name="a", lat_deg=1, lon_deg=2, value=1, radius_m="3 km")
    assert by_alias == by_name
    assert by_alias.radius_m == 3000.0 and by_alias.alt_m == 0.0


def test_packaged_types_are_usable() -> None:
    packaged = load_packaged_catalog()
    name = next(iter(packaged.ballistic))
    text = edit("type: test-srbm", f"type: {name}")
    scenario = load_scenario(text, filename="x.yaml")
    threat = scenario.threats.ballistic[0]
    assert scenario.threat_type("ballistic", threat) is packaged.ballistic[name]
    assert "test-srbm" in scenario.threat_catalog.ballistic


def test_packaged_catalog_is_valid_and_sourced() -> None:
    catalog = load_packaged_catalog()
    for section in ("ballistic", "drone", "cruise_missile"):
        types = catalog.section(section)
        assert types, section
        for name, spec in types.items():
            assert spec.sources, name


def test_catalog_errors_name_the_catalog_file() -> None:
    text = "ballistic:\n  bad:\n    label: x\n    launch_mass: 10 kg\n"
    with pytest.raises(ScenarioError) as info:
        load_catalog(text, filename="threats.yaml")
    assert str(info.value).startswith("threats.yaml:2: ballistic.bad: missing required field")


def test_catalog_merge() -> None:
    a = load_catalog("drone:\n  x:\n    label: x\n    cruise_speed: 1 m/s\n    cruise_alt: 0 m\n"
                     "    max_range: 1 km\n    max_turn_rate: 1 deg/s\n    climb_rate: 1 m/s\n"
                     "    sources: [s]\n", filename="a.yaml")
    merged = Catalog().merged_with(a)
    assert list(merged.drone) == ["x"]
    with pytest.raises(ValueError, match="defined twice"):
        merged.merged_with(a)


# --- broken variants ------------------------------------------------------------------


@dataclass(frozen=True)
class Broken:
    id: str
    text: str
    marker: str  # a text on the line the problem must be reported at
    field: str
    message: str  # a fragment the message must contain

    def __str__(self) -> str:
        return self.id


SPEED = "alt: 300 m, speed: 185 km/h"
EPOCH = "epoch: 2026-03-04T00:00:00Z"
DRONE = "    - type: test-drone"
LOFTED = "{lofted: {apogee: 150 km}}"
ROUTE_TAIL = (
    "        - {lat: 36.8, lon: 36.5, alt: 300 m, speed: 185 km/h}\n"
    "        - {asset: Incirlik Air Base, alt: 0 m}\n"
)
BROKEN = [
    Broken("yaml-syntax", edit("description: One airbase,", "description: Targets: one airbase,"),
           "description:", "", "unexpected ':'"),
    Broken("tab-indentation", edit("    value: 100", "\tvalue: 100"),
           "\tvalue", "", "tab character"),
    Broken("unknown-top-level-key", edit("earth: wgs84", "earht: wgs84"),
           "earht", "earht", "unknown field 'earht' (did you mean 'earth'?)"),
    Broken("unknown-nested-key", edit("radius: 3 km", "raduis: 3 km"),
           "raduis", "assets[0].raduis", "unknown field 'raduis' (did you mean 'radius'?)"),
    Broken("unknown-threat-key", edit("interval: 30 s", "intervall: 30 s"),
           "intervall", "threats.ballistic[0].salvo.intervall",
           "unknown field 'intervall' (did you mean 'interval'?)"),
    Broken("seed-is-text", edit("seed: 20260304", "seed: twenty"),
           "seed:", "seed", "expected a whole number, got the text 'twenty'"),
    Broken("seed-is-quoted", edit("seed: 20260304", "seed: '42'"),
           "seed:", "seed", "expected a whole number"),
    Broken("latitude-123", edit("lat: 37.00194", "lat: 123"),
           "lat: 123", "assets[0].lat", "latitude must be between -90 and 90 deg, got 123"),
    Broken("longitude-200", edit('lon: "35.42583 deg"', "lon: 200"),
           "lon: 200", "assets[0].lon", "longitude must be between -180 and 180 deg, got 200"),
    Broken("negative-waypoint-speed", edit(SPEED, "alt: 300 m, speed: -185 km/h"),
           "speed: -185", "threats.drones[0].route[1].speed",
           "must be greater than 0 m/s, got '-185 km/h'"),
    Broken("radius-zero", edit("radius: 3 km", "radius: 0 km"),
           "radius:", "assets[0].radius", "must be greater than 0 m, got '0 km'"),
    Broken("unknown-unit", edit(SPEED, "alt: 300 m, speed: 200 kmh"),
           "200 kmh", "threats.drones[0].route[1].speed",
           "unknown unit 'kmh' in '200 kmh' (did you mean 'km/h'?)"),
    Broken("wrong-dimension", edit("radius: 3 km", "radius: 3 s"),
           "radius:", "assets[0].radius", "expected a length, got '3 s' (a duration)"),
    Broken("bare-number-alt", edit("alt: 70 m", "alt: 70"),
           "alt: 70", "assets[0].alt", "a length needs a unit, e.g. '3 km'"),
    Broken("missing-epoch", edit("epoch: 2026-03-04T00:00:00Z\n", ""),
           "hoplon: 1", "", "missing required field 'epoch'"),
    Broken("epoch-without-timezone", edit(EPOCH, "epoch: 2026-03-04T00:00:00"),
           "epoch:", "epoch", "needs a timezone"),
    Broken("epoch-invalid-date", edit(EPOCH, "epoch: 2026-13-04T00:00:00Z"),
           "epoch:", "epoch", "month"),
    Broken("unknown-threat-type", edit("type: test-srbm", "type: test-srbn"),
           "type: test-srbn", "threats.ballistic[0].type",
           "unknown ballistic missile type 'test-srbn' (did you mean 'test-srbm'?)"),
    Broken("type-from-another-section", edit("type: test-srbm", "type: test-drone"),
           "type: test-drone", "threats.ballistic[0].type", "is a drone type"),
    Broken("unknown-aim-asset", edit("aim: {asset: Incirlik Air Base}", "aim: {asset: Incirlik}"),
           "aim:", "threats.ballistic[0].aim.asset",
           "unknown asset 'Incirlik' (did you mean 'Incirlik Air Base'?)"),
    Broken("unknown-waypoint-asset", edit("- {asset: Incirlik Air Base", "- {asset: Adana"),
           "asset: Adana", "threats.drones[0].route[2].asset", "unknown asset 'Adana'"),
    Broken("aim-asset-and-lat", edit("aim: {asset: Incirlik Air Base}",
                                     "aim: {asset: Incirlik Air Base, lat: 37}"),
           "aim:", "threats.ballistic[0].aim", "give either 'asset' or 'lat'/'lon', not both"),
    Broken("aim-is-text", edit("aim: {asset: Incirlik Air Base}", "aim: Incirlik Air Base"),
           "aim:", "threats.ballistic[0].aim", "expected {asset: NAME} or {lat: ..."),
    Broken("duplicate-asset-name",
           edit("threats:\n", "  - {name: Incirlik Air Base, lat: 1, lon: 2, value: 1, "
                "radius: 1 km}\nthreats:\n"),
           "- {name: Incirlik Air Base", "assets[1].name",
           "duplicate asset name 'Incirlik Air Base' (also assets[0] on line"),
    Broken("duplicate-threat-id", edit(DRONE, DRONE + "\n      id: w1-bm"),
           "      id: w1-bm", "threats.drones[0].id",
           "threat id 'w1-bm' is already the id of threats.ballistic[0] on line"),
    Broken("threat-id-clashes-with-salvo",
           edit(DRONE, DRONE + "\n      id: w1-bm-2"),
           "id: w1-bm-2", "threats.drones[0].id",
           "threat id 'w1-bm-2' is already a salvo id of threats.ballistic[0]"),
    Broken("duplicate-yaml-key", edit("seed: 20260304", "seed: 20260304\nseed: 3"),
           "seed: 3", "seed", "duplicate key 'seed' (first given on line"),
    Broken("salvo-count-zero", edit("count: 3", "count: 0"),
           "count: 0", "threats.ballistic[0].salvo.count", "must be at least 1, got 0"),
    Broken("flight-path-angle-95", edit("{lofted: {apogee: 150 km}}",
                                        "{lofted: {flight_path_angle: 95 deg}}"),
           "flight_path_angle", "threats.ballistic[0].profile.lofted.flight_path_angle",
           "must be greater than 0 deg and less than 90 deg, got '95 deg'"),
    Broken("profile-apogee-and-angle",
           edit(LOFTED, "{lofted: {apogee: 150 km, flight_path_angle: 9 deg}}"),
           "profile:", "threats.ballistic[0].profile.lofted",
           "give exactly one of 'apogee' or 'flight_path_angle'"),
    Broken("profile-as-a-word", edit("{lofted: {apogee: 150 km}}", "lofted"),
           "profile:", "threats.ballistic[0].profile", "expected 'minimum-energy', {lofted:"),
    Broken("profile-misspelt", edit("{lofted: {apogee: 150 km}}", "minimum_energy"),
           "profile:", "threats.ballistic[0].profile",
           "unknown value 'minimum_energy' (did you mean 'minimum-energy'?)"),
    Broken("unknown-sensor-type",
           edit("sensors: []", "sensors:\n  - {id: r1, type: fbx-xband-ew-clas, lat: 37, lon: 38, boresight: 90 deg}"),
           "type: fbx-xband-ew-clas", "sensors[0].type",
           "unknown sensor type 'fbx-xband-ew-clas' (did you mean 'fbx-xband-ew-class'?)"),
    Broken("radar-without-boresight",
           edit("sensors: []", "sensors:\n  - {id: r1, type: lower-tier-fcr-class, lat: 37, lon: 38}"),
           "- {id: r1", "sensors[0]", "missing required field 'boresight'"),
    Broken("space-sensor-with-position",
           edit("sensors: []", "sensors:\n  - {id: ir, type: space-ir-class, lat: 37}"),
           "- {id: ir", "sensors[0].lat", "a space-based sensor has no 'lat'"),
    Broken("sensor-override-bad-unit",
           edit("sensors: []", "sensors:\n  - id: r1\n    type: lower-tier-fcr-class\n    lat: 37\n    lon: 38\n"
                               "    boresight: 90 deg\n    overrides: {max_range: 100 s}"),
           "overrides:", "sensors[0].overrides.max_range", "expected a length"),
    Broken("battery-unknown-type", edit("batteries: []", "batteries:\n  - id: b1\n    type: patriot\n    lat: 37\n    lon: 38"),
           "type: patriot", "batteries[0].type", "unknown interceptor type 'patriot'"),
    Broken("battery-unknown-radar", edit("batteries: []", "batteries:\n  - id: b1\n    type: lower-tier-pac3-class\n"
                                                          "    lat: 37\n    lon: 38\n    radar: nowhere"),
           "radar: nowhere", "batteries[0].radar", "unknown sensor id 'nowhere'"),
    Broken("battery-unknown-asset", edit("batteries: []", "batteries:\n  - id: b1\n    type: lower-tier-pac3-class\n"
                                                          "    lat: 37\n    lon: 38\n    defends: [Atlantis]"),
           "defends:", "batteries[0].defends[0]", "unknown asset 'Atlantis'"),
    Broken("battery-salvo-zero", edit("batteries: []", "batteries:\n  - id: b1\n    type: lower-tier-pac3-class\n"
                                                       "    lat: 37\n    lon: 38\n    doctrine: {salvo: 0}"),
           "doctrine:", "batteries[0].doctrine.salvo", "must be at least 1, got 0"),
    Broken("battery-latitude-123", edit("batteries: []", "batteries:\n  - id: b1\n    type: lower-tier-pac3-class\n"
                                                         "    lat: 123\n    lon: 38"),
           "lat: 123", "batteries[0].lat", "latitude"),
    Broken("route-with-one-waypoint", edit(ROUTE_TAIL, ""),
           "route:", "threats.drones[0].route",
           "a route needs at least 2 waypoints (the launch point and the target), got 1"),
    Broken("missing-launch-lat", edit("launch: {lat: 36.0, lon: 38.0, alt: 0 m}",
                                      "launch: {lon: 38.0, alt: 0 m}"),
           "launch:", "threats.ballistic[0].launch", "missing required field 'lat'"),
    Broken("launch-before-epoch", edit("launch_time: 2026-03-04T01:10:00Z",
                                       "launch_time: 2026-03-03T23:00:00Z"),
           "launch_time: 2026", "threats.ballistic[0].launch_time",
           "2026-03-03T23:00:00Z is before the scenario epoch 2026-03-04T00:00:00Z"),
    Broken("launch-time-bare-number", edit("launch_time: 1 h", "launch_time: 3600"),
           "launch_time: 3600", "threats.drones[0].launch_time", "a launch time needs a unit"),
    Broken("propellant-heavier-than-missile", edit("propellant_mass: 4500 kg",
                                                   "propellant_mass: 7000 kg"),
           "propellant_mass", "catalog.ballistic.test-srbm.propellant_mass",
           "must be less than the launch mass (6000 kg), got 7000 kg"),
    Broken("catalog-type-name", edit("    test-srbm:", "    Test SRBM:"),
           "Test SRBM:", "catalog.ballistic.Test SRBM", "invalid name 'Test SRBM'"),
    Broken("catalog-without-sources", edit('      sources: ["invented for tests"]\n  drone:',
                                           "      sources: []\n  drone:"),
           "sources: []", "catalog.ballistic.test-srbm.sources", "needs at least one source"),
    Broken("scenario-name", edit("name: minimal-test", "name: Minimal Test"),
           "name: Minimal", "name", "may hold only lower-case letters, digits, '-' and '_'"),
    Broken("format-version", edit("hoplon: 1", "hoplon: 2"),
           "hoplon: 2", "hoplon", "this Hoplon reads scenario format version 1, got 2"),
    Broken("earth-model", edit("earth: wgs84", "earth: wgs-84"),
           "earth:", "earth", "unknown value 'wgs-84' (did you mean 'wgs84'?)"),
    Broken("value-nan", edit("value: 100", "value: .nan"),
           "value:", "assets[0].value", "not a finite number"),
    Broken("assets-not-a-list", edit("assets:\n", "assets: {}\nx_assets:\n"),
           "assets: {}", "assets", "expected a list, got a mapping"),
]


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_variant_is_reported_where_it_is(
    case: Broken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = load_broken(tmp_path, monkeypatch, case.text)
    problems = [p for p in err.problems if not p.field.startswith("x_assets")]
    assert len(problems) == 1, str(err)
    problem = problems[0]
    line = line_of(case.text, case.marker)
    assert (problem.file, problem.line, problem.field) == (FILE, line, case.field), str(err)
    assert case.message in problem.message, problem.message
    expected_head = f"{FILE}:{line}: {case.field}: " if case.field else f"{FILE}:{line}: "
    assert str(problem).startswith(expected_head)


def test_enough_broken_variants() -> None:
    assert len({case.id for case in BROKEN}) == len(BROKEN) >= 25


def test_scenario_type_clashing_with_packaged_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = load_catalog(
        "ballistic:\n  test-srbm:\n" + MINIMAL.split("    test-srbm:\n", 1)[1].split("  drone:")[0],
        filename="packaged.yaml",
    )
    err = load_broken(tmp_path, monkeypatch, MINIMAL, catalog=packaged)
    line = line_of(MINIMAL, "test-srbm:")
    expected = (
        f"{FILE}:{line}: catalog.ballistic.test-srbm: type 'test-srbm' is already in the "
        "packaged catalog; give yours another name"
    )
    assert [str(p) for p in err.problems] == [expected]


def test_clash_with_the_real_packaged_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = next(iter(load_packaged_catalog().drone))
    text = MINIMAL.replace("test-drone", name)
    err = load_broken(tmp_path, monkeypatch, text)
    assert len(err.problems) == 1
    assert err.problems[0].field == f"catalog.drone.{name}"
    assert err.problems[0].line == line_of(text, f"    {name}:")


def test_several_problems_are_all_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL
    for old, new in [("lat: 37.00194", "lat: 123"), ("radius: 3 km", "radius: 3"),
                     ("seed: 20260304", "seed: -1"), ("count: 3", "count: 1001"),
                     ("    value: 100", "    value: 100\n    value: 200")]:
        text = edit(old, new, text)
    err = load_broken(tmp_path, monkeypatch, text)
    lines = str(err).splitlines()
    assert lines == [str(p) for p in err.problems]
    assert [(p.line, p.field) for p in err.problems] == [
        (line_of(text, "seed:"), "seed"),
        (line_of(text, "lat: 123"), "assets[0].lat"),
        (line_of(text, "value: 200"), "assets[0].value"),
        (line_of(text, "radius: 3"), "assets[0].radius"),
        (line_of(text, "count: 1001"), "threats.ballistic[0].salvo.count"),
    ]
    assert all(line.startswith(f"{FILE}:") for line in lines)


# --- whole-file problems --------------------------------------------------------------

TOP_LEVEL = "the top level must be a mapping of 'field: value' lines"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", f"{FILE}: file is empty"),
        ("   \n\n", f"{FILE}: file is empty"),
        ("# only a comment\n", f"{FILE}: file is empty (only comments)"),
        (b"\x00\x01\x02binary", f"{FILE}: not a text file: it contains NUL bytes (binary data?)"),
        (b"name: x\nseed: \xff\xfe\n", f"{FILE}:2: not a text file: invalid UTF-8 at byte 14"),
        ("- a\n- b\n", f"{FILE}:1: {TOP_LEVEL}, got a list"),
        ("just text\n", f"{FILE}:1: {TOP_LEVEL}, got the text 'just text'"),
        (MINIMAL + "---\nname: second\n",
         f"{FILE}:{MINIMAL.count(chr(10)) + 1}: more than one YAML document"),
        ("name: x\nseed: [1, 2\nepoch: 3\n", f"{FILE}:3: a '[' opened on line 2 is not closed"),
        ("name: x\nseed: 'abc\n", f"{FILE}:3: a quoted text opened on line 2 is never closed"),
        ("name: x\nseed: *nothing\n", f"{FILE}:2: unknown alias 'nothing'"),
        ("name: !!python/object:os.system x\n", f"{FILE}:1: name: unsupported YAML tag"),
    ],
)
def test_whole_file_problems(
    content: str | bytes, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    err = load_broken(tmp_path, monkeypatch, content)
    assert str(err).startswith(expected), str(err)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: file not found$"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


# --- YAML with lines ------------------------------------------------------------------


def test_load_yaml_records_lines() -> None:
    text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n    - f: 3\n"
    data, source = load_yaml(text, filename="t.yaml")
    assert data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}, {"f": 3}]}}
    assert source.lines[("a",)] == 1
    assert source.lines[("b", "c", 1)] == 3
    assert source.lines[("b", "d", 1)] == 6
    assert source.line_for(("b", "d", 1, "f")) == 6
    assert source.line_for(("b", "d", 1, "missing", "deeper")) == 6
    assert source.line_for("b.d[0].e") == 5
    assert source.problem("b.c[1]", "bad").__str__() == "t.yaml:3: b.c[1]: bad"


def test_load_yaml_keys_are_text_and_merges_work() -> None:
    text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nyes: 1\n1: 2\n"
    data, source = load_yaml(text, filename="t.yaml")
    assert data == {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}, "yes": 1, "1": 2}
    assert source.lines[("use", "y")] == 4


def test_load_yaml_reports_every_duplicate_key() -> None:
    with pytest.raises(ScenarioError) as info:
        load_yaml("a: 1\nb: {c: 1, c: 2}\na: 3\n", filename="t.yaml")
    assert str(info.value).splitlines() == [
        "t.yaml:2: b.c: duplicate key 'c' (first given on line 2)",
        "t.yaml:3: a: duplicate key 'a' (first given on line 1)",
    ]


def test_load_yaml_stops_alias_bombs() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    with pytest.raises(ScenarioError, match="too much data"):
        load_yaml("\n".join(lines) + "\n", filename="bomb.yaml")


@given(st.lists(st.one_of(st.integers(0, 99), st.from_regex(r"[a-z_][a-z0-9_-]{0,8}",
                                                            fullmatch=True)), max_size=6))
def test_field_paths_round_trip(path: list[str | int]) -> None:
    if path and isinstance(path[0], int):
        path = ["root", *path]
    assert parse_path(format_path(path)) == tuple(path)


# --- JSON Schema ----------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def test_json_schema_is_valid_and_accepts_minimal() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data, _ = load_yaml(DATA / "minimal.yaml")
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.message for e in validator.iter_errors(_jsonable(data))] == []
    radius = schema["$defs"]["Asset"]["properties"]["radius"]
    assert radius["type"] == "string" and "stored in m" in radius["description"]
