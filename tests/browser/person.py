"""What a person does and sees on the search page, as small helpers for the browser tests."""

from __future__ import annotations

import calendar
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

PROFILES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "nojs": {"viewport": {"width": 1280, "height": 900}, "java_script_enabled": False},
}


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot to test-artifacts/screenshots/ for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    if full_page:  # from the top, so a sticky header is drawn once, where it belongs
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=SHOTS / f"{name}.png", full_page=full_page)


def params(page_or_url) -> dict[str, list[str]]:
    """The query parameters of the page's address."""
    url = page_or_url if isinstance(page_or_url, str) else page_or_url.url
    return parse_qs(urlsplit(url).query)


def wait_for_params(page: Page, /, **want) -> None:
    """Wait until the address holds exactly these parameters (``from_`` for ``from``)."""
    expected = {k.rstrip("_"): v if isinstance(v, list) else [str(v)] for k, v in want.items() if v}
    page.wait_for_url(lambda url: params(url) == expected)
    settled(page)


def settled(page: Page) -> None:
    """Wait until no result update is in flight (back/forward change the address first)."""
    expect(page.locator("#results-region[aria-busy]")).to_have_count(0)


def total(page: Page) -> int:
    """The result count as the summary line says it ("13 results", "共 13 条结果")."""
    summary = page.locator("#summary")
    expect(summary).to_be_visible()
    return int(re.search(r"[\d,]+", summary.inner_text()).group().replace(",", ""))


def dates(page: Page) -> list[str]:
    """The dates (YYYY-MM-DD) of the results on the page, top to bottom."""
    return page.locator("ol.hits time").all_inner_texts()


def fits(page: Page, width: int = 360) -> None:
    """No sideways scrolling: the page is no wider than the screen."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px > {width}px"


def open_filters(page: Page) -> None:
    """Unfold the filter panel when it is folded (on a phone with JavaScript)."""
    panel = page.locator("details.facet-panel")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
        expect(panel).to_have_attribute("open", "")


def facet_counts(page: Page, facet: str) -> dict[str, int]:
    """A facet's values and counts as listed on the page ("tags" or "author")."""
    links = page.locator(f"section[aria-labelledby=facet-{facet}] li a")
    names = links.locator(".name").all_inner_texts()
    counts = links.locator(".count").all_inner_texts()
    return {n: int(c) for n, c in zip(names, counts, strict=True)}


def api_total(page: Page, **query) -> int:
    """How many results the JSON API reports for a search (``from_`` for ``from``)."""
    resp = page.request.get("/api/search", params={k.rstrip("_"): v for k, v in query.items()})
    assert resp.ok, resp.status
    return resp.json()["total"]


def month_bounds(month: str) -> tuple[str, str]:
    """First and last day of a YYYY-MM month."""
    year, mon = (int(x) for x in month.split("-"))
    return f"{month}-01", f"{month}-{calendar.monthrange(year, mon)[1]:02d}"
