"""The engine against a brute-force oracle over generated bilingual corpora (contract §4, §5).

Each test draws queries from the query language with hypothesis and compares the engine's
answer with what scanning the folded raw texts gives (see oracle.py). Failures name the
query, the corpus size, the missing and extra ids and a folded snippet of each document.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import tempfile
from pathlib import Path

import opencc
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oracle import (
    AUTHORS,
    EN_WORDS,
    STOP,
    TAGS,
    And,
    Answer,
    Author,
    Doc,
    HighlightAllowance,
    Not,
    Or,
    Phrase,
    Prefix,
    Run,
    Tag,
    Word,
    build_index,
    compare,
    describe,
    facet_counts,
    facet_key,
    fold,
    generate_corpus,
    han_runs,
    mark_problems,
    tokens,
)

from searchengine.search import SearchRequest, search

SORTS = ("relevance", "newest", "oldest")
CORPORA = ((11, 40), (22, 60), (33, 25))  # (seed, documents)

# Shrinking re-runs the engine hundreds of times: set ORACLE_SHRINK=1 to minimise a failure.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("ORACLE_SHRINK") else []
)
ORACLE = settings(
    max_examples=80,
    phases=PHASES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_S2T = opencc.OpenCC("s2t")


class Corpus:
    """A generated corpus and its open index (a plain class: hypothesis prints it short)."""

    def __init__(self, seed: int, docs: list[Doc], ix) -> None:
        self.seed, self.docs, self.ix = seed, docs, ix

    def __repr__(self) -> str:
        return f"Corpus(seed={self.seed}, {len(self.docs)} documents)"

    @property
    def by_id(self) -> dict[str, Doc]:
        return {d.id: d for d in self.docs}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> list[Corpus]:
    """Index a few seeded corpora once for the module."""
    out = []
    for seed, n in CORPORA:
        docs = generate_corpus(seed, n)
        out.append(Corpus(seed, docs, build_index(docs, tmp_path_factory.mktemp(f"oracle{seed}"))))
    yield out
    for c in out:
        c.ix.close()


# --- Drawing queries ------------------------------------------------------------------


def draw_corpus(data, corpora) -> Corpus:
    return corpora[data.draw(st.integers(0, len(corpora) - 1), label="corpus")]


def draw_run(data, docs: list[Doc]) -> str:
    """A piece of 1–6 Han characters cut anywhere from a document, maybe in the other script."""
    holders = [d for d in docs if han_runs(d)]
    doc = holders[data.draw(st.integers(0, len(holders) - 1), label="doc")]
    run = data.draw(st.sampled_from(han_runs(doc)), label="run")
    size = data.draw(st.integers(1, min(6, len(run))), label="size")
    start = data.draw(st.integers(0, len(run) - size), label="start")
    piece = run[start : start + size]
    script = data.draw(st.sampled_from(("as written", "traditional", "simplified")))
    if script == "traditional":
        return _S2T.convert(piece)
    return fold(piece) if script == "simplified" else piece


EXTRA_WORDS = ("gpus", "llms", "Cutting", "RATE", "ratings", "Banking", "filed", "missing")


def draw_word(data) -> str:
    return data.draw(st.sampled_from(EN_WORDS + EXTRA_WORDS), label="word")


def draw_phrase(data, docs: list[Doc]) -> Phrase:
    """Two English words that stand together in some document (maybe with a stop word between)."""
    pairs = []
    for d in docs:
        for seg in d.segments():
            toks = tokens(seg)
            pairs += [tuple(toks[i : i + 2]) for i in range(len(toks) - 1)]
    pairs = sorted({p for p in pairs if "\x00" not in p})
    if not pairs or data.draw(st.booleans(), label="random phrase"):
        return Phrase((draw_word(data), draw_word(data)))
    a, b = data.draw(st.sampled_from(pairs), label="pair")
    stop = data.draw(st.sampled_from(("", *STOP)), label="stop")
    return Phrase((a, stop, b) if stop else (a, b))


def draw_prefix(data) -> Prefix:
    word = fold(draw_word(data))
    return Prefix(word[: data.draw(st.integers(2, len(word)), label="prefix length")])


def draw_atom(data, docs: list[Doc], kinds=None):
    kinds = kinds or ("word", "title", "phrase", "prefix", "tag", "author", "run")
    kind = data.draw(st.sampled_from(kinds), label="atom")
    if kind == "word":
        return Word(draw_word(data))
    if kind == "title":
        return Word(draw_word(data), title=True)
    if kind == "phrase":
        return draw_phrase(data, docs)
    if kind == "prefix":
        return draw_prefix(data)
    if kind == "tag":
        return Tag(data.draw(st.sampled_from((*TAGS, "Ai", "經濟"))))
    if kind == "author":
        return Author(data.draw(st.sampled_from((*AUTHORS, "Xinhua", "ＦＴ"))))
    return Run(draw_run(data, docs))


def draw_query(data, docs: list[Doc]) -> And:
    """One to three clauses: a term, a negated term or an OR of two; at least one positive."""
    clauses = []
    for _ in range(data.draw(st.integers(1, 3), label="clauses")):
        shape = data.draw(st.sampled_from(("atom", "atom", "not", "or")), label="shape")
        if shape == "not":
            style = data.draw(st.sampled_from(("-", "NOT ")), label="negation")
            clauses.append(Not(draw_atom(data, docs), style))
        elif shape == "or":
            clauses.append(Or((draw_atom(data, docs), draw_atom(data, docs))))
        else:
            clauses.append(draw_atom(data, docs))
    if all(isinstance(c, Not) for c in clauses):
        clauses.insert(0, draw_atom(data, docs))
    return And(tuple(clauses))


# --- Asking the engine ------------------------------------------------------------------


def ask(corpus: Corpus, q: str, **kw):
    kw.setdefault("per_page", 100)
    return search(corpus.ix, SearchRequest(q=q, **kw))


def found(corpus: Corpus, q: str, **kw) -> tuple[set[str], object]:
    """Every id the engine matches (the corpora fit on one page of 100)."""
    resp = ask(corpus, q, **kw)
    ids = [h.id for h in resp.results]
    assert len(ids) == len(set(ids)), f"query {q!r}: a document repeats on one page: {ids}"
    assert resp.total == len(ids), f"query {q!r}: total {resp.total} but {len(ids)} results"
    return set(ids), resp


def check_answer(corpus: Corpus, node, needle: str = "", **kw) -> None:
    q = node.render()
    got, resp = found(corpus, q, **kw)
    want = node.answer(corpus.docs)
    if resp.relaxed:
        assert not want.must, (
            f"query {q!r}: the engine relaxed the query although {len(want.must)} documents "
            f"match all of it:\n{describe(want.must, corpus.docs, needle)}"
        )
        return
    problem = compare(q, got, want, corpus.docs, needle)
    assert not problem, problem


def all_pages(corpus: Corpus, q: str, sort: str, per_page: int, **kw) -> tuple[list, int]:
    """Walk every page; return the hits in order and the total the first page gave."""
    first = ask(corpus, q, sort=sort, per_page=per_page, page=1, **kw)
    hits = list(first.results)
    pages = -(-first.total // per_page)
    for page in range(2, pages + 1):
        resp = ask(corpus, q, sort=sort, per_page=per_page, page=page, **kw)
        assert resp.total == first.total, f"query {q!r} sort={sort}: total changes on page {page}"
        hits += resp.results
    beyond = ask(corpus, q, sort=sort, per_page=per_page, page=pages + 1, **kw)
    assert beyond.results == [], f"query {q!r} sort={sort}: page {pages + 1} is past the end"
    return hits, first.total


# --- 1. Quoted Chinese runs -----------------------------------------------------------------


@ORACLE
@given(data=st.data())
def test_a_quoted_chinese_run_finds_exactly_the_documents_holding_it(corpora, data):
    """A quoted run of 1–6 Han characters, cut anywhere, finds exactly the documents that hold it."""
    corpus = draw_corpus(data, corpora)
    run = draw_run(data, corpus.docs)
    check_answer(corpus, Run(run, quoted=True), needle=run)


# --- 2. Unquoted Chinese runs ---------------------------------------------------------------


@ORACLE
@given(data=st.data())
def test_an_unquoted_chinese_run_finds_its_holders_first(corpora, data):
    """Typed without quotes, a run finds every holder, only documents with all its characters,
    and ranks the documents that hold it contiguously first."""
    corpus = draw_corpus(data, corpora)
    run = draw_run(data, corpus.docs)
    node = Run(run, quoted=False)
    check_answer(corpus, node, needle=run)
    resp = ask(corpus, run)
    held = [h.id for h in resp.results if corpus.by_id[h.id].holds_run(run)]
    order = [h.id for h in resp.results]
    late = [i for i in held if order.index(i) >= len(held)]
    assert not late, (
        f"query {run!r} over {len(corpus.docs)} documents: {len(late)} documents holding the run "
        f"contiguously rank after documents that do not. Order (✓ holds it):\n"
        + "\n".join(
            f"    {'✓' if i in held else ' '} {i} {h.score}: {corpus.by_id[i].snippet(run)!r}"
            for i, h in zip(order, resp.results, strict=True)
        )
    )


# --- 3. English words and the query language ------------------------------------------------


@ORACLE
@given(data=st.data())
def test_an_english_word_finds_every_inflection(corpora, data):
    """A word finds exactly the documents holding a word of the same stem (GPUs finds GPU)."""
    corpus = draw_corpus(data, corpora)
    word = draw_word(data)
    check_answer(corpus, Word(word), needle=word)


@ORACLE
@given(data=st.data())
def test_the_query_language_finds_what_it_says(corpora, data):
    """AND, OR, -word, NOT, quotes, title:, tag:, author: and word* find exactly their documents."""
    corpus = draw_corpus(data, corpora)
    check_answer(corpus, draw_query(data, corpus.docs))


# --- 4. Filters ------------------------------------------------------------------------------


@ORACLE
@given(data=st.data())
def test_filters_keep_exactly_the_documents_they_name(corpora, data):
    """Tags (all), authors (any) and an inclusive UTC date range narrow the results exactly."""
    corpus = draw_corpus(data, corpora)
    kind = data.draw(st.sampled_from(("none", "word", "run")), label="query kind")
    node = None
    if kind == "word":
        node = Word(draw_word(data))
    elif kind == "run":
        node = Run(draw_run(data, corpus.docs))
    tags = data.draw(st.lists(st.sampled_from((*TAGS, "Ai", "經濟")), max_size=2), label="tags")
    authors = data.draw(
        st.lists(st.sampled_from((*AUTHORS, "Xinhua", "ＦＴ")), max_size=2), label="authors"
    )
    days = st.one_of(st.none(), st.dates(dt.date(2023, 12, 30), dt.date(2024, 4, 2)))
    lo, hi = data.draw(days, label="from"), data.draw(days, label="to")
    if lo and hi and lo > hi:
        lo, hi = hi, lo
    q = node.render() if node else ""
    want = node.answer(corpus.docs) if node else Answer.exact(d.id for d in corpus.docs)

    def keep(d: Doc) -> bool:
        if not {facet_key(t) for t in tags} <= d.tag_keys:
            return False
        if authors and d.author_key not in {facet_key(a) for a in authors}:
            return False
        if lo or hi:
            if d.utc is None:
                return False
            day = d.utc.date()
            return (lo is None or lo <= day) and (hi is None or day <= hi)
        return True

    kept = {d.id for d in corpus.docs if keep(d)}
    want = Answer(want.must & kept, want.may & kept)
    got, resp = found(corpus, q, tags=tuple(tags), authors=tuple(authors), date_from=lo, date_to=hi)
    if resp.relaxed:
        assert not want.must, f"query {q!r}: relaxed although {sorted(want.must)} match it all"
        return
    label = f"{q} [tags={tags} authors={authors} from={lo} to={hi}]"
    problem = compare(label, got, want, corpus.docs)
    assert not problem, problem


# --- 5. Totals, facets and pages agree --------------------------------------------------------


def _check_order(q: str, sort: str, hits, corpus: Corpus) -> None:
    ids = [h.id for h in hits]
    repeats = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeats, f"query {q!r} sort={sort}: paging shows these documents twice: {repeats}"
    if sort == "relevance":
        scores = [h.score for h in hits]
        drops = [
            (ids[i], scores[i], ids[i + 1], scores[i + 1])
            for i in range(len(scores) - 1)
            if scores[i] < scores[i + 1]
        ]
        assert not drops, f"query {q!r}: relevance order is not by descending score: {drops[:3]}"
        return
    dated = [(i, corpus.by_id[i].ts) for i in ids if corpus.by_id[i].ts is not None]
    sign = -1 if sort == "newest" else 1
    wrong = [
        (a, b) for (a, ta), (b, tb) in zip(dated, dated[1:], strict=False) if sign * (tb - ta) < 0
    ]
    assert not wrong, f"query {q!r} sort={sort}: dates out of order at {wrong[:3]}"
    if sort == "newest":
        first_undated = next((k for k, i in enumerate(ids) if corpus.by_id[i].ts is None), None)
        if first_undated is not None:
            after = [i for i in ids[first_undated:] if corpus.by_id[i].ts is not None]
            assert not after, f"query {q!r}: undated documents come before dated ones {after}"


@settings(ORACLE, max_examples=40)
@given(data=st.data())
def test_totals_facets_and_pages_agree_in_every_sort(corpora, data):
    """Every sort and page size shows each match once, with the same total and exact facets."""
    corpus = draw_corpus(data, corpora)
    kind = data.draw(st.sampled_from(("empty", "word", "run", "unquoted", "query")), label="kind")
    if kind == "empty":
        q = ""
    elif kind == "word":
        q = draw_word(data)
    elif kind in ("run", "unquoted"):
        q = Run(draw_run(data, corpus.docs), quoted=kind == "run").render()
    else:
        q = draw_query(data, corpus.docs).render()
    per_page = data.draw(st.sampled_from((1, 3, 7, 10)), label="per_page")
    totals, sets = {}, {}
    for sort in SORTS:
        reference = ask(corpus, q, sort=sort)
        hits, total = all_pages(corpus, q, sort, per_page)
        ids = [h.id for h in hits]
        totals[sort] = total
        sets[sort] = set(ids)
        _check_order(q, sort, hits, corpus)
        assert len(ids) == total, (
            f"query {q!r} sort={sort} per_page={per_page}: total says {total}, "
            f"paging shows {len(ids)} ({len(set(ids))} distinct)"
        )
        ref_ids = [h.id for h in reference.results]
        assert ids == ref_ids, (
            f"query {q!r} sort={sort}: pages of {per_page} show another order than one page "
            f"of 100 (ties are not ordered deterministically):\n    {ids}\n    {ref_ids}"
        )
        page = data.draw(st.integers(1, max(1, -(-total // per_page))), label="page")
        again = [h.id for h in ask(corpus, q, sort=sort, per_page=per_page, page=page).results]
        assert again == ids[(page - 1) * per_page : page * per_page], (
            f"query {q!r} sort={sort}: page {page} differs when asked again"
        )
        want = facet_counts(set(ids), corpus.docs)
        for name in ("tags", "author"):
            got = {facet_key(v.value): v.count for v in reference.facets[name]}
            assert got == dict(want[name]), (
                f"query {q!r} sort={sort}: {name} facet {got} but the {total} matches carry "
                f"{dict(want[name])}"
            )
        got_months = {v.value: v.count for v in reference.facets["date"]}
        assert got_months == dict(want["date"]), (
            f"query {q!r} sort={sort}: date facet {got_months}, matches give {dict(want['date'])}"
        )
    assert len(set(totals.values())) == 1, f"query {q!r}: totals differ by sort: {totals}"
    assert sets["relevance"] == sets["newest"] == sets["oldest"], (
        f"query {q!r}: the sorts show different documents: "
        f"{sorted(sets['relevance'] ^ sets['newest'])} {sorted(sets['newest'] ^ sets['oldest'])}"
    )


# --- 6. Highlights -----------------------------------------------------------------------------


@ORACLE
@given(data=st.data())
def test_highlights_mark_only_what_the_query_matched(corpora, data):
    """Titles and snippets are escaped HTML whose <mark>s surround only text the query matched."""
    corpus = draw_corpus(data, corpora)
    kinds = ("word", "phrase", "prefix", "run", "run", "unquoted", "tag")
    kind = data.draw(st.sampled_from(kinds), label="kind")
    if kind == "unquoted":
        node = And((Run(draw_run(data, corpus.docs), quoted=False),))
    else:
        node = And((draw_atom(data, corpus.docs, (kind,)),))
        if data.draw(st.booleans(), label="and a negation"):
            node = And((*node.items, Not(Word(draw_word(data)))))
    q = node.render()
    allowed = HighlightAllowance.of(node)
    resp = ask(corpus, q)
    problems = []
    for hit in resp.results:
        doc = corpus.by_id[hit.id]
        for part, fragment in (("title", hit.title_html), ("snippet", hit.snippet_html)):
            problems += [f"{hit.id} {part}: {p}" for p in mark_problems(fragment, allowed)]
        shown = html.unescape(hit.title_html.replace("<mark>", "").replace("</mark>", ""))
        if " ".join(shown.split()) != " ".join(doc.title.split()):
            problems.append(f"{hit.id} title: shows {shown!r} for {doc.title!r}")
        runs = [p for p in node.items if isinstance(p, Run)]
        in_title = runs and fold(runs[0].text) in fold(doc.title)
        if in_title and "<mark>" not in hit.title_html:
            problems.append(
                f"{hit.id} title holds {runs[0].text!r} but has no mark: {hit.title_html!r}"
            )
    assert not problems, f"query {q!r} over {len(corpus.docs)} documents:\n    " + "\n    ".join(
        problems[:8]
    )


# --- 7. Browsing ---------------------------------------------------------------------------------


def test_an_empty_query_shows_every_document_newest_first(corpora):
    """With no query, every document is listed, the newest first."""
    for corpus in corpora:
        got, resp = found(corpus, "")
        missing = {d.id for d in corpus.docs} - got
        assert not missing, (
            f"empty query over {len(corpus.docs)} documents misses {sorted(missing)}"
        )
        assert resp.total == len(corpus.docs)
        _check_order("", "newest", resp.results, corpus)


# --- A fresh corpus per example ------------------------------------------------------------------


@settings(ORACLE, max_examples=6)
@given(seed=st.integers(0, 10**6), data=st.data())
def test_fresh_corpora_answer_like_the_oracle(seed, data):
    """On a freshly generated corpus, runs, words and queries find what the oracle finds."""
    docs = generate_corpus(seed, 20)
    with tempfile.TemporaryDirectory() as tmp:
        ix = build_index(docs, Path(tmp))
        try:
            corpus = Corpus(seed, docs, ix)
            got, _ = found(corpus, "")
            assert got == {d.id for d in docs}, f"seed {seed}: empty query misses documents"
            for _ in range(6):
                run = draw_run(data, docs)
                check_answer(corpus, Run(run), needle=run)
                check_answer(corpus, Word(draw_word(data)))
                check_answer(corpus, draw_query(data, docs))
        finally:
            ix.close()
