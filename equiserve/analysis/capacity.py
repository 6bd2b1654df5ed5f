"""Capacity-aware allocation: who is actually served when facilities fill up.

Coverage counts people within the standard of a facility; here each facility admits at
most its capacity (seats, beds...), people go to the nearest facility that still has
room, and a facility admits the nearest people first. The result says how many people
of each cell are served, by which facility, and how full each facility is.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from equiserve.analysis.catchment import _amounts, _in_reach, _od_pairs, _radius

__all__ = ["Allocation", "allocate_nearest_first"]

# Pairs per cost bin (see allocate_nearest_first); tests lower it to exercise many bins.
_BIN_PAIRS = 4096


@dataclass(frozen=True, eq=False)
class Allocation:
    """People assigned to facilities by :func:`allocate_nearest_first`.

    Attributes
    ----------
    served : ndarray of float, shape (n_cells,)
        People of each cell assigned to some facility (``<= demand``).
    used : ndarray of float, shape (n_facilities,)
        People assigned to each facility (``<= capacity``).
    pairs : scipy.sparse.coo_matrix, shape (n_cells, n_facilities)
        People of cell ``row`` assigned to facility ``col``; only positive amounts are
        stored, in the order they were assigned (ascending cost).
    """

    served: np.ndarray
    used: np.ndarray
    pairs: sp.coo_matrix


def allocate_nearest_first(od: sp.spmatrix | sp.sparray, demand: np.ndarray,
                           capacity: np.ndarray, radius: float = math.inf) -> Allocation:
    """Assign people to facilities with capacity, nearest pairs first.

    Every stored pair of ``od`` (explicit zeros included: a facility inside a cell is a
    pair at cost 0) with cost ``<= radius`` is taken in ascending cost, ties broken by
    row, then column. Each pair assigns ``min(remaining demand of its row, remaining
    capacity of its column)``.

    This is the unique stable assignment when people prefer nearer facilities and
    facilities admit nearer people first (with the same tie rule): no cell with people
    left over can reach a facility with room left, and no facility admits people from
    farther than a cell whose people are unserved or sent farther. Because both sides
    rank pairs by the same cost, preferences have no cycles, which makes the stable
    assignment unique. The amounts therefore depend only on each side's ranking: among
    equal costs a cell prefers the lower column index and a facility the lower row
    index. It is *not* the assignment serving the most people: a near cell
    may fill a facility that was the only option of a farther cell (a maximum flow can
    serve more; see the tests for the typical gap).

    Parameters
    ----------
    od : scipy.sparse matrix or array, shape (n_cells, n_facilities)
        Costs of the pairs in reach (any format but DIA). ``inf`` entries are unreachable.
    demand : array_like, shape (n_cells,)
        People per cell, finite and >= 0.
    capacity : array_like, shape (n_facilities,)
        Places per facility, >= 0; ``inf`` means unlimited. NaN raises ValueError: the
        caller decides what an unknown capacity means (e.g. 0) and reports it.
    radius : float, default inf
        Pairs with cost > radius are ignored.

    Returns
    -------
    Allocation
        ``served`` per cell, ``used`` per facility, ``pairs`` (COO of people assigned).

    Notes
    -----
    Cost: one O(N) binning of the N pairs by cost (a radix sort into bins of about
    4,096 pairs), then per bin a vectorised filter of pairs whose cell or facility is
    already exhausted, an exact sort of the survivors, and a tight loop over them. Each
    pair processed exhausts its cell or its facility, so the loop runs about
    ``n_cells + n_facilities`` times plus stale pairs within a bin. About 0.2 s for
    2 million pairs here. Results are exact for integer amounts (below 2**53); with
    fractional amounts the rule is applied in floating point, as a sequential loop would.

    Examples
    --------
    Cell 0 (3 people) has facility 0 (2 places) inside it and facility 1 (5 places) at
    cost 4; cell 1 (4 people) reaches facility 0 at cost 1 and facility 1 at cost 2.
    Order: (0,0)@0 assigns 2 and fills facility 0; (1,0)@1 nothing; (1,1)@2 assigns 4;
    (0,1)@4 assigns the last place to cell 0, whose third person is unserved.

    >>> od = sp.csr_matrix((np.array([0.0, 4.0, 1.0, 2.0]),  # 0.0: an explicit zero
    ...                     (np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), shape=(2, 2))
    >>> a = allocate_nearest_first(od, [3, 4], [2, 5])
    >>> a.served.tolist(), a.used.tolist()
    ([3.0, 4.0], [2.0, 5.0])
    >>> a.pairs.toarray().tolist()
    [[2.0, 1.0], [0.0, 4.0]]
    """
    rows, cols, cost, (n, m) = _od_pairs(od)
    dem = _amounts(demand, n, "demand", "rows (demand cells)")
    cap = _amounts(capacity, m, "capacity", "columns (facilities)", allow_inf=True)
    rows, cols, cost = _in_reach(rows, cols, cost, _radius(radius))
    useful = (dem[rows] > 0) & (cap[cols] > 0)
    rows, cols, cost = rows[useful], cols[useful], cost[useful]

    out_r: list[np.ndarray] = []
    out_c: list[np.ndarray] = []
    out_x: list[np.ndarray] = []
    rem_r, rem_c = dem.copy(), cap.copy()
    rows_left = int(np.count_nonzero(rem_r))
    cols_left = int(np.count_nonzero(rem_c))
    for idx in _cost_bins(cost):
        if rows_left == 0 or cols_left == 0:
            break
        r, c = rows[idx], cols[idx]
        alive = (rem_r[r] > 0) & (rem_c[c] > 0)
        if not alive.any():
            continue
        idx, r, c = idx[alive], r[alive], c[alive]
        order = np.lexsort((c, r, cost[idx]))  # exact order within the bin
        r, c = r[order], c[order]
        ur, ri = np.unique(r, return_inverse=True)
        uc, ci = np.unique(c, return_inverse=True)
        lr, lc = rem_r[ur].tolist(), rem_c[uc].tolist()
        took: list[int] = []
        amount: list[float] = []
        for p, (i, j) in enumerate(zip(ri.tolist(), ci.tolist(), strict=True)):
            a = lr[i]
            if a <= 0:
                continue
            b = lc[j]
            if b <= 0:
                continue
            if a < b:
                x, lr[i], lc[j] = a, 0.0, b - a
                rows_left -= 1
            elif b < a:
                x, lr[i], lc[j] = b, a - b, 0.0
                cols_left -= 1
            else:
                x, lr[i], lc[j] = a, 0.0, 0.0
                rows_left -= 1
                cols_left -= 1
            took.append(p)
            amount.append(x)
        rem_r[ur], rem_c[uc] = lr, lc
        if took:
            t = np.asarray(took, dtype=np.intp)
            out_r.append(r[t])
            out_c.append(c[t])
            out_x.append(np.asarray(amount, dtype=float))

    pr = np.concatenate(out_r) if out_r else np.zeros(0, dtype=np.intp)
    pc = np.concatenate(out_c) if out_c else np.zeros(0, dtype=np.intp)
    px = np.concatenate(out_x) if out_x else np.zeros(0)
    return Allocation(served=np.bincount(pr, weights=px, minlength=n).astype(float),
                      used=np.bincount(pc, weights=px, minlength=m).astype(float),
                      pairs=sp.coo_matrix((px, (pr, pc)), shape=(n, m)))


def _cost_bins(cost: np.ndarray) -> Iterator[np.ndarray]:
    """Pair indices in bins of increasing cost (every cost of a bin <= those of the next).

    ``floor(cost * nb / max)`` is non-decreasing in cost, so ordering the bins and then
    each bin exactly orders all pairs; the bin ids are sorted by a stable radix sort.
    """
    n = len(cost)
    if n == 0:
        return
    nb = int(min(65535, max(1, n // _BIN_PAIRS)))
    cmax = float(cost.max())
    scale = nb / cmax if cmax > 0 else math.inf
    if nb == 1 or not math.isfinite(scale):
        yield np.arange(n)
        return
    b = np.minimum((cost * scale).astype(np.int64), nb - 1).astype(np.uint16)
    order = np.argsort(b, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(b, minlength=nb))])
    for k in range(nb):
        if bounds[k + 1] > bounds[k]:
            yield order[bounds[k]:bounds[k + 1]]
