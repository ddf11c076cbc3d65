"""Radar physics: range equations, detection probability, accuracy, horizon, visibility.

Pure array kernels (numpy/scipy). Every function broadcasts its array arguments and
returns a float (or bool) for scalar input; decibel quantities carry ``_db`` in their
names, everything else is SI (W, m, m^2, s, K, Hz, rad, sr).

Conventions
-----------
- SNR is the ratio of signal energy to noise power spectral density of one pulse after
  matched filtering (``snr_db``), as in MATLAB's radar toolbox; losses ``loss_db`` are
  positive numbers that divide the SNR.
- Detection uses a square-law detector and noncoherent integration of ``n_pulses``
  pulses, each with the given SNR (Richards, *Fundamentals of Radar Signal Processing*
  (FRSP), ch. 6; DiFranco & Rubin, *Radar Detection*). In noise-normalised units the
  square-law output of one pulse of noise is Exp(1), so a single-pulse threshold is
  ``T = -ln(pfa)`` and an N-pulse threshold ``T = gammainccinv(N, pfa)``.
- Swerling 0 (also called Swerling 5, a steady target) and Swerling 1 (a chi-square
  target with two degrees of freedom whose RCS is constant over the pulses of a dwell
  and independent from scan to scan) are supported.
- Angles: azimuth clockwise from north, elevation above the local horizontal, as in
  :mod:`hoplon.core.frames`.

Constants: Boltzmann's constant k = 1.380649e-23 J/K and the speed of light
c = 299792458 m/s (both exact in the 2019 SI).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special
from scipy.stats import ncx2

from hoplon.core._arrays import as_floats as _floats
from hoplon.core._arrays import broadcast_floats as _broadcast
from hoplon.core._arrays import scalar_out as _out
from hoplon.core._arrays import scalar_out_bool as _out_bool
from hoplon.core.earth import EarthModel
from hoplon.core.frames import ecef_to_geodetic

__all__ = [
    "BOLTZMANN_J_K",
    "SPEED_OF_LIGHT_MPS",
    "angle_sigma_rad",
    "detect",
    "detection_probability",
    "draw_false_alarms",
    "false_alarm_rate_per_scan",
    "fluctuated_rcs_m2",
    "horizon_range_m",
    "in_field_of_view",
    "line_of_sight",
    "measurement_sigmas",
    "noise_snr_db",
    "radar_range_m",
    "radar_snr_db",
    "range_rate_sigma_mps",
    "range_sigma_m",
    "required_snr_db",
    "resolution_cells",
    "search_range_m",
    "search_snr_db",
    "sector_solid_angle_sr",
]

BOLTZMANN_J_K = 1.380649e-23
"""Boltzmann's constant, J/K (exact, SI 2019)."""
SPEED_OF_LIGHT_MPS = 299_792_458.0
"""Speed of light in vacuum, m/s (exact)."""

_TWO_PI = 2.0 * math.pi
_FOUR_PI_CUBED = (4.0 * math.pi) ** 3

# Bracket of the exact required-SNR search, dB per pulse, and its bisection steps
# (130 dB / 2**64 is far below double precision of the result).
_SNR_BRACKET_DB = (-40.0, 90.0)
_BISECTION_STEPS = 64

# Validity ranges of the closed-form approximations (inclusive).
_ALBERSHEIM_PD = (0.1, 0.9)
_ALBERSHEIM_PFA = (1e-7, 1e-3)
_ALBERSHEIM_N = (1, 8096)
_SHNIDMAN_PD = (0.1, 0.99)
_SHNIDMAN_PFA = (1e-9, 1e-3)
_SHNIDMAN_N = (1, 100)

_LOS_SLACK_M = 1e-3
"""Rounding slack of :func:`line_of_sight`, m: a ray grazing the effective Earth within
a millimetre (for example to a target exactly on the surface) counts as clear."""


# --------------------------------------------------------------------------- helpers


def _positive(name: str, x: np.ndarray) -> None:
    if np.any(~(x > 0.0)):
        raise ValueError(f"{name} must be positive")


def _nonnegative(name: str, x: np.ndarray) -> None:
    if np.any(~(x >= 0.0)):
        raise ValueError(f"{name} must be >= 0")


def _probability(name: str, x: np.ndarray) -> None:
    if np.any(~((x > 0.0) & (x < 1.0))):
        raise ValueError(f"{name} must lie strictly between 0 and 1")


def _pulses(n_pulses: object) -> np.ndarray:
    n = _floats(n_pulses, "n_pulses")
    if np.any(~(n >= 1.0)) or np.any(n != np.round(n)):
        raise ValueError("n_pulses must be a whole number >= 1")
    return n


def _swerling(swerling: object) -> int:
    if swerling in (0, 1) and not isinstance(swerling, bool):
        return int(swerling)
    raise ValueError(f"swerling must be 0 or 1, got {swerling!r}")


def _db_to_linear(x_db: np.ndarray) -> np.ndarray:
    return 10.0 ** (x_db / 10.0)


