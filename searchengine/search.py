"""One search function behind the page, the API and the command line."""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from datetime import time as dtime

import numpy as np

from searchengine import analysis
from searchengine.errors import InvalidParameter
from searchengine.facets import FacetValue
from searchengine.highlighting import highlight_title, snippet
from searchengine.index import Index, View
from searchengine.matching import NEAR_FACTOR, Matcher
from searchengine.query import Any, Node, ParsedQuery, parse_query
from searchengine.schema import WORD_FIELDS, unpack_texts
from searchengine.synonyms import SynonymTable

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_FILTER_VALUES = 20
RECENCY_WEIGHT = 0.08  # at most +8% for the newest document: a tie-breaker, not a ranking
CACHE_SIZE = 256  # answers kept per index snapshot; a rebuild or update starts afresh
REVERSED_DATES = "The date range ends before it starts ('from' is after 'to'): nothing matches."


@dataclass(frozen=True)
class SearchRequest:
    """What a reader asked for: a query, filters, a sort and a page."""

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


@dataclass(frozen=True)
class Hit:
    """One result; ``to_dict`` is its JSON form."""

    id: str
    title: str
    description: str
    date: str | None
    tags: list[str]
    author: str
    url: str
    score: float
    title_html: str
    snippet_html: str
    snippet_lang: str = "zh"
    other_snippet_html: str = ""
    category: str = ""

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "date": self.date,
            "tags": self.tags,
            "author": self.author,
            "url": self.url,
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


@functools.lru_cache(maxsize=512)
def _parse(q: str, synonyms: SynonymTable | None = None) -> ParsedQuery:
    return parse_query(q, synonyms)


@dataclass(frozen=True)
class Ranking:
    """The whole match set of a request in display order (paging slices it)."""

    order: np.ndarray  # document numbers, best (or newest, oldest) first
    scores: np.ndarray | None  # aligned with order; None for date sorts
    relaxed: bool
    root: Node | None  # the tree that matched (the relaxed one when relaxed)
    query_mask: np.ndarray  # matches of the query alone (before filters), for facets
    filters: tuple[np.ndarray, np.ndarray, np.ndarray]  # tag, author and date masks


