"""The closed engagement loop: interceptors fly, intercepts resolve, kills are assessed,
debris falls (hoplon.sim.engine, hoplon.sim.intercepts, hoplon.sim.debris).

Conservation and causality on the built-in scenarios, determinism, the fly-out kinematics
of the flown paths against the closed form, the end-game law against scipy's Rayleigh
distribution, and the debris cloud's mass and momentum."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from hoplon.core.engagement import flyout_distance_m, flyout_speed_mps
from hoplon.io.run_files import write_table
from hoplon.scenario.builtins import resolve_scenario
from hoplon.sim.debris import object_mass_kg
from hoplon.sim.engine import run
from hoplon.sim.intercepts import homing_miss_distance_m
from hoplon.sim.world import compile_scenario

THREAT_KINDS = ("ballistic_missile", "drone", "cruise_missile")


def columns(table):
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


@pytest.fixture(scope="module", params=[("anatolia", 1), ("anatolia", 2), ("anatolia-reinforced", None)],
                ids=["anatolia-1", "anatolia-2", "reinforced"])
def played(request):
    name, seed = request.param
    scenario = resolve_scenario(name)
    world = compile_scenario(scenario, seed=seed)
    return scenario, world, run(world)


def test_every_threat_ends_killed_or_leaked_once(played):
    _, _, result = played
    out, ev = columns(result.outcomes), columns(result.events)
    assert set(out["fate"]) <= {"killed", "leaked"}
    for oid, fate in zip(out["object_id"], out["fate"]):
        kinds = Counter(k for k, o in zip(ev["kind"], ev["object_id"]) if o == oid)
        if fate == "killed":
            assert kinds["intercept_kill"] == 1 and kinds["leaker_impact"] == 0, (oid, kinds)
        else:
            assert kinds["leaker_impact"] == 1 and kinds["intercept_kill"] == 0, (oid, kinds)
    # nothing is killed twice, boosters included
    killed = [o for k, o in zip(ev["kind"], ev["object_id"]) if k == "intercept_kill"]
    assert len(killed) == len(set(killed))


def test_every_interceptor_is_accounted_for_and_inventories_hold(played):
    scenario, _, result = played
    ic, ev, eng = columns(result.interceptors), columns(result.events), columns(result.engagements)
    launched = sorted(o for k, o in zip(ev["kind"], ev["object_id"]) if k == "interceptor_launched")
    assert launched == sorted(ic["interceptor_id"])
    assert set(ic["result"]) <= {"kill", "miss"}
    # one resolution event per interceptor: a kill names the object, a miss the interceptor
    # or the object it homed on
    kills = Counter(k for k in ev["kind"] if k == "intercept_kill")["intercept_kill"]
    misses = Counter(k for k in ev["kind"] if k == "intercept_miss")["intercept_miss"]
    assert kills == np.count_nonzero(ic["result"] == "kill") and misses == np.count_nonzero(ic["result"] == "miss")
    assert Counter(k for k in ev["kind"] if k == "kill_assessed")["kill_assessed"] == len(ic["interceptor_id"])
    committed = eng["committed"].astype(bool)
    cat = scenario.threat_catalog.section("interceptor")
    for b in scenario.batteries:
        fired = int(np.count_nonzero(ic["battery_id"] == b.id))
        assert fired == int(eng["rounds"][committed & (eng["battery_id"] == b.id)].sum())
        t = cat[b.type]
        assert fired <= (b.launchers or t.launchers) * (b.rounds_per_launcher or t.rounds_per_launcher)
    # every committed engagement flew its rounds
    per_eng = Counter(ic["engagement_id"].tolist())
    for eid, rounds in zip(eng["engagement_id"][committed], eng["rounds"][committed]):
        assert per_eng[eid] == rounds


def test_no_event_precedes_its_cause(played):
    _, _, result = played
    ev = columns(result.events)
    first: dict[tuple[str, str], float] = {}
    for t, k, o in zip(ev["time_s"], ev["kind"], ev["object_id"]):
        first.setdefault((o, k), t)
    out = columns(result.outcomes)
    for oid, t0 in zip(out["object_id"], out["launch_time_s"]):
        for kind in ("first_detection", "track_confirmed", "classified", "engagement_planned", "intercept_kill",
                     "leaker_impact"):
            if (oid, kind) in first:
                assert first[(oid, kind)] >= t0, (oid, kind)
        if (oid, "track_confirmed") in first:
            assert first[(oid, "first_detection")] <= first[(oid, "track_confirmed")]
        if (oid, "engagement_planned") in first:
            assert first[(oid, "track_confirmed")] <= first[(oid, "classified")] <= first[(oid, "engagement_planned")]
    ic, eng = columns(result.interceptors), columns(result.engagements)
    planned = dict(zip(eng["engagement_id"].tolist(), eng["planned_at_s"]))
    for k, iid in enumerate(ic["interceptor_id"]):
        assert planned[ic["engagement_id"][k]] <= ic["launch_time_s"][k] < ic["intercept_time_s"][k] < ic["assessed_at_s"][k]
        assert first[(iid, "interceptor_launched")] == ic["launch_time_s"][k]
        if ic["result"][k] == "miss":
            assert ic["fall_time_s"][k] > ic["intercept_time_s"][k]
    deb = columns(result.debris)
    assert np.all(deb["land_time_s"][deb["landed"]] > deb["break_time_s"][deb["landed"]])


def test_destroyed_objects_vanish_from_truth_and_detections(played):
    _, _, result = played
    out, truth, det = columns(result.outcomes), columns(result.truth), columns(result.detections)
    for oid, fate, t_kill in zip(out["object_id"], out["fate"], out["killed_time_s"]):
        rows = truth["object_id"] == oid
        if fate == "killed":
            assert truth["time_s"][rows].max() == t_kill
            mine = det["object_id"] == oid
            assert not np.any(det["time_s"][mine] > t_kill)


def test_interceptor_paths_follow_the_flyout_model(played):
    """Distance flown along the recorded path and the speed equal the closed-form fly-out."""
    scenario, _, result = played
    truth, ic = columns(result.truth), columns(result.interceptors)
    cat = scenario.threat_catalog.section("interceptor")
    types = {b.id: cat[b.type] for b in scenario.batteries}
    for k, iid in enumerate(ic["interceptor_id"]):
        rows = np.flatnonzero(truth["object_id"] == iid)
        assert truth["kind"][rows[0]] == "interceptor"
        t = truth["time_s"][rows] - ic["launch_time_s"][k]
        r = np.column_stack([truth["x_m"][rows], truth["y_m"][rows], truth["z_m"][rows]])
        v = np.linalg.norm(np.column_stack([truth["vx_mps"][rows], truth["vy_mps"][rows], truth["vz_mps"][rows]]), axis=1)
        ty = types[ic["battery_id"][k]]
        args = (ty.burnout_speed_mps, ty.burnout_time_s, ty.coast_decay_time_s)
        path = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(r, axis=0), axis=1))])
        np.testing.assert_allclose(path, flyout_distance_m(t, *args), rtol=1e-9, atol=1e-3)
        np.testing.assert_allclose(v, flyout_speed_mps(t, *args), rtol=1e-12)
        # the closed-form speed is the derivative of the closed-form distance (a central
        # difference, away from the kinks at launch and burnout)
        h = 1e-3
        ts = t[(t > 2 * h) & (np.abs(t - ty.burnout_time_s) > 2 * h)]
        np.testing.assert_allclose(flyout_speed_mps(ts, *args),
                                   (flyout_distance_m(ts + h, *args) - flyout_distance_m(ts - h, *args)) / (2 * h),
                                   rtol=1e-6)


def test_kill_debris_conserves_mass(played):
    scenario, world, result = played
    deb, ic, out = columns(result.debris), columns(result.interceptors), columns(result.outcomes)
    cat = scenario.threat_catalog.section("interceptor")
    types = {b.id: cat[b.type] for b in scenario.batteries}
    truth_kind = dict(zip(columns(result.truth)["object_id"], columns(result.truth)["kind"]))
    for k in np.flatnonzero(ic["result"] == "kill"):
        target = ic["target_object_id"][k]
        frag = deb["cloud_id"] == target
        assert frag.sum() == scenario.debris.fragments
        typ = out["type"][out["object_id"] == target.removesuffix(".booster")][0]
        want = object_mass_kg(world, truth_kind[target], typ) + types[ic["battery_id"][k]].mass_kg
        assert (deb["mass_kg"][frag] * deb["represents"][frag]).sum() == pytest.approx(want, rel=1e-12)
    for k in np.flatnonzero(ic["result"] == "miss"):
        assert (deb["cloud_id"] == ic["interceptor_id"][k]).sum() == 1


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path):
    world = compile_scenario(resolve_scenario("anatolia"), seed=7)
    a, b = run(world), run(compile_scenario(resolve_scenario("anatolia"), seed=7))
    for name in ("events", "interceptors", "debris", "outcomes"):
        write_table(getattr(a, name), tmp_path / f"a_{name}.parquet")
        write_table(getattr(b, name), tmp_path / f"b_{name}.parquet")
        assert (tmp_path / f"a_{name}.parquet").read_bytes() == (tmp_path / f"b_{name}.parquet").read_bytes(), name
    c = run(compile_scenario(resolve_scenario("anatolia"), seed=8))
    # the launches are deterministic physics (the scenario's); the draws are not
    la = [(t, o) for t, k, o in zip(*(columns(a.events)[x] for x in ("time_s", "kind", "object_id"))) if k == "launch"]
    lc = [(t, o) for t, k, o in zip(*(columns(c.events)[x] for x in ("time_s", "kind", "object_id"))) if k == "launch"]
    assert la == lc
    assert columns(a.interceptors)["miss_distance_m"].tolist() != columns(c.interceptors)["miss_distance_m"].tolist()


@pytest.mark.parametrize("pk", [0.3, 0.8, 0.95])
def test_homing_law_is_rayleigh_with_the_kill_probability(pk):
    """P(miss < lethal radius) = pk; the miss distance is Rayleigh (scipy)."""
    lethal = 1.5
    u = (np.arange(20000) + 0.5) / 20000
    miss = homing_miss_distance_m(pk, lethal, u)
    assert np.mean(miss < lethal) == pytest.approx(pk, abs=1e-3)
    scale = lethal / math.sqrt(-2.0 * math.log1p(-pk))
    assert stats.kstest(miss, stats.rayleigh(scale=scale).cdf).pvalue > 0.99  # a deterministic quantile grid


def test_plans_of_tracks_not_revised_keep_their_rounds(monkeypatch):
    """A plan not yet committed for a track that is not fresh this cycle (so not revised)
    still holds its rounds: the next cycle's WTA offers only the rest of the inventory, and
    the plans on record never need more rounds than the battery has."""
    import hoplon.sim.battle as battle

    world = compile_scenario(resolve_scenario("anatolia"))
    calls = []
    real = battle._plan_cycle
    monkeypatch.setattr(battle, "_plan_cycle", lambda *a: (calls.append(a), real(*a))[1])
    run(world)
    # a cycle that planned two or more tracks of ballistic missiles
    pick = next(a for a in calls if a[3].time_s.size >= 2 and int(np.sum(a[4].values > 0)) >= 2)
    w, _, batteries, pic, ev, now, _ = pick
    fresh_batteries = battle._Batteries.of(w)
    plan = battle._Plan()

    def part(k):
        """The picture and evaluation of row k alone (with its predicted flight, if any)."""
        one = type(pic)(*(x[[k]] for x in pic[:6]), [pic.object_id[k]])
        flown = np.flatnonzero(ev.flown == k)  # (its flight's index)
        flights = None
        if flown.size:
            fs, m = ev.flights, int(flown[0])
            span = slice(fs.offsets[m], fs.offsets[m + 1])
            flights = fs._replace(offsets=np.array([0, span.stop - span.start]), time_s=fs.time_s[span],
                                  r_ecef_m=fs.r_ecef_m[span], v_ecef_mps=fs.v_ecef_mps[span])
        sub = ev._replace(rows=[ev.rows[k]], flown=np.zeros(flown.size, np.int64), flights=flights,
                          **{f: getattr(ev, f)[[k]] for f in ("cls", "probs", "values", "kind", "inv_beta")})
        return one, sub

    r0, e0 = part(0)
    real(w, plan, fresh_batteries, r0, e0, now, [])
    held = Counter()
    for row in plan.pending.values():
        held[row["battery_id"]] += row["rounds"]
    assert held, "the first track drew a plan"
    # leave the batteries exactly the rounds the first track's plan holds
    for i, bid in enumerate(fresh_batteries.ids):
        fresh_batteries.rounds[i] = held[bid]
    r1, e1 = part(1)
    real(w, plan, fresh_batteries, r1, e1, now, [])
    total = Counter()
    for row in plan.pending.values():
        total[row["battery_id"]] += row["rounds"]
    for i, bid in enumerate(fresh_batteries.ids):
        assert total[bid] <= fresh_batteries.rounds[i]


def test_compiled_threat_kinematics_keep_numpys_arithmetic():
    """The battle manager's compiled per-row steps give numpy's bits: the class of
    classify_kinematics, a cruise missile faster than 150 m/s by np.linalg.norm, an impact
    predicted when the square root of the velocity covariance's trace is within 300 m/s,
    and the nearest asset an air-breathing track passes within its radius + 5 km (the
    broadcast formulation, clipped to the 1800 s horizon)."""
    import hoplon.sim.battle as battle
    from hoplon.core.frames import geodetic_to_ecef
    from hoplon.core.threat import CLASS_BALLISTIC, classify_kinematics

    rng = np.random.default_rng(11)
    n = 4000
    r = geodetic_to_ecef(rng.uniform(30.0, 45.0, n), rng.uniform(25.0, 50.0, n), rng.uniform(0.0, 60e3, n))
    v = rng.normal(size=(n, 3)) * rng.choice([1.0, 150.0 / np.sqrt(3.0), 1000.0], n)[:, None]  # some about 150 m/s
    x = np.concatenate([r, v], axis=1)
    cov = np.zeros((n, 6, 6))
    cov[:, 3:6, 3:6] = np.eye(3) * rng.uniform(0.0, 2 * 300.0**2 / 3, n)[:, None, None]
    cls, kind, predictable = battle._kinematics(x, cov)
    speed = np.linalg.norm(x[:, 3:6], axis=1)
    np.testing.assert_array_equal(cls, classify_kinematics(x))
    np.testing.assert_array_equal(kind, np.where(cls == CLASS_BALLISTIC, 0, np.where(speed > 150.0, 1, 2)))
    sigma = np.sqrt(np.trace(cov[:, 3:6, 3:6], axis1=1, axis2=2))
    np.testing.assert_array_equal(predictable, (cls == CLASS_BALLISTIC) & (sigma <= 300.0))
    assert predictable.any() and not predictable.all() and (kind == 1).any() and (kind == 2).any()

    assets = geodetic_to_ecef(rng.uniform(35.0, 40.0, 6), rng.uniform(30.0, 40.0, 6), np.zeros(6))
    radius = rng.uniform(2e3, 20e3, 6)
    start = assets[rng.integers(0, 6, n)] + rng.normal(size=(n, 3)) * 1e5
    aim = assets[rng.integers(0, 6, n)] + rng.normal(size=(n, 3)) * 1e4
    x = np.concatenate([start, (aim - start) / rng.uniform(100.0, 3000.0, (n, 1))], axis=1)
    x[:10, 3:6] = 0.0  # standing still
    p, vel = x[:, None, :3], x[:, None, 3:6]
    d = assets[None] - p
    t = np.clip((d * vel).sum(axis=2) / np.maximum((vel * vel).sum(axis=2), 1e-9), 0.0, 1800.0)
    miss = np.linalg.norm(d - vel * t[..., None], axis=2)
    hit = miss <= radius + 5e3
    want = np.zeros(hit.shape)
    want[np.flatnonzero(hit.any(axis=1)), np.argmin(np.where(hit, miss, np.inf), axis=1)[hit.any(axis=1)]] = 1.0
    np.testing.assert_array_equal(battle._air_threat(x, assets, radius), want)
    assert 0 < want.sum() < n
