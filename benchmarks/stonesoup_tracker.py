"""The Stone Soup reference tracker of the tracking benchmark (optional: needs ``stonesoup``).

The configuration the project's tracking goal is stated against, built from Stone Soup
(https://stonesoup.readthedocs.io) components and working in the single radar's local
East-North-Up frame (radar at the origin):

* extended Kalman filter (``ExtendedKalmanPredictor`` / ``ExtendedKalmanUpdater``);
* nearly-constant-velocity motion, q = 0.5 m^2/s^3 per axis
  (``CombinedLinearGaussianTransitionModel`` of three ``ConstantVelocity(0.5)``), state
  (e, ve, n, vn, u, vu);
* measurement model ``CartesianToElevationBearingRange`` on (e, n, u) with the radar's
  sigmas; Stone Soup's bearing is counter-clockwise from east, so a radar azimuth ``az``
  (clockwise from north) enters as bearing ``pi/2 - az``;
* global nearest neighbour (``GNNWith2DAssignment``) over a ``DistanceHypothesiser``
  with the ``Mahalanobis`` measure and ``missed_distance=4``;
* ``MultiMeasurementInitiator``: prior mean 0, prior standard deviations 300 m/s on the
  horizontal velocities and 50 m/s on the vertical one (0 on the positions, which the
  measurement fills), its own GNN associator as above, ``min_points=3``, and
  ``UpdateTimeStepsDeleter(2)`` for tentative tracks;
* ``MultiTargetTracker`` with ``UpdateTimeStepsDeleter(3)``.

Tracks are reported at every scan time (the posterior when updated, the prediction when
not), as Stone Soup's tracker yields them. Only the tracking loop is timed (building
the detections is not), as in the shared reference script.

Imported only when ``stonesoup`` is importable (:data:`AVAILABLE`).
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

try:
    import stonesoup
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.deleter.time import UpdateTimeStepsDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.angle import Bearing, Elevation
    from stonesoup.types.array import CovarianceMatrix, StateVector
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater

    AVAILABLE = True
    VERSION = getattr(stonesoup, "__version__", "unknown")
except ImportError:  # the benchmark then runs Hoplon alone
    AVAILABLE = False
    VERSION = None

__all__ = ["AVAILABLE", "VERSION", "StoneSoupRun", "run_stonesoup"]

Q_CV = 0.5  # m^2/s^3 per axis
MISSED_DISTANCE = 4.0
MIN_POINTS = 3
INIT_DELETE_STEPS = 2
TRACK_DELETE_STEPS = 3
PRIOR_SIGMAS = (0.0, 300.0, 0.0, 300.0, 0.0, 50.0)  # e, ve, n, vn, u, vu


class StoneSoupRun(NamedTuple):
    """Track reports (one row per track per scan time): time (s), integer track id,
    radar-ENU position (R, 3) m; the seconds the tracking loop took; measurements fed."""

    time_s: np.ndarray
    track_id: np.ndarray
    enu_m: np.ndarray
    seconds: float
    measurements: int


def run_stonesoup(sensor, scans, *, epoch: datetime = datetime(2026, 3, 9)) -> StoneSoupRun:
    """Track the scans (Hoplon :class:`~hoplon.core.tracker.Scan` objects of one radar,
    in time order) of the radar ``sensor`` (a :class:`~hoplon.core.tracker.SensorInfo`)
    with the Stone Soup reference configuration (module docstring)."""
    if not AVAILABLE:
        raise RuntimeError("stonesoup is not installed")
    mm = CartesianToElevationBearingRange(
        ndim_state=6, mapping=(0, 2, 4),
        noise_covar=np.diag([sensor.sigma_elevation_rad**2, sensor.sigma_azimuth_rad**2, sensor.sigma_range_m**2]),
    )
    frames = []
    n_meas = 0
    for scan in sorted(scans, key=lambda s: s.time_s):
        ts = epoch + timedelta(seconds=float(scan.time_s))
        z = np.asarray(scan.z, dtype=float).reshape(-1, 3)
        n_meas += len(z)
        dets = {
            Detection(StateVector([Elevation(el), Bearing(math.pi / 2 - az), rg]), timestamp=ts, measurement_model=mm)
            for rg, az, el in z.tolist()
        }
        frames.append((ts, dets))

    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(Q_CV)] * 3)
    predictor, updater = ExtendedKalmanPredictor(transition), ExtendedKalmanUpdater(mm)

    def associator():
        return GNNWith2DAssignment(
            DistanceHypothesiser(predictor, updater, measure=Mahalanobis(), missed_distance=MISSED_DISTANCE))

    prior = GaussianState(StateVector([0.0] * 6), CovarianceMatrix(np.diag(np.square(PRIOR_SIGMAS))))
    initiator = MultiMeasurementInitiator(
        prior_state=prior, measurement_model=mm, deleter=UpdateTimeStepsDeleter(INIT_DELETE_STEPS),
        data_associator=associator(), updater=updater, min_points=MIN_POINTS,
    )
    tracker = MultiTargetTracker(initiator=initiator, deleter=UpdateTimeStepsDeleter(TRACK_DELETE_STEPS),
                                 detector=frames, data_associator=associator(), updater=updater)
    t_out, id_out, pos_out = [], [], []
    ids: dict = {}
    start = time.perf_counter()
    for ts, tracks in tracker:
        t = (ts - epoch).total_seconds()
        for tr in tracks:
            s = tr.state_vector
            t_out.append(t)
            id_out.append(ids.setdefault(tr.id, len(ids) + 1))
            pos_out.append((float(s[0]), float(s[2]), float(s[4])))
    seconds = time.perf_counter() - start
    return StoneSoupRun(np.asarray(t_out, float), np.asarray(id_out, np.int64),
                        np.asarray(pos_out, float).reshape(-1, 3), seconds, n_meas)
