"""Quantities with units, parsed once at load into SI floats.

Scenario files write quantities as text with a unit (``"200 km"``, ``"2.5 km/s"``,
``"45 deg"``, ``"1 h 20 min"``); :func:`parse_quantity` turns them into a float in the SI
unit of their kind (m, m/s, rad, s, kg, m^2, kg/m^2, rad/s, m/s^2). A bare number is
accepted only for dimensionless values: anything else must say its unit.

The ``Annotated`` types at the end (:data:`Length`, :data:`Speed`, ...) plug this parser
into pydantic models, show up in the JSON Schema as a string with a unit, and serialise
back to text with a unit in JSON mode (``model_dump(mode="json")``), so a dumped
scenario reads back to the same numbers.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

import pint
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = [
    "Acceleration",
    "Angle",
    "AngularRate",
    "Area",
    "BallisticCoefficient",
    "Degrees",
    "Decibel",
    "Dimensionless",
    "Duration",
    "Frequency",
    "Power",
    "PowerAperture",
    "RadarCrossSection",
    "Temperature",
    "Length",
    "Mass",
    "Quantity",
    "QuantityError",
    "QuantityKind",
    "Speed",
    "describe_value",
    "format_quantity",
    "parse_quantity",
    "quote_value",
    "ureg",
]

#: The one unit registry of Hoplon. Do not create others: pint quantities from
#: different registries do not mix.
ureg: pint.UnitRegistry[Any] = pint.UnitRegistry()

QuantityKind = Literal[
    "length",
    "speed",
    "angle",
    "time",
    "mass",
    "area",
    "ballistic_coefficient",
    "angular_rate",
    "acceleration",
    "frequency",
    "power",
    "temperature",
    "power_aperture",
    "decibel",
    "rcs",
    "dimensionless",
]


class QuantityError(ValueError):
    """A value could not be read as a quantity of the expected kind; the message says why."""


@dataclass(frozen=True)
class _Kind:
    noun: str  # "a length"
    si: str  # SI unit as written in messages and in the JSON Schema
    example: str  # a valid example value
    display: tuple[str, ...]  # units that format_quantity tries, nicest first
    common: tuple[str, ...]  # units offered as "did you mean"


_KINDS: dict[str, _Kind] = {
    "length": _Kind(
        "a length", "m", "3 km", ("km", "m"),
        ("m", "km", "ft", "nmi", "mi", "cm", "mm"),
    ),
    "speed": _Kind(
        "a speed", "m/s", "250 m/s", ("m/s", "km/h"),
        ("m/s", "km/s", "km/h", "kn", "mph", "ft/s"),
    ),
    "angle": _Kind("an angle", "rad", "45 deg", ("deg", "rad"), ("deg", "rad", "arcmin", "mrad")),
    "time": _Kind("a duration", "s", "30 s", ("s",), ("s", "ms", "min", "h", "day")),
    "mass": _Kind("a mass", "kg", "1500 kg", ("kg",), ("kg", "g", "t", "lb")),
    "area": _Kind("an area", "m^2", "1.2 m^2", ("m^2",), ("m^2", "cm^2", "ft^2")),
    "ballistic_coefficient": _Kind(
        "a ballistic coefficient (mass per area)", "kg/m^2", "5000 kg/m^2", ("kg/m^2",),
        ("kg/m^2", "lb/ft^2"),
    ),
    "angular_rate": _Kind(
        "an angular rate", "rad/s", "3 deg/s", ("deg/s", "rad/s"), ("deg/s", "rad/s", "rpm"),
    ),
    "acceleration": _Kind(
        "an acceleration", "m/s^2", "9.81 m/s^2", ("m/s^2",), ("m/s^2", "g0", "ft/s^2"),
    ),
    "frequency": _Kind("a frequency", "Hz", "9.5 GHz", ("GHz", "MHz", "kHz", "Hz"), ("Hz", "kHz", "MHz", "GHz")),
    "power": _Kind("a power", "W", "100 kW", ("kW", "W"), ("W", "kW", "MW")),
    "temperature": _Kind("a temperature", "K", "500 K", ("K",), ("K",)),
    "power_aperture": _Kind(
        "a power-aperture product", "W*m^2", "3e6 W*m^2", ("W*m^2",), ("W*m^2", "kW*m^2", "MW*m^2"),
    ),
    # two kinds read by hand, not by pint: levels in decibels, and radar cross sections
    # that may be given in dBsm
    "decibel": _Kind("a level in decibels", "dB", "6 dB", ("dB",), ("dB",)),
    "rcs": _Kind("a radar cross section", "m^2", "0.1 m^2", ("m^2",), ("m^2", "dBsm")),
    "dimensionless": _Kind("a dimensionless number", "1", "0.3", ("",), ("percent",)),
}
assert set(_KINDS) == set(get_args(QuantityKind))

_SI_UNITS = {
    kind: ureg.parse_units({"1": "", "dB": "", "m^2": "m^2"}.get(spec.si, spec.si))
    for kind, spec in _KINDS.items()
}
_ROOTS = {kind: ureg.get_root_units(unit)[1] for kind, unit in _SI_UNITS.items()}

# Names for dimensions no kind has, used only to explain a wrong dimension.
_OTHER_NOUNS = {
    "1/s": "a frequency",
    "m^3": "a volume",
    "kg*m/s^2": "a force",
    "kg/m/s^2": "a pressure",
    "K": "a temperature",
    "kg*m^2/s^2": "an energy",
    "kg*m^2/s^3": "a power",
    "kg/m^3": "a density",
}
_NOUN_BY_ROOT: list[tuple[Any, str]] = [(_ROOTS[k], s.noun) for k, s in _KINDS.items()] + [
    (ureg.get_root_units(ureg.parse_units(u))[1], noun) for u, noun in _OTHER_NOUNS.items()
]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SINGLE_RE = re.compile(rf"\s*({_NUMBER})\s*(.*?)\s*")
_PART_RE = re.compile(r"(\d+\.?\d*|\.\d+)\s*([A-Za-z]+)(?:\s+|$)")
_COMPOUND_RE = re.compile(r"\s*([-+]?)((?:(?:\d+\.?\d*|\.\d+)\s*[A-Za-z]+(?:\s+|$)){2,})")
_NOT_FINITE_RE = re.compile(r"[-+]?\s*(nan|inf|infinity)\b", re.IGNORECASE)

# Unit spellings pint reads in a way people rarely mean.
_AMBIGUOUS = {
    "nm": "'nm' is a nanometre; write 'nmi' for nautical miles",
    "NM": "write 'nmi' for nautical miles",
}

#: JSON Schema pattern of a quantity string: a number followed by a unit.
QUANTITY_PATTERN = rf"^\s*{_NUMBER}\s*\S.*$"


def quote_value(value: object) -> str:
    """Quote a user value for a message (``'200 kmh'``, ``12``), shortened if long."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"'{text}'" if isinstance(value, str) else text


