"""The inputs of a forecast (``[forecast]`` in study.toml): projected totals, subgroup
shares and development areas, read and checked against the study's regions.

    load_forecast(cfg, regions, population, notes) -> ForecastInputs
        .totals   region, year, population       (a plan's projection; None: growth only)
        .shares   region, year, subgroup, share  (region: a region's or a group's name)
        .areas    DevelopmentArea per [[forecast.area]]: its cells (points spread evenly
                  over the part of its land inside the regions) and their regions
    add_development_cells(population, inputs) -> the grid with the areas' cells, 0 people

Every error names the key (``forecast.shares``), the file and the row, and says the fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from equiserve.config.study import AreaConfig, ForecastConfig, ShareRow, TotalsRow
from equiserve.errors import ConfigError, DataError
from equiserve.inputs.population.grid import PopulationGrid
from equiserve.inputs.regions import Regions
from equiserve.io.tables import read_table
from equiserve.io.vector import project, read_vector
from equiserve.notes import Notes

#: Spacing (m) of a development area's cells when the population grid has no cell size.
AREA_CELL_M = 100.0


@dataclass(frozen=True)
class DevelopmentArea:
    """A development area's cells: ``cells`` index the population grid extended by
    :func:`add_development_cells`; ``x``, ``y`` (working CRS) and ``region`` are theirs;
    ``shape`` its land inside the regions."""

    config: AreaConfig
    shape: shapely.Geometry
    x: np.ndarray
    y: np.ndarray
    region: np.ndarray
    cells: np.ndarray
    spacing_m: float


@dataclass(frozen=True)
class ForecastInputs:
    """Totals and shares tables (None when not given) and development areas."""

    totals: pd.DataFrame | None
    shares: pd.DataFrame | None
    areas: tuple[DevelopmentArea, ...]


def _rows(given: Path | Sequence[TotalsRow | ShareRow], key: str, columns: dict[str, str],
          notes: Notes) -> pd.DataFrame:
    """The rows of a table given as a file or inline, with ``columns`` (name: kind) checked."""
    if not isinstance(given, Path):
        return pd.DataFrame([r.model_dump() for r in given], columns=list(columns))
    where = f"[forecast] {key}"
    if not given.exists():
        raise DataError(f"{where}: file not found: {given} (relative paths resolve against "
                        "the folder of study.toml)")
    df = read_table(given, where=where, notes=notes, subject=f"forecast.{key}")
    df.columns = [str(c).strip().lower() for c in df.columns]
    lacking = [c for c in columns if c not in df.columns]
    if lacking:
        raise DataError(f"{where}: {given.name} has no column {', '.join(map(repr, lacking))}; "
                        f"its columns must be {', '.join(columns)} (has: "
                        f"{', '.join(map(str, df.columns))})")
    df = df[list(columns)].copy()
    for col, kind in columns.items():
        if kind == "text":
            df[col] = df[col].astype(str).str.strip()
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(float))
        if kind == "year":
            bad |= values.round() != values
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            what = "year" if kind == "year" else "number"
            raise DataError(f"{where}: {given.name} row {row + 2}: {col} = "
                            f"{df[col].iloc[row]!r} is not a {what}")
        df[col] = values.astype(int) if kind == "year" else values.astype(float)
    return df


def _check_years(df: pd.DataFrame, cfg: ForecastConfig, key: str) -> None:
    wrong = sorted(set(df["year"]) - set(cfg.years))
    if wrong:
        base = (" (the base year's figures are today's, read from the population)"
                if cfg.base_year in wrong else "")
        raise ConfigError(f"forecast.{key}: year {wrong[0]} is not one of forecast.years "
                          f"({', '.join(map(str, cfg.years))}){base}; add it to years or "
                          "drop its rows")


def _check_names(names: pd.Series, known: Sequence[str], what: str, key: str) -> None:
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ConfigError(f"forecast.{key}: {unknown[0]!r} is not {what} of the study; "
                          f"known: {', '.join(dict.fromkeys(known))}")


def _twice(df: pd.DataFrame, columns: list[str], key: str) -> None:
    dup = df.duplicated(columns, keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise ConfigError(f"forecast.{key}: {', '.join(f'{c} {first[c]}' for c in columns)} "
                          "is given twice; give each once")


def load_totals(cfg: ForecastConfig, regions: Regions, notes: Notes) -> pd.DataFrame | None:
    """The projected population per region and year (``[forecast] totals``)."""
    if cfg.totals is None:
        return None
    df = _rows(cfg.totals, "totals", {"region": "text", "year": "year",
                                      "population": "number"}, notes)
    names = list(map(str, regions.names))
    groups = set(map(str, regions.groups)) - set(names)
    in_groups = sorted(set(df["region"]) & groups)
    if in_groups:
        raise ConfigError(f"forecast.totals: {in_groups[0]!r} is a group; projected totals "
                          "are per region (give its regions' totals, or a growth rate for "
                          "the group in forecast.growth)")
    _check_names(df["region"], names, "a region", "totals")
    _check_years(df, cfg, "totals")
    _twice(df, ["region", "year"], "totals")
    if (df["population"] < 0).any():
        raise ConfigError("forecast.totals: a population below 0; totals are people")
    return df.reset_index(drop=True)


def load_shares(cfg: ForecastConfig, regions: Regions, subgroups: Sequence[str],
                notes: Notes) -> pd.DataFrame | None:
    """The subgroup shares per region or group and year (``[forecast] shares``)."""
    if cfg.shares is None:
        return None
    df = _rows(cfg.shares, "shares", {"region": "text", "year": "year", "subgroup": "text",
                                      "share": "number"}, notes)
    bad = (df["share"] < 0) | (df["share"] > 1)
    if bad.any():
        r = df[bad].iloc[0]
        raise ConfigError(f"forecast.shares: {r['subgroup']} in {r['region']} {r['year']} = "
                          f"{r['share']:g}: a share of the total is between 0 and 1 (e.g. "
                          "0.08 for 8 %)")
    _check_names(df["region"], [*map(str, regions.names), *map(str, regions.groups)],
                 "a region or a group", "shares")
    if not subgroups:
        raise ConfigError("forecast.shares gives subgroup shares but the study defines no "
                          "[population.subgroups]")
    _check_names(df["subgroup"], list(subgroups), "a population subgroup", "shares")
    _check_years(df, cfg, "shares")
    _twice(df, ["region", "year", "subgroup"], "shares")
    return df.reset_index(drop=True)


def share_arrays(shares: pd.DataFrame | None, year: int, names: Sequence[str],
                 groups: Sequence[str], subgroups: Sequence[str]) -> dict[str, np.ndarray]:
    """Per subgroup, each region's share in ``year``: its own row, else its group's, else
    NaN (today's share).

    >>> s = pd.DataFrame({"region": ["east", "A"], "year": [2030, 2030],
    ...                   "subgroup": ["kids", "kids"], "share": [0.05, 0.09]})
    >>> share_arrays(s, 2030, ["A", "B", "C"], ["east", "east", "west"], ["kids"])["kids"]
    array([0.09, 0.05,  nan])
    """
    rows = shares[shares["year"] == year] if shares is not None else pd.DataFrame(
        columns=["region", "subgroup", "share"])
    out = {}
    for k in subgroups:
        given = dict(zip(rows.loc[rows["subgroup"] == k, "region"],
                         rows.loc[rows["subgroup"] == k, "share"].astype(float), strict=True))
        out[k] = np.array([given.get(name, given.get(group, np.nan))
                           for name, group in zip(names, groups, strict=True)], dtype=float)
    return out


def _area_cells(area: AreaConfig, regions: Regions, spacing: float, land: shapely.Geometry,
                notes: Notes) -> tuple[shapely.Geometry, np.ndarray, np.ndarray, np.ndarray]:
    """Points every ``spacing`` metres over the area's land inside the regions (one at
    its middle when it holds none), and the region of each."""
    key = f"forecast.area[{area.index}]"
    gdf = read_vector(area.source, notes)
    gdf = project(gdf, regions.crs, area.source)
    polys = gdf.geometry.values[shapely.get_type_id(gdf.geometry.values) >= 3]
    if not len(polys):
        raise DataError(f"{key} ({area.name!r}): {area.source.path.name} holds no polygons; "
                        "a development area is the land it covers")
    shape = shapely.union_all(polys)
    inside = shapely.intersection(shape, land)
    if inside.is_empty or inside.area <= 0:
        raise DataError(f"{key} ({area.name!r}): its polygons in {area.source.path.name} lie "
                        "outside every region of the study; check the file's CRS (declare "
                        "crs = ... in the table) and that the area is in the study")
    outside = 1 - inside.area / shape.area
    if outside > 0.01:
        notes.warn(key, f"{outside:.0%} of development area {area.name!r} lies outside every "
                   "region; its residents are spread over the part inside")
    xmin, ymin, xmax, ymax = inside.bounds
    gx, gy = np.meshgrid(np.arange(math.floor(xmin / spacing), math.ceil(xmax / spacing))
                         * spacing + spacing / 2,
                         np.arange(math.floor(ymin / spacing), math.ceil(ymax / spacing))
                         * spacing + spacing / 2)
    x, y = gx.ravel(), gy.ravel()
    shapely.prepare(inside)
    keep = shapely.contains_xy(inside, x, y)
    x, y = x[keep], y[keep]
    if not len(x):
        pt = shapely.point_on_surface(inside)
        x, y = np.array([pt.x]), np.array([pt.y])
    region = regions.locate(x, y)
    return inside, x[region >= 0], y[region >= 0], region[region >= 0]


def load_forecast(cfg: ForecastConfig, regions: Regions, population: PopulationGrid,
                  notes: Notes) -> ForecastInputs:
    """Read and check the forecast's tables and development areas.

    Raises
    ------
    ConfigError
        A table names a region, group, subgroup or year the study does not have; a share
        is outside 0-1; a row is given twice.
    DataError
        A file is missing or holds no such columns; a development area lies outside
        every region or holds no polygons.
    """
    totals = load_totals(cfg, regions, notes)
    shares = load_shares(cfg, regions, list(population.subgroups), notes)
    for area in cfg.area:
        unknown = sorted(set(area.shares) - set(population.subgroups))
        if unknown:
            raise ConfigError(f"forecast.area[{area.index}].shares: {unknown[0]!r} is not a "
                              "population subgroup; defined in [population.subgroups]: "
                              f"{', '.join(population.subgroups) or 'none'}")
    spacing = math.sqrt(population.cell_area_m2) if population.cell_area_m2 else AREA_CELL_M
    land = regions.gdf.union_all()
    areas, start = [], len(population)
    for area in cfg.area:
        shape, x, y, region = _area_cells(area, regions, spacing, land, notes)
        cells = np.arange(start, start + len(x))
        start += len(x)
        areas.append(DevelopmentArea(area, shape, x, y, region.astype(np.int32), cells, spacing))
        names = ", ".join(dict.fromkeys(str(regions.names[r]) for r in region))
        notes.info(f"forecast.area[{area.index}]", f"development area {area.name!r}: "
                   f"{len(x):,} cells of {spacing:g} m in {names}; residents "
                   + ", ".join(f"{y}: {v:,.0f}" for y, v in sorted(area.residents.items())))
    return ForecastInputs(totals, shares, tuple(areas))


def add_development_cells(population: PopulationGrid, inputs: ForecastInputs
                          ) -> PopulationGrid:
    """The grid with the development areas' cells appended (nobody in them today), so
    that every forecast year is one grid attached to the networks once."""
    if not inputs.areas:
        return population
    x = np.concatenate([a.x for a in inputs.areas])
    y = np.concatenate([a.y for a in inputs.areas])
    half = np.concatenate([np.full(len(a.x), a.spacing_m / 2) for a in inputs.areas])
    n = len(x)
    make = population.make_geometry

    def geometry() -> np.ndarray:
        old = (np.asarray(make()) if make is not None
               else shapely.points(population.x, population.y))
        return np.concatenate([old, shapely.box(x - half, y - half, x + half, y + half)])

    return PopulationGrid(
        x=np.concatenate([population.x, x]), y=np.concatenate([population.y, y]),
        population=np.concatenate([population.population, np.zeros(n)]),
        region=np.concatenate([population.region,
                               np.concatenate([a.region for a in inputs.areas])]
                              ).astype(population.region.dtype),
        crs=population.crs, kind=population.kind, source_total=population.source_total,
        outside_population=population.outside_population,
        subgroups={k: np.concatenate([v, np.zeros(n)])
                   for k, v in population.subgroups.items()},
        cell_area_m2=population.cell_area_m2, make_geometry=geometry)
