"""The text files of the demo folder, rendered from the templates in ``templates/``.

Each template is a :class:`string.Template` (``$placeholders``; TOML braces stay literal),
read with :mod:`importlib.resources` so that it is found in an installed package too.
"""

from __future__ import annotations

from importlib import resources
from string import Template
from typing import Literal

from equiserve.datasets.demo.layout import DEMO_NAME

__all__ = ["TemplateName", "readme", "render", "study_toml"]

TemplateName = Literal["README.txt", "study.toml", "plan.toml", "plan_school.toml"]
"""The files in ``templates/``."""


def render(template: TemplateName, /, **values: str | int) -> str:
    """Template `template` with its ``$placeholders`` replaced by `values` (all of them needed).

    >>> print(render("plan_school.toml", town="Sandbank", year=2024))
    [[add]]
    layer = "primary_schools"
    name = "Sandbank New Primary School"
    place = "Sandbank"
    capacity = 1080
    year = 2024
    <BLANKLINE>
    """
    folder = resources.files("equiserve.datasets.demo").joinpath("templates")
    text = folder.joinpath(template).read_text(encoding="utf-8")
    return Template(text).substitute(values)


def readme(seed: int) -> str:
    """``README.txt``: what the demo files are, and that they are synthetic."""
    return render("README.txt", name=DEMO_NAME, seed=seed)


def study_toml(seed: int) -> str:
    """``study.toml``: the study configuration of the demo (paths relative to its folder)."""
    return render("study.toml", name=DEMO_NAME, seed=seed)
