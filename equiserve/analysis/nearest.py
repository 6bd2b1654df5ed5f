"""Straight-line distance from every cell to its nearest facility (KD-tree in metres)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def nearest_facility(cells_xy: np.ndarray, access_xy: np.ndarray,
                     access_facility: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each cell to the nearest access point, and that point's facility.

    Parameters
    ----------
    cells_xy : ndarray, shape (n, 2)
        Cell centres in a projected CRS (metres).
    access_xy : ndarray, shape (m, 2)
        Facility access points in the same CRS.
    access_facility : ndarray of int, shape (m,), optional
        Facility index of each access point (default: each point is its own facility).

    Returns
    -------
    distance : ndarray of float, shape (n,)
        Euclidean distance in metres; ``inf`` for every cell when there are no facilities.
    facility : ndarray of int, shape (n,)
        Index of the nearest facility; -1 when there is none.

    Examples
    --------
    >>> d, f = nearest_facility(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[3.0, 4.0]]))
    >>> d.tolist(), f.tolist()
    ([5.0, 8.06225774829855], [0, 0])
    """
    cells_xy = np.asarray(cells_xy, dtype=float).reshape(-1, 2)
    access_xy = np.asarray(access_xy, dtype=float).reshape(-1, 2)
    n = len(cells_xy)
    if len(access_xy) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist, idx = cKDTree(access_xy).query(cells_xy, k=1, workers=-1)
    idx = np.asarray(idx, dtype=np.int64)
    if access_facility is not None:
        idx = np.asarray(access_facility, dtype=np.int64)[idx]
    return np.asarray(dist, dtype=float), idx
