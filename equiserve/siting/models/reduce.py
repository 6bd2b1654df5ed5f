"""Reduce and collapse: drop rows and columns that cannot change the optimum, merge demand
rows with the same coverage (or cost) signature, exactly (steps 1 and 2 of
:mod:`equiserve.siting.models`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, vectorised (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _group_rows(mat: sp.csr_matrix, extra: list[np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of a CSR matrix (sorted indices), exactly.

    Rows are identical when they hold the same column indices with the same stored values
    and agree on every array in ``extra``. Returns ``(first, inverse)``: the first row of
    each group (ascending) and each row's group number.
    """
    n = mat.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    nnz = np.diff(mat.indptr).astype(np.uint64)
    idx = mat.indices.astype(np.uint64)
    vals = np.ascontiguousarray(mat.data, dtype=np.float64).view(np.uint64)
    cols = [nnz]
    for salt in (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xD1B54A32D192ED03)):
        e = _mix(_mix(idx + salt) ^ vals)
        cs = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(e, dtype=np.uint64)])
        cols.append(cs[mat.indptr[1:]] - cs[mat.indptr[:-1]])
    for arr in extra or []:
        a = np.asarray(arr)
        cols.append(a.astype(np.float64).view(np.uint64) if a.dtype.kind == "f"
                    else a.astype(np.int64).view(np.uint64))
    key = np.column_stack(cols)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # renumber groups by first occurrence, so group order follows row order
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first, inverse = first[order], rank[inverse]
    # exact check: every row equals its group's first row entry by entry
    rep = first[inverse]
    lens = np.diff(mat.indptr)
    if lens.sum():
        row_of = np.repeat(np.arange(n), lens)
        offs = np.arange(mat.indptr[-1]) - mat.indptr[:-1][row_of]
        rep_pos = mat.indptr[rep][row_of] + offs
        same = (mat.indices == mat.indices[rep_pos]) & (vals == vals[rep_pos])
        if not same.all():  # a 128-bit hash collision: group the slow, exact way
            return _group_rows_exact(mat, extra)
    return first.astype(np.int64), inverse.astype(np.int64)


def _group_rows_exact(mat: sp.csr_matrix, extra: list[np.ndarray] | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    seen: dict[tuple[bytes, bytes, tuple[Any, ...]], int] = {}
    first: list[int] = []
    inverse = np.empty(mat.shape[0], dtype=np.int64)
    ex = [np.asarray(a) for a in (extra or [])]
    for i in range(mat.shape[0]):
        lo, hi = mat.indptr[i], mat.indptr[i + 1]
        key = (mat.indices[lo:hi].tobytes(), np.asarray(mat.data[lo:hi], float).tobytes(),
               tuple(a[i].item() for a in ex))
        g = seen.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        inverse[i] = g
    return np.asarray(first, dtype=np.int64), inverse


@dataclass
class _CoverData:
    """A reduced, collapsed coverage model: rows k, model columns j."""

    B: sp.csr_matrix            # K x M bool (as float) coverage
    W: np.ndarray               # K weights
    cols: np.ndarray            # M -> original column index (free columns only)
    group: np.ndarray | None    # K group codes (when grouped)
    const: float                # weight already covered by fixed columns
    n_rows: int                 # rows in the model (= K)

    @property
    def Bc(self) -> sp.csc_matrix:
        return self.B.tocsc()


def _reduce_cover(A: sp.csr_matrix, w: np.ndarray, fixed: np.ndarray,
                  group: np.ndarray | None = None, dedupe_cols: bool = True
                  ) -> tuple[_CoverData, np.ndarray]:
    """Reduce and collapse a coverage model; also return the fixed-covered row mask."""
    n, m = A.shape
    fixed_ind = np.zeros(m, dtype=bool)
    fixed_ind[fixed] = True
    fixed_cov = (A @ fixed_ind.astype(np.float64)) > 0
    free_cols = np.flatnonzero(~fixed_ind)
    Af = A[:, free_cols]
    keep = ~fixed_cov & (np.diff(Af.indptr) > 0) & (w > 0)
    rows = np.flatnonzero(keep)
    Ak = Af[rows]
    # columns that reach something
    colnnz = np.bincount(Ak.indices, minlength=Ak.shape[1])
    useful = np.flatnonzero(colnnz > 0)
    Ak = Ak[:, useful]
    cols = free_cols[useful]
    if dedupe_cols and Ak.shape[1] > 1:
        AkT = sp.csr_matrix(Ak.T)
        AkT.sort_indices()
        first, _ = _group_rows(AkT)
        Ak = Ak[:, first]
        cols = cols[first]
    Ak = sp.csr_matrix(Ak, dtype=np.float64)
    Ak.sort_indices()
    g = group[rows] if group is not None else None
    first, inv = _group_rows(Ak, [g] if g is not None else None)
    B = Ak[first]
    W = np.bincount(inv, weights=w[rows], minlength=len(first))
    const = float(w[fixed_cov].sum())
    data = _CoverData(B=sp.csr_matrix(B), W=W, cols=cols,
                      group=g[first] if g is not None else None, const=const,
                      n_rows=len(first))
    return data, fixed_cov


def _take_rows(T: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """Row subset keeping explicit zeros (stored entries)."""
    lens = np.diff(T.indptr)[rows]
    indptr = np.concatenate([[0], np.cumsum(lens)])
    src = np.repeat(T.indptr[rows], lens) + (np.arange(indptr[-1]) - np.repeat(indptr[:-1],
                                                                               lens))
    return sp.csr_matrix((T.data[src], T.indices[src], indptr), shape=(len(rows), T.shape[1]))
