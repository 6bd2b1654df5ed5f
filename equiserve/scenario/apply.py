"""Apply a scenario's changes to a loaded study: a new Study with the plan's facilities.

The baseline study is never modified. Each change becomes one row of the changes table
(what, where, how it was placed and how precisely), including the ones that could not be
applied, so the report can say what the plan does and what it leaves unplaced.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from equiserve.errors import ConfigError, DataError
from equiserve.facilities import FacilityLayer
from equiserve.geo import to_wgs84_geometries
from equiserve.scenario.config import AddSpec, ScenarioConfig
from equiserve.scenario.gazetteer import Gazetteer, Match, normalise
from equiserve.study import Study

#: Statuses of an added facility in the changes table.
PLACED, PROXY, EXISTS, UNPLACED = "placed", "placed at a proxy", "already in baseline", \
    "unplaced"

CHANGE_COLUMNS = ["action", "layer", "name", "facility_id", "status", "placed_by",
                  "matched_name", "precision", "lon", "lat", "region", "group",
                  "capacity_before", "capacity_after", "note"]


def _check_layer(study: Study, layer: str, what: str) -> None:
    if layer not in study.layers:
        close = difflib.get_close_matches(layer, list(study.layers), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"scenario: {what} names layer {layer!r}, which the study does not "
                          f"have{hint} Layers: {', '.join(study.layers)}")


def _find(layer: FacilityLayer, ident: str | None, name: str | None, what: str) -> np.ndarray:
    """Rows of ``layer`` matching an id or a (normalised) name; an error if none."""
    fac = layer.facilities
    if ident is not None:
        rows = np.flatnonzero(fac["facility_id"].astype(str).to_numpy() == ident)
        key, value, pool = "id", ident, fac["facility_id"].astype(str).tolist()
    else:
        target = normalise(name)
        rows = np.flatnonzero([normalise(n) == target for n in fac["name"]])
        key, value, pool = "name", name, fac["name"].astype(str).tolist()
    if not len(rows):
        close = difflib.get_close_matches(value, pool, n=3)
        hint = f"; close: {', '.join(close)}" if close else ""
        raise DataError(f"scenario: {what}: layer {layer.name!r} has no facility with {key} "
                        f"{value!r}{hint}")
    return rows


def _in_baseline(name: str, matched: str, existing: set[str]) -> bool:
    """Whether the layer already has this facility: its name, the gazetteer's name for it,
    or an existing name containing it (中山大学附属中学 in 珠海市中山大学附属中学)."""
    wanted = {normalise(name), normalise(matched)}
    short = len(normalise(name)) < 4  # "Core" must not match "Core Primary"
    return bool(wanted & existing) or (not short and any(normalise(name) in e for e in existing))


def _lonlat(spec: AddSpec) -> tuple[float, float]:
    """WGS84 lon/lat of an add given by coordinates in any supported CRS."""
    pt = shapely.points(spec.x, spec.y)
    if isinstance(spec.crs, str) and spec.crs.upper() in ("GCJ-02", "BD-09"):
        pt = to_wgs84_geometries(pt, spec.crs)
        return float(pt.x), float(pt.y)
    lonlat = gpd.GeoSeries([pt], crs=spec.crs).to_crs(4326).iloc[0]
    return float(lonlat.x), float(lonlat.y)


def _place(spec: AddSpec, gaz: Gazetteer | None) -> tuple[Match | None, str, str]:
    """(match or None, placed_by, reason) for one add."""
    if spec.has_coordinates:
        lon, lat = _lonlat(spec)
        crs = spec.crs if isinstance(spec.crs, str) else spec.crs.to_string()
        return Match(spec.name, spec.name, lon, lat, f"coordinates given ({crs})",
                     "coordinates"), "coordinates", ""
    if gaz is None:
        return None, "", "no coordinates and no [gazetteer] to look the place up"
    match, reason = gaz.resolve(spec.place or spec.name)
    if match is None:
        return None, "", f"{spec.place or spec.name}: {reason}"
    return match, f"gazetteer ({match.how} name match)", ""


def apply_scenario(study: Study, scenario: ScenarioConfig,
                   gazetteer: Gazetteer | None = None) -> tuple[Study, pd.DataFrame]:
    """The study as the plan would make it, and the table of changes.

    Parameters
    ----------
    study : Study
        The baseline (left unchanged).
    scenario : ScenarioConfig
    gazetteer : Gazetteer, optional
        Default: the scenario's ``[gazetteer]``, loaded when an addition needs it.

    Raises
    ------
    ConfigError
        A change names a layer the study does not have.
    DataError
        A removal or capacity change names a facility the layer does not have.
    """
    for spec in (*scenario.add, *scenario.remove, *scenario.capacity):
        _check_layer(study, spec.layer, f"[[{type(spec).__name__[:-4].lower()}]] "
                                        f"{getattr(spec, 'name', None) or spec.id!r}")
    needs_gaz = any(not a.has_coordinates for a in scenario.add)
    notes = copy.deepcopy(study.notes)
    if gazetteer is None and needs_gaz and scenario.gazetteer is not None:
        gazetteer = Gazetteer.from_config(scenario.gazetteer, notes)

    rows: list[dict] = []
    new_layers = dict(study.layers)
    changed: set[str] = set()
    for name, layer in study.layers.items():
        fac = layer.facilities.copy()
        keep = np.ones(len(fac), dtype=bool)
        for spec in (r for r in scenario.remove if r.layer == name):
            idx = _find(layer, spec.id, spec.name, f"[[remove]] {spec.name or spec.id!r}")
            keep[idx] = False
            for i in idx:
                rows.append({"action": "remove", "layer": name, "name": fac["name"].iloc[i],
                             "facility_id": fac["facility_id"].iloc[i], "status": "removed",
                             "region": fac["region"].iloc[i], "group": fac["group"].iloc[i],
                             "capacity_before": fac["capacity"].iloc[i],
                             "note": spec.note})
        added = []
        existing_names = {normalise(n) for n in fac["name"][keep]}
        for spec in (a for a in scenario.add if a.layer == name):
            match, placed_by, reason = _place(spec, gazetteer)
            row = {"action": "add", "layer": name, "name": spec.name,
                   "capacity_after": spec.capacity, "note": spec.note, "placed_by": placed_by}
            if match is None:
                rows.append({**row, "status": UNPLACED, "precision": reason})
                continue
            row.update({"matched_name": match.name, "lon": match.lon, "lat": match.lat,
                        "precision": match.precision})
            if _in_baseline(spec.name, match.name, existing_names):
                rows.append({**row, "status": EXISTS,
                             "note": "a facility of this name is already in the baseline "
                                     "data; not added twice" + (f"; {spec.note}"
                                                                if spec.note else "")})
                continue
            if spec.proxy_for:
                row["status"] = PROXY
                row["precision"] = f"proxy for {spec.proxy_for}: {match.precision}"
            else:
                row["status"] = PLACED
            row["facility_id"] = f"plan-{name}-{spec.index + 1}"
            rows.append(row)
            added.append(row)
        if added:
            pts = gpd.GeoSeries(gpd.points_from_xy([a["lon"] for a in added],
                                                   [a["lat"] for a in added]),
                                crs=4326).to_crs(study.crs)
            x, y = pts.x.to_numpy(), pts.y.to_numpy()
            region = study.regions.locate(x, y)
            inside = region >= 0
            new = gpd.GeoDataFrame({
                "facility_id": [a["facility_id"] for a in added],
                "name": [a["name"] for a in added],
                "capacity": [np.nan if a["capacity_after"] is None else a["capacity_after"]
                             for a in added],
                "location_method": [f"plan: {a['placed_by']}" for a in added],
                "region": np.where(inside, study.regions.names[np.maximum(region, 0)], None),
                "group": np.where(inside, study.regions.groups[np.maximum(region, 0)], None),
            }, geometry=pts.values, crs=study.crs)
            for a, r in zip(added, region, strict=True):
                a["region"] = study.regions.names[r] if r >= 0 else None
                a["group"] = study.regions.groups[r] if r >= 0 else None
            fac_new = pd.concat([fac[keep], new], ignore_index=True)
            ax = np.concatenate([layer.access_x[keep[layer.access_facility]], x])
            ay = np.concatenate([layer.access_y[keep[layer.access_facility]], y])
        else:
            fac_new = fac[keep].reset_index(drop=True)
            ax = layer.access_x[keep[layer.access_facility]]
            ay = layer.access_y[keep[layer.access_facility]]
        renum = np.cumsum(keep) - 1
        af = np.concatenate([renum[layer.access_facility[keep[layer.access_facility]]],
                             np.arange(len(added)) + int(keep.sum())]).astype(np.int64)
        fac_new = gpd.GeoDataFrame(fac_new, geometry="geometry", crs=study.crs)

        for spec in (c for c in scenario.capacity if c.layer == name):
            probe = replace(layer, facilities=fac_new)
            idx = _find(probe, spec.id, spec.name, f"[[capacity]] {spec.name or spec.id!r}")
            for i in idx:
                before = fac_new.at[i, "capacity"]
                base = 0.0 if pd.isna(before) else float(before)
                after = base + spec.change if spec.change is not None else spec.set
                if after < 0:
                    raise DataError(f"scenario: [[capacity]] {spec.name or spec.id!r} in layer "
                                    f"{name!r} would leave {after:g} places (was {base:g})")
                fac_new.at[i, "capacity"] = after
                note = spec.note or ""
                if pd.isna(before):
                    note = ("capacity was unknown and is counted from 0; " + note).strip("; ")
                rows.append({"action": "capacity", "layer": name, "name": fac_new.at[i, "name"],
                             "facility_id": fac_new.at[i, "facility_id"], "status": "changed",
                             "region": fac_new.at[i, "region"], "group": fac_new.at[i, "group"],
                             "capacity_before": before, "capacity_after": after,
                             "note": note or None})
        cap_changes = any(c.layer == name for c in scenario.capacity)
        if not keep.all() or added or cap_changes:
            changed.add(name)
            if cap_changes and not layer.has_capacity:
                notes.warn(f"layers.{name}", "the scenario changes capacities, but the layer has "
                           "no capacity_field, so the scorecard does not use them")
            new_layers[name] = replace(layer, facilities=fac_new, access_x=ax, access_y=ay,
                                       access_facility=af)
    plan = replace(study, layers=new_layers, notes=notes,
                   facility_snaps=dict(study.facility_snaps))
    for name in changed:
        if not len(new_layers[name]):
            raise DataError(f"scenario: layer {name!r} has no facility left after the plan's "
                            "removals")
        plan.snap_layer(name)
    changes = pd.DataFrame(rows).reindex(columns=CHANGE_COLUMNS)
    where = changes["region"].isna() & changes["lon"].notna()  # e.g. already in baseline
    if where.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(changes.loc[where, "lon"],
                                               changes.loc[where, "lat"]),
                            crs=4326).to_crs(study.crs)
        r = study.regions.locate(pts.x.to_numpy(), pts.y.to_numpy())
        changes.loc[where, "region"] = np.where(r >= 0, study.regions.names[np.maximum(r, 0)],
                                                None)
        changes.loc[where, "group"] = np.where(r >= 0, study.regions.groups[np.maximum(r, 0)],
                                               None)
    unplaced = changes[changes["status"] == UNPLACED]
    if len(unplaced):
        notes.warn("scenario", f"{len(unplaced)} planned facilit"
                   f"{'y' if len(unplaced) == 1 else 'ies'} could not be placed and are left "
                   f"out of the plan's figures: {', '.join(unplaced['name'].head(8))}"
                   + (" …" if len(unplaced) > 8 else ""))
    return plan, changes
