"""What the engine knows about each flying object beyond its trajectory.

One row per truth object (in the :class:`~hoplon.sim.truth.TruthStore` order): its kind,
type and threat, when it flies, and the radar signature it shows -- the mean RCS by
aspect (nose, broadside, tail) before and after a switch time (a missile's burnout,
when the boosting missile becomes a re-entry vehicle) and its Swerling model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ObjectTable", "Signature"]


@dataclass(frozen=True)
class Signature:
    """Mean RCS (m^2) at nose, broadside and tail aspects, and the Swerling model."""

    nose_m2: float
    broadside_m2: float
    tail_m2: float
    swerling: int

    @classmethod
    def from_model(cls, rcs) -> Signature | None:
        """From a scenario :class:`~hoplon.scenario.schema.RcsModel` (or None)."""
        if rcs is None:
            return None
        return cls(rcs.nose_m2, rcs.broadside_m2, rcs.tail_m2, int(rcs.swerling))


@dataclass
class ObjectTable:
    """Columns, appended one object at a time by the engine, then read as arrays."""

    object_id: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    type_name: list[str] = field(default_factory=list)
    threat_id: list[str] = field(default_factory=list)
    launch_time_s: list[float] = field(default_factory=list)
    switch_time_s: list[float] = field(default_factory=list)
    before: list[Signature | None] = field(default_factory=list)
    after: list[Signature | None] = field(default_factory=list)
    missile_index: list[int] = field(default_factory=list)  # row in world.ballistic, or -1

    def add(self, *, object_id, kind, type_name, threat_id, launch_time_s, switch_time_s=np.inf,
            before=None, after=None, missile_index=-1) -> None:
        self.object_id.append(object_id)
        self.kind.append(kind)
        self.type_name.append(type_name)
        self.threat_id.append(threat_id)
        self.launch_time_s.append(float(launch_time_s))
        self.switch_time_s.append(float(switch_time_s))
        self.before.append(before)
        self.after.append(after)
        self.missile_index.append(int(missile_index))

    def __len__(self) -> int:
        return len(self.object_id)

    def signature_arrays(self, obj: np.ndarray, time_s: np.ndarray):
        """(nose, broadside, tail, swerling) arrays for objects ``obj`` at ``time_s``;
        NaN where an object has no signature."""
        obj = np.asarray(obj, dtype=np.int64)
        n = len(self)
        table = np.full((2, n, 4), np.nan)
        for i in range(n):
            for phase, sig in enumerate((self.before[i], self.after[i])):
                if sig is not None:
                    table[phase, i] = (sig.nose_m2, sig.broadside_m2, sig.tail_m2, sig.swerling)
        phase = (np.asarray(time_s, dtype=float) >= np.asarray(self.switch_time_s)[obj]).astype(np.int64)
        rows = table[phase, obj]
        return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
