"""hoplon.core.tracker on synthetic scenarios generated here.

A radar at a WGS84 site watches a few targets flying straight lines (constant velocity
in ECEF) or ballistic arcs (hoplon.core.ballistic.sample_flight from a burnout state);
its measurements are pymap3d's range/azimuth/elevation of the truth plus Gaussian noise
of known sigmas, with optional uniform clutter. The checks: M-of-N confirmation and
deletion after misses, one track per target and its error against the measurement
accuracy propagated to position, no confirmed tracks from scattered false alarms,
determinism, out-of-order arrival within the latency window, rejection of late scans,
two-sensor fusion, GNN and JPDA, IMM and ballistic motion, empty input.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pymap3d
import pytest

from hoplon.core import _tracker_kernels as K
from hoplon.core.ballistic import sample_flight
from hoplon.core.tracker import Scan, SensorInfo, Tracker, TrackerConfig, track_all

ELL = pymap3d.Ellipsoid.from_name("wgs84")
SITE = (45.0, 10.0, 200.0)  # lat, lon (deg), alt (m)
SIGMA = (30.0, 1e-3, 1e-3)  # range (m), azimuth, elevation (rad)


# --------------------------------------------------------------------------- scenarios


def sensor(site=SITE, sigma=SIGMA, name="radar") -> SensorInfo:
    return SensorInfo(name, site[0], site[1], site[2], sigma[0], sigma[1], sigma[2])


def cv_target(east_km, north_km, up_km, ve, vn, vu=0.0, site=SITE):
    """ECEF start position and velocity of a straight-line target given in the site's ENU."""
    r0 = np.array(pymap3d.enu2ecef(east_km * 1e3, north_km * 1e3, up_km * 1e3, *site, ell=ELL, deg=True))
    v = np.array(pymap3d.enu2uvw(ve, vn, vu, site[0], site[1], deg=True))
    return r0, v


class Truth:
    """Piecewise truth: straight lines (r0 + v t) or sampled ballistic flights."""

    def __init__(self, lines=(), flights=()):
        self.lines = list(lines)
        self.flights = list(flights)  # (times, positions, velocities)

    def __len__(self):
        return len(self.lines) + len(self.flights)

    def state(self, k: int, t: float) -> np.ndarray:
        if k < len(self.lines):
            r0, v = self.lines[k]
            return np.concatenate([r0 + v * t, v])
        times, r, v = self.flights[k - len(self.lines)]
        i = int(np.argmin(np.abs(times - t)))
        assert abs(times[i] - t) < 1e-6, "scan times must be on the flight's sample grid"
        return np.concatenate([r[i], v[i]])


def aer_rad(r: np.ndarray, site) -> np.ndarray:
    az, el, rg = pymap3d.ecef2aer(r[..., 0], r[..., 1], r[..., 2], *site, ell=ELL, deg=True)
    return np.stack([rg, np.radians(az), np.radians(el)], axis=-1)


def make_scans(truth: Truth, times, rng, *, sensor_index=0, site=SITE, sigma=SIGMA, pd=1.0,
               clutter_per_scan=0.0, present=None, sigma_per_meas=False):
    """One scan per time: each target detected with probability ``pd`` (and only where
    ``present(k, t)``), measured with Gaussian noise; Poisson clutter uniform in range
    20-200 km, all azimuths, elevation 0-0.2 rad; rows shuffled; labels = target index
    (-1 clutter)."""
    scans = []
    s = np.asarray(sigma, dtype=float)
    for t in times:
        rows, labels = [], []
        for k in range(len(truth)):
            if present is not None and not present(k, t):
                continue
            if rng.random() >= pd:
                continue
            z = aer_rad(truth.state(k, t)[:3], site) + rng.normal(size=3) * s
            rows.append(z)
            labels.append(k)
        for _ in range(rng.poisson(clutter_per_scan)):
            rows.append([rng.uniform(20e3, 200e3), rng.uniform(0, 2 * math.pi), rng.uniform(0.0, 0.2)])
            labels.append(-1)
        z = np.array(rows, dtype=float).reshape(-1, 3)
        z[:, 1] %= 2 * math.pi
        order = rng.permutation(len(z))
        lab = np.array(labels, dtype=np.int64)[order]
        sig = np.tile(s, (len(z), 1)) if sigma_per_meas else None
        scans.append(Scan(time_s=float(t), sensor=sensor_index, z=z[order], sigma=sig, label=lab))
    return scans


