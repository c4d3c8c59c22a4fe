"""From a digest's Markdown to the text a reader sees, split by language.

Search and snippets work on visible text, so link targets, image addresses and
markup never match a query or show up in a snippet. A digest has a Chinese part
and an English part; each paragraph goes to the part whose script dominates it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from searchengine.folding import CJK_RUN_RE

# Patterns stay linear on hostile input: no \s that can run across lines, no
# unbounded scan for a closing mark that may never come (see _drop_blocks).
_SOURCE_LINE = re.compile(
    r"^[ \t]*\[(?:原文链接|原文鏈接|Source Link)\]\([^)\n]*\)[ \t]*$", re.M | re.I
)
# Link text holds no bracket, so a run of unclosed "[" costs linear time, not quadratic.
_IMAGE = re.compile(r"!\[([^\[\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\[\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_REF_LINK = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.M)
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_SCRIPT_STYLE = re.compile(r"<(script|style)\b[^<>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])([ \t]*\1){2,}[ \t]*$", re.M)
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


def _drop_blocks(text: str) -> str:
    """Remove comments and script/style elements in one linear pass.

    An opening without its closing mark (often in a code span: `<script>`) is
    dropped alone and the text after it kept. Once a kind of closing mark is
    known to be absent from the rest, it is not searched for again.
    """
    out: list[str] = []
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
            break
        start = min(starts)
        out.append(text[pos:start])
        if start == comment:
            opening_end, closing = start + 4, "-->"
        else:
            opening_end, closing = m.end(), f"</{m.group(1).lower()}"
        end = -1 if closing in unclosed else lower.find(closing, opening_end)
        if end == -1:
            unclosed.add(closing)
            pos = opening_end  # drop the opening alone
        elif closing == "-->":
            pos = end + 3
        else:
            gt = lower.find(">", end)
            pos = len(text) if gt == -1 else gt + 1
        out.append(" ")
    out.append(text[pos:])
    return "".join(out)


def hidden_labels(markdown: str) -> str:
    """The link labels and section labels that ``visible_text`` leaves out (原文链接, 摘要).

    Snippets are better without them, but a reader who types them expects to find them.
    """
    found = [m.group() for m in _SOURCE_LINE.finditer(markdown)]
    found += [m.group() for m in _LABEL.finditer(markdown)]
    return "\n".join(found)


def visible_text(markdown: str) -> str:
    """Strip Markdown and HTML markup, keeping the words a reader sees."""
    text = _SOURCE_LINE.sub("", markdown)
    text = _drop_blocks(text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub("", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = _RULE.sub("", text)
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


def split_parts(markdown: str, title: str = "") -> Parts:
    """Split a digest's visible text into its Chinese part and its English part.

    A paragraph that only repeats the title is left out: the title is shown anyway.
    """
    zh: list[str] = []
    en: list[str] = []
    title = " ".join(title.split())
    for para in visible_text(markdown).split("\n\n"):
        para = para.strip()
        if para and para != title:
            (zh if paragraph_language(para) == "zh" else en).append(para)
    return Parts("\n\n".join(zh), "\n\n".join(en))
