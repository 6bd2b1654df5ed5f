"""Greedy incumbents (step 3 of :mod:`equiserve.siting.models`): the largest-marginal-gain
greedy of each model and the MCLP swap search that polishes greedy and LP solutions."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from equiserve.siting.models.reduce import _CoverData
from equiserve.siting.models.solve import _Timer

#: skip the MCLP swap search when p x columns is larger than this (dense delta table)
_SWAP_MAX_CELLS = 20_000_000


def _greedy_cover(d: _CoverData, p: int) -> np.ndarray:
    Bc = d.B.tocsc()
    unc = d.W.copy()
    sel: list[int] = []
    for _ in range(min(p, Bc.shape[1])):
        gain = Bc.T @ unc
        if sel:
            gain[sel] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        sel.append(j)
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.sort(np.asarray(sel, dtype=np.int64))


def _swap_search(d: _CoverData, sel: np.ndarray, timer: _Timer,
                 max_rounds: int | None = None) -> np.ndarray:
    """Best-improvement 1-swap local search for MCLP (vectorised over all swaps)."""
    B = d.B
    M = B.shape[1]
    sel = np.sort(np.asarray(sel, dtype=np.int64))
    if len(sel) == 0 or len(sel) >= M or len(sel) * M > _SWAP_MAX_CELLS:
        return sel
    Bc = B.tocsc()
    BT = sp.csr_matrix(B.T)
    tol = 1e-9 * max(1.0, float(d.W.sum()))
    rounds = max_rounds if max_rounds is not None else 4 * len(sel) + 20
    for _ in range(rounds):
        if timer.expired():
            break
        cnt = Bc[:, sel] @ np.ones(len(sel))
        unc_w = np.where(cnt == 0, d.W, 0.0)
        once_w = np.where(cnt == 1, d.W, 0.0)
        gain_in = BT @ unc_w
        loss_out = (BT @ once_w)[sel]
        X = (BT[sel] @ sp.diags(once_w) @ B).toarray()
        delta = gain_in[None, :] - loss_out[:, None] + X
        delta[:, sel] = -np.inf
        a, b = np.unravel_index(int(np.argmax(delta)), delta.shape)
        if delta[a, b] <= tol:
            break
        sel = np.sort(np.concatenate([np.delete(sel, a), [b]]))
    return sel


def _greedy_floor(d: _CoverData, p: int, need: np.ndarray) -> np.ndarray | None:
    """Greedy that first closes the group-floor shortfall, then maximises coverage."""
    Bc = d.B.tocsc()
    G = len(need)
    K = d.B.shape[0]
    onehot = sp.csr_matrix((np.ones(K), (np.arange(K), d.group)), shape=(K, G))
    unc = d.W.copy()
    got = np.zeros(G)
    sel: list[int] = []
    for _ in range(p):
        gain_g = np.asarray((Bc.T @ (onehot.multiply(unc[:, None]))).todense())
        short = np.maximum(need - got, 0.0)
        closes = np.minimum(gain_g, short[None, :]).sum(axis=1)
        total = gain_g.sum(axis=1)
        if sel:
            closes[sel] = -1.0
            total[sel] = -1.0
        j = int(np.lexsort((-np.arange(len(total)), total, closes))[-1])
        if total[j] <= 0 and closes[j] <= 0:
            break
        sel.append(j)
        got += gain_g[j]
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    if np.all(got >= need - 1e-9 * np.maximum(need, 1.0)):
        return np.sort(np.asarray(sel, dtype=np.int64))
    return None


def _greedy_until(d: _CoverData, need: float, tol: float) -> np.ndarray:
    Bc = d.B.tocsc()
    unc = d.W.copy()
    got = 0.0
    sel: list[int] = []
    while got < need - tol and len(sel) < Bc.shape[1]:
        gain = Bc.T @ unc
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        sel.append(j)
        got += float(gain[j])
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.asarray(sel, dtype=np.int64)


def _prune(d: _CoverData, sel: np.ndarray, need: float, tol: float) -> np.ndarray:
    """Drop columns (last added first) whose removal keeps the target met."""
    kept = list(sel)
    Bc = d.B.tocsc()
    for j in list(reversed(kept)):
        trial = [k for k in kept if k != j]
        if len(trial) == len(kept):
            continue
        hit = (Bc[:, trial] @ np.ones(len(trial))) > 0 if trial else np.zeros(len(d.W), bool)
        if float(d.W[hit].sum()) >= need - tol:
            kept = trial
    return np.sort(np.asarray(kept, dtype=np.int64))


def _greedy_maxmin(d: _CoverData, p: int, gfix: np.ndarray, gW: np.ndarray,
                   active: np.ndarray) -> np.ndarray:
    Bc = d.B.tocsc()
    K, M = d.B.shape
    G = len(gW)
    onehot = sp.csr_matrix((np.ones(K), (np.arange(K), d.group)), shape=(K, G))
    unc = d.W.copy()
    got = gfix.astype(float).copy()
    sel: list[int] = []
    for _ in range(p):
        gain_g = np.asarray((Bc.T @ onehot.multiply(unc[:, None])).todense())
        new_min = ((got[None, active] + gain_g[:, active]) / gW[None, active]).min(axis=1)
        total = gain_g.sum(axis=1)
        if sel:
            new_min[sel] = -1.0
            total[sel] = -1.0
        j = int(np.lexsort((-np.arange(M), total, new_min))[-1])
        if total[j] <= 0:
            break
        sel.append(j)
        got += gain_g[j]
        unc[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = 0.0
    return np.sort(np.asarray(sel, dtype=np.int64))


def _greedy_capacitated(B: sp.csr_matrix, W: np.ndarray, cap: np.ndarray,
                        fixed_m: np.ndarray, p: int) -> np.ndarray:
    """Greedy: open the column that can serve most unserved people, then fill it."""
    Bc = B.tocsc()
    rest = W.copy()
    capleft = cap.copy()

    def fill(j: int) -> None:
        rows = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        if len(rows) == 0:
            return
        take = rest[rows]
        cum = np.cumsum(take)
        served = np.clip(capleft[j] - (cum - take), 0.0, take)
        rest[rows] -= served
        capleft[j] -= served.sum()

    for jf in np.flatnonzero(fixed_m):
        fill(int(jf))
    chosen: list[int] = []
    is_free = ~fixed_m
    for _ in range(p):
        gain = np.minimum(Bc.T @ rest, capleft)
        gain[~is_free] = -1.0
        if chosen:
            gain[chosen] = -1.0
        j = int(np.argmax(gain))
        if gain[j] < 0:
            break
        chosen.append(j)
        fill(j)
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _greedy_pmedian(kr: np.ndarray, kc: np.ndarray, kv: np.ndarray, W: np.ndarray,
                    U: np.ndarray, M: int, p: int) -> np.ndarray:
    """Greedy add: first serve rows that must be assigned, then cut the most cost."""
    cur = U.copy()
    sel: list[int] = []
    for _ in range(p):
        inf_row = ~np.isfinite(cur)
        better = kv < cur[kr]
        g_inf = np.bincount(kc, weights=np.where(better & inf_row[kr], W[kr], 0.0),
                            minlength=M)
        fin = better & ~inf_row[kr]
        g = np.bincount(kc[fin], weights=W[kr[fin]] * (cur[kr[fin]] - kv[fin]), minlength=M)
        if sel:
            g_inf[sel] = -1.0
            g[sel] = -1.0
        j = int(np.lexsort((-np.arange(M), g, g_inf))[-1])
        if g_inf[j] <= 0 and g[j] <= 0:
            break
        sel.append(j)
        mk = kc == j
        np.minimum.at(cur, kr[mk], kv[mk])
    return np.sort(np.asarray(sel, dtype=np.int64))
