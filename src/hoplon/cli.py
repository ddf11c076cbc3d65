"""The ``hoplon`` command line (Typer + Rich).

Every error caused by user input is a :class:`~hoplon.errors.HoplonError`: it is printed
as it is (one line per problem: file, line, field, message) with no traceback, and the
command exits with status 2.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from hoplon import __version__
from hoplon.errors import HoplonError, InputError, Problem

app = typer.Typer(
    name="hoplon",
    help="Hoplon: an open simulator and analysis toolkit for integrated air and missile defence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
scenario_app = typer.Typer(help="List and show the built-in scenarios.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(file=stream, width=width, highlight=False, soft_wrap=False, emoji=False)  # ':100:' is a line number


def _user_errors(func):
    """Turn HoplonErrors into a clean message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except HoplonError as exc:
            err = _console(stderr=True)
            for line in str(exc).splitlines():
                # one problem per line, never wrapped (tools read these lines)
                err.print("[bold red]error:[/] ", end="", markup=True, highlight=False)
                err.print(line, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(code=exc.exit_code) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        print(f"hoplon {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Hoplon: an open simulator and analysis toolkit for integrated air and missile defence."""


# ------------------------------------------------------------------------------ run


def _fmt_time(epoch, t: float) -> str:
    from hoplon.sim.summary import utc  # noqa: PLC0415

    return utc(epoch, t).replace("T", " ").removesuffix("Z")


@app.command()
@_user_errors
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario file, or a built-in scenario name.")] = "anatolia",
    out: Annotated[Path | None, typer.Option("--out", help="Output directory (default: hoplon-out/<scenario name>).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the scenario's).", min=0)] = None,
    truth_step: Annotated[str, typer.Option("--truth-step", help="Truth sampling interval, e.g. '1 s'.")] = "1 s",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only where the outputs went.")] = False,
    export_measurements: Annotated[
        Path | None,
        typer.Option("--export-measurements", help="Also write sensors.yaml and measurements.csv for `hoplon track` here."),
    ] = None,
    report: Annotated[bool, typer.Option("--report", help="Also write DIR/report.html (see `hoplon report`).")] = False,
) -> None:
    """Play a scenario from launch to the ground; print a timeline and a summary.

    Writes DIR/summary.json, truth.parquet, events.parquet, outcomes.parquet,
    detections.parquet, launch_reports.parquet, tracks.parquet, threats.parquet (threat
    evaluations), engagements.parquet, interceptors.parquet and debris.parquet.
    """
    from hoplon.io.run_files import prepare_output_dir, write_json, write_table  # noqa: PLC0415
    from hoplon.scenario.builtins import resolve_scenario  # noqa: PLC0415
    from hoplon.sim.engine import MAX_TRUTH_ROWS, estimated_truth_rows  # noqa: PLC0415
    from hoplon.sim.engine import run as run_world  # noqa: PLC0415
    from hoplon.sim.summary import summarize  # noqa: PLC0415
    from hoplon.sim.world import compile_scenario  # noqa: PLC0415

    step = _quantity(truth_step, "time", "--truth-step")
    if not step > 0:
        raise InputError(Problem("", None, "--truth-step", "must be > 0"))
    sc = resolve_scenario(scenario)
    out_dir = out if out is not None else Path("hoplon-out") / sc.name
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(Problem(str(out_dir), None, "--out", "exists and is not a directory"))
    world = compile_scenario(sc, seed=seed)
    rows = estimated_truth_rows(world, step)
    if rows > MAX_TRUTH_ROWS:
        raise InputError(
            Problem("", None, "--truth-step", f"{truth_step} would sample about {rows:,} truth rows, more than the "
                    f"{MAX_TRUTH_ROWS:,} allowed; use a longer step")
        )
    result = run_world(world, truth_step_s=step)
    summary = summarize(result)
    if export_measurements is not None and export_measurements.exists() and not export_measurements.is_dir():
        raise InputError(Problem(str(export_measurements), None, "--export-measurements", "exists and is not a directory"))
    prepare_output_dir(out_dir)
    write_table(result.truth, out_dir / "truth.parquet")
    write_table(result.events, out_dir / "events.parquet")
    write_table(result.outcomes, out_dir / "outcomes.parquet")
    write_table(result.detections, out_dir / "detections.parquet")
    write_table(result.launch_reports, out_dir / "launch_reports.parquet")
    write_table(result.tracks, out_dir / "tracks.parquet")
    write_table(result.threat_evaluations, out_dir / "threats.parquet")
    write_table(result.engagements, out_dir / "engagements.parquet")
    write_table(result.interceptors, out_dir / "interceptors.parquet")
    write_table(result.debris, out_dir / "debris.parquet")
    write_json(summary, out_dir / "summary.json")
    from hoplon.report.layout import scenario_layout  # noqa: PLC0415

    write_json(scenario_layout(sc), out_dir / "scenario.json")
    con = _console()
    if not quiet:
        _print_timeline(con, result)
        _print_summary(con, summary)
    con.print(
        f"wrote {out_dir}/summary.json, truth.parquet ({result.truth.num_rows} rows), events.parquet, outcomes.parquet, "
        f"detections.parquet ({result.detections.num_rows} rows), launch_reports.parquet, "
        f"tracks.parquet ({result.tracks.num_rows} rows), threats.parquet, engagements.parquet "
        f"({result.engagements.num_rows} rows), interceptors.parquet ({result.interceptors.num_rows} rows), "
        f"debris.parquet ({result.debris.num_rows} rows)"
    )
    if export_measurements is not None:
        from hoplon.io.measurements import export_measurements as export  # noqa: PLC0415

        prepare_output_dir(export_measurements, option="--export-measurements")
        export(result, export_measurements)
        con.print(f"wrote {export_measurements}/sensors.yaml, measurements.csv, truth.csv, tracker.yaml")
    if report:
        from hoplon.cli_report import write_report  # noqa: PLC0415

        write_report(out_dir, out_dir / "report.html", con)


def _print_timeline(con: Console, result) -> None:
    from hoplon.scenario.places import describe_location  # noqa: PLC0415
    from hoplon.sim.summary import seed_label  # noqa: PLC0415

    world = result.world
    ev = result.events.to_pydict()
    n = len(ev["time_s"])
    labels = describe_location(np.asarray(ev["lat_deg"]), np.asarray(ev["lon_deg"])) if n else []
    # per threat, in launch order; each threat's events in time order
    first = {}
    for i in range(n):
        root = ev["object_id"][i].split(".")[0]
        first.setdefault(root, ev["time_s"][i])
    order = sorted(range(n), key=lambda i: (first[ev["object_id"][i].split(".")[0]], ev["object_id"][i].split(".")[0], ev["time_s"][i]))
    table = Table(title=f"Timeline: {world.name} (epoch {_fmt_time(world.epoch, 0.0)} UTC, seed {seed_label(world.seed)})", title_justify="left")
    for col in ("time (UTC)", "object", "event", "lat, lon (deg)", "alt (km)", "nearest place", "detail"):
        table.add_column(col, no_wrap=col not in ("detail",))
    previous = None
    for i in order:
        root = ev["object_id"][i].split(".")[0]
        if previous is not None and root != previous:
            table.add_section()
        previous = root
        table.add_row(
            _fmt_time(world.epoch, ev["time_s"][i]),
            ev["object_id"][i],
            ev["kind"][i],
            f"{ev['lat_deg'][i]:.3f}, {ev['lon_deg'][i]:.3f}",
            f"{ev['alt_m'][i] / 1e3:.1f}",
            labels[i],
            ev["detail"][i],
        )
    con.print(table)


def _print_summary(con: Console, summary: dict) -> None:
    table = Table(title="Summary: threats", title_justify="left")
    for col in ("threat", "type", "launch (UTC)", "outcome", "at", "near", "aim", "miss (m)", "inside asset"):
        table.add_column(col, no_wrap=True)
    for t in summary["threats"]:
        if t["outcome"] == "killed":
            at = f"{t['killed_utc'][11:19]} ({t['kill_alt_km']:.0f} km)"
            outcome = f"killed by {t['killed_by']}"
        else:
            at, outcome = t["impact_utc"][11:19], "leaked"
        table.add_row(
            t["id"], t["type"], t["launch_utc"].replace("T", " ")[:19], outcome, at, t["impact_place"],
            t["aim"] or "-", f"{t['miss_distance_m']:.0f}" if t["miss_distance_m"] is not None else "-", t["asset_hit"] or "-",
        )
    con.print(table)
    c = summary["counts"]
    con.print(
        f"{c['threats']} threats ({c['ballistic_missiles']} ballistic missiles, {c['drones']} drones, "
        f"{c['cruise_missiles']} cruise missiles) and {c['spent_boosters']} spent boosters; "
        f"{c['intercepted']} intercepted, {c['reached_ground']} reached the ground (leaked), "
        f"{c['impacts_inside_assets']} inside a defended asset; {c['interceptors_fired']} interceptors fired."
    )
    _print_battle(con, summary)
    per = summary["interceptors"]["per_battery"]
    if per:
        con.print("Interceptors per battery: " + ", ".join(
            f"{b} {v['fired']} fired ({v['kills']} kills, {v['misses']} misses)" for b, v in per.items()) + ".")
    _print_debris(con, summary)
    hit = [f"{a['name']} ({a['threats_impacting']})" for a in summary["assets"] if a["threats_impacting"]]
    if hit:
        con.print("Assets hit: " + ", ".join(hit) + ".")
    for sensor in summary.get("sensors", []):
        if "scans" in sensor:
            pd = "-" if sensor["observed_pd"] is None else f"{sensor['observed_pd']:.2f}"
            con.print(
                f"Sensor {sensor['sensor_id']} ({sensor['type']}): {sensor['scans']} scans, {sensor['detections']} detections "
                f"of {sensor['opportunities']} object-scans in coverage (observed Pd {pd}), {sensor['false_alarms']} false alarms."
            )
        else:
            con.print(f"Sensor {sensor['sensor_id']} (space-based infrared): {sensor['launch_reports']} launch reports.")
    con.print(f"[dim]Scope: {summary['scope']}.[/]")


def _print_debris(con: Console, summary: dict) -> None:
    clouds = summary.get("debris") or []
    if not clouds:
        return
    table = Table(title="Debris (debris.parquet has every fragment)", title_justify="left")
    for col in ("from", "fragments", "> 15 J", "95 % footprint (km2)", "median landing (lat, lon)", "near", "places inside or within 10 km"):
        table.add_column(col, no_wrap=col != "places inside or within 10 km")
    for c in clouds:
        places = ", ".join(f"{p['name']} ({p['population']:,})" for p in c["places"][:4]) or "-"
        if len(c["places"]) > 4:
            places += f" and {len(c['places']) - 4} more ({sum(p['population'] for p in c['places']):,} people in all)"
        table.add_row(c["cloud_id"] + (" (interceptor)" if c["source"] == "interceptor" else ""), str(c["fragments"]),
                      str(c["hazardous"]), f"{c['footprint95_area_km2']:.1f}" if c["source"] == "kill" else "-",
                      f"{c['median_lat_deg']:.3f}, {c['median_lon_deg']:.3f}", c["near"], places)
    con.print(table)


def _print_battle(con: Console, summary: dict) -> None:
    bm = summary.get("battle_management") or {}
    epoch = summary["scenario"]["epoch_utc"]
    from datetime import datetime  # noqa: PLC0415

    t0 = datetime.fromisoformat(epoch.replace("Z", "+00:00"))
    tracks = [t for t in bm.get("tracks", []) if t["first_prediction"] is not None]
    if tracks:
        table = Table(title="Threat evaluation (first impact prediction of each ballistic track; threats.parquet has all)",
                      title_justify="left")
        for col in ("track", "object", "predicted at", "impact (lat, lon)", "95 % ellipse (km)", "impact at", "lead (s)",
                    "threatens", "p"):
            table.add_column(col, no_wrap=True)
        for t in tracks:
            p = t["first_prediction"]
            table.add_row(str(t["track_id"]), t["object_id"] or "-", _fmt_time(t0, p["time_s"])[5:19],
                          f"{p['impact_lat_deg']:.3f}, {p['impact_lon_deg']:.3f}",
                          f"{p['ellipse_semi_major_m'] / 1e3:.1f} x {p['ellipse_semi_minor_m'] / 1e3:.1f}",
                          _fmt_time(t0, p["impact_time_s"])[5:19], f"{p['impact_time_s'] - p['time_s']:.0f}",
                          p["threatened_asset"] or "-", f"{p['asset_probability']:.2f}")
        con.print(table)
    eng = bm.get("engagements", [])
    if eng:
        table = Table(title="Engagements (S-L-S: shoot-look-shoot, S-S: salvo; committed: launched; planned: never launched)",
                      title_justify="left")
        for col in ("track", "object", "battery", "rounds", "doctrine", "launch", "intercept", "intercept point (lat, lon, alt km)", "pk", "status"):
            table.add_column(col, no_wrap=True)
        for e in eng:
            table.add_row(str(e["track_id"]), e["object_id"] or "-", e["battery_id"], str(e["rounds"]),
                          {"shoot-look-shoot": "S-L-S", "shoot-shoot": "S-S"}[e["doctrine"]],
                          _fmt_time(t0, e["launch_time_s"])[5:19], _fmt_time(t0, e["intercept_time_s"])[5:19],
                          f"{e['intercept_lat_deg']:.3f}, {e['intercept_lon_deg']:.3f}, {e['intercept_alt_m'] / 1e3:.0f}",
                          f"{e['pk']:.2f}", "committed" if e["committed"] else "planned")
        con.print(table)
        rounds = ", ".join(f"{b} {n}" for b, n in bm.get("rounds_committed", {}).items())
        con.print(f"Rounds committed per battery: {rounds or 'none'}.")


# ------------------------------------------------------------------------------ scenario


@scenario_app.command("list")
@_user_errors
def scenario_list() -> None:
    """List the built-in scenarios."""
    from hoplon.scenario.builtins import builtin_names, builtin_text  # noqa: PLC0415
    from hoplon.scenario.loader import load_yaml  # noqa: PLC0415

    con = _console()
    table = Table(show_header=True)
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for name in builtin_names():
        data, _ = load_yaml(builtin_text(name), filename=f"{name}.yaml")
        table.add_row(name, " ".join(str(data.get("description", "")).split()))
    con.print(table)


@scenario_app.command("show")
@_user_errors
def scenario_show(name: Annotated[str, typer.Argument(help="A built-in scenario name.")]) -> None:
    """Print a built-in scenario's YAML (which `hoplon run` accepts unchanged)."""
    from hoplon.scenario.builtins import builtin_text  # noqa: PLC0415

    sys.stdout.write(builtin_text(name))


@app.command()
@_user_errors
def schema() -> None:
    """Print the JSON Schema of the scenario format."""
    from hoplon.scenario.schema import scenario_json_schema  # noqa: PLC0415

    print(json.dumps(scenario_json_schema(), indent=2))


# ------------------------------------------------------------------------------ trajectory


def _quantity(text: str, kind: str, option: str) -> float:
    from hoplon.scenario.units import QuantityError, parse_quantity  # noqa: PLC0415

    try:
        return parse_quantity(text, kind)
    except QuantityError as exc:
        raise InputError(Problem("", None, option, str(exc))) from None


def _lat_lon(text: str, option: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(Problem("", None, option, f"expected LAT,LON in degrees, e.g. 37.0,35.4; got {text!r}")) from None
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InputError(Problem("", None, option, f"latitude {lat:g} is outside [-90, 90] deg"))
    if not (math.isfinite(lon) and -180.0 <= lon <= 360.0):
        raise InputError(Problem("", None, option, f"longitude {lon:g} is outside [-180, 360] deg"))
    return lat, ((lon + 180.0) % 360.0) - 180.0


@app.command()
@_user_errors
def trajectory(
    from_: Annotated[str, typer.Option("--from", help="Launch point LAT,LON (deg).")],
    to: Annotated[str, typer.Option("--to", help="Aim point LAT,LON (deg).")],
    profile: Annotated[str, typer.Option(help="minimum-energy, lofted or depressed.")] = "minimum-energy",
    apogee: Annotated[str | None, typer.Option(help="Apogee height for lofted/depressed, e.g. '700 km'.")] = None,
    flight_path_angle: Annotated[str | None, typer.Option("--flight-path-angle", help="Burnout flight-path angle, e.g. '55 deg'.")] = None,
    earth: Annotated[str, typer.Option(help="wgs84 (J2, rotation, drag) or sphere (textbook Kepler).")] = "wgs84",
    boost: Annotated[str, typer.Option(help="none (burnout at the launch point) or a ballistic type of the catalog.")] = "none",
    beta: Annotated[str | None, typer.Option(help="Re-entry ballistic coefficient, e.g. '8000 kg/m^2' (default: the type's, or no drag without boost).")] = None,
    launch_alt: Annotated[str, typer.Option("--launch-alt", help="Launch (or burnout, without boost) height, e.g. '0 m'.")] = "0 m",
    aim_alt: Annotated[str, typer.Option("--aim-alt", help="Height of the ground at the aim point.")] = "0 m",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Solve one ballistic trajectory from a launch point to an aim point and describe it."""
    from hoplon.core.boost import BoostParameters  # noqa: PLC0415
    from hoplon.core.frames import ecef_to_geodetic, geodesic_inverse  # noqa: PLC0415
    from hoplon.core.targeting import Profile, is_lofted, solve_targeting  # noqa: PLC0415
    from hoplon.scenario.catalog import load_packaged_catalog  # noqa: PLC0415

    lat1, lon1 = _lat_lon(from_, "--from")
    lat2, lon2 = _lat_lon(to, "--to")
    if earth not in ("wgs84", "sphere"):
        raise InputError(Problem("", None, "--earth", f"expected wgs84 or sphere, got {earth!r}"))
    if profile not in ("minimum-energy", "lofted", "depressed"):
        raise InputError(Problem("", None, "--profile", f"expected minimum-energy, lofted or depressed, got {profile!r}"))
    shaped = [x for x in (apogee, flight_path_angle) if x is not None]
    if profile == "minimum-energy" and shaped:
        raise InputError(Problem("", None, "--profile", "--apogee and --flight-path-angle need --profile lofted or depressed"))
    if profile != "minimum-energy" and len(shaped) != 1:
        raise InputError(Problem("", None, "--profile", f"{profile} needs exactly one of --apogee or --flight-path-angle"))
    code, value = int(Profile.MINIMUM_ENERGY), math.nan
    if apogee is not None:
        code, value = int(Profile.APOGEE), _quantity(apogee, "length", "--apogee")
        if not value > 0:
            raise InputError(Problem("", None, "--apogee", "must be > 0"))
    if flight_path_angle is not None:
        code, value = int(Profile.FLIGHT_PATH_ANGLE), _quantity(flight_path_angle, "angle", "--flight-path-angle")
        if not 0 < value < math.pi / 2:
            raise InputError(Problem("", None, "--flight-path-angle", "must lie strictly between 0 and 90 deg"))
    h1 = _quantity(launch_alt, "length", "--launch-alt")
    h2 = _quantity(aim_alt, "length", "--aim-alt")
    boost_params, beta_value = None, math.inf
    if boost != "none":
        types = load_packaged_catalog().ballistic
        if boost not in types:
            raise InputError(Problem("", None, "--boost", f"unknown ballistic type {boost!r}; known: none, {', '.join(sorted(types))}"))
        t = types[boost]
        boost_params = BoostParameters(
            t.launch_mass_kg, t.propellant_mass_kg, t.burn_time_s, t.specific_impulse_s, t.vertical_rise_s,
            t.reference_area_m2, t.drag_coefficient,
        )
        beta_value = t.rv_beta_kg_m2
    if beta is not None:
        beta_value = _quantity(beta, "ballistic_coefficient", "--beta")
        if not beta_value > 0:
            raise InputError(Problem("", None, "--beta", "must be > 0"))
    rng = float(np.atleast_1d(geodesic_inverse(lat1, lon1, lat2, lon2, earth=earth).distance_m)[0])
    sol = solve_targeting(
        lat1, lon1, h1, lat2, lon2, h2, beta_kg_m2=beta_value, profile=code, profile_value=value,
        boost=boost_params, earth=earth,
    )
    if not sol.ok[0]:
        raise InputError(Problem("", None, "--to", sol.message[0]))
    if code != int(Profile.MINIMUM_ENERGY):
        me = solve_targeting(lat1, lon1, h1, lat2, lon2, h2, beta_kg_m2=beta_value, boost=boost_params, earth=earth)
        if me.ok[0] and bool(is_lofted(code, value, me)[0]) != (profile == "lofted"):
            option = "--apogee" if apogee is not None else "--flight-path-angle"
            ref = (
                f"{me.apogee_alt_m[0] / 1e3:.0f} km" if apogee is not None
                else f"{math.degrees(me.burnout.flight_path_angle_rad[0]):.1f} deg"
            )
            side = "above" if profile == "lofted" else "below"
            raise InputError(Problem("", None, option, f"{profile} needs a value {side} the minimum-energy {ref} for this range"))
    burn_geo = ecef_to_geodetic(sol.burnout.r_ecef_m[0], earth=earth)
    result: dict[str, Any] = {
        "range_km": rng / 1e3,
        "burnout_speed_mps": float(sol.burnout.speed_mps[0]),
        "flight_path_angle_deg": math.degrees(float(sol.burnout.flight_path_angle_rad[0])),
        "apogee_km": float(sol.apogee_alt_m[0]) / 1e3,
        "free_flight_time_s": float(sol.free_flight_time_s[0]),
        "total_time_s": float(sol.total_time_s[0]),
        "impact_lat_deg": float(sol.impact_lat_deg[0]),
        "impact_lon_deg": float(sol.impact_lon_deg[0]),
        "miss_m": float(sol.miss_m[0]),
        "burnout_time_s": float(sol.burnout.time_s[0]),
        "burnout_alt_km": float(burn_geo.alt_m) / 1e3,
        "launch_azimuth_deg": math.degrees(float(sol.azimuth_rad[0])) % 360.0,
        "earth": earth,
        "boost": boost,
        "profile": profile,
    }
    if boost_params is not None:
        result["cutoff_s"] = float(sol.cutoff_s[0])
        result["kick_deg"] = math.degrees(float(sol.kick_rad[0]))
    if as_json:
        print(json.dumps(result, indent=2))
        return
    con = _console()
    table = Table(title=f"Trajectory {lat1:.4f},{lon1:.4f} -> {lat2:.4f},{lon2:.4f} ({profile}, earth {earth}, boost {boost})", title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    units = {
        "range_km": "km", "burnout_speed_mps": "m/s", "flight_path_angle_deg": "deg", "apogee_km": "km",
        "free_flight_time_s": "s", "total_time_s": "s", "impact_lat_deg": "deg", "impact_lon_deg": "deg",
        "miss_m": "m", "burnout_time_s": "s", "burnout_alt_km": "km", "launch_azimuth_deg": "deg",
        "cutoff_s": "s", "kick_deg": "deg",
    }
    for key, val in result.items():
        if isinstance(val, float):
            table.add_row(key, f"{val:,.4f} {units.get(key, '')}".strip())
    con.print(table)


@app.command()
@_user_errors
def track(
    sensors: Annotated[Path, typer.Option("--sensors", help="SENSORS.yaml: the radars (id, position, noise).")],
    measurements: Annotated[Path, typer.Option("--measurements", help="MEAS.csv or .parquet: time_s, sensor_id, range_m, azimuth_rad, elevation_rad [, sigma_range_m, sigma_azimuth_rad, sigma_elevation_rad].")],
    out: Annotated[Path, typer.Option("--out", help="TRACKS.csv to write.")],
    motion: Annotated[str | None, typer.Option(help="cv, ca, singer, ct, ballistic, imm or imm-ballistic (default: cv, or the config's).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TRACKER.yaml with tracker settings.")] = None,
) -> None:
    """Track measurements from one or more radars; write confirmed tracks to TRACKS.csv."""
    import time  # noqa: PLC0415

    from hoplon.core.tracker import MOTION_MODELS, TrackerConfig, track_all  # noqa: PLC0415
    from hoplon.io.tracking_files import read_measurements, read_sensors, scans_from_measurements, write_tracks_csv  # noqa: PLC0415

    cfg = TrackerConfig()
    if config is not None:
        from hoplon.errors import ScenarioError  # noqa: PLC0415
        from hoplon.scenario.loader import load_model  # noqa: PLC0415
        from hoplon.scenario.tracker_config import TrackerSettings, tracker_config  # noqa: PLC0415

        if not config.is_file():
            raise InputError(Problem(str(config), None, "--config", "no such file"))
        try:
            settings, _ = load_model(TrackerSettings, config, filename=str(config))
            cfg = tracker_config(settings)
        except ScenarioError as exc:
            raise InputError(exc.problems) from None
        except ValueError as exc:
            raise InputError(Problem(str(config), None, "", str(exc))) from None
    if motion is not None:
        if motion not in MOTION_MODELS:
            raise InputError(Problem("", None, "--motion", f"expected one of {', '.join(MOTION_MODELS)}, got {motion!r}"))
        import dataclasses  # noqa: PLC0415

        try:
            cfg = dataclasses.replace(cfg, motion=motion)
        except ValueError as exc:
            raise InputError(Problem("", None, "--motion", str(exc))) from None
    if out.exists() and out.is_dir():
        raise InputError(Problem(str(out), None, "--out", "is a directory; give a file name"))
    if not out.parent.exists():
        raise InputError(Problem(str(out), None, "--out", f"the directory {out.parent} does not exist"))
    radar_list = read_sensors(sensors)
    meas = read_measurements(measurements, radar_list)
    scans = scans_from_measurements(meas)
    t0 = time.perf_counter()
    result = track_all(radar_list, scans, cfg)
    elapsed = time.perf_counter() - t0
    rows = write_tracks_csv(result, out)
    n_meas = int(meas["time_s"].shape[0])
    confirmed = sum(1 for e in result.events if e[2] == "confirmed")
    rate = f", {n_meas / elapsed:,.0f} measurements/s" if elapsed > 0 and n_meas else ""
    con = _console(stderr=True)
    con.print(
        f"{n_meas} measurements in {len(scans)} scans -> {confirmed} confirmed tracks, {rows} rows in {out} "
        f"({elapsed:.2f} s{rate}; motion {cfg.motion}, {cfg.association})"
    )
    if result.rejected_scans:
        con.print(f"[yellow]warning:[/] {result.rejected_scans} out-of-order scans rejected (older than the latency window)")


@app.command()
@_user_errors
def coverage(
    sensor_type: Annotated[str, typer.Argument(help="A radar type of the catalog, e.g. fbx-xband-ew-class.")],
    rcs: Annotated[str, typer.Option(help="Target RCS, e.g. '0.1 m^2' or '-10 dBsm'.")] = "0.1 m^2",
    swerling: Annotated[int, typer.Option(help="Target fluctuation: 0 or 1.")] = 1,
    pd: Annotated[float, typer.Option(help="Detection probability that defines the range.")] = 0.9,
    radar_alt: Annotated[str, typer.Option("--radar-alt", help="Antenna height above the ellipsoid.")] = "0 m",
    altitudes: Annotated[str, typer.Option(help="Target altitudes: a comma list with one unit, e.g. '1,10,100 km'.")] = "0.1,1,3,10,30,100,300 km",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Detection range of a radar type versus target altitude (horizon, elevation, SNR, instrumented range)."""
    from hoplon.core.sensors import coverage as coverage_table  # noqa: PLC0415
    from hoplon.scenario.catalog import load_packaged_catalog  # noqa: PLC0415
    from hoplon.sim.sensors import radar_array  # noqa: PLC0415

    types = load_packaged_catalog().radar
    if sensor_type not in types:
        raise InputError(Problem("", None, "SENSOR_TYPE", f"unknown radar type {sensor_type!r}; known: {', '.join(sorted(types))}"))
    if swerling not in (0, 1):
        raise InputError(Problem("", None, "--swerling", "must be 0 or 1"))
    if not 0.0 < pd < 1.0:
        raise InputError(Problem("", None, "--pd", "must lie strictly between 0 and 1"))
    sigma = _quantity(rcs, "rcs", "--rcs")
    if not sigma > 0:
        raise InputError(Problem("", None, "--rcs", "must be > 0"))
    h_radar = _quantity(radar_alt, "length", "--radar-alt")
    numbers, _, unit = altitudes.strip().rpartition(" ")
    try:
        values = [float(x) for x in numbers.split(",") if x.strip()]
        scale = _quantity(f"1 {unit}", "length", "--altitudes")
    except ValueError:
        raise InputError(Problem("", None, "--altitudes", f"expected numbers and one unit, e.g. '1,10,100 km'; got {altitudes!r}")) from None
    if not values or any(not math.isfinite(v) or v < 0 for v in values):
        raise InputError(Problem("", None, "--altitudes", "needs one or more altitudes >= 0"))
    kind = types[sensor_type]
    radars = radar_array([kind], [0.0], [0.0], [h_radar], [0.0])
    table = coverage_table(
        radars, rcs_m2=sigma, altitudes_m=np.array(values) * scale, pd=pd, swerling=swerling, track_gain_db=kind.track_gain_db
    )
    rows = [
        {
            "altitude_km": float(h) / 1e3, "horizon_km": float(a) / 1e3, "search_snr_km": float(b) / 1e3,
            "track_snr_km": float(c) / 1e3, "elevation_limited_km": float(d) / 1e3, "instrumented_km": float(e) / 1e3,
            "detection_km": float(f) / 1e3, "track_km": float(g) / 1e3,
        }
        for h, a, b, c, d, e, f, g in zip(*table)
    ]
    if as_json:
        print(json.dumps({"sensor_type": sensor_type, "rcs_m2": sigma, "swerling": swerling, "pd": pd, "rows": rows}, indent=2))
        return
    con = _console()
    con.print(f"Coverage of {sensor_type} against {sigma:g} m^2 (Swerling {swerling}), Pd {pd:g}:")
    out = Table()
    for col in ("altitude (km)", "horizon (km)", "search SNR (km)", "track SNR (km)", "elevation (km)", "instrumented (km)", "detection (km)", "track (km)"):
        out.add_column(col, justify="right")
    for r in rows:
        out.add_row(*(f"{v:,.1f}" for v in r.values()))
    con.print(out)


# ------------------------------------------------------------------------------ metrics


@app.command()
@_user_errors
def metrics(
    truth: Annotated[Path, typer.Option("--truth", help="TRUTH.csv: time_s, target_id, lat_deg, lon_deg, alt_m (optional velocities).")],
    tracks: Annotated[Path, typer.Option("--tracks", help="TRACKS.csv as `hoplon track` writes it (time_s, track_id, lat_deg, lon_deg, alt_m, ...).")],
    c: Annotated[float, typer.Option("--c", help="GOSPA/OSPA cut-off distance, m.")] = 1000.0,
    p: Annotated[float, typer.Option("--p", help="GOSPA/OSPA order (>= 1).")] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score tracks against truth at every truth time: GOSPA (alpha 2) and its parts, OSPA,
    RMS position and velocity errors, missed targets, false tracks, id switches, track breaks.

    Tracks are matched to truth at equal times (to 1e-6 s); others are not scored.
    """
    from hoplon.core.metrics import scan_metrics  # noqa: PLC0415
    from hoplon.io.metrics_files import read_tracks, read_truth  # noqa: PLC0415

    if not (math.isfinite(c) and c > 0):
        raise InputError(Problem("", None, "--c", f"must be a finite distance > 0 (m), got {c:g}"))
    if not (math.isfinite(p) and p >= 1):
        raise InputError(Problem("", None, "--p", f"must be a finite number >= 1, got {p:g}"))
    tr = read_truth(truth)
    tk = read_tracks(tracks)
    with_vel = tr.vel_ecef_mps is not None and tk.vel_ecef_mps is not None
    res = scan_metrics(
        tr.time_s, tr.id, tr.pos_ecef_m, tk.time_s, tk.id, tk.pos_ecef_m,
        truth_vel=tr.vel_ecef_mps if with_vel else None, track_vel=tk.vel_ecef_mps if with_vel else None, c=c, p=p,
    )
    s = res.summary
    unit_p = f"m^{p:g}"
    figures = [  # key, label, value, unit
        ("mean_gospa_m", "mean GOSPA", s.mean_gospa_m, "m"),
        ("mean_localisation_mp", "  localisation part (mean)", s.mean_localisation, unit_p),
        ("mean_missed_mp", "  missed part (mean)", s.mean_missed, unit_p),
        ("mean_false_mp", "  false part (mean)", s.mean_false, unit_p),
        ("mean_ospa_m", "mean OSPA", s.mean_ospa_m, "m"),
        ("rms_position_m", "RMS position error (assigned)", s.rms_position_m, "m"),
        ("rms_velocity_mps", "RMS velocity error (assigned)", s.rms_velocity_mps, "m/s"),
        ("missed_target_scans", "missed-target scans", s.missed_target_scans, ""),
        ("false_track_scans", "false-track scans", s.false_track_scans, ""),
        ("id_switches", "id switches", s.id_switches, ""),
        ("track_breaks", "track breaks", s.track_breaks, ""),
        ("truth_scans", "truth scans", s.truth_scans, ""),
        ("assigned_pairs", "assigned pairs", s.assigned_pairs, ""),
        ("track_times_unscored", "track times without truth", s.track_times_unscored, ""),
    ]
    if as_json:
        out: dict[str, Any] = {"truth": str(truth), "tracks": str(tracks), "c_m": c, "p": p}
        for key, _, value, _ in figures:
            out[key] = None if isinstance(value, float) and not math.isfinite(value) else value
        out["truth_velocity_frame"] = tr.velocity_frame
        out["tracks_velocity_frame"] = tk.velocity_frame
        print(json.dumps(out, indent=2))
        return
    con = _console()
    con.print(f"Tracks {tracks} against truth {truth} (GOSPA/OSPA c = {c:g} m, p = {p:g}, alpha = 2):",
              markup=False, highlight=False)
    table = Table()
    table.add_column("figure", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    for _, label, value, unit in figures:
        if isinstance(value, float):
            text = "-" if not math.isfinite(value) else f"{value:,.3f}" if unit in ("m", "m/s") else f"{value:,.1f}"
        else:
            text = f"{value:,d}"
        table.add_row(label, text, unit)
    con.print(table)
    if not with_vel:
        which = " and ".join(n for n, t in (("truth", tr), ("tracks", tk)) if t.vel_ecef_mps is None)
        con.print(f"[dim]No velocity columns in the {which}: no RMS velocity error.[/]")
    if s.track_times_unscored:
        con.print(f"[dim]{s.track_times_unscored} track time(s) match no truth time (to 1e-6 s) and were not scored.[/]")


@app.command()
@_user_errors
def wta(
    instance: Annotated[Path, typer.Argument(help='INSTANCE.json: {"values": [T numbers], "pk": [W rows of T numbers]}.')],
    out: Annotated[Path, typer.Option("--out", help="SOLUTION.json to write.")],
    method: Annotated[str, typer.Option(help="exact, heuristic, or auto (exact within the time limit for up to 10^6 weapon-target pairs, else heuristic).")] = "auto",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Time limit for the exact solver, s.")] = 60.0,
) -> None:
    """Static weapon-target assignment: minimise the expected surviving value
    sum_j V_j prod_i (1 - p_ij)^x_ij, each weapon on exactly one target."""
    from hoplon.core.wta import solve_wta  # noqa: PLC0415
    from hoplon.io.wta_files import read_wta_instance, write_wta_solution  # noqa: PLC0415

    if method not in ("exact", "heuristic", "auto"):
        raise InputError(Problem("", None, "--method", f"expected exact, heuristic or auto, got {method!r}"))
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise InputError(Problem("", None, "--time-limit", f"must be a finite number of seconds > 0, got {time_limit:g}"))
    if out.exists() and out.is_dir():
        raise InputError(Problem(str(out), None, "--out", "is a directory; give a file name"))
    if not out.parent.exists():
        raise InputError(Problem(str(out), None, "--out", f"the directory {out.parent} does not exist"))
    values, pk = read_wta_instance(instance)
    used = method
    if method == "auto":
        used = "exact" if pk.size <= AUTO_EXACT_MAX_PAIRS else "heuristic"
    solution = solve_wta(values, pk, method=used, time_limit_s=time_limit)
    write_wta_solution(solution, used, out)
    bound = "-" if solution.lower_bound is None else f"{solution.lower_bound:,.6f}"
    gap = "" if solution.gap is None else f", gap {100 * solution.gap:.2e} %"
    _console(stderr=True).print(
        f"{pk.shape[0]} weapons x {pk.shape[1]} targets ({used}): {solution.status}, expected surviving value "
        f"{solution.objective:,.6f}, lower bound {bound}{gap}, {solution.solve_time_s:.3f} s -> {out}",
        markup=False, highlight=False,
    )


AUTO_EXACT_MAX_PAIRS = 1_000_000
"""``hoplon wta --method auto`` runs the exact solver up to this many weapon-target pairs."""

from hoplon.cli_mc import register as _register_mc  # noqa: E402  (the mc commands use the helpers above)

_register_mc(app)


from hoplon.cli_report import register as _register_report  # noqa: E402

_register_report(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
