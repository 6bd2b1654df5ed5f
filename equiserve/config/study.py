"""The study configuration (``study.toml``): one model per table, defaults, reading.

A study names its regions, its population source and its facility layers. Every
validation error names the file, the key, the value given and what is allowed (see
:mod:`equiserve.config._messages`). Relative paths resolve against the folder holding the
configuration file.

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
>>> cfg.population.type, cfg.layers["clinics"].standard.describe()
('vector', '1,000 m straight-line')
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pyproj
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from equiserve.config._messages import (
    fill_in,
    invalid,
    number_entries,
    problem,
    read_toml,
    validate,
)
from equiserve.config._model import ConfigModel, FileModel, base_dir, exactly_one, reading
from equiserve.config.population import PopulationConfig
from equiserve.config.sources import SOURCE_KEYS, HasSource, expand_sources
from equiserve.config.standards import Standard, default_standard
from equiserve.config.types import (
    CatchmentMethod,
    FilePath,
    Kind,
    NonNegative,
    Positive,
    ProjectedCrs,
    Share,
    Text,
    TupleOf,
)
from equiserve.settings import (
    ATTACH_TAGS,
    ATTACH_UNDERGROUND,
    FERRY_HEADWAY_MIN,
    FERRY_SPEED_KMH,
    MAP_BLOCK_M,
    SERVICE_AREA_WIDTH_M,
    SNAP_LIMIT_M,
    WALK_SPEED_KMH,
)

#: File names a street network is read from.
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml")


def _pairs(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(b, list) for b in value):
        return tuple(tuple(b) for b in value)
    return value


#: Distance bands of E2SFCA: (upper bound, weight) pairs in the standard's unit.
Steps = Annotated[
    tuple[tuple[NonNegative, NonNegative], ...],
    BeforeValidator(_pairs),
    AfterValidator(lambda steps: tuple(sorted(steps))),
    Field(min_length=1, description="a list of [upper_bound, weight] pairs, e.g. "
                                    "[[250, 1.0], [500, 0.6]]"),
]


class CatchmentConfig(ConfigModel):
    """How catchment accessibility (places per person within reach) is computed.

    ``method`` is ``2sfca`` (all pairs within the standard weigh 1), ``e2sfca`` (Gaussian
    decay with ``sigma``, default half the standard, or ``steps``: (upper bound, weight)
    bands) or ``gravity`` (weight ``(max(cost, min_cost) / scale) ** -beta`` within the
    standard). Costs are in the standard's unit (m or min).
    """

    method: CatchmentMethod = "2sfca"
    sigma: Positive | None = None
    steps: Steps | None = None
    beta: Positive = 1.0
    min_cost: Positive | None = None


class LifeCircleConfig(ConfigModel):
    """The layers a cell must reach within their standards (e.g. a 15-minute life circle);
    every layer when ``layers`` is not given."""

    name: Text = "life circle"
    layers: Annotated[TupleOf[str], Field(min_length=1, description=(
        "a non-empty list of layer names")), AfterValidator(lambda n: tuple(dict.fromkeys(n)))]


def _year_keys(value: Any) -> Any:
    """TOML keys are text: ``{ 2025 = 8000 }`` arrives as ``{"2025": 8000}``."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        try:
            out[int(key)] = v
        except (TypeError, ValueError):
            raise invalid("a table of years and numbers, e.g. { 2025 = 8000, 2030 = 20000 }",
                          at=str(key), value=key) from None
    return out


#: A table of people (or another figure) by year, e.g. ``{ 2025 = 8000, 2030 = 20000 }``.
ByYear = Annotated[dict[int, NonNegative], BeforeValidator(_year_keys), Field(
    min_length=1, description="a table of years and numbers, e.g. { 2025 = 8000 }")]


class TotalsRow(ConfigModel):
    """A region's (or group's) projected population in a year (``[forecast] totals``)."""

    region: Text
    year: int
    population: NonNegative


class ShareRow(ConfigModel):
    """A subgroup's share of the population of a region (or group) in a year
    (``[forecast] shares``)."""

    region: Text
    year: int
    subgroup: Text
    share: Share


