"""hoplon.core.tracker's batch input: Tracker.feed (a run of scans in one compiled call,
_tracker_kernels.process_scans) against add_scan of the same scans one by one, bit for
bit; the scans as flat arrays (batch_scans); the compiled GNN of small assignment
conflicts (gnn_small) against association.gnn.

The scenarios are test_tracker's (radars watching straight-line and ballistic targets,
Gaussian noise, clutter); add_scan itself is checked against the tracker's general path
there.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from test_tracker import (
    FOUR_TARGETS,
    SIGMA,
    Truth,
    _ballistic_truth,
    assert_same_output,
    cv_target,
    make_scans,
    sensor,
)

from hoplon.core import _tracker_kernels as K
from hoplon.core import association as assoc
from hoplon.core.tracker import Scan, ScanBatch, Tracker, TrackerConfig, batch_scans
from hoplon.sim.tracking import _majority_labels

SITE_B = (45.4, 10.5, 50.0)
CONFIGS = {
    "cv": {},
    "ca-1of1": {"motion": "ca", "confirm_m": 1, "confirm_n": 1},
    "cv-short-coast": {"motion": "cv", "max_coast_s": 3.0, "delete_misses": 10, "iekf_iterations": 1},
    "imm-ballistic": {"motion": "imm-ballistic", "confirm_m": 3, "confirm_n": 4, "delete_misses": 4,
                      "init_speed_sigma_mps": 1500.0},
}


def as_batch(scans: list[Scan]) -> ScanBatch:
    """The scans' measurements as one batch (inputs indexed by position)."""
    scans = [s for s in scans if len(s.z)]
    z = np.concatenate([s.z for s in scans])
    return batch_scans(np.concatenate([np.full(len(s.z), s.time_s) for s in scans]),
                       np.concatenate([np.full(len(s.z), s.sensor) for s in scans]), z,
                       sigma=None if scans[0].sigma is None else np.concatenate([s.sigma for s in scans]),
                       label=np.concatenate([s.label for s in scans]))


def two_sensor_scans(seed: int, *, clutter_a=8.0, clutter_b=4.0) -> list[Scan]:
    """test_tracker's two-radar scenario: the four targets and two flying 300 m apart
    (inside each other's gates), clutter, per-measurement sigmas on radar a, target 1
    leaving and coming back."""
    rng = np.random.default_rng(seed)
    truth = Truth(lines=[*FOUR_TARGETS.lines, cv_target(30, 30, 6, 150, 0), cv_target(30.3, 30.1, 6, 150, 0)])
    present = lambda k, t: not (k == 1 and 20.0 < t < 40.0)  # noqa: E731
    a = make_scans(truth, np.arange(0.0, 60.0, 2.0), rng, pd=0.9, clutter_per_scan=clutter_a, present=present,
                   sigma_per_meas=True)
    b = make_scans(truth, np.arange(0.7, 60.0, 3.0), rng, sensor_index=1, site=SITE_B, pd=0.8,
                   clutter_per_scan=clutter_b)
    # radar b's sigmas are its nominal ones: given per measurement so that the batch has them all
    for s in b:
        s.sigma = np.tile(np.asarray(SIGMA, dtype=float), (len(s.z), 1))
    return sorted(a + b, key=lambda s: (s.time_s, s.sensor))


SENSORS = [sensor(), sensor(SITE_B, SIGMA, "b")]


def step_one_by_one(tracker: Tracker, scans: list[Scan], untils, drop=None):
    """add_scan of each scan up to each time (measurements of dropped labels left out,
    scans left empty skipped), advance; the confirmed tracks after each step."""
    snaps, k = [], 0
    for until in untils:
        while k < len(scans) and scans[k].time_s <= until:
            s = scans[k]
            k += 1
            if drop is not None:
                keep = ~((s.label >= 0) & (drop[np.maximum(s.label, 0)] < s.time_s))
                if not keep.any():
                    continue
                s = Scan(s.time_s, s.sensor, s.z[keep], s.sigma[keep], s.label[keep],
                         None if s.index is None else s.index[keep])
            tracker.add_scan(s)
        tracker.advance(until)
        snaps.append(tracker.confirmed())
    return snaps


