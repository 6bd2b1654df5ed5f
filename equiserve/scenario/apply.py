"""Apply a scenario's changes to a loaded study: a new Study with the plan's facilities.

The baseline study is never modified. Each change becomes one row of the changes table
(what, where, how it was placed and how precisely), including the ones that could not be
applied, so the report can say what the plan does and what it leaves unplaced.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from equiserve.config.scenario import AddSpec, CapacitySpec, RemoveSpec, ScenarioConfig
from equiserve.crs import to_wgs84_geometries
from equiserve.errors import ConfigError, DataError
from equiserve.inputs.facilities import FacilityLayer
from equiserve.inputs.gazetteer import Gazetteer, Match, normalise
from equiserve.notes import Notes
from equiserve.settings import SAME_SITE_M
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
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"scenario: {what} names layer {layer!r}, which the study does not "
                          f"have{hint}; layers: {', '.join(study.layers)}")


def _find_one(fac: gpd.GeoDataFrame, layer: str, ident: str | None, name: str | None,
              what: str, removed: gpd.GeoDataFrame | None = None) -> int:
    """The one row of ``fac`` with this id or (normalised) name; an error otherwise."""
    rows = _matches(fac, ident, name)
    key, value = ("id", ident) if ident is not None else ("name", name)
    pool = fac["facility_id" if ident is not None else "name"].astype(str).tolist()
    if len(rows) > 1:
        ids = ", ".join(fac["facility_id"].astype(str).iloc[rows[:6]])
        raise DataError(f"scenario: {what}: {len(rows)} facilities of layer {layer!r} have "
                        f"{key} {value!r} (ids {ids}); name one with id = \"...\"")
    if not len(rows):
        if removed is not None and len(_matches(removed, ident, name)):
            raise DataError(f"scenario: {what}: {key} {value!r} of layer {layer!r} is removed "
                            "by the plan's [[remove]]")
        close = difflib.get_close_matches(value, pool, n=3)
        hint = f"; close: {', '.join(close)}" if close else ""
        raise DataError(f"scenario: {what}: layer {layer!r} has no facility with {key} "
                        f"{value!r}{hint}")
    return int(rows[0])


def _matches(fac: gpd.GeoDataFrame, ident: str | None, name: str | None) -> np.ndarray:
    if ident is not None:
        return np.flatnonzero(fac["facility_id"].astype(str).to_numpy() == ident)
    return np.flatnonzero([normalise(n) == normalise(name or "") for n in fac["name"]])


#: Endings of Chinese administrative area names (city, district, county, town).
AREA_SUFFIXES = ("市", "区", "县", "镇")


def _in_baseline(study: Study, fac: gpd.GeoDataFrame, spec: AddSpec,
                 match: Match | None) -> int | None:
    """Row of ``fac`` that already is this facility, or None.

    Its own name, exactly (no point needed); or, with a point, an existing facility within
    :data:`SAME_SITE_M` whose name is the gazetteer's name for it (when the name itself was
    looked up, not a separate ``place``) or is its name after an area's name (珠海市, 香洲区, a
    region of the study), and only if exactly one does. A separate
    ``place`` (a town, a park) never identifies the facility, and a part of a name
    ("School") never matches without the point.
    """
    names = [normalise(n) for n in fac["name"]]
    own = normalise(spec.name)
    if own in names:
        return names.index(own)
    if match is None or not len(fac):
        return None
    x, y, _r, _g = _locate(study, [match.lon], [match.lat])
    near = np.flatnonzero(np.hypot(shapely.get_x(fac.geometry.values) - x[0],
                                   shapely.get_y(fac.geometry.values) - y[0]) <= SAME_SITE_M)
    looked_up = normalise(match.name) if spec.place is None and not spec.has_coordinates \
        else None
    areas = {normalise(r) for r in study.regions.names}

    def area_prefixed(n: str) -> bool:  # 珠海市 + 中山大学附属中学, 香洲区 + 第十九小学
        prefix = n[:-len(own)]
        return bool(prefix) and n.endswith(own) and (prefix.endswith(AREA_SUFFIXES)
                                                     or prefix in areas)

    hits = [i for i in near if names[i] == looked_up or area_prefixed(names[i])]
    return int(hits[0]) if len(hits) == 1 else None


def _lonlat(spec: AddSpec) -> tuple[float, float]:
    """WGS84 lon/lat of an add given by coordinates in any supported CRS."""
    what = f"[[add]] {spec.name!r}"
    x, y = spec.x, spec.y
    assert x is not None and y is not None  # has_coordinates
    if isinstance(spec.crs, str):  # GCJ-02 or BD-09
        _check_lonlat(x, y, what)
        pt = to_wgs84_geometries(shapely.points(x, y), spec.crs)
        return float(pt.x), float(pt.y)
    crs = pyproj.CRS.from_user_input(spec.crs if spec.crs is not None else 4326)
    if crs.is_geographic:
        _check_lonlat(x, y, what)
    lonlat = gpd.GeoSeries([shapely.points(x, y)], crs=crs).to_crs(4326).iloc[0]
    if not (np.isfinite(lonlat.x) and np.isfinite(lonlat.y)):
        raise DataError(f"scenario: {what}: x = {x:g}, y = {y:g} are not valid "
                        f"coordinates in {crs.to_string()}; check the values and crs")
    return float(lonlat.x), float(lonlat.y)


def _check_lonlat(lon: float, lat: float, what: str) -> None:
    if -180 <= lon <= 180 and -90 <= lat <= 90:
        return
    swapped = " (they look swapped: lon first, then lat)" if (
        -180 <= lat <= 180 and -90 <= lon <= 90) else ""
    raise DataError(f"scenario: {what}: lon = {lon:g}, lat = {lat:g} are not longitude and "
                    f"latitude{swapped}")


def _place(spec: AddSpec, gaz: Gazetteer | None) -> tuple[Match | None, str, str]:
    """(match or None, placed_by, reason) for one add."""
    if spec.has_coordinates:
        lon, lat = _lonlat(spec)
        crs = (spec.crs if isinstance(spec.crs, str) or spec.crs is None
               else spec.crs.to_string())
        return Match(spec.name, spec.name, lon, lat, f"coordinates given ({crs})",
                     "coordinates"), "coordinates", ""
    assert gaz is not None  # parse_scenario requires a [gazetteer] for names
    match, reason = gaz.resolve(spec.place or spec.name)
    if match is None:
        return None, "", f"{spec.place or spec.name}: {reason}"
    return match, f"gazetteer ({match.how} name match)", ""


def _locate(study: Study, lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, list[str | None], list[str | None]]:
    """Working-CRS x, y and region/group names (None outside every region) of points."""
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(study.crs)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    r = study.regions.locate(x, y)
    regions = [study.regions.names[k] if k >= 0 else None for k in r]
    groups = [study.regions.groups[k] if k >= 0 else None for k in r]
    return x, y, regions, groups


def _layer_changes(study: Study, name: str, scenario: ScenarioConfig,
                   gazetteer: Gazetteer | None, rows: list[dict]) -> FacilityLayer | None:
    """The layer as the plan makes it (None if the plan leaves it alone); appends the
    change rows to ``rows``."""
    removes = [r for r in scenario.remove if r.layer == name]
    adds = [a for a in scenario.add if a.layer == name]
    caps = [c for c in scenario.capacity if c.layer == name]
    if not (removes or adds or caps):
        return None
    layer = study.layers[name]
    fac = layer.facilities
    keep = np.ones(len(fac), dtype=bool)
    for rm in removes:
        what = f"[[remove]] {rm.name or rm.id!r}"
        i = _find_one(fac, name, rm.id, rm.name, what)
        if not keep[i]:
            raise DataError(f"scenario: {what}: the plan removes this facility twice")
        keep[i] = False
        rows.append({"action": "remove", "layer": name, "name": fac["name"].iloc[i],
                     "facility_id": fac["facility_id"].iloc[i], "status": "removed",
                     "region": fac["region"].iloc[i], "group": fac["group"].iloc[i],
                     "capacity_before": fac["capacity"].iloc[i], "note": rm.note})
    kept = fac[keep].reset_index(drop=True)
    added: list[dict] = []
    for add in adds:
        row = {"action": "add", "layer": name, "name": add.name,
               "capacity_after": add.capacity, "note": add.note}
        exists = _in_baseline(study, kept, add, None)  # its own name: no lookup needed
        match = None
        if exists is None:
            match, placed_by, reason = _place(add, gazetteer)
            row["placed_by"] = placed_by
            if match is None:
                rows.append({**row, "status": UNPLACED, "precision": reason})
                continue
            row.update({"matched_name": match.name, "lon": match.lon, "lat": match.lat,
                        "precision": match.precision})
            exists = _in_baseline(study, kept, add, match)
        if exists is not None:
            note = [f"in the baseline data as {kept['name'].iloc[exists]!r}; not added twice"]
            if add.capacity is not None:
                note.append(f"its capacity ({add.capacity:g}) is not applied: use "
                            "[[capacity]] for an existing facility")
            pt = kept.geometry.iloc[exists]
            lonlat = gpd.GeoSeries([pt], crs=study.crs).to_crs(4326).iloc[0]
            row.update({"status": EXISTS, "facility_id": kept["facility_id"].iloc[exists],
                        "region": kept["region"].iloc[exists],
                        "group": kept["group"].iloc[exists], "capacity_after": None,
                        "lon": lonlat.x, "lat": lonlat.y,
                        "note": "; ".join(filter(None, [*note, add.note]))})
            rows.append(row)
            continue
        row["status"] = PROXY if add.proxy_for else PLACED
        if add.proxy_for:
            assert match is not None
            row["precision"] = f"proxy for {add.proxy_for}: {match.precision}"
        row["facility_id"] = f"plan-{name}-{len(added) + 1}"
        rows.append(row)
        added.append(row)

    x, y, regions, groups = _locate(study, [a["lon"] for a in added],
                                    [a["lat"] for a in added])
    for a, r, g in zip(added, regions, groups, strict=True):
        a["region"], a["group"] = r, g
        if r is None:
            a["note"] = "; ".join(filter(None, ["outside every region: serves people inside "
                                                "but is counted in no region", a["note"]]))
    new = gpd.GeoDataFrame({
        "facility_id": [a["facility_id"] for a in added],
        "name": [a["name"] for a in added],
        "capacity": [np.nan if a["capacity_after"] is None else a["capacity_after"]
                     for a in added],
        "location_method": [f"plan: {a['placed_by']}" for a in added],
        "region": pd.Series(regions, dtype=object), "group": pd.Series(groups, dtype=object),
    }, geometry=gpd.points_from_xy(x, y), crs=study.crs)
    fac_new = gpd.GeoDataFrame(pd.concat([kept, new], ignore_index=True), geometry="geometry",
                               crs=study.crs)
    on = keep[layer.access_facility]  # access points of kept facilities
    renum = np.cumsum(keep) - 1
    af = np.concatenate([renum[layer.access_facility[on]],
                         np.arange(len(added)) + len(kept)]).astype(np.int64)

    for cap in caps:
        what = f"[[capacity]] {cap.name or cap.id!r}"
        i = _find_one(fac_new, name, cap.id, cap.name, what, removed=fac[~keep])
        before = fac_new.at[i, "capacity"]
        base = 0.0 if pd.isna(before) else float(before)
        after = base + cap.change if cap.change is not None else float(cap.set or 0.0)
        if after < 0:
            raise DataError(f"scenario: {what} in layer {name!r} would leave {after:g} places "
                            f"(was {base:g})")
        fac_new.at[i, "capacity"] = after
        said: list[str | None] = [cap.note]
        if pd.isna(before):
            said.insert(0, "capacity was unknown and is counted from 0")
        if not layer.has_capacity:
            said.insert(0, "the layer has no capacity_field, so the scorecard ignores places")
        rows.append({"action": "capacity", "layer": name, "name": fac_new.at[i, "name"],
                     "facility_id": fac_new.at[i, "facility_id"], "status": "changed",
                     "region": fac_new.at[i, "region"], "group": fac_new.at[i, "group"],
                     "capacity_before": before, "capacity_after": after,
                     "note": "; ".join(filter(None, said)) or None})
    if not len(fac_new):
        raise DataError(f"scenario: layer {name!r} has no facility left after the plan's "
                        "removals")
    return replace(layer, facilities=fac_new,
                   access_x=np.concatenate([layer.access_x[on], x]),
                   access_y=np.concatenate([layer.access_y[on], y]), access_facility=af)


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
        A removal or capacity change names no facility, or several; coordinates are
        invalid; a layer would be left empty.
    """
    specs: list[AddSpec | RemoveSpec | CapacitySpec] = [
        *scenario.add, *scenario.remove, *scenario.capacity]
    for spec in specs:
        ident = spec.name if isinstance(spec, AddSpec) else spec.name or spec.id
        _check_layer(study, spec.layer, f"[[{type(spec).__name__[:-4].lower()}]] {ident!r}")
    # the plan starts from what loading found (the baseline's analyses are not in it)
    notes = Notes(study.notes)
    if gazetteer is None and any(not a.has_coordinates for a in scenario.add):
        assert scenario.gazetteer is not None  # parse_scenario requires one for names
        gazetteer = Gazetteer.from_config(scenario.gazetteer, notes)

    rows: list[dict] = []
    new_layers = dict(study.layers)
    changed = []
    for name in study.layers:
        layer = _layer_changes(study, name, scenario, gazetteer, rows)
        if layer is not None:
            new_layers[name] = layer
            changed.append(name)
    plan = study.with_layers(new_layers, notes, changed)
    changes = pd.DataFrame(rows).reindex(columns=CHANGE_COLUMNS).astype(
        {"region": object, "group": object, "note": object})
    for name in changed:  # additions the network cannot reach serve no one
        snap = plan.facility_snaps.get(name)
        if snap is None:
            continue
        lay = plan.layers[name]
        ok = np.zeros(len(lay), dtype=bool)
        ok[lay.access_facility[snap.ok]] = True
        lost = set(lay.facilities["facility_id"][~ok])
        bad = (changes["layer"] == name) & changes["facility_id"].isin(lost) & (
            changes["action"] == "add")
        changes.loc[bad, "note"] = [
            "; ".join(filter(None, [f"off the {lay.standard.mode} network: serves no one in "
                                    "the network figures", n if isinstance(n, str) else None]))
            for n in changes.loc[bad, "note"]]
    unplaced = changes[changes["status"] == UNPLACED]
    if len(unplaced):
        one = len(unplaced) == 1
        notes.warn("scenario", f"{len(unplaced)} planned facilit{'y' if one else 'ies'} could "
                   f"not be placed and {'is' if one else 'are'} left out of the plan's "
                   f"figures: {', '.join(unplaced['name'].head(8))}"
                   + (" …" if len(unplaced) > 8 else ""))
    return plan, changes
