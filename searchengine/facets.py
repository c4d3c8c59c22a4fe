"""Exact facet counts over a whole result set, from one column read per generation.

At open, each document's tags, author and month are read from the ``facets``
column into plain lists indexed by document number. Counting a result set is
then a loop over its document numbers, with no stored-field reads.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

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
        self.tag_keys: list[str] = []
        self.author_keys: list[str] = []
        tag_ids: dict[str, int] = {}
        author_ids: dict[str, int] = {}
        tag_forms: dict[str, Counter] = {}
        author_forms: dict[str, Counter] = {}
        live = set(reader.all_doc_ids())
        column = reader.column_reader("facets") if reader.has_column("facets") else None
        for docnum in live:
            raw = column[docnum] if column is not None else b""
            if not raw:
                continue
            data = json.loads(raw)
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
        self.tag_display = [tag_forms[k].most_common(1)[0][0] for k in self.tag_keys]
        self.author_display = [author_forms[k].most_common(1)[0][0] for k in self.author_keys]
        dated = sorted((d for d in live if self.doc_ts[d] is not None), key=self._ts_key)
        undated = sorted(d for d in live if self.doc_ts[d] is None)
        self.oldest_first = dated + undated
        self.newest_first = dated[::-1] + undated
        self.live = frozenset(live)
        stamps = [self.doc_ts[d] for d in dated]
        self.ts_range = (stamps[0], stamps[-1]) if stamps else (0.0, 0.0)
        self._everything: dict[str, list[FacetValue]] | None = None

    def _ts_key(self, docnum: int) -> tuple[float, int]:
        return (self.doc_ts[docnum], docnum)

    def tags(self, docs: Iterable[int]) -> list[FacetValue]:
        """Count tags over the documents."""
        counts: Counter = Counter()
        doc_tags = self.doc_tags
        for d in docs:
            counts.update(doc_tags[d])
        return self._top(counts, self.tag_keys, self.tag_display, MAX_VALUES["tags"])

    def authors(self, docs: Iterable[int]) -> list[FacetValue]:
        """Count authors over the documents."""
        doc_author = self.doc_author
        counts = Counter(doc_author[d] for d in docs)
        counts.pop(-1, None)
        return self._top(counts, self.author_keys, self.author_display, MAX_VALUES["author"])

    def months(self, docs: Iterable[int]) -> list[FacetValue]:
        """Count documents per month, oldest month first."""
        doc_month = self.doc_month
        counts = Counter(doc_month[d] for d in docs)
        counts.pop(None, None)
        return [FacetValue(m, c, m) for m, c in sorted(counts.items())][-MAX_VALUES["date"] :]

    def everything(self) -> dict[str, list[FacetValue]]:
        """Count the facets of the whole index once per generation."""
        if self._everything is None:
            self._everything = {
                "tags": self.tags(self.live),
                "author": self.authors(self.live),
                "date": self.months(self.live),
            }
        return self._everything

    @staticmethod
    def _top(counts: Counter, keys: list[str], display: list[str], limit: int) -> list[FacetValue]:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], display[kv[0]].lower()))
        return [FacetValue(display[i], c, keys[i]) for i, c in ranked[:limit]]
