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
from hoplon.core.radar import (
    angle_sigma_rad,
    detection_probability,
    draw_false_alarms,
    false_alarm_rate_per_scan,
    fluctuated_rcs_m2,
    horizon_range_m,
    in_field_of_view,
    line_of_sight,
    noise_snr_db,
    radar_range_m,
    radar_snr_db,
    range_rate_sigma_mps,
    range_sigma_m,
    required_snr_db,
    resolution_cells,
    search_range_m,
    search_snr_db,
    sector_solid_angle_sr,
)
from hoplon.core.sensors import Coverage, Observation, RadarArray, coverage, observe
from hoplon.core.targeting import Profile, TargetingSolution, solve_targeting

__all__ = [
    "Coverage",
    "Observation",
    "RadarArray",
    "angle_sigma_rad",
    "coverage",
    "detection_probability",
    "draw_false_alarms",
    "false_alarm_rate_per_scan",
    "fluctuated_rcs_m2",
    "horizon_range_m",
    "in_field_of_view",
    "line_of_sight",
    "noise_snr_db",
    "observe",
    "radar_range_m",
    "radar_snr_db",
    "range_rate_sigma_mps",
    "range_sigma_m",
    "required_snr_db",
    "resolution_cells",
    "search_range_m",
    "search_snr_db",
    "sector_solid_angle_sr",
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