def track_labels(out) -> dict[int, int]:
    """The target most of each track's updates came from (-1: clutter)."""
    counts: dict[int, Counter] = {}
    for tid, lab in zip(out.log_track_id.tolist(), out.log_label.tolist()):
        counts.setdefault(tid, Counter())[lab] += 1
    return {tid: c.most_common(1)[0][0] for tid, c in counts.items()}


def confirmed_ids(out) -> list[int]:
    return sorted({tid for _, tid, kind in out.events if kind == "confirmed"})


def position_sigma_bound(truth_pos: np.ndarray, site=SITE, sigma=SIGMA) -> np.ndarray:
    """One measurement's position error (m, RMS of the 3 axes combined) at the target's
    range: sqrt(sigma_r^2 + (r sigma_az)^2 + (r sigma_el)^2)."""
    r = aer_rad(truth_pos, site)[..., 0]
    return np.sqrt(sigma[0] ** 2 + (r * sigma[1]) ** 2 + (r * sigma[2]) ** 2)


def track_errors(out, truth: Truth, *, skip: int = 10):
    """Per confirmed track: its target, RMS position error over its rows after the first
    ``skip``, and the RMS measurement position error bound over the same rows."""
    labels = track_labels(out)
    result = {}
    for tid in np.unique(out.track_id):
        rows = np.flatnonzero(out.track_id == tid)[skip:]
        k = labels[int(tid)]
        if k < 0 or rows.size == 0:
            result[int(tid)] = (k, math.inf, 0.0)
            continue
        true = np.array([truth.state(k, t)[:3] for t in out.time_s[rows]])
        err = np.linalg.norm(out.state[rows, :3] - true, axis=1)
        bound = position_sigma_bound(true)
        result[int(tid)] = (k, float(np.sqrt(np.mean(err**2))), float(np.sqrt(np.mean(bound**2))))
    return result


def assert_same_output(a, b):
    for name in a._fields:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name


FOUR_TARGETS = Truth(lines=[
    cv_target(40, 60, 5, 200, -50),
    cv_target(-70, 30, 8, 150, 120),
    cv_target(-20, -90, 3, -100, 180),
    cv_target(80, -40, 10, -220, 0, 5),
])


# --------------------------------------------------------------------------- confirmation and deletion


@pytest.mark.parametrize(("m", "n"), [(2, 2), (3, 3), (2, 3), (3, 4)])
def test_tracks_confirm_after_m_hits(m, n):
    rng = np.random.default_rng(1)
    times = np.arange(0.0, 20.0, 2.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50)])
    out = track_all([sensor()], make_scans(truth, times, rng), TrackerConfig(confirm_m=m, confirm_n=n))
    confirmed = [(t, tid) for t, tid, kind in out.events if kind == "confirmed"]
    assert len(confirmed) == 1
    t_conf, tid = confirmed[0]
    assert t_conf == times[m - 1]  # the M-th hit (Pd = 1: every scan is a hit)
    # rows of a track only once it is confirmed, every scan after
    np.testing.assert_array_equal(out.time_s, times[m - 1 :])
    assert np.all(out.track_id == tid)


def test_two_of_three_confirms_through_one_miss():
    rng = np.random.default_rng(2)
    times = np.arange(0.0, 20.0, 2.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50)])
    scans = make_scans(truth, times, rng, present=lambda k, t: t != 2.0)  # missed at the 2nd scan
    out = track_all([sensor()], scans, TrackerConfig(confirm_m=2, confirm_n=3))
    assert [(t, kind) for t, _, kind in out.events] == [(4.0, "confirmed")]
    # with 2 of 2 the miss kills the tentative track; the next two hits confirm a new one
    out = track_all([sensor()], scans, TrackerConfig(confirm_m=2, confirm_n=2))
    conf = [(t, tid) for t, tid, kind in out.events if kind == "confirmed"]
    assert [t for t, _ in conf] == [6.0]
    assert conf[0][1] == 2  # the first tentative track (id 1) was dropped


