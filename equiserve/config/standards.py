"""Service standards: how far or how long, and how travelled.

A layer's ``standard = { ... }`` is one of three shapes, told apart by its keys:

* :class:`StraightLine` ``{ distance_m = 500 }``: metres as the crow flies;
* :class:`NetworkDistance` ``{ mode = "walk", distance_m = 1000 }``: metres on the streets;
* :class:`NetworkTime` ``{ mode = "walk", minutes = 15 }``: minutes on the streets.

Each offers the same read-only interface (``mode``, ``uses_network``, ``weight``,
``threshold``, ``limit``, ``search_scale``, ``unit``, ``standard_m``, ``standard_min``,
``describe()``), so consumers never ask which it is. A layer without a standard gets
the straight-line default of its kind (:data:`DEFAULT_STANDARD_M`).

>>> from pydantic import TypeAdapter
>>> TypeAdapter(Standard).validate_python({"mode": "walk", "minutes": 15}).describe()
'15 min walk'
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Discriminator, Tag

from equiserve.config._messages import invalid, problem
from equiserve.config._model import ConfigModel
from equiserve.config.types import NETWORK_MODES, Kind, Mode, Positive, SearchWeight, Unit

#: Facility kinds known to equiserve, with the default straight-line standard in metres
#: (GB 50180-2018 life circles: 5 min = 300 m, 10 min = 500 m, 15 min = 800-1000 m).
DEFAULT_STANDARD_M: dict[Kind, float] = {
    "kindergarten": 300.0,
    "school": 500.0,
    "clinic": 1000.0,
    "bus_stop": 500.0,
    "art_centre": 1000.0,
    "sports_park": 1000.0,
}

_EXAMPLES = '{ distance_m = 500 } or { mode = "walk", minutes = 15 }'


class _StandardTable(ConfigModel):
    """A ``standard = { ... }`` table: any of its keys may be given, the shape decides."""

    uses_network: ClassVar[bool]
    weight: ClassVar[SearchWeight]
    unit: ClassVar[Unit]
    search_scale: ClassVar[float]

    @classmethod
    def toml_keys(cls) -> frozenset[str]:
        """Every key of a standard (a misspelt one may have changed the shape)."""
        return frozenset({"distance_m", "minutes", "mode"})


class _Metres(_StandardTable):
    """A standard in metres: searches and outputs in metres."""

    weight: ClassVar[SearchWeight] = "length"
    unit: ClassVar[Unit] = "m"
    search_scale: ClassVar[float] = 1.0

    distance_m: Positive

    @property
    def threshold(self) -> float:
        """The limit in the search's unit (metres)."""
        return self.distance_m

    @property
    def limit(self) -> float:
        """The limit in the unit of the layer's outputs (metres)."""
        return self.distance_m

    @property
    def standard_m(self) -> float | None:
        """The standard in metres (the summary's ``standard_m``)."""
        return self.distance_m

    @property
    def standard_min(self) -> float | None:
        """None: not a standard in minutes."""
        return None


class StraightLine(_Metres):
    """Within ``distance_m`` metres as the crow flies.

    >>> StraightLine(distance_m=500).describe()
    '500 m straight-line'
    """

    uses_network: ClassVar[bool] = False

    @property
    def mode(self) -> None:
        """None: no street network."""
        return None

    def describe(self) -> str:
        """Plain-language form, e.g. ``'500 m straight-line'``."""
        return f"{self.distance_m:,.0f} m straight-line"


class NetworkDistance(_Metres):
    """Within ``distance_m`` metres along the ``mode`` street network.

    >>> NetworkDistance(mode="walk", distance_m=1000).describe()
    '1,000 m walk (street network)'
    """

    uses_network: ClassVar[bool] = True

    mode: Mode

    def describe(self) -> str:
        """Plain-language form, e.g. ``'1,000 m walk (street network)'``."""
        return f"{self.distance_m:,.0f} m {self.mode} (street network)"


class NetworkTime(_StandardTable):
    """Within ``minutes`` of travel on the ``mode`` street network (searches in seconds)."""

    uses_network: ClassVar[bool] = True
    weight: ClassVar[SearchWeight] = "time"
    unit: ClassVar[Unit] = "min"
    search_scale: ClassVar[float] = 60.0

    mode: Mode
    minutes: Positive

    @property
    def threshold(self) -> float:
        """The limit in the search's unit (seconds)."""
        return self.minutes * 60.0

    @property
    def limit(self) -> float:
        """The limit in the unit of the layer's outputs (minutes)."""
        return self.minutes

    @property
    def standard_m(self) -> float | None:
        """None: not a standard in metres."""
        return None

    @property
    def standard_min(self) -> float | None:
        """The standard in minutes (the summary's ``standard_min``)."""
        return self.minutes

    def describe(self) -> str:
        """Plain-language form, e.g. ``'15 min walk'``."""
        return f"{self.minutes:g} min {self.mode}"


def _shape(value: Any) -> str:
    """The variant a standard's table has the shape of."""
    if isinstance(value, _StandardTable):
        return type(value).__name__
    if isinstance(value, dict) and "minutes" in value:
        return "NetworkTime"
    return "NetworkDistance" if isinstance(value, dict) and "mode" in value else "StraightLine"


def _check_shape(value: Any) -> Any:
    """Refuse tables of no shape; tables with unknown keys are left to the variant."""
    if isinstance(value, _StandardTable):
        return value
    if not isinstance(value, dict):
        raise invalid(f"a table such as {_EXAMPLES}")
    if set(value) - _StandardTable.toml_keys():
        return value
    if ("distance_m" in value) == ("minutes" in value):
        raise problem(f"{{key}} needs exactly one of distance_m or minutes, e.g. {_EXAMPLES}")
    if "minutes" in value and "mode" not in value:
        raise problem('{key}: minutes need a travel mode, e.g. { mode = "walk", minutes = 15 } '
                      f"(modes: {', '.join(NETWORK_MODES)})")
    return value


#: A service standard, one of three shapes (see the module docstring).
Standard = Annotated[
    Annotated[StraightLine, Tag("StraightLine")]
    | Annotated[NetworkDistance, Tag("NetworkDistance")]
    | Annotated[NetworkTime, Tag("NetworkTime")],
    Discriminator(_shape),
    BeforeValidator(_check_shape),
]


def default_standard(kind: str) -> StraightLine | None:
    """The straight-line standard of ``kind`` (None for ``custom`` and unknown kinds)."""
    metres = next((m for k, m in DEFAULT_STANDARD_M.items() if k == kind), None)
    return None if metres is None else StraightLine(distance_m=metres)
