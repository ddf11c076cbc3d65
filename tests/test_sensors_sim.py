"""Acceptance tests of the simulated radars (issue 3, sensors): the engine's detections
are physically right.

Everything expected here is recomputed in this file from outside authorities, never
copied from Hoplon's output:

- Geometry on WGS84: ``pymap3d`` (``ecef2aer``, ``ecef2geodetic``, ``geodetic2ecef``)
  and ``pyproj.Geod`` (geodesics), not Hoplon's frames.
- Radar horizon: the 4/3 effective Earth (k = 4/3 on the 6371 km sphere, Skolnik,
  *Introduction to Radar Systems*, propagation over a spherical Earth), as tangent
  geometry: two points at heights h1, h2 see each other when their central angle on
  the effective sphere is at most acos(kR/(kR+h1)) + acos(kR/(kR+h2)).
- Search radar equation SNR = Pav Ae sigma t_s / (4 pi Omega R^4 k Ts L) (Richards,
  Scheer & Holm, *Principles of Modern Radar* vol. 1, ch. 2; Barton), written out.
- Detection: square-law detector, noise Exp(1) per pulse, threshold from
  ``scipy.stats.gamma.isf``; a steady target's Pd from ``scipy.stats.ncx2`` (the Marcum
  Q function); Swerling 1 as the expectation over the exponential RCS by Gauss-Legendre
  quadrature, checked against the one-pulse closed form Pd = Pfa^(1/(1+SNR))
  (DiFranco & Rubin; Richards, *Fundamentals of Radar Signal Processing*, ch. 6).
- Accuracy: sigma_angle = theta_B / (1.6 sqrt(2 SNR)), sigma_range = (c/2B) / sqrt(2 SNR),
  sigma_range_rate = (lambda/2T) / sqrt(2 SNR), each root-sum-squared with its floor
  (Barton; Skolnik); residuals judged with normal and chi-square bounds (scipy.stats).
- Scenario numbers: the YAML files read with PyYAML and a unit table written here.
- Truth at a detection time: cubic Hermite interpolation (written here) of a run whose
  truth is written every 0.1 s (the detections come from the 1 s run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pymap3d
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy import optimize, stats
from typer.testing import CliRunner

from hoplon.cli import app
from hoplon.core.sensors import RadarArray, coverage, observe, pair_snr_db
from hoplon.scenario.builtins import resolve_scenario
from hoplon.scenario.loader import load_scenario
from hoplon.sim.engine import run
from hoplon.sim.world import compile_scenario

# --------------------------------------------------------------------------- constants

C_MPS = 299_792_458.0  # speed of light (exact, SI)
K_BOLTZMANN = 1.380649e-23  # J/K (exact, SI 2019)
EARTH_RADIUS_M = 6371e3  # mean sphere of the 4/3-Earth model
K_EFFECTIVE = 4.0 / 3.0
WINDOW_MARGIN_S = 60.0  # sensors run from a minute before launch to a minute after impact (documented)
TWO_PI = 2.0 * math.pi
WGS84 = pymap3d.Ellipsoid.from_name("wgs84")
GEOD = Geod(ellps="WGS84")

# Named tolerances.
METRE = 1.0
MILLIMETRE = 1e-3
PYMAP3D_CLAMP = 2e-3  # pymap3d.enu2aer rounds east/north/up components under 1 mm to zero (range error up to sqrt(3) mm)
MICRORADIAN = 1e-6  # truth re-interpolated from a 0.1 s grid is within a millimetre
HORIZON_RAD = 1e-6  # on the effective sphere: about 8 m of ground
NEAR = 1e-4  # property test: skip points this close (rad, relative) to a boundary
REL = 1e-9
N_SIGMA = 4.0  # binomial / Poisson / normal bounds
TAIL = 1e-4  # two-sided tail of the chi-square bounds on a sample variance

KM = 1e3


# --------------------------------------------------------------------------- units and scenario files

_UNITS = {
    "": 1.0, "m": 1.0, "km": 1e3, "rad": 1.0, "mrad": 1e-3, "deg": math.pi / 180.0, "s": 1.0, "ms": 1e-3,
    "min": 60.0, "h": 3600.0, "Hz": 1.0, "MHz": 1e6, "GHz": 1e9, "K": 1.0, "W*m^2": 1.0, "m^2": 1.0,
    "dB": 1.0, "m/s": 1.0, "km/h": 1.0 / 3.6,
}


def si(value) -> float:
    """A YAML quantity ('2100 m', '0.5 deg', 1e-9) in SI units, from the table above."""
    if isinstance(value, int | float):
        return float(value)
    number, _, unit = str(value).strip().partition(" ")
    return float(number) * _UNITS[unit.strip()]


def _package_yaml(*parts: str) -> dict:
    return yaml.safe_load((resources.files("hoplon.scenario").joinpath(*parts)).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Radar:
    """One radar site with its type's numbers (SI), read from YAML dictionaries."""

    id: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    boresight_rad: float
    half_width_rad: float
    el_min_rad: float
    el_max_rad: float
    search_el_max_rad: float
    min_range_m: float
    max_range_m: float
    scan_period_s: float
    mechanical: bool
    power_aperture: float
    system_temp_k: float
    losses_db: float
    pfa: float
    n_pulses: int
    bw_az_rad: float
    bw_el_rad: float
    bandwidth_hz: float
    wavelength_m: float
    range_floor_m: float
    angle_floor_rad: float
    range_rate: bool
    range_rate_floor_mps: float
    dwell_time_s: float
    track_gain_db: float

    @classmethod
    def from_yaml(cls, site: dict, kind: dict) -> Radar:
        el_max = si(kind["elevation_max"])
        return cls(
            id=site["id"], lat_deg=si(site["lat"]), lon_deg=si(site["lon"]), alt_m=si(site.get("alt", 0.0)),
            boresight_rad=si(site.get("boresight", 0.0)), half_width_rad=si(kind["azimuth_half_width"]),
            el_min_rad=si(kind["elevation_min"]), el_max_rad=el_max,
            search_el_max_rad=si(kind["search_elevation_max"]) if "search_elevation_max" in kind else el_max,
            min_range_m=si(kind.get("min_range", 0.0)), max_range_m=si(kind["max_range"]),
            scan_period_s=si(kind["scan_period"]), mechanical=kind.get("scan", "electronic") == "mechanical",
            power_aperture=si(kind["power_aperture"]), system_temp_k=si(kind["system_temp"]),
            losses_db=si(kind["losses"]), pfa=si(kind["pfa"]), n_pulses=int(kind.get("n_pulses", 1)),
            bw_az_rad=si(kind["beamwidth_az"]), bw_el_rad=si(kind["beamwidth_el"]), bandwidth_hz=si(kind["bandwidth"]),
            wavelength_m=C_MPS / si(kind["frequency"]), range_floor_m=si(kind.get("range_floor", 0.0)),
            angle_floor_rad=si(kind.get("angle_floor", 0.0)), range_rate=bool(kind.get("range_rate", False)),
            range_rate_floor_mps=si(kind.get("range_rate_floor", 0.0)), dwell_time_s=si(kind.get("dwell_time", "10 ms")),
            track_gain_db=si(kind.get("track_gain", 0.0)),
        )

    @property
    def site_ecef_m(self) -> np.ndarray:
        return np.array(pymap3d.geodetic2ecef(self.lat_deg, self.lon_deg, self.alt_m, ell=WGS84))

    @property
    def search_solid_angle_sr(self) -> float:
        span = min(2.0 * self.half_width_rad, TWO_PI)
        return span * (math.sin(self.search_el_max_rad) - math.sin(self.el_min_rad))

    @property
    def cells(self) -> float:
        """Resolution cells of the search sector: range bins x beam positions."""
        bins = (self.max_range_m - self.min_range_m) / (C_MPS / (2.0 * self.bandwidth_hz))
        return bins * self.search_solid_angle_sr / (self.bw_az_rad * self.bw_el_rad)


def radars_of(scenario_yaml: dict, catalog: dict) -> dict[str, Radar]:
    kinds = dict(catalog.get("radar", {}))
    kinds.update(scenario_yaml.get("catalog", {}).get("radar", {}))
    return {s["id"]: Radar.from_yaml(s, kinds[s["type"]]) for s in scenario_yaml["sensors"] if s["type"] in kinds}


