"""Evaluate a match tree over one index snapshot: exact match sets, then scores.

A match set is a boolean array over document numbers, so AND, OR and NOT are
array operations and the set is always whole: totals, facets and every page
come from the same set. Scores are BM25F sums computed over the postings
arrays of the positive words, for every matching document at once.
"""

from __future__ import annotations

import math
import time

import numpy as np
from whoosh import query as wq

from searchengine.errors import QueryTooCostly
from searchengine.query import MAX_EXPANSIONS, All, Any, Node, Not, Phrase, Prefix, Run, Term
from searchengine.schema import WORD_FIELDS
from searchengine.settings import setting

RUN_WEIGHT = setting("run_weight")
PREFIX_WEIGHT = setting("prefix_weight")
PHRASE_WEIGHT = setting("phrase_weight")
NEAR_FACTOR = setting("near_factor")
NEAR_SLOP = setting("near_slop")
TIME_BUDGET = setting("time_budget")


class Matcher:
    """Match sets and scores of match trees over one snapshot (its postings and characters)."""

    def __init__(self, view, deadline: float | None = None) -> None:
        self.view = view
        self.postings = view.postings
        self.chars = view.chars
        self.size = view.postings.size
        self.live = view.facets.live_mask
        self.deadline = deadline or (time.monotonic() + TIME_BUDGET)
        self._masks: dict[object, np.ndarray] = {}

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTooCostly(
                "The query took too long to answer; make it shorter or more specific."
            )

    # Match sets -------------------------------------------------------------------

    def mask(self, node: Node) -> np.ndarray:
        """The documents matching ``node``, as a boolean array (live documents only)."""
        hit = self._masks.get(node)
        if hit is None:
            self.check_time()
            hit = self._masks[node] = self._mask(node) & self.live
        return hit

    def _mask(self, node: Node) -> np.ndarray:
        if isinstance(node, All):
            out = self.live.copy()
            for item in sorted(node.items, key=lambda n: isinstance(n, Not)):
                out &= self.mask(item)
                if not out.any():
                    break
            return out
        if isinstance(node, Any):
            out = np.zeros(self.size, bool)
            for item in node.items:
                out |= self.mask(item)
            return out
        if isinstance(node, Not):
            return ~self.mask(node.item)
        if isinstance(node, Term):
            return self._docs_mask(self.postings.docs(f, node.text) for f in node.fields)
        if isinstance(node, Run):
            return self._run_mask(node)
        if isinstance(node, Prefix):
            arrays = [self.postings.docs(f, t) for f in node.fields for t in self.expand(node, f)]
            if node.fields == tuple(WORD_FIELDS):
                # Word fields hold stems (inflat for inflation): the words as written
                # (the spelling vocabulary) find inflati* and rates* too.
                arrays += [self.postings.docs("spell", w) for w in self.spelled(node.prefix)]
            return self._docs_mask(arrays)
        if isinstance(node, Phrase):
            q = wq.Or([wq.Phrase(f, list(node.words)) for f in node.fields])
            with self.view.lock:
                found = np.fromiter(self.view.searcher.docs_for_query(q), np.int64)
            return self._docs_mask([found])
        raise TypeError(f"unknown node {node!r}")

    def expand(self, node: Prefix, field: str) -> list[str]:
        """The indexed terms (stems, keys) of one field that a prefix stands for."""
        return self.postings.prefix_terms(field, node.prefix, MAX_EXPANSIONS)

    def spelled(self, prefix: str) -> list[str]:
        """Words as written in the documents that start with ``prefix``."""
        return self.postings.prefix_terms("spell", prefix, MAX_EXPANSIONS)

    def _docs_mask(self, arrays) -> np.ndarray:
        out = np.zeros(self.size, bool)
        for a in arrays:
            out[a] = True
        return out

    def contiguous(self, node: Run) -> np.ndarray:
        """The documents holding the run as written."""
        key = ("contiguous", node.run, node.title, node.alternate)
        hit = self._masks.get(key)
        if hit is None:
            runs = [node.run] + ([node.alternate] if node.alternate else [])
            hit = self._docs_mask(self.chars.containing(r, node.title) for r in runs) & self.live
            self._masks[key] = hit
        return hit

    def _run_mask(self, node: Run) -> np.ndarray:
        out = self.contiguous(node).copy()
        if node.pieces:
            apart = self.live.copy()
            for piece in sorted(node.pieces, key=len, reverse=True):
                self.check_time()
                apart &= self.contiguous(Run(piece, (), node.title))
                if not apart.any():
                    break
            out |= apart
        return out

    # Scores ---------------------------------------------------------------------------

    def scores(self, node: Node, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score and tier of each document in ``docs`` (ascending numbers) for ``node``.

        The tier counts the Chinese runs a document holds as written: such
        documents rank before those that hold the run's words apart.
        """
        score = np.zeros(self.size, np.float64)
        tier = np.zeros(self.size, np.int32)
        for leaf in _positive_leaves(node):
            self.check_time()
            self._score_leaf(leaf, score, tier)
        return score[docs], tier[docs]

    def _score_leaf(self, leaf: Node, score: np.ndarray, tier: np.ndarray) -> None:
        p = self.postings
        if isinstance(leaf, Term):
            for f in leaf.fields:
                if f in WORD_FIELDS:
                    ids, s = p.bm25(f, leaf.text, WORD_FIELDS[f])
                    score[ids] += s
                else:  # a tag or author filter: everyone matching has it; no ranking signal
                    pass
        elif isinstance(leaf, Run):
            held = self.contiguous(leaf)
            count = int(held.sum())
            if count:
                idf = math.log(self.size / (count + 1)) + 1
                np.add(score, RUN_WEIGHT * idf, out=score, where=held)
                np.add(tier, 1, out=tier, where=held)
            # Words of one character say little and their postings are the longest:
            # the run's own weight ranks them.
            words = [w for w in leaf.pieces or (leaf.run,) if len(w) > 1]
            fields = ("title",) if leaf.title else tuple(WORD_FIELDS)
            for w in words:
                for f in fields:
                    ids, s = p.bm25(f, w, WORD_FIELDS[f])
                    score[ids] += s
        elif isinstance(leaf, Prefix):
            np.add(score, PREFIX_WEIGHT, out=score, where=self.mask(leaf))
        elif isinstance(leaf, Phrase):
            np.add(score, PHRASE_WEIGHT, out=score, where=self.mask(leaf))
            for w in leaf.words:
                for f in leaf.fields:
                    if f in WORD_FIELDS:
                        ids, s = p.bm25(f, w, WORD_FIELDS[f])
                        score[ids] += s

    def near(self, words: list[str], docs: np.ndarray) -> np.ndarray:
        """Which of ``docs`` hold the words within a few words of each other."""
        if len(words) < 2 or len(words) > 8 or not len(docs):
            return np.zeros(len(docs), bool)
        q = wq.Or([wq.Phrase(f, words, slop=NEAR_SLOP) for f in ("title", "body")])
        with self.view.lock:
            found = np.fromiter(self.view.searcher.docs_for_query(q), np.int64)
        return np.isin(docs, found)


def _positive_leaves(node: Node):
    if isinstance(node, Not):
        return
    if isinstance(node, All | Any):
        for item in node.items:
            yield from _positive_leaves(item)
        return
    yield node
