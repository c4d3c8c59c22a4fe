"""The library's import surface: what `import searchengine` gives and what it costs."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter, so no earlier import hides what this one loads."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "first",
    [
        "import searchengine.search",
        "from searchengine.search import SearchRequest",
        "import searchengine",
        "from searchengine import open_index",
    ],
)
def test_searchengine_search_is_the_search_function_whatever_was_imported_first(first):
    done = run_python(
        f"{first}\n"
        "import searchengine\n"
        "from searchengine import search, SearchRequest, SearchResponse, Hit, Settings\n"
        "assert callable(search) and search.__name__ == 'search', search\n"
        "assert searchengine.search is search\n"
        "print(sorted(searchengine.__all__))\n"
    )
    assert done.returncode == 0, done.stderr
    assert "open_index" in done.stdout


def test_reading_settings_and_the_command_line_does_not_load_the_engine():
    """The server's master process and `--help` stay light: no Whoosh, numpy or dictionary."""
    done = run_python(
        "import sys, searchengine, searchengine.cli, searchengine.config, web.cli\n"
        "heavy = {'numpy', 'whoosh', 'rjieba', 'jieba', 'opencc'} & {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(heavy))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    done = run_python("import searchengine\nsearchengine.nothing_here\n")
    assert done.returncode == 1
    assert "AttributeError" in done.stderr and "nothing_here" in done.stderr
