"""study.toml validation: precise messages naming the key, the value and what is allowed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from equiserve.config import DEFAULT_STANDARD_M, load_config, parse_config
from equiserve.errors import ConfigError

BASE = {
    "study": {"name": "T"},
    "regions": {"source": "regions.gpkg", "name_field": "name", "group_field": "group"},
    "population": {"type": "raster", "source": "pop.tif", "band": 1,
                   "subgroups": {"kids": {"band": 2}}},
    "layers": {
        "schools": {"kind": "school", "source": "schools.csv", "crs": "GCJ-02",
                    "capacity_field": "seats", "serves": "kids",
                    "standard": {"distance_m": 500}},
        "parks": {"kind": "sports_park", "source": "/abs/parks.gpkg"},
    },
}


def with_(path: str, value: object) -> dict:
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return data


def test_valid_config_resolves_paths_and_defaults(tmp_path):
    cfg = parse_config(BASE, base_dir=tmp_path)
    assert cfg.regions.source.path == tmp_path / "regions.gpkg"
    assert cfg.layers["parks"].source.path == Path("/abs/parks.gpkg")
    assert cfg.layers["schools"].source.crs == "GCJ-02"
    assert cfg.layers["schools"].standard.distance_m == 500
    assert cfg.layers["parks"].standard.distance_m == DEFAULT_STANDARD_M["sports_park"]
    assert cfg.population.subgroups["kids"].band == 2
    assert cfg.crs is None


def test_load_config_resolves_relative_to_its_folder(tmp_path):
    sub = tmp_path / "cfg"
    sub.mkdir()
    (sub / "study.toml").write_text(
        '[study]\nname = "X"\n[regions]\nsource = "../r.gpkg"\nname_field = "n"\n'
        'group_map = { A = "east" }\n[population]\ntype = "vector"\nsource = "p.gpkg"\n'
        'count_field = "pop"\n[layers.c]\nkind = "clinic"\nsource = "data/c.csv"\n',
        encoding="utf-8")
    cfg = load_config(sub / "study.toml")
    assert cfg.regions.source.path == tmp_path / "r.gpkg"
    assert cfg.layers["c"].source.path == sub / "data" / "c.csv"
    assert cfg.regions.group_map == {"A": "east"}


def test_misspelt_key_is_named_with_suggestion(tmp_path):
    data = with_("layers.schools.standrad", {"distance_m": 500})
    with pytest.raises(ConfigError, match=r"unknown key 'standrad' in \[layers.schools\]; "
                                          r"did you mean 'standard'\?"):
        parse_config(data, base_dir=tmp_path)


def test_unknown_kind_lists_allowed(tmp_path):
    with pytest.raises(ConfigError) as exc:
        parse_config(with_("layers.schools.kind", "hospital"), base_dir=tmp_path)
    msg = str(exc.value)
    assert "layers.schools.kind = 'hospital'" in msg and "clinic" in msg and "custom" in msg


@pytest.mark.parametrize("value", [0, -5, "500", True])
def test_bad_distance_is_rejected(tmp_path, value):
    with pytest.raises(ConfigError, match=r"layers.schools.standard.distance_m"):
        parse_config(with_("layers.schools.standard", {"distance_m": value}), base_dir=tmp_path)


def test_geographic_working_crs_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match=r"study.crs.*geographic.*metres.*EPSG:32649|"
                                          r"study.crs.*metres"):
        parse_config(with_("study.crs", "EPSG:4326"), base_dir=tmp_path)


def test_projected_working_crs_is_kept(tmp_path):
    cfg = parse_config(with_("study.crs", "EPSG:32649"), base_dir=tmp_path)
    assert cfg.crs.to_epsg() == 32649


def test_bad_crs_value_names_key(tmp_path):
    with pytest.raises(ConfigError, match=r"layers.schools.crs"):
        parse_config(with_("layers.schools.crs", "EPSG:999999"), base_dir=tmp_path)


def test_missing_required_key(tmp_path):
    with pytest.raises(ConfigError, match=r"\[layers.schools\] is missing required key\(s\) "
                                          r"'source'"):
        parse_config(with_("layers.schools.source", None), base_dir=tmp_path)


def test_group_field_and_map_are_exclusive(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of group_field"):
        parse_config(with_("regions.group_map", {"A": "east"}), base_dir=tmp_path)


def test_custom_kind_needs_a_standard(tmp_path):
    data = with_("layers.parks.kind", "custom")
    with pytest.raises(ConfigError, match="kind 'custom' needs a standard"):
        parse_config(data, base_dir=tmp_path)


def test_network_standard_without_network_explains_what_is_missing(tmp_path):
    data = with_("layers.schools.standard", {"mode": "walk", "minutes": 15})
    with pytest.raises(ConfigError, match=r"layers.schools.standard uses mode 'walk' but the "
                                          r"study has no \[network\]"):
        parse_config(data, base_dir=tmp_path)


def test_network_standards_parse(tmp_path):
    data = with_("network", {"source": "city.osm.pbf", "walk_speed_kmh": 5})
    data["layers"]["schools"]["standard"] = {"mode": "walk", "minutes": 10}
    data["layers"]["parks"]["standard"] = {"mode": "drive", "distance_m": 2000}
    cfg = parse_config(data, base_dir=tmp_path)
    assert cfg.network.source == tmp_path / "city.osm.pbf"
    assert cfg.network.walk_speed_kmh == 5.0 and cfg.network.snap_limit_m == 500.0
    s = cfg.layers["schools"].standard
    assert (s.mode, s.weight, s.threshold, s.describe()) == ("walk", "time", 600.0,
                                                             "10 min walk")
    p = cfg.layers["parks"].standard
    assert (p.weight, p.threshold, p.unit) == ("length", 2000.0, "m")


@pytest.mark.parametrize("std,match", [
    ({"minutes": 15}, "minutes need a travel mode"),
    ({"mode": "bike", "minutes": 15}, r"mode = 'bike' is not valid; expected one of walk, drive"),
    ({"mode": "walk", "minutes": 15, "distance_m": 500}, "exactly one of distance_m or minutes"),
])
def test_bad_network_standards(tmp_path, std, match):
    data = with_("network", {"source": "city.osm"})
    data["layers"]["schools"]["standard"] = std
    with pytest.raises(ConfigError, match=match):
        parse_config(data, base_dir=tmp_path)


def test_network_source_must_be_osm(tmp_path):
    with pytest.raises(ConfigError, match=r"network.source = 'roads.shp'.*\.osm\.pbf"):
        parse_config(with_("network", {"source": "roads.shp"}), base_dir=tmp_path)


def test_osm_source_needs_tags(tmp_path):
    data = with_("layers.parks.source", "central.osm")
    with pytest.raises(ConfigError, match="osm_tags"):
        parse_config(data, base_dir=tmp_path)


def test_subgroup_keys_depend_on_population_type(tmp_path):
    data = with_("population.subgroups", {"kids": {"field": "k"}})
    with pytest.raises(ConfigError, match=r"unknown key 'field' in \[population.subgroups.kids\]"):
        parse_config(data, base_dir=tmp_path)


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "study.toml"
    bad.write_text("[study\nname='x'", encoding="utf-8")
    with pytest.raises(ConfigError, match="study.toml: not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_sources_may_be_lists_or_patterns(tmp_path):
    for name in ("b.gpkg", "a.gpkg", "c.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    cfg = parse_config(with_("layers.parks.source", "*.gpkg"), tmp_path)
    spec = cfg.layers["parks"].source
    assert [p.name for p in spec.paths] == ["a.gpkg", "b.gpkg"]  # sorted
    cfg = parse_config(with_("layers.parks.source", ["c.csv", "a.gpkg"]), tmp_path)
    assert [p.name for p in cfg.layers["parks"].source.paths] == ["c.csv", "a.gpkg"]
    with pytest.raises(ConfigError, match=r"pattern .*\*\.shp' matches no file"):
        parse_config(with_("layers.parks.source", "*.shp"), tmp_path)
    with pytest.raises(ConfigError, match="a path or a non-empty list of paths"):
        parse_config(with_("layers.parks.source", []), tmp_path)
    with pytest.raises(ConfigError, match="one raster file"):
        parse_config(with_("population.source", ["a.tif", "b.tif"]), tmp_path)


def test_settlement_weights_and_region_split_validate(tmp_path):
    census = {"type": "census", "table": "c.csv", "key_field": "k", "region_key_field": "k",
              "value_field": "v"}
    data = with_("population", census | {"weights": {"source": "towns.csv", "floor": 0}})
    with pytest.raises(ConfigError, match="floor = 0.0 is not valid; expected a number greater"):
        parse_config(data, tmp_path)
    data = with_("regions.split", [{"region": "A", "name": "B", "group": "island"}])
    with pytest.raises(ConfigError, match=r"regions.split\[0\]\] is missing.*min_distance_m"):
        parse_config(data, tmp_path)
    data = with_("regions.split", [{"region": "A", "name": "B", "group": "island",
                                    "min_distance_m": 5000, "fields": {"code": "x"}}])
    assert parse_config(data, tmp_path).regions.split[0].fields == {"code": "x"}


@pytest.mark.parametrize("kind,match", [
    ("clinc", r"layers.parks.kind = 'clinc' is not valid; expected one of kindergarten"),
    (5, r"layers.parks.kind = 5 is not valid; expected one of"),
    (None, r"\[layers.parks\] is missing required key\(s\) 'kind'$"),
])
def test_a_bad_kind_is_named_not_the_standard_it_lacks(tmp_path, kind, match):
    """A layer without a standard takes its kind's default: a wrong or missing kind is the
    error, never "missing 'standard'"."""
    with pytest.raises(ConfigError, match=match):
        parse_config(with_("layers.parks.kind", kind), base_dir=tmp_path)
