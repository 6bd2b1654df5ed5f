"""The study configuration (``study.toml``): schema, defaults and validation.

A study names its regions, its population source and its facility layers. Every
validation error names the file, the key, the value given and what is allowed.
Relative paths resolve against the folder holding the configuration file.

Example
-------
>>> cfg = parse_config({
...     "study": {"name": "Tiny", "crs": "EPSG:32649"},
...     "regions": {"source": "regions.gpkg", "name_field": "name", "group_field": "group"},
...     "population": {"type": "vector", "source": "pop.gpkg", "count_field": "pop"},
...     "layers": {"clinics": {"kind": "clinic", "source": "clinics.csv"}},
... }, base_dir="/data")
>>> cfg.layers["clinics"].standard.distance_m
1000.0
>>> str(cfg.layers["clinics"].source.path)
'/data/clinics.csv'
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj

from equiserve.crs import check_projected_metres, parse_crs
from equiserve.errors import ConfigError

#: Facility kinds known to equiserve, with the default straight-line standard in metres
#: (GB 50180-2018 life circles: 5 min = 300 m, 10 min = 500 m, 15 min = 800-1000 m).
DEFAULT_STANDARD_M: dict[str, float] = {
    "kindergarten": 300.0,
    "school": 500.0,
    "clinic": 1000.0,
    "bus_stop": 500.0,
    "art_centre": 1000.0,
    "sports_park": 1000.0,
}
KINDS = (*DEFAULT_STANDARD_M, "custom")
NETWORK_MODES = ("walk", "drive")
POPULATION_TYPES = ("raster", "vector", "census")

CrsLike = pyproj.CRS | str  # a pyproj CRS, or "GCJ-02" / "BD-09"


@dataclass(frozen=True)
class SourceSpec:
    """Where a vector layer comes from and how to read it.

    Attributes
    ----------
    path : Path
        Absolute path of the file.
    key : str
        The configuration key it was given under, e.g. ``"layers.schools"`` (for messages).
    layer : str or None
        Layer inside a multi-layer file (GeoPackage).
    crs : pyproj.CRS, "GCJ-02", "BD-09" or None
        Declared CRS of the coordinates in the file; overrides the file's own.
    x_field, y_field : str or None
        Coordinate columns of a CSV file (autodetected when omitted).
    filter : str or None
        A pandas query string selecting rows.
    osm_tags : dict or None
        OSM tags selecting features from an ``.osm`` file, as osmnx takes them.
    more_paths : tuple of Path
        Further files read the same way and appended (``source = ["a.osm", "b.osm"]``);
        features repeated across overlapping OSM extracts are kept once.
    """

    path: Path
    key: str
    layer: str | None = None
    crs: CrsLike | None = None
    x_field: str | None = None
    y_field: str | None = None
    filter: str | None = None
    osm_tags: dict[str, Any] | None = None
    more_paths: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file of the source."""
        return (self.path, *self.more_paths)


@dataclass(frozen=True)
class Standard:
    """A service standard: how far (metres) or how long (minutes), and how travelled.

    ``mode`` None means straight-line distance; ``walk``/``drive`` use the street network.
    Exactly one of ``distance_m`` and ``minutes`` is set (minutes need a mode).
    """

    distance_m: float | None = None
    mode: str | None = None
    minutes: float | None = None

    @property
    def uses_network(self) -> bool:
        return self.mode is not None

    @property
    def weight(self) -> str:
        """``length`` (metres) or ``time`` (seconds) for network searches."""
        return "time" if self.minutes is not None else "length"

    @property
    def threshold(self) -> float:
        """The limit in the search's unit: metres, or seconds for minute standards."""
        return self.minutes * 60.0 if self.minutes is not None else float(self.distance_m)

    @property
    def limit(self) -> float:
        """The limit in the unit of the layer's outputs: metres, or minutes."""
        return self.minutes if self.minutes is not None else float(self.distance_m)

    @property
    def search_scale(self) -> float:
        """Search cost units per output unit: 60 for minute standards (searches run in
        seconds), else 1."""
        return 60.0 if self.minutes is not None else 1.0

    @property
    def unit(self) -> str:
        """``m`` or ``min``: the unit of the layer's distances in outputs."""
        return "min" if self.minutes is not None else "m"

    def describe(self) -> str:
        """Plain-language form, e.g. ``'500 m straight-line'``, ``'15 min walk'``."""
        if self.mode is None:
            return f"{self.distance_m:,.0f} m straight-line"
        if self.minutes is not None:
            return f"{self.minutes:g} min {self.mode}"
        return f"{self.distance_m:,.0f} m {self.mode} (street network)"


