"""The location models by name: what each needs and how it solves a :class:`SitingProblem`.

Each model module defines its :class:`LocationModel` as ``MODEL``; adding a model is one
new module and one line in :data:`MODELS`.

>>> get_model("pmedian").reach_factor
4.0
>>> [name for name, model in MODELS.items() if not model.needs_count]
['lscp']
"""

from __future__ import annotations

from equiserve.errors import ConfigError
from equiserve.siting.models import capacitated, lscp, maxmin, mclp, pmedian
from equiserve.siting.models.problem import LocationModel, SitingProblem

__all__ = ["MODELS", "LocationModel", "SitingProblem", "get_model"]

#: The models in the order they are offered (``--model``).
MODELS: dict[str, LocationModel] = {model.name: model for model in (
    mclp.MODEL,
    lscp.MODEL,
    pmedian.MODEL,
    capacitated.MODEL,
    maxmin.MODEL,
)}


def get_model(name: str) -> LocationModel:
    """The registered model called ``name``; :class:`~equiserve.errors.ConfigError` if none is."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"--model {name!r} is not valid; expected one of "
                          f"{', '.join(MODELS)}") from None
