"""hoplon report RESULTS.duckdb: the Monte Carlo report, checked against the results
file's own numbers (DuckDB queries) and the Wilson interval's defining equation."""

from __future__ import annotations

import math
import re

import duckdb
import pytest
from report_fixtures import chromium, make_results, render

from cli_checks import assert_clean_error, invoke


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("mc") / "results.duckdb"
    make_results(path, n=200, seed=3)
    code, out, err, exc = invoke("report", str(path))
    assert code == 0, out + err
    return path, path.with_suffix(".html")


def test_report_numbers_match_the_results_file(results):
    path, html_path = results
    html = html_path.read_text(encoding="utf-8")
    con = duckdb.connect(str(path), read_only=True)
    n, ok = con.execute("SELECT count(*), sum(no_leaker::INT) FROM replications").fetchone()
    assert f">{ok / n:.3f}<" in html
    for asset, p in con.execute("SELECT asset, avg(survived::INT) FROM asset_outcomes GROUP BY asset").fetchall():
        assert re.search(rf"<td>{asset}</td><td>[^<]*</td><td>{p:.3f}</td>", html), asset
    mean_fired = con.execute("SELECT avg(interceptors_fired) FROM replications").fetchone()[0]
    assert f">{mean_fired:.2f}<" in html
    leaked = con.execute("SELECT count(*) FROM threat_outcomes WHERE fate = 'leaked'").fetchone()[0]
    assert f"({leaked:,} of {leaked:,} shown)" in html
    con.close()
    for element in ('id="mc-leakers"', 'id="mc-fired"', 'id="mc-convergence"', 'id="mc-assets"', 'id="map"'):
        assert element in html
    # the histogram bars add up to all the replications
    bars = [int(m) for m in re.findall(r"<title>\d+: (\d+) of 200 replications</title>", html)]
    assert sum(bars) == 2 * 200


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (150, 200), (1, 10000)])
def test_wilson_interval_solves_its_equation(k, n):
    """The bounds are the roots in p of (k/n - p)^2 = z^2 p (1 - p) / n."""
    from hoplon.core.statistics import wilson_interval

    z = 1.959963984540054
    lo, hi = wilson_interval(k, n)
    for p in (lo, hi):
        assert (k / n - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, abs=1e-12)
    assert lo <= k / n <= hi
    assert math.isclose(lo, 0.0, abs_tol=1e-15) == (k == 0)


def test_report_is_deterministic(results, tmp_path):
    path, html_path = results
    code, *_ = invoke("report", str(path), "--out", str(tmp_path / "again.html"))
    assert code == 0
    assert (tmp_path / "again.html").read_bytes() == html_path.read_bytes()


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_mc_report_renders_offline(results, tmp_path):
    import numpy as np

    _, html_path = results
    dom, log, png = render(html_path, tmp_path / "mc.png", height=1600)
    assert 'data-ready="1"' in dom and "Uncaught" not in log
    assert re.search(r'<pre id="js-errors">\s*</pre>', dom)
    assert "<canvas" in dom and "Debris landing density" in dom
    assert float(np.std(png[..., :3])) > 0.05


def test_wrong_schema_version(tmp_path):
    path = tmp_path / "old.duckdb"
    make_results(path, n=5, version="0")
    assert_clean_error(*invoke("report", str(path)), "old.duckdb", "meta.schema_version", "expected 1, got '0'")


def test_not_a_duckdb_file(tmp_path):
    path = tmp_path / "x.duckdb"
    path.write_text("hello", encoding="utf-8")
    assert_clean_error(*invoke("report", str(path)), "x.duckdb", "not a DuckDB results file")


def test_missing_table(tmp_path):
    path = tmp_path / "r.duckdb"
    make_results(path, n=5)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE asset_outcomes")
    con.close()
    assert_clean_error(*invoke("report", str(path)), "r.duckdb", "asset_outcomes", "missing table")


def test_figures_need_a_run_directory(tmp_path):
    path = tmp_path / "r.duckdb"
    make_results(path, n=5)
    assert_clean_error(*invoke("report", str(path), "--figures", str(tmp_path / "f")), "--figures")
