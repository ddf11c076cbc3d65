"""Static weapon-target assignment (core.wta, ``hoplon wta``).

Oracles: exhaustive enumeration of every assignment (T^W of them) on small instances, the
objective recomputed here by a plain loop, weak duality for the Lagrangian bound, and a
closed form for identical weapons.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from cli_checks import assert_clean_error, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.wta import (
    DP_MAX_WORK,
    check_instance,
    lagrangian_bound,
    solve_exact,
    solve_heuristic,
    solve_wta,
)

REL = 1e-9


def objective(values, pk, assignment) -> float:
    """Expected surviving value, computed independently of hoplon."""
    surviving = [float(v) for v in values]
    for i, j in enumerate(assignment):
        surviving[j] *= 1.0 - float(pk[i][j])
    return math.fsum(surviving)


def brute_force(values, pk) -> float:
    n_w, n_t = len(pk), len(values)
    return min(objective(values, pk, a) for a in itertools.product(range(n_t), repeat=n_w))


def ahuja(n_w: int, n_t: int, seed: int):
    """Ahuja, Kumar, Jha & Orlin (2007) instances: V ~ U{25..100}, p ~ U(0.6, 0.9)."""
    rng = np.random.default_rng(seed)
    return rng.integers(25, 101, size=n_t).astype(float), rng.uniform(0.6, 0.9, size=(n_w, n_t))


probability = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))


@st.composite
def small_instances(draw):
    n_w = draw(st.integers(1, 5))
    n_t = draw(st.integers(1, 4))
    values = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 100.0)), min_size=n_t, max_size=n_t))
    pk = [draw(st.lists(probability, min_size=n_t, max_size=n_t)) for _ in range(n_w)]
    return values, pk


# dp_max_work=0: column generation, the restricted MILP and enumeration; the default:
# these small instances go to the dynamic program
@pytest.mark.parametrize("dp_max_work", [0, DP_MAX_WORK])
@settings(max_examples=150, deadline=None)
@given(small_instances())
def test_exact_matches_brute_force_and_bounds_it(dp_max_work, case):
    values, pk = case
    best = brute_force(values, pk)
    sol = solve_exact(values, pk, dp_max_work=dp_max_work)
    assert bool(sol.details.get("dynamic_program")) == (dp_max_work > 0)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL, abs=1e-12)
    assert sol.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert sol.lower_bound <= best + 1e-9 * (1.0 + best)
    assert sol.assignment.shape == (len(pk),)
    assert np.all((sol.assignment >= 0) & (sol.assignment < len(values)))


@settings(max_examples=100, deadline=None)
@given(small_instances())
def test_heuristic_is_feasible_and_no_better_than_the_optimum(case):
    values, pk = case
    sol = solve_heuristic(values, pk)
    assert sol.lower_bound is None and sol.status == "feasible"
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL, abs=1e-12)
    assert sol.objective >= brute_force(values, pk) - 1e-9


@settings(max_examples=100, deadline=None)
@given(small_instances(), st.integers(0, 2**32 - 1))
def test_lagrangian_bound_is_a_lower_bound_for_any_duals(case, seed):
    """Weak duality: sum u + sum s + sum_j min_S rc_jS <= optimum for every (u, s)."""
    values, pk = case
    rng = np.random.default_rng(seed)
    u = rng.normal(0.0, 30.0, len(pk))
    s = rng.normal(0.0, 30.0, len(values))
    assert lagrangian_bound(values, pk, u, s) <= brute_force(values, pk) + 1e-9


def test_identical_weapons_spread_evenly():
    """Closed form: n identical weapons (p) on k equal targets (V): the optimum spreads them
    as evenly as possible, V * (r (1-p)^(q+1) + (k-r) (1-p)^q) with n = q k + r."""
    for n, k, p in [(7, 3, 0.4), (10, 4, 0.7), (5, 5, 0.9), (3, 6, 0.5)]:
        q, r = divmod(n, k)
        expected = 10.0 * (r * (1 - p) ** (q + 1) + (k - r) * (1 - p) ** q)
        sol = solve_exact([10.0] * k, [[p] * k] * n)
        assert sol.objective == pytest.approx(expected, rel=1e-12)
        assert sol.status == "optimal"


@pytest.mark.parametrize(("n_w", "n_t", "seed"), [(30, 30, 0), (40, 20, 1), (25, 40, 2), (60, 60, 3)])
def test_ahuja_instances_are_certified_and_the_heuristic_is_close(n_w, n_t, seed):
    values, pk = ahuja(n_w, n_t, seed)
    sol = solve_exact(values, pk)
    assert sol.status == "optimal" and sol.gap <= 1e-6
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL)
    heur = solve_heuristic(values, pk)
    assert heur.objective == pytest.approx(objective(values, pk, heur.assignment), rel=REL)
    assert sol.lower_bound <= heur.objective
    assert heur.objective <= 1.01 * sol.objective


def test_a_time_limit_still_returns_a_feasible_assignment_and_a_valid_bound():
    values, pk = ahuja(120, 60, 4)
    sol = solve_exact(values, pk, time_limit_s=1e-3)
    assert sol.status in ("time_limit", "optimal", "feasible")
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL)
    full = solve_exact(values, pk)
    assert sol.lower_bound <= full.objective + 1e-9


@pytest.mark.parametrize(
    ("values", "pk", "needle"),
    [
        ([], [[0.5]], "values"),
        ([1.0, 2.0], [[0.5, 0.5], [0.5]], "pk[1]"),
        ([1.0], [[1.5]], "pk[0][0]"),
        ([1.0], [[-0.1]], "pk[0][0]"),
        ([1.0], [[float("nan")]], "pk[0][0]"),
        ([-1.0], [[0.5]], "values[0]"),
        ([1.0], [], "pk"),
    ],
)
def test_bad_instances_are_rejected_with_the_field(values, pk, needle):
    with pytest.raises(ValueError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        check_instance(values, pk)
    with pytest.raises(ValueError):
        solve_wta(values, pk)


def test_unknown_method_is_rejected():
    with pytest.raises(ValueError, match="method"):
        solve_wta([1.0], [[0.5]], method="magic")


# --------------------------------------------------------------------------- hoplon wta


def test_cli_writes_the_solution_file(tmp_path):
    values, pk = ahuja(20, 12, 5)
    inst = tmp_path / "inst.json"
    inst.write_text(json.dumps({"values": values.tolist(), "pk": pk.tolist()}))
    for method in ("exact", "heuristic", "auto"):
        out = tmp_path / f"{method}.json"
        code, _, err, exc = invoke("wta", str(inst), "--out", str(out), "--method", method)
        assert code == 0, err + repr(exc)
        sol = json.loads(out.read_text())
        assert set(sol) >= {"assignment", "objective", "lower_bound", "status", "solve_time_s"}
        assert len(sol["assignment"]) == 20
        assert sol["objective"] == pytest.approx(objective(values, pk, sol["assignment"]), rel=REL)
        if method == "heuristic":
            assert sol["lower_bound"] is None and sol["status"] == "feasible"
        else:
            assert sol["status"] == "optimal"
            assert sol["lower_bound"] <= sol["objective"] + 1e-9
            assert sol["lower_bound"] >= sol["objective"] * (1.0 - 1e-6)  # certified optimal


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('{"values": [1, 2],\n "pk": [[0.5, 0.5],\n  [0.5]]}', ["inst.json:3", "pk[1]", "2 targets"]),
        ('{"values": [1, 2],\n "pk": [[0.5, 1.5]]}', ["inst.json:2", "pk[0][1]", "[0, 1]"]),
        ('{"values": [1, "x"], "pk": [[0.5, 0.5]]}', ["inst.json:1", "values[1]"]),
        ('{"values": [1, 2]}', ["inst.json", "pk", "missing"]),
        ("", ["inst.json", "empty"]),
        ('{"values": [1, 2],\n "pk": [[0.5, 0.5]', ["inst.json:2", "not valid JSON"]),
        ("[1, 2]", ["inst.json", "JSON object"]),
        ('{"values": [], "pk": []}', ["inst.json", "values"]),
    ],
)
def test_cli_bad_instances_exit_2_and_keep_the_old_output(tmp_path, text, needles):
    inst = tmp_path / "inst.json"
    inst.write_text(text)
    out = tmp_path / "sol.json"
    out.write_text("previous")
    assert_clean_error(*invoke("wta", str(inst), "--out", str(out)), *needles)
    assert out.read_text() == "previous"


def test_cli_binary_file_and_bad_options(tmp_path):
    inst = tmp_path / "inst.json"
    inst.write_bytes(b"\x00\x01\x02")
    assert_clean_error(*invoke("wta", str(inst), "--out", str(tmp_path / "s.json")), "inst.json", "NUL")
    inst.write_text('{"values": [1], "pk": [[0.5]]}')
    assert_clean_error(*invoke("wta", str(inst), "--out", str(tmp_path / "s.json"), "--method", "best"), "--method")
    assert_clean_error(*invoke("wta", str(inst), "--out", str(tmp_path / "s.json"), "--time-limit", "0"), "--time-limit")
    assert_clean_error(*invoke("wta", str(inst), "--out", str(tmp_path / "no" / "s.json")), "--out")


@st.composite
def typed_instances(draw):
    """Instances whose weapons come in a few identical types (a battery's rounds)."""
    n_t = draw(st.integers(1, 3))
    n_types = draw(st.integers(1, 3))
    values = draw(st.lists(st.floats(0.0, 100.0), min_size=n_t, max_size=n_t))
    rows = [draw(st.lists(probability, min_size=n_t, max_size=n_t)) for _ in range(n_types)]
    counts = [draw(st.integers(1, 3)) for _ in range(n_types)]
    pk = [row for row, c in zip(rows, counts) for _ in range(c)]
    order = draw(st.permutations(range(len(pk))))
    return values, [pk[i] for i in order]


@pytest.mark.parametrize("dp_max_work", [0, DP_MAX_WORK])
@settings(max_examples=60, deadline=None)
@given(typed_instances())
def test_exact_with_identical_weapons_matches_brute_force(dp_max_work, case):
    values, pk = case
    best = brute_force(values, pk)
    sol = solve_exact(values, pk, dp_max_work=dp_max_work)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL, abs=1e-12)
    assert sol.objective == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert sol.lower_bound <= best + 1e-9 * (1.0 + best)


