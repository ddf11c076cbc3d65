"""Small helpers shared by the core modules: float arrays, broadcasting, scalar out."""

from __future__ import annotations

import numpy as np

Floats = float | np.ndarray


def as_floats(x: object, name: str) -> np.ndarray:
    """``x`` as a float64 array, or a ValueError naming the argument."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number or an array of numbers: {exc}") from None


def broadcast_shape(**shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The common shape of named shapes, or a ValueError listing them."""
    values = list(shapes.values())
    if all(v == values[0] or v == () for v in values):  # the common case, without numpy
        return max(values, key=len)
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        desc = ", ".join(f"{k} {v}" for k, v in shapes.items())
        raise ValueError(f"shapes do not broadcast together: {desc}") from None


def broadcast_floats(**arrays: object) -> list[np.ndarray]:
    """Named arguments as float arrays broadcast to one shape, with a clear error.

    Read-only for the caller: arrays of the common shape come back as they are (no copy;
    the hot path of small calls), the others as broadcast views."""
    arrs = {k: as_floats(v, k) for k, v in arrays.items()}
    values = list(arrs.values())
    first = values[0].shape
    if all(a.shape == first for a in values):
        return values
    shape = broadcast_shape(**{k: a.shape for k, a in arrs.items()})
    return [np.broadcast_to(a, shape) for a in values]


def scalar_out(x: np.ndarray) -> Floats:
    """A float for a 0-d result, the array otherwise (scalar in, scalar out)."""
    return float(x) if np.ndim(x) == 0 else x


def scalar_out_bool(x: np.ndarray) -> bool | np.ndarray:
    """A bool for a 0-d result, the array otherwise."""
    return bool(x) if np.ndim(x) == 0 else x
