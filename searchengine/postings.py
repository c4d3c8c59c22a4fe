"""Word postings as numpy arrays, and BM25F scores computed over whole arrays.

Whoosh scores one matching document at a time in Python, which made common
words slow and forced a top-N collector whose pruning lost documents. Here a
term's postings are decoded once per index snapshot into two arrays (global
document numbers and term frequencies), kept in an LRU, and scored for every
document at once. Whoosh stays the index of record: these arrays are read from
its segments.
"""

from __future__ import annotations

import contextlib
import math
import threading

import numpy as np
from cachetools import LRUCache
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length

from searchengine.schema import WORD_FIELDS
from searchengine.settings import setting

B = setting("bm25_b")
K1 = setting("bm25_k1")
_TERM_CACHE_BYTES = setting("term_cache_bytes")
_LENGTH_TABLE = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)
_EMPTY_IDS = np.empty(0, np.int64)
_EMPTY_TF = np.empty(0, np.float32)


def _postings_bytes(value: tuple[np.ndarray, np.ndarray]) -> int:
    """What a cached term costs: its arrays and their bookkeeping."""
    return value[0].nbytes + value[1].nbytes + 256


class Postings:
    """Per-snapshot access to word postings, field lengths and BM25F scores."""

    def __init__(self, reader, lock: threading.RLock | None = None) -> None:
        self.reader = reader
        self.lock = lock or threading.RLock()  # Whoosh's readers are not for two threads
        self.size = reader.doc_count_all()
        self.leaves = list(reader.leaf_readers())
        self._terms: LRUCache[tuple[str, str], tuple[np.ndarray, np.ndarray]] = LRUCache(
            _TERM_CACHE_BYTES, getsizeof=_postings_bytes
        )
        self._lengths: dict[str, np.ndarray] = {}
        self._avg: dict[str, float] = {}

    # Postings -----------------------------------------------------------------

    def term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Global document numbers holding ``text`` in ``field``, and its frequencies."""
        with self.lock:
            return self._term(field, text)

    def _term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, text)
        hit = self._terms.get(key)
        if hit is not None:
            return hit
        ids_parts, tf_parts = [], []
        boost = WORD_FIELDS.get(field, 1.0)
        for sub, offset in self.leaves:
            try:
                if (field, text) not in sub:
                    continue
                m = sub.postings(field, text)
            except (KeyError, ValueError):
                continue
            ids, weights = _read_all(m)
            if len(ids):
                ids_parts.append(ids + offset)
                tf_parts.append(weights / boost if boost != 1.0 else weights)
        if not ids_parts:
            value = (_EMPTY_IDS, _EMPTY_TF)
        elif len(ids_parts) == 1:
            value = (ids_parts[0], tf_parts[0])
        else:
            value = (np.concatenate(ids_parts), np.concatenate(tf_parts))
        with contextlib.suppress(ValueError):  # larger than the whole cache: not kept
            self._terms[key] = value
        return value

    def docs(self, field: str, text: str) -> np.ndarray:
        """Global document numbers holding ``text`` in ``field``."""
        return self.term(field, text)[0]

    def prefix_terms(self, field: str, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` indexed terms of a field that start with ``prefix``."""
        out = []
        with self.lock:
            for t in self.reader.expand_prefix(field, prefix):
                out.append(t.decode("utf-8") if isinstance(t, bytes) else t)
                if len(out) >= limit:
                    break
        return out

    # Scoring ---------------------------------------------------------------------

    def lengths(self, field: str) -> np.ndarray:
        """Each document's length of ``field`` in words (as Whoosh stores it, one byte)."""
        arr = self._lengths.get(field)
        if arr is not None:
            return arr
        with self.lock:
            return self._lengths.get(field) if field in self._lengths else self._read_lengths(field)

    def _read_lengths(self, field: str) -> np.ndarray:
        arr = np.zeros(self.size, np.float32)
        for sub, offset in self.leaves:
            n = sub.doc_count_all()
            col = sub._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
            if col is None:
                continue
            raw = np.fromiter((col[i] for i in range(n)), np.uint8, n)
            arr[offset : offset + n] = _LENGTH_TABLE[raw]
        self._lengths[field] = arr
        return arr

    def avg_length(self, field: str) -> float:
        """Average length of ``field`` over the documents."""
        avg = self._avg.get(field)
        if avg is None:
            with self.lock:
                total = self.reader.field_length(field)
            avg = self._avg[field] = (total / max(1, self.reader.doc_count_all())) or 1.0
        return avg

    def bm25(self, field: str, text: str, weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of one term in one field, for every document that holds it.

        The field's weight multiplies the term frequency before it saturates (as
        Whoosh's BM25F does), so a title match counts more, but not four times more.
        """
        ids, tf = self.term(field, text)
        if not len(ids):
            return ids, tf
        idf = math.log(self.size / (len(ids) + 1)) + 1
        fl = self.lengths(field)[ids]
        norm = K1 * ((1 - B) + B * fl / self.avg_length(field))
        tf = tf * weight
        return ids, idf * (tf * (K1 + 1)) / (tf + norm)


def _read_all(m) -> tuple[np.ndarray, np.ndarray]:
    """Decode every posting of a leaf matcher, a block at a time where possible."""
    ids: list = []
    weights: list = []
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids.append(np.asarray(m._ids, np.int64))
            weights.append(np.asarray(m._weights, np.float32))
            m._next_block()
        if not ids:
            return _EMPTY_IDS, _EMPTY_TF
        return np.concatenate(ids), np.concatenate(weights)
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.asarray(ids, np.int64), np.asarray(weights, np.float32)
