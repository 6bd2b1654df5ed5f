"""Planners' files as they come (issue 13): GBK/GB18030 tables from Chinese Excel, byte-order
marks, Excel workbooks and their sheets, empty files, and coordinates that do not fit the
CRS they are declared in.

Tables are read back against the frames they were written from; the real Zhuhai census
re-encoded to GBK must give the same coverage summary as the UTF-8 file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from equiserve import Study
from equiserve.config import SourceSpec, load_config
from equiserve.errors import ConfigError, DataError, DataQualityWarning
from equiserve.io.tables import read_table
from equiserve.io.vector import read_vector
from equiserve.notes import Notes
from equiserve.testing import TINY_CRS, tiny_facilities

NAMES_ZH = ["香洲第一小学", "拱北小学", "斗门实验学校", "横琴港湾学校"]


def _schools(folder: Path) -> pd.DataFrame:
    """The tiny study's schools with Chinese names, as the CSV the helper wrote."""
    df = pd.read_csv(folder / "schools.csv")
    df["name"] = NAMES_ZH
    return df


def _use_source(study: Path, source: str, extra: str = "") -> None:
    """Point the tiny study's schools at ``source`` (and add ``extra`` keys to the layer)."""
    text = study.read_text(encoding="utf-8").replace('source = "schools.csv"',
                                                     f'source = "{source}"{extra}')
    study.write_text(text, encoding="utf-8")


def _load(study: Path) -> Study:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return Study.load(study)


def _school_names(study: Study) -> list[str]:
    return [str(n) for n in study.layers["schools"].facilities["name"]]


# ---------------------------------------------------------------------------------------
# text encodings


def test_gbk_facility_list_is_read_with_a_note(tiny_study):
    folder = tiny_study.parent
    _schools(folder).to_csv(folder / "schools.csv", index=False, encoding="gbk")
    study = _load(tiny_study)
    assert _school_names(study) == NAMES_ZH
    notes = [n for n in study.notes if n.subject == "layers.schools"]
    assert any("schools.csv is not UTF-8; read as GB18030 (GBK)" in n.message
               and 'encoding = "..."' in n.message and n.level == "info" for n in notes), notes


def test_encoding_forced_reads_without_a_note(tiny_study):
    folder = tiny_study.parent
    _schools(folder).to_csv(folder / "schools.csv", index=False, encoding="gb18030")
    _use_source(tiny_study, "schools.csv", '\nencoding = "gb18030"')
    study = _load(tiny_study)
    assert _school_names(study) == NAMES_ZH
    assert not [n for n in study.notes if "GB18030" in n.message]


def test_utf8_forced_on_a_gbk_file_is_a_clear_error(tiny_study):
    folder = tiny_study.parent
    _schools(folder).to_csv(folder / "schools.csv", index=False, encoding="gbk")
    _use_source(tiny_study, "schools.csv", '\nencoding = "utf-8"')
    with pytest.raises(DataError) as err:
        _load(tiny_study)
    msg = str(err.value)
    assert "[layers.schools]" in msg and "schools.csv" in msg
    assert "does not decode as utf-8" in msg and "GB18030" in msg


def test_unknown_encoding_names_the_key(tiny_study):
    _use_source(tiny_study, "schools.csv", '\nencoding = "gbkk"')
    with pytest.raises(ConfigError, match=r"study.toml: layers.schools.encoding = 'gbkk' is "
                                          r"not valid; expected a text encoding"):
        load_config(tiny_study)
    with pytest.raises(ConfigError, match=r"\[here\] source: encoding = 'gbkk' is not a known"):
        read_table(tiny_study.parent / "schools.csv", where="[here] source", encoding="gbkk")


