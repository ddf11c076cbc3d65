"""Static weapon-target assignment (WTA): an exact solver with a certified bound, and a fast
heuristic.

Problem (Manne 1958; Ahuja, Kumar, Jha & Orlin, *Oper. Res.* 55(6), 2007): W weapon units,
T targets of value V_j, single-shot kill probabilities p_ij. Each weapon is assigned to
exactly one target; minimise the expected surviving value

    F(x) = sum_j V_j prod_i (1 - p_ij)^x_ij .

**Exact solver** (:func:`solve_exact`), a price-and-enumerate method:

1. An incumbent from the heuristic gives an upper bound UB.
2. Column generation solves the LP relaxation of the set-partitioning form, whose columns
   are (target j, weapon set S) with cost c_jS = V_j prod_{i in S} (1 - p_ij); each weapon
   row and each target row is covered exactly once (the empty set is a column too). Its
   bound is the convex hull of each target's cost, far tighter than the convex (outer
   approximation) relaxation of the compact model. Pricing is exact: for duals u (weapons)
   and s (targets) the reduced cost rc_jS = c_jS - u(S) - s_j is minimised per target by
   depth-first search, pruned by diminishing returns (adding weapon i to S changes the cost
   by -V_j p_ij prod_S(1 - p), whose magnitude only shrinks as S grows).
   At any duals the Lagrangian bound LB = sum u + sum s + sum_j min(0, min_S rc_jS) is a
   certified lower bound.
3. The set-partitioning MILP restricted to the generated columns (HiGHS; "price and
   branch") gives a better incumbent, often the optimum, which then closes the gap at once
   (on `raid`'s instances of ~190 rounds x ~170 threats, ~0.1 s instead of seconds).
4. Every feasible assignment satisfies F(x) = LB_dual + sum of its columns' reduced costs,
   so an assignment better than UB only uses columns with rc_jS <= UB - LB. The search
   enumerates all of them and solves the set-partitioning MILP over them with HiGHS: its
   optimum is the global optimum. With Ahuja's instances the LP gap is tiny and few
   columns survive.

**Small instances** (a dynamic program of at most ``DP_MAX_WORK`` steps: targets x
allocations of the units of each weapon type) are solved exactly by dynamic programming
over the targets instead (:func:`_dp_allocation`); the heuristic's assignment is kept
when it is within the gap of that optimum.

**Heuristic** (:func:`solve_heuristic`): the maximum-marginal-return greedy (each step
assigns the weapon-target pair with the largest drop in expected surviving value) followed
by local search over single-weapon moves and pairwise swaps until neither improves, all
compiled with numba.

All probabilities are in [0, 1]; values are non-negative. Times are wall-clock seconds.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
from numba import njit
from scipy.optimize import linear_sum_assignment

__all__ = [
    "WTASolution",
    "check_instance",
    "lagrangian_bound",
    "solve_exact",
    "solve_heuristic",
    "solve_wta",
    "surviving_value",
]

_P_MAX = 1.0 - 1e-12
"""Kill probabilities are clipped to this inside move evaluations (a division by 1 - p)."""
_RC_EPS = 1e-9
_SMOOTHING = 0.5
_INITIAL_SINGLETONS = 10
_SIMPLEX = 4
"""Wentges smoothing weight of the stability centre in column generation."""
"""Columns priced below -_RC_EPS enter the master problem."""


class WTASolution(NamedTuple):
    """A WTA solution.

    ``assignment`` holds one target index per weapon; ``objective`` is its expected
    surviving value; ``lower_bound`` is a certified lower bound on the optimum (``None``
    for the heuristic); ``status`` is ``"optimal"`` (gap within tolerance), ``"feasible"``
    or ``"time_limit"``; ``solve_time_s`` is wall-clock seconds.
    """

    assignment: np.ndarray
    objective: float
    lower_bound: float | None
    status: str
    solve_time_s: float
    details: dict | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap (objective - lower bound) / objective, or None without a bound."""
        if self.lower_bound is None:
            return None
        return (self.objective - self.lower_bound) / max(abs(self.objective), 1e-300)


