"""The six facility layers of the demo city and ``bus_stops.csv``.

:class:`Facilities` places schools, clinics, bus stops, art centres and sports parks on
land, weighted by population and drawn towards the streets; :func:`write_bus_stops` writes
the stops with GCJ-02 coordinates, as Chinese web maps publish them.
"""

from __future__ import annotations

import pathlib
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely import affinity
from shapely.geometry import LineString, box

from equiserve.datasets.demo.layout import CELL, DEMO_CRS, GROUPS, Region
from equiserve.datasets.demo.shapes import blob
from equiserve.datasets.demo.streets import Streets

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["Facilities", "write_bus_stops"]

# Facility counts per group: (east, west, island). Islands and the west get far fewer
# facilities per person than the east; this is the gap the demo is meant to reveal.
_N_PRIMARY: Final = (125, 42, 2)
_N_MIDDLE: Final = (44, 14, 0)
_N_CLINICS: Final = (56, 16, 2)
_N_ART: Final = (10, 3, 0)
_N_PARKS: Final = (26, 7, 0)
_N_FEEDER_STOPS: Final = (650, 220)
_ISLAND_STOPS: Final = (2, 1, 1, 0)  # by island, most populous first


def _numbered(names: Sequence[str]) -> list[str]:
    """Append ``No. k`` to names, numbering repeats of each base name from 1."""
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n] += 1
        out.append(f"{n} No. {seen[n]}")
    return out


