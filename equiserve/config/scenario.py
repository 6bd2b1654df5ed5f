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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from equiserve.config.study import SourceSpec, _source, _Validator
from equiserve.errors import ConfigError

_GAZ_KEYS = {"source", "source_layer", "crs", "x_field", "y_field", "filter",
             "name_fields", "precision_field", "kind_field"}


@dataclass(frozen=True)
class GazetteerConfig:
    """A table of named places: its source and which fields hold names and precision."""

    source: SourceSpec
    name_fields: tuple[str, ...] = ("name",)
    precision_field: str | None = None
    kind_field: str | None = None


@dataclass(frozen=True)
class AddSpec:
    """A facility the plan adds: where (place name or coordinates) and its capacity."""

    layer: str
    name: str
    place: str | None = None
    x: float | None = None
    y: float | None = None
    crs: Any = None
    capacity: float | None = None
    proxy_for: str | None = None
    note: str | None = None
    index: int = 0

    @property
    def has_coordinates(self) -> bool:
        return self.x is not None


@dataclass(frozen=True)
class RemoveSpec:
    """A facility the plan closes, by id or name."""

    layer: str
    id: str | None = None
    name: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class CapacitySpec:
    """A change of places at an existing (or added) facility: ``change`` or ``set``."""

    layer: str
    name: str | None = None
    id: str | None = None
    change: float | None = None
    set: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class TargetSpec:
    """A count the plan promises, for a layer (and region) or for something unmeasured."""

    label: str
    count: float
    layer: str | None = None
    region: str | None = None
    unit: str = "facilities"
    source: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ScenarioConfig:
    """A whole scenario file."""

    name: str
    description: str | None = None
    gazetteer: GazetteerConfig | None = None
    add: tuple[AddSpec, ...] = ()
    remove: tuple[RemoveSpec, ...] = ()
    capacity: tuple[CapacitySpec, ...] = ()
    targets: tuple[TargetSpec, ...] = ()
    path: Path | None = field(default=None, compare=False)


