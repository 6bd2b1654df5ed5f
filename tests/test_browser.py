"""Browser tests: the headless-Chromium driver (equiserve.testing.browser) on hand-written
pages, then the report's map.html and report.html as a browser shows them.

Needs Chromium (``.ci/run`` installs it); without one these tests fail on CI and are
skipped elsewhere.
"""

from __future__ import annotations

import math
import os
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from equiserve.testing.browser import (
    Browser,
    BrowserError,
    JavaScriptError,
    Page,
    StaticServer,
    _live_processes,
    find_chromium,
)

pytestmark = pytest.mark.slow

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 1280, 900


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chromium() -> str:
    """The Chromium executable; fails on CI (``$CI`` set) when there is none, else skips."""
    exe = find_chromium()
    if exe is None:
        msg = ("no Chromium found (chromium, chromium-browser, google-chrome on PATH or "
               "$EQUISERVE_CHROMIUM); install it, e.g. apt-get install chromium")
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One headless Chromium for the whole module."""
    with Browser(chromium, width=WIDTH, height=HEIGHT, timeout=30.0) as b:
        yield b


PAGES = {
    "clean.html": "<!doctype html><title>clean</title><p id='p'>hello</p>",
    "console.html": """<!doctype html><script>
        console.log("just a log");
        console.error("boom", 42);
        console.assert(1 === 2, "sums differ");
        console.assert(true, "never shown");
    </script>""",
    "throws.html": """<!doctype html><script>
        window.before = true;
        throw new Error("bad");
    </script><script>window.after = true;</script>""",
    "rejects.html": """<!doctype html><script>
        Promise.reject(new Error("rejected promise"));
    </script>""",
    "dialogs.html": """<!doctype html><script>
        alert(1);
        window.confirmed = confirm("sure?");
        window.after = true;
    </script>""",
    "offline.html": """<!doctype html>
        <script src="https://example.com/x.js" onerror="window.byName='error'"
                onload="window.byName='loaded'"></script>
        <script src="http://192.0.2.1/y.js" onerror="window.byAddress='error'"
                onload="window.byAddress='loaded'"></script>
        <script>window.done = true;</script>""",
    "click.html": """<!doctype html>
        <div style="height: 2000px">tall</div>
        <button id="b" style="width: 120px; height: 40px"
            onclick="this.textContent = 'clicked'; window.trusted = event.isTrusted;
                     window.clicks = (window.clicks || 0) + 1">press</button>
        <div style="position: relative; height: 60px">
          <button id="under" style="position: absolute; top: 0">under</button>
          <div id="lid" style="position: absolute; top: 0; width: 300px; height: 60px;
                                background: #ccc"></div>
        </div>
        <div style="height: 2000px"></div>""",
    "late.html": """<!doctype html><script>
        setTimeout(() => { window.ready = "yes"; }, 300);
    </script>""",
    "colour.html": """<!doctype html><body style="margin: 0; background: #2a7">
        <h1 style="font: 40px sans-serif">equiserve</h1></body>""",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    """The hand-written pages, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    for name, html in PAGES.items():
        (root / name).write_text(html, encoding="utf-8")
    with StaticServer(root) as server:
        yield server


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    return width, height


# --------------------------------------------------------------------------- the driver


def test_static_server_serves_files_and_no_favicon(site: StaticServer):
    assert site.url("clean.html") == f"http://127.0.0.1:{site.port}/clean.html"
    assert site.url("a b/ü.html").endswith("/a%20b/%C3%BC.html")
    with urllib.request.urlopen(site.url("clean.html"), timeout=5) as response:
        assert b"hello" in response.read()
    with urllib.request.urlopen(site.url("favicon.ico"), timeout=5) as response:
        assert response.status == 204


def test_clean_page_records_nothing_wrong(browser: Browser, site: StaticServer):
    with browser.open(site.url("clean.html")) as page:
        assert page.evaluate("document.getElementById('p').textContent") == "hello"
        assert page.console_errors == []
        assert page.dialogs == []
        assert page.failed_requests == []
        assert page.requests[0] == site.url("clean.html")
        assert all(url.startswith(site.url()) for url in page.requests), page.requests


def test_console_errors_and_failed_asserts_are_recorded(browser: Browser, site: StaticServer):
    with browser.open(site.url("console.html")) as page:
        assert "boom 42" in page.console_errors
        assert any("sums differ" in e for e in page.console_errors), page.console_errors
        assert not any("never shown" in e for e in page.console_errors)
        assert not any("just a log" in e for e in page.console_errors)
        assert "log: just a log" in page.console_messages


