"""The self-contained HTML coverage report (tables and inline SVG charts, no external files)."""

from __future__ import annotations

import datetime as _dt
import math
from html import escape
from typing import TYPE_CHECKING

import jinja2
import numpy as np
import pandas as pd

from equiserve.analysis.inequality import lorenz_curve
from equiserve.outputs.maps.style import GROUP_COLOURS, group_colours
from equiserve.outputs.report.charts import distance_cdf_svg, lorenz_svg

if TYPE_CHECKING:
    from equiserve.scenario.run import ScenarioResult
    from equiserve.scorecard import EquityResult
    from equiserve.siting.plan import SitesPlan
    from equiserve.study import CoverageResult, Study

#: Coverage below this share (%) is highlighted in the report.
LOW_PCT = 50.0

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("equiserve.outputs.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def fmt_people(v: float | None) -> str:
    """People as a whole number with thousands separators."""
    return "–" if _missing(v) else f"{v:,.0f}"


def fmt_pct(v: float | None) -> str:
    """A percentage with one decimal."""
    return "–" if _missing(v) else f"{v:.1f}"


def fmt_m(v: float | None) -> str:
    """A distance in whole metres ('unreachable' for infinity)."""
    if _missing(v):
        return "–"
    return "unreachable" if math.isinf(v) else f"{v:,.0f}"


def fmt_min(v: float | None) -> str:
    """A travel time in minutes with one decimal ('unreachable' for infinity)."""
    if _missing(v):
        return "–"
    return "unreachable" if math.isinf(v) else f"{v:,.1f}"


def fmt_num(v: float | None) -> str:
    """A figure with three significant digits, without exponent (1,920 / 63.2 / 1.19)."""
    if _missing(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def fmt_ratio(v: float | None) -> str:
    """A ratio with two decimals."""
    return "–" if _missing(v) or math.isinf(v) else f"{v:.2f}"


def fmt_index(v: float | None) -> str:
    """An inequality index with three decimals (never "-0.000")."""
    return "–" if _missing(v) else f"{0.0 if abs(v) < 5e-4 else v:.3f}"


MEASURE_TEXT = {"distance": "distance or time to the nearest",
                "covered": "within the standard (1) or not (0)",
                "access": "catchment access (places per person)"}


METHOD_TEXT = {
    "straight_line": "straight-line distance from each cell centre to the nearest facility",
    "network_walk": "walking along the street network, from each cell's nearest street",
    "network_drive": "driving along the street network, from each cell's nearest street",
}


def bar_chart_svg(labels: list[str], values: list[float], unit: str = "%",
                  vmax: float = 100.0, colours: list[str] | None = None) -> str:
    """A horizontal bar chart as inline SVG; labels are escaped."""
    bar_h, gap, left, width = 22, 6, 130, 360
    height = len(labels) * (bar_h + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" '
             f'height="{height}" role="img">']
    for i, (lab, val) in enumerate(zip(labels, values, strict=True)):
        y = gap + i * (bar_h + gap)
        w = 0 if _missing(val) else max(0.0, min(val, vmax)) / vmax * width
        colour = colours[i] if colours else GROUP_COLOURS[i % len(GROUP_COLOURS)]
        parts.append(
            f'<text x="{left - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" '
            f'font-size="12">{escape(str(lab))}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12">'
            f'{fmt_pct(val)} {escape(unit)}</text>')
    parts.append(f'<line x1="{left}" y1="0" x2="{left}" y2="{height}" stroke="#333"/></svg>')
    return "".join(parts)


def _reading(rows: pd.DataFrame, basis: str, standard: str) -> str:
    """One plain-language sentence comparing the best and worst served groups."""
    groups = rows[(rows["level"] == "group") & (rows["population"] > 0)]
    if len(groups) < 2:
        return ""
    best = groups.loc[groups["coverage_pct"].idxmax()]
    worst = groups.loc[groups["coverage_pct"].idxmin()]
    name = str(worst["name"])
    return (f"{name[:1].upper() + name[1:]} is worst served: {worst['coverage_pct']:.1f} % "
            f"of its {basis} live within {standard}, against {best['coverage_pct']:.1f} % in "
            f"{best['name']}; "
            f"{worst['unserved_population']:,.0f} people in {worst['name']} are beyond it.")


def _distance_text(study: Study, result: CoverageResult) -> str:
    methods = {cov.method for cov in result.layers.values()}
    parts = []
    if "straight_line" in methods:
        parts.append("straight lines for layers with a distance standard and no mode")
    nets = [m for m in methods if m.startswith("network_")]
    if nets:
        src = study.config.network.source.name if study.config.network else "the network"
        parts.append(f"the street network ({src}; {', '.join(m[8:] for m in sorted(nets))}) "
                     "for layers whose standard names a mode, with the walk from each cell "
                     "and facility to its nearest street added")
    return "; ".join(parts)


def _scorecard_context(study: Study, result: CoverageResult, eq: EquityResult) -> dict:
    card = eq.scorecard
    groups = study.regions.group_names
    layers = []
    for name, layer in study.layers.items():
        cov = result.layers[name]
        rows = card[(card["layer"] == name) & (card["level"] != "study")].to_dict("records")
        study_row = card[(card["layer"] == name) & (card["level"] == "study")].to_dict("records")
        rows = study_row + rows
        for r in rows:
            score = r.get("access_score")
            r["access_per_1000"] = np.nan if score is None else score * 1000
        ind = eq.indices[eq.indices["layer"] == name]
        indices = []
        for m in ("distance", "covered", "access"):
            vals = ind[ind["measure"] == m].set_index("index")["value"]
            if vals.empty:
                continue
            d = vals.to_dict()
            mean = d.get("mean")
            if m == "access":
                mean_txt = f"{fmt_num(mean * 1000 if not _missing(mean) else mean)} per 1,000"
            elif m == "covered":
                mean_txt = f"{fmt_pct(100 * mean if not _missing(mean) else mean)} %"
            else:
                mean_txt = f"{(fmt_m if cov.unit == 'm' else fmt_min)(mean)} {cov.unit}"
            indices.append({**d, "label": MEASURE_TEXT[m], "mean": mean_txt})
        norm = study.config.layers[name].norm_per_1000
        if name in eq.access:
            lorenz, skipped = _lorenz_chart(study, cov, eq.access[name].score, groups,
                                            "catchment access")
        else:
            lorenz, skipped = _lorenz_chart(
                study, cov, cov.distance, groups,
                f"distance ({cov.unit})" if cov.unit == "m" else f"travel time ({cov.unit})")
        layers.append({
            "lorenz": lorenz, "lorenz_skipped": skipped,
            "layer": name, "standard": layer.standard.describe(),
            "basis": layer.serves or "total population", "reading": eq.readings.get(name, ""),
            "rows": rows, "indices": indices, "capacity": name in eq.access,
            "norm": f"{norm:g}" if norm else None, "unit": cov.unit,
            "figure": "distance" if cov.unit == "m" else "travel time",
            "fmt": fmt_m if cov.unit == "m" else fmt_min,
            "theil": True, "measure": "access" if name in eq.access else "coverage",
        })
    lc = study.config.life_circle
    life_rows = card[card["layer"] == "life_circle"].to_dict("records")
    methods = sorted({a.method.upper() for a in eq.access.values()})
    return {"layers": layers, "life_rows": life_rows, "methods": ", ".join(methods),
            "life_label": lc.name if lc else "life circle",
            "life_layers": ", ".join(lc.layers) if lc else ", ".join(study.layers)}


def _group_masks(study: Study, groups: list[str]) -> list[tuple[str, str, np.ndarray]]:
    """(group, its colour, its cells) for each group."""
    cell_group = study.regions.groups[study.population.region]
    return [(g, colour, cell_group == g) for g, colour in group_colours(groups).items()]


def _distance_chart(study: Study, cov, groups: list[str], limit: float) -> str:
    """Cumulative share of people within each distance (or time), one curve per group."""
    series = [(g, colour, cov.distance[m], cov.weights[m])
              for g, colour, m in _group_masks(study, groups)]
    series.append(("study", "#222222", cov.distance, cov.weights))
    return distance_cdf_svg(series, unit=cov.unit, limit=limit)


def lorenz_gini(p: np.ndarray, share: np.ndarray) -> float:
    """Gini of a Lorenz curve given by its vertices: 1 - 2 x the area under it (exact for
    the piecewise-linear curve).

    >>> round(lorenz_gini(np.array([0, .5, 1]), np.array([0, .25, 1])), 3)
    0.25
    """
    return float(1.0 - np.sum((p[1:] - p[:-1]) * (share[1:] + share[:-1])))


def _lorenz_chart(study: Study, cov, x: np.ndarray, groups: list[str], measure: str
                  ) -> tuple[str, list[str]]:
    """Lorenz curves of ``x`` for the study and each group (the Gini in the labels), and
    the groups left out because they have none of the measure (no Lorenz curve exists)."""
    curves, skipped = [], []
    for g, colour, m in [("study", "#222222", np.ones(len(x), bool)),
                         *_group_masks(study, groups)]:
        keep = m & np.isfinite(x) & (cov.weights > 0)
        if not keep.any() or x[keep].sum() <= 0:
            skipped.append(g)
            continue
        p, share = lorenz_curve(x[keep], cov.weights[keep])
        curves.append((f"{g} (Gini {lorenz_gini(p, share):.3f})", colour, p, share))
    return (lorenz_svg(curves, measure=measure) if curves else ""), skipped


def before_after_chart(study: Study, levels, names, before, after,
                       labels: tuple[str, str] = ("before", "after")) -> str:
    """Paired bars (grey = before, group colour = after) of coverage % per study/group."""
    colour_of = group_colours(study.regions.group_names)
    names, levels = list(names), list(levels)
    return bar_chart_svg(
        [f"{n} {when}" for n in names for when in labels],
        [v for b, a in zip(before, after, strict=True) for v in (b, a)],
        colours=[c for lv, n in zip(levels, names, strict=True)
                 for c in ("#bbbbbb", "#222222" if lv == "study" else colour_of.get(n, "#222"))])


def _scenario_context(res: ScenarioResult) -> dict:
    """Targets, before/after coverage per layer, equity changes and the list of changes."""
    comp = res.comparison
    study = res.plan
    layers = []
    for name, layer in study.layers.items():
        s = comp[(comp["table"] == "summary") & (comp["layer"] == name)]
        wide = s.pivot_table(index=["level", "name"], columns="figure",
                             values=["baseline", "plan", "change"], sort=False)
        rows = []
        for (level, nm), r in wide.iterrows():
            rows.append({"level": level, "name": nm,
                         **{f"{k}_{f}": r.get((k, f), np.nan)
                            for k in ("baseline", "plan", "change")
                            for f in ("coverage_pct", "unserved_population", "facilities",
                                      "population")}})
        grp = [r for r in rows if r["level"] in ("study", "group")]
        main = "access" if name in res.plan_equity.access else "covered"
        ind = comp[(comp["table"] == "indices") & (comp["layer"] == name)
                   & (comp["level"] == main) & comp["name"].isin(["gini", "theil"])]
        layers.append({
            "layer": name, "standard": layer.standard.describe(),
            "basis": layer.serves or "total population",
            "changed": name in res.changed_layers, "rows": rows,
            "measure": MEASURE_TEXT[main], "indices": ind.to_dict("records"),
            "chart": before_after_chart(study, [r["level"] for r in grp],
                                        [r["name"] for r in grp],
                                        [r["baseline_coverage_pct"] for r in grp],
                                        [r["plan_coverage_pct"] for r in grp],
                                        ("baseline", "plan")),
        })
    def records(frame: pd.DataFrame) -> list[dict]:
        return frame.astype(object).where(frame.notna(), None).to_dict("records")

    return {"name": res.scenario.name, "description": res.scenario.description,
            "targets": records(res.targets),
            "layers": layers, "changes": records(res.changes),
            "counts": res.changes.groupby(["action", "status"]).size().to_dict()}


def _sites_context(study: Study, plan: SitesPlan) -> dict:
    from equiserve.siting.plan import OBJECTIVE_TEXT, solution_frame

    sol = solution_frame(plan).iloc[0].to_dict()
    layer = study.layers[plan.layer]
    gains = plan.gains.sort_values("rank")
    chosen = gains[gains["selected"]]
    summary = plan.summary
    grp = summary[summary["level"].isin(["study", "group"])]
    return {
        "layer": plan.layer, "model": plan.model, "solution": sol,
        "objective_text": OBJECTIVE_TEXT[plan.model],
        "standard": layer.standard.describe(), "basis": layer.serves or "total population",
        "rows": summary.to_dict("records"), "chosen": chosen.to_dict("records"),
        "top": gains.head(10).to_dict("records"),
        "chart": before_after_chart(study, grp["level"], grp["name"],
                                    grp["coverage_before_pct"], grp["coverage_after_pct"]),
    }


def render_report(study: Study, result: CoverageResult, equity: EquityResult | None = None,
                  plan: SitesPlan | None = None, map_file: str | None = "map.html",
                  scenario: ScenarioResult | None = None,
                  files: tuple[str, ...] = ("summary.csv", "summary.xlsx", "coverage.gpkg")
                  ) -> str:
    """The report as one HTML string.

    With ``equity`` the scorecard and Lorenz curves; with ``plan`` (from
    :func:`equiserve.siting.plan.plan_sites`) a section on the new sites; with
    ``scenario`` (pass its plan study and results as ``study``, ``result``, ``equity``) a
    first section comparing baseline and plan, with target tracking; ``map_file`` is the
    map beside the report, embedded in a frame and linked (None: neither); ``files`` the
    tables written beside it, linked from the overview.
    """
    from equiserve import __version__

    s = result.summary
    groups = study.regions.group_names
    overview, sections = [], []
    for name, layer in study.layers.items():
        rows = s[s["layer"] == name]
        basis = layer.serves or "total population"
        std = layer.standard.describe()
        grp = rows[rows["level"] == "group"].set_index("name")["coverage_pct"]
        overview.append({
            "layer": name, "standard": std, "basis": basis,
            "study": float(rows.loc[rows["level"] == "study", "coverage_pct"].iloc[0]),
            "by_group": {g: (float(grp[g]) if g in grp and not _missing(grp[g]) else None)
                         for g in groups},
        })
        cov = result.layers[name]
        stem = "distance_m" if cov.unit == "m" else "time_min"
        sections.append({
            "layer": name, "kind": layer.kind, "standard": std, "basis": basis,
            "method": METHOD_TEXT.get(cov.method, cov.method), "unit": cov.unit,
            "figure": "distance" if cov.unit == "m" else "travel time",
            "fmt": fmt_m if cov.unit == "m" else fmt_min, "stem_mean": f"mean_{stem}",
            "stem_median": f"median_{stem}", "stem_p90": f"p90_{stem}",
            "n_facilities": len(layer), "reading": _reading(rows, basis, std),
            "chart": bar_chart_svg(groups, [grp.get(g, float("nan")) for g in groups]),
            "dist_chart": _distance_chart(study, cov, groups, layer.standard.limit),
            "rows": rows.to_dict("records"),
        })
    pop = study.population
    cell_text = (f"{pop.kind} cells of {math.sqrt(pop.cell_area_m2):g} m" if pop.cell_area_m2
                 else f"{pop.kind} features")
    template = _ENV.get_template("report.html.j2")
    return template.render(
        study_name=study.config.name, version=__version__, synthetic=study.config.synthetic,
        description=study.config.description,
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        crs=study.crs.to_string(), n_regions=len(study.regions.gdf), groups=groups,
        population_total=pop.total, population_kind=f"from a {pop.kind} source",
        n_cells=len(pop), cell_text=cell_text, outside=pop.outside_population,
        distance_text=_distance_text(study, result),
        overview=overview, layers=sections, notes=list(study.notes), low_pct=LOW_PCT,
        fmt_people=fmt_people, fmt_pct=fmt_pct, fmt_m=fmt_m, fmt_num=fmt_num,
        fmt_ratio=fmt_ratio, fmt_index=fmt_index,
        scorecard=_scorecard_context(study, result, equity) if equity is not None else None,
        sites=_sites_context(study, plan) if plan is not None else None, map_file=map_file,
        scenario=_scenario_context(scenario) if scenario is not None else None,
        files=files,
    )
