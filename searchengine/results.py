"""What a search or a lookup shows: the result types whose ``to_dict`` is the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass

from searchengine.dates import to_iso
from searchengine.facets import FacetValue
from searchengine.request import SearchRequest


@dataclass(frozen=True)
class DocumentFields:
    """The fields a result and a document page both show, read from stored fields once."""

    id: str
    title: str
    description: str
    date: str | None  # ISO 8601, UTC
    tags: list[str]
    author: str
    category: str
    url: str

    @staticmethod
    def read(stored: dict) -> dict:
        """Map a document's stored fields to these fields' values (for ``cls(**…)``)."""
        return {
            "id": stored["id"],
            "title": stored.get("title", ""),
            "description": stored.get("description", ""),
            "date": to_iso(stored.get("date")),
            "tags": list(stored.get("tags") or []),
            "author": stored.get("author", ""),
            "category": stored.get("category", ""),
            "url": stored.get("url", ""),
        }

    def fields_dict(self) -> dict:
        """The JSON both results and documents carry (a result leaves out the category)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "date": self.date,
            "tags": self.tags,
            "author": self.author,
            "url": self.url,
        }


@dataclass(frozen=True)
class Hit(DocumentFields):
    """One result: the document's fields, its score and its highlighted title and snippets."""

    score: float
    title_html: str
    snippet_html: str
    snippet_lang: str = "zh"
    other_snippet_html: str = ""

    def to_dict(self) -> dict:
        return {
            **self.fields_dict(),
            "score": self.score,
            "highlights": {"title": self.title_html, "snippet": self.snippet_html},
        }


@dataclass(frozen=True)
class SearchResponse:
    """The answer to a SearchRequest; ``to_dict`` is the JSON contract."""

    request: SearchRequest
    total: int
    took_ms: float
    relaxed: bool
    results: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    notice: str | None = None  # the query was read otherwise than typed (nothing searchable)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.request.q,
            "total": self.total,
            "page": self.request.page,
            "per_page": self.request.per_page,
            "took_ms": self.took_ms,
            "relaxed": self.relaxed,
            "results": [h.to_dict() for h in self.results],
            "facets": {k: [v.to_dict() for v in vs] for k, vs in self.facets.items()},
            "suggestion": self.suggestion,
            "notice": self.notice,
        }
