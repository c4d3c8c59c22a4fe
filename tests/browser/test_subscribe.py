"""Subscribing to a search: the results page offers its Atom feed, and the feed is that search."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import feedparser
import pytest
from person import settled, shot, wait_for_params
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FEED_LINK = 'head link[rel="alternate"][type="application/atom+xml"]'


def read_feed(page, href: str) -> feedparser.FeedParserDict:
    """Fetch a feed the way a reader's feed reader would, and check it is Atom."""
    resp = page.request.get(href)
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(resp.body())
    assert not feed.bozo and feed.version == "atom10"
    return feed


def newest_ids(page, **query) -> list[str]:
    body = page.request.get("/api/search", params={**query, "sort": "newest", "per_page": 20})
    return [r["id"] for r in body.json()["results"]]


def test_results_page_offers_a_feed_of_its_search(browse):
    page = browse()
    page.goto("/search?q=美联储&tag=economy")
    head = page.locator(FEED_LINK)
    expect(head).to_have_count(1)
    href = head.get_attribute("href")
    assert parse_qs(urlsplit(href).query) == {"q": ["美联储"], "tag": ["economy"]}

    subscribe = page.get_by_role("link", name="Subscribe", exact=True)
    expect(subscribe).to_be_visible()
    assert subscribe.get_attribute("href") == href
    subscribe.scroll_into_view_if_needed()
    shot(page, "feed-subscribe-link", full_page=False)

    feed = read_feed(page, subscribe.get_attribute("href"))
    assert feed.feed.title == "Digest Search: 美联储 · #economy"
    ids = [unquote(urlsplit(e.link).path.removeprefix("/doc/")) for e in feed.entries]
    assert ids == newest_ids(page, q="美联储", tag="economy") != []
    feed_page = browse()
    for entry in feed.entries[:3]:  # a reader following an entry lands on its digest
        feed_page.goto(entry.link)
        expect(feed_page.locator("h1")).to_have_text(entry.title)


def test_the_feed_follows_a_search_typed_in_place(browse):
    page = browse()
    page.goto("/")
    first = page.locator(FEED_LINK).get_attribute("href")
    assert first == "/feed.atom"
    page.get_by_role("searchbox", name="Search").press_sequentially("rate cut", delay=20)
    wait_for_params(page, q="rate cut")
    expect(page.locator(FEED_LINK)).to_have_count(1)
    expect(page.locator(FEED_LINK)).to_have_attribute("href", "/feed.atom?q=rate+cut")
    subscribe = page.get_by_role("link", name="Subscribe", exact=True)
    expect(subscribe).to_have_attribute("href", "/feed.atom?q=rate+cut")
    feed = read_feed(page, "/feed.atom?q=rate+cut")
    assert feed.feed.title == "Digest Search: rate cut"
    ids = [unquote(urlsplit(e.link).path.removeprefix("/doc/")) for e in feed.entries]
    assert ids == newest_ids(page, q="rate cut") != []


def test_the_chinese_page_says_subscribe_in_chinese(browse):
    page = browse("phone", locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    page.goto("/search?q=降息")
    settled(page)
    subscribe = page.get_by_role("link", name="订阅", exact=True)
    subscribe.scroll_into_view_if_needed()
    expect(subscribe).to_be_visible()
    feed = read_feed(page, subscribe.get_attribute("href"))
    assert feed.feed.title == "Digest Search: 降息"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", feed.entries[0].id)
