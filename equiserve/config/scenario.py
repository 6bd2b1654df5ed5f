"""The scenario file (plan.toml): changes to a study's facilities, and targets.

.. code-block:: toml

    [scenario]
    name = "2017 plan"

    [gazetteer]                        # optional: places by name
    source = "places.csv"
    x_field = "lon"
    y_field = "lat"
    crs = "EPSG:4326"
    name_fields = ["name_zh", "name_en"]
    precision_field = "precision"

    [[add]]                            # a new facility
    layer = "schools"
    name = "凤凰中学"
    place = "凤凰中学"                  # looked up in the gazetteer (default: the name)
    # lon = 113.53, lat = 22.28, crs = "GCJ-02"   # or coordinates in any supported CRS
    capacity = 1800
    year = 2025                        # opens in 2025 (equiserve forecast); default: now

    [[remove]]                         # a facility closed
    layer = "schools"
    name = "Old School"                # or id = "..."

    [[capacity]]                       # places changed
    layer = "schools"
    name = "鱼林小学"
    change = 1200                      # or set = 2400

    [[target]]                         # what the plan promises
    label = "new primary and secondary schools"
    layer = "schools"                  # omit for targets no study layer measures
    count = 12
    # region = "斗门区"
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, BeforeValidator, Field, model_validator

from equiserve.config._messages import number_entries, problem, read_toml, validate
from equiserve.config._model import ConfigModel, FileModel, exactly_one, reading
from equiserve.config.sources import SOURCE_KEYS, HasSource
from equiserve.config.types import Crs, Id, Positive, Text, TupleOf


def _one_name(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


#: The year a change takes effect (``equiserve forecast`` counts it from then on).
Year = Annotated[int, Field(ge=1900, le=2200, description="a year such as 2025")]

#: Fields holding a place's names: one, or a list.
NameFields = Annotated[TupleOf[Text], BeforeValidator(_one_name),
                       Field(min_length=1, description="a list of field names")]


class GazetteerConfig(HasSource):
    """A table of named places: its source and which fields hold names and precision."""

    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS - {"osm_tags"}
    table: ClassVar[str] = "gazetteer"

    name_fields: NameFields = ("name",)
    precision_field: Text | None = None
    kind_field: Text | None = None


class AddSpec(ConfigModel):
    """A facility the plan adds: where (place name or coordinates) and its capacity.

    Coordinates are ``lon``/``lat`` (WGS84 unless ``crs`` says otherwise) or ``x``/``y``
    with a ``crs``; ``index`` is the entry's position among the ``[[add]]`` tables.
    """

    not_in_file: ClassVar[frozenset[str]] = frozenset({"index"})

    layer: Text
    name: Text
    place: Text | None = None
    x: float | None = Field(None, validation_alias=AliasChoices("x", "lon"))
    y: float | None = Field(None, validation_alias=AliasChoices("y", "lat"))
    crs: Crs | None = None
    capacity: float | None = None
    proxy_for: Text | None = None
    note: Text | None = None
    year: Year | None = None
    index: int = 0

    @property
    def has_coordinates(self) -> bool:
        """Whether the facility is placed by coordinates (else by its place's name)."""
        return self.x is not None

    @model_validator(mode="before")
    @classmethod
    def _coordinates(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        what = f"[[add]] {data.get('name')!r}"
        has_lonlat = "lon" in data or "lat" in data
        has_xy = "x" in data or "y" in data
        if has_lonlat and has_xy:
            raise problem(f"{what} gives both lon/lat and x/y; give one pair")
        if not (has_lonlat or has_xy):
            return data
        kx, ky = ("lon", "lat") if has_lonlat else ("x", "y")
        if kx not in data or ky not in data:
            raise problem(f"{what} needs both {kx} and {ky}")
        if "crs" not in data and not has_lonlat:
            raise problem(f"{what} gives x/y without a crs; add crs = \"EPSG:...\" (or use "
                          "lon/lat)")
        if "place" in data:
            raise problem(f"{what} gives both a place and coordinates; give one")
        return {"crs": "EPSG:4326"} | data


class _NamedFacility(ConfigModel):
    """An entry naming a facility of ``layer`` by exactly one of ``id`` and ``name``."""

    #: The array of tables of the entries, for messages.
    array: ClassVar[str]

    layer: Text
    id: Id | None = None
    name: Id | None = None
    note: Text | None = None
    year: Year | None = None

    @model_validator(mode="after")
    def _id_or_name(self) -> _NamedFacility:
        exactly_one(self, "id", "name", f"[[{self.array}]] #{{n}} needs exactly one of id or name")
        return self


class RemoveSpec(_NamedFacility):
    """A facility the plan closes, by id or name."""

    array: ClassVar[str] = "remove"


class CapacitySpec(_NamedFacility):
    """A change of places at an existing (or added) facility: ``change`` or ``set``."""

    array: ClassVar[str] = "capacity"

    change: float | None = None
    set: float | None = None

    @model_validator(mode="after")
    def _change_or_set(self) -> CapacitySpec:
        exactly_one(self, "change", "set", "[[capacity]] #{n} needs exactly one of change "
                    "(e.g. change = 1200 places) or set (the new total)")
        return self


class TargetSpec(ConfigModel):
    """A count the plan promises, for a layer (and region) or for something unmeasured."""

    label: Text
    count: Positive
    layer: Text | None = None
    region: Text | None = None
    unit: Text = "facilities"
    source: Text | None = None
    note: Text | None = None


class ScenarioInfo(ConfigModel):
    """The ``[scenario]`` table."""

    name: Text
    description: Text | None = None


class ScenarioConfig(FileModel):
    """A whole scenario file (``targets`` are its ``[[target]]`` tables); ``path`` is the
    file it was read from."""

    header: ClassVar[str] = "scenario"

    scenario: ScenarioInfo
    gazetteer: GazetteerConfig | None = None
    add: TupleOf[AddSpec] = ()
    remove: TupleOf[RemoveSpec] = ()
    capacity: TupleOf[CapacitySpec] = ()
    targets: TupleOf[TargetSpec] = Field((), validation_alias="target")

    def until(self, year: int) -> ScenarioConfig:
        """The plan as it stands in ``year``: the changes without a year or with one up to
        it (a school opening in 2019 counts from 2019 on), and no capacity change of a
        facility it does not yet add; targets unchanged."""
        def due(specs: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(s for s in specs if s.year is None or s.year <= year)

        later = {(a.layer, a.name) for a in self.add if a not in due(self.add)}
        caps = tuple(c for c in due(self.capacity) if (c.layer, c.name) not in later)
        return self.model_copy(update={"add": due(self.add), "remove": due(self.remove),
                                       "capacity": caps})

    @property
    def years(self) -> list[int]:
        """The years the plan's changes take effect, in order."""
        specs: list[AddSpec | RemoveSpec | CapacitySpec] = [*self.add, *self.remove,
                                                             *self.capacity]
        return sorted({s.year for s in specs if s.year is not None})

    @model_validator(mode="before")
    @classmethod
    def _fill_in(cls, data: Any) -> Any:
        return number_entries(data, "add", "add", AddSpec.toml_keys())

    @model_validator(mode="after")
    def _placed_by_name(self) -> ScenarioConfig:
        by_name = [a.name for a in self.add if not a.has_coordinates]
        if by_name and self.gazetteer is None:
            raise problem(f"[[add]] {by_name[0]!r} has no coordinates, so it is placed by "
                          "name, but the file has no [gazetteer]; add one, or give lon/lat "
                          "(or x/y with crs)")
        return self


def load_scenario(path: str | os.PathLike[str]) -> ScenarioConfig:
    """Read and validate a scenario file (see the module docstring for its keys).

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or a key or value is wrong.
    """
    path, data = read_toml(path, "scenario file")
    return parse_scenario(data, base_dir=path.parent, origin=path)


def parse_scenario(data: dict[str, Any], base_dir: str | os.PathLike[str] = ".",
                   origin: Path | None = None) -> ScenarioConfig:
    """Validate a scenario already parsed into a dict; ``origin`` is the file it came from.

    Raises
    ------
    ConfigError
        If a key or value is wrong.
    """
    return validate(ScenarioConfig, data, reading(base_dir, origin),
                    origin.name if origin else "scenario")
