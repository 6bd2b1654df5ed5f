"""Places by name: a gazetteer table resolves a town, street or named facility to a point.

Matching is deliberately plain, so that a planner can predict it: the name (after
trimming spaces and unifying full-width brackets) equals a name field of exactly one
row; failing that, exactly one row's name contains it (中山大学附属中学 finds
珠海市中山大学附属中学; the reverse is never tried, or 珠海市第十二小学 would find
珠海市). Several candidates, or none, leave the place unresolved with the reason;
nothing is guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from equiserve.config.scenario import GazetteerConfig
from equiserve.errors import DataError
from equiserve.io.vector import read_vector
from equiserve.notes import Notes


def normalise(name: str) -> str:
    """Name as compared: spaces removed, full-width brackets made ASCII, case folded.

    >>> normalise(" 珠海市文园中学（一校区） ")
    '珠海市文园中学(一校区)'
    """
    return (str(name).replace("（", "(").replace("）", ")").replace("\u3000", "")
            .replace(" ", "").casefold())


@dataclass(frozen=True)
class Match:
    """A resolved place: the row's name, its point (WGS84 lon/lat) and stated precision."""

    query: str
    name: str
    lon: float
    lat: float
    precision: str
    how: str  # "exact" or "partial"
    kind: str | None = None


class Gazetteer:
    """A gazetteer loaded from any supported vector or CSV table with points."""

    def __init__(self, gdf: gpd.GeoDataFrame, cfg: GazetteerConfig):
        self.cfg = cfg
        missing = [f for f in (*cfg.name_fields, cfg.precision_field, cfg.kind_field)
                   if f is not None and f not in gdf.columns]
        if missing:
            raise DataError(f"[gazetteer] {cfg.source.path.name}: field(s) "
                            f"{', '.join(missing)} not found; fields: "
                            + ", ".join(c for c in gdf.columns if c != "geometry"))
        pts = gdf.to_crs(4326)
        geom = pts.geometry
        if not (geom.geom_type == "Point").all():
            geom = geom.representative_point()
        self.lon = geom.x.to_numpy(float)
        self.lat = geom.y.to_numpy(float)
        self.names = [[normalise(v) if pd.notna(v) else "" for v in gdf[f]]
                      for f in cfg.name_fields]
        self.display = gdf[cfg.name_fields[0]].astype(str).to_numpy()
        self.precision = (gdf[cfg.precision_field].fillna("not stated").astype(str).to_numpy()
                          if cfg.precision_field else np.full(len(gdf), "not stated"))
        self.kind = (gdf[cfg.kind_field].astype(str).to_numpy() if cfg.kind_field
                     else np.full(len(gdf), None))

    @classmethod
    def from_config(cls, cfg: GazetteerConfig, notes: Notes | None = None) -> Gazetteer:
        return cls(read_vector(cfg.source, notes), cfg)

    def __len__(self) -> int:
        return len(self.lon)

    def resolve(self, query: str) -> tuple[Match | None, str]:
        """The unique row matching ``query``, or None and why not."""
        q = normalise(query)
        if not q:
            return None, "empty name"
        rows = sorted({i for col in self.names for i, n in enumerate(col) if n == q})
        how = "exact"
        if not rows:
            rows = sorted({i for col in self.names for i, n in enumerate(col)
                           if n and q in n and len(q) >= 2})
            how = "partial"
        if not rows:
            return None, "not in the gazetteer"
        if len(rows) > 1:
            shown = ", ".join(self.display[rows[:5]])
            return None, f"ambiguous in the gazetteer ({len(rows)} rows: {shown})"
        i = rows[0]
        return Match(query, str(self.display[i]), float(self.lon[i]), float(self.lat[i]),
                     str(self.precision[i]), how, self.kind[i]), ""
