"""The scenario file format, version 1, as pydantic models.

Every model forbids unknown fields and is frozen. Quantities are stored as SI floats
and the Python attribute names carry their unit (``radius_m``, ``launch_time_s``);
the YAML names are the field aliases (``radius``, ``launch_time``). Validate files
with :func:`hoplon.scenario.loader.load_scenario`, which also runs the cross-reference
checks that a single model cannot (unique names, known assets and threat types).

In Python, models accept both the YAML names and the attribute names, with quantities
given as text with a unit (``Asset(name="a", lat=1, lon=2, value=1, radius="3 km")``);
``model_dump(mode="json", by_alias=True)`` writes them back in the file format.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    create_model,
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

import dataclasses

from hoplon.core.tracker import MOTION_MODELS, TrackerConfig
from hoplon.errors import Problem, ScenarioError
from hoplon.scenario.units import (
    Degrees,
    Quantity,
    QuantityError,
    describe_value,
    format_quantity,
    parse_quantity,
    quote_value,
)

__all__ = [
    "TrackerSettings",
    "CATALOG_SECTIONS",
    "SensorSite",
    "InfraredType",
    "RadarType",
    "RcsModel",
    "FORMAT_VERSION",
    "PATTERN_HINTS",
    "THREAT_SECTIONS",
    "Aim",
    "AirBreatherThreat",
    "AirBreatherType",
    "Asset",
    "AssetRef",
    "AssetWaypoint",
    "BallisticThreat",
    "BallisticType",
    "Catalog",
    "FieldPath",
    "GeoPoint",
    "Profile",
    "RouteWaypoint",
    "Salvo",
    "Scenario",
    "ShapedProfile",
    "Shaping",
    "SourceMap",
    "Threat",
    "Threats",
    "Waypoint",
    "format_path",
    "parse_path",
    "scenario_json_schema",
]

#: The scenario format version this module reads.
FORMAT_VERSION = 1

# --- source positions -----------------------------------------------------------------

#: A path to a field: mapping keys (str) and list indexes (int), as in the YAML file.
FieldPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """Write a field path the way users read it: ``threats.ballistic[2].launch.lat``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(text: str) -> FieldPath:
    """Read a dotted field path (``threats.ballistic[2].launch.lat``) into a tuple."""
    parts: list[str | int] = []
    for chunk in text.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.removeprefix("[")
    return tuple(parts)


@dataclass(frozen=True)
class SourceMap:
    """Where each field of a loaded file is: field path -> 1-based line.

    ``line_for`` falls back to the nearest parent that has a line, so that fields
    filled by defaults point at the mapping that holds them.
    """

    filename: str
    lines: dict[FieldPath, int] = field(default_factory=dict)

    def line_for(self, path: Sequence[str | int] | str) -> int | None:
        """The line of ``path``, or of its nearest parent present in the file."""
        key = parse_path(path) if isinstance(path, str) else tuple(path)
        for n in range(len(key), -1, -1):
            line = self.lines.get(key[:n])
            if line is not None:
                return line
        return None

    def problem(self, path: Sequence[str | int] | str, message: str) -> Problem:
        """A :class:`~hoplon.errors.Problem` for the field at ``path``."""
        key = parse_path(path) if isinstance(path, str) else tuple(path)
        return Problem(self.filename, self.line_for(key), format_path(key), message)


# --- building blocks ------------------------------------------------------------------

#: Human explanations of the string patterns used below, for error messages.
NAME_PATTERN = r"^[a-z0-9_-]+$"
THREAT_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
PATTERN_HINTS = {
    NAME_PATTERN: "may hold only lower-case letters, digits, '-' and '_'",
    THREAT_ID_PATTERN: "may hold only letters, digits, '-', '_' and '.'",
}