@dataclass(frozen=True)
class CatchmentConfig:
    """How catchment accessibility (places per person within reach) is computed.

    ``method`` is ``2sfca`` (all pairs within the standard weigh 1), ``e2sfca`` (Gaussian
    decay with ``sigma``, default half the standard, or ``steps``: (upper bound, weight)
    bands) or ``gravity`` (weight ``(max(cost, min_cost) / scale) ** -beta`` within the
    standard). Costs are in the standard's unit (m or min).
    """

    method: str = "2sfca"
    sigma: float | None = None
    steps: tuple[tuple[float, float], ...] | None = None
    beta: float = 1.0
    min_cost: float | None = None


@dataclass(frozen=True)
class LifeCircleConfig:
    """The layers a cell must reach within their standards (e.g. a 15-minute life circle)."""

    name: str
    layers: tuple[str, ...]


@dataclass(frozen=True)
class LayerConfig:
    """One facility layer: what it is, where it is read from and its service standard."""

    name: str
    kind: str
    source: SourceSpec
    standard: Standard
    id_field: str | None = None
    name_field: str | None = None
    capacity_field: str | None = None
    serves: str | None = None
    norm_per_1000: float | None = None
    catchment: CatchmentConfig | None = None


@dataclass(frozen=True)
class SplitSpec:
    """Cut the far-off parts of a region into a region of their own (e.g. offshore islands).

    Polygon parts of ``region`` farther than ``min_distance_m`` from its largest part become
    the region ``name`` in ``group``; ``fields`` sets its attributes (e.g. the census key).
    """

    region: str
    name: str
    group: str
    min_distance_m: float
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegionsConfig:
    """The region polygons, the field naming each region and how regions map to groups."""

    source: SourceSpec
    name_field: str
    group_field: str | None = None
    group_map: dict[str, str] | None = None
    split: tuple[SplitSpec, ...] = ()


@dataclass(frozen=True)
class SubgroupSpec:
    """Where a population subgroup (e.g. children 6-11) comes from.

    ``band``/``path`` for rasters, ``field`` for vector sources and census tables,
    ``share`` (a fraction of the total) for census tables without a column.
    """

    band: int | None = None
    path: Path | None = None
    field: str | None = None
    share: float | None = None


@dataclass(frozen=True)
class SettlementWeights:
    """Census spreading weights from settlement points (towns, villages, subdistricts).

    A cell's weight is its land area times ``floor`` plus the sum over the points of a
    Gaussian of the distance (``sigma_m``): people concentrate around settlements, with a
    thin spread elsewhere. A proxy for when no population grid exists.
    """

    source: SourceSpec
    sigma_m: float = 2500.0
    floor: float = 0.02


@dataclass(frozen=True)
class PopulationConfig:
    """The population source: a raster, a vector grid/points, or census totals per region."""

    type: str
    source: SourceSpec | None = None
    band: int = 1
    count_field: str | None = None
    subgroups: dict[str, SubgroupSpec] = field(default_factory=dict)
    table: Path | None = None
    key_field: str | None = None
    region_key_field: str | None = None
    value_field: str | None = None
    filter: str | None = None
    cell_size_m: float = 100.0
    weights: SettlementWeights | None = None


