"""Tracking benchmark scenarios: one radar, nearly-constant-velocity targets, clutter.

Written to the specification of the project's tracking benchmark (the same one the
shared reference generator follows; nothing is imported from it):

* One radar at a WGS84 place (Kürecik by default: 38.34944 N, 37.79361 E, 2085 m)
  observes targets that move in its local East-North-Up frame ("up" the ellipsoid
  normal) by a nearly-constant-velocity model: per axis, between scans dt apart,
  ``[p, v] <- F [p, v] + w`` with ``F = [[1, dt], [0, 1]]`` and ``w`` Gaussian of
  covariance ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]`` (q in m^2/s^3).
* Target k is born at scan ``birth`` (uniform integer in [0, scans // 2)) and lives
  ``life`` scans (uniform integer in [40, scans); runs shorter than 41 scans clip the
  lower bound to scans - 1), until ``min(scans, birth + life)``. At birth it lies at
  horizontal range U(min_range, max_range) (30-150 km) and azimuth U(0, 2 pi), at
  height ("up") U(1, 12) km, with horizontal speed U(100, 300) m/s towards a heading
  U(0, 2 pi) and vertical speed N(0, 3^2) m/s.
* Each scan each living target is detected with probability pd; the radar reports
  range, azimuth (clockwise from north, in [0, 2 pi)) and elevation (above the local
  horizontal plane) with Gaussian noise sigma_range (25 m) and sigma_angle (2 mrad).
* False alarms: Poisson(clutter) per scan, uniform in range [10, 200] km, azimuth
  [0, 2 pi) and elevation [0, 0.2] rad.
* Measurements of a scan are ordered by range (the order says nothing about origin).

:func:`generate` builds that scenario (defaults: 40 targets, 120 scans, dt 1 s, pd 0.9,
30 false alarms per scan, q 0.5, 25 m, 2 mrad) in memory: the radar as a Hoplon
:class:`~hoplon.core.tracker.SensorInfo`, the scans as Hoplon
:class:`~hoplon.core.tracker.Scan` objects (measurement labels: the target id, -1 for a
false alarm), and the truth as arrays (time, id, ECEF position and velocity, and the
radar-ENU ones). :meth:`TrackingScenario.write` writes sensors.yaml, measurements.csv
and truth.csv in the shared benchmark's file layout, for ``hoplon track`` and
``hoplon metrics``. :func:`generate_scale` builds the scale case: N targets (1000)
living through every scan, spread over a wide azimuth sector, with M false alarms per
scan (1000) in the same sector.

Deterministic for given arguments (NumPy's PCG64 generator seeded with ``seed``); the
random stream is this module's own, so a seed here is not the same draw as the same
seed of another generator of the specification.

    python benchmarks/tracking_scenarios.py --out DIR [--seed 1] [--targets 40] ...
    python benchmarks/tracking_scenarios.py --scale --out DIR [--targets 1000] [--clutter 1000]
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hoplon.core.frames import ecef_to_geodetic, enu_to_ecef, enu_velocity_to_ecef
from hoplon.core.tracker import Scan, SensorInfo

__all__ = ["KURECIK", "TrackingScenario", "generate", "generate_scale"]

KURECIK = (38.34944, 37.79361, 2085.0)
"""The default radar site: latitude (deg), longitude (deg), height above WGS84 (m)."""

CLUTTER_RANGE_M = (10e3, 200e3)
CLUTTER_ELEVATION_RAD = (0.0, 0.2)


@dataclass
class TrackingScenario:
    """A generated scenario: the radar, its scans and the truth (see the module docstring).

    Truth arrays have one row per living target per scan, ordered by time then target id.
    Measurement arrays (``meas_*``) have one row per measurement, ordered by time then
    range; ``meas_label`` is the target id or -1 for a false alarm. ``scans`` holds one
    :class:`Scan` per scan time with at least one measurement (the same rows, in order,
    with ``index`` their row numbers).
    """

    sensor: SensorInfo
    params: dict
    truth_time_s: np.ndarray
    truth_id: np.ndarray
    truth_ecef_m: np.ndarray
    truth_vel_ecef_mps: np.ndarray
    truth_enu_m: np.ndarray
    truth_vel_enu_mps: np.ndarray
    meas_time_s: np.ndarray
    meas_range_m: np.ndarray
    meas_azimuth_rad: np.ndarray
    meas_elevation_rad: np.ndarray
    meas_label: np.ndarray
    scans: list[Scan] = field(default_factory=list)

    @property
    def sensors(self) -> list[SensorInfo]:
        return [self.sensor]

    @property
    def n_measurements(self) -> int:
        return int(self.meas_time_s.shape[0])

    @property
    def n_false_alarms(self) -> int:
        return int(np.count_nonzero(self.meas_label < 0))

    def write(self, out_dir: str | Path) -> dict[str, Path]:
        """Write sensors.yaml, measurements.csv and truth.csv into ``out_dir`` (created
        if needed); returns their paths by name."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        s = self.sensor
        paths = {"sensors": out / "sensors.yaml", "measurements": out / "measurements.csv", "truth": out / "truth.csv"}
        paths["sensors"].write_text(
            "sensors:\n"
            f"  - id: {s.id}\n    lat_deg: {s.lat_deg!r}\n    lon_deg: {s.lon_deg!r}\n    alt_m: {s.alt_m!r}\n"
            f"    sigma_range_m: {s.sigma_range_m!r}\n    sigma_azimuth_rad: {s.sigma_azimuth_rad!r}\n"
            f"    sigma_elevation_rad: {s.sigma_elevation_rad!r}\n    pd: {s.pd!r}\n"
            f"    false_alarms_per_scan: {s.false_alarms_per_scan!r}\n    scan_period_s: {s.scan_period_s!r}\n",
            encoding="utf-8",
        )
        with paths["measurements"].open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["time_s", "sensor_id", "range_m", "azimuth_rad", "elevation_rad"])
            for row in zip(self.meas_time_s.tolist(), self.meas_range_m.tolist(), self.meas_azimuth_rad.tolist(),
                           self.meas_elevation_rad.tolist()):
                w.writerow([repr(row[0]), s.id, repr(row[1]), repr(row[2]), repr(row[3])])
        geo = ecef_to_geodetic(self.truth_ecef_m) if len(self.truth_time_s) else None
        with paths["truth"].open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["time_s", "target_id", "lat_deg", "lon_deg", "alt_m", "east_m", "north_m", "up_m",
                        "v_east_mps", "v_north_mps", "v_up_mps"])
            if geo is not None:
                lat, lon, alt = (np.atleast_1d(a).tolist() for a in (geo.lat_deg, geo.lon_deg, geo.alt_m))
                enu, venu = self.truth_enu_m.tolist(), self.truth_vel_enu_mps.tolist()
                for i, (t, k) in enumerate(zip(self.truth_time_s.tolist(), self.truth_id.tolist())):
                    w.writerow([repr(t), k, repr(lat[i]), repr(lon[i]), repr(alt[i]), *map(repr, enu[i]), *map(repr, venu[i])])
        return paths


