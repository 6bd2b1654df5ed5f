"""The pydantic models behind study.toml and plan.toml: every table refuses unknown keys
with a suggestion, types are strict, standards and population sources are tagged unions."""

from __future__ import annotations

import copy
from pathlib import Path

import pydantic
import pytest

from equiserve import settings
from equiserve.config import (
    DEFAULT_STANDARD_M,
    CensusPopulation,
    NetworkDistance,
    NetworkTime,
    RasterPopulation,
    SourceSpec,
    StraightLine,
    VectorPopulation,
    parse_config,
)
from equiserve.config.scenario import parse_scenario
from equiserve.config.types import KINDS, NETWORK_MODES
from equiserve.errors import ConfigError

CENSUS = {"type": "census", "table": "c.csv", "key_field": "k", "region_key_field": "k",
          "value_field": "v", "subgroups": {"kids": {"field": "kids"}},
          "weights": {"source": "towns.csv"}}
FULL = {
    "study": {"name": "T", "crs": "EPSG:32649"},
    "regions": {"source": "r.gpkg", "name_field": "name", "group_field": "group",
                "split": [{"region": "A", "name": "B", "group": "g", "min_distance_m": 5000}]},
    "population": {"type": "raster", "source": "pop.tif", "subgroups": {"kids": {"band": 2}}},
    "network": {"source": "city.osm.pbf"},
    "layers": {"schools": {"kind": "school", "source": "s.csv", "capacity_field": "seats",
                           "standard": {"mode": "walk", "minutes": 15},
                           "catchment": {"method": "e2sfca"}}},
    "life_circle": {"name": "15 min"},
    "map": {"tiles": "osm"},
}
PLAN = {
    "scenario": {"name": "P"},
    "gazetteer": {"source": "places.csv"},
    "add": [{"layer": "schools", "name": "New", "lon": 113.5, "lat": 22.2}],
    "remove": [{"layer": "schools", "name": "Old"}],
    "capacity": [{"layer": "schools", "id": 12, "change": 100}],
    "target": [{"label": "t", "count": 3}],
}


def _set(data: dict, path: str, key: str, value: object) -> dict:
    data = copy.deepcopy(data)
    node = data
    for part in path.split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    node[key] = value
    return data


