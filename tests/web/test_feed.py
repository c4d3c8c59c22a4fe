"""GET /feed.atom: a search as an Atom feed, read with feedparser the way a feed reader would."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qs, quote, unquote, urlsplit

import feedparser
import pytest
import requests
from hostile_corpus import IMG, XSS
from htmltree import parse
from test_api import assert_error

FEED_TYPE = "application/atom+xml; charset=utf-8"
SEARCHES = [
    {},
    {"q": "美联储"},
    {"q": "rate cut"},
    {"q": "降息", "tag": "economy"},
    {"tag": ["economy", "us"]},
    {"from": "2024-07-01", "to": "2024-07-31"},
    {"q": "AI OR 人工智能"},
]


def fetch(base: str, path: str = "/feed.atom", **kw) -> requests.Response:
    return requests.get(base + path, timeout=10, **kw)


def read_feed(resp) -> feedparser.FeedParserDict:
    """Check a response is a well-formed Atom 1.0 feed, and parse it."""
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"] == FEED_TYPE
    body = resp.content if isinstance(resp, requests.Response) else resp.data
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def doc_id(link: str) -> str:
    """The document id a document page link points at."""
    path = urlsplit(link).path
    assert path.startswith("/doc/"), link
    return unquote(path.removeprefix("/doc/"))


def when(entry) -> dt.datetime:
    return dt.datetime.fromisoformat(entry.updated)


def newest(base: str, params: dict) -> list[dict]:
    """The same search through the JSON API, newest first, as many as a feed holds."""
    resp = fetch(base, "/api/search", params={**params, "sort": "newest", "per_page": 20})
    assert resp.status_code == 200
    return resp.json()["results"]


# --- The feed and the API agree ------------------------------------------------------


@pytest.mark.parametrize("params", SEARCHES, ids=lambda p: repr(p))
def test_feed_lists_the_newest_20_as_the_api_does(live_server, params):
    feed = read_feed(fetch(live_server.url, params=params))
    want = newest(live_server.url, params)
    assert want, "a search that finds something"
    entries = feed.entries
    assert [doc_id(e.link) for e in entries] == [r["id"] for r in want]
    assert len(entries) <= 20
    assert len({e.id for e in entries}) == len(entries)
    for entry, result in zip(entries, want, strict=True):
        assert entry.title == result["title"]
        if result["date"]:
            assert when(entry) == dt.datetime.fromisoformat(result["date"])
    dated = [when(e) for e, r in zip(entries, want, strict=True) if r["date"]]
    assert dated == sorted(dated, reverse=True), "newest first"
    assert dt.datetime.fromisoformat(feed.feed.updated) == max(when(e) for e in entries)


def test_the_whole_corpus_feed_stops_at_20(live_server, sample_docs):
    assert len(sample_docs) > 20
    assert len(read_feed(fetch(live_server.url)).entries) == 20


def test_sort_and_paging_are_ignored(live_server):
    plain = read_feed(fetch(live_server.url, params={"q": "降息"}))
    odd = read_feed(
        fetch(live_server.url, params={"q": "降息", "sort": "oldest", "page": 3, "per_page": 2})
    )
    assert [e.id for e in odd.entries] == [e.id for e in plain.entries]
    # Not even read: a feed URL copied with a broken page number still works.
    junk = fetch(live_server.url, params={"q": "降息", "sort": "sideways", "per_page": "x"})
    assert [e.id for e in read_feed(junk).entries] == [e.id for e in plain.entries]


def test_feed_names_itself_and_links_its_results_page(live_server):
    params = {"q": "美联储", "tag": "economy", "from": "2024-01-01"}
    feed = read_feed(fetch(live_server.url, params=params)).feed
    assert feed.title == "Digest Search: 美联储 · #economy · 2024-01-01 – …"
    assert feed.id.startswith("urn:uuid:")
    links = {link.rel: link for link in feed.links}
    self_url = urlsplit(links["self"].href)
    assert f"{self_url.scheme}://{self_url.netloc}" == live_server.url
    assert self_url.path == "/feed.atom"
    assert parse_qs(self_url.query) == {k: [v] for k, v in params.items()}
    assert links["self"].type == "application/atom+xml"
    page = requests.get(links["alternate"].href, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert parse_qs(urlsplit(links["alternate"].href).query) == {
        **{k: [v] for k, v in params.items()},
        "sort": ["newest"],
    }
    hits = parse(page.text).select("a.hit-link")
    api = newest(live_server.url, params)
    assert [doc_id(a.get("href")) for a in hits] == [r["id"] for r in api][: len(hits)]
    assert read_feed(fetch(live_server.url)).feed.title == "Digest Search: latest digests"


def test_entry_ids_are_stable_urns_whatever_the_search(live_server):
    by_query = [read_feed(fetch(live_server.url, params=p)).entries for p in ({"q": "降息"}, {})]
    ids = [{doc_id(e.link): e.id for e in entries} for entries in by_query]
    shared = ids[0].keys() & ids[1].keys()
    assert shared, "some digest is in both feeds"
    assert all(ids[0][d] == ids[1][d] for d in shared)
    assert all(i.startswith("urn:uuid:") for i in ids[0].values())
    assert len(set(ids[0].values()) | set(ids[1].values())) == len(ids[0].keys() | ids[1].keys())


def test_entry_links_open_their_document_pages(live_server):
    feed = read_feed(fetch(live_server.url, params={"q": "大熊猫"}))
    assert feed.entries
    for entry in feed.entries:
        assert entry.link.startswith(live_server.url + "/doc/")
        page = requests.get(entry.link, timeout=10)
        assert page.status_code == 200, entry.link
        assert parse(page.text).one("h1").text == entry.title
    panda = "odd/file with spaces 中文名"
    assert f"{live_server.url}/doc/{quote(panda)}?q={quote('大熊猫')}" in [
        e.link for e in feed.entries
    ]


def test_summaries_are_plain_text_with_the_description_and_snippet(live_server):
    feed = read_feed(fetch(live_server.url, params={"q": "美联储"}))
    want = {r["id"]: r for r in newest(live_server.url, {"q": "美联储"})}
    for entry in feed.entries:
        result = want[doc_id(entry.link)]
        assert entry.summary_detail.type == "text/plain"
        assert "<mark>" not in entry.summary and "&lt;" not in entry.summary
        if result["description"]:
            assert entry.summary.startswith(result["description"].strip())
        snippet = result["highlights"]["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert snippet.strip() in entry.summary
    assert sum("美联储" in e.summary for e in feed.entries) >= len(feed.entries) // 2


def test_undated_digests_are_dated_by_the_index(client, sample_docs):
    undated = [d for d in sample_docs.values() if not d.date]
    assert undated, "the sample corpus has an undated digest"
    built = dt.datetime.fromisoformat(client.get("/healthz").get_json()["built_at"])
    for doc in undated:
        feed = read_feed(client.get("/feed.atom", query_string={"q": f'title:"{doc.title}"'}))
        entry = next(e for e in feed.entries if doc_id(e.link) == doc.id)
        assert when(entry) == built
        assert "published" not in entry


# --- Nothing from the corpus is live -------------------------------------------------


@pytest.mark.parametrize("q", ["", "降息", "rate", "alert"])
def test_hostile_digests_stay_text(hostile_client, q):
    resp = hostile_client.get("/feed.atom", query_string={"q": q})
    feed = read_feed(resp)
    raw = resp.get_data(as_text=True).lower()
    for live in ("<script", "<img", "<svg", "<iframe", "<b>", "<a "):
        assert live not in raw
    api = hostile_client.get("/api/search", query_string={"q": q, "sort": "newest", "per_page": 20})
    want = api.get_json()["results"]
    assert [doc_id(e.link) for e in feed.entries] == [r["id"] for r in want]
    for entry, result in zip(feed.entries, want, strict=True):
        assert entry.title == result["title"], "titles are shown as written, as text"
        assert entry.title_detail.type == "text/plain"
        assert hostile_client.get(urlsplit(entry.link).path).status_code == 200
        if result["description"]:
            assert entry.summary.startswith(result["description"])
    if not q:
        titles = [e.title for e in feed.entries]
        assert any(XSS in t for t in titles)
        assert any(IMG in e.summary for e in feed.entries)


@pytest.mark.parametrize("q", ["\x01降息\x0b", "\ufffe", "a\x00b"])
def test_characters_xml_cannot_hold_are_dropped(client, q):
    feed = read_feed(client.get("/feed.atom", query_string={"q": q}))
    assert feed.feed.title.startswith("Digest Search: ")


def test_an_unusable_host_header_gives_site_relative_links(client):
    resp = client.get("/feed.atom", query_string={"q": "降息"}, headers={"Host": "a b<c>"})
    feed = read_feed(resp)
    assert feed.entries
    for link in [e.link for e in feed.entries] + [ln.href for ln in feed.feed.links]:
        assert link.startswith("/") and not link.startswith("//"), link


def test_a_feed_for_another_host_is_never_revalidated_as_this_one(client):
    """A shared cache must ask again (no-cache) and a forged Host's copy never gets a 304."""
    ours = client.get("/feed.atom", query_string={"q": "降息"})
    forged = client.get("/feed.atom", query_string={"q": "降息"}, headers={"Host": "evil.example"})
    assert ours.headers["Cache-Control"] == forged.headers["Cache-Control"] == "no-cache"
    assert ours.headers["ETag"] != forged.headers["ETag"]
    again = client.get(
        "/feed.atom", query_string={"q": "降息"}, headers={"If-None-Match": forged.headers["ETag"]}
    )
    assert again.status_code == 200 and b"evil.example" not in again.data


