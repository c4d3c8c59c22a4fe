"""The document page: the digest in its two languages, links back to searches, hostile markup."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from person import fits, params, shot, total, wait_for_params
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FED = "2025/09/2025-09-17-fed-resumes-cutting"
HOSTILE = "odd/hostile-markup"


def test_a_document_opened_from_a_search(browse):
    page = browse()
    page.goto("/search?q=美联储")
    page.locator(f"a.hit-link[href^='/doc/{FED}']").click()
    page.wait_for_url(re.compile(r"/doc/"))
    expect(page).to_have_title(re.compile(r"^美联储时隔九个月重启降息"))
    expect(page.locator("h1 mark")).to_have_count(0)  # the heading stays plain

    zh, en = page.locator("section.part-zh"), page.locator("section.part-en")
    expect(zh).to_have_attribute("lang", "zh")
    expect(en).to_have_attribute("lang", "en")
    expect(zh.get_by_role("heading", name="Chinese")).to_be_visible()
    expect(en.get_by_role("heading", name="English")).to_be_visible()
    expect(zh.locator("mark").first).to_have_text("美联储")
    expect(en).to_contain_text("Federal Reserve")
    expect(page.locator(".parts-nav a")).to_have_text(["中文", "English"])

    source = page.locator("a.source")
    assert source.get_attribute("href").startswith("https://ft.example/")
    assert "noopener" in source.get_attribute("rel")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("美联储")
    shot(page, "document-from-search")

    page.locator("ul.chips a.chip", has_text="#markets").click()
    wait_for_params(page, tag="markets")
    assert total(page) > 1
    page.go_back()
    page.locator("p.meta time").click()
    wait_for_params(page, from_="2025-09-17", to="2025-09-17")
    expect(page.locator(f"a.hit-link[href^='/doc/{FED}']")).to_be_visible()


def test_back_to_results_returns_to_the_exact_search(browse):
    page = browse()
    search = "/search?q=降息&tag=economy&sort=newest&page=2"
    page.goto(search)
    titles = page.locator("a.hit-link").all_inner_texts()
    page.locator("a.hit-link").first.click()
    page.wait_for_url(re.compile(r"/doc/"))
    page.get_by_role("link", name="← Back to results").click()
    wait_for_params(page, q="降息", tag="economy", sort="newest", page=2)
    expect(page.locator("a.hit-link")).to_have_text(titles)


def test_a_document_without_a_search_links_to_the_latest(browse):
    page = browse("nojs")
    page.goto("/doc/" + quote("odd/file with spaces 中文名"))
    expect(page.locator("h1")).to_have_text("旅美大熊猫抵达新家，动物园开放首周预约爆满")
    expect(page.locator("mark")).to_have_count(0)
    back = page.get_by_role("link", name="← Latest digests")
    assert back.get_attribute("href") == "/"
    author = page.get_by_role("link", name="economist.example", exact=True)
    assert params(author.get_attribute("href")) == {"author": ["economist.example"]}


def test_hostile_markup_in_the_corpus_executes_nothing(browse):
    page = browse()
    page.goto("/search?q=恶意标记测试")
    hit = page.locator("a.hit-link").first
    expect(hit).to_contain_text("<script>alert(1)</script>")
    facet_tags = page.locator("section[aria-labelledby=facet-tags] .name").all_inner_texts()
    assert "<img src=x onerror=alert(1)>" in facet_tags
    hit.click()
    page.wait_for_url(re.compile(r"/doc/odd/hostile-markup"))

    expect(page.locator("h1")).to_contain_text("<script>alert(1)</script> 恶意标记测试")
    expect(page.locator("ul.chips a.chip").first).to_have_text("#<img src=x onerror=alert(1)>")
    scripts = page.locator("script").evaluate_all("els => els.map(e => e.src)")
    assert len(scripts) == 1 and scripts[0].endswith("/static/app.js"), scripts
    for selector in ("iframe", "style", "body [style]", "[onerror]", "[onclick]", "[onmouseover]"):
        expect(page.locator(selector)).to_have_count(0)
    hrefs = page.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith("javascript:")]
    page.get_by_text("anchor with handlers").hover()
    page.get_by_text("看起来无害的链接").click()
    expect(page.locator("body")).to_be_visible()
    shot(page, "document-hostile")
    assert browse.problems == [], "no alert, confirm or prompt; no uncaught errors"


def test_hostile_markup_loads_nothing_it_names(browse):
    page = browse()
    requests = []
    page.on("request", lambda r: requests.append(r.url.removeprefix(browse.base_url)))
    page.goto("/doc/" + HOSTILE)
    expect(page.locator("h1")).to_be_visible()
    assert sorted(requests) == ["/doc/" + HOSTILE, "/static/app.js", "/static/style.css"]


def test_the_document_page_fits_a_phone(browse):
    page = browse("phone")
    for doc in (
        FED,
        "2024/09/2024-09-10-hn-borrow-checker-diagrams",
        "hk/2025-08-06-typhoon-signal-no-8",
    ):
        page.goto(f"/doc/{doc}?q=rate")
        expect(page.locator("h1")).to_have_count(1)  # the digest's own headings sit below it
        fits(page)
    shot(page, "document-phone")


def test_related_stories_are_listed_and_lead_to_their_pages(browse):
    page = browse()
    page.goto(f"/doc/{quote(FED)}")
    related = page.locator("section.related")
    expect(related.get_by_role("heading", name="Related")).to_be_visible()
    links = related.locator("li a")
    assert 1 <= links.count() <= 5
    hrefs = links.evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert f"/doc/{quote(FED)}" not in hrefs  # never the document itself
    api = page.request.get(f"/api/doc/{quote(FED)}").json()["related"]
    assert [r["title"] for r in api] == links.all_inner_texts()
    title = links.nth(0).inner_text()
    links.nth(0).click()
    expect(page.locator("h1")).to_have_text(title)
    shot(page, "document-related")