@pytest.mark.parametrize("delete_misses", [1, 3, 5])
def test_confirmed_tracks_are_deleted_after_misses(delete_misses):
    rng = np.random.default_rng(3)
    times = np.arange(0.0, 60.0, 2.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50)])
    last_seen = 20.0
    scans = make_scans(truth, times, rng, present=lambda k, t: t <= last_seen)
    out = track_all([sensor()], scans, TrackerConfig(delete_misses=delete_misses))
    deleted = [(t, tid, kind) for t, tid, kind in out.events if kind.startswith("deleted")]
    assert len(deleted) == 1
    t_del, tid, kind = deleted[0]
    assert kind == "deleted:misses"
    assert t_del == last_seen + 2.0 * delete_misses
    # the track coasts (is reported) through the misses before the deleting one
    assert out.time_s[out.track_id == tid].max() == last_seen + 2.0 * (delete_misses - 1)


def test_track_score_is_the_sequential_log_likelihood_ratio():
    # Blackman & Popoli (1999) sec. 6.2: a miss in coverage adds ln(1 - P_D) exactly; a hit
    # adds ln(P_D / beta) - ln((2 pi)^(3/2) |S|^(1/2)) - d^2/2, which is at most the same
    # with S = R (S = H P H^T + R >= R) and d = 0
    rng = np.random.default_rng(4)
    times = np.arange(0.0, 40.0, 2.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50)])
    last_seen = 20.0
    scans = make_scans(truth, times, rng, present=lambda k, t: t <= last_seen)
    cfg = TrackerConfig(delete_misses=5, pd=0.8, clutter_density=1e-8)
    out = track_all([sensor()], scans, cfg)
    (tid,) = np.unique(out.track_id)
    t, q = out.time_s[out.track_id == tid], out.score[out.track_id == tid]
    coasting = t > last_seen
    assert coasting.sum() == 4
    np.testing.assert_allclose(np.diff(q[t >= last_seen]), math.log(1 - cfg.pd), rtol=0, atol=1e-9)
    bound = math.log(cfg.pd / cfg.clutter_density) - 1.5 * math.log(2 * math.pi) - 0.5 * math.log(np.prod(np.square(SIGMA)))
    gains = np.diff(q[~coasting])
    assert np.all(gains <= bound + 1e-9) and np.all(gains > bound - 15.0)  # d^2 of a few, |S| near |R|


def test_false_alarm_tracks_score_below_target_tracks():
    rng = np.random.default_rng(5)
    times = np.arange(0.0, 60.0, 2.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50), cv_target(-50, 80, 8, -150, 20)])
    scans = make_scans(truth, times, rng, clutter_per_scan=40.0)
    # 1-of-1 confirmation, so that tracks of false alarms are reported too
    out = track_all([sensor()], scans, TrackerConfig(confirm_m=1, confirm_n=1, delete_misses=2))
    labels = track_labels(out)
    final = {tid: out.score[out.track_id == tid][-1] for tid in np.unique(out.track_id)}
    real = [final[tid] for tid, lab in labels.items() if lab >= 0 and (out.track_id == tid).sum() > 20]
    false = [final[tid] for tid, lab in labels.items() if lab < 0]
    assert len(real) == 2 and len(false) > 10
    assert min(real) > max(false) + 100.0


# --------------------------------------------------------------------------- accuracy


def test_one_track_per_target_and_error_below_measurement_accuracy():
    rng = np.random.default_rng(4)
    times = np.arange(0.0, 120.0, 2.0)
    out = track_all([sensor()], make_scans(FOUR_TARGETS, times, rng), TrackerConfig())
    ids = confirmed_ids(out)
    assert len(ids) == 4
    assert sorted(np.unique(out.track_id).tolist()) == ids
    labels = track_labels(out)
    assert sorted(labels[t] for t in ids) == [0, 1, 2, 3]
    # every update of a track came from its own target
    for tid, lab in zip(out.log_track_id, out.log_label):
        assert labels[int(tid)] == lab
    assert not any(kind.startswith("deleted") for _, _, kind in out.events)
    for tid, (k, rms, bound) in track_errors(out, FOUR_TARGETS).items():
        assert rms < 0.6 * bound, (tid, k, rms, bound)
    # rows: (R,) times and ids, (R, 6) states, (R, 6, 6) symmetric PD covariances
    R = out.time_s.size
    assert out.state.shape == (R, 6) and out.cov.shape == (R, 6, 6)
    np.testing.assert_allclose(out.cov, np.swapaxes(out.cov, 1, 2), rtol=1e-12, atol=0)
    assert np.all(np.linalg.eigvalsh(out.cov)[:, 0] > 0)


