"""The fault campaign: bad and hostile inputs against ``report``, ``sites`` and ``scenario``.

Each case spoils one thing in a fresh copy of the tiny study and runs the command. Every
case, whatever it expects, must end with

* no traceback and no "unexpected error" (exit 0, or 2 with one line ``error: ...``);
* every input file byte for byte as it was;
* no temporary, backup or lock files left beside the output folder;
* the output folder as it was when the run fails;
* text that would run as a formula in a spreadsheet quoted in every CSV, and no injected
  markup unescaped in the HTML.

and then do what it expects: an ``error`` names what is wrong (the file, layer, field or
key) and how to fix it; a ``note`` case runs and says what it found in
data_quality.csv; an ``ok`` case runs (what it reads is read, nothing is refused).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rasterio.transform import from_origin
from typer.testing import CliRunner

from equiserve.cli import app
from equiserve.testing import TINY_ORIGIN, write_raster, write_tiny_study

X0, Y0 = TINY_ORIGIN
SCRIPT = "<script>alert(1)</script>"
#: A raster over the tiny regions: 100 m pixels, columns 0-19 Farms, 30-49 Core, 70-75 Isle.
TRANSFORM = from_origin(X0 - 3000, Y0 + 2000, 100.0, 100.0)
OUTPUTS = ("summary.csv", "summary.xlsx", "data_quality.csv", "report.html", "map.html")


@dataclass(frozen=True)
class Case:
    id: str
    #: Spoils the study in the folder; returns the command's arguments after the study
    #: (None: ``report STUDY --out OUT --offline``).
    spoil: Callable[[Path, Path], list[str] | None]
    expect: str          # "error", "note" or "ok"
    says: tuple[str, ...] = ()  # patterns the error line (or data_quality.csv) holds


# -- spoilers ------------------------------------------------------------------------------


def _toml(folder: Path) -> Path:
    return folder / "study.toml"


def _edit(folder: Path, old: str, new: str) -> None:
    path = _toml(folder)
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _population(folder: Path, block: str) -> None:
    text = _toml(folder).read_text(encoding="utf-8")
    start, end = text.index("[population]"), text.index("[layers.schools]")
    _toml(folder).write_text(text[:start] + block + "\n" + text[end:], encoding="utf-8")


def _raster(folder: Path, total: np.ndarray, kids: np.ndarray | None = None) -> None:
    bands = [total] if kids is None else [total, kids]
    write_raster(folder / "pop.tif", bands, TRANSFORM, "EPSG:32649", dtype="float64")
    sub = "" if kids is None else "\nsubgroups = { children_6_11 = { band = 2 } }"
    _population(folder, f'[population]\ntype = "raster"\nsource = "pop.tif"{sub}\n')
    if kids is None:
        _edit(folder, 'serves = "children_6_11"\n', "")


def _schools(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "schools.csv")


def _ok(folder: Path, out: Path) -> None:
    return None


def bom_toml(folder: Path, out: Path) -> None:
    _toml(folder).write_bytes(b"\xef\xbb\xbf" + _toml(folder).read_bytes())


def gbk_toml(folder: Path, out: Path) -> None:
    text = _toml(folder).read_text(encoding="utf-8").replace("Tiny test study", "小研究")
    _toml(folder).write_bytes(text.encode("gbk"))


def bad_toml(folder: Path, out: Path) -> None:
    _edit(folder, "[regions]", "[regions")


def unknown_key(folder: Path, out: Path) -> None:
    _edit(folder, 'count_field = "pop"', 'count_field = "pop"\ncount_feild = "pop"')


def inf_standard(folder: Path, out: Path) -> None:
    _edit(folder, "{ distance_m = 500 }", "{ distance_m = inf }")


def missing_file(folder: Path, out: Path) -> None:
    (folder / "clinics.gpkg").unlink()


def gbk_csv(folder: Path, out: Path) -> None:
    df = _schools(folder)
    df["name"] = [f"第{i + 1}小学" for i in range(len(df))]
    (folder / "schools.csv").write_bytes(df.to_csv(index=False).encode("gbk"))


def xlsx_list(folder: Path, out: Path) -> None:
    _schools(folder).to_excel(folder / "schools.xlsx", index=False, sheet_name="学校")
    _edit(folder, 'source = "schools.csv"', 'source = "schools.xlsx"')


def empty_csv(folder: Path, out: Path) -> None:
    (folder / "schools.csv").write_bytes(b"")


def header_only(folder: Path, out: Path) -> None:
    (folder / "schools.csv").write_text("id,name,seats,lon,lat\n", encoding="utf-8")


def empty_gpkg(folder: Path, out: Path) -> None:
    (folder / "clinics.gpkg").write_bytes(b"")


def swapped(folder: Path, out: Path) -> None:
    df = _schools(folder)
    df["lon"], df["lat"] = df["lat"].copy(), df["lon"].copy()
    df.to_csv(folder / "schools.csv", index=False)


def projected_csv(folder: Path, out: Path) -> None:
    import geopandas as gpd

    df = _schools(folder)
    pts = gpd.GeoSeries(gpd.points_from_xy(df.lon, df.lat), crs=4326).to_crs(32649)
    df["lon"], df["lat"] = pts.x, pts.y
    df.to_csv(folder / "schools.csv", index=False)


def projected_parquet(folder: Path, out: Path) -> None:
    import geopandas as gpd

    clinics = gpd.read_file(folder / "clinics.gpkg")  # in UTM
    clinics.set_crs(4326, allow_override=True).to_parquet(folder / "clinics.parquet")
    _edit(folder, 'source = "clinics.gpkg"', 'source = "clinics.parquet"')


def text_coordinate(folder: Path, out: Path) -> None:
    df = _schools(folder).astype({"lon": object})
    df.loc[1, "lon"] = "113.1 E"
    df.to_csv(folder / "schools.csv", index=False)


def point_regions(folder: Path, out: Path) -> None:
    import geopandas as gpd

    reg = gpd.read_file(folder / "regions.geojson")
    reg.set_geometry(reg.representative_point()).to_file(folder / "regions.geojson",
                                                         driver="GeoJSON")


def raster_misses_regions(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    total[:, :30] = -9999.0
    total[:, 70:] = -9999.0
    _raster(folder, total)


def raster_huge_pixel(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    total[5, 40] = 3e12
    _raster(folder, total)


def raster_subgroup_5x(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    _raster(folder, total, total * 5)


def raster_all_nodata(folder: Path, out: Path) -> None:
    _raster(folder, np.full((20, 76), -9999.0))


def raster_negative(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    total[3, 33] = -4
    _raster(folder, total)


def raster_dense(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    total[5, 40] = 2500  # 250,000 per km²
    _raster(folder, total)


def nobody_on_isle(folder: Path, out: Path) -> None:
    total = np.full((20, 76), 10.0)
    total[:, 70:] = 0.0
    _raster(folder, total)


def gbk_census(folder: Path, out: Path) -> None:
    table = pd.DataFrame({"code": ["C1", "F1", "I1"], "名称": ["核心", "农场", "岛"],
                          "population": [30000, 9000, 600]})
    (folder / "census.csv").write_bytes(table.to_csv(index=False).encode("gbk"))
    _population(folder, '[population]\ntype = "census"\ntable = "census.csv"\n'
                        'key_field = "code"\nregion_key_field = "code"\n'
                        'value_field = "population"\ncell_size_m = 200\n')
    _edit(folder, 'serves = "children_6_11"\n', "")  # no subgroups


def hostile_names(folder: Path, out: Path) -> list[str]:
    """Names that would run as formulas in a spreadsheet, or as script in a page, as
    schools and as candidate sites (whose names candidates.csv lists)."""
    import geopandas as gpd

    names = ['=HYPERLINK("http://evil.example","click")', f"School {SCRIPT}",
             "+SUM(A1:A9)", "@cmd", "-2+3"]
    df = _schools(folder)
    df["name"] = names[: len(df)]
    df.to_csv(folder / "schools.csv", index=False)
    pts = gpd.GeoSeries(gpd.points_from_xy(np.linspace(X0 - 2800, X0 - 1200, 5),
                                           np.full(5, Y0 + 1000)), crs=32649).to_crs(4326)
    pd.DataFrame({"name": names, "lon": pts.x, "lat": pts.y}).to_csv(
        folder / "candidates.csv", index=False)
    return _sites(folder, out, folder / "candidates.csv")


def out_is_a_file(folder: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("not a folder", encoding="utf-8")


def _earlier_run(out: Path) -> None:
    result = CliRunner().invoke(app, ["report", str(out.parent / "inputs" / "study.toml"),
                                      "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output


def folder_in_place_of_a_file(folder: Path, out: Path) -> None:
    _earlier_run(out)
    (out / "equity.csv").unlink()
    (out / "equity.csv").mkdir()
    _edit(folder, "{ distance_m = 500 }", "{ distance_m = 900 }")  # new figures


def locked(folder: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / f".{out.name}.equiserve-lock").write_text(
        f"pid={os.getppid()}\nhost={socket.gethostname()}\nstarted=2026-12-02T10:00:00\n",
        encoding="utf-8")


def stale_lock(folder: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / f".{out.name}.equiserve-lock").write_text(
        f"pid=999999999\nhost={socket.gethostname()}\nstarted=2026-12-02T10:00:00\n",
        encoding="utf-8")


PLAN = """[scenario]
name = "Tiny plan"
[[add]]
layer = "schools"
name = "Farms School"
x = {x}
y = {y}
crs = "EPSG:32649"
capacity = 300
"""


def _plan(folder: Path, out: Path, data: bytes) -> list[str]:
    (folder / "plan.toml").write_bytes(data)
    return ["scenario", str(_toml(folder)), "--plan", str(folder / "plan.toml"),
            "--out", str(out), "--offline"]


def plan_bom(folder: Path, out: Path) -> list[str]:
    text = PLAN.format(x=X0 - 2000, y=Y0 + 1000)
    return _plan(folder, out, b"\xef\xbb\xbf" + text.encode("utf-8"))


def plan_gbk(folder: Path, out: Path) -> list[str]:
    text = PLAN.format(x=X0 - 2000, y=Y0 + 1000).replace("Farms School", "农场小学")
    return _plan(folder, out, text.encode("gbk"))


def _sites(folder: Path, out: Path, candidates: Path) -> list[str]:
    return ["sites", str(_toml(folder)), "--layer", "schools", "--count", "1",
            "--candidates", str(candidates), "--out", str(out), "--offline"]


def candidates_empty(folder: Path, out: Path) -> list[str]:
    (folder / "candidates.csv").write_bytes(b"")
    return _sites(folder, out, folder / "candidates.csv")


def candidates_xlsx(folder: Path, out: Path) -> list[str]:
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy([X0 - 2000, X0 - 1500], [Y0 + 1000, Y0 + 500]),
                        crs=32649).to_crs(4326)
    pd.DataFrame({"name": ['=cmd|" /C calc"!A0', "B"], "经度": pts.x, "纬度": pts.y}).to_excel(
        folder / "candidates.xlsx", index=False)
    return _sites(folder, out, folder / "candidates.xlsx")


CASES = [
    # configuration files
    Case("study.toml with a BOM", bom_toml, "ok"),
    Case("study.toml in GBK", gbk_toml, "error",
         (r"study\.toml is not UTF-8", "GB18030", "iconv")),
    Case("study.toml not TOML", bad_toml, "error", (r"study\.toml: not valid TOML",)),
    Case("unknown key", unknown_key, "error", ("unknown key 'count_feild'", "count_field")),
    Case("infinite standard", inf_standard, "error",
         (r"layers\.schools\.standard\.distance_m = inf", "finite number")),
    Case("missing file", missing_file, "error", (r"\[layers\.clinics\]", "file not found")),
    # tables and vector files
    Case("GBK facility list", gbk_csv, "note", (r"schools\.csv is not UTF-8; read as GB18030",)),
    Case("xlsx facility list", xlsx_list, "ok"),
    Case("0-byte CSV", empty_csv, "error", (r"\[layers\.schools\]", r"schools\.csv is empty")),
    Case("header-only CSV", header_only, "error", (r"schools\.csv has no rows",)),
    Case("0-byte GeoPackage", empty_gpkg, "error", (r"clinics\.gpkg is empty",)),
    Case("lon and lat swapped", swapped, "error", (r"schools\.csv", "swapped")),
    Case("projected numbers as lon/lat in a CSV", projected_csv, "error",
         (r"schools\.csv", r"outside the valid range|look projected")),
    Case("projected GeoParquet declared EPSG:4326", projected_parquet, "error",
         (r"clinics\.parquet", "EPSG:4326", "look projected")),
    Case("text in a coordinate column", text_coordinate, "error",
         (r"schools\.csv", "non-numeric coordinates", "data rows 2")),
    Case("regions that are points", point_regions, "error", ("not polygons",)),
    # population
    Case("raster missing two regions", raster_misses_regions, "note",
         ("Farms, Isle have no people", r"no data over part of .*Farms \(100%\)")),
    Case("a pixel of 3e12 people", raster_huge_pixel, "error",
         (r"pop\.tif", "more than 10,000,000 people per km²")),
    Case("subgroup band 5x the total", raster_subgroup_5x, "error",
         (r"subgroup children_6_11 has .* more than the total", r"\(5\.0 times\)")),
    Case("all-nodata raster", raster_all_nodata, "error",
         (r"pop\.tif: every pixel over the regions is nodata",)),
    Case("negative pixel", raster_negative, "error", ("negative population",)),
    Case("implausibly dense pixel", raster_dense, "note", ("denser than 150,000 people per km²",)),
    Case("region with no people", nobody_on_isle, "note", ("region.s. Isle have no people",)),
    Case("GBK census table", gbk_census, "note", (r"census\.csv is not UTF-8; read as GB18030",)),
    # hostile text
    Case("formula and script names", hostile_names, "ok"),
    # the output folder
    Case("output is a file", out_is_a_file, "error",
         (r"out is a file, not a folder", "choose another --out")),
    Case("a folder where an output goes", folder_in_place_of_a_file, "error", (r"equity\.csv",)),
    Case("another run holds the lock", locked, "error", ("another equiserve run",)),
    Case("a stale lock", stale_lock, "ok"),
    # scenarios and sites
    Case("plan.toml with a BOM", plan_bom, "ok"),
    Case("plan.toml in GBK", plan_gbk, "error", (r"plan\.toml is not UTF-8",)),
    Case("0-byte candidates", candidates_empty, "error", (r"candidates\.csv is empty",)),
    Case("xlsx candidates with Chinese column names", candidates_xlsx, "ok"),
]


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _check_text_stays_text(out: Path) -> None:
    for csv in out.glob("*.csv"):
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for col in df.columns:
            bad = df[col][df[col].str.match(r"^[=+@\t\r]") | (
                df[col].str.startswith("-") & pd.to_numeric(df[col], errors="coerce").isna()
                & df[col].ne("-"))]
            assert bad.empty, f"{csv.name} column {col}: {bad.tolist()[:3]}"
    for html in out.glob("*.html"):
        assert SCRIPT not in html.read_text(encoding="utf-8"), html.name


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    study = write_tiny_study(folder)
    out = tmp_path / "out"
    args = case.spoil(folder, out) or ["report", str(study), "--out", str(out), "--offline"]
    inputs = _digest(folder)
    before = _digest(out) if out.is_dir() else None
    planted = {p.name for p in tmp_path.iterdir()  # another run's lock, when refused
               if ".equiserve-" in p.name and case.expect == "error"}
    result = CliRunner().invoke(app, args)
    output = result.output

    assert "Traceback" not in output and "unexpected error" not in output, output
    assert _digest(folder) == inputs, "an input file was changed"
    leftovers = [p.name for p in tmp_path.iterdir()
                 if ".equiserve-" in p.name and p.name not in planted]
    assert leftovers == [], leftovers
    if case.expect == "error":
        assert result.exit_code == 2, output
        lines = [ln for ln in output.splitlines() if ln.startswith("error:")]
        assert len(lines) == 1, output
        for pattern in case.says:
            assert re.search(pattern, lines[0]), f"{pattern!r} not in {lines[0]!r}"
        if before is not None:
            assert _digest(out) == before, "a failed run changed the output folder"
        elif out.is_dir():
            assert not any(out.iterdir()), "a failed run left outputs"
        elif out.is_file():
            assert out.read_text(encoding="utf-8") == "not a folder"
        for name in planted:  # another run's lock is that run's
            assert (tmp_path / name).is_file(), name
        return
    assert result.exit_code == 0, output
    notes = pd.read_csv(next(out.glob("*data_quality.csv")))
    warned = " | ".join(notes.loc[notes["level"] == "warning", "message"])
    said = " | ".join(notes["message"])
    for pattern in case.says:
        assert re.search(pattern, said), f"{pattern!r} not in data_quality.csv: {said}"
    if case.expect == "note":
        assert warned or "not UTF-8" in said, "a note case ran without a note"
    _check_text_stays_text(out)
