"""The engine: compile a scenario, fly it, and check the tables it writes.

The built-in ``anatolia`` scenario checks the run's invariants (truth on the time grid,
impacts that close each object's truth, velocities that are the derivative of the
positions, event order, apogees). Small scenarios written below, with their own catalog
types, check what has an independent answer: the circular-normal statistics of the
guidance errors (the binomial law of the fraction inside the CEP), a drone route whose
flight time is a closed form (haversine length / speed), and the located errors of
scenarios that physics refuses. No expected number here was produced by hoplon.
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest

from hoplon.errors import ScenarioError
from hoplon.scenario import load_scenario
from hoplon.scenario.builtins import resolve_scenario
from hoplon.sim.engine import run
from hoplon.sim.random import STREAMS, stream
from hoplon.sim.world import compile_scenario

FILE = "test.yaml"
R_NAV_M = 6371008.8  # IUGG mean radius R1, the drones' navigation sphere
G = 9.81
MU = 3.986004418e14  # WGS84 GM, m^3/s^2
R_EARTH_MIN_M = 6356752.0  # the polar radius: no point of a flight is nearer the centre
METRE = 1.0
CENTIMETRE = 1e-2
MICROSECOND = 1e-6


def line_of(text: str, marker: str) -> int:
    """1-based number of the first line of ``text`` that contains ``marker``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if marker in line:
            return number
    raise AssertionError(f"marker {marker!r} not in text")


def columns(table) -> dict[str, np.ndarray]:
    return {name: np.asarray(col.to_pylist(), dtype=object if col.type == "string" else float)
            for name, col in zip(table.column_names, table.columns)}


def haversine_m(lat1, lon1, lat2, lon2, radius_m=R_NAV_M):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius_m * math.asin(math.sqrt(a))


# --------------------------------------------------------------------------- anatolia


@pytest.fixture(scope="module")
def anatolia():
    # without its batteries: these tests check the flights, whole (tests/test_battle_loop.py
    # checks what interceptors do to them)
    scenario = resolve_scenario("anatolia").model_copy(update={"batteries": []})
    world = compile_scenario(scenario)
    return scenario, world


@pytest.fixture(scope="module", params=[1.0, 7.0], ids=["step1s", "step7s"])
def anatolia_run(request, anatolia):
    _, world = anatolia
    result = run(world, truth_step_s=request.param)
    return result, columns(result.truth), columns(result.events), columns(result.outcomes)


def objects(truth):
    return sorted(set(truth["object_id"].tolist()))


def rows_of(truth, oid):
    idx = np.flatnonzero(truth["object_id"] == oid)
    return idx[np.argsort(truth["time_s"][idx], kind="stable")]


def test_truth_rows_on_time_grid_except_the_impact(anatolia_run):
    result, truth, _, _ = anatolia_run
    step = result.truth_step_s
    assert set(truth["kind"].tolist()) == {"ballistic_missile", "spent_booster", "drone"}
    # the table is sorted by time, then object
    assert np.all(np.diff(truth["time_s"]) >= 0)
    for oid in objects(truth):
        t = truth["time_s"][rows_of(truth, oid)]
        assert t.size >= 3
        assert np.all(np.diff(t) > 0), f"{oid}: repeated or unordered times"
        grid = t[:-1]
        np.testing.assert_array_equal(grid, np.round(grid / step) * step, err_msg=oid)
        # consecutive grid rows are one step apart (no holes), the impact within a step
        np.testing.assert_allclose(np.diff(grid), step, rtol=0, atol=1e-6, err_msg=oid)
        assert 0 < t[-1] - t[-2] <= step + 1e-9