def _ncv_factors(dt: float, q: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis transition F (2, 2) and the Cholesky factor of its process noise."""
    F = np.array([[1.0, dt], [0.0, 1.0]])
    Q = q * np.array([[dt**3 / 3.0, dt**2 / 2.0], [dt**2 / 2.0, dt]])
    return F, np.linalg.cholesky(Q)


def _simulate(
    rng: np.random.Generator,
    x0: np.ndarray,
    birth: np.ndarray,
    death: np.ndarray,
    *,
    scans: int,
    dt: float,
    pd: float,
    clutter: float,
    q: float,
    sigma_range: float,
    sigma_angle: float,
    site: tuple[float, float, float],
    clutter_azimuth: tuple[float, float],
    params: dict,
) -> TrackingScenario:
    """Fly the targets (initial ENU states x0 (N, 6) as e, ve, n, vn, u, vu) through the
    scans, detect them, add clutter, and package everything."""
    n = x0.shape[0]
    F, L = _ncv_factors(dt, q)
    # states (scans, N, 3 axes, 2): every target gets a state at every scan; only
    # the scans in [birth, death) are used. Noise enters after the birth scan.
    xs = np.empty((scans, n, 3, 2))
    xs[0] = x0.reshape(n, 3, 2)
    for s in range(1, scans):
        w = rng.standard_normal((n, 3, 2)) @ L.T
        step = xs[s - 1] @ F.T + w
        xs[s] = np.where((s > birth)[:, None, None], step, xs[s - 1])
    s_idx, k_idx = np.nonzero((np.arange(scans)[:, None] >= birth[None, :]) & (np.arange(scans)[:, None] < death[None, :]))
    state = xs[s_idx, k_idx]  # (R, 3, 2), rows by scan then target
    enu, venu = state[:, :, 0], state[:, :, 1]
    t_truth = s_idx * dt
    lat0, lon0, alt0 = site
    ecef = enu_to_ecef(enu, lat0_deg=lat0, lon0_deg=lon0, alt0_m=alt0) if len(enu) else np.empty((0, 3))
    vecef = enu_velocity_to_ecef(venu, lat0_deg=lat0, lon0_deg=lon0) if len(enu) else np.empty((0, 3))

    # detections
    det = rng.random(len(s_idx)) < pd
    e, nn, u = enu[det, 0], enu[det, 1], enu[det, 2]
    m = int(det.sum())
    rng_true = np.sqrt(e * e + nn * nn + u * u)
    az_true = np.mod(np.arctan2(e, nn), 2 * math.pi)
    el_true = np.arctan2(u, np.hypot(e, nn))
    noise = rng.standard_normal((m, 3)) * np.array([sigma_range, sigma_angle, sigma_angle])
    d_t = t_truth[det]
    d_r = rng_true + noise[:, 0]
    d_az = np.mod(az_true + noise[:, 1], 2 * math.pi)
    d_el = el_true + noise[:, 2]
    d_lab = k_idx[det].astype(np.int64)

    # false alarms
    counts = rng.poisson(clutter, scans)
    c_n = int(counts.sum())
    c_t = np.repeat(np.arange(scans) * dt, counts)
    c_r = rng.uniform(*CLUTTER_RANGE_M, c_n)
    c_az = np.mod(rng.uniform(*clutter_azimuth, c_n), 2 * math.pi)
    c_el = rng.uniform(*CLUTTER_ELEVATION_RAD, c_n)

    t_all = np.concatenate([d_t, c_t])
    r_all = np.concatenate([d_r, c_r])
    order = np.lexsort((r_all, t_all))
    mt, mr = t_all[order], r_all[order]
    maz = np.concatenate([d_az, c_az])[order]
    mel = np.concatenate([d_el, c_el])[order]
    mlab = np.concatenate([d_lab, np.full(c_n, -1, np.int64)])[order]

    sensor = SensorInfo(
        id="radar1", lat_deg=lat0, lon_deg=lon0, alt_m=alt0, sigma_range_m=sigma_range,
        sigma_azimuth_rad=sigma_angle, sigma_elevation_rad=sigma_angle, scan_period_s=dt, pd=pd,
        false_alarms_per_scan=clutter,
    )
    scan_list = []
    if len(mt):
        starts = np.flatnonzero(np.concatenate([[True], mt[1:] != mt[:-1]]))
        for a, b in zip(starts, np.append(starts[1:], len(mt))):
            rows = np.arange(a, b)
            scan_list.append(Scan(time_s=float(mt[a]), sensor=0, z=np.stack([mr[rows], maz[rows], mel[rows]], axis=1),
                                  label=mlab[rows], index=rows))
    return TrackingScenario(
        sensor=sensor, params=params, truth_time_s=t_truth.astype(float), truth_id=k_idx.astype(np.int64),
        truth_ecef_m=ecef, truth_vel_ecef_mps=vecef, truth_enu_m=enu.copy(), truth_vel_enu_mps=venu.copy(),
        meas_time_s=mt, meas_range_m=mr, meas_azimuth_rad=maz, meas_elevation_rad=mel, meas_label=mlab,
        scans=scan_list,
    )


def _initial_states(rng: np.random.Generator, n: int, min_range: float, max_range: float,
                    azimuth: tuple[float, float]) -> np.ndarray:
    """Initial ENU states (N, 6) as e, ve, n, vn, u, vu (see the module docstring)."""
    r0 = rng.uniform(min_range, max_range, n)
    az0 = rng.uniform(*azimuth, n)
    up = rng.uniform(1e3, 12e3, n)
    speed = rng.uniform(100.0, 300.0, n)
    heading = rng.uniform(0.0, 2 * math.pi, n)
    vup = rng.normal(0.0, 3.0, n)
    return np.stack([r0 * np.sin(az0), speed * np.sin(heading), r0 * np.cos(az0), speed * np.cos(heading), up, vup], axis=1)


def generate(
    seed: int = 1,
    *,
    targets: int = 40,
    scans: int = 120,
    dt: float = 1.0,
    pd: float = 0.9,
    clutter: float = 30.0,
    q: float = 0.5,
    sigma_range: float = 25.0,
    sigma_angle: float = 0.002,
    site: tuple[float, float, float] = KURECIK,
    min_range: float = 30e3,
    max_range: float = 150e3,
) -> TrackingScenario:
    """The benchmark scenario (module docstring): targets with random births and lives."""
    if targets < 0 or scans < 2:
        raise ValueError("need targets >= 0 and scans >= 2")
    rng = np.random.default_rng(seed)
    birth = rng.integers(0, max(1, scans // 2), targets)
    life_lo = min(40, scans - 1)
    life = rng.integers(life_lo, max(life_lo + 1, scans), targets)
    death = np.minimum(scans, birth + life)
    x0 = _initial_states(rng, targets, min_range, max_range, (0.0, 2 * math.pi))
    params = {"mode": "standard", "seed": seed, "targets": targets, "scans": scans, "dt": dt, "pd": pd,
              "clutter": clutter, "q": q, "sigma_range": sigma_range, "sigma_angle": sigma_angle,
              "site": list(site), "min_range": min_range, "max_range": max_range}
    return _simulate(rng, x0, birth, death, scans=scans, dt=dt, pd=pd, clutter=clutter, q=q, sigma_range=sigma_range,
                     sigma_angle=sigma_angle, site=site, clutter_azimuth=(0.0, 2 * math.pi), params=params)


def generate_scale(
    seed: int = 1,
    *,
    targets: int = 1000,
    clutter: float = 1000.0,
    scans: int = 30,
    dt: float = 1.0,
    pd: float = 0.9,
    q: float = 0.5,
    sigma_range: float = 25.0,
    sigma_angle: float = 0.002,
    site: tuple[float, float, float] = KURECIK,
    min_range: float = 30e3,
    max_range: float = 150e3,
    sector_deg: float = 120.0,
    boresight_deg: float = 90.0,
) -> TrackingScenario:
    """The scale case: ``targets`` targets living through every scan, at azimuths
    uniform over a ``sector_deg`` sector centred on ``boresight_deg`` (clockwise from
    north), and Poisson(``clutter``) false alarms per scan in the same sector (range
    [10, 200] km, elevation [0, 0.2] rad). Otherwise as :func:`generate`."""
    if targets < 0 or scans < 2:
        raise ValueError("need targets >= 0 and scans >= 2")
    rng = np.random.default_rng(seed)
    half = math.radians(sector_deg) / 2
    sector = (math.radians(boresight_deg) - half, math.radians(boresight_deg) + half)
    birth = np.zeros(targets, np.int64)
    death = np.full(targets, scans, np.int64)
    x0 = _initial_states(rng, targets, min_range, max_range, sector)
    params = {"mode": "scale", "seed": seed, "targets": targets, "scans": scans, "dt": dt, "pd": pd,
              "clutter": clutter, "q": q, "sigma_range": sigma_range, "sigma_angle": sigma_angle,
              "site": list(site), "min_range": min_range, "max_range": max_range, "sector_deg": sector_deg,
              "boresight_deg": boresight_deg}
    return _simulate(rng, x0, birth, death, scans=scans, dt=dt, pd=pd, clutter=clutter, q=q, sigma_range=sigma_range,
                     sigma_angle=sigma_angle, site=site, clutter_azimuth=sector, params=params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for sensors.yaml, measurements.csv, truth.csv")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", action="store_true", help="the scale case (defaults: 1000 targets, 1000 false alarms, 30 scans)")
    ap.add_argument("--targets", type=int, default=None)
    ap.add_argument("--scans", type=int, default=None)
    ap.add_argument("--clutter", type=float, default=None, help="mean false alarms per scan")
    ap.add_argument("--dt", type=float, default=1.0, help="scan period, s")
    ap.add_argument("--pd", type=float, default=0.9)
    ap.add_argument("--q", type=float, default=0.5, help="process noise intensity, m^2/s^3")
    ap.add_argument("--sigma-range", type=float, default=25.0, help="m")
    ap.add_argument("--sigma-angle", type=float, default=0.002, help="rad, azimuth and elevation")
    ap.add_argument("--lat", type=float, default=KURECIK[0])
    ap.add_argument("--lon", type=float, default=KURECIK[1])
    ap.add_argument("--alt", type=float, default=KURECIK[2])
    a = ap.parse_args()
    common = {"dt": a.dt, "pd": a.pd, "q": a.q, "sigma_range": a.sigma_range, "sigma_angle": a.sigma_angle,
              "site": (a.lat, a.lon, a.alt)}
    if a.scale:
        sc = generate_scale(a.seed, targets=a.targets if a.targets is not None else 1000,
                            clutter=a.clutter if a.clutter is not None else 1000.0,
                            scans=a.scans if a.scans is not None else 30, **common)
    else:
        sc = generate(a.seed, targets=a.targets if a.targets is not None else 40,
                      clutter=a.clutter if a.clutter is not None else 30.0,
                      scans=a.scans if a.scans is not None else 120, **common)
    sc.write(a.out)
    print(f"{len(sc.truth_time_s)} truth rows, {sc.n_measurements} measurements, {len(sc.scans)} scans -> {a.out}")


if __name__ == "__main__":
    main()
