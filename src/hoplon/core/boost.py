"""Powered flight of a ballistic missile: a notional single-stage gravity turn.

The model (documented, deliberately simple, after the textbook gravity turn, e.g.
Wiesel, *Spaceflight Dynamics*, ch. 9):

1. Vertical rise: from rest on the ground at the launch point, thrust points along the
   local vertical (ellipsoid normal) for ``vertical_rise_s``.
2. Pitch-over kick: at the end of the vertical rise the Earth-relative velocity is
   turned by the kick angle ``kick_rad`` from the vertical toward the launch azimuth,
   keeping its magnitude.
3. Gravity turn: thrust along the Earth-relative velocity (zero angle of attack) until
   the cutoff time ``cutoff_s`` (at most the burn time). Gravity bends the path.

Thrust T = Isp g0 mdot is constant with mdot = propellant mass / burn time; the mass is
m(t) = m0 - mdot t. Boost drag uses a drag coefficient and reference area
(beta(t) = m(t) / (Cd A)) in the same co-rotating atmosphere as free flight; gravity is
J2 with Coriolis and centrifugal terms (:func:`hoplon.core.earth._acceleration`).
At cutoff the payload separates: the burnout state starts free flight.

The boost is integrated with classical RK4 on a fixed number of steps per phase, so the
burnout state is a smooth function of the controls (kick, cutoff, azimuth) -- what the
targeting solver's Newton iterations need. The step (<= ~0.3 s) keeps the burnout
state within centimetres of a converged solution (see tests).

Controls of a launch: ``azimuth_rad`` (clockwise from north), ``kick_rad`` and
``cutoff_s``. Energy is managed by thrust termination (cutoff before burnout), as a
notional liquid-propellant missile can.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from hoplon.core.earth import (
    P_A,
    P_E2,
    P_SPHERE,
    EarthModel,
    _acceleration,
    _ecef_to_geodetic,
    _height_and_up,
    earth_model,
)

__all__ = ["BoostParameters", "BurnoutState", "BoostSamples", "fly_boost", "vertical_rise", "G0_MPS2"]

G0_MPS2 = 9.80665
"""Standard gravity, m/s^2, for the specific impulse."""

_VERTICAL_STEP_S = 0.1
_TURN_STEPS = 256


@dataclass(frozen=True)
class BoostParameters:
    """Notional single-stage booster(s), arrays of shape (K,) (or scalars broadcast).

    Masses in kg, times in s, area in m^2; ``specific_impulse_s`` is Isp in seconds.
    """

    launch_mass_kg: np.ndarray
    propellant_mass_kg: np.ndarray
    burn_time_s: np.ndarray
    specific_impulse_s: np.ndarray
    vertical_rise_s: np.ndarray
    reference_area_m2: np.ndarray
    drag_coefficient: np.ndarray

    def broadcast(self, k: int) -> BoostParameters:
        """The same parameters as float64 arrays of length ``k``."""
        return BoostParameters(
            **{
                name: np.ascontiguousarray(np.broadcast_to(np.asarray(val, dtype=np.float64), (k,)))
                for name, val in self.__dict__.items()
            }
        )

    def take(self, index: np.ndarray) -> BoostParameters:
        """The parameters of the launches ``index`` (an index array or mask)."""
        return BoostParameters(**{name: np.asarray(val)[index] for name, val in self.__dict__.items()})

    @property
    def thrust_n(self) -> np.ndarray:
        """Thrust, N."""
        return self.specific_impulse_s * G0_MPS2 * self.propellant_mass_kg / self.burn_time_s

    def check(self) -> None:
        """Raise ValueError where parameters are unphysical (message names the first bad one)."""
        checks = [
            (self.launch_mass_kg > 0, "launch_mass must be > 0"),
            (self.propellant_mass_kg > 0, "propellant_mass must be > 0"),
            (self.propellant_mass_kg < self.launch_mass_kg, "propellant_mass must be below launch_mass"),
            (self.burn_time_s > 0, "burn_time must be > 0"),
            (self.specific_impulse_s > 0, "specific_impulse must be > 0"),
            (self.vertical_rise_s >= 0, "vertical_rise must be >= 0"),
            (self.vertical_rise_s < self.burn_time_s, "vertical_rise must be shorter than burn_time"),
            (self.reference_area_m2 > 0, "reference_area must be > 0"),
            (self.drag_coefficient >= 0, "drag_coefficient must be >= 0"),
            (self.thrust_n > 1.05 * self.launch_mass_kg * G0_MPS2, "thrust-to-weight at launch must exceed 1.05"),
        ]
        for ok, message in checks:
            if not np.all(ok):
                raise ValueError(message)


class BurnoutState(NamedTuple):
    """Burnout (thrust cutoff) of K launches: time after launch (s), ECEF state, and
    the Earth-relative flight-path angle (rad) and speed (m/s) there."""

    time_s: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray
    flight_path_angle_rad: np.ndarray
    speed_mps: np.ndarray


class BoostSamples(NamedTuple):
    """The integration nodes of K boost phases: launch k owns rows
    ``offsets[k]:offsets[k+1]`` of ``time_s`` (after launch), positions and velocities."""

    offsets: np.ndarray
    time_s: np.ndarray
    r_ecef_m: np.ndarray
    v_ecef_mps: np.ndarray


@numba.njit(cache=True)
def _up(x: float, y: float, z: float, p: np.ndarray) -> tuple[float, float, float]:
    _, ux, uy, uz = _height_and_up(x, y, z, p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
    return ux, uy, uz


@numba.njit(cache=True)
def _boost_deriv(
    t: float, y: np.ndarray, out: np.ndarray, vertical: bool, m0: float, mdot: float, thrust: float,
    cda: float, p: np.ndarray,
) -> None:
    m = m0 - mdot * t
    ax, ay, az = _acceleration(y[0], y[1], y[2], y[3], y[4], y[5], cda / m, p)
    if vertical:
        dx, dy, dz = _up(y[0], y[1], y[2], p)
    else:
        sp = math.sqrt(y[3] * y[3] + y[4] * y[4] + y[5] * y[5])
        dx, dy, dz = y[3] / sp, y[4] / sp, y[5] / sp
    a_t = thrust / m
    out[0] = y[3]
    out[1] = y[4]
    out[2] = y[5]
    out[3] = ax + a_t * dx
    out[4] = ay + a_t * dy
    out[5] = az + a_t * dz


@numba.njit(cache=True)
def _rk4_phase(
    t0: float, t1: float, n: int, y: np.ndarray, vertical: bool, m0: float, mdot: float, thrust: float,
    cda: float, p: np.ndarray, rec: np.ndarray, row: int, record: bool,
) -> int:
    """Integrate one boost phase with n RK4 steps; optionally record each node."""
    h = (t1 - t0) / n
    k1 = np.empty(6)
    k2 = np.empty(6)
    k3 = np.empty(6)
    k4 = np.empty(6)
    tmp = np.empty(6)
    t = t0
    for _ in range(n):
        _boost_deriv(t, y, k1, vertical, m0, mdot, thrust, cda, p)
        for i in range(6):
            tmp[i] = y[i] + 0.5 * h * k1[i]
        _boost_deriv(t + 0.5 * h, tmp, k2, vertical, m0, mdot, thrust, cda, p)
        for i in range(6):
            tmp[i] = y[i] + 0.5 * h * k2[i]
        _boost_deriv(t + 0.5 * h, tmp, k3, vertical, m0, mdot, thrust, cda, p)
        for i in range(6):
            tmp[i] = y[i] + h * k3[i]
        _boost_deriv(t + h, tmp, k4, vertical, m0, mdot, thrust, cda, p)
        for i in range(6):
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])
        t += h
        if record:
            rec[row, 0] = t
            rec[row, 1:7] = y
        row += 1
    return row


@numba.njit(cache=True)
def _n_vertical(t_v: float) -> int:
    return max(1, int(math.ceil(t_v / _VERTICAL_STEP_S))) if t_v > 0.0 else 0


@numba.njit(cache=True)
def _vertical_item(
    i: int, r0: np.ndarray, m0: np.ndarray, mdot: np.ndarray, thrust: np.ndarray, cda: np.ndarray,
    t_v: np.ndarray, p: np.ndarray, y_out: np.ndarray, rec_offsets: np.ndarray, rec: np.ndarray, record: bool,
) -> None:
    """Vertical rise of launch i from rest (does not depend on the launch controls)."""
    y = np.zeros(6)
    y[0:3] = r0[i]
    row = rec_offsets[i]
    if record:
        rec[row, 0] = 0.0
        rec[row, 1:7] = y
    nv = _n_vertical(t_v[i])
    if nv > 0:
        _rk4_phase(0.0, t_v[i], nv, y, True, m0[i], mdot[i], thrust[i], cda[i], p, rec, row + 1, record)
    y_out[i] = y


@numba.njit(cache=True)
def _turn_item(
    i: int, y_v: np.ndarray, azimuth: np.ndarray, kick: np.ndarray, cutoff: np.ndarray, m0: np.ndarray,
    mdot: np.ndarray, thrust: np.ndarray, cda: np.ndarray, t_v: np.ndarray, p: np.ndarray, y_out: np.ndarray,
    rec_offsets: np.ndarray, rec: np.ndarray, record: bool,
) -> None:
    """Pitch-over kick and gravity turn of launch i from its end-of-rise state y_v[i]."""
    y = y_v[i].copy()
    row = rec_offsets[i] + 1 + _n_vertical(t_v[i])
    # pitch-over kick: elevation 90 deg - kick toward the launch azimuth
    lat, lon, _ = _ecef_to_geodetic(y[0], y[1], y[2], p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
    ux, uy, uz = math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)
    ex, ey = -math.sin(lon), math.cos(lon)
    nx, ny, nz = -math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)
    sp = math.sqrt(y[3] * y[3] + y[4] * y[4] + y[5] * y[5])
    if sp == 0.0:
        sp = 1e-3  # no vertical rise: start the turn from (almost) rest
    sa, ca = math.sin(azimuth[i]), math.cos(azimuth[i])
    se, ce = math.cos(kick[i]), math.sin(kick[i])  # sin/cos of the elevation
    y[3] = sp * (se * ux + ce * (sa * ex + ca * nx))
    y[4] = sp * (se * uy + ce * (sa * ey + ca * ny))
    y[5] = sp * (se * uz + ce * ca * nz)
    _rk4_phase(t_v[i], cutoff[i], _TURN_STEPS, y, False, m0[i], mdot[i], thrust[i], cda[i], p, rec, row, record)
    y_out[i] = y


@numba.njit(cache=True, parallel=True)
def _vertical_parallel(r0, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record) -> None:
    for i in numba.prange(r0.shape[0]):
        _vertical_item(i, r0, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record)


@numba.njit(cache=True)
def _vertical_serial(r0, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record) -> None:
    for i in range(r0.shape[0]):
        _vertical_item(i, r0, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record)


@numba.njit(cache=True, parallel=True)
def _turn_parallel(y_v, azimuth, kick, cutoff, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record) -> None:
    for i in numba.prange(y_v.shape[0]):
        _turn_item(i, y_v, azimuth, kick, cutoff, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record)


@numba.njit(cache=True)
def _turn_serial(y_v, azimuth, kick, cutoff, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record) -> None:
    for i in range(y_v.shape[0]):
        _turn_item(i, y_v, azimuth, kick, cutoff, m0, mdot, thrust, cda, t_v, p, y_out, rec_offsets, rec, record)


_PARALLEL_MIN_LAUNCHES = 32


def _launch_positions(lat_deg, lon_deg, alt_m, model: EarthModel) -> np.ndarray:
    from hoplon.core.frames import geodetic_to_ecef  # noqa: PLC0415 (avoid import cycle)

    return np.ascontiguousarray(np.atleast_2d(geodetic_to_ecef(lat_deg, lon_deg, alt_m, earth=model)))


def _flight_path(r: np.ndarray, v: np.ndarray, model: EarthModel) -> tuple[np.ndarray, np.ndarray]:
    from hoplon.core.frames import ecef_to_geodetic  # noqa: PLC0415

    geo = ecef_to_geodetic(r, earth=model)
    lat, lon = np.radians(geo.lat_deg), np.radians(geo.lon_deg)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    speed = np.linalg.norm(v, axis=-1)
    fpa = np.arcsin(np.clip(np.sum(v * up, axis=-1) / np.maximum(speed, 1e-12), -1.0, 1.0))
    return fpa, speed


def _prepare(launch_lat_deg, launch_lon_deg, launch_alt_m, boost: BoostParameters, model: EarthModel):
    r0 = _launch_positions(launch_lat_deg, launch_lon_deg, launch_alt_m, model)
    k = r0.shape[0]
    bp = boost.broadcast(k)
    mdot = bp.propellant_mass_kg / bp.burn_time_s
    return r0, k, bp, (bp.launch_mass_kg, mdot, bp.thrust_n, bp.drag_coefficient * bp.reference_area_m2, bp.vertical_rise_s)


_RISES: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_RISES_KEPT = 16


def _rise(r0: np.ndarray, phys: tuple, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vertical rises of K launches (:func:`_prepare`'s positions and physics): the
    end-of-rise states (K, 6), and the nodes [t, r, v] of each (launch k owns rows
    ``offsets[k]:offsets[k+1]``: its start at rest, then one per step). Kept for the
    last few sets of launches (by the bits of the inputs): the rise does not depend on
    the controls, and a Monte Carlo run flies the same launches in every replication,
    in the targeting solver's flights and the engine's. Read-only."""
    key = b"".join(np.ascontiguousarray(x).tobytes() for x in (r0, *phys, p))
    rise = _RISES.get(key)
    if rise is None:
        k = r0.shape[0]
        offsets = np.concatenate([[0], np.cumsum([1 + _n_vertical(t) for t in phys[4]])]).astype(np.int64)
        nodes = np.empty((int(offsets[-1]), 7))
        y_v = np.empty((k, 6))
        kernel = _vertical_parallel if k >= _PARALLEL_MIN_LAUNCHES else _vertical_serial
        kernel(r0, *phys, p, y_v, offsets, nodes, True)
        if len(_RISES) >= _RISES_KEPT:
            _RISES.clear()
        rise = _RISES[key] = (y_v, offsets, nodes)
    return rise


