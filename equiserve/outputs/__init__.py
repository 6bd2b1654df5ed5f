"""Outputs of a coverage run: summary.csv/.xlsx, coverage.gpkg, report.html, map.html."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd

from equiserve.io.atomic import atomic_output_dir
from equiserve.outputs.report.html import render_report
from equiserve.outputs.tables import (
    about_table,
    cells_frame,
    facilities_frame,
    gaps_frame,
    regions_frame,
    service_areas_frame,
)

if TYPE_CHECKING:
    from equiserve.outputs.maps.basemap import BaseMap
    from equiserve.scorecard import EquityResult
    from equiserve.study import CoverageResult, Progress, Study

OUTPUTS = ("summary.csv", "summary.xlsx", "coverage.gpkg", "report.html", "map.html",
           "data_quality.csv")
EQUITY_OUTPUTS = ("equity.csv", "equity_indices.csv", "lorenz.csv")


def write_outputs(study: Study, result: CoverageResult, out_dir: str | os.PathLike[str],
                  progress: Progress | None = None, equity: EquityResult | None = None,
                  basemap: BaseMap | None | Literal["config"] = "config") -> dict[str, Path]:
    """Write every output of a coverage run into ``out_dir``, atomically.

    With ``equity`` (from :meth:`Study.equity`) also the scorecard files and columns. The
    map is self-contained (Leaflet inlined); its base map is ``basemap`` (default: the
    study's ``[map]`` table; None leaves the tiles out). summary.xlsx holds the summary,
    scorecard, indices, regions and data-quality tables, one sheet each.
    Files are written to a temporary folder and moved into ``out_dir`` only when all of
    them are complete; on an error ``out_dir`` is left as it was.
    """
    from equiserve.outputs.excel import write_xlsx
    from equiserve.outputs.maps import coverage_map, save_map

    step = progress or (lambda _msg: None)
    out = Path(out_dir).expanduser().resolve()
    with atomic_output_dir(out) as tmp:
        step("writing summary.csv")
        result.summary.to_csv(tmp / "summary.csv", index=False, float_format="%.10g")
        if equity is not None:
            equity.scorecard.to_csv(tmp / "equity.csv", index=False, float_format="%.10g")
            equity.indices.to_csv(tmp / "equity_indices.csv", index=False,
                                  float_format="%.10g")
            equity.lorenz.to_csv(tmp / "lorenz.csv", index=False, float_format="%.6g")
        notes = study.notes.to_frame()
        notes.to_csv(tmp / "data_quality.csv", index=False)
        tables = {"summary": result.summary}
        if equity is not None:
            tables.update({"equity": equity.scorecard, "equity_indices": equity.indices})
        regions = regions_frame(study, result)
        tables.update({"regions": pd.DataFrame(regions.drop(columns="geometry")),
                       "data_quality": notes})
        write_xlsx(tables, tmp / "summary.xlsx", notes=about_table(study))
        step("writing coverage.gpkg")
        gpkg = tmp / "coverage.gpkg"
        cells = cells_frame(study, result, equity)
        step("service areas")
        areas, dissolved = service_areas_frame(study, result)
        for layer, frame in [("cells", cells), ("facilities", facilities_frame(study)),
                             ("regions", regions),
                             ("gaps", gaps_frame(study, result, cells)),
                             ("service_areas", areas), ("service_areas_dissolved", dissolved)]:
            frame.to_file(gpkg, layer=layer, driver="GPKG", engine="pyogrio")
        step("writing report.html")
        (tmp / "report.html").write_text(render_report(study, result, equity),
                                         encoding="utf-8")
        step("writing map.html")
        fmap = coverage_map(study, result, service_areas=dissolved, equity=equity,
                            basemap=basemap)
        save_map(fmap, tmp / "map.html")
    names = OUTPUTS + (EQUITY_OUTPUTS if equity is not None else ())
    return {name: out / name for name in names}


__all__ = ["EQUITY_OUTPUTS", "OUTPUTS", "render_report", "write_outputs"]
