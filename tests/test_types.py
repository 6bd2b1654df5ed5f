"""The package type-checks: mypy (configured in pyproject.toml) finds no error in
equiserve. mypy is a dev dependency; when it is missing the test fails (it never skips)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_passes_on_the_package():
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert "Success: no issues found" in proc.stdout
