"""Build a walk or drive :class:`Network` from OpenStreetMap (XML, XML.bz2 or PBF).

Ways are read with pyosmium (libosmium) and filtered per mode, following the filters
OSMnx uses for its ``walk`` and ``drive`` network types:

* walk: any ``highway`` except motorways, construction, proposed/abandoned, platforms,
  raceways, bus guideways and cycleways not open to pedestrians; not ``foot=no``, not
  ``access=private|no`` (unless ``foot`` allows), not ``area=yes``; every edge two-way.
* drive: roads for motor vehicles (no footway, path, steps, track, pedestrian, cycleway,
  service alleys/driveways/parking aisles), not ``motor_vehicle|motorcar=no`` or private;
  ``oneway`` (and roundabouts, motorways) respected; speed from ``maxspeed`` where it
  parses, else a default per highway class.

Every ``route=ferry`` way becomes ONE edge from its first to its last node: its length is
the line's length and its time the boarding wait plus the crossing (``duration`` tag, else
length / ferry speed). The wait is ``ferry_wait_min`` if given, else half the ``interval``
tag (the headway), else half of ``ferry_headway_min``.

All connected components are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyproj

from equiserve.config.types import NETWORK_MODES
from equiserve.errors import DataError
from equiserve.network.graph import Network
from equiserve.settings import (
    ATTACH_TAGS,
    DEFAULT_DRIVE_KMH,
    DRIVE_SPEED_KMH,
    FERRY_HEADWAY_MIN,
    FERRY_SPEED_KMH,
    WALK_SPEED_KMH,
    cache_dir,
)

#: Bump when the build changes, so that cached networks are rebuilt.
BUILD_VERSION = 4


_WALK_EXCLUDE = {"abandoned", "bus_guideway", "construction", "motorway", "motorway_link",
                 "no", "planned", "platform", "proposed", "raceway", "razed", "escape",
                 "emergency_bay", "rest_area", "services"}
_DRIVE_EXCLUDE = {"abandoned", "bridleway", "bus_guideway", "construction", "corridor",
                  "cycleway", "elevator", "escalator", "footway", "no", "path", "pedestrian",
                  "planned", "platform", "proposed", "raceway", "razed", "steps", "track",
                  "escape", "emergency_bay", "rest_area", "services", "via_ferrata"}
_DRIVE_SERVICE_EXCLUDE = {"alley", "driveway", "emergency_access", "parking",
                          "parking_aisle", "private", "drive-through"}
_FOOT_YES = {"yes", "designated", "permissive", "official"}


@dataclass(frozen=True)
class BuildOptions:
    """Options of a network build (part of the cache key)."""

    mode: str = "walk"
    walk_speed_kmh: float = WALK_SPEED_KMH
    ferry_speed_kmh: float = FERRY_SPEED_KMH
    ferry_headway_min: float = FERRY_HEADWAY_MIN
    ferry_wait_min: float | None = None


def _walkable(tags: dict[str, str]) -> bool:
    hw = tags.get("highway")
    if hw is None or hw in _WALK_EXCLUDE or tags.get("area") == "yes":
        return False
    foot = tags.get("foot")
    if foot == "no":
        return False
    if hw == "cycleway" and foot not in _FOOT_YES:
        return False
    if tags.get("access") in ("private", "no") and foot not in _FOOT_YES:
        return False
    return tags.get("service") != "private"


def _drivable(tags: dict[str, str]) -> bool:
    hw = tags.get("highway")
    if hw is None or hw in _DRIVE_EXCLUDE or tags.get("area") == "yes":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    if tags.get("access") in ("private", "no"):
        return False
    return not (hw == "service" and tags.get("service") in _DRIVE_SERVICE_EXCLUDE)


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from an OSM ``maxspeed`` value ('60', '50 mph', '30;50'), None if unknown.

    >>> parse_maxspeed("50 mph"), parse_maxspeed("60;80"), parse_maxspeed("CN:urban")
    (80.4672, 60.0, None)
    """
    if not value:
        return None
    if value.strip() == "walk":
        return 5.0
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph|knots)?", value)
    if not m:
        return None
    speed = float(m.group(1))
    if m.group(2) == "mph":
        speed *= 1.609344
    elif m.group(2) == "knots":
        speed *= 1.852
    return speed if speed > 0 else None


