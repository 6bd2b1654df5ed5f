"""Square blocks: cell values summed over a regular grid of ``block_m`` metres (for maps).

>>> b = blocks(np.array([10.0, 20.0, 1500.0]), np.array([5.0, 5.0, 5.0]), 1000.0,
...            {"people": np.array([1.0, 2.0, 4.0])})
>>> b[["x0", "y0", "people"]].values.tolist()
[[0.0, 0.0, 3.0], [1000.0, 0.0, 4.0]]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def blocks(x: np.ndarray, y: np.ndarray, block_m: float,
           values: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Sums of ``values`` per block, ordered by block column then row; ``x0``, ``y0`` are
    each block's lower-left corner in the coordinates' CRS."""
    df = pd.DataFrame({"bx": np.floor(np.asarray(x) / block_m).astype(np.int64),
                       "by": np.floor(np.asarray(y) / block_m).astype(np.int64), **values})
    agg = df.groupby(["bx", "by"], sort=True).sum().reset_index()
    agg.insert(0, "x0", agg["bx"].to_numpy() * block_m)
    agg.insert(1, "y0", agg["by"].to_numpy() * block_m)
    return agg.drop(columns=["bx", "by"])
