"""hoplon report RUN_DIR / hoplon run --report: the offline HTML report, rendered in
headless Chromium with networking disabled; figures; clean errors on bad input."""

from __future__ import annotations

import json
import math
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from geographiclib.geodesic import Geodesic
from report_fixtures import chromium, render, run_dir

from cli_checks import assert_clean_error, invoke

MAX_REPORT_BYTES = 5_000_000


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    return run_dir(tmp_path_factory)


def _scene(html: str) -> dict:
    (text,) = re.findall(r'<script type="application/json" id="hoplon-data">(.*?)</script>', html, flags=re.S)
    return json.loads(text.replace("<\\/", "</"))


def test_run_report_is_written_small_and_deterministic(run, tmp_path):
    report = run / "report.html"
    assert report.is_file()
    assert report.stat().st_size < MAX_REPORT_BYTES
    code, out, err, exc = invoke("report", str(run), "--out", str(tmp_path / "again.html"))
    assert code == 0, out + err
    assert (tmp_path / "again.html").read_bytes() == report.read_bytes()
    assert (run / "scenario.json").is_file()


def test_report_needs_no_network(run):
    html = (run / "report.html").read_text(encoding="utf-8")
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.S)  # (Leaflet's code names its home page)
    assert "<script" in html and "<script src" not in html and "<link" not in markup
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "@import" not in html
    assert "sourceMappingURL" not in html


def test_report_scene_matches_the_run_tables(run):
    html = (run / "report.html").read_text(encoding="utf-8")
    scene = _scene(html)
    truth = pq.read_table(run / "truth.parquet").to_pylist()
    by_obj: dict[str, dict[float, tuple]] = {}
    for r in truth:
        by_obj.setdefault(r["object_id"], {})[round(r["time_s"], 3)] = (r["lat_deg"], r["lon_deg"], r["alt_m"])
    assert {o["id"] for o in scene["objects"]} == set(by_obj)
    for o in scene["objects"]:
        rows = by_obj[o["id"]]
        assert o["t"][0] == min(rows) and o["t"][-1] == max(rows)  # first and last samples kept
        for t, lat, lon, alt in zip(o["t"], o["lat"], o["lon"], o["alt"]):
            la, lo, al = rows[t]
            assert abs(lat - la) < 1e-6 and abs(lon - lo) < 1e-6 and abs(alt - al) < 0.1
    outcomes = pq.read_table(run / "outcomes.parquet").to_pylist()
    leaked = {r["object_id"]: r for r in outcomes if r["fate"] == "leaked"}
    assert {x["id"] for x in scene["leakers"]} == set(leaked)
    for x in scene["leakers"]:
        assert abs(x["lat_deg"] - leaked[x["id"]]["impact_lat_deg"]) < 1e-6
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in scene["clouds"]] == [c["cloud_id"] for c in summary["debris"]]
    # the summary table, the timeline rows and one altitude plot per ballistic threat
    for th in summary["threats"]:
        assert f">{th['id']}<" in html
    assert html.count('class="tl-row"') == len(outcomes)
    assert html.count('class="alt-plot"') == sum(r["kind"] == "ballistic_missile" for r in outcomes)
    for source in summary["scenario"]["sources"]:
        assert source.replace("'", "&#x27;") in html


