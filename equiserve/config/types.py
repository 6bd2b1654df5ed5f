"""The types of configuration values: the choices a key offers, and checked scalars.

The ``Literal`` types name every choice of study.toml, for other modules to annotate with
(``def network_for(mode: Mode)``); :data:`KINDS` and the like list them at run time.

The annotated types check a value when a model is validated: strictly (a bool or a string
is never a number; an integer is a fine float), with NaN and infinity refused.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args

import pyproj
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, ValidationInfo

from equiserve.config._messages import invalid
from equiserve.config._model import base_dir
from equiserve.crs import ChinaDatum, check_projected_metres, parse_crs

#: A travel mode on the street network.
Mode = Literal["walk", "drive"]
#: A facility kind; every kind but ``custom`` has a default standard.
Kind = Literal["kindergarten", "school", "clinic", "bus_stop", "art_centre", "sports_park",
               "custom"]
#: How catchment accessibility weighs the pairs within reach.
CatchmentMethod = Literal["2sfca", "e2sfca", "gravity"]
#: Where the population comes from.
PopulationType = Literal["raster", "vector", "census"]
#: The cost a network search adds up: metres (``length``) or seconds (``time``).
SearchWeight = Literal["length", "time"]
#: The unit of a layer's distances in outputs: metres or minutes.
Unit = Literal["m", "min"]

KINDS: tuple[Kind, ...] = get_args(Kind)
NETWORK_MODES: tuple[Mode, ...] = get_args(Mode)

T = TypeVar("T")

#: A string with something in it.
Text = Annotated[str, StringConstraints(pattern=r"\S")]
#: A number greater than 0.
Positive = Annotated[float, Field(gt=0)]
#: A number >= 0.
NonNegative = Annotated[float, Field(ge=0)]
#: A raster band: 1 for the first.
Band = Annotated[int, Field(ge=1)]
#: A workbook's sheet: its name, or its number counted from 1.
Sheet = Annotated[Annotated[str, StringConstraints(pattern=r"\S")] | Annotated[int, Field(ge=1)],
                  Field(description="a sheet's name, or its number counted from 1")]
#: A fraction of a total.
Share = Annotated[float, Field(ge=0, le=1, description="a fraction between 0 and 1")]


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


#: A tuple, given in a file as an array.
TupleOf = Annotated[tuple[T, ...], BeforeValidator(_as_tuple)]


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


#: An id or name, where a number (``id = 12``) is read as its text.
Id = Annotated[str, BeforeValidator(_number_as_text), StringConstraints(pattern=r"\S")]


def _resolve(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        raise invalid("a non-empty string")
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base_dir(info) / path).resolve()


def _encoding(value: Any) -> Any:
    if isinstance(value, str):
        try:
            codecs.lookup(value)
        except LookupError:
            raise invalid('a text encoding, e.g. "utf-8", "gb18030" (GBK), "big5" or '
                          '"cp1252"') from None
    return value


#: A text encoding Python knows (``"gb18030"``, ``"utf-8"``...).
Encoding = Annotated[str, AfterValidator(_encoding), Field(description=(
    'a text encoding, e.g. "utf-8", "gb18030" (GBK), "big5" or "cp1252"'))]


#: A file: a path in a file is relative to the file's folder.
FilePath = Annotated[Path, BeforeValidator(_resolve)]


def _crs(value: Any) -> Any:
    return parse_crs(value, "{key}")


def _projected(value: Any) -> Any:
    crs = parse_crs(value, "{key}")
    if isinstance(crs, str):
        raise invalid("a projected CRS in metres (not GCJ-02/BD-09)")
    return check_projected_metres(crs, "{key}")


#: A CRS as :func:`~equiserve.crs.parse_crs` reads it.
Crs = Annotated[pyproj.CRS | ChinaDatum, BeforeValidator(_crs)]
#: A projected CRS in metres (the working CRS).
ProjectedCrs = Annotated[pyproj.CRS, BeforeValidator(_projected)]

#: Which service areas a report draws: one per layer, also one per facility, or none.
ServiceAreas = Literal["dissolved", "per-facility", "none"]
