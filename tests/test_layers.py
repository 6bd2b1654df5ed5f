"""The package's structure holds: the import-linter contracts in pyproject.toml (layers,
outputs that never run an analysis, siting independent of scenarios) and no import cycle
among equiserve modules, imports inside functions counted.

Both tools are dev dependencies; when one is missing the test fails (it never skips).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "0 broken" in proc.stdout


def _graph() -> nx.DiGraph:
    import grimp

    g = grimp.build_graph("equiserve", exclude_type_checking_imports=True, cache_dir=None)
    out = nx.DiGraph()
    for m in g.modules:
        out.add_node(m)
        for imported in g.find_modules_directly_imported_by(m):
            out.add_edge(m, imported)
    return out


def test_no_import_cycle_among_modules():
    """Every import, at module level or inside a function, points one way. (A package's
    ``__init__`` re-exporting its own modules is not a cycle unless a module imports the
    package back.)"""
    cycles = [sorted(c) for c in nx.strongly_connected_components(_graph()) if len(c) > 1]
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_finds_function_level_imports(tmp_path, monkeypatch):
    """The check can fail: a lazy import inside a function closing a loop is found."""
    import grimp

    pkg = tmp_path / "loopy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from loopy import b\n")
    (pkg / "b.py").write_text("def f():\n    from loopy import a\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    g = grimp.build_graph("loopy", cache_dir=None)
    assert g.find_shortest_chain("loopy.b", "loopy.a") == ("loopy.b", "loopy.a")
    assert g.find_shortest_chain("loopy.a", "loopy.b") == ("loopy.a", "loopy.b")


def test_the_layer_contract_can_fail(tmp_path):
    """A lower layer importing a higher one inside a function breaks the contract."""
    pkg = tmp_path / "lay"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "high.py").write_text("from lay import low\n")
    (pkg / "low.py").write_text("def f():\n    from lay import high\n    return high\n")
    (tmp_path / "contracts.toml").write_text(
        '[tool.importlinter]\nroot_package = "lay"\n[[tool.importlinter.contracts]]\n'
        'name = "layers"\ntype = "layers"\nlayers = ["lay.high", "lay.low"]\n')
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='contracts.toml', no_cache=True, "
            "no_logo=True))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert proc.returncode != 0 and "1 broken" in proc.stdout, proc.stdout + proc.stderr
