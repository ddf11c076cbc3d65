"""The typed event log of a run.

Every event has a time (s since the scenario epoch), a kind from :data:`EVENT_KINDS`,
the object it concerns, where it happened (geodetic) and a short cause or detail. The
log is a plain list while the engine runs and becomes one table (:func:`events_table`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["EVENT_KINDS", "Event", "events_table", "EVENTS_SCHEMA"]

EVENT_KINDS = (
    "launch",  # a threat leaves its launcher
    "launch_detected",  # a space-based sensor reports the launch (its report time)
    "first_detection",  # a radar detects an object for the first time
    "track_confirmed",  # the tracker confirms a track (labelled with its true object)
    "track_deleted",  # the tracker drops a track
    "classified",  # battle management first classifies a track (and predicts its impact)
    "engagement_planned",  # a battery is first planned against a track
    "boost_end",  # thrust cutoff; the re-entry vehicle and the spent booster separate
    "apogee",  # highest point of a ballistic flight
    "impact",  # a spent booster reaches the ground
    "interceptor_launched",  # an interceptor leaves its launcher
    "intercept_kill",  # an interceptor destroys an object (the object's id)
    "intercept_miss",  # an interceptor reaches its intercept time without a kill
    "kill_assessed",  # a battery learns (rightly or wrongly) the outcome of an intercept
    "leaker_impact",  # a threat (warhead, drone, cruise missile) reaches the ground
    "debris_landed",  # the fragments of a kill, or a missed interceptor, reach the ground (median time)
)

EVENTS_SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        ("kind", pa.string()),
        ("object_id", pa.string()),
        ("lat_deg", pa.float64()),
        ("lon_deg", pa.float64()),
        ("alt_m", pa.float64()),
        ("detail", pa.string()),
    ],
    metadata={"hoplon_table": "events", "schema_version": "1"},
)


@dataclass(frozen=True)
class Event:
    """One thing that happened, when and where."""

    time_s: float
    kind: str
    object_id: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r}")


def events_table(events: list[Event]) -> pa.Table:
    """The events in time order (ties: object id, then kind order) as a table."""
    order = sorted(range(len(events)), key=lambda i: (events[i].time_s, events[i].object_id, EVENT_KINDS.index(events[i].kind)))
    cols = {name: [getattr(events[i], name) for i in order] for name in EVENTS_SCHEMA.names}
    return pa.table({k: np.asarray(v, dtype=float) if k in ("time_s", "lat_deg", "lon_deg", "alt_m") else v for k, v in cols.items()}, schema=EVENTS_SCHEMA)
