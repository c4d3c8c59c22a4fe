"""The layout keeps its promises: dependencies point one way, functions stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FUNCTION_LINES = 60
# What each package may import from this project: web → searchengine ← indexer.
ALLOWED = {
    "searchengine": {"searchengine"},
    "indexer": {"indexer", "searchengine"},
    "web": {"web", "searchengine"},
}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & {"searchengine", "indexer", "web"}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_layout_allows(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(_project_imports(path) - ALLOWED[package])
        for path in _modules(package)
    }
    assert not {k: v for k, v in wrong.items() if v}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_function_is_longer_than_a_screen(package):
    long = []
    for path in _modules(package):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert not long
