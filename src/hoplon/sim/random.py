"""Random streams of a run: one independent generator per component, from one seed.

Every stochastic part of the engine draws from its own stream, so adding draws to one
component never changes another's numbers. Stream ``name`` of a run with ``seed`` is
``Generator(PCG64(SeedSequence(seed, spawn_key=(k,))))`` with ``k`` the name's fixed
index below: stable across versions as long as the table only grows. Monte Carlo
replications pass their own ``SeedSequence`` (``SeedSequence(S).spawn(N)[k]``) instead
of an integer seed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "stream"]

STREAMS: dict[str, int] = {
    "threats": 0,  # guidance errors and other threat draws
    "sensors": 1,
    "tracker": 2,
    "battle": 3,
    "intercepts": 4,
    "debris": 5,
}


def stream(seed: int | np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of component ``name`` for a run seeded with ``seed``."""
    try:
        key = STREAMS[name]
    except KeyError:
        raise ValueError(f"unknown random stream {name!r}; known: {sorted(STREAMS)}") from None
    if isinstance(seed, np.random.SeedSequence):
        seq = np.random.SeedSequence(seed.entropy, spawn_key=tuple(seed.spawn_key) + (key,))
    else:
        seq = np.random.SeedSequence(int(seed), spawn_key=(key,))
    return np.random.Generator(np.random.PCG64(seq))