class AreaConfig(HasSource):
    """A development area (``[[forecast.area]]``): polygons and the residents expected in
    each year, spread evenly over the part of their land inside the regions. A forecast
    year it does not list has the residents of the last year before it that it lists (0
    before the first); ``shares`` gives its own subgroup shares (default: its region's).
    """

    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS - {"x_field", "y_field", "sheet",
                                                             "osm_tags"}
    not_in_file: ClassVar[frozenset[str]] = frozenset({"index"})

    name: Text
    residents: ByYear
    shares: dict[str, Share] = Field(default_factory=dict)
    index: int = 0

    @classmethod
    def table_key(cls, data: dict[str, Any]) -> str:
        """``forecast.area[<i>]``."""
        return f"forecast.area[{data.get('index', 0)}]"

    def residents_in(self, year: int) -> float:
        """New residents in ``year``: those of the last listed year up to it, else 0.

        >>> a = AreaConfig.model_construct(residents={2025: 800.0, 2030: 2000.0})
        >>> [a.residents_in(y) for y in (2020, 2025, 2028, 2035)]
        [0.0, 800.0, 800.0, 2000.0]
        """
        listed = [y for y in self.residents if y <= year]
        return float(self.residents[max(listed)]) if listed else 0.0


#: Tables given in study.toml as a file (CSV, TXT, TSV, Excel) or as an array of tables.
TotalsTable = FilePath | Annotated[TupleOf[TotalsRow], Field(min_length=1)]
SharesTable = FilePath | Annotated[TupleOf[ShareRow], Field(min_length=1)]


class ForecastConfig(ConfigModel):
    """The ``[forecast]`` table (issue 14): the base year, the target years, annual growth
    by region or group name (a region's own rate, else its group's, else 0), projected
    totals and subgroup shares per region and year (a file or an array of tables), the
    enrolment rate per layer and development areas (see :mod:`equiserve.analysis.forecast`);
    ``note`` states the assumptions behind them (shown in the report).
    """

    base_year: Annotated[int, Field(ge=1900, le=2200, description="a year such as 2020")]
    years: Annotated[TupleOf[int], Field(min_length=1, description=(
        "a non-empty list of years, e.g. [2025, 2030]"))]
    growth: dict[str, Annotated[float, Field(ge=-1.0, allow_inf_nan=False, description=(
        "an annual rate of at least -1 (-100 %), e.g. 0.03 for 3 % a year"))]] = {}
    totals: TotalsTable | None = None
    shares: SharesTable | None = None
    enrolment: dict[str, Annotated[float, Field(gt=0, le=2, description=(
        "a rate above 0, e.g. 0.98 (places needed per person counted)"))]] = {}
    area: TupleOf[AreaConfig] = ()
    note: Text | None = None

    @property
    def all_years(self) -> tuple[int, ...]:
        """The base year and the target years, in order, each once."""
        return tuple(sorted({self.base_year, *self.years}))

    @model_validator(mode="before")
    @classmethod
    def _fill_in(cls, data: Any) -> Any:
        return number_entries(data, "area", "forecast.area", AreaConfig.toml_keys())

    @model_validator(mode="after")
    def _forward(self) -> ForecastConfig:
        early = [y for y in self.years if y < self.base_year]
        if early:
            raise problem(f"forecast.years holds {', '.join(map(str, early))}, before "
                          f"base_year {self.base_year}; a forecast runs forward from it")
        for area in self.area:
            before = [y for y in area.residents if y < self.base_year]
            if before:
                raise problem(f"forecast.area[{area.index}] ({area.name!r}) gives residents "
                              f"for {', '.join(map(str, before))}, before base_year "
                              f"{self.base_year}")
        names = [a.name for a in self.area]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise problem(f"two [[forecast.area]] tables are named {twice[0]!r}; name each "
                          "development area once")
        return self