def test_last_truth_row_is_the_impact(anatolia_run):
    _, truth, events, outcomes = anatolia_run
    impacts = {oid: i for i, (oid, kind) in enumerate(zip(events["object_id"], events["kind"])) if kind in ("impact", "leaker_impact")}
    assert set(impacts) == set(objects(truth))
    for k, oid in enumerate(outcomes["object_id"]):
        last = rows_of(truth, oid)[-1]
        assert truth["time_s"][last] == outcomes["impact_time_s"][k]
        assert truth["lat_deg"][last] == pytest.approx(outcomes["impact_lat_deg"][k], abs=1e-12)
        assert truth["lon_deg"][last] == pytest.approx(outcomes["impact_lon_deg"][k], abs=1e-12)
        assert truth["alt_m"][last] == pytest.approx(outcomes["impact_alt_m"][k], abs=1e-6)
        assert truth["kind"][last] == outcomes["kind"][k]
    for oid, e in impacts.items():  # boosters too, through their impact event
        last = rows_of(truth, oid)[-1]
        assert truth["time_s"][last] == events["time_s"][e]
        assert truth["lat_deg"][last] == pytest.approx(events["lat_deg"][e], abs=1e-12)
        assert truth["lon_deg"][last] == pytest.approx(events["lon_deg"][e], abs=1e-12)
        assert truth["alt_m"][last] == pytest.approx(events["alt_m"][e], abs=1e-6)


