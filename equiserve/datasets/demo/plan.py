"""The demo's gazetteer (``places.csv``) and the scenario plan that uses it (``plan.toml``).

The gazetteer names the west's towns, its new town and the islands; the plan places new
schools by those names (each opening in a year, for ``equiserve forecast --plan``), gives a
clinic in GCJ-02 coordinates, and closes, enlarges and targets facilities. The plan's text
is ``templates/plan.toml``, with one ``templates/plan_school.toml`` per town.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

from equiserve.datasets.demo.layout import (
    DEMO_CRS,
    NEW_TOWN,
    ORIGIN_X,
    ORIGIN_Y,
    WEST_TOWNS,
    Region,
)
from equiserve.datasets.demo.texts import render

__all__ = ["OPENING_YEARS", "write_plan"]

#: The year each west town's new school opens (``equiserve forecast --plan``): North Hills'
#: after the forecast's last year, 2030.
OPENING_YEARS = {"River Town": 2023, "Sandbank": 2024, "Airport Town": 2026,
                 "Millbrook": 2028, "North Hills": 2031}


def write_plan(out: pathlib.Path, regions: Sequence[Region]) -> None:
    """Write a gazetteer of the demo's towns and islands (places.csv) and a plan using it."""
    import geopandas as gpd
    import pandas as pd

    from equiserve.crs import gcj02_from_wgs84

    rows = [(name, "town", ORIGIN_X + x * 1000.0, ORIGIN_Y + y * 1000.0,
             "town centre (synthetic), exact") for x, y, _r, name in WEST_TOWNS]
    x, y, *_, new_town = NEW_TOWN
    rows.append((new_town, "new town", ORIGIN_X + x * 1000.0, ORIGIN_Y + y * 1000.0,
                 "planned town centre (synthetic)"))
    for r in regions:
        if r.group == "island":
            pt = r.geometry.representative_point()
            rows.append((r.name, "island", pt.x, pt.y, "a point on the island (synthetic)"))
    df = pd.DataFrame(rows, columns=["name", "kind", "x", "y", "precision"])
    ll = gpd.GeoSeries.from_xy(df["x"], df["y"], crs=DEMO_CRS).to_crs(4326)
    df.insert(2, "lon", ll.x.round(6))
    df.insert(3, "lat", ll.y.round(6))
    df.drop(columns=["x", "y"]).to_csv(out / "places.csv", index=False)
    egret = df.set_index("name").loc["Egret Island"]
    glon, glat = gcj02_from_wgs84(float(egret["lon"]), float(egret["lat"]))
    schools = "".join("\n" + render("plan_school.toml", town=name, year=OPENING_YEARS[name])
                      for *_, name in WEST_TOWNS)
    text = render("plan.toml", town_schools=schools, lon=f"{glon:.6f}", lat=f"{glat:.6f}",
                  new_town=new_town)
    (out / "plan.toml").write_text(text, encoding="utf-8")
