"""Interactive maps (folium) of any results' overlays, saved self-contained (Leaflet
inlined, no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import folium

from equiserve.outputs.maps.basemap import PRESETS, BaseMap, resolve_basemap
from equiserve.outputs.maps.builder import basemap_from_config, build_map
from equiserve.outputs.maps.offline import inline_assets

if TYPE_CHECKING:
    from equiserve.results.base import Result, Subject


def study_map(study: Subject, *results: Result,
              basemap: BaseMap | None | Literal["config"] = "config",
              title: str | None = None) -> folium.Map:
    """The map of ``results`` on ``study``: every overlay they give, the study's regions'
    extent, base map ``basemap`` ("config": the study's ``[map]`` table; None: no tiles).
    """
    base = basemap_from_config(study.config.map) if basemap == "config" else basemap
    overlays = [o for r in results for o in r.overlays()]
    name = study.config.name + (" — SYNTHETIC DATA" if study.config.synthetic else "")
    return build_map(list(study.layers), study.regions.group_names, study.regions.gdf,
                     overlays, title or name, base)


def save_map(fmap: folium.Map, path: str | Path) -> None:
    """Write a folium map as one self-contained HTML file (see :mod:`.offline`)."""
    html = fmap.get_root().render()
    Path(path).write_text(inline_assets(html), encoding="utf-8")


__all__ = ["PRESETS", "BaseMap", "basemap_from_config", "build_map", "inline_assets",
           "resolve_basemap", "save_map", "study_map"]