def describe_value(value: object) -> str:
    """Say what a user value is, in plain words: ``a list``, ``a str ('abc')``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a true/false value ({str(value).lower()})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, datetime):
        return f"a date-time ({value.isoformat()})"
    if isinstance(value, date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        return f"the text {quote_value(value)}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    return f"a {type(value).__name__} ({quote_value(value)})"


def _noun_of(unit: Any) -> str:
    root = ureg.get_root_units(unit)[1]
    for candidate, noun in _NOUN_BY_ROOT:
        if root == candidate:
            return noun
    return f"in units of {root:~}" if str(root) != "dimensionless" else "a dimensionless number"


def _kind(kind: str) -> _Kind:
    try:
        return _KINDS[kind]
    except KeyError:
        known = ", ".join(_KINDS)
        raise ValueError(f"unknown quantity kind {kind!r}; expected one of {known}") from None


def _parse_units(text: str, whole: str, kind: str) -> Any:
    """Parse a unit expression, raising QuantityError with a helpful message."""
    if text in _AMBIGUOUS:
        raise QuantityError(f"ambiguous unit in '{whole}': {_AMBIGUOUS[text]}")
    try:
        return ureg.parse_units(text)
    except pint.UndefinedUnitError as err:
        names = err.unit_names if isinstance(err.unit_names, (list, tuple)) else [err.unit_names]
        name = str(names[0]) if names else text
        hint = ""
        candidates = {c.lower(): c for c in _KINDS[kind].common + ("km/h",) * (kind == "speed")}
        close = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
        if close:
            hint = f" (did you mean '{candidates[close[0]]}'?)"
        raise QuantityError(f"unknown unit '{name}' in '{whole}'{hint}") from None
    except Exception:  # noqa: BLE001 - pint's parser raises assorted errors on bad input
        raise QuantityError(f"cannot read the unit '{text}' in '{whole}'") from None


def _convert(magnitude: float, units: Any, whole: str, kind: str) -> float:
    spec = _KINDS[kind]
    if ureg.get_root_units(units)[1] != _ROOTS[kind]:
        raise QuantityError(f"expected {spec.noun}, got '{whole}' ({_noun_of(units)})")
    value = float(ureg.Quantity(magnitude, units).to(_SI_UNITS[kind]).magnitude)
    if not math.isfinite(value):
        raise QuantityError(f"'{whole}' is too large")
    return value


def parse_quantity(value: object, kind: QuantityKind) -> float:
    """Read ``value`` as a quantity of ``kind`` and return it as a float in SI units.

    ``value`` is text with a unit (``"200 km"``, ``"185 km/h"``, ``"1 h 20 min"``), or,
    for ``kind="dimensionless"`` only, a plain number. Raises :class:`QuantityError`
    with a short message for a bare number where a unit is needed, an unknown unit, a
    wrong dimension, or a value that is not finite.
    """
    spec = _kind(kind)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QuantityError(f"expected {spec.noun}, got {describe_value(value)}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise QuantityError(f"expected {spec.noun}, got {value} (not a finite number)")
        if kind == "dimensionless":
            return float(value)
        raise QuantityError(f"{spec.noun} needs a unit, e.g. '{spec.example}'")
    text = value.strip()
    if not text:
        raise QuantityError(f"expected {spec.noun}, got an empty string")
    if _NOT_FINITE_RE.match(text):
        raise QuantityError(f"expected {spec.noun}, got {quote_value(value)} (not a finite number)")
    compound = _COMPOUND_RE.fullmatch(text) if kind not in ("decibel", "rcs") else None
    if compound:  # "1 h 20 min": a sum of parts, each with a plain unit name
        sign = -1.0 if compound.group(1) == "-" else 1.0
        total = 0.0
        for number, unit in _PART_RE.findall(compound.group(2)):
            total += _convert(float(number), _parse_units(unit, text, kind), text, kind)
        return sign * total
    single = _SINGLE_RE.fullmatch(text)
    if not single:
        raise QuantityError(
            f"cannot read {quote_value(value)} as {spec.noun}; write a number and a unit, "
            f"e.g. '{spec.example}'"
        )
    magnitude, unit_text = float(single.group(1)), single.group(2)
    if not math.isfinite(magnitude):
        raise QuantityError(f"{quote_value(value)} is too large")
    if not unit_text:
        if kind == "dimensionless":
            return magnitude
        raise QuantityError(f"{spec.noun} needs a unit, e.g. '{spec.example}'")
    if kind == "decibel":
        if unit_text not in ("dB", "dBi"):
            raise QuantityError(f"expected {spec.noun}, e.g. '{spec.example}', got {quote_value(value)}")
        return magnitude
    if kind == "rcs":
        if unit_text == "dBsm":
            return 10.0 ** (magnitude / 10.0)
        try:
            return _convert(magnitude, _parse_units(unit_text, text, "area"), text, "area")
        except QuantityError:
            raise QuantityError(
                f"expected {spec.noun} in m^2 or dBsm, e.g. '0.1 m^2' or '-10 dBsm', got {quote_value(value)}"
            ) from None
    return _convert(magnitude, _parse_units(unit_text, text, kind), text, kind)


def _format_number(x: float) -> str:
    short = f"{x:.12g}"
    return short if float(short) == x else repr(x)


def format_quantity(value_si: float, kind: QuantityKind) -> str:
    """Write an SI value as text with a readable unit, e.g. 200000 m -> ``"200 km"``.

    The text always reads back to exactly ``value_si`` with :func:`parse_quantity`;
    where a nicer unit would lose a bit, the SI unit is used.
    """
    spec = _kind(kind)
    value_si = float(value_si)
    if not math.isfinite(value_si):
        raise ValueError(f"cannot format a non-finite {kind}: {value_si}")
    if kind == "decibel":
        return f"{_format_number(value_si)} dB"
    if kind == "rcs":
        return f"{_format_number(value_si)} m^2"
    units = [u for u in spec.display if not (u == "km" and abs(value_si) < 1000.0)]
    if units == [""]:
        return _format_number(value_si)
    for pretty in (True, False):  # a short number in any unit beats a long one
        for unit in units:
            magnitude = float(ureg.Quantity(value_si, _SI_UNITS[kind]).to(unit).magnitude)
            text = f"{magnitude:.12g} {unit}" if pretty else f"{magnitude!r} {unit}"
            if parse_quantity(text, kind) == value_si:
                return text
    return f"{value_si!r} {spec.si}"


# --- pydantic types -------------------------------------------------------------------


def _range_message(
    kind: str, gt: float | None, ge: float | None, lt: float | None, le: float | None
) -> str:
    """Describe the allowed range in words, e.g. 'between -500 m and 10 km'."""

    def show(bound: float) -> str:
        return format_quantity(bound, kind)  # type: ignore[arg-type]

    low = ("greater than", gt) if gt is not None else ("at least", ge) if ge is not None else None
    high = ("less than", lt) if lt is not None else ("at most", le) if le is not None else None
    if low and high:
        if low[0] == "at least" and high[0] == "at most":
            return f"between {show(low[1])} and {show(high[1])}"
        return f"{low[0]} {show(low[1])} and {high[0]} {show(high[1])}"
    if low:
        return f"{low[0]} {show(low[1])}"
    if high:
        return f"{high[0]} {show(high[1])}"
    return ""


@dataclass(frozen=True)
class Quantity:
    """Pydantic metadata: a quantity of ``kind`` given with a unit, stored as an SI float.

    Use it as ``Annotated[float, Quantity("length", gt=0.0)]``. Bounds are in SI units
    and reported in readable ones (``must be greater than 0 m, got '-3 km'``). In JSON
    mode (``model_dump(mode="json")``) the value is written back as text with a unit.
    """

    kind: QuantityKind
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None

    def __post_init__(self) -> None:
        _kind(self.kind)

    def validate(self, raw: Any) -> float:
        """Parse and range-check one input value."""
        try:
            value = parse_quantity(raw, self.kind)
        except QuantityError as err:
            raise PydanticCustomError("quantity", "{reason}", {"reason": str(err)}) from None
        bad = (
            (self.gt is not None and not value > self.gt)
            or (self.ge is not None and not value >= self.ge)
            or (self.lt is not None and not value < self.lt)
            or (self.le is not None and not value <= self.le)
        )
        if bad:
            raise PydanticCustomError(
                "out_of_range",
                "must be {range}, got {got}",
                {"range": self.range_text(), "got": quote_value(raw)},
            )
        return value

    def serialize(self, value: float) -> str | float:
        """The value as text with a unit (a plain number if dimensionless)."""
        return value if self.kind == "dimensionless" else format_quantity(value, self.kind)

    def range_text(self) -> str:
        """The allowed range in words, e.g. ``between -500 m and 10 km``."""
        return _range_message(self.kind, self.gt, self.ge, self.lt, self.le)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of the accepted input."""
        spec = _KINDS[self.kind]
        allowed = self.range_text()
        if self.kind == "dimensionless":
            number: dict[str, Any] = {"type": "number"}
            for key, bound in (("exclusiveMinimum", self.gt), ("minimum", self.ge),
                               ("exclusiveMaximum", self.lt), ("maximum", self.le)):
                if bound is not None:
                    number[key] = bound
            return {
                "anyOf": [number, {"type": "string"}],
                "description": "A dimensionless number" + (f", {allowed}" if allowed else "") + ".",
                "examples": [float(spec.example)],
            }
        return {
            "type": "string",
            "pattern": QUANTITY_PATTERN,
            "description": (
                f"{spec.noun[0].upper()}{spec.noun[1:]} as a number with a unit, "
                f"e.g. '{spec.example}'" + (f"; {allowed}" if allowed else "")
                + f"; stored in {spec.si}."
            ),
            "examples": [spec.example],
        }

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                self.serialize, when_used="json"
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


