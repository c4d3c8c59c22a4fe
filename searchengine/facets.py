"""Exact facet counts over a whole result set, from one column read per generation.

Each document's facet values are one record in the index's ``facets`` column, written
by ``encode_record`` at index time and read back here, once per generation, into
arrays indexed by document number. Counting a result set is then a ``bincount``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from searchengine import analysis, dates
from searchengine.related import StoryTable
from searchengine.settings import setting

MAX_VALUES = {
    "tags": setting("facet_tags"),
    "author": setting("facet_authors"),
    "date": setting("facet_months"),
}
COLUMN = "facets"  # the index column that holds the records

# A record is a small JSON object; its keys are short because every document has one.
ID = "i"  # the document id: every order breaks ties by it
TAGS = "t"  # [[folded key, tag as written], ...]
AUTHOR = "a"  # [folded key, author as written] or null
MONTH = "d"  # "YYYY-MM" or null
TIMESTAMP = "ts"  # seconds since the epoch, UTC, or null
SOURCE = "u"  # the source link's key, for related stories
SIGNATURE = "m"  # the visible text's MinHash, for related stories


def encode_record(
    doc_id: str,
    tags: list[str],
    author: str,
    when: datetime | None,
    story: tuple[str, str],
) -> bytes:
    """The facet record of a document (``when`` as the index stores it, naive UTC)."""
    record = {
        ID: doc_id,
        TAGS: [[analysis.facet_key(t), t] for t in tags],
        AUTHOR: [analysis.facet_key(author), author] if author else None,
        MONTH: dates.month(when) if when else None,
        TIMESTAMP: dates.timestamp(when) if when else None,
        SOURCE: story[0],
        SIGNATURE: story[1],
    }
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet and how many matching documents carry it."""

    value: str
    count: int

    def to_dict(self) -> dict:
        return {"value": self.value, "count": self.count}


