"""Interceptor fly-out, engagement windows, the interceptor catalog and the battle manager.

Oracles: the fly-out model's closed form (uniform acceleration; the coast integral done
numerically by scipy), a per-pair loop over the window rules written here, the public
figures the catalog cites, and geometric checks of the engagement plan of `anatolia`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from hoplon.core.engagement import (
    FlyoutParameters,
    engagement_windows,
    flyout_distance_m,
    flyout_time_s,
)
from hoplon.core.frames import ecef_to_geodetic, geodetic_to_ecef


def test_flyout_boost_phase_is_uniform_acceleration():
    vb, tb, tau = 1700.0, 6.0, 30.0
    for t in (0.5, 3.0, 6.0):
        d = 0.5 * (vb / tb) * t**2
        assert flyout_time_s(d, vb, tb, tau) == pytest.approx(t, rel=1e-12)


def test_flyout_coast_distance_is_the_integral_of_the_speed_law():
    vb, tb, tau = 2800.0, 15.0, 150.0
    for t in (20.0, 60.0, 110.0):
        coast, _ = quad(lambda s: vb / (1.0 + (s - tb) / tau), tb, t)
        expected = 0.5 * vb * tb + coast
        assert flyout_distance_m(t, vb, tb, tau) == pytest.approx(expected, rel=1e-10)
        assert flyout_time_s(expected, vb, tb, tau) == pytest.approx(t, rel=1e-10)


@settings(max_examples=200, deadline=None)
@given(st.floats(1.0, 3e5), st.floats(100.0, 4000.0), st.floats(1.0, 60.0), st.floats(5.0, 2000.0))
def test_flyout_time_and_distance_are_inverse_and_increasing(d, vb, tb, tau):
    t = flyout_time_s(d, vb, tb, tau)
    assume(t < 1e6)
    assert flyout_distance_m(t, vb, tb, tau) == pytest.approx(d, rel=1e-9)
    assert flyout_time_s(d * 1.01, vb, tb, tau) > t


def _params(**over):
    base = dict(burnout_speed_mps=[1700.0, 2800.0], burnout_time_s=[6.0, 15.0], coast_decay_time_s=[30.0, 150.0],
                max_flight_time_s=[60.0, 120.0], min_range_m=[3e3, 20e3], max_range_m=[40e3, 200e3],
                min_altitude_m=[50.0, 40e3], max_altitude_m=[25e3, 150e3], launch_delay_s=[5.0, 8.0])
    base.update(over)
    return FlyoutParameters(*(np.asarray(base[f], float) for f in FlyoutParameters._fields))


def test_engagement_windows_match_a_per_pair_loop():
    rng = np.random.default_rng(3)
    batteries = np.atleast_2d(geodetic_to_ecef(np.array([37.0, 37.5]), np.array([35.4, 36.5]), np.array([70.0, 500.0])))
    n_threats, n_samples = 5, 80
    times = 1000.0 + np.arange(n_samples)[None, :] * 2.0 + rng.uniform(0, 1, (n_threats, 1))
    lat = 37.0 + rng.uniform(-1.5, 1.5, (n_threats, 1)) + np.linspace(0, 0.5, n_samples)[None, :]
    lon = 35.5 + rng.uniform(-1.0, 2.0, (n_threats, 1)) - np.linspace(0, 1.0, n_samples)[None, :]
    alt = np.clip(rng.uniform(0, 160e3, (n_threats, 1)) - np.linspace(0, 150e3, n_samples)[None, :], 0, None)
    pos = np.asarray(geodetic_to_ecef(lat.ravel(), lon.ravel(), alt.ravel())).reshape(n_threats, n_samples, 3)
    times[1, 60:] = np.nan  # a short path
    params = _params()
    now = 1010.0
    not_before = np.array([0.0, 0.0, 1040.0, 0.0, 0.0])
    win = engagement_windows(batteries, params, times, pos, alt, now, not_before)
    for b in range(2):
        vb, tb, tau = params.burnout_speed_mps[b], params.burnout_time_s[b], params.coast_decay_time_s[b]
        for j in range(n_threats):
            feasible = []
            for k in range(n_samples):
                if not math.isfinite(times[j, k]):
                    feasible.append(False)
                    continue
                d = math.dist(pos[j, k], batteries[b])
                # time to fly d: solve the fly-out law by bisection (independent of the closed form)
                lo, hi = 0.0, 1e4
                for _ in range(200):
                    mid = 0.5 * (lo + hi)
                    dist = 0.5 * vb / tb * mid**2 if mid <= tb else 0.5 * vb * tb + vb * tau * math.log1p((mid - tb) / tau)
                    lo, hi = (mid, hi) if dist < d else (lo, mid)
                fly = 0.5 * (lo + hi)
                launch = times[j, k] - fly - params.launch_delay_s[b]
                feasible.append(
                    params.min_range_m[b] <= d <= params.max_range_m[b]
                    and params.min_altitude_m[b] <= alt[j, k] <= params.max_altitude_m[b]
                    and fly <= params.max_flight_time_s[b] and launch >= max(now, not_before[j]) - 1e-9
                )
            assert win.feasible[b, j].tolist() == feasible, (b, j)
            idx = np.flatnonzero(feasible)
            assert win.first[b, j] == (idx[0] if idx.size else -1)
            assert win.last[b, j] == (idx[-1] if idx.size else -1)
    assert win.feasible.any() and not win.feasible.all()


# --------------------------------------------------------------------------- catalog


def test_interceptor_catalog_carries_the_public_figures_and_sources():
    from hoplon.scenario.catalog import load_packaged_catalog

    cat = load_packaged_catalog().interceptor
    thaad = cat["upper-tier-thaad-class"]
    assert thaad.max_range_m == 200e3 and thaad.min_altitude_m == 40e3 and thaad.max_altitude_m == 150e3
    assert thaad.launchers * thaad.rounds_per_launcher == 48  # 6 launchers x 8 (U.S. Army, MDA)
    pac3 = cat["lower-tier-pac3-class"]
    assert 30e3 <= pac3.max_range_m <= 40e3 and set(pac3.pk) >= {"ballistic", "drone", "aircraft"}
    assert cat["exo-sm3-class"].min_altitude_m >= 70e3  # exo-atmospheric
    assert "drone" in cat["counter-drone-short-range-class"].pk
    for name, t in cat.items():
        assert t.sources and any("notional" in s.lower() for s in t.sources), name
        # the fly-out model reaches max_range within max_flight_time
        assert flyout_time_s(t.max_range_m, t.burnout_speed_mps, t.burnout_time_s, t.coast_decay_time_s) <= t.max_flight_time_s, name


# --------------------------------------------------------------------------- the engagement plan of anatolia


@pytest.fixture(scope="module")
def anatolia_run():
    from hoplon.scenario.builtins import resolve_scenario
    from hoplon.sim.engine import run
    from hoplon.sim.world import compile_scenario

    return run(compile_scenario(resolve_scenario("anatolia")))


def test_anatolia_plan_respects_windows_inventories_and_doctrine(anatolia_run):
    from hoplon.scenario.catalog import load_packaged_catalog

    result = anatolia_run
    sc = result.world.scenario
    cat = load_packaged_catalog().interceptor
    bats = {b.id: b for b in sc.batteries}
    e = result.engagements.to_pydict()
    n = len(e["track_id"])
    assert n > 0
    assert {"incirlik-patriot", "emed-aegis"} <= set(e["battery_id"])
    used: dict[str, int] = {}
    for k in range(n):
        b = bats[e["battery_id"][k]]
        t = cat[b.type]
        site = geodetic_to_ecef(b.lat_deg, b.lon_deg, b.alt_m)
        point = geodetic_to_ecef(e["intercept_lat_deg"][k], e["intercept_lon_deg"][k], e["intercept_alt_m"][k])
        d = float(np.linalg.norm(point - site))
        assert t.min_range_m <= d <= t.max_range_m
        assert t.min_altitude_m <= e["intercept_alt_m"][k] <= t.max_altitude_m
        fly = flyout_time_s(d, t.burnout_speed_mps, t.burnout_time_s, t.coast_decay_time_s)
        assert e["intercept_time_s"][k] - e["launch_time_s"][k] == pytest.approx(fly + t.launch_delay_s, abs=1e-6)
        assert e["launch_time_s"][k] >= e["planned_at_s"][k] - 1e-9
        assert e["window_open_s"][k] <= e["intercept_time_s"][k] <= e["window_close_s"][k]
        assert e["pk"][k] == t.pk["ballistic"]
        assert e["doctrine"][k] in ("shoot-look-shoot", "shoot-shoot")
        assert 1 <= e["rounds"][k] <= b.doctrine.salvo
        if e["committed"][k]:
            used[b.id] = used.get(b.id, 0) + e["rounds"][k]
    for bid, rounds in used.items():
        t = cat[bats[bid].type]
        assert rounds <= t.launchers * t.rounds_per_launcher
    # shoot-look-shoot: a later shot at a track launches after the earlier one is assessed
    by_track: dict[int, list[int]] = {}
    for k in range(n):
        if e["committed"][k]:
            by_track.setdefault(e["track_id"][k], []).append(k)
    for ks in by_track.values():
        ks.sort(key=lambda k: e["launch_time_s"][k])
        for a, b in zip(ks, ks[1:]):
            delay = bats[e["battery_id"][a]].doctrine.kill_assessment_delay_s
            assert e["launch_time_s"][b] >= e["intercept_time_s"][a] + delay - 1e-6


def test_anatolia_threat_evaluation_and_events(anatolia_run):
    result = anatolia_run
    kinds = result.events.column("kind").to_pylist()
    assert "classified" in kinds and "engagement_planned" in kinds
    ev = result.threat_evaluations.to_pydict()
    missiles = {o for o, c in zip(ev["object_id"], ev["classification"]) if c == "ballistic" and o and "booster" not in o}
    assert {"day1-mrbm-1", "day1-mrbm-2", "day2-mrbm-1", "day2-mrbm-2"} <= missiles
    # the last prediction of each missile's track names Incirlik, the aim of all four, or
    # Adana (9 km away, radius 10 km) when a midcourse kill ended the track while its
    # ellipse was still tens of km wide
    last: dict[str, int] = {}
    for k, oid in enumerate(ev["object_id"]):
        if oid in missiles and math.isfinite(ev["impact_lat_deg"][k]):
            last[oid] = k
    named = {ev["threatened_asset"][k] for k in last.values()}
    assert "Incirlik Air Base" in named and named <= {"Incirlik Air Base", "Adana"}
    geo = ecef_to_geodetic(geodetic_to_ecef(37.0, 35.4, 0.0))
    assert abs(float(geo.lat_deg) - 37.0) < 1e-9  # frames sanity for the checks above


def test_anatolia_reinforced_differs_from_anatolia_only_by_the_defence():
    from hoplon.scenario.builtins import resolve_scenario

    base, reinforced = resolve_scenario("anatolia"), resolve_scenario("anatolia-reinforced")
    assert reinforced.threats == base.threats and reinforced.assets == base.assets and reinforced.seed == base.seed
    assert {s.id for s in base.sensors} < {s.id for s in reinforced.sensors}
    assert {b.id for b in base.batteries} < {b.id for b in reinforced.batteries}
    assert any(b.type == "upper-tier-thaad-class" for b in reinforced.batteries)
