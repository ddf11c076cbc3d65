"""TruthStore.state_at, the sensors' source of target states: cubic Hermite
interpolation reproduces a cubic trajectory exactly, whatever the order of the queries
(pairs sorted by object then time take the galloping search, unsorted ones the plain
binary search)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.earth import earth_model
from hoplon.sim.truth import TruthStore


def _cubic(coef: np.ndarray, t: np.ndarray):
    """Position and velocity (len(t), 3) of r(t) = c0 + c1 t + c2 t^2 + c3 t^3."""
    powers = np.stack([np.ones_like(t), t, t**2, t**3], axis=1)
    dpowers = np.stack([np.zeros_like(t), np.ones_like(t), 2.0 * t, 3.0 * t**2], axis=1)
    return powers @ coef, dpowers @ coef


@settings(max_examples=100, deadline=None)
@given(
    n_samples=st.lists(st.integers(1, 60), min_size=1, max_size=4),
    n_queries=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
)
def test_state_at_reproduces_cubic_trajectories_in_any_query_order(n_samples, n_queries, seed):
    rng = np.random.default_rng(seed)
    store = TruthStore(earth_model("wgs84"))
    coefs = []
    for k, m in enumerate(n_samples):
        t = np.sort(rng.uniform(0.0, 100.0, m)) + 10.0 * k
        coef = rng.uniform(-1.0, 1.0, (4, 3)) * np.array([[1e3], [1e2], [1.0], [1e-2]])
        r, v = _cubic(coef, t)
        store.add(f"o{k}", "test", t, r, v, np.ones(m, bool))
        coefs.append(coef)
    store.freeze()
    obj = rng.integers(0, len(n_samples), n_queries)
    t = rng.uniform(store.start_s[obj], store.end_s[obj])
    r_any, v_any = store.state_at(obj, t)
    order = np.lexsort((t, obj))  # by object, then time (some repeated times)
    r_sorted, v_sorted = store.state_at(obj[order], t[order])
    np.testing.assert_array_equal(r_sorted, r_any[order])  # the same samples, the same arithmetic
    np.testing.assert_array_equal(v_sorted, v_any[order])
    for k, coef in enumerate(coefs):
        sel = obj == k
        if n_samples[k] < 2:  # a single sample: its state
            r0, v0 = _cubic(coef, store.t[store.offsets[k : k + 1]])
            np.testing.assert_array_equal(r_any[sel], np.broadcast_to(r0, r_any[sel].shape))
            continue
        r_true, v_true = _cubic(coef, t[sel])
        np.testing.assert_allclose(r_any[sel], r_true, rtol=0.0, atol=1e-6)
        np.testing.assert_allclose(v_any[sel], v_true, rtol=0.0, atol=1e-6)