def test_truth_geodetic_columns_match_ecef(anatolia_run):
    _, truth, _, _ = anatolia_run
    sel = slice(None, None, 97)
    lat, lon, alt = pymap3d.ecef2geodetic(truth["x_m"][sel], truth["y_m"][sel], truth["z_m"][sel])
    np.testing.assert_allclose(truth["lat_deg"][sel], lat, rtol=0, atol=1e-9)
    np.testing.assert_allclose(truth["lon_deg"][sel], lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(truth["alt_m"][sel], alt, rtol=0, atol=1e-3)


def free_flight_interior(truth, events, oid, step, min_alt_m):
    """Rows of ``oid`` strictly inside its free flight (a step clear of burnout and impact)
    above ``min_alt_m``, whose neighbours one row before and after are one step away."""
    idx = rows_of(truth, oid)
    t = truth["time_s"][idx]
    ev = {k: events["time_s"][i] for i, (o, k) in enumerate(zip(events["object_id"], events["kind"])) if o == oid}
    start = ev.get("boost_end", t[0])
    inner = np.arange(1, idx.size - 2)  # exclude the impact row and the row before it
    keep = inner[
        (t[inner - 1] > start + 1e-9)
        & np.isclose(t[inner + 1] - t[inner - 1], 2 * step)
        & (truth["alt_m"][idx[inner]] > min_alt_m)
    ]
    return idx, keep


def test_free_flight_velocity_is_the_derivative_of_position(anatolia_run):
    result, truth, events, _ = anatolia_run
    step = result.truth_step_s
    checked = 0
    for oid in objects(truth):
        kind = truth["kind"][rows_of(truth, oid)[0]]
        if kind == "drone":
            continue
        # Above 100 km drag is negligible even for the tumbling booster, so the jerk is
        # that of gravity, |grad g . v| <= 2 mu/r^3 |v|, and the central difference is
        # off by step^2/6 * jerk; allow twice that (Coriolis, J2, interpolation).
        idx, keep = free_flight_interior(truth, events, oid, step, 100e3)
        r = np.column_stack([truth["x_m"][idx], truth["y_m"][idx], truth["z_m"][idx]])
        v = np.column_stack([truth["vx_mps"][idx], truth["vy_mps"][idx], truth["vz_mps"][idx]])
        fd = (r[keep + 1] - r[keep - 1]) / (2 * step)
        err = np.linalg.norm(fd - v[keep], axis=1) / np.linalg.norm(v[keep], axis=1)
        assert keep.size > 5, oid
        bound = 2 * step**2 / 6 * 2 * MU / R_EARTH_MIN_M**3
        assert err.max() < bound, (oid, err.max(), bound)
        checked += keep.size
    assert checked > 100


def test_drone_velocity_is_the_derivative_of_position(anatolia_run):
    result, truth, _, _ = anatolia_run
    step = result.truth_step_s
    for oid in objects(truth):
        idx = rows_of(truth, oid)
        if truth["kind"][idx[0]] != "drone":
            continue
        r = np.column_stack([truth["x_m"][idx], truth["y_m"][idx], truth["z_m"][idx]])
        v = np.column_stack([truth["vx_mps"][idx], truth["vy_mps"][idx], truth["vz_mps"][idx]])
        inner = np.arange(1, idx.size - 2)
        fd = (r[inner + 1] - r[inner - 1]) / (2 * step)
        err = np.linalg.norm(fd - v[inner], axis=1) / np.linalg.norm(v[inner], axis=1)
        # exact on straight legs at a constant climb; turns and altitude knots are a few rows
        assert np.median(err) < 1e-6
        assert np.mean(err < 1e-3) > 0.98


def test_ballistic_impacts_at_aim_height_and_drones_at_target(anatolia, anatolia_run):
    scenario, _ = anatolia
    _, _, _, outcomes = anatolia_run
    for k, oid in enumerate(outcomes["object_id"]):
        aim = scenario.asset(outcomes["aim"][k])
        if outcomes["kind"][k] == "ballistic_missile":
            assert outcomes["impact_alt_m"][k] == pytest.approx(aim.alt_m, abs=CENTIMETRE)
            # the guidance error is a few CEPs at most (CEP 500 m)
            assert outcomes["miss_distance_m"][k] < 2_500.0
            assert outcomes["apogee_alt_m"][k] > 100e3
        else:
            assert outcomes["kind"][k] == "drone"
            assert outcomes["impact_lat_deg"][k] == pytest.approx(aim.lat_deg, abs=1e-9)
            assert outcomes["impact_lon_deg"][k] == pytest.approx(aim.lon_deg, abs=1e-9)
            assert outcomes["impact_alt_m"][k] == pytest.approx(aim.alt_m, abs=CENTIMETRE)
            assert outcomes["miss_distance_m"][k] < METRE
            assert outcomes["asset_hit"][k] == aim.name
        assert outcomes["impact_time_s"][k] > outcomes["launch_time_s"][k]


def test_spent_boosters_fall_after_burnout(anatolia_run):
    _, truth, events, outcomes = anatolia_run
    boosters = [o for o in objects(truth) if truth["kind"][rows_of(truth, o)[0]] == "spent_booster"]
    assert len(boosters) == 4  # two salvos of two separating MRBMs
    for b in boosters:
        missile = b.removesuffix(".booster")
        k = outcomes["object_id"].tolist().index(missile)
        burnout = outcomes["burnout_time_s"][k]
        impact = [events["time_s"][i] for i in range(len(events["time_s"]))
                  if events["object_id"][i] == b and events["kind"][i] == "impact"]  # a spent booster
        assert len(impact) == 1 and impact[0] > burnout
        t = truth["time_s"][rows_of(truth, b)]
        assert t[0] >= burnout
        # the booster (beta 100 kg/m^2) falls short of the RV and lands after it
        assert impact[0] > outcomes["impact_time_s"][k]


def test_events_in_order_one_of_each_per_ballistic_object(anatolia_run):
    result, truth, events, outcomes = anatolia_run
    assert np.all(np.diff(events["time_s"]) >= 0)
    for k, oid in enumerate(outcomes["object_id"]):
        flight = ("launch", "boost_end", "apogee", "leaker_impact")  # sensor events are tested elsewhere
        mine = [i for i in range(len(events["time_s"])) if events["object_id"][i] == oid and events["kind"][i] in flight]
        kinds = [events["kind"][i] for i in mine]
        if outcomes["kind"][k] == "ballistic_missile":
            assert kinds == ["launch", "boost_end", "apogee", "leaker_impact"], (oid, kinds)
            times = [events["time_s"][i] for i in mine]
            assert times[0] == outcomes["launch_time_s"][k]
            assert times[1] == pytest.approx(outcomes["burnout_time_s"][k], abs=MICROSECOND)
            assert times[3] == outcomes["impact_time_s"][k]
        else:
            assert kinds == ["launch", "leaker_impact"], (oid, kinds)
    # the first truth row of each object is its launch (on the grid: at or after it)
    for k, oid in enumerate(outcomes["object_id"]):
        t0 = truth["time_s"][rows_of(truth, oid)[0]]
        assert outcomes["launch_time_s"][k] <= t0 < outcomes["launch_time_s"][k] + result.truth_step_s


def test_apogee_is_the_highest_truth_point(anatolia_run):
    result, truth, events, outcomes = anatolia_run
    step = result.truth_step_s
    # near the top the height is within g (step/2)^2 / 2 of the apogee; allow one step's g t^2 / 2
    tolerance = G * step**2 / 2
    for k, oid in enumerate(outcomes["object_id"]):
        if outcomes["kind"][k] != "ballistic_missile":
            continue
        idx = rows_of(truth, oid)
        alt = truth["alt_m"][idx]
        apogee = outcomes["apogee_alt_m"][k]
        assert apogee >= alt.max() - CENTIMETRE
        assert apogee - alt.max() <= tolerance
        (e,) = np.flatnonzero((events["object_id"] == oid) & (events["kind"] == "apogee"))
        assert events["alt_m"][e] == apogee
        t_top = truth["time_s"][idx][np.argmax(alt)]
        assert abs(events["time_s"][e] - t_top) <= step


def test_same_seed_same_tables_other_seed_other_impacts(anatolia):
    scenario, world = anatolia
    a = run(world)
    b = run(compile_scenario(scenario))
    assert a.truth.equals(b.truth)
    assert a.events.equals(b.events)
    # the outcomes hold NaN where a value does not apply (and NaN != NaN for Arrow's
    # equals, see test_outcomes_table_equals_itself): compare NaN-aware, column by column
    assert a.outcomes.schema.equals(b.outcomes.schema, check_metadata=True)
    for name in a.outcomes.column_names:
        np.testing.assert_array_equal(a.outcomes[name].to_numpy(zero_copy_only=False),
                                      b.outcomes[name].to_numpy(zero_copy_only=False), err_msg=name)
    c = run(compile_scenario(scenario, seed=scenario.seed + 1))
    oa, oc = columns(a.outcomes), columns(c.outcomes)
    ballistic = oa["kind"] == "ballistic_missile"
    moved = np.hypot(oa["impact_lat_deg"] - oc["impact_lat_deg"], oa["impact_lon_deg"] - oc["impact_lon_deg"])
    assert np.all(moved[ballistic] > 1e-5)  # > ~1 m
    # drones fly no random draw: same arrival
    np.testing.assert_array_equal(oa["impact_time_s"][~ballistic], oc["impact_time_s"][~ballistic])


def test_outcomes_table_equals_itself(anatolia_run):
    result, _, _, _ = anatolia_run
    assert result.outcomes.equals(result.outcomes)
    assert result.outcomes["apogee_alt_m"].null_count == 3  # the three drones


def test_drone_impact_speed_is_its_terminal_speed(anatolia, anatolia_run):
    scenario, _ = anatolia
    _, _, _, outcomes = anatolia_run
    cruise = scenario.threat_catalog.drone["owa-drone-shahed136-class"].cruise_speed_m_s
    drones = outcomes["kind"] == "drone"
    # the ECEF speed is the nominal ground speed within 0.6 % plus a climb of a few m/s
    np.testing.assert_allclose(outcomes["impact_speed_mps"][drones], cruise, rtol=0.02)


# --------------------------------------------------------------------------- own scenarios

TEST_TYPES = """\
catalog:
  ballistic:
    test-srbm:
      label: "Test SRBM (notional, for tests)"
      max_range: 300 km
      launch_mass: 6000 kg
      propellant_mass: 4500 kg
      burn_time: 60 s
      specific_impulse: 240 s
      vertical_rise: 5 s
      reference_area: 0.6 m^2
      drag_coefficient: 0.3
      rv_beta: 4000 kg/m^2
      cep: 200 m
      sources: ["invented for tests"]
  drone:
    test-drone:
      label: "Test drone (notional, for tests)"
      cruise_speed: 150 km/h
      cruise_alt: 1 km
      max_range: 500 km
      max_turn_rate: 3 deg/s
      climb_rate: 5 m/s
      sources: ["invented for tests"]
"""


def scenario_text(threats: str, *, seed: int = 7) -> str:
    return f"""\
hoplon: 1
name: engine-test
epoch: 2026-03-04T00:00:00Z
seed: {seed}
earth: wgs84
{TEST_TYPES}
assets:
  - {{name: target, lat: 37.0, lon: 35.4, alt: 70 m, value: 1, radius: 1 km}}
threats:
{threats}"""


SALVO_SIZE = 400
CEP_M = 200.0
SALVO = f"""\
  ballistic:
    - id: salvo
      type: test-srbm
      launch_time: 10 s
      launch: {{lat: 37.0, lon: 37.6, alt: 500 m}}
      aim: {{asset: target}}
      salvo: {{count: {SALVO_SIZE}, interval: 1 s}}
"""


@pytest.fixture(scope="module")
def salvo_run():
    scenario = load_scenario(scenario_text(SALVO), filename=FILE)
    world = compile_scenario(scenario)
    return scenario, world, run(world, truth_step_s=30.0)


def test_guidance_errors_have_the_type_cep(salvo_run):
    scenario, world, result = salvo_run
    out = columns(result.outcomes)
    n = SALVO_SIZE
    assert out["object_id"].size == n
    # the targeting itself is exact: every missile hits its own (erroneous) aim point
    assert np.all(world.ballistic.solution.miss_m < 1.0)
    # circular normal: P(miss < CEP) = 1/2 by definition; binomial 4-sigma bounds
    inside = np.mean(out["miss_distance_m"] < CEP_M)
    assert abs(inside - 0.5) <= 4 * math.sqrt(0.25 / n), inside
    # unbiased: mean east and north offsets at the aim point are ~0 (sigma = CEP / 1.1774)
    target = scenario.asset("target")
    e, nn, _ = pymap3d.geodetic2enu(out["impact_lat_deg"], out["impact_lon_deg"], out["impact_alt_m"],
                                    target.lat_deg, target.lon_deg, target.alt_m)
    sigma = CEP_M / math.sqrt(2 * math.log(2))
    assert abs(np.mean(e)) < 4 * sigma / math.sqrt(n)
    assert abs(np.mean(nn)) < 4 * sigma / math.sqrt(n)
    # and each axis has the right spread (chi-square, 4 sigma: sd of s^2/sigma^2 is sqrt(2/n))
    for axis in (e, nn):
        assert abs(np.var(axis) / sigma**2 - 1) < 4 * math.sqrt(2 / n)
    # the outcome's miss is the distance to the intended aim point
    np.testing.assert_allclose(out["miss_distance_m"], np.hypot(e, nn), rtol=1e-3, atol=0.5)


def test_salvo_launch_times_and_ids(salvo_run):
    _, world, result = salvo_run
    out = columns(result.outcomes)
    assert out["object_id"][:3].tolist() == ["salvo-1", "salvo-2", "salvo-3"]
    np.testing.assert_array_equal(np.sort(out["launch_time_s"]), 10.0 + np.arange(SALVO_SIZE))
    assert np.all(world.ballistic.aim_asset == "target")


def test_aim_out_of_range_is_a_located_error():
    threats = """\
  ballistic:
    - id: far
      type: test-srbm
      launch_time: 0 s
      launch: {lat: 37.0, lon: 42.0}
      aim: {lat: 37.0, lon: 30.0}   # 1,065 km away: beyond the type's reach (~770 km)
"""
    text = scenario_text(threats)
    scenario = load_scenario(text, filename=FILE)
    with pytest.raises(ScenarioError) as info:
        compile_scenario(scenario)
    (problem,) = info.value.problems
    assert problem.file == FILE
    assert problem.field == "threats.ballistic[0].aim"
    assert problem.line == line_of(text, "aim: {lat: 37.0, lon: 30.0}")
    assert "beyond" in problem.message and "far" in problem.message
    # the message gives the distance to the aim point (great circle on the mean sphere)
    assert f"{haversine_m(37.0, 42.0, 37.0, 30.0) / 1e3:.0f} km away" in problem.message
    assert f"{FILE}:{problem.line}: threats.ballistic[0].aim:" in str(info.value)


def test_infeasible_drone_turn_is_a_located_error():
    # 3 deg/s at 150 km/h is a 796 m turn radius; a hairpin after 3 km cannot be flown
    threats = """\
  drones:
    - id: hairpin
      type: test-drone
      launch_time: 0 s
      route:
        - {lat: 36.0, lon: 36.0}
        - {lat: 36.0, lon: 36.03, alt: 500 m}   # HAIRPIN
        - {lat: 36.001, lon: 36.0}
"""
    text = scenario_text(threats)
    scenario = load_scenario(text, filename=FILE)
    with pytest.raises(ScenarioError) as info:
        compile_scenario(scenario)
    fields = [p.field for p in info.value.problems]
    assert fields == ["threats.drones[0].route[1]"]
    problem = info.value.problems[0]
    assert problem.line == line_of(text, "# HAIRPIN")
    assert problem.file == FILE
    assert "turn" in problem.message


def test_route_beyond_type_range_is_a_located_error():
    threats = """\
  drones:
    - id: too-far
      type: test-drone
      launch_time: 0 s
      salvo: {count: 2, interval: 1 min}
      route:   # ROUTE
        - {lat: 30.0, lon: 30.0}
        - {lat: 30.0, lon: 36.0}
"""
    text = scenario_text(threats)
    scenario = load_scenario(text, filename=FILE)
    with pytest.raises(ScenarioError) as info:
        compile_scenario(scenario)
    problems = info.value.problems
    assert {p.field for p in problems} == {"threats.drones[0].route"}
    assert all(p.line == line_of(text, "# ROUTE") and p.file == FILE for p in problems)
    length_km = haversine_m(30.0, 30.0, 30.0, 36.0) / 1e3
    assert f"{length_km:.0f} km" in problems[0].message and "500 km" in problems[0].message


def test_drone_flight_time_is_length_over_speed():
    dlon = math.degrees(100e3 / R_NAV_M)  # 100 km along the equator on the navigation sphere
    threats = f"""\
  drones:
    - id: straight
      type: test-drone
      launch_time: 60 s
      route:
        - {{lat: 0.0, lon: 10.0}}
        - {{lat: 0.0, lon: {10.0 + dlon!r}, speed: 100 m/s}}
"""
    scenario = load_scenario(scenario_text(threats), filename=FILE)
    world = compile_scenario(scenario)
    result = run(world, truth_step_s=10.0)
    out = columns(result.outcomes)
    length = haversine_m(0.0, 10.0, 0.0, 10.0 + dlon)
    assert length == pytest.approx(100e3, rel=1e-12)
    assert world.airbreathers.plan.length_m[0] == pytest.approx(length, rel=1e-9)
    assert out["launch_time_s"][0] == 60.0
    assert out["impact_time_s"][0] - out["launch_time_s"][0] == pytest.approx(length / 100.0, rel=1e-9)
    truth = columns(result.truth)
    # launch and target default to the ground: the whole flight is at 0 m
    np.testing.assert_allclose(truth["alt_m"], 0.0, atol=1e-6)
    np.testing.assert_allclose(truth["lat_deg"], 0.0, atol=1e-9)
    # grid rows 60, 70, ..., 1050 s and the arrival at 1060 s
    assert truth["time_s"][0] == 60.0 and truth["time_s"].size == 101
    # ground speed ~100 m/s east (the equatorial radius is 0.1 % above the sphere's)
    v = np.column_stack([truth["vx_mps"], truth["vy_mps"], truth["vz_mps"]])[:-1]
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 100.0 * 6378137.0 / R_NAV_M, rtol=1e-6)


