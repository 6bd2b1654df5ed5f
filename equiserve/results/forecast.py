"""Seat demand in the target years (issue 14): people counted, places in reach, places
needed and the shortfall per layer, year and region, with today's facilities and with a
plan's.

    year_figures(study_in_year, facilities) -> YearFigures   (one year, one set of facilities)
    ForecastResult(study, years, population)
        .table        forecast.csv: layer x facilities x year x level x name
        .population   forecast_population.csv: people per region and year, and how
        tables()      forecast.csv, forecast_population.csv, forecast.xlsx
        overlays()    regions, the places short per block in the last year, facilities
        sections()    the forecast's assumptions and population, a chart per layer

Figures, per level (study, group, region):

- ``people_counted``: the people a layer serves (its ``serves`` subgroup, else everyone);
- ``places_in_reach``: the places within the standard, each facility's shared among all
  who can reach it (2SFCA, as the scorecard's catchment access) and summed over the level's
  people, so that the levels add up to the places anyone can reach;
- ``places_needed_norm`` = ``norm_per_1000`` x people counted / 1,000, and
  ``places_needed_enrolment`` = people counted x ``[forecast] enrolment`` rate;
  ``places_needed`` the larger of those given;
- ``shortfall`` = places needed - places in reach (below 0: places to spare), and
  ``places_to_add`` the sum of the regions' shortfalls above 0 (a group's spare places do
  not seat another region's children);
- ``places_unmet``: the places needed that no facility within the standard can give, the
  needs given places nearest first until places run out (as the scorecard's allocation),
  and ``places_spare`` the places left empty at the level's facilities;
- ``coverage_pct``: the share of the people counted within the standard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.analysis.blocks import blocks
from equiserve.analysis.capacity import allocate_nearest_first
from equiserve.notes import Notes
from equiserve.results.base import OutputTable, about_study
from equiserve.results.coverage import CoverageResult, block_boxes, coverage
from equiserve.results.equity import catchment_score
from equiserve.results.formats import fmt_people, people_label
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay
from equiserve.results.sections import (
    STUDY,
    Column,
    Figure,
    Section,
    TrendChart,
    TrendLine,
    group_colour,
    para,
    section,
    table,
)

if TYPE_CHECKING:
    from equiserve.analysis.levels import Level
    from equiserve.study import Study

#: The columns of forecast.csv, in order.
FORECAST_COLUMNS = [
    "layer", "facilities", "year", "level", "name", "group", "people_counted_as",
    "population", "people_counted", "covered", "coverage_pct", "facility_count", "places",
    "places_in_reach", "places_needed_norm", "places_needed_enrolment", "places_needed",
    "shortfall", "places_to_add", "places_unmet", "places_spare", "standard",
    "population_unit", "places_unit", "coverage_unit"]
#: The workbook of a forecast run.
WORKBOOK = "forecast.xlsx"
#: The facilities a figure counts: the study's own, or the plan's by that year.
TODAY, PLAN = "today", "plan"


@dataclass
class YearFigures:
    """One year with one set of facilities: the rows of forecast.csv and, per layer with
    places needed, each cell's people counted, places in reach, needed and seated within
    the standard, and each facility's places left empty (for the shortfall map)."""

    year: int
    facilities: str
    rows: pd.DataFrame
    cells: dict[str, dict[str, np.ndarray]]
    spare: dict[str, np.ndarray]
    coverage: CoverageResult


