"""The population source (``[population]``): a raster, a vector grid or points, or census
totals per region, told apart by ``type``.

Each type has only its own keys, and its own kind of subgroup (e.g. children 6-11):

========  ===================================  ==========================================
type      keys                                 subgroups
========  ===================================  ==========================================
raster    source, crs, band                    :class:`RasterSubgroup`: band and/or source
vector    source and its keys, count_field     :class:`VectorSubgroup`: field
census    table, encoding, sheet, key_field,   :class:`CensusSubgroup`: field or share
          region_key_field, value_field,
          filter, cell_size_m, weights
========  ===================================  ==========================================
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from equiserve.config._messages import invalid, problem
from equiserve.config._model import ConfigModel, exactly_one
from equiserve.config.sources import SOURCE_KEYS, HasSource, check_table_options
from equiserve.config.types import Band, Encoding, FilePath, Positive, Share, Sheet, Text
from equiserve.settings import CENSUS_CELL_M, SETTLEMENT_FLOOR, SETTLEMENT_SIGMA_M


class RasterSubgroup(ConfigModel):
    """A subgroup read from a raster: ``band`` of the population raster, or of another
    raster on the same grid (``source``; its band 1 unless ``band`` says otherwise)."""

    band: Band | None = None
    path: FilePath | None = Field(None, validation_alias="source")

    @model_validator(mode="after")
    def _one_given(self) -> RasterSubgroup:
        if self.band is None and self.path is None:
            raise problem("[{key}] is empty; give one of band, source")
        return self


class VectorSubgroup(ConfigModel):
    """A subgroup read from a field of the population features."""

    field: Text


class CensusSubgroup(ConfigModel):
    """A subgroup of census totals: a column of the table, or a share of the total."""

    field: Text | None = None
    share: Share | None = None

    @model_validator(mode="after")
    def _one_given(self) -> CensusSubgroup:
        exactly_one(self, "field", "share", "[{key}] needs exactly one of field (a column of "
                    "the table) or share (a fraction of the total)")
        return self


#: Where a population subgroup comes from, by population type.
SubgroupSpec = RasterSubgroup | VectorSubgroup | CensusSubgroup


class SettlementWeights(HasSource):
    """Census spreading weights from settlement points (towns, villages, subdistricts).

    A cell's weight is its land area times ``floor`` plus the sum over the points of a
    Gaussian of the distance (``sigma_m``): people concentrate around settlements, with a
    thin spread elsewhere. A proxy for when no population grid exists.
    """

    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS - {"osm_tags"}
    table: ClassVar[str] = "population.weights"

    sigma_m: Positive = SETTLEMENT_SIGMA_M
    floor: Annotated[float, Field(gt=0, description=(
        "a number greater than 0 (the density far from every point; 0 would leave regions "
        "without a point empty)"))] = SETTLEMENT_FLOOR


class RasterPopulation(HasSource):
    """People per pixel of a raster (e.g. WorldPop 100 m): one file, one band."""

    source_keys: ClassVar[frozenset[str]] = frozenset({"source", "crs"})
    table: ClassVar[str] = "population"

    type: Literal["raster"] = "raster"
    band: Band = 1
    subgroups: dict[str, RasterSubgroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_file(self) -> RasterPopulation:
        if self.source.more_paths:
            raise invalid("one raster file (mosaic several first, e.g. gdal_merge.py)",
                          at="source")
        return self


class VectorPopulation(HasSource):
    """People per polygon (a vector grid) or point, in ``count_field``."""

    source_keys: ClassVar[frozenset[str]] = SOURCE_KEYS - {"osm_tags"}
    table: ClassVar[str] = "population"

    type: Literal["vector"] = "vector"
    count_field: Text
    subgroups: dict[str, VectorSubgroup] = Field(default_factory=dict)


class CensusPopulation(ConfigModel):
    """Census totals per region (a CSV/TXT/TSV or Excel table), spread over cells of
    ``cell_size_m`` by land area or by settlement ``weights``. ``encoding`` and ``sheet``
    read the table as in a source (:class:`~equiserve.config.sources.SourceSpec`)."""

    type: Literal["census"] = "census"
    table: FilePath
    encoding: Encoding | None = None
    sheet: Sheet | None = None
    key_field: Text
    region_key_field: Text
    value_field: Text
    filter: Text | None = None
    cell_size_m: Positive = CENSUS_CELL_M
    weights: SettlementWeights | None = None
    subgroups: dict[str, CensusSubgroup] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _table_options_apply(self) -> CensusPopulation:
        check_table_options((self.table,), self.encoding, self.sheet, "[population]")
        return self


#: The population source, by ``type``.
PopulationConfig = Annotated[RasterPopulation | VectorPopulation | CensusPopulation,
                             Field(discriminator="type")]
