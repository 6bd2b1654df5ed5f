"""The three levels every figure is reported at: the whole study, each region group, each
region.

One :class:`Level` per level labels every cell (or facility) with the index of its name
there; sums per name are one ``bincount``.

>>> lv = levels(np.array([0, 1, 1, 2]), ["A", "B", "C"], ["east", "west", "east"])
>>> [(x.level, x.names) for x in lv]
[('study', ['study']), ('group', ['east', 'west']), ('region', ['A', 'B', 'C'])]
>>> lv[1].sum(np.array([1.0, 2.0, 3.0, 4.0])).tolist()
[5.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

LevelName = Literal["study", "group", "region"]


@dataclass(frozen=True)
class Level:
    """One level: its ``names`` (with the ``groups`` they belong to; None for the study)
    and the index into ``names`` of every item (-1: outside every region)."""

    level: LevelName
    names: list[str]
    groups: list[str | None]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.names)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` per name (items labelled -1 left out)."""
        values = np.asarray(values, float)
        if self._all_named:  # no copies of the items to leave none out
            return np.bincount(self.labels, weights=values, minlength=len(self.names))
        keep = self.labels >= 0
        return np.bincount(self.labels[keep], weights=values[keep], minlength=len(self.names))

    @cached_property
    def _all_named(self) -> bool:
        return bool(len(self.labels) == 0 or self.labels.min() >= 0)

    def mask(self, k: int) -> np.ndarray:
        """Items of name ``k``."""
        return self.labels == k


def group_names(region_groups: Sequence[str] | np.ndarray) -> list[str]:
    """The groups in order of first appearance."""
    return list(dict.fromkeys(region_groups))


def levels(region: np.ndarray, region_names: Sequence[str] | np.ndarray,
           region_groups: Sequence[str] | np.ndarray) -> list[Level]:
    """Study, group and region levels of items in regions ``region`` (-1: in none; such
    items count in the study only)."""
    region = np.asarray(region, dtype=np.int64)
    groups = [str(g) for g in group_names(region_groups)]
    of_region = np.array([groups.index(g) for g in region_groups], dtype=np.int64)
    group_label = np.where(region >= 0, of_region[np.maximum(region, 0)], -1)
    return [Level("study", ["study"], [None], np.zeros(len(region), dtype=np.int64)),
            Level("group", groups, list(groups), group_label),
            Level("region", [str(n) for n in region_names], [str(g) for g in region_groups],
                  region)]
