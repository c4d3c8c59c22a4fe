"""Related stories: the same story (copies, same source) first, then the same topic.

Two per-document values are written at index time into the ``facets`` column
and loaded into arrays once per snapshot (see ``FacetTable``):

- a *source key*: the document's source URL without scheme, ``www.``, archive
  wrapper, tracking parameters, fragment or trailing slash, so the same article
  linked from two digests (or archived twice) gives one key;
- a *MinHash signature* of the folded body text: ``SLOTS`` minimum hashes over
  character 5-grams of its CJK runs and word 3-grams of its other words. The
  share of equal slots of two signatures estimates the Jaccard similarity of
  their shingle sets, so near-identical copies under other ids are found with
  one vectorised comparison against every document.

At request time, the same story is a shared source key or an estimated
Jaccard of at least ``SAME_STORY``; the remaining places go to the documents
that score best, by BM25F, on the document's own key terms.
"""

from __future__ import annotations

import base64
import math
import re
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np

from searchengine.analysis import analyze
from searchengine.chars import RUN_SEP, TITLE_END, run_keys
from searchengine.dates import to_iso
from searchengine.folding import CJK_RUN_RE, fold

SLOTS = 32
CHAR_SHINGLE = 5
WORD_SHINGLE = 3
SAME_STORY = 0.5  # estimated Jaccard from which two documents are one story (measured)
LIMIT = 5
KEY_TERMS = 16
TOPIC_TEXT = 2000  # characters of the body read for key terms: the lead says what it is about
PAIR_CANDIDATES = 40  # most frequent pairs (or words) whose document frequency is looked up
MIN_PAIRS = 20  # with fewer distinct Chinese pairs, key terms are English words
SAME_SOURCE_MAX = 50  # a source key shared more widely is a home page, not a story
NEAR_EQUAL = 0.05  # scores within this share of the best count as equal: newer first
COMMON = 0.5  # a word in more than this share of the documents says nothing of a topic
MIN_TOPIC = 0.15  # below this share of the document's own score, a neighbour is noise

_MASK64 = (1 << 64) - 1
# Fixed odd multipliers and offsets (multiply-shift hashing): signatures must agree
# across processes and releases, so nothing here may depend on Python's hash seed.
_RNG = np.random.default_rng(20240719)
_MUL = (_RNG.integers(1, 2**63, SLOTS, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
_ADD = _RNG.integers(0, 2**63, SLOTS, dtype=np.uint64)
_POLY = np.array([pow(1_000_003, k, 1 << 64) for k in range(8)], np.uint64)
_WORD_RE = re.compile(r"[^\W_]+", re.U)
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|source|spm|from)$")
_ARCHIVE = re.compile(r"^(?:web\.)?archive\.org/web/[0-9a-z_*]+/(?:https?://)?", re.I)


# --- Index time ------------------------------------------------------------------


def source_key(url: str) -> str:
    """Reduce a source URL to what names the article, so copies of one link compare equal.

    >>> source_key("https://web.archive.org/web/2021/https://www.Example.com/a/?utm_source=x#top")
    'example.com/a'
    """
    url = (url or "").strip()
    if not url:
        return ""
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url, flags=re.I)
    for _ in range(2):  # an archived copy of an archived copy
        bare = _ARCHIVE.sub("", bare)
    parts = urlsplit("//" + bare)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    if not host or not path:  # a home page names no story
        return ""
    query = [(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k.lower())]
    return host + path + ("?" + urlencode(sorted(query)) if query else "")


def shingle_hashes(text: str) -> np.ndarray:
    """64-bit hashes of the text's shingles: CJK character 5-grams and word 3-grams."""
    folded = fold(text)
    parts = []
    runs = CJK_RUN_RE.findall(folded)
    if runs:  # one pass over all runs; windows that cross a run boundary are dropped
        cps = np.frombuffer("\0".join(runs).encode("utf-32-le"), np.uint32).astype(np.uint64)
        if len(cps) >= CHAR_SHINGLE:
            seps = np.concatenate([[0], np.cumsum(cps == 0)])
            whole = seps[CHAR_SHINGLE:] == seps[: len(cps) - CHAR_SHINGLE + 1]
            parts.append(_windows(cps, CHAR_SHINGLE)[whole])
    words = _WORD_RE.findall(CJK_RUN_RE.sub(" ", folded))
    if len(words) >= WORD_SHINGLE:
        codes = np.array([zlib.crc32(w.encode("utf-8")) for w in words], np.uint64)
        parts.append(_windows(codes + np.uint64(1 << 32), WORD_SHINGLE))
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.empty(0, np.uint64)
    return np.concatenate(parts)


def _windows(values: np.ndarray, width: int) -> np.ndarray:
    """A polynomial hash of every window of ``width`` consecutive values (wrapping at 2**64)."""
    n = len(values) - width + 1
    out = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for k in range(width):
            out += values[k : k + n] * _POLY[k]
    return out


