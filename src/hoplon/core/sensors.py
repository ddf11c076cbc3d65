"""Radars as arrays: many radars observing many targets at once, and their coverage.

A :class:`RadarArray` holds M radars (structure of arrays). :func:`observe` takes P
(radar, target state) pairs -- every target at every scan of every radar, flattened --
and returns, for each pair, whether the target is in coverage, its signal-to-noise
ratio and detection probability, and what a detection would measure. Scheduling (which
scans, cues, search versus track dwells) is the engine's; the physics is here and in
:mod:`hoplon.core.radar`.

The radar model (documented, notional):

* Coverage: line of sight over the 4/3-Earth bulge, the face's azimuth sector and
  elevation band (or 360 deg for a rotating radar), instrumented range limits.
* Search: the search radar equation over the search sector -- the azimuth sector times
  the elevation band up to ``search_elevation_max`` -- searched once per scan period:
  SNR = Pav Ae sigma t_s / (4 pi Omega R^4 k Ts L).
* Cued search and track dwells add a gain in dB to that SNR (energy focused on a
  predicted direction instead of the whole sector); the engine decides when.
* Detection: Swerling 0 or 1 target (a new exponential RCS draw every scan), square-law
  detector with noncoherent integration of ``n_pulses``, threshold set by ``pfa``.
* Measurements: true range, azimuth, elevation (geometric, from the radar's WGS84
  position) plus Gaussian noise with sigmas from the SNR (beamwidth / (1.6 sqrt(2 SNR)),
  (c / 2B) / sqrt(2 SNR)) root-sum-squared with floors; optionally range rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from hoplon.core import radar
from hoplon.core.earth import EarthModel, earth_model
from hoplon.core.frames import enu_rotation, geodetic_to_ecef

__all__ = ["RadarArray", "Observation", "observe", "possibly_visible", "pair_snr_db", "aspect_angle_rad", "rcs_by_aspect_m2", "Coverage", "coverage"]


@dataclass(frozen=True)
class RadarArray:
    """M radars as arrays of shape (M,). Angles in rad, lengths in m, times in s."""

    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    boresight_rad: np.ndarray
    azimuth_half_width_rad: np.ndarray
    elevation_min_rad: np.ndarray
    elevation_max_rad: np.ndarray
    search_elevation_max_rad: np.ndarray
    min_range_m: np.ndarray
    max_range_m: np.ndarray
    scan_period_s: np.ndarray
    power_aperture_w_m2: np.ndarray
    system_temp_k: np.ndarray
    losses_db: np.ndarray
    pfa: np.ndarray
    n_pulses: np.ndarray
    beamwidth_az_rad: np.ndarray
    beamwidth_el_rad: np.ndarray
    bandwidth_hz: np.ndarray
    wavelength_m: np.ndarray
    range_floor_m: np.ndarray
    angle_floor_rad: np.ndarray
    range_rate: np.ndarray
    range_rate_floor_mps: np.ndarray
    dwell_time_s: np.ndarray

    def __post_init__(self) -> None:
        m = None
        for f in fields(self):
            value = np.atleast_1d(np.asarray(getattr(self, f.name)))
            object.__setattr__(self, f.name, value)
            if m is None:
                m = value.shape[0]
            elif value.shape != (m,):
                raise ValueError(f"{f.name} must have shape ({m},), got {value.shape}")

    def __len__(self) -> int:
        return int(self.lat_deg.shape[0])

    def take(self, index) -> RadarArray:
        """The radars ``index`` (an index array or mask)."""
        return RadarArray(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @property
    def azimuth_span_rad(self) -> np.ndarray:
        return np.minimum(2.0 * self.azimuth_half_width_rad, 2.0 * math.pi)

    @property
    def search_solid_angle_sr(self) -> np.ndarray:
        """Solid angle searched each scan period (sector up to the search elevation)."""
        return radar.sector_solid_angle_sr(self.azimuth_span_rad, self.elevation_min_rad, self.search_elevation_max_rad)

    def position_ecef_m(self, earth: str | EarthModel = "wgs84") -> np.ndarray:
        return np.atleast_2d(geodetic_to_ecef(self.lat_deg, self.lon_deg, self.alt_m, earth=earth))

    def false_alarms_per_scan(self) -> np.ndarray:
        """Mean number of false alarms per scan over the search sector (Pfa x cells)."""
        cells = radar.resolution_cells(
            range_min_m=self.min_range_m, range_max_m=self.max_range_m,
            range_resolution_m=radar.SPEED_OF_LIGHT_MPS / (2.0 * self.bandwidth_hz),
            solid_angle_sr=self.search_solid_angle_sr, beamwidth_az_rad=self.beamwidth_az_rad,
            beamwidth_el_rad=self.beamwidth_el_rad,
        )
        return radar.false_alarm_rate_per_scan(self.pfa, cells)


def aspect_angle_rad(target_ecef_m: np.ndarray, target_vel_mps: np.ndarray, sensor_ecef_m: np.ndarray) -> np.ndarray:
    """Angle (rad) between each target's velocity and its line of sight to the sensor:
    0 nose-on (flying at the sensor), pi/2 broadside, pi tail-on; pi/2 at rest."""
    los = sensor_ecef_m - target_ecef_m
    speed = np.linalg.norm(target_vel_mps, axis=-1)
    dist = np.linalg.norm(los, axis=-1)
    cos = np.sum(los * target_vel_mps, axis=-1) / np.maximum(speed * dist, 1e-300)
    return np.where(speed > 0.0, np.arccos(np.clip(cos, -1.0, 1.0)), 0.5 * math.pi)


def rcs_by_aspect_m2(aspect_rad: np.ndarray, nose_m2: np.ndarray, broadside_m2: np.ndarray, tail_m2: np.ndarray) -> np.ndarray:
    """Mean RCS (m^2) interpolated linearly in dB: nose at 0, broadside at pi/2, tail at pi."""
    a = np.clip(np.asarray(aspect_rad, dtype=float), 0.0, math.pi) / (0.5 * math.pi)  # 0..2
    n, b, t = (10.0 * np.log10(np.asarray(x, dtype=float)) for x in (nose_m2, broadside_m2, tail_m2))
    db = np.where(a <= 1.0, n + (b - n) * a, b + (t - b) * (a - 1.0))
    return 10.0 ** (db / 10.0)


class Observation(NamedTuple):
    """P (radar, target) pairs: geometry, coverage, SNR, Pd and measurement noise.

    ``visible``: line of sight, field of view and range limits (the track volume);
    ``in_search``: visible and below the search elevation; ``snr_db`` the search SNR for
    the mean RCS (before fluctuation and dwell gains), NaN where not visible.
    """

    range_m: np.ndarray
    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    range_rate_mps: np.ndarray
    visible: np.ndarray
    in_search: np.ndarray
    snr_db: np.ndarray


def observe(
    radars: RadarArray,
    radar_index: np.ndarray,
    target_ecef_m: np.ndarray,
    target_vel_mps: np.ndarray,
    rcs_m2: np.ndarray | None,
    *,
    earth: str | EarthModel = "wgs84",
    refraction_k: float = 4.0 / 3.0,
) -> Observation:
    """Geometry, coverage and search SNR of P (radar, target) pairs (no randomness).

    ``radar_index`` (P,) picks the radar of each pair; targets are ECEF positions and
    Earth-relative velocities (P, 3); ``rcs_m2`` (P,) the mean RCS toward that radar
    (None: geometry and coverage only, the SNR left NaN; :func:`pair_snr_db` gives it
    later for the visible pairs). Pairs are processed per radar (one rotation into its
    local frame); the line of sight is tested only where the field of view and range
    allow, and the SNR is NaN where the target is not visible.
    """
    model = earth_model(earth)
    idx = np.asarray(radar_index, dtype=np.int64)
    r = np.atleast_2d(np.asarray(target_ecef_m, dtype=float))
    v = np.atleast_2d(np.asarray(target_vel_mps, dtype=float))
    rcs = None if rcs_m2 is None else np.broadcast_to(np.asarray(rcs_m2, dtype=float), idx.shape)
    n = idx.shape[0]
    rng = np.empty(n)
    az = np.empty(n)
    el = np.empty(n)
    rdot = np.empty(n)
    visible = np.zeros(n, dtype=bool)
    in_search = np.zeros(n, dtype=bool)
    snr = np.full(n, np.nan)
    sites = radars.position_ecef_m(model)
    rot = np.asarray(enu_rotation(radars.lat_deg, radars.lon_deg)).reshape(-1, 3, 3)
    for j in np.unique(idx):
        sel = np.flatnonzero(idx == j)
        d = r[sel] - sites[j]
        enu = d @ rot[j].T
        rg = np.linalg.norm(enu, axis=1)
        safe = np.maximum(rg, 1e-300)
        a = np.mod(np.arctan2(enu[:, 0], enu[:, 1]), 2.0 * math.pi)
        e = np.arcsin(np.clip(enu[:, 2] / safe, -1.0, 1.0))
        rng[sel], az[sel], el[sel] = rg, a, e
        rdot[sel] = np.sum(d * v[sel], axis=1) / safe
        cand = np.asarray(
            radar.in_field_of_view(
                a, e, boresight_azimuth_rad=radars.boresight_rad[j], azimuth_half_width_rad=radars.azimuth_half_width_rad[j],
                elevation_min_rad=radars.elevation_min_rad[j], elevation_max_rad=radars.elevation_max_rad[j],
            ),
            dtype=bool,
        ) & (rg >= radars.min_range_m[j]) & (rg <= radars.max_range_m[j])
        c = np.flatnonzero(cand)
        if c.size:
            clear = np.atleast_1d(radar.line_of_sight(sites[j], r[sel[c]], k=refraction_k, earth=model))
            c = c[clear]
        vis_sel = sel[c]
        visible[vis_sel] = True
        in_search[vis_sel] = e[c] <= radars.search_elevation_max_rad[j]
        if c.size and rcs is not None:
            snr[vis_sel] = _search_snr_db(radars, j, rcs[vis_sel], rg[c])
    return Observation(rng, az, el, rdot, visible, in_search, snr)


_COARSE_SLACK = 1e-6
""":func:`possibly_visible`'s margin: 1e-6 of the range limits (plus a metre) and of the
sines and cosines of the angle limits, far above the rounding of either computation."""


def possibly_visible(
    radars: RadarArray, j: int, target_ecef_m: np.ndarray, *, earth: str | EarthModel = "wgs84"
) -> np.ndarray:
    """Which of P targets (ECEF, (P, 3) m) radar ``j`` could see: its range limits and
    field of view tested with dot products and a margin (:data:`_COARSE_SLACK`), no
    angles and no line of sight. True wherever :func:`observe` finds a target visible
    (and sometimes where it does not), so :func:`observe` need only run on these."""
    site = radars.position_ecef_m(earth_model(earth))[j]
    d = np.atleast_2d(np.asarray(target_ecef_m, dtype=float)) - site
    lo = float(radars.min_range_m[j]) * (1.0 - _COARSE_SLACK) - 1.0
    hi = float(radars.max_range_m[j]) * (1.0 + _COARSE_SLACK) + 1.0
    # first the range limit, then the angles of the targets within it
    out = np.zeros(d.shape[0], dtype=bool)
    near = np.flatnonzero(np.einsum("ij,ij->i", d, d) <= hi * hi)
    rot = np.asarray(enu_rotation(radars.lat_deg[j], radars.lon_deg[j])).reshape(3, 3)
    east, north, up = rot @ d[near].T
    rg = np.sqrt(east * east + north * north + up * up)
    # sin(elevation) = up / range within the elevation band (limits clipped to +-90 deg)
    sin_lo = math.sin(min(max(float(radars.elevation_min_rad[j]), -0.5 * math.pi), 0.5 * math.pi))
    sin_hi = math.sin(min(max(float(radars.elevation_max_rad[j]), -0.5 * math.pi), 0.5 * math.pi))
    ok = (rg >= lo) & (up >= (sin_lo - _COARSE_SLACK) * rg) & (up <= (sin_hi + _COARSE_SLACK) * rg)
    half = float(radars.azimuth_half_width_rad[j])
    if half < math.pi:
        # cos(azimuth - boresight) = (east, north) . (sin, cos)(boresight) / horizontal range
        bore = float(radars.boresight_rad[j])
        ok &= east * math.sin(bore) + north * math.cos(bore) >= (math.cos(half) - _COARSE_SLACK) * np.hypot(east, north)
    out[near] = ok
    return out


def pair_snr_db(radars: RadarArray, radar_index: np.ndarray, range_m: np.ndarray, rcs_m2: np.ndarray) -> np.ndarray:
    """Search SNR (dB) of P (radar, target) pairs at ``range_m`` (P,) for the mean RCS
    ``rcs_m2`` (P,) m^2: :func:`observe`'s ``snr_db`` of the pairs it finds visible."""
    idx = np.asarray(radar_index, dtype=np.int64)
    rg = np.asarray(range_m, dtype=float)
    rcs = np.broadcast_to(np.asarray(rcs_m2, dtype=float), idx.shape)
    snr = np.empty(idx.shape[0])
    for j in np.unique(idx):
        sel = np.flatnonzero(idx == j)
        snr[sel] = _search_snr_db(radars, j, rcs[sel], rg[sel])
    return snr