def test_encoding_and_sheet_only_where_they_apply(tiny_study):
    text = tiny_study.read_text(encoding="utf-8")
    bad = text.replace('source = "clinics.gpkg"', 'source = "clinics.gpkg"\nencoding = "gbk"')
    tiny_study.write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[layers.clinics\] encoding applies to CSV"):
        load_config(tiny_study)
    tiny_study.write_text(text.replace('source = "schools.csv"',
                                       'source = "schools.csv"\nsheet = "A"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[layers.schools\] sheet applies to Excel"):
        load_config(tiny_study)
    tiny_study.write_text(text.replace("x_field", "x_feld"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:  # the new keys are listed among the allowed
        load_config(tiny_study)
    assert "did you mean 'x_field'?" in str(err.value)
    assert "encoding" in str(err.value) and "sheet" in str(err.value)


def test_shapefile_attributes_in_gbk_without_cpg(tmp_path):
    # a Shapefile from Chinese GIS software: GBK attributes and no .cpg saying so; GDAL
    # reads them as Latin-1 unless told
    g = gpd.GeoDataFrame({"name": NAMES_ZH[:2]}, crs=4326,
                         geometry=gpd.points_from_xy([113.55, 113.30], [22.27, 22.21]))
    g.to_file(tmp_path / "s.shp", encoding="gbk")
    (tmp_path / "s.cpg").unlink(missing_ok=True)
    spec = SourceSpec(path=tmp_path / "s.shp", key="layers.s")
    assert read_vector(spec)["name"].tolist() != NAMES_ZH[:2]
    got = read_vector(spec.model_copy(update={"encoding": "gbk"}))
    assert got["name"].tolist() == NAMES_ZH[:2]


def test_bom_csv_is_read_with_clean_headers(tiny_study):
    folder = tiny_study.parent
    _schools(folder).to_csv(folder / "schools.csv", index=False, encoding="utf-8-sig")
    assert (folder / "schools.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    _use_source(tiny_study, "schools.csv", '\nencoding = "utf-8"')  # forced: BOM dropped too
    study = _load(tiny_study)
    assert _school_names(study) == NAMES_ZH
    assert list(study.layers["schools"].facilities["facility_id"]) == ["S1", "S2", "S3", "S4"]


def test_utf16_tab_separated_text_from_excel(tmp_path):
    # Excel's "Unicode Text (*.txt)": UTF-16 with a byte-order mark, tab separated
    df = pd.DataFrame({"name": NAMES_ZH[:2], "lon": [113.55, 113.30], "lat": [22.27, 22.21]})
    path = tmp_path / "places.txt"
    path.write_bytes(df.to_csv(sep="\t", index=False).encode("utf-16"))
    got = read_table(path, where="[gazetteer] source")
    pd.testing.assert_frame_equal(got, df)


def test_neither_utf8_nor_gb18030_says_what_to_do(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,lon,lat\n\x81\x30\xff,1,2\n")
    with pytest.raises(DataError, match=r"\[x\] source: bad.csv is neither UTF-8 nor GB18030"
                                        r".*set encoding"):
        read_table(path, where="[x] source")


# ---------------------------------------------------------------------------------------
# workbooks


def test_xlsx_facility_list_with_lon_lat(tiny_study):
    folder = tiny_study.parent
    _schools(folder).to_excel(folder / "schools.xlsx", index=False)
    _use_source(tiny_study, "schools.xlsx")
    study = _load(tiny_study)
    csv_study = _load(_tiny_copy(folder, "csv"))
    assert _school_names(study) == NAMES_ZH
    for axis in ("access_x", "access_y"):
        np.testing.assert_allclose(getattr(study.layers["schools"], axis),
                                   getattr(csv_study.layers["schools"], axis), rtol=0, atol=1e-6)


def _tiny_copy(folder: Path, name: str) -> Path:
    from equiserve.testing import write_tiny_study

    return write_tiny_study(folder.parent / name)


def test_xlsx_facility_list_with_x_y_and_crs(tiny_study):
    folder = tiny_study.parent
    schools = tiny_facilities()["schools"]
    df = pd.DataFrame({"id": schools["id"], "name": NAMES_ZH, "seats": schools["seats"],
                       "x": schools.geometry.x, "y": schools.geometry.y})
    df.to_excel(folder / "schools_utm.xlsx", index=False)
    text = tiny_study.read_text(encoding="utf-8").replace(
        'source = "schools.csv"\nx_field = "lon"\ny_field = "lat"',
        f'source = "schools_utm.xlsx"\ncrs = "{TINY_CRS}"')
    tiny_study.write_text(text, encoding="utf-8")
    study = _load(tiny_study)
    assert _school_names(study) == NAMES_ZH
    got = study.layers["schools"].facilities
    np.testing.assert_allclose(got.geometry.x, schools.geometry.x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(got.geometry.y, schools.geometry.y, rtol=0, atol=1e-6)


def _two_sheets(path: Path) -> pd.DataFrame:
    schools = _schools(path.parent)
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"about": ["exported from the education bureau"]}).to_excel(
            xw, sheet_name="说明", index=False)
        schools.to_excel(xw, sheet_name="学校", index=False)
    return schools


def test_sheet_by_name_and_by_number(tiny_study):
    folder = tiny_study.parent
    want = _two_sheets(folder / "schools.xlsx")
    _use_source(tiny_study, "schools.xlsx", '\nsheet = "学校"')
    assert _school_names(_load(tiny_study)) == NAMES_ZH
    got = read_table(folder / "schools.xlsx", where="[x] source", sheet=2)
    pd.testing.assert_frame_equal(got, want)


def test_first_of_several_sheets_is_read_with_a_note(tiny_study):
    path = tiny_study.parent / "schools.xlsx"
    _two_sheets(path)
    notes = Notes()
    got = read_table(path, where="[x] source", notes=notes, subject="layers.x")
    assert list(got.columns) == ["about"]
    assert [n.message for n in notes] == [
        "schools.xlsx has 2 sheets (说明, 学校); read the first, '说明'; choose another with "
        'sheet = "..."']


def test_unknown_sheet_lists_the_sheets(tiny_study):
    folder = tiny_study.parent
    _two_sheets(folder / "schools.xlsx")
    _use_source(tiny_study, "schools.xlsx", '\nsheet = "Schools"')
    with pytest.raises(ConfigError, match=r"\[layers.schools\] source: sheet = 'Schools' is "
                                          r"not in schools.xlsx; its sheets: '说明', '学校'"):
        _load(tiny_study)


def test_xls_workbook_is_read(tmp_path):
    # tests/data/schools.xls: written once with xlwt (Excel 97-2003), the frame below
    path = Path(__file__).parent / "data" / "schools.xls"
    got = read_table(path, where="[x] source")
    want = pd.DataFrame({"name": NAMES_ZH[:2], "lon": [113.55, 113.3], "lat": [22.27, 22.21]})
    pd.testing.assert_frame_equal(got, want)


def test_gazetteer_from_xlsx(tmp_path):
    from equiserve.config.scenario import GazetteerConfig
    from equiserve.inputs.gazetteer import Gazetteer

    df = pd.DataFrame({"name": NAMES_ZH[:2], "precision": ["exact", "town"],
                       "经度": [113.55, 113.30], "纬度": [22.27, 22.21]})
    df.to_excel(tmp_path / "places.xlsx", index=False, sheet_name="地名")
    cfg = GazetteerConfig.model_validate(
        {"source": str(tmp_path / "places.xlsx"), "precision_field": "precision"})
    gaz = Gazetteer.from_config(cfg)
    match, why = gaz.resolve("拱北小学")
    assert match is not None, why
    assert (match.lon, match.lat, match.precision) == (113.30, 22.21, "town")


# ---------------------------------------------------------------------------------------
# study.toml encodings


def test_bom_study_toml_loads(tiny_study):
    tiny_study.write_bytes(b"\xef\xbb\xbf" + tiny_study.read_bytes())
    assert load_config(tiny_study).name == "Tiny test study (synthetic)"


def test_gbk_study_toml_names_the_file_and_how_to_resave(tiny_study):
    text = tiny_study.read_text(encoding="utf-8").replace("Tiny test study", "珠海小研究")
    tiny_study.write_bytes(text.encode("gbk"))
    with pytest.raises(ConfigError) as err:
        load_config(tiny_study)
    msg = str(err.value)
    assert str(tiny_study) in msg and "is not UTF-8" in msg
    assert "looks like GBK/GB18030" in msg
    assert "save it as UTF-8" in msg and "iconv -f GB18030 -t UTF-8 study.toml" in msg


def test_gbk_plan_toml_names_the_file(tmp_path):
    from equiserve.config.scenario import load_scenario

    plan = tmp_path / "plan.toml"
    plan.write_bytes('[scenario]\nname = "规划"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match=r"plan.toml is not UTF-8.*GBK/GB18030"):
        load_scenario(plan)


# ---------------------------------------------------------------------------------------
# empty files


@pytest.mark.parametrize(("name", "key"), [("schools.csv", "layers.schools"),
                                           ("clinics.gpkg", "layers.clinics")])
def test_zero_byte_file_is_a_clear_error(tiny_study, name, key):
    (tiny_study.parent / name).write_bytes(b"")
    with pytest.raises(DataError, match=rf"\[{key}\] source: {name} is empty \(0 bytes\)"):
        _load(tiny_study)


def test_header_only_table_has_no_rows(tiny_study):
    (tiny_study.parent / "schools.csv").write_text("id,name,seats,lon,lat\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"\[layers.schools\] source: schools.csv has no rows"):
        _load(tiny_study)


def test_geopackage_without_features_is_an_empty_layer(tmp_path):
    path = tmp_path / "none.gpkg"
    gpd.GeoDataFrame({"name": []}, geometry=[], crs=TINY_CRS).to_file(path, layer="x")
    gdf = read_vector(SourceSpec(path=path, key="layers.x"))
    assert gdf.empty and gdf.crs is not None


# ---------------------------------------------------------------------------------------
# coordinates that do not fit the declared CRS


def test_projected_geoparquet_declared_wgs84_names_file_and_crs(tiny_study):
    # the campaign's case: UTM 49N numbers with crs = "EPSG:4326" (was: "data must be
    # finite" from the KD-tree, in coverage)
    folder = tiny_study.parent
    tiny_facilities()["clinics"].to_parquet(folder / "clinics.parquet")
    text = tiny_study.read_text(encoding="utf-8").replace(
        'source = "clinics.gpkg"', 'source = "clinics.parquet"\ncrs = "EPSG:4326"')
    tiny_study.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        _load(tiny_study)
    msg = str(err.value)
    assert "[layers.clinics]" in msg and "clinics.parquet" in msg
    assert 'declared crs = "EPSG:4326"' in msg
    assert "the numbers look projected" in msg and "is the crs right?" in msg


def test_projected_gpkg_with_a_wrong_own_crs(tmp_path):
    pts = tiny_facilities()["clinics"].set_crs(4326, allow_override=True)
    pts.to_file(tmp_path / "c.gpkg", layer="c")
    with pytest.raises(DataError, match=r"the file's own CRS EPSG:4326.*look projected"):
        read_vector(SourceSpec(path=tmp_path / "c.gpkg", key="layers.c"))


def test_coordinates_not_finite_after_projection(tmp_path):
    # numbers beyond the range of the declared UTM zone have no longitude (inf): the error
    # names the declared CRS
    path = tmp_path / "far.csv"
    pd.DataFrame({"x": [1e9, 720_000.0], "y": [1e9, 2_460_000.0]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r'\[layers.far\] source far.csv: coordinates are not '
                                        r'finite after transformation to WGS84 from '
                                        r'declared crs = "EPSG:32649"'):
        read_vector(SourceSpec(path=path, key="layers.far", crs="EPSG:32649"))


# ---------------------------------------------------------------------------------------
# the real Zhuhai census in GBK


def _zhuhai_without_network(example: Path, folder: Path, census: str, places: Path) -> Path:
    """examples/zhuhai without its network and OSM layers (the census, its settlement
    weights and the gazetteer's hospital), reading ``census`` and the gazetteer ``places``."""
    text = (example / "study.toml").read_text(encoding="utf-8")
    head, rest = text.split("[network]", 1)
    out = head + rest[rest.index("[layers.hospitals]"):rest.index("[life_circle]")]
    out = out.replace('table = "census_2020.csv"', f'table = "{census}"')
    lines = [f'source = "{places.as_posix()}"' if ln.startswith("source =")
             and "zhuhai_places.csv" in ln else ln for ln in out.splitlines()]
    path = folder / "study.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.realdata
def test_gbk_census_gives_the_same_summary(zhuhai_example, zhuhai_data, tmp_path):
    places = zhuhai_data / "gazetteer" / "zhuhai_places.csv"
    gbk = tmp_path / "gbk"
    gbk.mkdir()
    census = (zhuhai_example / "census_2020.csv").read_text(encoding="utf-8")
    (gbk / "census_2020_gbk.csv").write_bytes(census.encode("gbk"))
    (gbk / "places_gbk.csv").write_bytes(places.read_text(encoding="utf-8").encode("gbk"))
    utf8 = tmp_path / "utf8"
    utf8.mkdir()
    (utf8 / "census_2020.csv").write_text(census, encoding="utf-8")
    runs = {}
    for name, folder, table, gaz in [("utf8", utf8, "census_2020.csv", places),
                                     ("gbk", gbk, "census_2020_gbk.csv",
                                      gbk / "places_gbk.csv")]:
        study = _load(_zhuhai_without_network(zhuhai_example, folder, table, gaz))
        runs[name] = (study, study.coverage().summary)
    (s_utf8, sum_utf8), (s_gbk, sum_gbk) = runs["utf8"], runs["gbk"]
    assert len(sum_utf8) > 3 and s_utf8.population.total > 2_000_000
    pd.testing.assert_frame_equal(sum_gbk, sum_utf8)
    assert s_gbk.population.total == s_utf8.population.total
    read_as = {n.subject: n.message for n in s_gbk.notes if "GB18030" in n.message}
    assert read_as["population"].startswith("census_2020_gbk.csv is not UTF-8")
    assert read_as["layers.hospitals"].startswith("places_gbk.csv is not UTF-8")
    assert not [n for n in s_utf8.notes if "GB18030" in n.message]
    # the text itself, not only the ASCII figures, reads the same
    from equiserve.io.tables import read_table

    for utf, gb in [(utf8 / "census_2020.csv", gbk / "census_2020_gbk.csv"),
                    (places, gbk / "places_gbk.csv")]:
        a, b = read_table(utf, where="x"), read_table(gb, where="x")
        pd.testing.assert_frame_equal(a, b)
        assert a.astype(str).apply(lambda c: c.str.contains("香洲区")).any().any()


def test_a_utf8_file_with_a_gbk_row_is_refused_not_garbled(tmp_path):
    """One row pasted from a GBK export into a UTF-8 file: read as GB18030 every Chinese
    name would turn into others (香洲第一小学 -> 棣欐床绗...), so it is refused, naming
    the line."""
    from equiserve.io.tables import read_table

    text = "name,lon,lat\n" + "".join(f"香洲第{i}小学,113.5,22.2\n" for i in range(6))
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("utf-8") + "珠海第一中学,113.5,22.2\n".encode("gbk"))
    with pytest.raises(DataError, match=r"mixed\.csv is UTF-8 but for \d+ invalid byte "
                                        r"sequence\(s\), the first on line 8"):
        read_table(path, where="[layers.schools] source")


def test_a_forced_encoding_that_fails_suggests_the_others(tmp_path):
    from equiserve.io.tables import read_table

    path = tmp_path / "gbk.csv"
    path.write_bytes("name,lon,lat\n珠海山区小学,113.5,22.2\n".encode("gbk"))
    with pytest.raises(DataError, match=r'does not decode as UTF8 .* it may be GB18030: set '
                                        r'encoding = "gb18030"'):
        read_table(path, where="x", encoding="UTF8")
    assert read_table(path, where="x")["name"].tolist() == ["珠海山区小学"]  # 山 is C9 BD


def test_an_empty_file_among_several_is_an_empty_part(tmp_path):
    from equiserve.config import SourceSpec
    from equiserve.io.vector import read_vector
    from equiserve.notes import Notes

    (tmp_path / "a.csv").write_text("name,lon,lat\nA,113.5,22.2\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("name,lon,lat\n", encoding="utf-8")
    spec = SourceSpec.model_validate({"source": str(tmp_path / "*.csv"), "key": "layers.x"})
    notes = Notes()
    assert read_vector(spec, notes)["name"].tolist() == ["A"]
    assert [n.message for n in notes] == ["b.csv of the 2 files of the source hold no "
                                          "features"]
    with pytest.raises(DataError, match="b.csv has no rows"):  # alone, it is an error
        read_vector(SourceSpec.model_validate({"source": str(tmp_path / "b.csv"),
                                               "key": "layers.x"}))
