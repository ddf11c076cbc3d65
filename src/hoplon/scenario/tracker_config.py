"""The tracker's settings as a validated file format (TRACKER.yaml, or a scenario's
``tracker:`` section): the fields of :class:`hoplon.core.tracker.TrackerConfig`, plain
numbers in the SI units their documentation gives; anything left out keeps its default.
"""

from __future__ import annotations

from typing import Any

from hoplon.core.tracker import TrackerConfig
from hoplon.scenario.schema import TrackerSettings

__all__ = ["TrackerSettings", "tracker_config"]


def tracker_config(settings: Any, base: TrackerConfig | None = None) -> TrackerConfig:
    """A core config: ``base`` (default: the tracker's defaults) with the fields the
    settings give explicitly (raises ValueError on inconsistent values)."""
    import dataclasses  # noqa: PLC0415

    return dataclasses.replace(base or TrackerConfig(), **settings.model_dump(exclude_unset=True))
