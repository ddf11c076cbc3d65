#!/usr/bin/env python3
"""Benchmark: radar detections of one scan, M sensors x N targets, vs a per-pair Python loop.

M radars (the packaged catalog's radar types in turn, at random sites within about
200 km of 37 N 38 E, heights 0-1500 m, random boresights; a ``RadarArray`` built by
``hoplon.sim.sensors.radar_array``) look at N targets (random places 20-1500 km from
37 N 38 E, heights 0.1-300 km log-uniform, speeds 30-7000 m/s log-uniform in random
directions, per-target nose/broadside/tail RCS, all Swerling 1). One scan puts all
M x N (radar, target) pairs through Hoplon's batched pipeline as the engine
(``hoplon.sim.sensors``) does for a search scan: ``aspect_angle_rad`` and
``rcs_by_aspect_m2`` (mean RCS toward each radar), ``observe`` (geometry, line of
sight over the 4/3 Earth, field of view, range limits, search SNR), the Swerling 1
draw of the scan's RCS, ``detection_probability`` (Swerling 0 at that RCS), the
Bernoulli draw (only in the search volume), ``measurement_sigmas`` and Gaussian noise
for the detections. Like the engine it draws the fluctuation, the uniform and the four
noise values for every pair. Its figures are pairs per second and milliseconds per scan;
``observe`` and ``detection_probability`` are also timed alone on the same pairs.

The reference, measured in the same run, is a plain per-pair Python loop over a sample
of the same pairs that does the same with scalar code: ``pymap3d.ecef2aer`` for the
geometry, the target's geodetic position in closed form (Heikkinen) with ``math``, the
same 4/3-Earth line-of-sight test, field-of-view and range checks, and the search radar
equation in ``math``, then (only for pairs in the search volume, as a loop naturally
skips the rest) the aspect-dependent RCS, the Swerling 1 draw, the Swerling 0 Pd by
``scipy.stats.ncx2.sf``, the Bernoulli draw and (for detections) the sigmas and noise,
with scalar draws from a generator of the same kind. Its time per pair is scaled to a
full scan for the ratio.

Same physics check on the sample: the fraction of pairs where both agree on visibility
(and on the search volume), the largest SNR difference (dB and relative) over the pairs
in both search volumes, the largest range and angle differences, and the largest
difference between the loop's Pd and Hoplon's ``detection_probability`` at the loop's
fluctuated SNR. The random draws differ (the loop draws per pair), so detection counts
agree only statistically.

Timings are the best of ``--repeat`` runs (default 3); the first call (numba compile or
cache load) is timed separately.

    python benchmarks/bench_detections.py [--radars 10] [--targets 10000] [--sample 2000] [--repeat 3] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import pymap3d
from scipy import special
from scipy.stats import ncx2

from _timing import best_of
from hoplon.core import radar
from hoplon.core.earth import WGS84
from hoplon.core.frames import geodetic_to_ecef
from hoplon.core.sensors import aspect_angle_rad, measurement_sigmas, observe, rcs_by_aspect_m2
from hoplon.scenario.catalog import load_packaged_catalog
from hoplon.sim.sensors import radar_array

CENTRE_LAT_DEG, CENTRE_LON_DEG = 37.0, 38.0
SPHERE_M = 6371e3
K_REFRACTION = 4.0 / 3.0
BOLTZMANN = 1.380649e-23
C = 299_792_458.0
TWO_PI = 2.0 * math.pi


# ------------------------------------------------------------------ the scene


def scene(n_radars: int, n_targets: int, seed: int) -> dict:
    """Radars (catalog types in turn) and targets (ECEF states, signatures) around 37 N 38 E."""
    rng = np.random.default_rng(seed)
    catalog = load_packaged_catalog().radar
    names = sorted(catalog)
    kinds = [catalog[names[i % len(names)]] for i in range(n_radars)]
    site_lat = CENTRE_LAT_DEG + rng.uniform(-2.0, 2.0, n_radars)
    site_lon = CENTRE_LON_DEG + rng.uniform(-2.5, 2.5, n_radars)
    site_alt = rng.uniform(0.0, 1500.0, n_radars)
    boresight = rng.uniform(0.0, TWO_PI, n_radars)

    # targets: a distance and bearing from the centre on the mean sphere
    dist = rng.uniform(20e3, 1500e3, n_targets) / SPHERE_M
    brg = rng.uniform(0.0, TWO_PI, n_targets)
    p1, l1 = math.radians(CENTRE_LAT_DEG), math.radians(CENTRE_LON_DEG)
    lat = np.arcsin(np.sin(p1) * np.cos(dist) + np.cos(p1) * np.sin(dist) * np.cos(brg))
    lon = l1 + np.arctan2(np.sin(brg) * np.sin(dist) * np.cos(p1), np.cos(dist) - np.sin(p1) * np.sin(lat))
    alt = np.exp(rng.uniform(np.log(100.0), np.log(300e3), n_targets))
    r = geodetic_to_ecef(np.degrees(lat), np.degrees(lon), alt)
    direction = rng.standard_normal((n_targets, 3))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    v = np.exp(rng.uniform(np.log(30.0), np.log(7000.0), n_targets))[:, None] * direction
    nose = 10.0 ** rng.uniform(-3.0, 0.0, n_targets)
    return {
        "kinds": kinds,
        "type_names": [names[i % len(names)] for i in range(n_radars)],
        "radars": radar_array(kinds, site_lat, site_lon, site_alt, boresight),
        "site_lat": site_lat, "site_lon": site_lon, "site_alt": site_alt, "boresight": boresight,
        "r": r, "v": v,
        "nose": nose,
        "broadside": nose * 10.0 ** rng.uniform(0.5, 2.0, n_targets),
        "tail": nose * 10.0 ** rng.uniform(0.0, 1.0, n_targets),
        "swerling": np.ones(n_targets, dtype=np.int64),
    }


# ------------------------------------------------------------------ Hoplon: one batched scan


def hoplon_scan(radars, r, v, nose, broad, tail, swer, rng) -> dict:
    """All (radar, target) pairs of one search scan, as ``hoplon.sim.sensors`` does it."""
    m, n = len(radars), r.shape[0]
    idx = np.repeat(np.arange(m), n)
    o_idx = np.tile(np.arange(n), m)
    rp, vp = r[o_idx], v[o_idx]
    site = radars.position_ecef_m()
    aspect = aspect_angle_rad(rp, vp, site[idx])
    rcs = rcs_by_aspect_m2(aspect, nose[o_idx], broad[o_idx], tail[o_idx])
    obs = observe(radars, idx, rp, vp, rcs)
    p = idx.size
    fluct = np.where(swer[o_idx] == 1, rng.exponential(1.0, p), 1.0)
    u = rng.random(p)
    noise = rng.standard_normal((p, 4))
    snr = obs.snr_db + 10.0 * np.log10(np.maximum(fluct, 1e-300))
    # as the engine: Pd only where the radar can see the target, one radar at a time
    pd = np.zeros(p)
    for j in range(m):
        sel = np.flatnonzero((idx == j) & obs.visible)
        if sel.size:
            pd[sel] = radar.detection_probability(snr[sel], radars.pfa[j], swerling=0, n_pulses=radars.n_pulses[j])
    det = obs.in_search & (u < pd)
    d = np.flatnonzero(det)
    di = idx[d]
    s_r, s_az, s_el, s_rr = measurement_sigmas(radars, di, snr[d])
    return {
        "obs": obs, "pd": pd, "det": det,
        "range_m": obs.range_m[d] + noise[d, 0] * s_r,
        "azimuth_rad": np.mod(obs.azimuth_rad[d] + noise[d, 1] * s_az, TWO_PI),
        "elevation_rad": obs.elevation_rad[d] + noise[d, 2] * s_el,
        "range_rate_mps": np.where(radars.range_rate[di], obs.range_rate_mps[d] + noise[d, 3] * s_rr, np.nan),
    }


# ------------------------------------------------------------------ plain per-pair loop

_A = WGS84.a_m
_E2 = WGS84.e2
_B = _A * math.sqrt(1.0 - _E2)
_EP2 = (_A * _A - _B * _B) / (_B * _B)


def geodetic(x: float, y: float, z: float) -> tuple[float, float, float]:
    """WGS84 latitude, longitude (rad) and height (m): Heikkinen's closed form, with math."""
    p = math.hypot(x, y)
    f = 54.0 * _B * _B * z * z
    g = p * p + (1.0 - _E2) * z * z - _E2 * (_A * _A - _B * _B)
    c = _E2 * _E2 * f * p * p / (g * g * g)
    s = (1.0 + c + math.sqrt(c * c + 2.0 * c)) ** (1.0 / 3.0)
    k = s + 1.0 + 1.0 / s
    big_p = f / (3.0 * k * k * g * g)
    q = math.sqrt(1.0 + 2.0 * _E2 * _E2 * big_p)
    r0 = -big_p * _E2 * p / (1.0 + q) + math.sqrt(
        0.5 * _A * _A * (1.0 + 1.0 / q) - big_p * (1.0 - _E2) * z * z / (q * (1.0 + q)) - 0.5 * big_p * p * p
    )
    uu = math.hypot(p - _E2 * r0, z)
    vv = math.sqrt((p - _E2 * r0) ** 2 + (1.0 - _E2) * z * z)
    z0 = _B * _B * z / (_A * vv)
    return math.atan2(z + _EP2 * z0, p), math.atan2(y, x), uu * (1.0 - _B * _B / (_A * vv))