def year_figures(study: Study, facilities: str) -> YearFigures:
    """The forecast figures of ``study`` (a study in a forecast year, :meth:`Study.in_year`,
    with today's or a plan's facilities) for every layer and level."""
    assert study.year is not None and study.config.forecast is not None
    cov = coverage(study)
    pop = study.population
    levels = study.levels()
    rows: list[dict] = []
    cells: dict[str, dict[str, np.ndarray]] = {}
    spare: dict[str, np.ndarray] = {}
    for name, lc in cov.layers.items():
        layer = study.layers[name]
        w = lc.weights
        fac_lv = {lv.level: lv.labels for lv in study.facility_levels(name)}
        need = _places(study, name, w) if layer.has_capacity else None
        if need is not None and "needed" in need.cells:  # a norm or an enrolment rate
            cells[name], spare[name] = need.cells, need.spare
        for lv in levels:
            people, counted, covd = lv.sum(pop.population), lv.sum(w), lv.sum(w * lc.covered)
            fac = fac_lv[lv.level]
            count = np.bincount(fac[fac >= 0], minlength=len(lv))
            extra = need.by_level(lv, fac) if need is not None else {}
            for k in range(len(lv)):
                rows.append({
                    "layer": name, "facilities": facilities, "year": study.year,
                    "level": lv.level, "name": lv.names[k], "group": lv.groups[k],
                    "people_counted_as": layer.serves or "total", "population": people[k],
                    "people_counted": counted[k], "covered": covd[k],
                    "coverage_pct": 100 * covd[k] / counted[k] if counted[k] > 0 else np.nan,
                    "facility_count": int(count[k]),
                    **{key: v[k] for key, v in extra.items()},
                    "standard": layer.standard.describe(), "population_unit": "people",
                    "places_unit": "places" if layer.has_capacity else None,
                    "coverage_unit": "%"})
    frame = pd.DataFrame(rows)
    frame["places_to_add"] = places_to_add(frame)
    return YearFigures(study.year, facilities, frame.reindex(columns=FORECAST_COLUMNS),
                       cells, spare, cov)


@dataclass
class _Places:
    """A capacity layer's places in one year: per cell (``cells``: people counted, places
    in reach, needed, seated) and per facility (``capacity``, ``spare`` places)."""

    cells: dict[str, np.ndarray]
    capacity: np.ndarray
    spare: np.ndarray
    needs: dict[str, np.ndarray | None]

    def by_level(self, lv: Level, fac: np.ndarray) -> dict[str, np.ndarray]:
        """The level's sums: places (at its facilities), in reach, needed, short, unmet,
        spare."""
        on = fac >= 0
        out = {"places": np.bincount(fac[on], weights=self.capacity[on], minlength=len(lv)),
               "places_in_reach": lv.sum(self.cells["in_reach"])}
        nan = np.full(len(lv), np.nan)
        for key, per_cell in self.needs.items():
            out[key] = lv.sum(per_cell) if per_cell is not None else nan
        if "needed" in self.cells:
            needed = lv.sum(self.cells["needed"])
            out.update({
                "places_needed": needed, "shortfall": needed - out["places_in_reach"],
                "places_unmet": needed - lv.sum(self.cells["seated"]),
                "places_spare": np.bincount(fac[on], weights=self.spare[on],
                                            minlength=len(lv))})
        return out


def _places(study: Study, name: str, counted: np.ndarray) -> _Places:
    """Places in reach (2SFCA), needed (norm, enrolment) and seated within the standard
    (nearest first) of capacity layer ``name``."""
    layer, lcfg = study.layers[name], study.config.layers[name]
    assert study.config.forecast is not None
    capacity = layer.places
    cells = {"counted": counted, "in_reach": counted * catchment_score(study, name, counted)}
    rate = study.config.forecast.enrolment.get(name)
    needs = {"places_needed_norm": None if lcfg.norm_per_1000 is None
             else lcfg.norm_per_1000 * counted / 1000.0,
             "places_needed_enrolment": None if rate is None else rate * counted}
    given = [v for v in needs.values() if v is not None]
    spare = np.full(len(capacity), np.nan)
    if given:
        cells["needed"] = np.maximum.reduce(given)
        alloc = allocate_nearest_first(study.od(name), cells["needed"], capacity,
                                       layer.standard.limit)
        cells["seated"] = alloc.served
        spare = capacity - alloc.used
    return _Places(cells, capacity, spare, needs)


