"""Every output of ``equiserve demo``, ``report``, ``sites`` and ``scenario`` on the demo, the
tiny study and examples/zhuhai equals, figure for figure, the reference written by
tests/reference/make_reference.py.

The reference was first written from the code before the structural refactor (issue 11,
commit e00ea86) and held through it; it is rewritten only by a change meant to move
figures, whose commit says which and why (issue 12: people attached to the street they
walk from).

Tables (CSV, GeoPackage layers, xlsx sheets), the report's table cells and the map's
overlays are reduced to digests (tests/reference/digest.py); a difference names the run,
the file, the table and the column.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from equiserve.cli import app

REFERENCE = Path(__file__).resolve().parent / "reference"
sys.path.insert(0, str(REFERENCE))

from digest import differences, folder_digest  # noqa: E402
from runs import RUNS, ZHUHAI_RUNS, argv, write_tiny, write_tiny_plain  # noqa: E402

EXPECTED = json.loads((REFERENCE / "outputs.json").read_text(encoding="utf-8"))
@pytest.fixture(scope="module")
def paths(demo_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("reference")
    return {"demo": demo_run, "tiny": write_tiny(tmp / "tiny"),
            "tiny_plain": write_tiny_plain(tmp / "tiny_plain")}


def _check(name: str, run: list[str], paths: dict[str, Path], out: Path) -> None:
    if name == "demo":
        out = paths["demo"]  # the shared demo run of conftest.py (same arguments)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = CliRunner().invoke(app, argv(run, out=out, **paths))
        assert res.exit_code == 0, res.output
    diff = differences(EXPECTED[name], folder_digest(out), name)
    assert not diff, f"{len(diff)} difference(s) from the reference:\n" + "\n".join(diff[:40])


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_outputs_equal_the_reference(name, paths, tmp_path):
    _check(name, RUNS[name], paths, tmp_path / "out")


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("name", list(ZHUHAI_RUNS))
def test_zhuhai_outputs_equal_the_reference(name, paths, zhuhai_example, tmp_path):
    _check(name, ZHUHAI_RUNS[name], {**paths, "zhuhai": zhuhai_example}, tmp_path / "out")


def test_reference_digest_notices_a_changed_figure(tmp_path):
    """The comparison can fail: one figure changed at the 9th significant digit is found."""
    (tmp_path / "summary.csv").write_text("layer,coverage_pct\nschools,41.23456789\n",
                                          encoding="utf-8")
    before = folder_digest(tmp_path)
    (tmp_path / "summary.csv").write_text("layer,coverage_pct\nschools,41.23456799\n",
                                          encoding="utf-8")
    assert differences(before, folder_digest(tmp_path)) == [
        "/summary.csv/table/digest/coverage_pct: reference "
        f"{before['summary.csv']['table']['digest']['coverage_pct']!r}, now "
        f"{folder_digest(tmp_path)['summary.csv']['table']['digest']['coverage_pct']!r}"]