def test_scattered_false_alarms_do_not_confirm():
    # 30 false alarms per scan, each at least 20 km from every false alarm of the
    # previous scan: no pair can fall in a new track's gate, so nothing confirms
    rng = np.random.default_rng(5)
    prev = np.empty((0, 3))
    scans = []
    for t in np.arange(0.0, 60.0, 2.0):
        z, pos = [], []
        while len(z) < 30:
            cand = np.array([rng.uniform(20e3, 200e3), rng.uniform(0, 2 * math.pi), rng.uniform(0.0, 0.2)])
            enu = pymap3d.aer2enu(math.degrees(cand[1]), math.degrees(cand[2]), cand[0], deg=True)
            if prev.size and np.min(np.linalg.norm(prev - np.array(enu), axis=1)) < 20e3:
                continue
            z.append(cand)
            pos.append(enu)
        prev = np.array(pos)
        scans.append(Scan(time_s=float(t), sensor=0, z=np.array(z), label=np.full(30, -1)))
    out = track_all([sensor()], scans, TrackerConfig())
    assert confirmed_ids(out) == []
    assert out.time_s.size == 0
    # every false alarm started a tentative track
    assert out.log_track_id.size == 30 * len(scans)


def test_clutter_does_not_disturb_separated_targets():
    rng = np.random.default_rng(6)
    times = np.arange(0.0, 100.0, 2.0)
    scans = make_scans(FOUR_TARGETS, times, rng, clutter_per_scan=10.0)
    out = track_all([sensor()], scans, TrackerConfig(confirm_m=3, confirm_n=3))
    labels = track_labels(out)
    real = [tid for tid in confirmed_ids(out) if labels[tid] >= 0]
    assert sorted(labels[t] for t in real) == [0, 1, 2, 3]
    assert len(confirmed_ids(out)) == 4  # no false track confirmed
    for tid, (k, rms, bound) in track_errors(out, FOUR_TARGETS).items():
        assert rms < 0.6 * bound, (tid, k, rms, bound)


# --------------------------------------------------------------------------- determinism and arrival order


def _two_sensor_scans(rng, times_a, times_b, *, sigma_b=SIGMA):
    site_b = (45.4, 10.5, 50.0)
    a = make_scans(FOUR_TARGETS, times_a, rng, sensor_index=0)
    b = make_scans(FOUR_TARGETS, times_b, rng, sensor_index=1, site=site_b, sigma=sigma_b)
    sensors = [sensor(), sensor(site_b, sigma_b, "b")]
    return sensors, sorted(a + b, key=lambda s: s.time_s)


def test_same_input_gives_identical_output():
    rng = np.random.default_rng(7)
    sensors, scans = _two_sensor_scans(rng, np.arange(0.0, 60.0, 2.0), np.arange(0.7, 60.0, 3.0))
    for cfg in (TrackerConfig(), TrackerConfig(association="jpda"), TrackerConfig(motion="imm"),
                TrackerConfig(filter="ukf", motion="ca")):
        a = track_all(sensors, scans, cfg)
        b = track_all(sensors, scans, cfg)
        assert a.time_s.size > 0
        assert_same_output(a, b)


def test_shuffled_arrival_within_latency_window_gives_sorted_output():
    rng = np.random.default_rng(8)
    # no two scans at the same time (simultaneous scans: see below)
    sensors, scans = _two_sensor_scans(rng, np.arange(0.0, 80.0, 2.0), np.arange(0.7, 80.0, 1.5))
    window = 5.0
    cfg = TrackerConfig(latency_window_s=window)
    sorted_out = track_all(sensors, scans, cfg)
    no_window = track_all(sensors, scans, TrackerConfig())
    assert_same_output(sorted_out, no_window)
    for seed in range(3):
        r = np.random.default_rng(100 + seed)
        # each scan arrives up to 4.9 s late: arrival order is shuffled, within the window
        arrival = np.array([s.time_s for s in scans]) + r.uniform(0.0, window - 0.1, len(scans))
        shuffled = [scans[i] for i in np.argsort(arrival, kind="stable")]
        assert [s.time_s for s in shuffled] != [s.time_s for s in scans]
        out = track_all(sensors, shuffled, cfg)
        assert out.rejected_scans == 0
        assert_same_output(out, sorted_out)