def places_to_add(rows: pd.DataFrame) -> pd.Series:
    """Per row (layer x level x name), the sum of its regions' shortfalls above 0.

    >>> rows = pd.DataFrame({"layer": "s", "level": ["study", "group", "region", "region"],
    ...                      "name": ["study", "east", "A", "B"], "group": [None, "east",
    ...                      "east", "east"], "shortfall": [-5.0, -5.0, 10.0, -15.0]})
    >>> places_to_add(rows).tolist()
    [10.0, 10.0, 10.0, 0.0]
    """
    if "shortfall" not in rows:
        return pd.Series(np.nan, index=rows.index)
    reg = rows[rows["level"] == "region"]
    short = reg["shortfall"].clip(lower=0)
    by = {"region": short.groupby([reg["layer"], reg["name"]]).sum(min_count=1),
          "group": short.groupby([reg["layer"], reg["group"]]).sum(min_count=1),
          "study": short.groupby([reg["layer"], reg["level"].map(lambda _: "study")])
          .sum(min_count=1)}
    return pd.Series([by[lv].get((layer, nm), np.nan) for layer, lv, nm in
                      zip(rows["layer"], rows["level"], rows["name"], strict=True)],
                     index=rows.index, dtype=float)


def population_table(base: Study, studies: list[Study]) -> pd.DataFrame:
    """People per level and year (``base`` as loaded, one study of it per forecast year),
    with the part grown from today's people, the development residents and each
    subgroup's count and share."""
    rows = []
    totals = base.forecast_totals()
    assert totals is not None
    for st in studies:
        pop = st.population
        assert st.year is not None
        dev = base.development(st.year)
        t = totals[totals["year"] == st.year].set_index("region")
        for lv in st.levels():
            people, development = lv.sum(pop.population), lv.sum(dev)
            subs = {k: lv.sum(v) for k, v in pop.subgroups.items()}
            for k in range(len(lv)):
                row = {"year": st.year, "level": lv.level, "name": lv.names[k],
                       "group": lv.groups[k], "population": people[k],
                       "grown": people[k] - development[k], "development": development[k]}
                if lv.level == "region":
                    row["rate"] = t.at[lv.names[k], "rate"]
                    row["rate_from"] = t.at[lv.names[k], "rate_from"]
                for s, v in subs.items():
                    row[s] = v[k]
                    row[f"{s}_share"] = v[k] / people[k] if people[k] > 0 else np.nan
                rows.append(row)
    return pd.DataFrame(rows)


def _given(table: Path | Sequence[object]) -> str:
    """Where a ``[forecast]`` table came from: its file's name, or its rows in study.toml."""
    return table.name if isinstance(table, Path) else f"{len(table)} rows in study.toml"


