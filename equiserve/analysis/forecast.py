"""Population in the target years of a forecast (issue 14): growth by region or group.

The simplest forecast of study.toml's ``[forecast]`` table::

    base_year = 2020
    years = [2025, 2030]
    growth = { east = 0.005, west = 0.03, island = -0.01 }   # annual rate

gives ``population(region, year) = population(region, base_year) * (1 + rate) **
(year - base_year)``, the rate of the region's own name if ``growth`` names it, else of its
group, else 0. Pure functions: the caller reads the base population per region.

    growth_rates(names, groups, growth) -> per region: rate and where it came from
    project_totals(base, names, groups, base_year, years, growth) -> long table
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from equiserve.errors import ConfigError

#: Where a region's rate came from: its own name, its group, or neither (0).
RATE_SOURCES = ("region", "group", "none")


def growth_rates(names: ArrayLike, groups: ArrayLike, growth: Mapping[str, float]
                 ) -> tuple[np.ndarray, list[str]]:
    """The annual growth rate of each region and where it came from (:data:`RATE_SOURCES`).

    A key of ``growth`` naming a region gives that region's rate; one naming a group the
    rate of the group's other regions; every key must name one or the other, and a rate
    must be at least -1 (-100 %: nobody left).

    >>> growth_rates(["A", "B", "C"], ["east", "east", "west"], {"east": 0.01, "B": 0.02})
    (array([0.01, 0.02, 0.  ]), ['group', 'region', 'none'])
    """
    names = [str(n) for n in np.asarray(names, dtype=object)]
    groups = [str(g) for g in np.asarray(groups, dtype=object)]
    known = set(names) | set(groups)
    for key, rate in growth.items():
        if str(key) not in known:
            raise ConfigError(f"forecast.growth: {key!r} is neither a region nor a group; "
                              f"regions: {', '.join(names)}; groups: "
                              f"{', '.join(dict.fromkeys(groups))}")
        if not np.isfinite(rate) or rate < -1:
            raise ConfigError(f"forecast.growth.{key} = {rate!r}: an annual rate must be a "
                              "number of at least -1 (-100 %), e.g. 0.03 for 3 % a year")
    rates, sources = np.zeros(len(names)), []
    for i, (name, group) in enumerate(zip(names, groups, strict=True)):
        if name in growth:
            rates[i] = float(growth[name])
            sources.append("region")
        elif group in growth:
            rates[i] = float(growth[group])
            sources.append("group")
        else:
            sources.append("none")
    return rates, sources


def project_totals(base: ArrayLike, names: ArrayLike, groups: ArrayLike, base_year: int,
                   years: Sequence[int], growth: Mapping[str, float]) -> pd.DataFrame:
    """Population of each region in each year: the base compounded by its annual rate.

    Parameters
    ----------
    base : sequence of float
        People per region in ``base_year``.
    names, groups : sequence of str
        Name and group of each region (same order as ``base``).
    base_year : int
    years : sequence of int
        Target years, none before ``base_year``.
    growth : mapping of str to float
        Annual rate by region or group name (see :func:`growth_rates`).

    Returns
    -------
    pandas.DataFrame
        One row per region and year (the base year first when listed): ``region``,
        ``group``, ``year``, ``population`` (people), ``rate`` (annual, fraction) and
        ``rate_from`` (:data:`RATE_SOURCES`).

    >>> t = project_totals([1000.0, 500.0], ["A", "B"], ["east", "west"], 2020,
    ...                    [2020, 2030], {"west": 0.03})
    >>> t.population.round(3).tolist()  # A 2020, B 2020, A 2030, B 2030
    [1000.0, 500.0, 1000.0, 671.958]
    """
    people = np.asarray(base, dtype=float)
    names = np.asarray(names, dtype=object)
    groups = np.asarray(groups, dtype=object)
    if len(people) != len(names) or len(names) != len(groups):
        raise ValueError("base, names and groups must hold one value per region")
    years = [int(y) for y in years]
    early = [y for y in years if y < int(base_year)]
    if early:
        raise ConfigError(f"forecast.years: {', '.join(map(str, early))} before base_year "
                          f"{int(base_year)}; a forecast runs forward from the base year")
    rates, sources = growth_rates(names, groups, growth)
    frames = [pd.DataFrame({
        "region": names, "group": groups, "year": y,
        "population": people * (1.0 + rates) ** (y - int(base_year)),
        "rate": rates, "rate_from": sources,
    }) for y in years]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["region", "group", "year", "population", "rate", "rate_from"])
