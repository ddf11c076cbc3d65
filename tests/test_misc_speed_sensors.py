"""The sensors' shortcuts: the quick coverage test that picks the pairs :func:`observe`
runs on, the measurement sigmas with the SNR converted once, and the detections' order.

``possibly_visible`` must keep every target :func:`observe` finds visible (the engine
drops the others before observing), including targets placed exactly on the field of
view's edges and the range limits, and drop targets clearly outside them (placed with
pymap3d's azimuth-elevation-range geometry, independent of the code under test).
"""

from __future__ import annotations

import math

import numpy as np
import pymap3d
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sensors_sim import GEOD, WGS84, _radar_array, radar_and_targets

from hoplon.core import radar
from hoplon.core.sensors import observe, possibly_visible
from hoplon.sim.sensors import _by_keys_then_range

OUTSIDE_RAD = math.radians(0.5)  # clearly outside an angle limit
OUTSIDE_REL = 1e-3  # clearly outside a range limit (relative)


def _aer_targets(radar, az_rad, el_rad, range_m) -> np.ndarray:
    """ECEF points (N, 3) at azimuth, elevation and slant range from the radar (pymap3d)."""
    x, y, z = pymap3d.aer2ecef(np.degrees(az_rad), np.degrees(el_rad), range_m, radar.lat_deg, radar.lon_deg,
                               radar.alt_m, ell=WGS84)
    return np.column_stack([x, y, z])