def test_from_and_to_blank_means_no_limit_as_the_description_says(client):
    """The OpenAPI pattern for a blank day is exactly what the parser strips (str.isspace)."""
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/search", "/feed.atom"):
        param = next(p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "to")
        blank = next(s["pattern"] for s in param["schema"]["anyOf"] if "pattern" in s)
        spaces = [c for c in map(chr, range(0x3001)) if re.fullmatch(blank, c)]
        assert spaces == [c for c in map(chr, range(0x3001)) if c.isspace()]
    everything = read_feed(client.get("/feed.atom"))
    blank = read_feed(client.get("/feed.atom", query_string={"from": "\x85 ", "to": "\u3000"}))
    assert [e.id for e in blank.entries] == [e.id for e in everything.entries]


# --- Conditional GET -----------------------------------------------------------------


def test_a_conditional_get_is_answered_304_without_a_body(live_server):
    params = {"q": "降息"}
    first = fetch(live_server.url, params=params)
    read_feed(first)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    built = dt.datetime.fromisoformat(fetch(live_server.url, "/healthz").json()["built_at"])
    assert modified == built.strftime("%a, %d %b %Y %H:%M:%S GMT")
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = fetch(live_server.url, params=params, headers=headers)
        assert again.status_code == 304, headers
        assert again.content == b""
        assert again.headers["ETag"] == etag
    changed = [
        {"If-None-Match": '"something-else"'},
        {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        # The ETag decides when both are sent (RFC 9110 §13.2.2).
        {"If-None-Match": '"something-else"', "If-Modified-Since": modified},
    ]
    for headers in changed:
        assert read_feed(fetch(live_server.url, params=params, headers=headers)).entries


def test_the_etag_follows_the_search_not_how_it_was_written(live_server):
    def etag(params) -> str:
        resp = fetch(live_server.url, params=params)
        assert resp.status_code == 200
        return resp.headers["ETag"]

    base = etag({"q": "降息", "tag": ["economy", "us"]})
    assert etag({"tag": ["economy", "us"], "q": "降息", "sort": "oldest", "page": "2"}) == base
    assert etag({"q": "降息", "tag": [" economy", "us", "economy"]}) == base
    assert etag({"q": "降息", "tag": ["economy"]}) != base
    assert etag({"q": "加息", "tag": ["economy", "us"]}) != base
    assert etag({}) != base


def test_the_feed_etag_changes_when_the_index_does(tmp_path):
    from indexer.corpus import SAMPLE_CORPUS
    from indexer.rebuild import rebuild
    from searchengine.config import Settings
    from web import create_app

    settings = Settings.resolve(SAMPLE_CORPUS, tmp_path / "index")
    rebuild(settings, jobs=1)
    app = create_app({"INDEX": str(tmp_path / "index"), "TESTING": True})
    try:
        client = app.test_client()
        before = client.get("/feed.atom").headers["ETag"]
        assert client.get("/feed.atom").headers["ETag"] == before
        rebuild(settings, jobs=1)
        deadline = time.monotonic() + 10
        while client.get("/feed.atom").headers["ETag"] == before:
            assert time.monotonic() < deadline, "the rebuilt index gives the feed a new ETag"
            time.sleep(0.2)
        resp = client.get("/feed.atom", headers={"If-None-Match": before})
        assert resp.status_code == 200
    finally:
        app.extensions["digest_index"].close()


# --- Bad requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"from": "2024-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-02-30"}, "from"),
        ({"tag": ["x"] * 21}, "tag"),
        ({"q": "x" * 1001}, "q"),
    ],
)
def test_bad_parameters_get_the_api_error(client, params, mentions):
    assert_error(client.get("/feed.atom", query_string=params), 400, mentions=mentions)


