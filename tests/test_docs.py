"""Docs that cannot drift: every command has help and is in the README; doctests run."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [
    ("indexer", "rebuild"),
    ("indexer", "update"),
    ("indexer", "status"),
    ("indexer", "watch"),
    ("searchengine", "query"),
    ("searchengine", "serve"),
]


@pytest.mark.parametrize(("program", "command"), COMMANDS)
def test_every_command_has_help_with_an_example_and_is_in_the_readme(program, command):
    # The console scripts as installed: `searchengine` is web.cli:main, which adds `serve`.
    script = Path(sys.executable).with_name(program)
    result = subprocess.run(
        [str(script), command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Example:" in result.stdout
    assert f"{program} {command}" in README


def test_readme_opens_with_the_two_commands():
    blocks = README.split("```sh")[1:3]
    assert "indexer rebuild" in blocks[0] and "searchengine serve" in blocks[0]
    assert "pytest" in blocks[1]


def test_ci_runs_the_readme_test_command():
    test_command = README.split("```sh")[2].split("```")[0].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "module",
    [
        "searchengine.analysis",
        "searchengine.text",
        "searchengine.folding",
        "searchengine.highlighting",
    ],
)
def test_doctests_in_the_library_hold(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0


def test_code_is_ruff_clean():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "searchengine",
            "indexer",
            "web",
            "tests",
            "benchmarks",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