class _Model(BaseModel):
    """Base of every scenario model: unknown fields are errors, instances are frozen."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
    )


Text = Annotated[str, StringConstraints(min_length=1)]
Name = Annotated[str, StringConstraints(min_length=1, pattern=NAME_PATTERN)]
ThreatId = Annotated[str, StringConstraints(min_length=1, pattern=THREAT_ID_PATTERN)]

Latitude = Annotated[float, Degrees("latitude", ge=-90.0, le=90.0)]
Longitude = Annotated[float, Degrees("longitude", ge=-180.0, le=180.0)]
#: Altitude of a ground point (asset, launch site, aim point).
Altitude = Annotated[float, Quantity("length", ge=-500.0, le=10_000.0)]
#: Altitude of a waypoint of an air-breathing threat.
FlightAltitude = Annotated[float, Quantity("length", ge=-500.0, le=30_000.0)]
PositiveLength = Annotated[float, Quantity("length", gt=0.0)]
NonNegativeLength = Annotated[float, Quantity("length", ge=0.0)]
PositiveSpeed = Annotated[float, Quantity("speed", gt=0.0)]
PositiveMass = Annotated[float, Quantity("mass", gt=0.0)]
PositiveDuration = Annotated[float, Quantity("time", gt=0.0)]
NonNegativeDuration = Annotated[float, Quantity("time", ge=0.0)]
PositiveArea = Annotated[float, Quantity("area", gt=0.0)]
PositiveBeta = Annotated[float, Quantity("ballistic_coefficient", gt=0.0)]
PositiveAngularRate = Annotated[float, Quantity("angular_rate", gt=0.0)]
PositiveNumber = Annotated[float, Quantity("dimensionless", gt=0.0)]
FlightPathAngle = Annotated[float, Quantity("angle", gt=0.0, lt=math.pi / 2)]
PositiveRcs = Annotated[float, Quantity("rcs", gt=0.0)]
PositiveFrequency = Annotated[float, Quantity("frequency", gt=0.0)]
PositivePowerAperture = Annotated[float, Quantity("power_aperture", gt=0.0)]
PositiveTemperature = Annotated[float, Quantity("temperature", gt=0.0)]
Level = Annotated[float, Quantity("decibel")]
NonNegativeLevel = Annotated[float, Quantity("decibel", ge=0.0)]
Probability = Annotated[float, Quantity("dimensionless", gt=0.0, lt=1.0)]
NonNegativeAngle = Annotated[float, Quantity("angle", ge=0.0)]
PositiveAngle = Annotated[float, Quantity("angle", gt=0.0)]
HalfWidth = Annotated[float, Quantity("angle", gt=0.0, le=math.pi)]
Elevation = Annotated[float, Quantity("angle", ge=-math.pi / 2, le=math.pi / 2)]
Azimuth = Annotated[float, Quantity("angle", ge=-2 * math.pi, le=2 * math.pi)]
NonNegativeSpeed = Annotated[float, Quantity("speed", ge=0.0)]
Speed = Annotated[float, Quantity("speed", ge=-200.0, le=200.0)]


def _none_as_empty(value: Any) -> Any:
    """Let ``key:`` with nothing after it mean an empty list."""
    return [] if value is None else value


def _none_as_empty_dict(value: Any) -> Any:
    """Let ``key:`` with nothing after it mean an empty mapping."""
    return {} if value is None else value


def _at_least_one(what: str) -> Any:
    def check(items: list[Any]) -> list[Any]:
        if not items:
            raise PydanticCustomError("too_short", "needs at least one {what}", {"what": what})
        return items

    return AfterValidator(check)


# --- places ---------------------------------------------------------------------------


class GeoPoint(_Model):
    """A geodetic point: latitude and longitude in degrees, altitude in m above WGS84."""

    lat_deg: Latitude = Field(alias="lat")
    lon_deg: Longitude = Field(alias="lon")
    alt_m: Altitude = Field("0 m", alias="alt", validate_default=True)


def _reject_point_fields(data: Any) -> Any:
    if isinstance(data, dict) and ({"lat", "lon", "lat_deg", "lon_deg"} & data.keys()):
        raise PydanticCustomError(
            "place_form", "give either 'asset' or 'lat'/'lon', not both"
        )
    return data


class AssetRef(_Model):
    """A place given by the name of a defended asset: ``{asset: Incirlik Air Base}``."""

    asset: Text

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        return _reject_point_fields(data)


def _place_form(value: Any) -> str | None:
    if isinstance(value, dict):
        return "asset" if "asset" in value else "point"
    if isinstance(value, AssetRef | AssetWaypoint):
        return "asset"
    if isinstance(value, GeoPoint | Waypoint):
        return "point"
    return None


_PLACE_FORMS = "{asset: NAME} or {lat: ..., lon: ..., alt: ...}"

#: An aim point: an asset by name, or a geodetic point.
Aim = Annotated[
    Annotated[AssetRef, Tag("asset")] | Annotated[GeoPoint, Tag("point")],
    Discriminator(
        _place_form,
        custom_error_type="place_form",
        custom_error_message=f"expected {_PLACE_FORMS}",
    ),
]


class Waypoint(_Model):
    """A route point given by coordinates.

    ``alt_m`` None means not given: the engine decides (ground level at the launch point
    and the target, the type's cruise altitude between). ``speed_m_s`` is the speed on
    the leg that ends here; None means the type's cruise speed.
    """

    lat_deg: Latitude = Field(alias="lat")
    lon_deg: Longitude = Field(alias="lon")
    alt_m: FlightAltitude | None = Field(None, alias="alt")
    speed_m_s: PositiveSpeed | None = Field(None, alias="speed")


class AssetWaypoint(_Model):
    """A route point at a defended asset (typically the last one, the target)."""

    asset: Text
    alt_m: FlightAltitude | None = Field(None, alias="alt")
    speed_m_s: PositiveSpeed | None = Field(None, alias="speed")

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        return _reject_point_fields(data)


#: One point of a route: coordinates, or an asset by name.
RouteWaypoint = Annotated[
    Annotated[AssetWaypoint, Tag("asset")] | Annotated[Waypoint, Tag("point")],
    Discriminator(
        _place_form,
        custom_error_type="place_form",
        custom_error_message="expected {lat: ..., lon: ..., alt: ..., speed: ...} or {asset: NAME}",
    ),
]


# --- threats --------------------------------------------------------------------------


class _SecondsSinceEpoch(float):
    """An absolute launch time already converted to seconds after the epoch (internal)."""

    when: datetime
    epoch: datetime

    def __new__(cls, seconds: float, when: datetime, epoch: datetime) -> Self:
        obj = super().__new__(cls, seconds)
        obj.when = when
        obj.epoch = epoch
        return obj


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _validate_launch_time(raw: Any) -> float:
    if isinstance(raw, _SecondsSinceEpoch):
        if raw < 0:
            raise PydanticCustomError(
                "before_epoch",
                "{when} is before the scenario epoch {epoch}",
                {"when": _iso(raw.when), "epoch": _iso(raw.epoch)},
            )
        return float(raw)
    if isinstance(raw, datetime) or (isinstance(raw, str) and _as_datetime(raw) is not None):
        when = raw if isinstance(raw, datetime) else _as_datetime(raw)
        assert when is not None
        if when.tzinfo is None:
            raise PydanticCustomError(
                "timezone_aware",
                "a launch date-time needs a timezone, e.g. '2026-03-04T01:10:00Z', got {got}",
                {"got": quote_value(raw if isinstance(raw, str) else when.isoformat())},
            )
        raise PydanticCustomError(
            "no_epoch", "cannot place a launch date-time: the scenario epoch is missing or invalid"
        )
    if isinstance(raw, date):
        raise PydanticCustomError(
            "launch_time",
            "expected a date-time with a time and timezone, e.g. '2026-03-04T01:10:00Z', "
            "or a duration after the epoch, e.g. '3720 s'",
        )
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise PydanticCustomError(
            "launch_time",
            "a launch time needs a unit ('3720 s', '1 h') or a date-time with timezone "
            "('2026-03-04T01:10:00Z')",
        )
    try:
        seconds = parse_quantity(raw, "time")
    except QuantityError as err:
        raise PydanticCustomError("quantity", "{reason}", {"reason": str(err)}) from None
    if seconds < 0:
        raise PydanticCustomError(
            "before_epoch",
            "must not be negative (it is a time after the epoch), got {got}",
            {"got": quote_value(raw)},
        )
    return seconds


def _as_datetime(value: Any) -> datetime | None:
    """A datetime from a YAML timestamp or an ISO 8601 string, else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 11 and value[4:5] == "-" and value[:4].isdigit():
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


#: Launch time: a date-time with timezone or a duration after the epoch; stored in s.
LaunchTime = Annotated[
    float,
    BeforeValidator(_validate_launch_time),
    PlainSerializer(lambda seconds: format_quantity(seconds, "time"), when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)"},
            ],
            "description": (
                "A UTC date-time with timezone (e.g. '2026-03-04T01:10:00Z') or a duration "
                "after the epoch (e.g. '3720 s', '1 h 2 min'); not before the epoch. "
                "Stored in s after the epoch."
            ),
        },
        mode="validation",
    ),
]


