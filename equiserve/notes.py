"""Data-quality notes collected while a study is loaded and analysed.

Problems that do not stop the analysis (a facility outside every region, a missing
capacity, a repaired polygon) are recorded here, shown in the report and the CLI, and
raised as :class:`~equiserve.errors.DataQualityWarning` for Python users.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

from equiserve.errors import DataQualityWarning

Level = Literal["info", "warning"]


@dataclass(frozen=True)
class Note:
    """One data-quality note: its level, what it is about, the message and, in a scenario,
    the run that found it (``baseline`` or ``plan``; None: loading, shared by every run)."""

    level: Level
    subject: str
    message: str
    run: str | None = None

    def __str__(self) -> str:
        return f"{self.level}: {self.subject}: {self.message}"


class Notes(list[Note]):
    """An ordered list of :class:`Note` with helpers that also warn."""

    def info(self, subject: str, message: str) -> None:
        """Record a statement about how the input was used (e.g. polygons as points)."""
        note = Note("info", subject, message)
        if note not in self:
            self.append(note)

    def warn(self, subject: str, message: str) -> None:
        """Record a data-quality problem and raise a DataQualityWarning for it."""
        note = Note("warning", subject, message)
        if note in self:  # the same finding from a repeated analysis
            return
        self.append(note)
        warnings.warn(str(note), DataQualityWarning, stacklevel=2)

    def tagged(self, run: str) -> Notes:
        """The notes marked as found by ``run``."""
        return Notes(Note(n.level, n.subject, n.message, run) for n in self)
