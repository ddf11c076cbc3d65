"""hoplon.core._tracker_kernels: the compiled per-scan kernels of the filters and the
tracker against the numpy formulas they replace, on random inputs.

The references below are the batched numpy implementations that filters.py and
tracker.py used before the kernels (einsum, np.linalg.solve/inv/slogdet, scipy's expm
for the IMM's switching matrices): the kernels must agree with them to rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core import _tracker_kernels as K
from hoplon.core import filters as flt
from hoplon.core import tracker as trk
from hoplon.core.earth import earth_model
from hoplon.core.frames import _wrap_2pi, ecef_to_geodetic, geodetic_to_ecef

RTOL = 1e-9
SEEDS = [0, 1, 2, 3]


def sym(P):
    return 0.5 * (P + np.swapaxes(P, -1, -2))


def wrap(a):
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def random_spd(rng, n, d, scales):
    A = rng.normal(size=(n, d, d)) * scales[None, :, None]
    return A @ np.swapaxes(A, 1, 2) + np.diag(scales**2)[None] * 0.1


def meas_model(range_rate=False):
    sigma = (30.0, 1e-3, 1.5e-3) + ((2.0,) if range_rate else ())
    return flt.RadarMeasurement(38.0, 37.5, 1_500.0, sigma, range_rate=range_rate)


def states(rng, n, d):
    """States (n, d) 50-800 km from the radar, 1-300 km up, random velocities."""
    site = meas_model()
    lat = 38.0 + rng.uniform(-5, 5, n)
    lon = 37.5 + rng.uniform(-6, 6, n)
    alt = rng.uniform(1e3, 3e5, n)
    r = np.asarray(geodetic_to_ecef(lat, lon, alt))
    x = np.zeros((n, d))
    x[:, 0:3] = r
    x[:, 3:6] = rng.normal(scale=1_500.0, size=(n, 3))
    if d > 6:
        x[:, 6:] = rng.normal(scale=1e-2, size=(n, d - 6))
    assert site is not None
    return x


def covs(rng, n, d):
    scales = np.array([200.0] * 3 + [50.0] * 3 + [2.0] * max(0, d - 6))[:d]
    return random_spd(rng, n, d, scales)


# --------------------------------------------------------------------------- numpy references


def ref_h(meas, x):
    d = x[:, 0:3] - meas.site_ecef_m
    enu = d @ meas.rotation.T
    rng = np.linalg.norm(enu, axis=1)
    az = _wrap_2pi(np.arctan2(enu[:, 0], enu[:, 1]))
    el = np.arctan2(enu[:, 2], np.hypot(enu[:, 0], enu[:, 1]))
    cols = [rng, az, el]
    if meas.range_rate:
        cols.append(np.sum(d * x[:, 3:6], axis=1) / np.maximum(rng, 1e-9))
    return np.stack(cols, axis=1)


def ref_jacobian(meas, x, n):
    d = x[:, 0:3] - meas.site_ecef_m
    enu = d @ meas.rotation.T
    e, nn, u = enu[:, 0], enu[:, 1], enu[:, 2]
    rho2 = e * e + nn * nn
    rho = np.sqrt(rho2)
    r2 = rho2 + u * u
    r = np.sqrt(r2)
    dr = enu / r[:, None]
    daz = np.stack([nn / rho2, -e / rho2, np.zeros_like(e)], axis=1)
    del_ = np.stack([-e * u / (r2 * rho), -nn * u / (r2 * rho), rho / r2], axis=1)
    M = meas.rotation
    H = np.zeros((x.shape[0], meas.dim, n))
    H[:, 0, 0:3] = dr @ M
    H[:, 1, 0:3] = daz @ M
    H[:, 2, 0:3] = del_ @ M
    if meas.range_rate:
        v = x[:, 3:6]
        los = d / r[:, None]
        rdot = np.sum(los * v, axis=1)
        H[:, 3, 0:3] = (v - rdot[:, None] * los) / r[:, None]
        H[:, 3, 3:6] = los
    return H


def ref_residual(z, zp):
    nu = z - zp
    nu[:, 1] = wrap(nu[:, 1])
    return nu


def ref_ekf_update(x, P, z, meas, R, iterations):
    n = x.shape[1]
    xi = x
    inn = None
    for _ in range(max(1, iterations)):
        z_pred = ref_h(meas, xi)
        H = ref_jacobian(meas, xi, n)
        S = sym(H @ P @ np.swapaxes(H, 1, 2) + R)
        nu = ref_residual(z, z_pred)
        if inn is None:
            inn = (nu, S, z_pred)
        PHt = P @ np.swapaxes(H, 1, 2)
        Kg = np.swapaxes(np.linalg.solve(S, np.swapaxes(PHt, 1, 2)), 1, 2)
        xi = x + np.einsum("nij,nj->ni", Kg, nu - np.einsum("nij,nj->ni", H, x - xi))
    IKH = np.eye(n)[None] - Kg @ H
    P_new = sym(IKH @ P @ np.swapaxes(IKH, 1, 2) + Kg @ R @ np.swapaxes(Kg, 1, 2))
    return xi, P_new, inn


def ref_loglik(nu, S):
    sol = np.linalg.solve(S, nu[:, :, None])[:, :, 0]
    _, logdet = np.linalg.slogdet(S)
    return -0.5 * (np.sum(nu * sol, axis=1) + logdet + nu.shape[1] * math.log(2 * math.pi))


def ref_combine(mu, xm, Pm):
    x = np.einsum("nj,jnk->nk", mu, xm)
    d = xm - x[None]
    P = np.einsum("nj,jnkl->nkl", mu, Pm) + np.einsum("nj,jnk,jnl->nkl", mu, d, d)
    return x, sym(P)


def ref_kron3(block):
    n, k, _ = block.shape
    out = np.zeros((n, k, 3, k, 3))
    for a in range(3):
        out[:, :, a, :, a] = block
    return out.reshape(n, 3 * k, 3 * k)


def close(a, b, rtol=RTOL, scale=None):
    """a == b to rtol relative to the largest magnitude of b (or ``scale``)."""
    s = np.max(np.abs(b)) if scale is None else scale
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * max(s, 1e-300))


# --------------------------------------------------------------------------- small linear algebra


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("m", [1, 3, 4, 7])
def test_lu_matches_numpy(seed, m):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, m))
    b = rng.normal(size=m)
    LU, piv, out = np.empty((m, m)), np.empty(m, np.int64), np.empty(m)
    logdet = K._lu(A, LU, piv)
    K._lu_solve(LU, piv, b, out)
    np.testing.assert_allclose(out, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    assert logdet == pytest.approx(np.linalg.slogdet(A)[1], rel=1e-12, abs=1e-12)


def test_wrap_kernels_match_numpy():
    a = np.array([-math.pi, -1e-17, 0.0, -0.0, 1.0, 3 * math.pi, -7.5, 2 * math.pi - 1e-17, math.pi])
    np.testing.assert_array_equal([K._wrap_pi(v) for v in a], wrap(a))
    b = np.array([-math.pi, -1e-17, -0.0, 0.0, 1.0, math.pi, -2.0])
    np.testing.assert_array_equal([K._wrap_2pi(v) for v in b], _wrap_2pi(b))


# --------------------------------------------------------------------------- measurement model


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("range_rate", [False, True])
def test_radar_h_and_jacobian(seed, range_rate):
    rng = np.random.default_rng(seed)
    meas = meas_model(range_rate)
    x = states(rng, 50, 10)
    close(meas.h(x), ref_h(meas, x))
    np.testing.assert_allclose(meas.h(x), ref_h(meas, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(meas.jacobian(x, 10), ref_jacobian(meas, x, 10), rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("seed", SEEDS)
def test_radar_predict_and_innovations(seed):
    rng = np.random.default_rng(seed)
    meas = meas_model()
    x, P = states(rng, 40, 7), covs(rng, 40, 7)
    H = ref_jacobian(meas, x, 7)
    zp, HPH = K.radar_predict(x, P, meas.site_ecef_m, meas.rotation, False)
    np.testing.assert_allclose(zp, ref_h(meas, x), rtol=1e-12, atol=1e-12)
    ref = sym(H @ P @ np.swapaxes(H, 1, 2))
    for i in range(40):
        close(HPH[i], ref[i])
    _, S = flt.innovations(x, P, meas)
    ref_S = sym(H @ P @ np.swapaxes(H, 1, 2) + meas.R)
    for i in range(40):
        close(S[i], ref_S[i])


# --------------------------------------------------------------------------- EKF and IMM


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("iterations", [1, 3])
@pytest.mark.parametrize("range_rate", [False, True])
def test_ekf_update_matches_numpy(seed, iterations, range_rate):
    rng = np.random.default_rng(seed)
    meas = meas_model(range_rate)
    n = 30
    x, P = states(rng, n, 9), covs(rng, n, 9)
    z = ref_h(meas, x + rng.normal(scale=300.0, size=x.shape) * (np.arange(9) < 6))
    R = np.zeros((n, meas.dim, meas.dim))
    R[:, np.arange(meas.dim), np.arange(meas.dim)] = (np.asarray(meas.sigma) * rng.uniform(0.5, 2.0, (n, meas.dim))) ** 2
    xr, Pr, (nur, Sr, zpr) = ref_ekf_update(x, P, z, meas, R, iterations)
    xk, Pk, inn = flt.ekf_update(x, P, z, meas, R, iterations=iterations)
    for i in range(n):
        close(xk[i], xr[i], 1e-12)
        close(Pk[i], Pr[i], 1e-8)
        close(inn.S[i], Sr[i], 1e-12)
    np.testing.assert_allclose(inn.nu, nur, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(inn.z_pred, zpr, rtol=1e-12)
    *_, ll = K.ekf_update(x, P, z, R, meas.site_ecef_m, meas.rotation, range_rate, iterations)
    np.testing.assert_allclose(ll, ref_loglik(nur, Sr), rtol=1e-9)


def make_imm():
    return flt.IMM((flt.Ballistic(q=1e-6), flt.ConstantAcceleration(q=5.0)), switch_rate=0.01,
                   rates=((0.0, 0.001), (0.05, 0.0)))


@pytest.mark.parametrize("seed", SEEDS)
def test_imm_transition_matches_expm(seed):
    rng = np.random.default_rng(seed)
    for imm in (make_imm(), flt.IMM((flt.ConstantVelocity(), flt.ConstantAcceleration(), flt.CoordinatedTurn()), switch_rate=0.02)):
        dt = np.concatenate([[0.0], rng.uniform(-50.0, 500.0, 20)])
        T = imm.transition_matrix(dt)
        m = len(imm.models)
        gen = np.full((m, m), imm.switch_rate) if imm.rates is None else np.array(imm.rates, dtype=float)
        np.fill_diagonal(gen, 0.0)
        np.fill_diagonal(gen, -gen.sum(axis=1))
        for k, t in enumerate(dt):
            ref = np.clip(scipy.linalg.expm(gen * abs(t)), 0, 1)
            np.testing.assert_allclose(T[k], ref / ref.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-13)


def ref_imm_predict(imm, mu, xm, Pm, dt):
    T = imm.transition_matrix(dt)
    c = np.einsum("ni,nij->nj", mu, T)
    w = mu[:, :, None] * T / np.maximum(c[:, None, :], 1e-300)
    x0 = np.einsum("nij,ink->jnk", w, xm)
    d = xm[:, None] - x0[None]
    P0 = np.einsum("nij,inkl->jnkl", w, Pm) + np.einsum("nij,ijnk,ijnl->jnkl", w, d, d)
    xs = np.empty_like(x0)
    Ps = np.zeros_like(P0)
    for j, (model, loc, other, mean, var) in enumerate(imm._layout()):
        xn, F, Q = model.predict(x0[j][:, loc], dt)
        Pn = sym(F @ P0[j][:, loc[:, None], loc[None, :]] @ np.swapaxes(F, 1, 2) + Q)
        xs[j][:, loc] = xn
        Ps[j][:, loc[:, None], loc[None, :]] = Pn
        if other.size:
            xs[j][:, other] = mean
            Ps[j][:, other, other] = var
    return c, xs, Ps


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fused", [True, False])
def test_imm_predict_update_combine_match_numpy(seed, fused):
    """The fused prediction (ballistic + CA) and the generic one (CV, CA, CT)."""
    rng = np.random.default_rng(seed)
    imm = make_imm() if fused else flt.IMM((flt.ConstantVelocity(), flt.ConstantAcceleration(), flt.CoordinatedTurn()))
    assert (imm._fused() is not None) == fused
    n, d = 20, imm.dim
    x, P = states(rng, n, d), covs(rng, n, d)
    x[:, 6:9] = rng.normal(scale=3.0, size=(n, 3))
    x[:, 9] = 2e-4
    P[:, 9, :] = P[:, :, 9] = 0.0
    P[:, 9, 9] = 1e-6
    M = len(imm.models)
    mu = rng.dirichlet(np.ones(M), size=n)
    st = flt.IMMState(mu, np.stack([x + k * rng.normal(scale=10.0, size=x.shape) * (np.arange(d) < 6) for k in range(M)]),
                      np.stack([P * (1 + 0.5 * k) for k in range(M)]))
    dt = rng.uniform(0.5, 20.0, n)
    c_ref, xs_ref, Ps_ref = ref_imm_predict(imm, st.mu, st.x, st.P, dt)
    pred = imm.predict(st, dt)
    np.testing.assert_allclose(pred.mu, c_ref, rtol=1e-12)
    for j in range(M):
        for i in range(n):
            close(pred.x[j, i], xs_ref[j, i], 1e-12)
            close(pred.P[j, i], Ps_ref[j, i], 1e-9)
    xc, Pc = imm.combine(pred)
    xr, Pr = ref_combine(pred.mu, pred.x, pred.P)
    for i in range(n):
        close(xc[i], xr[i], 1e-12)
        close(Pc[i], Pr[i], 1e-10)
    meas = meas_model()
    z = ref_h(meas, xc + rng.normal(scale=200.0, size=xc.shape) * (np.arange(d) < 6))
    R = np.broadcast_to(meas.R, (n, 3, 3)).copy()
    for iterations in (1, 3):
        new, total, xu, Pu = imm.update_combined(pred, z, meas, R, iterations=iterations)
        lls = []
        for j in range(M):
            xj, Pj, (nu, S, _) = ref_ekf_update(pred.x[j], pred.P[j], z, meas, R, iterations)
            for i in range(n):
                close(new.x[j, i], xj[i], 1e-12)
                close(new.P[j, i], Pj[i], 1e-8)
            lls.append(ref_loglik(nu, S))
        log_w = np.log(pred.mu) + np.stack(lls, axis=1)
        top = log_w.max(axis=1, keepdims=True)
        w = np.exp(log_w - top)
        np.testing.assert_allclose(new.mu, w / w.sum(axis=1, keepdims=True), rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(total, np.exp(top[:, 0]) * w.sum(axis=1), rtol=1e-8)
        xr, Pr = ref_combine(new.mu, new.x, new.P)
        for i in range(n):
            close(xu[i], xr[i], 1e-12)
            close(Pu[i], Pr[i], 1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_cv_ca_predict_match_closed_forms(seed):
    rng = np.random.default_rng(seed)
    n = 25
    t = rng.uniform(-5.0, 60.0, n)
    one, zero = np.ones(n), np.zeros(n)
    # constant velocity
    x = rng.normal(size=(n, 6)) * 1e5
    xp, F, Q = flt.ConstantVelocity(q=2.0).predict(x, t)
    f1 = np.stack([np.stack([one, t], -1), np.stack([zero, one], -1)], -2)
    q1 = 2.0 * np.stack([np.stack([t**3 / 3, t**2 / 2], -1), np.stack([t**2 / 2, t], -1)], -2)
    np.testing.assert_allclose(F, ref_kron3(f1), rtol=1e-15)
    np.testing.assert_allclose(Q, ref_kron3(q1), rtol=1e-14)
    np.testing.assert_allclose(xp, np.einsum("nij,nj->ni", ref_kron3(f1), x), rtol=1e-12)
    # constant acceleration
    x = rng.normal(size=(n, 9)) * 1e4
    xp, F, Q = flt.ConstantAcceleration(q=0.5).predict(x, t)
    f1 = np.stack([np.stack([one, t, t**2 / 2], -1), np.stack([zero, one, t], -1), np.stack([zero, zero, one], -1)], -2)
    q1 = 0.5 * np.stack([np.stack([t**5 / 20, t**4 / 8, t**3 / 6], -1), np.stack([t**4 / 8, t**3 / 3, t**2 / 2], -1),
                         np.stack([t**3 / 6, t**2 / 2, t], -1)], -2)
    np.testing.assert_allclose(F, ref_kron3(f1), rtol=1e-15)
    np.testing.assert_allclose(Q, ref_kron3(q1), rtol=1e-14)
    np.testing.assert_allclose(xp, np.einsum("nij,nj->ni", ref_kron3(f1), x), rtol=1e-12)
    # the EKF covariance prediction
    P = covs(rng, n, 9)
    _, Pp = flt.ekf_predict(x, P, flt.ConstantAcceleration(q=0.5), t)
    ref = sym(F @ P @ np.swapaxes(F, 1, 2) + Q)
    for i in range(n):
        close(Pp[i], ref[i], 1e-12)


# --------------------------------------------------------------------------- tracker kernels


def ref_gates(zp, HPH, z, sigma, ti, mj, threshold):
    """Tracker._process's gating before the kernels."""
    Rm = np.zeros((len(z), 3, 3))
    Rm[:, 0, 0], Rm[:, 1, 1], Rm[:, 2, 2] = sigma[:, 0] ** 2, sigma[:, 1] ** 2, sigma[:, 2] ** 2
    nu = ref_residual(z[mj], zp[ti])
    S_track = HPH + np.median(Rm, axis=0)[None]
    S_inv = np.linalg.inv(S_track)
    _, logdet = np.linalg.slogdet(S_track)
    if np.all(sigma == sigma[0]):
        d2 = np.einsum("ki,kij,kj->k", nu, S_inv[ti], nu)
        keep = d2 <= threshold
        return ti[keep], mj[keep], d2[keep], logdet[ti][keep], logdet
    S_loose = HPH + np.diag(np.max(sigma, axis=0) ** 2)[None]
    d2 = np.einsum("ki,kij,kj->k", nu, np.linalg.inv(S_loose)[ti], nu)
    near = d2 <= threshold
    S_pair = HPH[ti[near]] + Rm[mj[near]]
    _, ld = np.linalg.slogdet(S_pair)
    d2 = np.einsum("ki,kij,kj->k", nu[near], np.linalg.inv(S_pair), nu[near])
    keep = d2 <= threshold
    return ti[near][keep], mj[near][keep], d2[keep], ld[keep], logdet


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("dense", [True, False])
def test_gate_pairs_match_numpy(seed, uniform, dense):
    rng = np.random.default_rng(seed)
    meas = meas_model()
    n, m = 15, 25
    x, P = states(rng, n, 6), covs(rng, n, 6)
    zp, HPH = K.radar_predict(x, P, meas.site_ecef_m, meas.rotation, False)
    # measurements near some tracks, others anywhere
    near = ref_h(meas, x[rng.integers(0, n, m)] + np.concatenate([rng.normal(scale=300.0, size=(m, 3)), np.zeros((m, 3))], 1))
    z = np.where(rng.uniform(size=(m, 1)) < 0.7, near, ref_h(meas, states(rng, m, 6)))
    sigma = np.tile([30.0, 1e-3, 1.5e-3], (m, 1))
    if not uniform:
        sigma = sigma * rng.uniform(0.5, 3.0, (m, 3))
    if dense:
        ti, mj = np.divmod(np.arange(n * m, dtype=np.int64), m)
    else:
        ti, mj = np.divmod(np.sort(rng.choice(n * m, size=n * m // 2, replace=False)).astype(np.int64), m)
    thr = flt_gate = trk.assoc.gate_threshold(0.9999, 3)
    got = K.gate_pairs(zp, HPH, z, sigma, dense, ti, mj, flt_gate)
    ref = ref_gates(zp, HPH, z, sigma, ti, mj, thr)
    assert ref[0].size > 0
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got[3], ref[3], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got[4], ref[4], rtol=1e-10, atol=1e-10)


def ref_meas_to_ecef(meas, z, sigma):
    r, az, el = z[:, 0], z[:, 1], z[:, 2]
    sa, ca, se, ce = np.sin(az), np.cos(az), np.sin(el), np.cos(el)
    enu = np.stack([r * sa * ce, r * ca * ce, r * se], axis=1)
    J = np.zeros((len(z), 3, 3))
    J[:, :, 0] = np.stack([sa * ce, ca * ce, se], axis=1)
    J[:, :, 1] = np.stack([r * ca * ce, -r * sa * ce, np.zeros_like(r)], axis=1)
    J[:, :, 2] = np.stack([-r * sa * se, -r * ca * se, r * ce], axis=1)
    Mt = meas.rotation.T
    Je = Mt[None] @ J
    R = np.zeros((len(z), 3, 3))
    R[:, 0, 0], R[:, 1, 1], R[:, 2, 2] = sigma[:, 0] ** 2, sigma[:, 1] ** 2, sigma[:, 2] ** 2
    return meas.site_ecef_m + enu @ Mt.T, Je @ R @ np.swapaxes(Je, 1, 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_initial_states_match_numpy(seed):
    rng = np.random.default_rng(seed)
    meas = meas_model()
    m, d = 12, 10
    z = ref_h(meas, states(rng, m, 6))
    sigma = np.tile([30.0, 1e-3, 1.5e-3], (m, 1)) * rng.uniform(0.5, 3.0, (m, 3))
    pos_r, cov_r = ref_meas_to_ecef(meas, z, sigma)
    pos, cov = K.meas_to_ecef(z, sigma, meas.site_ecef_m, meas.rotation)
    np.testing.assert_allclose(pos, pos_r, rtol=1e-13)
    for i in range(m):
        close(cov[i], cov_r[i], 1e-12)
    mean, var = rng.normal(size=d), rng.uniform(1, 2, d)
    x, P = K.initial_states(z, sigma, meas.site_ecef_m, meas.rotation, mean, var, 300.0**2, 50.0**2)
    xr = np.tile(mean, (m, 1))
    Pr = np.zeros((m, d, d))
    Pr[:, np.arange(d), np.arange(d)] = var
    xr[:, 0:3], xr[:, 3:6] = pos_r, 0.0
    Pr[:, 0:3, 0:3] = cov_r
    up = pos_r / np.linalg.norm(pos_r, axis=1, keepdims=True)
    Pr[:, 3:6, 3:6] = 300.0**2 * np.eye(3) + (50.0**2 - 300.0**2) * up[:, :, None] * up[:, None, :]
    np.testing.assert_allclose(x, xr, rtol=1e-13)
    for i in range(m):
        close(P[i], Pr[i], 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_bookkeeping_matches_numpy(seed):
    """The in-place bookkeeping kernel against Tracker._process's numpy bookkeeping."""
    rng = np.random.default_rng(seed)
    cfg = trk.TrackerConfig(confirm_m=3, confirm_n=4, delete_misses=3, max_coast_s=30.0, max_position_sigma_m=2_000.0)
    sensor = trk.SensorInfo("r", 38.0, 37.5, 1500.0, 30.0, 1e-3, 1.5e-3, max_range_m=600e3, boresight_rad=1.0,
                            azimuth_half_width_rad=1.2, elevation_min_rad=0.0, elevation_max_rad=1.2)
    meas = meas_model()
    n, t, bit = 60, 100.0, np.int64(1) << np.int64(2)
    x = states(rng, n, 7)
    x[:5, 0:3] *= 0.99  # underground
    P = covs(rng, n, 7) * rng.choice([1.0, 100.0], size=(n, 1, 1))
    assigned = np.where(rng.uniform(size=n) < 0.4, rng.integers(0, 10, n), -1).astype(np.int64)
    d2, ld = rng.uniform(0, 15, n) * (assigned >= 0), rng.uniform(5, 20, n) * (assigned >= 0)
    arrays = {
        "score": rng.normal(size=n), "sensors": rng.choice([0, 4, 5, 1], size=n).astype(np.int64),
        "history": rng.integers(0, 16, n).astype(np.int64), "opportunities": rng.integers(1, 8, n).astype(np.int64),
        "misses": rng.integers(0, 4, n).astype(np.int64), "last_update": t - rng.uniform(0, 50, n),
        "updates": rng.integers(1, 9, n).astype(np.int64), "confirmed": rng.uniform(size=n) < 0.5,
    }
    zp = ref_h(meas, x)
    ref = {k: v.copy() for k, v in arrays.items()}
    # --- reference (Tracker._process before the kernel)
    mine = (ref["sensors"] & bit) != 0
    mine &= sensor.covers(zp)
    hit = assigned >= 0
    mine |= hit
    pd = cfg.pd
    ref["score"][hit] += math.log(pd / cfg.clutter_density) - 1.5 * math.log(2 * math.pi) - 0.5 * ld[hit] - 0.5 * d2[hit]
    ref["score"] = np.where(mine & ~hit, ref["score"] + math.log(max(1.0 - pd, 1e-12)), ref["score"])
    ref["sensors"] = np.where(hit, ref["sensors"] | bit, ref["sensors"])
    window = np.int64((1 << cfg.confirm_n) - 1)
    ref["history"] = np.where(mine, ((ref["history"] << 1) | hit.astype(np.int64)) & window, ref["history"])
    ref["opportunities"] = np.where(mine, ref["opportunities"] + 1, ref["opportunities"])
    ref["misses"] = np.where(hit, 0, np.where(mine, ref["misses"] + 1, ref["misses"]))
    ref["last_update"] = np.where(hit, t, ref["last_update"])
    ref["updates"] = ref["updates"] + hit
    hits = sum((ref["history"] >> np.int64(b)) & 1 for b in range(cfg.confirm_n))
    newly_ref = ~ref["confirmed"] & (hits >= cfg.confirm_m)
    ref["confirmed"] |= newly_ref
    pos_sigma = np.sqrt(np.maximum(np.trace(P[:, 0:3, 0:3], axis1=1, axis2=2), 0.0))
    missed = np.minimum(ref["opportunities"], cfg.confirm_n) - hits
    tentative_dead = ~ref["confirmed"] & (missed > cfg.confirm_n - cfg.confirm_m)
    confirmed_dead = ref["confirmed"] & (ref["misses"] >= cfg.delete_misses)
    coasted = (t - ref["last_update"]) > cfg.max_coast_s
    diverged = pos_sigma > cfg.max_position_sigma_m
    grounded = ecef_to_geodetic(x[:, 0:3]).alt_m < cfg.min_altitude_m
    dead = tentative_dead | confirmed_dead | coasted | diverged | grounded
    # --- kernel
    cover = np.array([600e3, 1.0, 1.2, 0.0, 1.2])
    newly, reason = K.bookkeeping(
        t, bit, assigned, d2, ld, zp, True, cover,
        math.log(pd / cfg.clutter_density) - 1.5 * math.log(2 * math.pi), math.log(max(1.0 - pd, 1e-12)),
        cfg.confirm_m, cfg.confirm_n, cfg.delete_misses, cfg.max_coast_s, cfg.max_position_sigma_m, cfg.min_altitude_m,
        earth_model("wgs84").params(), x, P, *arrays.values(),
    )
    np.testing.assert_array_equal(newly, newly_ref)
    np.testing.assert_array_equal(reason > 0, dead)
    assert dead.any() and (~dead).any() and newly_ref.any()
    on = dead & ref["confirmed"]
    expect = np.where(grounded, 1, np.where(confirmed_dead, 2, np.where(coasted, 3, 4)))
    np.testing.assert_array_equal(reason[on], expect[on])
    for k, got in arrays.items():
        np.testing.assert_allclose(got, ref[k], rtol=1e-15, err_msg=k)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("model", [flt.ConstantVelocity(q=3.0), flt.ConstantAcceleration(q=0.2), flt.Ballistic(q=0.1, q_theta=1e-9)],
                         ids=lambda m: m.name)
def test_fused_ekf_predict_matches_numpy(seed, model):
    """ekf_predict's fused kernel against the model's own predict and sym(F P F^T + Q)."""
    rng = np.random.default_rng(seed)
    n, d = 15, model.dim
    x, P = states(rng, n, d), covs(rng, n, d)
    if isinstance(model, flt.Ballistic):
        x[:, 6] = rng.uniform(0.0, 1e-3, n)
        P[:, 6, :] = P[:, :, 6] = 0.0
        P[:, 6, 6] = 1e-7
    dt = rng.uniform(0.1, 30.0, n)
    assert flt._single_spec(model) is not None
    xp, Pp = flt.ekf_predict(x, P, model, dt)
    xr, F, Q = model.predict(x, dt)
    Pr = sym(F @ P @ np.swapaxes(F, 1, 2) + Q)
    np.testing.assert_allclose(xp, xr, rtol=1e-13)
    for i in range(n):
        close(Pp[i], Pr[i], 1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("imm", [True, False])
def test_update_rows_matches_batched_updates(seed, imm):
    """The in-place update of some rows against IMM.update_combined / ekf_update on them."""
    rng = np.random.default_rng(seed)
    meas = meas_model()
    n, d = 12, 10
    x, P = states(rng, n, d), covs(rng, n, d)
    M = 2 if imm else 1
    mu = rng.dirichlet(np.ones(M), size=n)
    xm = np.stack([x + k * rng.normal(scale=20.0, size=x.shape) * (np.arange(d) < 6) for k in range(M)])
    Pm = np.stack([P * (1 + k) for k in range(M)])
    if imm:
        x, P = K.imm_combine(mu, xm, Pm)
    z = ref_h(meas, x + rng.normal(scale=200.0, size=x.shape) * (np.arange(d) < 6))
    sigma = np.tile([30.0, 1e-3, 1.5e-3], (n, 1)) * rng.uniform(0.5, 2.0, (n, 3))
    rows = np.sort(rng.choice(n, 7, replace=False)).astype(np.int64)
    iters = rng.choice([1, 3], size=rows.size).astype(np.int64)
    meas_idx = rng.permutation(n)[:rows.size].astype(np.int64)
    R = np.zeros((n, 3, 3))
    R[:, [0, 1, 2], [0, 1, 2]] = sigma**2
    got = [a.copy() for a in (mu, xm, Pm, x, P)]
    K.update_rows(rows, iters, meas_idx, z, sigma, *got, imm, meas.site_ecef_m, meas.rotation)
    for r, i in enumerate(rows):
        zi, Ri = z[meas_idx[r]][None], R[meas_idx[r]][None]
        if imm:
            imm_f = flt.IMM((flt.ConstantVelocity(), flt.ConstantAcceleration()))
            st, _, xr, Pr = imm_f.update_combined(flt.IMMState(mu[i:i + 1], xm[:, i:i + 1], Pm[:, i:i + 1]), zi, meas, Ri,
                                                  iterations=int(iters[r]))
            np.testing.assert_allclose(got[0][i], st.mu[0], rtol=1e-14)
            np.testing.assert_allclose(got[1][:, i], st.x[:, 0], rtol=1e-14)
            np.testing.assert_allclose(got[2][:, i], st.P[:, 0], rtol=1e-14)
        else:
            xr, Pr, _ = ref_ekf_update(x[i:i + 1], P[i:i + 1], zi, meas, Ri, int(iters[r]))
        close(got[3][i], xr[0], 1e-12)
        close(got[4][i], Pr[0], 1e-8)
    untouched = np.setdiff1d(np.arange(n), rows)
    np.testing.assert_array_equal(got[3][untouched], x[untouched])
    np.testing.assert_array_equal(got[4][untouched], P[untouched])


@pytest.mark.parametrize("seed", SEEDS)
def test_end_scan_keeps_survivors_and_appends_new_tracks(seed):
    rng = np.random.default_rng(seed)
    meas = meas_model()
    n, d, M, t = 20, 10, 2, 50.0
    x, P = states(rng, n, d), covs(rng, n, d) * rng.choice([1.0, 1e4], size=(n, 1, 1))
    mu = rng.dirichlet(np.ones(M), size=n)
    xm, Pm = np.stack([x, x + 1.0]), np.stack([P, 2 * P])
    fields = {
        "ids": np.arange(100, 100 + n, dtype=np.int64), "t": np.full(n, t),
        "confirmed": rng.uniform(size=n) < 0.5, "history": rng.integers(0, 16, n).astype(np.int64),
        "opportunities": rng.integers(1, 8, n).astype(np.int64), "misses": rng.integers(0, 4, n).astype(np.int64),
        "last_update": t - rng.uniform(0, 50, n), "updates": rng.integers(1, 9, n).astype(np.int64),
        "sensors": rng.choice([0, 4, 5, 1], size=n).astype(np.int64), "score": rng.normal(size=n),
    }
    assigned = np.where(rng.uniform(size=n) < 0.3, rng.integers(0, 5, n), -1).astype(np.int64)
    d2, ld = rng.uniform(0, 15, n), rng.uniform(5, 20, n)
    zp = ref_h(meas, x)
    cover = np.array([np.nan, np.nan, np.nan, 0.0, np.nan])
    m_z = 6
    z = ref_h(meas, states(rng, m_z, 6))
    sigma = np.tile([30.0, 1e-3, 1.5e-3], (m_z, 1))
    free = np.array([0, 2, 5], np.int64)
    mean, var = rng.normal(size=d), rng.uniform(1, 2, d)
    earth = earth_model("wgs84").params()
    consts = (3, 4, 3, 30.0, 5_000.0, -1_000.0, earth)
    # reference: bookkeeping in place on copies, then numpy keep and initial_states
    ref = {k: v.copy() for k, v in fields.items()}
    newly_r, reason_r = K.bookkeeping(t, np.int64(4), assigned, d2, ld, zp, True, cover, 1.0, -2.0, *consts, x, P, ref["score"],
                                      ref["sensors"], ref["history"], ref["opportunities"], ref["misses"],
                                      ref["last_update"], ref["updates"], ref["confirmed"])
    out = K.end_scan(t, np.int64(4), assigned, d2, ld, zp, cover, 1.0, -2.0, *consts,
                     fields["ids"], fields["t"], x, P, mu, xm, Pm, fields["confirmed"], fields["history"],
                     fields["opportunities"], fields["misses"], fields["last_update"], fields["updates"], fields["sensors"],
                     fields["score"], z, sigma, free, meas.site_ecef_m, meas.rotation, mean, var, 9e4, 2500.0,
                     np.full(M, 0.5), 500, False)
    newly, reason, ids, tt, xo, Po, muo, xmo, Pmo, conf, hist, opp, miss, last, upd, sens, score = out
    np.testing.assert_array_equal(newly, newly_r)
    np.testing.assert_array_equal(reason, reason_r)
    keep = reason_r == 0
    k = int(keep.sum())
    assert 0 < k < n and ids.size == k + free.size
    for got, name in ((ids, "ids"), (tt, "t"), (conf, "confirmed"), (hist, "history"), (opp, "opportunities"),
                      (miss, "misses"), (last, "last_update"), (upd, "updates"), (sens, "sensors"), (score, "score")):
        np.testing.assert_array_equal(got[:k], ref[name][keep], err_msg=name)
    np.testing.assert_array_equal(xo[:k], x[keep])
    np.testing.assert_array_equal(Po[:k], P[keep])
    np.testing.assert_array_equal(muo[:k], mu[keep])
    np.testing.assert_array_equal(xmo[:, :k], xm[:, keep])
    np.testing.assert_array_equal(Pmo[:, :k], Pm[:, keep])
    xn, Pn = K.initial_states(z[free], sigma[free], meas.site_ecef_m, meas.rotation, mean, var, 9e4, 2500.0)
    np.testing.assert_array_equal(ids[k:], 500 + np.arange(free.size))
    np.testing.assert_array_equal(xo[k:], xn)
    np.testing.assert_array_equal(Po[k:], Pn)
    np.testing.assert_array_equal(xmo[:, k:], np.stack([xn, xn]))
    np.testing.assert_array_equal(muo[k:], 0.5)
    assert (tt[k:] == t).all() and (last[k:] == t).all() and (hist[k:] == 1).all() and (opp[k:] == 1).all()
    assert (miss[k:] == 0).all() and (upd[k:] == 1).all() and (sens[k:] == 4).all() and (score[k:] == 0).all()
    assert not conf[k:].any()


@pytest.mark.parametrize("seed", SEEDS)
def test_assigned_pairs_matches_tracker_helper(seed):
    rng = np.random.default_rng(seed)
    n, m = 10, 8
    pairs = np.sort(rng.choice(n * m, 30, replace=False))
    g = trk.assoc.Gates(pairs // m, pairs % m, rng.uniform(0, 10, 30), rng.uniform(0, 10, 30))
    assigned = trk.assoc.gnn(n, m, g, np.full(n, 12.0))
    got = K.assigned_pairs(g.track, g.meas, g.d2, g.logdet, assigned)
    ref = trk._assigned_pairs(g, assigned, m)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("model", [flt.ConstantVelocity(q=3.0), flt.ConstantAcceleration(q=0.2), flt.Ballistic(q=0.1, q_theta=1e-9)],
                         ids=lambda m: m.name)
def test_fused_prediction_covariance_is_the_dense_product_bit_for_bit(seed, model):
    """predict_fused sums F P F^T over F's non-zero entries only: for finite covariances
    the same bits as the dense sums of every term in the same order (cov_predict)."""
    rng = np.random.default_rng(seed)
    n, d = 12, model.dim
    x, P = states(rng, n, d), covs(rng, n, d)
    if isinstance(model, flt.Ballistic):
        x[:, 6] = rng.uniform(-1e-4, 1e-3, n)
    dt = rng.uniform(0.1, 30.0, n)
    dt[0] = 0.0  # F = I: zeros off the diagonal
    spec = flt._single_spec(model)
    _, _, _, xp, Pp = K.predict_fused(np.ones((n, 1)), x[None], P[None], dt, np.ones((n, 1, 1)), *spec)
    xr, F, Q = model.predict(x, dt)
    np.testing.assert_array_equal(xp, xr)
    np.testing.assert_array_equal(Pp, K.cov_predict(P, np.arange(d), np.ascontiguousarray(F), np.ascontiguousarray(Q)))


@pytest.mark.parametrize("earth", ["wgs84", "sphere", "sphere-with-drag", "no-rotation"])
def test_fused_acceleration_is_earths_acceleration_bit_for_bit(earth):
    """The ballistic Jacobian's stages take the acceleration from
    _acceleration_and_jacobian, which shares the height and density with the
    derivatives: its value must stay earth._acceleration's, bit for bit (from below the
    ground to 2,000 km, 1/beta zero, negative or positive)."""
    import dataclasses  # noqa: PLC0415

    from hoplon.core.earth import WGS84, _acceleration  # noqa: PLC0415

    model = {"wgs84": WGS84, "sphere": earth_model("sphere"),
             "sphere-with-drag": dataclasses.replace(earth_model("sphere"), drag=True),
             "no-rotation": dataclasses.replace(WGS84, omega_rad_s=0.0)}[earth]
    p = model.params()
    rng = np.random.default_rng(5)
    A = np.empty((3, 7))
    A2 = np.empty((3, 7))
    n = 400
    lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    alt = np.concatenate([rng.uniform(-2e3, 120e3, n // 2), rng.uniform(120e3, 2e6, n - n // 2)])
    r = np.asarray(geodetic_to_ecef(lat, lon, alt)).reshape(n, 3)
    v = rng.normal(scale=2_000.0, size=(n, 3))
    v[0] = 0.0
    thetas = rng.choice([0.0, 2e-4, 5e-3, -1e-3], n)
    for i in range(n):
        args = (*r[i], *v[i], thetas[i])
        ref_a = _acceleration(*args, p)
        got = K._acceleration_and_jacobian(*args, p, A)
        assert np.array_equal(np.array(got), np.array(ref_a)), (earth, i, got, ref_a)
        K._acceleration_jacobian(*args, p, A2)
        np.testing.assert_array_equal(A, A2)


@given(st.lists(st.sampled_from([0.0, 1.0, 2.5, -3.0, np.inf, -np.inf, np.nan]) | st.floats(allow_nan=True), max_size=70))
@settings(max_examples=200, deadline=None)
def test_stable_argsort_is_numpys_mergesort(values):
    # the two-point pairing's sort on scratch: numpy's stable order (ties in input order,
    # NaN last), including the runs of equal keys a merge must keep in order
    keys = np.array(values + [0.0] * 3, dtype=float)  # spare entries past count are ignored
    count = len(values)
    order = np.full(keys.shape[0], -1, np.int64)
    K._stable_argsort(keys, count, order, np.empty(keys.shape[0], np.int64))
    np.testing.assert_array_equal(order[:count], np.argsort(keys[:count], kind="stable"))
