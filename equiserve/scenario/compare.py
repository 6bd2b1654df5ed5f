"""Baseline against plan: every summary and equity figure side by side, and target tracking."""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from equiserve.config.scenario import ScenarioConfig
from equiserve.errors import ConfigError
from equiserve.scenario.apply import EXISTS, PLACED, PROXY, UNPLACED

#: Unit of each figure of the comparison, by column name.
UNITS = {
    "population": "people", "covered_population": "people", "coverage_pct": "%",
    "unserved_population": "people", "unreachable_population": "people",
    "mean_distance_m": "m", "median_distance_m": "m", "p90_distance_m": "m",
    "mean_time_min": "min", "median_time_min": "min", "p90_time_min": "min",
    "facilities": "count", "capacity": "places", "served_population": "people",
    "in_reach_without_place": "people", "access_score": "places per person",
    "access_relative_to_study": "ratio", "places_required": "places",
    "places_short": "places", "gini": "index", "theil": "index",
    "theil_between_groups": "index", "theil_within_groups": "index",
    "theil_between_regions": "index", "theil_within_regions": "index", "cv": "index",
    "worst_to_best": "ratio", "life_circle_score": "share", "median_distance": "layer unit",
}
_KEYS = ["layer", "level", "name"]


def _long(frame: pd.DataFrame, table: str, keys: list[str]) -> pd.DataFrame:
    figures = [c for c in frame.columns if c in UNITS]
    out = frame[keys + figures].melt(id_vars=keys, var_name="figure", value_name="value")
    out.insert(0, "table", table)
    return out


