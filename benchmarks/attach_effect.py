"""What attaching people to the street they walk from changes, on a real study.

Runs a study twice: as configured (``[network] attach = "street"``: eligible segments on
parts that lead somewhere) and with ``attach = "nearest"`` (the nearest segment, whatever
it is: what a plain nearest-edge join gives), and prints

* per mode: the people attached to another segment than their nearest, and why;
* per layer: how many people's distance changed, the largest change, who became
  reachable or unreachable;
* per layer and group: coverage and unreachable people with both methods.

    python benchmarks/attach_effect.py examples/zhuhai/study.toml
    python benchmarks/attach_effect.py --osm Helsinki.osm.pbf   # a study of an extract
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from equiserve import Study, load_config
from equiserve.errors import DataQualityWarning
from equiserve.testing import write_osm_study


def load(path: Path, method: str) -> Study:
    cfg = load_config(path)
    assert cfg.network is not None, "the study has no [network]"
    return Study.load(cfg.model_copy(update={
        "network": cfg.network.model_copy(update={"attach": method})}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", nargs="?", type=Path, help="a study.toml with a [network]")
    ap.add_argument("--osm", type=Path, help="an OSM extract: study its streets with 10 m "
                                             "cells of one person, schools and bus stops")
    args = ap.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    path = args.study or write_osm_study(args.osm, Path(tempfile.mkdtemp()) / "study")
    street, nearest = load(path, "street"), load(path, "nearest")
    cs, cn = street.coverage(), nearest.coverage()
    pop = street.population.population
    print(f"{street.config.name}: {pop.sum():,.0f} people in {len(pop):,} cells")
    for mode, snap in street.cell_snaps.items():
        assert snap.moved is not None and snap.shift_m is not None
        moved = snap.moved != ""
        kinds, idx = np.unique(snap.moved[moved], return_inverse=True)
        people = np.bincount(idx, weights=pop[moved], minlength=len(kinds))
        print(f"{mode}: {pop[moved].sum():,.0f} people ({pop[moved].sum() / pop.sum():.2%}) "
              "attached to another segment than their nearest: "
              + ", ".join(f"{k} {p:,.0f}" for k, p in zip(kinds, people, strict=True))
              + (f"; access line longer by up to {snap.shift_m[moved].max():,.0f} m"
                 if moved.any() else ""))
    for name, a in cs.layers.items():
        b = cn.layers[name]
        if a.mode is None:
            continue
        both = np.isfinite(a.distance) & np.isfinite(b.distance)
        with np.errstate(invalid="ignore"):
            change = np.abs(a.distance - b.distance)
        changed = both & (change > 1e-6)
        print(f"{name}: distance changed for {a.weights[changed].sum():,.0f} people "
              f"({a.weights[changed].sum() / a.weights.sum():.2%}), by up to "
              f"{change[both].max() if both.any() else 0:,.0f} {a.unit}; reachable now, "
              f"not by the nearest segment: "
              f"{a.weights[np.isfinite(a.distance) & ~np.isfinite(b.distance)].sum():,.0f}; "
              f"the other way: "
              f"{a.weights[~np.isfinite(a.distance) & np.isfinite(b.distance)].sum():,.0f}")
    keys = ["layer", "level", "name"]
    m = cs.summary.merge(cn.summary, on=keys, suffixes=("", "_nearest"))
    m = m[m["level"].isin(["study", "group"]) & m["distance_method"].ne("straight_line")]
    out = pd.DataFrame({
        "layer": m["layer"], "name": m["name"],
        "coverage_pct": m["coverage_pct"].round(2),
        "coverage_pct_nearest": m["coverage_pct_nearest"].round(2),
        "change_pp": (m["coverage_pct"] - m["coverage_pct_nearest"]).round(2),
        "unreachable": m["unreachable_population"].round(0),
        "unreachable_nearest": m["unreachable_population_nearest"].round(0)})
    print(out.to_string(index=False))


if __name__ == "__main__":
    main()
