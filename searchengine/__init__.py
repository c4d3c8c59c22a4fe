"""Digest Search: bilingual full-text search over Markdown news digests.

>>> from searchengine import open_index, search, SearchRequest
>>> ix = open_index("index_data")
>>> resp = search(ix, SearchRequest(q="美联储 降息", tags=("us",)))
>>> resp.to_dict()["total"]  # doctest: +SKIP
"""

from searchengine.config import Settings
from searchengine.errors import SearchEngineError
from searchengine.index import Index, open_index
from searchengine.search import Hit, SearchRequest, SearchResponse, search

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
