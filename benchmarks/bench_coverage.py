"""Straight-line coverage on the demo city: equiserve vs the GeoPandas idiom peers use.

Runs on the bundled synthetic demo (about 90,000 populated 100 m cells, six layers) and
times, in the same process and on the same input:

* equiserve: ``Study.coverage()`` (one KD-tree query per layer + vectorised summaries);
* GeoPandas: ``sjoin_nearest`` per layer, then a pandas groupby per region (how
  notebooks built on geopandas/momepy/access usually compute nearest-facility coverage);
* the end-to-end demo: generate inputs + ``equiserve report`` (target: < 60 s).

Usage::

    python benchmarks/bench_coverage.py            # prints timings and ratios
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from _timing import timed  # benchmarks/_timing.py

from equiserve import Study, load_config
from equiserve.config import StraightLine
from equiserve.datasets.demo import write_demo_inputs
from equiserve.errors import DataQualityWarning


def geopandas_coverage(study: Study) -> pd.DataFrame:
    pop = study.population
    cells = gpd.GeoDataFrame({"pop": pop.population, "region": pop.region},
                             geometry=gpd.points_from_xy(pop.x, pop.y), crs=study.crs)
    rows = []
    for name, layer in study.layers.items():
        fac = gpd.GeoDataFrame(geometry=gpd.points_from_xy(layer.access_x, layer.access_y),
                               crs=study.crs)
        j = gpd.sjoin_nearest(cells, fac, distance_col="d")
        j = j[~j.index.duplicated()]  # ties give several rows per cell
        w = j["pop"] if layer.serves is None else pop.subgroups[layer.serves][j.index]
        j = j.assign(w=w, cov=w * (j["d"] <= layer.standard.distance_m))
        g = j.groupby("region").agg(pop=("w", "sum"), cov=("cov", "sum"))
        g["layer"] = name
        rows.append(g)
    return pd.concat(rows)


def main() -> None:
    warnings.simplefilter("ignore", DataQualityWarning)
    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    config = write_demo_inputs(tmp / "inputs")
    t_gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    # straight-line standards for every layer (street networks: bench_network.py)
    cfg = load_config(config)
    cfg = cfg.model_copy(update={"network": None, "layers": {
        n: lay.model_copy(update={"standard": StraightLine(
            distance_m=lay.standard.standard_m or 1000.0)})
        for n, lay in cfg.layers.items()}})
    study = Study.load(cfg)
    t_load = time.perf_counter() - t0
    n_fac = sum(len(lay.access_x) for lay in study.layers.values())
    print(f"demo: {len(study.population):,} cells, {len(study.layers)} layers, "
          f"{n_fac:,} access points; generate {t_gen:.2f} s, load {t_load:.2f} s")

    t_eq, result = timed(study.coverage)
    t_gp, gp = timed(lambda: geopandas_coverage(study), repeat=1)

    # same numbers from both
    reg = result.summary[result.summary["level"] == "region"]
    for name in study.layers:
        ours = reg[reg["layer"] == name]["covered_population"].to_numpy()
        theirs = gp[gp["layer"] == name].sort_index()["cov"].to_numpy()
        assert np.allclose(ours, theirs, rtol=1e-9), name
    print(f"coverage of all layers   equiserve {t_eq:7.3f} s   geopandas sjoin_nearest "
          f"{t_gp:7.3f} s   ratio {t_gp / t_eq:6.1f}x  (same covered population per region)")

    out = tmp / "out"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "equiserve", "demo", "--out", str(out)], check=True,
                   capture_output=True)
    t_demo = time.perf_counter() - t0
    print(f"`equiserve demo` end to end (generate + load + coverage + 4 outputs): "
          f"{t_demo:.1f} s (target < 60 s)")


if __name__ == "__main__":
    main()
