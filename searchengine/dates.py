"""Dates, one representation each way: an aware datetime in, ISO 8601 with its zone out.

Whoosh's DATETIME field wants a naive datetime, so the index keeps UTC without a zone;
the facet column keeps the same moment as a POSIX timestamp and a YYYY-MM month. Every
conversion between them lives here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def to_index(when: datetime | None) -> datetime | None:
    """The moment as the index stores it: naive UTC."""
    return when.astimezone(UTC).replace(tzinfo=None) if when else None


def to_iso(stored: datetime | None) -> str | None:
    """A stored moment as the JSON and the pages show it (ISO 8601, UTC)."""
    return stored.replace(tzinfo=UTC).isoformat() if stored else None


def timestamp(stored: datetime) -> float:
    """A stored moment as seconds since the epoch, for date arrays."""
    return stored.replace(tzinfo=UTC).timestamp()


def month(stored: datetime) -> str:
    """The YYYY-MM month a stored moment falls in, for the date facet."""
    return stored.strftime("%Y-%m")


def day_start(day: date) -> float:
    """The first instant of a UTC day as a timestamp (a 'from' filter)."""
    return datetime.combine(day, time.min, tzinfo=UTC).timestamp()


def day_end(day: date) -> float:
    """The last instant of a UTC day as a timestamp (a 'to' filter)."""
    return datetime.combine(day, time.max, tzinfo=UTC).timestamp()
