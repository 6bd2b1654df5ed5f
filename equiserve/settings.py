"""Project-wide defaults, each in one place with what it means and its unit.

A study's ``study.toml`` overrides the ones it has a key for (named with each); the
environment overrides where a user would expect it:

``EQUISERVE_CACHE_DIR``
    Folder of cached street networks (default ``$XDG_CACHE_HOME/equiserve``, else
    ``~/.cache/equiserve``). Read at each use, so a test or a batch job may set it late.

Everything here is a plain constant or a function of the environment; nothing imports
anything of equiserve, so every layer may read it.
"""

from __future__ import annotations

import os
from pathlib import Path

# -- network ---------------------------------------------------------------------------

#: Walking speed (km/h), also of the walk between a cell or facility and its street
#: (``[network] walk_speed_kmh``).
WALK_SPEED_KMH = 4.5
#: Driving speed (km/h) by OSM ``highway`` class where a way has no ``maxspeed``.
DRIVE_SPEED_KMH: dict[str, float] = {
    "motorway": 100, "motorway_link": 60, "trunk": 80, "trunk_link": 50, "primary": 60,
    "primary_link": 40, "secondary": 50, "secondary_link": 40, "tertiary": 40,
    "tertiary_link": 30, "unclassified": 30, "residential": 30, "living_street": 10,
    "road": 30, "service": 15, "busway": 40,
}
#: Driving speed (km/h) of other drivable ways without ``maxspeed``.
DEFAULT_DRIVE_KMH = 30.0
#: Ferry crossing speed (km/h) where a ferry way has no ``duration`` (``ferry_speed_kmh``).
FERRY_SPEED_KMH = 20.0
#: Ferry headway (min); the wait is half of it without an ``interval`` tag
#: (``ferry_headway_min``).
FERRY_HEADWAY_MIN = 60.0
#: Farthest a cell or facility is attached to a street (m); farther is reported as
#: unreachable (``snap_limit_m``).
SNAP_LIMIT_M = 500.0
#: Ways no cell or facility is attached to (they stay in the graph for routing through
#: them): OSM tag -> {value: the reason reported in data_quality.csv}. Override per study
#: with ``[network] attach_exclude = { tunnel = ["yes"], indoor = [] }`` (values replace the
#: tag's; an empty list drops its rule).
ATTACH_EXCLUDE: dict[str, dict[str, str]] = {
    "tunnel": {"yes": "tunnel", "building_passage": "tunnel", "culvert": "tunnel",
               "flooded": "tunnel"},
    "indoor": {"yes": "indoor", "corridor": "indoor", "room": "indoor", "area": "indoor",
               "level": "indoor"},
    "highway": {"corridor": "indoor", "elevator": "indoor", "platform": "platform"},
    "railway": {"platform": "platform"},
    "public_transport": {"platform": "platform"},
    "access": {"private": "private", "no": "private"},  # not when foot allows
}
#: ``access`` exclusions do not apply to ways whose ``foot`` is one of these.
FOOT_ALLOWS = ("yes", "designated", "permissive", "official")
#: Ways with ``layer < 0`` are underground and not attached to (``attach_underground``)...
ATTACH_UNDERGROUND = True
#: ... unless a tag says they are open to the sky (a road in a cutting, a sunken plaza).
OPEN_TO_SKY: dict[str, tuple[str, ...]] = {
    "tunnel": ("no",), "location": ("surface", "outdoor", "overground"),
    "covered": ("no",), "cutting": ("yes",),
}
#: Tags of the ways kept with a built network for the attachment rules.
ATTACH_TAGS = ("tunnel", "layer", "indoor", "location", "covered", "cutting", "level",
               "highway", "railway", "public_transport", "access", "foot", "bridge",
               "area", "building", "service")
#: Width (m) of the band drawn along reached streets as a service area
#: (``service_area_width_m``).
SERVICE_AREA_WIDTH_M = 50.0

# -- population -------------------------------------------------------------------------

#: Side (m) of the cells census totals are spread over (``[population] cell_size_m``).
CENSUS_CELL_M = 100.0
#: Gaussian spread (m) of census weights around settlement points (``weights.sigma_m``).
SETTLEMENT_SIGMA_M = 2500.0
#: Weight per unit of land far from every settlement point (``weights.floor``).
SETTLEMENT_FLOOR = 0.02
#: Cells denser than this (people per km²; the densest city districts, in Hong Kong or
#: Dhaka, approach it) are reported as implausible...
MAX_DENSITY_KM2 = 150_000.0
#: ... and denser than this (10 people per m², beyond anywhere ever measured) refused.
IMPOSSIBLE_DENSITY_KM2 = 10_000_000.0
#: A population source should have data over at least this share of each region; less is
#: reported with the regions and their shares (regions include lakes and rivers, which
#: rasters such as WorldPop leave as nodata, hence not 100 %).
MIN_POPULATION_COVER = 0.8
#: Points sampled per region to measure that share.
SAMPLE_POINTS_PER_REGION = 2000

# -- facilities and scenarios -----------------------------------------------------------

#: Distance (m) within which an OSM entrance node counts as on a polygon's outline.
ENTRANCE_TOLERANCE_M = 5.0
#: A planned facility within this distance (m) of an existing one of its name (after an
#: area's name) is that facility, already in the baseline.
SAME_SITE_M = 500.0

# -- siting -----------------------------------------------------------------------------

#: Spacing (m) of generated candidates for minute standards and lattices (``--spacing``).
CANDIDATE_SPACING_M = 500.0
#: Solver time limit (s) of a location model (``--time-limit``).
SOLVER_TIME_LIMIT_S = 60.0

# -- reports and maps -------------------------------------------------------------------

#: Size (m) of the map's gap and access blocks (``[map] gap_block_m``).
MAP_BLOCK_M = 1000.0
#: Coverage below this share (%) is shown in red in the report.
LOW_COVERAGE_PCT = 50.0
#: Point overlays with more features than this are drawn with smaller canvas symbols.
MAX_ICON_MARKERS = 1500
#: Facility layers with more facilities than this start hidden on the map.
MAX_SHOWN_MARKERS = 1000
#: Candidate sites start hidden on the map when there are more than this.
MAX_SHOWN_CANDIDATES = 3000
#: With more overlays than this the map's layer control starts collapsed.
MAX_OPEN_CONTROL = 12
#: Free space (MB) a run needs on the output folder's disk, checked before computing;
#: with less it would fail while writing (the demo's outputs take about 70 MB, a city's
#: GeoPackages a few hundred).
MIN_FREE_SPACE_MB = 200


def cache_dir() -> Path:
    """Folder of cached networks: ``$EQUISERVE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/equiserve``, else ``~/.cache/equiserve``."""
    env = os.environ.get("EQUISERVE_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "equiserve"
