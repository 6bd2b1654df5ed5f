"""The demo city tiled N times: :func:`write_scaled_demo_inputs` (``equiserve demo --scale N``).

The 1x demo is written into a temporary folder by :func:`~equiserve.datasets.demo.write_demo_inputs`
and its files are then tiled: N identical copies of the city side by side, laid out in
EPSG:32649 metres on a grid of ``ceil(sqrt(N))`` columns, running west and then north of the
original city (west keeps the tiles near the UTM zone's central meridian). Neighbouring tiles
are offset by the city's extent plus :data:`GAP` metres of sea, rounded up to whole kilometres
(whole raster cells), so no street, ferry or straight-line standard reaches another tile.

* Tile 1 is the original city, unchanged: plain names and ids, the same coordinates.
  Tile k >= 2 suffixes every name with ``" k"`` ("Old Town" -> "Old Town 2", also the OSM
  ``name`` tags) and every id with ``"-tk"`` (facility "S012" -> "S012-t2", region code
  "E1" -> "E1-t2"). Groups (east / west / island) keep their names, so group figures add up
  over all tiles. Region names stay unique.
* OSM node and way ids of tile k are offset by ``(k - 1)`` times a power of ten above the
  largest id of the 1x file.
* ``population.tif`` is enlarged to cover all tiles (nodata between them); each tile's
  pixels are the 1x pixels, copied exactly.
* Layers in EPSG:32649 are translated; layers in EPSG:4326 are projected to EPSG:32649,
  translated and projected back; the GCJ-02 bus stops are converted to WGS 84, shifted the
  same way and converted back to GCJ-02 with :mod:`equiserve.crs`.
* ``plan.toml`` is the 1x plan, for tile 1 only (its names and ids are tile 1's);
  ``places.csv`` (its gazetteer) gets every tile's towns and islands.
* ``study.toml`` sets ``crs = "EPSG:32649"``, the CRS the tiles were laid out in, so the
  tiles are exact copies in the working CRS whatever the UTM zone of the tiled area.

One tile alone (:meth:`Tiling.alone`: a tile at tile k's offset with tile 1's names and ids)
is how :func:`~equiserve.datasets.demo.batch.write_demo_batch` moves each city of a batch;
:func:`write_tiles` writes the layers of any tiling.

``scale=1`` writes exactly the files of :func:`~equiserve.datasets.demo.write_demo_inputs`.
"""

from __future__ import annotations

import math
import os
import pathlib
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt

from equiserve.datasets.demo import write_demo_inputs
from equiserve.datasets.demo.layout import CELL, DEMO_CRS, DEMO_NAME

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["GAP", "Tiling", "laid_out_study", "tile_frame", "write_scaled_demo_inputs",
           "write_tiles"]

GAP: Final = 25_000.0
"""Least distance (m) of sea between the regions of neighbouring tiles: more than any street
or ferry reaches (none leaves its tile) and more than the farthest populated cell is from its
nearest sports park (about 21 km), so straight-line distances stay within a tile too."""

_WGS84: Final = "EPSG:4326"
_NAME_FIELDS: Final = ("name",)
_ID_FIELDS: Final = ("id", "stop_id", "code")