def compare(base_summary: pd.DataFrame, plan_summary: pd.DataFrame,
            base_card: pd.DataFrame | None = None, plan_card: pd.DataFrame | None = None,
            base_indices: pd.DataFrame | None = None,
            plan_indices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Long table: ``table, layer, level, name, figure, unit, baseline, plan, change``.

    ``table`` is ``summary`` (summary.csv), ``equity`` (equity.csv) or ``indices``
    (equity_indices.csv, ``level`` = the measure, ``name`` = the index). Figures missing
    on one side (a layer without capacity) are left out; ``change`` is plan - baseline.

    >>> b = pd.DataFrame({"layer": ["s"], "level": ["study"], "name": ["study"],
    ...                   "coverage_pct": [40.0], "facilities": [3]})
    >>> p = b.assign(coverage_pct=[55.0], facilities=[4])
    >>> compare(b, p)[["figure", "unit", "baseline", "plan", "change"]].values.tolist()
    [['coverage_pct', '%', 40.0, 55.0, 15.0], ['facilities', 'count', 3.0, 4.0, 1.0]]
    """
    parts = [(_long(base_summary, "summary", _KEYS), _long(plan_summary, "summary", _KEYS))]
    if base_card is not None and plan_card is not None:
        parts.append((_long(base_card, "equity", _KEYS), _long(plan_card, "equity", _KEYS)))
    if base_indices is not None and plan_indices is not None:
        def ind(f: pd.DataFrame) -> pd.DataFrame:
            f = f.rename(columns={"measure": "level", "index": "name"})
            return f.assign(table="indices", figure=f["name"])[
                ["table", "layer", "level", "name", "figure", "value"]]
        parts.append((ind(base_indices), ind(plan_indices)))
    rows = []
    keys = ["table", *_KEYS, "figure"]
    for base, plan in parts:
        # baseline order first (outer merges sort keys), then rows only the plan has
        m = base.merge(plan, on=keys, how="left", suffixes=("_b", "_p"))
        only = plan.merge(base[keys], on=keys, how="left", indicator=True)
        only = only[only["_merge"] == "left_only"].drop(columns="_merge")
        m = pd.concat([m, only.rename(columns={"value": "value_p"})], ignore_index=True)
        rows.append(pd.DataFrame({**{k: m[k] for k in keys},
                                  "baseline": pd.to_numeric(m["value_b"], errors="coerce"),
                                  "plan": pd.to_numeric(m["value_p"], errors="coerce")}))
    out = pd.concat(rows, ignore_index=True)
    out = out[out["baseline"].notna() | out["plan"].notna()].reset_index(drop=True)
    out.insert(5, "unit", [("index" if t == "indices" else UNITS.get(f, ""))
                           for t, f in zip(out["table"], out["figure"], strict=True)])
    with np.errstate(invalid="ignore"):
        out["change"] = out["plan"] - out["baseline"]
    return out


def check_targets(scenario: ScenarioConfig, layers: list[str], regions: list[str]) -> None:
    """Refuse targets naming an unknown region or group, or a misspelt layer (a layer the
    study lacks on purpose, e.g. elderly care without data, is fine: it is not tracked)."""
    for t in scenario.targets:
        if t.region is not None and t.region not in regions:
            close = difflib.get_close_matches(t.region, regions, n=1, cutoff=0.3)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"scenario: [[target]] {t.label!r}: region {t.region!r} is not a "
                              f"region or group of the study{hint}; regions and groups: "
                              f"{', '.join(regions)}")
        if t.layer is not None and t.layer not in layers:
            close = difflib.get_close_matches(t.layer, layers, n=1, cutoff=0.8)
            if close:
                raise ConfigError(f"scenario: [[target]] {t.label!r}: layer {t.layer!r} is "
                                  f"not a layer of the study; did you mean {close[0]!r}?")


def track_targets(scenario: ScenarioConfig, changes: pd.DataFrame,
                  layers: list[str]) -> pd.DataFrame:
    """Per target: targeted, placed (exactly or at a proxy), already there, unplaced, missing.

    ``missing`` is what the plan still has to find: the target minus every facility of
    that layer (and region) the plan lists, placed or not. ``status`` says in words
    whether the target is met, named but not all placed, or short, and how many of the
    located facilities were already in the data or stand at proxy points. Region targets
    count located facilities only (an unplaced one has no region); the status says how
    many of the layer's are unplaced.
    """
    adds = changes[changes["action"] == "add"]
    rows = []
    for t in scenario.targets:
        if t.layer is None or t.layer not in layers:
            why = ("no study layer measures it" if t.layer is None
                   else f"the study has no layer {t.layer!r}")
            if t.note:
                why += f" ({t.note})"
            rows.append({"label": t.label, "layer": t.layer, "region": t.region,
                         "unit": t.unit, "targeted": t.count, "placed": np.nan,
                         "placed_at_proxy": np.nan, "already_in_baseline": np.nan,
                         "unplaced": np.nan, "missing": np.nan,
                         "status": f"not tracked: {why}", "source": t.source})
            continue
        a = adds[adds["layer"] == t.layer]
        if t.region is not None:
            a = a[(a["region"] == t.region) | (a["group"] == t.region)]  # located only
        placed = int((a["status"] == PLACED).sum())
        proxy = int((a["status"] == PROXY).sum())
        exists = int((a["status"] == EXISTS).sum())
        unplaced = int((a["status"] == UNPLACED).sum())
        located = placed + proxy + exists
        missing = max(t.count - located - unplaced, 0.0)
        detail = []
        if exists:
            detail.append(f"{exists} already in the baseline data")
        if proxy:
            detail.append(f"{proxy} of {located} at proxy locations")
        if located >= t.count:
            status = "met"
        elif located + unplaced >= t.count:
            status = f"named in full; {t.count - located:g} not placed"
        else:
            status = f"short by {t.count - located:g}"
            if unplaced:
                detail.insert(0, f"{unplaced} named but not placed")
        if t.region is not None:
            elsewhere = int(((adds["layer"] == t.layer) & (adds["status"] == UNPLACED)).sum())
            if elsewhere:
                detail.append(f"{elsewhere} more of the layer named but not placed, region "
                              "unknown")
        if t.note:
            detail.append(t.note)
        if detail:
            status += f" ({'; '.join(detail)})"
        rows.append({"label": t.label, "layer": t.layer, "region": t.region, "unit": t.unit,
                     "targeted": t.count, "placed": placed, "placed_at_proxy": proxy,
                     "already_in_baseline": exists, "unplaced": unplaced, "missing": missing,
                     "status": status, "source": t.source})
    return pd.DataFrame(rows, columns=["label", "layer", "region", "unit", "targeted",
                                       "placed", "placed_at_proxy", "already_in_baseline",
                                       "unplaced", "missing", "status", "source"])
