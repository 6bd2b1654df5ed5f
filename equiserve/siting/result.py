"""The result of choosing sites: gains per candidate, the chosen sites, coverage before
and after, and how they are drawn.

    tables()    candidates.csv, sites_summary.csv, sites_solution.csv, selected.gpkg
    overlays()  the layer's gaps, access and facilities, candidates (sized by people
                gained) and the chosen sites (stars, popups with their gains)
    sections()  the coverage report and its scorecard, then the new sites
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from equiserve.notes import Notes
from equiserve.results.base import OutputTable
from equiserve.results.formats import fmt_num, fmt_pct
from equiserve.results.overlays import Depth, LegendEntry, Overlay, Symbol
from equiserve.results.sections import (
    Column,
    Figure,
    Section,
    before_after_chart,
    para,
    section,
    table,
)
from equiserve.settings import MAX_SHOWN_CANDIDATES
from equiserve.siting.models import get_model

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.results.equity import EquityResult
    from equiserve.siting.candidates import Candidates
    from equiserve.siting.models import SitingResult
    from equiserve.study import Study

SITES_GPKG = "selected.gpkg"


@dataclass
class SitesResult:
    """New sites for ``layer`` chosen by ``model`` (see :func:`~.plan.plan_sites`)."""

    study: Study
    coverage: CoverageResult
    equity: EquityResult | None
    layer: str
    model: str
    candidates: Candidates
    gains: pd.DataFrame
    solution: SitingResult
    selected: gpd.GeoDataFrame
    summary: pd.DataFrame
    covered_after: np.ndarray  # per cell: within the standard once the chosen sites exist
    candidate_notes: Notes = field(default_factory=Notes)

    @property
    def notes(self) -> Notes:
        """The notes of the coverage (and scorecard) the sites build on, and of reading
        the candidates."""
        equity = self.equity.notes if self.equity is not None else Notes()
        return Notes([*self.coverage.notes, *equity, *self.candidate_notes])

    @property
    def heading(self) -> str:
        year = self.study.year
        return f"new {self.layer} sites ({self.model})" + (
            f" for the people forecast in {year}" if year is not None else "")

    @property
    def objective_text(self) -> str:
        """What the model's objective counts, with its unit."""
        return get_model(self.model).objective_text

    def solution_frame(self) -> pd.DataFrame:
        """One row describing the solved model: objective, bound, gap, size, timing."""
        sol = self.solution
        return pd.DataFrame([{
            "layer": self.layer, "model": self.model, "new_sites": len(self.selected),
            "objective": sol.objective, "optimal": sol.optimal, "gap": sol.gap,
            "bound": sol.bound, "greedy_objective": sol.greedy_objective,
            "solve_time_s": sol.solve_time_s, "rows_after_collapse": sol.rows_after_collapse,
            "candidates": len(self.candidates), "candidate_source": self.candidates.source,
        }])

    def tables(self) -> list[OutputTable]:
        return [OutputTable("candidates", self.gains, csv="candidates.csv"),
                OutputTable("sites_summary", self.summary, csv="sites_summary.csv"),
                OutputTable("selected", self.selected, gpkg=SITES_GPKG),
                OutputTable("candidates", self.candidates.gdf, gpkg=SITES_GPKG),
                OutputTable("sites_solution", self.solution_frame(), csv="sites_solution.csv",
                            float_format=None)]

    def about(self) -> dict[str, str]:
        return {}

    def overlays(self) -> list[Overlay]:
        cov, layer = self.coverage, [self.layer]
        access = self.equity.access_overlays(layer) if self.equity is not None else []
        return [cov.regions_overlay(), *cov.gap_overlays(layer), *access,
                *cov.facility_overlays(layer), *self.site_overlays()]

    def site_overlays(self) -> list[Overlay]:
        gains = self.gains
        basis = self.study.layers[self.layer].serves or "people"
        frame = gpd.GeoDataFrame({
            "candidate_id": gains["candidate_id"].astype(str).to_numpy(),
            "rank": gains["rank"].to_numpy(),
            "new_covered": [f"{v:,.0f}" for v in gains["new_covered"]],
            "coverage_after": [f"{v:.2f}" for v in gains["coverage_after_pct"]],
            "worst_region": [f"{r} ({v:.1f} %)" for r, v in zip(
                gains["worst_region_after"], gains["worst_region_coverage_after_pct"],
                strict=True)],
        }, geometry=gpd.points_from_xy(gains["lon"], gains["lat"]), crs=4326)
        fields = (("candidate_id", "Candidate"), ("rank", "Rank by gain"),
                  ("new_covered", f"{basis} newly within the standard (people)"),
                  ("coverage_after", "Study coverage with this site alone (%)"),
                  ("worst_region", "Worst region with this site alone (coverage %)"))
        sel = gains["selected"].to_numpy(bool)
        top = max(float(gains["new_covered"].max()), 1.0)
        radius = 2 + 8 * np.sqrt(gains["new_covered"].to_numpy(float) / top)
        legend = f"New {self.layer} sites ({self.model})"
        out = []
        if (~sel).any():
            out.append(Overlay(
                f"Candidates ({int((~sel).sum()):,}; size = people gained)", frame[~sel],
                Symbol("circle", radius=radius[~sel]), fields, Depth.PLAN,
                LegendEntry(legend, "candidate; size = people it brings within the "
                                    "standard"),
                show=int((~sel).sum()) <= MAX_SHOWN_CANDIDATES, popup=True))
        if sel.any():
            out.append(Overlay(
                f"Chosen sites ({int(sel.sum())}, model {self.model})", frame[sel],
                Symbol("star"), fields, Depth.PLAN,
                LegendEntry(legend, "chosen site (click for its gains)"), popup=True))
        return out

    def sections(self) -> list[Section]:
        equity = self.equity.sections() if self.equity is not None else []
        return [*self.coverage.sections(), *equity, self.sites_section()]

    def sites_section(self) -> Section:
        sol = self.solution_frame().iloc[0].to_dict()
        layer = self.study.layers[self.layer]
        std, basis = layer.standard.describe(), layer.serves or "total population"
        gains = self.gains.sort_values("rank")
        chosen = gains[gains["selected"]]
        grp = self.summary[self.summary["level"].isin(["study", "group"])]
        objective = (f"{fmt_pct(100 * sol['objective'])} %"
                     if get_model(self.model).objective_is_share else fmt_num(sol["objective"]))
        status = ("proven optimal" if sol["optimal"] else
                  f"best found; gap to the bound {fmt_pct(100 * sol['gap'])} %")
        summary_cols = [
            Column("level", "Level"), Column("name", "Name"),
            Column("population", "Population (people)", "people"),
            Column("coverage_before_pct", "Coverage before (%)", "pct"),
            Column("coverage_after_pct", "Coverage after (%)", "pct"),
            Column("coverage_change_pct", "Change (percentage points)", "pct"),
            Column("unserved_before", "Unserved before (people)", "people"),
            Column("unserved_after", "Unserved after (people)", "people")]
        chosen_cols = [
            Column("candidate_id", "Candidate"), Column("lon", "Longitude (°, WGS84)", "deg"),
            Column("lat", "Latitude (°, WGS84)", "deg"),
            Column("rank", "Rank by gain alone", numeric=True),
            Column("new_covered", "People newly within the standard, alone (people)",
                   "people"),
            Column("coverage_after_pct", "Study coverage with it alone (%)", "pct")]
        top_cols = [
            Column("rank", "Rank", numeric=True), Column("candidate_id", "Candidate"),
            Column("new_covered", "People newly within the standard (people)", "people"),
            Column("coverage_after_pct", "Study coverage with it alone (%)", "pct"),
            Column("worst_region_after", "Worst region with it alone"),
            Column("worst_region_coverage_after_pct", "Its coverage (%)", "pct"),
            Column("chosen", "Chosen")]
        top = [{**r, "chosen": "yes" if r["selected"] else ""}
               for r in gains.head(10).to_dict("records")]
        return section(
            f"New {self.layer} sites ({self.model})",
            para(f"{sol['new_sites']} new site(s) chosen by the {self.model} model from "
                 f"{sol['candidates']:,} candidates ({sol['candidate_source']}); standard "
                 f"{std}; people counted: {basis}. Objective ({self.objective_text}): "
                 f"{objective} ({status}; greedy start {fmt_num(sol['greedy_objective'])}; "
                 f"solved in {sol['solve_time_s']:.2f} s)."),
            Figure(before_after_chart(grp["level"], grp["name"], grp["coverage_before_pct"],
                                      grp["coverage_after_pct"]),
                   f"Coverage before (grey) and after the new sites (% of {basis} within "
                   f"{std})."),
            table(summary_cols, self.summary.to_dict("records")),
            section("Chosen sites", table(chosen_cols, chosen.to_dict("records"),
                                          class_key=None), level=3),
            section("Best ten candidates on their own",
                    table(top_cols, top, class_key=None), level=3),
            para('Gains "alone" are each candidate\'s own, with only the existing facilities; '
                 "the chosen set is solved jointly, so its gain is less than the sum when "
                 "sites overlap. Full table: candidates.csv.", style="meta"),
            anchor="sites")