class Salvo(_Model):
    """``count`` launches, ``interval_s`` apart, starting at the threat's launch time."""

    count: Annotated[int, Field(ge=1, le=1000, strict=True)]
    interval_s: NonNegativeDuration = Field(alias="interval")


class Shaping(_Model):
    """How a lofted or depressed trajectory departs from minimum energy: exactly one of
    apogee or flight path angle at burnout."""

    apogee_m: PositiveLength | None = Field(None, alias="apogee")
    flight_path_angle_rad: FlightPathAngle | None = Field(None, alias="flight_path_angle")

    @model_validator(mode="after")
    def _exactly_one(self) -> Shaping:
        if (self.apogee_m is None) == (self.flight_path_angle_rad is None):
            raise PydanticCustomError(
                "profile_shape", "give exactly one of 'apogee' or 'flight_path_angle'"
            )
        return self


class ShapedProfile(_Model):
    """A lofted or depressed trajectory: ``{lofted: {...}}`` or ``{depressed: {...}}``."""

    lofted: Shaping | None = None
    depressed: Shaping | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ShapedProfile:
        if (self.lofted is None) == (self.depressed is None):
            raise PydanticCustomError(
                "profile_form", "give exactly one of 'lofted' or 'depressed'"
            )
        return self

    @property
    def kind(self) -> Literal["lofted", "depressed"]:
        """Which of the two shapes this is."""
        return "lofted" if self.lofted is not None else "depressed"

    @property
    def shaping(self) -> Shaping:
        """The apogee or flight path angle of the shape."""
        shaping = self.lofted if self.lofted is not None else self.depressed
        assert shaping is not None
        return shaping


def _profile_form(value: Any) -> str | None:
    if isinstance(value, str) and value not in ("lofted", "depressed"):
        return "name"
    if isinstance(value, dict | ShapedProfile):
        return "shaped"
    return None


#: A ballistic trajectory profile: ``minimum-energy`` or a shaped profile.
Profile = Annotated[
    Annotated[Literal["minimum-energy"], Tag("name")] | Annotated[ShapedProfile, Tag("shaped")],
    Discriminator(
        _profile_form,
        custom_error_type="profile_form",
        custom_error_message=(
            "expected 'minimum-energy', {lofted: {apogee: ...}}, {lofted: {flight_path_angle: "
            "...}}, or the same with 'depressed'"
        ),
    ),
]


def _id_not_required(schema: dict[str, Any]) -> None:
    """In files the id may be left out (it defaults to '<section>-<index>')."""
    schema["required"] = [name for name in schema.get("required", []) if name != "id"]


class _ThreatBase(_Model):
    model_config = ConfigDict(json_schema_extra=_id_not_required)

    id: ThreatId = Field(description="Unique across all threats; default '<section>-<index>'.")
    type: Text = Field(description="A threat type of the catalog section for this threat.")
    launch_time_s: LaunchTime = Field(alias="launch_time")
    salvo: Salvo | None = None

    def launches(self) -> list[tuple[str, float]]:
        """The ``(id, launch_time_s)`` of each missile this entry launches.

        One entry without a salvo (or with count 1) launches one missile with its own id;
        a salvo of count N > 1 launches ``<id>-1`` ... ``<id>-N``, ``interval_s`` apart.
        """
        if self.salvo is None or self.salvo.count == 1:
            return [(self.id, self.launch_time_s)]
        return [
            (f"{self.id}-{k + 1}", self.launch_time_s + k * self.salvo.interval_s)
            for k in range(self.salvo.count)
        ]


class BallisticThreat(_ThreatBase):
    """A ballistic missile (or a salvo of them) from a launch point to an aim point."""

    launch: GeoPoint
    aim: Aim
    profile: Profile = "minimum-energy"


