"""What each candidate site adds, alone, to the existing facilities of a layer.

For every candidate: the people it would bring within the layer's standard (in total, per
region group and per region), the people it could give a place to (when the layer has
capacities), and how it would move the layer's coverage inequality (Gini and Theil T of
covered yes/no) and the worst region's coverage. All candidates are evaluated at once with
sparse matrix products; no loop per candidate.

For a 0/1 measure with covered share ``s`` the population-weighted Gini is ``1 - s`` and
Theil T is ``-ln s``, so both follow from the new covered share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.analysis.od import network_od, straight_line_od
from equiserve.errors import DataError

if TYPE_CHECKING:
    from equiserve.results.coverage import CoverageResult
    from equiserve.results.equity import EquityResult
    from equiserve.siting.candidates import Candidates
    from equiserve.study import Study


def candidate_costs(study: Study, layer: str, cands: Candidates,
                    cutoff: float | None = None) -> sp.csr_matrix:
    """Cell x candidate costs within ``cutoff`` (default: the layer's standard), in the
    standard's unit (m or min), by straight line or street as the standard says."""
    std = study.layers[layer].standard
    pop = study.population
    n = len(cands)
    if std.mode is None:
        return straight_line_od(pop.xy, cands.xy, np.arange(n), n,
                                std.limit if cutoff is None else cutoff)
    net = study.networks[std.mode]
    ncfg = study.config.network
    assert ncfg is not None
    snap = study.attach_points(std.mode, cands.x, cands.y)
    if not snap.ok.all():
        bad = np.flatnonzero(~snap.ok)
        shown = ", ".join(cands.gdf["candidate_id"].iloc[bad[:5]])
        raise DataError(f"{len(bad)} candidate site(s) from {cands.source} are not within "
                        f"{ncfg.snap_limit_m:g} m of the {std.mode} network over land "
                        f"({shown}); move them next to a street or remove them, or raise "
                        "[network] snap_limit_m")
    limit = (std.limit if cutoff is None else cutoff) * std.search_scale
    od = network_od(net, study.cell_snap(layer), snap, np.arange(n), n, limit, std.weight)
    od.data = od.data / std.search_scale
    return od


def within(od: sp.spmatrix, limit: float) -> sp.csr_matrix:
    """Boolean matrix of the stored pairs (explicit zeros included) with cost <= limit."""
    coo = od.tocoo()
    keep = coo.data <= limit
    return sp.csr_matrix((np.ones(int(keep.sum()), dtype=bool),
                          (coo.row[keep], coo.col[keep])), shape=od.shape)


def _one_hot(labels: np.ndarray, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(labels)), (np.arange(len(labels)), labels)),
                         shape=(len(labels), n))


def marginal_gains(study: Study, result: CoverageResult, layer: str, cands: Candidates,
                   cover: sp.csr_matrix, equity: EquityResult | None = None) -> pd.DataFrame:
    """One row per candidate, ranked by the people it brings within the standard.

    Parameters
    ----------
    cover : scipy.sparse matrix
        Boolean cells x candidates: which cells each candidate would serve within the
        standard (from :func:`within` of :func:`candidate_costs`).
    equity : EquityResult, optional
        Gives the people who have a place now (for ``new_served``).
    """
    cov = result.layers[layer]
    w = cov.weights
    pop = study.population
    reg = study.regions
    groups = reg.group_names
    g_of_r = reg.group_index
    uncovered = np.where(cov.covered, 0.0, w)
    cover = sp.csr_matrix(cover, dtype=float)
    gained = cover.multiply(uncovered[:, None]).tocsc()
    new_total = np.asarray(gained.sum(axis=0)).ravel()
    by_region = (_one_hot(pop.region, len(reg.names)).T @ gained).toarray()  # regions x cands
    by_group = (_one_hot(g_of_r[pop.region], len(groups)).T @ gained).toarray()

    W = w.sum()
    if W <= 0:
        raise DataError(f"layer {layer!r} counts no people (check layers.{layer}.serves and "
                        "the population subgroups): there is nothing for new sites to gain")
    s0 = (w * cov.covered).sum() / W
    s1 = s0 + new_total / W
    pop_r = np.bincount(pop.region, weights=w, minlength=len(reg.names))
    cov_r = np.bincount(pop.region, weights=w * cov.covered, minlength=len(reg.names))
    has = pop_r > 0
    share_after = (cov_r[has, None] + by_region[has]) / pop_r[has, None]
    worst_idx = np.argmin(share_after, axis=0)
    region_names = np.asarray(reg.names)[has]
    worst_before = np.min(cov_r[has] / pop_r[has])

    df = cands.gdf.drop(columns="geometry").copy()
    lonlat = cands.gdf.to_crs(4326).geometry
    df.insert(1, "lon", lonlat.x.round(6).to_numpy())
    df.insert(2, "lat", lonlat.y.round(6).to_numpy())
    df["new_covered"] = new_total
    for k, g in enumerate(groups):
        df[f"new_covered_{g}"] = by_group[k]
    for k, r in enumerate(reg.names):
        df[f"new_covered_region_{r}"] = by_region[k]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["coverage_after_pct"] = 100 * s1
        df["gini_change"] = s0 - s1  # Gini of covered yes/no is 1 - share
        df["theil_change"] = -np.log(s1) - (-np.log(s0) if s0 > 0 else np.inf)
    df["worst_region_after"] = region_names[worst_idx]
    df["worst_region_coverage_after_pct"] = 100 * share_after[worst_idx,
                                                              np.arange(len(cands))]
    df["worst_region_coverage_change_pct"] = df["worst_region_coverage_after_pct"] - (
        100 * worst_before)
    if equity is not None and layer in equity.access:
        no_place = np.maximum(w - equity.access[layer].served, 0.0)
        in_reach = np.asarray(cover.multiply(no_place[:, None]).sum(axis=0)).ravel()
        cap = cands.gdf["capacity"].to_numpy(float)
        df["people_without_place_in_reach"] = in_reach
        df["new_served"] = np.where(np.isfinite(cap), np.minimum(cap, in_reach), np.nan)
    df = df.sort_values(["new_covered", "candidate_id"], ascending=[False, True])
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df.reset_index(drop=True)