@dataclass
class ForecastResult:
    """The forecast of ``study`` (as loaded, today's people) in every year: ``years`` the
    figures of each year and set of facilities (today's, and the plan's when there is
    one), ``population`` people per level and year, ``plan_name`` and ``plan_changes``
    the plan's name and its changes with their years (None without a plan)."""

    study: Study
    years: list[YearFigures]
    population: pd.DataFrame
    plan_name: str | None = None
    plan_changes: pd.DataFrame | None = None
    notes: Notes = field(default_factory=Notes)

    @property
    def heading(self) -> str:
        ys = self.study.forecast_years
        what = "seat-demand forecast" if self.layers_with_need else "forecast"
        return f"{what} {ys[0]}–{ys[-1]}"

    @property
    def table(self) -> pd.DataFrame:
        """Every figure: layer x facilities x year x level x name (forecast.csv)."""
        return pd.concat([y.rows for y in self.years], ignore_index=True)

    @property
    def last(self) -> YearFigures:
        """The last year, with the plan's facilities when there is a plan."""
        return self.years[-1]

    # -- tables

    def tables(self) -> list[OutputTable]:
        out = [OutputTable("forecast", self.table, csv="forecast.csv", workbook=WORKBOOK),
               OutputTable("population", self.population, csv="forecast_population.csv",
                           workbook=WORKBOOK)]
        if self.plan_changes is not None:
            out.append(OutputTable("plan_changes", self.plan_changes,
                                   csv="forecast_plan_changes.csv", workbook=WORKBOOK))
        return out

    def about(self) -> dict[str, str]:
        about = about_study(self.study)
        about.update(self.assumptions())
        about["units"] = ("population, people_counted, covered: people; places, "
                          "places_in_reach, places_needed*, shortfall: places (seats, beds; "
                          "shortfall below 0: places to spare); coverage_pct: percent of the "
                          "people counted; rate: annual growth (fraction)")
        return about

    def assumptions(self) -> dict[str, str]:
        """What the forecast assumes, one line each (the report and the About sheet)."""
        study = self.study
        f = study.config.forecast
        assert f is not None
        out = {"base year": f"{f.base_year} (today's population)",
               "target years": ", ".join(map(str, f.years))}
        if f.note:
            out["stated"] = f.note
        totals = study.forecast_totals()
        assert totals is not None
        rates = totals.drop_duplicates("region")
        given = "; ".join(f"{key} {100 * rate:+.2f} % a year" for key, rate in f.growth.items())
        still = rates.loc[rates["rate_from"] == "none", "region"].tolist()
        out["growth"] = (given or "none") + (f" (0 % in {', '.join(map(str, still))})"
                                             if still and given else "")
        if f.totals is not None:
            out["projected totals"] = _given(f.totals)
        if f.shares is not None:
            out["subgroup shares"] = (_given(f.shares)
                                      + "; elsewhere today's share of each region")
        for area in f.area:
            out[f"development area {area.name}"] = ", ".join(
                f"{y}: {v:,.0f} residents" for y, v in sorted(area.residents.items())) + \
                " (spread evenly over its land)"
        for name, rate in f.enrolment.items():
            out[f"enrolment {name}"] = f"{rate:g} places per person counted"
        for name, lcfg in study.config.layers.items():
            if lcfg.norm_per_1000 is not None:
                who = lcfg.serves.replace("_", " ") if lcfg.serves else "people"
                out[f"norm {name}"] = f"{lcfg.norm_per_1000:g} places per 1,000 {who}"
        if self.plan_name:
            out["plan"] = (f"{self.plan_name}: facilities count from their year on (no year: "
                           "from the base year)")
        return out

    # -- map

    def shortfall_blocks(self, layer: str) -> gpd.GeoDataFrame:
        """Per block in the last year: ``unmet`` places needed that no facility within the
        standard gives (nearest first), ``spare`` places left empty at its facilities,
        ``short`` = unmet - spare (below 0: places to spare), with the people counted and
        the places needed (all places but ``counted``: people). The blocks add up to
        places needed - places."""
        last = self.last
        cells = last.cells[layer]
        pop = self.study.population
        fac = last.coverage.study.layers[layer].facilities.geometry.values
        fx, fy = shapely.get_x(shapely.centroid(fac)), shapely.get_y(shapely.centroid(fac))
        keep = cells["needed"] > 0
        spare = last.spare[layer]
        nf = len(fx)
        zeros = np.zeros(nf)
        b = blocks(np.concatenate([pop.x[keep], fx]), np.concatenate([pop.y[keep], fy]),
                   last.coverage.block_m, {
                       "counted": np.concatenate([cells["counted"][keep], zeros]),
                       "needed": np.concatenate([cells["needed"][keep], zeros]),
                       "unmet": np.concatenate([(cells["needed"] - cells["seated"])[keep],
                                                zeros]),
                       "spare": np.concatenate([np.zeros(int(keep.sum())), spare])})
        return gpd.GeoDataFrame({
            "counted": b["counted"], "needed": b["needed"], "unmet": b["unmet"],
            "spare": b["spare"], "short": b["unmet"] - b["spare"]},
            geometry=block_boxes(b, last.coverage.block_m), crs=self.study.crs)

    def area_overlays(self) -> list[Overlay]:
        """The development areas' land, coloured by the group of their region."""
        inputs = self.study.forecast_inputs
        if inputs is None or not inputs.areas:
            return []
        reg = self.study.regions
        frame = gpd.GeoDataFrame({
            "name": [a.config.name for a in inputs.areas],
            "residents": ["; ".join(f"{y}: {v:,.0f}" for y, v in sorted(
                a.config.residents.items())) for a in inputs.areas]},
            geometry=[a.shape for a in inputs.areas], crs=self.study.crs)
        groups = [str(reg.groups[int(np.bincount(a.region).argmax())]) for a in inputs.areas]
        return [Overlay("Development areas", frame, Fill("group", values=np.array(groups)),
                        (("name", "Development area"), ("residents", "New residents by year "
                                                                     "(people)")),
                        Depth.REGIONS, LegendEntry("Development areas ([[forecast.area]])",
                                                   "new residents spread over its land"))]

    def overlays(self) -> list[Overlay]:
        last = self.last
        cov = last.coverage
        block_m = cov.block_m
        what = "the plan's" if last.facilities == PLAN else "today's"
        legend = LegendEntry(f"Places short per {block_m / 1000:g} km block, {last.year}",
                             note=f"Places needed that no facility within the standard can "
                                  f"give (red; nearest first, {what} facilities), or places "
                                  "left empty at the block's facilities (blue)")
        out = [cov.regions_overlay(), *self.area_overlays()]
        for i, name in enumerate(last.cells):
            b = self.shortfall_blocks(name)
            if not len(b):
                continue
            who = people_label(self.study.layers[name].serves)
            frame = gpd.GeoDataFrame({
                "layer": name, **{c: [f"{v:,.0f}" for v in b[c]]
                                  for c in ("short", "unmet", "spare", "needed", "counted")},
            }, geometry=b.geometry.values, crs=b.crs)
            out.append(Overlay(
                f"Places short: {name}, {last.year}", frame,
                Fill("shortfall", values=b["short"].to_numpy()),
                (("layer", "Layer"), ("short", "Places short (< 0: to spare) (places)"),
                 ("unmet", "Needed, none within the standard (places)"),
                 ("spare", "Left empty at its facilities (places)"),
                 ("needed", "Places needed (places)"),
                 ("counted", f"{who.capitalize()} (people)")),
                Depth.BLOCKS, legend, show=i == 0, grid=block_m))
        out.extend(cov.facility_overlays(list(last.cells) or None))
        return out

    # -- report

    def _figures(self, layer: str) -> pd.DataFrame:
        t = self.table
        return t[(t["layer"] == layer) & t["level"].isin(["study", "group"])]

    @property
    def variants(self) -> list[str]:
        """The sets of facilities figured: today's, and the plan's when there is one."""
        return [TODAY, PLAN] if self.plan_name is not None else [TODAY]

    def layer_section(self, name: str) -> Section:
        """A layer's places needed and in reach per group and year (chart and table)."""
        t = self._figures(name)
        variants = self.variants
        shown = t[t["facilities"] == variants[-1]]
        lines = []
        for (level, nm), g in shown.groupby(["level", "name"], sort=False):
            colour = STUDY if level == "study" else group_colour(str(nm))
            years = tuple(float(y) for y in g["year"])
            lines.append(TrendLine(f"{nm}: needed", colour, years,
                                   tuple(g["places_needed"].astype(float))))
            lines.append(TrendLine(f"{nm}: in reach", colour, years,
                                   tuple(g["places_in_reach"].astype(float)), dashed=True))
        figures = ("places_in_reach", "shortfall", "places_unmet")
        by = {v: t[t["facilities"] == v].set_index(["level", "name", "year"]) for v in variants}
        rows = [{"level": level, "name": nm, "year": year,
                 "people_counted": r["people_counted"], "places_needed": r["places_needed"],
                 **{f"{f}_{v}": by[v].at[(level, nm, year), f] for v in variants
                    for f in figures}}
                for (level, nm, year), r in by[TODAY].sort_index(
                    level=["name", "year"], sort_remaining=False).iterrows()]
        rows.sort(key=lambda r: (r["level"] != "study", r["level"], r["name"], r["year"]))
        layer = self.study.layers[name]
        who = people_label(layer.serves)
        label = {TODAY: "today's", PLAN: "with the plan"}
        columns = [Column("level", "Level"), Column("name", "Name"), Column("year", "Year"),
                   Column("people_counted", f"{who.capitalize()} (people)", "people"),
                   Column("places_needed", "Places needed (places)", "people")]
        for v in variants:
            columns += [Column(f"places_in_reach_{v}", f"In reach, {label[v]} (places)",
                               "people"),
                        Column(f"shortfall_{v}", f"Short, {label[v]} (places; < 0 spare)",
                               "people", low_above=0.5),
                        Column(f"places_unmet_{v}", f"None within the standard, {label[v]} "
                               "(places)", "people", low_above=0.5)]
        return section(
            f"{name}: places needed and in reach", Figure(
                TrendChart(tuple(lines), "places", title=f"{name}: places by year"),
                "Places needed (solid) and places in reach (dashed) per group and year, "
                + ("with the plan's facilities." if variants[-1] == PLAN
                   else "with today's facilities.")),
            table(columns, rows), para(
                "In reach: places within the standard, each facility's shared among all who "
                "can reach it (2SFCA). Short = places needed − places in reach (net over the "
                "level; below 0: to spare). None within the standard: places needed that no "
                "facility within the standard can give once nearer needs are seated (nearest "
                "first), where new places must be built near the people. forecast.csv also "
                "gives places_to_add (the sum of the regions' shortfalls) and places_spare. "
                "Coverage by year is below.", style="meta"),
            level=3, aside=f"({layer.standard.describe()}; people counted: {who})")

    def coverage_section(self) -> Section:
        """Coverage of every layer by year (today's facilities and the plan's)."""
        t = self.table
        t = t[t["level"].isin(["study", "group"])]
        wide = t.pivot_table(index=["layer", "level", "name"], columns=["facilities", "year"],
                             values="coverage_pct", sort=False)
        years = list(self.study.forecast_years)
        variants = [v for v in (TODAY, PLAN) if v in set(t["facilities"])]
        rows = [{"layer": layer, "level": level, "name": nm,
                 **{f"{v}_{y}": r.get((v, y)) for v in variants for y in years}}
                for (layer, level, nm), r in wide.iterrows()]
        columns = [Column("layer", "Layer"), Column("level", "Level"), Column("name", "Name")]
        columns += [Column(f"{v}_{y}", f"{y}, {'today' if v == TODAY else 'plan'} (%)",
                           "pct", low_below=50.0) for v in variants for y in years]
        return section("Coverage by year", table(columns, rows), para(
            "Share of the people each layer counts within its standard, with today's "
            "facilities and, with a plan, the facilities it has opened by each year.",
            style="meta"), level=3)

    def overview_section(self) -> Section:
        assumptions = [{"key": k, "value": v} for k, v in self.assumptions().items()]
        p = self.population
        shown = p[p["level"].isin(["study", "group"])].sort_values(
            ["level", "name", "year"], key=lambda c: c.map({"study": 0, "group": 1})
            if c.name == "level" else c, kind="stable")
        subs = list(self.study.population.subgroups)
        columns = [Column("level", "Level"), Column("name", "Name"), Column("year", "Year"),
                   Column("population", "Population (people)", "people"),
                   Column("development", "Of whom in development areas (people)", "people")]
        for s in subs:
            columns.append(Column(s, f"{s.replace('_', ' ')} (people)", "people"))
            columns.append(Column(f"{s}_share", f"{s.replace('_', ' ')} (% of the "
                                  "population)", "pct"))
        rows = [{**r, **{f"{s}_share": 100 * r[f"{s}_share"] for s in subs}}
                for r in shown.to_dict("records")]
        total = p[p["level"] == "study"]
        first, last = total.iloc[0], total.iloc[-1]
        return section(
            "Forecast: seat demand in the target years",
            para(f"Population {fmt_people(first['population'])} in {first['year']} → "
                 f"{fmt_people(last['population'])} in {last['year']} (people). Each "
                 "region's people are grown by its rate (or set to its projected total) where "
                 "they live today, subgroups set to their shares, and development residents "
                 "spread evenly over their areas' land; the places needed follow the norm "
                 "and enrolment rates, and places in reach are shared among everyone who "
                 "can reach them (2SFCA). Tables: forecast.csv (every figure), "
                 "forecast_population.csv, forecast.xlsx."),
            section("Assumptions", table([Column("key", "Assumption"),
                                          Column("value", "Value")], assumptions,
                                         class_key=None, header=False), level=3),
            section("Population by year", table(columns, rows), level=3),
            *[self.layer_section(n) for n in self.layers_with_need],
            self.coverage_section(), anchor="forecast")

    @property
    def layers_with_need(self) -> list[str]:
        """The layers with places needed (a capacity and a norm or enrolment rate)."""
        return list(self.last.cells)

    def sections(self) -> list[Section]:
        return [self.overview_section()]
