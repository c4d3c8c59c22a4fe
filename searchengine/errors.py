"""Typed errors with messages a reader can act on; only web/errors.py maps them to HTTP."""

from __future__ import annotations


class SearchEngineError(Exception):
    """Base class: ``code`` is the machine-readable name in the JSON error."""

    code = "error"


class InvalidParameter(SearchEngineError):
    """A request parameter has a value we cannot use."""

    code = "invalid_parameter"

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name = name


class InvalidQuery(SearchEngineError):
    """The query string is too long, too deep or otherwise refused."""

    code = "invalid_query"


class IndexMissing(SearchEngineError):
    """No index has been built at the configured location."""

    code = "index_missing"


class IndexIncompatible(SearchEngineError):
    """The index was built by another schema version, or is damaged, and needs a rebuild."""

    code = "index_incompatible"

    @classmethod
    def unreadable(cls, gen: object, cause: object) -> IndexIncompatible:
        """The error for a generation whose files cannot be read (``cause`` says why)."""
        return cls(f"The index at {gen} cannot be read ({cause}). Run: indexer rebuild")


class IndexBusy(SearchEngineError):
    """Another indexer holds the write lock."""

    code = "index_busy"


class DocumentNotFound(SearchEngineError):
    """No document has that id."""

    code = "not_found"


class QueryTooCostly(InvalidQuery):
    """The query would take longer than a search may take."""

    code = "query_too_costly"
