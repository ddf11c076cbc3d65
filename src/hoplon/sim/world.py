"""Compile a validated scenario into the engine's world: everything as arrays.

:func:`compile_scenario` expands salvos, resolves asset references, draws each
missile's guidance error from the run's random stream, solves the ballistic targeting
of all missiles in one batched call and plans all drone and cruise-missile routes.
Anything the scenario asks for that physics refuses (an aim point out of a missile's
range, an infeasible turn, a route longer than the type's range) is a
:class:`~hoplon.errors.ScenarioError` that names the file, line and field.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from hoplon.core.airbreather import RouteError, RoutePlan, plan_routes
from hoplon.core.boost import BoostParameters
from hoplon.core.earth import EarthModel, earth_model
from hoplon.core.frames import ecef_to_geodetic, enu_to_ecef
from hoplon.core.targeting import Profile, TargetingSolution, is_lofted, solve_targeting
from hoplon.core.tracker import TrackerConfig
from hoplon.errors import ScenarioError
from hoplon.scenario.schema import AssetRef, AssetWaypoint, BallisticThreat, Scenario
from hoplon.sim.random import stream
from hoplon.sim.sensors import SensorNetwork, build_network, check_signatures
from hoplon.sim.tracking import DEFAULT_ENGINE_TRACKER, INITIATOR_SCANS

__all__ = ["Assets", "BallisticMissiles", "AirBreathers", "World", "compile_scenario", "reseed"]

_CEP_TO_SIGMA = 1.0 / math.sqrt(2.0 * math.log(2.0))  # CEP = 1.1774 sigma (circular normal)


@dataclass(frozen=True)
class Assets:
    """Defended assets (one row each)."""

    name: np.ndarray
    kind: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_m: np.ndarray
    value: np.ndarray
    radius_m: np.ndarray

    def __len__(self) -> int:
        return int(self.name.shape[0])


@dataclass(frozen=True)
class BallisticMissiles:
    """Ballistic missiles, one row each (salvos expanded), with their solved launches.

    ``aim_*`` is the intended aim point, ``true_aim_*`` the point the missile actually
    flies to after its guidance error (drawn from the type's CEP); the targeting
    solution flies to the latter. ``aimed_solution`` flies to the intended aim points: it
    does not depend on the seed, and its sensitivities predict every seed's ``solution``
    (which the solver then verifies, usually with one flight of each missile, and two
    variants of its shape for minimum energy, instead of searching). ``source_path`` is the scenario field
    of each row.
    """

    object_id: np.ndarray
    type_name: np.ndarray
    source_path: list[tuple]
    launch_time_s: np.ndarray
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    launch_alt_m: np.ndarray
    aim_asset: np.ndarray
    aim_lat_deg: np.ndarray
    aim_lon_deg: np.ndarray
    aim_alt_m: np.ndarray
    true_aim_lat_deg: np.ndarray
    true_aim_lon_deg: np.ndarray
    profile: np.ndarray
    profile_value: np.ndarray
    boost: BoostParameters
    rv_beta_kg_m2: np.ndarray
    booster_beta_kg_m2: np.ndarray
    solution: TargetingSolution
    aimed_solution: TargetingSolution | None = None

    def __len__(self) -> int:
        return int(self.object_id.shape[0])


@dataclass(frozen=True)
class AirBreathers:
    """Drones and cruise missiles, one row each (salvos expanded), with planned routes."""

    object_id: np.ndarray
    kind: np.ndarray
    type_name: np.ndarray
    source_path: list[tuple]
    target_asset: np.ndarray
    plan: RoutePlan | None
    flown: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
    """The engine's memo of the routes flown on each truth step (they draw nothing from
    the seed, so reseeded worlds share it)."""

    def __len__(self) -> int:
        return int(self.object_id.shape[0])


@dataclass(frozen=True)
class World:
    """The compiled scenario: arrays for the engine."""

    scenario: Scenario
    name: str
    epoch: datetime
    seed: int | np.random.SeedSequence  # a SeedSequence for Monte Carlo replications
    earth: EarthModel
    assets: Assets
    ballistic: BallisticMissiles
    airbreathers: AirBreathers
    sensors: SensorNetwork
    tracker: TrackerConfig


def _assets(scenario: Scenario) -> Assets:
    a = scenario.assets
    return Assets(
        name=np.array([x.name for x in a], dtype=object),
        kind=np.array([x.kind or "" for x in a], dtype=object),
        lat_deg=np.array([x.lat_deg for x in a], dtype=float),
        lon_deg=np.array([x.lon_deg for x in a], dtype=float),
        alt_m=np.array([x.alt_m for x in a], dtype=float),
        value=np.array([x.value for x in a], dtype=float),
        radius_m=np.array([x.radius_m for x in a], dtype=float),
    )


def _profile(threat: BallisticThreat) -> tuple[int, float]:
    if threat.profile == "minimum-energy":
        return int(Profile.MINIMUM_ENERGY), math.nan
    shaping = threat.profile.shaping
    if shaping.apogee_m is not None:
        return int(Profile.APOGEE), float(shaping.apogee_m)
    return int(Profile.FLIGHT_PATH_ANGLE), float(shaping.flight_path_angle_rad)


def _ballistic(scenario: Scenario, model: EarthModel, rng: np.random.Generator,
               aimed: TargetingSolution | None = None) -> BallisticMissiles:
    """The ballistic missiles with the guidance errors ``rng`` draws; ``aimed``: their
    solution to the intended aim points, if known (a reseed), else solved here."""
    rows = []
    for index, threat in enumerate(scenario.threats.ballistic):
        kind = scenario.threat_type("ballistic", threat)
        path = ("threats", "ballistic", index)
        if isinstance(threat.aim, AssetRef):
            asset = scenario.asset(threat.aim.asset)
            aim = (asset.name, asset.lat_deg, asset.lon_deg, asset.alt_m)
        else:
            aim = ("", threat.aim.lat_deg, threat.aim.lon_deg, threat.aim.alt_m)
        prof, value = _profile(threat)
        for object_id, launch_time in threat.launches():
            rows.append((object_id, threat, kind, path, launch_time, aim, prof, value))
    n = len(rows)

    def col(f, dtype=float):
        return np.array([f(r) for r in rows], dtype=dtype)

    kinds = [r[2] for r in rows]
    boost = BoostParameters(
        launch_mass_kg=np.array([k.launch_mass_kg for k in kinds], dtype=float),
        propellant_mass_kg=np.array([k.propellant_mass_kg for k in kinds], dtype=float),
        burn_time_s=np.array([k.burn_time_s for k in kinds], dtype=float),
        specific_impulse_s=np.array([k.specific_impulse_s for k in kinds], dtype=float),
        vertical_rise_s=np.array([k.vertical_rise_s for k in kinds], dtype=float),
        reference_area_m2=np.array([k.reference_area_m2 for k in kinds], dtype=float),
        drag_coefficient=np.array([k.drag_coefficient for k in kinds], dtype=float),
    )
    aim_lat, aim_lon, aim_alt = col(lambda r: r[5][1]), col(lambda r: r[5][2]), col(lambda r: r[5][3])
    # guidance errors: a circular normal miss with the type's CEP, in the aim point's ENU plane
    sigma = np.array([k.cep_m for k in kinds], dtype=float) * _CEP_TO_SIGMA
    miss = rng.standard_normal((n, 2)) * sigma[:, None]
    true_aim = enu_to_ecef(
        np.column_stack([miss, np.zeros(n)]), lat0_deg=aim_lat, lon0_deg=aim_lon, alt0_m=aim_alt, earth=model
    )
    true_geo = ecef_to_geodetic(np.atleast_2d(true_aim), earth=model)
    launch_lat = col(lambda r: r[1].launch.lat_deg)
    launch_lon = col(lambda r: r[1].launch.lon_deg)
    launch_alt = col(lambda r: r[1].launch.alt_m)
    profile = col(lambda r: r[6], dtype=np.int64)
    profile_value = col(lambda r: r[7])
    rv_beta = np.array([k.rv_beta_kg_m2 for k in kinds], dtype=float)
    paths = [r[3] for r in rows]
    if n:
        try:
            boost.check()
        except ValueError as exc:  # a catalog type that cannot fly
            raise ScenarioError(scenario.problem(paths[0] + ("type",), str(exc))) from None
        shared = dict(beta_kg_m2=rv_beta, profile=profile, profile_value=profile_value, boost=boost, earth=model)
        if aimed is None:
            aimed = solve_targeting(launch_lat, launch_lon, launch_alt, aim_lat, aim_lon, aim_alt, sensitivities=True,
                                    **shared)
        solution = solve_targeting(
            launch_lat, launch_lon, launch_alt,
            np.atleast_1d(true_geo.lat_deg), np.atleast_1d(true_geo.lon_deg), aim_alt, initial=aimed, **shared,
        )
        problems = [
            scenario.problem(paths[i] + ("aim",), f"{rows[i][0]}: {solution.message[i]}")
            for i in range(n)
            if not solution.ok[i]
        ]
        if problems:
            raise ScenarioError(problems)
        _check_branches(scenario, rows, paths, launch_lat, launch_lon, launch_alt, true_geo, aim_alt, rv_beta,
                        profile, profile_value, boost, model)
    else:
        solution = None
    return BallisticMissiles(
        object_id=col(lambda r: r[0], dtype=object),
        type_name=col(lambda r: r[1].type, dtype=object),
        source_path=paths,
        launch_time_s=col(lambda r: r[4]),
        launch_lat_deg=launch_lat,
        launch_lon_deg=launch_lon,
        launch_alt_m=launch_alt,
        aim_asset=col(lambda r: r[5][0], dtype=object),
        aim_lat_deg=aim_lat,
        aim_lon_deg=aim_lon,
        aim_alt_m=aim_alt,
        true_aim_lat_deg=np.atleast_1d(true_geo.lat_deg).astype(float),
        true_aim_lon_deg=np.atleast_1d(true_geo.lon_deg).astype(float),
        profile=profile,
        profile_value=profile_value,
        boost=boost,
        rv_beta_kg_m2=rv_beta,
        booster_beta_kg_m2=np.array([k.booster_beta_kg_m2 or np.nan for k in kinds], dtype=float),
        solution=solution,
        aimed_solution=aimed,
    )


def _check_branches(scenario, rows, paths, launch_lat, launch_lon, launch_alt, true_geo, aim_alt, rv_beta,
                    profile, profile_value, boost, model) -> None:
    """A 'lofted' profile must lie above the minimum-energy trajectory, 'depressed' below."""
    shaped = np.flatnonzero(profile != int(Profile.MINIMUM_ENERGY))
    if shaped.size == 0:
        return
    me = solve_targeting(
        launch_lat[shaped], launch_lon[shaped], launch_alt[shaped],
        np.atleast_1d(true_geo.lat_deg)[shaped], np.atleast_1d(true_geo.lon_deg)[shaped], aim_alt[shaped],
        beta_kg_m2=rv_beta[shaped], boost=boost.take(shaped), earth=model,
    )
    lofted = is_lofted(profile[shaped], profile_value[shaped], me)
    problems, seen = [], set()
    for j, i in enumerate(shaped):
        declared = rows[i][1].profile.kind
        if not me.ok[j] or (declared == "lofted") == bool(lofted[j]) or paths[i] in seen:
            continue
        seen.add(paths[i])
        if profile[i] == int(Profile.APOGEE):
            what = f"an apogee of {profile_value[i] / 1e3:.0f} km"
            ref = f"the minimum-energy apogee of {me.apogee_alt_m[j] / 1e3:.0f} km"
        else:
            what = f"a flight-path angle of {math.degrees(profile_value[i]):.1f} deg"
            ref = f"the minimum-energy angle of {math.degrees(me.burnout.flight_path_angle_rad[j]):.1f} deg"
        side = "above" if declared == "lofted" else "below"
        problems.append(scenario.problem(
            paths[i] + ("profile",),
            f"{declared} needs {side} {ref} to this aim point; {what} is "
            f"{'depressed' if declared == 'lofted' else 'lofted'}",
        ))
    if problems:
        raise ScenarioError(problems)


_SECTION_KIND = {"drones": "drone", "cruise_missiles": "cruise-missile"}


def _airbreathers(scenario: Scenario) -> AirBreathers:
    ids, kinds, types, paths, targets = [], [], [], [], []
    lat, lon, alt, speed, offsets = [], [], [], [], [0]
    turn, climb, launch = [], [], []
    for section, kind in _SECTION_KIND.items():
        for index, threat in enumerate(getattr(scenario.threats, section)):
            ttype = scenario.threat_type(section, threat)
            path = ("threats", section, index)
            last = len(threat.route) - 1
            w_lat, w_lon, w_alt, w_speed = [], [], [], []
            for k, wp in enumerate(threat.route):
                if isinstance(wp, AssetWaypoint):
                    asset = scenario.asset(wp.asset)
                    p_lat, p_lon, default_alt = asset.lat_deg, asset.lon_deg, asset.alt_m
                else:
                    p_lat, p_lon = wp.lat_deg, wp.lon_deg
                    # launch and target default to the ground, the rest to the cruise height
                    default_alt = 0.0 if k in (0, last) else ttype.cruise_alt_m
                w_lat.append(p_lat)
                w_lon.append(p_lon)
                w_alt.append(default_alt if wp.alt_m is None else wp.alt_m)
                w_speed.append(ttype.cruise_speed_m_s if wp.speed_m_s is None else wp.speed_m_s)
            final = threat.route[-1]
            target = final.asset if isinstance(final, AssetWaypoint) else ""
            for object_id, launch_time in threat.launches():
                ids.append(object_id)
                kinds.append(kind)
                types.append(threat.type)
                paths.append(path)
                targets.append(target)
                lat += w_lat
                lon += w_lon
                alt += w_alt
                speed += w_speed
                offsets.append(offsets[-1] + len(w_lat))
                turn.append(ttype.max_turn_rate_rad_s)
                climb.append(ttype.climb_rate_m_s)
                launch.append(launch_time)
    plan = None
    if ids:
        try:
            plan = plan_routes(
                np.array(lat), np.array(lon), np.array(alt), np.array(speed), np.array(offsets),
                max_turn_rate_rad_s=np.array(turn), climb_rate_mps=np.array(climb), launch_time_s=np.array(launch),
            )
        except RouteError as exc:
            # (route i of the batch, waypoint k of its route) -> the scenario field; salvo
            # members share their route, so report each scenario field once
            problems, seen = [], set()
            for route, waypoint, message in exc.problems:
                where = paths[route] + ("route", waypoint)
                if where not in seen:
                    seen.add(where)
                    problems.append(scenario.problem(where, message))
            raise ScenarioError(problems) from None
        problems = []
        for i, object_id in enumerate(ids):
            section = paths[i][1]
            ttype = scenario.threat_type(section, getattr(scenario.threats, section)[paths[i][2]])
            if plan.length_m[i] > ttype.max_range_m:
                problems.append(
                    scenario.problem(
                        paths[i] + ("route",),
                        f"{object_id}: the route is {plan.length_m[i] / 1e3:.0f} km long, beyond the "
                        f"{ttype.max_range_m / 1e3:.0f} km range of type '{types[i]}'",
                    )
                )
        if problems:
            raise ScenarioError(problems)
    return AirBreathers(
        object_id=np.array(ids, dtype=object),
        kind=np.array(kinds, dtype=object),
        type_name=np.array(types, dtype=object),
        source_path=paths,
        target_asset=np.array(targets, dtype=object),
        plan=plan,
    )


def _tracker_config(scenario: Scenario, network: SensorNetwork) -> TrackerConfig:
    """The scenario's tracker settings over the engine's defaults, whose two-point
    initiators wait :data:`~hoplon.sim.tracking.INITIATOR_SCANS` scan periods of the
    network's slowest radar."""
    base = DEFAULT_ENGINE_TRACKER
    if network.n_radars:
        wait_s = INITIATOR_SCANS * float(np.max(network.radars.scan_period_s))
        base = dataclasses.replace(base, initiation_max_age_s=wait_s)
    if scenario.tracker is None:
        return base
    given = scenario.tracker.model_dump(exclude_unset=True)
    try:
        return dataclasses.replace(base, **given)
    except ValueError as exc:
        raise ScenarioError(scenario.problem(("tracker",), str(exc))) from None


