"""The `equiserve` command: exit codes, one-line errors, --debug, help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from equiserve.cli import app
from equiserve.errors import ConfigError

runner = CliRunner()


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "demo" in result.output and "report" in result.output


def test_report_runs_and_prints_group_coverage(tiny_study, tmp_path):
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "east" in result.output and "island" in result.output
    assert (tmp_path / "o" / "report.html").is_file()


def test_bad_config_gives_one_line_and_exit_2(tiny_study, tmp_path):
    text = tiny_study.read_text(encoding="utf-8").replace("capacity_field = \"beds\"",
                                                          "capacty_field = \"beds\"")
    tiny_study.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    error_lines = [ln for ln in lines if ln.startswith("error:")]
    assert len(error_lines) == 1
    assert "capacty_field" in error_lines[0] and "capacity_field" in error_lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_exception(tiny_study, tmp_path):
    (tiny_study.parent / "regions.geojson").unlink()
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o"),
                                 "--debug"])
    assert result.exit_code != 0
    assert result.exception is not None and "regions.geojson" in str(result.exception)


def test_missing_config_file(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path / "none.toml"), "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "not found" in result.output


def test_geographic_crs_message(tiny_study, tmp_path):
    text = tiny_study.read_text(encoding="utf-8").replace(
        "synthetic = true", "synthetic = true\ncrs = \"EPSG:4326\"")
    tiny_study.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "study.crs" in result.output and "metres" in result.output
    with pytest.raises(ConfigError):
        runner.invoke(app, ["report", str(tiny_study), "--out", str(tmp_path / "o"),
                            "--debug"], catch_exceptions=False)


def test_an_unexpected_error_names_the_step(tiny_study, tmp_path, monkeypatch):
    """A bug (not bad input) still says what the run was doing: the layer it read."""
    import equiserve.study

    def broken(cfg, regions, notes):
        if cfg.name == "clinics":
            raise IndexError("index 3 is out of bounds")
        return load(cfg, regions, notes)

    load = equiserve.study.load_facility_layer
    monkeypatch.setattr(equiserve.study, "load_facility_layer", broken)
    result = CliRunner().invoke(app, ["report", str(tiny_study), "--out",
                                      str(tmp_path / "out"), "--offline"])
    assert result.exit_code == 1
    assert ("unexpected error at step 'facilities: clinics': IndexError: index 3 is out of "
            "bounds (run again with --debug") in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_command_starts_without_the_gis_libraries():
    """`equiserve --help` and the output-folder check answer before geopandas, shapely,
    pyogrio or folium load (they take over a second)."""
    import subprocess
    import sys

    code = ("import sys, equiserve, equiserve.cli, equiserve.io.atomic; "
            "print(sorted(m for m in ('geopandas', 'shapely', 'pyogrio', 'folium', "
            "'equiserve.study') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_an_output_folder_that_is_a_file_fails_before_the_config_is_read(tmp_path):
    out = tmp_path / "out"
    out.write_text("a file", encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(tmp_path / "missing.toml"), "--out",
                                      str(out)])
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.output


def test_service_areas_option_mirrors_the_python_choices():
    # the command line spells the choices itself (a quick --help): they must not drift
    from typing import get_args

    from equiserve import cli
    from equiserve.config.types import ServiceAreas

    assert get_args(cli.ServiceAreas) == get_args(ServiceAreas)
