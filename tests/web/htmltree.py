"""A tiny DOM for tests: parse a page with html.parser, select elements, find live code.

Selectors are a small CSS subset: ``tag``, ``.class``, ``#id``, ``[attr]``,
``[attr=value]``, combined (``a.chip[href]``) and joined by spaces for descendants.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
    "param",
}
_SIMPLE = re.compile(r"([a-z0-9]+)|\.([\w-]+)|#([\w-]+)|\[([\w:-]+)(?:=\"?([^\]\"]*)\"?)?\]")

# What the app itself puts in every page: its own script and stylesheet, an empty icon.
APP_SCRIPTS = {"/static/app.js"}
APP_LINKS = {("stylesheet", "/static/style.css"), ("icon", "data:,")}
DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "object",
    "embed",
    "style",
    "base",
    "form",
    "svg",
    "math",
    "applet",
    "template",
    "noscript",
}
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "srcset",
    "poster",
    "background",
    "data",
    "xlink:href",
    "ping",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")


class Element:
    """One element: its tag, attributes, children (elements and strings) and parent."""

    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        """The element's text, whitespace collapsed, as a reader sees it."""
        return " ".join(self._raw_text().split())

    def _raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c._raw_text() for c in self.children)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def iter(self):
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def _matches(self, simple: str) -> bool:
        for tag, cls, ident, attr, value in _SIMPLE.findall(simple):
            if tag and self.tag != tag:
                return False
            if cls and cls not in self.classes:
                return False
            if ident and self.attrs.get("id") != ident:
                return False
            if attr and (attr not in self.attrs or (value and self.attrs[attr] != value)):
                return False
        return True

    def select(self, selector: str) -> list[Element]:
        """All descendants matching a selector like ``ol.hits li.hit h2 a``."""
        found: list[Element] = [self]
        for simple in selector.split():
            found = list(
                dict.fromkeys(e for root in found for e in root.iter() if e._matches(simple))
            )
        return found

    def one(self, selector: str) -> Element:
        """The single element matching, or a failure that says how many matched."""
        found = self.select(selector)
        assert len(found) == 1, f"{selector!r} matched {len(found)} elements"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        el = Element(tag, dict(attrs), self.cur)
        self.cur.children.append(el)
        if tag not in VOID:
            self.cur = el

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Element(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Element:
    """Parse a page into a tree of Elements."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def live_code(html: str) -> list[str]:
    """List everything in a page a browser could execute or load from the corpus.

    An empty list means the page is inert: only the app's own script and
    stylesheet, no event handlers, no javascript:/data: URLs, no embedded frames.
    """
    problems: list[str] = []
    for el in parse(html).iter():
        if not _allowed_element(el):
            problems.append(f"{el.tag} element {el.attrs} {el.text[:60]!r}")
        for name, value in el.attrs.items():
            if name.startswith("on"):
                problems.append(f"event handler {name}={value!r} on <{el.tag}>")
            if name == "style":
                problems.append(f"inline style on <{el.tag}>")
            if name in URL_ATTRS and value is not None:
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(BAD_SCHEMES) and (el.tag, value) != ("link", "data:,"):
                    problems.append(f"{name}={value!r} on <{el.tag}>")
    return problems


def _allowed_element(el: Element) -> bool:
    """Whether an element is harmless, or is one of the app's own (script, styles, forms, bars)."""
    if el.tag == "script":
        return el.get("src") in APP_SCRIPTS and not el.text
    if el.tag == "link":
        if (el.get("rel"), el.get("type")) == ("alternate", "application/atom+xml"):
            return (el.get("href") or "").startswith("/feed.atom")  # the search's own feed
        return (el.get("rel"), el.get("href")) in APP_LINKS
    if el.tag == "meta":
        return "http-equiv" not in el.attrs
    if el.tag == "form":
        return (el.get("action") or "").startswith("/")
    if el.tag == "svg":  # the histogram bars: hidden from readers, one <rect> each
        return el.get("aria-hidden") == "true" and all(k.tag == "rect" for k in el.iter())
    return el.tag not in DANGEROUS_TAGS
