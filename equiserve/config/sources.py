"""Where a vector layer is read from: :class:`SourceSpec`, and the ``source`` key's paths.

A table naming a source (``[layers.schools]``, ``[regions]``, ``[gazetteer]``...) holds the
source's keys beside its own; :class:`HasSource` gathers them into its ``source``.
``source`` is one path, a list of paths, or a pattern (``osm/*.osm``, expanded in sorted
order; a pattern matching nothing is an error); a file named twice is read once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from equiserve.config._messages import invalid, problem
from equiserve.config._model import ConfigModel, base_dir
from equiserve.config.types import Crs, Encoding, FilePath, Sheet, Text, TupleOf

#: File names read as OpenStreetMap XML, which need ``osm_tags``.
OSM_XML_SUFFIXES = (".osm", ".osm.bz2", ".xml")
#: File names read as delimited text (:func:`equiserve.io.tables.read_table`).
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
#: File names read as Excel workbooks, where ``sheet`` applies.
WORKBOOK_SUFFIXES = (".xlsx", ".xls")
#: File names whose text ``encoding`` applies to: delimited text and Shapefiles (.dbf).
ENCODED_SUFFIXES = (*TEXT_SUFFIXES, ".shp", ".dbf")


def _not_false(value: Any) -> Any:
    if value is False:
        raise invalid("true (any value), a string, or a list of strings")
    return value


#: An OSM tag's value in ``osm_tags``: any value (true), one, or a list.
OsmTagValue = Annotated[bool | Text | Annotated[list[Text], Field(min_length=1)],
                        AfterValidator(_not_false),
                        Field(description="true (any value), a string, or a list of strings")]
#: The OSM tags selecting features, as osmnx takes them.
OsmTags = Annotated[dict[str, OsmTagValue], Field(
    min_length=1, description='a table of OSM tags, e.g. { amenity = ["school", "kindergarten"] }')]


class SourceSpec(ConfigModel):
    """Where a vector layer comes from and how to read it.

    Attributes
    ----------
    path : Path
        Absolute path of the file (``source`` in a file).
    key : str
        The table it was given in, e.g. ``"layers.schools"`` (for messages).
    layer : str or None
        Layer inside a multi-layer file (GeoPackage; ``source_layer`` in a file).
    crs : pyproj.CRS, "GCJ-02", "BD-09" or None
        Declared CRS of the coordinates in the file; overrides the file's own.
    x_field, y_field : str or None
        Coordinate columns of a table of points (CSV, TXT, TSV, Excel; autodetected when
        omitted: lon/lat, x/y, 经度/纬度...).
    encoding : str or None
        Text encoding of a CSV/TXT/TSV file or a Shapefile's attributes (e.g. ``"gb18030"``);
        by default a table is read as UTF-8 (with or without a byte-order mark), else as
        GB18030 (GBK), and a Shapefile as its .cpg says.
    sheet : str, int or None
        Sheet of an Excel workbook (.xlsx, .xls) by name, or by number from 1; by default
        the first (a note names it when there are several).
    filter : str or None
        A pandas query string selecting rows.
    osm_tags : dict or None
        OSM tags selecting features from an ``.osm`` file, as osmnx takes them.
    more_paths : tuple of Path
        Further files read the same way and appended (``source = ["a.osm", "b.osm"]``);
        features repeated across overlapping OSM extracts are kept once.
    """

    flattened: ClassVar[bool] = True
    not_in_file: ClassVar[frozenset[str]] = frozenset({"key", "more_paths"})

    path: FilePath = Field(validation_alias="source")
    key: str
    layer: Text | None = Field(None, validation_alias="source_layer")
    crs: Crs | None = None
    x_field: Text | None = None
    y_field: Text | None = None
    encoding: Encoding | None = None
    sheet: Sheet | None = None
    filter: Text | None = None
    osm_tags: OsmTags | None = None
    more_paths: TupleOf[Path] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file of the source."""
        return (self.path, *self.more_paths)

    @model_validator(mode="before")
    @classmethod
    def _expand_source(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and not isinstance(data.get("source", Path()), Path):
            first, *more = expand_sources(data["source"], base_dir(info))
            return {**data, "source": first, "more_paths": tuple(more)}
        return data

    @model_validator(mode="after")
    def _osm_needs_tags(self) -> SourceSpec:
        if self.path.name.lower().endswith(OSM_XML_SUFFIXES) and self.osm_tags is None:
            raise problem(f"[{self.key}] reads an OSM file ({self.path.name}) but has no "
                          'osm_tags; add e.g. osm_tags = { amenity = ["school"] }')
        return self

    @model_validator(mode="after")
    def _table_options_apply(self) -> SourceSpec:
        check_table_options(self.paths, self.encoding, self.sheet, f"[{self.key}]")
        return self


def check_table_options(paths: tuple[Path, ...], encoding: str | None,
                        sheet: str | int | None, where: str) -> None:
    """Raise a ``problem`` when ``encoding`` or ``sheet`` is given for a file it does not
    apply to (``sheet`` to workbooks; ``encoding`` to delimited text and Shapefiles)."""
    for path in paths:
        name = path.name.lower()
        if sheet is not None and not name.endswith(WORKBOOK_SUFFIXES):
            raise problem(f"{where} sheet applies to Excel workbooks (.xlsx, .xls), not to "
                          f"{path.name}; remove it")
        if encoding is not None and not name.endswith(ENCODED_SUFFIXES):
            raise problem(f"{where} encoding applies to CSV/TXT/TSV tables and Shapefiles, "
                          f"not to {path.name} (its format fixes the encoding); remove it")


#: Every key of a table that describes its source.
SOURCE_KEYS = SourceSpec.toml_keys()


def expand_sources(value: Any, folder: Path) -> list[Path]:
    """The files ``source`` names (see the module docstring), relative to ``folder``.

    Raises the :func:`~equiserve.config._messages.invalid` or ``problem`` error of the
    ``source`` key below the model validating it.
    """
    if isinstance(value, str) and value.strip():
        given = [value]
    elif isinstance(value, list) and value and all(isinstance(p, str) and p.strip()
                                                   for p in value):
        given = value
    else:
        raise invalid("a path or a non-empty list of paths", at="source", value=value)
    out: list[Path] = []
    for p in (Path(g).expanduser() for g in given):
        p = p if p.is_absolute() else (folder / p).resolve()
        if any(c in p.name for c in "*?[") and not p.exists():  # a pattern, not a file
            found = sorted(p.parent.glob(p.name))
            if not found:
                raise problem(f"{{key}} pattern {str(p)!r} matches no file", at="source")
            out.extend(found)
        else:
            out.append(p)
    return list(dict.fromkeys(out))  # a file named twice is read once


class HasSource(ConfigModel):
    """A table holding the keys of its :class:`SourceSpec` (those in :attr:`source_keys`)
    beside its own; they are gathered into ``source``, whose ``key`` is :attr:`table`."""

    #: The source's keys this table accepts.
    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS
    #: The table's key in the file, e.g. ``"regions"``.
    table: ClassVar[str] = ""

    source: SourceSpec

    @classmethod
    def toml_keys(cls) -> frozenset[str]:
        """The table's own keys and its source's."""
        return super().toml_keys() | cls.source_keys

    @classmethod
    def table_key(cls, data: dict[str, Any]) -> str:
        """The key of the table holding ``data`` (``source.key``)."""
        return cls.table

    @model_validator(mode="before")
    @classmethod
    def _gather_source(cls, data: Any) -> Any:
        if not isinstance(data, dict) or isinstance(data.get("source"), SourceSpec):
            return data
        spec = {k: v for k, v in data.items() if k in cls.source_keys}
        own = {k: v for k, v in data.items() if k not in cls.source_keys}
        return {**own, "source": spec | {"key": cls.table_key(data)}}
