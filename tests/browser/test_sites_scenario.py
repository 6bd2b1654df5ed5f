"""The maps and reports of ``equiserve sites`` and ``equiserve scenario`` (tiny study,
offline) as a browser shows them: the features drawn and the figures printed are those
of the CSV files beside them, and nothing goes wrong on the page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from harness import HEIGHT, MAP_JS, OVERLAYS_JS, WIDTH, feature_counts, png_size, run_cli

pytestmark = pytest.mark.slow

#: Two new schools (one by longitude and latitude, one in the working CRS) and a target of 3.
PLAN = ('[scenario]\nname = "Two schools"\n'
        '[[add]]\nlayer = "schools"\nname = "West School"\nlon = 113.112\n'
        'lat = 22.246\ncapacity = 400\n'
        '[[add]]\nlayer = "schools"\nname = "Isle School"\nx = 724300\n'
        'y = 2460300\ncrs = "EPSG:32649"\n'
        '[[target]]\nlabel = "new schools"\nlayer = "schools"\ncount = 3\n')


def test_sites_map_and_report_in_a_browser(open_page, serve, report_out: Path,
                                           tmp_path: Path):
    out = run_cli("sites", report_out.parent / "in" / "study.toml", tmp_path / "sites",
                  "--layer", "schools", "--count", "2", "--spacing", "400")
    gains = pd.read_csv(out / "candidates.csv")
    server = serve(out)
    watched = open_page(server.url("sites_map.html"), wait_for=MAP_JS)
    watched.assert_clean()
    counts = feature_counts(watched.page)
    assert counts["Chosen sites (2, model mclp)"] == 2
    cands = next(v for k, v in counts.items() if k.startswith("Candidates"))
    assert cands == len(gains) - 2
    # a chosen site's popup gives its gain
    popup = watched.page.evaluate(f"""(() => {{
        const o = {OVERLAYS_JS}['Chosen sites (2, model mclp)'];
        const l = o.getLayers()[0];  // the popup is bound to the group: click
        l.fire('click', {{latlng: l.getLatLng()}}, true);
        return [o.eqTable.cols.candidate_id[l.eqIndex],
                document.querySelector('.leaflet-popup-content').textContent]; }})()""")
    row = gains.set_index("candidate_id").loc[popup[0]]
    assert f"{row['new_covered']:,.0f}" in popup[1]
    watched.page.screenshot(path=tmp_path / "sites_map.png")
    assert png_size(tmp_path / "sites_map.png") == (WIDTH, HEIGHT)
    assert watched.problems() == {}

    watched = open_page(server.url("sites_report.html"))
    watched.assert_clean()
    text = watched.page.evaluate("document.getElementById('sites').parentElement.textContent")
    summary = pd.read_csv(out / "sites_summary.csv")
    study = summary[summary["level"] == "study"].iloc[0]
    assert f"{study['coverage_after_pct']:.1f}" in text


def test_scenario_map_and_report_in_a_browser(open_page, serve, tmp_path: Path):
    """The plan's map shows its new facilities and the gaps they close; the report's
    target table holds scenario_targets.csv."""
    from equiserve.testing import write_tiny_study

    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    out = run_cli("scenario", write_tiny_study(tmp_path / "in"), tmp_path / "out",
                  "--plan", str(plan))
    server = serve(out)
    watched = open_page(server.url("scenario_map.html"), wait_for=MAP_JS)
    watched.assert_clean()
    counts = feature_counts(watched.page)
    assert counts["Plan: new schools (2)"] == 2
    assert counts["Plan: gaps closed, schools"] > 0
    watched.page.screenshot(path=tmp_path / "scenario_map.png")
    assert png_size(tmp_path / "scenario_map.png") == (WIDTH, HEIGHT)

    watched = open_page(server.url("scenario_report.html"))
    watched.assert_clean()
    row = watched.page.evaluate("""(() => {
        const h = [...document.querySelectorAll('h3')]
            .find(h => h.textContent.trim() === 'Targets');
        let t = h.nextElementSibling;
        while (t.tagName !== 'TABLE') t = t.nextElementSibling;
        return [...t.rows[1].cells].map(c => c.textContent.trim()); })()""")
    targets = pd.read_csv(out / "scenario_targets.csv").iloc[0]
    assert row[0] == "new schools" and row[4] == f"{targets['placed']:.3g}"
    assert row[-1] == targets["status"] == "short by 1"