def compile_scenario(scenario: Scenario, *, seed: int | np.random.SeedSequence | None = None) -> World:
    """Turn a validated scenario into a :class:`World` (``seed`` overrides the scenario's;
    Monte Carlo replication k passes ``SeedSequence(S).spawn(N)[k]``)."""
    run_seed = scenario.seed if seed is None else _checked_seed(seed)
    model = earth_model(scenario.earth)
    check_signatures(scenario)
    assets = _assets(scenario)
    ballistic = _ballistic(scenario, model, stream(run_seed, "threats"))
    airbreathers = _airbreathers(scenario)
    network = build_network(scenario)
    return World(
        scenario=scenario,
        name=scenario.name,
        epoch=scenario.epoch,
        seed=run_seed,
        earth=model,
        assets=assets,
        ballistic=ballistic,
        airbreathers=airbreathers,
        sensors=network,
        tracker=_tracker_config(scenario, network),
    )


def reseed(world: World, seed: int | np.random.SeedSequence) -> World:
    """``world`` with another seed: only what the seed draws is redone (the threats'
    guidance errors), so it equals ``compile_scenario(world.scenario, seed=seed)`` at a
    fraction of the cost (a Monte Carlo worker compiles once, then reseeds per
    replication)."""
    run_seed = _checked_seed(seed)
    ballistic = _ballistic(world.scenario, world.earth, stream(run_seed, "threats"), world.ballistic.aimed_solution)
    return dataclasses.replace(world, seed=run_seed, ballistic=ballistic)


def _checked_seed(seed: int | np.random.SeedSequence) -> int | np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else int(seed)