def test_a_huge_url_gets_the_api_error(client):
    assert_error(client.get("/feed.atom?q=" + "x" * 9000), 414)


# --- Every results page links its feed -----------------------------------------------


def test_results_page_links_its_feed_in_head_and_by_the_summary(client):
    url = "/search?q=降息&tag=economy&sort=oldest&page=2&per_page=4&from=2024-01-01"
    tree = parse(client.get(url).get_data(as_text=True))
    head = tree.one("head link[type=application/atom+xml]")
    assert head.get("rel") == "alternate"
    assert head.get("title") == "Digest Search: 降息 · #economy · 2024-01-01 – …"
    href = head.get("href")
    assert urlsplit(href).path == "/feed.atom"
    assert parse_qs(urlsplit(href).query) == {
        "q": ["降息"],
        "tag": ["economy"],
        "from": ["2024-01-01"],
    }
    subscribe = tree.one("p.jsonlink a.feedlink")
    assert subscribe.text == "Subscribe" and subscribe.get("href") == href
    feed = read_feed(client.get(href))
    assert feed.feed.title == head.get("title")


def test_the_chinese_interface_says_subscribe_in_chinese(client):
    tree = parse(client.get("/search?q=降息&lang=zh").get_data(as_text=True))
    assert tree.one("a.feedlink").text == "订阅"


def test_a_refused_search_offers_no_feed(client):
    tree = parse(client.get("/search?from=nonsense").get_data(as_text=True))
    assert not tree.select("link[type=application/atom+xml]")
    assert not tree.select("a.feedlink")
