"""The Monte Carlo report: one offline HTML file from a results file (DuckDB, schema
version 1, written by ``hoplon mc``): distributions of leakers and interceptors fired,
P(no leaker) with its Wilson 95 % interval against the number of replications,
per-asset survival, and a map of debris landing density and of leaker impacts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from hoplon import __version__
from hoplon.core.statistics import wilson_interval
from hoplon.errors import InputError, Problem
from hoplon.report.html import map_scripts, page
from hoplon.report.svg import nice_ticks

__all__ = ["MCResults", "load_results", "mc_report_html", "SCHEMA_VERSION", "REQUIRED_COLUMNS"]

SCHEMA_VERSION = "1"
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": ("key", "value"),
    "replications": ("rep", "threats", "killed", "leaked", "flying", "no_leaker", "assets_hit", "interceptors_fired",
                     "debris_clouds", "fragments_hazardous"),
    "threat_outcomes": ("rep", "object_id", "kind", "fate", "impact_lat_deg", "impact_lon_deg", "asset_hit"),
    "asset_outcomes": ("rep", "asset", "value", "hits", "survived"),
    "battery_fired": ("rep", "battery_id", "interceptor_type", "fired"),
    "debris_fragments": ("rep", "cloud_id", "lat_deg", "lon_deg", "energy_j", "hazardous", "represents"),
}
DENSITY_CELL_DEG = 0.05
MAX_IMPACT_POINTS = 5000


@dataclass(frozen=True)
class MCResults:
    path: Path
    meta: dict[str, str]
    reps: dict[str, np.ndarray]          # replications columns, ordered by rep
    assets: list[dict]                   # per asset: survival and hits
    batteries: list[dict]                # per battery and type: fired per replication
    leaker_impacts: list[list]           # [lat, lon, kind, asset_hit] (at most MAX_IMPACT_POINTS)
    leaker_impacts_total: int
    density: list[list]                  # [lat_south, lon_west, fragments, hazardous] per DENSITY_CELL_DEG cell


def _fail(path: Path, field: str, message: str) -> InputError:
    return InputError(Problem(str(path), None, field, message))


def load_results(path: Path | str) -> MCResults:
    """Read and check a results file; errors name the file and the table or column."""
    import duckdb  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise _fail(path, "RESULTS", "no such file")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _fail(path, "", f"not a DuckDB results file: {str(exc).splitlines()[0]}") from None
    try:
        cols: dict[str, set[str]] = {}
        for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall():
            cols.setdefault(table, set()).add(column)
        if "meta" not in cols:
            raise _fail(path, "meta", "missing table: not a Hoplon Monte Carlo results file")
        meta = {str(k): str(v) for k, v in con.execute("SELECT key, value FROM meta ORDER BY key").fetchall()}
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            raise _fail(path, "meta.schema_version", f"expected {SCHEMA_VERSION}, got {version!r}")
        for table, needed in REQUIRED_COLUMNS.items():
            if table not in cols:
                raise _fail(path, table, "missing table")
            missing = [c for c in needed if c not in cols[table]]
            if missing:
                raise _fail(path, f"{table}.{missing[0]}", "missing column")
        names = REQUIRED_COLUMNS["replications"]
        rows = con.execute(f"SELECT {', '.join(names)} FROM replications ORDER BY rep").fetchall()
        if not rows:
            raise _fail(path, "replications", "no replications")
        reps = {n: np.array([r[i] for r in rows]) for i, n in enumerate(names)}
        n_reps = len(rows)
        assets = []
        for asset, value, survived, hits, n in con.execute(
            "SELECT asset, max(value), sum(CASE WHEN survived THEN 1 ELSE 0 END), sum(hits), count(*) "
            "FROM asset_outcomes GROUP BY asset ORDER BY max(value) DESC, asset"
        ).fetchall():
            lo, hi = wilson_interval(int(survived), int(n))
            assets.append({"asset": asset, "value": float(value), "survived": int(survived), "n": int(n),
                           "p": int(survived) / int(n), "lo": lo, "hi": hi, "mean_hits": float(hits) / int(n)})
        batteries = []
        for battery, kind, total, mean, most in con.execute(
            "SELECT battery_id, interceptor_type, sum(fired), avg(fired), max(fired) FROM battery_fired "
            "GROUP BY battery_id, interceptor_type ORDER BY battery_id, interceptor_type"
        ).fetchall():
            batteries.append({"battery": battery, "type": kind, "total": int(total), "mean": float(mean), "max": int(most),
                              "reps": n_reps})
        total_impacts = con.execute(
            "SELECT count(*) FROM threat_outcomes WHERE fate = 'leaked' AND impact_lat_deg IS NOT NULL").fetchone()[0]
        impacts = con.execute(
            "SELECT round(impact_lat_deg, 5), round(impact_lon_deg, 5), kind, coalesce(asset_hit, '') FROM threat_outcomes "
            "WHERE fate = 'leaked' AND impact_lat_deg IS NOT NULL ORDER BY rep, object_id LIMIT ?", [MAX_IMPACT_POINTS]
        ).fetchall()
        cell = DENSITY_CELL_DEG
        density = con.execute(
            f"SELECT floor(lat_deg / {cell}) AS i, floor(lon_deg / {cell}) AS j, CAST(round(sum(represents)) AS BIGINT), "
            "CAST(round(sum(CASE WHEN hazardous THEN represents ELSE 0 END)) AS BIGINT) FROM debris_fragments "
            "WHERE lat_deg IS NOT NULL AND lon_deg IS NOT NULL GROUP BY i, j ORDER BY i, j"
        ).fetchall()
    except duckdb.Error as exc:
        raise _fail(path, "", f"cannot read the results: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    return MCResults(
        path=path, meta=meta, reps=reps, assets=assets, batteries=batteries,
        leaker_impacts=[[float(a), float(b), str(k), str(h)] for a, b, k, h in impacts], leaker_impacts_total=int(total_impacts),
        density=[[round(float(i) * cell, 6), round(float(j) * cell, 6), int(n), int(h)] for i, j, n, h in density],
    )


def _hist_svg(values: np.ndarray, title: str, xlabel: str, element_id: str) -> str:
    values = np.asarray(values, dtype=int)
    lo, hi = int(values.min()), int(values.max())
    counts = np.bincount(values - lo, minlength=hi - lo + 1)
    n = values.size
    w, h, ml, mr, mt, mb = 470, 250, 46, 12, 26, 38
    bw = (w - ml - mr) / len(counts)
    ymax = counts.max() / n
    sy = lambda v: h - mb - (h - mt - mb) * v / (ymax * 1.1)  # noqa: E731
    g = [f'<svg id="{element_id}" class="mc-hist" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
         f'height="{h}" role="img" aria-label="{escape(title)}"><text x="{ml}" y="16" class="ap-title">{escape(title)}</text>']
    for t in nice_ticks(0.0, ymax * 1.1):
        g.append(f'<line x1="{ml}" x2="{w - mr}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" class="ap-grid"/>'
                 f'<text x="{ml - 4}" y="{sy(t) + 4:.1f}" class="ap-tick" text-anchor="end">{t:g}</text>')
    step = max(1, len(counts) // 12)
    for k, c in enumerate(counts):
        x = ml + k * bw
        g.append(f'<rect class="bar" x="{x + 1:.1f}" y="{sy(c / n):.1f}" width="{max(bw - 2, 1):.1f}" '
                 f'height="{h - mb - sy(c / n):.1f}" fill="#2c7fb8"><title>{lo + k}: {c} of {n} replications</title></rect>')
        if k % step == 0:
            g.append(f'<text x="{x + bw / 2:.1f}" y="{h - mb + 14}" class="ap-tick" text-anchor="middle">{lo + k}</text>')
    g.append(f'<text x="{(w + ml) / 2:.1f}" y="{h - 4}" class="ap-axis" text-anchor="middle">{escape(xlabel)}</text>')
    g.append(f'<text x="12" y="{(h - mb + mt) / 2:.1f}" class="ap-axis" text-anchor="middle" '
             f'transform="rotate(-90 12 {(h - mb + mt) / 2:.1f})">fraction of replications</text></svg>')
    return "".join(g)


def _convergence_svg(no_leaker: np.ndarray) -> str:
    """The running estimate of P(no leaker) and its Wilson 95 % band against N."""
    x = np.asarray(no_leaker, dtype=bool).astype(int)
    n = x.size
    ks = np.unique(np.round(np.geomspace(1, n, min(n, 200))).astype(int))
    cum = np.cumsum(x)
    w, h, ml, mr, mt, mb = 960, 260, 46, 12, 26, 38
    log_n = math.log10(max(n, 2))
    sx = lambda k: ml + (w - ml - mr) * math.log10(k) / log_n  # noqa: E731
    sy = lambda p: h - mb - (h - mt - mb) * p  # noqa: E731
    est = [(k, cum[k - 1] / k, *wilson_interval(int(cum[k - 1]), int(k))) for k in ks]
    band = [f"{sx(k):.1f},{sy(hi):.1f}" for k, _, _, hi in est] + [f"{sx(k):.1f},{sy(lo):.1f}" for k, _, lo, _ in est[::-1]]
    line = " L".join(f"{sx(k):.1f},{sy(p):.1f}" for k, p, _, _ in est)
    g = [f'<svg id="mc-convergence" class="mc-hist" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
         f'height="{h}" role="img" aria-label="P(no leaker) against N"><text x="{ml}" y="16" class="ap-title">'
         'P(no leaker) and its 95 % Wilson interval against the number of replications N</text>']
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        g.append(f'<line x1="{ml}" x2="{w - mr}" y1="{sy(p):.1f}" y2="{sy(p):.1f}" class="ap-grid"/>'
                 f'<text x="{ml - 4}" y="{sy(p) + 4:.1f}" class="ap-tick" text-anchor="end">{p:g}</text>')
    k = 1
    while k <= n:
        g.append(f'<line x1="{sx(k):.1f}" x2="{sx(k):.1f}" y1="{mt}" y2="{h - mb}" class="ap-grid"/>'
                 f'<text x="{sx(k):.1f}" y="{h - mb + 14}" class="ap-tick" text-anchor="middle">{k}</text>')
        k *= 10
    g.append(f'<polygon points="{" ".join(band)}" fill="#2c7fb8" fill-opacity="0.2" stroke="none"/>')
    g.append(f'<path d="M{line}" fill="none" stroke="#1f4fd1" stroke-width="2"/>')
    g.append(f'<text x="{(w + ml) / 2:.1f}" y="{h - 4}" class="ap-axis" text-anchor="middle">replications N (log scale)</text></svg>')
    return "".join(g)


def mc_report_html(res: MCResults) -> str:
    """The Monte Carlo report as one HTML string (deterministic for the same file)."""
    r = res.reps
    n = int(r["rep"].size)
    ok = int(np.sum(r["no_leaker"].astype(bool)))
    lo, hi = wilson_interval(ok, n)
    m = res.meta
    title = f"Hoplon Monte Carlo report: {m.get('scenario', '?')}"
    facts = [
        ("replications", f"{n:,}"), ("P(no leaker)", f"{ok / n:.3f}"), ("95 % interval", f"{lo:.3f} to {hi:.3f}"),
        ("mean leakers", f"{np.mean(r['leaked']):.2f}"), ("mean kills", f"{np.mean(r['killed']):.2f}"),
        ("mean interceptors fired", f"{np.mean(r['interceptors_fired']):.2f}"),
        ("mean assets hit", f"{np.mean(r['assets_hit']):.2f}"),
        ("mean hazardous fragments", f"{np.mean(r['fragments_hazardous']):.1f}"),
    ]
    cards = "".join(f'<div class="card"><div class="num">{escape(v)}</div><div class="lbl">{escape(k)}</div></div>' for k, v in facts)
    asset_rows = "".join(
        f"<tr><td>{escape(str(a['asset']))}</td><td>{a['value']:g}</td><td>{a['p']:.3f}</td><td>{a['lo']:.3f} to {a['hi']:.3f}</td>"
        f"<td>{a['mean_hits']:.3f}</td><td>{a['n']}</td></tr>" for a in res.assets)
    bat_rows = "".join(
        f"<tr><td>{escape(str(b['battery']))}</td><td>{escape(str(b['type']))}</td><td>{b['mean']:.2f}</td><td>{b['max']}</td>"
        f"<td>{b['total']:,}</td></tr>" for b in res.batteries)
    meta_rows = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in sorted(m.items()))
    body = (
        f'<header><h1>{escape(title)}</h1><p class="meta">{n:,} replications &middot; seed {escape(m.get("seed", "?"))} '
        f'&middot; results written by Hoplon {escape(m.get("hoplon_version", "?"))} &middot; report by Hoplon '
        f'{escape(__version__)}</p><nav><a href="#summary">Summary</a> <a href="#distributions">Distributions</a> '
        '<a href="#assets">Assets</a> <a href="#map-section">Map</a></nav></header>'
        f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div>{_convergence_svg(r["no_leaker"])}</section>'
        '<section id="distributions"><h2>Distributions</h2><div class="plots">'
        f'{_hist_svg(r["leaked"], "Leakers per replication", "leakers", "mc-leakers")}'
        f'{_hist_svg(r["interceptors_fired"], "Interceptors fired per replication", "interceptors fired", "mc-fired")}'
        f'</div><h3>Interceptors fired per battery</h3><table><thead><tr><th>battery</th><th>type</th><th>mean per '
        f'replication</th><th>most</th><th>total</th></tr></thead><tbody>{bat_rows}</tbody></table></section>'
        '<section id="assets"><h2>Per-asset survival</h2><table id="mc-assets"><thead><tr><th>asset</th><th>value</th>'
        '<th>P(survived)</th><th>95 % interval</th><th>mean hits</th><th>replications</th></tr></thead>'
        f'<tbody>{asset_rows}</tbody></table></section>'
        '<section id="map-section"><h2>Debris landing density and leaker impacts</h2>'
        f'<div id="map"></div><p class="legend">Cells of {DENSITY_CELL_DEG:g} deg: landed fragments over all replications '
        f'(darker: more); red dots: leaker impacts ({min(res.leaker_impacts_total, MAX_IMPACT_POINTS):,} of '
        f'{res.leaker_impacts_total:,} shown).</p></section>'
        f'<section id="sources"><h2>Results file</h2><table>{meta_rows}</table>'
        f'<p class="version">{escape(res.path.name)}; Hoplon {escape(__version__)}.</p></section>'
    )
    data = {"density": res.density, "cell": DENSITY_CELL_DEG, "impacts": res.leaker_impacts}
    return page(title, body, scripts=map_scripts(data, "mc.js"))
