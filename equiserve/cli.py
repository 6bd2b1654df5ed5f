"""The ``equiserve`` command: a thin layer over :mod:`equiserve.study`.

Bad input ends with a one-line cause on stderr and exit code 2 (1 for unexpected errors);
``--debug`` shows the full traceback instead. SIGINT, SIGTERM and SIGHUP end a run as
Ctrl-C does: the temporary folder, the backup and the lock are removed, the output folder
is left as it was, and the exit code is 128 + the signal's number (130, 143, 129).
"""

from __future__ import annotations

import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from equiserve.errors import DataQualityWarning, EquiserveError
from equiserve.io.atomic import check_output_dir, output_lock
from equiserve.settings import CANDIDATE_SPACING_M, SOLVER_TIME_LIMIT_S
from equiserve.timings import Timings

if TYPE_CHECKING:  # the commands import what they need when they run (a quick --help)
    from equiserve.config import StudyConfig
    from equiserve.outputs.maps import BaseMap
    from equiserve.results.base import Result
    from equiserve.study import Study

app = typer.Typer(
    name="equiserve",
    help="Measure and close gaps in basic public services: coverage by region and group.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts name tables such as [forecast] and [map] as they are
)
console = Console(stderr=True)

OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output folder (created if "
                                         "missing; only the report's files are replaced).")]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show full tracebacks.")]
OfflineOption = Annotated[bool, typer.Option("--offline", help="Maps without base-map tiles "
                                             "(they never need a CDN: Leaflet is inlined).")]
TilesOption = Annotated[str | None, typer.Option(
    "--tiles", help="Base map: osm, none, amap (GCJ-02; data are shifted to match), "
                    "tianditu (needs [map] key) or a tile URL with {x} {y} {z}; default: "
                    "the study's [map] tiles, else osm.")]
TilesCrsOption = Annotated[str | None, typer.Option(
    "--tiles-crs", help="Datum of a custom tile URL: WGS84 or GCJ-02.")]
ConfigArgument = Annotated[Path, typer.Argument(help="The study configuration (study.toml).")]
#: ``--service-areas`` (:data:`equiserve.config.types.ServiceAreas`; not imported: the
#: command line answers --help without loading the configuration models).
ServiceAreas = Literal["dissolved", "per-facility", "none"]
#: ``--cells`` and ``--format`` (:data:`equiserve.outputs.tables.CellGeometry`,
#: :data:`~equiserve.outputs.tables.TableFormat`), spelled here for the same reason.
CellGeometry = Literal["points", "polygons"]
TableFormat = Literal["gpkg", "parquet"]
CellsOption = Annotated[CellGeometry, typer.Option(
    "--cells", help="Cells in coverage.gpkg (cells, gaps) as their centres (points: "
                    "small, quick) or their shapes (polygons).")]
FormatOption = Annotated[TableFormat, typer.Option(
    "--format", help="The per-cell layers in coverage.gpkg (gpkg) or as GeoParquet files "
                     "cells.parquet, gaps.parquet (parquet: for pandas, DuckDB); the "
                     "other layers stay in coverage.gpkg.")]
AreasOption = Annotated[ServiceAreas, typer.Option(
    "--service-areas", help="Service areas in coverage.gpkg and the map: dissolved (one "
                            "per layer), per-facility (also one per facility: slower) or "
                            "none.")]


def _n_steps(cfg: StudyConfig, per_layer: int, extra: int) -> int:
    """Steps of a run's progress bar: loading, per layer, per network mode, and the rest."""
    modes = {lay.standard.mode for lay in cfg.layers.values() if lay.standard.uses_network}
    return 2 + per_layer * len(cfg.layers) + 2 * len(modes) + extra


def _basemap(cfg: StudyConfig, tiles: str | None, tiles_crs: str | None,
             offline: bool) -> BaseMap | None:
    """The base map, resolved before the long work so that a bad setting fails at once."""
    from equiserve.outputs.maps import basemap_from_config

    base = basemap_from_config(cfg.map, tiles, tiles_crs, require_key=not offline)
    return None if offline else base  # a bad setting is an error even when offline