def _route_length(route: list[Any]) -> list[Any]:
    if len(route) < 2:
        raise PydanticCustomError(
            "too_short",
            "a route needs at least 2 waypoints (the launch point and the target), got {n}",
            {"n": len(route)},
        )
    return route


class AirBreatherThreat(_ThreatBase):
    """A drone or cruise missile (or a salvo) flying a route of waypoints.

    The first waypoint is the launch point, the last the target.
    """

    route: Annotated[list[RouteWaypoint], AfterValidator(_route_length)]


Threat = BallisticThreat | AirBreatherThreat

#: YAML threat section -> (catalog section, plain-English noun of its types).
THREAT_SECTIONS: dict[str, tuple[str, str]] = {
    "ballistic": ("ballistic", "ballistic missile"),
    "drones": ("drone", "drone"),
    "cruise_missiles": ("cruise_missile", "cruise missile"),
}


class Threats(_Model):
    """The threats of a scenario, by kind. Missing ids default to ``<section>-<index>``."""

    ballistic: Annotated[list[BallisticThreat], BeforeValidator(_none_as_empty)] = []
    drones: Annotated[list[AirBreatherThreat], BeforeValidator(_none_as_empty)] = []
    cruise_missiles: Annotated[list[AirBreatherThreat], BeforeValidator(_none_as_empty)] = []

    @model_validator(mode="before")
    @classmethod
    def _default_ids(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for section in THREAT_SECTIONS:
            items = data.get(section)
            if isinstance(items, list):
                data[section] = [
                    {**item, "id": f"{section}-{index}"}
                    if isinstance(item, dict) and "id" not in item
                    else item
                    for index, item in enumerate(items)
                ]
        return data

    def entries(self) -> Iterator[tuple[str, int, BallisticThreat | AirBreatherThreat]]:
        """Every threat entry as ``(section, index, threat)``, in file order."""
        for section in THREAT_SECTIONS:
            for index, threat in enumerate(getattr(self, section)):
                yield section, index, threat


# --- assets ---------------------------------------------------------------------------


class Asset(_Model):
    """A defended asset: a place with a value and a radius that counts as a hit on it."""

    name: Text = Field(description="Unique among the assets.")
    lat_deg: Latitude = Field(alias="lat")
    lon_deg: Longitude = Field(alias="lon")
    alt_m: Altitude = Field("0 m", alias="alt", validate_default=True)
    value: PositiveNumber
    radius_m: PositiveLength = Field(alias="radius")
    kind: Text | None = Field(None, description="A free label, e.g. 'airbase'.")


# --- threat types (the catalog) -------------------------------------------------------


def _rcs_scalar(value: Any) -> Any:
    """One cross section for every aspect: ``rcs: 0.1 m^2`` means nose = broadside = tail."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {"nose": value, "broadside": value, "tail": value}
    return value


class RcsModel(_Model):
    """Notional mean radar cross section by aspect, and its fluctuation model.

    The aspect is the angle between the target's velocity and the line of sight to the
    radar: 0 deg nose-on, 90 deg broadside, 180 deg tail-on; between them the cross
    section is interpolated linearly in dB. ``swerling`` 1: exponentially distributed,
    drawn anew every scan; 0: steady. A single value stands for every aspect.
    """

    nose_m2: PositiveRcs = Field(alias="nose")
    broadside_m2: PositiveRcs = Field(alias="broadside")
    tail_m2: PositiveRcs = Field(alias="tail")
    swerling: Literal[0, 1] = 1


Rcs = Annotated[RcsModel, BeforeValidator(_rcs_scalar)]


class _ThreatType(_Model):
    label: Text
    public_analogues: list[Text] = []
    mass_kg: PositiveMass | None = Field(
        None, alias="mass",
        description="Mass that breaks up when the threat is killed (the re-entry vehicle of a separating missile); "
                    "default: a ballistic type's dry mass, 200 kg for air-breathing types.",
    )


class BallisticType(_ThreatType):
    """A notional ballistic missile type: mass, propulsion and aerodynamics.

    ``max_range`` is the published order-of-magnitude range (documentation only);
    ``booster_beta``, if given, makes the spent booster separate and fall on its own;
    ``rv_beta`` is the ballistic coefficient of the re-entry vehicle after burnout.
    """

    max_range_m: PositiveLength = Field(alias="max_range")
    launch_mass_kg: PositiveMass = Field(alias="launch_mass")
    propellant_mass_kg: PositiveMass = Field(alias="propellant_mass")
    burn_time_s: PositiveDuration = Field(alias="burn_time")
    specific_impulse_s: PositiveDuration = Field(alias="specific_impulse")
    vertical_rise_s: NonNegativeDuration = Field(alias="vertical_rise")
    reference_area_m2: PositiveArea = Field(alias="reference_area")
    drag_coefficient: PositiveNumber
    rv_beta_kg_m2: PositiveBeta = Field(alias="rv_beta")
    booster_beta_kg_m2: PositiveBeta | None = Field(None, alias="booster_beta")
    cep_m: NonNegativeLength = Field(alias="cep")
    boost_rcs: Rcs | None = Field(None, description="The whole missile during boost (needed by radars).")
    rcs: Rcs | None = Field(None, description="The re-entry vehicle after burnout (needed by radars).")
    booster_rcs: Rcs | None = Field(None, description="The spent booster (needed by radars with booster_beta).")
    sources: Annotated[list[Text], _at_least_one("source")]

    @field_validator("propellant_mass_kg")
    @classmethod
    def _less_than_launch_mass(cls, value: float, info: ValidationInfo) -> float:
        launch = info.data.get("launch_mass_kg")
        if launch is not None and value >= launch:
            raise PydanticCustomError(
                "out_of_range",
                "must be less than the launch mass ({launch}), got {got}",
                {"launch": format_quantity(launch, "mass"), "got": format_quantity(value, "mass")},
            )
        return value

    @field_validator("vertical_rise_s")
    @classmethod
    def _shorter_than_burn(cls, value: float, info: ValidationInfo) -> float:
        burn = info.data.get("burn_time_s")
        if burn is not None and value >= burn:
            raise PydanticCustomError(
                "out_of_range",
                "must be shorter than the burn time ({burn}), got {got}",
                {"burn": format_quantity(burn, "time"), "got": format_quantity(value, "time")},
            )
        return value


class AirBreatherType(_ThreatType):
    """A notional drone or cruise missile type: speed, altitude, range, agility.

    A route longer than ``max_range`` is an error; ``climb_rate`` is the largest
    vertical speed.
    """

    cruise_speed_m_s: PositiveSpeed = Field(alias="cruise_speed")
    cruise_alt_m: NonNegativeLength = Field(alias="cruise_alt")
    max_range_m: PositiveLength = Field(alias="max_range")
    max_turn_rate_rad_s: PositiveAngularRate = Field(alias="max_turn_rate")
    climb_rate_m_s: PositiveSpeed = Field(alias="climb_rate")
    rcs: Rcs | None = Field(None, description="Needed when a scenario has radars.")
    sources: Annotated[list[Text], _at_least_one("source")]


# --- sensor types (the catalog) -------------------------------------------------------


class RadarType(_Model):
    """A notional radar: search radar equation, field of view, scanning, accuracy.

    Detection uses the search radar equation over the field-of-view sector searched
    once per ``scan_period`` (SNR = Pav Ae sigma t_s / (4 pi Omega R^4 k Ts L)).
    ``azimuth_half_width`` of 180 deg is a rotating (or 360-deg) radar; less is one
    face centred on the site's ``boresight``.
    """

    label: Text
    public_analogues: list[Text] = []
    band: Text
    frequency_hz: PositiveFrequency = Field(alias="frequency")
    power_aperture_w_m2: PositivePowerAperture = Field(alias="power_aperture")
    system_temp_k: PositiveTemperature = Field(alias="system_temp")
    losses_db: NonNegativeLevel = Field(alias="losses")
    pfa: Probability
    n_pulses: Annotated[int, Field(ge=1, le=1000, strict=True)] = 1
    azimuth_half_width_rad: HalfWidth = Field(alias="azimuth_half_width")
    elevation_min_rad: Elevation = Field(alias="elevation_min")
    elevation_max_rad: Elevation = Field(alias="elevation_max")
    search_elevation_max_rad: Elevation | None = Field(
        None, alias="search_elevation_max", description="Top of the search sector (default: elevation_max)."
    )
    min_range_m: NonNegativeLength = Field("0 m", alias="min_range", validate_default=True)
    max_range_m: PositiveLength = Field(alias="max_range")
    scan_period_s: PositiveDuration = Field(alias="scan_period")
    scan: Literal["electronic", "mechanical"] = "electronic"
    beamwidth_az_rad: PositiveAngle = Field(alias="beamwidth_az")
    beamwidth_el_rad: PositiveAngle = Field(alias="beamwidth_el")
    bandwidth_hz: PositiveFrequency = Field(alias="bandwidth")
    range_floor_m: NonNegativeLength = Field("0 m", alias="range_floor", validate_default=True)
    angle_floor_rad: NonNegativeAngle = Field("0 rad", alias="angle_floor", validate_default=True)
    range_rate: bool = False
    range_rate_floor_mps: NonNegativeSpeed = Field("0 m/s", alias="range_rate_floor", validate_default=True)
    dwell_time_s: PositiveDuration = Field("10 ms", alias="dwell_time", validate_default=True)
    track_gain_db: NonNegativeLevel = Field("0 dB", alias="track_gain", validate_default=True)
    cue_gain_db: NonNegativeLevel = Field("0 dB", alias="cue_gain", validate_default=True)
    sources: Annotated[list[Text], _at_least_one("source")]

    @model_validator(mode="after")
    def _ordered(self) -> RadarType:
        if self.elevation_max_rad <= self.elevation_min_rad:
            raise PydanticCustomError("out_of_range", "elevation_max must be above elevation_min", {})
        top = self.search_elevation_max_rad
        if top is not None and not self.elevation_min_rad < top <= self.elevation_max_rad:
            raise PydanticCustomError(
                "out_of_range", "search_elevation_max must lie above elevation_min and not above elevation_max", {}
            )
        if self.max_range_m <= self.min_range_m:
            raise PydanticCustomError("out_of_range", "max_range must be above min_range", {})
        return self


class InfraredType(_Model):
    """A notional space-based infrared launch detector.

    It sees a missile's boost plume once the missile has climbed above ``min_altitude``
    and reports ``report_delay`` later: the launch time and point and the heading, with
    Gaussian errors of the given sigmas. With ``cues`` the report cues the radars.
    """

    label: Text
    public_analogues: list[Text] = []
    min_altitude_m: NonNegativeLength = Field(alias="min_altitude")
    report_delay_s: NonNegativeDuration = Field(alias="report_delay")
    launch_time_sigma_s: NonNegativeDuration = Field(alias="launch_time_sigma")
    launch_point_sigma_m: NonNegativeLength = Field(alias="launch_point_sigma")
    heading_sigma_rad: NonNegativeAngle = Field(alias="heading_sigma")
    detection_probability: Annotated[float, Quantity("dimensionless", gt=0.0, le=1.0)] = 1.0
    cues: bool = True
    sources: Annotated[list[Text], _at_least_one("source")]


ThreatClass = Literal["ballistic", "cruise_missile", "drone", "aircraft"]
KillProbability = Annotated[float, Quantity("dimensionless", ge=0.0, le=1.0)]


class InterceptorType(_Model):
    """A notional interceptor and its battery equipment.

    Fly-out (:func:`hoplon.core.engagement.flyout_time_s`): constant acceleration to
    ``burnout_speed`` over ``burnout_time``, then a coast whose speed decays as
    1 / (1 + t / ``coast_decay_time``). An intercept is feasible between ``min_range`` and
    ``max_range`` (slant, from the battery), between ``min_altitude`` and ``max_altitude``,
    and within ``max_flight_time``; the battery fires ``launch_delay`` after deciding.
    ``pk`` is the single-shot kill probability per threat class (absent: cannot engage).
    """

    label: Text
    public_analogues: list[Text] = []
    tier: Literal["upper", "lower", "exo", "counter-drone"]
    min_range_m: NonNegativeLength = Field(alias="min_range")
    max_range_m: PositiveLength = Field(alias="max_range")
    min_altitude_m: NonNegativeLength = Field(alias="min_altitude")
    max_altitude_m: PositiveLength = Field(alias="max_altitude")
    burnout_speed_mps: PositiveSpeed = Field(alias="burnout_speed")
    burnout_time_s: PositiveDuration = Field(alias="burnout_time")
    coast_decay_time_s: PositiveDuration = Field(alias="coast_decay_time")
    max_flight_time_s: PositiveDuration = Field(alias="max_flight_time")
    launch_delay_s: NonNegativeDuration = Field(alias="launch_delay")
    pk: Annotated[dict[ThreatClass, KillProbability], _at_least_one("threat class")]
    launchers: Annotated[int, Field(ge=1, le=100, strict=True)]
    rounds_per_launcher: Annotated[int, Field(ge=1, le=100, strict=True)]
    reload_time_s: PositiveDuration = Field(alias="reload_time")
    mass_kg: PositiveMass = Field("500 kg", alias="mass", validate_default=True,
                                  description="Mass at burnout (what falls after a miss).")
    seeker_basket_m: PositiveLength = Field(
        "5 km", alias="seeker_basket", validate_default=True,
        description="The homing seeker acquires a target within this distance of its aim point.",
    )
    lethal_radius_m: PositiveLength = Field(
        "1 m", alias="lethal_radius", validate_default=True,
        description="A homing interceptor kills when it passes within this distance (hit-to-kill).",
    )
    sources: Annotated[list[Text], _at_least_one("source")]

    @model_validator(mode="after")
    def _ordered(self) -> InterceptorType:
        if self.max_range_m <= self.min_range_m:
            raise PydanticCustomError("out_of_range", "max_range must be above min_range", {})
        if self.max_altitude_m <= self.min_altitude_m:
            raise PydanticCustomError("out_of_range", "max_altitude must be above min_altitude", {})
        return self


TypeName = Annotated[str, StringConstraints(min_length=1, pattern=NAME_PATTERN)]


CATALOG_SECTIONS = ("ballistic", "drone", "cruise_missile", "radar", "infrared", "interceptor")


class Catalog(_Model):
    """Threat and sensor types by name, per section: the packaged catalog or a scenario's own."""

    ballistic: Annotated[dict[TypeName, BallisticType], BeforeValidator(_none_as_empty_dict)] = {}
    drone: Annotated[dict[TypeName, AirBreatherType], BeforeValidator(_none_as_empty_dict)] = {}
    cruise_missile: Annotated[
        dict[TypeName, AirBreatherType], BeforeValidator(_none_as_empty_dict)
    ] = {}
    radar: Annotated[dict[TypeName, RadarType], BeforeValidator(_none_as_empty_dict)] = {}
    infrared: Annotated[dict[TypeName, InfraredType], BeforeValidator(_none_as_empty_dict)] = {}
    interceptor: Annotated[dict[TypeName, InterceptorType], BeforeValidator(_none_as_empty_dict)] = {}

    def section(self, name: str) -> dict[str, Any]:
        """The types of one section (see :data:`CATALOG_SECTIONS`)."""
        if name not in CATALOG_SECTIONS:
            raise KeyError(name)
        return getattr(self, name)  # type: ignore[no-any-return]

    def clashes(self, other: Catalog) -> list[tuple[str, str]]:
        """``(section, name)`` of each type defined both here and in ``other``."""
        return [
            (section, name)
            for section in CATALOG_SECTIONS
            for name in other.section(section)
            if name in self.section(section)
        ]

    def merged_with(self, other: Catalog) -> Catalog:
        """This catalog plus the types of ``other``; a name in both is a ValueError."""
        clashes = self.clashes(other)
        if clashes:
            raise ValueError(f"types defined twice: {clashes}")
        return Catalog.model_construct(
            **{section: {**self.section(section), **other.section(section)} for section in CATALOG_SECTIONS}
        )


# --- sensors --------------------------------------------------------------------------


class SensorSite(_Model):
    """A sensor of the scenario: a catalog type placed at a site.

    Radars need a position (``lat``, ``lon``, ``alt``: antenna height above WGS84)
    and, for a face radar, the azimuth of its ``boresight``; space-based sensors have
    neither. ``overrides`` replaces catalog fields of the type for this sensor
    (``overrides: {max_range: 1500 km}``), with the catalog's field names and units.
    """

    id: ThreatId
    type: Text
    lat_deg: Latitude | None = Field(None, alias="lat")
    lon_deg: Longitude | None = Field(None, alias="lon")
    alt_m: Annotated[float, Quantity("length", ge=-500.0, le=40_000.0)] | None = Field(None, alias="alt")
    boresight_rad: Azimuth | None = Field(None, alias="boresight")
    overrides: Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)] = {}


