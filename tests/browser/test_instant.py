"""The enhanced search page: results while typing, history, keys, facets, dates, empty states."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from person import (
    api_total,
    dates,
    facet_counts,
    month_bounds,
    params,
    settled,
    shot,
    total,
    wait_for_params,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

STAY = "window.__stayedOnThisPage"


def mark_the_page(page) -> None:
    """Leave a marker in the window: a full reload would wipe it."""
    page.evaluate(f"{STAY} = true")


def same_page(page) -> bool:
    return page.evaluate(f"{STAY} === true")


def test_results_update_while_typing_without_a_reload(browse):
    page = browse()
    page.goto("/")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    everything = total(page)
    mark_the_page(page)
    fetches = []
    page.on("request", lambda r: r.resource_type == "fetch" and fetches.append(r.url))

    box = page.get_by_role("searchbox", name="Search")
    box.press_sequentially("rate cut", delay=20)
    wait_for_params(page, q="rate cut")
    expect(page.locator("ol.hits mark").first).to_be_visible()
    assert total(page) == api_total(page, q="rate cut") < everything
    assert same_page(page), "results were swapped in place, not by loading a new page"
    assert 1 <= len(fetches) < len("rate cut"), f"typing is debounced: {fetches}"
    expect(box).to_be_focused()
    expect(page).to_have_title(re.compile(r"^rate cut · "))
    shot(page, "instant-typed")

    box.fill("")
    page.wait_for_url(re.compile(r"/search$"))
    settled(page)
    assert total(page) == everything
    assert same_page(page)


def test_back_and_forward_restore_each_search(browse):
    page = browse()
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search")
    box.press_sequentially("美联储")
    wait_for_params(page, q="美联储")
    mark_the_page(page)
    found = total(page)

    page.locator("section[aria-labelledby=facet-author] a[data-k='author:ft-example.com']").click()
    wait_for_params(page, q="美联储", author="ft-example.com")
    by_ft = total(page)
    page.locator("section[aria-labelledby=facet-tags] a[data-k='tag:markets']").click()
    wait_for_params(page, q="美联储", author="ft-example.com", tag="markets")

    page.go_back()
    wait_for_params(page, q="美联储", author="ft-example.com")
    assert total(page) == by_ft
    expect(page.locator("ul.chips.active a.chip")).to_have_count(1)
    page.go_back()
    wait_for_params(page, q="美联储")
    assert total(page) == found
    expect(page.locator("ul.chips.active")).to_have_count(0)
    page.go_back()
    page.wait_for_url(re.compile(r"/$"))
    settled(page)
    expect(box).to_have_value("")
    assert same_page(page), "back and forward swap results in place"

    page.go_forward()
    wait_for_params(page, q="美联储")
    expect(box).to_have_value("美联储")
    page.go_forward()
    wait_for_params(page, q="美联储", author="ft-example.com")
    assert total(page) == by_ft
    assert same_page(page)


def test_a_shared_link_opens_the_same_search(browse):
    first = browse()
    first.goto("/")
    first.get_by_role("searchbox", name="Search").fill("美联储")
    wait_for_params(first, q="美联储")
    first.locator("a[data-k='tag:economy']").click()
    wait_for_params(first, q="美联储", tag="economy")
    titles = first.locator("a.hit-link").all_inner_texts()

    second = browse()
    second.goto(first.url)
    expect(second.locator("a.hit-link")).to_have_text(titles)
    expect(second.get_by_role("searchbox", name="Search")).to_have_value("美联储")


def test_slash_focuses_the_search_box(browse):
    page = browse()
    page.goto("/search?q=美联储")
    box = page.get_by_role("searchbox", name="Search")
    page.locator("#summary").click()
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("美联储")
    page.keyboard.type("降息")
    expect(box).to_have_value("降息"), "the query is selected, so typing replaces it"


def test_arrow_keys_move_through_the_results(browse):
    page = browse()
    page.goto("/search?q=美联储")
    box = page.get_by_role("searchbox", name="Search")
    links = page.locator("a.hit-link")
    box.focus()
    page.keyboard.press("ArrowDown")
    expect(links.nth(0)).to_be_focused()
    expect(page.locator("li.hit").nth(0)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("ArrowDown")
    expect(links.nth(1)).to_be_focused()
    expect(page.locator("li.hit.selected")).to_have_count(1)
    shot(page, "instant-arrow-keys", full_page=False)
    page.keyboard.press("ArrowUp")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(box).to_be_focused()
    expect(page.locator("li.hit.selected")).to_have_count(0)

    page.keyboard.press("ArrowDown")
    title = links.nth(0).inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(title)


def test_typing_then_arrow_and_enter_opens_the_chosen_result(browse):
    page = browse()
    page.goto("/")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    box = page.get_by_role("searchbox", name="Search")
    box.press_sequentially("security", delay=10)
    page.keyboard.press("ArrowDown")  # before or while the typed results arrive
    wait_for_params(page, q="security")
    links = page.locator("a.hit-link")
    expect(links.nth(0)).to_be_focused()
    title = links.nth(0).inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(title)


def test_author_counts_answer_what_adding_an_author_would_give(browse):
    page = browse()
    page.goto("/search?q=美联储")
    before = facet_counts(page, "author")
    assert len(before) >= 3

    page.locator("a[data-k='author:ft-example.com']").click()
    wait_for_params(page, q="美联储", author="ft-example.com")
    after = facet_counts(page, "author")
    assert after == before, "other authors keep their counts (disjunctive within the facet)"
    assert total(page) == before["ft-example.com"]
    chosen = page.locator("a[data-k='author:ft-example.com']")
    expect(chosen).to_have_attribute("aria-current", "true")
    shot(page, "instant-author-facet")

    page.locator("a[data-k='author:reuters.example']").click()
    wait_for_params(page, q="美联储", author=["ft-example.com", "reuters.example"])
    assert total(page) == before["ft-example.com"] + before["reuters.example"]
    authors = set(page.locator("ol.hits a.author").all_inner_texts())
    assert authors <= {"ft-example.com", "reuters.example"}

    page.get_by_role("link", name="Remove Source: ft-example.com").click()
    wait_for_params(page, q="美联储", author="reuters.example")
    assert total(page) == before["reuters.example"]


def test_a_histogram_bar_filters_by_its_month(browse):
    page = browse()
    page.goto("/")
    bars = page.locator(".histogram a.bar")
    everything = bars.count()
    bar = page.locator(".histogram a.bar[data-k='month:2025-09']")
    month, count = bar.get_attribute("aria-label").split(": ")
    bar.click()
    first, last = month_bounds(month)
    wait_for_params(page, from_=first, to=last)
    assert total(page) == int(count) == api_total(page, from_=first, to=last)
    assert all(d.startswith("2025-09") for d in dates(page))
    expect(bar).to_have_attribute("aria-current", "true")
    expect(bars).to_have_count(everything)  # the other months stay one click away
    expect(page.get_by_role("link", name=f"Remove Date: {first} – {last}")).to_be_visible()
    shot(page, "instant-histogram-month")

    page.locator(".histogram a.bar[data-k='month:2024-12']").click()
    wait_for_params(page, from_="2024-12-01", to="2024-12-31")
    assert all(d.startswith("2024-12") for d in dates(page))


def test_empty_months_are_drawn_but_not_linked(browse):
    page = browse()
    page.goto("/")
    labels = page.locator(".histogram [role=listitem]").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    months = [label.split(": ")[0] for label in labels]
    assert months == sorted(months) and "2024-08: 0" in labels
    expect(page.locator(".histogram span.bar.empty")).not_to_have_count(0)


def test_from_to_inputs_and_presets_filter_by_date(browse):
    page = browse()
    page.goto("/search?q=美联储")
    page.get_by_label("From").fill("2025-01-01")
    page.get_by_label("To").fill("2025-06-30")
    page.get_by_role("button", name="Apply").click()
    wait_for_params(page, q="美联储", from_="2025-01-01", to="2025-06-30")
    shown = dates(page)
    assert shown and all("2025-01-01" <= d <= "2025-06-30" for d in shown)
    assert total(page) == api_total(page, q="美联储", from_="2025-01-01", to="2025-06-30")
    expect(page.get_by_label("From")).to_have_value("2025-01-01")

    today = dt.date.today()
    preset = page.get_by_role("link", name="Last year")
    preset.click()
    start = (today - dt.timedelta(days=365)).isoformat()
    wait_for_params(page, q="美联储", from_=start, to=today.isoformat())
    expect(page.get_by_role("link", name="Last year")).to_have_attribute("aria-current", "true")
    assert total(page) == api_total(page, q="美联储", from_=start, to=today.isoformat())
    for key, days in (("Last 7 days", 7), ("Last 30 days", 30)):
        href = page.get_by_role("link", name=key).get_attribute("href")
        assert params(href)["from"] == [(today - dt.timedelta(days=days)).isoformat()]


def test_a_misspelling_offers_the_correction(browse):
    page = browse()
    page.goto("/search?q=infltion")
    empty = page.locator("div.empty")
    expect(empty).to_contain_text("No digest matches “infltion”")
    suggestion = empty.get_by_role("link", name="inflation")
    shot(page, "empty-suggestion")
    suggestion.click()
    wait_for_params(page, q="inflation")
    assert total(page) > 0
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("inflation")


def test_no_results_under_filters_offers_to_drop_them(browse):
    page = browse()
    page.goto("/search?q=美联储&tag=climate")
    expect(page.locator("div.empty")).to_contain_text("No digest matches “美联储”")
    page.get_by_role("link", name="Search without filters").click()
    wait_for_params(page, q="美联储")
    assert total(page) == api_total(page, q="美联储") > 0

    page.goto("/search?tag=climate&from=2024-07-01&to=2024-07-02")
    expect(page.locator("div.empty h2")).to_have_text("No digest matches these filters.")
    page.get_by_role("link", name="Search without filters").click()
    page.wait_for_url(re.compile(r"/$"))
    assert total(page) > 0


def test_partial_matches_are_offered_when_nothing_matches_every_word(browse):
    page = browse()
    page.goto("/search?q=美联储 zzzqqqxx")
    expect(page.locator("p.notice.relaxed")).to_be_visible()
    assert total(page) == api_total(page, q="美联储 zzzqqqxx") > 0
    expect(page.locator("ol.hits h2 mark").first).to_have_text("美联储")
    shot(page, "empty-relaxed", full_page=False)


def test_a_result_shows_what_a_reader_needs(browse):
    page = browse()
    page.goto("/search?q=美联储")
    hit = page.locator("li.hit").first
    expect(hit.locator("h2 a.hit-link mark")).to_have_text("美联储")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", hit.locator("time").inner_text())
    assert hit.locator("a.hit-link").get_attribute("href").startswith("/doc/")
    source = hit.locator("a.source")
    assert source.get_attribute("href").startswith("https://")
    assert "noopener" in source.get_attribute("rel") and source.get_attribute("target") == "_blank"
    expect(hit.locator("a.author")).to_have_text("reuters.example")
    expect(hit.locator("ul.chips a.chip").first).to_have_text(re.compile(r"^#\w+"))
    expect(hit.locator("p.snippet mark").first).to_have_text("美联储")
    assert re.search(r"in [\d.]+ ms", page.locator("#summary").inner_text())

    english = hit.locator("details.other p.snippet[lang=en]")
    expect(english).to_be_hidden()
    hit.get_by_text("English summary").click()
    expect(english).to_be_visible()
    assert len(english.inner_text()) > 40
    shot(page, "result-other-language", full_page=False)


def test_a_bad_parameter_says_what_is_wrong_and_offers_a_way_on(browse):
    page = browse()
    browse.allow(r"status of 400 ")  # the page answers 400, and says why
    page.goto("/search?q=美联储&from=notadate")
    expect(page.get_by_role("alert")).to_contain_text("from")
    page.get_by_role("link", name="Search without filters").click()
    wait_for_params(page, q="美联储")
    assert total(page) == api_total(page, q="美联储")
