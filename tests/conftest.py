"""Test-suite settings.

Hypothesis runs derandomised by default, so one commit always gives one verdict (CI and a
developer's machine see the same examples). To hunt for new counter-examples, run with
``HOPLON_HYPOTHESIS=explore`` (random seeds, more examples); add what it finds as an
``@example`` to the test.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("reproducible", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HOPLON_HYPOTHESIS", "reproducible"))


@pytest.fixture
def targeting_flights(monkeypatch) -> list[int]:
    """A counter ([n]) of the trajectories the targeting solver flies (boost and free
    flight each), for the tests of how few flights a warm start needs."""
    from hoplon.core import targeting  # noqa: PLC0415

    count = [0]
    fly = targeting._Problem.fly

    def counted(self, idx, *args):
        count[0] += len(idx)
        return fly(self, idx, *args)

    monkeypatch.setattr(targeting._Problem, "fly", counted)
    return count