# --------------------------------------------------------------------------- random streams


def test_stream_same_seed_same_numbers():
    a = stream(42, "threats").standard_normal(100)
    b = stream(42, "threats").standard_normal(100)
    np.testing.assert_array_equal(a, b)


def test_streams_are_distinct():
    draws = {name: stream(42, name).random(8) for name in STREAMS}
    values = [tuple(d) for d in draws.values()]
    assert len(set(values)) == len(STREAMS)
    assert not np.array_equal(stream(42, "threats").random(8), stream(43, "threats").random(8))


def test_stream_accepts_a_seed_sequence():
    root = np.random.SeedSequence(12345)
    reps = root.spawn(3)
    draws = [stream(rep, "threats").random(5) for rep in reps]
    assert len({tuple(d) for d in draws}) == 3
    # reproducible from an equal SeedSequence
    again = np.random.SeedSequence(12345).spawn(3)
    np.testing.assert_array_equal(stream(again[1], "threats").random(5), draws[1])
    # and independent of the component stream of the same replication
    assert not np.array_equal(stream(reps[0], "sensors").random(5), draws[0])
    # a plain SeedSequence(S) is the integer seed S
    np.testing.assert_array_equal(stream(np.random.SeedSequence(12345), "debris").random(5),
                                  stream(12345, "debris").random(5))