@dataclass(frozen=True)
class Degrees:
    """Pydantic metadata for latitude/longitude: stored in degrees.

    Accepts a plain number (degrees) or text with an angle unit (``"37.5 deg"``,
    ``"0.65 rad"``); the range ``[ge, le]`` is checked in degrees.
    """

    what: str
    ge: float
    le: float

    def validate(self, raw: Any) -> float:
        """Read one input value as degrees and check its range."""
        try:
            number: object = raw
            if isinstance(raw, str):
                plain = _SINGLE_RE.fullmatch(raw)
                if plain and not plain.group(2):  # "37.5": degrees, like a bare number
                    number = float(plain.group(1))
                else:
                    number = math.degrees(parse_quantity(raw, "angle"))
            if isinstance(number, bool) or not isinstance(number, (int, float)):
                raise QuantityError(f"expected {self.what} in degrees, got {describe_value(raw)}")
            degrees = float(number)
            if not math.isfinite(degrees):
                raise QuantityError(f"expected {self.what} in degrees, got {quote_value(raw)}")
        except QuantityError as err:
            raise PydanticCustomError("quantity", "{reason}", {"reason": str(err)}) from None
        if not self.ge <= degrees <= self.le:
            raise PydanticCustomError(
                "out_of_range",
                "{what} must be between {low} and {high} deg, got {got}",
                {"what": self.what, "low": _format_number(self.ge),
                 "high": _format_number(self.le), "got": quote_value(raw)},
            )
        return degrees

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.validate)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        low, high = _format_number(self.ge), _format_number(self.le)
        return {
            "anyOf": [
                {"type": "number", "minimum": self.ge, "maximum": self.le},
                {"type": "string", "pattern": QUANTITY_PATTERN},
            ],
            "description": (
                f"{self.what[0].upper()}{self.what[1:]} in degrees: a number, or text with an "
                f"angle unit (e.g. '37.5 deg'); between {low} and {high} deg."
            ),
        }


