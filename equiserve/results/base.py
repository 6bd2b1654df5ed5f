"""The result protocol: what every analysis returns and every output draws.

An analysis (coverage, the equity scorecard, service areas, new sites, a scenario) returns
an object with

- ``notes``: the data-quality notes it found (the study's own notes are loading notes);
- ``tables()``: :class:`OutputTable` items, each naming the files it goes to (a CSV, a
  GeoPackage layer, a workbook sheet);
- ``overlays()``: map overlays (:mod:`equiserve.results.overlays`);
- ``sections()``: report sections (:mod:`equiserve.results.sections`);
- ``about()``: lines for the About sheet of workbooks;
- ``heading``: what the run is about, for the titles of its report and map (None: the
  study's coverage).

:func:`equiserve.outputs.write` takes any number of results and draws them all; it knows
nothing about coverage, sites or scenarios. A new analysis needs a function computing it
and a result class with these six members, nothing in ``outputs``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

from equiserve._version import __version__
from equiserve.notes import Notes

if TYPE_CHECKING:
    from collections.abc import Mapping

    import geopandas as gpd
    import pyproj

    from equiserve.config import MapConfig
    from equiserve.results.overlays import Overlay
    from equiserve.results.sections import Section
    from equiserve.study import Study


@dataclass(frozen=True)
class ViewColumn:
    """A column of a :class:`View`: its name, its SQL expression over the source's columns
    (and the view's ``terms``), and the source column whose type it takes (SQLite gives a
    computed column no type, so a reader would see text)."""

    name: str
    sql: str
    like: str


@dataclass(frozen=True)
class View:
    """A GeoPackage layer computed from another layer of the same file, ``source``: written
    as a SQL view over it (no rows of its own, registered so that QGIS, ogr and GeoPandas
    read it as a layer), with the source's geometry.

    Its rows are the source's rows where ``where`` holds (SQLite SQL over the source's
    columns and ``terms``), in the source's order; its columns are ``keep`` (source columns
    as they are) and then ``columns``. ``terms`` are named SQL expressions computed once per
    row and used by ``where`` and ``columns``. Where the source is not a table of the same
    GeoPackage (GeoParquet output), the table's frame is written instead.
    """

    source: str
    keep: tuple[str, ...]
    columns: tuple[ViewColumn, ...]
    where: str
    terms: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Points:
    """The geometry of a table's rows given apart from its frame, as coordinates: written
    as points straight from them (no shapely objects made), or as ``polygons()`` (the
    cells' shapes, a grid's squares) when polygons are asked for."""

    xy: Callable[[], Any]
    crs: Any
    polygons: Callable[[], Any] | None = None


@dataclass(frozen=True)
class OutputTable:
    """A table of a result and the files it is written to.

    ``name`` is the sheet of ``workbook`` and the layer of ``gpkg``; ``csv`` a file of its
    own. When two results give a table with the same GeoPackage layer or sheet, the later
    one replaces the earlier (a result derived from another, the scorecard from coverage,
    gives the richer table). A workbook sheet drops the geometry column; sheets are ordered
    by ``position`` (reference tables such as regions after the figures), then as given.

    ``frame`` may be a function returning the frame: it is called only when the table is
    written (a table replaced by a later one, or written as a view, costs nothing).
    ``parquet`` is the GeoParquet file the layer goes to instead of ``gpkg`` when the
    writer is asked for GeoParquet (one row per cell: what analysts load into pandas or
    DuckDB). ``points`` is the geometry of a frame without one (:class:`Points`: cell
    centres, or their shapes when polygons are asked for). ``view`` writes the
    GeoPackage layer as a :class:`View` over another layer.
    """

    name: str
    frame: pd.DataFrame | Callable[[], pd.DataFrame]
    csv: str | None = None
    gpkg: str | None = None
    workbook: str | None = None
    float_format: str | None = "%.10g"
    position: int = 0
    parquet: str | None = None
    points: Points | None = None
    view: View | None = None

    def data(self) -> pd.DataFrame:
        """The table's frame (made now if ``frame`` is a function)."""
        return self.frame() if callable(self.frame) else self.frame


def sql_name(name: str) -> str:
    """``name`` as an SQL identifier (double quotes, doubled inside).

    >>> sql_name('group'), sql_name('a"b')
    ('"group"', '"a""b"')
    """
    return '"' + name.replace('"', '""') + '"'


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (single quotes, doubled inside).

    >>> sql_text("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"


class SubjectConfig(Protocol):
    """What the writer reads of a subject's configuration."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str | None: ...

    @property
    def synthetic(self) -> bool: ...

    @property
    def map(self) -> MapConfig: ...


class SubjectRegions(Protocol):
    """What the writer reads of a subject's regions: their shapes (the map's extent) and
    the groups, in order (their colours)."""

    @property
    def gdf(self) -> gpd.GeoDataFrame: ...

    @property
    def group_names(self) -> list[str]: ...


class Subject(Protocol):
    """What :func:`equiserve.outputs.write` needs of what the results are about: a
    :class:`~equiserve.study.Study`, or a batch of them
    (:class:`equiserve.batch.result.Province`)."""

    @property
    def config(self) -> SubjectConfig: ...

    @property
    def regions(self) -> SubjectRegions: ...

    @property
    def layers(self) -> Mapping[str, object]: ...

    @property
    def notes(self) -> Notes: ...

    @property
    def crs(self) -> pyproj.CRS: ...


@runtime_checkable
class Result(Protocol):
    """What :func:`equiserve.outputs.write` needs of an analysis' result."""

    @property
    def notes(self) -> Notes: ...

    @property
    def heading(self) -> str | None: ...

    def tables(self) -> list[OutputTable]: ...

    def overlays(self) -> list[Overlay]: ...

    def sections(self) -> list[Section]: ...

    def about(self) -> dict[str, str]: ...


def about_study(study: Study) -> dict[str, str]:
    """What a spreadsheet reader needs to read the tables: study, sources, units."""
    about = {"study": study.config.name}
    if study.config.synthetic:
        about["data"] = "SYNTHETIC: generated for demonstration, not real places or people"
    if study.config.description:
        about["description"] = study.config.description
    about.update({
        "generated": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "software": f"equiserve {__version__}",
        "working CRS": study.crs.to_string(),
        "population (people)": f"{study.population.total:,.0f}",
    })
    if study.year is not None:
        about["population year"] = f"{study.year} (forecast by study.toml's [forecast])"
    for name, layer in study.layers.items():
        about[f"layer {name}"] = (f"standard {layer.standard.describe()}; people counted: "
                                  f"{layer.serves or 'total population'}; "
                                  f"{len(layer):,} facilities")
    about["units"] = ("population, covered, unserved: people; *_pct: percent of the people "
                      "counted; *_m: metres; *_min: minutes; access_score: places per person "
                      "(x 1,000 = per 1,000 people); gini, theil, cv: unitless (0 = equal)")
    return about
