"""Configuration files: ``study.toml`` (:mod:`.study`) and a scenario's ``plan.toml``
(:mod:`.scenario`)."""

from equiserve.config.study import (
    DEFAULT_STANDARD_M,
    CatchmentConfig,
    LayerConfig,
    LifeCircleConfig,
    MapConfig,
    NetworkConfig,
    PopulationConfig,
    RegionsConfig,
    SettlementWeights,
    SourceSpec,
    SplitSpec,
    Standard,
    StudyConfig,
    SubgroupSpec,
    load_config,
    parse_config,
)

__all__ = [
    "DEFAULT_STANDARD_M",
    "CatchmentConfig",
    "LayerConfig",
    "LifeCircleConfig",
    "MapConfig",
    "NetworkConfig",
    "PopulationConfig",
    "RegionsConfig",
    "SettlementWeights",
    "SourceSpec",
    "SplitSpec",
    "Standard",
    "StudyConfig",
    "SubgroupSpec",
    "load_config",
    "parse_config",
]
