"""Every docstring example in the package runs (momepy style: examples that cannot rot)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import equiserve

MODULES = sorted(m.name for m in pkgutil.walk_packages(equiserve.__path__, "equiserve.")
                 if m.name != "equiserve.__main__")  # runs the CLI on import


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
