"""Static figures of a run for papers (matplotlib, Agg): the map (base map, ground
tracks, sensor coverage at 10 km, engagement zones, intercepts, impacts, debris
footprints, assets) and altitude versus downrange; PNG and SVG, with no date or
software stamp so that the same run gives the same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hoplon.report.html import static_text
from hoplon.report.run_data import RunData
from hoplon.report.scene import build_scene
from hoplon.report.svg import downrange_km

__all__ = ["write_figures", "map_figure", "altitude_figure", "FIGURE_NAMES"]

FIGURE_NAMES = ("map.png", "map.svg", "altitude.png", "altitude.svg")
_KIND = {"ballistic_missile": "#c0392b", "drone": "#e67e22", "cruise_missile": "#8e44ad", "spent_booster": "#888888",
         "interceptor": "#1f4fd1"}


def _basemap_rings():
    doc = json.loads(static_text("basemap.json"))
    scale = doc["scale"]
    for c in doc["countries"]:
        for poly in c["polygons"]:
            for r in poly:
                a = np.cumsum(np.array(r, dtype=float).reshape(-1, 2), axis=0) / scale
                yield a[:, 0], a[:, 1]


def map_figure(scene: dict):
    """A matplotlib Figure of the run's map (equirectangular, aspect by mid-latitude)."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(10, 6.5), dpi=150)
    ax = fig.add_subplot(1, 1, 1)
    (la0, lo0), (la1, lo1) = scene["bounds"]
    pad_lat, pad_lon = 0.08 * (la1 - la0) + 0.3, 0.08 * (lo1 - lo0) + 0.3
    ax.set_facecolor("#cfe3f1")
    for lon, lat in _basemap_rings():
        if lon.max() < lo0 - 10 or lon.min() > lo1 + 10 or lat.max() < la0 - 10 or lat.min() > la1 + 10:
            continue
        ax.fill(lon, lat, facecolor="#f3f0e8", edgecolor="#98a2ad", linewidth=0.5, zorder=1)
    for s in scene["sensors"]:
        for f in s.get("fans", []):
            if f["altitude_m"] == 10_000.0 and f["search"]:
                p = np.array(f["search"])
                ax.fill(p[:, 1], p[:, 0], facecolor="#2c7fb8", alpha=0.15, edgecolor="#2c7fb8", linewidth=0.8, zorder=2)
        if "lat_deg" in s:
            ax.plot(s["lon_deg"], s["lat_deg"], "^", color="#2c7fb8", markersize=6, zorder=6)
    for b in scene["batteries"]:
        p = np.array(b["zone"])
        ax.plot(p[:, 1], p[:, 0], color="#6a3d9a", linewidth=0.9, zorder=2)
        ax.plot(b["lon_deg"], b["lat_deg"], "s", color="#6a3d9a", markersize=5, zorder=6)
    for a in scene["assets"]:
        p = np.array(a["ring"])
        ax.fill(p[:, 1], p[:, 0], facecolor="#27ae60", alpha=0.3, edgecolor="#145a32", linewidth=0.8, zorder=3)
        ax.annotate(a["name"], (a["lon_deg"], a["lat_deg"]), xytext=(4, 3), textcoords="offset points", fontsize=7, zorder=7)
    for o in scene["objects"]:
        ax.plot(o["lon"], o["lat"], color=_KIND.get(o["kind"], "#555"), linewidth=1.0 if o["kind"] == "spent_booster" else 1.4,
                linestyle="--" if o["kind"] == "spent_booster" else "-", zorder=4)
    for c in scene["clouds"]:
        if len(c["polygon"]) >= 3:
            p = np.array(c["polygon"] + [c["polygon"][0]])
            ax.fill(p[:, 1], p[:, 0], facecolor="#e6b0aa", edgecolor="#b03a2e", linewidth=0.8, zorder=5)
    for x in scene["intercepts"]:
        kill = x["result"] == "kill"
        ax.plot(x["lon_deg"], x["lat_deg"], "o", markerfacecolor="none", markeredgecolor="#0a8f3c" if kill else "#f39c12",
                markersize=7 if kill else 5, markeredgewidth=1.5, zorder=7)
    for x in scene["leakers"]:
        ax.plot(x["lon_deg"], x["lat_deg"], "X", color="#c0392b", markersize=8, zorder=8)
    ax.set_xlim(lo0 - pad_lon, lo1 + pad_lon)
    ax.set_ylim(la0 - pad_lat, la1 + pad_lat)
    ax.set_aspect(1.0 / np.cos(np.radians(0.5 * (la0 + la1))))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(f"{scene['name']}: ground tracks, coverage at 10 km, engagement zones, intercepts (o), impacts (x), debris",
                 fontsize=9)
    ax.text(0.995, 0.005, "Base map: Natural Earth (public domain)", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=6, color="#555")
    fig.tight_layout()
    return fig