def clear_line_of_sight(lat1: float, lon1: float, h1: float, lat2: float, lon2: float, h2: float) -> bool:
    """4/3-Earth line of sight between two geodetic points (rad, rad, m), with math."""
    kr = K_REFRACTION * SPHERE_M
    c1, c2 = math.cos(lat1), math.cos(lat2)
    a = (c1 * math.cos(lon1), c1 * math.sin(lon1), math.sin(lat1))
    b = (c2 * math.cos(lon2), c2 * math.sin(lon2), math.sin(lat2))
    cross = math.sqrt((a[1] * b[2] - a[2] * b[1]) ** 2 + (a[2] * b[0] - a[0] * b[2]) ** 2 + (a[0] * b[1] - a[1] * b[0]) ** 2)
    theta = math.atan2(cross, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) * SPHERE_M / kr
    if theta >= math.pi:
        return False
    r1, r2 = kr + h1, kr + h2
    ct = math.cos(theta)
    if r1 > r2 * ct and r2 > r1 * ct:
        chord = math.sqrt((r1 - r2) ** 2 + 4.0 * r1 * r2 * math.sin(0.5 * theta) ** 2)
        d_min = r1 * r2 * math.sin(theta) / chord
    else:
        d_min = min(r1, r2)
    return d_min >= kr - 1e-3


