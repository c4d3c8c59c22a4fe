"""Render a digest's Markdown to safe HTML, one section per language."""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

from searchengine.highlighting import match_spans, render
from searchengine.query import HighlightTerms
from searchengine.text import language_blocks

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    "table"
)
_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "mark",
    "span",
}
_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"align"}, "th": {"align"}}
_TEXT_OR_TAG = re.compile(r"(<[^>]*>)|([^<]+)")

# markdown-it and nh3 slow down faster than linearly on hostile input (50,000 nested
# "[", emphasis openers, HTML tags, long tables), and mostly with the count of markup
# characters: past either limit only the start of a body is rendered (about 0.1 s at
# worst; the longest digest in the shared corpora is about 40,000 characters).
MAX_RENDER_CHARS = 64_000
MAX_MARKUP_CHARS = 4_000
_MARKUP = re.compile(r"[\[\]*_<>|`]")


def _absolute_images_only(element: str, attribute: str, value: str) -> str | None:
    # A relative image would be fetched from this site and 404: keep only web images.
    if element == "img" and attribute == "src" and not re.match(r"https?://", value, re.I):
        return None
    return value


def to_html(markdown: str) -> str:
    """Render Markdown and sanitise it: no scripts, no event handlers, no javascript: links."""
    return nh3.clean(
        _MD.render(markdown),
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_absolute_images_only,
    )


def bounded(
    markdown: str, limit: int = MAX_RENDER_CHARS, markup: int = MAX_MARKUP_CHARS
) -> tuple[str, bool]:
    r"""Keep the start of a long or markup-heavy body, cut at a break, so a page stays fast.

    >>> bounded("one\n\ntwo", limit=6)
    ('one', True)
    >>> bounded("a *b* c\n*d*", markup=2)
    ('a *b* c', True)
    >>> bounded("short")
    ('short', False)
    """
    end = min(len(markdown), limit)
    for n, m in enumerate(_MARKUP.finditer(markdown, 0, end)):
        if n == markup:
            end = m.start()
            break
    if end >= len(markdown):
        return markdown, False
    cut = markdown.rfind("\n\n", 0, end + 1)
    if cut < end // 2:
        cut = markdown.rfind("\n", 0, end + 1)
    if cut < end // 2:
        cut = end
    return markdown[:cut], True


def language_sections(markdown: str) -> list[tuple[str, str]]:
    """Render the body's Chinese and English parts to safe HTML, split as snippets are."""
    parts: dict[str, list[str]] = {"zh": [], "en": []}
    for block in language_blocks(markdown):
        parts[block.lang].append(block.markdown)
    return [(lang, to_html("\n\n".join(b))) for lang, b in parts.items() if b]


def mark_terms(safe_html: str, terms: HighlightTerms) -> str:
    """Mark query terms in the text of already-sanitised HTML, leaving tags alone."""
    if not terms:
        return safe_html
    out = []
    for m in _TEXT_OR_TAG.finditer(safe_html):
        if m.group(1):
            out.append(m.group(1))
        else:
            text = html.unescape(m.group(2))
            out.append(render(text, match_spans(text, terms)))
    return "".join(out)
