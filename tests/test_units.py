"""Unit parsing: conversions against the SI definitions, and the error messages."""

from __future__ import annotations

import math
from typing import Annotated

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hoplon.scenario.units import (
    Angle,
    AngularRate,
    BallisticCoefficient,
    Duration,
    Length,
    Quantity,
    QuantityError,
    Speed,
    format_quantity,
    parse_quantity,
)

# Exact definitions (SI brochure, NIST SP 811; international foot/knot/nautical mile).
KM_PER_H = 1 / 3.6  # m/s
KNOT = 1852 / 3600  # m/s
FOOT = 0.3048  # m
NAUTICAL_MILE = 1852.0  # m
DEGREE = math.pi / 180  # rad
REL = 1e-12


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("200 km", "length", 200_000.0),
        ("30000 ft", "length", 30000 * FOOT),
        ("1 nmi", "length", NAUTICAL_MILE),
        ("70 m", "length", 70.0),
        ("-500 m", "length", -500.0),
        ("2.5 km/s", "speed", 2500.0),
        ("185 km/h", "speed", 185 * KM_PER_H),
        ("1 km/h", "speed", KM_PER_H),
        ("10 kn", "speed", 10 * KNOT),
        ("45 deg", "angle", 45 * DEGREE),
        ("1 deg", "angle", DEGREE),
        ("0.5 rad", "angle", 0.5),
        ("3 deg/s", "angular_rate", 3 * DEGREE),
        ("30 s", "time", 30.0),
        ("1 h", "time", 3600.0),
        ("1 h 20 min", "time", 4800.0),
        ("-1 h 30 min", "time", -5400.0),
        ("17500 kg", "mass", 17500.0),
        ("1.2 m^2", "area", 1.2),
        ("5000 kg/m^2", "ballistic_coefficient", 5000.0),
        ("9.81 m/s^2", "acceleration", 9.81),
        ("0.3", "dimensionless", 0.3),
        (0.3, "dimensionless", 0.3),
        (2, "dimensionless", 2.0),
        ("2.5e3 m", "length", 2500.0),
        ("  3km ", "length", 3000.0),
    ],
)
def test_conversions_match_si_definitions(text: object, kind: str, expected: float) -> None:
    assert parse_quantity(text, kind) == pytest.approx(expected, rel=REL)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (3, "length", "a length needs a unit, e.g. '3 km'"),
        (3.5, "speed", "a speed needs a unit, e.g. '250 m/s'"),
        ("45", "angle", "an angle needs a unit, e.g. '45 deg'"),
        (0, "time", "a duration needs a unit, e.g. '30 s'"),
        ("200 kmh", "speed", "unknown unit 'kmh' in '200 kmh' (did you mean 'km/h'?)"),
        ("3 furlongz", "length", "unknown unit 'furlongz' in '3 furlongz'"),
        ("3 km", "speed", "expected a speed, got '3 km' (a length)"),
        ("3 s", "length", "expected a length, got '3 s' (a duration)"),
        ("3 Hz", "angular_rate", "expected an angular rate, got '3 Hz' (a frequency)"),
        ("45 deg", "dimensionless", "expected a dimensionless number, got '45 deg' (an angle)"),
        ("nan km", "length", "not a finite number"),
        ("inf m/s", "speed", "not a finite number"),
        (float("nan"), "dimensionless", "not a finite number"),
        (float("inf"), "dimensionless", "not a finite number"),
        ("1e400 m", "length", "too large"),
        ("km", "length", "write a number and a unit"),
        ("", "length", "empty"),
        (True, "dimensionless", "expected a dimensionless number, got a true/false value"),
        ([3, "km"], "length", "expected a length, got a list"),
        (None, "length", "expected a length, got nothing"),
        ("200 nm", "length", "write 'nmi' for nautical miles"),
        ("3 km/", "length", "cannot read the unit 'km/' in '3 km/'"),
    ],
)
def test_errors_say_what_is_wrong(value: object, kind: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(value, kind)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown quantity kind"):
        parse_quantity("3 m", "volume")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (200_000.0, "length", "200 km"),
        (70.0, "length", "70 m"),
        (parse_quantity("185 km/h", "speed"), "speed", "185 km/h"),
        (45 * DEGREE, "angle", "45 deg"),
        (3 * DEGREE, "angular_rate", "3 deg/s"),
        (4800.0, "time", "4800 s"),
        (0.3, "dimensionless", "0.3"),
    ],
)
def test_format_quantity_is_readable(value: float, kind: str, text: str) -> None:
    """Round values come out in the nicest unit that reads back to exactly the same float."""
    assert format_quantity(value, kind) == text  # type: ignore[arg-type]


KINDS = ["length", "speed", "angle", "time", "mass", "area", "ballistic_coefficient",
         "angular_rate", "acceleration", "dimensionless"]


@given(
    value=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    kind=st.sampled_from(KINDS),
)
def test_format_then_parse_is_exact(value: float, kind: str) -> None:
    assert parse_quantity(format_quantity(value, kind), kind) == value  # type: ignore[arg-type]


class _Model(BaseModel):
    length: Length
    speed: Speed
    angle: Angle
    duration: Duration
    beta: BallisticCoefficient
    rate: AngularRate
    radius: Annotated[float, Quantity("length", gt=0.0)]


def test_pydantic_types_store_si_and_dump_with_units() -> None:
    model = _Model(
        length="3 km", speed="10 kn", angle="90 deg", duration="2 min", beta="6000 kg/m^2",
        rate="3 deg/s", radius="1 nmi",
    )
    assert model.length == 3000.0
    assert model.speed == pytest.approx(10 * KNOT, rel=REL)
    assert model.angle == pytest.approx(math.pi / 2, rel=REL)
    assert model.duration == 120.0
    dumped = model.model_dump(mode="json")
    assert dumped["length"] == "3 km"
    assert dumped["angle"] == "90 deg"
    assert _Model.model_validate(dumped) == model
    assert model.model_dump()["length"] == 3000.0  # Python mode keeps SI floats


def test_pydantic_types_report_bounds_in_readable_units() -> None:
    with pytest.raises(ValidationError) as info:
        _Model(length=3, speed="1 km", angle="1 deg", duration="1 s", beta="1 kg/m^2",
               rate="1 deg/s", radius="-3 km")
    messages = {err["loc"][0]: err["msg"] for err in info.value.errors()}
    assert messages == {
        "length": "a length needs a unit, e.g. '3 km'",
        "speed": "expected a speed, got '1 km' (a length)",
        "radius": "must be greater than 0 m, got '-3 km'",
    }


def test_json_schema_shows_text_with_unit() -> None:
    schema = _Model.model_json_schema()
    length = schema["properties"]["length"]
    assert length["type"] == "string"
    assert "stored in m" in length["description"]
    assert "stored in rad/s" in schema["properties"]["rate"]["description"]