def _edges(radar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Azimuths, elevations and ranges on the limits of the field of view and range, and
    on the 4/3-Earth horizon's neighbourhood (low elevations at long range)."""
    half = min(radar.half_width_rad, math.pi)
    az = radar.boresight_rad + np.array([-half, half, 0.0, -half, half, 0.0, 0.0, 0.0])
    el_hi = min(radar.el_max_rad, 0.5 * math.pi - 1e-3)
    el = np.array([0.5 * (radar.el_min_rad + el_hi)] * 3 + [radar.el_min_rad, el_hi, radar.el_min_rad, el_hi, 0.0])
    span = radar.max_range_m - radar.min_range_m
    rng = np.array([radar.min_range_m + 0.5 * span] * 5 + [radar.min_range_m, radar.max_range_m, radar.max_range_m])
    return az, el, np.maximum(rng, 1.0)


@settings(max_examples=300, deadline=None)
@given(radar_and_targets())
def test_possibly_visible_keeps_every_visible_target(case):
    """Property: observe().visible implies possibly_visible, for random targets and for
    targets on the edges of the field of view and the range limits."""
    radar, ground, bearing, height, _ = case
    lon, lat, _ = GEOD.fwd(np.full(ground.size, radar.lon_deg), np.full(ground.size, radar.lat_deg), bearing, ground)
    r = np.vstack([np.column_stack(pymap3d.geodetic2ecef(lat, lon, height, ell=WGS84)), _aer_targets(radar, *_edges(radar))])
    radars = _radar_array(radar)
    obs = observe(radars, np.zeros(r.shape[0], dtype=np.int64), r, np.zeros_like(r), None)
    keep = possibly_visible(radars, 0, r)
    assert keep.shape == obs.visible.shape
    assert np.all(keep[obs.visible])


@settings(max_examples=200, deadline=None)
@given(radar_and_targets())
def test_possibly_visible_drops_targets_clearly_outside(case):
    """Targets half a degree outside the azimuth sector or the elevation band, or 0.1 %
    beyond a range limit, are dropped."""
    radar = case[0]
    half = radar.half_width_rad
    mid_el = 0.5 * (radar.el_min_rad + min(radar.el_max_rad, 0.5 * math.pi - 0.1))
    mid_rng = 0.5 * (radar.min_range_m + radar.max_range_m)
    az, el, rng = [], [], []
    if half + OUTSIDE_RAD < math.pi:  # a face: just outside both edges
        az += [radar.boresight_rad - half - OUTSIDE_RAD, radar.boresight_rad + half + OUTSIDE_RAD]
        el += [mid_el, mid_el]
        rng += [mid_rng, mid_rng]
    if radar.el_min_rad - OUTSIDE_RAD > -0.5 * math.pi:
        az.append(radar.boresight_rad)
        el.append(radar.el_min_rad - OUTSIDE_RAD)
        rng.append(mid_rng)
    if radar.el_max_rad + OUTSIDE_RAD < 0.5 * math.pi:
        az.append(radar.boresight_rad)
        el.append(radar.el_max_rad + OUTSIDE_RAD)
        rng.append(mid_rng)
    az.append(radar.boresight_rad)
    el.append(mid_el)
    rng.append(radar.max_range_m * (1.0 + OUTSIDE_REL))
    if radar.min_range_m * (1.0 - OUTSIDE_REL) > 10.0:
        az.append(radar.boresight_rad)
        el.append(mid_el)
        rng.append(radar.min_range_m * (1.0 - OUTSIDE_REL) - 10.0)
    r = _aer_targets(radar, np.array(az), np.array(el), np.array(rng))
    assert not np.any(possibly_visible(_radar_array(radar), 0, r))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-10.0, 60.0), min_size=1, max_size=20), st.floats(1e5, 1e8), st.floats(1e-3, 0.1),
    st.floats(0.0, 30.0), st.floats(0.0, 1e-3), st.floats(0.01, 0.3), st.floats(1e-3, 0.1), st.floats(0.0, 2.0),
)
def test_measurement_sigmas_are_the_single_sigmas(snr_db, bandwidth, beamwidth, range_floor, angle_floor, wavelength,
                                                  dwell, rate_floor):
    """radar.measurement_sigmas (the SNR converted once) returns the bits of
    range_sigma_m, angle_sigma_rad and range_rate_sigma_mps; no range rate without a
    wavelength and dwell."""
    snr = np.array(snr_db)
    s_r, s_az, s_el, s_rr = radar.measurement_sigmas(
        snr, bandwidth_hz=bandwidth, beamwidth_az_rad=beamwidth, beamwidth_el_rad=2.0 * beamwidth,
        range_floor_m=range_floor, angle_floor_rad=angle_floor, wavelength_m=wavelength, dwell_time_s=dwell,
        range_rate_floor_mps=rate_floor,
    )
    np.testing.assert_array_equal(s_r, radar.range_sigma_m(bandwidth, snr, floor_m=range_floor))
    np.testing.assert_array_equal(s_az, radar.angle_sigma_rad(beamwidth, snr, floor_rad=angle_floor))
    np.testing.assert_array_equal(s_el, radar.angle_sigma_rad(2.0 * beamwidth, snr, floor_rad=angle_floor))
    np.testing.assert_array_equal(s_rr, radar.range_rate_sigma_mps(wavelength, dwell, snr, floor_mps=rate_floor))
    *_, none = radar.measurement_sigmas(snr, bandwidth_hz=bandwidth, beamwidth_az_rad=beamwidth,
                                        beamwidth_el_rad=beamwidth)
    assert none is None


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 80), st.integers(0, 2**32 - 1), st.booleans())
def test_detection_order_is_the_four_key_lexsort(n, seed, coarse_ranges):
    """The detections' order (time, sensor, object, then range among the rows equal in
    the first three) is numpy's stable lexsort of the four keys, ties and all."""
    draw = np.random.default_rng(seed)
    t = draw.integers(0, 6, n).astype(float)
    sensor, obj = draw.integers(0, 3, n), draw.integers(0, 4, n)
    rng_m = draw.integers(0, 3, n).astype(float) if coarse_ranges else draw.uniform(0.0, 1e5, n)
    np.testing.assert_array_equal(_by_keys_then_range(t, sensor, obj, rng_m), np.lexsort((rng_m, obj, sensor, t)))