def test_coverage_fans_and_zones_against_geodesics(run):
    """Fan and zone vertices lie at their ground range from the site (geographiclib), and
    the ground range of a slant range checks against the ECEF distance on the sphere."""
    from hoplon.report.layout import ground_range_m

    scene = _scene((run / "report.html").read_text(encoding="utf-8"))
    geod = Geodesic.WGS84
    layout = json.loads((run / "scenario.json").read_text(encoding="utf-8"))
    for s, sl in zip([s for s in scene["sensors"] if s["kind"] == "radar"], [s for s in layout["sensors"] if s["kind"] == "radar"]):
        for fan, cov in zip(s["fans"], sl["coverage"]):
            arc = fan["search"][1:-1]
            for lat, lon in arc:
                g = geod.Inverse(s["lat_deg"], s["lon_deg"], lat, lon)
                assert g["s12"] == pytest.approx(cov["ground_range_m"], abs=2.0)
                off = (g["azi1"] - s["boresight_deg"] + 540.0) % 360.0 - 180.0
                assert abs(off) <= s["azimuth_half_width_deg"] + 1e-3  # vertices rounded to 1e-5 deg
    for b in scene["batteries"]:
        for lat, lon in b["zone"]:
            assert geod.Inverse(b["lat_deg"], b["lon_deg"], lat, lon)["s12"] == pytest.approx(b["max_range_m"], abs=2.0)  # vertices rounded to 1e-5 deg
    r = 6371e3
    for h_radar, h, ground in ((2100.0, 10_000.0, 200e3), (85.0, 3000.0, 50e3), (0.0, 300e3, 900e3)):
        theta = ground / r
        a, c = np.array([0.0, r + h_radar]), (r + h) * np.array([math.sin(theta), math.cos(theta)])
        assert ground_range_m(float(np.linalg.norm(c - a)), h_radar, h) == pytest.approx(ground, rel=1e-9)


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium_offline(run, tmp_path):
    dom, log, png = render(run / "report.html", tmp_path / "report.png")
    assert 'data-ready="1"' in dom, log[-2000:]
    assert re.search(r'<pre id="js-errors">\s*</pre>', dom), re.findall(r'<pre id="js-errors">(.*?)</pre>', dom, re.S)
    assert "Uncaught" not in log
    assert re.search(r'<div id="map"[^>]*leaflet-container', dom)
    assert "<canvas" in dom  # the base map and the layers are drawn
    overlays = re.search(r'class="leaflet-control-layers-overlays">(.*?)</section>|class="leaflet-control-layers-overlays">(.*?)</div>',
                         dom, re.S)
    assert overlays is not None
    names = re.findall(r"<span> (.*?)</span>", dom)
    for layer in ("Threat ground tracks", "Interceptor paths", "Intercept points", "Leaker impacts", "Debris footprints",
                  "Sensor coverage", "Engagement zones", "Defended assets", "Populated places"):
        assert layer in names, names
    assert 'data-overlays="10"' in dom
    assert 'id="time-slider"' in dom and 'id="timeline"' in dom
    label = re.search(r'<span id="time-label">(.*?)</span>', dom).group(1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", label), label
    assert dom.count('class="tl-cursor"') >= 1
    # the screenshot is not blank: the map area varies
    assert png.ndim == 3 and png.shape[0] > 1000
    assert float(np.std(png[..., :3])) > 0.05
    map_rows = png[png.shape[0] // 2:, :, :3]
    assert len(np.unique((map_rows * 15).astype(int).reshape(-1, 3), axis=0)) > 20


def test_figures(run, tmp_path):
    from matplotlib.image import imread

    code, out, err, exc = invoke("report", str(run), "--out", str(tmp_path / "r.html"), "--figures", str(tmp_path / "fig"))
    assert code == 0, out + err
    for stem in ("map", "altitude"):
        png = imread(str(tmp_path / "fig" / f"{stem}.png"))
        assert png.shape[0] > 400 and float(np.std(png[..., :3])) > 0.05
        root = ET.parse(tmp_path / "fig" / f"{stem}.svg").getroot()
        assert root.tag.endswith("svg")
    first = {p.name: p.read_bytes() for p in (tmp_path / "fig").iterdir()}
    code, *_ = invoke("report", str(run), "--out", str(tmp_path / "r.html"), "--figures", str(tmp_path / "fig"))
    assert code == 0
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "fig").iterdir()}


# --- bad input -------------------------------------------------------------------------


def test_missing_directory(tmp_path):
    assert_clean_error(*invoke("report", str(tmp_path / "nope")), "nope", "RUN_DIR", "no such directory")


def test_not_a_run_directory(tmp_path):
    assert_clean_error(*invoke("report", str(tmp_path)), "RUN_DIR", "not a Hoplon run directory")


def test_corrupt_parquet(run, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(run, bad)
    (bad / "events.parquet").write_bytes(b"PAR1 this is not parquet")
    assert_clean_error(*invoke("report", str(bad)), "events.parquet", "not a readable Parquet file")


def test_missing_column(run, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(run, bad)
    table = pq.read_table(bad / "truth.parquet")
    pq.write_table(table.drop_columns(["lat_deg"]), bad / "truth.parquet")
    assert_clean_error(*invoke("report", str(bad)), "truth.parquet", "lat_deg", "missing column")
    pq.write_table(pa.table({"x": [1]}), bad / "truth.parquet")
    assert_clean_error(*invoke("export", str(bad), "--geojson", str(tmp_path / "x.json")), "truth.parquet", "time_s")


def test_bad_summary(run, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(run, bad)
    summary = json.loads((bad / "summary.json").read_text(encoding="utf-8"))
    (bad / "summary.json").write_text(json.dumps({**summary, "summary_version": 99}), encoding="utf-8")
    assert_clean_error(*invoke("report", str(bad)), "summary.json", "summary_version", "expected 1, got 99")
    (bad / "summary.json").write_text('{"summary_version": 1,\n "scenario": ', encoding="utf-8")
    assert_clean_error(*invoke("report", str(bad)), "summary.json:2", "not valid JSON")


def test_unwritable_output(run, tmp_path):
    assert_clean_error(*invoke("report", str(run), "--out", str(tmp_path / "no" / "r.html")), "--out", "does not exist")