@dataclass(frozen=True)
class NetworkConfig:
    """The street network: an OSM file, speeds, ferries, snapping and service areas."""

    source: Path
    walk_speed_kmh: float = 4.5
    ferry_speed_kmh: float = 20.0
    ferry_headway_min: float = 60.0
    ferry_wait_min: float | None = None
    snap_limit_m: float = 500.0
    service_area_width_m: float = 50.0
    cache: bool = True
    more_sources: tuple[Path, ...] = ()


@dataclass(frozen=True)
class MapConfig:
    """How map.html is drawn: base map (preset or URL, its datum, key) and gap blocks.

    ``tiles`` is ``osm``, ``none``, ``amap``, ``tianditu`` or a URL template (resolved by
    :func:`equiserve.outputs.maps.basemap.resolve_basemap`); ``key_env`` names an environment
    variable holding the provider's key so that keys stay out of study files.
    """

    tiles: str = "osm"
    tiles_crs: str | None = None
    attribution: str | None = None
    key: str | None = None
    key_env: str | None = None
    gap_block_m: float = 1000.0


@dataclass(frozen=True)
class StudyConfig:
    """A whole study: name, working CRS, regions, population and facility layers."""

    name: str
    regions: RegionsConfig
    population: PopulationConfig
    layers: dict[str, LayerConfig]
    crs: pyproj.CRS | None = None
    network: NetworkConfig | None = None
    life_circle: LifeCircleConfig | None = None
    map: MapConfig = MapConfig()
    description: str | None = None
    synthetic: bool = False
    path: Path | None = None


# ---------------------------------------------------------------------------------------
# reading


