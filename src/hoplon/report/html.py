"""The offline HTML report of a run: one self-contained file (Leaflet, the base map, the
data and the charts inlined; no network access), byte-identical for the same run."""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files

from hoplon import __version__
from hoplon.report.run_data import RunData
from hoplon.report.scene import build_scene
from hoplon.report.svg import altitude_svgs, timeline_svg

__all__ = ["run_report_html", "static_text", "page", "json_script", "map_scripts"]


def static_text(name: str) -> str:
    """A vendored or own static file of the report package (report/static/NAME)."""
    return (files("hoplon.report") / "static" / name).read_text(encoding="utf-8")


def map_scripts(data, script: str) -> str:
    """The scripts of a page with a map: ``data`` as #hoplon-data, the base map as
    #hoplon-basemap, basemap.js (the map on it) and the page's own ``script``."""
    return (json_script(data, "hoplon-data") + '\n<script type="application/json" id="hoplon-basemap">'
            f'{static_text("basemap.json").strip()}</script>\n<script>{static_text("basemap.js")}</script>\n'
            f'<script>{static_text(script)}</script>')


def json_script(obj: object, element_id: str) -> str:
    """``obj`` as an inert JSON <script> element (``</`` escaped)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


_ERROR_HOOK = (
    "<script>window.hoplonErrors=[];window.addEventListener('error',function(e){"
    "window.hoplonErrors.push(String(e.message||e));var el=document.getElementById('js-errors');"
    "if(el){el.textContent=window.hoplonErrors.join('\\n');}});</script>"
)


def page(title: str, body: str, *, scripts: str = "", leaflet: bool = True) -> str:
    """A whole HTML page with the report's CSS (and Leaflet's) inlined."""
    css = (static_text("leaflet/leaflet.css") if leaflet else "") + "\n" + static_text("report.css")
    lib = f"<script>{static_text('leaflet/leaflet.js')}</script>" if leaflet else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"generator\" content=\"Hoplon {escape(__version__)}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{css}</style>{_ERROR_HOOK}</head>\n<body>\n{body}\n"
        f"<pre id=\"js-errors\"></pre>\n{lib}\n{scripts}\n</body></html>\n"
    )


def _table(headers: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _v(x, fmt: str = "{}") -> str:
    return "" if x is None or x == "" else escape(fmt.format(x))


def _utc(text: str | None) -> str:
    return (text or "").replace("T", " ").removesuffix("Z")


def _summary_html(run: RunData) -> str:
    s = run.summary
    counts = s.get("counts", {})
    facts = [
        ("threats", counts.get("threats")), ("ballistic missiles", counts.get("ballistic_missiles")),
        ("drones", counts.get("drones")), ("cruise missiles", counts.get("cruise_missiles")),
        ("intercepted", counts.get("intercepted")), ("reached the ground", counts.get("reached_ground")),
        ("impacts inside a defended asset", counts.get("impacts_inside_assets")),
        ("interceptors fired", counts.get("interceptors_fired")), ("debris clouds", len(s.get("debris", []) or [])),
    ]
    cards = "".join(f'<div class="card"><div class="num">{_v(v)}</div><div class="lbl">{escape(k)}</div></div>'
                    for k, v in facts if v is not None)
    rows = []
    for t in s.get("threats", []) or []:
        where = t.get("impact_place") or ""
        if t.get("outcome") == "killed":
            result = f"killed by {t.get('killed_by') or '?'} at {t.get('kill_alt_km') or 0:.0f} km"
        else:
            result = t.get("outcome") or ""
        rows.append([
            _v(t.get("id")), _v(str(t.get("kind", "")).replace("_", " ")), _v(t.get("type")),
            _v(_utc(t.get("launch_utc"))), _v(_utc(t.get("track_confirmed_utc"))),
            f'<span class="fate fate-{escape(str(t.get("outcome")))}">{escape(result)}</span>',
            _v(where), _v(t.get("asset_hit")), _v(t.get("apogee_km"), "{:.0f} km"),
        ])
    threats = _table(["threat", "kind", "type", "launch (UTC)", "track confirmed (UTC)", "outcome", "impact / kill place",
                      "asset hit", "apogee"], rows, "threats")
    bat_rows = [[escape(b), _v(v.get("fired")), _v(v.get("kills")), _v(v.get("misses"))]
                for b, v in (s.get("interceptors", {}).get("per_battery", {}) or {}).items()]
    batteries = _table(["battery", "fired", "kills", "misses"], bat_rows, "batteries") if bat_rows else ""
    sen_rows = [[_v(x.get("sensor_id")), _v(x.get("type")), _v(x.get("scans")), _v(x.get("detections")),
                 _v(x.get("observed_pd"), "{:.2f}"), _v(x.get("false_alarms"))] for x in s.get("sensors", []) or []]
    sensors = _table(["sensor", "type", "scans", "detections", "observed Pd", "false alarms"], sen_rows, "sensors")
    ast_rows = [[_v(a.get("name")), _v(a.get("value")), _v(a.get("threats_impacting"))] for a in s.get("assets", []) or []]
    assets = _table(["defended asset", "value", "threats impacting"], ast_rows, "assets")
    deb_rows = [[_v(c.get("cloud_id")), _v(c.get("source")), _v(c.get("fragments")), _v(c.get("hazardous")),
                 _v(c.get("footprint95_area_km2"), "{:.1f}"), _v(c.get("near")),
                 escape(_places_cell(c.get("places", []) or []))]
                for c in s.get("debris", []) or []]
    debris = _table(["debris cloud", "source", "fragments", "above 15 J", "95 % footprint (km2)", "near",
                     "places inside or within 10 km"], deb_rows, "debris") if deb_rows else ""
    return (f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div>'
            f'<h3>Threats</h3>{threats}<div class="cols"><div><h3>Interceptors</h3>{batteries}</div>'
            f'<div><h3>Sensors</h3>{sensors}</div><div><h3>Defended assets</h3>{assets}</div></div>'
            f'<h3>Debris</h3>{debris}</section>')


def _sources_html(run: RunData) -> str:
    layout = run.layout or {}
    items = "".join(f"<li>{escape(x)}</li>" for x in run.summary.get("scenario", {}).get("sources", []) or [])
    cat = []
    for c in layout.get("catalog_sources", []) or []:
        src = "".join(f"<li>{escape(x)}</li>" for x in c.get("sources", []))
        cat.append(f'<li><b>{escape(c["type"])}</b> ({escape(c["section"].replace("_", " "))}): {escape(c.get("label", ""))}'
                   f"<ul>{src}</ul></li>")
    ref = layout.get("reference_target") or {}
    notes = "".join(f"<li>{escape(n)}</li>" for n in run.notes)
    return (
        '<section id="sources"><h2>Sources and notes</h2>'
        "<p>Every figure that describes a real-world system is notional, order-of-magnitude, from public sources.</p>"
        f"<h3>Scenario</h3><ul>{items}</ul><h3>Catalog types used</h3><ul>{''.join(cat)}</ul>"
        "<h3>How to read the map</h3><ul>"
        f"<li>Sensor coverage: the detection range against a {ref.get('rcs_m2', 0.1):g} m&#178; target "
        f"(Swerling {ref.get('swerling', 1)}, Pd {ref.get('pd', 0.9):g}) at the chosen altitude, the least of the 4/3-Earth "
        "horizon, the lowest elevation, the radar equation and the instrumented range, in the field of view; solid: search, "
        "dashed: cued by another sensor.</li>"
        "<li>Engagement zones: each battery's interceptor ground range (outer circle) and minimum range (inner).</li>"
        "<li>Debris: the 95 % landing footprint of each fragment cloud and its fragments (red: above 15 J).</li>"
        f"</ul>{'<h3>Notes</h3><ul>' + notes + '</ul>' if notes else ''}"
        f'<p class="version">Made by Hoplon {escape(__version__)} from the run directory\'s files '
        f'(summary version {escape(str(run.summary.get("summary_version")))}, run by Hoplon '
        f'{escape(str(run.summary.get("hoplon_version", "?")))}).</p></section>'
    )


def run_report_html(run: RunData) -> str:
    """The whole report of ``run`` as one HTML string."""
    scene = build_scene(run)
    sc = run.summary.get("scenario", {})
    title = f"Hoplon report: {run.name}"
    header = (
        f'<header><h1>{escape(title)}</h1><p class="desc">{escape(sc.get("description") or "")}</p>'
        f'<p class="meta">epoch {escape(sc.get("epoch_utc", ""))} &middot; seed {escape(str(sc.get("seed", "")))} &middot; '
        f'scope: {escape(run.summary.get("scope", ""))} &middot; Hoplon {escape(__version__)}</p>'
        '<nav><a href="#summary">Summary</a> <a href="#map-section">Map</a> <a href="#timeline-section">Timeline</a> '
        '<a href="#altitude-section">Altitude</a> <a href="#sources">Sources</a></nav></header>'
    )
    alts = sorted({f["altitude_m"] for s in scene["sensors"] for f in s.get("fans", [])})
    default_alt = 10_000.0 if 10_000.0 in alts else (alts[len(alts) // 2] if alts else None)
    options = "".join(
        f'<option value="{i}"{" selected" if a == default_alt else ""}>{a / 1e3:g} km</option>' for i, a in enumerate(alts)
    )
    map_section = (
        '<section id="map-section"><h2>Map</h2><div id="map-controls">'
        '<button id="play" type="button" title="Replay">&#9654;</button>'
        '<input id="time-slider" type="range" min="0" max="0" value="0" step="1" aria-label="time">'
        '<span id="time-label"></span>'
        f'<label>coverage at <select id="coverage-alt">{options}</select></label></div>'
        '<div id="map"></div>'
        '<p class="legend"><span class="sw" style="background:#c0392b"></span>ballistic missile '
        '<span class="sw" style="background:#e67e22"></span>drone <span class="sw" style="background:#8e44ad"></span>cruise '
        'missile <span class="sw" style="background:#888"></span>spent booster <span class="sw" style="background:#1f4fd1">'
        '</span>interceptor <span class="sw" style="background:#0a8f3c"></span>kill <span class="sw" '
        'style="background:#f39c12"></span>miss <span class="sw" style="background:#2c7fb8;opacity:.5"></span>sensor coverage '
        '<span class="sw" style="background:#6a3d9a;opacity:.5"></span>engagement zone <span class="sw" '
        'style="background:#b03a2e;opacity:.5"></span>debris footprint. The slider replays the run (idle hours between '
        'raids are skipped); click anything for details.</p></section>'
    )
    timeline = (
        '<section id="timeline-section"><h2>Timeline</h2><p>Each threat from launch (T+0) to its outcome on its own '
        'scale; orange: the time budget from the first sensor report to the first interceptor launched at it. Hover a '
        'mark for the event.</p><div class="scroll">'
        f'{timeline_svg(scene["threats"], scene["events"], scene["interceptors"], run.epoch_utc)}</div></section>'
    )
    plots = altitude_svgs(scene["objects"], scene["threats"], scene["interceptors"])
    altitude = (
        '<section id="altitude-section"><h2>Altitude versus downrange</h2><p>Each ballistic threat (red), its spent '
        'booster (grey, dashed) and the interceptors fired at them (blue), by geodesic distance from the launch point; '
        'green ring: the kill.</p>'
        f'<div class="plots">{"".join(plots) if plots else "<p>No ballistic threats in this run.</p>"}</div></section>'
    )
    body = header + _summary_html(run) + map_section + timeline + altitude + _sources_html(run)
    return page(title, body, scripts=map_scripts(scene, "report.js"))


PLACES_SHOWN = 10
"""Places listed by name per debris cloud in the summary table (the most exposed first)."""


def _places_cell(places: list) -> str:
    """The first places of a cloud (inside the footprint first, the most populous first),
    how many more, and the people in all of them."""
    items = [p if isinstance(p, dict) else {"name": str(p)} for p in places]
    if not items:
        return ""
    shown = ", ".join(f"{p['name']} ({p['population']:,})" if "population" in p else p["name"] for p in items[:PLACES_SHOWN])
    more = f" and {len(items) - PLACES_SHOWN} more" if len(items) > PLACES_SHOWN else ""
    people = sum(int(p.get("population", 0)) for p in items)
    return f"{shown}{more}; {len(items)} places, {people:,} people"
