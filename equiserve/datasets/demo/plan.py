"""The demo's gazetteer (``places.csv``) and the scenario plan that uses it (``plan.toml``).

The gazetteer names the west's towns and the islands; the plan places new schools by those
names, gives a clinic in GCJ-02 coordinates, and closes, enlarges and targets facilities.
The plan's text is ``templates/plan.toml``, with one ``templates/plan_school.toml`` per town.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

from equiserve.datasets.demo.layout import DEMO_CRS, ORIGIN_X, ORIGIN_Y, WEST_TOWNS, Region
from equiserve.datasets.demo.texts import render

__all__ = ["write_plan"]


def write_plan(out: pathlib.Path, regions: Sequence[Region]) -> None:
    """Write a gazetteer of the demo's towns and islands (places.csv) and a plan using it."""
    import geopandas as gpd
    import pandas as pd

    from equiserve.crs import gcj02_from_wgs84

    rows = [(name, "town", ORIGIN_X + x * 1000.0, ORIGIN_Y + y * 1000.0,
             "town centre (synthetic), exact") for x, y, _r, name in WEST_TOWNS]
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
    schools = "".join("\n" + render("plan_school.toml", town=name) for *_, name in WEST_TOWNS)
    text = render("plan.toml", town_schools=schools, lon=f"{glon:.6f}", lat=f"{glat:.6f}")
    (out / "plan.toml").write_text(text, encoding="utf-8")
