"""Digest Search: bilingual full-text search over Markdown news digests.

>>> from searchengine import open_index, search, SearchRequest
>>> ix = open_index("index_data")
>>> resp = search(ix, SearchRequest(q="美联储 降息", tags=("us",)))
>>> resp.to_dict()["total"]  # doctest: +SKIP

The names below are imported on first use, so a command that only reads settings, or
the server's master process, does not load Whoosh, numpy and the segmenter.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

_EXPORTS = {
    "Hit": "searchengine.results",
    "Index": "searchengine.index",
    "SearchEngineError": "searchengine.errors",
    "SearchRequest": "searchengine.request",
    "SearchResponse": "searchengine.results",
    "Settings": "searchengine.config",
    "open_index": "searchengine.index",
    "search": "searchengine.search",
}
__all__ = [
    "Hit",
    "Index",
    "SearchEngineError",
    "SearchRequest",
    "SearchResponse",
    "Settings",
    "open_index",
    "search",
]

if TYPE_CHECKING:
    from searchengine.config import Settings
    from searchengine.errors import SearchEngineError
    from searchengine.index import Index, open_index
    from searchengine.request import SearchRequest
    from searchengine.results import Hit, SearchResponse
    from searchengine.search import search


def __getattr__(name: str):
    """Import an exported name when it is first asked for."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'searchengine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """Keep ``searchengine.search`` the function once its module of the same name loads.

    Importing a submodule sets it as an attribute of the package; ``search`` is the
    public function, so the module gives way to the function it defines.
    """

    def __setattr__(self, name: str, value) -> None:
        if name == "search" and isinstance(value, types.ModuleType):
            value = value.search
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