#: A length in m.
Length = Annotated[float, Quantity("length")]
#: A speed in m/s.
Speed = Annotated[float, Quantity("speed")]
#: An angle in rad.
Angle = Annotated[float, Quantity("angle")]
#: A duration (kind ``"time"``) in s.
Duration = Annotated[float, Quantity("time")]
#: A mass in kg.
Mass = Annotated[float, Quantity("mass")]
#: An area in m^2.
Area = Annotated[float, Quantity("area")]
#: A ballistic coefficient in kg/m^2.
BallisticCoefficient = Annotated[float, Quantity("ballistic_coefficient")]
#: An angular rate in rad/s.
AngularRate = Annotated[float, Quantity("angular_rate")]
#: An acceleration in m/s^2.
Acceleration = Annotated[float, Quantity("acceleration")]
#: A frequency in Hz.
Frequency = Annotated[float, Quantity("frequency")]
#: A power in W.
Power = Annotated[float, Quantity("power")]
#: A temperature in K.
Temperature = Annotated[float, Quantity("temperature")]
#: A power-aperture product in W*m^2.
PowerAperture = Annotated[float, Quantity("power_aperture")]
#: A level in dB (kept in dB).
Decibel = Annotated[float, Quantity("decibel")]
#: A radar cross section in m^2 (accepts dBsm).
RadarCrossSection = Annotated[float, Quantity("rcs")]
#: A dimensionless number (a plain number is fine).
Dimensionless = Annotated[float, Quantity("dimensionless")]
