"""Outputs: every result drawn into files by one writer (:func:`write`).

Outputs draw the results they are given, whatever analysis made them: tables
(:mod:`.tables`, :mod:`.excel`), the report (:mod:`.report`) and the map (:mod:`.maps`).
They never import an analysis, and analyses never write files.
"""

from __future__ import annotations

from equiserve.outputs.writer import WRITE_STEPS, write

__all__ = ["WRITE_STEPS", "write"]
