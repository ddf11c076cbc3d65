"""Reseeding a compiled world: the same ballistic missiles as compiling with the seed,
solved from the aimed solution's sensitivities onto their true aim points."""

from __future__ import annotations

import numpy as np
import pytest

from hoplon.scenario.builtins import resolve_scenario
from hoplon.sim.world import compile_scenario, reseed

TOL_M = 0.05  # solve_targeting's default tolerance


@pytest.fixture(scope="module")
def world():
    return compile_scenario(resolve_scenario("anatolia"))


def _same(a, b) -> bool:
    """Equal NamedTuples of arrays (NaN equal to NaN), nested ones included."""
    if isinstance(a, tuple):
        return type(a) is type(b) and all(_same(x, y) for x, y in zip(a, b))
    if a is None or isinstance(a, list):
        return a == b
    return np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("seed", [3, np.random.SeedSequence(7).spawn(5)[3]])
def test_a_reseeded_world_has_the_missiles_of_compiling_with_the_seed(world, seed):
    a, b = reseed(world, seed).ballistic, compile_scenario(world.scenario, seed=seed).ballistic
    assert np.array_equal(a.true_aim_lat_deg, b.true_aim_lat_deg)
    assert np.array_equal(a.true_aim_lon_deg, b.true_aim_lon_deg)
    assert _same(a.solution, b.solution)
    assert _same(a.aimed_solution, b.aimed_solution)


def test_reseeded_missiles_land_on_their_true_aim_points_in_a_few_flights(world, targeting_flights):
    count = targeting_flights
    n = len(world.ballistic)
    assert np.isfinite(world.ballistic.aimed_solution.sensitivities.jacobian).all()
    for seed in range(1, 6):
        count[0] = 0
        m = reseed(world, seed).ballistic
        assert m.solution.ok.all()
        assert np.all(m.solution.miss_m < TOL_M)
        moved = np.hypot(m.true_aim_lat_deg - m.aim_lat_deg, m.true_aim_lon_deg - m.aim_lon_deg)
        assert np.all(moved > 0)
        # minimum energy: at most two chord iterations of three flights (controls, shape -+)
        assert count[0] <= 2 * 3 * n
