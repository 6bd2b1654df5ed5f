"""Forecast arithmetic (issue 14): totals per region and year against hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from equiserve.analysis.forecast import growth_rates, project_totals
from equiserve.errors import ConfigError

NAMES = ["Gongbei", "Doumen", "Wanshan"]
GROUPS = ["east", "west", "island"]


def test_totals_compound_the_issue_example():
    # the issue's example: east 0.5 %, west 3 %, island -1 % a year from 2020
    base = [200_000.0, 100_000.0, 10_000.0]
    t = project_totals(base, NAMES, GROUPS, 2020, [2025, 2030],
                       {"east": 0.005, "west": 0.03, "island": -0.01})
    got = t.set_index(["region", "year"])["population"]
    assert got["Gongbei", 2025] == pytest.approx(200_000 * 1.005 ** 5, rel=1e-12)
    assert got["Doumen", 2030] == pytest.approx(100_000 * 1.03 ** 10, rel=1e-12)
    assert got["Doumen", 2030] == pytest.approx(134_391.6379, abs=1e-3)  # by hand
    assert got["Wanshan", 2030] == pytest.approx(10_000 * 0.99 ** 10, rel=1e-12)
    assert (t["rate_from"] == "group").all()


def test_a_region_rate_beats_its_group_and_unnamed_regions_stay():
    rates, sources = growth_rates(NAMES + ["Xiangzhou"], GROUPS + ["east"],
                                  {"east": 0.01, "Xiangzhou": 0.04})
    np.testing.assert_array_equal(rates, [0.01, 0.0, 0.0, 0.04])
    assert sources == ["group", "none", "none", "region"]
    t = project_totals([1.0, 2.0, 3.0], NAMES, GROUPS, 2020, [2020], {"west": 0.5})
    assert t["population"].tolist() == [1.0, 2.0, 3.0]  # the base year is the base


def test_minus_100_percent_empties_a_region():
    t = project_totals([50.0], ["A"], ["g"], 2020, [2021, 2022], {"A": -1.0})
    assert t["population"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("growth, years, message", [
    ({"east": 0.01}, [2019, 2025], "2019 before base_year 2020"),
    ({"west": -1.5}, [2025], "forecast.growth.west = -1.5"),
    ({"west": math.nan}, [2025], "forecast.growth.west = nan"),
    ({"Nowhere": 0.01}, [2025], "'Nowhere' is neither a region nor a group"),
])
def test_bad_forecast_input_names_the_key(growth, years, message):
    with pytest.raises(ConfigError, match=message):
        project_totals([1.0, 1.0, 1.0], NAMES, GROUPS, 2020, years, growth)


def _tiny_with_forecast(tmp_path, table: str):
    from equiserve.testing import write_tiny_study

    path = write_tiny_study(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n" + table, encoding="utf-8")
    return path


@pytest.mark.filterwarnings("ignore::equiserve.errors.DataQualityWarning")
def test_study_forecast_totals_from_study_toml(tmp_path):
    from equiserve import Study

    path = _tiny_with_forecast(tmp_path, "[forecast]\nbase_year = 2020\nyears = [2025, 2030]\n"
                                         "growth = { east = 0.005, Farms = 0.03 }\n")
    study = Study.load(path)
    pop = study.population
    t = study.forecast_totals().set_index(["region", "year"])["population"]
    for k, (name, group) in enumerate(zip(study.regions.names, study.regions.groups,
                                          strict=True)):
        base = pop.population[pop.region == k].sum()  # today's people of the region
        rate = 0.03 if name == "Farms" else 0.005 if group == "east" else 0.0
        for year in (2025, 2030):
            assert t[name, year] == pytest.approx(base * (1 + rate) ** (year - 2020),
                                                  rel=1e-12)


@pytest.mark.filterwarnings("ignore::equiserve.errors.DataQualityWarning")
def test_study_forecast_names_an_unknown_region_at_load(tmp_path):
    from equiserve import Study

    path = _tiny_with_forecast(tmp_path, "[forecast]\nbase_year = 2020\nyears = [2030]\n"
                                         "growth = { Atlantis = 0.01 }\n")
    with pytest.raises(ConfigError, match="'Atlantis' is neither a region nor a group"):
        Study.load(path)
