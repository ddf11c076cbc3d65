"""The packaged catalog of notional threat types.

The catalog file ``hoplon/scenario/catalog/threats.yaml`` has the format of a scenario's
``catalog:`` section and is validated by the same loader, so its errors name that file,
its lines and fields. A scenario may add its own types; a name that clashes with a
packaged type is an error.
"""

from __future__ import annotations

import functools
from importlib import resources

from hoplon.scenario.loader import load_catalog
from hoplon.scenario.schema import AirBreatherType, BallisticType, Catalog

__all__ = ["AirBreatherType", "BallisticType", "Catalog", "load_catalog", "load_packaged_catalog"]

_PACKAGE = "hoplon.scenario"
_FILE = "catalog/threats.yaml"


@functools.cache
def load_packaged_catalog() -> Catalog:
    """The threat types shipped with Hoplon (read once, then cached; do not modify)."""
    resource = resources.files(_PACKAGE).joinpath(_FILE)
    return load_catalog(resource.read_bytes(), filename=str(resource))