def test_simultaneous_scans_do_not_depend_on_arrival_order():
    rng = np.random.default_rng(18)
    times = np.arange(0.0, 40.0, 2.0)
    sensors, scans = _two_sensor_scans(rng, times, times)  # both sensors scan at the same times
    cfg = TrackerConfig(latency_window_s=3.0)
    a_first = track_all(sensors, sorted(scans, key=lambda s: (s.time_s, s.sensor)), cfg)
    b_first = track_all(sensors, sorted(scans, key=lambda s: (s.time_s, -s.sensor)), cfg)
    assert_same_output(a_first, b_first)


def test_scan_older_than_the_window_is_rejected_and_counted():
    rng = np.random.default_rng(9)
    sensors, scans = _two_sensor_scans(rng, np.arange(0.0, 40.0, 2.0), np.arange(0.5, 40.0, 3.0))
    cfg = TrackerConfig(latency_window_s=2.0)
    late = next(i for i, s in enumerate(scans) if s.sensor == 1 and s.time_s > 10)  # t = 12.5
    slightly_late = next(i for i, s in enumerate(scans) if s.sensor == 1 and s.time_s > 30)  # t = 30.5
    t_late, t_slight = scans[late].time_s, scans[slightly_late].time_s
    # arrival: the late scan after everything up to t = 20; the slightly late one 1.5 s late
    order = [s for i, s in enumerate(scans) if i not in (late, slightly_late)]
    pos = next(i for i, s in enumerate(order) if s.time_s > 20.0)
    order.insert(pos, scans[late])
    pos = next(i for i, s in enumerate(order) if s.time_s > t_slight + 1.5)
    order.insert(pos, scans[slightly_late])
    tracker = Tracker(sensors, cfg)
    for s in order:
        tracker.add_scan(s)
    out = tracker.finish()
    assert out.rejected_scans == 1
    # the same as never having received the rejected scan
    expected = track_all(sensors, [s for i, s in enumerate(scans) if i != late], cfg)
    assert_same_output(out._replace(rejected_scans=0), expected)
    assert t_late not in out.log_time_s and t_slight in out.log_time_s


# --------------------------------------------------------------------------- fusion


def test_two_sensors_fuse_into_one_track_and_the_precise_one_shrinks_it():
    rng = np.random.default_rng(10)
    coarse = (150.0, 3e-3, 3e-3)
    precise = (5.0, 2e-4, 2e-4)
    site_b = (45.4, 10.5, 50.0)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50)])
    a = make_scans(truth, np.arange(0.0, 80.0, 2.0), rng, sensor_index=0, sigma=coarse)
    b = make_scans(truth, np.arange(1.0, 80.0, 2.0), rng, sensor_index=1, site=site_b, sigma=precise)
    sensors = [sensor(SITE, coarse, "coarse"), sensor(site_b, precise, "precise")]
    out = track_all(sensors, sorted(a + b, key=lambda s: s.time_s), TrackerConfig())
    assert len(confirmed_ids(out)) == 1
    assert np.unique(out.track_id).size == 1
    pos_var = np.trace(out.cov[:, :3, :3], axis1=1, axis2=2)
    after_b = np.isin(out.time_s, np.arange(1.0, 80.0, 2.0))
    # after each precise scan the covariance is smaller than after the coarse scan before it
    for i in np.flatnonzero(after_b)[5:]:
        assert pos_var[i] < pos_var[i - 1]
    # and the fused track is better than the coarse sensor alone
    alone = track_all([sensors[0]], a, TrackerConfig())
    alone_var = np.trace(alone.cov[-5:, :3, :3], axis1=1, axis2=2)
    assert pos_var[-1] < 0.1 * alone_var.min()
    _, rms, _ = track_errors(out, truth)[int(out.track_id[0])]
    assert rms < position_sigma_bound(truth.state(0, 40.0)[:3], site_b, precise)


# --------------------------------------------------------------------------- association and motion


@pytest.mark.parametrize("association", ["gnn", "jpda"])
def test_gnn_and_jpda_track_separated_targets(association):
    rng = np.random.default_rng(11)
    times = np.arange(0.0, 100.0, 2.0)
    scans = make_scans(FOUR_TARGETS, times, rng, pd=0.9, clutter_per_scan=3.0)
    cfg = TrackerConfig(association=association, confirm_m=3, confirm_n=4, delete_misses=4)
    out = track_all([sensor()], scans, cfg)
    labels = track_labels(out)
    ids = confirmed_ids(out)
    assert sorted(labels[t] for t in ids) == [0, 1, 2, 3]
    for tid, (k, rms, bound) in track_errors(out, FOUR_TARGETS).items():
        assert rms < bound, (association, tid, k, rms, bound)