@dataclass(frozen=True)
class Tiling:
    """Where the tiles go: tile i (0-based) is shifted by ``offsets[i]`` metres."""

    offsets: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, bounds: Sequence[float], scale: int) -> Tiling:
        """`scale` tiles of a city with EPSG:32649 `bounds`, ``ceil(sqrt(scale))`` per row."""
        cols = math.ceil(math.sqrt(scale))
        step_x = math.ceil((bounds[2] - bounds[0] + GAP) / 1000.0) * 1000.0
        step_y = math.ceil((bounds[3] - bounds[1] + GAP) / 1000.0) * 1000.0
        return cls(tuple((-(i % cols) * step_x, (i // cols) * step_y) for i in range(scale)))

    def tiles(self) -> list[tuple[int, float, float]]:
        """(tile number from 1, dx, dy) of every tile."""
        return [(k + 1, dx, dy) for k, (dx, dy) in enumerate(self.offsets)]

    def alone(self, k: int) -> Tiling:
        """Tile `k` (from 1) alone, at its offset: a city of its own, so the tile functions
        give it tile 1's names and ids (:func:`~equiserve.datasets.demo.batch.write_demo_batch`).

        >>> Tiling(((0.0, 0.0), (-91000.0, 0.0))).alone(2).tiles()
        [(1, -91000.0, 0.0)]
        """
        return Tiling((self.offsets[k - 1],))


def write_scaled_demo_inputs(
    folder: str | os.PathLike[str], scale: int, seed: int = 2017
) -> pathlib.Path:
    """Write the demo inputs tiled `scale` times into `folder` and return its study.toml path.

    Parameters
    ----------
    folder : str or os.PathLike
        Destination folder, created if missing (a fresh, empty folder is expected).
    scale : int
        Number of copies of the demo city (>= 1). 1 writes the plain demo.
    seed : int, default 2017
        Seed of the 1x demo (see :func:`~equiserve.datasets.demo.write_demo_inputs`).

    Returns
    -------
    pathlib.Path
        Path of the ``study.toml`` written into `folder`.
    """
    if scale < 1:
        raise ValueError(f"scale must be a whole number >= 1, got {scale!r}")
    if scale == 1:
        return write_demo_inputs(folder, seed=seed)
    import geopandas as gpd

    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="equiserve-demo-") as tmp:
        src = pathlib.Path(tmp)
        write_demo_inputs(src, seed=seed)
        regions = gpd.read_file(src / "regions.gpkg", layer="regions")
        write_tiles(src, out, Tiling.of(regions.to_crs(DEMO_CRS).total_bounds, scale))
        for name in ("plan.toml", "newtown.geojson", "forecast_shares.csv"):  # tile 1's
            shutil.copyfile(src / name, out / name)
        readme = (src / "README.txt").read_text(encoding="utf-8")
        (out / "README.txt").write_text(readme + _readme_scale(scale), encoding="utf-8")
        study = (src / "study.toml").read_text(encoding="utf-8")
    path = out / "study.toml"
    path.write_text(_study_scale(study, scale), encoding="utf-8")
    return path


def write_tiles(src: pathlib.Path, out: pathlib.Path, tiling: Tiling) -> None:
    """The demo's layers in folder `src` (1x), tiled by `tiling`, into folder `out`: regions,
    population, the facility layers, the street network and the gazetteer (``places.csv``);
    not the text files, the plan or the forecast's inputs."""
    import geopandas as gpd

    regions = gpd.read_file(src / "regions.gpkg", layer="regions")
    tile_frame(regions, tiling).to_file(out / "regions.gpkg", layer="regions", driver="GPKG")
    _tile_raster(src / "population.tif", out / "population.tif", tiling)
    schools = gpd.read_file(src / "schools.gpkg", layer="schools")
    tile_frame(schools, tiling).to_file(out / "schools.gpkg", layer="schools", driver="GPKG")
    clinics = gpd.read_file(src / "clinics.geojson")
    tile_frame(clinics, tiling).to_file(out / "clinics.geojson", driver="GeoJSON")
    arts = gpd.read_file(src / "art_centres.shp")
    tile_frame(arts, tiling).to_file(out / "art_centres.shp", driver="ESRI Shapefile")
    parks = gpd.read_parquet(src / "sports_parks.parquet")
    tile_frame(parks, tiling).to_parquet(out / "sports_parks.parquet")
    # 9 decimals (0.1 mm): with 6, the rounding moves a copied stop by up to 0.1 m
    _tile_points_csv(src / "bus_stops.csv", out / "bus_stops.csv", tiling, "GCJ-02", 9)
    _tile_points_csv(src / "places.csv", out / "places.csv", tiling, "WGS84", 6)
    _tile_osm(src / "streets.osm.pbf", out / "streets.osm.pbf", tiling)


# ---------------------------------------------------------------------------------------
# names, ids and coordinates


def _suffixed(values: pd.Series, suffix: str) -> pd.Series:
    """`values` with `suffix` after every text (missing values stay missing)."""
    return values.map(lambda v: v if not isinstance(v, str) else v + suffix)


def _label(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """`frame` with the names and ids of tile `k` (tile 1: unchanged)."""
    if k == 1:
        return frame
    frame = frame.copy()
    for col in frame.columns:
        if col in _NAME_FIELDS:
            frame[col] = _suffixed(frame[col], f" {k}")
        elif col in _ID_FIELDS:
            frame[col] = _suffixed(frame[col], f"-t{k}")
    return frame


def _shift_lonlat(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], dx: float, dy: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """WGS 84 lon/lat shifted by (dx, dy) EPSG:32649 metres."""
    from pyproj import Transformer

    to_utm = Transformer.from_crs(_WGS84, DEMO_CRS, always_xy=True)
    x, y = to_utm.transform(lon, lat)
    back_lon, back_lat = to_utm.transform(np.asarray(x) + dx, np.asarray(y) + dy,
                                          direction="INVERSE")
    return np.asarray(back_lon), np.asarray(back_lat)


def tile_frame(frame: gpd.GeoDataFrame, tiling: Tiling) -> gpd.GeoDataFrame:
    """Every tile of a layer, translated in EPSG:32649 and back in the layer's own CRS (a tile
    at offset (0, 0) is `frame` itself)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    crs = frame.crs
    metric = frame.to_crs(DEMO_CRS)
    parts = []
    for k, dx, dy in tiling.tiles():
        tile = _label(frame, k)
        if dx or dy:
            moved = shapely.transform(metric.geometry.values, lambda c, d=(dx, dy): c + d)
            geometry = gpd.GeoSeries(moved, crs=DEMO_CRS, index=frame.index).to_crs(crs)
            tile = tile.set_geometry(geometry.values)
        parts.append(tile)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry=frame.geometry.name,
                            crs=crs)


def _tile_points_csv(src: pathlib.Path, dst: pathlib.Path, tiling: Tiling,
                     datum: Literal["GCJ-02", "WGS84"], decimals: int) -> None:
    """Every tile of a CSV of points (``lon``/``lat``) in WGS 84 or GCJ-02.

    The header and the rows of a tile at offset (0, 0) are kept byte for byte; the other
    tiles' rows follow in tile order, their lon/lat with `decimals` decimals."""
    import pandas as pd

    from equiserve.crs import gcj02_from_wgs84, wgs84_from_gcj02

    header, rows = src.read_text(encoding="utf-8").split("\n", 1)
    table = pd.read_csv(src, dtype=str, keep_default_na=False)
    lon = table["lon"].astype(float).to_numpy()
    lat = table["lat"].astype(float).to_numpy()
    if datum == "GCJ-02":
        lon, lat = wgs84_from_gcj02(lon, lat)
    parts = [header + "\n"]
    for k, dx, dy in tiling.tiles():
        if not (dx or dy):
            parts.append(rows)
            continue
        tile_lon, tile_lat = _shift_lonlat(lon, lat, dx, dy)
        if datum == "GCJ-02":
            tile_lon, tile_lat = gcj02_from_wgs84(tile_lon, tile_lat)
        tile = _label(table, k)
        tile["lon"] = [f"{v:.{decimals}f}" for v in tile_lon]
        tile["lat"] = [f"{v:.{decimals}f}" for v in tile_lat]
        parts.append(tile.to_csv(index=False, header=False, lineterminator="\n"))
    dst.write_bytes("".join(parts).encode("utf-8"))


def _tile_raster(src: pathlib.Path, dst: pathlib.Path, tiling: Tiling) -> None:
    """The raster enlarged to cover every tile, nodata between them, each tile copied exactly."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(src) as ds:
        profile = ds.profile
        data = ds.read()
        tags = ds.tags()
        descriptions = ds.descriptions
        t = ds.transform
    offsets = np.array(tiling.offsets)
    cols = np.rint((offsets[:, 0] - offsets[:, 0].min()) / CELL).astype(int)
    rows = np.rint((offsets[:, 1].max() - offsets[:, 1]) / CELL).astype(int)
    height, width = data.shape[1:]
    profile.update(
        width=width + int(cols.max()),
        height=height + int(rows.max()),
        transform=rasterio.Affine(t.a, t.b, t.c + offsets[:, 0].min(),
                                  t.d, t.e, t.f + offsets[:, 1].max()),
    )
    with rasterio.open(dst, "w", **profile) as out:
        blank = np.full((profile["height"], profile["width"]), profile["nodata"],
                        dtype=data.dtype)
        for band in range(1, data.shape[0] + 1):
            out.write(blank, band)
        for col, row in zip(cols.tolist(), rows.tolist(), strict=True):
            out.write(data, window=Window(col, row, width, height))
        for band, text in enumerate(descriptions, start=1):
            if text is not None:
                out.set_band_description(band, text)
        out.update_tags(**tags)


def _tile_osm(src: pathlib.Path, dst: pathlib.Path, tiling: Tiling) -> None:
    """Every tile of the street network: node and way ids offset per tile, nodes shifted."""
    import osmium
    from osmium.osm.mutable import Node, Way

    node_ids, lon, lat, node_tags, ways = [], [], [], [], []
    for obj in osmium.FileProcessor(str(src)):
        if isinstance(obj, osmium.osm.Node):
            node_ids.append(obj.id)
            lon.append(obj.location.lon)
            lat.append(obj.location.lat)
            node_tags.append(dict(obj.tags))
        elif isinstance(obj, osmium.osm.Way):
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
    node_step = _id_step(node_ids)
    way_step = _id_step([w[0] for w in ways])
    lon_a, lat_a = np.array(lon), np.array(lat)

    def tagged(tags: dict[str, str], k: int) -> dict[str, str]:
        return tags if k == 1 or "name" not in tags else {**tags, "name": f"{tags['name']} {k}"}

    dst.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(dst))
    try:
        for k, dx, dy in tiling.tiles():
            xs, ys = _shift_lonlat(lon_a, lat_a, dx, dy) if dx or dy else (lon_a, lat_a)
            off = (k - 1) * node_step
            for nid, x, y, tags in zip(node_ids, xs.tolist(), ys.tolist(), node_tags,
                                       strict=True):
                writer.add_node(Node(id=nid + off, location=(x, y), tags=tagged(tags, k),
                                     version=1))
        for k, *_ in tiling.tiles():
            off = (k - 1) * node_step
            for wid, refs, tags in ways:
                writer.add_way(Way(id=wid + (k - 1) * way_step, nodes=[r + off for r in refs],
                                   tags=tagged(tags, k), version=1))
    finally:
        writer.close()


def _id_step(ids: Sequence[int]) -> int:
    """The power of ten above every id: the id offset from one tile to the next."""
    return int(10 ** len(str(max(ids, default=0))))


# ---------------------------------------------------------------------------------------
# the text files


def _readme_scale(scale: int) -> str:
    return (
        f"\nScale\n-----\n"
        f"This folder holds the demo city tiled {scale} times (equiserve demo --scale {scale};\n"
        f"equiserve.datasets.demo.scale.write_scaled_demo_inputs): {scale} identical copies\n"
        f"side by side, west and then north of the first, at least {GAP / 1000:.0f} km of sea\n"
        f"apart, so nothing connects them. Tile 1 keeps the plain names and ids; tile k\n"
        f"suffixes every name with \" k\" (\"Old Town 2\") and every id with \"-tk\"\n"
        f"(\"S001-t2\"). The groups east / west / island are shared by all tiles.\n"
        f"plan.toml is the plan for tile 1 only; places.csv names the places of every tile.\n"
        f"The forecast's new town (newtown.geojson) is tile 1's only.\n"
        f"study.toml sets crs = \"{DEMO_CRS}\", the CRS the tiles are laid out in.\n"
    )


_CRS_LINE: Final = "# crs omitted: the UTM zone is chosen automatically"


def _study_scale(text: str, scale: int) -> str:
    """The 1x ``study.toml`` with the tiles' study name and their CRS."""
    return laid_out_study(text, f"{DEMO_NAME}, {scale} tiles", "the tiles are")


def laid_out_study(text: str, name: str, what: str) -> str:
    r"""The 1x ``study.toml`` `text` with study `name` and ``crs = "EPSG:32649"``, the CRS
    `what` ("the tiles are") laid out in.

    >>> text = f'[study]\nname = "{DEMO_NAME}"\n{_CRS_LINE}\n'
    >>> print(laid_out_study(text, "Demo city 2 (synthetic)", "the cities are"), end="")
    [study]
    name = "Demo city 2 (synthetic)"
    crs = "EPSG:32649"  # the CRS the cities are laid out in
    """
    for old, new in ((f'name = "{DEMO_NAME}"', f'name = "{name}"'),
                     (_CRS_LINE, f'crs = "{DEMO_CRS}"  # the CRS {what} laid out in')):
        if old not in text:
            raise AssertionError(f"the demo study.toml has no line {old!r}")
        text = text.replace(old, new, 1)
    return text
