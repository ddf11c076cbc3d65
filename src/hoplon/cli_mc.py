"""The Monte Carlo commands of the ``hoplon`` CLI: ``mc``, ``mc-report``, ``mc-compare``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hoplon.errors import InputError, Problem

__all__ = ["register"]


def _fmt_ci(d: dict | None, key: str = "estimate", pct: bool = False) -> str:
    if d is None or d.get(key) is None:
        return "-"
    s = 100.0 if pct else 1.0
    unit = " %" if pct else ""
    if d.get("low") is None:
        return f"{d[key] * s:.3g}{unit}"
    return f"{d[key] * s:.3g}{unit} [{d['low'] * s:.3g}, {d['high'] * s:.3g}]"


def _print_report(con, rep: dict) -> None:  # noqa: C901
    done = "" if rep["complete"] else f" (INCOMPLETE: {rep['replications']} of {rep['replications_requested']}; --resume)"
    con.print(f"Monte Carlo: {rep['scenario']}, seed {rep['seed']}, {rep['replications']} replications{done}; "
              f"95 % confidence intervals in brackets", markup=False)
    t = Table(title="Outcomes per raid", title_justify="left")
    for c in ("measure", "estimate [95 % CI]", "range"):
        t.add_column(c)
    t.add_row("P(no leaker)", _fmt_ci(rep["p_no_leaker"], pct=True), f"{rep['p_no_leaker']['count']} of {rep['replications']}")
    for label, key in (("leakers per raid", "leakers_per_raid"), ("interceptors fired per raid", "interceptors_fired")):
        d = rep[key]
        t.add_row(label, _fmt_ci(d, "mean"), "-" if d is None else f"{d['min']:g} - {d['max']:g}")
    con.print(t)
    t = Table(title="Interceptors fired per battery (per raid)", title_justify="left")
    for c in ("battery", "type", "mean [95 % CI]", "min - max"):
        t.add_column(c)
    for b in rep["interceptors_per_battery"]:
        t.add_row(b["battery_id"], b["interceptor_type"], _fmt_ci(b, "mean"), f"{b['min']:g} - {b['max']:g}")
    con.print(t)
    t = Table(title="Defended assets", title_justify="left")
    for c in ("asset", "value", "P(survives) [95 % CI]", "mean hits per raid"):
        t.add_column(c)
    for a in rep["asset_survival"]:
        t.add_row(a["asset"], f"{a['value']:g}", _fmt_ci(a, pct=True), f"{a['mean_hits']:.3g}")
    con.print(t)
    if rep["debris_places"]:
        t = Table(title="Debris of kills landing on or near populated places", title_justify="left")
        for c in ("place", "admin1", "population", "P(debris lands) [95 % CI]", "hazardous fragments / raid"):
            t.add_column(c)
        for p in rep["debris_places"][:15]:
            t.add_row(p["place"], f"{p['country']}-{p['admin1']}", f"{p['population']:,}",
                      _fmt_ci(p["replications_with_landing"], pct=True), f"{p['mean_hazardous_fragments_per_replication']:g}")
        con.print(t)
    if len(rep["convergence"]) > 1:
        t = Table(title="How the interval narrows: P(no leaker) over the first N replications", title_justify="left")
        for c in ("N", "P(no leaker)", "95 % CI", "half-width"):
            t.add_column(c)
        for c in rep["convergence"]:
            t.add_row(str(c["n"]), f"{100 * c['p_no_leaker']:.3g} %", f"[{100 * c['low']:.3g}, {100 * c['high']:.3g}] %",
                      f"{100 * c['half_width']:.3g} %")
        con.print(t)


def register(app: typer.Typer) -> None:
    """Add the Monte Carlo commands to ``app``."""
    from hoplon.cli import _console, _user_errors  # noqa: PLC0415  (cli imports this module at its end)

    @app.command("mc")
    @_user_errors
    def mc(
        scenario: Annotated[str, typer.Argument(help="A scenario file, or a built-in scenario name.")],
        n: Annotated[int, typer.Option("-n", "--replications", help="Number of replications N.", min=1)],
        seed: Annotated[int | None, typer.Option("--seed", help="Base seed S (default: the scenario's); replication k "
                                                 "uses SeedSequence(S).spawn(N)[k].", min=0)] = None,
        workers: Annotated[int | None, typer.Option("--workers", help="Worker processes of a local Dask cluster "
                                                    "(default 1).", min=1)] = None,
        scheduler: Annotated[str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, "
                                                      "e.g. tcp://10.0.0.5:8786 (instead of --workers).")] = None,
        out: Annotated[Path | None, typer.Option("--out", help="RESULTS.duckdb (default: hoplon-out/<scenario>.duckdb).")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Complete an interrupted run: only the missing "
                                             "replications are played.")] = False,
        chunk: Annotated[int | None, typer.Option("--chunk", help="Replications per committed chunk (default: about "
                                                  "8 chunks per worker).", min=1)] = None,
        events: Annotated[bool, typer.Option("--events", help="Also keep every replication's event log, as Parquet "
                                             "files in RESULTS.duckdb.events/ that the store's view `events` reads.")] = False,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no report at the end.")] = False,
    ) -> None:
        """Monte Carlo: N replications of a scenario on Dask, into a DuckDB results file.

        Each chunk of replications is committed atomically: an interrupted run (Ctrl-C, a
        crash, kill -9) keeps every finished chunk, and --resume plays only what is missing.
        """
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from hoplon.analysis.montecarlo import run_monte_carlo  # noqa: PLC0415
        from hoplon.analysis.statistics import mc_report  # noqa: PLC0415
        from hoplon.scenario.builtins import resolve_scenario  # noqa: PLC0415

        if workers is not None and scheduler is not None:
            raise InputError(Problem("", None, "--workers", "give either --workers or --scheduler, not both"))
        if scheduler is not None and "://" not in scheduler:
            raise InputError(Problem("", None, "--scheduler", f"expected an address such as tcp://HOST:PORT, got {scheduler!r}"))
        sc = resolve_scenario(scenario)
        path = out if out is not None else Path("hoplon-out") / f"{sc.name}.duckdb"
        if out is None:
            path.parent.mkdir(parents=True, exist_ok=True)
        base_seed = sc.seed if seed is None else seed
        con = _console()
        err = _console(stderr=True)
        tty = sys.stdout.isatty()
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=con, disable=not tty)
        state: dict = {}

        def on_start(done: int, total: int) -> None:
            state["t0"], state["start"] = time.perf_counter(), done
            state["task"] = progress.add_task(f"{sc.name}", total=total, completed=done, rate="")
            progress.start()
            if done:
                err.print(f"resuming {path}: {done} of {total} replications already stored", markup=False)

        def on_chunk(p) -> None:
            elapsed = time.perf_counter() - state["t0"]
            new = p.done - p.started_with
            rate = 60.0 * new / elapsed if elapsed > 0 else 0.0
            eta = (p.total - p.done) / (rate / 60.0) if rate > 0 else float("nan")
            progress.update(state["task"], completed=p.done, rate=f"{rate:,.1f}/min")
            if not tty:  # one line per committed chunk, for logs and tools
                print(f"committed replications {p.chunk[0]}-{p.chunk[-1]}: {p.done}/{p.total} "
                      f"({rate:,.1f}/min, ETA {eta:,.0f} s)", flush=True)

        try:
            count = run_monte_carlo(sc, n=n, seed=base_seed, out=path, workers=workers or 1, scheduler=scheduler,
                                    resume=resume, chunk=chunk, events=events, on_start=on_start, on_chunk=on_chunk)
        except KeyboardInterrupt:
            progress.stop()
            err.print(f"interrupted: the finished chunks are in {path}; complete it with --resume", markup=False)
            raise typer.Exit(code=130) from None
        except OSError as exc:
            progress.stop()
            raise InputError(Problem(scheduler or "", None, "--scheduler" if scheduler else "--workers",
                                     f"cannot reach the Dask cluster: {exc}")) from None
        progress.stop()
        elapsed = time.perf_counter() - state.get("t0", time.perf_counter())
        played = count - state.get("start", 0)
        rate = f", {60 * played / elapsed:,.1f} per minute" if played and elapsed > 0 else ""
        err.print(f"{count} of {n} replications in {path} ({played} played in {elapsed:,.1f} s{rate})", markup=False)
        if not quiet:
            _print_report(con, mc_report(path))

    @app.command("mc-report")
    @_user_errors
    def mc_report_cmd(
        results: Annotated[Path, typer.Argument(help="RESULTS.duckdb written by `hoplon mc`.")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
    ) -> None:
        """Statistics of a Monte Carlo run: P(no leaker), leakers per raid, interceptors per
        battery, asset survival, debris landings per place, with 95 % confidence intervals."""
        from hoplon.analysis.statistics import mc_report  # noqa: PLC0415

        rep = mc_report(results)
        if as_json:
            print(json.dumps(rep, indent=2, ensure_ascii=False))
        else:
            _print_report(_console(), rep)

    @app.command("mc-compare")
    @_user_errors
    def mc_compare_cmd(
        a: Annotated[Path, typer.Argument(help="RESULTS.duckdb of case A (e.g. anatolia-reinforced).")],
        b: Annotated[Path, typer.Argument(help="RESULTS.duckdb of case B (e.g. anatolia).")],
        as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
    ) -> None:
        """Compare two Monte Carlo runs: A - B of each measure with its 95 % confidence interval."""
        from hoplon.analysis.statistics import mc_compare  # noqa: PLC0415

        cmp = mc_compare(a, b)
        if as_json:
            print(json.dumps(cmp, indent=2, ensure_ascii=False))
            return
        con = _console()
        t = Table(title=f"A = {cmp['scenario_a']} ({cmp['replications_a']} replications) vs "
                        f"B = {cmp['scenario_b']} ({cmp['replications_b']} replications)", title_justify="left")
        for c in ("measure", "A", "B", "A - B", "95 % CI", "significant", "method"):
            t.add_column(c)
        for m in cmp["measures"]:
            ci = "-" if m["low"] is None else f"[{m['low']:.3g}, {m['high']:.3g}]"
            t.add_row(m["measure"], f"{m['a']:.4g}", f"{m['b']:.4g}", f"{m['difference']:+.4g}", ci,
                      "yes" if m["significant"] else "no", m["method"])
        con.print(t)
