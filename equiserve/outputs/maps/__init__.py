"""Interactive maps (folium), saved self-contained (Leaflet inlined, no CDN)."""

from __future__ import annotations

from pathlib import Path

from equiserve.outputs.maps.basemap import PRESETS, BaseMap, resolve_basemap
from equiserve.outputs.maps.coverage_map import (
    access_blocks,
    basemap_from_config,
    coverage_map,
    gap_blocks,
)
from equiserve.outputs.maps.offline import inline_assets


def save_map(fmap, path: str | Path) -> None:
    """Write a folium map as one self-contained HTML file (see :mod:`.offline`)."""
    html = fmap.get_root().render()
    Path(path).write_text(inline_assets(html), encoding="utf-8")


__all__ = ["PRESETS", "BaseMap", "access_blocks", "basemap_from_config", "coverage_map",
           "gap_blocks", "inline_assets", "resolve_basemap", "save_map"]
