"""Configuration files: ``study.toml`` (:mod:`.study`) and a scenario's ``plan.toml``
(:mod:`.scenario`), validated by pydantic models.

:mod:`.types` names the choices and value types, :mod:`.sources` where layers are read
from, :mod:`.standards` the service standards, :mod:`.population` the population sources;
:mod:`._messages` turns validation errors into :class:`~equiserve.errors.ConfigError`.
"""

from equiserve.config.population import (
    CensusPopulation,
    CensusSubgroup,
    PopulationConfig,
    RasterPopulation,
    RasterSubgroup,
    SettlementWeights,
    SubgroupSpec,
    VectorPopulation,
    VectorSubgroup,
)
from equiserve.config.sources import SourceSpec
from equiserve.config.standards import (
    DEFAULT_STANDARD_M,
    NetworkDistance,
    NetworkTime,
    Standard,
    StraightLine,
)
from equiserve.config.study import (
    CatchmentConfig,
    ForecastConfig,
    LayerConfig,
    LifeCircleConfig,
    MapConfig,
    NetworkConfig,
    RegionsConfig,
    SplitSpec,
    StudyConfig,
    StudyInfo,
    load_config,
    parse_config,
)

__all__ = [
    "DEFAULT_STANDARD_M",
    "CatchmentConfig",
    "CensusPopulation",
    "CensusSubgroup",
    "ForecastConfig",
    "LayerConfig",
    "LifeCircleConfig",
    "MapConfig",
    "NetworkConfig",
    "NetworkDistance",
    "NetworkTime",
    "PopulationConfig",
    "RasterPopulation",
    "RasterSubgroup",
    "RegionsConfig",
    "SettlementWeights",
    "SourceSpec",
    "SplitSpec",
    "Standard",
    "StraightLine",
    "StudyConfig",
    "StudyInfo",
    "SubgroupSpec",
    "VectorPopulation",
    "VectorSubgroup",
    "load_config",
    "parse_config",
]