def _search_snr_db(radars: RadarArray, j: int, rcs_m2: np.ndarray, range_m: np.ndarray) -> np.ndarray:
    """Search SNR (dB) of radar ``j`` against targets of mean RCS ``rcs_m2`` at ``range_m``."""
    return radar.search_snr_db(
        power_aperture_w_m2=radars.power_aperture_w_m2[j], rcs_m2=rcs_m2, range_m=np.maximum(range_m, 1.0),
        solid_angle_sr=radars.search_solid_angle_sr[j], scan_time_s=radars.scan_period_s[j],
        system_temp_k=radars.system_temp_k[j], loss_db=radars.losses_db[j],
    )


def measurement_sigmas(radars: RadarArray, radar_index: np.ndarray, snr_db: np.ndarray, *, range_rate: bool = True):
    """Range (m), azimuth and elevation (rad) and range-rate (m/s; None without
    ``range_rate``) sigmas at ``snr_db`` (:func:`hoplon.core.radar.measurement_sigmas`)."""
    idx = np.asarray(radar_index, dtype=np.int64)
    doppler = {
        "wavelength_m": radars.wavelength_m[idx], "dwell_time_s": radars.dwell_time_s[idx],
        "range_rate_floor_mps": radars.range_rate_floor_mps[idx],
    } if range_rate else {}
    sigmas = radar.measurement_sigmas(
        snr_db, bandwidth_hz=radars.bandwidth_hz[idx], beamwidth_az_rad=radars.beamwidth_az_rad[idx],
        beamwidth_el_rad=radars.beamwidth_el_rad[idx], range_floor_m=radars.range_floor_m[idx],
        angle_floor_rad=radars.angle_floor_rad[idx], **doppler,
    )
    return tuple(None if s is None else np.asarray(s) for s in sigmas)