class Interrupted(KeyboardInterrupt):
    """A run ended by a signal (SIGTERM, SIGHUP), raised where the run is, like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP (where the platform has them) raise :class:`Interrupted`,
    so that every ``finally`` cleans up as on Ctrl-C. Returns the handlers replaced (none
    outside the main thread, where Python cannot set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    sigs = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    return {sig: signal.signal(sig, _interrupt) for sig in sigs}


def _print_interrupt(exc: KeyboardInterrupt) -> int:
    """One line for an interrupt; returns the exit code, 128 + the signal's number."""
    from equiserve.io.atomic import MOVED_IN

    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    moved = [n for n in getattr(exc, "__notes__", []) if n.startswith(MOVED_IN)]
    state = moved[0] if moved else "the output folder was left as it was"
    console.print(f"[bold red]interrupted[/] ({signal.Signals(signum).name}): {escape(state)}",
                  highlight=False, soft_wrap=True)
    return 128 + signum


#: The step a run is at (its progress bar's text: "facilities: schools", "network: walk"),
#: named by an unexpected error.
_STEP: list[str | None] = [None]


@contextmanager
def _handled(debug: bool) -> Iterator[None]:
    """Turn errors into one line on stderr and a non-zero exit code; signals into an
    interrupt that cleans up."""
    previous = install_signal_handlers()
    _STEP[0] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)  # printed from the notes
            yield
    except EquiserveError as exc:
        if debug:
            raise
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt as exc:
        if debug:
            raise
        raise typer.Exit(_print_interrupt(exc)) from None
    except typer.Exit:
        raise
    except OSError as exc:  # a file the run reads or writes: its path and the fix
        from equiserve.io.atomic import os_error_message

        if debug:
            raise
        message = os_error_message(exc)
        if exc.filename is None and _STEP[0]:  # e.g. a driver's error: say where it was
            message = f"at step {_STEP[0]!r}: {exc.strerror or exc}"
        console.print(f"[bold red]error:[/] {escape(message)}", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        if debug:
            raise
        where = f" at step {_STEP[0]!r}" if _STEP[0] else ""
        console.print(f"[bold red]unexpected error{escape(where)}:[/] {type(exc).__name__}: "
                      f"{escape(str(exc))} (run again with --debug for the traceback)",
                      highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_out(out: Path) -> None:
    """Check ``out`` first of all, before the heavy imports and the computation: a file in
    its place, no write permission or a full disk fail at once (``write`` checks it again
    when it starts writing)."""
    check_output_dir(out)


@contextmanager
def _progress(total: int, timings: Timings | None = None) -> Iterator[Callable[[str], None]]:
    """A progress bar of ``total`` steps; each step also starts a stage of ``timings``."""
    with Progress(SpinnerColumn(), TextColumn("{task.description:<32}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=False, disable=not console.is_terminal) as prog:
        task = prog.add_task("starting", total=total)
        first = True

        def step(msg: str) -> None:
            nonlocal first
            _STEP[0] = msg
            if timings is not None:
                timings.step(msg)
            if not first:
                prog.advance(task)
            first = False
            prog.update(task, description=msg)
            if not console.is_terminal:
                console.print(f"  {escape(msg)}", highlight=False)

        yield step
        prog.update(task, completed=total, description="done")


def _run(config: Path, out: Path, offline: bool = False, tiles: str | None = None,
         tiles_crs: str | None = None, service_areas: ServiceAreas = "dissolved",
         cells: CellGeometry = "points", table_format: TableFormat = "gpkg") -> None:
    _check_out(out)
    from equiserve.config import load_config
    from equiserve.outputs import WRITE_STEPS, write
    from equiserve.runs import report_results
    from equiserve.study import Study

    cfg = load_config(config)
    basemap = _basemap(cfg, tiles, tiles_crs, offline)
    t0 = time.perf_counter()
    timings = Timings()
    with output_lock(out), _progress(_n_steps(cfg, 2, 2 + WRITE_STEPS), timings) as step:
        study = Study.load(cfg, step)
        result, equity, *areas = report_results(study, step, service_areas)
        paths = write(study, result, equity, *areas, out_dir=out, basemap=basemap,
                      progress=step, timings=timings, cells=cells, table_format=table_format)
    _print_warnings(study, result, equity, *areas)
    s = result.summary
    groups = s[s["level"].isin(["study", "group"])]
    console.print(f"[bold]{escape(cfg.name)}[/]: {study.population.total:,.0f} people in "
                  f"{len(study.population):,} cells, {len(study.layers)} layers "
                  f"({time.perf_counter() - t0:.1f} s)", highlight=False)
    table = groups.pivot_table(index="layer", columns="name", values="coverage_pct",
                               sort=False)
    console.print("coverage (% of people within standard):", highlight=False)
    console.print(table.round(1).to_string(), highlight=False)
    for reading in equity.readings.values():
        if reading:
            console.print(f"  {escape(reading)}", highlight=False, soft_wrap=True)
    _print_outputs(out, paths)


def _print_warnings(study: Study, *results: Result) -> None:
    """The warnings among the study's and the results' notes, one line each."""
    from equiserve.outputs.tables import notes_frame

    notes = notes_frame(study, results)
    for n in notes[notes["level"] == "warning"].itertuples():
        run = f" ({n.run})" if "run" in notes.columns and n.run != "both" else ""
        console.print(f"[yellow]note{escape(run)}:[/] {escape(n.subject)}: "
                      f"{escape(n.message)}", highlight=False, soft_wrap=True)


def _print_outputs(out: Path, paths: dict[str, Path]) -> None:
    console.print(f"outputs in {Path(out).expanduser().resolve()}: " + ", ".join(paths),
                  highlight=False, soft_wrap=True)


@app.command()
def report(
    config: ConfigArgument,
    out: OutOption,
    offline: OfflineOption = False,
    tiles: TilesOption = None,
    tiles_crs: TilesCrsOption = None,
    service_areas: AreasOption = "dissolved",
    cells: CellsOption = "points",
    table_format: FormatOption = "gpkg",
    debug: DebugOption = False,
) -> None:
    """Run the coverage report of a study: summary.csv/.xlsx, coverage.gpkg, report.html,
    map.html."""
    with _handled(debug):
        _run(config, out, offline, tiles, tiles_crs, service_areas, cells, table_format)


@app.command()
def demo(
    out: OutOption,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic demo generator.")] = 2017,
    scale: Annotated[int, typer.Option(min=1, help="Copies of the demo city, side by side "
                                                   "(8: a city-scale run).")] = 1,
    batch: Annotated[int | None, typer.Option(
        "--batch", min=1, help="Write this many demo cities (seeds SEED, SEED+1, ...) and a "
                               "batch.toml, and run equiserve batch on them.")] = None,
    offline: OfflineOption = False,
    tiles: TilesOption = None,
    service_areas: AreasOption = "dissolved",
    cells: CellsOption = "points",
    table_format: FormatOption = "gpkg",
    debug: DebugOption = False,
) -> None:
    """Generate the bundled synthetic demo study in OUT/inputs and run its report into OUT
    (with --batch: several demo cities, run as a batch)."""
    with _handled(debug):
        _check_out(out)
        if batch is not None and scale > 1:
            from equiserve.errors import ConfigError

            raise ConfigError("give --scale or --batch, not both: --batch N writes N demo "
                              "cities, --scale N one city tiled N times")
        with output_lock(out):
            inputs = Path(out).expanduser().resolve() / "inputs"
            if batch is not None:
                from equiserve.datasets.demo.batch import write_demo_batch

                console.print(f"generating {batch} synthetic demo cities in {inputs}",
                              highlight=False)
                _run_batch(write_demo_batch(inputs, batch, seed=seed), out, None, False,
                           offline)
                return
            from equiserve.datasets.demo.scale import write_scaled_demo_inputs

            tiled = f", tiled {scale} times" if scale > 1 else ""
            console.print(f"generating the synthetic demo study{tiled} in {inputs}",
                          highlight=False)
            config = write_scaled_demo_inputs(inputs, scale, seed=seed)
            _run(config, out, offline, tiles, service_areas=service_areas, cells=cells,
                 table_format=table_format)


@app.command()
def sites(
    config: ConfigArgument,
    layer: Annotated[str, typer.Option(help="The facility layer to add sites to.")],
    out: OutOption,
    count: Annotated[int | None, typer.Option(help="Number of new sites (all models but "
                                                   "lscp).")] = None,
    model: Annotated[str, typer.Option(help="mclp | lscp | pmedian | capacitated | "
                                            "maxmin")] = "mclp",
    candidates: Annotated[Path | None, typer.Option(help="Candidate sites (points or "
                                                         "parcels, any supported format); "
                                                         "default: the layer's gap cells.")]
    = None,
    candidates_crs: Annotated[str | None, typer.Option(help="CRS of the candidates file "
                                                            "when it has none (CSV), or "
                                                            "GCJ-02 / BD-09.")] = None,
    capacity_field: Annotated[str | None, typer.Option(help="Candidates' capacity field.")]
    = None,
    capacity: Annotated[float | None, typer.Option(help="Places of each candidate without "
                                                        "its own (capacitated model).")]
    = None,
    target: Annotated[float, typer.Option(help="Coverage share to reach (lscp).")] = 0.95,
    spacing: Annotated[float | None, typer.Option(help="Spacing (m) of generated "
                                                       "candidates.")] = None,
    lattice: Annotated[bool, typer.Option(help="Generate candidates on a regular lattice "
                                               "over land instead of at gap cells.")] = False,
    exclude: Annotated[Path | None, typer.Option(help="Polygons where no site may go "
                                                      "(water, parks...), with --lattice.")]
    = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit (s); the best "
                                                   "solution and its gap are reported.")]
    = SOLVER_TIME_LIMIT_S,
    year: Annotated[int | None, typer.Option(help="Plan against the people forecast for "
                                                  "this year of the study's [forecast] "
                                                  "(default: today's).")] = None,
    offline: OfflineOption = False,
    tiles: TilesOption = None,
    tiles_crs: TilesCrsOption = None,
    debug: DebugOption = False,
) -> None:
    """Evaluate candidate sites and choose new ones: candidates.csv, selected.gpkg,
    sites_summary.csv, sites_solution.csv, data_quality.csv, sites_map.html,
    sites_report.html."""
    with _handled(debug):
        _check_out(out)
        from equiserve.config import load_config
        from equiserve.outputs import WRITE_STEPS, write
        from equiserve.siting.candidates import candidates_from_file, candidates_lattice
        from equiserve.siting.models import get_model
        from equiserve.siting.plan import plan_sites
        from equiserve.study import Study

        cfg = load_config(config)
        basemap = _basemap(cfg, tiles, tiles_crs, offline)
        timings = Timings()
        with output_lock(out), _progress(_n_steps(cfg, 2, 2 + WRITE_STEPS),
                                           timings) as step:
            study = Study.load(cfg, step, forecast=year is not None)
            if year is not None:
                study = study.in_year(year)
            result = study.coverage(step)
            step("equity scorecard")
            equity = study.equity(result)
            cands = None
            if candidates:
                cands = candidates_from_file(study, candidates, candidates_crs,
                                             capacity_field=capacity_field)
            elif lattice:
                cands = candidates_lattice(study, spacing or CANDIDATE_SPACING_M,
                                           exclude_path=exclude)
            step(f"sites: {model}")
            plan = plan_sites(study, result, layer, model=model, count=count,
                              candidates=cands, target=target, spacing_m=spacing,
                              capacity=capacity, time_limit_s=time_limit, equity=equity)
            paths = write(study, plan, out_dir=out, prefix="sites_", basemap=basemap,
                          progress=step, timings=timings)
        _print_warnings(study, plan)
        sol = plan.solution
        status = "optimal" if sol.optimal else f"best found, gap {100 * sol.gap:.2f} %"
        share = get_model(model).objective_is_share
        fmt = (lambda v: f"{100 * v:.2f} %") if share else (lambda v: f"{v:,.1f}")
        console.print(f"{layer}: {len(plan.selected)} new site(s) by {model} from "
                      f"{len(plan.candidates):,} candidates ({plan.candidates.source}); "
                      f"{plan.objective_text} {fmt(sol.objective)} ({status}; greedy "
                      f"{fmt(sol.greedy_objective)}; solved in {sol.solve_time_s:.2f} s)",
                      highlight=False, soft_wrap=True)
        s = plan.summary[plan.summary["level"].isin(["study", "group"])]
        console.print(s[["name", "coverage_before_pct", "coverage_after_pct"]].round(1)
                      .to_string(index=False), highlight=False)
        _print_outputs(out, paths)


@app.command()
def scenario(
    config: ConfigArgument,
    plan: Annotated[Path, typer.Option(help="The scenario file (plan.toml): facilities "
                                            "added, removed, capacities, targets.")],
    out: OutOption,
    offline: OfflineOption = False,
    tiles: TilesOption = None,
    tiles_crs: TilesCrsOption = None,
    debug: DebugOption = False,
) -> None:
    """Run a study without and with a plan: scenario_summary.csv (every figure before,
    after, change), scenario_targets.csv, scenario_changes.csv, scenario.xlsx,
    scenario_report.html, scenario_map.html."""
    with _handled(debug):
        _check_out(out)
        from equiserve.config import load_config
        from equiserve.config.scenario import load_scenario
        from equiserve.outputs import WRITE_STEPS, write
        from equiserve.scenario import run_scenario
        from equiserve.study import Study

        cfg = load_config(config)
        sc = load_scenario(plan)
        basemap = _basemap(cfg, tiles, tiles_crs, offline)
        t0 = time.perf_counter()
        timings = Timings()
        with output_lock(out), _progress(_n_steps(cfg, 3, 3 + WRITE_STEPS),
                                           timings) as step:
            study = Study.load(cfg, step)
            res = run_scenario(study, sc, step)
            paths = write(study, res, out_dir=out, prefix="scenario_", basemap=basemap,
                          progress=step, timings=timings)
        _print_warnings(study, res)
        console.print(f"[bold]{escape(sc.name)}[/] on {escape(cfg.name)} "
                      f"({time.perf_counter() - t0:.1f} s)", highlight=False)
        counts = res.changes.groupby(["action", "status"]).size()
        console.print("changes: " + (", ".join(f"{a} {s}: {n}" for (a, s), n in counts.items())
                                     or "none"), highlight=False, soft_wrap=True)
        for t in res.targets.itertuples():
            console.print(f"  target {escape(str(t.label))}: {t.targeted:g} {escape(t.unit)} "
                          f"-> {escape(t.status)}", highlight=False, soft_wrap=True)
        comp = res.comparison
        cov = comp[(comp["table"] == "summary") & (comp["figure"] == "coverage_pct")
                   & comp["level"].isin(["study", "group"])
                   & comp["layer"].isin(res.changed_layers)]
        if len(cov):
            console.print("coverage (% of people within standard), baseline -> plan:",
                          highlight=False)
            for r in cov.itertuples():
                console.print(f"  {r.layer:<18} {r.name:<10} {r.baseline:6.1f} -> "
                              f"{r.plan:6.1f} ({r.change:+.1f})", highlight=False)
        _print_outputs(out, paths)


@app.command()
def forecast(
    config: ConfigArgument,
    out: OutOption,
    plan: Annotated[Path | None, typer.Option(help="A scenario file (plan.toml) whose "
                                                   "changes count from their year on.")]
    = None,
    offline: OfflineOption = False,
    tiles: TilesOption = None,
    tiles_crs: TilesCrsOption = None,
    debug: DebugOption = False,
) -> None:
    """Forecast seat demand in the target years of the study's [forecast]: forecast.csv
    (people counted, places in reach, needed, shortfall, coverage per layer, year and
    region), forecast_population.csv, forecast.xlsx, forecast_report.html,
    forecast_map.html."""
    with _handled(debug):
        _check_out(out)
        from equiserve.config import load_config
        from equiserve.config.scenario import load_scenario
        from equiserve.errors import ConfigError
        from equiserve.outputs import WRITE_STEPS, write
        from equiserve.scenario.forecast import run_forecast
        from equiserve.study import Study

        cfg = load_config(config)
        if cfg.forecast is None:
            raise ConfigError(f"{Path(config).name} has no [forecast] table; add one, e.g. "
                              "[forecast] base_year = 2020, years = [2025, 2030], growth = "
                              "{ west = 0.03 }")
        sc = load_scenario(plan) if plan is not None else None
        basemap = _basemap(cfg, tiles, tiles_crs, offline)
        t0 = time.perf_counter()
        timings = Timings()
        n_years = len(cfg.forecast.all_years) * (2 if sc is not None else 1)
        with output_lock(out), _progress(_n_steps(cfg, 0, 2 + n_years + WRITE_STEPS),
                                           timings) as step:
            study = Study.load(cfg, step, forecast=True)
            res = run_forecast(study, sc, step)
            paths = write(study, res, out_dir=out, prefix="forecast_", basemap=basemap,
                          progress=step, timings=timings)
        _print_warnings(study, res)
        console.print(f"[bold]{escape(cfg.name)}[/]: {escape(res.heading)}"
                      + (f" with {escape(sc.name)}" if sc is not None else "")
                      + f" ({time.perf_counter() - t0:.1f} s)", highlight=False)
        t = res.table
        shown = t[(t["level"] == "group") & t["layer"].isin(res.layers_with_need)]
        if len(shown):
            console.print("places short of need (places; below 0: to spare), by year:",
                          highlight=False)
            wide = shown.pivot_table(index=["layer", "facilities", "name"], columns="year",
                                     values="shortfall", sort=False)
            console.print(wide.round(0).to_string(), highlight=False)
        _print_outputs(out, paths)


def _run_batch(batch_file: Path, out: Path, scheduler: str | None, resume: bool,
               offline: bool) -> None:
    """Run a batch and write its province view; exit with the number of failed cities."""
    _check_out(out)
    from equiserve.batch import load_batch, run_batch
    from equiserve.outputs import write

    cfg = load_batch(batch_file)
    t0 = time.perf_counter()
    with output_lock(out), Progress(
            SpinnerColumn(), TextColumn("cities {task.completed}/{task.total}"), BarColumn(),
            TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
            disable=not console.is_terminal) as prog:
        task = prog.add_task("starting", total=None)

        def step(done: int, total: int, running: list[str]) -> None:
            now = ", ".join(running[:4]) + (" …" if len(running) > 4 else "")
            prog.update(task, completed=done, total=total,
                        description=f"running: {now}" if running else "")
            if not console.is_terminal:
                console.print(f"  cities {done}/{total}" + (f"; running: {escape(now)}"
                                                            if running else ""),
                              highlight=False)

        res = run_batch(cfg, out, scheduler=scheduler, resume=resume, progress=step)
        prog.update(task, description="writing the province view")
        paths = write(res.province, res, out_dir=out, prefix="batch_",
                      basemap=None if offline else "config")
    for o in res.failed:
        console.print(f"[red]failed:[/] {escape(o.name)}: {escape(o.error)}", highlight=False,
                      soft_wrap=True)
    skipped = sum(o.status == "skipped" for o in res.outcomes)
    console.print(f"[bold]{escape(cfg.name)}[/]: {len(res.outcomes)} cities, "
                  f"{len(res.ok) - skipped} run, {skipped} finished before, "
                  f"{len(res.failed)} failed ({time.perf_counter() - t0:.1f} s)",
                  highlight=False)
    _print_outputs(out, paths)
    if res.failed:
        raise typer.Exit(min(len(res.failed), 100))


@app.command()
def batch(
    batch_file: Annotated[Path, typer.Argument(help="The batch file (batch.toml).")],
    out: OutOption,
    scheduler: Annotated[str | None, typer.Option(
        help="A Dask scheduler's address (tcp://host:8786); default: [batch] scheduler, "
             "else a LocalCluster on this machine.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip cities whose folder holds a finished "
                                              "run of the same inputs.")] = False,
    offline: OfflineOption = False,
    debug: DebugOption = False,
) -> None:
    """Run many studies on Dask, a city per task: OUT/<city>/ (the files of equiserve
    report), batch_status.csv, batch_summary.csv, batch_scorecard.csv, batch_equity.csv,
    batch.xlsx, batch_report.html, batch_map.html. The exit code is the number of cities
    that failed (at most 100)."""
    with _handled(debug):
        _run_batch(batch_file, out, scheduler, resume, offline)


def main() -> None:  # pragma: no cover - console entry point
    """Entry point for ``python -m equiserve``."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
