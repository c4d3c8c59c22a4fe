"""From a digest's Markdown to the text a reader sees, split by language.

Search and snippets work on visible text, so link targets, image addresses and
markup never match a query or show up in a snippet. A digest has a Chinese part
and an English part; each block goes to the part whose script dominates it (``language_blocks``).
"""

from __future__ import annotations

import bisect
import html
import re
from dataclasses import dataclass

from searchengine.folding import CJK_RUN_RE

# Patterns stay linear on hostile input: no \s that can run across lines, no
# unbounded scan for a closing mark that may never come (see _drop_blocks).
# The labels of the line that links a digest's source: the indexer reads the link from
# it; search, snippets and the page leave the line out.
SOURCE_LABELS = "原文链接|原文鏈接|Source Link"
SOURCE_LINE = re.compile(rf"^[ \t]*\[(?:{SOURCE_LABELS})\]\([^)\n]*\)[ \t]*$", re.M | re.I)
# Link text holds no bracket, so a run of unclosed "[" costs linear time, not quadratic.
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_REF_LINK = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^<>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
# A horizontal rule: it separates blocks and shows nothing.
RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.M)
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~|`)")
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.M)
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Section labels every digest repeats: noise for search, clutter in snippets.
_LABEL = re.compile(
    r"^[ \t]*(?:摘要|要点|要點|重点|Summary|Key Points|Original title)[ \t]*[:：][ \t]*",
    re.M | re.I,
)
_LATIN = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Parts:
    """The visible text of a digest, as its Chinese part and its English part."""

    zh: str
    en: str

    @property
    def all(self) -> str:
        return "\n\n".join(p for p in (self.zh, self.en) if p)


def _hidden_spans(text: str) -> list[tuple[int, int]]:
    """Find comments and script/style elements in one linear pass.

    An opening without its closing mark (often in a code span: `<script>`) is
    hidden alone and the text after it kept. Once a kind of closing mark is
    known to be absent from the rest, it is not searched for again.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    lower = text.lower()
    unclosed: set[str] = set()  # closing marks absent from here on
    # The next opening of each kind, looked for again only once passed: none found
    # means none in the rest.
    comment, m = lower.find("<!--"), _SCRIPT_STYLE.search(text)
    while True:
        if comment != -1 and comment < pos:
            comment = lower.find("<!--", pos)
        if m is not None and m.start() < pos:
            m = _SCRIPT_STYLE.search(text, pos)
        starts = [i for i in (comment, m.start() if m else -1) if i != -1]
        if not starts:
            return spans
        start = min(starts)
        if start == comment:
            opening_end, closing = start + 4, "-->"
        else:
            opening_end, closing = m.end(), f"</{m.group(1).lower()}"
        end = -1 if closing in unclosed else lower.find(closing, opening_end)
        if end == -1:
            unclosed.add(closing)
            pos = opening_end  # hide the opening alone
        elif closing == "-->":
            pos = end + 3
        else:
            gt = lower.find(">", end)
            pos = len(text) if gt == -1 else gt + 1
        spans.append((start, pos))


def _drop_blocks(text: str) -> str:
    """Replace comments and script/style elements with a space."""
    out: list[str] = []
    pos = 0
    for start, end in _hidden_spans(text):
        out += [text[pos:start], " "]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _blank_hidden(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank the hidden spans out, keeping every offset and line break."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def hidden_labels(markdown: str) -> str:
    """The link labels and section labels that ``visible_text`` leaves out (原文链接, 摘要).

    Snippets are better without them, but a reader who types them expects to find them.
    """
    found = [m.group() for m in SOURCE_LINE.finditer(markdown)]
    found += [m.group() for m in _LABEL.finditer(markdown)]
    return "\n".join(found)


def visible_text(markdown: str) -> str:
    """Strip Markdown and HTML markup, keeping the words a reader sees."""
    text = SOURCE_LINE.sub("", markdown)
    text = _drop_blocks(text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _LABEL.sub("", text)
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def paragraph_language(paragraph: str) -> str:
    """Say 'zh' when CJK characters carry a paragraph, else 'en'."""
    cjk = sum(len(m.group()) for m in CJK_RUN_RE.finditer(paragraph))
    if not cjk:
        return "en"
    latin = len(_LATIN.findall(paragraph))
    return "zh" if cjk * 4 >= latin else "en"


@dataclass(frozen=True)
class Block:
    """One block of a body (between blank lines, rules and the source line), with its language."""

    lang: str  # 'zh' or 'en'; a block without text goes with the part before it
    markdown: str  # the block as written, for the page to render
    text: str  # its visible text, for search and snippets


# A line between blocks: blank, a rule or the source line (RULE and SOURCE_LINE as lines).
_SEPARATOR = re.compile(
    r"^(?:[^\S\n]*"
    r"|[ \t]{0,3}(?P<r>[-*_])(?:[ \t]*(?P=r)){2,}[^\S\n]*"
    rf"|[ \t]*\[(?:{SOURCE_LABELS})\]\([^)\n]*\)[^\S\n]*)$",
    re.M | re.I,
)


def _block_spans(markdown: str) -> list[tuple[int, int]]:
    """Where each block starts and ends: blank lines, rules and source lines separate them."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SEPARATOR.finditer(markdown):
        if not markdown[pos : m.start()].isspace() and m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(markdown) and not markdown[pos:].isspace():
        spans.append((pos, len(markdown)))
    return spans


_BETWEEN = "\ue000"  # marks block ends through one visible_text pass (a private-use character)


def _inside(spans: list[tuple[int, int]], starts: list[int], pos: int) -> bool:
    """Tell whether ``pos`` falls strictly inside one of the sorted, disjoint spans."""
    i = bisect.bisect_left(starts, pos) - 1
    return i >= 0 and spans[i][0] < pos < spans[i][1]


def language_blocks(markdown: str) -> list[Block]:
    """Split a body into blocks and tell each one's language: the one rule for the index,
    its snippets and the document page, so that a page never disagrees with a snippet."""
    spans = _block_spans(markdown)
    hidden = _hidden_spans(markdown)
    blanked = _blank_hidden(markdown, hidden)  # a comment may span blocks
    starts = [a for a, _ in hidden]
    pieces = [blanked[start:end] for start, end in spans]
    texts = visible_text(f"\n{_BETWEEN}\n".join(pieces)).split(_BETWEEN)
    if len(texts) != len(pieces):  # the body holds the marker itself: one block at a time
        texts = [visible_text(piece) for piece in pieces]
    blocks: list[Block] = []
    last = "en"
    for (start, end), piece, text in zip(spans, pieces, texts, strict=True):
        text = text.strip()
        if text:
            last = paragraph_language(text)
        # A comment cut by a block boundary would show its halves on the page: blank it.
        cut = _inside(hidden, starts, start) or _inside(hidden, starts, end)
        blocks.append(Block(last, (piece if cut else markdown[start:end]).strip("\r\n"), text))
    return blocks


def split_parts(markdown: str, title: str = "") -> Parts:
    """Split a digest's visible text into its Chinese part and its English part.

    A block that only repeats the title is left out: the title is shown anyway.
    """
    parts: dict[str, list[str]] = {"zh": [], "en": []}
    title = " ".join(title.split())
    for block in language_blocks(markdown):
        if block.text and block.text != title:
            parts[block.lang].append(block.text)
    return Parts("\n\n".join(parts["zh"]), "\n\n".join(parts["en"]))
