"""The demo's forecast inputs: a new town in the west (``newtown.geojson``) and the shrinking
share of children in the east (``forecast_shares.csv``), read by ``[forecast]`` in
``study.toml`` (``equiserve forecast``). No random draws: the other files do not change."""

from __future__ import annotations

import pathlib

from equiserve.datasets.demo.layout import DEMO_CRS, NEW_TOWN, ORIGIN_X, ORIGIN_Y

__all__ = ["CHILD_SHARES", "write_forecast"]

#: Children aged 6-11 as a share of the east's people (about 6.3 % today): birth cohorts
#: shrink.
CHILD_SHARES = ((2025, 0.055), (2030, 0.048))


def write_forecast(out: pathlib.Path) -> None:
    """Write ``newtown.geojson`` (WGS 84) and ``forecast_shares.csv`` into ``out``."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    x, y, half_w, half_h, name = NEW_TOWN
    cx, cy = ORIGIN_X + x * 1000.0, ORIGIN_Y + y * 1000.0
    shape = shapely.box(cx - half_w * 1000 + 300, cy - half_h * 1000 + 300,
                        cx + half_w * 1000 - 300, cy + half_h * 1000 - 300).buffer(300)
    gpd.GeoDataFrame({"name": [name]}, geometry=[shape], crs=DEMO_CRS).to_crs(4326).to_file(
        out / "newtown.geojson", driver="GeoJSON")
    pd.DataFrame({"region": "east", "year": [y for y, _ in CHILD_SHARES],
                  "subgroup": "children_6_11", "share": [s for _, s in CHILD_SHARES]}).to_csv(
        out / "forecast_shares.csv", index=False)