def parse_duration_min(value: str | None) -> float | None:
    """Minutes from an OSM ``duration``/``interval`` value ('HH:MM', 'HH:MM:SS', 'MM').

    >>> parse_duration_min("01:30"), parse_duration_min("45"), parse_duration_min("x")
    (90.0, 45.0, None)
    """
    if not value:
        return None
    parts = value.strip().split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return None
    if len(nums) == 1:
        return nums[0]
    if len(nums) == 2:
        return nums[0] * 60 + nums[1]
    if len(nums) == 3:
        return nums[0] * 60 + nums[1] + nums[2] / 60
    return None


def _oneway(tags: dict[str, str]) -> int:
    """1 along the way, -1 against it, 0 both ways (drive)."""
    ow = tags.get("oneway")
    if ow in ("yes", "true", "1"):
        return 1
    if ow in ("-1", "reverse"):
        return -1
    if ow in ("no", "false", "0"):
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def file_hash(path: Path) -> str:
    """SHA-256 of a file's content."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def network_from_osm(path: str | os.PathLike[str], mode: str = "walk",
                     crs: pyproj.CRS | str | int | None = None,
                     options: BuildOptions | None = None, cache: bool = True,
                     more_paths: tuple[str | os.PathLike[str], ...] = (),
                     **build: float | None) -> Network:
    """Build (or load from the cache) the network of one mode from an OSM file.

    Parameters
    ----------
    path : path-like
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf``.
    mode : "walk" or "drive"
    crs : CRS-like, optional
        Projected CRS of the result; default: the UTM zone of the data.
    options : BuildOptions, optional
        Speeds and ferry waits (``mode`` is taken from the ``mode`` argument).
    **build
        Or the same as keywords: ``walk_speed_kmh``, ``ferry_speed_kmh``,
        ``ferry_headway_min``, ``ferry_wait_min`` (override ``options``).
    cache : bool
        Load/save the built network under :func:`cache_dir`, keyed by the file's content
        hash and the build options.
    more_paths : tuple of path-like
        Further OSM files (e.g. neighbouring or overlapping extracts) merged in: OSM ids
        are shared, so a way in two files is read once and ways meet at common nodes.
    """
    path = Path(path)
    paths = [path, *map(Path, more_paths)]
    if mode not in NETWORK_MODES:
        raise DataError(f"network mode {mode!r} is not supported; use one of "
                        f"{', '.join(NETWORK_MODES)}")
    for p in paths:
        if not p.is_file():
            raise DataError(f"[network] source: file not found: {p}")
    unknown = set(build) - {f for f in asdict(BuildOptions()) if f != "mode"}
    if unknown:
        raise TypeError(f"unknown network build option(s): {', '.join(sorted(unknown))}")
    opts = BuildOptions(**{**asdict(options or BuildOptions()), **build, "mode": mode})
    key = None
    if cache:
        crs_key = None if crs is None else pyproj.CRS.from_user_input(crs).to_wkt()
        files = file_hash(path) if len(paths) == 1 else [file_hash(p) for p in paths]
        payload = json.dumps({"file": files, "opts": asdict(opts), "crs": crs_key,
                              "version": BUILD_VERSION}, sort_keys=True)
        key = hashlib.sha256(payload.encode()).hexdigest()[:24]
        cached = cache_dir() / f"network-{key}.npz"
        if cached.is_file():
            try:
                net = _load_npz(cached)
                net.info["cache"] = f"loaded {cached}"
                return net
            except Exception:  # a damaged cache file is rebuilt
                cached.unlink(missing_ok=True)
    net = _build(paths, opts, crs)
    if key is not None:
        target = cache_dir() / f"network-{key}.npz"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # a name of this writer's own: cities of a batch may build the same network
            # at once, in other processes or threads; os.replace makes the last one win whole
            tmp = target.with_suffix(f".{os.getpid()}-{threading.get_ident()}-"
                                     f"{uuid.uuid4().hex[:8]}.tmp.npz")
            _save_npz(net, tmp)
            os.replace(tmp, target)
            net.info["cache"] = f"saved {target}"
        except OSError as exc:
            net.info["cache"] = f"not saved ({exc})"
    return net


def _read_ways(path: Path) -> list[tuple[int, dict[str, str], list[int], list[float],
                                          list[float]]]:
    """Ways with a highway or route tag: (id, tags, node refs, lon, lat; NaN if missing)."""
    import osmium

    ways = []
    try:
        fp = (osmium.FileProcessor(str(path)).with_locations()
              .with_filter(osmium.filter.KeyFilter("highway", "route")))
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):
                continue
            tags = dict(obj.tags)
            refs, lon, lat = [], [], []
            for nd in obj.nodes:
                loc = nd.location
                refs.append(nd.ref)
                if loc.valid():
                    lon.append(loc.lon)
                    lat.append(loc.lat)
                else:
                    lon.append(np.nan)
                    lat.append(np.nan)
            ways.append((obj.id, tags, refs, lon, lat))
    except Exception as exc:
        raise DataError(f"[network] source {path.name} is not a readable OSM file "
                        f"(.osm, .osm.bz2 or .osm.pbf): {exc}") from None
    return ways


def _build(paths: list[Path], opts: BuildOptions, crs: pyproj.CRS | str | int | None
           ) -> Network:
    from equiserve.crs import utm_crs_for

    ways, seen = [], set()
    for p in paths:
        for way in _read_ways(p):
            if way[0] not in seen:  # a way in two overlapping extracts counts once
                seen.add(way[0])
                ways.append(way)
    path = paths[0]
    n_highway = sum(1 for w in ways if "highway" in w[1])
    accept = _walkable if opts.mode == "walk" else _drivable
    walk_mps = opts.walk_speed_kmh / 3.6

    seg_a, seg_b, seg_dir, seg_speed, seg_tags = [], [], [], [], []
    tag_index: dict[tuple[tuple[str, str], ...], int] = {(): 0}  # attachment tags of ways
    ferry_a, ferry_b, ferry_lines, ferry_time = [], [], [], []
    lon_of: dict[int, float] = {}
    lat_of: dict[int, float] = {}
    used_ways = 0
    for _wid, tags, refs, lon, lat in ways:
        is_ferry = tags.get("route") == "ferry"
        if is_ferry:
            if opts.mode == "walk" and tags.get("foot") == "no":
                continue
            if opts.mode == "drive" and (tags.get("motor_vehicle") == "no"
                                         or tags.get("motorcar") == "no"):
                continue
        elif not accept(tags):
            continue
        keep = [i for i in range(len(refs)) if np.isfinite(lon[i])]
        if len(keep) < 2:
            continue
        used_ways += not is_ferry
        # a ferry's intermediate points are at sea: only its two piers become nodes
        for i in ((keep[0], keep[-1]) if is_ferry else keep):
            lon_of[refs[i]] = lon[i]
            lat_of[refs[i]] = lat[i]
        if is_ferry:
            wait = opts.ferry_wait_min
            if wait is None:
                interval = parse_duration_min(tags.get("interval") or tags.get("headway"))
                wait = (interval if interval is not None else opts.ferry_headway_min) / 2
            dur = parse_duration_min(tags.get("duration"))
            ferry_a.append(refs[keep[0]])
            ferry_b.append(refs[keep[-1]])
            ferry_lines.append(([lon[i] for i in keep], [lat[i] for i in keep]))
            ferry_time.append((wait * 60.0, None if dur is None else dur * 60.0))
            continue
        if opts.mode == "walk":
            direction, speed = 0, opts.walk_speed_kmh
        else:
            direction = _oneway(tags)
            speed = (parse_maxspeed(tags.get("maxspeed"))
                     or DRIVE_SPEED_KMH.get(tags.get("highway", ""), DEFAULT_DRIVE_KMH))
        key = tuple(sorted((k, tags[k]) for k in ATTACH_TAGS if k in tags))
        tag_set = tag_index.setdefault(key, len(tag_index))
        # consecutive valid nodes only (a missing node breaks the way)
        for i0, i1 in zip(keep[:-1], keep[1:], strict=True):
            if i1 == i0 + 1 and refs[i0] != refs[i1]:
                seg_a.append(refs[i0])
                seg_b.append(refs[i1])
                seg_dir.append(direction)
                seg_speed.append(speed)
                seg_tags.append(tag_set)
    if not seg_a and not ferry_a:
        raise DataError(f"[network] source {path.name} has no ways usable for mode "
                        f"{opts.mode!r} ({n_highway} highway ways in the file); check the "
                        "file and the mode")

    ids = np.array(sorted(lon_of), dtype=np.int64)
    lon_arr = np.array([lon_of[i] for i in ids.tolist()])
    lat_arr = np.array([lat_of[i] for i in ids.tolist()])
    if crs is None:
        crs = utm_crs_for(float(np.median(lon_arr)), float(np.median(lat_arr)))
    crs = pyproj.CRS.from_user_input(crs)
    x, y = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon_arr, lat_arr)
    x, y = np.asarray(x), np.asarray(y)

    def idx(refs: list[int]) -> np.ndarray:
        return np.searchsorted(ids, np.asarray(refs, dtype=np.int64))

    u, v = idx(seg_a), idx(seg_b)
    length = np.hypot(x[v] - x[u], y[v] - y[u])
    sdir = np.asarray(seg_dir, dtype=np.int64)
    mps = np.asarray(seg_speed, dtype=float) / 3.6
    t = length / mps if len(u) else np.empty(0)
    t_fwd = np.where(sdir >= 0, t, np.inf)
    t_bwd = np.where(sdir <= 0, t, np.inf)

    fu, fv = idx(ferry_a), idx(ferry_b)
    to_xy = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    f_len = np.array([np.hypot(*np.diff(np.asarray(to_xy.transform(lo, la)), axis=1)).sum()
                      for lo, la in ferry_lines]) if ferry_a else np.empty(0)
    f_speed = opts.ferry_speed_kmh / 3.6
    f_time = np.array([w + (d if d is not None else f_len[i] / f_speed)
                       for i, (w, d) in enumerate(ferry_time)]) if ferry_a else np.empty(0)
    net = Network(
        x=x, y=y, u=np.concatenate([u, fu]), v=np.concatenate([v, fv]),
        length_m=np.concatenate([length, f_len]),
        time_fwd_s=np.concatenate([t_fwd, f_time]), time_bwd_s=np.concatenate([t_bwd, f_time]),
        is_ferry=np.concatenate([np.zeros(len(u), bool), np.ones(len(fu), bool)]),
        crs=crs, mode=opts.mode, node_id=ids, access_speed_mps=walk_mps,
        edge_tags=np.concatenate([np.asarray(seg_tags, dtype=np.int64),
                                  np.zeros(len(fu), dtype=np.int64)]),
        tag_sets=[dict(k) for k in tag_index],
        info={"source": ", ".join(map(str, paths)), "highway_ways": n_highway,
              "ways_used": used_ways, "ferry_routes": len(fu)},
    )
    return net


_ARRAYS = ("x", "y", "u", "v", "length_m", "time_fwd_s", "time_bwd_s", "is_ferry", "node_id",
           "edge_tags")


def _save_npz(net: Network, path: Path) -> None:
    meta = json.dumps({"crs": net.crs.to_wkt(), "mode": net.mode,
                       "access_speed_mps": net.access_speed_mps, "info": net.info,
                       "tag_sets": net.tag_sets})
    np.savez_compressed(path, meta=np.array(meta), **{k: getattr(net, k) for k in _ARRAYS})


def _load_npz(path: Path) -> Network:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {k: data[k] for k in _ARRAYS}
    return Network(**arrays, crs=pyproj.CRS.from_wkt(meta["crs"]), mode=meta["mode"],
                   access_speed_mps=meta["access_speed_mps"], info=meta["info"],
                   tag_sets=meta["tag_sets"])
