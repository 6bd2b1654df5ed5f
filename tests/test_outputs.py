"""The one writer draws any result: a result it has never seen (defined here) gets its
tables, sheets, GeoPackage layer, report section and map overlay; later tables replace
earlier ones; writing is atomic; analyses leave the study as it was."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from equiserve import Study, write
from equiserve.errors import DataQualityWarning
from equiserve.notes import Notes
from equiserve.outputs.tables import notes_frame
from equiserve.results.base import OutputTable, Result
from equiserve.results.overlays import Depth, LegendEntry, Overlay, Symbol
from equiserve.results.sections import BarChart, Column, Figure, para, section, table

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def study(tiny_loaded) -> Study:
    return tiny_loaded


@dataclass
class Towers:
    """A made-up analysis: water towers, one row each."""

    frame: gpd.GeoDataFrame
    notes: Notes = field(default_factory=Notes)
    heading: str | None = "water towers"
    fail: bool = False
    label: str = "Towers"

    def tables(self) -> list[OutputTable]:
        if self.fail:
            raise RuntimeError("the towers fell")
        return [OutputTable("towers", self.frame, csv="towers.csv", gpkg="towers.gpkg",
                            workbook="towers.xlsx")]

    def overlays(self) -> list[Overlay]:
        return [Overlay(f"{self.label} {EVIL}", self.frame[["name", "geometry"]], Symbol("circle"),
                        (("name", "Tower"),), Depth.FACILITIES,
                        LegendEntry("Water", "tower"))]

    def sections(self):
        rows = self.frame.drop(columns="geometry").to_dict("records")
        return [section("Water towers", para(f"{len(rows)} towers; names like {EVIL}."),
                        table([Column("name", "Name"),
                               Column("height", "Height (m)", "num", low_below=20)], rows,
                              class_key=None),
                        Figure(BarChart(("a", "b"), (10.0, 90.0), ("study", "group:east")),
                               "Share (%)"))]

    def about(self) -> dict[str, str]:
        return {"towers": "made up for a test"}


def towers(study: Study) -> Towers:
    x0, y0 = study.regions.gdf.total_bounds[:2]
    return Towers(gpd.GeoDataFrame({"name": ["North", EVIL], "height": [12.0, 30.0]},
                                   geometry=gpd.points_from_xy([x0 + 500, x0 + 900],
                                                               [y0 + 500, y0 + 700]),
                                   crs=study.crs))


def test_a_result_the_writer_never_saw_is_drawn_everywhere(study, tmp_path):
    res = towers(study)
    with pytest.warns(DataQualityWarning, match="no height survey"):
        res.notes.warn("towers", "one tower has no height survey")
    assert isinstance(res, Result)
    paths = write(study, res, out_dir=tmp_path / "o", prefix="towers_", basemap=None)
    assert set(paths) == {"towers.csv", "data_quality.csv", "towers.xlsx", "towers.gpkg",
                          "towers_report.html", "towers_map.html"}
    csv = pd.read_csv(paths["towers.csv"])
    pd.testing.assert_frame_equal(csv.drop(columns="geometry"),
                                  pd.DataFrame(res.frame.drop(columns="geometry")),
                                  check_dtype=False)  # 12.0 is written "12"
    assert csv["geometry"].str.startswith("POINT (").all()  # a CSV keeps geometry as WKT
    sheets = pd.read_excel(paths["towers.xlsx"], sheet_name=None)
    assert list(sheets) == ["About", "towers", "data_quality"]
    assert "made up for a test" in sheets["About"]["value"].tolist()
    assert pyogrio.read_dataframe(paths["towers.gpkg"], layer="towers")["height"].tolist() \
        == [12.0, 30.0]
    notes = pd.read_csv(paths["data_quality.csv"])
    assert "one tower has no height survey" in notes["message"].tolist()
    html = paths["towers_report.html"].read_text(encoding="utf-8")
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h2>Water towers</h2>" in html and "— water towers</title>" in html
    assert '<td class="num low">12</td>' in html and '<td class="num">30</td>' in html
    assert "one tower has no height survey" in html  # the notes section
    assert "<svg" in html and 'fill="#222222"' in html  # the chart, study colour resolved
    page = paths["towers_map.html"].read_text(encoding="utf-8")
    assert EVIL not in page and "Towers \\u0026lt;script\\u0026gt;" in page


def test_a_later_table_replaces_an_earlier_one_in_place(study, tmp_path):
    first, second = towers(study), towers(study)
    second = dataclasses.replace(second, frame=second.frame.assign(height=[1.0, 2.0]),
                                 label="Towers again")
    write(study, first, second, out_dir=tmp_path / "o", basemap=None)
    layer = pyogrio.read_dataframe(tmp_path / "o" / "towers.gpkg", layer="towers")
    assert layer["height"].tolist() == [1.0, 2.0]
    assert pd.read_csv(tmp_path / "o" / "towers.csv")["height"].tolist() == [1.0, 2.0]


def test_two_overlays_of_one_name_are_refused(study, tmp_path):
    """The map's layer control is keyed by name: a second overlay of a name could never be
    switched, so the writer says so (and writes nothing)."""
    with pytest.raises(ValueError, match="two overlays are named 'Towers"):
        write(study, towers(study), towers(study), out_dir=tmp_path / "o", basemap=None)
    assert not (tmp_path / "o").exists()


def test_a_failing_result_leaves_the_output_folder_as_it_was(study, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "towers.csv").write_text("kept\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="the towers fell"):
        write(study, dataclasses.replace(towers(study), fail=True), out_dir=out)
    assert [p.name for p in out.iterdir()] == ["towers.csv"]
    assert (out / "towers.csv").read_text(encoding="utf-8") == "kept\n"
    assert not list(tmp_path.glob(".o.equiserve-tmp-*"))


def test_analyses_leave_the_study_as_it_was(study):
    before = list(study.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        cov = study.coverage()
        eq = study.equity(cov)
        study.service_areas(cov)
        again = study.coverage()
    assert list(study.notes) == before
    assert [n.message for n in cov.notes] == [n.message for n in again.notes]
    pd.testing.assert_frame_equal(cov.summary, again.summary)
    assert eq.coverage is cov
    with pytest.raises(dataclasses.FrozenInstanceError):
        study.layers = {}  # type: ignore[misc]


def test_notes_have_a_run_column_only_when_a_result_tags_its_notes(study):
    plain = Towers(gpd.GeoDataFrame(geometry=[]), Notes())
    plain.notes.info("towers", "counted")
    frame = notes_frame(study, [plain])
    assert list(frame.columns) == ["level", "subject", "message"]
    assert len(frame) == len(study.notes) + 1
    tagged = Towers(gpd.GeoDataFrame(geometry=[]), plain.notes.tagged("plan"))
    frame = notes_frame(study, [tagged, tagged])  # repeated notes are listed once
    assert list(frame.columns) == ["run", "level", "subject", "message"]
    assert frame["run"].tolist() == ["both"] * len(study.notes) + ["plan"]
    assert np.array_equal(frame["message"].iloc[:-1], [n.message for n in study.notes])
