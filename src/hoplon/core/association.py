"""Data association: gating, global nearest neighbour, and JPDA marginals.

Gating keeps the (track, measurement) pairs whose squared Mahalanobis distance of the
innovation is below a chi-square quantile. For many tracks and measurements a k-d tree
on Cartesian positions first finds candidate pairs within a radius that bounds the gate,
so the cost grows with the number of candidates, not tracks x measurements.

Global nearest neighbour (GNN) minimises the sum of association costs
d^2 + ln |S| over a one-to-one assignment where a track may also go unassigned at the
cost of the gate (Blackman & Popoli, *Design and Analysis of Modern Tracking Systems*,
sec. 6.3); each connected component of the gating graph is solved exactly with
:func:`scipy.optimize.linear_sum_assignment`.

JPDA (Fortmann, Bar-Shalom & Scheffe 1983) gives each track the marginal probabilities
that each gated measurement, or none, is its own: exact enumeration of the joint events
within a component while it is small, and loopy belief propagation (Williams & Lau,
"Approximate evaluation of marginal association probabilities with belief propagation",
IEEE TAES 2014) beyond.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from scipy.stats import chi2

__all__ = ["Gates", "all_pairs", "candidate_pairs", "gate", "gate_threshold", "gnn", "jpda_marginals", "components", "EXACT_JPDA_MAX_EVENTS"]

EXACT_JPDA_MAX_EVENTS = 20_000
"""Largest number of joint events enumerated exactly in one component."""


def gate_threshold(probability: float, dim: int) -> float:
    """Chi-square gate on the squared Mahalanobis distance holding ``probability``."""
    return float(chi2.ppf(probability, dim))


class Gates(NamedTuple):
    """Gated pairs: track index, measurement index, squared Mahalanobis distance and
    ln|S| of each pair (arrays of the same length)."""

    track: np.ndarray
    meas: np.ndarray
    d2: np.ndarray
    logdet: np.ndarray


def all_pairs(n_tracks: int, n_meas: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (track, measurement) index pair."""
    ti, mj = np.divmod(np.arange(n_tracks * n_meas, dtype=np.int64), max(n_meas, 1))
    return ti, mj


def gate(nu: np.ndarray, S_inv: np.ndarray, logdet: np.ndarray, track: np.ndarray, meas: np.ndarray,
         threshold: float) -> Gates:
    """Keep the pairs whose squared Mahalanobis distance nu^T S^-1 nu is within ``threshold``.

    ``nu`` (K, m) are the innovations of the candidate pairs ``track``/``meas`` (K,);
    ``S_inv`` (K, m, m) and ``logdet`` (K,) the inverses and log-determinants of their
    innovation covariances.
    """
    track = np.asarray(track, dtype=np.int64)
    meas = np.asarray(meas, dtype=np.int64)
    if track.size == 0:
        empty = np.empty(0)
        return Gates(track, meas, empty, empty)
    d2 = np.einsum("ki,kij,kj->k", nu, S_inv, nu)
    keep = d2 <= threshold
    return Gates(track[keep], meas[keep], d2[keep], np.broadcast_to(logdet, d2.shape)[keep])


