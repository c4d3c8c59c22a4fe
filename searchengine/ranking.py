"""Every match of a request, in a total order: filters as masks, BM25F, relaxed fallback."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from searchengine import analysis
from searchengine.dates import day_end, day_start
from searchengine.index import View
from searchengine.matching import NEAR_FACTOR, Matcher
from searchengine.query import Any, Node, ParsedQuery
from searchengine.request import SearchRequest
from searchengine.settings import setting

RECENCY_WEIGHT = setting("recency_weight")
CACHE_SIZE = setting("ranking_cache")

Masks = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Ranking:
    """The whole match set of a request in display order (paging slices it)."""

    order: np.ndarray  # document numbers, best (or newest, oldest) first
    scores: np.ndarray | None  # aligned with order; None for date sorts
    relaxed: bool
    root: Node | None  # the tree that matched (the relaxed one when relaxed)
    query_mask: np.ndarray  # matches of the query alone (before filters), for facets
    filters: Masks  # tag, author and date masks


def rank(view: View, req: SearchRequest, parsed: ParsedQuery, matcher: Matcher) -> Ranking:
    """Match the query and the filters exactly, then order every match (no top-N pool)."""
    key = (req.q, req.tags, req.authors, req.date_from, req.date_to, req.sort)
    with view.lock:
        cached = view.rankings.get(key)
        if cached is not None:
            view.rankings.move_to_end(key)
            return cached
    masks = filter_masks(view, req)
    filters = masks[0] & masks[1] & masks[2]
    root = parsed.root
    query_mask = matcher.mask(root) if root is not None else view.facets.live_mask
    matched_clauses = None
    if root is not None and not (query_mask & filters).any() and len(parsed.positives) > 1:
        relaxed_mask, counts = _relaxed(view, parsed, matcher)
        if (relaxed_mask & filters).any():
            query_mask, matched_clauses = relaxed_mask, counts
            root = Any(tuple(parsed.positives))
    docs = np.flatnonzero(query_mask & filters)
    relaxed = matched_clauses is not None
    if root is None or req.sort != "relevance":
        order = view.facets.oldest_first if req.sort == "oldest" else view.facets.newest_first
        in_set = np.zeros(len(query_mask), bool)
        in_set[docs] = True
        ranking = Ranking(order[in_set[order]], None, relaxed, root, query_mask, masks)
    else:
        score = _scores(view, parsed, matcher, root, docs, matched_clauses)
        order = np.lexsort((view.facets.id_rank[docs], -score))
        ranking = Ranking(docs[order], score[order], relaxed, root, query_mask, masks)
    with view.lock:
        view.rankings[key] = ranking
        if len(view.rankings) > CACHE_SIZE:
            view.rankings.popitem(last=False)
    return ranking


def _relaxed(view: View, parsed: ParsedQuery, matcher: Matcher) -> tuple[np.ndarray, np.ndarray]:
    """No document has every word: those that have some, with how many clauses each holds."""
    allowed = view.facets.live_mask.copy()
    for node in parsed.negatives:
        allowed &= matcher.mask(node)
    counts = np.zeros(len(allowed), np.int32)
    for node in parsed.positives:
        counts += matcher.mask(node)
    return (counts > 0) & allowed, counts


def _scores(
    view: View,
    parsed: ParsedQuery,
    matcher: Matcher,
    root: Node,
    docs: np.ndarray,
    matched_clauses: np.ndarray | None,
) -> np.ndarray:
    """BM25F with recency, nearness and, when relaxed, the share of clauses matched."""
    score, tier = matcher.scores(root, docs)
    score = score * _freshness(view, docs)
    near = matcher.near(parsed.near_words, docs) if matched_clauses is None else None
    if near is not None and near.any():
        score = np.where(near, score * NEAR_FACTOR, score)
    # Documents holding the query's Chinese runs as written come first; the score
    # shown carries that order so it never rises down the list.
    level = tier.astype(np.float64)
    if matched_clauses is not None:  # more of the words, higher; rare words weigh more
        score = score * matched_clauses[docs] / len(parsed.positives)
        level[:] = 0  # every clause is a word here: none is a run held as written
    if len(score) and level.any():
        score = score + level * (np.ceil(score.max()) + 1)
    return np.round(score, 4)


def filter_masks(view: View, req: SearchRequest) -> Masks:
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
        lo = day_start(req.date_from) if req.date_from else -np.inf
        hi = day_end(req.date_to) if req.date_to else np.inf
        ts = view.facets.ts
        with np.errstate(invalid="ignore"):
            dates = (ts >= lo) & (ts <= hi)
    return tags, authors, dates


def _freshness(view: View, docs: np.ndarray) -> np.ndarray:
    """Nudge by recency within a small margin: at most +8% for the newest document."""
    lo, hi = view.facets.ts_range
    span = (hi - lo) or 1.0
    ts = view.facets.ts[docs]
    fresh = np.where(np.isnan(ts), 0.0, (ts - lo) / span)
    return 1 + RECENCY_WEIGHT * np.clip(fresh, 0.0, 1.0)