def load_scenario(path: str | os.PathLike[str]) -> ScenarioConfig:
    """Read and validate a scenario file (see the module docstring for its keys)."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"scenario file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    return parse_scenario(data, base_dir=path.parent, origin=path)


def _entries(v: _Validator, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    val = data.get(key, [])
    if not isinstance(val, list) or not all(isinstance(e, dict) for e in val):
        raise v.error(key, val, f"an array of tables [[{key}]]")
    return val


def _opt_str(v: _Validator, tbl: dict[str, Any], name: str, where: str) -> str | None:
    val = tbl.get(name)
    if val is None:
        return None
    if isinstance(val, int | float) and not isinstance(val, bool):
        return str(val)  # ids such as 12 are fine
    return v.string(tbl, name, where)


def parse_scenario(data: dict[str, Any], base_dir: str | os.PathLike[str] = ".",
                   origin: Path | None = None) -> ScenarioConfig:
    """Validate a scenario already parsed into a dict."""
    v = _Validator(Path(base_dir).resolve(), origin.name if origin else "scenario")
    v.keys(data, "", {"scenario", "gazetteer", "add", "remove", "capacity", "target"},
           required={"scenario"})
    sc = v.table(data, "scenario")
    v.keys(sc, "scenario", {"name", "description"}, required={"name"})

    gaz = None
    if "gazetteer" in data:
        g = v.table(data, "gazetteer")
        v.keys(g, "gazetteer", _GAZ_KEYS, required={"source"})
        names = g.get("name_fields", ["name"])
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str)
                                                               for n in names):
            raise v.error("gazetteer.name_fields", names, "a list of field names")
        src = _source(v, {k: g[k] for k in g if k not in
                          ("name_fields", "precision_field", "kind_field")}, "gazetteer")
        gaz = GazetteerConfig(src, tuple(names),
                              v.string(g, "precision_field", "gazetteer", default=None),
                              v.string(g, "kind_field", "gazetteer", default=None))

    adds = []
    for i, a in enumerate(_entries(v, data, "add")):
        where = f"add[{i}]"
        v.keys(a, where, {"layer", "name", "place", "lon", "lat", "x", "y", "crs", "capacity",
                          "proxy_for", "note"}, required={"layer", "name"})
        has_lonlat = "lon" in a or "lat" in a
        has_xy = "x" in a or "y" in a
        if has_lonlat and has_xy:
            raise ConfigError(f"{v.origin}: [[add]] {a.get('name')!r} gives both lon/lat and "
                              "x/y; give one pair")
        x = y = None
        crs = None
        if has_lonlat or has_xy:
            kx, ky = ("lon", "lat") if has_lonlat else ("x", "y")
            if kx not in a or ky not in a:
                raise ConfigError(f"{v.origin}: [[add]] {a.get('name')!r} needs both {kx} and "
                                  f"{ky}")
            x, y = v.number(a, kx, where), v.number(a, ky, where)
            if "crs" in a:
                crs = v.crs(a["crs"], f"{where}.crs")
            elif has_lonlat:
                crs = "EPSG:4326"
            else:
                raise ConfigError(f"{v.origin}: [[add]] {a.get('name')!r} gives x/y without a "
                                  "crs; add crs = \"EPSG:...\" (or use lon/lat)")
            if "place" in a:
                raise ConfigError(f"{v.origin}: [[add]] {a.get('name')!r} gives both a place "
                                  "and coordinates; give one")
        adds.append(AddSpec(
            layer=v.string(a, "layer", where), name=v.string(a, "name", where),
            place=v.string(a, "place", where, default=None), x=x, y=y, crs=crs,
            capacity=v.number(a, "capacity", where, default=None),
            proxy_for=v.string(a, "proxy_for", where, default=None),
            note=v.string(a, "note", where, default=None), index=i))

    removes = []
    for i, r in enumerate(_entries(v, data, "remove")):
        where = f"remove[{i}]"
        v.keys(r, where, {"layer", "id", "name", "note"}, required={"layer"})
        if ("id" in r) == ("name" in r):
            raise ConfigError(f"{v.origin}: [[remove]] #{i + 1} needs exactly one of id or name")
        removes.append(RemoveSpec(v.string(r, "layer", where), _opt_str(v, r, "id", where),
                                  _opt_str(v, r, "name", where),
                                  v.string(r, "note", where, default=None)))

    caps = []
    for i, c in enumerate(_entries(v, data, "capacity")):
        where = f"capacity[{i}]"
        v.keys(c, where, {"layer", "id", "name", "change", "set", "note"}, required={"layer"})
        if ("id" in c) == ("name" in c):
            raise ConfigError(f"{v.origin}: [[capacity]] #{i + 1} needs exactly one of id or "
                              "name")
        if ("change" in c) == ("set" in c):
            raise ConfigError(f"{v.origin}: [[capacity]] #{i + 1} needs exactly one of change "
                              "(e.g. change = 1200 places) or set (the new total)")
        caps.append(CapacitySpec(v.string(c, "layer", where), _opt_str(v, c, "name", where),
                                 _opt_str(v, c, "id", where),
                                 v.number(c, "change", where, default=None),
                                 v.number(c, "set", where, default=None),
                                 v.string(c, "note", where, default=None)))

    targets = []
    for i, t in enumerate(_entries(v, data, "target")):
        where = f"target[{i}]"
        v.keys(t, where, {"label", "layer", "count", "region", "unit", "source", "note"},
               required={"label", "count"})
        count = v.number(t, "count", where, positive=True)
        targets.append(TargetSpec(
            label=v.string(t, "label", where), count=count,
            layer=v.string(t, "layer", where, default=None),
            region=v.string(t, "region", where, default=None),
            unit=v.string(t, "unit", where, default="facilities"),
            source=v.string(t, "source", where, default=None),
            note=v.string(t, "note", where, default=None)))

    by_name = [a.name for a in adds if not a.has_coordinates]
    if by_name and gaz is None:
        raise ConfigError(f"{v.origin}: [[add]] {by_name[0]!r} has no coordinates, so it is "
                          "placed by name, but the file has no [gazetteer]; add one, or give "
                          "lon/lat (or x/y with crs)")
    return ScenarioConfig(
        name=v.string(sc, "name", "scenario"),
        description=v.string(sc, "description", "scenario", default=None),
        gazetteer=gaz, add=tuple(adds), remove=tuple(removes), capacity=tuple(caps),
        targets=tuple(targets), path=origin)
