"""Small SVG charts drawn in Python (deterministic text, no JavaScript needed): the
per-threat timeline and altitude versus downrange."""

from __future__ import annotations

import math
from html import escape

import numpy as np

from hoplon.core.frames import geodesic_inverse

__all__ = ["nice_ticks", "timeline_svg", "altitude_svgs", "downrange_km", "EVENT_STYLE"]

# event kind -> (colour, label) of the timeline's marks
EVENT_STYLE: dict[str, tuple[str, str]] = {
    "launch": ("#444", "launch"),
    "launch_detected": ("#8e44ad", "launch detected (space IR)"),
    "boost_end": ("#999", "boost end"),
    "first_detection": ("#2980b9", "first radar detection"),
    "track_confirmed": ("#16a085", "track confirmed"),
    "classified": ("#27ae60", "classified"),
    "engagement_planned": ("#d35400", "engagement planned"),
    "interceptor_launched": ("#1f4fd1", "interceptor launched"),
    "apogee": ("#999", "apogee"),
    "intercept_miss": ("#e67e22", "intercept miss"),
    "intercept_kill": ("#0a8f3c", "intercept kill"),
    "kill_assessed": ("#555", "kill assessed"),
    "leaker_impact": ("#c0392b", "leaker impact"),
    "impact": ("#c0392b", "impact"),
}


