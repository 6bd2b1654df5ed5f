"""The decision rule of the datum check (equiserve.inputs.datum) on hand-built scores:
the datum's reading must beat the declared one by half and by a margin, and beat every
control (the same shift turned) — for points by the margin too, so that a tie is no
evidence."""

from __future__ import annotations

import numpy as np
import pytest

from equiserve.inputs.datum import CONTROL_TURNS, datum_shifts, misread_datum

N = 40
GCJ = np.tile([-500.0, 300.0], (N, 1))  # reading the numbers as GCJ-02 moves them NW
BD = np.tile([-1100.0, -600.0], (N, 1))
SHIFTS = {"GCJ-02": GCJ, "BD-09": BD}


def _scorer(table: dict[tuple[float, float], float], other: float):
    """A score by the mean shift (rounded), ``other`` for any shift not in the table."""
    def score(shift: np.ndarray) -> float:
        key = tuple(np.round(shift.mean(axis=0)))
        return table.get(key, other)
    return score


def _turned(shift: np.ndarray, degrees: float) -> tuple[float, float]:
    a = np.radians(degrees)
    dx, dy = shift[0]
    return (round(dx * np.cos(a) - dy * np.sin(a)), round(dx * np.sin(a) + dy * np.cos(a)))


def test_a_clear_datum_reading_is_found():
    score = _scorer({(0, 0): 90.0, (-500, 300): 6.0}, other=80.0)
    found = misread_datum(SHIFTS, score, min_gain=15)
    assert (found.datum, found.declared, found.corrected, found.control) == (
        "GCJ-02", 90.0, 6.0, 80.0)
    assert found.bearing == "NW" and found.shift_m == pytest.approx(np.hypot(500, 300))


@pytest.mark.parametrize("declared, corrected, control, found", [
    (90.0, 50.0, 80.0, False),   # not half the declared score
    (20.0, 8.0, 80.0, False),    # half, but better by 12 m only (< 15)
    (90.0, 6.0, 6.0, False),     # a control as good: the direction is chance
    (90.0, 6.0, 7.5, False),     # a control nearly as good (within 0.8 and 15 m)
    (90.0, 6.0, 30.0, True),
])
def test_the_rule_for_points(declared, corrected, control, found):
    table = {(0, 0): declared, (-500, 300): corrected}
    table |= {_turned(GCJ, t): control for t in CONTROL_TURNS}
    result = misread_datum(SHIFTS, _scorer(table, other=200.0), min_gain=15)
    assert (result is not None) == found


def test_regions_may_tie_with_a_control_at_a_perfect_score():
    """Every reference point inside when read in the datum and when moved as far in a
    nearby direction: accepted for regions (control_gain=0), said to be uncertain."""
    table = {(0, 0): 0.002, (-500, 300): 0.0, _turned(GCJ, 45): 0.0}
    score = _scorer(table, other=0.01)
    assert misread_datum(SHIFTS, score, min_gain=0.001) is None
    found = misread_datum(SHIFTS, score, min_gain=0.001, control_gain=0.0)
    assert found is not None and found.control == found.corrected == 0.0


def test_outside_china_no_reading_is_compared():
    shifts = datum_shifts(np.array([2.35, 2.36]), np.array([48.85, 48.86]), "EPSG:32631")
    assert all(np.allclose(s, 0) for s in shifts.values())
    calls = []
    assert misread_datum(shifts, lambda s: calls.append(1) or 1.0, min_gain=1) is None
    assert len(calls) == 1  # the declared reading only
