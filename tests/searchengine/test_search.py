"""search() through a real index of the small corpus: results, filters, facets, highlights."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import unicodedata
from collections import Counter

import pytest

from searchengine import SearchRequest, search
from searchengine.errors import InvalidParameter

FED = "2024/07/fed-signals-cut"
BANKS = "2024/07/banks-cutting-rates"
LEGCO = "2024/07/legco-election"
MARX = "2024/08/marxism-book"
MUG = "2024/08/mug-design"
TOOL = "2024/09/open-source-tool"
AI = "2024/09/ai-chips"
FISH = "2024/09/fish & chips"
SP500 = "2024/10/sp500-record"
SAMSUNG = "2024/10/삼성전자"
EURO = "2024/10/eurozone-inflation"
UNDATED = "notes/没有日期 note"


def key(value: str) -> str:
    """Fold a tag or author the way a reader expects (width and case), without the engine."""
    return " ".join(unicodedata.normalize("NFKC", value).lower().split())


def run(small_index, q="", **kw):
    kw.setdefault("per_page", 100)
    return search(small_index.ix, SearchRequest(q=q, **kw))


def ids(small_index, q="", **kw) -> set[str]:
    return {h.id for h in run(small_index, q, **kw).results}


def first(small_index, q, **kw):
    return run(small_index, q, **kw).results[0]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("美联储 降息", {FED}),
        ("美联储降息", {FED}),
        ("马克杯 OR 马克思", {MUG, MARX}),
        ("降息", {FED, EURO}),
        ("降息 -欧洲", {FED}),
        ("降息 NOT 欧洲", {FED}),
        ('"interest rate cut"', {FED}),
        ('降息 -"rate cut"', {EURO}),
        ("马克 -(咖啡 OR 设计)", {MARX}),
        ('"cut rate interest"', set()),
        ('"cut rate"', {BANKS, EURO}),
        ("title:降息", {FED}),
        ("title:inflation", {EURO}),
        ("tag:us", {FED, BANKS}),
        ("tag:ＡＩ", {AI, TOOL}),
        ("author:FT", {FED, BANKS, MUG, FISH, SP500}),
        ("author:xinhua 马克思", {MARX}),
        ("infla*", {FED, EURO}),
        ("(马克杯 OR 马克思) 设计", {MUG}),
        # English across inflections.
        ("rate", {FED, BANKS, EURO, UNDATED}),
        ("cutting", {FED, BANKS, EURO}),
        ("rates cut", {FED, BANKS, EURO}),
        # Numbers.
        ("2000", {SP500}),
        ("2,000", {SP500}),
        ("7%", {SP500}),
        ("3.5%", {SP500}),
        ("S&P 500", {SP500}),
        # Korean, as a word and as a part of one.
        ("삼성전자", {SAMSUNG}),
        ("삼성", {SAMSUNG}),
    ],
)
def test_query_forms_find_the_right_documents(small_index, q, expected):
    assert ids(small_index, q) == expected


def test_possessive_is_found_by_its_word(small_index):
    assert ids(small_index, "AT&T") == {FISH}


@pytest.mark.parametrize(
    ("q", "expected"),
    [("美聯儲", {FED}), ("美聯儲 降息", {FED}), ("立法会选举", {LEGCO}), ("选举", {LEGCO})],
)
def test_traditional_and_simplified_find_each_other(small_index, q, expected):
    assert ids(small_index, q) == expected


@pytest.mark.parametrize(("q", "expected"), [("ＡＩ", {AI, TOOL}), ("ai", {AI, TOOL})])
def test_full_width_and_half_width_find_each_other(small_index, q, expected):
    assert ids(small_index, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [("简单", {TOOL}), ("安装", {TOOL}), ("马克", {MARX, MUG}), ("选", {LEGCO}), ("联储", {FED})],
)
def test_chinese_substrings_are_found(small_index, q, expected):
    assert ids(small_index, q) == expected


def test_marx_does_not_match_the_mug(small_index):
    assert ids(small_index, "马克思") == {MARX}
    hit = first(small_index, "马克思")
    assert hit.title_html == "<mark>马克思</mark>主义哲学新书出版"
    assert "<mark>马克思</mark>主义" in hit.snippet_html


@pytest.mark.parametrize(
    ("q", "title_html"),
    [
        ("美聯儲", "<mark>美联储</mark>暗示九月降息"),
        ("立法会选举", "<mark>立法會選舉</mark>結果公佈"),
        ("ai", "<mark>ＡＩ</mark>芯片需求大增"),
        ("cutting rates", "Banks keep <mark>cutting rates</mark>"),
    ],
)
def test_highlights_mark_the_text_as_written(small_index, q, title_html):
    assert first(small_index, q).title_html == title_html


def test_snippet_marks_english_inflections(small_index):
    hit = first(small_index, '"interest rate cut"')
    assert "<mark>interest rate cut</mark>" in hit.snippet_html


# --- Filters and sorts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"tags": ("us",)}, {FED, BANKS}),
        ({"tags": ("US", "Economy")}, {FED}),
        ({"tags": ("ＡＩ",)}, {AI, TOOL}),
        ({"tags": ("chips", "korea")}, {SAMSUNG}),
        ({"tags": ("us", "food")}, set()),
        ({"authors": ("hkcnews",)}, {LEGCO, TOOL, UNDATED}),
        ({"authors": ("hkcnews", "XINHUA")}, {LEGCO, TOOL, UNDATED, MARX, AI, SAMSUNG, EURO}),
        ({"date_from": dt.date(2024, 7, 19), "date_to": dt.date(2024, 7, 19)}, {FED}),
        # 2024-10-01 03:00 in Hong Kong is 2024-09-30 in UTC.
        ({"date_from": dt.date(2024, 9, 30), "date_to": dt.date(2024, 9, 30)}, {SP500}),
        ({"date_from": dt.date(2024, 10, 1)}, {SAMSUNG, EURO}),
        ({"date_to": dt.date(2024, 7, 5)}, {BANKS}),
        ({"tags": ("chips",), "authors": ("xinhua",), "date_to": dt.date(2024, 9, 30)}, {AI}),
    ],
)
def test_filters(small_index, kw, expected):
    assert ids(small_index, **kw) == expected


def test_filters_combine_with_a_query(small_index):
    assert ids(small_index, "降息", authors=("ft",)) == {FED}
    assert ids(small_index, "rate", tags=("us",)) == {FED, BANKS}


@pytest.mark.parametrize(
    ("scoped", "kw"), [("tag:us", {"tags": ("us",)}), ("author:ft", {"authors": ("ft",)})]
)
def test_scopes_agree_with_filters(small_index, scoped, kw):
    assert ids(small_index, scoped) == ids(small_index, **kw)


def test_empty_query_lists_everything_newest_first(small_index):
    resp = run(small_index)
    assert resp.total == len(small_index.docs)
    assert [h.id for h in resp.results][:3] == [EURO, SAMSUNG, SP500]
    assert resp.results[-1].id == UNDATED


@pytest.mark.parametrize("sort", ["newest", "oldest"])
@pytest.mark.parametrize("q", ["", "rate"])
def test_date_sorts_put_undated_last(small_index, sort, q):
    results = run(small_index, q, sort=sort).results
    dates = [h.date for h in results]
    dated = [d for d in dates if d is not None]
    assert dates == dated + [None] * (len(dates) - len(dated))
    stamps = [dt.datetime.fromisoformat(d) for d in dated]
    assert stamps == sorted(stamps, reverse=sort == "newest")


def test_oldest_first(small_index):
    assert [h.id for h in run(small_index, sort="oldest").results][:2] == [BANKS, FED]


@pytest.mark.parametrize("q", ["", "rate"])
def test_pages_cover_the_results_once(small_index, q):
    everything = [h.id for h in run(small_index, q).results]
    per_page = 3
    pages = [run(small_index, q, page=n, per_page=per_page) for n in range(1, 6)]
    seen = [h.id for p in pages for h in p.results]
    assert seen == everything
    assert all(p.total == len(everything) for p in pages)


def test_a_page_past_the_end_is_empty(small_index):
    resp = run(small_index, page=50, per_page=10)
    assert resp.results == []
    assert resp.total == len(small_index.docs)
    assert resp.to_dict()["page"] == 50


# --- Facets -----------------------------------------------------------------------------


def expected_facets(specs) -> dict:
    """Count tags, authors and months straight from the hand-written corpus."""
    return {
        "tags": Counter(key(t) for s in specs for t in s.expect_tags),
        "author": Counter(key(s.author) for s in specs if s.author),
        "date": sorted(Counter(s.month for s in specs if s.month).items()),
    }


def facets_of(resp) -> dict:
    facets = resp.to_dict()["facets"]
    tags = {key(v["value"]): v["count"] for v in facets["tags"]}
    authors = {key(v["value"]): v["count"] for v in facets["author"]}
    assert len(tags) == len(facets["tags"]) and len(authors) == len(facets["author"])
    return {
        "tags": Counter(tags),
        "author": Counter(authors),
        "date": [(v["value"], v["count"]) for v in facets["date"]],
    }


def _in_months(spec, first_month, last_month):
    return spec.month is not None and first_month <= spec.month <= last_month


FACET_CASES = {
    "everything": ({}, lambda s: True),
    "query": ({"q": "降息"}, lambda s: "降息" in s.text),
    "substring": ({"q": "马克"}, lambda s: "马克" in s.text),
    "tag": ({"tags": ("chips",)}, lambda s: "chips" in map(key, s.expect_tags)),
    "authors": ({"authors": ("FT", "xinhua")}, lambda s: key(s.author or "") in {"ft", "xinhua"}),
    "dates": (
        {"date_from": dt.date(2024, 8, 1), "date_to": dt.date(2024, 9, 30)},
        lambda s: _in_months(s, "2024-08", "2024-09"),
    ),
    "query and author": (
        {"q": "马克", "authors": ("ft",)},
        lambda s: "马克" in s.text and s.author == "ft",
    ),
}


@pytest.mark.parametrize("case", list(FACET_CASES))
@pytest.mark.parametrize("per_page", [1, 100])
def test_facet_counts_are_exact(small_index, case, per_page):
    kw, matches = FACET_CASES[case]
    specs = [s for s in small_index.docs if matches(s)]
    resp = run(small_index, per_page=per_page, **kw)
    assert resp.total == len(specs)
    assert facets_of(resp) == expected_facets(specs)


def test_facets_show_a_display_form_of_each_tag(small_index):
    values = {v["value"] for v in run(small_index).to_dict()["facets"]["tags"]}
    assert {"香港", "政治", "books"} <= values
    assert len(values & {"us", "US"}) == 1
    assert len(values & {"AI", "ＡＩ"}) == 1


# --- Highlights are HTML-safe -----------------------------------------------------------------


def assert_html_safe(fragment: str) -> None:
    bare = fragment.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare, fragment
    assert not re.search(r"&(?!amp;|lt;|gt;|quot;|#x27;)", bare), fragment


@pytest.mark.parametrize("q", ["fish", "alert", "降价", "script", "chips"])
def test_highlights_escape_everything_but_marks(small_index, q):
    hit = next(h for h in run(small_index, q).results if h.id == FISH)
    for fragment in (hit.title_html, hit.snippet_html):
        assert_html_safe(fragment)
    assert html.unescape(re.sub(r"</?mark>", "", hit.title_html)) == hit.title
    assert "<mark>" in hit.title_html + hit.snippet_html


def test_title_with_markup_is_shown_as_text(small_index):
    hit = first(small_index, "alert")
    assert (
        hit.title_html == "Fish &amp; Chips &lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; 降价"
    )


# --- Relaxed matching and suggestions -------------------------------------------------------


def test_relaxed_when_no_document_has_every_word(small_index):
    resp = run(small_index, "降息 삼성전자")
    assert resp.relaxed is True
    assert {h.id for h in resp.results} == {FED, EURO, SAMSUNG}


def test_relaxed_keeps_exclusions(small_index):
    resp = run(small_index, "降息 삼성전자 -欧洲")
    assert resp.relaxed is True
    assert {h.id for h in resp.results} == {FED, SAMSUNG}


@pytest.mark.parametrize(("q", "total"), [("美联储 降息", 1), ("zzqqx yyvvw", 0), ("zzqqx", 0)])
def test_not_relaxed_when_every_word_matches_or_nothing_does(small_index, q, total):
    resp = run(small_index, q)
    assert (resp.total, resp.relaxed) == (total, False)


SUGGESTIONS = {"inflaton": "inflation", "Inflaton": "inflation", "inflaton rate": "inflation rate"}
NO_SUGGESTION = dict.fromkeys(["inflation", "美联储", ""])


@pytest.mark.parametrize(("q", "suggestion"), [*SUGGESTIONS.items(), *NO_SUGGESTION.items()])
def test_suggestion_for_a_misspelled_word(small_index, q, suggestion):
    assert run(small_index, q).suggestion == suggestion


@pytest.mark.parametrize("q", ["cuts", "signal", "chip"])
def test_no_suggestion_for_a_word_that_matches(small_index, q):
    resp = run(small_index, q)
    assert resp.total > 0
    assert resp.suggestion is None


# --- The JSON shape and the request's checks ------------------------------------------------


RESPONSE_KEYS = set(
    [
        "query",
        "total",
        "page",
        "per_page",
        "took_ms",
        "relaxed",
        "results",
        "facets",
        "suggestion",
        "notice",
    ]
)
HIT_KEYS = set(
    ["id", "title", "description", "date", "tags", "author", "url", "score", "highlights"]
)


def test_to_dict_is_the_contract(small_index):
    data = run(small_index, "美联储 降息", per_page=10).to_dict()
    json.dumps(data)
    assert set(data) == RESPONSE_KEYS
    assert [data[k] for k in ("query", "total", "page", "per_page")] == ["美联储 降息", 1, 1, 10]
    hit = data["results"][0]
    assert set(hit) == HIT_KEYS
    assert set(hit["highlights"]) == {"title", "snippet"}
    assert hit["date"] == "2024-07-19T04:00:47.838000+00:00"
    assert (hit["id"], hit["tags"], hit["author"]) == (FED, ["us", "Economy"], "ft")
    assert hit["url"] == "https://ft.com/fed"
    assert hit["score"] > 0
    assert set(data["facets"]) == {"tags", "author", "date"}
    assert all(set(v) == {"value", "count"} for vs in data["facets"].values() for v in vs)


def test_a_reversed_date_range_finds_nothing_and_says_why(small_index):
    resp = search(
        small_index.ix,
        SearchRequest(date_from=dt.date(2024, 9, 2), date_to=dt.date(2024, 9, 1)),
    )
    assert resp.total == 0 and "'from' is after 'to'" in resp.to_dict()["notice"]


def test_undated_document_has_null_date(small_index):
    assert run(small_index, "没有日期").to_dict()["results"][0]["date"] is None


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"sort": "best"}, "sort"),
    ],
)
def test_bad_request_values_are_refused(kw, name):
    with pytest.raises(InvalidParameter) as err:
        SearchRequest(**kw)
    assert err.value.name == name


SAME_DAY = {"date_from": dt.date(2024, 9, 1), "date_to": dt.date(2024, 9, 1)}


@pytest.mark.parametrize("kw", [{"per_page": 1}, {"per_page": 100}, {"sort": "oldest"}, SAME_DAY])
def test_edge_request_values_are_accepted(kw):
    SearchRequest(**kw)


def test_characters_opencc_converts_only_inside_phrases_stay_findable(tmp_path):
    """瞭 alone stays 瞭, but 瞭解 folds to 了解: both the character and the word must find it."""
    from indexer.rebuild import rebuild
    from searchengine import SearchRequest, open_index, search
    from searchengine.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hk.md").write_text(
        "---\ntitle: 回覆查詢\n---\n我們瞭解市民的計畫，並會回覆。\n", encoding="utf-8"
    )
    rebuild(Settings.resolve(corpus, tmp_path / "index"), jobs=1)
    ix = open_index(tmp_path / "index")
    try:
        for q in ["瞭", "覆", "畫", "了解", "瞭解", "回复", "计划"]:
            resp = search(ix, SearchRequest(q=q))
            assert resp.total == 1, q
            assert "<mark>" in resp.results[0].snippet_html + resp.results[0].title_html, q
    finally:
        ix.close()
