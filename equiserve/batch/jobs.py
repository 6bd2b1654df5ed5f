"""The cities of a batch as jobs: a study.toml each, or the template filled in per row of
its table, with the batch's ``[shared]`` tables merged in (:func:`city_jobs`)."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from equiserve.config._messages import read_toml, toml_text
from equiserve.config.batch import BatchConfig, check_city_name
from equiserve.errors import ConfigError, DataError
from equiserve.io.tables import read_table


@dataclass(frozen=True)
class CityJob:
    """One city of a batch: ``study`` is its study.toml's tables (``[shared]`` merged in),
    ``folder`` where its relative paths resolve, ``origin`` the file named in errors."""

    name: str
    study: dict[str, Any]
    folder: Path
    origin: Path


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, tables key by key (``extra`` wins).

    >>> _merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}, "d": 4})
    {'a': {'b': 1, 'c': 3}, 'd': 4}
    """
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def city_jobs(cfg: BatchConfig) -> list[CityJob]:
    """Every city of the batch as a :class:`CityJob`, in the file's (or table's) order.

    Raises
    ------
    ConfigError
        A study file that does not exist or is not TOML; a template key the table has no
        column for; a table without names, or with a name twice.
    """
    where = cfg.path.name if cfg.path else "batch"
    jobs = []
    if cfg.template is None:
        for c in cfg.city or ():
            if not c.study.is_file():
                raise ConfigError(f"{where}: city {c.name!r}: study {c.study} does not exist "
                                  "(relative paths resolve against the batch file's folder)")
            _path, data = read_toml(c.study, f"study of city {c.name!r}")
            jobs.append(CityJob(c.name, _merge(data, cfg.shared), c.study.parent, c.study))
        return jobs
    return _template_jobs(cfg, where)


def _template_jobs(cfg: BatchConfig, where: str) -> list[CityJob]:
    t = cfg.template
    assert t is not None
    for f, key in ((t.study, "study"), (t.table, "table")):
        if not f.is_file():
            raise ConfigError(f"{where}: [template] {key} {f} does not exist (relative paths "
                              "resolve against the batch file's folder)")
    text = string.Template(toml_text(t.study))
    rows = read_table(t.table, where=f"{where} [template] table")
    rows.columns = [str(c).strip() for c in rows.columns]
    if t.name_field not in rows.columns:
        raise ConfigError(f"{where}: [template] table {t.table.name} has no column "
                          f"{t.name_field!r} (the city names); columns: "
                          f"{', '.join(rows.columns)}")
    wanted = sorted({m.group("named") or m.group("braced") for m in
                     text.pattern.finditer(text.template) if m.group("named") or
                     m.group("braced")})
    lacking = [k for k in wanted if k not in rows.columns]
    if lacking:
        raise ConfigError(f"{where}: [template] study {t.study.name} uses ${{{lacking[0]}}} "
                          f"but the table {t.table.name} has no column {lacking[0]!r}; "
                          f"columns: {', '.join(rows.columns)}")
    names = [str(n).strip() for n in rows[t.name_field]]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{where}: [template] table {t.table.name}: city {twice[0]!r} is "
                          "named twice; every city needs a name of its own (its output "
                          "folder)")
    jobs = []
    for name, (_i, row) in zip(names, rows.iterrows(), strict=True):
        try:
            check_city_name(name)
        except Exception:
            raise ConfigError(f"{where}: [template] table {t.table.name}: city name "
                              f"{name!r} cannot be a folder name") from None
        filled = text.substitute({k: str(row[k]) for k in wanted})
        try:
            data = tomllib.loads(filled)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{where}: [template] study {t.study.name} filled in for city "
                            f"{name!r} is not valid TOML: {exc}") from None
        jobs.append(CityJob(name, _merge(data, cfg.shared), t.study.parent, t.study))
    return jobs