def test_stream_unknown_name():
    with pytest.raises(ValueError, match="unknown random stream"):
        stream(1, "radar")


def test_stream_returns_a_generator():
    assert isinstance(stream(0, "battle"), np.random.Generator)


def test_tracks_report_the_drag_state_the_engine_tracker_estimates():
    """tracks.parquet's drag state is the IMM's 1/beta: in re-entry it converges on the
    catalog's ballistic coefficients (re-entry vehicle 8,000 kg/m^2, spent booster
    100 kg/m^2 in `anatolia`), and in midcourse, where drag is unobservable, it keeps the
    tracker's prior spread."""
    sc = resolve_scenario("anatolia").model_copy(update={"batteries": []})
    world = compile_scenario(sc)
    t = run(world).tracks.to_pydict()
    inv_beta, alt = np.array(t["inv_beta_m2_kg"]), np.array(t["alt_m"])
    var = np.array(t["inv_beta_cov"])[:, 6]
    oid = [o or "" for o in t["object_id"]]
    booster = np.array(["booster" in o for o in oid])
    rv = np.array(["mrbm" in o for o in oid]) & ~booster
    low = alt < 30e3
    assert (rv & low).sum() >= 10 and (booster & low).sum() >= 10
    rv_beta = float(np.unique(world.ballistic.rv_beta_kg_m2)[0])
    booster_beta = float(np.unique(world.ballistic.booster_beta_kg_m2)[0])
    assert np.median(inv_beta[rv & low]) == pytest.approx(1.0 / rv_beta, rel=0.2)
    assert np.median(inv_beta[booster & low]) == pytest.approx(1.0 / booster_beta, rel=0.2)
    high = rv & (alt > 100e3)
    assert np.median(np.sqrt(var[high])) == pytest.approx(world.tracker.init_theta_sigma, rel=0.05)


