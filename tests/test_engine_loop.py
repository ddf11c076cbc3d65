"""engine._loop's end: a confirmed track that outlives the last scan (no scan can update
or delete it any more) keeps the loop planning while it is fresh, then the loop ends.

Stand-ins replace the tracker, battle manager and interceptors: the loop's contract is
the interface it calls (advance, confirmed, cycle, pending), not their physics."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from hoplon.sim import engine
from hoplon.sim.battle import FRESH_S, PLAN_PERIOD_S

LAST_SCAN_S = 995.0


class _Tracker:
    """One scan at LAST_SCAN_S, after which one confirmed track stays (last updated then)."""

    def __init__(self) -> None:
        self.next_scan_time_s = LAST_SCAN_S
        self.last_scan_time_s = -math.inf

    def advance(self, until: float, death_s, *, stop_at_confirmed: bool = False) -> None:
        if until >= LAST_SCAN_S:
            self.next_scan_time_s, self.last_scan_time_s = math.inf, LAST_SCAN_S

    def confirmed(self):
        if self.last_scan_time_s < LAST_SCAN_S:
            return SimpleNamespace(id=np.empty(0, np.int64), last_update_s=np.empty(0))
        return SimpleNamespace(id=np.array([7]), last_update_s=np.array([LAST_SCAN_S]))

    def label(self, track_id: int) -> str:
        return ""


class _Battle:
    def __init__(self) -> None:
        self.plan = SimpleNamespace(pending={})
        self.cycles: list[float] = []

    def cycle(self, now: float, snap, label) -> list:
        if len(self.cycles) > 100:
            raise AssertionError("the loop does not end")
        self.cycles.append(now)
        return []


class _Flights:
    pending = False

    def resolve(self, now, truth, events):
        return []

    def assessments_due(self, now):
        return []

    def guide(self, now, snap) -> None:
        pass


def test_the_loop_ends_when_a_confirmed_track_outlives_the_last_scan():
    battle = _Battle()
    kills = engine._loop(SimpleNamespace(), SimpleNamespace(killed_s=np.empty(0)), _Tracker(), battle, _Flights(), [])
    assert kills == []
    first = math.ceil(LAST_SCAN_S / PLAN_PERIOD_S) * PLAN_PERIOD_S
    # cycles while the track is fresh enough to plan on (updated within FRESH_S), then none
    expected = [first + k * PLAN_PERIOD_S for k in range(100) if LAST_SCAN_S >= first + k * PLAN_PERIOD_S - FRESH_S]
    expected.append(expected[-1] + PLAN_PERIOD_S)  # the cycle that finds it stale
    assert battle.cycles == expected