# --- batteries ------------------------------------------------------------------------


class Doctrine(_Model):
    """Firing doctrine of a battery.

    ``shoot-look-shoot`` fires one round and holds the next until the kill is assessed,
    when the engagement window leaves time for a second intercept after
    ``kill_assessment_delay``; otherwise (and always with ``shoot-shoot``) it fires a
    salvo of ``salvo`` rounds at once.
    """

    mode: Literal["shoot-look-shoot", "shoot-shoot"] = "shoot-look-shoot"
    salvo: Annotated[int, Field(ge=1, le=8, strict=True)] = 2
    kill_assessment_delay_s: NonNegativeDuration = Field("10 s", alias="kill_assessment_delay", validate_default=True)
    kill_assessment_probability: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.9, description="Probability that a kill assessment is correct (notional).")


class WindLayer(_Model):
    """The wind at a height: east and north components (interpolated linearly in height)."""

    alt_m: FlightAltitude = Field(alias="alt")
    east_mps: Speed = Field(alias="east")
    north_mps: Speed = Field(alias="north")


class DebrisSettings(_Model):
    """How the engine breaks up killed threats and lets the fragments fall."""

    fragments: Annotated[int, Field(ge=1, le=10_000, strict=True)] = Field(
        200, description="Fragments per kill (their masses sum to the killed object's).")
    wind: Annotated[list[WindLayer], BeforeValidator(_none_as_empty)] = Field(
        [], description="Wind profile by height; none: still air.")