def _n(x: float) -> str:
    """A coordinate for SVG text (fixed decimals: byte-identical output)."""
    return f"{x:.1f}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + 1e-9 * step:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt_dt(seconds: float) -> str:
    s = abs(seconds)
    if s < 120:
        return f"{seconds:.0f} s"
    if s < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def timeline_svg(threats: list[dict], events: list[dict], interceptors: list[dict], epoch_utc: str) -> str:
    """One row per threat, launch to outcome on its own scale, with its events, its
    interceptors' launches and the detection-to-engagement time budget."""
    width, left, right, row_h, top = 1100, 150, 290, 46, 44
    plot_w = width - left - right
    launched_for: dict[str, list[dict]] = {}
    by_interceptor = {r["interceptor_id"]: r["threat"] for r in interceptors}
    for e in events:
        target = by_interceptor.get(e["object"], e["object"]) if e["kind"] in ("interceptor_launched",) else e["object"]
        launched_for.setdefault(target, []).append(e)
    rows = []
    for i, th in enumerate(threats):
        oid = th["object_id"]
        t0 = th["launch_time_s"]
        if th["fate"] == "killed" and th.get("killed_time_s") is not None:
            t1, outcome = th["killed_time_s"], f"killed by {th.get('killed_by') or '?'}"
        elif th.get("impact_time_s") is not None:
            t1 = th["impact_time_s"]
            outcome = "leaked" + (f": hit {th['asset_hit']}" if th.get("asset_hit") else "")
        else:
            t1, outcome = None, th["fate"]
        evs = sorted(launched_for.get(oid, []), key=lambda e: (e["t"], e["kind"]))
        if t1 is None:
            t1 = max([e["t"] for e in evs] + [t0 + 1.0])
        span = max(t1 - t0, 1.0)
        y = top + i * row_h

        def x_of(t: float, t0=t0, span=span) -> float:
            return left + plot_w * min(max((t - t0) / span, 0.0), 1.0)

        colour = "#c0392b" if th["fate"] == "leaked" else ("#0a8f3c" if th["fate"] == "killed" else "#777")
        parts = [
            f'<g class="tl-row" data-object="{escape(oid)}" data-t0="{t0:.3f}" data-t1="{t1:.3f}">',
            f'<text x="8" y="{_n(y + 17)}" class="tl-label">{escape(oid)}</text>',
            f'<text x="8" y="{_n(y + 31)}" class="tl-sub">{escape(th["kind"].replace("_", " "))}</text>',
            f'<rect x="{left}" y="{_n(y + 14)}" width="{plot_w}" height="8" rx="3" fill="#e8ecf2"/>',
        ]
        sensed = [e["t"] for e in evs if e["kind"] in ("launch_detected", "first_detection")]
        fired = [e["t"] for e in evs if e["kind"] == "interceptor_launched"]
        if sensed and fired:
            a, b = min(sensed), min(fired)
            parts.append(
                f'<g class="tl-budget"><rect x="{_n(x_of(a))}" y="{_n(y + 14)}" width="{_n(max(x_of(b) - x_of(a), 1.0))}" '
                f'height="8" fill="#f5b041"><title>detection to first interceptor launch: {_fmt_dt(b - a)}</title></rect>'
                f'<text x="{_n(x_of(a))}" y="{_n(y + 10)}" class="tl-budget-text">budget {escape(_fmt_dt(b - a))}</text></g>'
            )
        parts.append(f'<rect x="{_n(x_of(t1) - 2)}" y="{_n(y + 11)}" width="4" height="14" fill="{colour}"/>')
        for e in evs:
            col, label = EVENT_STYLE.get(e["kind"], ("#777", e["kind"].replace("_", " ")))
            who = "" if e["object"] == oid else f" {e['object']}"
            parts.append(
                f'<circle class="tl-event" data-kind="{escape(e["kind"])}" cx="{_n(x_of(e["t"]))}" cy="{_n(y + 18)}" r="4" '
                f'fill="{col}"><title>T+{_fmt_dt(e["t"] - t0)}: {escape(label)}{escape(who)} {escape(e["detail"] or "")}'
                f'</title></circle>'
            )
        parts.append(f'<text x="{left}" y="{_n(y + 38)}" class="tl-tick">T+0</text>')
        parts.append(f'<text x="{left + plot_w}" y="{_n(y + 38)}" class="tl-tick" text-anchor="end">T+{escape(_fmt_dt(span))}</text>')
        parts.append(f'<text x="{left + plot_w + 8}" y="{_n(y + 22)}" class="tl-outcome" fill="{colour}">{escape(outcome)}</text>')
        parts.append(f'<line class="tl-cursor" x1="{left}" x2="{left}" y1="{_n(y + 8)}" y2="{_n(y + 28)}" data-left="{left}" '
                     f'data-width="{plot_w}" visibility="hidden"/>')
        parts.append("</g>")
        rows.append("".join(parts))
    height = top + len(threats) * row_h + 10
    legend = []
    lx, ly = left, 12
    for kind in ("launch_detected", "first_detection", "track_confirmed", "engagement_planned", "interceptor_launched",
                 "intercept_miss", "intercept_kill", "leaker_impact"):
        col, label = EVENT_STYLE[kind]
        if lx + 6 * len(label) + 20 > width:
            lx, ly = left, ly + 16
        legend.append(f'<circle cx="{lx}" cy="{ly}" r="4" fill="{col}"/><text x="{lx + 7}" y="{ly + 4}" class="tl-tick">'
                      f'{escape(label)}</text>')
        lx += 6 * len(label) + 24
    return (
        f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Timeline of events per threat"><g class="tl-legend">{"".join(legend)}'
        f'</g>{"".join(rows)}</svg>'
    )