def altitude_figure(scene: dict):
    """Altitude versus downrange of each ballistic threat, its booster and its interceptors."""
    from matplotlib.figure import Figure  # noqa: PLC0415

    threats = [t for t in scene["threats"] if t["kind"] == "ballistic_missile"]
    by_id = {o["id"]: o for o in scene["objects"]}
    threats = [t for t in threats if t["object_id"] in by_id]
    cols = 2 if len(threats) > 1 else 1
    rows = max(1, (len(threats) + cols - 1) // cols)
    fig = Figure(figsize=(5 * cols, 3.2 * rows), dpi=150)
    if not threats:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no ballistic threats", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for i, th in enumerate(threats):
        ax = fig.add_subplot(rows, cols, i + 1)
        oid = th["object_id"]
        main = by_id[oid]
        lat0, lon0 = main["lat"][0], main["lon"][0]
        series = [(main, "#c0392b", "-")]
        if f"{oid}.booster" in by_id:
            series.append((by_id[f"{oid}.booster"], "#888888", "--"))
        series += [(by_id[r["interceptor_id"]], "#1f4fd1", "-") for r in scene["interceptors"]
                   if r["threat"] in (oid, f"{oid}.booster") and r["interceptor_id"] in by_id]
        for o, colour, style in series:
            x = downrange_km(lat0, lon0, np.array(o["lat"], float), np.array(o["lon"], float))
            ax.plot(x, np.array(o["alt"], float) / 1e3, color=colour, linestyle=style, linewidth=1.3)
        if th["fate"] == "killed" and th.get("kill_lat_deg") is not None:
            kx = downrange_km(lat0, lon0, np.array([th["kill_lat_deg"]]), np.array([th["kill_lon_deg"]]))[0]
            ax.plot(kx, (th.get("kill_alt_m") or 0.0) / 1e3, "o", markerfacecolor="none", markeredgecolor="#0a8f3c",
                    markersize=9, markeredgewidth=1.8)
        ax.set_title(f"{oid}: {th['fate']}", fontsize=9)
        ax.set_xlabel("downrange from launch (km)", fontsize=8)
        ax.set_ylabel("altitude (km)", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(True, color="#e5e5e5")
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def write_figures(run: RunData, out_dir: Path) -> list[str]:
    """Write FIGURE_NAMES into ``out_dir``; returns the names written."""
    import matplotlib  # noqa: PLC0415

    scene = build_scene(run, places=False)
    with matplotlib.rc_context({"svg.hashsalt": "hoplon", "svg.fonttype": "path"}):
        for stem, fig in (("map", map_figure(scene)), ("altitude", altitude_figure(scene))):
            fig.savefig(out_dir / f"{stem}.png", metadata={"Software": None})
            fig.savefig(out_dir / f"{stem}.svg", metadata={"Date": None, "Creator": None})
    return list(FIGURE_NAMES)
