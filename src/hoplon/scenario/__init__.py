"""The user-facing scenario model: schema, units, YAML loading and the threat catalog.

This layer knows no engine: it imports only :mod:`hoplon.core` and :mod:`hoplon.errors`.

    >>> from pathlib import Path
    >>> from hoplon.scenario import load_scenario
    >>> scenario = load_scenario(Path("scenario.yaml"))   # doctest: +SKIP
    >>> scenario.assets[0].radius_m                        # doctest: +SKIP
    3000.0
"""

from hoplon.scenario.catalog import load_packaged_catalog
from hoplon.scenario.loader import (
    load_catalog,
    load_model,
    load_scenario,
    load_yaml,
    validate_model,
    validate_scenario,
)
from hoplon.scenario.schema import (
    AirBreatherThreat,
    AirBreatherType,
    Asset,
    AssetRef,
    AssetWaypoint,
    BallisticThreat,
    BallisticType,
    Catalog,
    GeoPoint,
    Salvo,
    Scenario,
    ShapedProfile,
    Shaping,
    SourceMap,
    Threats,
    Waypoint,
    format_path,
    parse_path,
    scenario_json_schema,
)
from hoplon.scenario.units import QuantityError, format_quantity, parse_quantity

__all__ = [
    "AirBreatherThreat",
    "AirBreatherType",
    "Asset",
    "AssetRef",
    "AssetWaypoint",
    "BallisticThreat",
    "BallisticType",
    "Catalog",
    "GeoPoint",
    "QuantityError",
    "Salvo",
    "Scenario",
    "ShapedProfile",
    "Shaping",
    "SourceMap",
    "Threats",
    "Waypoint",
    "format_path",
    "format_quantity",
    "load_catalog",
    "load_model",
    "load_packaged_catalog",
    "load_scenario",
    "load_yaml",
    "parse_path",
    "parse_quantity",
    "scenario_json_schema",
    "validate_model",
    "validate_scenario",
]