@pytest.mark.parametrize("motion", ["imm", "ca", "singer", "ct"])
def test_other_air_motion_models_track_a_straight_target(motion):
    rng = np.random.default_rng(12)
    truth = Truth(lines=[cv_target(40, 60, 5, 200, -50), cv_target(-70, 30, 8, 150, 120)])
    out = track_all([sensor()], make_scans(truth, np.arange(0.0, 100.0, 2.0), rng), TrackerConfig(motion=motion))
    assert len(confirmed_ids(out)) == 2
    for tid, (k, rms, bound) in track_errors(out, truth).items():
        assert rms < bound, (motion, tid, k, rms, bound)


def test_ukf_tracks_like_the_ekf():
    rng = np.random.default_rng(13)
    scans = make_scans(FOUR_TARGETS, np.arange(0.0, 80.0, 2.0), rng)
    ekf = track_all([sensor()], scans, TrackerConfig())
    ukf = track_all([sensor()], scans, TrackerConfig(filter="ukf"))
    np.testing.assert_array_equal(ekf.track_id, ukf.track_id)
    np.testing.assert_allclose(ukf.state[:, :3], ekf.state[:, :3], atol=5.0)


def _ballistic_truth(step_s: float):
    # burnout 60 km up over (44.0, 8.0), 3 km/s toward the north-east, climbing at 40 deg:
    # a few hundred km of free flight passing the radar
    lat, lon, alt = 44.0, 8.0, 60e3
    r0 = np.array(pymap3d.geodetic2ecef(lat, lon, alt, ell=ELL, deg=True))
    g, az = math.radians(40.0), math.radians(40.0)
    v0 = np.array(pymap3d.enu2uvw(3000 * math.cos(g) * math.sin(az), 3000 * math.cos(g) * math.cos(az),
                                  3000 * math.sin(g), lat, lon, deg=True))
    fl = sample_flight(r0, v0, 5000.0, step_s=step_s)
    return Truth(flights=[(fl.time_s[:-1], fl.r_ecef_m[:-1], fl.v_ecef_mps[:-1])]), fl.time_s[-1]


# Ballistic tracking: the defaults (2-of-2, iterated EKF updates of young tracks), the
# engine's style (hoplon.sim.tracking.DEFAULT_ENGINE_TRACKER: 3-of-4 confirmation) and
# the UKF; all with velocity priors wide enough for a missile's first detection. (With a
# plain EKF, iekf_iterations=1, and 2-of-2, the one-point start -- zero velocity,
# +-3 km/s -- makes the first update linearise 6 km from the truth at 200 km range; the
# 2-hit track misses its third measurement, d2 21.6 > 21.1, and the target gets a
# second track.)
BALLISTIC_CONFIGS = {
    "ballistic-2of2": {"motion": "ballistic"},
    "imm-ballistic-2of2": {"motion": "imm-ballistic"},
    "ballistic-ekf-3of4": {"motion": "ballistic", "confirm_m": 3, "confirm_n": 4, "delete_misses": 4},
    "imm-ballistic-3of4": {"motion": "imm-ballistic", "q_ca": 5.0, "confirm_m": 3, "confirm_n": 4, "delete_misses": 4},
    "ballistic-ukf-2of2": {"motion": "ballistic", "filter": "ukf"},
}


@pytest.mark.parametrize("name", list(BALLISTIC_CONFIGS))
def test_ballistic_motion_tracks_a_ballistic_target(name):
    rng = np.random.default_rng(14)
    step = 2.0
    truth, t_impact = _ballistic_truth(step)
    times = np.arange(0.0, min(t_impact - step, 300.0), step)
    scans = make_scans(truth, times, rng)
    cfg = TrackerConfig(init_speed_sigma_mps=3000.0, init_vertical_speed_sigma_mps=2500.0, **BALLISTIC_CONFIGS[name])
    out = track_all([sensor()], scans, cfg)
    ids = confirmed_ids(out)
    assert len(ids) == 1
    assert not any(kind.startswith("deleted") for _, _, kind in out.events)
    ((_, rms, bound),) = track_errors(out, truth).values()
    assert rms < 0.5 * bound, (name, rms, bound)  # measured ~0.2
    # velocity too: within 10 m/s RMS of the truth at 2-3 km/s (measured ~2 m/s)
    rows = np.flatnonzero(out.track_id == ids[0])[10:]
    vt = np.array([truth.state(0, t)[3:] for t in out.time_s[rows]])
    assert np.sqrt(np.mean(np.sum((out.state[rows, 3:] - vt) ** 2, axis=1))) < 10.0


