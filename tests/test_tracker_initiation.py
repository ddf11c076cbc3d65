"""hoplon.core.tracker's two-point track initiation (TrackerConfig(initiation="two-point")).

An unclaimed measurement waits as an initiator; a later one within its velocity gate
starts a track whose state is the pair's two-point differencing (Blackman & Popoli
1999, ch. 9; Bar-Shalom, Willett & Tian 2011): position p_b, velocity
(p_b - p_a) / dt, covariances R_b, (R_a + R_b) / dt^2 and R_b / dt. The checks: that
state and covariance against a straight-line target measured without noise (the
measurement covariances propagated here by a numerical Jacobian of pymap3d's
conversion), confirmation after as many hits as single-point initiation, clutter
starting only the tracks its density predicts, the velocity gate's bound, the greedy
pairing, and the compiled paths (feed, process_scan) against add_scan and the general
path, bit for bit (test_tracker_batch's scenarios).
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
import pytest
from test_tracker import (
    ELL,
    SIGMA,
    SITE,
    Truth,
    _run_paths,
    aer_rad,
    assert_same_output,
    cv_target,
    make_scans,
    sensor,
)
from test_tracker_batch import (
    CONFIGS,
    FOUR_TARGETS,
    SENSORS,
    as_batch,
    assert_same_snapshots,
    indexed,
    step_fed,
    step_one_by_one,
    two_sensor_scans,
)

from hoplon.core import _tracker_kernels as K
from hoplon.core.tracker import Scan, Tracker, TrackerConfig

TWO_POINT = {"initiation": "two-point"}


def ecef_of(z, site=SITE) -> np.ndarray:
    """ECEF position of a range/azimuth/elevation measurement (pymap3d)."""
    return np.array(pymap3d.aer2ecef(math.degrees(z[1]), math.degrees(z[2]), z[0], *site, ell=ELL, deg=True))


def ecef_covariance(z, sigma=SIGMA, site=SITE) -> np.ndarray:
    """J diag(sigma^2) J^T, J the central-difference Jacobian of :func:`ecef_of`."""
    J = np.empty((3, 3))
    for a, h in enumerate((1.0, 1e-7, 1e-7)):
        dz = np.zeros(3)
        dz[a] = h
        J[:, a] = (ecef_of(z + dz, site) - ecef_of(z - dz, site)) / (2 * h)
    return J @ np.diag(np.square(sigma)) @ J.T


def one_target_scans(times, ve=200.0, vn=-100.0, vu=5.0):
    """A straight-line target 60 km east, 40 km north, 8 km up, measured without noise."""
    r0, v = cv_target(60, 40, 8, ve, vn, vu)
    scans = [Scan(float(t), 0, aer_rad(r0 + v * t, SITE)[None], label=np.array([0])) for t in times]
    return scans, v


# --------------------------------------------------------------------------- the two-point state


@pytest.mark.parametrize("fast", [True, False], ids=["compiled", "general"])
def test_two_point_state_is_the_pairs_differencing(fast):
    cfg = TrackerConfig(motion="ca", confirm_m=3, confirm_n=4, **TWO_POINT)
    tracker = Tracker([sensor()], cfg)
    tracker._fast = fast
    scans, v = one_target_scans([0.0, 4.0])
    tracker.add_scan(scans[0])
    assert len(tracker.tracks) == 0 and tracker._ini.n == 1  # an initiator, no track
    tracker.add_scan(scans[1])
    tr = tracker.tracks
    assert len(tr) == 1 and tracker._ini.n == 0
    dt = 4.0
    za, zb = scans[0].z[0], scans[1].z[0]
    pa, pb = ecef_of(za), ecef_of(zb)
    Ra, Rb = ecef_covariance(za), ecef_covariance(zb)
    x, P = tr.x[0], tr.P[0]
    np.testing.assert_allclose(x[:3], pb, rtol=0, atol=1e-4)
    np.testing.assert_allclose(x[3:6], (pb - pa) / dt, rtol=0, atol=1e-4)
    np.testing.assert_allclose(x[3:6], v, rtol=0, atol=1e-4)  # a straight line: the true velocity
    scale = np.abs(Rb).max()
    np.testing.assert_allclose(P[:3, :3], Rb, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(P[:3, 3:6], Rb / dt, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(P[3:6, :3], Rb / dt, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(P[3:6, 3:6], (Ra + Rb) / dt**2, rtol=0, atol=1e-6 * scale)
    # the acceleration at its prior, uncorrelated
    np.testing.assert_array_equal(x[6:], tracker._prior_mean[6:])
    np.testing.assert_array_equal(P[6:, 6:], np.diag(tracker._prior_var[6:]))
    assert not P[:6, 6:].any() and not P[6:, :6].any()
    # two hits, both measurements logged (with their own times) for the new track
    assert (tr.history[0], tr.opportunities[0], tr.updates[0], tr.last_update[0]) == (0b11, 2, 2, 4.0)
    assert not tr.confirmed[0]
    out = tracker.finish()
    np.testing.assert_array_equal(out.log_time_s, [0.0, 4.0])
    np.testing.assert_array_equal(out.log_track_id, [tr.id[0], tr.id[0]])
    np.testing.assert_array_equal(out.log_label, [0, 0])


@pytest.mark.parametrize(("m", "n"), [(2, 2), (3, 4), (4, 5)])
def test_a_target_is_confirmed_after_as_many_hits_as_with_single_point(m, n):
    """M-of-N counts the pair's two measurements: a target seen every scan is confirmed
    at its M-th measurement either way."""
    scans, _ = one_target_scans(np.arange(0.0, 20.0, 2.0))
    for initiation in ("single-point", "two-point"):
        out = Tracker([sensor()], TrackerConfig(confirm_m=m, confirm_n=n, initiation=initiation))
        for s in scans:
            out.add_scan(s)
        confirmed = [(t, tid) for t, tid, kind in out.finish().events if kind == "confirmed"]
        assert confirmed == [(scans[m - 1].time_s, 1)], initiation


def test_clutter_alone_starts_only_the_tracks_its_density_predicts():
    """Clutter of 2 false alarms a scan, every 2 s, uniform in range (20-200 km),
    azimuth and elevation (0-0.2 rad): spatial density f = 1 / (180 km 2 pi 0.2 r^2
    cos(el)). Two false alarms lie within D of each other with probability ~
    (4/3) pi D^3 E[f] (D small against the ranges), E[f] = E[1/r^2] E[1/cos(el)] /
    (180 km 2 pi 0.2); so a false alarm starts at most 2 sum_k (4/3) pi (v_max k 2 s)^3
    E[f] tracks on average over the earlier scans k = 1..7 within the initiators' 15 s
    (the gate's 3-sigma margin, ~0.5 km, neglected). Single-point initiation starts a
    track from every false alarm."""
    rng = np.random.default_rng(40)
    times = np.arange(0.0, 1200.0, 2.0)
    scans = make_scans(Truth(), times, rng, clutter_per_scan=2.0)
    n_false = sum(len(s.z) for s in scans)
    v_max, r0, r1 = 300.0, 20e3, 200e3
    mean_inv_r2 = (1 / r0 - 1 / r1) / (r1 - r0)
    mean_inv_cos = math.log(1 / math.cos(0.2) + math.tan(0.2)) / 0.2
    mean_f = mean_inv_r2 * mean_inv_cos / ((r1 - r0) * 2 * math.pi * 0.2)
    expected = 2 * sum(4 / 3 * math.pi * (v_max * 2.0 * k) ** 3 for k in range(1, 8)) * mean_f
    started = {}
    for initiation in ("single-point", "two-point"):
        tracker = Tracker([sensor()], TrackerConfig(confirm_m=3, confirm_n=4, initiation=initiation,
                                                     initiation_max_speed_mps=v_max))
        for s in scans:
            tracker.add_scan(s)
        out = tracker.finish()
        assert not [e for e in out.events if e[2] == "confirmed"]
        started[initiation] = tracker.next_id - 1
    assert started["single-point"] > 0.9 * n_false
    assert started["two-point"] < 2.0 * expected * n_false + 5
    assert started["two-point"] < 0.02 * n_false


@pytest.mark.parametrize("fast", [True, False], ids=["compiled", "general"])
def test_the_velocity_gate_bounds_the_pairs_displacement(fast):
    """A target just faster than the gate |p_b - p_a| <= v_max dt + 3 sqrt(tr R_a +
    tr R_b) starts no track; one just slower does."""
    dt, v_max = 5.0, 1500.0
    r0, _ = cv_target(60, 40, 8, 0, 0)
    za = aer_rad(r0, SITE)
    east = np.array(pymap3d.enu2uvw(1.0, 0.0, 0.0, SITE[0], SITE[1], deg=True))
    tr_a = np.trace(ecef_covariance(za))
    reach = v_max * dt
    for _ in range(2):  # the margin with R_b where b is (it moves b by ~20 m: R_b changes negligibly)
        reach = v_max * dt + 3 * math.sqrt(tr_a + np.trace(ecef_covariance(aer_rad(r0 + reach * east, SITE))))
    for extra, tracks in ((-10.0, 1), (10.0, 0)):
        tracker = Tracker([sensor()], TrackerConfig(initiation="two-point", initiation_max_speed_mps=v_max))
        tracker._fast = fast
        tracker.add_scan(Scan(0.0, 0, za[None]))
        tracker.add_scan(Scan(dt, 0, aer_rad(r0 + (reach + extra) * east, SITE)[None]))
        assert len(tracker.tracks) == tracks
        assert tracker._ini.n == 2 - 2 * tracks


def test_pairs_are_taken_by_smallest_speed_and_initiators_expire():
    """Kernel level: initiators a0, a1 at t = 0 and a2 at t = -20 (older than 15 s);
    measurements at t = 10, b0 (510 m/s from a0, 100 m/s from a1) and b1 (200 m/s from
    a0, 540 m/s from a1): b0 pairs with a1 (the slowest pair), then b1 with a0; a2 is dropped."""
    I3 = np.eye(3)
    pos_a = np.array([[6.4e6, 0.0, 0.0], [6.4e6, 5000.0, 0.0], [6.4e6, 0.0, 900.0]])
    pos_b = np.array([[6.4e6, 5000.0, 1000.0], [6.4e6, 0.0, -2000.0]])
    cap = 8
    ini_t = np.zeros(cap)
    ini_t[2] = -20.0
    ini_pos = np.zeros((cap, 3))
    ini_pos[:3] = pos_a
    ini_cov = np.zeros((cap, 3, 3))
    ini_cov[:3] = I3
    ini_bit, ini_index, ini_label = np.ones(cap, np.int64), np.arange(cap, dtype=np.int64), np.full(cap, -1, np.int64)
    n, q, t_a, bit, index, label, x, P = K.two_point_initiate(
        10.0, pos_b, np.stack([I3, I3]), np.int64(2), np.array([10, 11]), np.array([5, 6]), 1500.0, 15.0, 3, ini_t,
        ini_pos, ini_cov, ini_bit, ini_index, ini_label, np.zeros(6), np.ones(6))
    assert n == 0
    np.testing.assert_array_equal(q, [0, 1])
    np.testing.assert_array_equal(index, [1, 0])  # b0 with a1, b1 with a0
    np.testing.assert_array_equal(t_a, [0.0, 0.0])
    np.testing.assert_array_equal(bit, [1, 1])
    np.testing.assert_array_equal(label, [-1, -1])
    np.testing.assert_allclose(x[:, 3:6], [[0.0, 0.0, 100.0], [0.0, 0.0, -200.0]])
    np.testing.assert_allclose(P[:, 3:6, 3:6], np.broadcast_to(2 * I3 / 100.0, (2, 3, 3)))
    # alone, b0 pairs with a1 too, and a0 waits on
    n, q, *_ = K.two_point_initiate(
        10.0, pos_b[:1], I3[None], np.int64(2), np.array([10]), np.array([5]), 1500.0, 15.0, 2, np.zeros(cap), ini_pos.copy(),
        ini_cov.copy(), ini_bit, ini_index.copy(), ini_label, np.zeros(6), np.ones(6))
    assert n == 1 and list(q) == [0]


# --------------------------------------------------------------------------- the compiled paths, bit for bit


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_feed_gives_add_scans_output_bit_for_bit(config):
    """test_tracker_batch's two-radar scenario with two-point initiation: Tracker.feed in
    5 s steps against add_scan + advance (the same confirmed tracks after every step and
    the same outputs), and the compiled scan path against the general path."""
    scans = indexed(two_sensor_scans(21))
    untils = np.arange(5.0, 65.0, 5.0)
    cfg = TrackerConfig(**config, **TWO_POINT)
    one, fed = Tracker(SENSORS, cfg), Tracker(SENSORS, cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    out = fed.finish()
    assert out.time_s.size > 0 and len(out.events) > 0
    assert_same_output(out, one.finish())
    fast, general, statuses = _run_paths(SENSORS, scans, cfg)
    assert_same_output(fast, general)
    assert_same_output(fast, out)
    assert statuses[K.SCAN_DONE] > 0.5 * len(scans)


def test_feed_with_dropped_labels_and_growing_buffers():
    """Measurements of dropped labels left out, then a burst of 300 false alarms that
    outgrows the initiator store within one feed call: feed against add_scan."""
    rng = np.random.default_rng(41)
    quiet = make_scans(FOUR_TARGETS, np.arange(0.0, 8.0, 2.0), rng, sigma_per_meas=True)
    busy = make_scans(FOUR_TARGETS, np.arange(8.0, 20.0, 2.0), rng, clutter_per_scan=300.0, sigma_per_meas=True)
    scans = indexed(quiet + busy)
    drop = np.array([9.0, np.inf, np.inf, np.inf])
    cfg = TrackerConfig(**CONFIGS["imm-ballistic"], **TWO_POINT)
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    assert_same_snapshots(step_one_by_one(one, scans, [5.0, 100.0], drop), step_fed(fed, as_batch(scans), [5.0, 100.0], drop))
    out = fed.finish()
    assert_same_output(out, one.finish())
    assert fed._ini.n > 300
    assert not np.isin(out.log_label[out.log_time_s > 9.0], [0]).any()


def test_scans_handed_to_the_general_path_keep_the_initiators():
    """Eight targets in a 400 m formation (assignment conflicts) and a burst of clutter
    beyond the dense gating limit: the scans feed hands to the general path pair with
    the initiators the compiled path stored, and the outputs are add_scan's."""
    rng = np.random.default_rng(42)
    formation = Truth(lines=[cv_target(50 + 0.1 * (k % 4), 40 + 0.1 * (k // 4), 6, 180, 20) for k in range(8)])
    scans = make_scans(formation, np.arange(0.0, 30.0, 2.0), rng, sigma_per_meas=True)
    scans += make_scans(FOUR_TARGETS, [30.0, 32.0], rng, clutter_per_scan=500.0, sigma_per_meas=True)
    scans = indexed(scans)
    cfg = TrackerConfig(dense_gating_limit=2000, **TWO_POINT)
    untils = np.arange(5.0, 40.0, 5.0)
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    assert_same_output(fed.finish(), one.finish())
    fast, general, statuses = _run_paths([sensor()], scans, cfg)
    assert_same_output(fast, general)
    assert statuses[K.SCAN_CONFLICT] > 0 and statuses[K.SCAN_SLOW] > 0


def test_initiation_must_be_known():
    with pytest.raises(ValueError, match="initiation"):
        TrackerConfig(initiation="three-point")
    with pytest.raises(ValueError, match="initiation_max"):
        TrackerConfig(initiation="two-point", initiation_max_age_s=0.0)


# --------------------------------------------------------------------------- the engine's initiators


def test_engine_initiators_wait_for_the_slowest_radars_next_scan():
    """A world's tracker: two-point initiators wait 1.1 scan periods of its slowest radar
    (the classic two-scan logic; in `anatolia` the X-band radar's 5 s and the fire-control
    radar's 2 s from the packaged catalog, so 5.5 s), unless the scenario sets the wait;
    and with that wait every radar can still pair two consecutive scans of its own: a
    target seen every 5 s starts a track on its second scan, one seen every 6 s none."""
    from hoplon.scenario.builtins import resolve_scenario
    from hoplon.scenario.catalog import load_packaged_catalog
    from hoplon.scenario.schema import TrackerSettings
    from hoplon.sim.world import compile_scenario

    scenario = resolve_scenario("anatolia")
    radars = load_packaged_catalog().radar
    assert sorted(radars[s.type].scan_period_s for s in scenario.sensors if s.type in radars) == [2.0, 5.0]
    assert compile_scenario(scenario).tracker.initiation_max_age_s == pytest.approx(1.1 * 5.0)
    given = scenario.model_copy(update={"tracker": TrackerSettings(initiation_max_age_s=9.0)})
    assert compile_scenario(given).tracker.initiation_max_age_s == 9.0
    for period, tracks in ((5.0, 1), (6.0, 0)):
        tracker = Tracker([sensor()], TrackerConfig(initiation="two-point", initiation_max_age_s=5.5))
        for scan in one_target_scans([0.0, period])[0]:
            tracker.add_scan(scan)
        assert len(tracker.tracks) == tracks
