"""Tests of equiserve.datasets.demo, the generator of the synthetic demo study area.

The demo is generated once per module. Its properties are checked with computations that
are independent of the generator: GDAL rasterisation for populations by group, geopandas
spatial joins for facility counts, pyproj.Geod for the GCJ-02 offsets, and the street
network as pyosmium reads it back and as :func:`equiserve.network.network_from_osm` builds it.
"""

from __future__ import annotations

import time
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import Geod
from rasterio.features import rasterize

from equiserve.datasets.demo import write_demo_inputs
from equiserve.network import Network, network_from_osm

UTM = "EPSG:32649"
GROUPS = ("east", "west", "island")
FILES = (
    "study.toml",
    "README.txt",
    "regions.gpkg",
    "population.tif",
    "schools.gpkg",
    "clinics.geojson",
    "bus_stops.csv",
    "art_centres.shp",
    "sports_parks.parquet",
    "streets.osm.pbf",
)
#: Default ferry speed of the network build (km/h).
FERRY_KMH = 20.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder holding the demo generated with the default seed."""
    folder = tmp_path_factory.mktemp("demo")
    start = time.perf_counter()
    study = write_demo_inputs(folder)
    print(f"demo inputs generated in {time.perf_counter() - start:.2f} s")
    assert study == folder / "study.toml"
    return folder


@pytest.fixture(scope="module")
def regions(demo: Path) -> gpd.GeoDataFrame:
    """The demo regions, reprojected to UTM 49N."""
    return gpd.read_file(demo / "regions.gpkg", layer="regions").to_crs(UTM)


@pytest.fixture(scope="module")
def raster(demo: Path) -> dict:
    """Both population bands, their transform and the pixel-centre coordinates."""
    with rasterio.open(demo / "population.tif") as src:
        bands = src.read()
        transform, nodata, crs = src.transform, src.nodata, src.crs
    rows, cols = np.indices(bands.shape[1:])
    x, y = rasterio.transform.xy(transform, rows.ravel(), cols.ravel(), offset="center")
    return {
        "people": bands[0],
        "children": bands[1],
        "transform": transform,
        "nodata": nodata,
        "crs": crs,
        "x": np.asarray(x).reshape(rows.shape),
        "y": np.asarray(y).reshape(rows.shape),
    }


def _group_grid(regions: gpd.GeoDataFrame, raster: dict) -> np.ndarray:
    """Group index (0 east, 1 west, 2 island) of each pixel by GDAL rasterisation, -1 off land."""
    shapes = [
        (g, GROUPS.index(grp) + 1)
        for g, grp in zip(regions.geometry, regions["group"], strict=True)
    ]
    burned = rasterize(
        shapes, out_shape=raster["people"].shape, transform=raster["transform"], fill=0
    )
    return burned.astype(int) - 1


def _wgs84_from_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invert GCJ-02 by fixed-point iteration on the forward transform."""
    from equiserve.crs import gcj02_from_wgs84

    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(20):
        glon, glat = gcj02_from_wgs84(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


@pytest.fixture(scope="module")
def stops(demo: Path) -> gpd.GeoDataFrame:
    """Bus stops as read from the CSV, with GCJ-02 columns and WGS84 point geometries."""
    df = pd.read_csv(demo / "bus_stops.csv", dtype={"stop_id": str, "name": str})
    lon, lat = _wgs84_from_gcj02(df["lon"].to_numpy(), df["lat"].to_numpy())
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.fixture(scope="module")
def layers(demo: Path, stops: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Every facility layer, as read from its file (native CRS)."""
    return {
        "schools": gpd.read_file(demo / "schools.gpkg", layer="schools"),
        "clinics": gpd.read_file(demo / "clinics.geojson"),
        "bus_stops": stops,
        "art_centres": gpd.read_file(demo / "art_centres.shp"),
        "sports_parks": gpd.read_parquet(demo / "sports_parks.parquet"),
    }


def _read_osm(path: Path) -> tuple[list[tuple], list[tuple]]:
    """Nodes (id, x, y, tags) and ways (id, node ids, tags) of an OSM file, in file order.

    ``x``/``y`` are libosmium's fixed-point coordinates (1e-7 degrees), compared exactly.
    """
    nodes, ways = [], []
    for obj in osmium.FileProcessor(str(path)):
        if obj.is_node():
            nodes.append((obj.id, obj.location.x, obj.location.y, dict(obj.tags)))
        elif obj.is_way():
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
    return nodes, ways


@pytest.fixture(scope="module")
def osm(demo: Path) -> dict:
    """The street file as pyosmium reads it back: its nodes and ways."""
    nodes, ways = _read_osm(demo / "streets.osm.pbf")
    return {"nodes": nodes, "ways": ways}


def _network(demo: Path, mode: str) -> Network:
    start = time.perf_counter()
    net = network_from_osm(demo / "streets.osm.pbf", mode=mode, crs=UTM, cache=False)
    print(f"{mode} network: {net.n_nodes} nodes, {net.n_edges} edges, "
          f"built in {time.perf_counter() - start:.2f} s")
    return net


@pytest.fixture(scope="module")
def walk(demo: Path) -> Network:
    """The demo's walk network (UTM 49N, not cached)."""
    return _network(demo, "walk")


@pytest.fixture(scope="module")
def drive(demo: Path) -> Network:
    """The demo's drive network (UTM 49N, not cached)."""
    return _network(demo, "drive")


def _region_of(regions: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Name of the region holding each point ('' off land)."""
    out = np.full(len(x), "", dtype=object)
    for name, geom in zip(regions["name"], regions.geometry, strict=True):
        out[shapely.contains_xy(geom, x, y)] = name
    return out


def _groups_of(layer: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> pd.Series:
    """Group of the region holding each feature (its representative point), NaN off land."""
    pts = gpd.GeoDataFrame(geometry=layer.to_crs(UTM).representative_point(), crs=UTM)
    joined = gpd.sjoin(pts, regions[["group", "geometry"]], how="left", predicate="within")
    assert not joined.index.duplicated().any()
    return joined["group"]


# --------------------------------------------------------------------------------------


def test_files_study_toml_and_labels(demo: Path) -> None:
    for name in FILES:
        assert (demo / name).is_file(), name
    study = tomllib.loads((demo / "study.toml").read_text(encoding="utf-8"))
    assert study["study"] == {"name": "Demo city (synthetic)", "synthetic": True}
    assert "crs" not in study["study"]
    assert study["regions"] == {
        "source": "regions.gpkg",
        "name_field": "name",
        "group_field": "group",
    }
    assert study["population"] == {
        "type": "raster",
        "source": "population.tif",
        "band": 1,
        "subgroups": {"children_6_11": {"band": 2}},
    }
    assert study["network"] == {"source": "streets.osm.pbf"}
    layers = study["layers"]
    assert set(layers) == {
        "primary_schools",
        "middle_schools",
        "clinics",
        "bus_stops",
        "art_centres",
        "sports_parks",
    }
    assert layers["primary_schools"]["filter"] == "level == 'primary'"
    assert layers["primary_schools"]["serves"] == "children_6_11"
    assert layers["middle_schools"]["filter"] == "level == 'middle'"
    standards = {name: layer["standard"] for name, layer in layers.items()}
    assert standards == {
        "primary_schools": {"mode": "walk", "distance_m": 500},
        "middle_schools": {"mode": "walk", "distance_m": 1000},
        "clinics": {"mode": "walk", "minutes": 15},
        "bus_stops": {"mode": "walk", "distance_m": 500},
        "art_centres": {"mode": "walk", "minutes": 15},
        "sports_parks": {"distance_m": 1000},  # straight line, so both methods show
    }
    assert layers["clinics"]["capacity_field"] == "beds"
    assert layers["bus_stops"]["crs"] == "GCJ-02"
    assert (layers["bus_stops"]["x_field"], layers["bus_stops"]["y_field"]) == ("lon", "lat")
    for layer in layers.values():
        assert not Path(layer["source"]).is_absolute()
        assert (demo / layer["source"]).is_file()
    readme = (demo / "README.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "NOT ZHUHAI" in readme


def test_file_crs_and_formats(demo: Path, raster: dict, layers: dict) -> None:
    assert gpd.read_file(demo / "regions.gpkg", layer="regions").crs.to_epsg() == 4326
    assert raster["crs"].to_epsg() == 32649
    assert raster["nodata"] == -9999
    assert layers["schools"].crs.to_epsg() == 32649
    assert layers["clinics"].crs.to_epsg() == 4326
    assert layers["art_centres"].crs.to_epsg() == 4326
    assert layers["sports_parks"].crs.to_epsg() == 32649
    with rasterio.open(demo / "population.tif") as src:
        assert src.count == 2 and src.dtypes == ("float32", "float32")
        assert src.res == (100.0, 100.0)
        assert src.profile["compress"] == "deflate" and src.profile["tiled"]
    assert (demo / "population.tif").stat().st_size < 5_000_000


def test_same_seed_identical_other_seed_differs(demo: Path, tmp_path: Path) -> None:
    again = write_demo_inputs(tmp_path / "again").parent
    other = write_demo_inputs(tmp_path / "other", seed=7).parent

    assert (again / "bus_stops.csv").read_bytes() == (demo / "bus_stops.csv").read_bytes()
    assert (other / "bus_stops.csv").read_bytes() != (demo / "bus_stops.csv").read_bytes()

    def bands(folder: Path) -> np.ndarray:
        with rasterio.open(folder / "population.tif") as src:
            return src.read()

    assert np.array_equal(bands(again), bands(demo))
    assert not np.array_equal(bands(other), bands(demo))

    for name, layer in (("regions.gpkg", "regions"), ("schools.gpkg", "schools")):
        a = gpd.read_file(demo / name, layer=layer)
        b = gpd.read_file(again / name, layer=layer)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
    a = gpd.read_parquet(demo / "sports_parks.parquet")
    b = gpd.read_parquet(again / "sports_parks.parquet")
    assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()

    # streets: same node and way ids, tags and coordinates (read back, not bytes)
    streets = _read_osm(demo / "streets.osm.pbf")
    assert _read_osm(again / "streets.osm.pbf") == streets
    assert _read_osm(other / "streets.osm.pbf") != streets


def test_regions_valid_and_grouped(regions: gpd.GeoDataFrame) -> None:
    assert set(regions["group"]) == set(GROUPS)
    assert regions["group"].value_counts().to_dict() == {"east": 4, "west": 3, "island": 4}
    assert regions["name"].is_unique and regions["code"].is_unique
    assert regions.geometry.is_valid.all()
    assert (regions.geom_type == "Polygon").all()
    # no region is a plain rectangle: the envelope is clearly larger than the polygon
    assert (regions.area < 0.99 * regions.envelope.area).all()
    # sizes: east core ~25x20 km, west ~40x25 km, islands 2-15 km²
    area_km2 = regions.area / 1e6
    by_group = area_km2.groupby(regions["group"]).sum()
    assert 400 < by_group["east"] < 600
    assert 800 < by_group["west"] < 1200
    assert area_km2[regions["group"] == "island"].between(2, 15).all()
    # districts do not overlap (beyond numerical noise)
    pairs = regions.geometry.values
    for i in range(len(pairs)):
        for j in range(i + 1, len(pairs)):
            assert pairs[i].intersection(pairs[j]).area < 1.0


def test_regions_valid_in_wgs84(demo: Path) -> None:
    raw = gpd.read_file(demo / "regions.gpkg", layer="regions")
    assert raw.geometry.is_valid.all()
    lon_min, lat_min, lon_max, lat_max = raw.total_bounds
    # near Zhuhai, inside UTM zone 49 (108-114 E)
    assert 112.5 < lon_min < lon_max < 114.0
    assert 21.8 < lat_min < lat_max < 22.5


def test_islands_offshore(regions: gpd.GeoDataFrame) -> None:
    islands = regions[regions["group"] == "island"].geometry.tolist()
    mainland = regions[regions["group"] != "island"].geometry.tolist()
    for k, isl in enumerate(islands):
        for other in mainland + islands[k + 1 :]:
            assert isl.distance(other) >= 2000.0


def test_population_cells_and_totals(regions: gpd.GeoDataFrame, raster: dict) -> None:
    people, children = raster["people"], raster["children"]
    populated = people > 0
    n = int(populated.sum())
    print(f"populated cells: {n}, people: {people[populated].sum():,.0f}")
    assert 50_000 <= n <= 150_000
    assert 2.0e6 <= people[populated].sum() <= 2.5e6
    assert 300 <= people.max() <= 650
    land = people != raster["nodata"]
    assert (people[land] >= 0).all() and (children[land] >= 0).all()
    assert (children[~land] == raster["nodata"]).all()
    assert (children[land] <= people[land]).all()

    group = _group_grid(regions, raster)
    totals = {g: people[(group == i) & populated].sum() for i, g in enumerate(GROUPS)}
    kids = {g: children[(group == i) & populated].sum() for i, g in enumerate(GROUPS)}
    assert totals["east"] > 2 * totals["west"]
    isl = regions[regions["group"] == "island"]
    for name, geom in zip(isl["name"], isl.geometry, strict=True):
        on = shapely.contains_xy(geom, raster["x"], raster["y"]) & populated
        assert 1_000 <= people[on].sum() <= 10_000, name
    for g in GROUPS:
        assert 0.06 <= kids[g] / totals[g] <= 0.08, g


def test_pixels_inside_exactly_one_region(regions: gpd.GeoDataFrame, raster: dict) -> None:
    x, y = raster["x"], raster["y"]
    count = np.zeros(x.shape, dtype=int)
    for geom in regions.geometry:
        count += shapely.contains_xy(geom, x, y)
    populated = raster["people"] > 0
    assert (count[populated] == 1).all()
    # nodata exactly off land
    assert np.array_equal(raster["people"] != raster["nodata"], count == 1)


def test_facilities_on_land(layers: dict, regions: gpd.GeoDataFrame) -> None:
    land = shapely.union_all(regions.geometry)
    for name, layer in layers.items():
        geoms = layer.to_crs(UTM).geometry
        assert shapely.within(geoms.values, land).all(), name


def test_facility_layers(layers: dict, regions: gpd.GeoDataFrame) -> None:
    schools = layers["schools"]
    assert schools["id"].is_unique
    assert set(schools["level"]) == {"primary", "middle"}
    primary = schools[schools["level"] == "primary"]
    middle = schools[schools["level"] == "middle"]
    assert 120 <= len(primary) <= 200
    assert 40 <= len(middle) <= 70
    assert schools["seats"].isna().sum() == 2
    assert primary["seats"].dropna().between(500, 1500).all()
    assert middle["seats"].dropna().between(1500, 3500).all()

    clinics = layers["clinics"]
    assert clinics["id"].is_unique and (clinics["beds"] > 0).all()
    assert pd.api.types.is_integer_dtype(clinics["beds"])

    stops = layers["bus_stops"]
    assert 1500 <= len(stops) <= 3000
    assert stops["stop_id"].is_unique

    art = layers["art_centres"]
    assert 10 <= len(art) <= 15 and art["id"].is_unique
    assert (art.geom_type == "Polygon").all()
    assert np.allclose(art.to_crs(UTM).area, 2400.0, rtol=0.01)
    assert (_groups_of(art, regions) != "island").all()

    parks = layers["sports_parks"]
    assert 25 <= len(parks) <= 40 and parks["id"].is_unique
    assert (parks.geom_type == "Polygon").all() and parks.geometry.is_valid.all()
    assert parks["area_ha"].between(1.0, 10.0).all()
    assert np.allclose(parks.area / 1e4, parks["area_ha"], atol=0.01)
    assert (_groups_of(parks, regions) != "island").all()


def test_west_and_islands_worse_served(
    layers: dict, regions: gpd.GeoDataFrame, raster: dict
) -> None:
    people = raster["people"]
    group = _group_grid(regions, raster)
    population = {g: people[(group == i) & (people > 0)].sum() for i, g in enumerate(GROUPS)}
    counts = pd.concat([_groups_of(layer, regions) for layer in layers.values()]).value_counts()
    per_100k = {g: counts.get(g, 0) / population[g] * 1e5 for g in GROUPS}
    print("facilities per 100,000 people:", {g: round(float(v), 1) for g, v in per_100k.items()})
    assert per_100k["west"] < per_100k["east"]
    assert per_100k["island"] < per_100k["east"]
    # and per km² of land
    area = (regions.area / 1e6).groupby(regions["group"]).sum()
    assert counts["west"] / area["west"] < counts["east"] / area["east"]
    assert counts.get("island", 0) / area["island"] < counts["east"] / area["east"]


def test_bus_stops_gcj02_offset(stops: gpd.GeoDataFrame) -> None:
    wgs = stops.geometry
    dist = Geod(ellps="WGS84").inv(
        wgs.x.to_numpy(), wgs.y.to_numpy(), stops["lon"].to_numpy(), stops["lat"].to_numpy()
    )[2]
    assert ((dist >= 300.0) & (dist <= 700.0)).all()
    # GCJ-02 moves points east and south here
    assert (stops["lon"] > wgs.x).all() and (stops["lat"] < wgs.y).all()


# --------------------------------------------------------------------------------------
# streets


def test_streets_file_contents(osm: dict) -> None:
    nodes, ways = osm["nodes"], osm["ways"]
    node_ids = np.array([n[0] for n in nodes])
    way_ids = np.array([w[0] for w in ways])
    print(f"streets: {len(nodes)} nodes, {len(ways)} ways")
    assert 40_000 <= len(nodes) <= 150_000
    # positive ids, nodes sorted and written before ways (file order is kept by the reader)
    assert node_ids.min() > 0 and (np.diff(node_ids) > 0).all()
    assert way_ids.min() > 0 and (np.diff(way_ids) > 0).all()
    used = np.unique(np.concatenate([w[1] for w in ways]))
    assert np.array_equal(used, node_ids)  # every way node exists, no orphan nodes

    tags = [w[2] for w in ways]
    highway = pd.Series([t.get("highway") for t in tags])
    counts = highway.value_counts()
    for hw in ("residential", "unclassified", "footway", "secondary", "primary", "motorway",
               "motorway_link"):
        assert counts.get(hw, 0) > 0, hw
    assert counts["residential"] > counts["secondary"] > 0
    assert sum(t.get("oneway") == "yes" and t["highway"] == "residential" for t in tags) >= 50
    major = [t for t in tags if t.get("highway") in ("primary", "secondary")]
    assert all("maxspeed" in t for t in major)
    bridges = [t for t in tags if t.get("bridge") == "yes"]
    assert 2 <= len(bridges) <= 3 and all(t["highway"] == "primary" for t in bridges)

    ferries = [w for w in ways if w[2].get("route") == "ferry"]
    assert len(ferries) == 3 and all("name" in w[2] for w in ferries)
    assert sum("duration" in w[2] for w in ferries) >= 1
    assert sum("interval" in w[2] for w in ferries) >= 1
    assert all("highway" not in w[2] for w in ferries)


def test_streets_on_land(walk: Network, drive: Network, regions: gpd.GeoDataFrame,
                         osm: dict) -> None:
    land = shapely.union_all(regions.geometry.values)
    for net in (walk, drive):
        assert shapely.contains_xy(land, net.x, net.y).all()
        # only bridges (one straight edge each) and ferries leave the land
        mx = (net.x[net.u] + net.x[net.v]) / 2
        my = (net.y[net.u] + net.y[net.v]) / 2
        wet = ~shapely.contains_xy(land, mx, my) & ~net.is_ferry
        n_bridges = sum(w[2].get("bridge") == "yes" for w in osm["ways"])
        assert wet.sum() == n_bridges
        assert (net.length_m[wet] > 1500.0).all()


def test_walk_components(walk: Network, regions: gpd.GeoDataFrame) -> None:
    comp = walk.components
    where = _region_of(regions, walk.x, walk.y)
    group = dict(zip(regions["name"], regions["group"], strict=True))
    node_group = np.array([group.get(w, "") for w in where])
    mainland = np.isin(node_group, ["east", "west"])
    assert (node_group == "east").any() and (node_group == "west").any()
    labels = np.unique(comp[mainland])
    assert len(labels) == 1  # the bridges join west and east
    main = labels[0]

    ferry_ends = np.concatenate([walk.u[walk.is_ferry], walk.v[walk.is_ferry]])
    linked = set(where[ferry_ends]) - {""}
    islands = set(regions.loc[regions["group"] == "island", "name"])
    assert len(linked & islands) == len(islands) - 1
    for name in islands:
        assert (where == name).sum() >= 50, name  # every island has streets
    for name in linked & islands:
        assert (comp[where == name] == main).all(), name
    # the island without a ferry: one network of its own, cut off from the mainland
    (cut_off,) = islands - linked
    own = np.unique(comp[where == cut_off])
    assert len(own) == 1 and own[0] != main
    assert (where[comp == own[0]] == cut_off).all()
    assert set(np.unique(comp).tolist()) == {main, own[0]}  # and no stray pieces


def test_drive_motorway_oneway_and_speeds(walk: Network, drive: Network, osm: dict) -> None:
    ways = osm["ways"]
    motor = {n for _, nds, t in ways if t.get("highway", "").startswith("motorway") for n in nds}
    other = {n for _, nds, t in ways
             if not t.get("highway", "motorway").startswith("motorway") for n in nds}
    motorway_only = np.array(sorted(motor - other))
    assert len(motorway_only) > 50
    assert np.isin(motorway_only, drive.node_id).all()
    assert not np.isin(motorway_only, walk.node_id).any()  # walkers may not use it

    # one-way streets (and motorway carriageways) for drivers; walkers go both ways
    one_way = ~np.isfinite(drive.time_bwd_s)
    assert one_way.sum() > 100
    assert np.isfinite(walk.time_fwd_s).all() and np.isfinite(walk.time_bwd_s).all()

    # maxspeed is used: residential default 30, secondary 50, primary 60, bridges 80,
    # motorway 100 km/h
    road = ~drive.is_ferry & (drive.length_m > 1.0)
    t = np.minimum(drive.time_fwd_s, drive.time_bwd_s)[road]
    speeds = set(np.round(drive.length_m[road] / t * 3.6).astype(int).tolist())
    assert {30, 50, 60, 80, 100} <= speeds


def test_ferries_include_the_wait(walk: Network, drive: Network) -> None:
    for net in (walk, drive):
        ferry = net.is_ferry
        assert ferry.sum() == 3
        crossing = net.length_m[ferry] / (FERRY_KMH / 3.6)
        assert (net.time_fwd_s[ferry] > crossing).all()
        assert np.array_equal(net.time_fwd_s[ferry], net.time_bwd_s[ferry])
        assert (net.length_m[ferry] > 2000.0).all()


def test_facilities_near_streets(layers: dict, walk: Network,
                                 regions: gpd.GeoDataFrame) -> None:
    land = shapely.union_all(regions.geometry.values)
    for name, layer in layers.items():
        pts = layer.to_crs(UTM).representative_point()
        snapped = walk.snap(pts.x.to_numpy(), pts.y.to_numpy(), limit_m=150.0, land=land)
        share = snapped.ok.mean()
        print(f"{name}: {share:.1%} within 150 m of a walkable street")
        assert share >= 0.9, name
    # bus stops sit on the streets themselves (GCJ-02 round trip: well under a metre)
    stops = layers["bus_stops"].to_crs(UTM).geometry
    snapped = walk.snap(stops.x.to_numpy(), stops.y.to_numpy(), limit_m=150.0, land=land)
    assert (snapped.access_m < 1.0).all()


def test_some_rural_cells_far_from_streets(walk: Network, raster: dict,
                                           regions: gpd.GeoDataFrame) -> None:
    populated = raster["people"] > 0
    x, y = raster["x"][populated], raster["y"][populated]
    snapped = walk.snap(x, y, limit_m=500.0, land=shapely.union_all(regions.geometry.values))
    far = ~snapped.ok
    group = dict(zip(regions["name"], regions["group"], strict=True))
    far_groups = {group[r] for r in _region_of(regions, x[far], y[far])}
    print(f"populated cells > 500 m from a street: {far.sum()} of {far.size}")
    assert far.sum() >= 10 and far_groups == {"west"}
    assert far.mean() < 0.03
    assert set(snapped.reason[far]) == {"too far"}
