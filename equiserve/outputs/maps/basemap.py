"""Base maps (tile layers) and the coordinate shift their datum needs for display.

Chinese web maps such as Amap (高德) draw their tiles in GCJ-02, so WGS84 data laid on
them sits 300-600 m off. When the chosen base map is in GCJ-02, every geometry shown on
the map is shifted from WGS84 to GCJ-02 for display only; files written beside the map
(coverage.gpkg, CSV) keep the study's true coordinates.

Presets: ``osm`` (OpenStreetMap, the default), ``none`` (no tiles: works offline),
``amap`` (Amap road map, GCJ-02) and ``tianditu`` (天地图 vector map, CGCS2000 which
equals WGS84 to well under a metre; needs a key). Any other value is a tile URL template
with ``{x}``, ``{y}``, ``{z}`` (and optionally ``{s}`` subdomains and ``{key}``).

>>> resolve_basemap("amap").crs
'GCJ-02'
>>> resolve_basemap("none") is None
True
>>> resolve_basemap("https://tiles.example.org/{z}/{x}/{y}.png").attribution
'Base map: tiles.example.org'
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, replace
from urllib.parse import urlparse

import geopandas as gpd

from equiserve.crs import from_wgs84_geometries
from equiserve.errors import ConfigError

#: Datums a base map's tiles may be drawn in.
TILE_CRS = ("WGS84", "GCJ-02")


@dataclass(frozen=True)
class BaseMap:
    """A tile layer: URL template, attribution, the datum its tiles are drawn in."""

    name: str
    url: str
    attribution: str
    crs: str = "WGS84"
    subdomains: str = "abc"
    max_zoom: int = 19

    @property
    def shifts_data(self) -> bool:
        """Whether data must be shifted to GCJ-02 to line up with the tiles."""
        return self.crs == "GCJ-02"


PRESETS: dict[str, BaseMap | None] = {
    "osm": BaseMap("OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                   '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                   "contributors", subdomains=""),
    "none": None,
    "amap": BaseMap("Amap 高德地图 (GCJ-02)",
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
                    "&style=8&x={x}&y={y}&z={z}", "&copy; 高德地图 AutoNavi", crs="GCJ-02",
                    subdomains="1234", max_zoom=18),
    "tianditu": BaseMap("Tianditu 天地图", "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS"
                        "&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w"
                        "&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
                        "&copy; 天地图 Tianditu", subdomains="01234567", max_zoom=18),
}


def resolve_basemap(tiles: str | None, tiles_crs: str | None = None,
                    attribution: str | None = None, key: str | None = None,
                    key_env: str | None = None, where: str = "[map] tiles",
                    require_key: bool = True) -> BaseMap | None:
    """The base map for a preset name or URL template (None: no tiles).

    Parameters
    ----------
    tiles : str or None
        A preset (``osm``, ``none``, ``amap``, ``tianditu``) or a URL template.
    tiles_crs : {"WGS84", "GCJ-02"}, optional
        Datum of the tiles; required knowledge for custom URLs of Chinese providers
        (default WGS84 for URLs, the preset's own datum otherwise).
    attribution : str, optional
        Credit line shown on the map, as HTML (links allowed; it is the study author's own
        text). Default: the preset's, or the URL's host.
    key, key_env : str, optional
        API key substituted for ``{key}`` in the URL, given directly or as the name of an
        environment variable holding it. This keeps keys out of study files, but the key
        is in every map.html written with it (browsers must send it to the tile server).
    where : str
        How the setting is named in error messages.
    require_key : bool
        False checks everything but the key (for maps drawn without tiles).
    """
    if tiles is None:
        return None
    value = tiles.strip()
    if value.lower() in PRESETS:
        base = PRESETS[value.lower()]
        if base is None:
            return None
    elif value.startswith(("http://", "https://")) and all(
            p in value for p in ("{x}", "{y}", "{z}")):
        host = urlparse(value.replace("{s}", "a")).hostname or "custom tiles"
        base = BaseMap("Custom base map", value, f"Base map: {html.escape(host)}",
                       subdomains="abc" if "{s}" in value else "")
    else:
        raise ConfigError(f"{where} = {tiles!r} is not valid; expected one of "
                          f"{', '.join(PRESETS)} or a tile URL template with {{x}}, {{y}} and "
                          "{z}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    if tiles_crs is not None:
        crs = tiles_crs.strip().upper().replace("GCJ02", "GCJ-02")
        if crs not in TILE_CRS:
            raise ConfigError(f"{where.split()[0]} tiles_crs = {tiles_crs!r} is not valid; "
                              f"expected one of {', '.join(TILE_CRS)}")
        base = replace(base, crs=crs)
    if attribution:
        base = replace(base, attribution=attribution)
    if "{key}" in base.url and require_key:
        if key is None and key_env:
            key = os.environ.get(key_env)
            if not key:
                raise ConfigError(f"{where}: the environment variable {key_env} (key_env) "
                                  f"holding the {base.name} key is not set")
        if not key:
            raise ConfigError(f"{where}: the {base.name} base map needs an API key; give "
                              "key = \"...\" or key_env = \"NAME_OF_VARIABLE\" in [map], or "
                              "choose tiles = \"osm\" or \"none\"")
        base = replace(base, url=base.url.replace("{key}", key))
    return base


def to_display(gdf: gpd.GeoDataFrame, base: BaseMap | None) -> gpd.GeoDataFrame:
    """``gdf`` in WGS84 longitude/latitude, shifted to GCJ-02 when ``base`` draws in GCJ-02."""
    out = gdf.to_crs(4326)
    if base is not None and base.shifts_data and len(out):
        out = out.set_geometry(from_wgs84_geometries(out.geometry.values, "GCJ-02"),
                               crs=4326)
    return out