class LayerConfig(HasSource):
    """One facility layer: what it is, where it is read from and its service standard.

    A layer with ``capacity_field`` and no ``catchment`` gets the default catchment (2SFCA).
    """

    not_in_file: ClassVar[frozenset[str]] = frozenset({"name"})

    name: Text
    kind: Kind
    standard: Standard
    id_field: Text | None = None
    name_field: Text | None = None
    capacity_field: Text | None = None
    serves: Text | None = None
    norm_per_1000: Positive | None = None
    catchment: CatchmentConfig | None = None

    @classmethod
    def table_key(cls, data: dict[str, Any]) -> str:
        """``layers.<name>``."""
        return f"layers.{data.get('name')}"

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for opt in ("norm_per_1000", "catchment"):
            if opt in data and "capacity_field" not in data:
                raise problem(f"[{{key}}] {opt} needs a capacity_field (places, beds, seats) "
                              "to compare people with")
        out = dict(data)
        kind = data.get("kind")
        if "standard" not in data and kind != "custom":
            # a missing or unknown kind is the error to report, not the missing standard
            # it would have given: a placeholder standard keeps it the only one
            out["standard"] = default_standard(kind) if isinstance(kind, str) else None
            if out["standard"] is None:
                out["standard"] = {"distance_m": 1.0}
        elif "standard" not in data:
            raise problem("[{key}] kind 'custom' needs a standard, e.g. standard = "
                          "{ distance_m = 500 }")
        if "capacity_field" in data and "catchment" not in data:
            out["catchment"] = CatchmentConfig()
        return out


class SplitSpec(ConfigModel):
    """Cut the far-off parts of a region into a region of their own (e.g. offshore islands).

    Polygon parts of ``region`` farther than ``min_distance_m`` from its largest part become
    the region ``name`` in ``group``; ``fields`` sets its attributes (e.g. the census key).
    """

    region: Text
    name: Text
    group: Text
    min_distance_m: Positive
    fields: Annotated[dict[str, Any], Field(
        description='a table like { adcode = "wanshan" }')] = Field(default_factory=dict)


class RegionsConfig(HasSource):
    """The region polygons, the field naming each region and how regions map to groups:
    exactly one of ``group_field`` (a field of the layer) and ``group_map``."""

    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS - {"x_field", "y_field", "sheet",
                                                             "osm_tags"}
    table: ClassVar[str] = "regions"

    name_field: Text
    group_field: Text | None = None
    group_map: Annotated[dict[str, Text], Field(
        description='a table like { "Doumen" = "west" }')] | None = None
    split: TupleOf[SplitSpec] = ()

    @model_validator(mode="after")
    def _one_grouping(self) -> RegionsConfig:
        exactly_one(self, "group_field", "group_map", "[regions] needs exactly one of "
                    "group_field (a field of the region layer) or group_map (a table region "
                    "name -> group)")
        return self


