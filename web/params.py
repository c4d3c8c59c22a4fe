"""Turn a request's query string into a SearchRequest, the same way for the page and the API."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from searchengine.errors import InvalidParameter
from searchengine.params import parse_request
from searchengine.request import MAX_FILTER_VALUES, SearchRequest

REPEATABLE = ("tag", "author")


def read_request(args: MultiDict, *, disjunctive: bool = False) -> SearchRequest:
    """Count repeated filters as sent (blanks and repeats too), as the OpenAPI maxItems says."""
    for name in REPEATABLE:
        if len(args.getlist(name)) > MAX_FILTER_VALUES:
            raise InvalidParameter(name, f"at most {MAX_FILTER_VALUES} values per filter")
    return parse_request(args.getlist, disjunctive=disjunctive)