def candidate_pairs(track_pos: np.ndarray, radius: np.ndarray, meas_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (track, measurement) with measurement positions within each track's radius (m)."""
    if len(track_pos) == 0 or len(meas_pos) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    tree = cKDTree(meas_pos)
    lists = tree.query_ball_point(track_pos, radius)
    counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    ti = np.repeat(np.arange(len(lists)), counts)
    mj = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
    return ti, mj


def components(n_tracks: int, n_meas: int, gates: Gates) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the gating graph: (count, label per track, label per measurement)."""
    n = n_tracks + n_meas
    if gates.track.size == 0:
        labels = np.arange(n)
    else:
        g = coo_matrix((np.ones(gates.track.size), (gates.track, n_tracks + gates.meas)), shape=(n, n))
        _, labels = connected_components(g, directed=False)
    return int(labels.max() + 1 if n else 0), labels[:n_tracks], labels[n_tracks:]


def gnn(n_tracks: int, n_meas: int, gates: Gates, miss_cost: np.ndarray, *, dense_limit: int = 250_000) -> np.ndarray:
    """Global nearest neighbour: the measurement index of each track, or -1.

    Pair cost d^2 + ln|S|; leaving track i unassigned costs ``miss_cost[i]``
    (usually the gate plus ln|S_i|). Solved exactly, as one dense problem when it has at
    most ``dense_limit`` cells, otherwise per connected component of the gating graph.
    """
    out = np.full(n_tracks, -1, dtype=np.int64)
    if gates.track.size == 0:
        return out
    if gates.track.size == 1:  # one pair: taken when cheaper than the miss
        if gates.d2[0] + gates.logdet[0] < miss_cost[gates.track[0]]:
            out[gates.track[0]] = gates.meas[0]
        return out
    cost_pair = gates.d2 + gates.logdet
    tr_all = np.unique(gates.track)
    if tr_all.size * (n_meas + tr_all.size) <= dense_limit:
        groups = [np.arange(gates.track.size)]
    else:
        _, lab_t, _ = components(n_tracks, n_meas, gates)
        comp = lab_t[gates.track]
        order = np.argsort(comp, kind="stable")
        groups = np.split(order, np.flatnonzero(np.diff(comp[order])) + 1)
    big = 1e18
    for grp in groups:
        tr = np.unique(gates.track[grp])
        ms = np.unique(gates.meas[grp])
        if tr.size == 1 and ms.size == 1:
            if cost_pair[grp[0]] < miss_cost[tr[0]]:
                out[tr[0]] = ms[0]
            continue
        ti = np.searchsorted(tr, gates.track[grp])
        mi = np.searchsorted(ms, gates.meas[grp])
        C = np.full((tr.size, ms.size + tr.size), big)
        C[ti, mi] = cost_pair[grp]
        C[np.arange(tr.size), ms.size + np.arange(tr.size)] = miss_cost[tr]
        rows, cols = linear_sum_assignment(C)
        hit = cols < ms.size
        out[tr[rows[hit]]] = ms[cols[hit]]
    return out


def _likelihood_ratios(gates: Gates, m_dim: int, pd: np.ndarray, clutter_density: float) -> np.ndarray:
    """Pd N(nu; 0, S) / lambda for each gated pair (the JPDA association weights)."""
    g = np.exp(-0.5 * (gates.d2 + gates.logdet + m_dim * math.log(2 * math.pi)))
    return pd[gates.track] * g / clutter_density


def jpda_marginals(
    n_tracks: int,
    n_meas: int,
    gates: Gates,
    m_dim: int,
    *,
    pd: np.ndarray,
    pg: float,
    clutter_density: float,
    max_events: int = EXACT_JPDA_MAX_EVENTS,
    bp_iterations: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Marginal association probabilities of JPDA.

    Returns ``beta`` (K,) for each gated pair of ``gates`` and ``beta0`` (N,), the
    probability that track i has no measurement. Each component of the gating graph is
    enumerated exactly when its joint events are at most ``max_events``, otherwise
    approximated by loopy belief propagation.
    """
    beta = np.zeros(gates.track.size)
    miss = 1.0 - pd * pg  # weight of "no measurement" per track
    beta0 = np.ones(n_tracks)
    if gates.track.size == 0:
        return beta, beta0
    ratio = _likelihood_ratios(gates, m_dim, pd, clutter_density)
    _, lab_t, _ = components(n_tracks, n_meas, gates)
    comp = lab_t[gates.track]
    order = np.argsort(comp, kind="stable")
    for grp in np.split(order, np.flatnonzero(np.diff(comp[order])) + 1):
        tr = np.unique(gates.track[grp])
        ms = np.unique(gates.meas[grp])
        ti = np.searchsorted(tr, gates.track[grp])
        mi = np.searchsorted(ms, gates.meas[grp])
        W = np.zeros((tr.size, ms.size))
        W[ti, mi] = ratio[grp] / np.maximum(miss[tr][ti], 1e-300)  # relative to missing
        options = [np.flatnonzero(W[i] > 0) for i in range(tr.size)]
        n_events = math.prod(len(o) + 1 for o in options)
        if n_events <= max_events:
            p, p0 = _jpda_exact(W, options)
        else:
            p, p0 = _jpda_bp(W, bp_iterations)
        beta[grp] = p[ti, mi]
        beta0[tr] = p0
    return beta, beta0


def _jpda_exact(W: np.ndarray, options: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Exact marginals by enumerating feasible joint events (depth-first)."""
    n, m = W.shape
    acc = np.zeros((n, m))
    acc0 = np.zeros(n)
    total = 0.0
    used = np.zeros(m, dtype=bool)
    choice = np.full(n, -1)

    def rec(i: int, weight: float) -> None:
        nonlocal total
        if i == n:
            total += weight
            for k in range(n):
                if choice[k] < 0:
                    acc0[k] += weight
                else:
                    acc[k, choice[k]] += weight
            return
        choice[i] = -1
        rec(i + 1, weight)
        for j in options[i]:
            if not used[j]:
                used[j] = True
                choice[i] = j
                rec(i + 1, weight * W[i, j])
                used[j] = False
        choice[i] = -1

    rec(0, 1.0)
    return acc / total, acc0 / total


def _jpda_bp(W: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """Loopy belief propagation marginals (Williams & Lau 2014), W relative to missing."""
    n, m = W.shape
    mask = W > 0
    nu = np.ones((n, m))  # messages measurement -> track
    for _ in range(iterations):
        mu = W / (1.0 + np.sum(W * nu, axis=1, keepdims=True) - W * nu)  # track -> measurement
        mu = np.where(mask, mu, 0.0)
        new_nu = 1.0 / (1.0 + np.sum(mu, axis=0, keepdims=True) - mu)
        if np.max(np.abs(new_nu - nu)) < 1e-10:
            nu = new_nu
            break
        nu = new_nu
    denom = 1.0 + np.sum(W * nu, axis=1)
    p = W * nu / denom[:, None]
    return p, 1.0 / denom
