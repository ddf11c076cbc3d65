"""The terminal descent's table lookups (ballistic._interp_on_grid) are np.interp's, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hoplon.core.ballistic import _interp_on_grid
from hoplon.core.earth import terminal_fall_table

_TABLE = terminal_fall_table()
_Z = _TABLE.z_m


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(-2_000.0, 110_000.0), st.sampled_from(list(_Z[[0, 1, 7, -2, -1]])),
                          st.just(float("nan")), st.just(float("inf")), st.just(-float("inf"))),
                min_size=1, max_size=50))
def test_terminal_table_lookups_are_np_interp(heights):
    x = np.array(heights)
    for column in (_TABLE.S, _TABLE.V):
        assert _same_bits(_interp_on_grid(x, _Z, column), np.interp(x, _Z, column))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 10.0), min_size=2, max_size=30), st.lists(st.floats(-1e3, 1e3), min_size=30,
                                                                          max_size=30),
       st.lists(st.floats(-50.0, 400.0), min_size=1, max_size=30))
def test_any_ascending_grid_is_np_interp(steps, values, queries):
    xp = np.cumsum(steps)
    fp = np.array(values[: xp.size])
    x = np.concatenate([np.array(queries), xp[::3]])  # grid points themselves too
    assert _same_bits(_interp_on_grid(x, xp, fp), np.interp(x, xp, fp))
