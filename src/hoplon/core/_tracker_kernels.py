"""Compiled kernels of the filters and the tracker: the per-scan maths on small arrays.

A scan of the tracker holds a few measurements and a few tracks; done with numpy, each
step (mixing, prediction, gating, update, bookkeeping) is dozens of calls on arrays of
a handful of 3x3 to 11x11 matrices, and the calls' overhead, not the arithmetic, is the
cost. These kernels do each step over all N tracks (or all candidate pairs) in one call,
with the same formulas as the numpy code they replace (:mod:`hoplon.core.filters`,
:mod:`hoplon.core.tracker`; tests/test_tracker_kernels.py compares them), so they also
stay fast for large raids. Only the order of floating-point operations differs.

Conventions: states ``x`` (N, n), covariances ``P`` (N, n, n); the radar measurement
model is that of :class:`hoplon.core.filters.RadarMeasurement` given by its site
``site`` (3,) (ECEF, m) and rotation ``rot`` (3, 3) (ECEF to ENU, rows east, north,
up); ``rr`` says whether range rate is measured (m = 4) or not (m = 3).

Cost: a numba function increfs and decrefs each array argument it is called with (two
atomic operations per array and call), and a view made in a loop costs the same. The
hot loops therefore index whole arrays rather than rows, solve several right-hand sides
per call, and inline the helpers called in the innermost loops (the acceleration's
Jacobian, the small LU solves: ``inline="always"``, measured faster on the engine's
tracking); F P F^T is inlined with the common models' sizes as constants (unrolled).
The per-track kernels that allocate nothing (the filters' predictions and updates, the
small solves) are compiled without the runtime's reference counting (numba's
``_nrt=False``): their array arguments and the views they make cost no atomic
operations. Such a kernel must not allocate, nor return or keep an array.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from hoplon.core.earth import (
    P_A,
    P_DRAG,
    P_E2,
    P_J2,
    P_MU,
    P_OMEGA,
    P_SPHERE,
    _acceleration,
    _density,
    _geodetic_height,
    _gravity,
    _height_and_up,
)

_TWO_PI = 2.0 * math.pi
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- small linear algebra


@numba.njit(cache=True, _nrt=False)
def _lu(A: np.ndarray, LU: np.ndarray, piv: np.ndarray) -> float:
    """LU factorisation with partial pivoting of the small square A into LU (row
    permutation in piv); returns ln|det A| (-inf when singular)."""
    m = A.shape[0]
    for i in range(m):
        for j in range(m):
            LU[i, j] = A[i, j]
    logdet = 0.0
    for k in range(m):
        p = k
        big = abs(LU[k, k])
        for i in range(k + 1, m):
            if abs(LU[i, k]) > big:
                big = abs(LU[i, k])
                p = i
        piv[k] = p
        if p != k:
            for j in range(m):
                tmp = LU[k, j]
                LU[k, j] = LU[p, j]
                LU[p, j] = tmp
        d = LU[k, k]
        if d == 0.0:
            logdet = -np.inf
            continue
        logdet += math.log(abs(d))
        for i in range(k + 1, m):
            LU[i, k] /= d
            f = LU[i, k]
            if f != 0.0:
                for j in range(k + 1, m):
                    LU[i, j] -= f * LU[k, j]
    return logdet


@numba.njit(cache=True, _nrt=False)
def _lu_solve_rows(LU: np.ndarray, piv: np.ndarray, B: np.ndarray, X: np.ndarray, rows: int) -> None:
    """Solve A X[r] = B[r] for each of the first ``rows`` rows with the factorisation of
    :func:`_lu` (one call for many right-hand sides)."""
    m = LU.shape[0]
    for r in range(rows):
        for i in range(m):
            X[r, i] = B[r, i]
        for k in range(m):
            p = piv[k]
            if p != k:
                tmp = X[r, k]
                X[r, k] = X[r, p]
                X[r, p] = tmp
        for i in range(m):
            s = X[r, i]
            for j in range(i):
                s -= LU[i, j] * X[r, j]
            X[r, i] = s
        for i in range(m - 1, -1, -1):
            s = X[r, i]
            for j in range(i + 1, m):
                s -= LU[i, j] * X[r, j]
            X[r, i] = s / LU[i, i]


@numba.njit(cache=True, inline="always")
def _lu_solve(LU: np.ndarray, piv: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """Solve A out = b with the factorisation of :func:`_lu`."""
    _lu_solve_rows(LU, piv, b.reshape((1, b.shape[0])), out.reshape((1, out.shape[0])), 1)


@numba.njit(cache=True, inline="always")
def _inverse3(LU: np.ndarray, piv: np.ndarray, out: np.ndarray, eye: np.ndarray, cols: np.ndarray) -> None:
    """The inverse (3, 3) of a matrix from its :func:`_lu` factorisation; ``eye`` holds
    the identity (3, 3), ``cols`` (3, 3) is scratch (the inverse's columns)."""
    _lu_solve_rows(LU, piv, eye, cols, 3)
    for c in range(3):
        for r in range(3):
            out[r, c] = cols[c, r]


@numba.njit(cache=True, _nrt=False)
def _quad3(A: np.ndarray, v: np.ndarray) -> float:
    """v^T A v for a 3 x 3 A."""
    s = 0.0
    for a in range(3):
        s += v[a] * (A[a, 0] * v[0] + A[a, 1] * v[1] + A[a, 2] * v[2])
    return s


@numba.njit(cache=True)
def _wrap_pi(a: float) -> float:
    """Angle difference to [-pi, pi) (Python's float modulo, as filters._wrap)."""
    s = a + math.pi
    if 0.0 <= s < _TWO_PI:  # the modulo would return s itself
        return s - math.pi
    return s % _TWO_PI - math.pi


@numba.njit(cache=True)
def _wrap_2pi(a: float) -> float:
    """atan2 angle to [0, 2 pi), -0.0 to 0.0 (as frames._wrap_2pi)."""
    if a < 0.0:
        a = a + _TWO_PI
    if a >= _TWO_PI:
        return 0.0
    return a + 0.0


# --------------------------------------------------------------------------- radar measurement model


@numba.njit(cache=True, _nrt=False)
def _radar_h(x: np.ndarray, site: np.ndarray, rot: np.ndarray, rr: bool, zp: np.ndarray) -> None:
    """Predicted measurement zp (m,) of one state x (RadarMeasurement.h)."""
    d0 = x[0] - site[0]
    d1 = x[1] - site[1]
    d2 = x[2] - site[2]
    e = d0 * rot[0, 0] + d1 * rot[0, 1] + d2 * rot[0, 2]
    n = d0 * rot[1, 0] + d1 * rot[1, 1] + d2 * rot[1, 2]
    u = d0 * rot[2, 0] + d1 * rot[2, 1] + d2 * rot[2, 2]
    rng = math.sqrt(e * e + n * n + u * u)
    zp[0] = rng
    zp[1] = _wrap_2pi(math.atan2(e, n))
    zp[2] = math.atan2(u, math.hypot(e, n))
    if rr:
        zp[3] = (d0 * x[3] + d1 * x[4] + d2 * x[5]) / max(rng, 1e-9)


@numba.njit(cache=True, _nrt=False)
def _radar_jac(x: np.ndarray, site: np.ndarray, rot: np.ndarray, rr: bool, H: np.ndarray) -> None:
    """Jacobian H (m, n) of one state x (RadarMeasurement.jacobian); columns past 6 zero."""
    H[:, :] = 0.0
    d0 = x[0] - site[0]
    d1 = x[1] - site[1]
    d2 = x[2] - site[2]
    e = d0 * rot[0, 0] + d1 * rot[0, 1] + d2 * rot[0, 2]
    n = d0 * rot[1, 0] + d1 * rot[1, 1] + d2 * rot[1, 2]
    u = d0 * rot[2, 0] + d1 * rot[2, 1] + d2 * rot[2, 2]
    rho2 = e * e + n * n
    rho = math.sqrt(rho2)
    r2 = rho2 + u * u
    r = math.sqrt(r2)
    dr0, dr1, dr2 = e / r, n / r, u / r
    da0, da1 = n / rho2, -e / rho2
    de0, de1, de2 = -e * u / (r2 * rho), -n * u / (r2 * rho), rho / r2
    for c in range(3):
        H[0, c] = dr0 * rot[0, c] + dr1 * rot[1, c] + dr2 * rot[2, c]
        H[1, c] = da0 * rot[0, c] + da1 * rot[1, c]
        H[2, c] = de0 * rot[0, c] + de1 * rot[1, c] + de2 * rot[2, c]
    if rr:
        l0, l1, l2 = d0 / r, d1 / r, d2 / r
        rdot = l0 * x[3] + l1 * x[4] + l2 * x[5]
        H[3, 0] = (x[3] - rdot * l0) / r
        H[3, 1] = (x[4] - rdot * l1) / r
        H[3, 2] = (x[5] - rdot * l2) / r
        H[3, 3], H[3, 4], H[3, 5] = l0, l1, l2


@numba.njit(cache=True)
def radar_h(x: np.ndarray, site: np.ndarray, rot: np.ndarray, rr: bool) -> np.ndarray:
    """Predicted measurements (N, m) of states x (N, >=6)."""
    N = x.shape[0]
    out = np.empty((N, 4 if rr else 3))
    for i in range(N):
        _radar_h(x[i], site, rot, rr, out[i])
    return out


@numba.njit(cache=True)
def radar_predict(x: np.ndarray, P: np.ndarray, site: np.ndarray, rot: np.ndarray,
                  rr: bool) -> tuple[np.ndarray, np.ndarray]:
    """Predicted measurements (N, m) and H P H^T (N, m, m), symmetrised, of N tracks."""
    N, n = x.shape
    m = 4 if rr else 3
    zp = np.empty((N, m))
    HPH = np.empty((N, m, m))
    _radar_predict_rows(N, x, P, site, rot, rr, zp, HPH, np.empty((m, n)), np.empty((m, n)), np.empty((m, m)))
    return zp, HPH


@numba.njit(cache=True, _nrt=False)
def _radar_predict_rows(N: int, x: np.ndarray, P: np.ndarray, site: np.ndarray, rot: np.ndarray, rr: bool, zp: np.ndarray,
                        HPH: np.ndarray, H: np.ndarray, HP: np.ndarray, S: np.ndarray) -> None:
    """:func:`radar_predict` of the first N tracks into the first N rows of zp, HPH; H,
    HP (m, n) and S (m, m) scratch."""
    m = zp.shape[1]
    for i in range(N):
        _radar_h(x[i], site, rot, rr, zp[i])
        _radar_jac(x[i], site, rot, rr, H)
        _hph(H, P[i], HP, S)
        for a in range(m):
            for b in range(m):
                HPH[i, a, b] = 0.5 * (S[a, b] + S[b, a])


@numba.njit(cache=True, _nrt=False)
def _hph(H: np.ndarray, P: np.ndarray, HP: np.ndarray, S: np.ndarray) -> None:
    """S = H P H^T (not symmetrised); HP scratch (m, n). H is a radar Jacobian: its
    columns past 6 are zero and are skipped (the sums are the same)."""
    m, n = H.shape
    nz = min(n, 6)
    for a in range(m):
        for k in range(n):
            s = 0.0
            for j in range(nz):
                s += H[a, j] * P[j, k]
            HP[a, k] = s
    for a in range(m):
        for b in range(m):
            s = 0.0
            for k in range(nz):
                s += HP[a, k] * H[b, k]
            S[a, b] = s


# --------------------------------------------------------------------------- EKF update


@numba.njit(cache=True, _nrt=False)
def _ekf_update_one(x, P, z, R, site, rot, rr, iterations, xo, Po, nu0, S0, zp0,
                    xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A) -> float:
    """Iterated EKF update of one track (filters.ekf_update); writes xo, Po and the
    prediction's innovation nu0, S0, zp0; returns its Gaussian log-likelihood."""
    n = x.shape[0]
    m = z.shape[0]
    nz = min(n, 6)  # H's columns past 6 are zero: the sums skip them (same results)
    for j in range(n):
        xi[j] = x[j]
    for it in range(max(1, iterations)):
        _radar_h(xi, site, rot, rr, zp)
        _radar_jac(xi, site, rot, rr, H)
        _hph(H, P, HP, S)
        for a in range(m):
            for b in range(a, m):
                s = 0.5 * ((S[a, b] + R[a, b]) + (S[b, a] + R[b, a]))
                S[a, b] = s
                S[b, a] = s
        for a in range(m):
            nu[a] = z[a] - zp[a]
        nu[1] = _wrap_pi(nu[1])
        if it == 0:
            for a in range(m):
                nu0[a] = nu[a]
                zp0[a] = zp[a]
                for b in range(m):
                    S0[a, b] = S[a, b]
        # K = P H^T S^-1 (S symmetric): row r of K solves S k = (P H^T)[r]
        for r in range(n):
            for a in range(m):
                s = 0.0
                for k in range(nz):
                    s += P[r, k] * H[a, k]
                PHt[r, a] = s
        _lu(S, LU, piv)
        _lu_solve_rows(LU, piv, PHt, K, n)
        # x_{i+1} = x + K (z - h(x_i) - H (x - x_i))
        for a in range(m):
            s = 0.0
            for k in range(nz):
                s += H[a, k] * (x[k] - xi[k])
            v[a] = nu[a] - s
        for r in range(n):
            s = 0.0
            for a in range(m):
                s += K[r, a] * v[a]
            xi[r] = x[r] + s
    for j in range(n):
        xo[j] = xi[j]
    # Joseph form: (I - K H) P (I - K H)^T + K R K^T, symmetrised. Columns c >= 6 of
    # I - K H are those of I: their terms are skipped (zeros) or added alone (ones)
    for r in range(n):
        for c in range(n):
            s = 0.0
            for a in range(m):
                s += K[r, a] * H[a, c]
            IKH[r, c] = (1.0 if r == c else 0.0) - s
    for r in range(n):
        for c in range(n):
            s = 0.0
            for k in range(nz):
                s += IKH[r, k] * P[k, c]
            if r >= nz:
                s += P[r, c]
            A[r, c] = s
    for r in range(n):
        for a in range(m):
            s = 0.0
            for b in range(m):
                s += K[r, b] * R[b, a]
            tmp[r, a] = s  # (K R)
    for r in range(n):
        for c in range(n):
            s1 = 0.0
            for k in range(nz):
                s1 += A[r, k] * IKH[c, k]
            if c >= nz:
                s1 += A[r, c]
            s2 = 0.0
            for a in range(m):
                s2 += tmp[r, a] * K[c, a]
            Po[r, c] = s1 + s2
    for r in range(n):
        for c in range(r + 1, n):
            s = 0.5 * (Po[r, c] + Po[c, r])
            Po[r, c] = s
            Po[c, r] = s
    # log N(nu0; 0, S0)
    logdet = _lu(S0, LU, piv)
    _lu_solve(LU, piv, nu0, v)
    d2 = 0.0
    for a in range(m):
        d2 += nu0[a] * v[a]
    return -0.5 * (d2 + logdet + m * _LOG_2PI)


@numba.njit(cache=True)
def ekf_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, site: np.ndarray, rot: np.ndarray,
               rr: bool, iterations: int):
    """Iterated EKF update of N tracks, one measurement each; R (N, m, m).

    Returns x (N, n), P (N, n, n), and the prediction's innovations nu (N, m), S
    (N, m, m), predicted measurements (N, m) and log-likelihoods (N,)."""
    N, n = x.shape
    m = z.shape[1]
    xo = np.empty((N, n))
    Po = np.empty((N, n, n))
    nu0 = np.empty((N, m))
    S0 = np.empty((N, m, m))
    zp0 = np.empty((N, m))
    ll = np.empty(N)
    xi, zp, H, HP, S = np.empty(n), np.empty(m), np.empty((m, n)), np.empty((m, n)), np.empty((m, m))
    LU, piv, PHt, K = np.empty((m, m)), np.empty(m, np.int64), np.empty((n, m)), np.empty((n, m))
    nu, v, tmp, IKH, A = np.empty(m), np.empty(m), np.empty((n, m)), np.empty((n, n)), np.empty((n, n))
    for i in range(N):
        ll[i] = _ekf_update_one(x[i], P[i], z[i], R[i], site, rot, rr, iterations, xo[i], Po[i], nu0[i], S0[i], zp0[i],
                                xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A)
    return xo, Po, nu0, S0, zp0, ll


