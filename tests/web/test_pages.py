"""The HTML pages through the Flask test client: what a reader sees and can follow."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from htmltree import parse

PANDA = "odd/file with spaces 中文名"


def page(client, url, status=200, **kw):
    """GET a page: check the status and that it is HTML, return its parsed tree."""
    resp = client.get(url, **kw)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "text/html"
    return parse(resp.get_data(as_text=True))


def total_shown(tree) -> int:
    """The result count in the summary line, as a reader reads it ("1,234 results")."""
    match = re.search(r"([\d,]+) results?", tree.one("#summary").text)
    assert match, tree.one("#summary").text
    return int(match.group(1).replace(",", ""))


def api_total(client, url: str) -> int:
    parts = urlsplit(url)
    return client.get("/api/search?" + parts.query).get_json()["total"]


# --- Search page ---------------------------------------------------------------------


def test_home_page_lists_the_newest_digests(client, sample_docs):
    tree = page(client, "/")
    assert tree.one("input#q").get("value") == ""
    assert total_shown(tree) == len(sample_docs)
    hits = tree.select("ol.hits li.hit")
    assert len(hits) == 10
    newest = max(d.date for d in sample_docs.values() if d.date)
    assert hits[0].one("time").get("datetime").startswith(newest.date().isoformat())


def test_results_page_keeps_the_query_and_shows_each_hit(client):
    api = client.get("/api/search?q=美联储").get_json()
    tree = page(client, "/search?q=美联储")
    assert tree.one("input#q").get("value") == "美联储"
    assert "美联储" in tree.one("title").text
    assert total_shown(tree) == api["total"] == 13
    hits = tree.select("ol.hits li.hit")
    assert len(hits) == len(api["results"])
    for hit, want in zip(hits, api["results"], strict=True):
        link = hit.one("h2 a")
        assert link.get("href") == f"/doc/{quote(want['id'])}?q={quote('美联储')}"
        assert [m.text for m in link.select("mark")] == (
            ["美联储"] if "美联储" in want["title"] else []
        )
        assert link.text == want["title"]
        assert hit.one("time").text == want["date"][:10]
        assert hit.one("a.source").get("href") == want["url"]
        assert [c.text for c in hit.select("a.chip")] == [f"#{t}" for t in want["tags"]]
        assert "美联储" in hit.select("p.snippet")[0].text
    assert sum(bool(h.select("h2 a mark")) for h in hits) >= 8


def test_result_links_to_a_document_with_spaces_and_chinese_in_its_id(client):
    tree = page(client, "/search?q=大熊猫")
    hrefs = [a.get("href") for a in tree.select("a.hit-link")]
    assert (
        "/doc/odd/file%20with%20spaces%20%E4%B8%AD%E6%96%87%E5%90%8D?q=%E5%A4%A7%E7%86%8A%E7%8C%AB"
        in hrefs
    )
    target = page(client, hrefs[0])
    assert target.one("h1").text == "旅美大熊猫抵达新家，动物园开放首周预约爆满"


@pytest.mark.parametrize("facet", ["tags", "author"])
def test_following_a_facet_link_narrows_to_its_count(client, facet):
    tree = page(client, "/search?q=降息")
    before = total_shown(tree)
    links = tree.select(f"section[aria-labelledby=facet-{facet}] a")
    assert len(links) >= 2
    for link in links[:3]:
        count = int(link.one("span.count").text)
        name = link.one("span.name").text
        narrowed = page(client, link.get("href"))
        assert total_shown(narrowed) == count == api_total(client, link.get("href"))
        assert count < before or len(links) == 1
        active = narrowed.select("ul.chips.active a.chip")
        assert any(name in a.text for a in active), "the filter shows as an active chip"
        assert parse_qs(urlsplit(link.get("href")).query)["q"] == ["降息"]


def test_month_histogram_links_narrow_to_that_month(client):
    tree = page(client, "/search")
    bar = tree.select("div.histogram a")[0]
    month, count = bar.get("title").split(": ")
    narrowed = page(client, bar.get("href"))
    assert total_shown(narrowed) == int(count)
    for t in narrowed.select("ol.hits time"):
        assert t.get("datetime").startswith(month)


def test_pagination_links_walk_every_result_once(client):
    url, seen, pages = "/search?q=降息&per_page=4", [], 0
    total = total_shown(page(client, url))
    while url:
        tree = page(client, url)
        pages += 1
        current = tree.one("nav.pagination span[aria-current=page]").text
        assert current == str(pages)
        seen += [a.get("href") for a in tree.select("a.hit-link")]
        nxt = tree.select("nav.pagination a[rel=next]")
        url = nxt[0].get("href") if nxt else None
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 4)
    last = tree.select("nav.pagination a[rel=prev]")
    assert last and "page=" in last[0].get("href")


def test_zero_results_say_so(client):
    tree = page(client, "/search?q=zzznomatchxyz")
    assert total_shown(tree) == 0
    assert not tree.select("ol.hits")
    assert "No digest matches “zzznomatchxyz”" in tree.one("div.empty").text


@pytest.mark.parametrize("q", ["*", "?", "😀", "-"])
def test_a_query_with_nothing_to_search_says_so(client, q):
    notice = client.get("/api/search", query_string={"q": q}).get_json()["notice"]
    assert notice
    tree = page(client, "/search?q=" + quote(q))
    assert tree.one("p.notice.reduced").text == notice
    assert total_shown(tree) == api_total(client, "/search?q=" + quote(q))


def test_an_ordinary_query_has_no_notice(client):
    assert not page(client, "/search?q=rate").select("p.notice.reduced")


def test_query_help_is_on_the_page(client):
    help_text = page(client, "/").one("details.help").text
    for example in ("OR", "-", "NOT", '"', "title:", "tag:", "author:", "*"):
        assert example in help_text


def test_bad_parameters_give_a_400_page_with_the_message(client):
    tree = page(client, "/search?q=rate&from=notadate", status=400)
    assert "from" in tree.one("[role=alert]").text
    assert tree.one("input#q").get("value") == "rate"


# --- Document page -------------------------------------------------------------------


def test_document_page_renders_markdown_in_chinese_and_english_parts(client):
    tree = page(client, "/doc/" + quote(PANDA))
    assert tree.one("h1").text == "旅美大熊猫抵达新家，动物园开放首周预约爆满"
    zh, en = tree.one("section.part-zh"), tree.one("section.part-en")
    assert zh.get("lang") == "zh" and en.get("lang") == "en"
    assert "大熊猫" in zh.text and "giant pandas" in en.text
    assert "giant pandas" not in zh.text
    assert [s.text for s in zh.select("strong")] == ["摘要：", "要点："]
    assert len(en.select("ol li")) == 4
    assert (
        tree.one("a.source").get("href")
        == "https://economist.example/2025/04/giant-pandas-new-home"
    )
    assert not tree.select("mark")


@pytest.mark.parametrize(
    ("q", "part", "marked"), [("大熊猫", "zh", "大熊猫"), ("panda", "en", "panda")]
)
def test_document_page_marks_the_query(client, q, part, marked):
    tree = page(client, f"/doc/{quote(PANDA)}?q={quote(q)}")
    marks = [m.text.lower() for m in tree.one(f"section.part-{part}").select("mark")]
    assert marks and all(m.startswith(marked) for m in marks)
    assert tree.one("input#q").get("value") == q
    assert tree.one("p.back a").get("href") == f"/search?q={quote(q)}"


def test_unknown_document_is_a_404_page(client):
    resp = client.get("/doc/2024/07/no-such-digest")
    assert resp.status_code == 404
    assert resp.mimetype == "text/html"
    assert parse(resp.get_data(as_text=True)).one("h1").text == "Not found"


# --- Headers and language ------------------------------------------------------------

EVERY_KIND = [
    "/",
    "/search?q=rate",
    "/doc/" + quote(PANDA),
    "/doc/nope",
    "/search?page=0",
    "/api/search?q=rate",
    "/api/doc/nope",
    "/healthz",
    "/static/app.js",
    "/no/such/page",
]


@pytest.mark.parametrize("url", EVERY_KIND)
def test_security_headers_on_every_answer(client, url):
    with client.get(url) as resp:
        assert resp.status_code < 500
    csp = dict(
        (d.strip().split(" ", 1) + [""])[:2]
        for d in resp.headers["Content-Security-Policy"].split(";")
        if d.strip()
    )
    script_src = csp.get("script-src", csp.get("default-src", ""))
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert (
        csp.get("object-src") == "'none'"
        or "object-src" not in csp
        and csp.get("default-src") == "'self'"
    )
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    assert resp.headers.get("X-Frame-Options") in ("DENY", "SAMEORIGIN") or "frame-ancestors" in csp


@pytest.mark.parametrize(
    ("accept", "lang", "button"),
    [
        ("zh-CN,zh;q=0.9", "zh", "搜索"),
        ("zh-TW", "zh", "搜索"),
        ("en-US,en;q=0.8", "en", "Search"),
        ("fr", "en", "Search"),
    ],
)
def test_accept_language_picks_the_interface_language(client, accept, lang, button):
    tree = page(client, "/search?q=降息", headers={"Accept-Language": accept})
    assert tree.one("html").get("lang").startswith(lang)
    assert tree.one("form.searchform button").text == button
    summary = tree.one("#summary").text
    assert ("条结果" in summary) == (lang == "zh")


def test_lang_parameter_switches_and_is_remembered(client):
    tree = page(client, "/search?q=降息&lang=zh", headers={"Accept-Language": "en"})
    assert tree.one("html").get("lang").startswith("zh")
    assert tree.one("details.help summary").text == "搜索语法"
    switch = tree.one("a.langswitch")
    assert parse_qs(urlsplit(switch.get("href")).query) == {"q": ["降息"], "lang": ["en"]}
    again = page(client, "/", headers={"Accept-Language": "en"})
    assert again.one("html").get("lang").startswith("zh"), "the choice is kept in a cookie"
    english = page(client, switch.get("href"), headers={"Accept-Language": "zh-CN"})
    assert english.one("html").get("lang") == "en"
    assert english.one("details.help summary").text == "How to search"


def test_lang_chosen_on_a_document_page_is_remembered(client):
    doc = page(client, f"/doc/{quote(PANDA)}?lang=zh", headers={"Accept-Language": "en"})
    assert doc.one("html").get("lang").startswith("zh")
    after = page(client, "/", headers={"Accept-Language": "en"})
    assert after.one("html").get("lang").startswith("zh")
