"""The packaged catalog of notional threat and sensor types.

The catalog files ``hoplon/scenario/catalog/threats.yaml`` and ``sensors.yaml`` have the format of a scenario's
``catalog:`` section and is validated by the same loader, so its errors name that file,
its lines and fields. A scenario may add its own types; a name that clashes with a
packaged type is an error.
"""

from __future__ import annotations

import functools
from importlib import resources

from hoplon.scenario.loader import load_catalog
from hoplon.scenario.schema import AirBreatherType, BallisticType, Catalog, InfraredType, InterceptorType, RadarType

__all__ = [
    "AirBreatherType", "BallisticType", "Catalog", "InfraredType", "InterceptorType", "RadarType", "load_catalog", "load_packaged_catalog",
]

_PACKAGE = "hoplon.scenario"
_FILES = ("catalog/threats.yaml", "catalog/sensors.yaml", "catalog/interceptors.yaml")


@functools.cache
def load_packaged_catalog() -> Catalog:
    """The threat and sensor types shipped with Hoplon (read once, cached; do not modify)."""
    merged = Catalog()
    for name in _FILES:
        resource = resources.files(_PACKAGE).joinpath(name)
        merged = merged.merged_with(load_catalog(resource.read_bytes(), filename=str(resource)))
    return merged
