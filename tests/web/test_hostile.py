"""Corpus text and request values never run in a browser, and no input gets a 5xx."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import quote

import pytest
from hostile_corpus import HOSTILE_FILES, IMG, ODD_FILES, PATHOLOGICAL_BODY, XSS
from htmltree import live_code, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HOSTILE_TAGS = [IMG, "a&b <c>", XSS, "javascript:alert(1)", '" onfocus="alert(1)', "<b>bold</b>"]
HOSTILE_AUTHORS = [
    "<svg onload=alert(1)>evil</svg>",
    "' onclick='alert(1)",
    "data:text/html,<script>alert(1)</script>",
]
QUERIES = [
    "alert",
    "script",
    "onerror",
    "javascript",
    "img",
    "rate",
    "降息",
    "bold",
    "quoted",
    "entity",
    "恶意正文",
    "数据链接",
    "heading",
]
_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27|#39|#34|#\d+|#x[0-9a-f]+);", re.I)


def total_shown(tree) -> int:
    return int(re.search(r"(\d+) results?", tree.one("#summary").text).group(1))


def doc_ids(client) -> list[str]:
    ids = [r["id"] for r in client.get("/api/search?per_page=100").get_json()["results"]]
    assert len(ids) == len(HOSTILE_FILES) + len(ODD_FILES) + 1
    return ids


def assert_inert(resp) -> str:
    """No 5xx, an HTML page, nothing executable from the corpus or the request."""
    assert resp.status_code < 500
    assert resp.mimetype == "text/html"
    text = resp.get_data(as_text=True)
    assert live_code(text) == []
    assert text.lower().count("<script") == 1, "only the app's own script tag"
    return text


def assert_only_marks(fragment: str, plain: str | None = None) -> None:
    """Highlight HTML: every tag is <mark> or </mark>, everything else escaped."""
    assert set(re.findall(r"<[^>]*>", fragment)) <= {"<mark>", "</mark>"}
    bare = fragment.replace("<mark>", "").replace("</mark>", "")
    assert not set(bare) & set("<>\"'")
    assert "&" not in _ENTITY.sub("", bare), "every & starts an entity"
    if plain is not None:
        assert html.unescape(bare) == plain


@pytest.mark.parametrize(
    ("fragment", "live"),
    [
        (XSS, True),
        (IMG, True),
        ('<a href=" JaVa\tScript:alert(1)">x</a>', True),
        ('<a href="data:text/html,x">x</a>', True),
        ("<iframe src=x></iframe>", True),
        ('<p title="x" onmouseover="y">t</p>', True),
        ('<meta http-equiv="refresh" content="0">', True),
        ("<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1) onerror=x</p>", False),
        ('<a href="/doc/javascript:alert(1)">ok</a><img src="https://e.example/a.png">', False),
    ],
)
def test_the_inertness_check_itself(fragment, live):
    assert bool(live_code(fragment)) is live


# --- Pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", *QUERIES])
def test_results_pages_and_facets_are_inert(hostile_client, q):
    text = assert_inert(hostile_client.get("/search", query_string={"q": q, "per_page": 100}))
    tree = parse(text)
    if q in ("", "alert", "rate"):
        tags = [s.text for s in tree.select("section[aria-labelledby=facet-tags] span.name")]
        assert IMG in tags and XSS in tags, "hostile tags are shown as text"
        authors = [s.text for s in tree.select("section[aria-labelledby=facet-author] span.name")]
        assert "<svg onload=alert(1)>evil</svg>" in authors


@pytest.mark.parametrize("tag", HOSTILE_TAGS)
def test_filtering_by_a_hostile_tag_is_inert(hostile_client, tag):
    text = assert_inert(hostile_client.get("/search", query_string={"tag": tag}))
    tree = parse(text)
    assert total_shown(tree) == 1
    assert [h.get("value") for h in tree.select("form.searchform input[name=tag]")] == [tag]
    assert any(tag in a.text for a in tree.select("ul.chips.active a.chip"))


@pytest.mark.parametrize("author", HOSTILE_AUTHORS)
def test_filtering_by_a_hostile_author_is_inert(hostile_client, author):
    tree = parse(assert_inert(hostile_client.get("/search", query_string={"author": author})))
    assert total_shown(tree) == 1
    assert [a.text for a in tree.select("ol.hits a.author")] == [author]


def test_document_pages_are_inert(hostile_client):
    for doc_id in doc_ids(hostile_client):
        for q in ("", "alert script javascript onerror", "降息 rate"):
            resp = hostile_client.get(f"/doc/{quote(doc_id)}", query_string={"q": q} if q else None)
            assert resp.status_code == 200, doc_id
            assert_inert(resp)


def test_document_page_shows_hostile_fields_as_text(hostile_client):
    tree = parse(assert_inert(hostile_client.get("/doc/hostile/script-title")))
    meta = HOSTILE_FILES["hostile/script-title.md"]
    assert tree.one("h1").text == " ".join(meta["title"].split())
    assert tree.one("p.lede").text == meta["description"]
    assert [a.text for a in tree.select("ul.chips a.chip")] == [f"#{t}" for t in meta["tags"]]
    assert IMG in tree.one("section.fields").text
    assert not tree.select("a.source"), "a javascript: url is never linked"
    prose = " ".join(p.text for p in tree.select("div.prose"))
    assert "&lt;script&gt;alert('entity')&lt;/script&gt;" not in prose
    assert "<script>alert('entity')</script>" in prose, "entities shown once, never double-decoded"


@pytest.mark.parametrize("doc_id", ["hostile/why?", "hostile/c# 100%"])
def test_language_switch_on_a_document_whose_id_has_url_characters(hostile_client, doc_id):
    tree = parse(assert_inert(hostile_client.get(f"/doc/{quote(doc_id)}")))
    switch = tree.one("a.langswitch").get("href")
    switched = hostile_client.get(switch)
    assert switched.status_code == 200, switch
    assert parse(switched.get_data(as_text=True)).one("h1").text == tree.one("h1").text


def test_ids_with_url_characters_are_linked_escaped(hostile_client):
    tree = parse(assert_inert(hostile_client.get("/search", query_string={"tag": "url"})))
    hrefs = sorted(a.get("href") for a in tree.select("a.hit-link"))
    assert hrefs == ["/doc/hostile/c%23%20100%25", "/doc/hostile/why%3F"]
    for href in hrefs:
        assert hostile_client.get(href).status_code == 200
        assert hostile_client.get(href.replace("/doc/", "/api/doc/")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/doc/" + quote(XSS),
        "/doc/" + quote(IMG),
        "/doc/javascript:alert(1)x",
        "/nope/" + quote(XSS),
        "/search?from=" + quote(XSS),
        "/search?per_page=" + quote(IMG),
        "/search?sort=" + quote(XSS),
        "/search?q=" + quote("((((((((((" + XSS),
        "/search?q=" + quote('"><script>alert(1)</script>'),
        "/search?q=" + quote("x" * 1200 + XSS),
        "/search?q=" + quote("</title><script>alert(1)</script>"),
    ],
)
def test_error_pages_and_reflected_values_are_inert(hostile_client, url):
    resp = hostile_client.get(url)
    assert 200 <= resp.status_code < 500
    tree = parse(assert_inert(resp))
    if "q=" in url and resp.status_code == 200:
        assert tree.one("input#q").get("value").startswith(('"', "<"))


# --- JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize("q", QUERIES)
def test_api_highlights_escape_everything_but_mark(hostile_client, q):
    body = hostile_client.get("/api/search", query_string={"q": q, "per_page": 100}).get_json()
    assert body["total"] >= 1
    for hit in body["results"]:
        assert_only_marks(hit["highlights"]["title"], plain=hit["title"])
        assert_only_marks(hit["highlights"]["snippet"])
    assert any(
        "<mark>" in h["highlights"]["title"] + h["highlights"]["snippet"] for h in body["results"]
    )


def test_api_doc_html_is_sanitised(hostile_client):
    for doc_id in doc_ids(hostile_client):
        doc = hostile_client.get(f"/api/doc/{quote(doc_id)}").get_json()
        assert doc["id"] == doc_id
        assert live_code(doc["html"]) == [], doc_id
        assert "<script" not in doc["html"].lower() and "onerror" not in doc["html"].lower()
        assert not doc["url"] or doc["url"].startswith("https://"), "only http(s) source links"


# --- A body built to make rendering slow ---------------------------------------------


def test_a_pathological_document_page_is_fast_and_says_it_is_cut(hostile_client):
    started = time.perf_counter()
    resp = hostile_client.get("/doc/hostile/pathological")
    took = time.perf_counter() - started
    assert resp.status_code == 200 and took < 1.0, f"{took:.2f} s"
    assert_inert(resp)
    note = parse(resp.get_data(as_text=True)).one("p.notice.truncated").text
    shown, total = (int(n.replace(",", "")) for n in re.findall(r"[\d,]{3,}", note))
    assert "This document is long" in note
    # The indexer may keep only the start of a huge body: the page counts what it has.
    stored = hostile_client.get("/api/doc/hostile/pathological").get_json()["body_length"]
    assert 0 < shown < total == stored and total >= 50_000


def test_a_pathological_document_is_cut_in_the_api_too(hostile_client):
    started = time.perf_counter()
    resp = hostile_client.get("/api/doc/hostile/pathological")
    assert time.perf_counter() - started < 1.0
    doc = resp.get_json()
    assert doc["truncated"] is True and doc["body_length"] > len(doc["body"]) > 0
    assert PATHOLOGICAL_BODY.startswith(doc["body"])
    assert len(doc["body"]) < 100_000 and len(resp.get_data()) < 1_000_000
    assert live_code(doc["html"]) == []


# --- Any input: a result or a 4xx, never a 5xx ----------------------------------------

TOKENS = [
    '"',
    "(",
    ")",
    "OR",
    "NOT",
    "-",
    "*",
    "title:",
    "tag:",
    "author:",
    ":",
    "\x00",
    "美联储",
    "rate",
    "降息",
    "|",
    "AND",
    "tags:",
    "((",
    "“",
    "＂",
    "\\",
    "%",
    "&",
    "<mark>",
    XSS,
]
piece = st.one_of(
    st.sampled_from(TOKENS), st.text(max_size=8), st.characters(categories=["Cc", "Cf", "Zs", "Co"])
)
queries = st.tuples(st.sampled_from(["", " "]), st.lists(piece, max_size=15)).map(
    lambda t: t[0].join(t[1])
)
numbers = st.one_of(
    st.none(),
    st.integers(-3, 10**12).map(str),
    st.text(max_size=6),
    st.sampled_from(["1", "100", "101", " 2 ", "１", "1e3", "0x10"]),
)
days = st.one_of(
    st.none(),
    st.dates().map(str),
    st.text(max_size=12),
    st.sampled_from(["2024-02-30", "0000-01-01", "9999-12-31", "2024-7-1"]),
)
tags = st.lists(
    st.one_of(st.sampled_from(["economy", "us", "tech", IMG, ""]), st.text(max_size=10)), max_size=3
)


def _params(q, page, per_page, start, end, tag_values, sort) -> list[tuple[str, str]]:
    params = [("q", q)] + [("tag", t) for t in tag_values]
    for name, value in (
        ("page", page),
        ("per_page", per_page),
        ("from", start),
        ("to", end),
        ("sort", sort),
    ):
        if value is not None:
            params.append((name, value))
    return params


@settings(
    max_examples=150,
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    q=queries,
    page=numbers,
    per_page=numbers,
    start=days,
    end=days,
    tag_values=tags,
    sort=st.one_of(st.none(), st.sampled_from(["newest", "oldest", "relevance", "NEWEST", "x"])),
)
def test_any_input_is_answered_without_a_5xx(
    hostile_app, q, page, per_page, start, end, tag_values, sort
):
    client = hostile_app.test_client()
    params = _params(q, page, per_page, start, end, tag_values, sort)
    resp = client.get("/api/search", query_string=params)
    assert resp.status_code == 200 or 400 <= resp.status_code < 500, resp.status_code
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    if resp.status_code == 200:
        assert body["total"] >= len(body["results"])
        for hit in body["results"]:
            assert_only_marks(hit["highlights"]["title"], plain=hit["title"])
            assert_only_marks(hit["highlights"]["snippet"])
    else:
        assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}
    page_resp = client.get("/search", query_string=params)
    assert page_resp.status_code == 200 or 400 <= page_resp.status_code < 500
    assert_inert(page_resp)
