"""From pydantic's ``ValidationError`` to the one :class:`~equiserve.errors.ConfigError` a
planner reads: the file, the key at fault, the value given and what is allowed.

Validators raise two kinds of error of their own (:func:`invalid` and :func:`problem`);
pydantic raises the rest. :func:`config_error` reports one error of a ``ValidationError``,
in this order: an unknown key, else the missing keys of one table (all of them), else the
first other error. Its location becomes a TOML key by walking the models along it
(:func:`_walk`): a union's tag and the nested table of a source, which the file does not
show, are left out, and array entries are numbered (``regions.split[0]``). The messages:

========================  =========================================================================
error                     message (after ``<file>: ``)
========================  =========================================================================
unknown key               ``unknown key 'standrad' in [layers.schools]; did you mean 'standard'?
                          Allowed keys: ...`` (the keys of the table's model)
missing keys              ``[layers.schools] is missing required key(s) 'source'``
:func:`problem`           its sentence, with ``{key}`` replaced by the TOML key at fault and
                          ``{n}`` by the entry's number in its array of tables (1 for the first);
                          a ``ConfigError`` a validator lets through (e.g. from
                          :func:`~equiserve.crs.parse_crs`) is a problem too
anything else             ``<key> = <value> is not valid; expected <what>``
========================  =========================================================================

*What is expected* is, in this order: the ``expected`` of an :func:`invalid` error; the
``description`` of the innermost field on the way to the error below its table (so a field
documents its valid values once, e.g. ``steps``); the choices of a ``Literal``
(``one of walk, drive``); else a phrase for pydantic's error type (``a number greater than
0``, ``a non-empty string``, ``true or false``, ``a table [map]``, ...). A number that fails
a bound is shown as the float it was read as (``floor = 0.0``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from equiserve.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def invalid(expected: str, *, at: str | None = None, **value: Any) -> PydanticCustomError:
    """An error: the value is not what ``expected`` says (``"a path or a list of paths"``).

    ``at`` names a key below the model raising it (a model validator's errors are the
    model's); ``value=...`` gives the value to show, else it is looked up in the file.
    """
    ctx: dict[str, Any] = {"expected": expected, "at": at} | value
    return PydanticCustomError("invalid", "expected {expected}", ctx)


def problem(sentence: str, *, at: str | None = None) -> PydanticCustomError:
    """An error stated by a whole sentence; ``{key}`` and ``{n}`` are filled in (see above)."""
    return PydanticCustomError("problem", "{sentence}", {"sentence": sentence, "at": at})


def unknown_key(key: str, table: str, allowed: frozenset[str]) -> str:
    """``unknown key 'k' in [table]; did you mean '...'? Allowed keys: ...``."""
    label = f"[{table}]" if table else "the top level"
    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else "."
    return f"unknown key '{key}' in {label}{hint} Allowed keys: {', '.join(sorted(allowed))}"


def fill_in(table: Any, where: str, allowed: frozenset[str], **values: Any) -> Any:
    """``table`` with ``values`` added, keys that a parent fills in (a layer's name, an
    entry's index); a file giving one of them itself gives an unknown key (``allowed``
    lists the table's keys)."""
    if not isinstance(table, dict):
        return table
    for key in values:
        if key in table:
            raise problem(unknown_key(key, where, allowed))
    return {**table, **values}


def number_entries(data: Any, key: str, where: str, allowed: frozenset[str]) -> Any:
    """``data`` with each table of its array of tables ``key`` given its ``index`` (a key
    the file may not give, see :func:`fill_in`); ``where`` names the array in messages."""
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return data
    return {**data, key: [fill_in(e, f"{where}[{i}]", allowed, index=i)
                          for i, e in enumerate(entries)]}


def read_toml(path: str | os.PathLike[str], what: str) -> tuple[Path, dict[str, Any]]:
    """The absolute path and contents of a TOML file; ``what`` names it when it is missing."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{what} not found: {path}")
    text = toml_text(path)
    try:
        return path, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None


def toml_text(path: Path) -> str:
    """The text of a TOML file: UTF-8, a byte-order mark (Notepad's) dropped; any other
    encoding is a :class:`ConfigError` saying how to save the file as UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{data[exc.start]:02x} at position {exc.start}"
    try:
        data.decode("gb18030")
        looks, source = "; it looks like GBK/GB18030 (Chinese Windows' default)", "GB18030"
    except UnicodeDecodeError:
        looks, source = "", "<its encoding>"
    raise ConfigError(f"{path} is not UTF-8 text ({where}){looks}; save it as UTF-8: in "
                      "Notepad 'Save as…' with Encoding UTF-8, or `iconv -f "
                      f"{source} -t UTF-8 {path.name} > {path.stem}-utf8{path.suffix}`")


def validate(model: type[M], data: Any, context: dict[str, Any], origin: str) -> M:
    """``model`` validated from a file's ``data``; errors become one :class:`ConfigError`
    naming ``origin`` (the file name)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise config_error(exc, model, origin, data) from None


# ---------------------------------------------------------------------------------------
# the translation


def config_error(exc: ValidationError, model: type[BaseModel], origin: str,
                 data: Any = None) -> ConfigError:
    """The :class:`ConfigError` reporting ``exc`` (see the module docstring)."""
    errors = exc.errors(include_url=False)
    rank = {"extra_forbidden": 0, "missing": 1, "union_tag_not_found": 1}
    err = min(errors, key=lambda e: rank.get(e["type"], 2))
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"]) + ((ctx["at"],) if ctx.get("at") else ())
    steps = _walk(model, loc)
    key = _toml_key(steps)
    kind = err["type"]
    if kind == "extra_forbidden":
        toml_keys = getattr(steps[-2].tp, "toml_keys", None) if len(steps) > 1 else None
        allowed = toml_keys() if toml_keys else frozenset()
        return ConfigError(f"{origin}: {unknown_key(str(loc[-1]), _toml_key(steps[:-1]), allowed)}")
    if kind in ("missing", "union_tag_not_found"):
        return ConfigError(f"{origin}: {_missing(errors, err, model)}")
    if kind == "problem" or (kind == "value_error" and isinstance(ctx.get("error"), ConfigError)):
        sentence = ctx["sentence"] if kind == "problem" else str(ctx["error"])
        number = next((i + 1 for i in reversed(loc) if isinstance(i, int)), 1)
        sentence = sentence.replace("{key}", key).replace("{n}", str(number))
        return ConfigError(f"{origin}: {sentence}")
    if kind == "union_tag_invalid":
        tags = ", ".join(_variants(steps[-1].tp))
        field = str(ctx["discriminator"]).strip("'")
        return _not_valid(origin, f"{key}.{field}", ctx["tag"], f"one of {tags}")
    if kind == "invalid":
        value = ctx["value"] if "value" in ctx else _lookup(data, steps, err["input"])
        return _not_valid(origin, key, value, ctx["expected"])
    step = _reported_step(steps, kind)
    value = err["input"]
    if step is not steps[-1]:
        value = _lookup(data, steps[:steps.index(step) + 1], value)
    elif step.tp is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)  # shown as read
    return _not_valid(origin, step.key, value,
                      step.description or _expected(step, kind, ctx, err["msg"]))


def _not_valid(origin: str, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"{origin}: {key} = {value!r} is not valid; expected {expected}")


def _missing(errors: list[Any], first: Any, model: type[BaseModel]) -> str:
    """``[table] is missing required key(s) 'a', 'b'``: every missing key of the table of
    ``first``."""

    def table_and_key(e: Any) -> tuple[str, str]:
        steps = _walk(model, tuple(e["loc"]))
        if e["type"] == "union_tag_not_found":
            return _toml_key(steps), str(e["ctx"]["discriminator"]).strip("'")
        return _toml_key(steps[:-1]), str(e["loc"][-1])

    table = table_and_key(first)[0]
    keys = sorted({k for e in errors if e["type"] in ("missing", "union_tag_not_found")
                   for t, k in [table_and_key(e)] if t == table})
    label = f"[{table}]" if table else "the top level"
    return f"{label} is missing required key(s) {', '.join(repr(k) for k in keys)}"


_CONTAINER_ERRORS = {"model_type", "model_attributes_type", "dict_type", "tuple_type",
                     "list_type", "too_short", "too_long"}


def _reported_step(steps: list[_Step], kind: str) -> _Step:
    """The step an error is reported at: the innermost described one below the error's
    table, else the array for an entry of the wrong type, else the error's own."""
    tables = [i for i, s in enumerate(steps[:-1]) if _is_model(s.tp)]
    below = steps[tables[-1] + 1:] if tables else steps
    described = [s for s in below if s.description]
    if described:
        return described[-1]
    if kind in _CONTAINER_ERRORS and len(steps) > 1 and isinstance(steps[-1].part, int):
        return steps[-2]  # an entry of an array of tables: the array is wrong
    return steps[-1]


def _expected(step: _Step, kind: str, ctx: dict[str, Any], msg: str) -> str:
    """What a value of ``step``'s type looks like, for an error of type ``kind``."""
    tp, key = step.tp, step.key
    inner = get_args(tp)[0] if get_origin(tp) in (tuple, list) and get_args(tp) else None
    if _is_model(inner):
        return f"an array of tables [[{key}]]"
    if _is_model(tp) or get_origin(tp) is dict:
        return f"a table [{key}]"
    if tp is Path:
        return "a path"
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(str(a) for a in get_args(tp))
    bound = next((ctx[b] for b in ("gt", "ge", "lt", "le") if b in ctx), None)
    noun = "an integer" if tp is int else "a number"
    phrases = {
        "greater_than": f"{noun} greater than {bound:g}" if bound is not None else noun,
        "greater_than_equal": f"{noun} >= {bound:g}" if bound is not None else noun,
        "less_than": f"{noun} less than {bound:g}" if bound is not None else noun,
        "less_than_equal": f"{noun} <= {bound:g}" if bound is not None else noun,
        "float_type": "a number", "finite_number": "a finite number", "int_type": "an integer",
        "bool_type": "true or false", "string_type": "a non-empty string",
        "string_pattern_mismatch": "a non-empty string", "string_too_short": "a non-empty string",
        "path_type": "a path", "too_short": "a non-empty list",
        "tuple_type": "a list", "list_type": "a list",
    }
    return phrases.get(kind, msg[:1].lower() + msg[1:])


# ---------------------------------------------------------------------------------------
# the walk along a location


@dataclass
class _Step:
    """One step of a location: its TOML key so far, the type there and its description."""

    part: str | int | None  # None: a step the file does not show (a tag, a source's table)
    tp: Any
    description: str | None
    key: str = ""


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> list[_Step]:
    """The steps from ``model`` along ``loc``; the first is the model itself."""
    steps = [_Step(None, model, None)]
    tp: Any = model
    for i, item in enumerate(loc):
        tp, _ = _unwrap(tp)
        part: str | int | None = item
        if _is_model(tp):
            info = _field(tp, item)
            if info is None:  # an unknown key, or the member of a union without tags
                steps.append(_Step(item, None, None))
                break
            child = info.annotation
            inner, desc = _unwrap(child)
            if getattr(inner, "flattened", False) and i + 1 < len(loc):
                part = None
            desc = info.description or desc
        elif get_origin(tp) is dict:
            child = get_args(tp)[1]
            desc = _unwrap(child)[1]
        elif get_origin(tp) in (tuple, list):
            child = get_args(tp)[0]
            desc = _unwrap(child)[1]
        elif _variants(tp) and item in _variants(tp):
            child, desc, part = _variants(tp)[item], None, None
        else:
            break
        tp = child
        steps.append(_Step(part, _unwrap(child)[0], desc))
    for n, step in enumerate(steps):
        step.key = _toml_key(steps[:n + 1])
    return steps


def _toml_key(steps: list[_Step]) -> str:
    key = ""
    for s in steps:
        if isinstance(s.part, int):
            key += f"[{s.part}]"
        elif s.part is not None:
            key += f".{s.part}" if key else str(s.part)
    return key


def _lookup(data: Any, steps: list[_Step], default: Any) -> Any:
    """The value the file gives at ``steps``, else ``default``."""
    node = data
    for s in steps:
        if s.part is None:
            continue
        try:
            node = node[s.part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def _unwrap(tp: Any) -> tuple[Any, str | None]:
    """``tp`` without ``Annotated`` and ``None``, and the description annotated on it."""
    desc = None
    while True:
        if get_origin(tp) is Annotated:
            for meta in tp.__metadata__:
                if isinstance(meta, FieldInfo) and meta.description and desc is None:
                    desc = meta.description
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            tp = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return tp, desc


def _variants(tp: Any) -> dict[str, Any]:
    """The models of a tagged union by tag (a ``Tag``, or the default of their ``type``)."""
    if get_origin(tp) not in (Union, types.UnionType):
        return {}
    out = {}
    for arg in get_args(tp):
        if get_origin(arg) is Annotated:
            tag = next((m.tag for m in arg.__metadata__ if isinstance(m, Tag)), None)
            arg = get_args(arg)[0]
        else:
            field = arg.model_fields.get("type") if _is_model(arg) else None
            tag = field.default if field is not None else None
        if isinstance(tag, str):
            out[tag] = arg
    return out


def _field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        names = {name} | ({alias} if isinstance(alias, str) else
                          set(getattr(alias, "choices", ())))
        if key in names:
            return info
    return None


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