def loop_radars(sc: dict) -> list[dict]:
    """Per-radar constants as Python floats, from the catalog types (not the RadarArray)."""
    out = []
    for i, k in enumerate(sc["kinds"]):
        lat, lon, h = float(sc["site_lat"][i]), float(sc["site_lon"][i]), float(sc["site_alt"][i])
        el_search = k.search_elevation_max_rad if k.search_elevation_max_rad is not None else k.elevation_max_rad
        span = min(2.0 * k.azimuth_half_width_rad, TWO_PI)
        out.append({
            "lat": lat, "lon": lon, "alt": h, "lat_rad": math.radians(lat), "lon_rad": math.radians(lon),
            "site": tuple(float(c) for c in pymap3d.geodetic2ecef(lat, lon, h)),
            "bore": float(sc["boresight"][i]) % TWO_PI, "half": k.azimuth_half_width_rad,
            "el_min": k.elevation_min_rad, "el_max": k.elevation_max_rad, "el_search": el_search,
            "r_min": k.min_range_m, "r_max": k.max_range_m,
            "pap": k.power_aperture_w_m2, "scan": k.scan_period_s, "temp": k.system_temp_k,
            "loss": 10.0 ** (k.losses_db / 10.0), "omega": span * (math.sin(el_search) - math.sin(k.elevation_min_rad)),
            "n": float(k.n_pulses), "threshold": float(special.gammainccinv(k.n_pulses, k.pfa)),
            "res": C / (2.0 * k.bandwidth_hz), "range_floor": k.range_floor_m,
            "bw_az": k.beamwidth_az_rad, "bw_el": k.beamwidth_el_rad, "angle_floor": k.angle_floor_rad,
            "range_rate": k.range_rate, "vel_res": C / k.frequency_hz / (2.0 * k.dwell_time_s),
            "rr_floor": k.range_rate_floor_mps,
        })
    return out