def load_config(path: str | os.PathLike[str]) -> StudyConfig:
    """Read and validate a ``study.toml`` file.

    Parameters
    ----------
    path : path-like
        The configuration file. Relative paths inside it resolve against its folder.

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or a key or value is wrong.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"study configuration not found: {path}")
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_config(data, base_dir=path.parent, origin=path)


def parse_config(
    data: dict[str, Any],
    base_dir: str | os.PathLike[str] = ".",
    origin: Path | None = None,
) -> StudyConfig:
    """Validate a configuration already parsed into a dict (e.g. from TOML)."""
    v = _Validator(Path(base_dir).resolve(), origin.name if origin else "study configuration")
    v.keys(data, "", {"study", "regions", "population", "layers", "network", "life_circle",
                  "map"}, required={"study", "regions", "population", "layers"})
    study = v.table(data, "study")
    v.keys(study, "study", {"name", "description", "crs", "synthetic"}, required={"name"})
    crs = None
    if "crs" in study:
        crs = v.crs(study["crs"], "study.crs")
        if isinstance(crs, str):
            raise v.error("study.crs", study["crs"], "a projected CRS in metres (not GCJ-02/BD-09)")
        check_projected_metres(crs, f"{v.origin}: study.crs")
    layers_tbl = v.table(data, "layers")
    if not layers_tbl:
        raise ConfigError(f"{v.origin}: [layers] is empty; add at least one [layers.<name>] table")
    layers = {name: _layer(v, name, v.table(layers_tbl, name, "layers")) for name in layers_tbl}
    network = _network(v, v.table(data, "network")) if "network" in data else None
    life_circle = _life_circle(v, v.table(data, "life_circle", required=False), layers)
    for name, layer in layers.items():
        if layer.standard.uses_network and network is None:
            raise ConfigError(f"{v.origin}: layers.{name}.standard uses mode "
                              f"{layer.standard.mode!r} but the study has no [network]; add "
                              '[network] source = "streets.osm.pbf", or give a straight-line '
                              "standard { distance_m = ... }")
    return StudyConfig(
        name=v.string(study, "name", "study"),
        crs=crs,
        description=v.string(study, "description", "study", default=None),
        synthetic=v.boolean(study, "synthetic", "study", default=False),
        network=network,
        life_circle=life_circle,
        map=_map(v, v.table(data, "map", required=False)),
        regions=_regions(v, v.table(data, "regions")),
        population=_population(v, v.table(data, "population")),
        layers=layers,
        path=origin,
    )


_SOURCE_KEYS = {"source", "source_layer", "crs", "x_field", "y_field", "filter", "osm_tags"}


def _paths(v: _Validator, tbl: dict[str, Any], key: str) -> list[Path]:
    """``source`` as one path, a non-empty list of paths, or a pattern (``osm/*.osm``,
    expanded in sorted order; a pattern matching nothing is an error)."""
    src = tbl.get("source")
    if isinstance(src, list):
        if not src or not all(isinstance(p, str) and p.strip() for p in src):
            raise v.error(f"{key}.source", src, "a path or a non-empty list of paths")
        paths = [v.path({"source": p}, "source", key) for p in src]
    else:
        paths = [v.path(tbl, "source", key)]
    out = []
    for p in paths:
        if any(c in p.name for c in "*?[") and not p.exists():  # a pattern, not a file
            found = sorted(p.parent.glob(p.name))
            if not found:
                raise ConfigError(f"{v.origin}: {key}.source pattern {str(p)!r} matches no "
                                  "file")
            out.extend(found)
        else:
            out.append(p)
    return list(dict.fromkeys(out))  # a file named twice is read once


def _source(v: _Validator, tbl: dict[str, Any], key: str) -> SourceSpec:
    path, *more = _paths(v, tbl, key)
    osm_tags = tbl.get("osm_tags")
    if osm_tags is not None:
        if not isinstance(osm_tags, dict) or not osm_tags:
            raise v.error(f"{key}.osm_tags", osm_tags,
                          'a table of OSM tags, e.g. { amenity = ["school", "kindergarten"] }')
        for tag, val in osm_tags.items():
            ok = val is True or isinstance(val, str) or (
                isinstance(val, list) and val and all(isinstance(x, str) for x in val))
            if not ok:
                raise v.error(f"{key}.osm_tags.{tag}", val,
                              "true (any value), a string, or a list of strings")
    is_osm = path.name.lower().endswith((".osm", ".osm.bz2", ".xml"))
    if is_osm and osm_tags is None:
        raise ConfigError(f"{v.origin}: [{key}] reads an OSM file ({path.name}) but has no "
                          'osm_tags; add e.g. osm_tags = { amenity = ["school"] }')
    return SourceSpec(
        path=path,
        key=key,
        layer=v.string(tbl, "source_layer", key, default=None),
        crs=v.crs(tbl["crs"], f"{key}.crs") if "crs" in tbl else None,
        x_field=v.string(tbl, "x_field", key, default=None),
        y_field=v.string(tbl, "y_field", key, default=None),
        filter=v.string(tbl, "filter", key, default=None),
        osm_tags=osm_tags,
        more_paths=tuple(more),
    )


def _standard(v: _Validator, layer: dict[str, Any], key: str, kind: str) -> Standard:
    if "standard" not in layer:
        if kind not in DEFAULT_STANDARD_M:
            raise ConfigError(f"{v.origin}: [{key}] kind 'custom' needs a standard, "
                              "e.g. standard = { distance_m = 500 }")
        return Standard(DEFAULT_STANDARD_M[kind])
    std = layer["standard"]
    skey = f"{key}.standard"
    if not isinstance(std, dict):
        raise v.error(skey, std, 'a table such as { distance_m = 500 } or '
                      '{ mode = "walk", minutes = 15 }')
    v.keys(std, skey, {"distance_m", "minutes", "mode"})
    if ("distance_m" in std) == ("minutes" in std):
        raise ConfigError(f"{v.origin}: {skey} needs exactly one of distance_m or minutes, "
                          'e.g. { distance_m = 500 } or { mode = "walk", minutes = 15 }')
    mode = v.choice(std, "mode", skey, NETWORK_MODES) if "mode" in std else None
    if "minutes" in std and mode is None:
        raise ConfigError(f"{v.origin}: {skey}: minutes need a travel mode, e.g. "
                          '{ mode = "walk", minutes = 15 } (modes: '
                          + ", ".join(NETWORK_MODES) + ")")
    return Standard(distance_m=v.number(std, "distance_m", skey, default=None, positive=True),
                    mode=mode,
                    minutes=v.number(std, "minutes", skey, default=None, positive=True))


def _network(v: _Validator, tbl: dict[str, Any]) -> NetworkConfig:
    key = "network"
    v.keys(tbl, key, {"source", "walk_speed_kmh", "ferry_speed_kmh", "ferry_headway_min",
                      "ferry_wait_min", "snap_limit_m", "service_area_width_m", "cache"},
           required={"source"})
    path, *more = _paths(v, tbl, key)
    for p in (path, *more):
        if not p.name.lower().endswith((".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml")):
            raise v.error("network.source", str(p.name),
                          "an OpenStreetMap file (.osm, .osm.bz2 or .osm.pbf) or a list of them")
    d = NetworkConfig(path)
    return NetworkConfig(
        source=path,
        walk_speed_kmh=v.number(tbl, "walk_speed_kmh", key, d.walk_speed_kmh, positive=True),
        ferry_speed_kmh=v.number(tbl, "ferry_speed_kmh", key, d.ferry_speed_kmh,
                                 positive=True),
        ferry_headway_min=v.number(tbl, "ferry_headway_min", key, d.ferry_headway_min,
                                   positive=True),
        ferry_wait_min=_non_negative(v, tbl, "ferry_wait_min", key),
        snap_limit_m=v.number(tbl, "snap_limit_m", key, d.snap_limit_m, positive=True),
        service_area_width_m=v.number(tbl, "service_area_width_m", key,
                                      d.service_area_width_m, positive=True),
        cache=v.boolean(tbl, "cache", key, default=True),
        more_sources=tuple(more),
    )


def _non_negative(v: _Validator, tbl: dict[str, Any], name: str, key: str) -> float | None:
    val = v.number(tbl, name, key, None)
    if val is not None and val < 0:
        raise v.error(f"{key}.{name}", val, "a number >= 0")
    return val


def _layer(v: _Validator, name: str, tbl: dict[str, Any]) -> LayerConfig:
    key = f"layers.{name}"
    v.keys(tbl, key, _SOURCE_KEYS | {"kind", "standard", "id_field", "name_field",
                                     "capacity_field", "serves", "norm_per_1000", "catchment"},
           required={"kind", "source"})
    kind = v.choice(tbl, "kind", key, KINDS)
    has_capacity = "capacity_field" in tbl
    for opt in ("norm_per_1000", "catchment"):
        if opt in tbl and not has_capacity:
            raise ConfigError(f"{v.origin}: [{key}] {opt} needs a capacity_field (places, "
                              "beds, seats) to compare people with")
    return LayerConfig(
        name=name,
        kind=kind,
        source=_source(v, tbl, key),
        standard=_standard(v, tbl, key, kind),
        id_field=v.string(tbl, "id_field", key, default=None),
        name_field=v.string(tbl, "name_field", key, default=None),
        capacity_field=v.string(tbl, "capacity_field", key, default=None),
        serves=v.string(tbl, "serves", key, default=None),
        norm_per_1000=v.number(tbl, "norm_per_1000", key, default=None, positive=True),
        catchment=(_catchment(v, v.table(tbl, "catchment", key), f"{key}.catchment")
                   if "catchment" in tbl else (CatchmentConfig() if has_capacity else None)),
    )


CATCHMENT_METHODS = ("2sfca", "e2sfca", "gravity")


def _catchment(v: _Validator, tbl: dict[str, Any], key: str) -> CatchmentConfig:
    v.keys(tbl, key, {"method", "sigma", "steps", "beta", "min_cost"})
    method = v.choice(tbl, "method", key, CATCHMENT_METHODS) if "method" in tbl else "2sfca"
    steps = None
    if "steps" in tbl:
        raw = tbl["steps"]
        ok = isinstance(raw, list) and raw and all(
            isinstance(b, list) and len(b) == 2 and all(
                isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in b)
            for b in raw)
        if not ok:
            raise v.error(f"{key}.steps", raw, "a list of [upper_bound, weight] pairs, e.g. "
                          "[[250, 1.0], [500, 0.6]]")
        steps = tuple((float(b), float(w)) for b, w in sorted(raw))
    return CatchmentConfig(
        method=method,
        sigma=v.number(tbl, "sigma", key, default=None, positive=True),
        steps=steps,
        beta=v.number(tbl, "beta", key, default=1.0, positive=True),
        min_cost=v.number(tbl, "min_cost", key, default=None, positive=True),
    )


def _life_circle(v: _Validator, tbl: dict[str, Any], layers: dict[str, LayerConfig]
                 ) -> LifeCircleConfig:
    key = "life_circle"
    v.keys(tbl, key, {"name", "layers"})
    names = tbl.get("layers", list(layers))
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise v.error(f"{key}.layers", names, "a non-empty list of layer names")
    unknown = [n for n in names if n not in layers]
    if unknown:
        raise ConfigError(f"{v.origin}: {key}.layers names unknown layer(s) "
                          f"{', '.join(unknown)}; layers: {', '.join(layers)}")
    return LifeCircleConfig(name=v.string(tbl, "name", key, default="life circle"),
                            layers=tuple(dict.fromkeys(names)))


def _settlement_weights(v: _Validator, tbl: dict[str, Any]) -> SettlementWeights:
    key = "population.weights"
    v.keys(tbl, key, _SOURCE_KEYS - {"osm_tags"} | {"sigma_m", "floor"}, required={"source"})
    floor = v.number(tbl, "floor", key, default=0.02)
    if floor <= 0:
        raise v.error(f"{key}.floor", floor, "a number greater than 0 (the density far from "
                      "every point; 0 would leave regions without a point empty)")
    return SettlementWeights(
        source=_source(v, {k: tbl[k] for k in tbl if k not in ("sigma_m", "floor")}, key),
        sigma_m=v.number(tbl, "sigma_m", key, default=2500.0, positive=True), floor=floor)


def _map(v: _Validator, tbl: dict[str, Any]) -> MapConfig:
    v.keys(tbl, "map", {"tiles", "tiles_crs", "attribution", "key", "key_env", "gap_block_m"})
    return MapConfig(
        tiles=v.string(tbl, "tiles", "map", default="osm"),
        tiles_crs=v.string(tbl, "tiles_crs", "map", default=None),
        attribution=v.string(tbl, "attribution", "map", default=None),
        key=v.string(tbl, "key", "map", default=None),
        key_env=v.string(tbl, "key_env", "map", default=None),
        gap_block_m=v.number(tbl, "gap_block_m", "map", default=1000.0, positive=True),
    )


def _regions(v: _Validator, tbl: dict[str, Any]) -> RegionsConfig:
    v.keys(tbl, "regions", _SOURCE_KEYS - {"x_field", "y_field", "osm_tags"}
           | {"name_field", "group_field", "group_map", "split"},
           required={"source", "name_field"})
    splits = []
    entries = tbl.get("split", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise v.error("regions.split", entries, "an array of tables [[regions.split]]")
    for i, sp in enumerate(entries):
        where = f"regions.split[{i}]"
        v.keys(sp, where, {"region", "name", "group", "min_distance_m", "fields"},
               required={"region", "name", "group", "min_distance_m"})
        fields = sp.get("fields", {})
        if not isinstance(fields, dict):
            raise v.error(f"{where}.fields", fields, 'a table like { adcode = "wanshan" }')
        splits.append(SplitSpec(v.string(sp, "region", where), v.string(sp, "name", where),
                                v.string(sp, "group", where),
                                v.number(sp, "min_distance_m", where, positive=True),
                                dict(fields)))
    if ("group_field" in tbl) == ("group_map" in tbl):
        raise ConfigError(f"{v.origin}: [regions] needs exactly one of group_field (a field of "
                          "the region layer) or group_map (a table region name -> group)")
    group_map = None
    if "group_map" in tbl:
        gm = tbl["group_map"]
        if not isinstance(gm, dict) or not all(isinstance(g, str) for g in gm.values()):
            raise v.error("regions.group_map", gm, 'a table like { "Doumen" = "west" }')
        group_map = dict(gm)
    return RegionsConfig(
        source=_source(v, tbl, "regions"),
        name_field=v.string(tbl, "name_field", "regions"),
        group_field=v.string(tbl, "group_field", "regions", default=None),
        group_map=group_map, split=tuple(splits),
    )


def _population(v: _Validator, tbl: dict[str, Any]) -> PopulationConfig:
    key = "population"
    ptype = v.choice(tbl, "type", key, POPULATION_TYPES)
    common = {"type", "subgroups"}
    if ptype == "raster":
        v.keys(tbl, key, common | {"source", "band", "crs"}, required={"source"})
        if isinstance(tbl["source"], list) or len(_paths(v, tbl, key)) > 1:
            raise v.error("population.source", tbl["source"],
                          "one raster file (mosaic several first, e.g. gdal_merge.py)")
    elif ptype == "vector":
        v.keys(tbl, key, common | _SOURCE_KEYS - {"osm_tags"} | {"count_field"},
               required={"source", "count_field"})
    else:
        v.keys(tbl, key, common | {"table", "key_field", "region_key_field", "value_field",
                                   "filter", "cell_size_m", "weights"},
               required={"table", "key_field", "region_key_field", "value_field"})
    subgroups = {}
    sub_tbl = v.table(tbl, "subgroups", key, required=False)
    allowed = {"raster": {"band", "source"}, "vector": {"field"}, "census": {"field", "share"}}
    for sname, spec in sub_tbl.items():
        skey = f"population.subgroups.{sname}"
        if not isinstance(spec, dict):
            raise v.error(skey, spec, "a table, e.g. { band = 2 } or { field = \"age_6_11\" }")
        v.keys(spec, skey, allowed[ptype])
        if not spec:
            raise ConfigError(f"{v.origin}: [{skey}] is empty; give one of "
                              + ", ".join(sorted(allowed[ptype])))
        share = v.number(spec, "share", skey, default=None)
        if share is not None and not 0 <= share <= 1:
            raise v.error(f"{skey}.share", share, "a fraction between 0 and 1")
        subgroups[sname] = SubgroupSpec(
            band=v.integer(spec, "band", skey, default=None, minimum=1),
            path=v.path(spec, "source", skey) if "source" in spec else None,
            field=v.string(spec, "field", skey, default=None),
            share=share,
        )
    if ptype == "census":
        return PopulationConfig(
            type=ptype,
            subgroups=subgroups,
            table=v.path(tbl, "table", key),
            key_field=v.string(tbl, "key_field", key),
            region_key_field=v.string(tbl, "region_key_field", key),
            value_field=v.string(tbl, "value_field", key),
            filter=v.string(tbl, "filter", key, default=None),
            cell_size_m=v.number(tbl, "cell_size_m", key, default=100.0, positive=True),
            weights=_settlement_weights(v, v.table(tbl, "weights", key))
            if "weights" in tbl else None,
        )
    return PopulationConfig(
        type=ptype,
        source=_source(v, tbl, key),
        band=v.integer(tbl, "band", key, default=1, minimum=1),
        count_field=v.string(tbl, "count_field", key, default=None),
        subgroups=subgroups,
    )


class _Validator:
    """Typed getters that raise ConfigError naming the file, key, value and what is allowed."""

    _MISSING = object()

    def __init__(self, base_dir: Path, origin: str) -> None:
        self.base_dir = base_dir
        self.origin = origin

    def error(self, key: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{self.origin}: {key} = {value!r} is not valid; expected {allowed}")

    def keys(self, tbl: dict[str, Any], where: str, allowed: set[str],
             required: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        label = f"[{where}]" if where else "the top level"
        for k in tbl:
            if k not in allowed:
                close = difflib.get_close_matches(k, sorted(allowed), n=1, cutoff=0.6)
                hint = f"; did you mean '{close[0]}'?" if close else "."
                raise ConfigError(f"{self.origin}: unknown key '{k}' in {label}{hint} "
                                  f"Allowed keys: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(tbl))
        if missing:
            raise ConfigError(f"{self.origin}: {label} is missing required key(s) "
                              f"{', '.join(repr(m) for m in missing)}")

    def table(self, tbl: dict[str, Any], name: str, where: str = "",
              required: bool = True) -> dict[str, Any]:
        key = f"{where}.{name}" if where else name
        if name not in tbl:
            if required:
                raise ConfigError(f"{self.origin}: missing table [{key}]")
            return {}
        val = tbl[name]
        if not isinstance(val, dict):
            raise self.error(key, val, f"a table [{key}]")
        return val

    def _get(self, tbl: dict[str, Any], name: str, where: str, default: Any) -> Any:
        if name in tbl:
            return tbl[name]
        if default is self._MISSING:
            raise ConfigError(f"{self.origin}: [{where}] is missing required key '{name}'")
        return default

    def string(self, tbl: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> Any:
        val = self._get(tbl, name, where, default)
        if val is not default and (not isinstance(val, str) or not val.strip()):
            raise self.error(f"{where}.{name}", val, "a non-empty string")
        return val

    def boolean(self, tbl: dict[str, Any], name: str, where: str, default: Any = _MISSING) -> Any:
        val = self._get(tbl, name, where, default)
        if not isinstance(val, bool):
            raise self.error(f"{where}.{name}", val, "true or false")
        return val

    def number(self, tbl: dict[str, Any], name: str, where: str, default: Any = _MISSING,
               positive: bool = False) -> Any:
        val = self._get(tbl, name, where, default)
        if val is default:
            return val
        if isinstance(val, bool) or not isinstance(val, int | float) or val != val:
            raise self.error(f"{where}.{name}", val, "a number")
        if positive and val <= 0:
            raise self.error(f"{where}.{name}", val, "a number greater than 0")
        return float(val)

    def integer(self, tbl: dict[str, Any], name: str, where: str, default: Any = _MISSING,
                minimum: int | None = None) -> Any:
        val = self._get(tbl, name, where, default)
        if val is default:
            return val
        if isinstance(val, bool) or not isinstance(val, int) or (
                minimum is not None and val < minimum):
            raise self.error(f"{where}.{name}", val, f"an integer >= {minimum}")
        return val

    def choice(self, tbl: dict[str, Any], name: str, where: str, choices: tuple[str, ...]) -> str:
        val = self._get(tbl, name, where, self._MISSING)
        if val not in choices:
            raise self.error(f"{where}.{name}", val, "one of " + ", ".join(choices))
        return val

    def path(self, tbl: dict[str, Any], name: str, where: str) -> Path:
        val = self.string(tbl, name, where)
        p = Path(val).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def crs(self, value: Any, key: str) -> CrsLike:
        return parse_crs(value, f"{self.origin}: {key}")