def _linear_to_db(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(x)


def _wrap_pi(angle_rad: np.ndarray) -> np.ndarray:
    """Angles wrapped to (-pi, pi]."""
    return math.pi - np.mod(math.pi - angle_rad, _TWO_PI)


# --------------------------------------------------------------------------- radar equations


def sector_solid_angle_sr(
    azimuth_span_rad: float | np.ndarray,
    elevation_min_rad: float | np.ndarray,
    elevation_max_rad: float | np.ndarray,
) -> float | np.ndarray:
    """Solid angle, sr, of an azimuth-elevation sector.

    Omega = az_span * (sin el_max - sin el_min) (the exact area on the unit sphere of
    the region between two azimuths and two elevations; MATLAB ``radareqsearchsnr``
    uses it for its ``AzimuthCoverage``/``ElevationCoverage`` sector).
    """
    span, lo, hi = _broadcast(
        azimuth_span_rad=azimuth_span_rad,
        elevation_min_rad=elevation_min_rad,
        elevation_max_rad=elevation_max_rad,
    )
    return _out(span * (np.sin(hi) - np.sin(lo)))


def _search_factor(
    power_aperture_w_m2, rcs_m2, solid_angle_sr, scan_time_s, system_temp_k, loss_db
):
    pap, rcs, omega, ts, temp, loss = _broadcast(
        power_aperture_w_m2=power_aperture_w_m2,
        rcs_m2=rcs_m2,
        solid_angle_sr=solid_angle_sr,
        scan_time_s=scan_time_s,
        system_temp_k=system_temp_k,
        loss_db=loss_db,
    )
    _nonnegative("rcs_m2", rcs)
    for name, arr in (
        ("power_aperture_w_m2", pap),
        ("solid_angle_sr", omega),
        ("scan_time_s", ts),
        ("system_temp_k", temp),
    ):
        _positive(name, arr)
    return pap * rcs * ts / (4.0 * math.pi * omega * BOLTZMANN_J_K * temp * _db_to_linear(loss))


def search_snr_db(
    *,
    power_aperture_w_m2: float | np.ndarray,
    rcs_m2: float | np.ndarray,
    range_m: float | np.ndarray,
    solid_angle_sr: float | np.ndarray,
    scan_time_s: float | np.ndarray,
    system_temp_k: float | np.ndarray,
    loss_db: float | np.ndarray,
) -> float | np.ndarray:
    """SNR, dB, of the search radar equation (MATLAB ``radareqsearchsnr``).

    SNR = Pav * Ae * sigma * ts / (4 pi Omega R^4 k Ts L): average power-aperture
    product Pav*Ae (W m^2), RCS sigma (m^2), range R (m), searched solid angle Omega
    (sr) covered in scan time ts (s), system noise temperature Ts (K), losses L (dB).
    A zero RCS gives -inf dB. Richards, Scheer & Holm, *Principles of Modern Radar*
    vol. 1, ch. 2 (the search form of the radar equation); Barton, *Radar Equations
    for Modern Radar*.
    """
    factor = _search_factor(
        power_aperture_w_m2, rcs_m2, solid_angle_sr, scan_time_s, system_temp_k, loss_db
    )
    factor, rng = _broadcast(factor=factor, range_m=range_m)
    _positive("range_m", rng)
    return _out(_linear_to_db(factor / rng**4))


def search_range_m(
    *,
    snr_db: float | np.ndarray,
    power_aperture_w_m2: float | np.ndarray,
    rcs_m2: float | np.ndarray,
    solid_angle_sr: float | np.ndarray,
    scan_time_s: float | np.ndarray,
    system_temp_k: float | np.ndarray,
    loss_db: float | np.ndarray,
) -> float | np.ndarray:
    """Range, m, at which the search radar equation gives ``snr_db`` (MATLAB ``radareqsearchrng``).

    R = (Pav Ae sigma ts / (4 pi Omega k Ts L SNR))^(1/4); the inverse of
    :func:`search_snr_db`.
    """
    factor = _search_factor(
        power_aperture_w_m2, rcs_m2, solid_angle_sr, scan_time_s, system_temp_k, loss_db
    )
    factor, snr = _broadcast(factor=factor, snr_db=snr_db)
    return _out((factor / _db_to_linear(snr)) ** 0.25)


def _pulse_factor(
    peak_power_w,
    gain_db,
    wavelength_m,
    rcs_m2,
    pulse_width_s,
    system_temp_k,
    loss_db,
    n_pulses,
    rx_gain_db,
):
    rx = gain_db if rx_gain_db is None else rx_gain_db
    pt, gt, gr, lam, rcs, tau, temp, loss = _broadcast(
        peak_power_w=peak_power_w,
        gain_db=gain_db,
        rx_gain_db=rx,
        wavelength_m=wavelength_m,
        rcs_m2=rcs_m2,
        pulse_width_s=pulse_width_s,
        system_temp_k=system_temp_k,
        loss_db=loss_db,
    )
    n = _pulses(n_pulses)
    _nonnegative("rcs_m2", rcs)
    for name, arr in (
        ("peak_power_w", pt),
        ("wavelength_m", lam),
        ("pulse_width_s", tau),
        ("system_temp_k", temp),
    ):
        _positive(name, arr)
    num = pt * _db_to_linear(gt) * _db_to_linear(gr) * lam**2 * rcs * tau * n
    return num / (_FOUR_PI_CUBED * BOLTZMANN_J_K * temp * _db_to_linear(loss))


def radar_snr_db(
    *,
    peak_power_w: float | np.ndarray,
    gain_db: float | np.ndarray,
    wavelength_m: float | np.ndarray,
    rcs_m2: float | np.ndarray,
    range_m: float | np.ndarray,
    pulse_width_s: float | np.ndarray,
    system_temp_k: float | np.ndarray,
    loss_db: float | np.ndarray,
    n_pulses: int | np.ndarray = 1,
    rx_gain_db: float | np.ndarray | None = None,
) -> float | np.ndarray:
    """SNR, dB, of the monostatic pulse radar equation (MATLAB ``radareqsnr`` with ``tau``).

    SNR = Pt Gt Gr lambda^2 sigma tau n / ((4 pi)^3 R^4 k Ts L): peak power Pt (W),
    transmit gain Gt and receive gain Gr (dB; Gr = Gt unless ``rx_gain_db`` is given),
    wavelength lambda (m), RCS sigma (m^2), range R (m), pulse width tau (s), n pulses
    integrated coherently, system noise temperature Ts (K), losses L (dB); a zero RCS
    gives -inf dB. Skolnik, *Introduction to Radar Systems*, ch. 2; Richards, Scheer &
    Holm, *Principles of Modern Radar* vol. 1, ch. 2.
    """
    factor = _pulse_factor(
        peak_power_w,
        gain_db,
        wavelength_m,
        rcs_m2,
        pulse_width_s,
        system_temp_k,
        loss_db,
        n_pulses,
        rx_gain_db,
    )
    factor, rng = _broadcast(factor=factor, range_m=range_m)
    _positive("range_m", rng)
    return _out(_linear_to_db(factor / rng**4))


def radar_range_m(
    *,
    snr_db: float | np.ndarray,
    peak_power_w: float | np.ndarray,
    gain_db: float | np.ndarray,
    wavelength_m: float | np.ndarray,
    rcs_m2: float | np.ndarray,
    pulse_width_s: float | np.ndarray,
    system_temp_k: float | np.ndarray,
    loss_db: float | np.ndarray,
    n_pulses: int | np.ndarray = 1,
    rx_gain_db: float | np.ndarray | None = None,
) -> float | np.ndarray:
    """Range, m, at which the pulse radar equation gives ``snr_db`` (MATLAB ``radareqrng``).

    R = (Pt Gt Gr lambda^2 sigma tau n / ((4 pi)^3 k Ts L SNR))^(1/4); the inverse of
    :func:`radar_snr_db`.
    """
    factor = _pulse_factor(
        peak_power_w,
        gain_db,
        wavelength_m,
        rcs_m2,
        pulse_width_s,
        system_temp_k,
        loss_db,
        n_pulses,
        rx_gain_db,
    )
    factor, snr = _broadcast(factor=factor, snr_db=snr_db)
    return _out((factor / _db_to_linear(snr)) ** 0.25)


# --------------------------------------------------------------------------- detection


def _pd_swerling0(snr: np.ndarray, threshold: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Steady target: Pd = Q_N(sqrt(2 N snr), sqrt(2 T)) = P[ncx2(2N, 2N snr) > 2T]."""
    finite = np.isfinite(snr) & (snr > 0.0)
    safe = np.where(finite, snr, 1.0)
    pd = ncx2.sf(2.0 * threshold, 2.0 * n, 2.0 * n * safe)
    # snr = 0: noise alone (the false-alarm probability); snr = inf: certain detection.
    pd = np.where(snr == 0.0, special.gammaincc(n, threshold), pd)
    pd = np.where(np.isposinf(snr), 1.0, pd)
    return np.where(np.isnan(snr), np.nan, pd)


def _swerling1_term(snr: np.ndarray, threshold: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(1 + 1/x)^a P_I(y, a) exp(-T/(1+x)) with x = N snr, y = T/(1 + 1/x), 1-D arrays, a >= 1."""
    x = np.broadcast_to(a + 1.0, snr.shape) * snr
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        inv_x = 1.0 / x
        y = threshold / (1.0 + inv_x)
        small = y < 0.5 * (a + 1.0)
        # Kummer series 1F1(1; a+1; y) = sum_k y^k / ((a+1)...(a+k)); ratio <= 1/2 here
        y_small = np.where(small, y, 0.0)
        ratio = np.ones_like(y)
        total = np.ones_like(y)
        for k in range(1, 80):
            ratio = ratio * y_small / (a + k)
            total = total + ratio
            if not np.any(ratio > 1e-17 * total):
                break
        log_series = a * np.log(threshold) - threshold - special.gammaln(a + 1.0) + np.log(total)
        log_direct = (
            a * np.log1p(inv_x)
            + np.log(special.gammainc(a, np.where(small, 1.0, y)))
            - threshold / (1.0 + x)
        )
        return np.exp(np.where(small, log_series, log_direct))


def _pd_swerling1(snr: np.ndarray, threshold: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Swerling 1, N pulses (DiFranco & Rubin; Richards FRSP ch. 6).

    Pd = 1 - P_I(T, N-1) + (1 + 1/(N snr))^(N-1) P_I(T / (1 + 1/(N snr)), N-1)
         * exp(-T / (1 + N snr)),
    evaluated as gammaincc(a, T) + term with a = N - 1 and y = T / (1 + 1/(N snr)).
    With the Kummer series of the lower incomplete gamma function,
    term = T^a e^-T / a! * 1F1(1; a+1; y), which is summed directly while y < (a+1)/2
    (no underflow at low SNR) and otherwise taken in logarithms:
    log term = a log1p(1/(N snr)) + log P_I(y, a) - T / (1 + N snr).
    N = 1: Pd = pfa^(1/(1+snr)) = exp(-T/(1+snr)).
    """
    b = np.broadcast(snr, threshold, n)
    snr, threshold, n = (np.broadcast_to(v, b.shape).ravel() for v in (snr, threshold, n))
    with np.errstate(over="ignore"):
        pd = np.exp(-threshold / (1.0 + snr))  # N = 1 (exact; also right for snr = 0 or inf)
    multi = (n > 1.0) & np.isfinite(snr)
    if np.any(multi):
        a = n[multi] - 1.0
        t = threshold[multi]
        pd[multi] = special.gammaincc(a, t) + _swerling1_term(snr[multi], t, a)
    pd = np.where(np.isposinf(snr), 1.0, pd)
    return np.minimum(np.where(np.isnan(snr), np.nan, pd), 1.0).reshape(b.shape)


def _pd(snr: np.ndarray, pfa: np.ndarray, n: np.ndarray, swerling: int) -> np.ndarray:
    if pfa.size > 1 and np.all(pfa == pfa.flat[0]) and np.all(n == n.flat[0]):
        # one threshold for all (the usual case: one radar's Pfa and pulses)
        threshold = np.full(pfa.shape, special.gammainccinv(n.flat[0], pfa.flat[0]))
    else:
        threshold = special.gammainccinv(n, pfa)
    if swerling == 0:
        return _pd_swerling0(snr, threshold, n)
    return _pd_swerling1(snr, threshold, n)


def detection_probability(
    snr_db: float | np.ndarray,
    pfa: float | np.ndarray,
    *,
    swerling: int = 0,
    n_pulses: int | np.ndarray = 1,
) -> float | np.ndarray:
    """Probability of detection of a square-law detector after noncoherent integration.

    ``snr_db`` is the SNR of each of ``n_pulses`` pulses (for Swerling 1, its mean over
    the fluctuation); the threshold is T = gammainccinv(N, pfa) in noise units
    (MATLAB ``rocsnr``/``shnidman`` setting).

    - Swerling 0 (exact): Pd = Q_N(sqrt(2 N snr), sqrt(2 T)), the generalized Marcum Q
      function, evaluated as the survival function of a noncentral chi-square variable
      with 2N degrees of freedom and noncentrality 2 N snr (Richards FRSP ch. 6;
      DiFranco & Rubin, *Radar Detection*). Accurate to rounding near Pd = 1 and for tiny
      Pfa (Boost's complement, not 1 - cdf).
    - Swerling 1 (exact): N = 1: Pd = pfa^(1/(1+snr)); N > 1: DiFranco & Rubin's closed
      form, Pd = 1 - P_I(T, N-1) + (1 + 1/(N snr))^(N-1) P_I(T/(1+1/(N snr)), N-1)
      exp(-T/(1+N snr)), P_I the regularized lower incomplete gamma function
      (Richards FRSP ch. 6). The RCS is constant over the N pulses (scan to scan).

    ``snr_db = -inf`` gives ``pfa``; ``+inf`` gives 1. Arguments broadcast.
    """
    sw = _swerling(swerling)
    snr_db, pfa, n = _broadcast(snr_db=snr_db, pfa=pfa, n_pulses=n_pulses)
    _probability("pfa", pfa)
    _pulses(n)
    with np.errstate(over="ignore"):
        snr = _db_to_linear(snr_db)
    return _out(_pd(snr, pfa, n, sw))


def _check_range(name: str, x: np.ndarray, bounds: tuple[float, float], method: str) -> None:
    lo, hi = bounds
    if np.any(~((x >= lo) & (x <= hi))):
        raise ValueError(
            f"{method}: {name} must lie in [{lo:g}, {hi:g}] (the approximation's validity range)"
        )


def _albersheim(pd: np.ndarray, pfa: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Albersheim (1981): per-pulse SNR, dB, steady target, N pulses noncoherently integrated."""
    a = np.log(0.62 / pfa)
    b = np.log(pd / (1.0 - pd))
    return -5.0 * np.log10(n) + (6.2 + 4.54 / np.sqrt(n + 0.44)) * np.log10(
        a + 0.12 * a * b + 1.7 * b
    )


def _shnidman(pd: np.ndarray, pfa: np.ndarray, n: np.ndarray, swerling: int) -> np.ndarray:
    """Shnidman (2002): per-pulse SNR, dB, Swerling 0 (K = inf) or 1 (K = 1)."""
    inv_k = 0.0 if swerling == 0 else 1.0
    alpha = np.where(n < 40.0, 0.0, 0.25)
    eta = np.sqrt(-0.8 * np.log(4.0 * pfa * (1.0 - pfa))) + np.sign(pd - 0.5) * np.sqrt(
        -0.8 * np.log(4.0 * pd * (1.0 - pd))
    )
    x_inf = eta * (eta + 2.0 * np.sqrt(n / 2.0 + (alpha - 0.25)))
    c1 = (((17.7006 * pd - 18.4496) * pd + 14.5339) * pd - 3.525) * inv_k
    c2 = inv_k * (
        np.exp(27.31 * pd - 25.14)
        + (pd - 0.8) * (0.7 * np.log(1e-5 / pfa) + (2.0 * n - 20.0) / 80.0)
    )
    c_db = np.where(pd <= 0.872, c1, c1 + c2)
    return _linear_to_db(_db_to_linear(c_db) * x_inf / n)


def _exact_required(pd: np.ndarray, pfa: np.ndarray, n: np.ndarray, swerling: int) -> np.ndarray:
    """Root in snr_db of detection_probability = pd by vectorised bisection."""
    lo = np.full(pd.shape, _SNR_BRACKET_DB[0])
    hi = np.full(pd.shape, _SNR_BRACKET_DB[1])
    pd_lo = _pd(_db_to_linear(lo), pfa, n, swerling)
    pd_hi = _pd(_db_to_linear(hi), pfa, n, swerling)
    if np.any(~((pd_lo < pd) & (pd < pd_hi))):
        raise ValueError(
            f"exact: pd is not reachable with a per-pulse SNR in {_SNR_BRACKET_DB} dB "
            "(pd must exceed pfa and stay below what 90 dB gives)"
        )
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        below = _pd(_db_to_linear(mid), pfa, n, swerling) < pd
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def required_snr_db(
    pd: float | np.ndarray,
    pfa: float | np.ndarray,
    *,
    swerling: int = 0,
    n_pulses: int | np.ndarray = 1,
    method: str = "exact",
) -> float | np.ndarray:
    """Per-pulse SNR, dB, that gives detection probability ``pd`` at false-alarm probability ``pfa``.

    Square-law detector, ``n_pulses`` noncoherently integrated. Methods:

    - ``"exact"``: the root of :func:`detection_probability` (vectorised bisection on
      snr_db in [-40, 90] dB, to double precision).
    - ``"albersheim"``: Albersheim (1981), Swerling 0 only (MATLAB ``albersheim``):
      A = ln(0.62/Pfa), B = ln(Pd/(1-Pd)),
      SNR = -5 log10 N + (6.2 + 4.54/sqrt(N+0.44)) log10(A + 0.12 A B + 1.7 B);
      valid for Pd in [0.1, 0.9], Pfa in [1e-7, 1e-3], N in [1, 8096], stated accurate
      to about 0.2 dB (Richards FRSP ch. 6). Measured against the exact square-law
      result it stays within 0.4 dB for Pd >= 0.3 but degrades below that (about
      0.9 dB at Pd = 0.1, Pfa = 1e-6, N = 1; 4 dB at Pd = 0.1, Pfa = 1e-3).
    - ``"shnidman"``: Shnidman (2002), Swerling 0 or 1 (MATLAB ``shnidman``):
      K = inf (Swerling 0) or 1 (Swerling 1), alpha = 0 for N < 40 else 1/4,
      eta = sqrt(-0.8 ln(4 Pfa(1-Pfa))) + sign(Pd-0.5) sqrt(-0.8 ln(4 Pd(1-Pd))),
      X_inf = eta (eta + 2 sqrt(N/2 + alpha - 1/4)),
      C1 = (((17.7006 Pd - 18.4496) Pd + 14.5339) Pd - 3.525)/K,
      C2 = (exp(27.31 Pd - 25.14) + (Pd - 0.8)(0.7 ln(1e-5/Pfa) + (2N-20)/80))/K,
      C_dB = C1 (Pd <= 0.872) or C1 + C2 (Pd > 0.872), SNR = 10^(C_dB/10) X_inf / N;
      valid for Pd in [0.1, 0.99], Pfa in [1e-9, 1e-3], N in [1, 100], stated accurate
      to about 0.5 dB. Measured against the exact results: Swerling 0 within 0.3 dB;
      Swerling 1 within 0.5 dB for 0.3 <= Pd <= 0.7 but up to about 1.2 dB above
      (1.1 dB at Pd = 0.97, Pfa = 1e-9, N = 1). alpha switches at N = 40 as in
      Shnidman's paper (MATLAB's shnidman switches above N = 40).

    Arguments outside a method's validity range, or an unknown method, raise ValueError.
    """
    sw = _swerling(swerling)
    pd, pfa, n = _broadcast(pd=pd, pfa=pfa, n_pulses=n_pulses)
    _probability("pd", pd)
    _probability("pfa", pfa)
    _pulses(n)
    if method == "exact":
        return _out(_exact_required(pd, pfa, n, sw))
    if method == "albersheim":
        if sw != 0:
            raise ValueError("albersheim: only Swerling 0 (a steady target) is covered")
        _check_range("pd", pd, _ALBERSHEIM_PD, method)
        _check_range("pfa", pfa, _ALBERSHEIM_PFA, method)
        _check_range("n_pulses", n, _ALBERSHEIM_N, method)
        return _out(_albersheim(pd, pfa, n))
    if method == "shnidman":
        _check_range("pd", pd, _SHNIDMAN_PD, method)
        _check_range("pfa", pfa, _SHNIDMAN_PFA, method)
        _check_range("n_pulses", n, _SHNIDMAN_N, method)
        return _out(_shnidman(pd, pfa, n, sw))
    raise ValueError(f"unknown method {method!r}; expected 'exact', 'albersheim' or 'shnidman'")


# --------------------------------------------------------------------------- horizon and visibility


def _effective_radius(k: float, earth_radius_m: float) -> float:
    if not (isinstance(k, int | float) and math.isfinite(k) and k > 0.0):
        raise ValueError(
            f"k (effective Earth radius factor) must be a positive finite number, got {k!r}"
        )
    if not (math.isfinite(earth_radius_m) and earth_radius_m > 0.0):
        raise ValueError(f"earth_radius_m must be positive and finite, got {earth_radius_m!r}")
    return float(k) * float(earth_radius_m)


def horizon_range_m(
    h1_m: float | np.ndarray,
    h2_m: float | np.ndarray,
    *,
    k: float = 4.0 / 3.0,
    earth_radius_m: float = 6371e3,
) -> float | np.ndarray:
    """Radar horizon range, m, between heights h1 and h2 (m) over a smooth effective Earth.

    d = sqrt(2 k R h1 + h1^2) + sqrt(2 k R h2 + h2^2): the sum of the two tangent
    lengths to a sphere of radius kR, with k the effective Earth radius factor (4/3 for
    the standard atmosphere) and R the Earth radius (Skolnik, *Introduction to Radar
    Systems*, sec. on propagation over a spherical Earth: d ~ sqrt(2 k R h), i.e.
    d_km ~ 4.12 sqrt(h_m) for k = 4/3; Barton, *Radar Equations for Modern Radar*).
    """
    h1, h2 = _broadcast(h1_m=h1_m, h2_m=h2_m)
    if np.any(~(h1 >= 0.0)) or np.any(~(h2 >= 0.0)):
        raise ValueError("heights h1_m and h2_m must be >= 0")
    kr = _effective_radius(k, earth_radius_m)
    return _out(np.sqrt(2.0 * kr * h1 + h1 * h1) + np.sqrt(2.0 * kr * h2 + h2 * h2))


def _unit_normals(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def line_of_sight(
    observer_ecef_m: np.ndarray,
    target_ecef_m: np.ndarray,
    *,
    k: float = 4.0 / 3.0,
    earth_radius_m: float = 6371e3,
    earth: str | EarthModel = "wgs84",
) -> bool | np.ndarray:
    """Whether each target is above the radar horizon of each observer: bool (M, N).

    Effective-Earth model (the same as :func:`horizon_range_m`): both ends' geodetic
    heights h1, h2 (on ``earth``) and their ground separation s, the great-circle
    distance on the mean sphere of radius R = ``earth_radius_m`` between their geodetic
    positions, place them at radii kR + h1 and kR + h2 separated by the central angle
    s/(kR); the straight ray between them is clear when it stays outside the sphere of
    radius kR. The minimum distance of the segment from the centre is, in closed form,
    r1 r2 sin(theta) / |P2 - P1| when the foot of the perpendicular falls inside the
    segment (r1 > r2 cos theta and r2 > r1 cos theta), else min(r1, r2). A separation of
    half a turn or more of the effective sphere is never clear. Rays grazing within a
    millimetre count as clear; ends below the surface are hidden.

    ``observer_ecef_m`` (M, 3) and ``target_ecef_m`` (N, 3), m; a (3,) input drops its axis.
    """
    kr = _effective_radius(k, earth_radius_m)
    obs = _floats(observer_ecef_m, "observer_ecef_m")
    tgt = _floats(target_ecef_m, "target_ecef_m")
    for name, arr in (("observer_ecef_m", obs), ("target_ecef_m", tgt)):
        if arr.ndim not in (1, 2) or arr.shape[-1] != 3:
            raise ValueError(f"{name} must have shape (N, 3) or (3,), got {arr.shape}")
    o = ecef_to_geodetic(obs.reshape(-1, 3), earth=earth)
    t = ecef_to_geodetic(tgt.reshape(-1, 3), earth=earth)
    uo = _unit_normals(np.asarray(o.lat_deg), np.asarray(o.lon_deg))[:, None, :]
    ut = _unit_normals(np.asarray(t.lat_deg), np.asarray(t.lon_deg))[None, :, :]
    cross = np.linalg.norm(np.cross(uo, ut), axis=-1)
    dot = np.sum(uo * ut, axis=-1)
    central = np.arctan2(cross, dot)  # great-circle angle on the mean sphere, rad
    theta = central * earth_radius_m / kr  # s / (kR)
    r1 = kr + np.asarray(o.alt_m)[:, None]
    r2 = kr + np.asarray(t.alt_m)[None, :]
    r1, r2 = np.broadcast_arrays(r1, r2)
    c, s = np.cos(theta), np.sin(theta)
    chord = np.sqrt((r1 - r2) ** 2 + 4.0 * r1 * r2 * np.sin(0.5 * theta) ** 2)
    interior = (r1 > r2 * c) & (r2 > r1 * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        perpendicular = r1 * r2 * s / chord
    d_min = np.where(interior, perpendicular, np.minimum(r1, r2))
    d_min = np.where(theta >= math.pi, 0.0, d_min)
    clear = d_min >= kr - _LOS_SLACK_M
    shape = obs.shape[:-1] + tgt.shape[:-1]
    return _out_bool(clear.reshape(shape))


# --------------------------------------------------------------------------- measurement accuracy


def _root_two_snr(snr_db: object) -> np.ndarray:
    """sqrt(2 SNR) of an SNR in dB (which must be finite)."""
    snr = _db_to_linear(_floats(snr_db, "snr_db"))
    _positive("snr (linear)", snr)
    return np.sqrt(2.0 * snr)


def _angle_sigma(beamwidth_rad, root_two_snr, floor_rad):
    return np.hypot(beamwidth_rad / (1.6 * root_two_snr), floor_rad)


def _range_sigma(bandwidth_hz, root_two_snr, floor_m):
    _positive("bandwidth_hz", bandwidth_hz)
    return np.hypot(SPEED_OF_LIGHT_MPS / (2.0 * bandwidth_hz) / root_two_snr, floor_m)


def _range_rate_sigma(wavelength_m, dwell_time_s, root_two_snr, floor_mps):
    _positive("wavelength_m", wavelength_m)
    _positive("dwell_time_s", dwell_time_s)
    return np.hypot(wavelength_m / (2.0 * dwell_time_s) / root_two_snr, floor_mps)


def angle_sigma_rad(
    beamwidth_rad: float | np.ndarray,
    snr_db: float | np.ndarray,
    *,
    floor_rad: float | np.ndarray = 0.0,
) -> float | np.ndarray:
    """Angle measurement standard deviation, rad.

    sigma = sqrt((theta_B / (k_m sqrt(2 SNR)))^2 + floor^2), with theta_B the 3 dB
    beamwidth, monopulse slope k_m = 1.6 and SNR linear (Barton, *Radar System
    Analysis and Modeling*; Skolnik, *Radar Handbook*, tracking radar); the
    floor stands for bias-free residual errors (notional).
    """
    bw, snr, floor = _broadcast(beamwidth_rad=beamwidth_rad, snr_db=snr_db, floor_rad=floor_rad)
    return _out(_angle_sigma(bw, _root_two_snr(snr), floor))


def range_sigma_m(
    bandwidth_hz: float | np.ndarray,
    snr_db: float | np.ndarray,
    *,
    floor_m: float | np.ndarray = 0.0,
) -> float | np.ndarray:
    """Range measurement standard deviation, m.

    sigma = sqrt(((c / (2 B)) / sqrt(2 SNR))^2 + floor^2): the range resolution c/(2B)
    of a bandwidth B (Hz) divided by sqrt(2 SNR) (Skolnik, *Introduction to Radar
    Systems*, measurement accuracy; Barton), plus a notional floor.
    """
    b, snr, floor = _broadcast(bandwidth_hz=bandwidth_hz, snr_db=snr_db, floor_m=floor_m)
    return _out(_range_sigma(b, _root_two_snr(snr), floor))


def range_rate_sigma_mps(
    wavelength_m: float | np.ndarray,
    dwell_time_s: float | np.ndarray,
    snr_db: float | np.ndarray,
    *,
    floor_mps: float | np.ndarray = 0.0,
) -> float | np.ndarray:
    """Range-rate (Doppler) measurement standard deviation, m/s (notional, Barton-type).

    sigma = sqrt(((lambda / (2 T)) / sqrt(2 SNR))^2 + floor^2): the velocity resolution
    lambda/(2T) of a coherent dwell of T seconds at wavelength lambda (m), divided by
    sqrt(2 SNR), plus a floor.
    """
    lam, t, snr, floor = _broadcast(
        wavelength_m=wavelength_m, dwell_time_s=dwell_time_s, snr_db=snr_db, floor_mps=floor_mps
    )
    return _out(_range_rate_sigma(lam, t, _root_two_snr(snr), floor))


def measurement_sigmas(
    snr_db: float | np.ndarray,
    *,
    bandwidth_hz: float | np.ndarray,
    beamwidth_az_rad: float | np.ndarray,
    beamwidth_el_rad: float | np.ndarray,
    range_floor_m: float | np.ndarray = 0.0,
    angle_floor_rad: float | np.ndarray = 0.0,
    wavelength_m: float | np.ndarray | None = None,
    dwell_time_s: float | np.ndarray | None = None,
    range_rate_floor_mps: float | np.ndarray = 0.0,
) -> tuple:
    """The range (m), azimuth and elevation (rad) sigmas of :func:`range_sigma_m` and
    :func:`angle_sigma_rad` at ``snr_db``, and the range-rate one (m/s) of
    :func:`range_rate_sigma_mps` given ``wavelength_m`` and ``dwell_time_s`` (else
    None), with the SNR converted once. Arguments broadcast."""
    arrays = {
        "snr_db": snr_db, "bandwidth_hz": bandwidth_hz, "beamwidth_az_rad": beamwidth_az_rad,
        "beamwidth_el_rad": beamwidth_el_rad, "range_floor_m": range_floor_m, "angle_floor_rad": angle_floor_rad,
    }
    doppler = wavelength_m is not None and dwell_time_s is not None
    if doppler:
        arrays.update(wavelength_m=wavelength_m, dwell_time_s=dwell_time_s, range_rate_floor_mps=range_rate_floor_mps)
    snr, b, bw_az, bw_el, r_floor, a_floor, *rate = _broadcast(**arrays)
    root = _root_two_snr(snr)
    s_rr = None
    if doppler:
        lam, dwell, rr_floor = rate
        s_rr = _out(_range_rate_sigma(lam, dwell, root, rr_floor))
    s_az, s_el = _out(_angle_sigma(bw_az, root, a_floor)), _out(_angle_sigma(bw_el, root, a_floor))
    return _out(_range_sigma(b, root, r_floor)), s_az, s_el, s_rr


# --------------------------------------------------------------------------- false alarms


def resolution_cells(
    *,
    range_min_m: float | np.ndarray,
    range_max_m: float | np.ndarray,
    range_resolution_m: float | np.ndarray,
    solid_angle_sr: float | np.ndarray,
    beamwidth_az_rad: float | np.ndarray,
    beamwidth_el_rad: float | np.ndarray,
) -> float | np.ndarray:
    """Number of resolution cells searched per scan (a real number, not rounded).

    range bins (range_max - range_min) / range_resolution times beam positions
    Omega / (beamwidth_az * beamwidth_el) (the beam's solid angle taken as the product
    of its two beamwidths).
    """
    rmin, rmax, dr, omega, baz, bel = _broadcast(
        range_min_m=range_min_m,
        range_max_m=range_max_m,
        range_resolution_m=range_resolution_m,
        solid_angle_sr=solid_angle_sr,
        beamwidth_az_rad=beamwidth_az_rad,
        beamwidth_el_rad=beamwidth_el_rad,
    )
    for name, arr in (
        ("range_resolution_m", dr),
        ("beamwidth_az_rad", baz),
        ("beamwidth_el_rad", bel),
    ):
        _positive(name, arr)
    if np.any(~(rmax >= rmin)) or np.any(~(omega >= 0.0)):
        raise ValueError("need range_max_m >= range_min_m and solid_angle_sr >= 0")
    return _out((rmax - rmin) / dr * omega / (baz * bel))


def false_alarm_rate_per_scan(
    pfa: float | np.ndarray, n_cells: float | np.ndarray
) -> float | np.ndarray:
    """Expected number of false alarms per scan: pfa * n_cells."""
    p, n = _broadcast(pfa=pfa, n_cells=n_cells)
    return _out(p * n)


def draw_false_alarms(
    rng: np.random.Generator,
    *,
    mean_count: float,
    range_min_m: float,
    range_max_m: float,
    azimuth_min_rad: float,
    azimuth_max_rad: float,
    elevation_min_rad: float,
    elevation_max_rad: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False alarms of one scan: (range_m, azimuth_rad, elevation_rad), arrays of one length.

    The count is Poisson with mean ``mean_count``; the points are uniform over the
    resolution cells: uniform in range and azimuth, and in solid angle (uniform in
    sin(elevation)), as :func:`resolution_cells` counts beams by solid angle. The azimuth sector runs clockwise from ``azimuth_min_rad`` to
    ``azimuth_max_rad`` (a maximum below the minimum crosses north; a span of 2 pi or
    more is the full circle); azimuths are returned wrapped to [0, 2 pi).
    """
    if not (math.isfinite(mean_count) and mean_count >= 0.0):
        raise ValueError("mean_count must be finite and >= 0")
    if not range_max_m >= range_min_m or not elevation_max_rad >= elevation_min_rad:
        raise ValueError(
            "need range_max_m >= range_min_m and elevation_max_rad >= elevation_min_rad"
        )
    span = azimuth_max_rad - azimuth_min_rad
    if span < 0.0:
        span += _TWO_PI
    span = min(span, _TWO_PI)
    count = int(rng.poisson(mean_count))
    rng_m = rng.uniform(range_min_m, range_max_m, count)
    az = np.mod(azimuth_min_rad + span * rng.random(count), _TWO_PI)
    az = np.where(az >= _TWO_PI, 0.0, az)
    el = np.arcsin(rng.uniform(math.sin(elevation_min_rad), math.sin(elevation_max_rad), count))
    return rng_m, az, el


def noise_snr_db(rng: np.random.Generator, n: int, pfa: float | np.ndarray) -> np.ndarray:
    """Reported SNR, dB, of ``n`` noise-only threshold crossings (single pulse, square law).

    In noise-normalised units the square-law output of noise is Exp(1) and the
    threshold is T = -ln(pfa); conditioned on exceeding T the output is T + Exp(1)
    (memorylessness), reported as 10 log10(T + Exp(1)).
    """
    p = _floats(pfa, "pfa")
    _probability("pfa", p)
    return _linear_to_db(-np.log(p) + rng.exponential(1.0, size=int(n)))


# --------------------------------------------------------------------------- field of view


def in_field_of_view(
    azimuth_rad: float | np.ndarray,
    elevation_rad: float | np.ndarray,
    *,
    boresight_azimuth_rad: float | np.ndarray,
    azimuth_half_width_rad: float | np.ndarray,
    elevation_min_rad: float | np.ndarray,
    elevation_max_rad: float | np.ndarray,
) -> bool | np.ndarray:
    """Whether directions lie inside a radar face's field of view.

    Inside: |wrap(az - boresight)| <= half-width (difference wrapped to (-pi, pi]) and
    elevation_min <= el <= elevation_max. A half-width >= pi is a rotating (360 deg)
    radar that sees every azimuth. Arguments broadcast, e.g. (M, 1) sensor parameters
    against (M, N) AER arrays from :func:`hoplon.core.frames.ecef_to_aer_pairs`.
    """
    az, el, bore, half, el_lo, el_hi = _broadcast(
        azimuth_rad=azimuth_rad,
        elevation_rad=elevation_rad,
        boresight_azimuth_rad=boresight_azimuth_rad,
        azimuth_half_width_rad=azimuth_half_width_rad,
        elevation_min_rad=elevation_min_rad,
        elevation_max_rad=elevation_max_rad,
    )
    in_az = (np.abs(_wrap_pi(az - bore)) <= half) | (half >= math.pi)
    return _out_bool(in_az & (el >= el_lo) & (el <= el_hi))


# --------------------------------------------------------------------------- random draws


def fluctuated_rcs_m2(
    rng: np.random.Generator, mean_rcs_m2: float | np.ndarray, *, swerling: int
) -> float | np.ndarray:
    """RCS, m^2, of one look (one scan) per element.

    Swerling 0: the mean itself. Swerling 1: mean * Exp(1), one independent draw per
    element (per scan per target; chi-square with two degrees of freedom).
    """
    sw = _swerling(swerling)
    mean = _floats(mean_rcs_m2, "mean_rcs_m2")
    if np.any(~(mean >= 0.0)):
        raise ValueError("mean_rcs_m2 must be >= 0")
    if sw == 0:
        return _out(mean.copy())
    return _out(mean * rng.exponential(1.0, size=mean.shape))


def detect(
    rng: np.random.Generator,
    snr_db: float | np.ndarray,
    pfa: float | np.ndarray,
    *,
    swerling: int,
    n_pulses: int | np.ndarray,
) -> bool | np.ndarray:
    """Detection draws: per element True with probability :func:`detection_probability`.

    Two equivalent ways for a fluctuating target: pass the mean SNR with
    ``swerling=1`` (the marginal Pd over the fluctuation), or, as the engine does,
    draw the scan's RCS with :func:`fluctuated_rcs_m2`, compute that scan's SNR and
    pass it with ``swerling=0`` (then the reported SNR and the detection agree).
    """
    pd = np.asarray(detection_probability(snr_db, pfa, swerling=swerling, n_pulses=n_pulses))
    return _out_bool(rng.random(pd.shape) < pd)
