"""A study with a street network end to end: walk times with a ferry, notes, outputs."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from equiserve import Study, run_report
from equiserve.errors import DataError, DataQualityWarning
from equiserve.testing import TINY_ORIGIN, write_tiny_study

SCHOOL_60_MIN = '{ mode = "walk", minutes = 60 }'
CLINIC_1KM = '{ mode = "walk", distance_m = 1000 }'


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EQUISERVE_CACHE_DIR", str(tmp_path / "cache"))


def load(config):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(config)
        return study, study.coverage()


def notes_text(study, result) -> str:
    """The loading notes and the coverage result's."""
    return "\n".join(str(n) for n in [*study.notes, *result.notes])


def independent_times(study, layer: str) -> np.ndarray:
    """Minutes from each cell to the nearest facility on a networkx graph in which every
    snapped cell and facility is a node inserted into its street (no equiserve routing)."""
    net = study.networks["walk"]
    cells, facs = study.cell_snaps["walk"], study.facility_snaps[layer]
    G = nx.Graph()
    on_edge: dict[int, list] = {}
    walk = net.access_speed_mps
    for kind, snap in (("cell", cells), ("fac", facs)):
        for i in np.flatnonzero(snap.ok):
            on_edge.setdefault(int(snap.edge[i]), []).append((snap.t[i], ("road", kind, i)))
            G.add_edge((kind, int(i)), ("road", kind, i), weight=snap.access_m[i] / walk)
    for e in range(net.n_edges):
        a, b = int(net.u[e]), int(net.v[e])
        chain = [(0.0, a)] + sorted(on_edge.get(e, []), key=lambda p: p[0]) + [(1.0, b)]
        for (t0, n0), (t1, n1) in zip(chain[:-1], chain[1:], strict=True):
            G.add_edge(n0, n1, weight=(t1 - t0) * net.time_fwd_s[e])
    ref = nx.multi_source_dijkstra_path_length(G, [("fac", int(i))
                                                    for i in np.flatnonzero(facs.ok)])
    return np.array([ref.get(("cell", i), np.inf) / 60 for i in range(len(cells))])


def test_walk_times_with_ferry_match_networkx(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True, school_std=SCHOOL_60_MIN,
                           clinic_std=CLINIC_1KM)
    study, result = load(cfg)
    cov = result.layers["schools"]
    assert cov.method == "network_walk" and cov.unit == "min"
    np.testing.assert_allclose(cov.distance, independent_times(study, "schools"), atol=1e-6)
    # Isle has no school: its children reach one only by ferry (10 min wait + 10 min)
    isle = study.population.region == 2
    assert (cov.distance[isle] > 20).all() and cov.covered[isle].all()
    assert cov.ferry_only[isle].all() and not cov.ferry_only[~isle].any()
    assert "meet the schools standard only by ferry: Isle" in notes_text(study, result)


def test_cells_far_from_streets_are_unreachable_and_reported(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True, school_std=SCHOOL_60_MIN,
                           clinic_std=CLINIC_1KM)
    study, result = load(cfg)
    snap = study.cell_snaps["walk"]
    # Farms has one road along its middle: cells more than 500 m from it are not snapped
    x0, y0 = TINY_ORIGIN
    dy = np.abs(study.population.y - (y0 + 1000))
    far, near = dy > 501, dy < 499  # cell centres exactly 500 m away sit on the limit
    farms = study.population.region == 1
    assert (~snap.ok[farms & far]).all() and snap.ok[farms & near].all()
    text = notes_text(study, result)
    assert "farther than the snapping limit" in text and "Farms" in text
    s = result.summary.set_index(["layer", "level", "name"])
    farms_pop = study.population.population[farms & ~snap.ok].sum()
    assert s.loc[("clinics", "region", "Farms"), "unreachable_population"] == pytest.approx(
        farms_pop)


def test_island_without_ferry_is_reported_not_dropped(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True, ferry=False,
                           school_std=SCHOOL_60_MIN, clinic_std=CLINIC_1KM)
    study, result = load(cfg)
    cov = result.layers["schools"]
    isle = study.population.region == 2
    assert np.isinf(cov.distance[isle]).all()
    assert "no schools facility (no street or ferry link): Isle" in notes_text(study, result)
    row = result.summary.set_index(["layer", "level", "name"]).loc[
        ("schools", "group", "island")]
    assert row["population"] > 0 and row["coverage_pct"] == 0


def test_network_outputs(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True, school_std=SCHOOL_60_MIN,
                           clinic_std=CLINIC_1KM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        paths = run_report(cfg, tmp_path / "out")
    cells = gpd.read_file(paths["coverage.gpkg"], layer="cells")
    assert {"time_schools_min", "dist_clinics_m"} <= set(cells.columns)
    summary = pd.read_csv(paths["summary.csv"])
    assert set(summary["distance_method"]) == {"network_walk"}
    areas = gpd.read_file(paths["coverage.gpkg"], layer="service_areas_dissolved")
    clinic_area = areas.set_index("layer").loc["clinics", "geometry"]
    # within 1 km by street of the Core clinic (centre of Core): the area stays on streets
    # of Core and never reaches Farms' road across the 1 km gap
    x0, y0 = TINY_ORIGIN
    assert not clinic_area.intersects(shapely.box(x0 - 3000, y0, x0 - 1100, y0 + 2000))
    assert "service_areas" not in dict(pyogrio.list_layers(paths["coverage.gpkg"]))
    html = paths["report.html"].read_text(encoding="utf-8")
    assert "walking along the street network" in html and "Mean travel time (min)" in html


def test_facilities_all_off_network_is_an_error(tmp_path):
    cfg = write_tiny_study(tmp_path / "in", network=True, school_std=SCHOOL_60_MIN,
                           clinic_std=CLINIC_1KM)
    # the same streets moved 0.5 degrees north: no facility is near them
    osm = cfg.parent / "streets.osm"
    osm.write_text(re.sub(r'lat="([0-9.]+)"', lambda m: f'lat="{float(m.group(1)) + 0.5:.8f}"',
                          osm.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DataError, match=r"layers.schools: none of its 4 facilities is within "
                                        r"500 m of the walk network \(streets.osm\)"):
        load(cfg)
