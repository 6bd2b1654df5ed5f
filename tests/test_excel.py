"""summary.xlsx: sheets, values, text-not-formula, layout and the atomic write, read back."""

from __future__ import annotations

import datetime as dt
import doctest
import os
import stat
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from equiserve.outputs import excel
from equiserve.outputs.excel import sheet_names, write_xlsx

FORMULA = '=HYPERLINK("http://x")'
LONG = "population_within_standard_by_region_grp"  # 40 characters
CLASH = LONG[:31] + "_and_more"  # the same first 31 characters
FORBIDDEN = set('[]:*?/\\')


def summary_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["香洲区", FORMULA, "+8613800000000", "-12", "@SUM(A1:A2)", "plain"],
        "distance_m": [120.25, np.inf, np.nan, 0.0, 0.1 + 0.2, 1e-5],
        "covered": [True, False, True, False, True, True],
        "population": np.array([1000, 2000, 0, 5, 7, 123_456_789], dtype=np.int64),
        "share": [0.123456789012345, 1 / 3, 2 / 3, 0.0, 1.0, 0.5],
    })


def tables() -> dict[str, pd.DataFrame]:
    small = pd.DataFrame({"region": ["斗门区", "金湾区"], "people": [1.5, 2.5]})
    return {
        "summary": summary_frame(),
        LONG: small,
        CLASH: small.assign(people=[3.5, 4.5]),
        "gaps: east/west [m]?": pd.DataFrame({"gap": [1, 2]}),
    }


NOTES = {"study": "Zhuhai demo", "generated": "2024-05-01 10:00",
         "units": "distances in metres; 'unreachable' means no facility can be reached",
         "formula-like": "=1+1"}


@pytest.fixture
def book(tmp_path):
    path = write_xlsx(tables(), tmp_path / "summary.xlsx", notes=NOTES)
    assert path == tmp_path / "summary.xlsx"
    return path


def test_sheet_names_valid_unique_and_in_order(book):
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["About", "summary", LONG[:31], LONG[:27] + " (2)",
                             "gaps_ east_west _m__"]
    for name in wb.sheetnames:
        assert 0 < len(name) <= 31 and not FORBIDDEN & set(name)
    assert len({n.casefold() for n in wb.sheetnames}) == len(wb.sheetnames)


def test_sheet_name_rules():
    result = doctest.testmod(excel)
    assert result.attempted >= 1 and result.failed == 0
    assert sheet_names(["About", "about", "History", "'quoted'", "", "a" * 31, "A" * 31]) == [
        "About", "about (2)", "History (2)", "quoted", "Sheet", "a" * 31, "A" * 27 + " (2)"]
    assert sheet_names(["About"], reserved=("About",)) == ["About (2)"]
    assert sheet_names(["x", "x", "x"]) == ["x", "x (2)", "x (3)"]


def test_values_read_back_with_their_types(book):
    ws = openpyxl.load_workbook(book)["summary"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("name", "distance_m", "covered", "population", "share")
    frame = summary_frame()
    assert [r[0] for r in rows[1:]] == frame["name"].tolist()
    assert [r[1] for r in rows[1:]] == [120.25, "unreachable", None, 0.0, 0.1 + 0.2, 1e-5]
    assert [r[2] for r in rows[1:]] == frame["covered"].tolist()
    assert [r[3] for r in rows[1:]] == frame["population"].tolist()
    assert [r[4] for r in rows[1:]] == frame["share"].tolist()  # every bit kept
    for row in ws.iter_rows(min_row=2):
        name, dist, covered, pop, share = row
        assert name.data_type == "s"
        assert covered.data_type == "b"
        assert type(pop.value) is int and pop.data_type == "n"
        assert type(share.value) is float and share.data_type == "n"
        assert share.number_format != "General"  # shown rounded, stored in full
        assert dist.data_type == ("s" if dist.value == "unreachable" else "n")


def test_formula_like_strings_are_text(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["summary"]
    cell = ws["A3"]
    assert cell.value == FORMULA and cell.data_type == "s"
    assert cell.quotePrefix  # Excel keeps it text when the cell is edited
    for ref in ("A4", "A5", "A6"):  # "+...", "-12", "@SUM(...)"
        assert ws[ref].data_type == "s" and ws[ref].quotePrefix
    assert not ws["A7"].quotePrefix  # "plain"
    assert wb["About"]["B5"].value == "=1+1" and wb["About"]["B5"].data_type == "s"
    with zipfile.ZipFile(book) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 5
        for n in sheets:
            xml = z.read(n).decode("utf-8")
            assert "<f>" not in xml and "<f " not in xml  # no formula anywhere


def test_layout_bold_frozen_filtered_fitted(book):
    wb = openpyxl.load_workbook(book)
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert all(c.font.b for c in ws[1])
        assert not any(c.font.b for row in ws.iter_rows(min_row=2) for c in row)
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}" \
                                     f"{ws.max_row}"
    ws = wb["summary"]
    assert ws.auto_filter.ref == "A1:E7"
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] >= len(FORMULA)
    assert widths["C"] >= len("covered") and widths["C"] < 15
    about = wb["About"]
    assert [tuple(c.value for c in r) for r in about.iter_rows()] == [
        ("item", "value"), *NOTES.items()]
    assert about.column_dimensions["B"].width >= 50  # notes are long sentences, wrapped
    assert about["B4"].alignment.wrap_text


