"""hoplon export: CZML packet structure, KML placemarks, GeoJSON against a JSON schema,
and coordinates round-tripped against the run's tables."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import jsonschema
import pyarrow.parquet as pq
import pytest
from report_fixtures import run_dir

from cli_checks import assert_clean_error, invoke

KML_NS = {"k": "http://www.opengis.net/kml/2.2"}

# GeoJSON (RFC 7946) as a JSON schema: positions, the three geometry types Hoplon writes,
# closed linear rings of at least four positions, features and a feature collection
_POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"},
             "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180}, {"type": "number", "minimum": -90, "maximum": 90}]}
GEOJSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": {"const": "Feature"},
                "properties": {"type": "object", "required": ["layer"]},
                "geometry": {"oneOf": [
                    {"type": "object", "required": ["type", "coordinates"],
                     "properties": {"type": {"const": "Point"}, "coordinates": _POSITION}},
                    {"type": "object", "required": ["type", "coordinates"],
                     "properties": {"type": {"const": "LineString"}, "coordinates": {"type": "array", "minItems": 2, "items": _POSITION}}},
                    {"type": "object", "required": ["type", "coordinates"],
                     "properties": {"type": {"const": "Polygon"}, "coordinates": {"type": "array", "minItems": 1, "items": {
                         "type": "array", "minItems": 4, "items": _POSITION}}}},
                ]},
            },
        }},
    },
}


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    run = run_dir(tmp_path_factory)
    out = tmp_path_factory.mktemp("export")
    code, stdout, stderr, exc = invoke("export", str(run), "--czml", str(out / "run.czml"), "--kml", str(out / "run.kml"),
                                       "--geojson", str(out / "run.geojson"))
    assert code == 0, (stdout, stderr, exc)
    return run, out


def _truth(run) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for r in pq.read_table(run / "truth.parquet").to_pylist():
        rows.setdefault(r["object_id"], []).append(r)
    for v in rows.values():
        v.sort(key=lambda r: r["time_s"])
    return rows


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_czml_packets_and_round_trip(exported):
    run, out = exported
    doc = json.loads((out / "run.czml").read_text(encoding="utf-8"))
    assert isinstance(doc, list) and doc[0]["id"] == "document" and doc[0]["version"] == "1.0"
    start, end = map(_iso, doc[0]["clock"]["interval"].split("/"))
    ids = [p["id"] for p in doc]
    assert len(ids) == len(set(ids))
    truth = _truth(run)
    epoch = _iso(json.loads((run / "summary.json").read_text(encoding="utf-8"))["scenario"]["epoch_utc"])
    packets = {p["id"]: p for p in doc}
    for oid, rows in truth.items():
        p = packets[oid]
        a, b = map(_iso, p["availability"].split("/"))
        assert a == epoch + timedelta(milliseconds=round(rows[0]["time_s"] * 1000))
        assert b == epoch + timedelta(milliseconds=round(rows[-1]["time_s"] * 1000))
        assert start <= a <= b <= end
        pos = p["position"]
        samples = pos["cartographicDegrees"]
        assert len(samples) == 4 * len(rows)
        t0 = (_iso(pos["epoch"]) - epoch).total_seconds()
        for k, r in enumerate(rows):
            t, lon, lat, h = samples[4 * k: 4 * k + 4]
            assert t + t0 == pytest.approx(r["time_s"], abs=1e-3)
            assert lon == pytest.approx(r["lon_deg"], abs=5.1e-7) and lat == pytest.approx(r["lat_deg"], abs=5.1e-7)
            assert h == pytest.approx(r["alt_m"], abs=0.051)
    layers = {p["id"].split("/")[0] for p in doc if "/" in p["id"]}
    assert {"asset", "sensor", "coverage", "battery", "zone", "intercept", "impact", "debris"} <= layers
    for p in doc:
        if p["id"].startswith(("intercept/", "impact/", "debris/")):
            assert "/" in p["availability"]


def test_kml_placemarks_and_round_trip(exported):
    run, out = exported
    root = ET.parse(out / "run.kml").getroot()
    folders = {f.find("k:name", KML_NS).text: f for f in root.iter("{http://www.opengis.net/kml/2.2}Folder")}
    assert set(folders) == {"Trajectories", "Defended assets", "Sensors", "Engagement zones", "Intercepts", "Leaker impacts",
                            "Debris footprints"}
    truth = _truth(run)
    marks = {pm.find("k:name", KML_NS).text: pm for pm in folders["Trajectories"].findall("k:Placemark", KML_NS)}
    assert set(marks) == set(truth)
    for oid, rows in truth.items():
        coords = marks[oid].find("k:LineString/k:coordinates", KML_NS).text.split()
        assert len(coords) == len(rows)
        for text, r in zip(coords, rows):
            lon, lat, h = map(float, text.split(","))
            assert lon == pytest.approx(r["lon_deg"], abs=5.1e-7) and lat == pytest.approx(r["lat_deg"], abs=5.1e-7)
            assert h == pytest.approx(r["alt_m"], abs=0.051)
        assert marks[oid].find("k:LineString/k:altitudeMode", KML_NS).text == "absolute"
    outcomes = [r for r in pq.read_table(run / "outcomes.parquet").to_pylist() if r["fate"] == "leaked"]
    impacts = {pm.find("k:name", KML_NS).text: pm for pm in folders["Leaker impacts"].findall("k:Placemark", KML_NS)}
    assert set(impacts) == {f"{r['object_id']} impact" for r in outcomes}
    for r in outcomes:
        lon, lat = map(float, impacts[f"{r['object_id']} impact"].find("k:Point/k:coordinates", KML_NS).text.split(",")[:2])
        assert (lat, lon) == (pytest.approx(r["impact_lat_deg"], abs=5.1e-7), pytest.approx(r["impact_lon_deg"], abs=5.1e-7))
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert len(folders["Debris footprints"].findall("k:Placemark", KML_NS)) == sum(
        len(c["polygon95_lat_deg"]) >= 3 for c in summary["debris"])


def test_geojson_validates_and_round_trips(exported):
    run, out = exported
    doc = json.loads((out / "run.geojson").read_text(encoding="utf-8"))
    jsonschema.validate(doc, GEOJSON_SCHEMA)
    feats = doc["features"]
    for f in feats:
        if f["geometry"]["type"] == "Polygon":
            ring = f["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1]
            area = sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:]))
            assert area > 0  # RFC 7946: exterior rings counterclockwise
    truth = _truth(run)
    tracks = {f["properties"]["id"]: f for f in feats if f["properties"]["layer"] in ("ground_track", "interceptor_path")}
    assert set(tracks) == set(truth)
    for oid, rows in truth.items():
        coords = tracks[oid]["geometry"]["coordinates"]
        assert [c[:2] for c in coords] == [[pytest.approx(r["lon_deg"], abs=5.1e-7), pytest.approx(r["lat_deg"], abs=5.1e-7)] for r in rows]
        assert (tracks[oid]["properties"]["layer"] == "interceptor_path") == (rows[0]["kind"] == "interceptor")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    clouds = {f["properties"]["cloud_id"]: f for f in feats if f["properties"]["layer"] == "debris_footprint"}
    with_area = [c for c in summary["debris"] if len(c["polygon95_lat_deg"]) >= 3]  # (a lone fragment has none)
    assert set(clouds) == {c["cloud_id"] for c in with_area}
    for c in with_area:
        ring = clouds[c["cloud_id"]]["geometry"]["coordinates"][0]
        expected = {(round(lo, 6), round(la, 6)) for la, lo in zip(c["polygon95_lat_deg"], c["polygon95_lon_deg"])}
        assert {(round(x, 6), round(y, 6)) for x, y in ring} == expected
    layout = json.loads((run / "scenario.json").read_text(encoding="utf-8"))
    assets = {f["properties"]["name"]: f["geometry"]["coordinates"] for f in feats if f["properties"]["layer"] == "asset"}
    assert assets == {a["name"]: [a["lon_deg"], a["lat_deg"], a["alt_m"]] for a in layout["assets"]}
    layers = {f["properties"]["layer"] for f in feats}
    assert {"sensor_coverage", "engagement_zone", "intercept", "leaker_impact"} <= layers


def test_exports_are_deterministic(exported, tmp_path):
    run, out = exported
    code, *_ = invoke("export", str(run), "--czml", str(tmp_path / "a.czml"), "--kml", str(tmp_path / "a.kml"),
                      "--geojson", str(tmp_path / "a.geojson"))
    assert code == 0
    for ext in ("czml", "kml", "geojson"):
        assert (tmp_path / f"a.{ext}").read_bytes() == (out / f"run.{ext}").read_bytes(), ext


def test_export_needs_an_output(exported):
    run, _ = exported
    assert_clean_error(*invoke("export", str(run)), "--czml/--kml/--geojson", "name at least one output file")


def test_iso_times_are_utc_milliseconds():
    from hoplon.report.export import iso_utc

    assert iso_utc("2026-03-04T00:00:00.000Z", 33000.0) == "2026-03-04T09:10:00.000Z"
    assert iso_utc("2026-03-04T00:00:00.000Z", 86400.0 + 0.0015) == "2026-03-05T00:00:00.002Z"
    assert datetime(2026, 3, 4, 9, 10, tzinfo=timezone.utc) == _iso(iso_utc("2026-03-04T00:00:00Z", 33000.0))