# --------------------------------------------------------------------------- edge cases and equivalences


def test_no_scans_give_an_empty_output():
    out = track_all([sensor()], [], TrackerConfig())
    assert out.time_s.shape == (0,) and out.track_id.shape == (0,)
    assert out.state.shape == (0, 6) and out.cov.shape == (0, 6, 6)
    assert out.log_time_s.size == out.log_track_id.size == out.log_index.size == out.log_label.size == 0
    assert out.track_id.dtype == np.int64
    assert out.events == [] and out.rejected_scans == 0
    # empty scans are fine too
    out = track_all([sensor()], [Scan(0.0, 0, np.empty((0, 3))), Scan(2.0, 0, np.empty((0, 3)))])
    assert out.time_s.size == 0 and out.events == []


def test_kd_tree_prefilter_gives_the_dense_result():
    # many targets: dense_gating_limit=0 sends every scan through the k-d tree candidates
    rng = np.random.default_rng(15)
    lines = []
    for _ in range(60):
        e, n = rng.uniform(-150, 150, 2)
        h = rng.uniform(0, 2 * math.pi)
        lines.append(cv_target(e, n, rng.uniform(1, 10), 200 * math.sin(h), 200 * math.cos(h)))
    truth = Truth(lines=lines)
    scans = make_scans(truth, np.arange(0.0, 30.0, 2.0), rng, clutter_per_scan=20.0)
    dense = track_all([sensor()], scans, TrackerConfig(dense_gating_limit=10**9))
    tree = track_all([sensor()], scans, TrackerConfig(dense_gating_limit=0))
    assert len(confirmed_ids(dense)) >= 55
    assert_same_output(tree, dense)


def test_scan_measurement_labels_and_indices_are_logged():
    rng = np.random.default_rng(16)
    scans = make_scans(FOUR_TARGETS, np.arange(0.0, 10.0, 2.0), rng)
    for s in scans:
        s.index = np.arange(len(s.z)) + 100 * int(s.time_s)
    out = track_all([sensor()], scans, TrackerConfig())
    by_time = {s.time_s: s for s in scans}
    for t, idx, lab in zip(out.log_time_s, out.log_index, out.log_label):
        s = by_time[float(t)]
        assert s.label[np.flatnonzero(s.index == idx)[0]] == lab
    # each measurement is logged once (4 targets x 5 scans)
    assert out.log_index.size == 20 and np.unique(out.log_index).size == 20


def _noisy_scan_case(noisy_neighbours: bool):
    """A track built by a precise radar (per-measurement sigmas given), then a scan
    whose target measurement has 4x the nominal sigmas and lies 3 of its own sigmas off
    in azimuth (exact d2 ~ 9.9, gate 21.1), with two far clutter measurements that
    have the nominal sigmas (or, with ``noisy_neighbours``, the same 4x sigmas)."""
    rng = np.random.default_rng(17)
    sig = np.array([10.0, 2e-4, 2e-4])
    truth = Truth(lines=[cv_target(60, 80, 5, 200, -50)])
    scans = make_scans(truth, np.arange(0.0, 40.0, 2.0), rng, sigma=tuple(sig), sigma_per_meas=True)
    t = 40.0
    z_t = aer_rad(truth.state(0, t)[:3], SITE)
    z_t[1] += 3.0 * 4 * sig[1]
    clutter = z_t + np.array([[30e3, 0.3, 0.05], [-25e3, -0.4, 0.02]])
    other = 4 * sig if noisy_neighbours else sig
    scans.append(Scan(time_s=t, sensor=0, z=np.vstack([z_t, clutter]),
                      sigma=np.vstack([4 * sig, other, other]), label=np.array([0, -1, -1])))
    out = track_all([sensor(sigma=tuple(sig))], scans, TrackerConfig())
    (tid,) = confirmed_ids(out)
    last = out.log_time_s == t
    return out.log_track_id[last & (out.log_label == 0)].tolist(), tid


def test_noisy_measurement_is_taken_when_the_whole_scan_is_noisy():
    # control for the test below: with one noise for the whole scan (exact gating) the
    # track takes the measurement
    got, tid = _noisy_scan_case(noisy_neighbours=True)
    assert got == [tid]