def test_many_identical_rounds_are_one_type():
    """Two batteries' rounds on five threats: two weapon types, solved exactly."""
    values = [8.3, 1.26, 0.98, 7.0, 0.0]
    pk = [[0.8, 0.8, 0.0, 0.8, 0.0]] * 10 + [[0.85, 0.85, 0.0, 0.85, 0.0]] * 6
    sol = solve_exact(values, pk)
    assert sol.status == "optimal" and sol.details["weapon_types"] == 2
    # identical weapons: moving rounds between equal-pk targets cannot help; compare with
    # the best split found by enumerating counts per target for each type
    import itertools as it

    best = math.inf
    for a in it.product(range(11), repeat=3):
        if sum(a) > 10:
            continue
        for b in it.product(range(7), repeat=3):
            if sum(b) > 6:
                continue
            # units not on targets 0, 1, 3 go to targets 2 and 4 (pk 0)
            surv = [values[j] * 0.2 ** a[k] * 0.15 ** b[k] for k, j in enumerate((0, 1, 3))]
            best = min(best, math.fsum(surv) + values[2] + values[4])
    assert sol.objective == pytest.approx(best, rel=1e-9)


def _allocation_optimum(values, keep, counts) -> float:
    """Oracle: the best allocation of each type's units to the targets, by a plain
    recursion over the targets (memoised on the units left per type)."""
    from functools import lru_cache

    n_t = len(values)

    @lru_cache(maxsize=None)
    def best(j: int, left: tuple[int, ...]) -> float:
        if j == n_t:
            return 0.0 if not any(left) else math.inf
        out = math.inf
        for x in itertools.product(*(range(n + 1) for n in left)):
            surv = values[j] * math.prod(keep[t][j] ** x[t] for t in range(len(left)))
            out = min(out, surv + best(j + 1, tuple(n - k for n, k in zip(left, x))))
        return out

    return best(0, tuple(counts))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dp_max_work", [0, DP_MAX_WORK])
def test_few_weapon_types_on_many_targets_are_solved_exactly(seed, dp_max_work):
    """A battle manager's instance: three batteries' rounds (one type each, some threats out
    of reach) on a dozen threats plus a hold target; the optimum by both exact paths."""
    rng = np.random.default_rng(seed)
    n_t, counts = 12, (4, 5, 6)
    values = np.append(rng.uniform(1.0, 100.0, n_t), 0.0)
    p_types = rng.uniform(0.5, 0.9, (3, n_t)) * (rng.random((3, n_t)) < 0.7)
    p_types = np.column_stack([p_types, np.zeros(3)])
    pk = np.repeat(p_types, counts, axis=0)
    sol = solve_exact(values, pk, dp_max_work=dp_max_work)
    best = _allocation_optimum(tuple(values), tuple(map(tuple, 1.0 - p_types)), counts)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(objective(values, pk, sol.assignment), rel=REL)
    assert sol.objective == pytest.approx(best, rel=1e-9)
    assert sol.lower_bound <= best * (1 + 1e-9)