class Battery(_Model):
    """An interceptor battery: a catalog interceptor type at a site, its fire-control
    radar (a sensor id of the scenario), the assets it defends, its inventory and doctrine.
    ``launchers`` and ``rounds_per_launcher`` default to the type's."""

    id: ThreatId
    type: Text
    lat_deg: Latitude = Field(alias="lat")
    lon_deg: Longitude = Field(alias="lon")
    alt_m: Altitude = Field("0 m", alias="alt", validate_default=True)
    radar: Text | None = Field(None, description="Sensor id of the battery's fire-control radar.")
    defends: Annotated[list[Text], BeforeValidator(_none_as_empty)] = Field([], description="Names of the assets it defends.")
    launchers: Annotated[int, Field(ge=1, le=100, strict=True)] | None = None
    rounds_per_launcher: Annotated[int, Field(ge=1, le=100, strict=True)] | None = None
    doctrine: Doctrine = Doctrine()


# --- tracker settings -----------------------------------------------------------------
# The fields of hoplon.core.tracker.TrackerConfig (plain numbers in SI units), all optional.

_TRACKER_FIELD_TYPES: dict[str, Any] = {
    "motion": Literal[MOTION_MODELS],  # type: ignore[valid-type]
    "filter": Literal["ekf", "ukf"],
    "association": Literal["gnn", "jpda"],
    "initiation": Literal["single-point", "two-point"],
    "initiation_max_speed_mps": Annotated[float, Field(gt=0.0, allow_inf_nan=False)],
    "initiation_max_age_s": Annotated[float, Field(gt=0.0, allow_inf_nan=False)],
    "earth": Literal["wgs84", "sphere"],
    "confirm_m": Annotated[int, Field(ge=1, le=62, strict=True)],
    "confirm_n": Annotated[int, Field(ge=1, le=62, strict=True)],
    "delete_misses": Annotated[int, Field(ge=1, le=1000, strict=True)],
    "iekf_iterations": Annotated[int, Field(ge=1, le=20, strict=True)],
    "dense_gating_limit": Annotated[int, Field(ge=0, strict=True)],
    "gate_probability": Annotated[float, Field(gt=0.0, lt=1.0)],
    "imm_switch_rate": Annotated[float, Field(ge=0.0, allow_inf_nan=False)],
    "pd": Annotated[float, Field(gt=0.0, le=1.0)],
    "latency_window_s": Annotated[float, Field(ge=0.0, allow_inf_nan=False)],
    # below the ellipsoid: a track predicted this far under it is deleted (m)
    "min_altitude_m": Annotated[float, Field(ge=-100_000.0, le=1_000_000.0, allow_inf_nan=False)],
}
_TRACKER_DEFAULTS = TrackerConfig()