class Facilities:
    """Places the facilities of the demo city on land, weighted by population.

    Parameters
    ----------
    rng : numpy.random.Generator
        The generator's single random source.
    x, y : numpy.ndarray
        Pixel-centre coordinates in metres (EPSG:32649).
    region_id : numpy.ndarray
        Index of the region containing each pixel centre, -1 off land.
    pop : numpy.ndarray
        People per cell (-9999 off land).
    regions : sequence of Region
        The regions as a reader sees them.
    streets : Streets
        The street network; sites are drawn towards it (bus stops onto it).
    """

    def __init__(
        self,
        rng: np.random.Generator,
        x: npt.NDArray[np.float64],
        y: npt.NDArray[np.float64],
        region_id: npt.NDArray[np.int16],
        pop: npt.NDArray[np.float32],
        regions: Sequence[Region],
        streets: Streets,
    ) -> None:
        self.rng = rng
        self.streets = streets
        self.x = x.ravel()
        self.y = y.ravel()
        self.region_id = region_id.ravel()
        self.pop = np.maximum(pop.ravel().astype(np.float64), 0.0)
        self.regions = list(regions)
        self.group_of = np.array([GROUPS.index(r.group) for r in regions])
        self.gid = np.where(self.region_id >= 0, self.group_of[np.maximum(self.region_id, 0)], -1)

    # -- helpers -----------------------------------------------------------------------

    def _land(self, members: npt.NDArray[np.intp], margin: float) -> shapely.Geometry:
        """Union of the regions `members`, shrunk by `margin` metres, prepared for queries."""
        geom = shapely.union_all([self.regions[i].geometry.buffer(-margin) for i in members])
        shapely.prepare(geom)
        return geom

    def _group_land(self, group: int, margin: float) -> shapely.Geometry:
        """:meth:`_land` of all regions of group `group` (0 east, 1 west, 2 island)."""
        return self._land(np.flatnonzero(self.group_of == group), margin)

    def _pull(
        self, px: npt.NDArray[np.float64], py: npt.NDArray[np.float64], reach: tuple[float, float]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Move points to within a random distance in `reach` (metres) of the nearest street.

        Points already that close stay; ``reach = (0, 0)`` puts every point on a street.
        """
        qx, qy = self.streets.nearest(px, py)
        d = np.hypot(px - qx, py - qy)
        r = self.rng.uniform(reach[0], reach[1], size=px.size)
        f = np.where(d > r, r / np.maximum(d, 1e-9), 1.0)
        return qx + f * (px - qx), qy + f * (py - qy)

    def _sample(
        self,
        weight: npt.NDArray[np.float64],
        n: int,
        land: shapely.Geometry,
        jitter: float = 40.0,
        reach: tuple[float, float] = (15.0, 90.0),
    ) -> npt.NDArray[np.float64]:
        """`n` sites in distinct cells, drawn with probability ~ `weight`, inside `land`.

        Each site is drawn towards the streets (see :meth:`_pull`). Returns an array of
        shape (n, 2).
        """
        if n == 0:
            return np.empty((0, 2))
        p = weight / weight.sum()
        kept: list[npt.NDArray[np.float64]] = []
        used: set[int] = set()
        for _ in range(10):
            idx = self.rng.choice(p.size, size=4 * n + 10, p=p)
            dx, dy = self.rng.uniform(-jitter, jitter, size=(2, idx.size))
            px, py = self._pull(self.x[idx] + dx, self.y[idx] + dy, reach)
            ok = shapely.contains_xy(land, px, py)
            for k in np.flatnonzero(ok):
                if int(idx[k]) not in used:
                    used.add(int(idx[k]))
                    kept.append(np.array([px[k], py[k]]))
                    if len(kept) == n:
                        return np.vstack(kept)
        raise RuntimeError(f"demo generator could not place {n} sites")  # pragma: no cover

    def _weights(self, group: int, power: float) -> npt.NDArray[np.float64]:
        """People per cell of group `group` (0 elsewhere), raised to `power`."""
        return np.where(self.gid == group, self.pop, 0.0) ** power

    def _region_names(self, xy: npt.NDArray[np.float64]) -> list[str]:
        """Name of the region containing each point (points are known to be on land)."""
        idx = np.full(len(xy), -1)
        for i, r in enumerate(self.regions):
            idx[shapely.contains_xy(r.geometry, xy[:, 0], xy[:, 1])] = i
        if (idx < 0).any():  # pragma: no cover - sites are sampled inside shrunk regions
            raise RuntimeError("demo facility placed off land")
        return [self.regions[i].name for i in idx]

    def _points(
        self,
        counts: Sequence[int],
        power: float,
        margin: float,
        reach: tuple[float, float] = (15.0, 90.0),
    ) -> npt.NDArray[np.float64]:
        """Population-weighted sites for counts per group (east, west, island)."""
        parts = [
            self._sample(self._weights(g, power), n, self._group_land(g, margin), reach=reach)
            for g, n in enumerate(counts)
        ]
        return np.vstack(parts)

    def _frame(
        self,
        data: Mapping[
            str, Sequence[str] | npt.NDArray[np.generic] | pd.api.extensions.ExtensionArray
        ],
        geometry: Sequence[shapely.Geometry] | npt.NDArray[np.object_],
    ) -> gpd.GeoDataFrame:
        """A GeoDataFrame of `data` on `geometry`, in EPSG:32649."""
        import geopandas as gpd

        return gpd.GeoDataFrame(data, geometry=list(geometry), crs=DEMO_CRS)

    # -- layers ------------------------------------------------------------------------

    def schools(self) -> gpd.GeoDataFrame:
        """Primary and middle schools; two of them with unknown (null) seats.

        Primary seats (500-1,500 per school) add up to about 1.1 seats per child aged
        6-11 in the whole city, unevenly spread, so that the scorecard has shortfalls.
        """
        import pandas as pd

        prim = self._points(_N_PRIMARY, 0.6, 60.0)
        mid = self._points(_N_MIDDLE, 0.6, 60.0)
        xy = np.vstack([prim, mid])
        level = ["primary"] * len(prim) + ["middle"] * len(mid)
        seats = np.concatenate(
            [
                self.rng.integers(10, 31, size=len(prim)) * 50,  # 500-1,500
                self.rng.integers(30, 71, size=len(mid)) * 50,  # 1,500-3,500
            ]
        )
        seats_col = pd.array(seats, dtype="Int64")
        seats_col[self.rng.integers(0, len(prim))] = pd.NA
        seats_col[len(prim) + self.rng.integers(0, len(mid))] = pd.NA
        names = _numbered(
            [
                f"{r} {lv.title()} School"
                for r, lv in zip(self._region_names(xy), level, strict=True)
            ]
        )
        return self._frame(
            {
                "id": [f"S{i:03d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "level": level,
                "seats": seats_col,
            },
            shapely.points(xy),
        )

    def clinics(self) -> gpd.GeoDataFrame:
        """Hospitals and community health centres with their beds."""
        xy = self._points(_N_CLINICS, 0.7, 60.0)
        n_e, n_w, n_i = _N_CLINICS
        beds = np.concatenate(
            [
                self.rng.integers(20, 401, size=n_e),
                self.rng.integers(10, 151, size=n_w),
                self.rng.integers(5, 21, size=n_i),
            ]
        )
        kind = np.where(beds >= 250, "Hospital", "Health Centre")
        names = _numbered([f"{r} {k}" for r, k in zip(self._region_names(xy), kind, strict=True)])
        return self._frame(
            {
                "id": [f"C{i:03d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "beds": beds.astype(np.int64),
            },
            shapely.points(xy),
        )

    def _corridor_stops(
        self, lines: Sequence[LineString], spacing: float, land: shapely.Geometry
    ) -> npt.NDArray[np.float64]:
        """Stops every `spacing` metres (+-60 m) along `lines`, kept where on `land`."""
        parts = []
        for line in lines:
            d = np.arange(self.rng.uniform(0.0, spacing), line.length, spacing)
            d = np.clip(d + self.rng.uniform(-60.0, 60.0, size=d.size), 0.0, line.length)
            parts.append(shapely.get_coordinates(shapely.line_interpolate_point(line, d)))
        xy = np.vstack(parts)
        xy = xy[shapely.contains_xy(land, xy[:, 0], xy[:, 1])]
        # one stop per 100 m cell (corridor crossings would otherwise double up)
        cell = np.floor(xy / CELL).astype(np.int64)
        _, first = np.unique(cell, axis=0, return_index=True)
        return xy[np.sort(first)]

    def bus_stops(self) -> gpd.GeoDataFrame:
        """Bus stops on the streets: along the arterials, plus population-weighted feeders."""
        east_land = self._group_land(0, 25.0)
        west_land = self._group_land(1, 25.0)
        on_street = (0.0, 0.0)
        corridors = self.streets.corridors
        parts = [
            self._corridor_stops(corridors["east"], 500.0, east_land),
            self._sample(self._weights(0, 0.8), _N_FEEDER_STOPS[0], east_land, reach=on_street),
            self._corridor_stops(corridors["west"], 1200.0, west_land),
            self._sample(self._weights(1, 1.0), _N_FEEDER_STOPS[1], west_land, reach=on_street),
        ]
        # Islands: a handful of stops by the most populous islands' villages.
        isl = np.flatnonzero(self.group_of == 2)
        people = np.array([self.pop[self.region_id == i].sum() for i in isl])
        for i, n in zip(isl[np.argsort(-people, kind="stable")], _ISLAND_STOPS, strict=True):
            w = np.where(self.region_id == i, self.pop, 0.0)
            parts.append(self._sample(w, n, self._land(np.array([i]), 25.0), reach=on_street))
        xy = np.vstack(parts)
        names = _numbered([f"{r} Stop" for r in self._region_names(xy)])
        return self._frame(
            {"stop_id": [f"B{i:04d}" for i in range(1, len(xy) + 1)], "name": names},
            shapely.points(xy),
        )

    def art_centres(self) -> gpd.GeoDataFrame:
        """Citizen art centres: rotated 40 x 60 m building footprints, none on the islands."""
        xy = self._points(_N_ART, 0.8, 80.0, reach=(30.0, 90.0))
        angle = self.rng.uniform(0.0, 180.0, size=len(xy))
        polys = [
            affinity.rotate(box(cx - 20.0, cy - 30.0, cx + 20.0, cy + 30.0), a)
            for (cx, cy), a in zip(xy, angle, strict=True)
        ]
        names = _numbered([f"{r} Citizen Art Centre" for r in self._region_names(xy)])
        return self._frame(
            {"id": [f"A{i:02d}" for i in range(1, len(xy) + 1)], "name": names}, polys
        )

    def sports_parks(self) -> gpd.GeoDataFrame:
        """Community sports parks: irregular 1-10 ha polygons, none on the islands."""
        xy = self._points(_N_PARKS, 0.5, 350.0, reach=(40.0, 110.0))
        polys = []
        for cx, cy in xy:
            area = self.rng.uniform(1e4, 1e5)
            shape = blob(self.rng, 0.0, 0.0, area, n=48)
            polys.append(affinity.translate(shape, cx, cy))
        names = _numbered([f"{r} Sports Park" for r in self._region_names(xy)])
        return self._frame(
            {
                "id": [f"P{i:02d}" for i in range(1, len(xy) + 1)],
                "name": names,
                "area_ha": np.round(shapely.area(polys) / 1e4, 2),
            },
            polys,
        )


def write_bus_stops(path: pathlib.Path, stops: gpd.GeoDataFrame) -> None:
    """Write bus stops as CSV with GCJ-02 lon/lat (6 decimals, '\\n' line ends)."""
    from pyproj import Transformer

    from equiserve.crs import gcj02_from_wgs84

    to_wgs84 = Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(stops.geometry.x.to_numpy(), stops.geometry.y.to_numpy())
    glon, glat = gcj02_from_wgs84(np.asarray(lon), np.asarray(lat))
    lines = ["stop_id,name,lon,lat"]
    lines += [
        f"{sid},{name},{x:.6f},{y:.6f}"
        for sid, name, x, y in zip(stops["stop_id"], stops["name"], glon, glat, strict=True)
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))

