"""The errors the indexer raises; as SearchEngineErrors the CLI reports each in one line."""

from __future__ import annotations

from searchengine.errors import SearchEngineError


class CorpusError(SearchEngineError):
    """The corpus folder is missing or holds no document."""

    code = "corpus_error"
