"""Input checks shared by the location models: every ``_as_*`` turns an argument into the
array the models work on, or raises ``ValueError`` naming the argument."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from equiserve.siting.models.solve import _Timer


def _as_coverage(coverage: Any, name: str = "coverage") -> sp.csr_matrix:
    if sp.issparse(coverage):
        mat = sp.csr_matrix(coverage)
        if mat.ndim != 2:
            raise ValueError(f"{name} must be a 2-D demand x column matrix")
        if mat.dtype != bool and np.isnan(mat.data.astype(float)).any():
            raise ValueError(f"{name} holds NaN; use True/False (or 1/0)")
        mat = sp.csr_matrix(mat != 0)
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-D demand x column matrix, got {arr.ndim}-D")
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{name} must be boolean or numeric, got dtype {arr.dtype}")
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name} holds NaN; use True/False (or 1/0)")
        mat = sp.csr_matrix(arr != 0)
    mat.eliminate_zeros()
    mat.sort_indices()
    return mat


def _as_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) != n:
        raise ValueError(f"{name} must be 1-D with one value per demand row ({n}), "
                         f"got shape {w.shape}")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} holds NaN or infinite values at rows "
                         f"{_head(np.flatnonzero(~np.isfinite(w)))}")
    if (w < 0).any():
        raise ValueError(f"{name} must be >= 0; negative at rows {_head(np.flatnonzero(w < 0))}")
    return w


def _as_fixed(fixed: Any, m: int) -> np.ndarray:
    arr = np.asarray(list(fixed) if not isinstance(fixed, np.ndarray) else fixed)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool:
        if arr.ndim != 1 or len(arr) != m:
            raise ValueError(f"fixed as a boolean mask must have one value per column ({m}), "
                             f"got shape {arr.shape}")
        return np.flatnonzero(arr)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f"
                                          and np.all(arr == np.round(arr))):
        raise ValueError("fixed must be column indices (integers) or a boolean mask")
    idx = arr.astype(np.int64).ravel()
    bad = idx[(idx < 0) | (idx >= m)]
    if len(bad):
        raise ValueError(f"fixed holds column indices out of range 0..{m - 1}: {_head(bad)}")
    return np.unique(idx)


def _coverage_inputs(coverage: Any, weights: Any, fixed: Any, time_limit_s: Any
                     ) -> tuple[_Timer, sp.csr_matrix, np.ndarray, np.ndarray]:
    """The checked inputs every coverage model starts from: (timer, A, weights, fixed)."""
    timer = _Timer(_check_time_limit(time_limit_s))
    A = _as_coverage(coverage)
    return timer, A, _as_weights(weights, A.shape[0]), _as_fixed(fixed, A.shape[1])


def _check_p(p: Any, m: int, fixed: np.ndarray) -> int:
    if isinstance(p, bool) or not float(p).is_integer():
        raise ValueError(f"p must be a whole number of new sites, got {p!r}")
    p = int(p)
    if p < 0:
        raise ValueError(f"p must be >= 0, got {p}")
    free = m - len(fixed)
    if p > free:
        raise ValueError(f"p = {p} but only {free} candidates are not fixed "
                         f"({m} columns, {len(fixed)} fixed)")
    return p


def _check_time_limit(time_limit_s: Any) -> float | None:
    if time_limit_s is None:
        return None
    t = float(time_limit_s)
    if not t > 0:
        raise ValueError(f"time_limit_s must be > 0 seconds (or None), got {time_limit_s!r}")
    return t


def _as_groups(groups: Any, n: int) -> tuple[np.ndarray, list[Hashable]]:
    if groups is None:
        raise ValueError("groups is required: one label per demand row")
    labels = np.asarray(groups, dtype=object) if not isinstance(groups, pd.Series) \
        else groups.to_numpy(dtype=object)
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"groups must have one label per demand row ({n}), got shape "
                         f"{labels.shape}")
    codes, uniques = pd.factorize(labels, sort=False)
    if (codes < 0).any():
        raise ValueError(f"groups has missing labels at rows {_head(np.flatnonzero(codes < 0))}")
    return codes.astype(np.int64), list(uniques)


def _head(idx: np.ndarray, k: int = 10) -> str:
    idx = np.asarray(idx)
    items = ", ".join(str(v) for v in idx[:k].tolist())
    return f"[{items}{', ...' if len(idx) > k else ''}] ({len(idx)} in all)"


def _as_capacity(capacity: Any, m: int) -> np.ndarray:
    if capacity is None:
        raise ValueError("capacity is required: one value (people) per column")
    cap = np.asarray(capacity, dtype=float)
    if cap.ndim != 1 or len(cap) != m:
        raise ValueError(f"capacity must have one value per column ({m}), got shape {cap.shape}")
    if np.isnan(cap).any():
        raise ValueError(f"capacity is missing (NaN) for columns "
                         f"{_head(np.flatnonzero(np.isnan(cap)))}; give every column a "
                         f"capacity (inf for unlimited)")
    if (cap < 0).any():
        raise ValueError(f"capacity must be >= 0; negative for columns "
                         f"{_head(np.flatnonzero(cap < 0))}")
    return cap


def _as_cost(cost: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Cost matrix as (row, col, value) triplets of the allowed pairs."""
    if sp.issparse(cost):
        coo = sp.coo_matrix(cost)
        n, m = coo.shape
        r, c = coo.row.astype(np.int64), coo.col.astype(np.int64)
        v = np.asarray(coo.data, dtype=float)
        key = r * m + c
        if len(np.unique(key)) != len(key):
            raise ValueError("cost has duplicate stored entries for the same (row, column) "
                             "pair; sum_duplicates() would add them, so keep one per pair")
        ok = ~np.isinf(v)
        r, c, v = r[ok], c[ok], v[ok]
    else:
        arr = np.asarray(cost, dtype=float)
        if arr.ndim != 2:
            raise ValueError(f"cost must be a 2-D demand x column matrix, got {arr.ndim}-D")
        n, m = arr.shape
        r, c = np.nonzero(~np.isinf(arr))
        v = arr[r, c]
        r, c = r.astype(np.int64), c.astype(np.int64)
    if np.isnan(v).any():
        raise ValueError("cost holds NaN; use inf (dense) or leave the pair out (sparse) for "
                         "pairs that are not allowed")
    if (v < 0).any():
        raise ValueError("cost must be >= 0")
    return r, c, v, n, m
