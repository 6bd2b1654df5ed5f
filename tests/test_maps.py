"""The interactive map: base maps and GCJ-02 display shift, legend, overlays, escaping."""

from __future__ import annotations

import re
import warnings

import folium
import numpy as np
import pandas as pd
import pytest

from equiserve.crs import gcj02_from_wgs84
from equiserve.errors import ConfigError, DataQualityWarning
from equiserve.outputs.maps import (
    build_map,
    resolve_basemap,
    save_map,
    study_map,
)
from equiserve.outputs.maps.builder import gap_edges, nice_number
from equiserve.outputs.maps.compact import (
    CompactLayer,
    feature_properties,
    point_lonlat,
    spec_of,
)
from equiserve.outputs.style import GAP_COLOURS
from equiserve.study import Study

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from equiserve.testing import write_tiny_study

    cfg = write_tiny_study(tmp_path_factory.mktemp("maps") / "in")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
        result = study.coverage()
        equity = study.equity(result)
    return study, result, equity


def overlays(fmap: folium.Map) -> dict[str, folium.map.Layer]:
    """The map's overlays by name: folium GeoJSON (regions) or compact layers."""
    return {c.layer_name: c for c in fmap._children.values()
            if isinstance(c, folium.map.Layer) and c.overlay}


def point_coords(layer: CompactLayer) -> np.ndarray:
    return point_lonlat(spec_of(layer))


def properties(layer: folium.map.Layer) -> list[dict]:
    if isinstance(layer, CompactLayer):
        return feature_properties(spec_of(layer))
    return [f["properties"] for f in layer.data["features"]]


# ---------------------------------------------------------------------------------------
# base maps


def test_presets_and_urls_resolve():
    assert resolve_basemap("osm").crs == "WGS84"
    assert resolve_basemap("OSM").url.startswith("https://tile.openstreetmap.org/")
    assert resolve_basemap("none") is None and resolve_basemap(None) is None
    amap = resolve_basemap("amap")
    assert amap.crs == "GCJ-02" and amap.shifts_data
    custom = resolve_basemap("https://t{s}.example.cn/{z}/{x}/{y}.png", tiles_crs="gcj02")
    assert custom.crs == "GCJ-02" and custom.subdomains == "abc"
    assert resolve_basemap("tianditu", key="K123").url.endswith("tk=K123")


def test_bad_base_maps_name_the_setting_and_the_fix(monkeypatch):
    with pytest.raises(ConfigError, match=r"\[map\] tiles = 'google'.*osm, none, amap"):
        resolve_basemap("google")
    with pytest.raises(ConfigError, match=r"needs an API key.*key_env"):
        resolve_basemap("tianditu")
    monkeypatch.delenv("EQ_TEST_TDT_KEY", raising=False)
    with pytest.raises(ConfigError, match="EQ_TEST_TDT_KEY"):
        resolve_basemap("tianditu", key_env="EQ_TEST_TDT_KEY")
    monkeypatch.setenv("EQ_TEST_TDT_KEY", "abc")
    assert resolve_basemap("tianditu", key_env="EQ_TEST_TDT_KEY").url.endswith("tk=abc")
    with pytest.raises(ConfigError, match="tiles_crs = 'BD-09'.*WGS84, GCJ-02"):
        resolve_basemap("osm", tiles_crs="BD-09")