@numba.njit(cache=True, _nrt=False)
def _posterior_modes(logw: np.ndarray, prior: np.ndarray, out: np.ndarray) -> float:
    """IMM mode probabilities from the log weights log(mu_j) + log L_j, normalised in log
    space into ``out`` (which may be ``prior``); where every weight is zero, ``out`` is
    the prior. Returns the mixture likelihood sum_j mu_j L_j (0 then). ``logw`` is
    overwritten."""
    M = logw.shape[0]
    top = logw[0]
    for j in range(1, M):
        top = max(top, logw[j])
    if not math.isfinite(top):
        for j in range(M):
            out[j] = prior[j]
        return 0.0
    s = 0.0
    for j in range(M):
        logw[j] = math.exp(logw[j] - top)
        s += logw[j]
    for j in range(M):
        out[j] = logw[j] / s
    return math.exp(top) * s


@numba.njit(cache=True)
def imm_update(mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray, z: np.ndarray, R: np.ndarray, site: np.ndarray,
               rot: np.ndarray, rr: bool, iterations: int):
    """IMM update (filters.IMM.update) of N tracks over M models, xm (M, N, d).

    Returns mu (N, M), xm, Pm, the mixture likelihood (N,), and the combined x, P."""
    M, N, n = xm.shape
    m = z.shape[1]
    xo = np.empty((M, N, n))
    Po = np.empty((M, N, n, n))
    mu_new = np.empty((N, M))
    total = np.empty(N)
    nu0, S0, zp0 = np.empty(m), np.empty((m, m)), np.empty(m)
    xi, zp, H, HP, S = np.empty(n), np.empty(m), np.empty((m, n)), np.empty((m, n)), np.empty((m, m))
    LU, piv, PHt, K = np.empty((m, m)), np.empty(m, np.int64), np.empty((n, m)), np.empty((n, m))
    nu, v, tmp, IKH, A = np.empty(m), np.empty(m), np.empty((n, m)), np.empty((n, n)), np.empty((n, n))
    logw = np.empty(M)
    for i in range(N):
        for j in range(M):
            ll = _ekf_update_one(xm[j, i], Pm[j, i], z[i], R[i], site, rot, rr, iterations, xo[j, i], Po[j, i], nu0, S0, zp0,
                                 xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A)
            logw[j] = (np.log(mu[i, j]) if mu[i, j] > 0.0 else -np.inf) + ll
        total[i] = _posterior_modes(logw, mu[i], mu_new[i])
    x, P = imm_combine(mu_new, xo, Po)
    return mu_new, xo, Po, total, x, P


# --------------------------------------------------------------------------- IMM mixing, prediction, combination


