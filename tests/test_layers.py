"""Nothing below api imports it: engine, solvers, models and benchmarks get what the settings
say as arguments (``lint-imports`` checks the whole graph; this is the quick guard)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELOW_API = ("engine", "solvers", "models", "benchmarks")


def _imports_of_api(path: Path) -> list[str]:
    """``line: statement`` for each import of ``api`` (or a module under it) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{node.lineno}: {n}" for n in names if n == "api" or n.startswith("api.")]
    return found


@pytest.mark.parametrize("package", BELOW_API)
def test_no_module_below_api_imports_it(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules, f"no modules found under {package}/"
    offenders = {
        str(path.relative_to(ROOT)): hits for path in modules if (hits := _imports_of_api(path))
    }
    assert not offenders, offenders
