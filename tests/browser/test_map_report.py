"""map.html and report.html of ``equiserve report --offline`` on the tiny study, as a
browser shows them: overlays that toggle, features that match the study, report figures
equal to summary.csv, injected names shown as text, and nothing wrong on the page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from harness import (
    HEIGHT,
    MAP_JS,
    OVERLAYS_JS,
    WIDTH,
    feature_counts,
    feature_values,
    hover_feature,
    png_size,
    run_cli,
)

pytestmark = pytest.mark.slow

OVERLAY_INPUTS = ".leaflet-control-layers-overlays input"


def _overlay_state(page, i: int) -> dict:
    """Checkbox ``i`` of the layer control: its label, whether it is ticked, whether the
    map has its layer (found among folium's overlays by Leaflet's id of the layer)."""
    return page.evaluate(f"""(() => {{
        const map = {MAP_JS}, overlays = {OVERLAYS_JS};
        const input = document.querySelectorAll({OVERLAY_INPUTS!r})[{i}];
        const name = Object.keys(overlays).find(n => L.stamp(overlays[n]) === input.layerId);
        return {{label: input.parentElement.textContent.trim(), name: name,
                 checked: input.checked, onMap: map.hasLayer(overlays[name])}};
    }})()""")


def test_map_html_in_a_browser(open_page, serve, report_out: Path, tmp_path: Path):
    watched = open_page(serve(report_out).url("map.html"), wait_for=MAP_JS)
    watched.assert_clean()
    page = watched.page
    names = page.evaluate(f"Object.keys({OVERLAYS_JS})")
    n_inputs = page.locator(OVERLAY_INPUTS).count()
    assert len(names) > 0
    # the control shows every overlay folium gave it, and nothing else
    assert n_inputs == len(names)
    if page.locator(".leaflet-control-layers-expanded").count() == 0:
        page.hover(".leaflet-control-layers")  # a collapsed control opens on hover
    for i in range(n_inputs):
        before = _overlay_state(page, i)
        assert before["name"] is not None and before["label"] == before["name"].strip()
        assert before["checked"] == before["onMap"], before
        checkbox = page.locator(OVERLAY_INPUTS).nth(i)
        checkbox.click()  # a real mouse click, on the box where it shows
        after = _overlay_state(page, i)
        assert after["onMap"] == (not before["onMap"]), (before, after)
        assert after["checked"] == after["onMap"]
        checkbox.click()
        assert _overlay_state(page, i) == before
    assert watched.problems() == {}
    page.screenshot(path=tmp_path / "map.png")
    assert png_size(tmp_path / "map.png") == (WIDTH, HEIGHT)


def test_report_html_in_a_browser(open_page, serve, report_out: Path, tmp_path: Path):
    watched = open_page(serve(report_out).url("report.html"))
    watched.assert_clean()
    rows = watched.page.evaluate("""(() => {
        const h2 = [...document.querySelectorAll('h2')]
            .find(h => h.textContent.trim().startsWith('Coverage overview'));
        if (!h2) return null;
        let table = h2.nextElementSibling;
        while (table && table.tagName !== 'TABLE') table = table.nextElementSibling;
        return [...table.rows].map(r => [...r.cells].map(c => c.textContent.trim()));
    })()""")
    assert rows, "no coverage overview table after a 'Coverage overview' heading"
    header, body = rows[0], {row[0]: row for row in rows[1:]}
    study_col = next(i for i, h in enumerate(header) if h.startswith("Study"))
    summary = pd.read_csv(report_out / "summary.csv")
    study = summary[summary["level"] == "study"]
    assert len(study) > 0
    for layer, pct in zip(study["layer"], study["coverage_pct"], strict=True):
        assert layer in body, f"layer {layer} missing from the overview: {list(body)}"
        assert body[layer][study_col] == f"{pct:.1f}", (layer, body[layer])
    groups = summary[summary["level"] == "group"]
    assert len(groups) > 0
    for r in groups.itertuples():  # every group column of the overview too
        col = header.index(f"{r.name} (%)")
        assert body[r.layer][col] == f"{r.coverage_pct:.1f}", (r.layer, r.name)
    watched.page.screenshot(path=tmp_path / "report.png", full_page=True)
    width, height = png_size(tmp_path / "report.png")
    assert width == WIDTH and height > HEIGHT  # the whole page, longer than the window


def test_map_overlays_and_features_match_the_study(open_page, serve, report_out: Path):
    """One overlay per region layer, layer gaps, access, service areas and facilities; the
    features drawn equal the facilities in the study and the gap blocks in the cells, and
    hovering the block with the most unserved people shows their number (summed here from
    coverage.gpkg's cells)."""
    import geopandas as gpd
    import numpy as np

    from equiserve.config import load_config

    cfg = load_config(report_out.parent / "in" / "study.toml")
    n_capacity = sum(lay.capacity_field is not None for lay in cfg.layers.values())
    watched = open_page(serve(report_out).url("map.html"), wait_for=MAP_JS)
    counts = feature_counts(watched.page)
    assert len(counts) == 1 + 3 * len(cfg.layers) + n_capacity
    facilities = gpd.read_file(report_out / "coverage.gpkg", layer="facilities")
    cells = gpd.read_file(report_out / "coverage.gpkg", layer="cells")
    for name in cfg.layers:
        n_facilities = (facilities["layer"] == name).sum()
        assert counts[f"{name} ({n_facilities:,})"] == n_facilities
        counted = cells[cfg.layers[name].serves or "population"]
        gap = cells[~cells[f"covered_{name}"].astype(bool) & (counted > 0)]
        c = gap.geometry.centroid
        keys = pd.Series(counted[gap.index].to_numpy()).groupby(
            [np.floor(c.x.to_numpy() / 1000).astype(int),
             np.floor(c.y.to_numpy() / 1000).astype(int)]).sum()  # sorted as the map's
        gaps = [n for n in counts if n.startswith(f"Gaps: {name} ")]
        assert len(gaps) == 1 and counts[gaps[0]] == len(keys) > 0
        k = int(np.argmax(keys.to_numpy()))
        tip = hover_feature(watched.page, gaps[0], k)
        serves = cfg.layers[name].serves or "all"
        assert f"Beyond the standard: {serves} (people){keys.iloc[k]:,.0f}" in tip, tip
        assert f"Layer{name}" in tip
    legend = watched.page.text_content("#eq-legend")
    assert "unserved people per 1 km block" in legend and "per 1,000 people" in legend
    watched.assert_clean()


EVIL = "<img src=x onerror=alert(1)>"
EVIL_SUB = "kids<img src=y onerror=alert(2)>"  # a subgroup name: reaches tooltip labels
#: JavaScript: how many images the injected names would have made.
EVIL_IMAGES_JS = "document.querySelectorAll('img[src=\"x\"], img[src=\"y\"]').length"


@pytest.fixture(scope="module")
def evil_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study with a school, a subgroup and a region named like an HTML
    injection."""
    import geopandas as gpd

    from equiserve.testing import write_tiny_study

    root = tmp_path_factory.mktemp("evil")
    study = write_tiny_study(root / "in")
    schools = pd.read_csv(root / "in" / "schools.csv")
    schools.loc[schools["name"] == "Farms Primary", "name"] = EVIL  # also named in a note
    schools.to_csv(root / "in" / "schools.csv", index=False)
    text = study.read_text(encoding="utf-8").replace("children_6_11", f'"{EVIL_SUB}"', 1)
    study.write_text(text.replace('serves = "children_6_11"', f"serves = '{EVIL_SUB}'"),
                     encoding="utf-8")
    regions = gpd.read_file(root / "in" / "regions.geojson")
    regions.loc[0, regions.columns[0]] = EVIL + " region"
    regions.to_file(root / "in" / "regions.geojson", driver="GeoJSON")
    return run_cli("report", study, root / "out")


def test_injected_names_show_as_text_and_run_nothing(open_page, serve, evil_out: Path,
                                                     tmp_path: Path):
    server = serve(evil_out)
    watched = open_page(server.url("map.html"), wait_for=MAP_JS)
    page = watched.page
    # the region: a folium GeoJSON feature
    shown = page.evaluate(f"""(() => {{
        const o = {OVERLAYS_JS}, texts = [];
        for (const n of Object.keys(o)) if (o[n].eachLayer && o[n].eqCount === undefined)
            o[n].eachLayer(l => {{
            if (l.feature && JSON.stringify(l.feature.properties).includes('img src')) {{
                if (!{MAP_JS}.hasLayer(o[n])) {MAP_JS}.addLayer(o[n]);
                // folium binds the tooltip to the GeoJSON group: hover the feature
                const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
                l.fire('mouseover', {{latlng: at}}, true);
                const tip = document.querySelector('.leaflet-tooltip');
                texts.push(tip ? tip.textContent : null);
                l.fire('mouseout', {{latlng: at}}, true);
            }}
        }});
        return texts; }})()""")
    watched.settle(300)
    assert len(shown) == 1 and EVIL in shown[0], shown
    # the school: a canvas symbol of a compact layer, hovered with the mouse
    layer = next(n for n in feature_counts(page) if n.startswith("schools ("))
    k = feature_values(page, layer, "name").index("&lt;img src=x onerror=alert(1)&gt;")
    assert EVIL in hover_feature(page, layer, k)
    # a gap block of schools, whose tooltip label names the subgroup
    gaps = next(n for n in feature_counts(page) if n.startswith("Gaps: schools"))
    assert EVIL_SUB in hover_feature(page, gaps, 0)
    assert page.evaluate(EVIL_IMAGES_JS) == 0
    watched.assert_clean()  # no alert() ran: no dialog, no error
    page.screenshot(path=tmp_path / "evil_map.png")
    assert png_size(tmp_path / "evil_map.png") == (WIDTH, HEIGHT)

    watched = open_page(server.url("report.html"))
    watched.settle(300)
    assert watched.page.text_content("body").count(EVIL) >= 2  # region tables, the note
    assert watched.page.evaluate(EVIL_IMAGES_JS) == 0
    watched.assert_clean()
