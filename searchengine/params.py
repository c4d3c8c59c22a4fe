"""Turn request parameters (from a URL or the command line) into a SearchRequest."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from searchengine.errors import InvalidParameter
from searchengine.request import SearchRequest

MAX_PARAM_CHARS = 1000
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT = re.compile(r"^\s*\d{1,9}\s*$")
_SIGNED_INT = re.compile(r"^\s*[-+]?\d+\s*$")
MAX_INT = 999_999_999


def _one(get: Callable[[str], list[str]], name: str) -> str | None:
    values = get(name)
    if not values:
        return None
    value = values[0]
    if len(value) > MAX_PARAM_CHARS:
        raise InvalidParameter(name, f"is longer than {MAX_PARAM_CHARS} characters")
    return value


def parse_day(name: str, value: str | None) -> date | None:
    """Read a YYYY-MM-DD date, or say precisely what is wrong with it."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not _DAY.match(value):
        raise InvalidParameter(name, f"must be a date as YYYY-MM-DD, not {value[:40]!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(name, f"{value!r} is not a real date") from None


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if not _INT.match(value):
        if _SIGNED_INT.match(value) and "-" in value:
            raise InvalidParameter(name, f"must be 1 or more, not {value[:40]!r}")
        if _SIGNED_INT.match(value) and int(value) > MAX_INT:
            raise InvalidParameter(name, f"must be at most {MAX_INT:,}, not {value[:40]!r}")
        raise InvalidParameter(name, f"must be a whole number, not {value[:40]!r}")
    return int(value)


def _many(get: Callable[[str], list[str]], *names: str) -> tuple[str, ...]:
    out: list[str] = []
    for name in names:
        for v in get(name):
            if len(v) > MAX_PARAM_CHARS:
                raise InvalidParameter(name, f"is longer than {MAX_PARAM_CHARS} characters")
            if v.strip():
                out.append(v.strip())
    return tuple(dict.fromkeys(out))


def parse_request(get: Callable[[str], list[str]], *, disjunctive: bool = False) -> SearchRequest:
    """Build a SearchRequest from ``get(name) -> values``, as both the API and the page do."""
    sort = _one(get, "sort") or "relevance"
    return SearchRequest(
        q=_one(get, "q") or "",
        tags=_many(get, "tag"),
        authors=_many(get, "author"),
        date_from=parse_day("from", _one(get, "from")),
        date_to=parse_day("to", _one(get, "to")),
        sort=sort.strip().lower(),
        page=_int("page", _one(get, "page"), 1),
        per_page=_int("per_page", _one(get, "per_page"), 10),
        disjunctive=disjunctive,
    )