def test_noisy_measurement_inside_its_gate_is_not_dropped():
    # d2 with the scan's median noise ~ 98 > 4 x 21.1, so the pair never reaches the
    # exact gate; the pair cost d2 + ln|S| ~ 16.6 is below the miss cost 21.1 + ln|S_median|
    got, tid = _noisy_scan_case(noisy_neighbours=False)
    assert got == [tid]


# --------------------------------------------------------------------------- the compiled whole-scan path


def _run_paths(sensors, scans, cfg):
    """The tracker's output with its compiled whole-scan path (process_scans) and with the
    general path only, and the statuses the compiled path returned."""
    outs, statuses = [], []
    for fast in (True, False):
        tracker = Tracker(sensors, cfg)
        assert tracker._fast
        tracker._fast = fast
        if fast:
            inner = tracker._process_fast

            def spy(*args, _inner=inner):
                status = _inner(*args)
                statuses.append(status)
                return status

            tracker._process_fast = spy
        for scan in scans:
            tracker.add_scan(scan)
        outs.append(tracker.finish())
    return outs[0], outs[1], Counter(statuses)


@pytest.mark.parametrize("config", [
    {},
    {"motion": "ca", "confirm_m": 1, "confirm_n": 1},
    {"motion": "cv", "max_coast_s": 3.0, "delete_misses": 10, "iekf_iterations": 1},
    {"motion": "imm-ballistic", "confirm_m": 3, "confirm_n": 4, "delete_misses": 4, "init_speed_sigma_mps": 1500.0},
], ids=["cv", "ca-1of1", "cv-short-coast", "imm-ballistic"])
def test_compiled_scan_path_gives_the_general_paths_output(config):
    """Tracker._process_fast (one compiled call per scan, in place on buffers) against
    the general path on the same scans: identical outputs, bit for bit. Two sensors,
    clutter, per-measurement noise, misses and crossing gates, so that both paths meet
    conflicts (handed to the general solver), coasting deletions and new tracks."""
    rng = np.random.default_rng(21)
    site_b = (45.4, 10.5, 50.0)
    times_a, times_b = np.arange(0.0, 60.0, 2.0), np.arange(0.7, 60.0, 3.0)
    present = lambda k, t: not (k == 1 and 20.0 < t < 40.0)  # noqa: E731 (target 1 leaves and comes back)
    # the four targets and two flying 300 m apart, inside each other's gates
    truth = Truth(lines=[*FOUR_TARGETS.lines, cv_target(30, 30, 6, 150, 0), cv_target(30.3, 30.1, 6, 150, 0)])
    a = make_scans(truth, times_a, rng, pd=0.9, clutter_per_scan=8.0, present=present, sigma_per_meas=True)
    b = make_scans(truth, times_b, rng, sensor_index=1, site=site_b, pd=0.8, clutter_per_scan=4.0)
    scans = sorted(a + b, key=lambda s: s.time_s)
    scans.insert(5, Scan(scans[4].time_s + 0.1, 0, np.empty((0, 3))))  # an empty scan
    sensors = [sensor(), sensor(site_b, SIGMA, "b")]
    fast, general, statuses = _run_paths(sensors, scans, TrackerConfig(**config))
    assert fast.time_s.size > 0
    assert_same_output(fast, general)
    assert statuses[K.SCAN_DONE] > 0.5 * len(scans)  # most scans done in one compiled call
    assert statuses[K.SCAN_CONFLICT] > 0  # assignment conflicts went to the general GNN
    if config.get("max_coast_s") == 3.0:  # tracks that coasted too long deleted, in the compiled path too
        assert any(why == "deleted:coasted" for _, _, why in fast.events)


def test_compiled_scan_path_tracks_a_ballistic_target_like_the_general_path():
    rng = np.random.default_rng(22)
    truth, t_impact = _ballistic_truth(2.0)
    scans = make_scans(truth, np.arange(0.0, min(t_impact - 2.0, 200.0), 2.0), rng, clutter_per_scan=3.0)
    cfg = TrackerConfig(init_speed_sigma_mps=3000.0, init_vertical_speed_sigma_mps=2500.0, **BALLISTIC_CONFIGS["imm-ballistic-3of4"])
    fast, general, statuses = _run_paths([sensor()], scans, cfg)
    assert len(confirmed_ids(fast)) >= 1
    assert_same_output(fast, general)
    assert statuses[K.SCAN_DONE] > 0.8 * len(scans)
