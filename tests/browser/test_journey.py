"""A person's path through the search page: on a desktop, on a phone and without JavaScript.

Open the home page, type a Chinese query, see highlighted results, narrow by a tag and by a
month, change the sort, page forward, open a document and come back.
"""

from __future__ import annotations

import re

import pytest
from person import (
    api_total,
    dates,
    fits,
    month_bounds,
    open_filters,
    shot,
    total,
    wait_for_params,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

QUERY = "降息"


@pytest.mark.parametrize("profile", ["desktop", "phone", "nojs"])
def test_search_narrow_sort_page_read_and_come_back(browse, profile):
    page = browse(profile)

    def look(step: str) -> None:
        shot(page, f"journey-{profile}-{step}")
        if profile == "phone":
            fits(page)

    page.goto("/")
    enhanced = expect(page.locator("html"))
    if profile == "nojs":
        enhanced.not_to_have_class(re.compile(r"\bjs\b"))
    else:
        enhanced.to_have_class(re.compile(r"\bjs\b"))
    expect(page.locator("ol.hits li.hit")).to_have_count(10)
    everything = total(page)
    look("1-home")

    box = page.get_by_role("searchbox", name="Search")
    box.fill(QUERY)
    box.press("Enter")
    wait_for_params(page, q=QUERY)
    expect(page.locator("ol.hits h2 mark").first).to_have_text(QUERY)
    found = total(page)
    assert found == api_total(page, q=QUERY)
    assert 10 < found < everything
    look("2-query")

    open_filters(page)
    tags = page.locator("section[aria-labelledby=facet-tags]")
    economy = tags.get_by_role("link", name=re.compile(r"^economy \d+$"))
    narrowed = int(economy.locator(".count").inner_text())
    economy.click()
    wait_for_params(page, q=QUERY, tag="economy")
    expect(page.locator("ul.chips.active a.chip", has_text="#economy")).to_be_visible()
    assert total(page) == narrowed < found
    assert narrowed > 10, "enough left to page through"
    look("3-tag")

    open_filters(page)
    bar = page.locator(".histogram a.bar").last
    month, count = bar.get_attribute("aria-label").split(": ")
    bar.click()
    first, last = month_bounds(month)
    wait_for_params(page, q=QUERY, tag="economy", from_=first, to=last)
    assert total(page) == int(count)
    assert dates(page) and all(d.startswith(month) for d in dates(page))
    remove_month = page.get_by_role("link", name=re.compile(r"^Remove Date"))
    expect(remove_month).to_be_visible()
    look("4-month")
    remove_month.click()
    wait_for_params(page, q=QUERY, tag="economy")
    assert total(page) == narrowed

    page.get_by_label("Sort").select_option("newest")
    if profile == "nojs":
        page.locator("form.sort button").click()
    wait_for_params(page, q=QUERY, tag="economy", sort="newest")
    first_page = dates(page)
    assert first_page == sorted(first_page, reverse=True)
    titles = page.locator("a.hit-link").all_inner_texts()

    page.locator("nav.pagination a[rel=next]").click()
    wait_for_params(page, q=QUERY, tag="economy", sort="newest", page=2)
    expect(page.locator("nav.pagination [aria-current=page]")).to_have_text("2")
    second_page = page.locator("a.hit-link").all_inner_texts()
    assert len(second_page) == narrowed - 10
    assert not set(second_page) & set(titles)
    assert dates(page)[0] <= first_page[-1]
    look("5-page-2")

    hit = page.locator("a.hit-link").first
    title = hit.inner_text()
    hit.click()
    page.wait_for_url(re.compile(r"/doc/"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("section.part mark").first).to_have_text(QUERY)
    look("6-document")

    page.go_back()
    wait_for_params(page, q=QUERY, tag="economy", sort="newest", page=2)
    expect(page.locator("a.hit-link")).to_have_text(second_page)
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(QUERY)
    look("7-back")
