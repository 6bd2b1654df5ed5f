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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import pandas as pd

from equiserve._version import __version__
from equiserve.notes import Notes

if TYPE_CHECKING:
    from equiserve.results.overlays import Overlay
    from equiserve.results.sections import Section
    from equiserve.study import Study


@dataclass(frozen=True)
class OutputTable:
    """A table of a result and the files it is written to.

    ``name`` is the sheet of ``workbook`` and the layer of ``gpkg``; ``csv`` a file of its
    own. When two results give a table with the same GeoPackage layer or sheet, the later
    one replaces the earlier (a result derived from another, the scorecard from coverage,
    gives the richer table). A workbook sheet drops the geometry column; sheets are ordered
    by ``position`` (reference tables such as regions after the figures), then as given.
    """

    name: str
    frame: pd.DataFrame
    csv: str | None = None
    gpkg: str | None = None
    workbook: str | None = None
    float_format: str | None = "%.10g"
    position: int = 0


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
    for name, layer in study.layers.items():
        about[f"layer {name}"] = (f"standard {layer.standard.describe()}; people counted: "
                                  f"{layer.serves or 'total population'}; "
                                  f"{len(layer):,} facilities")
    about["units"] = ("population, covered, unserved: people; *_pct: percent of the people "
                      "counted; *_m: metres; *_min: minutes; access_score: places per person "
                      "(x 1,000 = per 1,000 people); gini, theil, cv: unitless (0 = equal)")
    return about