def step_fed(tracker: Tracker, batch: ScanBatch, untils, drop=None):
    """Tracker.feed up to each time; the confirmed tracks after each step."""
    snaps, k = [], 0
    for until in untils:
        k = tracker.feed(batch, k, until, drop)
        snaps.append(tracker.confirmed())
    assert k == len(batch.time_s)
    return snaps


def assert_same_snapshots(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert_same_output(x, y)


def indexed(scans: list[Scan]) -> list[Scan]:
    """The scans with their measurements' input positions (as a batch numbers them)."""
    out, row = [], 0
    for s in scans:
        out.append(Scan(s.time_s, s.sensor, s.z, s.sigma, s.label, np.arange(row, row + len(s.z))))
        row += len(s.z)
    return out


# --------------------------------------------------------------------------- the batch against add_scan


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
def test_feed_gives_add_scans_output_bit_for_bit(config):
    """Tracker.feed in steps of 5 s (as the engine advances) against add_scan + advance:
    the same confirmed tracks after every step and the same outputs (rows, association
    log, events) at the end -- through coasting deletions, assignment conflicts and new
    tracks."""
    scans = indexed(two_sensor_scans(21))
    untils = np.arange(5.0, 65.0, 5.0)
    cfg = TrackerConfig(**config)
    one, fed = Tracker(SENSORS, cfg), Tracker(SENSORS, cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    out = fed.finish()
    assert out.time_s.size > 0 and len(out.events) > 0
    assert_same_output(out, one.finish())


def test_feed_tracks_a_ballistic_target_like_add_scan():
    rng = np.random.default_rng(22)
    truth, t_impact = _ballistic_truth(2.0)
    scans = indexed(make_scans(truth, np.arange(0.0, min(t_impact - 2.0, 200.0), 2.0), rng, clutter_per_scan=3.0,
                               sigma_per_meas=True))
    cfg = TrackerConfig(**{**CONFIGS["imm-ballistic"], "init_speed_sigma_mps": 3000.0,
                           "init_vertical_speed_sigma_mps": 2500.0})
    untils = np.arange(3.0, 203.0, 3.0)
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    out = fed.finish()
    assert len({tid for _, tid, kind in out.events if kind == "confirmed"}) >= 1
    assert_same_output(out, one.finish())


def test_feed_leaves_out_measurements_of_dropped_labels():
    """Targets 0 and 4 end at 25 s and 40 s: feed with those drop times against add_scan
    of the scans without their measurements after then (a scan left empty is skipped)."""
    scans = indexed(two_sensor_scans(23, clutter_a=1.0, clutter_b=0.5))
    drop = np.array([25.0, np.inf, np.inf, np.inf, 40.0, np.inf])
    untils = np.arange(5.0, 65.0, 5.0)
    cfg = TrackerConfig(**CONFIGS["cv"])
    one, fed = Tracker(SENSORS, cfg), Tracker(SENSORS, cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils, drop), step_fed(fed, as_batch(scans), untils, drop))
    out = fed.finish()
    assert_same_output(out, one.finish())
    late = out.log_time_s > 40.0
    assert not np.isin(out.log_label[late], [0, 4]).any()


def test_feed_grows_its_buffers():
    """A scan of 300 clutter measurements after a few quiet ones: the tracks, the log
    and the rows outgrow their first capacity within one call."""
    rng = np.random.default_rng(24)
    quiet = make_scans(FOUR_TARGETS, np.arange(0.0, 8.0, 2.0), rng, sigma_per_meas=True)
    busy = make_scans(FOUR_TARGETS, np.arange(8.0, 20.0, 2.0), rng, clutter_per_scan=300.0, sigma_per_meas=True)
    scans = indexed(quiet + busy)
    cfg = TrackerConfig(**CONFIGS["ca-1of1"])
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    assert_same_snapshots(step_one_by_one(one, scans, [100.0]), step_fed(fed, as_batch(scans), [100.0]))
    assert_same_output(fed.finish(), one.finish())


def test_feed_hands_what_it_cannot_do_to_the_general_path(monkeypatch):
    """Eight targets flying in a 400 m formation (every track gates every measurement:
    9^8 joint assignments, beyond gnn_small) and then a burst of clutter wider than the
    dense gating limit: feed hands those scans to the general path (conflicts once the
    tracks are predicted), with add_scan's outputs."""
    statuses = Counter()
    inner = K.process_scans

    def spy(*args):
        result = inner(*args)
        statuses[result[0], result[2]] += 1
        return result

    monkeypatch.setattr(K, "process_scans", spy)
    rng = np.random.default_rng(30)
    formation = Truth(lines=[cv_target(50 + 0.1 * (k % 4), 40 + 0.1 * (k // 4), 6, 180, 20) for k in range(8)])
    scans = make_scans(formation, np.arange(0.0, 30.0, 2.0), rng, sigma_per_meas=True)
    scans += make_scans(FOUR_TARGETS, [30.0], rng, clutter_per_scan=500.0, sigma_per_meas=True)
    scans = indexed(scans)
    cfg = TrackerConfig(dense_gating_limit=2000)
    untils = np.arange(5.0, 35.0, 5.0)
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    assert_same_output(fed.finish(), one.finish())
    assert statuses[K.BATCH_GENERAL, K.SCAN_CONFLICT] > 0
    assert statuses[K.BATCH_GENERAL, K.SCAN_SLOW] > 0


@pytest.mark.parametrize("config", [{"latency_window_s": 1.0}, {"association": "jpda"}, {"filter": "ukf"}],
                         ids=["latency-window", "jpda", "ukf"])
def test_feed_without_the_compiled_path_is_add_scan(config):
    """With a latency window or without the compiled scan path, feed is add_scan of each
    scan, then advance."""
    scans = indexed(two_sensor_scans(25, clutter_a=2.0, clutter_b=1.0))
    untils = np.arange(10.0, 70.0, 10.0)
    cfg = TrackerConfig(**config)
    one, fed = Tracker(SENSORS, cfg), Tracker(SENSORS, cfg)
    assert_same_snapshots(step_one_by_one(one, scans, untils), step_fed(fed, as_batch(scans), untils))
    assert_same_output(fed.finish(), one.finish())


def _stop_and_rest(scans: list[Scan], cfg: TrackerConfig) -> tuple[int, int]:
    """feed(stop_at_confirmed=True) of the scans, then the rest, against add_scan of one
    scan at a time (and advance after the last of each time): their outputs bit for bit;
    returns (the first scan not fed by the stop, the first scan after which add_scan had
    a confirmed track)."""
    one, fed = Tracker(SENSORS, cfg), Tracker(SENSORS, cfg)
    first = None
    for i, s in enumerate(scans):
        one.add_scan(s)
        if i + 1 == len(scans) or scans[i + 1].time_s != s.time_s:
            one.advance(s.time_s)
        if first is None and len(one.confirmed().id):
            first = i
    one.advance(np.inf)
    assert first is not None and 0 < first < len(scans) - 2
    batch = as_batch(scans)
    k = fed.feed(batch, 0, np.inf, stop_at_confirmed=True)
    assert fed.last_time == scans[first].time_s and len(fed.confirmed().id) > 0
    assert fed.feed(batch, k, np.inf) == len(scans)
    assert_same_output(fed.finish(), one.finish())
    return k, first


@pytest.mark.parametrize("config", [CONFIGS["cv"], CONFIGS["imm-ballistic"], {"association": "jpda"},
                                    {"latency_window_s": 1.0}], ids=["cv", "imm-ballistic", "jpda", "latency-window"])
def test_feed_can_stop_after_the_scan_that_confirms_a_track(config):
    """feed(stop_at_confirmed=True) stops right after the first scan that leaves a
    confirmed track (found here by add_scan and advance one scan at a time); feeding the
    rest afterwards gives their outputs bit for bit (the engine skips idle cycles so)."""
    scans = indexed(two_sensor_scans(27, clutter_a=2.0, clutter_b=1.0))
    k, first = _stop_and_rest(scans, TrackerConfig(**config))
    assert k == first + 1


@pytest.mark.parametrize("config", [CONFIGS["cv"], {"association": "jpda"}], ids=["cv", "jpda"])
def test_a_stop_takes_the_other_scans_of_the_confirming_scans_time(config):
    """Radar b scanning at radar a's times from 2 s on: the track confirmed by a's scan at
    2 s; the stop also feeds b's scan of that time (after it, a second feed of the same
    time would write that time's output rows twice)."""
    scans = [s for s in two_sensor_scans(27, clutter_a=2.0, clutter_b=1.0) if not (s.sensor == 1 and s.time_s < 1.0)]
    scans = indexed(sorted((Scan(2.0 * math.floor(s.time_s / 2.0), s.sensor, s.z, s.sigma, s.label) for s in scans),
                           key=lambda s: (s.time_s, s.sensor)))
    k, first = _stop_and_rest(scans, TrackerConfig(**config))
    assert scans[first].sensor == 0 and scans[first + 1].time_s == scans[first].time_s
    assert k == first + 2


def test_feed_rejects_a_scan_older_than_the_last():
    """Scans fed after a later one was processed are rejected and counted, as by add_scan."""
    rng = np.random.default_rng(26)
    early = indexed(make_scans(FOUR_TARGETS, [0.0, 2.0, 4.0], rng, sigma_per_meas=True))
    late = make_scans(FOUR_TARGETS, [10.0], rng, sigma_per_meas=True)
    cfg = TrackerConfig()
    one, fed = Tracker([sensor()], cfg), Tracker([sensor()], cfg)
    for tracker in (one, fed):
        tracker.add_scan(late[0])
    for s in early:
        one.add_scan(s)
    one.advance(20.0)
    assert fed.feed(as_batch(early), 0, 20.0) == 3
    out = fed.finish()
    assert out.rejected_scans == 3
    assert_same_output(out, one.finish())


# --------------------------------------------------------------------------- batches


@pytest.mark.parametrize("presorted", [False, True])
def test_batch_scans_groups_measurements_by_sensor_and_time(presorted):
    """Scans in the order of their first measurement, each with its measurements in input
    order and their input rows, against a dictionary grouping; in any order, or already
    sorted by time, then sensor (a simulation's detections, grouped without sorting)."""
    rng = np.random.default_rng(27)
    n = 200
    t = rng.integers(0, 6, n).astype(float)
    s = rng.integers(0, 3, n)
    if presorted:
        by_time = np.lexsort((s, t))
        t, s = t[by_time], s[by_time]
    z, sig, lab = rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.integers(-1, 9, n)
    row = rng.permutation(n)
    batch = batch_scans(t, s, z, sigma=sig, label=lab, row=row)
    groups: dict[tuple, list[int]] = {}
    for k in range(n):
        groups.setdefault((s[k], t[k]), []).append(k)
    assert len(batch.time_s) == len(groups)
    for k, ((sk, tk), members) in enumerate(groups.items()):  # dicts keep first-insertion order
        a, b = batch.start[k], batch.start[k + 1]
        assert (batch.sensor[k], batch.time_s[k]) == (sk, tk)
        np.testing.assert_array_equal(batch.z[a:b], z[members])
        np.testing.assert_array_equal(batch.sigma[a:b], sig[members])
        np.testing.assert_array_equal(batch.label[a:b], lab[members])
        np.testing.assert_array_equal(batch.index[a:b], row[members])
        scan = batch.scan(k)
        assert (scan.time_s, scan.sensor) == (tk, sk)
        np.testing.assert_array_equal(scan.z, z[members])
    assert batch.start[-1] == n
    empty = batch_scans(np.empty(0), np.empty(0, np.int64), np.empty((0, 3)))
    assert len(empty.time_s) == 0 and list(empty.start) == [0]


def test_majority_labels_count_only_true_objects_and_break_ties_to_the_larger():
    track = np.array([1, 1, 1, 2, 2, 2, 2, 3, 3, 4])
    label = np.array([5, 5, -1, 7, 8, -1, -1, 2, 9, -1])
    # track 1: 5 twice; 2: 7 and 8 once each (tie: 8); 3: 2 and 9 (tie: 9); 4: clutter only
    assert _majority_labels(track, label) == {1: 5, 2: 8, 3: 9}
    rng = np.random.default_rng(28)
    track, label = rng.integers(0, 40, 3000), rng.integers(-1, 6, 3000)
    expected = {}
    for tid in np.unique(track):
        c = Counter(label[(track == tid) & (label >= 0)].tolist())
        if c:
            expected[int(tid)] = max((n, lab) for lab, n in c.items())[1]
    assert _majority_labels(track, label) == expected


# --------------------------------------------------------------------------- small assignment problems


def random_gates(rng, n_tracks, n_meas, density):
    pairs = [(i, j) for i in range(n_tracks) for j in range(n_meas) if rng.random() < density]
    if not pairs:
        pairs = [(0, 0)]
    t = np.array([p[0] for p in pairs], np.int64)
    m = np.array([p[1] for p in pairs], np.int64)
    return t, m, rng.uniform(0.0, 20.0, len(pairs)), rng.uniform(5.0, 30.0, len(pairs))


@pytest.mark.parametrize("seed", range(4))
def test_gnn_small_is_the_global_nearest_neighbour(seed):
    """Random small problems: gnn_small's assignment equals association.gnn's (an exact
    2-D assignment by scipy) whenever it takes one."""
    rng = np.random.default_rng(seed)
    taken = 0
    for _ in range(300):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        g_t, g_m, d2, ld = random_gates(rng, n, m, 0.5)
        miss = 21.1 + rng.uniform(5.0, 30.0, n)
        got = np.full(n, -1, np.int64)
        if K.gnn_small(n, m, g_t, g_m, d2, ld, miss, got):
            taken += 1
            np.testing.assert_array_equal(got, assoc.gnn(n, m, assoc.Gates(g_t, g_m, d2, ld), miss))
    assert taken > 250


def test_gnn_small_hands_back_ties_and_big_clusters():
    # one track, two measurements at exactly the same cost: a tie
    assigned = np.full(1, -1, np.int64)
    assert not K.gnn_small(1, 2, np.array([0, 0]), np.array([0, 1]), np.array([3.0, 3.0]), np.array([1.0, 1.0]),
                           np.array([30.0]), assigned)
    # a pair exactly as costly as the miss
    assert not K.gnn_small(1, 1, np.array([0]), np.array([0]), np.array([4.0]), np.array([1.0]), np.array([5.0]),
                           np.full(1, -1, np.int64))
    # 7 tracks gating 6 measurements each: 7^7 joint assignments, more than the limit
    n, m = 7, 6
    g_t = np.repeat(np.arange(n), m)
    g_m = np.tile(np.arange(m), n)
    rng = np.random.default_rng(29)
    assert 7**7 > K.GNN_ENUMERATION_LIMIT
    assert not K.gnn_small(n, m, g_t, g_m, rng.uniform(0, 20, n * m), rng.uniform(5, 30, n * m),
                           np.full(n, 40.0), np.full(n, -1, np.int64))


def test_gnn_small_solves_separate_clusters_separately():
    """Two clusters: tracks 0, 1 both want measurement 0 (track 1 cheaper); track 2 has
    measurement 1 cheaper than its miss and track 3 has measurement 2 dearer than its."""
    g_t = np.array([0, 1, 2, 3])
    g_m = np.array([0, 0, 1, 2])
    d2 = np.array([2.0, 1.0, 3.0, 9.0])
    ld = np.zeros(4)
    miss = np.array([5.0, 5.0, 5.0, 5.0])
    got = np.full(4, -1, np.int64)
    assert K.gnn_small(4, 3, g_t, g_m, d2, ld, miss, got)
    np.testing.assert_array_equal(got, [-1, 0, 1, -1])
