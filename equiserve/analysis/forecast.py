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


def apply_totals(table: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """``table`` (:func:`project_totals`) with the population of the (region, year) pairs
    that ``totals`` gives (columns ``region``, ``year``, ``population``: a plan's
    projection) replacing the compounded one; their ``rate_from`` is ``"table"`` and their
    ``rate`` the annual rate that gives the same total from the base.

    >>> t = project_totals([100.0], ["A"], ["g"], 2020, [2030], {"A": 0.01})
    >>> apply_totals(t, pd.DataFrame({"region": ["A"], "year": [2030],
    ...                               "population": [121.0]}))[["population", "rate_from"]]
       population rate_from
    0       121.0     table
    """
    out = table.copy()
    if totals is None or not len(totals):
        return out
    key = pd.MultiIndex.from_frame(out[["region", "year"]])
    given = totals.set_index(["region", "year"])["population"]
    at = key.get_indexer(given.index)
    if (at < 0).any():
        raise ValueError("totals name a (region, year) the table does not hold")
    base = out.loc[out["year"] == out["year"].min()].set_index("region")["population"]
    out.loc[at, "population"] = given.to_numpy(float)
    out.loc[at, "rate_from"] = "table"
    first = out["year"].min()
    span = out.loc[at, "year"].to_numpy() - first
    start = base.reindex(out.loc[at, "region"]).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out.loc[at, "rate"] = np.where((span > 0) & (start > 0),
                                       (given.to_numpy(float) / start) ** (1 / span) - 1,
                                       np.nan)
    return out


def project_cells(people: np.ndarray, region: np.ndarray, subgroups: Mapping[str, np.ndarray],
                  totals: np.ndarray, development: np.ndarray,
                  shares: Mapping[str, np.ndarray] | None = None,
                  development_shares: Mapping[str, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """People and subgroup counts per cell in a target year.

    Each region's cells are scaled to its total for the year (``totals``: today's people
    grown, or a projection), keeping where its people live; the development residents of
    each cell (``development``, people) are added. A subgroup's share of each region's
    total is ``shares[k][region]`` where given (not NaN), else its share today; its
    existing counts are scaled to that share of the grown total (keeping where, within
    the region, the subgroup lives), and development residents count toward it at
    ``development_shares[k]`` of the cell (NaN: the region's share).

    Parameters
    ----------
    people : ndarray
        People per cell in the base year.
    region : ndarray of int
        Region of each cell.
    subgroups : mapping of str to ndarray
        Subgroup counts per cell in the base year.
    totals : ndarray
        People per region in the year, without the development residents.
    development : ndarray
        New residents per cell in the year.
    shares, development_shares : mapping of str to ndarray, optional
        Per region (per cell for development residents) the subgroup's share in the year.

    Returns
    -------
    population : ndarray
    subgroups : dict of str to ndarray

    Raises
    ------
    ValueError
        A region with nobody today is given people (nothing to scale: use a development
        area).

    >>> pop, sub = project_cells(np.array([10.0, 30.0, 0.0]), np.array([0, 0, 0]),
    ...                          {"kids": np.array([1.0, 3.0, 0.0])}, np.array([80.0]),
    ...                          np.array([0.0, 0.0, 20.0]), {"kids": np.array([0.05])})
    >>> pop.tolist(), sub["kids"].tolist()  # 80 grown + 20 new; 5 % of all 100 are kids
    ([20.0, 60.0, 20.0], [1.0, 3.0, 1.0])
    """
    n = len(totals)
    base = np.bincount(region, weights=people, minlength=n)
    totals = np.asarray(totals, dtype=float)
    if np.any((base <= 0) & (totals > 0)):
        raise ValueError("a region with nobody in the base year cannot be grown")
    factor = np.divide(totals, base, out=np.zeros(n), where=base > 0)
    grown = people * factor[region]
    out_subs = {}
    for name, counts in subgroups.items():
        sub_base = np.bincount(region, weights=counts, minlength=n)
        today = np.divide(sub_base, base, out=np.zeros(n), where=base > 0)
        given = None if shares is None else shares.get(name)
        share = today if given is None else np.where(np.isnan(given), today, given)
        scale = np.divide(share * totals, sub_base, out=np.zeros(n), where=sub_base > 0)
        # a region without the subgroup today: spread it as its people live
        existing = np.where((sub_base > 0)[region], counts * scale[region],
                            grown * share[region])
        dev = None if development_shares is None else development_shares.get(name)
        dev_share = share[region] if dev is None else np.where(np.isnan(dev), share[region],
                                                              dev)
        out_subs[name] = existing + development * dev_share
    return grown + development, out_subs
