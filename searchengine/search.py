"""One search function behind the page, the API and the command line.

A request is parsed, matched and ranked whole (ranking.py), counted for facets,
cut to its page and highlighted; answers are kept per index snapshot.
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace

import numpy as np

from searchengine.facets import FacetValue
from searchengine.highlighting import highlight_title, snippets
from searchengine.index import Index, View
from searchengine.matching import Matcher
from searchengine.query import ParsedQuery, parse_query
from searchengine.ranking import Ranking, rank
from searchengine.request import MAX_PER_PAGE, SORTS, SearchRequest
from searchengine.results import DocumentFields, Hit, SearchResponse
from searchengine.schema import body_parts
from searchengine.settings import setting
from searchengine.suggest import suggest
from searchengine.synonyms import SynonymTable

__all__ = ["MAX_PER_PAGE", "SORTS", "Hit", "SearchRequest", "SearchResponse", "search"]

CACHE_SIZE = setting("answer_cache")
REVERSED_DATES = "The date range ends before it starts ('from' is after 'to'): nothing matches."


@functools.lru_cache(maxsize=512)
def _parse(q: str, synonyms: SynonymTable | None = None) -> ParsedQuery:
    return parse_query(q, synonyms)


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
        parsed = _parse(req.q, view.synonyms or None)
        with view.lock:
            cached = view.cache.get(req)
            if cached is not None:
                view.cache.move_to_end(req)
        if cached is not None:
            return replace(cached, took_ms=_since(started))
        matcher = Matcher(view)
        ranking = rank(view, req, parsed, matcher)
        facets = _facets(view, req, ranking)
        picked, scores = _page(req, ranking, matcher)
        results = [_hit(view, d, s, parsed) for d, s in zip(picked, scores, strict=True)]
        with view.lock:
            suggestion = suggest(view, parsed, req.q)
        notice = REVERSED_DATES if req.reversed_dates else parsed.notice
        resp = SearchResponse(
            request=req,
            total=len(ranking.order),
            took_ms=_since(started),
            relaxed=ranking.relaxed,
            results=results,
            facets=facets,
            suggestion=suggestion,
            notice=notice,
        )
        with view.lock:
            view.cache[req] = resp
            if len(view.cache) > CACHE_SIZE:
                view.cache.popitem(last=False)
    return resp


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _page(req: SearchRequest, ranking: Ranking, matcher: Matcher) -> tuple[list[int], list]:
    """The document numbers of the requested page and their scores (0 without a query)."""
    offset = (req.page - 1) * req.per_page
    picked = ranking.order[offset : offset + req.per_page]
    if ranking.scores is not None:
        return picked.tolist(), ranking.scores[offset : offset + req.per_page].tolist()
    if ranking.root is None or not len(picked):
        return picked.tolist(), [0.0] * len(picked)
    # A date sort shows each result's relevance score too: score only this page.
    in_order = np.sort(picked)
    scores = np.round(matcher.scores(ranking.root, in_order)[0], 4)
    by_doc = dict(zip(in_order.tolist(), scores.tolist(), strict=True))
    return picked.tolist(), [by_doc[d] for d in picked.tolist()]


def _facets(view: View, req: SearchRequest, ranking: Ranking) -> dict[str, list[FacetValue]]:
    """Exact counts over the whole match set (the page asks for disjunctive author/date counts)."""
    table = view.facets
    if ranking.root is None and not req.filtered:
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


def _hit(view: View, docnum: int, score: float, parsed: ParsedQuery) -> Hit:
    with view.lock:
        stored = view.searcher.stored_fields(docnum)
    fields = DocumentFields.read(stored)
    _, zh, en = body_parts(stored)
    lang, main, other = snippets(zh, en, parsed.highlight, prefer_zh=parsed.language == "zh")
    return Hit(
        **fields,
        score=score,
        title_html=highlight_title(fields["title"], parsed.highlight),
        snippet_html=main,
        snippet_lang=lang,
        other_snippet_html=other,
    )
