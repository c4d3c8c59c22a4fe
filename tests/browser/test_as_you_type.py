"""Chinese as it is typed: every prefix of 美联储降息 finds every digest that holds it."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import pytest
from person import settled, shot, total, wait_for_params
from playwright.sync_api import expect

from indexer.corpus import SAMPLE_CORPUS
from indexer.parsing import Skipped, parse_file
from searchengine.folding import fold
from searchengine.text import split_parts

pytestmark = pytest.mark.browser

TYPED = "美联储降息"


def holders(fragment: str) -> set[str]:
    """The oracle: sample digests whose folded visible text holds the fragment as written."""
    out = set()
    for path in sorted(SAMPLE_CORPUS.rglob("*.md")):
        doc = parse_file(path, SAMPLE_CORPUS)
        if isinstance(doc, Skipped):
            continue
        text = "\n".join(
            [doc.title, doc.description, " ".join(doc.tags), split_parts(doc.body, doc.title).all]
        )
        if fold(fragment) in fold(text):
            out.add(doc.id)
    return out


def shown_ids(page) -> list[str]:
    """The document ids of the results on the page, top to bottom."""
    hrefs = page.locator("ol.hits a.hit-link").evaluate_all("els => els.map(e => e.href)")
    return [unquote(urlsplit(h).path).removeprefix("/doc/") for h in hrefs]


def test_typing_a_chinese_word_finds_its_holders_at_every_keystroke(browse):
    page = browse()
    page.goto("/")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    box = page.get_by_role("searchbox", name="Search")
    for i in range(1, len(TYPED) + 1):
        prefix = TYPED[:i]
        box.press_sequentially(TYPED[i - 1])
        wait_for_params(page, q=prefix)
        settled(page)
        want = holders(prefix)
        assert want, f"the sample corpus holds {prefix}"
        expect(page.locator("ol.hits li.hit").first).to_be_visible()
        assert total(page) >= len(want), f"{prefix}: fewer results than holders"
        shown = shown_ids(page)
        # Holders rank first: the top of the list is made of them.
        top = shown[: min(len(want), len(shown))]
        assert set(top) <= want, f"{prefix}: {set(top) - want} shown before a holder"
        if len(want) <= len(shown):
            assert want <= set(shown), f"{prefix}: holders missing: {want - set(shown)}"
    shot(page, "as-you-type-美联储降息")
