"""The ``hoplon report`` and ``hoplon export`` commands (registered on the main app by
:func:`register`): an offline HTML report of a run directory or of a Monte Carlo
results file, static figures, and CZML/KML/GeoJSON exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hoplon.errors import InputError, Problem

__all__ = ["register", "write_report"]


def _write_text(target: Path, text: str, option: str) -> None:
    from hoplon.io.run_files import atomic_write  # noqa: PLC0415

    parent = target.parent
    if not parent.is_dir():
        raise InputError(Problem(str(target), None, option, f"the directory {parent} does not exist"))
    if target.is_dir():
        raise InputError(Problem(str(target), None, option, "is a directory"))
    try:
        atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))
    except OSError as exc:
        raise InputError(Problem(str(target), None, option, f"cannot write: {exc.strerror}")) from None


def write_report(run_dir: Path, out: Path, con: Console, *, option: str = "--out") -> None:
    """Write the HTML report of the run directory ``run_dir`` to ``out``."""
    from hoplon.report.html import run_report_html  # noqa: PLC0415
    from hoplon.report.run_data import load_run  # noqa: PLC0415

    run = load_run(run_dir)
    text = run_report_html(run)
    _write_text(out, text, option)
    con.print(f"wrote {out} ({len(text.encode('utf-8')) / 1e6:.2f} MB)", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``export`` to the ``hoplon`` app."""
    from hoplon.cli import _console, _user_errors  # noqa: PLC0415 (cli imports this module at its end)

    @app.command()
    @_user_errors
    def report(
        source: Annotated[Path, typer.Argument(help="A run directory (hoplon run --out DIR) or a Monte Carlo results file (.duckdb).")],
        out: Annotated[Path | None, typer.Option("--out", help="The HTML file (default: RUN_DIR/report.html, or RESULTS.html).")] = None,
        figures: Annotated[Path | None, typer.Option("--figures", help="Also write the map and altitude figures (PNG and SVG) here.")] = None,
    ) -> None:
        """Write an offline HTML report (map with replay, timeline, altitude plots, summary) of a run, or the
        Monte Carlo report of a results file; optionally static figures for papers."""
        con = _console()
        if source.is_file():
            if figures is not None:
                raise InputError(Problem(str(source), None, "--figures", "figures are made from a run directory"))
            from hoplon.report.mc import load_results, mc_report_html  # noqa: PLC0415

            target = out if out is not None else source.with_suffix(".html")
            text = mc_report_html(load_results(source))
            _write_text(target, text, "--out")
            con.print(f"wrote {target} ({len(text.encode('utf-8')) / 1e6:.2f} MB)", markup=False, highlight=False)
            return
        write_report(source, out if out is not None else source / "report.html", con)
        if figures is not None:
            from hoplon.io.run_files import prepare_output_dir  # noqa: PLC0415
            from hoplon.report.figures import write_figures  # noqa: PLC0415
            from hoplon.report.run_data import load_run  # noqa: PLC0415

            prepare_output_dir(figures, option="--figures")
            names = write_figures(load_run(source), figures)
            con.print(f"wrote {figures}/" + ", ".join(names), markup=False, highlight=False)

    @app.command()
    @_user_errors
    def export(
        run_dir: Annotated[Path, typer.Argument(help="A run directory (hoplon run --out DIR).")],
        czml: Annotated[Path | None, typer.Option("--czml", help="Time-dynamic CZML for Cesium.")] = None,
        kml: Annotated[Path | None, typer.Option("--kml", help="KML for Google Earth.")] = None,
        geojson: Annotated[Path | None, typer.Option("--geojson", help="GeoJSON for GIS.")] = None,
    ) -> None:
        """Export a run's trajectories, coverage, events, footprints and assets as CZML, KML and/or GeoJSON."""
        from hoplon.report.export import to_czml, to_geojson, to_kml  # noqa: PLC0415
        from hoplon.report.run_data import load_run  # noqa: PLC0415

        if czml is None and kml is None and geojson is None:
            raise InputError(Problem("", None, "--czml/--kml/--geojson", "name at least one output file"))
        run = load_run(run_dir)
        con = _console()
        for path, make, option in ((czml, to_czml, "--czml"), (kml, to_kml, "--kml"), (geojson, to_geojson, "--geojson")):
            if path is None:
                continue
            text = make(run)
            _write_text(path, text, option)
            con.print(f"wrote {path} ({len(text.encode('utf-8')) / 1e6:.2f} MB)", markup=False, highlight=False)
