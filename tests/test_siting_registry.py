"""The model registry (equiserve.siting.models.registry) on a hand-worked instance.

Every registered model solves one small layer through ``get_model(name).solve(...)`` and
must give the selection and objective of (a) the public function called the way
``plan_sites`` calls it and (b) brute-force enumeration of every candidate subset, computed
here from the matrices alone (capacitated assignment: networkx maximum flow).

The instance: column 0 is an existing facility (fixed), columns 1-4 are candidates.

    cell  people  group  within the standard of   cost to column (p-median)
    0     10      a      0, 1                     0: 1, 1: 2
    1     18      a      1                        1: 1, 2: 4
    2     30      b      2, 3                     2: 1, 3: 2
    3     25      b      3                        3: 1, 4: 5
    4     15      c      4                        4: 1, 2: 3
    5     5       c      2, 4                     2: 2, 4: 1

Worked by hand with two new sites: MCLP {3, 4} covers 10 + 30 + 25 + 15 + 5 = 85 people;
LSCP at 82 % (84.46 people) needs two sites, and only {3, 4} reaches it; p-median (rows
farther than max_cost = 6 pay 6) {2, 3} costs 10 + 72 + 30 + 25 + 45 + 10 = 192; capacitated
(places 8, 15, 40, 20, 30) {2, 3} places 8 + 35 + 20 = 63; max-min {3, 4} and {2, 4} both
leave group a at 10 / 28, and {3, 4} covers more people (85 against 60).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from equiserve.errors import ConfigError
from equiserve.siting.models import (
    MODELS,
    LocationModel,
    SitingProblem,
    SitingResult,
    get_model,
    maximize_capacitated_coverage,
    maximize_coverage,
    maximize_min_coverage,
    minimize_facilities,
    p_median,
)

COVER = np.array([
    [1, 1, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 0, 1, 1, 0],
    [0, 0, 0, 1, 0],
    [0, 0, 0, 0, 1],
    [0, 0, 1, 0, 1],
], dtype=bool)
WEIGHTS = np.array([10.0, 18.0, 30.0, 25.0, 15.0, 5.0])
GROUPS = np.array(["a", "a", "b", "b", "c", "c"], dtype=object)
COST_PAIRS = {(0, 0): 1, (0, 1): 2, (1, 1): 1, (1, 2): 4, (2, 2): 1, (2, 3): 2,
              (3, 3): 1, (3, 4): 5, (4, 4): 1, (4, 2): 3, (5, 2): 2, (5, 4): 1}
MAX_COST = 6.0
CAPACITY = np.array([8.0, 15.0, 40.0, 20.0, 30.0])
FIXED = np.array([0])
COUNT = 2
TARGET = 0.82
CANDIDATES = (1, 2, 3, 4)

#: the hand-worked answers (see the module docstring)
HAND = {"mclp": ([3, 4], 85.0), "lscp": ([3, 4], 2.0), "pmedian": ([2, 3], 192.0),
        "capacitated": ([2, 3], 63.0), "maxmin": ([3, 4], 10 / 28)}


def cost_matrix() -> sp.csr_matrix:
    rows, cols = zip(*COST_PAIRS, strict=True)
    return sp.csr_matrix((np.array(list(COST_PAIRS.values()), dtype=float), (rows, cols)),
                         shape=COVER.shape)


def problem() -> SitingProblem:
    return SitingProblem(coverage=sp.csr_matrix(COVER), weights=WEIGHTS, fixed=FIXED,
                         cost=cost_matrix(), max_cost=MAX_COST, groups=GROUPS,
                         capacity=CAPACITY)


# --------------------------------------------------------------------------- brute force


def covered(open_cols: tuple[int, ...]) -> np.ndarray:
    return COVER[:, list(open_cols)].any(axis=1)


def covered_people(open_cols: tuple[int, ...]) -> float:
    return float(WEIGHTS[covered(open_cols)].sum())


def total_cost(open_cols: tuple[int, ...]) -> float:
    row_cost = [min([MAX_COST] + [c for (i, j), c in COST_PAIRS.items()
                                  if i == row and j in open_cols])
                for row in range(len(WEIGHTS))]
    return float(WEIGHTS @ np.array(row_cost))


def people_placed(open_cols: tuple[int, ...]) -> float:
    """Max flow: source -> cell (its people) -> open column in reach -> sink (its places)."""
    g = nx.DiGraph()
    for i, w in enumerate(WEIGHTS):
        g.add_edge("source", ("cell", i), capacity=w)
        for j in open_cols:
            if COVER[i, j]:
                g.add_edge(("cell", i), ("column", j))   # no capacity: unbounded
    for j in open_cols:
        g.add_edge(("column", j), "sink", capacity=CAPACITY[j])
    return float(nx.maximum_flow_value(g, "source", "sink"))


def worst_share(open_cols: tuple[int, ...]) -> float:
    hit = covered(open_cols)
    return min(WEIGHTS[(GROUPS == g) & hit].sum() / WEIGHTS[GROUPS == g].sum()
               for g in np.unique(GROUPS))


def brute_force(name: str) -> tuple[list[int], float]:
    """The best (selection, objective) over every subset of the candidates."""
    fixed = tuple(FIXED.tolist())
    if name == "lscp":
        goal = TARGET * WEIGHTS.sum()
        for size in range(len(CANDIDATES) + 1):
            ok = [s for s in itertools.combinations(CANDIDATES, size)
                  if covered_people(fixed + s) >= goal]
            if ok:
                assert len(ok) == 1, "the instance is meant to have one smallest set"
                return list(ok[0]), float(size)
        raise AssertionError("target unreachable")
    subsets = list(itertools.combinations(CANDIDATES, COUNT))
    if name == "mclp":
        best = max(subsets, key=lambda s: covered_people(fixed + s))
        return list(best), covered_people(fixed + best)
    if name == "pmedian":
        best = min(subsets, key=lambda s: total_cost(fixed + s))
        return list(best), total_cost(fixed + best)
    if name == "capacitated":
        best = max(subsets, key=lambda s: people_placed(fixed + s))
        return list(best), people_placed(fixed + best)
    # maxmin: the best worst share, ties to the most people covered
    best = max(subsets, key=lambda s: (worst_share(fixed + s), covered_people(fixed + s)))
    return list(best), worst_share(fixed + best)


def direct(name: str) -> SitingResult:
    """The public function, called as plan_sites calls it."""
    A, w, fixed, limit = sp.csr_matrix(COVER), WEIGHTS, FIXED, 60.0
    if name == "mclp":
        return maximize_coverage(A, w, COUNT, fixed=fixed, time_limit_s=limit)
    if name == "lscp":
        return minimize_facilities(A, w, target=TARGET, fixed=fixed, time_limit_s=limit)
    if name == "maxmin":
        return maximize_min_coverage(A, w, GROUPS, COUNT, fixed=fixed, time_limit_s=limit)
    if name == "capacitated":
        return maximize_capacitated_coverage(A, w, CAPACITY, COUNT, fixed=fixed,
                                             time_limit_s=limit)
    return p_median(cost_matrix(), w, COUNT, fixed=fixed, time_limit_s=limit,
                    max_cost=MAX_COST)


# --------------------------------------------------------------------------- tests


def test_models_in_order_with_their_descriptions():
    assert list(MODELS) == ["mclp", "lscp", "pmedian", "capacitated", "maxmin"]
    expected = {
        "mclp": ("people within the standard", True, False, 1.0, True),
        "lscp": ("people within the standard", False, False, 1.0, False),
        "pmedian": ("total people × distance to the nearest site", True, False, 4.0, False),
        "capacitated": ("people with a place within the standard", True, True, 1.0, True),
        "maxmin": ("worst group's coverage", True, False, 1.0, True),
    }
    for name, model in MODELS.items():
        assert isinstance(model, LocationModel)
        assert model.name == name
        assert get_model(name) is model
        assert (model.objective_text, model.needs_count, model.needs_capacity,
                model.reach_factor, model.maximize) == expected[name]


def test_brute_force_agrees_with_the_hand_worked_answers():
    for name, (sel, objective) in HAND.items():
        got_sel, got_obj = brute_force(name)
        assert got_sel == sel, name
        assert got_obj == pytest.approx(objective, rel=1e-12), name


@pytest.mark.parametrize("name", list(MODELS))
def test_registered_model_matches_direct_call_and_brute_force(name):
    result = get_model(name).solve(problem(), None if name == "lscp" else COUNT, TARGET, 60.0)
    assert isinstance(result, SitingResult)
    assert result.model == name
    assert result.optimal
    sel, objective = brute_force(name)
    assert result.selected.tolist() == sel
    assert result.objective == pytest.approx(objective, rel=1e-9)
    same = direct(name)
    assert result.selected.tolist() == same.selected.tolist()
    assert result.objective == same.objective
    assert result.bound == same.bound
    assert result.optimal == same.optimal


def test_models_that_need_count_say_so():
    for name, model in MODELS.items():
        if model.needs_count:
            with pytest.raises(ValueError, match=f"model '{name}' needs count"):
                model.solve(problem(), None, TARGET, None)


def test_pmedian_without_costs_says_so():
    bare = SitingProblem(coverage=sp.csr_matrix(COVER), weights=WEIGHTS, fixed=FIXED)
    with pytest.raises(ValueError, match="model 'pmedian' needs cost"):
        get_model("pmedian").solve(bare, COUNT, TARGET, None)


def test_unknown_model_names_the_allowed_ones():
    with pytest.raises(ConfigError) as info:
        get_model("nope")
    assert str(info.value) == ("--model 'nope' is not valid; expected one of mclp, lscp, "
                               "pmedian, capacitated, maxmin")


def test_the_sites_command_offers_every_registered_model():
    from typer.testing import CliRunner

    from equiserve.cli import app

    help_text = CliRunner().invoke(app, ["sites", "--help"]).output
    for name in MODELS:
        assert name in help_text, name
