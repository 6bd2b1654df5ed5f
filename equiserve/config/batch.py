"""The batch file (batch.toml): many studies run as one job (``equiserve batch``).

.. code-block:: toml

    [batch]
    name = "Guangdong, 21 cities"
    # scheduler = "tcp://10.0.0.5:8786"   # an existing Dask cluster; default: a
    #                                     # LocalCluster sized to this machine
    # workers = 2                         # LocalCluster workers (default: one per core)

    [[city]]                              # a study per city ...
    name = "zhuhai"
    study = "zhuhai/study.toml"

    [template]                            # ... or one study for all, filled in per city
    study = "template.toml"               # ${key} placeholders
    table = "cities.csv"                  # a row per city: name and every key

    [shared.layers.schools]               # merged into every city's study (standards...)
    standard = { mode = "walk", distance_m = 500 }

:func:`equiserve.batch.jobs.city_jobs` makes each city a job: its name, its study.toml as
a dict (with ``[shared]`` merged in) and the folder its relative paths resolve against.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from equiserve.config._messages import problem, read_toml, validate
from equiserve.config._model import ConfigModel, FileModel, exactly_one, reading
from equiserve.config.types import FilePath, Text, TupleOf

#: A city's name: its output folder's name too.
CITY_NAME = re.compile(r"^[^/\\:*?\"<>|\x00-\x1f]+$")


def check_city_name(value: str) -> str:
    """``value``, or a ``problem`` if it cannot be a folder's name."""
    if not CITY_NAME.match(value) or value in (".", "..") or value != value.strip():
        raise problem(f"city name {value!r} cannot be a folder name; use letters, digits, "
                      "spaces, - or _ (no / \\ : * ? \" < > |)")
    return value


CityName = Annotated[Text, Field(description="a name that can be a folder's")]


class BatchInfo(ConfigModel):
    """The ``[batch]`` table: name, where to run, how many local workers, retries."""

    name: Text
    description: Text | None = None
    scheduler: Text | None = None
    workers: Annotated[int, Field(ge=1, description="a number of workers, 1 or more")] | None \
        = None
    retries: Annotated[int, Field(ge=0, le=10, description="0 to 10")] = 2


class CityEntry(ConfigModel):
    """A ``[[city]]``: its name and the path of its study.toml."""

    name: CityName
    study: FilePath

    @model_validator(mode="after")
    def _folder_name(self) -> CityEntry:
        check_city_name(self.name)
        return self


class TemplateConfig(ConfigModel):
    """The ``[template]`` table: one study.toml with ``${key}`` placeholders and a table
    (CSV, TXT, TSV or Excel) with a row per city: ``name`` and every key."""

    study: FilePath
    table: FilePath
    name_field: Text = "name"


class BatchConfig(FileModel):
    """A whole batch file; ``path`` is the file it was read from."""

    header: ClassVar[str] = "batch"

    batch: BatchInfo
    city: TupleOf[CityEntry] | None = None
    template: TemplateConfig | None = None
    shared: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _cities(self) -> BatchConfig:
        exactly_one(self, "city", "template", "the batch file needs [[city]] tables (a "
                    "study each) or one [template] (a study and a table of cities), not both")
        names = [c.name for c in self.city or ()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise problem(f"two [[city]] tables are named {twice[0]!r}; every city needs a "
                          "name of its own (its output folder)")
        return self


def load_batch(path: str | os.PathLike[str]) -> BatchConfig:
    """Read and validate a batch file (see the module docstring).

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or a key or value is wrong.
    """
    path, data = read_toml(path, "batch file")
    return validate(BatchConfig, data, reading(path.parent, path), path.name)