def _message(parse, data: dict, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as exc:
        parse(data, tmp_path)
    return str(exc.value)


def test_the_full_examples_parse(tmp_path):
    cfg = parse_config(FULL, tmp_path)
    assert isinstance(cfg.population, RasterPopulation)
    assert isinstance(cfg.layers["schools"].standard, NetworkTime)
    assert cfg.life_circle is not None and cfg.life_circle.layers == ("schools",)
    sc = parse_scenario(PLAN, tmp_path)
    assert sc.capacity[0].id == "12" and sc.targets[0].count == 3.0
    assert sc.add[0].crs is not None and sc.add[0].crs.to_epsg() == 4326


@pytest.mark.parametrize("path, good, label", [
    ("study", "name", "study"),
    ("regions", "name_field", "regions"),
    ("regions.split.0", "min_distance_m", "regions.split[0]"),
    ("population", "band", "population"),
    ("population.subgroups.kids", "band", "population.subgroups.kids"),
    ("network", "snap_limit_m", "network"),
    ("layers.schools", "capacity_field", "layers.schools"),
    ("layers.schools.standard", "minutes", "layers.schools.standard"),
    ("layers.schools.catchment", "method", "layers.schools.catchment"),
    ("life_circle", "layers", "life_circle"),
    ("map", "gap_block_m", "map"),
])
def test_every_study_table_refuses_unknown_keys_with_a_suggestion(tmp_path, path, good, label):
    bad = good[:-1] + good[-1] * 2 + "x"
    msg = _message(parse_config, _set(FULL, path, bad, 1), tmp_path)
    assert f"unknown key '{bad}' in [{label}]; did you mean '{good}'?" in msg
    assert msg.startswith("study configuration: ") and "Allowed keys: " in msg


@pytest.mark.parametrize("path, good, label", [
    ("population", "cell_size_m", "population"),
    ("population.weights", "sigma_m", "population.weights"),
    ("population.subgroups.kids", "share", "population.subgroups.kids"),
])
def test_census_tables_refuse_unknown_keys(tmp_path, path, good, label):
    data = _set({**FULL, "population": CENSUS}, path, good + "s", 1)
    msg = _message(parse_config, data, tmp_path)
    assert f"unknown key '{good}s' in [{label}]; did you mean '{good}'?" in msg


@pytest.mark.parametrize("path, good, label", [
    ("scenario", "description", "scenario"),
    ("gazetteer", "name_fields", "gazetteer"),
    ("add.0", "capacity", "add[0]"),
    ("remove.0", "note", "remove[0]"),
    ("capacity.0", "change", "capacity[0]"),
    ("target.0", "region", "target[0]"),
])
def test_every_plan_table_refuses_unknown_keys_with_a_suggestion(tmp_path, path, good, label):
    bad = good + "s"
    msg = _message(parse_scenario, _set(PLAN, path, bad, 1), tmp_path)
    assert f"unknown key '{bad}' in [{label}]; did you mean '{good}'?" in msg


def test_keys_filled_in_by_the_reader_are_unknown_in_the_file(tmp_path):
    assert "unknown key 'name' in [layers.schools]" in _message(
        parse_config, _set(FULL, "layers.schools", "name", "x"), tmp_path)
    assert "unknown key 'path' in the top level" in _message(
        parse_config, {**FULL, "path": "x"}, tmp_path)
    assert "unknown key 'index' in [add[0]]" in _message(
        parse_scenario, _set(PLAN, "add.0", "index", 3), tmp_path)


@pytest.mark.parametrize("path, key", [
    ("layers.schools.standard", "minutes"), ("network", "walk_speed_kmh"),
    ("map", "gap_block_m"), ("regions.split.0", "min_distance_m"),
    ("layers.schools", "norm_per_1000"), ("layers.schools.catchment", "beta"),
])
@pytest.mark.parametrize("value", ["500", True, float("nan")])
def test_numbers_are_strict(tmp_path, path, key, value):
    msg = _message(parse_config, _set(FULL, path, key, value), tmp_path)
    dotted = path.replace(".0", "[0]")
    wanted = "a finite number" if value != value else "a number"  # NaN: a number, not finite
    assert f"{dotted}.{key} = {value!r} is not valid; expected {wanted}" in msg


@pytest.mark.parametrize("path, key, value", [
    ("regions", "name_field", 5), ("study", "name", True), ("map", "tiles", " "),
    ("layers.schools", "capacity_field", 1.5),
])
def test_strings_are_strict(tmp_path, path, key, value):
    msg = _message(parse_config, _set(FULL, path, key, value), tmp_path)
    assert f"{path}.{key} = {value!r} is not valid; expected a non-empty string" in msg


def test_booleans_and_integers_are_strict(tmp_path):
    assert "network.cache = 1 is not valid; expected true or false" in _message(
        parse_config, _set(FULL, "network", "cache", 1), tmp_path)
    assert "population.band = True is not valid" in _message(
        parse_config, _set(FULL, "population", "band", True), tmp_path)
    assert "target[0].count = '3' is not valid; expected a number" in _message(
        parse_scenario, _set(PLAN, "target.0", "count", "3"), tmp_path)


@pytest.mark.parametrize("table, cls, describe, m, minutes", [
    ({"distance_m": 500}, StraightLine, "500 m straight-line", 500.0, None),
    ({"mode": "drive", "distance_m": 1000}, NetworkDistance, "1,000 m drive (street network)",
     1000.0, None),
    ({"mode": "walk", "minutes": 15}, NetworkTime, "15 min walk", None, 15.0),
])
def test_standards_are_chosen_by_shape(tmp_path, table, cls, describe, m, minutes):
    std = parse_config(_set(FULL, "layers.schools", "standard", table), tmp_path) \
        .layers["schools"].standard
    assert type(std) is cls and std.describe() == describe
    assert (std.standard_m, std.standard_min) == (m, minutes)
    assert std.uses_network == (cls is not StraightLine)
    assert std.threshold == std.limit * std.search_scale
    assert (std.unit, std.weight) == (("min", "time") if minutes else ("m", "length"))


def test_population_is_chosen_by_type_with_its_own_keys(tmp_path):
    vector = {"type": "vector", "source": "p.gpkg", "count_field": "pop",
              "subgroups": {"kids": {"field": "k"}}}
    cfg = parse_config({**FULL, "population": vector}, tmp_path)
    assert isinstance(cfg.population, VectorPopulation)
    assert cfg.population.subgroups["kids"].field == "k"
    cfg = parse_config({**FULL, "population": CENSUS}, tmp_path)
    assert isinstance(cfg.population, CensusPopulation)
    assert cfg.population.cell_size_m == settings.CENSUS_CELL_M
    assert cfg.population.weights is not None
    assert cfg.population.weights.sigma_m == settings.SETTLEMENT_SIGMA_M
    assert cfg.population.weights.floor == settings.SETTLEMENT_FLOOR
    msg = _message(parse_config, _set(FULL, "population", "count_field", "pop"), tmp_path)
    assert "unknown key 'count_field' in [population]" in msg
    both = _set({**FULL, "population": CENSUS}, "population.subgroups.kids", "share", 0.5)
    assert "[population.subgroups.kids] needs exactly one of field" in _message(
        parse_config, both, tmp_path)


def test_defaults_come_from_settings(tmp_path):
    cfg = parse_config(FULL, tmp_path)
    net = cfg.network
    assert net is not None
    assert (net.walk_speed_kmh, net.ferry_speed_kmh, net.ferry_headway_min, net.snap_limit_m,
            net.service_area_width_m) == (settings.WALK_SPEED_KMH, settings.FERRY_SPEED_KMH,
                                          settings.FERRY_HEADWAY_MIN, settings.SNAP_LIMIT_M,
                                          settings.SERVICE_AREA_WIDTH_M)
    assert cfg.map.gap_block_m == settings.MAP_BLOCK_M


def test_choices_are_the_literal_types():
    assert KINDS == (*DEFAULT_STANDARD_M, "custom")
    assert NETWORK_MODES == ("walk", "drive")


def test_models_built_in_code_are_frozen_and_validated(tmp_path):
    spec = SourceSpec(path=tmp_path / "a.csv", key="layers.a", crs="GCJ-02")
    assert spec.paths == (tmp_path / "a.csv",) and spec.crs == "GCJ-02"
    with pytest.raises(pydantic.ValidationError):
        spec.key = "b"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        StraightLine(distance_m="500")  # type: ignore[arg-type]
