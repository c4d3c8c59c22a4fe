"""For everyone: dark mode, both interface languages, landmarks, focus, contrast, small screens."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from person import fits, params, shot, total, wait_for_params
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# WCAG 2.x contrast of every visible element matching the selectors, against the first
# ancestor with a background; returns the pairs below the minimum.
CONTRAST_JS = """([selectors, minimum]) => {
  const rgba = c => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4))
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = el => {
    for (; el; el = el.parentElement) { const c = rgba(getComputedStyle(el).backgroundColor); if (c[3] > 0.5) return c; }
    return [255, 255, 255, 1];
  };
  const low = [];
  let checked = 0;
  for (const el of document.querySelectorAll(selectors)) {
    if (!el.getClientRects().length || !el.textContent.trim() && !el.placeholder) continue;
    const fg = rgba(getComputedStyle(el, el.placeholder && !el.value ? "::placeholder" : null).color);
    const bg = background(el);
    const r = ratio(fg, bg);
    checked++;
    const name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    if (r < minimum) low.push(`${name}: ${r.toFixed(2)} (${fg} on ${bg}) "${el.textContent.trim().slice(0, 30)}"`);
  }
  return [checked, low];
}"""

TEXT = """body, .brand, #summary, .took, .muted, .meta, .meta a, a.hit-link, mark, .snippet,
    details.other summary, .chip, .chip.on, .clear, .facet h2, .facet .name, .facet .count,
    .facet li a.on, .histogram-range, .daterange label, .presets a, button, select,
    .pagination a, .pagination [aria-current], .jsonlink a, .langswitch, .help summary, .notice,
    .empty, .empty a, .lede, .part-label, .prose, .parts-nav a, a.source, .back a,
    input[type=search]"""
PAGES = [
    "/",
    "/search?q=美联储&tag=economy",
    "/search?q=降息",
    "/search?q=infltion",
    "/search?q=美联储 zzzqqqxx",
    "/doc/2025/09/2025-09-17-fed-resumes-cutting?q=美联储",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(browse, scheme):
    page = browse(color_scheme=scheme)
    for url in PAGES:
        page.goto(url)
        checked, low = page.evaluate(CONTRAST_JS, [TEXT, 4.5])
        assert checked > 10 and low == [], f"{url} ({scheme}):\n" + "\n".join(low)
    page.goto("/search?q=美联储")
    page.get_by_role("searchbox", name="Search").focus()
    page.keyboard.press("ArrowDown")  # the selected result has its own background
    checked, low = page.evaluate(CONTRAST_JS, [f".hit.selected :is({TEXT})", 4.5])
    assert checked > 5 and low == [], "\n".join(low)


def test_dark_mode_follows_the_system_setting(browse):
    def luminance(page, selector, prop):
        rgb = page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")
        r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    dark = browse(color_scheme="dark")
    dark.goto("/search?q=美联储")
    assert luminance(dark, "body", "backgroundColor") < 0.15
    assert luminance(dark, "body", "color") > 0.8
    assert luminance(dark, "header.site", "backgroundColor") < 0.15
    assert luminance(dark, "#q", "backgroundColor") < 0.15
    shot(dark, "dark-search", full_page=False)
    dark.goto("/doc/2025/09/2025-09-17-fed-resumes-cutting?q=美联储")
    assert luminance(dark, "body", "backgroundColor") < 0.15
    shot(dark, "dark-document", full_page=False)

    light = browse(color_scheme="light")
    light.goto("/search?q=美联储")
    assert luminance(light, "body", "backgroundColor") > 0.9
    assert luminance(light, "body", "color") < 0.2


@pytest.mark.parametrize(
    "options", [{"locale": "zh-CN"}, {"extra_http_headers": {"Accept-Language": "zh-TW,zh;q=0.9"}}]
)
def test_the_interface_speaks_chinese_to_chinese_browsers(browse, options):
    page = browse(**options)
    page.goto("/search?q=美联储")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".brand")).to_have_text("摘要搜索")
    expect(page.locator("form.searchform button")).to_have_text("搜索")
    expect(page.locator("#summary")).to_contain_text(re.compile(r"共 \d+ 条结果"))
    expect(page.locator("#facet-tags")).to_have_text("标签")
    expect(page.get_by_label("排序")).to_be_visible()
    expect(page.locator("details.other summary").first).to_have_text("英文摘要")
    expect(page.locator("details.help summary")).to_have_text("搜索语法")
    shot(page, "zh-search", full_page=False)


def test_the_language_switch_changes_and_remembers_the_interface(browse):
    page = browse(locale="zh-CN")
    page.goto("/search?q=美联储&tag=economy")
    found = total(page)
    page.get_by_role("link", name="English").click()
    wait_for_params(page, q="美联储", tag="economy", lang="en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("form.searchform button")).to_have_text("Search")
    expect(page.locator("details.help summary")).to_have_text("How to search")
    assert total(page) == found

    page.get_by_role("searchbox", name="Search").fill("降息")
    wait_for_params(page, q="降息", tag="economy")
    switch = page.get_by_role("link", name="中文")
    assert params(switch.get_attribute("href")) == {
        "q": ["降息"],
        "tag": ["economy"],
        "lang": ["zh"],
    }

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # kept in a cookie
    switch.click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".brand")).to_have_text("摘要搜索")


def test_landmarks_labels_and_the_skip_link(browse):
    page = browse()
    page.goto("/search?q=降息")
    for role, name in (
        ("banner", None),
        ("search", None),
        ("main", None),
        ("complementary", "Filters"),
        ("navigation", "Pages"),
        ("contentinfo", None),
    ):
        expect(page.get_by_role(role, name=name)).to_have_count(1)
    expect(page.get_by_role("searchbox", name="Search")).to_have_attribute("aria-keyshortcuts", "/")
    expect(page.get_by_role("combobox", name="Sort")).to_be_visible()
    expect(page.get_by_label("From")).to_have_attribute("type", "date")
    expect(page.get_by_label("To")).to_have_attribute("type", "date")
    expect(page.get_by_role("list", name="Digests per month")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Tags")).to_be_visible()

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to results")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.locator("#summary").evaluate("e => e.dataset.before = 'yes'")
    page.keyboard.press("Enter")
    expect(page.locator("#summary")).to_be_focused()
    page.wait_for_load_state("networkidle")  # a #fragment is no new search: nothing refetched
    expect(page.locator("#summary[data-before=yes]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("combobox", name="Sort")).to_be_focused()

    page.get_by_role("searchbox", name="Search").fill("美联储")
    wait_for_params(page, q="美联储")
    expect(page.locator("#live")).to_have_text(re.compile(r"^\d+ results in [\d.]+ ms$"))


def test_keyboard_focus_is_always_visible(browse):
    page = browse()
    page.goto("/search?q=降息&tag=economy")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focus = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
            return [e.tagName + (e.className ? "." + e.className : ""), s.outlineStyle,
                    parseFloat(s.outlineWidth), e.matches(":focus-visible, :focus-within")]; }"""
        )
        name, style, width, visible = focus
        assert visible and style != "none" and width >= 2, f"no visible focus on {name}: {focus}"
        seen.add(name.split(".")[0])
    assert {"A", "INPUT", "BUTTON", "SELECT"} <= seen
    shot(page, "focus-visible", full_page=False)


PHONE_PAGES = [
    "/",
    "/search?q=美联储",
    "/search?q=降息&tag=economy&author=ft-example.com&from=2024-01-01&to=2025-12-31&sort=oldest",
    "/search?q=infltion",
    "/search?q=rate&from=notadate",
    "/search?q=" + quote("a" * 300),
    "/doc/odd/hostile-markup",
    "/doc/" + quote("odd/file with spaces 中文名"),
    "/doc/2024/09/2024-09-10-hn-borrow-checker-diagrams",
    "/doc/no/such/digest",
]


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_no_sideways_scrolling_at_360px(browse, js, locale):
    page = browse("phone", java_script_enabled=js, locale=locale)
    browse.allow(r"status of 40[04] ")  # the bad-request and not-found pages say so
    for url in PHONE_PAGES:
        page.goto(url)
        fits(page)
        for summary in page.locator("details:not([open]) > summary").all():
            if summary.is_visible():
                summary.click()
        fits(page)
    page.goto("/search?q=降息")
    shot(page, f"phone-{locale}-{'js' if js else 'nojs'}", full_page=False)