def loop_scan(rads: list[dict], pairs: np.ndarray, n_targets: int, sc: dict, rng) -> list[tuple]:
    """The sample pairs one by one; a row per pair:
    (visible, in_search, range, az, el, snr_db, fluctuated snr_db, pd, detected)."""
    rows = []
    nan = math.nan
    for p in pairs.tolist():
        ri, ti = divmod(p, n_targets)
        R = rads[ri]
        x, y, z = sc["r"][ti].tolist()
        az, el, rng_m = (float(q) for q in pymap3d.ecef2aer(x, y, z, R["lat_rad"], R["lon_rad"], R["alt"], deg=False))
        off = math.pi - ((math.pi - (az - R["bore"])) % TWO_PI)
        visible = (
            (abs(off) <= R["half"] or R["half"] >= math.pi)
            and R["el_min"] <= el <= R["el_max"]
            and R["r_min"] <= rng_m <= R["r_max"]
        )
        if visible:
            lat, lon, h = geodetic(x, y, z)
            visible = clear_line_of_sight(R["lat_rad"], R["lon_rad"], R["alt"], lat, lon, h)
        in_search = visible and el <= R["el_search"]
        if not in_search:
            rows.append((visible, False, rng_m, az, el, nan, nan, nan, False))
            continue
        # aspect-dependent mean RCS toward this radar (linear in dB)
        vx, vy, vz = sc["v"][ti].tolist()
        sx, sy, sz = R["site"]
        lx, ly, lz = sx - x, sy - y, sz - z
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        if speed > 0.0:
            cos = (lx * vx + ly * vy + lz * vz) / (speed * math.sqrt(lx * lx + ly * ly + lz * lz))
            aspect = math.acos(max(-1.0, min(1.0, cos)))
        else:
            aspect = 0.5 * math.pi
        f = aspect / (0.5 * math.pi)
        n_db, b_db, t_db = (10.0 * math.log10(float(sc[key][ti])) for key in ("nose", "broadside", "tail"))
        rcs = 10.0 ** ((n_db + (b_db - n_db) * f if f <= 1.0 else b_db + (t_db - b_db) * (f - 1.0)) / 10.0)
        # search radar equation, Swerling 1 draw, Swerling 0 Pd at that RCS, Bernoulli draw
        snr = R["pap"] * rcs * R["scan"] / (4.0 * math.pi * R["omega"] * max(rng_m, 1.0) ** 4 * BOLTZMANN * R["temp"] * R["loss"])
        fluct = rng.exponential() if sc["swerling"][ti] == 1 else 1.0
        snr_f = snr * fluct
        pd = float(ncx2.sf(2.0 * R["threshold"], 2.0 * R["n"], 2.0 * R["n"] * snr_f))
        detected = rng.random() < pd
        if detected:
            root = math.sqrt(2.0 * snr_f)
            n_r, n_az, n_el, n_rr = rng.standard_normal(4).tolist()
            meas_r = rng_m + n_r * math.hypot(R["res"] / root, R["range_floor"])
            meas_az = (az + n_az * math.hypot(R["bw_az"] / (1.6 * root), R["angle_floor"])) % TWO_PI
            meas_el = el + n_el * math.hypot(R["bw_el"] / (1.6 * root), R["angle_floor"])
            if R["range_rate"]:
                rdot = ((x - sx) * vx + (y - sy) * vy + (z - sz) * vz) / rng_m
                meas_rr = rdot + n_rr * math.hypot(R["vel_res"] / root, R["rr_floor"])
            else:
                meas_rr = nan
            del meas_r, meas_az, meas_el, meas_rr  # a detection report would carry these
        rows.append((True, True, rng_m, az, el, 10.0 * math.log10(snr), 10.0 * math.log10(snr_f), pd, detected))
    return rows


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--radars", type=int, default=10, help="radars M")
    ap.add_argument("--targets", type=int, default=10_000, help="targets N (one scan: M x N pairs)")
    ap.add_argument("--sample", type=int, default=2000, help="pairs run by the per-pair Python loop")
    ap.add_argument("--repeat", type=int, default=3, help="timings are the best of this many runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    a = ap.parse_args()
    sc = scene(a.radars, a.targets, a.seed)
    radars = sc["radars"]
    args = (radars, sc["r"], sc["v"], sc["nose"], sc["broadside"], sc["tail"], sc["swerling"])
    n_pairs = a.radars * a.targets

    rng = np.random.default_rng(a.seed + 1)
    t0 = time.perf_counter()
    hoplon_scan(*args, rng)  # first call: compile or load the numba cache
    warm = time.perf_counter() - t0
    t_scan, out = best_of(a.repeat, hoplon_scan, *args, rng)
    obs = out["obs"]
    # two stages of the scan timed alone on the same pairs (information)
    idx = np.repeat(np.arange(a.radars), a.targets)
    o_idx = np.tile(np.arange(a.targets), a.radars)
    rp, vp = sc["r"][o_idx], sc["v"][o_idx]
    rcs = rcs_by_aspect_m2(aspect_angle_rad(rp, vp, radars.position_ecef_m()[idx]), sc["nose"][o_idx],
                           sc["broadside"][o_idx], sc["tail"][o_idx])
    t_observe, _ = best_of(a.repeat, lambda: observe(radars, idx, rp, vp, rcs))
    vis = obs.visible
    t_pd, _ = best_of(a.repeat, lambda: radar.detection_probability(
        obs.snr_db[vis], radars.pfa[idx[vis]], swerling=0, n_pulses=radars.n_pulses[idx[vis]]))

    k = min(a.sample, n_pairs)
    pairs = np.sort(np.random.default_rng(a.seed + 2).choice(n_pairs, k, replace=False))
    rads = loop_radars(sc)
    loop_rng = np.random.default_rng(a.seed + 3)
    loop_scan(rads, pairs[:5], a.targets, sc, loop_rng)  # warm pymap3d and scipy
    t_loop, rows = best_of(a.repeat, loop_scan, rads, pairs, a.targets, sc, loop_rng)
    per_pair_loop = t_loop / k
    per_pair = t_scan / n_pairs

    cols = list(zip(*rows))
    vis_l, srch_l = np.array(cols[0], dtype=bool), np.array(cols[1], dtype=bool)
    rng_l, az_l, el_l = (np.array(c, dtype=float) for c in cols[2:5])
    snr_l, snr_f_l, pd_l = (np.array(c, dtype=float) for c in cols[5:8])
    det_l = np.array(cols[8], dtype=bool)
    both = srch_l & obs.in_search[pairs]
    snr_diff = np.abs(snr_l[both] - obs.snr_db[pairs][both])
    pd_h = np.asarray(radar.detection_probability(
        snr_f_l[srch_l], radars.pfa[pairs[srch_l] // a.targets], swerling=0,
        n_pulses=radars.n_pulses[pairs[srch_l] // a.targets],
    ))
    daz = np.abs(np.mod(az_l - obs.azimuth_rad[pairs] + math.pi, TWO_PI) - math.pi)

    def biggest(x) -> float:
        return float(np.max(x)) if np.size(x) else 0.0

    result = {
        "benchmark": "detections",
        "radars": a.radars,
        "radar_types": sc["type_names"],
        "targets": a.targets,
        "pairs": n_pairs,
        "sample": k,
        "repeat": a.repeat,
        "first_call_s": warm,
        "scan_s": t_scan,
        "ms_per_scan": t_scan * 1e3,
        "pairs_per_s": n_pairs / t_scan,
        "s_per_pair": per_pair,
        "visible_pairs": int(np.sum(obs.visible)),
        "in_search_pairs": int(np.sum(obs.in_search)),
        "detections": int(np.sum(out["det"])),
        "stages_ms": {"observe": t_observe * 1e3, "detection_probability": t_pd * 1e3},
        "references": {
            "python per pair": {
                "s_per_pair": per_pair_loop,
                "pairs_per_s": 1.0 / per_pair_loop,
                "ms_per_scan": per_pair_loop * n_pairs * 1e3,
                "speedup": per_pair_loop / per_pair,
                "visible_pairs": int(np.sum(vis_l)),
                "in_search_pairs": int(np.sum(srch_l)),
                "detections": int(np.sum(det_l)),
            },
        },
        "consistency": {
            "sample": k,
            "visibility_agreement": float(np.mean(vis_l == obs.visible[pairs])),
            "in_search_agreement": float(np.mean(srch_l == obs.in_search[pairs])),
            "snr_pairs": int(np.sum(both)),
            "max_snr_difference_db": biggest(snr_diff),
            "max_snr_relative_difference": biggest(np.abs(10.0 ** (snr_diff / 10.0) - 1.0)),
            "max_range_difference_m": biggest(np.abs(rng_l - obs.range_m[pairs])),
            "max_angle_difference_rad": biggest(np.concatenate([daz, np.abs(el_l - obs.elevation_rad[pairs])])),
            "max_pd_difference": biggest(np.abs(pd_h - pd_l[srch_l])),
            # statistical only (different draws): detected fraction of the search-volume pairs
            "detected_fraction_hoplon": float(np.sum(out["det"]) / max(1, np.sum(obs.in_search))),
            "detected_fraction_loop": float(np.sum(det_l) / max(1, np.sum(srch_l))),
        },
    }
    if a.json:
        print(json.dumps(result, indent=2))
        return
    ref = result["references"]["python per pair"]
    c = result["consistency"]
    print(f"detections: {a.radars} radars x {a.targets} targets = {n_pairs} pairs in one scan "
          f"({result['visible_pairs']} visible, {result['in_search_pairs']} in the search volume, "
          f"{result['detections']} detected)")
    print(f"  Hoplon (batched)       : {result['pairs_per_s'] / 1e6:8.3f} M pairs/s, {result['ms_per_scan']:9.1f} ms/scan "
          f"({per_pair * 1e9:.0f} ns/pair; first call {warm:.2f} s; of which observe "
          f"{t_observe * 1e3:.1f} ms, detection_probability {t_pd * 1e3:.1f} ms)")
    print(f"  python per pair ({k} pairs): {ref['pairs_per_s'] / 1e6:8.3f} M pairs/s, {ref['ms_per_scan']:9.1f} ms/scan "
          f"({per_pair_loop * 1e6:.1f} us/pair) -> Hoplon {ref['speedup']:.0f}x faster")
    print(f"  same physics on the sample: visibility agrees on {c['visibility_agreement'] * 100:.2f} % of pairs "
          f"(search volume {c['in_search_agreement'] * 100:.2f} %); over {c['snr_pairs']} pairs in both search volumes "
          f"SNR within {c['max_snr_difference_db']:.1e} dB (relative {c['max_snr_relative_difference']:.1e}); "
          f"range within {c['max_range_difference_m']:.1e} m, angles within {c['max_angle_difference_rad']:.1e} rad; "
          f"Pd within {c['max_pd_difference']:.1e}")
    print(f"  detected fraction of search-volume pairs (different draws): Hoplon {c['detected_fraction_hoplon']:.3f}, "
          f"loop {c['detected_fraction_loop']:.3f}")


if __name__ == "__main__":
    main()