def test_map_table_in_study_toml_is_validated(tmp_path):
    from equiserve.config import load_config
    from equiserve.testing import write_tiny_study

    cfg = write_tiny_study(tmp_path)
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(text + '\n[map]\ntiles = "amap"\ngap_block_m = 500\n', encoding="utf-8")
    m = load_config(cfg).map
    assert (m.tiles, m.gap_block_m) == ("amap", 500.0)
    cfg.write_text(text + '\n[map]\ntile = "amap"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key 'tile' in \\[map\\]; did you mean 'tiles'"):
        load_config(cfg)


def test_gcj02_base_map_shifts_every_drawn_geometry(tiny):
    study, result, _ = tiny
    plain = overlays(study_map(study, result, basemap=resolve_basemap("osm")))
    shifted = overlays(study_map(study, result, basemap=resolve_basemap("amap")))
    assert plain.keys() == shifted.keys()
    name = next(k for k in plain if k.startswith("schools"))
    wgs = point_coords(plain[name])
    gcj = point_coords(shifted[name])
    expect = np.column_stack(gcj02_from_wgs84(wgs[:, 0], wgs[:, 1]))
    np.testing.assert_allclose(gcj, expect, atol=2e-5)  # coordinates rounded to 1e-5 degrees
    shift_m = np.hypot((gcj - wgs)[:, 0] * 103_000, (gcj - wgs)[:, 1] * 111_000)
    assert (shift_m > 200).all() and (shift_m < 800).all()  # Zhuhai: a few hundred metres
    # regions shift as well (first vertex of the first region)
    r0 = np.array(plain["Regions (colour = group)"].data["features"][0]["geometry"]
                  ["coordinates"][0][0])
    r1 = np.array(shifted["Regions (colour = group)"].data["features"][0]["geometry"]
                  ["coordinates"][0][0])
    np.testing.assert_allclose(r1, gcj02_from_wgs84(*r0), atol=2e-4)  # simplified outline


# ---------------------------------------------------------------------------------------
# overlays and legend


def test_overlays_one_per_layer_and_kind(tiny):
    study, result, equity = tiny
    fmap = study_map(study, result, equity, study.service_areas(result), basemap=None)
    names = list(overlays(fmap))
    assert names[0] == "Regions (colour = group)"
    for layer in study.layers:
        assert sum(n.startswith(f"Gaps: {layer} ") for n in names) == 1
        assert sum(n.startswith(f"Service area: {layer} ") for n in names) == 1
        assert f"{layer} ({len(study.layers[layer]):,})" in names
    # access blocks only for layers with capacities
    assert [n for n in names if n.startswith("Access")] == [
        f"Access: {n} (places per 1,000 people)" for n in equity.access]
    # only the first gap layer is shown at first; access and service areas start hidden
    shown = {n: o.show for n, o in overlays(fmap).items()}
    assert [n for n in names if n.startswith("Gaps") and shown[n]] == [names[1]]
    assert not any(shown[n] for n in names if n.startswith(("Access", "Service")))


def test_gap_blocks_sum_unserved_people_and_share_one_scale(tiny):
    study, result, _ = tiny
    for name, cov in result.layers.items():
        b = result.gap_blocks(name, block_m=500)
        unserved = cov.weights[~cov.covered].sum()
        assert b["unserved"].sum() == pytest.approx(unserved, abs=len(b))  # rounded per block
    fmap = build_map(list(study.layers), study.regions.group_names, study.regions.gdf,
                     result.gap_overlays(block_m=500), "tiny")
    gaps = {n: o for n, o in overlays(fmap).items() if n.startswith("Gaps")}
    assert len(gaps) == 2
    # one scale for all layers: across every layer's blocks, more unserved people never
    # get a lighter class
    pairs = sorted((float(p["unserved"].replace(",", "")), GAP_COLOURS.index(p["fill"]))
                   for o in gaps.values() for p in properties(o))
    classes = [k for _, k in pairs]
    assert classes == sorted(classes) and len(set(classes)) >= 3


def test_access_blocks_are_population_weighted_means(tiny):
    study, result, equity = tiny
    name = next(iter(equity.access))
    w, score = result.layers[name].weights, equity.access[name].score
    b = equity.access_blocks(name, block_m=1000)
    pop = study.population
    keys = np.floor(pop.x / 1000).astype(int) * 100_000 + np.floor(pop.y / 1000).astype(int)
    frame = pd.DataFrame({"k": keys, "w": w, "ws": w * score})[w > 0].groupby("k").sum()
    expect = np.sort(1000 * frame["ws"] / frame["w"])
    np.testing.assert_allclose(np.sort(b["access_per_1000"]), expect, rtol=1e-12)
    study_mean = (w * score).sum() / w.sum()
    np.testing.assert_allclose(np.sort(b["relative"]), expect / 1000 / study_mean, rtol=1e-12)


def _legend(fmap: folium.Map) -> str:
    import json

    from equiserve.outputs.maps.legend import _Legend

    box = next(c for c in fmap._children.values() if isinstance(c, _Legend))
    return json.loads(box.payload.replace("<\\/", "</"))


def test_legend_explains_colours_with_units(tiny):
    study, result, equity = tiny
    fmap = study_map(study, result, equity, basemap=None)
    legend = _legend(fmap)
    for text in ("Gaps: unserved people per 1 km block", " people<", "places within the "
                 "standard per 1,000 people", "× the study mean", "no place in reach",
                 "Facilities (symbol per layer)", "No base map (offline)", "2SFCA"):
        assert text.lower() in legend.lower(), text
    # every facility layer has its own symbol, and the legend row of the layer shows it
    rows = re.findall(r'<div class="eq-row">(<svg.*?</svg>)<span>(.*?)</span>', legend)
    symbols = []
    for name, lay in study.layers.items():
        style = spec_of(overlays(fmap)[f"{name} ({len(lay):,})"])["style"]
        row = next(svg for svg, label in rows if label.startswith(f"{name} ("))
        # the canvas symbol has the legend row's colour and shape (a circle, or a polygon
        # of as many corners)
        assert f'fill="{style["fillColor"]}"' in row
        if style["shape"] is None:
            assert "<circle " in row
        else:
            polygon = re.search(r'<polygon points="([^"]*)"', row)
            corners = 4 if "<rect " in row else len(polygon.group(1).split())
            assert corners == len(style["shape"])
        symbols.append((style["fillColor"], str(style["shape"])))
    assert len(set(symbols)) == len(symbols)


def test_nice_numbers():
    assert [nice_number(v) for v in (1, 3, 7.5, 19, 20, 499, 501)] == [1, 2, 5, 10, 20, 200, 500]
    edges = gap_edges(np.array([0.0, 10, 100, 1000, 5000]))
    assert edges[0] == 0 and np.isinf(edges[-1]) and (np.diff(edges) > 0).all()


# ---------------------------------------------------------------------------------------
# escaping


def test_names_from_files_are_escaped_everywhere(tmp_path):
    """Facility, region, subgroup (serves) and study names shaped like HTML reach the
    map only escaped: in values, tooltip labels, layer names and the legend."""
    from equiserve.siting.plan import plan_sites
    from equiserve.testing import write_tiny_study

    cfg = write_tiny_study(tmp_path / "in")
    evil_sub = "kids<img src=y onerror=alert(2)>"
    text = cfg.read_text(encoding="utf-8").replace("children_6_11", f'"{evil_sub}"', 1)
    text = text.replace('serves = "children_6_11"', f"serves = '{evil_sub}'")
    text = text.replace('name = "Tiny test study (synthetic)"', f"name = '{EVIL}'")
    cfg.write_text(text, encoding="utf-8")
    schools = pd.read_csv(cfg.parent / "schools.csv")
    schools.loc[0, "name"] = EVIL
    schools.to_csv(cfg.parent / "schools.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        study = Study.load(cfg)
        result = study.coverage()
        equity = study.equity(result)
    plan = plan_sites(study, result, "schools", count=1, spacing_m=400, equity=equity)
    fmap = study_map(study, plan, basemap=None)
    save_map(fmap, tmp_path / "map.html")
    html = (tmp_path / "map.html").read_text(encoding="utf-8")
    for raw in ("<img src=x", "<img src=y", "\\u003cimg src=x", "\\u003cimg src=y"):
        assert raw not in html
    # escaped once, then JSON-encoded by folium (& becomes \u0026): the study name (title)
    # and the school name (tooltip value), the subgroup in labels and the legend
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # title element
    assert html.count("\\u0026lt;img src=x onerror=alert(1)\\u0026gt;") >= 1
    assert "kids\\u0026lt;img src=y" in html or "kids&lt;img src=y" in html


def test_sites_appear_on_the_map(tiny):
    from equiserve.siting.plan import plan_sites

    study, result, equity = tiny
    plan = plan_sites(study, result, "schools", count=2, spacing_m=400, equity=equity)
    fmap = study_map(study, plan, basemap=None)
    names = overlays(fmap)
    chosen = names["Chosen sites (2, model mclp)"]
    n_cands = len(plan.gains) - 2
    assert any(n.startswith(f"Candidates ({n_cands:,};") for n in names)
    got = np.sort(point_coords(chosen), axis=0)
    sel = plan.gains[plan.gains["selected"]]
    np.testing.assert_allclose(got, np.sort(sel[["lon", "lat"]].to_numpy(), axis=0), atol=2e-5)
    popups = [p["new_covered"] for p in properties(chosen)]
    assert sorted(popups) == sorted(f"{v:,.0f}" for v in sel["new_covered"])
    assert not any(n.startswith("clinics") for n in names)


# ---------------------------------------------------------------------------------------
# through the command line


def _cli(*args):
    from typer.testing import CliRunner

    from equiserve.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_amap_base_map_and_bad_tiles(tiny_study, tmp_path):
    out = tmp_path / "o"
    r = _cli("report", tiny_study, "--out", out, "--tiles", "amap")
    assert r.exit_code == 0, r.output
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "autonavi.com" in html and "shifted from WGS84 to GCJ-02" in html
    assert "tile.openstreetmap.org" not in html
    # a bad base map fails at once, before any work, naming the option's values
    r = _cli("report", tiny_study, "--out", tmp_path / "bad", "--tiles", "gogle")
    assert r.exit_code == 2
    assert "gogle" in r.output and "amap" in r.output
    assert not (tmp_path / "bad").exists()


def test_summary_xlsx_holds_the_csv_tables(tiny_study, tmp_path):
    out = tmp_path / "o"
    r = _cli("report", tiny_study, "--out", out, "--offline")
    assert r.exit_code == 0, r.output
    sheets = pd.read_excel(out / "summary.xlsx", sheet_name=None)
    assert list(sheets)[:3] == ["About", "summary", "equity"]
    for name in ("summary", "equity", "equity_indices"):
        csv = pd.read_csv(out / f"{name}.csv")
        xl = sheets[name]
        assert list(xl.columns) == list(csv.columns)
        for col in csv.columns:
            if pd.api.types.is_numeric_dtype(csv[col]):
                np.testing.assert_allclose(pd.to_numeric(xl[col], errors="coerce"),
                                           csv[col].to_numpy(float), rtol=1e-9, equal_nan=True)
    about = dict(zip(sheets["About"].iloc[:, 0], sheets["About"].iloc[:, 1], strict=True))
    assert "units" in about and "metres" in about["units"]
