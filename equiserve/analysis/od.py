"""Bounded cell x facility cost matrices (scipy.sparse), by straight line or by street.

Each facility may have several access points (entrances): a cell's cost to a facility is
its cost to the nearest of them. Only pairs within ``cutoff`` are stored, and a pair at
cost 0 (a facility inside the cell) is stored as an explicit zero: callers must read the
stored entries (``.tocoo()``), never treat missing entries as 0.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from equiserve.network.attach import Snapped
from equiserve.network.graph import Network, Weight, _min_coo_to_csr


def straight_line_od(cells_xy: np.ndarray, access_xy: np.ndarray, owner: np.ndarray,
                     n_facilities: int, cutoff: float) -> sp.csr_matrix:
    """Straight-line distances (m) from cells to facilities within ``cutoff``.

    Examples
    --------
    >>> od = straight_line_od(np.array([[0.0, 0.0], [5.0, 0.0]]),
    ...                       np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([0, 1]), 2, 10.0)
    >>> od.nnz, od[0, 0], od[1, 0]
    (2, np.float64(0.0), np.float64(5.0))
    """
    cells_xy = np.asarray(cells_xy, dtype=float).reshape(-1, 2)
    access_xy = np.asarray(access_xy, dtype=float).reshape(-1, 2)
    owner = np.asarray(owner, dtype=np.int64)
    if not len(cells_xy) or not len(access_xy):
        return sp.csr_matrix((len(cells_xy), n_facilities))
    pairs = cKDTree(cells_xy).query_ball_tree(cKDTree(access_xy), r=cutoff)
    counts = np.fromiter((len(p) for p in pairs), dtype=np.int64, count=len(pairs))
    rows = np.repeat(np.arange(len(cells_xy)), counts)
    pts = np.fromiter((j for p in pairs for j in p), dtype=np.int64, count=int(counts.sum()))
    d = np.hypot(*(cells_xy[rows] - access_xy[pts]).T)
    keep = d <= cutoff
    return _min_coo_to_csr(rows[keep], owner[pts[keep]], d[keep], (len(cells_xy), n_facilities))


def network_od(net: Network, cells: Snapped, access: Snapped, owner: np.ndarray,
               n_facilities: int, cutoff: float, weight: Weight = "length") -> sp.csr_matrix:
    """Street costs (m, or s for ``time``) from cells to facilities within ``cutoff``."""
    od = net.od(cells, access, cutoff, weight=weight).tocoo()
    owner = np.asarray(owner, dtype=np.int64)
    return _min_coo_to_csr(od.row.astype(np.int64), owner[od.col], od.data,
                           (len(cells), n_facilities))
