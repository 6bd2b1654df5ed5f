"""Compact map layers: blocks as images, points as canvas symbols, values as arrays.

Each is a folium layer (so the layer control lists it) whose script calls the small
runtime ``assets/equiserve-map.js`` with one JSON object: the tooltip columns (already
HTML-escaped; a column is ``{"v": values}``, ``{"k": the value of all}`` or, when
values repeat, ``{"u": uniques, "c": codes}``), their labels, and the geometry: for
blocks the cells of a shared :class:`~equiserve.outputs.maps.raster.BlockGrid`
(delta-encoded) and a PNG; for service areas a PNG; for points
longitude and latitude in units of 1e-5 degrees (delta-encoded integers). The browser
builds each tooltip when it opens. :func:`payload` is what tests/reference/digest.py
reads back.
"""

from __future__ import annotations

import json
from html import escape
from importlib import resources
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import Element
from folium.elements import ElementAddToElement

#: Longitude and latitude of points are integers of this many degrees.
POINT_SCALE = 100_000


def js_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` (``<``, ``>``, ``&`` and ``'`` as
    \\u escapes, as folium's own data are)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("'", "\\u0027"))


def column(values: list) -> dict:
    """A tooltip column: HTML-escaped strings (numbers as they are), dictionary-encoded
    when that is shorter."""
    if values and all(isinstance(v, str) for v in values):
        codes, uniques = pd.factorize(pd.Series(values, dtype=object), sort=False)
        escaped = [escape(u) for u in uniques]
        if len(escaped) == 1 and len(values) > 1:
            return {"k": escaped[0]}
        if len(escaped) * 4 < len(values):
            return {"u": escaped, "c": codes.tolist()}
        return {"v": np.asarray(escaped, dtype=object)[codes].tolist()}
    return {"v": [escape(v) if isinstance(v, str) else
                  v.item() if isinstance(v, np.generic) else v for v in values]}


def delta(values: np.ndarray) -> list[int]:
    v = np.asarray(values, np.int64)
    return np.diff(v, prepend=0).tolist() if len(v) else []


def table_spec(columns: dict[str, list], fields: list[tuple[str, str]], n: int,
               popup: bool) -> dict:
    """The part of a layer's data that gives its tooltips (or popups)."""
    return {"n": n, "fields": [f for f, _ in fields], "labels": [escape(a) for _, a in fields],
            "cols": {c: column(list(v)) for c, v in columns.items()}, "popup": popup}


class _Code(Element):
    """Script text put in the page as it is (branca's Element would compile megabytes of
    JSON as a Jinja template first)."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def render(self, **kwargs: Any) -> str:
        return self.code


class _Script(folium.MacroElement):
    """An element whose script is the text :meth:`code` returns."""

    def code(self) -> str:
        raise NotImplementedError

    def render(self, **kwargs: Any) -> str:
        root: Any = self.get_root()  # a branca Figure
        root.script.add_child(_Code(self.code()), name=self.get_name())
        for element in list(self._children.values()):
            element.render(**kwargs)
        return ""


class Runtime(_Script):
    """The runtime's code, once, before every compact layer."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "EquiserveRuntime"

    def code(self) -> str:
        text = resources.files("equiserve.outputs.maps").joinpath(
            "assets", "equiserve-map.js").read_text("utf-8")
        return text.replace("</script", "<\\/script") + "\n"


class GridElement(_Script):
    """A block grid shared by block layers: ``var eq_grid_<hex> = {...};``."""

    def __init__(self, grid: dict) -> None:
        super().__init__()
        self._name = "eq_grid"
        self.data = js_json(grid)

    def code(self) -> str:
        return f"var {self.get_name()} = {self.data};\n"


class CompactLayer(folium.map.Layer):
    """``var eq_layer_<hex> = EQ.<kind>(<args>{...});`` on one line, then added to the map
    when shown."""

    def __init__(self, name: str, kind: str, spec: dict, show: bool, args: str = ""):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "eq_layer"
        self.kind = kind
        self.args = args
        self.code = js_json(spec)

    def render(self, **kwargs: Any) -> str:
        root: Any = self.get_root()  # a branca Figure
        root.script.add_child(_Code(
            f"\nvar {self.get_name()} = EQ.{self.kind}({self.args}{self.code});\n"),
            name=self.get_name())
        if self.show:
            assert self._parent is not None
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        for element in list(self._children.values()):
            element.render(**kwargs)
        return ""


def blocks_layer(name: str, grid: GridElement, spec: dict, show: bool) -> CompactLayer:
    return CompactLayer(name, "blocks", spec, show, args=f"{grid.get_name()}, ")


def points_layer(name: str, spec: dict, show: bool) -> CompactLayer:
    return CompactLayer(name, "points", spec, show)


# -- reading layers back (tests; tests/reference/digest.py does the same from map.html)


def spec_of(layer: CompactLayer) -> dict:
    """The data of a compact layer."""
    return json.loads(layer.code)


def column_values(col: dict, n: int) -> list:
    """The ``n`` values of an encoded column (see :func:`column`)."""
    if "v" in col:
        return list(col["v"])
    if "k" in col:
        return [col["k"]] * n
    return [col["u"][c] for c in col["c"]]


def feature_properties(spec: dict) -> list[dict]:
    """Per feature, the properties folium's GeoJSON gave it: the (escaped) columns, the
    fill colour of blocks, the radius of sized points."""
    n = spec["n"]
    cols = {c: column_values(v, n) for c, v in spec["cols"].items()}
    out = [{c: v[k] for c, v in cols.items()} for k in range(n)]
    if "cls" in spec:
        for p, k in zip(out, spec["cls"], strict=True):
            p["fill"] = spec["palette"][k]
    if "radius" in spec:
        for p, r in zip(out, spec["radius"], strict=True):
            p["radius"] = r
    return out


def point_lonlat(spec: dict) -> np.ndarray:
    """Longitude and latitude (n x 2) of a points layer."""
    return np.column_stack([np.cumsum(spec["lon"]), np.cumsum(spec["lat"])]
                           ).reshape(-1, 2) / spec["scale"]