class Coverage(NamedTuple):
    """Detection range (m) of one radar against one target versus target altitude.

    Per altitude: the horizon-limited range (4/3 Earth), the SNR-limited range (search
    and track dwells), the range beyond which the target is below the lowest elevation,
    the instrumented range, and the detection range (search) and track range: the least
    of the limits that apply. (Search covers elevations up to the search sector's top.)
    """

    altitude_m: np.ndarray
    horizon_range_m: np.ndarray
    snr_range_m: np.ndarray
    track_snr_range_m: np.ndarray
    elevation_limited_range_m: np.ndarray
    instrumented_range_m: np.ndarray
    detection_range_m: np.ndarray
    track_range_m: np.ndarray


def coverage(
    radars: RadarArray,
    *,
    rcs_m2: float,
    altitudes_m: np.ndarray,
    pd: float = 0.9,
    swerling: int = 1,
    track_gain_db: float = 0.0,
    refraction_k: float = 4.0 / 3.0,
    earth_radius_m: float = 6371e3,
) -> Coverage:
    """Coverage table of the first radar of ``radars``: detection range vs altitude.

    The SNR-limited range is where the search radar equation gives the SNR that
    reaches ``pd`` at the radar's Pfa (exact, with its pulses and ``swerling``).
    """
    r0 = radars.take(np.array([0]))
    h = np.atleast_1d(np.asarray(altitudes_m, dtype=float))
    need = radar.required_snr_db(pd, float(r0.pfa[0]), swerling=swerling, n_pulses=int(r0.n_pulses[0]))
    kw = dict(
        power_aperture_w_m2=float(r0.power_aperture_w_m2[0]), rcs_m2=rcs_m2, solid_angle_sr=float(r0.search_solid_angle_sr[0]),
        scan_time_s=float(r0.scan_period_s[0]), system_temp_k=float(r0.system_temp_k[0]), loss_db=float(r0.losses_db[0]),
    )
    snr_range = np.full(h.shape, float(radar.search_range_m(snr_db=need, **kw)))
    track_range = np.full(h.shape, float(radar.search_range_m(snr_db=need - track_gain_db, **kw)))
    horizon = np.asarray(radar.horizon_range_m(float(r0.alt_m[0]), np.maximum(h, 0.0), k=refraction_k, earth_radius_m=earth_radius_m))
    # slant range where a target at height h is seen at the radar's lowest elevation;
    # elevations are geometric (as measured), so this uses the true Earth radius, while
    # the horizon above uses the refracted (effective) one: law of cosines in the
    # triangle centre-radar-target
    ke = earth_radius_m
    a = ke + float(r0.alt_m[0])
    b = ke + h
    e = float(r0.elevation_min_rad[0])
    # b^2 = a^2 + R^2 + 2 a R sin(e)  ->  R = -a sin e + sqrt(a^2 sin^2 e + b^2 - a^2)
    disc = a * a * math.sin(e) ** 2 + b * b - a * a
    elev_range = np.where(disc >= 0.0, -a * math.sin(e) + np.sqrt(np.maximum(disc, 0.0)), 0.0)
    instrumented = np.full(h.shape, float(r0.max_range_m[0]))
    geometric = np.minimum.reduce([horizon, elev_range, instrumented])
    detection = np.minimum(snr_range, geometric)
    track = np.minimum(track_range, geometric)
    return Coverage(h, horizon, snr_range, track_range, elev_range, instrumented, detection, track)