def test_uncaught_exception_is_recorded(browser: Browser, site: StaticServer):
    with browser.open(site.url("throws.html")) as page:
        assert page.evaluate("window.before === true && window.after === true")
        errors = [e for e in page.console_errors if "Error: bad" in e]
        assert len(errors) == 1, page.console_errors
        assert errors[0].startswith("Uncaught")


def test_unhandled_rejection_is_recorded(browser: Browser, site: StaticServer):
    with browser.open(site.url("rejects.html")) as page:
        page.evaluate("new Promise(r => setTimeout(r, 50))")  # let the rejection report
        assert any("rejected promise" in e for e in page.console_errors), page.console_errors


def test_dialogs_are_recorded_and_dismissed(browser: Browser, site: StaticServer):
    with browser.open(site.url("dialogs.html"), timeout=10) as page:
        assert page.dialogs == ["alert: 1", "confirm: sure?"]
        assert page.evaluate("window.after") is True
        assert page.evaluate("window.confirmed") is False  # dismissed, not accepted
        # a dialog opened by a later call does not block it either
        assert page.evaluate("prompt('name?'); 5") == 5
        assert page.dialogs[-1] == "prompt: name?"


def test_requests_off_the_loopback_are_blocked(browser: Browser, site: StaticServer):
    with browser.open(site.url("offline.html"), wait_for="window.done", timeout=10) as page:
        assert page.evaluate("[window.byName, window.byAddress]") == ["error", "error"]
        for url in ("https://example.com/x.js", "http://192.0.2.1/y.js"):
            assert url in page.requests
            assert any(f.startswith(url + " (net::ERR_") for f in page.failed_requests), \
                page.failed_requests
            assert any(url in e for e in page.console_errors), page.console_errors


def test_evaluate_returns_values_and_raises_js_errors(browser: Browser, site: StaticServer):
    with browser.open(site.url("clean.html")) as page:
        assert page.evaluate("1 + 2") == 3
        assert page.evaluate("0.5 * 3") == 1.5
        assert page.evaluate("'a' + 'b'") == "ab"
        assert page.evaluate("({a: 1, b: [1, 'x', null], c: {d: true}})") == {
            "a": 1, "b": [1, "x", None], "c": {"d": True}}
        assert page.evaluate("undefined") is None
        assert math.isnan(page.evaluate("NaN"))
        assert page.evaluate("-Infinity") == -math.inf
        assert page.evaluate("2n ** 70n") == 2**70
        assert page.evaluate("new Promise(r => setTimeout(() => r(7), 20))") == 7
        with pytest.raises(JavaScriptError, match="Error: nope"):
            page.evaluate("(() => { throw new Error('nope'); })()")
        with pytest.raises(JavaScriptError, match="ReferenceError"):
            page.evaluate("noSuchName + 1")
        with pytest.raises(JavaScriptError, match="refused"):
            page.evaluate("Promise.reject(new Error('refused'))")
        # evaluate's own exceptions are raised, not recorded as page errors
        assert page.console_errors == []


def test_wait_for(browser: Browser, site: StaticServer):
    with browser.open(site.url("late.html"), wait_for="window.ready", timeout=10) as page:
        assert page.evaluate("window.ready") == "yes"
        assert page.wait_for("window.ready + '!'", timeout=1) == "yes!"
        with pytest.raises(BrowserError, match="still not true"):
            page.wait_for("window.never", timeout=0.3)


def test_click_is_a_real_mouse_click(browser: Browser, site: StaticServer):
    with browser.open(site.url("click.html")) as page:
        assert page.evaluate("window.scrollY") == 0
        page.click("#b")
        assert page.evaluate("document.getElementById('b').textContent") == "clicked"
        assert page.evaluate("window.trusted") is True
        assert page.evaluate("window.clicks") == 1
        assert page.evaluate("window.scrollY") > 0  # scrolled into view first
        with pytest.raises(JavaScriptError, match="covered by div#lid"):
            page.click("#under")
        with pytest.raises(JavaScriptError, match="no element matches"):
            page.click("#missing")


def test_screenshot_writes_a_png(browser: Browser, site: StaticServer, tmp_path: Path):
    with browser.open(site.url("colour.html")) as page:
        shot = page.screenshot(tmp_path / "shots" / "colour.png")
        assert shot == tmp_path / "shots" / "colour.png"
        assert _png_size(shot) == (WIDTH, HEIGHT)
        assert shot.stat().st_size > 1000
    with browser.open(site.url("click.html")) as page:
        full = page.screenshot(tmp_path / "full.png", full_page=True)
        width, height = _png_size(full)
        assert height > 4000 and width >= 300


