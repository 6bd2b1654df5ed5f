"""A batch's province view: every city's figures side by side and inequality across all
of their cells.

    BatchResult(cfg, outcomes)
        .status      batch_status.csv: city, status, worker, seconds, peak memory, error
        .summary     batch_summary.csv: every city's summary rows, with a city column
        .scorecard   batch_scorecard.csv: every city's scorecard rows
        .equity      batch_equity.csv: per layer and measure, the Gini and Theil T of all
                     cells of all cities, Theil between and within cities and, within
                     cities, between and within their region groups
        .province    the Subject the writer draws it for (:class:`Province`)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from equiserve.analysis.inequality import gini
from equiserve.analysis.province import DIGITS, nested_theil
from equiserve.batch.task import CityOutcome
from equiserve.config import MapConfig
from equiserve.config.batch import BatchConfig
from equiserve.notes import Notes
from equiserve.results.base import OutputTable
from equiserve.results.formats import fmt_people
from equiserve.results.overlays import Depth, Fill, LegendEntry, Overlay
from equiserve.results.sections import Column, Link, Section, para, section, table

#: The workbook of a batch.
WORKBOOK = "batch.xlsx"
#: batch_equity.csv's columns.
EQUITY_COLUMNS = ["layer", "measure", "cities", "population", "mean", "gini", "theil",
                  "theil_between_cities", "theil_within_cities",
                  "theil_between_groups_within_cities", "theil_within_groups"]


@dataclass(frozen=True)
class ProvinceConfig:
    """The batch as the writer's subject configuration."""

    name: str
    description: str | None
    synthetic: bool
    map: MapConfig = field(default_factory=MapConfig)


@dataclass(frozen=True)
class ProvinceRegions:
    """The cities' outlines (WGS 84) as the map's regions."""

    gdf: gpd.GeoDataFrame
    group_names: list[str]


@dataclass(frozen=True)
class Province:
    """What the writer draws a batch for (:class:`equiserve.results.base.Subject`)."""

    config: ProvinceConfig
    regions: ProvinceRegions
    layers: dict[str, object]
    notes: Notes
    crs: pyproj.CRS