def check_instance(values, pk) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return (values (T,), pk (W, T)) as float arrays.

    Raises ValueError naming the problem: ragged or non-numeric rows, probabilities outside
    [0, 1], negative or non-finite values, no weapons or no targets.
    """
    try:
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"values: not a list of numbers ({exc})") from None
    if v.ndim != 1 or v.size == 0:
        raise ValueError("values: must be a non-empty list of numbers, one per target")
    if not _all_within(v, 0.0, math.inf, False):  # (NaN fails)
        bad = int(np.flatnonzero(~np.isfinite(v) | (v < 0.0))[0])
        raise ValueError(f"values[{bad}]: must be a finite number >= 0, got {v[bad]!r}")
    if not isinstance(pk, np.ndarray):
        rows = list(pk) if isinstance(pk, (list, tuple)) else None
        if rows is None:
            raise ValueError("pk: must be a list of rows, one per weapon")
        for i, row in enumerate(rows):
            if not isinstance(row, (list, tuple, np.ndarray)) or len(row) != v.size:
                got = len(row) if isinstance(row, (list, tuple, np.ndarray)) else type(row).__name__
                raise ValueError(f"pk[{i}]: must be a row of {v.size} probabilities (one per target), got {got}")
    try:
        p = np.asarray(pk, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pk: not a table of numbers ({exc})") from None
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError("pk: must be a non-empty list of rows, one per weapon")
    if p.shape[1] != v.size:
        raise ValueError(f"pk: rows have {p.shape[1]} entries but there are {v.size} targets")
    if not _all_within(p, 0.0, 1.0, True):  # (NaN fails)
        bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
        i, j = (int(k) for k in np.argwhere(bad)[0])
        raise ValueError(f"pk[{i}][{j}]: kill probability must be in [0, 1], got {p[i, j]!r}")
    return v, p


@njit(cache=True)
def _all_within(x, lo, hi, hi_included) -> bool:
    """Whether every element of ``x`` is >= ``lo`` and below ``hi`` (or at most ``hi``,
    ``hi_included``); a NaN is not."""
    for e in x.flat:
        if not (e >= lo and (e <= hi if hi_included else e < hi)):
            return False
    return True


def surviving_value(values, pk, assignment) -> float:
    """Expected surviving value sum_j V_j prod_i (1 - p_ij)^x_ij of an assignment (one
    target index per weapon; -1 leaves a weapon unassigned)."""
    v = np.asarray(values, dtype=float).copy()
    p = np.asarray(pk, dtype=float)
    a = np.asarray(assignment, dtype=np.int64)
    used = a >= 0
    np.multiply.at(v, a[used], 1.0 - p[np.flatnonzero(used), a[used]])
    return float(v.sum())


@njit(cache=True)
def _objective(values: np.ndarray, pk: np.ndarray, assignment: np.ndarray) -> float:
    """:func:`surviving_value` of a checked instance and a complete assignment (every
    weapon assigned), compiled: the same products in the same order (:func:`_surv_of`)
    and the same sum (:func:`_numpy_sum`)."""
    return _numpy_sum(_surv_of(values, pk, assignment))


@njit(cache=True)
def _numpy_sum(x) -> float:
    """numpy's sum of a 1-D float array, bit for bit: its reduction's initial 0.0 plus the
    pairwise summation of the elements (numpy's ``pairwise_sum``): a block of up to 128
    elements by :func:`_block_sum`; a longer run as the sum of its two halves (the first
    a multiple of 8), each summed apart (here by a stack, not by recursion, which numba's
    cache does not load)."""
    n = x.size
    if n <= 128:
        return 0.0 + _block_sum(x, 0, n)
    # post-order over the halving tree: runs to visit (start, length, halves summed) and sums
    runs = np.empty((64, 3), np.int64)
    sums = np.empty(64)
    runs[0, 0], runs[0, 1], runs[0, 2] = 0, n, 0
    n_runs, n_sums = 1, 0
    while n_runs:
        n_runs -= 1
        first, length, halves_done = runs[n_runs, 0], runs[n_runs, 1], runs[n_runs, 2]
        if length <= 128:
            sums[n_sums] = _block_sum(x, first, length)
            n_sums += 1
        elif halves_done:
            n_sums -= 1
            sums[n_sums - 1] += sums[n_sums]
        else:
            half = length // 2
            half -= half % 8
            runs[n_runs, 2] = 1  # back after its halves
            runs[n_runs + 1, 0], runs[n_runs + 1, 1], runs[n_runs + 1, 2] = first + half, length - half, 0
            runs[n_runs + 2, 0], runs[n_runs + 2, 1], runs[n_runs + 2, 2] = first, half, 0
            n_runs += 3
    return 0.0 + sums[0]


@njit(cache=True)
def _block_sum(x, start: int, n: int) -> float:
    """numpy's pairwise summation of ``x[start:start + n]`` for n <= 128: under 8 elements
    left to right, else in 8 interleaved partial sums combined pairwise, then the rest
    left to right."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += x[i]
        return res
    r = x[start:start + 8].copy()
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += x[start + i + k]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += x[start + i]
        i += 1
    return res


# --------------------------------------------------------------------------- heuristic


@njit(cache=True)
def _greedy_mmr(values, pk):
    """Maximum marginal return: repeatedly assign the free weapon-target pair with the
    largest drop in expected surviving value. Returns the assignment (W,)."""
    n_w, n_t = pk.shape
    surv = values.copy()
    assignment = np.full(n_w, -1, np.int64)
    best_t = np.empty(n_w, np.int64)
    best_gain = np.empty(n_w)
    for i in range(n_w):
        bj, bg = 0, -1.0
        for j in range(n_t):
            g = surv[j] * pk[i, j]
            if g > bg:
                bj, bg = j, g
        best_t[i], best_gain[i] = bj, bg
    for _ in range(n_w):
        wi, wg = -1, -1.0
        for i in range(n_w):
            if assignment[i] < 0 and best_gain[i] > wg:
                wi, wg = i, best_gain[i]
        j = best_t[wi]
        assignment[wi] = j
        surv[j] *= 1.0 - pk[wi, j]
        for i in range(n_w):  # only weapons whose best target was j can change their best
            if assignment[i] < 0 and best_t[i] == j:
                bj, bg = 0, -1.0
                for k in range(n_t):
                    g = surv[k] * pk[i, k]
                    if g > bg:
                        bj, bg = k, g
                best_t[i], best_gain[i] = bj, bg
    return assignment


@njit(cache=True)
def _surv_of(values, pk, assignment):
    surv = values.copy()
    for i in range(assignment.size):
        surv[assignment[i]] *= 1.0 - pk[i, assignment[i]]
    return surv


@njit(cache=True)
def _local_search(values, pk, assignment, max_rounds):
    """First-improvement local search over moves (one weapon to another target) and swaps
    (two weapons exchange targets) until neither improves by more than 1e-12 relative."""
    n_w, n_t = pk.shape
    q = np.minimum(pk, _P_MAX)
    keep = 1.0 - q
    for _ in range(max_rounds):
        surv = _surv_of(values, q, assignment)  # refresh: no drift from repeated divisions
        tol = 1e-12 * max(surv.sum(), 1e-300)
        improved = False
        for i in range(n_w):  # moves
            a = assignment[i]
            without = surv[a] / keep[i, a]
            release = without - surv[a]
            bj, bd = -1, -tol
            for b in range(n_t):
                if b != a:
                    d = release - surv[b] * q[i, b]
                    if d < bd:
                        bj, bd = b, d
            if bj >= 0:
                surv[a] = without
                surv[bj] *= keep[i, bj]
                assignment[i] = bj
                improved = True
        for i in range(n_w):  # swaps
            a = assignment[i]
            for k in range(i + 1, n_w):
                b = assignment[k]
                if a == b:
                    continue
                new_a = surv[a] / keep[i, a] * keep[k, a]
                new_b = surv[b] / keep[k, b] * keep[i, b]
                if new_a + new_b < surv[a] + surv[b] - tol:
                    surv[a], surv[b] = new_a, new_b
                    assignment[i], assignment[k] = b, a
                    a = b
                    improved = True
        if not improved:
            break
    return assignment


def _slot_assignment(values: np.ndarray, pk: np.ndarray) -> np.ndarray:
    """Assignment-problem start: target j offers K = ceil(W / T) slots, slot k worth the
    estimated marginal V_j (1 - pbar_j)^k p_ij (pbar_j: mean kill probability on j); one
    linear assignment (scipy, Jonker-Volgenant) fills them."""
    n_w, n_t = pk.shape
    k_slots = max(1, -(-n_w // n_t))
    pbar = pk.sum(axis=0) / n_w  # (the mean)
    gain = np.concatenate([(values * (1.0 - pbar) ** k)[None, :] * pk for k in range(k_slots)], axis=1)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    a = np.empty(n_w, np.int64)
    a[rows] = cols % n_t
    return a


def solve_heuristic(values, pk, *, max_rounds: int = 1000) -> WTASolution:
    """Best of two starts, each polished by move/swap local search: the slot assignment
    problem and the maximum-marginal-return greedy. No lower bound."""
    t0 = time.perf_counter()
    v, p = check_instance(values, pk)
    best, best_obj = _heuristic(v, p, max_rounds)
    return WTASolution(best, best_obj, None, "feasible", time.perf_counter() - t0)


def _heuristic(v: np.ndarray, p: np.ndarray, max_rounds: int = 1000) -> tuple[np.ndarray, float]:
    """:func:`solve_heuristic`'s assignment and objective on a checked instance."""
    return _polished_best(v, p, _slot_assignment(v, p), max_rounds)


@njit(cache=True)
def _polished_best(values, pk, slot_start, max_rounds):
    """The starts ``slot_start`` (:func:`_slot_assignment`'s, changed in place) and the
    greedy's, each polished by :func:`_local_search`: the assignment of the lower
    :func:`_objective` (the slot start's where equal) and that objective."""
    best = _local_search(values, pk, slot_start, max_rounds)
    best_obj = _objective(values, pk, best)
    greedy = _local_search(values, pk, _greedy_mmr(values, pk), max_rounds)
    greedy_obj = _objective(values, pk, greedy)
    if greedy_obj < best_obj:
        return greedy, greedy_obj
    return best, best_obj


# --------------------------------------------------------------------------- columns and pricing


@njit(cache=True)
def _superset_bound(amp, start, order, ratio, q, price, mult):
    """Lower bound on min_T [amp * exp(-q(T)) + price(T)] - amp over multisets T of the
    candidates order[start:] (sorted by ratio = price / q ascending; candidate c at most
    mult[c] times): the continuous relaxation, a fractional knapsack in Q = q(T) whose
    optimum is a 1-D convex walk."""
    total = 0.0
    big_q = 0.0
    for k in range(start, order.size):
        c = order[k]
        if mult[c] <= 0:
            continue
        qc, pc = q[c] * mult[c], price[c] * mult[c]
        if price[c] <= 0.0:  # free or paid-to-take: always in the relaxation
            big_q += qc
            total += pc
            continue
        slope = amp * math.exp(-big_q)
        if ratio[c] >= slope:
            break
        # optimum inside this item's segment: amp exp(-Q) has slope ratio at Q = ln(amp / ratio)
        q_star = math.log(amp / ratio[c])
        if q_star < big_q + qc:
            total += ratio[c] * (q_star - big_q)
            big_q = q_star
            break
        big_q += qc
        total += pc
    return amp * math.exp(-big_q) + total - amp


@njit(cache=True)
def _target_columns(value, keep, price, sigma, threshold, tighten, order, counts, out_members, out_len, out_rc):
    """Depth-first search over weapon multisets S for one target.

    Weapons come in types (identical kill probabilities): keep: (K,) 1 - p of each type
    on the target; price: (K,) minus the type's dual; counts: (K,) units of each type;
    sigma: the target's dual. Reduced cost rc(S) = V prod_S keep + sum_S price - sigma.
    Records every non-empty S with rc(S) <= threshold (if ``tighten``, the threshold drops
    to each new best, so only improving columns are recorded and the last one is the
    minimum). ``order`` lists the types by price / (-ln keep) ascending; a type repeats
    up to its count, so no two recorded multisets are permutations of each other. Writes
    the members (type indices) into out_members and returns (count, minimum rc over
    non-empty S found or +inf, overflow flag).
    """
    m = order.size
    n_units = 0
    for k in range(m):
        n_units += counts[order[k]]
    q = np.empty(keep.size)
    ratio = np.empty(keep.size)
    for k in range(m):
        c = order[k]
        q[c] = -math.log(max(keep[c], 1e-300))
        ratio[c] = price[c] / q[c] if q[c] > 0.0 else (np.inf if price[c] >= 0.0 else -np.inf)
    # in tighten mode only improvements beyond this tolerance are searched for (ties in the
    # last ulp would otherwise keep whole subtrees alive)
    slack = 1e-10 * (abs(value) + abs(sigma) + 1.0) if tighten else 0.0
    mult = counts.copy()  # units of each type still free on the current path
    stack_pos = np.empty(n_units + 1, np.int64)  # next candidate position to try at each depth
    members = np.empty(n_units, np.int64)
    prods = np.empty(n_units + 1)
    prices = np.empty(n_units + 1)
    best = np.inf
    count = 0
    cap = out_rc.size
    depth = 0
    prods[0] = 1.0
    prices[0] = 0.0
    stack_pos[0] = 0
    overflow = False
    while depth >= 0:
        pos = stack_pos[depth]
        # skip types with no unit left on this path
        while pos < m and mult[order[pos]] <= 0:
            pos += 1
        if pos >= m:
            depth -= 1
            if depth >= 0:
                mult[members[depth]] += 1
            continue
        stack_pos[depth] = pos + 1
        # prune the rest of this level: multisets extending the parent by types >= pos
        parent_rc = value * prods[depth] + prices[depth] - sigma
        if parent_rc + _superset_bound(value * prods[depth], pos, order, ratio, q, price, mult) > threshold - slack:
            depth -= 1
            if depth >= 0:
                mult[members[depth]] += 1
            continue
        w = order[pos]
        prod = prods[depth] * keep[w]
        pr = prices[depth] + price[w]
        rc = value * prod + pr - sigma
        members[depth] = w
        if rc <= threshold:
            best = min(best, rc)
            if count < cap:
                for k in range(depth + 1):
                    out_members[count, k] = members[k]
                out_len[count] = depth + 1
                out_rc[count] = rc
                count += 1
            else:
                overflow = True
            if tighten and rc < threshold:
                threshold = rc
        elif rc < best:
            best = rc
        mult[w] -= 1  # children may take this type again while units remain
        if depth + 1 < n_units and rc + _superset_bound(value * prod, pos, order, ratio, q, price, mult) <= threshold - slack:
            depth += 1
            prods[depth] = prod
            prices[depth] = pr
            stack_pos[depth] = pos
        else:
            mult[w] += 1
    return count, best, overflow


class _Columns:
    """Growing store of set-partitioning columns (target, weapon set, cost)."""

    def __init__(self):
        self.target: list[int] = []
        self.members: list[tuple[int, ...]] = []
        self.cost: list[float] = []
        self.seen: set[tuple[int, tuple[int, ...]]] = set()

    def add(self, j: int, members: tuple[int, ...], cost: float) -> bool:
        key = (j, members)
        if key in self.seen:
            return False
        self.seen.add(key)
        self.target.append(j)
        self.members.append(members)
        self.cost.append(cost)
        return True


def _search_target(v_j, keep_j, price, sigma_j, threshold, tighten, cap, counts):
    """Columns of one target (see :func:`_target_columns`) as sorted tuples of type indices."""
    q = -np.log(np.maximum(keep_j, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q > 0.0, price / np.where(q > 0.0, q, 1.0), np.where(price >= 0.0, np.inf, -np.inf))
    order = np.argsort(ratio, kind="stable").astype(np.int64)
    width = max(int(counts.sum()), 1)
    members = np.empty((cap, width), np.int64)
    lengths = np.empty(cap, np.int64)
    rcs = np.empty(cap)
    count, best, overflow = _target_columns(v_j, keep_j, price, sigma_j, threshold, tighten, order, counts, members, lengths, rcs)
    sets = [tuple(sorted(int(x) for x in members[k, : lengths[k]])) for k in range(count)]
    return sets, rcs[:count], best, overflow


def lagrangian_bound(values, pk, weapon_duals, target_duals) -> float:
    """Certified lower bound sum u + sum s + sum_j min(0, min_S rc_jS) for any duals."""
    v, p = check_instance(values, pk)
    duals = np.concatenate([np.asarray(weapon_duals, dtype=float), np.asarray(target_duals, dtype=float)])
    bound, _ = _price(v, 1.0 - p, duals, np.ones(p.shape[0], np.int64))  # each weapon its own type
    return bound


# --------------------------------------------------------------------------- small instances


DP_MAX_WORK = 2_000_000
"""Instances whose dynamic program (:func:`_dp_allocation`) takes at most this many steps
(targets x sum over states of the allocations below them) are solved by it."""


def _dp_work(counts: np.ndarray, n_targets: int) -> float:
    """Steps of :func:`_dp_allocation`: T x prod_t (n_t + 1)(n_t + 2) / 2."""
    states = 1
    for n in counts.tolist():
        states *= (n + 1) * (n + 2) / 2
    return float(n_targets) * states


@njit(cache=True)
def _dp_allocation(values, keep, counts):
    """Exact optimum over allocations by dynamic programming across targets.

    ``keep`` (K, T): 1 - p of each weapon type on each target; ``counts`` (K,) units of
    each type. A state is the vector r of units still to place (mixed radix, digit t in
    0..n_t); f_j(r) = min over x <= r of V_j prod_t keep_tj^x_t + f_{j+1}(r - x), with
    f_T(0) = 0 and f_T(r) = inf otherwise (every unit is placed). Returns (optimum,
    allocation (K, T) of units per type and target); ties go to the first x in radix order.
    """
    n_k, n_t = keep.shape
    stride = np.empty(n_k, np.int64)
    n_s = 1
    for t in range(n_k):
        stride[t] = n_s
        n_s *= counts[t] + 1
    f_next = np.full(n_s, np.inf)
    f_next[0] = 0.0
    f = np.empty(n_s)
    choice = np.empty((n_t, n_s), np.int64)
    cost = np.empty(n_s)
    r = np.empty(n_k, np.int64)
    x = np.empty(n_k, np.int64)
    for j in range(n_t - 1, -1, -1):
        for s in range(n_s):  # cost of placing allocation s on target j
            c = values[j]
            for t in range(n_k):
                d = (s // stride[t]) % (counts[t] + 1)
                if d > 0:
                    c *= keep[t, j] ** d
            cost[s] = c
        for s in range(n_s):
            for t in range(n_k):
                r[t] = (s // stride[t]) % (counts[t] + 1)
                x[t] = 0
            best, arg, e = np.inf, 0, 0  # e: index of x
            while True:
                total = cost[e] + f_next[s - e]
                if total < best:
                    best, arg = total, e
                t = 0  # odometer over x <= r
                while t < n_k and x[t] == r[t]:
                    e -= x[t] * stride[t]
                    x[t] = 0
                    t += 1
                if t == n_k:
                    break
                x[t] += 1
                e += stride[t]
            f[s] = best
            choice[j, s] = arg
        f_next, f = f, f_next
    alloc = np.zeros((n_k, n_t), np.int64)
    s = n_s - 1
    for j in range(n_t):
        e = choice[j, s]
        for t in range(n_k):
            alloc[t, j] = (e // stride[t]) % (counts[t] + 1)
        s -= e
    return f_next[n_s - 1], alloc


def _assignment_from_allocation(alloc: np.ndarray, type_of: np.ndarray) -> np.ndarray:
    """Weapon assignment of an allocation (K, T): each type's weapons, in order, go to the
    targets in order (as :func:`_assignment_from_columns` hands out units)."""
    a = np.full(type_of.size, -1, np.int64)
    for t in range(alloc.shape[0]):
        weapons = np.flatnonzero(type_of == t)
        a[weapons] = np.repeat(np.arange(alloc.shape[1]), alloc[t])
    return a


# --------------------------------------------------------------------------- exact solver


def _highs(time_limit_s: float):
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit_s), 0.01))
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("threads", 1)
    return h


def _add_columns(h, cols: _Columns, start: int, n_w: int) -> None:
    """Add columns [start:] of ``cols`` to HiGHS model ``h`` (rows: weapon types, each
    with a coefficient of its units in the column, then targets)."""
    new = range(start, len(cols.cost))
    if not new:
        return
    starts, index, value = [], [], []
    for k in new:
        starts.append(len(index))
        types, units = np.unique(np.asarray(cols.members[k], dtype=np.int64), return_counts=True)
        index.extend(types.tolist())
        value.extend(units.tolist())
        index.append(n_w + cols.target[k])
        value.append(1)
    n = len(new)
    h.addCols(
        n,
        np.asarray(cols.cost[start:], dtype=float),
        np.zeros(n),
        np.full(n, np.inf),
        len(index),
        np.asarray(starts, dtype=np.int32),
        np.asarray(index, dtype=np.int32),
        np.asarray(value, dtype=float),
    )


def _assignment_from_columns(cols: _Columns, chosen, type_of: np.ndarray) -> np.ndarray:
    """Weapon assignment of chosen columns: each type's units go to its weapons in order."""
    a = np.full(type_of.size, -1, np.int64)
    free = {int(t): list(np.flatnonzero(type_of == t)) for t in np.unique(type_of)}
    for k in sorted(chosen, key=lambda k: (cols.target[k], cols.members[k])):
        for t in cols.members[k]:
            if free[t]:
                a[free[t].pop(0)] = cols.target[k]
    return a


@njit(cache=True)
def _weapon_types(pk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identical weapons grouped: (type of each weapon (W,), kill probabilities per type
    (K, T), units per type (K,)), types in order of first appearance (rows equal when
    every probability is: -0.0 and 0.0 alike; a checked instance has no NaN)."""
    n_w, n_t = pk.shape
    type_of = np.empty(n_w, np.int64)
    first = np.empty(n_w, np.int64)  # the first weapon of each type
    n_types = 0
    for i in range(n_w):
        type_of[i] = -1
        for k in range(n_types):
            same = True
            for j in range(n_t):
                if pk[i, j] != pk[first[k], j]:
                    same = False
                    break
            if same:
                type_of[i] = k
                break
        if type_of[i] < 0:
            type_of[i], first[n_types] = n_types, i
            n_types += 1
    counts = np.zeros(n_types, np.int64)
    for i in range(n_w):
        counts[type_of[i]] += 1
    return type_of, pk[first[:n_types]], counts


def solve_exact(values, pk, *, time_limit_s: float = 60.0, gap: float = 1e-6, max_columns: int = 2_000_000,
                dp_max_work: float = DP_MAX_WORK) -> WTASolution:
    """Optimal assignment with a certified lower bound (price-and-enumerate; see module).

    Small instances (a dynamic program of at most ``dp_max_work`` steps over the units per
    weapon type; 0 turns it off) are solved exactly by that program instead; the heuristic's
    assignment is kept when it is within ``gap`` of the optimum.

    Stops when (objective - bound) / objective <= ``gap`` ("optimal"), at the time limit
    ("time_limit"), or when more than ``max_columns`` columns would need enumerating
    ("feasible"); the last two return the best assignment and the best certified bound.
    ``details`` reports the LP bound, column-generation rounds and column counts.
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    v_in, p = check_instance(values, pk)
    # solve with values scaled to a maximum of 1: the LP and MILP tolerances are absolute
    largest = v_in.max()
    scale = float(largest) if largest > 0.0 else 1.0
    v = v_in / scale
    incumbent, ub = _heuristic(v, p)
    state = _ExactState(v, p, incumbent, ub, gap)

    def done(status: str) -> WTASolution:
        state.details["seconds"] = time.perf_counter() - t0
        state.details["value_scale"] = scale
        objective = _objective(v_in, p, state.incumbent)
        bound = min(min(state.lb, state.ub) * scale, objective)
        return WTASolution(state.incumbent, objective, bound, status, time.perf_counter() - t0, state.details)

    if state.closed():
        return done("optimal")
    if _dp_work(state.counts, v.size) <= dp_max_work:  # small: the dynamic program's optimum
        optimum, alloc = _dp_allocation(v, np.ascontiguousarray(state.keep), state.counts)
        if not state.closed_by(optimum):
            state.offer(_assignment_from_allocation(alloc, state.type_of))
        state.lb = min(optimum, state.ub)
        state.details["dynamic_program"] = True
        return done("optimal")
    duals = _column_generation(state, deadline)
    if duals is None:
        return done("time_limit")
    if state.closed():
        return done("optimal")
    # price and branch: the MILP over column generation's columns, a better incumbent (often
    # the optimum, closing the gap) that leaves fewer columns to enumerate
    restricted = _Columns()
    for j, ws in enumerate(state.incumbent_sets()):  # first, as _partition_milp expects
        restricted.add(j, ws, state.cost(j, ws))
    for j, ws, c in zip(state.cg_columns.target, state.cg_columns.members, state.cg_columns.cost):
        restricted.add(j, ws, c)
    ub = state.ub
    if not _partition_milp(state, restricted, deadline, restricted=True) and time.perf_counter() > deadline:
        return done("time_limit")
    state.details["restricted_milp_improvement"] = (ub - state.ub) * scale
    if state.closed():
        return done("optimal")
    enum = _enumerate_columns(state, duals, deadline, max_columns)
    if enum is None:
        return done("time_limit" if time.perf_counter() > deadline else "feasible")
    if not _partition_milp(state, enum, deadline):
        return done("time_limit")
    return done("optimal" if state.closed() else "feasible")


class _ExactState:
    """Incumbent, bounds and bookkeeping shared by the stages of :func:`solve_exact`.

    Identical weapons form one type (one row of the set-partitioning problem, with its
    number of units on the right-hand side), so no column is a permutation of another."""

    def __init__(self, values, pk, incumbent, ub, gap):
        self.values, self.gap, self.pk = values, gap, pk
        self.type_of, p_types, self.counts = _weapon_types(pk)
        self.keep = 1.0 - p_types  # (K, T)
        self.incumbent, self.ub, self.lb = incumbent, ub, -math.inf
        self.cg_columns = _Columns()  # column generation's columns
        self.details: dict = {"heuristic_objective": ub, "weapon_types": int(self.counts.size)}

    @property
    def n_types(self) -> int:
        return self.keep.shape[0]

    def closed(self) -> bool:
        return self.closed_by(self.lb)

    def closed_by(self, bound: float) -> bool:
        return self.ub - bound <= self.gap * max(abs(self.ub), 1e-300)

    def incumbent_sets(self) -> list[tuple[int, ...]]:
        sets: list[list[int]] = [[] for _ in range(self.values.size)]
        for i, j in enumerate(self.incumbent):
            sets[int(j)].append(int(self.type_of[i]))
        return [tuple(sorted(ws)) for ws in sets]

    def cost(self, j: int, ws) -> float:
        return float(self.values[j] * np.prod(self.keep[list(ws), j])) if ws else float(self.values[j])

    def offer(self, assignment: np.ndarray) -> None:
        obj = _objective(self.values, self.pk, assignment)
        if obj < self.ub:
            self.incumbent, self.ub = assignment, obj


def _column_generation(state: _ExactState, deadline: float) -> np.ndarray | None:
    """Solve the set-partitioning LP by column generation with Wentges dual smoothing
    (price between the stability centre, the best duals so far, and the LP duals; every
    pricing is a certified Lagrangian bound). Raises ``state.lb`` to the LP bound and
    returns the centre duals, or None at the time limit."""
    v, keep, n_w, counts = state.values, state.keep, state.n_types, state.counts
    n_t = v.size
    cols = _Columns()
    for j, ws in enumerate(state.incumbent_sets()):
        cols.add(j, (), float(v[j]))
        cols.add(j, ws, state.cost(j, ws))
    # more weapons than targets: every (type, target) pair from the start (fewer
    # degenerate LP rounds); otherwise each type's best few targets
    k = n_t if counts.sum() > n_t else min(n_t, _INITIAL_SINGLETONS)
    best = np.argsort(-(v[None, :] * (1.0 - keep)), axis=1, kind="stable")[:, :k]
    for i in range(n_w):
        for j in best[i]:
            cols.add(int(j), (i,), float(v[j] * keep[i, j]))

    state.cg_columns = cols
    h = _highs(deadline - time.perf_counter())
    h.setOptionValue("simplex_strategy", _SIMPLEX)  # added columns keep the basis primal feasible
    rhs = np.concatenate([counts.astype(float), np.ones(n_t)])
    h.addRows(n_w + n_t, rhs, rhs, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    _add_columns(h, cols, 0, n_w)
    centre = _incumbent_duals(state)
    centre_bound, _ = _price(v, keep, centre, counts)
    state.lb = max(state.lb, centre_bound)
    rounds = 0
    while True:
        rounds += 1
        h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.01))
        h.run()
        if h.getModelStatus() != _model_status("kOptimal"):
            return None
        lp_value = float(h.getInfo().objective_function_value)
        duals_out = np.asarray(h.getSolution().row_dual, dtype=float)
        n_before = len(cols.cost)
        alpha = _SMOOTHING
        while True:
            duals = alpha * centre + (1.0 - alpha) * duals_out
            bound, found = _price(v, keep, duals, counts)
            if bound > centre_bound:
                centre, centre_bound = duals, bound
            for j, ws, cost in found:  # columns that improve the current LP
                if cost - duals_out[list(ws)].sum() - duals_out[n_w + j] < -_RC_EPS:
                    cols.add(j, ws, cost)
            if len(cols.cost) > n_before or alpha == 0.0:
                break
            alpha = 0.0 if alpha < 0.1 else alpha * 0.5  # mis-pricing: step toward the LP duals
        state.lb = max(state.lb, centre_bound)
        state.details.update(lp_bound=centre_bound, lp_value=lp_value, cg_rounds=rounds, lp_columns=len(cols.cost))
        if state.closed():
            return centre
        if len(cols.cost) == n_before or lp_value - centre_bound <= 1e-9 * max(abs(lp_value), 1.0):
            return centre  # LP optimal: lb is the LP bound
        if time.perf_counter() > deadline:
            return None
        _add_columns(h, cols, n_before, n_w)


def _enumerate_columns(state: _ExactState, duals: np.ndarray, deadline: float, max_columns: int) -> _Columns | None:
    """Every column whose reduced cost at ``duals`` is within UB - LB: together they hold
    every assignment better than the incumbent. None if over ``max_columns`` or time."""
    v, keep, n_w = state.values, state.keep, state.n_types
    price, s = -duals[:n_w], duals[n_w:]
    threshold = state.ub - state.lb + 1e-9 * max(abs(state.ub), 1.0)
    enum = _Columns()
    for j, ws in enumerate(state.incumbent_sets()):  # keeps the MILP feasible
        enum.add(j, ws, state.cost(j, ws))
    for j in range(v.size):
        cap = 4096
        while True:
            sets, _, _, overflow = _search_target(v[j], keep[:, j].copy(), price, s[j], threshold, False, cap, state.counts)
            if not overflow:
                break
            cap *= 4
            if cap > max_columns:
                return None
        if v[j] - s[j] <= threshold:
            enum.add(j, (), float(v[j]))
        for ws in sets:
            enum.add(j, ws, state.cost(j, ws))
        if len(enum.cost) > max_columns or time.perf_counter() > deadline:
            return None
    state.details["enumerated_columns"] = len(enum.cost)
    return enum


def _partition_milp(state: _ExactState, enum: _Columns, deadline: float, *, restricted: bool = False) -> bool:
    """Solve the set-partitioning MILP over the enumerated columns with HiGHS, starting from
    the incumbent. Its optimum is the global optimum; returns False at the time limit.
    ``restricted``: the columns are only some (column generation's), so the MILP's optimum
    is an incumbent, not a bound."""
    import highspy

    n_w, n_t = state.n_types, state.values.size
    m = _highs(deadline - time.perf_counter())
    m.setOptionValue("mip_rel_gap", state.gap)
    m.setOptionValue("mip_abs_gap", 0.0)
    rhs = np.concatenate([state.counts.astype(float), np.ones(n_t)])
    m.addRows(n_w + n_t, rhs, rhs, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    _add_columns(m, enum, 0, n_w)
    n_cols = len(enum.cost)
    every = np.arange(n_cols, dtype=np.int32)
    m.changeColsIntegrality(n_cols, every, np.full(n_cols, highspy.HighsVarType.kInteger))
    m.changeColsBounds(n_cols, every, np.zeros(n_cols), np.ones(n_cols))
    start = np.zeros(n_cols)
    start[:n_t] = 1.0  # the incumbent's columns come first
    sol = highspy.HighsSolution()
    sol.col_value = start.tolist()
    sol.value_valid = True
    m.setSolution(sol)
    m.run()
    info = m.getInfo()
    x = np.asarray(m.getSolution().col_value)
    if x.size == n_cols and info.primal_solution_status >= 2:
        cand = _assignment_from_columns(enum, np.flatnonzero(x > 0.5), state.type_of)
        if np.all(cand >= 0):
            state.offer(cand)
    if np.isfinite(info.mip_dual_bound) and not restricted:
        state.lb = max(state.lb, min(state.ub, float(info.mip_dual_bound)))
    return m.getModelStatus() == _model_status("kOptimal")


def _incumbent_duals(state: _ExactState) -> np.ndarray:
    """Duals near the incumbent: each weapon's price is what its target's surviving value
    would rise by without it; a type's price is the mean over its weapons (type duals are
    minus prices), and each target's dual prices its incumbent column at zero."""
    v, keep_w, a = state.values, 1.0 - state.pk, state.incumbent
    n_w = a.size
    surv = v.copy()
    np.multiply.at(surv, a, keep_w[np.arange(n_w), a])
    weapon_price = surv[a] * (1.0 / np.maximum(keep_w[np.arange(n_w), a], 1e-300) - 1.0)
    type_price = np.bincount(state.type_of, weights=weapon_price, minlength=state.n_types) / state.counts
    target = surv.copy()
    np.add.at(target, a, type_price[state.type_of])
    return np.concatenate([-type_price, target])


def _price(values: np.ndarray, keep: np.ndarray, duals: np.ndarray, counts: np.ndarray):
    """Exact pricing at ``duals`` (weapon types, then targets): the Lagrangian bound
    sum_t units_t u_t + sum_j s_j + sum_j min(0, min rc_j) and, per target, the improving
    columns met on the way to its minimum reduced cost."""
    n_w = counts.size
    u, s = duals[:n_w], duals[n_w:]
    price = -u
    bound = float(counts @ u + s.sum())
    found = []
    for j in range(values.size):
        sets, _rcs, best, _ = _search_target(values[j], keep[:, j].copy(), price, s[j], 0.0, True, 64, counts)
        bound += min(0.0, best, values[j] - s[j])
        for ws in sets:
            found.append((j, ws, float(values[j] * np.prod(keep[list(ws), j]))))
    return bound, found


def _model_status(name: str):
    import highspy

    return getattr(highspy.HighsModelStatus, name)


def solve_wta(values, pk, *, method: str = "auto", time_limit_s: float = 60.0, gap: float = 1e-6) -> WTASolution:
    """Solve by ``method``: ``"exact"``, ``"heuristic"``, or ``"auto"`` (exact within the
    time limit, which returns the best assignment and bound found if the limit is hit)."""
    if method == "heuristic":
        return solve_heuristic(values, pk)
    if method in ("exact", "auto"):
        return solve_exact(values, pk, time_limit_s=time_limit_s, gap=gap)
    raise ValueError(f"method: must be exact, heuristic or auto, got {method!r}")