# --------------------------------------------------------------------------- independent physics


def wrap_pi(x):
    return (np.asarray(x) + math.pi) % TWO_PI - math.pi


def aer(radar: Radar, r_ecef: np.ndarray):
    """Azimuth (rad, [0, 2pi)), elevation (rad), slant range (m) by pymap3d."""
    az, el, rng = pymap3d.ecef2aer(r_ecef[:, 0], r_ecef[:, 1], r_ecef[:, 2], radar.lat_deg, radar.lon_deg, radar.alt_m, ell=WGS84)
    return np.radians(az) % TWO_PI, np.radians(el), np.asarray(rng)


def horizon_margin_rad(radar: Radar, r_ecef: np.ndarray) -> np.ndarray:
    """acos(kR/(kR+h1)) + acos(kR/(kR+h2)) - psi/k: >= 0 when the target is above the
    4/3-Earth radar horizon (psi: central angle of the two geodetic positions on the
    6371 km sphere, by the haversine formula); -inf for a target below the surface
    (more than a millimetre: a target on the surface is at height 0 within rounding)."""
    lat, lon, h = pymap3d.ecef2geodetic(r_ecef[:, 0], r_ecef[:, 1], r_ecef[:, 2], ell=WGS84)
    p1, l1, p2, l2 = math.radians(radar.lat_deg), math.radians(radar.lon_deg), np.radians(lat), np.radians(lon)
    hav = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    psi = 2.0 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))
    kr = K_EFFECTIVE * EARTH_RADIUS_M
    h = np.asarray(h, dtype=float)
    with np.errstate(invalid="ignore"):
        a2 = np.arccos(kr / (kr + np.maximum(h, 0.0)))
    a1 = math.acos(kr / (kr + radar.alt_m))
    return np.where(h < -MILLIMETRE, -np.inf, a1 + a2 - psi * EARTH_RADIUS_M / kr)


def sector_margin_rad(radar: Radar, az: np.ndarray) -> np.ndarray:
    if radar.half_width_rad >= math.pi:
        return np.full(np.shape(az), np.inf)
    return radar.half_width_rad - np.abs(wrap_pi(az - radar.boresight_rad))


def search_snr_db(radar: Radar, rcs_m2, range_m):
    """The search radar equation, dB."""
    snr = (radar.power_aperture * rcs_m2 * radar.scan_period_s) / (
        4.0 * math.pi * radar.search_solid_angle_sr * np.asarray(range_m, float) ** 4 * K_BOLTZMANN * radar.system_temp_k
        * 10.0 ** (radar.losses_db / 10.0)
    )
    return 10.0 * np.log10(snr)


def aspect_rcs_m2(radar: Radar, r, v, nose, broadside, tail):
    """Mean RCS at the aspect (angle between velocity and the line of sight to the radar),
    linear in dB between nose (0), broadside (90 deg) and tail (180 deg)."""
    los = radar.site_ecef_m - r
    cos = np.sum(los * v, axis=1) / (np.linalg.norm(los, axis=1) * np.linalg.norm(v, axis=1))
    a = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    db = np.interp(a, [0.0, 90.0, 180.0], 10.0 * np.log10([nose, broadside, tail]))
    return 10.0 ** (db / 10.0)


def threshold(pfa: float, n: int) -> float:
    """Square-law threshold: the sum of n pulses of noise is Gamma(n, 1)."""
    return float(stats.gamma.isf(pfa, n))


def pd_steady(snr_linear, pfa: float, n: int):
    """Swerling 0: P[ncx2(2n, 2 n snr) > 2T] (the generalized Marcum Q function)."""
    return stats.ncx2.sf(2.0 * threshold(pfa, n), 2 * n, 2.0 * n * np.asarray(snr_linear, float))


_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_PANELS = np.linspace(math.log(1e-14), math.log(60.0), 129)  # y = ln x; Exp(1) mass outside < 1e-14 + e^-60
_Y = (0.5 * (_PANELS[1:, None] + _PANELS[:-1, None]) + 0.5 * np.diff(_PANELS)[:, None] * _GL_X).ravel()
_W = (0.5 * np.diff(_PANELS)[:, None] * _GL_W).ravel() * np.exp(_Y - np.exp(_Y))  # dx e^-x = e^(y - e^y) dy


def pd_swerling1(snr_linear, pfa: float, n: int):
    """Swerling 1 (RCS Exp-distributed, constant over the n pulses): E[pd_steady(X snr)],
    X ~ Exp(1), by composite Gauss-Legendre quadrature in y = ln x."""
    x = np.exp(_Y)
    s = np.atleast_1d(np.asarray(snr_linear, float))
    return np.sum(_W * pd_steady(s[:, None] * x[None, :], pfa, n), axis=1)


def pd_swerling1_grid(snr_db, pfa: float, n: int):
    """pd_swerling1 on a 0.002 dB grid, interpolated (fast for thousands of SNRs)."""
    snr_db = np.asarray(snr_db, float)
    grid = np.arange(snr_db.min() - 0.01, snr_db.max() + 0.01, 0.002)
    return np.interp(snr_db, grid, pd_swerling1(10.0 ** (grid / 10.0), pfa, n))


# --------------------------------------------------------------------------- truth


class Truth:
    """Per-object truth from a truth table, interpolated by cubic Hermite polynomials
    (positions and velocities at both ends of each interval)."""

    def __init__(self, table) -> None:
        d = table.to_pydict()
        oid = np.asarray(d["object_id"], dtype=object)
        t = np.asarray(d["time_s"])
        r = np.column_stack([d["x_m"], d["y_m"], d["z_m"]])
        v = np.column_stack([d["vx_mps"], d["vy_mps"], d["vz_mps"]])
        self.objects = {}
        for o in np.unique(oid):
            sel = np.flatnonzero(oid == o)
            sel = sel[np.argsort(t[sel], kind="stable")]
            self.objects[str(o)] = (t[sel], r[sel], v[sel])

    def span(self, obj: str) -> tuple[float, float]:
        t = self.objects[obj][0]
        return float(t[0]), float(t[-1])

    def state(self, obj, time_s):
        """Positions and velocities (P, 3) of objects ``obj`` (P,) at ``time_s`` (P,)."""
        obj = np.asarray(obj, dtype=object)
        time_s = np.asarray(time_s, dtype=float)
        r_out, v_out = np.empty((time_s.size, 3)), np.empty((time_s.size, 3))
        for o in np.unique(obj):
            sel = obj == o
            tn, rn, vn = self.objects[str(o)]
            t = time_s[sel]
            i = np.clip(np.searchsorted(tn, t, side="right") - 1, 0, tn.size - 2)
            h = (tn[i + 1] - tn[i])[:, None]
            s = ((t - tn[i]) / h[:, 0])[:, None]
            r_out[sel] = ((2 * s**3 - 3 * s**2 + 1) * rn[i] + (s**3 - 2 * s**2 + s) * h * vn[i]
                          + (-2 * s**3 + 3 * s**2) * rn[i + 1] + (s**3 - s**2) * h * vn[i + 1])
            v_out[sel] = ((6 * s**2 - 6 * s) * (rn[i] - rn[i + 1]) / h + (3 * s**2 - 4 * s + 1) * vn[i]
                          + (3 * s**2 - 2 * s) * vn[i + 1])
        return r_out, v_out


def columns(table) -> dict[str, np.ndarray]:
    d = table.to_pydict()
    out = {}
    for k, vals in d.items():
        if pa.types.is_string(table.schema.field(k).type):
            out[k] = np.asarray(vals, dtype=object)
        else:
            out[k] = np.asarray([np.nan if x is None else x for x in vals], dtype=float)
    return out


def scan_phase(times: np.ndarray, period: float) -> float:
    """The scan phase of an electronically scanned radar, from its detection times
    (all on the grid phase + k period), checking that they are on one grid."""
    phase = float(np.mod(times[0], period))
    k = (times - phase) / period
    assert np.max(np.abs(k - np.round(k))) < 1e-6, "detections off the scan grid"
    return phase