def minhash(text: str) -> np.ndarray | None:
    """The MinHash signature (``SLOTS`` uint32) of a text, or None when it is too short."""
    hashes = shingle_hashes(text)
    if not len(hashes):
        return None
    sig = np.empty(SLOTS, np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, len(hashes), 4096):  # bound the temporary matrix
            block = hashes[start : start + 4096, None] * _MUL + _ADD
            low = (block >> np.uint64(32)).astype(np.uint32).min(axis=0)
            sig = low if start == 0 else np.minimum(sig, low)
    return sig


def encode_signature(sig: np.ndarray | None) -> str:
    """Pack a signature into the facets JSON (base64 of its little-endian bytes)."""
    if sig is None:
        return ""
    return base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")


def decode_signature(text: str) -> np.ndarray | None:
    """Read a signature written by ``encode_signature`` (None when absent or malformed)."""
    if not text:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if len(raw) != SLOTS * 4:
        return None
    return np.frombuffer(raw, "<u4").astype(np.uint32)


def story_data(url: str, visible: str) -> tuple[str, str]:
    """The source key and signature a document's facet record carries for related stories."""
    return source_key(url), encode_signature(minhash(visible))


# --- Per snapshot ------------------------------------------------------------------


class StoryTable:
    """Source keys and signatures of one snapshot as arrays, read once with the facets."""

    def __init__(self, sources: list[str], signatures: list[str], live: np.ndarray) -> None:
        size = len(sources)
        codes: dict[str, int] = {}
        self.source = np.full(size, -1, np.int32)
        self.signature = np.zeros((size, SLOTS), np.uint32)
        self.signed = np.zeros(size, bool)
        for docnum in np.flatnonzero(live).tolist():
            if sources[docnum]:
                self.source[docnum] = codes.setdefault(sources[docnum], len(codes))
            sig = decode_signature(signatures[docnum])
            if sig is not None:
                self.signature[docnum] = sig
                self.signed[docnum] = True
        self.source_count = np.bincount(self.source[self.source >= 0], minlength=len(codes))

    def same_story(self, docnum: int) -> np.ndarray:
        """Each document's likeness to ``docnum`` as one story: estimated Jaccard, 1 for one source."""
        likeness = np.zeros(len(self.source), np.float32)
        if self.signed[docnum]:
            equal = (self.signature == self.signature[docnum]).sum(axis=1, dtype=np.int32)
            likeness = np.where(self.signed, equal / np.float32(SLOTS), 0).astype(np.float32)
        code = self.source[docnum]
        if code >= 0 and self.source_count[code] <= SAME_SOURCE_MAX:
            likeness[self.source == code] = 1.0
        return likeness

    def copy_of_any(self, docnum: int, others: list[int]) -> bool:
        """Tell whether a document is one story with any of ``others`` (to list it once)."""
        others = [d for d in others if self.signed[d]]
        if not self.signed[docnum] or not others:
            return False
        equal = (self.signature[others] == self.signature[docnum]).mean(axis=1)
        return bool((equal >= SAME_STORY).any())


# --- Request time ------------------------------------------------------------------


@dataclass(frozen=True)
class RelatedDocument:
    """Another document about the same story or topic, as the document page lists it."""

    id: str
    title: str
    date: str | None
    score: float
    same_story: bool = False

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date, "score": self.score}


def _word_fields() -> dict[str, float]:
    # Imported late: the schema imports this module for ``story_data``.
    from searchengine.schema import WORD_FIELDS

    return WORD_FIELDS


def pair_terms(view, docnum: int, limit: int = KEY_TERMS) -> list[tuple[np.ndarray, float]]:
    """The documents of the document's most telling character pairs (tf × idf), with weights.

    Chinese words are mostly two characters, and the character index already holds
    each document's folded text and each pair's documents in memory-mapped arrays:
    no segmentation and no term-table reads, which cost tens of milliseconds a page.
    """
    title, _, runs = view.chars.text(docnum).partition(TITLE_END)
    codes, counts = _pair_counts([(title, _word_fields()["title"]), (runs[:TOPIC_TEXT], 1.0)])
    if len(codes) < MIN_PAIRS:
        return []
    size = max(1, view.chars.size)
    ranked = []
    for i in np.lexsort((codes, -counts))[:PAIR_CANDIDATES].tolist():
        pair = chr(codes[i] >> 21) + chr(codes[i] & 0x1FFFFF)
        docs = view.chars.key_docs(run_keys(pair)[0])
        if 1 < len(docs) <= COMMON * size:  # a pair only this document holds finds nothing
            weight = (1 + math.log(counts[i])) * math.log(size / len(docs))
            ranked.append((weight, i, docs))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    return [(docs, weight) for weight, _, docs in ranked[:limit]]