def _tracker_field(f: dataclasses.Field) -> tuple[Any, Any]:
    kind = _TRACKER_FIELD_TYPES.get(f.name, Annotated[float, Field(ge=0.0, allow_inf_nan=False)])
    return kind, Field(getattr(_TRACKER_DEFAULTS, f.name))


TrackerSettings = create_model(  # type: ignore[call-overload]
    "TrackerSettings",
    __base__=_Model,
    __doc__="Tracker settings: the fields of TrackerConfig (SI units), all optional.",
    **{f.name: _tracker_field(f) for f in dataclasses.fields(TrackerConfig)},
)
TrackerSettings.model_config = ConfigDict(**{**_Model.model_config, "title": "Hoplon tracker settings"})



# --- the scenario ---------------------------------------------------------------------


def _check_version(value: Any) -> Any:
    if value != FORMAT_VERSION or isinstance(value, bool):
        raise PydanticCustomError(
            "format_version",
            "this Hoplon reads scenario format version {version}, got {got}",
            {"version": FORMAT_VERSION, "got": quote_value(value)},
        )
    return value


def _date_time_only(value: Any) -> Any:
    if isinstance(value, datetime | str):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "expected a date-time with timezone, e.g. 2026-03-04T00:00:00Z, got {got}",
        {"got": describe_value(value)},
    )


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class Scenario(_Model):
    """A scenario: when and where, what is defended, and what comes at it.

    A scenario from :func:`~hoplon.scenario.loader.load_scenario` remembers its file;
    :meth:`problem` and :meth:`error` turn a field path into a located message for checks
    made later (e.g. by the engine).
    """

    model_config = ConfigDict(title="Hoplon scenario (format version 1)")

    hoplon: Annotated[
        int, BeforeValidator(_check_version), WithJsonSchema({"const": FORMAT_VERSION})
    ] = Field(
        FORMAT_VERSION, description="Scenario format version; only 1 is valid."
    )
    name: Name
    description: str | None = None
    epoch: Annotated[
        AwareDatetime, BeforeValidator(_date_time_only), AfterValidator(_to_utc)
    ] = Field(
        description="UTC ISO 8601 date-time with timezone, e.g. 2026-03-04T00:00:00Z."
    )
    seed: Annotated[int, Field(ge=0, strict=True)]
    earth: Literal["wgs84", "sphere"] = "wgs84"
    sources: Annotated[list[Text], BeforeValidator(_none_as_empty)] = []
    catalog: Catalog = Field(
        Catalog(), description="Scenario-defined threat types, added to the packaged catalog."
    )
    assets: Annotated[list[Asset], BeforeValidator(_none_as_empty)] = []
    threats: Threats = Threats()
    sensors: Annotated[list[SensorSite], BeforeValidator(_none_as_empty)] = []
    tracker: TrackerSettings | None = Field(None, description="Tracker settings over the engine's defaults.")  # type: ignore[valid-type]
    batteries: Annotated[list[Battery], BeforeValidator(_none_as_empty)] = []
    debris: DebrisSettings = DebrisSettings()

    _source: SourceMap | None = PrivateAttr(None)
    _catalog: Catalog | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _absolute_launch_times(cls, data: Any) -> Any:
        """Turn launch date-times into seconds after the epoch (which the threats lack)."""
        if not isinstance(data, dict):
            return data
        epoch = _as_datetime(data.get("epoch"))
        threats = data.get("threats")
        if epoch is None or epoch.tzinfo is None or not isinstance(threats, dict):
            return data
        threats = dict(threats)
        for section in THREAT_SECTIONS:
            items = threats.get(section)
            if not isinstance(items, list):
                continue
            converted = []
            for item in items:
                if isinstance(item, dict):
                    for key in ("launch_time", "launch_time_s"):
                        when = _as_datetime(item.get(key))
                        if when is not None and when.tzinfo is not None:
                            seconds = (when - epoch).total_seconds()
                            item = {**item, key: _SecondsSinceEpoch(seconds, when, epoch)}
                converted.append(item)
            threats[section] = converted
        return {**data, "threats": threats}

    def __eq__(self, other: object) -> bool:
        """Scenarios are equal when their fields are, wherever they were loaded from."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    # -- located messages for later checks --

    @property
    def source(self) -> SourceMap:
        """Where this scenario's fields are (empty if it was not loaded from a file)."""
        return self._source if self._source is not None else SourceMap("<scenario>")

    @property
    def filename(self) -> str:
        """The file name as the user gave it."""
        return self.source.filename

    def line_for(self, path: Sequence[str | int] | str) -> int | None:
        """The line of the field at ``path`` (or of its nearest parent in the file)."""
        return self.source.line_for(path)

    def problem(self, path: Sequence[str | int] | str, message: str) -> Problem:
        """A located :class:`~hoplon.errors.Problem` for the field at ``path``.

        ``path`` is a tuple (``("threats", "ballistic", 2, "aim")``) or its dotted form
        (``"threats.ballistic[2].aim"``), with the YAML field names.
        """
        return self.source.problem(path, message)

    def error(self, path: Sequence[str | int] | str, message: str) -> ScenarioError:
        """A :class:`~hoplon.errors.ScenarioError` for one problem at ``path``."""
        return ScenarioError(self.problem(path, message))

    # -- lookups --

    @property
    def threat_catalog(self) -> Catalog:
        """The threat types this scenario can use: the packaged ones plus its own."""
        if self._catalog is None:
            from hoplon.scenario.catalog import load_packaged_catalog

            self._catalog = load_packaged_catalog().merged_with(self.catalog)
        return self._catalog

    def asset(self, name: str) -> Asset:
        """The asset called ``name`` (KeyError if none)."""
        for asset in self.assets:
            if asset.name == name:
                return asset
        raise KeyError(name)

    def sensor_type(self, site: SensorSite) -> RadarType | InfraredType:
        """The catalog type of a sensor with its ``overrides`` applied (already validated)."""
        catalog = self.threat_catalog
        for section in ("radar", "infrared"):
            base = catalog.section(section).get(site.type)
            if base is not None:
                if not site.overrides:
                    return base
                merged = {**base.model_dump(mode="json", by_alias=True), **site.overrides}
                return type(base).model_validate(merged, by_alias=True, by_name=False)
        raise KeyError(site.type)

    def threat_type(self, section: str, threat: BallisticThreat | AirBreatherThreat) -> Any:
        """The catalog type of a threat of ``section`` (``"ballistic"``, ``"drones"``, ...)."""
        return self.threat_catalog.section(THREAT_SECTIONS[section][0])[threat.type]


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the scenario format, for editors and docs."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
