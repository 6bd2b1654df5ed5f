"""Run a forecast: every forecast year with today's facilities and, given a plan, with the
facilities the plan has opened by that year (issue 14).

    Study.load(cfg, forecast=True) ──► study.in_year(Y) ──► year_figures(.., "today")
        │ plan.until(Y): the changes due by Y      ┌────────────────────────────┐
        ▼ apply_scenario (once per set of changes) │ -> ForecastResult          │
    plan study ──────────► .in_year(Y) ─────────► year_figures(.., "plan") ───┘
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from equiserve.config.scenario import ScenarioConfig, load_scenario
from equiserve.inputs.gazetteer import Gazetteer
from equiserve.notes import Notes
from equiserve.results.forecast import PLAN, TODAY, ForecastResult, population_table, year_figures
from equiserve.scenario.apply import apply_scenario

if TYPE_CHECKING:
    from equiserve.study import Progress, Study


def change_years(plan: ScenarioConfig, changes: pd.DataFrame) -> list[int | None]:
    """The year each row of a changes table (:func:`apply_scenario`) takes effect: its
    entry's ``year`` (None: from the start)."""
    years: dict[tuple[str, str, str], int | None] = {}
    for a in plan.add:
        years[("add", a.layer, a.name)] = a.year
    for action, specs in (("remove", plan.remove), ("capacity", plan.capacity)):
        for s in specs:
            years[(action, s.layer, str(s.id if s.id is not None else s.name))] = s.year
    out = []
    for r in changes.itertuples():
        by_id = (r.action, r.layer, str(r.facility_id))
        out.append(years[by_id] if by_id in years else years.get((r.action, r.layer,
                                                                   str(r.name))))
    return out


def _note_areas(study: Study, notes: Notes) -> None:
    """A development area's cells that no street reaches (a new town before its streets):
    its residents count as unreachable on the networks."""
    for area in study.forecast_inputs.areas if study.forecast_inputs is not None else ():
        for mode, snap in study.cell_snaps.items():
            off = ~snap.ok[area.cells]
            if off.any():
                notes.warn(f"forecast.area[{area.config.index}]", f"{int(off.sum()):,} of the "
                           f"{len(area.cells):,} cells of development area "
                           f"{area.config.name!r} are not within reach of a {mode} street "
                           f"({100 * off.mean():.1f} % of its residents count as unable to "
                           "reach any facility of the network layers until streets are built)")


def run_forecast(study: Study, plan: ScenarioConfig | str | os.PathLike[str] | None = None,
                 progress: Progress | None = None) -> ForecastResult:
    """The forecast of a study loaded with ``forecast=True``, with a plan's facilities too.

    Parameters
    ----------
    study : Study
        As loaded (today's people), with ``[forecast]``.
    plan : ScenarioConfig or path of a plan TOML, optional
        Its ``[[add]]``, ``[[remove]]`` and ``[[capacity]]`` entries count from their
        ``year`` on (without one: from the base year).
    """
    step = progress or (lambda _msg: None)
    notes = Notes()
    _note_areas(study, notes)
    sc = plan if plan is None or isinstance(plan, ScenarioConfig) else load_scenario(plan)
    years, studies = [], []
    plans: dict[tuple[int, int, int], Study] = {}
    changes = None
    gazetteer = None
    if sc is not None:
        step("applying the plan")
        if any(not a.has_coordinates for a in sc.add):
            assert sc.gazetteer is not None
            gazetteer = Gazetteer.from_config(sc.gazetteer, notes)
        full, changes = apply_scenario(study, sc, gazetteer)
        plans[(len(sc.add), len(sc.remove), len(sc.capacity))] = full  # all changes due
        notes.extend(n for n in full.notes if n not in study.notes)
        changes.insert(4, "year", pd.array(change_years(sc, changes), dtype="Int64"))
        early = [y for y in sc.years if y < study.forecast_years[0]]
        if early:
            notes.warn("scenario", f"changes due in {', '.join(map(str, early))}, before the "
                       f"base year {study.forecast_years[0]}, count from the base year; if "
                       "the facility is already in the study's data it is found there "
                       "(matched by name or site) and not added twice")
        late = [y for y in sc.years if y > study.forecast_years[-1]]
        if late:
            notes.warn("scenario", f"changes due in {', '.join(map(str, late))} come after "
                       f"the last forecast year {study.forecast_years[-1]} and count in no "
                       "forecast year")
    for year in study.forecast_years:
        step(f"forecast: {year}")
        now = study.in_year(year)
        studies.append(now)
        years.append(year_figures(now, TODAY))
        if sc is not None:
            due = sc.until(year)
            key = (len(due.add), len(due.remove), len(due.capacity))  # years only add
            if key not in plans:
                plans[key] = apply_scenario(study, due, gazetteer)[0]
            years.append(year_figures(plans[key].in_year(year), PLAN))
    notes.extend(years[0].coverage.notes)
    return ForecastResult(study, years, population_table(study, studies),
                          sc.name if sc is not None else None, changes, notes)