def test_closing_leaves_no_process_or_folder(chromium: str):
    b = Browser(chromium)
    page = b.open("data:text/html,<p>hi</p>")
    assert page.evaluate("document.body.textContent") == "hi"
    pid, folder = b._proc.pid, b._tmp
    assert len(_live_processes(pid, folder)) > 1
    b.close()
    b.close()  # idempotent
    assert not b.alive
    assert _live_processes(pid, folder) == {}
    assert not Path(folder).exists()
    with pytest.raises(BrowserError, match="not running"):
        b.new_page()


def test_a_browser_that_cannot_start_says_why(tmp_path: Path):
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display: no way' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrowserError, match=r"exited with code 3(.|\n)*no way"):
        Browser(str(fake), timeout=10)


# --------------------------------------------------------------------------- the report


#: JavaScript: the folium map object (folium names it ``map_<hex>`` on window).
MAP_JS = ("window[Object.keys(window).find(k => k.startsWith('map_') "
          "&& window[k] instanceof L.Map)]")
#: JavaScript: the overlays folium gave its layer control (``layer_control_<hex>_layers``).
OVERLAYS_JS = ("window[Object.keys(window).find(k => k.startsWith('layer_control_') "
               "&& k.endsWith('_layers'))].overlays")
OVERLAY_INPUTS = ".leaflet-control-layers-overlays input"