def _filter_masks(view: View, req: SearchRequest) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tag (all must match), author (any may match) and date filters as boolean arrays."""
    live = view.facets.live_mask
    postings = view.postings
    tags = live.copy()
    for t in req.tags:
        key = analysis.facet_key(t)
        if key:
            m = np.zeros_like(live)
            m[postings.docs("tag", key)] = True
            tags &= m
    authors = live
    if req.authors:
        authors = np.zeros_like(live)
        for a in req.authors:
            authors[postings.docs("author_key", analysis.facet_key(a))] = True
    dates = live
    if req.date_from or req.date_to:
        lo = _stamp(req.date_from, dtime.min) if req.date_from else -np.inf
        hi = _stamp(req.date_to, dtime.max) if req.date_to else np.inf
        ts = view.facets.ts
        with np.errstate(invalid="ignore"):
            dates = (ts >= lo) & (ts <= hi)
    return tags, authors, dates


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


def _stamp(day: date, at: dtime) -> float:
    return datetime.combine(day, at).replace(tzinfo=UTC).timestamp()


def _rank(view: View, req: SearchRequest, pq: ParsedQuery, matcher: Matcher) -> Ranking:
    """Match the query and the filters exactly, then order every match (no top-N pool)."""
    key = (req.q, req.tags, req.authors, req.date_from, req.date_to, req.sort)
    with view.lock:
        hit = view.rankings.get(key)
        if hit is not None:
            view.rankings.move_to_end(key)
            return hit
    masks = tags, authors, dates = _filter_masks(view, req)
    filters = tags & authors & dates
    root = pq.root
    query_mask = matcher.mask(root) if root is not None else view.facets.live_mask
    relaxed = False
    matched_clauses = None
    if root is not None and not (query_mask & filters).any() and len(pq.positives) > 1:
        # No document has every word: show those that have some, most words first.
        negatives = [matcher.mask(n) for n in pq.negatives]
        allowed = view.facets.live_mask.copy()
        for m in negatives:
            allowed &= m
        counts = np.zeros(len(allowed), np.int32)
        for node in pq.positives:
            counts += matcher.mask(node)
        relaxed_mask = (counts > 0) & allowed
        if (relaxed_mask & filters).any():
            relaxed, query_mask, matched_clauses = True, relaxed_mask, counts
            root = Any(tuple(pq.positives))
    docs = np.flatnonzero(query_mask & filters)
    if root is None or req.sort != "relevance":
        order = view.facets.oldest_first if req.sort == "oldest" else view.facets.newest_first
        in_set = np.zeros(len(query_mask), bool)
        in_set[docs] = True
        ranking = Ranking(order[in_set[order]], None, relaxed, root, query_mask, masks)
    else:
        score, tier = matcher.scores(root, docs)
        score = score * _freshness(view, docs)
        near = matcher.near(pq.near_words, docs) if not relaxed else None
        if near is not None and near.any():
            score = np.where(near, score * NEAR_FACTOR, score)
        # Documents holding the query's Chinese runs as written come first; the score
        # shown carries that order so it never rises down the list.
        level = tier.astype(np.float64)
        if matched_clauses is not None:  # more of the words, higher; rare words weigh more
            score = score * matched_clauses[docs] / len(pq.positives)
            level[:] = 0  # every clause is a word here: none is a run held as written
        if len(score) and level.any():
            score = score + level * (np.ceil(score.max()) + 1)
        score = np.round(score, 4)
        order = np.lexsort((view.facets.id_rank[docs], -score))
        ranking = Ranking(docs[order], score[order], relaxed, root, query_mask, masks)
    with view.lock:
        view.rankings[key] = ranking
        if len(view.rankings) > CACHE_SIZE:
            view.rankings.popitem(last=False)
    return ranking


def _freshness(view: View, docs: np.ndarray) -> np.ndarray:
    """Nudge by recency within a small margin: at most +8% for the newest document."""
    lo, hi = view.facets.ts_range
    span = (hi - lo) or 1.0
    ts = view.facets.ts[docs]
    fresh = np.where(np.isnan(ts), 0.0, (ts - lo) / span)
    return 1 + RECENCY_WEIGHT * np.clip(fresh, 0.0, 1.0)


def search(index: Index, req: SearchRequest) -> SearchResponse:
    """Run a request against the live index: ranked page, exact facets, highlights."""
    try:
        return _search(index, req)
    except (OSError, TypeError, KeyError, ValueError, EOFError):
        # A segment merged away under a snapshot opened just before: read the new one.
        if not index.reopen_if_stale():
            raise
        return _search(index, req)


def _search(index: Index, req: SearchRequest) -> SearchResponse:
    started = time.perf_counter()
    with index.view() as view:
        pq = _parse(req.q, view.synonyms or None)
        with view.lock:
            cached = view.cache.get(req)
            if cached is not None:
                view.cache.move_to_end(req)
        if cached is not None:
            took = round((time.perf_counter() - started) * 1000, 2)
            return replace(cached, took_ms=took)
        matcher = Matcher(view)
        ranking = _rank(view, req, pq, matcher)
        facets = _facets(view, req, ranking)
        offset = (req.page - 1) * req.per_page
        picked = ranking.order[offset : offset + req.per_page]
        if ranking.scores is not None:
            scores = ranking.scores[offset : offset + req.per_page].tolist()
        elif ranking.root is not None and len(picked):
            scores = np.round(matcher.scores(ranking.root, np.sort(picked))[0], 4)
            by_doc = dict(zip(np.sort(picked).tolist(), scores.tolist(), strict=True))
            scores = [by_doc[d] for d in picked.tolist()]
        else:
            scores = [0.0] * len(picked)
        results = [_hit(view, d, s, pq) for d, s in zip(picked.tolist(), scores, strict=True)]
        with view.lock:
            suggestion = _suggest(view, pq, req.q)
        took = round((time.perf_counter() - started) * 1000, 2)
        notice = pq.notice
        if req.date_from and req.date_to and req.date_from > req.date_to:
            notice = REVERSED_DATES
        resp = SearchResponse(
            req, len(ranking.order), took, ranking.relaxed, results, facets, suggestion, notice
        )
        with view.lock:
            view.cache[req] = resp
            if len(view.cache) > CACHE_SIZE:
                view.cache.popitem(last=False)
    return resp


def _facets(view: View, req: SearchRequest, ranking: Ranking) -> dict[str, list[FacetValue]]:
    """Exact counts over the whole match set (the page asks for disjunctive author/date counts)."""
    table = view.facets
    if ranking.root is None and not (req.tags or req.authors or req.date_from or req.date_to):
        return table.everything()
    tags, authors, dates = ranking.filters
    base = ranking.query_mask & tags
    docs = base & authors & dates
    author_docs = base & dates if req.disjunctive and req.authors else docs
    date_docs = base & authors if req.disjunctive and (req.date_from or req.date_to) else docs
    return {
        "tags": table.tags(docs),
        "author": table.authors(author_docs),
        "date": table.months(date_docs),
    }


def _hit(view: View, docnum: int, score: float, pq: ParsedQuery) -> Hit:
    with view.lock:
        stored = view.searcher.stored_fields(docnum)
    title = stored.get("title", "")
    _, zh, en = unpack_texts(stored)
    terms = pq.highlight
    zh_html, zh_n = snippet(zh, terms) if zh else ("", 0)
    en_html, en_n = snippet(en, terms) if en else ("", 0)
    prefer_zh = pq.language == "zh"
    if zh_n and (prefer_zh or zh_n > en_n) or not en_html or (prefer_zh and not en_n):
        lang, main, other = "zh", zh_html, en_html
    else:
        lang, main, other = "en", en_html, zh_html
    if not main:
        lang, main, other = ("en" if lang == "zh" else "zh"), other, ""
    return Hit(
        id=stored["id"],
        title=title,
        description=stored.get("description", ""),
        date=_iso(stored.get("date")),
        tags=list(stored.get("tags") or []),
        author=stored.get("author", ""),
        url=stored.get("url", ""),
        score=score,
        title_html=highlight_title(title, terms),
        snippet_html=main,
        snippet_lang=lang,
        other_snippet_html=other,
        category=stored.get("category", ""),
    )


_WORD = re.compile(r"[A-Za-z]{3,}")
MAX_SPELL = 20  # letters in a word worth correcting
MAX_SPELL_WORDS = 8


def _suggest(view: View, pq: ParsedQuery, q: str) -> str | None:
    """Offer a corrected query when an English word is unknown to the index."""
    # Only words a person could have mistyped: the corrector's cost grows with length.
    words = [w for text in pq.plain_words for w in _WORD.findall(text) if len(w) <= MAX_SPELL]
    words = list(dict.fromkeys(words))[:MAX_SPELL_WORDS]
    if not words:
        return None
    reader = view.searcher.reader()
    corrector = None
    fixed = q
    changed = False
    for word in dict.fromkeys(words):
        low = word.lower()
        if low in analysis.STOP_WORDS or reader.doc_frequency("spell", low) > 0:
            continue
        stemmed = analysis.analyze(low)
        if stemmed and any(reader.doc_frequency(f, stemmed[0]) for f in WORD_FIELDS):
            continue  # an inflection of a word the index has (cuts, chips)
        corrector = corrector or view.searcher.corrector("spell")
        options = corrector.suggest(low, limit=1, maxdist=1 if len(low) <= 5 else 2, prefix=1)
        if options and options[0] != low:
            fixed = re.sub(rf"\b{re.escape(word)}\b", options[0], fixed)
            changed = True
    return fixed if changed else None