def _pair_counts(parts: list[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct pair of adjacent characters within a run (as one code) and its weighted count."""
    codes, weights = [], []
    for text, weight in parts:
        cps = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.int64)
        if len(cps) < 2:
            continue
        inside = (cps[:-1] != ord(RUN_SEP)) & (cps[1:] != ord(RUN_SEP))
        codes.append(((cps[:-1] << 21) | cps[1:])[inside])
        weights.append(np.full(int(inside.sum()), weight))
    if not codes:
        return np.empty(0, np.int64), np.empty(0)
    unique, inverse = np.unique(np.concatenate(codes), return_inverse=True)
    return unique, np.bincount(inverse, np.concatenate(weights))


def word_terms(
    view, title: str, description: str, texts: tuple[str, ...], limit: int = KEY_TERMS
) -> list[tuple[str, float]]:
    """The most telling words (weighted tf × idf) of a document with little Chinese."""
    fields = _word_fields()
    counts: dict[str, float] = {}
    weighted = [(title, fields["title"]), (description, fields["description"])]
    weighted += [(text[:TOPIC_TEXT], 1.0) for text in texts]
    for text, weight in weighted:
        for term in analyze(text) if text else ():
            if len(term) > 1 and not term.isdigit():
                counts[term] = counts.get(term, 0.0) + weight
    size = max(1, view.postings.size)
    ranked = []
    with view.lock:
        reader = view.searcher.reader()
        for term in sorted(counts, key=lambda t: (-counts[t], t))[:PAIR_CANDIDATES]:
            df = reader.doc_frequency("body", term) or reader.doc_frequency("title", term)
            if 1 < df <= COMMON * size:  # a word only this document holds finds nothing else
                ranked.append((term, (1 + math.log(counts[term])) * math.log(size / df)))
    ranked.sort(key=lambda x: (-x[1], x[0]))
    return ranked[:limit]


def topic_scores(
    view, docnum: int, title: str, description: str, texts: tuple[str, ...]
) -> np.ndarray:
    """Every document's score on the document's key terms: shared pairs, else BM25F of words."""
    scores = np.zeros(view.postings.size, np.float32)
    pairs = pair_terms(view, docnum)
    for docs, weight in pairs:
        scores[docs] += weight
    if pairs:
        return scores
    terms = word_terms(view, title, description, texts)
    top = max((w for _, w in terms), default=1.0)
    for term, weight in terms:
        for field, boost in _word_fields().items():
            ids, values = view.postings.bm25(field, term, boost * weight / top)
            if len(ids):
                scores[ids] += values
    return scores


def related(
    view, docnum: int, title: str, description: str, texts: tuple[str, ...], limit: int = LIMIT
) -> list[RelatedDocument]:
    """Up to ``limit`` other documents: copies and same-source ones first, then the topic's."""
    facets = view.facets
    stories = facets.stories
    live = facets.live_mask.copy()
    live[docnum] = False
    likeness = stories.same_story(docnum)
    same = np.flatnonzero(live & (likeness >= SAME_STORY))
    chosen = _ordered(facets, same, likeness[same], limit)
    out = [(d, float(likeness[d]), True) for d in chosen]
    if len(out) < limit:
        scores = topic_scores(view, docnum, title, description, texts)
        own = float(scores[docnum]) or 1.0  # the document's own score: a natural 1.0
        live[same] = False
        candidates = np.flatnonzero(live & (scores >= MIN_TOPIC * own))
        if len(candidates) > 8 * limit:  # only the best can make the list; order those
            best = np.argpartition(-scores[candidates], 8 * limit)[: 8 * limit]
            candidates = candidates[best]
        normal = np.minimum(scores[candidates] / own, 1.0)
        by_doc = dict(zip(candidates.tolist(), normal.tolist(), strict=True))
        shown = [docnum, *chosen]
        for d in _ordered(facets, candidates, normal, len(candidates)):
            if len(out) >= limit:
                break
            if stories.copy_of_any(d, shown):  # one copy of a neighbour is enough
                continue
            shown.append(d)
            out.append((d, by_doc[d], False))
    return [_describe(view, d, score, same_story) for d, score, same_story in out]


def _ordered(facets, docs: np.ndarray, scores: np.ndarray, limit: int) -> list[int]:
    """Best first; scores within ``NEAR_EQUAL`` of their group's best go newest first, then by id."""
    if not len(docs):
        return []
    scores = np.asarray(scores, np.float64)
    ts = facets.ts[docs]
    newest = np.where(np.isnan(ts), -np.inf, ts)
    by_score = np.lexsort((facets.id_rank[docs], -newest, -scores))
    group = np.empty(len(docs), np.int64)
    best = np.inf
    for rank, i in enumerate(by_score.tolist()):  # greedy groups down the ranking (≤ 40)
        if best - scores[i] > NEAR_EQUAL:
            best, leader = scores[i], rank
        group[i] = leader
    order = np.lexsort((facets.id_rank[docs], -newest, group))
    return docs[order[:limit]].tolist()


def _describe(view, docnum: int, score: float, same_story: bool) -> RelatedDocument:
    """Read the title and date a list of related documents shows."""
    with view.lock:
        stored = view.searcher.stored_fields(docnum)
    return RelatedDocument(
        id=stored.get("id", ""),
        title=stored.get("title", "") or stored.get("id", ""),
        date=to_iso(stored.get("date")),
        score=round(score, 4),
        same_story=same_story,
    )