class NetworkConfig(ConfigModel):
    """The street network: OSM files, speeds, ferries, snapping and service areas.

    ``source`` takes a path, a list or a pattern like a layer's; its first file is
    ``source`` and the rest ``more_sources``. Defaults come from :mod:`equiserve.settings`.
    """

    not_in_file: ClassVar[frozenset[str]] = frozenset({"more_sources"})

    source: Path
    walk_speed_kmh: Positive = WALK_SPEED_KMH
    ferry_speed_kmh: Positive = FERRY_SPEED_KMH
    ferry_headway_min: Positive = FERRY_HEADWAY_MIN
    ferry_wait_min: NonNegative | None = None
    snap_limit_m: Positive = SNAP_LIMIT_M
    service_area_width_m: Positive = SERVICE_AREA_WIDTH_M
    cache: bool = True
    more_sources: TupleOf[Path] = ()
    attach_exclude: dict[str, TupleOf[Text]] | None = Field(
        default=None, description='a table of OSM tags and values, e.g. { tunnel = ["yes"], '
                                  'indoor = [] }')
    attach_underground: bool = ATTACH_UNDERGROUND
    attach: Literal["street", "nearest"] = Field(
        default="street", description='"street" (the street a person walks from: eligible '
                                      'segments on parts that lead somewhere) or "nearest" '
                                      '(the nearest segment, whatever it is; for comparison)')

    @model_validator(mode="after")
    def _attach_tags(self) -> NetworkConfig:
        for tag in self.attach_exclude or {}:
            if tag not in ATTACH_TAGS:
                close = difflib.get_close_matches(tag, ATTACH_TAGS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise invalid("one of the tags kept with a network" + hint + ": "
                              + ", ".join(ATTACH_TAGS), at=f"attach_exclude.{tag}", value=tag)
        return self

    @model_validator(mode="before")
    @classmethod
    def _expand_source(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or isinstance(data.get("source", Path()), Path):
            return data
        first, *more = paths = expand_sources(data["source"], base_dir(info))
        for p in paths:
            if not p.name.lower().endswith(OSM_SUFFIXES):
                raise invalid("an OpenStreetMap file (.osm, .osm.bz2 or .osm.pbf) or a list "
                              "of them", at="source", value=p.name)
        return {**data, "source": first, "more_sources": tuple(more)}


class MapConfig(ConfigModel):
    """How map.html is drawn: base map (preset or URL, its datum, key) and gap blocks.

    ``tiles`` is ``osm``, ``none``, ``amap``, ``tianditu`` or a URL template (resolved by
    :func:`equiserve.outputs.maps.basemap.resolve_basemap`); ``key_env`` names an environment
    variable holding the provider's key so that keys stay out of study files.
    """

    tiles: Text = "osm"
    tiles_crs: Text | None = None
    attribution: Text | None = None
    key: Text | None = None
    key_env: Text | None = None
    gap_block_m: Positive = MAP_BLOCK_M


class StudyInfo(ConfigModel):
    """The ``[study]`` table: name, description, working CRS and whether data is made up."""

    name: Text
    description: Text | None = None
    crs: ProjectedCrs | None = None
    synthetic: bool = False


class StudyConfig(FileModel):
    """A whole study: name, working CRS, regions, population and facility layers.

    ``path`` is the file it was read from (None when built from a dict).
    """

    header: ClassVar[str] = "study"

    study: StudyInfo
    regions: RegionsConfig
    population: PopulationConfig
    layers: dict[str, LayerConfig]
    network: NetworkConfig | None = None
    life_circle: LifeCircleConfig | None = None
    forecast: ForecastConfig | None = None
    map: MapConfig = MapConfig()

    @property
    def crs(self) -> pyproj.CRS | None:
        """``study.crs``: the working CRS (None: the UTM zone of the study area)."""
        return self.study.crs

    @property
    def synthetic(self) -> bool:
        """``study.synthetic``: the data is made up (said on every output)."""
        return self.study.synthetic

    @model_validator(mode="before")
    @classmethod
    def _fill_in(cls, data: Any) -> Any:
        layers = data.get("layers") if isinstance(data, dict) else None
        if not isinstance(layers, dict):
            return data
        if not layers:
            raise problem("[layers] is empty; add at least one [layers.<name>] table")
        out = {**data, "layers": {n: fill_in(t, f"layers.{n}", LayerConfig.toml_keys(), name=n)
                                  for n, t in layers.items()}}
        circle = data.get("life_circle", {})
        if isinstance(circle, dict) and "layers" not in circle:
            out["life_circle"] = {**circle, "layers": list(layers)}
        return out

    @model_validator(mode="after")
    def _layers_agree(self) -> StudyConfig:
        for name, layer in self.layers.items():
            if layer.standard.uses_network and self.network is None:
                raise problem(f"layers.{name}.standard uses mode {layer.standard.mode!r} but "
                              'the study has no [network]; add [network] source = '
                              '"streets.osm.pbf", or give a straight-line standard '
                              "{ distance_m = ... }")
        circle = self.life_circle
        unknown = [n for n in circle.layers if n not in self.layers] if circle else []
        if unknown:
            raise problem(f"life_circle.layers names unknown layer(s) {', '.join(unknown)}; "
                          f"layers: {', '.join(self.layers)}")
        return self


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
    path, data = read_toml(path, "study configuration")
    return parse_config(data, base_dir=path.parent, origin=path)


def parse_config(
    data: dict[str, Any],
    base_dir: str | os.PathLike[str] = ".",
    origin: Path | None = None,
) -> StudyConfig:
    """Validate a configuration already parsed into a dict (e.g. from TOML).

    Parameters
    ----------
    data : dict
        The file's tables.
    base_dir : path-like
        The folder relative paths resolve against.
    origin : Path, optional
        The file it came from: named in errors and kept as ``path``.

    Raises
    ------
    ConfigError
        If a key or value is wrong.
    """
    name = origin.name if origin else "study configuration"
    return validate(StudyConfig, data, reading(base_dir, origin), name)
