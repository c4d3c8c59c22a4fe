"""Exact facet counts over a whole result set, from one column read per generation.

At open, each document's tags, author and month are read from the ``facets``
column into plain lists indexed by document number. Counting a result set is
then a loop over its document numbers, with no stored-field reads.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import numpy as np

from searchengine.related import StoryTable

MAX_VALUES = {"tags": 100, "author": 100, "date": 1000}


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet and how many matching documents carry it."""

    value: str
    count: int
    key: str = ""

    def to_dict(self) -> dict:
        return {"value": self.value, "count": self.count}


class FacetTable:
    """Per-document facet values of one index generation, kept in memory."""

    def __init__(self, reader) -> None:
        size = reader.doc_count_all()
        self.doc_tags: list[tuple[int, ...]] = [()] * size
        self.doc_author: list[int] = [-1] * size
        self.doc_month: list[str | None] = [None] * size
        self.doc_ts: list[float | None] = [None] * size
        self.doc_id: list[str] = [""] * size
        self.tag_keys: list[str] = []
        self.author_keys: list[str] = []
        tag_ids: dict[str, int] = {}
        author_ids: dict[str, int] = {}
        tag_forms: dict[str, Counter] = {}
        author_forms: dict[str, Counter] = {}
        sources: list[str] = [""] * size
        signatures: list[str] = [""] * size
        live = set(reader.all_doc_ids())
        column = reader.column_reader("facets") if reader.has_column("facets") else None
        for docnum in live:
            raw = column[docnum] if column is not None else b""
            if not raw:
                continue
            data = json.loads(raw)
            self.doc_id[docnum] = data.get("i", "")
            ids = []
            for key, display in data.get("t") or []:
                if key not in tag_ids:
                    tag_ids[key] = len(self.tag_keys)
                    self.tag_keys.append(key)
                    tag_forms[key] = Counter()
                tag_forms[key][display] += 1
                ids.append(tag_ids[key])
            self.doc_tags[docnum] = tuple(dict.fromkeys(ids))
            if data.get("a"):
                key, display = data["a"]
                if key not in author_ids:
                    author_ids[key] = len(self.author_keys)
                    self.author_keys.append(key)
                    author_forms[key] = Counter()
                author_forms[key][display] += 1
                self.doc_author[docnum] = author_ids[key]
            self.doc_month[docnum] = data.get("d")
            self.doc_ts[docnum] = data.get("ts")
            sources[docnum] = data.get("u") or ""
            signatures[docnum] = data.get("m") or ""
        self.tag_display = [tag_forms[k].most_common(1)[0][0] for k in self.tag_keys]
        self.author_display = [author_forms[k].most_common(1)[0][0] for k in self.author_keys]
        # Every order is total: ties (and undated documents) go by document id.
        by_id = sorted(live, key=lambda d: self.doc_id[d])
        self.id_rank = np.zeros(size, np.int64)
        self.id_rank[by_id] = np.arange(len(by_id))
        rank = self.id_rank
        dated = sorted(
            (d for d in live if self.doc_ts[d] is not None), key=lambda d: (self.doc_ts[d], rank[d])
        )
        newest = sorted(dated, key=lambda d: (-self.doc_ts[d], rank[d]))
        undated = [d for d in by_id if self.doc_ts[d] is None]
        self.oldest_first = np.array(dated + undated, np.int64)
        self.newest_first = np.array(newest + undated, np.int64)
        self.live = frozenset(live)
        self.live_mask = np.zeros(size, bool)
        self.live_mask[list(live)] = True
        self.ts = np.array([np.nan if t is None else t for t in self.doc_ts], np.float64)
        stamps = [self.doc_ts[d] for d in dated]
        self.ts_range = (stamps[0], stamps[-1]) if stamps else (0.0, 0.0)
        self._everything: dict[str, list[FacetValue]] | None = None
        self._arrays()
        self.stories = StoryTable(sources, signatures, self.live_mask)

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
        return self._top(counts, self.tag_keys, self.tag_display, MAX_VALUES["tags"])

    def authors(self, docs) -> list[FacetValue]:
        """Count authors over the documents."""
        codes = self._author[self._mask(docs)]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.author_keys))
        return self._top(counts, self.author_keys, self.author_display, MAX_VALUES["author"])

    def months(self, docs) -> list[FacetValue]:
        """Count documents per month, oldest month first."""
        codes = self._month[self._mask(docs)]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.month_keys))
        out = [FacetValue(m, int(c), m) for m, c in zip(self.month_keys, counts, strict=True) if c]
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
    def _top(
        counts: np.ndarray, keys: list[str], display: list[str], limit: int
    ) -> list[FacetValue]:
        present = np.flatnonzero(counts)
        if len(present) > limit:  # only values that can make the cut are sorted by name
            floor = np.partition(counts[present], len(present) - limit)[len(present) - limit]
            present = present[counts[present] >= floor]
        ranked = sorted(present.tolist(), key=lambda i: (-counts[i], display[i].lower()))
        return [FacetValue(display[i], int(counts[i]), keys[i]) for i in ranked[:limit]]
