"""What a reader asks for: the SearchRequest, checked once where it is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from searchengine.errors import InvalidParameter
from searchengine.settings import setting

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = setting("max_per_page")
MAX_FILTER_VALUES = setting("max_filter_values")


@dataclass(frozen=True)
class SearchRequest:
    """A query, filters, a sort and a page; invalid values are refused here."""

    q: str = ""
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    disjunctive: bool = False  # the page counts each facet without its own filter

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise InvalidParameter("sort", f"must be one of {', '.join(SORTS)}")
        if self.page < 1:
            raise InvalidParameter("page", "must be 1 or more")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidParameter("per_page", f"must be between 1 and {MAX_PER_PAGE}")
        if len(self.tags) > MAX_FILTER_VALUES or len(self.authors) > MAX_FILTER_VALUES:
            raise InvalidParameter("tag", f"at most {MAX_FILTER_VALUES} values per filter")

    @property
    def filtered(self) -> bool:
        """Tell whether any filter narrows the search."""
        return bool(self.tags or self.authors or self.date_from or self.date_to)

    @property
    def reversed_dates(self) -> bool:
        """Tell whether the date range ends before it starts (nothing can match)."""
        return bool(self.date_from and self.date_to and self.date_from > self.date_to)
