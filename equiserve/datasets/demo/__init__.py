"""Generator of the bundled synthetic demo study area.

:func:`write_demo_inputs` writes a complete, self-consistent set of study inputs into a folder:
regions, a population raster, six facility layers and a street network (OSM PBF), plus the
``study.toml`` that ties them together. Everything is invented. The layout only echoes the
*shape* of Zhuhai's problem, and it sits near Zhuhai's position so that real-world CRS handling
(UTM zone 49N, GCJ-02 offsets) is exercised. None of it is Zhuhai data.

Layout of the synthetic city (local kilometres east / north of the origin,
x = 720 000 m, y = 2 440 000 m in EPSG:32649)::

    y=30 +------------------------+  +--------------+-------------+
         |        |        |      |r | Tech Park    | Old Town    |
         | West   |Airport | River|i |  (E4)        |  (E1, core) |
         | Farms  | Plain  | Town |v +--------------+-------------+
         |  (W1)  |  (W2)  | (W3) |e | Lotus Bay    | East Harbour|
         |        |        |      |r |  (E3)        |  (E2)       |
    y=4  +------------------------+  +--------------+-------------+  y=10
         x=0                  x=40   x=43                      x=68
                                          o Pine   o Egret        o Coral
                                                       o Lantern          (y = -4 .. 3)

* **east** (4 districts, about 25 x 20 km): the dense core. Population peaks of up to about
  600 people per 100 m cell around the Old Town and East Harbour centres, with parks, hills
  and port land left empty. Bus stops line the arterial streets.
* **west** (3 districts, about 40 x 25 km, across a 3 km estuary): suburban and rural. There
  are a few towns, villages scattered over farmland, and far fewer facilities per person.
* **island** (4 islands of 3-10 km² each, 2 km or more of water from the mainland and from
  each other): a few thousand people each, reached only by ferry, with 0-2 facilities per
  layer.

Streets (``streets.osm.pbf``, read with :func:`equiserve.network.network_from_osm`):

* **east**: a dense grid per district (150-200 m blocks), each rotated, warped and jittered in
  its own way and joined to its neighbours at the district seams. Every 8th/9th street is a
  ``secondary`` arterial (``maxspeed=50``), the streets through each district's middle are
  ``primary`` (``maxspeed=60``); the rest are ``residential``, about 12 % of their ways one-way
  (``oneway=yes`` or ``-1``). Some blocks have a ``footway`` through their middle.
* **west**: a grid of 250-300 m blocks in each of five towns, sparse ``unclassified`` rural
  roads about 1 km apart (a fifth of their links missing, so some farmland cells lie more
  than 500 m from any street), ``secondary`` roads between the towns, and a dual-carriageway
  ``motorway`` (walkers may not use it) with ``motorway_link`` ramps at three junctions.
  Three ``primary`` bridges (``bridge=yes``) cross the estuary to the east.
* **islands**: a small grid each. Ferries (``route=ferry``) run from mainland piers to the
  piers of Pine, Egret and Lantern Island: one has a ``duration`` tag, one an ``interval``
  tag, one neither. Coral Island has streets but no ferry, so its network is cut off.

Street nodes lie at least 30 m inside a region; only bridges and ferries cross water. Facility
sites are drawn to within 15-110 m of a street (bus stops onto the street itself).

All coastlines and district boundaries are smooth random curves, so no region is a plain
rectangle, and every polygon is valid. Given the same seed, the same files come out: identical
geometries, identical raster arrays, a byte-identical CSV and the same OSM nodes and ways. All
randomness comes from one ``numpy.random.default_rng(seed)``.

Files written (paths in ``study.toml`` are relative):

=====================  ==========  =====================================================
file                   CRS         contents
=====================  ==========  =====================================================
regions.gpkg           EPSG:4326   layer "regions": name, group, code (polygons)
population.tif         EPSG:32649  100 m, band 1 people, band 2 children aged 6-11
schools.gpkg           EPSG:32649  layer "schools": id, name, level, seats (2 null)
clinics.geojson        EPSG:4326   id, name, beds
bus_stops.csv          GCJ-02      stop_id, name, lon, lat
art_centres.shp        EPSG:4326   id, name (building footprints)
sports_parks.parquet   EPSG:32649  id, name, area_ha (GeoParquet polygons)
streets.osm.pbf        EPSG:4326   OSM nodes and ways: streets, bridges, ferry routes
places.csv, plan.toml  EPSG:4326   a gazetteer and a plan (scenario) using it
newtown.geojson        EPSG:4326   the forecast's development area: a new town in the west
forecast_shares.csv    -           the east's children aged 6-11 as a share, 2025 and 2030
study.toml, README.txt
=====================  ==========  =====================================================

Modules: :mod:`.layout` (name, CRS, origin, groups, the west's towns), :mod:`.shapes` (smooth
random curves and blobs), :mod:`.regions`, :mod:`.population`, :mod:`.streets`,
:mod:`.facilities`, :mod:`.plan` (gazetteer and plan), :mod:`.forecast` (the new town and
the children's shares) and :mod:`.texts` (README.txt and
study.toml). The text files are rendered from the templates in ``templates/``.
The city tiled N times (``equiserve demo --scale N``) is :mod:`.scale`, written from these
files; :func:`.batch.write_demo_batch` (:mod:`.batch`, ``equiserve demo --batch N``) writes N
different demo cities (seeds ``seed`` .. ``seed + N - 1``) side by side, each a study of its
own, and the ``batch.toml`` listing them.
"""

