"""The summary of a run: what happened, in a JSON-ready dict (deterministic)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from hoplon import __version__
from hoplon.scenario.places import describe_location
from hoplon.sim.engine import KIND_BOOSTER, RunResult

__all__ = ["summarize", "utc", "seed_label", "SUMMARY_VERSION"]

SUMMARY_VERSION = 1


def utc(epoch: datetime, time_s: float) -> str:
    """ISO 8601 UTC time (milliseconds) of ``time_s`` seconds after ``epoch``."""
    if time_s is None or not np.isfinite(time_s):
        return ""
    return (epoch + timedelta(seconds=float(time_s))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def seed_label(seed) -> int | str:
    """A run's seed as written: the integer, or ``S/k`` for Monte Carlo replication k of
    seed S (``SeedSequence(S).spawn(N)[k]``)."""
    if isinstance(seed, np.random.SeedSequence):
        return f"{seed.entropy}/" + "/".join(str(k) for k in seed.spawn_key)
    return seed


def _num(x: float | None, digits: int = 3, scale: float = 1.0) -> float | None:
    """A rounded float, or None where the value does not apply (null or NaN)."""
    return None if x is None or not np.isfinite(x) else round(float(x) * scale, digits)


def summarize(result: RunResult) -> dict:
    """A deterministic, JSON-ready summary of ``result``."""
    world = result.world
    out = result.outcomes.to_pydict()
    n = len(out["object_id"])
    lat = np.where(np.isnan(np.asarray(out["impact_lat_deg"], float)), np.asarray(out["kill_lat_deg"], float),
                   np.asarray(out["impact_lat_deg"], float)) if n else np.empty(0)
    lon = np.where(np.isnan(np.asarray(out["impact_lon_deg"], float)), np.asarray(out["kill_lon_deg"], float),
                   np.asarray(out["impact_lon_deg"], float)) if n else np.empty(0)
    places = describe_location(lat, lon) if n else []  # of the impact, or of the kill
    threats = []
    for i in range(n):
        threats.append(
            {
                "id": out["object_id"][i],
                "kind": out["kind"][i],
                "type": out["type"][i],
                "launch_utc": utc(world.epoch, out["launch_time_s"][i]),
                "impact_utc": utc(world.epoch, out["impact_time_s"][i]),
                "flight_time_s": _num((out["impact_time_s"][i] if out["impact_time_s"][i] is not None else out["killed_time_s"][i])
                                      - out["launch_time_s"][i]),
                "impact_lat_deg": _num(out["impact_lat_deg"][i], 6),
                "impact_lon_deg": _num(out["impact_lon_deg"][i], 6),
                "impact_place": places[i],
                "aim": out["aim"][i] or None,
                "miss_distance_m": _num(out["miss_distance_m"][i], 1),
                "asset_hit": out["asset_hit"][i] or None,
                "apogee_km": _num(out["apogee_alt_m"][i], scale=1e-3),
                "burnout_speed_mps": _num(out["burnout_speed_mps"][i], 1),
                "impact_speed_mps": _num(out["impact_speed_mps"][i], 1),
                "outcome": out["fate"][i],
                "killed_utc": utc(world.epoch, out["killed_time_s"][i]) or None,
                "killed_by": out["killed_by"][i] or None,
                "kill_lat_deg": _num(out["kill_lat_deg"][i], 6),
                "kill_lon_deg": _num(out["kill_lon_deg"][i], 6),
                "kill_alt_km": _num(out["kill_alt_m"][i], scale=1e-3),
            }
        )
    # first detections and launch reports per threat (events)
    firsts: dict[str, dict[str, str]] = {}
    reported: dict[str, str] = {}
    confirmed: dict[str, str] = {}
    for t, kind, oid, detail in zip(events_t := result.events.column("time_s").to_pylist(),
                                    result.events.column("kind").to_pylist(),
                                    result.events.column("object_id").to_pylist(),
                                    result.events.column("detail").to_pylist()):
        if kind == "first_detection":
            sensor = detail.removeprefix("by ").split(" ", 1)[0]
            firsts.setdefault(oid, {})[sensor] = utc(world.epoch, t)
        elif kind == "launch_detected":
            reported.setdefault(oid, utc(world.epoch, t))
        elif kind == "track_confirmed":
            confirmed.setdefault(oid, utc(world.epoch, t))
    del events_t
    for threat in threats:
        threat["launch_reported_utc"] = reported.get(threat["id"])
        threat["first_detection_utc"] = firsts.get(threat["id"], {})
        threat["track_confirmed_utc"] = confirmed.get(threat["id"])
    sensors = [
        {
            **st,
            "observed_pd": round(st["detections"] / st["opportunities"], 4) if st["opportunities"] else None,
            "false_alarms_per_scan": round(st["false_alarms_per_scan"], 4),
        }
        for st in result.sensor_stats
    ]
    for sid in world.sensors.ir_id:
        sensors.append({"sensor_id": str(sid), "type": "infrared",
                        "launch_reports": int(np.sum(np.asarray(result.launch_reports.column("sensor_id").to_pylist(), dtype=object) == sid))})
    a = world.assets
    hit = np.asarray(out["asset_hit"], dtype=object)
    assets = [
        {
            "name": str(a.name[j]),
            "value": float(a.value[j]),
            "threats_impacting": int(np.sum(hit == a.name[j])),
        }
        for j in range(len(a))
    ]
    kinds = np.asarray(out["kind"], dtype=object)
    events = result.events.to_pydict()
    truth_kinds = result.truth.column("kind").to_numpy(zero_copy_only=False)
    truth_ids = result.truth.column("object_id").to_numpy(zero_copy_only=False)
    boosters = len(set(truth_ids[truth_kinds == KIND_BOOSTER]))
    battle = _battle_summary(result)
    return {
        "summary_version": SUMMARY_VERSION,
        "hoplon_version": __version__,
        "scenario": {
            "name": world.name,
            "description": world.scenario.description or "",
            "epoch_utc": utc(world.epoch, 0.0),
            "seed": seed_label(world.seed),
            "earth": world.earth.name,
            "sources": list(world.scenario.sources),
        },
        "scope": "threat flights, sensors, tracking, battle management, interceptors, intercepts, kill assessment and debris",
        "counts": {
            "threats": n,
            "ballistic_missiles": int(np.sum(kinds == "ballistic_missile")),
            "drones": int(np.sum(kinds == "drone")),
            "cruise_missiles": int(np.sum(kinds == "cruise_missile")),
            "spent_boosters": boosters,
            "intercepted": int(np.sum(np.asarray(out["fate"], dtype=object) == "killed")),
            "reached_ground": int(np.sum(np.asarray(out["fate"], dtype=object) == "leaked")),
            "interceptors_fired": 0 if result.interceptors is None else result.interceptors.num_rows,
            "impacts_inside_assets": int(np.sum(hit != "")),
            "events": len(events["time_s"]),
            "truth_rows": result.truth.num_rows,
            "detections": result.detections.num_rows,
            "launch_reports": result.launch_reports.num_rows,
            "track_rows": result.tracks.num_rows,
            "tracks_confirmed": int(np.sum(np.asarray(result.events.column("kind").to_pylist(), dtype=object) == "track_confirmed")),
        },
        "sensors": sensors,
        "truth_step_s": result.truth_step_s,
        "assets": assets,
        "threats": threats,
        "battle_management": battle,
        "interceptors": _interceptor_summary(result),
        "debris": [_round_cloud(c) for c in (result.debris_clouds or [])],
    }


def _interceptor_summary(result) -> dict:
    """Interceptors fired, kills and misses per battery."""
    t = result.interceptors
    per: dict[str, dict] = {}
    if t is not None and t.num_rows:
        d = t.to_pydict()
        for b, res in zip(d["battery_id"], d["result"]):
            item = per.setdefault(b, {"fired": 0, "kills": 0, "misses": 0})
            item["fired"] += 1
            item["kills" if res == "kill" else "misses"] += 1
    return {"per_battery": per}


def _round_cloud(c: dict) -> dict:
    out = {}
    for k, v in c.items():
        if isinstance(v, float):
            out[k] = round(v, 6)
        elif isinstance(v, list) and v and isinstance(v[0], float):
            out[k] = [round(x, 6) for x in v]
        elif k == "places":
            out[k] = [{**p, "distance_m": round(p["distance_m"], 1)} for p in v]
        else:
            out[k] = v
    return out


def _battle_summary(result) -> dict:
    """Per track: its first and latest threat evaluation; the engagements (plan of record)
    and rounds committed per battery."""
    ev = result.threat_evaluations
    eng = result.engagements
    tracks: dict[int, dict] = {}
    if ev is not None and ev.num_rows:
        d = ev.to_pydict()
        for k in range(ev.num_rows):
            tid = d["track_id"][k]
            item = tracks.setdefault(tid, {"track_id": tid, "object_id": d["object_id"][k], "classification": d["classification"][k],
                                           "first_prediction": None, "latest_prediction": None})
            if d["impact_lat_deg"][k] == d["impact_lat_deg"][k]:  # not NaN
                pred = {key: (round(d[key][k], 6) if isinstance(d[key][k], float) else d[key][k]) for key in (
                    "time_s", "impact_time_s", "impact_lat_deg", "impact_lon_deg", "ellipse_semi_major_m", "ellipse_semi_minor_m",
                    "threatened_asset", "asset_probability", "threat_value")}
                if item["first_prediction"] is None:
                    item["first_prediction"] = pred
                item["latest_prediction"] = pred
    engagements = []
    per_battery: dict[str, int] = {}
    if eng is not None and eng.num_rows:
        e = eng.to_pydict()
        for k in range(eng.num_rows):
            engagements.append({key: (round(e[key][k], 6) if isinstance(e[key][k], float) else e[key][k]) for key in e})
            if e["committed"][k]:
                per_battery[e["battery_id"][k]] = per_battery.get(e["battery_id"][k], 0) + e["rounds"][k]
    return {"tracks": list(tracks.values()), "engagements": engagements, "rounds_committed": per_battery}
