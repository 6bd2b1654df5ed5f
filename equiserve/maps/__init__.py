"""Interactive maps (folium)."""

from equiserve.maps.coverage_map import coverage_map, gap_blocks

__all__ = ["coverage_map", "gap_blocks"]