@numba.njit(cache=True)
def imm_combine(mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matched x (N, d) and symmetrised P (N, d, d) of an IMM state."""
    M, N, n = xm.shape
    x = np.empty((N, n))
    P = np.empty((N, n, n))
    A = np.empty((n, n))
    B = np.empty((n, n))
    d = np.empty(n)
    for i in range(N):
        _combine_one(i, mu, xm, Pm, x, P, A, B, d)
    return x, P


@numba.njit(cache=True, _nrt=False)
def _combine_one(i: int, mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray, x: np.ndarray, P: np.ndarray, A: np.ndarray,
                 B: np.ndarray, d: np.ndarray) -> None:
    """:func:`imm_combine` of track i into x[i], P[i]; A, B (n, n) and d (n,) scratch."""
    M = xm.shape[0]
    n = xm.shape[2]
    for k in range(n):
        x[i, k] = 0.0
    for j in range(M):
        for k in range(n):
            x[i, k] += mu[i, j] * xm[j, i, k]
    A[:, :] = 0.0
    B[:, :] = 0.0
    for j in range(M):
        w = mu[i, j]
        for k in range(n):
            d[k] = xm[j, i, k] - x[i, k]
        for k in range(n):
            for l in range(n):
                A[k, l] += w * Pm[j, i, k, l]
                B[k, l] += w * d[k] * d[l]
    for k in range(n):
        for l in range(k, n):
            s = 0.5 * ((A[k, l] + B[k, l]) + (A[l, k] + B[l, k]))
            P[i, k, l] = s
            P[i, l, k] = s


@numba.njit(cache=True)
def imm_transition(w: np.ndarray, V: np.ndarray, Vinv: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """Switching matrices (N, M, M): expm(G |dt|) = V exp(w |dt|) V^-1, clipped to [0, 1]
    and each row normalised (IMM.transition_matrix)."""
    N = dt.shape[0]
    M = w.shape[0]
    T = np.empty((N, M, M))
    e = np.empty(M, np.complex128)
    for i in range(N):
        a = abs(dt[i])
        for j in range(M):
            e[j] = np.exp(w[j] * a)
        for r in range(M):
            s = 0.0
            for c in range(M):
                acc = 0.0 + 0.0j
                for j in range(M):
                    acc += V[r, j] * e[j] * Vinv[j, c]
                t = min(max(acc.real, 0.0), 1.0)
                T[i, r, c] = t
                s += t
            for c in range(M):
                T[i, r, c] /= s
    return T


@numba.njit(cache=True)
def imm_mix(mu: np.ndarray, T: np.ndarray, xm: np.ndarray, Pm: np.ndarray):
    """IMM mixing: predicted model probabilities c (N, M) and the mixed initial states
    x0 (M, N, d), P0 (M, N, d, d) (IMM.predict's first step)."""
    M, N, n = xm.shape
    c = np.zeros((N, M))
    x0 = np.zeros((M, N, n))
    P0 = np.zeros((M, N, n, n))
    w = np.empty((M, M))
    d = np.empty(n)
    B = np.empty((n, n))
    for i in range(N):
        for j in range(M):
            s = 0.0
            for k in range(M):
                s += mu[i, k] * T[i, k, j]
            c[i, j] = s
        for k in range(M):
            for j in range(M):
                w[k, j] = mu[i, k] * T[i, k, j] / max(c[i, j], 1e-300)
        for j in range(M):
            for k in range(M):
                for a in range(n):
                    x0[j, i, a] += w[k, j] * xm[k, i, a]
            B[:, :] = 0.0
            for k in range(M):
                wk = w[k, j]
                for a in range(n):
                    d[a] = xm[k, i, a] - x0[j, i, a]
                for a in range(n):
                    for b in range(n):
                        P0[j, i, a, b] += wk * Pm[k, i, a, b]
                        B[a, b] += wk * d[a] * d[b]
            for a in range(n):
                for b in range(n):
                    P0[j, i, a, b] += B[a, b]
    return c, x0, P0


@numba.njit(cache=True)
def cov_predict(P: np.ndarray, loc: np.ndarray, F: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """sym(F P[loc, loc] F^T + Q) (N, k, k) for the model components ``loc`` of P (N, d, d)."""
    N, k, _ = F.shape
    out = np.empty((N, k, k))
    FP = np.empty((k, k))
    for i in range(N):
        for r in range(k):
            for c in range(k):
                s = 0.0
                for j in range(k):
                    s += F[i, r, j] * P[i, loc[j], loc[c]]
                FP[r, c] = s
        for r in range(k):
            for c in range(k):
                s = 0.0
                for j in range(k):
                    s += FP[r, j] * F[i, c, j]
                out[i, r, c] = s + Q[i, r, c]
        for r in range(k):
            for c in range(r + 1, k):
                s = 0.5 * (out[i, r, c] + out[i, c, r])
                out[i, r, c] = s
                out[i, c, r] = s
    return out


@numba.njit(cache=True)
def imm_scatter(xs: np.ndarray, Ps: np.ndarray, loc: np.ndarray, xn: np.ndarray, Pn: np.ndarray, other: np.ndarray,
                mean: np.ndarray, var: np.ndarray) -> None:
    """Put a model's predicted state (N, k) and covariance into the common space (N, d)
    of the IMM (zeros elsewhere), its unused components at their prior."""
    N, k = xn.shape
    for i in range(N):
        for a in range(k):
            xs[i, loc[a]] = xn[i, a]
            for b in range(k):
                Ps[i, loc[a], loc[b]] = Pn[i, a, b]
        for a in range(other.shape[0]):
            xs[i, other[a]] = mean[a]
            Ps[i, other[a], other[a]] = var[a]


# --------------------------------------------------------------------------- motion models


@numba.njit(cache=True, _nrt=False)
def _kron3_apply(f1: np.ndarray, k: int, x: np.ndarray, out: np.ndarray) -> None:
    """out = kron3(f1) x for the [pos, vel, (acc)] ordering (per-axis k x k block: the
    leading one of f1)."""
    for a in range(3):
        for r in range(k):
            s = 0.0
            for c in range(k):
                s += f1[r, c] * x[3 * c + a]
            out[3 * r + a] = s


@numba.njit(cache=True, _nrt=False)
def _kron3_into(f1: np.ndarray, k: int, F: np.ndarray) -> None:
    """The leading 3k x 3k block of F (zeroed here) = the 3-axis expansion of the
    per-axis block (the leading k x k one of f1)."""
    for r in range(3 * k):
        for c in range(3 * k):
            F[r, c] = 0.0
    for a in range(3):
        for r in range(k):
            for c in range(k):
                F[3 * r + a, 3 * c + a] = f1[r, c]


@numba.njit(cache=True)
def cv_predict(x: np.ndarray, dt: np.ndarray, q: float):
    """Constant velocity: f(x) (N, 6), F and Q (N, 6, 6) (filters.ConstantVelocity)."""
    N = x.shape[0]
    xp = np.empty((N, 6))
    F = np.empty((N, 6, 6))
    Q = np.empty((N, 6, 6))
    f1 = np.empty((2, 2))
    q1 = np.empty((2, 2))
    for i in range(N):
        t = dt[i]
        f1[0, 0], f1[0, 1], f1[1, 0], f1[1, 1] = 1.0, t, 0.0, 1.0
        _kron3_into(f1, 2, F[i])
        _kron3_apply(f1, 2, x[i], xp[i])
        _cv_block(t, q, q1)
        _kron3_into(q1, 2, Q[i])
    return xp, F, Q


@numba.njit(cache=True, _nrt=False)
def _cv_block(t: float, q: float, q1: np.ndarray) -> None:
    q1[0, 0] = q * (t**3 / 3)
    q1[0, 1] = q * (t**2 / 2)
    q1[1, 0] = q1[0, 1]
    q1[1, 1] = q * t


@numba.njit(cache=True)
def cv_noise(dt: np.ndarray, q: float, Q: np.ndarray) -> None:
    """Write the white-noise-acceleration Q of intensity q into Q[:, :6, :6] (zeroed)."""
    q1 = np.empty((2, 2))
    blk = np.empty((6, 6))
    for i in range(dt.shape[0]):
        _cv_block(dt[i], q, q1)
        _kron3_into(q1, 2, blk)
        for r in range(6):
            for c in range(6):
                Q[i, r, c] = blk[r, c]


@numba.njit(cache=True)
def ca_predict(x: np.ndarray, dt: np.ndarray, q: float):
    """Constant acceleration: f(x) (N, 9), F and Q (N, 9, 9) (filters.ConstantAcceleration)."""
    N = x.shape[0]
    xp = np.empty((N, 9))
    F = np.empty((N, 9, 9))
    Q = np.empty((N, 9, 9))
    f1 = np.empty((3, 3))
    q1 = np.empty((3, 3))
    for i in range(N):
        t = dt[i]
        f1[0, 0], f1[0, 1], f1[0, 2] = 1.0, t, t**2 / 2
        f1[1, 0], f1[1, 1], f1[1, 2] = 0.0, 1.0, t
        f1[2, 0], f1[2, 1], f1[2, 2] = 0.0, 0.0, 1.0
        q1[0, 0], q1[0, 1], q1[0, 2] = q * (t**5 / 20), q * (t**4 / 8), q * (t**3 / 6)
        q1[1, 0], q1[1, 1], q1[1, 2] = q * (t**4 / 8), q * (t**3 / 3), q * (t**2 / 2)
        q1[2, 0], q1[2, 1], q1[2, 2] = q * (t**3 / 6), q * (t**2 / 2), q * t
        _kron3_into(f1, 3, F[i])
        _kron3_into(q1, 3, Q[i])
        _kron3_apply(f1, 3, x[i], xp[i])
    return xp, F, Q


# --------------------------------------------------------------------------- ballistic free flight

_BALLISTIC_SCRATCH = 7 + 24 + 6 + 4 * 49 + 21
_DRHO_STEP_M = 1.0  # height step of the density's central difference (scale height ~7 km)

VACUUM_STEP_S = 5.0
"""RK4 substep (s) of a ballistic prediction the air cannot disturb (see :func:`_substeps`)."""
VACUUM_DRAG_REACH_M = 0.1
"""Bound (m) on drag's reach over a prediction below which it takes VACUUM_STEP_S substeps."""
_FALL_BOUND_MPS2 = 10.0  # more than gravity anywhere above the ground: fall of 0.5 g dt^2 bounded


@numba.njit(cache=True, _nrt=False)
def _substeps(y: np.ndarray, dt: float, max_step: float, p: np.ndarray) -> int:
    """Number of RK4 substeps of a ballistic prediction of [r, v, 1/beta] ``y`` by ``dt``.

    ``ceil(|dt| / max_step)`` where the air matters; ``ceil(|dt| / VACUUM_STEP_S)`` (when
    that is fewer) where it cannot: the drag acceleration at the lowest height the object
    can reach within |dt| -- the density there, rho(h - |v| |dt| - 5 dt^2), times
    |v|^2 |1/beta| / 2 -- times dt^2 is at most VACUUM_DRAG_REACH_M. Above the air, RK4 at
    5 s steps is within millimetres of a 0.01 s integration (J2 gravity and rotation
    vary slowly); where drag acts (low, fast or light tentative tracks) the steps are
    ``max_step``'s. The bound needs one height and one density; a NaN keeps ``max_step``."""
    adt = abs(dt)
    n = max(1, int(math.ceil(adt / max_step)))  # noqa: RUF046 (an int in numba too)
    if n > 1 and VACUUM_STEP_S > max_step:
        speed2 = y[3] * y[3] + y[4] * y[4] + y[5] * y[5]
        low = (_geodetic_height(y[0], y[1], y[2], p[P_A], p[P_E2], p[P_SPHERE] != 0.0)
               - math.sqrt(speed2) * adt - 0.5 * _FALL_BOUND_MPS2 * adt * adt)
        reach = 0.0
        if p[P_DRAG] != 0.0:
            reach = 0.5 * _density(low) * speed2 * abs(y[6]) * adt * adt
        if reach <= VACUUM_DRAG_REACH_M:
            n = max(1, int(math.ceil(adt / VACUUM_STEP_S)))  # noqa: RUF046
    return n


@numba.njit(cache=True)
def _ballistic_rk4(y: np.ndarray, dt: float, max_step: float, p: np.ndarray) -> None:
    """Advance [r, v, theta] in place by dt with RK4 substeps (theta = 1/beta)."""
    _ballistic_rk4_into(y, dt, max_step, p, np.empty((4, 6)), np.empty(6))


@numba.njit(cache=True, _nrt=False)
def _ballistic_rk4_into(y: np.ndarray, dt: float, max_step: float, p: np.ndarray, k: np.ndarray, tmp: np.ndarray) -> None:
    """:func:`_ballistic_rk4` with its scratch arrays k (4, 6) and tmp (6,) given."""
    n = _substeps(y, dt, max_step, p)
    h = dt / n
    # not clipped at 0: a negative estimate must keep a non-zero Jacobian column so that
    # drag measurements can pull it back (with a clip the filter cannot learn 1/beta)
    theta = y[6]
    for _ in range(n):
        for s in range(4):
            if s == 0:
                for i in range(6):
                    tmp[i] = y[i]
            else:
                c = 0.5 if s < 3 else 1.0
                for i in range(6):
                    tmp[i] = y[i] + c * h * k[s - 1, i]
            ax, ay, az = _acceleration(tmp[0], tmp[1], tmp[2], tmp[3], tmp[4], tmp[5], theta, p)
            k[s, 0], k[s, 1], k[s, 2] = tmp[3], tmp[4], tmp[5]
            k[s, 3], k[s, 4], k[s, 5] = ax, ay, az
        for i in range(6):
            y[i] += h / 6.0 * (k[0, i] + 2.0 * k[1, i] + 2.0 * k[2, i] + k[3, i])


@numba.njit(cache=True)
def _acceleration_jacobian(x: float, y: float, z: float, vx: float, vy: float, vz: float, theta: float, p: np.ndarray,
                           A: np.ndarray) -> None:
    """Derivatives A (3, 7) of earth._acceleration with respect to (r, v, 1/beta)
    (:func:`_acceleration_and_jacobian` without the value)."""
    _acceleration_and_jacobian(x, y, z, vx, vy, vz, theta, p, A)


@numba.njit(cache=True, inline="always")
def _acceleration_and_jacobian(x: float, y: float, z: float, vx: float, vy: float, vz: float, theta: float,
                               p: np.ndarray, A: np.ndarray) -> tuple[float, float, float]:
    """earth._acceleration (returned) and its derivatives A (3, 7) with respect to
    (r, v, 1/beta) together, sharing the height above the ellipsoid and the density.

    The value repeats earth._acceleration's operations in its order, so it has the same
    bits (tests/test_tracker_kernels.py checks it: change both together). The
    derivatives: the gradient of point-mass + J2 gravity, the Coriolis and centrifugal
    terms, and drag -rho(h) |v| v theta / 2 (rho's height derivative by a central
    difference; the gradient of the height above the ellipsoid is the local up)."""
    # the value: earth._acceleration
    gx, gy, gz = _gravity(x, y, z, p[P_MU], p[P_J2], p[P_A])
    w = p[P_OMEGA]
    if w != 0.0:
        gx += 2.0 * w * vy + w * w * x
        gy += -2.0 * w * vx + w * w * y
    drag = p[P_DRAG] != 0.0
    sphere = p[P_SPHERE] != 0.0
    h = rho = ux = uy = uz = speed = 0.0
    if drag:
        h, ux, uy, uz = _height_and_up(x, y, z, p[P_A], p[P_E2], sphere)
        speed = math.sqrt(vx * vx + vy * vy + vz * vz)
        rho = _density(h)
        if theta != 0.0:
            if sphere:  # _geodetic_height's sphere height is |r| - a by other operations
                k = -0.5 * _density(_geodetic_height(x, y, z, p[P_A], p[P_E2], True)) * speed * theta
            else:  # _height_and_up's height is _geodetic_height's (both Vermeille's h)
                k = -0.5 * rho * speed * theta
            gx += k * vx
            gy += k * vy
            gz += k * vz
    # the derivatives
    mu, c = p[P_MU], 1.5 * p[P_J2] * p[P_A] * p[P_A]
    r2 = x * x + y * y + z * z
    ir2 = 1.0 / r2
    ir3 = ir2 / math.sqrt(r2)
    ir5 = ir3 * ir2
    ir7 = ir5 * ir2
    z2 = z * z
    # g_x = fxy x, g_y = fxy y, g_z = fz z; fxy = -mu (r^-3 + c r^-5 - 5 c z^2 r^-7),
    # fz = -mu (r^-3 + 3 c r^-5 - 5 c z^2 r^-7); d f / d r_j = D r_j (+ E for j = z)
    fxy = -mu * (ir3 + c * ir5 - 5.0 * c * z2 * ir7)
    fz = -mu * (ir3 + 3.0 * c * ir5 - 5.0 * c * z2 * ir7)
    tail = 35.0 * c * z2 * ir7 * ir2
    dxy = -mu * (-3.0 * ir5 - 5.0 * c * ir7 + tail)
    dz = -mu * (-3.0 * ir5 - 15.0 * c * ir7 + tail)
    ez = 10.0 * mu * c * z * ir7
    A[0, 0] = fxy + x * dxy * x
    A[0, 1] = x * dxy * y
    A[0, 2] = x * (dxy * z + ez)
    A[1, 0] = y * dxy * x
    A[1, 1] = fxy + y * dxy * y
    A[1, 2] = y * (dxy * z + ez)
    A[2, 0] = z * dz * x
    A[2, 1] = z * dz * y
    A[2, 2] = fz + z * (dz * z + ez)
    for a in range(3):
        for b in range(3, 7):
            A[a, b] = 0.0
    A[0, 0] += w * w
    A[1, 1] += w * w
    A[0, 4] += 2.0 * w
    A[1, 3] -= 2.0 * w
    if drag:
        drho = (_density(h + _DRHO_STEP_M) - _density(h - _DRHO_STEP_M)) / (2.0 * _DRHO_STEP_M)
        v0, v1, v2 = vx, vy, vz
        A[0, 6] = -0.5 * rho * speed * v0
        A[1, 6] = -0.5 * rho * speed * v1
        A[2, 6] = -0.5 * rho * speed * v2
        if theta != 0.0:
            kr = -0.5 * speed * theta * drho
            kv = -0.5 * rho * theta
            kvv = kv / speed if speed > 0.0 else 0.0
            for a, va in enumerate((v0, v1, v2)):
                A[a, 0] += kr * va * ux
                A[a, 1] += kr * va * uy
                A[a, 2] += kr * va * uz
                A[a, 3] += kvv * va * v0
                A[a, 4] += kvv * va * v1
                A[a, 5] += kvv * va * v2
                A[a, 3 + a] += kv * speed
    return gx, gy, gz


@numba.njit(cache=True, _nrt=False)
def _ballistic_one(x: np.ndarray, dt: float, max_step: float, p: np.ndarray, out: np.ndarray, jac: np.ndarray,
                   y: np.ndarray) -> None:
    """f(x) (7,) and its Jacobian (7, 7) of one state [r, v, 1/beta].

    f is :func:`_ballistic_rk4`'s (the same operations, so the same values); the
    Jacobian is the exact derivative of that RK4 map: the variational equations
    Phi' = (df/dx) Phi integrated with the same RK4 stages alongside the state (a
    Runge-Kutta step of the linearised system is the linearisation of the step), with
    df/dx from :func:`_acceleration_jacobian`. ``y`` is scratch of at least
    :data:`_BALLISTIC_SCRATCH` values."""
    k = y[7:31].reshape((4, 6))
    tmp = y[31:37]
    Phi = y[37:86].reshape((7, 7))
    Ps = y[86:135].reshape((7, 7))  # a stage's Phi
    D = y[135:184].reshape((7, 7))  # a stage's Phi'
    acc = y[184:233].reshape((7, 7))  # the stages' Phi' weighted 1, 2, 2, 1
    A = y[233:254].reshape((3, 7))
    for r in range(7):
        y[r] = x[r]
        for j in range(7):
            Phi[r, j] = 1.0 if r == j else 0.0
            Ps[r, j] = Phi[r, j]  # row 6 (1/beta is constant) stays e_6 throughout
    n = _substeps(y, dt, max_step, p)
    h = dt / n
    # not clipped at 0: a negative estimate must keep a non-zero Jacobian column so that
    # drag measurements can pull it back (with a clip the filter cannot learn 1/beta)
    theta = y[6]
    for _ in range(n):
        for s in range(4):
            if s == 0:
                for i in range(6):
                    tmp[i] = y[i]
                for r in range(6):
                    for j in range(7):
                        Ps[r, j] = Phi[r, j]
            else:
                c = 0.5 if s < 3 else 1.0
                ch = c * h
                for i in range(6):
                    tmp[i] = y[i] + ch * k[s - 1, i]
                for r in range(6):
                    for j in range(7):
                        Ps[r, j] = Phi[r, j] + ch * D[r, j]
            ax, ay, az = _acceleration_and_jacobian(tmp[0], tmp[1], tmp[2], tmp[3], tmp[4], tmp[5], theta, p, A)
            k[s, 0], k[s, 1], k[s, 2] = tmp[3], tmp[4], tmp[5]
            k[s, 3], k[s, 4], k[s, 5] = ax, ay, az
            wgt = 1.0 if s == 0 or s == 3 else 2.0
            # Phi' = (df/dx) Phi: rows 0-2 are Phi's velocity rows; rows 3-5 sum over q in
            # order 6, 0, 1, ..., 5 (the loops over j innermost vectorise; same sums)
            for r in range(3):
                for j in range(7):
                    D[r, j] = Ps[3 + r, j]
                a6 = A[r, 6]
                for j in range(7):
                    D[3 + r, j] = a6 * Ps[6, j]
                for q in range(6):
                    aq = A[r, q]
                    for j in range(7):
                        D[3 + r, j] += aq * Ps[q, j]
            if s == 0:
                for r in range(6):
                    for j in range(7):
                        acc[r, j] = D[r, j]
            else:
                for r in range(6):
                    for j in range(7):
                        acc[r, j] += wgt * D[r, j]
        h6 = h / 6.0
        for i in range(6):
            y[i] += h6 * (k[0, i] + 2.0 * k[1, i] + 2.0 * k[2, i] + k[3, i])
        for r in range(6):
            for j in range(7):
                Phi[r, j] += h6 * acc[r, j]
    for r in range(7):
        out[r] = y[r]
        for j in range(7):
            jac[r, j] = Phi[r, j]


@numba.njit(cache=True)
def _ballistic_predict(x: np.ndarray, dt: np.ndarray, max_step: float, p: np.ndarray,
                       out: np.ndarray, jac: np.ndarray) -> None:
    """Ballistic free flight (filters.Ballistic): f(x) (N, 7) and Jacobians (N, 7, 7)."""
    y = np.empty(_BALLISTIC_SCRATCH)
    for i in range(x.shape[0]):
        _ballistic_one(x[i], dt[i], max_step, p, out[i], jac[i], y)


@numba.njit(cache=True)
def _ballistic_propagate(x: np.ndarray, dt: np.ndarray, max_step: float, p: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.shape[0]):
        y = x[i].copy()
        _ballistic_rk4(y, dt[i], max_step, p)
        out[i] = y



# --------------------------------------------------------------------------- fused prediction

KIND_CV, KIND_CA, KIND_BALLISTIC = 0, 1, 2
"""Motion models the fused prediction knows (others take the generic path)."""


@numba.njit(cache=True, _nrt=False)
def _model_predict_one(kind: int, x: np.ndarray, k: int, t: float, qa: float, qb: float, max_step: float, p: np.ndarray,
                       xo: np.ndarray, F: np.ndarray, Q: np.ndarray, f1: np.ndarray, q1: np.ndarray, y: np.ndarray) -> None:
    """f(x) (k,), F and Q (k, k) of one state of a model ``kind`` with k components (CV,
    CA: q = qa; ballistic: q = qa, q_theta = qb) -- the formulas of cv_predict, ca_predict
    and filters.Ballistic.predict -- in the leading entries of xo, F and Q."""
    if kind == KIND_CV:
        f1[0, 0], f1[0, 1], f1[1, 0], f1[1, 1] = 1.0, t, 0.0, 1.0
        _kron3_into(f1, 2, F)
        _kron3_apply(f1, 2, x, xo)
        _cv_block(t, qa, q1)
        _kron3_into(q1, 2, Q)
    elif kind == KIND_CA:
        f1[0, 0], f1[0, 1], f1[0, 2] = 1.0, t, t**2 / 2
        f1[1, 0], f1[1, 1], f1[1, 2] = 0.0, 1.0, t
        f1[2, 0], f1[2, 1], f1[2, 2] = 0.0, 0.0, 1.0
        q1[0, 0], q1[0, 1], q1[0, 2] = qa * (t**5 / 20), qa * (t**4 / 8), qa * (t**3 / 6)
        q1[1, 0], q1[1, 1], q1[1, 2] = qa * (t**4 / 8), qa * (t**3 / 3), qa * (t**2 / 2)
        q1[2, 0], q1[2, 1], q1[2, 2] = qa * (t**3 / 6), qa * (t**2 / 2), qa * t
        _kron3_into(f1, 3, F)
        _kron3_into(q1, 3, Q)
        _kron3_apply(f1, 3, x, xo)
    else:
        _ballistic_one(x, t, max_step, p, xo, F, y)
        for a in range(k):
            for b in range(k):
                Q[a, b] = 0.0
        _cv_block(t, qa, q1)
        for a in range(3):
            Q[a, a] = q1[0, 0]
            Q[a, 3 + a] = q1[0, 1]
            Q[3 + a, a] = q1[1, 0]
            Q[3 + a, 3 + a] = q1[1, 1]
        Q[6, 6] = qb * abs(t)


@numba.njit(cache=True, inline="always")
def _fpft(F: np.ndarray, G: np.ndarray, H: np.ndarray, nz: np.ndarray, nnz: np.ndarray, k: int) -> None:
    """H = (F G F^T)^T of the leading k x k blocks, summed over F's non-zero entries (the
    constant-acceleration F is 2/3 zeros): a zero term adds nothing to a sum that starts
    at +0.0, so for a finite G the sums are those over every term, each in increasing
    order. F G by rows, then (F G F^T)^T by rows of G = (F G)^T (G is overwritten);
    ``nz``/``nnz`` scratch (each row's non-zero columns)."""
    for r in range(k):
        cnt = 0
        for a in range(k):
            if F[r, a] != 0.0:
                nz[r, cnt] = a
                cnt += 1
        nnz[r] = cnt
    _sparse_rows_product(F, G, H, nz, nnz, k)
    for a in range(k):
        for b in range(k):
            G[a, b] = H[b, a]
    _sparse_rows_product(F, G, H, nz, nnz, k)


@numba.njit(cache=True, inline="always")
def _sparse_rows_product(F: np.ndarray, G: np.ndarray, H: np.ndarray, nz: np.ndarray, nnz: np.ndarray, k: int) -> None:
    """H = F G of the leading k x k blocks by rows of F, over each row's non-zero
    columns ``nz[r, :nnz[r]]`` in increasing order (:func:`_fpft`)."""
    for r in range(k):
        for b in range(k):
            H[r, b] = 0.0
        for q in range(nnz[r]):
            a = nz[r, q]
            f = F[r, a]
            for b in range(k):
                H[r, b] += f * G[a, b]


@numba.njit(cache=True)
def _predict_scratch(M: int, d: int, kmax: int):
    """Scratch arrays of :func:`_predict_tracks` (M models in a space of dimension d,
    models of at most kmax components)."""
    return (np.empty(M), np.empty((M, M)), np.empty((M, d)), np.empty((M, d, d)), np.empty(d), np.empty((d, d)),
            np.empty((d, d)), np.empty(kmax), np.empty(kmax), np.empty((kmax, kmax)), np.empty((kmax, kmax)),
            np.empty((kmax, kmax)), np.empty((kmax, kmax)), np.empty((kmax, kmax), np.int64), np.empty(kmax, np.int64),
            np.empty((3, 3)), np.empty((3, 3)), np.empty(_BALLISTIC_SCRATCH))


@numba.njit(cache=True, _nrt=False)
def _predict_tracks(n: int, dt: np.ndarray, T: np.ndarray, imm: bool, mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray,
                    x: np.ndarray, P: np.ndarray, kinds: np.ndarray, qa: np.ndarray, qb: np.ndarray,
                    max_step: np.ndarray, earth: np.ndarray, locs: np.ndarray, nloc: np.ndarray, others: np.ndarray,
                    nother: np.ndarray, means: np.ndarray, variances: np.ndarray, ws) -> None:
    """:func:`predict_fused` of the first n tracks by dt (n,), in place: an IMM's model
    probabilities mu (N, M), model states xm (M, N, d) and covariances Pm (M, N, d, d)
    with the switching matrices T (N, M, M) -- mixing with imm_mix's operations, each
    model's prediction, the combination with imm_combine's -- and the combined x (N,
    d), P (N, d, d); or a single model's x, P (``imm`` False). ``ws`` from
    :func:`_predict_scratch`. (Scalar indexing of whole arrays: views made in the loops
    would cost reference counting.)"""
    c, wgt, x0, P0, dv, A, B, xl, xo, F, Q, G, H, nz, nnz, f1, q1, y = ws
    M = xm.shape[0] if imm else 1
    d = x.shape[1]
    dd = d * d
    # the covariances as rows of d * d (sums of whole covariances in one loop)
    Pmf = Pm.reshape((Pm.shape[0], Pm.shape[1], dd))
    P0f = P0.reshape((P0.shape[0], dd))
    Af = A.reshape(dd)
    Bf = B.reshape(dd)
    for i in range(n):
        if imm:
            # mixing (imm_mix)
            for j in range(M):
                s = 0.0
                for k in range(M):
                    s += mu[i, k] * T[i, k, j]
                c[j] = s
            for k in range(M):
                for j in range(M):
                    wgt[k, j] = mu[i, k] * T[i, k, j] / max(c[j], 1e-300)
            for j in range(M):
                for a in range(d):
                    x0[j, a] = 0.0
                for k in range(M):
                    for a in range(d):
                        x0[j, a] += wgt[k, j] * xm[k, i, a]
                for q in range(dd):
                    P0f[j, q] = 0.0
                    Bf[q] = 0.0
                for k in range(M):
                    wk = wgt[k, j]
                    for a in range(d):
                        dv[a] = xm[k, i, a] - x0[j, a]
                    for q in range(dd):
                        P0f[j, q] += wk * Pmf[k, i, q]
                    for a in range(d):
                        s = wk * dv[a]
                        for b in range(d):
                            B[a, b] += s * dv[b]
                for q in range(dd):
                    P0f[j, q] += Bf[q]
        else:
            for a in range(d):
                x0[0, a] = x[i, a]
                for b in range(d):
                    P0[0, a, b] = P[i, a, b]
        for j in range(M):
            # the model's prediction on its components (G: their covariance)
            k = nloc[j]
            for a in range(k):
                xl[a] = x0[j, locs[j, a]]
                for b in range(k):
                    G[a, b] = P0[j, locs[j, a], locs[j, b]]
            _model_predict_one(kinds[j], xl, k, dt[i], qa[j], qb[j], max_step[j], earth[j], xo, F, Q, f1, q1, y)
            # H[cc, r] = (F P F^T)[r, cc] (G: the model's P); loops of constant length for
            # the ballistic and constant-acceleration models (unrolled and vectorised)
            if k == 7:
                _fpft(F, G, H, nz, nnz, 7)
            elif k == 9:
                _fpft(F, G, H, nz, nnz, 9)
            else:
                _fpft(F, G, H, nz, nnz, k)
            # H[cc, r] + Q[r, cc] is entry (r, cc) of F P F^T + Q: symmetrised into place
            if imm:
                for a in range(d):
                    xm[j, i, a] = 0.0
                    for b in range(d):
                        Pm[j, i, a, b] = 0.0
                for r in range(k):
                    lr = locs[j, r]
                    xm[j, i, lr] = xo[r]
                    Pm[j, i, lr, lr] = H[r, r] + Q[r, r]
                    for cc in range(r + 1, k):
                        lc = locs[j, cc]
                        s = 0.5 * ((H[cc, r] + Q[r, cc]) + (H[r, cc] + Q[cc, r]))
                        Pm[j, i, lr, lc] = s
                        Pm[j, i, lc, lr] = s
                for a in range(nother[j]):
                    xm[j, i, others[j, a]] = means[j, a]
                    Pm[j, i, others[j, a], others[j, a]] = variances[j, a]
            else:
                for a in range(d):
                    x[i, a] = 0.0
                    for b in range(d):
                        P[i, a, b] = 0.0
                for r in range(k):
                    lr = locs[j, r]
                    x[i, lr] = xo[r]
                    P[i, lr, lr] = H[r, r] + Q[r, r]
                    for cc in range(r + 1, k):
                        lc = locs[j, cc]
                        s = 0.5 * ((H[cc, r] + Q[r, cc]) + (H[r, cc] + Q[cc, r]))
                        P[i, lr, lc] = s
                        P[i, lc, lr] = s
                for a in range(nother[j]):
                    x[i, others[j, a]] = means[j, a]
                    P[i, others[j, a], others[j, a]] = variances[j, a]
        if imm:
            # the combination (imm_combine)
            for a in range(d):
                x[i, a] = 0.0
            for j in range(M):
                for a in range(d):
                    x[i, a] += c[j] * xm[j, i, a]
            for q in range(dd):
                Af[q] = 0.0
                Bf[q] = 0.0
            for j in range(M):
                cj = c[j]
                for a in range(d):
                    dv[a] = xm[j, i, a] - x[i, a]
                for q in range(dd):
                    Af[q] += cj * Pmf[j, i, q]
                for a in range(d):
                    s = cj * dv[a]
                    for b in range(d):
                        B[a, b] += s * dv[b]
            for q in range(dd):
                Af[q] += Bf[q]
            for a in range(d):
                for b in range(d):
                    P[i, a, b] = 0.5 * (A[a, b] + A[b, a])
            for j in range(M):
                mu[i, j] = c[j]


@numba.njit(cache=True)
def predict_fused(mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray, dt: np.ndarray, T: np.ndarray, kinds: np.ndarray,
                  qa: np.ndarray, qb: np.ndarray, max_step: np.ndarray, earth: np.ndarray,
                  locs: np.ndarray, nloc: np.ndarray, others: np.ndarray, nother: np.ndarray, means: np.ndarray,
                  variances: np.ndarray):
    """Prediction of N tracks by dt (N,) in one call: IMM mixing with the switching
    matrices T (N, M, M) (skipped for one model), each model's EKF prediction (``kinds``:
    KIND_CV, KIND_CA, KIND_BALLISTIC; its components ``locs[j, :nloc[j]]`` of the common
    space, the others ``others[j, :nother[j]]`` at their prior ``means``/``variances``)
    and the combination (IMM.predict + IMM.combine; ekf_predict for one model).

    Returns c (N, M), xs (M, N, d), Ps (M, N, d, d), x (N, d), P (N, d, d)."""
    M, N, d = xm.shape
    c, xs, Ps = mu.copy(), xm.copy(), Pm.copy()
    if M == 1:  # the single model's state is the combined one
        x, P = xs[0], Ps[0]
    else:
        x, P = np.empty((N, d)), np.empty((N, d, d))
    _predict_tracks(N, dt, T, M > 1, c, xs, Ps, x, P, kinds, qa, qb, max_step, earth, locs, nloc, others, nother, means,
                    variances, _predict_scratch(M, d, locs.shape[1]))
    return c, xs, Ps, x, P


# --------------------------------------------------------------------------- tracker: gating


@numba.njit(cache=True)
def gate_pairs(zp: np.ndarray, HPH: np.ndarray, z: np.ndarray, sigma: np.ndarray, dense: bool, ti: np.ndarray,
               mj: np.ndarray, threshold: float):
    """Gating of a scan (Tracker._process): the pairs (track, measurement) -- every pair
    when ``dense``, else the candidates ``ti``/``mj`` -- within the chi-square gate.

    The innovation covariance of track i is HPH[i] + the scan's median measurement
    noise (the miss cost's ln|S_i|, returned as ``logdet_track`` (N,)). With one noise for
    the whole scan a pair's gate uses it; with per-measurement noise (sigma differ) a
    pair passes a loose gate (the scan's largest noise, a lower bound of its distance)
    and then the exact one with HPH[i] + R_j. Returns track, meas, d2, logdet of the
    gated pairs and logdet_track."""
    N = zp.shape[0]
    Mz = z.shape[0]
    K = N * Mz if dense else ti.shape[0]
    out_t = np.empty(K, np.int64)
    out_m = np.empty(K, np.int64)
    out_d2 = np.empty(K)
    out_ld = np.empty(K)
    logdet_track = np.empty(N)
    cnt = _gate_pairs_into(N, zp, HPH, z, sigma, dense, ti, mj, threshold, _gate_scratch(N, Mz), out_t, out_m, out_d2,
                           out_ld, logdet_track)
    return out_t[:cnt].copy(), out_m[:cnt].copy(), out_d2[:cnt].copy(), out_ld[:cnt].copy(), logdet_track


@numba.njit(cache=True)
def _gate_scratch(N: int, Mz: int):
    """Scratch of :func:`_gate_pairs_into` for N tracks and Mz measurements: median and
    largest noise (3,), a column of noises, its sort order and merge scratch (Mz,), the
    inverse innovation covariances (N, 3, 3) twice, and the small solves' S, LU (3, 3),
    pivots (3,), identity and columns (3, 3), innovation and solution (3,)."""
    return (np.empty(3), np.empty(3), np.empty(Mz), np.empty(Mz, np.int64), np.empty(Mz, np.int64), np.empty((N, 3, 3)),
            np.empty((N, 3, 3)), np.empty((3, 3)), np.empty((3, 3)), np.empty(3, np.int64), np.eye(3), np.empty((3, 3)),
            np.empty(3), np.empty(3))


@numba.njit(cache=True, _nrt=False)
def _gate_pairs_into(N: int, zp: np.ndarray, HPH: np.ndarray, z: np.ndarray, sigma: np.ndarray, dense: bool,
                     ti: np.ndarray, mj: np.ndarray, threshold: float, ws, out_t: np.ndarray, out_m: np.ndarray,
                     out_d2: np.ndarray, out_ld: np.ndarray, logdet_track: np.ndarray) -> int:
    """:func:`gate_pairs` of the first N tracks, the gated pairs written into the leading
    entries of out_* (room for every candidate) and ln|S_i| into logdet_track; ``ws``
    from :func:`_gate_scratch`. Returns the number of gated pairs."""
    med, mx, col, order, tmp, inv_t, inv_l, S, LU, piv, eye, cols, nu, sol = ws
    Mz = z.shape[0]
    # median noise per component (np.median of the diagonal measurement covariances: the
    # middle of the sorted column, NaN last)
    for a in range(3 if Mz else 0):
        for j in range(Mz):
            col[j] = sigma[j, a] ** 2
        _stable_argsort(col, Mz, order, tmp)
        h = Mz // 2
        med[a] = col[order[h]] if Mz % 2 == 1 else (col[order[h - 1]] + col[order[h]]) / 2.0
        mx[a] = col[order[Mz - 1]]
    uniform = True
    for j in range(1, Mz):
        for a in range(3):
            if sigma[j, a] != sigma[0, a]:
                uniform = False
    # per-track S with the median noise (and, for per-measurement noise, the loose S):
    # ln|S| and S^-1 (the pair loop is then a quadratic form)
    for i in range(N):
        for a in range(3):
            for b in range(3):
                S[a, b] = HPH[i, a, b]
            S[a, a] += med[a]
        logdet_track[i] = _lu(S, LU, piv)
        _inverse3(LU, piv, inv_t[i], eye, cols)
        if not uniform:
            for a in range(3):
                for b in range(3):
                    S[a, b] = HPH[i, a, b]
                S[a, a] += mx[a]
            _lu(S, LU, piv)
            _inverse3(LU, piv, inv_l[i], eye, cols)
    K = N * Mz if dense else ti.shape[0]
    cnt = 0
    for p in range(K):
        if dense:
            i = p // Mz
            j = p - i * Mz
        else:
            i = ti[p]
            j = mj[p]
        nu[0] = z[j, 0] - zp[i, 0]
        nu[1] = _wrap_pi(z[j, 1] - zp[i, 1])
        nu[2] = z[j, 2] - zp[i, 2]
        if uniform:
            d2 = _quad3(inv_t[i], nu)
            ld = logdet_track[i]
        else:
            if not _quad3(inv_l[i], nu) <= threshold:
                continue
            for a in range(3):
                for b in range(3):
                    S[a, b] = HPH[i, a, b]
                S[a, a] += sigma[j, a] ** 2
            ld = _lu(S, LU, piv)
            _lu_solve(LU, piv, nu, sol)
            d2 = nu[0] * sol[0] + nu[1] * sol[1] + nu[2] * sol[2]
        if d2 <= threshold:
            out_t[cnt] = i
            out_m[cnt] = j
            out_d2[cnt] = d2
            out_ld[cnt] = ld
            cnt += 1
    return cnt


# --------------------------------------------------------------------------- tracker: bookkeeping


@numba.njit(cache=True)
def bookkeeping(t: float, sensor_bit: np.int64, assigned: np.ndarray, pair_d2: np.ndarray, pair_logdet: np.ndarray,
                zp: np.ndarray, check_cover: bool, cover: np.ndarray, hit_gain: float, miss_gain: float,
                confirm_m: int, confirm_n: int, delete_misses: int, max_coast_s: float, max_position_sigma_m: float,
                min_altitude_m: float, earth: np.ndarray, x: np.ndarray, P: np.ndarray,
                score: np.ndarray, sensors: np.ndarray, history: np.ndarray, opportunities: np.ndarray,
                misses: np.ndarray, last_update: np.ndarray, updates: np.ndarray, confirmed: np.ndarray):
    """A scan's hit/miss bookkeeping, M-of-N confirmation and deletion (Tracker._process),
    in place over the N tracks' arrays.

    A track's opportunity: the scan's sensor has updated it and its predicted
    measurement ``zp`` (N, 3) lies in coverage (``cover``: max range, boresight,
    azimuth half width, elevation min and max, NaN where unknown; tested only when
    ``check_cover``), or it was hit. Returns newly confirmed (N,) and the deletion
    reason (N,): 0 alive, 1 ground, 2 misses (confirmed), 3 coasted, 4 diverged,
    5 tentative."""
    N = assigned.shape[0]
    newly = np.empty(N, np.bool_)
    reason = np.empty(N, np.int64)
    _bookkeeping_rows(N, t, sensor_bit, assigned, pair_d2, pair_logdet, zp, check_cover, cover, hit_gain, miss_gain,
                      confirm_m, confirm_n, delete_misses, max_coast_s, max_position_sigma_m, min_altitude_m, earth, x, P,
                      score, sensors, history, opportunities, misses, last_update, updates, confirmed, newly, reason)
    return newly, reason


@numba.njit(cache=True, _nrt=False)
def _bookkeeping_rows(N: int, t: float, sensor_bit: np.int64, assigned: np.ndarray, pair_d2: np.ndarray,
                      pair_logdet: np.ndarray, zp: np.ndarray, check_cover: bool, cover: np.ndarray, hit_gain: float,
                      miss_gain: float, confirm_m: int, confirm_n: int, delete_misses: int, max_coast_s: float,
                      max_position_sigma_m: float, min_altitude_m: float, earth: np.ndarray, x: np.ndarray, P: np.ndarray,
                      score: np.ndarray, sensors: np.ndarray, history: np.ndarray, opportunities: np.ndarray,
                      misses: np.ndarray, last_update: np.ndarray, updates: np.ndarray, confirmed: np.ndarray,
                      newly: np.ndarray, reason: np.ndarray) -> None:
    """:func:`bookkeeping` of the first N tracks, newly confirmed and deletion reasons
    written into the first N entries of ``newly`` and ``reason``."""
    window = (np.int64(1) << np.int64(confirm_n)) - np.int64(1)
    for i in range(N):
        newly[i] = False
        reason[i] = 0
        hit = assigned[i] >= 0
        mine = (sensors[i] & sensor_bit) != 0
        if mine and check_cover:
            ok = True
            if not math.isnan(cover[0]):
                ok = ok and zp[i, 0] <= cover[0]
            if not math.isnan(cover[1]) and not math.isnan(cover[2]) and cover[2] < math.pi:
                off = (zp[i, 1] - cover[1] + math.pi) % _TWO_PI - math.pi
                ok = ok and abs(off) <= cover[2]
            if not math.isnan(cover[3]):
                ok = ok and zp[i, 2] >= cover[3]
            if not math.isnan(cover[4]):
                ok = ok and zp[i, 2] <= cover[4]
            mine = ok
        mine = mine or hit
        if hit:
            score[i] += hit_gain - 0.5 * pair_logdet[i] - 0.5 * pair_d2[i]
            sensors[i] = sensors[i] | sensor_bit
            last_update[i] = t
            updates[i] += 1
            misses[i] = 0
        elif mine:
            score[i] = score[i] + miss_gain
            misses[i] += 1
        if mine:
            history[i] = ((history[i] << np.int64(1)) | np.int64(1 if hit else 0)) & window
            opportunities[i] += 1
        hits = 0
        for b in range(confirm_n):
            hits += (history[i] >> np.int64(b)) & np.int64(1)
        if not confirmed[i] and hits >= confirm_m:
            newly[i] = True
            confirmed[i] = True
        # deletion
        tr = P[i, 0, 0] + P[i, 1, 1] + P[i, 2, 2]
        pos_sigma = math.sqrt(max(tr, 0.0))
        missed_in_window = min(opportunities[i], confirm_n) - hits
        tentative_dead = (not confirmed[i]) and missed_in_window > confirm_n - confirm_m
        confirmed_dead = confirmed[i] and misses[i] >= delete_misses
        coasted = (t - last_update[i]) > max_coast_s
        diverged = pos_sigma > max_position_sigma_m
        grounded = _geodetic_height(x[i, 0], x[i, 1], x[i, 2], earth[0], earth[1], earth[6] != 0.0) < min_altitude_m
        if grounded:
            reason[i] = 1
        elif confirmed_dead:
            reason[i] = 2
        elif coasted:
            reason[i] = 3
        elif diverged:
            reason[i] = 4
        elif tentative_dead:
            reason[i] = 5


# --------------------------------------------------------------------------- tracker: initiation


@numba.njit(cache=True)
def meas_to_ecef(z: np.ndarray, sigma: np.ndarray, site: np.ndarray, rot: np.ndarray):
    """ECEF positions (M, 3) and covariances (M, 3, 3) of range/az/el measurements."""
    M = z.shape[0]
    pos = np.empty((M, 3))
    cov = np.empty((M, 3, 3))
    _meas_to_ecef_rows(z, sigma, np.arange(M), M, site, rot, pos, cov, np.empty((3, 3)), np.empty((3, 3)))
    return pos, cov


@numba.njit(cache=True, _nrt=False)
def _meas_to_ecef_rows(z: np.ndarray, sigma: np.ndarray, rows: np.ndarray, count: int, site: np.ndarray, rot: np.ndarray,
                       pos: np.ndarray, cov: np.ndarray, J: np.ndarray, Je: np.ndarray) -> None:
    """:func:`meas_to_ecef` of the measurements ``rows[:count]`` of z, sigma into the first
    ``count`` rows of pos, cov; J, Je (3, 3) scratch."""
    for i in range(count):
        q = rows[i]
        r, az, el = z[q, 0], z[q, 1], z[q, 2]
        sa, ca, se, ce = math.sin(az), math.cos(az), math.sin(el), math.cos(el)
        e, n, u = r * sa * ce, r * ca * ce, r * se
        for a in range(3):
            pos[i, a] = site[a] + (e * rot[0, a] + n * rot[1, a] + u * rot[2, a])
        J[0, 0], J[1, 0], J[2, 0] = sa * ce, ca * ce, se
        J[0, 1], J[1, 1], J[2, 1] = r * ca * ce, -r * sa * ce, 0.0
        J[0, 2], J[1, 2], J[2, 2] = -r * sa * se, -r * ca * se, r * ce
        for a in range(3):
            for b in range(3):
                Je[a, b] = rot[0, a] * J[0, b] + rot[1, a] * J[1, b] + rot[2, a] * J[2, b]
        for a in range(3):
            for b in range(3):
                s = 0.0
                for k in range(3):
                    s += Je[a, k] * sigma[q, k] ** 2 * Je[b, k]
                cov[i, a, b] = s


@numba.njit(cache=True)
def initial_states(z: np.ndarray, sigma: np.ndarray, site: np.ndarray, rot: np.ndarray, prior_mean: np.ndarray,
                   prior_var: np.ndarray, speed_var: float, vertical_speed_var: float):
    """New tracks' states (M, d) and covariances (M, d, d) from single measurements
    (Tracker._initiate): position and its covariance from the measurement, velocity 0
    with horizontal and vertical sigmas in the local frame, the rest at the prior."""
    pos, cov = meas_to_ecef(z, sigma, site, rot)
    M = z.shape[0]
    d = prior_mean.shape[0]
    x = np.empty((M, d))
    P = np.zeros((M, d, d))
    up = np.empty(3)
    for i in range(M):
        for a in range(d):
            x[i, a] = prior_mean[a]
            P[i, a, a] = prior_var[a]
        for a in range(3):
            x[i, a] = pos[i, a]
            x[i, 3 + a] = 0.0
            for b in range(3):
                P[i, a, b] = cov[i, a, b]
        nrm = math.sqrt(pos[i, 0] ** 2 + pos[i, 1] ** 2 + pos[i, 2] ** 2)
        for a in range(3):
            up[a] = pos[i, a] / nrm
        for a in range(3):
            for b in range(3):
                P[i, 3 + a, 3 + b] = (speed_var if a == b else 0.0) + (vertical_speed_var - speed_var) * up[a] * up[b]
    return x, P


@numba.njit(cache=True, inline="always")
def _move_initiator(src: int, dst: int, ini_t: np.ndarray, ini_pos: np.ndarray, ini_cov: np.ndarray,
                    ini_bit: np.ndarray, ini_index: np.ndarray, ini_label: np.ndarray) -> None:
    """Copy initiator ``src``'s row of the store to row ``dst`` (compaction)."""
    ini_t[dst], ini_bit[dst], ini_index[dst], ini_label[dst] = ini_t[src], ini_bit[src], ini_index[src], ini_label[src]
    for a in range(3):
        ini_pos[dst, a] = ini_pos[src, a]
        for b in range(3):
            ini_cov[dst, a, b] = ini_cov[src, a, b]


@numba.njit(cache=True)
def two_point_initiate(t: float, pos: np.ndarray, cov: np.ndarray, bit: np.int64, index: np.ndarray, label: np.ndarray,
                       max_speed: float, max_age: float, n_ini: int, ini_t: np.ndarray, ini_pos: np.ndarray,
                       ini_cov: np.ndarray, ini_bit: np.ndarray, ini_index: np.ndarray, ini_label: np.ndarray,
                       prior_mean: np.ndarray, prior_var: np.ndarray):
    """Two-point track initiation (Blackman & Popoli 1999, ch. 9; Bar-Shalom, Willett &
    Tian 2011, two-point differencing with a velocity gate), in place on the initiator
    store: the first ``n_ini`` rows of ``ini_*`` (time s, ECEF position m (3,) and its
    covariance (3, 3), sensor bit, input index, label), of capacity >= n_ini + M.

    The scan's unclaimed measurements at time t (ECEF positions ``pos`` (M, 3),
    covariances ``cov`` (M, 3, 3), the sensor's bit, input indices and labels (M,))
    are tested against the initiators no older than ``max_age`` (s; older ones are
    dropped). Initiator a (at t_a, covariance R_a) and measurement b (R_b) are a
    feasible pair when dt = t - t_a > 0 and

        |p_b - p_a| <= max_speed dt + 3 sqrt(tr R_a + tr R_b)

    (the displacement of a target at most ``max_speed`` (m/s) fast plus three times the
    RMS norm of the two position errors: a conservative gate). Pairs are taken greedily
    by smallest apparent speed |p_b - p_a| / dt (ties: the lower initiator, then the
    lower measurement), each initiator and measurement at most once. A pair starts a
    track at t: position p_b with covariance R_b, velocity (p_b - p_a) / dt with
    covariance (R_a + R_b) / dt^2 and position-velocity covariance R_b / dt, the other
    components at the prior (``prior_mean``, ``prior_var``, as :func:`initial_states`).
    The paired initiators leave the store; the unpaired measurements join it (after the
    others, in order).

    Returns (initiators now, the paired measurements (K,) in increasing order, their
    initiators' time, sensor bit, input index and label (K,), the states (K, d) and
    covariances (K, d, d))."""
    M = pos.shape[0]
    d = prior_mean.shape[0]
    o_q, o_t, o_bit, o_index, o_label = (np.empty(M, np.int64), np.empty(M), np.empty(M, np.int64),
                                         np.empty(M, np.int64), np.empty(M, np.int64))
    x = np.empty((M, d))
    P = np.empty((M, d, d))
    n, K = _two_point_into(t, pos, cov, M, np.arange(M), bit, index, label, max_speed, max_age, n_ini, ini_t, ini_pos,
                           ini_cov, ini_bit, ini_index, ini_label, prior_mean, prior_var, _two_point_scratch(n_ini, M),
                           o_q, o_t, o_bit, o_index, o_label, x, P)
    return n, o_q[:K], o_t[:K], o_bit[:K], o_index[:K], o_label[:K], x[:K], P[:K]


@numba.njit(cache=True)
def _two_point_scratch(n_ini: int, M: int):
    """Scratch arrays of :func:`_two_point_into` for ``n_ini`` initiators and M
    measurements: each measurement's initiator and each initiator's pairing, the
    feasible pairs (initiator, measurement, apparent speed) and their sort order."""
    pairs = n_ini * M
    return (np.empty(M, np.int64), np.empty(n_ini, np.bool_), np.empty(pairs, np.int64), np.empty(pairs, np.int64),
            np.empty(pairs), np.empty(pairs, np.int64), np.empty(pairs, np.int64))


@numba.njit(cache=True, _nrt=False)
def _stable_argsort(keys: np.ndarray, count: int, order: np.ndarray, tmp: np.ndarray) -> None:
    """order[:count] = np.argsort(keys[:count], kind="mergesort"): a stable (bottom-up
    merge) sort, NaN last as numpy's; ``tmp`` (count,) scratch."""
    for p in range(count):
        order[p] = p
    src, dst = order, tmp
    in_order = True
    width = 1
    while width < count:
        for lo in range(0, count, 2 * width):
            mid = min(lo + width, count)
            hi = min(lo + 2 * width, count)
            a, b = lo, mid
            for o in range(lo, hi):
                if a < mid and b < hi:
                    ka, kb = keys[src[a]], keys[src[b]]
                    take_b = kb < ka or (ka != ka and kb == kb)  # b strictly first: equal keys keep order
                else:
                    take_b = a >= mid
                if take_b:
                    dst[o] = src[b]
                    b += 1
                else:
                    dst[o] = src[a]
                    a += 1
        src, dst = dst, src
        in_order = not in_order
        width *= 2
    if not in_order:
        for p in range(count):
            order[p] = src[p]


@numba.njit(cache=True, _nrt=False)
def _two_point_into(t: float, pos: np.ndarray, cov: np.ndarray, M: int, rows: np.ndarray, bit: np.int64,
                    index: np.ndarray, label: np.ndarray, max_speed: float, max_age: float, n_ini: int,
                    ini_t: np.ndarray, ini_pos: np.ndarray, ini_cov: np.ndarray, ini_bit: np.ndarray,
                    ini_index: np.ndarray, ini_label: np.ndarray, prior_mean: np.ndarray, prior_var: np.ndarray, ws,
                    o_q: np.ndarray, o_t: np.ndarray, o_bit: np.ndarray, o_index: np.ndarray, o_label: np.ndarray,
                    x: np.ndarray, P: np.ndarray) -> tuple[int, int]:
    """:func:`two_point_initiate` of the first M rows of pos, cov (measurement q's input
    index and label ``index[rows[q]]``, ``label[rows[q]]``), its outputs written into
    the first K rows of o_* and x, P; ``ws`` from :func:`_two_point_scratch` (for at
    least n_ini initiators and M measurements). Returns (initiators now, K)."""
    partner, paired, pair_i, pair_q, speed, order, tmp = ws
    d = prior_mean.shape[0]
    # drop the initiators too old to pair
    n = 0
    for i in range(n_ini):
        if t - ini_t[i] > max_age:
            continue
        if n != i:
            _move_initiator(i, n, ini_t, ini_pos, ini_cov, ini_bit, ini_index, ini_label)
        n += 1
    for q in range(M):
        partner[q] = -1
    for i in range(n):
        paired[i] = False
    if n and M:
        # the feasible pairs (initiator major, measurement minor) and their apparent speeds
        npairs = 0
        for i in range(n):
            dt = t - ini_t[i]
            if not dt > 0.0:
                continue
            tr_a = ini_cov[i, 0, 0] + ini_cov[i, 1, 1] + ini_cov[i, 2, 2]
            for q in range(M):
                dist = math.sqrt((pos[q, 0] - ini_pos[i, 0]) ** 2 + (pos[q, 1] - ini_pos[i, 1]) ** 2
                                 + (pos[q, 2] - ini_pos[i, 2]) ** 2)
                tr_b = cov[q, 0, 0] + cov[q, 1, 1] + cov[q, 2, 2]
                if dist <= max_speed * dt + 3.0 * math.sqrt(tr_a + tr_b):
                    pair_i[npairs], pair_q[npairs], speed[npairs] = i, q, dist / dt
                    npairs += 1
        _stable_argsort(speed, npairs, order, tmp)
        for r in range(npairs):
            p = order[r]
            i, q = pair_i[p], pair_q[p]
            if partner[q] < 0 and not paired[i]:
                partner[q] = i
                paired[i] = True
    k = 0
    for q in range(M):
        i = partner[q]
        if i < 0:
            continue
        dt = t - ini_t[i]
        o_q[k], o_t[k], o_bit[k], o_index[k], o_label[k] = q, ini_t[i], ini_bit[i], ini_index[i], ini_label[i]
        for a in range(d):
            x[k, a] = prior_mean[a]
            for b in range(d):
                P[k, a, b] = 0.0
            P[k, a, a] = prior_var[a]
        for a in range(3):
            x[k, a] = pos[q, a]
            x[k, 3 + a] = (pos[q, a] - ini_pos[i, a]) / dt
            for b in range(3):
                P[k, a, b] = cov[q, a, b]
                P[k, a, 3 + b] = cov[q, a, b] / dt
                P[k, 3 + a, b] = cov[q, a, b] / dt
                P[k, 3 + a, 3 + b] = (ini_cov[i, a, b] + cov[q, a, b]) / (dt * dt)
        k += 1
    # the store: the unpaired initiators, then the unpaired measurements
    j = 0
    for i in range(n):
        if paired[i]:
            continue
        if j != i:
            _move_initiator(i, j, ini_t, ini_pos, ini_cov, ini_bit, ini_index, ini_label)
        j += 1
    for q in range(M):
        if partner[q] >= 0:
            continue
        ini_t[j], ini_bit[j], ini_index[j], ini_label[j] = t, bit, index[rows[q]], label[rows[q]]
        for a in range(3):
            ini_pos[j, a] = pos[q, a]
            for b in range(3):
                ini_cov[j, a, b] = cov[q, a, b]
        j += 1
    return j, k


@numba.njit(cache=True)
def radar_jacobian(x: np.ndarray, n: int, site: np.ndarray, rot: np.ndarray, rr: bool) -> np.ndarray:
    """Jacobians H (N, m, n) of states x (N, >=6)."""
    N = x.shape[0]
    H = np.empty((N, 4 if rr else 3, n))
    for i in range(N):
        _radar_jac(x[i], site, rot, rr, H[i])
    return H


# --------------------------------------------------------------------------- tracker: in-place updates


@numba.njit(cache=True)
def update_rows(rows: np.ndarray, iterations: np.ndarray, meas_idx: np.ndarray, z: np.ndarray, sigma: np.ndarray,
                mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray, x: np.ndarray, P: np.ndarray, imm: bool,
                site: np.ndarray, rot: np.ndarray) -> None:
    """The (iterated) EKF update of tracks ``rows`` with measurements ``meas_idx`` (rows of
    z (M, 3), diagonal noise sigma (M, 3)), ``iterations`` each, in place: an IMM's
    models, probabilities and combined x, P (imm_update), or a single model's x, P
    (ekf_update)."""
    ws = _update_scratch(xm.shape[0], xm.shape[2])
    for r in range(rows.shape[0]):
        _update_row(rows[r], iterations[r], meas_idx[r], z, sigma, mu, xm, Pm, x, P, imm, site, rot, ws)


@numba.njit(cache=True)
def _update_scratch(M: int, n: int):
    """Scratch arrays of :func:`_update_row` (M models in a space of dimension n)."""
    m = 3
    return (np.empty(m), np.empty((m, m)), np.empty(m), np.empty(n), np.empty(m), np.empty((m, n)), np.empty((m, n)),
            np.empty((m, m)), np.empty((m, m)), np.empty(m, np.int64), np.empty((n, m)), np.empty((n, m)), np.empty(m),
            np.empty(m), np.empty((n, m)), np.empty((n, n)), np.empty((n, n)), np.zeros((m, m)), np.empty((M, n)),
            np.empty((M, n, n)), np.empty(M), np.empty(n))


@numba.njit(cache=True, _nrt=False)
def _update_row(i: int, iterations: int, j_meas: int, z: np.ndarray, sigma: np.ndarray, mu: np.ndarray, xm: np.ndarray,
                Pm: np.ndarray, x: np.ndarray, P: np.ndarray, imm: bool, site: np.ndarray, rot: np.ndarray, ws) -> None:
    """:func:`update_rows` of track i with measurement ``j_meas``; ``ws`` from
    :func:`_update_scratch`."""
    nu0, S0, zp0, xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A, R, xo, Po, logw, dv = ws
    M, _, n = xm.shape
    m = 3
    for a in range(m):
        R[a, a] = sigma[j_meas, a] ** 2
    zr = z[j_meas]
    if not imm:
        _ekf_update_one(x[i], P[i], zr, R, site, rot, False, iterations, xo[0], Po[0], nu0, S0, zp0,
                        xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A)
        for a in range(n):
            x[i, a] = xo[0, a]
            for b in range(n):
                P[i, a, b] = Po[0, a, b]
        return
    for j in range(M):
        ll = _ekf_update_one(xm[j, i], Pm[j, i], zr, R, site, rot, False, iterations, xo[j], Po[j], nu0, S0, zp0,
                             xi, zp, H, HP, S, LU, piv, PHt, K, nu, v, tmp, IKH, A)
        logw[j] = (np.log(mu[i, j]) if mu[i, j] > 0.0 else -np.inf) + ll
    _posterior_modes(logw, mu[i], mu[i])
    for j in range(M):
        for a in range(n):
            xm[j, i, a] = xo[j, a]
            for b in range(n):
                Pm[j, i, a, b] = Po[j, a, b]
    _combine_one(i, mu, xm, Pm, x, P, IKH, A, dv)


# --------------------------------------------------------------------------- tracker: end of a scan


@numba.njit(cache=True)
def end_scan(t: float, sensor_bit: np.int64, assigned: np.ndarray, pair_d2: np.ndarray, pair_logdet: np.ndarray,
             zp: np.ndarray, cover: np.ndarray, hit_gain: float, miss_gain: float, confirm_m: int, confirm_n: int,
             delete_misses: int, max_coast_s: float, max_position_sigma_m: float, min_altitude_m: float,
             earth: np.ndarray,
             ids: np.ndarray, tt: np.ndarray, x: np.ndarray, P: np.ndarray, mu: np.ndarray, xm: np.ndarray,
             Pm: np.ndarray, confirmed: np.ndarray, history: np.ndarray, opportunities: np.ndarray, misses: np.ndarray,
             last_update: np.ndarray, updates: np.ndarray, sensors: np.ndarray, score: np.ndarray,
             z: np.ndarray, sigma: np.ndarray, free: np.ndarray, site: np.ndarray, rot: np.ndarray,
             prior_mean: np.ndarray, prior_var: np.ndarray, speed_var: float, vertical_speed_var: float,
             mu0: np.ndarray, next_id: int, confirm_new: bool):
    """The end of a scan: :func:`bookkeeping` (in place), then the surviving tracks and
    the new ones started from the measurements ``free`` (:func:`initial_states`; ids
    from ``next_id``, model probabilities ``mu0``) as new arrays.

    Returns newly confirmed (N,), deletion reasons (N,) and the 15 track arrays (ids, t,
    x, P, mu, xm, Pm, confirmed, history, opportunities, misses, last_update, updates,
    sensors, score)."""
    N = ids.shape[0]
    newly, reason = bookkeeping(t, sensor_bit, assigned, pair_d2, pair_logdet, zp, True, cover, hit_gain, miss_gain,
                                confirm_m, confirm_n, delete_misses, max_coast_s, max_position_sigma_m, min_altitude_m,
                                earth, x, P, score, sensors, history, opportunities, misses, last_update, updates, confirmed)
    nk = 0
    for i in range(N):
        if reason[i] == 0:
            nk += 1
    m = free.shape[0]
    zf = np.empty((m, 3))
    sf = np.empty((m, 3))
    for k in range(m):
        for a in range(3):
            zf[k, a] = z[free[k], a]
            sf[k, a] = sigma[free[k], a]
    xn, Pn = initial_states(zf, sf, site, rot, prior_mean, prior_var, speed_var, vertical_speed_var)
    M = mu.shape[1]
    d = x.shape[1]
    total = nk + m
    o_id = np.empty(total, np.int64)
    o_t = np.empty(total)
    o_x = np.empty((total, d))
    o_P = np.empty((total, d, d))
    o_mu = np.empty((total, M))
    o_xm = np.empty((M, total, d))
    o_Pm = np.empty((M, total, d, d))
    o_conf = np.empty(total, np.bool_)
    o_hist = np.empty(total, np.int64)
    o_opp = np.empty(total, np.int64)
    o_miss = np.empty(total, np.int64)
    o_last = np.empty(total)
    o_upd = np.empty(total, np.int64)
    o_sens = np.empty(total, np.int64)
    o_score = np.empty(total)
    k = 0
    for i in range(N):
        if reason[i] != 0:
            continue
        o_id[k], o_t[k], o_conf[k] = ids[i], tt[i], confirmed[i]
        o_hist[k], o_opp[k], o_miss[k] = history[i], opportunities[i], misses[i]
        o_last[k], o_upd[k], o_sens[k], o_score[k] = last_update[i], updates[i], sensors[i], score[i]
        o_x[k] = x[i]
        o_P[k] = P[i]
        o_mu[k] = mu[i]
        for j in range(M):
            o_xm[j, k] = xm[j, i]
            o_Pm[j, k] = Pm[j, i]
        k += 1
    for q in range(m):
        _new_track(k, next_id + q, t, confirm_new, 1, 1, sensor_bit, xn[q], Pn[q], mu0, o_id, o_t, o_conf, o_hist, o_opp,
                   o_miss, o_last, o_upd, o_sens, o_score, o_x, o_P, o_mu, o_xm, o_Pm)
        k += 1
    return (newly, reason, o_id, o_t, o_x, o_P, o_mu, o_xm, o_Pm, o_conf, o_hist, o_opp, o_miss, o_last, o_upd, o_sens,
            o_score)


@numba.njit(cache=True, inline="always")
def _new_track(k: int, track_id: int, t: float, confirm: bool, history_bits: int, hits: int, sensor_bits: np.int64,
               x0: np.ndarray, P0: np.ndarray, mu0: np.ndarray, ids: np.ndarray, tt: np.ndarray, confirmed: np.ndarray,
               history: np.ndarray, opportunities: np.ndarray, misses: np.ndarray, last_update: np.ndarray,
               updates: np.ndarray, sensors: np.ndarray, score: np.ndarray, x: np.ndarray, P: np.ndarray,
               mu: np.ndarray, xm: np.ndarray, Pm: np.ndarray) -> None:
    """Write a new track in row k: born at t with ``hits`` updates (as many opportunities,
    no misses, score 0), hit history ``history_bits``, state x0 and covariance P0 for the
    combined estimate and every model, model probabilities mu0."""
    ids[k], tt[k], confirmed[k] = track_id, t, confirm
    history[k], opportunities[k], misses[k] = history_bits, hits, 0
    last_update[k], updates[k], sensors[k], score[k] = t, hits, sensor_bits, 0.0
    x[k] = x0
    P[k] = P0
    mu[k] = mu0
    for j in range(xm.shape[0]):
        xm[j, k] = x0
        Pm[j, k] = P0


@numba.njit(cache=True)
def assigned_pairs(track: np.ndarray, meas: np.ndarray, d2: np.ndarray, logdet: np.ndarray, assigned: np.ndarray):
    """d^2 and ln|S| (N,) of each track's assigned gated pair (zeros where none)."""
    N = assigned.shape[0]
    out_d2 = np.zeros(N)
    out_ld = np.zeros(N)
    _assigned_pairs_into(track.shape[0], track, meas, d2, logdet, assigned, out_d2, out_ld)
    return out_d2, out_ld


@numba.njit(cache=True, _nrt=False)
def _assigned_pairs_into(count: int, track: np.ndarray, meas: np.ndarray, d2: np.ndarray, logdet: np.ndarray,
                         assigned: np.ndarray, out_d2: np.ndarray, out_ld: np.ndarray) -> None:
    """:func:`assigned_pairs` of the first ``count`` pairs into out_d2, out_ld (zeroed by
    the caller)."""
    for p in range(count):
        i = track[p]
        if assigned[i] >= 0 and assigned[i] == meas[p]:
            out_d2[i] = d2[p]
            out_ld[i] = logdet[p]


# --------------------------------------------------------------------------- tracker: small assignment problems

GNN_ENUMERATION_LIMIT = 4096
"""Most joint assignments of one cluster of gated pairs that :func:`gnn_small` enumerates
(a bigger cluster goes to the general solver)."""
GNN_TIE_MARGIN = 1e-9
"""Relative margin by which a cluster's cheapest joint assignment must beat the next one
for :func:`gnn_small` to take it: a closer pair of totals goes to the general solver,
whose choice between them rests on its own rounding."""


@numba.njit(cache=True)
def _root(parent: np.ndarray, a: int) -> int:
    """The root of ``a`` in a union-find forest (path halving)."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@numba.njit(cache=True)
def gnn_small(n: int, n_meas: int, g_t: np.ndarray, g_m: np.ndarray, g_d2: np.ndarray, g_ld: np.ndarray,
              miss: np.ndarray, assigned: np.ndarray) -> bool:
    """Global nearest neighbour (association.gnn) by enumeration: the gated pairs (track
    g_t, measurement g_m, cost d^2 + ln|S|) fall into clusters that share no track and
    no measurement; in each, every joint assignment (each track one of its measurements,
    none taken twice, or none at the cost ``miss[i]``) is tried and the cheapest taken.
    Writes ``assigned`` (N,) (-1: none); returns False, having written nothing decisive,
    when a cluster has more than GNN_ENUMERATION_LIMIT joint assignments or its two
    cheapest are within GNN_TIE_MARGIN."""
    K = g_t.shape[0]
    parent = np.arange(n + n_meas)
    for p in range(K):
        a, b = _root(parent, g_t[p]), _root(parent, n + g_m[p])
        if a != b:
            parent[max(a, b)] = min(a, b)
    root = np.empty(K, np.int64)
    for p in range(K):
        root[p] = _root(parent, g_t[p])
    done = np.zeros(n + n_meas, np.bool_)
    tracks = np.empty(n, np.int64)
    first = np.empty(n, np.int64)  # per cluster track: its pairs, consecutive in ``pairs``
    degree = np.empty(n, np.int64)
    pairs = np.empty(K, np.int64)
    choice = np.empty(n, np.int64)
    best_choice = np.empty(n, np.int64)
    taken = np.zeros(n_meas, np.bool_)
    for p0 in range(K):
        r = root[p0]
        if done[r]:
            continue
        done[r] = True
        # the cluster's tracks in ascending order, each with its pairs in gate order
        nt = 0
        for i in range(n):
            if _root(parent, i) == r:
                tracks[nt] = i
                nt += 1
        combos = 1
        q = 0
        for c in range(nt):
            first[c] = q
            for p in range(K):
                if g_t[p] == tracks[c]:
                    pairs[q] = p
                    q += 1
            degree[c] = q - first[c]
            combos *= degree[c] + 1
            if combos > GNN_ENUMERATION_LIMIT:
                return False
        # every joint assignment: choice[c] = 0 none, else the (choice[c] - 1)-th pair
        best = second = np.inf
        choice[:nt] = 0
        for _ in range(combos):
            total = 0.0
            ok = True
            for c in range(nt):
                if choice[c] == 0:
                    total += miss[tracks[c]]
                else:
                    p = pairs[first[c] + choice[c] - 1]
                    if taken[g_m[p]]:
                        ok = False
                    taken[g_m[p]] = True
                    total += g_d2[p] + g_ld[p]
            for c in range(nt):
                if choice[c] > 0:
                    taken[g_m[pairs[first[c] + choice[c] - 1]]] = False
            if ok:
                if total < best:
                    second = best
                    best = total
                    best_choice[:nt] = choice[:nt]
                elif total < second:
                    second = total
            c = 0  # next joint assignment (odometer)
            while c < nt:
                choice[c] += 1
                if choice[c] <= degree[c]:
                    break
                choice[c] = 0
                c += 1
        if not second - best > GNN_TIE_MARGIN * max(1.0, abs(best)):
            return False
        for c in range(nt):
            assigned[tracks[c]] = -1 if best_choice[c] == 0 else g_m[pairs[first[c] + best_choice[c] - 1]]
    return True


# --------------------------------------------------------------------------- tracker: one whole scan

SCAN_DONE, SCAN_SLOW, SCAN_CONFLICT, SCAN_GROW = 0, 1, 2, 3
"""What :func:`process_scans` did with a scan: processed it; nothing because gating needs
the k-d tree, because a measurement or a track is in more than one gated pair (the
assignment problem needs the general solver) or because the buffers are too small."""

(CFG_GATE, CFG_MAX_COAST, CFG_MAX_SIGMA, CFG_MIN_ALT, CFG_SPEED_VAR, CFG_VSPEED_VAR, CFG_INIT_MAX_SPEED,
 CFG_INIT_MAX_AGE) = range(8)
"""Positions of the tracker's float settings in :func:`process_scans`' ``cfg_f``."""
CFG_DENSE, CFG_CONFIRM_M, CFG_CONFIRM_N, CFG_DELETE, CFG_IEKF, CFG_IMM, CFG_CONFIRM_NEW, CFG_TWO_POINT = range(8)
"""Positions of its integer settings in ``cfg_i``."""


@numba.njit(cache=True, inline="always")
def _move_track(src: int, dst: int, ids: np.ndarray, tt: np.ndarray, confirmed: np.ndarray, history: np.ndarray,
                opportunities: np.ndarray, misses: np.ndarray, last_update: np.ndarray, updates: np.ndarray,
                sensors: np.ndarray, score: np.ndarray, x: np.ndarray, P: np.ndarray, mu: np.ndarray, xm: np.ndarray,
                Pm: np.ndarray) -> None:
    """Copy track ``src`` of the capacity buffers to row ``dst`` (every field, every
    model's state): the compaction after deletions."""
    ids[dst], tt[dst], confirmed[dst] = ids[src], tt[src], confirmed[src]
    history[dst], opportunities[dst], misses[dst] = history[src], opportunities[src], misses[src]
    last_update[dst], updates[dst], sensors[dst], score[dst] = last_update[src], updates[src], sensors[src], score[src]
    x[dst] = x[src]
    P[dst] = P[src]
    mu[dst] = mu[src]
    for j in range(xm.shape[0]):
        xm[j, dst] = xm[j, src]
        Pm[j, dst] = Pm[j, src]


@numba.njit(cache=True)
def _take_measurements(rows: np.ndarray, z: np.ndarray, sigma: np.ndarray, label: np.ndarray, index: np.ndarray):
    """Copies of the measurements ``rows`` (m,): z, sigma (m, 3), label, input index (m,)."""
    m = rows.shape[0]
    z_out = np.empty((m, 3))
    sigma_out = np.empty((m, 3))
    label_out = np.empty(m, np.int64)
    index_out = np.empty(m, np.int64)
    for q in range(m):
        z_out[q] = z[rows[q]]
        sigma_out[q] = sigma[rows[q]]
        label_out[q] = label[rows[q]]
        index_out[q] = index[rows[q]]
    return z_out, sigma_out, label_out, index_out


# --------------------------------------------------------------------------- tracker: a run of scans

BATCH_DONE, BATCH_GROW, BATCH_GENERAL = 0, 1, 2
"""What :func:`process_scans` stopped at: every scan fed; a scan that needs larger
buffers (nothing of it done); a scan that needs the general path (its output rows
written, its time taken and its stale tracks dropped; for SCAN_CONFLICT its tracks
predicted: the rest is the caller's)."""

ST_NEXT_ID, ST_N, ST_LOG, ST_EVENTS, ST_ROWS, ST_REJECTED, ST_INI = range(7)
"""Positions of the tracker's counters in :func:`process_scans`' ``state_i``."""
ST_LAST_TIME, ST_PENDING = range(2)
"""Positions of its times in ``state_f``: the last scan's, and that of the output rows
not yet written (NaN: none)."""

EVENT_CONFIRMED = 0
"""Event code of a confirmation in :func:`process_scans`' ``ev_code`` (else the deletion
reason of :func:`bookkeeping`)."""


@numba.njit(cache=True, _nrt=False)
def write_rows(t: float, n: int, drag: int, ids: np.ndarray, x: np.ndarray, P: np.ndarray, confirmed: np.ndarray,
               last_update: np.ndarray, score: np.ndarray, at: int, rows_t: np.ndarray, rows_id: np.ndarray,
               rows_x: np.ndarray, rows_P: np.ndarray, rows_u: np.ndarray, rows_q: np.ndarray, rows_b: np.ndarray,
               rows_bP: np.ndarray) -> int:
    """The output rows at time t (Tracker._flush_output) of the confirmed ones among the
    first n tracks, written from row ``at`` on: id, ECEF position and velocity and their
    covariance, whether updated at t, score, the drag state (component ``drag`` of the
    state; NaN when negative) and its covariance row over (pos, vel, drag). Returns the
    rows written."""
    k = at
    for i in range(n):
        if not confirmed[i]:
            continue
        rows_t[k] = t
        rows_id[k] = ids[i]
        for a in range(6):
            rows_x[k, a] = x[i, a]
            for b in range(6):
                rows_P[k, a, b] = P[i, a, b]
        rows_u[k] = abs(last_update[i] - t) < 1e-9
        rows_q[k] = score[i]
        if drag >= 0:
            rows_b[k] = x[i, drag]
            for a in range(6):
                rows_bP[k, a] = P[i, drag, a]
            rows_bP[k, 6] = P[i, drag, drag]
        else:
            rows_b[k] = np.nan
            rows_bP[k, :] = np.nan
        k += 1
    return k - at


@numba.njit(cache=True)
def confirmed_tracks(n: int, drag: int, ids: np.ndarray, tt: np.ndarray, x: np.ndarray, P: np.ndarray,
                     confirmed: np.ndarray, last_update: np.ndarray, score: np.ndarray):
    """The confirmed ones among the first n tracks (Tracker.confirmed): ids, the time of
    their state, ECEF position and velocity (R, 6) and covariance (R, 6, 6), the drag
    state (component ``drag``; NaN when negative) and its covariance row (R, 7), last
    update times, scores."""
    R = 0
    for i in range(n):
        if confirmed[i]:
            R += 1
    o_id = np.empty(R, np.int64)
    o_t = np.empty(R)
    o_last = np.empty(R)
    o_x = np.empty((R, 6))
    o_P = np.empty((R, 6, 6))
    o_u = np.empty(R, np.bool_)
    o_q = np.empty(R)
    o_b = np.empty(R)
    o_bP = np.empty((R, 7))
    write_rows(0.0, n, drag, ids, x, P, confirmed, last_update, score, 0, o_t, o_id, o_x, o_P, o_u, o_q, o_b, o_bP)
    k = 0
    for i in range(n):
        if confirmed[i]:
            o_t[k] = tt[i]
            o_last[k] = last_update[i]
            k += 1
    return o_id, o_t, o_x, o_P, o_b, o_bP, o_last, o_q


@numba.njit(cache=True)
def _any_confirmed(n: int, confirmed: np.ndarray) -> bool:
    for i in range(n):
        if confirmed[i]:
            return True
    return False


@numba.njit(cache=True)
def _track_buffers(C: int, d: int):
    """Per-track scratch of :func:`process_scans` for C tracks of dimension d: assigned
    measurement, its pair's d^2 and ln|S|, predicted measurement (C, 3) and H P H^T (C,
    3, 3), dt, seen, newly confirmed, deletion reason, the miss cost's ln|S|; the radar
    prediction's H, HP (3, d) and S (3, 3)."""
    return (np.empty(C, np.int64), np.empty(C), np.empty(C), np.empty((C, 3)), np.empty((C, 3, 3)), np.empty(C),
            np.empty(C, np.bool_), np.empty(C, np.bool_), np.empty(C, np.int64), np.empty(C), np.empty((3, d)),
            np.empty((3, d)), np.empty((3, 3)))


@numba.njit(cache=True)
def _pair_buffers(C: int, M: int):
    """The gated pairs (track, measurement, d^2, ln|S|) of :func:`process_scans` for C
    tracks and scans of up to M measurements, and the gating's scratch."""
    return (np.empty(C * M, np.int64), np.empty(C * M, np.int64), np.empty(C * M), np.empty(C * M),
            _gate_scratch(C, M))


@numba.njit(cache=True)
def _measurement_buffers(M: int):
    """Per-measurement scratch of :func:`process_scans` for scans of up to M: the kept
    measurements' rows, used, the unclaimed ones' rows, seen."""
    return np.empty(M, np.int64), np.empty(M, np.bool_), np.empty(M, np.int64), np.empty(M, np.bool_)


@numba.njit(cache=True)
def _initiation_buffers(n_ini: int, M: int, d: int):
    """Buffers of :func:`process_scans`' two-point initiation for n_ini initiators and M
    measurements (states of dimension d): ECEF positions (M, 3) and covariances (M, 3,
    3) with their scratch (3, 3) twice; the outputs of :func:`_two_point_into`; its
    scratch."""
    return ((np.empty((M, 3)), np.empty((M, 3, 3)), np.empty((3, 3)), np.empty((3, 3))),
            (np.empty(M, np.int64), np.empty(M), np.empty(M, np.int64), np.empty(M, np.int64), np.empty(M, np.int64),
             np.empty((M, d)), np.empty((M, d, d))),
            _two_point_scratch(n_ini, M))


@numba.njit(cache=True)
def process_scans(first: int, until: float, scan_t: np.ndarray, scan_sensor: np.ndarray, scan_start: np.ndarray,
                  z_all: np.ndarray, sigma_all: np.ndarray, label_all: np.ndarray, index_all: np.ndarray,
                  drop_after_s: np.ndarray, bits: np.ndarray, sites: np.ndarray, rots: np.ndarray, covers: np.ndarray,
                  gains: np.ndarray, cfg_f: np.ndarray, cfg_i: np.ndarray, earth: np.ndarray, w: np.ndarray,
                  V: np.ndarray, Vinv: np.ndarray, kinds: np.ndarray, qa: np.ndarray, qb: np.ndarray,
                  max_step: np.ndarray, mearth: np.ndarray, locs: np.ndarray, nloc: np.ndarray, others: np.ndarray,
                  nother: np.ndarray, means: np.ndarray, variances: np.ndarray, prior_mean: np.ndarray,
                  prior_var: np.ndarray, mu0: np.ndarray, drag: int, state_i: np.ndarray, state_f: np.ndarray,
                  ids: np.ndarray, tt: np.ndarray, x: np.ndarray, P: np.ndarray, mu: np.ndarray, xm: np.ndarray,
                  Pm: np.ndarray, confirmed: np.ndarray, history: np.ndarray, opportunities: np.ndarray,
                  misses: np.ndarray, last_update: np.ndarray, updates: np.ndarray, sensors: np.ndarray,
                  score: np.ndarray, ini_t: np.ndarray, ini_pos: np.ndarray, ini_cov: np.ndarray,
                  ini_bit: np.ndarray, ini_index: np.ndarray, ini_label: np.ndarray, log_t: np.ndarray,
                  log_id: np.ndarray, log_index: np.ndarray,
                  log_label: np.ndarray, ev_t: np.ndarray, ev_id: np.ndarray, ev_code: np.ndarray,
                  rows_t: np.ndarray, rows_id: np.ndarray, rows_x: np.ndarray, rows_P: np.ndarray,
                  rows_u: np.ndarray, rows_q: np.ndarray, rows_b: np.ndarray, rows_bP: np.ndarray,
                  stop_confirmed: bool, solve_conflicts: bool, rows_at_end: bool):
    """Tracker.add_scan of the scans from ``first`` on up to time ``until``, then, with
    ``rows_at_end``, the output rows of the last time (Tracker.advance); with
    ``stop_confirmed``, the run ends after the first scan that leaves a confirmed track
    and the other scans of its time. One call for every scan: a call per scan would
    cost a reference count per array argument, about 1 us per scan.

    Each scan (Tracker._process with GNN association), in place on the first ``n`` rows
    of the track buffers of capacity C (the arrays of :func:`end_scan`): the tracks that
    would coast too long deleted, then prediction (:func:`imm_transition`,
    :func:`predict_fused`), gating (:func:`radar_predict`, :func:`gate_pairs`, every
    pair), the assignment when the gated pairs are disjoint (each pair taken when
    cheaper than its track's miss: the exact GNN solution then), or else, when
    ``solve_conflicts``, by :func:`gnn_small`; the updates (:func:`update_rows`), the
    bookkeeping (:func:`bookkeeping`), then the surviving tracks moved up and the new
    ones from the unclaimed measurements appended (:func:`initial_states`), or, with
    two-point initiation (``cfg_i[CFG_TWO_POINT]``), paired with the initiators
    (:func:`two_point_initiate`, the measurements' input indices and labels stored with
    them) -- the same operations as those kernels, so the same values.

    Scan k (in time order) of sensor ``scan_sensor[k]`` at ``scan_t[k]`` holds the
    measurements ``scan_start[k]:scan_start[k + 1]`` of z_all, sigma_all (M, 3), with
    labels and input indices (M,) for the association log; a measurement whose label
    l >= 0 has ``drop_after_s[l]`` < the scan's time is left out, and a scan left with
    none is skipped. Per sensor: its bit, site, rotation, coverage and score gains
    (hit, miss); the fixed settings (Tracker._fixed_args); ``drag`` the drag state's
    component (-1: none).

    The tracks are the first ``state_i[ST_N]`` rows of the buffers, the initiators of
    two-point initiation the first ``state_i[ST_INI]`` rows of ``ini_*``; the counters and
    times in ``state_i``/``state_f`` (ST_*) are updated; the association log (time,
    track id, input index, label), the events (time, track id, EVENT_CONFIRMED or the
    deletion reason; coasting deletions before a scan included) and the output rows
    (:func:`write_rows`) are appended at their counters (a two-point track's initiator
    logged before its second measurement). A scan that does not fit the
    buffers (tracks, log, events, rows) stops the run with BATCH_GROW (nothing of
    it done), one that needs the general path with BATCH_GENERAL (its output rows
    written, its time taken and its stale tracks dropped; for SCAN_CONFLICT its tracks
    predicted: the rest is the caller's). Returns (status, the scan it stopped at or the
    first scan after ``until``, the scan's status there)."""
    K = scan_t.shape[0]
    C = ids.shape[0]
    max_coast_s = cfg_f[CFG_MAX_COAST]
    confirm_new = cfg_i[CFG_CONFIRM_NEW] != 0
    two_point = cfg_i[CFG_TWO_POINT] != 0
    n_labels = drop_after_s.shape[0]
    predict_ws = _predict_scratch(mu.shape[1], x.shape[1], locs.shape[1])
    update_ws = _update_scratch(mu.shape[1], x.shape[1])
    (tp_pos, tp_cov, tp_J, tp_Je), (o_q, o_t, o_bit, o_index, o_label, xn, Pn), tp_ws = _initiation_buffers(
        16 if two_point else 0, 16 if two_point else 0, x.shape[1])
    # per track (C rows) and per measurement of a scan (grown with the scans): scratch
    assigned, pair_d2, pair_ld, zp, HPH, dt, seen_t, newly, reason, logdet, H, HP, S = _track_buffers(C, x.shape[1])
    g_t, g_m, g_d2, g_ld, gate_ws = _pair_buffers(C, 0)
    keep, used, free, seen_m = _measurement_buffers(16)
    k = first
    while k < K and scan_t[k] <= until:
        t = scan_t[k]
        s = scan_sensor[k]
        a, b = scan_start[k], scan_start[k + 1]
        # the measurements left (those of objects still there)
        if b - a > keep.shape[0]:
            keep, used, free, seen_m = _measurement_buffers(2 * (b - a))
        m = 0
        for q in range(a, b):
            lab = label_all[q]
            if lab >= 0 and lab < n_labels and drop_after_s[lab] < t:
                continue
            keep[m] = q
            m += 1
        if m == 0 and b > a:
            k += 1
            continue
        if t < state_f[ST_LAST_TIME] - 1e-9:  # older than the last scan: rejected
            state_i[ST_REJECTED] += 1
            k += 1
            continue
        n = state_i[ST_N]
        if (n + m > C or state_i[ST_LOG] + n + 2 * m > log_t.shape[0]
                or state_i[ST_EVENTS] + 3 * n + m > ev_t.shape[0] or state_i[ST_ROWS] + n > rows_t.shape[0]
                or (two_point and state_i[ST_INI] + m > ini_t.shape[0])):
            return BATCH_GROW, k, SCAN_GROW
        pending = state_f[ST_PENDING]
        if not math.isnan(pending) and t > pending + 1e-9:
            state_i[ST_ROWS] += write_rows(pending, n, drag, ids, x, P, confirmed, last_update, score, state_i[ST_ROWS],
                                           rows_t, rows_id, rows_x, rows_P, rows_u, rows_q, rows_b, rows_bP)
            state_f[ST_PENDING] = np.nan
        state_f[ST_LAST_TIME] = t
        if m == b - a:
            z = z_all[a:b]
            sigma = sigma_all[a:b]
            label = label_all[a:b]
            index = index_all[a:b]
        else:
            z, sigma, label, index = _take_measurements(keep[:m], z_all, sigma_all, label_all, index_all)
        # tracks that would coast too long are deleted first (Tracker._drop_stale)
        stale = False
        for i in range(n):
            if (t - last_update[i]) > max_coast_s:
                stale = True
        if stale:
            j = 0
            for i in range(n):
                if (t - last_update[i]) > max_coast_s:
                    if confirmed[i]:
                        e = state_i[ST_EVENTS]
                        ev_t[e], ev_id[e], ev_code[e] = last_update[i] + max_coast_s, ids[i], 3
                        state_i[ST_EVENTS] = e + 1
                    continue
                if j != i:
                    _move_track(i, j, ids, tt, confirmed, history, opportunities, misses, last_update, updates, sensors,
                                score, x, P, mu, xm, Pm)
                j += 1
            n = j
            state_i[ST_N] = n
        next_id = state_i[ST_NEXT_ID]
        # the scan (the operations of Tracker._process): prediction, gating, assignment,
        # updates, bookkeeping, then the surviving tracks moved up and the new ones added
        sensor_bit, site, rot, cover, hit_gain, miss_gain = bits[s], sites[s], rots[s], covers[s], gains[s, 0], gains[s, 1]
        n_ini = state_i[ST_INI]
        n_meas = z.shape[0]
        if n * n_meas > cfg_i[CFG_DENSE]:
            return BATCH_GENERAL, k, SCAN_SLOW
        imm = cfg_i[CFG_IMM] != 0
        d = x.shape[1]
        gate = cfg_f[CFG_GATE]
        for i in range(n):
            assigned[i] = -1
            pair_d2[i] = 0.0
            pair_ld[i] = 0.0
        for q in range(n_meas):
            used[q] = False
        if n:
            # the prediction, in place
            for i in range(n):
                dt[i] = t - tt[i]
                tt[i] = t
            T = imm_transition(w, V, Vinv, dt[:n]) if imm else np.ones((n, 1, 1))
            _predict_tracks(n, dt, T, imm, mu, xm, Pm, x, P, kinds, qa, qb, max_step, mearth, locs, nloc, others, nother, means,
                            variances, predict_ws)
            # gating (every pair) and the assignment when the gated pairs are disjoint
            ng = 0
            if n_meas:
                _radar_predict_rows(n, x, P, site, rot, False, zp, HPH, H, HP, S)
                if n * n_meas > g_t.shape[0] or n_meas > gate_ws[2].shape[0]:
                    g_t, g_m, g_d2, g_ld, gate_ws = _pair_buffers(C, max(2 * n_meas, gate_ws[2].shape[0]))
                ng = _gate_pairs_into(n, zp, HPH, z, sigma, True, g_t, g_m, gate, gate_ws, g_t, g_m, g_d2, g_ld, logdet)
                for i in range(n):
                    seen_t[i] = False
                for q in range(n_meas):
                    seen_m[q] = False
                disjoint = True
                for p in range(ng):
                    disjoint = disjoint and not (seen_t[g_t[p]] or seen_m[g_m[p]])
                    seen_t[g_t[p]] = True
                    seen_m[g_m[p]] = True
                if disjoint:
                    for p in range(ng):
                        if g_d2[p] + g_ld[p] < gate + logdet[g_t[p]]:
                            assigned[g_t[p]] = g_m[p]
                elif not (solve_conflicts and gnn_small(n, n_meas, g_t[:ng], g_m[:ng], g_d2[:ng], g_ld[:ng],
                                                        gate + logdet[:n], assigned)):
                    return BATCH_GENERAL, k, SCAN_CONFLICT
            else:
                for i in range(n):
                    _radar_h(x[i], site, rot, False, zp[i])
            # the updates (young tracks iterated)
            for i in range(n):
                if assigned[i] >= 0:
                    used[assigned[i]] = True
                    _update_row(i, cfg_i[CFG_IEKF] if updates[i] < 3 else 1, assigned[i], z, sigma, mu, xm, Pm, x, P, imm,
                                site, rot, update_ws)
            _assigned_pairs_into(ng, g_t, g_m, g_d2, g_ld, assigned, pair_d2, pair_ld)
        # bookkeeping (none without tracks), logged as it goes: the hits in the association
        # log, confirmations then deletions of confirmed tracks in the events
        g = state_i[ST_LOG]
        e = state_i[ST_EVENTS]
        row = 0
        if n:
            _bookkeeping_rows(n, t, sensor_bit, assigned, pair_d2, pair_ld, zp, True, cover, hit_gain, miss_gain,
                              cfg_i[CFG_CONFIRM_M], cfg_i[CFG_CONFIRM_N], cfg_i[CFG_DELETE], max_coast_s,
                              cfg_f[CFG_MAX_SIGMA], cfg_f[CFG_MIN_ALT], earth, x, P, score, sensors, history, opportunities,
                              misses, last_update, updates, confirmed, newly, reason)
            for i in range(n):
                if assigned[i] >= 0:
                    q = keep[assigned[i]]
                    log_t[g], log_id[g], log_index[g], log_label[g] = t, ids[i], index_all[q], label_all[q]
                    g += 1
                if newly[i]:
                    ev_t[e], ev_id[e], ev_code[e] = t, ids[i], EVENT_CONFIRMED
                    e += 1
            for i in range(n):
                if reason[i] > 0 and confirmed[i]:
                    ev_t[e], ev_id[e], ev_code[e] = t, ids[i], reason[i]
                    e += 1
            # the survivors moved up, then the new tracks
            for i in range(n):
                if reason[i] != 0:
                    continue
                if row != i:
                    _move_track(i, row, ids, tt, confirmed, history, opportunities, misses, last_update, updates, sensors,
                                score, x, P, mu, xm, Pm)
                row += 1
        n_free = 0
        for q in range(n_meas):
            if not used[q]:
                free[n_free] = q
                n_free += 1
        # the new tracks, each logged (a two-point track's initiator first) and, when new
        # tracks are confirmed, announced
        if two_point:
            if n_ini > tp_ws[1].shape[0] or n_free > tp_pos.shape[0]:
                tp = _initiation_buffers(max(2 * n_ini, tp_ws[1].shape[0]), max(2 * n_free, tp_pos.shape[0]), d)
                (tp_pos, tp_cov, tp_J, tp_Je), (o_q, o_t, o_bit, o_index, o_label, xn, Pn), tp_ws = tp
            _meas_to_ecef_rows(z, sigma, free, n_free, site, rot, tp_pos, tp_cov, tp_J, tp_Je)
            n_ini, n_new = _two_point_into(
                t, tp_pos, tp_cov, n_free, free, sensor_bit, index, label, cfg_f[CFG_INIT_MAX_SPEED],
                cfg_f[CFG_INIT_MAX_AGE], n_ini, ini_t, ini_pos, ini_cov, ini_bit, ini_index, ini_label, prior_mean, prior_var,
                tp_ws, o_q, o_t, o_bit, o_index, o_label, xn, Pn)
            born = (np.int64(3) & ((np.int64(1) << np.int64(cfg_i[CFG_CONFIRM_N])) - np.int64(1)))
            for h in range(n_new):
                _new_track(row, next_id + h, t, confirm_new, born, 2, sensor_bit | o_bit[h], xn[h], Pn[h], mu0, ids, tt,
                           confirmed, history, opportunities, misses, last_update, updates, sensors, score, x, P, mu, xm, Pm)
                row += 1
                log_t[g], log_id[g], log_index[g], log_label[g] = o_t[h], next_id + h, o_index[h], o_label[h]
                q = keep[free[o_q[h]]]
                log_t[g + 1], log_id[g + 1], log_index[g + 1], log_label[g + 1] = t, next_id + h, index_all[q], label_all[q]
                g += 2
        else:
            zf, sf, _, _ = _take_measurements(free[:n_free], z, sigma, label, index)
            xn, Pn = initial_states(zf, sf, site, rot, prior_mean, prior_var, cfg_f[CFG_SPEED_VAR], cfg_f[CFG_VSPEED_VAR])
            n_new = n_free
            for h in range(n_new):
                _new_track(row, next_id + h, t, confirm_new, 1, 1, sensor_bit, xn[h], Pn[h], mu0, ids, tt, confirmed,
                           history, opportunities, misses, last_update, updates, sensors, score, x, P, mu, xm, Pm)
                row += 1
                q = keep[free[h]]
                log_t[g], log_id[g], log_index[g], log_label[g] = t, next_id + h, index_all[q], label_all[q]
                g += 1
        if confirm_new:
            for h in range(n_new):
                ev_t[e], ev_id[e], ev_code[e] = t, next_id + h, EVENT_CONFIRMED
                e += 1
        n_now = row
        state_i[ST_N] = n_now
        state_i[ST_INI] = n_ini
        state_i[ST_NEXT_ID] = next_id + n_new
        state_i[ST_LOG] = g
        state_i[ST_EVENTS] = e
        state_f[ST_PENDING] = t
        k += 1
        if stop_confirmed and _any_confirmed(n_now, confirmed):
            until = t  # the scans of the same time, then the rows
    # the output rows of the last time (Tracker.advance)
    n = state_i[ST_N]
    pending = state_f[ST_PENDING]
    if rows_at_end and not math.isnan(pending):
        if state_i[ST_ROWS] + n > rows_t.shape[0]:
            return BATCH_GROW, k, SCAN_GROW
        state_i[ST_ROWS] += write_rows(pending, n, drag, ids, x, P, confirmed, last_update, score, state_i[ST_ROWS],
                                       rows_t, rows_id, rows_x, rows_P, rows_u, rows_q, rows_b, rows_bP)
        state_f[ST_PENDING] = np.nan
    return BATCH_DONE, k, SCAN_DONE