def test_nearest_asset_is_geographiclibs_closest_asset_within_its_radius():
    """engine._nearest_asset (geodesics only where the chord is short enough) against a
    brute force over every asset with geographiclib: points scattered up to 15 km
    around each anatolia asset, some on the radius within a few centimetres."""
    from geographiclib.geodesic import Geodesic

    from hoplon.sim.engine import _nearest_asset

    world = compile_scenario(resolve_scenario("anatolia"))
    a = world.assets
    rng = np.random.default_rng(5)
    lat, lon = [], []
    for j in range(len(a)):
        for dist in np.concatenate([rng.uniform(0.0, 15_000.0, 40), a.radius_m[j] + rng.uniform(-0.05, 0.05, 10)]):
            g = Geodesic.WGS84.Direct(float(a.lat_deg[j]), float(a.lon_deg[j]), rng.uniform(0.0, 360.0), float(dist))
            lat.append(g["lat2"])
            lon.append(g["lon2"])
    lat, lon = np.array(lat), np.array(lon)
    expected = []
    for la, lo in zip(lat, lon):
        d = [Geodesic.WGS84.Inverse(la, lo, float(a.lat_deg[j]), float(a.lon_deg[j]))["s12"] for j in range(len(a))]
        inside = [(d[j], j) for j in range(len(a)) if d[j] <= a.radius_m[j]]
        expected.append(a.name[min(inside)[1]] if inside else "")
    got = _nearest_asset(world, lat, lon)
    assert list(got) == expected
    assert 0 < sum(e != "" for e in expected) < len(expected)