@pytest.fixture(scope="module")
def report_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of ``equiserve report --offline`` on the tiny study."""
    from typer.testing import CliRunner

    from equiserve.cli import app
    from equiserve.testing import write_tiny_study

    root = tmp_path_factory.mktemp("e2e")
    study = write_tiny_study(root / "in")
    out = root / "out"
    result = CliRunner().invoke(app, ["report", str(study), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def report_site(report_out: Path) -> Iterator[StaticServer]:
    with StaticServer(report_out) as server:
        yield server


def _assert_local_and_clean(page: Page, server: StaticServer) -> None:
    page.pump(0.2)  # late errors (timers, tiles) get a moment to show
    assert page.console_errors == []
    assert page.dialogs == []
    assert page.failed_requests == []
    assert page.requests, "the page requested nothing, not even itself"
    off = [u for u in page.requests if not (u.startswith(server.url()) or u.startswith("data:"))]
    assert off == [], f"requests off 127.0.0.1: {off}"


def _feature_counts(page: Page) -> dict[str, int]:
    """Features drawn in each overlay of the layer control, by overlay name."""
    return page.evaluate(f"""(() => {{
        const o = {OVERLAYS_JS}, out = {{}};
        for (const n of Object.keys(o)) out[n] = o[n].getLayers().length;
        return out; }})()""")


def _overlay_state(page: Page, i: int) -> dict:
    """Checkbox ``i`` of the layer control: its label, whether it is ticked, whether the
    map has its layer (found among folium's overlays by Leaflet's id of the layer)."""
    return page.evaluate(f"""(() => {{
        const map = {MAP_JS}, overlays = {OVERLAYS_JS};
        const input = document.querySelectorAll({OVERLAY_INPUTS!r})[{i}];
        const name = Object.keys(overlays).find(n => L.stamp(overlays[n]) === input.layerId);
        return {{label: input.parentElement.textContent.trim(), name: name,
                 checked: input.checked, onMap: map.hasLayer(overlays[name])}};
    }})()""")


def test_map_html_in_a_browser(browser: Browser, report_site: StaticServer, tmp_path: Path):
    with browser.open(report_site.url("map.html"), wait_for=MAP_JS, timeout=20) as page:
        _assert_local_and_clean(page, report_site)
        names = page.evaluate(f"Object.keys({OVERLAYS_JS})")
        n_inputs = page.evaluate(f"document.querySelectorAll({OVERLAY_INPUTS!r}).length")
        assert len(names) > 0
        # the control shows every overlay folium gave it, and nothing else
        assert n_inputs == len(names)
        if not page.evaluate("!!document.querySelector('.leaflet-control-layers-expanded')"):
            page.hover(".leaflet-control-layers")  # a collapsed control opens on hover
        for i in range(n_inputs):
            before = _overlay_state(page, i)
            assert before["name"] is not None and before["label"] == before["name"].strip()
            assert before["checked"] == before["onMap"], before
            selector = f".leaflet-control-layers-overlays label:nth-of-type({i + 1}) input"
            page.click(selector)
            after = _overlay_state(page, i)
            assert after["onMap"] == (not before["onMap"]), (before, after)
            assert after["checked"] == after["onMap"]
            page.click(selector)
            assert _overlay_state(page, i) == before
        assert page.console_errors == []
        shot = page.screenshot(tmp_path / "map.png")
        assert _png_size(shot) == (WIDTH, HEIGHT)


def test_report_html_in_a_browser(browser: Browser, report_site: StaticServer,
                                  report_out: Path, tmp_path: Path):
    with browser.open(report_site.url("report.html")) as page:
        _assert_local_and_clean(page, report_site)
        rows = page.evaluate("""(() => {
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
        for r in groups.itertuples():  # every group column of the overview too
            col = header.index(f"{r.name} (%)")
            assert body[r.layer][col] == f"{r.coverage_pct:.1f}", (r.layer, r.name)
        shot = page.screenshot(tmp_path / "report.png", full_page=True)
        assert _png_size(shot)[0] == WIDTH
        assert shot.stat().st_size > 1000


def test_map_overlays_and_features_match_the_study(browser: Browser, report_site: StaticServer,
                                                   report_out: Path):
    """One overlay per region layer, layer gaps, access, service areas and facilities; the
    features drawn equal the facilities in the study and the gap blocks in the cells."""
    import geopandas as gpd
    import numpy as np

    from equiserve.config import load_config

    cfg = load_config(report_out.parent / "in" / "study.toml")
    n_capacity = sum(lay.capacity_field is not None for lay in cfg.layers.values())
    with browser.open(report_site.url("map.html"), wait_for=MAP_JS, timeout=20) as page:
        counts = _feature_counts(page)
        assert len(counts) == 1 + 3 * len(cfg.layers) + n_capacity
        facilities = gpd.read_file(report_out / "coverage.gpkg", layer="facilities")
        cells = gpd.read_file(report_out / "coverage.gpkg", layer="cells")
        for name in cfg.layers:
            assert counts[f"{name} ({(facilities['layer'] == name).sum():,})"] == (
                facilities["layer"] == name).sum()
            counted = cells[cfg.layers[name].serves or "population"]
            gap = cells[~cells[f"covered_{name}"].astype(bool) & (counted > 0)]
            c = gap.geometry.centroid
            blocks = {(int(np.floor(x / 1000)), int(np.floor(y / 1000)))
                      for x, y in zip(c.x, c.y, strict=True)}
            gaps = [n for n in counts if n.startswith(f"Gaps: {name} ")]
            assert len(gaps) == 1 and counts[gaps[0]] == len(blocks) > 0
        legend = page.evaluate("document.getElementById('eq-legend').textContent")
        assert "unserved people per 1 km block" in legend and "per 1,000 people" in legend


EVIL = "<img src=x onerror=alert(1)>"
EVIL_SUB = "kids<img src=y onerror=alert(2)>"  # a subgroup name: reaches tooltip labels


@pytest.fixture(scope="module")
def evil_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny study with a school and a region named like an HTML injection."""
    import geopandas as gpd
    from typer.testing import CliRunner

    from equiserve.cli import app
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
    out = root / "out"
    result = CliRunner().invoke(app, ["report", str(study), "--out", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    return out


def test_injected_names_show_as_text_and_run_nothing(browser: Browser, evil_out: Path,
                                                     tmp_path: Path):
    with StaticServer(evil_out) as server:
        with browser.open(server.url("map.html"), wait_for=MAP_JS, timeout=20) as page:
            shown = page.evaluate(f"""(() => {{
                const o = {OVERLAYS_JS}, texts = [];
                for (const n of Object.keys(o)) o[n].eachLayer(l => {{
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
            page.pump(0.3)
            assert len(shown) >= 2  # the school and the region
            assert all(EVIL in t for t in shown), shown
            # hover a gap block of schools, whose tooltip label names the subgroup
            label = page.evaluate(f"""(() => {{
                const o = {OVERLAYS_JS}, name = Object.keys(o).find(
                    n => n.startsWith('Gaps: schools'));
                const l = o[name].getLayers()[0], at = l.getBounds().getCenter();
                l.fire('mouseover', {{latlng: at}}, true);
                return document.querySelector('.leaflet-tooltip').textContent; }})()""")
            assert EVIL_SUB in label
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"], img[src=\"y\"]')"
                                 ".length") == 0
            assert page.dialogs == [] and page.console_errors == []
            page.screenshot(tmp_path / "evil_map.png")
        with browser.open(server.url("report.html")) as page:
            page.pump(0.3)
            text = page.evaluate("document.body.textContent")
            assert text.count(EVIL) >= 2  # region tables and the data-quality note
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
            assert page.dialogs == [] and page.console_errors == []


def test_sites_map_and_report_in_a_browser(browser: Browser, report_out: Path, tmp_path: Path):
    from typer.testing import CliRunner

    from equiserve.cli import app

    out = tmp_path / "sites"
    r = CliRunner().invoke(app, ["sites", str(report_out.parent / "in" / "study.toml"),
                                 "--layer", "schools", "--count", "2", "--spacing", "400",
                                 "--out", str(out), "--offline"])
    assert r.exit_code == 0, r.output
    gains = pd.read_csv(out / "candidates.csv")
    with StaticServer(out) as server:
        with browser.open(server.url("sites_map.html"), wait_for=MAP_JS, timeout=20) as page:
            _assert_local_and_clean(page, server)
            counts = _feature_counts(page)
            assert counts["Chosen sites (2, model mclp)"] == 2
            cands = next(v for k, v in counts.items() if k.startswith("Candidates"))
            assert cands == len(gains) - 2
            # a chosen site's popup gives its gain
            popup = page.evaluate(f"""(() => {{
                const o = {OVERLAYS_JS}['Chosen sites (2, model mclp)'];
                const l = o.getLayers()[0];  // the popup is bound to the group: click
                l.fire('click', {{latlng: l.getLatLng()}}, true);
                return [l.feature.properties.candidate_id,
                        document.querySelector('.leaflet-popup-content').textContent]; }})()""")
            row = gains.set_index("candidate_id").loc[popup[0]]
            assert f"{row['new_covered']:,.0f}" in popup[1]
            page.screenshot(tmp_path / "sites_map.png")
        with browser.open(server.url("sites_report.html")) as page:
            _assert_local_and_clean(page, server)
            text = page.evaluate("document.getElementById('sites').parentElement.textContent")
            summary = pd.read_csv(out / "sites_summary.csv")
            study = summary[summary["level"] == "study"].iloc[0]
            assert f"{study['coverage_after_pct']:.1f}" in text


def test_scenario_map_and_report_in_a_browser(browser: Browser, tmp_path: Path):
    """The plan's map shows its new facilities and the gaps they close; the report's
    target table holds scenario_targets.csv."""
    from typer.testing import CliRunner

    from equiserve.cli import app
    from equiserve.testing import write_tiny_study

    cfg = write_tiny_study(tmp_path / "in")
    plan = tmp_path / "plan.toml"
    plan.write_text('[scenario]\nname = "Two schools"\n'
                    '[[add]]\nlayer = "schools"\nname = "West School"\nlon = 113.112\n'
                    'lat = 22.246\ncapacity = 400\n'
                    '[[add]]\nlayer = "schools"\nname = "Isle School"\nx = 724300\n'
                    'y = 2460300\ncrs = "EPSG:32649"\n'
                    '[[target]]\nlabel = "new schools"\nlayer = "schools"\ncount = 3\n',
                    encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["scenario", str(cfg), "--plan", str(plan), "--out", str(out),
                                 "--offline"])
    assert r.exit_code == 0, r.output
    with StaticServer(out) as server:
        with browser.open(server.url("scenario_map.html"), wait_for=MAP_JS, timeout=20) as page:
            _assert_local_and_clean(page, server)
            counts = _feature_counts(page)
            assert counts["Plan: new schools (2)"] == 2
            assert counts["Plan: gaps closed, schools"] > 0
            page.screenshot(tmp_path / "scenario_map.png")
        with browser.open(server.url("scenario_report.html")) as page:
            _assert_local_and_clean(page, server)
            row = page.evaluate("""(() => {
                const h = [...document.querySelectorAll('h3')]
                    .find(h => h.textContent.trim() === 'Targets');
                let t = h.nextElementSibling;
                while (t.tagName !== 'TABLE') t = t.nextElementSibling;
                return [...t.rows[1].cells].map(c => c.textContent.trim()); })()""")
            targets = pd.read_csv(out / "scenario_targets.csv").iloc[0]
            assert row[0] == "new schools" and row[4] == f"{targets['placed']:.3g}"
            assert row[-1] == targets["status"] == "short by 1"