def test_widths_count_wide_characters_double_and_are_capped(tmp_path):
    frame = pd.DataFrame({"a": ["香洲区香洲区"], "b": ["x" * 200], "c": [1]})
    ws = openpyxl.load_workbook(write_xlsx({"t": frame}, tmp_path / "w.xlsx"))["t"]
    assert ws.column_dimensions["A"].width >= 12  # 6 characters, each two columns wide
    assert ws.column_dimensions["B"].width == 50
    assert ws.column_dimensions["C"].width < 5
    assert ws["B2"].value == "x" * 200  # only the display is narrower


def test_pandas_reads_back_the_frames(book):
    got = pd.read_excel(book, sheet_name=None)
    expected = summary_frame()
    expected["distance_m"] = expected["distance_m"].astype(object).where(
        ~np.isinf(expected["distance_m"]), "unreachable")
    pd.testing.assert_frame_equal(got["summary"], expected)
    pd.testing.assert_frame_equal(got[LONG[:31]], tables()[LONG])
    pd.testing.assert_frame_equal(got[LONG[:27] + " (2)"], tables()[CLASH])
    assert got["About"]["item"].tolist() == list(NOTES)


def test_index_other_dtypes_and_control_characters(tmp_path):
    frame = pd.DataFrame({
        "count": pd.array([1, None], dtype="Int64"),
        "kind": pd.Categorical(["school", None]),
        "when": [dt.datetime(2024, 5, 1, 8, 30), pd.NaT],
        "zoned": pd.to_datetime(["2024-05-01 08:30", "2024-05-02 09:00"]).tz_localize(
            "Asia/Shanghai"),
        "note": ["bell\x07 rings", None],
        "big_f": [1234567.891, 2.0],
    }, index=pd.Index(["a", "b"], name="cell"))
    ws = openpyxl.load_workbook(write_xlsx({"t": frame}, tmp_path / "o.xlsx"))["t"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("cell", "count", "kind", "when", "zoned", "note", "big_f")
    assert rows[1] == ("a", 1, "school", dt.datetime(2024, 5, 1, 8, 30),
                       "2024-05-01T08:30:00+08:00", "bell rings", 1234567.891)
    assert rows[2] == ("b", None, None, None, "2024-05-02T09:00:00+08:00", None, 2.0)
    assert ws["G2"].number_format == "#,##0.0##"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="at least one table"):
        write_xlsx({}, tmp_path / "x.xlsx")
    with pytest.raises(TypeError, match="DataFrame"):
        write_xlsx({"a": [1, 2]}, tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "summary.xlsx"
    write_xlsx({"first": pd.DataFrame({"a": [1]})}, path)
    before = path.read_bytes()
    real_save = openpyxl.Workbook.save

    def broken_save(self, filename):
        with open(filename, "wb") as f:  # half a file, then the disk is full
            f.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", broken_save)
    with pytest.raises(OSError, match="No space"):
        write_xlsx({"second": pd.DataFrame({"a": [2]})}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["summary.xlsx"]

    monkeypatch.setattr(openpyxl.Workbook, "save", real_save)
    write_xlsx({"second": pd.DataFrame({"a": [2]})}, path)
    assert openpyxl.load_workbook(path).sheetnames == ["second"]
    assert [p.name for p in tmp_path.iterdir()] == ["summary.xlsx"]
    # the usual permissions of a new file, not those of a private temporary one
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(os.stat(path).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)


def test_creates_the_folder(tmp_path):
    path = write_xlsx({"a": pd.DataFrame({"x": [1.0]})}, tmp_path / "new" / "deep" / "s.xlsx")
    assert path.is_file()
