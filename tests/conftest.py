"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def zhuhai_data() -> Path:
    """Folder of the real Zhuhai test data (``shared/data/zhuhai``, see its SOURCES.md).

    Taken from the ``EQUISERVE_ZHUHAI_DATA`` environment variable, else
    ``<repo>/../shared/data/zhuhai``. When it is missing the test fails on CI
    (``CI=true``) and is skipped elsewhere.
    """
    env = os.environ.get("EQUISERVE_ZHUHAI_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "zhuhai"
    if not (path / "SOURCES.md").is_file():
        msg = (
            f"Zhuhai test data not found at {path}; set EQUISERVE_ZHUHAI_DATA to the "
            "folder holding SOURCES.md"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