@dataclass
class BatchResult:
    """The outcomes of a batch's cities, in the batch's order, and the province view."""

    cfg: BatchConfig
    outcomes: list[CityOutcome]
    notes: Notes = field(default_factory=Notes)

    def __post_init__(self) -> None:
        for o in self.failed:
            self.notes.warn(f"city {o.name}", f"failed, no figures: {o.error}")

    @property
    def heading(self) -> str:
        return f"batch of {len(self.outcomes)} cities"

    @property
    def ok(self) -> list[CityOutcome]:
        """The cities with figures: finished now or before."""
        return [o for o in self.outcomes if o.status in ("done", "skipped")]

    @property
    def failed(self) -> list[CityOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    # -- tables

    @cached_property
    def status(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "city": o.name, "status": o.status, "worker": o.worker, "seconds": o.seconds,
            "peak_rss_mb": o.peak_rss_mb, "population": o.population, "cells": o.cells,
            "error": o.error} for o in self.outcomes])

    def _stacked(self, attr: str) -> pd.DataFrame:
        frames = [getattr(o, attr) for o in self.ok if len(getattr(o, attr))]
        if not frames:
            return pd.DataFrame(columns=["city"])
        out = pd.concat(frames, ignore_index=True)
        return out[["city", *[c for c in out.columns if c != "city"]]]

    @cached_property
    def summary(self) -> pd.DataFrame:
        return self._stacked("summary")

    @cached_property
    def scorecard(self) -> pd.DataFrame:
        return self._stacked("scorecard")

    @cached_property
    def equity(self) -> pd.DataFrame:
        parts, values = self._stacked("parts"), self._stacked("values")
        rows = []
        if not len(parts):
            return pd.DataFrame(columns=EQUITY_COLUMNS)
        for (layer, measure), p in parts.groupby(["layer", "measure"], sort=False):
            groups = p[p["group"].notna()]
            cities = p[p["group"].isna()].set_index("city")["theil"]
            v = values[(values["layer"] == layer) & (values["measure"] == measure)]
            t = nested_theil(groups, cities)
            weight = groups["weight"].sum()
            rows.append({
                "layer": layer, "measure": measure, "cities": int(groups["city"].nunique()),
                "population": weight,
                "mean": groups["total"].sum() / weight if weight > 0 else np.nan,
                "gini": gini(v["value"].to_numpy(float), v["weight"].to_numpy(float)),
                "theil": t["total"], "theil_between_cities": t["between_cities"],
                "theil_within_cities": t["within_cities"],
                "theil_between_groups_within_cities": t["between_groups_within_cities"],
                "theil_within_groups": t["within_groups"]})
        return pd.DataFrame(rows, columns=EQUITY_COLUMNS)

    def tables(self) -> list[OutputTable]:
        return [OutputTable("batch_status", self.status, csv="batch_status.csv",
                            workbook=WORKBOOK),
                OutputTable("batch_summary", self.summary, csv="batch_summary.csv",
                            workbook=WORKBOOK),
                OutputTable("batch_scorecard", self.scorecard, csv="batch_scorecard.csv",
                            workbook=WORKBOOK),
                OutputTable("batch_equity", self.equity, csv="batch_equity.csv",
                            workbook=WORKBOOK, float_format="%.15g")]

    def about(self) -> dict[str, str]:
        return {
            "batch": self.cfg.name, "cities": f"{len(self.outcomes)} ({len(self.ok)} with "
            f"figures, {len(self.failed)} failed)",
            "equity": "Gini and Theil T of all cells of all cities, population-weighted; "
                      "Theil between + within cities = the total; the Gini from values "
                      f"rounded to {DIGITS} significant digits",
            "units": "as each city's summary.csv and equity.csv; seconds: s; peak_rss_mb: MB"}

    # -- the subject

    @cached_property
    def province(self) -> Province:
        """The batch as the writer's subject: the cities' outlines as its regions."""
        ok = [o for o in self.ok if o.outline is not None]
        gdf = gpd.GeoDataFrame({"region": [o.name for o in ok], "group": "city"},
                               geometry=[o.outline for o in ok], crs=4326)
        groups = list(dict.fromkeys(self.summary.loc[self.summary["level"] == "group",
                                                     "name"].astype(str))) \
            if "level" in self.summary else []
        layers = dict.fromkeys(self.summary["layer"].unique()) if "layer" in self.summary \
            else {}
        synthetic = bool(ok) and all(o.synthetic for o in ok)
        return Province(ProvinceConfig(self.cfg.name, self.cfg.description, synthetic),
                        ProvinceRegions(gdf, groups), layers, Notes(),
                        pyproj.CRS.from_epsg(4326))

    # -- map

    def city_coverage(self) -> pd.DataFrame:
        """Coverage (%) of each city and layer, its people counted, and the province's."""
        s = self.summary
        if not len(s):
            return pd.DataFrame(columns=["city", "layer", "population", "coverage_pct"])
        return s[s["level"] == "study"][["city", "layer", "population", "coverage_pct"]]

    def overlays(self) -> list[Overlay]:
        cov = self.city_coverage()
        gdf = self.province.regions.gdf.set_index("region")
        legend = LegendEntry("Cities: coverage ÷ the batch's", note="Share of each city's "
                             "people within the layer's standard, over the share in all "
                             "cities (one layer shown at a time)")
        out = []
        for i, (layer, c) in enumerate(cov.groupby("layer", sort=False)):
            c = c[c["city"].isin(gdf.index)]
            overall = (c["coverage_pct"] * c["population"]).sum() / c["population"].sum()
            frame = gpd.GeoDataFrame({
                "city": c["city"].to_numpy(), "layer": layer,
                "coverage": [f"{v:.1f}" for v in c["coverage_pct"]],
                "population": [fmt_people(v) for v in c["population"]],
            }, geometry=gdf.loc[c["city"]].geometry.values, crs=4326)
            out.append(Overlay(
                f"Cities: {layer}", frame,
                Fill("access", values=(c["coverage_pct"] / overall).to_numpy()
                     if overall > 0 else np.full(len(c), np.nan)),
                (("city", "City"), ("layer", "Layer"), ("coverage", "Coverage (%)"),
                 ("population", "People counted (people)")), Depth.BLOCKS, legend,
                show=i == 0))
        return out

    # -- report

    def sections(self) -> list[Section]:
        st = self.status
        rows = [{**r, "report": Link("report", f"{r['city']}/report.html")
                 if r["status"] in ("done", "skipped") else "–"}
                for r in st.to_dict("records")]
        status_cols = [Column("city", "City"), Column("status", "Status"),
                       Column("report", "Report"), Column("worker", "Worker"),
                       Column("seconds", "Time (s)", "num"),
                       Column("peak_rss_mb", "Peak memory (MB)", "people"),
                       Column("population", "Population (people)", "people"),
                       Column("error", "Error", empty="")]
        cov = self.city_coverage()
        wide = cov.pivot_table(index="city", columns="layer", values="coverage_pct",
                               sort=False) if len(cov) else pd.DataFrame()
        cov_rows = [{"city": Link(str(city), f"{city}/report.html"), **r.to_dict()}
                    for city, r in wide.iterrows()]
        cov_cols = [Column("city", "City"), *[Column(str(layer), f"{layer} (%)", "pct",
                                                     low_below=50.0)
                                              for layer in wide.columns]]
        eq = self.equity
        eq_cols = [Column("layer", "Layer"), Column("measure", "Measure"),
                   Column("cities", "Cities (count)", "num"),
                   Column("gini", "Gini", "index"), Column("theil", "Theil T", "index"),
                   Column("theil_between_cities", "between cities", "index"),
                   Column("theil_within_cities", "within cities", "index"),
                   Column("theil_between_groups_within_cities", "between groups, in "
                          "cities", "index"),
                   Column("theil_within_groups", "within groups", "index")]
        return [section(
            f"Batch: {self.cfg.name}",
            para(f"{len(self.outcomes)} cities: {len(self.ok)} with figures, "
                 f"{len(self.failed)} failed. Each city's own report is in its folder. "
                 "Tables: batch_status.csv, batch_summary.csv, batch_scorecard.csv, "
                 "batch_equity.csv, batch.xlsx."),
            section("Cities", table(status_cols, rows, class_key=None), level=3),
            section("Coverage by city", table(cov_cols, cov_rows, class_key=None), para(
                "Share of each city's people counted within each layer's standard.",
                style="meta"), level=3) if len(cov_rows) else None,
            section("Inequality across all cities", table(eq_cols, eq.to_dict("records"),
                                                            class_key=None), para(
                "Population-weighted over every cell of every city. Theil T = between "
                "cities + within cities; within cities = between their region groups + "
                "within the groups. 0 = equal. Measures: covered (within the standard, 1 "
                "or 0), distance (to the nearest, the layer's unit), access (catchment "
                f"places per person). The Gini reads values rounded to {DIGITS} "
                "significant digits.", style="meta"), level=3),
            anchor="batch")]