def vertical_rise(
    launch_lat_deg: np.ndarray,
    launch_lon_deg: np.ndarray,
    launch_alt_m: np.ndarray,
    *,
    boost: BoostParameters,
    earth: str | EarthModel = "wgs84",
) -> np.ndarray:
    """ECEF states (K, 6) at the end of the vertical rise of K launches.

    The rise does not depend on the launch controls, so callers that fly the same
    launches many times (the targeting solver) compute it once and pass it to
    :func:`fly_boost`.
    """
    model = earth_model(earth)
    r0, _, _, phys = _prepare(launch_lat_deg, launch_lon_deg, launch_alt_m, boost, model)
    return _rise(r0, phys, model.params())[0].copy()


def fly_boost(
    launch_lat_deg: np.ndarray,
    launch_lon_deg: np.ndarray,
    launch_alt_m: np.ndarray,
    *,
    azimuth_rad: np.ndarray,
    kick_rad: np.ndarray,
    cutoff_s: np.ndarray,
    boost: BoostParameters,
    earth: str | EarthModel = "wgs84",
    record: bool = False,
    vertical: np.ndarray | None = None,
) -> tuple[BurnoutState, BoostSamples | None]:
    """Fly K boost phases; return their burnout states (and, with ``record``, the nodes).

    ``cutoff_s`` must lie in (vertical_rise_s, burn_time_s]. ``vertical`` may pass the
    end-of-rise states from :func:`vertical_rise` (ignored when recording).
    """
    model = earth_model(earth)
    r0, k, bp, phys = _prepare(launch_lat_deg, launch_lon_deg, launch_alt_m, boost, model)
    az = np.ascontiguousarray(np.broadcast_to(np.asarray(azimuth_rad, dtype=np.float64), (k,)))
    kick = np.ascontiguousarray(np.broadcast_to(np.asarray(kick_rad, dtype=np.float64), (k,)))
    cut = np.ascontiguousarray(np.broadcast_to(np.asarray(cutoff_s, dtype=np.float64), (k,)))
    if np.any(cut <= bp.vertical_rise_s) or np.any(cut > bp.burn_time_s * (1 + 1e-12)):
        raise ValueError("cutoff_s must lie in (vertical_rise_s, burn_time_s]")
    p = model.params()
    offsets = np.zeros(k + 1, dtype=np.int64)
    rec = np.empty((0, 7))
    if vertical is None or record:
        y_v, rise_offsets, rise_nodes = _rise(r0, phys, p)
        if record:  # each launch's rise nodes, then its turn's
            rise_rows = np.diff(rise_offsets)
            offsets[1:] = np.cumsum(rise_rows + _TURN_STEPS)
            rec = np.empty((int(offsets[-1]), 7))
            rec[np.repeat(offsets[:-1] - rise_offsets[:-1], rise_rows) + np.arange(rise_offsets[-1])] = rise_nodes
    else:
        y_v = np.ascontiguousarray(vertical, dtype=np.float64)
        if y_v.shape != (k, 6):
            raise ValueError(f"vertical must have shape ({k}, 6), got {y_v.shape}")
    y = np.empty((k, 6))
    turn = _turn_parallel if k >= _PARALLEL_MIN_LAUNCHES else _turn_serial
    turn(y_v, az, kick, cut, *phys, p, y, offsets, rec, record)
    r, v = y[:, :3].copy(), y[:, 3:].copy()
    fpa, speed = _flight_path(r, v, model)
    burnout = BurnoutState(cut.copy(), r, v, fpa, speed)
    samples = BoostSamples(offsets, rec[:, 0].copy(), rec[:, 1:4].copy(), rec[:, 4:7].copy()) if record else None
    return burnout, samples
