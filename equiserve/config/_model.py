"""The base of every configuration model, and what a file's validation knows beside its data.

Every table of ``study.toml`` and ``plan.toml`` is a :class:`ConfigModel`: strict (a bool
or a string is never a number, a number never a string), frozen, and closed to unknown keys.
Validation of a file runs with a context naming the folder relative paths resolve against
(:func:`reading`); models built in code need none.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import AliasChoices, BaseModel, ConfigDict, ValidationInfo, model_validator

from equiserve.config._messages import fill_in, problem


class ConfigModel(BaseModel):
    """A table of a configuration file.

    A field's TOML key is its validation alias (every choice of an ``AliasChoices``) or else
    its name; fields in :attr:`not_in_file` are filled in by a parent or by the reader, never
    by the file. ``flattened`` models (a :class:`~equiserve.config.sources.SourceSpec`) keep
    their keys in the table of the model holding them.
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
        arbitrary_types_allowed=True,  # pyproj.CRS values
    )

    #: Fields that a parent or the reader fills in; a file giving one is given an unknown key.
    not_in_file: ClassVar[frozenset[str]] = frozenset()
    #: True when the model's keys sit in the table of the model that holds it.
    flattened: ClassVar[bool] = False

    @classmethod
    def toml_keys(cls) -> frozenset[str]:
        """The keys a file may give in this model's table."""
        keys: set[str] = set()
        for name, info in cls.model_fields.items():
            alias = info.validation_alias
            if name in cls.not_in_file:
                continue
            if isinstance(alias, AliasChoices):
                keys.update(c for c in alias.choices if isinstance(c, str))
            else:
                keys.add(alias if isinstance(alias, str) else name)
        return frozenset(keys)


def reading(base_dir: str | os.PathLike[str], origin: Path | None = None) -> dict[str, Any]:
    """The validation context of a file: the folder its relative paths resolve against, and
    the file itself (None: data not read from a file)."""
    return {"base_dir": Path(base_dir).resolve(), "origin": origin}


def base_dir(info: ValidationInfo) -> Path:
    """The folder relative paths resolve against: the file's, else the working directory."""
    context = info.context if isinstance(info.context, dict) else {}
    return Path(context.get("base_dir") or Path.cwd())


def exactly_one(model: BaseModel, first: str, second: str, sentence: str) -> None:
    """Raise the :func:`~equiserve.config._messages.problem` ``sentence`` unless exactly one
    of the fields ``first`` and ``second`` of ``model`` is given."""
    if (getattr(model, first) is None) == (getattr(model, second) is None):
        raise problem(sentence)


class FileModel(ConfigModel):
    """A whole file: its tables, and ``path``, the file it was read from (None when built
    from a dict); ``name`` and ``description`` are those of its :attr:`header` table."""

    not_in_file: ClassVar[frozenset[str]] = frozenset({"path"})
    #: The table naming the file's subject: ``"study"`` or ``"scenario"``.
    header: ClassVar[str]

    path: Path | None = None

    @property
    def name(self) -> str:
        """The ``name`` of the :attr:`header` table."""
        return str(getattr(self, self.header).name)

    @property
    def description(self) -> str | None:
        """The ``description`` of the :attr:`header` table."""
        text = getattr(self, self.header).description
        return None if text is None else str(text)

    @model_validator(mode="before")
    @classmethod
    def _read_from(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict) and isinstance(info.context, dict):
            return fill_in(data, "", cls.toml_keys(), path=info.context.get("origin"))
        return data
