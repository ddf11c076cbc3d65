"""Hoplon's public front door: ``from hoplon.api import ...``.

Everything a user script needs is re-exported here; the modules behind it are
implementation detail and may move.
"""

from hoplon.core.ballistic import (
    FlightSamples,
    ImpactResult,
    PropagationResult,
    propagate,
    propagate_to_impact,
    sample_flight,
)
from hoplon.core.boost import BoostParameters, BurnoutState, fly_boost
from hoplon.core.earth import SPHERE, WGS84, EarthModel, acceleration_ecef_mps2, density_kg_m3, gravity_ecef_mps2
from hoplon.core.targeting import Profile, TargetingSolution, solve_targeting

__all__ = [
    "BoostParameters",
    "BurnoutState",
    "EarthModel",
    "FlightSamples",
    "ImpactResult",
    "Profile",
    "PropagationResult",
    "SPHERE",
    "TargetingSolution",
    "WGS84",
    "acceleration_ecef_mps2",
    "density_kg_m3",
    "fly_boost",
    "gravity_ecef_mps2",
    "propagate",
    "propagate_to_impact",
    "sample_flight",
    "solve_targeting",
]