from __future__ import annotations

import os
import pathlib

import numpy as np

from equiserve.datasets.demo.facilities import Facilities, write_bus_stops
from equiserve.datasets.demo.forecast import write_forecast
from equiserve.datasets.demo.layout import DEMO_CRS, DEMO_NAME
from equiserve.datasets.demo.plan import write_plan
from equiserve.datasets.demo.population import assign_pixels, grid_for, population, write_raster
from equiserve.datasets.demo.regions import build_regions, write_regions
from equiserve.datasets.demo.streets import build_streets, write_osm
from equiserve.datasets.demo.texts import readme, study_toml

__all__ = ["DEMO_CRS", "DEMO_NAME", "write_demo_inputs"]


def write_demo_inputs(folder: str | os.PathLike[str], seed: int = 2017) -> pathlib.Path:
    """Write the demo inputs into `folder` (created if missing) and return its study.toml path.

    Parameters
    ----------
    folder : str or os.PathLike
        Destination folder. It is created if missing. Existing demo files in it are
        overwritten. A fresh, empty folder is expected.
    seed : int, default 2017
        Seed of the single ``numpy.random.default_rng`` that drives every random choice.
        The same seed always gives the same geometries, raster arrays, CSV bytes and OSM
        nodes and ways.

    Returns
    -------
    pathlib.Path
        Path of the ``study.toml`` written into `folder`.

    Notes
    -----
    The data are synthetic: see the module docstring for the layout of the invented city.
    The folder also gets a ``README.txt`` saying so.
    """
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    # The order of these steps is the order of the random draws: changing it changes the files.
    regions, regions_wgs84 = build_regions(rng)
    grid = grid_for(regions)
    x, y = grid.centres()
    region_id = assign_pixels(x, y, regions)
    pop, children = population(rng, x, y, region_id, regions)
    streets = build_streets(rng, regions)

    facilities = Facilities(rng, x, y, region_id, pop, regions, streets)
    schools = facilities.schools()
    clinics = facilities.clinics()
    stops = facilities.bus_stops()
    arts = facilities.art_centres()
    parks = facilities.sports_parks()

    write_regions(out / "regions.gpkg", regions, regions_wgs84)
    write_raster(out / "population.tif", grid, pop, children, seed)
    schools.to_file(out / "schools.gpkg", layer="schools", driver="GPKG")
    clinics.to_crs("EPSG:4326").to_file(out / "clinics.geojson", driver="GeoJSON")
    write_bus_stops(out / "bus_stops.csv", stops)
    arts.to_crs("EPSG:4326").to_file(out / "art_centres.shp", driver="ESRI Shapefile")
    parks.to_parquet(out / "sports_parks.parquet")
    write_osm(out / "streets.osm.pbf", streets)
    (out / "README.txt").write_text(readme(seed), encoding="utf-8")
    write_plan(out, regions)
    write_forecast(out)
    study = out / "study.toml"
    study.write_text(study_toml(seed), encoding="utf-8")
    return study
