"""One search function behind the page, the API and the command line."""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from datetime import time as dtime

from whoosh import query as wq
from whoosh.collectors import FilterCollector, TopCollector

from searchengine import analysis
from searchengine.errors import InvalidParameter
from searchengine.facets import FacetValue
from searchengine.highlighting import highlight_title, snippet
from searchengine.index import Index, View
from searchengine.query import ParsedQuery, parse_query
from searchengine.schema import WORD_FIELDS, unpack_texts

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_FILTER_VALUES = 20
RECENCY_WEIGHT = 0.08  # at most +8% for the newest document: a tie-breaker, not a ranking
CACHE_SIZE = 256  # answers kept per index snapshot; a rebuild or update starts afresh


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
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidParameter("from", "must not be after 'to'")


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
    language: str = "en"

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
        }


@functools.lru_cache(maxsize=512)
def _parse(q: str) -> ParsedQuery:
    return parse_query(q)


def _filters(req: SearchRequest, *, authors: bool = True) -> list[wq.Query]:
    """Tag and author filters as queries; dates are filtered in memory (see _within)."""
    out: list[wq.Query] = [
        wq.Term("tag", analysis.facet_key(t)) for t in req.tags if analysis.facet_key(t)
    ]
    if authors and req.authors:
        keys = [analysis.facet_key(a) for a in req.authors]
        out.append(wq.Or([wq.Term("author_key", k) for k in keys]))
    return out


def _within(view: View, docs, req: SearchRequest):
    """Keep the documents dated from/to (inclusive): faster than a DateRange query."""
    if not (req.date_from or req.date_to):
        return docs
    lo = _stamp(req.date_from, dtime.min) if req.date_from else float("-inf")
    hi = _stamp(req.date_to, dtime.max) if req.date_to else float("inf")
    stamps = view.facets.doc_ts
    return {d for d in docs if (t := stamps[d]) is not None and lo <= t <= hi}


def _stamp(day: date, at: dtime) -> float:
    return datetime.combine(day, at).replace(tzinfo=UTC).timestamp()


def _docs(view: View, q: wq.Query | None, filters: list[wq.Query]) -> frozenset[int] | set[int]:
    parts = ([q] if q is not None else []) + filters
    if not parts:
        return view.facets.live
    combined = parts[0] if len(parts) == 1 else wq.And(parts)
    return set(view.searcher.docs_for_query(combined))


class _TopAndAll(TopCollector):
    """Collect the best hits and, in the same pass, every matching document."""

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.matched: set[int] = set()

    def _collect(self, global_docnum, score):
        self.matched.add(global_docnum)
        return super()._collect(global_docnum, score)

    def all_ids(self):
        return self.matched


def _match(view: View, req: SearchRequest, q, near, *, authors: bool = True, dates: bool = True):
    """Find every matching document; when ranking by relevance, rank in the same pass."""
    filters = _filters(req, authors=authors)
    dated = dates and (req.date_from or req.date_to)
    if q is None or req.sort != "relevance":
        docs = _docs(view, q, filters)
        return (_within(view, docs, req) if dated else docs), None
    limit = max(50, req.page * req.per_page)
    collector = _TopAndAll(limit=limit, usequality=False)
    outer = collector
    if filters or dated:
        allow = _docs(view, None, filters)
        outer = FilterCollector(collector, allow=_within(view, allow, req) if dated else allow)
    ranking = q if near is None else wq.AndMaybe(q, near)
    view.searcher.search_with_collector(ranking, outer)
    return collector.matched, _rerank(view, collector.results())


def _iso(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


def search(index: Index, req: SearchRequest) -> SearchResponse:
    """Run a request against the live index: ranked page, exact facets, highlights."""
    started = time.perf_counter()
    pq = _parse(req.q)
    with index.view() as view:
        cached = view.cache.get(req)
        if cached is not None:
            view.cache.move_to_end(req)
            took = round((time.perf_counter() - started) * 1000, 2)
            return replace(cached, took_ms=took)
        active = pq.query
        docs, ranked = _match(view, req, active, pq.near)
        relaxed = False
        if not docs and pq.relaxed is not None:
            relaxed_docs, relaxed_ranked = _match(view, req, pq.relaxed, pq.near)
            if relaxed_docs:
                docs, ranked, active, relaxed = relaxed_docs, relaxed_ranked, pq.relaxed, True
        facets = _facets(view, req, active, docs)
        page = _page(view, req, active, docs, ranked)
        results = [_hit(view, docnum, score, pq) for docnum, score in page]
        suggestion = _suggest(view, pq, req.q)
        took = round((time.perf_counter() - started) * 1000, 2)
        resp = SearchResponse(
            req, len(docs), took, relaxed, results, facets, suggestion, pq.language
        )
        view.cache[req] = resp
        if len(view.cache) > CACHE_SIZE:
            view.cache.popitem(last=False)
    return resp


def _facets(view: View, req: SearchRequest, q, docs: set[int]) -> dict[str, list[FacetValue]]:
    table = view.facets
    if q is None and not (req.tags or req.authors or req.date_from or req.date_to):
        return table.everything()
    author_docs = date_docs = docs
    plain = replace(req, sort="newest")  # a match set without ranking
    if req.disjunctive and req.authors:
        author_docs = _match(view, plain, q, None, authors=False)[0]
    if req.disjunctive and (req.date_from or req.date_to):
        date_docs = _match(view, plain, q, None, dates=False)[0]
    return {
        "tags": table.tags(docs),
        "author": table.authors(author_docs),
        "date": table.months(date_docs),
    }


def _page(view: View, req: SearchRequest, q, docs, ranked) -> list[tuple[int, float]]:
    offset = (req.page - 1) * req.per_page
    if offset >= len(docs):
        return []
    table = view.facets
    if q is None or req.sort != "relevance":
        order = table.oldest_first if req.sort == "oldest" else table.newest_first
        picked: list[int] = []
        seen = 0
        for d in order:
            if d in docs:
                if seen >= offset:
                    picked.append(d)
                    if len(picked) == req.per_page:
                        break
                seen += 1
        scores = _scores(view, q, picked) if q is not None else {}
        return [(d, scores.get(d, 0.0)) for d in picked]
    return ranked[offset : offset + req.per_page]


def _rerank(view: View, hits) -> list[tuple[int, float]]:
    """Keep BM25F's order but nudge by recency within a small margin."""
    lo, hi = view.facets.ts_range
    span = (hi - lo) or 1.0
    rescored = []
    for hit in hits:
        ts = view.facets.doc_ts[hit.docnum]
        fresh = ((ts - lo) / span) if ts is not None else 0.0
        rescored.append((hit.docnum, hit.score * (1 + RECENCY_WEIGHT * fresh)))
    rescored.sort(key=lambda x: -x[1])
    return [(d, round(s, 4)) for d, s in rescored]


def _scores(view: View, q, docnums: list[int]) -> dict[int, float]:
    if not docnums:
        return {}
    hits = view.searcher.search(q, filter=set(docnums), limit=len(docnums))
    return {h.docnum: round(h.score, 4) for h in hits}


def _hit(view: View, docnum: int, score: float, pq: ParsedQuery) -> Hit:
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


def _suggest(view: View, pq: ParsedQuery, q: str) -> str | None:
    """Offer a corrected query when an English word is unknown to the index."""
    words = [w for text in pq.plain_words for w in _WORD.findall(text)]
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