class _Codes:
    """Small integer codes for the keys of one facet, and each key's most used spelling."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._ids: dict[str, int] = {}
        self._forms: list[Counter] = []

    def code(self, key: str, display: str) -> int:
        if key not in self._ids:
            self._ids[key] = len(self.keys)
            self.keys.append(key)
            self._forms.append(Counter())
        code = self._ids[key]
        self._forms[code][display] += 1
        return code

    def display(self) -> list[str]:
        return [forms.most_common(1)[0][0] for forms in self._forms]


class FacetTable:
    """Per-document facet values of one index generation, kept in memory."""

    def __init__(self, reader) -> None:
        size = reader.doc_count_all()
        self.doc_tags: list[tuple[int, ...]] = [()] * size
        self.doc_author: list[int] = [-1] * size
        self.doc_month: list[str | None] = [None] * size
        self.doc_ts: list[float | None] = [None] * size
        self.doc_id: list[str] = [""] * size
        live = sorted(reader.all_doc_ids())
        sources, signatures = self._read(reader, live, size)
        self._orders(live)
        self.live_mask = np.zeros(size, bool)
        self.live_mask[live] = True
        self._everything: dict[str, list[FacetValue]] | None = None
        self._arrays()
        self.stories = StoryTable(sources, signatures, self.live_mask)

    def _read(self, reader, live: list[int], size: int) -> tuple[list[str], list[str]]:
        """Decode every live document's record; return the related-story values."""
        tags, authors = _Codes(), _Codes()
        sources: list[str] = [""] * size
        signatures: list[str] = [""] * size
        column = reader.column_reader(COLUMN) if reader.has_column(COLUMN) else None
        for docnum in live:
            raw = column[docnum] if column is not None else b""
            if not raw:
                continue
            record = json.loads(raw)
            self.doc_id[docnum] = record.get(ID, "")
            codes = [tags.code(key, display) for key, display in record.get(TAGS) or []]
            self.doc_tags[docnum] = tuple(dict.fromkeys(codes))
            if record.get(AUTHOR):
                self.doc_author[docnum] = authors.code(*record[AUTHOR])
            self.doc_month[docnum] = record.get(MONTH)
            self.doc_ts[docnum] = record.get(TIMESTAMP)
            sources[docnum] = record.get(SOURCE) or ""
            signatures[docnum] = record.get(SIGNATURE) or ""
        self.tag_keys, self.tag_display = tags.keys, tags.display()
        self.author_keys, self.author_display = authors.keys, authors.display()
        return sources, signatures

    def _orders(self, live: list[int]) -> None:
        """Id, newest-first and oldest-first orders; every order is total (ties by id)."""
        size = len(self.doc_id)
        by_id = sorted(live, key=lambda d: self.doc_id[d])
        self.id_rank = np.zeros(size, np.int64)
        self.id_rank[by_id] = np.arange(len(by_id))
        rank = self.id_rank
        ts = self.doc_ts
        dated = sorted((d for d in live if ts[d] is not None), key=lambda d: (ts[d], rank[d]))
        newest = sorted(dated, key=lambda d: (-ts[d], rank[d]))
        undated = [d for d in by_id if ts[d] is None]
        self.oldest_first = np.array(dated + undated, np.int64)
        self.newest_first = np.array(newest + undated, np.int64)
        self.ts = np.array([np.nan if t is None else t for t in ts], np.float64)
        stamps = [ts[d] for d in dated]
        self.ts_range = (stamps[0], stamps[-1]) if stamps else (0.0, 0.0)

    def _arrays(self) -> None:
        """Facet codes as flat arrays, so a count is one ``bincount`` over a match set."""
        entries = [(d, t) for d, tags in enumerate(self.doc_tags) for t in tags]
        self._tag_doc = np.array([d for d, _ in entries], np.int64)
        self._tag_id = np.array([t for _, t in entries], np.int64)
        self._author = np.array(self.doc_author, np.int64)
        self.month_keys = sorted({m for m in self.doc_month if m})
        code = {m: i for i, m in enumerate(self.month_keys)}
        self._month = np.array([code.get(m, -1) if m else -1 for m in self.doc_month], np.int64)

    def _mask(self, docs) -> np.ndarray:
        if isinstance(docs, np.ndarray) and docs.dtype == bool:
            return docs
        mask = np.zeros(len(self.doc_tags), bool)
        mask[np.fromiter(docs, np.int64)] = True
        return mask

    def tags(self, docs) -> list[FacetValue]:
        """Count tags over the documents (numbers or a boolean array)."""
        mask = self._mask(docs)
        counts = np.bincount(self._tag_id[mask[self._tag_doc]], minlength=len(self.tag_keys))
        return self._top(counts, self.tag_display, MAX_VALUES["tags"])

    def authors(self, docs) -> list[FacetValue]:
        """Count authors over the documents."""
        codes = self._author[self._mask(docs)]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.author_keys))
        return self._top(counts, self.author_display, MAX_VALUES["author"])

    def months(self, docs) -> list[FacetValue]:
        """Count documents per month, oldest month first."""
        codes = self._month[self._mask(docs)]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.month_keys))
        out = [FacetValue(m, int(c)) for m, c in zip(self.month_keys, counts, strict=True) if c]
        return out[-MAX_VALUES["date"] :]

    def everything(self) -> dict[str, list[FacetValue]]:
        """Count the facets of the whole index once per generation."""
        if self._everything is None:
            self._everything = {
                "tags": self.tags(self.live_mask),
                "author": self.authors(self.live_mask),
                "date": self.months(self.live_mask),
            }
        return self._everything

    @staticmethod
    def _top(counts: np.ndarray, display: list[str], limit: int) -> list[FacetValue]:
        present = np.flatnonzero(counts)
        if len(present) > limit:  # only values that can make the cut are sorted by name
            floor = np.partition(counts[present], len(present) - limit)[len(present) - limit]
            present = present[counts[present] >= floor]
        ranked = sorted(present.tolist(), key=lambda i: (-counts[i], display[i].lower()))
        return [FacetValue(display[i], int(counts[i])) for i in ranked[:limit]]