def activity_scans(spans: list[tuple[float, float]], period: float, phase: float) -> np.ndarray:
    """Scan instants phase + k period inside the merged windows [start - 1 min, end + 1 min]."""
    merged: list[list[float]] = []
    for a, b in sorted((a - WINDOW_MARGIN_S, b + WINDOW_MARGIN_S) for a, b in spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out = [phase + period * np.arange(math.ceil((a - phase) / period), math.floor((b - phase) / period) + 1) for a, b in merged]
    return np.concatenate(out)


def normal_sample_ok(z: np.ndarray) -> tuple[bool, str]:
    """Mean within N_SIGMA/sqrt(n) of 0 and variance inside chi-square bounds."""
    n = z.size
    mean, var = float(np.mean(z)), float(np.var(z, ddof=1))
    lo, hi = stats.chi2.ppf([TAIL / 2, 1 - TAIL / 2], n - 1) / (n - 1)
    ok = abs(mean) <= N_SIGMA / math.sqrt(n) and lo <= var <= hi
    return ok, f"n={n} mean={mean:.4f} (bound {N_SIGMA / math.sqrt(n):.4f}) var={var:.4f} (bounds {lo:.4f}, {hi:.4f})"


# --------------------------------------------------------------------------- anatolia fixtures


@pytest.fixture(scope="module")
def anatolia():
    """The built-in anatolia run without its batteries (nothing is shot down: every
    object flies its whole flight; 1 s truth), the same world's truth every 0.1 s, and
    the scenario's radars read from the YAML files."""
    world = compile_scenario(resolve_scenario("anatolia").model_copy(update={"batteries": []}))
    result = run(world)
    fine = run(world, truth_step_s=0.1)
    scenario_yaml = _package_yaml("builtin", "anatolia.yaml")
    radars = radars_of(scenario_yaml, _package_yaml("catalog", "sensors.yaml"))
    return result, Truth(fine.truth), radars, scenario_yaml


# --------------------------------------------------------------------------- 1. geometry


def test_anatolia_detections_are_inside_coverage(anatolia):
    result, truth, radars, _ = anatolia
    det = columns(result.detections)
    real = np.array([o is not None for o in det["object_id"]])
    assert set(det["sensor_id"]) == set(radars)
    for sid, radar in radars.items():
        sel = real & (det["sensor_id"] == sid)
        assert sel.sum() > 100, sid
        r, _ = truth.state(det["object_id"][sel], det["time_s"][sel])
        az, el, rng = aer(radar, r)
        mode = det["mode"][sel]
        # (a) above the 4/3-Earth horizon
        hm = horizon_margin_rad(radar, r)
        assert np.all(hm >= -HORIZON_RAD), (sid, hm.min())
        # (b) azimuth sector and elevation band (search dwells: below the search fence)
        assert np.all(sector_margin_rad(radar, az) >= -MICRORADIAN), sid
        assert np.all(el >= radar.el_min_rad - MICRORADIAN), (sid, np.degrees(el.min()))
        assert np.all(el <= radar.el_max_rad + MICRORADIAN), (sid, np.degrees(el.max()))
        search = mode == "search"
        assert np.all(el[search] <= radar.search_el_max_rad + MICRORADIAN), sid
        assert set(mode) <= {"search", "cued", "track"}
        # (c) instrumented range
        assert np.all((rng >= radar.min_range_m - METRE) & (rng <= radar.max_range_m + METRE)), sid


def test_anatolia_false_alarms_lie_in_the_search_sector(anatolia):
    result, _, radars, _ = anatolia
    det = columns(result.detections)
    fa = np.array([o is None for o in det["object_id"]])
    assert np.all((det["mode"] == "false_alarm") == fa)
    for sid, radar in radars.items():
        sel = fa & (det["sensor_id"] == sid)
        assert sel.sum() > 100, sid
        az, el, rng = det["azimuth_rad"][sel], det["elevation_rad"][sel], det["range_m"][sel]
        assert np.all(sector_margin_rad(radar, az) >= -1e-12), sid
        assert np.all((el >= radar.el_min_rad) & (el <= radar.search_el_max_rad)), sid
        assert np.all((rng >= radar.min_range_m) & (rng <= radar.max_range_m)), sid
        # uniform over the sector: the elevations fill the band from bottom to top
        band = radar.search_el_max_rad - radar.el_min_rad
        assert el.min() < radar.el_min_rad + 0.05 * band and el.max() > radar.search_el_max_rad - 0.05 * band


def _radar_array(radar: Radar) -> RadarArray:
    def one(x):
        return np.array([x])

    return RadarArray(
        lat_deg=one(radar.lat_deg), lon_deg=one(radar.lon_deg), alt_m=one(radar.alt_m),
        boresight_rad=one(radar.boresight_rad), azimuth_half_width_rad=one(radar.half_width_rad),
        elevation_min_rad=one(radar.el_min_rad), elevation_max_rad=one(radar.el_max_rad),
        search_elevation_max_rad=one(radar.search_el_max_rad), min_range_m=one(radar.min_range_m),
        max_range_m=one(radar.max_range_m), scan_period_s=one(radar.scan_period_s),
        power_aperture_w_m2=one(radar.power_aperture), system_temp_k=one(radar.system_temp_k),
        losses_db=one(radar.losses_db), pfa=one(radar.pfa), n_pulses=one(radar.n_pulses),
        beamwidth_az_rad=one(radar.bw_az_rad), beamwidth_el_rad=one(radar.bw_el_rad),
        bandwidth_hz=one(radar.bandwidth_hz), wavelength_m=one(radar.wavelength_m),
        range_floor_m=one(radar.range_floor_m), angle_floor_rad=one(radar.angle_floor_rad),
        range_rate=one(radar.range_rate), range_rate_floor_mps=one(radar.range_rate_floor_mps),
        dwell_time_s=one(radar.dwell_time_s),
    )


@st.composite
def radar_and_targets(draw):
    el_min = draw(st.one_of(st.floats(-3.0, -1.0), st.floats(-1.0, 5.0)))
    el_max = draw(st.floats(el_min + 1.0, 90.0))
    min_range = draw(st.floats(0.0, 50e3))
    radar = Radar(
        id="r", lat_deg=draw(st.floats(-80.0, 80.0)), lon_deg=draw(st.floats(-180.0, 180.0)),
        alt_m=draw(st.floats(0.0, 3000.0)), boresight_rad=draw(st.floats(0.0, TWO_PI, exclude_max=True)),
        half_width_rad=math.radians(draw(st.sampled_from([10.0, 45.0, 60.0, 90.0, 135.0, 180.0]))),
        el_min_rad=math.radians(el_min), el_max_rad=math.radians(el_max),
        search_el_max_rad=math.radians(draw(st.floats(el_min + 0.5, el_max))), min_range_m=min_range,
        max_range_m=draw(st.floats(min_range + 10e3, 3000e3)), scan_period_s=draw(st.floats(1.0, 12.0)),
        mechanical=False, power_aperture=draw(st.floats(1e2, 1e7)), system_temp_k=500.0,
        losses_db=draw(st.floats(0.0, 15.0)), pfa=1e-6, n_pulses=1, bw_az_rad=0.02, bw_el_rad=0.03,
        bandwidth_hz=5e6, wavelength_m=0.1, range_floor_m=1.0, angle_floor_rad=1e-4, range_rate=False,
        range_rate_floor_mps=0.0, dwell_time_s=0.01, track_gain_db=0.0,
    )
    n = draw(st.integers(1, 30))
    ground, bearing, height = [], [], []
    kr = K_EFFECTIVE * EARTH_RADIUS_M
    for _ in range(n):
        if draw(st.booleans()):  # anywhere
            ground.append(draw(st.floats(0.0, 1500e3)))
            bearing.append(draw(st.floats(-180.0, 180.0)))
            height.append(draw(st.one_of(st.floats(0.0, 20e3), st.floats(0.0, 600e3))))
        else:  # in the azimuth sector, near the height that grazes the 4/3-Earth horizon
            d = draw(st.floats(1e3, max(1e3, min(1000e3, 0.95 * radar.max_range_m))))
            ground.append(d)
            half = min(math.degrees(radar.half_width_rad), 180.0)
            bearing.append(math.degrees(radar.boresight_rad) + draw(st.floats(-1.2, 1.2)) * half)
            a2 = d / kr - math.acos(kr / (kr + radar.alt_m))
            grazing = kr / math.cos(a2) - kr if a2 > 0.0 else 0.0
            height.append(grazing * draw(st.floats(0.0, 2.0)))
    rcs = draw(st.lists(st.floats(1e-3, 10.0), min_size=n, max_size=n))
    return radar, np.array(ground), np.array(bearing), np.array(height), np.array(rcs)


@settings(max_examples=300, deadline=None)
@given(radar_and_targets())
def test_observe_visibility_matches_independent_geometry(case):
    """Property: observe().visible is LOS over the 4/3 Earth and field of view and range
    limits; geometry and SNR agree with pymap3d and the search radar equation."""
    radar, ground, bearing, height, rcs = case
    lon, lat, _ = GEOD.fwd(np.full(ground.size, radar.lon_deg), np.full(ground.size, radar.lat_deg), bearing, ground)
    r = np.column_stack(pymap3d.geodetic2ecef(lat, lon, height, ell=WGS84))
    obs = observe(_radar_array(radar), np.zeros(ground.size, dtype=np.int64), r, np.zeros_like(r), rcs)
    az, el, rng = aer(radar, r)
    hm = horizon_margin_rad(radar, r)
    sm = sector_margin_rad(radar, az)
    in_el = (el >= radar.el_min_rad) & (el <= radar.el_max_rad)
    in_rng = (rng >= radar.min_range_m) & (rng <= radar.max_range_m)
    expected = (hm >= 0.0) & (sm >= 0.0) & in_el & in_rng
    near = (
        (np.abs(hm) < NEAR) | (np.abs(sm) < NEAR) | (np.abs(el - radar.el_min_rad) < NEAR)
        | (np.abs(el - radar.el_max_rad) < NEAR) | (np.abs(rng - radar.min_range_m) < NEAR * rng)
        | (np.abs(rng - radar.max_range_m) < NEAR * rng)
    )
    clear = ~near
    np.testing.assert_array_equal(obs.visible[clear], expected[clear])
    in_search = expected & (el <= radar.search_el_max_rad)
    clear &= np.abs(el - radar.search_el_max_rad) >= NEAR
    np.testing.assert_array_equal(obs.in_search[clear], in_search[clear])
    np.testing.assert_allclose(obs.range_m, rng, rtol=1e-9, atol=PYMAP3D_CLAMP)
    horizontal = rng * np.cos(el)
    defined = horizontal > 10.0  # azimuth defined
    np.testing.assert_allclose(
        np.abs(wrap_pi(obs.azimuth_rad - az))[defined] * horizontal[defined], 0.0, atol=PYMAP3D_CLAMP
    )
    np.testing.assert_allclose(obs.elevation_rad * rng, el * rng, atol=PYMAP3D_CLAMP)
    # the search SNR where the target is visible (documented NaN elsewhere)
    vis = obs.visible & (rng > 1.0)
    np.testing.assert_allclose(obs.snr_db[vis], search_snr_db(radar, rcs[vis], rng[vis]), atol=1e-9)
    assert np.all(np.isnan(obs.snr_db[~obs.visible]))
    # geometry only (no RCS): the same coverage, no SNR; pair_snr_db gives it after
    geometry = observe(_radar_array(radar), np.zeros(ground.size, dtype=np.int64), r, np.zeros_like(r), None)
    for name in ("range_m", "azimuth_rad", "elevation_rad", "range_rate_mps", "visible", "in_search"):
        np.testing.assert_array_equal(getattr(geometry, name), getattr(obs, name))
    assert np.all(np.isnan(geometry.snr_db))
    snr = pair_snr_db(_radar_array(radar), np.zeros(int(vis.sum()), dtype=np.int64), geometry.range_m[vis], rcs[vis])
    np.testing.assert_allclose(snr, search_snr_db(radar, rcs[vis], rng[vis]), atol=1e-9)


# --------------------------------------------------------------------------- dedicated scenarios


def _circle_route(lat0: float, lon0: float, radius_m: float, alt_m: float, n: int = 12) -> list[dict]:
    az = np.arange(n + 1) * 360.0 / n
    lon, lat, _ = GEOD.fwd(np.full(n + 1, lon0), np.full(n + 1, lat0), az, np.full(n + 1, radius_m))
    return [{"lat": round(float(a), 7), "lon": round(float(b), 7), "alt": f"{alt_m:g} m"} for a, b in zip(lat, lon)]


def _drone_type(swerling: int, nose: str, broadside: str, tail: str) -> dict:
    return {
        "label": f"Slow test drone, Swerling {swerling} (notional, for tests)", "cruise_speed": "150 km/h",
        "cruise_alt": "1000 m", "max_range": "2000 km", "max_turn_rate": "3 deg/s", "climb_rate": "5 m/s",
        "rcs": {"nose": nose, "broadside": broadside, "tail": tail, "swerling": swerling},
        "sources": ["invented for tests"],
    }


def _scenario_text(name: str, seed: int, catalog: dict, drones: list[dict], sensors: list[dict]) -> str:
    return yaml.safe_dump({
        "hoplon": 1, "name": name, "description": "test scenario", "epoch": "2026-03-04T00:00:00Z", "seed": seed,
        "earth": "wgs84", "sources": ["Hoplon test data"], "catalog": catalog, "assets": [],
        "threats": {"drones": drones}, "sensors": sensors, "batteries": [],
    }, sort_keys=False)


SITE = {"lat": 37.0, "lon": 35.0, "alt": "50 m"}

NOISE_RADAR = {
    "label": "Rotating test radar (notional, for tests)", "band": "S", "frequency": "3 GHz",
    "power_aperture": "300 W*m^2", "system_temp": "500 K", "losses": "8 dB", "pfa": 1e-6,
    "azimuth_half_width": "180 deg", "elevation_min": "-1 deg", "elevation_max": "30 deg", "max_range": "100 km",
    "scan_period": "2 s", "scan": "mechanical", "beamwidth_az": "1.5 deg", "beamwidth_el": "3 deg",
    "bandwidth": "1 MHz", "range_floor": "5 m", "angle_floor": "0.5 mrad", "range_rate": True,
    "range_rate_floor": "0.5 m/s", "dwell_time": "10 ms", "track_gain": "6 dB", "sources": ["invented for tests"],
}


def _pd_radar(n_pulses: int, power_aperture: str) -> dict:
    return {
        "label": f"Staring test radar, {n_pulses} pulses (notional, for tests)", "band": "S", "frequency": "3 GHz",
        "power_aperture": power_aperture, "system_temp": "500 K", "losses": "8 dB", "pfa": 1e-6, "n_pulses": n_pulses,
        "azimuth_half_width": "180 deg", "elevation_min": "-1 deg", "elevation_max": "30 deg", "max_range": "100 km",
        "scan_period": "1 s", "beamwidth_az": "2 deg", "beamwidth_el": "2 deg", "bandwidth": "1 MHz",
        "range_floor": "5 m", "angle_floor": "0.5 mrad", "track_gain": "0 dB", "cue_gain": "0 dB",
        "sources": ["invented for tests"],
    }


def _run_text(text: str, truth_step_s: float = 1.0):
    return run(compile_scenario(load_scenario(text, filename="<test>")), truth_step_s=truth_step_s)


@pytest.fixture(scope="module")
def noise_case():
    """A rotating radar and two slow Swerling 1 drones circling it at 40 km (100 min each)."""
    catalog = {"drone": {"test-drone-sw1": _drone_type(1, "0.1 m^2", "0.5 m^2", "0.2 m^2")},
               "radar": {"test-rotating": NOISE_RADAR}}
    drones = [{"id": "loop", "type": "test-drone-sw1", "launch_time": "1 h",
               "route": _circle_route(SITE["lat"], SITE["lon"], 40e3, 1000.0), "salvo": {"count": 2, "interval": "30 min"}}]
    sensors = [{"id": "rot", "type": "test-rotating", **SITE}]
    text = _scenario_text("sensor-noise-test", 11, catalog, drones, sensors)
    result = _run_text(text)
    radars = radars_of(yaml.safe_load(text), {})
    return result, Truth(result.truth), radars["rot"]


@pytest.fixture(scope="module")
def pd_case():
    """Two staring radars (1 and 4 pulses) and two drones circling at 40 and 30 km,
    one steady (Swerling 0), one fluctuating (Swerling 1)."""
    catalog = {
        "drone": {"test-drone-sw0": _drone_type(0, "0.1 m^2", "0.5 m^2", "0.2 m^2"),
                  "test-drone-sw1": _drone_type(1, "0.2 m^2", "0.5 m^2", "0.3 m^2")},
        "radar": {"test-pd-1": _pd_radar(1, "160 W*m^2"), "test-pd-4": _pd_radar(4, "35 W*m^2")},
    }
    drones = [
        {"id": "steady", "type": "test-drone-sw0", "launch_time": "1 h",
         "route": _circle_route(SITE["lat"], SITE["lon"], 40e3, 1000.0)},
        {"id": "fluct", "type": "test-drone-sw1", "launch_time": "1 h",
         "route": _circle_route(SITE["lat"], SITE["lon"], 30e3, 1000.0)},
    ]
    sensors = [{"id": "pd1", "type": "test-pd-1", **SITE}, {"id": "pd4", "type": "test-pd-4", **SITE}]
    text = _scenario_text("sensor-pd-test", 23, catalog, drones, sensors)
    result = _run_text(text)
    return result, Truth(result.truth), radars_of(yaml.safe_load(text), {}), catalog["drone"]


# --------------------------------------------------------------------------- 2. noise


def _residuals(det, sel, truth: Truth, radar: Radar):
    r, v = truth.state(det["object_id"][sel], det["time_s"][sel])
    az, el, rng = aer(radar, r)
    los = (r - radar.site_ecef_m) / rng[:, None]
    rdot = np.sum(los * v, axis=1)
    return {
        "range": (det["range_m"][sel] - rng) / det["sigma_range_m"][sel],
        "azimuth": wrap_pi(det["azimuth_rad"][sel] - az) / det["sigma_azimuth_rad"][sel],
        "elevation": (det["elevation_rad"][sel] - el) / det["sigma_elevation_rad"][sel],
    }, rdot


def _sigma_rr(radar: Radar, snr_db):
    snr = 10.0 ** (np.asarray(snr_db) / 10.0)
    return np.hypot(radar.wavelength_m / (2.0 * radar.dwell_time_s) / np.sqrt(2.0 * snr), radar.range_rate_floor_mps)


def test_measured_noise_matches_the_sigmas(noise_case):
    result, truth, radar = noise_case
    det = columns(result.detections)
    sel = np.array([o is not None for o in det["object_id"]])
    assert sel.sum() > 3000  # thousands of detections
    z, rdot = _residuals(det, sel, truth, radar)
    z["range_rate"] = (det["range_rate_mps"][sel] - rdot) / _sigma_rr(radar, det["snr_db"][sel])
    for name, values in z.items():
        ok, msg = normal_sample_ok(values)
        assert ok, f"{name}: {msg}"
    # the noise is Gaussian: a Kolmogorov-Smirnov test against N(0, 1)
    for name, values in z.items():
        assert stats.kstest(values, "norm").pvalue > 1e-4, name


def test_anatolia_measured_noise_matches_the_sigmas(anatolia):
    result, truth, radars, _ = anatolia
    det = columns(result.detections)
    real = np.array([o is not None for o in det["object_id"]])
    for sid, radar in radars.items():
        sel = real & (det["sensor_id"] == sid)
        z, rdot = _residuals(det, sel, truth, radar)
        z["range_rate"] = (det["range_rate_mps"][sel] - rdot) / _sigma_rr(radar, det["snr_db"][sel])
        for name, values in z.items():
            ok, msg = normal_sample_ok(values)
            assert ok, f"{sid} {name}: {msg}"


@pytest.mark.parametrize("which", ["noise", "pd", "anatolia"])
def test_sigmas_follow_the_accuracy_formulas(which, noise_case, pd_case, anatolia):
    if which == "noise":
        result, _, radar = noise_case
        radars = {radar.id: radar}
    elif which == "pd":
        result, _, radars, _ = pd_case
    else:
        result, _, radars, _ = anatolia
    det = columns(result.detections)
    for sid, radar in radars.items():
        sel = det["sensor_id"] == sid
        snr = 10.0 ** (det["snr_db"][sel] / 10.0)
        # false alarms included: their sigmas follow from their reported SNR as well
        s_r = np.hypot(C_MPS / (2.0 * radar.bandwidth_hz) / np.sqrt(2.0 * snr), radar.range_floor_m)
        s_az = np.hypot(radar.bw_az_rad / (1.6 * np.sqrt(2.0 * snr)), radar.angle_floor_rad)
        s_el = np.hypot(radar.bw_el_rad / (1.6 * np.sqrt(2.0 * snr)), radar.angle_floor_rad)
        np.testing.assert_allclose(det["sigma_range_m"][sel], s_r, rtol=REL)
        np.testing.assert_allclose(det["sigma_azimuth_rad"][sel], s_az, rtol=REL)
        np.testing.assert_allclose(det["sigma_elevation_rad"][sel], s_el, rtol=REL)
        real = sel & np.array([o is not None for o in det["object_id"]])
        assert np.all(np.isfinite(det["range_rate_mps"][real])) == radar.range_rate


def test_rotating_radar_looks_when_its_beam_points_at_the_target(noise_case):
    """A mechanical radar sees a target when its beam, turning once per period from the
    boresight, passes the target's azimuth: az(t) - 2 pi t / period is one constant."""
    result, truth, radar = noise_case
    det = columns(result.detections)
    real = np.array([o is not None for o in det["object_id"]])
    r, _ = truth.state(det["object_id"][real], det["time_s"][real])
    az, _, _ = aer(radar, r)
    beam = wrap_pi(az - TWO_PI * det["time_s"][real] / radar.scan_period_s)
    spread = np.abs(wrap_pi(beam - beam[0]))
    # the drones move by less than 0.003 rad of azimuth during a period
    assert spread.max() < 0.005


@pytest.mark.parametrize(
    "which",
    [
        "anatolia",
        "rotating",
    ],
)
def test_no_detection_outside_the_flight(which, anatolia, noise_case):
    """An object is detected only while it flies (launch to impact or end of route)."""
    if which == "anatolia":
        result, truth, _, _ = anatolia
        ev = columns(result.events)
        spans = {}
        for k, o, t in zip(ev["kind"], ev["object_id"], ev["time_s"]):
            if k in ("launch", "boost_end"):
                spans.setdefault(o if k == "launch" else f"{o}.booster", [np.nan, np.nan])[0] = t
            elif k in ("impact", "leaker_impact"):
                spans.setdefault(o, [np.nan, np.nan])[1] = t
    else:
        result, truth, _ = noise_case
        spans = {o: truth.span(o) for o in truth.objects}  # first and last truth rows: launch and arrival
    det = columns(result.detections)
    real = np.array([o is not None for o in det["object_id"]])
    start = np.array([spans[o][0] for o in det["object_id"][real]])
    end = np.array([spans[o][1] for o in det["object_id"][real]])
    t = det["time_s"][real]
    late = t > end
    assert not np.any(late), f"{late.sum()} detections after the end of flight, e.g. {t[late][:3]} > {end[late][:3]}"
    assert np.all(t >= start)


# --------------------------------------------------------------------------- 3. Pd and false alarms


def test_reference_swerling1_quadrature_matches_closed_form():
    snr = 10.0 ** (np.linspace(-5.0, 40.0, 91) / 10.0)
    for pfa in (1e-4, 1e-6, 1e-9):
        np.testing.assert_allclose(pd_swerling1(snr, pfa, 1), pfa ** (1.0 / (1.0 + snr)), atol=1e-9)


def _opportunities(result, truth: Truth, radar: Radar, obj: str):
    det = columns(result.detections)
    mine = det["sensor_id"] == radar.id
    phase = scan_phase(det["time_s"][mine], radar.scan_period_s)
    spans = [truth.span(o) for o in truth.objects]
    scans = activity_scans(spans, radar.scan_period_s, phase)
    t0, t1 = truth.span(obj)
    t = scans[(scans >= t0) & (scans <= t1)]
    r, v = truth.state(np.full(t.size, obj, dtype=object), t)
    return scans, t, r, v


@pytest.mark.parametrize("sensor", ["pd1", "pd4"])
@pytest.mark.parametrize("obj", ["steady", "fluct"])
def test_detection_count_matches_the_model_pd(pd_case, sensor, obj):
    """Observed detections over 4,500-6,000 scans against the sum of per-scan model Pd
    (Swerling 0: Marcum Q; Swerling 1: expectation over the exponential RCS)."""
    result, truth, radars, drone_types = pd_case
    radar = radars[sensor]
    rcs = drone_types["test-drone-sw0" if obj == "steady" else "test-drone-sw1"]["rcs"]
    _, t, r, v = _opportunities(result, truth, radar, obj)
    _, el, rng = aer(radar, r)
    # every scan of the flight is an opportunity well inside coverage
    assert np.all(horizon_margin_rad(radar, r) > 1e-3)
    assert np.all((el > radar.el_min_rad + 0.01) & (el < radar.search_el_max_rad - 0.1) & (rng < 0.5 * radar.max_range_m))
    sigma = aspect_rcs_m2(radar, r, v, si(rcs["nose"]), si(rcs["broadside"]), si(rcs["tail"]))
    snr_db = search_snr_db(radar, sigma, rng)
    if rcs["swerling"] == 0:
        p = pd_steady(10.0 ** (snr_db / 10.0), radar.pfa, radar.n_pulses)
    else:
        p = pd_swerling1_grid(snr_db, radar.pfa, radar.n_pulses)
    expected, sd = float(np.sum(p)), float(np.sqrt(np.sum(p * (1.0 - p))))
    assert 0.2 < expected / t.size < 0.95  # Pd in its sensitive range
    det = columns(result.detections)
    mine = (det["sensor_id"] == radar.id) & (det["object_id"] == obj)
    observed = int(mine.sum())
    assert set(det["mode"][mine]) <= {"search", "track"}  # no cue: no space-based sensor
    assert abs(observed - expected) <= N_SIGMA * sd, (observed, expected, sd, t.size)
    if rcs["swerling"] == 0:
        # a steady target's reported SNR is the search radar equation at its aspect
        tt = det["time_s"][mine]
        k = np.round((tt - t[0]) / radar.scan_period_s).astype(np.int64)
        assert np.all(np.abs(t[k] - tt) < 1e-6)
        np.testing.assert_allclose(det["snr_db"][mine], snr_db[k], atol=1e-6)


@pytest.mark.parametrize("sensor", ["pd1", "pd4"])
def test_false_alarm_count_matches_pfa_times_cells(pd_case, sensor):
    result, truth, radars, _ = pd_case
    radar = radars[sensor]
    scans, *_ = _opportunities(result, truth, radar, "steady")
    det = columns(result.detections)
    fa = (det["sensor_id"] == radar.id) & (det["mode"] == "false_alarm")
    assert np.all(np.isin(np.round(det["time_s"][fa], 6), np.round(scans, 6)))
    mean = radar.pfa * radar.cells * scans.size
    assert mean > 1000
    assert abs(int(fa.sum()) - mean) <= N_SIGMA * math.sqrt(mean), (int(fa.sum()), mean)


def test_false_alarm_reported_snr_is_noise_above_the_threshold(pd_case):
    """One pulse of noise is Exp(1) in noise units; above the threshold T = -ln(Pfa) it
    is T + Exp(1) (memorylessness)."""
    result, _, radars, _ = pd_case
    radar = radars["pd1"]
    det = columns(result.detections)
    fa = (det["sensor_id"] == "pd1") & (det["mode"] == "false_alarm")
    excess = 10.0 ** (det["snr_db"][fa] / 10.0) - threshold(radar.pfa, 1)
    assert stats.kstest(excess, "expon").pvalue > 1e-4


# --------------------------------------------------------------------------- 4. export


def test_export_measurements_format(tmp_path, anatolia):
    _, _, radars, scenario_yaml = anatolia
    out, exp = tmp_path / "out", tmp_path / "m"
    res = CliRunner().invoke(app, ["run", "anatolia", "--out", str(out), "--export-measurements", str(exp)])
    assert res.exit_code == 0, res.output
    sensors = yaml.safe_load((exp / "sensors.yaml").read_text(encoding="utf-8"))
    assert list(sensors) == ["sensors"]
    keys = ["id", "lat_deg", "lon_deg", "alt_m", "sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad", "pd",
            "false_alarms_per_scan", "scan_period_s", "max_range_m", "boresight_rad", "azimuth_half_width_rad",
            "elevation_min_rad", "elevation_max_rad"]
    catalog = _package_yaml("catalog", "sensors.yaml")["radar"]
    sites = {s["id"]: s for s in scenario_yaml["sensors"] if s["type"] in catalog}
    assert [s["id"] for s in sensors["sensors"]] == list(sites)
    det = pq.read_table(out / "detections.parquet")
    d = columns(det)
    for entry in sensors["sensors"]:
        assert list(entry) == keys
        site = sites[entry["id"]]
        radar = radars[entry["id"]]
        assert entry["lat_deg"] == si(site["lat"]) and entry["lon_deg"] == si(site["lon"])
        assert entry["alt_m"] == si(site["alt"])
        assert entry["scan_period_s"] == si(catalog[site["type"]]["scan_period"])
        assert entry["max_range_m"] == si(catalog[site["type"]]["max_range"])
        assert entry["boresight_rad"] == pytest.approx(radar.boresight_rad, rel=1e-12)
        assert entry["azimuth_half_width_rad"] == pytest.approx(radar.half_width_rad, rel=1e-12)
        assert entry["false_alarms_per_scan"] == pytest.approx(radar.pfa * radar.cells, rel=REL)
        real = (d["sensor_id"] == entry["id"]) & np.array([o is not None for o in d["object_id"]])
        for col in ("sigma_range_m", "sigma_azimuth_rad", "sigma_elevation_rad"):
            assert entry[col] == pytest.approx(float(np.median(d[col][real])), rel=REL)
        assert 0.0 < entry["pd"] <= 1.0
    lines = (exp / "measurements.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("time_s,sensor_id,range_m,azimuth_rad,elevation_rad,"
                        "sigma_range_m,sigma_azimuth_rad,sigma_elevation_rad")
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == det.num_rows
    assert [r[1] for r in rows] == list(d["sensor_id"])
    for j, col in ((0, "time_s"), (2, "range_m"), (3, "azimuth_rad"), (4, "elevation_rad"), (5, "sigma_range_m"),
                   (6, "sigma_azimuth_rad"), (7, "sigma_elevation_rad")):
        np.testing.assert_array_equal(np.array([float(r[j]) for r in rows]), d[col])  # full precision
    times = np.array([float(r[0]) for r in rows])
    assert np.all(np.diff(times) >= 0.0)
    az = np.array([float(r[3]) for r in rows])
    assert np.all((az >= 0.0) & (az < TWO_PI))


def test_exported_files_reproduce_the_engine_tracks(tmp_path, anatolia):
    """hoplon track on the exported files with the exported tracker.yaml finds the same
    confirmed tracks as the engine (same settings, same per-measurement sigmas)."""
    out, exp = tmp_path / "out", tmp_path / "m"
    res = CliRunner().invoke(app, ["run", "anatolia", "--out", str(out), "--export-measurements", str(exp), "-q"])
    assert res.exit_code == 0, res.output
    settings = yaml.safe_load((exp / "tracker.yaml").read_text(encoding="utf-8"))
    assert settings["motion"] == "imm-ballistic"
    tracks_csv = tmp_path / "tracks.csv"
    res = CliRunner().invoke(app, ["track", "--sensors", str(exp / "sensors.yaml"), "--measurements",
                                   str(exp / "measurements.csv"), "--out", str(tracks_csv), "--config", str(exp / "tracker.yaml")])
    assert res.exit_code == 0, res.output
    engine = columns(pq.read_table(out / "tracks.parquet"))
    lines = tracks_csv.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cli_rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    assert cli_rows.shape[0] == engine["time_s"].size
    np.testing.assert_allclose(cli_rows[:, header.index("time_s")], np.sort(engine["time_s"]), rtol=0, atol=1e-9)
    assert np.unique(cli_rows[:, header.index("track_id")]).size == np.unique(engine["track_id"]).size
    # and truth.csv is at the measurement times, so hoplon metrics scores these tracks
    res = CliRunner().invoke(app, ["metrics", "--truth", str(exp / "truth.csv"), "--tracks", str(tracks_csv), "--json"])
    assert res.exit_code == 0, res.output
    import json  # noqa: PLC0415

    m = json.loads(res.stdout)
    assert m["assigned_pairs"] > 0.9 * cli_rows.shape[0]


def test_exported_pd_is_detections_over_opportunities(tmp_path, anatolia):
    """sensors.yaml pd = real detections / object-scans in coverage, the denominator
    recomputed here (scan grid, activity windows, independent geometry)."""
    result, truth, radars, _ = anatolia
    from hoplon.io.measurements import export_measurements

    export_measurements(result, tmp_path)
    exported = {s["id"]: s for s in yaml.safe_load((tmp_path / "sensors.yaml").read_text(encoding="utf-8"))["sensors"]}
    det = columns(result.detections)
    ev = columns(result.events)
    spans = {}
    for k, o, t in zip(ev["kind"], ev["object_id"], ev["time_s"]):
        if k == "launch":
            spans.setdefault(o, [np.nan, np.nan])[0] = t
        elif k == "boost_end":
            spans.setdefault(f"{o}.booster", [np.nan, np.nan])[0] = t
        elif k in ("impact", "leaker_impact"):
            spans.setdefault(o, [np.nan, np.nan])[1] = t
    assert all(np.isfinite(v).all() for v in spans.values())
    for sid, radar in radars.items():
        mine = det["sensor_id"] == sid
        phase = scan_phase(det["time_s"][mine], radar.scan_period_s)
        scans = activity_scans([tuple(v) for v in spans.values()], radar.scan_period_s, phase)
        clear = near = 0
        for obj, (a, b) in spans.items():
            t = scans[(scans >= a) & (scans <= b)]
            if t.size == 0:
                continue
            r, _ = truth.state(np.full(t.size, obj, dtype=object), t)
            az, el, rng = aer(radar, r)
            m = np.minimum.reduce([
                horizon_margin_rad(radar, r) / HORIZON_RAD, sector_margin_rad(radar, az) / MICRORADIAN,
                (el - radar.el_min_rad) / MICRORADIAN, (radar.el_max_rad - el) / MICRORADIAN,
                (rng - radar.min_range_m) / METRE, (radar.max_range_m - rng) / METRE,
            ])
            clear += int(np.sum(m > 1.0))
            near += int(np.sum(np.abs(m) <= 1.0))
        hits = int(np.sum(mine & np.array([o is not None for o in det["object_id"]])))
        assert clear > 100
        lo, hi = hits / (clear + near), hits / clear
        assert lo - 1e-12 <= exported[sid]["pd"] <= hi + 1e-12, (sid, exported[sid]["pd"], lo, hi)


# --------------------------------------------------------------------------- 5. timeline


def test_first_detection_events(anatolia):
    result, _, radars, _ = anatolia
    det = columns(result.detections)
    ev = columns(result.events)
    firsts = {}
    for k, o, t, detail in zip(ev["kind"], ev["object_id"], ev["time_s"], ev["detail"]):
        if k == "first_detection":
            sid = detail.split()[1]
            assert (o, sid) not in firsts, f"two first_detection events for {o} by {sid}"
            firsts[(o, sid)] = t
    earliest = {}
    for o, sid, t in zip(det["object_id"], det["sensor_id"], det["time_s"]):
        if o is not None:
            earliest[(o, sid)] = min(t, earliest.get((o, sid), np.inf))
    assert set(firsts) == set(earliest)
    assert {sid for _, sid in firsts} == set(radars)
    for key, t in earliest.items():
        assert firsts[key] == t, key
    # the event is placed at the object's true position at that time
    _, truth, _, _ = anatolia
    for k, o, t, lat, lon, alt in zip(ev["kind"], ev["object_id"], ev["time_s"], ev["lat_deg"], ev["lon_deg"], ev["alt_m"]):
        if k == "first_detection":
            r, _ = truth.state(np.array([o], dtype=object), np.array([t]))
            tlat, tlon, talt = pymap3d.ecef2geodetic(*r[0], ell=WGS84)
            _, _, dist = GEOD.inv(lon, lat, float(tlon), float(tlat))
            assert dist < METRE and abs(alt - float(talt)) < METRE, (o, dist, alt - float(talt))


def test_dwell_modes_follow_the_schedule(anatolia):
    """Cued dwells only after the threat's launch report, plain search only before it;
    a track dwell only after an earlier detection of the object by the same radar."""
    result, _, _, _ = anatolia
    det = columns(result.detections)
    ev = columns(result.events)
    report = {o: t for k, o, t in zip(ev["kind"], ev["object_id"], ev["time_s"]) if k == "launch_detected"}
    first = {}
    order = np.argsort(det["time_s"], kind="stable")
    for i in order:
        o, sid, t, mode = det["object_id"][i], det["sensor_id"][i], det["time_s"][i], det["mode"][i]
        if o is None:
            continue
        cue = report.get(o.removesuffix(".booster"), np.inf)
        if mode == "cued":
            assert t >= cue, (o, sid, t)
        elif mode == "search":
            assert t < cue, (o, sid, t)
        else:
            assert mode == "track" and first.get((o, sid), np.inf) < t, (o, sid, t, mode)
        first.setdefault((o, sid), t)
    # sensors run from a minute before the first launch to a minute after the last impact
    t_all = det["time_s"]
    launches = [t for k, t in zip(ev["kind"], ev["time_s"]) if k == "launch"]
    impacts = [t for k, t in zip(ev["kind"], ev["time_s"]) if k in ("impact", "leaker_impact")]
    assert t_all.min() >= min(launches) - WINDOW_MARGIN_S and t_all.max() <= max(impacts) + WINDOW_MARGIN_S


def test_launch_detected_events(anatolia):
    result, _, _, scenario_yaml = anatolia
    ir = _package_yaml("catalog", "sensors.yaml")["infrared"]["space-ir-class"]
    delay, sigma = si(ir["report_delay"]), si(ir["launch_point_sigma"])
    ev = columns(result.events)
    launch = {o: t for k, o, t in zip(ev["kind"], ev["object_id"], ev["time_s"]) if k == "launch"}
    burnout = {o: t for k, o, t in zip(ev["kind"], ev["object_id"], ev["time_s"]) if k == "boost_end"}
    points = {}
    for entry in scenario_yaml["threats"]["ballistic"]:
        for k in range(entry.get("salvo", {}).get("count", 1)):
            points[f"{entry['id']}-{k + 1}"] = (entry["launch"]["lat"], entry["launch"]["lon"])
    reported = [(o, t, la, lo) for k, o, t, la, lo in zip(ev["kind"], ev["object_id"], ev["time_s"], ev["lat_deg"], ev["lon_deg"])
                if k == "launch_detected"]
    assert len(reported) == len(points)  # Pd 0.98 per missile: all four seen with this seed
    for o, t, lat, lon in reported:
        assert launch[o] + delay <= t <= burnout[o] + delay, o
        _, _, dist = GEOD.inv(points[o][1], points[o][0], lon, lat)
        assert dist <= 5.0 * sigma, (o, dist)
    # the launch-report table: estimated launch time and heading within 5 sigma of the
    # truth (heading: the geodesic azimuth from the launch point to the aim, which the
    # rotating-Earth trajectory's launch azimuth follows within a degree or two)
    aim = next(a for a in scenario_yaml["assets"] if a["name"] == "Incirlik Air Base")
    reports = columns(result.launch_reports)
    assert sorted(reports["object_id"]) == sorted(o for o, *_ in reported)
    for o, t_est, heading in zip(reports["object_id"], reports["launch_time_s"], reports["heading_deg"]):
        assert abs(t_est - launch[o]) <= 5.0 * si(ir["launch_time_sigma"]), o
        az12, _, _ = GEOD.inv(points[o][1], points[o][0], aim["lon"], aim["lat"])
        err = abs((heading - az12 + 180.0) % 360.0 - 180.0)
        assert err <= 5.0 * math.degrees(si(ir["heading_sigma"])) + 2.0, (o, heading, az12)


# --------------------------------------------------------------------------- 6. determinism


def test_same_seed_same_detections_other_seed_other_noise():
    scenario = resolve_scenario("anatolia")
    a = run(compile_scenario(scenario)).detections
    b = run(compile_scenario(scenario)).detections
    assert a.equals(b)
    c = run(compile_scenario(scenario, seed=12345)).detections
    assert not a.equals(c)
    da, dc = columns(a), columns(c)
    assert not np.array_equal(np.sort(da["range_m"]), np.sort(dc["range_m"][: da["range_m"].size]))
    assert set(np.round(da["time_s"], 6)) != set(np.round(dc["time_s"], 6))


# --------------------------------------------------------------------------- 7. coverage


def _coverage_radar(name: str, alt_m: float) -> tuple[Radar, RadarArray]:
    kind = _package_yaml("catalog", "sensors.yaml")["radar"][name]
    radar = Radar.from_yaml({"id": name, "lat": 0.0, "lon": 0.0, "alt": alt_m}, kind)
    return radar, _radar_array(radar)


def _elevation_limited_range(radar: Radar, h_m: float, earth_radius_m: float) -> float:
    """Slant range at which a target at height h is seen at the lowest elevation, on a
    sphere of the given radius (root of |radar + R u(el_min)| = radius + h)."""
    a = earth_radius_m + radar.alt_m
    b = earth_radius_m + h_m
    e = radar.el_min_rad

    def f(rng):
        return math.hypot(a + rng * math.sin(e), rng * math.cos(e)) - b

    return optimize.brentq(f, 0.0, 1e8, xtol=1e-6, rtol=1e-14) if f(0.0) < 0.0 else 0.0


def required_snr_db(pd: float, pfa: float, n: int, swerling: int) -> float:
    """Per-pulse SNR (dB) giving ``pd``: the root of the reference Pd (brentq)."""

    def gap(snr_db):
        snr = 10.0 ** (snr_db / 10.0)
        p = pd_steady(snr, pfa, n) if swerling == 0 else pd_swerling1(snr, pfa, n)[0]
        return float(p) - pd

    return optimize.brentq(gap, -10.0, 60.0, xtol=1e-12)


def search_range_m(radar: Radar, rcs_m2: float, snr_db: float) -> float:
    """Range (m) where the search radar equation gives ``snr_db`` (brentq)."""
    return optimize.brentq(lambda rr: search_snr_db(radar, rcs_m2, rr) - snr_db, 1e3, 1e8, xtol=1e-6, rtol=1e-14)


@pytest.mark.parametrize(
    "name,alt_m", [("fbx-xband-ew-class", 0.0), ("fbx-xband-ew-class", 2100.0), ("lower-tier-fcr-class", 85.0)]
)
@pytest.mark.parametrize("swerling", [0, 1])
def test_coverage_detection_range(name, alt_m, swerling):
    """Detection range = least of the SNR range (search radar equation at the exact
    required SNR), the 4/3-Earth horizon, the lowest-elevation range and max_range."""
    radar, array = _coverage_radar(name, alt_m)
    rcs, pd = 0.1, 0.9
    altitudes = np.array([300.0, 10e3, 30e3])
    table = coverage(array, rcs_m2=rcs, altitudes_m=altitudes, pd=pd, swerling=swerling, track_gain_db=radar.track_gain_db)
    need = required_snr_db(pd, radar.pfa, radar.n_pulses, swerling)
    if swerling == 1 and radar.n_pulses == 1:  # closed form: pd = pfa^(1/(1+snr))
        assert need == pytest.approx(10 * math.log10(math.log(radar.pfa) / math.log(pd) - 1.0), abs=1e-6)
    snr_range = search_range_m(radar, rcs, need)
    track_range = search_range_m(radar, rcs, need - radar.track_gain_db)
    kr = K_EFFECTIVE * EARTH_RADIUS_M
    binding = set()
    for i, h in enumerate(altitudes):
        # 4/3-Earth horizon: the two tangent lengths to the effective sphere
        horizon = math.sqrt((kr + radar.alt_m) ** 2 - kr**2) + math.sqrt((kr + h) ** 2 - kr**2)
        elev = _elevation_limited_range(radar, h, EARTH_RADIUS_M)  # geometric elevations: the true radius
        limits = {"snr": snr_range, "horizon": horizon, "elevation": elev, "instrumented": radar.max_range_m}
        binding.add(min(limits, key=limits.get))
        assert table.snr_range_m[i] == pytest.approx(snr_range, rel=1e-9)
        assert table.horizon_range_m[i] == pytest.approx(horizon, rel=1e-9)
        assert table.elevation_limited_range_m[i] == pytest.approx(elev, rel=1e-9)
        assert table.detection_range_m[i] == pytest.approx(min(limits.values()), rel=1e-9)
        geometric = min(horizon, elev, radar.max_range_m)
        assert table.track_range_m[i] == pytest.approx(min(track_range, geometric), rel=1e-9)
    assert len(binding) >= 2  # the three altitudes exercise different limits


def test_coverage_horizon_binds_without_an_elevation_limit():
    """With the lowest elevation below the horizon the 4/3-Earth horizon is the limit."""
    radar, array = _coverage_radar("fbx-xband-ew-class", 10.0)
    radar = Radar(**{**radar.__dict__, "el_min_rad": math.radians(-1.0)})
    array = _radar_array(radar)
    h = np.array([100.0, 1e3])
    table = coverage(array, rcs_m2=100.0, altitudes_m=h, pd=0.5, swerling=1)
    kr = K_EFFECTIVE * EARTH_RADIUS_M
    horizon = np.sqrt((kr + 10.0) ** 2 - kr**2) + np.sqrt((kr + h) ** 2 - kr**2)
    np.testing.assert_allclose(table.detection_range_m, horizon, rtol=1e-9)
    # d_km ~ 4.12 (sqrt(h1_m) + sqrt(h2_m)) (Skolnik's rule of thumb for k = 4/3)
    np.testing.assert_allclose(table.detection_range_m / KM, 4.12 * (math.sqrt(10.0) + np.sqrt(h)), rtol=2e-3)


def _visibility_edge_m(radar: Radar, array: RadarArray, h_m: float, lo_m: float, hi_m: float) -> float:
    """Slant range at which observe() stops seeing a target at height h on the boresight
    (bisection on the ground distance between a visible and a hidden point)."""

    def look(ground_m):
        lon, lat, _ = GEOD.fwd(radar.lon_deg, radar.lat_deg, math.degrees(radar.boresight_rad), ground_m)
        r = np.array([pymap3d.geodetic2ecef(lat, lon, h_m, ell=WGS84)])
        obs = observe(array, np.zeros(1, dtype=np.int64), r, np.zeros_like(r), np.ones(1))
        return bool(obs.visible[0]), float(obs.range_m[0])

    assert look(lo_m)[0] and not look(hi_m)[0]
    for _ in range(40):
        mid = 0.5 * (lo_m + hi_m)
        lo_m, hi_m = (mid, hi_m) if look(mid)[0] else (lo_m, mid)
    return look(lo_m)[1]


@pytest.mark.parametrize("h_m", [1e3, 10e3, 30e3])
def test_coverage_range_is_where_the_simulated_radar_stops_seeing(h_m):
    """The geometric limit of the coverage table (horizon, lowest elevation, instrumented
    range) is where observe() stops seeing a target at that altitude."""
    radar, array = _coverage_radar("fbx-xband-ew-class", 0.0)
    table = coverage(array, rcs_m2=1e4, altitudes_m=np.array([h_m]), pd=0.9, swerling=1)
    limit = min(table.horizon_range_m[0], table.elevation_limited_range_m[0], table.instrumented_range_m[0])
    assert table.detection_range_m[0] == pytest.approx(limit, rel=REL)  # a big target: geometry limits
    edge = _visibility_edge_m(radar, array, h_m, 0.1 * limit if h_m < 5e3 else 0.5 * limit, 1.5 * limit)
    assert limit == pytest.approx(edge, rel=0.005)