def downrange_km(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Geodesic distance (km, WGS84) from (lat0, lon0) to each point."""
    if len(lat) == 0:
        return np.zeros(0)
    inv = geodesic_inverse(np.full(len(lat), lat0), np.full(len(lat), lon0), np.asarray(lat, float), np.asarray(lon, float))
    return np.atleast_1d(np.asarray(inv.distance_m, dtype=float)) / 1e3


def _path(xs: np.ndarray, ys: np.ndarray, sx, sy) -> str:
    pts = [f"{_n(sx(x))},{_n(sy(y))}" for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
    return "M" + " L".join(pts) if pts else ""


def altitude_svgs(objects: list[dict], threats: list[dict], interceptors: list[dict]) -> list[str]:
    """Altitude versus downrange (from the launch point) of each ballistic threat, with
    its spent booster and the interceptors fired at it (and at its booster)."""
    by_id = {o["id"]: o for o in objects}
    out = []
    for th in threats:
        if th["kind"] != "ballistic_missile" or th["object_id"] not in by_id:
            continue
        oid = th["object_id"]
        main = by_id[oid]
        lat0, lon0 = main["lat"][0], main["lon"][0]
        series = [(oid, "threat", main)]
        if f"{oid}.booster" in by_id:
            series.append((f"{oid}.booster", "booster", by_id[f"{oid}.booster"]))
        for r in interceptors:
            if r["threat"] in (oid, f"{oid}.booster") and r["interceptor_id"] in by_id:
                series.append((r["interceptor_id"], "interceptor", by_id[r["interceptor_id"]]))
        curves = []
        for sid, role, o in series:
            x = downrange_km(lat0, lon0, np.array(o["lat"], float), np.array(o["lon"], float))
            y = np.array(o["alt"], float) / 1e3
            curves.append((sid, role, x, y))
        xmax = max(float(np.nanmax(c[2])) for c in curves if c[2].size) or 1.0
        ymax = max(float(np.nanmax(c[3])) for c in curves if c[3].size) or 1.0
        w, h, ml, mr, mt, mb = 470, 270, 52, 12, 26, 36
        sx = lambda v, xmax=xmax: ml + (w - ml - mr) * v / (xmax * 1.02)  # noqa: E731
        sy = lambda v, ymax=ymax: h - mb - (h - mt - mb) * max(v, 0.0) / (ymax * 1.08)  # noqa: E731
        g = [f'<svg class="alt-plot" data-object="{escape(oid)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
             f'width="{w}" height="{h}" role="img" aria-label="Altitude versus downrange of {escape(oid)}">',
             f'<text x="{ml}" y="16" class="ap-title">{escape(oid)}: {escape(th["fate"])}</text>']
        for t in nice_ticks(0.0, xmax * 1.02):
            g.append(f'<line x1="{_n(sx(t))}" x2="{_n(sx(t))}" y1="{mt}" y2="{h - mb}" class="ap-grid"/>'
                     f'<text x="{_n(sx(t))}" y="{h - mb + 14}" class="ap-tick" text-anchor="middle">{t:g}</text>')
        for t in nice_ticks(0.0, ymax * 1.08):
            g.append(f'<line x1="{ml}" x2="{w - mr}" y1="{_n(sy(t))}" y2="{_n(sy(t))}" class="ap-grid"/>'
                     f'<text x="{ml - 4}" y="{_n(sy(t) + 4)}" class="ap-tick" text-anchor="end">{t:g}</text>')
        g.append(f'<text x="{(w + ml) / 2:.1f}" y="{h - 4}" class="ap-axis" text-anchor="middle">downrange from launch (km)</text>')
        g.append(f'<text x="12" y="{(h - mb + mt) / 2:.1f}" class="ap-axis" text-anchor="middle" '
                 f'transform="rotate(-90 12 {(h - mb + mt) / 2:.1f})">altitude (km)</text>')
        style = {"threat": ("#c0392b", "2"), "booster": ("#888", "1.5"), "interceptor": ("#1f4fd1", "1.5")}
        for sid, role, x, y in curves:
            col, sw = style[role]
            dash = ' stroke-dasharray="5 3"' if role == "booster" else ""
            g.append(f'<path class="ap-{role}" d="{_path(x, y, sx, sy)}" fill="none" stroke="{col}" stroke-width="{sw}"{dash}>'
                     f'<title>{escape(sid)}</title></path>')
            if x.size:
                g.append(f'<circle cx="{_n(sx(x[-1]))}" cy="{_n(sy(y[-1]))}" r="2.5" fill="{col}"/>')
        if th["fate"] == "killed" and th.get("kill_lat_deg") is not None:
            kx = downrange_km(lat0, lon0, np.array([th["kill_lat_deg"]]), np.array([th["kill_lon_deg"]]))[0]
            ky = (th.get("kill_alt_m") or 0.0) / 1e3
            g.append(f'<g class="ap-kill"><circle cx="{_n(sx(kx))}" cy="{_n(sy(ky))}" r="6" fill="none" stroke="#0a8f3c" '
                     f'stroke-width="2"/><title>killed by {escape(th.get("killed_by") or "")} at {ky:.1f} km</title></g>')
        g.append("</svg>")
        out.append("".join(g))
    return out
