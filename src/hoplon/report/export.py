"""Exports of a run for the field's viewers: time-dynamic CZML (Cesium, via czml3), KML
(Google Earth, via simplekml) and GeoJSON (RFC 7946, for GIS).

All three carry the truth trajectories at the run's full sampling (every truth row),
the defended assets, the sensors with their coverage fans (at :data:`EXPORT_ALTITUDE_M`),
the batteries' engagement zones, the intercept points, the leakers' impacts and the
debris footprints. Coordinates are the run's tables' rounded to 1e-6 deg (0.1 m) and 0.1 m
heights; the output is byte-identical for the same run directory.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from hoplon import __version__
from hoplon.report.run_data import RunData
from hoplon.report.scene import build_scene

__all__ = ["to_czml", "to_kml", "to_geojson", "iso_utc", "EXPORT_ALTITUDE_M"]

EXPORT_ALTITUDE_M = 10_000.0
_COLOURS = {  # RGBA
    "ballistic_missile": (192, 57, 43, 255), "drone": (230, 126, 34, 255), "cruise_missile": (142, 68, 173, 255),
    "spent_booster": (136, 136, 136, 255), "interceptor": (31, 79, 209, 255),
}


def iso_utc(epoch_utc: str, t: float) -> str:
    """ISO 8601 UTC with milliseconds of ``t`` seconds after the epoch."""
    epoch = datetime.fromisoformat(epoch_utc.replace("Z", "+00:00")).astimezone(timezone.utc)
    when = epoch + timedelta(milliseconds=round(t * 1000.0))
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _scene(run: RunData) -> dict:
    return build_scene(run, max_track_points=10**9, places=False)


def _c(x: float, digits: int = 7) -> float:
    return round(float(x), digits)


def _fan(sensor: dict) -> dict | None:
    for f in sensor.get("fans", []):
        if f["altitude_m"] == EXPORT_ALTITUDE_M:
            return f
    return sensor["fans"][0] if sensor.get("fans") else None


# ------------------------------------------------------------------------------ CZML


def to_czml(run: RunData) -> str:
    """A CZML document (JSON text): a clock over the run, one packet per object."""
    from czml3 import Document, Packet  # noqa: PLC0415
    from czml3.properties import (  # noqa: PLC0415
        Clock, Color, Label, Material, Path, Point, Polygon, Polyline, PolylineMaterial, Position, PositionList,
        SolidColorMaterial,
    )
    from czml3.types import TimeInterval  # noqa: PLC0415

    s = _scene(run)
    epoch = run.epoch_utc
    iso = lambda t: iso_utc(epoch, t)  # noqa: E731
    t_all = [t for o in s["objects"] for t in (o["t"][0], o["t"][-1])] or [0.0, 0.0]
    t0, t1 = min(t_all), max(t_all)

    def solid(rgba):
        return Material(solidColor=SolidColorMaterial(color=Color(rgba=list(rgba))))

    packets = [Packet(id="document", name=f"Hoplon run: {s['name']}", version="1.0",
                      clock=Clock(interval=TimeInterval(start=iso(t0), end=iso(t1)), currentTime=iso(t0), multiplier=10,
                                  range="LOOP_STOP", step="SYSTEM_CLOCK_MULTIPLIER"))]
    for o in s["objects"]:
        samples: list[float] = []
        for t, lat, lon, alt in zip(o["t"], o["lat"], o["lon"], o["alt"]):
            samples += [round(t - t0, 3), _c(lon), _c(lat), round(alt, 2)]
        rgba = _COLOURS.get(o["kind"], (80, 80, 80, 255))
        packets.append(Packet(
            id=o["id"], name=o["id"], description=f"{o['kind'].replace('_', ' ')}: {iso(o['t'][0])} to {iso(o['t'][-1])}",
            availability=TimeInterval(start=iso(o["t"][0]), end=iso(o["t"][-1])),
            position=Position(epoch=iso(t0), cartographicDegrees=samples, interpolationAlgorithm="LAGRANGE",
                              interpolationDegree=1),
            point=Point(color=Color(rgba=list(rgba)), pixelSize=7 if o["kind"] != "spent_booster" else 4),
            path=Path(material=PolylineMaterial(solidColor=SolidColorMaterial(color=Color(rgba=list(rgba)))),
                      width=2, leadTime=0, trailTime=1e7),
        ))
    for a in s["assets"]:
        packets.append(Packet(
            id=f"asset/{a['name']}", name=a["name"], description=f"defended asset, value {a['value']:g}",
            position=Position(cartographicDegrees=[a["lon_deg"], a["lat_deg"], a["alt_m"]]),
            point=Point(color=Color(rgba=[20, 90, 50, 255]), pixelSize=8),
            label=Label(text=a["name"], font="12pt sans-serif", pixelOffset=None),
        ))
    for sen in s["sensors"]:
        if sen.get("kind") != "radar":
            continue
        packets.append(Packet(
            id=f"sensor/{sen['id']}", name=sen["id"], description=sen["label"],
            position=Position(cartographicDegrees=[sen["lon_deg"], sen["lat_deg"], sen["alt_m"]]),
            point=Point(color=Color(rgba=[44, 127, 184, 255]), pixelSize=8),
        ))
        fan = _fan(sen)
        if fan and len(fan["search"]) >= 4:
            packets.append(Packet(
                id=f"coverage/{sen['id']}", name=f"{sen['id']} coverage at {fan['altitude_m'] / 1e3:g} km",
                polygon=Polygon(positions=PositionList(cartographicDegrees=[v for lat, lon in fan["search"]
                                                                            for v in (lon, lat, fan["altitude_m"])]),
                                material=solid((44, 127, 184, 60)), perPositionHeight=True),
            ))
    for b in s["batteries"]:
        packets.append(Packet(
            id=f"battery/{b['id']}", name=b["id"], description=b["label"],
            position=Position(cartographicDegrees=[b["lon_deg"], b["lat_deg"], b["alt_m"]]),
            point=Point(color=Color(rgba=[106, 61, 154, 255]), pixelSize=8),
        ))
        packets.append(Packet(
            id=f"zone/{b['id']}", name=f"{b['id']} engagement zone ({b['max_range_m'] / 1e3:g} km)",
            polyline=Polyline(positions=PositionList(cartographicDegrees=[v for lat, lon in b["zone"] for v in (lon, lat, 0.0)]),
                              material=PolylineMaterial(solidColor=SolidColorMaterial(color=Color(rgba=[106, 61, 154, 255]))),
                              width=2, clampToGround=True),
        ))
    for x in s["intercepts"]:
        kill = x["result"] == "kill"
        packets.append(Packet(
            id=f"intercept/{x['interceptor']}", name=f"{x['interceptor']} {x['result']}",
            description=f"{x['result']} against {x['threat']}, miss distance {x['miss_distance_m']} m",
            availability=TimeInterval(start=iso(x["time_s"]), end=iso(t1)),
            position=Position(cartographicDegrees=[_c(x["lon_deg"]), _c(x["lat_deg"]), x["alt_m"] or 0.0]),
            point=Point(color=Color(rgba=[10, 143, 60, 255] if kill else [243, 156, 18, 255]), pixelSize=10 if kill else 7),
        ))
    for x in s["leakers"]:
        packets.append(Packet(
            id=f"impact/{x['id']}", name=f"{x['id']} impact", description=f"leaker; asset hit: {x['asset_hit'] or 'none'}",
            availability=TimeInterval(start=iso(x["time_s"]), end=iso(t1)),
            position=Position(cartographicDegrees=[_c(x["lon_deg"]), _c(x["lat_deg"]), 0.0]),
            point=Point(color=Color(rgba=[192, 57, 43, 255]), pixelSize=11),
        ))
    for c in s["clouds"]:
        if len(c["polygon"]) < 3 or c["time_s"] is None:
            continue
        ring = c["polygon"] + [c["polygon"][0]]
        packets.append(Packet(
            id=f"debris/{c['id']}", name=f"debris of {c['id']}",
            description=f"{c['fragments']} fragments, {c['hazardous']} above 15 J, 95 % footprint {c['area_km2']} km2",
            availability=TimeInterval(start=iso(c["time_s"]), end=iso(t1)),
            polygon=Polygon(positions=PositionList(cartographicDegrees=[v for lat, lon in ring for v in (lon, lat, 0.0)]),
                            material=solid((176, 58, 46, 110))),
        ))
    return Document(packets=packets).dumps() + "\n"


# ------------------------------------------------------------------------------ KML


def to_kml(run: RunData) -> str:
    """A KML document: folders of trajectories (absolute altitude, time spans), assets,
    sensors and coverage, engagement zones, intercepts, impacts and debris footprints."""
    import simplekml  # noqa: PLC0415

    s = _scene(run)
    epoch = run.epoch_utc
    simplekml.Kml.resetidcounter()  # ids count from 0 in every document: the same bytes for the same run
    kml = simplekml.Kml(name=f"Hoplon run: {s['name']}")
    kml.document.description = f"Hoplon {__version__}; epoch {epoch}"

    def colour(rgba):
        r, g, b, a = rgba
        return simplekml.Color.rgb(r, g, b, a)

    folders = {name: kml.newfolder(name=name) for name in (
        "Trajectories", "Defended assets", "Sensors", "Engagement zones", "Intercepts", "Leaker impacts", "Debris footprints")}
    for o in s["objects"]:
        ls = folders["Trajectories"].newlinestring(
            name=o["id"], description=o["kind"].replace("_", " "),
            coords=[(_c(lon), _c(lat), round(alt, 2)) for lat, lon, alt in zip(o["lat"], o["lon"], o["alt"])])
        ls.altitudemode = simplekml.AltitudeMode.absolute
        ls.timespan.begin = iso_utc(epoch, o["t"][0])
        ls.timespan.end = iso_utc(epoch, o["t"][-1])
        ls.style.linestyle.color = colour(_COLOURS.get(o["kind"], (80, 80, 80, 255)))
        ls.style.linestyle.width = 2
    for a in s["assets"]:
        folders["Defended assets"].newpoint(name=a["name"], coords=[(a["lon_deg"], a["lat_deg"], a["alt_m"])],
                                            description=f"value {a['value']:g}, radius {a['radius_m'] / 1e3:g} km")
        pol = folders["Defended assets"].newpolygon(name=f"{a['name']} area",
                                                    outerboundaryis=[(lon, lat) for lat, lon in a["ring"]])
        pol.style.polystyle.color = colour((39, 174, 96, 80))
    for sen in s["sensors"]:
        if sen.get("kind") != "radar":
            continue
        folders["Sensors"].newpoint(name=sen["id"], coords=[(sen["lon_deg"], sen["lat_deg"], sen["alt_m"])],
                                    description=sen["label"])
        fan = _fan(sen)
        if fan and len(fan["search"]) >= 4:
            pol = folders["Sensors"].newpolygon(name=f"{sen['id']} coverage at {fan['altitude_m'] / 1e3:g} km",
                                                outerboundaryis=[(lon, lat) for lat, lon in fan["search"]])
            pol.style.polystyle.color = colour((44, 127, 184, 60))
    for b in s["batteries"]:
        folders["Engagement zones"].newpoint(name=b["id"], coords=[(b["lon_deg"], b["lat_deg"], b["alt_m"])],
                                             description=b["label"])
        pol = folders["Engagement zones"].newpolygon(name=f"{b['id']} engagement zone",
                                                     outerboundaryis=[(lon, lat) for lat, lon in b["zone"]])
        pol.style.polystyle.color = colour((106, 61, 154, 30))
    for x in s["intercepts"]:
        p = folders["Intercepts"].newpoint(name=f"{x['interceptor']} {x['result']}",
                                           coords=[(_c(x["lon_deg"]), _c(x["lat_deg"]), x["alt_m"] or 0.0)],
                                           description=f"against {x['threat']}, miss distance {x['miss_distance_m']} m")
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.timestamp.when = iso_utc(epoch, x["time_s"])
    for x in s["leakers"]:
        p = folders["Leaker impacts"].newpoint(name=f"{x['id']} impact", coords=[(_c(x["lon_deg"]), _c(x["lat_deg"]))],
                                               description=f"asset hit: {x['asset_hit'] or 'none'}")
        p.timestamp.when = iso_utc(epoch, x["time_s"])
    for c in s["clouds"]:
        if len(c["polygon"]) < 3:
            continue
        ring = c["polygon"] + [c["polygon"][0]]
        pol = folders["Debris footprints"].newpolygon(
            name=f"debris of {c['id']}", outerboundaryis=[(lon, lat) for lat, lon in ring],
            description=f"{c['fragments']} fragments, {c['hazardous']} above 15 J, 95 % footprint {c['area_km2']} km2")
        pol.style.polystyle.color = colour((176, 58, 46, 110))
    return kml.kml()


# ------------------------------------------------------------------------------ GeoJSON


def _ccw(ring: list[list[float]]) -> list[list[float]]:
    """An RFC 7946 exterior ring: closed and counterclockwise ([lon, lat] pairs)."""
    if ring and ring[0] != ring[-1]:
        ring = ring + [ring[0]]
    area = sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:]))
    return ring if area >= 0 else ring[::-1]


def _feature(layer: str, geometry: dict, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"layer": layer, **props}}


def to_geojson(run: RunData) -> str:
    """A GeoJSON FeatureCollection; each feature's ``properties.layer`` says what it is:
    ground_track, interceptor_path, asset, sensor, sensor_coverage, battery,
    engagement_zone, intercept, leaker_impact, debris_footprint."""
    s = _scene(run)
    epoch = run.epoch_utc
    feats = []
    for o in s["objects"]:
        coords = [[_c(lon), _c(lat), round(alt, 2)] for lat, lon, alt in zip(o["lat"], o["lon"], o["alt"])]
        geom = {"type": "LineString", "coordinates": coords} if len(coords) >= 2 else {"type": "Point", "coordinates": coords[0]}
        feats.append(_feature("interceptor_path" if o["kind"] == "interceptor" else "ground_track", geom, id=o["id"],
                              kind=o["kind"], start_utc=iso_utc(epoch, o["t"][0]), end_utc=iso_utc(epoch, o["t"][-1]),
                              times_s=o["t"]))
    for a in s["assets"]:
        feats.append(_feature("asset", {"type": "Point", "coordinates": [a["lon_deg"], a["lat_deg"], a["alt_m"]]},
                              name=a["name"], value=a["value"], radius_m=a["radius_m"], kind=a.get("kind")))
    for sen in s["sensors"]:
        if sen.get("kind") != "radar":
            continue
        feats.append(_feature("sensor", {"type": "Point", "coordinates": [sen["lon_deg"], sen["lat_deg"], sen["alt_m"]]},
                              id=sen["id"], type=sen["type"], label=sen["label"]))
        fan = _fan(sen)
        if fan and len(fan["search"]) >= 4:
            feats.append(_feature("sensor_coverage",
                                  {"type": "Polygon", "coordinates": [_ccw([[lon, lat] for lat, lon in fan["search"]])]},
                                  id=sen["id"], altitude_m=fan["altitude_m"], slant_range_km=fan["search_range_km"]))
    for b in s["batteries"]:
        feats.append(_feature("battery", {"type": "Point", "coordinates": [b["lon_deg"], b["lat_deg"], b["alt_m"]]},
                              id=b["id"], type=b["type"], label=b["label"]))
        feats.append(_feature("engagement_zone", {"type": "Polygon", "coordinates": [_ccw([[lon, lat] for lat, lon in b["zone"]])]},
                              id=b["id"], max_range_m=b["max_range_m"], min_range_m=b["min_range_m"]))
    for x in s["intercepts"]:
        feats.append(_feature("intercept", {"type": "Point", "coordinates": [_c(x["lon_deg"]), _c(x["lat_deg"]), x["alt_m"] or 0.0]},
                              interceptor=x["interceptor"], battery=x["battery"], threat=x["threat"], result=x["result"],
                              time_utc=iso_utc(epoch, x["time_s"]), miss_distance_m=x["miss_distance_m"]))
    for x in s["leakers"]:
        feats.append(_feature("leaker_impact", {"type": "Point", "coordinates": [_c(x["lon_deg"]), _c(x["lat_deg"])]},
                              id=x["id"], kind=x["kind"], time_utc=iso_utc(epoch, x["time_s"]), asset_hit=x["asset_hit"]))
    for c in s["clouds"]:
        if len(c["polygon"]) < 3:
            continue
        feats.append(_feature("debris_footprint", {"type": "Polygon", "coordinates": [_ccw([[lon, lat] for lat, lon in c["polygon"]])]},
                              cloud_id=c["id"], source=c["source"], fragments=c["fragments"], hazardous=c["hazardous"],
                              area_km2=c["area_km2"], near=c["near"]))
    doc = {"type": "FeatureCollection", "name": f"Hoplon run: {s['name']}", "features": feats}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
